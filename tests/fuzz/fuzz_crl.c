/* Fuzz target: CRLs (DER or PEM, as a CRL distribution point serves them and the store caches them), verified
 * against an issuer and searched for a certificate's serial. */
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_ocsp.h"
#include "md_result.h"
#include "fuzz.h"

#define HOUR apr_time_from_sec(3600)

/* Input: one byte (bits 0-2: hours after the certificate's notBefore that count as now), the certificate and its
 * issuer in PEM, a line "--", the CRL. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    unsigned int mode = fz_byte(&in);
    md_result_t *result = md_result_make(p);
    md_crl_t *crl = NULL, *again = NULL;
    md_crl_check_t check;
    const md_cert_t *cert, *issuer;
    const char *body, *out = NULL;
    size_t len = 0;
    md_data_t d;
    apr_time_t now;
    apr_status_t rv;

    if (!fz_cert_and_issuer(&in, &cert, &issuer, p) || !(body = fz_part(&in, &len, p))) goto leave;
    now = md_cert_get_not_before(cert) + (apr_time_t)(mode & 7) * HOUR;
    d.data = body;
    d.len = len;
    rv = md_crl_parse(&crl, &d, result, p);
    if (rv != APR_SUCCESS) {
        FZ_CHECK(!crl && result->detail);
        goto leave;
    }
    FZ_CHECK(md_crl_count(crl) >= 0);
    (void)md_crl_this_update(crl);
    (void)md_crl_next_update(crl);
    /* cached as PEM and read back: the same entries */
    FZ_CHECK(md_crl_to_pem(&out, crl, p) == APR_SUCCESS);
    d.data = out;
    d.len = strlen(out);
    FZ_CHECK(md_crl_parse(&again, &d, result, p) == APR_SUCCESS);
    FZ_CHECK(md_crl_count(again) == md_crl_count(crl));
    rv = md_crl_check(&check, crl, cert, issuer, now, result, p);
    if (rv == APR_SUCCESS) {
        FZ_CHECK(check.status == MD_OCSP_GOOD || check.status == MD_OCSP_REVOKED);
        if (check.status == MD_OCSP_GOOD) FZ_CHECK(!check.next_update || check.next_update >= now);
    }
    else {
        FZ_CHECK(rv == APR_EINVAL && result->detail);
    }
leave:
    apr_pool_destroy(p);
    return 0;
}
