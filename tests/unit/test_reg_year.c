/* A simulated year and more of renewals: one MD with 6-day certificates driven through md_reg_renew_many whenever
 * the runner says (plus random checks in between) for 400 days: never without a valid certificate, renewed at 2/3 of
 * each lifetime, and the CA hears nothing while nothing is due (ARI off), or only the ARI questions (ARI on, 100 days;
 * a CA without ARI: its directory once a day). */
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_store.h"
#include "md_time.h"
#include "test_common.h"
#include "test_reg.h"

#define NAME "example.org"
#define DAYS 400
#define ARI_DAYS 100       /* with ARI more runs: fewer days keep it fast */
#define LIFETIME_DAYS 6

typedef struct {
    tr_t f;
    int ari_md, ari_ca;             /* the MD asks the CA's renewal information; the CA has it */
    unsigned long rnd;              /* a fixed-seed generator for the random checks */
    int runs, renewals, checks;     /* runs of md_reg_renew_many, of them renewals, of them random checks */
    int quiet_requests;             /* requests to the CA by runs that renewed nothing (other than ARI's) */
    int ari_requests;               /* ARI questions: renewalInfo, or the directory when the CA has none */
    apr_time_t last_renewal, last_ari;
} year_t;

static double rnd01(year_t *y)
{
    y->rnd = y->rnd * 6364136223846793005UL + 1442695040888963407UL;
    return (double)(y->rnd >> 11) / (double)(1UL << 53);
}

/* The active leaf's validity, read in a pool of its own. */
static int valid_at(year_t *y, apr_time_t t, apr_pool_t *ptemp)
{
    md_t *md = NULL;
    void *chain = NULL;

    apr_pool_clear(ptemp);
    if (md_load(&md, y->f.store, MD_SG_DOMAINS, NAME, NULL, ptemp) != APR_SUCCESS
        || md_store_load(&chain, y->f.store, MD_SG_DOMAINS, NAME, md_cert_aspect(md, 0, ptemp), MD_SV_CHAIN, NULL,
                         ptemp) != APR_SUCCESS) return 0;
    return md_cert_is_valid_at(APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *), t);
}

/* One run at the simulated time t; returns when to run again (the runner's next, or an hour after an activation,
 * as httpd's check interval would). */
static apr_time_t drive_at(year_t *y, apr_time_t t, int random_check)
{
    int before[FAKE_CA_KINDS], k, dir, other;
    md_reg_item_t *item;

    if (t > tr_now(&y->f)) md_clock_sim_set(y->f.sim, t);
    for (k = 0; k < FAKE_CA_KINDS; ++k) before[k] = fake_ca_count(y->f.ca, (fake_ca_kind_t)k);
    item = tr_run1(&y->f, NAME, 0);
    y->runs++;
    if (item->outcome == MD_DRIVE_ACTIVATED) {
        ck_assert_msg(!random_check, "day %.2f: a random check renewed",
                      (double)(t - y->f.start) / (double)TR_DAY);
        /* the run may have asked renewalInfo first and found its window open now: the drive picks its time in the
         * CA's window at random (RAND_bytes), so now and then the run that asks is the one that renews */
        y->ari_requests += fake_ca_count(y->f.ca, FAKE_CA_ARI) - before[FAKE_CA_ARI];
        y->renewals++;
        y->last_renewal = t;
        return t + TR_HOUR;
    }
    ck_assert_msg(item->outcome == MD_DRIVE_NOT_DUE, "day %.2f: %s (%s)", (double)(t - y->f.start) / (double)TR_DAY,
                  md_drive_outcome_str(item->outcome), item->detail ? item->detail : "");
    ck_assert_int_gt(item->next, tr_now(&y->f));
    if (random_check) y->checks++;
    other = fake_ca_count(y->f.ca, FAKE_CA_ANY) - before[FAKE_CA_ANY];
    if (y->ari_md) {
        /* renewalInfo and the directory fetch that came with it, or the directory alone: no renewalInfo yet? */
        k = fake_ca_count(y->f.ca, FAKE_CA_ARI) - before[FAKE_CA_ARI];
        dir = fake_ca_count(y->f.ca, FAKE_CA_DIRECTORY) - before[FAKE_CA_DIRECTORY];
        ck_assert_int_le(k, 1);
        ck_assert_int_le(dir, 1);
        if (k || dir) {
            /* at most every 6 hours (the CA's Retry-After; without ARI daily), never in the 6 hours after an
             * activation (the cache keeps whole seconds) */
            ck_assert_int_ge(t - y->last_ari, (y->ari_ca ? 6 : 24) * TR_HOUR - apr_time_from_sec(1));
            ck_assert_int_ge(t - y->last_renewal, 6 * TR_HOUR - apr_time_from_sec(1));
            y->last_ari = t;
            y->ari_requests++;
        }
        other -= k + dir;
    }
    y->quiet_requests += other;
    return item->next;
}

/* Every certificate after the first was made at 2/3 of the previous one's lifetime (renew window 33%; with ARI the
 * CA's window starts at 2/3 exactly, so its pick may come a little earlier). */
static void assert_renewal_times(year_t *y)
{
    apr_array_header_t *certs = fake_ca_issued(y->f.ca, NAME, y->f.p);
    const fake_ca_cert_t *prev, *cert;
    apr_interval_time_t life;
    double at;
    int i;

    ck_assert_int_eq(certs->nelts, y->renewals);
    for (i = 1; i < certs->nelts; ++i) {
        prev = APR_ARRAY_IDX(certs, i - 1, const fake_ca_cert_t *);
        cert = APR_ARRAY_IDX(certs, i, const fake_ca_cert_t *);
        life = prev->not_after - prev->not_before;
        /* issued at cert->not_before + 60 s */
        at = (double)(cert->not_before + apr_time_from_sec(60) - prev->not_before) / (double)life;
        ck_assert_msg(at > (y->ari_ca ? 0.666 : 0.669) && at < 0.671, "renewal %d at %.4f of the lifetime", i, at);
        ck_assert_int_lt(cert->not_before, prev->not_after);
    }
}

static void year(int ari_md, int ari_ca, int days)
{
    apr_time_t end, hour, next, check;
    apr_pool_t *ptemp;
    year_t y;
    md_t *md;

    memset(&y, 0, sizeof(y));
    tr_init(&y.f, LIFETIME_DAYS);
    y.ari_md = ari_md;
    y.ari_ca = ari_ca;
    y.rnd = 20310301;
    fake_ca_set(y.f.ca, FAKE_CA_SET_ARI, ari_ca);
    md = tr_md(&y.f, NAME);
    md->ari_renewals = ari_md;
    tr_save(&y.f, md);
    apr_pool_create(&ptemp, y.f.p);
    end = y.f.start + days * TR_DAY;
    next = y.f.start;
    check = 0;
    for (hour = y.f.start; hour <= end; hour += TR_HOUR) {
        while (next <= hour || (check && check <= hour)) {
            if (check && check < next) {
                drive_at(&y, check, 1);
                check = 0;
                continue;
            }
            next = drive_at(&y, next, 0);
            /* a random look before the next one the runner asked for: nothing to do */
            check = tr_now(&y.f) + (apr_time_t)(rnd01(&y) * (double)(next - tr_now(&y.f)));
            if (check <= tr_now(&y.f) || check >= next) check = 0;
        }
        if (hour > tr_now(&y.f)) md_clock_sim_set(y.f.sim, hour);
        ck_assert_msg(valid_at(&y, hour, ptemp), "hour %ld: no valid certificate",
                      (long)((hour - y.f.start) / TR_HOUR));
    }
    ck_assert_int_eq(y.quiet_requests, 0);
    /* renewed every 4.02 days */
    ck_assert_int_ge(y.renewals, (int)(days / 4.02));
    ck_assert_int_le(y.renewals, (int)(days / 4.02) + 2);
    ck_assert_int_ge(y.checks, y.renewals);     /* random looks in between, each answered without a request */
    assert_renewal_times(&y);
    ck_assert_int_eq(fake_ca_count(y.f.ca, FAKE_CA_ARI), ari_md && ari_ca ? y.ari_requests : 0);
    if (ari_md) ck_assert_int_gt(y.ari_requests, days * (ari_ca ? 2 : 1) / 2);
    else ck_assert_int_eq(y.ari_requests, 0);
    apr_pool_destroy(ptemp);
    tr_done(&y.f);
}

/* 400 days, the MD without ARI: no request at all between renewals. */
START_TEST(reg_year_no_ari)
{
    year(0, 0, DAYS);
}
END_TEST

/* 100 days with ARI: between renewals only renewalInfo, every 6 hours. */
START_TEST(reg_year_ari)
{
    year(1, 1, ARI_DAYS);
}
END_TEST

/* 100 days, the MD with ARI (the default) at a CA without it: the directory once a day, nothing else. */
START_TEST(reg_year_ari_ca_without)
{
    year(1, 0, ARI_DAYS);
}
END_TEST

Suite *md_test_reg_year_suite(void)
{
    Suite *s = suite_create("reg_year");
    TCase *tc = tcase_create("year");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, reg_year_no_ari);
    tcase_add_test(tc, reg_year_ari);
    tcase_add_test(tc, reg_year_ari_ca_without);
    suite_add_tcase(s, tc);
    return s;
}
