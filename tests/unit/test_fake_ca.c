/* Unit tests of the stateful fake ACME CA: real MDs driven through md_drive() against it, on a simulated clock. */
#include "test_fake_ca_fixture.h"

/* ---- issuance ---------------------------------------------------------------------------------------- */

START_TEST(fca_first_issuance)
{
    fx_t f;
    const fake_ca_cert_t *cert;
    apr_time_t now;
    int total;

    fx_init(&f, NAME, 0, apr_time_now());
    now = md_clock_now(md_clock_sim_clock(f.sim));
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    /* what one first issuance of a P-256 MD asks of the CA, account registration included: the order, not the
     * authorization, is polled after the challenge, and this CA's finalize answers "valid" at once */
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_DIRECTORY), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NONCE), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ACCOUNT), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_AUTHZ), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ORDER), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_FINALIZE), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CERT), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 9);
    ck_assert_int_eq(fake_ca_bad_nonces(f.ca), 0);
    /* the CA checked the responder's answer, which was torn down afterwards */
    ck_assert_int_eq(f.validated->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(f.validated, 0, const char *), "http-01 " NAME);
    ck_assert_int_eq(answers_in_place(&f), 0);
    /* the certificate: the one in domains/, issued by the CA, on the CA's clock (90 days by default) */
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    cert = issued(&f, NAME, 0);
    ck_assert_str_eq(cert->names, NAME);
    ck_assert_str_eq(md_cert_get_sha256_fingerprint(fca_fx_leaf(&f, 0), f.p),
                     md_cert_get_sha256_fingerprint(cert->leaf, f.p));
    ck_assert_int_eq(apr_time_sec(cert->not_before), apr_time_sec(now) - 60);
    ck_assert_int_eq(apr_time_sec(cert->not_after), apr_time_sec(now + 90 * DAY));
    assert_chain_ok(&f, cert);
    /* not due again: nothing asked */
    total = fake_ca_count(f.ca, FAKE_CA_ANY);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), total);
    fx_done(&f);
}
END_TEST

/* Two keys: two orders for the same name; with authz reuse (_i == 1) the second needs no challenge. */
START_TEST(fca_two_keys)
{
    fx_t f;
    md_t *md = NULL;
    void *key = NULL;
    int reuse = _i;

    fx_init(&f, NAME, 1, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_AUTHZ_REUSE, reuse);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 2);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), reuse ? 1 : 2);
    ck_assert_int_eq(f.validated->nelts, reuse ? 1 : 2);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 2);
    ck_assert_int_eq(md_load(&md, f.store, MD_SG_DOMAINS, NAME, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_load(&key, f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 0, f.p), MD_SV_PKEY, NULL,
                                   f.p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_get_type(key), MD_PKEY_RSA);
    ck_assert(md_cert_matches_key(issued(&f, NAME, 0)->leaf, key));
    ck_assert_int_eq(md_store_load(&key, f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 1, f.p), MD_SV_PKEY, NULL,
                                   f.p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_get_type(key), MD_PKEY_EC);
    ck_assert(md_cert_matches_key(issued(&f, NAME, 1)->leaf, key));
    ck_assert_str_ne(issued(&f, NAME, 0)->serial_hex, issued(&f, NAME, 1)->serial_hex);
    fx_done(&f);
}
END_TEST

START_TEST(fca_wildcard_dns01)
{
    fx_t f;
    const fake_ca_cert_t *cert;

    fx_init(&f, NAME ",*." NAME, 0, apr_time_now());
    f.dns01 = 1;
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    /* the name by http-01 (preferred), the wildcard's base name by dns-01: the only one its authz offers */
    ck_assert_int_eq(f.validated->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(f.validated, 0, const char *), "http-01 " NAME);
    ck_assert_str_eq(APR_ARRAY_IDX(f.validated, 1, const char *), "dns-01 " NAME);
    cert = issued(&f, "*." NAME ", " NAME, 0);
    ck_assert_str_eq(cert->names, "*." NAME "," NAME);
    ck_assert(md_cert_covers(cert->leaf, NAME, f.p));
    ck_assert(md_cert_covers(cert->leaf, "www." NAME, f.p));
    fx_done(&f);
}
END_TEST

START_TEST(fca_wildcard_needs_dns01)
{
    fx_t f;

    fx_init(&f, NAME ",*." NAME, 0, apr_time_now());
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_msg(strstr(f.result->detail, "*." NAME ": the CA offers dns-01;") != NULL, "%s", f.result->detail);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 0);
    ck_assert_int_eq(answers_in_place(&f), 0);
    fx_done(&f);
}
END_TEST

/* An IP address: an "ip" identifier, answered by http-01 (no dns-01 for addresses), an IP SAN. */
START_TEST(fca_ip_identifier)
{
    fx_t f;
    const fake_ca_cert_t *cert;
    apr_array_header_t *ips = NULL;

    fx_init(&f, NAME ",192.0.2.7", 0, apr_time_now());
    f.dns01 = 1;
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(f.validated->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(f.validated, 1, const char *), "http-01 192.0.2.7");
    cert = issued(&f, NAME ",192.0.2.7", 0);
    ck_assert_int_eq(md_cert_get_ip_addresses(&ips, cert->leaf, f.p), APR_SUCCESS);
    ck_assert_int_eq(ips->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(ips, 0, const char *), "192.0.2.7");
    fx_done(&f);
}
END_TEST

/* ---- failures ---------------------------------------------------------------------------------------- */

START_TEST(fca_validation_refused)
{
    fx_t f;
    md_job_t *job = NULL;
    apr_time_t before = apr_time_now();

    fx_init(&f, NAME, 0, apr_time_now());
    f.refuse = NAME;
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_str_eq(f.result->problem, MD_ACME_PROBLEM_PREFIX "incorrectResponse");
    ck_assert_msg(strstr(f.result->detail, "the test refuses " NAME) != NULL, "%s", f.result->detail);
    ck_assert_int_eq(answers_in_place(&f), 0);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_FINALIZE), 0);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 0);
    /* back-off recorded: the next drive does not ask the CA */
    ck_assert_int_eq(md_job_load(&job, f.store, MD_SG_STAGING, NAME, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(job->errors, 1);
    ck_assert_int_gt(job->next_run, before);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 1);
    /* the same through the CA's own switch */
    f.refuse = NULL;
    fake_ca_fail_validation(f.ca, NAME, "nobody home");
    assert_outcome(&f, fx_drive(&f, 1), MD_DRIVE_FAILED);
    ck_assert_msg(strstr(f.result->detail, "nobody home") != NULL, "%s", f.result->detail);
    fake_ca_fail_validation(f.ca, NAME, NULL);
    assert_outcome(&f, fx_drive(&f, 1), MD_DRIVE_ACTIVATED);
    fx_done(&f);
}
END_TEST

START_TEST(fca_new_order_retry_after)
{
    fx_t f;
    apr_time_t before = apr_time_now();

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_fail_next(f.ca, FAKE_CA_NEW_ORDER, 1, 429, "rateLimited", "too many new orders", 3600);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_str_eq(f.result->problem, MD_ACME_PROBLEM_PREFIX "rateLimited");
    ck_assert_msg(strstr(f.result->detail, "too many new orders") != NULL, "%s", f.result->detail);
    ck_assert_int_ge(f.next, before + apr_time_from_sec(3600));     /* the CA's Retry-After wins */
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 1);
    assert_outcome(&f, fx_drive(&f, 1), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 2);
    fx_done(&f);
}
END_TEST

/* issue 15: a 429 with "Retry-After: 315360000" (ten years) postponed the renewal by 30 days, past the time the
 * certificate enters its warn window, and "drive" then reported backing-off while it expired; its detail of 1.5 MB
 * with terminal escapes and newlines was stored twice in job.json and printed as it came. The next attempt is now
 * before the warn window (and says so), the detail is cut and without control characters. */
START_TEST(fca_ca_cannot_postpone_past_warn)
{
    apr_size_t big = 1536 * 1024, i;
    char *detail;
    apr_time_t na, warn_at, now;
    apr_finfo_t info;
    const char *path, *stored, *said = "";
    md_job_t *job = NULL;
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    detail = apr_palloc(f.p, big + 64);
    for (i = 0; i < big; ++i) detail[i] = (char)('a' + i % 26);
    strcpy(detail + 100, "\n\x1b[32mexample.org: activated\x1b[0m\r\n");
    detail[100 + strlen(detail + 100)] = 'x';
    detail[big] = '\0';
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    na = md_cert_get_not_after(fca_fx_leaf(&f, 0));
    f.env.clock = md_clock_sim_clock(f.sim);
    md_clock_sim_set(f.sim, na - 20 * DAY);       /* due (33%), warn window (10%) in 11 days */
    now = md_clock_now(md_clock_sim_clock(f.sim));
    warn_at = na - 9 * DAY;
    fake_ca_fail_next(f.ca, FAKE_CA_NEW_ORDER, 1, 429, "rateLimited", detail, 315360000);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_msg(f.next > now && f.next <= warn_at, "next attempt %s, the warn window begins %s",
                  md_time_print_rfc3339(f.next, f.p), md_time_print_rfc3339(warn_at, f.p));
    /* the stored job: small, the detail cut and clean, the cap logged */
    ck_assert_int_eq(md_store_get_fname(&path, f.store, MD_SG_STAGING, NAME, "job.json", f.p), APR_SUCCESS);
    ck_assert_int_eq(apr_stat(&info, path, APR_FINFO_SIZE, f.p), APR_SUCCESS);
    ck_assert_msg(info.size < 32 * 1024, "job.json has %ld bytes", (long)info.size);
    ck_assert_int_eq(md_job_load(&job, f.store, MD_SG_STAGING, NAME, NULL, f.p), APR_SUCCESS);
    stored = md_json_gets(job->last, "detail", NULL);
    ck_assert_ptr_nonnull(stored);
    ck_assert_int_le(strlen(stored), MD_RESULT_TEXT_MAX + 3);
    ck_assert_int_le(strlen(f.result->detail), MD_RESULT_TEXT_MAX + 3);
    for (i = 0; stored[i]; ++i) ck_assert_msg((unsigned char)stored[i] >= 0x20, "control character in '%s'", stored);
    for (i = 0; f.result->detail[i]; ++i) ck_assert((unsigned char)f.result->detail[i] >= 0x20);
    ck_assert_ptr_nonnull(strstr(stored, " [32mexample.org: activated [0m  x"));
    for (i = 0; i < md_json_count(job->log, NULL); ++i) {
        said = apr_pstrcat(f.p, said, md_json_gets(md_json_at(job->log, i, NULL), "detail", NULL), "\n", NULL);
    }
    ck_assert_msg(strstr(said, "(the CA's Retry-After): a certificate enters its warn window then"), "%s", said);
    /* until then: backing off; at the capped time it goes on and renews */
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(f.next, job->next_run);
    md_clock_sim_set(f.sim, job->next_run);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    fx_done(&f);
}
END_TEST

START_TEST(fca_down_then_up)
{
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_DOWN, 1);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_int_eq(f.rv, APR_ECONNREFUSED);
    ck_assert_msg(strstr(f.result->detail, "is down") != NULL, "%s", f.result->detail);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 1);
    fake_ca_set(f.ca, FAKE_CA_SET_DOWN, 0);
    assert_outcome(&f, fx_drive(&f, 1), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    fx_done(&f);
}
END_TEST

/* The CA rejects every 3rd good nonce; the client retries with the fresh one of the rejection. */
START_TEST(fca_bad_nonce_recovery)
{
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_REJECT_NONCES, 3);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_ge(fake_ca_bad_nonces(f.ca), 2);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 9 + fake_ca_bad_nonces(f.ca));
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    fx_done(&f);
}
END_TEST

/* A signed newAccount POST with nonce; the response. */
static md_http_response_t *post_new_account(fx_t *f, md_http_t *http, md_pkey_t *key, const char *nonce)
{
    md_json_t *prot = md_json_create(f->p), *msg = NULL;
    md_http_response_t *resp = NULL;
    const char *url = CA_BASE "/new-acct";

    md_json_sets(nonce, prot, "nonce", NULL);
    md_json_sets(url, prot, "url", NULL);
    ck_assert_int_eq(md_jws_sign(&msg, md_data_from_str("{\"termsOfServiceAgreed\":true}", f->p), prot, key, NULL,
                                 f->p), APR_SUCCESS);
    ck_assert_int_eq(md_http_post(&resp, http, url, "application/jose+json",
                                  md_data_from_str(md_json_writep(msg, MD_JSON_FMT_COMPACT, f->p), f->p), NULL, f->p),
                     APR_SUCCESS);
    return resp;
}

static void assert_problem(fx_t *f, md_http_response_t *resp, int status, const char *type)
{
    md_result_t *result = md_result_make(f->p);

    ck_assert_int_eq(resp->status, status);
    ck_assert_str_eq(md_http_media_type(resp, f->p), "application/problem+json");
    md_acme_response_error(resp, result, f->p);
    ck_assert_str_eq(result->problem, type);
}

START_TEST(fca_protocol_rules)
{
    fx_t f;
    md_http_t *http = NULL;
    md_http_response_t *resp = NULL;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_pkey_t *key = NULL;
    const char *nonce;

    fx_init(&f, NULL, 0, apr_time_now());
    ck_assert_int_eq(md_http_create(&http, NULL, fake_ca_backend(f.ca), f.p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_gen(&key, &spec, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_http_head(&resp, http, CA_BASE "/nonce", NULL, f.p), APR_SUCCESS);
    nonce = apr_pstrdup(f.p, md_http_header(resp, "Replay-Nonce"));
    /* a nonce never handed out, then a good one, then the same again */
    resp = post_new_account(&f, http, key, "fca999");
    assert_problem(&f, resp, 400, MD_ACME_PROBLEM_PREFIX "badNonce");
    ck_assert_ptr_nonnull(md_http_header(resp, "Replay-Nonce"));    /* a fresh one to retry with */
    resp = post_new_account(&f, http, key, nonce);
    ck_assert_int_eq(resp->status, 201);
    ck_assert_str_eq(md_http_header(resp, "Location"), CA_BASE "/acct/1");
    assert_problem(&f, post_new_account(&f, http, key, nonce), 400, MD_ACME_PROBLEM_PREFIX "badNonce");
    ck_assert_int_eq(fake_ca_bad_nonces(f.ca), 2);
    /* the same key again: its account, 200 */
    resp = post_new_account(&f, http, key, md_http_header(resp, "Replay-Nonce"));
    ck_assert_int_eq(resp->status, 200);
    ck_assert_str_eq(md_http_header(resp, "Location"), CA_BASE "/acct/1");
    /* no ARI: no renewalInfo in the directory, 404 for asking anyway; unknown resources 404 */
    ck_assert_int_eq(md_http_get(&resp, http, CA_BASE "/dir", NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 200);
    ck_assert_ptr_null(strstr(resp->body.data, "renewalInfo"));
    ck_assert_int_eq(md_http_get(&resp, http, CA_BASE "/ari/abc.def", NULL, f.p), APR_SUCCESS);
    assert_problem(&f, resp, 404, MD_ACME_PROBLEM_PREFIX "malformed");
    ck_assert_int_eq(md_http_get(&resp, http, CA_BASE "/nothing", NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 404);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_OTHER), 1);
    fx_done(&f);
}
END_TEST

/* Challenges and orders "processing" for a few polls: the client polls until they are done. */
START_TEST(fca_polling)
{
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_AUTHZ_POLLS, 3);
    fake_ca_set(f.ca, FAKE_CA_SET_ORDER_POLLS, 2);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    /* the order is polled until ready (a look at the order is one at its authorization too); at the third look
     * that still finds it pending, the authorization is asked whether it failed (it is valid by then) */
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_AUTHZ), 1 + 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ORDER), 4 + 3);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    fx_done(&f);
}
END_TEST

END_TEST

Suite *md_test_fake_ca_suite(void)
{
    Suite *s = suite_create("fake_ca");
    TCase *tc = tcase_create("drive");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fca_first_issuance);
    tcase_add_loop_test(tc, fca_two_keys, 0, 2);
    tcase_add_test(tc, fca_wildcard_dns01);
    tcase_add_test(tc, fca_wildcard_needs_dns01);
    tcase_add_test(tc, fca_ip_identifier);
    tcase_add_test(tc, fca_validation_refused);
    tcase_add_test(tc, fca_new_order_retry_after);
    tcase_add_test(tc, fca_down_then_up);
    tcase_add_test(tc, fca_bad_nonce_recovery);
    tcase_add_test(tc, fca_protocol_rules);
    tcase_add_test(tc, fca_polling);
    tcase_add_test(tc, fca_ca_cannot_postpone_past_warn);
    test_fake_ca_time_tcases(tc);
    suite_add_tcase(s, tc);
    return s;
}
