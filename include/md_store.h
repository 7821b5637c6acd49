/* The store: all state in files under one directory, in mod_md's group layout; atomic writes and activation. */
#ifndef MD_STORE_H
#define MD_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

struct md_result_t;

/* Groups: sub-directories of the store. MD_SG_NONE addresses files at the top (md_store.json, httpd.json). */
typedef enum {
    MD_SG_NONE,
    MD_SG_ACCOUNTS,
    MD_SG_CHALLENGES,
    MD_SG_DOMAINS,
    MD_SG_STAGING,
    MD_SG_ARCHIVE,
    MD_SG_TMP,
    MD_SG_OCSP,
    MD_SG_COUNT
} md_store_group_t;

/* "accounts", "challenges", "domains", "staging", "archive", "tmp", "ocsp" ("" for MD_SG_NONE). */
const char *md_store_group_name(md_store_group_t group);

/* What a value is. Loaded values live in the pool given to md_store_load. */
typedef enum {
    MD_SV_TEXT,    /* const char* */
    MD_SV_JSON,    /* md_json_t* */
    MD_SV_CERT,    /* md_cert_t* (the first certificate of the file) */
    MD_SV_CHAIN,   /* apr_array_header_t* of md_cert_t* */
    MD_SV_PKEY,    /* md_pkey_t* */
} md_store_vtype_t;

typedef struct md_store_t md_store_t;

/* Open (and create when missing) the file store at path: md_store.json with a new random 48-byte key
 * (mode 0600), and the group directories with mod_md's modes. An existing md_store.json that cannot be read
 * is an error naming the file, and the file is left as it is. Interrupted activations are finished. */
apr_status_t md_store_fs_open(md_store_t **pstore, const char *path, struct md_result_t *result,
                              apr_pool_t *p);
const char *md_store_base_dir(const md_store_t *store);
/* Activation makes the new domains/NAME readable by this group (httpd's children), except its private keys:
 * directory 0750, files 0640 with that group, keys 0600 as always. gid < 0 (the default): 0700 and 0600. */
void md_store_set_reader_group(md_store_t *store, long gid);
/* Many writes at once (1000 new MDs at a first start): with defer on, md_store_save does not flush each file (the
 * rename is still atomic); md_store_sync then flushes the store's file system once (syncfs) and ends the mode. */
void md_store_defer_sync(md_store_t *store, int defer);
apr_status_t md_store_sync(md_store_t *store);
/* Writes into staging/ (the drive's job, keys and chains as they come) and the caches in ocsp/ are not flushed one
 * by one: md_store_flush makes one GROUP/NAME durable at once (its files, then the directory), as the drive does
 * when a staged chain is complete. */
apr_status_t md_store_flush(md_store_t *store, md_store_group_t group, const char *name, apr_pool_t *p);

/* Values are files: GROUP/NAME/ASPECT (NAME may be NULL for files directly in the group, GROUP may be
 * MD_SG_NONE for files at the top). NAME and ASPECT must not contain '/' or be "." / "..": APR_EINVAL.
 * Private keys are written with mode 0600; in every group but domains/, archive/ and tmp/ they are
 * encrypted with the store key. Loading reads keys encrypted or not. Missing values are APR_ENOENT;
 * unreadable ones APR_EINVAL with the file named in result's detail. */
apr_status_t md_store_load(void **pvalue, md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, md_store_vtype_t vtype, struct md_result_t *result,
                           apr_pool_t *p);
/* A private key from a file outside the store (a backup of accounts/ID/account.pem, another client's key): plain, or
 * encrypted with this store's key. A missing file is APR_ENOENT, a file without a usable key APR_EINVAL (result
 * names the file). */
struct md_pkey_t;
apr_status_t md_store_pkey_fload(struct md_pkey_t **ppkey, md_store_t *store, const char *fpath,
                                 struct md_result_t *result, apr_pool_t *p);
/* Save atomically; with create_only an existing value is APR_EEXIST and stays as it is. */
apr_status_t md_store_save(md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, md_store_vtype_t vtype, const void *value,
                           int create_only, struct md_result_t *result, apr_pool_t *p);
/* The same (never create_only), still atomic, but not flushed: for records that are made again when a crash loses
 * them (the state an activated MD's md.json records, which the registry derives from its certificates; a job's
 * "told" flags, whose loss means one more event: at least once). docs/store.md, "Durability". */
apr_status_t md_store_save_unflushed(md_store_t *store, md_store_group_t group, const char *name,
                                     const char *aspect, md_store_vtype_t vtype, const void *value,
                                     struct md_result_t *result, apr_pool_t *p);
/* Remove one value; a missing value is success when force is set, else APR_ENOENT. */
apr_status_t md_store_remove(md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, int force, apr_pool_t *p);
/* Remove GROUP/NAME with all it holds; missing is success. It is renamed into tmp/ first, so nobody sees half of
 * it; entries of challenges/ (httpd's children own challenges/, not tmp/) are removed where they are. */
apr_status_t md_store_purge(md_store_t *store, md_store_group_t group, const char *name, apr_pool_t *p);
/* Move FROM/NAME to TO/NAME. When TO/NAME exists: with archive set it is moved to archive/NAME.N first
 * (N the next free number), else APR_EEXIST. */
apr_status_t md_store_move(md_store_t *store, md_store_group_t from, md_store_group_t to,
                           const char *name, int archive, apr_pool_t *p);
/* Rename GROUP/FROM to GROUP/TO in one atomic step that replaces nothing, flushed: APR_EEXIST when TO exists,
 * APR_ENOENT when FROM does not. It holds the store directory's lock, so no activation or recovery runs meanwhile. */
apr_status_t md_store_rename(md_store_t *store, md_store_group_t group, const char *from, const char *to,
                             apr_pool_t *p);
/* Move GROUP/NAME to archive/NAME.N (N the next free number); *pdest (may be NULL) gets the archive name
 * "NAME.N". APR_ENOENT when GROUP/NAME does not exist. */
apr_status_t md_store_archive(const char **pdest, md_store_t *store, md_store_group_t group, const char *name,
                              apr_pool_t *p);
/* The names in a group (directory entries, sorted) matching an fnmatch pattern ("*" for all). */
apr_status_t md_store_list(apr_array_header_t **pnames, md_store_t *store, md_store_group_t group,
                           const char *pattern, apr_pool_t *p);
/* The aspects (files) of GROUP/NAME matching pattern, sorted. */
apr_status_t md_store_list_aspects(apr_array_header_t **paspects, md_store_t *store,
                                   md_store_group_t group, const char *name, const char *pattern,
                                   apr_pool_t *p);
int md_store_exists(md_store_t *store, md_store_group_t group, const char *name, const char *aspect,
                    apr_pool_t *p);
/* The value's path; the file need not exist. */
apr_status_t md_store_get_fname(const char **pfname, md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p);
/* Modification time, 0 when missing. */
apr_time_t md_store_get_modified(md_store_t *store, md_store_group_t group, const char *name,
                                 const char *aspect, apr_pool_t *p);

/* Activation: the complete set in staging/NAME becomes domains/NAME, the previous domains/NAME goes to
 * archive/NAME.N, staging/NAME is removed. Before anything moves the staged set is checked: every
 * privkey[.X].pem loads and has a pubcert[.X].pem whose first certificate matches it; otherwise
 * APR_EINVAL with the reason in result and nothing changes. Staged keys are written unencrypted into
 * domains/. At any interruption the store holds the complete old set or the complete new one in
 * domains/NAME, and the next md_store_activate (or md_store_fs_open) finishes the job.
 * With step_cb given, it is called after each step with its number (1, 2, ...) and a name: tests use it
 * to interrupt activation between every pair of steps. */
typedef void md_store_step_cb(void *baton, int step, const char *what);
apr_status_t md_store_activate(md_store_t *store, const char *name, md_store_step_cb *step_cb,
                               void *baton, struct md_result_t *result, apr_pool_t *p);
/* The same for n names at once (a server's parent activating what a renewal run staged), with the same state at
 * every interruption, but the flushes shared by up to 32 names (md_store_activate_many.c): when it returns, every
 * set activated is in domains/ on disk. rvs[i] and results[i] (given for each) are what md_store_activate returns
 * for names[i]; step_cb: as there, the steps of all names numbered in one sequence. */
void md_store_activate_many(md_store_t *store, const char *const *names, int n, md_store_step_cb *step_cb,
                            void *baton, apr_status_t *rvs, struct md_result_t *const *results, apr_pool_t *p);
/* The directory of the store's writer markers (STORE/writers/PID, md_store_sweep.c): every process that writes
 * into the store must be able to create files there (httpd's children too). */
#define MD_STORE_WRITERS_DIR "writers"
/* Remove this process's markers (STORE/writers/PID of every store it wrote into): an exit does it (atexit); a
 * process that ends otherwise (_exit) and wrote nothing half may call it before. */
void md_store_writers_done(void);
/* Finish interrupted activations of all names and remove the temporary files of writers that died mid-write
 * (called by md_store_fs_open). */
apr_status_t md_store_recover(md_store_t *store, struct md_result_t *result, apr_pool_t *p);

#endif
