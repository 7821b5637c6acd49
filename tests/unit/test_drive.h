/* Shared fixtures of the drive tests: a scratch store with one MD, a scripted fake CA that issues real certificates. */
#ifndef MD_TEST_DRIVE_H
#define MD_TEST_DRIVE_H

#include <check.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "md.h"
#include "md_cert.h"
#include "md_clock.h"
#include "md_drive.h"
#include "md_job.h"
#include "md_result.h"
#include "md_store.h"
#include "fake_http.h"

#define TD_NAME     "example.org"
#define TD_CA       "https://ca.test"
#define TD_DIR      TD_CA "/dir"
#define TD_NONCE    TD_CA "/nonce-plz"
#define TD_NEWACCT  TD_CA "/sign-me-up"
#define TD_NEWORDER TD_CA "/order-plz"
#define TD_ACCT     TD_CA "/my-account/1"
#define TD_ORDERS_MAX 4

/* The CA's side of order number n (1-based): what the finalize request brought and what was issued. */
typedef struct td_order_t {
    struct td_drive_t *d;
    int n;
    const char *ca;              /* the CA's base URL, TD_CA unless a test changes it before scripting */
    const char *csr_pubkey;      /* PEM of the public key of the CSR sent to finalize, NULL before */
    const char *chain_pem;       /* the issued chain (leaf + test CA), NULL before */
    apr_interval_time_t delay;   /* the finalize answer takes this long */
} td_order_t;

typedef struct td_drive_t {
    apr_pool_t *p;
    const char *dir;
    md_store_t *store;
    fake_http_t *fake;
    md_drive_env_t env;
    md_result_t *result;
    md_t *md;
    const char *md_text;            /* domains/NAME/md.json as written by the test */
    apr_array_header_t *calls;      /* of the fake responder: "setup|teardown TYPE DOMAIN KEYAUTHZ" */
    md_pkey_t *ca_key;
    md_cert_t *ca_cert;
    td_order_t orders[TD_ORDERS_MAX + 1];
} td_drive_t;

/* The steps of one order in the CA's script, in the order the drive takes them. */
typedef enum {
    TD_S_DIRECTORY,     /* GET the directory */
    TD_S_ACCOUNT,       /* newAccount */
    TD_S_NEWORDER,
    TD_S_AUTHZ,         /* POST-as-GET the authorization */
    TD_S_CHALLENGE,     /* POST {} to the http-01 challenge */
    TD_S_ORDER_READY,   /* the order poll after the challenge: ready (no authorization poll) */
    TD_S_FINALIZE,
    TD_S_ORDER_VALID,
    TD_S_CERT,          /* the chain download */
    TD_S_END
} td_step_t;

/* A store with domains/example.org/md.json (CA TD_DIR, agreement accepted, keys P-256, or RSA 2048 and
 * P-256 with two_keys), the fake CA, a fake http-01 responder and a test CA key and certificate. */
void td_init(td_drive_t *d, int two_keys);
/* Save d->md as domains/NAME/md.json (and remember its text). */
void td_save_md(td_drive_t *d);
void td_done(td_drive_t *d);
/* Run md_drive with a fresh d->result. */
apr_status_t td_run(td_drive_t *d, int force, int activate, md_drive_outcome_t *poutcome, apr_time_t *pnext);

/* URLs of order n: td_url(d, "authz", 1) = "https://ca.test/authz/1". Every CA has the same paths under its
 * base URL: /dir, /nonce-plz, /sign-me-up, /my-account/1, /order-plz. */
const char *td_url(td_drive_t *d, const char *what, int n);
const char *td_token(td_drive_t *d, int n);
/* The order object of order n with a status ("certificate" when valid). */
const char *td_order_json(td_drive_t *d, int n, const char *status);
/* Script the good answers for order n, steps [from, until); the authorization is valid from the start
 * with authz_valid (then TD_S_CHALLENGE sends nothing). */
void td_script(td_drive_t *d, int n, td_step_t from, td_step_t until, int authz_valid);
/* The (method URL) list of the recorded requests from index 'from' on, "|"-joined. */
const char *td_requests(td_drive_t *d, int from);

/* The stored account key (accounts/ holds exactly one account) and its id. */
md_pkey_t *td_account_key(td_drive_t *d, const char **pid);
md_job_t *td_job(td_drive_t *d);
/* Every file below the store directory, relative paths, sorted. */
apr_array_header_t *td_store_files(td_drive_t *d);
/* domains/NAME/md.json unchanged byte for byte, no file outside staging/NAME and accounts/ (but
 * md_store.json and that md.json), no temporary file anywhere. */
void td_assert_store_intact(td_drive_t *d);
void td_assert_contains(const char *haystack, const char *needle);

void md_test_drive_fail_tcases(Suite *s);

#endif
