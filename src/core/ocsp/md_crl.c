/* CRLs: read DER or PEM, verify against the issuer (name, signature, cRLSign, times) and look for a certificate's
 * serial number. */
#include <stdint.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "md_ocsp.h"
#include "md_result.h"

struct md_crl_t {
    X509_CRL *crl;
};

static apr_status_t crl_cleanup(void *data)
{
    md_crl_t *crl = data;

    X509_CRL_free(crl->crl);
    crl->crl = NULL;
    return APR_SUCCESS;
}

static X509_CRL *crl_from_pem(const md_data_t *data)
{
    BIO *bio = BIO_new_mem_buf(data->data, (int)data->len);
    X509_CRL *crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    return crl;
}

apr_status_t md_crl_parse(md_crl_t **pcrl, const md_data_t *data, md_result_t *result, apr_pool_t *p)
{
    const unsigned char *q = (const unsigned char *)data->data;
    X509_CRL *x = NULL;
    md_crl_t *crl;

    *pcrl = NULL;
    if (data->data && data->len > 0 && data->len <= (apr_size_t)0x7fffffff) {
        x = d2i_X509_CRL(NULL, &q, (long)data->len);
        if (x && q != (const unsigned char *)data->data + data->len) {
            X509_CRL_free(x);
            x = NULL;
        }
        if (!x) x = crl_from_pem(data);
    }
    ERR_clear_error();
    if (!x) {
        md_result_set(result, APR_EINVAL, "not a CRL (DER or PEM)");
        return APR_EINVAL;
    }
    crl = apr_pcalloc(p, sizeof(*crl));
    crl->crl = x;
    apr_pool_cleanup_register(p, crl, crl_cleanup, apr_pool_cleanup_null);
    *pcrl = crl;
    return APR_SUCCESS;
}

apr_time_t md_crl_this_update(const md_crl_t *crl)
{
    return md_asn1_time_get(X509_CRL_get0_lastUpdate(crl->crl));
}

apr_time_t md_crl_next_update(const md_crl_t *crl)
{
    const ASN1_TIME *t = X509_CRL_get0_nextUpdate(crl->crl);

    return t ? md_asn1_time_get(t) : 0;
}

int md_crl_count(const md_crl_t *crl)
{
    STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl->crl);

    return revoked ? sk_X509_REVOKED_num(revoked) : 0;
}

apr_status_t md_crl_to_pem(const char **ppem, const md_crl_t *crl, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    *ppem = NULL;
    if (!bio || !PEM_write_bio_X509_CRL(bio, crl->crl)) {
        BIO_free(bio);
        ERR_clear_error();
        return APR_EGENERAL;
    }
    n = BIO_get_mem_data(bio, &data);
    *ppem = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(bio);
    return APR_SUCCESS;
}

/* The issuer's name, key and key usage fit the CRL, and its signature holds. */
static apr_status_t check_signature(const md_crl_t *crl, const md_cert_t *issuer, md_result_t *result)
{
    X509 *ix = md_cert_get_X509(issuer);
    EVP_PKEY *key = X509_get0_pubkey(ix);
    uint32_t ku;
    int ok;

    if (X509_NAME_cmp(X509_CRL_get_issuer(crl->crl), X509_get_subject_name(ix))) {
        md_result_set(result, APR_EINVAL, "the CRL is not issued by the certificate's issuer (another name)");
        return APR_EINVAL;
    }
    ku = X509_get_key_usage(ix);
    if (ku != UINT32_MAX && !(ku & KU_CRL_SIGN)) {
        md_result_set(result, APR_EINVAL, "the issuer's key usage does not allow signing CRLs");
        return APR_EINVAL;
    }
    ok = key && X509_CRL_verify(crl->crl, key) == 1;
    ERR_clear_error();
    if (!ok) {
        md_result_set(result, APR_EINVAL, "the CRL's signature does not verify with the issuer's key");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The entry for cert's serial number, or NULL (entries that only say removeFromCRL do not count). */
static X509_REVOKED *find_entry(const md_crl_t *crl, const md_cert_t *cert)
{
    X509_REVOKED *entry = NULL;
    ASN1_ENUMERATED *reason;
    int r = -1;

    if (X509_CRL_get0_by_serial(crl->crl, &entry, X509_get0_serialNumber(md_cert_get_X509(cert))) == 0 || !entry) {
        ERR_clear_error();
        return NULL;
    }
    reason = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
    if (reason) r = (int)ASN1_ENUMERATED_get(reason);
    ASN1_ENUMERATED_free(reason);
    ERR_clear_error();
    return r == CRL_REASON_REMOVE_FROM_CRL ? NULL : entry;
}

static int entry_reason(X509_REVOKED *entry)
{
    ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
    int r = reason ? (int)ASN1_ENUMERATED_get(reason) : -1;

    ASN1_ENUMERATED_free(reason);
    ERR_clear_error();
    return r;
}

apr_status_t md_crl_check(md_crl_check_t *pcheck, const md_crl_t *crl, const md_cert_t *cert,
                          const md_cert_t *issuer, apr_time_t now, md_result_t *result, apr_pool_t *p)
{
    X509_REVOKED *entry;
    apr_status_t rv;

    memset(pcheck, 0, sizeof(*pcheck));
    pcheck->reason = -1;
    pcheck->this_update = md_crl_this_update(crl);
    pcheck->next_update = md_crl_next_update(crl);
    rv = check_signature(crl, issuer, result);
    if (rv != APR_SUCCESS) return rv;
    if (!pcheck->this_update || pcheck->this_update > now + MD_OCSP_LEEWAY) {
        md_result_printf(result, APR_EINVAL, "the CRL is not valid before %s (thisUpdate)",
                         pcheck->this_update ? md_time_print_http(pcheck->this_update, p) : "?");
        return APR_EINVAL;
    }
    if ((entry = find_entry(crl, cert)) != NULL) {
        pcheck->status = MD_OCSP_REVOKED;
        pcheck->revoked_at = md_asn1_time_get(X509_REVOKED_get0_revocationDate(entry));
        pcheck->reason = entry_reason(entry);
        md_result_set(result, APR_SUCCESS, NULL);
        return APR_SUCCESS;
    }
    if (pcheck->next_update && pcheck->next_update < now) {
        md_result_printf(result, APR_EINVAL, "the CRL is out of date since %s (nextUpdate)",
                         md_time_print_http(pcheck->next_update, p));
        return APR_EINVAL;
    }
    pcheck->status = MD_OCSP_GOOD;
    md_result_set(result, APR_SUCCESS, NULL);
    return APR_SUCCESS;
}
