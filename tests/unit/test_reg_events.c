/* Unit tests of the event interface in renewals: challenges answered by the event handler or the dns-01 program
 * (setup, poll, teardown, exit codes 0/75/76/other), blocked MDs and how they are unblocked, and the events after a
 * drive (errored, renewed, notify, installed, expiring) with their repeats and rate limits. */
#include <ctype.h>
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_job.h"
#include "md_json.h"
#include "md_time.h"
#include "test_common.h"
#include "test_reg.h"

#define NAME "example.org"

/* A word that is a TXT value, token or key authorization (long base64url, maybe with a '.'). */
static int is_secret(const char *w, apr_size_t len)
{
    apr_size_t i;

    if (len < 30) return 0;
    for (i = 0; i < len; ++i) {
        if (!isalnum((unsigned char)w[i]) && w[i] != '-' && w[i] != '_' && w[i] != '.') return 0;
    }
    return 1;
}

/* The calls with every TXT value, token and key authorization as "X": comparable as a whole. */
static const char *plain(tr_t *f, const char *calls)
{
    const char *s = calls, *e, *out = "";

    while (*s) {
        e = s + strcspn(s, " \n");
        out = apr_pstrcat(f->p, out, is_secret(s, (apr_size_t)(e - s)) ? "X" : apr_pstrndup(f->p, s, (apr_size_t)(e - s)),
                          NULL);
        if (!*e) break;
        out = apr_pstrcat(f->p, out, apr_pstrndup(f->p, e, 1), NULL);
        s = e + 1;
    }
    return out;
}

/* Word n (0-based) of the line that starts with prefix. */
static const char *word_of(tr_t *f, const char *calls, const char *prefix, int n)
{
    const char *line = strstr(calls, prefix);
    char *copy, *w, *state = NULL;
    int i;

    ck_assert_msg(line != NULL, "no line '%s...' in:\n%s", prefix, calls);
    copy = apr_pstrndup(f->p, line, strcspn(line, "\n"));
    for (w = apr_strtok(copy, " ", &state), i = 0; w && i < n; w = apr_strtok(NULL, " ", &state), ++i);
    ck_assert_ptr_nonnull(w);
    return w;
}

static void assert_calls(tr_t *f, const char *want)
{
    const char *got = plain(f, tr_calls(f));

    ck_assert_msg(!strcmp(got, want), "calls:\n%s\nexpected:\n%s", got, want);
}

/* An MD with the event handler (and the given challenge types, "" for any), saved. */
static md_t *handler_md(tr_t *f, const char *names, const char *challenges)
{
    md_t *md = tr_md(f, names);
    char *copy = apr_pstrdup(f->p, challenges), *s, *state = NULL;

    md->event_handler = tr_prog(f, "H");
    for (s = apr_strtok(copy, ",", &state); s; s = apr_strtok(NULL, ",", &state)) {
        APR_ARRAY_PUSH(md->ca_challenges, const char *) = s;
    }
    tr_save(f, md);
    return md;
}

/* ---- challenges through the handler --------------------------------------------------------------------- */

/* A wildcard MD by dns-01: the handler sets up both TXT values at the one name, the CA validates, both are torn
 * down with their values. */
START_TEST(ev_dns01_wildcard)
{
    const char *calls, *txt1, *txt2;
    tr_t f;

    tr_init(&f, 6);
    f.local = 0;
    handler_md(&f, NAME ",*." NAME, "dns-01");
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    calls = tr_calls(&f);
    ck_assert_msg(!strcmp(plain(&f, calls),
                          "H renewing " NAME "\n"
                          "H setup " NAME " " NAME " X\n"
                          "H challenge-setup:dns-01:" NAME " " NAME "\n"
                          "H setup " NAME " " NAME " X\n"
                          "H challenge-setup:dns-01:" NAME " " NAME "\n"
                          "CA validate dns-01 " NAME "\n"
                          "CA validate dns-01 " NAME "\n"
                          "H teardown " NAME " " NAME " X\n"
                          "H teardown " NAME " " NAME " X\n"
                          "H renewed " NAME "\n"
                          "H installed " NAME "\n"), "calls:\n%s", calls);
    txt1 = word_of(&f, calls, "H setup ", 4);
    txt2 = word_of(&f, strstr(calls, "H setup ") + 1, "H setup ", 4);
    ck_assert_str_ne(txt1, txt2);
    ck_assert_str_eq(word_of(&f, calls, "H teardown ", 4), txt1);
    ck_assert_str_eq(word_of(&f, strstr(calls, "H teardown ") + 1, "H teardown ", 4), txt2);
    ck_assert(md_cert_covers(tr_leaf(&f, NAME), "www." NAME, f.p));
    tr_done(&f);
}
END_TEST

/* One name this server answers (its local responder serves it), one it does not: http-01 for that one goes to
 * the handler as setup-http-01 / teardown-http-01. */
/* MDCAChallenges may name types we do not know (mod_md takes them): they are never offered to a responder, the known
 * ones after them are used. */
START_TEST(ev_unknown_challenge_type_unused)
{
    tr_t f;

    tr_init(&f, 6);
    f.local = 0;
    handler_md(&f, NAME, "http-02,dns-01");
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    assert_calls(&f, "H renewing " NAME "\n"
                     "H setup " NAME " " NAME " X\n"
                     "H challenge-setup:dns-01:" NAME " " NAME "\n"
                     "CA validate dns-01 " NAME "\n"
                     "H teardown " NAME " " NAME " X\n"
                     "H renewed " NAME "\n"
                     "H installed " NAME "\n");
    tr_done(&f);
}
END_TEST

START_TEST(ev_http01_remote)
{
    const char *calls, *token, *keyauth;
    tr_t f;

    tr_init(&f, 6);
    f.local_serves = "here.example.org";
    handler_md(&f, "here.example.org,there.example.org", "");
    tr_assert_outcome(tr_run1(&f, "here.example.org", 0), MD_DRIVE_ACTIVATED);
    calls = tr_calls(&f);
    ck_assert_msg(!strcmp(plain(&f, calls),
                          "H renewing here.example.org\n"
                          "local setup here.example.org\n"
                          "H challenge-setup:http-01:here.example.org here.example.org\n"
                          "H setup-http-01 here.example.org there.example.org X X\n"
                          "H challenge-setup:http-01:there.example.org here.example.org\n"
                          "CA validate http-01 here.example.org\n"
                          "CA validate http-01 there.example.org\n"
                          "local teardown here.example.org\n"
                          "H teardown-http-01 here.example.org there.example.org X\n"
                          "H renewed here.example.org\n"
                          "H installed here.example.org\n"), "calls:\n%s", calls);
    token = word_of(&f, calls, "H setup-http-01 ", 4);
    keyauth = word_of(&f, calls, "H setup-http-01 ", 5);
    ck_assert(!strncmp(keyauth, apr_pstrcat(f.p, token, ".", NULL), strlen(token) + 1));
    ck_assert_str_eq(word_of(&f, calls, "H teardown-http-01 ", 4), token);
    tr_done(&f);
}
END_TEST

/* needs-poll: setup exits 76, the drive waits and polls with the same arguments (76 again, then 0); then the CA
 * is told. */
START_TEST(ev_needs_poll)
{
    md_reg_item_t *item;
    const char *calls, *txt;
    apr_time_t t;
    md_job_t *job;
    tr_t f;

    tr_init(&f, 6);
    f.local = 0;
    handler_md(&f, NAME, "dns-01");
    tr_exit(&f, "setup", "76");
    tr_exit(&f, "poll-setup", "76\n0");
    t = tr_now(&f);
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_WAITING);
    ck_assert_int_eq(item->rv, APR_SUCCESS);
    ck_assert_int_eq(item->next, t + apr_time_from_sec(10));
    job = tr_job(&f, NAME);
    ck_assert_str_eq(md_json_gets(job->state, "wait-until", NULL), md_time_print_rfc3339(item->next, f.p));
    ck_assert_int_eq(job->errors, 0);
    calls = tr_calls(&f);
    ck_assert_str_eq(plain(&f, calls), "H renewing " NAME "\nH setup " NAME " " NAME " X\n");
    txt = word_of(&f, calls, "H setup ", 4);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 0);
    /* the first poll: still not visible */
    md_clock_sim_set(f.sim, item->next);
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_WAITING);
    ck_assert_int_eq(item->next, tr_now(&f) + apr_time_from_sec(10));
    ck_assert(md_json_has_key(tr_job(&f, NAME)->state, "wait-until", NULL));
    calls = tr_calls(&f);
    ck_assert_str_eq(calls, apr_pstrcat(f.p, "H poll-setup " NAME " " NAME " ", txt, "\n", NULL));
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 0);
    /* the second: visible, the CA is told */
    md_clock_sim_set(f.sim, item->next);
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    calls = tr_calls(&f);
    ck_assert_msg(!strcmp(calls, apr_pstrcat(f.p, "H poll-setup " NAME " " NAME " ", txt, "\n",
                                             "H challenge-setup:dns-01:" NAME " " NAME "\n",
                                             "CA validate dns-01 " NAME "\n",
                                             "H teardown " NAME " " NAME " ", txt, "\n",
                                             "H renewed " NAME "\n", "H installed " NAME "\n", NULL)), "%s", calls);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 1);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    tr_done(&f);
}
END_TEST

/* The same in one run that waits (the CLI's rn->wait): polled at its times until visible, then finished. */
START_TEST(ev_needs_poll_in_run)
{
    md_reg_item_t *item;
    apr_time_t start;
    tr_t f;

    tr_init(&f, 6);
    f.local = 0;
    f.rn.wait = 1;
    handler_md(&f, NAME, "dns-01");
    tr_exit(&f, "setup", "76");
    tr_exit(&f, "poll-setup", "76\n0");
    start = tr_now(&f);
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(f.done->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 0, const char *), NAME " waiting");
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 1, const char *), NAME " waiting");
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 2, const char *), NAME " activated");
    ck_assert_str_eq(plain(&f, tr_calls(&f)), "H renewing " NAME "\nH setup " NAME " " NAME " X\n"
                     "H poll-setup " NAME " " NAME " X\nH poll-setup " NAME " " NAME " X\n"
                     "H challenge-setup:dns-01:" NAME " " NAME "\nCA validate dns-01 " NAME "\n"
                     "H teardown " NAME " " NAME " X\nH renewed " NAME "\nH installed " NAME "\n");
    ck_assert_int_ge(tr_time_of(&f, f.validated_at, "dns-01 " NAME), start + apr_time_from_sec(20));
    tr_done(&f);
}
END_TEST

/* A poll that stays 76 longer than authz_timeout fails the attempt (the answer is torn down), with back-off. */
START_TEST(ev_needs_poll_timeout)
{
    md_reg_item_t *item;
    apr_time_t start;
    md_job_t *job;
    const char *calls;
    tr_t f;
    int polls = 0;

    tr_init(&f, 6);
    f.local = 0;
    f.rn.drive.authz_timeout = apr_time_from_sec(60);
    handler_md(&f, NAME, "http-01");
    tr_exit(&f, "setup-http-01", "76");
    tr_exit(&f, "poll-setup-http-01", "76");
    start = tr_now(&f);
    item = tr_run1(&f, NAME, 0);
    while (item->outcome == MD_DRIVE_WAITING && polls < 20) {
        md_clock_sim_set(f.sim, item->next);
        item = tr_run1(&f, NAME, 0);
        ++polls;
    }
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(polls, 6);              /* every 10 s: at 10..60 s, the last one too late */
    ck_assert_int_eq(tr_now(&f), start + apr_time_from_sec(60));
    tr_assert_has(item->detail, "still not visible after 1mi of polling");
    calls = tr_calls(&f);
    tr_assert_has(plain(&f, calls), "H poll-setup-http-01 " NAME " " NAME " X X\nH teardown-http-01 " NAME " " NAME
                  " X\n");
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 0);
    job = tr_job(&f, NAME);
    ck_assert_int_eq(job->errors, 1);
    ck_assert(!md_json_has_key(job->state, "blocked", NULL));
    ck_assert(!md_json_has_key(job->state, "challenges", NULL));
    ck_assert(!md_json_has_key(job->state, "wait-until", NULL));
    ck_assert_int_gt(item->next, tr_now(&f));
    tr_done(&f);
}
END_TEST

/* 75 (retry): the attempt fails with back-off, not blocked; at the retry time exit 0 succeeds. */
START_TEST(ev_retry)
{
    md_reg_item_t *item;
    md_job_t *job;
    tr_t f;
    int total;

    tr_init(&f, 6);
    f.local = 0;
    handler_md(&f, NAME, "dns-01");
    tr_exit(&f, "setup", "75\n0");
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(item->rv, APR_EGENERAL);                   /* mod_md's status for it */
    tr_assert_has(item->detail, "exit 75");
    ck_assert_str_eq(item->problem, "challenge-setup-failure");
    job = tr_job(&f, NAME);
    ck_assert_int_eq(job->errors, 1);
    ck_assert_str_eq(md_json_gets(job->last, "problem", NULL), "challenge-setup-failure");
    ck_assert(!md_json_has_key(job->state, "blocked", NULL));
    ck_assert_int_gt(item->next, tr_now(&f));
    ck_assert_int_eq(apr_time_sec(job->next_run), apr_time_sec(item->next));
    /* before the retry time: backing off, nothing asked */
    total = fake_ca_count(f.ca, FAKE_CA_ANY);
    tr_calls(&f);
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), total);
    ck_assert_str_eq(tr_calls(&f), "");
    md_clock_sim_set(f.sim, item->next);
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(tr_job(&f, NAME)->errors, 0);
    tr_done(&f);
}
END_TEST

/* Blocked: the drive's outcome and that nothing reached the CA or the handler. */
static void assert_blocked(tr_t *f)
{
    int total = fake_ca_count(f->ca, FAKE_CA_ANY);
    md_reg_item_t *item;

    tr_calls(f);
    item = tr_run1(f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_BLOCKED);
    ck_assert_int_eq(item->rv, MD_EHUMAN);
    tr_assert_has(item->detail, "exit 1");
    ck_assert_int_eq(item->next, 0);
    ck_assert_int_eq(fake_ca_count(f->ca, FAKE_CA_ANY), total);
    ck_assert_str_eq(plain(f, tr_calls(f)), "H errored " NAME "\n");
}

/* An attempt that ends in the handler's hard failure (exit 1): the setup was asked again. */
static void assert_tried_and_failed(tr_t *f, int force)
{
    md_reg_item_t *item = tr_run1(f, NAME, force);

    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(item->rv, MD_EHUMAN);
    tr_assert_has(plain(f, tr_calls(f)), "H setup " NAME " " NAME " X\n");
    ck_assert(md_json_has_key(tr_job(f, NAME)->state, "blocked", NULL));
}

/* Exit 1 from the handler's setup: FAILED, then BLOCKED without asking anyone, also after the back-off time;
 * unblocked by a change of the MD's settings, by a sync at a restart, and by a forced drive. */
START_TEST(ev_hard_failure_blocks)
{
    md_reg_item_t *item;
    md_job_t *job;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    f.local = 0;
    handler_md(&f, NAME, "dns-01");
    tr_exit(&f, "setup", "1");
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(item->rv, MD_EHUMAN);
    tr_assert_has(item->detail, "exit 1");
    job = tr_job(&f, NAME);
    ck_assert_int_eq(job->errors, 1);
    tr_assert_has(md_json_gets(job->state, "blocked", "reason", NULL), "exit 1");
    ck_assert_str_eq(md_json_gets(job->state, "blocked", "md", NULL), md_digest(tr_load(&f, NAME), f.p));
    md_clock_sim_advance(f.sim, 2 * TR_HOUR);     /* errored is raised at most hourly */
    assert_blocked(&f);
    md_clock_sim_advance(f.sim, 2 * TR_DAY);      /* far beyond any back-off */
    assert_blocked(&f);
    /* (1) the MD's settings change: a new renew window in md.json */
    md = tr_load(&f, NAME);
    ck_assert_int_eq(md_timeslice_parse(&md->renew_window, "50%", NULL, NULL, f.p), APR_SUCCESS);
    tr_save(&f, md);
    assert_tried_and_failed(&f, 0);
    md_clock_sim_advance(f.sim, 2 * TR_HOUR);
    assert_blocked(&f);
    /* (2) a restart: md_reg_sync with restart */
    tr_sync(&f, tr_load(&f, NAME), 0, 1);
    ck_assert(!md_json_has_key(tr_job(&f, NAME)->state, "blocked", NULL));
    assert_tried_and_failed(&f, 0);
    md_clock_sim_advance(f.sim, 2 * TR_HOUR);
    assert_blocked(&f);
    /* a sync without restart leaves it blocked */
    tr_sync(&f, tr_load(&f, NAME), 0, 0);
    md_clock_sim_advance(f.sim, 2 * TR_HOUR);
    assert_blocked(&f);
    /* (3) a forced drive, the handler fixed */
    tr_exit(&f, "setup", "0");
    item = tr_run1(&f, NAME, 1);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    job = tr_job(&f, NAME);
    ck_assert(!md_json_has_key(job->state, "blocked", NULL));
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_NOT_DUE);
    tr_done(&f);
}
END_TEST

/* The handler on "renewing": 75 postpones the renewal (no failure counted), 1 blocks it; the CA hears of neither. */
START_TEST(ev_renewing_refused)
{
    md_reg_item_t *item;
    md_job_t *job;
    tr_t f;

    tr_init(&f, 6);
    handler_md(&f, NAME, "");
    tr_exit(&f, "renewing", "75\n1\n0");
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_POSTPONED);
    ck_assert_int_eq(item->rv, APR_SUCCESS);
    tr_assert_has(item->detail, "renewal postponed: ");
    ck_assert_int_eq(item->next, tr_now(&f) + apr_time_from_sec(60));
    ck_assert_int_eq(tr_job(&f, NAME)->errors, 0);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 0);
    ck_assert_str_eq(tr_calls(&f), "H renewing " NAME "\n");
    md_clock_sim_set(f.sim, item->next);
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(item->rv, MD_EHUMAN);
    job = tr_job(&f, NAME);
    ck_assert_int_eq(job->errors, 1);
    ck_assert(md_json_has_key(job->state, "blocked", NULL));
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 0);
    ck_assert_str_eq(tr_calls(&f), "H renewing " NAME "\nH errored " NAME "\n");
    md_clock_sim_advance(f.sim, TR_DAY);
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_BLOCKED);
    tr_assert_outcome(tr_run1(&f, NAME, 1), MD_DRIVE_ACTIVATED);
    tr_done(&f);
}
END_TEST

/* A dns-01 program and the handler: dns-01 goes to the program only (its own calling convention: version 1
 * teardown without the value); the handler answers http-01 and takes the messages. */
START_TEST(ev_dns01_program_precedence)
{
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    f.local = 0;
    md = tr_md(&f, NAME ",*." NAME);
    md->event_handler = tr_prog(&f, "H");
    md->dns01_cmd = apr_pstrcat(f.p, f.script, " D", NULL);
    tr_save(&f, md);
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    assert_calls(&f, "H renewing " NAME "\n"
                     "H setup-http-01 " NAME " " NAME " X X\n"
                     "H challenge-setup:http-01:" NAME " " NAME "\n"
                     "D setup " NAME " X\n"
                     "H challenge-setup:dns-01:" NAME " " NAME "\n"
                     "CA validate http-01 " NAME "\n"
                     "CA validate dns-01 " NAME "\n"
                     "H teardown-http-01 " NAME " " NAME " X\n"
                     "D teardown " NAME "\n"
                     "H renewed " NAME "\n"
                     "H installed " NAME "\n");
    tr_done(&f);
}
END_TEST

/* ---- the events after a drive ----------------------------------------------------------------------------- */

static void after(tr_t *f, const md_t *md, md_drive_outcome_t outcome, int failed)
{
    md_reg_events_after(f->reg, &f->rn, md, NULL, outcome, failed ? "the CA refused" : NULL, f->p);
}

/* errored: at most once per hour, whatever the program says. */
START_TEST(ev_after_errored_hourly)
{
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = handler_md(&f, NAME, "");
    tr_exit(&f, "errored", "1");
    after(&f, md, MD_DRIVE_FAILED, 1);
    ck_assert_str_eq(tr_calls(&f), "H errored " NAME "\n");
    md_clock_sim_advance(f.sim, apr_time_from_sec(30 * 60));
    after(&f, md, MD_DRIVE_FAILED, 1);
    md_clock_sim_advance(f.sim, apr_time_from_sec(29 * 60));
    after(&f, md, MD_DRIVE_FAILED, 1);
    ck_assert_str_eq(tr_calls(&f), "");
    md_clock_sim_advance(f.sim, apr_time_from_sec(2 * 60));
    after(&f, md, MD_DRIVE_FAILED, 1);
    ck_assert_str_eq(tr_calls(&f), "H errored " NAME "\n");
    after(&f, md, MD_DRIVE_NOT_DUE, 0);     /* nothing failed: nothing said */
    ck_assert_str_eq(tr_calls(&f), "");
    ck_assert_int_eq(md_file_is(md_file_join(f.p, md_store_base_dir(f.store), MD_REG_EVENTS_DIR, NAME ".json", NULL),
                                APR_REG, f.p), APR_SUCCESS);
    tr_done(&f);
}
END_TEST

/* renewed and installed after real renewals: renewed is repeated at later calls until it exits 0 and then never
 * again; a new set (the next renewal) is announced again. */
START_TEST(ev_after_renewed_until_ok)
{
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = handler_md(&f, NAME, "");
    tr_exit(&f, "renewed", "1\n75\n0\n1");
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    ck_assert_str_eq(tr_calls(&f), "H renewing " NAME "\nlocal setup " NAME "\n"
                     "H challenge-setup:http-01:" NAME " " NAME "\nCA validate http-01 " NAME "\n"
                     "local teardown " NAME "\nH renewed " NAME "\nH installed " NAME "\n");
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_NOT_DUE);
    ck_assert_str_eq(tr_calls(&f), "H renewed " NAME "\n");         /* 75 */
    md_clock_sim_advance(f.sim, TR_HOUR);
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "H renewed " NAME "\n");         /* 0 */
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_NOT_DUE);
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "");
    /* the next renewal is a new set: announced again (its exit 1 keeps it owed) */
    md_clock_sim_advance(f.sim, TR_HOUR);
    tr_assert_outcome(tr_run1(&f, NAME, 1), MD_DRIVE_ACTIVATED);
    tr_assert_has(tr_calls(&f), "H renewed " NAME "\nH installed " NAME "\n");
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "H renewed " NAME "\n");
    tr_done(&f);
}
END_TEST

/* MDMessageCmd and MDNotifyCmd: "renewed" to the message program, the notify program for each new set, each
 * repeated on its own until it exits 0. */
START_TEST(ev_after_notify_separate)
{
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    f.rn.programs.argv[MD_EVENT_PROG_MESSAGE] = tr_prog(&f, "M");
    f.rn.programs.argv[MD_EVENT_PROG_NOTIFY] = tr_prog(&f, "N");
    md = tr_add(&f, NAME);
    tr_exit(&f, "notify", "1\n1\n0");
    tr_exit(&f, "renewed", "0");
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    tr_assert_has(tr_calls(&f), "M renewed " NAME "\nN " NAME "\nM installed " NAME "\n");
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "N " NAME "\n");
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "N " NAME "\n");
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "");
    /* and the other way round: the message program fails, notify is done at once */
    tr_exit(&f, "notify", "0");
    tr_exit(&f, "renewed", "1\n0");
    md_clock_sim_advance(f.sim, TR_HOUR);
    tr_assert_outcome(tr_run1(&f, NAME, 1), MD_DRIVE_ACTIVATED);
    tr_assert_has(tr_calls(&f), "M renewed " NAME "\nN " NAME "\nM installed " NAME "\n");
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "M renewed " NAME "\n");
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "");
    tr_done(&f);
}
END_TEST

/* Drive one MD as the module does: staged, not activated. */
static md_reg_item_t *run_staged(tr_t *f, const char *name)
{
    apr_array_header_t *items = tr_items(f, name);

    tr_run(f, items, NULL);
    return tr_item(items, 0);
}

/* As mod_md: a failing MDNotifyCmd (or MDMessageCmd renewed) is a renewal error of the staged job: errors 1, last
 * with mod_md's problem type and words, its log entry, and the MD is driven again after MDRetryDelay (jittered,
 * each time as a first error, as mod_md counts it); once it exits 0 the job is told (notified-renewed) and clean. */
START_TEST(ev_after_notify_counts_as_error)
{
    md_reg_item_t *item;
    md_job_t *job;
    tr_t f;
    int i;

    tr_init(&f, 6);
    f.events.labels[MD_EVENT_PROG_NOTIFY] = "MDNotifyCmd";
    f.rn.programs.argv[MD_EVENT_PROG_NOTIFY] = tr_prog(&f, "N");
    tr_add(&f, NAME);
    tr_exit(&f, "notify", "5\n5\n0");
    item = run_staged(&f, NAME);
    tr_assert_outcome(item, MD_DRIVE_STAGED);
    tr_assert_has(tr_calls(&f), "N " NAME "\n");
    job = tr_job(&f, NAME);
    ck_assert(job->finished);
    ck_assert_int_eq(job->errors, 1);
    ck_assert(!job->notified_renewed);
    ck_assert_int_eq(md_json_getl(job->last, "status", NULL), APR_EGENERAL);
    ck_assert_str_eq(md_json_gets(job->last, "problem", NULL), "urn:org:apache:httpd:log:AH10108:");
    ck_assert_str_eq(md_json_gets(job->last, "detail", NULL),
                     apr_pstrcat(f.p, "MDNotifyCmd ", f.script, " N failed with exit code 5.", NULL));
    ck_assert_str_eq(md_json_gets(job->last, "valid-from", NULL), md_time_print_http(job->valid_from, f.p));
    ck_assert(!md_json_has_key(job->last, "activity", NULL));
    ck_assert_str_eq(md_json_gets(md_json_at(job->log, 0, NULL), "type", NULL), "notify-error");
    ck_assert_str_eq(md_json_gets(md_json_at(job->log, 0, NULL), "status", NULL), "urn:org:apache:httpd:log:AH10108:");
    /* the retry: after MDRetryDelay (60 s here) -50%..+50%, not at the next check interval */
    ck_assert_int_ge(item->next, tr_now(&f) + apr_time_from_sec(30));
    ck_assert_int_le(item->next, tr_now(&f) + apr_time_from_sec(90));
    ck_assert_int_eq(apr_time_sec(job->next_run), apr_time_sec(item->next));
    for (i = 0; i < 2; ++i) {
        md_clock_sim_set(f.sim, item->next);
        item = run_staged(&f, NAME);
        tr_assert_outcome(item, MD_DRIVE_STAGED);
        ck_assert_str_eq(tr_calls(&f), "N " NAME "\n");
        job = tr_job(&f, NAME);
        ck_assert_int_eq(job->errors, i == 0 ? 1 : 0);          /* never more than 1, as mod_md */
    }
    ck_assert(job->notified_renewed && job->notified);
    ck_assert_int_eq(md_json_getl(job->last, "status", NULL), 0);
    ck_assert_int_eq(job->next_run, 0);
    ck_assert_int_eq(item->next, 0);
    item = run_staged(&f, NAME);
    ck_assert_str_eq(tr_calls(&f), "");
    tr_done(&f);
}
END_TEST

/* Without any program the staged job is told at once (notified-renewed), as mod_md's; the event handler's failing
 * renewed is only asked again, no renewal error. */
START_TEST(ev_after_job_told)
{
    md_reg_item_t *item;
    md_job_t *job;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, NAME);
    tr_assert_outcome(run_staged(&f, NAME), MD_DRIVE_STAGED);
    job = tr_job(&f, NAME);
    ck_assert(job->notified_renewed && job->notified);
    tr_done(&f);

    tr_init(&f, 6);
    handler_md(&f, NAME, "");
    tr_exit(&f, "renewed", "1\n0");
    item = run_staged(&f, NAME);
    tr_assert_outcome(item, MD_DRIVE_STAGED);
    job = tr_job(&f, NAME);
    ck_assert(!job->notified_renewed);
    ck_assert_int_eq(job->errors, 0);
    ck_assert_int_eq(item->next, 0);
    item = run_staged(&f, NAME);
    tr_assert_has(tr_calls(&f), "H renewed " NAME "\n");
    job = tr_job(&f, NAME);
    ck_assert(job->notified_renewed);
    tr_done(&f);
}
END_TEST

/* NAME with the event handler, issued for 6 days and activated, the handler's calls so far read: its notAfter. */
static apr_time_t activated(tr_t *f, md_t **pmd)
{
    tr_init(f, 6);
    *pmd = handler_md(f, NAME, "");
    tr_assert_outcome(tr_run1(f, NAME, 0), MD_DRIVE_ACTIVATED);
    tr_calls(f);
    return md_cert_get_not_after(tr_leaf(f, NAME));
}

/* expiring: while a certificate is in the warn window (10% of 6 days: the last 14.4 hours), at most daily; not
 * after a drive that made a new set. */
START_TEST(ev_after_expiring_daily)
{
    apr_time_t na;
    md_t *md;
    tr_t f;

    na = activated(&f, &md);
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    md_clock_sim_set(f.sim, na - 15 * TR_HOUR);
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "");
    md_clock_sim_set(f.sim, na - 14 * TR_HOUR);
    after(&f, md, MD_DRIVE_FAILED, 1);
    ck_assert_str_eq(tr_calls(&f), "H errored " NAME "\nH expiring " NAME "\n");
    md_clock_sim_set(f.sim, na - 2 * TR_HOUR);
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "");
    md_clock_sim_set(f.sim, na + 10 * TR_HOUR + apr_time_from_sec(1));     /* expired, a day after the first */
    after(&f, md, MD_DRIVE_BACKING_OFF, 0);
    ck_assert_str_eq(tr_calls(&f), "H expiring " NAME "\n");
    md_clock_sim_advance(f.sim, 23 * TR_HOUR);
    after(&f, md, MD_DRIVE_NOT_DUE, 0);
    ck_assert_str_eq(tr_calls(&f), "");
    md_clock_sim_advance(f.sim, 2 * TR_HOUR);
    after(&f, md, MD_DRIVE_STAGED, 0);        /* a new set was made: no warning */
    ck_assert_ptr_null(strstr(tr_calls(&f), "expiring"));
    tr_done(&f);
}
END_TEST

/* A job of a failing renewal: errors in a row (the back-off a day long from 17 on), the next attempt at next_run. */
static void failing_job(tr_t *f, const char *name, int errors, apr_time_t next_run)
{
    md_job_t *job = tr_job(f, name);

    job->errors = errors;
    job->next_run = next_run;
    ck_assert_int_eq(md_job_save(job, f->store, MD_SG_STAGING, NULL, f->p), APR_SUCCESS);
}

/* expiring also outside the warn window, when the back-off leaves few attempts before the deadline (6 days, failing
 * daily: at day 4.0, 5.0 and 5.4, the start of the warn window, is 3: low); 4 are not. The status model shows the
 * deadline and the count. */
START_TEST(ev_after_expiring_attempts_low)
{
    md_reg_state_t *st;
    md_json_t *json;
    apr_time_t na;
    md_t *md;
    tr_t f;

    na = activated(&f, &md);
    md_clock_sim_set(f.sim, na - 3 * TR_DAY - TR_DAY / 2);
    failing_job(&f, NAME, 20, na - 3 * TR_DAY - TR_DAY / 5);     /* day 2.8, 3.8, 4.8, 5.4 */
    after(&f, md, MD_DRIVE_BACKING_OFF, 0);
    ck_assert_str_eq(tr_calls(&f), "");
    st = md_reg_state(f.reg, md, NULL, f.p);
    ck_assert_int_eq(st->deadline, na);
    ck_assert_int_eq(st->attempts_left, 4);
    ck_assert(!st->attempts_low);
    ck_assert(!md_json_has_key(md_reg_status(f.reg, st, NULL, f.p), "renew-attempts-low", NULL));
    ck_assert(!st->warn);
    failing_job(&f, NAME, 20, na - 2 * TR_DAY);                  /* day 4.0, 5.0, 5.4 */
    after(&f, md, MD_DRIVE_BACKING_OFF, 0);
    ck_assert_str_eq(tr_calls(&f), "H expiring " NAME "\n");
    st = md_reg_state(f.reg, md, NULL, f.p);
    ck_assert_int_eq(st->attempts_left, 3);
    ck_assert(!st->warn);
    json = md_reg_status(f.reg, st, NULL, f.p);
    ck_assert_str_eq(md_json_gets(json, "renew-deadline", NULL), md_time_print_http(na, f.p));
    ck_assert_int_eq(md_json_getl(json, "renew-attempts-left", NULL), 3);
    ck_assert(st->attempts_low && md_json_getb(json, "renew-attempts-low", NULL));
    after(&f, md, MD_DRIVE_BACKING_OFF, 0);                      /* at most daily */
    ck_assert_str_eq(tr_calls(&f), "");
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_events_suite(void)
{
    Suite *s = suite_create("reg_events");
    TCase *tc = tcase_create("challenges");
    TCase *tc2 = tcase_create("after");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ev_dns01_wildcard);
    tcase_add_test(tc, ev_unknown_challenge_type_unused);
    tcase_add_test(tc, ev_http01_remote);
    tcase_add_test(tc, ev_needs_poll);
    tcase_add_test(tc, ev_needs_poll_in_run);
    tcase_add_test(tc, ev_needs_poll_timeout);
    tcase_add_test(tc, ev_retry);
    tcase_add_test(tc, ev_hard_failure_blocks);
    tcase_add_test(tc, ev_renewing_refused);
    tcase_add_test(tc, ev_dns01_program_precedence);
    suite_add_tcase(s, tc);
    tcase_set_timeout(tc2, 60);
    tcase_add_test(tc2, ev_after_errored_hourly);
    tcase_add_test(tc2, ev_after_renewed_until_ok);
    tcase_add_test(tc2, ev_after_notify_separate);
    tcase_add_test(tc2, ev_after_notify_counts_as_error);
    tcase_add_test(tc2, ev_after_job_told);
    tcase_add_test(tc2, ev_after_expiring_daily);
    tcase_add_test(tc2, ev_after_expiring_attempts_low);
    suite_add_tcase(s, tc2);
    return s;
}
