/* Making certificates: the self-signed fallback (one, or many with one key) and the tls-alpn-01 challenge certificate
 * (RFC 8737). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "md_cert.h"
#include "md_crypt_int.h"

#define MD_OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
#define MD_SERIAL_BYTES 16
#define MD_CN_MAX_LEN 64

/* A random positive serial of MD_SERIAL_BYTES bytes. */
static apr_status_t set_random_serial(X509 *x)
{
    unsigned char buf[MD_SERIAL_BYTES];
    BIGNUM *bn = NULL;
    apr_status_t rv = APR_EGENERAL;

    if (RAND_bytes(buf, sizeof(buf)) != 1) goto leave;
    buf[0] &= 0x7f;
    buf[0] |= 0x40;   /* keep the full length, without a leading zero octet */
    bn = BN_bin2bn(buf, sizeof(buf), NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) goto leave;
    rv = APR_SUCCESS;
leave:
    BN_free(bn);
    return rv;
}

static apr_status_t set_names(X509 *x, const char *cn)
{
    X509_NAME *name = X509_NAME_new();
    apr_status_t rv = APR_EGENERAL;

    if (!name) goto leave;
    /* a CN has at most 64 characters (RFC 5280 ub-common-name); longer names live in the SANs only */
    if (strlen(cn) <= MD_CN_MAX_LEN
        && !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) {
        goto leave;
    }
    if (!X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name)) {
        goto leave;
    }
    rv = APR_SUCCESS;
leave:
    X509_NAME_free(name);
    return rv;
}

/* The SAN extension for names, replacing the one x has (none when names is empty). */
static apr_status_t add_sans(X509 *x, const apr_array_header_t *names)
{
    GENERAL_NAMES *gens;
    apr_status_t rv = APR_EGENERAL;
    int i;

    if (!names || names->nelts == 0) {     /* no SAN extension rather than an empty one */
        i = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
        if (i >= 0) X509_EXTENSION_free(X509_delete_ext(x, i));
        return APR_SUCCESS;
    }
    gens = md_crypt__sans_make(names);
    if (gens && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_REPLACE) == 1) rv = APR_SUCCESS;
    GENERAL_NAMES_free(gens);
    return rv;
}

/* Extensions given in OpenSSL's config syntax (basic constraints, key usage, SKI). */
static apr_status_t add_conf_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) return APR_EGENERAL;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

/* A v3 certificate with serial, CN, validity [now - 1d, now + valid_for], the key, SANs and basic extensions. */
static apr_status_t cert_base(X509 **px, const char *cn, const apr_array_header_t *names,
                              const md_pkey_t *pkey, apr_interval_time_t valid_for)
{
    X509 *x = X509_new();
    apr_status_t rv = APR_EGENERAL;

    *px = NULL;
    if (!x || !X509_set_version(x, 2)) goto leave;
    rv = set_random_serial(x);
    if (rv != APR_SUCCESS) goto leave;
    rv = set_names(x, cn);
    if (rv != APR_SUCCESS) goto leave;
    rv = APR_EGENERAL;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -(long)(24 * 60 * 60))
        || !X509_gmtime_adj(X509_getm_notAfter(x), (long)apr_time_sec(valid_for))
        || !X509_set_pubkey(x, md_pkey_get_EVP_PKEY(pkey))) {
        goto leave;
    }
    rv = add_sans(x, names);
    if (rv != APR_SUCCESS) goto leave;
    rv = add_conf_ext(x, NID_basic_constraints, "critical,CA:FALSE");
    if (rv != APR_SUCCESS) goto leave;
    rv = add_conf_ext(x, NID_key_usage, EVP_PKEY_get_base_id(md_pkey_get_EVP_PKEY(pkey)) == EVP_PKEY_RSA ?
                      "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
    if (rv != APR_SUCCESS) goto leave;
    rv = add_conf_ext(x, NID_ext_key_usage, "serverAuth");
    if (rv != APR_SUCCESS) goto leave;
    rv = add_conf_ext(x, NID_subject_key_identifier, "hash");
    if (rv != APR_SUCCESS) goto leave;
    *px = x;
    x = NULL;
leave:
    X509_free(x);
    return rv;
}

static apr_status_t sign_and_wrap(md_cert_t **pcert, X509 *x, const md_pkey_t *pkey, apr_pool_t *p)
{
    if (X509_sign(x, md_pkey_get_EVP_PKEY(pkey), EVP_sha256()) <= 0) {
        X509_free(x);
        ERR_clear_error();
        return APR_EGENERAL;
    }
    *pcert = md_cert_wrap(x, p);
    return APR_SUCCESS;
}

apr_status_t md_cert_self_sign(md_cert_t **pcert, const char *cn, const apr_array_header_t *names,
                               const md_pkey_t *pkey, apr_interval_time_t valid_for, apr_pool_t *p)
{
    X509 *x = NULL;
    apr_status_t rv;

    *pcert = NULL;
    if (!cn || !*cn || !pkey) return APR_EINVAL;
    rv = cert_base(&x, cn, names, pkey, valid_for);
    if (rv != APR_SUCCESS) goto leave;
    rv = sign_and_wrap(pcert, x, pkey, p);
leave:
    ERR_clear_error();
    return rv;
}

/* The signer's template: what all its certificates share (version, validity, the key and the extensions but the
 * SANs), serial, names and SANs set anew for each. The public key is encoded once: OpenSSL 3 encodes and decodes it
 * again (its encoder and decoder contexts) for each X509_set_pubkey, a third of a fallback certificate's cost. */
struct md_cert_signer_t {
    X509 *x;
    const md_pkey_t *pkey;
};

static apr_status_t signer_cleanup(void *baton)
{
    md_cert_signer_t *s = baton;

    X509_free(s->x);
    s->x = NULL;
    return APR_SUCCESS;
}

apr_status_t md_cert_signer_make(md_cert_signer_t **psigner, const md_pkey_t *pkey, apr_interval_time_t valid_for,
                                 apr_pool_t *p)
{
    md_cert_signer_t *s;
    apr_status_t rv;

    *psigner = NULL;
    if (!pkey) return APR_EINVAL;
    s = apr_pcalloc(p, sizeof(*s));
    s->pkey = pkey;
    rv = cert_base(&s->x, "signer", NULL, pkey, valid_for);
    ERR_clear_error();
    if (rv != APR_SUCCESS) return rv;
    apr_pool_cleanup_register(p, s, signer_cleanup, apr_pool_cleanup_null);
    *psigner = s;
    return APR_SUCCESS;
}

apr_status_t md_cert_signer_pem(const char **ppem, apr_size_t *plen, md_cert_signer_t *s, const char *cn,
                                const apr_array_header_t *names, apr_pool_t *p)
{
    apr_status_t rv;
    BIO *bio = NULL;
    char *data;
    long n;

    *ppem = NULL;
    *plen = 0;
    if (!cn || !*cn || !s || !s->x) return APR_EINVAL;
    rv = set_random_serial(s->x);
    if (rv == APR_SUCCESS) rv = set_names(s->x, cn);
    if (rv == APR_SUCCESS) rv = add_sans(s->x, names);
    if (rv != APR_SUCCESS) goto leave;
    rv = APR_EGENERAL;
    /* X509_sign marks the modified parts for encoding anew */
    if (X509_sign(s->x, md_pkey_get_EVP_PKEY(s->pkey), EVP_sha256()) <= 0) goto leave;
    bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_X509(bio, s->x)) goto leave;
    n = BIO_get_mem_data(bio, &data);
    *ppem = apr_pstrmemdup(p, data, (apr_size_t)n);
    *plen = (apr_size_t)n;
    rv = APR_SUCCESS;
leave:
    BIO_free(bio);
    ERR_clear_error();
    return rv;
}

/* The critical acmeIdentifier extension: extnValue = DER(OCTET STRING(SHA-256(key_authz))). */
static apr_status_t add_acme_identifier(X509 *x, const char *key_authz)
{
    unsigned char digest[32];
    unsigned int dlen = 0;
    ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *value = ASN1_OCTET_STRING_new();
    ASN1_OBJECT *oid = OBJ_txt2obj(MD_OID_ACME_IDENTIFIER, 1);
    X509_EXTENSION *ext = NULL;
    unsigned char *der = NULL;
    int len;
    apr_status_t rv = APR_EGENERAL;

    if (!inner || !value || !oid) goto leave;
    if (!EVP_Digest(key_authz, strlen(key_authz), digest, &dlen, EVP_sha256(), NULL)
        || !ASN1_OCTET_STRING_set(inner, digest, (int)dlen)) {
        goto leave;
    }
    len = i2d_ASN1_OCTET_STRING(inner, &der);
    if (len <= 0 || !ASN1_OCTET_STRING_set(value, der, len)) goto leave;
    ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value);
    if (!ext || !X509_add_ext(x, ext, -1)) goto leave;
    rv = APR_SUCCESS;
leave:
    X509_EXTENSION_free(ext);
    OPENSSL_free(der);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(value);
    ASN1_OCTET_STRING_free(inner);
    return rv;
}

apr_status_t md_cert_make_tls_alpn_01(md_cert_t **pcert, const char *domain, const char *key_authz,
                                      const md_pkey_t *pkey, apr_interval_time_t valid_for, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *));
    X509 *x = NULL;
    apr_status_t rv;

    *pcert = NULL;
    if (!domain || !*domain || !key_authz || !pkey) return APR_EINVAL;
    APR_ARRAY_PUSH(names, const char *) = domain;
    rv = cert_base(&x, domain, names, pkey, valid_for);
    if (rv != APR_SUCCESS) goto leave;
    rv = add_acme_identifier(x, key_authz);
    if (rv != APR_SUCCESS) goto leave;
    rv = sign_and_wrap(pcert, x, pkey, p);
    x = NULL;
leave:
    X509_free(x);
    ERR_clear_error();
    return rv;
}
