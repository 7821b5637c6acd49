/* Unit tests of the registry's OCSP stapling set and CRL checks (md_reg_ocsp.h) on a simulated clock and a fake CA:
 * priming, serving, the renew window, retiring certificates replaced live, back-off, wrong signers never served, revoked MDs due, the CRL cycle with
 * If-Modified-Since. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/ocsp.h>

#include "md_clock.h"
#include "md_file.h"
#include "md_json.h"
#include "md_reg_ocsp.h"
#include "md_result.h"
#include "md_store.h"
#include "fake_http.h"
#include "ocsp_fixture.h"
#include "test_common.h"
#include "test_store.h"

#define SEC(n) apr_time_from_sec(n)
#define HOUR SEC(3600)
#define DAY SEC(86400)
#define NOW apr_time_from_sec(1795435200)
#define OCSP_URL "http://ocsp.test/"
#define CRL_URL "http://crl.test/i.crl"

typedef struct {
    apr_pool_t *p;
    const char *dir;
    md_store_t *store;
    md_clock_sim_t *sim;
    md_reg_t *reg;
    fx_pki_t *pki;
    fake_http_t *fake;
    md_reg_ocsp_opts_t opts;
    md_cert_t *leaf;
} env_t;

static void env_make(env_t *e, const char *ocsp_url, const char *crl_url)
{
    memset(e, 0, sizeof(*e));
    e->p = md_test_pool();
    e->dir = md_test_mkdtemp(e->p);
    e->store = test_store_open(e->dir, e->p);
    e->sim = md_clock_sim_make(NOW, e->p);
    e->reg = md_reg_make(e->store, md_clock_sim_clock(e->sim), e->p);
    e->pki = fx_pki_make(NOW, e->p);
    e->fake = fake_http_create(e->p);
    fake_http_set_nonces(e->fake, 0);
    e->opts.keep = -1;
    e->opts.http_backend = fake_http_backend(e->fake);
    e->leaf = fx_leaf_with(e->pki, 0x2002, ocsp_url, crl_url, e->p);
}

static void env_done(env_t *e)
{
    md_test_rmdir(e->dir, e->p);
    md_test_pool_done(e->p);
}

typedef struct {
    env_t *e;
    fx_signer_t signer;
    int status;
    apr_time_t from, until;
} answer_t;

static apr_status_t answer(void *baton, md_http_response_t *resp, const fake_http_req_t *req, md_result_t *result,
                           apr_pool_t *p)
{
    answer_t *a = baton;

    (void)req; (void)result;
    resp->status = 200;
    apr_table_setn(resp->headers, "Content-Type", "application/ocsp-response");
    resp->body = *fx_ocsp_response(a->e->pki, a->signer, a->e->leaf, a->status, a->from, a->until, NULL, 0, p);
    return APR_SUCCESS;
}

typedef struct {
    md_data_t der;
    int calls;
} copied_t;

static void copy_cb(const unsigned char *der, apr_size_t len, void *baton)
{
    copied_t *c = baton;

    c->der.data = (const char *)der;
    c->der.len = len;
    c->calls++;
}

static md_t *md_named(const char *name, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *));

    APR_ARRAY_PUSH(names, const char *) = name;
    return md_create(names, p);
}

START_TEST(stapling_prime_serve_renew)
{
    env_t e;
    md_reg_ocsp_t *ocsp;
    answer_t a;
    copied_t got = { { NULL, 0 }, 0 };
    const char *why = NULL;
    md_t *md;
    apr_time_t next;
    md_cert_t *bare;

    env_make(&e, OCSP_URL, NULL);
    md = md_named("a.example.org", e.p);
    ocsp = md_reg_ocsp_make(e.reg, &e.opts, e.p);
    ck_assert_int_eq(md_reg_ocsp_prime(&why, ocsp, md, "ID1", 3, fx_chain_pem(e.pki, e.leaf, e.p), e.p),
                     APR_SUCCESS);
    bare = fx_leaf_with(e.pki, 0x2003, NULL, CRL_URL, e.p);
    ck_assert_int_eq(md_reg_ocsp_prime(&why, ocsp, NULL, "ID2", 3, fx_chain_pem(e.pki, bare, e.p), e.p), APR_ENOENT);
    ck_assert_str_eq(why, "the certificate has no OCSP responder URL");
    ck_assert_int_eq(md_reg_ocsp_count(ocsp), 1);
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "ID1", 3, copy_cb, &got), 0);     /* nothing fetched yet */
    a = (answer_t){ &e, FX_SIGN_CA, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY };
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    next = md_reg_ocsp_renew(ocsp, NULL, e.p);
    /* 33% of 25 hours before the end */
    ck_assert_msg(next == NOW + DAY - md_timeslice_length(&(md_timeslice_t){ 0, 33 }, NOW - HOUR, NOW + DAY), "next in %ld s",
                  (long)apr_time_sec(next - NOW));
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "ID1", 3, copy_cb, &got), 1);
    ck_assert_uint_gt(got.der.len, 0);
    ck_assert(md_store_exists(e.store, MD_SG_OCSP, "a.example.org", "job.json", e.p));
    /* before the window nothing is asked; in it the response is renewed */
    md_clock_sim_set(e.sim, next - SEC(1));
    ck_assert(md_reg_ocsp_renew(ocsp, NULL, e.p) == next);
    ck_assert_int_eq(fake_http_count_method(e.fake, "POST"), 1);
    md_clock_sim_set(e.sim, next);
    a.from = next - HOUR;
    a.until = next + DAY;
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    ck_assert(md_reg_ocsp_renew(ocsp, NULL, e.p) > next);
    ck_assert_int_eq(fake_http_count_method(e.fake, "POST"), 2);
    /* a new set of the same generation (a restart) serves the stored response at once, without asking */
    ocsp = md_reg_ocsp_make(e.reg, &e.opts, e.p);
    ck_assert_int_eq(md_reg_ocsp_prime(&why, ocsp, md, "ID1", 3, fx_chain_pem(e.pki, e.leaf, e.p), e.p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "ID1", 3, copy_cb, &got), 1);
    /* past its end it is not served (the responder is down: nothing better) */
    md_clock_sim_set(e.sim, next + DAY + SEC(1));
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "ID1", 3, copy_cb, &got), 0);
    fake_http_verify(e.fake);
    env_done(&e);
}
END_TEST

/* A certificate switched in at run time (live.c): primed from its chain, the MD's earlier ones retired: their stored
 * responses are still served, but only the new one is fetched and renewed; primed again, a retired one is renewed. */
START_TEST(stapling_live_switch_retires)
{
    env_t e;
    md_reg_ocsp_t *ocsp;
    answer_t a;
    copied_t got = { { NULL, 0 }, 0 };
    apr_array_header_t *chain = NULL;
    md_cert_t *old;
    const char *err = NULL, *pem;
    md_t *md;
    apr_time_t next;

    env_make(&e, OCSP_URL, NULL);
    md = md_named("a.example.org", e.p);
    ocsp = md_reg_ocsp_make(e.reg, &e.opts, e.p);
    old = e.leaf;
    ck_assert_int_eq(md_reg_ocsp_prime(NULL, ocsp, md, "OLD", 3, fx_chain_pem(e.pki, old, e.p), e.p), APR_SUCCESS);
    a = (answer_t){ &e, FX_SIGN_CA, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY };
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    next = md_reg_ocsp_renew(ocsp, NULL, e.p);
    ck_assert_int_eq(fake_http_count_method(e.fake, "POST"), 1);
    /* the renewed set: the old one retired, the new one primed from its chain, fetched at the next pass */
    e.leaf = fx_leaf_with(e.pki, 0x2004, OCSP_URL, NULL, e.p);
    pem = fx_chain_pem(e.pki, e.leaf, e.p);
    ck_assert_int_eq(md_cert_chain_from_pem(&chain, pem, strlen(pem), &err, e.p), APR_SUCCESS);
    md_reg_ocsp_retire(ocsp, "a.example.org");
    ck_assert_int_eq(md_reg_ocsp_prime_chain(NULL, ocsp, md, "NEW", 3, chain), APR_SUCCESS);
    ck_assert_int_eq(md_reg_ocsp_count(ocsp), 2);
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "NEW", 3, copy_cb, &got), 0);
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    md_reg_ocsp_renew(ocsp, NULL, e.p);
    ck_assert_int_eq(fake_http_count_method(e.fake, "POST"), 2);
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "NEW", 3, copy_cb, &got), 1);
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "OLD", 3, copy_cb, &got), 1);     /* still served while valid */
    /* in the old one's renew window only the new one is asked for (its response is as old) */
    md_clock_sim_set(e.sim, next);
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    a.from = next - HOUR;
    a.until = next + DAY;
    md_reg_ocsp_renew(ocsp, NULL, e.p);
    ck_assert_int_eq(fake_http_count_method(e.fake, "POST"), 3);
    /* primed again (switched back), the old one is renewed again */
    chain = NULL;
    pem = fx_chain_pem(e.pki, old, e.p);
    ck_assert_int_eq(md_cert_chain_from_pem(&chain, pem, strlen(pem), &err, e.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_ocsp_prime_chain(NULL, ocsp, md, "OLD", 3, chain), APR_SUCCESS);
    ck_assert_int_eq(md_reg_ocsp_count(ocsp), 2);
    e.leaf = old;
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    md_reg_ocsp_renew(ocsp, NULL, e.p);
    ck_assert_int_eq(fake_http_count_method(e.fake, "POST"), 4);
    fake_http_verify(e.fake);
    env_done(&e);
}
END_TEST

START_TEST(stapling_backs_off_and_keeps_serving)
{
    env_t e;
    md_reg_ocsp_t *ocsp;
    answer_t a;
    copied_t got = { { NULL, 0 }, 0 };
    md_json_t *st;
    md_t *md;
    apr_time_t next, t;

    env_make(&e, OCSP_URL, NULL);
    e.opts.renew_window = &(md_timeslice_t){ 23 * HOUR, -1 };
    md = md_named("a.example.org", e.p);
    ocsp = md_reg_ocsp_make(e.reg, &e.opts, e.p);
    ck_assert_int_eq(md_reg_ocsp_prime(NULL, ocsp, md, "ID", 2, fx_chain_pem(e.pki, e.leaf, e.p), e.p),
                     APR_SUCCESS);
    a = (answer_t){ &e, FX_SIGN_CA, V_OCSP_CERTSTATUS_GOOD, NOW, NOW + DAY };
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    next = md_reg_ocsp_renew(ocsp, NULL, e.p);
    ck_assert(next == NOW + HOUR);                  /* 23 hours before the end */
    /* the responder fails: 5 s, then 10 s, 20 s later again; the stored response is still served */
    t = next;
    for (int i = 0; i < 3; ++i) {
        md_clock_sim_set(e.sim, t);
        fake_http_expect(e.fake, "POST", OCSP_URL, 503, NULL, "busy");
        next = md_reg_ocsp_renew(ocsp, NULL, e.p);
        ck_assert_msg(next == t + SEC(5 << i), "attempt %d: next in %ld s", i,
                      (long)apr_time_sec(next - t));
        ck_assert_int_eq(md_reg_ocsp_get(ocsp, "ID", 2, copy_cb, &got), 1);
        t = next;
    }
    st = md_reg_ocsp_status(e.reg, "a.example.org", e.leaf, e.opts.renew_window, e.p);
    ck_assert_str_eq(md_json_gets(st, "status", NULL), "good");
    ck_assert_int_eq(md_json_getl(st, "renewal", "errors", NULL), 3);
    ck_assert_str_eq(md_json_gets(st, "last-error", NULL), "OCSP responder " OCSP_URL " answered HTTP 503");
    ck_assert_str_eq(md_json_gets(st, "renew-at", NULL), md_time_print_http(NOW + HOUR, e.p));
    /* back: errors reset */
    md_clock_sim_set(e.sim, t);
    a.from = t;
    a.until = t + DAY;
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    ck_assert(md_reg_ocsp_renew(ocsp, NULL, e.p) == t + HOUR);
    st = md_reg_ocsp_status(e.reg, "a.example.org", e.leaf, NULL, e.p);
    ck_assert_int_eq(md_json_getl(st, "renewal", "errors", NULL), 0);
    ck_assert_ptr_null(md_json_gets(st, "last-error", NULL));
    fake_http_verify(e.fake);
    env_done(&e);
}
END_TEST

START_TEST(stapling_never_serves_a_wrong_signer)
{
    env_t e;
    md_reg_ocsp_t *ocsp;
    answer_t a;
    copied_t got = { { NULL, 0 }, 0 };
    md_ocsp_resp_t forged;
    const char *hex = NULL;
    md_t *md;

    env_make(&e, OCSP_URL, NULL);
    md = md_named("a.example.org", e.p);
    ocsp = md_reg_ocsp_make(e.reg, &e.opts, e.p);
    ck_assert_int_eq(md_reg_ocsp_prime(NULL, ocsp, md, "ID", 2, fx_chain_pem(e.pki, e.leaf, e.p), e.p),
                     APR_SUCCESS);
    a = (answer_t){ &e, FX_SIGN_WRONG, V_OCSP_CERTSTATUS_GOOD, NOW, NOW + DAY };
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    ck_assert(md_reg_ocsp_renew(ocsp, NULL, e.p) == NOW + SEC(5));
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "ID", 2, copy_cb, &got), 0);
    md_ocsp_cert_id(NULL, &hex, e.leaf, e.p);
    ck_assert(!md_store_exists(e.store, MD_SG_OCSP, "a.example.org", md_ocsp_record_aspect(hex, e.p), e.p));
    /* a forged record put into the store is not taken either */
    memset(&forged, 0, sizeof(forged));
    forged.der = *fx_ocsp_response(e.pki, FX_SIGN_WRONG, e.leaf, V_OCSP_CERTSTATUS_GOOD, NOW, NOW + DAY, NULL, 0,
                                   e.p);
    forged.status = MD_OCSP_GOOD;
    forged.this_update = NOW;
    forged.valid_until = NOW + DAY;
    ck_assert_int_eq(md_ocsp_record_save(e.store, "a.example.org", hex, &forged, NULL, e.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_ocsp_get(ocsp, "ID", 2, copy_cb, &got), 0);
    ck_assert_int_eq(got.calls, 0);
    fake_http_verify(e.fake);
    env_done(&e);
}
END_TEST

START_TEST(stapling_revoked_makes_md_due)
{
    env_t e;
    md_reg_ocsp_t *ocsp;
    answer_t a;
    apr_array_header_t *revoked, *files;
    md_reg_state_opts_t sopts;
    md_reg_state_t *st;
    const char *file;
    md_t *md;

    env_make(&e, OCSP_URL, NULL);
    md = md_named("a.example.org", e.p);
    file = apr_pstrcat(e.p, e.dir, "/a.pem", NULL);
    ck_assert_int_eq(md_file_write_atomic(file, fx_chain_pem(e.pki, e.leaf, e.p),
                                          strlen(fx_chain_pem(e.pki, e.leaf, e.p)), 0644, e.p), APR_SUCCESS);
    files = apr_array_make(e.p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(files, const char *) = file;
    memset(&sopts, 0, sizeof(sopts));
    sopts.cert_files = files;
    st = md_reg_state(e.reg, md, &sopts, e.p);
    ck_assert_int_eq(st->revoked, 0);
    ck_assert_ptr_null(APR_ARRAY_IDX(st->certs, 0, md_reg_cert_t *)->revoked);
    ocsp = md_reg_ocsp_make(e.reg, &e.opts, e.p);
    ck_assert_int_eq(md_reg_ocsp_prime(NULL, ocsp, md, "ID", 2, fx_chain_pem(e.pki, e.leaf, e.p), e.p),
                     APR_SUCCESS);
    a = (answer_t){ &e, FX_SIGN_DELEGATED, V_OCSP_CERTSTATUS_REVOKED, NOW, NOW + DAY };
    fake_http_expect_cb(e.fake, "POST", OCSP_URL, answer, &a);
    revoked = apr_array_make(e.p, 1, sizeof(const char *));
    md_reg_ocsp_renew(ocsp, revoked, e.p);
    ck_assert_int_eq(revoked->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(revoked, 0, const char *), "a.example.org");
    st = md_reg_state(e.reg, md, &sopts, e.p);
    ck_assert_int_eq(st->revoked, 1);
    ck_assert(st->due && st->renew_at == 0);
    ck_assert_str_eq(APR_ARRAY_IDX(st->certs, 0, md_reg_cert_t *)->revoked, "ocsp");
    ck_assert(st->servable);                         /* still served until it is replaced */
    fake_http_verify(e.fake);
    env_done(&e);
}
END_TEST

static const char *cert_file(env_t *e, md_cert_t *leaf)
{
    const char *file = apr_pstrcat(e->p, e->dir, "/c.pem", NULL), *pem = fx_chain_pem(e->pki, leaf, e->p);

    ck_assert_int_eq(md_file_write_atomic(file, pem, strlen(pem), 0644, e->p), APR_SUCCESS);
    return file;
}

typedef struct {
    md_data_t *body;
    int status;
    const char *ims;         /* the If-Modified-Since of the last request */
} crl_answer_t;

static apr_status_t crl_answer(void *baton, md_http_response_t *resp, const fake_http_req_t *req,
                               md_result_t *result, apr_pool_t *p)
{
    crl_answer_t *a = baton;
    const char *ims = req->headers ? apr_table_get(req->headers, "If-Modified-Since") : NULL;

    (void)result;
    a->ims = ims ? apr_pstrdup(p, ims) : NULL;
    resp->status = a->status;
    apr_table_setn(resp->headers, "Last-Modified", "Mon, 23 Nov 2026 10:00:00 GMT");
    if (a->status == 200) resp->body = *a->body;
    return APR_SUCCESS;
}

static void crl_run(env_t *e, md_t *md, const apr_array_header_t *files, int force, apr_status_t rv_expected,
                    int revoked_expected, int checked_expected)
{
    md_result_t *result = md_result_make(e->p);
    int revoked = -1, checked = -1;

    ck_assert_int_eq(md_reg_crl_check(&revoked, &checked, e->reg, md, files, &e->opts, force, result, e->p),
                     rv_expected);
    ck_assert_int_eq(revoked, revoked_expected);
    ck_assert_int_eq(checked, checked_expected);
}

START_TEST(crl_check_cycle)
{
    env_t e;
    apr_array_header_t *files;
    md_reg_state_opts_t sopts;
    crl_answer_t a;
    md_json_t *st;
    md_t *md;
    long listed[] = { 0x2002 };

    env_make(&e, NULL, CRL_URL);
    md = md_named("c.example.org", e.p);
    files = apr_array_make(e.p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(files, const char *) = cert_file(&e, e.leaf);
    /* first check: fetched, not listed */
    a.body = fx_crl(e.pki, NULL, 0, NOW - HOUR, NOW + 7 * DAY, 0, 0, e.p);
    a.status = 200;
    fake_http_expect_cb(e.fake, "GET", CRL_URL, crl_answer, &a);
    crl_run(&e, md, files, 0, APR_SUCCESS, 0, 1);
    ck_assert_ptr_null(a.ims);
    st = md_reg_crl_status(e.reg, "c.example.org", e.leaf, e.p);
    ck_assert_str_eq(md_json_gets(st, "status", NULL), "good");
    ck_assert_str_eq(md_json_gets(st, "via", NULL), "crl");
    ck_assert_str_eq(md_json_gets(st, "url", NULL), CRL_URL);
    ck_assert_str_eq(md_json_gets(st, "next-check", NULL), md_time_print_http(NOW + DAY, e.p));
    /* not again within the day */
    md_clock_sim_set(e.sim, NOW + DAY - SEC(1));
    crl_run(&e, md, files, 0, APR_SUCCESS, 0, 0);
    ck_assert_int_eq(fake_http_count_method(e.fake, "GET"), 1);
    /* a day later: If-Modified-Since, 304, the cached CRL decides */
    md_clock_sim_set(e.sim, NOW + DAY);
    a.status = 304;
    fake_http_expect_cb(e.fake, "GET", CRL_URL, crl_answer, &a);
    crl_run(&e, md, files, 0, APR_SUCCESS, 0, 1);
    ck_assert_str_eq(a.ims, "Mon, 23 Nov 2026 10:00:00 GMT");
    /* a CRL signed by another key: an error, recorded, nothing revoked */
    a.status = 200;
    a.body = fx_crl(e.pki, listed, 1, NOW, NOW + 7 * DAY, 1, 0, e.p);
    fake_http_expect_cb(e.fake, "GET", CRL_URL, crl_answer, &a);
    crl_run(&e, md, files, 1, APR_EGENERAL, 0, 0);
    st = md_reg_crl_status(e.reg, "c.example.org", e.leaf, e.p);
    ck_assert_str_eq(md_json_gets(st, "status", NULL), "unknown");
    ck_assert_ptr_nonnull(strstr(md_json_gets(st, "error", NULL), "signature does not verify"));
    /* the next one is due at once (after an error), fetched without If-Modified-Since when forced, and lists us */
    a.body = fx_crl(e.pki, listed, 1, NOW, NOW + 7 * DAY, 0, 1, e.p);
    fake_http_expect_cb(e.fake, "GET", CRL_URL, crl_answer, &a);
    crl_run(&e, md, files, 1, APR_SUCCESS, 1, 1);
    ck_assert_ptr_null(a.ims);
    st = md_reg_crl_status(e.reg, "c.example.org", e.leaf, e.p);
    ck_assert_str_eq(md_json_gets(st, "status", NULL), "revoked");
    ck_assert_int_eq(md_json_getl(st, "reason", NULL), 1);
    ck_assert_ptr_nonnull(md_json_gets(st, "revoked-at", NULL));
    memset(&sopts, 0, sizeof(sopts));
    sopts.cert_files = files;
    ck_assert_str_eq(APR_ARRAY_IDX(md_reg_state(e.reg, md, &sopts, e.p)->certs, 0, md_reg_cert_t *)->revoked, "crl");
    /* a revocation is final: never asked again */
    md_clock_sim_set(e.sim, NOW + 5 * DAY);
    crl_run(&e, md, files, 0, APR_SUCCESS, 1, 0);
    ck_assert_int_eq(fake_http_count_method(e.fake, "GET"), 4);
    fake_http_verify(e.fake);
    env_done(&e);
}
END_TEST

START_TEST(crl_skips_certificates_with_ocsp)
{
    env_t e;
    apr_array_header_t *files;
    md_t *md;

    env_make(&e, OCSP_URL, CRL_URL);
    md = md_named("c.example.org", e.p);
    files = apr_array_make(e.p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(files, const char *) = cert_file(&e, e.leaf);
    crl_run(&e, md, files, 1, APR_SUCCESS, 0, 0);
    ck_assert_int_eq(fake_http_count(e.fake), 0);
    ck_assert_ptr_null(md_reg_crl_status(e.reg, "c.example.org", e.leaf, e.p));
    env_done(&e);
}
END_TEST

Suite *md_test_reg_ocsp_suite(void)
{
    Suite *s = suite_create("reg_ocsp");
    TCase *tc = tcase_create("stapling");

    tcase_add_test(tc, stapling_prime_serve_renew);
    tcase_add_test(tc, stapling_live_switch_retires);
    tcase_add_test(tc, stapling_backs_off_and_keeps_serving);
    tcase_add_test(tc, stapling_never_serves_a_wrong_signer);
    tcase_add_test(tc, stapling_revoked_makes_md_due);
    suite_add_tcase(s, tc);
    tc = tcase_create("crl");
    tcase_add_test(tc, crl_check_cycle);
    tcase_add_test(tc, crl_skips_certificates_with_ocsp);
    suite_add_tcase(s, tc);
    return s;
}
