/* Activation, second half: the crash-safe swap of staging/NAME into domains/NAME, archiving, and recovery. */

/* Steps (each reported to the step callback; every rename is a step of its own):
 *  1. validate staging/NAME (read only, not reported: a failure changes nothing, not even the id)
 *  2. "id": write a random activation id to staging/NAME/.activation (a resumed activation reuses its id)
 *  3. "copied X": copy each file into tmp/NAME.new (keys - privkey*.pem, account.pem - decrypted; the other files
 *     linked where possible; all files 0600; .activation included), "ready": rename it to tmp/NAME.ready, the mark of
 *     a complete copy
 *  4. "exchanged": renameat2(RENAME_EXCHANGE) tmp/NAME.ready <-> domains/NAME, the old set lands in
 *     tmp/NAME.ready; or "new set in place" when there was no domains/NAME; or, where the exchange is not
 *     supported, "old set aside" (domains/NAME -> tmp/NAME.old) then "new set in place"
 *  5. "old set archived": tmp/NAME.ready (or tmp/NAME.old) -> archive/NAME.N
 *  6. "unstaged": staging/NAME -> tmp/NAME.done (atomic: never a half-removed staging), "cleaned": rm -rf it
 * domains/NAME/.activation is kept: it is how recovery knows the swap happened, and it is hidden from lists.
 *
 * Recovery of NAME, with X the id in staging/NAME/.activation:
 *  - domains/NAME missing, tmp/NAME.old present and tmp/NAME.ready not X: put tmp/NAME.old back
 *  - domains/NAME has X: the swap happened; archive tmp/NAME.ready / tmp/NAME.old, then step 6
 *  - tmp/NAME.ready has X: the copy is complete; go on at step 4
 *  - otherwise: start again at step 1 (tmp/NAME.new is discarded)
 *  Without an id (nothing in progress): tmp/NAME.new and tmp/NAME.done are removed; a leftover
 *  tmp/NAME.old / tmp/NAME.ready goes back to domains/NAME when that is missing, else to the archive.
 * Sets are never deleted: anything that may hold one is put in place or archived.
 *
 * Flushes (docs/store.md, "Durability"): the copy's files and tmp/NAME.new are flushed before it is renamed to
 * tmp/NAME.ready, and domains/ and tmp/ right after the exchange (or each rename of the two-rename fallback, and
 * each rename that puts a set back into domains/): when md_store_activate returns, the new set is in domains/NAME
 * on disk. The other steps are not flushed one by one, because recovery redoes each of them when a crash loses it:
 *  - the id: its file is a link in the copy and flushed with it; an id lost with staging/NAME's entry makes
 *    recovery see no activation in progress, so the copy is discarded or archived and the staged set activated
 *    again (a set is archived twice at worst, never lost or half visible);
 *  - "ready": tmp/ is flushed with the exchange, which needs it; a lost rename leaves tmp/NAME.new, discarded;
 *  - "old set archived", "unstaged", "cleaned": lost, they leave tmp/NAME.ready (or .old) and staging/NAME with
 *    the id that domains/NAME has, and recovery (finish) archives and unstages again.
 * md_store_activate_many (md_store_activate_many.c) shares these flushes among up to 32 names: the copies unflushed
 * until one syncfs, then "ready" and the swaps unflushed until one more.
 * This holds on file systems that keep metadata changes in order (a journal: ext4's default, xfs, btrfs); on one
 * without (ext4 without a journal) no rename survives a power loss reliably, flushed or not. */
#define _GNU_SOURCE 1   /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>
#include <openssl/rand.h>

#include "md_encode.h"
#include "md_file.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs_int.h"

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The activation id of a set, or NULL. */
static const char *read_id(const char *dir, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len = 0;

    if (md_file_read(&data, &len, md_file_join(p, dir, MD_STORE_ACT_ID, NULL), p) != APR_SUCCESS) return NULL;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' ')) data[--len] = '\0';
    return len ? data : NULL;
}

static int has_id(const char *dir, const char *id, apr_pool_t *p)
{
    const char *dir_id = read_id(dir, p);
    return id && dir_id && !strcmp(id, dir_id);
}

void md_store_act__init(md_store_act_t *a, md_store_t *store, const char *name, md_store_step_cb *cb,
                        void *baton, md_result_t *result, apr_pool_t *p)
{
    const char *tmp = md_store_fs__group_dir(store, MD_SG_TMP, p);

    memset(a, 0, sizeof(*a));
    a->store = store;
    a->name = name;
    a->cb = cb;
    a->baton = baton;
    a->result = result;
    a->p = p;
    a->staging = md_file_join(p, md_store_fs__group_dir(store, MD_SG_STAGING, p), name, NULL);
    a->domain = md_file_join(p, md_store_fs__group_dir(store, MD_SG_DOMAINS, p), name, NULL);
    a->t_new = md_file_join(p, tmp, apr_pstrcat(p, name, ".new", NULL), NULL);
    a->t_ready = md_file_join(p, tmp, apr_pstrcat(p, name, ".ready", NULL), NULL);
    a->t_old = md_file_join(p, tmp, apr_pstrcat(p, name, ".old", NULL), NULL);
    a->t_done = md_file_join(p, tmp, apr_pstrcat(p, name, ".done", NULL), NULL);
}

/* flush: both directories flushed afterwards; 0 for the steps recovery redoes when a crash loses them. */
static apr_status_t move_step(md_store_act_t *a, const char *from, const char *to, const char *what, int flush)
{
    apr_status_t rv = flush ? md_store_fs__rename(from, to, a->p) : md_store_fs__rename_unflushed(from, to);

    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot rename %s to %s", a->name, from, to);
        return rv;
    }
    md_store_act__step(a, what);
    return APR_SUCCESS;
}

static apr_status_t archive_step(md_store_act_t *a, const char *path)
{
    const char *dest = NULL;
    apr_status_t rv;

    if (!exists(path)) return APR_SUCCESS;
    rv = md_store_fs__archive(&dest, a->store, path, a->name, 0, a->p);   /* redone when lost */
    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot move %s to the archive", a->name, path);
        return rv;
    }
    md_store_act__step(a, "old set archived");
    return APR_SUCCESS;
}

static apr_status_t write_id(md_store_act_t *a)
{
    unsigned char bytes[16];
    const char *id, *fpath = md_file_join(a->p, a->staging, MD_STORE_ACT_ID, NULL);
    apr_status_t rv;

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        md_result_set(a->result, APR_EGENERAL, "no random bytes for the activation id");
        return APR_EGENERAL;
    }
    id = md_hex_encode(bytes, sizeof(bytes), 0, a->p);
    /* flushed as a link in the copy (md_store_act__build); when lost, no activation was in progress */
    rv = md_file_write_atomic_nosync(fpath, id, strlen(id), md_store_fs__file_perms(MD_SG_STAGING), a->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot write %s", a->name, fpath);
        return rv;
    }
    a->id = id;
    md_store_act__step(a, "id");
    return APR_SUCCESS;
}

/* Renames domains/NAME <-> tmp/NAME.ready in one step; APR_ENOTIMPL where that is not supported. */
static apr_status_t exchange(md_store_act_t *a)
{
    apr_status_t rv = APR_ENOTIMPL;

#ifdef RENAME_EXCHANGE
    if (a->store->no_exchange) return APR_ENOTIMPL;
    if (renameat2(AT_FDCWD, a->t_ready, AT_FDCWD, a->domain, RENAME_EXCHANGE) != 0) {
        if (errno == EINVAL || errno == ENOSYS) return APR_ENOTIMPL;
        rv = APR_FROM_OS_ERROR(errno);
        md_result_printf(a->result, rv, "activating %s: cannot exchange %s and %s", a->name, a->t_ready,
                         a->domain);
        return rv;
    }
    if (!a->batch) {        /* a batch flushes all its swaps at once (md_store_activate_many.c) */
        rv = md_store_fs__sync_parent(a->domain, a->p);
        if (rv == APR_SUCCESS) rv = md_store_fs__sync_parent(a->t_ready, a->p);
        if (rv != APR_SUCCESS) return rv;
    }
    rv = APR_SUCCESS;
    md_store_act__step(a, "exchanged");
#else
    (void)a;
#endif
    return rv;
}

/* tmp/NAME.ready (complete, with our id) becomes domains/NAME; the old set goes to tmp/ for archiving. */
static apr_status_t swap(md_store_act_t *a)
{
    apr_status_t rv;

    if (exists(a->domain)) {
        rv = exchange(a);
        if (rv != APR_ENOTIMPL) return rv;
        rv = archive_step(a, a->t_old);   /* not ours: never overwrite a set */
        if (rv != APR_SUCCESS) return rv;
        rv = move_step(a, a->domain, a->t_old, "old set aside", !a->batch);
        if (rv != APR_SUCCESS) return rv;
    }
    return move_step(a, a->t_ready, a->domain, "new set in place", !a->batch);
}

/* domains/NAME holds our set: archive the old one, remove the staged one. */
static apr_status_t finish(md_store_act_t *a)
{
    apr_status_t rv;

    rv = archive_step(a, a->t_ready);
    if (rv == APR_SUCCESS) rv = archive_step(a, a->t_old);
    if (rv == APR_SUCCESS) rv = md_file_rm_rf(a->t_new, a->p);
    if (rv == APR_SUCCESS) rv = md_file_rm_rf(a->t_done, a->p);
    if (rv != APR_SUCCESS) goto leave;
    rv = move_step(a, a->staging, a->t_done, "unstaged", 0);     /* lost: recovery unstages again */
    if (rv != APR_SUCCESS) goto leave;
    rv = md_file_rm_rf(a->t_done, a->p);                        /* lost: removed by the next recovery */
    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot remove %s", a->name, a->t_done);
        goto leave;
    }
    md_store_act__step(a, "cleaned");
leave:
    return rv;
}

apr_status_t md_store_act__complete(md_store_act_t *a)
{
    apr_status_t rv = md_store_act__ready(a);

    if (rv == APR_SUCCESS) rv = swap(a);
    if (rv == APR_SUCCESS) rv = finish(a);
    return rv;
}

/* Nothing in progress: remove copies, keep sets (in place when domains/NAME is missing, else archived). */
static apr_status_t clean_leftovers(md_store_act_t *a)
{
    apr_status_t rv;

    rv = md_file_rm_rf(a->t_new, a->p);
    if (rv == APR_SUCCESS) rv = md_file_rm_rf(a->t_done, a->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(a->result, rv, "activating %s: cannot clean up %s", a->name, a->t_new);
        return rv;
    }
    if (!exists(a->domain) && exists(a->t_old)) {
        rv = move_step(a, a->t_old, a->domain, "old set restored", 1);
    }
    else if (!exists(a->domain) && exists(a->t_ready)) {
        rv = move_step(a, a->t_ready, a->domain, "new set in place", 1);
    }
    if (rv == APR_SUCCESS) rv = archive_step(a, a->t_ready);
    if (rv == APR_SUCCESS) rv = archive_step(a, a->t_old);
    return rv;
}

apr_status_t md_store_act__run(md_store_act_t *a, int may_start)
{
    apr_status_t rv = APR_SUCCESS;

    a->id = read_id(a->staging, a->p);
    if (!a->id) {
        rv = clean_leftovers(a);
        if (rv != APR_SUCCESS || !may_start) return rv;
        if (!exists(a->staging)) {
            md_result_printf(a->result, APR_ENOENT, "activating %s: nothing staged in %s", a->name,
                             a->staging);
            return APR_ENOENT;
        }
    }
    else {
        if (!exists(a->domain) && exists(a->t_old) && !has_id(a->t_ready, a->id, a->p)) {
            rv = move_step(a, a->t_old, a->domain, "old set restored", 1);
            if (rv != APR_SUCCESS) return rv;
        }
        if (has_id(a->domain, a->id, a->p)) return finish(a);
        if (has_id(a->t_ready, a->id, a->p)) goto swap;
    }
    rv = md_store_act__validate(a);
    if (rv == APR_SUCCESS && !a->id) rv = write_id(a);
    if (rv == APR_SUCCESS) rv = archive_step(a, a->t_ready);   /* a stale copy of another activation */
    if (rv == APR_SUCCESS) rv = md_store_act__build(a);
    if (rv != APR_SUCCESS) return rv;      /* APR_INCOMPLETE: a batch's copy, flushed with the others' */
swap:
    rv = swap(a);
    if (rv != APR_SUCCESS) return rv;
    return finish(a);
}

apr_status_t md_store_fs__recover_name(md_store_t *store, const char *name, md_result_t *result,
                                       apr_pool_t *p)
{
    md_store_act_t a;

    md_store_act__init(&a, store, name, NULL, NULL, result, p);
    return md_store_act__run(&a, 0);
}

/* The locks of one activation. Activations of different names run at the same time: each holds the store
 * directory's flock shared and its staging/NAME directory's exclusively (checked to still be staging/NAME once
 * held: an activation that went before may have moved it away). Without a staging/NAME (an interrupted
 * activation to finish) it holds the store's flock exclusively, as recovery and renames do, which waits for
 * every running activation. *pnfd: the staging directory's descriptor, -1 when none is held. A batch, which
 * holds the locks of several names at once, takes none that it would wait for or that is exclusive (APR_EAGAIN). */
apr_status_t md_store_act__lock(int *pfd, int *pnfd, md_store_act_t *a)
{
    struct stat held, now;
    int fd, nfd;

    *pfd = *pnfd = -1;
    for (;;) {
        nfd = open(a->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (nfd < 0) return a->batch ? APR_EAGAIN : md_store_fs__lock(pfd, a->store);
        fd = open(a->store->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_SH) != 0 || flock(nfd, LOCK_EX | (a->batch ? LOCK_NB : 0)) != 0) {
            /* no flock here (ENOLCK, ...): the exclusive lock, which copes with that */
            if (fd >= 0) close(fd);
            close(nfd);
            return a->batch ? APR_EAGAIN : md_store_fs__lock(pfd, a->store);
        }
        if (fstat(nfd, &held) == 0 && stat(a->staging, &now) == 0 && held.st_ino == now.st_ino
            && held.st_dev == now.st_dev) {
            *pfd = fd;
            *pnfd = nfd;
            return APR_SUCCESS;
        }
        close(nfd);     /* moved away meanwhile: look again */
        close(fd);
    }
}

void md_store_act__unlock(int fd, int nfd)
{
    if (nfd >= 0) close(nfd);
    md_store_fs__unlock(fd);
}

apr_status_t md_store_activate(md_store_t *store, const char *name, md_store_step_cb *step_cb,
                               void *baton, md_result_t *result, apr_pool_t *p)
{
    md_store_act_t a;
    apr_status_t rv;
    int fd = -1, nfd = -1;

    if (md_store_fs__check_name(name) != APR_SUCCESS) {
        md_result_printf(result, APR_EINVAL, "activate: invalid name '%s'", name ? name : "");
        return APR_EINVAL;
    }
    md_store_act__init(&a, store, name, step_cb, baton, result, p);
    rv = md_store_act__lock(&fd, &nfd, &a);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "activating %s: cannot lock %s", name, store->base);
        return rv;
    }
    rv = md_store_act__run(&a, 1);
    md_store_act__unlock(fd, nfd);
    return rv;
}
