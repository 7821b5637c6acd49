/* A scripted fake HTTP backend for ACME unit tests: expected exchanges in order, auto nonces, recorded requests. */
#ifndef MD_TEST_FAKE_HTTP_H
#define MD_TEST_FAKE_HTTP_H

/*
 * Usage
 *
 *   fake_http_t *fake = fake_http_create(p);
 *   md_http_t *http = fake_http_client(fake, p);          // an md_http_t using the fake backend
 *   fake_http_auto_nonce(fake, "https://ca.test/new-nonce"); // answer HEAD/GET newNonce by itself
 *   fake_http_expect(fake, "GET", "https://ca.test/dir", 200,
 *                    "Content-Type: application/json\n", fake_http_data("directory.json", p));
 *   fake_http_expect(fake, "POST", "https://ca.test/new-acct", 201,
 *                    "Content-Type: application/json\nLocation: https://ca.test/acct/1\n", "{...}");
 *   ... run the code under test ...
 *   fake_http_verify(fake);                                 // every expectation consumed, nothing unexpected
 *   md_json_t *prot = fake_http_jws_protected(fake, 1, p);  // protected header of request #1 (0-based)
 *
 * Expectations are consumed strictly in the order they were added. Each matches on method and URL (exact
 * string compare). A request that does not match the next expectation (or comes when none is left) is an
 * "unexpected request": by default the test fails at once with a message naming the request and what was
 * expected (ck_abort_msg); with fake_http_lenient(fake, 1) the backend instead returns APR_EGENERAL with that
 * message in the result's detail, and fake_http_verify() fails later.
 *
 * Response headers are given as one string of "Name: value" lines separated by '\n' (NULL for none); the
 * fake adds nothing else except a Replay-Nonce (see below). fake_http_expect_json() adds
 * "Content-Type: application/json", fake_http_expect_problem() builds an application/problem+json body.
 *
 * Nonces: by default (fake_http_set_nonces(fake, 1)) every response without its own Replay-Nonce header gets
 * a fresh one, "nonce-1", "nonce-2", ... (fake_http_last_nonce() tells the latest one handed out). With
 * fake_http_auto_nonce(fake, url), HEAD and GET requests to url are answered by the fake itself (200 for HEAD,
 * 204 for GET, a fresh Replay-Nonce, "Cache-Control: no-store") without consuming an expectation; they are
 * recorded like all requests (count them with fake_http_count_method(fake, "HEAD")).
 *
 * Every request is recorded: method, url, headers (the request's extra headers; may be NULL), content_type,
 * body (NUL-terminated copy). fake_http_jws_* decode the recorded body as a flattened JWS.
 * The fake is thread-safe (one mutex), so it can serve concurrent users of one md_acme_t.
 */

#include <apr_pools.h>
#include <apr_tables.h>

#include "md_data.h"
#include "md_http.h"
#include "md_json.h"
#include "md_pkey.h"

typedef struct fake_http_t fake_http_t;

typedef struct fake_http_req_t {
    const char *method;
    const char *url;
    apr_table_t *headers;       /* copy of the request's extra headers, NULL when none */
    const char *content_type;   /* of the body, NULL when none */
    md_data_t body;             /* {NULL, 0} when none; data is NUL-terminated */
    int auto_answered;          /* answered by the fake's nonce URL handling, not by an expectation */
} fake_http_req_t;

/* A response built by a callback (for answers that depend on the request). Fill status, headers, body
 * in pool p (resp->headers is an empty table already). Return non-APR_SUCCESS to simulate a transport error
 * (then set result's detail yourself). */
typedef apr_status_t fake_http_answer_cb(void *baton, md_http_response_t *resp, const fake_http_req_t *req,
                                         struct md_result_t *result, apr_pool_t *p);

fake_http_t *fake_http_create(apr_pool_t *p);
const md_http_backend_t *fake_http_backend(fake_http_t *fake);
/* An md_http_t (default options) that uses this fake. */
md_http_t *fake_http_client(fake_http_t *fake, apr_pool_t *p);

/* Answer HEAD/GET to new_nonce_url automatically (NULL to stop). */
void fake_http_auto_nonce(fake_http_t *fake, const char *new_nonce_url);
/* Add a fresh Replay-Nonce to every response that has none (default on). */
void fake_http_set_nonces(fake_http_t *fake, int on);
/* Unexpected requests return an error instead of failing the test at once. */
void fake_http_lenient(fake_http_t *fake, int on);

/* Expected exchanges, in order. headers: "Name: value\n..." or NULL; body NULL for none. */
void fake_http_expect(fake_http_t *fake, const char *method, const char *url, int status,
                      const char *headers, const char *body);
/* The same with "Content-Type: application/json" added to headers. */
void fake_http_expect_json(fake_http_t *fake, const char *method, const char *url, int status,
                           const char *headers, const char *body);
/* An application/problem+json answer {"type": MD_ACME_PROBLEM_PREFIX short_type, "detail": detail}
 * (short_type may also be a full URN); headers as above (e.g. "Retry-After: 30\n"). */
void fake_http_expect_problem(fake_http_t *fake, const char *method, const char *url, int status,
                              const char *headers, const char *short_type, const char *detail);
/* A transport failure: the backend returns rv with detail in the result. */
void fake_http_expect_error(fake_http_t *fake, const char *method, const char *url, apr_status_t rv,
                            const char *detail);
/* The answer is made by cb. */
void fake_http_expect_cb(fake_http_t *fake, const char *method, const char *url,
                         fake_http_answer_cb *cb, void *baton);

/* Fail the test unless every expectation was consumed and no unexpected request came. */
void fake_http_verify(fake_http_t *fake);
/* Expectations not yet consumed. */
int fake_http_pending(fake_http_t *fake);

/* Recorded requests (0-based, in arrival order, auto-answered ones included). */
int fake_http_count(fake_http_t *fake);
int fake_http_count_method(fake_http_t *fake, const char *method);
const fake_http_req_t *fake_http_request(fake_http_t *fake, int idx);
/* The last recorded request with this method (NULL: any), or fails the test. */
const fake_http_req_t *fake_http_last(fake_http_t *fake, const char *method);
/* The nonce most recently handed out, NULL when none yet. */
const char *fake_http_last_nonce(fake_http_t *fake);

/* Decode request idx's body as a flattened JWS (fails the test when it is not one):
 * the protected header, the payload parsed as JSON (NULL for an empty payload: POST-as-GET).
 * fake_http_jws_verify also checks the signature with key (md_jws_verify) and returns the payload JSON
 * (NULL for empty). The _msg variants work on a JWS given as JSON (e.g. the inner JWS of keyChange). */
md_json_t *fake_http_jws(fake_http_t *fake, int idx, apr_pool_t *p);
md_json_t *fake_http_jws_protected(fake_http_t *fake, int idx, apr_pool_t *p);
md_json_t *fake_http_jws_payload(fake_http_t *fake, int idx, apr_pool_t *p);
md_json_t *fake_http_jws_verify(fake_http_t *fake, int idx, const md_pkey_t *key, apr_pool_t *p);
md_json_t *fake_http_msg_protected(const md_json_t *msg, apr_pool_t *p);
md_json_t *fake_http_msg_verify(const md_json_t *msg, const md_pkey_t *key, const md_data_t *hmac,
                                apr_pool_t *p);

/* The contents of tests/unit/data/acme/<name> (fails the test when it cannot be read). */
const char *fake_http_data(const char *name, apr_pool_t *p);

#endif
