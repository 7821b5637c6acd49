/* The state of an MD: per key type whether its certificate is there, usable and covering, then due, warn, ARI and
 * the staged job, all from one reading of the store at the registry's time. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/x509.h>

#include "md.h"
#include "md_cert.h"
#include "md_drive.h"
#include "md_job.h"
#include "md_ocsp.h"
#include "md_reg.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_time.h"

md_reg_t *md_reg_make(md_store_t *store, const md_clock_t *clock, apr_pool_t *p)
{
    md_reg_t *reg = apr_pcalloc(p, sizeof(*reg));

    reg->store = store;
    reg->clock = clock;
    return reg;
}

apr_time_t md_reg_now(const md_reg_t *reg)
{
    return md_clock_now(reg ? reg->clock : NULL);
}

int md_reg_is_watched(const md_t *md, int is_static, int in_use)
{
    if (md->renew_mode == MD_RENEW_ALWAYS) return 1;
    return (is_static || md->renew_mode == MD_RENEW_AUTO) && in_use;
}

void md_reg_static_md(md_t *md)
{
    if (md->renew_mode == MD_RENEW_AUTO) md->renew_mode = MD_RENEW_MANUAL;
}

/* The first problem found decides the description; an expired certificate counts over a missing name. */
static void note_problem(md_reg_state_t *st, md_state_t state, const char *problem)
{
    if (st->state == MD_S_COMPLETE || (state == MD_S_EXPIRED && st->state == MD_S_INCOMPLETE)) {
        st->state = state;
        st->state_descr = problem;
    }
}

/* The label of a static certificate's key type ("rsa", "secp256r1"), or "cert-N" when it has none. */
static const char *static_key_label(const md_cert_t *cert, int i, apr_pool_t *p)
{
    EVP_PKEY *pkey = cert ? X509_get_pubkey(md_cert_get_X509(cert)) : NULL;

    if (!pkey) return apr_psprintf(p, "cert-%d", i);
    return md_pkey_spec_label(md_pkey_get_spec(md_pkey_wrap(pkey, p), p));
}

/* The path of a file of the MD's in domains/, for messages. */
static const char *domains_path(md_reg_t *reg, const md_t *md, const char *aspect, apr_pool_t *p)
{
    const char *path = NULL;

    if (md_store_get_fname(&path, reg->store, MD_SG_DOMAINS, md->name, aspect, p) != APR_SUCCESS) return aspect;
    return path;
}

/* Certificate i's private key in domains/NAME: there, and with check_keys loadable and belonging to it; else
 * c->problem (the state's words) and c->file_problem (the file's path and what is wrong). */
static void key_check(md_reg_cert_t *c, md_reg_t *reg, const md_reg_state_t *st, const md_reg_state_opts_t *opts,
                      int i, apr_pool_t *p)
{
    const char *aspect = md_pkey_aspect(st->md, i, p);
    md_result_t *result = md_result_make(p);
    md_pkey_t *key = NULL;

    if (!md_store_exists(reg->store, MD_SG_DOMAINS, st->md->name, aspect, p)) {
        c->problem = apr_pstrcat(p, "certificate(", c->key, ") has no private key (", aspect, ")", NULL);
        c->file_problem = apr_pstrcat(p, domains_path(reg, st->md, aspect, p), " is missing, but ", c->file,
                                      " is there", NULL);
        return;
    }
    if (!opts->check_keys) return;
    if (md_store_load((void **)&key, reg->store, MD_SG_DOMAINS, st->md->name, aspect, MD_SV_PKEY, result, p)
        != APR_SUCCESS) {
        c->problem = apr_pstrcat(p, "certificate(", c->key, ") does not match its private key ", aspect, ": ",
                                 md_result_text(result, p), NULL);
        c->file_problem = md_result_text(result, p);
    }
    else if (!md_cert_matches_key(c->cert, key)) {
        c->problem = apr_pstrcat(p, "certificate(", c->key, ") does not match its private key ", aspect, NULL);
        c->file_problem = apr_pstrcat(p, domains_path(reg, st->md, aspect, p), " is not the key of the "
                                      "certificate in ", c->file, NULL);
    }
}

/* Load certificate i: from the static file, or from domains/NAME (with its key's presence). */
static void cert_load(md_reg_cert_t *c, md_reg_t *reg, const md_reg_state_t *st, const md_reg_state_opts_t *opts,
                      int i, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    const char *err = NULL;
    apr_status_t rv;

    if (st->is_static) {
        c->file = APR_ARRAY_IDX(opts->cert_files, i, const char *);
        rv = md_cert_chain_fload(&c->chain, c->file, &err, p);
        c->cert = (rv == APR_SUCCESS && c->chain->nelts) ? APR_ARRAY_IDX(c->chain, 0, md_cert_t *) : NULL;
        c->key = static_key_label(c->cert, i, p);
        if (!c->cert) c->problem = apr_psprintf(p, "%s cannot be read: %s", c->file, err ? err : "no certificate");
        return;
    }
    c->key = md_pkey_spec_label(APR_ARRAY_IDX(st->md->pks, i, md_pkey_spec_t *));
    c->file = md_cert_aspect(st->md, i, p);
    rv = md_store_load((void **)&c->chain, reg->store, MD_SG_DOMAINS, st->md->name, c->file, MD_SV_CHAIN, result, p);
    if (rv == APR_SUCCESS && c->chain->nelts > 0) c->cert = APR_ARRAY_IDX(c->chain, 0, md_cert_t *);
    if (!c->cert) {
        c->chain = NULL;
        if (rv == APR_ENOENT || rv == APR_SUCCESS) {
            c->problem = apr_pstrcat(p, "certificate(", c->key, ") is missing", NULL);
            return;
        }
        c->problem = apr_pstrcat(p, "certificate(", c->key, ") cannot be read: ", md_result_text(result, p), NULL);
        c->file_problem = md_result_text(result, p);
        return;
    }
    key_check(c, reg, st, opts, i, p);
}

/* Judge certificate i: usable (key, validity) and covering (every name). */
static md_reg_cert_t *cert_judge(md_reg_t *reg, md_reg_state_t *st, const md_reg_state_opts_t *opts, int i,
                                 apr_pool_t *p)
{
    md_reg_cert_t *c = apr_pcalloc(p, sizeof(*c));
    apr_time_t early = opts->activation_delay < 0 ? st->now - opts->activation_delay : st->now;

    cert_load(c, reg, st, opts, i, p);
    if (c->cert && !md_ocsp_is_revoked(&c->revoked, reg->store, st->md->name, c->cert, p)) c->revoked = NULL;
    c->key_ok = c->cert && !c->problem;
    if (!c->cert) {
        note_problem(st, MD_S_INCOMPLETE, c->problem);
        return c;
    }
    c->covers = md_cert_covers_all(c->cert, st->md->domains, NULL, p);
    c->usable = !c->problem && (md_cert_is_valid_at(c->cert, st->now) || md_cert_is_valid_at(c->cert, early));
    if (c->problem) {
        note_problem(st, MD_S_INCOMPLETE, c->problem);
    }
    else if (md_cert_get_not_after(c->cert) < st->now) {
        c->problem = apr_pstrcat(p, "certificate(", c->key, ") has expired", NULL);
        note_problem(st, MD_S_EXPIRED, c->problem);
    }
    else if (!c->covers) {
        c->problem = apr_pstrcat(p, "certificate(", c->key, ") does not cover all domains", NULL);
        note_problem(st, MD_S_INCOMPLETE, c->problem);
    }
    else if (!c->usable) {
        c->problem = apr_pstrcat(p, "certificate(", c->key, ") is not valid before ",
                                 md_time_print_http(md_cert_get_not_before(c->cert), p), NULL);
        note_problem(st, MD_S_INCOMPLETE, c->problem);
    }
    return c;
}

/* The cached ARI answer (ocsp/NAME/ari.json) when it is about the first certificate. */
static void ari_read(md_reg_state_t *st, md_reg_t *reg, apr_pool_t *p)
{
    md_json_t *ari = NULL;
    const char *id;

    if (!st->ari_cert_id || !st->md->ari_renewals) return;
    if (md_store_load((void **)&ari, reg->store, MD_DRIVE_ARI_GROUP, st->md->name, MD_DRIVE_ARI_FILE, MD_SV_JSON,
                      NULL, p) != APR_SUCCESS) return;
    id = md_json_gets(ari, "cert-id", NULL);
    if (!id || strcmp(id, st->ari_cert_id)) return;
    if (md_time_parse_rfc3339(&st->ari_pick, md_json_gets(ari, "pick", NULL) ? md_json_gets(ari, "pick", NULL) : "")
        != APR_SUCCESS) st->ari_pick = 0;
    if (!md_json_gets(ari, "window", "start", NULL)
        || md_time_parse_rfc3339(&st->ari_start, md_json_gets(ari, "window", "start", NULL)) != APR_SUCCESS) {
        st->ari_start = 0;
    }
    if (!md_json_gets(ari, "window", "end", NULL)
        || md_time_parse_rfc3339(&st->ari_end, md_json_gets(ari, "window", "end", NULL)) != APR_SUCCESS) {
        st->ari_end = 0;
    }
}

/* The renewal job in staging/NAME, if any. */
static void job_read(md_reg_state_t *st, md_reg_t *reg, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);

    if (!md_store_exists(reg->store, MD_SG_STAGING, st->md->name, "job.json", p)) return;
    if (md_job_load(&st->job, reg->store, MD_SG_STAGING, st->md->name, result, p) != APR_SUCCESS) {
        st->job = NULL;
        st->job_problem = md_result_text(result, p);
        if (!st->file_problem) st->file_problem = st->job_problem;
        return;
    }
    st->staged = st->job->finished;
}

/* Due and warn from the validities; a certificate that is missing, does not cover all names or lacks its private key
 * (or, with check_keys, does not match it) is due now: nothing could serve it until its renewal window. */
static void schedule(md_reg_state_t *st)
{
    md_reg_cert_t *c;
    int i, now_due = 0;

    for (i = 0; i < st->certs->nelts; ++i) {
        c = APR_ARRAY_IDX(st->certs, i, md_reg_cert_t *);
        if (!c->cert || !c->covers || !c->key_ok || c->revoked) now_due = 1;
        if (c->revoked) st->revoked++;
    }
    st->renew_at = now_due ? 0 : md_renew_due(st->md, st->validities, st->ari_pick);
    st->due = st->renew_at <= st->now;
    st->warn = md_renew_should_warn(st->md, st->validities, st->now);
}

/* The deadline, and the attempts left until then: the next one when the back-off allows (or when due), then the
 * back-off's. A blocked MD gets none; a staged set needs none, and static files are not renewed: not counted. */
static void attempts(md_reg_state_t *st, const md_reg_t *reg)
{
    apr_interval_time_t base = reg->retry_base > 0 ? reg->retry_base : apr_time_from_sec(5);
    const md_job_t *job = st->job;
    apr_time_t first;

    st->deadline = md_renew_deadline(st->md, st->validities);
    st->attempts_left = -1;
    if (!st->deadline || st->is_static || st->staged) return;
    if (job && md_json_gets(job->state, "blocked", "reason", NULL)) {
        st->attempts_left = 0;
        st->attempts_low = 1;
        return;
    }
    first = (job && job->errors > 0) ? job->next_run : st->renew_at;
    if (first < st->now) first = st->now;
    st->attempts_left = md_renew_attempts_left(st->md, st->validities, job ? job->errors : 0,
                                               job ? md_json_gets(job->last, "problem", NULL) : NULL, base, first);
    st->attempts_low = st->attempts_left <= MD_RENEW_ATTEMPTS_LOW;
}

md_reg_state_t *md_reg_state(md_reg_t *reg, const md_t *md, const md_reg_state_opts_t *opts, apr_pool_t *p)
{
    static const md_reg_state_opts_t no_opts = { NULL, 0, 0 };
    md_reg_state_t *st = apr_pcalloc(p, sizeof(*st));
    md_cert_validity_t *v;
    md_reg_cert_t *c;
    int i, n;

    if (!opts) opts = &no_opts;
    st->md = md;
    st->now = md_reg_now(reg);
    st->is_static = opts->cert_files && opts->cert_files->nelts > 0;
    st->state = MD_S_COMPLETE;
    n = st->is_static ? opts->cert_files->nelts : md->pks->nelts;
    st->certs = apr_array_make(p, n, sizeof(md_reg_cert_t *));
    st->validities = apr_array_make(p, n, sizeof(md_cert_validity_t *));
    st->complete = 1;
    for (i = 0; i < n; ++i) {
        c = cert_judge(reg, st, opts, i, p);
        APR_ARRAY_PUSH(st->certs, md_reg_cert_t *) = c;
        if (c->file_problem && !st->file_problem) st->file_problem = c->file_problem;
        v = c->cert ? apr_pcalloc(p, sizeof(*v)) : NULL;
        if (v) v->not_before = md_cert_get_not_before(c->cert), v->not_after = md_cert_get_not_after(c->cert);
        APR_ARRAY_PUSH(st->validities, md_cert_validity_t *) = v;
        if (c->usable) st->servable = 1;
        if (!c->usable || !c->covers) st->complete = 0;
        if (i == 0 && c->cert && md_cert_get_ari_cert_id(&st->ari_cert_id, c->cert, p) != APR_SUCCESS) {
            st->ari_cert_id = NULL;
        }
    }
    if (!st->state_descr) st->state_descr = md_state_str(st->state);
    if (!st->is_static) ari_read(st, reg, p);
    job_read(st, reg, p);          /* static ones too: renewed by ACME under MDRenewMode always */
    schedule(st);
    attempts(st, reg);
    return st;
}

void md_reg_state_record(md_reg_t *reg, md_t *md, const apr_array_header_t *cert_files, apr_pool_t *p)
{
    md_reg_state_opts_t opts = { cert_files, 0, 0 };
    md_reg_state_t *st = md_reg_state(reg, md, &opts, p);

    md->state = st->state;
    md->state_descr = st->state == MD_S_COMPLETE ? NULL : apr_pstrdup(p, st->state_descr);
}

apr_status_t md_reg_load_state(md_reg_state_t **pst, md_reg_t *reg, const char *name,
                               const md_reg_state_opts_t *opts, md_result_t *result, apr_pool_t *p)
{
    md_t *md = NULL;
    apr_status_t rv;

    *pst = NULL;
    rv = md_load(&md, reg->store, MD_SG_DOMAINS, name, result, p);
    if (rv == APR_SUCCESS) *pst = md_reg_state(reg, md, opts, p);
    return rv;
}
