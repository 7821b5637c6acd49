/* Background renewal: a singleton mod_watchdog task in one child hands the watched MDs (md_reg_is_watched) to the
 * registry's runner (staging only, up to 16 at once, the module's http-01/tls-alpn-01 answerers), after MDInitialDelay,
 * then looks at each MD again at its due, retry or wait time, or after MDCheckInterval +-50%. */
#include <malloc.h>
#include <string.h>

#include <apr_optional.h>
#include <apr_random.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mod_watchdog.h>

#include "md.h"
#include "md_dns.h"
#include "md_drive.h"
#include "md_reg_renew.h"
#include "md_responder.h"
#include "md_result.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define WD_NAME "_mdomain_renew_"
#define MIN_INTERVAL apr_time_from_msec(200)

typedef struct {
    const md_managed_t *m;
    apr_time_t next;       /* when to look at it next */
} drive_md_t;

typedef struct {
    server_rec *s;
    md_mod_conf_t *mc;
    apr_array_header_t *mds;   /* drive_md_t */
    ap_watchdog_t *wd;
    md_events_t events;
    md_reg_reach_t reach;
    md_reg_renew_t rn;
    md_dns_t *dns;             /* MDPreflightDNS's server, NULL: the system's resolver */
} drive_ctx_t;

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

/* After a drive: when to look at the MD again, and the log. */
static void drive_done(drive_ctx_t *ctx, drive_md_t *dm, const md_reg_item_t *item)
{
    apr_time_t now = apr_time_now(), next = item->next;
    const char *name = dm->m->md->name;

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
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ctx->s, "%s: the certificates have been renewed and are ready "
                     "(staged). A graceful server restart now is recommended.", name);
        dm->next = now + jittered(ctx->mc->check_interval);
        if (next > now && next < dm->next) dm->next = next;    /* its renewed message or MDNotifyCmd failed */
        return;
    case MD_DRIVE_WAITING:
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ctx->s, "%s: renewal under way, going on in %" APR_TIME_T_FMT " s",
                     name, apr_time_sec(next > now ? next - now : 0));
        dm->next = next > now ? next : now;
        return;
    case MD_DRIVE_POSTPONED:
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ctx->s, "%s: %s", name, item->detail ? item->detail : "postponed");
        dm->next = next > now ? next : now + ctx->mc->retry_delay;
        return;
    default:
        dm->next = now + jittered(ctx->mc->check_interval);
        if (next > now && next < dm->next) dm->next = next;
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s, "%s: %s, next check in %" APR_TIME_T_FMT " s", name,
                     item->outcome == MD_DRIVE_BACKING_OFF ? "backing off" : "not due", apr_time_sec(dm->next - now));
    }
}

/* A pool with an allocator of its own (NULL when none can be made): what a run over 1000 MDs allocated goes back
 * to the system when it is destroyed (with malloc_trim for the workers' malloc arenas), instead of staying in the
 * watchdog's free lists for the child's lifetime. */
static apr_pool_t *run_pool(apr_pool_t *parent)
{
    apr_allocator_t *allocator = NULL;
    apr_pool_t *p = NULL;

    if (apr_allocator_create(&allocator) != APR_SUCCESS) return NULL;
    if (apr_pool_create_ex(&p, parent, NULL, allocator) != APR_SUCCESS) {
        apr_allocator_destroy(allocator);
        return NULL;
    }
    apr_allocator_owner_set(allocator, p);
    return p;
}

static apr_status_t drive_callback(int state, void *baton, apr_pool_t *ptemp_wd)
{
    drive_ctx_t *ctx = baton;
    apr_array_header_t *items;
    md_reg_run_stats_t stats;
    md_reg_item_t *item;
    apr_time_t now, wake = 0;
    apr_pool_t *ptemp, *own;
    drive_md_t *dm;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING) return APR_SUCCESS;
    own = run_pool(ptemp_wd);
    ptemp = own ? own : ptemp_wd;
    items = apr_array_make(ptemp, ctx->mds->nelts + 1, sizeof(md_reg_item_t *));
    now = apr_time_now();
    for (i = 0; i < ctx->mds->nelts; ++i) {
        dm = &APR_ARRAY_IDX(ctx->mds, i, drive_md_t);
        if (dm->next > now) continue;
        item = apr_pcalloc(ptemp, sizeof(*item));
        item->name = dm->m->md->name;
        item->cert_files = dm->m->cert_files;
        item->flags.unusable = dm->m->set_problem != NULL;     /* the parent found it: the child cannot read keys */
        item->baton = dm;
        APR_ARRAY_PUSH(items, md_reg_item_t *) = item;
    }
    md_reg_renew_many(&stats, md_reg_make(ctx->mc->store, NULL, ptemp), &ctx->rn, items, ptemp);
    if (items->nelts) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s, "renewal watchdog: %d MDs looked at by %d workers, at most "
                     "%d at the same time", items->nelts, stats.workers, stats.max_active);
    }
    for (i = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_item_t *);
        drive_done(ctx, item->baton, item);
    }
    for (i = 0; i < ctx->mds->nelts; ++i) {
        dm = &APR_ARRAY_IDX(ctx->mds, i, drive_md_t);
        if (!wake || dm->next < wake) wake = dm->next;
    }
    now = apr_time_now();
    wake = wake ? wake - now : ctx->mc->check_interval;
    if (wake < MIN_INTERVAL) wake = MIN_INTERVAL;
    wd_set_interval(ctx->wd, wake, ctx, drive_callback);
    if (own) {
        apr_pool_destroy(own);
        malloc_trim(0);
    }
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
