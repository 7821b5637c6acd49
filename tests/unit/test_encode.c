/* Unit tests for base64url and hex encoding. */
#include <string.h>

#include "md_encode.h"
#include "test_common.h"

/* RFC 4648 section 10 vectors, in the URL-safe alphabet and without padding. */
static const struct { const char *plain; const char *b64; } rfc4648[] = {
    { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg" },
    { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
};

START_TEST(b64url_rfc4648_vectors)
{
    apr_pool_t *p = md_test_pool();
    unsigned char *out;
    apr_size_t len;
    size_t i;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); ++i) {
        ck_assert_str_eq(md_b64url_encode(rfc4648[i].plain, strlen(rfc4648[i].plain), p), rfc4648[i].b64);
        ck_assert_int_eq(md_b64url_decode(&out, &len, rfc4648[i].b64, p), APR_SUCCESS);
        ck_assert_uint_eq(len, strlen(rfc4648[i].plain));
        ck_assert_mem_eq(out, rfc4648[i].plain, len);
    }
    md_test_pool_done(p);
}
END_TEST

START_TEST(b64url_url_alphabet_and_padding)
{
    apr_pool_t *p = md_test_pool();
    const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
    unsigned char *out;
    apr_size_t len;

    ck_assert_str_eq(md_b64url_encode(bytes, 3, p), "-_-_");
    ck_assert_int_eq(md_b64url_decode(&out, &len, "-_-_", p), APR_SUCCESS);
    ck_assert_mem_eq(out, bytes, 3);
    ck_assert_int_eq(md_b64url_decode(&out, &len, "Zm8=", p), APR_SUCCESS);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(md_b64url_decode(&out, &len, "Zm+v", p), APR_EINVAL);   /* standard alphabet */
    ck_assert_int_eq(md_b64url_decode(&out, &len, "Zm9 v", p), APR_EINVAL);
    ck_assert_int_eq(md_b64url_decode(&out, &len, "Zm9vY", p), APR_EINVAL);  /* impossible length */
    md_test_pool_done(p);
}
END_TEST

START_TEST(b64url_all_bytes_round_trip)
{
    apr_pool_t *p = md_test_pool();
    unsigned char bytes[256], *out;
    apr_size_t len, n;
    int i;

    for (i = 0; i < 256; ++i) bytes[i] = (unsigned char)i;
    for (n = 0; n <= 256; n += 17) {
        ck_assert_int_eq(md_b64url_decode(&out, &len, md_b64url_encode(bytes, n, p), p), APR_SUCCESS);
        ck_assert_uint_eq(len, n);
        if (n) ck_assert_mem_eq(out, bytes, n);
    }
    md_test_pool_done(p);
}
END_TEST

START_TEST(hex_encode_decode)
{
    apr_pool_t *p = md_test_pool();
    const unsigned char bytes[] = { 0x00, 0xa1, 0xff, 0x10 };
    unsigned char *out;
    apr_size_t len;

    ck_assert_str_eq(md_hex_encode(bytes, 4, 0, p), "00a1ff10");
    ck_assert_str_eq(md_hex_encode(bytes, 4, ':', p), "00:a1:ff:10");
    ck_assert_str_eq(md_hex_encode(bytes, 0, ':', p), "");
    ck_assert_int_eq(md_hex_decode(&out, &len, "00A1ff10", p), APR_SUCCESS);
    ck_assert_uint_eq(len, 4);
    ck_assert_mem_eq(out, bytes, 4);
    ck_assert_int_eq(md_hex_decode(&out, &len, "00:a1:FF:10", p), APR_SUCCESS);
    ck_assert_mem_eq(out, bytes, 4);
    ck_assert_int_eq(md_hex_decode(&out, &len, "abc", p), APR_EINVAL);
    ck_assert_int_eq(md_hex_decode(&out, &len, "zz", p), APR_EINVAL);
    ck_assert_int_eq(md_hex_decode(&out, &len, "ab:", p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_encode_suite(void)
{
    Suite *s = suite_create("encode");
    TCase *tc = tcase_create("encode");

    tcase_add_test(tc, b64url_rfc4648_vectors);
    tcase_add_test(tc, b64url_url_alphabet_and_padding);
    tcase_add_test(tc, b64url_all_bytes_round_trip);
    tcase_add_test(tc, hex_encode_decode);
    suite_add_tcase(s, tc);
    return s;
}
