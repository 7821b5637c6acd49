/* Date formats: RFC 3339 timestamps (ACME) and HTTP dates (Retry-After, job files). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "md_time.h"

static const char *const month_names[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Read exactly n digits at *ps into *pv. */
static int digits(int *pv, const char **ps, int n)
{
    int v = 0, i;

    for (i = 0; i < n; ++i) {
        if (!isdigit((unsigned char)(*ps)[i])) return 0;
        v = v * 10 + ((*ps)[i] - '0');
    }
    *ps += n;
    *pv = v;
    return 1;
}

/* Build the time from broken-down UTC fields, checking their ranges. */
static apr_status_t make_time(apr_time_t *pt, int year, int mon, int mday, int hour, int min, int sec)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    apr_time_exp_t tm;

    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || mday < 1 || mday > mdays[mon - 1]
        || (mon == 2 && mday == 29 && !leap) || hour > 23 || min > 59 || sec > 60) {
        return APR_EINVAL;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec > 59 ? 59 : sec;   /* a leap second becomes :59 */
    return apr_time_exp_gmt_get(pt, &tm);
}

/* The "Z" or "+hh:mm"/"-hh:mm" part of RFC 3339, as seconds east of UTC. */
static apr_status_t rfc3339_offset(int *poffset, const char *s)
{
    int sign, hh, mm;

    if ((s[0] == 'Z' || s[0] == 'z') && !s[1]) {
        *poffset = 0;
        return APR_SUCCESS;
    }
    if (s[0] != '+' && s[0] != '-') return APR_EINVAL;
    sign = (s[0] == '-') ? -1 : 1;
    ++s;
    if (!digits(&hh, &s, 2) || *s++ != ':' || !digits(&mm, &s, 2) || *s || hh > 23 || mm > 59) {
        return APR_EINVAL;
    }
    *poffset = sign * (hh * 3600 + mm * 60);
    return APR_SUCCESS;
}

apr_status_t md_time_parse_rfc3339(apr_time_t *pt, const char *s)
{
    int year, mon, mday, hour, min, sec, offset, ndigits = 0;
    apr_int64_t usec = 0;
    apr_time_t t;
    apr_status_t rv;

    if (!s || !digits(&year, &s, 4) || *s++ != '-' || !digits(&mon, &s, 2) || *s++ != '-'
        || !digits(&mday, &s, 2) || (*s != 'T' && *s != 't' && *s != ' ')) {
        return APR_EINVAL;
    }
    ++s;
    if (!digits(&hour, &s, 2) || *s++ != ':' || !digits(&min, &s, 2) || *s++ != ':'
        || !digits(&sec, &s, 2)) {
        return APR_EINVAL;
    }
    if (*s == '.') {
        for (++s; isdigit((unsigned char)*s); ++s, ++ndigits) {
            if (ndigits < 6) usec = usec * 10 + (*s - '0');
        }
        if (ndigits == 0) return APR_EINVAL;
        for (; ndigits < 6; ++ndigits) usec *= 10;
    }
    rv = rfc3339_offset(&offset, s);
    if (rv == APR_SUCCESS) rv = make_time(&t, year, mon, mday, hour, min, sec);
    if (rv != APR_SUCCESS) return rv;
    *pt = t + usec - apr_time_from_sec(offset);
    return APR_SUCCESS;
}

const char *md_time_print_rfc3339(apr_time_t t, apr_pool_t *p)
{
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int month_parse(const char **ps)
{
    int i;

    for (i = 0; i < 12; ++i) {
        if (!strncmp(*ps, month_names[i], 3)) {
            *ps += 3;
            return i + 1;
        }
    }
    return 0;
}

/* "hh:mm:ss" */
static int clock_parse(int *ph, int *pm, int *psec, const char **ps)
{
    return digits(ph, ps, 2) && *(*ps)++ == ':' && digits(pm, ps, 2) && *(*ps)++ == ':'
           && digits(psec, ps, 2);
}

apr_status_t md_time_parse_http(apr_time_t *pt, const char *s)
{
    int year, mon, mday, hour, min, sec;
    const char *comma = s ? strchr(s, ',') : NULL;

    if (!s) return APR_EINVAL;
    if (comma && comma - s == 3) {               /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        s = comma + 1;
        if (*s++ != ' ' || !digits(&mday, &s, 2) || *s++ != ' ' || !(mon = month_parse(&s))
            || *s++ != ' ' || !digits(&year, &s, 4) || *s++ != ' ' || !clock_parse(&hour, &min, &sec, &s)
            || strcmp(s, " GMT")) {
            return APR_EINVAL;
        }
    }
    else if (comma) {                             /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        s = comma + 1;
        if (*s++ != ' ' || !digits(&mday, &s, 2) || *s++ != '-' || !(mon = month_parse(&s))
            || *s++ != '-' || !digits(&year, &s, 2) || *s++ != ' ' || !clock_parse(&hour, &min, &sec, &s)
            || strcmp(s, " GMT")) {
            return APR_EINVAL;
        }
        year += (year < 70) ? 2000 : 1900;
    }
    else {                                        /* asctime: Sun Nov  6 08:49:37 1994 */
        if (strlen(s) < 4 || s[3] != ' ') return APR_EINVAL;
        s += 4;
        if (!(mon = month_parse(&s)) || *s++ != ' ') return APR_EINVAL;
        if (*s == ' ') ++s;
        if (!isdigit((unsigned char)*s)) return APR_EINVAL;
        mday = *s++ - '0';
        if (isdigit((unsigned char)*s)) mday = mday * 10 + (*s++ - '0');
        if (*s++ != ' ' || !clock_parse(&hour, &min, &sec, &s) || *s++ != ' '
            || !digits(&year, &s, 4) || *s) {
            return APR_EINVAL;
        }
    }
    return make_time(pt, year, mon, mday, hour, min, sec);
}

const char *md_time_print_http(apr_time_t t, apr_pool_t *p)
{
    char *buf = apr_palloc(p, APR_RFC822_DATE_LEN);

    apr_rfc822_date(buf, t);
    return buf;
}
