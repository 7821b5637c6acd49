/* Temporary files of dead writers: each process marks itself in STORE/writers/ before its first temporary file
 * there, and a store open sweeps the store only when a marked writer died (or daily, or after a reboot). */

/* A writer killed mid-write leaves DIR/.NAME.tmp.PID.XXXXXX behind (md_file.c). Looking into every directory of
 * the store for those at every open costs a few thousand directory reads with 1000 MDs, so:
 *  - before a process creates its first temporary file in a store, STORE/writers/PID is created (the hook
 *    md_file_on_temp; once per process and store); a normal exit removes it (atexit)
 *  - a store open (under the store lock) lists STORE/writers/: a marker whose process is gone means that a writer
 *    may have died mid-write: every directory is swept, then those markers are removed
 *  - the sweep also runs when STORE/writers/.swept (the last sweep's boot id) is missing, older than a day or of
 *    another boot: a marker lost in a crash, a writer that could not make its marker, or a pid taken by another
 *    process meanwhile leaves its files a day at most, never for good. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "md_file.h"
#include "md_store.h"
#include "md_store_fs_int.h"

#define STAMP ".swept"
#define SWEEP_EVERY apr_time_from_sec(24 * 3600)

typedef struct {
    char *base;        /* the store directory, without trailing '/' */
    size_t len;
    pid_t pid;         /* the process that made its marker for this store; 0: none */
} writer_store_t;

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static writer_store_t *stores;
static size_t nstores, cap;
static int hooked;

static char *marker_path(const char *base, pid_t pid)
{
    size_t n = strlen(base) + sizeof(MD_STORE_WRITERS_DIR) + 32;
    char *path = malloc(n);

    if (path) snprintf(path, n, "%s/%s/%ld", base, MD_STORE_WRITERS_DIR, (long)pid);
    return path;
}

/* At exit: this process's markers (not those its parent made before a fork). */
void md_store_writers_done(void)
{
    pid_t pid = getpid();
    char *path;
    size_t i;

    pthread_mutex_lock(&mutex);
    for (i = 0; i < nstores; ++i) {
        if (stores[i].pid != pid || !(path = marker_path(stores[i].base, pid))) continue;
        unlink(path);
        free(path);
        stores[i].pid = 0;
    }
    pthread_mutex_unlock(&mutex);
}

static void mark(writer_store_t *ws, pid_t pid)
{
    char *path = marker_path(ws->base, pid), *dir;
    int fd;

    ws->pid = pid;     /* once, made or not: without a marker the daily sweep takes over */
    if (!path) return;
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno == ENOENT && (dir = marker_path(ws->base, 0)) != NULL) {
        dir[strlen(dir) - 2] = '\0';           /* ".../writers/0" -> ".../writers" */
        if (mkdir(dir, MD_DPERMS_PUBLIC) == 0) chmod(dir, MD_DPERMS_PUBLIC);      /* not the umask's */
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        free(dir);
    }
    if (fd >= 0) close(fd);
    free(path);
}

/* Before a temporary file is created at fpath: the writer's marker in the store that holds it. */
static void on_temp(const char *fpath)
{
    pid_t pid = getpid();
    size_t i;

    pthread_mutex_lock(&mutex);
    for (i = 0; i < nstores; ++i) {
        writer_store_t *ws = &stores[i];
        if (ws->pid == pid || strncmp(fpath, ws->base, ws->len) || fpath[ws->len] != '/') continue;
        mark(ws, pid);
    }
    pthread_mutex_unlock(&mutex);
}

void md_store_fs__writers_watch(const md_store_t *store)
{
    size_t i, len = strlen(store->base);

    while (len > 1 && store->base[len - 1] == '/') --len;
    pthread_mutex_lock(&mutex);
    for (i = 0; i < nstores; ++i) {
        if (stores[i].len == len && !strncmp(stores[i].base, store->base, len)) goto leave;
    }
    if (nstores == cap) {
        writer_store_t *more = realloc(stores, (cap ? 2 * cap : 4) * sizeof(*stores));
        if (!more) goto leave;
        stores = more;
        cap = cap ? 2 * cap : 4;
    }
    stores[nstores].base = strndup(store->base, len);
    if (!stores[nstores].base) goto leave;
    stores[nstores].len = len;
    stores[nstores].pid = 0;
    ++nstores;
    if (!hooked) {
        hooked = 1;
        md_file_on_temp(on_temp);
        atexit(md_store_writers_done);
    }
leave:
    pthread_mutex_unlock(&mutex);
}

/* Temporary files of dead writers at the top and in GROUP/NAME of the groups that hold files per name. */
static void sweep_all(md_store_t *store, apr_pool_t *p)
{
    static const md_store_group_t groups[] = { MD_SG_ACCOUNTS, MD_SG_CHALLENGES, MD_SG_DOMAINS, MD_SG_STAGING,
                                               MD_SG_ARCHIVE, MD_SG_OCSP };
    apr_array_header_t *names;
    const char *dir;
    size_t g;
    int i;

    md_file_sweep_dead_temps(store->base);
    for (g = 0; g < sizeof(groups) / sizeof(groups[0]); ++g) {
        dir = md_store_fs__group_dir(store, groups[g], p);
        if (md_store_fs__list_dir(&names, dir, NULL, 0, p) != APR_SUCCESS) continue;
        for (i = 0; i < names->nelts; ++i) {
            md_file_sweep_dead_temps(md_file_join(p, dir, APR_ARRAY_IDX(names, i, const char *), NULL));
        }
    }
}

static const char *boot_id(apr_pool_t *p)
{
    char buf[64];
    ssize_t n = -1;
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);   /* procfs: no size to stat */

    if (fd >= 0) {
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
    }
    if (n < 0) n = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) --n;
    return apr_pstrndup(p, buf, (apr_size_t)n);
}

/* True when the last full sweep was in this boot and less than a day ago. */
static int stamp_fresh(const char *path, const char *boot, apr_pool_t *p)
{
    char buf[64];
    struct stat st;
    apr_time_t now = apr_time_now(), at;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0) return 0;
    n = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? read(fd, buf, sizeof(buf) - 1) : -1;
    close(fd);
    (void)p;
    if (n < 0) return 0;
    buf[n] = '\0';
    at = apr_time_from_sec(st.st_mtime);
    return !strcmp(buf, boot) && at > now - SWEEP_EVERY && at < now + apr_time_from_sec(3600);
}

/* The markers of writers that are gone (pid files in dir whose process does not exist). */
static apr_array_header_t *dead_writers(const char *dir, apr_pool_t *p)
{
    apr_array_header_t *dead = apr_array_make(p, 2, sizeof(const char *));
    struct dirent *de;
    char *end;
    long pid;
    DIR *d = opendir(dir);

    if (!d) return dead;
    while ((de = readdir(d)) != NULL) {
        pid = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        APR_ARRAY_PUSH(dead, const char *) = md_file_join(p, dir, de->d_name, NULL);
    }
    closedir(d);
    return dead;
}

int md_store_fs__sweep(md_store_t *store, apr_pool_t *p)
{
    const char *dir = md_file_join(p, store->base, MD_STORE_WRITERS_DIR, NULL);
    const char *stamp = md_file_join(p, dir, STAMP, NULL), *boot = boot_id(p);
    apr_array_header_t *dead = dead_writers(dir, p);
    int i;

    if (dead->nelts == 0 && stamp_fresh(stamp, boot, p)) return 0;
    sweep_all(store, p);
    for (i = 0; i < dead->nelts; ++i) unlink(APR_ARRAY_IDX(dead, i, const char *));
    if (md_store_fs__mkdir(dir, MD_DPERMS_PUBLIC, NULL, p) == APR_SUCCESS) {
        md_file_write_atomic_nosync(stamp, boot, strlen(boot), MD_FPERMS_PUBLIC, p);
    }
    return 1;
}
