/* The libcurl backend of the HTTP client: libcurl loaded at the first request, one easy handle per thread, reused
 * (its connections to the CA, TLS sessions and loaded CA store too), no redirects, bounded bodies. */
#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <curl/curl.h>
#include <apr_strings.h>

#include "md_http.h"
#include "md_http_curl_lib.h"
#include "md_result.h"

typedef struct {
    apr_pool_t *p;
    md_http_response_t *resp;
    char *buf;
    apr_size_t len, cap, max;
    int too_large;
} curl_ctx_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t curl_key;      /* the calling thread's easy handle, cleaned up when the thread ends */
static int curl_key_ok;
static md_curl_lib_t curl;          /* libcurl's functions, set once (curl_init_once) */
static const char *curl_problem;    /* why libcurl could not be loaded, or NULL */
static char curl_problem_buf[512];

static void thread_handle_free(void *handle)
{
    curl.easy_cleanup(handle);
}

static void curl_init_once(void)
{
    curl_problem = md_curl_lib_load(&curl, MD_CURL_LIBRARY, curl_problem_buf, sizeof(curl_problem_buf));
    if (curl_problem) return;
    curl.global_init(CURL_GLOBAL_DEFAULT);
    curl_key_ok = pthread_key_create(&curl_key, thread_handle_free) == 0;
}

/* This thread's handle, reset to no options. Reusing it keeps the open connection to the CA (one TCP and TLS
 * handshake for a whole drive instead of one per request) and the parsed CA file. *pown: the caller must
 * clean it up (when there is no thread key). */
static CURL *thread_handle(int *pown)
{
    CURL *h = curl_key_ok ? pthread_getspecific(curl_key) : NULL;

    *pown = 0;
    if (h) {
        curl.easy_reset(h);
        return h;
    }
    h = curl.easy_init();
    if (h && (!curl_key_ok || pthread_setspecific(curl_key, h) != 0)) *pown = 1;
    return h;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    curl_ctx_t *ctx = baton;
    apr_size_t n = size * nmemb;
    char *bigger;

    if (ctx->len + n > ctx->max) {
        ctx->too_large = 1;
        return 0;     /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (ctx->len + n + 1 > ctx->cap) {
        ctx->cap = (ctx->len + n + 1) * 2;
        bigger = apr_palloc(ctx->p, ctx->cap);
        if (ctx->len) memcpy(bigger, ctx->buf, ctx->len);
        ctx->buf = bigger;
    }
    memcpy(ctx->buf + ctx->len, data, n);
    ctx->len += n;
    return n;
}

/* Header lines arrive one at a time; a status line starts a new response (e.g. after a 100). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
    curl_ctx_t *ctx = baton;
    apr_size_t n = size * nmemb;
    char *line = apr_pstrndup(ctx->p, data, n), *colon, *value, *end;

    if (!strncmp(line, "HTTP/", 5)) {
        apr_table_clear(ctx->resp->headers);
        return n;
    }
    colon = strchr(line, ':');
    if (!colon) return n;
    *colon = '\0';
    for (value = colon + 1; isspace((unsigned char)*value); ++value) ;
    for (end = value + strlen(value); end > value && isspace((unsigned char)end[-1]); --end) ;
    *end = '\0';
    apr_table_add(ctx->resp->headers, line, value);
    return n;
}

static apr_status_t curl_status(CURLcode code)
{
    switch (code) {
    case CURLE_OK: return APR_SUCCESS;
    case CURLE_OPERATION_TIMEDOUT: return APR_TIMEUP;
    case CURLE_COULDNT_CONNECT: return APR_ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return APR_EHOSTUNREACH;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return APR_EINVAL;
    default: return APR_EGENERAL;
    }
}

static struct curl_slist *request_headers(const md_http_request_t *req, apr_pool_t *p)
{
    struct curl_slist *list = curl.slist_append(NULL, "Expect:");
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    int i;

    if (req->content_type) {
        list = curl.slist_append(list, apr_pstrcat(p, "Content-Type: ", req->content_type, NULL));
    }
    if (req->headers) {
        arr = apr_table_elts(req->headers);
        e = (const apr_table_entry_t *)arr->elts;
        for (i = 0; i < arr->nelts; ++i) {
            list = curl.slist_append(list, apr_pstrcat(p, e[i].key, ": ", e[i].val, NULL));
        }
    }
    return list;
}

static void set_options(CURL *h, const md_http_request_t *req, const md_http_options_t *opts,
                        curl_ctx_t *ctx, char *errbuf)
{
    curl.easy_setopt(h, CURLOPT_URL, req->url);
    curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl.easy_setopt(h, CURLOPT_USERAGENT, opts->user_agent);
    curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)apr_time_as_msec(opts->connect_timeout));
    curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)apr_time_as_msec(opts->timeout));
    curl.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl.easy_setopt(h, CURLOPT_WRITEDATA, ctx);
    curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl.easy_setopt(h, CURLOPT_HEADERDATA, ctx);
    if (opts->ca_file) curl.easy_setopt(h, CURLOPT_CAINFO, opts->ca_file);
    if (opts->proxy_url) curl.easy_setopt(h, CURLOPT_PROXY, opts->proxy_url);
    if (opts->proxy_ca_file) curl.easy_setopt(h, CURLOPT_PROXY_CAINFO, opts->proxy_ca_file);
    if (!strcmp(req->method, "HEAD")) {
        curl.easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
    else if (!strcmp(req->method, "POST")) {
        curl.easy_setopt(h, CURLOPT_POST, 1L);
        curl.easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body->data : "");
        curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body->len : 0));
    }
    else if (strcmp(req->method, "GET")) {
        curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
}

static apr_status_t curl_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                                 const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_ctx_t ctx;
    struct curl_slist *headers;
    CURL *h;
    CURLcode code;
    long status = 0;
    apr_status_t rv;
    int own;

    (void)baton;
    pthread_once(&curl_once, curl_init_once);
    if (curl_problem) {
        md_result_printf(result, APR_ENOTIMPL, "%s %s: %s", req->method, req->url, curl_problem);
        return APR_ENOTIMPL;
    }
    h = thread_handle(&own);
    if (!h) {
        md_result_set(result, APR_ENOMEM, "libcurl: cannot create a handle");
        return APR_ENOMEM;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.p = p;
    ctx.max = opts->max_body;
    ctx.resp = apr_pcalloc(p, sizeof(*ctx.resp));
    ctx.resp->url = apr_pstrdup(p, req->url);
    ctx.resp->headers = apr_table_make(p, 10);
    headers = request_headers(req, p);
    set_options(h, req, opts, &ctx, errbuf);
    curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    code = curl.easy_perform(h);
    curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl.easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl.slist_free_all(headers);
    if (own) curl.easy_cleanup(h);

    if (ctx.too_large) {
        md_result_printf(result, APR_EINVAL, "%s %s: response body larger than %lu bytes, refused",
                         req->method, req->url, (unsigned long)opts->max_body);
        return APR_EINVAL;
    }
    rv = curl_status(code);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "%s %s: %s", req->method, req->url,
                         errbuf[0] ? errbuf : curl.easy_strerror(code));
        if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
            md_result_hint_set(result, MD_HINT_CA_FILE);
        }
        return rv;
    }
    ctx.resp->status = (int)status;
    ctx.resp->body.data = ctx.buf ? ctx.buf : "";
    ctx.resp->body.len = ctx.len;
    if (ctx.buf) ctx.buf[ctx.len] = '\0';
    *presp = ctx.resp;
    return APR_SUCCESS;
}

static const md_http_backend_t curl_backend = { "libcurl", curl_perform, NULL };

const md_http_backend_t *md_http_curl_backend(void)
{
    return &curl_backend;
}
