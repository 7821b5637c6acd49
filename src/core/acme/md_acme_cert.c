/* ACME certificate download: the PEM chain, its alternates (Link rel="alternate"), the preferred chain. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_result.h"

#define PEM_CHAIN_TYPE "application/pem-certificate-chain"

apr_status_t md_acme_cert_fetch(apr_array_header_t **pchain, apr_array_header_t **palternates,
                                md_acme_t *acme, const char *url, md_result_t *result, apr_pool_t *p)
{
    md_acme_req_opts_t opts;
    md_http_response_t *resp;
    const char *err = NULL, *type;
    apr_status_t rv;

    *pchain = NULL;
    if (palternates) *palternates = NULL;
    memset(&opts, 0, sizeof(opts));
    opts.accept = PEM_CHAIN_TYPE;
    rv = md_acme_post(&resp, acme, url, NULL, &opts, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_cert_chain_from_pem(pchain, resp->body.data, resp->body.len, &err, p);
    if (rv != APR_SUCCESS) {
        rv = APR_EINVAL;
        type = md_http_media_type(resp, p);
        md_result_printf(result, rv, "the certificate at %s is not a PEM certificate chain "
                         "(%s, %" APR_SIZE_T_FMT " bytes): %s", url, type ? type : "no content type",
                         resp->body.len, err ? err : "no certificate found");
        goto leave;
    }
    if (palternates) *palternates = md_http_links(resp, "alternate", p);
leave:
    return rv;
}

static int contains_nocase(const char *haystack, const char *needle)
{
    return haystack && strcasestr(haystack, needle) != NULL;
}

/* True when the topmost certificate of chain was issued by (or is) the preferred one. */
static int chain_top_matches(const apr_array_header_t *chain, const char *preferred, apr_pool_t *p)
{
    const md_cert_t *top;

    if (!chain || chain->nelts == 0) return 0;
    top = APR_ARRAY_IDX(chain, chain->nelts - 1, const md_cert_t *);
    return contains_nocase(md_cert_get_issuer(top, p), preferred)
           || contains_nocase(md_cert_get_subject(top, p), preferred);
}

apr_status_t md_acme_cert_fetch_preferred(apr_array_header_t **pchain, md_acme_t *acme, const char *url,
                                          const char *preferred_issuer, md_result_t *result,
                                          apr_pool_t *p)
{
    apr_array_header_t *chain, *alternates, *alt_chain;
    md_result_t *alt_result;
    apr_status_t rv;
    int i;

    *pchain = NULL;
    rv = md_acme_cert_fetch(&chain, &alternates, acme, url, result, p);
    if (rv != APR_SUCCESS) goto leave;
    *pchain = chain;
    if (!preferred_issuer || !*preferred_issuer || chain_top_matches(chain, preferred_issuer, p)) goto leave;
    /* An alternate that cannot be fetched is passed over: the default chain is good to use. */
    alt_result = md_result_make(p);
    for (i = 0; i < alternates->nelts; ++i) {
        md_result_reset(alt_result);
        if (md_acme_cert_fetch(&alt_chain, NULL, acme, APR_ARRAY_IDX(alternates, i, const char *),
                               alt_result, p) != APR_SUCCESS) {
            continue;
        }
        if (chain_top_matches(alt_chain, preferred_issuer, p)) {
            *pchain = alt_chain;
            break;
        }
    }
leave:
    return rv;
}
