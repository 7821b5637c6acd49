/* The server thread under the built-in http-01 and tls-alpn-01 responders: poll-multiplexed connections. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <apr_strings.h>

#include "md_result.h"
#include "md_responder_int.h"

#define SRV_NFDS (2 + MD_SRV_MAX_CONNS)

typedef struct {
    md_srv_proto_t proto;
    int listen_fd;
    int stop_fds[2];          /* a byte written to [1] stops the thread */
    int running;
    pthread_t thread;
    md_srv_conn_t conns[MD_SRV_MAX_CONNS];
} md_srv_t;

static int64_t srv_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void srv_conn_close(md_srv_t *srv, md_srv_conn_t *c)
{
    if (c->fd < 0) return;
    srv->proto.close(srv->proto.baton, c);
    c->data = NULL;
    close(c->fd);
    c->fd = -1;
}

static void srv_conn_next(md_srv_t *srv, md_srv_conn_t *c, md_srv_want_t want)
{
    c->want = want;
    if (want == MD_SRV_DONE) srv_conn_close(srv, c);
}

static md_srv_conn_t *srv_free_slot(md_srv_t *srv)
{
    int i;

    for (i = 0; i < MD_SRV_MAX_CONNS; ++i) {
        if (srv->conns[i].fd < 0) return &srv->conns[i];
    }
    return NULL;
}

static void srv_accept(md_srv_t *srv)
{
    md_srv_conn_t *c;
    int fd;

    while ((c = srv_free_slot(srv)) != NULL) {
        fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                poll(NULL, 0, 50);   /* out of resources: do not spin */
            }
            return;
        }
        c->fd = fd;
        c->deadline_ms = srv_now_ms() + MD_SRV_CONN_TIMEOUT_MS;
        c->len = c->sent = 0;
        c->data = NULL;
        srv_conn_next(srv, c, srv->proto.open(srv->proto.baton, c));
    }
}

/* Fill the poll set; returns the poll timeout (the nearest connection deadline), -1 for none. */
static int srv_pollset(md_srv_t *srv, struct pollfd *pfds)
{
    int64_t now = srv_now_ms(), next = -1;
    md_srv_conn_t *c;
    int i;

    memset(pfds, 0, sizeof(struct pollfd) * SRV_NFDS);
    pfds[0].fd = srv->stop_fds[0];
    pfds[0].events = POLLIN;
    pfds[1].fd = srv_free_slot(srv) ? srv->listen_fd : -1;
    pfds[1].events = POLLIN;
    for (i = 0; i < MD_SRV_MAX_CONNS; ++i) {
        c = &srv->conns[i];
        pfds[2 + i].fd = c->fd;
        pfds[2 + i].events = (c->want == MD_SRV_WANT_WRITE) ? POLLOUT : POLLIN;
        if (c->fd >= 0 && (next < 0 || c->deadline_ms < next)) next = c->deadline_ms;
    }
    if (next < 0) return -1;
    return next <= now ? 0 : (int)(next - now);
}

static void srv_expire(md_srv_t *srv)
{
    int64_t now = srv_now_ms();
    int i;

    for (i = 0; i < MD_SRV_MAX_CONNS; ++i) {
        if (srv->conns[i].fd >= 0 && srv->conns[i].deadline_ms <= now) srv_conn_close(srv, &srv->conns[i]);
    }
}

static void *srv_main(void *baton)
{
    md_srv_t *srv = baton;
    struct pollfd pfds[SRV_NFDS];
    md_srv_conn_t *c;
    int i, timeout;

    for (;;) {
        timeout = srv_pollset(srv, pfds);
        if (poll(pfds, SRV_NFDS, timeout) < 0) {
            if (errno != EINTR) poll(NULL, 0, 50);
            continue;
        }
        if (pfds[0].revents) break;
        for (i = 0; i < MD_SRV_MAX_CONNS; ++i) {
            c = &srv->conns[i];
            if (c->fd >= 0 && pfds[2 + i].revents) srv_conn_next(srv, c, srv->proto.io(srv->proto.baton, c));
        }
        srv_expire(srv);
        if (pfds[1].revents) srv_accept(srv);
    }
    for (i = 0; i < MD_SRV_MAX_CONNS; ++i) srv_conn_close(srv, &srv->conns[i]);
    return NULL;
}

static apr_status_t srv_cleanup(void *baton)
{
    md_srv_t *srv = baton;
    char stop = 1;

    if (srv->running) {
        while (write(srv->stop_fds[1], &stop, 1) < 0 && errno == EINTR) { /* again */ }
        pthread_join(srv->thread, NULL);
        srv->running = 0;
    }
    if (srv->listen_fd >= 0) close(srv->listen_fd);
    if (srv->stop_fds[0] >= 0) close(srv->stop_fds[0]);
    if (srv->stop_fds[1] >= 0) close(srv->stop_fds[1]);
    srv->listen_fd = srv->stop_fds[0] = srv->stop_fds[1] = -1;
    return APR_SUCCESS;
}

/* Bind and listen; *pport gets the port actually bound. */
static apr_status_t srv_listen(md_srv_t *srv, int *pport, const char *addr, int port, md_result_t *result)
{
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
    char portstr[16];
    int one = 1, rc;
    apr_status_t rv = APR_SUCCESS;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(portstr, sizeof(portstr), "%d", port);
    rc = getaddrinfo(addr, portstr, &hints, &ai);
    if (rc != 0 || !ai) {
        md_result_printf(result, APR_EINVAL, "%s: not a numeric address: %s", srv->proto.name, addr);
        return APR_EINVAL;
    }
    srv->listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (srv->listen_fd < 0
        || setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || bind(srv->listen_fd, ai->ai_addr, ai->ai_addrlen) != 0
        || listen(srv->listen_fd, 64) != 0
        || getsockname(srv->listen_fd, (struct sockaddr *)&ss, &slen) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        md_result_printf(result, rv, "%s: cannot listen on %s port %d: %s", srv->proto.name, addr, port,
                         strerror(errno));
        goto leave;
    }
    *pport = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
leave:
    freeaddrinfo(ai);
    return rv;
}

/* The thread starts with all signals blocked: they are for the application's threads, and a write to a
 * closed connection then fails with EPIPE instead of killing the process. */
static apr_status_t srv_run(md_srv_t *srv, md_result_t *result)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&srv->thread, NULL, srv_main, srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        md_result_printf(result, APR_FROM_OS_ERROR(rc), "%s: cannot start thread: %s", srv->proto.name,
                         strerror(rc));
        return APR_FROM_OS_ERROR(rc);
    }
    srv->running = 1;
    return APR_SUCCESS;
}

apr_status_t md_srv__start(int *pport, const char *addr, int port, const md_srv_proto_t *proto,
                           md_result_t *result, apr_pool_t *p)
{
    md_srv_t *srv = apr_pcalloc(p, sizeof(*srv));
    apr_status_t rv;
    int i;

    srv->proto = *proto;
    srv->listen_fd = srv->stop_fds[0] = srv->stop_fds[1] = -1;
    for (i = 0; i < MD_SRV_MAX_CONNS; ++i) srv->conns[i].fd = -1;
    apr_pool_cleanup_register(p, srv, srv_cleanup, apr_pool_cleanup_null);
    rv = srv_listen(srv, pport, addr ? addr : "127.0.0.1", port, result);
    if (rv != APR_SUCCESS) goto leave;
    if (pipe2(srv->stop_fds, O_CLOEXEC) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        md_result_printf(result, rv, "%s: cannot create a pipe: %s", proto->name, strerror(errno));
        goto leave;
    }
    rv = srv_run(srv, result);
leave:
    if (rv != APR_SUCCESS) {
        apr_pool_cleanup_run(p, srv, srv_cleanup);
    }
    return rv;
}
