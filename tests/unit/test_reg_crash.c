/* The runner killed (kill -9) at every CA request of an issuance and a renewal: nothing lost, no request not needed. */
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_job.h"
#include "md_store.h"
#include "test_common.h"
#include "test_reg.h"

#define NAME "example.org"
#define NAMES "example.org,www.example.org"

typedef struct {
    int runs, killed;                   /* runs, of them killed */
    int second_orders, second_accounts; /* kills after which the CA had a second order or account */
} crash_stats_t;

static int killed_at(const tr_t *f, const char *path)
{
    return f->killed_url && strstr(f->killed_url, path) != NULL;
}

/* The MD's active set: complete (each certificate there, covering, matching its key) and valid now. */
static void assert_served(tr_t *f, const md_t *md, const char *when)
{
    md_reg_state_opts_t opts = { NULL, 0, 1 };
    md_reg_state_t *st = md_reg_state(f->reg, md, &opts, f->p);

    ck_assert_msg(st->complete, "%s (killed at %s): %s", when, f->killed_url ? f->killed_url : "-", st->state_descr);
}

/* After the kill: restarts and runs (as the watchdog's) until the MD has a certificate other than old's. */
static void go_on(tr_t *f, const md_t *md, const char *old_serial)
{
    md_reg_item_t *item = NULL;
    md_cert_t *leaf;
    int i;

    for (i = 0; i < 4; ++i) {
        leaf = tr_leaf(f, NAME);
        if (leaf && (!old_serial || strcmp(md_cert_get_serial_hex(leaf, f->p), old_serial))) break;
        item = tr_run1(f, NAME, 0);
        if (item->outcome == MD_DRIVE_FAILED || item->outcome == MD_DRIVE_BACKING_OFF) {
            ck_assert_msg(item->next > tr_now(f), "%s: no retry time", item->detail ? item->detail : "");
            md_clock_sim_set(f->sim, item->next);
        }
    }
    ck_assert_msg(i < 4, "killed at %s: not renewed: %s", f->killed_url,
                  item && item->detail ? item->detail : "no detail");
    assert_served(f, md, "renewed");
    ck_assert(!md_store_exists(f->store, MD_SG_STAGING, NAME, NULL, f->p));
}

/* A first issuance (renewal 0) or a renewal of a 6-day certificate, its runner killed at request kill_at; 0 when
 * the runner finished before that request. */
static int crash_at(int renewal, int kill_at, tr_kill_t how, crash_stats_t *cs)
{
    apr_array_header_t *items;
    const char *old = NULL;
    int orders, killed;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    f.local_files = 1;
    fake_ca_set(f.ca, FAKE_CA_SET_AUTHZ_REUSE, 0);
    md = tr_add(&f, NAMES);
    if (renewal) {
        tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
        old = md_cert_get_serial_hex(tr_leaf(&f, NAME), f.p);
        md_clock_sim_advance(f.sim, 4 * TR_DAY + TR_HOUR);
    }
    orders = fake_ca_count(f.ca, FAKE_CA_NEW_ORDER);
    items = tr_items(&f, NAME);
    tr_item(items, 0)->flags.activate = 1;      /* as the command: activated at once */
    killed = tr_run_forked(&f, items, kill_at, how, 0);
    cs->runs++;
    if (killed) {
        cs->killed++;
        tr_restart(&f);
        if (renewal) assert_served(&f, md, "after the restart");     /* the old set or the new one */
    }
    go_on(&f, md, old);
    /* one new certificate; a second order only when the first one's URL never reached the store, a second account
     * only when its key never did */
    ck_assert_int_eq(fake_ca_issued_count(f.ca), renewal ? 2 : 1);
    orders = fake_ca_count(f.ca, FAKE_CA_NEW_ORDER) - orders;
    if (orders > 1) {
        ck_assert_msg(orders == 2 && killed_at(&f, "/new-order") && how != TR_KILL_BEFORE,
                      "%d orders after a kill at %s", orders, f.killed_url ? f.killed_url : "-");
        cs->second_orders++;
    }
    if (fake_ca_accounts(f.ca) > 1) {
        ck_assert_msg(fake_ca_accounts(f.ca) == 2 && killed_at(&f, "/new-acct") && how != TR_KILL_BEFORE,
                      "%d accounts after a kill at %s", fake_ca_accounts(f.ca), f.killed_url ? f.killed_url : "-");
        cs->second_accounts++;
    }
    tr_done(&f);
    return killed;
}

/* Kill at request 1, 2, ... until the runner gets through before the kill. */
static void crash_every_request(int renewal, tr_kill_t how, crash_stats_t *cs)
{
    int k;

    for (k = 1; k < 40 && crash_at(renewal, k, how, cs); ++k) ;
    ck_assert_int_lt(k, 40);
    ck_assert_int_gt(k, 6);      /* directory, nonce, (account,) order, authorizations, challenges, ... */
}

/* Each kill point in turn: before each request reaches the CA, after the CA answered, just after the runner got the
 * answer. */
static void crash_every_way(int renewal, crash_stats_t *cs)
{
    memset(cs, 0, sizeof(*cs));
    crash_every_request(renewal, TR_KILL_BEFORE, cs);
    crash_every_request(renewal, TR_KILL_AFTER, cs);
    crash_every_request(renewal, TR_KILL_LATER, cs);
}

/* The first issuance, killed at every request in every way. */
START_TEST(crash_first_issuance)
{
    crash_stats_t cs;

    crash_every_way(0, &cs);
    ck_assert_int_gt(cs.killed, 20);
    ck_assert_int_ge(cs.second_orders, 1);        /* killed after the CA made the order: the protocol needs one */
}
END_TEST

/* A renewal: the active set is served after every restart, the new one comes, the old one is kept in archive. */
START_TEST(crash_renewal)
{
    crash_stats_t cs;

    crash_every_way(1, &cs);
    ck_assert_int_gt(cs.killed, 20);
    ck_assert_int_eq(cs.second_accounts, 0);      /* the account exists already */
}
END_TEST

Suite *md_test_reg_crash_suite(void)
{
    Suite *s = suite_create("reg_crash");
    TCase *tc = tcase_create("kill");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, crash_first_issuance);
    tcase_add_test(tc, crash_renewal);
    suite_add_tcase(s, tc);
    return s;
}
