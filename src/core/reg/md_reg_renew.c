/* The renewal runner: worker threads take the MDs of a run one at a time, drive each with its responders and
 * programs, install what was activated, raise the events after the drive; an MD that waits (response delay, poll)
 * goes back into the run until its time when the caller wants to wait for it (up to rn->wait_max), so no thread
 * ever sleeps on one. */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "md_event.h"
#include "md_reg_lease.h"
#include "md_reg_renew.h"
#include "md_reg_request.h"
#include "md_time.h"
#include "md_result.h"
#include "md_reg_int.h"

/* While waiting for an MD's time, a worker with nothing to do looks again at least this often. */
#define IDLE_LOOK apr_time_from_msec(500)
#define WORKER_KEEP (4 * 1024 * 1024)  /* bytes a worker thread keeps between items (more goes back to malloc) */

enum { ITEM_READY, ITEM_RUNNING, ITEM_WAITING, ITEM_DONE };

typedef struct {
    md_reg_t *reg;
    const md_reg_renew_t *rn;
    apr_array_header_t *items;     /* md_reg_item_t* */
    int *states;                   /* per item: ITEM_* */
    apr_thread_mutex_t *lock;      /* guards states, the items' results and p */
    md_drive_shared_t *shared;     /* one ACME client per CA for this run */
    int active, max_active;        /* MDs being driven now, and at most during the run */
    apr_pool_t *p;                 /* the caller's: the items' result strings */
    md_reg_lease_t **leases;       /* per item: its lease while it is driven (under lock) */
    apr_interval_time_t lease;     /* their duration, 0: no leases */
    apr_thread_cond_t *over;       /* signalled when the run ends: the lease keeper stops */
    int ended;
} run_t;

/* The drive's events ("renewing", "challenge-setup:...") through the dispatcher: go on (0 or no program), try
 * again later (APR_EAGAIN; result as the dispatcher says it, for MDMessageCmd in mod_md's words), or a hard failure
 * (MD_EHUMAN). */
typedef struct {
    const md_events_t *events;
    md_event_programs_t progs;
} drive_events_t;

static apr_status_t drive_event(void *baton, const char *md_name, const char *event, md_result_t *result,
                                apr_pool_t *p)
{
    drive_events_t *de = baton;
    md_event_t ev = { event, md_name, NULL, NULL };
    md_event_outcome_t outcome = MD_EVENT_NONE;

    md_event_raise(&outcome, de->events, &de->progs, &ev, result, p);
    switch (outcome) {
    case MD_EVENT_OK:
    case MD_EVENT_NONE:
        return APR_SUCCESS;
    case MD_EVENT_FAILED:
        result->status = MD_EHUMAN;
        return MD_EHUMAN;
    default:
        return APR_EAGAIN;
    }
}

static void say(const md_reg_renew_t *rn, const char *name, const char *msg)
{
    if (rn->drive.log) rn->drive.log(rn->drive.log_baton, name, msg);
}

static int installs(const md_t *md)
{
    return (md->install_chain && md->install_key) || (md->install_cmd && md->install_cmd->nelts);
}

/* Install the active set for another server after an activation, or again when an earlier install failed (it is
 * owed until it works; *powed_done: such an owed install was done now); the failure is the item's. */
static apr_status_t install_item(int *powed_done, run_t *run, md_reg_item_t *item, const md_t *md,
                                 md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv;
    int owed;

    *powed_done = 0;
    if (!installs(md)) return APR_SUCCESS;
    owed = md_reg_install_owed(run->reg, md, p);
    if (item->outcome != MD_DRIVE_ACTIVATED && !owed) return APR_SUCCESS;
    rv = md_reg_install(run->reg, run->rn->events, md, result, p);
    md_reg_install_owe(run->reg, md, rv != APR_SUCCESS, p);
    *powed_done = owed && rv == APR_SUCCESS;
    if (rv == APR_SUCCESS && md->install_chain) {
        say(run->rn, item->name, apr_psprintf(p, "installed %s and %s", md->install_chain, md->install_key));
    }
    return rv;
}

/* Backing off: the failure it backs off from, from its job's last attempt, into result. */
static void last_failure(run_t *run, md_reg_item_t *item, md_result_t *result, apr_pool_t *p)
{
    md_job_t *job = NULL;
    const char *detail;

    if (md_job_load(&job, run->rn->drive.store, MD_SG_STAGING, item->name, NULL, p) != APR_SUCCESS || !job->last) {
        return;
    }
    detail = md_json_gets(job->last, "detail", NULL);
    md_result_printf(result, APR_SUCCESS, "backing off after %d failed attempt%s: %s", job->errors,
                     job->errors == 1 ? "" : "s", detail ? detail : "(no detail recorded)");
    result->problem = md_json_gets(job->last, "problem", NULL);
    result->activity = md_json_gets(job->last, "activity", NULL);
}

/* An MD with static certificate files: their certificates decide. Not renewed (outcome NOT_DUE, next its due time)
 * unless MDRenewMode is always and they are due; then the drive renews when the store's set is due as well. */
static int static_not_due(run_t *run, md_reg_item_t *item, const md_t *md, apr_pool_t *p)
{
    md_reg_state_opts_t opts = { item->cert_files, 0, 0 };
    md_reg_state_t *st;

    if (!item->cert_files || !item->cert_files->nelts) return 0;
    st = md_reg_state(run->reg, md, &opts, p);
    if (md->renew_mode == MD_RENEW_ALWAYS && (st->due || item->flags.force)) return 0;
    item->outcome = MD_DRIVE_NOT_DUE;
    item->next = st->renew_at > st->now ? st->renew_at : 0;
    return 1;
}

/* The MD's lease for the drive; false (the item LEASED, until when, by whom) when another process holds it. */
static int lease_take(run_t *run, md_reg_item_t *item, int idx, md_result_t *result, apr_pool_t *p)
{
    md_reg_lease_info_t other;
    md_reg_lease_t *lk = NULL;
    apr_status_t rv;

    if (!run->lease) return 1;
    rv = md_reg_lease_take(&lk, &other, run->reg, item->name, run->lease, p);
    if (rv == APR_SUCCESS) {
        apr_thread_mutex_lock(run->lock);
        run->leases[idx] = lk;
        apr_thread_mutex_unlock(run->lock);
        return 1;
    }
    item->outcome = MD_DRIVE_LEASED;
    item->next = other.until;
    md_result_printf(result, APR_SUCCESS, "renewed by %s (its lease ends %s at the latest)",
                     other.holder ? other.holder : "another process",
                     md_time_print_http(other.until, p));
    if (rv != APR_EBUSY) {
        md_result_printf(result, rv, "cannot take the lease on %s in %s/%s", item->name,
                         md_store_base_dir(run->reg->store), MD_REG_LEASES_DIR);
        item->outcome = MD_DRIVE_FAILED;
        item->rv = rv;
    }
    return 0;
}

static void lease_release(run_t *run, int idx)
{
    md_reg_lease_t *lk;

    apr_thread_mutex_lock(run->lock);
    lk = run->leases ? run->leases[idx] : NULL;
    if (lk) run->leases[idx] = NULL;
    apr_thread_mutex_unlock(run->lock);
    md_reg_lease_release(lk);
}

/* Renews the leases of the MDs being driven, every third of their duration, until the run ends. */
static void *APR_THREAD_FUNC lease_keeper(apr_thread_t *thread, void *baton)
{
    run_t *run = baton;
    int i;

    (void)thread;
    apr_thread_mutex_lock(run->lock);
    while (!run->ended) {
        apr_thread_cond_timedwait(run->over, run->lock, run->lease / 3);
        for (i = 0; !run->ended && i < run->items->nelts; ++i) {
            if (run->leases[i] && md_reg_lease_renew(run->leases[i]) != APR_SUCCESS) {
                say(run->rn, md_reg_lease_name(run->leases[i]), "lost its lease while being renewed (it ran out "
                    "before it could be renewed): another process may take the MD over");
            }
        }
    }
    apr_thread_mutex_unlock(run->lock);
    return NULL;
}

/* Drive one MD with its responders and programs; then install, and the events. */
static void drive_item(run_t *run, md_reg_item_t *item, int idx, md_result_t *result, apr_pool_t *p)
{
    const md_reg_renew_t *rn = run->rn;
    md_drive_env_t env = rn->drive;
    md_reg_challenges_t ch;
    drive_events_t de;
    md_t *md = NULL;
    apr_time_t retry;
    apr_status_t rv;
    int owed_done = 0;

    item->outcome = MD_DRIVE_FAILED;
    item->next = 0;
    if (!lease_take(run, item, idx, result, p)) return;
    if (item->request) md_reg_request_pick(run->reg, item->name, p);
    rv = md_load(&md, env.store, MD_SG_DOMAINS, item->name, result, p);
    if (rv == APR_SUCCESS) {
        de.events = rn->events;
        md_reg_programs(&de.progs, rn, md, p);
        env.shared = run->shared;
        env.event = rn->events ? drive_event : NULL;
        env.told_at_finish = md_reg_events_none(rn, &de.progs);
        env.md = md;
        env.event_baton = &de;
        rv = md_reg_responders(&env.responders, &ch, rn, &de.progs, md, p);
        env.challenge_types = ch.types;
        env.challenge_dropped = ch.dropped;
        if (rv != APR_SUCCESS) md_result_printf(result, rv, "cannot set up the challenge responders for %s",
                                                item->name);
    }
    if (rv == APR_SUCCESS && !static_not_due(run, item, md, p)) {
        rv = md_drive(&item->outcome, &item->next, &env, item->name, &item->flags, result, p);
    }
    if (rv == APR_SUCCESS && item->outcome == MD_DRIVE_BLOCKED) rv = MD_EHUMAN;
    if (rv == APR_SUCCESS && item->outcome != MD_DRIVE_FAILED) rv = install_item(&owed_done, run, item, md, result, p);
    item->rv = rv;
    item->renewed = rv == APR_SUCCESS && (item->outcome == MD_DRIVE_ACTIVATED || owed_done);
    if (rv == APR_SUCCESS && item->outcome == MD_DRIVE_BACKING_OFF) last_failure(run, item, result, p);
    /* the run is over (its answers torn down), unless it waits with them in place */
    if (md && item->outcome != MD_DRIVE_WAITING) md_reg__purge_challenges(run->reg, md, p);
    if (md) {
        retry = md_reg_events_after(run->reg, rn, md, item->cert_files, item->outcome,
                                    (rv != APR_SUCCESS || item->outcome == MD_DRIVE_FAILED)
                                    ? md_result_text(result, p) : NULL, p);
        if (retry && (!item->next || retry < item->next)) item->next = retry;    /* a renewed message failed */
    }
    if (item->request) {
        md_reg_request_answer(run->reg, item->name, item->outcome, rv, rv != APR_SUCCESS
                              || item->outcome == MD_DRIVE_FAILED ? md_result_text(result, p) : NULL, p);
    }
    lease_release(run, idx);
}

/* The item's result, kept in the run's pool (under the lock). Failed: the attempt failed, or the MD is blocked, or it
 * is still backing off after an earlier failure (whose detail it keeps). */
static void keep_result(run_t *run, md_reg_item_t *item, const md_result_t *result)
{
    item->failed = item->rv != APR_SUCCESS || item->outcome == MD_DRIVE_FAILED
                   || item->outcome == MD_DRIVE_BACKING_OFF;
    if (item->rv == APR_SUCCESS && (item->outcome == MD_DRIVE_POSTPONED || item->outcome == MD_DRIVE_LEASED)) {
        item->detail = apr_pstrdup(run->p, md_result_text(result, run->p));
        return;
    }
    if (item->rv == APR_SUCCESS && item->outcome == MD_DRIVE_BACKING_OFF) {
        item->detail = result->detail ? apr_pstrdup(run->p, md_result_text(result, run->p)) : NULL;
        item->problem = result->problem ? apr_pstrdup(run->p, result->problem) : NULL;
        item->activity = result->activity ? apr_pstrdup(run->p, result->activity) : NULL;
        return;
    }
    if (item->rv == APR_SUCCESS && item->outcome != MD_DRIVE_FAILED) {
        item->detail = item->problem = item->activity = NULL;
        return;
    }
    if (item->rv == APR_SUCCESS) item->rv = result->status != APR_SUCCESS ? result->status : APR_EGENERAL;
    item->detail = apr_pstrdup(run->p, md_result_text(result, run->p));
    item->problem = result->problem ? apr_pstrdup(run->p, result->problem) : NULL;
    item->activity = result->activity ? apr_pstrdup(run->p, result->activity) : NULL;
}

/* The next item to drive (ITEM_RUNNING from now), or NULL; *pwake: when a waiting one is due (0: none waits). */
static md_reg_item_t *take(run_t *run, int *pidx, apr_time_t *pwake)
{
    apr_time_t now = md_reg_now(run->reg), wake = 0;
    md_reg_item_t *item;
    int i;

    if (run->rn->stop && __atomic_load_n(run->rn->stop, __ATOMIC_ACQUIRE)) {     /* the front-end is ending */
        *pwake = 0;
        return NULL;
    }
    for (i = 0; i < run->items->nelts; ++i) {
        item = APR_ARRAY_IDX(run->items, i, md_reg_item_t *);
        if (run->states[i] == ITEM_WAITING && item->next <= now) run->states[i] = ITEM_READY;
        if (run->states[i] == ITEM_READY) {
            run->states[i] = ITEM_RUNNING;
            if (++run->active > run->max_active) run->max_active = run->active;
            *pidx = i;
            return item;
        }
        if (run->states[i] == ITEM_WAITING && (!wake || item->next < wake)) wake = item->next;
    }
    *pwake = wake;
    return NULL;
}

/* A root pool with an allocator of its own: what it allocated goes back to the system when it is destroyed. A
 * child of APR's global pool would keep it in the global allocator's free list for the life of the process (in
 * httpd's children: what up to 16 drives of MDs held at once, and what the run's shared ACME clients took over
 * 1000 MDs). With locked, the allocator takes a mutex: pools of it are used by several threads, each under a lock
 * of its own. */
static apr_pool_t *own_pool(int locked)
{
    apr_allocator_t *allocator = NULL;
    apr_thread_mutex_t *mutex = NULL;
    apr_pool_t *p = NULL;

    if (apr_allocator_create(&allocator) == APR_SUCCESS
        && apr_pool_create_ex(&p, NULL, NULL, allocator) == APR_SUCCESS) {
        apr_allocator_owner_set(allocator, p);
        if (!locked || apr_thread_mutex_create(&mutex, APR_THREAD_MUTEX_DEFAULT, p) == APR_SUCCESS) {
            if (mutex) apr_allocator_mutex_set(allocator, mutex);
            return p;
        }
        apr_pool_destroy(p);        /* and its allocator */
        allocator = NULL;
    }
    if (allocator) apr_allocator_destroy(allocator);
    apr_pool_create(&p, NULL);
    return p;
}

/* Whether the item, driven just now, waits in this run for its time: when the caller wants to wait, the drive went
 * well and said WAITING, and (with rn->wait_max) its time comes soon enough. */
static int waits_here(run_t *run, const md_reg_item_t *item)
{
    const md_reg_renew_t *rn = run->rn;

    if (!rn->wait || item->outcome != MD_DRIVE_WAITING || item->rv != APR_SUCCESS) return 0;
    return !rn->wait_max || item->next - md_reg_now(run->reg) <= rn->wait_max;
}

static void *APR_THREAD_FUNC worker(apr_thread_t *thread, void *baton)
{
    run_t *run = baton;
    md_reg_item_t *item;
    md_result_t *result;
    apr_time_t wake = 0, now;
    apr_pool_t *p, *tp = own_pool(0);
    int i = 0;

    (void)thread;
    /* each item in a pool of the thread's allocator, which keeps what an item used for the next one: an allocator
     * per item gave it all back to malloc and took it again (5 % of a drive's CPU per certificate) */
    apr_allocator_max_free_set(apr_pool_allocator_get(tp), WORKER_KEEP);
    for (;;) {
        apr_thread_mutex_lock(run->lock);
        item = take(run, &i, &wake);
        apr_thread_mutex_unlock(run->lock);
        if (!item && !wake) break;
        if (!item) {
            now = md_reg_now(run->reg);
            md_clock_sleep(run->rn->drive.clock, wake - now < IDLE_LOOK ? wake - now : IDLE_LOOK);
            continue;
        }
        apr_pool_create(&p, tp);
        result = md_result_make(p);
        drive_item(run, item, i, result, p);
        apr_thread_mutex_lock(run->lock);
        keep_result(run, item, result);
        apr_thread_mutex_unlock(run->lock);
        item->again = waits_here(run, item);
        /* the item is this thread's until it is handed back: the front-end takes it (its detail kept) */
        if (run->rn->done) run->rn->done(run->rn->done_baton, item, p);
        apr_thread_mutex_lock(run->lock);
        run->active--;
        run->states[i] = item->again ? ITEM_WAITING : ITEM_DONE;
        apr_thread_mutex_unlock(run->lock);
        apr_pool_destroy(p);
    }
    apr_pool_destroy(tp);
    return NULL;
}

void md_reg_renew_many(md_reg_run_stats_t *pstats, md_reg_t *reg, const md_reg_renew_t *rn,
                       apr_array_header_t *items, apr_pool_t *p)
{
    int max = rn->workers > 0 ? rn->workers : MD_REG_WORKERS_DEF, n = 0, i;
    apr_thread_t **threads, *keeper = NULL;
    apr_pool_t *shared_pool, *tpool;
    apr_status_t trv;
    run_t run;

    if (pstats) pstats->workers = pstats->max_active = 0;
    if (items->nelts == 0) return;
    memset(&run, 0, sizeof(run));
    run.reg = reg;
    if (!reg->retry_base && rn->drive.retry_base) {      /* the attempts left (expiring) at the runner's back-off */
        run.reg = apr_pmemdup(p, reg, sizeof(*reg));
        run.reg->retry_base = rn->drive.retry_base;
    }
    run.rn = rn;
    run.items = items;
    run.p = p;
    run.states = apr_pcalloc(p, sizeof(int) * (apr_size_t)items->nelts);
    run.leases = apr_pcalloc(p, sizeof(md_reg_lease_t *) * (apr_size_t)items->nelts);
    run.lease = rn->lease < 0 ? 0 : rn->lease > 0 ? rn->lease : MD_REG_LEASE_DEF;
    /* pools whose allocators lock: the threads end in their own pools */
    tpool = own_pool(1);
    apr_thread_mutex_create(&run.lock, APR_THREAD_MUTEX_DEFAULT, tpool);
    apr_thread_cond_create(&run.over, tpool);
    shared_pool = own_pool(1);      /* allocated from under the shared object's own locks */
    run.shared = md_drive_shared_make(shared_pool);
    threads = apr_pcalloc(tpool, sizeof(apr_thread_t *) * (apr_size_t)max);
    if (run.lease && apr_thread_create(&keeper, NULL, lease_keeper, &run, tpool) != APR_SUCCESS) keeper = NULL;
    for (i = 0; i < items->nelts && i < max; ++i) {
        if (apr_thread_create(&threads[n], NULL, worker, &run, tpool) == APR_SUCCESS) ++n;
        else say(rn, "*", "cannot start a renewal worker thread");
    }
    if (n == 0) worker(NULL, &run);     /* no thread: drive them here, one after another */
    for (i = 0; i < n; ++i) apr_thread_join(&trv, threads[i]);
    apr_thread_mutex_lock(run.lock);
    run.ended = 1;
    apr_thread_cond_signal(run.over);
    apr_thread_mutex_unlock(run.lock);
    if (keeper) apr_thread_join(&trv, keeper);
    apr_pool_destroy(shared_pool);
    apr_pool_destroy(tpool);
    if (pstats) {
        pstats->workers = n ? n : 1;
        pstats->max_active = run.max_active;
    }
}
