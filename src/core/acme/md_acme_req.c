/* ACME requests: signed POST (JWS with nonce and url) with badNonce retry, JSON answers, problem documents. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_jws.h"
#include "md_result.h"
#include "md_acme_int.h"
#include "md_clock.h"

#define MD_ACME_EXCERPT 160   /* characters of a non-JSON error body quoted in the detail */

static const struct {
    const char *type;
    apr_status_t status;
} problem_statuses[] = {
    { "badNonce", APR_EAGAIN },
    { "rateLimited", APR_EAGAIN },
    { "unauthorized", APR_EACCES },
    { "userActionRequired", APR_EACCES },
    { "accountDoesNotExist", APR_ENOENT },
    { "malformed", APR_EINVAL },
    { "badCSR", APR_EINVAL },
    { "badPublicKey", APR_EINVAL },
    { "badSignatureAlgorithm", APR_EINVAL },
    { "rejectedIdentifier", APR_EINVAL },
    { "unsupportedIdentifier", APR_EINVAL },
    { "invalidProfile", APR_EINVAL },
    { "externalAccountRequired", APR_EINVAL },
};

/* The short name of an ACME problem type, NULL when type is not one. */
static const char *problem_short(const char *type)
{
    size_t plen = strlen(MD_ACME_PROBLEM_PREFIX);

    if (!type) return NULL;
    if (!strncmp(type, MD_ACME_PROBLEM_PREFIX, plen)) return type + plen;
    return strchr(type, ':') ? NULL : type;
}

apr_status_t md_acme_problem_status(const char *type)
{
    const char *name = problem_short(type);
    size_t i;

    if (!name) return APR_EGENERAL;
    for (i = 0; i < sizeof(problem_statuses) / sizeof(problem_statuses[0]); ++i) {
        if (!strcmp(name, problem_statuses[i].type)) return problem_statuses[i].status;
    }
    return APR_EGENERAL;
}

static apr_status_t http_status_rv(int status)
{
    switch (status) {
    case 400: return APR_EINVAL;
    case 401: case 403: return APR_EACCES;
    case 404: return APR_ENOENT;
    case 429: case 503: return APR_EAGAIN;
    default: return APR_EGENERAL;
    }
}

/* The start of the body as one printable line (whitespace runs collapsed), "" for none. */
static const char *body_excerpt(const md_http_response_t *resp, apr_pool_t *p)
{
    apr_size_t i, n = 0, len = resp->body.len < MD_ACME_EXCERPT ? resp->body.len : MD_ACME_EXCERPT;
    char *s;
    int space = 1;

    if (!resp->body.data || !len) return "";
    s = apr_palloc(p, len + 1);
    for (i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)resp->body.data[i];
        if (isprint(c) && c != ' ') {
            s[n++] = (char)c;
            space = 0;
        }
        else if (!space) {
            s[n++] = ' ';
            space = 1;
        }
    }
    while (n > 0 && s[n - 1] == ' ') --n;
    s[n] = '\0';
    return apr_pstrcat(p, ": '", s, resp->body.len > len ? "...'" : "'", NULL);
}

/* The body as a JSON object when it looks like one, else NULL. */
static md_json_t *body_object(const md_http_response_t *resp, apr_pool_t *p)
{
    md_json_t *json = NULL;
    apr_size_t i = 0;

    if (!resp->body.data) return NULL;
    while (i < resp->body.len && isspace((unsigned char)resp->body.data[i])) ++i;
    if (i == resp->body.len || resp->body.data[i] != '{') return NULL;
    if (md_json_readd(&json, resp->body.data, resp->body.len, resp->url, NULL, p) != APR_SUCCESS) return NULL;
    return md_json_type(json) == MD_JSON_TYPE_OBJECT ? json : NULL;
}

static int is_acme_problem(const md_json_t *json)
{
    const char *type = json ? md_json_gets(json, "type", NULL) : NULL;

    return type && !strncmp(type, MD_ACME_PROBLEM_PREFIX, strlen(MD_ACME_PROBLEM_PREFIX));
}

static void set_ready_at(const md_acme_t *acme, const md_http_response_t *resp, const char *type,
                         md_result_t *result)
{
    const char *name = problem_short(type);

    if (!result) return;
    result->ready_at = 0;
    if (resp->status == 429 || resp->status == 503 || (name && !strcmp(name, "rateLimited"))) {
        result->ready_at = md_http_retry_after(resp, md_clock_now(acme ? acme->clock : NULL));
    }
}

/* Record the problem document json of resp. */
static apr_status_t problem_record(const md_acme_t *acme, const md_http_response_t *resp, const md_json_t *json, md_result_t *result,
                                   apr_pool_t *p)
{
    const char *type = md_json_gets(json, "type", NULL), *detail = md_json_gets(json, "detail", NULL);
    md_json_t *sub = NULL;
    apr_status_t rv;

    rv = problem_short(type) ? md_acme_problem_status(type) : APR_EGENERAL;
    if (rv == APR_EGENERAL && resp->status >= 400) rv = http_status_rv(resp->status);
    if (md_json_is(MD_JSON_TYPE_ARRAY, json, "subproblems", NULL)) sub = md_json_getj(json, "subproblems", NULL);
    if (!detail || !*detail) detail = apr_psprintf(p, "HTTP %d from %s", resp->status, resp->url);
    md_result_problem_set(result, rv, type, detail, sub);
    set_ready_at(acme, resp, type, result);
    return rv;
}

/* md_acme_response_error with acme's clock for Retry-After (acme NULL: the real clock). */
static apr_status_t response_error(const md_acme_t *acme, const md_http_response_t *resp, md_result_t *result,
                                   apr_pool_t *p)
{
    const char *media = md_http_media_type(resp, p);
    md_json_t *json = body_object(resp, p);
    apr_status_t rv;

    if (json && md_json_gets(json, "type", NULL)
        && ((media && !strcmp(media, "application/problem+json")) || is_acme_problem(json))) {
        return problem_record(acme, resp, json, result, p);
    }
    rv = http_status_rv(resp->status);
    if (media && !strcmp(media, "application/problem+json")) {
        md_result_printf(result, rv, "HTTP %d from %s with an unreadable problem document%s", resp->status,
                         resp->url, body_excerpt(resp, p));
    }
    else {
        md_result_printf(result, rv, "HTTP %d from %s%s", resp->status, resp->url, body_excerpt(resp, p));
    }
    set_ready_at(acme, resp, NULL, result);
    return rv;
}

apr_status_t md_acme_response_error(const md_http_response_t *resp, md_result_t *result, apr_pool_t *p)
{
    return response_error(NULL, resp, result, p);
}

/* Whether len bytes at data hold the C string s. */
static int has_bytes(const char *data, apr_size_t len, const char *s)
{
    apr_size_t n = strlen(s), i;
    const char *at;

    for (i = 0; i + n <= len; i = (apr_size_t)(at - data) + 1) {
        at = memchr(data + i, s[0], len - n + 1 - i);
        if (!at) return 0;
        if (!memcmp(at, s, n)) return 1;
    }
    return 0;
}

/* Whether a body's JSON could hold an ACME problem type: the prefix written out, or any \u escape (which could spell
 * it). Without either no string in it can start with the prefix, and the body need not be parsed to know. */
static int may_hold_problem(const md_http_response_t *resp)
{
    const char *data = resp->body.data;

    return data && (has_bytes(data, resp->body.len, MD_ACME_PROBLEM_PREFIX)
                    || has_bytes(data, resp->body.len, "\\u"));
}

/* A 2xx answer that carries an ACME problem (type and detail, or the problem media type) is a failure. The body of
 * any other (every answer that succeeds) is parsed once, by the caller that wants it, not here as well. */
static apr_status_t check_success(const md_acme_t *acme, const md_http_response_t *resp, md_result_t *result,
                                  apr_pool_t *p)
{
    const char *media = md_http_media_type(resp, p);
    int problem_type = media && !strcmp(media, "application/problem+json");
    md_json_t *json = (problem_type || may_hold_problem(resp)) ? body_object(resp, p) : NULL;

    if (!json || !(problem_type || (is_acme_problem(json) && md_json_gets(json, "detail", NULL)))) {
        return APR_SUCCESS;
    }
    problem_record(acme, resp, json, result, p);
    if (result) {
        result->detail = apr_psprintf(result->p, "%s answered HTTP %d with an error: %s", resp->url,
                                      resp->status, result->detail);
        if (result->status == APR_SUCCESS) result->status = APR_EGENERAL;
        return result->status;
    }
    return md_acme_problem_status(md_json_gets(json, "type", NULL));
}

static int is_json_media(const char *media)
{
    apr_size_t len = media ? strlen(media) : 0;

    if (!media) return 0;
    return !strcmp(media, "application/json") || (len > 5 && !strcmp(media + len - 5, "+json"));
}

/* The 2xx response's body as JSON: the right media type and a complete document. */
static apr_status_t response_json(md_json_t **pjson, const md_http_response_t *resp, md_result_t *result,
                                  apr_pool_t *p)
{
    const char *media = md_http_media_type(resp, p);

    *pjson = NULL;
    if (!is_json_media(media)) {
        md_result_printf(result, APR_EINVAL, "%s answered HTTP %d with %s%s%s instead of JSON%s", resp->url,
                         resp->status, media ? "Content-Type '" : "no Content-Type", media ? media : "",
                         media ? "'" : "", body_excerpt(resp, p));
        return APR_EINVAL;
    }
    return md_json_readd(pjson, resp->body.data ? resp->body.data : "", resp->body.len,
                         apr_psprintf(p, "the response from %s", resp->url), result, p);
}

/* Sign payload for url with the key and kid the options and the account call for. */
static apr_status_t sign_request(md_data_t **pbody, md_acme_t *acme, const char *url, const md_data_t *payload,
                                 const char *nonce, const md_acme_req_opts_t *opts, md_result_t *result,
                                 apr_pool_t *p)
{
    md_pkey_t *key = (opts && opts->key) ? opts->key : md_acme_account_key(acme);
    const char *kid = (opts && opts->use_jwk) ? NULL : md_acme_account_url(acme);
    md_json_t *prot = md_json_create(p), *msg = NULL;
    apr_status_t rv;

    *pbody = NULL;
    if (!key) {
        md_result_printf(result, APR_EINVAL, "no key to sign the request to %s", url);
        return APR_EINVAL;
    }
    md_json_sets(nonce, prot, "nonce", NULL);
    md_json_sets(url, prot, "url", NULL);
    rv = md_jws_sign(&msg, payload, prot, key, kid, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "signing the request to %s failed (key type not supported?)", url);
        return rv;
    }
    *pbody = md_data_from_str(md_json_writep(msg, MD_JSON_FMT_COMPACT, p), p);
    return APR_SUCCESS;
}

static apr_status_t post_once(md_http_response_t **presp, md_acme_t *acme, const char *url,
                              const md_data_t *payload, const md_acme_req_opts_t *opts, md_result_t *result,
                              apr_pool_t *p)
{
    md_http_request_t req = { "POST", url, NULL, NULL, "application/jose+json" };
    md_data_t *body = NULL;
    const char *nonce = NULL;
    apr_status_t rv;

    *presp = NULL;
    rv = md_acme__nonce_get(&nonce, acme, result, p);
    if (rv != APR_SUCCESS) return rv;
    rv = sign_request(&body, acme, url, payload, nonce, opts, result, p);
    if (rv != APR_SUCCESS) return rv;
    req.body = body;
    if (opts && opts->accept) {
        req.headers = apr_table_make(p, 1);
        apr_table_set(req.headers, "Accept", opts->accept);
    }
    rv = md_http_perform(presp, md_acme_http(acme), &req, result, p);
    if (rv != APR_SUCCESS) return rv;
    md_acme__nonce_put(acme, *presp);
    return APR_SUCCESS;
}

static int is_bad_nonce(const md_result_t *result)
{
    const char *name = result ? problem_short(result->problem) : NULL;

    return name && !strcmp(name, "badNonce");
}

apr_status_t md_acme_post(md_http_response_t **presp, md_acme_t *acme, const char *url,
                          const md_json_t *payload, const md_acme_req_opts_t *opts,
                          md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp = NULL;
    md_data_t *data = NULL;
    apr_status_t rv;
    int attempt;

    *presp = NULL;
    if (!result) result = md_result_make(p);   /* badNonce is recognized through the result */
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) goto leave;
    if (payload) data = md_data_from_str(md_json_writep(payload, MD_JSON_FMT_COMPACT, p), p);
    for (attempt = 0; ; ++attempt) {
        rv = post_once(&resp, acme, url, data, opts, result, p);
        if (rv != APR_SUCCESS) goto leave;
        *presp = resp;
        if (resp->status >= 200 && resp->status < 300) {
            rv = check_success(acme, resp, result, p);
            goto leave;
        }
        rv = response_error(acme, resp, result, p);
        if (!is_bad_nonce(result)) goto leave;
        if (attempt >= MD_ACME_BADNONCE_RETRIES) break;
    }
    md_result_problem_set(result, rv, result->problem,
                          apr_psprintf(p, "%s rejected the nonce %d times in a row (badNonce), giving up: %s",
                                       url, attempt + 1, result->detail ? result->detail : ""), NULL);
leave:
    return rv;
}

apr_status_t md_acme_post_json(md_json_t **pjson, md_http_response_t **presp, md_acme_t *acme,
                               const char *url, const md_json_t *payload,
                               const md_acme_req_opts_t *opts, md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp = NULL;
    apr_status_t rv;

    *pjson = NULL;
    rv = md_acme_post(&resp, acme, url, payload, opts, result, p);
    if (presp) *presp = resp;
    if (rv != APR_SUCCESS) return rv;
    return response_json(pjson, resp, result, p);
}

apr_status_t md_acme_get_json(md_json_t **pjson, md_http_response_t **presp, md_acme_t *acme,
                              const char *url, md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp = NULL;
    apr_status_t rv;

    *pjson = NULL;
    if (presp) *presp = NULL;
    rv = md_http_get(&resp, md_acme_http(acme), url, result, p);
    if (rv != APR_SUCCESS) return rv;
    if (presp) *presp = resp;
    md_acme__nonce_put(acme, resp);
    if (resp->status < 200 || resp->status >= 300) return response_error(acme, resp, result, p);
    rv = check_success(acme, resp, result, p);
    if (rv != APR_SUCCESS) return rv;
    return response_json(pjson, resp, result, p);
}
