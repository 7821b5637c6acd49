/* The renewal job of an MD: job.json in mod_md's format (finished, notified, notified-renewed, errors, next-run,
 * last, log) plus the drive's own resumable state under "mdomain". */
#ifndef MD_JOB_H
#define MD_JOB_H

#include <apr_pools.h>
#include <apr_time.h>

#include "md_json.h"
#include "md_store.h"

struct md_result_t;

#define MD_JOB_LOG_MAX 100
/* A job.json's "errors" is read as 0..MD_JOB_ERRORS_MAX (counting on from INT_MAX would overflow). */
#define MD_JOB_ERRORS_MAX 1000000

typedef struct md_job_t {
    apr_pool_t *p;
    const char *name;
    int finished;            /* a complete set is staged */
    int notified;            /* a message of this job was delivered (challenge-setup, renewed), as mod_md sets it */
    int notified_renewed;    /* the renewed set was told (MDMessageCmd renewed and MDNotifyCmd), or nobody takes it */
    int errors;              /* failed attempts in a row */
    apr_time_t next_run;     /* not before (back-off), 0 when free */
    apr_time_t last_run;
    apr_time_t valid_from;   /* of the staged certificates */
    md_json_t *last;         /* {"status", "problem", "detail", "activity", "valid-from"} of the last attempt */
    md_json_t *log;          /* [{"when", "type", "status", "detail"}], newest first ("log": {"entries": [...]}) */
    md_json_t *state;        /* the drive's state: {"ca", "account", "orders": {KEYNAME: URL}} */
} md_job_t;

md_job_t *md_job_make(const char *name, apr_pool_t *p);
/* Load GROUP/NAME/job.json; a missing job is a new one (APR_SUCCESS), a damaged one APR_EINVAL. */
apr_status_t md_job_load(md_job_t **pjob, md_store_t *store, md_store_group_t group, const char *name,
                         struct md_result_t *result, apr_pool_t *p);
apr_status_t md_job_save(const md_job_t *job, md_store_t *store, md_store_group_t group,
                         struct md_result_t *result, apr_pool_t *p);
/* md_job_save without the flush (md_store_save_unflushed): what was told about a job, told again when lost. */
apr_status_t md_job_save_unflushed(const md_job_t *job, md_store_t *store, md_store_group_t group,
                                   struct md_result_t *result, apr_pool_t *p);
md_json_t *md_job_to_json(const md_job_t *job, apr_pool_t *p);
apr_status_t md_job_from_json(md_job_t **pjob, const md_json_t *json, apr_pool_t *p);

/* Add a log entry (newest first, at most MD_JOB_LOG_MAX kept). detail may be NULL. */
void md_job_log(md_job_t *job, const char *type, const char *detail, apr_time_t when);
/* The same with a "status" (mod_md's: the problem type of a "renewal-error", the event of a "message-error");
 * status and detail may be NULL. */
void md_job_log_status(md_job_t *job, const char *type, const char *status, const char *detail, apr_time_t when);
/* Record a result in "last": status, status-description (on failure), problem, detail, activity, subproblems,
 * and "valid-from" when the result has a ready_at (mod_md's shape). */
void md_job_record(md_job_t *job, const struct md_result_t *result);
/* Record the result of an attempt: md_job_record, last-run, and a "renewal-error" log entry on failure. */
void md_job_set_last(md_job_t *job, const struct md_result_t *result, apr_time_t when);

#endif
