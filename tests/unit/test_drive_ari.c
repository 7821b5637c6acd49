/* Unit tests for ARI in the renewal decision: when md_drive asks the CA's renewalInfo, what it caches in
 * ocsp/NAME/ari.json, and how the suggested window makes a renewal due. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_drive.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"
#include "fake_http.h"
#include "test_common.h"

#define CA_DIR "https://ca.test/dir"
#define ARI_URL "https://ca.test/ari/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"   /* RFC 9773's id: our fixture leaf */
#define NAME "www.example.org"     /* the fixture certificate covers it */

typedef struct {
    apr_pool_t *p;
    const char *dir;
    md_store_t *store;
    fake_http_t *fake;
    md_drive_env_t env;
    md_t *md;
} ari_fixture_t;

static const char *directory(int with_ari, apr_pool_t *p)
{
    return apr_psprintf(p, "{\"newNonce\":\"https://ca.test/nonce\",\"newAccount\":\"https://ca.test/acct\","
                        "\"newOrder\":\"https://ca.test/order\"%s}",
                        with_ari ? ",\"renewalInfo\":\"https://ca.test/ari\"" : "");
}

static const char *window(apr_time_t start, apr_time_t end, apr_pool_t *p)
{
    return apr_psprintf(p, "{\"suggestedWindow\":{\"start\":\"%s\",\"end\":\"%s\"}}",
                        md_time_print_rfc3339(start, p), md_time_print_rfc3339(end, p));
}

/* A store with the MD and, as its active certificate, the fixture leaf (valid 2026..2036, with an AKI). */
static void setup(ari_fixture_t *f, int ari_renewals)
{
    apr_array_header_t *domains, *chain;
    md_result_t *result;
    md_pkey_t *key = NULL;
    const char *err = NULL;

    memset(f, 0, sizeof(*f));
    f->p = md_test_pool();
    result = md_result_make(f->p);
    f->dir = md_test_mkdtemp(f->p);
    ck_assert_int_eq(md_store_fs_open(&f->store, f->dir, result, f->p), APR_SUCCESS);
    domains = apr_array_make(f->p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(domains, const char *) = NAME;
    f->md = md_create(domains, f->p);
    APR_ARRAY_PUSH(f->md->ca_urls, const char *) = CA_DIR;
    f->md->ca_agreement = "accepted";
    f->md->ari_renewals = ari_renewals;
    ck_assert_int_eq(md_store_save(f->store, MD_SG_DOMAINS, NAME, "md.json", MD_SV_JSON, md_to_json(f->md, f->p),
                                   0, result, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_cert_chain_fload(&chain, md_test_data("cert/fullchain.pem", f->p), &err, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f->store, MD_SG_DOMAINS, NAME, md_cert_aspect(f->md, 0, f->p), MD_SV_CHAIN,
                                   chain, 0, result, f->p), APR_SUCCESS);
    /* its key too: a certificate without its key is due now */
    ck_assert_int_eq(md_pkey_fload(&key, md_test_data("cert/leaf.key", f->p), NULL, 0, &err, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f->store, MD_SG_DOMAINS, NAME, md_pkey_aspect(f->md, 0, f->p), MD_SV_PKEY,
                                   key, 0, result, f->p), APR_SUCCESS);
    f->fake = fake_http_create(f->p);
    f->env.store = f->store;
    f->env.http_backend = fake_http_backend(f->fake);
    f->env.responders = md_responders_make(f->p);
}

static void teardown(ari_fixture_t *f)
{
    md_test_rmdir(f->dir, f->p);
    md_test_pool_done(f->p);
}

static md_drive_outcome_t drive(ari_fixture_t *f, apr_time_t *pnext)
{
    md_drive_flags_t flags = { 0, 1, 0 };
    md_drive_outcome_t outcome = MD_DRIVE_FAILED;
    md_result_t *result = md_result_make(f->p);

    md_drive(&outcome, pnext, &f->env, NAME, &flags, result, f->p);
    return outcome;
}

START_TEST(future_window_is_cached)
{
    ari_fixture_t f;
    apr_time_t now = apr_time_now(), next = 0, start = now + apr_time_from_sec(86400 * 300);
    md_json_t *cache = NULL;

    setup(&f, 1);
    fake_http_expect(f.fake, "GET", CA_DIR, 200, "Content-Type: application/json\n", directory(1, f.p));
    fake_http_expect(f.fake, "GET", ARI_URL, 200, "Content-Type: application/json\nRetry-After: 3600\n",
                     window(start, start + apr_time_from_sec(86400 * 2), f.p));
    ck_assert_int_eq(drive(&f, &next), MD_DRIVE_NOT_DUE);
    fake_http_verify(f.fake);
    /* look again when the CA said (Retry-After), well before the window */
    ck_assert(next > now + apr_time_from_sec(3500) && next < now + apr_time_from_sec(3700));
    ck_assert_int_eq(md_store_load((void **)&cache, f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, MD_SV_JSON, NULL, f.p),
                     APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(cache, "cert-id", NULL), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    ck_assert_ptr_nonnull(md_json_gets(cache, "pick", NULL));
    /* the next drive answers from the cache: nothing is sent */
    ck_assert_int_eq(drive(&f, &next), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_http_count(f.fake), 2);
    teardown(&f);
}
END_TEST

/* The pick and the next look go into the cache in whole seconds: the drive that asked must use the same times as the
 * drives answered from the cache (the first one's microseconds put its next look up to a second after the cache's;
 * a look in between saw the cache expired, or the pick due, and the simulated year failed now and then). */
START_TEST(asked_and_cached_times_agree)
{
    ari_fixture_t f;
    apr_time_t now = apr_time_now(), first = 0, again = 0, start = now + apr_time_from_sec(86400 * 300);

    setup(&f, 1);
    fake_http_expect(f.fake, "GET", CA_DIR, 200, "Content-Type: application/json\n", directory(1, f.p));
    fake_http_expect(f.fake, "GET", ARI_URL, 200, "Content-Type: application/json\nRetry-After: 3600\n",
                     window(start, start + apr_time_from_sec(86400 * 2), f.p));
    ck_assert_int_eq(drive(&f, &first), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(drive(&f, &again), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_http_count(f.fake), 2);
    ck_assert_int_eq(first, again);
    ck_assert_int_eq(apr_time_usec(first), 0);
    teardown(&f);
}
END_TEST

START_TEST(stale_cache_asks_again)
{
    ari_fixture_t f;
    apr_time_t now = apr_time_now(), next = 0, start = now + apr_time_from_sec(86400 * 300);
    md_json_t *cache = NULL;

    setup(&f, 1);
    fake_http_expect(f.fake, "GET", CA_DIR, 200, "Content-Type: application/json\n", directory(1, f.p));
    fake_http_expect(f.fake, "GET", ARI_URL, 200, "Content-Type: application/json\n",
                     window(start, start + apr_time_from_sec(86400), f.p));
    ck_assert_int_eq(drive(&f, &next), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(md_store_load((void **)&cache, f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, MD_SV_JSON, NULL, f.p),
                     APR_SUCCESS);
    md_json_sets(md_time_print_rfc3339(now - apr_time_from_sec(60), f.p), cache, "next-check", NULL);
    md_store_save(f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, MD_SV_JSON, cache, 0, NULL, f.p);
    fake_http_expect(f.fake, "GET", CA_DIR, 200, "Content-Type: application/json\n", directory(1, f.p));
    fake_http_expect(f.fake, "GET", ARI_URL, 200, "Content-Type: application/json\n",
                     window(start, start + apr_time_from_sec(86400), f.p));
    ck_assert_int_eq(drive(&f, &next), MD_DRIVE_NOT_DUE);
    fake_http_verify(f.fake);
    teardown(&f);
}
END_TEST

START_TEST(past_window_renews_now)
{
    ari_fixture_t f;
    apr_time_t now = apr_time_now(), next = 0;

    setup(&f, 1);
    fake_http_lenient(f.fake, 1);
    fake_http_auto_nonce(f.fake, "https://ca.test/nonce");
    fake_http_expect(f.fake, "GET", CA_DIR, 200, "Content-Type: application/json\n", directory(1, f.p));
    fake_http_expect(f.fake, "GET", ARI_URL, 200, "Content-Type: application/json\n",
                     window(now - apr_time_from_sec(7200), now - apr_time_from_sec(3600), f.p));
    /* the renewal starts: the account is registered next (this test's CA has nothing more to say) */
    fake_http_expect_problem(f.fake, "POST", "https://ca.test/acct", 503, "serverInternal", "not today", NULL);
    ck_assert_int_eq(drive(&f, &next), MD_DRIVE_FAILED);
    ck_assert_ptr_nonnull(fake_http_last(f.fake, "POST"));
    ck_assert_str_eq(fake_http_last(f.fake, "POST")->url, "https://ca.test/acct");
    ck_assert_int_eq(fake_http_count_method(f.fake, "GET"), 2);   /* the directory once, then ARI */
    teardown(&f);
}
END_TEST

START_TEST(ca_without_ari_is_remembered)
{
    ari_fixture_t f;
    apr_time_t now = apr_time_now(), next = 0;

    setup(&f, 1);
    fake_http_expect(f.fake, "GET", CA_DIR, 200, "Content-Type: application/json\n", directory(0, f.p));
    ck_assert_int_eq(drive(&f, &next), MD_DRIVE_NOT_DUE);
    fake_http_verify(f.fake);
    /* asked again a day later at the earliest */
    ck_assert(next > now + apr_time_from_sec(86000));
    ck_assert_int_eq(drive(&f, &next), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_http_count(f.fake), 1);
    teardown(&f);
}
END_TEST

START_TEST(ari_off_sends_nothing)
{
    ari_fixture_t f;
    apr_time_t next = 0;

    setup(&f, 0);
    ck_assert_int_eq(drive(&f, &next), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_http_count(f.fake), 0);
    ck_assert(!md_store_exists(f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, f.p));
    teardown(&f);
}
END_TEST

Suite *md_test_drive_ari_suite(void)
{
    Suite *s = suite_create("drive_ari");
    TCase *tc = tcase_create("drive_ari");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, future_window_is_cached);
    tcase_add_test(tc, asked_and_cached_times_agree);
    tcase_add_test(tc, stale_cache_asks_again);
    tcase_add_test(tc, past_window_renews_now);
    tcase_add_test(tc, ca_without_ari_is_remembered);
    tcase_add_test(tc, ari_off_sends_nothing);
    suite_add_tcase(s, tc);
    return s;
}
