/* Driving a renewal: the re-entrant job that takes an MD from "due" to a staged (and optionally activated)
 * set of certificates, saving its progress in staging/NAME/job.json after every step. */
#ifndef MD_DRIVE_H
#define MD_DRIVE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "md.h"
#include "md_clock.h"
#include "md_http.h"
#include "md_json.h"
#include "md_responder.h"
#include "md_result.h"
#include "md_store.h"

struct md_result_t;

/* Progress messages for the operator (the CLI prints them with -v, httpd logs them). */
typedef void md_drive_log_cb(void *baton, const char *md_name, const char *message);

/* Events of a drive, for the caller's programs (httpd's MDMessageCmd), from the driving thread:
 * "renewing" before an attempt contacts the CA (an error postpones the renewal: MD_DRIVE_POSTPONED, no
 * failure counted); "challenge-setup:TYPE:DOMAIN" after a challenge's answer is set up, before the CA is
 * told (an error fails the attempt, with back-off). On error the callback says why in result. */
typedef apr_status_t md_drive_event_cb(void *baton, const char *md_name, const char *event,
                                       struct md_result_t *result, apr_pool_t *p);

typedef struct md_drive_env_t {
    md_store_t *store;
    md_responders_t *responders;        /* who answers challenges */
    const apr_array_header_t *challenge_types;   /* the registry's choice of challenge types, in order
                                         * (md_reg_challenges); NULL: the MD's MDCAChallenges, else what the
                                         * responders answer. Empty: none can be used, an attempt fails at once
                                         * saying why (challenge_dropped) */
    const char *challenge_dropped;
    md_http_options_t http_opts;        /* proxy, timeouts; the CA file comes from the MD when set */
    const char *ca_file;                /* the CA file for every MD, before the MD's own (mdomain --ca-file) */
    int agree_tos;                      /* agree to the CA's terms for every MD (mdomain -t accepted) */
    const md_http_backend_t *http_backend;  /* NULL: libcurl; tests inject a fake */
    apr_interval_time_t poll_min, poll_max;   /* 0: the ACME client's defaults */
    apr_interval_time_t authz_timeout;  /* 0: 5 minutes */
    apr_interval_time_t order_timeout;  /* 0: 5 minutes */
    apr_interval_time_t retry_base;     /* first retry delay after a failure, 0: 5 seconds */
    md_drive_log_cb *log;              /* called from the driving thread; must be thread-safe */
    void *log_baton;
    struct md_drive_shared_t *shared;   /* when MDs are driven in parallel, NULL otherwise */
    md_drive_event_cb *event;           /* NULL: no events */
    void *event_baton;
    const md_clock_t *clock;            /* every time the drive decides on; NULL: the real clock */
    const md_hints_t *hints;            /* the front-end's words for what the operator can do about a failure
                                         * (its directives or options), worded into the result's detail and the
                                         * job; NULL: none */
    int preflight;                      /* MD_PREFLIGHT_* checks before the CA is asked (md_preflight.h); 0: none */
    const struct md_dns_t *dns;         /* where they look names up; NULL: the system's resolver */
    const md_http_backend_t *preflight_http;  /* how the http-01 check fetches; NULL: libcurl */
    int preflight_http_port;            /* the port public port 80 reaches (MDPortMap); 0: 80 */
    const struct md_t *md;              /* the MD as the caller just loaded it from domains/NAME (the registry's
                                         * runner, under the MD's lease): the drive works on a copy instead of reading
                                         * md.json again; NULL (or another MD): it reads domains/NAME/md.json */
    int told_at_finish;                 /* 1: no program takes the MD's events (the registry's call): a finished job
                                         * is saved as told (notified, notified-renewed), as mod_md's is when nobody
                                         * is to be told, so that nothing rewrites it after the drive */
} md_drive_env_t;

/* What parallel drives share: one ACME client per CA (and EAB key id) with its directory, nonce pool and
 * account, and a lock so that one drive finds or registers the account while the others wait for it. Lives
 * as long as p; thread-safe. */
typedef struct md_drive_shared_t md_drive_shared_t;
md_drive_shared_t *md_drive_shared_make(apr_pool_t *p);

/* What a drive did. */
typedef enum {
    MD_DRIVE_NOT_DUE,      /* certificates valid and not in any renewal window: nothing asked of the CA */
    MD_DRIVE_BACKING_OFF,  /* an earlier attempt failed and its retry time has not come */
    MD_DRIVE_STAGED,       /* new certificates are in staging/NAME */
    MD_DRIVE_ACTIVATED,    /* ... and were activated into domains/NAME */
    MD_DRIVE_POSTPONED,    /* due, but the "renewing" event said no: try again later, no failure counted */
    MD_DRIVE_WAITING,      /* under way, waiting for a response delay or a poll: drive it again at *pnext */
    MD_DRIVE_BLOCKED,      /* an earlier attempt failed so that a human must act: not retried until the MD's
                            * settings change, the server restarts or a forced renewal */
    MD_DRIVE_FAILED,
    MD_DRIVE_LEASED,       /* not driven: another process holds the MD's lease (md_reg_lease.h) and works on it */
} md_drive_outcome_t;

const char *md_drive_outcome_str(md_drive_outcome_t outcome);

typedef struct md_drive_flags_t {
    int force;       /* renew now, whatever the windows say */
    int activate;    /* activate the staged set at the end (the CLI); httpd activates at restart */
    int unusable;    /* the caller found domains/NAME unusable (httpd's parent reads the keys its children may not):
                      * due now, as with a missing certificate; a back-off or a block still holds */
} md_drive_flags_t;

/* Drive the MD stored in domains/NAME. Resumes a job found in staging/NAME. On failure the job records the
 * error count and the next retry time (back-off with jitter, CA failover), and result says why (with the
 * operator's remedy in env->hints' words).
 * *pnext: when to look again (renewal due time, or the retry time). */
apr_status_t md_drive(md_drive_outcome_t *poutcome, apr_time_t *pnext, md_drive_env_t *env,
                      const char *name, const md_drive_flags_t *flags, struct md_result_t *result,
                      apr_pool_t *p);

/* The validity of the certificates in GROUP/NAME (array of md_cert_validity_t*, one per key spec of md; NULL for
 * a missing one, for one that does not cover all of the MD's names and for one whose private key is missing or
 * does not match it (a key this process may not read counts as matching), and for one the store records revoked
 * (ocsp/NAME/, md_ocsp_is_revoked): all make the MD due now). */
apr_status_t md_drive_validities(apr_array_header_t **pvalidities, md_store_t *store, md_store_group_t group,
                                 const md_t *md, apr_pool_t *p);

/* The cache of the CA's renewal information (ARI, RFC 9773) for an MD's active certificate: ocsp/NAME/ari.json,
 * in a group that httpd's child processes (which drive renewals) can write; domains/ is root's. */
#define MD_DRIVE_ARI_GROUP MD_SG_OCSP
#define MD_DRIVE_ARI_FILE "ari.json"

#endif
