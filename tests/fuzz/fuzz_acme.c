/* Fuzz target: what the ACME client makes of a CA's answers (problems, directory, accounts, orders,
 * authorizations, ARI, certificate chains, polling with Retry-After), through a fake HTTP backend. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_order.h"
#include "md_cert.h"
#include "md_clock.h"
#include "md_pkey.h"
#include "md_result.h"
#include "fuzz.h"

#define DIR_URL "https://ca.test/dir"
#define NOW (APR_INT64_C(1767225600) * APR_USEC_PER_SEC)    /* 2026-01-01 */
#define OPS 20    /* what the first byte asks for, modulo this: see LLVMFuzzerTestOneInput */

static const char directory[] =
    "{\"keyChange\":\"https://ca.test/key-change\",\"meta\":{\"externalAccountRequired\":false,"
    "\"termsOfService\":\"https://ca.test/terms.pdf\",\"profiles\":{\"classic\":\"c\",\"shortlived\":\"s\"}},"
    "\"newAccount\":\"https://ca.test/new-acct\",\"newNonce\":\"https://ca.test/new-nonce\","
    "\"newOrder\":\"https://ca.test/new-order\",\"renewalInfo\":\"https://ca.test/ari/\","
    "\"revokeCert\":\"https://ca.test/revoke\"}";

/* What the CA answers: the directory (fixed, or the fuzzed one), nonces to HEAD, the fuzzed response to the rest. */
typedef struct {
    int fuzz_directory;
    int status;
    const char *headers;      /* "Name: value" lines */
    const char *body;
    apr_size_t body_len;
    int requests;
} ca_t;

static void headers_add(apr_table_t *t, const char *lines, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, lines), *line, *state = NULL, *colon;

    for (line = apr_strtok(copy, "\n", &state); line; line = apr_strtok(NULL, "\n", &state)) {
        colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        apr_table_add(t, line, colon[1] == ' ' ? colon + 2 : colon + 1);
    }
}

static apr_status_t ca_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                               const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    ca_t *ca = baton;
    md_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));
    static unsigned long nonce;

    (void)opts;
    (void)result;
    ++ca->requests;
    resp->url = apr_pstrdup(p, req->url);
    resp->headers = apr_table_make(p, 5);
    if (!strcmp(req->method, "HEAD")) {
        resp->status = 200;
        apr_table_set(resp->headers, "Replay-Nonce", apr_psprintf(p, "nonce-%lu", ++nonce));
    }
    else if (!strcmp(req->method, "GET") && !strcmp(req->url, DIR_URL) && !ca->fuzz_directory) {
        resp->status = 200;
        apr_table_set(resp->headers, "Content-Type", "application/json");
        resp->body.data = directory;
        resp->body.len = sizeof(directory) - 1;
    }
    else {
        resp->status = ca->status;
        headers_add(resp->headers, ca->headers, p);
        resp->body.data = ca->body;
        resp->body.len = ca->body_len;
    }
    *presp = resp;
    return APR_SUCCESS;
}

static md_pkey_t *account_key;
static md_cert_t *cert;

/* Made once: an account key and a certificate to revoke. */
static void setup_once(void)
{
    static apr_pool_t *p;
    md_pkey_spec_t spec = { .type = MD_PKEY_EC, .bits = 0, .curve = "P-256" };
    apr_array_header_t *names;

    if (p) return;
    p = fz_pool();
    names = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(names, const char *) = "a.example";
    if (md_pkey_gen(&account_key, &spec, p) != APR_SUCCESS
        || md_cert_self_sign(&cert, "a.example", names, account_key, apr_time_from_sec(86400), p) != APR_SUCCESS) {
        abort();
    }
}

static apr_array_header_t *strs(apr_pool_t *p, const char *a, const char *b, const char *c)
{
    apr_array_header_t *arr = apr_array_make(p, 3, sizeof(const char *));

    APR_ARRAY_PUSH(arr, const char *) = a;
    APR_ARRAY_PUSH(arr, const char *) = b;
    APR_ARRAY_PUSH(arr, const char *) = c;
    return arr;
}

static void check_result(apr_status_t rv, const md_result_t *result)
{
    /* a failure says why */
    if (rv != APR_SUCCESS) FZ_CHECK(result->status != APR_SUCCESS && result->detail != NULL);
}

static void run_authz(md_acme_t *acme, int await, md_result_t *result, apr_pool_t *p)
{
    md_acme_authz_t *authz = NULL;
    md_acme_challenge_t *ch = NULL;
    apr_status_t rv;
    int i;

    if (await) rv = md_acme_authz_await(&authz, acme, "https://ca.test/authz/1", apr_time_from_sec(60), result, p);
    else rv = md_acme_authz_get(&authz, acme, "https://ca.test/authz/1", result, p);
    check_result(rv, result);
    if (rv != APR_SUCCESS || !authz) return;
    FZ_CHECK(authz->status && authz->domain && authz->challenges);
    for (i = 0; i < authz->challenges->nelts; ++i) {
        FZ_CHECK(APR_ARRAY_IDX(authz->challenges, i, md_acme_challenge_t *)->type != NULL);
    }
    md_result_reset(result);
    rv = md_acme_authz_choose(&ch, authz, strs(p, "http-01", "dns-01", "tls-alpn-01"), result, p);
    check_result(rv, result);
    if (rv == APR_SUCCESS && ch->url) {
        md_result_reset(result);
        check_result(md_acme_challenge_respond(acme, ch, result, p), result);
    }
}

static void run_order(md_acme_t *acme, unsigned int op, md_result_t *result, apr_pool_t *p)
{
    md_acme_order_t *order = NULL;
    md_data_t csr = { "not a CSR", 9 };
    apr_status_t rv;

    if (op == 0) {
        rv = md_acme_order_new(&order, acme, strs(p, "a.example", "*.b.example", "2001:db8::1"), "classic", 1,
                               "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", result, p);
        check_result(rv, result);
        return;
    }
    rv = md_acme_order_from_json(&order, "https://ca.test/order/1", md_json_create(p), p);
    FZ_CHECK(rv == APR_EINVAL);
    order = apr_pcalloc(p, sizeof(*order));
    order->url = "https://ca.test/order/1";
    order->status = "pending";
    order->finalize = "https://ca.test/finalize/1";
    order->authz_urls = apr_array_make(p, 1, sizeof(const char *));
    if (op == 1) rv = md_acme_order_refresh(order, acme, result, p);
    else if (op == 2) rv = md_acme_order_await(order, acme, "ready|valid", apr_time_from_sec(60), result, p);
    else rv = md_acme_order_finalize(order, acme, &csr, result, p);
    check_result(rv, result);
}

static void run_account(md_acme_t *acme, unsigned int op, md_result_t *result, apr_pool_t *p)
{
    md_acme_acct_t *acct = NULL;
    apr_array_header_t *contacts = strs(p, "admin@a.example", "mailto:b@a.example", "tel:1");
    apr_status_t rv;

    if (op == 0) {
        rv = md_acme_acct_register(&acct, acme, account_key, contacts, 1, NULL, result, p);
    }
    else if (op == 1) {
        rv = md_acme_acct_find(&acct, acme, account_key, result, p);
    }
    else {
        acct = apr_pcalloc(p, sizeof(*acct));
        acct->url = "https://ca.test/acct/1";
        acct->ca_url = DIR_URL;
        acct->status = "valid";
        if (op == 2) rv = md_acme_acct_refresh(acct, acme, result, p);
        else if (op == 3) rv = md_acme_acct_update_contacts(acct, acme, contacts, result, p);
        else if (op == 4) rv = md_acme_acct_deactivate(acct, acme, result, p);
        else rv = md_acme_acct_key_change(acct, acme, account_key, result, p);
    }
    check_result(rv, result);
    if (rv == APR_SUCCESS && acct) FZ_CHECK(acct->url && acct->status);
}

static void run_cert(md_acme_t *acme, unsigned int op, md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *chain = NULL, *alternates = NULL;
    md_acme_ari_t *ari = NULL;
    apr_status_t rv;

    if (op == 0) {
        rv = md_acme_cert_fetch(&chain, &alternates, acme, "https://ca.test/cert/1", result, p);
        if (rv == APR_SUCCESS) FZ_CHECK(chain->nelts > 0 && alternates);
    }
    else if (op == 1) {
        rv = md_acme_cert_fetch_preferred(&chain, acme, "https://ca.test/cert/1", "ISRG Root X1", result, p);
        if (rv == APR_SUCCESS) FZ_CHECK(chain->nelts > 0);
    }
    else if (op == 2) {
        rv = md_acme_ari_get(&ari, acme, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", result, p);
        if (rv == APR_SUCCESS) {
            FZ_CHECK(ari->end > ari->start);
            (void)md_acme_ari_pick(ari, NOW, 0.5);
        }
    }
    else {
        rv = md_acme_revoke(acme, cert, 4, op == 3 ? NULL : account_key, result, p);
    }
    check_result(rv, result);
}

/* Input: one byte (what to ask), the status code and response headers ("201\nLocation: ...\n"), a line "--",
 * the body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    unsigned int what = fz_byte(&in);
    md_result_t *result = md_result_make(p);
    md_clock_sim_t *sim = md_clock_sim_make(NOW, p);
    md_http_backend_t backend = { "fuzz", ca_perform, NULL };
    md_http_response_t resp;
    md_http_t *http = NULL;
    md_acme_t *acme = NULL;
    const char *head;
    ca_t ca;

    setup_once();
    memset(&ca, 0, sizeof(ca));
    head = fz_part(&in, NULL, p);
    ca.status = head ? atoi(head) : 0;
    ca.headers = head && strchr(head, '\n') ? strchr(head, '\n') + 1 : "";
    ca.body = fz_strn(in.data, in.len, p);
    ca.body_len = in.len;
    ca.fuzz_directory = (what % OPS == 0);
    backend.baton = &ca;
    if (md_http_create(&http, NULL, &backend, p) != APR_SUCCESS
        || md_acme_create(&acme, DIR_URL, http, p) != APR_SUCCESS) {
        abort();
    }
    md_acme_set_clock(acme, md_clock_sim_clock(sim));
    /* requests are signed by an account, but for newAccount (register, find) */
    if (what % OPS != 7 && what % OPS != 8) md_acme_set_account(acme, "https://ca.test/acct/1", account_key);
    switch (what % OPS) {
    case 0:   /* the directory, then a new order through it */
        if (md_acme_setup(acme, result) == APR_SUCCESS) {
            (void)md_acme_tos(acme);
            (void)md_acme_eab_required(acme);
            (void)md_acme_profiles(acme);
            run_order(acme, 0, result, p);
        }
        check_result(result->status, result);
        break;
    case 1: case 2: run_authz(acme, what % OPS == 2, result, p); break;
    case 3: case 4: case 5: case 6: run_order(acme, what % OPS - 3, result, p); break;
    case 7: case 8: case 9: case 10: case 11: case 12: run_account(acme, what % OPS - 7, result, p); break;
    case 13: case 14: case 15: case 16: case 17: run_cert(acme, what % OPS - 13, result, p); break;
    case 18: check_result(md_acme_authz_deactivate(acme, "https://ca.test/authz/1", result, p), result); break;
    default: break;   /* only md_acme_response_error below */
    }
    /* the error path on its own: any answer becomes a result that says something */
    memset(&resp, 0, sizeof(resp));
    resp.url = "https://ca.test/x";
    resp.status = ca.status;
    resp.headers = apr_table_make(p, 5);
    headers_add(resp.headers, ca.headers, p);
    resp.body.data = ca.body;
    resp.body.len = ca.body_len;
    md_result_reset(result);
    (void)md_acme_response_error(&resp, result, p);
    FZ_CHECK(result->detail != NULL);
    FZ_CHECK(ca.requests < 1000);
    apr_pool_destroy(p);
    return 0;
}
