/* Unit tests of ACME accounts: register (EAB, ToS), find, contacts, key change, deactivate, EAB files, storage. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_encode.h"
#include "md_file.h"
#include "md_jws.h"
#include "md_result.h"
#include "md_store.h"
#include "test_common.h"
#include "test_acme.h"

#define LOCATION "Location: " TA_ACCT "\n"
#define HMAC_TEXT "an HMAC key of 32 bytes, really."

static apr_array_header_t *strings(apr_pool_t *p, const char *s1, const char *s2)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));

    if (s1) APR_ARRAY_PUSH(a, const char *) = s1;
    if (s2) APR_ARRAY_PUSH(a, const char *) = s2;
    return a;
}

static const char *str_at(const apr_array_header_t *a, int i)
{
    ck_assert_int_gt(a->nelts, i);
    return APR_ARRAY_IDX(a, i, const char *);
}

static md_json_t *jwk_of(const md_pkey_t *key, apr_pool_t *p)
{
    md_json_t *jwk = NULL;

    ck_assert_int_eq(md_jwk_get(&jwk, key, p), APR_SUCCESS);
    return jwk;
}

/* An account at TA_DIR with TA_ACCT set on acme for key. */
static md_acme_acct_t *acct_at_ca(ta_env_t *env, md_pkey_t *key)
{
    md_acme_acct_t *acct = apr_pcalloc(env->p, sizeof(*acct));

    acct->url = TA_ACCT;
    acct->ca_url = TA_DIR;
    acct->status = "valid";
    md_acme_set_account(env->acme, TA_ACCT, key);
    return acct;
}

/* ---- register, find ------------------------------------------------------------------------------ */

START_TEST(register_new)
{
    ta_env_t env;
    md_pkey_t *key;
    md_acme_acct_t *acct = NULL;
    md_json_t *prot, *payload;

    ta_env_init(&env, "directory.json");
    key = ta_ec_key(env.p);
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 201, LOCATION, fake_http_data("account.json", env.p));
    ck_assert_msg(md_acme_acct_register(&acct, env.acme, key, strings(env.p, "admin@example.org",
                                        "mailto:ops@example.org"), 1, NULL, env.result, env.p) == APR_SUCCESS,
                  "%s", md_result_text(env.result, env.p));
    ck_assert_str_eq(acct->url, TA_ACCT);
    ck_assert_str_eq(acct->ca_url, TA_DIR);
    ck_assert_str_eq(acct->status, "valid");
    ck_assert_str_eq(str_at(acct->contacts, 0), "mailto:admin@example.org");
    ck_assert_str_eq(acct->orders, "https://ca.test/list-orderz/1");
    ck_assert_str_eq(acct->agreement, "https://ca.test/terms.pdf");
    ck_assert_ptr_null(acct->eab_kid);
    ck_assert_str_eq(md_json_gets(acct->registration, "key", "kty", NULL), "EC");
    ck_assert_str_eq(md_acme_account_url(env.acme), TA_ACCT);
    ck_assert_ptr_eq(md_acme_account_key(env.acme), key);

    prot = fake_http_jws_protected(env.fake, 1, env.p);
    ck_assert(md_json_equal(md_json_getj(prot, "jwk", NULL), jwk_of(key, env.p)));
    ck_assert_int_eq(md_json_has_key(prot, "kid", NULL), 0);
    ck_assert_str_eq(md_json_gets(prot, "url", NULL), TA_NEW_ACCT);
    ck_assert_ptr_nonnull(md_json_gets(prot, "nonce", NULL));
    payload = fake_http_jws_verify(env.fake, 1, key, env.p);
    ck_assert_str_eq(md_json_writep(md_json_getj(payload, "contact", NULL), MD_JSON_FMT_COMPACT, env.p),
                     "[\"mailto:admin@example.org\",\"mailto:ops@example.org\"]");
    ck_assert_int_eq(md_json_getb(payload, "termsOfServiceAgreed", NULL), 1);
    ck_assert_int_eq(md_json_has_key(payload, "externalAccountBinding", NULL), 0);
    ck_assert_int_eq(md_json_has_key(payload, "onlyReturnExisting", NULL), 0);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(register_existing)
{
    ta_env_t env;
    md_pkey_t *key;
    md_acme_acct_t *acct = NULL;

    ta_env_init(&env, "directory.json");
    key = ta_rsa_key(env.p);
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 200, LOCATION, fake_http_data("account.json", env.p));
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(acct->url, TA_ACCT);
    ck_assert_str_eq(md_json_gets(fake_http_jws_protected(env.fake, 1, env.p), "alg", NULL), "RS256");
    ck_assert_int_eq(md_json_has_key(fake_http_jws_verify(env.fake, 1, key, env.p), "contact", NULL), 0);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(register_eab)
{
    ta_env_t env;
    md_pkey_t *key;
    md_acme_acct_t *acct = NULL;
    md_acme_eab_t *eab = NULL, *wrong = NULL;
    md_json_t *payload, *binding, *prot;
    md_data_t *out = NULL;

    ta_env_init(&env, "directory-eab.json");
    key = ta_ec_key(env.p);
    ck_assert_int_eq(md_acme_eab_make(&eab, "kid-1", md_b64url_encode(HMAC_TEXT, 32, env.p), env.result, env.p),
                     APR_SUCCESS);
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 201, LOCATION, fake_http_data("account.json", env.p));
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, strings(env.p, "a@example.org", NULL), 1, eab,
                                           env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(acct->eab_kid, "kid-1");
    payload = fake_http_jws_verify(env.fake, 1, key, env.p);
    binding = md_json_getj(payload, "externalAccountBinding", NULL);
    ck_assert_ptr_nonnull(binding);
    prot = fake_http_msg_protected(binding, env.p);
    ck_assert_str_eq(md_json_gets(prot, "alg", NULL), "HS256");
    ck_assert_str_eq(md_json_gets(prot, "kid", NULL), "kid-1");
    ck_assert_str_eq(md_json_gets(prot, "url", NULL), TA_NEW_ACCT);
    ck_assert_int_eq(md_json_has_key(prot, "nonce", NULL), 0);
    /* the HMAC over the account's JWK verifies with the key, not with another */
    ck_assert(md_json_equal(fake_http_msg_verify(binding, NULL, eab->hmac, env.p), jwk_of(key, env.p)));
    ck_assert_int_eq(md_acme_eab_make(&wrong, "kid-1", md_b64url_encode("another key", 11, env.p), NULL, env.p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_jws_verify(&out, binding, NULL, wrong->hmac, env.p), APR_EINVAL);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(register_refused_before_asking)
{
    ta_env_t env;
    md_acme_acct_t *acct = NULL;

    ta_env_init(&env, "directory.json");
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, ta_ec_key(env.p), NULL, 0, NULL, env.result, env.p),
                     APR_EACCES);
    ck_assert_ptr_null(acct);
    ta_assert_contains(env.result->detail, "requires agreement to its terms of service https://ca.test/terms.pdf");
    /* the core names no front-end's directive or option: it names the hint, the front-end words it */
    ck_assert_ptr_null(strstr(env.result->detail, "MDCertificateAgreement"));
    ck_assert_ptr_null(strstr(env.result->detail, "--"));
    ck_assert_int_eq(env.result->hint, MD_HINT_TERMS);
    ck_assert_int_eq(fake_http_count(env.fake), 1);
    ta_env_done(&env);

    ta_env_init(&env, "directory-eab.json");
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, ta_ec_key(env.p), NULL, 1, NULL, env.result, env.p),
                     APR_EINVAL);
    ta_assert_contains(env.result->detail, "the CA at " TA_DIR " requires an External Account Binding");
    /* the CA's own problem type, as mod_md shows it after asking */
    ck_assert_str_eq(env.result->problem, "urn:ietf:params:acme:error:externalAccountRequired");
    ck_assert_ptr_null(strstr(env.result->detail, "MDExternalAccountBinding"));
    ck_assert_int_eq(env.result->hint, MD_HINT_EAB);
    ck_assert_int_eq(fake_http_count(env.fake), 1);
    ta_env_done(&env);
}
END_TEST

/* issue 15: an account URL (Location) on another host than the CA was stored and used: now refused. */
START_TEST(register_account_url_elsewhere)
{
    ta_env_t env;
    md_acme_acct_t *acct = NULL;
    md_pkey_t *key;

    ta_env_init(&env, "directory.json");
    key = ta_ec_key(env.p);
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 201, "Location: https://evil.test/my-account/1\n",
                          fake_http_data("account.json", env.p));
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_EINVAL);
    ck_assert_str_eq(env.result->detail, "the CA at " TA_DIR " gave the account URL https://evil.test/my-account/1, "
                     "which is not on its origin https://ca.test:443: refused");
    ck_assert_ptr_null(acct);
    ck_assert_ptr_null(md_acme_account_url(env.acme));
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 201, "Location: ftp://ca.test/my-account/1\n",
                          fake_http_data("account.json", env.p));
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_EINVAL);
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 201, "Location: https://ca.test:444/my-account/1\n",
                          fake_http_data("account.json", env.p));
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_EINVAL);
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 201, LOCATION, fake_http_data("account.json", env.p));
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(acct->url, TA_ACCT);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(register_bad_answers)
{
    ta_env_t env;
    md_acme_acct_t *acct = NULL;
    md_pkey_t *key;

    ta_env_init(&env, "directory.json");
    key = ta_ec_key(env.p);
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 201, NULL, fake_http_data("account.json", env.p));
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_EINVAL);
    ck_assert_str_eq(env.result->detail, "newAccount " TA_NEW_ACCT " answered HTTP 201 without a Location "
                     "header (the account URL)");
    ck_assert_ptr_null(md_acme_account_url(env.acme));

    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 200, LOCATION, "[\"valid\"]");
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_EINVAL);
    ta_assert_contains(env.result->detail, "not an account object");

    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 200, LOCATION, "{\"status\": \"deactivated\"}");
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_EACCES);
    ck_assert_str_eq(env.result->detail, "the account " TA_ACCT " at " TA_DIR " is deactivated");

    fake_http_expect_problem(env.fake, "POST", TA_NEW_ACCT, 401, NULL, "unauthorized", "account deactivated");
    ck_assert_int_eq(md_acme_acct_register(&acct, env.acme, key, NULL, 1, NULL, env.result, env.p), APR_EACCES);
    ck_assert_str_eq(env.result->problem, MD_ACME_PROBLEM_PREFIX "unauthorized");
    ck_assert_ptr_null(acct);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(find_by_key)
{
    ta_env_t env;
    md_acme_acct_t *acct = NULL;
    md_json_t *payload, *prot;
    md_pkey_t *key;

    ta_env_init(&env, "directory.json");
    key = ta_ec_key(env.p);
    fake_http_expect_json(env.fake, "POST", TA_NEW_ACCT, 200, LOCATION, fake_http_data("account.json", env.p));
    ck_assert_int_eq(md_acme_acct_find(&acct, env.acme, key, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(acct->url, TA_ACCT);
    ck_assert_str_eq(md_acme_account_url(env.acme), TA_ACCT);
    prot = fake_http_jws_protected(env.fake, 1, env.p);
    ck_assert_int_eq(md_json_has_key(prot, "jwk", NULL), 1);
    payload = fake_http_jws_verify(env.fake, 1, key, env.p);
    ck_assert_str_eq(md_json_writep(payload, MD_JSON_FMT_COMPACT, env.p), "{\"onlyReturnExisting\":true}");

    md_acme_set_account(env.acme, NULL, NULL);
    fake_http_expect_problem(env.fake, "POST", TA_NEW_ACCT, 400, NULL, "accountDoesNotExist",
                             "No existing account for signer");
    ck_assert_int_eq(md_acme_acct_find(&acct, env.acme, key, env.result, env.p), APR_ENOENT);
    ck_assert_ptr_null(acct);
    ck_assert_ptr_null(md_acme_account_url(env.acme));
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

/* ---- requests on the account --------------------------------------------------------------------- */

START_TEST(contacts_and_refresh)
{
    ta_env_t env;
    md_acme_acct_t *acct;
    md_pkey_t *key;
    md_json_t *payload, *prot;

    ta_env_init(&env, "directory.json");
    key = ta_ec_key(env.p);
    acct = acct_at_ca(&env, key);
    fake_http_expect_json(env.fake, "POST", TA_ACCT, 200, NULL,
                          "{\"status\": \"valid\", \"contact\": [\"mailto:new@example.org\"]}");
    ck_assert_int_eq(md_acme_acct_update_contacts(acct, env.acme, strings(env.p, "new@example.org", NULL),
                                                  env.result, env.p), APR_SUCCESS);
    ck_assert_int_eq(acct->contacts->nelts, 1);
    ck_assert_str_eq(str_at(acct->contacts, 0), "mailto:new@example.org");
    prot = fake_http_jws_protected(env.fake, 1, env.p);
    ck_assert_str_eq(md_json_gets(prot, "kid", NULL), TA_ACCT);
    ck_assert_str_eq(md_json_gets(prot, "url", NULL), TA_ACCT);
    payload = fake_http_jws_verify(env.fake, 1, key, env.p);
    ck_assert_str_eq(md_json_writep(payload, MD_JSON_FMT_COMPACT, env.p), "{\"contact\":[\"mailto:new@example.org\"]}");

    fake_http_expect_json(env.fake, "POST", TA_ACCT, 200, NULL, "{\"status\": \"revoked\", \"contact\": []}");
    ck_assert_int_eq(md_acme_acct_refresh(acct, env.acme, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(acct->status, "revoked");
    ck_assert_int_eq(acct->contacts->nelts, 0);
    ck_assert_ptr_null(fake_http_jws_verify(env.fake, 2, key, env.p));

    /* not set up for this account */
    acct->url = "https://ca.test/my-account/other";
    ck_assert_int_eq(md_acme_acct_refresh(acct, env.acme, env.result, env.p), APR_EINVAL);
    ta_assert_contains(env.result->detail, "not set up to sign for the account https://ca.test/my-account/other");
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(key_change)
{
    ta_env_t env;
    md_acme_acct_t *acct;
    md_pkey_t *old_key, *new_key;
    md_json_t *outer_prot, *inner, *inner_prot, *inner_payload;

    ta_env_init(&env, "directory.json");
    old_key = ta_ec_key(env.p);
    new_key = ta_rsa_key(env.p);
    acct = acct_at_ca(&env, old_key);
    acct->registration = md_json_create(env.p);
    fake_http_expect_json(env.fake, "POST", TA_KEY_CHANGE, 200, NULL, "{\"status\": \"valid\"}");
    ck_assert_msg(md_acme_acct_key_change(acct, env.acme, new_key, env.result, env.p) == APR_SUCCESS, "%s",
                  md_result_text(env.result, env.p));
    /* outer: the old key with kid */
    outer_prot = fake_http_jws_protected(env.fake, 1, env.p);
    ck_assert_str_eq(md_json_gets(outer_prot, "alg", NULL), "ES256");
    ck_assert_str_eq(md_json_gets(outer_prot, "kid", NULL), TA_ACCT);
    ck_assert_str_eq(md_json_gets(outer_prot, "url", NULL), TA_KEY_CHANGE);
    ck_assert_ptr_nonnull(md_json_gets(outer_prot, "nonce", NULL));
    inner = fake_http_jws_verify(env.fake, 1, old_key, env.p);
    /* inner: the new key with its jwk, the same url, no nonce */
    inner_prot = fake_http_msg_protected(inner, env.p);
    ck_assert_str_eq(md_json_gets(inner_prot, "alg", NULL), "RS256");
    ck_assert(md_json_equal(md_json_getj(inner_prot, "jwk", NULL), jwk_of(new_key, env.p)));
    ck_assert_str_eq(md_json_gets(inner_prot, "url", NULL), TA_KEY_CHANGE);
    ck_assert_int_eq(md_json_has_key(inner_prot, "nonce", NULL), 0);
    ck_assert_int_eq(md_json_has_key(inner_prot, "kid", NULL), 0);
    inner_payload = fake_http_msg_verify(inner, new_key, NULL, env.p);
    ck_assert_str_eq(md_json_gets(inner_payload, "account", NULL), TA_ACCT);
    ck_assert(md_json_equal(md_json_getj(inner_payload, "oldKey", NULL), jwk_of(old_key, env.p)));
    /* from now on the new key signs */
    ck_assert_ptr_eq(md_acme_account_key(env.acme), new_key);
    ck_assert(md_json_equal(md_json_getj(acct->registration, "key", NULL), jwk_of(new_key, env.p)));

    /* a refused change keeps the key */
    fake_http_expect_problem(env.fake, "POST", TA_KEY_CHANGE, 409, NULL, "conflict", "key in use");
    ck_assert_int_ne(md_acme_acct_key_change(acct, env.acme, old_key, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(env.result->detail, "key in use");
    ck_assert_ptr_eq(md_acme_account_key(env.acme), new_key);
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

START_TEST(deactivate)
{
    ta_env_t env;
    md_acme_acct_t *acct;
    md_pkey_t *key;

    ta_env_init(&env, "directory.json");
    key = ta_ec_key(env.p);
    acct = acct_at_ca(&env, key);
    fake_http_expect_json(env.fake, "POST", TA_ACCT, 200, NULL, "{\"status\": \"deactivated\"}");
    ck_assert_int_eq(md_acme_acct_deactivate(acct, env.acme, env.result, env.p), APR_SUCCESS);
    ck_assert_str_eq(acct->status, "deactivated");
    ck_assert_str_eq(md_json_writep(fake_http_jws_verify(env.fake, 1, key, env.p), MD_JSON_FMT_COMPACT, env.p),
                     "{\"status\":\"deactivated\"}");
    fake_http_verify(env.fake);
    ta_env_done(&env);
}
END_TEST

/* ---- EAB credentials ----------------------------------------------------------------------------- */

static const char *eab_file_fails(const char *dir, const char *name, const char *content, apr_pool_t *p)
{
    const char *path = md_file_join(p, dir, name, NULL);
    md_result_t *result = md_result_make(p);
    md_acme_eab_t *eab = NULL;

    if (content) ck_assert_int_eq(md_file_write_atomic(path, content, strlen(content), 0600, p), APR_SUCCESS);
    ck_assert_int_ne(md_acme_eab_load(&eab, path, result, p), APR_SUCCESS);
    ck_assert_ptr_null(eab);
    ta_assert_contains(result->detail, path);
    return result->detail;
}

START_TEST(eab_credentials)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p), *path = md_file_join(p, dir, "eab.json", NULL), *good;
    md_acme_eab_t *eab = NULL;

    ck_assert_int_eq(md_acme_eab_make(&eab, "kid-1", "c2VjcmV0LWtleQ", result, p), APR_SUCCESS);
    ck_assert_uint_eq(eab->hmac->len, 10);
    ck_assert(!memcmp(eab->hmac->data, "secret-key", 10));
    ck_assert_int_eq(md_acme_eab_make(&eab, "kid-1", "c2VjcmV0LWtleQ==", result, p), APR_SUCCESS);
    ck_assert_uint_eq(eab->hmac->len, 10);
    ck_assert_int_eq(md_acme_eab_make(&eab, NULL, "c2VjcmV0", result, p), APR_EINVAL);
    ck_assert_str_eq(result->detail, "EAB: the key id (kid) is missing");
    ck_assert_int_eq(md_acme_eab_make(&eab, "kid-1", "", result, p), APR_EINVAL);
    ck_assert_str_eq(result->detail, "EAB: the HMAC key (hmac) for kid 'kid-1' is missing");
    ck_assert_int_eq(md_acme_eab_make(&eab, "kid-1", "not*base64", result, p), APR_EINVAL);
    ck_assert_str_eq(result->detail, "EAB: the HMAC key for kid 'kid-1' is not valid base64url");
    ck_assert_str_eq(result->problem, "apache:eab-hmac-invalid");          /* mod_md's problem type for it */

    good = "{\"kid\": \"kid-7\", \"hmac\": \"c2VjcmV0LWtleQ\"}";
    ck_assert_int_eq(md_file_write_atomic(path, good, strlen(good), 0600, p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_eab_load(&eab, path, result, p), APR_SUCCESS);
    ck_assert_str_eq(eab->kid, "kid-7");
    ck_assert_uint_eq(eab->hmac->len, 10);

    /* mod_md's words for a file that cannot be used */
    ta_assert_contains(eab_file_fails(dir, "missing.json", NULL, p), "file not found: ");
    ta_assert_contains(eab_file_fails(dir, "bad.json", "{\"kid\": \"k\",", p), "error reading JSON file ");
    ta_assert_contains(eab_file_fails(dir, "nokid.json", "{\"hmac\": \"c2VjcmV0\"}", p),
                       "JSON does not contain 'kid' element in file ");
    ta_assert_contains(eab_file_fails(dir, "nohmac.json", "{\"kid\": \"k\"}", p),
                       "JSON does not contain 'hmac' element in file ");
    ta_assert_contains(eab_file_fails(dir, ".", NULL, p), "file not found: ");
    ta_assert_contains(eab_file_fails(dir, "badhmac.json", "{\"kid\": \"k\", \"hmac\": \"%%%\"}", p),
                       "not valid base64url");
    ta_assert_contains(eab_file_fails(dir, "array.json", "[]", p), "does not contain 'kid'");
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* MDExternalAccountBinding FILE takes kid and hmac as written: an HMAC that is no base64url is kept, as mod_md does
 * (the renewal fails with it, not the configuration). */
START_TEST(eab_read_keeps_the_hmac_as_written)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p), *path = md_file_join(p, dir, "eab.json", NULL), *kid, *hmac;
    const char *json = "{\"kid\": \"kid-1\", \"hmac\": \"not*base64\"}";

    ck_assert_int_eq(md_file_write_atomic(path, json, strlen(json), 0600, p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_eab_read(&kid, &hmac, path, result, p), APR_SUCCESS);
    ck_assert_str_eq(kid, "kid-1");
    ck_assert_str_eq(hmac, "not*base64");
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* ---- storage ------------------------------------------------------------------------------------- */

static md_store_t *store_open(const char *dir, apr_pool_t *p)
{
    md_store_t *store = NULL;
    md_result_t *result = md_result_make(p);

    ck_assert_msg(md_store_fs_open(&store, dir, result, p) == APR_SUCCESS, "%s", md_result_text(result, p));
    return store;
}

static md_acme_acct_t *acct_make(const char *ca_url, const char *eab_kid, apr_pool_t *p)
{
    md_acme_acct_t *acct = apr_pcalloc(p, sizeof(*acct));

    acct->url = apr_pstrcat(p, ca_url, "/acct/", eab_kid ? eab_kid : "x", NULL);
    acct->ca_url = ca_url;
    acct->status = "valid";
    acct->contacts = strings(p, "mailto:admin@example.org", NULL);
    acct->agreement = "accepted";
    acct->eab_kid = eab_kid;
    acct->orders = "https://ca.test/orders/1";
    acct->registration = md_json_create(p);
    md_json_sets("valid", acct->registration, "status", NULL);
    return acct;
}

START_TEST(store_round_trip)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p), *fname = NULL;
    md_store_t *store = store_open(dir, p);
    md_acme_acct_t *acct = acct_make("https://ca.test:8443/dir", "kid-1", p), *loaded = NULL, *second;
    md_pkey_t *key = ta_ec_key(p), *lkey = NULL;
    md_json_t *json = NULL;
    char *pem = NULL;
    apr_size_t len;

    ck_assert_int_eq(md_acme_acct_save(acct, key, store, result, p), APR_SUCCESS);
    ck_assert_str_eq(acct->id, "ACME-ca.test-0000");
    ck_assert_int_eq(md_store_get_fname(&fname, store, MD_SG_ACCOUNTS, acct->id, "account.json", p), APR_SUCCESS);
    ck_assert_int_eq(md_json_readf(&json, fname, NULL, p), APR_SUCCESS);
    ck_assert_str_eq(md_json_write_sorted(json, p),
                     "{\"agreement\":\"accepted\",\"ca-url\":\"https://ca.test:8443/dir\","
                     "\"contact\":[\"mailto:admin@example.org\"],\"eab\":{\"kid\":\"kid-1\"},"
                     "\"orders\":\"https://ca.test/orders/1\",\"registration\":{\"status\":\"valid\"},"
                     "\"status\":\"valid\",\"url\":\"https://ca.test:8443/dir/acct/kid-1\"}");
    ck_assert_int_eq(md_store_get_fname(&fname, store, MD_SG_ACCOUNTS, acct->id, "account.pem", p), APR_SUCCESS);
    ck_assert_int_eq(md_file_read(&pem, &len, fname, p), APR_SUCCESS);
    ta_assert_contains(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----");

    ck_assert_int_eq(md_acme_acct_load(&loaded, &lkey, store, "ACME-ca.test-0000", result, p), APR_SUCCESS);
    ck_assert_str_eq(loaded->id, "ACME-ca.test-0000");
    ck_assert_str_eq(loaded->url, acct->url);
    ck_assert_str_eq(loaded->ca_url, acct->ca_url);
    ck_assert_str_eq(loaded->eab_kid, "kid-1");
    ck_assert_str_eq(loaded->agreement, "accepted");
    ck_assert_str_eq(str_at(loaded->contacts, 0), "mailto:admin@example.org");
    ck_assert_str_eq(md_pkey_public_pem(lkey, p), md_pkey_public_pem(key, p));

    second = acct_make("https://ca.test/dir", NULL, p);
    ck_assert_int_eq(md_acme_acct_save(second, key, store, result, p), APR_SUCCESS);
    ck_assert_str_eq(second->id, "ACME-ca.test-0001");
    /* an update keeps its id and key; a new account needs a key */
    loaded->status = "deactivated";
    ck_assert_int_eq(md_acme_acct_save(loaded, NULL, store, result, p), APR_SUCCESS);
    ck_assert_str_eq(loaded->id, "ACME-ca.test-0000");
    ck_assert_int_eq(md_acme_acct_load(&loaded, &lkey, store, "ACME-ca.test-0000", result, p), APR_SUCCESS);
    ck_assert_str_eq(loaded->status, "deactivated");
    ck_assert_int_eq(md_acme_acct_save(acct_make("https://ca.test/dir", NULL, p), NULL, store, result, p),
                     APR_EINVAL);
    ck_assert_int_eq(md_acme_acct_load(&loaded, NULL, store, "ACME-none-0000", result, p), APR_ENOENT);
    ck_assert_int_eq(md_acme_acct_from_json(&loaded, md_json_create(p), p), APR_EINVAL);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(store_find)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p), *id = NULL;
    md_store_t *store = store_open(dir, p);
    md_pkey_t *key = ta_ec_key(p);
    md_acme_acct_t *plain = acct_make("https://ca.test/dir", NULL, p);
    md_acme_acct_t *bound = acct_make("https://ca.test/dir", "kid-1", p);
    md_acme_acct_t *other = acct_make("https://[::1]:14000/dir", NULL, p);

    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://ca.test/dir", NULL, p), APR_ENOENT);
    ck_assert_int_eq(md_acme_acct_save(bound, key, store, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_acct_save(plain, key, store, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_acct_save(other, key, store, result, p), APR_SUCCESS);
    ck_assert_str_eq(other->id, "ACME-::1-0000");
    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://ca.test/dir", NULL, p), APR_SUCCESS);
    ck_assert_str_eq(id, "ACME-ca.test-0001");
    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://ca.test/dir", "kid-1", p), APR_SUCCESS);
    ck_assert_str_eq(id, "ACME-ca.test-0000");
    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://ca.test/dir", "kid-2", p), APR_ENOENT);
    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://[::1]:14000/dir", NULL, p), APR_SUCCESS);
    ck_assert_str_eq(id, "ACME-::1-0000");
    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://other.test/dir", NULL, p), APR_ENOENT);
    /* neither deactivated accounts nor ones without their key */
    plain->status = "deactivated";
    ck_assert_int_eq(md_acme_acct_save(plain, NULL, store, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://ca.test/dir", NULL, p), APR_ENOENT);
    ck_assert_int_eq(md_store_remove(store, MD_SG_ACCOUNTS, bound->id, "account.pem", 0, p), APR_SUCCESS);
    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://ca.test/dir", "kid-1", p), APR_ENOENT);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

static void copy_file(const char *from, const char *to, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len = 0;

    ck_assert_int_eq(md_file_read(&data, &len, from, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_write_atomic(to, data, len, 0600, p), APR_SUCCESS);
}

START_TEST(store_mod_md_account)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *fixture = md_test_data("store/mod_md-2.6.10", p), *dir = md_test_mkdtemp(p), *id = NULL;
    const char *acct_dir = md_file_join(p, dir, "accounts", "ACME-127.0.0.1-0000", NULL);
    const char *staged = md_file_join(p, fixture, "staging", "test.example.org", NULL);
    md_acme_acct_t *acct = NULL;
    md_pkey_t *key = NULL;
    md_store_t *store;

    copy_file(md_file_join(p, fixture, "md_store.json", NULL), md_file_join(p, dir, "md_store.json", NULL), p);
    store = store_open(dir, p);
    ck_assert_int_eq(md_file_mkdirs(acct_dir, 0700, p), APR_SUCCESS);
    copy_file(md_file_join(p, staged, "account.json", NULL), md_file_join(p, acct_dir, "account.json", NULL), p);
    copy_file(md_file_join(p, staged, "account.pem", NULL), md_file_join(p, acct_dir, "account.pem", NULL), p);

    ck_assert_msg(md_acme_acct_load(&acct, &key, store, "ACME-127.0.0.1-0000", result, p) == APR_SUCCESS, "%s",
                  md_result_text(result, p));
    ck_assert_str_eq(acct->url, "https://127.0.0.1:59801/my-account/79d34fe2f636effc");
    ck_assert_str_eq(acct->ca_url, "https://127.0.0.1:59801/dir");
    ck_assert_str_eq(acct->status, "valid");
    ck_assert_str_eq(str_at(acct->contacts, 0), "mailto:admin@example.org");
    ck_assert_str_eq(acct->orders, "https://127.0.0.1:59801/list-orderz/79d34fe2f636effc");
    ck_assert_ptr_null(acct->eab_kid);
    ck_assert_int_eq(md_pkey_get_type(key), MD_PKEY_RSA);
    /* the stored registration's JWK is the key's */
    ck_assert(md_json_equal(md_json_getj(acct->registration, "key", NULL), jwk_of(key, p)));
    ck_assert_int_eq(md_acme_acct_find_stored(&id, store, "https://127.0.0.1:59801/dir", NULL, p), APR_SUCCESS);
    ck_assert_str_eq(id, "ACME-127.0.0.1-0000");
    /* a new account of that CA gets the next id */
    acct->id = NULL;
    ck_assert_int_eq(md_acme_acct_save(acct, key, store, result, p), APR_SUCCESS);
    ck_assert_str_eq(acct->id, "ACME-127.0.0.1-0001");
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_acme_acct_suite(void)
{
    Suite *s = suite_create("acme_acct");
    TCase *tc = tcase_create("account");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, register_new);
    tcase_add_test(tc, register_existing);
    tcase_add_test(tc, register_eab);
    tcase_add_test(tc, register_refused_before_asking);
    tcase_add_test(tc, register_bad_answers);
    tcase_add_test(tc, register_account_url_elsewhere);
    tcase_add_test(tc, find_by_key);
    tcase_add_test(tc, contacts_and_refresh);
    tcase_add_test(tc, key_change);
    tcase_add_test(tc, deactivate);
    tcase_add_test(tc, eab_credentials);
    tcase_add_test(tc, eab_read_keeps_the_hmac_as_written);
    tcase_add_test(tc, store_round_trip);
    tcase_add_test(tc, store_find);
    tcase_add_test(tc, store_mod_md_account);
    suite_add_tcase(s, tc);
    return s;
}
