/* Unit tests of ACME orders (new, profile, replaces, await, finalize) against recorded CA responses. */
#include <string.h>
#include <apr_strings.h>

#include "md_clock.h"
#include "md_csr.h"
#include "md_encode.h"
#include "md_jws.h"
#include "test_common.h"
#include "test_acme_order.h"
#include "../../src/core/acme/md_acme_order_int.h"
#include "../../src/core/acme/md_acme_int.h"

/* ---- fixtures ------------------------------------------------------------------------------------ */

const char *order_data(const char *name, apr_pool_t *p)
{
    return fake_http_data(apr_pstrcat(p, "order/", name, NULL), p);
}

md_pkey_t *order_ec_key(apr_pool_t *p)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_pkey_t *key = NULL;

    ck_assert_int_eq(md_pkey_gen(&key, &spec, p), APR_SUCCESS);
    return key;
}

void order_env_init(order_env_t *env, const char *ca)
{
    int le = !strcmp(ca, "le");
    md_http_t *http;

    memset(env, 0, sizeof(*env));
    env->p = md_test_pool();
    env->result = md_result_make(env->p);
    env->fake = fake_http_create(env->p);
    http = fake_http_client(env->fake, env->p);
    fake_http_auto_nonce(env->fake, le ? LE_NONCE : PEBBLE_NONCE);
    fake_http_expect_json(env->fake, "GET", le ? LE_DIR : PEBBLE_DIR, 200, NULL,
                          order_data(le ? "le-directory.json" : "pebble-directory.json", env->p));
    ck_assert_int_eq(md_acme_create(&env->acme, le ? LE_DIR : PEBBLE_DIR, http, env->p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_setup(env->acme, env->result), APR_SUCCESS);
    env->key = order_ec_key(env->p);
    md_acme_set_account(env->acme, LE_ACCT, env->key);
    md_acme_set_polling(env->acme, apr_time_from_msec(1), apr_time_from_msec(20));
}

void order_env_done(order_env_t *env)
{
    md_test_pool_done(env->p);
}

int order_last_post(fake_http_t *fake)
{
    int i;

    for (i = fake_http_count(fake) - 1; i >= 0; --i) {
        if (!strcmp(fake_http_request(fake, i)->method, "POST")) return i;
    }
    ck_abort_msg("no POST recorded");
    return -1;
}

md_json_t *order_last_payload(order_env_t *env, const md_pkey_t *key)
{
    return fake_http_jws_verify(env->fake, order_last_post(env->fake), key, env->p);
}

void order_assert_contains(const char *haystack, const char *needle)
{
    ck_assert_msg(haystack && strstr(haystack, needle), "'%s' does not contain '%s'",
                  haystack ? haystack : "(null)", needle);
}

static apr_array_header_t *names_of(apr_pool_t *p, const char *n1, const char *n2, const char *n3,
                                    const char *n4)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    const char *all[] = { n1, n2, n3, n4 };
    int i;

    for (i = 0; i < 4; ++i) if (all[i]) APR_ARRAY_PUSH(a, const char *) = all[i];
    return a;
}

static void expect_new_order(order_env_t *env, const char *data)
{
    fake_http_expect_json(env->fake, "POST", LE_NEWORDER, 201, "Location: " LE_ORDER "\n",
                          order_data(data, env->p));
}

static void assert_identifier(const md_json_t *payload, int idx, const char *type, const char *value)
{
    md_json_t *id = md_json_at(payload, (apr_size_t)idx, "identifiers", NULL);

    ck_assert_ptr_nonnull(id);
    ck_assert_str_eq(md_json_gets(id, "type", NULL), type);
    ck_assert_str_eq(md_json_gets(id, "value", NULL), value);
}

/* ---- newOrder ------------------------------------------------------------------------------------ */

START_TEST(test_order_new_identifiers)
{
    order_env_t env;
    md_acme_order_t *order = NULL;
    md_json_t *payload, *prot;

    order_env_init(&env, "le");
    expect_new_order(&env, "le-order-pending.json");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", "*.example.org",
                     "192.0.2.1", "2001:DB8:0:0::1"), NULL, 0, NULL, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_str_eq(order->url, LE_ORDER);
    ck_assert_str_eq(order->status, "pending");
    ck_assert_str_eq(order->finalize, LE_FINALIZE);
    ck_assert_ptr_null(order->certificate);
    ck_assert_int_eq(order->authz_urls->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(order->authz_urls, 0, const char *), LE_AUTHZ);
    ck_assert_str_eq(md_json_gets(order->json, "profile", NULL), "shortlived");

    payload = order_last_payload(&env, env.key);
    ck_assert_int_eq(md_json_count(payload, "identifiers", NULL), 4);
    assert_identifier(payload, 0, "dns", "example.org");
    assert_identifier(payload, 1, "dns", "*.example.org");
    assert_identifier(payload, 2, "ip", "192.0.2.1");
    assert_identifier(payload, 3, "ip", "2001:db8::1");
    ck_assert(!md_json_has_key(payload, "profile", NULL));
    ck_assert(!md_json_has_key(payload, "replaces", NULL));
    prot = fake_http_jws_protected(env.fake, order_last_post(env.fake), env.p);
    ck_assert_str_eq(md_json_gets(prot, "url", NULL), LE_NEWORDER);
    ck_assert_str_eq(md_json_gets(prot, "kid", NULL), LE_ACCT);
    ck_assert(!md_json_has_key(prot, "jwk", NULL));
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_new_profile_offered)
{
    order_env_t env;
    md_acme_order_t *order = NULL;

    order_env_init(&env, "le");
    expect_new_order(&env, "le-order-pending.json");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", NULL, NULL, NULL),
                                       "shortlived", 1, NULL, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_str_eq(md_json_gets(order_last_payload(&env, env.key), "profile", NULL), "shortlived");
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_new_profile_mandatory_missing)
{
    order_env_t env;
    md_acme_order_t *order = NULL;

    order_env_init(&env, "le");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", NULL, NULL, NULL),
                                       "longlived", 1, NULL, env.result, env.p), APR_EINVAL);
    ck_assert_ptr_null(order);
    ck_assert_int_eq(env.result->status, APR_EINVAL);
    order_assert_contains(env.result->detail, "'longlived'");
    order_assert_contains(env.result->detail, "classic, shortlived, tlsserver");
    ck_assert_int_eq(fake_http_count_method(env.fake, "POST"), 0);
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_new_profile_optional_missing)
{
    order_env_t env;
    md_acme_order_t *order = NULL;

    order_env_init(&env, "le");
    expect_new_order(&env, "le-order-pending.json");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", NULL, NULL, NULL),
                                       "longlived", 0, NULL, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert(!md_json_has_key(order_last_payload(&env, env.key), "profile", NULL));
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_new_pebble_no_profiles_no_ari)
{
    order_env_t env;
    md_acme_order_t *order = NULL;
    md_json_t *payload;
    const char *url = "https://pebble.test:14000/my-order/wQ4pPhfS3hh2t6bvXbqEVlMAfRfpAd2hQxxhvMfyNhk";

    order_env_init(&env, "pebble");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", NULL, NULL, NULL),
                                       "classic", 1, NULL, env.result, env.p), APR_EINVAL);
    order_assert_contains(env.result->detail, "offered: none");
    fake_http_expect_json(env.fake, "POST", "https://pebble.test:14000/order-plz", 201,
                          apr_pstrcat(env.p, "Location: ", url, "\n", NULL),
                          order_data("pebble-order-pending.json", env.p));
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", "2001:db8::1", NULL,
                     NULL), "classic", 0, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", env.result, env.p),
                     APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_str_eq(order->url, url);
    ck_assert_int_eq(order->authz_urls->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(order->authz_urls, 0, const char *), PEBBLE_AUTHZ);
    payload = order_last_payload(&env, env.key);
    ck_assert(!md_json_has_key(payload, "profile", NULL));
    ck_assert(!md_json_has_key(payload, "replaces", NULL));
    assert_identifier(payload, 1, "ip", "2001:db8::1");
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_new_replaces)
{
    order_env_t env;
    md_acme_order_t *order = NULL;

    order_env_init(&env, "le");
    expect_new_order(&env, "le-order-pending.json");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", NULL, NULL, NULL),
                     NULL, 0, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_str_eq(md_json_gets(order_last_payload(&env, env.key), "replaces", NULL),
                     "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_new_rejected)
{
    order_env_t env;
    md_acme_order_t *order = NULL;

    order_env_init(&env, "le");
    fake_http_expect(env.fake, "POST", LE_NEWORDER, 400, "Content-Type: application/problem+json\n",
                     order_data("le-problem-rejected.json", env.p));
    ck_assert_int_ne(md_acme_order_new(&order, env.acme, names_of(env.p, "_example.org", "example.net",
                     NULL, NULL), NULL, 0, NULL, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_ptr_null(order);
    ck_assert_str_eq(env.result->problem, "urn:ietf:params:acme:error:rejectedIdentifier");
    ck_assert_ptr_nonnull(env.result->subproblems);
    ck_assert_int_eq(md_json_count(env.result->subproblems, NULL), 2);
    order_env_done(&env);
}
END_TEST

/* issue 15: an order (its URL, authorizations, finalize, certificate) on another host than the CA is refused, not
 * followed with the account's signature; a path is taken as on the CA's origin. */
START_TEST(test_order_urls_on_ca_origin)
{
    order_env_t env;
    md_acme_order_t *order = NULL;
    apr_array_header_t *names;
    const char *pending;

    order_env_init(&env, "le");
    names = names_of(env.p, "example.org", NULL, NULL, NULL);
    pending = order_data("le-order-pending.json", env.p);
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, "Location: https://evil.test/acme/order/1\n", pending);
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names, NULL, 0, NULL, env.result, env.p), APR_EINVAL);
    ck_assert_str_eq(env.result->detail, "the CA at " LE_DIR " gave the order URL https://evil.test/acme/order/1, "
                     "which is not on its origin https://acme.test:443: refused");
    ck_assert_ptr_null(order);
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, "Location: https://acme.test:8443/acme/order/1\n",
                          pending);
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names, NULL, 0, NULL, env.result, env.p), APR_EINVAL);
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, "Location: http://acme.test/acme/order/1\n", pending);
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names, NULL, 0, NULL, env.result, env.p), APR_EINVAL);
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, "Location: " LE_ORDER "\n",
                          apr_pstrcat(env.p, "{\"status\": \"pending\", \"authorizations\": [\"" LE_AUTHZ "\", "
                                      "\"https://acme.test.evil.test/authz/2\"], \"finalize\": \"" LE_FINALIZE "\"}",
                                      NULL));
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names, NULL, 0, NULL, env.result, env.p), APR_EINVAL);
    order_assert_contains(env.result->detail, "the authorization URL https://acme.test.evil.test/authz/2, which is "
                          "not on its origin");
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, "Location: " LE_ORDER "\n",
                          "{\"status\": \"valid\", \"authorizations\": [], \"finalize\": \"" LE_FINALIZE "\", "
                          "\"certificate\": \"https://user@acme.test/cert/1\"}");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names, NULL, 0, NULL, env.result, env.p), APR_EINVAL);
    order_assert_contains(env.result->detail, "the certificate URL https://user@acme.test/cert/1");
    /* same origin, another case and the default port given; a path */
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, "Location: HTTPS://ACME.test:443/acme/order/1\n", pending);
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names, NULL, 0, NULL, env.result, env.p), APR_SUCCESS);
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, "Location: /acme/order/2\n", pending);
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names, NULL, 0, NULL, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(order->url, "https://acme.test:443/acme/order/2");
    /* an order URL from a damaged job.json is not polled */
    order->url = "https://evil.test/acme/order/1";
    ck_assert_int_eq(md_acme_order_refresh(order, env.acme, env.result, env.p), APR_EINVAL);
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_new_bad_answers)
{
    order_env_t env;
    md_acme_order_t *order = NULL;

    order_env_init(&env, "le");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, NULL, NULL, NULL, NULL),
                                       NULL, 0, NULL, env.result, env.p), APR_EINVAL);
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, NULL, order_data("le-order-pending.json", env.p));
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", NULL, NULL, NULL),
                                       NULL, 0, NULL, env.result, env.p), APR_EINVAL);
    order_assert_contains(env.result->detail, "Location");
    fake_http_expect_json(env.fake, "POST", LE_NEWORDER, 201, "Location: " LE_ORDER "\n", "{\"x\": 1}");
    ck_assert_int_eq(md_acme_order_new(&order, env.acme, names_of(env.p, "example.org", NULL, NULL, NULL),
                                       NULL, 0, NULL, env.result, env.p), APR_EINVAL);
    order_assert_contains(env.result->detail, LE_ORDER);
    ck_assert_ptr_null(order);
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_from_json)
{
    apr_pool_t *p = md_test_pool();
    md_acme_order_t *order = NULL;
    md_json_t *json = NULL;
    const char *text = order_data("le-order-valid.json", p);

    ck_assert_int_eq(md_json_readd(&json, text, strlen(text), "test", NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_order_from_json(&order, LE_ORDER, json, p), APR_SUCCESS);
    ck_assert_str_eq(order->status, "valid");
    ck_assert_str_eq(order->certificate, LE_CERT);
    ck_assert_int_eq(order->authz_urls->nelts, 1);
    ck_assert_int_eq(md_acme_order_from_json(&order, LE_ORDER, md_json_create(p), p), APR_EINVAL);
    ck_assert_ptr_null(order);
    ck_assert_int_eq(md_acme_order_from_json(&order, LE_ORDER, md_json_create_array(p), p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

/* ---- polling ------------------------------------------------------------------------------------- */

START_TEST(test_poll_next_wait)
{
    order_env_t env;
    md_http_response_t resp;
    apr_interval_time_t wait;
    apr_time_t now = apr_time_now();
    int i;

    order_env_init(&env, "le");
    md_acme_set_polling(env.acme, apr_time_from_msec(100), apr_time_from_sec(5));
    memset(&resp, 0, sizeof(resp));
    resp.headers = apr_table_make(env.p, 2);
    wait = md_acme_poll_min(env.acme);
    ck_assert_int_eq(md_acme_order__next_wait(&wait, env.acme, &resp, now), apr_time_from_msec(100));
    ck_assert_int_eq(md_acme_order__next_wait(&wait, env.acme, NULL, now), apr_time_from_msec(200));
    apr_table_set(resp.headers, "Retry-After", "3");
    ck_assert_int_eq(md_acme_order__next_wait(&wait, env.acme, &resp, now), apr_time_from_sec(3));
    apr_table_set(resp.headers, "Retry-After", "60");
    ck_assert_int_eq(md_acme_order__next_wait(&wait, env.acme, &resp, now), apr_time_from_sec(5));
    apr_table_set(resp.headers, "Retry-After", "0");
    ck_assert_int_eq(md_acme_order__next_wait(&wait, env.acme, &resp, now), apr_time_from_msec(1600));
    for (i = 0; i < 10; ++i) md_acme_order__next_wait(&wait, env.acme, NULL, now);
    ck_assert_int_eq(md_acme_order__next_wait(&wait, env.acme, NULL, now), apr_time_from_sec(5));
    ck_assert(md_acme_order__state_in("ready", "ready|valid"));
    ck_assert(md_acme_order__state_in("valid", "ready|valid"));
    ck_assert(!md_acme_order__state_in("read", "ready|valid"));
    ck_assert(!md_acme_order__state_in("pending", "ready"));
    order_env_done(&env);
}
END_TEST

/* The first look's wait is learned per client and kind: half poll_min at first, 1/32 shorter after a hit but never
 * below half poll_min, after a miss at least what the CA took (at most poll_max; concurrent misses in a stall do not
 * add up); the kinds do not mix. */
START_TEST(test_poll_pace_learned)
{
    order_env_t env;
    apr_interval_time_t w;
    int i;

    order_env_init(&env, "le");
    md_acme_set_polling(env.acme, apr_time_from_msec(50), apr_time_from_sec(1));
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_VALIDATION), apr_time_from_msec(25));
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_NONE), 0);
    md_acme__pace_learn(env.acme, MD_ACME_PACE_VALIDATION, 1, 0);
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_VALIDATION), apr_time_from_msec(25));
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_ISSUANCE), apr_time_from_msec(25));
    md_acme__pace_learn(env.acme, MD_ACME_PACE_ISSUANCE, 0, apr_time_from_msec(75));
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_ISSUANCE), apr_time_from_msec(75));
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_VALIDATION), apr_time_from_msec(25));
    /* 16 drives that missed in the same stall, the CA done after 75 ms: 75 ms, not doubled 16 times (poll_max) */
    for (i = 0; i < 15; ++i) md_acme__pace_learn(env.acme, MD_ACME_PACE_ISSUANCE, 0, apr_time_from_msec(75));
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_ISSUANCE), apr_time_from_msec(75));
    md_acme__pace_learn(env.acme, MD_ACME_PACE_ISSUANCE, 0, apr_time_from_msec(40));       /* never shorter */
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_ISSUANCE), apr_time_from_msec(75));
    md_acme__pace_learn(env.acme, MD_ACME_PACE_ISSUANCE, 0, apr_time_from_sec(5));
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_ISSUANCE), apr_time_from_sec(1));
    md_acme__pace_learn(env.acme, MD_ACME_PACE_ISSUANCE, 1, 0);                           /* a hit: 1/32 less */
    ck_assert_int_eq(md_acme__pace_get(env.acme, MD_ACME_PACE_ISSUANCE), 1000000 - 1000000 / 32);
    for (i = 0; i < 1000; ++i) md_acme__pace_learn(env.acme, MD_ACME_PACE_ISSUANCE, 1, 0);
    w = md_acme__pace_get(env.acme, MD_ACME_PACE_ISSUANCE);
    ck_assert_int_eq(w, apr_time_from_msec(25));        /* not below the start: shorter waits miss in stalls */
    order_env_done(&env);
}
END_TEST

static md_acme_order_t *pending_order(order_env_t *env, const char *data)
{
    md_acme_order_t *order = NULL;
    md_json_t *json = NULL;
    const char *text = order_data(data, env->p);

    ck_assert_int_eq(md_json_readd(&json, text, strlen(text), data, NULL, env->p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_order_from_json(&order, LE_ORDER, json, env->p), APR_SUCCESS);
    return order;
}

START_TEST(test_order_await_retry_after)
{
    order_env_t env;
    md_acme_order_t *order;
    md_clock_sim_t *sim;
    apr_time_t start;

    order_env_init(&env, "le");
    sim = md_clock_sim_make(apr_time_from_sec(1900000000), env.p);     /* the waits on a simulated clock */
    md_acme_set_clock(env.acme, md_clock_sim_clock(sim));
    md_acme_set_polling(env.acme, apr_time_from_msec(1), apr_time_from_msec(200));
    order = pending_order(&env, "le-order-pending.json");
    fake_http_expect_json(env.fake, "POST", LE_ORDER, 200, "Retry-After: 1\n",
                          order_data("le-order-pending.json", env.p));
    fake_http_expect_json(env.fake, "POST", LE_ORDER, 200, NULL, order_data("le-order-ready.json", env.p));
    start = md_clock_now(md_clock_sim_clock(sim));
    ck_assert_int_eq(md_acme_order_await(order, env.acme, "ready|valid", apr_time_from_sec(5), env.result,
                                         env.p), APR_SUCCESS);
    /* Retry-After: 1 was honoured, but only up to poll_max (200ms): one wait of exactly that */
    ck_assert_int_eq(md_clock_now(md_clock_sim_clock(sim)) - start, apr_time_from_msec(200));
    fake_http_verify(env.fake);
    ck_assert_str_eq(order->status, "ready");
    ck_assert_ptr_null(fake_http_jws_payload(env.fake, order_last_post(env.fake), env.p));
    /* already there: no request */
    ck_assert_int_eq(md_acme_order_await(order, env.acme, "ready", apr_time_from_sec(1), env.result, env.p),
                     APR_SUCCESS);
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_await_invalid)
{
    order_env_t env;
    md_acme_order_t *order;

    order_env_init(&env, "le");
    order = pending_order(&env, "le-order-processing.json");
    fake_http_expect_json(env.fake, "POST", LE_ORDER, 200, NULL, order_data("le-order-invalid.json", env.p));
    ck_assert_int_eq(md_acme_order_await(order, env.acme, "valid", apr_time_from_sec(5), env.result, env.p),
                     APR_EINVAL);
    fake_http_verify(env.fake);
    ck_assert_str_eq(order->status, "invalid");
    ck_assert_int_eq(env.result->status, APR_EINVAL);
    ck_assert_str_eq(env.result->problem, "urn:ietf:params:acme:error:badCSR");
    order_assert_contains(env.result->detail, LE_ORDER);
    order_assert_contains(env.result->detail, "known weak RSA key");
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_await_timeout)
{
    order_env_t env;
    md_acme_order_t *order;
    int i;

    order_env_init(&env, "le");
    md_acme_set_polling(env.acme, apr_time_from_msec(5), apr_time_from_msec(5));
    order = pending_order(&env, "le-order-pending.json");
    for (i = 0; i < 100; ++i) {
        fake_http_expect_json(env.fake, "POST", LE_ORDER, 200, NULL, order_data("le-order-pending.json", env.p));
    }
    ck_assert_int_eq(md_acme_order_await(order, env.acme, "ready", apr_time_from_msec(40), env.result, env.p),
                     APR_TIMEUP);
    /* at least one poll, and no poll left once the time is up; how many fit in 40 ms is the machine's */
    ck_assert_int_gt(fake_http_pending(env.fake), 50);
    ck_assert_int_lt(fake_http_pending(env.fake), 100);
    ck_assert_int_eq(env.result->status, APR_TIMEUP);
    order_assert_contains(env.result->detail, LE_ORDER);
    order_assert_contains(env.result->detail, "ready");
    order_assert_contains(env.result->detail, "last status: pending");
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_finalize_await_valid)
{
    order_env_t env;
    md_acme_order_t *order;
    md_data_t *csr = NULL;
    md_json_t *payload;

    order_env_init(&env, "le");
    order = pending_order(&env, "le-order-ready.json");
    ck_assert_int_eq(md_csr_make(&csr, names_of(env.p, "example.org", NULL, NULL, NULL), 0,
                                 order_ec_key(env.p), env.p), APR_SUCCESS);
    fake_http_expect_json(env.fake, "POST", LE_FINALIZE, 200, "Retry-After: 0\nLocation: " LE_ORDER "\n",
                          order_data("le-order-processing.json", env.p));
    fake_http_expect_json(env.fake, "POST", LE_ORDER, 200, NULL, order_data("le-order-processing.json", env.p));
    fake_http_expect_json(env.fake, "POST", LE_ORDER, 200, NULL, order_data("le-order-valid.json", env.p));
    ck_assert_int_eq(md_acme_order_finalize(order, env.acme, csr, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(order->status, "processing");
    ck_assert_str_eq(order->url, LE_ORDER);
    payload = order_last_payload(&env, env.key);
    ck_assert_str_eq(md_json_gets(payload, "csr", NULL), md_b64url_encode(csr->data, csr->len, env.p));
    ck_assert_str_eq(fake_http_request(env.fake, order_last_post(env.fake))->url, LE_FINALIZE);
    ck_assert_int_eq(md_acme_order_await(order, env.acme, "valid", apr_time_from_sec(5), env.result, env.p),
                     APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_str_eq(order->status, "valid");
    ck_assert_str_eq(order->certificate, LE_CERT);
    order_env_done(&env);
}
END_TEST

START_TEST(test_order_refresh_and_errors)
{
    order_env_t env;
    md_acme_order_t *order;

    order_env_init(&env, "le");
    order = pending_order(&env, "le-order-pending.json");
    fake_http_expect_json(env.fake, "POST", LE_ORDER, 200, NULL, order_data("le-order-ready.json", env.p));
    ck_assert_int_eq(md_acme_order_refresh(order, env.acme, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(order->status, "ready");
    ck_assert_int_eq(order->authz_urls->nelts, 1);
    fake_http_expect_problem(env.fake, "POST", LE_ORDER, 404, NULL, "malformed", "No order for ID 381274655");
    ck_assert_int_ne(md_acme_order_await(order, env.acme, "valid", apr_time_from_sec(5), env.result, env.p),
                     APR_SUCCESS);
    order_assert_contains(env.result->detail, "No order for ID");
    order->finalize = NULL;
    ck_assert_int_eq(md_acme_order_finalize(order, env.acme, md_data_from_str("x", env.p), env.result, env.p),
                     APR_EINVAL);
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

Suite *md_test_acme_order_suite(void)
{
    Suite *s = suite_create("acme_order");
    TCase *tc = tcase_create("order");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_order_new_identifiers);
    tcase_add_test(tc, test_order_new_profile_offered);
    tcase_add_test(tc, test_order_new_profile_mandatory_missing);
    tcase_add_test(tc, test_order_new_profile_optional_missing);
    tcase_add_test(tc, test_order_new_pebble_no_profiles_no_ari);
    tcase_add_test(tc, test_order_new_replaces);
    tcase_add_test(tc, test_order_new_rejected);
    tcase_add_test(tc, test_order_new_bad_answers);
    tcase_add_test(tc, test_order_urls_on_ca_origin);
    tcase_add_test(tc, test_order_from_json);
    tcase_add_test(tc, test_poll_next_wait);
    tcase_add_test(tc, test_poll_pace_learned);
    tcase_add_test(tc, test_order_await_retry_after);
    tcase_add_test(tc, test_order_await_invalid);
    tcase_add_test(tc, test_order_await_timeout);
    tcase_add_test(tc, test_order_finalize_await_valid);
    tcase_add_test(tc, test_order_refresh_and_errors);
    suite_add_tcase(s, tc);
    md_test_acme_authz_tcases(s);
    md_test_acme_cert_tcases(s);
    return s;
}
