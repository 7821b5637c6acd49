/* The result object: where an operation's failure reason is recorded for logs, status and events. */
#include <stdarg.h>
#include <apr_strings.h>

#include "md_json.h"
#include "md_result.h"

md_result_t *md_result_make(apr_pool_t *p)
{
    md_result_t *result = apr_pcalloc(p, sizeof(*result));
    result->p = p;
    result->status = APR_SUCCESS;
    return result;
}

void md_result_reset(md_result_t *result)
{
    apr_pool_t *p;

    if (!result) return;
    p = result->p;
    memset(result, 0, sizeof(*result));
    result->p = p;
}

void md_result_set(md_result_t *result, apr_status_t status, const char *detail)
{
    if (!result) return;
    result->status = status;
    result->problem = NULL;
    result->subproblems = NULL;
    result->detail = detail ? apr_pstrdup(result->p, detail) : NULL;
}

void md_result_printf(md_result_t *result, apr_status_t status, const char *fmt, ...)
{
    va_list ap;

    if (!result) return;
    va_start(ap, fmt);
    result->status = status;
    result->problem = NULL;
    result->subproblems = NULL;
    result->detail = apr_pvsprintf(result->p, fmt, ap);
    va_end(ap);
}

void md_result_problem_set(md_result_t *result, apr_status_t status, const char *problem,
                           const char *detail, md_json_t *subproblems)
{
    if (!result) return;
    result->status = status;
    result->problem = problem ? apr_pstrdup(result->p, problem) : NULL;
    result->detail = detail ? apr_pstrdup(result->p, detail) : NULL;
    result->subproblems = subproblems ? md_json_clone(subproblems, result->p) : NULL;
}

void md_result_activity_set(md_result_t *result, const char *activity)
{
    if (!result) return;
    result->activity = activity ? apr_pstrdup(result->p, activity) : NULL;
}

void md_result_assign(md_result_t *dest, const md_result_t *src)
{
    if (!dest || !src) return;
    md_result_problem_set(dest, src->status, src->problem, src->detail, src->subproblems);
    dest->ready_at = src->ready_at;
}

const char *md_result_text(const md_result_t *result, apr_pool_t *p)
{
    char buf[256];

    if (result->detail && result->problem) {
        return apr_psprintf(p, "%s (%s)", result->detail, result->problem);
    }
    if (result->detail) return apr_pstrdup(p, result->detail);
    if (result->problem) return apr_pstrdup(p, result->problem);
    switch (result->status) {
    case MD_EWAIT: return "waiting";
    case MD_EPOLL: return "started, not yet visible";
    case MD_EHUMAN: return "failed; needs a human";
    default: return apr_pstrdup(p, apr_strerror(result->status, buf, sizeof(buf)));
    }
}
