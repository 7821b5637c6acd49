/* The sync's take-over of renamed MDs: a configured MD without domains/NAME takes over the stored MD that no
 * configured MD uses and that has the most of its names, so that its certificates are kept and served. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_store.h"
#include "md_reg_int.h"

typedef struct {
    const char *name;       /* domains/NAME */
    md_t *md;               /* its md.json */
    int taken;
} stored_t;

/* The stored MDs with a readable md.json whose name is no configured MD's. */
static apr_array_header_t *unused_stored(md_reg_t *reg, apr_array_header_t *items, apr_pool_t *p)
{
    apr_array_header_t *names = NULL, *out = apr_array_make(p, 4, sizeof(stored_t *));
    apr_hash_t *used = apr_hash_make(p);
    const char *name;
    stored_t *s;
    md_t *md;
    int i;

    for (i = 0; i < items->nelts; ++i) {
        apr_hash_set(used, APR_ARRAY_IDX(items, i, md_reg_sync_item_t *)->md->name, APR_HASH_KEY_STRING, "");
    }
    if (md_store_list(&names, reg->store, MD_SG_DOMAINS, "*", p) != APR_SUCCESS) return out;
    for (i = 0; i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        md = NULL;
        if (apr_hash_get(used, name, APR_HASH_KEY_STRING)
            || md_load(&md, reg->store, MD_SG_DOMAINS, name, NULL, p) != APR_SUCCESS) continue;
        s = apr_pcalloc(p, sizeof(*s));
        s->name = name;
        s->md = md;
        APR_ARRAY_PUSH(out, stored_t *) = s;
    }
    return out;
}

static int shared_names(const md_t *md, const md_t *stored)
{
    int i, n = 0;

    for (i = 0; i < md->domains->nelts; ++i) {
        if (md_contains(stored, APR_ARRAY_IDX(md->domains, i, const char *))) ++n;
    }
    return n;
}

/* The stored MD not yet taken with the most of md's names (all of them first); of equals the one with the fewest
 * names of its own, then the first by name. NULL when none shares a name. */
static stored_t *best_match(apr_array_header_t *stored, const md_t *md)
{
    stored_t *s, *best = NULL;
    int i, n, best_n = 0;

    for (i = 0; i < stored->nelts; ++i) {
        s = APR_ARRAY_IDX(stored, i, stored_t *);
        if (s->taken) continue;
        n = shared_names(md, s->md);
        if (n > best_n || (n && n == best_n && s->md->domains->nelts < best->md->domains->nelts)) {
            best = s;
            best_n = n;
        }
    }
    return best;
}

/* GROUP/NAME/FILE (job.json, md.json) names NAME, when it is there. */
static void rename_in(md_reg_t *reg, md_store_group_t group, const char *name, const char *file, apr_pool_t *p)
{
    md_json_t *json = NULL;
    const char *was;

    if (md_store_load((void **)&json, reg->store, group, name, file, MD_SV_JSON, NULL, p) != APR_SUCCESS) return;
    was = md_json_gets(json, "name", NULL);
    if (was && !strcmp(was, name)) return;
    md_json_sets(name, json, "name", NULL);
    md_store_save(reg->store, group, name, file, MD_SV_JSON, json, 0, NULL, p);
}

/* staging/OLD, then domains/OLD become NAME's: domains/ last, so that an interruption leaves OLD unused and the next
 * sync takes it over again (staging/NAME is then already in place). */
apr_status_t md_reg__rename(int *pstaged, md_reg_t *reg, const char *old, const char *name, apr_pool_t *p)
{
    apr_status_t rv;

    *pstaged = md_store_exists(reg->store, MD_SG_STAGING, old, NULL, p);
    if (*pstaged) {
        rv = md_store_purge(reg->store, MD_SG_STAGING, name, p);     /* a stray one: NAME has no domains/ */
        if (rv == APR_SUCCESS) rv = md_store_rename(reg->store, MD_SG_STAGING, old, name, p);
        if (rv != APR_SUCCESS) return rv;
    }
    rename_in(reg, MD_SG_STAGING, name, "job.json", p);     /* the job is saved under the name it holds */
    rename_in(reg, MD_SG_STAGING, name, "md.json", p);
    rv = md_store_rename(reg->store, MD_SG_DOMAINS, old, name, p);
    if (rv == APR_SUCCESS) {
        rename_in(reg, MD_SG_DOMAINS, name, "job.json", p);
        rename_in(reg, MD_SG_DOMAINS, name, "md.json", p);   /* read before the sync writes it: it names NAME */
    }
    return rv;
}

void md_reg__take_over(md_reg_t *reg, apr_array_header_t *items, const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    apr_array_header_t *stored = NULL;
    md_reg_sync_item_t *item;
    apr_pool_t *ptemp;
    apr_status_t rv;
    stored_t *s;
    int i, staged;

    apr_pool_create(&ptemp, p);
    for (i = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        if (md_store_exists(reg->store, MD_SG_DOMAINS, item->md->name, NULL, ptemp)) continue;
        if (!stored) stored = unused_stored(reg, items, ptemp);
        if ((s = best_match(stored, item->md)) == NULL) continue;
        s->taken = 1;
        rv = md_reg__rename(&staged, reg, s->name, item->md->name, ptemp);
        if (rv != APR_SUCCESS) {
            md_reg__say(opts, 0, item->md->name, apr_psprintf(ptemp, "cannot take over the stored MD %s (%pm): it "
                                                              "starts without certificates", s->name, &rv));
            continue;
        }
        item->renamed_from = apr_pstrdup(p, s->name);
        md_reg__say(opts, 2, item->md->name, apr_psprintf(ptemp, "took over the stored MD %s, which has %d of its %d "
                                                          "names: domains/%s%s%s renamed", s->name,
                                                          shared_names(item->md, s->md), item->md->domains->nelts,
                                                          s->name, staged ? " and staging/" : "",
                                                          staged ? s->name : ""));
    }
    apr_pool_destroy(ptemp);
}
