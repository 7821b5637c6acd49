/* The status model of an MD: mod_md's md-status fields from the registry's state, times as HTTP dates. The module
 * serves it as md-status, the CLI prints it with --json and reads its text output from it. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/x509.h>

#include "md.h"
#include "md_cert.h"
#include "md_reg_ocsp.h"
#include "md_job.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_time.h"

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

md_json_t *md_reg_status_cert(const md_cert_t *cert, apr_pool_t *p)
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

/* {KEY: {...}, ..., "valid": {from, until}}: each certificate, and the span in which all of them are valid. */
static md_json_t *certs_json(const apr_array_header_t *certs, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);
    apr_time_t from = 0, until = 0;
    const md_reg_cert_t *c;
    int i;

    for (i = 0; i < certs->nelts; ++i) {
        c = APR_ARRAY_IDX(certs, i, const md_reg_cert_t *);
        if (!c->cert) continue;
        md_json_setj(md_reg_status_cert(c->cert, p), json, c->key, NULL);
        if (!from || md_cert_get_not_before(c->cert) > from) from = md_cert_get_not_before(c->cert);
        if (!until || md_cert_get_not_after(c->cert) < until) until = md_cert_get_not_after(c->cert);
    }
    if (from) set_time(from, json, "valid", "from", p);
    if (until) set_time(until, json, "valid", "until", p);
    return json;
}

/* The certificates in staging/NAME (those that are there), one per key type; *pcomplete when every key type has a
 * certificate and a key. */
static apr_array_header_t *staged_certs(int *pcomplete, md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *certs = apr_array_make(p, md->pks->nelts, sizeof(md_reg_cert_t *)), *chain;
    md_reg_cert_t *c;
    int i;

    *pcomplete = md_store_exists(reg->store, MD_SG_STAGING, md->name, NULL, p);
    for (i = 0; i < md->pks->nelts; ++i) {
        chain = NULL;
        if (!md_store_exists(reg->store, MD_SG_STAGING, md->name, md_pkey_aspect(md, i, p), p)) *pcomplete = 0;
        if (md_store_load((void **)&chain, reg->store, MD_SG_STAGING, md->name, md_cert_aspect(md, i, p),
                          MD_SV_CHAIN, NULL, p) != APR_SUCCESS || !chain || chain->nelts < 1) {
            *pcomplete = 0;
            continue;
        }
        c = apr_pcalloc(p, sizeof(*c));
        c->key = md_pkey_spec_label(APR_ARRAY_IDX(md->pks, i, md_pkey_spec_t *));
        c->cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
        c->chain = chain;
        APR_ARRAY_PUSH(certs, md_reg_cert_t *) = c;
    }
    return certs;
}

apr_array_header_t *md_reg_staged_certs(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *certs;
    int complete;

    if (!reg->store) return NULL;
    certs = staged_certs(&complete, reg, md, p);
    return complete ? certs : NULL;
}

/* The settings part: md.json's keys without secrets (the EAB HMAC shows as "***") and mdomain's own extensions. */
static md_json_t *settings_json(const md_t *md, apr_pool_t *p)
{
    md_json_t *json = md_to_json(md, p);
    const char *url;

    if (md_json_has_key(json, "eab", "hmac", NULL)) md_json_sets("***", json, "eab", "hmac", NULL);   /* as mod_md */
    md_json_del(json, "mdomain", NULL);
    md_json_setl(md->renew_mode, json, "renew-mode", NULL);
    md_json_setb(md->must_staple, json, "must-staple", NULL);
    if (!md_json_gets(json, "ca", "url", NULL) && md->ca_urls->nelts) {
        url = md->ca_effective ? md->ca_effective : APR_ARRAY_IDX(md->ca_urls, 0, const char *);
        md_json_sets(url, json, "ca", "url", NULL);
    }
    if (!md_json_is(MD_JSON_TYPE_ARRAY, json, "ca", "urls", NULL)) md_json_setsa(md->ca_urls, json, "ca", "urls", NULL);
    return json;
}

/* "renewal": the job in staging/NAME as long as its result is not activated, with the staged certificates and its
 * log as mod_md shows it ({"entries": [...]}). The CA the renewal uses shows as ca.url before it reaches domains/ at
 * activation; the account, as in mod_md, only once md.json records it. */
static void renewal_json(md_json_t *json, md_reg_t *reg, const md_reg_state_t *st, apr_pool_t *p)
{
    md_json_t *job;
    const char *s;
    int complete;

    if (st->job_problem) {
        md_json_sets(st->md->name, json, "renewal", "name", NULL);
        md_json_setl(APR_EINVAL, json, "renewal", "last", "status", NULL);
        md_json_sets(st->job_problem, json, "renewal", "last", "detail", NULL);
        return;
    }
    if (!st->job) return;
    job = md_job_to_json(st->job, p);
    md_json_del(job, "mdomain", NULL);
    if ((s = md_json_gets(st->job->state, "blocked", "reason", NULL)) != NULL) {
        md_json_sets(s, job, "blocked", NULL);     /* no retry until the settings change, a restart or --force */
    }
    md_json_setj(certs_json(staged_certs(&complete, reg, st->md, p), p), job, "cert", NULL);
    if ((s = md_json_gets(st->job->state, "ca", NULL)) != NULL && !st->md->ca_effective) {
        md_json_sets(s, json, "ca", "url", NULL);
    }
    md_json_setj(job, json, "renewal", NULL);
}

/* Each certificate's OCSP response and CRL check, as the store records them. */
static void revocation_json(md_json_t *json, md_reg_t *reg, const md_reg_state_t *st, const md_timeslice_t *window,
                            apr_pool_t *p)
{
    const md_reg_cert_t *c;
    md_json_t *j;
    int i;

    for (i = 0; i < st->certs->nelts; ++i) {
        c = APR_ARRAY_IDX(st->certs, i, const md_reg_cert_t *);
        if (!c->cert) continue;
        if ((j = md_reg_ocsp_status(reg, st->md->name, c->cert, window, p)) != NULL) {
            md_json_setj(j, json, "cert", c->key, "ocsp", NULL);
        }
        if ((j = md_reg_crl_status(reg, st->md->name, c->cert, p)) != NULL) {
            md_json_setj(j, json, "cert", c->key, "revocation", NULL);
        }
    }
}

md_json_t *md_reg_status(md_reg_t *reg, const md_reg_state_t *st, const md_reg_status_opts_t *opts,
                         apr_pool_t *p)
{
    md_t *md = md_clone(st->md, p);
    md_json_t *json;

    md->state = st->state;
    md->state_descr = st->state_descr;
    json = settings_json(md, p);
    if (opts && opts->require_https) md_json_sets(opts->require_https, json, "require-https", NULL);
    if (opts && opts->stapling >= 0) md_json_setb(opts->stapling > 0, json, "stapling", NULL);
    md_json_setl(st->state, json, "state", NULL);
    md_json_sets(st->state_descr, json, "state-descr", NULL);
    md_json_setj(certs_json(st->certs, p), json, "cert", NULL);
    revocation_json(json, reg, st, opts ? opts->stapling_window : NULL, p);
    set_time(st->renew_at ? st->renew_at : st->now, json, "renew-at", NULL, p);
    if (opts && opts->watched >= 0) md_json_setb(opts->watched > 0, json, "watched", NULL);
    md_json_setb(st->due, json, "renew", NULL);
    md_json_setb(st->warn, json, "warn", NULL);
    if (st->deadline) set_time(st->deadline, json, "renew-deadline", NULL, p);
    if (st->attempts_left >= 0) md_json_setl(st->attempts_left, json, "renew-attempts-left", NULL);
    if (st->attempts_low) md_json_setb(1, json, "renew-attempts-low", NULL);
    renewal_json(json, reg, st, p);
    return json;
}

md_json_t *md_reg_status_error(const md_t *md, const char *detail, apr_pool_t *p)
{
    md_t *copy = md_clone(md, p);
    md_json_t *json;

    copy->state = MD_S_ERROR;
    copy->state_descr = detail;
    json = settings_json(copy, p);
    md_json_setl(MD_S_ERROR, json, "state", NULL);
    md_json_sets(detail, json, "state-descr", NULL);
    md_json_setj(md_json_create(p), json, "cert", NULL);
    return json;
}

int md_reg_find(const apr_array_header_t *mds, const char *name)
{
    const md_t *md;
    int pass, i;

    if (!mds || !name || !*name) return -1;
    for (pass = 0; pass < 3; ++pass) {      /* the name, a domain, a wildcard domain */
        for (i = 0; i < mds->nelts; ++i) {
            md = APR_ARRAY_IDX(mds, i, const md_t *);
            if ((pass == 0 && !strcmp(md->name, name)) || (pass == 1 && md_contains(md, name))
                || (pass == 2 && md_covers(md, name))) return i;
        }
    }
    return -1;
}

md_json_t *md_reg_status_frame(apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(MD_VERSION, json, "version", NULL);
    md_json_setj(md_json_create_array(p), json, "managed-domains", NULL);
    return json;
}
