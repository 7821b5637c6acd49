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
} md_drive_ctx_t;

/* Progress: into the job's log and to the operator. */
void md_drive__progress(md_drive_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Save the job (after every step). */
apr_status_t md_drive__save_job(md_drive_ctx_t *ctx);

/* The account for the MD's CA: stored, or newly registered; sets it on ctx->acme. */
apr_status_t md_drive__account(md_drive_ctx_t *ctx);
/* Obtain the certificate for key spec number i into staging (resuming an order the job knows). */
apr_status_t md_drive__certificate(md_drive_ctx_t *ctx, int i);
/* Answer the authorizations of an order with the responders. */
apr_status_t md_drive__authorize(md_drive_ctx_t *ctx, const apr_array_header_t *authz_urls);

#endif
