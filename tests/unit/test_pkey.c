/* Unit tests of md_pkey: key specs and their JSON form, generation, PEM load/save (plain and encrypted). */
#include <string.h>
#include <sys/stat.h>

#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "md_file.h"
#include "md_json.h"
#include "md_pkey.h"
#include "test_common.h"

#define KEYGEN_TIMEOUT 120

/* A 48-byte binary pass as a store key would be, with a NUL inside. */
static const unsigned char store_pass[48] = {
    0x01, 0x02, 0x00, 0xff, 0x7f, 0x80, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
    0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x00,
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x0f,
};

static md_pkey_t *gen_key(const char *word, const char *bits, apr_pool_t *p)
{
    md_pkey_spec_t *spec = NULL;
    md_pkey_t *pkey = NULL;
    const char *err = NULL;

    ck_assert_int_eq(md_pkey_spec_parse(&spec, word, bits, &err, p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_gen(&pkey, spec, p), APR_SUCCESS);
    ck_assert_ptr_nonnull(pkey);
    return pkey;
}

static md_pkey_t *load_fixture(const char *name, const char *pass, apr_pool_t *p)
{
    md_pkey_t *pkey = NULL;
    const char *err = NULL;
    apr_status_t rv;

    rv = md_pkey_fload(&pkey, md_test_data(name, p), pass, pass ? strlen(pass) : 0, &err, p);
    ck_assert_msg(rv == APR_SUCCESS, "loading %s: %s", name, err ? err : "?");
    return pkey;
}

static int same_key(const md_pkey_t *a, const md_pkey_t *b)
{
    return EVP_PKEY_eq(md_pkey_get_EVP_PKEY(a), md_pkey_get_EVP_PKEY(b)) == 1;
}

START_TEST(spec_parse_accepted)
{
    /* fname: in file names (the curve as written, lowercased, as mod_md); label: shown to people; mod_md: the
     * curve after md_pkey_spec_for_mod_md (what the CLI records) */
    static const struct {
        const char *word, *bits;
        md_pkey_type_t type;
        unsigned int nbits;
        int nid;
        const char *fname, *label, *mod_md;
    } cases[] = {
        { "RSA", NULL, MD_PKEY_RSA, 2048, NID_undef, "rsa", "rsa", NULL },
        { "rsa", NULL, MD_PKEY_RSA, 2048, NID_undef, "rsa", "rsa", NULL },
        { "RSA", "3072", MD_PKEY_RSA, 3072, NID_undef, "rsa", "rsa", NULL },
        { "RSA", "2048", MD_PKEY_RSA, 2048, NID_undef, "rsa", "rsa", NULL },
        { "RSA", "8192", MD_PKEY_RSA, 8192, NID_undef, "rsa", "rsa", NULL },
        { "rsa4096", NULL, MD_PKEY_RSA, 4096, NID_undef, "rsa", "rsa", NULL },
        { "RSA3072", NULL, MD_PKEY_RSA, 3072, NID_undef, "rsa", "rsa", NULL },
        { "secp256r1", NULL, MD_PKEY_EC, 0, NID_X9_62_prime256v1, "secp256r1", "secp256r1", "secp256r1" },
        { "prime256v1", NULL, MD_PKEY_EC, 0, NID_X9_62_prime256v1, "prime256v1", "secp256r1", "prime256v1" },
        { "P-256", NULL, MD_PKEY_EC, 0, NID_X9_62_prime256v1, "p-256", "secp256r1", "P-256" },
        { "p256", NULL, MD_PKEY_EC, 0, NID_X9_62_prime256v1, "p256", "secp256r1", "secp256r1" },
        { "p-256", NULL, MD_PKEY_EC, 0, NID_X9_62_prime256v1, "p-256", "secp256r1", "secp256r1" },
        { "SECP256R1", NULL, MD_PKEY_EC, 0, NID_X9_62_prime256v1, "secp256r1", "secp256r1", "secp256r1" },
        { "PRIME256V1", NULL, MD_PKEY_EC, 0, NID_X9_62_prime256v1, "prime256v1", "secp256r1", "secp256r1" },
        { "secp384r1", NULL, MD_PKEY_EC, 0, NID_secp384r1, "secp384r1", "secp384r1", "secp384r1" },
        { "P-384", NULL, MD_PKEY_EC, 0, NID_secp384r1, "p-384", "secp384r1", "P-384" },
        { "p384", NULL, MD_PKEY_EC, 0, NID_secp384r1, "p384", "secp384r1", "secp384r1" },
        { "SECP384R1", NULL, MD_PKEY_EC, 0, NID_secp384r1, "secp384r1", "secp384r1", "secp384r1" },
    };
    apr_pool_t *p = md_test_pool();
    md_pkey_spec_t *spec;
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        spec = NULL;
        err = "unset";
        ck_assert_msg(md_pkey_spec_parse(&spec, cases[i].word, cases[i].bits, &err, p) == APR_SUCCESS,
                      "'%s %s' rejected: %s", cases[i].word, cases[i].bits ? cases[i].bits : "", err);
        ck_assert_ptr_null(err);
        ck_assert_int_eq(spec->type, cases[i].type);
        ck_assert_int_eq(md_pkey_spec_curve_nid(spec), cases[i].nid);
        if (cases[i].type == MD_PKEY_RSA) ck_assert_uint_eq(spec->bits, cases[i].nbits);
        else ck_assert_str_eq(spec->curve, cases[i].word);
        ck_assert_str_eq(md_pkey_spec_name(spec, p), cases[i].fname);
        ck_assert_str_eq(md_pkey_spec_label(spec), cases[i].label);
        md_pkey_spec_for_mod_md(spec);
        if (cases[i].type == MD_PKEY_RSA) ck_assert_ptr_null(spec->curve);
        else ck_assert_str_eq(spec->curve, cases[i].mod_md);
        ck_assert_str_eq(md_pkey_spec_label(spec), cases[i].label);
    }
    md_pkey_spec_for_mod_md(NULL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(spec_parse_rejected)
{
    static const struct {
        const char *word, *bits, *in_err;
    } cases[] = {
        { "RSA", "1024", "1024" },
        { "rsa1024", NULL, "1024" },
        { "RSA", "9000", "9000" },
        { "RSA", "2047", "2047" },
        { "RSA", "8193", "8193" },
        { "RSA", "abc", "abc" },
        { "RSA", "-2048", "-2048" },
        { "rsa4096", "2048", "2048" },
        { "secp521r1", NULL, "secp521r1" },
        { "P-521", NULL, "P-521" },
        { "brainpoolP256r1", NULL, "brainpoolP256r1" },
        { "ed25519", NULL, "ed25519" },
        { "P-256", "256", "256" },
        { "", NULL, "RSA" },
        { NULL, NULL, "RSA" },
    };
    apr_pool_t *p = md_test_pool();
    md_pkey_spec_t *spec;
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        spec = (md_pkey_spec_t *)1;
        err = NULL;
        ck_assert_int_eq(md_pkey_spec_parse(&spec, cases[i].word, cases[i].bits, &err, p), APR_EINVAL);
        ck_assert_ptr_null(spec);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, cases[i].in_err) != NULL, "message '%s' does not mention '%s'",
                      err, cases[i].in_err);
    }
    /* the range is named in the message */
    md_pkey_spec_parse(&spec, "RSA", "1024", &err, p);
    ck_assert_ptr_nonnull(strstr(err, "2048"));
    ck_assert_ptr_nonnull(strstr(err, "8192"));
    /* no perr is fine */
    ck_assert_int_eq(md_pkey_spec_parse(&spec, "RSA", "9000", NULL, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(spec_json_round_trip)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_spec_t *spec, *back;
    md_json_t *json;
    const char *err;

    md_pkey_spec_parse(&spec, "RSA", NULL, &err, p);
    json = md_pkey_spec_to_json(spec, p);
    ck_assert_str_eq(md_json_writep(json, MD_JSON_FMT_COMPACT, p), "{\"type\":\"RSA\",\"bits\":2048}");
    ck_assert_int_eq(md_pkey_spec_from_json(&back, json, p), APR_SUCCESS);
    ck_assert(md_pkey_spec_eq(spec, back));

    md_pkey_spec_parse(&spec, "rsa4096", NULL, &err, p);
    json = md_pkey_spec_to_json(spec, p);
    ck_assert_int_eq(md_pkey_spec_from_json(&back, json, p), APR_SUCCESS);
    ck_assert_uint_eq(back->bits, 4096);

    md_pkey_spec_parse(&spec, "secp256r1", NULL, &err, p);
    json = md_pkey_spec_to_json(spec, p);
    ck_assert_str_eq(md_json_writep(json, MD_JSON_FMT_COMPACT, p),
                     "{\"type\":\"EC\",\"curve\":\"secp256r1\"}");
    ck_assert_int_eq(md_pkey_spec_from_json(&back, json, p), APR_SUCCESS);
    ck_assert_int_eq(back->type, MD_PKEY_EC);
    ck_assert_str_eq(back->curve, "secp256r1");
    ck_assert(md_pkey_spec_eq(spec, back));

    md_pkey_spec_parse(&spec, "P-384", NULL, &err, p);
    ck_assert_int_eq(md_pkey_spec_from_json(&back, md_pkey_spec_to_json(spec, p), p), APR_SUCCESS);
    ck_assert_str_eq(back->curve, "P-384");
    md_test_pool_done(p);
}
END_TEST

static md_json_t *json_of(const char *text, apr_pool_t *p)
{
    md_json_t *json = NULL;
    ck_assert_int_eq(md_json_readd(&json, text, strlen(text), "test", NULL, p), APR_SUCCESS);
    return json;
}

/* md.json written by an older mdomain ("p256") or by hand: the file names follow it, the label is the one. */
START_TEST(spec_label_from_json)
{
    static const struct {
        const char *json, *fname, *label;
    } cases[] = {
        { "{\"type\":\"EC\",\"curve\":\"p256\"}", "p256", "secp256r1" },
        { "{\"type\":\"EC\",\"curve\":\"P-256\"}", "p-256", "secp256r1" },
        { "{\"type\":\"EC\",\"curve\":\"prime256v1\"}", "prime256v1", "secp256r1" },
        { "{\"type\":\"EC\",\"curve\":\"P-384\"}", "p-384", "secp384r1" },
        { "{\"type\":\"RSA\",\"bits\":4096}", "rsa", "rsa" },
    };
    apr_pool_t *p = md_test_pool();
    md_pkey_spec_t *spec;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        ck_assert_int_eq(md_pkey_spec_from_json(&spec, json_of(cases[i].json, p), p), APR_SUCCESS);
        ck_assert_str_eq(md_pkey_spec_name(spec, p), cases[i].fname);
        ck_assert_str_eq(md_pkey_spec_label(spec), cases[i].label);
    }
    ck_assert_ptr_null(md_pkey_spec_label(NULL));
    md_test_pool_done(p);
}
END_TEST

START_TEST(spec_json_errors)
{
    static const char *const bad[] = {
        "{\"type\":\"RSA\",\"bits\":1024}", "{\"type\":\"RSA\",\"bits\":9000}",
        "{\"type\":\"EC\",\"curve\":\"secp521r1\"}", "{\"type\":\"EC\"}", "{\"type\":\"DSA\"}", "{}",
    };
    apr_pool_t *p = md_test_pool();
    md_pkey_spec_t *spec;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ck_assert_msg(md_pkey_spec_from_json(&spec, json_of(bad[i], p), p) == APR_EINVAL, "%s", bad[i]);
        ck_assert_ptr_null(spec);
    }
    /* a missing size means the default */
    ck_assert_int_eq(md_pkey_spec_from_json(&spec, json_of("{\"type\":\"RSA\"}", p), p), APR_SUCCESS);
    ck_assert_uint_eq(spec->bits, MD_PKEY_RSA_BITS_DEF);
    md_test_pool_done(p);
}
END_TEST

START_TEST(spec_equality)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_spec_t *a, *b, *c, *d;
    const char *err;

    md_pkey_spec_parse(&a, "P-256", NULL, &err, p);
    md_pkey_spec_parse(&b, "secp256r1", NULL, &err, p);
    md_pkey_spec_parse(&c, "RSA", NULL, &err, p);
    md_pkey_spec_parse(&d, "RSA", "3072", &err, p);
    ck_assert(md_pkey_spec_eq(a, b));
    ck_assert(!md_pkey_spec_eq(a, c));
    ck_assert(!md_pkey_spec_eq(c, d));
    md_pkey_spec_parse(&d, "rsa2048", NULL, &err, p);
    ck_assert(md_pkey_spec_eq(c, d));
    md_pkey_spec_parse(&d, "P-384", NULL, &err, p);
    ck_assert(!md_pkey_spec_eq(a, d));
    md_test_pool_done(p);
}
END_TEST

START_TEST(gen_rsa)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *k2048 = gen_key("RSA", NULL, p), *k3072 = gen_key("rsa3072", NULL, p);
    md_pkey_spec_t *spec;

    ck_assert_int_eq(md_pkey_get_type(k2048), MD_PKEY_RSA);
    ck_assert_uint_eq(md_pkey_get_bits(k2048), 2048);
    ck_assert_int_eq(EVP_PKEY_get_base_id(md_pkey_get_EVP_PKEY(k2048)), EVP_PKEY_RSA);
    spec = md_pkey_get_spec(k2048, p);
    ck_assert_int_eq(spec->type, MD_PKEY_RSA);
    ck_assert_uint_eq(spec->bits, 2048);
    ck_assert_uint_eq(md_pkey_get_bits(k3072), 3072);
    ck_assert(!same_key(k2048, k3072));
    md_test_pool_done(p);
}
END_TEST

START_TEST(gen_ec)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *k256 = gen_key("P-256", NULL, p), *k384 = gen_key("secp384r1", NULL, p);
    md_pkey_spec_t *spec;

    ck_assert_int_eq(md_pkey_get_type(k256), MD_PKEY_EC);
    ck_assert_uint_eq(md_pkey_get_bits(k256), 256);
    spec = md_pkey_get_spec(k256, p);
    ck_assert_int_eq(spec->type, MD_PKEY_EC);
    ck_assert_str_eq(spec->curve, "secp256r1");
    ck_assert_int_eq(md_pkey_spec_curve_nid(spec), NID_X9_62_prime256v1);

    ck_assert_int_eq(md_pkey_get_type(k384), MD_PKEY_EC);
    ck_assert_uint_eq(md_pkey_get_bits(k384), 384);
    spec = md_pkey_get_spec(k384, p);
    ck_assert_str_eq(spec->curve, "secp384r1");
    ck_assert_int_eq(md_pkey_spec_curve_nid(spec), NID_secp384r1);
    md_test_pool_done(p);
}
END_TEST

START_TEST(gen_rejects_bad_specs)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_spec_t spec;
    md_pkey_t *pkey = NULL;

    memset(&spec, 0, sizeof(spec));
    spec.type = MD_PKEY_RSA;
    spec.bits = 1024;
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, p), APR_EINVAL);
    spec.bits = MD_PKEY_RSA_BITS_MAX + 1;
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, p), APR_EINVAL);
    spec.type = MD_PKEY_EC;
    spec.curve = "secp521r1";
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, p), APR_EINVAL);
    spec.curve = NULL;
    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, p), APR_EINVAL);
    ck_assert_ptr_null(pkey);
    md_test_pool_done(p);
}
END_TEST

START_TEST(pem_round_trip_plain)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *keys[2], *back;
    const char *pem, *err;
    apr_size_t len;
    int i;

    keys[0] = gen_key("P-256", NULL, p);
    keys[1] = load_fixture("pkey/rsa2048-trad.pem", NULL, p);
    for (i = 0; i < 2; ++i) {
        ck_assert_int_eq(md_pkey_to_pem(&pem, &len, keys[i], NULL, 0, p), APR_SUCCESS);
        ck_assert_uint_eq(strlen(pem), len);
        ck_assert_msg(!strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28), "%s", pem);
        ck_assert_int_eq(md_pkey_from_pem(&back, pem, len, NULL, 0, &err, p), APR_SUCCESS);
        ck_assert(same_key(keys[i], back));
        /* a pass given for an unencrypted key does no harm */
        ck_assert_int_eq(md_pkey_from_pem(&back, pem, len, "x", 1, &err, p), APR_SUCCESS);
        ck_assert(same_key(keys[i], back));
    }
    md_test_pool_done(p);
}
END_TEST

/* True when an "ENCRYPTED PRIVATE KEY" PEM uses PBES2 with AES-256-CBC. */
static int pem_uses_aes256(const char *pem, apr_size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_SIG *p8 = PEM_read_bio_PKCS8(bio, NULL, NULL, NULL);
    const X509_ALGOR *alg = NULL;
    const ASN1_OCTET_STRING *digest = NULL;
    PBE2PARAM *pbe2 = NULL;
    int ok = 0;

    if (p8) {
        X509_SIG_get0(p8, &alg, &digest);
        if (OBJ_obj2nid(alg->algorithm) == NID_pbes2) {
            pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
            ok = pbe2 && OBJ_obj2nid(pbe2->encryption->algorithm) == NID_aes_256_cbc;
        }
    }
    PBE2PARAM_free(pbe2);
    X509_SIG_free(p8);
    BIO_free(bio);
    return ok;
}

/* The PBKDF2 iteration count of an "ENCRYPTED PRIVATE KEY" PEM (PBES2), -1 when it is none. */
static long pem_pbkdf2_iter(const char *pem, apr_size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_SIG *p8 = PEM_read_bio_PKCS8(bio, NULL, NULL, NULL);
    const X509_ALGOR *alg = NULL;
    PBE2PARAM *pbe2 = NULL;
    PBKDF2PARAM *kdf = NULL;
    long iter = -1;

    if (p8) {
        X509_SIG_get0(p8, &alg, NULL);
        if (OBJ_obj2nid(alg->algorithm) == NID_pbes2) {
            pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
        }
        if (pbe2 && OBJ_obj2nid(pbe2->keyfunc->algorithm) == NID_id_pbkdf2) {
            kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter);
        }
        if (kdf) iter = ASN1_INTEGER_get(kdf->iter);
    }
    PBKDF2PARAM_free(kdf);
    PBE2PARAM_free(pbe2);
    X509_SIG_free(p8);
    BIO_free(bio);
    return iter;
}

/* The store key is 48 random bytes: PBKDF2's iterations add nothing to it and cost each write and read of a staged
 * key (OpenSSL's default was 2048, 8 % of a certificate's CPU in a drive). A key OpenSSL encrypted with its default
 * count (as mod_md writes them) still loads. */
START_TEST(pem_encrypted_few_iterations)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = gen_key("P-256", NULL, p), *back = NULL;
    const char *pem, *err = NULL;
    apr_size_t len;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    ck_assert_int_eq(md_pkey_to_pem(&pem, &len, pkey, store_pass, sizeof(store_pass), p), APR_SUCCESS);
    ck_assert_int_eq(pem_pbkdf2_iter(pem, len), MD_PKEY_PBKDF2_ITER);
    ck_assert(MD_PKEY_PBKDF2_ITER < 100);
    ck_assert(pem_uses_aes256(pem, len));
    /* as mod_md writes it: OpenSSL's default count */
    ck_assert(PEM_write_bio_PKCS8PrivateKey(bio, md_pkey_get_EVP_PKEY(pkey), EVP_aes_256_cbc(),
                                            (const char *)store_pass, (int)sizeof(store_pass), NULL, NULL));
    n = BIO_get_mem_data(bio, &data);
    ck_assert_int_ge(pem_pbkdf2_iter(data, (apr_size_t)n), 2048);
    ck_assert_int_eq(md_pkey_from_pem(&back, data, (apr_size_t)n, store_pass, sizeof(store_pass), &err, p),
                     APR_SUCCESS);
    ck_assert(same_key(pkey, back));
    BIO_free(bio);
    md_test_pool_done(p);
}
END_TEST

/* The activation's copy decrypts a staged key without decoding it: the same bytes as the unencrypted PEM of the key,
 * for one md_pkey_to_pem encrypted and one OpenSSL encrypted with its default count (as mod_md writes them); a wrong
 * pass fails, a PEM that is not an encrypted PKCS#8 one is left to the caller (APR_ENOTIMPL). */
START_TEST(pem_decrypt_without_decoding)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *keys[2];
    unsigned char wrong[sizeof(store_pass)];
    const char *enc, *plain, *out;
    apr_size_t len, plain_len, out_len;
    BIO *bio;
    char *data;
    long n;
    int i;

    keys[0] = gen_key("P-256", NULL, p);
    keys[1] = gen_key("RSA", "2048", p);
    for (i = 0; i < 2; ++i) {
        ck_assert_int_eq(md_pkey_to_pem(&plain, &plain_len, keys[i], NULL, 0, p), APR_SUCCESS);
        ck_assert_int_eq(md_pkey_to_pem(&enc, &len, keys[i], store_pass, sizeof(store_pass), p), APR_SUCCESS);
        ck_assert_int_eq(md_pkey_pem_decrypt(&out, &out_len, enc, len, store_pass, sizeof(store_pass), p),
                         APR_SUCCESS);
        ck_assert_uint_eq(out_len, plain_len);
        ck_assert_str_eq(out, plain);
        bio = BIO_new(BIO_s_mem());
        ck_assert(PEM_write_bio_PKCS8PrivateKey(bio, md_pkey_get_EVP_PKEY(keys[i]), EVP_aes_256_cbc(),
                                                (const char *)store_pass, (int)sizeof(store_pass), NULL, NULL));
        n = BIO_get_mem_data(bio, &data);
        ck_assert_int_eq(md_pkey_pem_decrypt(&out, &out_len, data, (apr_size_t)n, store_pass, sizeof(store_pass), p),
                         APR_SUCCESS);
        ck_assert_str_eq(out, plain);
        BIO_free(bio);
    }
    memcpy(wrong, store_pass, sizeof(wrong));
    wrong[0] ^= 1;
    ck_assert_int_eq(md_pkey_pem_decrypt(&out, &out_len, enc, len, wrong, sizeof(wrong), p), APR_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(md_pkey_pem_decrypt(&out, &out_len, enc, len, NULL, 0, p), APR_EINVAL);
    ck_assert_int_eq(md_pkey_pem_decrypt(&out, &out_len, plain, plain_len, store_pass, sizeof(store_pass), p),
                     APR_ENOTIMPL);
    ck_assert_int_eq(md_pkey_pem_decrypt(&out, &out_len, "", 0, store_pass, sizeof(store_pass), p), APR_ENOTIMPL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(pem_round_trip_encrypted)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = gen_key("secp384r1", NULL, p), *back = NULL;
    const char *pem, *err = NULL;
    apr_size_t len;

    ck_assert_int_eq(md_pkey_to_pem(&pem, &len, pkey, store_pass, sizeof(store_pass), p), APR_SUCCESS);
    ck_assert_msg(!strncmp(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 38), "%s", pem);
    ck_assert(pem_uses_aes256(pem, len));
    ck_assert_int_eq(md_pkey_from_pem(&back, pem, len, store_pass, sizeof(store_pass), &err, p),
                     APR_SUCCESS);
    ck_assert(same_key(pkey, back));
    /* the whole pass counts, also the bytes after a NUL */
    ck_assert_int_eq(md_pkey_from_pem(&back, pem, len, store_pass, 2, &err, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(pem_wrong_pass)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_fixture("pkey/ec256-trad.pem", NULL, p), *back;
    unsigned char wrong[sizeof(store_pass)];
    const char *pem, *err;
    apr_size_t len;

    memcpy(wrong, store_pass, sizeof(wrong));
    wrong[47] ^= 1;
    md_pkey_to_pem(&pem, &len, pkey, store_pass, sizeof(store_pass), p);
    back = (md_pkey_t *)1;
    err = NULL;
    ck_assert_int_eq(md_pkey_from_pem(&back, pem, len, wrong, sizeof(wrong), &err, p), APR_EINVAL);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "passphrase") != NULL, "%s", err);
    err = NULL;
    ck_assert_int_eq(md_pkey_from_pem(&back, pem, len, NULL, 0, &err, p), APR_EINVAL);
    ck_assert_msg(err && strstr(err, "no passphrase") != NULL, "%s", err ? err : "(null)");
    /* without perr */
    ck_assert_int_eq(md_pkey_from_pem(&back, pem, len, wrong, sizeof(wrong), NULL, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(pem_bad_data)
{
    static const char junk[] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    apr_pool_t *p = md_test_pool();
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    md_pkey_t *back;
    const char *err, *pem;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long len;

    ck_assert_int_eq(md_pkey_from_pem(&back, junk, strlen(junk), NULL, 0, &err, p), APR_EINVAL);
    ck_assert_msg(strstr(err, "no valid private key") != NULL, "%s", err);
    ck_assert_int_eq(md_pkey_from_pem(&back, "hello", 5, NULL, 0, &err, p), APR_EINVAL);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(md_pkey_from_pem(&back, "", 0, NULL, 0, &err, p), APR_EINVAL);
    ck_assert_ptr_nonnull(err);
    /* a key of a type we don't use */
    ck_assert_ptr_nonnull(ed);
    ck_assert(PEM_write_bio_PrivateKey(bio, ed, NULL, NULL, 0, NULL, NULL));
    len = BIO_get_mem_data(bio, &data);
    pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    ck_assert_int_eq(md_pkey_from_pem(&back, pem, (apr_size_t)len, NULL, 0, &err, p), APR_EINVAL);
    ck_assert_msg(strstr(err, "unsupported") != NULL, "%s", err);
    BIO_free(bio);
    EVP_PKEY_free(ed);
    md_test_pool_done(p);
}
END_TEST

START_TEST(file_save_load)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *path, *err = NULL;
    md_pkey_t *pkey = load_fixture("pkey/ec384-pkcs8.pem", NULL, p), *back;
    struct stat st;

    path = md_file_join(p, dir, "privkey.pem", NULL);
    ck_assert_int_eq(md_pkey_fsave(pkey, path, NULL, 0, MD_FPERMS_SECRET, p), APR_SUCCESS);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(md_pkey_fload(&back, path, NULL, 0, &err, p), APR_SUCCESS);
    ck_assert(same_key(pkey, back));

    /* encrypted, replacing the file */
    ck_assert_int_eq(md_pkey_fsave(pkey, path, store_pass, sizeof(store_pass), MD_FPERMS_SECRET, p),
                     APR_SUCCESS);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(md_pkey_fload(&back, path, store_pass, sizeof(store_pass), &err, p), APR_SUCCESS);
    ck_assert(same_key(pkey, back));
    ck_assert_int_eq(md_pkey_fload(&back, path, "nope", 4, &err, p), APR_EINVAL);
    ck_assert_msg(strstr(err, path) && strstr(err, "passphrase"), "%s", err);

    /* a missing file names the path */
    path = md_file_join(p, dir, "missing.pem", NULL);
    ck_assert_int_ne(md_pkey_fload(&back, path, NULL, 0, &err, p), APR_SUCCESS);
    ck_assert_msg(err && strstr(err, path), "%s", err ? err : "(null)");
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(openssl_cli_fixtures)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *rsa, *rsa_enc, *ec, *ec_enc, *ec384;
    const char *err = NULL;

    rsa = load_fixture("pkey/rsa2048-trad.pem", NULL, p);
    ck_assert_int_eq(md_pkey_get_type(rsa), MD_PKEY_RSA);
    ck_assert_uint_eq(md_pkey_get_bits(rsa), 2048);
    rsa_enc = load_fixture("pkey/rsa2048-trad-enc.pem", "fixture-pass", p);
    ck_assert(same_key(rsa, rsa_enc));
    ck_assert_int_eq(md_pkey_fload(&rsa_enc, md_test_data("pkey/rsa2048-trad-enc.pem", p), "wrong", 5,
                                   &err, p), APR_EINVAL);
    ck_assert_msg(strstr(err, "passphrase") != NULL, "%s", err);

    ec = load_fixture("pkey/ec256-trad.pem", NULL, p);
    ck_assert_int_eq(md_pkey_get_type(ec), MD_PKEY_EC);
    ck_assert_str_eq(md_pkey_get_spec(ec, p)->curve, "secp256r1");
    ec_enc = load_fixture("pkey/ec256-pkcs8-enc.pem", "fixture-pass", p);
    ck_assert(same_key(ec, ec_enc));

    ec384 = load_fixture("pkey/ec384-pkcs8.pem", NULL, p);
    ck_assert_str_eq(md_pkey_get_spec(ec384, p)->curve, "secp384r1");
    ck_assert_uint_eq(md_pkey_get_bits(ec384), 384);
    md_test_pool_done(p);
}
END_TEST

START_TEST(public_pem)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_fixture("pkey/ec256-trad.pem", NULL, p);
    const char *pem = md_pkey_public_pem(pkey, p);
    EVP_PKEY *pub;
    BIO *bio;

    ck_assert_ptr_nonnull(pem);
    ck_assert_msg(!strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27), "%s", pem);
    ck_assert_ptr_null(strstr(pem, "PRIVATE"));
    bio = BIO_new_mem_buf(pem, -1);
    pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(pub);
    ck_assert_int_eq(EVP_PKEY_eq(pub, md_pkey_get_EVP_PKEY(pkey)), 1);
    EVP_PKEY_free(pub);
    BIO_free(bio);
    md_test_pool_done(p);
}
END_TEST

START_TEST(wrap_owns_key)
{
    apr_pool_t *p = md_test_pool();
    EVP_PKEY *evp = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    md_pkey_t *pkey = md_pkey_wrap(evp, p);

    ck_assert_ptr_eq(md_pkey_get_EVP_PKEY(pkey), evp);
    ck_assert_str_eq(md_pkey_spec_name(md_pkey_get_spec(pkey, p), p), "secp256r1");
    md_test_pool_done(p);   /* frees evp; the leak checker of `make asan` would notice otherwise */
}
END_TEST

/* MDPrivateKeys as a list: mod_md's rules and words. */
START_TEST(specs_list_as_mod_md)
{
    static const struct { const char *words; const char *phrase; const char *bad; } bad[] = {
        { "", "needs to specify the private key type", NULL },
        { "Default RSA", "'Default' allows no other parameter", "Default" },
        { "P-256 default", "'Default' allows no other parameter", "default" },
        { "RSA 1024", "must be 2048 or higher in order to be considered safe", "RSA 1024" },
        { "rsa1536 P-256", "must be 2048 or higher in order to be considered safe", "rsa1536" },
        { "RSA rsa3072", "two keys of type 'RSA' are not possible", "rsa3072" },
        { "P-256 p-256", "two keys of type 'p-256' are not possible", "p-256" },
        { "P-256 secp256r1", "two keys of type 'secp256r1' are not possible ('P-256' and 'secp256r1' are the same "
          "curve)", "secp256r1" },
        { "ed25519", "ec curve unknown: ed25519", "ed25519" },
    };
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *pks;
    char **argv;
    const char *err, *at;
    int argc;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        argv = NULL;
        ck_assert_int_eq(apr_tokenize_to_argv(bad[i].words, &argv, p), APR_SUCCESS);
        for (argc = 0; argv[argc]; ++argc) continue;
        err = NULL;
        ck_assert_int_eq(md_pkey_specs_parse(&pks, &at, argc, (const char *const *)argv, &err, p), APR_EINVAL);
        ck_assert_msg(err && strstr(err, bad[i].phrase), "%s: %s", bad[i].words, err);
        ck_assert_msg(bad[i].bad ? (at && !strcmp(at, bad[i].bad)) : !at, "%s: at %s", bad[i].words, at);
    }
    ck_assert_int_eq(apr_tokenize_to_argv("RSA 3072 P-256 secp384r1", &argv, p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_specs_parse(&pks, &at, 4, (const char *const *)argv, &err, p), APR_SUCCESS);
    ck_assert_int_eq(pks->nelts, 3);
    ck_assert_uint_eq(APR_ARRAY_IDX(pks, 0, md_pkey_spec_t *)->bits, 3072);
    ck_assert_int_eq(apr_tokenize_to_argv("DEFAULT", &argv, p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_specs_parse(&pks, &at, 1, (const char *const *)argv, &err, p), APR_SUCCESS);
    ck_assert_uint_eq(APR_ARRAY_IDX(pks, 0, md_pkey_spec_t *)->bits, 2048);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_pkey_suite(void)
{
    Suite *s = suite_create("pkey");
    TCase *tc = tcase_create("spec");
    TCase *keys = tcase_create("keys");

    tcase_add_test(tc, spec_parse_accepted);
    tcase_add_test(tc, spec_parse_rejected);
    tcase_add_test(tc, spec_label_from_json);
    tcase_add_test(tc, spec_json_round_trip);
    tcase_add_test(tc, spec_json_errors);
    tcase_add_test(tc, spec_equality);
    tcase_add_test(tc, specs_list_as_mod_md);
    suite_add_tcase(s, tc);

    tcase_set_timeout(keys, KEYGEN_TIMEOUT);
    tcase_add_test(keys, gen_rsa);
    tcase_add_test(keys, gen_ec);
    tcase_add_test(keys, gen_rejects_bad_specs);
    tcase_add_test(keys, pem_round_trip_plain);
    tcase_add_test(keys, pem_round_trip_encrypted);
    tcase_add_test(keys, pem_encrypted_few_iterations);
    tcase_add_test(keys, pem_decrypt_without_decoding);
    tcase_add_test(keys, pem_wrong_pass);
    tcase_add_test(keys, pem_bad_data);
    tcase_add_test(keys, file_save_load);
    tcase_add_test(keys, openssl_cli_fixtures);
    tcase_add_test(keys, public_pem);
    tcase_add_test(keys, wrap_owns_key);
    suite_add_tcase(s, keys);
    return s;
}
