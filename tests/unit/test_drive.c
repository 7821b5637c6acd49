/* Unit tests of the renewal drive: the whole ACME flow of md_drive() against the scripted fake CA. */
#include <string.h>
#include <apr_strings.h>

#include "md_file.h"
#include "md_job.h"
#include "md_jws.h"
#include "md_pkey.h"
#include "test_common.h"
#include "test_drive.h"

#define ORDER1 "https://ca.test/order/1"

/* The requests of a complete first drive of order 1 (account registration included). */
#define FLOW_ACCOUNT "GET " TD_DIR "|HEAD " TD_NONCE "|POST " TD_NEWACCT
#define FLOW_ORDER1_AUTHZ "POST " TD_NEWORDER "|POST https://ca.test/authz/1"
#define FLOW_ORDER1_CHALL "|POST https://ca.test/chall/1/http-01"     /* then the order poll: ready */
#define FLOW_ORDER1_REST "|POST " ORDER1 "|POST https://ca.test/finalize/1|POST " ORDER1 "|POST https://ca.test/cert/1"

static md_pkey_t *load_key(td_drive_t *d, md_store_group_t group, int i)
{
    void *key = NULL;

    ck_assert_int_eq(md_store_load(&key, d->store, group, TD_NAME, md_pkey_aspect(d->md, i, d->p), MD_SV_PKEY,
                                   NULL, d->p), APR_SUCCESS);
    return key;
}

/* GROUP/NAME holds key i and its chain: the leaf for that key, issued by the test CA, for the MD's name. */
static md_pkey_t *assert_set(td_drive_t *d, md_store_group_t group, int i)
{
    md_pkey_t *key = load_key(d, group, i);
    void *chain = NULL;
    md_cert_t *leaf;

    ck_assert_int_eq(md_store_load(&chain, d->store, group, TD_NAME, md_cert_aspect(d->md, i, d->p),
                                   MD_SV_CHAIN, NULL, d->p), APR_SUCCESS);
    ck_assert_int_eq(((apr_array_header_t *)chain)->nelts, 2);
    leaf = APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
    ck_assert(md_cert_matches_key(leaf, key));
    ck_assert(md_cert_covers(leaf, TD_NAME, d->p));
    ck_assert_str_eq(md_cert_get_issuer(leaf, d->p), md_cert_get_subject(d->ca_cert, d->p));
    return key;
}

static int dir_exists(td_drive_t *d, const char *group)
{
    return md_file_is(md_file_join(d->p, d->dir, group, TD_NAME, NULL), APR_DIR, d->p) == APR_SUCCESS;
}

/* Every POST but newAccount is signed by the account's key with its URL as kid; newAccount with the JWK. */
static void assert_signed(td_drive_t *d, md_pkey_t *acct_key)
{
    const fake_http_req_t *r;
    md_json_t *prot;
    int i;

    for (i = 0; i < fake_http_count(d->fake); ++i) {
        r = fake_http_request(d->fake, i);
        if (strcmp(r->method, "POST")) continue;
        ck_assert_str_eq(r->content_type, "application/jose+json");
        fake_http_jws_verify(d->fake, i, acct_key, d->p);
        prot = fake_http_jws_protected(d->fake, i, d->p);
        ck_assert_str_eq(md_json_gets(prot, "url", NULL), r->url);
        if (!strcmp(r->url, TD_NEWACCT)) {
            ck_assert(md_json_has_key(prot, "jwk", NULL));
            ck_assert(!md_json_has_key(prot, "kid", NULL));
        }
        else {
            ck_assert_str_eq(md_json_gets(prot, "kid", NULL), TD_ACCT);
        }
    }
}

/* The index of the first request to url. */
static int request_index(td_drive_t *d, const char *url)
{
    int i;

    for (i = 0; i < fake_http_count(d->fake); ++i) {
        if (!strcmp(fake_http_request(d->fake, i)->url, url)) return i;
    }
    ck_abort_msg("no request to %s", url);
    return -1;
}

START_TEST(drive_one_key_staged_then_activated)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    md_pkey_t *acct_key, *key;
    md_json_t *payload;
    md_job_t *job;
    apr_array_header_t *contacts;
    const char *id, *thumb = NULL, *ka;
    void *json = NULL;
    md_t *md = NULL;
    int n;

    td_init(&d, 0);
    contacts = apr_array_make(d.p, 1, sizeof(const char *));
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    ck_assert_str_eq(td_requests(&d, 0), FLOW_ACCOUNT "|" FLOW_ORDER1_AUTHZ FLOW_ORDER1_CHALL FLOW_ORDER1_REST);

    /* requests: signed by the stored account key; the registration agrees to the terms; the challenge gets {} */
    acct_key = td_account_key(&d, &id);
    assert_signed(&d, acct_key);
    payload = fake_http_jws_payload(d.fake, request_index(&d, TD_NEWACCT), d.p);
    ck_assert(md_json_getb(payload, "termsOfServiceAgreed", NULL));
    md_json_getsa(contacts, payload, "contact", NULL);
    ck_assert_int_eq(contacts->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(contacts, 0, const char *), "mailto:admin@example.org");
    payload = fake_http_jws_payload(d.fake, request_index(&d, "https://ca.test/chall/1/http-01"), d.p);
    ck_assert_str_eq(md_json_writep(payload, MD_JSON_FMT_COMPACT, d.p), "{}");
    ck_assert_ptr_null(fake_http_jws_payload(d.fake, request_index(&d, "https://ca.test/authz/1"), d.p));

    /* the responder: set up, then torn down, with token "." thumbprint of the account key */
    ck_assert_int_eq(md_jwk_thumbprint(&thumb, acct_key, d.p), APR_SUCCESS);
    ka = apr_pstrcat(d.p, td_token(&d, 1), ".", thumb, NULL);
    ck_assert_int_eq(d.calls->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(d.calls, 0, const char *), apr_pstrcat(d.p, "setup http-01 " TD_NAME " ", ka, NULL));
    ck_assert_str_eq(APR_ARRAY_IDX(d.calls, 1, const char *), apr_pstrcat(d.p, "teardown http-01 " TD_NAME " ", ka,
                                                                          NULL));

    /* staging: the key the CSR was made with and its chain; the job finished; nothing in domains yet */
    key = assert_set(&d, MD_SG_STAGING, 0);
    ck_assert_str_eq(md_pkey_public_pem(key, d.p), d.orders[1].csr_pubkey);
    ck_assert_str_eq(md_pkey_aspect(d.md, 0, d.p), "privkey.p-256.pem");
    job = td_job(&d);
    ck_assert(job->finished);
    ck_assert(job->notified);          /* the challenge-setup message nobody takes counts as delivered, as mod_md */
    ck_assert_int_eq(job->errors, 0);
    ck_assert_str_eq(md_json_gets(job->state, "orders", "p-256", NULL), ORDER1);
    ck_assert_str_eq(md_json_gets(job->state, "account", NULL), id);
    ck_assert(!md_store_exists(d.store, MD_SG_DOMAINS, TD_NAME, md_cert_aspect(d.md, 0, d.p), d.p));

    /* activation: no request, the staged set moves to domains */
    n = fake_http_count(d.fake);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_http_count(d.fake), n);
    ck_assert_str_eq(md_pkey_public_pem(assert_set(&d, MD_SG_DOMAINS, 0), d.p), d.orders[1].csr_pubkey);
    ck_assert(!dir_exists(&d, "staging"));
    ck_assert_int_eq(md_store_load(&json, d.store, MD_SG_DOMAINS, TD_NAME, "md.json", MD_SV_JSON, NULL, d.p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_from_json(&md, json, NULL, d.p), APR_SUCCESS);
    ck_assert_int_eq(md->state, MD_S_COMPLETE);
    ck_assert_str_eq(md->ca_account, id);
    ck_assert_int_eq(d.calls->nelts, 2);
    td_done(&d);
}
END_TEST

START_TEST(drive_valid_authz_skipped)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 1);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    ck_assert_str_eq(td_requests(&d, 0), FLOW_ACCOUNT "|" FLOW_ORDER1_AUTHZ FLOW_ORDER1_REST);
    ck_assert_int_eq(d.calls->nelts, 0);
    assert_set(&d, MD_SG_DOMAINS, 0);
    td_done(&d);
}
END_TEST

START_TEST(drive_resume_after_finalize_failure)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next, now;
    md_job_t *job;
    const char *staged_pub, *id;
    void *raw = NULL;
    int n;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_FINALIZE, 0);
    fake_http_expect_problem(d.fake, "POST", "https://ca.test/finalize/1", 500, NULL, "serverInternal",
                             "the signer is out of ink");
    now = apr_time_now();
    ck_assert_int_ne(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_FAILED);
    td_assert_contains(d.result->detail, "out of ink");
    ck_assert_int_gt(next, now);
    td_account_key(&d, &id);
    job = td_job(&d);
    ck_assert_int_eq(job->errors, 1);
    ck_assert(!job->finished);
    ck_assert_int_gt(job->next_run, apr_time_now());
    ck_assert_int_eq(md_store_load(&raw, d.store, MD_SG_STAGING, TD_NAME, "job.json", MD_SV_JSON, NULL, d.p),
                     APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(raw, "mdomain", "orders", "p-256", NULL), ORDER1);
    ck_assert_int_eq(md_json_getl(raw, "errors", NULL), 1);
    ck_assert_str_eq(md_json_gets(raw, "mdomain", "account", NULL), id);
    ck_assert_str_eq(md_json_gets(job->last, "problem", NULL), "urn:ietf:params:acme:error:serverInternal");
    staged_pub = md_pkey_public_pem(load_key(&d, MD_SG_STAGING, 0), d.p);
    ck_assert_ptr_null(d.orders[1].csr_pubkey);     /* the CA never saw a CSR */

    /* the retry time has come: the same order at the CA, the same key, no new account or order */
    job->next_run = apr_time_now() - apr_time_from_sec(2);
    ck_assert_int_eq(md_job_save(job, d.store, MD_SG_STAGING, NULL, d.p), APR_SUCCESS);
    n = fake_http_count(d.fake);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_ACCOUNT, 0);
    fake_http_expect_json(d.fake, "POST", ORDER1, 200, NULL, td_order_json(&d, 1, "ready"));
    td_script(&d, 1, TD_S_FINALIZE, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    ck_assert_str_eq(td_requests(&d, n), "GET " TD_DIR "|HEAD " TD_NONCE FLOW_ORDER1_REST);
    ck_assert_str_eq(d.orders[1].csr_pubkey, staged_pub);
    ck_assert_str_eq(md_pkey_public_pem(assert_set(&d, MD_SG_DOMAINS, 0), d.p), staged_pub);
    assert_signed(&d, td_account_key(&d, NULL));
    ck_assert_int_eq(d.calls->nelts, 2);    /* the authorization was not done again */
    td_done(&d);
}
END_TEST

START_TEST(drive_not_due_after_activation)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next, now;
    int n;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    fake_http_verify(d.fake);
    n = fake_http_count(d.fake);
    now = apr_time_now();
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_http_count(d.fake), n);
    /* 90 days, renewed in the last third: due in about 60 days; but first ARI asks the CA again in 6 hours
     * (activation cached that in ari.json) */
    ck_assert(md_store_exists(d.store, MD_DRIVE_ARI_GROUP, TD_NAME, MD_DRIVE_ARI_FILE, d.p));
    ck_assert_int_gt(next, now + apr_time_from_sec(6 * 3600 - 60));
    ck_assert_int_le(next, now + apr_time_from_sec(6 * 3600));
    ck_assert(!dir_exists(&d, "staging"));
    td_done(&d);
}
END_TEST

START_TEST(drive_backing_off)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next, first_next, before;
    md_job_t *job;
    int n;

    td_init(&d, 0);
    fake_http_expect_problem(d.fake, "GET", TD_DIR, 503, "Retry-After: 120\n", "serverInternal", "maintenance");
    before = apr_time_sec(apr_time_now()) * APR_USEC_PER_SEC;   /* Retry-After counts from the answer, later */
    ck_assert_int_ne(td_run(&d, 0, 0, &outcome, &first_next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_FAILED);
    fake_http_verify(d.fake);
    /* the CA's Retry-After is later than our own back-off: it wins */
    ck_assert_int_ge(first_next, before + apr_time_from_sec(120));
    job = td_job(&d);
    ck_assert_int_eq(job->errors, 1);

    n = fake_http_count(d.fake);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(fake_http_count(d.fake), n);
    ck_assert_int_eq(next, job->next_run);
    ck_assert_int_eq(apr_time_sec(next), apr_time_sec(first_next));
    ck_assert_int_eq(td_job(&d)->errors, 1);

    /* force goes ahead anyway, and success clears the errors */
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 1, 0, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    job = td_job(&d);
    ck_assert_int_eq(job->errors, 0);
    ck_assert_int_eq(job->next_run, 0);
    td_done(&d);
}
END_TEST

START_TEST(drive_two_keys)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    md_pkey_t *rsa, *ec;
    md_job_t *job;

    td_init(&d, 1);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    td_script(&d, 2, TD_S_NEWORDER, TD_S_END, 1);    /* the CA remembers the name's authorization */
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    fake_http_verify(d.fake);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    ck_assert_str_eq(td_requests(&d, 0), FLOW_ACCOUNT "|" FLOW_ORDER1_AUTHZ FLOW_ORDER1_CHALL FLOW_ORDER1_REST
                     "|POST " TD_NEWORDER "|POST https://ca.test/authz/2|POST https://ca.test/order/2"
                     "|POST https://ca.test/finalize/2|POST https://ca.test/order/2|POST https://ca.test/cert/2");
    job = td_job(&d);
    ck_assert_str_eq(md_json_gets(job->state, "orders", "rsa", NULL), ORDER1);
    ck_assert_str_eq(md_json_gets(job->state, "orders", "p-256", NULL), "https://ca.test/order/2");
    ck_assert_int_eq(d.calls->nelts, 2);

    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    ck_assert_str_eq(md_pkey_aspect(d.md, 0, d.p), "privkey.pem");
    ck_assert_str_eq(md_cert_aspect(d.md, 0, d.p), "pubcert.pem");
    ck_assert_str_eq(md_pkey_aspect(d.md, 1, d.p), "privkey.p-256.pem");
    ck_assert_str_eq(md_cert_aspect(d.md, 1, d.p), "pubcert.p-256.pem");
    rsa = assert_set(&d, MD_SG_DOMAINS, 0);
    ec = assert_set(&d, MD_SG_DOMAINS, 1);
    ck_assert_int_eq(md_pkey_get_type(rsa), MD_PKEY_RSA);
    ck_assert_int_eq(md_pkey_get_bits(rsa), 2048);
    ck_assert_int_eq(md_pkey_get_type(ec), MD_PKEY_EC);
    ck_assert_str_eq(md_pkey_public_pem(rsa, d.p), d.orders[1].csr_pubkey);
    ck_assert_str_eq(md_pkey_public_pem(ec, d.p), d.orders[2].csr_pubkey);
    ck_assert(!dir_exists(&d, "staging"));
    td_done(&d);
}
END_TEST

/* Found while writing the fuzz targets (tests/fuzz, from_json): job.json's "errors" was taken as it was, so
 * 2147483647 made the next failure's errors++ overflow, and 4294967297 read as 1. */
START_TEST(job_errors_read_in_range)
{
    static const struct { const char *text; int errors; } cases[] = {
        { "{\"name\":\"a\",\"errors\":3}", 3 },
        { "{\"name\":\"a\",\"errors\":2147483647}", MD_JOB_ERRORS_MAX },
        { "{\"name\":\"a\",\"errors\":4294967297}", MD_JOB_ERRORS_MAX },
        { "{\"name\":\"a\",\"errors\":1e300}", MD_JOB_ERRORS_MAX },
        { "{\"name\":\"a\",\"errors\":-5}", 0 },
    };
    apr_pool_t *p = md_test_pool();
    md_json_t *json;
    md_job_t *job;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        json = NULL;
        job = NULL;
        ck_assert_int_eq(md_json_readd(&json, cases[i].text, strlen(cases[i].text), "job", NULL, p), APR_SUCCESS);
        ck_assert_int_eq(md_job_from_json(&job, json, p), APR_SUCCESS);
        ck_assert_msg(job->errors == cases[i].errors, "%s: errors %d", cases[i].text, job->errors);
    }
    md_test_pool_done(p);
}
END_TEST

static void count_flush(const char *path, void *baton)
{
    apr_array_header_t *paths = baton;

    APR_ARRAY_PUSH(paths, const char *) = apr_pstrdup(paths->pool, path);
}

/* The drive's flushes: the staged set once when complete (its files and staging/NAME); the activation the copy
 * (5 files and its directory), domains/ and tmp/, and no file in domains/NAME afterwards: the MD's recorded state
 * (md.json, "complete") is written without a flush (the registry derives it from the certificates). Before: 25
 * flushes per certificate, 4 of them for domains/NAME/md.json after the activation. */
START_TEST(drive_flushes)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    apr_array_header_t *paths;
    const char *dir, *staging;
    int i;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    paths = apr_array_make(d.p, 32, sizeof(const char *));
    md_file_on_synced(count_flush, paths);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    staging = md_file_join(d.p, md_store_base_dir(d.store), "staging", TD_NAME, NULL);
    for (i = 0; i < paths->nelts; ++i) {      /* the account's files, then the staged set's */
        if (strncmp(APR_ARRAY_IDX(paths, i, const char *), staging, strlen(staging))) continue;
        ck_assert_int_eq(paths->nelts - i, 5);       /* privkey.p-256.pem, pubcert.p-256.pem, md.json, job.json, dir */
        ck_assert_str_eq(APR_ARRAY_IDX(paths, paths->nelts - 1, const char *), staging);
        break;
    }
    ck_assert_int_lt(i, paths->nelts);
    apr_array_clear(paths);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    md_file_on_synced(NULL, NULL);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    ck_assert_msg(paths->nelts == 8, "%d flushes: %s", paths->nelts, apr_array_pstrcat(d.p, paths, ' '));
    dir = md_file_join(d.p, md_store_base_dir(d.store), "domains", TD_NAME, NULL);
    for (i = 0; i < paths->nelts; ++i) {
        ck_assert_msg(strncmp(APR_ARRAY_IDX(paths, i, const char *), dir, strlen(dir)), "flushed: %s",
                      APR_ARRAY_IDX(paths, i, const char *));
    }
    td_done(&d);
}
END_TEST

/* What an activation records: domains/NAME/md.json "complete" with the account the drive used, ari.json and the job's
 * valid-from about the active leaf. */
static void assert_activated_records(td_drive_t *d)
{
    md_json_t *ari = NULL;
    md_job_t *job = NULL;
    void *chain = NULL;
    const char *id = NULL;
    md_cert_t *leaf;
    md_t *md = NULL;

    ck_assert_int_eq(md_load(&md, d->store, MD_SG_DOMAINS, TD_NAME, NULL, d->p), APR_SUCCESS);
    ck_assert_int_eq(md->state, MD_S_COMPLETE);
    ck_assert(md->state_descr == NULL);
    td_account_key(d, &id);
    ck_assert_str_eq(md->ca_account, id);
    ck_assert_int_eq(md_store_load(&chain, d->store, MD_SG_DOMAINS, TD_NAME, md_cert_aspect(d->md, 0, d->p),
                                   MD_SV_CHAIN, NULL, d->p), APR_SUCCESS);
    leaf = APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
    ck_assert_int_eq(md_job_load(&job, d->store, MD_SG_DOMAINS, TD_NAME, NULL, d->p), APR_SUCCESS);
    ck_assert(job->finished);
    ck_assert_int_eq(job->valid_from, md_cert_get_not_before(leaf));
    ck_assert_int_eq(md_store_load((void **)&ari, d->store, MD_DRIVE_ARI_GROUP, TD_NAME, MD_DRIVE_ARI_FILE, MD_SV_JSON,
                                   NULL, d->p), APR_SUCCESS);
    ck_assert_int_eq(md_cert_get_ari_cert_id(&id, leaf, d->p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(ari, "cert-id", NULL), id);
}

/* The drive that stages and activates takes what it staged from memory (the leaf for valid-from and ARI, its md.json)
 * instead of reading the files again; a drive that activates a set staged by an earlier one reads them. Both record
 * the same. */
START_TEST(drive_activation_records)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    assert_activated_records(&d);
    td_done(&d);

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    ck_assert_int_eq(td_run(&d, 0, 1, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_ACTIVATED);
    assert_activated_records(&d);
    td_done(&d);
}
END_TEST

/* The MD the caller loaded (env->md, the registry's runner) is driven as given: domains/NAME/md.json is not read again.
 * Here it differs from the file by a contact, which the staged md.json then has; the caller's copy is not changed. */
START_TEST(drive_takes_callers_md)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    md_t *given, *staged = NULL;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    given = md_clone(d.md, d.p);
    given->contacts = apr_array_make(d.p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(given->contacts, const char *) = "mailto:given@example.org";
    d.env.md = given;
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    ck_assert_int_eq(md_load(&staged, d.store, MD_SG_STAGING, TD_NAME, NULL, d.p), APR_SUCCESS);
    ck_assert_int_eq(staged->contacts->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(staged->contacts, 0, const char *), "mailto:given@example.org");
    ck_assert(given->ca_account == NULL);
    td_done(&d);
}
END_TEST

/* The job's log: newest first, at most MD_JOB_LOG_MAX entries, kept through job.json. */
START_TEST(job_log_newest_first_capped)
{
    apr_pool_t *p = md_test_pool();
    md_job_t *job = md_job_make("example.org", p), *back = NULL;
    md_json_t *json;
    int i;

    for (i = 0; i < MD_JOB_LOG_MAX + 20; ++i) {
        md_job_log(job, "progress", apr_psprintf(p, "step %d", i), apr_time_from_sec(1000 + i));
    }
    ck_assert_int_eq(md_json_count(job->log, NULL), MD_JOB_LOG_MAX);
    json = md_job_to_json(job, p);
    ck_assert_int_eq(md_job_from_json(&back, json, p), APR_SUCCESS);
    ck_assert_int_eq(md_json_count(back->log, NULL), MD_JOB_LOG_MAX);
    ck_assert_str_eq(md_json_gets(md_json_at(back->log, 0, NULL), "detail", NULL),
                     apr_psprintf(p, "step %d", MD_JOB_LOG_MAX + 19));
    ck_assert_str_eq(md_json_gets(md_json_at(back->log, MD_JOB_LOG_MAX - 1, NULL), "detail", NULL), "step 20");
    ck_assert_str_eq(md_json_gets(md_json_at(back->log, 0, NULL), "type", NULL), "progress");
    md_test_pool_done(p);
}
END_TEST

static void count_job_write(const char *path, void *baton)
{
    int *n = baton;
    size_t len = strlen(path), tail = strlen("/staging/" TD_NAME "/job.json");

    if (len >= tail && !strcmp(path + len - tail, "/staging/" TD_NAME "/job.json")) ++*n;
}

/* A certificate's job.json is written twice: with its new order (to resume it) and with the outcome. The save after
 * the authorizations (a third) only recorded answers already torn down, and every attempt saves its end. */
START_TEST(drive_job_writes)
{
    td_drive_t d;
    md_drive_outcome_t outcome;
    apr_time_t next;
    int n = 0;

    td_init(&d, 0);
    td_script(&d, 1, TD_S_DIRECTORY, TD_S_END, 0);
    md_file_on_written(count_job_write, &n);
    ck_assert_int_eq(td_run(&d, 0, 0, &outcome, &next), APR_SUCCESS);
    md_file_on_written(NULL, NULL);
    ck_assert_int_eq(outcome, MD_DRIVE_STAGED);
    ck_assert_str_eq(td_requests(&d, 0), FLOW_ACCOUNT "|" FLOW_ORDER1_AUTHZ FLOW_ORDER1_CHALL FLOW_ORDER1_REST);
    ck_assert_int_eq(n, 2);
    td_done(&d);
}
END_TEST

Suite *md_test_drive_suite(void)
{
    Suite *s = suite_create("drive");
    TCase *tc = tcase_create("flow");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, drive_one_key_staged_then_activated);
    tcase_add_test(tc, drive_valid_authz_skipped);
    tcase_add_test(tc, drive_resume_after_finalize_failure);
    tcase_add_test(tc, drive_not_due_after_activation);
    tcase_add_test(tc, drive_backing_off);
    tcase_add_test(tc, drive_two_keys);
    tcase_add_test(tc, job_errors_read_in_range);
    tcase_add_test(tc, drive_flushes);
    tcase_add_test(tc, drive_job_writes);
    tcase_add_test(tc, drive_activation_records);
    tcase_add_test(tc, drive_takes_callers_md);
    tcase_add_test(tc, job_log_newest_first_capped);
    suite_add_tcase(s, tc);
    md_test_drive_fail_tcases(s);
    return s;
}
