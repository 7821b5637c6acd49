/* The drive's account step: reuse the stored account of the MD's CA (and EAB), or register a new one. */
#include <apr_strings.h>

#include "md_acme_acct.h"
#include "md_jws.h"
#include "md_drive_int.h"

static apr_status_t account_load(md_drive_ctx_t *ctx, const char *id)
{
    md_acme_acct_t *acct;
    md_pkey_t *key;
    apr_status_t rv;

    rv = md_acme_acct_load(&acct, &key, ctx->env->store, id, ctx->result, md_drive__account_pool(ctx));
    if (rv != APR_SUCCESS) return rv;
    if (!acct->ca_url || strcmp(acct->ca_url, md_acme_url(ctx->acme)) || !acct->url) return APR_ENOENT;
    md_acme_set_account(ctx->acme, acct->url, key);
    ctx->acct_key = key;
    ctx->md->ca_account = apr_pstrdup(ctx->p, id);
    return APR_SUCCESS;
}

static apr_status_t account_register(md_drive_ctx_t *ctx)
{
    md_pkey_spec_t p256 = { MD_PKEY_EC, 0, "P-256" }, *spec = &p256;
    const char *err = NULL;
    md_acme_eab_t *eab = NULL;
    md_acme_acct_t *acct;
    md_pkey_t *key;
    apr_status_t rv;

    if (ctx->md->ca_eab_kid) {
        rv = md_acme_eab_make(&eab, ctx->md->ca_eab_kid, ctx->md->ca_eab_hmac, ctx->result, ctx->p);
        if (rv != APR_SUCCESS) return rv;
    }
    if (ctx->md->account_key
        && md_pkey_spec_parse(&spec, ctx->md->account_key, NULL, &err, ctx->p) != APR_SUCCESS) {
        md_result_printf(ctx->result, APR_EINVAL, "account key type: %s", err);
        return APR_EINVAL;
    }
    md_drive__progress(ctx, "Registering an account at %s", md_acme_url(ctx->acme));
    rv = md_pkey_gen(&key, spec, md_drive__account_pool(ctx));
    if (rv != APR_SUCCESS) {
        md_result_set(ctx->result, rv, "cannot generate an account key");
        return rv;
    }
    rv = md_acme_acct_register(&acct, ctx->acme, key, ctx->md->contacts,
                               ctx->md->ca_agreement != NULL || ctx->env->agree_tos, eab, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    rv = md_acme_acct_save(acct, key, ctx->env->store, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    ctx->acct_key = key;
    ctx->md->ca_account = acct->id;
    md_drive__progress(ctx, "Account %s registered as %s", acct->url, acct->id);
    return APR_SUCCESS;
}

/* The account another drive set on the shared ACME client: the MD records that one (its id kept beside the client),
 * since its orders are signed with it. */
static apr_status_t account_shared(md_drive_ctx_t *ctx, const char *id)
{
    ctx->acct_key = md_acme_account_key(ctx->acme);
    ctx->md->ca_account = apr_pstrdup(ctx->p, id);
    return APR_SUCCESS;
}

static apr_status_t account_find_or_register(md_drive_ctx_t *ctx, const char *id)
{
    apr_status_t rv = APR_ENOENT;

    if (id) rv = account_load(ctx, id);
    if (rv != APR_SUCCESS
        && md_acme_acct_find_stored(&id, ctx->env->store, md_acme_url(ctx->acme), ctx->md->ca_eab_kid,
                                    ctx->p) == APR_SUCCESS) {
        rv = account_load(ctx, id);
    }
    if (rv != APR_SUCCESS) rv = account_register(ctx);
    return rv;
}

apr_status_t md_drive__account(md_drive_ctx_t *ctx)
{
    const char *id = md_json_gets(ctx->job->state, "account", NULL), *shared_id;
    apr_status_t rv;

    md_result_activity_set(ctx->result, "account");
    if (!id) id = ctx->md->ca_account;
    md_drive__account_lock(ctx, 1);
    shared_id = md_acme_account_url(ctx->acme) ? md_drive__shared_account(ctx) : NULL;
    if (shared_id) {
        rv = account_shared(ctx, shared_id);      /* another drive set the CA's account up already */
    }
    else {
        rv = account_find_or_register(ctx, id);
        if (rv == APR_SUCCESS) md_drive__shared_account_set(ctx, ctx->md->ca_account);
    }
    md_drive__account_lock(ctx, 0);
    if (rv != APR_SUCCESS) return rv;
    md_json_sets(ctx->md->ca_account, ctx->job->state, "account", NULL);
    /* not saved on its own: the job is saved with the order it makes next, or by the end of the attempt (a
     * failure, a wait); a drive killed before that finds the account again */
    return md_jwk_thumbprint(&ctx->thumbprint, ctx->acct_key, ctx->p);
}
