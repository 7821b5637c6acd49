/* Unit tests of the chain tails parsed once (md_cert_tail.c): the same intermediates shared, other bytes not. */
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "test_common.h"

static apr_array_header_t *chain_of(const char *pem, apr_size_t len, apr_pool_t *p)
{
    apr_array_header_t *chain = NULL;
    const char *err = NULL;

    ck_assert_msg(md_cert_chain_from_pem(&chain, pem, len, &err, p) == APR_SUCCESS, "%s", err ? err : "?");
    return chain;
}

static X509 *x509_at(const apr_array_header_t *chain, int i)
{
    return md_cert_get_X509(APR_ARRAY_IDX(chain, i, const md_cert_t *));
}

static const char *cn_at(const apr_array_header_t *chain, int i, apr_pool_t *p)
{
    return md_cert_get_common_name(APR_ARRAY_IDX(chain, i, const md_cert_t *), p);
}

/* A drive read the CA's intermediate once per certificate; the same tail now gives the same X509 (a reference of
 * its own: the first chain's pool gone, the second chain's intermediate is whole). */
START_TEST(tail_shared)
{
    apr_pool_t *p = md_test_pool(), *p1, *p2;
    apr_array_header_t *a, *b;
    char *pem;
    apr_size_t len;
    X509 *leaf_a, *int_a;

    ck_assert_int_eq(md_file_read(&pem, &len, md_test_data("cert/fullchain.pem", p), p), APR_SUCCESS);
    apr_pool_create(&p1, p);
    apr_pool_create(&p2, p);
    a = chain_of(pem, len, p1);
    b = chain_of(pem, len, p2);
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_int_eq(b->nelts, 2);
    leaf_a = x509_at(a, 0);
    int_a = x509_at(a, 1);
    ck_assert_ptr_ne(x509_at(b, 0), leaf_a);    /* the leaf is parsed each time */
    ck_assert_ptr_eq(x509_at(b, 1), int_a);
    apr_pool_destroy(p1);
    ck_assert_str_eq(cn_at(b, 1, p2), "mdomain Test Intermediate");
    ck_assert_str_eq(cn_at(b, 0, p2), "www.example.org");
    md_test_pool_done(p);
}
END_TEST

/* Other bytes after the leaf are parsed as such: another issuer, a damaged one after a good one was kept. */
START_TEST(tail_other_bytes)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *chain = NULL;
    char *full, *leaf, *root, *bad, *at;
    const char *err = NULL;
    apr_size_t flen, llen, rlen;

    ck_assert_int_eq(md_file_read(&full, &flen, md_test_data("cert/fullchain.pem", p), p), APR_SUCCESS);
    ck_assert_int_eq(md_file_read(&leaf, &llen, md_test_data("cert/leaf.pem", p), p), APR_SUCCESS);
    ck_assert_int_eq(md_file_read(&root, &rlen, md_test_data("cert/root.pem", p), p), APR_SUCCESS);
    chain = chain_of(full, flen, p);
    ck_assert_str_eq(cn_at(chain, 1, p), "mdomain Test Intermediate");
    chain = chain_of(apr_pstrcat(p, leaf, root, NULL), llen + rlen, p);
    ck_assert_int_eq(chain->nelts, 2);
    ck_assert_str_eq(cn_at(chain, 1, p), "mdomain Test Root");
    chain = chain_of(apr_pstrcat(p, leaf, root, root, NULL), llen + 2 * rlen, p);
    ck_assert_int_eq(chain->nelts, 3);
    /* the kept intermediate's text with a byte changed: the error, not the kept certificate */
    bad = apr_pstrmemdup(p, full, flen);
    at = strstr(strstr(bad, "-----END CERTIFICATE-----") + 1, "-----BEGIN CERTIFICATE-----\n");
    ck_assert_ptr_nonnull(at);
    memcpy(at + 40, "!!!!", 4);
    ck_assert_int_eq(md_cert_chain_from_pem(&chain, bad, flen, &err, p), APR_EINVAL);
    ck_assert_msg(strstr(err, "certificate 2") != NULL, "err: %s", err);
    /* the leaf alone: a chain of one */
    chain = chain_of(leaf, llen, p);
    ck_assert_int_eq(chain->nelts, 1);
    chain = chain_of(full, flen, p);
    ck_assert_int_eq(chain->nelts, 2);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_cert_tail_suite(void)
{
    Suite *s = suite_create("cert_tail");
    TCase *tc = tcase_create("tails");

    tcase_add_test(tc, tail_shared);
    tcase_add_test(tc, tail_other_bytes);
    suite_add_tcase(s, tc);
    return s;
}
