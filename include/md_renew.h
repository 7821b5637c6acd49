/* Renewal decisions: renew and warn windows (absolute or share of lifetime), the ARI window, retry
 * back-off with jitter, CA failover. Pure functions of their inputs: the clock and randomness come in. */
#ifndef MD_RENEW_H
#define MD_RENEW_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"

/* The validity of one certificate. */
typedef struct md_cert_validity_t {
    apr_time_t not_before, not_after;
} md_cert_validity_t;

/* When the MD is due: the earliest over its certificates (array of md_cert_validity_t*, one per key type;
 * a missing one is NULL) of not_after - renew window. A missing certificate: 0 (now). With ari_start..end
 * given (non-zero) and md->ari_renewals, the ARI pick (ari_pick) wins when it is earlier. */
apr_time_t md_renew_due(const md_t *md, const apr_array_header_t *validities, apr_time_t ari_pick);
/* True when due <= now. */
int md_renew_is_due(const md_t *md, const apr_array_header_t *validities, apr_time_t ari_pick, apr_time_t now);
/* True when a certificate is in the warn window (or expired) at now. */
int md_renew_should_warn(const md_t *md, const apr_array_header_t *validities, apr_time_t now);

/* True when an ACME problem type says the request itself is wrong (malformed, rejectedIdentifier,
 * externalAccountRequired, badCSR, invalidContact, ...): retrying soon only earns the same answer. */
int md_renew_problem_is_input(const char *problem);
/* The delay before retry number 'errors' (1, 2, ...) after a failure, as mod_md waits: base * 2^(errors-1), capped
 * at one day (a day at once when problem is one md_renew_problem_is_input names), then -50%..+50% from rand01 (0
 * gives -50%, 1 gives +50%) in whole seconds rounded towards zero, so that a delay of 1 s is never shortened and a
 * capped one lasts 12 to 36 hours. errors <= 0 is no delay. A CA's Retry-After (ready_at > now) is honoured when
 * later. */
apr_interval_time_t md_renew_retry_delay(int errors, const char *problem, apr_interval_time_t base, double rand01,
                                         apr_time_t ready_at, apr_time_t now);
/* The CA to use after 'errors' failed attempts: ca_urls[(errors / retry_failover) % n]; the first when
 * retry_failover <= 0 or there is only one. */
const char *md_renew_ca_for(const md_t *md, int errors);

#endif
