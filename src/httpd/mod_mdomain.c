/* mod_mdomain: the module record and its hooks; startup checks the configuration and prepares the store, never asks a CA. */
#include <string.h>

#include <apr_file_info.h>
#include <malloc.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>

#include "md_exec.h"
#include "md_config.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

/* Our module's name: core's LogLevel finds a module by this name, so "LogLevel md:info" (as mod_md's
 * documentation recommends) sets our level. The log tag comes from the symbol: [mdomain:info]. */
#define MD_MODULE_NAME "md"
/* mod_md's name (its __FILE__) */
#define MOD_MD_NAME "mod_md.c"

/* mod_md (Debian's mod_md.so, module md_module) when it is loaded too, or NULL. */
static const module *mod_md_loaded(void)
{
    const module *m;

    for (m = ap_top_module; m; m = m->next) {
        if (m != &mdomain_module && m->name && !strcmp(m->name, MOD_MD_NAME)) return m;
    }
    return NULL;
}

/* MDStoreDir may not exist yet (it is made when first needed), but it must not be something else. */
static const char *check_store_dir(const md_mod_conf_t *mc, apr_pool_t *p)
{
    apr_finfo_t finfo;
    apr_status_t rv;
    char buf[256];

    rv = apr_stat(&finfo, mc->store_dir, APR_FINFO_TYPE, p);
    if (rv == APR_SUCCESS && finfo.filetype == APR_DIR) return NULL;
    if (rv == APR_SUCCESS) {
        return apr_psprintf(p, "MDStoreDir '%s' exists and is not a directory", mc->store_dir);
    }
    if (APR_STATUS_IS_ENOENT(rv)) return NULL;
    return apr_psprintf(p, "MDStoreDir '%s' cannot be used: %s", mc->store_dir, apr_strerror(rv, buf, sizeof(buf)));
}

/* Runs at every configuration read, also for `apachectl -t`, before post_config. */
static int md_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    const char *err = NULL;

    if (mod_md_loaded()) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "mod_mdomain cannot run together with mod_md: md_module "
                     "(mod_md.so) is loaded too. mod_mdomain replaces mod_md with the same directives and store: "
                     "on Debian run 'a2dismod md && a2enmod mdomain && systemctl reload apache2'; elsewhere remove "
                     "the 'LoadModule md_module ...' line and keep 'LoadModule mdomain_module ...'");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (md_config_assemble(&err, s, pconf) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    err = check_store_dir(mc, ptemp);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* A warning when the program of an MD...Cmd directive cannot be run. */
/* A warning at startup when a program a directive names cannot be run (a bare name is looked up in PATH, as when it
 * runs; whether the User may run it is checked by its first call). */
static void check_program(server_rec *s, const char *directive, const char *program, apr_pool_t *p)
{
    if (!program || md_exec_find(program, p)) return;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "%s: the program '%s' does not exist or is not executable%s",
                 directive, program, strchr(program, '/') ? "" : " (not found in PATH)");
}

static const char *first_word(const char *line, apr_pool_t *p)
{
    char **argv = NULL;

    if (!line || apr_tokenize_to_argv(line, &argv, p) != APR_SUCCESS || !argv) return NULL;
    return argv[0];
}

static void warn_about(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p)
{
    const md_managed_t *m;
    int i;

    for (i = 0; i < mc->warnings->nelts; ++i) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "%s", APR_ARRAY_IDX(mc->warnings, i, const char *));
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (m->servers->nelts == 0) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD %s (defined at %s:%u) matches no virtual host: "
                         "no ServerName%s is one of its names", m->md->name, m->conf->file ? m->conf->file : "?",
                         m->conf->line, mc->match_servernames ? "" : " or ServerAlias");
        }
        check_program(s, "MDChallengeDns01", first_word(m->md->dns01_cmd, p), p);
        if (m->md->event_handler->nelts) {
            check_program(s, "MDEventHandler", APR_ARRAY_IDX(m->md->event_handler, 0, const char *), p);
        }
    }
    if (mc->message_cmd) check_program(s, "MDMessageCmd", APR_ARRAY_IDX(mc->message_cmd, 0, const char *), p);
    if (mc->notify_cmd) check_program(s, "MDNotifyCmd", APR_ARRAY_IDX(mc->notify_cmd, 0, const char *), p);
}

static const char *strs_join(const apr_array_header_t *a, apr_pool_t *p)
{
    return a->nelts ? apr_array_pstrcat(p, a, ' ') : "-";
}

static const char *servers_text(const apr_array_header_t *servers, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, servers->nelts + 1, sizeof(const char *));
    const server_rec *vs;
    apr_port_t port;
    int i;

    for (i = 0; i < servers->nelts; ++i) {
        vs = APR_ARRAY_IDX(servers, i, const server_rec *);
        port = vs->port ? vs->port : (vs->addrs ? vs->addrs->host_port : 0);
        APR_ARRAY_PUSH(names, const char *) = apr_psprintf(p, "%s%s:%d", vs->is_virtual ? "" : "(base)",
                                                           vs->server_hostname, (int)port);
    }
    return strs_join(names, p);
}

/* One debug line per MD: what the configuration made of it. */
static void log_mds(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p)
{
    const md_managed_t *m;
    apr_array_header_t *keys;
    int i, j;

    for (i = 0; i < mc->mds->nelts && APLOGdebug(s); ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        keys = apr_array_make(p, 2, sizeof(const char *));
        for (j = 0; j < m->md->pks->nelts; ++j) {
            APR_ARRAY_PUSH(keys, const char *) = md_pkey_spec_label(APR_ARRAY_IDX(m->md->pks, j, md_pkey_spec_t *));
        }
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "MD %s: names=[%s] servers=[%s] renew-mode=%d transitive=%d "
                     "ca=[%s] keys=[%s] contacts=[%s] renew-window=%s warn-window=%s require-https=%d "
                     "static=%d acme-tls/1=[%s]", m->md->name, strs_join(m->md->domains, p), servers_text(m->servers, p),
                     (int)m->md->renew_mode, m->md->transitive, strs_join(m->md->ca_urls, p), strs_join(keys, p),
                     strs_join(m->md->contacts, p), md_timeslice_print(m->md->renew_window, p),
                     md_timeslice_print(m->md->warn_window, p), m->require_https, m->cert_files->nelts,
                     strs_join(m->md->acme_tls_1, p));
    }
}

/* The store (sync, activation) and the fallbacks for mod_ssl, under MDStoreLocks' lock; the second pass at startup
 * takes what the first one did (store_memo.c). A debug line says how long it took. */
static int prepare_store(server_rec *s, md_mod_conf_t *mc, int first_pass, apr_pool_t *ptemp_httpd)
{
    apr_time_t start = apr_time_now();
    apr_allocator_t *allocator = NULL;
    apr_pool_t *ptemp = NULL;
    apr_status_t rv;
    int lock;

    if (!first_pass && md_httpd_startup_recall(s, mc, ptemp_httpd)) return OK;
    /* the work with 1000 MDs (every md.json, certificate and key read) in a pool of its own allocator: its memory
     * goes back to malloc, and from there to the system, before httpd forks its children, instead of staying in
     * the free lists of httpd's allocator, where every child would inherit it */
    if (apr_allocator_create(&allocator) != APR_SUCCESS
        || apr_pool_create_ex(&ptemp, ptemp_httpd, NULL, allocator) != APR_SUCCESS) {
        if (allocator) apr_allocator_destroy(allocator);
        allocator = NULL;
        ptemp = ptemp_httpd;
    }
    else {
        apr_allocator_owner_set(allocator, ptemp);
    }
    lock = md_httpd_store_lock(s, mc, ptemp);
    rv = md_httpd_store_setup(s, mc, ptemp);
    if (rv == APR_SUCCESS) rv = md_httpd_fallbacks_setup(s, mc, ptemp);
    md_httpd_store_unlock(lock);
    if (rv == APR_SUCCESS && first_pass) md_httpd_startup_remember(s, mc, ptemp);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "store and fallbacks for %d MDs: %ld ms", mc->mds->nelts,
                 (long)apr_time_as_msec(apr_time_now() - start));
    if (allocator) {
        apr_pool_destroy(ptemp);        /* and its allocator with it */
        malloc_trim(0);
    }
    return rv == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static int md_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;

    /* the first of the two configuration passes at startup: mod_ssl loads certificates in it too, so the store
     * and the fallbacks are prepared, but nothing is logged and no watchdog registered */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        if (mc->mds->nelts == 0) return OK;
        md_httpd_reach_detect(s, mc, 0, ptemp);
        md_httpd_acme_tls_names(mc);
        if (prepare_store(s, mc, 1, ptemp) != OK) return HTTP_INTERNAL_SERVER_ERROR;
        return md_httpd_ocsp_setup(s, mc, pconf) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "mod_mdomain (v%s): %d managed domains, store %s", MD_VERSION,
                 mc->mds->nelts, mc->store_dir);
    md_httpd_reach_detect(s, mc, 1, ptemp);
    md_httpd_acme_tls_names(mc);
    log_mds(s, mc, ptemp);
    warn_about(s, mc, ptemp);
    md_httpd_tlsalpn01_warn(s, mc, ptemp);
    md_httpd_challenges_check(s, mc, ptemp);
    if (mc->mds->nelts == 0) return OK;
    if (prepare_store(s, mc, 0, ptemp) != OK) return HTTP_INTERNAL_SERVER_ERROR;
    if (md_httpd_ocsp_setup(s, mc, pconf) != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
    md_httpd_live_setup(s, mc, pconf);          /* without it, what the start loaded is served (logged) */
    if (md_httpd_drive_register(s, mc, pconf) != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    /* before mod_ssl's post_config, which asks for the certificate files */
    static const char *const before_ssl[] = { "mod_ssl.c", NULL };

    ap_hook_check_config(md_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(md_post_config, NULL, before_ssl, APR_HOOK_MIDDLE);
    md_httpd_certs_hooks();
    md_httpd_live_hooks();
    md_httpd_monitor_hooks();
    md_httpd_child_end_hooks();
    md_httpd_gate_hooks();
    md_httpd_challenge_hooks();
    md_httpd_challenge_tls_hooks();
    md_httpd_redirect_hooks();
    md_httpd_events_hooks();
    md_httpd_cert_status_hooks();
    md_httpd_metrics_hooks();
    md_httpd_status_hooks();
    md_httpd_ocsp_hooks();
}

/* The only symbol the .so exports (LoadModule mdomain_module .../mod_mdomain.so). */
__attribute__((visibility("default")))
module AP_MODULE_DECLARE_DATA mdomain_module = {
    MODULE_MAGIC_NUMBER_MAJOR,
    MODULE_MAGIC_NUMBER_MINOR,
    -1,
    MD_MODULE_NAME,
    NULL,
    NULL,
    MODULE_MAGIC_COOKIE,
    NULL,
    NULL,                   /* create per-directory config */
    NULL,                   /* merge per-directory config */
    md_config_create_srv,
    md_config_merge_srv,
    md_config_cmds,
    register_hooks,
    AP_MODULE_FLAG_ALWAYS_MERGE,   /* every virtual host gets its own config (its own MDs), as with mod_md */
};
