/* E2E tool: an account's life at a real CA through md_acme/md_acme_acct; prints key=value lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_encode.h"
#include "md_json.h"
#include "md_http.h"
#include "md_jws.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_store.h"

/*
 * acme_account DIRECTORY-URL CA-FILE p256|p384|rsa2048 [--contact EMAIL] [--eab-kid KID --eab-hmac B64URL]
 *              [--store DIR]
 * Registers an account (ToS agreed), finds it by key, refreshes it, updates its contacts, rolls its key
 * over, checks that only the new key finds it, optionally saves it in a store and finds it there, and
 * deactivates it. Output: alg, account_url, register_status, find_url, refresh_status, contacts,
 * keychange, find_new_url, find_old, stored_id, stored_found, deactivate_status, after_deactivate,
 * requests, heads, bad_nonces, retried_with_its_nonce, retried_otherwise (what followed each badNonce answer:
 * a POST to the same URL with the answer's Replay-Nonce, or anything else), result=ok|error and error=<detail> on
 * failure (exit code 1).
 */

typedef struct {
    const md_http_backend_t *real;
    int requests, heads, bad_nonces;
    int retried_same, retried_other;  /* after a badNonce answer: the next POST to the same URL with the nonce that
                                       * answer carried, or anything else (the product's retry, as seen on the wire) */
    char *bad_url, *bad_nonce;        /* of the last badNonce answer, until the next POST */
} counter_t;

/* The nonce in the protected header of a JWS (flattened JSON) body, NULL when there is none. */
static const char *jws_nonce(const md_data_t *body, apr_pool_t *p)
{
    md_json_t *jws = NULL, *prot = NULL;
    unsigned char *raw = NULL;
    apr_size_t len = 0;
    const char *b64;

    if (!body || md_json_readd(&jws, body->data, body->len, "request", NULL, p) != APR_SUCCESS) return NULL;
    if (!(b64 = md_json_gets(jws, "protected", NULL)) || md_b64url_decode(&raw, &len, b64, p) != APR_SUCCESS
        || md_json_readd(&prot, (const char *)raw, len, "protected", NULL, p) != APR_SUCCESS) return NULL;
    return md_json_gets(prot, "nonce", NULL);
}

typedef struct {
    const char *dir_url, *ca_file, *key_type, *contact, *eab_kid, *eab_hmac, *store_dir;
} args_t;

static apr_status_t count_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                                  const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    counter_t *c = baton;
    apr_status_t rv;
    const char *nonce;

    if (c->bad_url && !strcmp(req->method, "POST")) {
        nonce = jws_nonce(req->body, p);
        if (!strcmp(req->url, c->bad_url) && nonce && c->bad_nonce && !strcmp(nonce, c->bad_nonce)) {
            c->retried_same++;
        }
        else c->retried_other++;
        free(c->bad_url);
        free(c->bad_nonce);
        c->bad_url = c->bad_nonce = NULL;
    }
    rv = c->real->perform(c->real->baton, presp, req, opts, result, p);
    c->requests++;
    if (!strcmp(req->method, "HEAD")) c->heads++;
    if (rv == APR_SUCCESS && (*presp)->status == 400 && (*presp)->body.data
        && strstr((*presp)->body.data, MD_ACME_PROBLEM_PREFIX "badNonce")) {
        c->bad_nonces++;
        c->bad_url = strdup(req->url);
        nonce = md_http_header(*presp, "Replay-Nonce");
        c->bad_nonce = nonce ? strdup(nonce) : NULL;
    }
    return rv;
}

static md_pkey_t *make_key(const char *type, apr_pool_t *p)
{
    md_pkey_spec_t *spec = NULL;
    md_pkey_t *key = NULL;
    const char *err = NULL;

    if (md_pkey_spec_parse(&spec, type, NULL, &err, p) != APR_SUCCESS) {
        fprintf(stderr, "acme_account: key type %s: %s\n", type, err ? err : "invalid");
        exit(2);
    }
    if (md_pkey_gen(&key, spec, p) != APR_SUCCESS) exit(2);
    return key;
}

static void kv(const char *key, const char *value)
{
    printf("%s=%s\n", key, value ? value : "");
    fflush(stdout);
}

static const char *rv_name(apr_status_t rv)
{
    switch (rv) {
    case APR_SUCCESS: return "ok";
    case APR_ENOENT: return "enoent";
    case APR_EACCES: return "eacces";
    case APR_EINVAL: return "einval";
    case APR_EAGAIN: return "eagain";
    default: return "error";
    }
}

static apr_status_t with_store(md_acme_acct_t *acct, md_pkey_t *key, const args_t *a, md_result_t *result,
                               apr_pool_t *p)
{
    md_store_t *store = NULL;
    md_acme_acct_t *loaded = NULL;
    const char *id = NULL;
    apr_status_t rv;

    rv = md_store_fs_open(&store, a->store_dir, result, p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_acme_acct_save(acct, key, store, result, p);
    if (rv != APR_SUCCESS) return rv;
    kv("stored_id", acct->id);
    rv = md_acme_acct_find_stored(&id, store, a->dir_url, a->eab_kid, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "find_stored did not find the saved account");
        return rv;
    }
    rv = md_acme_acct_load(&loaded, NULL, store, id, result, p);
    if (rv == APR_SUCCESS) kv("stored_found", strcmp(loaded->url, acct->url) ? "other" : id);
    return rv;
}

static apr_status_t find_after_rollover(md_acme_t *acme, md_pkey_t *old_key, md_pkey_t *new_key,
                                        md_result_t *result, apr_pool_t *p)
{
    md_acme_acct_t *found = NULL;
    md_result_t *scratch = md_result_make(p);
    apr_status_t rv;

    rv = md_acme_acct_find(&found, acme, new_key, result, p);
    if (rv != APR_SUCCESS) return rv;
    kv("find_new_url", found->url);
    kv("find_old", rv_name(md_acme_acct_find(&found, acme, old_key, scratch, p)));
    return APR_SUCCESS;
}

static apr_status_t life(md_acme_t *acme, const args_t *a, md_result_t *result, apr_pool_t *p)
{
    md_pkey_t *key = make_key(a->key_type, p), *new_key = make_key(a->key_type, p);
    apr_array_header_t *contacts = apr_array_make(p, 1, sizeof(const char *));
    md_acme_eab_t *eab = NULL;
    md_acme_acct_t *acct = NULL, *found = NULL;
    const char *url;
    apr_status_t rv;

    kv("alg", md_jws_alg(key));
    APR_ARRAY_PUSH(contacts, const char *) = a->contact;
    if (a->eab_kid) {
        rv = md_acme_eab_make(&eab, a->eab_kid, a->eab_hmac, result, p);
        if (rv != APR_SUCCESS) return rv;
    }
    rv = md_acme_acct_register(&acct, acme, key, contacts, 1, eab, result, p);
    if (rv != APR_SUCCESS) return rv;
    kv("account_url", acct->url);
    kv("register_status", acct->status);
    rv = md_acme_acct_find(&found, acme, key, result, p);
    if (rv != APR_SUCCESS) return rv;
    kv("find_url", found->url);
    rv = md_acme_acct_refresh(acct, acme, result, p);
    if (rv != APR_SUCCESS) return rv;
    kv("refresh_status", acct->status);
    APR_ARRAY_IDX(contacts, 0, const char *) = "second@example.org";
    rv = md_acme_acct_update_contacts(acct, acme, contacts, result, p);
    if (rv != APR_SUCCESS) return rv;
    kv("contacts", apr_array_pstrcat(p, acct->contacts, ','));
    rv = md_acme_acct_key_change(acct, acme, new_key, result, p);
    if (rv != APR_SUCCESS) return rv;
    kv("keychange", "ok");
    url = acct->url;
    rv = find_after_rollover(acme, key, new_key, result, p);
    if (rv != APR_SUCCESS) return rv;
    md_acme_set_account(acme, url, new_key);
    if (a->store_dir) {
        rv = with_store(acct, new_key, a, result, p);
        if (rv != APR_SUCCESS) return rv;
    }
    rv = md_acme_acct_deactivate(acct, acme, result, p);
    if (rv != APR_SUCCESS) return rv;
    kv("deactivate_status", acct->status);
    kv("after_deactivate", rv_name(md_acme_acct_refresh(acct, acme, md_result_make(p), p)));
    return APR_SUCCESS;
}

static void parse_args(args_t *a, int argc, const char *const *argv)
{
    int i;

    memset(a, 0, sizeof(*a));
    if (argc < 4) {
        fprintf(stderr, "usage: acme_account DIRECTORY-URL CA-FILE p256|p384|rsa2048 [--contact EMAIL] "
                        "[--eab-kid KID --eab-hmac B64URL] [--store DIR]\n");
        exit(2);
    }
    a->dir_url = argv[1];
    a->ca_file = argv[2];
    a->key_type = argv[3];
    a->contact = "admin@example.org";
    for (i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--contact")) a->contact = argv[i + 1];
        else if (!strcmp(argv[i], "--eab-kid")) a->eab_kid = argv[i + 1];
        else if (!strcmp(argv[i], "--eab-hmac")) a->eab_hmac = argv[i + 1];
        else if (!strcmp(argv[i], "--store")) a->store_dir = argv[i + 1];
        else {
            fprintf(stderr, "acme_account: unknown option %s\n", argv[i]);
            exit(2);
        }
    }
}

int main(int argc, const char *const *argv)
{
    md_http_options_t opts;
    md_http_backend_t backend;
    counter_t counter;
    md_http_t *http = NULL;
    md_acme_t *acme = NULL;
    md_result_t *result;
    apr_pool_t *p = NULL;
    apr_status_t rv;
    args_t a;

    parse_args(&a, argc, argv);
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    result = md_result_make(p);
    memset(&opts, 0, sizeof(opts));
    opts.ca_file = a.ca_file;
    memset(&counter, 0, sizeof(counter));
    counter.real = md_http_curl_backend();
    backend.name = "counting curl";
    backend.perform = count_perform;
    backend.baton = &counter;
    rv = md_http_create(&http, &opts, &backend, p);
    if (rv == APR_SUCCESS) rv = md_acme_create(&acme, md_acme_ca_url_for(a.dir_url), http, p);
    if (rv == APR_SUCCESS) rv = life(acme, &a, result, p);
    printf("requests=%d\nheads=%d\nbad_nonces=%d\nretried_with_its_nonce=%d\nretried_otherwise=%d\n",
           counter.requests, counter.heads, counter.bad_nonces, counter.retried_same, counter.retried_other);
    kv("result", rv == APR_SUCCESS ? "ok" : "error");
    if (rv != APR_SUCCESS) kv("error", md_result_text(result, p));
    apr_pool_destroy(p);
    apr_terminate();
    return rv == APR_SUCCESS ? 0 : 1;
}
