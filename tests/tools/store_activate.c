/* Bench tool: what httpd's parent does with the staged sets of a store in one look, timed: md_reg_activate of every
 * MD in staging/ (under leases, as the monitor), and each activated set read and made JSON as for the children. */
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
 * store_activate STORE [CHUNK]
 * Activates every staged set of STORE as the httpd parent's monitor does (md_reg_activate, MDActivationDelay 0, the
 * default lease) and reads each active set and makes it JSON as the parent does for its children: CHUNK sets at a
 * time, each chunk's published right after its activation (the monitor since issue 16: 32), or with CHUNK 0 all
 * activated first, then all published (the monitor before). Prints "activate N of M: wall S s, cpu S s",
 * "publish N: wall S s, cpu S s" (user + sys of this process) and "total: wall S s, cpu S s".
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

/* Each activated item of items[from, to) read from domains/ and made JSON; returns how many. */
static int publish(md_reg_t *reg, apr_array_header_t *items, int from, int to, apr_pool_t *p)
{
    md_reg_sync_item_t *item;
    md_reg_live_set_t *set;
    apr_pool_t *q;
    int i, n = 0;

    apr_pool_create(&q, p);
    for (i = from; i < to; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        if (!item->activated) continue;
        apr_pool_clear(q);
        md_reg_live_active_id(reg, item->md, q);
        if (md_reg_live_load(&set, reg, item->md, MD_SG_DOMAINS, 0, md_result_make(q), q) == APR_SUCCESS
            && md_json_writep(md_reg_live_to_json(set, q), MD_JSON_FMT_COMPACT, q)) ++n;
    }
    apr_pool_destroy(q);
    return n;
}

int main(int argc, char **argv)
{
    md_reg_sync_opts_t opts = { 0, 0, say, NULL, 0, NULL };
    apr_array_header_t *items, *chunk;
    md_store_t *store = NULL;
    md_reg_t *reg;
    apr_pool_t *p;
    apr_time_t t, t0;
    double c, c0, act_cpu = 0, pub_cpu = 0;
    apr_interval_time_t act_wall = 0, pub_wall = 0;
    int i, j, n = 0, published = 0, size;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: store_activate STORE [CHUNK]\n");
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
    size = argc == 3 ? atoi(argv[2]) : 0;
    if (size <= 0) size = items->nelts ? items->nelts : 1;
    chunk = apr_array_make(p, size, sizeof(md_reg_sync_item_t *));
    c0 = cpu_now();
    t0 = apr_time_now();
    for (i = 0; i < items->nelts; i += size) {
        apr_array_clear(chunk);
        for (j = i; j < items->nelts && j < i + size; ++j) {
            APR_ARRAY_PUSH(chunk, md_reg_sync_item_t *) = APR_ARRAY_IDX(items, j, md_reg_sync_item_t *);
        }
        c = cpu_now();
        t = apr_time_now();
        md_reg_activate(reg, chunk, &opts, p);
        act_cpu += cpu_now() - c;
        act_wall += apr_time_now() - t;
        c = cpu_now();
        t = apr_time_now();
        published += publish(reg, items, i, j, p);
        pub_cpu += cpu_now() - c;
        pub_wall += apr_time_now() - t;
    }
    for (i = 0; i < items->nelts; ++i) n += APR_ARRAY_IDX(items, i, md_reg_sync_item_t *)->activated;
    printf("activate %d of %d: wall %.3f s, cpu %.3f s\n", n, items->nelts, (double)act_wall / 1e6, act_cpu);
    printf("publish %d: wall %.3f s, cpu %.3f s\n", published, (double)pub_wall / 1e6, pub_cpu);
    printf("total: wall %.3f s, cpu %.3f s\n", (double)(apr_time_now() - t0) / 1e6, cpu_now() - c0);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
