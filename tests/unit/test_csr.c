/* Unit tests of md_csr: CSRs parsed back with OpenSSL (subject, SANs, must-staple, signature). */
#include <stdarg.h>
#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "md_csr.h"
#include "md_pkey.h"
#include "test_common.h"

static md_pkey_t *load_key(const char *name, apr_pool_t *p)
{
    md_pkey_t *pkey = NULL;
    const char *err = NULL;

    ck_assert_msg(md_pkey_fload(&pkey, md_test_data(name, p), NULL, 0, &err, p) == APR_SUCCESS,
                  "%s: %s", name, err ? err : "?");
    return pkey;
}

static apr_array_header_t *names_of(apr_pool_t *p, const char *first, ...)
{
    apr_array_header_t *names = apr_array_make(p, 5, sizeof(const char *));
    const char *name;
    va_list ap;

    va_start(ap, first);
    for (name = first; name; name = va_arg(ap, const char *)) APR_ARRAY_PUSH(names, const char *) = name;
    va_end(ap);
    return names;
}

/* Make a CSR and parse it back; checks that its signature verifies with the key. Free with X509_REQ_free. */
static X509_REQ *make_csr(const apr_array_header_t *names, int must_staple, const md_pkey_t *pkey,
                          apr_pool_t *p)
{
    md_data_t *der = NULL;
    const unsigned char *d;
    X509_REQ *req;

    ck_assert_int_eq(md_csr_make(&der, names, must_staple, pkey, p), APR_SUCCESS);
    ck_assert_ptr_nonnull(der);
    d = (const unsigned char *)der->data;
    req = d2i_X509_REQ(NULL, &d, (long)der->len);
    ck_assert_ptr_nonnull(req);
    ck_assert_ptr_eq(d, (const unsigned char *)der->data + der->len);
    ck_assert_int_eq(X509_REQ_verify(req, md_pkey_get_EVP_PKEY(pkey)), 1);
    return req;
}

/* The subject CN, or "" when there is none. */
static const char *csr_cn(X509_REQ *req, apr_pool_t *p)
{
    X509_NAME *name = X509_REQ_get_subject_name(req);
    char buf[256];

    if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof(buf)) < 0) return "";
    return apr_pstrdup(p, buf);
}

/* The extension with nid from the request (a copy, free with X509_EXTENSION_free), or NULL. */
static X509_EXTENSION *csr_ext(X509_REQ *req, int nid)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    X509_EXTENSION *ext = NULL;
    int i;

    for (i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i) {
        if (OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i))) == nid) {
            ext = X509_EXTENSION_dup(sk_X509_EXTENSION_value(exts, i));
            break;
        }
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ext;
}

/* The SANs as "DNS:name" / "IP:addr" strings joined with ",". */
static const char *csr_sans(X509_REQ *req, apr_pool_t *p)
{
    X509_EXTENSION *ext = csr_ext(req, NID_subject_alt_name);
    GENERAL_NAMES *gens;
    const GENERAL_NAME *gen;
    const char *s = "", *one;
    char addr[INET6_ADDRSTRLEN];
    int i, len;

    ck_assert_ptr_nonnull(ext);
    gens = X509V3_EXT_d2i(ext);
    ck_assert_ptr_nonnull(gens);
    for (i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
        gen = sk_GENERAL_NAME_value(gens, i);
        if (gen->type == GEN_DNS) {
            one = apr_pstrcat(p, "DNS:", (const char *)ASN1_STRING_get0_data(gen->d.dNSName), NULL);
        }
        else {
            ck_assert_int_eq(gen->type, GEN_IPADD);
            len = ASN1_STRING_length(gen->d.iPAddress);
            ck_assert(len == 4 || len == 16);
            inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gen->d.iPAddress), addr,
                      sizeof(addr));
            one = apr_pstrcat(p, "IP:", addr, NULL);
        }
        s = *s ? apr_pstrcat(p, s, ",", one, NULL) : one;
    }
    GENERAL_NAMES_free(gens);
    X509_EXTENSION_free(ext);
    return s;
}

START_TEST(dns_and_ip_sans)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key("pkey/ec256-trad.pem", p);
    apr_array_header_t *names = names_of(p, "example.org", "www.example.org", "*.example.org",
                                         "192.0.2.1", "2001:db8::1", "1.2.3.4.nip.io", NULL);
    X509_REQ *req = make_csr(names, 0, pkey, p);
    X509_EXTENSION *staple = csr_ext(req, NID_tlsfeature);
    EVP_PKEY *pub = X509_REQ_get0_pubkey(req);

    ck_assert_str_eq(csr_sans(req, p), "DNS:example.org,DNS:www.example.org,DNS:*.example.org,"
                                       "IP:192.0.2.1,IP:2001:db8::1,DNS:1.2.3.4.nip.io");
    ck_assert_str_eq(csr_cn(req, p), "example.org");
    ck_assert_ptr_null(staple);
    ck_assert_int_eq(EVP_PKEY_eq(pub, md_pkey_get_EVP_PKEY(pkey)), 1);
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA256);
    ck_assert_int_eq(X509_REQ_get_version(req), X509_REQ_VERSION_1);
    X509_REQ_free(req);
    md_test_pool_done(p);
}
END_TEST

/* The request's SubjectPublicKeyInfo is the DER OpenSSL makes of the key (EC keys have theirs set directly, without
 * the encoder and decoder round trip of X509_REQ_set_pubkey), and the CA reads the key back from it. */
START_TEST(public_key_der)
{
    apr_pool_t *p = md_test_pool();
    const char *specs[] = { "P-256", "P-384", "rsa2048" }, *err = NULL;
    md_pkey_spec_t *spec;
    md_pkey_t *keys[5];
    unsigned char *want = NULL, *got = NULL;
    int i, wlen, glen;
    X509_REQ *req;

    for (i = 0; i < 3; ++i) {
        ck_assert_int_eq(md_pkey_spec_parse(&spec, specs[i], NULL, &err, p), APR_SUCCESS);
        ck_assert_int_eq(md_pkey_gen(&keys[i], spec, p), APR_SUCCESS);
    }
    keys[3] = load_key("pkey/ec256-trad.pem", p);
    keys[4] = load_key("pkey/ec384-pkcs8.pem", p);
    for (i = 0; i < 5; ++i) {
        req = make_csr(names_of(p, "example.org", NULL), 0, keys[i], p);
        wlen = i2d_PUBKEY(md_pkey_get_EVP_PKEY(keys[i]), &want);
        glen = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &got);
        ck_assert_int_gt(wlen, 0);
        ck_assert_int_eq(glen, wlen);
        ck_assert(!memcmp(got, want, (size_t)wlen));
        ck_assert_int_eq(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), md_pkey_get_EVP_PKEY(keys[i])), 1);
        OPENSSL_free(want);
        OPENSSL_free(got);
        want = got = NULL;
        X509_REQ_free(req);
    }
    md_test_pool_done(p);
}
END_TEST

START_TEST(must_staple)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key("pkey/rsa2048-trad.pem", p);
    X509_REQ *req = make_csr(names_of(p, "*.example.net", "example.net", NULL), 1, pkey, p);
    X509_EXTENSION *ext = csr_ext(req, NID_tlsfeature);
    TLS_FEATURE *features;

    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(X509_EXTENSION_get_critical(ext), 0);
    features = X509V3_EXT_d2i(ext);
    ck_assert_ptr_nonnull(features);
    ck_assert_int_eq(sk_ASN1_INTEGER_num(features), 1);
    ck_assert_int_eq(ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, 0)), 5);
    ck_assert_str_eq(csr_sans(req, p), "DNS:*.example.net,DNS:example.net");
    ck_assert_str_eq(csr_cn(req, p), "*.example.net");
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_sha256WithRSAEncryption);
    sk_ASN1_INTEGER_pop_free(features, ASN1_INTEGER_free);
    X509_EXTENSION_free(ext);
    X509_REQ_free(req);
    md_test_pool_done(p);
}
END_TEST

START_TEST(common_name_rules)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key("pkey/ec384-pkcs8.pem", p);
    char label[64];
    const char *name64, *name65;
    X509_REQ *req;

    /* 59 + ".test" = 64 characters, one more is too long for a CN */
    memset(label, 'a', 59);
    label[59] = '\0';
    name64 = apr_pstrcat(p, label, ".test", NULL);
    name65 = apr_pstrcat(p, "b", name64, NULL);
    ck_assert_uint_eq(strlen(name64), 64);

    req = make_csr(names_of(p, name64, NULL), 0, pkey, p);
    ck_assert_str_eq(csr_cn(req, p), name64);
    ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA256);
    X509_REQ_free(req);

    req = make_csr(names_of(p, name65, "short.test", NULL), 0, pkey, p);
    ck_assert_str_eq(csr_cn(req, p), "");
    ck_assert_str_eq(csr_sans(req, p), apr_pstrcat(p, "DNS:", name65, ",DNS:short.test", NULL));
    X509_REQ_free(req);

    req = make_csr(names_of(p, "198.51.100.7", "ip.example.org", NULL), 0, pkey, p);
    ck_assert_str_eq(csr_cn(req, p), "");
    ck_assert_str_eq(csr_sans(req, p), "IP:198.51.100.7,DNS:ip.example.org");
    X509_REQ_free(req);
    md_test_pool_done(p);
}
END_TEST

START_TEST(bad_input)
{
    apr_pool_t *p = md_test_pool();
    md_pkey_t *pkey = load_key("pkey/ec256-trad.pem", p);
    md_data_t *der = (md_data_t *)1;

    ck_assert_int_eq(md_csr_make(&der, names_of(p, NULL), 0, pkey, p), APR_EINVAL);
    ck_assert_ptr_null(der);
    ck_assert_int_eq(md_csr_make(&der, NULL, 0, pkey, p), APR_EINVAL);
    ck_assert_int_eq(md_csr_make(&der, names_of(p, "example.org", "", NULL), 0, pkey, p), APR_EINVAL);
    ck_assert_int_eq(md_csr_make(&der, names_of(p, "example.org", NULL), 0, NULL, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_csr_suite(void)
{
    Suite *s = suite_create("csr");
    TCase *tc = tcase_create("csr");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dns_and_ip_sans);
    tcase_add_test(tc, public_key_der);
    tcase_add_test(tc, must_staple);
    tcase_add_test(tc, common_name_rules);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    return s;
}
