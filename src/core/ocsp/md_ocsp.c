/* OCSP requests and responses: the certificate's id, a request with a nonce, and a response verified for one
 * certificate (signer, nonce, CertID, thisUpdate/nextUpdate) before anything is stored or stapled. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "md_ocsp.h"
#include "md_result.h"
#include "md_encode.h"

#define NONCE_LEN 16

struct md_ocsp_req_t {
    OCSP_REQUEST *req;
    md_data_t der;
};

const char *md_ocsp_status_str(md_ocsp_status_t status)
{
    switch (status) {
    case MD_OCSP_GOOD: return "good";
    case MD_OCSP_REVOKED: return "revoked";
    default: return "unknown";
    }
}

md_ocsp_status_t md_ocsp_status_parse(const char *word)
{
    if (word && !strcmp(word, "good")) return MD_OCSP_GOOD;
    if (word && !strcmp(word, "revoked")) return MD_OCSP_REVOKED;
    return MD_OCSP_UNKNOWN;
}

apr_status_t md_ocsp_cert_id(md_data_t **pid, const char **phex, const md_cert_t *cert, apr_pool_t *p)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!cert || X509_digest(md_cert_get_X509(cert), EVP_sha1(), md, &len) != 1) {
        ERR_clear_error();
        return APR_EINVAL;
    }
    if (pid) *pid = md_data_make((const char *)md, len, p);
    if (phex) *phex = md_hex_encode(md, len, 0, p);
    return APR_SUCCESS;
}

static apr_status_t req_cleanup(void *data)
{
    md_ocsp_req_t *req = data;

    OCSP_REQUEST_free(req->req);
    req->req = NULL;
    return APR_SUCCESS;
}

static OCSP_CERTID *cert_id_make(const md_cert_t *cert, const md_cert_t *issuer)
{
    return OCSP_cert_to_id(EVP_sha1(), md_cert_get_X509(cert), md_cert_get_X509(issuer));
}

apr_status_t md_ocsp_req_make(md_ocsp_req_t **preq, const md_cert_t *cert, const md_cert_t *issuer, int with_nonce,
                              apr_pool_t *p)
{
    md_ocsp_req_t *req = apr_pcalloc(p, sizeof(*req));
    OCSP_CERTID *id = NULL;
    unsigned char nonce[NONCE_LEN], *der = NULL;
    int len;

    *preq = NULL;
    req->req = OCSP_REQUEST_new();
    apr_pool_cleanup_register(p, req, req_cleanup, apr_pool_cleanup_null);
    if (!req->req || !(id = cert_id_make(cert, issuer))) goto fail;
    if (!OCSP_request_add0_id(req->req, id)) goto fail;
    id = NULL;                           /* the request owns it now */
    if (with_nonce && (RAND_bytes(nonce, sizeof(nonce)) != 1
                       || !OCSP_request_add1_nonce(req->req, nonce, sizeof(nonce)))) goto fail;
    if ((len = i2d_OCSP_REQUEST(req->req, &der)) <= 0) goto fail;
    req->der.data = apr_pmemdup(p, der, (apr_size_t)len);
    req->der.len = (apr_size_t)len;
    OPENSSL_free(der);
    *preq = req;
    return APR_SUCCESS;
fail:
    OCSP_CERTID_free(id);
    ERR_clear_error();
    return APR_EGENERAL;
}

const md_data_t *md_ocsp_req_der(const md_ocsp_req_t *req)
{
    return &req->der;
}

static const char *resp_status_word(int status)
{
    switch (status) {
    case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST: return "malformedRequest";
    case OCSP_RESPONSE_STATUS_INTERNALERROR: return "internalError";
    case OCSP_RESPONSE_STATUS_TRYLATER: return "tryLater";
    case OCSP_RESPONSE_STATUS_SIGREQUIRED: return "sigRequired";
    case OCSP_RESPONSE_STATUS_UNAUTHORIZED: return "unauthorized";
    default: return "unknown";
    }
}

/* The signature by signer's key; APR_SUCCESS when it holds. */
static apr_status_t signed_by(OCSP_BASICRESP *bs, X509 *signer)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    int ok;

    if (!certs || !sk_X509_push(certs, signer)) {
        sk_X509_free(certs);
        return APR_ENOMEM;
    }
    ok = OCSP_basic_verify(bs, certs, NULL, OCSP_NOINTERN | OCSP_NOVERIFY | OCSP_NOCHECKS | OCSP_NOEXPLICIT);
    sk_X509_free(certs);
    ERR_clear_error();
    return ok == 1 ? APR_SUCCESS : APR_EINVAL;
}

/* Whether x was signed by issuer's key for OCSP signing (a delegated responder, RFC 6960 4.2.2.2), valid at now. */
static const char *delegation_problem(X509 *x, X509 *issuer, apr_time_t now)
{
    EVP_PKEY *ikey = X509_get0_pubkey(issuer);
    apr_time_t from = md_asn1_time_get(X509_get0_notBefore(x)), until = md_asn1_time_get(X509_get0_notAfter(x));

    if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)) || !ikey || X509_verify(x, ikey) != 1) {
        ERR_clear_error();
        return "signed by a key that is neither the issuer's nor one the issuer delegated to";
    }
    if (!(X509_get_extension_flags(x) & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(x) & XKU_OCSP_SIGN)) {
        return "signed by a responder certificate of the issuer that is not for OCSP signing";
    }
    if (now < from || now > until) return "signed by a responder certificate that is not valid now";
    return NULL;
}

/* The response is signed by the issuer, or by a responder the issuer delegated to. */
static apr_status_t check_signer(OCSP_BASICRESP *bs, const md_cert_t *issuer, apr_time_t now, md_result_t *result)
{
    X509 *ix = md_cert_get_X509(issuer), *signer = NULL;
    const char *problem;

    if (signed_by(bs, ix) == APR_SUCCESS) return APR_SUCCESS;
    if (OCSP_resp_get0_signer(bs, &signer, NULL) != 1 || !signer) {
        ERR_clear_error();
        md_result_set(result, APR_EINVAL, "the OCSP response is not signed by the issuer, and names no responder "
                      "certificate it delegated to");
        return APR_EINVAL;
    }
    if ((problem = delegation_problem(signer, ix, now)) != NULL) {
        md_result_printf(result, APR_EINVAL, "the OCSP response is %s", problem);
        return APR_EINVAL;
    }
    if (signed_by(bs, signer) != APR_SUCCESS) {
        md_result_set(result, APR_EINVAL, "the OCSP response's signature does not verify");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t check_times(md_ocsp_resp_t *resp, apr_time_t now, md_result_t *result, apr_pool_t *p)
{
    if (!resp->this_update) {
        md_result_set(result, APR_EINVAL, "the OCSP response has no readable thisUpdate");
        return APR_EINVAL;
    }
    if (resp->this_update > now + MD_OCSP_LEEWAY) {
        md_result_printf(result, APR_EINVAL, "the OCSP response is not valid before %s (thisUpdate)",
                         md_time_print_http(resp->this_update, p));
        return APR_EINVAL;
    }
    if (resp->next_update && resp->next_update <= resp->this_update) {
        md_result_set(result, APR_EINVAL, "the OCSP response's nextUpdate is not after its thisUpdate");
        return APR_EINVAL;
    }
    resp->valid_until = resp->next_update ? resp->next_update : resp->this_update + MD_OCSP_NO_NEXT_UPDATE;
    if (resp->valid_until <= now) {
        md_result_printf(result, APR_EINVAL, "the OCSP response expired at %s (nextUpdate)",
                         md_time_print_http(resp->valid_until, p));
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The SingleResponse for the certificate's CertID: status, reason, times. */
static apr_status_t find_single(md_ocsp_resp_t *resp, OCSP_BASICRESP *bs, const md_cert_t *cert,
                                const md_cert_t *issuer, md_result_t *result)
{
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    OCSP_CERTID *id = cert_id_make(cert, issuer);
    int status = -1, reason = -1;

    if (!id || OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) != 1) {
        OCSP_CERTID_free(id);
        ERR_clear_error();
        md_result_set(result, APR_EINVAL, "the OCSP response is not about this certificate (no matching CertID)");
        return APR_EINVAL;
    }
    OCSP_CERTID_free(id);
    resp->status = status == V_OCSP_CERTSTATUS_GOOD ? MD_OCSP_GOOD
                 : status == V_OCSP_CERTSTATUS_REVOKED ? MD_OCSP_REVOKED : MD_OCSP_UNKNOWN;
    resp->reason = status == V_OCSP_CERTSTATUS_REVOKED ? reason : -1;
    resp->revoked_at = rev ? md_asn1_time_get(rev) : 0;
    resp->this_update = md_asn1_time_get(thisupd);
    resp->next_update = nextupd ? md_asn1_time_get(nextupd) : 0;
    return APR_SUCCESS;
}

static apr_status_t verify_basic(md_ocsp_resp_t *resp, OCSP_BASICRESP *bs, const md_cert_t *cert,
                                 const md_cert_t *issuer, const md_ocsp_req_t *req, apr_time_t now,
                                 md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv;

    rv = check_signer(bs, issuer, now, result);
    if (rv != APR_SUCCESS) return rv;
    if (req && req->req && OCSP_check_nonce(req->req, bs) == 0) {
        ERR_clear_error();
        md_result_set(result, APR_EINVAL, "the OCSP response's nonce is not the request's");
        return APR_EINVAL;
    }
    rv = find_single(resp, bs, cert, issuer, result);
    if (rv == APR_SUCCESS) rv = check_times(resp, now, result, p);
    return rv;
}

apr_status_t md_ocsp_resp_verify(md_ocsp_resp_t **presp, const md_data_t *der, const md_cert_t *cert,
                                 const md_cert_t *issuer, const md_ocsp_req_t *req, apr_time_t now,
                                 md_result_t *result, apr_pool_t *p)
{
    const unsigned char *q = (const unsigned char *)der->data;
    OCSP_RESPONSE *ocsp = NULL;
    OCSP_BASICRESP *bs = NULL;
    md_ocsp_resp_t *resp;
    apr_status_t rv = APR_EINVAL;
    int status;

    *presp = NULL;
    if (!der->data || der->len == 0 || der->len > (apr_size_t)0x7fffffff
        || !(ocsp = d2i_OCSP_RESPONSE(NULL, &q, (long)der->len)) || q != (const unsigned char *)der->data + der->len) {
        md_result_set(result, rv, "not an OCSP response (DER)");
        goto leave;
    }
    if ((status = OCSP_response_status(ocsp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        rv = status == OCSP_RESPONSE_STATUS_TRYLATER || status == OCSP_RESPONSE_STATUS_INTERNALERROR
             ? APR_EAGAIN : APR_EINVAL;
        md_result_printf(result, rv, "the OCSP responder answered %s (%d)", resp_status_word(status), status);
        goto leave;
    }
    if (!(bs = OCSP_response_get1_basic(ocsp))) {
        md_result_set(result, rv, "the OCSP response holds no basic response");
        goto leave;
    }
    resp = apr_pcalloc(p, sizeof(*resp));
    rv = verify_basic(resp, bs, cert, issuer, req, now, result, p);
    if (rv != APR_SUCCESS) goto leave;
    resp->der.data = apr_pmemdup(p, der->data, der->len);
    resp->der.len = der->len;
    *presp = resp;
    md_result_set(result, APR_SUCCESS, NULL);
leave:
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(ocsp);
    ERR_clear_error();
    return rv;
}

apr_time_t md_ocsp_renew_at(const md_timeslice_t *window, apr_time_t from, apr_time_t until)
{
    apr_interval_time_t len = window ? md_timeslice_length(window, from, until) : 0;
    apr_time_t at = until - len;

    return at < from ? from : at;
}

int md_ocsp_keep(apr_time_t until, apr_interval_time_t keep, apr_time_t now)
{
    return until + (keep > 0 ? keep : 0) >= now;
}
