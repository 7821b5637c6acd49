/* Background renewal: a singleton mod_watchdog task in one child drives the due auto/always MDs (staging only)
 * in up to 8 threads, after MDInitialDelay, then per MD at its due/retry time or MDCheckInterval +-50%. */
#include <string.h>

#include <apr_optional.h>
#include <apr_random.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mod_watchdog.h>

#include "md.h"
#include "md_drive.h"
#include "md_responder.h"
#include "md_result.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define WD_NAME "_mdomain_renew_"
#define MIN_INTERVAL apr_time_from_msec(200)
/* Drives mostly wait for the CA (polls, validation), so more of them than cores pays off: 100 MDs at a local
 * pebble on 2 cores took about 10% less time with 16 workers than with 8; 32 sent more requests. */
#define DRIVE_WORKERS_MAX 16

typedef struct {
    const md_managed_t *m;
    apr_time_t next;       /* when to drive it next */
    int staged;            /* renewed, waiting for a graceful restart */
} drive_md_t;

typedef struct {
    server_rec *s;
    md_mod_conf_t *mc;
    md_httpd_events_t ev;      /* the events' baton: s and mc */
    apr_array_header_t *mds;   /* drive_md_t */
    ap_watchdog_t *wd;
} drive_ctx_t;

/* One watchdog run: the due MDs, handed out to the workers one at a time. */
typedef struct {
    drive_ctx_t *ctx;
    apr_array_header_t *due;   /* drive_md_t* */
    int next;                  /* the next one to hand out */
    int active, max_active;    /* drives running now, and at most during this run */
    apr_thread_mutex_t *lock;  /* guards next and active */
    md_drive_shared_t *shared; /* one ACME client (nonces, account) per CA for this run */
} drive_run_t;

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

/* The operator's remedies in this module's terms: its directives. */
static const md_hints_t httpd_hints = { {
    [MD_HINT_TERMS] = "read them and configure 'MDCertificateAgreement accepted'",
    [MD_HINT_EAB] = "configure them with 'MDExternalAccountBinding KID HMAC'",
    [MD_HINT_RESPONDER] = "http-01 needs the public port 80 mapped to httpd (MDPortMap http:PORT), tls-alpn-01 "
                          "port 443 (MDPortMap https:PORT) and 'Protocols acme-tls/1' in the MD's virtual host, "
                          "dns-01 a program in MDChallengeDns01; MDCAChallenges names the types to use",
    [MD_HINT_CA_FILE] = "if the CA's certificate comes from a private root, trust that root with "
                        "MDCACertificateFile",
} };

static void drive_log(void *baton, const char *md_name, const char *message)
{
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, (server_rec *)baton, "%s: %s", md_name, message);
}

static apr_status_t responders_make(md_responders_t **prs, drive_ctx_t *ctx, const md_t *md, apr_pool_t *p)
{
    md_responders_t *rs = md_responders_make(p);
    apr_array_header_t *argv;
    md_responder_t *r;
    char **words = NULL;
    apr_status_t rv;
    int i;

    if (ctx->mc->port_http) md_responders_add(rs, md_httpd_http01_responder(ctx->mc->store, p));
    if (md_httpd_tlsalpn01_enabled(ctx->mc, md->name)) {
        md_responders_add(rs, md_httpd_tlsalpn01_responder(ctx->mc->store, p));
    }
    if (md->dns01_cmd) {
        rv = apr_tokenize_to_argv(md->dns01_cmd, &words, p);
        if (rv != APR_SUCCESS) return rv;
        argv = apr_array_make(p, 4, sizeof(const char *));
        for (i = 0; words && words[i]; ++i) APR_ARRAY_PUSH(argv, const char *) = words[i];
        rv = md_responder_dns01_cmd(&r, argv, ctx->mc->dns01_version, md_store_base_dir(ctx->mc->store),
                                    apr_time_from_sec(300), p);
        if (rv != APR_SUCCESS) return rv;
        md_responders_add(rs, r);
    }
    *prs = rs;
    return APR_SUCCESS;
}

/* After a drive: when to look at the MD again, and the log. */
static void drive_done(drive_ctx_t *ctx, drive_md_t *dm, apr_status_t rv, md_drive_outcome_t outcome, apr_time_t next,
                       md_result_t *result, apr_pool_t *p)
{
    apr_time_t now = apr_time_now();
    const char *name = dm->m->md->name;

    if (rv != APR_SUCCESS || outcome == MD_DRIVE_FAILED) {
        ap_log_error(APLOG_MARK, APLOG_ERR, md_result_log_status(rv), ctx->s, "%s: renewal failed: %s", name,
                     md_result_text(result, p));
        dm->next = next > now ? next : now + ctx->mc->retry_delay;
        return;
    }
    if (outcome == MD_DRIVE_STAGED || outcome == MD_DRIVE_ACTIVATED) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ctx->s, "%s: the certificates have been renewed and are ready "
                     "(staged). A graceful server restart now is recommended.", name);
        dm->staged = 1;
        dm->next = now + jittered(ctx->mc->check_interval);
        return;
    }
    if (outcome == MD_DRIVE_POSTPONED) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ctx->s, "%s: %s", name, md_result_text(result, p));
        dm->next = next > now ? next : now + ctx->mc->retry_delay;
        return;
    }
    next = (outcome == MD_DRIVE_BACKING_OFF && next > now) ? next : 0;
    dm->next = now + jittered(ctx->mc->check_interval);
    if (next && next < dm->next) dm->next = next;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s, "%s: %s, next check in %" APR_TIME_T_FMT " s",
                 name, outcome == MD_DRIVE_BACKING_OFF ? "backing off" : "not due", apr_time_sec(dm->next - now));
}

/* One drive of one MD (in a worker thread, with its own pool), then its events. A staged MD waits for the
 * restart: only its events are looked at. */
static void drive_one(drive_ctx_t *ctx, drive_md_t *dm, md_drive_shared_t *shared, apr_pool_t *p)
{
    md_drive_flags_t flags = { 0, 0 };
    md_drive_outcome_t outcome = MD_DRIVE_STAGED;
    md_result_t *result = md_result_make(p);
    md_drive_env_t env;
    apr_time_t next = 0;
    apr_status_t rv = APR_SUCCESS;

    if (dm->staged) {
        dm->next = apr_time_now() + jittered(ctx->mc->check_interval);
        md_httpd_events_after(&ctx->ev, dm->m->md, 0, outcome, p);
        return;
    }
    memset(&env, 0, sizeof(env));
    env.store = ctx->mc->store;
    env.http_opts.proxy_url = ctx->mc->proxy_url;
    env.http_opts.proxy_ca_file = ctx->mc->proxy_ca_file;
    env.retry_base = ctx->mc->retry_delay;
    env.log = drive_log;
    env.log_baton = ctx->s;
    env.shared = shared;
    env.event = md_httpd_event_drive_cb;
    env.event_baton = &ctx->ev;
    env.hints = &httpd_hints;
    outcome = MD_DRIVE_FAILED;
    rv = responders_make(&env.responders, ctx, dm->m->md, p);
    if (rv == APR_SUCCESS) rv = md_drive(&outcome, &next, &env, dm->m->md->name, &flags, result, p);
    drive_done(ctx, dm, rv, outcome, next, result, p);
    md_httpd_events_after(&ctx->ev, dm->m->md, rv != APR_SUCCESS || outcome == MD_DRIVE_FAILED, outcome, p);
}

static void *APR_THREAD_FUNC drive_worker(apr_thread_t *thread, void *baton)
{
    drive_run_t *run = baton;
    drive_md_t *dm;
    apr_pool_t *p;

    (void)thread;
    for (;;) {
        apr_thread_mutex_lock(run->lock);
        dm = run->next < run->due->nelts ? APR_ARRAY_IDX(run->due, run->next++, drive_md_t *) : NULL;
        if (dm && ++run->active > run->max_active) run->max_active = run->active;
        apr_thread_mutex_unlock(run->lock);
        if (!dm) break;
        apr_pool_create(&p, NULL);     /* a root pool of its own: drives never share an allocator */
        drive_one(run->ctx, dm, run->shared, p);
        apr_pool_destroy(p);
        apr_thread_mutex_lock(run->lock);
        run->active--;
        apr_thread_mutex_unlock(run->lock);
    }
    return NULL;
}

/* Drive the due MDs with up to DRIVE_WORKERS_MAX threads sharing one ACME client per CA; the watchdog thread
 * waits for them. */
static void drive_due(drive_ctx_t *ctx, apr_array_header_t *due)
{
    apr_thread_t *threads[DRIVE_WORKERS_MAX];
    apr_pool_t *shared_pool, *tpool;
    apr_status_t rv, trv;
    drive_run_t run;
    int i, n = 0;

    memset(&run, 0, sizeof(run));
    run.ctx = ctx;
    run.due = due;
    /* pools whose allocator locks (children of APR's global pool): the threads end in their own pools */
    apr_pool_create(&tpool, NULL);
    apr_thread_mutex_create(&run.lock, APR_THREAD_MUTEX_DEFAULT, tpool);
    apr_pool_create(&shared_pool, NULL);      /* allocated from under the shared object's own lock */
    run.shared = md_drive_shared_make(shared_pool);
    for (i = 0; i < due->nelts && i < DRIVE_WORKERS_MAX; ++i) {
        rv = apr_thread_create(&threads[n], NULL, drive_worker, &run, tpool);
        if (rv == APR_SUCCESS) ++n;
        else ap_log_error(APLOG_MARK, APLOG_WARNING, rv, ctx->s, "cannot start a renewal worker thread");
    }
    if (n == 0) drive_worker(NULL, &run);     /* no thread: drive them here, one after another */
    for (i = 0; i < n; ++i) apr_thread_join(&trv, threads[i]);
    apr_pool_destroy(shared_pool);
    apr_pool_destroy(tpool);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s, "renewal watchdog: %d MDs looked at by %d workers, at most "
                 "%d at the same time", due->nelts, n ? n : 1, run.max_active);
}

static apr_status_t drive_callback(int state, void *baton, apr_pool_t *ptemp)
{
    drive_ctx_t *ctx = baton;
    apr_array_header_t *due;
    apr_time_t now, wake = 0;
    drive_md_t *dm;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING) return APR_SUCCESS;
    due = apr_array_make(ptemp, ctx->mds->nelts + 1, sizeof(drive_md_t *));
    now = apr_time_now();
    for (i = 0; i < ctx->mds->nelts; ++i) {
        dm = &APR_ARRAY_IDX(ctx->mds, i, drive_md_t);
        if (dm->next <= now) APR_ARRAY_PUSH(due, drive_md_t *) = dm;
    }
    if (due->nelts) drive_due(ctx, due);
    for (i = 0; i < ctx->mds->nelts; ++i) {
        dm = &APR_ARRAY_IDX(ctx->mds, i, drive_md_t);
        if (!wake || dm->next < wake) wake = dm->next;
    }
    now = apr_time_now();
    wake = wake ? wake - now : ctx->mc->check_interval;
    if (wake < MIN_INTERVAL) wake = MIN_INTERVAL;
    wd_set_interval(ctx->wd, wake, ctx, drive_callback);
    return APR_SUCCESS;
}

static drive_ctx_t *ctx_make(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf)
{
    drive_ctx_t *ctx = apr_pcalloc(pconf, sizeof(*ctx));
    const md_managed_t *m;
    drive_md_t *dm;
    int i;

    ctx->s = s;
    ctx->mc = mc;
    ctx->ev.s = s;
    ctx->ev.mc = mc;
    ctx->mds = apr_array_make(pconf, mc->mds->nelts + 1, sizeof(drive_md_t));
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (m->cert_files->nelts || m->md->renew_mode == MD_RENEW_MANUAL) continue;
        if (m->md->renew_mode == MD_RENEW_AUTO && m->servers->nelts == 0) continue;
        dm = &APR_ARRAY_PUSH(ctx->mds, drive_md_t);
        dm->m = m;
        dm->next = 0;
        dm->staged = 0;
    }
    return ctx;
}

apr_status_t md_httpd_drive_register(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf)
{
    drive_ctx_t *ctx = ctx_make(s, mc, pconf);
    /* mod_watchdog runs a callback whose interval has passed at its next 100 ms slice: without MDInitialDelay
     * the first drive starts right after the watchdog thread does */
    apr_interval_time_t delay = mc->initial_delay > 0 ? mc->initial_delay : apr_time_from_msec(1);
    apr_status_t rv;

    if (ctx->mds->nelts == 0) return APR_SUCCESS;
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    wd_set_interval = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_set_callback_interval);
    if (!wd_get_instance || !wd_register_callback || !wd_set_interval) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "mod_watchdog is not loaded: certificates are not renewed "
                     "automatically");
        return APR_SUCCESS;
    }
    rv = wd_get_instance(&ctx->wd, WD_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS) rv = wd_register_callback(ctx->wd, delay, ctx, drive_callback);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "cannot register the renewal watchdog");
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "renewal watchdog for %d MDs, first run in %" APR_TIME_T_FMT
                 " ms", ctx->mds->nelts, apr_time_as_msec(delay));
    return APR_SUCCESS;
}
