/* ACME orders: newOrder (DNS/IP identifiers, profile, ARI replaces), refresh, await, finalize. */
#include <string.h>
#include <arpa/inet.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_acme_order_int.h"
#include "md_acme_int.h"
#include "md_encode.h"
#include "md_result.h"

/* An identifier object: IPv4/IPv6 literals become {"type":"ip"} in their canonical text form (RFC 8738),
 * everything else {"type":"dns"} as given (wildcards keep their "*."). */
static md_json_t *identifier_make(const char *name, apr_pool_t *p)
{
    md_json_t *id = md_json_create(p);
    unsigned char addr[16];
    char text[64];
    int family = strchr(name, ':') ? AF_INET6 : AF_INET;

    if (inet_pton(family, name, addr) == 1 && inet_ntop(family, addr, text, sizeof(text))) {
        md_json_sets("ip", id, "type", NULL);
        md_json_sets(text, id, "value", NULL);
    }
    else {
        md_json_sets("dns", id, "type", NULL);
        md_json_sets(name, id, "value", NULL);
    }
    return id;
}

typedef struct {
    const char *s;
    apr_pool_t *p;
} key_join_t;

static int join_key(void *baton, const char *key, md_json_t *value)
{
    key_join_t *join = baton;

    (void)value;
    join->s = join->s ? apr_pstrcat(join->p, join->s, ", ", key, NULL) : apr_pstrdup(join->p, key);
    return 1;
}

/* "a, b, c" for the keys of an object, "none" when there are none. */
static const char *object_keys(const md_json_t *obj, apr_pool_t *p)
{
    key_join_t join;

    join.s = NULL;
    join.p = p;
    if (obj) md_json_iterkey(join_key, &join, obj, NULL);
    return join.s ? join.s : "none";
}

/* Add "profile" to the newOrder payload when the CA offers it; a mandatory one it lacks is an error. */
static apr_status_t profile_add(md_json_t *payload, md_acme_t *acme, const char *profile, int mandatory,
                                md_result_t *result, apr_pool_t *p)
{
    md_json_t *offered = md_acme_profiles(acme);

    if (!profile || !*profile) return APR_SUCCESS;
    if (offered && md_json_has_key(offered, profile, NULL)) return md_json_sets(profile, payload, "profile", NULL);
    if (!mandatory) return APR_SUCCESS;
    md_result_printf(result, APR_EINVAL, "the CA at %s does not offer the certificate profile '%s' "
                     "(offered: %s)", md_acme_url(acme), profile, object_keys(offered, p));
    return APR_EINVAL;
}

static apr_status_t order_payload(md_json_t **ppayload, md_acme_t *acme, const apr_array_header_t *names,
                                  const char *profile, int profile_mandatory, const char *replaces,
                                  md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p), *ids = md_json_create_array(p);
    apr_status_t rv = APR_SUCCESS;
    int i;

    *ppayload = NULL;
    if (!names || names->nelts == 0) {
        md_result_set(result, APR_EINVAL, "an order needs at least one name");
        return APR_EINVAL;
    }
    for (i = 0; i < names->nelts && rv == APR_SUCCESS; ++i) {
        rv = md_json_addj(identifier_make(APR_ARRAY_IDX(names, i, const char *), p), ids, NULL);
    }
    if (rv == APR_SUCCESS) rv = md_json_setj(ids, payload, "identifiers", NULL);
    if (rv == APR_SUCCESS) rv = profile_add(payload, acme, profile, profile_mandatory, result, p);
    if (rv == APR_SUCCESS && replaces && *replaces && md_acme_resource(acme, "renewalInfo")) {
        rv = md_json_sets(replaces, payload, "replaces", NULL);
    }
    if (rv == APR_SUCCESS) *ppayload = payload;
    return rv;
}

apr_status_t md_acme_order_from_json(md_acme_order_t **porder, const char *url, const md_json_t *json,
                                     apr_pool_t *p)
{
    md_acme_order_t *order;

    *porder = NULL;
    if (!json || md_json_type(json) != MD_JSON_TYPE_OBJECT || !md_json_gets(json, "status", NULL)) {
        return APR_EINVAL;
    }
    order = apr_pcalloc(p, sizeof(*order));
    order->url = url ? apr_pstrdup(p, url) : NULL;
    order->json = md_json_clone(json, p);
    order->status = md_json_dups(p, json, "status", NULL);
    order->finalize = md_json_dups(p, json, "finalize", NULL);
    order->certificate = md_json_dups(p, json, "certificate", NULL);
    order->authz_urls = apr_array_make(p, 4, sizeof(const char *));
    md_json_getsa(order->authz_urls, json, "authorizations", NULL);
    *porder = order;
    return APR_SUCCESS;
}

/* Take over an order object the CA sent for url; its authorization, finalize and certificate URLs must be on the
 * CA's origin (md_acme_on_origin, made absolute there). */
static apr_status_t order_update(md_acme_order_t *order, md_acme_t *acme, const char *url, const md_json_t *json,
                                 md_result_t *result, apr_pool_t *p)
{
    md_acme_order_t *fresh;
    apr_status_t rv;
    const char **pu;
    int i;

    rv = md_acme_order_from_json(&fresh, url, json, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "the order at %s is not an order object (no status)", url);
        return rv;
    }
    if (fresh->finalize && !(fresh->finalize = md_acme_on_origin(acme, "the finalize URL", fresh->finalize, result,
                                                                   p))) {
        return APR_EINVAL;
    }
    if (fresh->certificate && !(fresh->certificate = md_acme_on_origin(acme, "the certificate URL",
                                                                         fresh->certificate, result, p))) {
        return APR_EINVAL;
    }
    for (i = 0; i < fresh->authz_urls->nelts; ++i) {
        pu = &APR_ARRAY_IDX(fresh->authz_urls, i, const char *);
        if (!(*pu = md_acme_on_origin(acme, "the authorization URL", *pu, result, p))) return APR_EINVAL;
    }
    *order = *fresh;
    return APR_SUCCESS;
}

apr_status_t md_acme_order_new(md_acme_order_t **porder, md_acme_t *acme, const apr_array_header_t *names,
                               const char *profile, int profile_mandatory, const char *replaces,
                               md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload, *json;
    md_http_response_t *resp;
    md_acme_order_t *order;
    const char *url, *location;
    apr_status_t rv;

    *porder = NULL;
    rv = md_acme_setup(acme, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = order_payload(&payload, acme, names, profile, profile_mandatory, replaces, result, p);
    if (rv != APR_SUCCESS) goto leave;
    url = md_acme_resource(acme, "newOrder");
    rv = md_acme_post_json(&json, &resp, acme, url, payload, NULL, result, p);
    if (rv != APR_SUCCESS) goto leave;
    location = md_http_header(resp, "Location");
    if (!location || !*location) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "the new order from %s has no Location header", url);
        goto leave;
    }
    if (!(location = md_acme_on_origin(acme, "the order URL", location, result, p))) {
        rv = APR_EINVAL;
        goto leave;
    }
    order = apr_pcalloc(p, sizeof(*order));
    rv = order_update(order, acme, location, json, result, p);
    if (rv == APR_SUCCESS) *porder = order;
leave:
    return rv;
}

apr_status_t md_acme_order_refresh(md_acme_order_t *order, md_acme_t *acme, md_result_t *result,
                                   apr_pool_t *p)
{
    md_json_t *json;
    md_http_response_t *resp;
    apr_status_t rv;

    if (!order->url) {
        md_result_set(result, APR_EINVAL, "the order has no URL to look at");
        return APR_EINVAL;
    }
    if (!md_acme_on_origin(acme, "the order URL", order->url, result, p)) return APR_EINVAL;   /* from job.json */
    rv = md_acme_post_json(&json, &resp, acme, order->url, NULL, NULL, result, p);
    if (rv != APR_SUCCESS) return rv;
    return order_update(order, acme, order->url, json, result, p);
}

typedef struct {
    md_acme_order_t *order;
    md_acme_t *acme;
    const char *states;
    int authorized;          /* after the challenges were answered: the authorizations tell why it failed */
    int looks;
    apr_pool_t *p;
} order_poll_t;

/* Why an order whose challenges were answered failed: the first authorization that failed, with its
 * challenge's problem (one request per authorization looked at; one still pending is passed over). APR_SUCCESS
 * when none failed. */
static apr_status_t authz_failure(order_poll_t *ctx, md_result_t *result, apr_pool_t *ptmp)
{
    md_result_t *one = md_result_make(ptmp);
    apr_status_t rv;
    int i;

    for (i = 0; i < ctx->order->authz_urls->nelts; ++i) {
        rv = md_acme_authz_await(NULL, ctx->acme, APR_ARRAY_IDX(ctx->order->authz_urls, i, const char *), 0,
                                 one, ptmp);
        if (rv == APR_EINVAL || (rv != APR_SUCCESS && rv != APR_TIMEUP)) {
            md_result_assign(result, one);
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Where the order's status leaves the wait: done, failed (invalid), or on. */
static apr_status_t order_check(const md_acme_order_t *order, const char *states, md_result_t *result,
                                apr_pool_t *p)
{
    if (md_acme_order__state_in(order->status, states)) return APR_SUCCESS;
    if (!strcmp(order->status, "invalid")) {
        md_acme_order__problem_set(result, APR_EINVAL, md_json_getj(order->json, "error", NULL),
                                   apr_psprintf(p, "the order %s is invalid", order->url), p);
        return APR_EINVAL;
    }
    return APR_EAGAIN;
}

static apr_status_t order_poll(void *baton, const md_http_response_t **presp, const char **pstate,
                               md_result_t *result, apr_pool_t *ptmp)
{
    order_poll_t *ctx = baton;
    md_http_response_t *resp;
    md_json_t *json;
    apr_status_t rv;

    rv = md_acme_post_json(&json, &resp, ctx->acme, ctx->order->url, NULL, NULL, result, ptmp);
    if (rv != APR_SUCCESS) return rv;
    *presp = resp;
    rv = order_update(ctx->order, ctx->acme, ctx->order->url, json, result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    *pstate = ctx->order->status;
    rv = order_check(ctx->order, ctx->states, result, ctx->p);
    ctx->looks++;
    if (ctx->authorized && (rv == APR_EINVAL || (rv == APR_EAGAIN && !strcmp(ctx->order->status, "pending")
                                                  && ctx->looks >= 3))) {
        /* a failed authorization says why; a CA that keeps a failed order pending is found out, too */
        apr_status_t arv = authz_failure(ctx, result, ptmp);
        if (arv != APR_SUCCESS) return arv;
    }
    return rv;
}

static apr_status_t order_await(md_acme_order_t *order, md_acme_t *acme, const char *states, int authorized,
                                int pace, apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p)
{
    order_poll_t ctx;
    apr_status_t rv;

    if (order->status && !authorized) {
        rv = order_check(order, states, result, p);
        if (rv != APR_EAGAIN) return rv;
    }
    if (!order->url) {
        md_result_set(result, APR_EINVAL, "the order has no URL to poll");
        return APR_EINVAL;
    }
    ctx.order = order;
    ctx.acme = acme;
    ctx.states = states;
    ctx.authorized = authorized;
    ctx.looks = 0;
    ctx.p = p;
    return md_acme_order__poll(order_poll, &ctx, acme, pace, timeout,
                               apr_psprintf(p, "the order %s to become %s", order->url, states), result, p);
}

apr_status_t md_acme_order_await(md_acme_order_t *order, md_acme_t *acme, const char *states,
                                 apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p)
{
    return order_await(order, acme, states, 0, MD_ACME_PACE_NONE, timeout, result, p);
}

apr_status_t md_acme_order_await_authorized(md_acme_order_t *order, md_acme_t *acme, apr_interval_time_t timeout,
                                            md_result_t *result, apr_pool_t *p)
{
    return order_await(order, acme, "ready|valid", 1, MD_ACME_PACE_VALIDATION, timeout, result, p);
}

apr_status_t md_acme_order_await_issued(md_acme_order_t *order, md_acme_t *acme, apr_interval_time_t timeout,
                                        md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv;

    if (order->status) {
        rv = order_check(order, "valid", result, p);
        if (rv != APR_EAGAIN) return rv;
    }
    return order_await(order, acme, "valid", 0, MD_ACME_PACE_ISSUANCE, timeout, result, p);
}

apr_status_t md_acme_order_finalize(md_acme_order_t *order, md_acme_t *acme, const md_data_t *csr_der,
                                    md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p), *json;
    md_http_response_t *resp;
    apr_status_t rv;

    if (!order->finalize) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "the order %s has no finalize URL", order->url);
        goto leave;
    }
    rv = md_json_sets(md_b64url_encode(csr_der->data, csr_der->len, p), payload, "csr", NULL);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_acme_post_json(&json, &resp, acme, order->finalize, payload, NULL, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = order_update(order, acme, order->url, json, result, p);
leave:
    return rv;
}
