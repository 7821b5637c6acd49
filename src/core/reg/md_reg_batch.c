/* A batch run for servers other than Apache: drive the MDs, then run each reload program once for all MDs renewed
 * in the run (or owed a reload from an earlier one), naming them in MD_RENEWED. */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "md_event.h"
#include "md_reg_renew.h"
#include "md_result.h"

#define RELOAD_TIMEOUT apr_time_from_sec(120)

/* The MDs of one reload program. */
typedef struct {
    const apr_array_header_t *argv;
    apr_array_header_t *items;    /* md_reg_item_t* */
    apr_array_header_t *mds;      /* md_t*, in the same order */
} reload_t;

/* The items that owe their reload program a call, grouped by program (its argv as one key). */
static apr_array_header_t *reloads_of(md_reg_t *reg, apr_array_header_t *items, apr_pool_t *p)
{
    apr_hash_t *by_prog = apr_hash_make(p);
    apr_array_header_t *order = apr_array_make(p, 2, sizeof(reload_t *));
    md_reg_item_t *item;
    reload_t *r;
    const char *key;
    md_t *md;
    int i;

    for (i = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_item_t *);
        if (md_load(&md, reg->store, MD_SG_DOMAINS, item->name, NULL, p) != APR_SUCCESS) continue;
        if (!md->install_reload || !md->install_reload->nelts) continue;
        if (!item->renewed && !md_reg_reload_owed(reg, md, p)) continue;
        key = apr_array_pstrcat(p, md->install_reload, '\x1f');
        r = apr_hash_get(by_prog, key, APR_HASH_KEY_STRING);
        if (!r) {
            r = apr_pcalloc(p, sizeof(*r));
            r->argv = md->install_reload;
            r->items = apr_array_make(p, 4, sizeof(md_reg_item_t *));
            r->mds = apr_array_make(p, 4, sizeof(md_t *));
            apr_hash_set(by_prog, key, APR_HASH_KEY_STRING, r);
            APR_ARRAY_PUSH(order, reload_t *) = r;
        }
        APR_ARRAY_PUSH(r->items, md_reg_item_t *) = item;
        APR_ARRAY_PUSH(r->mds, md_t *) = md;
    }
    return order;
}

/* Run one reload program for its MDs; its verdict goes to each of them. */
static void reload_run(md_reg_t *reg, const md_reg_renew_t *rn, const reload_t *r, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_event_outcome_t outcome = MD_EVENT_NONE;
    apr_table_t *env = apr_table_make(p, 2);
    const char *names = "", *label, *detail;
    md_reg_item_t *item;
    md_events_t ev;
    apr_status_t rv;
    int i;

    if (rn->events) ev = *rn->events;
    else memset(&ev, 0, sizeof(ev));
    ev.store_dir = md_store_base_dir(reg->store);
    for (i = 0; i < r->items->nelts; ++i) {
        item = APR_ARRAY_IDX(r->items, i, md_reg_item_t *);
        names = apr_pstrcat(p, names, i ? " " : "", item->name, NULL);
    }
    apr_table_set(env, "MD_RENEWED", names);
    label = apr_pstrcat(p, "reload program ", APR_ARRAY_IDX(r->argv, 0, const char *), NULL);
    rv = md_event_run(&outcome, &ev, label, r->argv, NULL, "reload", env, RELOAD_TIMEOUT, result, p);
    detail = rv == APR_SUCCESS ? NULL : md_result_text(result, p);
    for (i = 0; i < r->items->nelts; ++i) {
        item = APR_ARRAY_IDX(r->items, i, md_reg_item_t *);
        md_reg_reload_owe(reg, APR_ARRAY_IDX(r->mds, i, md_t *), rv != APR_SUCCESS, p);
        item->reloaded = rv == APR_SUCCESS;
        if (rv == APR_SUCCESS) continue;
        item->reload_detail = detail;
        item->failed = 1;
        if (!item->detail) item->detail = detail;
    }
}

void md_reg_batch(md_reg_run_stats_t *pstats, md_reg_t *reg, const md_reg_renew_t *rn, apr_array_header_t *items,
                  apr_pool_t *p)
{
    apr_array_header_t *reloads;
    int i;

    md_reg_renew_many(pstats, reg, rn, items, p);
    reloads = reloads_of(reg, items, p);
    for (i = 0; i < reloads->nelts; ++i) reload_run(reg, rn, APR_ARRAY_IDX(reloads, i, reload_t *), p);
}
