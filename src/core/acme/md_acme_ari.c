/* ACME Renewal Information (RFC 9773): fetch the suggested renewal window and pick a time in it. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_clock.h"
#include "md_result.h"
#include "md_time.h"

/* The renewalInfo URL for cert_id: the directory's base, a '/', the id. */
static const char *ari_url(const char *base, const char *cert_id, apr_pool_t *p)
{
    apr_size_t len = strlen(base);

    if (len > 0 && base[len - 1] == '/') return apr_pstrcat(p, base, cert_id, NULL);
    return apr_pstrcat(p, base, "/", cert_id, NULL);
}

static apr_status_t ari_from_json(md_acme_ari_t *ari, const md_json_t *json, const char *url,
                                  md_result_t *result, apr_pool_t *p)
{
    const char *start = md_json_gets(json, "suggestedWindow", "start", NULL);
    const char *end = md_json_gets(json, "suggestedWindow", "end", NULL);

    if (!start || !end || md_time_parse_rfc3339(&ari->start, start) != APR_SUCCESS
        || md_time_parse_rfc3339(&ari->end, end) != APR_SUCCESS) {
        md_result_printf(result, APR_EINVAL, "the renewal information at %s has no valid suggestedWindow "
                         "(start: %s, end: %s)", url, start ? start : "missing", end ? end : "missing");
        return APR_EINVAL;
    }
    if (ari->end <= ari->start) {
        md_result_printf(result, APR_EINVAL, "the renewal information at %s has a suggestedWindow that "
                         "ends (%s) before it starts (%s)", url, end, start);
        return APR_EINVAL;
    }
    ari->explanation_url = md_json_dups(p, json, "explanationURL", NULL);
    return APR_SUCCESS;
}

apr_status_t md_acme_ari_get(md_acme_ari_t **pari, md_acme_t *acme, const char *cert_id,
                             md_result_t *result, apr_pool_t *p)
{
    md_acme_ari_t *ari;
    md_http_response_t *resp;
    md_json_t *json;
    const char *base, *url;
    apr_status_t rv;

    *pari = NULL;
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) goto leave;
    base = md_acme_resource(acme, "renewalInfo");
    if (!base) {
        rv = APR_ENOTIMPL;
        md_result_printf(result, rv, "the CA at %s offers no renewal information (no renewalInfo in its "
                         "directory)", md_acme_url(acme));
        goto leave;
    }
    url = ari_url(base, cert_id, p);
    rv = md_acme_get_json(&json, &resp, acme, url, result, p);
    if (rv != APR_SUCCESS) goto leave;
    ari = apr_pcalloc(p, sizeof(*ari));
    rv = ari_from_json(ari, json, url, result, p);
    if (rv != APR_SUCCESS) goto leave;
    ari->retry_after = md_http_retry_after(resp, md_clock_now(md_acme_clock(acme)));
    *pari = ari;
leave:
    return rv;
}

apr_time_t md_acme_ari_pick(const md_acme_ari_t *ari, apr_time_t now, double rand01)
{
    apr_time_t t;

    if (ari->end <= now) return now;
    if (!(rand01 > 0.0)) rand01 = 0.0;    /* also NaN */
    if (rand01 > 1.0) rand01 = 1.0;
    t = ari->start + (apr_time_t)(rand01 * (double)(ari->end - ari->start) + 0.5);
    if (t > ari->end) t = ari->end;
    /* RFC 9773 4.2: a picked time in the past means renewing right away. */
    return t < now ? now : t;
}
