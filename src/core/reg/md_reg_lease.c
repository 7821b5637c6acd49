/* Leases on MDs in STORE/leases/NAME.json: taken with link() (exclusive also on NFS), renewed by atomic rename,
 * taken over when expired or when their holder is known dead, released by unlink; never fcntl or flock. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>
#include <openssl/rand.h>

#include "md_encode.h"
#include "md_file.h"
#include "md_json.h"
#include "md_reg_lease.h"
#include "md_time.h"

struct md_reg_lease_t {
    apr_pool_t *p;               /* its own root pool */
    md_reg_t *reg;
    const char *name;
    const char *path;            /* STORE/leases/NAME.json */
    const char *nonce;           /* this lease among all leases of the MD */
    apr_interval_time_t duration;
    apr_time_t until;
    int lost;
};

/* What a lease file says (all NULL/0 when it cannot be read: such a lease does not hold). */
typedef struct {
    const char *holder, *node, *nonce;
    long long pid, start;
    apr_time_t until;
} lease_file_t;

/* This machine, boot and pid namespace: pids of holders with the same node can be checked here. */
static const char *node_id(apr_pool_t *p)
{
    char host[256] = "", boot[64] = "", ns[64] = "";
    FILE *f;
    ssize_t n;

    gethostname(host, sizeof(host) - 1);
    if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
        if (!fgets(boot, sizeof(boot), f)) boot[0] = '\0';
        fclose(f);
    }
    boot[strcspn(boot, "\n")] = '\0';
    n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
    ns[n > 0 ? n : 0] = '\0';
    return apr_psprintf(p, "%s %s %s", host, boot, ns);
}

/* The start time of a process (clock ticks since boot, /proc/PID/stat field 22), 0 when unknown; *pzombie when it
 * has ended and waits to be reaped (such a process still answers kill(pid, 0)). */
static long long proc_start(long long pid, int *pzombie)
{
    char path[64], buf[1024];
    const char *s;
    long long start = 0;
    FILE *f;
    int i;

    *pzombie = 0;
    snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
    if ((f = fopen(path, "r")) == NULL) return 0;
    s = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
    fclose(f);
    if (s && s[1] == ' ') *pzombie = s[2] == 'Z' || s[2] == 'X';
    for (i = 2; s && i < 22; ++i) s = strchr(s + 1, ' ');
    if (s) start = strtoll(s + 1, NULL, 10);
    return start;
}

const char *md_reg_lease_me(apr_pool_t *p)
{
    char host[256] = "";

    gethostname(host, sizeof(host) - 1);
    return apr_psprintf(p, "%s pid %ld", host, (long)getpid());
}

/* 1: read and parsed, 0: there but unreadable, -1: no such file. */
static int file_read(lease_file_t *lf, const char *path, apr_pool_t *p)
{
    md_json_t *json = NULL;
    const char *until;
    char *data = NULL;
    apr_size_t len = 0;
    apr_status_t rv;

    memset(lf, 0, sizeof(*lf));
    rv = md_file_read(&data, &len, path, p);
    if (APR_STATUS_IS_ENOENT(rv)) return -1;
    if (rv != APR_SUCCESS || md_json_readd(&json, data, len, path, NULL, p) != APR_SUCCESS) return 0;
    lf->holder = md_json_gets(json, "holder", NULL);
    lf->node = md_json_gets(json, "node", NULL);
    lf->nonce = md_json_gets(json, "nonce", NULL);
    lf->pid = md_json_getl(json, "pid", NULL);
    lf->start = md_json_getl(json, "start", NULL);
    lf->until = (apr_time_t)md_json_getl(json, "expires", NULL);
    until = md_json_gets(json, "until", NULL);
    if (!lf->until && until && md_time_parse_rfc3339(&lf->until, until) != APR_SUCCESS) lf->until = 0;
    return 1;
}

/* A lease whose holder is a process of this node that no longer runs (its pid gone or reused). */
static int holder_dead(const lease_file_t *lf, apr_pool_t *p)
{
    long long start;
    int zombie;

    if (!lf->node || lf->pid <= 0 || strcmp(lf->node, node_id(p))) return 0;
    if (kill((pid_t)lf->pid, 0) != 0 && errno == ESRCH) return 1;
    start = proc_start(lf->pid, &zombie);
    return zombie || (lf->start && start && start != lf->start);
}

/* True when the lease in lf holds: readable, not expired, its holder not known dead. */
static int lease_runs(const lease_file_t *lf, apr_time_t now, apr_pool_t *p)
{
    return lf->nonce && lf->until > now && !holder_dead(lf, p);
}

/* This process's node id and start time, read once per thread and process (thread-local: no lock that a fork
 * could catch held; a forked child's pid differs, so it reads them again): /proc read for every lease taken was 1 %
 * of a drive's CPU per certificate. */
static void me_cached(const char **pnode, long long *pstart, apr_pool_t *p)
{
    static __thread pid_t pid;
    static __thread char node[512];
    static __thread long long start;
    const char *n;
    int zombie;

    if (pid != getpid()) {
        n = node_id(p);
        start = proc_start((long long)getpid(), &zombie);
        if (strlen(n) >= sizeof(node)) {     /* too long to keep (no such host name): read each time */
            *pnode = n;
            *pstart = start;
            return;
        }
        strcpy(node, n);
        pid = getpid();
    }
    *pnode = apr_pstrdup(p, node);
    *pstart = start;
}

static const char *lease_json(const md_reg_lease_t *lk, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);
    const char *node;
    long long start;

    md_json_sets(lk->name, json, "name", NULL);
    md_json_sets(md_reg_lease_me(p), json, "holder", NULL);
    me_cached(&node, &start, p);
    md_json_sets(node, json, "node", NULL);
    md_json_setl((long long)getpid(), json, "pid", NULL);
    md_json_setl(start, json, "start", NULL);
    md_json_sets(lk->nonce, json, "nonce", NULL);
    md_json_sets(md_time_print_rfc3339(lk->until, p), json, "until", NULL);
    md_json_setl((long long)lk->until, json, "expires", NULL);
    return md_json_writep(json, MD_JSON_FMT_INDENT, p);
}

/* A new file next to the lease, with its content: the path, or NULL (errno set). */
static const char *temp_write(const md_reg_lease_t *lk, apr_pool_t *p)
{
    const char *text = lease_json(lk, p), *path;
    unsigned char rnd[6];
    ssize_t n;
    int fd;

    RAND_bytes(rnd, sizeof(rnd));
    path = apr_psprintf(p, "%s/.%s.json.tmp.%ld.%s", md_file_join(p, md_store_base_dir(lk->reg->store),
                        MD_REG_LEASES_DIR, NULL), lk->name, (long)getpid(), md_hex_encode(rnd, 3, 0, p));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return NULL;
    fchmod(fd, 0644);
    n = write(fd, text, strlen(text));
    if (close(fd) != 0 || n != (ssize_t)strlen(text)) {
        unlink(path);
        return NULL;
    }
    return path;
}

/* A stale lease out of the way: renamed to a name of our own, then checked to be the one we judged stale. If it was
 * a new lease (someone replaced the stale one meanwhile) it is put back. APR_SUCCESS: gone; APR_EBUSY: it lives. */
static apr_status_t remove_stale(const md_reg_lease_t *lk, const lease_file_t *stale, apr_pool_t *p)
{
    const char *aside = apr_psprintf(p, "%s.stale.%ld", lk->path, (long)getpid());
    lease_file_t moved;

    if (rename(lk->path, aside) != 0) return errno == ENOENT ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    file_read(&moved, aside, p);
    if ((moved.nonce && stale->nonce && !strcmp(moved.nonce, stale->nonce)) || (!moved.nonce && !stale->nonce)) {
        unlink(aside);
        return APR_SUCCESS;
    }
    if (link(aside, lk->path) != 0 && errno != EEXIST) {
        unlink(aside);
        return APR_FROM_OS_ERROR(errno);
    }
    unlink(aside);
    return APR_EBUSY;
}

/* One attempt to make the lease file ours: APR_SUCCESS, APR_EBUSY (held: *cur), APR_EAGAIN (changed under us). */
static apr_status_t take_once(md_reg_lease_t *lk, lease_file_t *cur, const char *temp, apr_pool_t *p)
{
    apr_status_t rv;
    int found;

    if (link(temp, lk->path) == 0) return APR_SUCCESS;
    if (errno != EEXIST) return APR_FROM_OS_ERROR(errno);
    found = file_read(cur, lk->path, p);
    if (found < 0) return APR_EAGAIN;                      /* removed meanwhile */
    if (lease_runs(cur, md_reg_now(lk->reg), p)) return APR_EBUSY;
    rv = remove_stale(lk, cur, p);
    return rv == APR_SUCCESS ? APR_EAGAIN : rv;
}

static md_reg_lease_t *lease_make(md_reg_t *reg, const char *name, apr_interval_time_t duration)
{
    unsigned char rnd[16];
    md_reg_lease_t *lk;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    lk = apr_pcalloc(p, sizeof(*lk));
    lk->p = p;
    lk->reg = reg;
    lk->name = apr_pstrdup(p, name);
    lk->path = md_file_join(p, md_store_base_dir(reg->store), MD_REG_LEASES_DIR,
                            apr_pstrcat(p, name, ".json", NULL), NULL);
    RAND_bytes(rnd, sizeof(rnd));
    lk->nonce = md_hex_encode(rnd, sizeof(rnd), 0, p);
    lk->duration = duration > 0 ? duration : MD_REG_LEASE_DEF;
    lk->until = md_reg_now(reg) + lk->duration;
    return lk;
}

apr_status_t md_reg_lease_take(md_reg_lease_t **plk, md_reg_lease_info_t *pother, md_reg_t *reg, const char *name,
                               apr_interval_time_t duration, apr_pool_t *pinfo)
{
    md_reg_lease_t *lk = lease_make(reg, name, duration);
    apr_status_t rv = APR_EAGAIN;
    const char *temp;
    lease_file_t cur;
    apr_pool_t *p;
    int i;

    *plk = NULL;
    if (pother) memset(pother, 0, sizeof(*pother));
    memset(&cur, 0, sizeof(cur));
    apr_pool_create(&p, lk->p);
    md_file_mkdirs(md_file_join(p, md_store_base_dir(reg->store), MD_REG_LEASES_DIR, NULL), MD_DPERMS_PUBLIC, p);
    temp = temp_write(lk, p);
    if (!temp) rv = APR_FROM_OS_ERROR(errno);
    for (i = 0; temp && rv == APR_EAGAIN && i < 5; ++i) rv = take_once(lk, &cur, temp, p);
    if (temp) unlink(temp);
    if (rv == APR_EAGAIN) rv = APR_EBUSY;
    if (rv == APR_EBUSY && pother) {
        pother->holder = apr_pstrdup(pinfo, cur.holder ? cur.holder : "?");
        pother->until = cur.until;
    }
    apr_pool_destroy(p);
    if (rv == APR_SUCCESS) *plk = lk;
    else apr_pool_destroy(lk->p);
    return rv;
}

apr_status_t md_reg_lease_renew(md_reg_lease_t *lk)
{
    const char *temp;
    lease_file_t cur;
    apr_status_t rv = APR_SUCCESS;
    apr_pool_t *p;

    if (lk->lost) return APR_EBUSY;
    apr_pool_create(&p, lk->p);
    if (file_read(&cur, lk->path, p) <= 0 || !cur.nonce || strcmp(cur.nonce, lk->nonce)) {
        lk->lost = 1;
        rv = APR_EBUSY;
        goto leave;
    }
    lk->until = md_reg_now(lk->reg) + lk->duration;
    temp = temp_write(lk, p);
    if (!temp || rename(temp, lk->path) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        if (temp) unlink(temp);
    }
leave:
    apr_pool_destroy(p);
    return rv;
}

void md_reg_lease_release(md_reg_lease_t *lk)
{
    lease_file_t cur;
    apr_pool_t *p;

    if (!lk) return;
    apr_pool_create(&p, lk->p);
    if (!lk->lost && file_read(&cur, lk->path, p) > 0 && cur.nonce && !strcmp(cur.nonce, lk->nonce)) {
        unlink(lk->path);
    }
    apr_pool_destroy(lk->p);
}

const char *md_reg_lease_name(const md_reg_lease_t *lk)
{
    return lk->name;
}

apr_time_t md_reg_lease_until(const md_reg_lease_t *lk)
{
    return lk->until;
}

void md_reg_lease_get(md_reg_lease_info_t *info, md_reg_t *reg, const char *name, apr_pool_t *p)
{
    const char *path = md_file_join(p, md_store_base_dir(reg->store), MD_REG_LEASES_DIR,
                                    apr_pstrcat(p, name, ".json", NULL), NULL);
    lease_file_t cur;

    memset(info, 0, sizeof(*info));
    if (file_read(&cur, path, p) <= 0 || !lease_runs(&cur, md_reg_now(reg), p)) return;
    info->holder = cur.holder ? cur.holder : "?";
    info->until = cur.until;
}
