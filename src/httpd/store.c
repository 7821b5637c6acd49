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

#include <httpd.h>
#include <http_log.h>
#include <unixd.h>

#include "md.h"
#include "md_cert.h"
#include "md_drive.h"
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

/* What a graceful restart does: a complete staged set becomes the active one, the old one is archived. */
static void activate_staged(server_rec *s, md_store_t *store, const md_t *md, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    apr_status_t rv;

    if (!staged_complete(store, md, p)) return;
    rv = md_store_activate(store, md->name, NULL, NULL, result, p);
    if (rv == APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "%s: activated the renewed certificates", md->name);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "%s: staged certificates not activated: %s", md->name,
                     md_result_text(result, p));
    }
}

/* A new MD's domains/NAME/md.json (the store's format: indented JSON, 0600 in a 0700 directory, modes fixed by
 * set_ownership) through a temporary file and a rename but without fsync: md_httpd_store_setup flushes them all
 * with one syncfs() afterwards. 1000 new MDs would otherwise cost 2000 fsyncs at the first start. */
static apr_status_t save_new_md(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const char *dir = apr_pstrcat(p, md_store_base_dir(store), "/", md_store_group_name(MD_SG_DOMAINS), "/",
                                  md->name, NULL);
    const char *text = md_json_writep(md_to_json(md, p), MD_JSON_FMT_INDENT, p);
    const char *path = apr_pstrcat(p, dir, "/md.json", NULL);
    char *tmp = apr_pstrcat(p, dir, "/.md.json.tmp.XXXXXX", NULL);
    apr_file_t *f;
    apr_status_t rv;

    if (!text || strchr(md->name, '/') || md->name[0] == '.') return APR_EINVAL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return APR_FROM_OS_ERROR(errno);
    rv = apr_file_mktemp(&f, tmp, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p);
    if (rv != APR_SUCCESS) return rv;
    rv = apr_file_write_full(f, text, strlen(text), NULL);
    if (apr_file_close(f) != APR_SUCCESS && rv == APR_SUCCESS) rv = APR_EGENERAL;
    if (rv == APR_SUCCESS && chmod(tmp, 0600) != 0) rv = APR_FROM_OS_ERROR(errno);
    if (rv == APR_SUCCESS && rename(tmp, path) != 0) rv = APR_FROM_OS_ERROR(errno);
    if (rv != APR_SUCCESS) apr_file_remove(tmp, p);
    return rv;
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
        ap_log_error(APLOG_MARK, APLOG_ERR, result->status, s, "%s: cannot save its md.json: %s", md->name,
                     md_result_text(result, p));
        return result->status;
    }
    return APR_SUCCESS;
}

/* True when domains/NAME has a certificate per key type, valid now and covering every name of the MD. */
static int md_usable(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *chain;
    const md_cert_t *cert;
    int i, j;

    for (i = 0; i < md->pks->nelts; ++i) {
        if (!md_store_exists(store, MD_SG_DOMAINS, md->name, md_pkey_aspect(md, i, p), p)) return 0;
        if (md_store_load((void **)&chain, store, MD_SG_DOMAINS, md->name, md_cert_aspect(md, i, p),
                          MD_SV_CHAIN, NULL, p) != APR_SUCCESS || chain->nelts < 1) return 0;
        cert = APR_ARRAY_IDX(chain, 0, const md_cert_t *);
        if (!md_cert_is_valid_at(cert, apr_time_now())) return 0;
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
    (void)st; (void)flag; (void)ftw;
    return lchown(path, owner_uid, owner_gid) == 0 ? 0 : -1;
}

static int secure_domains_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    const char *base = path + ftw->base;

    if (flag == FTW_SL) return 0;
    if (flag == FTW_D || flag == FTW_DP) {
        if (lchown(path, 0, owner_gid) != 0 || chmod(path, 0750) != 0) return -1;
    }
    else if (!strncmp(base, "privkey", 7) || strstr(base, ".key")) {
        if (lchown(path, 0, 0) != 0 || chmod(path, 0600) != 0) return -1;
    }
    else if (lchown(path, 0, owner_gid) != 0 || chmod(path, 0640) != 0) return -1;
    return 0;
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
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "MDStoreDir %s: %s", mc->store_dir,
                     md_result_text(result, ptemp));
        return rv;
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (m->cert_files->nelts) continue;   /* static certificates: nothing to manage */
        activate_staged(s, mc->store, m->md, ptemp);
        rv = sync_md(s, mc->store, m->md, &unsynced, ptemp);
        if (rv != APR_SUCCESS) return rv;
        m->usable = md_usable(mc->store, m->md, ptemp);
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
