/* ACME Renewal Information in the renewal decision: the CA's suggested window for the active certificate,
 * cached in ocsp/NAME/ari.json (MD_DRIVE_ARI_GROUP) so that the CA is asked only when its Retry-After (or our
 * interval) says so. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/rand.h>

#include "md_acme_order.h"
#include "md_cert.h"
#include "md_result.h"
#include "md_time.h"
#include "md_drive_int.h"

#define ARI_CHECK_DEFAULT apr_time_from_sec(6 * 3600)     /* ask again when the CA gives no Retry-After */
#define ARI_CHECK_NO_ARI  apr_time_from_sec(24 * 3600)    /* the CA has no renewalInfo */
#define ARI_CHECK_ERROR   apr_time_from_sec(3600)         /* asking failed */
#define ARI_CHECK_MIN     apr_time_from_sec(60)           /* RFC 9773: a CA's Retry-After below a minute, and */
#define ARI_CHECK_MAX     apr_time_from_sec(24 * 3600)    /* above a day, are treated as a minute and a day */

static double rand01(void)
{
    unsigned int r = 0;

    RAND_bytes((unsigned char *)&r, sizeof(r));
    return (double)r / (double)0xffffffffu;
}

/* The ARI id of the MD's active certificate (of its first key), or NULL. */
static const char *active_cert_id(md_drive_ctx_t *ctx)
{
    void *chain = NULL;
    const char *id = NULL;

    if (md_store_load(&chain, ctx->env->store, MD_SG_DOMAINS, ctx->md->name, md_cert_aspect(ctx->md, 0, ctx->p),
                      MD_SV_CHAIN, NULL, ctx->p) != APR_SUCCESS) {
        return NULL;
    }
    md_cert_get_ari_cert_id(&id, APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *), ctx->p);
    return id;
}

static apr_time_t whole_seconds(apr_time_t t)
{
    return apr_time_from_sec(apr_time_sec(t));
}

static apr_time_t json_time(const md_json_t *json, const char *key)
{
    const char *s = md_json_gets(json, key, NULL);
    apr_time_t t = 0;

    return (s && md_time_parse_rfc3339(&t, s) == APR_SUCCESS) ? t : 0;
}

static void cache_save(md_drive_ctx_t *ctx, const char *cert_id, const md_acme_ari_t *ari, apr_time_t pick,
                       apr_time_t check)
{
    md_json_t *json = md_json_create(ctx->p);

    md_json_sets(cert_id, json, "cert-id", NULL);
    if (ari) {
        md_json_sets(md_time_print_rfc3339(ari->start, ctx->p), json, "window", "start", NULL);
        md_json_sets(md_time_print_rfc3339(ari->end, ctx->p), json, "window", "end", NULL);
        if (ari->explanation_url) {
            md_json_sets(md_result_clean_text(ari->explanation_url, MD_RESULT_TEXT_MAX, ctx->p), json, "explanation",
                         NULL);
        }
    }
    if (pick) md_json_sets(md_time_print_rfc3339(pick, ctx->p), json, "pick", NULL);
    md_json_sets(md_time_print_rfc3339(check, ctx->p), json, "next-check", NULL);
    if (md_store_save(ctx->env->store, MD_DRIVE_ARI_GROUP, ctx->md->name, MD_DRIVE_ARI_FILE, MD_SV_JSON, json, 0,
                      NULL, ctx->p) != APR_SUCCESS) {
        md_drive__progress(ctx, "cannot save the renewal information cache %s/%s/%s",
                           md_store_group_name(MD_DRIVE_ARI_GROUP), ctx->md->name, MD_DRIVE_ARI_FILE);
    }
}

/* Ask the CA; returns the pick (0 when it has nothing) and sets *pcheck. */
static apr_time_t ari_ask(apr_time_t *pcheck, md_drive_ctx_t *ctx, const char *cert_id, apr_time_t now)
{
    md_result_t *result = md_result_make(ctx->p), *saved = ctx->result;
    md_acme_ari_t *ari = NULL;
    apr_time_t pick = 0;
    apr_status_t rv;

    ctx->result = result;      /* ARI trouble never fails a drive: it only informs the decision */
    rv = md_drive__acme_setup(ctx);
    if (rv == APR_SUCCESS) rv = md_acme_ari_get(&ari, ctx->acme, cert_id, result, ctx->p);
    ctx->result = saved;
    if (rv == APR_SUCCESS) {
        pick = md_acme_ari_pick(ari, now, rand01());
        *pcheck = (ari->retry_after > now) ? ari->retry_after : now + ARI_CHECK_DEFAULT;
        if (*pcheck < now + ARI_CHECK_MIN) *pcheck = now + ARI_CHECK_MIN;
        if (*pcheck > now + ARI_CHECK_MAX) {
            md_drive__progress(ctx, "The CA asked to check its renewal information again at %s; checking at %s "
                               "(at most a day later)", md_time_print_rfc3339(*pcheck, ctx->p),
                               md_time_print_rfc3339(now + ARI_CHECK_MAX, ctx->p));
            *pcheck = now + ARI_CHECK_MAX;
        }
        md_drive__progress(ctx, "The CA suggests renewing between %s and %s",
                           md_time_print_rfc3339(ari->start, ctx->p), md_time_print_rfc3339(ari->end, ctx->p));
    }
    else {
        *pcheck = now + (APR_STATUS_IS_ENOTIMPL(rv) ? ARI_CHECK_NO_ARI : ARI_CHECK_ERROR);
    }
    /* in whole seconds, as the cache keeps them: this drive and those answered from the cache decide alike */
    pick = whole_seconds(pick);
    *pcheck = whole_seconds(*pcheck);
    cache_save(ctx, cert_id, rv == APR_SUCCESS ? ari : NULL, pick, *pcheck);
    return pick;
}

void md_drive__ari(apr_time_t *ppick, apr_time_t *pcheck, md_drive_ctx_t *ctx, apr_time_t now)
{
    const char *cert_id;
    md_json_t *cache = NULL;

    *ppick = *pcheck = 0;
    if (!ctx->md->ari_renewals || !(cert_id = active_cert_id(ctx))) return;
    if (md_store_load((void **)&cache, ctx->env->store, MD_DRIVE_ARI_GROUP, ctx->md->name, MD_DRIVE_ARI_FILE,
                      MD_SV_JSON,
                      NULL, ctx->p) == APR_SUCCESS
        && md_json_gets(cache, "cert-id", NULL) && !strcmp(md_json_gets(cache, "cert-id", NULL), cert_id)
        && json_time(cache, "next-check") > now) {
        *ppick = json_time(cache, "pick");
        *pcheck = json_time(cache, "next-check");
        return;
    }
    *ppick = ari_ask(pcheck, ctx, cert_id, now);
}

void md_drive__ari_reset(md_drive_ctx_t *ctx, apr_time_t check_at)
{
    const char *cert_id = NULL;

    if (!ctx->md->ari_renewals) return;
    if (ctx->fresh && ctx->fresh[0]) {          /* the set just activated is the one this drive staged */
        md_cert_get_ari_cert_id(&cert_id, ctx->fresh[0], ctx->p);
    }
    else {
        cert_id = active_cert_id(ctx);
    }
    if (cert_id) cache_save(ctx, cert_id, NULL, 0, check_at);
}
