/* Unit tests for the JSON wrapper: paths, types, arrays, iteration, parsing errors, atomic files. */
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <apr_strings.h>

#include "md_file.h"
#include "md_json.h"
#include "md_result.h"
#include "test_common.h"

START_TEST(set_get_by_path)
{
    apr_pool_t *p = md_test_pool();
    md_json_t *j = md_json_create(p), *sub;

    ck_assert_int_eq(md_json_sets("probe.example", j, "name", NULL), APR_SUCCESS);
    ck_assert_int_eq(md_json_sets("accepted", j, "ca", "agreement", NULL), APR_SUCCESS);
    ck_assert_int_eq(md_json_setl(2048, j, "privkey", "bits", NULL), APR_SUCCESS);
    ck_assert_int_eq(md_json_setn(3.0, j, "store", "version", NULL), APR_SUCCESS);
    ck_assert_int_eq(md_json_setb(1, j, "must-staple", NULL), APR_SUCCESS);
    ck_assert_int_eq(md_json_set_null(j, "nothing", NULL), APR_SUCCESS);

    ck_assert_str_eq(md_json_gets(j, "name", NULL), "probe.example");
    ck_assert_str_eq(md_json_gets(j, "ca", "agreement", NULL), "accepted");
    ck_assert_int_eq(md_json_getl(j, "privkey", "bits", NULL), 2048);
    ck_assert(md_json_getn(j, "store", "version", NULL) == 3.0);
    ck_assert_int_eq(md_json_getl(j, "store", "version", NULL), 3);
    ck_assert(md_json_getb(j, "must-staple", NULL));
    ck_assert(md_json_is(MD_JSON_TYPE_NULL, j, "nothing", NULL));
    ck_assert(md_json_is(MD_JSON_TYPE_OBJECT, j, "ca", NULL));
    ck_assert(md_json_is(MD_JSON_TYPE_REAL, j, "store", "version", NULL));

    /* missing or mistyped values */
    ck_assert_ptr_null(md_json_gets(j, "privkey", "bits", NULL));
    ck_assert_ptr_null(md_json_gets(j, "ca", "urls", "x", NULL));
    ck_assert_int_eq(md_json_getl(j, "name", NULL), 0);
    ck_assert(!md_json_getb(j, "missing", NULL));
    ck_assert(!md_json_has_key(j, "missing", NULL));
    ck_assert(md_json_has_key(j, "ca", "agreement", NULL));

    /* sub-nodes share data with the parent */
    sub = md_json_getj(j, "ca", NULL);
    ck_assert_int_eq(md_json_sets("https://ca.test/dir", sub, "url", NULL), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(j, "ca", "url", NULL), "https://ca.test/dir");

    /* a path through a non-object fails and leaves the data alone */
    ck_assert_int_eq(md_json_sets("x", j, "name", "sub", NULL), APR_EINVAL);
    ck_assert_str_eq(md_json_gets(j, "name", NULL), "probe.example");
    ck_assert_int_eq(md_json_sets("x", j, NULL), APR_EINVAL);

    ck_assert_int_eq(md_json_del(j, "ca", "url", NULL), APR_SUCCESS);
    ck_assert(!md_json_has_key(j, "ca", "url", NULL));
    ck_assert_int_eq(md_json_del(j, "ca", "url", NULL), APR_SUCCESS);
    md_test_pool_done(p);
}
END_TEST

static int collect_item(void *baton, apr_size_t idx, md_json_t *item)
{
    apr_array_header_t *a = baton;

    (void)idx;
    APR_ARRAY_PUSH(a, const char *) = md_json_dups(a->pool, item, NULL);
    return strcmp(md_json_gets(item, NULL), "stop") != 0;
}

static int collect_key(void *baton, const char *key, md_json_t *value)
{
    apr_array_header_t *a = baton;

    (void)value;
    APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(a->pool, key);
    return 1;
}

START_TEST(arrays_and_iteration)
{
    apr_pool_t *p = md_test_pool();
    md_json_t *j = md_json_create(p), *item = md_json_create(p);
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *)), *out;

    APR_ARRAY_PUSH(names, const char *) = "a.example";
    APR_ARRAY_PUSH(names, const char *) = "stop";
    APR_ARRAY_PUSH(names, const char *) = "c.example";
    ck_assert_int_eq(md_json_setsa(names, j, "domains", NULL), APR_SUCCESS);
    ck_assert_uint_eq(md_json_count(j, "domains", NULL), 3);
    ck_assert_int_eq(md_json_adds("d.example", j, "domains", NULL), APR_SUCCESS);
    ck_assert_uint_eq(md_json_count(j, "domains", NULL), 4);
    ck_assert_str_eq(md_json_gets(md_json_at(j, 3, "domains", NULL), NULL), "d.example");
    ck_assert_ptr_null(md_json_at(j, 4, "domains", NULL));

    out = apr_array_make(p, 4, sizeof(const char *));
    ck_assert_int_eq(md_json_getsa(out, j, "domains", NULL), APR_SUCCESS);
    ck_assert_int_eq(out->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(out, 0, const char *), "a.example");
    ck_assert_int_eq(md_json_getsa(out, j, "missing", NULL), APR_ENOENT);

    /* iteration stops when the callback says so */
    out = apr_array_make(p, 4, sizeof(const char *));
    ck_assert_int_eq(md_json_itera(collect_item, out, j, "domains", NULL), 0);
    ck_assert_int_eq(out->nelts, 2);

    /* objects in arrays, created on first add; keys iterate in insertion order */
    ck_assert_int_eq(md_json_sets("v", item, "zeta", NULL), APR_SUCCESS);
    ck_assert_int_eq(md_json_sets("v", item, "alpha", NULL), APR_SUCCESS);
    ck_assert_int_eq(md_json_addj(item, j, "log", "entries", NULL), APR_SUCCESS);
    ck_assert_uint_eq(md_json_count(j, "log", "entries", NULL), 1);
    out = apr_array_make(p, 4, sizeof(const char *));
    ck_assert_int_eq(md_json_iterkey(collect_key, out, md_json_at(j, 0, "log", "entries", NULL), NULL), 1);
    ck_assert_int_eq(out->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(out, 0, const char *), "zeta");
    /* adding to a non-array is refused */
    ck_assert_int_eq(md_json_adds("x", j, "log", NULL), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(serialize_and_parse)
{
    apr_pool_t *p = md_test_pool();
    md_json_t *j = md_json_create(p), *back, *arr;
    md_result_t *result = md_result_make(p);
    const char *text;

    md_json_sets("b", j, "b", NULL);
    md_json_setl(1, j, "a", NULL);
    md_json_setn(3.0, j, "store", "version", NULL);
    ck_assert_str_eq(md_json_writep(j, MD_JSON_FMT_COMPACT, p), "{\"b\":\"b\",\"a\":1,\"store\":{\"version\":3.0}}");
    ck_assert_str_eq(md_json_write_sorted(j, p), "{\"a\":1,\"b\":\"b\",\"store\":{\"version\":3.0}}");
    text = md_json_writep(j, MD_JSON_FMT_INDENT, p);
    ck_assert_ptr_nonnull(strstr(text, "\n  \"a\": 1"));
    ck_assert_int_eq(md_json_readd(&back, text, strlen(text), "test", result, p), APR_SUCCESS);
    ck_assert(md_json_equal(j, back));

    arr = md_json_create_array(p);
    ck_assert_int_eq(md_json_adds("x", arr, NULL), APR_SUCCESS);
    ck_assert_str_eq(md_json_writep(arr, MD_JSON_FMT_COMPACT, p), "[\"x\"]");
    ck_assert_int_eq(md_json_type(arr), MD_JSON_TYPE_ARRAY);

    /* unicode survives */
    md_json_sets("B\xc3\xbc" "cher", j, "name", NULL);
    text = md_json_writep(j, MD_JSON_FMT_COMPACT, p);
    ck_assert_int_eq(md_json_readd(&back, text, strlen(text), "test", result, p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(back, "name", NULL), "B\xc3\xbc" "cher");
    md_test_pool_done(p);
}
END_TEST

START_TEST(parse_errors_name_source_and_line)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_json_t *j;
    const char *bad = "{\n  \"a\": 1,\n  \"b\": tru\n}";

    ck_assert_int_eq(md_json_readd(&j, bad, strlen(bad), "md.json", result, p), APR_EINVAL);
    ck_assert_int_eq(result->status, APR_EINVAL);
    ck_assert_msg(strstr(result->detail, "md.json:3:") != NULL, "detail: %s", result->detail);
    ck_assert_int_eq(md_json_readd(&j, "{\"a\":", 5, "truncated", result, p), APR_EINVAL);
    ck_assert_msg(strstr(result->detail, "truncated:1:") != NULL, "detail: %s", result->detail);
    ck_assert_int_eq(md_json_readd(&j, "", 0, "empty", NULL, p), APR_EINVAL);    /* NULL result is fine */
    md_test_pool_done(p);
}
END_TEST

START_TEST(files_atomic_and_errors)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *f = md_file_join(p, dir, "md.json", NULL);
    md_result_t *result = md_result_make(p);
    md_json_t *j = md_json_create(p), *back;
    struct stat st;

    md_json_sets("probe.example", j, "name", NULL);
    ck_assert_int_eq(md_json_writef(j, MD_JSON_FMT_INDENT, f, 0600, p), APR_SUCCESS);
    ck_assert_int_eq(stat(f, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(md_json_readf(&back, f, result, p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(back, "name", NULL), "probe.example");

    ck_assert(APR_STATUS_IS_ENOENT(md_json_readf(&back, md_file_join(p, dir, "nope.json", NULL), result, p)));
    ck_assert_ptr_nonnull(strstr(result->detail, "nope.json"));
    ck_assert_int_eq(md_file_write_atomic(f, "{oops", 5, 0600, p), APR_SUCCESS);
    ck_assert_int_eq(md_json_readf(&back, f, result, p), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(result->detail, f));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(clone_is_deep)
{
    apr_pool_t *p = md_test_pool();
    md_json_t *j = md_json_create(p), *c;

    md_json_sets("one", j, "a", "b", NULL);
    c = md_json_clone(j, p);
    md_json_sets("two", c, "a", "b", NULL);
    ck_assert_str_eq(md_json_gets(j, "a", "b", NULL), "one");
    ck_assert(!md_json_equal(j, c));
    md_json_setj(j, c, "copy", NULL);
    md_json_sets("three", j, "a", "b", NULL);
    ck_assert_str_eq(md_json_gets(c, "copy", "a", "b", NULL), "one");
    md_test_pool_done(p);
}
END_TEST

/* Found by fuzzing (tests/fuzz, target json): a real beyond long long's range was cast to it (undefined
 * behaviour; on x86 every such value came out as LLONG_MIN, so 1e300 errors read as a negative count). */
START_TEST(getl_clamps_reals)
{
    apr_pool_t *p = md_test_pool();
    const char *text = "{\"big\": 1e300, \"small\": -1e300, \"edge\": 9223372036854775807.0, "
                       "\"below\": -9223372036854775808.0, \"frac\": -2.9, \"inside\": 4611686018427387904.0}";
    md_json_t *j = NULL;

    ck_assert_int_eq(md_json_readd(&j, text, strlen(text), "test", NULL, p), APR_SUCCESS);
    ck_assert(md_json_getl(j, "big", NULL) == LLONG_MAX);
    ck_assert(md_json_getl(j, "small", NULL) == LLONG_MIN);
    ck_assert(md_json_getl(j, "edge", NULL) == LLONG_MAX);
    ck_assert(md_json_getl(j, "below", NULL) == LLONG_MIN);
    ck_assert(md_json_getl(j, "frac", NULL) == -2);
    ck_assert(md_json_getl(j, "inside", NULL) == 4611686018427387904LL);
    md_test_pool_done(p);
}
END_TEST

/* A new array: the value first (a copy), then the old elements in order up to max; the old array unchanged. */
START_TEST(prepend_capped)
{
    apr_pool_t *p = md_test_pool();
    md_json_t *old = md_json_create_array(p), *v = md_json_create(p), *a;

    md_json_adds("b", old, NULL);
    md_json_adds("c", old, NULL);
    md_json_adds("d", old, NULL);
    md_json_sets("a", v, "k", NULL);
    a = md_json_prepend_capped(v, old, 3, p);
    ck_assert_str_eq(md_json_writep(a, MD_JSON_FMT_COMPACT, p), "[{\"k\":\"a\"},\"b\",\"c\"]");
    ck_assert_str_eq(md_json_writep(old, MD_JSON_FMT_COMPACT, p), "[\"b\",\"c\",\"d\"]");
    md_json_sets("changed", v, "k", NULL);                  /* the value was copied */
    ck_assert_str_eq(md_json_writep(a, MD_JSON_FMT_COMPACT, p), "[{\"k\":\"a\"},\"b\",\"c\"]");
    a = md_json_prepend_capped(v, md_json_create(p), 3, p);   /* no array: the value alone */
    ck_assert_int_eq(md_json_count(a, NULL), 1);
    ck_assert_int_eq(md_json_count(md_json_prepend_capped(v, old, 0, p), NULL), 0);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");

    tcase_add_test(tc, set_get_by_path);
    tcase_add_test(tc, arrays_and_iteration);
    tcase_add_test(tc, serialize_and_parse);
    tcase_add_test(tc, parse_errors_name_source_and_line);
    tcase_add_test(tc, files_atomic_and_errors);
    tcase_add_test(tc, clone_is_deep);
    tcase_add_test(tc, getl_clamps_reals);
    tcase_add_test(tc, prepend_capped);
    suite_add_tcase(s, tc);
    return s;
}
