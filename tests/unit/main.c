/* The unit test runner: every core module's Check suite in one run. */
#include <stdlib.h>
#include <stdio.h>
#include <apr_general.h>

#include "test_common.h"

/* Weak so that the runner links while a module's tests are being written. */
#pragma weak md_test_result_suite
#pragma weak md_test_encode_suite
#pragma weak md_test_time_suite
#pragma weak md_test_file_suite
#pragma weak md_test_json_suite
#pragma weak md_test_pkey_suite
#pragma weak md_test_csr_suite
#pragma weak md_test_cert_suite
#pragma weak md_test_jws_suite
#pragma weak md_test_store_suite
#pragma weak md_test_http_suite
#pragma weak md_test_acme_suite
#pragma weak md_test_acme_acct_suite
#pragma weak md_test_acme_order_suite
#pragma weak md_test_md_suite
#pragma weak md_test_renew_suite
#pragma weak md_test_exec_suite
#pragma weak md_test_responder_suite
#pragma weak md_test_drive_suite
#pragma weak md_test_drive_ari_suite
#pragma weak md_test_drive_events_suite
#pragma weak md_test_event_suite
#pragma weak md_test_fake_ca_suite
#pragma weak md_test_reg_state_suite
#pragma weak md_test_reg_renew_suite
#pragma weak md_test_reg_events_suite
#pragma weak md_test_reg_year_suite
#pragma weak md_test_reg_challenges_suite
#pragma weak md_test_reg_sync_suite
#pragma weak md_test_reg_static_suite
#pragma weak md_test_reg_lease_suite
#pragma weak md_test_reg_live_suite
#pragma weak md_test_reg_request_suite

typedef Suite *suite_fn(void);

int main(void)
{
    suite_fn *suites[] = {
        md_test_result_suite, md_test_encode_suite, md_test_time_suite, md_test_file_suite,
        md_test_json_suite, md_test_pkey_suite, md_test_csr_suite, md_test_cert_suite,
        md_test_jws_suite, md_test_store_suite, md_test_http_suite,
        md_test_acme_suite, md_test_acme_acct_suite, md_test_acme_order_suite, md_test_md_suite, md_test_renew_suite, md_test_exec_suite, md_test_responder_suite, md_test_drive_suite, md_test_drive_ari_suite,
        md_test_drive_events_suite, md_test_event_suite, md_test_fake_ca_suite,
        md_test_reg_state_suite, md_test_reg_renew_suite, md_test_reg_events_suite, md_test_reg_year_suite,
        md_test_reg_challenges_suite,
        md_test_reg_sync_suite, md_test_reg_static_suite, md_test_reg_lease_suite, md_test_reg_live_suite, md_test_reg_request_suite,
    };
    SRunner *sr = NULL;
    size_t i;
    int failed;

    apr_initialize();
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); ++i) {
        if (!suites[i]) continue;
        if (!sr) sr = srunner_create(suites[i]());
        else srunner_add_suite(sr, suites[i]());
    }
    if (!sr) {
        fprintf(stderr, "no test suites linked\n");
        return EXIT_FAILURE;
    }
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
