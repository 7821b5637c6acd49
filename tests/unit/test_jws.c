/* Unit tests of md_jws: JWKs and thumbprints, JWS sign/verify (RS256, ES256, ES384, HS256), key authorizations. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "md_encode.h"
#include "md_file.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_pkey.h"
#include "test_common.h"

/* RFC 7638 section 3.1: the example RSA key (with members that are not part of the thumbprint). */
static const char rfc7638_jwk[] =
    "{\"kty\":\"RSA\","
    "\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMi"
    "cAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3X"
    "PksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\","
    "\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
static const char rfc7638_thumb[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* A value from data/jws/expected.txt (made by data/make-keys.sh with the openssl CLI). */
static const char *expected(const char *key, apr_pool_t *p)
{
    char *data = NULL, *line, *last = NULL;
    apr_size_t len = 0, klen = strlen(key);

    ck_assert_int_eq(md_file_read(&data, &len, md_test_data("jws/expected.txt", p), p), APR_SUCCESS);
    for (line = apr_strtok(data, "\n", &last); line; line = apr_strtok(NULL, "\n", &last)) {
        if (!strncmp(line, key, klen) && line[klen] == '=') return line + klen + 1;
    }
    ck_abort_msg("no '%s' in jws/expected.txt", key);
    return NULL;
}

static md_pkey_t *load_key(const char *name, apr_pool_t *p)
{
    md_pkey_t *pkey = NULL;
    const char *err = NULL;

    ck_assert_msg(md_pkey_fload(&pkey, md_test_data(name, p), NULL, 0, &err, p) == APR_SUCCESS,
                  "%s: %s", name, err ? err : "?");
    return pkey;
}

static md_json_t *json_of(const char *text, apr_pool_t *p)
{
    md_json_t *json = NULL;
    ck_assert_int_eq(md_json_readd(&json, text, strlen(text), "test", NULL, p), APR_SUCCESS);
    return json;
}

static md_data_t *b64_decode(const char *b64, apr_pool_t *p)
{
    unsigned char *data = NULL;
    apr_size_t len = 0;

    ck_assert_ptr_nonnull(b64);
    ck_assert_int_eq(md_b64url_decode(&data, &len, b64, p), APR_SUCCESS);
    return md_data_make((const char *)data, len, p);
}

/* The decoded protected header of a JWS, as text. */
static const char *protected_text(const md_json_t *msg, apr_pool_t *p)
{
    md_data_t *d = b64_decode(md_json_gets(msg, "protected", NULL), p);
    return apr_pstrmemdup(p, d->data, d->len);
}

START_TEST(thumbprint_rfc7638)
{
    apr_pool_t *p = md_test_pool();
    const char *thumb = NULL;

    ck_assert_int_eq(md_jwk_thumbprint_json(&thumb, json_of(rfc7638_jwk, p), p), APR_SUCCESS);
    ck_assert_str_eq(thumb, rfc7638_thumb);
    ck_assert_int_eq(md_jwk_thumbprint_json(&thumb, json_of("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", p), p),
                     APR_EINVAL);
    ck_assert_int_eq(md_jwk_thumbprint_json(&thumb, json_of("{\"e\":\"AQAB\"}", p), p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(jwk_rsa)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key("pkey/rsa2048-trad.pem", p);
    md_json_t *jwk = NULL;
    const char *thumb = NULL;

    ck_assert_int_eq(md_jwk_get(&jwk, pkey, p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(jwk, "kty", NULL), "RSA");
    ck_assert_str_eq(md_json_gets(jwk, "e", NULL), "AQAB");
    ck_assert_uint_eq(b64_decode(md_json_gets(jwk, "n", NULL), p)->len, 256);
    /* the exact form the openssl CLI fixture script built */
    ck_assert_str_eq(md_json_writep(jwk, MD_JSON_FMT_COMPACT, p), expected("eab_jwk", p));
    ck_assert_int_eq(md_jwk_thumbprint(&thumb, pkey, p), APR_SUCCESS);
    ck_assert_str_eq(thumb, expected("rsa_thumb", p));
    md_test_pool_done(p);
}
END_TEST

START_TEST(jwk_ec)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *k256 = load_key("pkey/ec256-trad.pem", p), *xpad = load_key("pkey/ec256-xpad.pem", p);
    md_pkey_t *k384 = load_key("pkey/ec384-pkcs8.pem", p);
    md_json_t *jwk = NULL;
    const char *thumb = NULL;
    md_data_t *x;

    ck_assert_int_eq(md_jwk_get(&jwk, k256, p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(jwk, "kty", NULL), "EC");
    ck_assert_str_eq(md_json_gets(jwk, "crv", NULL), "P-256");
    ck_assert_int_eq(md_jwk_thumbprint(&thumb, k256, p), APR_SUCCESS);
    ck_assert_str_eq(thumb, expected("ec256_thumb", p));

    /* x starts with a zero byte: still 32 bytes */
    ck_assert_int_eq(md_jwk_get(&jwk, xpad, p), APR_SUCCESS);
    x = b64_decode(md_json_gets(jwk, "x", NULL), p);
    ck_assert_uint_eq(x->len, 32);
    ck_assert_int_eq(x->data[0], 0);
    ck_assert_str_eq(md_json_gets(jwk, "x", NULL), expected("ec256_xpad_x", p));
    ck_assert_int_eq(md_jwk_thumbprint(&thumb, xpad, p), APR_SUCCESS);
    ck_assert_str_eq(thumb, expected("ec256_xpad_thumb", p));

    ck_assert_int_eq(md_jwk_get(&jwk, k384, p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(jwk, "crv", NULL), "P-384");
    ck_assert_uint_eq(b64_decode(md_json_gets(jwk, "x", NULL), p)->len, 48);
    ck_assert_uint_eq(b64_decode(md_json_gets(jwk, "y", NULL), p)->len, 48);
    md_test_pool_done(p);
}
END_TEST

START_TEST(alg_names)
{
    apr_pool_t *p = md_test_pool();

    ck_assert_str_eq(md_jws_alg(load_key("pkey/rsa2048-trad.pem", p)), "RS256");
    ck_assert_str_eq(md_jws_alg(load_key("pkey/ec256-trad.pem", p)), "ES256");
    ck_assert_str_eq(md_jws_alg(load_key("pkey/ec384-pkcs8.pem", p)), "ES384");
    md_test_pool_done(p);
}
END_TEST

/* Verify an ECDSA r||s signature of n-byte halves with OpenSSL directly (independent of md_jws). */
static int ecdsa_raw_verifies(const md_json_t *msg, const md_pkey_t *pkey, const EVP_MD *md, int n,
                              apr_pool_t *p)
{
    md_data_t *sig = b64_decode(md_json_gets(msg, "signature", NULL), p);
    const char *input = apr_pstrcat(p, md_json_gets(msg, "protected", NULL), ".",
                                    md_json_gets(msg, "payload", NULL), NULL);
    ECDSA_SIG *es = ECDSA_SIG_new();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    int der_len, ok;

    ck_assert_uint_eq(sig->len, (apr_size_t)(2 * n));
    ECDSA_SIG_set0(es, BN_bin2bn((const unsigned char *)sig->data, n, NULL),
                   BN_bin2bn((const unsigned char *)sig->data + n, n, NULL));
    der_len = i2d_ECDSA_SIG(es, &der);
    ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, md_pkey_get_EVP_PKEY(pkey)) == 1
         && EVP_DigestVerify(ctx, der, (size_t)der_len, (const unsigned char *)input, strlen(input)) == 1;
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    ECDSA_SIG_free(es);
    return ok;
}

/* Sign with a jwk, check the header and signature size, verify, and check that tampering is noticed. */
static void sign_verify(const char *keyfile, const char *alg, apr_size_t sig_len)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key(keyfile, p), *other = load_key("pkey/ec256-xpad.pem", p);
    md_json_t *prot_fields = json_of("{\"nonce\":\"n-1\",\"url\":\"https://ca.test/acct\"}", p);
    md_data_t *payload = md_data_from_str("{\"termsOfServiceAgreed\":true}", p), *back = NULL;
    md_json_t *msg = NULL, *header, *jwk = NULL, *bad;

    ck_assert_int_eq(md_jws_sign(&msg, payload, prot_fields, pkey, NULL, p), APR_SUCCESS);
    header = json_of(protected_text(msg, p), p);
    ck_assert_str_eq(md_json_gets(header, "alg", NULL), alg);
    ck_assert_str_eq(md_json_gets(header, "nonce", NULL), "n-1");
    ck_assert_str_eq(md_json_gets(header, "url", NULL), "https://ca.test/acct");
    ck_assert(!md_json_has_key(header, "kid", NULL));
    md_jwk_get(&jwk, pkey, p);
    ck_assert(md_json_equal(md_json_getj(header, "jwk", NULL), jwk));
    ck_assert_uint_eq(b64_decode(md_json_gets(msg, "signature", NULL), p)->len, sig_len);

    ck_assert_int_eq(md_jws_verify(&back, msg, pkey, NULL, p), APR_SUCCESS);
    ck_assert_uint_eq(back->len, payload->len);
    ck_assert_mem_eq(back->data, payload->data, payload->len);

    bad = md_json_clone(msg, p);
    md_json_sets(md_b64url_encode("{\"termsOfServiceAgreed\":false}", 30, p), bad, "payload", NULL);
    ck_assert_int_eq(md_jws_verify(&back, bad, pkey, NULL, p), APR_EINVAL);
    ck_assert_ptr_null(back);
    if (strcmp(alg, "ES256")) ck_assert_int_eq(md_jws_verify(&back, msg, other, NULL, p), APR_EINVAL);
    else ck_assert_int_eq(md_jws_verify(&back, msg, load_key("pkey/rsa2048-trad.pem", p), NULL, p),
                          APR_EINVAL);
    md_test_pool_done(p);
}

START_TEST(sign_verify_rs256)
{
    sign_verify("pkey/rsa2048-trad.pem", "RS256", 256);
}
END_TEST

START_TEST(sign_verify_es256)
{
    sign_verify("pkey/ec256-trad.pem", "ES256", 64);
}
END_TEST

START_TEST(sign_verify_es384)
{
    sign_verify("pkey/ec384-pkcs8.pem", "ES384", 96);
}
END_TEST

START_TEST(ecdsa_raw_format)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *k256 = load_key("pkey/ec256-trad.pem", p), *k384 = load_key("pkey/ec384-pkcs8.pem", p);
    md_pkey_spec_t *spec = NULL;
    md_pkey_t *gen = NULL;
    md_json_t *msg = NULL;
    const char *err;
    int i;

    /* many signatures, so that r or s with leading zero bytes come up too */
    for (i = 0; i < 64; ++i) {
        ck_assert_int_eq(md_jws_sign(&msg, md_data_from_str("x", p), NULL, k256, "kid-1", p), APR_SUCCESS);
        ck_assert(ecdsa_raw_verifies(msg, k256, EVP_sha256(), 32, p));
        ck_assert_int_eq(md_jws_sign(&msg, md_data_from_str("y", p), NULL, k384, "kid-1", p), APR_SUCCESS);
        ck_assert(ecdsa_raw_verifies(msg, k384, EVP_sha384(), 48, p));
    }
    md_pkey_spec_parse(&spec, "P-256", NULL, &err, p);
    ck_assert_int_eq(md_pkey_gen(&gen, spec, p), APR_SUCCESS);
    ck_assert_int_eq(md_jws_sign(&msg, NULL, NULL, gen, NULL, p), APR_SUCCESS);
    ck_assert(ecdsa_raw_verifies(msg, gen, EVP_sha256(), 32, p));
    md_test_pool_done(p);
}
END_TEST

START_TEST(rs256_known_signature)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key("pkey/rsa2048-trad.pem", p);
    md_json_t *prot_fields = json_of("{\"nonce\":\"nonce-1\",\"url\":\"https://ca.test/new-order\"}", p);
    md_data_t *payload = md_data_from_str(expected("rs256_payload", p), p);
    md_json_t *msg = NULL;

    ck_assert_int_eq(md_jws_sign(&msg, payload, prot_fields, pkey, "https://ca.test/acct/1", p), APR_SUCCESS);
    ck_assert_str_eq(protected_text(msg, p), expected("rs256_protected", p));
    ck_assert_str_eq(md_json_gets(msg, "payload", NULL), md_b64url_encode(payload->data, payload->len, p));
    ck_assert_str_eq(md_json_gets(msg, "signature", NULL), expected("rs256_sig", p));
    md_test_pool_done(p);
}
END_TEST

START_TEST(post_as_get)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key("pkey/ec256-trad.pem", p);
    md_data_t *back = NULL;
    md_json_t *msg = NULL;

    ck_assert_int_eq(md_jws_sign(&msg, NULL, json_of("{}", p), pkey, "https://ca.test/acct/7", p),
                     APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(msg, "payload", NULL), "");
    ck_assert_str_eq(protected_text(msg, p), "{\"alg\":\"ES256\",\"kid\":\"https://ca.test/acct/7\"}");
    ck_assert_int_eq(md_jws_verify(&back, msg, pkey, NULL, p), APR_SUCCESS);
    ck_assert_uint_eq(back->len, 0);
    md_test_pool_done(p);
}
END_TEST

START_TEST(eab_hs256)
{
    apr_pool_t *p = md_test_pool();
    md_json_t *jwk = json_of(expected("eab_jwk", p), p), *msg = NULL, *bad;
    md_data_t *hmac = b64_decode(expected("eab_hmac_b64", p), p), *back = NULL, *wrong;

    ck_assert_int_eq(md_jws_eab_sign(&msg, jwk, expected("eab_kid", p), hmac, expected("eab_url", p), p),
                     APR_SUCCESS);
    ck_assert_str_eq(protected_text(msg, p), expected("eab_protected", p));
    ck_assert_str_eq(md_json_gets(msg, "signature", NULL), expected("eab_sig", p));
    ck_assert_int_eq(md_jws_verify(&back, msg, NULL, hmac, p), APR_SUCCESS);
    ck_assert_str_eq(apr_pstrmemdup(p, back->data, back->len), expected("eab_jwk", p));

    wrong = md_data_make(hmac->data, hmac->len, p);
    ((char *)wrong->data)[0] ^= 1;
    ck_assert_int_eq(md_jws_verify(&back, msg, NULL, wrong, p), APR_EINVAL);
    ck_assert_int_eq(md_jws_verify(&back, msg, NULL, NULL, p), APR_EINVAL);
    ck_assert_int_eq(md_jws_verify(&back, msg, load_key("pkey/rsa2048-trad.pem", p), NULL, p), APR_EINVAL);
    bad = md_json_clone(msg, p);
    md_json_sets(md_b64url_encode("{}", 2, p), bad, "payload", NULL);
    ck_assert_int_eq(md_jws_verify(&back, bad, NULL, hmac, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_malformed)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key("pkey/ec256-trad.pem", p);
    md_data_t *back = NULL;
    md_json_t *msg = NULL, *bad;
    const char *none;

    ck_assert_int_eq(md_jws_sign(&msg, md_data_from_str("{}", p), NULL, pkey, "k", p), APR_SUCCESS);
    bad = md_json_clone(msg, p);
    md_json_del(bad, "signature", NULL);
    ck_assert_int_eq(md_jws_verify(&back, bad, pkey, NULL, p), APR_EINVAL);
    bad = md_json_clone(msg, p);
    md_json_sets("not*base64", bad, "signature", NULL);
    ck_assert_int_eq(md_jws_verify(&back, bad, pkey, NULL, p), APR_EINVAL);
    bad = md_json_clone(msg, p);
    md_json_sets(md_b64url_encode("AAAA", 4, p), bad, "signature", NULL);
    ck_assert_int_eq(md_jws_verify(&back, bad, pkey, NULL, p), APR_EINVAL);
    bad = md_json_clone(msg, p);
    md_json_sets(md_b64url_encode("not json", 8, p), bad, "protected", NULL);
    ck_assert_int_ne(md_jws_verify(&back, bad, pkey, NULL, p), APR_SUCCESS);
    bad = md_json_clone(msg, p);
    none = "{\"alg\":\"none\",\"kid\":\"k\"}";
    md_json_sets(md_b64url_encode(none, strlen(none), p), bad, "protected", NULL);
    ck_assert_int_eq(md_jws_verify(&back, bad, pkey, NULL, p), APR_EINVAL);
    ck_assert_ptr_null(back);
    md_test_pool_done(p);
}
END_TEST

START_TEST(key_authz_and_dns01)
{
    apr_pool_t *p = md_test_pool();
    const char *thumb = NULL, *authz;

    ck_assert_int_eq(md_jwk_thumbprint(&thumb, load_key("pkey/rsa2048-trad.pem", p), p), APR_SUCCESS);
    authz = md_jws_key_authz("token-abc", thumb, p);
    ck_assert_str_eq(authz, expected("keyauthz", p));
    ck_assert_str_eq(md_jws_dns01_txt(authz, p), expected("dns01", p));
    /* with the RFC 7638 example key's thumbprint */
    ck_assert_str_eq(md_jws_key_authz("tok", rfc7638_thumb, p), apr_pstrcat(p, "tok.", rfc7638_thumb, NULL));
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_jws_suite(void)
{
    Suite *s = suite_create("jws");
    TCase *tc = tcase_create("jws");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, thumbprint_rfc7638);
    tcase_add_test(tc, jwk_rsa);
    tcase_add_test(tc, jwk_ec);
    tcase_add_test(tc, alg_names);
    tcase_add_test(tc, sign_verify_rs256);
    tcase_add_test(tc, sign_verify_es256);
    tcase_add_test(tc, sign_verify_es384);
    tcase_add_test(tc, ecdsa_raw_format);
    tcase_add_test(tc, rs256_known_signature);
    tcase_add_test(tc, post_as_get);
    tcase_add_test(tc, eab_hs256);
    tcase_add_test(tc, verify_malformed);
    tcase_add_test(tc, key_authz_and_dns01);
    suite_add_tcase(s, tc);
    return s;
}
