/* Unit tests of certificate download (alternates, preferred chain), renewal information and revocation. */
#include <string.h>
#include <apr_strings.h>

#include "md_encode.h"
#include "md_file.h"
#include "md_time.h"
#include "test_common.h"
#include "test_acme_order.h"

#define ALT1 "https://acme.test/acme/cert/04a1b9c3d2e5f60718293a4b5c6d7e8f9a0b/1"
#define ALT2 "https://acme.test/acme/cert/04a1b9c3d2e5f60718293a4b5c6d7e8f9a0b/2"
#define PEM_HEADERS "Content-Type: application/pem-certificate-chain\n"
#define LEAF_ARI_ID "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"

static const char *cert_file(const char *name, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len = 0;

    ck_assert_int_eq(md_file_read(&data, &len, md_test_data(apr_pstrcat(p, "cert/", name, NULL), p), p),
                     APR_SUCCESS);
    return data;
}

/* A self-signed certificate with CN cn, as PEM. */
static const char *self_signed_pem(const char *cn, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *)), *chain;
    md_cert_t *cert = NULL;
    const char *pem = NULL;
    apr_size_t len;

    APR_ARRAY_PUSH(names, const char *) = "root.test";
    ck_assert_int_eq(md_cert_self_sign(&cert, cn, names, order_ec_key(p), apr_time_from_sec(86400), p),
                     APR_SUCCESS);
    chain = apr_array_make(p, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    ck_assert_int_eq(md_cert_chain_to_pem(&pem, &len, chain, p), APR_SUCCESS);
    return pem;
}

/* The default chain (leaf + "mdomain Test Intermediate", issued by "mdomain Test Root") with two alternates:
 * ALT1 ends in a self-signed "ISRG Root X1", ALT2 in "mdomain Other Root". */
static void expect_default_chain(order_env_t *env)
{
    fake_http_expect(env->fake, "POST", LE_CERT, 200,
                     PEM_HEADERS "Link: <" ALT1 ">;rel=\"alternate\"\n"
                     "Link: <https://acme.test/directory>;rel=\"index\"\n"
                     "Link: <" ALT2 ">;rel=\"alternate\"\n", cert_file("fullchain.pem", env->p));
}

static void expect_alt1(order_env_t *env)
{
    fake_http_expect(env->fake, "POST", ALT1, 200, PEM_HEADERS,
                     apr_pstrcat(env->p, cert_file("fullchain.pem", env->p),
                                 self_signed_pem("ISRG Root X1", env->p), NULL));
}

static void expect_alt2(order_env_t *env)
{
    fake_http_expect(env->fake, "POST", ALT2, 200, PEM_HEADERS,
                     apr_pstrcat(env->p, cert_file("leaf.pem", env->p), cert_file("other-root.pem", env->p),
                                 NULL));
}

static const char *top_subject(const apr_array_header_t *chain, apr_pool_t *p)
{
    return md_cert_get_subject(APR_ARRAY_IDX(chain, chain->nelts - 1, md_cert_t *), p);
}

START_TEST(test_cert_fetch_alternates)
{
    order_env_t env;
    apr_array_header_t *chain = NULL, *alts = NULL;
    const fake_http_req_t *req;

    order_env_init(&env, "le");
    expect_default_chain(&env);
    ck_assert_int_eq(md_acme_cert_fetch(&chain, &alts, env.acme, LE_CERT, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_int_eq(chain->nelts, 2);
    ck_assert_str_eq(md_cert_get_common_name(APR_ARRAY_IDX(chain, 0, md_cert_t *), env.p), "www.example.org");
    ck_assert_int_eq(alts->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(alts, 0, const char *), ALT1);
    ck_assert_str_eq(APR_ARRAY_IDX(alts, 1, const char *), ALT2);
    req = fake_http_request(env.fake, order_last_post(env.fake));
    ck_assert_ptr_nonnull(req->headers);
    ck_assert_str_eq(apr_table_get(req->headers, "Accept"), "application/pem-certificate-chain");
    ck_assert_ptr_null(fake_http_jws_verify(env.fake, order_last_post(env.fake), env.key, env.p));
    order_env_done(&env);
}
END_TEST

START_TEST(test_cert_fetch_malformed)
{
    order_env_t env;
    apr_array_header_t *chain = NULL, *alts = NULL;

    order_env_init(&env, "le");
    fake_http_expect(env.fake, "POST", LE_CERT, 200, "Content-Type: text/html\n",
                     "<html><body>Service temporarily unavailable</body></html>");
    ck_assert_int_eq(md_acme_cert_fetch(&chain, &alts, env.acme, LE_CERT, env.result, env.p), APR_EINVAL);
    ck_assert_ptr_null(chain);
    order_assert_contains(env.result->detail, LE_CERT);
    order_assert_contains(env.result->detail, "not a PEM certificate chain");
    order_assert_contains(env.result->detail, "text/html");
    fake_http_expect(env.fake, "POST", LE_CERT, 200, PEM_HEADERS,
                     "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    ck_assert_int_eq(md_acme_cert_fetch(&chain, NULL, env.acme, LE_CERT, env.result, env.p), APR_EINVAL);
    order_assert_contains(env.result->detail, LE_CERT);
    fake_http_expect_problem(env.fake, "POST", LE_CERT, 404, NULL, "malformed", "Certificate not found");
    ck_assert_int_ne(md_acme_cert_fetch(&chain, NULL, env.acme, LE_CERT, env.result, env.p), APR_SUCCESS);
    order_assert_contains(env.result->detail, "Certificate not found");
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_cert_preferred_default_matches)
{
    order_env_t env;
    apr_array_header_t *chain = NULL;

    order_env_init(&env, "le");
    expect_default_chain(&env);
    ck_assert_int_eq(md_acme_cert_fetch_preferred(&chain, env.acme, LE_CERT, "mdomain TEST root", env.result,
                                                  env.p), APR_SUCCESS);
    fake_http_verify(env.fake);    /* no alternate fetched */
    ck_assert_int_eq(chain->nelts, 2);
    expect_default_chain(&env);
    ck_assert_int_eq(md_acme_cert_fetch_preferred(&chain, env.acme, LE_CERT, NULL, env.result, env.p),
                     APR_SUCCESS);
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_cert_preferred_alternate)
{
    order_env_t env;
    apr_array_header_t *chain = NULL;

    order_env_init(&env, "le");
    expect_default_chain(&env);
    expect_alt1(&env);
    ck_assert_int_eq(md_acme_cert_fetch_preferred(&chain, env.acme, LE_CERT, "ISRG Root X1", env.result,
                                                  env.p), APR_SUCCESS);
    fake_http_verify(env.fake);    /* ALT2 not fetched */
    ck_assert_int_eq(chain->nelts, 3);
    order_assert_contains(top_subject(chain, env.p), "CN=ISRG Root X1");

    expect_default_chain(&env);
    expect_alt1(&env);
    expect_alt2(&env);
    ck_assert_int_eq(md_acme_cert_fetch_preferred(&chain, env.acme, LE_CERT, "other root", env.result, env.p),
                     APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_int_eq(chain->nelts, 2);
    order_assert_contains(top_subject(chain, env.p), "CN=mdomain Other Root");
    order_env_done(&env);
}
END_TEST

START_TEST(test_cert_preferred_fallback)
{
    order_env_t env;
    apr_array_header_t *chain = NULL;

    order_env_init(&env, "le");
    expect_default_chain(&env);
    expect_alt1(&env);
    expect_alt2(&env);
    ck_assert_int_eq(md_acme_cert_fetch_preferred(&chain, env.acme, LE_CERT, "Nowhere CA", env.result, env.p),
                     APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_int_eq(chain->nelts, 2);
    order_assert_contains(top_subject(chain, env.p), "CN=mdomain Test Intermediate");

    /* an alternate that fails is passed over and leaves no error behind */
    md_result_reset(env.result);
    expect_default_chain(&env);
    fake_http_expect_problem(env.fake, "POST", ALT1, 500, NULL, "serverInternal", "oops");
    expect_alt2(&env);
    ck_assert_int_eq(md_acme_cert_fetch_preferred(&chain, env.acme, LE_CERT, "Other Root", env.result, env.p),
                     APR_SUCCESS);
    fake_http_verify(env.fake);
    ck_assert_int_eq(env.result->status, APR_SUCCESS);
    ck_assert_ptr_null(env.result->detail);
    order_assert_contains(top_subject(chain, env.p), "CN=mdomain Other Root");
    order_env_done(&env);
}
END_TEST

/* ---- ARI ----------------------------------------------------------------------------------------- */

START_TEST(test_ari_get)
{
    order_env_t env;
    md_acme_ari_t *ari = NULL;
    apr_array_header_t *chain = NULL;
    const char *id = NULL, *err = NULL;
    const fake_http_req_t *req;
    apr_time_t start, end, now;

    order_env_init(&env, "le");
    ck_assert_int_eq(md_cert_chain_fload(&chain, md_test_data("cert/leaf.pem", env.p), &err, env.p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, APR_ARRAY_IDX(chain, 0, md_cert_t *), env.p), APR_SUCCESS);
    ck_assert_str_eq(id, LEAF_ARI_ID);
    fake_http_expect_json(env.fake, "GET", LE_ARI "/" LEAF_ARI_ID, 200, "Retry-After: 21600\n",
                          order_data("le-ari.json", env.p));
    now = apr_time_now();
    ck_assert_int_eq(md_acme_ari_get(&ari, env.acme, id, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    req = fake_http_last(env.fake, NULL);
    ck_assert_str_eq(req->method, "GET");
    ck_assert_ptr_null(req->body.data);
    ck_assert_int_eq(md_time_parse_rfc3339(&start, "2025-07-18T21:24:51Z"), APR_SUCCESS);
    ck_assert_int_eq(md_time_parse_rfc3339(&end, "2025-07-20T21:24:51Z"), APR_SUCCESS);
    ck_assert_int_eq(ari->start, start);
    ck_assert_int_eq(ari->end, end);
    ck_assert_str_eq(ari->explanation_url, "https://acme.test/docs/integration-guide#implement-ari");
    ck_assert_int_ge(ari->retry_after, now + apr_time_from_sec(21600) - apr_time_from_sec(2));
    ck_assert_int_le(ari->retry_after, apr_time_now() + apr_time_from_sec(21600) + apr_time_from_sec(2));

    fake_http_expect_json(env.fake, "GET", LE_ARI "/" LEAF_ARI_ID, 200, NULL,
                          "{\"suggestedWindow\":{\"start\":\"2025-07-18T21:24:51Z\",\"end\":\"2025-07-20T21:24:51Z\"}}");
    ck_assert_int_eq(md_acme_ari_get(&ari, env.acme, id, env.result, env.p), APR_SUCCESS);
    ck_assert_int_eq(ari->retry_after, 0);
    ck_assert_ptr_null(ari->explanation_url);
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_ari_bad)
{
    order_env_t env;
    md_acme_ari_t *ari = NULL;

    order_env_init(&env, "le");
    fake_http_expect_json(env.fake, "GET", LE_ARI "/" LEAF_ARI_ID, 200, NULL,
                          order_data("le-ari-backwards.json", env.p));
    ck_assert_int_eq(md_acme_ari_get(&ari, env.acme, LEAF_ARI_ID, env.result, env.p), APR_EINVAL);
    ck_assert_ptr_null(ari);
    order_assert_contains(env.result->detail, "ends (2025-07-18T21:24:51Z) before it starts");
    fake_http_expect_json(env.fake, "GET", LE_ARI "/" LEAF_ARI_ID, 200, NULL,
                          order_data("le-ari-nowindow.json", env.p));
    ck_assert_int_eq(md_acme_ari_get(&ari, env.acme, LEAF_ARI_ID, env.result, env.p), APR_EINVAL);
    order_assert_contains(env.result->detail, "no valid suggestedWindow");
    order_assert_contains(env.result->detail, LE_ARI "/" LEAF_ARI_ID);
    fake_http_expect_json(env.fake, "GET", LE_ARI "/" LEAF_ARI_ID, 200, NULL,
                          "{\"suggestedWindow\":{\"start\":\"tomorrow\",\"end\":\"2025-07-20T21:24:51Z\"}}");
    ck_assert_int_eq(md_acme_ari_get(&ari, env.acme, LEAF_ARI_ID, env.result, env.p), APR_EINVAL);
    fake_http_expect_problem(env.fake, "GET", LE_ARI "/" LEAF_ARI_ID, 404, NULL, "malformed",
                             "Certificate not found");
    ck_assert_int_ne(md_acme_ari_get(&ari, env.acme, LEAF_ARI_ID, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    order_env_done(&env);

    order_env_init(&env, "pebble");
    ck_assert_int_eq(md_acme_ari_get(&ari, env.acme, LEAF_ARI_ID, env.result, env.p), APR_ENOTIMPL);
    order_assert_contains(env.result->detail, "renewalInfo");
    ck_assert_int_eq(fake_http_count(env.fake), 1);    /* just the directory */
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_ari_pick)
{
    md_acme_ari_t ari;
    apr_time_t now = apr_time_from_sec(1000000);

    memset(&ari, 0, sizeof(ari));
    ari.start = now + apr_time_from_sec(100);
    ari.end = now + apr_time_from_sec(200);
    ck_assert_int_eq(md_acme_ari_pick(&ari, now, 0.0), ari.start);
    ck_assert_int_eq(md_acme_ari_pick(&ari, now, 1.0), ari.end);
    ck_assert_int_eq(md_acme_ari_pick(&ari, now, 0.5), now + apr_time_from_sec(150));
    ck_assert_int_eq(md_acme_ari_pick(&ari, now, -3.0), ari.start);
    ck_assert_int_eq(md_acme_ari_pick(&ari, now, 7.0), ari.end);
    /* partly past: never before now */
    ck_assert_int_eq(md_acme_ari_pick(&ari, now + apr_time_from_sec(150), 0.1), now + apr_time_from_sec(150));
    ck_assert_int_eq(md_acme_ari_pick(&ari, now + apr_time_from_sec(150), 0.9), now + apr_time_from_sec(190));
    /* past entirely */
    ck_assert_int_eq(md_acme_ari_pick(&ari, now + apr_time_from_sec(300), 0.5), now + apr_time_from_sec(300));
    ck_assert_int_eq(md_acme_ari_pick(&ari, ari.end, 0.5), ari.end);
}
END_TEST

/* ---- revocation ---------------------------------------------------------------------------------- */

START_TEST(test_revoke_reason_parse)
{
    ck_assert_int_eq(md_acme_revoke_reason_parse("unspecified"), 0);
    ck_assert_int_eq(md_acme_revoke_reason_parse("keyCompromise"), 1);
    ck_assert_int_eq(md_acme_revoke_reason_parse("KEYCOMPROMISE"), 1);
    ck_assert_int_eq(md_acme_revoke_reason_parse("affiliationChanged"), 3);
    ck_assert_int_eq(md_acme_revoke_reason_parse("superseded"), 4);
    ck_assert_int_eq(md_acme_revoke_reason_parse("cessationOfOperation"), 5);
    ck_assert_int_eq(md_acme_revoke_reason_parse("privilegeWithdrawn"), 9);
    ck_assert_int_eq(md_acme_revoke_reason_parse("0"), 0);
    ck_assert_int_eq(md_acme_revoke_reason_parse("4"), 4);
    ck_assert_int_eq(md_acme_revoke_reason_parse("10"), 10);
    ck_assert_int_eq(md_acme_revoke_reason_parse("7"), -1);
    ck_assert_int_eq(md_acme_revoke_reason_parse("11"), -1);
    ck_assert_int_eq(md_acme_revoke_reason_parse("4x"), -1);
    ck_assert_int_eq(md_acme_revoke_reason_parse("-1"), -1);
    ck_assert_int_eq(md_acme_revoke_reason_parse("stolen"), -1);
    ck_assert_int_eq(md_acme_revoke_reason_parse(""), -1);
    ck_assert_int_eq(md_acme_revoke_reason_parse(NULL), -1);
}
END_TEST

static md_cert_t *fixture_leaf(apr_pool_t *p)
{
    apr_array_header_t *chain = NULL;
    const char *err = NULL;

    ck_assert_int_eq(md_cert_chain_fload(&chain, md_test_data("cert/leaf.pem", p), &err, p), APR_SUCCESS);
    return APR_ARRAY_IDX(chain, 0, md_cert_t *);
}

START_TEST(test_revoke_by_account)
{
    order_env_t env;
    md_cert_t *cert;
    md_data_t *der = NULL;
    md_json_t *payload, *prot;

    order_env_init(&env, "le");
    cert = fixture_leaf(env.p);
    fake_http_expect(env.fake, "POST", LE_REVOKE, 200, NULL, NULL);
    ck_assert_int_eq(md_acme_revoke(env.acme, cert, md_acme_revoke_reason_parse("keyCompromise"), NULL,
                                    env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    payload = order_last_payload(&env, env.key);
    ck_assert_int_eq(md_cert_to_der(&der, cert, env.p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(payload, "certificate", NULL), md_b64url_encode(der->data, der->len, env.p));
    ck_assert_int_eq(md_json_getl(payload, "reason", NULL), 1);
    prot = fake_http_jws_protected(env.fake, order_last_post(env.fake), env.p);
    ck_assert_str_eq(md_json_gets(prot, "kid", NULL), LE_ACCT);
    ck_assert(!md_json_has_key(prot, "jwk", NULL));
    ck_assert_str_eq(md_json_gets(prot, "url", NULL), LE_REVOKE);

    fake_http_expect_problem(env.fake, "POST", LE_REVOKE, 400, NULL, "alreadyRevoked",
                             "Certificate already revoked");
    ck_assert_int_ne(md_acme_revoke(env.acme, cert, 4, NULL, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(env.result->problem, "urn:ietf:params:acme:error:alreadyRevoked");
    fake_http_verify(env.fake);
    order_env_done(&env);
}
END_TEST

START_TEST(test_revoke_by_cert_key)
{
    order_env_t env;
    apr_array_header_t *names;
    md_pkey_t *cert_key;
    md_cert_t *cert = NULL;
    md_json_t *payload, *prot;

    order_env_init(&env, "pebble");
    cert_key = order_ec_key(env.p);
    names = apr_array_make(env.p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(names, const char *) = "example.org";
    ck_assert_int_eq(md_cert_self_sign(&cert, "example.org", names, cert_key, apr_time_from_sec(86400), env.p),
                     APR_SUCCESS);
    fake_http_expect(env.fake, "POST", "https://pebble.test:14000/revoke-cert", 200, NULL, NULL);
    ck_assert_int_eq(md_acme_revoke(env.acme, cert, -1, cert_key, env.result, env.p), APR_SUCCESS);
    fake_http_verify(env.fake);
    payload = order_last_payload(&env, cert_key);
    ck_assert(md_json_has_key(payload, "certificate", NULL));
    ck_assert(!md_json_has_key(payload, "reason", NULL));
    prot = fake_http_jws_protected(env.fake, order_last_post(env.fake), env.p);
    ck_assert(md_json_has_key(prot, "jwk", NULL));
    ck_assert(!md_json_has_key(prot, "kid", NULL));
    ck_assert_str_eq(md_json_gets(prot, "alg", NULL), "ES256");
    order_env_done(&env);
}
END_TEST

void md_test_acme_cert_tcases(Suite *s)
{
    TCase *tc = tcase_create("cert_ari_revoke");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_cert_fetch_alternates);
    tcase_add_test(tc, test_cert_fetch_malformed);
    tcase_add_test(tc, test_cert_preferred_default_matches);
    tcase_add_test(tc, test_cert_preferred_alternate);
    tcase_add_test(tc, test_cert_preferred_fallback);
    tcase_add_test(tc, test_ari_get);
    tcase_add_test(tc, test_ari_bad);
    tcase_add_test(tc, test_ari_pick);
    tcase_add_test(tc, test_revoke_reason_parse);
    tcase_add_test(tc, test_revoke_by_account);
    tcase_add_test(tc, test_revoke_by_cert_key);
    suite_add_tcase(s, tc);
}
