/* The drive's authorization step: choose a challenge per authorization, set up all answers, tell the CA,
 * wait for the verdicts, and always tear the answers down again. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_jws.h"
#include "md_drive_int.h"

typedef struct {
    const md_responder_t *responder;
    md_challenge_setup_t setup;
    md_acme_challenge_t *challenge;
    const char *authz_url;
    int is_set_up;
    int triggered;       /* the CA was told already (a resumed job): only wait for its verdict */
} pending_t;

/* The challenge types to offer, in order: the MD's configured ones that a responder can answer, or all
 * that the responders can answer. */
static apr_array_header_t *challenge_prefs(md_drive_ctx_t *ctx)
{
    apr_array_header_t *supported = md_responders_types(ctx->env->responders, ctx->p), *prefs;
    const char *type;
    int i;

    if (!ctx->md->ca_challenges || ctx->md->ca_challenges->nelts == 0) return supported;
    prefs = apr_array_make(ctx->p, 3, sizeof(const char *));
    for (i = 0; i < ctx->md->ca_challenges->nelts; ++i) {
        type = APR_ARRAY_IDX(ctx->md->ca_challenges, i, const char *);
        if (md_responders_for(ctx->env->responders, type)) APR_ARRAY_PUSH(prefs, const char *) = type;
    }
    return prefs;
}

/* The challenge types the MD may use, for messages: "http-01, dns-01" or "any". */
static const char *challenges_str(md_drive_ctx_t *ctx)
{
    const apr_array_header_t *types = ctx->md->ca_challenges;

    if (!types || types->nelts == 0) return "any";
    return apr_array_pstrcat(ctx->p, types, ',');
}

/* "challenge-setup:TYPE:DOMAIN" once the answer is in place and before the CA is told: an error ends the
 * attempt (the answer is torn down with the others). */
static apr_status_t setup_event(md_drive_ctx_t *ctx, const pending_t *pd)
{
    const char *event;
    apr_status_t rv;

    if (!ctx->env->event) return APR_SUCCESS;
    event = apr_pstrcat(ctx->p, "challenge-setup:", pd->setup.type, ":", pd->setup.domain, NULL);
    rv = ctx->env->event(ctx->env->event_baton, ctx->md->name, event, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(ctx->result, rv, "%s refused: %s", event, md_result_text(ctx->result, ctx->p));
    }
    return rv;
}

/* Look at one authorization: nothing to do when valid, else choose its challenge and set it up. */
static apr_status_t prepare(md_drive_ctx_t *ctx, apr_array_header_t *pendings, const char *url,
                            const apr_array_header_t *prefs)
{
    md_acme_authz_t *authz;
    pending_t *pd;
    apr_status_t rv;

    rv = md_acme_authz_get(&authz, ctx->acme, url, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    if (!strcmp(authz->status, "valid")) return APR_SUCCESS;
    if (strcmp(authz->status, "pending")) {
        md_result_printf(ctx->result, APR_EINVAL, "authorization for %s is '%s' at the CA", authz->domain,
                         authz->status);
        return APR_EINVAL;
    }
    pd = apr_pcalloc(ctx->p, sizeof(*pd));
    rv = md_acme_authz_choose(&pd->challenge, authz, prefs, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    pd->responder = md_responders_for(ctx->env->responders, pd->challenge->type);
    pd->authz_url = url;
    pd->triggered = pd->challenge->status && strcmp(pd->challenge->status, "pending") != 0;
    pd->setup.md_name = ctx->md->name;
    pd->setup.type = pd->challenge->type;
    pd->setup.domain = authz->domain;
    pd->setup.token = pd->challenge->token;
    pd->setup.key_authz = md_jws_key_authz(pd->challenge->token, ctx->thumbprint, ctx->p);
    APR_ARRAY_PUSH(pendings, pending_t *) = pd;
    md_drive__progress(ctx, "Setting up %s for %s", pd->setup.type, pd->setup.domain);
    rv = pd->responder->setup(pd->responder->baton, &pd->setup, ctx->result, ctx->p);
    if (rv == APR_SUCCESS) pd->is_set_up = 1;
    if (rv == APR_SUCCESS && !pd->triggered) rv = setup_event(ctx, pd);
    return rv;
}

static void teardown_all(md_drive_ctx_t *ctx, apr_array_header_t *pendings)
{
    md_result_t *ignored = md_result_make(ctx->p);
    pending_t *pd;
    int i;

    for (i = 0; i < pendings->nelts; ++i) {
        pd = APR_ARRAY_IDX(pendings, i, pending_t *);
        if (!pd->is_set_up) continue;
        if (pd->responder->teardown(pd->responder->baton, &pd->setup, ignored, ctx->p) != APR_SUCCESS) {
            md_drive__progress(ctx, "Tearing down %s for %s failed: %s", pd->setup.type, pd->setup.domain,
                               md_result_text(ignored, ctx->p));
        }
    }
}

static apr_status_t validate_all(md_drive_ctx_t *ctx, apr_array_header_t *pendings)
{
    apr_interval_time_t timeout = ctx->env->authz_timeout ? ctx->env->authz_timeout : apr_time_from_sec(300);
    md_acme_authz_t *authz;
    pending_t *pd;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < pendings->nelts && rv == APR_SUCCESS; ++i) {
        pd = APR_ARRAY_IDX(pendings, i, pending_t *);
        if (!pd->triggered) rv = md_acme_challenge_respond(ctx->acme, pd->challenge, ctx->result, ctx->p);
    }
    for (i = 0; i < pendings->nelts && rv == APR_SUCCESS; ++i) {
        pd = APR_ARRAY_IDX(pendings, i, pending_t *);
        rv = md_acme_authz_await(&authz, ctx->acme, pd->authz_url, timeout, ctx->result, ctx->p);
        if (rv == APR_SUCCESS) md_drive__progress(ctx, "%s validated %s", pd->setup.type, pd->setup.domain);
    }
    return rv;
}

apr_status_t md_drive__authorize(md_drive_ctx_t *ctx, const apr_array_header_t *authz_urls)
{
    apr_array_header_t *pendings = apr_array_make(ctx->p, authz_urls->nelts, sizeof(pending_t *));
    apr_array_header_t *prefs = challenge_prefs(ctx);
    apr_status_t rv = APR_SUCCESS;
    int i;

    md_result_activity_set(ctx->result, "authorizing");
    if (prefs->nelts == 0) {
        md_result_printf(ctx->result, APR_ENOTIMPL, "no way to answer the challenges for %s: none of the "
                         "challenge types to use (%s) can be answered here", ctx->md->name, challenges_str(ctx));
        md_result_hint_set(ctx->result, MD_HINT_RESPONDER);
        return APR_ENOTIMPL;
    }
    for (i = 0; i < authz_urls->nelts && rv == APR_SUCCESS; ++i) {
        rv = prepare(ctx, pendings, APR_ARRAY_IDX(authz_urls, i, const char *), prefs);
    }
    if (rv == APR_SUCCESS) rv = validate_all(ctx, pendings);
    teardown_all(ctx, pendings);
    return rv;
}
