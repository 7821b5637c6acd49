/* OCSP stapling through mod_ssl's hooks (http_ssl.h: ssl_ocsp_prime_hook, ssl_ocsp_get_resp_hook) and the watchdog
 * task that renews the responses and checks CRLs; the registry (md_reg_ocsp.h) decides everything. */
#include <string.h>

#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_ssl.h>
#include <mod_watchdog.h>

#include "md_reg_ocsp.h"
#include "md_result.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define MIN_INTERVAL apr_time_from_msec(200)
#define MAX_INTERVAL apr_time_from_sec(3600)

typedef struct {
    server_rec *s;
    md_mod_conf_t *mc;
    md_reg_t *reg;
    md_events_t events;
    md_reg_renew_t rn;
    md_reg_ocsp_opts_t opts;
    ap_watchdog_t *wd;
    int primed;                      /* certificates in the set at the last pass */
} ocsp_ctx_t;

static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register_callback;
static ocsp_ctx_t *task;              /* this generation's watchdog task (md_httpd_ocsp_poke) */
static APR_OPTIONAL_FN_TYPE(ap_watchdog_set_callback_interval) *wd_set_interval;

/* Whether certificates of server s are stapled, and as whose: *pmd the server's one MD with MDStapling on, else
 * NULL for "other" (MDStapling and MDStapleOthers on for the server). */
static int staple_here(const md_managed_t **pm, server_rec *s)
{
    md_srv_conf_t *sc = md_config_get(s);
    const md_managed_t *m;

    *pm = NULL;
    if (!sc || !sc->mc->ocsp) return 0;
    if (sc->mds && sc->mds->nelts == 1) {
        m = APR_ARRAY_IDX(sc->mds, 0, const md_managed_t *);
        if (m->stapling) {
            *pm = m;
            return 1;
        }
    }
    return sc->settings && sc->settings->stapling > 0 && sc->mc->staple_others;
}

static int ocsp_prime(server_rec *s, apr_pool_t *p, const char *id, apr_size_t id_len, const char *pem)
{
    const md_managed_t *m = NULL;
    md_mod_conf_t *mc = md_config_get(s)->mc;
    const char *why = NULL;
    apr_status_t rv;
    int announce = ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG;

    if (!staple_here(&m, s)) return DECLINED;
    rv = md_reg_ocsp_prime(&why, mc->ocsp, m ? m->md : NULL, id, id_len, pem, p);
    if (rv == APR_SUCCESS) {
        if (announce) ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "OCSP stapling for a certificate of %s",
                                   m ? m->md->name : "no MD (MDStapleOthers)");
        return OK;
    }
    if (announce) {
        ap_log_error(APLOG_MARK, rv == APR_ENOENT ? APLOG_DEBUG : APLOG_WARNING, 0, s, "no OCSP stapling by "
                     "mod_mdomain for a certificate of %s: %s", m ? m->md->name : s->server_hostname, why);
    }
    return DECLINED;
}

static int ocsp_get_resp(server_rec *s, conn_rec *c, const char *id, apr_size_t id_len, ap_ssl_ocsp_copy_resp *cb,
                         void *userdata)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;

    if (!mc->ocsp) return DECLINED;
    return md_reg_ocsp_get(mc->ocsp, id, id_len, (md_reg_ocsp_copy_cb *)cb, userdata) ? OK : DECLINED;
}

/* Is there anything to staple here: an MD with MDStapling on, or a server with MDStapling and MDStapleOthers? */
static int stapling_wanted(server_rec *base, const md_mod_conf_t *mc)
{
    md_srv_conf_t *sc;
    server_rec *s;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        if (APR_ARRAY_IDX(mc->mds, i, const md_managed_t *)->stapling) return 1;
    }
    if (!mc->staple_others) return 0;
    for (s = base; s; s = s->next) {
        sc = md_config_get(s);
        if (sc && sc->settings && sc->settings->stapling > 0) return 1;
    }
    return 0;
}

/* The set is made whenever there are MDs, even without MDStapling: a certificate switched live (live.c) is stapled
 * by this module when its virtual host staples, also through mod_ssl's SSLUseStapling, which can staple only the
 * certificates it loaded at the start. */
apr_status_t md_httpd_ocsp_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf)
{
    ocsp_ctx_t *ctx;

    mc->ocsp = NULL;
    if (!mc->store || (!stapling_wanted(s, mc) && mc->mds->nelts == 0)) return APR_SUCCESS;
    ctx = apr_pcalloc(pconf, sizeof(*ctx));
    ctx->s = s;
    ctx->mc = mc;
    ctx->reg = md_reg_make(mc->store, NULL, pconf);
    md_httpd_events_init(&ctx->events, &ctx->rn.programs, s, mc);
    ctx->rn.events = &ctx->events;
    ctx->rn.drive.retry_base = mc->retry_delay;
    ctx->opts.renew_window = mc->stapling_renew_window;
    ctx->opts.keep = mc->stapling_keep;
    ctx->opts.retry_base = mc->retry_delay;
    ctx->opts.http.proxy_url = mc->proxy_url;
    ctx->opts.http.proxy_ca_file = mc->proxy_ca_file;
    ctx->opts.rn = &ctx->rn;
    mc->ocsp = md_reg_ocsp_make(ctx->reg, &ctx->opts, pconf);
    return APR_SUCCESS;
}

/* The CRL checks of the watched MDs (MDRevocationCheck); an MD found revoked is renewed now. Each MD's state (its
 * certificates loaded) lives in a pool cleared after it, not all 1000 at once in the watchdog's pool. */
static void crl_pass(ocsp_ctx_t *ctx, apr_pool_t *pwd)
{
    md_result_t *result;
    const md_managed_t *m;
    apr_pool_t *ptemp;
    int i, revoked, checked;

    if (apr_pool_create(&ptemp, pwd) != APR_SUCCESS) return;
    for (i = 0; i < ctx->mc->mds->nelts && !md_httpd_child_ending(); ++i) {
        m = APR_ARRAY_IDX(ctx->mc->mds, i, const md_managed_t *);
        if (!md_reg_is_watched(m->md, m->cert_files->nelts > 0, m->servers->nelts > 0)) continue;
        apr_pool_clear(ptemp);
        result = md_result_make(ptemp);
        revoked = checked = 0;
        if (md_reg_crl_check(&revoked, &checked, ctx->reg, m->md, m->cert_files, &ctx->opts, 0, result, ptemp)
            != APR_SUCCESS || result->status != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ctx->s, "%s: CRL check failed: %s", m->md->name,
                         md_result_text(result, ptemp));
        }
        else if (checked) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s, "%s: CRL checked for %d certificates", m->md->name,
                         checked);
        }
        if (revoked) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ctx->s, "%s: a certificate is revoked: renewing it now",
                         m->md->name);
            md_httpd_drive_poke(ctx->mc, m->md->name);
        }
    }
    apr_pool_destroy(ptemp);
}

static apr_status_t ocsp_callback(int state, void *baton, apr_pool_t *ptemp)
{
    ocsp_ctx_t *ctx = baton;
    apr_array_header_t *revoked = apr_array_make(ptemp, 1, sizeof(const char *));
    apr_time_t next = apr_time_now() + MAX_INTERVAL, now;
    apr_interval_time_t wake;
    const char *name;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING || !md_httpd_child_enter()) return APR_SUCCESS;
    if (ctx->mc->ocsp) {
        ctx->primed = md_reg_ocsp_count(ctx->mc->ocsp);
        next = md_reg_ocsp_renew(ctx->mc->ocsp, revoked, ptemp);
    }
    for (i = 0; i < revoked->nelts; ++i) {
        name = APR_ARRAY_IDX(revoked, i, const char *);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ctx->s, "%s: its certificate is revoked (OCSP): renewing it now",
                     name);
        md_httpd_drive_poke(ctx->mc, name);
    }
    if (ctx->mc->revocation_check) crl_pass(ctx, ptemp);
    now = apr_time_now();
    wake = next - now;
    if (wake < MIN_INTERVAL) wake = MIN_INTERVAL;
    if (wake > MAX_INTERVAL) wake = MAX_INTERVAL;
    ap_log_error(APLOG_MARK, APLOG_TRACE1, 0, ctx->s, "OCSP watchdog: next run in %" APR_TIME_T_FMT " ms",
                 apr_time_as_msec(wake));
    wd_set_interval(ctx->wd, wake, ctx, ocsp_callback);
    md_httpd_child_leave();
    return APR_SUCCESS;
}

apr_status_t md_httpd_ocsp_register(server_rec *s, md_mod_conf_t *mc, int watched, apr_pool_t *pconf)
{
    ocsp_ctx_t *ctx;
    apr_status_t rv;

    task = NULL;                      /* the last generation's is gone with its pool */
    if (!mc->watchdog || (!mc->ocsp && !(mc->revocation_check && watched))) return APR_SUCCESS;
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    wd_set_interval = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_set_callback_interval);
    if (!wd_register_callback || !wd_set_interval) return APR_SUCCESS;
    ctx = apr_pcalloc(pconf, sizeof(*ctx));
    ctx->s = s;
    ctx->mc = mc;
    ctx->wd = mc->watchdog;
    ctx->reg = md_reg_make(mc->store, NULL, pconf);
    md_httpd_events_init(&ctx->events, &ctx->rn.programs, s, mc);
    ctx->rn.events = &ctx->events;
    ctx->rn.drive.retry_base = mc->retry_delay;
    ctx->opts.retry_base = mc->retry_delay;
    ctx->opts.http.proxy_url = mc->proxy_url;
    ctx->opts.http.proxy_ca_file = mc->proxy_ca_file;
    ctx->opts.rn = &ctx->rn;
    rv = wd_register_callback(ctx->wd, apr_time_from_msec(1), ctx, ocsp_callback);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "cannot register the OCSP watchdog");
        return rv;
    }
    task = ctx;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "OCSP watchdog: stapling %s, CRL checks %s",
                 mc->ocsp ? "on" : "off", mc->revocation_check ? "on" : "off");
    return APR_SUCCESS;
}

void md_httpd_ocsp_poke(md_mod_conf_t *mc)
{
    if (!task || task->mc != mc || !mc->ocsp || !wd_set_interval) return;
    if (md_reg_ocsp_count(mc->ocsp) != task->primed) wd_set_interval(task->wd, MIN_INTERVAL, task, ocsp_callback);
}

void md_httpd_ocsp_hooks(void)
{
    ap_hook_ssl_ocsp_prime_hook(ocsp_prime, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_ocsp_get_resp_hook(ocsp_get_resp, NULL, NULL, APR_HOOK_MIDDLE);
}
