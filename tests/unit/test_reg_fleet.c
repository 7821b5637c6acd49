/* A simulated year of a fleet: 50 MDs through 400 days with a CA that goes down, rate-limits, moves its ARI windows,
 * a dns-01 program that fails for a day, and the runner killed (kill -9) at random points: never an expired
 * certificate but through the outage, nothing lost in the store, and the CA requests per renewal counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_clock.h"
#include "md_store.h"
#include "md_time.h"
#include "test_common.h"
#include "test_reg.h"

/* 50 MDs, every step of the runner in a forked child; under AddressSanitizer (make asan), where each drive and each
 * fork costs several times as much, 20, and only the steps to be killed forked: the same year */
#if defined(__SANITIZE_ADDRESS__)
#define MDS 20
#define FORK_ALL 0
#else
#define MDS 50
#define FORK_ALL 1
#endif
#define DAYS 400
#define SHORT_DAYS 6           /* every tenth MD; the others 45 days */
#define LONG_DAYS 45
#define SEED 20310301UL        /* FLEET_SEED in the environment picks another (the run prints the one it used) */
#define KILL_PERCENT 15        /* of the steps whose runner (in a child process) is killed at a random one of its
                                * first 12 requests */
#define QUANTUM TR_HOUR        /* the runner wakes at most once an hour, for every MD due by then */

/* What happens to the CA and the dns-01 program on which days. */
#define OUTAGE_DAY 100         /* the CA is down for OUTAGE_DAYS from here */
#define OUTAGE_DAYS 3
#define ARI_SHIFT_DAY 150      /* the CA's ARI windows move a day earlier */
#define DNS_FAIL_DAY 200       /* the dns-01 program fails for a day */
#define URGENT_DAY 250         /* a mass revocation: ARI says "now" for every certificate issued before */
#define RATE_DAY 300           /* the next 20 new orders are refused with a 30-day Retry-After */
#define RATE_ORDERS 20

typedef struct {
    const char *name;
    int short_lived, ari, dns;
    apr_time_t next;                 /* when the runner drives it */
    apr_time_t nb, na;               /* the served certificate's validity; na 0: none yet */
    apr_time_t expired_since;        /* serving an expired certificate since then, 0: not */
} fleet_md_t;

typedef struct {
    tr_t f;
    fleet_md_t mds[MDS];
    unsigned long rnd;
    int steps, forks, drives, kills, renewals, failures;
    int done[8];                     /* the scenario's events that happened */
    int kills_at_account;            /* kills after the CA answered a newAccount */
    apr_interval_time_t max_gap;     /* the longest time an MD served an expired certificate */
    int gaps;
} fleet_t;

static double rnd01(fleet_t *y)
{
    y->rnd = y->rnd * 6364136223846793005UL + 1442695040888963407UL;
    return (double)(y->rnd >> 11) / (double)(1UL << 53);
}

static double day_of(fleet_t *y, apr_time_t t)
{
    return (double)(t - y->f.start) / (double)TR_DAY;
}

static apr_time_t at_day(fleet_t *y, double day)
{
    return y->f.start + (apr_time_t)(day * (double)TR_DAY);
}

/* The served (active) certificate of m read from the store: it never goes back to an older one. */
static void read_served(fleet_t *y, fleet_md_t *m, apr_pool_t *ptemp)
{
    md_cert_t *leaf;
    md_t *md = NULL;
    void *chain = NULL;
    apr_time_t nb, na;

    apr_pool_clear(ptemp);
    ck_assert_msg(md_load(&md, y->f.store, MD_SG_DOMAINS, m->name, NULL, ptemp) == APR_SUCCESS,
                  "day %.2f: %s: md.json lost", day_of(y, tr_now(&y->f)), m->name);
    ck_assert_str_eq(md->name, m->name);
    if (md_store_load(&chain, y->f.store, MD_SG_DOMAINS, m->name, md_cert_aspect(md, 0, ptemp), MD_SV_CHAIN, NULL,
                      ptemp) != APR_SUCCESS) {
        ck_assert_msg(!m->na, "day %.2f: %s: its certificate is lost", day_of(y, tr_now(&y->f)), m->name);
        return;
    }
    leaf = APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
    nb = md_cert_get_not_before(leaf);
    na = md_cert_get_not_after(leaf);
    ck_assert_msg(na >= m->na, "day %.2f: %s: an older certificate is served again", day_of(y, tr_now(&y->f)),
                  m->name);
    m->nb = nb;
    m->na = na;
}

/* At time t: an MD whose certificate expired starts a gap; one that serves a valid one again ends it. */
static void account_gaps(fleet_t *y, apr_time_t t)
{
    apr_interval_time_t gap;
    fleet_md_t *m;
    int i;

    for (i = 0; i < MDS; ++i) {
        m = &y->mds[i];
        if (!m->na) continue;
        if (m->na <= t && !m->expired_since) m->expired_since = m->na;
        else if (m->na > t && m->expired_since) {
            gap = t - m->expired_since;
            /* only the outage leaves a certificate expired (a retry after it comes at most a back-off of 1.5 days
             * later: one expired in that time waits for it), and then not for longer than the outage lasted */
            ck_assert_msg(m->short_lived, "%s (45 days) expired on day %.2f", m->name,
                          day_of(y, m->expired_since));
            ck_assert_msg(m->expired_since <= at_day(y, OUTAGE_DAY + OUTAGE_DAYS + 1.5) && t > at_day(y, OUTAGE_DAY),
                          "%s served expired from day %.2f to %.2f, not in the outage", m->name,
                          day_of(y, m->expired_since), day_of(y, t));
            if (gap > y->max_gap) y->max_gap = gap;
            y->gaps++;
            m->expired_since = 0;
        }
    }
}

/* What the CA and the dns-01 program do from day to day. */
static void scenario(fleet_t *y, apr_time_t t)
{
    static const struct { double day; int what; } plan[] = {
        { OUTAGE_DAY, 1 }, { OUTAGE_DAY + OUTAGE_DAYS, 2 }, { ARI_SHIFT_DAY, 3 }, { DNS_FAIL_DAY, 4 },
        { DNS_FAIL_DAY + 1, 5 }, { URGENT_DAY, 6 }, { RATE_DAY, 7 },
    };
    unsigned i;

    for (i = 0; i < sizeof(plan) / sizeof(plan[0]); ++i) {
        if (y->done[i] || t < at_day(y, plan[i].day)) continue;
        y->done[i] = 1;
        switch (plan[i].what) {
        case 1: fake_ca_set(y->f.ca, FAKE_CA_SET_DOWN, 1); break;
        case 2: fake_ca_set(y->f.ca, FAKE_CA_SET_DOWN, 0); break;
        case 3: fake_ca_set(y->f.ca, FAKE_CA_SET_ARI_SHIFT, -86400L); break;
        case 4: tr_exit(&y->f, "setup", "1"); break;
        case 5: tr_exit(&y->f, "setup", "0"); break;
        case 6: fake_ca_set(y->f.ca, FAKE_CA_SET_ARI_URGENT_BEFORE, (long)apr_time_sec(t)); break;
        case 7: fake_ca_fail_next(y->f.ca, FAKE_CA_NEW_ORDER, RATE_ORDERS, 429, "rateLimited",
                                  "too many certificates issued for this name", 30 * 86400); break;
        }
    }
}

static void add_mds(fleet_t *y)
{
    fleet_md_t *m;
    md_t *md;
    int i;

    for (i = 0; i < MDS; ++i) {
        m = &y->mds[i];
        m->name = apr_psprintf(y->f.p, "m%02d.example.org", i);
        m->short_lived = (i % 10 == 0);
        m->ari = (i % 8 == 1 || i % 20 == 0);
        m->dns = (i % 10 == 3);
        fake_ca_set_lifetime_for(y->f.ca, m->name, (m->short_lived ? SHORT_DAYS : LONG_DAYS) * 86400L);
        md = tr_md(&y->f, m->name);
        md->ari_renewals = m->ari;
        if (m->dns) {
            md->ca_challenges = apr_array_make(y->f.p, 1, sizeof(const char *));
            APR_ARRAY_PUSH(md->ca_challenges, const char *) = "dns-01";
            md->dns01_cmd = apr_pstrcat(y->f.p, y->f.script, " D", NULL);
        }
        tr_save(&y->f, md);
        m->next = y->f.start + i * apr_time_from_sec(1200);     /* configured over the first 17 hours */
    }
}

/* One wake of the runner at t: every MD due, in a forked child that may be killed at a random request. */
static void step(fleet_t *y, apr_time_t t, apr_pool_t *pstep, apr_pool_t *ptemp)
{
    apr_array_header_t *items = apr_array_make(pstep, MDS, sizeof(md_reg_item_t *));
    int idx[MDS], n = 0, i, kill_at = 0, killed;
    tr_kill_t how = TR_KILL_BEFORE;
    md_reg_item_t *item;
    fleet_md_t *m;

    for (i = 0; i < MDS; ++i) {
        if (y->mds[i].next > t) continue;
        item = apr_pcalloc(pstep, sizeof(*item));
        item->name = y->mds[i].name;
        item->flags.activate = 1;
        APR_ARRAY_PUSH(items, md_reg_item_t *) = item;
        idx[n++] = i;
    }
    /* the retry times' jitter from the year's own sequence: a seed repeats the year's schedule (the threads of a
     * run and the kill's timing aside) */
    md_clock_sim_seed(y->f.sim, (unsigned long)(rnd01(y) * 4294967295.0));
    if (rnd01(y) * 100 < KILL_PERCENT) {
        kill_at = 1 + (int)(rnd01(y) * 12.0);
        how = (tr_kill_t)(int)(rnd01(y) * 3);
    }
    y->steps++;
    y->drives += n;
    killed = 0;
    if (kill_at || FORK_ALL) {
        y->forks++;
        killed = tr_run_forked(&y->f, items, kill_at, how,
                               how == TR_KILL_LATER ? (apr_interval_time_t)(rnd01(y) * 2000) : 0);
    }
    else md_reg_renew_many(NULL, y->f.reg, &y->f.rn, items, pstep);
    if (killed) {
        /* a restart: every MD still serves what it served (or newer), and the ones driven go again at once */
        y->kills++;
        if (strstr(y->f.killed_url, "/new-acct") && how != TR_KILL_BEFORE) y->kills_at_account++;
        tr_restart(&y->f);
        for (i = 0; i < MDS; ++i) read_served(y, &y->mds[i], ptemp);
        for (i = 0; i < n; ++i) y->mds[idx[i]].next = t + apr_time_from_sec(60);
        return;
    }
    for (i = 0; i < n; ++i) {
        m = &y->mds[idx[i]];
        item = APR_ARRAY_IDX(items, i, md_reg_item_t *);
        switch (item->outcome) {
        case MD_DRIVE_ACTIVATED:
            y->renewals++;
            break;
        case MD_DRIVE_NOT_DUE: case MD_DRIVE_WAITING: case MD_DRIVE_BACKING_OFF:
            break;
        case MD_DRIVE_FAILED:
            y->failures++;
            break;
        default:
            ck_abort_msg("day %.2f: %s: %s (%s)", day_of(y, t), m->name, md_drive_outcome_str(item->outcome),
                         item->detail ? item->detail : "");
        }
        m->next = item->next > t ? item->next : t + TR_HOUR;
        read_served(y, m, ptemp);
    }
}

START_TEST(reg_fleet_year)
{
    apr_time_t end, t, first;
    apr_pool_t *ptemp, *pstep;
    fleet_t *y = calloc(1, sizeof(*y));
    const char *seed = getenv("FLEET_SEED");
    char *old_tmp;
    int i, issued, requests;
    apr_time_t started = apr_time_now();

    /* the store in memory (tmpfs) where there is one: the year is about the registry, not about the disk's fsyncs */
    old_tmp = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    if (access("/dev/shm", W_OK) == 0) setenv("TMPDIR", "/dev/shm", 1);
    tr_init(&y->f, SHORT_DAYS);
    if (old_tmp) setenv("TMPDIR", old_tmp, 1);
    else unsetenv("TMPDIR");
    free(old_tmp);
    y->f.local_files = 1;
    y->rnd = seed && *seed ? strtoul(seed, NULL, 10) : SEED;
    fake_ca_set(y->f.ca, FAKE_CA_SET_ARI, 1);
    fake_ca_set(y->f.ca, FAKE_CA_SET_ARI_RETRY_AFTER, 2 * 86400);
    apr_pool_create(&ptemp, y->f.p);
    apr_pool_create(&pstep, y->f.p);
    add_mds(y);
    end = at_day(y, DAYS);
    for (;;) {
        first = 0;
        for (i = 0; i < MDS; ++i) if (!first || y->mds[i].next < first) first = y->mds[i].next;
        /* the next wake, on the hour */
        t = y->f.start + ((first - y->f.start + QUANTUM - 1) / QUANTUM) * QUANTUM;
        if (t < tr_now(&y->f)) t = tr_now(&y->f);
        if (t > end) break;
        md_clock_sim_set(y->f.sim, t);
        account_gaps(y, t);
        scenario(y, t);
        apr_pool_clear(pstep);
        step(y, t, pstep, ptemp);
        account_gaps(y, t);
    }
    md_clock_sim_set(y->f.sim, end);
    account_gaps(y, end);
    /* at the end every MD serves a valid certificate, no MD's staging is left but of a renewal under way */
    for (i = 0; i < MDS; ++i) {
        read_served(y, &y->mds[i], ptemp);
        ck_assert_msg(y->mds[i].na > end && y->mds[i].nb <= end, "%s: no valid certificate at the end",
                      y->mds[i].name);
    }
    ck_assert_int_le(fake_ca_accounts(y->f.ca), 1 + y->kills_at_account);
    issued = fake_ca_issued_count(y->f.ca);
    requests = fake_ca_count(y->f.ca, FAKE_CA_ANY);
    printf("fleet year (seed %lu): %d MDs, %d days, %d steps (%d forked), %d drives, %d renewals activated, %d certificates "
           "issued, %d failed attempts, %d runners killed, %d CA requests (%d ARI), %.1f per issued certificate "
           "(%.1f without ARI), %d expiries, the longest %.2f days (outage %d days), %.1f s\n",
           seed && *seed ? strtoul(seed, NULL, 10) : SEED, MDS, DAYS, y->steps, y->forks, y->drives, y->renewals, issued,
           y->failures, y->kills, requests, fake_ca_count(y->f.ca, FAKE_CA_ARI), (double)requests / issued,
           (double)(requests - fake_ca_count(y->f.ca, FAKE_CA_ARI)) / issued, y->gaps,
           (double)y->max_gap / (double)TR_DAY, OUTAGE_DAYS, (double)(apr_time_now() - started) / 1e6);
    fflush(stdout);
    ck_assert_int_le(y->max_gap, OUTAGE_DAYS * TR_DAY);
    ck_assert_int_gt(y->kills, MDS);
    /* the 6-day ones renewed about every 4 days, the others about every 30 (with ARI at a random time between 30
     * and 37.5 days): at least every 5 and every 40 days */
    ck_assert_int_ge(issued, (MDS / 10) * DAYS / 5 + (MDS - MDS / 10) * DAYS / 40);
    /* an issuance takes directory, nonce, order, authorization, challenge, its poll, finalize, certificate (and now
     * and then an order poll, a new nonce, a retry): the ARI questions aside, no more than 12 */
    ck_assert_int_le(requests - fake_ca_count(y->f.ca, FAKE_CA_ARI), 12 * issued);
    apr_pool_destroy(ptemp);
    tr_done(&y->f);
    free(y);
}
END_TEST

Suite *md_test_reg_fleet_suite(void)
{
    Suite *s = suite_create("reg_fleet");
    TCase *tc = tcase_create("year");

    /* a hang detector, not a time limit: about 110 s on an idle 2-core machine, 320 s at load 20 (make check failed
     * there at the old 300 s) */
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, reg_fleet_year);
    suite_add_tcase(s, tc);
    return s;
}
