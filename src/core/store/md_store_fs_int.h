/* Internals of the file store shared by its source files: the store object, paths, modes, renames, locking. */
#ifndef MD_STORE_FS_INT_H
#define MD_STORE_FS_INT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_info.h>

#include "md_store.h"

struct md_pkey_t;
struct md_result_t;

/* Length of the store key in md_store.json (as mod_md: 48 random bytes, base64url). */
#define MD_STORE_KEY_LEN 48
/* The store format version mod_md 2.x writes and we write. */
#define MD_STORE_VERSION 3.0
/* Set to "1" in the environment to force the two-rename fallback instead of RENAME_EXCHANGE. */
#define MD_STORE_ENV_NO_EXCHANGE "MD_STORE_NO_EXCHANGE"

/* The store's cache of decoded private keys and chains (md_store_cache.c): room for what a batch of 32 activations
 * decodes (per set its chain, the staged key and the decrypted copy's) until the parent publishes them. */
#define MD_STORE_CACHE_SLOTS 128
typedef struct md_store_cache_t md_store_cache_t;

struct md_store_t {
    apr_pool_t *p;
    const char *base;             /* the store directory */
    const unsigned char *key;     /* the store key: passphrase of encrypted private keys */
    apr_size_t key_len;
    int no_exchange;              /* activation swaps with two renames (test switch / old kernels) */
    int defer_sync;               /* writes are not flushed one by one: md_store_sync flushes them all */
    int unsynced;                 /* something was written without a flush */
    md_store_cache_t *cache;      /* decoded private keys and chains by their PEM text (NULL: none kept) */
    long reader_gid;              /* activated sets readable by this group (keys excepted), < 0: none */
};

md_store_cache_t *md_store_fs__cache_make(apr_pool_t *p);
/* The key whose PEM text is pem (a new reference in p), NULL when not cached. */
struct md_pkey_t *md_store_fs__cache_get_pkey(md_store_cache_t *c, const char *pem, apr_size_t len, apr_pool_t *p);
/* Remember pkey as the decoded form of pem (the least recently used entry makes room). */
void md_store_fs__cache_put_pkey(md_store_cache_t *c, const char *pem, apr_size_t len, const struct md_pkey_t *pkey);
/* The same for chains (arrays of md_cert_t*, new references in p). */
apr_array_header_t *md_store_fs__cache_get_chain(md_store_cache_t *c, const char *pem, apr_size_t len,
                                                 apr_pool_t *p);
void md_store_fs__cache_put_chain(md_store_cache_t *c, const char *pem, apr_size_t len,
                                  const apr_array_header_t *chain);

/* Writer markers (md_store_sweep.c): the store's processes mark themselves in STORE/writers/ before their first
 * temporary file there; watch registers the store for that (once per path and process). */
void md_store_fs__writers_watch(const md_store_t *store);
/* Remove the temporary files of dead writers everywhere in the store when a marked writer died, or when the last
 * such sweep was a day ago or in another boot; returns 1 when it swept. Called with the store lock held. */
int md_store_fs__sweep(md_store_t *store, apr_pool_t *p);

/* APR_EINVAL unless s is a usable file name: non-empty, no '/', not "." or "..". */
apr_status_t md_store_fs__check_name(const char *s);
/* The directory of a group (the store directory for MD_SG_NONE). */
const char *md_store_fs__group_dir(const md_store_t *store, md_store_group_t group, apr_pool_t *p);
/* GROUP[/NAME][/ASPECT] with NAME and ASPECT checked (either may be NULL). */
apr_status_t md_store_fs__path(const char **ppath, const md_store_t *store, md_store_group_t group,
                               const char *name, const char *aspect, apr_pool_t *p);
/* Modes: a group's directories (and its NAME sub-directories), its plain files. Keys are always 0600. */
apr_fileperms_t md_store_fs__dir_perms(md_store_group_t group);
apr_fileperms_t md_store_fs__file_perms(md_store_group_t group);
/* True when private keys in the group are stored encrypted with the store key. */
int md_store_fs__encrypts_keys(md_store_group_t group);
/* True for file names that are private keys: privkey.pem, privkey.X.pem (also mod_md's account.pem). */
int md_store_fs__is_key_name(const char *aspect);
/* True for leftovers of an interrupted md_file_write_atomic (".x.tmp.PID.XXXXXX", earlier ".x.tmp.XXXXXX"). */
int md_store_fs__is_temp_name(const char *fname);

/* The first private key in the store that is encrypted with the store key (accounts/, staging/, ocsp/), NULL when
 * there is none: without md_store.json, such a store must not get a new key. */
const char *md_store_fs__encrypted_file(const md_store_t *store, apr_pool_t *p);
/* Create one directory with exactly the given mode; an existing directory is left as it is. *pcreated (when not
 * NULL): 1 when it was made now, so its parent's entry still needs a flush to survive a crash. */
apr_status_t md_store_fs__mkdir(const char *path, apr_fileperms_t perms, int *pcreated, apr_pool_t *p);
/* Rename without replacing anything (APR_EEXIST when to exists), then flush both parent directories. */
apr_status_t md_store_fs__rename(const char *from, const char *to, apr_pool_t *p);
/* The same without the flushes, for the steps whose loss in a crash recovery redoes (md_store_activate.c). */
apr_status_t md_store_fs__rename_unflushed(const char *from, const char *to);
/* Flush the directory that holds path. */
apr_status_t md_store_fs__sync_parent(const char *path, apr_pool_t *p);
/* Move the directory at path to archive/NAME.N, N the first free number >= 1; *pdest (if given) gets it. flush:
 * both directories flushed afterwards (0: an activation's archiving, which recovery redoes when it is lost). */
apr_status_t md_store_fs__archive(const char **pdest, md_store_t *store, const char *path,
                                  const char *name, int flush, apr_pool_t *p);
/* Sorted entries of a directory matching an fnmatch pattern (NULL: all); leftovers of md_file_write_atomic
 * are skipped; with hidden == 0 names starting with '.' only match patterns starting with '.' (FNM_PERIOD).
 * A missing directory is APR_ENOENT (with an empty array). */
apr_status_t md_store_fs__list_dir(apr_array_header_t **pnames, const char *dir, const char *pattern,
                                   int hidden, apr_pool_t *p);

/* Serialize activation and recovery between processes: an exclusive flock on the store directory. */
apr_status_t md_store_fs__lock(int *pfd, const md_store_t *store);
void md_store_fs__unlock(int fd);

/* Load a private key file with the store key; failures are APR_EINVAL with the path in result. */
apr_status_t md_store_fs__load_pkey(struct md_pkey_t **ppkey, const md_store_t *store, const char *fpath,
                                    struct md_result_t *result, apr_pool_t *p);
/* Load a PEM chain file; failures (also "no certificate") are APR_EINVAL with the path in result. */
apr_status_t md_store_fs__load_chain(apr_array_header_t **pchain, const md_store_t *store, const char *fpath,
                                     struct md_result_t *result, apr_pool_t *p);

/* One activation of staging/NAME (see md_store_activate.c for the steps and the recovery rules). */
typedef struct md_store_act_t {
    md_store_t *store;
    const char *name;
    md_store_step_cb *cb;
    void *baton;
    int step;                     /* the number of the last step reported */
    struct md_result_t *result;
    apr_pool_t *p;
    const char *id;               /* the activation id (staging/NAME/.activation), NULL before it exists */
    const char *staging;          /* staging/NAME */
    const char *domain;           /* domains/NAME */
    const char *t_new;            /* tmp/NAME.new: the copy being built */
    const char *t_ready;          /* tmp/NAME.ready: the complete copy; after an exchange the old set */
    const char *t_old;            /* tmp/NAME.old: the old set (two-rename fallback only) */
    const char *t_done;           /* tmp/NAME.done: staging/NAME on its way out */
    int batch;                    /* one of md_store_activate_many's: its flushes are the batch's, shared */
} md_store_act_t;

/* The file in a set that holds the activation id. */
#define MD_STORE_ACT_ID ".activation"
/* Suffixes of the activation's directories in tmp/. */
#define MD_STORE_ACT_SUFFIXES { ".new", ".ready", ".old", ".done" }

/* Report one step to the callback (numbered 1, 2, ...). */
void md_store_act__step(md_store_act_t *a, const char *what);
/* Check the staged set: keys load, certificates load and match them. APR_EINVAL with the reason. */
apr_status_t md_store_act__validate(md_store_act_t *a);
/* Copy staging/NAME into tmp/NAME.new (keys decrypted, files 0600), flush it, then rename it to tmp/NAME.ready.
 * In a batch it stops after the copy, unflushed, with APR_INCOMPLETE. */
apr_status_t md_store_act__build(md_store_act_t *a);
/* Rename the flushed copy tmp/NAME.new to tmp/NAME.ready, the mark of a complete copy. */
apr_status_t md_store_act__ready(md_store_act_t *a);
/* The activation of one name (md_store_activate.c), in parts for md_store_activate_many: init; lock (the store
 * directory's flock and staging/NAME's, see there; a batch gets APR_EAGAIN instead of a lock it would wait for or
 * an exclusive one); run from wherever an earlier activation stopped (may_start: begin one when none is in
 * progress; in a batch APR_INCOMPLETE once the copy is built); complete a batch's copy after its flush (ready,
 * swap, archive, unstage); unlock. */
void md_store_act__init(md_store_act_t *a, md_store_t *store, const char *name, md_store_step_cb *cb, void *baton,
                        struct md_result_t *result, apr_pool_t *p);
apr_status_t md_store_act__lock(int *pfd, int *pnfd, md_store_act_t *a);
apr_status_t md_store_act__run(md_store_act_t *a, int may_start);
apr_status_t md_store_act__complete(md_store_act_t *a);
void md_store_act__unlock(int fd, int nfd);
/* Finish or clean up the activation state of one name (caller holds the lock). */
apr_status_t md_store_fs__recover_name(md_store_t *store, const char *name, struct md_result_t *result,
                                       apr_pool_t *p);

#endif
