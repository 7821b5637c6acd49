/* Fixtures of the drive tests: scratch store and MD, a fake http-01 responder, a scripted CA issuing real chains. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "md_acme_acct.h"
#include "md_encode.h"
#include "md_file.h"
#include "md_json.h"
#include "md_pkey.h"
#include "md_responder.h"
#include "test_common.h"
#include "test_drive.h"

void td_assert_contains(const char *haystack, const char *needle)
{
    ck_assert_msg(haystack && strstr(haystack, needle), "'%s' does not contain '%s'",
                  haystack ? haystack : "(null)", needle);
}

/* ---- the fake responder: answers http-01, records every call ---------------------------------------- */

static int resp_supports(void *baton, const char *type)
{
    (void)baton;
    return !strcmp(type, "http-01");
}

static void resp_record(td_drive_t *d, const char *what, const md_challenge_setup_t *ch)
{
    ck_assert_str_eq(ch->md_name, TD_NAME);
    APR_ARRAY_PUSH(d->calls, const char *) = apr_psprintf(d->p, "%s %s %s %s", what, ch->type, ch->domain,
                                                          ch->key_authz);
}

static apr_status_t resp_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    (void)result;
    (void)p;
    resp_record(baton, "setup", ch);
    return APR_SUCCESS;
}

static apr_status_t resp_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                  apr_pool_t *p)
{
    (void)result;
    (void)p;
    resp_record(baton, "teardown", ch);
    return APR_SUCCESS;
}

/* ---- the test CA: certificates made with OpenSSL ------------------------------------------------------ */

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);

    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A certificate for pub valid from now for 90 days, signed with issuer_key: a CA certificate when issuer is
 * NULL (self-signed), else a leaf of issuer carrying the extensions in exts (the CSR's SANs). */
static X509 *cert_make(EVP_PKEY *pub, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       STACK_OF(X509_EXTENSION) *exts)
{
    static long serial = 4711;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;
    int i;

    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 90L * 24 * 3600);
    ck_assert_int_eq(X509_set_pubkey(x, pub), 1);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    add_ext(x, &v3, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
    add_ext(x, &v3, NID_subject_key_identifier, "hash");
    add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
    for (i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i) {
        X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1);
    }
    ck_assert_int_gt(X509_sign(x, issuer_key, EVP_sha256()), 0);
    X509_NAME_free(name);
    return x;
}

static const char *bio_text(BIO *bio, apr_pool_t *p)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);

    return apr_pstrmemdup(p, data, (apr_size_t)len);
}

/* The CSR of a finalize request: the JWS payload's "csr", base64url DER. */
static X509_REQ *finalize_csr(const fake_http_req_t *req, apr_pool_t *p)
{
    md_json_t *msg = NULL, *payload = NULL;
    unsigned char *data;
    const unsigned char *der;
    apr_size_t len;
    X509_REQ *csr;

    ck_assert_int_eq(md_json_readd(&msg, req->body.data, req->body.len, "finalize", NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_b64url_decode(&data, &len, md_json_gets(msg, "payload", NULL), p), APR_SUCCESS);
    ck_assert_int_eq(md_json_readd(&payload, (const char *)data, len, "payload", NULL, p), APR_SUCCESS);
    ck_assert_ptr_nonnull(md_json_gets(payload, "csr", NULL));
    ck_assert_int_eq(md_b64url_decode(&data, &len, md_json_gets(payload, "csr", NULL), p), APR_SUCCESS);
    der = data;
    csr = d2i_X509_REQ(NULL, &der, (long)len);
    ck_assert_msg(csr != NULL, "the finalize request's csr is not a DER CSR");
    return csr;
}

/* finalize: issue the leaf for the CSR's key (kept for the download) and answer "processing". */
static apr_status_t finalize_cb(void *baton, md_http_response_t *resp, const fake_http_req_t *req,
                                md_result_t *result, apr_pool_t *p)
{
    td_order_t *o = baton;
    X509_REQ *csr = finalize_csr(req, p);
    EVP_PKEY *pub = X509_REQ_get0_pubkey(csr);
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
    BIO *bio = BIO_new(BIO_s_mem());
    X509 *leaf;

    (void)result;
    ck_assert_int_eq(X509_REQ_verify(csr, pub), 1);
    ck_assert_msg(exts && X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1) >= 0, "CSR without SANs");
    PEM_write_bio_PUBKEY(bio, pub);
    o->csr_pubkey = bio_text(bio, o->d->p);
    leaf = cert_make(pub, TD_NAME, md_cert_get_X509(o->d->ca_cert), md_pkey_get_EVP_PKEY(o->d->ca_key), exts);
    (void)BIO_reset(bio);
    PEM_write_bio_X509(bio, leaf);
    PEM_write_bio_X509(bio, md_cert_get_X509(o->d->ca_cert));
    o->chain_pem = bio_text(bio, o->d->p);
    X509_free(leaf);
    BIO_free(bio);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(csr);
    if (o->delay) md_clock_sleep(o->d->env.clock, o->delay);     /* a simulated clock advances at once */
    resp->status = 200;
    apr_table_set(resp->headers, "Content-Type", "application/json");
    apr_table_set(resp->headers, "Location", td_url(o->d, "order", o->n));
    resp->body.data = apr_pstrdup(p, td_order_json(o->d, o->n, "processing"));
    resp->body.len = strlen(resp->body.data);
    return APR_SUCCESS;
}

static apr_status_t cert_cb(void *baton, md_http_response_t *resp, const fake_http_req_t *req,
                            md_result_t *result, apr_pool_t *p)
{
    td_order_t *o = baton;

    (void)result;
    ck_assert_msg(o->chain_pem != NULL, "certificate download before finalize");
    ck_assert_str_eq(apr_table_get(req->headers, "Accept"), "application/pem-certificate-chain");
    resp->status = 200;
    apr_table_set(resp->headers, "Content-Type", "application/pem-certificate-chain");
    resp->body.data = apr_pstrdup(p, o->chain_pem);
    resp->body.len = strlen(resp->body.data);
    return APR_SUCCESS;
}

/* ---- CA objects and the script ------------------------------------------------------------------------ */

const char *td_url(td_drive_t *d, const char *what, int n)
{
    return apr_psprintf(d->p, "%s/%s/%d", d->orders[n].ca, what, n);
}

const char *td_token(td_drive_t *d, int n)
{
    return apr_psprintf(d->p, "tok3n-%d_Xh0GrQLoqXcYV8q5ONbJQx", n);
}

const char *td_order_json(td_drive_t *d, int n, const char *status)
{
    md_json_t *json = md_json_create(d->p), *id = md_json_create(d->p);

    md_json_sets(status, json, "status", NULL);
    md_json_sets("dns", id, "type", NULL);
    md_json_sets(TD_NAME, id, "value", NULL);
    md_json_addj(id, json, "identifiers", NULL);
    md_json_adds(td_url(d, "authz", n), json, "authorizations", NULL);
    md_json_sets(td_url(d, "finalize", n), json, "finalize", NULL);
    if (!strcmp(status, "valid")) md_json_sets(td_url(d, "cert", n), json, "certificate", NULL);
    return md_json_writep(json, MD_JSON_FMT_INDENT, d->p);
}

static md_json_t *challenge_json(td_drive_t *d, int n, const char *type, const char *status)
{
    md_json_t *ch = md_json_create(d->p);

    md_json_sets(type, ch, "type", NULL);
    md_json_sets(apr_psprintf(d->p, "%s/%s", td_url(d, "chall", n), type), ch, "url", NULL);
    md_json_sets(status, ch, "status", NULL);
    md_json_sets(td_token(d, n), ch, "token", NULL);
    return ch;
}

static const char *authz_json(td_drive_t *d, int n, const char *status)
{
    md_json_t *json = md_json_create(d->p);
    const char *chall_status = strcmp(status, "valid") ? "pending" : "valid";

    md_json_sets(TD_NAME, json, "identifier", "value", NULL);
    md_json_sets("dns", json, "identifier", "type", NULL);
    md_json_sets(status, json, "status", NULL);
    md_json_addj(challenge_json(d, n, "dns-01", chall_status), json, "challenges", NULL);
    md_json_addj(challenge_json(d, n, "http-01", chall_status), json, "challenges", NULL);
    return md_json_writep(json, MD_JSON_FMT_INDENT, d->p);
}

/* The recorded directory for TD_CA, one like it for another CA. */
static const char *directory_json(td_drive_t *d, const char *ca)
{
    md_json_t *json = md_json_create(d->p);

    if (!strcmp(ca, TD_CA)) return fake_http_data("directory.json", d->p);
    md_json_sets(apr_pstrcat(d->p, ca, "/nonce-plz", NULL), json, "newNonce", NULL);
    md_json_sets(apr_pstrcat(d->p, ca, "/sign-me-up", NULL), json, "newAccount", NULL);
    md_json_sets(apr_pstrcat(d->p, ca, "/order-plz", NULL), json, "newOrder", NULL);
    md_json_sets(apr_pstrcat(d->p, ca, "/terms", NULL), json, "meta", "termsOfService", NULL);
    return md_json_writep(json, MD_JSON_FMT_INDENT, d->p);
}

static void script_step(td_drive_t *d, int n, td_step_t step, int authz_valid)
{
    td_order_t *o = &d->orders[n];

    switch (step) {
    case TD_S_DIRECTORY:
        /* as Boulder and pebble do, without a nonce (the empty header keeps the fake from adding one) */
        fake_http_expect_json(d->fake, "GET", apr_pstrcat(d->p, o->ca, "/dir", NULL), 200, "Replay-Nonce: \n",
                              directory_json(d, o->ca));
        break;
    case TD_S_ACCOUNT:
        fake_http_expect_json(d->fake, "POST", apr_pstrcat(d->p, o->ca, "/sign-me-up", NULL), 201,
                              apr_pstrcat(d->p, "Location: ", o->ca, "/my-account/1\n", NULL),
                              fake_http_data("account.json", d->p));
        break;
    case TD_S_NEWORDER:
        fake_http_expect_json(d->fake, "POST", apr_pstrcat(d->p, o->ca, "/order-plz", NULL), 201,
                              apr_psprintf(d->p, "Location: %s\n", td_url(d, "order", n)),
                              td_order_json(d, n, "pending"));
        break;
    case TD_S_AUTHZ:
        fake_http_expect_json(d->fake, "POST", td_url(d, "authz", n), 200, NULL,
                              authz_json(d, n, authz_valid ? "valid" : "pending"));
        break;
    case TD_S_CHALLENGE:
        if (authz_valid) break;
        fake_http_expect_json(d->fake, "POST", apr_pstrcat(d->p, td_url(d, "chall", n), "/http-01", NULL), 200,
                              NULL, md_json_writep(challenge_json(d, n, "http-01", "processing"),
                                                   MD_JSON_FMT_COMPACT, d->p));
        break;
    case TD_S_ORDER_READY:
        fake_http_expect_json(d->fake, "POST", td_url(d, "order", n), 200, NULL, td_order_json(d, n, "ready"));
        break;
    case TD_S_FINALIZE:
        fake_http_expect_cb(d->fake, "POST", td_url(d, "finalize", n), finalize_cb, o);
        break;
    case TD_S_ORDER_VALID:
        fake_http_expect_json(d->fake, "POST", td_url(d, "order", n), 200, NULL, td_order_json(d, n, "valid"));
        break;
    case TD_S_CERT:
        fake_http_expect_cb(d->fake, "POST", td_url(d, "cert", n), cert_cb, o);
        break;
    default:
        break;
    }
}

void td_script(td_drive_t *d, int n, td_step_t from, td_step_t until, int authz_valid)
{
    int step;

    ck_assert(n >= 1 && n <= TD_ORDERS_MAX);
    for (step = from; step < (int)until; ++step) script_step(d, n, (td_step_t)step, authz_valid);
}

const char *td_requests(td_drive_t *d, int from)
{
    const fake_http_req_t *r;
    const char *s = "";
    int i;

    for (i = from; i < fake_http_count(d->fake); ++i) {
        r = fake_http_request(d->fake, i);
        s = apr_pstrcat(d->p, s, *s ? "|" : "", r->method, " ", r->url, NULL);
    }
    return s;
}

/* ---- store and fixture ------------------------------------------------------------------------------ */

md_pkey_t *td_account_key(td_drive_t *d, const char **pid)
{
    apr_array_header_t *ids = NULL;
    void *key = NULL;

    ck_assert_int_eq(md_store_list(&ids, d->store, MD_SG_ACCOUNTS, "*", d->p), APR_SUCCESS);
    ck_assert_int_eq(ids->nelts, 1);
    if (pid) *pid = APR_ARRAY_IDX(ids, 0, const char *);
    ck_assert_int_eq(md_store_load(&key, d->store, MD_SG_ACCOUNTS, APR_ARRAY_IDX(ids, 0, const char *),
                                   "account.pem", MD_SV_PKEY, NULL, d->p), APR_SUCCESS);
    return key;
}

md_job_t *td_job(td_drive_t *d)
{
    md_job_t *job = NULL;

    ck_assert(md_store_exists(d->store, MD_SG_STAGING, TD_NAME, "job.json", d->p));
    ck_assert_int_eq(md_job_load(&job, d->store, MD_SG_STAGING, TD_NAME, NULL, d->p), APR_SUCCESS);
    return job;
}

static void walk(apr_array_header_t *files, const char *base, const char *rel, apr_pool_t *p)
{
    apr_dir_t *dir;
    apr_finfo_t fi;
    apr_status_t rv;
    const char *path;

    ck_assert_int_eq(apr_dir_open(&dir, rel ? md_file_join(p, base, rel, NULL) : base, p), APR_SUCCESS);
    while ((rv = apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir)) == APR_SUCCESS
           || rv == APR_INCOMPLETE) {
        if (!strcmp(fi.name, ".") || !strcmp(fi.name, "..")) continue;
        path = rel ? apr_pstrcat(p, rel, "/", fi.name, NULL) : apr_pstrdup(p, fi.name);
        if (fi.filetype == APR_DIR) walk(files, base, path, p);
        else APR_ARRAY_PUSH(files, const char *) = path;
    }
    apr_dir_close(dir);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

apr_array_header_t *td_store_files(td_drive_t *d)
{
    apr_array_header_t *files = apr_array_make(d->p, 16, sizeof(const char *));

    walk(files, d->dir, NULL, d->p);
    qsort(files->elts, (size_t)files->nelts, sizeof(const char *), cmp_str);
    return files;
}

void td_assert_store_intact(td_drive_t *d)
{
    apr_array_header_t *files = td_store_files(d);
    const char *f, *staging = "staging/" TD_NAME "/";
    char *text = NULL;
    apr_size_t len;
    int i;

    ck_assert_int_eq(md_file_read(&text, &len, md_file_join(d->p, d->dir, "domains", TD_NAME, "md.json", NULL),
                                  d->p), APR_SUCCESS);
    ck_assert_str_eq(text, d->md_text);
    for (i = 0; i < files->nelts; ++i) {
        f = APR_ARRAY_IDX(files, i, const char *);
        ck_assert_msg(!strstr(f, ".tmp."), "temporary file left in the store: %s", f);
        ck_assert_msg(!strcmp(f, "md_store.json") || !strcmp(f, "domains/" TD_NAME "/md.json")
                      || !strncmp(f, staging, strlen(staging)) || !strncmp(f, "accounts/", 9)
                      || !strncmp(f, "writers/", 8),       /* the markers of writers, the last sweep's stamp */
                      "unexpected file in the store: %s", f);
    }
}

apr_status_t td_run(td_drive_t *d, int force, int activate, md_drive_outcome_t *poutcome, apr_time_t *pnext)
{
    md_drive_flags_t flags;

    memset(&flags, 0, sizeof(flags));
    flags.force = force;
    flags.activate = activate;
    d->result = md_result_make(d->p);
    return md_drive(poutcome, pnext, &d->env, TD_NAME, &flags, d->result, d->p);
}

void td_save_md(td_drive_t *d)
{
    char *text = NULL;
    apr_size_t len;

    ck_assert_int_eq(md_store_save(d->store, MD_SG_DOMAINS, TD_NAME, "md.json", MD_SV_JSON,
                                   md_to_json(d->md, d->p), 0, NULL, d->p), APR_SUCCESS);
    ck_assert_int_eq(md_file_read(&text, &len, md_file_join(d->p, d->dir, "domains", TD_NAME, "md.json", NULL),
                                  d->p), APR_SUCCESS);
    d->md_text = text;
}

static void md_setup(td_drive_t *d, int two_keys)
{
    apr_array_header_t *names = apr_array_make(d->p, 1, sizeof(const char *));
    md_pkey_spec_t *rsa = apr_pcalloc(d->p, sizeof(*rsa)), *ec = apr_pcalloc(d->p, sizeof(*ec));

    rsa->type = MD_PKEY_RSA;
    rsa->bits = 2048;
    ec->type = MD_PKEY_EC;
    ec->curve = "P-256";
    APR_ARRAY_PUSH(names, const char *) = TD_NAME;
    d->md = md_create(names, d->p);
    APR_ARRAY_PUSH(d->md->ca_urls, const char *) = TD_DIR;
    APR_ARRAY_PUSH(d->md->contacts, const char *) = "mailto:admin@example.org";
    d->md->ca_agreement = "accepted";
    apr_array_clear(d->md->pks);
    if (two_keys) APR_ARRAY_PUSH(d->md->pks, md_pkey_spec_t *) = rsa;
    APR_ARRAY_PUSH(d->md->pks, md_pkey_spec_t *) = ec;
    td_save_md(d);
}

void td_init(td_drive_t *d, int two_keys)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_responder_t resp = { .name = "fake-http-01", .supports = resp_supports, .setup = resp_setup,
                            .teardown = resp_teardown };
    X509 *ca;
    int i;

    memset(d, 0, sizeof(*d));
    d->p = md_test_pool();
    d->dir = md_test_mkdtemp(d->p);
    d->result = md_result_make(d->p);
    ck_assert_int_eq(md_store_fs_open(&d->store, d->dir, d->result, d->p), APR_SUCCESS);
    d->fake = fake_http_create(d->p);
    fake_http_auto_nonce(d->fake, TD_NONCE);
    d->calls = apr_array_make(d->p, 4, sizeof(const char *));
    resp.baton = d;
    d->env.store = d->store;
    d->env.responders = md_responders_make(d->p);
    md_responders_add(d->env.responders, &resp);
    d->env.http_backend = fake_http_backend(d->fake);
    d->env.poll_min = apr_time_from_msec(1);
    d->env.poll_max = apr_time_from_msec(5);
    d->env.authz_timeout = apr_time_from_sec(5);
    d->env.order_timeout = apr_time_from_sec(5);
    d->env.retry_base = apr_time_from_sec(60);
    for (i = 0; i <= TD_ORDERS_MAX; ++i) {
        d->orders[i].d = d;
        d->orders[i].n = i;
        d->orders[i].ca = TD_CA;
    }
    ck_assert_int_eq(md_pkey_gen(&d->ca_key, &spec, d->p), APR_SUCCESS);
    ca = cert_make(md_pkey_get_EVP_PKEY(d->ca_key), "mdomain test CA", NULL, md_pkey_get_EVP_PKEY(d->ca_key),
                   NULL);
    d->ca_cert = md_cert_wrap(ca, d->p);
    md_setup(d, two_keys);
}

void td_done(td_drive_t *d)
{
    md_test_rmdir(d->dir, d->p);
    md_test_pool_done(d->p);
}
