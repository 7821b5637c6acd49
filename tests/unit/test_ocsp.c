/* Unit tests of md_ocsp: the certificate id, requests, response verification (signers, nonce, CertID, times), the
 * renew-window and keep decisions, CRLs (parse, verify, lookup), fetching through a fake backend, the store records. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "md_json.h"
#include "md_ocsp.h"
#include "md_result.h"
#include "md_store.h"
#include "fake_http.h"
#include "ocsp_fixture.h"
#include "test_common.h"
#include "test_store.h"

#define SEC(n) apr_time_from_sec(n)
#define HOUR SEC(3600)
#define DAY SEC(86400)
/* 2026-11-23T12:00:00Z: tests decide on this time, never the clock's */
#define NOW apr_time_from_sec(1795435200)

/* A response about the leaf signed by the CA itself, without a nonce: what most checks start from. */
static md_data_t *by_ca(fx_pki_t *pki, int status, apr_time_t this_update, apr_time_t next_update, apr_pool_t *p)
{
    return fx_ocsp_response(pki, FX_SIGN_CA, NULL, status, this_update, next_update, NULL, 0, p);
}

/* The certificate's OCSP id in hex, as the store names its records. */
static const char *id_of(const md_cert_t *cert, apr_pool_t *p)
{
    const char *hex = NULL;

    ck_assert_int_eq(md_ocsp_cert_id(NULL, &hex, cert, p), APR_SUCCESS);
    return hex;
}

static md_ocsp_resp_t *verify_ok(fx_pki_t *pki, const md_data_t *der, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_ocsp_resp_t *resp = NULL;
    apr_status_t rv = md_ocsp_resp_verify(&resp, der, pki->mleaf, pki->mca, NULL, NOW, result, p);

    ck_assert_msg(rv == APR_SUCCESS, "verify: %s", md_result_text(result, p));
    ck_assert_ptr_nonnull(resp);
    return resp;
}

/* The verification's failure: its status and its detail containing what. */
static void verify_fails(fx_pki_t *pki, const md_data_t *der, const md_ocsp_req_t *req, apr_status_t expected,
                         const char *what, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_ocsp_resp_t *resp = (md_ocsp_resp_t *)1;
    apr_status_t rv = md_ocsp_resp_verify(&resp, der, pki->mleaf, pki->mca, req, NOW, result, p);

    ck_assert_int_eq(rv, expected);
    ck_assert_ptr_null(resp);
    ck_assert_msg(result->detail && strstr(result->detail, what), "detail '%s' lacks '%s'",
                  result->detail ? result->detail : "(none)", what);
}

/* ---- id and request ----------------------------------------------------------------------------- */

START_TEST(cert_id_is_sha1_of_der)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    unsigned char md[20];
    unsigned int len = 0;
    md_data_t *id = NULL;
    const char *hex = NULL;

    ck_assert_int_eq(md_ocsp_cert_id(&id, &hex, pki->mleaf, p), APR_SUCCESS);
    X509_digest(pki->leaf, EVP_sha1(), md, &len);
    ck_assert_uint_eq(id->len, 20);
    ck_assert_int_eq(memcmp(id->data, md, 20), 0);
    ck_assert_uint_eq(strlen(hex), 40);
    ck_assert_str_eq(hex, apr_pstrndup(p, hex, 40));
    ck_assert_int_eq(md_ocsp_cert_id(NULL, &hex, NULL, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

START_TEST(request_has_cert_id_and_nonce)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_ocsp_req_t *req = NULL;
    const unsigned char *q;
    const md_data_t *der;
    OCSP_REQUEST *oreq;
    OCSP_CERTID *want = OCSP_cert_to_id(EVP_sha1(), pki->leaf, pki->ca);
    int with_nonce;

    for (with_nonce = 0; with_nonce < 2; ++with_nonce) {
        ck_assert_int_eq(md_ocsp_req_make(&req, pki->mleaf, pki->mca, with_nonce, p), APR_SUCCESS);
        der = md_ocsp_req_der(req);
        q = (const unsigned char *)der->data;
        oreq = d2i_OCSP_REQUEST(NULL, &q, (long)der->len);
        ck_assert_ptr_nonnull(oreq);
        ck_assert_int_eq(OCSP_request_onereq_count(oreq), 1);
        ck_assert_int_eq(OCSP_id_cmp(OCSP_onereq_get0_id(OCSP_request_onereq_get0(oreq, 0)), want), 0);
        ck_assert_int_eq(OCSP_REQUEST_get_ext_by_NID(oreq, NID_id_pkix_OCSP_Nonce, -1) >= 0, with_nonce);
        OCSP_REQUEST_free(oreq);
    }
    OCSP_CERTID_free(want);
    md_test_pool_done(p);
}
END_TEST

/* ---- verification ------------------------------------------------------------------------------- */

START_TEST(verify_good_by_issuer)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_data_t *der = by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + 7 * DAY, p);
    md_ocsp_resp_t *resp = verify_ok(pki, der, p);

    ck_assert_int_eq(resp->status, MD_OCSP_GOOD);
    ck_assert_str_eq(md_ocsp_status_str(resp->status), "good");
    ck_assert_int_eq(resp->reason, -1);
    ck_assert_int_eq(resp->revoked_at, 0);
    ck_assert(resp->this_update == NOW - HOUR);
    ck_assert(resp->next_update == NOW + 7 * DAY);
    ck_assert(resp->valid_until == NOW + 7 * DAY);
    ck_assert_uint_eq(resp->der.len, der->len);
    ck_assert_int_eq(memcmp(resp->der.data, der->data, der->len), 0);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_good_by_delegated_responder)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);

    verify_ok(pki, fx_ocsp_response(pki, FX_SIGN_DELEGATED, NULL, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY,
                                    NULL, 0, p), p);
    md_test_pool_done(p);
}
END_TEST

/* A key the issuer never certified, with a certificate that carries the issuer's name: never accepted. */
START_TEST(verify_refuses_wrong_signer)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);

    verify_fails(pki, fx_ocsp_response(pki, FX_SIGN_WRONG, NULL, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY,
                                       NULL, 0, p), NULL, APR_EINVAL, "neither the issuer's nor one the issuer "
                 "delegated to", p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_refuses_responder_without_ocsp_signing)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);

    verify_fails(pki, fx_ocsp_response(pki, FX_SIGN_NO_EKU, NULL, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY,
                                       NULL, 0, p), NULL, APR_EINVAL, "not for OCSP signing", p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_revoked_and_unknown)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_ocsp_resp_t *resp;

    resp = verify_ok(pki, by_ca(pki, V_OCSP_CERTSTATUS_REVOKED, NOW - HOUR, NOW + DAY, p), p);
    ck_assert_int_eq(resp->status, MD_OCSP_REVOKED);
    ck_assert_int_eq(resp->reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
    ck_assert(resp->revoked_at == NOW - 2 * HOUR);
    resp = verify_ok(pki, by_ca(pki, V_OCSP_CERTSTATUS_UNKNOWN, NOW - HOUR, NOW + DAY, p), p);
    ck_assert_int_eq(resp->status, MD_OCSP_UNKNOWN);
    ck_assert_str_eq(md_ocsp_status_str(resp->status), "unknown");
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_refuses_other_certificate)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);

    verify_fails(pki, fx_ocsp_response(pki, FX_SIGN_CA, fx_leaf(pki, 0x2002, p), V_OCSP_CERTSTATUS_GOOD,
                                       NOW - HOUR, NOW + DAY, NULL, 0, p), NULL, APR_EINVAL, "not about this "
                 "certificate", p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_nonce)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_result_t *result = md_result_make(p);
    md_ocsp_resp_t *resp = NULL;
    md_ocsp_req_t *req = NULL;

    ck_assert_int_eq(md_ocsp_req_make(&req, pki->mleaf, pki->mca, 1, p), APR_SUCCESS);
    /* the request's nonce echoed: fine; none at all (a cached response): fine; another one: refused */
    ck_assert_int_eq(md_ocsp_resp_verify(&resp, fx_ocsp_response(pki, FX_SIGN_CA, NULL, V_OCSP_CERTSTATUS_GOOD,
                                         NOW - HOUR, NOW + DAY, req, 0, p), pki->mleaf, pki->mca, req, NOW, result,
                                         p), APR_SUCCESS);
    ck_assert_int_eq(md_ocsp_resp_verify(&resp, by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY, p),
                                         pki->mleaf, pki->mca, req, NOW, result, p), APR_SUCCESS);
    verify_fails(pki, fx_ocsp_response(pki, FX_SIGN_CA, NULL, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY, NULL,
                                       1, p), req, APR_EINVAL, "nonce", p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_times)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_ocsp_resp_t *resp;

    /* past its nextUpdate: stale, never stored or stapled */
    verify_fails(pki, by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW - 2 * DAY, NOW - SEC(1), p), NULL, APR_EINVAL,
                 "expired at", p);
    /* from the future, beyond the clock skew allowed */
    verify_fails(pki, by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW + HOUR, NOW + DAY, p), NULL, APR_EINVAL,
                 "not valid before", p);
    /* a minute ahead is clock skew */
    verify_ok(pki, by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW + SEC(60), NOW + DAY, p), p);
    /* without nextUpdate: a day from thisUpdate, as mod_md counts it */
    resp = verify_ok(pki, by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, 0, p), p);
    ck_assert_int_eq(resp->next_update, 0);
    ck_assert(resp->valid_until == NOW - HOUR + DAY);
    verify_fails(pki, by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW - 2 * DAY, 0, p), NULL, APR_EINVAL, "expired at", p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(verify_refuses_garbage_and_errors)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_data_t *good = by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY, p);
    md_data_t cut = { good->data, good->len - 1 }, longer;
    char *buf = apr_palloc(p, good->len + 1);

    verify_fails(pki, md_data_from_str("not DER", p), NULL, APR_EINVAL, "not an OCSP response", p);
    verify_fails(pki, &cut, NULL, APR_EINVAL, "not an OCSP response", p);
    memcpy(buf, good->data, good->len);
    buf[good->len] = 0;
    longer.data = buf;
    longer.len = good->len + 1;
    verify_fails(pki, &longer, NULL, APR_EINVAL, "not an OCSP response", p);
    verify_fails(pki, fx_ocsp_error(OCSP_RESPONSE_STATUS_TRYLATER, p), NULL, APR_EAGAIN, "tryLater", p);
    verify_fails(pki, fx_ocsp_error(OCSP_RESPONSE_STATUS_UNAUTHORIZED, p), NULL, APR_EINVAL, "unauthorized", p);
    md_test_pool_done(p);
}
END_TEST

/* ---- decisions ---------------------------------------------------------------------------------- */

START_TEST(renew_window_decision)
{
    apr_pool_t *p = md_test_pool();
    md_timeslice_t *ts = NULL;

    /* 33% of a 7-day response: renewed 2.31 days before its nextUpdate */
    ck_assert_int_eq(md_timeslice_parse(&ts, "33%", "d", NULL, p), APR_SUCCESS);
    ck_assert(md_ocsp_renew_at(ts, NOW, NOW + 7 * DAY) == NOW + 7 * DAY - (7 * DAY * 33) / 100);
    ck_assert_int_eq(md_timeslice_parse(&ts, "2d", "d", NULL, p), APR_SUCCESS);
    ck_assert(md_ocsp_renew_at(ts, NOW, NOW + 7 * DAY) == NOW + 5 * DAY);
    /* a window longer than the response: at once */
    ck_assert(md_ocsp_renew_at(ts, NOW, NOW + DAY) == NOW);
    ck_assert(md_ocsp_renew_at(NULL, NOW, NOW + DAY) == NOW + DAY);
    /* MDStaplingKeepResponse: kept until its end plus the keep time */
    ck_assert(md_ocsp_keep(NOW - 6 * DAY, 7 * DAY, NOW));
    ck_assert(!md_ocsp_keep(NOW - 8 * DAY, 7 * DAY, NOW));
    ck_assert(!md_ocsp_keep(NOW - SEC(1), 0, NOW));
    ck_assert(md_ocsp_keep(NOW + SEC(1), 0, NOW));
    md_test_pool_done(p);
}
END_TEST

/* ---- CRLs --------------------------------------------------------------------------------------- */

static apr_status_t crl_check(md_crl_check_t *check, fx_pki_t *pki, const md_data_t *data, const md_cert_t *cert,
                              const md_cert_t *issuer, md_result_t *result, apr_pool_t *p)
{
    md_crl_t *crl = NULL;

    ck_assert_int_eq(md_crl_parse(&crl, data, result, p), APR_SUCCESS);
    return md_crl_check(check, crl, cert ? cert : pki->mleaf, issuer ? issuer : pki->mca, NOW, result, p);
}

START_TEST(crl_parse_forms)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_result_t *result = md_result_make(p);
    long serials[] = { 0x5, 0x1001 };
    md_crl_t *crl = NULL, *again = NULL;
    const char *pem = NULL;

    ck_assert_int_eq(md_crl_parse(&crl, fx_crl(pki, serials, 2, NOW - HOUR, NOW + DAY, 0, 0, p), result, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_crl_count(crl), 2);
    ck_assert(md_crl_this_update(crl) == NOW - HOUR);
    ck_assert(md_crl_next_update(crl) == NOW + DAY);
    ck_assert_int_eq(md_crl_to_pem(&pem, crl, p), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN X509 CRL-----"));
    ck_assert_int_eq(md_crl_parse(&again, md_data_from_str(pem, p), result, p), APR_SUCCESS);
    ck_assert_int_eq(md_crl_count(again), 2);
    ck_assert_int_eq(md_crl_parse(&crl, fx_crl(pki, NULL, 0, NOW - HOUR, 0, 0, 1, p), result, p), APR_SUCCESS);
    ck_assert_int_eq(md_crl_count(crl), 0);
    ck_assert_int_eq(md_crl_next_update(crl), 0);
    ck_assert_int_eq(md_crl_parse(&crl, md_data_from_str("no CRL here", p), result, p), APR_EINVAL);
    ck_assert_ptr_null(crl);
    ck_assert_str_eq(result->detail, "not a CRL (DER or PEM)");
    md_test_pool_done(p);
}
END_TEST

START_TEST(crl_lookup)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_result_t *result = md_result_make(p);
    long listed[] = { 0x5, 0x1001, 0x9999 }, others[] = { 0x5 };
    md_crl_check_t check;

    ck_assert_int_eq(crl_check(&check, pki, fx_crl(pki, listed, 3, NOW - HOUR, NOW + DAY, 0, 0, p), NULL, NULL,
                               result, p), APR_SUCCESS);
    ck_assert_int_eq(check.status, MD_OCSP_REVOKED);
    ck_assert_int_eq(check.reason, CRL_REASON_KEY_COMPROMISE);
    ck_assert(check.revoked_at == NOW - HOUR - SEC(600));
    ck_assert_int_eq(crl_check(&check, pki, fx_crl(pki, others, 1, NOW - HOUR, NOW + DAY, 0, 1, p), NULL, NULL,
                               result, p), APR_SUCCESS);
    ck_assert_int_eq(check.status, MD_OCSP_GOOD);
    ck_assert(check.next_update == NOW + DAY);
    md_test_pool_done(p);
}
END_TEST

START_TEST(crl_verification)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_result_t *result = md_result_make(p);
    long listed[] = { 0x1001 };
    md_crl_check_t check;

    /* signed by a key with the issuer's name: nothing it says counts, not even a revocation */
    ck_assert_int_eq(crl_check(&check, pki, fx_crl(pki, listed, 1, NOW - HOUR, NOW + DAY, 1, 0, p), NULL, NULL,
                               result, p), APR_EINVAL);
    ck_assert_int_eq(check.status, MD_OCSP_UNKNOWN);
    ck_assert_str_eq(result->detail, "the CRL's signature does not verify with the issuer's key");
    /* another issuer */
    ck_assert_int_eq(crl_check(&check, pki, fx_crl(pki, NULL, 0, NOW - HOUR, NOW + DAY, 0, 0, p), NULL, pki->mleaf,
                               result, p), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(result->detail, "not issued by the certificate's issuer"));
    /* out of date: without our serial it says nothing; with it, the revocation stands */
    ck_assert_int_eq(crl_check(&check, pki, fx_crl(pki, NULL, 0, NOW - 3 * DAY, NOW - DAY, 0, 0, p), NULL, NULL,
                               result, p), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(result->detail, "out of date"));
    ck_assert_int_eq(crl_check(&check, pki, fx_crl(pki, listed, 1, NOW - 3 * DAY, NOW - DAY, 0, 0, p), NULL, NULL,
                               result, p), APR_SUCCESS);
    ck_assert_int_eq(check.status, MD_OCSP_REVOKED);
    /* from the future */
    ck_assert_int_eq(crl_check(&check, pki, fx_crl(pki, NULL, 0, NOW + DAY, NOW + 2 * DAY, 0, 0, p), NULL, NULL,
                               result, p), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(result->detail, "not valid before"));
    md_test_pool_done(p);
}
END_TEST

/* ---- fetching ----------------------------------------------------------------------------------- */

typedef struct {
    fx_pki_t *pki;
    const char *type;
} answer_t;

static apr_status_t answer_ocsp(void *baton, md_http_response_t *resp, const fake_http_req_t *req,
                                md_result_t *result, apr_pool_t *p)
{
    answer_t *a = baton;
    md_data_t *der = by_ca(a->pki, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY, p);

    (void)req; (void)result;
    resp->status = 200;
    apr_table_setn(resp->headers, "Content-Type", a->type);
    resp->body = *der;
    return APR_SUCCESS;
}

START_TEST(fetch_posts_and_verifies)
{
    apr_pool_t *p = md_test_pool();
    fx_pki_t *pki = fx_pki_make(NOW, p);
    fake_http_t *fake = fake_http_create(p);
    md_result_t *result = md_result_make(p);
    answer_t a = { pki, "application/ocsp-response" }, wrong = { pki, "text/html" };
    const fake_http_req_t *req;
    md_ocsp_resp_t *resp = NULL;

    fake_http_set_nonces(fake, 0);
    fake_http_expect_cb(fake, "POST", "http://ocsp.test/", answer_ocsp, &a);
    ck_assert_int_eq(md_ocsp_fetch(&resp, fake_http_client(fake, p), "http://ocsp.test/", pki->mleaf, pki->mca, NOW,
                                   result, p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, MD_OCSP_GOOD);
    req = fake_http_last(fake, "POST");
    ck_assert_str_eq(req->content_type, "application/ocsp-request");
    ck_assert_str_eq(apr_table_get(req->headers, "Accept"), "application/ocsp-response");
    fake_http_expect_cb(fake, "POST", "http://ocsp.test/", answer_ocsp, &wrong);
    ck_assert_int_eq(md_ocsp_fetch(&resp, fake_http_client(fake, p), "http://ocsp.test/", pki->mleaf, pki->mca, NOW,
                                   result, p), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(result->detail, "text/html"));
    fake_http_expect(fake, "POST", "http://ocsp.test/", 503, NULL, "busy");
    ck_assert_int_eq(md_ocsp_fetch(&resp, fake_http_client(fake, p), "http://ocsp.test/", pki->mleaf, pki->mca, NOW,
                                   result, p), APR_EAGAIN);
    ck_assert_str_eq(result->detail, "OCSP responder http://ocsp.test/ answered HTTP 503");
    fake_http_expect_error(fake, "POST", "http://ocsp.test/", APR_ECONNREFUSED, "connection refused");
    ck_assert_int_eq(md_ocsp_fetch(&resp, fake_http_client(fake, p), "http://ocsp.test/", pki->mleaf, pki->mca, NOW,
                                   result, p), APR_ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(result->detail, "http://ocsp.test/"));
    fake_http_verify(fake);
    md_test_pool_done(p);
}
END_TEST

START_TEST(crl_fetch_if_modified_since)
{
    apr_pool_t *p = md_test_pool();
    fake_http_t *fake = fake_http_create(p);
    md_result_t *result = md_result_make(p);
    const char *lm = NULL;
    md_data_t *data = NULL;
    int not_modified = 0;

    fake_http_set_nonces(fake, 0);
    fake_http_expect(fake, "GET", "http://crl.test/i.crl", 200, "Last-Modified: Mon, 23 Nov 2026 10:00:00 GMT\n",
                     "CRLDATA");
    ck_assert_int_eq(md_crl_fetch(&data, &lm, &not_modified, fake_http_client(fake, p), "http://crl.test/i.crl",
                                  NULL, result, p), APR_SUCCESS);
    ck_assert_int_eq(not_modified, 0);
    ck_assert_uint_eq(data->len, 7);
    ck_assert_str_eq(lm, "Mon, 23 Nov 2026 10:00:00 GMT");
    ck_assert_ptr_null(fake_http_last(fake, "GET")->headers);
    fake_http_expect(fake, "GET", "http://crl.test/i.crl", 304, NULL, NULL);
    ck_assert_int_eq(md_crl_fetch(&data, &lm, &not_modified, fake_http_client(fake, p), "http://crl.test/i.crl",
                                  "Mon, 23 Nov 2026 10:00:00 GMT", result, p), APR_SUCCESS);
    ck_assert_int_eq(not_modified, 1);
    ck_assert_ptr_null(data);
    ck_assert_str_eq(apr_table_get(fake_http_last(fake, "GET")->headers, "If-Modified-Since"),
                     "Mon, 23 Nov 2026 10:00:00 GMT");
    fake_http_expect(fake, "GET", "http://crl.test/i.crl", 404, NULL, "no");
    ck_assert_int_eq(md_crl_fetch(&data, &lm, &not_modified, fake_http_client(fake, p), "http://crl.test/i.crl",
                                  NULL, result, p), APR_EAGAIN);
    ck_assert_str_eq(result->detail, "CRL http://crl.test/i.crl: HTTP 404");
    fake_http_verify(fake);
    md_test_pool_done(p);
}
END_TEST

/* ---- store records ------------------------------------------------------------------------------ */

START_TEST(record_in_mod_md_format)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_ocsp_resp_t *resp = verify_ok(pki, by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW - HOUR, NOW + DAY, p), p);
    md_ocsp_record_t *rec = NULL;
    md_json_t *json = NULL;
    const char *hex = id_of(pki->mleaf, p);

    ck_assert_int_eq(md_ocsp_record_save(store, "a.example.org", hex, resp, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_load((void **)&json, store, MD_SG_OCSP, "a.example.org",
                                   apr_pstrcat(p, "ocsp-", hex, ".json", NULL), MD_SV_JSON, NULL, p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(json, "status", NULL), "good");
    ck_assert_str_eq(md_json_gets(json, "valid", "from", NULL), md_time_print_http(NOW - HOUR, p));
    ck_assert_str_eq(md_json_gets(json, "valid", "until", NULL), md_time_print_http(NOW + DAY, p));
    ck_assert_ptr_nonnull(md_json_gets(json, "response", NULL));
    ck_assert_int_eq(md_ocsp_record_load(&rec, store, "a.example.org", hex, p), APR_SUCCESS);
    ck_assert_uint_eq(rec->der.len, resp->der.len);
    ck_assert_int_eq(memcmp(rec->der.data, resp->der.data, resp->der.len), 0);
    ck_assert(rec->valid_until == NOW + DAY);
    ck_assert_int_eq(md_ocsp_record_load(&rec, store, "b.example.org", hex, p), APR_ENOENT);
    ck_assert(!md_ocsp_is_revoked(NULL, store, "a.example.org", pki->mleaf, p));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(revoked_by_ocsp_or_crl_record)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);
    fx_pki_t *pki = fx_pki_make(NOW, p);
    md_cert_t *other = fx_leaf(pki, 0x3003, p);
    const char *hex = id_of(pki->mleaf, p), *ohex = id_of(other, p), *via = NULL;
    md_ocsp_crl_record_t crec, *back = NULL;

    ck_assert_int_eq(md_ocsp_record_save(store, "a.example.org", hex, verify_ok(pki, by_ca(pki,
                     V_OCSP_CERTSTATUS_REVOKED, NOW - HOUR, NOW + DAY, p), p), NULL, p), APR_SUCCESS);
    ck_assert(md_ocsp_is_revoked(&via, store, "a.example.org", pki->mleaf, p));
    ck_assert_str_eq(via, "ocsp");
    memset(&crec, 0, sizeof(crec));
    crec.url = "http://crl.test/i.crl";
    crec.status = MD_OCSP_REVOKED;
    crec.checked = NOW;
    crec.revoked_at = NOW - DAY;
    crec.reason = 1;
    crec.last_modified = "Mon, 23 Nov 2026 10:00:00 GMT";
    crec.cert_until = NOW + 30 * DAY;
    ck_assert(!md_ocsp_is_revoked(&via, store, "a.example.org", other, p));
    ck_assert_int_eq(md_ocsp_crl_record_save(store, "a.example.org", ohex, &crec, p), APR_SUCCESS);
    ck_assert(md_ocsp_is_revoked(&via, store, "a.example.org", other, p));
    ck_assert_str_eq(via, "crl");
    ck_assert_int_eq(md_ocsp_crl_record_load(&back, store, "a.example.org", ohex, p), APR_SUCCESS);
    ck_assert_str_eq(back->url, crec.url);
    ck_assert(back->checked == NOW && back->revoked_at == NOW - DAY && back->cert_until == NOW + 30 * DAY);
    ck_assert_int_eq(back->reason, 1);
    ck_assert_str_eq(back->last_modified, crec.last_modified);
    ck_assert_ptr_null(back->error);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(cleanup_drops_what_is_not_kept)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);
    fx_pki_t *pki = fx_pki_make(NOW - 20 * DAY, p);
    md_cert_t *other = fx_leaf(pki, 0x3003, p);
    const char *hex = id_of(pki->mleaf, p), *ohex = id_of(other, p);
    md_ocsp_crl_record_t crec;
    md_result_t *result = md_result_make(p);
    md_ocsp_resp_t *resp = NULL;

    /* a response that ended 10 days ago */
    ck_assert_int_eq(md_ocsp_resp_verify(&resp, by_ca(pki, V_OCSP_CERTSTATUS_GOOD, NOW - 17 * DAY, NOW - 10 * DAY, p),
                                         pki->mleaf, pki->mca, NULL, NOW - 12 * DAY, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_ocsp_record_save(store, "a.example.org", hex, resp, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_ocsp_record_save(store, MD_OCSP_OTHER, hex, resp, NULL, p), APR_SUCCESS);
    memset(&crec, 0, sizeof(crec));
    crec.status = MD_OCSP_GOOD;
    crec.cert_until = NOW - 3 * DAY;
    ck_assert_int_eq(md_ocsp_crl_record_save(store, "a.example.org", ohex, &crec, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, MD_SG_OCSP, "a.example.org", md_ocsp_crl_aspect(ohex, ".pem", p),
                                   MD_SV_TEXT, "pem", 0, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, MD_SG_OCSP, "a.example.org", "ari.json", MD_SV_JSON, md_json_create(p), 0,
                                   NULL, p), APR_SUCCESS);
    /* kept for 11 days: nothing goes; for 7 days: both responses go, the CRL record stays (3 days past) */
    ck_assert_int_eq(md_ocsp_store_cleanup(store, 11 * DAY, NOW, p), 0);
    ck_assert_int_eq(md_ocsp_store_cleanup(store, 7 * DAY, NOW, p), 2);
    ck_assert(!md_store_exists(store, MD_SG_OCSP, "a.example.org", md_ocsp_record_aspect(hex, p), p));
    ck_assert(md_store_exists(store, MD_SG_OCSP, "a.example.org", md_ocsp_crl_aspect(ohex, ".json", p), p));
    ck_assert_int_eq(md_ocsp_store_cleanup(store, 2 * DAY, NOW, p), 1);
    ck_assert(!md_store_exists(store, MD_SG_OCSP, "a.example.org", md_ocsp_crl_aspect(ohex, ".pem", p), p));
    ck_assert(md_store_exists(store, MD_SG_OCSP, "a.example.org", "ari.json", p));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_ocsp_suite(void)
{
    Suite *s = suite_create("ocsp");
    TCase *tc = tcase_create("protocol");

    tcase_add_test(tc, cert_id_is_sha1_of_der);
    tcase_add_test(tc, request_has_cert_id_and_nonce);
    tcase_add_test(tc, verify_good_by_issuer);
    tcase_add_test(tc, verify_good_by_delegated_responder);
    tcase_add_test(tc, verify_refuses_wrong_signer);
    tcase_add_test(tc, verify_refuses_responder_without_ocsp_signing);
    tcase_add_test(tc, verify_revoked_and_unknown);
    tcase_add_test(tc, verify_refuses_other_certificate);
    tcase_add_test(tc, verify_nonce);
    tcase_add_test(tc, verify_times);
    tcase_add_test(tc, verify_refuses_garbage_and_errors);
    tcase_add_test(tc, renew_window_decision);
    suite_add_tcase(s, tc);
    tc = tcase_create("crl");
    tcase_add_test(tc, crl_parse_forms);
    tcase_add_test(tc, crl_lookup);
    tcase_add_test(tc, crl_verification);
    suite_add_tcase(s, tc);
    tc = tcase_create("fetch");
    tcase_add_test(tc, fetch_posts_and_verifies);
    tcase_add_test(tc, crl_fetch_if_modified_since);
    suite_add_tcase(s, tc);
    tc = tcase_create("store");
    tcase_add_test(tc, record_in_mod_md_format);
    tcase_add_test(tc, revoked_by_ocsp_or_crl_record);
    tcase_add_test(tc, cleanup_drops_what_is_not_kept);
    suite_add_tcase(s, tc);
    return s;
}
