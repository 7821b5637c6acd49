/* Store setup in post_config: open MDStoreDir, activate staged sets, sync configured MDs, set ownership and modes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* syncfs */
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_time.h>

#include <httpd.h>
#include <http_log.h>
#include <unixd.h>

#include "md.h"
#include "md_cert.h"
#include "md_drive.h"
#include "md_file.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

/* True when staging/NAME holds a certificate for every key type of the MD (a finished renewal). */
static int staged_complete(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    int i;

    if (!md_store_exists(store, MD_SG_STAGING, md->name, NULL, p)) return 0;
    for (i = 0; i < md->pks->nelts; ++i) {
        if (!md_store_exists(store, MD_SG_STAGING, md->name, md_cert_aspect(md, i, p), p)
            || !md_store_exists(store, MD_SG_STAGING, md->name, md_pkey_aspect(md, i, p), p)) return 0;
    }
    return 1;
}

/* The latest notBefore of the staged certificates (0 when one cannot be read: activation then reports it). */
static apr_time_t staged_not_before(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *chain;
    apr_time_t latest = 0, t;
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        if (md_store_load((void **)&chain, store, MD_SG_STAGING, md->name, md_cert_aspect(md, i, p), MD_SV_CHAIN,
                          NULL, p) != APR_SUCCESS || chain->nelts < 1) return 0;
        t = md_cert_get_not_before(APR_ARRAY_IDX(chain, 0, const md_cert_t *));
        if (t > latest) latest = t;
    }
    return latest;
}

/* MDActivationDelay: a staged set is activated once it is valid for at least that long (notBefore + delay has
 * passed; a negative delay activates it that long before notBefore). True when it may be activated now. */
static int activation_due(server_rec *s, md_store_t *store, const md_t *md, apr_interval_time_t delay,
                          apr_pool_t *p)
{
    apr_time_t not_before = staged_not_before(store, md, p);
    char date[APR_RFC822_DATE_LEN];

    if (!not_before || apr_time_now() >= not_before + delay) return 1;
    apr_rfc822_date(date, not_before + delay);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "%s: renewed certificates stay staged until %s (MDActivationDelay "
                 "%ld s after their notBefore)", md->name, date, (long)apr_time_sec(delay));
    return 0;
}

/* What a graceful restart does: a complete staged set becomes the active one, the old one is archived. */
static int activate_staged(server_rec *s, md_store_t *store, const md_t *md, apr_interval_time_t delay,
                           apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    apr_status_t rv;

    if (!staged_complete(store, md, p) || !activation_due(s, store, md, delay, p)) return 0;
    rv = md_store_activate(store, md->name, NULL, NULL, result, p);
    if (rv == APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "%s: activated the renewed certificates", md->name);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_ERR, md_result_log_status(rv), s, "%s: staged certificates not "
                     "activated: %s", md->name,
                     md_result_text(result, p));
    }
    return rv == APR_SUCCESS;
}

/* A new MD's domains/NAME/md.json (the store's format: indented JSON) through a temporary file and a rename but
 * without fsync: md_httpd_store_setup flushes them all with one syncfs() afterwards. 1000 new MDs would otherwise
 * cost 2000 fsyncs at the first start. Directory 0750 and file 0640 (still root's) are the modes set_ownership
 * gives them, so it only has to change the group. */
static apr_status_t save_new_md(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const char *dir = apr_pstrcat(p, md_store_base_dir(store), "/", md_store_group_name(MD_SG_DOMAINS), "/",
                                  md->name, NULL);
    const char *text = md_json_writep(md_to_json(md, p), MD_JSON_FMT_INDENT, p);

    if (!text || strchr(md->name, '/') || md->name[0] == '.') return APR_EINVAL;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) return APR_FROM_OS_ERROR(errno);
    return md_file_write_atomic_nosync(apr_pstrcat(p, dir, "/md.json", NULL), text, strlen(text), 0640, p);
}

/* Flush what save_new_md wrote: one syncfs() on the store's file system. */
static apr_status_t sync_store(md_store_t *store)
{
    int fd = open(md_store_base_dir(store), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    apr_status_t rv = APR_SUCCESS;

    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    if (syncfs(fd) != 0) rv = APR_FROM_OS_ERROR(errno);
    close(fd);
    return rv;
}

/* domains/NAME/md.json from the configuration, keeping what the store knows (account, CA in use, state). */
static apr_status_t sync_md(server_rec *s, md_store_t *store, const md_t *conf_md, int *unsynced, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_t *old = NULL, *md = md_clone(conf_md, p);
    const char *a, *b;
    int i;

    if (md_load(&old, store, MD_SG_DOMAINS, md->name, result, p) == APR_SUCCESS) {
        md->ca_account = old->ca_account;
        md->state = old->state;
        md->state_descr = old->state_descr;
        for (i = 0; old->ca_effective && i < md->ca_urls->nelts; ++i) {
            if (!strcmp(APR_ARRAY_IDX(md->ca_urls, i, const char *), old->ca_effective)) {
                md->ca_effective = old->ca_effective;
            }
        }
        a = md_json_writep(md_to_json(old, p), MD_JSON_FMT_COMPACT, p);
        b = md_json_writep(md_to_json(md, p), MD_JSON_FMT_COMPACT, p);
        if (a && b && !strcmp(a, b)) return APR_SUCCESS;
    }
    else if (!md_store_exists(store, MD_SG_DOMAINS, md->name, "md.json", p)
             && save_new_md(store, md, p) == APR_SUCCESS) {
        *unsynced = 1;
        return APR_SUCCESS;
    }
    if (md_save(md, store, MD_SG_DOMAINS, 0, result, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, md_result_log_status(result->status), s, "%s: cannot save its "
                     "md.json: %s", md->name,
                     md_result_text(result, p));
        return result->status;
    }
    return APR_SUCCESS;
}

/* True when domains/NAME has a certificate per key type, valid now and covering every name of the MD. A negative
 * MDActivationDelay also takes a certificate whose notBefore is at most that far ahead (activated early). */
static int md_usable(md_store_t *store, const md_t *md, apr_interval_time_t delay, apr_pool_t *p)
{
    apr_array_header_t *chain;
    const md_cert_t *cert;
    int i, j;

    for (i = 0; i < md->pks->nelts; ++i) {
        if (!md_store_exists(store, MD_SG_DOMAINS, md->name, md_pkey_aspect(md, i, p), p)) return 0;
        if (md_store_load((void **)&chain, store, MD_SG_DOMAINS, md->name, md_cert_aspect(md, i, p),
                          MD_SV_CHAIN, NULL, p) != APR_SUCCESS || chain->nelts < 1) return 0;
        cert = APR_ARRAY_IDX(chain, 0, const md_cert_t *);
        if (!md_cert_is_valid_at(cert, apr_time_now())
            && !(delay < 0 && md_cert_is_valid_at(cert, apr_time_now() - delay))) return 0;
        for (j = 0; j < md->domains->nelts; ++j) {
            if (!md_cert_covers(cert, APR_ARRAY_IDX(md->domains, j, const char *), p)) return 0;
        }
    }
    return 1;
}

/* Ownership for the children (run as root only): challenges/, staging/ and accounts/ belong to the child
 * user; domains/ stays root's, readable by the child's group except the private keys. nftw has no baton. */
static uid_t owner_uid;
static gid_t owner_gid;

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag; (void)ftw;
    if (st->st_uid == owner_uid && st->st_gid == owner_gid) return 0;
    return lchown(path, owner_uid, owner_gid) == 0 ? 0 : -1;
}

/* Owner, group and mode of one entry, each changed only when it differs (a chown or chmod of an unchanged file
 * still writes its inode: 3000 of them at every start with 1000 MDs). */
static int secure_entry(const char *path, const struct stat *st, uid_t uid, gid_t gid, mode_t mode)
{
    if ((st->st_uid != uid || st->st_gid != gid) && lchown(path, uid, gid) != 0) return -1;
    if ((st->st_mode & 07777) != mode && chmod(path, mode) != 0) return -1;
    return 0;
}

static int secure_domains_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    const char *base = path + ftw->base;

    if (flag == FTW_SL) return 0;
    if (flag == FTW_D || flag == FTW_DP) return secure_entry(path, st, 0, owner_gid, 0750);
    if (!strncmp(base, "privkey", 7) || strstr(base, ".key")) return secure_entry(path, st, 0, 0, 0600);
    return secure_entry(path, st, 0, owner_gid, 0640);
}

static apr_status_t set_ownership(md_store_t *store, apr_pool_t *p)
{
    static const md_store_group_t child_groups[] = { MD_SG_CHALLENGES, MD_SG_STAGING, MD_SG_ACCOUNTS,
                                                     MD_SG_OCSP };
    const char *dir;
    size_t i;

    if (geteuid() != 0) return APR_SUCCESS;
    owner_uid = ap_unixd_config.user_id;
    owner_gid = ap_unixd_config.group_id;
    for (i = 0; i < sizeof(child_groups) / sizeof(child_groups[0]); ++i) {
        dir = apr_pstrcat(p, md_store_base_dir(store), "/", md_store_group_name(child_groups[i]), NULL);
        if (nftw(dir, chown_entry, 16, FTW_PHYS) != 0) return APR_FROM_OS_ERROR(errno);
    }
    dir = apr_pstrcat(p, md_store_base_dir(store), "/", md_store_group_name(MD_SG_DOMAINS), NULL);
    if (nftw(dir, secure_domains_entry, 16, FTW_PHYS) != 0) return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

apr_status_t md_httpd_store_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp)
{
    md_result_t *result = md_result_make(ptemp);
    md_managed_t *m;
    apr_status_t rv;
    int i, unsynced = 0;

    rv = md_store_fs_open(&mc->store, mc->store_dir, result, s->process->pconf);   /* lives as long as pconf */
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, md_result_log_status(rv), s, "MDStoreDir %s: %s", mc->store_dir,
                     md_result_text(result, ptemp));
        return rv;
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (m->cert_files->nelts) continue;   /* static certificates: nothing to manage */
        m->activated = activate_staged(s, mc->store, m->md, mc->activation_delay, ptemp);
        rv = sync_md(s, mc->store, m->md, &unsynced, ptemp);
        if (rv != APR_SUCCESS) return rv;
        m->usable = md_usable(mc->store, m->md, mc->activation_delay, ptemp);
    }
    if (unsynced && (rv = sync_store(mc->store)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "MDStoreDir %s: cannot flush the new md.json files",
                     mc->store_dir);
        return rv;
    }
    rv = set_ownership(mc->store, ptemp);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "MDStoreDir %s: cannot set ownership for the child "
                     "processes", mc->store_dir);
    }
    return rv;
}

/* One try to lock the whole file for writing (fcntl, as apr_file_lock does for mod_md): 1 locked, 0 held by
 * another process, -1 error (errno set). */
static int try_lock(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0) return 1;
    return (errno == EACCES || errno == EAGAIN) ? 0 : -1;
}

/* Wait for the lock until the deadline; 1 locked, 0 not within the time, -1 error. */
static int wait_lock(int fd, apr_interval_time_t wait)
{
    apr_time_t deadline = apr_time_now() + wait;
    int rc;

    while ((rc = try_lock(fd)) == 0 && apr_time_now() < deadline) {
        apr_sleep(apr_time_from_msec(50));
    }
    return rc;
}

int md_httpd_store_lock(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, mc->store_dir, "/", MD_HTTPD_STORE_LOCK, NULL);
    apr_time_t start = apr_time_now();
    int fd, rc;

    if (!mc->store_locks) return -1;
    if (apr_dir_make_recursive(mc->store_dir, MD_DPERMS_PUBLIC & 0777, p) != APR_SUCCESS
        || (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(errno), s, "MDStoreLocks: cannot open the lock file "
                     "%s; going on without the lock", path);
        return -1;
    }
    rc = wait_lock(fd, mc->store_lock_wait);
    if (rc == 1) {
        ap_log_error(APLOG_MARK, apr_time_now() - start > apr_time_from_msec(100) ? APLOG_INFO : APLOG_DEBUG, 0, s, "MDStoreLocks: locked %s after %ld ms", path,
                     (long)apr_time_as_msec(apr_time_now() - start));
        return fd;
    }
    ap_log_error(APLOG_MARK, APLOG_ERR, rc < 0 ? APR_FROM_OS_ERROR(errno) : 0, s, "MDStoreLocks: %s %s "
                 "within %ld ms; going on without it: renewed certificates may stay inactive on this server "
                 "until its next restart", path, rc < 0 ? "cannot be locked" : "is held by another process and was "
                 "not released", (long)apr_time_as_msec(mc->store_lock_wait));
    close(fd);
    return -1;
}

void md_httpd_store_unlock(int fd)
{
    if (fd >= 0) close(fd);   /* closing the descriptor releases the fcntl lock */
}
