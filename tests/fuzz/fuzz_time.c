/* Fuzz target: durations and time slices (mod_md's syntax), RFC 3339 and HTTP dates: parse, print, parse again. */
#include <string.h>
#include <apr_strings.h>

#include "md_time.h"
#include "fuzz.h"

/* Years 0 and 9999 (apr_time_t counts microseconds from 1970). */
#define T_MIN (-APR_INT64_C(62167219200) * APR_USEC_PER_SEC)
#define T_MAX (APR_INT64_C(253402300799) * APR_USEC_PER_SEC)

static const char *const def_units[] = { "d", "h", "mi", "s", "ms", "us", "x", "" };

/* An apr_time_t from 8 input bytes, within [lo, hi]. */
static apr_time_t time_from(fz_input_t *in, apr_time_t lo, apr_time_t hi)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 0; i < 8; ++i) v = (v << 8) | fz_byte(in);
    return lo + (apr_time_t)(v % (apr_uint64_t)(hi - lo + 1));
}

static void durations(const char *text, const char *def_unit, apr_pool_t *p)
{
    apr_interval_time_t d = -1, back = -1;
    const char *printed;

    if (md_duration_parse(&d, text, def_unit) != APR_SUCCESS) return;
    FZ_CHECK(d >= 0);
    printed = md_duration_print(d, p);
    FZ_CHECK(md_duration_parse(&back, printed, "s") == APR_SUCCESS);
    FZ_CHECK(back == d);
}

static void slices(const char *text, const char *def_unit, apr_time_t start, apr_time_t end, apr_time_t now,
                   apr_pool_t *p)
{
    md_timeslice_t *ts = NULL, *back = NULL;
    const char *err = NULL;
    apr_interval_time_t len;

    if (md_timeslice_parse(&ts, text, def_unit, &err, p) != APR_SUCCESS) {
        FZ_CHECK(err != NULL);
        return;
    }
    FZ_CHECK(ts->percent >= -1 && ts->percent <= 100);
    FZ_CHECK(md_timeslice_parse(&back, md_timeslice_print(ts, p), "d", &err, p) == APR_SUCCESS);
    FZ_CHECK(back->percent == ts->percent && (ts->percent >= 0 || back->len == ts->len));
    len = md_timeslice_length(ts, start, end);
    FZ_CHECK(len >= 0);
    (void)md_timeslice_covers(ts, start, end, now);
}

/* Whole seconds of t (rounded down). */
static apr_time_t whole_sec(apr_time_t t)
{
    apr_time_t r = t % APR_USEC_PER_SEC;

    return t - (r < 0 ? r + APR_USEC_PER_SEC : r);
}

static void dates(const char *text, apr_time_t any, apr_pool_t *p)
{
    apr_time_t t = 0, back = 0;

    if (md_time_parse_rfc3339(&t, text) == APR_SUCCESS) {
        /* a date in the form we print is printed as it was read (but for a leap second): no date is moved */
        if (strlen(text) == 20 && text[10] == 'T' && text[19] == 'Z' && strncmp(text + 17, "60", 2)) {
            FZ_CHECK(!strcmp(md_time_print_rfc3339(t, p), text));
        }
        /* what we print (UTC, whole seconds) reads back, for the times we can print */
        if (t >= 0 && t <= T_MAX) {
            FZ_CHECK(md_time_parse_rfc3339(&back, md_time_print_rfc3339(t, p)) == APR_SUCCESS);
            FZ_CHECK(back == whole_sec(t));
        }
    }
    if (md_time_parse_http(&t, text) == APR_SUCCESS) {
        FZ_CHECK(t >= 0 && t <= T_MAX && t % APR_USEC_PER_SEC == 0);
        /* an IMF-fixdate is printed as it was read (the weekday is not checked; nor a leap second) */
        if (strlen(text) == 29 && text[3] == ',' && strncmp(text + 23, "60", 2)) {
            FZ_CHECK(!strcmp(md_time_print_http(t, p) + 3, text + 3));
        }
        FZ_CHECK(md_time_parse_http(&back, md_time_print_http(t, p)) == APR_SUCCESS && back == t);
        FZ_CHECK(md_time_parse_rfc3339(&back, md_time_print_rfc3339(t, p)) == APR_SUCCESS && back == t);
    }
    /* any time at all prints without harm */
    (void)md_time_print_rfc3339(any, p);
    (void)md_time_print_http(any, p);
    (void)md_duration_print(any, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    const char *def_unit = def_units[fz_byte(&in) % (sizeof(def_units) / sizeof(def_units[0]))];
    /* a lifetime and a now as certificates and clocks give them: 1970 to 9999 (md_cert_get_not_after() reads
     * earlier times as 0); any time at all for printing */
    apr_time_t start = time_from(&in, 0, T_MAX), end = time_from(&in, 0, T_MAX), now = time_from(&in, 0, T_MAX);
    apr_time_t any = time_from(&in, T_MIN, T_MAX);
    const char *text = fz_strn(in.data, in.len, p);

    durations(text, def_unit, p);
    slices(text, def_unit, start, end, now, p);
    dates(text, any, p);
    apr_pool_destroy(p);
    return 0;
}
