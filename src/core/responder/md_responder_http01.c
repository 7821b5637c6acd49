/* The built-in http-01 responder: an HTTP server answering /.well-known/acme-challenge/TOKEN from memory. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <apr_strings.h>

#include "md_result.h"
#include "md_responder.h"
#include "md_responder_int.h"

#define HTTP01_PREFIX "/.well-known/acme-challenge/"
#define HTTP01_BODY_MAX 2048

/* The answers, in memory the server thread can read without the pools (malloc'd, under the mutex). */
typedef struct http01_entry_t {
    struct http01_entry_t *next;
    char *token;
    char *key_authz;
} http01_entry_t;

typedef struct {
    pthread_mutex_t mutex;
    http01_entry_t *entries;
} http01_t;

/* ---- the table -------------------------------------------------------------------------------------- */

static http01_entry_t **http01_find(http01_t *h, const char *token)
{
    http01_entry_t **pe;

    for (pe = &h->entries; *pe; pe = &(*pe)->next) {
        if (!strcmp((*pe)->token, token)) return pe;
    }
    return pe;
}

static void http01_entry_free(http01_entry_t *e)
{
    if (!e) return;
    free(e->token);
    free(e->key_authz);
    free(e);
}

/* Copy the key authorization of token into body; 0 when there is none. */
static int http01_lookup(http01_t *h, const char *token, char *body, size_t cap)
{
    http01_entry_t *e;
    int found = 0;

    pthread_mutex_lock(&h->mutex);
    e = *http01_find(h, token);
    if (e && strlen(e->key_authz) < cap) {
        strcpy(body, e->key_authz);
        found = 1;
    }
    pthread_mutex_unlock(&h->mutex);
    return found;
}

static apr_status_t http01_cleanup(void *baton)
{
    http01_t *h = baton;
    http01_entry_t *e;

    while ((e = h->entries) != NULL) {
        h->entries = e->next;
        http01_entry_free(e);
    }
    pthread_mutex_destroy(&h->mutex);
    return APR_SUCCESS;
}

/* ---- the protocol ----------------------------------------------------------------------------------- */

static void http01_respond(md_srv_conn_t *c, const char *status, const char *extra, const char *body,
                           int head)
{
    int n;

    n = snprintf(c->buf, sizeof(c->buf),
                 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s"
                 "Connection: close\r\n\r\n%s",
                 status, strlen(body), extra, head ? "" : body);
    if (n < 0 || (size_t)n >= sizeof(c->buf)) {
        n = snprintf(c->buf, sizeof(c->buf), "HTTP/1.1 500 Internal Server Error\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n");
    }
    c->len = (apr_size_t)n;
    c->sent = 0;
}

/* The path of a request target: origin form as it is, absolute form without scheme and authority;
 * without query and fragment. Modifies target. */
static const char *http01_path(char *target)
{
    char *s = strstr(target, "://");

    if (target[0] != '/' && s) {
        target = strchr(s + 3, '/');
        if (!target) return "/";
    }
    target[strcspn(target, "?#")] = '\0';
    return target;
}

/* A complete request head is in c->buf: put the response there. */
static void http01_answer(http01_t *h, md_srv_conn_t *c)
{
    char body[HTTP01_BODY_MAX], *line = c->buf, *sp1, *sp2;
    const char *path;
    int head;

    line[strcspn(line, "\r\n")] = '\0';
    sp1 = strchr(line, ' ');
    sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7)) {
        http01_respond(c, "400 Bad Request", "", "Bad Request\n", 0);
        return;
    }
    *sp1 = *sp2 = '\0';
    head = !strcmp(line, "HEAD");
    if (!head && strcmp(line, "GET")) {
        http01_respond(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", "Method Not Allowed\n", 0);
        return;
    }
    path = http01_path(sp1 + 1);
    if (!strncmp(path, HTTP01_PREFIX, strlen(HTTP01_PREFIX))
        && md_responder__token_ok(path + strlen(HTTP01_PREFIX))
        && http01_lookup(h, path + strlen(HTTP01_PREFIX), body, sizeof(body))) {
        http01_respond(c, "200 OK", "", body, head);
        return;
    }
    http01_respond(c, "404 Not Found", "", "Not Found\n", head);
}

static md_srv_want_t http01_send(md_srv_conn_t *c)
{
    ssize_t n;

    while (c->sent < c->len) {
        n = send(c->fd, c->buf + c->sent, c->len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return MD_SRV_WANT_WRITE;
        if (n <= 0) return MD_SRV_DONE;
        c->sent += (apr_size_t)n;
    }
    shutdown(c->fd, SHUT_WR);
    return MD_SRV_DONE;
}

static md_srv_want_t http01_open(void *baton, md_srv_conn_t *c)
{
    (void)baton;
    c->len = 0;
    return MD_SRV_WANT_READ;
}

static md_srv_want_t http01_io(void *baton, md_srv_conn_t *c)
{
    ssize_t n;

    if (c->want == MD_SRV_WANT_WRITE) return http01_send(c);
    n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return MD_SRV_WANT_READ;
    if (n <= 0) return MD_SRV_DONE;
    c->len += (apr_size_t)n;
    c->buf[c->len] = '\0';
    if (strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n")) {
        http01_answer(baton, c);
        return http01_send(c);
    }
    if (c->len + 1 >= sizeof(c->buf)) {
        http01_respond(c, "431 Request Header Fields Too Large", "", "Request Header Fields Too Large\n", 0);
        return http01_send(c);
    }
    return MD_SRV_WANT_READ;
}

static void http01_close(void *baton, md_srv_conn_t *c)
{
    (void)baton;
    (void)c;
}

/* ---- the responder ---------------------------------------------------------------------------------- */

static int http01_supports(void *baton, const char *type)
{
    (void)baton;
    return type && !strcmp(type, "http-01");
}

static apr_status_t http01_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                 apr_pool_t *p)
{
    http01_t *h = baton;
    http01_entry_t **pe, *e;
    char *authz;

    (void)p;
    if (!md_responder__token_ok(ch->token) || !ch->key_authz || strlen(ch->key_authz) >= HTTP01_BODY_MAX) {
        md_result_printf(result, APR_EINVAL, "http-01 for %s: invalid token or key authorization",
                         ch->domain ? ch->domain : "?");
        return APR_EINVAL;
    }
    e = calloc(1, sizeof(*e));
    authz = strdup(ch->key_authz);
    if (e) e->token = strdup(ch->token);
    if (!e || !authz || !e->token) {
        free(authz);
        http01_entry_free(e);
        md_result_set(result, APR_ENOMEM, "http-01: out of memory");
        return APR_ENOMEM;
    }
    pthread_mutex_lock(&h->mutex);
    pe = http01_find(h, ch->token);
    if (*pe) {   /* the same token again: new answer */
        free((*pe)->key_authz);
        (*pe)->key_authz = authz;
        http01_entry_free(e);
    }
    else {
        e->key_authz = authz;
        *pe = e;
    }
    pthread_mutex_unlock(&h->mutex);
    return APR_SUCCESS;
}

static apr_status_t http01_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                    apr_pool_t *p)
{
    http01_t *h = baton;
    http01_entry_t **pe, *e = NULL;

    (void)result;
    (void)p;
    if (!ch->token) return APR_SUCCESS;
    pthread_mutex_lock(&h->mutex);
    pe = http01_find(h, ch->token);
    if (*pe) {
        e = *pe;
        *pe = e->next;
    }
    pthread_mutex_unlock(&h->mutex);
    http01_entry_free(e);
    return APR_SUCCESS;
}

apr_status_t md_responder_http01_server(md_responder_t **presp, int *pport, const char *addr, int port,
                                        md_result_t *result, apr_pool_t *p)
{
    http01_t *h = apr_pcalloc(p, sizeof(*h));
    md_srv_proto_t proto = { "http-01 server", http01_open, http01_io, http01_close, h };
    md_responder_t *r;
    apr_status_t rv;

    *presp = NULL;
    pthread_mutex_init(&h->mutex, NULL);
    /* registered before the server's cleanup, so it runs after the thread has been joined */
    apr_pool_cleanup_register(p, h, http01_cleanup, apr_pool_cleanup_null);
    rv = md_srv__start(pport, addr, port, &proto, result, p);
    if (rv != APR_SUCCESS) return rv;
    r = apr_pcalloc(p, sizeof(*r));
    r->name = "http-01 server";
    r->supports = http01_supports;
    r->setup = http01_setup;
    r->teardown = http01_teardown;
    r->baton = h;
    *presp = r;
    return APR_SUCCESS;
}
