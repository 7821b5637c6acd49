/* Durations in mod_md's syntax and time slices (an absolute length or a share of a lifetime). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_time.h"

#define MD_MSEC  (APR_USEC_PER_SEC / 1000)
#define MD_MIN   (60 * APR_USEC_PER_SEC)
#define MD_HOUR  (60 * MD_MIN)
#define MD_DAY   (24 * MD_HOUR)

typedef struct {
    const char *name;
    apr_interval_time_t usec;
} duration_unit_t;

/* Largest first: md_duration_print walks them in this order. */
static const duration_unit_t units[] = {
    { "d", MD_DAY }, { "h", MD_HOUR }, { "mi", MD_MIN }, { "s", APR_USEC_PER_SEC }, { "ms", MD_MSEC }, { "us", 1 },
};
#define UNIT_COUNT (sizeof(units) / sizeof(units[0]))

/* The words a unit may be written as (any case): mod_md reads "10sec", "1hour" and "2days" too. */
static const struct {
    const char *word;
    const char *unit;
} unit_words[] = {
    { "day", "d" }, { "days", "d" }, { "hour", "h" }, { "hours", "h" }, { "min", "mi" }, { "mins", "mi" },
    { "minute", "mi" }, { "minutes", "mi" }, { "sec", "s" }, { "secs", "s" }, { "second", "s" },
    { "seconds", "s" }, { "msec", "ms" }, { "msecs", "ms" }, { "millisecond", "ms" }, { "milliseconds", "ms" },
};

static const duration_unit_t *unit_find(const char *name, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < UNIT_COUNT; ++i) {
        if (strlen(units[i].name) == len && !strncasecmp(units[i].name, name, len)) return &units[i];
    }
    for (i = 0; i < sizeof(unit_words) / sizeof(unit_words[0]); ++i) {
        if (strlen(unit_words[i].word) == len && !strncasecmp(unit_words[i].word, name, len)) {
            return unit_find(unit_words[i].unit, strlen(unit_words[i].unit));
        }
    }
    return NULL;
}

/* One term "<digits><unit>?" starting at *ps; advances *ps past it. */
static apr_status_t duration_term(apr_interval_time_t *pterm, const char **ps, const char *def_unit)
{
    const char *s = *ps, *u;
    const duration_unit_t *unit;
    apr_int64_t n = 0;

    if (!isdigit((unsigned char)*s)) return APR_EINVAL;
    while (isdigit((unsigned char)*s)) {
        if (n > (APR_INT64_MAX / 10) - 10) return APR_EINVAL;
        n = n * 10 + (*s++ - '0');
    }
    u = s;
    while (isalpha((unsigned char)*s)) ++s;
    unit = (s > u) ? unit_find(u, (apr_size_t)(s - u)) : unit_find(def_unit, strlen(def_unit));
    if (!unit) return APR_EINVAL;
    if (n > APR_INT64_MAX / unit->usec) return APR_EINVAL;
    *pterm = (apr_interval_time_t)n * unit->usec;
    *ps = s;
    return APR_SUCCESS;
}

apr_status_t md_duration_parse_signed(apr_interval_time_t *pduration, const char *value, const char *def_unit)
{
    apr_interval_time_t total = 0, term;
    const char *s = value;
    int negative = 0;
    apr_status_t rv;

    if (!s || !def_unit) return APR_EINVAL;
    while (isspace((unsigned char)*s)) ++s;
    if (*s == '-' || *s == '+') negative = (*s++ == '-');
    if (!*s) return APR_EINVAL;
    while (*s) {
        rv = duration_term(&term, &s, def_unit);
        if (rv != APR_SUCCESS) return rv;
        if (term > APR_INT64_MAX - total) return APR_EINVAL;
        total += term;
        /* terms follow each other directly after a unit ("1d12h") or after spaces ("1d 12h") */
        if (*s && !isspace((unsigned char)*s) && !(isdigit((unsigned char)*s) && isalpha((unsigned char)s[-1]))) {
            return APR_EINVAL;
        }
        while (isspace((unsigned char)*s)) ++s;
    }
    *pduration = negative ? -total : total;
    return APR_SUCCESS;
}

apr_status_t md_duration_parse(apr_interval_time_t *pduration, const char *value, const char *def_unit)
{
    apr_interval_time_t d;
    const char *s = value;

    while (s && isspace((unsigned char)*s)) ++s;
    if (s && *s == '-') return APR_EINVAL;
    if (md_duration_parse_signed(&d, value, def_unit) != APR_SUCCESS) return APR_EINVAL;
    *pduration = d;
    return APR_SUCCESS;
}

const char *md_duration_print(apr_interval_time_t duration, apr_pool_t *p)
{
    const char *out = NULL;
    apr_interval_time_t rest = duration;
    apr_size_t i;

    if (rest < 0) return apr_pstrcat(p, "-", md_duration_print(-rest, p), NULL);
    for (i = 0; i < UNIT_COUNT; ++i) {
        apr_int64_t n = rest / units[i].usec;
        if (n == 0) continue;
        rest -= n * units[i].usec;
        out = apr_psprintf(p, "%s%s%" APR_INT64_T_FMT "%s", out ? out : "", out ? " " : "", n,
                           units[i].name);
    }
    return out ? out : "0s";
}

#define TS_FORMAT "use a duration with a unit d, h, mi, s or ms (e.g. 21d, 12h) or a percentage (e.g. 33%%)"

apr_status_t md_timeslice_parse(md_timeslice_t **pts, const char *value, const char *def_unit,
                                const char **perr, apr_pool_t *p)
{
    md_timeslice_t *ts = apr_pcalloc(p, sizeof(*ts));
    apr_size_t len = value ? strlen(value) : 0;
    char *end;
    long pct;

    if (len > 0 && value[len - 1] == '%') {
        pct = strtol(value, &end, 10);
        if (!isdigit((unsigned char)value[0]) || end != value + len - 1) {
            if (perr) *perr = apr_psprintf(p, "'%s' has unrecognized format: " TS_FORMAT, value);
            return APR_EINVAL;
        }
        if (pct > 100) {
            if (perr) *perr = apr_psprintf(p, "'%s' is not a percentage from 0%% to 100%%", value);
            return APR_EINVAL;
        }
        ts->percent = (int)pct;
    }
    else {
        ts->percent = -1;
        if (md_duration_parse(&ts->len, value, def_unit) != APR_SUCCESS) {
            if (perr) *perr = apr_psprintf(p, "'%s' has unrecognized format: " TS_FORMAT, value ? value : "");
            return APR_EINVAL;
        }
    }
    *pts = ts;
    return APR_SUCCESS;
}

apr_status_t md_timeslice_parse_window(md_timeslice_t **pts, const char *value, const char *def_unit,
                                       const char **perr, apr_pool_t *p)
{
    apr_size_t len = value ? strlen(value) : 0;
    apr_interval_time_t d;
    char *end;
    long pct;

    if (len > 1 && value[len - 1] == '%') {
        pct = strtol(value, &end, 10);
        if (end == value + len - 1 && (value[0] == '-' || pct >= 100)) {
            if (perr) *perr = pct < 0 ? apr_psprintf(p, "'%s': percent must be less than 100 and not negative", value)
                                      : apr_psprintf(p, "'%s': a length of 100%% or more is not allowed, use less "
                                                        "than 100%%", value);
            return APR_EINVAL;
        }
        if (end != value + len - 1) {
            if (perr) *perr = apr_psprintf(p, "'%s' has unrecognized format: " TS_FORMAT, value);
            return APR_EINVAL;
        }
    }
    else if (md_duration_parse_signed(&d, value, def_unit) == APR_SUCCESS && d < 0) {
        if (perr) *perr = apr_psprintf(p, "'%s': a negative length is not allowed", value);
        return APR_EINVAL;
    }
    return md_timeslice_parse(pts, value, def_unit, perr, p);
}

const char *md_timeslice_print(const md_timeslice_t *ts, apr_pool_t *p)
{
    if (ts->percent >= 0) return apr_psprintf(p, "%d%%", ts->percent);
    return md_duration_print(ts->len, p);
}

apr_interval_time_t md_timeslice_length(const md_timeslice_t *ts, apr_time_t start, apr_time_t end)
{
    apr_interval_time_t lifetime = end - start;

    if (ts->percent < 0) return ts->len;
    if (lifetime <= 0) return 0;
    return (apr_interval_time_t)((double)lifetime * ts->percent / 100.0);
}

int md_timeslice_covers(const md_timeslice_t *ts, apr_time_t start, apr_time_t end, apr_time_t now)
{
    return end - md_timeslice_length(ts, start, end) <= now;
}
