/* Unit tests of the renewal drive when the CA misbehaves: clear errors, recorded in the job, an intact store. */
#include <string.h>
#include <apr_strings.h>

#include "md_json.h"
#include "test_common.h"
#include "test_drive.h"

/* One malformed answer of the CA, at a step of an otherwise good first drive. */
typedef struct {
    const char *what;
    td_step_t at;
    const char *method, *url;
    int status;
    const char *headers, *body;
    const char *detail1, *detail2;   /* the result's detail must contain both */
    int responder_calls;             /* setup + teardown when the challenge was answered before */
} bad_answer_t;

static const bad_answer_t bad_answers[] = {
    { "truncated directory", TD_S_DIRECTORY, "GET", TD_DIR, 200, "Content-Type: application/json\n",
      "{\"newNonce\": \"https://ca.test/nonce-plz\", \"newAccount\": \"https://ca.te", TD_DIR, "invalid JSON", 0 },
    { "newOrder as HTML", TD_S_NEWORDER, "POST", TD_NEWORDER, 201,
      "Content-Type: text/html\nLocation: https://ca.test/order/1\n", "<html><body>Created</body></html>",
      TD_NEWORDER, "'text/html' instead of JSON", 0 },
    { "newOrder without Location", TD_S_NEWORDER, "POST", TD_NEWORDER, 201, "Content-Type: application/json\n",
      "{\"status\": \"pending\", \"authorizations\": [\"https://ca.test/authz/1\"], "
      "\"finalize\": \"https://ca.test/finalize/1\"}", TD_NEWORDER, "no Location header", 0 },
    { "authz 500 HTML", TD_S_AUTHZ, "POST", "https://ca.test/authz/1", 500, "Content-Type: text/html\n",
      "<html>\n<body><h1>Internal Server Error</h1></body>\n</html>\n", "HTTP 500 from https://ca.test/authz/1",
      "Internal Server Error", 0 },
    { "order poll 200 with an ACME error", TD_S_ORDER_READY, "POST", "https://ca.test/order/1", 200,
      "Content-Type: application/json\n",
      "{\"type\": \"urn:ietf:params:acme:error:serverInternal\", \"detail\": \"the order database is on fire\"}",
      "https://ca.test/order/1", "the order database is on fire", 2 },
    { "certificate not PEM", TD_S_CERT, "POST", "https://ca.test/cert/1", 200,
      "Content-Type: application/pem-certificate-chain\n", "this is no certificate chain\n",
      "https://ca.test/cert/1", "not a PEM certificate chain", 2 },
};

START_TEST(drive_bad_answer)
{
    const bad_answer_t *bad = &bad_answers[_i];
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    apr_status_t rv;
    md_job_t *job;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, bad->at, 0);
    fake_http_expect(d.fake, bad->method, bad->url, bad->status, bad->headers, bad->body);
    rv = td_run(&d, 0, 1, &outcome, &next);
    ck_assert_msg(rv != APR_SUCCESS, "%s: the drive succeeded", bad->what);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_FAILED);
    ck_assert_int_eq(d.result->status, rv);
    td_assert_contains(d.result->detail, bad->detail1);
    td_assert_contains(d.result->detail, bad->detail2);
    ck_assert_int_gt(next, apr_time_now());
    ck_assert_int_eq(d.calls->nelts, bad->responder_calls);
    job = td_job(&d);
    ck_assert_int_eq(job->errors, 1);
    ck_assert_str_eq(md_json_gets(job->last, "detail", NULL), d.result->detail);
    ck_assert_int_eq(md_json_getl(job->last, "status", NULL), rv);
    ck_assert_str_eq(md_json_gets(md_json_at(job->log, 0, NULL), "type", NULL), "renewal-error");
    ck_assert(!md_store_exists(d.store, MD_SG_STAGING, TD_NAME, md_cert_aspect(d.md, 0, d.p), d.p));
    td_assert_store_intact(&d);
    td_done(&d);
}
END_TEST

START_TEST(drive_problem_subproblems_in_job)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    void *value = NULL;
    md_json_t *json, *sub;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_NEWORDER, 0);
    fake_http_expect(d.fake, "POST", TD_NEWORDER, 400, "Content-Type: application/problem+json\n",
                     fake_http_data("order/le-problem-rejected.json", d.p));
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_EINVAL);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_FAILED);
    ck_assert_str_eq(d.result->problem, "urn:ietf:params:acme:error:rejectedIdentifier");
    ck_assert_int_eq(md_json_count(d.result->subproblems, NULL), 2);

    /* job.json as written: "last" carries problem, detail and the subproblems */
    ck_assert_int_eq(md_store_load(&value, d.store, MD_SG_STAGING, TD_NAME, "job.json", MD_SV_JSON, NULL, d.p),
                     APR_SUCCESS);
    json = value;
    ck_assert_int_eq(md_json_getl(json, "errors", NULL), 1);
    ck_assert(md_json_gets(json, "next-run", NULL) != NULL);
    ck_assert_str_eq(md_json_gets(json, "last", "problem", NULL), "urn:ietf:params:acme:error:rejectedIdentifier");
    td_assert_contains(md_json_gets(json, "last", "detail", NULL), "Cannot issue for \"_example.org\"");
    ck_assert_str_eq(md_json_gets(json, "last", "activity", NULL),       /* mod_md's words */
                     "Creating new order, key-spec=ec-P-256, profile=none, replacing-cert=none");
    ck_assert_int_eq(md_json_count(json, "last", "subproblems", NULL), 2);
    sub = md_json_at(json, 1, "last", "subproblems", NULL);
    ck_assert_str_eq(md_json_gets(sub, "type", NULL), "urn:ietf:params:acme:error:rejectedIdentifier");
    ck_assert_str_eq(md_json_gets(sub, "identifier", "value", NULL), "example.net");
    td_assert_store_intact(&d);
    td_done(&d);
}
END_TEST

/* A front-end's words for the operator's remedies, as httpd would hand them in. */
static const md_hints_t test_hints = { {
    [MD_HINT_TERMS] = "configure 'MDCertificateAgreement accepted'",
    [MD_HINT_RESPONDER] = "use MDCAChallenges and MDPortMap",
} };

/* The remedy is worded by the front-end into the result and job.json; status-description is no APR platform
 * text (the code is ours, APR_EINVAL as mod_md's for it); the problem type is mod_md's challenge-mismatch. */
START_TEST(drive_hint_worded_no_responder)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    md_job_t *job;
    const char *want;

    td_init(&d, 0);
    d.env.responders = md_responders_make(d.p);      /* nobody can answer */
    d.env.hints = &test_hints;
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_CHALLENGE, 0);     /* the authorization says which name it is */
    ck_assert_int_ne(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    want = "no way to answer the challenges for " TD_NAME ": none of the challenge types to use (any) can be "
           "answered here for " TD_NAME "; use MDCAChallenges and MDPortMap";
    ck_assert_str_eq(d.result->detail, want);
    ck_assert_int_eq(d.result->hint, MD_HINT_NONE);
    job = td_job(&d);
    ck_assert_str_eq(md_json_gets(job->last, "detail", NULL), want);
    ck_assert_str_eq(md_json_gets(job->last, "status-description", NULL), "invalid");
    ck_assert_str_eq(md_json_gets(job->last, "problem", NULL), "challenge-mismatch");
    ck_assert_str_eq(md_json_gets(md_json_at(job->log, 0, NULL), "status", NULL), "challenge-mismatch");
    td_assert_contains(md_json_gets(md_json_at(job->log, 0, NULL), "detail", NULL), "use MDCAChallenges");
    td_done(&d);
}
END_TEST

/* Terms not agreed to: the core says what the CA wants, the front-end how to agree; without words only the
 * former. */
START_TEST(drive_hint_worded_terms)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;

    td_init(&d, 0);
    d.md->ca_agreement = NULL;
    td_save_md(&d);
    d.env.hints = &test_hints;
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_ACCOUNT, 0);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_EACCES);
    ck_assert_str_eq(d.result->detail, "the CA at " TD_DIR " requires agreement to its terms of service "
                     "https://ca.test/terms.pdf; configure 'MDCertificateAgreement accepted'");
    td_done(&d);

    td_init(&d, 0);
    d.md->ca_agreement = NULL;
    td_save_md(&d);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_ACCOUNT, 0);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_EACCES);
    ck_assert_str_eq(d.result->detail, "the CA at " TD_DIR " requires agreement to its terms of service "
                     "https://ca.test/terms.pdf");
    td_done(&d);
}
END_TEST

/* The back-off counts from the failure, not from the start of a drive that took longer than the delay. */
START_TEST(drive_backoff_from_failure_time)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next, start, failed;
    md_clock_sim_t *sim;
    md_job_t *job;

    td_init(&d, 0);
    sim = md_clock_sim_make(apr_time_now(), d.p);       /* simulated: the drive's times are exact, load or not */
    d.env.clock = md_clock_sim_clock(sim);
    d.env.retry_base = apr_time_from_msec(200);         /* first retry after 100..300ms */
    d.orders[1].delay = apr_time_from_sec(600);        /* the CA takes its time to finalize: 10 minutes */
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_ORDER_VALID, 0);
    fake_http_expect_problem(d.fake, "POST", "https://ca.test/order/1", 500, NULL, "serverInternal", "lost it");
    start = md_clock_now(d.env.clock);
    ck_assert_int_ne(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    failed = md_clock_now(d.env.clock);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_FAILED);
    ck_assert_int_ge(failed, start + apr_time_from_sec(600));
    ck_assert_msg(next >= failed + apr_time_from_msec(100), "the retry time lies %" APR_TIME_T_FMT "us before the "
                  "failure", failed - next);
    ck_assert_int_le(next, failed + apr_time_from_msec(300));
    job = td_job(&d);
    ck_assert_int_eq(job->errors, 1);
    td_done(&d);
}
END_TEST

/* After failing over to the next CA, the job's order at the previous CA is not resumed: it belongs to another
 * CA and account. */
START_TEST(drive_failover_orders_anew)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    md_job_t *job;
    const char *requests;
    int n;

    td_init(&d, 0);
    APR_ARRAY_PUSH(d.md->ca_urls, const char *) = "https://ca2.test/dir";
    d.md->retry_failover = 1;
    td_save_md(&d);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_FINALIZE, 0);
    fake_http_expect_problem(d.fake, "POST", "https://ca.test/finalize/1", 500, NULL, "serverInternal", "down");
    ck_assert_int_ne(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    job = td_job(&d);
    ck_assert_str_eq(md_json_gets(job->state, "orders", "p-256", NULL), "https://ca.test/order/1");
    job->next_run = apr_time_now() - apr_time_from_sec(2);
    ck_assert_int_eq(md_job_save(job, d.store, MD_SG_STAGING, NULL, d.p), APR_SUCCESS);

    n = fake_http_count(d.fake);
    d.orders[2].ca = "https://ca2.test";
    fake_http_auto_nonce(d.fake, "https://ca2.test/nonce-plz");
    td_script(&d, 2, TD_S_DIRECTORY, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    requests = td_requests(&d, n);
    ck_assert_msg(!strstr(requests, "https://ca.test/"), "requests to the previous CA: %s", requests);
    td_assert_contains(requests, "POST https://ca2.test/sign-me-up|POST https://ca2.test/order-plz|");
    ck_assert_int_eq(d.calls->nelts, 4);
    td_done(&d);
}
END_TEST

void md_test_drive_fail_tcases(Suite *s)
{
    TCase *tc = tcase_create("failures");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, drive_bad_answer, 0, (int)(sizeof(bad_answers) / sizeof(bad_answers[0])));
    tcase_add_test(tc, drive_problem_subproblems_in_job);
    tcase_add_test(tc, drive_hint_worded_no_responder);
    tcase_add_test(tc, drive_hint_worded_terms);
    tcase_add_test(tc, drive_backoff_from_failure_time);
    tcase_add_test(tc, drive_failover_orders_anew);
    suite_add_tcase(s, tc);
}
