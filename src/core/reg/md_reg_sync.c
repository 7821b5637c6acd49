/* Bringing the store in line with the configured MDs, through the store API: a complete staged set is activated
 * (when MDActivationDelay allows), domains/NAME/md.json follows the configuration but keeps what the store knows
 * (account, CA in use, state), new MDs are written with one flush for all, a restart forgets hard failures. */
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_job.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_time.h"

static void say(const md_reg_sync_opts_t *opts, int level, const char *name, const char *msg)
{
    if (opts->log) opts->log(opts->log_baton, level, name, msg);
}

/* True when staging/NAME holds a certificate and key for every key type of the MD (a finished renewal). */
static int staged_complete(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    int i;

    if (!md_store_exists(store, MD_SG_STAGING, md->name, NULL, p)) return 0;
    for (i = 0; i < md->pks->nelts; ++i) {
        if (!md_store_exists(store, MD_SG_STAGING, md->name, md_cert_aspect(md, i, p), p)
            || !md_store_exists(store, MD_SG_STAGING, md->name, md_pkey_aspect(md, i, p), p)) return 0;
    }
    return 1;
}

/* The latest notBefore of the staged certificates (0 when one cannot be read: activation then reports it). */
static apr_time_t staged_not_before(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *chain;
    apr_time_t latest = 0, t;
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        if (md_store_load((void **)&chain, store, MD_SG_STAGING, md->name, md_cert_aspect(md, i, p), MD_SV_CHAIN,
                          NULL, p) != APR_SUCCESS || chain->nelts < 1) return 0;
        t = md_cert_get_not_before(APR_ARRAY_IDX(chain, 0, const md_cert_t *));
        if (t > latest) latest = t;
    }
    return latest;
}

/* MDActivationDelay: a staged set is activated once it is valid for at least that long (notBefore + delay has
 * passed; a negative delay activates it that long before notBefore). */
static int activation_due(md_reg_t *reg, const md_t *md, const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    apr_time_t not_before = staged_not_before(reg->store, md, p);

    if (!not_before || md_reg_now(reg) >= not_before + opts->activation_delay) return 1;
    say(opts, 3, md->name, apr_psprintf(p, "renewed certificates stay staged until %s (MDActivationDelay %ld s after "
                                        "their notBefore)", md_time_print_http(not_before + opts->activation_delay, p),
                                        (long)apr_time_sec(opts->activation_delay)));
    return 0;
}

/* A complete staged set becomes the active one, the old one is archived. True when that happened. */
static int activate_staged(md_reg_t *reg, const md_t *md, const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);

    if (!staged_complete(reg->store, md, p) || !activation_due(reg, md, opts, p)) return 0;
    if (md_store_activate(reg->store, md->name, NULL, NULL, result, p) != APR_SUCCESS) {
        say(opts, 0, md->name, apr_pstrcat(p, "staged certificates not activated: ", md_result_text(result, p), NULL));
        return 0;
    }
    say(opts, 2, md->name, "activated the renewed certificates");
    return 1;
}

/* domains/NAME/md.json from the configuration, keeping what the store knows (account, CA in use), with the state
 * of its certificates as mod_md records it; written only when it differs. */
static apr_status_t sync_md(md_reg_t *reg, const md_t *conf_md, const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_t *old = NULL, *md = md_clone(conf_md, p);
    const char *a, *b;
    int i;

    md_reg_state_record(reg, md, p);
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
        say(opts, 0, md->name, apr_pstrcat(p, "cannot save its md.json: ", md_result_text(result, p), NULL));
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
    apr_pool_t *ptemp;
    apr_status_t rv = APR_SUCCESS;
    int i;

    apr_pool_create(&ptemp, p);
    for (i = 0; i < items->nelts; ++i) {        /* activations flush as they go: they must survive a crash */
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        apr_pool_clear(ptemp);
        item->activated = activate_staged(reg, item->md, opts, ptemp);
        if (opts->restart) unblock(reg, item->md, ptemp);
    }
    md_store_defer_sync(reg->store, 1);         /* md.json files can be written again: one flush for all */
    for (i = 0; i < items->nelts && rv == APR_SUCCESS; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        apr_pool_clear(ptemp);
        rv = sync_md(reg, item->md, opts, ptemp);
        if (rv != APR_SUCCESS) md_result_printf(result, rv, "%s: cannot save its md.json", item->md->name);
    }
    if (md_store_sync(reg->store) != APR_SUCCESS && rv == APR_SUCCESS) {
        rv = APR_EGENERAL;
        md_result_printf(result, rv, "%s: cannot flush the new md.json files", md_store_base_dir(reg->store));
    }
    apr_pool_destroy(ptemp);
    return rv;
}
