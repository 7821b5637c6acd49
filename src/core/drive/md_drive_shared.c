/* What parallel drives share: one ACME client per CA and EAB key id, the id of the account set on each, and the lock
 * of the account step. */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "md_renew.h"
#include "md_drive_int.h"

struct md_drive_shared_t {
    apr_pool_t *p;
    apr_thread_mutex_t *lock;          /* guards acmes and p */
    apr_thread_mutex_t *account_lock;
    apr_hash_t *acmes;                 /* "CA URL|CA file|EAB kid" -> md_acme_t* */
    apr_hash_t *account_ids;           /* md_acme_t* -> the store id of the account set on it; under account_lock */
};

md_drive_shared_t *md_drive_shared_make(apr_pool_t *p)
{
    md_drive_shared_t *shared = apr_pcalloc(p, sizeof(*shared));

    shared->p = p;
    apr_thread_mutex_create(&shared->lock, APR_THREAD_MUTEX_DEFAULT, p);
    apr_thread_mutex_create(&shared->account_lock, APR_THREAD_MUTEX_DEFAULT, p);
    shared->acmes = apr_hash_make(p);
    shared->account_ids = apr_hash_make(p);
    return shared;
}

apr_pool_t *md_drive__account_pool(md_drive_ctx_t *ctx)
{
    apr_pool_t *p;

    if (!ctx->env->shared) return ctx->p;
    apr_thread_mutex_lock(ctx->env->shared->lock);
    apr_pool_create(&p, ctx->env->shared->p);
    apr_thread_mutex_unlock(ctx->env->shared->lock);
    return p;
}

void md_drive__account_lock(md_drive_ctx_t *ctx, int on)
{
    if (!ctx->env->shared) return;
    if (on) apr_thread_mutex_lock(ctx->env->shared->account_lock);
    else apr_thread_mutex_unlock(ctx->env->shared->account_lock);
}

const char *md_drive__shared_account(md_drive_ctx_t *ctx)
{
    if (!ctx->env->shared || !ctx->acme) return NULL;
    return apr_hash_get(ctx->env->shared->account_ids, &ctx->acme, sizeof(ctx->acme));
}

void md_drive__shared_account_set(md_drive_ctx_t *ctx, const char *id)
{
    md_drive_shared_t *shared = ctx->env->shared;
    md_acme_t **pkey;

    if (!shared || !ctx->acme || !id) return;
    apr_thread_mutex_lock(shared->lock);         /* guards shared->p */
    if (apr_hash_get(shared->account_ids, &ctx->acme, sizeof(ctx->acme))) {
        apr_hash_set(shared->account_ids, &ctx->acme, sizeof(ctx->acme), apr_pstrdup(shared->p, id));
    }
    else {
        pkey = apr_palloc(shared->p, sizeof(*pkey));
        *pkey = ctx->acme;
        apr_hash_set(shared->account_ids, pkey, sizeof(*pkey), apr_pstrdup(shared->p, id));
    }
    apr_thread_mutex_unlock(shared->lock);
}

/* The CA file to trust: the run's (mdomain --ca-file), else the MD's, else the options'. */
static const char *ca_file_of(const md_drive_ctx_t *ctx)
{
    if (ctx->env->ca_file) return ctx->env->ca_file;
    if (ctx->md->ca_file) return ctx->md->ca_file;
    return ctx->env->http_opts.ca_file;
}

static apr_status_t acme_make(md_acme_t **pacme, md_drive_ctx_t *ctx, const char *ca, apr_pool_t *p)
{
    md_http_options_t opts = ctx->env->http_opts;
    md_http_t *http;
    apr_status_t rv;

    opts.ca_file = ca_file_of(ctx);
    if (ctx->md->proxy_url && !opts.proxy_url) opts.proxy_url = ctx->md->proxy_url;    /* the run's proxy first */
    rv = md_http_create(&http, &opts, ctx->env->http_backend, p);
    if (rv == APR_SUCCESS) rv = md_acme_create(pacme, ca, http, p);
    if (rv == APR_SUCCESS) md_acme_set_clock(*pacme, ctx->env->clock);
    if (rv == APR_SUCCESS && ctx->env->poll_min) md_acme_set_polling(*pacme, ctx->env->poll_min, ctx->env->poll_max);
    return rv;
}

/* The shared client for ca, made (and its directory fetched) under the lock the first time. */
static apr_status_t acme_shared(md_acme_t **pacme, md_drive_ctx_t *ctx, const char *ca)
{
    md_drive_shared_t *shared = ctx->env->shared;
    const char *key = apr_pstrcat(ctx->p, ca, "|", ca_file_of(ctx) ? ca_file_of(ctx) : "", "|",
                                  ctx->md->proxy_url ? ctx->md->proxy_url : "", "|",
                                  ctx->md->ca_eab_kid ? ctx->md->ca_eab_kid : "", NULL);
    md_acme_t *acme;
    apr_status_t rv = APR_SUCCESS;

    apr_thread_mutex_lock(shared->lock);
    acme = apr_hash_get(shared->acmes, key, APR_HASH_KEY_STRING);
    if (!acme) {
        apr_pool_t *ap;
        apr_pool_create(&ap, shared->p);       /* the client's own pool: it allocates under its own lock */
        rv = acme_make(&acme, ctx, ca, ap);
        if (rv == APR_SUCCESS) rv = md_acme_setup(acme, ctx->result);
        if (rv == APR_SUCCESS) apr_hash_set(shared->acmes, apr_pstrdup(shared->p, key), APR_HASH_KEY_STRING, acme);
        else {
            /* the next MD makes another: a CA that cannot be reached cost each of 1000 MDs a client (its HTTP
             * handle and the directory's answer) kept until the run's end (the result holds copies) */
            apr_pool_destroy(ap);
            acme = NULL;
        }
    }
    apr_thread_mutex_unlock(shared->lock);
    *pacme = acme;
    return rv;
}

apr_status_t md_drive__acme_setup(md_drive_ctx_t *ctx)
{
    const char *ca = md_renew_ca_for(ctx->md, ctx->job->errors), *prev;
    apr_status_t rv;

    if (ctx->acme) return APR_SUCCESS;
    if (!ca) {
        md_result_printf(ctx->result, APR_EINVAL, "%s has no certificate authority configured", ctx->md->name);
        return APR_EINVAL;
    }
    md_result_activity_set(ctx->result, "contacting the CA");
    ctx->md->ca_effective = ca;
    prev = md_json_gets(ctx->job->state, "ca", NULL);
    if (prev && strcmp(prev, ca)) md_json_del(ctx->job->state, "orders", NULL);   /* at the other CA */
    md_json_sets(ca, ctx->job->state, "ca", NULL);
    if (ctx->env->shared) {
        rv = acme_shared(&ctx->acme, ctx, ca);
    }
    else {
        rv = acme_make(&ctx->acme, ctx, ca, ctx->p);
        if (rv == APR_SUCCESS) rv = md_acme_setup(ctx->acme, ctx->result);
    }
    if (rv != APR_SUCCESS) ctx->acme = NULL;
    return rv;
}
