/* Unit tests of the ACME client: CA names, directory, nonce pool, signed POSTs, badNonce, problems, bad answers. */
#include <pthread.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>

#include "md_acme.h"
#include "md_jws.h"
#include "md_result.h"
#include "md_time.h"
#include "test_common.h"
#include "test_acme.h"

#define URL_X "https://ca.test/x"

/* ---- shared helpers ------------------------------------------------------------------------------ */

void ta_env_init(ta_env_t *env, const char *dir_file)
{
    memset(env, 0, sizeof(*env));
    env->p = md_test_pool();
    env->result = md_result_make(env->p);
    env->fake = fake_http_create(env->p);
    fake_http_auto_nonce(env->fake, TA_NONCE);
    fake_http_expect_json(env->fake, "GET", TA_DIR, 200, NULL, fake_http_data(dir_file, env->p));
    ck_assert_int_eq(md_acme_create(&env->acme, TA_DIR, fake_http_client(env->fake, env->p), env->p),
                     APR_SUCCESS);
    ck_assert_msg(md_acme_setup(env->acme, env->result) == APR_SUCCESS, "setup: %s",
                  md_result_text(env->result, env->p));
}

void ta_env_done(ta_env_t *env)
{
    md_test_pool_done(env->p);
}

md_pkey_t *ta_ec_key(apr_pool_t *p)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_pkey_t *key = NULL;

    ck_assert_int_eq(md_pkey_gen(&key, &spec, p), APR_SUCCESS);
    return key;
}

md_pkey_t *ta_rsa_key(apr_pool_t *p)
{
    md_pkey_t *key = NULL;

    ck_assert_int_eq(md_pkey_fload(&key, md_test_data("pkey/rsa2048-trad.pem", p), NULL, 0, NULL, p),
                     APR_SUCCESS);
    return key;
}

void ta_assert_contains(const char *haystack, const char *needle)
{
    ck_assert_msg(haystack && strstr(haystack, needle), "'%s' does not contain '%s'",
                  haystack ? haystack : "(null)", needle);
}

static md_json_t *json_of(const char *text, apr_pool_t *p)
{
    md_json_t *json = NULL;

    ck_assert_int_eq(md_json_readd(&json, text, strlen(text), "test", NULL, p), APR_SUCCESS);
    return json;
}

/* ---- CA names, directory ------------------------------------------------------------------------- */

START_TEST(ca_names)
{
    const char *err = NULL;
    apr_pool_t *p;

    ck_assert_str_eq(md_acme_ca_url_for("letsencrypt"), "https://acme-v02.api.letsencrypt.org/directory");
    ck_assert_str_eq(md_acme_ca_url_for("LetsEncrypt-Test"),
                     "https://acme-staging-v02.api.letsencrypt.org/directory");
    ck_assert_str_eq(md_acme_ca_url_for("buypass"), "https://api.buypass.com/acme/directory");
    ck_assert_str_eq(md_acme_ca_url_for("BUYPASS-TEST"), "https://api.test4.buypass.no/acme/directory");
    ck_assert_str_eq(md_acme_ca_url_for("https://127.0.0.1:14000/dir"), "https://127.0.0.1:14000/dir");
    ck_assert_ptr_null(md_acme_ca_url_for(NULL));
    p = md_test_pool();
    ck_assert_str_eq(md_acme_ca_names(p), "LetsEncrypt, LetsEncrypt-Test, Buypass, Buypass-Test");
    /* MDCertificateAuthority: what mod_md accepts (any absolute URI), and its words for what it refuses */
    ck_assert_str_eq(md_acme_ca_resolve("letsencrypt", &err, p), "https://acme-v02.api.letsencrypt.org/directory");
    ck_assert_str_eq(md_acme_ca_resolve("ftp://ca.example.org/dir", &err, p), "ftp://ca.example.org/dir");
    ck_assert_ptr_null(err);
    ck_assert_ptr_null(md_acme_ca_resolve("letsencrypt-staging", &err, p));
    ck_assert_str_eq(err, "The CA name 'letsencrypt-staging' is not known and it is not a URL either (missing uri "
                     "scheme); known CA names are LetsEncrypt, LetsEncrypt-Test, Buypass, Buypass-Test, or give the "
                     "http: or https: URL of the CA's ACME directory");
    ck_assert_ptr_null(md_acme_ca_resolve("https://a b/dir", &err, p));
    ck_assert_ptr_nonnull(strstr(err, "(whitespace in uri)"));
    md_test_pool_done(p);
}
END_TEST

START_TEST(directory_parse)
{
    ta_env_t env;
    md_json_t *profiles;

    ta_env_init(&env, "directory.json");
    ck_assert_str_eq(md_acme_url(env.acme), TA_DIR);
    ck_assert_str_eq(md_acme_resource(env.acme, "newNonce"), TA_NONCE);
    ck_assert_str_eq(md_acme_resource(env.acme, "newAccount"), TA_NEW_ACCT);
    ck_assert_str_eq(md_acme_resource(env.acme, "newOrder"), "https://ca.test/order-plz");
    ck_assert_str_eq(md_acme_resource(env.acme, "keyChange"), TA_KEY_CHANGE);
    ck_assert_str_eq(md_acme_resource(env.acme, "renewalInfo"), "https://ca.test/draft-ietf-acme-ari-03/renewalInfo");
    ck_assert_ptr_null(md_acme_resource(env.acme, "newAuthz"));
    ck_assert_str_eq(md_acme_tos(env.acme), "https://ca.test/terms.pdf");
    ck_assert_int_eq(md_acme_eab_required(env.acme), 0);
    profiles = md_acme_profiles(env.acme);
    ck_assert_ptr_nonnull(profiles);
    ck_assert_str_eq(md_json_gets(profiles, "shortlived", NULL), "A short-lived cert profile");
    /* fetched once */
    ck_assert_int_eq(md_acme_setup(env.acme, env.result), APR_SUCCESS);
    ck_assert_int_eq(fake_http_count(env.fake), 1);
    fake_http_verify(env.fake);
    ta_env_done(&env);

    ta_env_init(&env, "directory-eab.json");
    ck_assert_int_eq(md_acme_eab_required(env.acme), 1);
    ck_assert_ptr_null(md_acme_profiles(env.acme));
    ck_assert_ptr_null(md_acme_resource(env.acme, "renewalInfo"));
    ta_env_done(&env);
}
END_TEST

/* Set up against a directory answer that must fail; returns the result text. */
static const char *setup_fails(apr_pool_t *p, int status, const char *headers, const char *body,
                               apr_status_t expect_rv)
{
    md_result_t *result = md_result_make(p);
    fake_http_t *fake = fake_http_create(p);
    md_acme_t *acme = NULL;

    fake_http_expect(fake, "GET", TA_DIR, status, headers, body);
    ck_assert_int_eq(md_acme_create(&acme, TA_DIR, fake_http_client(fake, p), p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_setup(acme, result), expect_rv);
    ck_assert_ptr_null(md_acme_directory(acme));
    fake_http_verify(fake);
    return md_result_text(result, p);
}

START_TEST(directory_errors)
{
    apr_pool_t *p = md_test_pool();
    const char *json = "Content-Type: application/json\n", *text;

    text = setup_fails(p, 200, json, fake_http_data("directory-no-nonce.json", p), APR_EINVAL);
    ta_assert_contains(text, "newNonce");
    ta_assert_contains(text, TA_DIR);
    text = setup_fails(p, 200, json, "{\"newNonce\": \"https://ca.test/n\"}", APR_EINVAL);
    ta_assert_contains(text, "newAccount, newOrder");
    text = setup_fails(p, 200, "Content-Type: text/html\n", "<html>hello</html>", APR_EINVAL);
    ta_assert_contains(text, TA_DIR);
    ta_assert_contains(text, "text/html");
    text = setup_fails(p, 200, json, "{\"newNonce\": \"https://ca.te", APR_EINVAL);
    ta_assert_contains(text, TA_DIR);
    text = setup_fails(p, 200, json, "[1, 2]", APR_EINVAL);
    ta_assert_contains(text, "not a JSON object");
    text = setup_fails(p, 404, "Content-Type: text/plain\n", "no such thing", APR_ENOENT);
    ta_assert_contains(text, "HTTP 404 from " TA_DIR ": 'no such thing'");
    md_test_pool_done(p);
}
END_TEST

START_TEST(fake_reports_unexpected)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    fake_http_t *fake = fake_http_create(p);
    md_http_response_t *resp = NULL;

    fake_http_lenient(fake, 1);
    fake_http_expect(fake, "GET", "https://ca.test/a", 200, NULL, "a");
    ck_assert_int_eq(md_http_head(&resp, fake_http_client(fake, p), "https://ca.test/b", result, p),
                     APR_EGENERAL);
    ta_assert_contains(result->detail, "unexpected request HEAD https://ca.test/b");
    ta_assert_contains(result->detail, "expected GET https://ca.test/a");
    ck_assert_int_eq(fake_http_pending(fake), 1);
    md_test_pool_done(p);
}
END_TEST

/* ---- signed requests, nonces --------------------------------------------------------------------- */

START_TEST(post_protected_header)
{
    ta_env_t env;
    md_pkey_t *key;
    md_http_response_t *resp = NULL;
    md_json_t *prot, *payload, *jwk = NULL;
    const fake_http_req_t *req;

    ta_env_init(&env, "directory.json");
    key = ta_ec_key(env.p);
    fake_http_expect_json(env.fake, "POST", URL_X, 200, NULL, "{}");
    fake_http_expect_json(env.fake, "POST", URL_X, 200, NULL, "{}");
    md_acme_set_account(env.acme, NULL, key);
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, json_of("{\"a\":1}", env.p), NULL, env.result, env.p),
                     APR_SUCCESS);
    ck_assert_int_eq(resp->status, 200);
    req = fake_http_request(env.fake, 1);
    ck_assert_str_eq(req->content_type, "application/jose+json");
    prot = fake_http_jws_protected(env.fake, 1, env.p);
    ck_assert_str_eq(md_json_gets(prot, "alg", NULL), "ES256");
    ck_assert_str_eq(md_json_gets(prot, "url", NULL), URL_X);
    ck_assert_str_eq(md_json_gets(prot, "nonce", NULL), "nonce-1");   /* from the directory answer */
    ck_assert_int_eq(md_json_has_key(prot, "kid", NULL), 0);
    ck_assert_int_eq(md_jwk_get(&jwk, key, env.p), APR_SUCCESS);
    ck_assert(md_json_equal(md_json_getj(prot, "jwk", NULL), jwk));
    payload = fake_http_jws_verify(env.fake, 1, key, env.p);
    ck_assert_int_eq(md_json_getl(payload, "a", NULL), 1);

    /* with an account: kid, POST-as-GET has an empty payload, Accept is passed on */
    md_acme_set_account(env.acme, TA_ACCT, ta_rsa_key(env.p));
    ck_assert_str_eq(md_acme_account_url(env.acme), TA_ACCT);
    {
        md_acme_req_opts_t opts = { 0, NULL, "application/pem-certificate-chain" };
        ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, &opts, env.result, env.p), APR_SUCCESS);
    }
    prot = fake_http_jws_protected(env.fake, 2, env.p);
    ck_assert_str_eq(md_json_gets(prot, "alg", NULL), "RS256");
    ck_assert_str_eq(md_json_gets(prot, "kid", NULL), TA_ACCT);
    ck_assert_str_eq(md_json_gets(prot, "nonce", NULL), "nonce-2");
    ck_assert_int_eq(md_json_has_key(prot, "jwk", NULL), 0);
    ck_assert_str_eq(md_json_gets(fake_http_jws(env.fake, 2, env.p), "payload", NULL), "");
    ck_assert_ptr_null(fake_http_jws_verify(env.fake, 2, md_acme_account_key(env.acme), env.p));
    ck_assert_str_eq(apr_table_get(fake_http_request(env.fake, 2)->headers, "Accept"),
                     "application/pem-certificate-chain");
    ck_assert_int_eq(fake_http_count_method(env.fake, "HEAD"), 0);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(nonce_pool)
{
    ta_env_t env;
    md_http_response_t *resp = NULL;
    int i;

    ta_env_init(&env, "directory.json");
    md_acme_set_account(env.acme, TA_ACCT, ta_ec_key(env.p));
    for (i = 0; i < 3; ++i) fake_http_expect_json(env.fake, "POST", URL_X, 200, NULL, "{}");
    for (i = 0; i < 3; ++i) {
        ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_SUCCESS);
    }
    /* each POST used the nonce of the answer before it, no HEAD newNonce needed */
    ck_assert_int_eq(fake_http_count_method(env.fake, "HEAD"), 0);
    for (i = 1; i <= 3; ++i) {
        ck_assert_str_eq(md_json_gets(fake_http_jws_protected(env.fake, i, env.p), "nonce", NULL),
                         apr_psprintf(env.p, "nonce-%d", i));
    }
    /* without Replay-Nonce in answers: the pooled one, then one HEAD per POST; no nonce is used twice */
    fake_http_set_nonces(env.fake, 0);
    for (i = 0; i < 3; ++i) fake_http_expect_json(env.fake, "POST", URL_X, 200, NULL, "{}");
    for (i = 0; i < 3; ++i) {
        ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_SUCCESS);
    }
    ck_assert_int_eq(fake_http_count_method(env.fake, "HEAD"), 2);
    ck_assert_str_eq(md_json_gets(fake_http_jws_protected(env.fake, 4, env.p), "nonce", NULL), "nonce-4");
    ck_assert_str_eq(fake_http_request(env.fake, 5)->method, "HEAD");
    ck_assert_str_eq(md_json_gets(fake_http_jws_protected(env.fake, 6, env.p), "nonce", NULL), "nonce-5");
    ck_assert_str_eq(md_json_gets(fake_http_jws_protected(env.fake, 8, env.p), "nonce", NULL), "nonce-6");
    /* an invalid Replay-Nonce is ignored */
    fake_http_expect_json(env.fake, "POST", URL_X, 200, "Replay-Nonce: bad nonce!\n", "{}");
    fake_http_expect_json(env.fake, "POST", URL_X, 200, NULL, "{}");
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_SUCCESS);
    ck_assert_int_eq(fake_http_count_method(env.fake, "HEAD"), 4);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

typedef struct {
    md_acme_t *acme;
    int failures;
} worker_t;

static void *post_worker(void *baton)
{
    worker_t *w = baton;
    apr_pool_t *p = NULL;
    md_http_response_t *resp;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < 5; ++i) {
        if (md_acme_post(&resp, w->acme, URL_X, NULL, NULL, NULL, p) != APR_SUCCESS) w->failures++;
    }
    apr_pool_destroy(p);
    return NULL;
}

START_TEST(nonce_pool_threads)
{
    ta_env_t env;
    pthread_t threads[4];
    worker_t workers[4];
    apr_hash_t *seen;
    const char *nonce;
    int i;

    ta_env_init(&env, "directory.json");
    seen = apr_hash_make(env.p);
    md_acme_set_account(env.acme, TA_ACCT, ta_ec_key(env.p));
    for (i = 0; i < 20; ++i) fake_http_expect_json(env.fake, "POST", URL_X, 200, NULL, "{}");
    for (i = 0; i < 4; ++i) {
        workers[i].acme = env.acme;
        workers[i].failures = 0;
        ck_assert_int_eq(pthread_create(&threads[i], NULL, post_worker, &workers[i]), 0);
    }
    for (i = 0; i < 4; ++i) {
        pthread_join(threads[i], NULL);
        ck_assert_int_eq(workers[i].failures, 0);
    }
    fake_http_verify(env.fake);
    for (i = 0; i < fake_http_count(env.fake); ++i) {
        if (strcmp(fake_http_request(env.fake, i)->method, "POST")) continue;
        nonce = md_json_gets(fake_http_jws_protected(env.fake, i, env.p), "nonce", NULL);
        ck_assert_msg(!apr_hash_get(seen, nonce, APR_HASH_KEY_STRING), "nonce %s used twice", nonce);
        apr_hash_set(seen, nonce, APR_HASH_KEY_STRING, nonce);
    }
    ck_assert_int_eq(apr_hash_count(seen), 20);
    ta_env_done(&env);
}
END_TEST

START_TEST(bad_nonce_retry)
{
    ta_env_t env;
    md_http_response_t *resp = NULL;
    int i;

    ta_env_init(&env, "directory.json");
    md_acme_set_account(env.acme, TA_ACCT, ta_ec_key(env.p));
    fake_http_expect_problem(env.fake, "POST", URL_X, 400, "Replay-Nonce: from-error-1\n", "badNonce", "stale");
    fake_http_expect_problem(env.fake, "POST", URL_X, 400, NULL, "badNonce", "stale again");
    fake_http_expect_json(env.fake, "POST", URL_X, 200, NULL, "{\"ok\": true}");
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 200);
    ck_assert_str_eq(md_json_gets(fake_http_jws_protected(env.fake, 2, env.p), "nonce", NULL), "from-error-1");
    ck_assert_str_eq(md_json_gets(fake_http_jws_protected(env.fake, 3, env.p), "nonce", NULL), "nonce-2");
    fake_http_verify(env.fake);

    /* gives up after MD_ACME_BADNONCE_RETRIES retries */
    md_result_reset(env.result);
    for (i = 0; i <= MD_ACME_BADNONCE_RETRIES; ++i) {
        fake_http_expect_problem(env.fake, "POST", URL_X, 400, NULL, "badNonce",
                                 "JWS has an invalid anti-replay nonce");
    }
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_EAGAIN);
    ck_assert_str_eq(env.result->problem, MD_ACME_PROBLEM_PREFIX "badNonce");
    ta_assert_contains(env.result->detail, apr_psprintf(env.p, "%s rejected the nonce %d times", URL_X,
                                                        MD_ACME_BADNONCE_RETRIES + 1));
    ta_assert_contains(env.result->detail, "invalid anti-replay nonce");
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

/* ---- problems and malformed answers -------------------------------------------------------------- */

START_TEST(problem_status_map)
{
    ck_assert_int_eq(md_acme_problem_status(MD_ACME_PROBLEM_PREFIX "badNonce"), APR_EAGAIN);
    ck_assert_int_eq(md_acme_problem_status("rateLimited"), APR_EAGAIN);
    ck_assert_int_eq(md_acme_problem_status("unauthorized"), APR_EACCES);
    ck_assert_int_eq(md_acme_problem_status(MD_ACME_PROBLEM_PREFIX "userActionRequired"), APR_EACCES);
    ck_assert_int_eq(md_acme_problem_status(MD_ACME_PROBLEM_PREFIX "accountDoesNotExist"), APR_ENOENT);
    ck_assert_int_eq(md_acme_problem_status("badCSR"), APR_EINVAL);
    ck_assert_int_eq(md_acme_problem_status(MD_ACME_PROBLEM_PREFIX "invalidProfile"), APR_EINVAL);
    ck_assert_int_eq(md_acme_problem_status(MD_ACME_PROBLEM_PREFIX "serverInternal"), APR_EGENERAL);
    ck_assert_int_eq(md_acme_problem_status("about:blank"), APR_EGENERAL);
    ck_assert_int_eq(md_acme_problem_status(NULL), APR_EGENERAL);
}
END_TEST

START_TEST(rate_limited)
{
    ta_env_t env;
    md_http_response_t *resp = NULL;
    apr_time_t now = apr_time_now(), when;

    ta_env_init(&env, "directory.json");
    md_acme_set_account(env.acme, TA_ACCT, ta_ec_key(env.p));
    fake_http_expect_problem(env.fake, "POST", URL_X, 429, "Retry-After: 30\n", "rateLimited",
                             "too many new orders recently");
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_EAGAIN);
    ck_assert_str_eq(env.result->problem, MD_ACME_PROBLEM_PREFIX "rateLimited");
    ck_assert_str_eq(env.result->detail, "too many new orders recently");
    ck_assert(env.result->ready_at >= now + apr_time_from_sec(29));
    ck_assert(env.result->ready_at <= apr_time_now() + apr_time_from_sec(31));

    /* a date (within MD_HTTP_RETRY_AFTER_MAX: later ones are cut to it) */
    when = apr_time_from_sec(apr_time_sec(now) + 86400);
    fake_http_expect(env.fake, "POST", URL_X, 503, apr_pstrcat(env.p, "Retry-After: ", md_time_print_http(when, env.p),
                     "\nContent-Type: text/html\n", NULL), "<html><body>down for maintenance</body></html>");
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_EAGAIN);
    ck_assert_int_eq(apr_time_sec(env.result->ready_at), apr_time_sec(when));
    ck_assert_ptr_null(env.result->problem);
    ta_assert_contains(env.result->detail, "HTTP 503 from " URL_X);
    ta_assert_contains(env.result->detail, "down for maintenance");
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(problem_subproblems)
{
    ta_env_t env;
    md_json_t *json = NULL, *sub;

    ta_env_init(&env, "directory.json");
    md_acme_set_account(env.acme, TA_ACCT, ta_ec_key(env.p));
    fake_http_expect(env.fake, "POST", URL_X, 400, "Content-Type: application/problem+json\n",
                     fake_http_data("problem-subproblems.json", env.p));
    ck_assert_int_eq(md_acme_post_json(&json, NULL, env.acme, URL_X, NULL, NULL, env.result, env.p),
                     APR_EINVAL);
    ck_assert_ptr_null(json);
    ck_assert_str_eq(env.result->problem, MD_ACME_PROBLEM_PREFIX "malformed");
    ck_assert_str_eq(env.result->detail, "Some of the identifiers requested were rejected");
    ck_assert_int_eq(env.result->ready_at, 0);
    ck_assert_uint_eq(md_json_count(env.result->subproblems, NULL), 2);
    sub = md_json_at(env.result->subproblems, 1, NULL);
    ck_assert_str_eq(md_json_gets(sub, "type", NULL), MD_ACME_PROBLEM_PREFIX "rejectedIdentifier");
    ck_assert_str_eq(md_json_gets(sub, "identifier", "value", NULL), "example.net");
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

/* POST and expect JSON from an answer that must fail with rv; returns the result text. */
static const char *post_fails(ta_env_t *env, int status, const char *headers, const char *body,
                              apr_status_t rv)
{
    md_json_t *json = NULL;

    md_result_reset(env->result);
    fake_http_expect(env->fake, "POST", URL_X, status, headers, body);
    ck_assert_int_eq(md_acme_post_json(&json, NULL, env->acme, URL_X, NULL, NULL, env->result, env->p), rv);
    ck_assert_ptr_null(json);
    ck_assert_int_eq(env->result->status, rv);
    return md_result_text(env->result, env->p);
}

START_TEST(malformed_answers)
{
    ta_env_t env;
    const char *json = "Content-Type: application/json\n", *text;

    ta_env_init(&env, "directory.json");
    md_acme_set_account(env.acme, TA_ACCT, ta_ec_key(env.p));
    text = post_fails(&env, 200, json, "{\"status\": \"val", APR_EINVAL);
    ta_assert_contains(text, "the response from " URL_X);
    text = post_fails(&env, 200, json, "", APR_EINVAL);
    ta_assert_contains(text, URL_X);
    text = post_fails(&env, 200, "Content-Type: text/html\n", "<html>{}</html>", APR_EINVAL);
    ta_assert_contains(text, URL_X " answered HTTP 200 with Content-Type 'text/html' instead of JSON");
    text = post_fails(&env, 200, NULL, "{}", APR_EINVAL);
    ta_assert_contains(text, "no Content-Type");
    text = post_fails(&env, 500, "Content-Type: text/html\n",
                      "<html>\n<body>Internal\tServer Error</body></html>", APR_EGENERAL);
    ck_assert_str_eq(text, "HTTP 500 from " URL_X ": '<html> <body>Internal Server Error</body></html>'");
    text = post_fails(&env, 400, "Content-Type: application/problem+json\n", "{\"type\": \"urn:ietf:par",
                      APR_EINVAL);
    ta_assert_contains(text, "HTTP 400 from " URL_X " with an unreadable problem document");
    /* a 200 that carries an error */
    text = post_fails(&env, 200, json, "{\"type\": \"" MD_ACME_PROBLEM_PREFIX "serverInternal\", "
                      "\"detail\": \"oops\"}", APR_EGENERAL);
    ta_assert_contains(text, URL_X " answered HTTP 200 with an error: oops");
    ck_assert_str_eq(env.result->problem, MD_ACME_PROBLEM_PREFIX "serverInternal");
    /* also with the type spelled in \u escapes (a body is parsed for a problem only when it may hold one) */
    text = post_fails(&env, 200, json, "{\"type\": \"urn\\u003aietf\\u003aparams\\u003aacme\\u003aerror"
                      "\\u003aserverInternal\", \"detail\": \"oops\"}", APR_EGENERAL);
    ta_assert_contains(text, URL_X " answered HTTP 200 with an error: oops");
    ck_assert_str_eq(env.result->problem, MD_ACME_PROBLEM_PREFIX "serverInternal");
    /* a problem document without the problem media type is still one */
    text = post_fails(&env, 403, json, "{\"type\": \"" MD_ACME_PROBLEM_PREFIX "unauthorized\", "
                      "\"detail\": \"no\"}", APR_EACCES);
    ck_assert_str_eq(text, "no (" MD_ACME_PROBLEM_PREFIX "unauthorized)");
    /* a problem without detail names the URL */
    text = post_fails(&env, 404, "Content-Type: application/problem+json\n",
                      "{\"type\": \"" MD_ACME_PROBLEM_PREFIX "malformed\"}", APR_EINVAL);
    ta_assert_contains(text, "HTTP 404 from " URL_X);
    /* a very long body is cut */
    text = post_fails(&env, 502, NULL, apr_pstrcat(env.p, "x", apr_psprintf(env.p, "%0500d", 7), NULL),
                      APR_EGENERAL);
    ta_assert_contains(text, "...'");
    ck_assert_uint_lt(strlen(text), 260);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(transport_errors)
{
    ta_env_t env;
    md_http_response_t *resp = NULL;
    md_json_t *json = NULL;

    ta_env_init(&env, "directory.json");
    md_acme_set_account(env.acme, TA_ACCT, ta_ec_key(env.p));
    fake_http_expect_error(env.fake, "POST", URL_X, APR_TIMEUP, "timeout talking to ca.test");
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_TIMEUP);
    ck_assert_str_eq(env.result->detail, "timeout talking to ca.test");
    /* no key at all */
    md_acme_set_account(env.acme, NULL, NULL);
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_EINVAL);
    ta_assert_contains(env.result->detail, "no key to sign the request to " URL_X);
    /* newNonce without a nonce */
    fake_http_auto_nonce(env.fake, NULL);
    fake_http_set_nonces(env.fake, 0);
    md_acme_set_account(env.acme, TA_ACCT, ta_ec_key(env.p));
    fake_http_expect(env.fake, "HEAD", TA_NONCE, 200, NULL, NULL);
    ck_assert_int_eq(md_acme_post(&resp, env.acme, URL_X, NULL, NULL, env.result, env.p), APR_EGENERAL);
    ck_assert_str_eq(env.result->detail, "newNonce " TA_NONCE " answered HTTP 200 without a Replay-Nonce");
    /* unsigned GET of JSON */
    fake_http_expect_json(env.fake, "GET", URL_X, 200, NULL, "{\"a\": \"b\"}");
    ck_assert_int_eq(md_acme_get_json(&json, &resp, env.acme, URL_X, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(json, "a", NULL), "b");
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

Suite *md_test_acme_suite(void)
{
    Suite *s = suite_create("acme");
    TCase *tc = tcase_create("client");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ca_names);
    tcase_add_test(tc, directory_parse);
    tcase_add_test(tc, directory_errors);
    tcase_add_test(tc, fake_reports_unexpected);
    tcase_add_test(tc, post_protected_header);
    tcase_add_test(tc, nonce_pool);
    tcase_add_test(tc, nonce_pool_threads);
    tcase_add_test(tc, bad_nonce_retry);
    tcase_add_test(tc, problem_status_map);
    tcase_add_test(tc, rate_limited);
    tcase_add_test(tc, problem_subproblems);
    tcase_add_test(tc, malformed_answers);
    tcase_add_test(tc, transport_errors);
    suite_add_tcase(s, tc);
    return s;
}
