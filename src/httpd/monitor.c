/* The parent's part of live activation, in httpd's monitor hook (the root parent, about every 10 s): activate what the
 * registry says may be activated, raise "installed", and publish changed active sets to the children (live.c). */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mpm_common.h>

#include "md.h"
#include "md_reg.h"
#include "md_reg_live.h"
#include "md_result.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

/* The registry's messages; what it says at each look while nothing changes (a set waiting for MDActivationDelay or
 * for another process's lease: level 3) only at debug, since the monitor looks every 10 s. */
static void monitor_log(void *baton, int level, const char *md_name, const char *message)
{
    static const int levels[] = { APLOG_ERR, APLOG_WARNING, APLOG_NOTICE, APLOG_DEBUG };

    ap_log_error(APLOG_MARK, levels[level < 0 ? 0 : level > 3 ? 3 : level], 0, (server_rec *)baton, "%s: %s",
                 md_name, message);
}

/* The staged sets the registry activates now, then "installed" for each (as root, as at a start). */
static void activate_staged(server_rec *s, md_mod_conf_t *mc, md_reg_t *reg, apr_pool_t *p)
{
    apr_array_header_t *items = apr_array_make(p, 4, sizeof(md_reg_sync_item_t *));
    md_reg_sync_opts_t opts = { mc->activation_delay, 0, monitor_log, s, mc->store_lease, NULL };
    md_reg_sync_item_t *item;
    md_managed_t *m;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (!md_store_exists(mc->store, MD_SG_STAGING, m->md->name, NULL, p)) continue;
        item = apr_pcalloc(p, sizeof(*item));
        item->md = m->md;
        item->baton = m;
        APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
    }
    if (items->nelts == 0) return;
    md_reg_activate(reg, items, &opts, p);
    for (i = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        if (item->activated) md_httpd_events_installed(s, mc, item->baton, p);
    }
}

/* Each MD whose active files changed since the parent last looked is published to the children. */
static void publish_changed(server_rec *s, md_mod_conf_t *mc, md_reg_t *reg, apr_pool_t *pconf, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_reg_live_set_t *set;
    const char *id;
    md_managed_t *m;
    apr_status_t rv;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (m->cert_files->nelts) continue;                 /* its files are served */
        id = md_reg_live_active_id(reg, m->md, p);
        if (m->live_id && !strcmp(id, m->live_id)) continue;
        md_result_reset(result);
        rv = md_reg_live_load(&set, reg, m->md, MD_SG_DOMAINS, mc->activation_delay, result, p);
        if (rv == APR_SUCCESS) rv = md_httpd_live_publish(mc, m, set, p);
        if (rv == APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "%s: its active certificates are served now (%s)",
                         m->md->name, set->id);
        }
        else if (rv == APR_ENOSPC) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "%s: its certificates are too big to be handed to the "
                         "children: they are served after the next restart", m->md->name);
        }
        else if (rv != APR_ENOENT) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "%s: cannot read its active certificates, trying again: "
                         "%s", m->md->name, md_result_text(result, p));
            continue;
        }
        m->live_id = apr_pstrdup(pconf, id);
    }
}

static int md_monitor(apr_pool_t *pconf, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    md_reg_t *reg;
    apr_pool_t *p;

    if (!mc || !mc->store || !mc->live || mc->mds->nelts == 0) return DECLINED;
    apr_pool_create(&p, pconf);
    reg = md_reg_make(mc->store, NULL, p);
    activate_staged(s, mc, reg, p);
    publish_changed(s, mc, reg, pconf, p);
    apr_pool_destroy(p);
    return DECLINED;
}

void md_httpd_monitor_hooks(void)
{
    ap_hook_monitor(md_monitor, NULL, NULL, APR_HOOK_MIDDLE);
}
