/* Unit tests of md_cert: PEM/DER chains, fields, extensions, SCTs, ARI id, made certificates, verification. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ct.h>
#include <openssl/x509v3.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_result.h"
#include "test_common.h"

#define DAY_SEC (24 * 60 * 60)

/* ---- helpers ------------------------------------------------------------------------------------ */

static apr_array_header_t *load_chain(const char *name, apr_pool_t *p)
{
    apr_array_header_t *chain = NULL;
    const char *err = NULL;
    apr_status_t rv = md_cert_chain_fload(&chain, md_test_data(apr_pstrcat(p, "cert/", name, NULL), p), &err, p);

    ck_assert_msg(rv == APR_SUCCESS, "loading %s: %s", name, err ? err : "?");
    return chain;
}

static md_cert_t *load_cert(const char *name, apr_pool_t *p)
{
    return APR_ARRAY_IDX(load_chain(name, p), 0, md_cert_t *);
}

/* A value from cert/expected.txt, written by make-certs.sh with the openssl CLI. */
static const char *expected(const char *key, apr_pool_t *p)
{
    char *data, *line, *last;
    apr_size_t len, klen = strlen(key);

    ck_assert_int_eq(md_file_read(&data, &len, md_test_data("cert/expected.txt", p), p), APR_SUCCESS);
    for (line = apr_strtok(data, "\n", &last); line; line = apr_strtok(NULL, "\n", &last)) {
        if (!strncmp(line, key, klen) && line[klen] == '=') return line + klen + 1;
    }
    ck_abort_msg("no %s in expected.txt", key);
    return NULL;
}

static apr_time_t expected_time(const char *key, apr_pool_t *p)
{
    return apr_time_from_sec(apr_atoi64(expected(key, p)));
}

static md_pkey_t *ec_key(apr_pool_t *p)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(k);
    return md_pkey_wrap(k, p);
}

static md_pkey_t *load_leaf_key(apr_pool_t *p)
{
    BIO *bio = BIO_new_file(md_test_data("cert/leaf.key", p), "r");
    EVP_PKEY *k;

    ck_assert_ptr_nonnull(bio);
    k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ck_assert_ptr_nonnull(k);
    return md_pkey_wrap(k, p);
}

static apr_array_header_t *strs(apr_pool_t *p, const char *s1, const char *s2, const char *s3,
                                const char *s4)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    const char *all[] = { s1, s2, s3, s4 };
    size_t i;

    for (i = 0; i < 4 && all[i]; ++i) APR_ARRAY_PUSH(a, const char *) = all[i];
    return a;
}

static void assert_strs(const apr_array_header_t *a, const apr_array_header_t *want)
{
    int i;

    ck_assert_int_eq(a->nelts, want->nelts);
    for (i = 0; i < a->nelts; ++i) {
        ck_assert_str_eq(APR_ARRAY_IDX(a, i, const char *), APR_ARRAY_IDX(want, i, const char *));
    }
}

static apr_array_header_t *one(md_cert_t *cert, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 3, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(a, md_cert_t *) = cert;
    return a;
}

static apr_array_header_t *two(md_cert_t *c1, md_cert_t *c2, apr_pool_t *p)
{
    apr_array_header_t *a = one(c1, p);
    APR_ARRAY_PUSH(a, md_cert_t *) = c2;
    return a;
}

/* ---- PEM and DER -------------------------------------------------------------------------------- */

START_TEST(pem_chain_load)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *chain = load_chain("fullchain.pem", p);

    ck_assert_int_eq(chain->nelts, 2);
    ck_assert_str_eq(md_cert_get_common_name(APR_ARRAY_IDX(chain, 0, md_cert_t *), p), "www.example.org");
    ck_assert_str_eq(md_cert_get_common_name(APR_ARRAY_IDX(chain, 1, md_cert_t *), p),
                     "mdomain Test Intermediate");
    md_test_pool_done(p);
}
END_TEST

START_TEST(pem_chain_errors)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *chain;
    const char *err, *pem;
    char *bad;
    apr_size_t len;
    const char *junk_der = "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n";

    ck_assert_int_eq(md_cert_chain_from_pem(&chain, "", 0, &err, p), APR_ENOENT);
    ck_assert_ptr_null(chain);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(md_cert_chain_from_pem(&chain, "no pem here\n", 12, &err, p), APR_ENOENT);
    ck_assert_int_eq(md_cert_chain_from_pem(&chain, junk_der, strlen(junk_der), &err, p), APR_EINVAL);
    ck_assert_msg(strstr(err, "certificate 1") != NULL, "err: %s", err);
    /* the second certificate's base64 broken: an error naming it, not a short chain */
    ck_assert_int_eq(md_file_read(&bad, &len, md_test_data("cert/fullchain.pem", p), p), APR_SUCCESS);
    pem = strstr(strstr(bad, "-----END CERTIFICATE-----") + 1, "-----BEGIN CERTIFICATE-----\n");
    ck_assert_ptr_nonnull(pem);
    memcpy(bad + (pem - bad) + 40, "!!!!", 4);
    ck_assert_int_eq(md_cert_chain_from_pem(&chain, bad, len, &err, p), APR_EINVAL);
    ck_assert_msg(strstr(err, "certificate 2") != NULL, "err: %s", err);
    /* a missing file: the APR status and the path in the message */
    ck_assert_int_eq(md_cert_chain_fload(&chain, "/nonexistent/x.pem", &err, p), APR_ENOENT);
    ck_assert_msg(strstr(err, "/nonexistent/x.pem") != NULL, "err: %s", err);
    /* other PEM blocks are skipped: a key alone is no certificate */
    ck_assert_int_eq(md_file_read(&bad, &len, md_test_data("cert/leaf.key", p), p), APR_SUCCESS);
    ck_assert_int_eq(md_cert_chain_from_pem(&chain, bad, len, &err, p), APR_ENOENT);
    md_test_pool_done(p);
}
END_TEST

START_TEST(pem_roundtrip_and_fsave)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *chain = load_chain("fullchain.pem", p), *back;
    const char *dir = md_test_mkdtemp(p), *path = apr_pstrcat(p, dir, "/pubcert.pem", NULL), *pem, *err;
    char *orig;
    apr_size_t len, olen;
    apr_finfo_t finfo;

    ck_assert_int_eq(md_cert_chain_to_pem(&pem, &len, chain, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_read(&orig, &olen, md_test_data("cert/fullchain.pem", p), p), APR_SUCCESS);
    ck_assert_uint_eq(len, olen);
    ck_assert_str_eq(pem, orig);

    ck_assert_int_eq(md_cert_chain_fsave(chain, path, MD_FPERMS_PUBLIC, p), APR_SUCCESS);
    ck_assert_int_eq(apr_stat(&finfo, path, APR_FINFO_PROT, p), APR_SUCCESS);
    ck_assert_int_eq(finfo.protection, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD | APR_FPROT_WREAD);
    ck_assert_int_eq(md_cert_chain_fload(&back, path, &err, p), APR_SUCCESS);
    ck_assert_int_eq(back->nelts, 2);
    ck_assert_str_eq(md_cert_get_sha256_fingerprint(APR_ARRAY_IDX(back, 1, md_cert_t *), p),
                     expected("int.sha256", p));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(der_roundtrip)
{
    apr_pool_t *p = md_test_pool();
    md_cert_t *leaf = load_cert("leaf.pem", p), *back;
    md_data_t *der, cut, *longer;
    char *buf;

    ck_assert_int_eq(md_cert_to_der(&der, leaf, p), APR_SUCCESS);
    ck_assert_uint_gt(der->len, 100);
    ck_assert_int_eq((unsigned char)der->data[0], 0x30);
    ck_assert_int_eq(md_cert_from_der(&back, der, p), APR_SUCCESS);
    ck_assert_str_eq(md_cert_get_sha256_fingerprint(back, p), expected("leaf.sha256", p));
    cut.data = der->data;
    cut.len = der->len - 10;
    ck_assert_int_eq(md_cert_from_der(&back, &cut, p), APR_EINVAL);
    ck_assert_ptr_null(back);
    buf = apr_palloc(p, der->len + 1);
    memcpy(buf, der->data, der->len);
    buf[der->len] = 'x';
    longer = md_data_make(buf, der->len + 1, p);
    ck_assert_int_eq(md_cert_from_der(&back, longer, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

/* ---- fields ------------------------------------------------------------------------------------- */

START_TEST(basic_fields)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *chain = load_chain("fullchain.pem", p);
    md_cert_t *leaf = APR_ARRAY_IDX(chain, 0, md_cert_t *), *inter = APR_ARRAY_IDX(chain, 1, md_cert_t *);
    apr_time_t nb = expected_time("leaf.not_before", p), na = expected_time("leaf.not_after", p);

    ck_assert_str_eq(md_cert_get_subject(leaf, p), "CN=www.example.org,O=mdomain test,C=DE");
    ck_assert_str_eq(md_cert_get_subject(leaf, p), expected("leaf.subject", p));
    ck_assert_str_eq(md_cert_get_issuer(leaf, p), "CN=mdomain Test Intermediate,O=mdomain test,C=DE");
    ck_assert_str_eq(md_cert_get_issuer(leaf, p), expected("leaf.issuer", p));
    ck_assert_str_eq(md_cert_get_subject(inter, p), md_cert_get_issuer(leaf, p));
    ck_assert_str_eq(md_cert_get_serial_hex(leaf, p), "87654321");
    ck_assert_str_eq(md_cert_get_serial_hex(leaf, p), expected("leaf.serial", p));
    ck_assert_str_eq(md_cert_get_serial_hex(inter, p), expected("int.serial", p));
    ck_assert_int_eq(md_cert_get_not_before(leaf), nb);
    ck_assert_int_eq(md_cert_get_not_after(leaf), na);
    ck_assert_int_eq(md_cert_get_not_after(inter), expected_time("int.not_after", p));
    ck_assert(md_cert_is_valid_at(leaf, nb));
    ck_assert(md_cert_is_valid_at(leaf, na));
    ck_assert(md_cert_is_valid_at(leaf, nb + apr_time_from_sec(DAY_SEC)));
    ck_assert(!md_cert_is_valid_at(leaf, nb - 1));
    ck_assert(!md_cert_is_valid_at(leaf, na + 1));
    md_test_pool_done(p);
}
END_TEST

START_TEST(fingerprint_and_key)
{
    apr_pool_t *p = md_test_pool();
    md_cert_t *leaf = load_cert("leaf.pem", p), *inter = load_cert("int.pem", p);
    md_pkey_t *key = load_leaf_key(p);

    ck_assert_str_eq(md_cert_get_sha256_fingerprint(leaf, p), expected("leaf.sha256", p));
    ck_assert_str_eq(md_cert_get_sha256_fingerprint(inter, p), expected("int.sha256", p));
    ck_assert(md_cert_matches_key(leaf, key));
    ck_assert(!md_cert_matches_key(inter, key));
    ck_assert(!md_cert_matches_key(leaf, ec_key(p)));
    md_test_pool_done(p);
}
END_TEST

START_TEST(sans_and_covers)
{
    apr_pool_t *p = md_test_pool();
    md_cert_t *leaf = load_cert("leaf.pem", p), *inter = load_cert("int.pem", p);
    apr_array_header_t *a;

    ck_assert_int_eq(md_cert_get_dns_names(&a, leaf, p), APR_SUCCESS);
    assert_strs(a, strs(p, "www.example.org", "example.org", "*.wild.example.org", NULL));
    ck_assert_int_eq(md_cert_get_ip_addresses(&a, leaf, p), APR_SUCCESS);
    assert_strs(a, strs(p, "192.0.2.1", "2001:db8::1", NULL, NULL));
    ck_assert_int_eq(md_cert_get_dns_names(&a, inter, p), APR_SUCCESS);
    ck_assert_int_eq(a->nelts, 0);
    ck_assert_int_eq(md_cert_get_ip_addresses(&a, inter, p), APR_SUCCESS);
    ck_assert_int_eq(a->nelts, 0);

    ck_assert(md_cert_covers(leaf, "www.example.org", p));
    ck_assert(md_cert_covers(leaf, "Example.ORG", p));
    ck_assert(md_cert_covers(leaf, "a.wild.example.org", p));
    ck_assert(md_cert_covers(leaf, "*.wild.example.org", p));
    ck_assert(!md_cert_covers(leaf, "wild.example.org", p));
    ck_assert(!md_cert_covers(leaf, "a.b.wild.example.org", p));
    ck_assert(!md_cert_covers(leaf, "*.example.org", p));
    ck_assert(!md_cert_covers(leaf, "mail.example.org", p));
    ck_assert(!md_cert_covers(leaf, "www.example.org.evil", p));
    ck_assert(md_cert_covers(leaf, "192.0.2.1", p));
    ck_assert(md_cert_covers(leaf, "2001:DB8:0:0::1", p));
    ck_assert(!md_cert_covers(leaf, "192.0.2.2", p));
    ck_assert(!md_cert_covers(inter, "www.example.org", p));
    md_test_pool_done(p);
}
END_TEST

START_TEST(aia_crl_must_staple)
{
    apr_pool_t *p = md_test_pool();
    md_cert_t *leaf = load_cert("leaf.pem", p), *inter = load_cert("int.pem", p);
    apr_array_header_t *urls;

    ck_assert_str_eq(md_cert_get_ocsp_url(leaf, p), "http://ocsp.example.org/");
    ck_assert_str_eq(md_cert_get_ca_issuers_url(leaf, p), "http://ca.example.org/int.der");
    ck_assert_int_eq(md_cert_get_crl_urls(&urls, leaf, p), APR_SUCCESS);
    assert_strs(urls, strs(p, "http://crl.example.org/int.crl", "http://crl2.example.org/int.crl", NULL, NULL));
    ck_assert(md_cert_has_must_staple(leaf));

    ck_assert_ptr_null(md_cert_get_ocsp_url(inter, p));
    ck_assert_ptr_null(md_cert_get_ca_issuers_url(inter, p));
    ck_assert_int_eq(md_cert_get_crl_urls(&urls, inter, p), APR_SUCCESS);
    ck_assert_int_eq(urls->nelts, 0);
    ck_assert(!md_cert_has_must_staple(inter));
    md_test_pool_done(p);
}
END_TEST

START_TEST(embedded_scts)
{
    apr_pool_t *p = md_test_pool();
    md_cert_t *leaf = load_cert("leaf.pem", p), *inter = load_cert("int.pem", p);
    apr_array_header_t *scts;
    const md_sct_t *sct;

    ck_assert_int_eq(md_cert_get_scts(&scts, leaf, p), APR_SUCCESS);
    ck_assert_int_eq(scts->nelts, 1);
    sct = APR_ARRAY_IDX(scts, 0, const md_sct_t *);
    ck_assert_int_eq(sct->version, 0);
    ck_assert_str_eq(sct->log_id_hex, expected("sct.log_id", p));
    ck_assert_uint_eq(strlen(sct->log_id_hex), 64);
    ck_assert_int_eq(sct->timestamp, apr_atoi64(expected("sct.timestamp_ms", p)) * 1000);
    ck_assert_int_eq(sct->timestamp, APR_INT64_C(1700000000123000));
    ck_assert_str_eq(sct->signature_alg, "ecdsa-with-SHA256");

    ck_assert_int_eq(md_cert_get_scts(&scts, inter, p), APR_SUCCESS);
    ck_assert_int_eq(scts->nelts, 0);
    md_test_pool_done(p);
}
END_TEST

/* ---- ARI certificate id (RFC 9773) -------------------------------------------------------------- */

START_TEST(ari_id_fixtures)
{
    apr_pool_t *p = md_test_pool();
    const char *id;

    /* the leaf's issuer has the RFC's key id and the leaf the RFC's serial: the RFC 9773 example */
    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, load_cert("leaf.pem", p), p), APR_SUCCESS);
    ck_assert_str_eq(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    ck_assert_str_eq(id, expected("leaf.ari", p));
    /* the intermediate's id, computed by make-certs.sh from the openssl CLI's output */
    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, load_cert("int.pem", p), p), APR_SUCCESS);
    ck_assert_str_eq(id, expected("int.ari", p));
    md_test_pool_done(p);
}
END_TEST

/* A bare certificate with the given AKI key id and serial, for computing ids by hand. */
static md_cert_t *cert_with_aki(const unsigned char *keyid, int klen, long serial, apr_pool_t *p)
{
    X509 *x = X509_new();
    AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();

    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(aki);
    aki->keyid = ASN1_OCTET_STRING_new();
    ck_assert(ASN1_OCTET_STRING_set(aki->keyid, keyid, klen));
    ck_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
    ck_assert_int_eq(X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0, X509V3_ADD_DEFAULT), 1);
    AUTHORITY_KEYID_free(aki);
    return md_cert_wrap(x, p);
}

START_TEST(ari_id_by_hand)
{
    apr_pool_t *p = md_test_pool();
    const unsigned char kid[] = { 0x01, 0x02, 0x03 }, rfc_kid[] = {
        0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
        0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4 };
    const char *id;
    md_cert_t *cert;

    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, cert_with_aki(rfc_kid, 20, 0x87654321L, p), p), APR_SUCCESS);
    ck_assert_str_eq(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    /* 0x7f: one octet; 0x80: 00 80; 0x0100: 01 00 */
    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, cert_with_aki(kid, 3, 0x7f, p), p), APR_SUCCESS);
    ck_assert_str_eq(id, "AQID.fw");
    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, cert_with_aki(kid, 3, 0x80, p), p), APR_SUCCESS);
    ck_assert_str_eq(id, "AQID.AIA");
    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, cert_with_aki(kid, 3, 0x100, p), p), APR_SUCCESS);
    ck_assert_str_eq(id, "AQID.AQA");
    /* no authority key identifier at all */
    ck_assert_int_eq(md_cert_self_sign(&cert, "x.example.org", strs(p, "x.example.org", NULL, NULL, NULL),
                                       ec_key(p), apr_time_from_sec(DAY_SEC), p), APR_SUCCESS);
    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, cert, p), APR_ENOENT);
    ck_assert_ptr_null(id);
    md_test_pool_done(p);
}
END_TEST

/* Found by fuzzing (tests/fuzz, target cert): an SCT timestamp beyond 2^63 / 1000 ms was multiplied into a
 * negative time. */
START_TEST(sct_timestamp_out_of_range)
{
    apr_pool_t *p = md_test_pool();
    unsigned char log_id[32] = { 1 }, sig[8] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };
    STACK_OF(SCT) *list = sk_SCT_new_null();
    const uint64_t stamps[] = { UINT64_C(1700000000123), UINT64_C(0xFFFFFFFFFFFFFFFF),
                                (uint64_t)(APR_INT64_MAX / 1000) + 1 };
    apr_array_header_t *scts;
    X509 *x = X509_new();
    md_cert_t *cert;
    size_t i;

    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(list);
    for (i = 0; i < sizeof(stamps) / sizeof(stamps[0]); ++i) {
        SCT *sct = SCT_new();
        ck_assert_ptr_nonnull(sct);
        ck_assert(SCT_set_version(sct, SCT_VERSION_V1));
        ck_assert(SCT_set1_log_id(sct, log_id, sizeof(log_id)));
        SCT_set_timestamp(sct, stamps[i]);
        ck_assert(SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256));
        ck_assert(SCT_set1_signature(sct, sig, sizeof(sig)));
        ck_assert(sk_SCT_push(list, sct));
    }
    ck_assert_int_eq(X509_add1_ext_i2d(x, NID_ct_precert_scts, list, 0, X509V3_ADD_DEFAULT), 1);
    SCT_LIST_free(list);
    cert = md_cert_wrap(x, p);
    ck_assert_int_eq(md_cert_get_scts(&scts, cert, p), APR_SUCCESS);
    ck_assert_int_eq(scts->nelts, 3);
    ck_assert_int_eq(APR_ARRAY_IDX(scts, 0, md_sct_t *)->timestamp, APR_INT64_C(1700000000123000));
    ck_assert_int_eq(APR_ARRAY_IDX(scts, 1, md_sct_t *)->timestamp, 0);
    ck_assert_int_eq(APR_ARRAY_IDX(scts, 2, md_sct_t *)->timestamp, 0);
    md_test_pool_done(p);
}
END_TEST

/* A bare certificate with a DNS SAN and an OCSP URL that have a NUL byte inside. */
static md_cert_t *cert_with_nul_names(apr_pool_t *p)
{
    static const char dns[] = "a.example\0.evil.example", uri[] = "http://ocsp.example\0.evil.example/";
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gen = GENERAL_NAME_new(), *good = GENERAL_NAME_new(), *loc = GENERAL_NAME_new();
    AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
    ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new(), *g = ASN1_IA5STRING_new(), *u = ASN1_IA5STRING_new();
    X509 *x = X509_new();

    ck_assert(x && gens && gen && good && loc && aia && ad && s && g && u);
    ck_assert(ASN1_STRING_set(s, dns, sizeof(dns) - 1));
    GENERAL_NAME_set0_value(gen, GEN_DNS, s);
    ck_assert(ASN1_STRING_set(g, "b.example", 9));
    GENERAL_NAME_set0_value(good, GEN_DNS, g);
    ck_assert(sk_GENERAL_NAME_push(gens, gen) && sk_GENERAL_NAME_push(gens, good));
    ck_assert_int_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT), 1);
    GENERAL_NAMES_free(gens);
    ck_assert(ASN1_STRING_set(u, uri, sizeof(uri) - 1));
    GENERAL_NAME_set0_value(loc, GEN_URI, u);
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(NID_ad_OCSP);
    GENERAL_NAME_free(ad->location);
    ad->location = loc;
    ck_assert(sk_ACCESS_DESCRIPTION_push(aia, ad));
    ck_assert_int_eq(X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT), 1);
    AUTHORITY_INFO_ACCESS_free(aia);
    return md_cert_wrap(x, p);
}

/* Found while writing the cert fuzz target: a SAN "a.example\0.evil.example" was read as "a.example", so the
 * certificate counted as covering a.example (and an OCSP URL with a NUL was cut there). */
START_TEST(nul_in_san_and_url)
{
    apr_pool_t *p = md_test_pool();
    md_cert_t *cert = cert_with_nul_names(p);
    apr_array_header_t *names;

    ck_assert_int_eq(md_cert_get_dns_names(&names, cert, p), APR_SUCCESS);
    assert_strs(names, strs(p, "b.example", NULL, NULL, NULL));
    ck_assert(!md_cert_covers(cert, "a.example", p));
    ck_assert(md_cert_covers(cert, "b.example", p));
    ck_assert_ptr_null(md_cert_get_ocsp_url(cert, p));
    md_test_pool_done(p);
}
END_TEST

/* ---- made certificates -------------------------------------------------------------------------- */

/* A DNS name that starts like an IPv4 address is a DNS name, in fallback certificates as in CSRs. */
START_TEST(self_signed_ip_like_dns_name)
{
    apr_pool_t *p = md_test_pool();
    md_cert_t *cert;
    apr_array_header_t *dns, *ips;

    ck_assert_int_eq(md_cert_self_sign(&cert, "1.2.3.4.nip.io", strs(p, "1.2.3.4.nip.io", "10.0.0.1", NULL, NULL),
                                       ec_key(p), apr_time_from_sec(DAY_SEC), p), APR_SUCCESS);
    ck_assert_int_eq(md_cert_get_dns_names(&dns, cert, p), APR_SUCCESS);
    ck_assert_int_eq(md_cert_get_ip_addresses(&ips, cert, p), APR_SUCCESS);
    assert_strs(dns, strs(p, "1.2.3.4.nip.io", NULL, NULL, NULL));
    assert_strs(ips, strs(p, "10.0.0.1", NULL, NULL, NULL));
    md_test_pool_done(p);
}
END_TEST

static void check_self_signed(md_pkey_t *key, int sig_nid, apr_pool_t *p)
{
    apr_array_header_t *names = strs(p, "example.org", "www.example.org", "192.0.2.7", "2001:db8::7"), *a;
    apr_interval_time_t valid_for = apr_time_from_sec(30 * DAY_SEC);
    apr_time_t now = apr_time_now(), slack = apr_time_from_sec(120);
    md_cert_t *cert, *cert2;
    md_result_t *result = md_result_make(p);
    X509 *x;

    ck_assert_int_eq(md_cert_self_sign(&cert, "example.org", names, key, valid_for, p), APR_SUCCESS);
    x = md_cert_get_X509(cert);
    ck_assert_str_eq(md_cert_get_common_name(cert, p), "example.org");
    ck_assert_str_eq(md_cert_get_subject(cert, p), "CN=example.org");
    ck_assert_str_eq(md_cert_get_issuer(cert, p), "CN=example.org");
    ck_assert_int_eq(md_cert_get_dns_names(&a, cert, p), APR_SUCCESS);
    assert_strs(a, strs(p, "example.org", "www.example.org", NULL, NULL));
    ck_assert_int_eq(md_cert_get_ip_addresses(&a, cert, p), APR_SUCCESS);
    assert_strs(a, strs(p, "192.0.2.7", "2001:db8::7", NULL, NULL));
    ck_assert(md_cert_covers(cert, "192.0.2.7", p));
    ck_assert(llabs(md_cert_get_not_before(cert) - (now - apr_time_from_sec(DAY_SEC))) < slack);
    ck_assert(llabs(md_cert_get_not_after(cert) - (now + valid_for)) < slack);
    ck_assert_int_eq(X509_get_signature_nid(x), sig_nid);
    ck_assert_int_eq(X509_get_version(x), 2);
    ck_assert_int_eq(X509_verify(x, md_pkey_get_EVP_PKEY(key)), 1);
    ck_assert(md_cert_matches_key(cert, key));
    ck_assert_uint_ge(strlen(md_cert_get_serial_hex(cert, p)), 30);
    ck_assert_int_eq(md_cert_self_sign(&cert2, "example.org", names, key, valid_for, p), APR_SUCCESS);
    ck_assert_str_ne(md_cert_get_serial_hex(cert, p), md_cert_get_serial_hex(cert2, p));
    /* it is its own trust anchor, valid now (at = 0) */
    ck_assert_int_eq(md_cert_chain_verify(one(cert, p), one(cert, p), 0, result, p), APR_SUCCESS);
    ck_assert_int_eq(result->status, APR_SUCCESS);
}

START_TEST(self_sign_ec)
{
    apr_pool_t *p = md_test_pool();
    check_self_signed(ec_key(p), NID_ecdsa_with_SHA256, p);
    md_test_pool_done(p);
}
END_TEST

/* The signer (many fallbacks with one key): each certificate as md_cert_self_sign makes it, its own serial, names
 * and SANs, none of the one before left in it (more names, fewer, IP addresses, none). */
START_TEST(signer_many)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *key = ec_key(p);
    const char *cns[] = { "a.example.org", "b.example.org", "c.example.org", "d.example.org" };
    apr_array_header_t *names[4], *chain, *a;
    apr_time_t now = apr_time_now();
    const char *pem, *serials[4];
    md_cert_signer_t *signer;
    md_cert_t *cert;
    apr_size_t len;
    int i, j;

    names[0] = strs(p, "a.example.org", "www.a.example.org", "x.a.example.org", NULL);
    names[1] = strs(p, "b.example.org", NULL, NULL, NULL);
    names[2] = strs(p, "c.example.org", "192.0.2.7", NULL, NULL);
    names[3] = strs(p, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(md_cert_signer_make(&signer, key, apr_time_from_sec(7 * DAY_SEC), p), APR_SUCCESS);
    for (i = 0; i < 4; ++i) {
        ck_assert_int_eq(md_cert_signer_pem(&pem, &len, signer, cns[i], names[i], p), APR_SUCCESS);
        ck_assert_int_eq(md_cert_chain_from_pem(&chain, pem, len, NULL, p), APR_SUCCESS);
        ck_assert_int_eq(chain->nelts, 1);
        cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
        ck_assert_str_eq(md_cert_get_subject(cert, p), apr_pstrcat(p, "CN=", cns[i], NULL));
        ck_assert_str_eq(md_cert_get_issuer(cert, p), apr_pstrcat(p, "CN=", cns[i], NULL));
        /* none: no SAN extension at all */
        ck_assert_int_eq(X509_get_ext_by_NID(md_cert_get_X509(cert), NID_subject_alt_name, -1) >= 0, i < 3);
        if (i < 2) {
            ck_assert_int_eq(md_cert_get_dns_names(&a, cert, p), APR_SUCCESS);
            assert_strs(a, names[i]);
        }
        if (i == 2) {
            ck_assert_int_eq(md_cert_get_dns_names(&a, cert, p), APR_SUCCESS);
            assert_strs(a, strs(p, "c.example.org", NULL, NULL, NULL));
            ck_assert_int_eq(md_cert_get_ip_addresses(&a, cert, p), APR_SUCCESS);
            assert_strs(a, strs(p, "192.0.2.7", NULL, NULL, NULL));
        }
        ck_assert_int_eq(X509_verify(md_cert_get_X509(cert), md_pkey_get_EVP_PKEY(key)), 1);
        ck_assert(md_cert_matches_key(cert, key));
        ck_assert(llabs(md_cert_get_not_after(cert) - (now + apr_time_from_sec(7 * DAY_SEC)))
                  < apr_time_from_sec(120));
        serials[i] = md_cert_get_serial_hex(cert, p);
        for (j = 0; j < i; ++j) ck_assert_str_ne(serials[i], serials[j]);
    }
    md_test_pool_done(p);
}
END_TEST

START_TEST(self_sign_rsa)
{
    apr_pool_t *p = md_test_pool();
    EVP_PKEY *k = EVP_RSA_gen(2048);

    ck_assert_ptr_nonnull(k);
    check_self_signed(md_pkey_wrap(k, p), NID_sha256WithRSAEncryption, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(self_sign_long_name)
{
    apr_pool_t *p = md_test_pool();
    const char *name = apr_pstrcat(p, "a-label-of-sixty-three-characters-is-the-longest-one-allowed-xx",
                                   ".example.org", NULL);
    apr_array_header_t *a;
    md_cert_t *cert;

    ck_assert_int_eq(md_cert_self_sign(&cert, name, strs(p, name, NULL, NULL, NULL), ec_key(p),
                                       apr_time_from_sec(DAY_SEC), p), APR_SUCCESS);
    ck_assert_ptr_null(md_cert_get_common_name(cert, p));
    ck_assert_int_eq(md_cert_get_dns_names(&a, cert, p), APR_SUCCESS);
    assert_strs(a, strs(p, name, NULL, NULL, NULL));
    ck_assert_int_eq(md_cert_self_sign(&cert, "", strs(p, name, NULL, NULL, NULL), ec_key(p),
                                       apr_time_from_sec(DAY_SEC), p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

/* The acmeIdentifier extension's extnValue and critical flag. */
static void check_acme_identifier(md_cert_t *cert, const char *key_authz)
{
    X509 *x = md_cert_get_X509(cert);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    unsigned char digest[32];
    unsigned int dlen;
    const ASN1_OCTET_STRING *value;
    X509_EXTENSION *ext;
    int i;

    ck_assert_ptr_nonnull(oid);
    i = X509_get_ext_by_OBJ(x, oid, -1);
    ASN1_OBJECT_free(oid);
    ck_assert_int_ge(i, 0);
    ext = X509_get_ext(x, i);
    ck_assert_int_eq(X509_EXTENSION_get_critical(ext), 1);
    value = X509_EXTENSION_get_data(ext);
    ck_assert_int_eq(ASN1_STRING_length(value), 34);
    ck_assert_int_eq(ASN1_STRING_get0_data(value)[0], 0x04);
    ck_assert_int_eq(ASN1_STRING_get0_data(value)[1], 0x20);
    ck_assert(EVP_Digest(key_authz, strlen(key_authz), digest, &dlen, EVP_sha256(), NULL));
    ck_assert_int_eq(memcmp(ASN1_STRING_get0_data(value) + 2, digest, 32), 0);
}

START_TEST(tls_alpn_01_dns)
{
    apr_pool_t *p = md_test_pool();
    const char *authz = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";
    md_pkey_t *key = ec_key(p);
    apr_array_header_t *a;
    md_cert_t *cert;

    ck_assert_int_eq(md_cert_make_tls_alpn_01(&cert, "example.org", authz, key, apr_time_from_sec(DAY_SEC), p),
                     APR_SUCCESS);
    check_acme_identifier(cert, authz);
    ck_assert_int_eq(md_cert_get_dns_names(&a, cert, p), APR_SUCCESS);
    assert_strs(a, strs(p, "example.org", NULL, NULL, NULL));
    ck_assert_int_eq(md_cert_get_ip_addresses(&a, cert, p), APR_SUCCESS);
    ck_assert_int_eq(a->nelts, 0);
    ck_assert_int_eq(X509_verify(md_cert_get_X509(cert), md_pkey_get_EVP_PKEY(key)), 1);
    ck_assert(md_cert_is_valid_at(cert, apr_time_now()));
    ck_assert_int_eq(md_cert_make_tls_alpn_01(&cert, "example.org", NULL, key, 0, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(tls_alpn_01_ip)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *a;
    md_cert_t *cert;

    ck_assert_int_eq(md_cert_make_tls_alpn_01(&cert, "2001:db8::9", "tok.thumb", ec_key(p),
                                              apr_time_from_sec(DAY_SEC), p), APR_SUCCESS);
    check_acme_identifier(cert, "tok.thumb");
    ck_assert_int_eq(md_cert_get_ip_addresses(&a, cert, p), APR_SUCCESS);
    assert_strs(a, strs(p, "2001:db8::9", NULL, NULL, NULL));
    ck_assert_int_eq(md_cert_get_dns_names(&a, cert, p), APR_SUCCESS);
    ck_assert_int_eq(a->nelts, 0);
    md_test_pool_done(p);
}
END_TEST

/* ---- chain verification ------------------------------------------------------------------------- */

static void assert_detail(const md_result_t *result, const char *part)
{
    ck_assert_ptr_nonnull(result->detail);
    ck_assert_msg(strstr(result->detail, part) != NULL, "'%s' not in '%s'", part, result->detail);
}

START_TEST(verify_good_chain)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *chain = load_chain("fullchain.pem", p), *roots = load_chain("root.pem", p);
    apr_time_t at = expected_time("leaf.not_before", p) + apr_time_from_sec(DAY_SEC);
    md_result_t *result = md_result_make(p);

    ck_assert_int_eq(md_cert_chain_verify(chain, roots, at, result, p), APR_SUCCESS);
    ck_assert_int_eq(result->status, APR_SUCCESS);
    /* with the root in the chain, and with more roots than needed */
    APR_ARRAY_PUSH(chain, md_cert_t *) = APR_ARRAY_IDX(roots, 0, md_cert_t *);
    roots = two(load_cert("other-root.pem", p), APR_ARRAY_IDX(roots, 0, md_cert_t *), p);
    ck_assert_int_eq(md_cert_chain_verify(chain, roots, at, result, p), APR_SUCCESS);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_missing_intermediate)
{
    apr_pool_t *p = md_test_pool();
    apr_time_t at = expected_time("leaf.not_before", p) + apr_time_from_sec(DAY_SEC);
    md_result_t *result = md_result_make(p);

    ck_assert_int_eq(md_cert_chain_verify(load_chain("leaf.pem", p), load_chain("root.pem", p), at, result, p),
                     APR_EINVAL);
    ck_assert_int_eq(result->status, APR_EINVAL);
    assert_detail(result, "unable to get local issuer certificate");
    assert_detail(result, "depth 0");
    assert_detail(result, "CN=www.example.org");
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_expired_and_not_yet_valid)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *chain = load_chain("fullchain.pem", p), *roots = load_chain("root.pem", p);
    md_result_t *result = md_result_make(p);
    apr_time_t nb = expected_time("leaf.not_before", p), na = expected_time("leaf.not_after", p);

    ck_assert_int_eq(md_cert_chain_verify(chain, roots, na + apr_time_from_sec(DAY_SEC), result, p), APR_EINVAL);
    assert_detail(result, "certificate has expired");
    assert_detail(result, "depth 0");
    ck_assert_int_eq(md_cert_chain_verify(chain, roots, nb - apr_time_from_sec(DAY_SEC), result, p), APR_EINVAL);
    assert_detail(result, "certificate is not yet valid");
    ck_assert_int_eq(md_cert_chain_verify(chain, roots, na - apr_time_from_sec(DAY_SEC), result, p),
                     APR_SUCCESS);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_wrong_root)
{
    apr_pool_t *p = md_test_pool();
    apr_time_t at = expected_time("leaf.not_before", p) + apr_time_from_sec(DAY_SEC);
    md_result_t *result = md_result_make(p);
    apr_array_header_t *empty = apr_array_make(p, 1, sizeof(md_cert_t *));

    ck_assert_int_eq(md_cert_chain_verify(load_chain("fullchain.pem", p), load_chain("other-root.pem", p), at,
                                          result, p), APR_EINVAL);
    assert_detail(result, "unable to get local issuer certificate");
    assert_detail(result, "depth 1");
    assert_detail(result, "CN=mdomain Test Intermediate");
    ck_assert_int_eq(md_cert_chain_verify(load_chain("fullchain.pem", p), empty, at, result, p), APR_EINVAL);
    ck_assert_int_eq(md_cert_chain_verify(empty, load_chain("root.pem", p), at, result, p), APR_EINVAL);
    assert_detail(result, "empty chain");
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_cert_suite(void)
{
    Suite *s = suite_create("cert");
    TCase *tc = tcase_create("cert");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, pem_chain_load);
    tcase_add_test(tc, pem_chain_errors);
    tcase_add_test(tc, pem_roundtrip_and_fsave);
    tcase_add_test(tc, der_roundtrip);
    tcase_add_test(tc, basic_fields);
    tcase_add_test(tc, fingerprint_and_key);
    tcase_add_test(tc, sans_and_covers);
    tcase_add_test(tc, aia_crl_must_staple);
    tcase_add_test(tc, embedded_scts);
    tcase_add_test(tc, ari_id_fixtures);
    tcase_add_test(tc, ari_id_by_hand);
    tcase_add_test(tc, sct_timestamp_out_of_range);
    tcase_add_test(tc, nul_in_san_and_url);
    tcase_add_test(tc, self_sign_ec);
    tcase_add_test(tc, signer_many);
    tcase_add_test(tc, self_sign_rsa);
    tcase_add_test(tc, self_sign_long_name);
    tcase_add_test(tc, tls_alpn_01_dns);
    tcase_add_test(tc, tls_alpn_01_ip);
    tcase_add_test(tc, self_signed_ip_like_dns_name);
    tcase_add_test(tc, verify_good_chain);
    tcase_add_test(tc, verify_missing_intermediate);
    tcase_add_test(tc, verify_expired_and_not_yet_valid);
    tcase_add_test(tc, verify_wrong_root);
    suite_add_tcase(s, tc);
    return s;
}
