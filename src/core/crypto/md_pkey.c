/* Private keys: spec parsing and JSON form, RSA/EC generation, PEM (plain and encrypted PKCS#8) load/save. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <limits.h>

#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "md_file.h"
#include "md_json.h"
#include "md_pkey.h"

#define MD_PKEY_ALLOWED "allowed are RSA (optionally with a size of 2048 to 8192 bits, e.g. 'RSA 3072' " \
                        "or 'rsa4096'), secp256r1 (also prime256v1, P-256, p256) and " \
                        "secp384r1 (also P-384, p384)"

struct md_pkey_t {
    EVP_PKEY *pkey;
};

/* ---- key specs ------------------------------------------------------------------------------------- */

/* The spellings we accept (in any case); mod_md (2.6) accepts those marked, exactly as written here. */
static const struct {
    const char *name;
    int nid;
    int mod_md;
} curve_aliases[] = {
    { "secp256r1", NID_X9_62_prime256v1, 1 },
    { "prime256v1", NID_X9_62_prime256v1, 1 },
    { "P-256", NID_X9_62_prime256v1, 1 },
    { "p256", NID_X9_62_prime256v1, 0 },
    { "secp384r1", NID_secp384r1, 1 },
    { "P-384", NID_secp384r1, 1 },
    { "p384", NID_secp384r1, 0 },
};

static int curve_name_to_nid(const char *name)
{
    size_t i;

    if (!name) return NID_undef;
    for (i = 0; i < sizeof(curve_aliases) / sizeof(curve_aliases[0]); ++i) {
        if (!strcasecmp(name, curve_aliases[i].name)) return curve_aliases[i].nid;
    }
    return NID_undef;
}

/* The name we use for a supported curve in specs we make ourselves, and the label people read. */
static const char *curve_nid_to_name(int nid)
{
    switch (nid) {
    case NID_X9_62_prime256v1: return "secp256r1";
    case NID_secp384r1: return "secp384r1";
    default: return NULL;
    }
}


static apr_status_t parse_rsa_bits(unsigned int *pbits, const char *s, const char **perr, apr_pool_t *p)
{
    const char *c;
    unsigned long n;

    if (!s || !*s) {
        *pbits = MD_PKEY_RSA_BITS_DEF;
        return APR_SUCCESS;
    }
    for (c = s; *c; ++c) {
        if (*c < '0' || *c > '9' || c - s > 8) {
            if (perr) *perr = apr_psprintf(p, "invalid RSA key size '%s': expected a number of bits "
                                              "from %d to %d", s, MD_PKEY_RSA_BITS_MIN, MD_PKEY_RSA_BITS_MAX);
            return APR_EINVAL;
        }
    }
    n = strtoul(s, NULL, 10);
    if (n < MD_PKEY_RSA_BITS_MIN) {
        if (perr) *perr = apr_psprintf(p, "RSA key size %lu must be %d or higher in order to be considered safe "
                                       "(allowed are %d to %d bits)", n, MD_PKEY_RSA_BITS_MIN, MD_PKEY_RSA_BITS_MIN,
                                       MD_PKEY_RSA_BITS_MAX);
        return APR_EINVAL;
    }
    if (n > MD_PKEY_RSA_BITS_MAX) {
        if (perr) *perr = apr_psprintf(p, "RSA key size %lu is out of range: allowed are %d to %d bits",
                                       n, MD_PKEY_RSA_BITS_MIN, MD_PKEY_RSA_BITS_MAX);
        return APR_EINVAL;
    }
    *pbits = (unsigned int)n;
    return APR_SUCCESS;
}

apr_status_t md_pkey_spec_parse(md_pkey_spec_t **pspec, const char *word, const char *bits_or_null,
                                const char **perr, apr_pool_t *p)
{
    md_pkey_spec_t *spec;
    const char *bits;
    apr_status_t rv;

    *pspec = NULL;
    if (perr) *perr = NULL;
    if (!word || !*word) {
        if (perr) *perr = apr_psprintf(p, "no private key type given: %s", MD_PKEY_ALLOWED);
        return APR_EINVAL;
    }
    spec = apr_pcalloc(p, sizeof(*spec));
    if (!strncasecmp(word, "rsa", 3)) {
        bits = word + 3;
        if (*bits && bits_or_null) {
            if (perr) *perr = apr_psprintf(p, "private key spec '%s' already has a size, '%s' is one "
                                              "word too many", word, bits_or_null);
            return APR_EINVAL;
        }
        rv = parse_rsa_bits(&spec->bits, *bits ? bits : bits_or_null, perr, p);
        if (rv != APR_SUCCESS) return rv;
        spec->type = MD_PKEY_RSA;
    }
    else if (curve_name_to_nid(word) != NID_undef) {
        if (bits_or_null) {
            if (perr) *perr = apr_psprintf(p, "private key type '%s' takes no size, '%s' is one word "
                                              "too many", word, bits_or_null);
            return APR_EINVAL;
        }
        spec->type = MD_PKEY_EC;
        spec->curve = apr_pstrdup(p, word);
    }
    else {
        if (perr) *perr = apr_psprintf(p, "unknown private key type '%s' (ec curve unknown: %s): %s", word, word,
                                       MD_PKEY_ALLOWED);
        return APR_EINVAL;
    }
    *pspec = spec;
    return APR_SUCCESS;
}

/* One spec from argv at *pi ("RSA" takes the next word as its size when it is a number); advances *pi. */
static apr_status_t specs_one(md_pkey_spec_t **pspec, const char **pwritten, int *pi, int argc,
                              const char *const *argv, const char **perr, apr_pool_t *p)
{
    const char *word = argv[*pi], *bits = NULL;

    if (!strcasecmp(word, "Default")) word = "RSA";
    else if (!strcasecmp(word, "RSA") && *pi + 1 < argc && isdigit((unsigned char)argv[*pi + 1][0])) {
        bits = argv[++*pi];
    }
    *pwritten = bits ? apr_pstrcat(p, argv[*pi - 1], " ", bits, NULL) : argv[*pi];
    return md_pkey_spec_parse(pspec, word, bits, perr, p);
}

/* The spec in pks of the same key type as spec (RSA of any size, or the same curve), or NULL. */
static const md_pkey_spec_t *specs_same_type(const apr_array_header_t *pks, const md_pkey_spec_t *spec)
{
    const md_pkey_spec_t *other;
    int i;

    for (i = 0; i < pks->nelts; ++i) {
        other = APR_ARRAY_IDX(pks, i, const md_pkey_spec_t *);
        if (other->type != spec->type) continue;
        if (spec->type == MD_PKEY_RSA || md_pkey_spec_curve_nid(other) == md_pkey_spec_curve_nid(spec)) return other;
    }
    return NULL;
}

apr_status_t md_pkey_specs_parse(apr_array_header_t **ppks, const char **pbad, int argc, const char *const *argv,
                                 const char **perr, apr_pool_t *p)
{
    apr_array_header_t *pks = apr_array_make(p, argc > 0 ? argc : 1, sizeof(md_pkey_spec_t *));
    const md_pkey_spec_t *other;
    md_pkey_spec_t *spec;
    int i;

    *ppks = NULL;
    *pbad = NULL;
    if (argc == 0) {
        *perr = "needs to specify the private key type, e.g. RSA, RSA 4096, P-256 or secp384r1";
        return APR_EINVAL;
    }
    for (i = 0; i < argc; ++i) {
        if (argc > 1 && !strcasecmp(argv[i], "Default")) {
            *pbad = argv[i];
            *perr = "'Default' allows no other parameter: it stands alone for RSA 2048";
            return APR_EINVAL;
        }
        if (specs_one(&spec, pbad, &i, argc, argv, perr, p) != APR_SUCCESS) return APR_EINVAL;
        if ((other = specs_same_type(pks, spec)) != NULL) {
            *perr = spec->type == MD_PKEY_RSA
                ? "two keys of type 'RSA' are not possible: one RSA key, and one key of each EC curve"
                : apr_psprintf(p, "two keys of type '%s' are not possible%s: one RSA key, and one key of each EC "
                               "curve", spec->curve, strcasecmp(spec->curve, other->curve)
                               ? apr_psprintf(p, " ('%s' and '%s' are the same curve)", other->curve, spec->curve)
                               : "");
            return APR_EINVAL;
        }
        APR_ARRAY_PUSH(pks, md_pkey_spec_t *) = spec;
    }
    *ppks = pks;
    return APR_SUCCESS;
}

int md_pkey_spec_curve_nid(const md_pkey_spec_t *spec)
{
    if (!spec || spec->type != MD_PKEY_EC) return NID_undef;
    return curve_name_to_nid(spec->curve);
}

const char *md_pkey_spec_name(const md_pkey_spec_t *spec, apr_pool_t *p)
{
    char *name, *c;

    if (!spec) return NULL;
    if (spec->type == MD_PKEY_RSA) return "rsa";
    name = apr_pstrdup(p, spec->curve ? spec->curve : "");
    for (c = name; *c; ++c) {
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    }
    return name;
}

void md_pkey_spec_for_mod_md(md_pkey_spec_t *spec)
{
    const char *name;
    size_t i;

    if (!spec || spec->type != MD_PKEY_EC || !spec->curve) return;
    for (i = 0; i < sizeof(curve_aliases) / sizeof(curve_aliases[0]); ++i) {
        if (curve_aliases[i].mod_md && !strcmp(spec->curve, curve_aliases[i].name)) return;
    }
    name = curve_nid_to_name(md_pkey_spec_curve_nid(spec));
    if (name) spec->curve = name;
}

const char *md_pkey_spec_label(const md_pkey_spec_t *spec)
{
    const char *name;

    if (!spec) return NULL;
    if (spec->type == MD_PKEY_RSA) return "rsa";
    name = curve_nid_to_name(md_pkey_spec_curve_nid(spec));
    return name ? name : spec->curve;
}

md_json_t *md_pkey_spec_to_json(const md_pkey_spec_t *spec, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    if (spec->type == MD_PKEY_RSA) {
        md_json_sets("RSA", json, "type", NULL);
        md_json_setl(spec->bits, json, "bits", NULL);
    }
    else {
        md_json_sets("EC", json, "type", NULL);
        if (spec->curve) md_json_sets(spec->curve, json, "curve", NULL);
    }
    return json;
}

apr_status_t md_pkey_spec_from_json(md_pkey_spec_t **pspec, const md_json_t *json, apr_pool_t *p)
{
    const char *type = md_json_gets(json, "type", NULL);
    const char *curve;
    long long bits;
    md_pkey_spec_t *spec;

    *pspec = NULL;
    if (!type) return APR_EINVAL;
    spec = apr_pcalloc(p, sizeof(*spec));
    if (!strcasecmp(type, "RSA")) {
        bits = md_json_has_key(json, "bits", NULL) ? md_json_getl(json, "bits", NULL) : MD_PKEY_RSA_BITS_DEF;
        if (bits < MD_PKEY_RSA_BITS_MIN || bits > MD_PKEY_RSA_BITS_MAX) return APR_EINVAL;
        spec->type = MD_PKEY_RSA;
        spec->bits = (unsigned int)bits;
    }
    else if (!strcasecmp(type, "EC")) {
        curve = md_json_gets(json, "curve", NULL);
        if (curve_name_to_nid(curve) == NID_undef) return APR_EINVAL;
        spec->type = MD_PKEY_EC;
        spec->curve = apr_pstrdup(p, curve);
    }
    else {
        return APR_EINVAL;
    }
    *pspec = spec;
    return APR_SUCCESS;
}

int md_pkey_spec_eq(const md_pkey_spec_t *a, const md_pkey_spec_t *b)
{
    int nid_a, nid_b;

    if (a == b) return 1;
    if (!a || !b || a->type != b->type) return 0;
    if (a->type == MD_PKEY_RSA) return a->bits == b->bits;
    nid_a = md_pkey_spec_curve_nid(a);
    nid_b = md_pkey_spec_curve_nid(b);
    if (nid_a == NID_undef || nid_b == NID_undef) {
        return a->curve && b->curve && !strcasecmp(a->curve, b->curve);
    }
    return nid_a == nid_b;
}

/* ---- keys -------------------------------------------------------------------------------------------- */

static apr_status_t pkey_cleanup(void *data)
{
    md_pkey_t *pkey = data;

    if (pkey->pkey) {
        EVP_PKEY_free(pkey->pkey);
        pkey->pkey = NULL;
    }
    return APR_SUCCESS;
}

md_pkey_t *md_pkey_wrap(EVP_PKEY *evp, apr_pool_t *p)
{
    md_pkey_t *pkey = apr_pcalloc(p, sizeof(*pkey));

    pkey->pkey = evp;
    apr_pool_cleanup_register(p, pkey, pkey_cleanup, apr_pool_cleanup_null);
    return pkey;
}

EVP_PKEY *md_pkey_get_EVP_PKEY(const md_pkey_t *pkey)
{
    return pkey ? pkey->pkey : NULL;
}

md_pkey_type_t md_pkey_get_type(const md_pkey_t *pkey)
{
    return EVP_PKEY_get_base_id(pkey->pkey) == EVP_PKEY_EC ? MD_PKEY_EC : MD_PKEY_RSA;
}

unsigned int md_pkey_get_bits(const md_pkey_t *pkey)
{
    int bits = EVP_PKEY_get_bits(pkey->pkey);
    return bits > 0 ? (unsigned int)bits : 0;
}

/* The NID of an EC key's curve, or NID_undef. */
static int pkey_curve_nid(const EVP_PKEY *evp)
{
    char name[80];
    size_t len = 0;

    if (!EVP_PKEY_get_utf8_string_param(evp, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len)) {
        ERR_clear_error();
        return NID_undef;
    }
    return OBJ_sn2nid(name);
}

md_pkey_spec_t *md_pkey_get_spec(const md_pkey_t *pkey, apr_pool_t *p)
{
    md_pkey_spec_t *spec = apr_pcalloc(p, sizeof(*spec));
    int nid;
    const char *name;

    spec->type = md_pkey_get_type(pkey);
    if (spec->type == MD_PKEY_RSA) {
        spec->bits = md_pkey_get_bits(pkey);
        return spec;
    }
    nid = pkey_curve_nid(pkey->pkey);
    name = curve_nid_to_name(nid);
    if (!name) name = (nid != NID_undef) ? OBJ_nid2sn(nid) : "unknown";
    spec->curve = apr_pstrdup(p, name);
    return spec;
}

apr_status_t md_pkey_gen(md_pkey_t **ppkey, const md_pkey_spec_t *spec, apr_pool_t *p)
{
    EVP_PKEY *evp = NULL;
    int nid;

    *ppkey = NULL;
    if (!spec) return APR_EINVAL;
    if (spec->type == MD_PKEY_RSA) {
        if (spec->bits < MD_PKEY_RSA_BITS_MIN || spec->bits > MD_PKEY_RSA_BITS_MAX) return APR_EINVAL;
        evp = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)spec->bits);
    }
    else {
        nid = md_pkey_spec_curve_nid(spec);
        if (nid == NID_undef) return APR_EINVAL;
        evp = EVP_PKEY_Q_keygen(NULL, NULL, "EC", OBJ_nid2sn(nid));
    }
    if (!evp) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    *ppkey = md_pkey_wrap(evp, p);
    return APR_SUCCESS;
}

/* ---- PEM --------------------------------------------------------------------------------------------- */

/* Copy a memory BIO's content into the pool, NUL-terminated. */
static const char *bio_to_pool(apr_size_t *plen, BIO *bio, apr_pool_t *p)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);

    if (len < 0 || !data) len = 0;
    if (plen) *plen = (apr_size_t)len;
    return apr_pstrmemdup(p, data ? data : "", (apr_size_t)len);
}

/* PKCS#8 PBES2 with AES-256-CBC and PBKDF2 (HMAC-SHA256) over MD_PKEY_PBKDF2_ITER iterations: the pass is a random
 * key (the store's 48 bytes), which iterations cannot make harder to guess; OpenSSL's default (2048) made this the
 * biggest single CPU cost of a certificate, paid again by every reader. Any PKCS#8 reader (mod_md) takes the file. */
static int write_encrypted(BIO *bio, EVP_PKEY *evp, const void *pass, int pass_len)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(evp);
    X509_SIG *sig = NULL;
    int ok = 0;

    if (p8) sig = PKCS8_encrypt_ex(-1, EVP_aes_256_cbc(), pass, pass_len, NULL, 0, MD_PKEY_PBKDF2_ITER, p8,
                                   NULL, NULL);
    if (sig) ok = PEM_write_bio_PKCS8(bio, sig);
    X509_SIG_free(sig);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return ok;
}

apr_status_t md_pkey_to_pem(const char **ppem, apr_size_t *plen, const md_pkey_t *pkey,
                            const void *pass, apr_size_t pass_len, apr_pool_t *p)
{
    BIO *bio;
    int ok;

    *ppem = NULL;
    if (plen) *plen = 0;
    if (!pkey || !pkey->pkey || pass_len > INT_MAX) return APR_EINVAL;
    bio = BIO_new(BIO_s_secmem());
    if (!bio) return APR_ENOMEM;
    if (pass && pass_len > 0) {
        ok = write_encrypted(bio, pkey->pkey, pass, (int)pass_len);
    }
    else {
        ok = PEM_write_bio_PKCS8PrivateKey(bio, pkey->pkey, NULL, NULL, 0, NULL, NULL);
    }
    if (ok) *ppem = bio_to_pool(plen, bio, p);
    BIO_free(bio);
    if (!ok) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

#define PEM_ENCRYPTED_P8 "-----BEGIN ENCRYPTED PRIVATE KEY-----"

apr_status_t md_pkey_pem_decrypt(const char **ppem, apr_size_t *plen, const char *pem, apr_size_t len,
                                 const void *pass, apr_size_t pass_len, apr_pool_t *p)
{
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    X509_SIG *sig = NULL;
    BIO *in, *out = NULL;
    apr_status_t rv = APR_EINVAL;

    *ppem = NULL;
    if (plen) *plen = 0;
    if (!pem || len < sizeof(PEM_ENCRYPTED_P8) - 1 || len > INT_MAX
        || memcmp(pem, PEM_ENCRYPTED_P8, sizeof(PEM_ENCRYPTED_P8) - 1)) return APR_ENOTIMPL;
    if (!pass || pass_len == 0 || pass_len > INT_MAX) return APR_EINVAL;
    in = BIO_new_mem_buf(pem, (int)len);
    if (!in) return APR_ENOMEM;
    sig = PEM_read_bio_PKCS8(in, NULL, NULL, NULL);
    if (sig) p8 = PKCS8_decrypt(sig, pass, (int)pass_len);
    if (p8) out = BIO_new(BIO_s_secmem());
    if (out && PEM_write_bio_PKCS8_PRIV_KEY_INFO(out, p8)) {
        *ppem = bio_to_pool(plen, out, p);
        rv = APR_SUCCESS;
    }
    BIO_free(out);
    PKCS8_PRIV_KEY_INFO_free(p8);
    X509_SIG_free(sig);
    BIO_free(in);
    if (rv != APR_SUCCESS) ERR_clear_error();
    return rv;
}

typedef struct {
    const void *pass;
    apr_size_t len;
    int asked;
} pass_ctx_t;

static int pass_cb(char *buf, int size, int rwflag, void *baton)
{
    pass_ctx_t *ctx = baton;

    (void)rwflag;
    ctx->asked = 1;
    if (!ctx->pass || ctx->len == 0 || ctx->len > (apr_size_t)size) return -1;
    memcpy(buf, ctx->pass, ctx->len);
    return (int)ctx->len;
}

/* The reason for a failed PEM read, from what happened and OpenSSL's error queue (which is cleared). */
static const char *pem_read_error(const pass_ctx_t *ctx, apr_pool_t *p)
{
    unsigned long err = ERR_peek_last_error();
    char buf[256];
    int encrypted = ctx->asked;

    buf[0] = '\0';
    if (err) ERR_error_string_n(err, buf, sizeof(buf));
    ERR_clear_error();
    if (encrypted && (!ctx->pass || ctx->len == 0)) {
        return "the private key is encrypted, but no passphrase was given";
    }
    if (encrypted) {
        return apr_psprintf(p, "cannot decrypt the private key: wrong passphrase or damaged data (%s)",
                            buf[0] ? buf : "no details");
    }
    return apr_psprintf(p, "no valid private key found in the PEM data (%s)", buf[0] ? buf : "no details");
}

apr_status_t md_pkey_from_pem(md_pkey_t **ppkey, const char *pem, apr_size_t len,
                              const void *pass, apr_size_t pass_len, const char **perr, apr_pool_t *p)
{
    pass_ctx_t ctx = { pass, pass_len, 0 };
    EVP_PKEY *evp = NULL;
    BIO *bio;
    int id;

    *ppkey = NULL;
    if (perr) *perr = NULL;
    if (!pem || len == 0 || len > INT_MAX) {
        if (perr) *perr = "no PEM data given for the private key";
        return APR_EINVAL;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return APR_ENOMEM;
    evp = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &ctx);
    BIO_free(bio);
    if (!evp) {
        if (perr) *perr = pem_read_error(&ctx, p);
        else ERR_clear_error();
        return APR_EINVAL;
    }
    id = EVP_PKEY_get_base_id(evp);
    if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
        if (perr) *perr = apr_psprintf(p, "unsupported private key type '%s': only RSA and EC keys are used",
                                       EVP_PKEY_get0_type_name(evp) ? EVP_PKEY_get0_type_name(evp) : "?");
        EVP_PKEY_free(evp);
        return APR_EINVAL;
    }
    *ppkey = md_pkey_wrap(evp, p);
    return APR_SUCCESS;
}

apr_status_t md_pkey_fsave(const md_pkey_t *pkey, const char *fpath, const void *pass,
                           apr_size_t pass_len, apr_fileperms_t perms, apr_pool_t *p)
{
    const char *pem;
    apr_size_t len;
    apr_status_t rv;

    rv = md_pkey_to_pem(&pem, &len, pkey, pass, pass_len, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_file_write_atomic(fpath, pem, len, perms, p);
leave:
    return rv;
}

apr_status_t md_pkey_fload(md_pkey_t **ppkey, const char *fpath, const void *pass,
                           apr_size_t pass_len, const char **perr, apr_pool_t *p)
{
    char *data = NULL, ebuf[256];
    const char *err = NULL;
    apr_size_t len = 0;
    apr_status_t rv;

    *ppkey = NULL;
    if (perr) *perr = NULL;
    rv = md_file_read(&data, &len, fpath, p);
    if (rv != APR_SUCCESS) {
        if (perr) *perr = apr_psprintf(p, "cannot read private key file %s: %s", fpath,
                                       apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto leave;
    }
    rv = md_pkey_from_pem(ppkey, data, len, pass, pass_len, &err, p);
    if (rv != APR_SUCCESS && perr) *perr = apr_psprintf(p, "private key file %s: %s", fpath, err);
leave:
    return rv;
}

const char *md_pkey_public_pem(const md_pkey_t *pkey, apr_pool_t *p)
{
    const char *pem = NULL;
    BIO *bio;

    if (!pkey || !pkey->pkey) return NULL;
    bio = BIO_new(BIO_s_mem());
    if (!bio) return NULL;
    if (PEM_write_bio_PUBKEY(bio, pkey->pkey)) pem = bio_to_pool(NULL, bio, p);
    else ERR_clear_error();
    BIO_free(bio);
    return pem;
}
