/* The scripted fake HTTP backend for ACME unit tests (see fake_http.h for the API). */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "md_acme.h"
#include "md_encode.h"
#include "md_file.h"
#include "md_jws.h"
#include "md_result.h"
#include "fake_http.h"
#include "test_common.h"

typedef struct {
    const char *method;
    const char *url;
    int status;
    const char *headers;
    const char *body;
    apr_status_t error;         /* transport failure when != APR_SUCCESS */
    const char *error_detail;
    fake_http_answer_cb *cb;
    void *baton;
} fake_expect_t;

struct fake_http_t {
    apr_pool_t *p;
    apr_thread_mutex_t *mutex;
    md_http_backend_t backend;
    apr_array_header_t *expects;    /* fake_expect_t */
    int next;                       /* index of the next expectation */
    apr_array_header_t *requests;   /* fake_http_req_t* */
    const char *nonce_url;
    int nonces;
    int nonce_counter;
    const char *last_nonce;
    int lenient;
    const char *failure;            /* first unexpected request, NULL when none */
};

static apr_status_t fake_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                                 const md_http_options_t *opts, md_result_t *result, apr_pool_t *p);

fake_http_t *fake_http_create(apr_pool_t *p)
{
    fake_http_t *fake = apr_pcalloc(p, sizeof(*fake));

    fake->p = p;
    ck_assert_int_eq(apr_thread_mutex_create(&fake->mutex, APR_THREAD_MUTEX_DEFAULT, p), APR_SUCCESS);
    fake->backend.name = "fake";
    fake->backend.perform = fake_perform;
    fake->backend.baton = fake;
    fake->expects = apr_array_make(p, 16, sizeof(fake_expect_t));
    fake->requests = apr_array_make(p, 16, sizeof(fake_http_req_t *));
    fake->nonces = 1;
    return fake;
}

const md_http_backend_t *fake_http_backend(fake_http_t *fake)
{
    return &fake->backend;
}

md_http_t *fake_http_client(fake_http_t *fake, apr_pool_t *p)
{
    md_http_t *http = NULL;

    ck_assert_int_eq(md_http_create(&http, NULL, &fake->backend, p), APR_SUCCESS);
    return http;
}

void fake_http_auto_nonce(fake_http_t *fake, const char *new_nonce_url)
{
    fake->nonce_url = new_nonce_url ? apr_pstrdup(fake->p, new_nonce_url) : NULL;
}

void fake_http_set_nonces(fake_http_t *fake, int on)
{
    fake->nonces = on;
}

void fake_http_lenient(fake_http_t *fake, int on)
{
    fake->lenient = on;
}

static fake_expect_t *add_expect(fake_http_t *fake, const char *method, const char *url)
{
    fake_expect_t *e;

    apr_thread_mutex_lock(fake->mutex);
    e = apr_array_push(fake->expects);
    memset(e, 0, sizeof(*e));
    e->method = apr_pstrdup(fake->p, method);
    e->url = apr_pstrdup(fake->p, url);
    apr_thread_mutex_unlock(fake->mutex);
    return e;
}

void fake_http_expect(fake_http_t *fake, const char *method, const char *url, int status,
                      const char *headers, const char *body)
{
    fake_expect_t *e = add_expect(fake, method, url);

    e->status = status;
    e->headers = headers ? apr_pstrdup(fake->p, headers) : NULL;
    e->body = body ? apr_pstrdup(fake->p, body) : NULL;
}

void fake_http_expect_json(fake_http_t *fake, const char *method, const char *url, int status,
                           const char *headers, const char *body)
{
    fake_http_expect(fake, method, url, status,
                     apr_pstrcat(fake->p, "Content-Type: application/json\n", headers ? headers : "", NULL),
                     body);
}

void fake_http_expect_problem(fake_http_t *fake, const char *method, const char *url, int status,
                              const char *headers, const char *short_type, const char *detail)
{
    md_json_t *json = md_json_create(fake->p);
    const char *type = strchr(short_type, ':') ? short_type
                       : apr_pstrcat(fake->p, MD_ACME_PROBLEM_PREFIX, short_type, NULL);

    md_json_sets(type, json, "type", NULL);
    if (detail) md_json_sets(detail, json, "detail", NULL);
    md_json_setl(status, json, "status", NULL);
    fake_http_expect(fake, method, url, status,
                     apr_pstrcat(fake->p, "Content-Type: application/problem+json\n", headers ? headers : "",
                                 NULL),
                     md_json_writep(json, MD_JSON_FMT_COMPACT, fake->p));
}

void fake_http_expect_error(fake_http_t *fake, const char *method, const char *url, apr_status_t rv,
                            const char *detail)
{
    fake_expect_t *e = add_expect(fake, method, url);

    e->error = rv;
    e->error_detail = detail ? apr_pstrdup(fake->p, detail) : "fake transport error";
}

void fake_http_expect_cb(fake_http_t *fake, const char *method, const char *url,
                         fake_http_answer_cb *cb, void *baton)
{
    fake_expect_t *e = add_expect(fake, method, url);

    e->cb = cb;
    e->baton = baton;
}

/* Parse "Name: value\n..." lines into t. */
static void parse_headers(apr_table_t *t, const char *text, apr_pool_t *p)
{
    char *copy, *line, *state = NULL, *colon, *value;

    if (!text) return;
    copy = apr_pstrdup(p, text);
    for (line = apr_strtok(copy, "\r\n", &state); line; line = apr_strtok(NULL, "\r\n", &state)) {
        colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        value = colon + 1;
        while (*value == ' ' || *value == '\t') ++value;
        apr_table_add(t, line, value);
    }
}

static fake_http_req_t *record(fake_http_t *fake, const md_http_request_t *req)
{
    fake_http_req_t *r = apr_pcalloc(fake->p, sizeof(*r));

    r->method = apr_pstrdup(fake->p, req->method ? req->method : "");
    r->url = apr_pstrdup(fake->p, req->url ? req->url : "");
    r->headers = req->headers ? apr_table_copy(fake->p, req->headers) : NULL;
    r->content_type = req->content_type ? apr_pstrdup(fake->p, req->content_type) : NULL;
    if (req->body && req->body->data) {
        r->body.data = apr_pstrmemdup(fake->p, req->body->data, req->body->len);
        r->body.len = req->body->len;
    }
    APR_ARRAY_PUSH(fake->requests, fake_http_req_t *) = r;
    return r;
}

static void add_nonce(fake_http_t *fake, md_http_response_t *resp)
{
    if (!fake->nonces || apr_table_get(resp->headers, "Replay-Nonce")) return;
    fake->last_nonce = apr_psprintf(fake->p, "nonce-%d", ++fake->nonce_counter);
    apr_table_set(resp->headers, "Replay-Nonce", fake->last_nonce);
}

static int is_nonce_request(fake_http_t *fake, const fake_http_req_t *r)
{
    return fake->nonce_url && !strcmp(r->url, fake->nonce_url)
           && (!strcmp(r->method, "HEAD") || !strcmp(r->method, "GET"));
}

static apr_status_t answer_expect(md_http_response_t *resp, const fake_expect_t *e, const fake_http_req_t *r,
                                  md_result_t *result, apr_pool_t *p)
{
    if (e->cb) return e->cb(e->baton, resp, r, result, p);
    if (e->error != APR_SUCCESS) {
        md_result_set(result, e->error, e->error_detail);
        return e->error;
    }
    resp->status = e->status;
    parse_headers(resp->headers, e->headers, p);
    if (e->body) {
        resp->body.data = apr_pstrdup(p, e->body);
        resp->body.len = strlen(e->body);
    }
    return APR_SUCCESS;
}

static const char *unexpected_msg(fake_http_t *fake, const fake_http_req_t *r, apr_pool_t *p)
{
    const fake_expect_t *e;

    if (fake->next >= fake->expects->nelts) {
        return apr_psprintf(p, "fake_http: unexpected request %s %s (request #%d; no more expected)",
                            r->method, r->url, fake->requests->nelts - 1);
    }
    e = &APR_ARRAY_IDX(fake->expects, fake->next, fake_expect_t);
    return apr_psprintf(p, "fake_http: unexpected request %s %s (request #%d; expected %s %s)",
                        r->method, r->url, fake->requests->nelts - 1, e->method, e->url);
}

static apr_status_t perform_locked(fake_http_t *fake, md_http_response_t *resp, fake_http_req_t *r,
                                   md_result_t *result, apr_pool_t *p)
{
    const fake_expect_t *e;
    const char *msg;
    apr_status_t rv;

    if (is_nonce_request(fake, r)) {
        resp->status = strcmp(r->method, "HEAD") ? 204 : 200;
        apr_table_set(resp->headers, "Cache-Control", "no-store");
        apr_table_set(resp->headers, "Replay-Nonce",
                      apr_psprintf(fake->p, "nonce-%d", ++fake->nonce_counter));
        fake->last_nonce = apr_table_get(resp->headers, "Replay-Nonce");
        r->auto_answered = 1;
        return APR_SUCCESS;
    }
    e = (fake->next < fake->expects->nelts) ? &APR_ARRAY_IDX(fake->expects, fake->next, fake_expect_t) : NULL;
    if (!e || strcmp(e->method, r->method) || strcmp(e->url, r->url)) {
        msg = unexpected_msg(fake, r, fake->p);
        if (!fake->failure) fake->failure = msg;
        md_result_set(result, APR_EGENERAL, msg);
        return APR_EGENERAL;
    }
    fake->next++;
    rv = answer_expect(resp, e, r, result, p);
    if (rv == APR_SUCCESS) add_nonce(fake, resp);
    return rv;
}

static apr_status_t fake_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                                 const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    fake_http_t *fake = baton;
    md_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));
    const char *failure;
    fake_http_req_t *r;
    apr_status_t rv;

    resp->url = apr_pstrdup(p, req->url);
    resp->headers = apr_table_make(p, 8);
    apr_thread_mutex_lock(fake->mutex);
    r = record(fake, req);
    failure = fake->failure;
    rv = perform_locked(fake, resp, r, result, p);
    if (rv == APR_EGENERAL && !failure && fake->failure && !fake->lenient) {
        failure = fake->failure;
        apr_thread_mutex_unlock(fake->mutex);
        ck_abort_msg("%s", failure);
    }
    apr_thread_mutex_unlock(fake->mutex);
    *presp = (rv == APR_SUCCESS) ? resp : NULL;
    return rv;
}

void fake_http_verify(fake_http_t *fake)
{
    const fake_expect_t *e;

    apr_thread_mutex_lock(fake->mutex);
    if (fake->failure) {
        apr_thread_mutex_unlock(fake->mutex);
        ck_abort_msg("%s", fake->failure);
    }
    if (fake->next < fake->expects->nelts) {
        e = &APR_ARRAY_IDX(fake->expects, fake->next, fake_expect_t);
        apr_thread_mutex_unlock(fake->mutex);
        ck_abort_msg("fake_http: %d expected request(s) did not come, the first: %s %s",
                     fake->expects->nelts - fake->next, e->method, e->url);
    }
    apr_thread_mutex_unlock(fake->mutex);
}

int fake_http_pending(fake_http_t *fake)
{
    int n;

    apr_thread_mutex_lock(fake->mutex);
    n = fake->expects->nelts - fake->next;
    apr_thread_mutex_unlock(fake->mutex);
    return n;
}

int fake_http_count(fake_http_t *fake)
{
    int n;

    apr_thread_mutex_lock(fake->mutex);
    n = fake->requests->nelts;
    apr_thread_mutex_unlock(fake->mutex);
    return n;
}

int fake_http_count_method(fake_http_t *fake, const char *method)
{
    int i, n = 0;

    apr_thread_mutex_lock(fake->mutex);
    for (i = 0; i < fake->requests->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(fake->requests, i, fake_http_req_t *)->method, method)) ++n;
    }
    apr_thread_mutex_unlock(fake->mutex);
    return n;
}

const fake_http_req_t *fake_http_request(fake_http_t *fake, int idx)
{
    const fake_http_req_t *r = NULL;

    apr_thread_mutex_lock(fake->mutex);
    if (idx >= 0 && idx < fake->requests->nelts) r = APR_ARRAY_IDX(fake->requests, idx, fake_http_req_t *);
    apr_thread_mutex_unlock(fake->mutex);
    ck_assert_msg(r != NULL, "fake_http: no request #%d (%d recorded)", idx, fake_http_count(fake));
    return r;
}

const fake_http_req_t *fake_http_last(fake_http_t *fake, const char *method)
{
    const fake_http_req_t *r = NULL, *c;
    int i;

    apr_thread_mutex_lock(fake->mutex);
    for (i = fake->requests->nelts - 1; i >= 0 && !r; --i) {
        c = APR_ARRAY_IDX(fake->requests, i, fake_http_req_t *);
        if (!method || !strcmp(c->method, method)) r = c;
    }
    apr_thread_mutex_unlock(fake->mutex);
    ck_assert_msg(r != NULL, "fake_http: no %s request recorded", method ? method : "");
    return r;
}

const char *fake_http_last_nonce(fake_http_t *fake)
{
    const char *n;

    apr_thread_mutex_lock(fake->mutex);
    n = fake->last_nonce;
    apr_thread_mutex_unlock(fake->mutex);
    return n;
}

/* Decode one base64url part of a JWS as JSON; NULL for an empty part. */
static md_json_t *decode_part(const char *b64, const char *what, apr_pool_t *p)
{
    unsigned char *data;
    apr_size_t len;
    md_json_t *json = NULL;

    ck_assert_msg(b64 != NULL, "fake_http: JWS has no %s", what);
    ck_assert_msg(md_b64url_decode(&data, &len, b64, p) == APR_SUCCESS, "fake_http: JWS %s is not base64url",
                  what);
    if (len == 0) return NULL;
    ck_assert_msg(md_json_readd(&json, (const char *)data, len, what, NULL, p) == APR_SUCCESS,
                  "fake_http: JWS %s is not JSON: %s", what, (const char *)data);
    return json;
}

md_json_t *fake_http_jws(fake_http_t *fake, int idx, apr_pool_t *p)
{
    const fake_http_req_t *r = fake_http_request(fake, idx);
    md_json_t *msg = NULL;

    ck_assert_msg(r->body.data != NULL, "fake_http: request #%d (%s %s) has no body", idx, r->method, r->url);
    ck_assert_msg(md_json_readd(&msg, r->body.data, r->body.len, "request", NULL, p) == APR_SUCCESS,
                  "fake_http: request #%d body is not JSON: %s", idx, r->body.data);
    return msg;
}

md_json_t *fake_http_msg_protected(const md_json_t *msg, apr_pool_t *p)
{
    md_json_t *prot = decode_part(md_json_gets(msg, "protected", NULL), "protected header", p);

    ck_assert_msg(prot != NULL, "fake_http: JWS protected header is empty");
    return prot;
}

md_json_t *fake_http_jws_protected(fake_http_t *fake, int idx, apr_pool_t *p)
{
    return fake_http_msg_protected(fake_http_jws(fake, idx, p), p);
}

md_json_t *fake_http_jws_payload(fake_http_t *fake, int idx, apr_pool_t *p)
{
    return decode_part(md_json_gets(fake_http_jws(fake, idx, p), "payload", NULL), "payload", p);
}

md_json_t *fake_http_msg_verify(const md_json_t *msg, const md_pkey_t *key, const md_data_t *hmac,
                                apr_pool_t *p)
{
    md_data_t *payload = NULL;
    md_json_t *json = NULL;

    ck_assert_msg(md_jws_verify(&payload, msg, key, hmac, p) == APR_SUCCESS,
                  "fake_http: JWS signature does not verify: %s", md_json_writep(msg, MD_JSON_FMT_COMPACT, p));
    if (!payload || payload->len == 0) return NULL;
    ck_assert_msg(md_json_readd(&json, payload->data, payload->len, "payload", NULL, p) == APR_SUCCESS,
                  "fake_http: JWS payload is not JSON");
    return json;
}

md_json_t *fake_http_jws_verify(fake_http_t *fake, int idx, const md_pkey_t *key, apr_pool_t *p)
{
    return fake_http_msg_verify(fake_http_jws(fake, idx, p), key, NULL, p);
}

const char *fake_http_data(const char *name, apr_pool_t *p)
{
    const char *path = md_test_data(apr_pstrcat(p, "acme/", name, NULL), p);
    char *data = NULL;
    apr_size_t len;

    ck_assert_msg(md_file_read(&data, &len, path, p) == APR_SUCCESS, "fake_http: cannot read %s", path);
    return data;
}
