/* The file store's directory moves: no-replace renames, archiving to archive/NAME.N, move, rename and purge. */
#define _GNU_SOURCE 1   /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <apr_strings.h>

#include "md_file.h"
#include "md_store.h"
#include "md_store_fs_int.h"

/* Upper bound of archive numbers tried; reaching it means something else is wrong. */
#define MD_ARCHIVE_MAX 100000

static const char *parent_of(const char *path, apr_pool_t *p)
{
    const char *slash = strrchr(path, '/');

    if (!slash) return ".";
    if (slash == path) return "/";
    return apr_pstrndup(p, path, (apr_size_t)(slash - path));
}

apr_status_t md_store_fs__sync_parent(const char *path, apr_pool_t *p)
{
    return md_file_sync_dir(parent_of(path, p), p);
}

static apr_status_t rename_noreplace(const char *from, const char *to)
{
    struct stat st;

#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return APR_SUCCESS;
    if (errno != EINVAL && errno != ENOSYS) return APR_FROM_OS_ERROR(errno);
#endif
    /* without RENAME_NOREPLACE: check, then rename (rename would silently replace an empty directory) */
    if (lstat(to, &st) == 0) return APR_EEXIST;
    if (rename(from, to) != 0) return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

apr_status_t md_store_fs__rename_unflushed(const char *from, const char *to)
{
    return rename_noreplace(from, to);
}

apr_status_t md_store_fs__rename(const char *from, const char *to, apr_pool_t *p)
{
    const char *from_dir = parent_of(from, p), *to_dir = parent_of(to, p);
    apr_status_t rv;

    rv = rename_noreplace(from, to);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_file_sync_dir(to_dir, p);
    if (rv != APR_SUCCESS) goto leave;
    if (strcmp(from_dir, to_dir)) rv = md_file_sync_dir(from_dir, p);
leave:
    return rv;
}

apr_status_t md_store_fs__archive(const char **pdest, md_store_t *store, const char *path,
                                  const char *name, int flush, apr_pool_t *p)
{
    const char *adir = md_store_fs__group_dir(store, MD_SG_ARCHIVE, p), *dest = NULL;
    struct stat st;
    apr_status_t rv = APR_EEXIST;
    int n;

    if (pdest) *pdest = NULL;
    for (n = 1; n < MD_ARCHIVE_MAX && rv == APR_EEXIST; ++n) {
        dest = md_file_join(p, adir, apr_psprintf(p, "%s.%d", name, n), NULL);
        if (lstat(dest, &st) == 0) continue;
        /* EEXIST when another process took the number */
        rv = flush ? md_store_fs__rename(path, dest, p) : md_store_fs__rename_unflushed(path, dest);
    }
    if (rv == APR_SUCCESS && pdest) *pdest = dest;
    return rv;
}

apr_status_t md_store_archive(const char **pdest, md_store_t *store, md_store_group_t group, const char *name,
                              apr_pool_t *p)
{
    const char *path, *dest = NULL;
    struct stat st;
    apr_status_t rv;

    if (pdest) *pdest = NULL;
    if (!name || group == MD_SG_NONE || group == MD_SG_ARCHIVE) return APR_EINVAL;
    rv = md_store_fs__path(&path, store, group, name, NULL, p);
    if (rv != APR_SUCCESS) return rv;
    if (lstat(path, &st) != 0) return APR_ENOENT;
    rv = md_store_fs__archive(&dest, store, path, name, 1, p);
    if (rv == APR_SUCCESS && pdest) *pdest = apr_pstrdup(p, strrchr(dest, '/') + 1);
    return rv;
}

apr_status_t md_store_move(md_store_t *store, md_store_group_t from, md_store_group_t to,
                           const char *name, int archive, apr_pool_t *p)
{
    const char *from_path, *to_path;
    struct stat st;
    apr_status_t rv;

    if (!name || from == MD_SG_NONE || to == MD_SG_NONE) return APR_EINVAL;
    rv = md_store_fs__path(&from_path, store, from, name, NULL, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_store_fs__path(&to_path, store, to, name, NULL, p);
    if (rv != APR_SUCCESS) goto leave;
    if (lstat(from_path, &st) != 0) {
        rv = APR_ENOENT;
        goto leave;
    }
    if (lstat(to_path, &st) == 0) {
        if (!archive) {
            rv = APR_EEXIST;
            goto leave;
        }
        rv = md_store_fs__archive(NULL, store, to_path, name, 1, p);
        if (rv != APR_SUCCESS) goto leave;
    }
    rv = md_store_fs__rename(from_path, to_path, p);
leave:
    return rv;
}

apr_status_t md_store_rename(md_store_t *store, md_store_group_t group, const char *from, const char *to,
                             apr_pool_t *p)
{
    const char *from_path, *to_path;
    struct stat st;
    apr_status_t rv;
    int fd = -1;

    if (!from || !to || group == MD_SG_NONE) return APR_EINVAL;
    rv = md_store_fs__path(&from_path, store, group, from, NULL, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_store_fs__path(&to_path, store, group, to, NULL, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_store_fs__lock(&fd, store);
    if (rv != APR_SUCCESS) return rv;
    if (lstat(from_path, &st) != 0) rv = APR_ENOENT;
    else rv = md_store_fs__rename(from_path, to_path, p);
    md_store_fs__unlock(fd);
    return rv;
}

apr_status_t md_store_purge(md_store_t *store, md_store_group_t group, const char *name, apr_pool_t *p)
{
    const char *path, *gone;
    apr_status_t rv;

    if (!name || group == MD_SG_NONE) return APR_EINVAL;
    rv = md_store_fs__path(&path, store, group, name, NULL, p);
    if (rv != APR_SUCCESS) goto leave;
    if (group != MD_SG_TMP && group != MD_SG_CHALLENGES) {
        /* rename first, so nobody ever sees a half-removed set (e.g. a partial staging/NAME) */
        gone = md_file_join(p, md_store_fs__group_dir(store, MD_SG_TMP, p),
                            apr_pstrcat(p, name, ".", md_store_group_name(group), ".purge", NULL),
                            NULL);
        rv = md_file_rm_rf(gone, p);
        if (rv != APR_SUCCESS) goto leave;
        rv = md_store_fs__rename(path, gone, p);
        if (APR_STATUS_IS_ENOENT(rv)) rv = APR_SUCCESS;
        if (rv != APR_SUCCESS) goto leave;
        path = gone;
    }
    rv = md_file_rm_rf(path, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_store_fs__sync_parent(path, p);
leave:
    return rv;
}
