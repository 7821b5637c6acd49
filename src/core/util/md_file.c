/* Files: atomic writes (temp file, fsync, rename, directory fsync), whole-file reads, mkdir -p, rm -rf. */
#define _GNU_SOURCE 1   /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "md_file.h"

static const char *parent_dir(const char *fpath, apr_pool_t *p)
{
    const char *slash = strrchr(fpath, '/');

    if (!slash) return ".";
    if (slash == fpath) return "/";
    return apr_pstrndup(p, fpath, (apr_size_t)(slash - fpath));
}

static md_file_synced_cb *synced_cb;
static void *synced_baton;

void md_file_on_synced(md_file_synced_cb *cb, void *baton)
{
    synced_cb = cb;
    synced_baton = baton;
}

int md_file_fsync(int fd, const char *path)
{
    int rc = fsync(fd);

    if (rc == 0 && synced_cb) synced_cb(path, synced_baton);
    return rc;
}

apr_status_t md_file_sync_dir(const char *dir, apr_pool_t *p)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    apr_status_t rv = APR_SUCCESS;

    (void)p;
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    if (md_file_fsync(fd, dir) != 0) rv = APR_FROM_OS_ERROR(errno);
    close(fd);
    return rv;
}

apr_status_t md_file_syncfs(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    apr_status_t rv = APR_SUCCESS;

    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    if (syncfs(fd) != 0) rv = APR_FROM_OS_ERROR(errno);
    else if (synced_cb) synced_cb(dir, synced_baton);
    close(fd);
    return rv;
}

apr_status_t md_file_sync_files(const char *dir, apr_pool_t *p)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
    apr_status_t rv = APR_SUCCESS;
    struct dirent *de;
    struct stat st;
    DIR *d;

    if (dfd < 0) return APR_FROM_OS_ERROR(errno);
    d = fdopendir(dup(dfd));
    if (!d) rv = APR_FROM_OS_ERROR(errno);
    while (d && rv == APR_SUCCESS && (de = readdir(d)) != NULL) {
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        fd = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;       /* gone meanwhile */
        if (md_file_fsync(fd, synced_cb ? md_file_join(p, dir, de->d_name, NULL) : de->d_name) != 0) {
            rv = APR_FROM_OS_ERROR(errno);
        }
        close(fd);
    }
    if (d) closedir(d);
    if (rv == APR_SUCCESS && md_file_fsync(dfd, dir) != 0) rv = APR_FROM_OS_ERROR(errno);
    close(dfd);
    return rv;
}

static apr_status_t write_all(int fd, const void *data, apr_size_t len)
{
    const char *d = data;
    ssize_t n;

    while (len > 0) {
        n = write(fd, d, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return APR_FROM_OS_ERROR(errno);
        }
        d += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

static md_file_written_cb *written_cb;
static void *written_baton;
static md_file_temp_cb *temp_cb;

void md_file_on_temp(md_file_temp_cb *cb)
{
    temp_cb = cb;
}

void md_file_on_written(md_file_written_cb *cb, void *baton)
{
    written_cb = cb;
    written_baton = baton;
}

static apr_status_t write_atomic(const char *fpath, const void *data, apr_size_t len, apr_fileperms_t perms,
                                 uid_t uid, gid_t gid, int durable, apr_pool_t *p)
{
    /* hidden, in the same directory (so the rename is atomic), with the writer's pid (so that a leftover of a
     * writer that died can be told from one being written): DIR/.NAME.tmp.PID.XXXXXX */
    const char *slash = strrchr(fpath, '/');
    const char *suffix = apr_psprintf(p, ".tmp.%ld.XXXXXX", (long)getpid());
    char *tmp = slash ? apr_pstrcat(p, apr_pstrndup(p, fpath, (apr_size_t)(slash - fpath) + 1), ".",
                                    slash + 1, suffix, NULL)
                      : apr_pstrcat(p, ".", fpath, suffix, NULL);
    apr_status_t rv;
    int fd;

    if (temp_cb) temp_cb(fpath);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    /* mkstemp makes 0600; set the wanted mode before any byte lands in the file */
    rv = (fchmod(fd, (mode_t)perms) == 0) ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    if (rv == APR_SUCCESS && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (rv == APR_SUCCESS) rv = write_all(fd, data, len);
    if (rv == APR_SUCCESS && durable && md_file_fsync(fd, fpath) != 0) rv = APR_FROM_OS_ERROR(errno);
    if (close(fd) != 0 && rv == APR_SUCCESS) rv = APR_FROM_OS_ERROR(errno);
    if (rv == APR_SUCCESS && rename(tmp, fpath) != 0) rv = APR_FROM_OS_ERROR(errno);
    if (rv != APR_SUCCESS) {
        unlink(tmp);
        return rv;
    }
    rv = durable ? md_file_sync_dir(parent_dir(fpath, p), p) : APR_SUCCESS;
    if (written_cb) written_cb(fpath, written_baton);
    return rv;
}

apr_status_t md_file_write_atomic(const char *fpath, const void *data, apr_size_t len,
                                  apr_fileperms_t perms, apr_pool_t *p)
{
    return write_atomic(fpath, data, len, perms, (uid_t)-1, (gid_t)-1, 1, p);
}

apr_status_t md_file_write_atomic_owned(const char *fpath, const void *data, apr_size_t len,
                                        apr_fileperms_t perms, uid_t uid, gid_t gid, apr_pool_t *p)
{
    return write_atomic(fpath, data, len, perms, uid, gid, 1, p);
}

apr_status_t md_file_write_atomic_nosync(const char *fpath, const void *data, apr_size_t len,
                                         apr_fileperms_t perms, apr_pool_t *p)
{
    return write_atomic(fpath, data, len, perms, (uid_t)-1, (gid_t)-1, 0, p);
}

apr_status_t md_file_read(char **pdata, apr_size_t *plen, const char *fpath, apr_pool_t *p)
{
    apr_file_t *f = NULL;
    apr_finfo_t info;
    apr_size_t len;
    char *buf;
    apr_status_t rv;

    rv = apr_file_open(&f, fpath, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv != APR_SUCCESS) return rv;
    rv = apr_file_info_get(&info, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS) goto leave;
    len = (apr_size_t)info.size;
    buf = apr_palloc(p, len + 1);
    rv = apr_file_read_full(f, buf, len, &len);
    if (rv == APR_EOF) rv = APR_SUCCESS;
    if (rv != APR_SUCCESS) goto leave;
    buf[len] = '\0';
    *pdata = buf;
    *plen = len;
leave:
    apr_file_close(f);
    return rv;
}

apr_status_t md_file_mkdirs(const char *path, apr_fileperms_t perms, apr_pool_t *p)
{
    char *copy, *s;
    struct stat st;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return APR_SUCCESS;    /* the usual case: one look */
    copy = apr_pstrdup(p, path);
    for (s = copy + 1; ; ++s) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        if (mkdir(copy, (mode_t)perms) != 0 && errno != EEXIST) return APR_FROM_OS_ERROR(errno);
        if (stat(copy, &st) != 0) return APR_FROM_OS_ERROR(errno);
        if (!S_ISDIR(st.st_mode)) return APR_ENOTDIR;
        *s = c;
        if (c == '\0') break;
    }
    return APR_SUCCESS;
}

apr_status_t md_file_rm_rf(const char *path, apr_pool_t *p)
{
    struct stat st;
    struct dirent *de;
    DIR *dir;
    apr_status_t rv = APR_SUCCESS;

    if (lstat(path, &st) != 0) return (errno == ENOENT) ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    if (!S_ISDIR(st.st_mode)) return (unlink(path) == 0) ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    dir = opendir(path);
    if (!dir) return APR_FROM_OS_ERROR(errno);
    while (rv == APR_SUCCESS && (de = readdir(dir)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        rv = md_file_rm_rf(apr_pstrcat(p, path, "/", de->d_name, NULL), p);
    }
    closedir(dir);
    if (rv == APR_SUCCESS && rmdir(path) != 0) rv = APR_FROM_OS_ERROR(errno);
    return rv;
}

apr_status_t md_file_is(const char *path, apr_filetype_e type, apr_pool_t *p)
{
    apr_finfo_t info;
    apr_status_t rv = apr_stat(&info, path, APR_FINFO_TYPE, p);

    if (rv != APR_SUCCESS) return APR_ENOENT;
    return (info.filetype == type) ? APR_SUCCESS : APR_ENOENT;
}

const char *md_file_join(apr_pool_t *p, ...)
{
    va_list ap;
    const char *seg, *out = NULL;

    va_start(ap, p);
    while ((seg = va_arg(ap, const char *)) != NULL) {
        if (!out) out = seg;
        else if (*out && out[strlen(out) - 1] == '/') out = apr_pstrcat(p, out, seg, NULL);
        else out = apr_pstrcat(p, out, "/", seg, NULL);
    }
    va_end(ap);
    return out ? out : "";
}

/* The pid in a temporary file's name (".NAME.tmp.PID.XXXXXX"), or 0 when fname is not one. */
static long temp_writer(const char *fname)
{
    const char *t = fname[0] == '.' ? strstr(fname, ".tmp.") : NULL, *last;
    char *end;
    long pid;

    if (!t) return 0;
    for (last = t; (t = strstr(t + 1, ".tmp.")) != NULL; last = t) ;
    pid = strtol(last + 5, &end, 10);
    if (end == last + 5 || *end != '.' || strlen(end) != 7 || pid <= 0) return 0;
    return pid;
}

int md_file_sweep_dead_temps(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int removed = 0;
    long pid;

    if (!d) return 0;
    while ((de = readdir(d)) != NULL) {
        pid = temp_writer(de->d_name);
        if (!pid || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0) ++removed;
    }
    closedir(d);
    return removed;
}
