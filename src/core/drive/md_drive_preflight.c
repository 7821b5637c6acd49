/* The drive's pre-flight checks: CAA before a new order, each answer's visibility before the CA is told of it. */
#include <string.h>
#include <apr_strings.h>

#include "md_preflight.h"
#include "md_drive_int.h"

static const md_dns_t *dns_of(md_drive_ctx_t *ctx)
{
    md_dns_t *dns = NULL;

    if (ctx->env->dns) return ctx->env->dns;
    return md_dns_resolver(&dns, NULL, ctx->p) == APR_SUCCESS ? dns : NULL;
}

static apr_status_t failed(md_drive_ctx_t *ctx, apr_status_t rv, md_result_t *check)
{
    (void)rv;
    md_result_set(ctx->result, APR_EGENERAL, md_result_text(check, ctx->p));
    md_result_problem_type(ctx->result, MD_PROBLEM_PREFLIGHT);
    md_drive__progress(ctx, "%s", md_result_text(check, ctx->p));
    return ctx->result->status;
}

apr_status_t md_drive__preflight_caa(md_drive_ctx_t *ctx)
{
    apr_array_header_t *ids;
    const md_dns_t *dns;
    md_result_t *check;
    apr_status_t rv;
    int i;

    if (!(ctx->env->preflight & MD_PREFLIGHT_CAA)) return APR_SUCCESS;
    ids = md_acme_caa_identities(ctx->acme, ctx->p);
    if (ids->nelts == 0 || !(dns = dns_of(ctx))) return APR_SUCCESS;
    for (i = 0; i < ctx->md->domains->nelts; ++i) {
        check = md_result_make(ctx->p);
        rv = md_preflight_caa(dns, APR_ARRAY_IDX(ctx->md->domains, i, const char *), ids, check, ctx->p);
        if (rv != APR_SUCCESS) return failed(ctx, rv, check);
        if (check->detail) md_drive__progress(ctx, "%s", check->detail);
    }
    return APR_SUCCESS;
}

apr_status_t md_drive__preflight_answer(md_drive_ctx_t *ctx, const char *type, const char *domain, const char *token,
                                        const char *key_authz)
{
    const md_dns_t *dns;
    md_result_t *check;
    apr_status_t rv;

    if (!(ctx->env->preflight & MD_PREFLIGHT_CHALLENGE) || !(dns = dns_of(ctx))) return APR_SUCCESS;
    check = md_result_make(ctx->p);
    rv = md_preflight_answer(dns, ctx->env->preflight_http, ctx->env->preflight_http_port, type, domain, token,
                             key_authz, check, ctx->p);
    if (rv != APR_SUCCESS) return failed(ctx, rv, check);
    if (check->detail) md_drive__progress(ctx, "%s", check->detail);
    else if (!strcmp(type, "http-01") || !strcmp(type, "dns-01")) {
        md_drive__progress(ctx, "pre-flight: the %s answer for %s is visible", type, domain);
    }
    return APR_SUCCESS;
}
