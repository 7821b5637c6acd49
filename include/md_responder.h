/* Challenge responders: how an ACME challenge gets answered. Pluggable: the CLI brings a built-in http-01
 * server, webroot, a built-in tls-alpn-01 server and dns-01 through a program; the Apache module its own. */
#ifndef MD_RESPONDER_H
#define MD_RESPONDER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

struct md_result_t;
struct md_store_t;
struct md_t;

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
    /* Optional: true when it answers for this identifier (NULL: for all of them). Responders that serve it are
     * preferred; one that does not is used only when no other supports the type. */
    int (*serves)(void *baton, const char *domain);
    /* Optional, for setups that answered MD_EPOLL: APR_SUCCESS once the answer is visible, MD_EPOLL while not
     * yet, another error when it failed. */
    apr_status_t (*poll)(void *baton, const md_challenge_setup_t *ch, struct md_result_t *result, apr_pool_t *p);
    /* Its answers live outside this process (a program, DNS, another server): a resumed renewal does not set them
     * up again. In-process answers (built-in servers) are set up again after a restart. */
    int external;
} md_responder_t;

/* A set of responders asked in order: the first that supports a type answers it. */
typedef struct md_responders_t md_responders_t;
md_responders_t *md_responders_make(apr_pool_t *p);
void md_responders_add(md_responders_t *rs, const md_responder_t *r);
const md_responder_t *md_responders_for(const md_responders_t *rs, const char *type);
/* The first responder that supports the type and serves the identifier (domain NULL: any); when none serves
 * it, the first that supports the type. */
const md_responder_t *md_responders_for_domain(const md_responders_t *rs, const char *type, const char *domain);
/* The challenge types some responder supports, among "http-01", "tls-alpn-01", "dns-01" (in that order);
 * md_responders_types_for: those that can answer for the identifier. */
apr_array_header_t *md_responders_types(const md_responders_t *rs, apr_pool_t *p);
apr_array_header_t *md_responders_types_for(const md_responders_t *rs, const char *domain, apr_pool_t *p);
/* The number of responders, and the i-th (0-based; NULL when out of range). */
int md_responders_count(const md_responders_t *rs);
const md_responder_t *md_responders_get(const md_responders_t *rs, int i);
/* The first responder that supports the type and serves the identifier, without md_responders_for_domain's fallback
 * to one that does not: NULL when none serves it. */
const md_responder_t *md_responders_serving(const md_responders_t *rs, const char *type, const char *domain);

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
/* Answers in the store's challenges/ group, in mod_md's layout, for a web server on the same store to serve (the
 * module, mod_md, an a2md or mdomain of another node): http-01 as challenges/DOMAIN/acme-http-01.txt holding the key
 * authorization; tls-alpn-01 as challenges/DOMAIN/acme-tls-alpn-01-pubcert[.KEY].pem (the RFC 8737 certificate)
 * with acme-tls-alpn-01-privkey[.KEY].pem (its key, not encrypted), one pair per key type of the MD, named like
 * the MD's own files (md_pkey_aspect). */
#define MD_CHALLENGE_HTTP01_FILE "acme-http-01.txt"
#define MD_CHALLENGE_TLSALPN01_PREFIX "acme-tls-alpn-01-"
/* Which identifiers a responder answers for (see md_responder_t.serves). */
typedef int md_responder_serves_cb(void *baton, const char *domain);
/* http-01 into the store; serves (may be NULL: all) says for which identifiers it is preferred. */
apr_status_t md_responder_store_http01(md_responder_t **presp, struct md_store_t *store, md_responder_serves_cb *serves,
                                       void *serves_baton, apr_pool_t *p);
/* tls-alpn-01 into the store for the MD's key types; preferred for the MD's acme-tls/1 names. md must live as long
 * as the responder. */
apr_status_t md_responder_store_tlsalpn01(md_responder_t **presp, struct md_store_t *store, const struct md_t *md,
                                          apr_pool_t *p);
/* The http-01 answer for GET /.well-known/acme-challenge/TOKEN on host: the key authorization stored in
 * challenges/HOST/ when it is TOKEN's (it starts with "TOKEN."), whoever wrote it. NULL when there is none, and
 * always when md (the MD covering host, NULL for none) names challenge types without http-01 (another server
 * answers those): the request is then for other handlers. */
const char *md_challenge_http01_lookup(struct md_store_t *store, const struct md_t *md, const char *host,
                                       const char *token, apr_pool_t *p);
/* The tls-alpn-01 certificate and key (PEM, the key unencrypted) stored in challenges/HOST/: the pair of the first key
 * type of md (the MD covering host, may be NULL) that is there, else any pair another program wrote. APR_ENOENT
 * when there is none. */
apr_status_t md_challenge_tlsalpn01_lookup(const char **pcert_pem, const char **pkey_pem, struct md_store_t *store,
                                           const struct md_t *md, const char *host, apr_pool_t *p);

/* Challenges answered through the event dispatcher (type "dns-01" or "http-01"): setup, teardown and poll of
 * a challenge are the events "setup"/"teardown"/"poll-setup" (dns-01: DOMAIN TXT-VALUE; to the dns-01 program
 * when progs has one, else to the event handler) or "setup-http-01"/"teardown-http-01"/"poll-setup-http-01"
 * (DOMAIN TOKEN [KEYAUTH], to the handler). Outcomes: ok APR_SUCCESS, needs-poll MD_EPOLL, retry APR_EAGAIN,
 * failed MD_EHUMAN; result says why. External: a resumed renewal does not call setup again. */
struct md_events_t;
struct md_event_programs_t;
apr_status_t md_responder_event(md_responder_t **presp, const char *type, const struct md_events_t *events,
                                const struct md_event_programs_t *progs, apr_pool_t *p);

#endif
