/* Internals shared by the order, authorization and certificate files: polling with Retry-After, problems. */
#ifndef MD_ACME_ORDER_INT_H
#define MD_ACME_ORDER_INT_H

#include <apr_pools.h>
#include <apr_time.h>

#include "md_acme.h"
#include "md_acme_int.h"
#include "md_http.h"
#include "md_json.h"

struct md_result_t;

/* One look at the polled resource, made with the scratch pool ptmp (cleared after each round); keep what
 * must survive in the baton's own pool. Returns APR_SUCCESS when done, APR_EAGAIN to look again later,
 * anything else to stop with that error (recorded in result). *presp: the response seen (for Retry-After),
 * *pstate: the resource's status (for the timeout message); both may be left NULL. */
typedef apr_status_t md_acme_poll_fn(void *baton, const md_http_response_t **presp, const char **pstate,
                                     struct md_result_t *result, apr_pool_t *ptmp);

/* Call fn (at once, or with a pace kind after the wait learned for it, see md_acme__pace_get) and then again
 * after waits that start at md_acme_poll_min(), double each round up to md_acme_poll_max(), and stretch to a
 * longer Retry-After (also capped). After timeout: APR_TIMEUP with a detail "timed out after <duration>
 * waiting for <what>; last status: <state>". pace: MD_ACME_PACE_NONE or an md_acme_pace_t. */
apr_status_t md_acme_order__poll(md_acme_poll_fn *fn, void *baton, md_acme_t *acme, int pace,
                                 apr_interval_time_t timeout, const char *what, struct md_result_t *result,
                                 apr_pool_t *p);

/* The wait before the next look: max(*pwait, Retry-After - now) capped at poll_max; *pwait doubles
 * (capped) for the round after. */
apr_interval_time_t md_acme_order__next_wait(apr_interval_time_t *pwait, const md_acme_t *acme,
                                             const md_http_response_t *resp, apr_time_t now);

/* Record an ACME problem document (type, detail, subproblems) found inside an object (an order's or a
 * challenge's "error") with status rv; the detail is "<prefix>: <problem detail>". problem may be NULL. */
void md_acme_order__problem_set(struct md_result_t *result, apr_status_t rv, const md_json_t *problem,
                                const char *prefix, apr_pool_t *p);

/* True when state is one of the '|'-separated words in states. */
int md_acme_order__state_in(const char *state, const char *states);

#endif
