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

/* Sets activated together and then published at once, while the store's cache still holds what their activation
 * decoded (md_store_cache.c: a batch's chains and keys), so publishing them decodes nothing again. */
#define CHUNK 32

/* The MD's active set published to the children when its files changed since the parent last looked. */
static void publish_one(server_rec *s, md_mod_conf_t *mc, md_reg_t *reg, md_managed_t *m, apr_pool_t *pconf,
                        apr_pool_t *p)
{
    md_result_t *result;
    md_reg_live_set_t *set;
    const char *id;
    apr_status_t rv;

    if (m->cert_files->nelts) return;                 /* its files are served */
    id = md_reg_live_active_id(reg, m->md, p);
    if (m->live_id && !strcmp(id, m->live_id)) return;
    result = md_result_make(p);
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
        return;
    }
    m->live_id = apr_pstrdup(pconf, id);
}

/* The staged sets the registry activates now, CHUNK at a time: then "installed" for each (as root, as at a start) and
 * its publication to the children. */
static void activate_staged(server_rec *s, md_mod_conf_t *mc, md_reg_t *reg, apr_pool_t *pconf, apr_pool_t *p)
{
    apr_array_header_t *items = apr_array_make(p, CHUNK, sizeof(md_reg_sync_item_t *));
    md_reg_sync_opts_t opts = { mc->activation_delay, 0, monitor_log, s, mc->store_lease, NULL };
    md_reg_sync_item_t *item;
    apr_pool_t *chunk_p;
    md_managed_t *m;
    int i, j;

    apr_pool_create(&chunk_p, p);
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (md_store_exists(mc->store, MD_SG_STAGING, m->md->name, NULL, chunk_p)) {
            item = apr_pcalloc(p, sizeof(*item));
            item->md = m->md;
            item->baton = m;
            APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
        }
        if (items->nelts < CHUNK && i + 1 < mc->mds->nelts) continue;
        if (items->nelts) md_reg_activate(reg, items, &opts, chunk_p);
        for (j = 0; j < items->nelts; ++j) {
            item = APR_ARRAY_IDX(items, j, md_reg_sync_item_t *);
            if (!item->activated) continue;
            md_httpd_events_installed(s, mc, item->baton, chunk_p);
            publish_one(s, mc, reg, item->baton, pconf, chunk_p);
        }
        apr_array_clear(items);
        apr_pool_clear(chunk_p);
    }
    apr_pool_destroy(chunk_p);
}

/* Each other MD whose active files changed since the parent last looked (another server on the store activated a
 * set) is published to the children. */
static void publish_changed(server_rec *s, md_mod_conf_t *mc, md_reg_t *reg, apr_pool_t *pconf, apr_pool_t *p)
{
    apr_pool_t *ptemp;
    int i;

    apr_pool_create(&ptemp, p);
    for (i = 0; i < mc->mds->nelts; ++i) {
        publish_one(s, mc, reg, APR_ARRAY_IDX(mc->mds, i, md_managed_t *), pconf, ptemp);
        apr_pool_clear(ptemp);
    }
    apr_pool_destroy(ptemp);
}

static int md_monitor(apr_pool_t *pconf, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    md_reg_t *reg;
    apr_pool_t *p;

    if (!mc || !mc->store || !mc->live || mc->mds->nelts == 0) return DECLINED;
    apr_pool_create(&p, pconf);
    reg = md_reg_make(mc->store, NULL, p);
    activate_staged(s, mc, reg, pconf, p);
    publish_changed(s, mc, reg, pconf, p);
    apr_pool_destroy(p);
    return DECLINED;
}

void md_httpd_monitor_hooks(void)
{
    ap_hook_monitor(md_monitor, NULL, NULL, APR_HOOK_MIDDLE);
}
