/* The file store's values: load and save text, JSON, certificates and keys; remove; list names and aspects. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_json.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs_int.h"

static apr_status_t read_file(char **pdata, apr_size_t *plen, const char *fpath, md_result_t *result,
                              apr_pool_t *p)
{
    char buf[256];
    apr_status_t rv = md_file_read(pdata, plen, fpath, p);

    if (APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_ENOTDIR(rv)) return APR_ENOENT;  /* not an error to report */
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "%s: cannot read: %s", fpath, apr_strerror(rv, buf, sizeof(buf)));
    }
    return rv;
}

apr_status_t md_store_fs__load_pkey(md_pkey_t **ppkey, const md_store_t *store, const char *fpath,
                                    md_result_t *result, apr_pool_t *p)
{
    const char *err = NULL;
    char *data;
    apr_size_t len;
    apr_status_t rv;

    rv = read_file(&data, &len, fpath, result, p);
    if (rv != APR_SUCCESS) goto leave;
    *ppkey = md_store_fs__cache_get_pkey(store->cache, data, len, p);
    if (*ppkey) goto leave;
    /* the store key opens encrypted keys; OpenSSL does not ask for it with plain ones */
    rv = md_pkey_from_pem(ppkey, data, len, store->key, store->key_len, &err, p);
    if (rv == APR_SUCCESS) md_store_fs__cache_put_pkey(store->cache, data, len, *ppkey);
    if (rv != APR_SUCCESS) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "%s: not a usable private key: %s", fpath, err ? err : "bad data");
    }
leave:
    return rv;
}

apr_status_t md_store_pkey_fload(md_pkey_t **ppkey, md_store_t *store, const char *fpath, md_result_t *result,
                                 apr_pool_t *p)
{
    apr_status_t rv = md_store_fs__load_pkey(ppkey, store, fpath, result, p);

    if (rv == APR_ENOENT) md_result_printf(result, rv, "%s: no such file", fpath);
    return rv;
}

apr_status_t md_store_fs__load_chain(apr_array_header_t **pchain, const md_store_t *store, const char *fpath,
                                     md_result_t *result, apr_pool_t *p)
{
    const char *err = NULL;
    char *data;
    apr_size_t len;
    apr_status_t rv;

    rv = read_file(&data, &len, fpath, result, p);
    if (rv != APR_SUCCESS) goto leave;
    *pchain = md_store_fs__cache_get_chain(store->cache, data, len, p);
    if (*pchain) goto leave;
    rv = md_cert_chain_from_pem(pchain, data, len, &err, p);
    if (rv == APR_SUCCESS) md_store_fs__cache_put_chain(store->cache, data, len, *pchain);
    if (rv == APR_SUCCESS && (*pchain)->nelts == 0) {
        rv = APR_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "%s: not a certificate chain: %s", fpath,
                         err ? err : "no certificate in the file");
    }
leave:
    return rv;
}

static apr_status_t load_as(void **pvalue, md_store_t *store, const char *fpath, md_store_vtype_t vtype,
                            md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *chain = NULL;
    md_json_t *json = NULL;
    md_pkey_t *pkey = NULL;
    char *data;
    apr_size_t len;
    apr_status_t rv;

    switch (vtype) {
    case MD_SV_TEXT:
        rv = read_file(&data, &len, fpath, result, p);
        if (rv == APR_SUCCESS) *pvalue = data;
        return rv;
    case MD_SV_JSON:
        rv = read_file(&data, &len, fpath, result, p);
        if (rv == APR_SUCCESS) rv = md_json_readd(&json, data, len, fpath, result, p);
        if (rv == APR_SUCCESS) *pvalue = json;
        return rv;
    case MD_SV_CERT:
    case MD_SV_CHAIN:
        rv = md_store_fs__load_chain(&chain, store, fpath, result, p);
        if (rv == APR_SUCCESS) *pvalue = (vtype == MD_SV_CHAIN) ? (void *)chain
                                         : (void *)APR_ARRAY_IDX(chain, 0, md_cert_t *);
        return rv;
    case MD_SV_PKEY:
        rv = md_store_fs__load_pkey(&pkey, store, fpath, result, p);
        if (rv == APR_SUCCESS) *pvalue = pkey;
        return rv;
    }
    md_result_printf(result, APR_EINVAL, "%s: unknown value type %d", fpath, (int)vtype);
    return APR_EINVAL;
}

apr_status_t md_store_load(void **pvalue, md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, md_store_vtype_t vtype, md_result_t *result, apr_pool_t *p)
{
    const char *fpath;
    apr_status_t rv;

    *pvalue = NULL;
    rv = md_store_fs__path(&fpath, store, group, name, aspect, p);
    if (rv != APR_SUCCESS || !aspect) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "store: invalid name '%s' or aspect '%s'", name ? name : "",
                         aspect ? aspect : "");
        goto leave;
    }
    rv = load_as(pvalue, store, fpath, vtype, result, p);
leave:
    return rv;
}

static apr_status_t serialize(const char **pdata, apr_size_t *plen, md_store_t *store,
                              md_store_group_t group, md_store_vtype_t vtype, const void *value,
                              apr_pool_t *p)
{
    apr_array_header_t *chain;
    int enc = md_store_fs__encrypts_keys(group);

    switch (vtype) {
    case MD_SV_TEXT:
        *pdata = value;
        *plen = strlen(value);
        return APR_SUCCESS;
    case MD_SV_JSON:
        *pdata = md_json_writep(value, MD_JSON_FMT_INDENT, p);
        *plen = *pdata ? strlen(*pdata) : 0;
        return *pdata ? APR_SUCCESS : APR_EINVAL;
    case MD_SV_CERT:
        chain = apr_array_make(p, 1, sizeof(md_cert_t *));
        APR_ARRAY_PUSH(chain, const md_cert_t *) = value;
        return md_cert_chain_to_pem(pdata, plen, chain, p);
    case MD_SV_CHAIN:
        return md_cert_chain_to_pem(pdata, plen, value, p);
    case MD_SV_PKEY:
        return md_pkey_to_pem(pdata, plen, value, enc ? store->key : NULL, enc ? store->key_len : 0, p);
    }
    return APR_EINVAL;
}

/* True when fpath holds exactly data already, as a regular file of this process's user with mode perms: writing
 * it again would only cost a new inode and the old one's removal. durable: it is flushed (cheap when it is). */
static int unchanged(const char *fpath, const char *data, apr_size_t len, apr_fileperms_t perms, int durable)
{
    char buf[4096];
    struct stat st;
    ssize_t n;
    int fd = open(fpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), same;

    if (fd < 0) return 0;
    same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (apr_size_t)st.st_size == len
           && (st.st_mode & 07777) == (mode_t)perms && st.st_uid == geteuid() && len <= sizeof(buf)
           && (n = read(fd, buf, sizeof(buf))) >= 0 && (apr_size_t)n == len && !memcmp(buf, data, len)
           && (!durable || md_file_fsync(fd, fpath) == 0);
    close(fd);
    return same;
}

static apr_status_t save(md_store_t *store, md_store_group_t group, const char *name, const char *aspect,
                         md_store_vtype_t vtype, const void *value, int create_only, int flush, md_result_t *result,
                         apr_pool_t *p)
{
    const char *fpath, *gdir, *dir, *data = NULL;
    apr_size_t len = 0;
    apr_fileperms_t perms;
    struct stat st;
    apr_status_t rv;
    int nosync, created = 0;

    rv = md_store_fs__path(&fpath, store, group, name, aspect, p);
    if (rv != APR_SUCCESS || !aspect || !value) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "store: invalid name '%s', aspect '%s' or value", name ? name : "",
                         aspect ? aspect : "");
        goto leave;
    }
    if (create_only && lstat(fpath, &st) == 0) {
        rv = APR_EEXIST;
        goto leave;
    }
    gdir = dir = md_store_fs__group_dir(store, group, p);
    if (name) {
        dir = md_file_join(p, dir, name, NULL);
        rv = md_store_fs__mkdir(dir, md_store_fs__dir_perms(group), &created, p);
        if (rv != APR_SUCCESS) {
            md_result_printf(result, rv, "%s: cannot create the directory", dir);
            goto leave;
        }
    }
    rv = serialize(&data, &len, store, group, vtype, value, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "%s: cannot serialize the value (type %d)", fpath, (int)vtype);
        goto leave;
    }
    /* read back soon: keep the decoded value */
    if (vtype == MD_SV_PKEY) md_store_fs__cache_put_pkey(store->cache, data, len, value);
    if (vtype == MD_SV_CHAIN) md_store_fs__cache_put_chain(store->cache, data, len, value);
    perms = (vtype == MD_SV_PKEY) ? MD_FPERMS_SECRET : md_store_fs__file_perms(group);
    /* challenge responses and the caches in ocsp/ are worthless after a crash: not flushed; staging is flushed
     * when a set is complete (md_store_flush); with deferred flushes md_store_sync does it */
    nosync = !flush || group == MD_SG_CHALLENGES || group == MD_SG_OCSP || group == MD_SG_STAGING
             || store->defer_sync;
    /* the same bytes again (md.json at the end of a drive, a job or cache unchanged): nothing to write */
    if (vtype != MD_SV_PKEY && unchanged(fpath, data, len, perms, !nosync)) goto leave;
    if (nosync) {
        rv = md_file_write_atomic_nosync(fpath, data, len, perms, p);
        if (store->defer_sync) store->unsynced = 1;
    }
    else {
        rv = md_file_write_atomic(fpath, data, len, perms, p);
        /* a new domains/NAME (an add, a new account): its entry in domains/ too, or a crash could lose the
         * directory with the file just flushed in it */
        if (rv == APR_SUCCESS && created) rv = md_file_sync_dir(gdir, p);
    }
    if (rv != APR_SUCCESS) md_result_printf(result, rv, "%s: cannot write the file", fpath);
leave:
    return rv;
}

apr_status_t md_store_save(md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, md_store_vtype_t vtype, const void *value,
                           int create_only, md_result_t *result, apr_pool_t *p)
{
    return save(store, group, name, aspect, vtype, value, create_only, 1, result, p);
}

apr_status_t md_store_save_unflushed(md_store_t *store, md_store_group_t group, const char *name,
                                     const char *aspect, md_store_vtype_t vtype, const void *value,
                                     md_result_t *result, apr_pool_t *p)
{
    return save(store, group, name, aspect, vtype, value, 0, 0, result, p);
}

apr_status_t md_store_remove(md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, int force, apr_pool_t *p)
{
    const char *fpath;
    apr_status_t rv;

    rv = md_store_fs__path(&fpath, store, group, name, aspect, p);
    if (rv != APR_SUCCESS || !aspect) return APR_EINVAL;
    if (unlink(fpath) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return force ? APR_SUCCESS : APR_ENOENT;
        return APR_FROM_OS_ERROR(errno);
    }
    return group == MD_SG_CHALLENGES ? APR_SUCCESS : md_store_fs__sync_parent(fpath, p);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

apr_status_t md_store_fs__list_dir(apr_array_header_t **pnames, const char *dir, const char *pattern,
                                   int hidden, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 10, sizeof(const char *));
    struct dirent *de;
    DIR *d;

    *pnames = names;
    d = opendir(dir);
    if (!d) return (errno == ENOENT || errno == ENOTDIR) ? APR_ENOENT : APR_FROM_OS_ERROR(errno);
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (md_store_fs__is_temp_name(de->d_name)) continue;
        if (pattern && fnmatch(pattern, de->d_name, hidden ? 0 : FNM_PERIOD) != 0) continue;
        APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, de->d_name);
    }
    closedir(d);
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), cmp_names);
    return APR_SUCCESS;
}

apr_status_t md_store_list(apr_array_header_t **pnames, md_store_t *store, md_store_group_t group,
                           const char *pattern, apr_pool_t *p)
{
    const char *dir;
    apr_status_t rv;

    *pnames = apr_array_make(p, 0, sizeof(const char *));
    rv = md_store_fs__path(&dir, store, group, NULL, NULL, p);
    if (rv != APR_SUCCESS) return rv;
    return md_store_fs__list_dir(pnames, dir, pattern ? pattern : "*", 0, p);
}

apr_status_t md_store_list_aspects(apr_array_header_t **paspects, md_store_t *store,
                                   md_store_group_t group, const char *name, const char *pattern,
                                   apr_pool_t *p)
{
    const char *dir;
    apr_status_t rv;

    *paspects = apr_array_make(p, 0, sizeof(const char *));
    rv = md_store_fs__path(&dir, store, group, name, NULL, p);
    if (rv != APR_SUCCESS || !name) return APR_EINVAL;
    return md_store_fs__list_dir(paspects, dir, pattern ? pattern : "*", 0, p);
}
