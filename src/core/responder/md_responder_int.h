/* Internal to the responders: a small multiplexing server thread (http-01, tls-alpn-01) and name helpers. */
#ifndef MD_RESPONDER_INT_H
#define MD_RESPONDER_INT_H

#include <stdint.h>
#include <apr_pools.h>

struct md_result_t;

#define MD_SRV_BUFSIZE      4096
#define MD_SRV_MAX_CONNS    32
#define MD_SRV_CONN_TIMEOUT_MS 10000

/* What a connection waits for next. */
typedef enum { MD_SRV_WANT_READ, MD_SRV_WANT_WRITE, MD_SRV_DONE } md_srv_want_t;

/* One accepted connection (non-blocking socket), with a buffer the protocol may use as it likes. */
typedef struct md_srv_conn_t {
    int fd;
    int64_t deadline_ms;       /* closed when still open then (monotonic ms) */
    md_srv_want_t want;
    char buf[MD_SRV_BUFSIZE];
    apr_size_t len, sent;
    void *data;                /* protocol state, e.g. the SSL* */
} md_srv_conn_t;

/* A protocol, called on the server thread: open for a new connection, io when its socket is ready
 * (both say what to wait for next), close before the socket is closed (also on timeout and stop). */
typedef struct md_srv_proto_t {
    const char *name;          /* for messages: "http-01 server" */
    md_srv_want_t (*open)(void *baton, md_srv_conn_t *c);
    md_srv_want_t (*io)(void *baton, md_srv_conn_t *c);
    void (*close)(void *baton, md_srv_conn_t *c);
    void *baton;
} md_srv_proto_t;

/* Listen on addr:port (a numeric IPv4/IPv6 address, NULL for 127.0.0.1; port 0 for a free one) and
 * serve connections on a thread of its own, up to MD_SRV_MAX_CONNS at a time, each for at most
 * MD_SRV_CONN_TIMEOUT_MS. The socket is listening when this returns; *pport is the port bound. The
 * thread is stopped and joined, and the socket closed, by a cleanup of p: register whatever the protocol
 * needs on p BEFORE this call, so that it is released after the thread ended. */
apr_status_t md_srv__start(int *pport, const char *addr, int port, const md_srv_proto_t *proto,
                           struct md_result_t *result, apr_pool_t *p);

/* A token as ACME makes them: base64url characters only (so it is safe in a path). */
int md_responder__token_ok(const char *token);

/* The reverse-DNS name of an IP address (RFC 8738 uses it as the tls-alpn-01 SNI): "192.0.2.1" ->
 * "1.2.0.192.in-addr.arpa", IPv6 -> the nibbles ".ip6.arpa". NULL when name is not an IP address. */
const char *md_responder__reverse_name(const char *name, apr_pool_t *p);

#endif
