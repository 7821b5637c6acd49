/* Unit tests of the registry's choice of challenge types (md_reg_challenges) and of renewals driven by it. */
#include <string.h>
#include <apr_strings.h>

#include "md_job.h"
#include "test_common.h"
#include "test_reg.h"

static md_t *plain_md(const char *names, apr_pool_t *p)
{
    apr_array_header_t *domains = apr_array_make(p, 2, sizeof(const char *));
    char *copy = apr_pstrdup(p, names), *s, *state = NULL;

    for (s = apr_strtok(copy, ",", &state); s; s = apr_strtok(NULL, ",", &state)) {
        APR_ARRAY_PUSH(domains, const char *) = s;
    }
    return md_create(domains, p);
}

static const char *types_str(const md_reg_challenges_t *ch, apr_pool_t *p)
{
    if (!ch->types) return "(none chosen)";
    return apr_array_pstrcat(p, ch->types, ' ');
}

static void push(apr_array_header_t *a, const char *s)
{
    APR_ARRAY_PUSH(a, const char *) = s;
}

/* Without MDCAChallenges: mod_md's order, each type left out for its reason; with it, the types as named. */
START_TEST(choice)
{
    static const md_reg_reach_t both = { 1, 1 }, none = { 0, 0 }, https_only = { 0, 1 };
    apr_pool_t *p = md_test_pool();
    md_t *md = plain_md("a,b", p);
    md_reg_challenges_t ch;

    md_reg_challenges(&ch, md, NULL, p);           /* nothing known (the CLI): no choice, all local answers */
    ck_assert_ptr_null(ch.types);
    ck_assert(ch.local_http01 && ch.local_tlsalpn01);
    ck_assert_ptr_null(ch.dropped);

    md_reg_challenges(&ch, md, &both, p);
    ck_assert_str_eq(types_str(&ch, p), "http-01");
    ck_assert(ch.local_http01 && !ch.local_tlsalpn01);
    ck_assert_str_eq(ch.dropped, "tls-alpn-01: none of its names is served with the protocol acme-tls/1; "
                                 "dns-01: no dns-01 program or event handler is configured");
    push(md->acme_tls_1, "b");
    md_reg_challenges(&ch, md, &both, p);
    ck_assert_str_eq(types_str(&ch, p), "tls-alpn-01 http-01");
    ck_assert(ch.local_http01 && ch.local_tlsalpn01);
    md_reg_challenges(&ch, md, &https_only, p);
    ck_assert_str_eq(types_str(&ch, p), "tls-alpn-01");
    ck_assert(!ch.local_http01);
    ck_assert_str_eq(ch.dropped, "http-01: the server seems not reachable on public port 80; "
                                 "dns-01: no dns-01 program or event handler is configured");
    md_reg_challenges(&ch, md, &none, p);
    ck_assert_int_eq(ch.types->nelts, 0);
    ck_assert_str_eq(ch.dropped, "tls-alpn-01: the server seems not reachable on public port 443; "
                                 "http-01: the server seems not reachable on public port 80; "
                                 "dns-01: no dns-01 program or event handler is configured");
    md->dns01_cmd = "/bin/dns";
    md_reg_challenges(&ch, md, &none, p);
    ck_assert_str_eq(types_str(&ch, p), "dns-01");
    /* an event handler answers http-01 (for every name: this server is not reachable) and dns-01 */
    md->dns01_cmd = NULL;
    push(md->event_handler, "/bin/handler");
    md_reg_challenges(&ch, md, &none, p);
    ck_assert_str_eq(types_str(&ch, p), "http-01 dns-01");
    ck_assert(!ch.local_http01);

    /* MDCAChallenges: as named, the own answers for them (as mod_md, also where the server seems unreachable) */
    md = plain_md("a", p);
    push(md->ca_challenges, "http-01");
    push(md->ca_challenges, "tls-alpn-01");
    md_reg_challenges(&ch, md, &none, p);
    ck_assert_str_eq(types_str(&ch, p), "http-01 tls-alpn-01");
    ck_assert(ch.local_http01 && ch.local_tlsalpn01);
    ck_assert_ptr_null(ch.dropped);
    push(md->event_handler, "/bin/handler");
    md_reg_challenges(&ch, md, &none, p);
    ck_assert(!ch.local_http01);
    md_reg_challenges(&ch, md, &both, p);
    ck_assert(ch.local_http01);
    md_test_pool_done(p);
}
END_TEST

/* Unreachable, nothing else configured: the renewal fails at once, before the CA is asked, saying why for each
 * type; it is retried after the back-off like any failure. */
START_TEST(nothing_left_fails_at_once)
{
    static const md_reg_reach_t none = { 0, 0 };
    md_reg_item_t *item;
    md_job_t *job;
    tr_t f;

    tr_init(&f, 0);
    f.rn.reach = &none;
    tr_add(&f, "a.example.org");
    item = tr_run1(&f, "a.example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(item->rv, APR_EGENERAL);
    tr_assert_has(item->detail, "none of the challenge types can be used for a.example.org: tls-alpn-01: the server "
                  "seems not reachable on public port 443; http-01: the server seems not reachable on public port "
                  "80; dns-01: no dns-01 program or event handler is configured");
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 0);
    job = tr_job(&f, "a.example.org");
    ck_assert_int_eq(job->errors, 1);
    ck_assert_int_gt(job->next_run, tr_now(&f));
    tr_done(&f);
}
END_TEST

/* Both reachable, one name with acme-tls/1: tls-alpn-01 (preferred) for that one, http-01 for the other, whose
 * https host does not allow acme-tls/1 (mod_md would try tls-alpn-01 for both). */
START_TEST(tls_alpn_for_its_names)
{
    static const md_reg_reach_t both = { 1, 1 };
    md_reg_item_t *item;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    f.local_tls = 1;
    f.rn.reach = &both;
    md = tr_md(&f, "a.example.org,b.example.org");
    push(md->acme_tls_1, "b.example.org");
    tr_save(&f, md);
    item = tr_run1(&f, "a.example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    tr_time_of(&f, f.validated_at, "tls-alpn-01 b.example.org");
    tr_time_of(&f, f.validated_at, "http-01 a.example.org");
    ck_assert_ptr_null(apr_hash_get(f.validated_at, "tls-alpn-01 a.example.org", APR_HASH_KEY_STRING));
    tr_done(&f);
}
END_TEST

/* http unreachable: the server's own http-01 answers are not used; with MDCAChallenges http-01 they are (as mod_md,
 * the operator knows better); an event handler then takes http-01 for every name. */
START_TEST(http_unreachable)
{
    static const md_reg_reach_t https_only = { 0, 1 };
    md_reg_item_t *item;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    f.local_tls = 1;
    f.rn.reach = &https_only;
    md = tr_md(&f, "a.example.org");
    push(md->ca_challenges, "http-01");
    tr_save(&f, md);
    item = tr_run1(&f, "a.example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    tr_time_of(&f, f.validated_at, "http-01 a.example.org");
    tr_assert_has(tr_calls(&f), "local setup a.example.org");

    md = tr_md(&f, "h.example.org");
    push(md->ca_challenges, "http-01");
    md->event_handler = tr_prog(&f, "H");
    tr_save(&f, md);
    item = tr_run1(&f, "h.example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    tr_assert_has(tr_calls(&f), "H setup-http-01 h.example.org h.example.org");
    ck_assert_ptr_null(apr_hash_get(f.setup_at, "http-01 h.example.org", APR_HASH_KEY_STRING));
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_challenges_suite(void)
{
    Suite *s = suite_create("reg_challenges");
    TCase *tc = tcase_create("reg_challenges");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, choice);
    tcase_add_test(tc, nothing_left_fails_at_once);
    tcase_add_test(tc, tls_alpn_for_its_names);
    tcase_add_test(tc, http_unreachable);
    suite_add_tcase(s, tc);
    return s;
}
