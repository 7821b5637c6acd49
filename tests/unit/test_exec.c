/* Unit tests for running external programs: exit codes, outcomes, output, environment, time limits. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <apr_strings.h>

#include "md_exec.h"
#include "md_file.h"
#include "md_result.h"
#include "test_common.h"

static apr_array_header_t *args(apr_pool_t *p, ...) __attribute__((sentinel));
static apr_array_header_t *args(apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    const char *s;
    va_list ap;

    va_start(ap, p);
    while ((s = va_arg(ap, const char *)) != NULL) APR_ARRAY_PUSH(a, const char *) = s;
    va_end(ap);
    return a;
}

/* Run "/bin/sh -c script" with a 10s limit. */
static apr_status_t sh(int *pexit, const char **pout, const char *script, apr_table_t *env,
                       md_result_t *result, apr_pool_t *p)
{
    return md_exec_run(pexit, pout, args(p, "/bin/sh", "-c", script, NULL), env, apr_time_from_sec(10),
                       result, p);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True when the process is gone (or a zombie waiting for its new parent), within a second. */
static int process_gone(long pid, apr_pool_t *p)
{
    const char *f = apr_psprintf(p, "/proc/%ld/stat", pid);
    char stat[512];
    FILE *fp;
    int i, alive;

    for (i = 0; i < 100; ++i) {
        fp = fopen(f, "r");
        if (!fp) return 1;
        alive = fgets(stat, sizeof(stat), fp) && !strstr(stat, ") Z ") && !strstr(stat, ") X ");
        fclose(fp);
        if (!alive) return 1;
        usleep(10000);
    }
    return 0;
}

static void assert_no_children(void)
{
    errno = 0;
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
}

START_TEST(outcomes)
{
    ck_assert_int_eq(md_exec_outcome(0), MD_EXEC_OK);
    ck_assert_int_eq(md_exec_outcome(MD_EXIT_RETRY), MD_EXEC_RETRY);
    ck_assert_int_eq(md_exec_outcome(MD_EXIT_NEEDS_POLL), MD_EXEC_NEEDS_POLL);
    ck_assert_int_eq(md_exec_outcome(1), MD_EXEC_FAILED);
    ck_assert_int_eq(md_exec_outcome(127), MD_EXEC_FAILED);
    ck_assert_int_eq(md_exec_outcome(128 + 9), MD_EXEC_FAILED);
    ck_assert_str_eq(md_exec_outcome_str(MD_EXEC_OK), "ok");
    ck_assert_str_eq(md_exec_outcome_str(MD_EXEC_FAILED), "failed");
    ck_assert_str_eq(md_exec_outcome_str(MD_EXEC_RETRY), "retry");
    ck_assert_str_eq(md_exec_outcome_str(MD_EXEC_NEEDS_POLL), "needs-poll");
}
END_TEST

START_TEST(exit_codes_and_output)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *out;
    int code;

    ck_assert_int_eq(sh(&code, &out, "echo hello; echo oops >&2; exit 0", NULL, result, p), APR_SUCCESS);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(out, "hello\noops\n");
    ck_assert_int_eq(sh(&code, &out, "exit 75", NULL, result, p), APR_SUCCESS);
    ck_assert_int_eq(code, 75);
    ck_assert_int_eq(md_exec_outcome(code), MD_EXEC_RETRY);
    ck_assert_int_eq(sh(&code, &out, "exit 76", NULL, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_exec_outcome(code), MD_EXEC_NEEDS_POLL);
    ck_assert_int_eq(sh(&code, &out, "echo bad; exit 3", NULL, result, p), APR_SUCCESS);
    ck_assert_int_eq(code, 3);
    ck_assert_str_eq(out, "bad\n");
    /* death by a signal: 128 + signal */
    ck_assert_int_eq(sh(&code, &out, "kill -9 $$", NULL, result, p), APR_SUCCESS);
    ck_assert_int_eq(code, 128 + 9);
    /* stdin is /dev/null: cat ends at once */
    ck_assert_int_eq(sh(&code, &out, "cat; echo done", NULL, result, p), APR_SUCCESS);
    ck_assert_str_eq(out, "done\n");
    /* arguments are passed as they are, no shell in between */
    ck_assert_int_eq(md_exec_run(&code, &out, args(p, "/bin/sh", "-c", "printf '%s|' \"$@\"", "x",
                                                   "a b", "$HOME", "*", NULL),
                                 NULL, apr_time_from_sec(10), result, p), APR_SUCCESS);
    ck_assert_str_eq(out, "a b|$HOME|*|");
    assert_no_children();
    md_test_pool_done(p);
}
END_TEST

START_TEST(environment_extras)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    apr_table_t *env = apr_table_make(p, 2);
    const char *out;
    int code;

    setenv("MD_TEST_INHERITED", "from-parent", 1);
    setenv("MD_TEST_REPLACED", "old", 1);
    apr_table_set(env, "MD_TEST_EXTRA", "hello world");
    apr_table_set(env, "MD_TEST_REPLACED", "new");
    ck_assert_int_eq(sh(&code, &out, "echo \"$MD_TEST_EXTRA/$MD_TEST_INHERITED/$MD_TEST_REPLACED\"; "
                                     "env | grep -c '^MD_TEST_REPLACED='", env, result, p), APR_SUCCESS);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(out, "hello world/from-parent/new\n1\n");
    unsetenv("MD_TEST_INHERITED");
    unsetenv("MD_TEST_REPLACED");
    md_test_pool_done(p);
}
END_TEST

START_TEST(only_stdio_inherited)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *out;
    int code;

    /* a descriptor of ours without close-on-exec must not reach the program */
    int fd = dup(2);
    ck_assert_int_ge(fd, 3);
    ck_assert_int_eq(sh(&code, &out, apr_psprintf(p, "test -e /proc/self/fd/%d && echo leaked; echo ok", fd),
                        NULL, result, p), APR_SUCCESS);
    ck_assert_str_eq(out, "ok\n");
    close(fd);
    md_test_pool_done(p);
}
END_TEST

START_TEST(timeout_kills)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *out;
    double start;
    int code;

    start = now_s();
    ck_assert_int_eq(md_exec_run(&code, &out, args(p, "/bin/sleep", "30", NULL), NULL,
                                 apr_time_from_msec(300), result, p), APR_TIMEUP);
    ck_assert_double_lt(now_s() - start, 3.0);
    ck_assert_int_eq(code, 128 + 15);
    ck_assert_ptr_nonnull(strstr(result->detail, "/bin/sleep"));
    ck_assert_ptr_nonnull(strstr(result->detail, "timed out"));
    assert_no_children();

    /* a program ignoring SIGTERM gets SIGKILL 2s later; its children in the group go with it */
    start = now_s();
    ck_assert_int_eq(md_exec_run(&code, &out, args(p, "/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $!; "
                                                   "wait; echo never", NULL), NULL,
                                 apr_time_from_msec(300), result, p), APR_TIMEUP);
    ck_assert_double_lt(now_s() - start, 3.5);
    ck_assert_double_gt(now_s() - start, 2.0);
    ck_assert_int_eq(code, 128 + 9);
    ck_assert_int_gt(atol(out), 1);
    ck_assert(process_gone(atol(out), p));   /* the program's own child went with it */
    assert_no_children();
    md_test_pool_done(p);
}
END_TEST

START_TEST(missing_programs)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p), *noexec = md_file_join(p, dir, "script.sh", NULL), *out;
    int code;

    ck_assert_int_eq(md_exec_run(&code, &out, args(p, "/nonexistent/md-hook", "x", NULL), NULL,
                                 apr_time_from_sec(5), result, p), APR_ENOENT);
    ck_assert_ptr_nonnull(strstr(result->detail, "/nonexistent/md-hook"));
    md_result_reset(result);
    ck_assert_int_eq(md_exec_run(&code, &out, args(p, "md-no-such-program-here", NULL), NULL,
                                 apr_time_from_sec(5), result, p), APR_ENOENT);
    ck_assert_ptr_nonnull(strstr(result->detail, "md-no-such-program-here"));
    /* not executable */
    ck_assert_int_eq(md_file_write_atomic(noexec, "#!/bin/sh\necho hi\n", 18, 0644, p), APR_SUCCESS);
    md_result_reset(result);
    ck_assert_int_eq(md_exec_run(&code, &out, args(p, noexec, NULL), NULL, apr_time_from_sec(5), result, p),
                     APR_EACCES);
    ck_assert_ptr_nonnull(strstr(result->detail, noexec));
    /* a name without '/' is found in PATH */
    ck_assert_int_eq(md_exec_run(&code, &out, args(p, "sh", "-c", "echo via-path", NULL), NULL,
                                 apr_time_from_sec(5), result, p), APR_SUCCESS);
    ck_assert_str_eq(out, "via-path\n");
    /* no program at all */
    ck_assert_int_eq(md_exec_run(&code, &out, args(p, NULL), NULL, apr_time_from_sec(5), result, p),
                     APR_EINVAL);
    assert_no_children();
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(huge_output_truncated)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *out;
    int code;

    /* 4 MiB: far more than a pipe holds; the program must not block and the capture stops at 64 KiB */
    ck_assert_int_eq(sh(&code, &out, "head -c 4194304 /dev/zero | tr '\\000' x; echo tail >&2; exit 4",
                        NULL, result, p), APR_SUCCESS);
    ck_assert_int_eq(code, 4);
    ck_assert_uint_eq(strlen(out), 64 * 1024);
    ck_assert_int_eq(out[0], 'x');
    ck_assert_int_eq(out[64 * 1024 - 1], 'x');
    assert_no_children();
    md_test_pool_done(p);
}
END_TEST

START_TEST(background_process_does_not_block)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *out;
    double start = now_s();
    int code;

    /* the program exits, a process it started keeps the output pipe open: we return anyway */
    ck_assert_int_eq(sh(&code, &out, "sleep 3 & echo forked", NULL, result, p), APR_SUCCESS);
    ck_assert_double_lt(now_s() - start, 2.0);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(out, "forked\n");
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("exec");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, outcomes);
    tcase_add_test(tc, exit_codes_and_output);
    tcase_add_test(tc, environment_extras);
    tcase_add_test(tc, only_stdio_inherited);
    tcase_add_test(tc, timeout_kills);
    tcase_add_test(tc, missing_programs);
    tcase_add_test(tc, huge_output_truncated);
    tcase_add_test(tc, background_process_does_not_block);
    suite_add_tcase(s, tc);
    return s;
}
