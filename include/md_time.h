/* Time: durations in mod_md's syntax ("30s", "12h", "21d", "33%"), RFC 3339 and HTTP dates. */
#ifndef MD_TIME_H
#define MD_TIME_H

#include <apr_pools.h>
#include <apr_time.h>

/* Parse a duration: a non-negative whole number with an optional unit: d, h, mi, s, ms (and us), or the words mod_md
 * reads as these: day(s), hour(s), min(s), minute(s), sec(s), second(s), msec(s), millisecond(s), in any case.
 * Without a unit, def_unit applies ("d", "h", "mi", "s" or "ms"). A leading '+' is allowed. Several terms are
 * added up, one after the other ("1d12h") or separated by spaces ("1d 12h"). */
apr_status_t md_duration_parse(apr_interval_time_t *pduration, const char *value, const char *def_unit);
/* The same with an optional leading '-': "-1h" is minus one hour. */
apr_status_t md_duration_parse_signed(apr_interval_time_t *pduration, const char *value, const char *def_unit);
/* Print a duration as its nonzero parts, largest first: "21d", "1d 12h", "1h 30mi", "30s", "250ms", "0s".
 * md_duration_parse reads the result back. */
const char *md_duration_print(apr_interval_time_t duration, apr_pool_t *p);

/* A time slice: an absolute length, or a share of a lifetime in percent (0..100). */
typedef struct md_timeslice_t {
    apr_interval_time_t len;  /* absolute length when percent < 0 */
    int percent;              /* 0..100, or -1 for an absolute length */
} md_timeslice_t;

/* Parse "33%" or a duration. On failure *perr (if given) says why, in the pool. */
apr_status_t md_timeslice_parse(md_timeslice_t **pts, const char *value, const char *def_unit,
                                const char **perr, apr_pool_t *p);
/* A window as the directives take it (MDRenewWindow, MDWarnWindow, MDStaplingRenewWindow): as md_timeslice_parse,
 * but below 100% and not negative; the messages carry mod_md's words ("has unrecognized format", "a length of 100%
 * or more is not allowed", "percent must be less than 100"). */
apr_status_t md_timeslice_parse_window(md_timeslice_t **pts, const char *value, const char *def_unit,
                                       const char **perr, apr_pool_t *p);
const char *md_timeslice_print(const md_timeslice_t *ts, apr_pool_t *p);
/* The slice's length for a lifetime [start, end]: the absolute length or the share of (end - start). */
apr_interval_time_t md_timeslice_length(const md_timeslice_t *ts, apr_time_t start, apr_time_t end);
/* True when now lies within the slice before end (end - length <= now). */
int md_timeslice_covers(const md_timeslice_t *ts, apr_time_t start, apr_time_t end, apr_time_t now);

/* RFC 3339 ("2026-11-23T10:00:00Z", fractions and offsets accepted). Printed in UTC, no fraction. */
apr_status_t md_time_parse_rfc3339(apr_time_t *pt, const char *s);
const char *md_time_print_rfc3339(apr_time_t t, apr_pool_t *p);
/* HTTP dates (RFC 9110 IMF-fixdate; RFC 850 and asctime forms accepted): "Mon, 23 Nov 2026 10:09:18 GMT". */
apr_status_t md_time_parse_http(apr_time_t *pt, const char *s);
const char *md_time_print_http(apr_time_t t, apr_pool_t *p);

#endif
