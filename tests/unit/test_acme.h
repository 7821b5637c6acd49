/* Helpers shared by the ACME client and account unit tests: a client set up against the fake backend. */
#ifndef MD_TEST_ACME_H
#define MD_TEST_ACME_H

#include <apr_pools.h>

#include "md_acme.h"
#include "md_pkey.h"
#include "md_result.h"
#include "fake_http.h"

#define TA_DIR "https://ca.test/dir"
#define TA_NONCE "https://ca.test/nonce-plz"
#define TA_NEW_ACCT "https://ca.test/sign-me-up"
#define TA_KEY_CHANGE "https://ca.test/rollover-account-key"
#define TA_ACCT "https://ca.test/my-account/1"

typedef struct {
    apr_pool_t *p;
    md_result_t *result;
    fake_http_t *fake;
    md_acme_t *acme;
} ta_env_t;

/* A pool, a result, the fake and an md_acme_t for TA_DIR whose directory (data/acme/<dir_file>) is
 * fetched already; newNonce is auto-answered. */
void ta_env_init(ta_env_t *env, const char *dir_file);
void ta_env_done(ta_env_t *env);
md_pkey_t *ta_ec_key(apr_pool_t *p);
md_pkey_t *ta_rsa_key(apr_pool_t *p);   /* the RSA 2048 test key from data/pkey */
void ta_assert_contains(const char *haystack, const char *needle);

#endif
