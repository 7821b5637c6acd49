/* Unit tests of live activation in the registry: when a renewed set may be served (MDActivationDelay), the set read
 * from staging/ or domains/, what identifies the active files, a set as JSON, activation while running under leases. */
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_json.h"
#include "md_pkey.h"
#include "md_reg_lease.h"
#include "md_reg_live.h"
#include "test_common.h"
#include "test_reg.h"

#define NAME "a.example.org"

/* Drive NAME without activating it (as httpd's watchdog does): its renewed set stays in staging/. */
static void stage(tr_t *f, int force)
{
    apr_array_header_t *items = tr_items(f, NAME);

    tr_item(items, 0)->flags.force = force;
    tr_run(f, items, NULL);
    tr_assert_outcome(tr_item(items, 0), MD_DRIVE_STAGED);
}

static md_reg_live_set_t *load(tr_t *f, const md_t *md, md_store_group_t group, apr_interval_time_t delay)
{
    md_result_t *result = md_result_make(f->p);
    md_reg_live_set_t *set = NULL;

    ck_assert_msg(md_reg_live_load(&set, f->reg, md, group, delay, result, f->p) == APR_SUCCESS, "%s",
                  md_result_text(result, f->p));
    return set;
}

static void activate(tr_t *f, const md_t *md, apr_interval_time_t delay, int want)
{
    apr_array_header_t *items = apr_array_make(f->p, 1, sizeof(md_reg_sync_item_t *));
    md_reg_sync_item_t *item = apr_pcalloc(f->p, sizeof(*item));
    md_reg_sync_opts_t opts;

    memset(&opts, 0, sizeof(opts));
    opts.activation_delay = delay;
    item->md = md;
    APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
    md_reg_activate(f->reg, items, &opts, f->p);
    ck_assert_int_eq(item->activated, want);
}

/* A renewed set may be served at its notBefore plus the delay; before, neither served nor activated. */
START_TEST(live_staged_delay)
{
    md_result_t *result;
    md_reg_live_set_t *set;
    apr_time_t at;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    md = tr_add(&f, NAME);
    ck_assert_int_eq(md_reg_live_staged_at(f.reg, md, 0, f.p), 0);
    stage(&f, 0);
    at = md_reg_live_staged_at(f.reg, md, 0, f.p);
    ck_assert(at > 0 && at <= tr_now(&f));
    ck_assert_int_eq(md_reg_live_staged_at(f.reg, md, TR_DAY, f.p), at + TR_DAY);
    result = md_result_make(f.p);
    ck_assert_int_eq(md_reg_live_load(&set, f.reg, md, MD_SG_STAGING, TR_DAY, result, f.p), APR_ENOENT);
    tr_assert_has(md_result_text(result, f.p), "no renewed set may be served before");
    activate(&f, md, TR_DAY, 0);
    ck_assert_ptr_null(tr_leaf(&f, NAME));
    md_clock_sim_advance(f.sim, TR_DAY);
    set = load(&f, md, MD_SG_STAGING, TR_DAY);
    ck_assert_int_eq(set->group, MD_SG_STAGING);
    activate(&f, md, TR_DAY, 1);
    ck_assert_int_eq(md_reg_live_staged_at(f.reg, md, 0, f.p), 0);
    tr_done(&f);
}
END_TEST

/* The staged set, then the same set active: same id, keys that fit; a renewal changes the id and the active id,
 * which nothing else changes (md.json rewritten). */
START_TEST(live_sets)
{
    md_reg_live_set_t *staged, *active, *again;
    md_result_t *result = NULL;
    const char *aid;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    md = tr_add(&f, NAME);
    result = md_result_make(f.p);
    ck_assert_int_eq(md_reg_live_load(&active, f.reg, md, MD_SG_DOMAINS, 0, result, f.p), APR_ENOENT);
    stage(&f, 0);
    staged = load(&f, md, MD_SG_STAGING, 0);
    ck_assert_int_eq(staged->certs->nelts, 1);
    ck_assert(md_cert_matches_key(APR_ARRAY_IDX(APR_ARRAY_IDX(staged->certs, 0, md_reg_live_cert_t *)->chain, 0,
                                                md_cert_t *),
                                  APR_ARRAY_IDX(staged->certs, 0, md_reg_live_cert_t *)->pkey));
    activate(&f, md, 0, 1);
    active = load(&f, md, MD_SG_DOMAINS, 0);
    ck_assert_str_eq(active->id, staged->id);
    aid = md_reg_live_active_id(f.reg, md, f.p);
    tr_save(&f, md);
    ck_assert_str_eq(md_reg_live_active_id(f.reg, md, f.p), aid);
    stage(&f, 1);
    ck_assert_str_eq(md_reg_live_active_id(f.reg, md, f.p), aid);
    again = load(&f, md, MD_SG_STAGING, 0);
    ck_assert_str_ne(again->id, active->id);
    activate(&f, md, 0, 1);
    ck_assert_str_ne(md_reg_live_active_id(f.reg, md, f.p), aid);
    ck_assert_str_eq(load(&f, md, MD_SG_DOMAINS, 0)->id, again->id);
    ck_assert_int_eq(md_store_exists(f.store, MD_SG_ARCHIVE, NAME ".1", NULL, f.p), 1);
    tr_done(&f);
}
END_TEST

/* A forced renewal while a renewed set waits in staging/ (served live, not yet activated) renews again: it may be the
 * set whose key was compromised. Unforced, the staged set stays as it is. */
START_TEST(live_force_over_staged)
{
    md_reg_live_set_t *first;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    md = tr_add(&f, NAME);
    stage(&f, 0);
    first = load(&f, md, MD_SG_STAGING, 0);
    stage(&f, 0);
    ck_assert_str_eq(load(&f, md, MD_SG_STAGING, 0)->id, first->id);
    stage(&f, 1);
    ck_assert_str_ne(load(&f, md, MD_SG_STAGING, 0)->id, first->id);
    ck_assert(tr_job(&f, NAME)->finished);
    activate(&f, md, 0, 1);
    ck_assert_str_ne(load(&f, md, MD_SG_DOMAINS, 0)->id, first->id);
    tr_done(&f);
}
END_TEST

/* A staged set whose key does not fit its certificate is refused, as activation refuses it (and then removes it). */
START_TEST(live_staged_mismatch)
{
    md_result_t *result;
    md_reg_live_set_t *set;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_pkey_t *other;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    md = tr_add(&f, NAME);
    stage(&f, 0);
    ck_assert_int_eq(md_pkey_gen(&other, &spec, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_STAGING, NAME, md_pkey_aspect(md, 0, f.p), MD_SV_PKEY, other, 0,
                                   NULL, f.p), APR_SUCCESS);
    result = md_result_make(f.p);
    ck_assert_int_eq(md_reg_live_load(&set, f.reg, md, MD_SG_STAGING, 0, result, f.p), APR_EINVAL);
    tr_assert_has(md_result_text(result, f.p), "does not match its private key");
    activate(&f, md, 0, 0);
    ck_assert_int_eq(md_store_exists(f.store, MD_SG_STAGING, NAME, NULL, f.p), 0);
    tr_done(&f);
}
END_TEST

/* A set travels as JSON (the httpd parent to its children) and comes back the same. */
START_TEST(live_json)
{
    md_reg_live_set_t *set, *back = NULL;
    md_reg_live_cert_t *c;
    md_json_t *json;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    md = tr_add(&f, NAME);
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    set = load(&f, md, MD_SG_DOMAINS, 0);
    json = md_reg_live_to_json(set, f.p);
    ck_assert_int_eq(md_reg_live_from_json(&back, json, f.p), APR_SUCCESS);
    ck_assert_str_eq(back->id, set->id);
    ck_assert_int_eq(back->group, MD_SG_DOMAINS);
    c = APR_ARRAY_IDX(back->certs, 0, md_reg_live_cert_t *);
    ck_assert_str_eq(c->key, "secp256r1");
    ck_assert(md_cert_matches_key(APR_ARRAY_IDX(c->chain, 0, md_cert_t *), c->pkey));
    md_json_del(json, "id", NULL);
    ck_assert_int_eq(md_reg_live_from_json(&back, json, f.p), APR_EINVAL);
    tr_done(&f);
}
END_TEST

/* Activation while running waits for a lease another process holds, then takes place. */
START_TEST(live_activate_leased)
{
    md_reg_lease_t *lk = NULL;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    md = tr_add(&f, NAME);
    stage(&f, 0);
    ck_assert_int_eq(md_reg_lease_take(&lk, NULL, f.reg, NAME, apr_time_from_sec(60), f.p), APR_SUCCESS);
    activate(&f, md, 0, 0);
    ck_assert_int_ne(md_reg_live_staged_at(f.reg, md, 0, f.p), 0);
    md_reg_lease_release(lk);
    activate(&f, md, 0, 1);
    ck_assert_ptr_nonnull(tr_leaf(&f, NAME));
    tr_done(&f);
}
END_TEST

/* Several MDs activated in one batch (the store shares the flushes): a set whose lease another process holds and
 * one that does not pass the check stay out of it, the others are activated, and the leases taken go again. */
START_TEST(live_activate_batch)
{
    static const char *const names[] = { "a.example.org", "b.example.org", "c.example.org", "d.example.org" };
    apr_array_header_t *items;
    const char *lease;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_reg_sync_item_t *item;
    md_reg_sync_opts_t opts;
    md_reg_lease_t *lk = NULL;
    md_pkey_t *other;
    md_t *mds[4];
    tr_t f;
    int i;

    tr_init(&f, 0);
    for (i = 0; i < 4; ++i) mds[i] = tr_add(&f, names[i]);
    items = tr_items(&f, "a.example.org b.example.org c.example.org d.example.org");
    tr_run(&f, items, NULL);
    for (i = 0; i < 4; ++i) tr_assert_outcome(tr_item(items, i), MD_DRIVE_STAGED);
    ck_assert_int_eq(md_reg_lease_take(&lk, NULL, f.reg, names[1], apr_time_from_sec(60), f.p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_gen(&other, &spec, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_STAGING, names[2], md_pkey_aspect(mds[2], 0, f.p), MD_SV_PKEY,
                                   other, 0, NULL, f.p), APR_SUCCESS);
    items = apr_array_make(f.p, 4, sizeof(md_reg_sync_item_t *));
    for (i = 0; i < 4; ++i) {
        item = apr_pcalloc(f.p, sizeof(*item));
        item->md = mds[i];
        APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
    }
    memset(&opts, 0, sizeof(opts));
    md_reg_activate(f.reg, items, &opts, f.p);
    for (i = 0; i < 4; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        ck_assert_msg(item->activated == (i == 0 || i == 3), "%s: activated %d", names[i], item->activated);
    }
    ck_assert_ptr_nonnull(tr_leaf(&f, names[0]));
    ck_assert_ptr_nonnull(tr_leaf(&f, names[3]));
    ck_assert_int_ne(md_reg_live_staged_at(f.reg, mds[1], 0, f.p), 0);          /* leased: left staged */
    ck_assert_int_eq(md_store_exists(f.store, MD_SG_STAGING, names[2], NULL, f.p), 0);   /* refused: removed */
    ck_assert_ptr_null(tr_leaf(&f, names[2]));
    for (i = 0; i < 4; ++i) {
        lease = md_file_join(f.p, md_store_base_dir(f.store), MD_REG_LEASES_DIR,
                             apr_pstrcat(f.p, names[i], ".json", NULL), NULL);
        ck_assert_int_eq(md_file_is(lease, APR_REG, f.p), i == 1 ? APR_SUCCESS : APR_ENOENT);
    }
    md_reg_lease_release(lk);
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_live_suite(void)
{
    Suite *s = suite_create("reg_live");
    TCase *tc = tcase_create("live");

    tcase_add_test(tc, live_staged_delay);
    tcase_add_test(tc, live_sets);
    tcase_add_test(tc, live_force_over_staged);
    tcase_add_test(tc, live_staged_mismatch);
    tcase_add_test(tc, live_json);
    tcase_add_test(tc, live_activate_leased);
    tcase_add_test(tc, live_activate_batch);
    suite_add_tcase(s, tc);
    return s;
}
