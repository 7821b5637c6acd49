/* Unit tests of the registry's renewal runner (md_reg_renew_many) against the fake CA: the worker pool, shared ACME
 * clients, failures of one MD among many, MDs that wait for a response delay, with and without rn->wait (and its
 * wait_max). */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_cert.h"
#include "md_job.h"
#include "md_pkey.h"
#include "md_renew.h"
#include "md_time.h"
#include "test_common.h"
#include "test_reg.h"

#define MANY 10

static const char *site(tr_t *f, int i)
{
    return apr_psprintf(f->p, "site%d.example.org", i);
}

static apr_array_header_t *sites(tr_t *f, int n)
{
    const char *names = "";
    int i;

    for (i = 0; i < n; ++i) names = apr_pstrcat(f->p, names, i ? " " : "", site(f, i), NULL);
    return tr_items(f, names);
}

static void activate_all(apr_array_header_t *items)
{
    int i;

    for (i = 0; i < items->nelts; ++i) tr_item(items, i)->flags.activate = 1;
}

/* A second run of the sites: nothing is due, nothing asked; each comes back with its renewal time (2/3 of 6 days +
 * 60 s), or with ARI on (the odd ones), the time to ask the CA about it (6 hours after the activation). */
static void assert_second_run_quiet(tr_t *f)
{
    apr_array_header_t *items = sites(f, MANY);
    int i, total = fake_ca_count(f->ca, FAKE_CA_ANY);
    apr_time_t now = tr_now(f), due;
    md_reg_item_t *item;
    md_cert_t *leaf;

    tr_run(f, items, NULL);
    ck_assert_int_eq(fake_ca_count(f->ca, FAKE_CA_ANY), total);
    for (i = 0; i < MANY; ++i) {
        item = tr_item(items, i);
        tr_assert_outcome(item, MD_DRIVE_NOT_DUE);
        leaf = tr_leaf(f, item->name);
        if (i % 2) {
            /* 6 hours after its activation: the drive's polls waited a little (simulated) time after some */
            ck_assert_int_le(item->next, now + 6 * TR_HOUR);
            ck_assert_int_gt(item->next, now + 6 * TR_HOUR - apr_time_from_sec(1));
            continue;
        }
        due = md_cert_get_not_after(leaf)
              - (apr_time_t)((double)(md_cert_get_not_after(leaf) - md_cert_get_not_before(leaf)) * 0.33);
        ck_assert_int_le(apr_time_sec(item->next > due ? item->next - due : due - item->next), 1);
        ck_assert_int_gt(item->next, now + 4 * TR_DAY);
    }
}

/* 10 MDs, 4 workers: one directory and one account for all, several driven at once, a certificate each; a second
 * run asks the CA nothing. */
START_TEST(renew_many_shared)
{
    md_reg_run_stats_t stats;
    apr_array_header_t *items;
    md_reg_item_t *item;
    md_cert_t *leaf;
    md_t *md;
    tr_t f;
    int i;

    tr_init(&f, 6);
    f.rn.workers = 4;
    f.rendezvous = 1;        /* two local setups overlap: proof that drives ran at the same time */
    for (i = 0; i < MANY; ++i) {
        md = tr_md(&f, site(&f, i));
        md->ari_renewals = i % 2;    /* the even ones without ARI */
        tr_save(&f, md);
    }
    items = sites(&f, MANY);
    activate_all(items);
    tr_run(&f, items, &stats);
    for (i = 0; i < MANY; ++i) {
        item = tr_item(items, i);
        tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
        ck_assert_int_eq(item->rv, APR_SUCCESS);
        ck_assert_ptr_null(item->detail);
        ck_assert_int_eq(fake_ca_issued(f.ca, item->name, f.p)->nelts, 1);
        leaf = tr_leaf(&f, item->name);
        ck_assert_ptr_nonnull(leaf);
        ck_assert(md_cert_covers(leaf, item->name, f.p));
    }
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_DIRECTORY), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ACCOUNT), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), MANY);
    /* the protocol's floor per MD (this CA validates and issues at once): newOrder, the authorization, the
     * challenge, one order poll, finalize, the certificate; nonces come from the answers, but a worker's first */
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_AUTHZ), MANY);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), MANY);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ORDER), MANY);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_FINALIZE), MANY);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CERT), MANY);
    ck_assert_int_le(fake_ca_count(f.ca, FAKE_CA_NONCE), 4);
    ck_assert_int_le(fake_ca_count(f.ca, FAKE_CA_ANY), 2 + 4 + 6 * MANY);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), MANY);
    ck_assert_int_eq(stats.workers, 4);
    ck_assert_int_gt(stats.max_active, 1);
    ck_assert_int_le(stats.max_active, 4);
    ck_assert_int_ge(f.max_in_setup, 2);
    ck_assert_int_eq(f.done->nelts, MANY);
    assert_second_run_quiet(&f);
    tr_done(&f);
}
END_TEST

/* A new account at the fake CA, saved in the store; its id. */
static const char *stored_account(tr_t *f)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_result_t *result = md_result_make(f->p);
    md_acme_acct_t *acct = NULL;
    md_acme_t *acme = NULL;
    md_http_t *http = NULL;
    md_pkey_t *key = NULL;

    ck_assert_int_eq(md_http_create(&http, NULL, fake_ca_backend(f->ca), f->p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_create(&acme, fake_ca_directory_url(f->ca), http, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_setup(acme, result), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_gen(&key, &spec, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_acct_register(&acct, acme, key, NULL, 1, NULL, result, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_acct_save(acct, key, f->store, result, f->p), APR_SUCCESS);
    return acct->id;
}

/* The URL of the stored account id. */
static const char *account_url(tr_t *f, const char *id)
{
    md_acme_acct_t *acct = NULL;

    ck_assert_ptr_nonnull(id);
    ck_assert_int_eq(md_acme_acct_load(&acct, NULL, f->store, id, md_result_make(f->p), f->p), APR_SUCCESS);
    return acct->url;
}

/* Two valid accounts of the CA in the store, the MDs with the second: parallel drives share the client with the
 * account the first drive set up, and every MD records that account, the one its order was made with (the staging
 * job while staged, md.json once active), not the first one the store lists. */
START_TEST(renew_many_shared_account)
{
    apr_array_header_t *items;
    const fake_ca_cert_t *cert;
    const char *first, *second, *url;
    md_reg_item_t *item;
    md_t *md;
    tr_t f;
    int i;

    tr_init(&f, 6);
    f.rn.workers = 4;
    first = stored_account(&f);
    second = stored_account(&f);
    ck_assert_str_lt(first, second);        /* the store lists the first one first */
    url = account_url(&f, second);
    for (i = 0; i < MANY; ++i) {
        md = tr_md(&f, site(&f, i));
        md->ca_account = second;
        tr_save(&f, md);
    }
    items = sites(&f, MANY);
    tr_run(&f, items, NULL);
    for (i = 0; i < MANY; ++i) {
        item = tr_item(items, i);
        tr_assert_outcome(item, MD_DRIVE_STAGED);
        cert = APR_ARRAY_IDX(fake_ca_issued(f.ca, item->name, f.p), 0, const fake_ca_cert_t *);
        ck_assert_str_eq(cert->account, url);
        ck_assert_str_eq(md_json_gets(tr_job(&f, item->name)->state, "account", NULL), second);
    }
    items = sites(&f, MANY);
    activate_all(items);
    tr_run(&f, items, NULL);
    for (i = 0; i < MANY; ++i) {
        item = tr_item(items, i);
        tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
        ck_assert_str_eq(tr_load(&f, item->name)->ca_account, second);
    }
    ck_assert_int_eq(fake_ca_accounts(f.ca), 2);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), MANY);
    tr_done(&f);
}
END_TEST

/* rn->done: once per item as its drive ends, the item's result complete (a failure's detail there). */
static void count_done(void *baton, md_reg_item_t *item, apr_pool_t *p)
{
    int *counts = baton;

    (void)p;
    __atomic_add_fetch(&counts[0], 1, __ATOMIC_RELAXED);
    if (item->outcome == MD_DRIVE_FAILED && (!item->detail || !*item->detail)) {
        __atomic_add_fetch(&counts[1], 1, __ATOMIC_RELAXED);
    }
}

/* One MD's validation fails: it ends FAILED with the CA's reason and a retry time, the others are renewed; an MD
 * the store does not know fails with the reason. The front-end's done callback sees each item once, its result
 * complete. */
START_TEST(renew_many_one_fails)
{
    apr_array_header_t *items;
    md_reg_item_t *item;
    md_job_t *job;
    tr_t f;
    int i, counts[2] = { 0, 0 };

    tr_init(&f, 6);
    f.rn.workers = 4;
    f.rn.done = count_done;
    f.rn.done_baton = counts;
    for (i = 0; i < 5; ++i) tr_add(&f, site(&f, i));
    fake_ca_fail_validation(f.ca, site(&f, 2), "nobody home");
    items = sites(&f, 5);
    APR_ARRAY_PUSH(items, md_reg_item_t *) = tr_item(tr_items(&f, "unknown.example.org"), 0);   /* no md.json */
    activate_all(items);
    tr_run(&f, items, NULL);
    item = tr_item(items, 5);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(item->rv, APR_ENOENT);
    tr_assert_has(item->detail, "no managed domain 'unknown.example.org'");
    for (i = 0; i < 5; ++i) {
        item = tr_item(items, i);
        if (i != 2) {
            tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
            continue;
        }
        tr_assert_outcome(item, MD_DRIVE_FAILED);
        ck_assert_int_ne(item->rv, APR_SUCCESS);
        tr_assert_has(item->detail, "nobody home");
        tr_assert_has(item->problem, "incorrectResponse");
        ck_assert_int_gt(item->next, tr_now(&f));
        job = tr_job(&f, item->name);
        ck_assert_int_eq(job->errors, 1);
        ck_assert_int_eq(apr_time_sec(job->next_run), apr_time_sec(item->next));
        ck_assert_ptr_null(tr_leaf(&f, item->name));
    }
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 4);
    ck_assert_int_eq(counts[0], 6);
    ck_assert_int_eq(counts[1], 0);
    tr_done(&f);
}
END_TEST

/* rn->wait: an MD with a response delay of 2 s is driven again in the same run when its time comes, and the MD
 * behind it is not held up: one worker drives it while the first waits. The CA hears of the answer only after
 * the delay. */
START_TEST(renew_many_wait_in_run)
{
    apr_array_header_t *items;
    apr_time_t setup, validated;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    f.rn.wait = 1;
    md = tr_md(&f, "slow.example.org");
    md->challenge_delays.http01 = apr_time_from_sec(2);
    tr_save(&f, md);
    tr_add(&f, "quick.example.org");
    items = tr_items(&f, "slow.example.org quick.example.org");
    activate_all(items);
    tr_run(&f, items, NULL);
    tr_assert_outcome(tr_item(items, 0), MD_DRIVE_ACTIVATED);
    tr_assert_outcome(tr_item(items, 1), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(f.done->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 0, const char *), "slow.example.org waiting again");
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 1, const char *), "quick.example.org activated");
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 2, const char *), "slow.example.org activated");
    setup = tr_time_of(&f, f.setup_at, "http-01 slow.example.org");
    validated = tr_time_of(&f, f.validated_at, "http-01 slow.example.org");
    ck_assert_msg(validated >= setup + apr_time_from_sec(2), "validated %ld ms after the setup",
                  (long)apr_time_as_msec(validated - setup));
    ck_assert_int_lt(validated, setup + apr_time_from_sec(3));
    /* quick's validation came before slow's: it did not wait */
    ck_assert_int_lt(tr_time_of(&f, f.validated_at, "http-01 quick.example.org"), validated);
    ck_assert(md_cert_covers(tr_leaf(&f, "slow.example.org"), "slow.example.org", f.p));
    tr_done(&f);
}
END_TEST

/* rn->wait with rn->wait_max (httpd's runs): a wait up to wait_max stays in the run (again, driven at its time), a
 * longer one is handed back WAITING with its time (not again), so the run ends without it and the MD is free for a
 * request; the short one's drive did not wait for the long one's time. */
START_TEST(renew_many_wait_max)
{
    apr_array_header_t *items;
    md_reg_item_t *item;
    apr_time_t setup;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    f.rn.wait = 1;
    f.rn.wait_max = apr_time_from_sec(2);
    md = tr_md(&f, "long.example.org");
    md->challenge_delays.http01 = apr_time_from_sec(30);
    tr_save(&f, md);
    md = tr_md(&f, "short.example.org");
    md->challenge_delays.http01 = apr_time_from_sec(1);
    tr_save(&f, md);
    items = tr_items(&f, "long.example.org short.example.org");
    activate_all(items);
    tr_run(&f, items, NULL);
    item = tr_item(items, 0);
    tr_assert_outcome(item, MD_DRIVE_WAITING);
    ck_assert_int_eq(item->again, 0);
    setup = tr_time_of(&f, f.setup_at, "http-01 long.example.org");
    ck_assert_int_eq(item->next, setup + apr_time_from_sec(30));
    ck_assert_int_lt(tr_now(&f), item->next);                /* the run did not wait for it */
    item = tr_item(items, 1);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(item->again, 0);
    ck_assert_int_eq(f.done->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 0, const char *), "long.example.org waiting");
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 1, const char *), "short.example.org waiting again");
    ck_assert_str_eq(APR_ARRAY_IDX(f.done, 2, const char *), "short.example.org activated");
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 1);
    tr_done(&f);
}
END_TEST

/* Without rn->wait: the delayed MD comes back WAITING with its time; asked earlier it still waits, asking
 * the CA nothing; asked at its time it is finished, and the CA was told only then. */
START_TEST(renew_many_wait_handed_back)
{
    md_reg_item_t *item;
    apr_time_t setup, next;
    md_job_t *job;
    md_t *md;
    tr_t f;
    int total;

    tr_init(&f, 6);
    md = tr_md(&f, "slow.example.org");
    md->challenge_delays.http01 = apr_time_from_sec(2);
    tr_save(&f, md);
    item = tr_run1(&f, "slow.example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_WAITING);
    ck_assert_int_eq(item->rv, APR_SUCCESS);
    ck_assert_ptr_null(item->detail);
    setup = tr_time_of(&f, f.setup_at, "http-01 slow.example.org");
    ck_assert_int_eq(item->next, setup + apr_time_from_sec(2));
    job = tr_job(&f, "slow.example.org");
    ck_assert_str_eq(md_json_gets(job->state, "wait-until", NULL), md_time_print_rfc3339(item->next, f.p));
    ck_assert(md_json_has_key(job->state, "challenges", NULL));
    ck_assert_int_eq(job->errors, 0);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 0);
    next = item->next;
    /* a second before its time: still waiting, nothing asked */
    md_clock_sim_set(f.sim, next - apr_time_from_sec(1));
    total = fake_ca_count(f.ca, FAKE_CA_ANY);
    item = tr_run1(&f, "slow.example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_WAITING);
    ck_assert_int_eq(item->next, next);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), total);
    /* at its time */
    md_clock_sim_set(f.sim, next);
    item = tr_run1(&f, "slow.example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 1);
    ck_assert_int_ge(tr_time_of(&f, f.validated_at, "http-01 slow.example.org"), setup + apr_time_from_sec(2));
    job = tr_job(&f, "slow.example.org");
    ck_assert(!md_json_has_key(job->state, "wait-until", NULL));
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    tr_done(&f);
}
END_TEST

/* A certificate whose private key is gone, or replaced by another, cannot be served: the MD is due now, for the
 * registry and for the drive (both said "not due" until the renewal window before). */
START_TEST(renew_key_lost)
{
    md_reg_state_opts_t opts = { NULL, 0, 1 };
    md_reg_item_t *item;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_pkey_t *other = NULL;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = tr_add(&f, "example.org");
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(md_reg_state(f.reg, md, &opts, f.p)->due, 0);
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_NOT_DUE);
    /* the key file is gone */
    ck_assert_int_eq(md_store_remove(f.store, MD_SG_DOMAINS, "example.org", md_pkey_aspect(md, 0, f.p), 1, f.p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_reg_state(f.reg, md, &opts, f.p)->due, 1);
    item = tr_run1(&f, "example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 2);
    ck_assert_int_eq(md_reg_state(f.reg, md, &opts, f.p)->complete, 1);
    /* another key in its place */
    ck_assert_int_eq(md_pkey_gen(&other, &spec, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_DOMAINS, "example.org", md_pkey_aspect(md, 0, f.p), MD_SV_PKEY,
                                   other, 0, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_state(f.reg, md, &opts, f.p)->due, 1);
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 3);
    ck_assert_int_eq(md_reg_state(f.reg, md, &opts, f.p)->complete, 1);
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_NOT_DUE);
    tr_done(&f);
}
END_TEST

/* A CA's long Retry-After (a rate limit for 30 days) does not postpone the renewal of a 6-day certificate past the
 * start of its warn window (the last 14.4 hours): the retry comes then, the job's log says so, and it renews in time;
 * the status model counts the attempts from that retry; inside the warn window the back-off counts, not the CA's
 * Retry-After. A short one is kept. */
START_TEST(renew_retry_after_capped)
{
    apr_time_t na, warn_at;
    md_reg_item_t *item;
    md_reg_state_t *st;
    md_job_t *job;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = tr_add(&f, "example.org");
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_ACTIVATED);
    na = md_cert_get_not_after(tr_leaf(&f, "example.org"));
    warn_at = na - (na - md_cert_get_not_before(tr_leaf(&f, "example.org"))) / 10;
    md_clock_sim_set(f.sim, na - 2 * TR_DAY + TR_HOUR);
    fake_ca_fail_next(f.ca, FAKE_CA_NEW_ORDER, 1, 429, "rateLimited", "too many certificates", 30 * 86400);
    item = tr_run1(&f, "example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_str_eq(item->problem, "urn:ietf:params:acme:error:rateLimited");
    job = tr_job(&f, "example.org");
    ck_assert_int_eq(job->next_run, warn_at);
    ck_assert_int_eq(item->next, warn_at);
    tr_assert_has(md_json_gets(md_json_at(job->log, 1, NULL), "detail", NULL), "a certificate enters its warn window");
    st = md_reg_state(f.reg, md, NULL, f.p);
    ck_assert_int_eq(st->deadline, na);
    ck_assert_int_gt(st->attempts_left, MD_RENEW_ATTEMPTS_LOW);    /* from 5.4 days on at 2, 4, 8... minutes */
    md_clock_sim_set(f.sim, warn_at - TR_HOUR);
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_BACKING_OFF);
    /* refused again inside the warn window: the retry comes after the back-off (2 minutes, jittered), not in 30
     * days (before, it did: the simulated year saw such a certificate expired for days) */
    md_clock_sim_set(f.sim, warn_at);
    fake_ca_fail_next(f.ca, FAKE_CA_NEW_ORDER, 1, 429, "rateLimited", "too many certificates", 30 * 86400);
    item = tr_run1(&f, "example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_le(item->next, tr_now(&f) + apr_time_from_sec(180));
    job = tr_job(&f, "example.org");
    tr_assert_has(md_json_writep(job->log, MD_JSON_FMT_COMPACT, f.p), "a certificate is inside its warn window");
    md_clock_sim_set(f.sim, item->next);
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_gt(md_cert_get_not_after(tr_leaf(&f, "example.org")), na);
    /* an hour's Retry-After stands */
    na = md_cert_get_not_after(tr_leaf(&f, "example.org"));
    md_clock_sim_set(f.sim, na - 2 * TR_DAY + TR_HOUR);
    fake_ca_fail_next(f.ca, FAKE_CA_NEW_ORDER, 1, 429, "rateLimited", "too many certificates", 3600);
    item = tr_run1(&f, "example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(item->next, tr_now(&f) + TR_HOUR);
    tr_done(&f);
}
END_TEST

/* httpd's way: the drive stages (no activation), the registry says so; md_reg_sync activates the staged set once
 * MDActivationDelay after its notBefore has passed, and the MD is complete and not due. */
START_TEST(renew_staged_then_sync)
{
    apr_array_header_t *items;
    md_reg_state_t *st;
    md_t *md;
    tr_t f;
    int total;

    tr_init(&f, 6);
    md = tr_add(&f, "example.org");
    items = tr_items(&f, "example.org");     /* flags: no activation, as httpd drives */
    tr_run(&f, items, NULL);
    tr_assert_outcome(tr_item(items, 0), MD_DRIVE_STAGED);
    st = md_reg_state(f.reg, md, NULL, f.p);
    ck_assert_int_eq(st->staged, 1);
    ck_assert_int_eq(st->state, MD_S_INCOMPLETE);
    ck_assert_ptr_nonnull(md_reg_staged_certs(f.reg, md, f.p));
    /* staged again at the next drive, nothing asked */
    total = fake_ca_count(f.ca, FAKE_CA_ANY);
    items = tr_items(&f, "example.org");
    tr_run(&f, items, NULL);
    tr_assert_outcome(tr_item(items, 0), MD_DRIVE_STAGED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), total);
    ck_assert_int_eq(tr_sync(&f, md, TR_HOUR, 1), 0);       /* valid for less than an hour */
    ck_assert_int_eq(md_reg_state(f.reg, md, NULL, f.p)->staged, 1);
    md_clock_sim_advance(f.sim, TR_HOUR);
    ck_assert_int_eq(tr_sync(&f, md, TR_HOUR, 0), 1);
    st = md_reg_state(f.reg, md, NULL, f.p);
    ck_assert_int_eq(st->state, MD_S_COMPLETE);
    ck_assert_int_eq(st->staged, 0);
    ck_assert_int_eq(st->due, 0);
    ck_assert_ptr_null(md_reg_staged_certs(f.reg, md, f.p));
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    tr_done(&f);
}
END_TEST

/* The state GROUP/NAME/md.json records, and its state-descr (NULL when none). */
static md_state_t recorded(tr_t *f, md_store_group_t group, const char *name, const char **pdescr)
{
    void *json = NULL;

    ck_assert_int_eq(md_store_load(&json, f->store, group, name, "md.json", MD_SV_JSON, NULL, f->p), APR_SUCCESS);
    *pdescr = md_json_gets(json, "state-descr", NULL);
    return (md_state_t)md_json_getl(json, "state", NULL);
}

/* md.json's state as mod_md records it: 1 with why while there is no certificate (sync before the first one), the
 * staged md.json as the MD was, 2 without state-descr once the sync activated the set; the command's activation
 * records 2 as well. */
START_TEST(renew_md_json_state)
{
    apr_array_header_t *items;
    const char *descr;
    md_json_t *status;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = tr_md(&f, "example.org");
    tr_sync(&f, md, 0, 1);
    ck_assert_int_eq(recorded(&f, MD_SG_DOMAINS, "example.org", &descr), MD_S_INCOMPLETE);
    ck_assert_str_eq(descr, "certificate(secp256r1) is missing");
    items = tr_items(&f, "example.org");
    tr_run(&f, items, NULL);
    tr_assert_outcome(tr_item(items, 0), MD_DRIVE_STAGED);
    ck_assert_int_eq(recorded(&f, MD_SG_STAGING, "example.org", &descr), MD_S_INCOMPLETE);
    /* md-status shows the account as mod_md does: once md.json records it, at activation */
    status = md_reg_status(f.reg, md_reg_state(f.reg, tr_load(&f, "example.org"), NULL, f.p), NULL, f.p);
    ck_assert_ptr_null(md_json_gets(status, "ca", "account", NULL));
    ck_assert_int_eq(tr_sync(&f, md, 0, 1), 1);
    ck_assert_int_eq(recorded(&f, MD_SG_DOMAINS, "example.org", &descr), MD_S_COMPLETE);
    ck_assert_ptr_null(descr);
    status = md_reg_status(f.reg, md_reg_state(f.reg, tr_load(&f, "example.org"), NULL, f.p), NULL, f.p);
    ck_assert_ptr_nonnull(md_json_gets(status, "ca", "account", NULL));
    tr_assert_outcome(tr_run1(&f, "example.org", 1), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(recorded(&f, MD_SG_DOMAINS, "example.org", &descr), MD_S_COMPLETE);
    ck_assert_ptr_null(descr);
    ck_assert_ptr_nonnull(tr_load(&f, "example.org")->ca_account);
    tr_done(&f);
}
END_TEST

/* KiB of anonymous memory resident in this process (/proc/self/smaps_rollup). */
static long anon_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/smaps_rollup", "r");

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "Anonymous: %ld kB", &kib) == 1) break;
    }
    fclose(f);
    ck_assert_int_ge(kib, 0);
    return kib;
}

/* rn->done of renew_many_gives_memory_back: the anonymous memory after the 100th and the 1000th MD. */
typedef struct {
    int n;
    long at[2];
} mem_samples_t;

static void sample_done(void *baton, md_reg_item_t *item, apr_pool_t *p)
{
    mem_samples_t *m = baton;
    int n = __atomic_add_fetch(&m->n, 1, __ATOMIC_RELAXED);

    (void)item;
    (void)p;
    if (n == 100) m->at[0] = anon_kib();
    if (n == 1000) m->at[1] = anon_kib();
}

/* A run of 1000 MDs against a CA that refuses every request, 16 workers (httpd's first start with an empty store and
 * a CA out of reach): memory does not grow with each MD (each kept a client that could not reach the CA until the
 * run's end: +7 MB over 900 MDs), and what the run's shared ACME clients and threads took goes back to the system
 * when it ends (their pools were children of APR's global pool, whose free list kept it for the life of the process:
 * 10 MB in httpd's child); a small run first, so that what stays anyway (the threads' stacks, malloc's arenas) is
 * there before the first look. */
START_TEST(renew_many_gives_memory_back)
{
    mem_samples_t samples = { 0, { 0, 0 } };
    apr_array_header_t *items;
    long before, after;
    tr_t f;
    int i;

    tr_init(&f, 6);
    f.rn.workers = 16;
    fake_ca_set(f.ca, FAKE_CA_SET_DOWN, 1);
    for (i = 0; i < 1000; ++i) tr_add(&f, site(&f, i));
    tr_run(&f, sites(&f, 32), NULL);
    items = sites(&f, 1000);
    f.rn.done = sample_done;
    f.rn.done_baton = &samples;
    before = anon_kib();
    tr_run(&f, items, NULL);
    after = anon_kib();
    ck_assert_int_eq(samples.n, 1000);
    for (i = 32; i < 1000; ++i) tr_assert_outcome(tr_item(items, i), MD_DRIVE_FAILED);   /* the first back off */
#if !defined(__SANITIZE_ADDRESS__)     /* ASan's quarantine keeps what was freed: there the outcomes only */
    ck_assert_int_lt(after - before, 2048);     /* 8 MB before */
    ck_assert_int_lt(samples.at[1] - samples.at[0], 2048);
#else
    (void)before;
    (void)after;
#endif
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_renew_suite(void)
{
    Suite *s = suite_create("reg_renew");
    TCase *tc = tcase_create("renew_many");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, renew_many_shared);
    tcase_add_test(tc, renew_many_shared_account);
    tcase_add_test(tc, renew_many_one_fails);
    tcase_add_test(tc, renew_many_wait_in_run);
    tcase_add_test(tc, renew_many_wait_max);
    tcase_add_test(tc, renew_many_wait_handed_back);
    tcase_add_test(tc, renew_key_lost);
    tcase_add_test(tc, renew_retry_after_capped);
    tcase_add_test(tc, renew_staged_then_sync);
    tcase_add_test(tc, renew_md_json_state);
    tcase_add_test(tc, renew_many_gives_memory_back);
    suite_add_tcase(s, tc);
    return s;
}
