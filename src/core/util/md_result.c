/* The result object: where an operation's failure reason is recorded for logs, status and events. */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>

#include "md_json.h"
#include "md_result.h"

/* The length of the UTF-8 sequence at s (its code point in *pcp), 0 when it is none (or cut off). */
static apr_size_t utf8_seq(const unsigned char *s, apr_size_t avail, unsigned long *pcp)
{
    apr_size_t n, i;
    unsigned long cp;

    if (s[0] < 0x80) n = 1, cp = s[0];
    else if ((s[0] & 0xe0) == 0xc0) n = 2, cp = s[0] & 0x1fu;
    else if ((s[0] & 0xf0) == 0xe0) n = 3, cp = s[0] & 0x0fu;
    else if ((s[0] & 0xf8) == 0xf0) n = 4, cp = s[0] & 0x07u;
    else return 0;
    if (n > avail) return 0;
    for (i = 1; i < n; ++i) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff)) return 0;     /* overlong, out of range, surrogates */
    *pcp = cp;
    return n;
}

static int is_control(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029
           || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f
           || cp == 0x061c;
}

const char *md_result_clean_text(const char *text, apr_size_t max, apr_pool_t *p)
{
    const unsigned char *s = (const unsigned char *)text;
    apr_size_t len, i = 0, o = 0, n;
    unsigned long cp = 0;
    char *out;

    if (!text) return NULL;
    len = strlen(text);
    out = apr_palloc(p, (len < max ? len : max) + 4);
    while (i < len) {
        n = utf8_seq(s + i, len - i, &cp);
        if (o + (n ? n : 1) > max) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (!n) {
            out[o++] = '?';
            i += 1;
        }
        else if (is_control(cp)) {
            out[o++] = ' ';
            i += n;
        }
        else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

/* The subproblems of a problem document with only what is shown of them, cleaned; NULL when there are none. */
static md_json_t *subproblems_clean(const md_json_t *subs, apr_pool_t *p)
{
    apr_size_t i, n = subs ? md_json_count(subs, NULL) : 0;
    md_json_t *out, *sub, *clean;
    const char *s;

    if (!subs || md_json_type(subs) != MD_JSON_TYPE_ARRAY) return NULL;
    out = md_json_create_array(p);
    for (i = 0; i < n && i < MD_RESULT_SUBPROBLEMS_MAX; ++i) {
        sub = md_json_at(subs, i, NULL);
        clean = md_json_create(p);
        if ((s = md_json_gets(sub, "type", NULL)) != NULL) {
            md_json_sets(md_result_clean_text(s, 256, p), clean, "type", NULL);
        }
        if ((s = md_json_gets(sub, "detail", NULL)) != NULL) {
            md_json_sets(md_result_clean_text(s, MD_RESULT_TEXT_MAX, p), clean, "detail", NULL);
        }
        if ((s = md_json_gets(sub, "identifier", "type", NULL)) != NULL) {
            md_json_sets(md_result_clean_text(s, 64, p), clean, "identifier", "type", NULL);
        }
        if ((s = md_json_gets(sub, "identifier", "value", NULL)) != NULL) {
            md_json_sets(md_result_clean_text(s, 256, p), clean, "identifier", "value", NULL);
        }
        md_json_addj(clean, out, NULL);
    }
    return out;
}

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
    result->detail = md_result_clean_text(detail, MD_RESULT_TEXT_MAX, result->p);
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
    result->detail = md_result_clean_text(apr_pvsprintf(result->p, fmt, ap), MD_RESULT_TEXT_MAX, result->p);
    va_end(ap);
}

void md_result_problem_set(md_result_t *result, apr_status_t status, const char *problem,
                           const char *detail, md_json_t *subproblems)
{
    if (!result) return;
    result->status = status;
    result->problem = md_result_clean_text(problem, 256, result->p);
    result->detail = md_result_clean_text(detail, MD_RESULT_TEXT_MAX, result->p);
    result->subproblems = subproblems_clean(subproblems, result->p);
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
    result->problem = md_result_clean_text(problem, 256, result->p);
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
