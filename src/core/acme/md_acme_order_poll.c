/* Polling of ACME resources (orders, authorizations) with Retry-After, timeouts and a first wait learned from
 * the CA's earlier answers; embedded problems. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order_int.h"
#include "md_acme_int.h"
#include "md_clock.h"
#include "md_result.h"
#include "md_time.h"

apr_interval_time_t md_acme_order__next_wait(apr_interval_time_t *pwait, const md_acme_t *acme,
                                             const md_http_response_t *resp, apr_time_t now)
{
    apr_interval_time_t wait = *pwait, max = md_acme_poll_max(acme);
    apr_time_t ready_at = resp ? md_http_retry_after(resp, now) : 0;

    if (max <= 0) max = md_acme_poll_min(acme);
    if (ready_at > now && ready_at - now > wait) wait = ready_at - now;
    if (wait > max) wait = max;
    if (wait < 0) wait = 0;
    *pwait = (*pwait * 2 > max) ? max : *pwait * 2;
    return wait;
}

static int pace_valid(int kind)
{
    return kind >= 0 && kind < MD_ACME_PACE_KINDS;
}

apr_interval_time_t md_acme__pace_get(md_acme_t *acme, int kind)
{
    apr_interval_time_t wait;

    if (!pace_valid(kind)) return 0;
    apr_thread_mutex_lock(acme->mutex);
    if (!acme->pace[kind]) acme->pace[kind] = acme->poll_min / 2;
    wait = acme->pace[kind];
    apr_thread_mutex_unlock(acme->mutex);
    return wait;
}

void md_acme__pace_learn(md_acme_t *acme, int kind, int hit, apr_interval_time_t took)
{
    apr_interval_time_t w;

    if (!pace_valid(kind)) return;
    apr_thread_mutex_lock(acme->mutex);
    w = acme->pace[kind] ? acme->pace[kind] : acme->poll_min / 2;
    /* a miss: at least as long as the CA took this time; the misses of drives in the same stall (of the CA or of
     * this machine) do not add up, as they did when each doubled the wait (to poll_max after 16 of them) */
    /* a hit: 1/32 shorter, but not below where it starts (md_acme_int.h: a shorter wait misses in every stall) */
    if (hit) {
        w -= w / 32;
        if (w < acme->poll_min / 2) w = acme->poll_min / 2;
    }
    else if (w < took) w = took;
    if (w > acme->poll_max) w = acme->poll_max;
    if (w < apr_time_from_msec(1)) w = apr_time_from_msec(1);
    acme->pace[kind] = w;
    apr_thread_mutex_unlock(acme->mutex);
}

apr_status_t md_acme_order__poll(md_acme_poll_fn *fn, void *baton, md_acme_t *acme, int pace,
                                 apr_interval_time_t timeout, const char *what, md_result_t *result,
                                 apr_pool_t *p)
{
    apr_pool_t *ptmp = NULL;
    apr_time_t start = md_clock_now(acme->clock), deadline = start + timeout, now;
    apr_interval_time_t wait = md_acme_poll_min(acme), delay = md_acme__pace_get(acme, pace), paced;
    const md_http_response_t *resp;
    const char *state, *last = NULL;
    apr_status_t rv;
    int looks = 0;

    rv = apr_pool_create(&ptmp, p);
    if (rv != APR_SUCCESS) goto leave;
    if (delay > timeout) delay = timeout;
    paced = delay;
    if (delay > 0) md_clock_sleep(acme->clock, delay);
    for (;;) {
        resp = NULL;
        state = NULL;
        apr_pool_clear(ptmp);
        rv = fn(baton, &resp, &state, result, ptmp);
        if (state) last = apr_pstrdup(p, state);
        if (looks++ == 0 && rv == APR_SUCCESS) md_acme__pace_learn(acme, pace, 1, paced);
        if (looks > 1 && rv != APR_EAGAIN) md_acme__pace_learn(acme, pace, 0, md_clock_now(acme->clock) - start);
        if (rv != APR_EAGAIN) goto leave;
        now = md_clock_now(acme->clock);
        if (now >= deadline) break;
        delay = md_acme_order__next_wait(&wait, acme, resp, now);
        if (delay > deadline - now) delay = deadline - now;
        md_clock_sleep(acme->clock, delay);
    }
    if (looks > 1) md_acme__pace_learn(acme, pace, 0, md_clock_now(acme->clock) - start);
    rv = APR_TIMEUP;
    md_result_printf(result, rv, "timed out after %s waiting for %s; last status: %s",
                     md_duration_print(md_clock_now(acme->clock) - start, p), what, last ? last : "unknown");
leave:
    if (ptmp) apr_pool_destroy(ptmp);
    return rv;
}

void md_acme_order__problem_set(md_result_t *result, apr_status_t rv, const md_json_t *problem,
                                const char *prefix, apr_pool_t *p)
{
    const char *type = problem ? md_json_gets(problem, "type", NULL) : NULL;
    const char *detail = problem ? md_json_gets(problem, "detail", NULL) : NULL;
    md_json_t *subs = problem ? md_json_getj(problem, "subproblems", NULL) : NULL;

    if (subs && md_json_type(subs) != MD_JSON_TYPE_ARRAY) subs = NULL;
    detail = detail ? apr_pstrcat(p, prefix, ": ", detail, NULL) : prefix;
    md_result_problem_set(result, rv, type, detail, subs);
}

int md_acme_order__state_in(const char *state, const char *states)
{
    apr_size_t len, n;
    const char *s = states, *bar;

    if (!state || !states) return 0;
    len = strlen(state);
    while (s) {
        bar = strchr(s, '|');
        n = bar ? (apr_size_t)(bar - s) : strlen(s);
        if (n == len && !strncmp(s, state, len)) return 1;
        s = bar ? bar + 1 : NULL;
    }
    return 0;
}
