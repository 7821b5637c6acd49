/* Bringing the store in line with the configured MDs, through the store API: a renamed MD takes over its stored set,
 * a finished staged set is activated (when MDActivationDelay allows) or, when it cannot be used, removed,
 * domains/NAME/md.json follows the configuration but keeps what the store knows (account, CA in use, state), new
 * MDs are written with one flush for all, a restart forgets hard failures, challenges/ of no MD are removed; an MD
 * complete and unchanged since the last sync is taken from the memo (md_reg_sync_memo.c). */
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_job.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_reg_live.h"
#include "md_reg_int.h"

void md_reg__say(const md_reg_sync_opts_t *opts, int level, const char *name, const char *msg)
{
    if (opts->log) opts->log(opts->log_baton, level, name, msg);
}

/* domains/NAME/md.json from the configuration, keeping what the store knows (account, CA in use), with the state
 * of its certificates as mod_md records it; written only when it differs. */
static apr_status_t sync_md(md_reg_t *reg, const md_t *conf_md, const apr_array_header_t *cert_files,
                            const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_t *old = NULL, *md = md_clone(conf_md, p);
    const char *a, *b;
    int i;

    md_reg_state_record(reg, md, cert_files, p);
    if (md_load(&old, reg->store, MD_SG_DOMAINS, md->name, result, p) == APR_SUCCESS) {
        md->ca_account = old->ca_account;
        for (i = 0; old->ca_effective && i < md->ca_urls->nelts; ++i) {
            if (!strcmp(APR_ARRAY_IDX(md->ca_urls, i, const char *), old->ca_effective)) {
                md->ca_effective = old->ca_effective;
            }
        }
        a = md_json_writep(md_to_json(old, p), MD_JSON_FMT_COMPACT, p);
        b = md_json_writep(md_to_json(md, p), MD_JSON_FMT_COMPACT, p);
        if (a && b && !strcmp(a, b)) return APR_SUCCESS;
    }
    if (md_save(md, reg->store, MD_SG_DOMAINS, 0, result, p) != APR_SUCCESS) {
        md_reg__say(opts, 0, md->name, apr_pstrcat(p, "cannot save its md.json: ", md_result_text(result, p), NULL));
        return result->status;
    }
    return APR_SUCCESS;
}

/* After a restart a renewal that failed so that a human had to act is tried again. */
static void unblock(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    md_job_t *job = NULL;

    if (!md_store_exists(reg->store, MD_SG_STAGING, md->name, "job.json", p)
        || md_job_load(&job, reg->store, MD_SG_STAGING, md->name, NULL, p) != APR_SUCCESS
        || !md_json_has_key(job->state, "blocked", NULL)) return;
    md_json_del(job->state, "blocked", NULL);
    job->next_run = 0;
    md_job_save(job, reg->store, MD_SG_STAGING, NULL, p);
}

apr_status_t md_reg_sync(md_reg_t *reg, apr_array_header_t *items, const md_reg_sync_opts_t *opts,
                         md_result_t *result, apr_pool_t *p)
{
    md_reg_sync_item_t *item;
    md_reg_memo_t *memo;
    apr_pool_t *ptemp;
    apr_status_t rv = APR_SUCCESS;
    int i;

    apr_pool_create(&ptemp, p);
    md_reg__take_over(reg, items, opts, p);     /* renames flush as they go */
    md_reg_activate(reg, items, opts, p);       /* in batches that share their flushes */
    for (i = 0; i < items->nelts && opts->restart; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        apr_pool_clear(ptemp);
        unblock(reg, item->md, ptemp);
    }
    md_store_defer_sync(reg->store, 1);         /* md.json files can be written again: one flush for all */
    memo = opts->state_opts ? md_reg__memo_read(reg, p) : NULL;
    for (i = 0; i < items->nelts && rv == APR_SUCCESS; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        apr_pool_clear(ptemp);
        item->state = NULL;
        item->from_memo = 0;
        if (memo && !item->cert_files && md_reg__memo_hit(memo, reg, item->md, opts->state_opts, ptemp)) {
            item->from_memo = 1;                /* complete and unchanged: its md.json is as it would be written */
            continue;
        }
        rv = sync_md(reg, item->md, item->cert_files, opts, ptemp);
        if (rv != APR_SUCCESS) md_result_printf(result, rv, "%s: cannot save its md.json", item->md->name);
        /* right after md.json's state: the certificates just decoded are still in the store's cache (a second pass
         * over 1000 MDs would decode every one of them again) */
        else if (opts->state_opts && !item->cert_files) {
            item->state = md_reg_state(reg, item->md, opts->state_opts, p);
            if (memo) md_reg__memo_note(memo, reg, item->md, opts->state_opts, item->state, ptemp);
        }
    }
    if (md_store_sync(reg->store) != APR_SUCCESS && rv == APR_SUCCESS) {
        rv = APR_EGENERAL;
        md_result_printf(result, rv, "%s: cannot flush the new md.json files", md_store_base_dir(reg->store));
    }
    apr_pool_clear(ptemp);
    if (memo && rv == APR_SUCCESS) md_reg__memo_write(memo, reg, ptemp);
    apr_pool_clear(ptemp);
    md_reg__purge_unused_challenges(reg, items, opts, ptemp);
    apr_pool_destroy(ptemp);
    return rv;
}
