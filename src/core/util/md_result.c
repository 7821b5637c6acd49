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
    result->hint = MD_HINT_NONE;
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
    result->hint = MD_HINT_NONE;
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
    result->hint = MD_HINT_NONE;
}

void md_result_hint_set(md_result_t *result, md_hint_t hint)
{
    if (!result || (int)hint < 0 || hint >= MD_HINT_COUNT) return;
    result->hint = hint;
}

void md_result_hint_apply(md_result_t *result, const md_hints_t *hints)
{
    const char *text;

    if (!result || result->hint == MD_HINT_NONE || !hints) return;
    text = hints->text[result->hint];
    result->hint = MD_HINT_NONE;
    if (!text || !*text) return;
    result->detail = result->detail ? apr_pstrcat(result->p, result->detail, "; ", text, NULL)
                                    : apr_pstrdup(result->p, text);
}

void md_result_activity_set(md_result_t *result, const char *activity)
{
    if (!result) return;
    result->activity = activity ? apr_pstrdup(result->p, activity) : NULL;
}

void md_result_problem_type(md_result_t *result, const char *problem)
{
    if (!result) return;
    result->problem = problem ? apr_pstrdup(result->p, problem) : NULL;
}

void md_result_assign(md_result_t *dest, const md_result_t *src)
{
    if (!dest || !src) return;
    md_result_problem_set(dest, src->status, src->problem, src->detail, src->subproblems);
    dest->ready_at = src->ready_at;
    dest->hint = src->hint;
}

/* The codes our code returns for its own reasons; APR's texts for them describe no real condition (or the wrong
 * one: APR_EACCES is mostly a CA's refusal, which "Permission denied" would send people to their files for). */
static int own_status(apr_status_t status)
{
    return status == APR_EGENERAL || status == APR_ENOTIMPL || status == APR_EINVAL || status == APR_EACCES
           || status == MD_EWAIT || status == MD_EPOLL || status == MD_EHUMAN;
}

const char *md_result_status_str(apr_status_t status, apr_pool_t *p)
{
    char buf[256];

    switch (status) {
    case APR_SUCCESS: return "ok";
    case APR_EGENERAL: return "failed";
    case APR_ENOTIMPL: return "not supported";
    case APR_EINVAL: return "invalid";
    case APR_EACCES: return "refused";
    case MD_EWAIT: return "waiting";
    case MD_EPOLL: return "started, not yet visible";
    case MD_EHUMAN: return "failed; needs a human";
    default: return apr_pstrdup(p, apr_strerror(status, buf, sizeof(buf)));
    }
}

apr_status_t md_result_log_status(apr_status_t status)
{
    return own_status(status) ? APR_SUCCESS : status;
}

const char *md_result_text(const md_result_t *result, apr_pool_t *p)
{
    const char *what;

    if (result->detail && result->problem) {
        return apr_psprintf(p, "%s (%s)", result->detail, result->problem);
    }
    if (result->detail) return apr_pstrdup(p, result->detail);
    if (result->problem) return apr_pstrdup(p, result->problem);
    what = result->activity ? apr_pstrcat(p, result->activity, " failed", NULL) : "failed";
    if (own_status(result->status)) return what;
    return apr_pstrcat(p, what, ": ", md_result_status_str(result->status, p), NULL);
}
