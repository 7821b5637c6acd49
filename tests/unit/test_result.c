/* Unit tests for the result object. */
#include <string.h>

#include "md_json.h"
#include "md_result.h"
#include "test_common.h"

START_TEST(result_set_and_text)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *r = md_result_make(p), *copy = md_result_make(p);
    md_json_t *subs = md_json_create_array(p);

    ck_assert_int_eq(r->status, APR_SUCCESS);
    md_result_printf(r, APR_EINVAL, "%s: bad value '%d'", "md.json", 42);
    ck_assert_int_eq(r->status, APR_EINVAL);
    ck_assert_str_eq(md_result_text(r, p), "md.json: bad value '42'");

    md_json_adds("sub", subs, NULL);
    md_result_problem_set(r, APR_EGENERAL, "urn:ietf:params:acme:error:rejectedIdentifier",
                          "refused", subs);
    ck_assert_str_eq(md_result_text(r, p), "refused (urn:ietf:params:acme:error:rejectedIdentifier)");
    r->ready_at = 42;
    md_result_assign(copy, r);
    ck_assert_str_eq(copy->problem, r->problem);
    ck_assert_uint_eq(md_json_count(copy->subproblems, NULL), 1);
    ck_assert_int_eq(copy->ready_at, 42);

    md_result_reset(r);
    ck_assert_int_eq(r->status, APR_SUCCESS);
    ck_assert_ptr_null(r->detail);
    md_result_set(r, APR_ENOENT, NULL);
    ck_assert(strlen(md_result_text(r, p)) > 0);
    md_result_set(NULL, APR_EINVAL, "ignored");
    md_result_activity_set(r, "renewing");
    ck_assert_str_eq(r->activity, "renewing");
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_result_suite(void)
{
    Suite *s = suite_create("result");
    TCase *tc = tcase_create("result");

    tcase_add_test(tc, result_set_and_text);
    suite_add_tcase(s, tc);
    return s;
}
