/* Unit tests of the drive's events: "renewing" may postpone a renewal, "challenge-setup" may end an attempt. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>

#include "md_json.h"
#include "test_common.h"
#include "test_drive.h"

#define CHALL1 "https://ca.test/chall/1/http-01"

/* What the test's event callback saw, and which event it refuses. */
typedef struct {
    td_drive_t *d;
    apr_array_header_t *seen;     /* "EVENT NAME @REQUESTS-SO-FAR" */
    const char *refuse;           /* the event to answer with an error, NULL: none */
} ev_rec_t;

static apr_status_t on_event(void *baton, const char *md_name, const char *event, md_result_t *result,
                             apr_pool_t *p)
{
    ev_rec_t *rec = baton;

    (void)p;
    APR_ARRAY_PUSH(rec->seen, const char *) = apr_psprintf(rec->d->p, "%s %s @%d", event, md_name,
                                                           fake_http_count(rec->d->fake));
    if (rec->refuse && !strcmp(rec->refuse, event)) {
        md_result_set(result, APR_EGENERAL, "the program said no (exit 1)");
        md_result_problem_type(result, "urn:org:apache:httpd:log:AH10109:");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static void ev_init(ev_rec_t *rec, td_drive_t *d, const char *refuse)
{
    td_init(d, 0);
    rec->d = d;
    rec->seen = apr_array_make(d->p, 4, sizeof(const char *));
    rec->refuse = refuse;
    d->env.event = on_event;
    d->env.event_baton = rec;
}

static const char *seen(const ev_rec_t *rec, int i)
{
    ck_assert_int_gt(rec->seen->nelts, i);
    return APR_ARRAY_IDX(rec->seen, i, const char *);
}

static int request_index(td_drive_t *d, const char *method, const char *url)
{
    int i;

    for (i = 0; i < fake_http_count(d->fake); ++i) {
        if (!strcmp(fake_http_request(d->fake, i)->url, url)
            && !strcmp(fake_http_request(d->fake, i)->method, method)) return i;
    }
    return -1;
}

START_TEST(renewing_refused_postpones)
{
    td_drive_t d;
    ev_rec_t rec;
    md_drive_outcome_t outcome;
    apr_time_t next, before = apr_time_now();
    md_job_t *job;

    ev_init(&rec, &d, "renewing");
    d.env.retry_base = apr_time_from_sec(7);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_POSTPONED);
    ck_assert_str_eq(md_drive_outcome_str(outcome), "postponed");
    ck_assert_int_eq(rec.seen->nelts, 1);
    ck_assert_str_eq(seen(&rec, 0), "renewing " TD_NAME " @0");
    ck_assert_int_eq(fake_http_count(d.fake), 0);          /* nothing asked of the CA */
    td_assert_contains(d.result->detail, "renewal postponed: the program said no (exit 1)");
    ck_assert_int_ge(next, before + apr_time_from_sec(7));
    ck_assert_int_le(next, apr_time_now() + apr_time_from_sec(7));
    job = td_job(&d);
    ck_assert_int_eq(job->errors, 0);                      /* no failure: no back-off, no failover */
    ck_assert_int_eq(job->next_run, 0);
    ck_assert_str_eq(md_json_gets(md_json_at(job->log, 0, NULL), "type", NULL), "renewal-postponed");
    /* the refusal is the job's last result, as mod_md keeps it: its status, problem type and detail */
    ck_assert_int_eq(md_json_getl(job->last, "status", NULL), APR_EGENERAL);
    ck_assert_str_eq(md_json_gets(job->last, "problem", NULL), "urn:org:apache:httpd:log:AH10109:");
    ck_assert_str_eq(md_json_gets(job->last, "detail", NULL), "the program said no (exit 1)");
    ck_assert_int_eq(job->last_run, 0);
    ck_assert(!job->notified && !job->notified_renewed);
    td_assert_store_intact(&d);

    /* the next run is not held back: the program agrees now and the renewal goes through */
    rec.refuse = NULL;
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    ck_assert_str_eq(seen(&rec, 1), "renewing " TD_NAME " @0");
    td_done(&d);
}
END_TEST

START_TEST(challenge_setup_after_answer_before_ca)
{
    td_drive_t d;
    ev_rec_t rec;
    md_drive_outcome_t outcome;
    apr_time_t next;
    md_job_t *job;
    const char *ev;
    int at = -1;

    ev_init(&rec, &d, NULL);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    ck_assert_int_eq(rec.seen->nelts, 2);
    ck_assert_str_eq(seen(&rec, 0), "renewing " TD_NAME " @0");
    ev = seen(&rec, 1);
    ck_assert_int_eq(strncmp(ev, "challenge-setup:http-01:" TD_NAME " " TD_NAME " @", 49), 0);
    at = atoi(strrchr(ev, '@') + 1);
    /* the answer was set up before (the responder's first call), the CA told after */
    ck_assert_int_eq(at, request_index(&d, "POST", CHALL1));
    ck_assert_int_eq(d.calls->nelts, 2);
    /* as mod_md: a delivered message marks the job notified; last says when the staged set is valid */
    job = td_job(&d);
    ck_assert(job->notified);
    ck_assert_int_eq(md_json_getl(job->last, "status", NULL), 0);
    ck_assert_str_eq(md_json_gets(job->last, "valid-from", NULL), md_time_print_http(job->valid_from, d.p));
    ck_assert_int_le(job->valid_from, apr_time_now());
    td_done(&d);
}
END_TEST

START_TEST(challenge_setup_refused_fails_attempt)
{
    td_drive_t d;
    ev_rec_t rec;
    md_drive_outcome_t outcome;
    apr_time_t next, now = apr_time_now();
    apr_status_t rv;
    md_job_t *job;

    ev_init(&rec, &d, "challenge-setup:http-01:" TD_NAME);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_CHALLENGE, 0);
    rv = td_run(&d, 0, 0, &outcome, &next);
    ck_assert_int_eq(rv, APR_EGENERAL);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_FAILED);
    td_assert_contains(d.result->detail, "challenge-setup:http-01:" TD_NAME " refused: the program said no");
    ck_assert_int_eq(request_index(&d, "POST", CHALL1), -1);     /* the CA was never told */
    ck_assert_int_eq(d.calls->nelts, 2);                          /* set up and torn down again */
    td_assert_contains(APR_ARRAY_IDX(d.calls, 1, const char *), "teardown http-01");
    job = td_job(&d);
    ck_assert_int_eq(job->errors, 1);                             /* a failed attempt: back-off */
    ck_assert_int_gt(job->next_run, now);
    ck_assert_int_eq(apr_time_sec(next), apr_time_sec(job->next_run));    /* job.json keeps seconds */
    ck_assert_str_eq(md_json_gets(md_json_at(job->log, 0, NULL), "type", NULL), "renewal-error");
    /* mod_md's problem type for it, in last and in the log entry's status */
    ck_assert_str_eq(md_json_gets(job->last, "problem", NULL), "challenge-setup-failure");
    ck_assert_str_eq(md_json_gets(md_json_at(job->log, 0, NULL), "status", NULL), "challenge-setup-failure");
    ck_assert(!job->notified);
    td_assert_store_intact(&d);
    td_done(&d);
}
END_TEST

Suite *md_test_drive_events_suite(void)
{
    Suite *s = suite_create("drive_events");
    TCase *tc = tcase_create("events");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, renewing_refused_postpones);
    tcase_add_test(tc, challenge_setup_after_answer_before_ca);
    tcase_add_test(tc, challenge_setup_refused_fails_attempt);
    suite_add_tcase(s, tc);
    return s;
}
