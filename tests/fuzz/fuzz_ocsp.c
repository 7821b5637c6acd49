/* Fuzz target: OCSP responses verified for a certificate (as the watchdog and the CLI fetch them and the store
 * keeps them), and the store's ocsp-ID.json records. */
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_json.h"
#include "md_ocsp.h"
#include "md_result.h"
#include "fuzz.h"

#define HOUR apr_time_from_sec(3600)

/* Input: one byte (bit 0 clear: a response, bit 0 set: a record's JSON; bits 1-3: hours after the certificate's
 * notBefore that count as now), the certificate and its issuer in PEM, a line "--", the data. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    unsigned int mode = fz_byte(&in);
    md_result_t *result = md_result_make(p);
    md_ocsp_resp_t *resp = NULL;
    md_ocsp_record_t *rec = NULL;
    md_ocsp_crl_record_t *crec = NULL;
    md_json_t *json = NULL;
    const md_cert_t *cert, *issuer;
    const char *body;
    size_t len = 0;
    md_data_t der;
    apr_time_t now;
    apr_status_t rv;

    if (!fz_cert_and_issuer(&in, &cert, &issuer, p) || !(body = fz_part(&in, &len, p))) goto leave;
    now = md_cert_get_not_before(cert) + (apr_time_t)((mode >> 1) & 7) * HOUR;
    if (mode & 1) {
        if (md_json_readd(&json, body, len, "fuzz", NULL, p) != APR_SUCCESS) goto leave;
        if (md_ocsp_record_from_json(&rec, json, p) == APR_SUCCESS) {
            FZ_CHECK(rec->der.len > 0);
            rv = md_ocsp_resp_verify(&resp, &rec->der, cert, issuer, NULL, now, result, p);
            FZ_CHECK(rv == APR_SUCCESS ? resp != NULL : resp == NULL && result->detail != NULL);
        }
        if (md_ocsp_crl_record_from_json(&crec, json, p) == APR_SUCCESS) {
            FZ_CHECK(crec->status >= MD_OCSP_UNKNOWN && crec->status <= MD_OCSP_REVOKED);
        }
        goto leave;
    }
    der.data = body;
    der.len = len;
    rv = md_ocsp_resp_verify(&resp, &der, cert, issuer, NULL, now, result, p);
    if (rv != APR_SUCCESS) {
        FZ_CHECK(!resp && result->detail && (rv == APR_EINVAL || rv == APR_EAGAIN));
        goto leave;
    }
    FZ_CHECK(resp->der.len == len && !memcmp(resp->der.data, body, len));
    FZ_CHECK(resp->this_update > 0 && resp->this_update <= now + MD_OCSP_LEEWAY && resp->valid_until > now);
    FZ_CHECK(resp->status >= MD_OCSP_UNKNOWN && resp->status <= MD_OCSP_REVOKED);
    FZ_CHECK(md_ocsp_renew_at(NULL, resp->this_update, resp->valid_until) == resp->valid_until);
leave:
    apr_pool_destroy(p);
    return 0;
}
