/* ACME accounts in the store: accounts/<id>/account.json in mod_md's format and the encrypted account.pem. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_acct.h"
#include "md_result.h"

#define ACCT_JSON "account.json"
#define ACCT_PEM "account.pem"
#define ACCT_ID_MAX 10000

md_json_t *md_acme_acct_to_json(const md_acme_acct_t *acct, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(acct->status ? acct->status : "valid", json, "status", NULL);
    if (acct->url) md_json_sets(acct->url, json, "url", NULL);
    if (acct->ca_url) md_json_sets(acct->ca_url, json, "ca-url", NULL);
    if (acct->contacts) md_json_setsa(acct->contacts, json, "contact", NULL);
    else md_json_setj(md_json_create_array(p), json, "contact", NULL);
    if (acct->registration) md_json_setj(acct->registration, json, "registration", NULL);
    if (acct->agreement) md_json_sets(acct->agreement, json, "agreement", NULL);
    if (acct->eab_kid) md_json_sets(acct->eab_kid, json, "eab", "kid", NULL);
    if (acct->orders) md_json_sets(acct->orders, json, "orders", NULL);
    return json;
}

apr_status_t md_acme_acct_from_json(md_acme_acct_t **pacct, const md_json_t *json, apr_pool_t *p)
{
    md_acme_acct_t *acct;

    *pacct = NULL;
    if (!json || !md_json_gets(json, "url", NULL) || !md_json_gets(json, "ca-url", NULL)) return APR_EINVAL;
    acct = apr_pcalloc(p, sizeof(*acct));
    acct->url = md_json_dups(p, json, "url", NULL);
    acct->ca_url = md_json_dups(p, json, "ca-url", NULL);
    acct->status = md_json_dups(p, json, "status", NULL);
    if (!acct->status) acct->status = "valid";
    acct->contacts = apr_array_make(p, 2, sizeof(const char *));
    md_json_getsa(acct->contacts, json, "contact", NULL);
    acct->agreement = md_json_dups(p, json, "agreement", NULL);
    acct->eab_kid = md_json_dups(p, json, "eab", "kid", NULL);
    acct->orders = md_json_dups(p, json, "orders", NULL);
    if (!acct->orders) acct->orders = md_json_dups(p, json, "registration", "orders", NULL);
    if (md_json_is(MD_JSON_TYPE_OBJECT, json, "registration", NULL)) {
        acct->registration = md_json_clone(md_json_getj(json, "registration", NULL), p);
    }
    *pacct = acct;
    return APR_SUCCESS;
}

/* The host of a URL ("127.0.0.1" of "https://127.0.0.1:14000/dir"), "unknown" when there is none. */
static const char *url_host(const char *url, apr_pool_t *p)
{
    const char *s = url ? strstr(url, "://") : NULL, *e, *at;

    s = s ? s + 3 : (url ? url : "");
    e = s + strcspn(s, "/?#");
    at = memchr(s, '@', (size_t)(e - s));
    if (at) s = at + 1;
    if (*s == '[') {
        ++s;
        e = s + strcspn(s, "]/");
    }
    else {
        e = s + strcspn(s, ":/?#");
    }
    return (e > s) ? apr_pstrmemdup(p, s, (apr_size_t)(e - s)) : "unknown";
}

/* Save json under the first free id "ACME-<host>-NNNN" (create-only, so that concurrent savers differ). */
static apr_status_t save_new(const char **pid, const md_json_t *json, const char *ca_url, md_store_t *store,
                             md_result_t *result, apr_pool_t *p)
{
    const char *host = url_host(ca_url, p), *id = NULL;
    md_result_t *attempt = md_result_make(p);
    apr_status_t rv = APR_EEXIST;
    int n;

    *pid = NULL;
    for (n = 0; n < ACCT_ID_MAX && rv == APR_EEXIST; ++n) {
        id = apr_psprintf(p, "ACME-%s-%04d", host, n);
        md_result_reset(attempt);
        rv = md_store_save(store, MD_SG_ACCOUNTS, id, ACCT_JSON, MD_SV_JSON, json, 1, attempt, p);
    }
    if (rv == APR_EEXIST) {
        md_result_printf(result, rv, "no free account id for %s in the store", host);
    }
    else if (rv != APR_SUCCESS) {
        md_result_assign(result, attempt);
    }
    if (rv == APR_SUCCESS) *pid = id;
    return rv;
}

apr_status_t md_acme_acct_save(md_acme_acct_t *acct, md_pkey_t *key, md_store_t *store,
                               md_result_t *result, apr_pool_t *p)
{
    md_json_t *json = md_acme_acct_to_json(acct, p);
    const char *id = acct->id;
    apr_status_t rv;

    if (!id && !key) {
        md_result_set(result, APR_EINVAL, "a new account is saved with its key");
        return APR_EINVAL;
    }
    if (id) rv = md_store_save(store, MD_SG_ACCOUNTS, id, ACCT_JSON, MD_SV_JSON, json, 0, result, p);
    else rv = save_new(&id, json, acct->ca_url, store, result, p);
    if (rv != APR_SUCCESS) goto leave;
    if (key) {
        rv = md_store_save(store, MD_SG_ACCOUNTS, id, ACCT_PEM, MD_SV_PKEY, key, 0, result, p);
        if (rv != APR_SUCCESS && !acct->id) md_store_purge(store, MD_SG_ACCOUNTS, id, p);
        if (rv != APR_SUCCESS) goto leave;
    }
    acct->id = id;
leave:
    return rv;
}

apr_status_t md_acme_acct_load(md_acme_acct_t **pacct, md_pkey_t **pkey, md_store_t *store,
                               const char *id, md_result_t *result, apr_pool_t *p)
{
    md_acme_acct_t *acct = NULL;
    md_json_t *json = NULL;
    void *value = NULL;
    apr_status_t rv;

    *pacct = NULL;
    if (pkey) *pkey = NULL;
    rv = md_store_load(&value, store, MD_SG_ACCOUNTS, id, ACCT_JSON, MD_SV_JSON, result, p);
    if (rv != APR_SUCCESS) goto leave;
    json = value;
    rv = md_acme_acct_from_json(&acct, json, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "the account %s in the store has no url or ca-url", id);
        goto leave;
    }
    acct->id = apr_pstrdup(p, id);
    if (pkey) {
        rv = md_store_load(&value, store, MD_SG_ACCOUNTS, id, ACCT_PEM, MD_SV_PKEY, result, p);
        if (rv != APR_SUCCESS) goto leave;
        *pkey = value;
    }
    *pacct = acct;
leave:
    return rv;
}

static int kid_matches(const char *stored, const char *wanted)
{
    if (!stored || !wanted) return !stored && !wanted;
    return !strcmp(stored, wanted);
}

/* A usable account of the CA: valid, the same EAB kid (or none), and its key is there. */
static int stored_matches(md_store_t *store, const char *id, const char *ca_url, const char *eab_kid,
                          apr_pool_t *p)
{
    void *value = NULL;
    md_json_t *json;
    const char *status, *url;

    if (md_store_load(&value, store, MD_SG_ACCOUNTS, id, ACCT_JSON, MD_SV_JSON, NULL, p) != APR_SUCCESS) {
        return 0;
    }
    json = value;
    url = md_json_gets(json, "ca-url", NULL);
    status = md_json_gets(json, "status", NULL);
    if (!url || strcmp(url, ca_url) || !md_json_gets(json, "url", NULL)) return 0;
    if (status && strcmp(status, "valid")) return 0;
    if (!kid_matches(md_json_gets(json, "eab", "kid", NULL), eab_kid)) return 0;
    return md_store_exists(store, MD_SG_ACCOUNTS, id, ACCT_PEM, p);
}

apr_status_t md_acme_acct_find_stored(const char **pid, md_store_t *store, const char *ca_url,
                                      const char *eab_kid, apr_pool_t *p)
{
    apr_array_header_t *names = NULL;
    apr_pool_t *ptmp = NULL;
    const char *id;
    apr_status_t rv;
    int i;

    *pid = NULL;
    if (!ca_url) return APR_EINVAL;
    rv = md_store_list(&names, store, MD_SG_ACCOUNTS, "*", p);
    if (rv != APR_SUCCESS) return rv;
    rv = apr_pool_create(&ptmp, p);
    if (rv != APR_SUCCESS) return rv;
    rv = APR_ENOENT;
    for (i = 0; i < names->nelts && rv == APR_ENOENT; ++i) {
        id = APR_ARRAY_IDX(names, i, const char *);
        if (stored_matches(store, id, ca_url, eab_kid, ptmp)) {
            *pid = apr_pstrdup(p, id);
            rv = APR_SUCCESS;
        }
        apr_pool_clear(ptmp);
    }
    apr_pool_destroy(ptmp);
    return rv;
}
