/* The file store: opening (layout, md_store.json and its key), group paths and modes, locking, file info. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <openssl/rand.h>

#include "md_encode.h"
#include "md_file.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs_int.h"

#define MD_STORE_FNAME "md_store.json"

static const char *const group_names[MD_SG_COUNT] = {
    "", "accounts", "challenges", "domains", "staging", "archive", "tmp", "ocsp",
};

/* Directory modes as mod_md makes them. The store directory itself is 0755. */
static const apr_fileperms_t group_dir_perms[MD_SG_COUNT] = {
    0755, 0750, 0750, 0700, 0755, 0700, 0700, 0750,
};

const char *md_store_group_name(md_store_group_t group)
{
    if ((int)group < 0 || group >= MD_SG_COUNT) return "";
    return group_names[group];
}

const char *md_store_base_dir(const md_store_t *store)
{
    return store->base;
}

void md_store_set_reader_group(md_store_t *store, long gid)
{
    store->reader_gid = gid;
}

void md_store_defer_sync(md_store_t *store, int defer)
{
    store->defer_sync = defer;
}

apr_status_t md_store_sync(md_store_t *store)
{
    apr_status_t rv;

    store->defer_sync = 0;
    if (!store->unsynced) return APR_SUCCESS;
    rv = md_file_syncfs(store->base);
    if (rv == APR_SUCCESS) store->unsynced = 0;
    return rv;
}

apr_status_t md_store_flush(md_store_t *store, md_store_group_t group, const char *name, apr_pool_t *p)
{
    const char *dir;
    apr_status_t rv;

    rv = md_store_fs__path(&dir, store, group, name, NULL, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_file_sync_files(dir, p);
    return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
}

apr_fileperms_t md_store_fs__dir_perms(md_store_group_t group)
{
    if ((int)group < 0 || group >= MD_SG_COUNT) return 0700;
    return group_dir_perms[group];
}

apr_fileperms_t md_store_fs__file_perms(md_store_group_t group)
{
    /* files: the directory's mode without the search bits; top-level files (md_store.json) are secret */
    if (group == MD_SG_NONE) return MD_FPERMS_SECRET;
    return md_store_fs__dir_perms(group) & 0666;
}

int md_store_fs__encrypts_keys(md_store_group_t group)
{
    /* challenges/ as mod_md: its throwaway tls-alpn-01 keys are read by any server on the store */
    return group != MD_SG_DOMAINS && group != MD_SG_ARCHIVE && group != MD_SG_TMP && group != MD_SG_CHALLENGES;
}

int md_store_fs__is_key_name(const char *aspect)
{
    return fnmatch("privkey.pem", aspect, 0) == 0 || fnmatch("privkey.*.pem", aspect, 0) == 0;
}

int md_store_fs__is_temp_name(const char *fname)
{
    return fnmatch(".*.tmp.??????", fname, 0) == 0 || fnmatch(".*.tmp.*.??????", fname, 0) == 0;
}

apr_status_t md_store_fs__check_name(const char *s)
{
    if (!s || !*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..")) return APR_EINVAL;
    return APR_SUCCESS;
}

const char *md_store_fs__group_dir(const md_store_t *store, md_store_group_t group, apr_pool_t *p)
{
    if (group == MD_SG_NONE) return store->base;
    return md_file_join(p, store->base, md_store_group_name(group), NULL);
}

apr_status_t md_store_fs__path(const char **ppath, const md_store_t *store, md_store_group_t group,
                               const char *name, const char *aspect, apr_pool_t *p)
{
    const char *path;

    *ppath = NULL;
    if ((int)group < 0 || group >= MD_SG_COUNT) return APR_EINVAL;
    if (name && md_store_fs__check_name(name) != APR_SUCCESS) return APR_EINVAL;
    if (aspect && md_store_fs__check_name(aspect) != APR_SUCCESS) return APR_EINVAL;
    path = md_store_fs__group_dir(store, group, p);
    if (name) path = md_file_join(p, path, name, NULL);
    if (aspect) path = md_file_join(p, path, aspect, NULL);
    *ppath = path;
    return APR_SUCCESS;
}

apr_status_t md_store_fs__mkdir(const char *path, apr_fileperms_t perms, int *pcreated, apr_pool_t *p)
{
    struct stat st;

    (void)p;
    if (pcreated) *pcreated = 0;
    if (stat(path, &st) == 0) return S_ISDIR(st.st_mode) ? APR_SUCCESS : APR_ENOTDIR;  /* mostly there already */
    if (mkdir(path, (mode_t)perms) == 0) {
        if (pcreated) *pcreated = 1;
        /* mkdir's mode passes through the umask: set the mode we mean */
        if (chmod(path, (mode_t)perms) != 0) return APR_FROM_OS_ERROR(errno);
        return APR_SUCCESS;
    }
    if (errno != EEXIST) return APR_FROM_OS_ERROR(errno);
    if (stat(path, &st) != 0) return APR_FROM_OS_ERROR(errno);
    return S_ISDIR(st.st_mode) ? APR_SUCCESS : APR_ENOTDIR;
}

apr_status_t md_store_fs__lock(int *pfd, const md_store_t *store)
{
    int fd = open(store->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    *pfd = -1;
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        /* file systems without flock: go on unlocked rather than not at all */
        if (errno == ENOLCK || errno == EOPNOTSUPP || errno == EINVAL) break;
        close(fd);
        return APR_FROM_OS_ERROR(errno);
    }
    *pfd = fd;
    return APR_SUCCESS;
}

void md_store_fs__unlock(int fd)
{
    if (fd >= 0) close(fd);   /* closing the descriptor releases the flock */
}

/* Read md_store.json: version 3.0 and a 48-byte key. Any problem is an error; the file is not touched. */
static apr_status_t read_store_json(md_store_t *store, const char *fpath, md_result_t *result, apr_pool_t *p)
{
    md_json_t *json = NULL;
    const char *b64;
    unsigned char *key = NULL;
    apr_size_t key_len = 0;
    double version;
    apr_status_t rv;

    rv = md_json_readf(&json, fpath, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = APR_EINVAL;
    version = md_json_getn(json, "store", "version", NULL);
    if (version <= 0) {
        md_result_printf(result, rv, "%s: no store version (\"store\": {\"version\": ...})", fpath);
        goto leave;
    }
    if (version != MD_STORE_VERSION) {
        md_result_printf(result, rv, "%s: store version %.1f is not supported (only %.1f)", fpath,
                         version, MD_STORE_VERSION);
        goto leave;
    }
    b64 = md_json_gets(json, "key", NULL);
    if (!b64 || md_b64url_decode(&key, &key_len, b64, store->p) != APR_SUCCESS
        || key_len != MD_STORE_KEY_LEN) {
        md_result_printf(result, rv, "%s: the \"key\" is missing or not %d bytes of base64url", fpath,
                         MD_STORE_KEY_LEN);
        goto leave;
    }
    store->key = key;
    store->key_len = key_len;
    rv = APR_SUCCESS;
leave:
    return rv;
}

static apr_status_t create_store_json(md_store_t *store, const char *fpath, md_result_t *result,
                                      apr_pool_t *p)
{
    unsigned char *key = apr_palloc(store->p, MD_STORE_KEY_LEN);
    md_json_t *json = md_json_create(p);
    apr_status_t rv = APR_EGENERAL;

    if (RAND_bytes(key, MD_STORE_KEY_LEN) != 1) {
        md_result_set(result, rv, "no random bytes for the store key");
        goto leave;
    }
    rv = md_json_setn(MD_STORE_VERSION, json, "store", "version", NULL);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_json_sets(md_b64url_encode(key, MD_STORE_KEY_LEN, p), json, "key", NULL);
    if (rv != APR_SUCCESS) goto leave;
    /* as mod_md 2.6.10 writes it: indented by two spaces, no final newline */
    rv = md_json_writef(json, MD_JSON_FMT_INDENT, fpath, MD_FPERMS_SECRET, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "%s: cannot write the store file", fpath);
        goto leave;
    }
    store->key = key;
    store->key_len = MD_STORE_KEY_LEN;
leave:
    return rv;
}

static apr_status_t setup_layout(md_store_t *store, md_result_t *result, apr_pool_t *p)
{
    const char *fpath = md_file_join(p, store->base, MD_STORE_FNAME, NULL), *enc;
    struct stat st;
    apr_status_t rv;
    int g, err;

    err = lstat(fpath, &st) == 0 ? 0 : errno;
    if (!err) rv = read_store_json(store, fpath, result, p);
    else if (err == ENOENT && (enc = md_store_fs__encrypted_file(store, p)) != NULL) {
        rv = APR_ENOENT;        /* a new key would leave these unreadable: the accounts silently lost */
        md_result_printf(result, rv, "%s is missing, but the store holds keys encrypted with the key it had (%s): "
                         "restore md_store.json from a backup; or, to give up the accounts, move %s and %s out of "
                         "%s (the certificates and keys in domains/ are not encrypted and stay in use, new accounts "
                         "are registered); see docs/store.md, \"A lost store key\"", fpath, enc,
                         md_store_fs__group_dir(store, MD_SG_ACCOUNTS, p),
                         md_store_fs__group_dir(store, MD_SG_STAGING, p), store->base);
    }
    else if (err == ENOENT) rv = create_store_json(store, fpath, result, p);
    else {
        rv = APR_FROM_OS_ERROR(err);
        md_result_printf(result, rv, "%s: cannot access the store file", fpath);
    }
    if (rv != APR_SUCCESS) goto leave;
    for (g = MD_SG_NONE + 1; g < MD_SG_COUNT; ++g) {
        const char *dir = md_store_fs__group_dir(store, (md_store_group_t)g, p);
        rv = md_store_fs__mkdir(dir, md_store_fs__dir_perms((md_store_group_t)g), NULL, p);
        if (rv != APR_SUCCESS) {
            md_result_printf(result, rv, "%s: cannot create the store directory", dir);
            goto leave;
        }
    }
leave:
    return rv;
}

apr_status_t md_store_fs_open(md_store_t **pstore, const char *path, md_result_t *result, apr_pool_t *p)
{
    md_store_t *store = apr_pcalloc(p, sizeof(*store));
    const char *env = getenv(MD_STORE_ENV_NO_EXCHANGE);
    apr_status_t rv;
    int fd = -1;

    *pstore = NULL;
    store->p = p;
    store->base = apr_pstrdup(p, path);
    store->no_exchange = (env && !strcmp(env, "1"));
    store->cache = md_store_fs__cache_make(p);
    store->reader_gid = -1;
    rv = md_file_is(path, APR_DIR, p);
    if (rv != APR_SUCCESS) {
        rv = md_file_mkdirs(path, MD_DPERMS_PUBLIC, p);
        if (rv == APR_SUCCESS && chmod(path, MD_DPERMS_PUBLIC) != 0) rv = APR_FROM_OS_ERROR(errno);
        if (rv != APR_SUCCESS) {
            md_result_printf(result, rv, "%s: cannot create the store directory", path);
            goto leave;
        }
    }
    rv = md_store_fs__lock(&fd, store);   /* two processes creating a store must not make two keys */
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "%s: cannot lock the store directory", path);
        goto leave;
    }
    rv = setup_layout(store, result, p);
    md_store_fs__unlock(fd);
    if (rv != APR_SUCCESS) goto leave;
    md_store_fs__writers_watch(store);
    rv = md_store_recover(store, result, p);
    /* an invalid staged set stays where it is and is reported again when activated */
    if (rv == APR_EINVAL) {
        md_result_reset(result);
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) goto leave;
    *pstore = store;
leave:
    return rv;
}

apr_status_t md_store_get_fname(const char **pfname, md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p)
{
    return md_store_fs__path(pfname, store, group, name, aspect, p);
}

int md_store_exists(md_store_t *store, md_store_group_t group, const char *name, const char *aspect,
                    apr_pool_t *p)
{
    const char *path;
    struct stat st;

    if (md_store_fs__path(&path, store, group, name, aspect, p) != APR_SUCCESS) return 0;
    return stat(path, &st) == 0;
}

apr_time_t md_store_get_modified(md_store_t *store, md_store_group_t group, const char *name,
                                 const char *aspect, apr_pool_t *p)
{
    const char *path;
    apr_finfo_t info;

    if (md_store_fs__path(&path, store, group, name, aspect, p) != APR_SUCCESS) return 0;
    if (apr_stat(&info, path, APR_FINFO_MTIME, p) != APR_SUCCESS) return 0;
    return info.mtime;
}
