/* Unit tests for durations, time slices, RFC 3339 and HTTP dates. */
#include <apr_strings.h>

#include "md_clock.h"
#include "md_time.h"
#include "test_common.h"

#define SEC(n) apr_time_from_sec(n)

START_TEST(duration_parse_units)
{
    apr_interval_time_t d;

    ck_assert_int_eq(md_duration_parse(&d, "30s", "d"), APR_SUCCESS);
    ck_assert_int_eq(d, SEC(30));
    ck_assert_int_eq(md_duration_parse(&d, "12h", "d"), APR_SUCCESS);
    ck_assert_int_eq(d, SEC(12 * 3600));
    ck_assert_int_eq(md_duration_parse(&d, "21d", "s"), APR_SUCCESS);
    ck_assert_int_eq(d, SEC(21 * 86400));
    ck_assert_int_eq(md_duration_parse(&d, "10mi", "d"), APR_SUCCESS);
    ck_assert_int_eq(d, SEC(600));
    ck_assert_int_eq(md_duration_parse(&d, "250ms", "d"), APR_SUCCESS);
    ck_assert_int_eq(d, 250000);
    ck_assert_int_eq(md_duration_parse(&d, "7", "d"), APR_SUCCESS);     /* default unit */
    ck_assert_int_eq(d, SEC(7 * 86400));
    ck_assert_int_eq(md_duration_parse(&d, "7", "s"), APR_SUCCESS);
    ck_assert_int_eq(d, SEC(7));
    ck_assert_int_eq(md_duration_parse(&d, "1d 12h", "s"), APR_SUCCESS);
    ck_assert_int_eq(d, SEC(36 * 3600));
    ck_assert_int_eq(md_duration_parse(&d, "2H", "s"), APR_SUCCESS);    /* units in any case */
    ck_assert_int_eq(d, SEC(7200));
}
END_TEST

/* What mod_md reads as well: unit words, terms without a space between them, a '+'. */
START_TEST(duration_parse_mod_md_forms)
{
    static const struct { const char *text; apr_interval_time_t d; } cases[] = {
        { "10sec", SEC(10) }, { "1hour", SEC(3600) }, { "2days", SEC(2 * 86400) }, { "5Minutes", SEC(300) },
        { "1min", SEC(60) }, { "3seconds", SEC(3) }, { "250msec", 250000 }, { "1d12h", SEC(36 * 3600) },
        { "5mi30s", SEC(330) }, { "+1h", SEC(3600) }, { " 1h ", SEC(3600) }, { "1Day 2Hours", SEC(26 * 3600) },
    };
    apr_interval_time_t d;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        ck_assert_msg(md_duration_parse(&d, cases[i].text, "d") == APR_SUCCESS, "refused '%s'", cases[i].text);
        ck_assert_msg(d == cases[i].d, "'%s' is %" APR_INT64_T_FMT, cases[i].text, (apr_int64_t)d);
    }
    ck_assert_int_eq(md_duration_parse_signed(&d, "-1h", "s"), APR_SUCCESS);
    ck_assert_int_eq(d, -SEC(3600));
    ck_assert_int_eq(md_duration_parse_signed(&d, "-5", "s"), APR_SUCCESS);
    ck_assert_int_eq(d, -SEC(5));
    ck_assert_int_eq(md_duration_parse_signed(&d, "--1h", "s"), APR_EINVAL);
    ck_assert_int_eq(md_duration_parse_signed(&d, "1h-5mi", "s"), APR_EINVAL);
    ck_assert_int_eq(md_duration_parse(&d, "-1h", "s"), APR_EINVAL);
}
END_TEST

START_TEST(duration_parse_rejects)
{
    static const char *bad[] = { "", " ", "s", "-5s", "1.5h", "10x", "10 s", "3dd", "5m",
                                 "99999999999999999999s", "1d,2h", "1dx", "1hx2", "1w", "+", "1d-12h" };
    apr_interval_time_t d;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ck_assert_msg(md_duration_parse(&d, bad[i], "d") == APR_EINVAL, "accepted '%s'", bad[i]);
    }
}
END_TEST

START_TEST(duration_print_round_trip)
{
    static const struct { apr_interval_time_t d; const char *text; } cases[] = {
        { 0, "0s" }, { SEC(30), "30s" }, { SEC(12 * 3600), "12h" }, { SEC(21 * 86400), "21d" },
        { SEC(36 * 3600), "1d 12h" }, { SEC(5400), "1h 30mi" }, { 250000, "250ms" }, { 1500, "1ms 500us" },
        { SEC(86400 + 1), "1d 1s" },
    };
    apr_pool_t *p = md_test_pool();
    apr_interval_time_t d;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        ck_assert_str_eq(md_duration_print(cases[i].d, p), cases[i].text);
        ck_assert_int_eq(md_duration_parse(&d, cases[i].text, "s"), APR_SUCCESS);
        ck_assert_int_eq(d, cases[i].d);
    }
    md_test_pool_done(p);
}
END_TEST

START_TEST(timeslice_percent_and_absolute)
{
    apr_pool_t *p = md_test_pool();
    md_timeslice_t *ts;
    const char *err = NULL;
    apr_time_t start = SEC(1000000), end = start + SEC(90 * 86400);

    ck_assert_int_eq(md_timeslice_parse(&ts, "33%", "d", &err, p), APR_SUCCESS);
    ck_assert_int_eq(ts->percent, 33);
    ck_assert_str_eq(md_timeslice_print(ts, p), "33%");
    ck_assert_int_eq(md_timeslice_length(ts, start, end), SEC(90 * 86400) * 33 / 100);
    ck_assert(!md_timeslice_covers(ts, start, end, end - SEC(31 * 86400)));
    ck_assert(md_timeslice_covers(ts, start, end, end - SEC(29 * 86400)));

    ck_assert_int_eq(md_timeslice_parse(&ts, "21d", "d", &err, p), APR_SUCCESS);
    ck_assert_int_eq(ts->percent, -1);
    ck_assert_str_eq(md_timeslice_print(ts, p), "21d");
    ck_assert_int_eq(md_timeslice_length(ts, start, end), SEC(21 * 86400));
    ck_assert(md_timeslice_covers(ts, start, end, end - SEC(20 * 86400)));
    ck_assert(!md_timeslice_covers(ts, start, end, end - SEC(22 * 86400)));

    ck_assert_int_eq(md_timeslice_parse(&ts, "30", "d", &err, p), APR_SUCCESS);
    ck_assert_int_eq(ts->len, SEC(30 * 86400));
    md_test_pool_done(p);
}
END_TEST

START_TEST(timeslice_rejects_with_message)
{
    static const char *bad[] = { "101%", "-1%", "%", "x%", "3.5%", "abc", "" };
    apr_pool_t *p = md_test_pool();
    md_timeslice_t *ts;
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        err = NULL;
        ck_assert_msg(md_timeslice_parse(&ts, bad[i], "d", &err, p) == APR_EINVAL, "accepted '%s'", bad[i]);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, bad[i]) != NULL, "message '%s' does not name the value", err);
    }
    md_test_pool_done(p);
}
END_TEST

/* Windows as the directives take them: mod_md's words in the messages, below 100%, never negative. */
START_TEST(timeslice_window_rules)
{
    static const struct { const char *text; const char *phrase; } bad[] = {
        { "100%", "a length of 100% or more is not allowed" }, { "120%", "a length of 100% or more is not allowed" },
        { "-5%", "percent must be less than 100" }, { "33.5%", "has unrecognized format" },
        { "3x", "has unrecognized format" }, { "-5d", "a negative length is not allowed" },
        { "x%", "has unrecognized format" },
    };
    apr_pool_t *p = md_test_pool();
    md_timeslice_t *ts;
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        err = NULL;
        ck_assert_msg(md_timeslice_parse_window(&ts, bad[i].text, "d", &err, p) == APR_EINVAL, "took %s", bad[i].text);
        ck_assert_msg(err && strstr(err, bad[i].phrase) && strstr(err, bad[i].text), "'%s': %s", bad[i].text, err);
    }
    ck_assert_int_eq(md_timeslice_parse_window(&ts, "99%", "d", &err, p), APR_SUCCESS);
    ck_assert_int_eq(ts->percent, 99);
    ck_assert_int_eq(md_timeslice_parse_window(&ts, "1d12h", "d", &err, p), APR_SUCCESS);
    ck_assert_int_eq(ts->len, SEC(36 * 3600));
    ck_assert_int_eq(md_timeslice_parse_window(&ts, "0", "d", &err, p), APR_SUCCESS);
    md_test_pool_done(p);
}
END_TEST

START_TEST(rfc3339_parse_print)
{
    apr_pool_t *p = md_test_pool();
    apr_time_t t;

    ck_assert_int_eq(md_time_parse_rfc3339(&t, "1970-01-01T00:00:00Z"), APR_SUCCESS);
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(md_time_parse_rfc3339(&t, "2026-11-23T10:09:18Z"), APR_SUCCESS);
    ck_assert_int_eq(t, SEC(1795428558));
    ck_assert_str_eq(md_time_print_rfc3339(t, p), "2026-11-23T10:09:18Z");
    ck_assert_int_eq(md_time_parse_rfc3339(&t, "2026-11-23T12:09:18.250+02:00"), APR_SUCCESS);
    ck_assert_int_eq(t, SEC(1795428558) + 250000);
    ck_assert_int_eq(md_time_parse_rfc3339(&t, "2026-11-23t10:09:18.123456789z"), APR_SUCCESS);
    ck_assert_int_eq(t, SEC(1795428558) + 123456);
    ck_assert_int_eq(md_time_parse_rfc3339(&t, "2026-11-23T04:39:18-05:30"), APR_SUCCESS);
    ck_assert_int_eq(t, SEC(1795428558));
    ck_assert_int_eq(md_time_parse_rfc3339(&t, "2024-02-29T00:00:00Z"), APR_SUCCESS);
    md_test_pool_done(p);
}
END_TEST

START_TEST(rfc3339_rejects)
{
    static const char *bad[] = { "", "2026-11-23", "2026-11-23T10:09:18", "2026-13-01T00:00:00Z",
                                 "2026-11-31T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T10:09:18.Z",
                                 "2026-11-23T10:09:18+0200", "2026-11-23T10:09:18Z trailing", "26-11-23T10:09:18Z",
                                 /* found while writing the time fuzz target: February 29th of a common year was
                                  * taken as March 1st */
                                 "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z" };
    apr_time_t t;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ck_assert_msg(md_time_parse_rfc3339(&t, bad[i]) == APR_EINVAL, "accepted '%s'", bad[i]);
    }
}
END_TEST

START_TEST(http_date_forms)
{
    apr_pool_t *p = md_test_pool();
    apr_time_t t;

    ck_assert_int_eq(md_time_parse_http(&t, "Sun, 06 Nov 1994 08:49:37 GMT"), APR_SUCCESS);
    ck_assert_int_eq(t, SEC(784111777));
    ck_assert_str_eq(md_time_print_http(t, p), "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_int_eq(md_time_parse_http(&t, "Sunday, 06-Nov-94 08:49:37 GMT"), APR_SUCCESS);
    ck_assert_int_eq(t, SEC(784111777));
    ck_assert_int_eq(md_time_parse_http(&t, "Sun Nov  6 08:49:37 1994"), APR_SUCCESS);
    ck_assert_int_eq(t, SEC(784111777));
    ck_assert_int_eq(md_time_parse_http(&t, "Mon, 23 Nov 2026 10:09:18 GMT"), APR_SUCCESS);
    ck_assert_int_eq(t, SEC(1795428558));
    ck_assert_int_eq(md_time_parse_http(&t, "Mon, 23 Nov 2026 10:09:18 UTC"), APR_EINVAL);
    ck_assert_int_eq(md_time_parse_http(&t, "Mon, 23 Foo 2026 10:09:18 GMT"), APR_EINVAL);
    ck_assert_int_eq(md_time_parse_http(&t, "Wed, 29 Feb 2023 10:09:18 GMT"), APR_EINVAL);
    ck_assert_int_eq(md_time_parse_http(&t, "Tue, 29 Feb 2000 10:09:18 GMT"), APR_SUCCESS);
    ck_assert_int_eq(md_time_parse_http(&t, "120"), APR_EINVAL);
    ck_assert_int_eq(md_time_parse_http(&t, ""), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

/* The simulated clock's jitter repeats from its seed (the simulated year repeats its retry times); unseeded, and the
 * real clock's, come from OpenSSL; all in [0, 1]. */
START_TEST(sim_clock_jitter_repeats)
{
    apr_pool_t *p = md_test_pool();
    md_clock_sim_t *sim = md_clock_sim_make(SEC(1000), p);
    double first[5], x;
    int i, differ = 0;

    for (i = 0; i < 5; ++i) {
        x = md_clock_jitter(md_clock_sim_clock(sim));
        ck_assert(x >= 0.0 && x <= 1.0);
        x = md_clock_jitter(NULL);
        ck_assert(x >= 0.0 && x <= 1.0);
    }
    md_clock_sim_seed(sim, 42);
    for (i = 0; i < 5; ++i) {
        first[i] = md_clock_jitter(md_clock_sim_clock(sim));
        ck_assert(first[i] >= 0.0 && first[i] <= 1.0);
        if (i > 0 && first[i] != first[i - 1]) differ = 1;
    }
    ck_assert(differ);
    md_clock_sim_seed(sim, 42);
    for (i = 0; i < 5; ++i) ck_assert(md_clock_jitter(md_clock_sim_clock(sim)) == first[i]);
    md_clock_sim_seed(sim, 43);
    ck_assert(md_clock_jitter(md_clock_sim_clock(sim)) != first[0]);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("time");

    tcase_add_test(tc, duration_parse_units);
    tcase_add_test(tc, duration_parse_rejects);
    tcase_add_test(tc, duration_print_round_trip);
    tcase_add_test(tc, timeslice_percent_and_absolute);
    tcase_add_test(tc, timeslice_rejects_with_message);
    tcase_add_test(tc, timeslice_window_rules);
    tcase_add_test(tc, duration_parse_mod_md_forms);
    tcase_add_test(tc, rfc3339_parse_print);
    tcase_add_test(tc, rfc3339_rejects);
    tcase_add_test(tc, http_date_forms);
    tcase_add_test(tc, sim_clock_jitter_repeats);
    suite_add_tcase(s, tc);
    return s;
}
