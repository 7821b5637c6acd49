/* The fake ACME CA's parts shared by its files: fake_ca.c (requests, accounts, orders), fake_ca_jws.c (nonces,
 * JWS), fake_ca_cert.c (finalize, certificates). */
#ifndef FAKE_CA_INT_H
#define FAKE_CA_INT_H
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <arpa/inet.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "md_acme.h"
#include "md_encode.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_time.h"
#include "fake_ca.h"

#define DAY apr_time_from_sec(86400)
#define NONCE_ISSUED 1
#define NONCE_USED 2

/* Accounts, authorizations and orders live in arrays of pointers: object N at index N-1. The owned ones start
 * with the number of their account, so that one lookup checks ownership for all (owned()). */
typedef struct {
    const char *url;
    md_pkey_t *key;
    const char *thumbprint;
} fca_acct_t;

typedef struct {
    int acct;
    const char *id_type, *value;   /* value without "*." for a wildcard */
    int wildcard;
    const char *token;
    const char *status;        /* pending, valid, invalid, deactivated, expired */
    const char *chall_type;    /* the challenge responded to, NULL before */
    const char *verdict;       /* its outcome, the status once polls_left polls have passed */
    const char *err_type, *err_detail;
    int polls_left;
    apr_time_t expires;
} fca_authz_t;

typedef struct {
    int acct;
    apr_array_header_t *ids;   /* const char* "type:value" */
    apr_array_header_t *authzs;    /* int: authorization numbers */
    const char *status;        /* pending, ready, processing, valid, invalid */
    const char *err_type, *err_detail;
    const char *replaces;
    int polls_left;
    apr_time_t expires;
    fake_ca_cert_t *cert;
} fca_order_t;

typedef struct {
    fake_ca_kind_t kind;
    int count, status, retry_after;
    const char *type, *detail;
} fca_fail_t;

struct fake_ca_t {
    apr_pool_t *p;
    apr_thread_mutex_t *mutex;
    md_http_backend_t backend;
    const char *base;
    const md_clock_t *clock;
    md_pkey_t *key;
    md_cert_t *root;
    const char *root_pem;
    long set[FAKE_CA_SETTINGS];
    fake_ca_validate_cb *validate;
    void *validate_baton;
    apr_table_t *failing_ids;      /* identifier -> detail */
    apr_table_t *lifetimes;        /* identifier (lowercase) -> lifetime in seconds */
    apr_array_header_t *fails;     /* fca_fail_t */
    apr_array_header_t *nonces;    /* char: the state of nonce "fcaN" at N-1 */
    int nonce_checks, bad_nonces;
    long serial;
    apr_array_header_t *accts, *authzs, *orders, *certs;
    int counts[FAKE_CA_KINDS];
};

/* One request being answered. */
typedef struct {
    fake_ca_t *ca;
    const md_http_request_t *req;
    md_http_response_t *resp;
    apr_pool_t *p;
    apr_time_t now;
    const char *path;          /* the URL below the base, NULL when it is not the CA's */
    int n;                     /* the number in "/authz/N"... */
    const char *rest;          /* what follows it ("/http-01" of a challenge) */
    md_json_t *payload;        /* of a POST; NULL for POST-as-GET */
    md_json_t *args;           /* payload, or {} */
    int acct_n;                /* the kid's account number, 0 when signed with a jwk */
    fca_acct_t *acct;
    md_json_t *jwk;
    md_pkey_t *jwk_key;
} fca_req_t;


const char *fca_lower(const char *s, apr_pool_t *p);
int fca_problem(fca_req_t *r, int status, const char *short_type, const char *detail);
void *fca_owned(fca_req_t *r, apr_array_header_t *objs, const char *what);
void fca_order_refresh(fake_ca_t *ca, fca_order_t *o, apr_time_t now);
int fca_b64_member(unsigned char **pdata, apr_size_t *plen, const md_json_t *json, const char *key,
                      apr_pool_t *p);
void fca_order_answer(fca_req_t *r, const fca_order_t *o, int n, int status);
void fca_answer(fca_req_t *r, int status, const char *ctype, const char *body);
void fca_h_cert(fca_req_t *r);
X509 *fca_cert_build(fake_ca_t *ca, EVP_PKEY *pub, const X509_NAME *subject, X509_REQ *csr, apr_time_t from,
                        apr_time_t until);
const char *fca_names_join(const apr_array_header_t *names, int strip_type, apr_pool_t *p);
void fca_h_finalize(fca_req_t *r);
const char *fca_cert_pem(X509 *x, apr_pool_t *p);
int fca_jws_check(fca_req_t *r, int jwk_ok);
const char *fca_nonce_new(fake_ca_t *ca, apr_pool_t *p);
md_pkey_t *fca_jwk_key(const md_json_t *jwk, apr_pool_t *p);

#endif
