/* mdomain apply: the store brought in line with a domains file. Every MD is planned and checked first (added, updated
 * as md_reg_update does, taking over an unlisted stored MD that shares its names, unlisted ones kept or archived);
 * only a plan without problems is carried out, with one flush of the store at the end. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "md.h"
#include "md_conf_file.h"
#include "md_reg.h"
#include "md_reg_update.h"
#include "md_result.h"
#include "md_reg_int.h"

typedef struct {
    md_reg_t *reg;
    apr_pool_t *p;
    apr_hash_t *stored;              /* name -> md_t* (NULL value: md.json unreadable) */
    apr_array_header_t *stored_names;
    apr_hash_t *wanted;              /* name -> md_conf_file_md_t* */
    apr_hash_t *taken;               /* stored names taken over -> the new name */
    apr_array_header_t *problems;    /* const char* */
    apr_array_header_t *empty;       /* no other MDs: apply checks names itself */
} apply_t;

static void problem(apply_t *a, const md_conf_file_md_t *def, const char *fmt, const char *name, const char *text)
{
    const char *msg = apr_psprintf(a->p, fmt, name, text);

    APR_ARRAY_PUSH(a->problems, const char *) = def ? apr_psprintf(a->p, "%s:%u: %s", def->file, def->line, msg) : msg;
}

static const char unreadable[] = "";       /* in a->stored for an MD whose md.json cannot be read */

static void load_stored(apply_t *a)
{
    md_t *md;
    int i;

    a->stored = apr_hash_make(a->p);
    if (md_store_list(&a->stored_names, a->reg->store, MD_SG_DOMAINS, "*", a->p) != APR_SUCCESS) {
        a->stored_names = apr_array_make(a->p, 1, sizeof(const char *));
    }
    for (i = 0; i < a->stored_names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(a->stored_names, i, const char *);
        md = NULL;
        if (md_load(&md, a->reg->store, MD_SG_DOMAINS, name, NULL, a->p) != APR_SUCCESS) md = NULL;
        apr_hash_set(a->stored, name, APR_HASH_KEY_STRING, md ? (const void *)md : (const void *)unreadable);
    }
}

static const md_t *stored_md(apply_t *a, const char *name)
{
    const void *v = apr_hash_get(a->stored, name, APR_HASH_KEY_STRING);

    return (v && v != (const void *)unreadable) ? v : NULL;     /* by address: an md_t's first byte says nothing */
}

static int is_unlisted(apply_t *a, const char *name)
{
    return !apr_hash_get(a->wanted, name, APR_HASH_KEY_STRING) && !apr_hash_get(a->taken, name, APR_HASH_KEY_STRING);
}

/* The unlisted stored MD with the most of md's names (the first of equals), or NULL. */
static const md_t *take_over_candidate(apply_t *a, const md_t *md)
{
    const md_t *best = NULL, *s;
    int i, j, n, best_n = 0;

    for (i = 0; i < a->stored_names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(a->stored_names, i, const char *);
        if (!is_unlisted(a, name) || !(s = stored_md(a, name))) continue;
        for (n = 0, j = 0; j < md->domains->nelts; ++j) n += md_contains(s, APR_ARRAY_IDX(md->domains, j, const char *));
        if (n > best_n) {
            best = s;
            best_n = n;
        }
    }
    return best;
}

/* Plan one MD of the file. */
static md_reg_apply_item_t *plan_md(apply_t *a, const md_conf_file_md_t *def)
{
    md_reg_apply_item_t *item = apr_pcalloc(a->p, sizeof(*item));
    md_result_t *result = md_result_make(a->p);
    md_reg_change_t *ch = md_reg_change_from_md(def->md, a->p), none;
    const md_t *old = NULL;
    md_reg_update_t *upd = NULL;
    const char *err = NULL;
    md_t *md;

    item->name = def->md->name;
    item->where = apr_psprintf(a->p, "%s:%u", def->file, def->line);
    ch->preferred_chain = NULL;     /* what the file cannot say stays */
    ch->account_key = NULL;
    if (!apr_hash_get(a->stored, def->md->name, APR_HASH_KEY_STRING) && (old = take_over_candidate(a, def->md))) {
        item->renamed_from = old->name;
        apr_hash_set(a->taken, old->name, APR_HASH_KEY_STRING, def->md->name);
    }
    if (apr_hash_get(a->stored, def->md->name, APR_HASH_KEY_STRING) || old) {
        if (md_reg_update(&upd, a->reg, old ? old->name : def->md->name, ch, a->empty, 1, result, a->p)
            != APR_SUCCESS) {
            problem(a, def, "MD %s: %s", def->md->name, md_result_text(result, a->p));
            return item;
        }
        upd->md->name = def->md->name;
        item->md = upd->md;
        item->changed = upd->changed;
        item->renew = upd->renew;
        item->action = (upd->changed->nelts || old) ? "update" : "unchanged";
        return item;
    }
    md = md_clone(def->md, a->p);
    md_reg_change_init(&none);
    if (md_reg_change_md(md, &none, &err, a->p) != APR_SUCCESS) {
        problem(a, def, "MD %s: %s", md->name, err);
        return item;
    }
    md_reg_state_record(a->reg, md, NULL, a->p);
    item->md = md;
    item->renew = 1;
    item->action = "add";
    return item;
}

/* A stored MD the file does not list may not keep a name of the file's MDs (unless it is removed). */
static void check_unlisted(apply_t *a, const md_t *s, int prune)
{
    apr_hash_index_t *hi;
    const md_conf_file_md_t *def;
    const char *common;

    if (prune) return;
    for (hi = apr_hash_first(a->p, a->wanted); hi; hi = apr_hash_next(hi)) {
        def = apr_hash_this_val(hi);
        if ((common = md_common_name(def->md, s)) != NULL) {
            problem(a, def, "MD %s: %s", def->md->name, apr_psprintf(a->p, "'%s' belongs to the stored MD %s, which "
                                                                     "the file does not list: list it, or remove it "
                                                                     "(prune)", common, s->name));
        }
    }
}

static apr_status_t carry_out(apply_t *a, apr_array_header_t *items, md_result_t *result)
{
    md_reg_apply_item_t *item;
    apr_status_t rv = APR_SUCCESS;
    int i, staged;

    md_store_defer_sync(a->reg->store, 1);
    for (i = 0; i < items->nelts && rv == APR_SUCCESS; ++i) {      /* removals first: their names become free */
        item = APR_ARRAY_IDX(items, i, md_reg_apply_item_t *);
        if (strcmp(item->action, "remove")) continue;
        rv = md_store_archive(&item->archived_as, a->reg->store, MD_SG_DOMAINS, item->name, a->p);
        if (rv == APR_SUCCESS) md_store_purge(a->reg->store, MD_SG_STAGING, item->name, a->p);
        else md_result_printf(result, rv, "%s: cannot archive it", item->name);
    }
    for (i = 0; i < items->nelts && rv == APR_SUCCESS; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_apply_item_t *);
        if (!strcmp(item->action, "unlisted") || !strcmp(item->action, "remove")) continue;
        if (item->renamed_from) {
            rv = md_reg__rename(&staged, a->reg, item->renamed_from, item->name, a->p);
            if (rv != APR_SUCCESS) {
                md_result_printf(result, rv, "%s: cannot take over the stored MD %s", item->name, item->renamed_from);
                break;
            }
        }
        if (!strcmp(item->action, "unchanged")) continue;
        rv = md_save(item->md, a->reg->store, MD_SG_DOMAINS, !strcmp(item->action, "add"), result, a->p);
        if (rv != APR_SUCCESS) md_result_printf(result, rv, "%s: cannot save its md.json: %s", item->name,
                                                md_result_text(result, a->p));
    }
    if (md_store_sync(a->reg->store) != APR_SUCCESS && rv == APR_SUCCESS) {
        rv = APR_EGENERAL;
        md_result_printf(result, rv, "%s: cannot flush the md.json files", md_store_base_dir(a->reg->store));
    }
    return rv;
}

apr_status_t md_reg_apply(apr_array_header_t **pitems, md_reg_t *reg, const apr_array_header_t *defs, int dry_run,
                          int prune, md_result_t *result, apr_pool_t *p)
{
    apply_t a = { .reg = reg, .p = p };
    apr_array_header_t *items = apr_array_make(p, defs->nelts + 4, sizeof(md_reg_apply_item_t *));
    md_reg_apply_item_t *item;
    const md_conf_file_md_t *def;
    int i;

    *pitems = items;
    a.wanted = apr_hash_make(p);
    a.taken = apr_hash_make(p);
    a.problems = apr_array_make(p, 4, sizeof(const char *));
    a.empty = apr_array_make(p, 1, sizeof(const md_t *));
    load_stored(&a);
    for (i = 0; i < defs->nelts; ++i) {
        def = APR_ARRAY_IDX(defs, i, const md_conf_file_md_t *);
        apr_hash_set(a.wanted, def->md->name, APR_HASH_KEY_STRING, def);
    }
    for (i = 0; i < defs->nelts; ++i) {
        APR_ARRAY_PUSH(items, md_reg_apply_item_t *) = plan_md(&a, APR_ARRAY_IDX(defs, i, const md_conf_file_md_t *));
    }
    for (i = 0; i < a.stored_names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(a.stored_names, i, const char *);
        if (!is_unlisted(&a, name)) continue;
        item = apr_pcalloc(p, sizeof(*item));
        item->name = name;
        item->md = stored_md(&a, name);
        item->action = prune ? "remove" : "unlisted";
        APR_ARRAY_PUSH(items, md_reg_apply_item_t *) = item;
        if (item->md) check_unlisted(&a, item->md, prune);
    }
    if (a.problems->nelts) {
        md_result_set(result, APR_EINVAL, apr_array_pstrcat(p, a.problems, '\n'));
        return APR_EINVAL;
    }
    if (dry_run) return APR_SUCCESS;
    return carry_out(&a, items, result);
}
