/* The fake ACME CA: nonces, account keys from JWKs and the JWS of each POST checked. */
#include "fake_ca_int.h"

/* ---- nonces, keys and the JWS ------------------------------------------------------------------------ */

const char *fca_nonce_new(fake_ca_t *ca, apr_pool_t *p)
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

int fca_b64_member(unsigned char **pdata, apr_size_t *plen, const md_json_t *json, const char *key,
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
    if (!group || !fca_b64_member(&x, &xlen, jwk, "x", p) || !fca_b64_member(&y, &ylen, jwk, "y", p)) return 0;
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

    if (!fca_b64_member(&n, &nlen, jwk, "n", p) || !fca_b64_member(&e, &elen, jwk, "e", p)) return 0;
    *pn = BN_bin2bn(n, (int)nlen, NULL);
    *pe = BN_bin2bn(e, (int)elen, NULL);
    return *pn && *pe && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *pn)
           && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *pe);
}

/* The public key of an EC (P-256, P-384) or RSA JWK, NULL when it is none. */
md_pkey_t *fca_jwk_key(const md_json_t *jwk, apr_pool_t *p)
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

    if (!fca_b64_member(&data, &len, msg, "protected", p)
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
            return fca_problem(r, 400, "malformed", "the request must be signed with a kid (the account URL)");
        }
        if (!(*pkey = r->jwk_key = fca_jwk_key(r->jwk, r->p))) {
            return fca_problem(r, 400, "badPublicKey", "unusable jwk");
        }
        return 1;
    }
    r->acct_n = url_num(r->ca, kid, "/acct/");
    if (!r->acct_n || r->acct_n > r->ca->accts->nelts) {
        return fca_problem(r, 400, "accountDoesNotExist", apr_psprintf(r->p, "no account %s", kid));
    }
    r->acct = APR_ARRAY_IDX(r->ca->accts, r->acct_n - 1, fca_acct_t *);
    *pkey = r->acct->key;
    return 1;
}

/* Check a POST's JWS: the url, the nonce, the signature; sets payload and args. 0 when answered. */
int fca_jws_check(fca_req_t *r, int jwk_ok)
{
    const md_data_t *body = r->req->body;
    md_json_t *msg = NULL, *prot = NULL;
    md_data_t *payload = NULL;
    md_pkey_t *key = NULL;
    const char *url;

    if (!body || !body->data || md_json_readd(&msg, body->data, body->len, "JWS", NULL, r->p) != APR_SUCCESS
        || !(prot = jws_protected(msg, r->p))) {
        return fca_problem(r, 400, "malformed", "the request body is not a flattened JWS");
    }
    url = md_json_gets(prot, "url", NULL);
    if (!url || strcmp(url, r->req->url)) {
        return fca_problem(r, 401, "unauthorized", "the JWS url is not the request URL");
    }
    if (!nonce_take(r->ca, md_json_gets(prot, "nonce", NULL))) {
        r->ca->bad_nonces++;
        return fca_problem(r, 400, "badNonce", "the nonce was not handed out, or is used up");
    }
    if (!jws_key(r, &key, prot, jwk_ok)) return 0;
    if (md_jws_verify(&payload, msg, key, NULL, r->p) != APR_SUCCESS) {
        return fca_problem(r, 400, "malformed", "the JWS signature does not verify");
    }
    if (payload->len
        && md_json_readd(&r->payload, payload->data, payload->len, "payload", NULL, r->p) != APR_SUCCESS) {
        return fca_problem(r, 400, "malformed", "the JWS payload is not JSON");
    }
    r->args = r->payload ? r->payload : md_json_create(r->p);
    return 1;
}

/* The object number r->n of objs, when it belongs to the request's account; else answered with a problem. */
void *fca_owned(fca_req_t *r, apr_array_header_t *objs, const char *what)
{
    int *obj = (r->n >= 1 && r->n <= objs->nelts) ? APR_ARRAY_IDX(objs, r->n - 1, int *) : NULL;

    if (!obj) {
        fca_problem(r, 404, "malformed", apr_psprintf(r->p, "no %s %d", what, r->n));
        return NULL;
    }
    if (*obj != r->acct_n) {
        fca_problem(r, 403, "unauthorized", apr_psprintf(r->p, "%s %d is another account's", what, r->n));
        return NULL;
    }
    return obj;
}

