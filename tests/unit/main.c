/* The unit test runner: every core module's Check suite in one run, gated by the expected number of tests. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <apr_general.h>

#include "test_common.h"

/* Every suite, linked strongly: a suite that is renamed or gone fails the link, and build.mk's unit-suites check
 * fails when a suite defined in tests/unit is missing here. */
static Suite *(*const suites[])(void) = {
    md_test_result_suite, md_test_encode_suite, md_test_time_suite, md_test_file_suite,
    md_test_json_suite, md_test_pkey_suite, md_test_csr_suite, md_test_cert_suite,
    md_test_jws_suite, md_test_store_suite, md_test_http_suite,
    md_test_acme_suite, md_test_acme_acct_suite, md_test_acme_order_suite, md_test_md_suite,
    md_test_renew_suite, md_test_exec_suite, md_test_responder_suite, md_test_drive_suite,
    md_test_drive_ari_suite, md_test_drive_events_suite, md_test_event_suite, md_test_fake_ca_suite,
    md_test_reg_state_suite, md_test_reg_renew_suite, md_test_reg_batch_suite, md_test_reg_events_suite,
    md_test_reg_year_suite, md_test_reg_crash_suite, md_test_reg_writes_suite, md_test_reg_challenges_suite,
    md_test_reg_sync_suite, md_test_reg_static_suite, md_test_reg_update_suite, md_test_conf_file_suite,
    md_test_reg_lease_suite, md_test_reg_live_suite, md_test_reg_request_suite, md_test_ocsp_suite,
    md_test_reg_ocsp_suite, md_test_reg_fleet_suite,
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

/* Usage: unit-tests [EXPECTED-COUNT-FILE], by default tests/unit/expected-count (run from the top directory). */
int main(int argc, char **argv)
{
    const char *count_file = argc > 1 ? argv[1] : EXPECTED_COUNT_FILE;
    SRunner *sr = NULL;
    size_t i;
    int failed, ran;

    apr_initialize();
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); ++i) {
        if (!sr) sr = srunner_create(suites[i]());
        else srunner_add_suite(sr, suites[i]());
    }
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    ran = srunner_ntests_run(sr);
    srunner_free(sr);
    apr_terminate();
    if (!count_ok(ran, count_file)) return EXIT_FAILURE;
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
