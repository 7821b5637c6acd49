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

/* Problem types of failures that are not the CA's, as mod_md names them (renewal.last.problem). */
#define MD_PROBLEM_CHALLENGE_MISMATCH "challenge-mismatch"         /* no offered challenge type can be used */
#define MD_PROBLEM_CHALLENGE_SETUP    "challenge-setup-failure"    /* an answer could not be set up */
#define MD_PROBLEM_PREFLIGHT          "mdomain:preflight"          /* a pre-flight check failed: CA not asked */
#define MD_PROBLEM_EAB_HMAC           "apache:eab-hmac-invalid"    /* the EAB HMAC key is not base64url */
#define MD_PROBLEM_MESSAGE_CMD        "urn:org:apache:httpd:log:AH10109:"   /* MDMessageCmd failed */
#define MD_PROBLEM_NOTIFY_CMD         "urn:org:apache:httpd:log:AH10108:"   /* MDNotifyCmd failed */

/* What the operator can do about a failure: the core names it where the failure happens, each front-end words
 * it in its own terms (directives for httpd, options for the command line) through an md_hints_t. */
typedef enum {
    MD_HINT_NONE = 0,
    MD_HINT_TERMS,        /* the CA's terms of service must be agreed to */
    MD_HINT_EAB,          /* the CA requires an External Account Binding */
    MD_HINT_RESPONDER,    /* none of the challenge types to use can be answered */
    MD_HINT_CA_FILE,      /* the CA's TLS certificate did not verify against the trusted roots */
    MD_HINT_COUNT
} md_hint_t;

/* A front-end's words per hint (NULL: it has nothing to add), e.g. "configure 'MDCertificateAgreement
 * accepted'" for MD_HINT_TERMS. */
typedef struct md_hints_t {
    const char *text[MD_HINT_COUNT];
} md_hints_t;

typedef struct md_result_t {
    apr_pool_t *p;
    apr_status_t status;        /* APR_SUCCESS or the failure */
    const char *problem;        /* a problem type, e.g. "urn:ietf:params:acme:error:badNonce", or NULL */
    const char *detail;         /* text for the operator, or NULL */
    const char *activity;       /* what was being done, or NULL */
    struct md_json_t *subproblems; /* ACME subproblems (array), or NULL */
    apr_time_t ready_at;        /* earliest time a retry makes sense, 0 when not known */
    md_hint_t hint;             /* what the operator can do, not yet worded into detail; MD_HINT_NONE */
} md_result_t;

/* Text from outside (a CA's problem detail, its URLs and terms, a program's output) is cut to this many bytes
 * before it is printed, logged or stored (a 1.5 MB detail made job.json 3 MB). */
#define MD_RESULT_TEXT_MAX 2048
/* At most this many subproblems are kept, each with its type, detail and identifier (cleaned as text). */
#define MD_RESULT_SUBPROBLEMS_MAX 32

/* text made safe to print, log and store: at most max bytes (cut on a UTF-8 character boundary, "..." added when
 * cut), control characters (C0, DEL, C1, the Unicode line and paragraph separators and bidirectional overrides:
 * terminal escapes, forged log lines) replaced by a space, bytes that are no UTF-8 by '?'. NULL stays NULL. */
const char *md_result_clean_text(const char *text, apr_size_t max, apr_pool_t *p);

md_result_t *md_result_make(apr_pool_t *p);
void md_result_reset(md_result_t *result);

/* Set status and detail (copied into the result's pool, md_result_clean_text'ed: details often quote a CA); this
 * clears the problem, subproblems and hint. A NULL result is allowed and ignored. Every setter below cleans the
 * texts it takes (detail, problem, the subproblems' strings) the same way. */
void md_result_set(md_result_t *result, apr_status_t status, const char *detail);
/* Set status and a formatted detail. */
void md_result_printf(md_result_t *result, apr_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void md_result_problem_set(md_result_t *result, apr_status_t status, const char *problem,
                           const char *detail, struct md_json_t *subproblems);
void md_result_activity_set(md_result_t *result, const char *activity);
/* Name the problem type of the failure just set (after md_result_set/printf), keeping its status and detail. */
void md_result_problem_type(md_result_t *result, const char *problem);
/* Name what the operator can do about the failure just set (after md_result_set/printf/problem_set). */
void md_result_hint_set(md_result_t *result, md_hint_t hint);
/* Word the hint into detail with the front-end's hints ("DETAIL; HINT"), once: the hint is cleared. Nothing
 * without a hint, or when hints is NULL or has no words for it. */
void md_result_hint_apply(md_result_t *result, const md_hints_t *hints);
/* Copy status, problem, detail, subproblems, ready_at and hint from src into dest. */
void md_result_assign(md_result_t *dest, const md_result_t *src);
/* A one-line text: "detail (problem)"; without either, what failed ("ordering failed", from the activity) and
 * md_result_status_str's text when it says more. */
const char *md_result_text(const md_result_t *result, apr_pool_t *p);
/* A true text for a status: APR's for the system's errors (a refused connection, a missing file); for the codes
 * our code returns for its own reasons, which APR would call "Internal error (specific information not
 * available)", "This function has not been implemented on this platform" or "Permission denied" (for a CA's
 * refusal), a plain word: APR_EGENERAL "failed", APR_ENOTIMPL "not supported", APR_EINVAL "invalid",
 * APR_EACCES "refused". */
const char *md_result_status_str(apr_status_t status, apr_pool_t *p);
/* The status to hand to a logger that prints APR's text beside the message (httpd's ap_log_error): the status
 * itself for the system's errors, 0 for the codes md_result_status_str words itself. */
apr_status_t md_result_log_status(apr_status_t status);

#endif
