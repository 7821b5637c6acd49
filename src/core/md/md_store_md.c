/* Managed domains in the store: md.json loaded (checked against its directory) and saved in one call. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_result.h"

/* What is wrong with an md.json that reads well: its name must be able to name a directory and be the one it is
 * in (a copied or hand-edited file, "../../etc"); NULL when it is fine. */
static const char *name_problem(const md_t *md, const char *dir_name, apr_pool_t *p)
{
    const char *why = md_name_problem(md->name);
    int i;

    if (why) return apr_psprintf(p, "\"name\" '%s' cannot be an MD's name: %s", md->name, why);
    if (strcmp(md->name, dir_name)) {
        return apr_psprintf(p, "\"name\" is '%s', but the file is in the directory of '%s'", md->name, dir_name);
    }
    for (i = 0; i < md->domains->nelts; ++i) {
        const char *d = APR_ARRAY_IDX(md->domains, i, const char *);
        for (const unsigned char *c = (const unsigned char *)d; *c; ++c) {
            if (*c < 0x20 || *c == 0x7f || *c == '/') {
                return apr_psprintf(p, "\"domains\" has a name with a control character or '/' (number %d)", i + 1);
            }
        }
    }
    return NULL;
}

apr_status_t md_load(md_t **pmd, md_store_t *store, md_store_group_t group, const char *name,
                     md_result_t *result, apr_pool_t *p)
{
    md_result_t *inner = md_result_make(p);
    const char *fname = NULL, *why;
    void *json = NULL;
    md_t *md = NULL;
    apr_status_t rv;

    *pmd = NULL;
    rv = md_store_load(&json, store, group, name, "md.json", MD_SV_JSON, inner, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        if (md_store_exists(store, group, name, NULL, p)) {     /* the MD's directory without it */
            md_store_get_fname(&fname, store, group, name, "md.json", p);
            md_result_printf(result, rv, "%s is missing", fname ? fname : "md.json");
        }
        else {
            md_result_printf(result, rv, "no managed domain '%s' in %s", name, md_store_base_dir(store));
        }
        return rv;
    }
    if (rv != APR_SUCCESS) {
        md_result_assign(result, inner);    /* names the file already */
        return rv;
    }
    md_store_get_fname(&fname, store, group, name, "md.json", p);
    rv = md_from_json(&md, json, inner, p);
    if (rv != APR_SUCCESS) {
        /* "md.json: \"name\" is not a string" becomes "STORE/domains/NAME/md.json: \"name\" ..." */
        why = inner->detail ? inner->detail : "invalid";
        if (!strncmp(why, "md.json: ", 9)) why += 9;
        md_result_printf(result, rv, "%s: %s", fname ? fname : "md.json", why);
        return rv;
    }
    if ((why = name_problem(md, name, p)) != NULL) {
        md_result_printf(result, APR_EINVAL, "%s: %s", fname ? fname : "md.json", why);
        return APR_EINVAL;
    }
    *pmd = md;
    return APR_SUCCESS;
}

apr_status_t md_save(const md_t *md, md_store_t *store, md_store_group_t group, int create_only,
                     md_result_t *result, apr_pool_t *p)
{
    return md_store_save(store, group, md->name, "md.json", MD_SV_JSON, md_to_json(md, p), create_only, result, p);
}

apr_status_t md_save_unflushed(const md_t *md, md_store_t *store, md_store_group_t group, md_result_t *result,
                               apr_pool_t *p)
{
    return md_store_save_unflushed(store, group, md->name, "md.json", MD_SV_JSON, md_to_json(md, p), result, p);
}
