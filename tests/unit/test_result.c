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

/* Without a detail, the text says what failed and never APR's platform texts for our own codes. */
START_TEST(result_text_without_detail)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *r = md_result_make(p);
    const char *text;

    md_result_set(r, APR_EGENERAL, NULL);
    ck_assert_str_eq(md_result_text(r, p), "failed");
    md_result_activity_set(r, "ordering");
    ck_assert_str_eq(md_result_text(r, p), "ordering failed");
    md_result_set(r, APR_ENOTIMPL, NULL);
    ck_assert_str_eq(md_result_text(r, p), "ordering failed");
    md_result_set(r, APR_EINVAL, NULL);
    ck_assert_str_eq(md_result_text(r, p), "ordering failed");
    /* a system error keeps its true text */
    md_result_set(r, APR_ECONNREFUSED, NULL);
    text = md_result_text(r, p);
    ck_assert_msg(!strncmp(text, "ordering failed: ", 17) && strlen(text) > 17, "%s", text);
    ck_assert_str_eq(md_result_status_str(APR_EGENERAL, p), "failed");
    ck_assert_str_eq(md_result_status_str(APR_ENOTIMPL, p), "not supported");
    ck_assert_str_eq(md_result_status_str(APR_EINVAL, p), "invalid");
    ck_assert_str_eq(md_result_status_str(APR_EACCES, p), "refused");
    ck_assert_ptr_null(strstr(md_result_status_str(APR_ENOENT, p), "Internal error"));
    ck_assert_int_eq(md_result_log_status(APR_EGENERAL), APR_SUCCESS);
    ck_assert_int_eq(md_result_log_status(APR_ENOTIMPL), APR_SUCCESS);
    ck_assert_int_eq(md_result_log_status(APR_EINVAL), APR_SUCCESS);
    ck_assert_int_eq(md_result_log_status(APR_EACCES), APR_SUCCESS);
    ck_assert_int_eq(md_result_log_status(APR_ENOENT), APR_ENOENT);
    md_test_pool_done(p);
}
END_TEST

/* A hint is worded by the front-end's table, once; a new failure clears it; assign copies it. */
START_TEST(result_hints)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *r = md_result_make(p), *copy = md_result_make(p);
    md_hints_t hints;

    memset(&hints, 0, sizeof(hints));
    hints.text[MD_HINT_TERMS] = "configure 'MDCertificateAgreement accepted'";
    md_result_printf(r, APR_EACCES, "the CA requires agreement to its terms");
    md_result_hint_set(r, MD_HINT_TERMS);
    md_result_assign(copy, r);
    ck_assert_int_eq(copy->hint, MD_HINT_TERMS);
    md_result_hint_apply(r, &hints);
    ck_assert_str_eq(r->detail, "the CA requires agreement to its terms; configure 'MDCertificateAgreement accepted'");
    ck_assert_int_eq(r->hint, MD_HINT_NONE);
    md_result_hint_apply(r, &hints);       /* once only */
    ck_assert_str_eq(r->detail, "the CA requires agreement to its terms; configure 'MDCertificateAgreement accepted'");
    /* no words for it, or no table: the detail stays */
    md_result_printf(r, APR_EACCES, "no way to answer");
    md_result_hint_set(r, MD_HINT_RESPONDER);
    md_result_hint_apply(r, NULL);
    ck_assert_int_eq(r->hint, MD_HINT_RESPONDER);
    md_result_hint_apply(r, &hints);
    ck_assert_str_eq(r->detail, "no way to answer");
    /* a new failure forgets the hint of the old one */
    md_result_hint_set(r, MD_HINT_TERMS);
    md_result_set(r, APR_EGENERAL, "other");
    ck_assert_int_eq(r->hint, MD_HINT_NONE);
    md_result_hint_set(r, MD_HINT_TERMS);
    md_result_problem_set(r, APR_EGENERAL, "urn:x", "other", NULL);
    ck_assert_int_eq(r->hint, MD_HINT_NONE);
    md_result_hint_set(r, MD_HINT_COUNT);  /* out of range: ignored */
    ck_assert_int_eq(r->hint, MD_HINT_NONE);
    md_test_pool_done(p);
}
END_TEST

/* Text from a CA is cut and stripped of control characters before it is printed, logged or stored (issue 15:
 * terminal escapes and newlines forged an "activated" line, a 1.5 MB detail went into job.json twice). */
START_TEST(result_text_cleaned)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *r = md_result_make(p);
    md_json_t *subs = NULL, *sub;
    char big[5000];
    const char *s;
    int i;

    ck_assert_ptr_null(md_result_clean_text(NULL, 10, p));
    ck_assert_str_eq(md_result_clean_text("plain text, \xc3\xa9t\xc3\xa9 \xe2\x82\xac", 100, p),
                     "plain text, \xc3\xa9t\xc3\xa9 \xe2\x82\xac");
    ck_assert_str_eq(md_result_clean_text("a\nb\r\x1b[31mc\x7f\td", 100, p), "a b  [31mc  d");
    ck_assert_str_eq(md_result_clean_text("C1 \xc2\x9b" "31m, RLO \xe2\x80\xae, LS \xe2\x80\xa8.", 100, p),
                     "C1  31m, RLO  , LS  .");
    ck_assert_str_eq(md_result_clean_text("bad \xff\xc3 utf-8 \xed\xa0\x80", 100, p), "bad ?? utf-8 ???");
    /* cut on a character boundary, "..." marks it */
    ck_assert_str_eq(md_result_clean_text("abcdef", 6, p), "abcdef");
    ck_assert_str_eq(md_result_clean_text("abcdefg", 6, p), "abcdef...");
    ck_assert_str_eq(md_result_clean_text("abcde\xc3\xa9", 6, p), "abcde...");
    /* every setter cleans */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[10] = '\n';
    md_result_set(r, APR_EGENERAL, big);
    ck_assert_int_eq(strlen(r->detail), MD_RESULT_TEXT_MAX + 3);
    ck_assert_ptr_null(strchr(r->detail, '\n'));
    md_result_printf(r, APR_EGENERAL, "the CA says: %s", "line\nbreak");
    ck_assert_str_eq(r->detail, "the CA says: line break");
    subs = md_json_create_array(p);
    for (i = 0; i < 100; ++i) {
        sub = md_json_create(p);
        md_json_sets("urn:ietf:params:acme:error:rejected\x1bIdentifier", sub, "type", NULL);
        md_json_sets(big, sub, "detail", NULL);
        md_json_sets("dns", sub, "identifier", "type", NULL);
        md_json_sets("a\n.example", sub, "identifier", "value", NULL);
        md_json_sets(big, sub, "junk", NULL);
        md_json_addj(sub, subs, NULL);
    }
    md_result_problem_set(r, APR_EGENERAL, "urn:ietf:params:acme:error:malformed\x1b[2J", "x\ry", subs);
    ck_assert_str_eq(r->problem, "urn:ietf:params:acme:error:malformed [2J");
    ck_assert_str_eq(r->detail, "x y");
    ck_assert_int_eq(md_json_count(r->subproblems, NULL), MD_RESULT_SUBPROBLEMS_MAX);
    sub = md_json_at(r->subproblems, 0, NULL);
    ck_assert_str_eq(md_json_gets(sub, "type", NULL), "urn:ietf:params:acme:error:rejected Identifier");
    ck_assert_int_eq(strlen(md_json_gets(sub, "detail", NULL)), MD_RESULT_TEXT_MAX + 3);
    ck_assert_str_eq(md_json_gets(sub, "identifier", "value", NULL), "a .example");
    ck_assert_ptr_null(md_json_getj(sub, "junk", NULL));
    s = md_result_text(r, p);
    ck_assert_str_eq(s, "x y (urn:ietf:params:acme:error:malformed [2J)");
    md_result_problem_type(r, "a\nb");
    ck_assert_str_eq(r->problem, "a b");
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_result_suite(void)
{
    Suite *s = suite_create("result");
    TCase *tc = tcase_create("result");

    tcase_add_test(tc, result_set_and_text);
    tcase_add_test(tc, result_text_without_detail);
    tcase_add_test(tc, result_hints);
    tcase_add_test(tc, result_text_cleaned);
    suite_add_tcase(s, tc);
    return s;
}
