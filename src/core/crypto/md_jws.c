/* JWS (flattened JSON, RS256/ES256/ES384/HS256), JWK export and RFC 7638 thumbprints, ACME key authorizations. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "md_encode.h"
#include "md_jws.h"

/* ---- JWK --------------------------------------------------------------------------------------------- */

/* The big-endian bytes of a BIGNUM parameter, left-padded to pad bytes when pad > 0, as base64url. */
static const char *bn_param_b64url(const EVP_PKEY *evp, const char *param, int pad, apr_pool_t *p)
{
    BIGNUM *bn = NULL;
    const char *s = NULL;
    unsigned char *buf;
    int len;

    if (!EVP_PKEY_get_bn_param(evp, param, &bn)) goto leave;
    len = (pad > 0) ? pad : BN_num_bytes(bn);
    if (len <= 0 || BN_num_bytes(bn) > len) goto leave;
    buf = apr_palloc(p, (apr_size_t)len);
    if (BN_bn2binpad(bn, buf, len) != len) goto leave;
    s = md_b64url_encode(buf, (apr_size_t)len, p);
leave:
    BN_free(bn);
    ERR_clear_error();
    return s;
}

/* The JOSE curve name of an EC key ("P-256", "P-384"), or NULL. */
static const char *ec_crv(const md_pkey_t *pkey)
{
    char name[80];
    size_t len = 0;

    if (md_pkey_get_type(pkey) != MD_PKEY_EC
        || !EVP_PKEY_get_utf8_string_param(md_pkey_get_EVP_PKEY(pkey), OSSL_PKEY_PARAM_GROUP_NAME,
                                           name, sizeof(name), &len)) {
        ERR_clear_error();
        return NULL;
    }
    switch (OBJ_sn2nid(name)) {
    case NID_X9_62_prime256v1: return "P-256";
    case NID_secp384r1: return "P-384";
    default: return NULL;
    }
}

/* The size in bytes of one coordinate (or one ECDSA signature half) of an EC key. */
static int ec_field_size(const md_pkey_t *pkey)
{
    return (int)((md_pkey_get_bits(pkey) + 7) / 8);
}

apr_status_t md_jwk_get(md_json_t **pjwk, const md_pkey_t *pkey, apr_pool_t *p)
{
    EVP_PKEY *evp = md_pkey_get_EVP_PKEY(pkey);
    md_json_t *jwk = md_json_create(p);
    const char *a, *b, *crv;

    *pjwk = NULL;
    if (!evp) return APR_EINVAL;
    if (md_pkey_get_type(pkey) == MD_PKEY_RSA) {
        a = bn_param_b64url(evp, OSSL_PKEY_PARAM_RSA_E, 0, p);
        b = bn_param_b64url(evp, OSSL_PKEY_PARAM_RSA_N, 0, p);
        if (!a || !b) return APR_EGENERAL;
        md_json_sets(a, jwk, "e", NULL);
        md_json_sets("RSA", jwk, "kty", NULL);
        md_json_sets(b, jwk, "n", NULL);
    }
    else {
        crv = ec_crv(pkey);
        if (!crv) return APR_ENOTIMPL;
        a = bn_param_b64url(evp, OSSL_PKEY_PARAM_EC_PUB_X, ec_field_size(pkey), p);
        b = bn_param_b64url(evp, OSSL_PKEY_PARAM_EC_PUB_Y, ec_field_size(pkey), p);
        if (!a || !b) return APR_EGENERAL;
        md_json_sets(crv, jwk, "crv", NULL);
        md_json_sets("EC", jwk, "kty", NULL);
        md_json_sets(a, jwk, "x", NULL);
        md_json_sets(b, jwk, "y", NULL);
    }
    *pjwk = jwk;
    return APR_SUCCESS;
}

static apr_status_t sha256_b64url(const char **pb64, const void *data, apr_size_t len, apr_pool_t *p)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    *pb64 = NULL;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL)) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    *pb64 = md_b64url_encode(md, mdlen, p);
    return APR_SUCCESS;
}

apr_status_t md_jwk_thumbprint_json(const char **pthumb, const md_json_t *jwk, apr_pool_t *p)
{
    static const char *const rsa_members[] = { "e", "kty", "n", NULL };
    static const char *const ec_members[] = { "crv", "kty", "x", "y", NULL };
    static const char *const oct_members[] = { "k", "kty", NULL };
    const char *const *members;
    const char *kty = md_json_gets(jwk, "kty", NULL), *value, *text;
    md_json_t *req;

    *pthumb = NULL;
    if (!kty) return APR_EINVAL;
    if (!strcmp(kty, "RSA")) members = rsa_members;
    else if (!strcmp(kty, "EC")) members = ec_members;
    else if (!strcmp(kty, "oct")) members = oct_members;
    else return APR_ENOTIMPL;
    req = md_json_create(p);
    for (; *members; ++members) {
        value = md_json_gets(jwk, *members, NULL);
        if (!value) return APR_EINVAL;
        md_json_sets(value, req, *members, NULL);
    }
    text = md_json_write_sorted(req, p);
    if (!text) return APR_EGENERAL;
    return sha256_b64url(pthumb, text, strlen(text), p);
}

apr_status_t md_jwk_thumbprint(const char **pthumb, const md_pkey_t *pkey, apr_pool_t *p)
{
    md_json_t *jwk;
    apr_status_t rv;

    *pthumb = NULL;
    rv = md_jwk_get(&jwk, pkey, p);
    if (rv != APR_SUCCESS) return rv;
    return md_jwk_thumbprint_json(pthumb, jwk, p);
}

const char *md_jws_alg(const md_pkey_t *pkey)
{
    const char *crv;

    if (!md_pkey_get_EVP_PKEY(pkey)) return NULL;
    if (md_pkey_get_type(pkey) == MD_PKEY_RSA) return "RS256";
    crv = ec_crv(pkey);
    if (!crv) return NULL;
    return !strcmp(crv, "P-256") ? "ES256" : "ES384";
}

/* ---- signatures ---------------------------------------------------------------------------------------- */

static const EVP_MD *alg_md(const char *alg)
{
    return !strcmp(alg, "ES384") ? EVP_sha384() : EVP_sha256();
}

/* Convert a DER ECDSA signature to the fixed-size r||s form of JWS (2 * n bytes). */
static apr_status_t ecdsa_der_to_raw(md_data_t **psig, const unsigned char *der, size_t der_len, int n,
                                     apr_pool_t *p)
{
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)der_len);
    const BIGNUM *r = NULL, *s = NULL;
    unsigned char *raw;
    apr_status_t rv = APR_EGENERAL;

    if (!sig) goto leave;
    ECDSA_SIG_get0(sig, &r, &s);
    raw = apr_palloc(p, (apr_size_t)(2 * n));
    if (BN_bn2binpad(r, raw, n) != n || BN_bn2binpad(s, raw + n, n) != n) goto leave;
    *psig = md_data_make((const char *)raw, (apr_size_t)(2 * n), p);
    rv = APR_SUCCESS;
leave:
    ECDSA_SIG_free(sig);
    return rv;
}

/* Convert a JWS r||s ECDSA signature to DER, allocated by OpenSSL (free with OPENSSL_free). */
static apr_status_t ecdsa_raw_to_der(unsigned char **pder, int *plen, const md_data_t *raw, int n)
{
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *s = NULL;
    apr_status_t rv = APR_EINVAL;

    *pder = NULL;
    if (raw->len != (apr_size_t)(2 * n)) goto leave;
    rv = APR_EGENERAL;
    sig = ECDSA_SIG_new();
    r = BN_bin2bn((const unsigned char *)raw->data, n, NULL);
    s = BN_bin2bn((const unsigned char *)raw->data + n, n, NULL);
    if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s)) goto leave;
    r = s = NULL;
    *plen = i2d_ECDSA_SIG(sig, pder);
    if (*plen > 0) rv = APR_SUCCESS;
leave:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rv;
}

static apr_status_t pkey_sign(md_data_t **psig, const char *input, const char *alg, const md_pkey_t *pkey,
                              apr_pool_t *p)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = NULL;
    size_t len = 0;
    apr_status_t rv = APR_EGENERAL;

    if (!ctx) return APR_ENOMEM;
    if (EVP_DigestSignInit(ctx, NULL, alg_md(alg), NULL, md_pkey_get_EVP_PKEY(pkey)) != 1) goto leave;
    if (EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input, strlen(input)) != 1) goto leave;
    buf = apr_palloc(p, len);
    if (EVP_DigestSign(ctx, buf, &len, (const unsigned char *)input, strlen(input)) != 1) goto leave;
    if (md_pkey_get_type(pkey) == MD_PKEY_EC) {
        rv = ecdsa_der_to_raw(psig, buf, len, ec_field_size(pkey), p);
    }
    else {
        *psig = md_data_make((const char *)buf, len, p);
        rv = APR_SUCCESS;
    }
leave:
    if (rv != APR_SUCCESS) ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return rv;
}

static apr_status_t pkey_verify(const char *input, const md_data_t *sig, const char *alg,
                                const md_pkey_t *pkey)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    const unsigned char *sbytes = (const unsigned char *)sig->data;
    size_t slen = sig->len;
    int der_len = 0;
    apr_status_t rv = APR_EINVAL;

    if (!ctx) return APR_ENOMEM;
    if (md_pkey_get_type(pkey) == MD_PKEY_EC) {
        rv = ecdsa_raw_to_der(&der, &der_len, sig, ec_field_size(pkey));
        if (rv != APR_SUCCESS) goto leave;
        sbytes = der;
        slen = (size_t)der_len;
        rv = APR_EINVAL;
    }
    if (EVP_DigestVerifyInit(ctx, NULL, alg_md(alg), NULL, md_pkey_get_EVP_PKEY(pkey)) != 1) goto leave;
    if (EVP_DigestVerify(ctx, sbytes, slen, (const unsigned char *)input, strlen(input)) != 1) goto leave;
    rv = APR_SUCCESS;
leave:
    ERR_clear_error();
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    return rv;
}

static apr_status_t hmac_sha256(md_data_t **pmac, const char *input, const md_data_t *key, apr_pool_t *p)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t len = 0;

    if (!key || !key->data || key->len == 0) return APR_EINVAL;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->data, key->len,
                   (const unsigned char *)input, strlen(input), mac, sizeof(mac), &len)) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    *pmac = md_data_make((const char *)mac, len, p);
    return APR_SUCCESS;
}

/* ---- flattened JWS ----------------------------------------------------------------------------------- */

/* Sign the protected header text and payload with pkey (or hmac when given) into a flattened JWS. */
static apr_status_t jws_flatten(md_json_t **pmsg, const char *prot_text, const md_data_t *payload,
                                const char *alg, const md_pkey_t *pkey, const md_data_t *hmac, apr_pool_t *p)
{
    const char *prot64, *payload64, *input;
    md_data_t *sig = NULL;
    md_json_t *msg;
    apr_status_t rv;

    prot64 = md_b64url_encode(prot_text, strlen(prot_text), p);
    payload64 = (payload && payload->len) ? md_b64url_encode(payload->data, payload->len, p) : "";
    input = apr_pstrcat(p, prot64, ".", payload64, NULL);
    rv = hmac ? hmac_sha256(&sig, input, hmac, p) : pkey_sign(&sig, input, alg, pkey, p);
    if (rv != APR_SUCCESS) goto leave;
    msg = md_json_create(p);
    md_json_sets(prot64, msg, "protected", NULL);
    md_json_sets(payload64, msg, "payload", NULL);
    md_json_sets(md_b64url_encode(sig->data, sig->len, p), msg, "signature", NULL);
    *pmsg = msg;
leave:
    return rv;
}

static int copy_member(void *baton, const char *key, md_json_t *value)
{
    return md_json_setj(value, (md_json_t *)baton, key, NULL) == APR_SUCCESS;
}

apr_status_t md_jws_sign(md_json_t **pmsg, const md_data_t *payload, const md_json_t *prot_fields,
                         const md_pkey_t *pkey, const char *kid, apr_pool_t *p)
{
    const char *alg = md_jws_alg(pkey), *text;
    md_json_t *prot = md_json_create(p), *jwk = NULL;
    apr_status_t rv = APR_EINVAL;

    *pmsg = NULL;
    if (!alg) goto leave;
    md_json_sets(alg, prot, "alg", NULL);
    if (kid) {
        md_json_sets(kid, prot, "kid", NULL);
    }
    else {
        rv = md_jwk_get(&jwk, pkey, p);
        if (rv != APR_SUCCESS) goto leave;
        md_json_setj(jwk, prot, "jwk", NULL);
    }
    rv = APR_EINVAL;
    if (prot_fields && !md_json_iterkey(copy_member, prot, prot_fields, NULL)) goto leave;
    text = md_json_writep(prot, MD_JSON_FMT_COMPACT, p);
    if (!text) goto leave;
    rv = jws_flatten(pmsg, text, payload, alg, pkey, NULL, p);
leave:
    return rv;
}

apr_status_t md_jws_eab_sign(md_json_t **pmsg, const md_json_t *account_jwk, const char *kid,
                             const md_data_t *hmac, const char *url, apr_pool_t *p)
{
    md_json_t *prot = md_json_create(p);
    const char *prot_text, *jwk_text;

    *pmsg = NULL;
    if (!account_jwk || !kid || !url || !hmac || hmac->len == 0) return APR_EINVAL;
    md_json_sets("HS256", prot, "alg", NULL);
    md_json_sets(kid, prot, "kid", NULL);
    md_json_sets(url, prot, "url", NULL);
    prot_text = md_json_writep(prot, MD_JSON_FMT_COMPACT, p);
    jwk_text = md_json_writep(account_jwk, MD_JSON_FMT_COMPACT, p);
    if (!prot_text || !jwk_text) return APR_EGENERAL;
    return jws_flatten(pmsg, prot_text, md_data_from_str(jwk_text, p), "HS256", NULL, hmac, p);
}

/* Decode a base64url member of msg; APR_EINVAL when missing or malformed. */
static apr_status_t member_decode(md_data_t **pdata, const char **pb64, const md_json_t *msg,
                                  const char *name, apr_pool_t *p)
{
    unsigned char *data = NULL;
    apr_size_t len = 0;
    const char *b64 = md_json_gets(msg, name, NULL);
    apr_status_t rv;

    if (!b64) return APR_EINVAL;
    if (*b64) {
        rv = md_b64url_decode(&data, &len, b64, p);
        if (rv != APR_SUCCESS) return APR_EINVAL;
    }
    *pdata = md_data_make(data ? (const char *)data : "", len, p);
    if (pb64) *pb64 = b64;
    return APR_SUCCESS;
}

static apr_status_t check_signature(const char *input, const md_data_t *sig, const char *alg,
                                    const md_pkey_t *pkey, const md_data_t *hmac, apr_pool_t *p)
{
    md_data_t *mac = NULL;
    const char *key_alg;
    apr_status_t rv;

    if (!strcmp(alg, "HS256")) {
        if (!hmac) return APR_EINVAL;
        rv = hmac_sha256(&mac, input, hmac, p);
        if (rv != APR_SUCCESS) return rv;
        if (mac->len != sig->len || CRYPTO_memcmp(mac->data, sig->data, mac->len)) return APR_EINVAL;
        return APR_SUCCESS;
    }
    key_alg = pkey ? md_jws_alg(pkey) : NULL;
    if (!key_alg || strcmp(key_alg, alg)) return APR_EINVAL;
    return pkey_verify(input, sig, alg, pkey);
}

apr_status_t md_jws_verify(md_data_t **ppayload, const md_json_t *msg, const md_pkey_t *pkey,
                           const md_data_t *hmac, apr_pool_t *p)
{
    md_data_t *prot = NULL, *payload = NULL, *sig = NULL;
    const char *prot64 = NULL, *payload64 = NULL, *alg;
    md_json_t *header = NULL;
    apr_status_t rv;

    *ppayload = NULL;
    rv = member_decode(&prot, &prot64, msg, "protected", p);
    if (rv != APR_SUCCESS) goto leave;
    rv = member_decode(&payload, &payload64, msg, "payload", p);
    if (rv != APR_SUCCESS) goto leave;
    rv = member_decode(&sig, NULL, msg, "signature", p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_json_readd(&header, prot->data, prot->len, "JWS protected header", NULL, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = APR_EINVAL;
    alg = md_json_gets(header, "alg", NULL);
    if (!alg) goto leave;
    rv = check_signature(apr_pstrcat(p, prot64, ".", payload64, NULL), sig, alg, pkey, hmac, p);
    if (rv != APR_SUCCESS) goto leave;
    *ppayload = payload;
leave:
    return rv;
}

/* ---- ACME helpers --------------------------------------------------------------------------------------- */

const char *md_jws_key_authz(const char *token, const char *thumbprint, apr_pool_t *p)
{
    return apr_pstrcat(p, token, ".", thumbprint, NULL);
}

const char *md_jws_dns01_txt(const char *key_authz, apr_pool_t *p)
{
    const char *txt = NULL;

    sha256_b64url(&txt, key_authz, strlen(key_authz), p);
    return txt;
}
