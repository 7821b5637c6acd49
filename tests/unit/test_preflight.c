/* Pre-flight checks: CAA (RFC 8659) and the answers' visibility with an injected DNS and HTTP; in a drive, a miss
 * costs the CA nothing (no order for CAA, no challenge for an answer), and turned off the order goes out. */
#include <string.h>
#include <apr_strings.h>

#include "md_jws.h"
#include "md_preflight.h"
#include "md_result.h"
#include "test_common.h"
#include "test_reg.h"

/* ---- an injected DNS: "TYPE NAME" -> answers ("|"-separated), or "FAIL" ------------------------------------- */

typedef struct {
    apr_hash_t *records;
    int queries;
} fake_dns_t;

static apr_status_t dns_query(void *baton, apr_array_header_t **panswers, const char *name, const char *type,
                              md_result_t *result, apr_pool_t *p)
{
    fake_dns_t *d = baton;
    const char *v = apr_hash_get(d->records, apr_pstrcat(p, type, " ", name, NULL), APR_HASH_KEY_STRING);
    char *copy, *s, *state = NULL;

    d->queries++;
    *panswers = apr_array_make(p, 2, sizeof(const char *));
    if (v && !strcmp(v, "FAIL")) {
        md_result_printf(result, APR_EGENERAL, "SERVFAIL");
        return APR_EGENERAL;
    }
    if (!v) return APR_SUCCESS;
    copy = apr_pstrdup(p, v);
    for (s = apr_strtok(copy, "|", &state); s; s = apr_strtok(NULL, "|", &state)) {
        APR_ARRAY_PUSH(*panswers, const char *) = s;
    }
    return APR_SUCCESS;
}

static md_dns_t *dns_make(fake_dns_t *d, apr_pool_t *p)
{
    md_dns_t *dns = apr_pcalloc(p, sizeof(*dns));

    memset(d, 0, sizeof(*d));
    d->records = apr_hash_make(p);
    dns->query = dns_query;
    dns->baton = d;
    return dns;
}

static void dns_set(fake_dns_t *d, const char *type, const char *name, const char *answers, apr_pool_t *p)
{
    apr_hash_set(d->records, apr_pstrcat(p, type, " ", name, NULL), APR_HASH_KEY_STRING, answers);
}

/* ---- an injected web: "URL HOST" -> body (200), else 404 --------------------------------------------------- */

typedef struct {
    apr_hash_t *pages;
    int requests;
    const char *last_host;
} fake_web_t;

static apr_status_t web_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                                const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    fake_web_t *w = baton;
    md_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));
    const char *host = req->headers ? apr_table_get(req->headers, "Host") : NULL, *body;

    (void)opts;
    (void)result;
    w->requests++;
    w->last_host = host ? apr_pstrdup(apr_hash_pool_get(w->pages), host) : NULL;
    body = apr_hash_get(w->pages, apr_pstrcat(p, req->url, " ", host ? host : "", NULL), APR_HASH_KEY_STRING);
    resp->url = req->url;
    resp->status = body ? 200 : 404;
    resp->headers = apr_table_make(p, 1);
    resp->body.data = body ? body : "not found";
    resp->body.len = strlen(resp->body.data);
    *presp = resp;
    return APR_SUCCESS;
}

static md_http_backend_t *web_make(fake_web_t *w, apr_pool_t *p)
{
    md_http_backend_t *b = apr_pcalloc(p, sizeof(*b));

    memset(w, 0, sizeof(*w));
    w->pages = apr_hash_make(p);
    b->name = "fake web";
    b->perform = web_perform;
    b->baton = w;
    return b;
}

static apr_array_header_t *ids_of(const char *id, apr_pool_t *p)
{
    apr_array_header_t *ids = apr_array_make(p, 1, sizeof(const char *));

    if (id) APR_ARRAY_PUSH(ids, const char *) = id;
    return ids;
}

static apr_status_t caa(md_dns_t *dns, const char *domain, const char *id, md_result_t **presult, apr_pool_t *p)
{
    *presult = md_result_make(p);
    return md_preflight_caa(dns, domain, ids_of(id, p), *presult, p);
}

/* No records anywhere; records of a parent that name the CA (with parameters); a set naming another CA; the set
 * of the closest name wins over its parent's. */
START_TEST(caa_issue)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *r;
    fake_dns_t d;
    md_dns_t *dns = dns_make(&d, p);

    ck_assert_int_eq(caa(dns, "www.example.org", "ca.test", &r, p), APR_SUCCESS);
    ck_assert_int_eq(d.queries, 3);         /* www.example.org, example.org, org */
    dns_set(&d, "CAA", "example.org", "0 issue ca.test; accounturi=https://ca.test/acct/1|0 iodef mailto:a@b", p);
    ck_assert_int_eq(caa(dns, "www.example.org", "ca.test", &r, p), APR_SUCCESS);
    ck_assert_int_eq(caa(dns, "www.example.org", "CA.Test", &r, p), APR_SUCCESS);
    ck_assert_int_eq(caa(dns, "www.example.org", "other.ca", &r, p), APR_EACCES);
    tr_assert_has(md_result_text(r, p), "CAA of example.org forbids this CA (other.ca) to issue for www.example.org");
    tr_assert_has(md_result_text(r, p), "\"0 issue ca.test; accounturi=https://ca.test/acct/1\"");
    dns_set(&d, "CAA", "www.example.org", "0 issue other.ca", p);
    ck_assert_int_eq(caa(dns, "www.example.org", "ca.test", &r, p), APR_EACCES);
    tr_assert_has(md_result_text(r, p), "CAA of www.example.org forbids this CA (ca.test)");
    tr_assert_has(md_result_text(r, p), "\"0 issue other.ca\"");
    /* no CA at all */
    dns_set(&d, "CAA", "www.example.org", "0 issue ;", p);
    ck_assert_int_eq(caa(dns, "www.example.org", "ca.test", &r, p), APR_EACCES);
    md_test_pool_done(p);
}
END_TEST

/* issuewild decides for a wildcard (looked up at the base name) when there is one, else issue; a set with only
 * issuewild leaves other names free. */
START_TEST(caa_issuewild)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *r;
    fake_dns_t d;
    md_dns_t *dns = dns_make(&d, p);

    dns_set(&d, "CAA", "example.org", "0 issue ca.test|0 issuewild other.ca", p);
    ck_assert_int_eq(caa(dns, "example.org", "ca.test", &r, p), APR_SUCCESS);
    ck_assert_int_eq(caa(dns, "*.example.org", "ca.test", &r, p), APR_EACCES);
    tr_assert_has(md_result_text(r, p), "\"0 issuewild other.ca\"");
    dns_set(&d, "CAA", "example.org", "0 issue ca.test", p);
    ck_assert_int_eq(caa(dns, "*.example.org", "ca.test", &r, p), APR_SUCCESS);
    dns_set(&d, "CAA", "example.org", "0 issuewild ca.test", p);
    ck_assert_int_eq(caa(dns, "example.org", "other.ca", &r, p), APR_SUCCESS);
    ck_assert_int_eq(caa(dns, "*.example.org", "other.ca", &r, p), APR_EACCES);
    md_test_pool_done(p);
}
END_TEST

/* An unknown critical property forbids every CA, an unknown one that is not critical nothing; a failed look-up and
 * a CA without caaIdentities are left to the CA. */
START_TEST(caa_critical_and_unknown)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *r;
    fake_dns_t d;
    md_dns_t *dns = dns_make(&d, p);

    dns_set(&d, "CAA", "example.org", "0 issue ca.test|128 tbs something", p);
    ck_assert_int_eq(caa(dns, "example.org", "ca.test", &r, p), APR_EACCES);
    tr_assert_has(md_result_text(r, p), "\"128 tbs something\" is critical and not understood");
    dns_set(&d, "CAA", "example.org", "0 issue ca.test|0 tbs something", p);
    ck_assert_int_eq(caa(dns, "example.org", "ca.test", &r, p), APR_SUCCESS);
    dns_set(&d, "CAA", "example.org", "FAIL", p);
    ck_assert_int_eq(caa(dns, "example.org", "ca.test", &r, p), APR_SUCCESS);
    tr_assert_has(md_result_text(r, p), "pre-flight: CAA of example.org not checked: SERVFAIL");
    dns_set(&d, "CAA", "example.org", "0 issue other.ca", p);
    ck_assert_int_eq(caa(dns, "example.org", NULL, &r, p), APR_SUCCESS);
    md_test_pool_done(p);
}
END_TEST

/* http-01: fetched at each address (at the mapped port, with the name as Host) until one has the answer; a name
 * without an address, a page that is not the answer and one that is missing are misses that say what was found. */
START_TEST(answer_http01)
{
    apr_pool_t *p = md_test_pool();
    const char *url1 = "http://192.0.2.1:5002/.well-known/acme-challenge/TOK";
    const char *url6 = "http://[2001:db8::1]:5002/.well-known/acme-challenge/TOK";
    md_result_t *r = md_result_make(p);
    fake_dns_t d;
    fake_web_t w;
    md_dns_t *dns = dns_make(&d, p);
    md_http_backend_t *web = web_make(&w, p);

    ck_assert_int_eq(md_preflight_answer(dns, web, 5002, "http-01", "example.org", "TOK", "TOK.thumb", r, p),
                     APR_EAGAIN);
    tr_assert_has(md_result_text(r, p), "example.org has no address in DNS");
    ck_assert_int_eq(w.requests, 0);
    dns_set(&d, "A", "example.org", "192.0.2.1", p);
    dns_set(&d, "AAAA", "example.org", "2001:db8::1", p);
    r = md_result_make(p);
    ck_assert_int_eq(md_preflight_answer(dns, web, 5002, "http-01", "example.org", "TOK", "TOK.thumb", r, p),
                     APR_EAGAIN);
    tr_assert_has(md_result_text(r, p), "not visible at its addresses in DNS");
    tr_assert_has(md_result_text(r, p), apr_pstrcat(p, url6, ": HTTP status 404", NULL));
    tr_assert_has(md_result_text(r, p), apr_pstrcat(p, url1, ": HTTP status 404", NULL));
    ck_assert_str_eq(w.last_host, "example.org");
    apr_hash_set(w.pages, apr_pstrcat(p, url1, " example.org", NULL), APR_HASH_KEY_STRING, "something else\n");
    r = md_result_make(p);
    ck_assert_int_eq(md_preflight_answer(dns, web, 5002, "http-01", "example.org", "TOK", "TOK.thumb", r, p),
                     APR_EAGAIN);
    tr_assert_has(md_result_text(r, p), "\"something else\", not the answer");
    apr_hash_set(w.pages, apr_pstrcat(p, url1, " example.org", NULL), APR_HASH_KEY_STRING, "TOK.thumb\n");
    r = md_result_make(p);
    ck_assert_int_eq(md_preflight_answer(dns, web, 5002, "http-01", "example.org", "TOK", "TOK.thumb", r, p),
                     APR_SUCCESS);
    /* a look-up that fails is left to the CA */
    dns_set(&d, "AAAA", "example.org", "FAIL", p);
    r = md_result_make(p);
    ck_assert_int_eq(md_preflight_answer(dns, web, 5002, "http-01", "example.org", "X", "X.thumb", r, p),
                     APR_SUCCESS);
    tr_assert_has(md_result_text(r, p), "pre-flight: the http-01 answer of example.org not checked: SERVFAIL");
    md_test_pool_done(p);
}
END_TEST

/* dns-01: the TXT record of _acme-challenge.NAME with the digest; tls-alpn-01 is not checked. */
START_TEST(answer_dns01)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *r = md_result_make(p);
    fake_dns_t d;
    md_dns_t *dns = dns_make(&d, p);

    ck_assert_int_eq(md_preflight_answer(dns, NULL, 0, "dns-01", "example.org", "TOK", "TOK.thumb", r, p),
                     APR_EAGAIN);
    tr_assert_has(md_result_text(r, p), "_acme-challenge.example.org has no TXT record");
    dns_set(&d, "TXT", "_acme-challenge.example.org", "stale", p);
    r = md_result_make(p);
    ck_assert_int_eq(md_preflight_answer(dns, NULL, 0, "dns-01", "example.org", "TOK", "TOK.thumb", r, p),
                     APR_EAGAIN);
    tr_assert_has(md_result_text(r, p), "has only TXT \"stale\"");
    dns_set(&d, "TXT", "_acme-challenge.example.org",
            apr_pstrcat(p, "stale|", md_jws_dns01_txt("TOK.thumb", p), NULL), p);
    ck_assert_int_eq(md_preflight_answer(dns, NULL, 0, "dns-01", "example.org", "TOK", "TOK.thumb", r, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_preflight_answer(dns, NULL, 0, "tls-alpn-01", "example.org", "TOK", "TOK.thumb", r, p),
                     APR_SUCCESS);
    md_test_pool_done(p);
}
END_TEST

START_TEST(preflight_values)
{
    int flags = -1;

    ck_assert_int_eq(md_preflight_parse(&flags, "on"), APR_SUCCESS);
    ck_assert_int_eq(flags, MD_PREFLIGHT_ALL);
    ck_assert_int_eq(md_preflight_parse(&flags, "OFF"), APR_SUCCESS);
    ck_assert_int_eq(flags, 0);
    ck_assert_int_eq(md_preflight_parse(&flags, "challenge"), APR_SUCCESS);
    ck_assert_int_eq(flags, MD_PREFLIGHT_CHALLENGE);
    ck_assert_str_eq(md_preflight_str(flags), "challenge");
    ck_assert_int_eq(md_preflight_parse(&flags, "caa"), APR_SUCCESS);
    ck_assert_str_eq(md_preflight_str(flags), "caa");
    ck_assert_int_ne(md_preflight_parse(&flags, "yes"), APR_SUCCESS);
    ck_assert_ptr_null(md_dns_server_check("127.0.0.1:8053", md_test_pool()));
    ck_assert_ptr_nonnull(md_dns_server_check("dns.example:53", md_test_pool()));
    ck_assert_ptr_nonnull(md_dns_server_check("127.0.0.1:0", md_test_pool()));
}
END_TEST

/* ---- in a drive -------------------------------------------------------------------------------------------- */

/* The fixture's http-01 answers (the local responder) served at 192.0.2.7:8080 when the DNS says so. */
static apr_status_t tr_web_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                                   const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    tr_t *f = baton;
    md_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));
    const char *host = apr_table_get(req->headers, "Host"), *body = NULL;

    (void)opts;
    (void)result;
    if (host && !strncmp(req->url, "http://192.0.2.7:8080/", 22)) {
        apr_thread_mutex_lock(f->lock);
        body = apr_hash_get(f->answers, apr_pstrcat(p, "http-01 ", host, NULL), APR_HASH_KEY_STRING);
        apr_thread_mutex_unlock(f->lock);
    }
    resp->url = req->url;
    resp->status = body ? 200 : 404;
    resp->headers = apr_table_make(p, 1);
    resp->body.data = body ? apr_pstrdup(p, body) : "";
    resp->body.len = strlen(resp->body.data);
    *presp = resp;
    return APR_SUCCESS;
}

/* The name's A record points elsewhere: the attempt fails before the CA hears of the challenge, saying why; with the
 * record right it is renewed; a CAA record naming another CA stops it before the order; turned off, the order goes
 * out. */
START_TEST(preflight_drive)
{
    md_http_backend_t web = { "tr web", tr_web_perform, NULL };
    md_reg_item_t *item;
    fake_dns_t d;
    tr_t f;

    tr_init(&f, 6);
    web.baton = &f;
    f.rn.drive.preflight = MD_PREFLIGHT_ALL;
    f.rn.drive.dns = dns_make(&d, f.p);
    f.rn.drive.preflight_http = &web;
    f.rn.drive.preflight_http_port = 8080;
    tr_add(&f, "example.org,www.example.org");
    dns_set(&d, "A", "example.org", "192.0.2.7", f.p);
    dns_set(&d, "A", "www.example.org", "198.51.100.9", f.p);
    item = tr_run1(&f, "example.org", 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    tr_assert_has(item->detail, "pre-flight: the http-01 answer for www.example.org is not visible at its address in "
                  "DNS (http://198.51.100.9:8080/.well-known/acme-challenge/");
    ck_assert_str_eq(item->problem, MD_PROBLEM_PREFLIGHT);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 0);
    dns_set(&d, "A", "www.example.org", "192.0.2.7", f.p);
    md_clock_sim_set(f.sim, item->next);
    tr_assert_outcome(tr_run1(&f, "example.org", 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 2);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 1);      /* the same order, resumed */
    /* CAA: refused before the order */
    tr_add(&f, "example.net");
    dns_set(&d, "A", "example.net", "192.0.2.7", f.p);
    dns_set(&d, "CAA", "example.net", "0 issue other.ca", f.p);
    item = tr_run1(&f, "example.net", 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    tr_assert_has(item->detail, "CAA of example.net forbids this CA (ca.test) to issue for example.net: "
                  "\"0 issue other.ca\" names no identity of it");
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 1);
    /* off: the order goes out (and the CA, which checks no CAA here, issues) */
    f.rn.drive.preflight = 0;
    md_clock_sim_set(f.sim, item->next);
    tr_assert_outcome(tr_run1(&f, "example.net", 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 2);
    tr_done(&f);
}
END_TEST

Suite *md_test_preflight_suite(void)
{
    Suite *s = suite_create("preflight");
    TCase *tc = tcase_create("checks");
    TCase *tc2 = tcase_create("drive");

    tcase_add_test(tc, caa_issue);
    tcase_add_test(tc, caa_issuewild);
    tcase_add_test(tc, caa_critical_and_unknown);
    tcase_add_test(tc, answer_http01);
    tcase_add_test(tc, answer_dns01);
    tcase_add_test(tc, preflight_values);
    suite_add_tcase(s, tc);
    tcase_set_timeout(tc2, 60);
    tcase_add_test(tc2, preflight_drive);
    suite_add_tcase(s, tc2);
    return s;
}
