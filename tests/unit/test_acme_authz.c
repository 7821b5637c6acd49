/* Unit tests of ACME authorizations and challenges: fetch, choose, respond, await, deactivate. */
#include <string.h>
#include <apr_strings.h>

#include "test_common.h"
#include "test_acme_order.h"

static apr_array_header_t *prefs_of(apr_pool_t *p, const char *t1, const char *t2)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));

    if (t1) APR_ARRAY_PUSH(a, const char *) = t1;
    if (t2) APR_ARRAY_PUSH(a, const char *) = t2;
    return a;
}

static md_acme_authz_t *get_authz(order_env_t *env, const char *url, const char *data)
{
    md_acme_authz_t *authz = NULL;

    fake_http_expect_json(env->fake, "POST", url, 200, NULL, order_data(data, env->p));
    ck_assert_int_eq(md_acme_authz_get(&authz, env->acme, url, env->result, env->p), APR_SUCCESS);
    ck_assert_ptr_nonnull(authz);
    return authz;
}

START_TEST(test_authz_get_pending)
{
    order_env_t env;
    md_acme_authz_t *authz;
    md_acme_challenge_t *ch;

    order_env_init(&env, "le");
    authz = get_authz(&env, LE_AUTHZ, "le-authz-pending.json");
    fake_http_verify(env.fake);
    ck_assert_ptr_null(fake_http_jws_payload(env.fake, order_last_post(env.fake), env.p));
    ck_assert_str_eq(authz->url, LE_AUTHZ);
    ck_assert_str_eq(authz->status, "pending");
    ck_assert_str_eq(authz->id_type, "dns");
    ck_assert_str_eq(authz->domain, "example.org");
    ck_assert_int_eq(authz->wildcard, 0);
    ck_assert_int_eq(authz->challenges->nelts, 3);
    ch = APR_ARRAY_IDX(authz->challenges, 0, md_acme_challenge_t *);
    ck_assert_str_eq(ch->type, "http-01");
    ck_assert_str_eq(ch->url, LE_CHALL);
    ck_assert_str_eq(ch->token, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
    ck_assert_str_eq(ch->status, "pending");
    ck_assert_ptr_null(ch->error);
    ck_assert_str_eq(APR_ARRAY_IDX(authz->challenges, 2, md_acme_challenge_t *)->type, "tls-alpn-01");
    order_env_done(&env);
}
END_TEST

START_TEST(test_authz_get_wildcard_and_ip)
{
    order_env_t env;
    md_acme_authz_t *authz;

    order_env_init(&env, "le");
    authz = get_authz(&env, LE_AUTHZ_WC, "le-authz-wildcard.json");
    ck_assert_int_eq(authz->wildcard, 1);
    ck_assert_str_eq(authz->domain, "example.org");
    ck_assert_int_eq(authz->challenges->nelts, 1);
    authz = get_authz(&env, PEBBLE_AUTHZ, "pebble-authz-ip-pending.json");
    ck_assert_str_eq(authz->id_type, "ip");
    ck_assert_str_eq(authz->domain, "2001:db8::1");
    ck_assert_int_eq(authz->wildcard, 0);
    ck_assert_int_eq(authz->challenges->nelts, 2);
    fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, NULL, "{\"status\": \"pending\"}");
    ck_assert_int_eq(md_acme_authz_get(&authz, env.acme, LE_AUTHZ, env.result, env.p), APR_EINVAL);
    order_assert_contains(env.result->detail, LE_AUTHZ);
    fake_http_expect_problem(env.fake, "POST", LE_AUTHZ, 404, NULL, "malformed", "No such authorization");
    ck_assert_int_ne(md_acme_authz_get(&authz, env.acme, LE_AUTHZ, env.result, env.p), APR_SUCCESS);
    ck_assert_ptr_null(authz);
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_authz_choose)
{
    order_env_t env;
    md_acme_authz_t *authz, *wc;
    md_acme_challenge_t *ch = NULL;

    order_env_init(&env, "le");
    authz = get_authz(&env, LE_AUTHZ, "le-authz-pending.json");
    wc = get_authz(&env, LE_AUTHZ_WC, "le-authz-wildcard.json");
    ck_assert_int_eq(md_acme_authz_choose(&ch, authz, prefs_of(env.p, "tls-alpn-01", "http-01"), env.result,
                                          env.p), APR_SUCCESS);
    ck_assert_str_eq(ch->type, "tls-alpn-01");
    ck_assert_int_eq(md_acme_authz_choose(&ch, authz, prefs_of(env.p, "dns-01", "tls-alpn-01"), env.result,
                                          env.p), APR_SUCCESS);
    ck_assert_str_eq(ch->type, "dns-01");
    ck_assert_int_eq(md_acme_authz_choose(&ch, authz, prefs_of(env.p, "dns-account-01", "http-01"),
                                          env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(ch->type, "http-01");
    ck_assert_str_eq(ch->url, LE_CHALL);

    ck_assert_int_eq(md_acme_authz_choose(&ch, wc, prefs_of(env.p, "http-01", "tls-alpn-01"), env.result,
                                          env.p), APR_EINVAL);
    ck_assert_ptr_null(ch);
    ck_assert_int_eq(env.result->status, APR_EINVAL);
    ck_assert_str_eq(env.result->problem, "challenge-mismatch");          /* mod_md's problem type */
    order_assert_contains(env.result->detail, "*.example.org");
    order_assert_contains(env.result->detail, "offers dns-01");
    order_assert_contains(env.result->detail, "configured are http-01, tls-alpn-01");
    ck_assert_int_eq(md_acme_authz_choose(&ch, wc, prefs_of(env.p, NULL, NULL), env.result, env.p),
                     APR_EINVAL);
    order_assert_contains(env.result->detail, "configured are none");
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_challenge_respond)
{
    order_env_t env;
    md_acme_authz_t *authz;
    md_acme_challenge_t *ch = NULL;
    md_json_t *payload;

    order_env_init(&env, "le");
    authz = get_authz(&env, LE_AUTHZ, "le-authz-pending.json");
    ck_assert_int_eq(md_acme_authz_choose(&ch, authz, prefs_of(env.p, "http-01", NULL), env.result, env.p),
                     APR_SUCCESS);
    fake_http_expect_json(env.fake, "POST", LE_CHALL, 200,
                          "Link: <https://acme.test/acme/authz/1893402147/517263641>;rel=\"up\"\n",
                          order_data("le-chall-processing.json", env.p));
    ck_assert_int_eq(md_acme_challenge_respond(env.acme, ch, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    payload = order_last_payload(&env, env.key);
    ck_assert_ptr_nonnull(payload);    /* {} - not a POST-as-GET */
    ck_assert_int_eq(md_json_type(payload), MD_JSON_TYPE_OBJECT);
    ck_assert_str_eq(md_json_writep(payload, MD_JSON_FMT_COMPACT, env.p), "{}");
    ck_assert_str_eq(md_json_gets(fake_http_jws_protected(env.fake, order_last_post(env.fake), env.p), "url",
                                  NULL), LE_CHALL);
    order_env_done(&env);
}
END_TEST

START_TEST(test_authz_await_valid)
{
    order_env_t env;
    md_acme_authz_t *authz = NULL;

    order_env_init(&env, "le");
    fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, "Retry-After: 0\n",
                          order_data("le-authz-pending.json", env.p));
    fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, "Retry-After: 3\n",
                          order_data("le-authz-pending.json", env.p));
    fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, NULL, order_data("le-authz-valid.json", env.p));
    ck_assert_int_eq(md_acme_authz_await(&authz, env.acme, LE_AUTHZ, apr_time_from_sec(5), env.result, env.p),
                     APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_str_eq(authz->status, "valid");
    ck_assert_str_eq(APR_ARRAY_IDX(authz->challenges, 0, md_acme_challenge_t *)->status, "valid");
    order_env_done(&env);
}
END_TEST

START_TEST(test_authz_await_invalid_le)
{
    order_env_t env;
    md_acme_authz_t *authz = NULL;

    order_env_init(&env, "le");
    fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, NULL, order_data("le-authz-pending.json", env.p));
    fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, NULL, order_data("le-authz-invalid.json", env.p));
    ck_assert_int_eq(md_acme_authz_await(&authz, env.acme, LE_AUTHZ, apr_time_from_sec(5), env.result, env.p),
                     APR_EINVAL);
    fake_http_verify(env.fake);
    ck_assert_str_eq(authz->status, "invalid");
    ck_assert_int_eq(env.result->status, APR_EINVAL);
    ck_assert_str_eq(env.result->problem, "urn:ietf:params:acme:error:unauthorized");
    order_assert_contains(env.result->detail, "http-01 challenge for example.org failed");
    order_assert_contains(env.result->detail, "Invalid response from http://example.org/");
    order_assert_contains(env.result->detail, ": 404");
    order_env_done(&env);
}
END_TEST

START_TEST(test_authz_await_invalid_pebble)
{
    order_env_t env;

    order_env_init(&env, "pebble");
    fake_http_expect_json(env.fake, "POST", PEBBLE_AUTHZ, 200, NULL,
                          order_data("pebble-authz-invalid.json", env.p));
    ck_assert_int_eq(md_acme_authz_await(NULL, env.acme, PEBBLE_AUTHZ, apr_time_from_sec(5), env.result,
                                         env.p), APR_EINVAL);
    fake_http_verify(env.fake);
    ck_assert_str_eq(env.result->problem, "urn:ietf:params:acme:error:connection");
    order_assert_contains(env.result->detail, "http-01 challenge for example.org failed");
    order_assert_contains(env.result->detail, "connection refused");
    order_env_done(&env);
}
END_TEST

START_TEST(test_authz_await_subproblems_and_deactivated)
{
    order_env_t env;
    const char *text;

    order_env_init(&env, "le");
    /* an error with subproblems (as for a dns-01 failure over several resolvers) */
    text = apr_pstrcat(env.p, "{\"identifier\":{\"type\":\"dns\",\"value\":\"example.org\"},\"wildcard\":true,"
                       "\"status\":\"invalid\",\"challenges\":[{\"type\":\"dns-01\",\"url\":\"" LE_CHALL "\","
                       "\"status\":\"invalid\",\"token\":\"t\",\"error\":{\"type\":\"urn:ietf:params:acme:"
                       "error:dns\",\"detail\":\"DNS problem: NXDOMAIN looking up TXT\",\"subproblems\":"
                       "[{\"type\":\"urn:ietf:params:acme:error:dns\",\"detail\":\"NXDOMAIN\"}]}}]}", NULL);
    fake_http_expect_json(env.fake, "POST", LE_AUTHZ_WC, 200, NULL, text);
    ck_assert_int_eq(md_acme_authz_await(NULL, env.acme, LE_AUTHZ_WC, apr_time_from_sec(5), env.result, env.p),
                     APR_EINVAL);
    ck_assert_str_eq(env.result->problem, "urn:ietf:params:acme:error:dns");
    order_assert_contains(env.result->detail, "dns-01 challenge for *.example.org failed: DNS problem");
    ck_assert_int_eq(md_json_count(env.result->subproblems, NULL), 1);

    fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, NULL, order_data("le-authz-deactivated.json", env.p));
    ck_assert_int_eq(md_acme_authz_await(NULL, env.acme, LE_AUTHZ, apr_time_from_sec(5), env.result, env.p),
                     APR_EINVAL);
    ck_assert_ptr_null(env.result->problem);
    ck_assert_ptr_null(env.result->subproblems);
    order_assert_contains(env.result->detail, "authorization for example.org is deactivated");
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_authz_await_timeout)
{
    order_env_t env;
    md_acme_authz_t *authz = NULL;
    int i;

    order_env_init(&env, "le");
    md_acme_set_polling(env.acme, apr_time_from_msec(5), apr_time_from_msec(5));
    for (i = 0; i < 100; ++i) {
        fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, NULL, order_data("le-authz-pending.json", env.p));
    }
    ck_assert_int_eq(md_acme_authz_await(&authz, env.acme, LE_AUTHZ, apr_time_from_msec(30), env.result,
                                         env.p), APR_TIMEUP);
    ck_assert_int_lt(fake_http_pending(env.fake), 100);     /* polled at least once; how often is the machine's */
    ck_assert_str_eq(authz->status, "pending");
    order_assert_contains(env.result->detail, "authorization " LE_AUTHZ);
    order_assert_contains(env.result->detail, "last status: pending");
    order_env_done(&env);
}
END_TEST

START_TEST(test_authz_deactivate)
{
    order_env_t env;
    md_json_t *payload;

    order_env_init(&env, "le");
    fake_http_expect_json(env.fake, "POST", LE_AUTHZ, 200, NULL, order_data("le-authz-deactivated.json", env.p));
    ck_assert_int_eq(md_acme_authz_deactivate(env.acme, LE_AUTHZ, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    payload = order_last_payload(&env, env.key);
    ck_assert_str_eq(md_json_writep(payload, MD_JSON_FMT_COMPACT, env.p), "{\"status\":\"deactivated\"}");
    order_env_done(&env);
}
END_TEST

void md_test_acme_authz_tcases(Suite *s)
{
    TCase *tc = tcase_create("authz");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_authz_get_pending);
    tcase_add_test(tc, test_authz_get_wildcard_and_ip);
    tcase_add_test(tc, test_authz_choose);
    tcase_add_test(tc, test_challenge_respond);
    tcase_add_test(tc, test_authz_await_valid);
    tcase_add_test(tc, test_authz_await_invalid_le);
    tcase_add_test(tc, test_authz_await_invalid_pebble);
    tcase_add_test(tc, test_authz_await_subproblems_and_deactivated);
    tcase_add_test(tc, test_authz_await_timeout);
    tcase_add_test(tc, test_authz_deactivate);
    suite_add_tcase(s, tc);
}
