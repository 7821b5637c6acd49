/* Unit tests of the registry's sync at a start: renamed MDs taking over their stored sets, staged sets that cannot
 * be used, and what is left in challenges/. */
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_job.h"
#include "md_pkey.h"
#include "test_common.h"
#include "test_reg.h"

#define A "a.example.org"
#define WWW "www.a.example.org"

typedef struct {
    tr_t *f;
    const char *log;           /* "LEVEL NAME: MESSAGE" lines */
} sync_log_t;

static void log_line(void *baton, int level, const char *name, const char *message)
{
    sync_log_t *l = baton;

    l->log = apr_psprintf(l->f->p, "%s%d %s: %s\n", l->log, level, name, message);
}

/* md_reg_sync of the MDs (a restart), asserted to succeed; its log in *plog, its items in *pitems (both may be NULL). */
static void sync_mds(tr_t *f, const char **plog, apr_array_header_t **pitems, int n, ...)
{
    apr_array_header_t *items = apr_array_make(f->p, n, sizeof(md_reg_sync_item_t *));
    md_result_t *result = md_result_make(f->p);
    md_reg_sync_opts_t opts;
    md_reg_sync_item_t *item;
    sync_log_t l = { f, "" };
    va_list ap;
    int i;

    va_start(ap, n);
    for (i = 0; i < n; ++i) {
        item = apr_pcalloc(f->p, sizeof(*item));
        item->md = va_arg(ap, const md_t *);
        APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
    }
    va_end(ap);
    memset(&opts, 0, sizeof(opts));
    opts.restart = 1;
    opts.log = log_line;
    opts.log_baton = &l;
    ck_assert_msg(md_reg_sync(f->reg, items, &opts, result, f->p) == APR_SUCCESS, "sync: %s",
                  md_result_text(result, f->p));
    if (plog) *plog = l.log;
    if (pitems) *pitems = items;
}

static md_reg_sync_item_t *sync_item(apr_array_header_t *items, int i)
{
    return APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
}

static int exists(tr_t *f, md_store_group_t group, const char *name, const char *aspect)
{
    return md_store_exists(f->store, group, name, aspect, f->p);
}

static const char *serial(const md_cert_t *cert, apr_pool_t *p)
{
    ck_assert_ptr_nonnull(cert);
    return md_cert_get_serial_hex(cert, p);
}

/* An MD renamed in the configuration (its first name changes, it gains one) takes over its stored set: domains/ is
 * renamed, its certificate kept and served, the account kept; it does not cover the new name, so it is due now. */
START_TEST(sync_rename_takes_over)
{
    apr_array_header_t *items;
    const char *log, *before;
    md_reg_state_t *st;
    md_t *renamed, *md;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, A);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    before = serial(tr_leaf(&f, A), f.p);
    renamed = tr_md(&f, WWW "," A);
    sync_mds(&f, &log, &items, 1, renamed);
    ck_assert_str_eq(sync_item(items, 0)->renamed_from, A);
    tr_assert_has(log, "2 " WWW ": took over the stored MD " A ", which has 1 of its 2 names: domains/" A " renamed\n");
    ck_assert(!exists(&f, MD_SG_DOMAINS, A, NULL));
    ck_assert_str_eq(serial(tr_leaf(&f, WWW), f.p), before);
    md = tr_load(&f, WWW);
    ck_assert_str_eq(md->name, WWW);
    ck_assert_int_eq(md->domains->nelts, 2);
    ck_assert_ptr_nonnull(md->ca_account);
    st = md_reg_state(f.reg, renamed, NULL, f.p);
    ck_assert_int_eq(st->state, MD_S_INCOMPLETE);
    ck_assert_str_eq(st->state_descr, "certificate(secp256r1) does not cover all domains");
    ck_assert_int_eq(st->servable, 1);
    ck_assert_int_eq(st->due, 1);
    /* renewed at once, with the account it had */
    tr_assert_outcome(tr_run1(&f, WWW, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ACCOUNT), 1);
    ck_assert_int_eq(md_reg_state(f.reg, renamed, NULL, f.p)->state, MD_S_COMPLETE);
    /* a second sync changes nothing */
    sync_mds(&f, &log, &items, 1, renamed);
    ck_assert_ptr_null(sync_item(items, 0)->renamed_from);
    tr_done(&f);
}
END_TEST

/* Which stored MD is taken over: one no configured MD has as its name, holding all of the MD's names (of those the
 * one with the fewest names of its own), else the one with the most of them; each is taken once. */
START_TEST(sync_rename_picks)
{
    apr_array_header_t *items;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, "x.example.org,a.example.org,b.example.org");
    tr_add(&f, "y.example.org,a.example.org");
    tr_add(&f, "z.example.org,a.example.org,b.example.org,c.example.org,d.example.org");
    tr_add(&f, "w.example.org,c.example.org");
    sync_mds(&f, NULL, &items, 4, tr_md(&f, "y.example.org"), tr_md(&f, "a.example.org,b.example.org"),
             tr_md(&f, "c.example.org,d.example.org"), tr_md(&f, "e.example.org"));
    ck_assert_ptr_null(sync_item(items, 0)->renamed_from);                   /* y is in use */
    ck_assert_str_eq(sync_item(items, 1)->renamed_from, "x.example.org");    /* all, and fewer than z */
    ck_assert_str_eq(sync_item(items, 2)->renamed_from, "z.example.org");    /* two of its names, w one */
    ck_assert_ptr_null(sync_item(items, 3)->renamed_from);                   /* shares nothing */
    ck_assert_int_eq(tr_load(&f, "a.example.org")->domains->nelts, 2);
    ck_assert(exists(&f, MD_SG_DOMAINS, "w.example.org", NULL));
    ck_assert(exists(&f, MD_SG_DOMAINS, "e.example.org", "md.json"));
    ck_assert(!exists(&f, MD_SG_DOMAINS, "x.example.org", NULL));
    ck_assert(!exists(&f, MD_SG_DOMAINS, "z.example.org", NULL));
    tr_done(&f);
}
END_TEST

/* A renamed MD with a staged renewal: staging/ is renamed too and the set activated under the new name, with its
 * job under that name. */
START_TEST(sync_rename_staged)
{
    apr_array_header_t *items;
    const char *log;
    md_job_t *job = NULL;
    md_t *renamed;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, A);
    items = tr_items(&f, A);                 /* staged only, as httpd drives */
    tr_run(&f, items, NULL);
    tr_assert_outcome(tr_item(items, 0), MD_DRIVE_STAGED);
    renamed = tr_md(&f, WWW "," A);
    sync_mds(&f, &log, &items, 1, renamed);
    ck_assert_str_eq(sync_item(items, 0)->renamed_from, A);
    tr_assert_has(log, "domains/" A " and staging/" A " renamed\n");
    ck_assert_int_eq(sync_item(items, 0)->activated, 1);
    ck_assert(!exists(&f, MD_SG_STAGING, A, NULL));
    ck_assert(!exists(&f, MD_SG_STAGING, WWW, NULL));
    ck_assert_ptr_nonnull(tr_leaf(&f, WWW));
    ck_assert_int_eq(md_job_load(&job, f.store, MD_SG_DOMAINS, WWW, NULL, f.p), APR_SUCCESS);
    ck_assert_str_eq(job->name, WWW);
    ck_assert_int_eq(md_reg_state(f.reg, renamed, NULL, f.p)->due, 1);
    tr_done(&f);
}
END_TEST

/* A take-over interrupted after staging/ was renamed (domains/ not yet): the next sync finishes it, and the job in
 * progress goes on under the new name. */
START_TEST(sync_rename_interrupted)
{
    apr_array_header_t *items;
    md_job_t *job;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, A);
    job = md_job_make(A, f.p);
    job->errors = 2;
    ck_assert_int_eq(md_job_save(job, f.store, MD_SG_STAGING, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_rename(f.store, MD_SG_STAGING, A, WWW, f.p), APR_SUCCESS);
    sync_mds(&f, NULL, &items, 1, tr_md(&f, WWW "," A));
    ck_assert_str_eq(sync_item(items, 0)->renamed_from, A);
    ck_assert(!exists(&f, MD_SG_DOMAINS, A, NULL));
    job = tr_job(&f, WWW);
    ck_assert_str_eq(job->name, WWW);
    ck_assert_int_eq(job->errors, 2);
    tr_done(&f);
}
END_TEST

/* Staged sets that cannot be used: each is not activated, logged as an error, removed with the MD's challenges, and
 * the MD is renewed again. */
static const char *const BAD[] = { "job.json", "md.json", "no md.json", "no pubcert", "other key" };

START_TEST(sync_bad_staged)
{
    apr_array_header_t *items;
    const char *log, *text = "{garbage";
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "secp256r1" };
    md_pkey_t *other = NULL;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = tr_add(&f, A);
    items = tr_items(&f, A);
    tr_run(&f, items, NULL);
    tr_assert_outcome(tr_item(items, 0), MD_DRIVE_STAGED);
    switch (_i) {
    case 0: case 1:
        ck_assert_int_eq(md_store_save(f.store, MD_SG_STAGING, A, BAD[_i], MD_SV_TEXT, text, 0, NULL, f.p),
                         APR_SUCCESS);
        break;
    case 2:
        ck_assert_int_eq(md_store_remove(f.store, MD_SG_STAGING, A, "md.json", 0, f.p), APR_SUCCESS);
        break;
    case 3:
        ck_assert_int_eq(md_store_remove(f.store, MD_SG_STAGING, A, md_cert_aspect(md, 0, f.p), 0, f.p),
                         APR_SUCCESS);
        break;
    default:
        ck_assert_int_eq(md_pkey_gen(&other, &spec, f.p), APR_SUCCESS);
        ck_assert_int_eq(md_store_save(f.store, MD_SG_STAGING, A, md_pkey_aspect(md, 0, f.p), MD_SV_PKEY, other, 0,
                                       NULL, f.p), APR_SUCCESS);
    }
    ck_assert_int_eq(md_store_save(f.store, MD_SG_CHALLENGES, A, "acme-http-01.txt", MD_SV_TEXT, "t k", 0, NULL,
                                   f.p), APR_SUCCESS);
    sync_mds(&f, &log, &items, 1, md);
    ck_assert_int_eq(sync_item(items, 0)->activated, 0);
    tr_assert_has(log, "0 " A ": the staged set is not activated, ");
    tr_assert_has(log, "staging/" A " and the MD's challenges removed, it is renewed again");
    tr_assert_has(log, _i == 0 ? "its job.json cannot be read" : _i == 1 ? "its md.json cannot be read"
                       : _i == 2 ? "its md.json is missing" : _i == 3 ? "its renewal finished, but pubcert"
                       : "its certificates do not pass the check");
    ck_assert(!exists(&f, MD_SG_STAGING, A, NULL));
    ck_assert(!exists(&f, MD_SG_CHALLENGES, A, NULL));
    ck_assert_ptr_null(tr_leaf(&f, A));
    ck_assert_int_eq(md_reg_state(f.reg, md, NULL, f.p)->due, 1);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 2);
    tr_done(&f);
}
END_TEST

/* A complete set put into staging/ by hand (no job.json, no md.json) is activated as before. */
START_TEST(sync_staged_by_hand)
{
    apr_array_header_t *items;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = tr_add(&f, A);
    items = tr_items(&f, A);
    tr_run(&f, items, NULL);
    tr_assert_outcome(tr_item(items, 0), MD_DRIVE_STAGED);
    ck_assert_int_eq(md_store_remove(f.store, MD_SG_STAGING, A, "job.json", 0, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_remove(f.store, MD_SG_STAGING, A, "md.json", 0, f.p), APR_SUCCESS);
    sync_mds(&f, NULL, &items, 1, md);
    ck_assert_int_eq(sync_item(items, 0)->activated, 1);
    ck_assert_ptr_nonnull(tr_leaf(&f, A));
    tr_done(&f);
}
END_TEST

/* A renewal still under way is left as it is. */
START_TEST(sync_staged_under_way)
{
    md_job_t *job;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = tr_add(&f, A);
    job = md_job_make(A, f.p);
    job->errors = 1;
    ck_assert_int_eq(md_job_save(job, f.store, MD_SG_STAGING, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_CHALLENGES, A, "acme-http-01.txt", MD_SV_TEXT, "t k", 0, NULL,
                                   f.p), APR_SUCCESS);
    sync_mds(&f, NULL, NULL, 1, md);
    ck_assert_int_eq(tr_job(&f, A)->errors, 1);
    ck_assert(exists(&f, MD_SG_CHALLENGES, A, "acme-http-01.txt"));
    tr_done(&f);
}
END_TEST

/* At a start, challenges/ keeps the entries named after configured MDs (in any case) and loses the others, those of
 * the MDs' other names and files too (as mod_md). */
START_TEST(sync_unused_challenges)
{
    const char *log;
    tr_t f;

    tr_init(&f, 6);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_CHALLENGES, "A.example.org", "acme-http-01.txt", MD_SV_TEXT,
                                   "t k", 0, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_CHALLENGES, WWW, "acme-http-01.txt", MD_SV_TEXT, "t k", 0, NULL,
                                   f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_CHALLENGES, "stale.example.org", "acme-http-01.txt", MD_SV_TEXT,
                                   "t k", 0, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_CHALLENGES, NULL, "file.txt", MD_SV_TEXT, "x", 0, NULL, f.p),
                     APR_SUCCESS);
    sync_mds(&f, &log, NULL, 1, tr_md(&f, A "," WWW));
    ck_assert(exists(&f, MD_SG_CHALLENGES, "A.example.org", "acme-http-01.txt"));
    ck_assert(!exists(&f, MD_SG_CHALLENGES, WWW, NULL));
    ck_assert(!exists(&f, MD_SG_CHALLENGES, "stale.example.org", NULL));
    ck_assert(!exists(&f, MD_SG_CHALLENGES, "file.txt", NULL));
    tr_assert_has(log, "3 stale.example.org: challenges/ entry named after no configured MD removed");
    tr_done(&f);
}
END_TEST

/* After a renewal, challenges/DOMAIN of its names are gone; while it waits with its answers in place, they stay. */
START_TEST(renew_removes_challenges)
{
    md_reg_item_t *item;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = tr_md(&f, A "," WWW);
    md->challenge_delays.http01 = apr_time_from_sec(2);
    tr_save(&f, md);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_CHALLENGES, WWW, "acme-http-01.txt", MD_SV_TEXT, "t k", 0, NULL,
                                   f.p), APR_SUCCESS);
    item = tr_run1(&f, A, 0);
    tr_assert_outcome(item, MD_DRIVE_WAITING);
    ck_assert(exists(&f, MD_SG_CHALLENGES, WWW, "acme-http-01.txt"));
    md_clock_sim_set(f.sim, item->next);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_CHALLENGES, A, "acme-tls-alpn-01.cert.pem", MD_SV_TEXT, "x", 0,
                                   NULL, f.p), APR_SUCCESS);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    ck_assert(!exists(&f, MD_SG_CHALLENGES, WWW, NULL));
    ck_assert(!exists(&f, MD_SG_CHALLENGES, A, NULL));
    tr_done(&f);
}
END_TEST

/* With state_opts the sync hands each item without static files its state after md.json was written (what
 * md_reg_state says then, with the same options): httpd's start reads every MD's certificates once, not twice. */
START_TEST(sync_gives_states)
{
    md_reg_state_opts_t sopts = { NULL, 0, 1 };
    md_reg_sync_opts_t opts;
    md_reg_sync_item_t *a, *b, *c;
    md_result_t *result;
    apr_array_header_t *items, *files;
    md_reg_state_t *st;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, A);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    result = md_result_make(f.p);
    items = apr_array_make(f.p, 3, sizeof(md_reg_sync_item_t *));
    files = apr_array_make(f.p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(files, const char *) = "/nonexistent/cert.pem";
    a = apr_pcalloc(f.p, sizeof(*a));
    a->md = tr_md(&f, A);
    b = apr_pcalloc(f.p, sizeof(*b));
    b->md = tr_md(&f, "b.example.org");
    c = apr_pcalloc(f.p, sizeof(*c));
    c->md = tr_md(&f, "c.example.org");
    c->cert_files = files;
    APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = a;
    APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = b;
    APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = c;
    memset(&opts, 0, sizeof(opts));
    opts.restart = 1;
    opts.state_opts = &sopts;
    ck_assert_msg(md_reg_sync(f.reg, items, &opts, result, f.p) == APR_SUCCESS, "sync: %s",
                  md_result_text(result, f.p));
    ck_assert_ptr_nonnull(a->state);
    st = md_reg_state(f.reg, a->md, &sopts, f.p);
    ck_assert_int_eq(a->state->state, MD_S_COMPLETE);
    ck_assert_int_eq(a->state->state, st->state);
    ck_assert_int_eq(a->state->servable, 1);
    ck_assert_int_eq(a->state->certs->nelts, 1);
    ck_assert_int_eq(APR_ARRAY_IDX(a->state->certs, 0, md_reg_cert_t *)->usable, 1);
    ck_assert_int_eq(APR_ARRAY_IDX(a->state->certs, 0, md_reg_cert_t *)->key_ok, 1);
    ck_assert_ptr_nonnull(b->state);
    ck_assert_int_eq(b->state->servable, 0);
    ck_assert_int_eq(b->state->state, md_reg_state(f.reg, b->md, &sopts, f.p)->state);
    ck_assert_ptr_null(c->state);
    /* without state_opts: none */
    a->state = b->state = NULL;
    opts.state_opts = NULL;
    ck_assert(md_reg_sync(f.reg, items, &opts, result, f.p) == APR_SUCCESS);
    ck_assert_ptr_null(a->state);
    ck_assert_ptr_null(b->state);
    tr_done(&f);
}
END_TEST

/* A sync with state_opts (httpd's start) once a complete MD was synced takes it from the store's memo
 * (tmp/md-state.memo) without reading its md.json, certificates or keys, as long as nothing its state comes from
 * changed and its certificate is still valid: a new certificate file, the clock past notAfter, another name or other
 * state options and a memo that cannot be read all make the state be computed again. */
static apr_array_header_t *memo_sync(tr_t *f, md_reg_state_opts_t *sopts, int n, md_t **mds)
{
    apr_array_header_t *items = apr_array_make(f->p, n, sizeof(md_reg_sync_item_t *));
    md_result_t *result = md_result_make(f->p);
    md_reg_sync_opts_t opts;
    md_reg_sync_item_t *item;
    int i;

    for (i = 0; i < n; ++i) {
        item = apr_pcalloc(f->p, sizeof(*item));
        item->md = mds[i];
        APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
    }
    memset(&opts, 0, sizeof(opts));
    opts.restart = 1;
    opts.state_opts = sopts;
    ck_assert_msg(md_reg_sync(f->reg, items, &opts, result, f->p) == APR_SUCCESS, "sync: %s",
                  md_result_text(result, f->p));
    return items;
}

static void memo_assert(apr_array_header_t *items, int i, int from_memo, int state)
{
    md_reg_sync_item_t *item = sync_item(items, i);

    ck_assert_msg(item->from_memo == from_memo, "%s: from_memo %d", item->md->name, item->from_memo);
    if (from_memo) {
        ck_assert_ptr_null(item->state);
        return;
    }
    ck_assert_ptr_nonnull(item->state);
    ck_assert_msg((int)item->state->state == state, "%s: state %d", item->md->name, (int)item->state->state);
}

START_TEST(sync_memo)
{
    md_reg_state_opts_t sopts = { NULL, 0, 1 }, other = { NULL, 0, 0 };
    const char *path = NULL, *pem = NULL, *aspect;
    md_t *mds[2], *wider[1];
    apr_array_header_t *items;
    char *data = NULL;
    apr_size_t len = 0;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, A);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    mds[0] = tr_md(&f, A);
    mds[1] = tr_md(&f, "b.example.org");
    ck_assert(md_store_get_fname(&path, f.store, MD_SG_TMP, NULL, "md-state.memo", f.p) == APR_SUCCESS);
    items = memo_sync(&f, &sopts, 2, mds);
    memo_assert(items, 0, 0, MD_S_COMPLETE);
    memo_assert(items, 1, 0, MD_S_INCOMPLETE);
    ck_assert(md_file_read(&data, &len, path, f.p) == APR_SUCCESS);
    ck_assert_msg(strstr(data, "\n" A " ") && !strstr(data, "b.example.org"), "%s", data);   /* complete ones only */
    items = memo_sync(&f, &sopts, 2, mds);
    memo_assert(items, 0, 1, 0);
    memo_assert(items, 1, 0, MD_S_INCOMPLETE);
    /* the certificate file written again (a new inode, as an activation leaves it): computed, then memo again */
    aspect = md_cert_aspect(mds[0], 0, f.p);
    ck_assert(md_store_load((void **)&pem, f.store, MD_SG_DOMAINS, A, aspect, MD_SV_TEXT, NULL, f.p) == APR_SUCCESS);
    pem = apr_pstrcat(f.p, pem, "\n", NULL);
    ck_assert(md_store_save(f.store, MD_SG_DOMAINS, A, aspect, MD_SV_TEXT, (void *)pem, 0, NULL, f.p) == APR_SUCCESS);
    memo_assert(memo_sync(&f, &sopts, 2, mds), 0, 0, MD_S_COMPLETE);
    memo_assert(memo_sync(&f, &sopts, 2, mds), 0, 1, 0);
    /* and the key file */
    aspect = md_pkey_aspect(mds[0], 0, f.p);
    ck_assert(md_store_load((void **)&pem, f.store, MD_SG_DOMAINS, A, aspect, MD_SV_TEXT, NULL, f.p) == APR_SUCCESS);
    pem = apr_pstrcat(f.p, pem, "\n", NULL);
    ck_assert(md_store_save(f.store, MD_SG_DOMAINS, A, aspect, MD_SV_TEXT, (void *)pem, 0, NULL, f.p) == APR_SUCCESS);
    memo_assert(memo_sync(&f, &sopts, 2, mds), 0, 0, MD_S_COMPLETE);
    memo_assert(memo_sync(&f, &sopts, 2, mds), 0, 1, 0);
    /* other state options, another name: computed */
    memo_assert(memo_sync(&f, &other, 1, mds), 0, 0, MD_S_COMPLETE);
    wider[0] = tr_md(&f, A "," WWW);
    memo_assert(memo_sync(&f, &sopts, 1, wider), 0, 0, MD_S_INCOMPLETE);
    memo_assert(memo_sync(&f, &sopts, 1, mds), 0, 0, MD_S_COMPLETE);
    memo_assert(memo_sync(&f, &sopts, 1, mds), 0, 1, 0);
    /* a memo that cannot be read is none */
    ck_assert(md_file_write_atomic_nosync(path, "md-state-memo 1\n" A " zz 1 x\ngarbage", 33, 0600, f.p)
              == APR_SUCCESS);
    memo_assert(memo_sync(&f, &sopts, 1, mds), 0, 0, MD_S_COMPLETE);
    memo_assert(memo_sync(&f, &sopts, 1, mds), 0, 1, 0);
    /* past notAfter: computed (expired), and md.json records it */
    md_clock_sim_advance(f.sim, 7 * TR_DAY);
    memo_assert(memo_sync(&f, &sopts, 1, mds), 0, 0, MD_S_EXPIRED);
    ck_assert_int_eq(tr_load(&f, A)->state, MD_S_EXPIRED);
    memo_assert(memo_sync(&f, &sopts, 1, mds), 0, 0, MD_S_EXPIRED);
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_sync_suite(void)
{
    Suite *s = suite_create("reg_sync");
    TCase *tc = tcase_create("sync");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sync_rename_takes_over);
    tcase_add_test(tc, sync_rename_picks);
    tcase_add_test(tc, sync_rename_staged);
    tcase_add_test(tc, sync_rename_interrupted);
    tcase_add_loop_test(tc, sync_bad_staged, 0, (int)(sizeof(BAD) / sizeof(BAD[0])));
    tcase_add_test(tc, sync_staged_by_hand);
    tcase_add_test(tc, sync_staged_under_way);
    tcase_add_test(tc, sync_unused_challenges);
    tcase_add_test(tc, renew_removes_challenges);
    tcase_add_test(tc, sync_gives_states);
    tcase_add_test(tc, sync_memo);
    suite_add_tcase(s, tc);
    return s;
}
