/* Background renewal: a singleton mod_watchdog task in one child hands the watched MDs (md_reg_is_watched) to the
 * registry's runner (staging only, up to 16 at once, under each MD's lease, the module's http-01/tls-alpn-01
 * answerers), after MDInitialDelay, then looks at each MD again at its due, retry or wait time, or after
 * MDCheckInterval +-50%; every few seconds it picks up requests (mdomain renew --force on this store). Each run goes
 * on in a thread of its own (up to MAX_RUNS at once), where an MD that waits for the CA up to RUN_WAIT_MAX is driven
 * again at its time, so the watchdog's thread (OCSP, requests) is never held up by a run. A renewed set is announced
 * to the children (live.c) as soon as the registry says it may be served, and its OCSP responses are fetched at
 * once where it is stapled. */
#include <malloc.h>
#include <string.h>

#include <apr_optional.h>
#include <apr_random.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mod_watchdog.h>
#include <http_main.h>
#include <mpm_common.h>

#include "md.h"
#include "md_dns.h"
#include "md_drive.h"
#include "md_reg_live.h"
#include "md_reg_renew.h"
#include "md_reg_request.h"
#include "md_responder.h"
#include "md_result.h"
#include "md_time.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define WD_NAME "_mdomain_renew_"
#define MIN_INTERVAL apr_time_from_msec(200)
/* How often the watchdog looks for requests (STORE/requests) at least; and while runs are under way (their renewed
 * sets' OCSP responses, runs that ended). */
#define REQUEST_LOOK apr_time_from_sec(5)
#define RUN_LOOK apr_time_from_sec(1)
/* Runs going on at the same time, each in its thread with up to 16 workers; and the longest wait for the CA kept in
 * a run (a longer one hands the MD back to the watchdog, free for a request meanwhile). */
#define MAX_RUNS 4
#define RUN_WAIT_MAX apr_time_from_sec(10)

/* One watched MD. While in_run, the run's workers own next, live_at and request; else the watchdog's thread. */
typedef struct {
    const md_managed_t *m;
    apr_time_t next;       /* when to look at it next */
    apr_time_t live_at;    /* the renewed set announced to the children: when it could be served */
    int request;           /* a request picked up for it is answered when a drive of it ends */
    int in_run;            /* a run has it (atomic) */
    int poked;             /* to be driven at once when its run is done with it (atomic) */
} drive_md_t;

typedef struct drive_ctx_t drive_ctx_t;

/* A run in its thread: its pool (an allocator of its own) holds the items; the watchdog joins it once over. */
typedef struct {
    drive_ctx_t *ctx;
    apr_pool_t *p;             /* NULL: the slot is free */
    apr_thread_t *thread;
    apr_array_header_t *items; /* md_reg_item_t*, each baton a run_item_t */
    int over;                  /* the thread is done (atomic) */
} run_slot_t;

/* An item's baton: its MD, and whether the run is done with it (released to the watchdog). */
typedef struct {
    drive_md_t *dm;
    int released;
} run_item_t;

struct drive_ctx_t {
    server_rec *s;
    md_mod_conf_t *mc;
    apr_array_header_t *mds;   /* drive_md_t */
    ap_watchdog_t *wd;
    md_events_t events;
    md_reg_reach_t reach;
    md_reg_renew_t rn;
    md_dns_t *dns;             /* MDPreflightDNS's server, NULL: the system's resolver */
    run_slot_t runs[MAX_RUNS]; /* the watchdog's thread's */
};

/* The operator's remedies in this module's terms: its directives. */
static const md_hints_t httpd_hints = { {
    [MD_HINT_TERMS] = "read them and configure 'MDCertificateAgreement accepted'",
    [MD_HINT_EAB] = "configure them with 'MDExternalAccountBinding KID HMAC'",
    [MD_HINT_RESPONDER] = "http-01 needs the public port 80 mapped to httpd (MDPortMap http:PORT), tls-alpn-01 "
                          "port 443 (MDPortMap https:PORT) and 'Protocols acme-tls/1' in the MD's virtual host, "
                          "dns-01 a program in MDChallengeDns01 or MDEventHandler, and http-01 for names no "
                          "virtual host here has MDEventHandler; MDCAChallenges names the types to use",
    [MD_HINT_CA_FILE] = "if the CA's certificate comes from a private root, trust that root with "
                        "MDCACertificateFile",
} };

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register_callback;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_set_callback_interval) *wd_set_interval;

/* interval * (0.5 .. 1.5) */
static apr_interval_time_t jittered(apr_interval_time_t interval)
{
    unsigned char b[2] = { 0, 0 };
    unsigned r;

    apr_generate_random_bytes(b, sizeof(b));
    r = ((unsigned)b[0] << 8 | b[1]) % 1000;
    return interval / 2 + (apr_interval_time_t)((double)interval * r / 1000.0);
}

static void drive_log(void *baton, const char *md_name, const char *message)
{
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, (server_rec *)baton, "%s: %s", md_name, message);
}

/* The module's own answerers, both through the store's challenges/: http-01 served by its handler, tls-alpn-01
 * through mod_ssl. Which of them are used is the registry's choice (md_reg_challenges, from ctx->reach). */
static apr_status_t local_responders(void *baton, md_responders_t *rs, const md_t *md, apr_pool_t *p)
{
    drive_ctx_t *ctx = baton;

    md_responders_add(rs, md_httpd_http01_responder(ctx->mc->store, ctx->s, p));
    md_responders_add(rs, md_httpd_tlsalpn01_responder(ctx->mc->store, md, p));
    return APR_SUCCESS;
}

/* A renewed set waits in staging/: announced to the children once the registry says it may be served (then the
 * parent activates it in the store), else looked at again when it may. */
static void staged_done(drive_ctx_t *ctx, drive_md_t *dm, apr_pool_t *p)
{
    md_reg_t *reg = md_reg_make(ctx->mc->store, NULL, p);
    apr_time_t now = apr_time_now(), at = md_reg_live_staged_at(reg, dm->m->md, ctx->mc->activation_delay, p);
    const char *name = dm->m->md->name;

    dm->next = now + jittered(ctx->mc->check_interval);
    if (!at || at == dm->live_at) return;
    if (at > now) {
        if (at < dm->next) dm->next = at;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ctx->s, "%s: the certificates have been renewed; they are served "
                     "from %s on (MDActivationDelay)", name, md_time_print_http(at, p));
        return;
    }
    dm->live_at = at;
    md_httpd_live_staged(ctx->mc, dm->m);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ctx->s, "%s: the certificates have been renewed and are served from "
                 "now on; the server activates them in the store within seconds, no restart is needed", name);
}

/* After a drive, in its worker thread as soon as it ends (a renewed set is announced then, not after the whole run):
 * when to look at the MD again, and the log. Only this item's drive_md_t is touched. */
static void drive_done(drive_ctx_t *ctx, drive_md_t *dm, const md_reg_item_t *item, apr_pool_t *p)
{
    apr_time_t now = apr_time_now(), next = item->next;
    const char *name = dm->m->md->name;

    if (item->outcome != MD_DRIVE_LEASED) dm->request = item->request && item->outcome == MD_DRIVE_WAITING;
    switch (item->rv != APR_SUCCESS && item->outcome != MD_DRIVE_BLOCKED ? MD_DRIVE_FAILED : item->outcome) {
    case MD_DRIVE_FAILED:
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, ctx->s, "%s: renewal failed: %s", name, item->detail);
        dm->next = next > now ? next : now + ctx->mc->retry_delay;
        return;
    case MD_DRIVE_BLOCKED:
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, ctx->s, "%s: renewal stopped until the configuration changes or the "
                     "server restarts: %s", name, item->detail);
        dm->next = now + jittered(ctx->mc->check_interval);
        return;
    case MD_DRIVE_STAGED:
    case MD_DRIVE_ACTIVATED:
        staged_done(ctx, dm, p);
        if (next > now && next < dm->next) dm->next = next;    /* its renewed message or MDNotifyCmd failed */
        return;
    case MD_DRIVE_WAITING:
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ctx->s, "%s: renewal under way, going on in %" APR_TIME_T_FMT " s",
                     name, apr_time_sec(next > now ? next - now : 0));
        dm->next = next > now ? next : now;
        return;
    case MD_DRIVE_POSTPONED:
    case MD_DRIVE_LEASED:
        ap_log_error(APLOG_MARK, item->outcome == MD_DRIVE_LEASED ? APLOG_INFO : APLOG_NOTICE, 0, ctx->s, "%s: %s",
                     name, item->detail ? item->detail : "postponed");
        dm->next = next > now ? next : now + ctx->mc->retry_delay;
        return;
    default:
        dm->next = now + jittered(ctx->mc->check_interval);
        if (next > now && next < dm->next) dm->next = next;
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s, "%s: %s, next check in %" APR_TIME_T_FMT " s", name,
                     item->outcome == MD_DRIVE_BACKING_OFF ? "backing off" : "not due", apr_time_sec(dm->next - now));
    }
}

/* In the worker thread, after each drive: the MD goes back to the watchdog unless it waits in the run (again). */
static void item_done(void *baton, md_reg_item_t *item, apr_pool_t *p)
{
    drive_ctx_t *ctx = baton;
    run_item_t *ri = item->baton;

    /* the child is stopping: nothing to announce */
    if (!md_httpd_child_ending()) drive_done(ctx, ri->dm, item, p);
    if (item->again) return;
    ri->released = 1;
    __atomic_store_n(&ri->dm->in_run, 0, __ATOMIC_RELEASE);
}

/* A pool with an allocator of its own under APR's global pool (NULL when none can be made): what a run over 1000
 * MDs allocated goes back to the system when it is destroyed (with malloc_trim for the workers' malloc arenas),
 * instead of staying in the watchdog's free lists for the child's lifetime. */
static apr_pool_t *run_pool(void)
{
    apr_allocator_t *allocator = NULL;
    apr_pool_t *p = NULL;

    if (apr_allocator_create(&allocator) != APR_SUCCESS) return NULL;
    if (apr_pool_create_ex(&p, NULL, NULL, allocator) != APR_SUCCESS) {
        apr_allocator_destroy(allocator);
        return NULL;
    }
    apr_allocator_owner_set(allocator, p);
    return p;
}

/* Whether name is among the requested ones. */
static int requested(const apr_array_header_t *names, const char *name)
{
    int i;

    for (i = 0; i < names->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(names, i, const char *), name)) return 1;
    }
    return 0;
}

/* The MDs to drive now, none a run has: those whose time has come (or poked), and those with a request (forced
 * when asked so); each is the new run's from now on. */
static apr_array_header_t *items_due(drive_ctx_t *ctx, apr_pool_t *p)
{
    apr_array_header_t *items = apr_array_make(p, ctx->mds->nelts + 1, sizeof(md_reg_item_t *)), *asked = NULL;
    md_reg_t *reg = md_reg_make(ctx->mc->store, NULL, p);
    md_reg_request_t *req;
    md_reg_item_t *item;
    apr_time_t now = apr_time_now();
    drive_md_t *dm;
    run_item_t *ri;
    int i, ask;

    md_reg_requests_new(&asked, reg, p);
    for (i = 0; i < ctx->mds->nelts; ++i) {
        dm = &APR_ARRAY_IDX(ctx->mds, i, drive_md_t);
        if (__atomic_load_n(&dm->in_run, __ATOMIC_ACQUIRE)) continue;     /* a request waits until it is back */
        if (__atomic_exchange_n(&dm->poked, 0, __ATOMIC_ACQ_REL)) dm->next = 0;
        ask = requested(asked, dm->m->md->name);
        if (dm->next > now && !ask) continue;
        item = apr_pcalloc(p, sizeof(*item));
        ri = apr_pcalloc(p, sizeof(*ri));
        ri->dm = dm;
        item->name = dm->m->md->name;
        item->cert_files = dm->m->cert_files;
        item->flags.unusable = dm->m->set_problem != NULL;     /* the parent found it: the child cannot read keys */
        item->baton = ri;
        item->request = dm->request;
        if (ask && md_reg_request_get(&req, reg, item->name, p) == APR_SUCCESS) {
            item->request = 1;
            item->flags.force = req->force;
            if (req->force) dm->live_at = 0;    /* its new set is announced even if as old as the staged one */
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ctx->s, "%s: renewal%s requested by %s", item->name,
                         req->force ? " (forced)" : "", req->by ? req->by : "?");
        }
        APR_ARRAY_PUSH(items, md_reg_item_t *) = item;
        __atomic_store_n(&dm->in_run, 1, __ATOMIC_RELEASE);
    }
    return items;
}

/* The MDs a run did not finish (the child stops) handed back to the watchdog. */
static void run_items_release(apr_array_header_t *items)
{
    run_item_t *ri;
    int i;

    for (i = 0; i < items->nelts; ++i) {
        ri = APR_ARRAY_IDX(items, i, md_reg_item_t *)->baton;
        if (!ri->released) __atomic_store_n(&ri->dm->in_run, 0, __ATOMIC_RELEASE);
    }
}

/* The run: the items driven (waits up to RUN_WAIT_MAX in it). */
static void run_items(drive_ctx_t *ctx, apr_array_header_t *items, apr_pool_t *p)
{
    md_reg_run_stats_t stats;

    md_reg_renew_many(&stats, md_reg_make(ctx->mc->store, NULL, p), &ctx->rn, items, p);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s, "renewal watchdog: %d MDs looked at by %d workers, at most %d "
                 "at the same time", items->nelts, stats.workers, stats.max_active);
    run_items_release(items);
}

static void *APR_THREAD_FUNC run_main(apr_thread_t *thread, void *baton)
{
    run_slot_t *slot = baton;

    (void)thread;
    run_items(slot->ctx, slot->items, slot->p);
    __atomic_store_n(&slot->over, 1, __ATOMIC_RELEASE);
    md_httpd_child_leave();      /* the child may end from now on */
    return NULL;
}

/* Runs that are over: their threads joined, their pools given back. Returns how many are still under way. */
static int runs_reap(drive_ctx_t *ctx)
{
    run_slot_t *slot;
    apr_status_t trv;
    int i, going = 0, freed = 0;

    for (i = 0; i < MAX_RUNS; ++i) {
        slot = &ctx->runs[i];
        if (!slot->p) continue;
        if (!__atomic_load_n(&slot->over, __ATOMIC_ACQUIRE)) {
            ++going;
            continue;
        }
        apr_thread_join(&trv, slot->thread);
        apr_pool_destroy(slot->p);
        memset(slot, 0, sizeof(*slot));
        freed = 1;
    }
    if (freed) malloc_trim(0);
    return going;
}

/* A run of the MDs due now in a thread of its own, when a slot is free (else they wait for the next look); without
 * a thread it runs here. Returns whether one started. */
static int run_start(drive_ctx_t *ctx)
{
    run_slot_t *slot = NULL;
    int i;

    for (i = 0; i < MAX_RUNS && !slot; ++i) {
        if (!ctx->runs[i].p) slot = &ctx->runs[i];
    }
    if (!slot || !(slot->p = run_pool())) return 0;
    slot->ctx = ctx;
    slot->items = items_due(ctx, slot->p);
    if (slot->items->nelts && md_httpd_child_enter()) {
        if (apr_thread_create(&slot->thread, NULL, run_main, slot, slot->p) == APR_SUCCESS) return 1;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ctx->s, "cannot start a renewal thread: the run goes on in the "
                     "watchdog's");
        run_items(ctx, slot->items, slot->p);
        md_httpd_child_leave();
    }
    else if (slot->items->nelts) {      /* the child is stopping */
        run_items_release(slot->items);
    }
    apr_pool_destroy(slot->p);
    memset(slot, 0, sizeof(*slot));
    return 0;
}

static apr_status_t drive_callback(int state, void *baton, apr_pool_t *ptemp_wd)
{
    drive_ctx_t *ctx = baton;
    apr_time_t now, wake = 0;
    drive_md_t *dm;
    int i, going;

    (void)ptemp_wd;
    /* without MDInitialDelay the first run starts with the watchdog's thread, not at its first 100 ms slice */
    if (state == AP_WATCHDOG_STATE_STARTING && ctx->mc->initial_delay <= 0) state = AP_WATCHDOG_STATE_RUNNING;
    if (state != AP_WATCHDOG_STATE_RUNNING || !md_httpd_child_enter()) return APR_SUCCESS;
    runs_reap(ctx);
    run_start(ctx);
    going = runs_reap(ctx);
    /* sets announced by the runs (item_done), or published by the parent, get their OCSP responses fetched at
     * once */
    md_httpd_live_sync(ctx->mc);
    md_httpd_ocsp_poke(ctx->mc);
    for (i = 0; i < ctx->mds->nelts; ++i) {
        dm = &APR_ARRAY_IDX(ctx->mds, i, drive_md_t);
        if (__atomic_load_n(&dm->in_run, __ATOMIC_ACQUIRE)) continue;
        if (!wake || dm->next < wake) wake = dm->next;
    }
    now = apr_time_now();
    wake = wake ? wake - now : ctx->mc->check_interval;
    if (wake > REQUEST_LOOK) wake = REQUEST_LOOK;      /* a request is picked up within seconds */
    if (going && wake > RUN_LOOK) wake = RUN_LOOK;
    if (wake < MIN_INTERVAL) wake = MIN_INTERVAL;
    wd_set_interval(ctx->wd, wake, ctx, drive_callback);
    md_httpd_child_leave();
    return APR_SUCCESS;
}

static void renew_setup(drive_ctx_t *ctx, apr_pool_t *pconf)
{
    md_reg_renew_t *rn = &ctx->rn;

    md_httpd_events_init(&ctx->events, &rn->programs, ctx->s, ctx->mc);
    rn->drive.store = ctx->mc->store;
    rn->drive.http_opts.proxy_url = ctx->mc->proxy_url;
    rn->drive.http_opts.proxy_ca_file = ctx->mc->proxy_ca_file;
    rn->drive.retry_base = ctx->mc->retry_delay;
    rn->drive.preflight = ctx->mc->preflight;
    rn->drive.preflight_http_port = ctx->mc->port_http > 0 ? ctx->mc->port_http : 80;
    if (ctx->mc->preflight && ctx->mc->preflight_dns) {
        md_dns_resolver(&ctx->dns, ctx->mc->preflight_dns, pconf);
        rn->drive.dns = ctx->dns;
    }
    rn->drive.log = drive_log;
    rn->drive.log_baton = ctx->s;
    rn->drive.hints = &httpd_hints;
    rn->events = &ctx->events;
    rn->local = local_responders;
    rn->local_baton = ctx;
    rn->done = item_done;
    rn->done_baton = ctx;
    rn->lease = ctx->mc->store_lease;
    rn->stop = md_httpd_child_ending_flag();
    rn->wait = 1;
    rn->wait_max = RUN_WAIT_MAX;
    md_httpd_reach_get(&ctx->reach, ctx->mc);
    rn->reach = &ctx->reach;
}

static drive_ctx_t *ctx_make(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf)
{
    drive_ctx_t *ctx = apr_pcalloc(pconf, sizeof(*ctx));
    const md_managed_t *m;
    drive_md_t *dm;
    int i;

    ctx->s = s;
    ctx->mc = mc;
    ctx->mds = apr_array_make(pconf, mc->mds->nelts + 1, sizeof(drive_md_t));
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (!md_reg_is_watched(m->md, m->cert_files->nelts > 0, m->servers->nelts > 0)) continue;
        dm = &APR_ARRAY_PUSH(ctx->mds, drive_md_t);
        dm->m = m;
        dm->next = 0;
    }
    renew_setup(ctx, pconf);
    return ctx;
}

void md_httpd_drive_poke(md_mod_conf_t *mc, const char *name)
{
    drive_ctx_t *ctx = mc->drive;
    drive_md_t *dm;
    int i;

    if (!ctx || !ctx->wd || !wd_set_interval) return;
    for (i = 0; i < ctx->mds->nelts; ++i) {
        dm = &APR_ARRAY_IDX(ctx->mds, i, drive_md_t);
        if (!strcmp(dm->m->md->name, name)) {
            __atomic_store_n(&dm->poked, 1, __ATOMIC_RELEASE);     /* when its run, if any, is done with it */
            wd_set_interval(ctx->wd, MIN_INTERVAL, ctx, drive_callback);
        }
    }
}

apr_status_t md_httpd_drive_register(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf)
{
    drive_ctx_t *ctx = ctx_make(s, mc, pconf);
    /* mod_watchdog runs a callback whose interval has passed at its next 100 ms slice: without MDInitialDelay
     * the first run starts as the watchdog's thread does (drive_callback's STARTING) */
    apr_interval_time_t delay = mc->initial_delay > 0 ? mc->initial_delay : apr_time_from_msec(1);
    apr_status_t rv;

    mc->drive = ctx;
    mc->watchdog = NULL;
    if (ctx->mds->nelts == 0 && !mc->ocsp) return APR_SUCCESS;
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    wd_set_interval = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_set_callback_interval);
    if (!wd_get_instance || !wd_register_callback || !wd_set_interval) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "mod_watchdog is not loaded: certificates are not renewed "
                     "automatically");
        return APR_SUCCESS;
    }
    rv = wd_get_instance(&ctx->wd, WD_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS && ctx->mds->nelts) rv = wd_register_callback(ctx->wd, delay, ctx, drive_callback);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "cannot register the renewal watchdog");
        return rv;
    }
    mc->watchdog = ctx->wd;
    /* the OCSP task runs in the same watchdog thread, so it can have a revoked MD renewed at once */
    rv = md_httpd_ocsp_register(s, mc, ctx->mds->nelts, pconf);
    if (rv != APR_SUCCESS) return rv;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "renewal watchdog for %d MDs, first run in %" APR_TIME_T_FMT
                 " ms", ctx->mds->nelts, apr_time_as_msec(delay));
    return APR_SUCCESS;
}
