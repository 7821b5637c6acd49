/* Store setup in post_config: open MDStoreDir, let the registry activate staged sets and sync the configured MDs,
 * then set ownership and modes for the children. */
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
#include "md_reg.h"
#include "md_reg_lease.h"
#include "md_reg_request.h"
#include "md_result.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

static void sync_log(void *baton, int level, const char *md_name, const char *message)
{
    static const int levels[] = { APLOG_ERR, APLOG_WARNING, APLOG_NOTICE, APLOG_INFO };

    ap_log_error(APLOG_MARK, levels[level < 0 ? 0 : level > 3 ? 3 : level], 0, (server_rec *)baton, "%s: %s",
                 md_name, message);
}

/* Bit i for each key type i whose certificate in domains/NAME is usable (present with its key, valid now), whether
 * or not it covers every name: what exists is served while the renewal runs. */
static unsigned usable_bits(const md_reg_state_t *st)
{
    unsigned bits = 0;
    int i;

    for (i = 0; i < st->certs->nelts && i < 32; ++i) {
        if (APR_ARRAY_IDX(st->certs, i, const md_reg_cert_t *)->usable) bits |= 1u << i;
    }
    return bits;
}

/* The registry brings domains/ in line with the configuration; then each MD's state says what is usable. */
static apr_status_t sync_all(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp)
{
    apr_array_header_t *items = apr_array_make(ptemp, mc->mds->nelts, sizeof(md_reg_sync_item_t *));
    md_reg_state_opts_t state_opts = { NULL, mc->activation_delay, 1 };     /* root reads the keys: mod_ssl
                                                                               * is never handed one that fails */
    md_reg_sync_opts_t opts = { mc->activation_delay, 1, sync_log, s, mc->store_lease, &state_opts };
    md_result_t *result = md_result_make(ptemp);
    md_reg_t *reg = md_reg_make(mc->store, NULL, ptemp);
    md_reg_sync_item_t *item;
    md_reg_state_t *st;
    md_managed_t *m;
    apr_status_t rv;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {           /* static ones too: renewed into the store under "always" */
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        item = apr_pcalloc(ptemp, sizeof(*item));
        item->md = m->md;
        item->cert_files = m->cert_files->nelts ? m->cert_files : NULL;
        item->baton = m;
        APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
    }
    rv = md_reg_sync(reg, items, &opts, result, ptemp);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "MDStoreDir %s: %s", mc->store_dir, md_result_text(result, ptemp));
        return rv;
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (m->cert_files->nelts) continue;
        m->activated = 0;
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        if (item->from_memo) {          /* complete and unchanged since the last start: every certificate usable */
            m->usable = m->md->pks->nelts >= 32 ? ~0u : (1u << m->md->pks->nelts) - 1;
            m->set_problem = NULL;
            continue;
        }
        st = item->state ? item->state : md_reg_state(reg, m->md, &state_opts, ptemp);
        m->usable = usable_bits(st);
        m->set_problem = st->file_problem ? apr_pstrdup(s->process->pconf, st->file_problem) : NULL;
        if (st->file_problem) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "%s: %s: the set is not used, the MD is renewed", m->md->name,
                         st->file_problem);
        }
    }
    for (i = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_sync_item_t *);
        if (item->activated) ((md_managed_t *)item->baton)->activated = 1;
    }
    return APR_SUCCESS;
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

    static const char *const child_dirs[] = { MD_REG_LEASES_DIR, MD_REG_REQUESTS_DIR, MD_STORE_WRITERS_DIR };

    if (geteuid() != 0) return APR_SUCCESS;
    owner_uid = ap_unixd_config.user_id;
    owner_gid = ap_unixd_config.group_id;
    for (i = 0; i < sizeof(child_groups) / sizeof(child_groups[0]); ++i) {
        dir = apr_pstrcat(p, md_store_base_dir(store), "/", md_store_group_name(child_groups[i]), NULL);
        if (nftw(dir, chown_entry, 16, FTW_PHYS) != 0) return APR_FROM_OS_ERROR(errno);
    }
    for (i = 0; i < sizeof(child_dirs) / sizeof(child_dirs[0]); ++i) {
        dir = apr_pstrcat(p, md_store_base_dir(store), "/", child_dirs[i], NULL);
        if (md_file_mkdirs(dir, MD_DPERMS_PUBLIC, p) != APR_SUCCESS
            || nftw(dir, chown_entry, 16, FTW_PHYS) != 0) return APR_FROM_OS_ERROR(errno);
    }
    dir = apr_pstrcat(p, md_store_base_dir(store), "/", md_store_group_name(MD_SG_DOMAINS), NULL);
    if (nftw(dir, secure_domains_entry, 16, FTW_PHYS) != 0) return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

void md_httpd_store_readers(md_mod_conf_t *mc)
{
    if (geteuid() == 0) md_store_set_reader_group(mc->store, (long)ap_unixd_config.group_id);
}

apr_status_t md_httpd_store_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp)
{
    md_result_t *result = md_result_make(ptemp);
    apr_status_t rv;

    rv = md_store_fs_open(&mc->store, mc->store_dir, result, s->process->pconf);   /* lives as long as pconf */
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "MDStoreDir %s: %s", mc->store_dir,
                     md_result_text(result, ptemp));
        return rv;
    }
    md_httpd_store_readers(mc);
    rv = sync_all(s, mc, ptemp);
    if (rv != APR_SUCCESS) return rv;
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
