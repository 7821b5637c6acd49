/* ACME authorizations and challenges: fetch, choose a challenge type, respond, await, deactivate. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_acme_order_int.h"
#include "md_result.h"

typedef struct {
    md_acme_authz_t *authz;
    apr_pool_t *p;
} chall_ctx_t;

static int challenge_add(void *baton, apr_size_t index, md_json_t *item)
{
    chall_ctx_t *ctx = baton;
    md_acme_challenge_t *ch;

    (void)index;
    if (md_json_type(item) != MD_JSON_TYPE_OBJECT || !md_json_gets(item, "type", NULL)) return 1;
    ch = apr_pcalloc(ctx->p, sizeof(*ch));
    ch->type = md_json_dups(ctx->p, item, "type", NULL);
    ch->url = md_json_dups(ctx->p, item, "url", NULL);
    ch->token = md_json_dups(ctx->p, item, "token", NULL);
    ch->status = md_json_dups(ctx->p, item, "status", NULL);
    if (md_json_is(MD_JSON_TYPE_OBJECT, item, "error", NULL)) {
        ch->error = md_json_clone(md_json_getj(item, "error", NULL), ctx->p);
    }
    APR_ARRAY_PUSH(ctx->authz->challenges, md_acme_challenge_t *) = ch;
    return 1;
}

/* An authorization object as the CA sent it for url. */
static apr_status_t authz_from_json(md_acme_authz_t **pauthz, const char *url, const md_json_t *json,
                                    md_result_t *result, apr_pool_t *p)
{
    md_acme_authz_t *authz;
    chall_ctx_t ctx;
    const char *value;

    *pauthz = NULL;
    value = md_json_gets(json, "identifier", "value", NULL);
    if (md_json_type(json) != MD_JSON_TYPE_OBJECT || !md_json_gets(json, "status", NULL) || !value) {
        md_result_printf(result, APR_EINVAL, "the authorization at %s has no status or identifier", url);
        return APR_EINVAL;
    }
    authz = apr_pcalloc(p, sizeof(*authz));
    authz->url = apr_pstrdup(p, url);
    authz->json = md_json_clone(json, p);
    authz->status = md_json_dups(p, json, "status", NULL);
    authz->id_type = md_json_dups(p, json, "identifier", "type", NULL);
    if (!authz->id_type) authz->id_type = "dns";
    authz->wildcard = md_json_getb(json, "wildcard", NULL);
    if (!strncmp(value, "*.", 2)) {
        authz->wildcard = 1;
        value += 2;
    }
    authz->domain = apr_pstrdup(p, value);
    authz->challenges = apr_array_make(p, 3, sizeof(md_acme_challenge_t *));
    ctx.authz = authz;
    ctx.p = p;
    md_json_itera(challenge_add, &ctx, json, "challenges", NULL);
    *pauthz = authz;
    return APR_SUCCESS;
}

apr_status_t md_acme_authz_get(md_acme_authz_t **pauthz, md_acme_t *acme, const char *url,
                               md_result_t *result, apr_pool_t *p)
{
    md_json_t *json;
    md_http_response_t *resp;
    apr_status_t rv;

    *pauthz = NULL;
    rv = md_acme_post_json(&json, &resp, acme, url, NULL, NULL, result, p);
    if (rv != APR_SUCCESS) return rv;
    return authz_from_json(pauthz, url, json, result, p);
}

/* The identifier for messages: "example.org", "*.example.org". */
static const char *authz_name(const md_acme_authz_t *authz, apr_pool_t *p)
{
    return authz->wildcard ? apr_pstrcat(p, "*.", authz->domain, NULL) : authz->domain;
}

/* "a, b, c" or "none". */
static const char *join_strings(const apr_array_header_t *a, apr_pool_t *p)
{
    const char *s = NULL;
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        s = s ? apr_pstrcat(p, s, ", ", APR_ARRAY_IDX(a, i, const char *), NULL) : APR_ARRAY_IDX(a, i, const char *);
    }
    return s ? s : "none";
}

apr_status_t md_acme_authz_choose(md_acme_challenge_t **pchallenge, const md_acme_authz_t *authz,
                                  const apr_array_header_t *prefs, md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *offered = apr_array_make(p, 4, sizeof(const char *));
    md_acme_challenge_t *ch;
    int i, j;

    *pchallenge = NULL;
    for (i = 0; prefs && i < prefs->nelts; ++i) {
        for (j = 0; j < authz->challenges->nelts; ++j) {
            ch = APR_ARRAY_IDX(authz->challenges, j, md_acme_challenge_t *);
            if (!strcmp(ch->type, APR_ARRAY_IDX(prefs, i, const char *))) {
                *pchallenge = ch;
                return APR_SUCCESS;
            }
        }
    }
    for (j = 0; j < authz->challenges->nelts; ++j) {
        APR_ARRAY_PUSH(offered, const char *) = APR_ARRAY_IDX(authz->challenges, j, md_acme_challenge_t *)->type;
    }
    md_result_printf(result, APR_EINVAL, "no suitable challenge type for %s: the CA offers %s; "
                     "configured are %s", authz_name(authz, p), join_strings(offered, p),
                     join_strings(prefs, p));
    md_result_problem_type(result, MD_PROBLEM_CHALLENGE_MISMATCH);     /* mod_md's name for it */
    md_result_hint_set(result, MD_HINT_RESPONDER);
    return APR_EINVAL;
}

apr_status_t md_acme_challenge_respond(md_acme_t *acme, const md_acme_challenge_t *challenge,
                                       md_result_t *result, apr_pool_t *p)
{
    md_json_t *json;
    md_http_response_t *resp;

    if (!challenge->url) {
        md_result_printf(result, APR_EINVAL, "the %s challenge has no URL", challenge->type);
        return APR_EINVAL;
    }
    return md_acme_post_json(&json, &resp, acme, challenge->url, md_json_create(p), NULL, result, p);
}

/* An invalid authorization: the problem of its failed challenge (or of any challenge with an error). */
static apr_status_t authz_failed(const md_acme_authz_t *authz, md_result_t *result, apr_pool_t *p)
{
    const md_acme_challenge_t *ch, *failed = NULL;
    const char *prefix;
    int i;

    for (i = 0; i < authz->challenges->nelts; ++i) {
        ch = APR_ARRAY_IDX(authz->challenges, i, md_acme_challenge_t *);
        if (!ch->error) continue;
        if (ch->status && !strcmp(ch->status, "invalid")) {
            failed = ch;
            break;
        }
        if (!failed) failed = ch;
    }
    if (failed) {
        prefix = apr_psprintf(p, "the %s challenge for %s failed", failed->type, authz_name(authz, p));
    }
    else {
        prefix = apr_psprintf(p, "the authorization for %s is %s", authz_name(authz, p), authz->status);
    }
    md_acme_order__problem_set(result, APR_EINVAL, failed ? failed->error : NULL, prefix, p);
    return APR_EINVAL;
}

typedef struct {
    md_acme_authz_t *authz;
    md_acme_t *acme;
    const char *url;
    apr_pool_t *p;
} authz_poll_t;

static apr_status_t authz_poll(void *baton, const md_http_response_t **presp, const char **pstate,
                               md_result_t *result, apr_pool_t *ptmp)
{
    authz_poll_t *ctx = baton;
    md_http_response_t *resp;
    md_json_t *json;
    apr_status_t rv;

    rv = md_acme_post_json(&json, &resp, ctx->acme, ctx->url, NULL, NULL, result, ptmp);
    if (rv != APR_SUCCESS) return rv;
    *presp = resp;
    rv = authz_from_json(&ctx->authz, ctx->url, json, result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    *pstate = ctx->authz->status;
    if (!strcmp(ctx->authz->status, "valid")) return APR_SUCCESS;
    if (md_acme_order__state_in(ctx->authz->status, "invalid|deactivated|expired|revoked")) {
        return authz_failed(ctx->authz, result, ctx->p);
    }
    return APR_EAGAIN;    /* pending */
}

apr_status_t md_acme_authz_await(md_acme_authz_t **pauthz, md_acme_t *acme, const char *url,
                                 apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p)
{
    authz_poll_t ctx;
    apr_status_t rv;

    ctx.authz = NULL;
    ctx.acme = acme;
    ctx.url = url;
    ctx.p = p;
    rv = md_acme_order__poll(authz_poll, &ctx, acme, MD_ACME_PACE_NONE, timeout,
                             apr_psprintf(p, "the authorization %s to become valid", url), result, p);
    if (pauthz) *pauthz = ctx.authz;
    return rv;
}

apr_status_t md_acme_authz_deactivate(md_acme_t *acme, const char *url, md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p), *json;
    md_http_response_t *resp;
    apr_status_t rv;

    rv = md_json_sets("deactivated", payload, "status", NULL);
    if (rv != APR_SUCCESS) return rv;
    return md_acme_post_json(&json, &resp, acme, url, payload, NULL, result, p);
}
