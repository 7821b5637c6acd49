/* JWS (RFC 7515, flattened JSON): RS256, ES256, ES384, HS256 (EAB); JWK export and thumbprint (RFC 7638);
 * ACME key authorizations and the dns-01 TXT value. */
#ifndef MD_JWS_H
#define MD_JWS_H

#include <apr_pools.h>

#include "md_data.h"
#include "md_json.h"
#include "md_pkey.h"

/* The public JWK of a key: RSA {"e","kty":"RSA","n"}, EC {"crv":"P-256"|"P-384","kty":"EC","x","y"}
 * (x and y left-padded to the curve's size). */
apr_status_t md_jwk_get(md_json_t **pjwk, const md_pkey_t *pkey, apr_pool_t *p);
/* RFC 7638 thumbprint: base64url(SHA-256(the required members, sorted, no whitespace)). */
apr_status_t md_jwk_thumbprint(const char **pthumb, const md_pkey_t *pkey, apr_pool_t *p);
apr_status_t md_jwk_thumbprint_json(const char **pthumb, const md_json_t *jwk, apr_pool_t *p);

/* The JWS algorithm for a key: "RS256", "ES256" (P-256), "ES384" (P-384); NULL for others. */
const char *md_jws_alg(const md_pkey_t *pkey);

/* Sign payload (NULL payload means "" for POST-as-GET) into a flattened JWS
 * {"protected","payload","signature"}. The protected header gets "alg", then "kid" when kid is given, else
 * the "jwk"; plus every member of prot_fields (e.g. "nonce", "url"). */
apr_status_t md_jws_sign(md_json_t **pmsg, const md_data_t *payload, const md_json_t *prot_fields,
                         const md_pkey_t *pkey, const char *kid, apr_pool_t *p);
/* HS256 for external account binding: protected {"alg":"HS256","kid","url"}, payload = the JWK of the
 * account key, HMAC key = hmac (raw bytes). */
apr_status_t md_jws_eab_sign(md_json_t **pmsg, const md_json_t *account_jwk, const char *kid,
                             const md_data_t *hmac, const char *url, apr_pool_t *p);
/* Verify a flattened JWS made with a public key (RS256/ES256/ES384) or an HMAC key (HS256, hmac given).
 * On success *ppayload holds the decoded payload. APR_EINVAL on a bad signature or format. */
apr_status_t md_jws_verify(md_data_t **ppayload, const md_json_t *msg, const md_pkey_t *pkey,
                           const md_data_t *hmac, apr_pool_t *p);

/* ACME key authorization: token "." thumbprint. */
const char *md_jws_key_authz(const char *token, const char *thumbprint, apr_pool_t *p);
/* dns-01 TXT value: base64url(SHA-256(key_authz)). */
const char *md_jws_dns01_txt(const char *key_authz, apr_pool_t *p);

#endif
