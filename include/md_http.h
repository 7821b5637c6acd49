/* HTTP client: an injected backend interface (libcurl by default, a fake in tests) with CA file, proxy,
 * timeouts and the mdomain User-Agent. Bodies are plain {data, len}. */
#ifndef MD_HTTP_H
#define MD_HTTP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_data.h"

struct md_result_t;

typedef struct md_http_request_t {
    const char *method;         /* "GET", "HEAD", "POST" */
    const char *url;
    apr_table_t *headers;       /* extra request headers, may be NULL */
    const md_data_t *body;      /* POST body, may be NULL */
    const char *content_type;   /* of the body, may be NULL */
} md_http_request_t;

typedef struct md_http_response_t {
    const char *url;            /* the URL requested */
    int status;                 /* HTTP status code */
    apr_table_t *headers;       /* response headers; names compare case-insensitively */
    md_data_t body;
} md_http_response_t;

typedef struct md_http_options_t {
    const char *ca_file;        /* PEM roots trusted for https, NULL for the system's */
    const char *proxy_url;      /* HTTP proxy, NULL for none */
    const char *proxy_ca_file;  /* roots for an https proxy, NULL for the system's */
    apr_interval_time_t connect_timeout;   /* 0: 30s */
    apr_interval_time_t timeout;           /* whole request, 0: 60s */
    apr_size_t max_body;        /* refuse larger responses, 0: 2 MiB */
    const char *user_agent;     /* NULL: "mdomain/<version>" */
} md_http_options_t;

/* A backend performs one request. On transport failure it returns an APR error and says why in result. */
typedef struct md_http_backend_t {
    const char *name;
    apr_status_t (*perform)(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                            const md_http_options_t *opts, struct md_result_t *result, apr_pool_t *p);
    void *baton;
} md_http_backend_t;

typedef struct md_http_t md_http_t;

/* A client with the libcurl backend (backend NULL) or the given one. The options are copied. */
apr_status_t md_http_create(md_http_t **phttp, const md_http_options_t *opts,
                            const md_http_backend_t *backend, apr_pool_t *p);
const md_http_options_t *md_http_get_options(const md_http_t *http);
/* The default User-Agent: "mdomain/<version>". */
const char *md_http_user_agent(void);

apr_status_t md_http_perform(md_http_response_t **presp, md_http_t *http, const md_http_request_t *req,
                             struct md_result_t *result, apr_pool_t *p);
apr_status_t md_http_get(md_http_response_t **presp, md_http_t *http, const char *url,
                         struct md_result_t *result, apr_pool_t *p);
apr_status_t md_http_head(md_http_response_t **presp, md_http_t *http, const char *url,
                          struct md_result_t *result, apr_pool_t *p);
apr_status_t md_http_post(md_http_response_t **presp, md_http_t *http, const char *url,
                          const char *content_type, const md_data_t *body,
                          struct md_result_t *result, apr_pool_t *p);

/* The libcurl backend (also what md_http_create uses by default). */
const md_http_backend_t *md_http_curl_backend(void);

/* Response helpers: a header's value (case-insensitive) or NULL; the media type of Content-Type without
 * parameters, lowercased; the links of the Link headers with the given rel (array of const char*,
 * resolved against base_url when relative). */
const char *md_http_header(const md_http_response_t *resp, const char *name);
const char *md_http_media_type(const md_http_response_t *resp, apr_pool_t *p);
apr_array_header_t *md_http_links(const md_http_response_t *resp, const char *rel, apr_pool_t *p);
/* Retry-After as an absolute time (seconds or HTTP date, relative to now); 0 when absent or invalid. At most
 * MD_HTTP_RETRY_AFTER_MAX after now: a CA has no reason to ask for more, and a broken answer must not stop
 * renewals for longer (nor overflow: "Retry-After: 9223372036853"). */
#define MD_HTTP_RETRY_AFTER_MAX apr_time_from_sec(30 * 86400)
apr_time_t md_http_retry_after(const md_http_response_t *resp, apr_time_t now);

#endif
