/* ACME certificate revocation (RFC 8555 7.6): reasons, signed by the account or by the certificate's key. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_encode.h"
#include "md_result.h"

static const struct {
    const char *name;
    int code;
} reasons[] = {
    { "unspecified", 0 }, { "keyCompromise", 1 }, { "cACompromise", 2 }, { "affiliationChanged", 3 },
    { "superseded", 4 }, { "cessationOfOperation", 5 }, { "certificateHold", 6 }, { "removeFromCRL", 8 },
    { "privilegeWithdrawn", 9 }, { "aACompromise", 10 },
};

int md_acme_revoke_reason_parse(const char *s)
{
    apr_size_t i;
    char *end;
    long n;

    if (!s || !*s) return -1;
    if (isdigit((unsigned char)s[0])) {
        n = strtol(s, &end, 10);
        if (*end || n < 0 || n > 10 || n == 7) return -1;    /* 7 is not used in RFC 5280 */
        return (int)n;
    }
    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); ++i) {
        if (!strcasecmp(s, reasons[i].name)) return reasons[i].code;
    }
    return -1;
}

apr_status_t md_acme_revoke(md_acme_t *acme, const md_cert_t *cert, int reason, md_pkey_t *cert_key,
                            md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p);
    md_acme_req_opts_t opts;
    md_http_response_t *resp;
    md_data_t *der;
    const char *url;
    apr_status_t rv;

    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) goto leave;
    url = md_acme_resource(acme, "revokeCert");
    if (!url) {
        rv = APR_ENOTIMPL;
        md_result_printf(result, rv, "the CA at %s has no revokeCert in its directory", md_acme_url(acme));
        goto leave;
    }
    rv = md_cert_to_der(&der, cert, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_json_sets(md_b64url_encode(der->data, der->len, p), payload, "certificate", NULL);
    if (rv == APR_SUCCESS && reason >= 0) rv = md_json_setl(reason, payload, "reason", NULL);
    if (rv != APR_SUCCESS) goto leave;
    memset(&opts, 0, sizeof(opts));
    if (cert_key) {
        opts.use_jwk = 1;
        opts.key = cert_key;
    }
    rv = md_acme_post(&resp, acme, url, payload, &opts, result, p);
leave:
    return rv;
}
