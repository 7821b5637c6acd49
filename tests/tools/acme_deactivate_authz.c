/* E2E tool: deactivate the valid authorizations of a stored account's orders at a real CA (RFC 8555 7.5.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_http.h"
#include "md_json.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_store.h"

/*
 * acme_deactivate_authz STORE DIRECTORY-URL CA-FILE
 * Loads the store's account for that CA, lists its orders (the first page of its orders URL), fetches each
 * order's authorizations and deactivates those that are valid, so the CA cannot take them for a new order
 * (pebble reuses a valid authorization now and then, even at PEBBLE_AUTHZREUSE=0). Output: one
 * "deactivated=<authz URL>" line each, then orders=N, deactivated=N and result=ok, or result=error and
 * error=<detail> (exit code 1).
 */

static apr_status_t deactivate_valid(md_acme_t *acme, const char *authz_url, int *count, md_result_t *result,
                                     apr_pool_t *p)
{
    md_json_t *authz = NULL, *payload = md_json_create(p);
    const char *status;
    apr_status_t rv;

    rv = md_acme_post_json(&authz, NULL, acme, authz_url, NULL, NULL, result, p);
    if (rv != APR_SUCCESS) return rv;
    status = md_json_gets(authz, "status", NULL);
    if (!status || strcmp(status, "valid")) return APR_SUCCESS;
    md_json_sets("deactivated", payload, "status", NULL);
    rv = md_acme_post_json(&authz, NULL, acme, authz_url, payload, NULL, result, p);
    if (rv != APR_SUCCESS) return rv;
    status = md_json_gets(authz, "status", NULL);
    if (!status || strcmp(status, "deactivated")) {
        md_result_printf(result, APR_EGENERAL, "%s is %s after its deactivation", authz_url,
                         status ? status : "without a status");
        return APR_EGENERAL;
    }
    printf("deactivated=%s\n", authz_url);
    (*count)++;
    return APR_SUCCESS;
}

static apr_status_t deactivate_all(md_acme_t *acme, md_acme_acct_t *acct, md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *orders = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *authzs;
    md_json_t *list = NULL, *order = NULL;
    apr_status_t rv;
    int i, j, count = 0;

    if (!acct->orders) {
        md_result_set(result, APR_EINVAL, "the account has no orders URL");
        return APR_EINVAL;
    }
    rv = md_acme_post_json(&list, NULL, acme, acct->orders, NULL, NULL, result, p);
    if (rv == APR_SUCCESS) rv = md_json_getsa(orders, list, "orders", NULL);
    for (i = 0; rv == APR_SUCCESS && i < orders->nelts; i++) {
        rv = md_acme_post_json(&order, NULL, acme, APR_ARRAY_IDX(orders, i, const char *), NULL, NULL, result, p);
        authzs = apr_array_make(p, 4, sizeof(const char *));
        if (rv == APR_SUCCESS) rv = md_json_getsa(authzs, order, "authorizations", NULL);
        for (j = 0; rv == APR_SUCCESS && j < authzs->nelts; j++) {
            rv = deactivate_valid(acme, APR_ARRAY_IDX(authzs, j, const char *), &count, result, p);
        }
    }
    printf("orders=%d\ndeactivated=%d\n", orders->nelts, count);
    return rv;
}

int main(int argc, const char *const *argv)
{
    md_http_options_t opts;
    md_http_t *http = NULL;
    md_acme_t *acme = NULL;
    md_store_t *store = NULL;
    md_acme_acct_t *acct = NULL;
    md_pkey_t *key = NULL;
    const char *id = NULL;
    md_result_t *result;
    apr_pool_t *p = NULL;
    apr_status_t rv;

    if (argc != 4) {
        fprintf(stderr, "usage: acme_deactivate_authz STORE DIRECTORY-URL CA-FILE\n");
        return 2;
    }
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    result = md_result_make(p);
    memset(&opts, 0, sizeof(opts));
    opts.ca_file = argv[3];
    rv = md_store_fs_open(&store, argv[1], result, p);
    if (rv == APR_SUCCESS) rv = md_acme_acct_find_stored(&id, store, argv[2], NULL, p);
    if (rv == APR_ENOENT) md_result_printf(result, rv, "no stored account for %s", argv[2]);
    if (rv == APR_SUCCESS) rv = md_acme_acct_load(&acct, &key, store, id, result, p);
    if (rv == APR_SUCCESS) rv = md_http_create(&http, &opts, md_http_curl_backend(), p);
    if (rv == APR_SUCCESS) rv = md_acme_create(&acme, md_acme_ca_url_for(argv[2]), http, p);
    if (rv == APR_SUCCESS) {
        md_acme_set_account(acme, acct->url, key);
        rv = deactivate_all(acme, acct, result, p);
    }
    printf("result=%s\n", rv == APR_SUCCESS ? "ok" : "error");
    if (rv != APR_SUCCESS) printf("error=%s\n", md_result_text(result, p));
    apr_pool_destroy(p);
    apr_terminate();
    return rv == APR_SUCCESS ? 0 : 1;
}
