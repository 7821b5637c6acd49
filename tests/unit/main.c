/* The unit test runner: every core module's Check suite, several suites at a time, gated by the expected number of
 * tests. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <apr_general.h>

#include "test_common.h"

/* Every suite, linked strongly: a suite that is renamed or gone fails the link, and build.mk's unit-suites check
 * fails when a suite defined in tests/unit is missing here. The longest come first (the simulated years, the crash
 * tests, the store), so that the suites run side by side end at about the same time. */
static Suite *(*const suites[])(void) = {
    md_test_reg_fleet_suite, md_test_reg_year_suite, md_test_reg_crash_suite, md_test_store_suite,
    md_test_reg_events_suite,
    md_test_result_suite, md_test_encode_suite, md_test_time_suite, md_test_file_suite,
    md_test_json_suite, md_test_pkey_suite, md_test_csr_suite, md_test_cert_suite,
    md_test_cert_tail_suite,
    md_test_jws_suite, md_test_http_suite,
    md_test_acme_suite, md_test_acme_acct_suite, md_test_acme_order_suite, md_test_md_suite,
    md_test_renew_suite, md_test_exec_suite, md_test_responder_suite, md_test_drive_suite,
    md_test_drive_ari_suite, md_test_drive_events_suite, md_test_event_suite, md_test_fake_ca_suite,
    md_test_reg_state_suite, md_test_reg_renew_suite, md_test_reg_batch_suite,
    md_test_reg_writes_suite, md_test_reg_challenges_suite,
    md_test_reg_sync_suite, md_test_reg_static_suite, md_test_reg_update_suite, md_test_conf_file_suite,
    md_test_reg_lease_suite, md_test_reg_live_suite, md_test_reg_request_suite, md_test_ocsp_suite,
    md_test_reg_ocsp_suite,
    md_test_preflight_suite,
};

#define EXPECTED_COUNT_FILE "tests/unit/expected-count"

/* The number in the expected-count file (lines starting with '#' are comments); -1 when there is none. */
static long expected_count(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256], *end;
    long n = -1;

    if (!f) {
        fprintf(stderr, "unit: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (n < 0 && fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        n = strtol(line, &end, 10);
        if (end == line || n < 0) n = -1;
        break;
    }
    fclose(f);
    if (n < 0) fprintf(stderr, "unit: %s holds no count\n", path);
    return n;
}

/* Fewer tests than expected fail the run: a suite or a test case that vanished does not pass silently. A run
 * limited by Check's CK_RUN_SUITE, CK_RUN_CASE or tags is not counted. */
static int count_ok(int ran, const char *path)
{
    static const char *const limits[] = { "CK_RUN_SUITE", "CK_RUN_CASE", "CK_INCLUDE_TAGS", "CK_EXCLUDE_TAGS" };
    long expected;
    size_t i;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); ++i) {
        if (getenv(limits[i]) && *getenv(limits[i])) {
            printf("%d checks (a run limited by %s: not compared with %s)\n", ran, limits[i], path);
            return 1;
        }
    }
    expected = expected_count(path);
    if (expected < 0) return 0;
    printf("%d checks, expected at least %ld\n", ran, expected);
    if (ran < expected) {
        fprintf(stderr, "unit: %ld tests fewer than %s expects: a suite or a test is gone\n", expected - ran,
                path);
        return 0;
    }
    if (ran > expected) printf("(more tests than expected: raise the count in %s to %d)\n", path, ran);
    return 1;
}

#define NSUITES (sizeof(suites) / sizeof(suites[0]))
#define DEFAULT_JOBS 4

/* What a suite's process reports back through the pipe (one write, well under PIPE_BUF: never torn). */
typedef struct {
    int suite, ran, failed;
} suite_result_t;

/* A suite running in a process of its own: its output goes to a temporary file, copied out when it ends, so that
 * the suites running side by side do not mix their lines. */
typedef struct {
    pid_t pid;
    FILE *out;
} running_t;

/* Runs suites[i] in this (child) process and reports its counts on fd; Check forks each test again as usual. */
static void run_one(size_t i, int fd)
{
    SRunner *sr = srunner_create(suites[i]());
    suite_result_t r;

    srunner_run_all(sr, CK_NORMAL);
    r.suite = (int)i;
    r.ran = srunner_ntests_run(sr);
    r.failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    fflush(stdout);
    /* a suite a CK_RUN_SUITE limit left out ran nothing: its empty "Running suite(s):" lines are not shown */
    if (r.ran == 0 && r.failed == 0 && ftruncate(STDOUT_FILENO, 0) != 0) _exit(2);
    if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) _exit(2);
    _exit(0);
}

/* Copies a finished suite's output to stdout and closes it. */
static void show_output(FILE *out)
{
    char buf[4096];
    size_t n;

    fflush(stdout);
    rewind(out);
    while ((n = fread(buf, 1, sizeof(buf), out)) > 0) fwrite(buf, 1, n, stdout);
    fclose(out);
    fflush(stdout);
}

/* Waits for one of the running suites, shows its output and frees its slot; a process that died without
 * reporting (a crash of the runner itself, not of a test) counts as a failure. Returns 0 when it died so. */
static int reap_one(running_t *slots, int jobs)
{
    int status, k;
    pid_t pid;

    while ((pid = wait(&status)) < 0 && errno == EINTR) ;
    for (k = 0; k < jobs; ++k) {
        if (pid <= 0 || slots[k].pid != pid) continue;
        show_output(slots[k].out);
        slots[k].pid = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "unit: a suite's process ended abnormally (status %d)\n", status);
            return 0;
        }
        return 1;
    }
    fprintf(stderr, "unit: waiting for the suites failed: %s\n", pid < 0 ? strerror(errno) : "an unknown process");
    exit(EXIT_FAILURE);
}

/* Runs every suite, up to jobs at a time (each in a process of its own), and adds up their counts. */
static int run_all(int jobs, int *ran, int *failed)
{
    running_t slots[16] = { { 0, NULL } };
    suite_result_t r;
    int fds[2], ok = 1, reported = 0, k, busy = 0;
    size_t next = 0;

    if (pipe(fds) != 0) return 0;
    *ran = *failed = 0;
    while (next < NSUITES || busy > 0) {
        if (next < NSUITES && busy < jobs) {
            for (k = 0; slots[k].pid != 0; ++k) ;
            fflush(stdout);
            if (!(slots[k].out = tmpfile())) return 0;
            slots[k].pid = fork();
            if (slots[k].pid < 0) return 0;
            if (slots[k].pid == 0) {
                close(fds[0]);
                dup2(fileno(slots[k].out), STDOUT_FILENO);
                dup2(fileno(slots[k].out), STDERR_FILENO);
                run_one(next, fds[1]);
            }
            ++next;
            ++busy;
            continue;
        }
        if (!reap_one(slots, jobs)) ok = 0;
        --busy;
    }
    close(fds[1]);
    while (read(fds[0], &r, sizeof(r)) == (ssize_t)sizeof(r)) {
        *ran += r.ran;
        *failed += r.failed;
        ++reported;
    }
    close(fds[0]);
    if (reported != (int)NSUITES) {
        fprintf(stderr, "unit: %d of %zu suites reported their counts\n", reported, NSUITES);
        ok = 0;
    }
    return ok;
}

/* How many suites run at a time: MD_UNIT_JOBS (1-16), by default 4 (the tests wait on timers and child
 * processes more than they compute). */
static int jobs_wanted(void)
{
    const char *v = getenv("MD_UNIT_JOBS");
    long n = v && *v ? strtol(v, NULL, 10) : DEFAULT_JOBS;

    if (n < 1 || n > 16) {
        fprintf(stderr, "unit: MD_UNIT_JOBS must be 1 to 16, not '%s'; running %d at a time\n", v, DEFAULT_JOBS);
        n = DEFAULT_JOBS;
    }
    return (int)n;
}

/* Usage: unit-tests [EXPECTED-COUNT-FILE], by default tests/unit/expected-count (run from the top directory). */
int main(int argc, char **argv)
{
    const char *count_file = argc > 1 ? argv[1] : EXPECTED_COUNT_FILE;
    int jobs = jobs_wanted(), failed = 0, ran = 0, ok;

    /* Suites side by side share the cores: each test's time limit is doubled (unless set otherwise). */
    if (jobs > 1) setenv("CK_TIMEOUT_MULTIPLIER", "2", 0);
    apr_initialize();
    ok = run_all(jobs, &ran, &failed);
    apr_terminate();
    printf("unit: %zu suites, %d checks, %d failed (%d at a time)\n", NSUITES, ran, failed, jobs);
    if (!count_ok(ran, count_file)) return EXIT_FAILURE;
    return ok && failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
