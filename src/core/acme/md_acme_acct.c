/* ACME accounts at the CA: register (with EAB), find by key, refresh, contacts, key rollover, deactivate. */
#include <ctype.h>
#include <string.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_jws.h"
#include "md_result.h"

/* "mailto:" in front of every contact without a URI scheme. */
static apr_array_header_t *contacts_uris(const apr_array_header_t *contacts, apr_pool_t *p)
{
    apr_array_header_t *uris = apr_array_make(p, contacts ? contacts->nelts : 1, sizeof(const char *));
    const char *c, *s;
    int i;

    for (i = 0; contacts && i < contacts->nelts; ++i) {
        c = APR_ARRAY_IDX(contacts, i, const char *);
        if (!c || !*c) continue;
        for (s = c; isalnum((unsigned char)*s) || *s == '+' || *s == '-' || *s == '.'; ++s);
        if (*s != ':' || s == c) c = apr_pstrcat(p, "mailto:", c, NULL);
        APR_ARRAY_PUSH(uris, const char *) = c;
    }
    return uris;
}

/* Take status, contacts, orders and the whole object from the CA's account object. */
static void acct_update(md_acme_acct_t *acct, const md_json_t *json, apr_pool_t *p)
{
    const char *s;

    s = md_json_gets(json, "status", NULL);
    if (s) acct->status = apr_pstrdup(p, s);
    if (!acct->status) acct->status = "valid";
    if (md_json_is(MD_JSON_TYPE_ARRAY, json, "contact", NULL)) {
        acct->contacts = apr_array_make(p, 2, sizeof(const char *));
        md_json_getsa(acct->contacts, json, "contact", NULL);
    }
    if (!acct->contacts) acct->contacts = apr_array_make(p, 1, sizeof(const char *));
    s = md_json_gets(json, "orders", NULL);
    if (s) acct->orders = apr_pstrdup(p, s);
    acct->registration = md_json_clone(json, p);
}

/* The account of a newAccount answer: Location is its URL, the body its object; it must be valid. */
static apr_status_t acct_from_answer(md_acme_acct_t **pacct, md_acme_t *acme, const md_http_response_t *resp,
                                     const md_json_t *json, md_result_t *result, apr_pool_t *p)
{
    const char *location = md_http_header(resp, "Location");
    md_acme_acct_t *acct;

    *pacct = NULL;
    if (!location || !*location) {
        md_result_printf(result, APR_EINVAL, "newAccount %s answered HTTP %d without a Location header "
                         "(the account URL)", resp->url, resp->status);
        return APR_EINVAL;
    }
    if (!(location = md_acme_on_origin(acme, "the account URL", location, result, p))) return APR_EINVAL;
    if (md_json_type(json) != MD_JSON_TYPE_OBJECT) {
        md_result_printf(result, APR_EINVAL, "newAccount %s answered with JSON that is not an account object",
                         resp->url);
        return APR_EINVAL;
    }
    acct = apr_pcalloc(p, sizeof(*acct));
    acct->url = apr_pstrdup(p, location);
    acct->ca_url = apr_pstrdup(p, md_acme_url(acme));
    acct_update(acct, json, p);
    if (strcmp(acct->status, "valid")) {
        md_result_printf(result, APR_EACCES, "the account %s at %s is %s", acct->url, acct->ca_url, acct->status);
        return APR_EACCES;
    }
    *pacct = acct;
    return APR_SUCCESS;
}

/* Refuse a registration the CA will refuse: EAB required but none, terms not agreed to. */
static apr_status_t register_check(md_acme_t *acme, int agree_tos, const md_acme_eab_t *eab,
                                   md_result_t *result)
{
    const char *tos = md_acme_tos(acme);

    if (md_acme_eab_required(acme) && !eab) {      /* what the CA would answer, with its problem type */
        md_result_printf(result, APR_EINVAL, "the CA at %s requires an External Account Binding (the key id "
                         "and HMAC key it gives you)", md_acme_url(acme));
        md_result_problem_type(result, MD_ACME_PROBLEM_PREFIX "externalAccountRequired");
        md_result_hint_set(result, MD_HINT_EAB);
        return APR_EINVAL;
    }
    if (tos && !agree_tos) {
        md_result_printf(result, APR_EACCES, "the CA at %s requires agreement to its terms of service %s",
                         md_acme_url(acme), tos);
        md_result_hint_set(result, MD_HINT_TERMS);
        return APR_EACCES;
    }
    return APR_SUCCESS;
}

static apr_status_t register_payload(md_json_t **ppayload, md_acme_t *acme, md_pkey_t *key,
                                     const apr_array_header_t *contacts, int agree_tos,
                                     const md_acme_eab_t *eab, md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p), *jwk = NULL, *binding = NULL;
    apr_array_header_t *uris = contacts_uris(contacts, p);
    apr_status_t rv = APR_SUCCESS;

    *ppayload = NULL;
    if (uris->nelts) md_json_setsa(uris, payload, "contact", NULL);
    if (agree_tos) md_json_setb(1, payload, "termsOfServiceAgreed", NULL);
    if (eab) {
        rv = md_jwk_get(&jwk, key, p);
        if (rv == APR_SUCCESS) {
            rv = md_jws_eab_sign(&binding, jwk, eab->kid, eab->hmac, md_acme_resource(acme, "newAccount"), p);
        }
        if (rv != APR_SUCCESS) {
            md_result_printf(result, rv, "cannot make the External Account Binding for kid '%s'",
                             eab->kid ? eab->kid : "");
            return rv;
        }
        md_json_setj(binding, payload, "externalAccountBinding", NULL);
    }
    *ppayload = payload;
    return rv;
}

apr_status_t md_acme_acct_register(md_acme_acct_t **pacct, md_acme_t *acme, md_pkey_t *key,
                                   const apr_array_header_t *contacts, int agree_tos,
                                   const md_acme_eab_t *eab, md_result_t *result, apr_pool_t *p)
{
    md_acme_req_opts_t opts = { 1, key, NULL };
    md_http_response_t *resp = NULL;
    md_json_t *payload = NULL, *json = NULL;
    md_acme_acct_t *acct = NULL;
    apr_status_t rv;

    *pacct = NULL;
    md_result_activity_set(result, "registering an ACME account");
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = register_check(acme, agree_tos, eab, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = register_payload(&payload, acme, key, contacts, agree_tos, eab, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_acme_post_json(&json, &resp, acme, md_acme_resource(acme, "newAccount"), payload, &opts, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = acct_from_answer(&acct, acme, resp, json, result, p);
    if (rv != APR_SUCCESS) goto leave;
    if (agree_tos) acct->agreement = md_acme_tos(acme) ? apr_pstrdup(p, md_acme_tos(acme)) : "accepted";
    if (eab) acct->eab_kid = apr_pstrdup(p, eab->kid);
    md_acme_set_account(acme, acct->url, key);
    *pacct = acct;
leave:
    return rv;
}

apr_status_t md_acme_acct_find(md_acme_acct_t **pacct, md_acme_t *acme, md_pkey_t *key,
                               md_result_t *result, apr_pool_t *p)
{
    md_acme_req_opts_t opts = { 1, key, NULL };
    md_http_response_t *resp = NULL;
    md_json_t *payload = md_json_create(p), *json = NULL;
    md_acme_acct_t *acct = NULL;
    apr_status_t rv;

    *pacct = NULL;
    md_result_activity_set(result, "looking up the ACME account of a key");
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) goto leave;
    md_json_setb(1, payload, "onlyReturnExisting", NULL);
    rv = md_acme_post_json(&json, &resp, acme, md_acme_resource(acme, "newAccount"), payload, &opts, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = acct_from_answer(&acct, acme, resp, json, result, p);
    if (rv != APR_SUCCESS) goto leave;
    md_acme_set_account(acme, acct->url, key);
    *pacct = acct;
leave:
    return rv;
}

/* Requests on the account are signed with the key set on acme for this very account. */
static apr_status_t check_account_set(const md_acme_acct_t *acct, md_acme_t *acme, md_result_t *result)
{
    const char *kid = md_acme_account_url(acme);

    if (!acct->url || !kid || strcmp(kid, acct->url) || !md_acme_account_key(acme)) {
        md_result_printf(result, APR_EINVAL, "the ACME client is not set up to sign for the account %s "
                         "(md_acme_set_account)", acct->url ? acct->url : "(no URL)");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* POST payload (NULL: POST-as-GET) to the account URL and take the answer into acct. */
static apr_status_t acct_post(md_acme_acct_t *acct, md_acme_t *acme, const md_json_t *payload,
                              md_result_t *result, apr_pool_t *p)
{
    md_json_t *json = NULL;
    apr_status_t rv;

    rv = check_account_set(acct, acme, result);
    if (rv != APR_SUCCESS) return rv;
    if (!md_acme_on_origin(acme, "the account URL", acct->url, result, p)) return APR_EINVAL;   /* from the store */
    rv = md_acme_post_json(&json, NULL, acme, acct->url, payload, NULL, result, p);
    if (rv != APR_SUCCESS) return rv;
    if (md_json_type(json) != MD_JSON_TYPE_OBJECT) {
        md_result_printf(result, APR_EINVAL, "the account %s answered with JSON that is not an account object",
                         acct->url);
        return APR_EINVAL;
    }
    acct_update(acct, json, p);
    return APR_SUCCESS;
}

apr_status_t md_acme_acct_refresh(md_acme_acct_t *acct, md_acme_t *acme, md_result_t *result, apr_pool_t *p)
{
    md_result_activity_set(result, "refreshing the ACME account");
    return acct_post(acct, acme, NULL, result, p);
}

apr_status_t md_acme_acct_update_contacts(md_acme_acct_t *acct, md_acme_t *acme,
                                          const apr_array_header_t *contacts,
                                          md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p);

    md_result_activity_set(result, "updating the contacts of the ACME account");
    md_json_setsa(contacts_uris(contacts, p), payload, "contact", NULL);
    return acct_post(acct, acme, payload, result, p);
}

apr_status_t md_acme_acct_agree(md_acme_acct_t *acct, md_acme_t *acme, const char *tos, md_result_t *result,
                                apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p);
    apr_status_t rv;

    md_result_activity_set(result, "agreeing to the CA's terms of service");
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) return rv;
    if (!tos) tos = md_acme_tos(acme);
    md_json_setb(1, payload, "termsOfServiceAgreed", NULL);
    /* with the contacts it has: some CAs (pebble) refuse an update that changes nothing else as empty */
    if (acct->contacts && acct->contacts->nelts) md_json_setsa(acct->contacts, payload, "contact", NULL);
    rv = acct_post(acct, acme, payload, result, p);
    if (rv == APR_SUCCESS) acct->agreement = tos ? apr_pstrdup(p, tos) : "accepted";
    return rv;
}

apr_status_t md_acme_acct_deactivate(md_acme_acct_t *acct, md_acme_t *acme, md_result_t *result,
                                     apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p);
    apr_status_t rv;

    md_result_activity_set(result, "deactivating the ACME account");
    md_json_sets("deactivated", payload, "status", NULL);
    rv = acct_post(acct, acme, payload, result, p);
    if (rv == APR_SUCCESS) acct->status = "deactivated";
    return rv;
}

/* The inner JWS of keyChange: signed by the new key (with its jwk), {"account", "oldKey"}, url, no nonce. */
static apr_status_t key_change_inner(md_json_t **pinner, const md_acme_acct_t *acct, md_acme_t *acme,
                                     const char *url, md_pkey_t *new_key, md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p), *prot = md_json_create(p), *old_jwk = NULL;
    const char *text;
    apr_status_t rv;

    *pinner = NULL;
    rv = md_jwk_get(&old_jwk, md_acme_account_key(acme), p);
    if (rv != APR_SUCCESS) goto leave;
    md_json_sets(acct->url, payload, "account", NULL);
    md_json_setj(old_jwk, payload, "oldKey", NULL);
    md_json_sets(url, prot, "url", NULL);
    text = md_json_writep(payload, MD_JSON_FMT_COMPACT, p);
    rv = md_jws_sign(pinner, md_data_from_str(text, p), prot, new_key, NULL, p);
leave:
    if (rv != APR_SUCCESS) md_result_printf(result, rv, "cannot sign the key change of account %s", acct->url);
    return rv;
}

apr_status_t md_acme_acct_key_change(md_acme_acct_t *acct, md_acme_t *acme, md_pkey_t *new_key,
                                     md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp = NULL;
    md_json_t *inner = NULL, *new_jwk = NULL;
    const char *url;
    apr_status_t rv;

    md_result_activity_set(result, "changing the key of the ACME account");
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = check_account_set(acct, acme, result);
    if (rv != APR_SUCCESS) goto leave;
    url = md_acme_resource(acme, "keyChange");
    if (!url) {
        rv = APR_ENOTIMPL;
        md_result_printf(result, rv, "the CA at %s does not offer keyChange", md_acme_url(acme));
        goto leave;
    }
    rv = key_change_inner(&inner, acct, acme, url, new_key, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_acme_post(&resp, acme, url, inner, NULL, result, p);
    if (rv != APR_SUCCESS) goto leave;
    md_acme_set_account(acme, acct->url, new_key);
    if (acct->registration && md_jwk_get(&new_jwk, new_key, p) == APR_SUCCESS) {
        md_json_setj(new_jwk, acct->registration, "key", NULL);
    }
leave:
    return rv;
}
