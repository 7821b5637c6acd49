/* Certificate signing requests: subject CN, DNS and IP SANs, optional must-staple, SHA-256 signature. */
#include <limits.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "md_csr.h"
#include "md_crypt_int.h"

#define MD_CSR_CN_MAX 64

static X509_EXTENSION *san_ext_make(const apr_array_header_t *names)
{
    GENERAL_NAMES *gens = md_crypt__sans_make(names);
    X509_EXTENSION *ext = gens ? X509V3_EXT_i2d(NID_subject_alt_name, 0, gens) : NULL;

    GENERAL_NAMES_free(gens);
    return ext;
}

/* The TLS feature extension (RFC 7633) with status_request (5): OCSP must-staple. */
static X509_EXTENSION *must_staple_ext_make(void)
{
    TLS_FEATURE *features = TLS_FEATURE_new();
    ASN1_INTEGER *status_request = ASN1_INTEGER_new();
    X509_EXTENSION *ext = NULL;

    if (!features || !status_request || !ASN1_INTEGER_set(status_request, 5)) goto leave;
    if (!sk_ASN1_INTEGER_push(features, status_request)) goto leave;
    status_request = NULL;
    ext = X509V3_EXT_i2d(NID_tlsfeature, 0, features);
leave:
    ASN1_INTEGER_free(status_request);
    TLS_FEATURE_free(features);
    return ext;
}

static void ext_free(X509_EXTENSION *ext)
{
    X509_EXTENSION_free(ext);
}

static apr_status_t add_extensions(X509_REQ *req, const apr_array_header_t *names, int must_staple)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = NULL;
    apr_status_t rv = APR_EGENERAL;

    if (!exts) return APR_ENOMEM;
    ext = san_ext_make(names);
    if (!ext || !sk_X509_EXTENSION_push(exts, ext)) goto leave;
    ext = NULL;
    if (must_staple) {
        ext = must_staple_ext_make();
        if (!ext || !sk_X509_EXTENSION_push(exts, ext)) goto leave;
        ext = NULL;
    }
    if (!X509_REQ_add_extensions(req, exts)) goto leave;
    rv = APR_SUCCESS;
leave:
    X509_EXTENSION_free(ext);
    sk_X509_EXTENSION_pop_free(exts, ext_free);
    return rv;
}

static apr_status_t set_subject(X509_REQ *req, const char *first)
{
    unsigned char ip[16];
    X509_NAME *subject = X509_REQ_get_subject_name(req);
    size_t len = strlen(first);

    if (md_crypt__ip_literal(ip, first) || len == 0 || len > MD_CSR_CN_MAX) return APR_SUCCESS;
    if (!X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                    (const unsigned char *)first, (int)len, -1, 0)) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t check_names(const apr_array_header_t *names)
{
    const char *name;
    int i;

    if (!names || names->nelts <= 0) return APR_EINVAL;
    for (i = 0; i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        if (!name || !*name) return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The request's public key. X509_REQ_set_pubkey encodes the key with OpenSSL 3's encoder and decodes it again
 * (half of a CSR's cost); an EC key's SubjectPublicKeyInfo is only its curve and point, set here directly (the
 * same DER). Other keys, or a curve without an OID, as before. */
static int set_pubkey(X509_REQ *req, EVP_PKEY *evp)
{
    char curve[64];
    unsigned char *point = NULL;
    size_t clen = 0, plen;
    int nid;

    if (EVP_PKEY_get_base_id(evp) != EVP_PKEY_EC
        || !EVP_PKEY_get_utf8_string_param(evp, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &clen)
        || (nid = OBJ_txt2nid(curve)) == NID_undef
        || (plen = EVP_PKEY_get1_encoded_public_key(evp, &point)) == 0 || plen > INT_MAX) {
        OPENSSL_free(point);
        ERR_clear_error();
        return X509_REQ_set_pubkey(req, evp);
    }
    if (!X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                V_ASN1_OBJECT, OBJ_nid2obj(nid), point, (int)plen)) {
        OPENSSL_free(point);
        return 0;
    }
    return 1;
}

static apr_status_t req_to_der(md_data_t **pder, X509_REQ *req, apr_pool_t *p)
{
    unsigned char *der = NULL;
    int len = i2d_X509_REQ(req, &der);

    if (len <= 0 || !der) return APR_EGENERAL;
    *pder = md_data_make((const char *)der, (apr_size_t)len, p);
    OPENSSL_free(der);
    return APR_SUCCESS;
}

apr_status_t md_csr_make(md_data_t **pder, const apr_array_header_t *names, int must_staple,
                         const md_pkey_t *pkey, apr_pool_t *p)
{
    EVP_PKEY *evp = md_pkey_get_EVP_PKEY(pkey);
    X509_REQ *req = NULL;
    apr_status_t rv;

    *pder = NULL;
    rv = check_names(names);
    if (rv != APR_SUCCESS || !evp) {
        rv = APR_EINVAL;
        goto leave;
    }
    rv = APR_ENOMEM;
    req = X509_REQ_new();
    if (!req) goto leave;
    rv = APR_EGENERAL;
    if (!X509_REQ_set_version(req, X509_REQ_VERSION_1)) goto leave;
    rv = set_subject(req, APR_ARRAY_IDX(names, 0, const char *));
    if (rv != APR_SUCCESS) goto leave;
    rv = add_extensions(req, names, must_staple);
    if (rv != APR_SUCCESS) goto leave;
    rv = APR_EGENERAL;
    if (!set_pubkey(req, evp)) goto leave;
    if (X509_REQ_sign(req, evp, EVP_sha256()) <= 0) goto leave;
    rv = req_to_der(pder, req, p);
leave:
    if (rv != APR_SUCCESS) ERR_clear_error();
    X509_REQ_free(req);
    return rv;
}
