/* Test fixtures for OCSP and CRLs, made with OpenSSL at test time (see ocsp_fixture.h). */
#include <string.h>

#include <check.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ocsp_fixture.h"

static apr_status_t free_pkey(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

static apr_status_t free_x509(void *data)
{
    X509_free(data);
    return APR_SUCCESS;
}

static EVP_PKEY *key_make(apr_pool_t *p)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");

    ck_assert_ptr_nonnull(key);
    apr_pool_cleanup_register(p, key, free_pkey, apr_pool_cleanup_null);
    return key;
}

static void set_time(ASN1_TIME *t, apr_time_t when)
{
    ck_assert_ptr_nonnull(ASN1_TIME_set(t, (time_t)apr_time_sec(when)));
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A certificate for key with CN cn, signed by issuer_key (issuer NULL: self-signed). */
static X509 *cert_make(fx_pki_t *pki, const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial,
                       const char *const *exts, apr_pool_t *p)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int i;

    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_NAME_free(name);
    set_time(X509_getm_notBefore(x), pki->now - apr_time_from_sec(86400));
    set_time(X509_getm_notAfter(x), pki->now + apr_time_from_sec(90 * 86400));
    X509_set_pubkey(x, key);
    for (i = 0; exts && exts[i]; i += 2) add_ext(x, issuer ? issuer : x, OBJ_txt2nid(exts[i]), exts[i + 1]);
    ck_assert_int_gt(X509_sign(x, issuer_key, EVP_sha256()), 0);
    apr_pool_cleanup_register(p, x, free_x509, apr_pool_cleanup_null);
    return x;
}

static md_cert_t *wrap(X509 *x, apr_pool_t *p)
{
    X509_up_ref(x);
    return md_cert_wrap(x, p);
}

fx_pki_t *fx_pki_make(apr_time_t now, apr_pool_t *p)
{
    static const char *const ca_exts[] = { "basicConstraints", "critical,CA:TRUE",
                                           "keyUsage", "critical,keyCertSign,cRLSign", NULL };
    static const char *const resp_exts[] = { "basicConstraints", "critical,CA:FALSE",
                                             "extendedKeyUsage", "OCSPSigning", NULL };
    static const char *const plain_exts[] = { "basicConstraints", "critical,CA:FALSE",
                                              "extendedKeyUsage", "serverAuth", NULL };
    fx_pki_t *pki = apr_pcalloc(p, sizeof(*pki));

    pki->p = p;
    pki->now = now;
    pki->ca_key = key_make(p);
    pki->ca = cert_make(pki, "Test Issuing CA", pki->ca_key, NULL, pki->ca_key, 1, ca_exts, p);
    pki->leaf_key = key_make(p);
    pki->leaf = cert_make(pki, "leaf.example.org", pki->leaf_key, pki->ca, pki->ca_key, 0x1001, plain_exts, p);
    pki->resp_key = key_make(p);
    pki->resp = cert_make(pki, "Test OCSP responder", pki->resp_key, pki->ca, pki->ca_key, 0x77, resp_exts, p);
    pki->resp_noeku = cert_make(pki, "Test server", pki->resp_key, pki->ca, pki->ca_key, 0x78, plain_exts, p);
    pki->wrong_key = key_make(p);
    pki->wrong = cert_make(pki, "Test Issuing CA", pki->wrong_key, NULL, pki->wrong_key, 1, ca_exts, p);
    pki->mca = wrap(pki->ca, p);
    pki->mleaf = wrap(pki->leaf, p);
    return pki;
}

md_cert_t *fx_leaf(fx_pki_t *pki, long serial, apr_pool_t *p)
{
    static const char *const plain_exts[] = { "basicConstraints", "critical,CA:FALSE", NULL };

    return wrap(cert_make(pki, "other.example.org", pki->leaf_key, pki->ca, pki->ca_key, serial, plain_exts, p), p);
}

static md_data_t *der_of_response(OCSP_RESPONSE *resp, apr_pool_t *p)
{
    unsigned char *der = NULL;
    int len = i2d_OCSP_RESPONSE(resp, &der);
    md_data_t *data;

    ck_assert_int_gt(len, 0);
    data = md_data_make((const char *)der, (apr_size_t)len, p);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    return data;
}

static void add_nonce(OCSP_BASICRESP *bs, const md_ocsp_req_t *req, int bad_nonce)
{
    const md_data_t *der;
    const unsigned char *q;
    OCSP_REQUEST *oreq;

    if (bad_nonce) {
        ck_assert_int_eq(OCSP_basic_add1_nonce(bs, NULL, 16), 1);
        return;
    }
    if (!req) return;
    der = md_ocsp_req_der(req);
    q = (const unsigned char *)der->data;
    oreq = d2i_OCSP_REQUEST(NULL, &q, (long)der->len);
    ck_assert_ptr_nonnull(oreq);
    ck_assert_int_eq(OCSP_copy_nonce(bs, oreq), 1);
    OCSP_REQUEST_free(oreq);
}

md_data_t *fx_ocsp_response(fx_pki_t *pki, fx_signer_t signer, const md_cert_t *cert, int status,
                            apr_time_t this_update, apr_time_t next_update, const md_ocsp_req_t *req, int bad_nonce,
                            apr_pool_t *p)
{
    X509 *subject = cert ? md_cert_get_X509(cert) : pki->leaf, *scert;
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), subject, pki->ca);
    ASN1_TIME *thisupd = ASN1_TIME_new(), *nextupd = next_update ? ASN1_TIME_new() : NULL, *rev = NULL;
    EVP_PKEY *skey;
    OCSP_RESPONSE *resp;
    unsigned long flags = 0;

    ck_assert_ptr_nonnull(bs);
    ck_assert_ptr_nonnull(id);
    set_time(thisupd, this_update);
    if (nextupd) set_time(nextupd, next_update);
    if (status == V_OCSP_CERTSTATUS_REVOKED) {
        rev = ASN1_TIME_new();
        set_time(rev, this_update - apr_time_from_sec(3600));
    }
    ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id, status, status == V_OCSP_CERTSTATUS_REVOKED
                                                 ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0, rev, thisupd, nextupd));
    add_nonce(bs, req, bad_nonce);
    switch (signer) {
    case FX_SIGN_DELEGATED: scert = pki->resp, skey = pki->resp_key; break;
    case FX_SIGN_NO_EKU: scert = pki->resp_noeku, skey = pki->resp_key; break;
    case FX_SIGN_WRONG: scert = pki->wrong, skey = pki->wrong_key; break;
    default: scert = pki->ca, skey = pki->ca_key, flags = OCSP_NOCERTS;
    }
    ck_assert_int_eq(OCSP_basic_sign(bs, scert, skey, EVP_sha256(), NULL, flags), 1);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(thisupd);
    ASN1_TIME_free(nextupd);
    ASN1_TIME_free(rev);
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);     /* a copy of bs */
    OCSP_BASICRESP_free(bs);
    return der_of_response(resp, p);
}

md_data_t *fx_ocsp_error(int status, apr_pool_t *p)
{
    return der_of_response(OCSP_response_create(status, NULL), p);
}

static void crl_add(X509_CRL *crl, long serial, apr_time_t when)
{
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();

    ASN1_INTEGER_set(sn, serial);
    X509_REVOKED_set_serialNumber(r, sn);
    set_time(t, when);
    X509_REVOKED_set_revocationDate(r, t);
    ASN1_ENUMERATED_set(reason, CRL_REASON_KEY_COMPROMISE);
    X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0);
    ck_assert_int_eq(X509_CRL_add0_revoked(crl, r), 1);
    ASN1_INTEGER_free(sn);
    ASN1_TIME_free(t);
    ASN1_ENUMERATED_free(reason);
}

md_data_t *fx_crl(fx_pki_t *pki, const long *serials, int n, apr_time_t this_update, apr_time_t next_update,
                  int wrong_key, int pem, apr_pool_t *p)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    unsigned char *der = NULL;
    md_data_t *data;
    BIO *bio;
    char *mem;
    long len;
    int i;

    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(pki->ca));
    set_time(t, this_update);
    X509_CRL_set1_lastUpdate(crl, t);
    if (next_update) {
        set_time(t, next_update);
        X509_CRL_set1_nextUpdate(crl, t);
    }
    ASN1_TIME_free(t);
    for (i = 0; i < n; ++i) crl_add(crl, serials[i], this_update - apr_time_from_sec(600));
    X509_CRL_sort(crl);
    ck_assert_int_gt(X509_CRL_sign(crl, wrong_key ? pki->wrong_key : pki->ca_key, EVP_sha256()), 0);
    if (pem) {
        bio = BIO_new(BIO_s_mem());
        PEM_write_bio_X509_CRL(bio, crl);
        len = BIO_get_mem_data(bio, &mem);
        data = md_data_make(mem, (apr_size_t)len, p);
        BIO_free(bio);
    }
    else {
        len = i2d_X509_CRL(crl, &der);
        ck_assert_int_gt(len, 0);
        data = md_data_make((const char *)der, (apr_size_t)len, p);
        OPENSSL_free(der);
    }
    X509_CRL_free(crl);
    return data;
}

md_cert_t *fx_leaf_with(fx_pki_t *pki, long serial, const char *ocsp_url, const char *crl_url, apr_pool_t *p)
{
    const char *exts[8];
    int n = 0;

    exts[n++] = "basicConstraints";
    exts[n++] = "critical,CA:FALSE";
    if (ocsp_url) {
        exts[n++] = "authorityInfoAccess";
        exts[n++] = apr_pstrcat(p, "OCSP;URI:", ocsp_url, NULL);
    }
    if (crl_url) {
        exts[n++] = "crlDistributionPoints";
        exts[n++] = apr_pstrcat(p, "URI:", crl_url, NULL);
    }
    exts[n] = NULL;
    return wrap(cert_make(pki, "leaf.example.org", pki->leaf_key, pki->ca, pki->ca_key, serial, exts, p), p);
}

const char *fx_chain_pem(fx_pki_t *pki, const md_cert_t *leaf, apr_pool_t *p)
{
    apr_array_header_t *chain = apr_array_make(p, 2, sizeof(md_cert_t *));
    const char *pem = NULL;
    apr_size_t len = 0;

    APR_ARRAY_PUSH(chain, const md_cert_t *) = leaf;
    APR_ARRAY_PUSH(chain, const md_cert_t *) = pki->mca;
    ck_assert_int_eq(md_cert_chain_to_pem(&pem, &len, chain, p), APR_SUCCESS);
    return pem;
}
