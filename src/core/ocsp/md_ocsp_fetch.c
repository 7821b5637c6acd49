/* Fetching over HTTP: an OCSP request POSTed to the responder (its answer verified), a CRL with If-Modified-Since. */
#include <string.h>

#include <apr_strings.h>

#include "md_ocsp.h"
#include "md_result.h"

#define OCSP_REQUEST_TYPE "application/ocsp-request"
#define OCSP_RESPONSE_TYPE "application/ocsp-response"

apr_status_t md_ocsp_fetch(md_ocsp_resp_t **presp, md_http_t *http, const char *url, const md_cert_t *cert,
                           const md_cert_t *issuer, apr_time_t now, md_result_t *result, apr_pool_t *p)
{
    md_http_request_t hreq = { "POST", url, NULL, NULL, OCSP_REQUEST_TYPE };
    md_http_response_t *hresp = NULL;
    md_ocsp_req_t *req = NULL;
    const char *type;
    apr_status_t rv;

    *presp = NULL;
    rv = md_ocsp_req_make(&req, cert, issuer, 1, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "cannot make the OCSP request");
        return rv;
    }
    hreq.body = md_ocsp_req_der(req);
    hreq.headers = apr_table_make(p, 1);
    apr_table_setn(hreq.headers, "Accept", OCSP_RESPONSE_TYPE);
    rv = md_http_perform(&hresp, http, &hreq, result, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "OCSP responder %s: %s", url, md_result_text(result, p));
        return rv;
    }
    if (hresp->status != 200) {
        md_result_printf(result, APR_EAGAIN, "OCSP responder %s answered HTTP %d", url, hresp->status);
        return APR_EAGAIN;
    }
    type = md_http_media_type(hresp, p);
    if (type && strcmp(type, OCSP_RESPONSE_TYPE)) {
        md_result_printf(result, APR_EINVAL, "OCSP responder %s answered with %s, not %s", url, type,
                         OCSP_RESPONSE_TYPE);
        return APR_EINVAL;
    }
    rv = md_ocsp_resp_verify(presp, &hresp->body, cert, issuer, req, now, result, p);
    if (rv != APR_SUCCESS) md_result_printf(result, rv, "OCSP responder %s: %s", url, md_result_text(result, p));
    return rv;
}

apr_status_t md_crl_fetch(md_data_t **pdata, const char **plast_modified, int *pnot_modified, md_http_t *http,
                          const char *url, const char *if_modified_since, md_result_t *result, apr_pool_t *p)
{
    md_http_request_t hreq = { "GET", url, NULL, NULL, NULL };
    md_http_response_t *hresp = NULL;
    const char *lm;
    apr_status_t rv;

    *pdata = NULL;
    *plast_modified = NULL;
    *pnot_modified = 0;
    if (if_modified_since) {
        hreq.headers = apr_table_make(p, 1);
        apr_table_setn(hreq.headers, "If-Modified-Since", if_modified_since);
    }
    rv = md_http_perform(&hresp, http, &hreq, result, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "CRL %s: %s", url, md_result_text(result, p));
        return rv;
    }
    if (hresp->status == 304 && if_modified_since) {
        *pnot_modified = 1;
        *plast_modified = if_modified_since;
        return APR_SUCCESS;
    }
    if (hresp->status != 200) {
        md_result_printf(result, APR_EAGAIN, "CRL %s: HTTP %d", url, hresp->status);
        return APR_EAGAIN;
    }
    lm = md_http_header(hresp, "Last-Modified");
    *plast_modified = lm ? apr_pstrdup(p, lm) : NULL;
    *pdata = md_data_make(hresp->body.data, hresp->body.len, p);
    return APR_SUCCESS;
}
