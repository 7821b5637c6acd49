/* The drive's certificate step for one key type: key, order (resumed when the job knows it), authorizations,
 * finalize with a CSR, download the chain into staging. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_cert.h"
#include "md_csr.h"
#include "md_time.h"
#include "md_drive_int.h"

/* True when staging already holds a chain for this key that matches it. */
static int staged_already(md_drive_ctx_t *ctx, md_pkey_t *key, const char *cert_aspect)
{
    void *chain = NULL;

    if (!key || md_store_load(&chain, ctx->env->store, MD_SG_STAGING, ctx->md->name, cert_aspect,
                              MD_SV_CHAIN, NULL, ctx->p) != APR_SUCCESS) {
        return 0;
    }
    return md_cert_matches_key(APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *), key);
}

static apr_status_t staged_key(md_pkey_t **pkey, md_drive_ctx_t *ctx, int i, const char *key_aspect)
{
    const md_pkey_spec_t *spec = APR_ARRAY_IDX(ctx->md->pks, i, const md_pkey_spec_t *);
    void *key = NULL;
    apr_status_t rv;

    rv = md_store_load(&key, ctx->env->store, MD_SG_STAGING, ctx->md->name, key_aspect, MD_SV_PKEY, NULL, ctx->p);
    if (rv == APR_SUCCESS) {
        *pkey = key;
        return APR_SUCCESS;
    }
    md_drive__progress(ctx, "Creating %s private key", md_pkey_spec_label(spec));
    rv = md_pkey_gen(pkey, spec, ctx->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(ctx->result, rv, "cannot generate a %s key", md_pkey_spec_label(spec));
        return rv;
    }
    return md_store_save(ctx->env->store, MD_SG_STAGING, ctx->md->name, key_aspect, MD_SV_PKEY, *pkey, 0,
                         ctx->result, ctx->p);
}

/* The ARI id of the active certificate this renewal replaces, or NULL. */
static const char *replaces_id(md_drive_ctx_t *ctx, const char *cert_aspect)
{
    void *chain = NULL;
    const char *id = NULL;

    if (md_store_load(&chain, ctx->env->store, MD_SG_DOMAINS, ctx->md->name, cert_aspect, MD_SV_CHAIN,
                      NULL, ctx->p) != APR_SUCCESS) {
        return NULL;
    }
    md_cert_get_ari_cert_id(&id, APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *), ctx->p);
    return id;
}

/* mod_md's words for the order step, the activity of a failure there and its log line:
 * "Creating new order, key-spec=ec-secp256r1, profile=none, replacing-cert=none". */
static const char *order_activity(const md_pkey_spec_t *spec, const char *profile, const char *replaces,
                                  apr_pool_t *p)
{
    const char *key = spec->type == MD_PKEY_RSA ? apr_psprintf(p, "rsa-%u", spec->bits ? spec->bits : 2048u)
                                                : apr_pstrcat(p, "ec-", spec->curve ? spec->curve : "?", NULL);

    return apr_psprintf(p, "Creating new order, key-spec=%s, profile=%s, replacing-cert=%s", key,
                        profile ? profile : "none", replaces ? replaces : "none");
}

/* The order the job knows for this key (under the key's name in the store), if the CA still has it usable;
 * else a new one. */
static apr_status_t order_get(md_acme_order_t **porder, md_drive_ctx_t *ctx, const md_pkey_spec_t *spec,
                              const char *cert_aspect)
{
    const char *keyname = md_pkey_spec_name(spec, ctx->p);
    const char *url = md_json_gets(ctx->job->state, "orders", keyname, NULL);
    md_result_t *ignored = md_result_make(ctx->p);
    const char *replaces, *activity;
    md_acme_order_t *order;
    apr_status_t rv;

    if (url) {
        order = apr_pcalloc(ctx->p, sizeof(*order));
        order->url = url;
        if (md_acme_order_refresh(order, ctx->acme, ignored, ctx->p) == APR_SUCCESS && order->status
            && strcmp(order->status, "invalid")) {
            md_drive__progress(ctx, "Resuming order %s (%s)", url, order->status);
            *porder = order;
            return APR_SUCCESS;
        }
    }
    replaces = ctx->md->ari_renewals ? replaces_id(ctx, cert_aspect) : NULL;
    activity = order_activity(spec, ctx->md->profile, replaces, ctx->p);
    md_result_activity_set(ctx->result, activity);
    rv = md_drive__preflight_caa(ctx);
    if (rv != APR_SUCCESS) return rv;
    md_drive__progress(ctx, "%s", activity);
    rv = md_acme_order_new(&order, ctx->acme, ctx->md->domains, ctx->md->profile, ctx->md->profile_mandatory,
                           replaces, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    md_json_sets(order->url, ctx->job->state, "orders", keyname, NULL);
    *porder = order;
    return md_drive__save_job(ctx);
}

static apr_status_t order_complete(md_drive_ctx_t *ctx, md_acme_order_t *order, md_pkey_t *key)
{
    apr_interval_time_t timeout = ctx->env->order_timeout ? ctx->env->order_timeout : apr_time_from_sec(300);
    md_data_t *csr;
    apr_status_t rv = APR_SUCCESS;

    if (!strcmp(order->status, "pending")) {
        rv = md_drive__authorize(ctx, order);     /* the order is ready (or valid) when it succeeds */
    }
    if (rv == APR_SUCCESS && !strcmp(order->status, "ready")) {
        md_result_activity_set(ctx->result, "finalizing");
        md_drive__progress(ctx, "Submitting the CSR");
        rv = md_csr_make(&csr, ctx->md->domains, ctx->md->must_staple, key, ctx->p);
        if (rv != APR_SUCCESS) md_result_set(ctx->result, rv, "cannot create the CSR");
        if (rv == APR_SUCCESS) rv = md_acme_order_finalize(order, ctx->acme, csr, ctx->result, ctx->p);
    }
    if (rv == APR_SUCCESS && strcmp(order->status, "valid")) {
        rv = md_acme_order_await_issued(order, ctx->acme, timeout, ctx->result, ctx->p);
    }
    return rv;
}

static apr_status_t chain_store(md_drive_ctx_t *ctx, md_acme_order_t *order, md_pkey_t *key, int i,
                                const char *cert_aspect)
{
    apr_array_header_t *chain;
    md_cert_t *cert;
    apr_status_t rv;

    md_result_activity_set(ctx->result, "downloading");
    rv = md_acme_cert_fetch_preferred(&chain, ctx->acme, order->certificate, ctx->md->preferred_chain,
                                      ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
    if (!md_cert_matches_key(cert, key)) {
        md_result_printf(ctx->result, APR_EINVAL, "the certificate from %s is not for our key", order->certificate);
        return APR_EINVAL;
    }
    md_drive__progress(ctx, "Certificate %s valid until %s", md_cert_get_serial_hex(cert, ctx->p),
                       md_time_print_http(md_cert_get_not_after(cert), ctx->p));
    rv = md_store_save(ctx->env->store, MD_SG_STAGING, ctx->md->name, cert_aspect, MD_SV_CHAIN, chain, 0,
                       ctx->result, ctx->p);
    /* the staged key and chain durable at once (staging's writes are not flushed one by one) */
    if (rv == APR_SUCCESS) rv = md_store_flush(ctx->env->store, MD_SG_STAGING, ctx->md->name, ctx->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(ctx->result, rv, "cannot flush the staged set of %s", ctx->md->name);
        return rv;
    }
    if (!ctx->fresh) ctx->fresh = apr_pcalloc(ctx->p, (apr_size_t)ctx->md->pks->nelts * sizeof(md_cert_t *));
    ctx->fresh[i] = cert;
    return APR_SUCCESS;
}

apr_status_t md_drive__certificate(md_drive_ctx_t *ctx, int i)
{
    const md_pkey_spec_t *spec = APR_ARRAY_IDX(ctx->md->pks, i, const md_pkey_spec_t *);
    const char *key_aspect = md_pkey_aspect(ctx->md, i, ctx->p);
    const char *cert_aspect = md_cert_aspect(ctx->md, i, ctx->p);
    md_acme_order_t *order;
    md_pkey_t *key = NULL;
    apr_status_t rv;

    rv = staged_key(&key, ctx, i, key_aspect);
    if (rv != APR_SUCCESS) return rv;
    if (staged_already(ctx, key, cert_aspect)) return APR_SUCCESS;
    md_result_activity_set(ctx->result, "ordering");
    rv = order_get(&order, ctx, spec, cert_aspect);
    if (rv == APR_SUCCESS) rv = order_complete(ctx, order, key);
    if (rv == APR_SUCCESS) rv = chain_store(ctx, order, key, i, cert_aspect);
    return rv;
}
