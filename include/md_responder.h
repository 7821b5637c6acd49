/* Challenge responders: how an ACME challenge gets answered. Pluggable: the CLI brings a built-in http-01
 * server, webroot, a built-in tls-alpn-01 server and dns-01 through a program; the Apache module its own. */
#ifndef MD_RESPONDER_H
#define MD_RESPONDER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

struct md_result_t;

/* What a responder needs to answer one challenge. */
typedef struct md_challenge_setup_t {
    const char *md_name;     /* the MD the challenge is for */
    const char *type;        /* "http-01", "tls-alpn-01", "dns-01" */
    const char *domain;      /* the identifier (for wildcards without "*.") */
    const char *token;
    const char *key_authz;   /* token "." account key thumbprint */
} md_challenge_setup_t;

typedef struct md_responder_t {
    const char *name;
    /* True when this responder can answer challenges of the type. */
    int (*supports)(void *baton, const char *type);
    /* Make the answer available; on failure the reason is in result. */
    apr_status_t (*setup)(void *baton, const md_challenge_setup_t *ch, struct md_result_t *result,
                          apr_pool_t *p);
    /* Remove it again (after validation, success or not). */
    apr_status_t (*teardown)(void *baton, const md_challenge_setup_t *ch, struct md_result_t *result,
                             apr_pool_t *p);
    void *baton;
} md_responder_t;

/* A set of responders asked in order: the first that supports a type answers it. */
typedef struct md_responders_t md_responders_t;
md_responders_t *md_responders_make(apr_pool_t *p);
void md_responders_add(md_responders_t *rs, const md_responder_t *r);
const md_responder_t *md_responders_for(const md_responders_t *rs, const char *type);
/* The challenge types some responder supports, among "http-01", "tls-alpn-01", "dns-01" (in that order). */
apr_array_header_t *md_responders_types(const md_responders_t *rs, apr_pool_t *p);

/* Built-in responders (the CLI's). Each answers until its pool is destroyed. */

/* http-01 from memory: an HTTP/1.1 server on addr:port ("127.0.0.1", 0 for any free port; the port
 * actually bound in *pport) answering GET /.well-known/acme-challenge/TOKEN with the key authorization
 * (text/plain), 404 for anything else. Runs in its own thread. */
apr_status_t md_responder_http01_server(md_responder_t **presp, int *pport, const char *addr, int port,
                                        struct md_result_t *result, apr_pool_t *p);
/* http-01 by files: writes DIR/.well-known/acme-challenge/TOKEN (mode 0644, atomically), removes it again. */
apr_status_t md_responder_webroot(md_responder_t **presp, const char *dir, apr_pool_t *p);
/* tls-alpn-01: a TLS server on addr:port that answers ALPN "acme-tls/1" with the RFC 8737 certificate
 * of the SNI name (made with a fresh P-256 key). Runs in its own thread. */
apr_status_t md_responder_tlsalpn01_server(md_responder_t **presp, int *pport, const char *addr, int port,
                                           struct md_result_t *result, apr_pool_t *p);
/* dns-01 through a program (argv: the program and its fixed arguments): called as
 * "PROGRAM [args] setup DOMAIN TXT-VALUE" and "PROGRAM [args] teardown DOMAIN" (version 1) or
 * "... teardown DOMAIN TXT-VALUE" (version 2), with MD_MDOMAIN, MD_VERSION (and MD_STORE when store_dir is
 * given) in the environment and the given time limit. Exit codes per md_exec.h: retry/needs-poll are
 * reported as APR_EAGAIN with the outcome in the detail. */
apr_status_t md_responder_dns01_cmd(md_responder_t **presp, const apr_array_header_t *argv, int version,
                                    const char *store_dir, apr_interval_time_t timeout, apr_pool_t *p);

#endif
