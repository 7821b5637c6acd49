/* The renewal job file (job.json): mod_md's keys, the activity log, and the drive's resumable state. */
#include <apr_strings.h>

#include "md_job.h"
#include "md_result.h"
#include "md_time.h"

md_job_t *md_job_make(const char *name, apr_pool_t *p)
{
    md_job_t *job = apr_pcalloc(p, sizeof(*job));

    job->p = p;
    job->name = apr_pstrdup(p, name);
    job->last = md_json_create(p);
    job->log = md_json_create_array(p);
    job->state = md_json_create(p);
    return job;
}

static void set_time(md_json_t *json, const char *key, apr_time_t t, apr_pool_t *p)
{
    if (t) md_json_sets(md_time_print_http(t, p), json, key, NULL);
}

static apr_time_t get_time(const md_json_t *json, const char *key)
{
    const char *s = md_json_gets(json, key, NULL);
    apr_time_t t = 0;

    if (s && md_time_parse_http(&t, s) != APR_SUCCESS) t = 0;
    return t;
}

md_json_t *md_job_to_json(const md_job_t *job, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(job->name, json, "name", NULL);
    md_json_setb(job->finished, json, "finished", NULL);
    md_json_setb(job->notified, json, "notified", NULL);
    md_json_setb(job->notified_renewed, json, "notified-renewed", NULL);
    set_time(json, "next-run", job->next_run, p);
    set_time(json, "last-run", job->last_run, p);
    set_time(json, "valid-from", job->valid_from, p);
    md_json_setl(job->errors, json, "errors", NULL);
    md_json_setj(job->last, json, "last", NULL);
    md_json_setj(job->log, json, "log", "entries", NULL);
    md_json_setj(job->state, json, "mdomain", NULL);
    return json;
}

apr_status_t md_job_from_json(md_job_t **pjob, const md_json_t *json, apr_pool_t *p)
{
    const char *name = md_json_gets(json, "name", NULL);
    long long errors = md_json_getl(json, "errors", NULL);
    md_job_t *job;
    md_json_t *node;

    if (!name) return APR_EINVAL;
    job = md_job_make(name, p);
    job->finished = md_json_getb(json, "finished", NULL);
    job->notified = md_json_getb(json, "notified", NULL);
    job->notified_renewed = md_json_getb(json, "notified-renewed", NULL);
    job->errors = errors < 0 ? 0 : (errors > MD_JOB_ERRORS_MAX ? MD_JOB_ERRORS_MAX : (int)errors);
    job->next_run = get_time(json, "next-run");
    job->last_run = get_time(json, "last-run");
    job->valid_from = get_time(json, "valid-from");
    if ((node = md_json_getj(json, "last", NULL)) != NULL) job->last = md_json_clone(node, p);
    if (md_json_is(MD_JSON_TYPE_ARRAY, json, "log", "entries", NULL)) {
        job->log = md_json_clone(md_json_getj(json, "log", "entries", NULL), p);
    }
    if ((node = md_json_getj(json, "mdomain", NULL)) != NULL) job->state = md_json_clone(node, p);
    *pjob = job;
    return APR_SUCCESS;
}

apr_status_t md_job_load(md_job_t **pjob, md_store_t *store, md_store_group_t group, const char *name,
                         md_result_t *result, apr_pool_t *p)
{
    void *value = NULL;
    apr_status_t rv;

    rv = md_store_load(&value, store, group, name, "job.json", MD_SV_JSON, result, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        *pjob = md_job_make(name, p);
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) return rv;
    rv = md_job_from_json(pjob, value, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "%s/%s/job.json: no \"name\"", md_store_group_name(group), name);
    }
    return rv;
}

apr_status_t md_job_save(const md_job_t *job, md_store_t *store, md_store_group_t group,
                         md_result_t *result, apr_pool_t *p)
{
    return md_store_save(store, group, job->name, "job.json", MD_SV_JSON, md_job_to_json(job, p), 0,
                         result, p);
}

apr_status_t md_job_save_unflushed(const md_job_t *job, md_store_t *store, md_store_group_t group,
                                   md_result_t *result, apr_pool_t *p)
{
    return md_store_save_unflushed(store, group, job->name, "job.json", MD_SV_JSON, md_job_to_json(job, p),
                                   result, p);
}

void md_job_log_status(md_job_t *job, const char *type, const char *status, const char *detail, apr_time_t when)
{
    md_json_t *entry = md_json_create(job->p), *log;

    md_json_sets(md_time_print_http(when, job->p), entry, "when", NULL);
    md_json_sets(type, entry, "type", NULL);
    if (status) md_json_sets(status, entry, "status", NULL);
    if (detail) md_json_sets(md_result_clean_text(detail, MD_RESULT_TEXT_MAX, job->p), entry, "detail", NULL);
    /* a new array: the newest entry first, the older ones shared (copying the whole log at each entry, and a pool
     * cleanup per copied entry, was 5 % of a drive's CPU per certificate) */
    log = md_json_prepend_capped(entry, job->log, MD_JOB_LOG_MAX, job->p);
    if (log) job->log = log;
}

void md_job_log(md_job_t *job, const char *type, const char *detail, apr_time_t when)
{
    md_job_log_status(job, type, NULL, detail, when);
}

void md_job_record(md_job_t *job, const md_result_t *result)
{
    md_json_t *last = md_json_create(job->p);

    md_json_setl(result->status, last, "status", NULL);
    if (result->status != APR_SUCCESS) {
        md_json_sets(md_result_status_str(result->status, job->p), last, "status-description", NULL);
    }
    if (result->problem) md_json_sets(result->problem, last, "problem", NULL);
    if (result->detail) md_json_sets(result->detail, last, "detail", NULL);
    if (result->activity) md_json_sets(result->activity, last, "activity", NULL);
    if (result->subproblems) md_json_setj(result->subproblems, last, "subproblems", NULL);
    set_time(last, "valid-from", result->ready_at, job->p);
    job->last = last;
}

void md_job_set_last(md_job_t *job, const md_result_t *result, apr_time_t when)
{
    md_job_record(job, result);
    job->last_run = when;
    if (result->status != APR_SUCCESS) {
        md_job_log_status(job, "renewal-error", result->problem,
                          result->detail ? result->detail : md_result_text(result, job->p), when);
    }
}
