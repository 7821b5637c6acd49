/* Managed domains in the store: md.json loaded and saved in one call. */
#include "md.h"
#include "md_result.h"

apr_status_t md_load(md_t **pmd, md_store_t *store, md_store_group_t group, const char *name,
                     md_result_t *result, apr_pool_t *p)
{
    void *json = NULL;
    apr_status_t rv;

    rv = md_store_load(&json, store, group, name, "md.json", MD_SV_JSON, result, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        md_result_printf(result, rv, "no managed domain '%s' in %s", name, md_store_base_dir(store));
    }
    if (rv != APR_SUCCESS) return rv;
    return md_from_json(pmd, json, result, p);
}

apr_status_t md_save(const md_t *md, md_store_t *store, md_store_group_t group, int create_only,
                     md_result_t *result, apr_pool_t *p)
{
    return md_store_save(store, group, md->name, "md.json", MD_SV_JSON, md_to_json(md, p), create_only, result, p);
}
