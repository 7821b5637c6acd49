/* Fuzz target: certificate chains in PEM (as the store and the CA hand them over) and every field getter:
 * names, SANs, validity, serial, OCSP/CA issuers/CRL URLs, must-staple, SCTs, the ARI id; DER and verification. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "md_cert.h"
#include "md_result.h"
#include "fuzz.h"

#define T_MAX (APR_INT64_C(253402300799) * APR_USEC_PER_SEC)    /* 9999-12-31T23:59:59Z */

/* DER as a PEM certificate: base64 in lines of 64. */
static const char *der_to_pem(apr_size_t *plen, const char *der, apr_size_t len, apr_pool_t *p)
{
    apr_size_t b64len = 4 * ((len + 2) / 3), i;
    unsigned char *b64 = apr_palloc(p, b64len + 1);
    char *pem, *out;

    EVP_EncodeBlock(b64, (const unsigned char *)der, (int)len);
    pem = out = apr_palloc(p, b64len + b64len / 64 + 64);
    out += sprintf(out, "-----BEGIN CERTIFICATE-----\n");
    for (i = 0; i < b64len; i += 64) {
        apr_size_t n = b64len - i < 64 ? b64len - i : 64;
        memcpy(out, b64 + i, n);
        out += n;
        *out++ = '\n';
    }
    out += sprintf(out, "-----END CERTIFICATE-----\n");
    *plen = (apr_size_t)(out - pem);
    return pem;
}

static void fields(const md_cert_t *cert, apr_pool_t *p)
{
    apr_array_header_t *names = NULL, *ips = NULL, *urls = NULL, *scts = NULL;
    md_data_t *der = NULL;
    md_cert_t *back = NULL;
    const char *id = NULL;
    apr_time_t nb = md_cert_get_not_before(cert), na = md_cert_get_not_after(cert);
    int i;

    (void)md_cert_get_subject(cert, p);
    (void)md_cert_get_issuer(cert, p);
    (void)md_cert_get_common_name(cert, p);
    (void)md_cert_get_serial_hex(cert, p);
    FZ_CHECK(nb >= 0 && nb <= T_MAX && na >= 0 && na <= T_MAX);
    (void)md_cert_is_valid_at(cert, nb);
    FZ_CHECK(md_cert_get_dns_names(&names, cert, p) == APR_SUCCESS);
    for (i = 0; i < names->nelts; ++i) {
        FZ_CHECK(md_cert_covers(cert, APR_ARRAY_IDX(names, i, const char *), p));
    }
    FZ_CHECK(md_cert_get_ip_addresses(&ips, cert, p) == APR_SUCCESS);
    for (i = 0; i < ips->nelts; ++i) FZ_CHECK(md_cert_covers(cert, APR_ARRAY_IDX(ips, i, const char *), p));
    (void)md_cert_covers(cert, "www.example.org", p);
    (void)md_cert_get_ocsp_url(cert, p);
    (void)md_cert_get_ca_issuers_url(cert, p);
    FZ_CHECK(md_cert_get_crl_urls(&urls, cert, p) == APR_SUCCESS);
    (void)md_cert_has_must_staple(cert);
    FZ_CHECK(md_cert_get_scts(&scts, cert, p) == APR_SUCCESS);
    for (i = 0; i < scts->nelts; ++i) {
        const md_sct_t *sct = APR_ARRAY_IDX(scts, i, const md_sct_t *);
        FZ_CHECK(sct->log_id_hex && sct->signature_alg && sct->timestamp >= 0);
    }
    if (md_cert_get_ari_cert_id(&id, cert, p) == APR_SUCCESS) FZ_CHECK(id && strchr(id, '.'));
    (void)md_cert_get_sha256_fingerprint(cert, p);
    FZ_CHECK(md_cert_to_der(&der, cert, p) == APR_SUCCESS);
    FZ_CHECK(md_cert_from_der(&back, der, p) == APR_SUCCESS);
    FZ_CHECK(!strcmp(md_cert_get_sha256_fingerprint(back, p), md_cert_get_sha256_fingerprint(cert, p)));
}

/* Input: one byte (even: the rest is PEM text; odd: it is the DER of one certificate), then the data. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    unsigned int mode = fz_byte(&in);
    apr_array_header_t *chain = NULL, *again = NULL, *roots;
    md_result_t *result = md_result_make(p);
    const char *pem = in.data, *err = NULL, *out = NULL;
    apr_size_t len = in.len, outlen = 0;
    apr_status_t rv;
    int i;

    if (mode & 1) pem = der_to_pem(&len, in.data, in.len, p);
    rv = md_cert_chain_from_pem(&chain, pem, len, &err, p);
    if (rv != APR_SUCCESS) {
        FZ_CHECK(!chain && err && (rv == APR_EINVAL || rv == APR_ENOENT));
        goto leave;
    }
    FZ_CHECK(chain->nelts > 0);
    for (i = 0; i < chain->nelts && i < 8; ++i) fields(APR_ARRAY_IDX(chain, i, const md_cert_t *), p);
    /* written and read back: the same certificates */
    FZ_CHECK(md_cert_chain_to_pem(&out, &outlen, chain, p) == APR_SUCCESS);
    FZ_CHECK(md_cert_chain_from_pem(&again, out, outlen, &err, p) == APR_SUCCESS);
    FZ_CHECK(again->nelts == chain->nelts);
    /* verified against its own top as the root */
    roots = apr_array_make(p, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(roots, md_cert_t *) = APR_ARRAY_IDX(chain, chain->nelts - 1, md_cert_t *);
    rv = md_cert_chain_verify(chain, roots, md_cert_get_not_before(APR_ARRAY_IDX(chain, 0, md_cert_t *)), result, p);
    if (rv != APR_SUCCESS) FZ_CHECK(result->detail != NULL);
leave:
    apr_pool_destroy(p);
    return 0;
}
