/* External programs: fork/exec of an argument vector (no shell), extra environment, time limit, output. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <apr_strings.h>

#include "md_exec.h"
#include "md_result.h"

/* Decisions, in short:
 * - argv[0] with a '/' is used as it is. Without one it is looked up in $PATH here, in the parent (as
 *   execvp would, but before the fork, so the child only calls execve); not found is APR_ENOENT.
 * - The child gets its own process group; on timeout the whole group gets SIGTERM, then SIGKILL after
 *   2s, so helpers started by a script die with it. When the program exits by itself, its background
 *   processes are left alone and the function returns (it does not wait for them to close the pipe).
 * - timeout <= 0 means no time limit.
 * - Everything the parent opens is close-on-exec; the child marks every inherited descriptor above 2 as
 *   close-on-exec before execve, so the program gets stdin, stdout and stderr only.
 * - Between fork and execve the child makes only async-signal-safe calls; all memory is prepared before.
 *   The program starts with default signal dispositions and an empty signal mask. */

extern char **environ;

#define EXEC_OUTPUT_MAX     (64 * 1024)
#define EXEC_KILL_GRACE_MS  2000
#define EXEC_POLL_MS        100
#define EXEC_REAP_POLL_MS   10
#define EXEC_FD_SCAN_MAX    65536
#define EXEC_CHILD_FAILED   127

md_exec_outcome_t md_exec_outcome(int exit_code)
{
    switch (exit_code) {
    case MD_EXIT_OK:         return MD_EXEC_OK;
    case MD_EXIT_RETRY:      return MD_EXEC_RETRY;
    case MD_EXIT_NEEDS_POLL: return MD_EXEC_NEEDS_POLL;
    default:                 return MD_EXEC_FAILED;
    }
}

const char *md_exec_outcome_str(md_exec_outcome_t outcome)
{
    switch (outcome) {
    case MD_EXEC_OK:         return "ok";
    case MD_EXEC_RETRY:      return "retry";
    case MD_EXEC_NEEDS_POLL: return "needs-poll";
    default:                 return "failed";
    }
}

/* Everything about one run; filled before the fork so the child needs no allocation. */
typedef struct {
    const char *name;          /* the program as given, for messages */
    const char *path;          /* what is passed to execve */
    char **argv;
    char **envp;
    struct sigaction sa_dfl;   /* SIG_DFL, to reset the child's signal dispositions */
    int fd_max;                /* highest descriptor to mark close-on-exec when close_range fails */
    pid_t pid;
    int out_fd;                /* read end of stdout+stderr, -1 once closed */
    int err_fd;                /* read end of the exec error pipe, -1 once closed */
    char *out;
    apr_size_t out_len;
    int status;                /* waitpid status once reaped */
} exec_t;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *pfd)
{
    if (*pfd >= 0) close(*pfd);
    *pfd = -1;
}

/* ---- preparing (parent, before the fork) ------------------------------------------------------------ */

static int is_executable_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

const char *md_exec_find(const char *program, apr_pool_t *p)
{
    const char *path_env = getenv("PATH");
    char *dirs, *dir, *last = NULL, *candidate;

    if (!program || !*program) return NULL;
    if (strchr(program, '/')) return is_executable_file(program) ? program : NULL;
    dirs = apr_pstrdup(p, (path_env && *path_env) ? path_env : "/usr/local/bin:/usr/bin:/bin");
    for (dir = apr_strtok(dirs, ":", &last); dir; dir = apr_strtok(NULL, ":", &last)) {
        if (!*dir) continue;   /* an empty entry would mean the working directory: not taken */
        candidate = apr_pstrcat(p, dir, "/", program, NULL);
        if (is_executable_file(candidate)) return candidate;
    }
    return NULL;
}

static apr_status_t resolve_program(exec_t *x, md_result_t *result, apr_pool_t *p)
{
    if (strchr(x->name, '/')) {
        x->path = x->name;
        return APR_SUCCESS;
    }
    x->path = md_exec_find(x->name, p);
    if (x->path) return APR_SUCCESS;
    md_result_printf(result, APR_ENOENT, "program '%s' not found in PATH", x->name);
    return APR_ENOENT;
}

static char **make_argv(const apr_array_header_t *argv, apr_pool_t *p)
{
    char **av = apr_pcalloc(p, sizeof(char *) * (apr_size_t)(argv->nelts + 1));
    int i;

    for (i = 0; i < argv->nelts; ++i) av[i] = (char *)APR_ARRAY_IDX(argv, i, const char *);
    return av;
}

/* True when "NAME=value" has a NAME set in env. */
static int env_overridden(const char *entry, apr_table_t *env, apr_pool_t *p)
{
    const char *eq = strchr(entry, '=');

    if (!env || !eq) return 0;
    return apr_table_get(env, apr_pstrndup(p, entry, (apr_size_t)(eq - entry))) != NULL;
}

static char **make_envp(apr_table_t *env, apr_pool_t *p)
{
    const apr_array_header_t *elts = env ? apr_table_elts(env) : NULL;
    const apr_table_entry_t *e = elts ? (const apr_table_entry_t *)elts->elts : NULL;
    apr_size_t n = 0, k = 0;
    char **envp;
    int i;

    while (environ && environ[n]) ++n;
    envp = apr_pcalloc(p, sizeof(char *) * (n + (elts ? (apr_size_t)elts->nelts : 0) + 1));
    for (i = 0; (apr_size_t)i < n; ++i) {
        if (!env_overridden(environ[i], env, p)) envp[k++] = environ[i];
    }
    for (i = 0; elts && i < elts->nelts; ++i) {
        if (e[i].key && e[i].val) envp[k++] = apr_pstrcat(p, e[i].key, "=", e[i].val, NULL);
    }
    envp[k] = NULL;
    return envp;
}

static int fd_scan_max(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY
        || rl.rlim_cur > EXEC_FD_SCAN_MAX) {
        return EXEC_FD_SCAN_MAX;
    }
    return (int)rl.rlim_cur;
}

/* Move a descriptor of ours above stdin/out/err, so the child's dup2 calls cannot clobber it. */
static int fd_above_stdio(int fd)
{
    int moved;

    if (fd < 0 || fd > 2) return fd;
    moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

/* ---- the child: async-signal-safe calls only -------------------------------------------------------- */

static void child_mark_cloexec(const exec_t *x)
{
    int fd;

#ifdef CLOSE_RANGE_CLOEXEC
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    for (fd = 3; fd < x->fd_max; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static __attribute__((noreturn)) void child_exec(const exec_t *x, int in_fd, int out_w, int err_w)
{
    sigset_t none;
    int sig, err;

    setpgid(0, 0);
    /* all signals are blocked here (see exec_spawn): reset the handlers, then open the mask */
    for (sig = 1; sig < NSIG; ++sig) sigaction(sig, &x->sa_dfl, NULL);   /* SIG_IGN survives exec */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in_fd, 0) < 0 || dup2(out_w, 1) < 0 || dup2(out_w, 2) < 0) goto failed;
    child_mark_cloexec(x);
    execve(x->path, x->argv, x->envp);
failed:
    err = errno;
    if (write(err_w, &err, sizeof(err)) < 0) { /* nothing left to do */ }
    _exit(EXEC_CHILD_FAILED);
}

/* ---- the parent ------------------------------------------------------------------------------------- */

static apr_status_t open_fds(int *pin, int outp[2], int errp[2])
{
    *pin = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (*pin < 0) return APR_FROM_OS_ERROR(errno);
    if (pipe2(outp, O_CLOEXEC) != 0) return APR_FROM_OS_ERROR(errno);
    if (pipe2(errp, O_CLOEXEC) != 0) return APR_FROM_OS_ERROR(errno);
    *pin = fd_above_stdio(*pin);
    outp[0] = fd_above_stdio(outp[0]);
    outp[1] = fd_above_stdio(outp[1]);
    errp[0] = fd_above_stdio(errp[0]);
    errp[1] = fd_above_stdio(errp[1]);
    if (*pin < 0 || outp[0] < 0 || outp[1] < 0 || errp[0] < 0 || errp[1] < 0) return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

static apr_status_t exec_spawn(exec_t *x, md_result_t *result)
{
    int in_fd = -1, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
    apr_status_t rv;

    sigset_t all, old;
    int err;

    rv = open_fds(&in_fd, outp, errp);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "cannot create pipes to run %s: %s", x->name,
                         strerror(APR_TO_OS_ERROR(rv)));
        goto leave;
    }
    /* no signal handler of the application may run in the child before its dispositions are reset */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    x->pid = fork();
    if (x->pid == 0) child_exec(x, in_fd, outp[1], errp[1]);
    err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (x->pid < 0) {
        rv = APR_FROM_OS_ERROR(err);
        md_result_printf(result, rv, "cannot fork to run %s: %s", x->name, strerror(err));
        goto leave;
    }
    setpgid(x->pid, x->pid);   /* also here, so a kill of the group right away cannot miss it */
    x->out_fd = outp[0];
    x->err_fd = errp[0];
    outp[0] = errp[0] = -1;
leave:
    close_fd(&in_fd);
    close_fd(&outp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    return rv;
}

/* Read what is there: keep the first EXEC_OUTPUT_MAX bytes, drop the rest. Closes out_fd at EOF.
 * Returns the bytes read, 0 at the end, -1 when nothing is there right now. */
static ssize_t exec_read(exec_t *x)
{
    char buf[4096];
    apr_size_t room;
    ssize_t n;

    n = read(x->out_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return -1;
    if (n <= 0) {
        close_fd(&x->out_fd);
        return 0;
    }
    room = EXEC_OUTPUT_MAX - x->out_len;
    if ((apr_size_t)n < room) room = (apr_size_t)n;
    memcpy(x->out + x->out_len, buf, room);
    x->out_len += room;
    return n;
}

/* After the program is gone: take what is left in the pipe without waiting for other writers (its
 * background processes), and at most 1 MiB of it. */
static void exec_drain(exec_t *x)
{
    int i;

    if (x->out_fd < 0) return;
    fcntl(x->out_fd, F_SETFL, fcntl(x->out_fd, F_GETFL) | O_NONBLOCK);
    for (i = 0; i < 256 && x->out_fd >= 0; ++i) {
        if (exec_read(x) <= 0) break;
    }
    close_fd(&x->out_fd);
}

/* Did the program end? 1 when reaped, 0 when still running, -1 (errno set) when it cannot be waited for. */
static int exec_try_reap(exec_t *x)
{
    pid_t r;

    do {
        r = waitpid(x->pid, &x->status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == x->pid) {
        x->pid = -1;
        return 1;
    }
    return r < 0 ? -1 : 0;
}

/* Collect output until the program ends (APR_SUCCESS) or deadline_ms passes (APR_TIMEUP); < 0: none. */
static apr_status_t exec_wait(exec_t *x, int64_t deadline_ms)
{
    struct pollfd pfd;
    int64_t now;
    int r, wait_ms;

    for (;;) {
        r = exec_try_reap(x);
        if (r != 0) {
            exec_drain(x);
            return r > 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
        }
        now = mono_ms();
        if (deadline_ms >= 0 && now >= deadline_ms) return APR_TIMEUP;
        wait_ms = x->out_fd >= 0 ? EXEC_POLL_MS : EXEC_REAP_POLL_MS;
        if (deadline_ms >= 0 && deadline_ms - now < wait_ms) wait_ms = (int)(deadline_ms - now);
        pfd.fd = x->out_fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        r = poll(&pfd, x->out_fd >= 0 ? 1 : 0, wait_ms);
        if (r > 0 && pfd.revents) exec_read(x);
    }
}

/* The time is up: SIGTERM to the program's group, SIGKILL when it is still there after the grace time. */
static apr_status_t exec_kill(exec_t *x)
{
    pid_t pid = x->pid;

    if (kill(-pid, SIGTERM) != 0) kill(pid, SIGTERM);
    if (exec_wait(x, mono_ms() + EXEC_KILL_GRACE_MS) != APR_TIMEUP) return APR_SUCCESS;
    if (kill(-pid, SIGKILL) != 0) kill(pid, SIGKILL);
    return exec_wait(x, -1);
}

/* Did execve work? The error pipe closes on exec, or carries the child's errno. */
static apr_status_t exec_check_started(exec_t *x, md_result_t *result)
{
    int err = 0;
    ssize_t n;

    do {
        n = read(x->err_fd, &err, sizeof(err));
    } while (n < 0 && errno == EINTR);
    close_fd(&x->err_fd);
    if (n != (ssize_t)sizeof(err)) return APR_SUCCESS;
    exec_wait(x, -1);
    md_result_printf(result, APR_FROM_OS_ERROR(err), "cannot execute %s: %s", x->path, strerror(err));
    return APR_FROM_OS_ERROR(err);
}

static int exit_code_of(int status)
{
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 128;
}

/* Reap the program and collect its output, within the time limit. */
static apr_status_t exec_finish(exec_t *x, apr_interval_time_t timeout, md_result_t *result)
{
    int64_t start = mono_ms();
    apr_status_t rv;

    rv = exec_wait(x, timeout > 0 ? start + (int64_t)apr_time_as_msec(timeout) : -1);
    if (rv == APR_TIMEUP) {
        exec_kill(x);
        md_result_printf(result, APR_TIMEUP, "%s timed out after %.1fs and was killed", x->name,
                         (double)(mono_ms() - start) / 1000.0);
        return APR_TIMEUP;
    }
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "cannot get the exit status of %s: %s", x->name,
                         strerror(APR_TO_OS_ERROR(rv)));
    }
    return rv;
}

apr_status_t md_exec_run(int *pexit, const char **poutput, const apr_array_header_t *argv,
                         apr_table_t *env, apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p)
{
    exec_t x;
    apr_status_t rv;

    memset(&x, 0, sizeof(x));
    x.pid = -1;
    x.out_fd = x.err_fd = -1;
    *pexit = -1;
    if (poutput) *poutput = "";
    if (!argv || argv->nelts < 1 || !APR_ARRAY_IDX(argv, 0, const char *)
        || !*APR_ARRAY_IDX(argv, 0, const char *)) {
        md_result_set(result, APR_EINVAL, "no program to run");
        return APR_EINVAL;
    }
    x.name = APR_ARRAY_IDX(argv, 0, const char *);
    rv = resolve_program(&x, result, p);
    if (rv != APR_SUCCESS) goto leave;
    x.argv = make_argv(argv, p);
    x.envp = make_envp(env, p);
    x.sa_dfl.sa_handler = SIG_DFL;
    sigemptyset(&x.sa_dfl.sa_mask);
    x.fd_max = fd_scan_max();
    x.out = apr_palloc(p, EXEC_OUTPUT_MAX + 1);
    rv = exec_spawn(&x, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = exec_check_started(&x, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = exec_finish(&x, timeout, result);
    if (x.pid < 0) *pexit = exit_code_of(x.status);
leave:
    close_fd(&x.out_fd);
    close_fd(&x.err_fd);
    if (x.out) {
        x.out[x.out_len] = '\0';
        if (poutput) *poutput = x.out;
    }
    return rv;
}
