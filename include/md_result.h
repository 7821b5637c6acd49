/* The result of an operation: status, problem type, detail and retry time, filled where a failure happens. */
#ifndef MD_RESULT_H
#define MD_RESULT_H

#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_time.h>

/* mdomain's own status codes, beside APR's. */
#define MD_EWAIT  (APR_OS_START_USERERR + 1)   /* a renewal waits (response delay, a poll): come back later */
#define MD_EPOLL  (APR_OS_START_USERERR + 2)   /* started, not yet visible: ask again later (poll) */
#define MD_EHUMAN (APR_OS_START_USERERR + 3)   /* failed so that a human must act: no automatic retry */

struct md_json_t;

typedef struct md_result_t {
    apr_pool_t *p;
    apr_status_t status;        /* APR_SUCCESS or the failure */
    const char *problem;        /* a problem type, e.g. "urn:ietf:params:acme:error:badNonce", or NULL */
    const char *detail;         /* text for the operator, or NULL */
    const char *activity;       /* what was being done, or NULL */
    struct md_json_t *subproblems; /* ACME subproblems (array), or NULL */
    apr_time_t ready_at;        /* earliest time a retry makes sense, 0 when not known */
} md_result_t;

md_result_t *md_result_make(apr_pool_t *p);
void md_result_reset(md_result_t *result);

/* Set status and detail (copied into the result's pool). A NULL result is allowed and ignored. */
void md_result_set(md_result_t *result, apr_status_t status, const char *detail);
/* Set status and a formatted detail. */
void md_result_printf(md_result_t *result, apr_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void md_result_problem_set(md_result_t *result, apr_status_t status, const char *problem,
                           const char *detail, struct md_json_t *subproblems);
void md_result_activity_set(md_result_t *result, const char *activity);
/* Copy status, problem, detail, subproblems and ready_at from src into dest. */
void md_result_assign(md_result_t *dest, const md_result_t *src);
/* A one-line text: "detail (problem)" or the APR error string when there is no detail. */
const char *md_result_text(const md_result_t *result, apr_pool_t *p);

#endif
