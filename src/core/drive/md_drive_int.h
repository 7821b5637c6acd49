/* Internals of the drive: the context of one renewal and the steps shared by its files. */
#ifndef MD_DRIVE_INT_H
#define MD_DRIVE_INT_H

#include "md.h"
#include "md_acme.h"
#include "md_drive.h"
#include "md_job.h"
#include "md_pkey.h"
#include "md_result.h"

typedef struct md_drive_ctx_t {
    apr_pool_t *p;
    md_drive_env_t *env;
    md_t *md;
    md_job_t *job;
    md_acme_t *acme;
    md_pkey_t *acct_key;
    const char *thumbprint;      /* of the account key, for key authorizations */
    md_result_t *result;
    apr_time_t wait_until;       /* MD_EWAIT: when the job may go on */
    struct md_cert_t **fresh;    /* per key spec, the leaf certificate this drive staged (and flushed) with its key,
                                  * NULL where it staged none: what follows reads it here, not from the files */
    int saved;                   /* this drive saved ctx->md as staging/NAME/md.json (record_success) */
} md_drive_ctx_t;

/* Progress: into the job's log and to the operator. */
void md_drive__progress(md_drive_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Save the job (after every step). */
apr_status_t md_drive__save_job(md_drive_ctx_t *ctx);

/* The ACME client for the CA this attempt uses (shared between parallel drives), directory fetched. */
apr_status_t md_drive__acme_setup(md_drive_ctx_t *ctx);
/* Where the account key is kept: ctx->p, or with parallel drives a pool living as long as the shared ACME
 * client that holds the key. */
apr_pool_t *md_drive__account_pool(md_drive_ctx_t *ctx);
/* With parallel drives, the store id of the account set on the shared client ctx->acme (NULL: none yet, or no
 * env->shared); and record it when the account step sets one. Both under md_drive__account_lock. */
const char *md_drive__shared_account(md_drive_ctx_t *ctx);
void md_drive__shared_account_set(md_drive_ctx_t *ctx, const char *id);
/* Lock (on) or unlock (off) the account step of parallel drives; nothing without env->shared. */
void md_drive__account_lock(md_drive_ctx_t *ctx, int on);
/* The ARI suggestion for the MD's active certificate: *ppick the time to renew (0: none known) and *pcheck when
 * to ask again. Answers from domains/NAME/ari.json until that time; asks the CA (renewalInfo) after. */
void md_drive__ari(apr_time_t *ppick, apr_time_t *pcheck, md_drive_ctx_t *ctx, apr_time_t now);
/* After activation: remember that the new certificate needs no ARI question before check_at. */
void md_drive__ari_reset(md_drive_ctx_t *ctx, apr_time_t check_at);

/* The account for the MD's CA: stored, or newly registered; sets it on ctx->acme. */
apr_status_t md_drive__account(md_drive_ctx_t *ctx);
/* Obtain the certificate for key spec number i into staging (resuming an order the job knows). */
apr_status_t md_drive__certificate(md_drive_ctx_t *ctx, int i);
struct md_acme_order_t;
/* Answer the authorizations of an order with the responders; when it succeeds the order is ready (or valid). */
apr_status_t md_drive__authorize(md_drive_ctx_t *ctx, struct md_acme_order_t *order);
/* Pre-flight (env->preflight): before a new order, CAA of every name against the CA's identities; before the CA is
 * told of an answer, whether it is visible (md_preflight.h). A miss fails the attempt (problem MD_PROBLEM_PREFLIGHT,
 * the result saying what is wrong). */
apr_status_t md_drive__preflight_caa(md_drive_ctx_t *ctx);
apr_status_t md_drive__preflight_answer(md_drive_ctx_t *ctx, const char *type, const char *domain, const char *token,
                                        const char *key_authz);

#endif
