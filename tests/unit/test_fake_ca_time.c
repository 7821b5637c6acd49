/* Fake CA tests over time: ARI windows, parallel drives, the simulated clock, lifetimes. */
#include "test_fake_ca_fixture.h"

static void fx_log(void *baton, const char *md_name, const char *message)
{
    apr_array_header_t *lines = baton;

    (void)md_name;
    APR_ARRAY_PUSH(lines, const char *) = apr_pstrdup(lines->pool, message);
}

/* ---- ARI --------------------------------------------------------------------------------------------- */

static md_json_t *ari_cache(fx_t *f)
{
    void *json = NULL;

    ck_assert_int_eq(md_store_load(&json, f->store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, MD_SV_JSON, NULL,
                                   f->p), APR_SUCCESS);
    return json;
}

START_TEST(fca_ari_window)
{
    fx_t f;
    const fake_ca_cert_t *cert;
    apr_time_t start, end, t = 0;
    md_json_t *cache;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    /* activation cached "ask later"; forget that, so the next drive asks the CA */
    ck_assert_int_eq(md_store_remove(f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, 1, f.p), APR_SUCCESS);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 1);
    cert = issued(&f, NAME, 0);
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_eq(apr_time_sec(start - cert->not_before), apr_time_sec(cert->not_after - cert->not_before) * 2 / 3);
    cache = ari_cache(&f);
    ck_assert_str_eq(md_json_gets(cache, "cert-id", NULL), cert->ari_id);
    ck_assert_int_eq(md_time_parse_rfc3339(&t, md_json_gets(cache, "window", "start", NULL)), APR_SUCCESS);
    ck_assert_int_eq(apr_time_sec(t), apr_time_sec(start));
    ck_assert_int_eq(md_time_parse_rfc3339(&t, md_json_gets(cache, "window", "end", NULL)), APR_SUCCESS);
    ck_assert_int_eq(apr_time_sec(t), apr_time_sec(end));
    fx_done(&f);
}
END_TEST

/* The CA says "renew now": the drive renews, and the new order names the certificate it replaces. */
START_TEST(fca_ari_urgent_renews)
{
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_URGENT, 1);
    ck_assert_int_eq(md_store_remove(f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, 1, f.p), APR_SUCCESS);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 1);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 2);
    ck_assert_ptr_null(issued(&f, NAME, 0)->replaces);
    ck_assert_str_eq(issued(&f, NAME, 1)->replaces, issued(&f, NAME, 0)->ari_id);
    fx_done(&f);
}
END_TEST

/* A CA's Retry-After on renewalInfo of ten years is taken as a day (RFC 9773 allows that cap; issue 15: every
 * Retry-After from a CA is capped, and it is logged), one of a second as a minute. */
START_TEST(fca_ari_retry_after_capped)
{
    apr_array_header_t *lines;
    apr_time_t now, t = 0;
    const char *said = "";
    int i;
    fx_t f;

    fx_init(&f, NAME, 0, sim_start());
    f.env.clock = md_clock_sim_clock(f.sim);
    lines = apr_array_make(f.p, 10, sizeof(const char *));
    f.env.log = fx_log;
    f.env.log_baton = lines;
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_RETRY_AFTER, 315360000);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(md_store_remove(f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, 1, f.p), APR_SUCCESS);
    now = md_clock_now(md_clock_sim_clock(f.sim));
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 1);
    ck_assert_int_eq(f.next, WHOLE_SECONDS(now + DAY));      /* as the cache keeps it: asked_and_cached_times_agree */
    ck_assert_int_eq(md_time_parse_rfc3339(&t, md_json_gets(ari_cache(&f), "next-check", NULL)), APR_SUCCESS);
    ck_assert_int_eq(apr_time_sec(t), apr_time_sec(now + DAY));
    for (i = 0; i < lines->nelts; ++i) said = apr_pstrcat(f.p, said, APR_ARRAY_IDX(lines, i, const char *), "\n", NULL);
    ck_assert_msg(strstr(said, "The CA asked to check its renewal information again at ")
                  && strstr(said, "(at most a day later)"), "%s", said);
    /* a day later it asks again; a Retry-After of one second is a minute */
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_RETRY_AFTER, 1);
    md_clock_sim_set(f.sim, now + DAY);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 2);
    ck_assert_int_eq(f.next, WHOLE_SECONDS(now + DAY + apr_time_from_sec(60)));
    fx_done(&f);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------------------------- */

#define PARALLEL 4

typedef struct {
    fx_t *f;
    const char *name;
    md_drive_outcome_t outcome;
    apr_status_t rv;
} par_t;

static void *APR_THREAD_FUNC par_drive(apr_thread_t *thread, void *baton)
{
    par_t *d = baton;
    md_drive_flags_t flags = { 0, 1, 0 };
    apr_pool_t *p = NULL;
    apr_time_t next;

    (void)thread;
    apr_pool_create(&p, NULL);
    d->rv = md_drive(&d->outcome, &next, &d->f->env, d->name, &flags, md_result_make(p), p);
    apr_pool_destroy(p);
    return NULL;
}

/* Several MDs driven at once through one shared ACME client: one account, one certificate each. */
START_TEST(fca_parallel_drives)
{
    fx_t f;
    apr_thread_t *threads[PARALLEL];
    par_t runs[PARALLEL];
    apr_pool_t *shared_pool = NULL;
    apr_status_t trv;
    int i;

    fx_init(&f, NULL, 0, apr_time_now());
    ck_assert_int_eq(apr_pool_create(&shared_pool, NULL), APR_SUCCESS);
    f.env.shared = md_drive_shared_make(shared_pool);
    for (i = 0; i < PARALLEL; ++i) {
        runs[i].f = &f;
        runs[i].name = apr_psprintf(f.p, "site%d.example.org", i);
        fx_add_md(&f, runs[i].name, 0);
    }
    for (i = 0; i < PARALLEL; ++i) {
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, par_drive, &runs[i], f.p), APR_SUCCESS);
    }
    for (i = 0; i < PARALLEL; ++i) apr_thread_join(&trv, threads[i]);
    apr_pool_destroy(shared_pool);
    for (i = 0; i < PARALLEL; ++i) {
        ck_assert_int_eq(runs[i].rv, APR_SUCCESS);
        ck_assert_int_eq(runs[i].outcome, MD_DRIVE_ACTIVATED);
        ck_assert_int_eq(fake_ca_issued(f.ca, runs[i].name, f.p)->nelts, 1);
    }
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ACCOUNT), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_DIRECTORY), 1);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), PARALLEL);
    fx_done(&f);
}
END_TEST

/* ---- simulated time ---------------------------------------------------------------------------------- */

/* Today's drive decides on the real clock, so renewals are forced here; the CA issues on its simulated one. */
START_TEST(fca_sim_clock_validity)
{
    fx_t f;
    const fake_ca_cert_t *cert;
    apr_time_t t, start, end;
    int i;

    fx_init(&f, NAME, 0, sim_start());
    fake_ca_set(f.ca, FAKE_CA_SET_LIFETIME, 6 * 86400);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    for (i = 0; i < 3; ++i) {
        t = md_clock_now(md_clock_sim_clock(f.sim));
        assert_outcome(&f, fx_drive(&f, i > 0), MD_DRIVE_ACTIVATED);
        cert = issued(&f, NAME, i);
        ck_assert_int_eq(apr_time_sec(cert->not_before), apr_time_sec(t) - 60);
        ck_assert_int_eq(apr_time_sec(cert->not_after), apr_time_sec(t + 6 * DAY));
        assert_chain_ok(&f, cert);
        fake_ca_ari_window(f.ca, cert, &start, &end);
        ck_assert_int_eq(apr_time_sec(start), apr_time_sec(t) - 60 + (6 * 86400 + 60) * 2 / 3);
        ck_assert_int_eq(apr_time_sec(end), apr_time_sec(t) - 60 + (6 * 86400 + 60) * 5 / 6);
        md_clock_sim_advance(f.sim, 4 * DAY);
    }
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_URGENT, 1);
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_eq(end, md_clock_now(md_clock_sim_clock(f.sim)) - HOUR);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 3);
    fx_done(&f);
}
END_TEST

/* Lifetimes per identifier, ARI windows that move (a shift, urgent for what was issued before a time), the ARI
 * answer's Retry-After, the accounts. */
START_TEST(fca_lifetime_for_and_moving_ari)
{
    const fake_ca_cert_t *cert;
    apr_time_t t, start, end;
    fx_t f;

    fx_init(&f, NAME, 0, sim_start());
    f.env.clock = md_clock_sim_clock(f.sim);
    fx_add_md(&f, "other.org,www.other.org", 0);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    fake_ca_set_lifetime_for(f.ca, "WWW.other.org", 45 * 86400);
    t = md_clock_now(md_clock_sim_clock(f.sim));
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    assert_outcome(&f, fx_drive_md(&f, "other.org", 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_accounts(f.ca), 1);
    cert = issued(&f, NAME, 0);
    ck_assert_int_eq(apr_time_sec(cert->not_after), apr_time_sec(t + 90 * DAY));
    cert = issued(&f, "other.org,www.other.org", 0);
    ck_assert_int_eq(apr_time_sec(cert->not_after), apr_time_sec(t + 45 * DAY));
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_SHIFT, -86400);
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_eq(apr_time_sec(start), apr_time_sec(t) - 60 + (45 * 86400 + 60) * 2 / 3 - 86400);
    ck_assert_int_eq(apr_time_sec(end), apr_time_sec(t) - 60 + (45 * 86400 + 60) * 5 / 6 - 86400);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_URGENT_BEFORE, (long)apr_time_sec(t));
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_eq(end, md_clock_now(md_clock_sim_clock(f.sim)) - HOUR);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_URGENT_BEFORE, (long)apr_time_sec(t) - 60);
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_gt(end, md_clock_now(md_clock_sim_clock(f.sim)));
    /* the CA's Retry-After for renewalInfo decides when the drive asks again */
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_RETRY_AFTER, 20 * 3600);      /* at most a day: fca_ari_retry_after_capped */
    md_clock_sim_advance(f.sim, 7 * HOUR);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 1);
    ck_assert_int_eq(f.next, WHOLE_SECONDS(md_clock_now(md_clock_sim_clock(f.sim)) + 20 * HOUR));
    fake_ca_set_lifetime_for(f.ca, "www.other.org", 0);
    assert_outcome(&f, fx_drive_md(&f, "other.org", 1), MD_DRIVE_ACTIVATED);
    cert = issued(&f, "other.org,www.other.org", 1);
    ck_assert_int_eq(apr_time_sec(cert->not_after - cert->not_before), 90 * 86400 + 60);
    fx_done(&f);
}
END_TEST

/* The drive on an injected clock (md_drive_env_t.clock): 30 simulated days of an MD with 6-day certificates, driven once per simulated hour: renewed when a third of
 * the lifetime is left, i.e. 96h29m after the previous notBefore, seen at the next full hour: every 97 hours,
 * and never without a valid certificate. */
START_TEST(fca_sim_30_days)
{
    fx_t f;
    const md_clock_t *clock;
    apr_array_header_t *certs;
    apr_time_t now, gap;
    md_cert_t *leaf;
    int hour, i;

    fx_init(&f, NAME, 0, sim_start());
    clock = md_clock_sim_clock(f.sim);
    f.env.clock = clock;
    fake_ca_set(f.ca, FAKE_CA_SET_LIFETIME, 6 * 86400);
    for (hour = 0; hour < 30 * 24; ++hour) {
        md_drive_outcome_t outcome = fx_drive(&f, 0);

        ck_assert_msg(outcome == MD_DRIVE_ACTIVATED || outcome == MD_DRIVE_NOT_DUE, "hour %d: %s (%s)", hour,
                      md_drive_outcome_str(outcome), md_result_text(f.result, f.p));
        now = md_clock_now(clock);
        leaf = fca_fx_leaf(&f, 0);
        ck_assert_msg(md_cert_is_valid_at(leaf, now), "hour %d: the active certificate is not valid", hour);
        md_clock_sim_advance(f.sim, HOUR);
    }
    certs = fake_ca_issued(f.ca, NAME, f.p);
    ck_assert_int_eq(certs->nelts, 8);      /* hours 0, 97, 194, 291, 388, 485, 582, 679 */
    for (i = 1; i < certs->nelts; ++i) {
        gap = APR_ARRAY_IDX(certs, i, const fake_ca_cert_t *)->not_before
              - APR_ARRAY_IDX(certs, i - 1, const fake_ca_cert_t *)->not_before;
        ck_assert_msg(gap >= 96 * HOUR && gap <= 98 * HOUR, "renewal %d after %" APR_TIME_T_FMT "s", i,
                      apr_time_sec(gap));
    }
    fx_done(&f);
}
END_TEST


/* An active set whose private key is junk or another key's (issue 15: "not-due", nothing named) is due now, and
 * the drive says which file; httpd's parent tells its child through flags.unusable what the child cannot read. */
START_TEST(fca_unusable_key_renews)
{
    apr_array_header_t *lines;
    md_drive_flags_t flags = { 0, 1, 1 };
    md_drive_outcome_t outcome = MD_DRIVE_FAILED;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    const char *path, *said;
    md_pkey_t *other;
    md_t *md = NULL;
    fx_t f;
    int orders;

    fx_init(&f, NAME, 0, apr_time_now());
    lines = apr_array_make(f.p, 10, sizeof(const char *));
    f.env.log = fx_log;
    f.env.log_baton = lines;
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(md_load(&md, f.store, MD_SG_DOMAINS, NAME, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_get_fname(&path, f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 0, f.p), f.p),
                     APR_SUCCESS);
    /* junk */
    ck_assert_int_eq(md_file_write_atomic(path, "junk\n", 5, 0600, f.p), APR_SUCCESS);
    orders = fake_ca_count(f.ca, FAKE_CA_NEW_ORDER);
    apr_array_clear(lines);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), orders + 1);
    said = apr_array_pstrcat(f.p, lines, '\n');
    ck_assert_msg(strstr(said, "Renewing now: ") && strstr(said, path) && strstr(said, "not a usable private key"),
                  "%s", said);
    /* another key */
    ck_assert_int_eq(md_pkey_gen(&other, &spec, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 0, f.p), MD_SV_PKEY, other, 0,
                                   NULL, f.p), APR_SUCCESS);
    apr_array_clear(lines);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), orders + 2);
    said = apr_array_pstrcat(f.p, lines, '\n');
    ck_assert_msg(strstr(said, path) && strstr(said, "is not the key of the certificate"), "%s", said);
    /* sound again: not due; with flags.unusable (the server could not use it) due now */
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    f.result = md_result_make(f.p);
    f.rv = md_drive(&outcome, &f.next, &f.env, NAME, &flags, f.result, f.p);
    assert_outcome(&f, outcome, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), orders + 3);
    fx_done(&f);
}
void test_fake_ca_time_tcases(TCase *tc)
{
    tcase_add_test(tc, fca_ari_window);
    tcase_add_test(tc, fca_ari_urgent_renews);
    tcase_add_test(tc, fca_parallel_drives);
    tcase_add_test(tc, fca_sim_clock_validity);
    tcase_add_test(tc, fca_sim_30_days);
    tcase_add_test(tc, fca_unusable_key_renews);
    tcase_add_test(tc, fca_lifetime_for_and_moving_ari);
    tcase_add_test(tc, fca_ari_retry_after_capped);
}
