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
/* When the first of the MD's certificates enters its warn window: the earliest of not_after - warn window; 0 when a
 * certificate is missing. */
apr_time_t md_renew_warn_at(const md_t *md, const apr_array_header_t *validities);
/* The deadline of a renewal: the earliest not_after of the MD's certificates, the last moment a renewal can still
 * succeed before one expires; 0 when a certificate is missing (nothing there to expire). */
apr_time_t md_renew_deadline(const md_t *md, const apr_array_header_t *validities);

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
/* A retry time (the back-off, a CA's Retry-After) capped so that nothing postpones a renewal past the moment a
 * certificate enters its warn window: the earlier of next and md_renew_warn_at while that is still ahead of now,
 * else next. *pcapped (may be NULL): 1 when next was moved. */
apr_time_t md_renew_retry_cap(const md_t *md, const apr_array_header_t *validities, apr_time_t next, apr_time_t now,
                              int *pcapped);
/* How many automatic attempts remain before the deadline (md_renew_deadline) at the current back-off: one at first,
 * then one after each further retry delay (md_renew_retry_delay of errors + 1, errors + 2, ... for problem and base,
 * without jitter, each capped by md_renew_retry_cap), as long as it comes before the deadline; at most
 * MD_RENEW_ATTEMPTS_MAX. 0 when first is not before the deadline; -1 when there is no deadline. */
int md_renew_attempts_left(const md_t *md, const apr_array_header_t *validities, int errors, const char *problem,
                           apr_interval_time_t base, apr_time_t first);
#define MD_RENEW_ATTEMPTS_MAX 999
/* So few attempts left that the operator should hear of it (the expiring event), even outside the warn window. */
#define MD_RENEW_ATTEMPTS_LOW 3
/* The next attempt after a failure: asked (the back-off with the CA's Retry-After) capped by md_renew_retry_cap;
 * inside the warn window, where that no longer caps, the CA's value counts for nothing: own (the back-off without
 * it) when asked is later, and before the deadline no retry is further away than half the remaining life (at least
 * MD_RENEW_RETRY_FLOOR), so a back-off grown to a day cannot let the certificate expire. *pcapped (may be NULL): 1
 * when asked was moved. md_renew_attempts_left counts the back-off's attempts only, not these last-hour ones. */
#define MD_RENEW_RETRY_FLOOR APR_INT64_C(60000000)   /* one minute */
apr_time_t md_renew_retry_next(const md_t *md, const apr_array_header_t *validities, apr_time_t own, apr_time_t asked,
                               apr_time_t now, int *pcapped);
/* The CA to use after 'errors' failed attempts: ca_urls[(errors / retry_failover) % n]; the first when
 * retry_failover <= 0 or there is only one. */
const char *md_renew_ca_for(const md_t *md, int errors);

#endif
