/* Activation, first half: validate the staged set and build its decrypted copy in tmp/NAME.ready. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs_int.h"

#define KEY_PREFIX  "privkey"
#define CERT_PREFIX "pubcert"
/* mod_md stages the account key of a new account with the set (the drive moves it to accounts/). */
#define ACCOUNT_KEY "account.pem"

void md_store_act__step(md_store_act_t *a, const char *what)
{
    ++a->step;
    if (a->cb) a->cb(a->baton, a->step, what);
}

static int is_cert_name(const char *fname)
{
    return fnmatch(CERT_PREFIX ".pem", fname, 0) == 0 || fnmatch(CERT_PREFIX ".*.pem", fname, 0) == 0;
}

static int has_name(const apr_array_header_t *names, const char *fname)
{
    int i;

    for (i = 0; i < names->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(names, i, const char *), fname)) return 1;
    }
    return 0;
}

/* privkey[.X].pem loads, pubcert[.X].pem loads and its first certificate is for that key. */
static apr_status_t check_pair(md_store_act_t *a, const char *key_name, const apr_array_header_t *names)
{
    const char *cert_name = apr_pstrcat(a->p, CERT_PREFIX, key_name + strlen(KEY_PREFIX), NULL);
    const char *kpath = md_file_join(a->p, a->staging, key_name, NULL);
    const char *cpath = md_file_join(a->p, a->staging, cert_name, NULL);
    apr_array_header_t *chain = NULL;
    md_pkey_t *pkey = NULL;
    apr_status_t rv;

    rv = md_store_fs__load_pkey(&pkey, a->store, kpath, a->result, a->p);
    if (rv != APR_SUCCESS) goto leave;
    if (!has_name(names, cert_name)) {
        rv = APR_EINVAL;
        md_result_printf(a->result, rv, "activating %s: %s has no certificate chain %s", a->name, kpath,
                         cpath);
        goto leave;
    }
    rv = md_store_fs__load_chain(&chain, a->store, cpath, a->result, a->p);
    if (rv != APR_SUCCESS) goto leave;
    if (!md_cert_matches_key(APR_ARRAY_IDX(chain, 0, md_cert_t *), pkey)) {
        rv = APR_EINVAL;
        md_result_printf(a->result, rv, "activating %s: the certificate in %s is not for the key in %s",
                         a->name, cpath, kpath);
    }
leave:
    if (rv != APR_SUCCESS && rv != APR_EINVAL) {
        md_result_printf(a->result, APR_EINVAL, "activating %s: cannot read %s or %s", a->name, kpath, cpath);
        rv = APR_EINVAL;
    }
    return rv;
}

static apr_status_t check_entry(int *pnkeys, md_store_act_t *a, const char *fname,
                                const apr_array_header_t *names)
{
    const char *path = md_file_join(a->p, a->staging, fname, NULL);
    struct stat st;

    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        md_result_printf(a->result, APR_EINVAL, "activating %s: %s is not a regular file", a->name, path);
        return APR_EINVAL;
    }
    if (md_store_fs__is_key_name(fname)) {
        ++*pnkeys;
        return check_pair(a, fname, names);
    }
    if (is_cert_name(fname)
        && !has_name(names, apr_pstrcat(a->p, KEY_PREFIX, fname + strlen(CERT_PREFIX), NULL))) {
        md_result_printf(a->result, APR_EINVAL, "activating %s: %s has no private key next to it",
                         a->name, path);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t md_store_act__validate(md_store_act_t *a)
{
    apr_array_header_t *names = NULL;
    apr_status_t rv;
    int i, nkeys = 0;

    rv = md_store_fs__list_dir(&names, a->staging, NULL, 1, a->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot list %s", a->name, a->staging);
        goto leave;
    }
    for (i = 0; i < names->nelts; ++i) {
        rv = check_entry(&nkeys, a, APR_ARRAY_IDX(names, i, const char *), names);
        if (rv != APR_SUCCESS) goto leave;
    }
    if (nkeys == 0) {
        rv = APR_EINVAL;
        md_result_printf(a->result, rv, "activating %s: %s holds no private key (privkey.pem)", a->name,
                         a->staging);
    }
leave:
    return rv;
}

/* A file of the new set for the store's reader group (keys excepted): 0640 with that group. */
static apr_status_t for_readers(md_store_act_t *a, const char *path, int is_dir)
{
    if (a->store->reader_gid < 0) return APR_SUCCESS;
    if (chown(path, (uid_t)-1, (gid_t)a->store->reader_gid) != 0
        || chmod(path, is_dir ? 0750 : 0640) != 0) return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

/* A new file in tmp/NAME.new: the directory is private until its rename marks the copy complete (and a leftover
 * of an interrupted copy is removed before), so no temporary file and rename per file; flushed together. */
static apr_status_t write_new(const char *dest, const char *data, apr_size_t len)
{
    apr_status_t rv = APR_SUCCESS;
    apr_size_t done = 0;
    ssize_t n;
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, MD_FPERMS_SECRET);

    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    while (rv == APR_SUCCESS && done < len) {
        n = write(fd, data + done, len - done);
        if (n >= 0) done += (apr_size_t)n;
        else if (errno != EINTR) rv = APR_FROM_OS_ERROR(errno);
    }
    /* the mode we mean, not the umask's */
    if (rv == APR_SUCCESS && fchmod(fd, MD_FPERMS_SECRET) != 0) rv = APR_FROM_OS_ERROR(errno);
    if (close(fd) != 0 && rv == APR_SUCCESS) rv = APR_FROM_OS_ERROR(errno);
    if (rv != APR_SUCCESS) unlink(dest);
    return rv;
}

/* A file other than a key into tmp/NAME.new as a second name of the staged file: no new inode, no copy of the
 * bytes (creating inodes is what the file system charges most for). It becomes this process's, mode 0600: the
 * staged name goes away with staging/NAME when the activation ends. 0 when that is not possible here (another
 * file system, or a user who may not take the file over): the caller copies. */
static int link_one(const char *src, const char *dest)
{
    struct stat st;

    if (link(src, dest) != 0) return 0;
    if (lstat(dest, &st) == 0 && S_ISREG(st.st_mode)
        && (st.st_uid == geteuid() || lchown(dest, geteuid(), (gid_t)-1) == 0)
        && (st.st_gid == getegid() || lchown(dest, (uid_t)-1, getegid()) == 0)
        && chmod(dest, MD_FPERMS_SECRET) == 0) {
        return 1;
    }
    unlink(dest);
    return 0;
}

/* A staged key as the unencrypted PKCS#8 PEM domains/ holds. One encrypted with the store key (the check step loaded it
 * under the same lock) is decrypted as it is; any other is decoded and encoded again. */
static apr_status_t key_plain(const char **pdata, apr_size_t *plen, md_store_act_t *a, const char *src)
{
    md_pkey_t *pkey = NULL;
    char *raw = NULL;
    apr_size_t len = 0;
    apr_status_t rv;

    rv = md_file_read(&raw, &len, src, a->p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_pkey_pem_decrypt(pdata, plen, raw, len, a->store->key, a->store->key_len, a->p);
    if (rv == APR_SUCCESS) {
        pkey = md_store_fs__cache_get_pkey(a->store->cache, raw, len, a->p);
    }
    else if (rv == APR_ENOTIMPL) {
        rv = md_store_fs__load_pkey(&pkey, a->store, src, a->result, a->p);
        if (rv == APR_SUCCESS) rv = md_pkey_to_pem(pdata, plen, pkey, NULL, 0, a->p);
    }
    /* the decrypted copy's text finds the key decoded: whoever reads domains/NAME next (the parent's publish to the
     * children right after the activation) does not decode it again */
    if (rv == APR_SUCCESS && pkey) md_store_fs__cache_put_pkey(a->store->cache, *pdata, *plen, pkey);
    return rv;
}

/* One file into tmp/NAME.new, mode 0600 (0640 for the reader group, keys never): keys decrypted, everything else
 * byte for byte (linked, or copied). */
static apr_status_t copy_one(md_store_act_t *a, const char *fname)
{
    const char *src = md_file_join(a->p, a->staging, fname, NULL);
    const char *dest = md_file_join(a->p, a->t_new, fname, NULL);
    const char *data = NULL;
    char *raw = NULL;
    apr_size_t len = 0;
    apr_status_t rv;
    int is_key = md_store_fs__is_key_name(fname) || !strcmp(fname, ACCOUNT_KEY);

    if (!is_key && link_one(src, dest)) {
        rv = for_readers(a, dest, 0);
        if (rv != APR_SUCCESS) md_result_printf(a->result, rv, "activating %s: cannot write %s", a->name, dest);
        return rv;
    }
    if (is_key) {
        rv = key_plain(&data, &len, a, src);
    }
    else {
        rv = md_file_read(&raw, &len, src, a->p);
        data = raw;
    }
    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot read %s", a->name, src);
        goto leave;
    }
    rv = write_new(dest, data, len);
    if (rv == APR_SUCCESS && !is_key) rv = for_readers(a, dest, 0);
    if (rv != APR_SUCCESS) md_result_printf(a->result, rv, "activating %s: cannot write %s", a->name, dest);
leave:
    return rv;
}

apr_status_t md_store_act__build(md_store_act_t *a)
{
    apr_array_header_t *names = NULL;
    apr_status_t rv;
    int i;

    rv = md_file_rm_rf(a->t_new, a->p);   /* a leftover of an interrupted copy */
    if (rv == APR_SUCCESS) rv = md_store_fs__mkdir(a->t_new, md_store_fs__dir_perms(MD_SG_DOMAINS), NULL, a->p);
    if (rv == APR_SUCCESS) rv = for_readers(a, a->t_new, 1);
    if (rv == APR_SUCCESS) rv = md_store_fs__list_dir(&names, a->staging, NULL, 1, a->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot prepare %s", a->name, a->t_new);
        goto leave;
    }
    for (i = 0; i < names->nelts; ++i) {
        const char *fname = APR_ARRAY_IDX(names, i, const char *);
        rv = copy_one(a, fname);
        if (rv != APR_SUCCESS) goto leave;
        md_store_act__step(a, apr_pstrcat(a->p, "copied ", fname, NULL));
    }
    /* the copies flushed together, then the rename marks the copy complete; tmp/ is flushed with the exchange that
     * needs the rename (a lost rename leaves tmp/NAME.new, which recovery discards). A batch flushes the copies of
     * all its sets at once, then marks each (md_store_act__ready) */
    if (a->batch) return APR_INCOMPLETE;
    rv = md_file_sync_files(a->t_new, a->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot flush %s", a->name, a->t_new);
        goto leave;
    }
    rv = md_store_act__ready(a);
leave:
    return rv;
}

apr_status_t md_store_act__ready(md_store_act_t *a)
{
    apr_status_t rv = md_store_fs__rename_unflushed(a->t_new, a->t_ready);

    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot rename %s to %s", a->name, a->t_new,
                         a->t_ready);
        return rv;
    }
    md_store_act__step(a, "ready");
    return APR_SUCCESS;
}
