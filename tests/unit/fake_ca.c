/* The stateful fake ACME CA of the unit tests (fake_ca.h says what it does and how to use it). */
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

/* ---- answers ----------------------------------------------------------------------------------------- */

static void answer(fca_req_t *r, int status, const char *ctype, const char *body)
{
    r->resp->status = status;
    if (ctype) apr_table_set(r->resp->headers, "Content-Type", ctype);
    r->resp->body.data = body;
    r->resp->body.len = body ? strlen(body) : 0;
}

static void answer_json(fca_req_t *r, int status, const md_json_t *json)
{
    answer(r, status, "application/json", md_json_writep(json, MD_JSON_FMT_COMPACT, r->p));
}

static md_json_t *problem_json(const char *short_type, const char *detail, int status, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(apr_pstrcat(p, MD_ACME_PROBLEM_PREFIX, short_type, NULL), json, "type", NULL);
    if (detail) md_json_sets(detail, json, "detail", NULL);
    md_json_setl(status, json, "status", NULL);
    return json;
}

/* Answer with a problem document. Returns 0, for checks that fail with "return problem(...)". */
static int problem(fca_req_t *r, int status, const char *short_type, const char *detail)
{
    answer(r, status, "application/problem+json",
           md_json_writep(problem_json(short_type, detail, status, r->p), MD_JSON_FMT_COMPACT, r->p));
    return 0;
}

static const char *url_of(fca_req_t *r, const char *what, int n)
{
    return apr_psprintf(r->p, "%s/%s/%d", r->ca->base, what, n);
}

/* ---- nonces, keys and the JWS ------------------------------------------------------------------------ */

static const char *nonce_new(fake_ca_t *ca, apr_pool_t *p)
{
    APR_ARRAY_PUSH(ca->nonces, char) = NONCE_ISSUED;
    return apr_psprintf(p, "fca%d", ca->nonces->nelts);
}

/* True when nonce was handed out and not used yet (it is used now), unless it is the nth checked. */
static int nonce_take(fake_ca_t *ca, const char *nonce)
{
    char *end = NULL;
    long n;

    if (!nonce || strncmp(nonce, "fca", 3)) return 0;
    n = strtol(nonce + 3, &end, 10);
    if (*end || n < 1 || n > ca->nonces->nelts || APR_ARRAY_IDX(ca->nonces, n - 1, char) != NONCE_ISSUED) return 0;
    APR_ARRAY_IDX(ca->nonces, n - 1, char) = NONCE_USED;
    return !(ca->set[FAKE_CA_SET_REJECT_NONCES] > 0 && ++ca->nonce_checks % ca->set[FAKE_CA_SET_REJECT_NONCES] == 0);
}

static int b64_member(unsigned char **pdata, apr_size_t *plen, const md_json_t *json, const char *key,
                      apr_pool_t *p)
{
    const char *s = md_json_gets(json, key, NULL);

    return s && md_b64url_decode(pdata, plen, s, p) == APR_SUCCESS && *plen > 0;
}

static int jwk_ec_params(OSSL_PARAM_BLD *bld, const md_json_t *jwk, apr_pool_t *p)
{
    const char *crv = md_json_gets(jwk, "crv", NULL), *group = NULL;
    unsigned char *x, *y, *pub;
    apr_size_t xlen, ylen;

    if (crv && !strcmp(crv, "P-256")) group = "prime256v1";
    if (crv && !strcmp(crv, "P-384")) group = "secp384r1";
    if (!group || !b64_member(&x, &xlen, jwk, "x", p) || !b64_member(&y, &ylen, jwk, "y", p)) return 0;
    pub = apr_palloc(p, 1 + xlen + ylen);
    pub[0] = 0x04;     /* uncompressed point */
    memcpy(pub + 1, x, xlen);
    memcpy(pub + 1 + xlen, y, ylen);
    return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0)
           && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + xlen + ylen);
}

static int jwk_rsa_params(OSSL_PARAM_BLD *bld, BIGNUM **pn, BIGNUM **pe, const md_json_t *jwk, apr_pool_t *p)
{
    unsigned char *n, *e;
    apr_size_t nlen, elen;

    if (!b64_member(&n, &nlen, jwk, "n", p) || !b64_member(&e, &elen, jwk, "e", p)) return 0;
    *pn = BN_bin2bn(n, (int)nlen, NULL);
    *pe = BN_bin2bn(e, (int)elen, NULL);
    return *pn && *pe && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *pn)
           && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *pe);
}

/* The public key of an EC (P-256, P-384) or RSA JWK, NULL when it is none. */
static md_pkey_t *jwk_key(const md_json_t *jwk, apr_pool_t *p)
{
    const char *kty = md_json_gets(jwk, "kty", NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *evp = NULL;
    BIGNUM *n = NULL, *e = NULL;
    int ok = 0;

    if (bld && kty && !strcmp(kty, "EC")) ok = jwk_ec_params(bld, jwk, p);
    else if (bld && kty && !strcmp(kty, "RSA")) ok = jwk_rsa_params(bld, &n, &e, jwk, p);
    if (ok) {
        params = OSSL_PARAM_BLD_to_param(bld);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, kty, NULL);
    }
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &evp, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        evp = NULL;
    }
    ERR_clear_error();
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return evp ? md_pkey_wrap(evp, p) : NULL;
}

/* The number after prefix in url ("https://ca.test/acct/" "3"), 0 when url is not of that form. */
static int url_num(const fake_ca_t *ca, const char *url, const char *prefix)
{
    apr_size_t blen = strlen(ca->base), plen = strlen(prefix);
    char *end = NULL;
    long n;

    if (!url || strncmp(url, ca->base, blen) || strncmp(url + blen, prefix, plen)) return 0;
    n = strtol(url + blen + plen, &end, 10);
    return (*end || n < 1 || n > 1000000) ? 0 : (int)n;
}

static md_json_t *jws_protected(const md_json_t *msg, apr_pool_t *p)
{
    md_json_t *prot = NULL;
    unsigned char *data;
    apr_size_t len;

    if (!b64_member(&data, &len, msg, "protected", p)
        || md_json_readd(&prot, (const char *)data, len, "protected", NULL, p) != APR_SUCCESS) {
        return NULL;
    }
    return prot;
}

/* The signing key of a JWS: its jwk (when allowed) or its kid's account key. 0 when answered with a problem. */
static int jws_key(fca_req_t *r, md_pkey_t **pkey, const md_json_t *prot, int jwk_ok)
{
    const char *kid = md_json_gets(prot, "kid", NULL);

    if (!kid) {
        if (!jwk_ok || !(r->jwk = md_json_getj(prot, "jwk", NULL))) {
            return problem(r, 400, "malformed", "the request must be signed with a kid (the account URL)");
        }
        if (!(*pkey = r->jwk_key = jwk_key(r->jwk, r->p))) return problem(r, 400, "badPublicKey", "unusable jwk");
        return 1;
    }
    r->acct_n = url_num(r->ca, kid, "/acct/");
    if (!r->acct_n || r->acct_n > r->ca->accts->nelts) {
        return problem(r, 400, "accountDoesNotExist", apr_psprintf(r->p, "no account %s", kid));
    }
    r->acct = APR_ARRAY_IDX(r->ca->accts, r->acct_n - 1, fca_acct_t *);
    *pkey = r->acct->key;
    return 1;
}

/* Check a POST's JWS: the url, the nonce, the signature; sets payload and args. 0 when answered. */
static int jws_check(fca_req_t *r, int jwk_ok)
{
    const md_data_t *body = r->req->body;
    md_json_t *msg = NULL, *prot = NULL;
    md_data_t *payload = NULL;
    md_pkey_t *key = NULL;
    const char *url;

    if (!body || !body->data || md_json_readd(&msg, body->data, body->len, "JWS", NULL, r->p) != APR_SUCCESS
        || !(prot = jws_protected(msg, r->p))) {
        return problem(r, 400, "malformed", "the request body is not a flattened JWS");
    }
    url = md_json_gets(prot, "url", NULL);
    if (!url || strcmp(url, r->req->url)) return problem(r, 401, "unauthorized", "the JWS url is not the request URL");
    if (!nonce_take(r->ca, md_json_gets(prot, "nonce", NULL))) {
        r->ca->bad_nonces++;
        return problem(r, 400, "badNonce", "the nonce was not handed out, or is used up");
    }
    if (!jws_key(r, &key, prot, jwk_ok)) return 0;
    if (md_jws_verify(&payload, msg, key, NULL, r->p) != APR_SUCCESS) {
        return problem(r, 400, "malformed", "the JWS signature does not verify");
    }
    if (payload->len
        && md_json_readd(&r->payload, payload->data, payload->len, "payload", NULL, r->p) != APR_SUCCESS) {
        return problem(r, 400, "malformed", "the JWS payload is not JSON");
    }
    r->args = r->payload ? r->payload : md_json_create(r->p);
    return 1;
}

/* The object number r->n of objs, when it belongs to the request's account; else answered with a problem. */
static void *owned(fca_req_t *r, apr_array_header_t *objs, const char *what)
{
    int *obj = (r->n >= 1 && r->n <= objs->nelts) ? APR_ARRAY_IDX(objs, r->n - 1, int *) : NULL;

    if (!obj) {
        problem(r, 404, "malformed", apr_psprintf(r->p, "no %s %d", what, r->n));
        return NULL;
    }
    if (*obj != r->acct_n) {
        problem(r, 403, "unauthorized", apr_psprintf(r->p, "%s %d is another account's", what, r->n));
        return NULL;
    }
    return obj;
}

/* ---- directory, nonce, accounts ---------------------------------------------------------------------- */

static void h_directory(fca_req_t *r)
{
    md_json_t *dir = md_json_create(r->p);
    const char *base = r->ca->base, *host = strstr(base, "://") ? strstr(base, "://") + 3 : base;
    apr_array_header_t *ids;

    md_json_sets(apr_pstrcat(r->p, base, "/nonce", NULL), dir, "newNonce", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/new-acct", NULL), dir, "newAccount", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/new-order", NULL), dir, "newOrder", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/revoke-cert", NULL), dir, "revokeCert", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/key-change", NULL), dir, "keyChange", NULL);
    if (r->ca->set[FAKE_CA_SET_ARI]) md_json_sets(apr_pstrcat(r->p, base, "/ari", NULL), dir, "renewalInfo", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/terms", NULL), dir, "meta", "termsOfService", NULL);
    ids = apr_array_make(r->p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = host;
    md_json_setsa(ids, dir, "meta", "caaIdentities", NULL);
    answer_json(r, 200, dir);
}

static void h_nonce(fca_req_t *r)
{
    apr_table_set(r->resp->headers, "Cache-Control", "no-store");
    answer(r, strcmp(r->req->method, "HEAD") ? 204 : 200, NULL, NULL);
}

/* The account object: valid, with the contacts of the request. */
static void account_answer(fca_req_t *r, const fca_acct_t *a, int n, int status)
{
    md_json_t *json = md_json_create(r->p);

    md_json_sets("valid", json, "status", NULL);
    if (md_json_has_key(r->args, "contact", NULL)) {
        md_json_setj(md_json_getj(r->args, "contact", NULL), json, "contact", NULL);
    }
    md_json_sets(apr_pstrcat(r->p, url_of(r, "acct", n), "/orders", NULL), json, "orders", NULL);
    apr_table_set(r->resp->headers, "Location", a->url);
    answer_json(r, status, json);
}

static void h_new_account(fca_req_t *r)
{
    fake_ca_t *ca = r->ca;
    const char *thumb = NULL;
    fca_acct_t *a;
    int i;

    if (md_jwk_thumbprint_json(&thumb, r->jwk, r->p) != APR_SUCCESS) {
        problem(r, 400, "badPublicKey", "no thumbprint for the jwk");
        return;
    }
    for (i = 0; i < ca->accts->nelts; ++i) {
        a = APR_ARRAY_IDX(ca->accts, i, fca_acct_t *);
        if (!strcmp(a->thumbprint, thumb)) {
            account_answer(r, a, i + 1, 200);
            return;
        }
    }
    if (md_json_getb(r->args, "onlyReturnExisting", NULL)) {
        problem(r, 400, "accountDoesNotExist", "no account for this key");
        return;
    }
    if (!md_json_getb(r->args, "termsOfServiceAgreed", NULL)) {
        problem(r, 403, "userActionRequired", apr_pstrcat(r->p, "agree to the terms at ", ca->base, "/terms", NULL));
        return;
    }
    a = apr_pcalloc(ca->p, sizeof(*a));
    a->key = jwk_key(r->jwk, ca->p);
    a->thumbprint = apr_pstrdup(ca->p, thumb);
    APR_ARRAY_PUSH(ca->accts, fca_acct_t *) = a;
    a->url = apr_psprintf(ca->p, "%s/acct/%d", ca->base, ca->accts->nelts);
    account_answer(r, a, ca->accts->nelts, 201);
}

/* ---- authorizations and challenges ------------------------------------------------------------------- */

static const char *token_new(apr_pool_t *p)
{
    unsigned char bytes[24];

    RAND_bytes(bytes, sizeof(bytes));
    return md_b64url_encode(bytes, sizeof(bytes), p);
}

static const char *lower(const char *s, apr_pool_t *p)
{
    char *c, *copy = apr_pstrdup(p, s);

    for (c = copy; *c; ++c) *c = (char)tolower((unsigned char)*c);
    return copy;
}

/* A valid authorization of the account for the identifier (when reuse is on), else a new pending one. */
static int authz_for(fake_ca_t *ca, int acct, const char *type, const char *value, apr_time_t now)
{
    int wildcard = !strncmp(value, "*.", 2), i;
    fca_authz_t *a;

    if (wildcard) value += 2;
    for (i = 0; ca->set[FAKE_CA_SET_AUTHZ_REUSE] && i < ca->authzs->nelts; ++i) {
        a = APR_ARRAY_IDX(ca->authzs, i, fca_authz_t *);
        if (a->acct == acct && !strcmp(a->status, "valid") && a->expires > now && a->wildcard == wildcard
            && !strcmp(a->id_type, type) && !strcasecmp(a->value, value)) {
            return i + 1;
        }
    }
    a = apr_pcalloc(ca->p, sizeof(*a));
    a->acct = acct;
    a->id_type = apr_pstrdup(ca->p, type);
    a->value = lower(value, ca->p);
    a->wildcard = wildcard;
    a->token = token_new(ca->p);
    a->status = "pending";
    a->expires = now + 7 * DAY;
    APR_ARRAY_PUSH(ca->authzs, fca_authz_t *) = a;
    return ca->authzs->nelts;
}

/* The challenge types offered: a wildcard only dns-01, an IP address no dns-01 (RFC 8738). */
static int authz_offers(const fca_authz_t *a, const char *type)
{
    if (!strcmp(type, "dns-01")) return strcmp(a->id_type, "ip") != 0;
    return !a->wildcard && (!strcmp(type, "http-01") || !strcmp(type, "tls-alpn-01"));
}

static void authz_settle(fca_authz_t *a, apr_time_t now)
{
    a->status = a->verdict;
    if (!strcmp(a->status, "valid")) a->expires = now + 30 * DAY;
}

/* A poll of the authorization: the verdict of a validation in progress comes after polls_left polls. */
static void authz_poll(fca_authz_t *a, apr_time_t now)
{
    if (!a->verdict || strcmp(a->status, "pending")) return;
    if (a->polls_left > 0) a->polls_left--;
    else authz_settle(a, now);
}

static void authz_expire(fca_authz_t *a, apr_time_t now)
{
    if (now > a->expires && (!strcmp(a->status, "pending") || !strcmp(a->status, "valid"))) a->status = "expired";
}

static md_json_t *challenge_json(fca_req_t *r, const fca_authz_t *a, int n, const char *type)
{
    md_json_t *ch = md_json_create(r->p);
    const char *status = "pending";

    if (a->chall_type && !strcmp(a->chall_type, type)) {
        status = strcmp(a->status, "pending") ? a->verdict : "processing";
    }
    md_json_sets(type, ch, "type", NULL);
    md_json_sets(apr_pstrcat(r->p, url_of(r, "chall", n), "/", type, NULL), ch, "url", NULL);
    md_json_sets(status, ch, "status", NULL);
    md_json_sets(a->token, ch, "token", NULL);
    if (!strcmp(status, "invalid")) {
        md_json_setj(problem_json(a->err_type, a->err_detail, 403, r->p), ch, "error", NULL);
    }
    return ch;
}

static md_json_t *authz_json(fca_req_t *r, const fca_authz_t *a, int n)
{
    static const char *const types[] = { "http-01", "dns-01", "tls-alpn-01" };
    md_json_t *json = md_json_create(r->p);
    size_t i;

    md_json_sets(a->id_type, json, "identifier", "type", NULL);
    md_json_sets(a->value, json, "identifier", "value", NULL);
    md_json_sets(a->status, json, "status", NULL);
    md_json_sets(md_time_print_rfc3339(a->expires, r->p), json, "expires", NULL);
    if (a->wildcard) md_json_setb(1, json, "wildcard", NULL);
    md_json_setj(md_json_create_array(r->p), json, "challenges", NULL);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
        if (authz_offers(a, types[i])) md_json_addj(challenge_json(r, a, n, types[i]), json, "challenges", NULL);
    }
    return json;
}

static void h_authz(fca_req_t *r)
{
    fca_authz_t *a = owned(r, r->ca->authzs, "authorization");
    const char *status;

    if (!a) return;
    status = md_json_gets(r->args, "status", NULL);
    if (status && !strcmp(status, "deactivated")) a->status = "deactivated";
    authz_poll(a, r->now);
    authz_expire(a, r->now);
    answer_json(r, 200, authz_json(r, a, r->n));
}

/* Validate the challenge of type: the failing identifiers first, then the test's callback. */
static void validate(fca_req_t *r, fca_authz_t *a, const char *type)
{
    fake_ca_t *ca = r->ca;
    const char *ka = md_jws_key_authz(a->token, r->acct->thumbprint, r->p);
    const char *ptype = NULL, *detail = apr_table_get(ca->failing_ids, a->value);
    int failed = detail != NULL;

    if (!failed && ca->validate) {
        failed = ca->validate(ca->validate_baton, type, a->value, a->token, ka, &ptype, &detail, r->p);
    }
    a->chall_type = apr_pstrdup(ca->p, type);
    a->verdict = failed ? "invalid" : "valid";
    if (failed) {
        a->err_type = apr_pstrdup(ca->p, ptype ? ptype : "incorrectResponse");
        a->err_detail = apr_pstrdup(ca->p, detail ? detail : "the answer is not right");
    }
    a->polls_left = (int)ca->set[FAKE_CA_SET_AUTHZ_POLLS];
    if (!a->polls_left) authz_settle(a, r->now);
}

static void h_challenge(fca_req_t *r)
{
    fca_authz_t *a = owned(r, r->ca->authzs, "authorization");
    const char *type = (r->rest && r->rest[0] == '/') ? r->rest + 1 : "";

    if (!a) return;
    if (!authz_offers(a, type)) {
        problem(r, 404, "malformed", apr_psprintf(r->p, "authorization %d has no challenge '%s'", r->n, type));
        return;
    }
    authz_expire(a, r->now);
    if (r->payload && !strcmp(a->status, "pending") && !a->chall_type) validate(r, a, type);
    apr_table_set(r->resp->headers, "Link", apr_psprintf(r->p, "<%s>;rel=\"up\"", url_of(r, "authz", r->n)));
    answer_json(r, 200, challenge_json(r, a, r->n, type));
}

/* ---- orders ------------------------------------------------------------------------------------------ */

static void order_fail(fake_ca_t *ca, fca_order_t *o, const char *type, const char *detail)
{
    o->status = "invalid";
    o->err_type = type;
    o->err_detail = apr_pstrdup(ca->p, detail);
}

/* A pending order becomes ready when all its authorizations are valid, invalid when one is not or it expired. */
static void order_refresh(fake_ca_t *ca, fca_order_t *o, apr_time_t now)
{
    fca_authz_t *a;
    int i, valid = 0;

    if (strcmp(o->status, "pending") && strcmp(o->status, "ready")) return;
    if (now > o->expires) {
        order_fail(ca, o, "malformed", "the order expired");
        return;
    }
    for (i = 0; i < o->authzs->nelts; ++i) {
        a = APR_ARRAY_IDX(ca->authzs, APR_ARRAY_IDX(o->authzs, i, int) - 1, fca_authz_t *);
        authz_expire(a, now);
        if (!strcmp(a->status, "valid")) ++valid;
        else if (strcmp(a->status, "pending")) {
            order_fail(ca, o, a->err_type ? a->err_type : "unauthorized",
                       apr_psprintf(ca->p, "the authorization for %s is %s", a->value, a->status));
            return;
        }
    }
    o->status = (valid == o->authzs->nelts) ? "ready" : "pending";
}

static md_json_t *order_json(fca_req_t *r, const fca_order_t *o, int n)
{
    md_json_t *json = md_json_create(r->p), *id;
    const char *s;
    int i;

    md_json_sets(o->status, json, "status", NULL);
    md_json_sets(md_time_print_rfc3339(o->expires, r->p), json, "expires", NULL);
    for (i = 0; i < o->ids->nelts; ++i) {
        s = APR_ARRAY_IDX(o->ids, i, const char *);
        id = md_json_create(r->p);
        md_json_sets(apr_pstrndup(r->p, s, (apr_size_t)(strchr(s, ':') - s)), id, "type", NULL);
        md_json_sets(strchr(s, ':') + 1, id, "value", NULL);
        md_json_addj(id, json, "identifiers", NULL);
        md_json_adds(url_of(r, "authz", APR_ARRAY_IDX(o->authzs, i, int)), json, "authorizations", NULL);
    }
    md_json_sets(url_of(r, "finalize", n), json, "finalize", NULL);
    if (!strcmp(o->status, "valid")) md_json_sets(url_of(r, "cert", n), json, "certificate", NULL);
    if (o->err_type) md_json_setj(problem_json(o->err_type, o->err_detail, 403, r->p), json, "error", NULL);
    return json;
}

static void order_answer(fca_req_t *r, const fca_order_t *o, int n, int status)
{
    apr_table_set(r->resp->headers, "Location", url_of(r, "order", n));
    answer_json(r, status, order_json(r, o, n));
}

/* The identifiers of a newOrder, checked; NULL when answered with a problem. */
static md_json_t *order_identifiers(fca_req_t *r)
{
    md_json_t *ids = md_json_getj(r->args, "identifiers", NULL), *id;
    const char *type, *value;
    apr_size_t i, count = ids ? md_json_count(ids, NULL) : 0;

    if (!count) {
        problem(r, 400, "malformed", "newOrder without identifiers");
        return NULL;
    }
    for (i = 0; i < count; ++i) {
        id = md_json_at(ids, i, NULL);
        type = id ? md_json_gets(id, "type", NULL) : NULL;
        value = id ? md_json_gets(id, "value", NULL) : NULL;
        if (!type || !value || !*value || (strcmp(type, "dns") && strcmp(type, "ip"))) {
            problem(r, 400, "unsupportedIdentifier", "identifiers must be of type dns or ip, with a value");
            return NULL;
        }
    }
    return ids;
}

static void h_new_order(fca_req_t *r)
{
    fake_ca_t *ca = r->ca;
    md_json_t *ids = order_identifiers(r), *id;
    const char *type, *value, *replaces = md_json_gets(r->args, "replaces", NULL);
    fca_order_t *o;
    apr_size_t i;

    if (!ids) return;
    o = apr_pcalloc(ca->p, sizeof(*o));
    o->acct = r->acct_n;
    o->status = "pending";
    o->expires = r->now + 7 * DAY;
    o->replaces = replaces ? apr_pstrdup(ca->p, replaces) : NULL;
    o->ids = apr_array_make(ca->p, 4, sizeof(const char *));
    o->authzs = apr_array_make(ca->p, 4, sizeof(int));
    for (i = 0; i < md_json_count(ids, NULL); ++i) {
        id = md_json_at(ids, i, NULL);
        type = md_json_gets(id, "type", NULL);
        value = lower(md_json_gets(id, "value", NULL), ca->p);
        APR_ARRAY_PUSH(o->ids, const char *) = apr_pstrcat(ca->p, type, ":", value, NULL);
        APR_ARRAY_PUSH(o->authzs, int) = authz_for(ca, r->acct_n, type, value, r->now);
    }
    APR_ARRAY_PUSH(ca->orders, fca_order_t *) = o;
    order_refresh(ca, o, r->now);
    order_answer(r, o, ca->orders->nelts, 201);
}

static void h_order(fca_req_t *r)
{
    fca_order_t *o = owned(r, r->ca->orders, "order");
    int i;

    if (!o) return;
    if (!strcmp(o->status, "processing")) {
        if (o->polls_left > 0) o->polls_left--;
        else o->status = "valid";
    }
    for (i = 0; !strcmp(o->status, "pending") && i < o->authzs->nelts; ++i) {
        /* time passes for its validations too: a look at the order is one at each authorization */
        authz_poll(APR_ARRAY_IDX(r->ca->authzs, APR_ARRAY_IDX(o->authzs, i, int) - 1, fca_authz_t *), r->now);
    }
    order_refresh(r->ca, o, r->now);
    order_answer(r, o, r->n, 200);
}

/* ---- finalize: the CSR and the certificate ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names sorted and ","-joined; with strip_type without their "type:" prefix. */
static const char *names_join(const apr_array_header_t *names, int strip_type, apr_pool_t *p)
{
    apr_array_header_t *sorted = apr_array_copy(p, names);
    const char *s, *joined = "";
    int i;

    for (i = 0; strip_type && i < sorted->nelts; ++i) {
        s = APR_ARRAY_IDX(sorted, i, const char *);
        APR_ARRAY_IDX(sorted, i, const char *) = strchr(s, ':') + 1;
    }
    qsort(sorted->elts, (size_t)sorted->nelts, sizeof(const char *), cmp_str);
    for (i = 0; i < sorted->nelts; ++i) {
        joined = apr_pstrcat(p, joined, i ? "," : "", APR_ARRAY_IDX(sorted, i, const char *), NULL);
    }
    return joined;
}

/* The SANs of a CSR as "dns:name" / "ip:address", sorted and joined like names_join. */
static const char *csr_names(X509_REQ *csr, apr_pool_t *p)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
    GENERAL_NAMES *sans = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *));
    const GENERAL_NAME *gn;
    char text[64];
    int i, len;

    for (i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
        gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type == GEN_DNS) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrcat(p, "dns:", lower(apr_pstrndup(p,
                (const char *)ASN1_STRING_get0_data(gn->d.dNSName), (apr_size_t)ASN1_STRING_length(gn->d.dNSName)),
                p), NULL);
        }
        else if (gn->type == GEN_IPADD && ((len = ASN1_STRING_length(gn->d.iPAddress)) == 4 || len == 16)
                 && inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.iPAddress), text,
                              sizeof(text))) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrcat(p, "ip:", text, NULL);
        }
        else APR_ARRAY_PUSH(names, const char *) = "other:?";
    }
    GENERAL_NAMES_free(sans);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return names_join(names, 0, p);
}

/* The finalize request's CSR, its signature checked and its SANs the order's; NULL when answered. */
static X509_REQ *csr_get(fca_req_t *r, const fca_order_t *o)
{
    unsigned char *der = NULL;
    const unsigned char *c;
    apr_size_t len = 0;
    X509_REQ *csr = NULL;
    const char *sans, *ids;

    if (b64_member(&der, &len, r->args, "csr", r->p)) {
        c = der;
        csr = d2i_X509_REQ(NULL, &c, (long)len);
    }
    if (!csr || X509_REQ_verify(csr, X509_REQ_get0_pubkey(csr)) != 1) {
        ERR_clear_error();
        X509_REQ_free(csr);
        problem(r, 400, "badCSR", "the csr is not a DER CSR with a valid signature");
        return NULL;
    }
    sans = csr_names(csr, r->p);
    ids = names_join(o->ids, 0, r->p);
    if (strcmp(sans, ids)) {
        X509_REQ_free(csr);
        problem(r, 400, "badCSR", apr_psprintf(r->p, "the CSR is for %s, the order for %s", sans, ids));
        return NULL;
    }
    return csr;
}

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);

    X509_EXTENSION_free(ext);
    return ok;
}

/* Copy the CSR's SANs and TLS feature (must-staple) into the leaf. */
static int csr_exts_copy(X509 *x, X509_REQ *csr)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
    const int nids[] = { NID_subject_alt_name, NID_tlsfeature };
    int i, idx, ok = exts != NULL;

    for (i = 0; ok && i < 2; ++i) {
        idx = X509v3_get_ext_by_NID(exts, nids[i], -1);
        if (idx >= 0) ok = X509_add_ext(x, X509v3_get_ext(exts, idx), -1);
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok;
}

/* A certificate for pub valid [from, until]: the CA's own (self-signed) without csr, else a leaf for the CSR. */
static X509 *cert_build(fake_ca_t *ca, EVP_PKEY *pub, const X509_NAME *subject, X509_REQ *csr, apr_time_t from,
                        apr_time_t until)
{
    X509 *x = X509_new(), *issuer = csr ? md_cert_get_X509(ca->root) : x;
    X509V3_CTX v3;
    int ok;

    if (!x) return NULL;
    ok = X509_set_version(x, 2) && ASN1_INTEGER_set_int64(X509_get_serialNumber(x), ++ca->serial)
         && X509_set_subject_name(x, subject) && X509_set_issuer_name(x, X509_get_subject_name(issuer))
         && ASN1_TIME_set(X509_getm_notBefore(x), (time_t)apr_time_sec(from)) != NULL
         && ASN1_TIME_set(X509_getm_notAfter(x), (time_t)apr_time_sec(until)) != NULL && X509_set_pubkey(x, pub);
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ok = ok && ext_add(x, &v3, NID_basic_constraints, csr ? "critical,CA:FALSE" : "critical,CA:TRUE")
         && ext_add(x, &v3, NID_key_usage, csr ? "critical,digitalSignature,keyEncipherment"
                                                : "critical,keyCertSign,cRLSign")
         && ext_add(x, &v3, NID_subject_key_identifier, "hash")
         && ext_add(x, &v3, NID_authority_key_identifier, "keyid:always");
    if (ok && csr) ok = ext_add(x, &v3, NID_ext_key_usage, "serverAuth") && csr_exts_copy(x, csr);
    ok = ok && X509_sign(x, md_pkey_get_EVP_PKEY(ca->key), EVP_sha256()) > 0;
    if (!ok) {
        ERR_clear_error();
        X509_free(x);
        return NULL;
    }
    return x;
}

static const char *cert_pem(X509 *x, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    const char *pem = NULL;
    long len;

    if (bio && PEM_write_bio_X509(bio, x) == 1 && (len = BIO_get_mem_data(bio, &data)) > 0) {
        pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    return pem;
}

/* The lifetime of the order's certificate, in seconds: its first identifier's own, else the CA's. */
static long lifetime_of(fake_ca_t *ca, const fca_order_t *o)
{
    const char *id, *s;
    int i;

    for (i = 0; i < o->ids->nelts; ++i) {
        id = APR_ARRAY_IDX(o->ids, i, const char *);
        if ((s = apr_table_get(ca->lifetimes, strchr(id, ':') + 1)) != NULL) return atol(s);
    }
    return ca->set[FAKE_CA_SET_LIFETIME];
}

/* Issue the order's certificate for the CSR; NULL when OpenSSL failed. */
static fake_ca_cert_t *issue(fake_ca_t *ca, fca_order_t *o, X509_REQ *csr, apr_time_t now)
{
    X509 *x = cert_build(ca, X509_REQ_get0_pubkey(csr), X509_REQ_get_subject_name(csr), csr,
                         now - apr_time_from_sec(60), now + apr_time_from_sec(lifetime_of(ca, o)));
    fake_ca_cert_t *c;

    if (!x) return NULL;
    c = apr_pcalloc(ca->p, sizeof(*c));
    c->leaf = md_cert_wrap(x, ca->p);
    c->pem = cert_pem(x, ca->p);
    c->chain_pem = apr_pstrcat(ca->p, c->pem, ca->root_pem, NULL);
    c->serial_hex = md_cert_get_serial_hex(c->leaf, ca->p);
    md_cert_get_ari_cert_id(&c->ari_id, c->leaf, ca->p);
    c->names = names_join(o->ids, 1, ca->p);
    c->replaces = o->replaces;
    c->not_before = md_cert_get_not_before(c->leaf);
    c->not_after = md_cert_get_not_after(c->leaf);
    APR_ARRAY_PUSH(ca->certs, fake_ca_cert_t *) = c;
    return c;
}

static void h_finalize(fca_req_t *r)
{
    fca_order_t *o = owned(r, r->ca->orders, "order");
    X509_REQ *csr;

    if (!o) return;
    order_refresh(r->ca, o, r->now);
    if (strcmp(o->status, "ready")) {
        problem(r, 403, "orderNotReady", apr_psprintf(r->p, "order %d is %s", r->n, o->status));
        return;
    }
    if (!(csr = csr_get(r, o))) return;
    o->cert = issue(r->ca, o, csr, r->now);
    X509_REQ_free(csr);
    if (!o->cert) {
        problem(r, 500, "serverInternal", "the fake CA could not make the certificate");
        return;
    }
    o->polls_left = (int)r->ca->set[FAKE_CA_SET_ORDER_POLLS];
    o->status = o->polls_left ? "processing" : "valid";
    order_answer(r, o, r->n, 200);
}

static void h_cert(fca_req_t *r)
{
    fca_order_t *o = owned(r, r->ca->orders, "order");

    if (!o) return;
    if (!o->cert || strcmp(o->status, "valid")) {
        problem(r, 404, "malformed", apr_psprintf(r->p, "order %d has no certificate (yet)", r->n));
        return;
    }
    answer(r, 200, "application/pem-certificate-chain", o->cert->chain_pem);
}

/* ---- ARI and revocation ------------------------------------------------------------------------------ */

static void h_ari(fca_req_t *r)
{
    const char *id = r->path + strlen("/ari/");
    const fake_ca_cert_t *c = NULL;
    md_json_t *json = md_json_create(r->p);
    apr_time_t start, end;
    int i;

    for (i = 0; r->ca->set[FAKE_CA_SET_ARI] && i < r->ca->certs->nelts && !c; ++i) {
        c = APR_ARRAY_IDX(r->ca->certs, i, const fake_ca_cert_t *);
        if (!c->ari_id || strcmp(c->ari_id, id)) c = NULL;
    }
    if (!c) {
        problem(r, 404, "malformed", apr_psprintf(r->p, "no renewal information for '%s'", id));
        return;
    }
    fake_ca_ari_window(r->ca, c, &start, &end);
    md_json_sets(md_time_print_rfc3339(start, r->p), json, "suggestedWindow", "start", NULL);
    md_json_sets(md_time_print_rfc3339(end, r->p), json, "suggestedWindow", "end", NULL);
    apr_table_set(r->resp->headers, "Retry-After", apr_ltoa(r->p, r->ca->set[FAKE_CA_SET_ARI_RETRY_AFTER]));
    answer_json(r, 200, json);
}

static void h_revoke(fca_req_t *r)
{
    unsigned char *der = NULL;
    apr_size_t len = 0;
    md_data_t data;
    md_cert_t *cert = NULL;
    fake_ca_cert_t *c = NULL;
    const char *serial;
    int i;

    if (!b64_member(&der, &len, r->args, "certificate", r->p)) {
        problem(r, 400, "malformed", "revokeCert without a certificate");
        return;
    }
    data.data = (const char *)der;
    data.len = len;
    serial = md_cert_from_der(&cert, &data, r->p) == APR_SUCCESS ? md_cert_get_serial_hex(cert, r->p) : "";
    for (i = 0; i < r->ca->certs->nelts && !c; ++i) {
        c = APR_ARRAY_IDX(r->ca->certs, i, fake_ca_cert_t *);
        if (strcmp(c->serial_hex, serial)) c = NULL;
    }
    if (!c) problem(r, 404, "malformed", "not a certificate of this CA");
    else if (c->revoked) problem(r, 400, "alreadyRevoked", "the certificate is revoked already");
    else if (r->jwk_key && !md_cert_matches_key(c->leaf, r->jwk_key)) {
        problem(r, 403, "unauthorized", "the jwk is not the certificate's key");
    }
    else {
        c->revoked = 1;
        answer(r, 200, NULL, NULL);
    }
}

/* ---- requests ---------------------------------------------------------------------------------------- */

typedef struct {
    void (*fn)(fca_req_t *r);
    int post;        /* a JWS to check first */
    int jwk_ok;      /* may be signed with a jwk */
} fca_handler_t;

static const fca_handler_t handlers[FAKE_CA_KINDS] = {
    [FAKE_CA_DIRECTORY] = { h_directory, 0, 0 },
    [FAKE_CA_NONCE] = { h_nonce, 0, 0 },
    [FAKE_CA_NEW_ACCOUNT] = { h_new_account, 1, 1 },
    [FAKE_CA_NEW_ORDER] = { h_new_order, 1, 0 },
    [FAKE_CA_AUTHZ] = { h_authz, 1, 0 },
    [FAKE_CA_CHALLENGE] = { h_challenge, 1, 0 },
    [FAKE_CA_ORDER] = { h_order, 1, 0 },
    [FAKE_CA_FINALIZE] = { h_finalize, 1, 0 },
    [FAKE_CA_CERT] = { h_cert, 1, 0 },
    [FAKE_CA_ARI] = { h_ari, 0, 0 },
    [FAKE_CA_REVOKE] = { h_revoke, 1, 1 },
};

static const struct {
    const char *path;
    fake_ca_kind_t kind;
} post_paths[] = {
    { "/new-acct", FAKE_CA_NEW_ACCOUNT }, { "/new-order", FAKE_CA_NEW_ORDER },
    { "/authz/", FAKE_CA_AUTHZ }, { "/chall/", FAKE_CA_CHALLENGE }, { "/order/", FAKE_CA_ORDER },
    { "/finalize/", FAKE_CA_FINALIZE }, { "/cert/", FAKE_CA_CERT }, { "/revoke-cert", FAKE_CA_REVOKE },
};

/* The kind of request; for "/what/N..." paths also r->n and r->rest. */
static fake_ca_kind_t classify(fca_req_t *r)
{
    const char *m = r->req->method, *path = r->path;
    apr_size_t i, len;
    char *end = NULL;

    if (!path) return FAKE_CA_OTHER;
    if (!strcmp(m, "GET") && !strcmp(path, "/dir")) return FAKE_CA_DIRECTORY;
    if ((!strcmp(m, "GET") || !strcmp(m, "HEAD")) && !strcmp(path, "/nonce")) return FAKE_CA_NONCE;
    if (!strcmp(m, "GET") && !strncmp(path, "/ari/", 5)) return FAKE_CA_ARI;
    if (strcmp(m, "POST")) return FAKE_CA_OTHER;
    for (i = 0; i < sizeof(post_paths) / sizeof(post_paths[0]); ++i) {
        len = strlen(post_paths[i].path);
        if (post_paths[i].path[len - 1] != '/') {
            if (!strcmp(path, post_paths[i].path)) return post_paths[i].kind;
            continue;
        }
        if (strncmp(path, post_paths[i].path, len)) continue;
        r->n = (int)strtol(path + len, &end, 10);
        r->rest = end;
        return post_paths[i].kind;
    }
    return FAKE_CA_OTHER;
}

/* An injected failure for this kind of request: answered (1) or not (0). */
static int injected(fca_req_t *r, fake_ca_kind_t kind)
{
    fca_fail_t *f;
    int i;

    for (i = 0; i < r->ca->fails->nelts; ++i) {
        f = &APR_ARRAY_IDX(r->ca->fails, i, fca_fail_t);
        if (f->count <= 0 || (f->kind != FAKE_CA_ANY && f->kind != kind)) continue;
        f->count--;
        if (f->retry_after > 0) apr_table_set(r->resp->headers, "Retry-After", apr_itoa(r->p, f->retry_after));
        problem(r, f->status, f->type, f->detail);
        return 1;
    }
    return 0;
}

static void dispatch(fca_req_t *r, fake_ca_kind_t kind)
{
    const fca_handler_t *h = &handlers[kind];

    if (!h->fn) {
        problem(r, 404, "malformed", apr_psprintf(r->p, "the fake CA has no %s %s", r->req->method, r->req->url));
        return;
    }
    if (h->post && !jws_check(r, h->jwk_ok)) return;
    h->fn(r);
}

static apr_status_t ca_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                               const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    fake_ca_t *ca = baton;
    apr_size_t blen = strlen(ca->base);
    fake_ca_kind_t kind;
    fca_req_t r;

    (void)opts;
    *presp = NULL;
    memset(&r, 0, sizeof(r));
    r.ca = ca;
    r.req = req;
    r.p = p;
    r.resp = apr_pcalloc(p, sizeof(*r.resp));
    r.resp->url = apr_pstrdup(p, req->url);
    r.resp->headers = apr_table_make(p, 8);
    if (!strncmp(req->url, ca->base, blen) && req->url[blen] == '/') r.path = req->url + blen;
    apr_thread_mutex_lock(ca->mutex);
    r.now = md_clock_now(ca->clock);
    kind = classify(&r);
    ca->counts[FAKE_CA_ANY]++;
    ca->counts[kind]++;
    if (ca->set[FAKE_CA_SET_DOWN]) {
        apr_thread_mutex_unlock(ca->mutex);
        md_result_printf(result, APR_ECONNREFUSED, "fake CA %s is down: connection refused (%s %s)", ca->base,
                         req->method, req->url);
        return APR_ECONNREFUSED;
    }
    if (!injected(&r, kind)) dispatch(&r, kind);
    if (kind != FAKE_CA_DIRECTORY && kind != FAKE_CA_ARI) {     /* as Boulder and pebble: no nonce on those */
        apr_table_set(r.resp->headers, "Replay-Nonce", nonce_new(ca, p));
    }
    apr_thread_mutex_unlock(ca->mutex);
    *presp = r.resp;
    return APR_SUCCESS;
}

/* ---- the API ----------------------------------------------------------------------------------------- */

static void ca_root_make(fake_ca_t *ca)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    apr_time_t now = md_clock_now(ca->clock);
    X509_NAME *name = X509_NAME_new();
    X509 *x;

    if (md_pkey_gen(&ca->key, &spec, ca->p) != APR_SUCCESS || !name) abort();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"mdomain fake CA", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)ca->base, -1, -1, 0);
    x = cert_build(ca, md_pkey_get_EVP_PKEY(ca->key), name, NULL, now - DAY, now + 20 * 365 * DAY);
    X509_NAME_free(name);
    if (!x) abort();
    ca->root = md_cert_wrap(x, ca->p);
    ca->root_pem = cert_pem(x, ca->p);
}

fake_ca_t *fake_ca_create(const char *base_url, const md_clock_t *clock, apr_pool_t *p)
{
    fake_ca_t *ca = apr_pcalloc(p, sizeof(*ca));

    /* a pool of its own, only used under the CA's lock: p may be used by other threads meanwhile */
    if (apr_pool_create(&ca->p, p) != APR_SUCCESS
        || apr_thread_mutex_create(&ca->mutex, APR_THREAD_MUTEX_NESTED, p) != APR_SUCCESS) {
        abort();
    }
    p = ca->p;
    ca->backend.name = "fake-ca";
    ca->backend.perform = ca_perform;
    ca->backend.baton = ca;
    ca->base = apr_pstrdup(p, base_url);
    ca->clock = clock;
    ca->set[FAKE_CA_SET_LIFETIME] = 90 * 86400;
    ca->set[FAKE_CA_SET_AUTHZ_REUSE] = 1;
    ca->set[FAKE_CA_SET_ARI_RETRY_AFTER] = 21600;
    ca->lifetimes = apr_table_make(p, 4);
    ca->serial = 0x1000;
    ca->failing_ids = apr_table_make(p, 4);
    ca->fails = apr_array_make(p, 4, sizeof(fca_fail_t));
    ca->nonces = apr_array_make(p, 256, sizeof(char));
    ca->accts = apr_array_make(p, 4, sizeof(fca_acct_t *));
    ca->authzs = apr_array_make(p, 16, sizeof(fca_authz_t *));
    ca->orders = apr_array_make(p, 16, sizeof(fca_order_t *));
    ca->certs = apr_array_make(p, 16, sizeof(fake_ca_cert_t *));
    ca_root_make(ca);
    return ca;
}

const md_http_backend_t *fake_ca_backend(fake_ca_t *ca)
{
    return &ca->backend;
}

const char *fake_ca_directory_url(fake_ca_t *ca)
{
    return apr_pstrcat(ca->p, ca->base, "/dir", NULL);
}

md_cert_t *fake_ca_root(fake_ca_t *ca)
{
    return ca->root;
}

void fake_ca_set(fake_ca_t *ca, fake_ca_setting_t setting, long value)
{
    if ((unsigned)setting >= FAKE_CA_SETTINGS) return;
    apr_thread_mutex_lock(ca->mutex);
    ca->set[setting] = value;
    apr_thread_mutex_unlock(ca->mutex);
}

/* A counter, read under the lock. */
static int get_int(fake_ca_t *ca, const int *field)
{
    int value;

    apr_thread_mutex_lock(ca->mutex);
    value = *field;
    apr_thread_mutex_unlock(ca->mutex);
    return value;
}

void fake_ca_set_validate(fake_ca_t *ca, fake_ca_validate_cb *cb, void *baton)
{
    apr_thread_mutex_lock(ca->mutex);
    ca->validate = cb;
    ca->validate_baton = baton;
    apr_thread_mutex_unlock(ca->mutex);
}

void fake_ca_set_lifetime_for(fake_ca_t *ca, const char *identifier, long seconds)
{
    apr_thread_mutex_lock(ca->mutex);
    if (seconds > 0) apr_table_set(ca->lifetimes, lower(identifier, ca->p), apr_ltoa(ca->p, seconds));
    else apr_table_unset(ca->lifetimes, lower(identifier, ca->p));
    apr_thread_mutex_unlock(ca->mutex);
}

void fake_ca_fail_validation(fake_ca_t *ca, const char *identifier, const char *detail)
{
    apr_thread_mutex_lock(ca->mutex);
    if (detail) apr_table_set(ca->failing_ids, identifier, detail);
    else apr_table_unset(ca->failing_ids, identifier);
    apr_thread_mutex_unlock(ca->mutex);
}

void fake_ca_fail_next(fake_ca_t *ca, fake_ca_kind_t kind, int count, int http_status, const char *short_type,
                       const char *detail, int retry_after)
{
    fca_fail_t *f;

    apr_thread_mutex_lock(ca->mutex);
    f = apr_array_push(ca->fails);
    f->kind = kind;
    f->count = count;
    f->status = http_status;
    f->retry_after = retry_after;
    f->type = apr_pstrdup(ca->p, short_type);
    f->detail = detail ? apr_pstrdup(ca->p, detail) : NULL;
    apr_thread_mutex_unlock(ca->mutex);
}

int fake_ca_count(fake_ca_t *ca, fake_ca_kind_t kind)
{
    return (unsigned)kind < FAKE_CA_KINDS ? get_int(ca, &ca->counts[kind]) : 0;
}

int fake_ca_accounts(fake_ca_t *ca)
{
    return get_int(ca, &ca->accts->nelts);
}

int fake_ca_bad_nonces(fake_ca_t *ca)
{
    return get_int(ca, &ca->bad_nonces);
}

int fake_ca_issued_count(fake_ca_t *ca)
{
    return get_int(ca, &ca->certs->nelts);
}

apr_array_header_t *fake_ca_issued(fake_ca_t *ca, const char *names, apr_pool_t *p)
{
    apr_array_header_t *found = apr_array_make(p, 4, sizeof(const fake_ca_cert_t *)), *split;
    const fake_ca_cert_t *c;
    char *copy, *name, *state = NULL;
    const char *key = NULL;
    int i;

    if (names) {
        split = apr_array_make(p, 4, sizeof(const char *));
        copy = apr_pstrdup(p, names);
        for (name = apr_strtok(copy, ", ", &state); name; name = apr_strtok(NULL, ", ", &state)) {
            APR_ARRAY_PUSH(split, const char *) = lower(name, p);
        }
        key = names_join(split, 0, p);
    }
    apr_thread_mutex_lock(ca->mutex);
    for (i = 0; i < ca->certs->nelts; ++i) {
        c = APR_ARRAY_IDX(ca->certs, i, const fake_ca_cert_t *);
        if (!key || !strcmp(c->names, key)) APR_ARRAY_PUSH(found, const fake_ca_cert_t *) = c;
    }
    apr_thread_mutex_unlock(ca->mutex);
    return found;
}

void fake_ca_ari_window(fake_ca_t *ca, const fake_ca_cert_t *cert, apr_time_t *pstart, apr_time_t *pend)
{
    apr_time_t life = apr_time_sec(cert->not_after - cert->not_before), now;

    apr_thread_mutex_lock(ca->mutex);
    now = md_clock_now(ca->clock);
    if (ca->set[FAKE_CA_SET_ARI_URGENT] || cert->revoked
        || cert->not_before < apr_time_from_sec(ca->set[FAKE_CA_SET_ARI_URGENT_BEFORE])) {
        *pstart = now - apr_time_from_sec(2 * 3600);
        *pend = now - apr_time_from_sec(3600);
    }
    else {
        *pstart = cert->not_before + apr_time_from_sec(life * 2 / 3 + ca->set[FAKE_CA_SET_ARI_SHIFT]);
        *pend = cert->not_before + apr_time_from_sec(life * 5 / 6 + ca->set[FAKE_CA_SET_ARI_SHIFT]);
    }
    apr_thread_mutex_unlock(ca->mutex);
}
