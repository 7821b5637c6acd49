/* Renewal policy as pure functions, applied by the registry and the drive: when an MD is due, when to warn, how
 * long to wait after a failure, which CA to try. */
#include <string.h>

#include "md_renew.h"

#define MD_RENEW_DAY       APR_INT64_C(86400000000)   /* one day in microseconds */
#define MD_RENEW_PERCENT   33
#define MD_WARN_PERCENT    10

static const md_timeslice_t renew_def = { 0, MD_RENEW_PERCENT };
static const md_timeslice_t warn_def = { 0, MD_WARN_PERCENT };

/* The validity of certificate i, or NULL when it is missing (also past the end of the array). */
static const md_cert_validity_t *validity_at(const apr_array_header_t *validities, int i)
{
    if (!validities || i < 0 || i >= validities->nelts) return NULL;
    return APR_ARRAY_IDX(validities, i, const md_cert_validity_t *);
}

/* How many certificates the MD needs: one per key spec, at least one, and no fewer than given. */
static int cert_count(const md_t *md, const apr_array_header_t *validities)
{
    int n = (md->pks && md->pks->nelts > 0) ? md->pks->nelts : 1;

    if (validities && validities->nelts > n) n = validities->nelts;
    return n;
}

apr_time_t md_renew_due(const md_t *md, const apr_array_header_t *validities, apr_time_t ari_pick)
{
    const md_timeslice_t *window = md->renew_window ? md->renew_window : &renew_def;
    const md_cert_validity_t *v;
    apr_time_t due = 0, t;
    int i, n = cert_count(md, validities);

    for (i = 0; i < n; ++i) {
        v = validity_at(validities, i);
        if (!v) return 0;   /* a missing certificate: due now */
        t = v->not_after - md_timeslice_length(window, v->not_before, v->not_after);
        if (i == 0 || t < due) due = t;
    }
    if (md->ari_renewals && ari_pick != 0 && ari_pick < due) due = ari_pick;
    return due;
}

int md_renew_is_due(const md_t *md, const apr_array_header_t *validities, apr_time_t ari_pick, apr_time_t now)
{
    return md_renew_due(md, validities, ari_pick) <= now;
}

int md_renew_should_warn(const md_t *md, const apr_array_header_t *validities, apr_time_t now)
{
    const md_timeslice_t *window = md->warn_window ? md->warn_window : &warn_def;
    const md_cert_validity_t *v;
    int i;

    for (i = 0; validities && i < validities->nelts; ++i) {
        v = validity_at(validities, i);
        if (!v) continue;   /* nothing there to expire */
        if (now >= v->not_after || md_timeslice_covers(window, v->not_before, v->not_after, now)) return 1;
    }
    return 0;
}

apr_time_t md_renew_warn_at(const md_t *md, const apr_array_header_t *validities)
{
    const md_timeslice_t *window = md->warn_window ? md->warn_window : &warn_def;
    const md_cert_validity_t *v;
    apr_time_t at = 0, t;
    int i, n = cert_count(md, validities);

    for (i = 0; i < n; ++i) {
        if (!(v = validity_at(validities, i))) return 0;
        t = v->not_after - md_timeslice_length(window, v->not_before, v->not_after);
        if (i == 0 || t < at) at = t;
    }
    return at;
}

apr_time_t md_renew_deadline(const md_t *md, const apr_array_header_t *validities)
{
    const md_cert_validity_t *v;
    apr_time_t at = 0;
    int i, n = cert_count(md, validities);

    for (i = 0; i < n; ++i) {
        if (!(v = validity_at(validities, i))) return 0;
        if (i == 0 || v->not_after < at) at = v->not_after;
    }
    return at;
}

/* base * 2^(errors-1), at most one day, without overflowing. */
static apr_interval_time_t backoff(int errors, apr_interval_time_t base)
{
    apr_interval_time_t delay = base;
    int i;

    if (errors <= 0 || base <= 0) return 0;
    if (base >= MD_RENEW_DAY) return MD_RENEW_DAY;
    for (i = 1; i < errors && delay < MD_RENEW_DAY; ++i) delay *= 2;
    return delay < MD_RENEW_DAY ? delay : MD_RENEW_DAY;
}

/* The CA's problems that say our request itself is wrong (names, contacts, keys, the account binding): asking again
 * soon earns the same answer. As short names (after "urn:ietf:params:acme:error:"). */
static const char *const input_problems[] = {
    "badCSR", "badPublicKey", "badRevocationReason", "badSignatureAlgorithm", "externalAccountRequired",
    "invalidContact", "malformed", "rejectedIdentifier", "unsupportedContact", "unsupportedIdentifier",
    "userActionRequired",
};

int md_renew_problem_is_input(const char *problem)
{
    static const char prefix[] = "urn:ietf:params:acme:error:";
    apr_size_t i;

    if (!problem || strncmp(problem, prefix, sizeof(prefix) - 1)) return 0;
    problem += sizeof(prefix) - 1;
    for (i = 0; i < sizeof(input_problems) / sizeof(input_problems[0]); ++i) {
        if (!strcmp(problem, input_problems[i])) return 1;
    }
    return 0;
}

apr_interval_time_t md_renew_retry_delay(int errors, const char *problem, apr_interval_time_t base, double rand01,
                                         apr_time_t ready_at, apr_time_t now)
{
    apr_interval_time_t delay = backoff(errors, base);
    apr_int64_t secs;

    if (delay > 0 && md_renew_problem_is_input(problem)) delay = MD_RENEW_DAY;
    if (rand01 != rand01) rand01 = 0.5;   /* NaN: no jitter */
    else if (rand01 < 0.0) rand01 = 0.0;
    else if (rand01 > 1.0) rand01 = 1.0;
    /* -50% .. +50% in whole seconds, rounded towards none: a delay of 1 s stays 1 s, a day may become 1.5 days */
    secs = (apr_int64_t)((double)apr_time_sec(delay) * (rand01 - 0.5));
    delay += apr_time_from_sec(secs);
    /* the CA's Retry-After wins when later: asking earlier only earns another refusal */
    if (ready_at > now && ready_at - now > delay) delay = ready_at - now;
    return delay;
}

apr_time_t md_renew_retry_cap(const md_t *md, const apr_array_header_t *validities, apr_time_t next, apr_time_t now,
                              int *pcapped)
{
    apr_time_t warn_at = md_renew_warn_at(md, validities);

    if (pcapped) *pcapped = 0;
    if (!warn_at || warn_at <= now || next <= warn_at) return next;
    if (pcapped) *pcapped = 1;
    return warn_at;
}

apr_time_t md_renew_retry_next(const md_t *md, const apr_array_header_t *validities, apr_time_t own, apr_time_t asked,
                               apr_time_t now, int *pcapped)
{
    apr_time_t warn_at = md_renew_warn_at(md, validities);
    int capped;
    apr_time_t next = md_renew_retry_cap(md, validities, asked, now, &capped);

    apr_time_t deadline = md_renew_deadline(md, validities), last;

    if (!capped && warn_at && warn_at <= now && next > own) {       /* inside the warn window: no CA delay */
        next = own;
        capped = 1;
    }
    /* inside the warn window, before the deadline: at most half the remaining life away (not below a minute), so
     * that no retry lands after the certificate expired, however long the back-off has grown */
    if (warn_at && warn_at <= now && deadline > now) {
        last = now + (deadline - now) / 2;
        if (last < now + MD_RENEW_RETRY_FLOOR) last = now + MD_RENEW_RETRY_FLOOR;
        if (next > last) {
            next = last;
            capped = 1;
        }
    }
    if (pcapped) *pcapped = capped;
    return next;
}

int md_renew_attempts_left(const md_t *md, const apr_array_header_t *validities, int errors, const char *problem,
                           apr_interval_time_t base, apr_time_t first)
{
    apr_time_t deadline = md_renew_deadline(md, validities), t = first;
    apr_interval_time_t delay;
    int n = 0;

    if (!deadline) return -1;
    if (base <= 0) base = apr_time_from_sec(1);
    if (errors < 0) errors = 0;
    while (t < deadline && n < MD_RENEW_ATTEMPTS_MAX) {
        ++n;
        if (errors < MD_RENEW_ATTEMPTS_MAX) ++errors;
        delay = md_renew_retry_delay(errors, problem, base, 0.5, 0, t);
        t = md_renew_retry_cap(md, validities, t + (delay > 0 ? delay : base), t, NULL);
    }
    return n;
}

const char *md_renew_ca_for(const md_t *md, int errors)
{
    int n = md->ca_urls ? md->ca_urls->nelts : 0;

    if (n == 0) return NULL;
    if (n == 1 || md->retry_failover <= 0 || errors <= 0) return APR_ARRAY_IDX(md->ca_urls, 0, const char *);
    return APR_ARRAY_IDX(md->ca_urls, (errors / md->retry_failover) % n, const char *);
}
