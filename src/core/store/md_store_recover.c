/* Recovery of the file store: finish interrupted activations, clear leftovers in tmp/ for all names, and remove
 * the temporary files of writers that were killed mid-write (md_store_sweep.c). */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "md_file.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs_int.h"

/* Names with an activation in progress: staging/NAME/.activation exists. */
static apr_status_t add_staged(apr_hash_t *names, md_store_t *store, apr_pool_t *p)
{
    const char *dir = md_store_fs__group_dir(store, MD_SG_STAGING, p);
    apr_array_header_t *entries = NULL;
    apr_status_t rv;
    int i;

    rv = md_store_fs__list_dir(&entries, dir, NULL, 0, p);
    if (APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
    for (i = 0; rv == APR_SUCCESS && i < entries->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(entries, i, const char *);
        if (md_file_is(md_file_join(p, dir, name, MD_STORE_ACT_ID, NULL), APR_REG, p) == APR_SUCCESS) {
            apr_hash_set(names, name, APR_HASH_KEY_STRING, name);
        }
    }
    return rv;
}

/* Names with directories of an activation in tmp/ (NAME.new, NAME.ready, ...); NAME.GROUP.purge leftovers
 * of md_store_purge are removed right away. */
static apr_status_t scan_tmp(apr_hash_t *names, md_store_t *store, apr_pool_t *p)
{
    static const char *const suffixes[] = MD_STORE_ACT_SUFFIXES;
    const char *dir = md_store_fs__group_dir(store, MD_SG_TMP, p);
    apr_array_header_t *entries = NULL;
    apr_size_t len, slen, j;
    apr_status_t rv;
    int i;

    rv = md_store_fs__list_dir(&entries, dir, NULL, 1, p);
    if (APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
    for (i = 0; rv == APR_SUCCESS && i < entries->nelts; ++i) {
        const char *entry = APR_ARRAY_IDX(entries, i, const char *);
        len = strlen(entry);
        if (len > 6 && !strcmp(entry + len - 6, ".purge")) {
            rv = md_file_rm_rf(md_file_join(p, dir, entry, NULL), p);
            continue;
        }
        for (j = 0; j < sizeof(suffixes) / sizeof(suffixes[0]); ++j) {
            slen = strlen(suffixes[j]);
            if (len > slen && !strcmp(entry + len - slen, suffixes[j])) {
                const char *name = apr_pstrndup(p, entry, len - slen);
                if (md_store_fs__check_name(name) == APR_SUCCESS) {
                    apr_hash_set(names, name, APR_HASH_KEY_STRING, name);
                }
                break;
            }
        }
    }
    return rv;
}

static apr_status_t recover_all(md_store_t *store, md_result_t *result, apr_pool_t *p)
{
    apr_hash_t *names = apr_hash_make(p);
    apr_hash_index_t *hi;
    apr_status_t rv, rv2;

    rv = add_staged(names, store, p);
    if (rv == APR_SUCCESS) rv = scan_tmp(names, store, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "recovering %s: cannot scan staging/ and tmp/", store->base);
        return rv;
    }
    for (hi = apr_hash_first(p, names); hi; hi = apr_hash_next(hi)) {
        const char *name = apr_hash_this_key(hi);
        /* go on with the other names; report the first failure */
        rv2 = md_store_fs__recover_name(store, name, (rv == APR_SUCCESS) ? result : NULL, p);
        if (rv == APR_SUCCESS) rv = rv2;
    }
    return rv;
}

apr_status_t md_store_recover(md_store_t *store, md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv;
    int fd = -1;

    rv = md_store_fs__lock(&fd, store);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "recovering %s: cannot lock the store", store->base);
        return rv;
    }
    rv = recover_all(store, result, p);
    md_store_fs__sweep(store, p);
    md_store_fs__unlock(fd);
    return rv;
}
