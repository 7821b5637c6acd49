/* Fuzz target: private keys in PEM as the store holds them (PKCS#8, traditional, encrypted with a passphrase or
 * the store key), and what is done with a loaded key: spec, JWK, PEM round trips, signing a JWS and a CSR. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "md_csr.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_pkey.h"
#include "fuzz.h"

/* The passphrase of tests/unit/data/pkey/ *-enc.pem and the store key of tests/unit/data/store/mod_md-2.6.10
 * (its md_store.json's "key", base64url-decoded): the seeds' encrypted keys open with them. */
static const char fixture_pass[] = "fixture-pass";
static const unsigned char store_key[48] = {
    0xf3, 0x3b, 0xfd, 0xa5, 0xf2, 0x24, 0x35, 0xad, 0x53, 0x7f, 0xb5, 0xbf, 0xc8, 0xe5, 0x49, 0x80,
    0xb2, 0x4e, 0xcd, 0xfb, 0x96, 0xd7, 0xc2, 0xad, 0x08, 0x95, 0xba, 0x38, 0xca, 0xf5, 0x6c, 0x6f,
    0xcf, 0x66, 0x7f, 0xb9, 0xff, 0xff, 0x7d, 0xaa, 0x89, 0x62, 0x54, 0x6b, 0xd7, 0x04, 0xfd, 0xa9,
};

static const char *const pem_labels[] = {
    "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
};

/* DER in a PEM block with the label: base64 in lines of 64. */
static const char *der_to_pem(apr_size_t *plen, const char *label, const char *der, apr_size_t len, apr_pool_t *p)
{
    apr_size_t b64len = 4 * ((len + 2) / 3), i;
    unsigned char *b64 = apr_palloc(p, b64len + 1);
    char *pem, *out;

    EVP_EncodeBlock(b64, (const unsigned char *)der, (int)len);
    pem = out = apr_palloc(p, b64len + b64len / 64 + 2 * strlen(label) + 64);
    out += sprintf(out, "-----BEGIN %s-----\n", label);
    for (i = 0; i < b64len; i += 64) {
        apr_size_t n = b64len - i < 64 ? b64len - i : 64;
        memcpy(out, b64 + i, n);
        out += n;
        *out++ = '\n';
    }
    out += sprintf(out, "-----END %s-----\n", label);
    *plen = (apr_size_t)(out - pem);
    return pem;
}

/* Written out (plain, and encrypted when asked: that is slow) and read back: the same key. */
static void round_trips(const md_pkey_t *key, int encrypted, apr_pool_t *p)
{
    const char *pem = NULL, *pub = md_pkey_public_pem(key, p);
    apr_size_t len = 0;
    md_pkey_t *back = NULL;

    FZ_CHECK(pub != NULL);
    FZ_CHECK(md_pkey_to_pem(&pem, &len, key, NULL, 0, p) == APR_SUCCESS);
    FZ_CHECK(md_pkey_from_pem(&back, pem, len, NULL, 0, NULL, p) == APR_SUCCESS);
    FZ_CHECK(!strcmp(md_pkey_public_pem(back, p), pub));
    if (!encrypted) return;
    FZ_CHECK(md_pkey_to_pem(&pem, &len, key, store_key, sizeof(store_key), p) == APR_SUCCESS);
    FZ_CHECK(md_pkey_from_pem(&back, pem, len, store_key, sizeof(store_key), NULL, p) == APR_SUCCESS);
    FZ_CHECK(!strcmp(md_pkey_public_pem(back, p), pub));
}

/* What the drive does with a key: its JWK for the account; when asked (slow), a signed request and a CSR. */
static void use(const md_pkey_t *key, int sign, apr_pool_t *p)
{
    md_json_t *jwk = NULL, *msg = NULL, *prot = md_json_create(p);
    md_data_t payload = { "{}", 2 }, *csr = NULL, *verified = NULL;
    apr_array_header_t *names = apr_array_make(p, 2, sizeof(const char *));
    const char *thumb = NULL;

    if (md_jwk_get(&jwk, key, p) == APR_SUCCESS) {
        FZ_CHECK(md_jwk_thumbprint_json(&thumb, jwk, p) == APR_SUCCESS);
    }
    (void)md_jwk_thumbprint(&thumb, key, p);
    if (!sign) return;
    md_json_sets("nonce-1", prot, "nonce", NULL);
    md_json_sets("https://ca.test/new-order", prot, "url", NULL);
    if (md_jws_alg(key) && md_jws_sign(&msg, &payload, prot, key, "https://ca.test/acct/1", p) == APR_SUCCESS) {
        (void)md_jws_verify(&verified, msg, key, NULL, p);
    }
    APR_ARRAY_PUSH(names, const char *) = "a.example";
    APR_ARRAY_PUSH(names, const char *) = "192.0.2.1";
    (void)md_csr_make(&csr, names, 1, key, p);
}

/* Input: one byte (bits 0-1: the rest is PEM text, or DER put into a PEM block labelled by bits 2-3; bits 4-5:
 * the passphrase: none, the fixtures', the store key, a wrong one; bit 6: an encrypted round trip; bit 7: sign),
 * then the data. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    unsigned int mode = fz_byte(&in);
    const char *pem = in.data, *err = NULL;
    apr_size_t len = in.len, pass_len = 0;
    const void *pass = NULL;
    md_pkey_t *key = NULL;
    md_pkey_spec_t *spec;

    if (mode & 3) pem = der_to_pem(&len, pem_labels[(mode >> 2) & 3], in.data, in.len, p);
    switch ((mode >> 4) & 3) {
    case 1: pass = fixture_pass; pass_len = sizeof(fixture_pass) - 1; break;
    case 2: pass = store_key; pass_len = sizeof(store_key); break;
    case 3: pass = "wrong"; pass_len = 5; break;
    default: break;
    }
    if (md_pkey_from_pem(&key, pem, len, pass, pass_len, &err, p) != APR_SUCCESS) {
        FZ_CHECK(!key && err);
        goto leave;
    }
    FZ_CHECK(md_pkey_get_type(key) == MD_PKEY_RSA || md_pkey_get_type(key) == MD_PKEY_EC);
    (void)md_pkey_get_bits(key);
    spec = md_pkey_get_spec(key, p);
    FZ_CHECK(spec != NULL && md_pkey_spec_eq(spec, spec));
    (void)md_pkey_spec_label(spec);
    (void)md_pkey_spec_name(spec, p);
    (void)md_pkey_spec_curve_nid(spec);
    (void)md_pkey_spec_to_json(spec, p);
    round_trips(key, (mode & 0x40) != 0, p);
    use(key, (mode & 0x80) != 0, p);
leave:
    apr_pool_destroy(p);
    return 0;
}
