/* The status model of mod_mdomain: each MD as md-status JSON, read from the store at request time. */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>

#include <openssl/x509.h>

#include "md.h"
#include "md_cert.h"
#include "md_drive.h"
#include "md_job.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"
#include "md_status.h"


/* What md_httpd_status_md works with for one MD. */
typedef struct {
    const md_mod_conf_t *mc;
    const md_managed_t *m;
    md_t *md;                        /* from domains/NAME/md.json, else the configured one */
    md_json_t *json;                 /* the result */
    apr_array_header_t *validities;  /* md_cert_validity_t*, one per certificate (NULL: missing) */
    const char *ari_id;              /* ARI id of the first certificate, or NULL */
    int state;
    const char *state_descr;
    apr_time_t now;
    apr_pool_t *p;
} status_ctx_t;

/* An HTTP date at json.k1[.k2] ("Mon, 23 Nov 2026 10:09:18 GMT", as mod_md shows times). */
static void set_time(apr_time_t t, md_json_t *json, const char *k1, const char *k2, apr_pool_t *p)
{
    md_json_sets(md_time_print_http(t, p), json, k1, k2, NULL);
}

static const char *issuer_oneline(const md_cert_t *cert, apr_pool_t *p)
{
    char *s = X509_NAME_oneline(X509_get_issuer_name(md_cert_get_X509(cert)), NULL, 0);
    const char *copy;

    if (!s) return NULL;
    copy = apr_pstrdup(p, s);
    OPENSSL_free(s);
    return copy;
}

/* One certificate as md-status shows it. */
md_json_t *md_httpd_status_cert(const md_cert_t *cert, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);
    const char *s = NULL;

    if ((s = issuer_oneline(cert, p)) != NULL) md_json_sets(s, json, "issuer-name", NULL);
    set_time(md_cert_get_not_before(cert), json, "valid", "from", p);
    set_time(md_cert_get_not_after(cert), json, "valid", "until", p);
    md_json_sets(md_cert_get_serial_hex(cert, p), json, "serial", NULL);
    md_json_sets(md_cert_get_sha256_fingerprint(cert, p), json, "sha256-fingerprint", NULL);
    s = NULL;
    if (md_cert_get_ari_cert_id(&s, cert, p) == APR_SUCCESS && s) md_json_sets(s, json, "ari-cert-id", NULL);
    return json;
}

/* The number of certificates an MD has: one per key spec, or one per MDCertificateFile. */
static int cert_count(const md_managed_t *m, const md_t *md)
{
    return m->cert_files->nelts ? m->cert_files->nelts : md->pks->nelts;
}

/* The key label of certificate i: the key spec's ("rsa", "secp256r1"), for static files that of its key. */
static const char *cert_key_name(const md_managed_t *m, const md_t *md, int i, const md_cert_t *cert,
                                 apr_pool_t *p)
{
    EVP_PKEY *pkey;

    if (!m->cert_files->nelts) return md_pkey_spec_label(APR_ARRAY_IDX(md->pks, i, md_pkey_spec_t *));
    pkey = cert ? X509_get_pubkey(md_cert_get_X509(cert)) : NULL;
    if (!pkey) return apr_psprintf(p, "cert-%d", i);
    return md_pkey_spec_label(md_pkey_get_spec(md_pkey_wrap(pkey, p), p));
}

/* The first certificate of chain i in GROUP/NAME (or of MDCertificateFile i), NULL when there is none. */
md_cert_t *md_httpd_status_load_cert(const md_mod_conf_t *mc, const md_managed_t *m, const md_t *md,
                                     md_store_group_t group, int i, apr_pool_t *p)
{
    apr_array_header_t *chain = NULL;
    const char *err = NULL;
    apr_status_t rv;

    if (m->cert_files->nelts) {
        if (group != MD_SG_DOMAINS) return NULL;
        rv = md_cert_chain_fload(&chain, APR_ARRAY_IDX(m->cert_files, i, const char *), &err, p);
    }
    else {
        if (!mc->store) return NULL;
        rv = md_store_load((void **)&chain, mc->store, group, md->name, md_cert_aspect(md, i, p), MD_SV_CHAIN,
                           NULL, p);
    }
    if (rv != APR_SUCCESS || !chain || chain->nelts < 1) return NULL;
    return APR_ARRAY_IDX(chain, 0, md_cert_t *);
}

static void state_set(status_ctx_t *ctx, int state, const char *descr)
{
    if (ctx->state == MD_STATUS_COMPLETE || (state == MD_STATUS_EXPIRED && ctx->state == MD_STATUS_INCOMPLETE)) {
        ctx->state = state;
        ctx->state_descr = descr;
    }
}

/* What certificate i says about the MD's state. */
static void cert_state(status_ctx_t *ctx, const md_cert_t *cert, const char *key)
{
    int j;

    if (!cert) {
        state_set(ctx, MD_STATUS_INCOMPLETE, apr_pstrcat(ctx->p, "certificate(", key, ") is missing", NULL));
        return;
    }
    for (j = 0; j < ctx->md->domains->nelts; ++j) {
        if (!md_cert_covers(cert, APR_ARRAY_IDX(ctx->md->domains, j, const char *), ctx->p)) {
            state_set(ctx, MD_STATUS_INCOMPLETE, apr_pstrcat(ctx->p, "certificate(", key, ") does not cover "
                      "all domains", NULL));
            return;
        }
    }
    if (md_cert_get_not_after(cert) < ctx->now) {
        state_set(ctx, MD_STATUS_EXPIRED, apr_pstrcat(ctx->p, "certificate(", key, ") has expired", NULL));
    }
}

/* "cert": {KEY: {...}, ..., "valid": {from, until}} of GROUP/NAME; with ctx given, also the state and the
 * validities of the active set. */
static md_json_t *certs_json(status_ctx_t *ctx, const md_t *md, md_store_group_t group, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);
    apr_time_t from = 0, until = 0;
    md_cert_validity_t *v;
    md_cert_t *cert;
    const char *key;
    int i, n = cert_count(ctx->m, md);

    for (i = 0; i < n; ++i) {
        cert = md_httpd_status_load_cert(ctx->mc, ctx->m, md, group, i, p);
        key = cert_key_name(ctx->m, md, i, cert, p);
        if (group == MD_SG_DOMAINS) {
            cert_state(ctx, cert, key);
            v = cert ? apr_pcalloc(p, sizeof(*v)) : NULL;
            if (v) v->not_before = md_cert_get_not_before(cert), v->not_after = md_cert_get_not_after(cert);
            APR_ARRAY_PUSH(ctx->validities, md_cert_validity_t *) = v;
            if (cert && i == 0) md_cert_get_ari_cert_id(&ctx->ari_id, cert, p);
        }
        if (!cert) continue;
        md_json_setj(md_httpd_status_cert(cert, p), json, key, NULL);
        if (!from || md_cert_get_not_before(cert) > from) from = md_cert_get_not_before(cert);
        if (!until || md_cert_get_not_after(cert) < until) until = md_cert_get_not_after(cert);
    }
    if (from) set_time(from, json, "valid", "from", p);
    if (until) set_time(until, json, "valid", "until", p);
    return json;
}

/* The ARI pick from domains/NAME/ari.json when it is about the active certificate, else 0. */
static apr_time_t ari_pick(status_ctx_t *ctx)
{
    md_json_t *ari = NULL;
    const char *id, *pick;
    apr_time_t t = 0;

    if (!ctx->ari_id || !ctx->mc->store || !ctx->md->ari_renewals) return 0;
    if (md_store_load((void **)&ari, ctx->mc->store, MD_DRIVE_ARI_GROUP, ctx->md->name, MD_DRIVE_ARI_FILE,
                      MD_SV_JSON, NULL,
                      ctx->p) != APR_SUCCESS) return 0;
    id = md_json_gets(ari, "cert-id", NULL);
    pick = md_json_gets(ari, "pick", NULL);
    if (!id || !pick || strcmp(id, ctx->ari_id)) return 0;
    if (md_time_parse_rfc3339(&t, pick) != APR_SUCCESS) return 0;
    return t;
}

/* The MD from domains/NAME/md.json; when that cannot be read the configured one in error state. */
static void load_md(status_ctx_t *ctx)
{
    md_result_t *result = md_result_make(ctx->p);
    apr_status_t rv = APR_ENOENT;

    ctx->state = MD_STATUS_COMPLETE;
    if (ctx->m->cert_files->nelts) {
        ctx->md = md_clone(ctx->m->md, ctx->p);
        return;
    }
    if (ctx->mc->store) rv = md_load(&ctx->md, ctx->mc->store, MD_SG_DOMAINS, ctx->m->md->name, result, ctx->p);
    if (rv == APR_SUCCESS) return;
    ctx->md = md_clone(ctx->m->md, ctx->p);
    ctx->state = MD_STATUS_ERROR;
    ctx->state_descr = ctx->mc->store ? md_result_text(result, ctx->p) : "the store is not open";
}

static const char *require_https_str(int require)
{
    switch (require) {
    case MD_REQUIRE_TEMPORARY: return "temporary";
    case MD_REQUIRE_PERMANENT: return "permanent";
    default: return "off";
    }
}

/* True when the watchdog drives the MD (as drive.c chooses). */
static int md_watched(const md_managed_t *m, const md_t *md)
{
    if (m->cert_files->nelts || md->renew_mode == MD_RENEW_MANUAL) return 0;
    return md->renew_mode == MD_RENEW_ALWAYS || m->servers->nelts > 0;
}

/* The settings part: md.json's keys (secrets removed), then what the configuration says. */
static void settings_json(status_ctx_t *ctx)
{
    const char *url;

    ctx->json = md_to_json(ctx->md, ctx->p);
    md_json_del(ctx->json, "eab", "hmac", NULL);
    md_json_del(ctx->json, "mdomain", NULL);
    md_json_setl(ctx->md->renew_mode, ctx->json, "renew-mode", NULL);
    md_json_setb(ctx->md->must_staple, ctx->json, "must-staple", NULL);
    md_json_sets(require_https_str(ctx->m->require_https), ctx->json, "require-https", NULL);
    md_json_setb(ctx->m->stapling > 0, ctx->json, "stapling", NULL);
    if (!md_json_gets(ctx->json, "ca", "url", NULL) && ctx->md->ca_urls->nelts) {
        url = ctx->md->ca_effective ? ctx->md->ca_effective : APR_ARRAY_IDX(ctx->md->ca_urls, 0, const char *);
        md_json_sets(url, ctx->json, "ca", "url", NULL);
    }
    if (!md_json_is(MD_JSON_TYPE_ARRAY, ctx->json, "ca", "urls", NULL)) {
        md_json_setsa(ctx->md->ca_urls, ctx->json, "ca", "urls", NULL);
    }
}

/* "renewal": the job in staging/NAME (as long as its result is not activated), with the staged certificates. */
static void renewal_json(status_ctx_t *ctx)
{
    md_result_t *result = md_result_make(ctx->p);
    md_job_t *job = NULL;
    md_json_t *json, *log;
    const char *s;

    if (!ctx->mc->store || ctx->m->cert_files->nelts
        || !md_store_exists(ctx->mc->store, MD_SG_STAGING, ctx->md->name, "job.json", ctx->p)) return;
    if (md_job_load(&job, ctx->mc->store, MD_SG_STAGING, ctx->md->name, result, ctx->p) != APR_SUCCESS) {
        md_json_sets(ctx->md->name, ctx->json, "renewal", "name", NULL);
        md_json_setl(result->status, ctx->json, "renewal", "last", "status", NULL);
        md_json_sets(md_result_text(result, ctx->p), ctx->json, "renewal", "last", "detail", NULL);
        return;
    }
    json = md_job_to_json(job, ctx->p);
    log = md_json_getj(json, "log", "entries", NULL);
    log = log ? md_json_clone(log, ctx->p) : md_json_create_array(ctx->p);
    md_json_del(json, "mdomain", NULL);
    md_json_setj(log, json, "log", NULL);
    md_json_setj(certs_json(ctx, ctx->md, MD_SG_STAGING, ctx->p), json, "cert", NULL);
    /* the drive's account and CA, before they reach domains/ at activation */
    if ((s = md_json_gets(job->state, "account", NULL)) && !md_json_gets(ctx->json, "ca", "account", NULL)) {
        md_json_sets(s, ctx->json, "ca", "account", NULL);
    }
    if ((s = md_json_gets(job->state, "ca", NULL)) != NULL && !ctx->md->ca_effective) {
        md_json_sets(s, ctx->json, "ca", "url", NULL);
    }
    md_json_setj(json, ctx->json, "renewal", NULL);
}

/* "renew-at", "watched" and "renew": when the MD is due and whether the watchdog takes care of it. */
static void schedule_json(status_ctx_t *ctx)
{
    apr_time_t due;

    if (ctx->m->cert_files->nelts) return;
    due = md_renew_due(ctx->md, ctx->validities, ari_pick(ctx));
    set_time(due ? due : ctx->now, ctx->json, "renew-at", NULL, ctx->p);
    md_json_setb(md_watched(ctx->m, ctx->md), ctx->json, "watched", NULL);
    md_json_setb(due <= ctx->now, ctx->json, "renew", NULL);
}

md_json_t *md_httpd_status_md(const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p)
{
    status_ctx_t ctx;
    md_json_t *certs = NULL;

    memset(&ctx, 0, sizeof(ctx));
    ctx.mc = mc;
    ctx.m = m;
    ctx.p = p;
    ctx.now = apr_time_now();
    ctx.validities = apr_array_make(p, 2, sizeof(md_cert_validity_t *));
    load_md(&ctx);
    if (ctx.state != MD_STATUS_ERROR) certs = certs_json(&ctx, ctx.md, MD_SG_DOMAINS, p);
    ctx.md->state = (md_state_t)ctx.state;
    ctx.md->state_descr = ctx.state_descr ? ctx.state_descr : md_state_str(ctx.md->state);
    settings_json(&ctx);
    md_json_setl(ctx.state, ctx.json, "state", NULL);
    md_json_sets(ctx.md->state_descr, ctx.json, "state-descr", NULL);
    md_json_setj(certs ? certs : md_json_create(p), ctx.json, "cert", NULL);
    if (ctx.state != MD_STATUS_ERROR) schedule_json(&ctx);
    renewal_json(&ctx);
    return ctx.json;
}

static int by_name(const void *a, const void *b)
{
    const md_managed_t *ma = *(const md_managed_t *const *)a, *mb = *(const md_managed_t *const *)b;

    return strcmp(ma->md->name, mb->md->name);
}

/* The MDs sorted by name (md-status and server-status list them so). */
apr_array_header_t *md_httpd_status_sorted(const md_mod_conf_t *mc, apr_pool_t *p)
{
    apr_array_header_t *mds = apr_array_copy(p, mc->mds);

    if (mds->nelts > 1) qsort(mds->elts, (size_t)mds->nelts, sizeof(md_managed_t *), by_name);
    return mds;
}

/* The MD of that name, or NULL. */
const md_managed_t *md_httpd_status_find(const md_mod_conf_t *mc, const char *name)
{
    const md_managed_t *m;
    int i;

    for (i = 0; mc->mds && i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (!strcmp(m->md->name, name)) return m;
    }
    return NULL;
}

md_json_t *md_httpd_status_all(const md_mod_conf_t *mc, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);
    apr_array_header_t *mds;
    apr_pool_t *ptemp;
    int i;

    md_json_sets(MD_VERSION, json, "version", NULL);
    md_json_setj(md_json_create_array(p), json, "managed-domains", NULL);
    if (!mc->mds) return json;
    mds = md_httpd_status_sorted(mc, p);
    apr_pool_create(&ptemp, p);
    for (i = 0; i < mds->nelts; ++i) {
        apr_pool_clear(ptemp);
        md_json_addj(md_httpd_status_md(mc, APR_ARRAY_IDX(mds, i, const md_managed_t *), ptemp), json,
                     "managed-domains", NULL);
    }
    apr_pool_destroy(ptemp);
    return json;
}
