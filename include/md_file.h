/* Files: atomic writes (temp file + fsync + rename + directory fsync), reads, mkdir -p, removal. */
#ifndef MD_FILE_H
#define MD_FILE_H

#include <apr_pools.h>
#include <apr_file_info.h>
#include <sys/types.h>

#define MD_FPERMS_SECRET  0600
#define MD_FPERMS_PUBLIC  0644
#define MD_DPERMS_PRIVATE 0700
#define MD_DPERMS_PUBLIC  0755

/* Write data to fpath atomically with the given mode (e.g. 0600): a reader sees the old file or the
 * complete new one, never a part; after return the content and the rename are on disk. The temporary
 * file is DIR/.NAME.tmp.PID.XXXXXX (hidden); a crash may leave one behind, never a partial NAME. */
apr_status_t md_file_write_atomic(const char *fpath, const void *data, apr_size_t len,
                                  apr_fileperms_t perms, apr_pool_t *p);
/* The same, the file given owner uid and group gid ((uid_t)-1, (gid_t)-1: the writer's) before any byte is in it. */
apr_status_t md_file_write_atomic_owned(const char *fpath, const void *data, apr_size_t len,
                                        apr_fileperms_t perms, uid_t uid, gid_t gid, apr_pool_t *p);
/* "USER", "USER:GROUP" or ":GROUP" (names or numbers) as *puid and *pgid, (uid_t)-1/(gid_t)-1 for the part not
 * given; an unknown user or group is APR_EINVAL with *perr saying which. */
apr_status_t md_file_owner_parse(uid_t *puid, gid_t *pgid, const char *owner, const char **perr, apr_pool_t *p);
/* The same, still never a partial file, but nothing is flushed to disk: for data that is worthless after a
 * crash (challenge responses live seconds; a flush per file costs more than the whole exchange with the CA). */
apr_status_t md_file_write_atomic_nosync(const char *fpath, const void *data, apr_size_t len,
                                         apr_fileperms_t perms, apr_pool_t *p);
/* Tests: cb is called with the path after each atomic write, once the file is in place (NULL: none). The crash
 * tests kill the writer there, between one write and the next. Process-wide; set it while no write runs. */
typedef void md_file_written_cb(const char *fpath, void *baton);
void md_file_on_written(md_file_written_cb *cb, void *baton);
/* cb is called with the path before each temporary file of an atomic write is created: the store's writer
 * markers (md_store_sweep.c). Process-wide, set once; cb must be thread-safe. */
typedef void md_file_temp_cb(const char *fpath);
void md_file_on_temp(md_file_temp_cb *cb);
/* Remove the temporary files in dir whose writer process is gone (killed while writing); returns how many.
 * A writer that is alive, or whose liveness cannot be told (another user's process), keeps its file. */
int md_file_sweep_dead_temps(const char *dir);
/* Read a whole file. The buffer is NUL-terminated (not counted in *plen). */
apr_status_t md_file_read(char **pdata, apr_size_t *plen, const char *fpath, apr_pool_t *p);
/* Create a directory and its parents with the given mode (existing ones are left as they are). */
apr_status_t md_file_mkdirs(const char *path, apr_fileperms_t perms, apr_pool_t *p);
/* fsync(fd) of the file or directory at path; every flush of the store goes through here. 0 or -1 (errno). */
int md_file_fsync(int fd, const char *path);
/* Tests: cb is called with the path after each successful md_file_fsync (NULL: none): the tests count and order
 * the flushes. Process-wide; set it while no write runs. */
typedef void md_file_synced_cb(const char *path, void *baton);
void md_file_on_synced(md_file_synced_cb *cb, void *baton);
/* Flush a directory's entries (after a rename or unlink in it). */
apr_status_t md_file_sync_dir(const char *dir, apr_pool_t *p);
/* Flush everything written to the file system that holds dir (syncfs), reported to the md_file_on_synced
 * callback as dir: one flush for many files, where flushing them one by one costs a commit each. */
apr_status_t md_file_syncfs(const char *dir);
/* Flush every regular file directly in dir, then dir itself: what md_file_write_atomic_nosync wrote there is
 * durable afterwards (a batch of writes shares one directory flush). */
apr_status_t md_file_sync_files(const char *dir, apr_pool_t *p);
/* Remove a file or a directory tree; a missing path is success. */
apr_status_t md_file_rm_rf(const char *path, apr_pool_t *p);
/* APR_SUCCESS when path exists and is of the type (APR_REG, APR_DIR), APR_ENOENT otherwise. */
apr_status_t md_file_is(const char *path, apr_filetype_e type, apr_pool_t *p);
/* Join path segments with '/': md_file_join(p, a, b, NULL). */
const char *md_file_join(apr_pool_t *p, ...) __attribute__((sentinel));

#endif
