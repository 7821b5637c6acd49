/* Shared fixtures of the ACME order tests: a client against the fake backend with a recorded directory. */
#ifndef MD_TEST_ACME_ORDER_H
#define MD_TEST_ACME_ORDER_H

#include <check.h>
#include <apr_pools.h>

#include "md_acme.h"
#include "md_acme_order.h"
#include "md_result.h"
#include "fake_http.h"

/* Recorded URLs (tests/unit/data/acme/order/): Let's Encrypt style and pebble 2.4 style. */
#define LE_DIR      "https://acme.test/directory"
#define LE_NONCE    "https://acme.test/acme/new-nonce"
#define LE_NEWORDER "https://acme.test/acme/new-order"
#define LE_ARI      "https://acme.test/acme/renewal-info"
#define LE_REVOKE   "https://acme.test/acme/revoke-cert"
#define LE_ACCT     "https://acme.test/acme/acct/2053114837"
#define LE_ORDER    "https://acme.test/acme/order/2053114837/381274655"
#define LE_FINALIZE "https://acme.test/acme/finalize/1893402147/381274655"
#define LE_AUTHZ    "https://acme.test/acme/authz/1893402147/517263641"
#define LE_AUTHZ_WC "https://acme.test/acme/authz/1893402147/517263642"
#define LE_CHALL    "https://acme.test/acme/chall/1893402147/517263641/Nr8fJw"
#define LE_CERT     "https://acme.test/acme/cert/04a1b9c3d2e5f60718293a4b5c6d7e8f9a0b"
#define PEBBLE_DIR  "https://pebble.test:14000/dir"
#define PEBBLE_NONCE "https://pebble.test:14000/nonce-plz"
#define PEBBLE_AUTHZ "https://pebble.test:14000/authZ/5vO2eT0Z-2q0sF4N8kH6yy8VpXKq2Yc0sUpcq5QK1Ys"

typedef struct {
    apr_pool_t *p;
    fake_http_t *fake;
    md_acme_t *acme;
    md_pkey_t *key;         /* the account key (P-256) */
    md_result_t *result;
} order_env_t;

/* A client for the "le" or "pebble" CA with its directory fetched, an account set and polling at 1ms..20ms. */
void order_env_init(order_env_t *env, const char *ca);
void order_env_done(order_env_t *env);
/* The recorded response order/<name>. */
const char *order_data(const char *name, apr_pool_t *p);
/* Index of the last recorded POST. */
int order_last_post(fake_http_t *fake);
/* The payload of the last POST, its signature checked with key. */
md_json_t *order_last_payload(order_env_t *env, const md_pkey_t *key);
/* A fresh P-256 key. */
md_pkey_t *order_ec_key(apr_pool_t *p);
/* Assert that haystack contains needle. */
void order_assert_contains(const char *haystack, const char *needle);

void md_test_acme_authz_tcases(Suite *s);
void md_test_acme_cert_tcases(Suite *s);

#endif
