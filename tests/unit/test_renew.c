/* Unit tests for renewal decisions: renew and warn windows, ARI, retry back-off with jitter, CA failover. */
#include <math.h>
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_renew.h"
#include "test_common.h"

#define SEC(n)  apr_time_from_sec(n)
#define DAY     SEC(86400)
#define T0      (apr_time_from_sec(1767225600))   /* 2026-01-01, any fixed time will do */

static md_t *make_md(apr_pool_t *p)
{
    apr_array_header_t *domains = apr_array_make(p, 1, sizeof(const char *));

    APR_ARRAY_PUSH(domains, const char *) = "a.example";
    return md_create(domains, p);
}

static void set_window(md_timeslice_t **pts, const char *spec, apr_pool_t *p)
{
    ck_assert_int_eq(md_timeslice_parse(pts, spec, "d", NULL, p), APR_SUCCESS);
}

static md_cert_validity_t *validity(apr_time_t not_before, apr_time_t not_after, apr_pool_t *p)
{
    md_cert_validity_t *v = apr_pcalloc(p, sizeof(*v));

    v->not_before = not_before;
    v->not_after = not_after;
    return v;
}

/* An array of validities; a NULL entry is a missing certificate. */
static apr_array_header_t *certs(apr_pool_t *p, int n, md_cert_validity_t *v1, md_cert_validity_t *v2)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(md_cert_validity_t *));

    if (n > 0) APR_ARRAY_PUSH(a, md_cert_validity_t *) = v1;
    if (n > 1) APR_ARRAY_PUSH(a, md_cert_validity_t *) = v2;
    return a;
}

/* Give the MD a second key, so that it needs two certificates. */
static void add_ec_key(md_t *md, apr_pool_t *p)
{
    md_pkey_spec_t *spec = NULL;

    ck_assert_int_eq(md_pkey_spec_parse(&spec, "secp256r1", NULL, NULL, p), APR_SUCCESS);
    APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = spec;
}

START_TEST(due_90_days_33_percent)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_array_header_t *v = certs(p, 1, validity(T0, T0 + 90 * DAY, p), NULL);
    apr_time_t due = md_renew_due(md, v, 0);

    /* 33% of 90 days is 29.7 days: due 60.3 days after issue */
    ck_assert_int_eq(due, T0 + 90 * DAY - (apr_time_t)((double)(90 * DAY) * 33 / 100.0));
    ck_assert(due > T0 + 60 * DAY && due < T0 + 61 * DAY);
    ck_assert(!md_renew_is_due(md, v, 0, T0 + 60 * DAY));
    ck_assert(!md_renew_is_due(md, v, 0, due - 1));
    ck_assert(md_renew_is_due(md, v, 0, due));
    ck_assert(md_renew_is_due(md, v, 0, T0 + 61 * DAY));
    ck_assert(md_renew_is_due(md, v, 0, T0 + 100 * DAY));   /* expired */
    md->renew_window = NULL;                                  /* no window: the 33% default */
    ck_assert_int_eq(md_renew_due(md, v, 0), due);
    md_test_pool_done(p);
}
END_TEST

START_TEST(due_absolute_window)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_array_header_t *v = certs(p, 1, validity(T0, T0 + 90 * DAY, p), NULL);

    set_window(&md->renew_window, "21d", p);
    ck_assert_int_eq(md_renew_due(md, v, 0), T0 + 69 * DAY);
    ck_assert(!md_renew_is_due(md, v, 0, T0 + 69 * DAY - 1));
    ck_assert(md_renew_is_due(md, v, 0, T0 + 69 * DAY));
    /* a window longer than the lifetime: due before the certificate was even valid, so at once */
    set_window(&md->renew_window, "100d", p);
    ck_assert(md_renew_is_due(md, v, 0, T0));
    md_test_pool_done(p);
}
END_TEST

START_TEST(due_earliest_of_two)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_array_header_t *v;

    add_ec_key(md, p);
    set_window(&md->renew_window, "10d", p);
    v = certs(p, 2, validity(T0, T0 + 90 * DAY, p), validity(T0 - 20 * DAY, T0 + 70 * DAY, p));
    ck_assert_int_eq(md_renew_due(md, v, 0), T0 + 60 * DAY);
    v = certs(p, 2, validity(T0 - 20 * DAY, T0 + 70 * DAY, p), validity(T0, T0 + 90 * DAY, p));
    ck_assert_int_eq(md_renew_due(md, v, 0), T0 + 60 * DAY);
    md_test_pool_done(p);
}
END_TEST

START_TEST(due_now_when_missing)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    md_cert_validity_t *ok = validity(T0, T0 + 90 * DAY, p);

    ck_assert_int_eq(md_renew_due(md, certs(p, 0, NULL, NULL), 0), 0);
    ck_assert_int_eq(md_renew_due(md, NULL, 0), 0);
    ck_assert_int_eq(md_renew_due(md, certs(p, 1, NULL, NULL), 0), 0);
    ck_assert(md_renew_is_due(md, NULL, 0, T0));
    add_ec_key(md, p);
    /* two keys: one certificate given, the other missing (NULL or not in the array at all) */
    ck_assert_int_eq(md_renew_due(md, certs(p, 2, ok, NULL), 0), 0);
    ck_assert_int_eq(md_renew_due(md, certs(p, 2, NULL, ok), 0), 0);
    ck_assert_int_eq(md_renew_due(md, certs(p, 1, ok, NULL), 0), 0);
    ck_assert(md_renew_due(md, certs(p, 2, ok, ok), 0) > T0);
    md_test_pool_done(p);
}
END_TEST

START_TEST(due_ari)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_array_header_t *v = certs(p, 1, validity(T0, T0 + 90 * DAY, p), NULL);
    apr_time_t due = md_renew_due(md, v, 0);

    ck_assert_int_eq(md_renew_due(md, v, T0 + 10 * DAY), T0 + 10 * DAY);    /* earlier pick wins */
    ck_assert(md_renew_is_due(md, v, T0 + 10 * DAY, T0 + 10 * DAY));
    ck_assert(!md_renew_is_due(md, v, 0, T0 + 10 * DAY));
    ck_assert_int_eq(md_renew_due(md, v, T0 + 80 * DAY), due);              /* later pick is ignored */
    ck_assert_int_eq(md_renew_due(md, v, due), due);
    md->ari_renewals = 0;                                                   /* MDRenewViaARI off */
    ck_assert_int_eq(md_renew_due(md, v, T0 + 10 * DAY), due);
    ck_assert(!md_renew_is_due(md, v, T0 + 10 * DAY, T0 + 10 * DAY));
    md->ari_renewals = 1;
    ck_assert_int_eq(md_renew_due(md, certs(p, 1, NULL, NULL), T0 + 10 * DAY), 0);   /* missing: still now */
    md_test_pool_done(p);
}
END_TEST

START_TEST(warn_window)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_time_t end = T0 + 90 * DAY;
    apr_array_header_t *v = certs(p, 1, validity(T0, end, p), NULL);

    /* 10% of 90 days: 9 days before the end */
    ck_assert(!md_renew_should_warn(md, v, T0 + 80 * DAY));
    ck_assert(!md_renew_should_warn(md, v, end - 9 * DAY - 1));
    ck_assert(md_renew_should_warn(md, v, end - 9 * DAY));
    ck_assert(md_renew_should_warn(md, v, end));
    ck_assert(md_renew_should_warn(md, v, end + 5 * DAY));    /* expired */
    md->warn_window = NULL;                                   /* the 10% default */
    ck_assert(md_renew_should_warn(md, v, end - 9 * DAY));
    ck_assert(!md_renew_should_warn(md, v, end - 9 * DAY - 1));
    set_window(&md->warn_window, "2d", p);
    ck_assert(!md_renew_should_warn(md, v, end - 3 * DAY));
    ck_assert(md_renew_should_warn(md, v, end - 2 * DAY));
    /* nothing to warn about without certificates; with two, either one */
    ck_assert(!md_renew_should_warn(md, certs(p, 1, NULL, NULL), end));
    ck_assert(!md_renew_should_warn(md, NULL, end));
    v = certs(p, 2, validity(T0, end + 30 * DAY, p), validity(T0, end, p));
    ck_assert(md_renew_should_warn(md, v, end - DAY));
    ck_assert(!md_renew_should_warn(md, v, end - 3 * DAY));
    md_test_pool_done(p);
}
END_TEST

START_TEST(retry_doubling)
{
    apr_interval_time_t base = SEC(5);

    ck_assert_int_eq(md_renew_retry_delay(1, NULL, base, 0.5, 0, T0), SEC(5));
    ck_assert_int_eq(md_renew_retry_delay(2, NULL, base, 0.5, 0, T0), SEC(10));
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, base, 0.5, 0, T0), SEC(20));
    ck_assert_int_eq(md_renew_retry_delay(4, NULL, base, 0.5, 0, T0), SEC(40));
    ck_assert_int_eq(md_renew_retry_delay(10, NULL, base, 0.5, 0, T0), SEC(5 * 512));
    ck_assert_int_eq(md_renew_retry_delay(0, NULL, base, 0.5, 0, T0), 0);     /* no failure, no wait */
    ck_assert_int_eq(md_renew_retry_delay(-3, NULL, base, 0.5, 0, T0), 0);
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, 0, 0.5, 0, T0), 0);
}
END_TEST

/* The jitter is mod_md's: -50%..+50% in whole seconds, rounded towards zero (mod_md 2.6.10 measured: MDRetryDelay
 * 10s gave first retries after 6 to 14 s, then 11 to 28 s, then 22 to 58 s). */
START_TEST(retry_jitter_bounds)
{
    apr_interval_time_t base = SEC(5);

    ck_assert_int_eq(md_renew_retry_delay(1, NULL, base, 0.0, 0, T0), SEC(3));      /* 5 - 2.5: -2 s */
    ck_assert_int_eq(md_renew_retry_delay(1, NULL, base, 1.0, 0, T0), SEC(7));      /* 5 + 2.5: +2 s */
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, base, 0.0, 0, T0), SEC(10));
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, base, 1.0, 0, T0), SEC(30));
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, base, 0.25, 0, T0), SEC(15));
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, base, 0.27, 0, T0), SEC(16));    /* -4.6 s: -4 s */
    /* out of range randomness is clamped; NaN means no jitter */
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, base, -2.0, 0, T0), SEC(10));
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, base, 7.0, 0, T0), SEC(30));
    ck_assert_int_eq(md_renew_retry_delay(3, NULL, base, nan(""), 0, T0), SEC(20));
}
END_TEST

/* A delay of 1 s is never shortened (nor lengthened): half a second of jitter rounds to none. */
START_TEST(retry_one_second_kept)
{
    double r;

    for (r = 0.0; r <= 1.0; r += 0.125) {
        ck_assert_int_eq(md_renew_retry_delay(1, NULL, SEC(1), r, 0, T0), SEC(1));
    }
    ck_assert_int_eq(md_renew_retry_delay(2, NULL, SEC(1), 0.0, 0, T0), SEC(1));     /* 2 s - 1 s */
    ck_assert_int_eq(md_renew_retry_delay(2, NULL, SEC(1), 0.4, 0, T0), SEC(2));
    /* the sub-second part of a delay is kept, the jitter counts its whole seconds */
    ck_assert_int_eq(md_renew_retry_delay(1, NULL, apr_time_from_msec(1500), 0.0, 0, T0), apr_time_from_msec(1500));
}
END_TEST

/* Capped at a day before the jitter, as mod_md: a capped delay lasts 12 to 36 hours. */
START_TEST(retry_cap_one_day)
{
    apr_interval_time_t base = SEC(5);

    /* 5s * 2^14 = 22.7h: under the cap */
    ck_assert_int_eq(md_renew_retry_delay(15, NULL, base, 0.5, 0, T0), SEC(5 * 16384));
    ck_assert_int_eq(md_renew_retry_delay(15, NULL, base, 1.0, 0, T0), SEC(5 * 16384 + 5 * 8192));
    ck_assert_int_eq(md_renew_retry_delay(16, NULL, base, 0.5, 0, T0), DAY);
    ck_assert_int_eq(md_renew_retry_delay(16, NULL, base, 1.0, 0, T0), DAY + DAY / 2);
    ck_assert_int_eq(md_renew_retry_delay(16, NULL, base, 0.0, 0, T0), DAY / 2);
    ck_assert_int_eq(md_renew_retry_delay(1000, NULL, base, 0.5, 0, T0), DAY);          /* no overflow */
    ck_assert_int_eq(md_renew_retry_delay(64, NULL, SEC(3600), 0.5, 0, T0), DAY);
    ck_assert_int_eq(md_renew_retry_delay(1, NULL, 3 * DAY, 0.5, 0, T0), DAY);          /* a base over a day */
    ck_assert_int_eq(md_renew_retry_delay(1, NULL, 3 * DAY, 0.0, 0, T0), DAY / 2);
}
END_TEST

/* A problem of our request (mod_md 2.6.10 measured: externalAccountRequired and malformed retried after 15 to 35
 * hours at the first failure) waits a day from the first failure; others double as usual. */
START_TEST(retry_input_problem_a_day)
{
    apr_interval_time_t base = SEC(5);

    ck_assert(md_renew_problem_is_input("urn:ietf:params:acme:error:malformed"));
    ck_assert(md_renew_problem_is_input("urn:ietf:params:acme:error:externalAccountRequired"));
    ck_assert(md_renew_problem_is_input("urn:ietf:params:acme:error:rejectedIdentifier"));
    ck_assert(!md_renew_problem_is_input("urn:ietf:params:acme:error:unauthorized"));
    ck_assert(!md_renew_problem_is_input("urn:ietf:params:acme:error:rateLimited"));
    ck_assert(!md_renew_problem_is_input("challenge-mismatch"));
    ck_assert(!md_renew_problem_is_input("apache:eab-hmac-invalid"));
    ck_assert(!md_renew_problem_is_input("malformed"));
    ck_assert(!md_renew_problem_is_input(NULL));
    ck_assert_int_eq(md_renew_retry_delay(1, "urn:ietf:params:acme:error:malformed", base, 0.5, 0, T0), DAY);
    ck_assert_int_eq(md_renew_retry_delay(1, "urn:ietf:params:acme:error:malformed", base, 0.0, 0, T0), DAY / 2);
    ck_assert_int_eq(md_renew_retry_delay(1, "urn:ietf:params:acme:error:unauthorized", base, 0.5, 0, T0), SEC(5));
    ck_assert_int_eq(md_renew_retry_delay(0, "urn:ietf:params:acme:error:malformed", base, 0.5, 0, T0), 0);
}
END_TEST

START_TEST(retry_after_wins_when_later)
{
    apr_interval_time_t base = SEC(5);

    ck_assert_int_eq(md_renew_retry_delay(1, NULL, base, 0.5, T0 + SEC(120), T0), SEC(120));   /* later: wins */
    ck_assert_int_eq(md_renew_retry_delay(5, NULL, base, 0.5, T0 + SEC(30), T0), SEC(80));     /* earlier: ours */
    ck_assert_int_eq(md_renew_retry_delay(1, NULL, base, 0.5, T0 - SEC(60), T0), SEC(5));      /* past: ignored */
    ck_assert_int_eq(md_renew_retry_delay(1, NULL, base, 0.5, T0, T0), SEC(5));
    ck_assert_int_eq(md_renew_retry_delay(20, NULL, base, 0.5, T0 + 3 * DAY, T0), 3 * DAY);    /* beyond the cap */
    ck_assert_int_eq(md_renew_retry_delay(0, NULL, base, 0.5, T0 + SEC(60), T0), SEC(60));
}
END_TEST

/* The deadline is the earliest notAfter; the warn window of the first certificate to reach it starts it. */
START_TEST(deadline_and_warn_at)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);

    add_ec_key(md, p);
    /* 90 days (warn window 9 days) and 6 days from a day later (0.6 days) */
    ck_assert_int_eq(md_renew_deadline(md, certs(p, 2, validity(T0, T0 + 90 * DAY, p),
                                                 validity(T0 + DAY, T0 + 7 * DAY, p))), T0 + 7 * DAY);
    ck_assert_int_eq(md_renew_warn_at(md, certs(p, 2, validity(T0, T0 + 90 * DAY, p),
                                                validity(T0 + DAY, T0 + 7 * DAY, p))), T0 + 7 * DAY - DAY * 6 / 10);
    ck_assert_int_eq(md_renew_warn_at(md, certs(p, 2, validity(T0, T0 + 10 * DAY, p),
                                                validity(T0, T0 + 11 * DAY, p))), T0 + 9 * DAY);
    /* a missing one: nothing to expire */
    ck_assert_int_eq(md_renew_deadline(md, certs(p, 2, validity(T0, T0 + 90 * DAY, p), NULL)), 0);
    ck_assert_int_eq(md_renew_warn_at(md, certs(p, 1, validity(T0, T0 + 90 * DAY, p), NULL)), 0);
    set_window(&md->warn_window, "2d", p);
    ck_assert_int_eq(md_renew_warn_at(md, certs(p, 2, validity(T0, T0 + 90 * DAY, p),
                                                validity(T0 + DAY, T0 + 7 * DAY, p))), T0 + 5 * DAY);
    md_test_pool_done(p);
}
END_TEST

/* Nothing postpones a retry past the start of the warn window (6 days: at 5.4 days) while that is ahead; after it the
 * retry time stands. */
START_TEST(retry_capped_at_warn_window)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_array_header_t *v = certs(p, 1, validity(T0, T0 + 6 * DAY, p), NULL);
    apr_time_t warn_at = T0 + 6 * DAY - DAY * 6 / 10;
    int capped = -1;

    ck_assert_int_eq(md_renew_retry_cap(md, v, T0 + 11 * DAY, T0 + 4 * DAY, &capped), warn_at);
    ck_assert_int_eq(capped, 1);
    ck_assert_int_eq(md_renew_retry_cap(md, v, T0 + 5 * DAY, T0 + 4 * DAY, &capped), T0 + 5 * DAY);
    ck_assert_int_eq(capped, 0);
    ck_assert_int_eq(md_renew_retry_cap(md, v, warn_at, T0 + 4 * DAY, &capped), warn_at);
    ck_assert_int_eq(capped, 0);
    ck_assert_int_eq(md_renew_retry_cap(md, v, T0 + 12 * DAY, warn_at, &capped), T0 + 12 * DAY);
    ck_assert_int_eq(capped, 0);
    ck_assert_int_eq(md_renew_retry_cap(md, v, T0 + 12 * DAY, T0 + 5 * DAY, NULL), warn_at);
    ck_assert_int_eq(md_renew_retry_cap(md, certs(p, 1, NULL, NULL), T0 + 12 * DAY, T0, &capped), T0 + 12 * DAY);
    ck_assert_int_eq(capped, 0);
    md_test_pool_done(p);
}
END_TEST

/* The attempts left before the deadline at the back-off. */
START_TEST(attempts_left)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_array_header_t *v90 = certs(p, 1, validity(T0, T0 + 90 * DAY, p), NULL);
    apr_array_header_t *v6 = certs(p, 1, validity(T0, T0 + 6 * DAY, p), NULL);

    /* MDRetryDelay 1d: day 60, 61, ..., 89 */
    ck_assert_int_eq(md_renew_attempts_left(md, v90, 0, NULL, DAY, T0 + 60 * DAY), 30);
    ck_assert_int_eq(md_renew_attempts_left(md, v90, 7, NULL, DAY, T0 + 89 * DAY + DAY / 2), 1);
    ck_assert_int_eq(md_renew_attempts_left(md, v90, 7, NULL, DAY, T0 + 90 * DAY), 0);
    ck_assert_int_eq(md_renew_attempts_left(md, v90, 7, NULL, DAY, T0 + 91 * DAY), 0);
    ck_assert_int_eq(md_renew_attempts_left(md, certs(p, 1, NULL, NULL), 0, NULL, DAY, T0), -1);
    /* 5 s doubling: 5, 10, ... 81920 s, then a day: 16 attempts in the first 1.9 days */
    ck_assert_int_eq(md_renew_attempts_left(md, v90, 0, NULL, SEC(5), T0 + 88 * DAY), 16);
    ck_assert_int_eq(md_renew_attempts_left(md, v90, 0, NULL, SEC(5), T0 + 87 * DAY), 17);
    /* after 20 errors it is daily from the start */
    ck_assert_int_eq(md_renew_attempts_left(md, v90, 20, NULL, SEC(5), T0 + 87 * DAY), 3);
    /* a problem with the request itself: a day each time */
    ck_assert_int_eq(md_renew_attempts_left(md, v90, 0, "urn:ietf:params:acme:error:malformed", SEC(5),
                                            T0 + 80 * DAY), 10);
    /* 6 days, daily: 4.0, 5.0, then at the warn window's start (5.4) instead of 6.0 */
    ck_assert_int_eq(md_renew_attempts_left(md, v6, 20, NULL, SEC(5), T0 + 4 * DAY), 3);
    ck_assert_int_eq(md_renew_attempts_left(md, v6, 20, NULL, SEC(5), T0 + 5 * DAY + DAY / 2), 1);
    md_test_pool_done(p);
}
END_TEST

static md_t *md_with_cas(apr_pool_t *p, int n, int failover)
{
    static const char *const urls[] = { "https://a.ca/dir", "https://b.ca/dir", "https://c.ca/dir" };
    md_t *md = make_md(p);
    int i;

    for (i = 0; i < n; ++i) APR_ARRAY_PUSH(md->ca_urls, const char *) = urls[i];
    md->retry_failover = failover;
    return md;
}

START_TEST(failover_three_cas)
{
    static const char *const expect[] = {
        "https://a.ca/dir", "https://a.ca/dir", "https://b.ca/dir", "https://b.ca/dir",
        "https://c.ca/dir", "https://c.ca/dir", "https://a.ca/dir", "https://a.ca/dir", "https://b.ca/dir",
    };
    apr_pool_t *p = md_test_pool();
    md_t *md = md_with_cas(p, 3, 2);
    int i;

    for (i = 0; i < (int)(sizeof(expect) / sizeof(expect[0])); ++i) {
        ck_assert_msg(!strcmp(md_renew_ca_for(md, i), expect[i]), "errors=%d: %s", i, md_renew_ca_for(md, i));
    }
    ck_assert_str_eq(md_renew_ca_for(md, -1), "https://a.ca/dir");
    md->retry_failover = 13;   /* the default */
    ck_assert_str_eq(md_renew_ca_for(md, 12), "https://a.ca/dir");
    ck_assert_str_eq(md_renew_ca_for(md, 13), "https://b.ca/dir");
    ck_assert_str_eq(md_renew_ca_for(md, 26), "https://c.ca/dir");
    ck_assert_str_eq(md_renew_ca_for(md, 39), "https://a.ca/dir");
    md->retry_failover = 0;
    ck_assert_str_eq(md_renew_ca_for(md, 5), "https://a.ca/dir");
    md->retry_failover = 1;
    ck_assert_str_eq(md_renew_ca_for(md, 1), "https://b.ca/dir");
    md_test_pool_done(p);
}
END_TEST

START_TEST(failover_one_or_no_ca)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = md_with_cas(p, 1, 2);
    int i;

    for (i = 0; i < 10; ++i) ck_assert_str_eq(md_renew_ca_for(md, i), "https://a.ca/dir");
    ck_assert_ptr_null(md_renew_ca_for(md_with_cas(p, 0, 2), 3));
    md_test_pool_done(p);
}
END_TEST

/* No value from the CA postpones a renewal past the warn window's start, nor inside it (issue 15: a Retry-After of
 * ten years stored the next run in 2036 and the certificate expired). */
START_TEST(ca_cannot_postpone_past_warn)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_time_t end = T0 + 90 * DAY, warn_at = end - 9 * DAY, ten_years = T0 + 3650 * DAY;
    apr_array_header_t *v = certs(p, 1, validity(T0, end, p), NULL);
    int capped = -1;

    /* before the warn window: capped at its start */
    ck_assert_int_eq(md_renew_retry_next(md, v, T0 + 61 * DAY, ten_years, T0 + 60 * DAY, &capped), warn_at);
    ck_assert_int_eq(capped, 1);
    ck_assert_int_eq(md_renew_retry_next(md, v, T0 + 61 * DAY, T0 + 70 * DAY, T0 + 60 * DAY, &capped), T0 + 70 * DAY);
    ck_assert_int_eq(capped, 0);
    /* inside it: the CA's value does not count, the own back-off does */
    ck_assert_int_eq(md_renew_retry_next(md, v, warn_at + DAY, ten_years, warn_at, &capped), warn_at + DAY);
    ck_assert_int_eq(capped, 1);
    ck_assert_int_eq(md_renew_retry_next(md, v, end + DAY, ten_years, end + 1, &capped), end + DAY);   /* expired */
    ck_assert_int_eq(capped, 1);
    ck_assert_int_eq(md_renew_retry_next(md, v, warn_at + DAY, warn_at + DAY, warn_at, &capped), warn_at + DAY);
    ck_assert_int_eq(capped, 0);
    /* no certificate: nothing expires, nothing capped */
    ck_assert_int_eq(md_renew_retry_next(md, certs(p, 1, NULL, NULL), T0 + DAY, ten_years, T0, &capped), ten_years);
    ck_assert_int_eq(capped, 0);
    ck_assert_int_eq(md_renew_retry_next(md, v, warn_at + DAY, ten_years, warn_at, NULL), warn_at + DAY);
    md_test_pool_done(p);
}
END_TEST

/* Inside the warn window a back-off grown to a day (and its +50 % jitter) never lands after notAfter: the retry comes
 * at most half the remaining life later, not sooner than a minute (the simulated year saw a 6-day certificate whose
 * retry came an hour after it expired, while a rate limit refused its orders). */
START_TEST(retry_never_after_expiry)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = make_md(p);
    apr_time_t end = T0 + 6 * DAY, now = end - DAY / 2, day_and_half = now + DAY + DAY / 2;
    apr_array_header_t *v = certs(p, 1, validity(T0, end, p), NULL);
    int capped = -1;

    md->warn_window = apr_pcalloc(p, sizeof(*md->warn_window));
    md->warn_window->len = DAY;        /* the last day */
    md->warn_window->percent = -1;
    ck_assert_int_eq(md_renew_retry_next(md, v, day_and_half, day_and_half, now, &capped), now + DAY / 4);
    ck_assert_int_eq(capped, 1);
    ck_assert_int_eq(md_renew_retry_next(md, v, now + 60 * SEC(1), day_and_half, now, &capped), now + 60 * SEC(1));
    ck_assert_int_eq(capped, 1);       /* the CA's value did not count */
    ck_assert_int_eq(md_renew_retry_next(md, v, now + SEC(5), now + SEC(5), now, &capped), now + SEC(5));
    ck_assert_int_eq(capped, 0);
    /* 30 s before the end: a minute, the floor */
    ck_assert_int_eq(md_renew_retry_next(md, v, day_and_half, day_and_half, end - SEC(30), &capped),
                     end - SEC(30) + MD_RENEW_RETRY_FLOOR);
    /* expired: the back-off as it is */
    ck_assert_int_eq(md_renew_retry_next(md, v, end + DAY, end + DAY, end + 1, &capped), end + DAY);
    ck_assert_int_eq(capped, 0);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_renew_suite(void)
{
    Suite *s = suite_create("renew");
    TCase *tc = tcase_create("due");

    tcase_add_test(tc, due_90_days_33_percent);
    tcase_add_test(tc, due_absolute_window);
    tcase_add_test(tc, due_earliest_of_two);
    tcase_add_test(tc, due_now_when_missing);
    tcase_add_test(tc, due_ari);
    tcase_add_test(tc, warn_window);
    suite_add_tcase(s, tc);
    tc = tcase_create("retry");
    tcase_add_test(tc, retry_doubling);
    tcase_add_test(tc, retry_jitter_bounds);
    tcase_add_test(tc, retry_one_second_kept);
    tcase_add_test(tc, retry_input_problem_a_day);
    tcase_add_test(tc, retry_cap_one_day);
    tcase_add_test(tc, retry_after_wins_when_later);
    tcase_add_test(tc, deadline_and_warn_at);
    tcase_add_test(tc, retry_capped_at_warn_window);
    tcase_add_test(tc, attempts_left);
    tcase_add_test(tc, retry_never_after_expiry);
    tcase_add_test(tc, ca_cannot_postpone_past_warn);
    tcase_add_test(tc, failover_three_cas);
    tcase_add_test(tc, failover_one_or_no_ca);
    suite_add_tcase(s, tc);
    return s;
}
