/* Shared helpers for the Check unit tests: the suites, a pool per test, scratch directories. */
#ifndef MD_TEST_COMMON_H
#define MD_TEST_COMMON_H

#include <check.h>
#include <apr_pools.h>

/* One suite per core module; each test file defines its own. */
Suite *md_test_result_suite(void);
Suite *md_test_encode_suite(void);
Suite *md_test_time_suite(void);
Suite *md_test_file_suite(void);
Suite *md_test_json_suite(void);
Suite *md_test_pkey_suite(void);
Suite *md_test_csr_suite(void);
Suite *md_test_cert_suite(void);
Suite *md_test_cert_tail_suite(void);
Suite *md_test_jws_suite(void);
Suite *md_test_store_suite(void);
Suite *md_test_http_suite(void);
Suite *md_test_acme_suite(void);
Suite *md_test_acme_acct_suite(void);
Suite *md_test_acme_order_suite(void);
Suite *md_test_md_suite(void);
Suite *md_test_renew_suite(void);
Suite *md_test_exec_suite(void);
Suite *md_test_responder_suite(void);
Suite *md_test_drive_suite(void);
Suite *md_test_drive_ari_suite(void);
Suite *md_test_drive_events_suite(void);
Suite *md_test_event_suite(void);
Suite *md_test_fake_ca_suite(void);
Suite *md_test_reg_state_suite(void);
Suite *md_test_reg_renew_suite(void);
Suite *md_test_reg_batch_suite(void);
Suite *md_test_reg_events_suite(void);
Suite *md_test_reg_year_suite(void);
Suite *md_test_reg_crash_suite(void);
Suite *md_test_reg_fleet_suite(void);
Suite *md_test_preflight_suite(void);
Suite *md_test_reg_writes_suite(void);
Suite *md_test_reg_challenges_suite(void);
Suite *md_test_reg_sync_suite(void);
Suite *md_test_reg_static_suite(void);
Suite *md_test_reg_lease_suite(void);
Suite *md_test_reg_live_suite(void);
Suite *md_test_reg_request_suite(void);
Suite *md_test_ocsp_suite(void);
Suite *md_test_reg_ocsp_suite(void);
Suite *md_test_reg_update_suite(void);
Suite *md_test_conf_file_suite(void);

/* A fresh pool for one test; destroy it with md_test_pool_done. */
apr_pool_t *md_test_pool(void);
void md_test_pool_done(apr_pool_t *p);
/* A new empty directory under $TMPDIR (or /tmp), removed by md_test_rmdir. */
const char *md_test_mkdtemp(apr_pool_t *p);
void md_test_rmdir(const char *dir, apr_pool_t *p);
/* The path of a file in tests/unit/data (found from MD_TEST_DATA or the working directory). */
const char *md_test_data(const char *name, apr_pool_t *p);

#endif
