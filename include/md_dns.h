/* DNS look-ups (A, AAAA, TXT, CAA) through an injectable answer source: the system's resolver, or a test's. */
#ifndef MD_DNS_H
#define MD_DNS_H

#include <apr_pools.h>
#include <apr_tables.h>

struct md_result_t;

/* The answers of type ("A", "AAAA", "TXT", "CAA") for name, as text (const char*): an address; a TXT record's
 * strings joined; a CAA record as "FLAGS TAG VALUE" (e.g. "0 issue letsencrypt.org"). No such name or no record of
 * that type: APR_SUCCESS and an empty array. A look-up that failed (no answer, SERVFAIL): an error, result says
 * why. */
typedef apr_status_t md_dns_query_cb(void *baton, apr_array_header_t **panswers, const char *name, const char *type,
                                     struct md_result_t *result, apr_pool_t *p);

typedef struct md_dns_t {
    md_dns_query_cb *query;
    void *baton;
} md_dns_t;

/* The system's name servers (the IPv4 ones of /etc/resolv.conf), or the server given ("IPv4" or "IPv4:PORT")
 * instead, asked over UDP; each query waits at most 2 seconds twice per server. APR_EINVAL when server is no such
 * address. */
apr_status_t md_dns_resolver(md_dns_t **pdns, const char *server, apr_pool_t *p);
/* Check a server value as md_dns_resolver takes it: NULL when fine, else why not. */
const char *md_dns_server_check(const char *server, apr_pool_t *p);

apr_status_t md_dns_query(const md_dns_t *dns, apr_array_header_t **panswers, const char *name, const char *type,
                          struct md_result_t *result, apr_pool_t *p);

#endif
