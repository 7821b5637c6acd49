/* The runner killed (kill -9) between every two of its store writes, then a restart: only complete sets activated. */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_job.h"
#include "md_store.h"
#include "test_common.h"
#include "test_reg.h"

#define NAME "example.org"
#define NAMES "example.org,www.example.org"

typedef struct {
    pid_t parent;       /* the test: its own writes do not count */
    int kill_at;        /* the runner dies right after this write (1, 2, ...) */
    int n;              /* writes of the runner so far */
} writes_t;

/* In the forked runner: SIGKILL right after the kill_at-th file it wrote is in place. */
static void on_written(const char *fpath, void *baton)
{
    writes_t *w = baton;

    (void)fpath;
    if (getpid() == w->parent) return;
    (void)fpath;
    if (++w->n == w->kill_at) raise(SIGKILL);
}

/* What a restart must never do: serve a set that is not complete. A set in domains/NAME has md.json and a matching
 * key and certificate for every key type, or there is none (a first issuance not yet activated). */
static void assert_sane(tr_t *f, const md_t *md, int had_set, int k)
{
    md_reg_state_opts_t opts = { NULL, 0, 1 };
    md_reg_state_t *st = md_reg_state(f->reg, md, &opts, f->p);
    md_t *stored = NULL;

    ck_assert_msg(md_load(&stored, f->store, MD_SG_DOMAINS, NAME, NULL, f->p) == APR_SUCCESS,
                  "killed after write %d: domains/%s/md.json cannot be read", k, NAME);
    if (had_set || md_store_exists(f->store, MD_SG_DOMAINS, NAME, md_cert_aspect(md, 0, f->p), f->p)) {
        ck_assert_msg(st->complete, "killed after write %d, restarted: the active set is not complete: %s", k,
                      st->state_descr ? st->state_descr : "");
    }
}

/* One run that stages (as httpd's watchdog does, activation is the restart's). */
static md_reg_item_t *run_staged(tr_t *f)
{
    apr_array_header_t *items = tr_items(f, NAME);

    tr_run(f, items, NULL);
    return tr_item(items, 0);
}

/* The runner stages (as httpd's watchdog does), killed after its write kill_at; a restart activates what is
 * complete; then it goes on until the MD has its new certificate. Returns 0 when the runner finished first. */
static int kill_after_write(int renewal, int kill_at)
{
    writes_t w = { getpid(), kill_at, 0 };
    apr_array_header_t *items;
    const char *old = NULL;
    md_reg_item_t *item;
    md_job_t *job = NULL;
    md_cert_t *leaf;
    int killed, i;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    f.local_files = 1;
    md = tr_add(&f, NAMES);
    if (renewal) {
        tr_assert_outcome(run_staged(&f), MD_DRIVE_STAGED);
        ck_assert(tr_sync(&f, md, 0, 1));
        old = md_cert_get_serial_hex(tr_leaf(&f, NAME), f.p);
        md_clock_sim_advance(f.sim, 4 * TR_DAY + TR_HOUR);
    }
    items = tr_items(&f, NAME);
    md_file_on_written(on_written, &w);
    killed = tr_run_forked(&f, items, 0, TR_KILL_BEFORE, 0);
    md_file_on_written(NULL, NULL);
    if (killed) {
        tr_restart(&f);
        if (tr_sync(&f, md, 0, 1)) {         /* activated: only the set of a renewal that finished */
            ck_assert_int_eq(md_job_load(&job, f.store, MD_SG_DOMAINS, NAME, NULL, f.p), APR_SUCCESS);
            ck_assert_msg(job->finished, "killed after write %d: a restart activated the set of an unfinished job",
                          kill_at);
        }
        assert_sane(&f, md, renewal, kill_at);
    }
    /* it goes on: runs and restarts (activation) until the new certificate is served */
    for (i = 0; i < 6; ++i) {
        tr_sync(&f, md, 0, 1);
        assert_sane(&f, md, renewal, kill_at);
        leaf = tr_leaf(&f, NAME);
        if (leaf && (!old || strcmp(md_cert_get_serial_hex(leaf, f.p), old))) break;
        item = run_staged(&f);
        if (item->outcome == MD_DRIVE_FAILED || item->outcome == MD_DRIVE_BACKING_OFF) {
            ck_assert_msg(item->next > tr_now(&f), "%s: no retry time", item->detail ? item->detail : "");
            md_clock_sim_set(f.sim, item->next);
        }
    }
    ck_assert_msg(i < 6, "killed after write %d: not renewed", kill_at);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), renewal ? 2 : 1);
    ck_assert(!md_store_exists(f.store, MD_SG_STAGING, NAME, NULL, f.p));
    tr_done(&f);
    return killed;
}

/* Kill after write 1, 2, ... until the runner gets through: every write of a renewal is a point it may die at. */
static void kill_after_every_write(int renewal)
{
    int k;

    for (k = 1; k < 100 && kill_after_write(renewal, k); ++k) ;
    ck_assert_int_lt(k, 100);
    ck_assert_int_gt(k, 5);     /* the runner wrote k - 1 files: job, key, certificate, md.json, job finished ... */
}

/* issue 15: activation at a restart needed only the staged key and certificate; md.json and the job are written
 * after them. Killed between any two writes of a first issuance, a restart never activates a half-written set. */
START_TEST(writes_first_issuance)
{
    kill_after_every_write(0);
}
END_TEST

/* The same for a renewal: after every restart the old set or the complete new one is served. */
START_TEST(writes_renewal)
{
    kill_after_every_write(1);
}
END_TEST

static void on_synced(const char *path, void *baton)
{
    apr_array_header_t *paths = baton;

    APR_ARRAY_PUSH(paths, const char *) = apr_pstrdup(paths->pool, path);
}

/* After the "renewed" event is told, domains/NAME/job.json records it (notified-renewed) without a flush: lost in
 * a crash, the event is told again (at least once). No file in domains/NAME is flushed by itself (the set comes with
 * the activation's exchange); before, its md.json and job.json were, each with the directory. */
START_TEST(writes_told_unflushed)
{
    apr_array_header_t *paths;
    const char *dir;
    md_job_t *job = NULL;
    tr_t f;
    int i;

    tr_init(&f, 6);
    tr_add(&f, NAME);
    paths = apr_array_make(f.p, 32, sizeof(const char *));
    md_file_on_synced(on_synced, paths);
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    md_file_on_synced(NULL, NULL);
    ck_assert_int_eq(md_job_load(&job, f.store, MD_SG_DOMAINS, NAME, NULL, f.p), APR_SUCCESS);
    ck_assert(job->finished && job->notified_renewed);
    dir = md_file_join(f.p, md_store_base_dir(f.store), "domains", NAME, NULL);
    for (i = 0; i < paths->nelts; ++i) {
        ck_assert_msg(strncmp(APR_ARRAY_IDX(paths, i, const char *), dir, strlen(dir)), "flushed: %s",
                      APR_ARRAY_IDX(paths, i, const char *));
    }
    tr_done(&f);
}
END_TEST

/* Counts the writes of one file (baton: its path and the count). */
typedef struct {
    const char *path;
    int n;
} one_file_t;

static void count_file(const char *fpath, void *baton)
{
    one_file_t *c = baton;

    if (!strcmp(fpath, c->path)) c->n++;
}

/* With no program for the events after a drive, the finished job is saved told (notified, notified-renewed, as
 * mod_md's) in staging and moves into domains/NAME with the set: nothing writes domains/NAME/job.json after the
 * activation. Before, the events step loaded and rewrote it for the two flags (one more file per certificate). */
START_TEST(writes_told_at_finish)
{
    md_job_t *job = NULL;
    one_file_t c;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, NAME);
    c.path = md_file_join(f.p, md_store_base_dir(f.store), "domains", NAME, "job.json", NULL);
    c.n = 0;
    md_file_on_written(count_file, &c);
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    md_file_on_written(NULL, NULL);
    ck_assert_int_eq(c.n, 0);
    ck_assert_int_eq(md_job_load(&job, f.store, MD_SG_DOMAINS, NAME, NULL, f.p), APR_SUCCESS);
    ck_assert(job->finished && job->notified && job->notified_renewed);
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_writes_suite(void)
{
    Suite *s = suite_create("reg_writes");
    TCase *tc = tcase_create("kill");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, writes_first_issuance);
    tcase_add_test(tc, writes_renewal);
    tcase_add_test(tc, writes_told_unflushed);
    tcase_add_test(tc, writes_told_at_finish);
    suite_add_tcase(s, tc);
    return s;
}
