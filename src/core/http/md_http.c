/* HTTP client front: options, backend dispatch, and response helpers (headers, links, Retry-After). */
#include <ctype.h>
#include <string.h>
#include <apr_strings.h>

#include "md_http.h"
#include "md_result.h"
#include "md_time.h"

struct md_http_t {
    apr_pool_t *p;
    md_http_options_t opts;
    md_http_backend_t backend;
};

const char *md_http_user_agent(void)
{
    return "mdomain/" MD_VERSION;
}

static const char *dup_or_null(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

apr_status_t md_http_create(md_http_t **phttp, const md_http_options_t *opts,
                            const md_http_backend_t *backend, apr_pool_t *p)
{
    md_http_t *http = apr_pcalloc(p, sizeof(*http));

    http->p = p;
    if (opts) http->opts = *opts;
    http->opts.ca_file = dup_or_null(p, http->opts.ca_file);
    http->opts.proxy_url = dup_or_null(p, http->opts.proxy_url);
    http->opts.proxy_ca_file = dup_or_null(p, http->opts.proxy_ca_file);
    http->opts.user_agent = http->opts.user_agent ? apr_pstrdup(p, http->opts.user_agent)
                                                  : md_http_user_agent();
    if (!http->opts.connect_timeout) http->opts.connect_timeout = apr_time_from_sec(30);
    if (!http->opts.timeout) http->opts.timeout = apr_time_from_sec(60);
    if (!http->opts.max_body) http->opts.max_body = 2 * 1024 * 1024;
    http->backend = backend ? *backend : *md_http_curl_backend();
    *phttp = http;
    return APR_SUCCESS;
}

const md_http_options_t *md_http_get_options(const md_http_t *http)
{
    return &http->opts;
}

apr_status_t md_http_perform(md_http_response_t **presp, md_http_t *http, const md_http_request_t *req,
                             md_result_t *result, apr_pool_t *p)
{
    *presp = NULL;
    if (!req->url || (strncasecmp(req->url, "http://", 7) && strncasecmp(req->url, "https://", 8))) {
        md_result_printf(result, APR_EINVAL, "not an http(s) URL: '%s'", req->url ? req->url : "");
        return APR_EINVAL;
    }
    return http->backend.perform(http->backend.baton, presp, req, &http->opts, result, p);
}

apr_status_t md_http_get(md_http_response_t **presp, md_http_t *http, const char *url,
                         md_result_t *result, apr_pool_t *p)
{
    md_http_request_t req = { "GET", url, NULL, NULL, NULL };

    return md_http_perform(presp, http, &req, result, p);
}

apr_status_t md_http_head(md_http_response_t **presp, md_http_t *http, const char *url,
                          md_result_t *result, apr_pool_t *p)
{
    md_http_request_t req = { "HEAD", url, NULL, NULL, NULL };

    return md_http_perform(presp, http, &req, result, p);
}

apr_status_t md_http_post(md_http_response_t **presp, md_http_t *http, const char *url,
                          const char *content_type, const md_data_t *body,
                          md_result_t *result, apr_pool_t *p)
{
    md_http_request_t req = { "POST", url, NULL, body, content_type };

    return md_http_perform(presp, http, &req, result, p);
}

const char *md_http_header(const md_http_response_t *resp, const char *name)
{
    return resp->headers ? apr_table_get(resp->headers, name) : NULL;
}

const char *md_http_media_type(const md_http_response_t *resp, apr_pool_t *p)
{
    const char *ct = md_http_header(resp, "Content-Type");
    char *type, *c;

    if (!ct) return NULL;
    type = apr_pstrdup(p, ct);
    c = strchr(type, ';');
    if (c) *c = '\0';
    apr_collapse_spaces(type, type);
    for (c = type; *c; ++c) *c = (char)tolower((unsigned char)*c);
    return type;
}

apr_time_t md_http_retry_after(const md_http_response_t *resp, apr_time_t now)
{
    const char *value = md_http_header(resp, "Retry-After");
    apr_interval_time_t delay;
    apr_time_t when;

    if (!value) return 0;
    while (isspace((unsigned char)*value)) ++value;
    if (isdigit((unsigned char)*value)) {
        if (md_duration_parse(&delay, value, "s") != APR_SUCCESS) return 0;
        /* compared before adding: now + 9223372036853 seconds overflowed */
        return delay > MD_HTTP_RETRY_AFTER_MAX ? now + MD_HTTP_RETRY_AFTER_MAX : now + delay;
    }
    if (md_time_parse_http(&when, value) != APR_SUCCESS) return 0;
    return (when > now && when - now > MD_HTTP_RETRY_AFTER_MAX) ? now + MD_HTTP_RETRY_AFTER_MAX : when;
}
