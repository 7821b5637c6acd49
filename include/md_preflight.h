/* Pre-flight checks before the CA is asked: is a challenge's answer visible from outside (http-01 through the name's
 * address, dns-01 in DNS), and do the names' CAA records (RFC 8659) allow the CA to issue? A miss fails the attempt
 * locally, naming what is wrong, instead of costing a validation at the CA. */
#ifndef MD_PREFLIGHT_H
#define MD_PREFLIGHT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md_dns.h"
#include "md_http.h"

struct md_result_t;

/* Which checks run (flags). */
#define MD_PREFLIGHT_CHALLENGE 0x1   /* the answer of each http-01 and dns-01 challenge, after its setup */
#define MD_PREFLIGHT_CAA       0x2   /* CAA of each name against the directory's meta.caaIdentities */
#define MD_PREFLIGHT_ALL       (MD_PREFLIGHT_CHALLENGE | MD_PREFLIGHT_CAA)

/* "on" (both), "off" (none), "challenge", "caa" (that one alone): APR_EINVAL for anything else. */
apr_status_t md_preflight_parse(int *pflags, const char *value);
const char *md_preflight_str(int flags);

/* CAA (RFC 8659) of domain ("*.x" is a wildcard: issuewild counts, looked up at x): the relevant record set is the
 * name's, else its closest parent's that has one. APR_SUCCESS when the CA with the identities (const char*, its
 * directory's meta.caaIdentities) may issue: no records, none of the tag that counts, or one naming it. APR_EACCES
 * when not (result names the record set and the records); a critical property that is unknown also forbids it.
 * A failed look-up is APR_SUCCESS (the CA decides) with result's detail saying what was not checked; with ids empty
 * nothing is checked. */
apr_status_t md_preflight_caa(const md_dns_t *dns, const char *domain, const apr_array_header_t *ids,
                              struct md_result_t *result, apr_pool_t *p);

/* Whether the answer of a challenge is visible as the CA will look for it: http-01 fetched from each address of
 * domain (A and AAAA) at http://ADDRESS:http_port/.well-known/acme-challenge/TOKEN with "Host: domain" through http
 * (NULL: libcurl; http_port 0: 80), one giving the key authorization suffices; dns-01 a TXT record of
 * _acme-challenge.DOMAIN with its digest. Other types: APR_SUCCESS. A miss: APR_EAGAIN, result says what was found.
 * A failed look-up: APR_SUCCESS, result's detail says what was not checked. */
apr_status_t md_preflight_answer(const md_dns_t *dns, const md_http_backend_t *http, int http_port, const char *type,
                                 const char *domain, const char *token, const char *key_authz,
                                 struct md_result_t *result, apr_pool_t *p);

#endif
