/* Bench tool: what httpd's parent does with the staged sets of a store in one look, timed: md_reg_activate of every
 * MD in staging/ (under leases, as the monitor), then each activated set read and made JSON as for the children. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "md.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_reg_live.h"
#include "md_result.h"
#include "md_store.h"

/*
 * store_activate STORE
 * Activates every staged set of STORE as the httpd parent's monitor does (md_reg_activate, MDActivationDelay 0, the
 * default lease), then reads each active set and makes it JSON as the parent does for its children. Prints
 * "activate N of M: wall S s, cpu S s" and "publish N: wall S s, cpu S s" (user + sys of this process).
 */

static void say(void *baton, int level, const char *name, const char *msg)
{
    (void)baton;
    if (level < 2) fprintf(stderr, "%s: %s\n", name, msg);
}

static double cpu_now(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Every MD staged in the store, from its staged md.json. */
static apr_array_header_t *staged_items(md_store_t *store, apr_pool_t *p)
{
    apr_array_header_t *names = NULL, *items = apr_array_make(p, 16, sizeof(md_reg_sync_item_t *));
    md_reg_sync_item_t *item;
    md_json_t *json;
    md_t *md;
    int i;

    if (md_store_list(&names, store, MD_SG_STAGING, "*", p) != APR_SUCCESS) return items;
    for (i = 0; i < names->nelts; ++i) {
        if (md_store_load((void **)&json, store, MD_SG_STAGING, APR_ARRAY_IDX(names, i, const char *), "md.json",
                          MD_SV_JSON, NULL, p) != APR_SUCCESS
            || md_from_json(&md, json, NULL, p) != APR_SUCCESS) continue;
        item = apr_pcalloc(p, sizeof(*item));
        item->md = md;
        APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
    }
    return items;
}

int main(int argc, char **argv)
{
    md_reg_sync_opts_t opts = { 0, 0, say, NULL, 0, NULL };
    md_reg_sync_item_t *item;
    md_reg_live_set_t *set;
    apr_array_header_t *items;
    md_store_t *store = NULL;
    md_reg_t *reg;
    apr_pool_t *p, *q;
    apr_time_t t;
    double c;
    int i, n = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: store_activate STORE\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    if (md_store_fs_open(&store, argv[1], md_result_make(p), p) != APR_SUCCESS) {
        fprintf(stderr, "cannot open the store %s\n", argv[1]);
        return 1;
    }
    items = staged_items(store, p);
    reg = md_reg_make(store, NULL, p);
    c = cpu_now();
    t = apr_time_now();
    md_reg_activate(reg, items, &opts, p);
    for (i = 0; i < items->nelts; ++i) n += APR_ARRAY_IDX(items, i, md_reg_sync_item_t *)->activated;
    printf("activate %d of %d: wall %.3f s, cpu %.3f s\n", n, items->nelts, (double)(apr_time_now() - t) / 1e6,
           cpu_now() - c);
    apr_pool_create(&q, p);
    c = cpu_now();
    t = apr_time_now();
    for (i = n = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        apr_pool_clear(q);
        md_reg_live_active_id(reg, item->md, q);
        if (md_reg_live_load(&set, reg, item->md, MD_SG_DOMAINS, 0, md_result_make(q), q) == APR_SUCCESS
            && md_json_writep(md_reg_live_to_json(set, q), MD_JSON_FMT_COMPACT, q)) ++n;
    }
    printf("publish %d: wall %.3f s, cpu %.3f s\n", n, (double)(apr_time_now() - t) / 1e6, cpu_now() - c);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
