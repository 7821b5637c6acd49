/* Unit tests of the event dispatcher: routing and precedence, calling conventions, the exit-code contract, time
 * limits, the environment and what reaches logs. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <apr_strings.h>

#include "md_event.h"
#include "md_file.h"
#include "md_result.h"
#include "test_common.h"

typedef struct {
    apr_pool_t *p;
    const char *dir;
    const char *script;        /* records its argv and MD_* environment, exits with $EXIT (file "exit") */
    md_events_t ev;
    md_event_programs_t progs;
    int logged[3];
    const char *last_log;
} ev_fixture_t;

static void on_log(void *baton, int level, const char *message)
{
    ev_fixture_t *f = baton;

    f->logged[level]++;
    f->last_log = apr_pstrdup(f->p, message);
}

static apr_array_header_t *argv_of(ev_fixture_t *f, const char *tag)
{
    apr_array_header_t *a = apr_array_make(f->p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(a, const char *) = f->script;
    APR_ARRAY_PUSH(a, const char *) = tag;
    return a;
}

static void fixture(ev_fixture_t *f)
{
    const char *text = "#!/bin/sh\n"
        "out=\"$(dirname \"$0\")/calls\"\n"
        "echo \"$* | $MD_MDOMAIN $MD_EVENT $MD_VERSION ${MD_STORE:+store}\" >> \"$out\"\n"
        "code=$(cat \"$(dirname \"$0\")/exit\" 2>/dev/null || echo 0)\n"
        "[ \"$code\" = sleep ] && exec sleep 30\n"
        "printf 'line one\\n\\033[31mred\\033[0m\\n'\n"
        "exit $code\n";

    memset(f, 0, sizeof(*f));
    f->p = md_test_pool();
    f->dir = md_test_mkdtemp(f->p);
    f->script = md_file_join(f->p, f->dir, "hook.sh", NULL);
    ck_assert_int_eq(md_file_write_atomic(f->script, text, strlen(text), 0755, f->p), APR_SUCCESS);
    f->ev.store_dir = f->dir;
    f->ev.log = on_log;
    f->ev.log_baton = f;
    f->ev.labels[MD_EVENT_PROG_HANDLER] = "MDEventHandler";
}

static void fixture_done(ev_fixture_t *f)
{
    md_test_rmdir(f->dir, f->p);
    md_test_pool_done(f->p);
}

static void set_exit(ev_fixture_t *f, const char *code)
{
    const char *path = md_file_join(f->p, f->dir, "exit", NULL);

    ck_assert_int_eq(md_file_write_atomic(path, code, strlen(code), 0644, f->p), APR_SUCCESS);
}

/* The lines the script recorded since the last call, then forgotten. */
static const char *calls(ev_fixture_t *f)
{
    const char *path = md_file_join(f->p, f->dir, "calls", NULL);
    char *text = NULL;
    apr_size_t len;

    if (md_file_read(&text, &len, path, f->p) != APR_SUCCESS) return "";
    unlink(path);
    return text;
}

static md_event_outcome_t raise_ev(ev_fixture_t *f, const char *name, md_result_t *result, ...)
    __attribute__((sentinel));
static md_event_outcome_t raise_ev(ev_fixture_t *f, const char *name, md_result_t *result, ...)
{
    apr_array_header_t *args = apr_array_make(f->p, 3, sizeof(const char *));
    md_event_outcome_t outcome = MD_EVENT_FAILED;
    md_event_t event;
    const char *s;
    va_list ap;

    va_start(ap, result);
    while ((s = va_arg(ap, const char *)) != NULL) APR_ARRAY_PUSH(args, const char *) = s;
    va_end(ap);
    event.name = name;
    event.md_name = "example.org";
    event.args = args;
    event.env = NULL;
    md_event_raise(&outcome, &f->ev, &f->progs, &event, result ? result : md_result_make(f->p), f->p);
    return outcome;
}

START_TEST(route_precedence)
{
    ev_fixture_t f;
    md_event_programs_t *pr;

    fixture(&f);
    pr = &f.progs;
    ck_assert_int_eq(md_event_route(pr, "renewed"), MD_EVENT_PROG_COUNT);
    pr->argv[MD_EVENT_PROG_HANDLER] = argv_of(&f, "H");
    ck_assert_int_eq(md_event_route(pr, "renewed"), MD_EVENT_PROG_HANDLER);
    ck_assert_int_eq(md_event_route(pr, "setup"), MD_EVENT_PROG_HANDLER);
    ck_assert_int_eq(md_event_route(pr, "setup-http-01"), MD_EVENT_PROG_HANDLER);
    ck_assert_int_eq(md_event_route(pr, MD_EVENT_NOTIFY), MD_EVENT_PROG_COUNT);
    pr->argv[MD_EVENT_PROG_NOTIFY] = argv_of(&f, "N");
    ck_assert_int_eq(md_event_route(pr, "renewed"), MD_EVENT_PROG_COUNT);      /* MDNotifyCmd takes renewed */
    ck_assert_int_eq(md_event_route(pr, MD_EVENT_NOTIFY), MD_EVENT_PROG_NOTIFY);
    ck_assert_int_eq(md_event_route(pr, "errored"), MD_EVENT_PROG_HANDLER);
    pr->argv[MD_EVENT_PROG_MESSAGE] = argv_of(&f, "M");
    ck_assert_int_eq(md_event_route(pr, "renewed"), MD_EVENT_PROG_MESSAGE);
    ck_assert_int_eq(md_event_route(pr, "errored"), MD_EVENT_PROG_MESSAGE);
    ck_assert_int_eq(md_event_route(pr, "challenge-setup:http-01:example.org"), MD_EVENT_PROG_MESSAGE);
    ck_assert_int_eq(md_event_route(pr, "setup"), MD_EVENT_PROG_HANDLER);      /* not a message */
    pr->argv[MD_EVENT_PROG_DNS01] = argv_of(&f, "D");
    ck_assert_int_eq(md_event_route(pr, "setup"), MD_EVENT_PROG_DNS01);
    ck_assert_int_eq(md_event_route(pr, "poll-setup"), MD_EVENT_PROG_DNS01);
    ck_assert_int_eq(md_event_route(pr, "setup-http-01"), MD_EVENT_PROG_HANDLER);
    ck_assert_int_eq(md_event_route(pr, "poll-setup-http-01"), MD_EVENT_PROG_HANDLER);
    fixture_done(&f);
}
END_TEST

/* Each program's calling convention, with the MD_* environment. */
START_TEST(calling_conventions)
{
    ev_fixture_t f;

    fixture(&f);
    f.progs.argv[MD_EVENT_PROG_HANDLER] = argv_of(&f, "H");
    ck_assert_int_eq(raise_ev(&f, "setup", NULL, "example.org", "TXTVALUE", NULL), MD_EVENT_OK);
    ck_assert_str_eq(calls(&f), "H setup example.org example.org TXTVALUE | example.org setup " MD_VERSION
                     " store\n");
    ck_assert_int_eq(raise_ev(&f, "setup-http-01", NULL, "www.example.org", "TOK", "TOK.THUMB", NULL), MD_EVENT_OK);
    ck_assert_str_eq(calls(&f), "H setup-http-01 example.org www.example.org TOK TOK.THUMB | example.org "
                     "setup-http-01 " MD_VERSION " store\n");
    f.progs.argv[MD_EVENT_PROG_DNS01] = argv_of(&f, "D");
    ck_assert_int_eq(raise_ev(&f, "setup", NULL, "example.org", "TXTVALUE", NULL), MD_EVENT_OK);
    ck_assert_int_eq(raise_ev(&f, "teardown", NULL, "example.org", "TXTVALUE", NULL), MD_EVENT_OK);
    f.progs.dns01_version = 2;
    ck_assert_int_eq(raise_ev(&f, "teardown", NULL, "example.org", "TXTVALUE", NULL), MD_EVENT_OK);
    ck_assert_str_eq(calls(&f), "D setup example.org TXTVALUE | example.org setup " MD_VERSION " store\n"
                     "D teardown example.org | example.org teardown " MD_VERSION " store\n"
                     "D teardown example.org TXTVALUE | example.org teardown " MD_VERSION " store\n");
    f.progs.argv[MD_EVENT_PROG_MESSAGE] = argv_of(&f, "M");
    f.progs.argv[MD_EVENT_PROG_NOTIFY] = argv_of(&f, "N");
    ck_assert_int_eq(raise_ev(&f, "renewed", NULL, NULL), MD_EVENT_OK);
    ck_assert_int_eq(raise_ev(&f, MD_EVENT_NOTIFY, NULL, NULL), MD_EVENT_OK);
    ck_assert_str_eq(calls(&f), "M renewed example.org | example.org renewed " MD_VERSION " store\n"
                     "N example.org | example.org notify " MD_VERSION " store\n");
    fixture_done(&f);
}
END_TEST

/* The handler's exit codes mean what the contract says; the result names program, exit and output. */
START_TEST(handler_exit_codes)
{
    ev_fixture_t f;
    md_result_t *result;

    fixture(&f);
    f.progs.argv[MD_EVENT_PROG_HANDLER] = argv_of(&f, "H");
    set_exit(&f, "0");
    ck_assert_int_eq(raise_ev(&f, "renewed", NULL, NULL), MD_EVENT_OK);
    ck_assert_int_eq(f.logged[2], 1);
    set_exit(&f, "75");
    result = md_result_make(f.p);
    ck_assert_int_eq(raise_ev(&f, "setup", result, "example.org", "V", NULL), MD_EVENT_RETRY);
    ck_assert_int_eq(result->status, APR_EAGAIN);
    ck_assert_ptr_nonnull(strstr(result->detail, "MDEventHandler setup example.org example.org: exit 75 (retry): line one | "
                                 "?[31mred?[0m"));
    set_exit(&f, "76");
    ck_assert_int_eq(raise_ev(&f, "setup-http-01", NULL, "a", "b", "c", NULL), MD_EVENT_NEEDS_POLL);
    set_exit(&f, "1");
    result = md_result_make(f.p);
    ck_assert_int_eq(raise_ev(&f, "setup", result, "example.org", "V", NULL), MD_EVENT_FAILED);
    ck_assert_int_eq(result->status, APR_EGENERAL);
    ck_assert_int_eq(f.logged[1], 3);
    ck_assert_ptr_nonnull(strstr(f.last_log, "exit 1 (failed)"));
    fixture_done(&f);
}
END_TEST

/* mod_md's programs keep mod_md's reading: any non-zero exit means "try again later"; 76 polls a dns-01 setup. */
START_TEST(specific_exit_codes)
{
    ev_fixture_t f;

    fixture(&f);
    f.progs.argv[MD_EVENT_PROG_MESSAGE] = argv_of(&f, "M");
    f.progs.argv[MD_EVENT_PROG_DNS01] = argv_of(&f, "D");
    set_exit(&f, "1");
    ck_assert_int_eq(raise_ev(&f, "renewing", NULL, NULL), MD_EVENT_RETRY);
    ck_assert_int_eq(raise_ev(&f, "setup", NULL, "example.org", "V", NULL), MD_EVENT_RETRY);
    set_exit(&f, "76");
    ck_assert_int_eq(raise_ev(&f, "setup", NULL, "example.org", "V", NULL), MD_EVENT_NEEDS_POLL);
    ck_assert_int_eq(raise_ev(&f, "teardown", NULL, "example.org", "V", NULL), MD_EVENT_RETRY);
    ck_assert_int_eq(raise_ev(&f, "renewing", NULL, NULL), MD_EVENT_RETRY);
    fixture_done(&f);
}
END_TEST

/* A failing MDMessageCmd or MDNotifyCmd is reported as mod_md reports it (job.json's "last"): its sentence with the
 * program line, its log id as the problem type, APR_EGENERAL; the program's output stays in the log line. */
START_TEST(specific_failure_in_mod_md_words)
{
    md_result_t *result;
    ev_fixture_t f;

    fixture(&f);
    f.ev.labels[MD_EVENT_PROG_MESSAGE] = "MDMessageCmd";
    f.ev.labels[MD_EVENT_PROG_NOTIFY] = "MDNotifyCmd";
    f.progs.argv[MD_EVENT_PROG_MESSAGE] = argv_of(&f, "M");
    f.progs.argv[MD_EVENT_PROG_NOTIFY] = argv_of(&f, "N");
    set_exit(&f, "4");
    result = md_result_make(f.p);
    ck_assert_int_eq(raise_ev(&f, "renewing", result, NULL), MD_EVENT_RETRY);
    ck_assert_str_eq(result->detail, apr_pstrcat(f.p, "MDMessageCmd ", f.script, " M failed with exit code 4.", NULL));
    ck_assert_str_eq(result->problem, "urn:org:apache:httpd:log:AH10109:");
    ck_assert_int_eq(result->status, APR_EGENERAL);
    ck_assert_ptr_nonnull(strstr(f.last_log, "line one"));
    result = md_result_make(f.p);
    ck_assert_int_eq(raise_ev(&f, MD_EVENT_NOTIFY, result, NULL), MD_EVENT_RETRY);
    ck_assert_str_eq(result->detail, apr_pstrcat(f.p, "MDNotifyCmd ", f.script, " N failed with exit code 4.", NULL));
    ck_assert_str_eq(result->problem, "urn:org:apache:httpd:log:AH10108:");
    /* the event handler keeps its own words */
    f.progs.argv[MD_EVENT_PROG_MESSAGE] = NULL;
    f.progs.argv[MD_EVENT_PROG_HANDLER] = argv_of(&f, "H");
    result = md_result_make(f.p);
    ck_assert_int_eq(raise_ev(&f, "renewing", result, NULL), MD_EVENT_FAILED);
    ck_assert_ptr_null(result->problem);
    ck_assert_ptr_nonnull(strstr(result->detail, "exit 4 (failed)"));
    fixture_done(&f);
}
END_TEST

/* Over its time the program's group is killed: the handler's call failed, a specific program's is retried. */
START_TEST(time_limit)
{
    ev_fixture_t f;
    md_result_t *result = NULL;

    fixture(&f);
    f.ev.message_timeout = apr_time_from_msec(300);
    f.progs.argv[MD_EVENT_PROG_HANDLER] = argv_of(&f, "H");
    set_exit(&f, "sleep");
    result = md_result_make(f.p);
    ck_assert_int_eq(raise_ev(&f, "renewed", result, NULL), MD_EVENT_FAILED);
    ck_assert_int_eq(result->status, APR_TIMEUP);
    ck_assert_int_eq(f.logged[0], 1);
    f.progs.argv[MD_EVENT_PROG_MESSAGE] = argv_of(&f, "M");
    ck_assert_int_eq(raise_ev(&f, "renewed", NULL, NULL), MD_EVENT_RETRY);
    fixture_done(&f);
}
END_TEST

START_TEST(none_configured)
{
    ev_fixture_t f;
    md_result_t *result;

    fixture(&f);
    result = md_result_make(f.p);
    ck_assert_int_eq(raise_ev(&f, "renewed", result, NULL), MD_EVENT_NONE);
    ck_assert_int_eq(result->status, APR_SUCCESS);
    ck_assert_str_eq(calls(&f), "");
    fixture_done(&f);
}
END_TEST

START_TEST(argv_and_output)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *a = md_event_argv("/usr/bin/hook --zone 'my zone' \"x y\"", p);

    ck_assert_int_eq(a->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(a, 2, const char *), "my zone");
    ck_assert_str_eq(APR_ARRAY_IDX(a, 3, const char *), "x y");
    ck_assert_ptr_null(md_event_argv("   ", p));
    ck_assert_str_eq(md_event_output_line("a\r\nb\n\n", 100, p), "a | b");
    ck_assert_str_eq(md_event_output_line("\x1b[2Jx\ty", 100, p), "?[2Jx y");
    ck_assert_str_eq(md_event_output_line("abcdef", 3, p), "abc");
    ck_assert_str_eq(md_event_output_line("", 3, p), "(no output)");
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("dispatcher");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, route_precedence);
    tcase_add_test(tc, calling_conventions);
    tcase_add_test(tc, handler_exit_codes);
    tcase_add_test(tc, specific_exit_codes);
    tcase_add_test(tc, specific_failure_in_mod_md_words);
    tcase_add_test(tc, time_limit);
    tcase_add_test(tc, none_configured);
    tcase_add_test(tc, argv_and_output);
    suite_add_tcase(s, tc);
    return s;
}
