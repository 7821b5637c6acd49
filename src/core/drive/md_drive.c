/* Driving a renewal: decide whether it is due, run or resume the job step by step, record failures with
 * back-off and CA failover, and activate the staged set when asked. */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_ocsp.h"
#include "md_time.h"
#include "md_renew.h"
#include "md_drive_int.h"

const char *md_drive_outcome_str(md_drive_outcome_t outcome)
{
    switch (outcome) {
    case MD_DRIVE_NOT_DUE: return "not-due";
    case MD_DRIVE_BACKING_OFF: return "backing-off";
    case MD_DRIVE_STAGED: return "staged";
    case MD_DRIVE_ACTIVATED: return "activated";
    case MD_DRIVE_POSTPONED: return "postponed";
    case MD_DRIVE_WAITING: return "waiting";
    case MD_DRIVE_BLOCKED: return "blocked";
    case MD_DRIVE_LEASED: return "leased";
    default: return "failed";
    }
}

void md_drive__progress(md_drive_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = md_result_clean_text(apr_pvsprintf(ctx->p, fmt, ap), MD_RESULT_TEXT_MAX, ctx->p);     /* CA texts */
    va_end(ap);
    md_job_log(ctx->job, "progress", msg, md_clock_now(ctx->env->clock));
    if (ctx->env->log) ctx->env->log(ctx->env->log_baton, ctx->md->name, msg);
}

apr_status_t md_drive__save_job(md_drive_ctx_t *ctx)
{
    return md_job_save(ctx->job, ctx->env->store, MD_SG_STAGING, ctx->result, ctx->p);
}

/* Why certificate i of GROUP/NAME cannot be used ("PATH: what is wrong"), NULL when it can: present, covering the
 * MD's names, with its private key that fits it. A key that cannot be read here (httpd's children may not read
 * domains/ keys) counts as fitting: only the server's own check can tell. *pcert: the certificate, NULL when
 * missing or unreadable. A certificate that is simply not there yet is no problem (*pcert NULL, NULL returned). */
static const char *cert_problem(md_cert_t **pcert, md_store_t *store, md_store_group_t group, const md_t *md, int i,
                                apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    const char *missing = NULL, *path = NULL;
    void *chain = NULL, *key = NULL;
    apr_status_t rv;

    *pcert = NULL;
    rv = md_store_load(&chain, store, group, md->name, md_cert_aspect(md, i, p), MD_SV_CHAIN, result, p);
    if (APR_STATUS_IS_ENOENT(rv)) return NULL;
    if (rv != APR_SUCCESS) return md_result_text(result, p);
    *pcert = APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
    if (!md_cert_covers_all(*pcert, md->domains, &missing, p)) {
        return apr_psprintf(p, "%s does not cover %s", md_cert_aspect(md, i, p), missing);
    }
    rv = md_store_load(&key, store, group, md->name, md_pkey_aspect(md, i, p), MD_SV_PKEY, result, p);
    if (APR_STATUS_IS_EACCES(rv)) return NULL;
    md_store_get_fname(&path, store, group, md->name, md_pkey_aspect(md, i, p), p);
    if (APR_STATUS_IS_ENOENT(rv)) return apr_pstrcat(p, path, " is missing", NULL);
    if (rv != APR_SUCCESS) return md_result_text(result, p);
    if (!md_cert_matches_key(*pcert, key)) {
        return apr_pstrcat(p, path, " is not the key of the certificate in ", md_cert_aspect(md, i, p), NULL);
    }
    return NULL;
}

/* md_drive_validities, and the first certificate or key that is there but cannot be used (NULL: none). */
static void validities(apr_array_header_t **pvalidities, const char **pproblem, md_store_t *store,
                       md_store_group_t group, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *vals = apr_array_make(p, md->pks->nelts, sizeof(md_cert_validity_t *));
    md_cert_validity_t *v;
    const char *problem;
    md_cert_t *cert;
    int i;

    if (pproblem) *pproblem = NULL;
    for (i = 0; i < md->pks->nelts; ++i) {
        v = NULL;
        problem = cert_problem(&cert, store, group, md, i, p);
        if (problem && pproblem && !*pproblem) *pproblem = problem;
        if (cert && !problem && !md_ocsp_is_revoked(NULL, store, md->name, cert, p)) {
            v = apr_pcalloc(p, sizeof(*v));
            v->not_before = md_cert_get_not_before(cert);
            v->not_after = md_cert_get_not_after(cert);
        }
        APR_ARRAY_PUSH(vals, md_cert_validity_t *) = v;
    }
    *pvalidities = vals;
}

apr_status_t md_drive_validities(apr_array_header_t **pvalidities, md_store_t *store, md_store_group_t group,
                                 const md_t *md, apr_pool_t *p)
{
    validities(pvalidities, NULL, store, group, md, p);
    return APR_SUCCESS;
}

/* Fails at once, before the CA is asked, when the registry found no challenge type that can be used here. */
static apr_status_t challenges_possible(md_drive_ctx_t *ctx)
{
    const apr_array_header_t *types = ctx->env->challenge_types;

    if (!types || types->nelts > 0) return APR_SUCCESS;
    md_result_printf(ctx->result, APR_EGENERAL, "none of the challenge types can be used for %s: %s", ctx->md->name,
                     ctx->env->challenge_dropped ? ctx->env->challenge_dropped : "none is configured");
    md_result_hint_set(ctx->result, MD_HINT_RESPONDER);
    return APR_EGENERAL;
}

/* One attempt: all steps, each saving the job. */
static apr_status_t run_job(md_drive_ctx_t *ctx)
{
    apr_status_t rv;
    int i;

    if (ctx->result->status == MD_EHUMAN) return MD_EHUMAN;    /* "renewing" failed hard */
    rv = challenges_possible(ctx);
    if (rv != APR_SUCCESS) return rv;
    if (!md_json_has_key(ctx->job->state, "wait-until", NULL)) {
        md_job_log(ctx->job, "starting", NULL, md_clock_now(ctx->env->clock));
    }
    rv = md_drive__acme_setup(ctx);
    if (rv == APR_SUCCESS) rv = md_drive__account(ctx);
    if (rv == APR_SUCCESS) {
        rv = md_save(ctx->md, ctx->env->store, MD_SG_STAGING, 0, ctx->result, ctx->p);
    }
    for (i = 0; rv == APR_SUCCESS && i < ctx->md->pks->nelts; ++i) {
        rv = md_drive__certificate(ctx, i);
    }
    return rv;
}

/* Neither the back-off nor a CA's Retry-After postpones the next attempt past the moment a certificate enters its
 * warn window (a Retry-After of ten years must not let it expire; inside the window the CA's value does not count):
 * the retry is moved there, and the job's log says so. */
static void retry_next(md_drive_ctx_t *ctx, apr_time_t now, apr_interval_time_t base)
{
    double r = md_clock_jitter(ctx->env->clock);
    apr_time_t own = now + md_renew_retry_delay(ctx->job->errors, ctx->result->problem, base, r, 0, now);
    apr_time_t asked = now + md_renew_retry_delay(ctx->job->errors, ctx->result->problem, base, r,
                                                  ctx->result->ready_at, now);
    apr_array_header_t *vals;
    int capped;

    md_drive_validities(&vals, ctx->env->store, MD_SG_DOMAINS, ctx->md, ctx->p);
    ctx->job->next_run = md_renew_retry_next(ctx->md, vals, own, asked, now, &capped);
    if (!capped) return;
    md_drive__progress(ctx, "Retrying at %s instead of %s%s: %s", md_time_print_rfc3339(ctx->job->next_run, ctx->p),
                       md_time_print_rfc3339(asked, ctx->p), asked > own ? " (the CA's Retry-After)" : "",
                       md_renew_should_warn(ctx->md, vals, now) ? "a certificate is inside its warn window"
                                                                : "a certificate enters its warn window then");
}

/* A failure that needs a human (MD_EHUMAN) blocks the MD until its settings change: the job remembers them. */
static void record_failure(md_drive_ctx_t *ctx, apr_time_t now)
{
    apr_interval_time_t base = ctx->env->retry_base ? ctx->env->retry_base : apr_time_from_sec(5);

    md_json_del(ctx->job->state, "wait-until", NULL);
    if (ctx->result->status == MD_EHUMAN) {
        md_json_sets(md_result_text(ctx->result, ctx->p), ctx->job->state, "blocked", "reason", NULL);
        md_json_sets(md_digest(ctx->md, ctx->p), ctx->job->state, "blocked", "md", NULL);
        md_job_log(ctx->job, "blocked", "a program failed so that a human must act: no automatic retry until the "
                   "MD's settings change, the server restarts or a forced renewal", now);
    }
    ctx->job->errors++;
    ctx->job->finished = 0;
    retry_next(ctx, now, base);
    if (ctx->result->status == MD_EHUMAN) ctx->job->next_run = 0;     /* no retry comes: blocked */
    md_result_hint_apply(ctx->result, ctx->env->hints);
    md_job_set_last(ctx->job, ctx->result, now);
    md_job_save(ctx->job, ctx->env->store, MD_SG_STAGING, NULL, ctx->p);
}

/* The latest notBefore of the certificates this drive staged, all of them matching their keys (chain_store checked):
 * those that do not cover the MD's names count as now, as md_drive_validities counts them. 0: it did not stage all. */
static apr_time_t fresh_valid_from(md_drive_ctx_t *ctx, apr_time_t now)
{
    const char *missing;
    apr_time_t from = 0;
    int i;

    for (i = 0; ctx->fresh && i < ctx->md->pks->nelts; ++i) {
        if (!ctx->fresh[i]) return 0;
        if (!md_cert_covers_all(ctx->fresh[i], ctx->md->domains, &missing, ctx->p)) return now;
        if (md_cert_get_not_before(ctx->fresh[i]) > from) from = md_cert_get_not_before(ctx->fresh[i]);
    }
    return from;
}

/* When the staged set is valid: the latest notBefore of its certificates (now when one cannot be read). The
 * certificates this drive staged are taken from memory; a set staged by an earlier run is read from its files. */
static apr_time_t staged_valid_from(md_drive_ctx_t *ctx, apr_time_t now)
{
    apr_array_header_t *vals;
    const md_cert_validity_t *v;
    apr_time_t from = fresh_valid_from(ctx, now);
    int i;

    if (from) return from;
    md_drive_validities(&vals, ctx->env->store, MD_SG_STAGING, ctx->md, ctx->p);
    for (i = 0; i < vals->nelts; ++i) {
        v = APR_ARRAY_IDX(vals, i, const md_cert_validity_t *);
        if (!v) return now;
        if (v->not_before > from) from = v->not_before;
    }
    return from ? from : now;
}

static apr_status_t record_success(md_drive_ctx_t *ctx, apr_time_t now)
{
    md_result_t *done = md_result_make(ctx->p);
    apr_status_t rv;

    ctx->job->errors = 0;
    ctx->job->finished = 1;
    md_json_del(ctx->job->state, "wait-until", NULL);
    md_json_del(ctx->job->state, "blocked", NULL);
    ctx->job->next_run = 0;
    ctx->job->valid_from = staged_valid_from(ctx, now);
    done->ready_at = ctx->job->valid_from;          /* last: {"status": 0, "valid-from": ...}, as mod_md */
    md_job_set_last(ctx->job, done, now);
    md_job_log(ctx->job, "finished", NULL, now);
    if (ctx->env->told_at_finish) ctx->job->notified = ctx->job->notified_renewed = 1;   /* nobody to tell */
    /* staging/NAME/md.json keeps the state the MD had (as mod_md's): the registry records the new one when the
     * set is activated */
    rv = md_save(ctx->md, ctx->env->store, MD_SG_STAGING, 0, ctx->result, ctx->p);
    ctx->saved = rv == APR_SUCCESS;
    if (rv == APR_SUCCESS) rv = md_drive__save_job(ctx);
    return rv;
}

static apr_status_t activate(md_drive_ctx_t *ctx)
{
    md_t *md = NULL;
    apr_status_t rv;

    rv = md_store_activate(ctx->env->store, ctx->md->name, NULL, NULL, ctx->result, ctx->p);
    if (rv == APR_SUCCESS && ctx->saved) {
        md = md_clone(ctx->md, ctx->p);     /* what this drive saved as the staged md.json, now domains/NAME's */
    }
    else if (rv == APR_SUCCESS) {
        rv = md_load(&md, ctx->env->store, MD_SG_DOMAINS, ctx->md->name, ctx->result, ctx->p);
    }
    if (rv == APR_SUCCESS) {
        md->state = MD_S_COMPLETE;      /* md.json as mod_md's after an activation: complete, no descr */
        md->state_descr = NULL;
        /* not flushed: the registry derives the state from the certificates; lost, md.json says what it said */
        rv = md_save_unflushed(md, ctx->env->store, MD_SG_DOMAINS, ctx->result, ctx->p);
    }
    if (rv == APR_SUCCESS) {
        md_drive__progress(ctx, "Activated the new certificates");
        /* a new certificate: its renewal window is far away, ask the CA about it later */
        md_drive__ari_reset(ctx, md_clock_now(ctx->env->clock) + apr_time_from_sec(6 * 3600));
    }
    return rv;
}

/* The "renewing" event before an attempt: APR_SUCCESS to go on. When the caller says no, the renewal is
 * postponed: the refusal is the job's "last" (as mod_md keeps it) and in its log, it is retried after the first
 * retry delay, and no failure is counted (no back-off, no CA failover). */
static int postponed(md_drive_ctx_t *ctx, apr_time_t *pnext)
{
    apr_interval_time_t base = ctx->env->retry_base ? ctx->env->retry_base : apr_time_from_sec(5);
    apr_time_t now;
    apr_status_t rv;

    if (!ctx->env->event) return 0;
    rv = ctx->env->event(ctx->env->event_baton, ctx->md->name, "renewing", ctx->result, ctx->p);
    if (rv == APR_SUCCESS || rv == MD_EHUMAN) return 0;    /* a hard failure ends the attempt (run_job) */
    now = md_clock_now(ctx->env->clock);
    md_job_record(ctx->job, ctx->result);
    md_result_printf(ctx->result, rv, "renewal postponed: %s", md_result_text(ctx->result, ctx->p));
    md_job_log(ctx->job, "renewal-postponed", ctx->result->detail, now);
    md_job_save(ctx->job, ctx->env->store, MD_SG_STAGING, NULL, ctx->p);
    *pnext = now + base;
    return 1;
}

/* Blocked by a failure that needs a human, as long as the MD's settings are those it failed with. */
static int blocked(md_drive_outcome_t *poutcome, apr_time_t *pnext, md_drive_ctx_t *ctx)
{
    const char *digest = md_json_gets(ctx->job->state, "blocked", "md", NULL);

    if (!digest) return 0;
    if (strcmp(digest, md_digest(ctx->md, ctx->p))) {
        md_json_del(ctx->job->state, "blocked", NULL);     /* the settings changed: try again */
        ctx->job->next_run = 0;
        return 0;
    }
    md_result_set(ctx->result, MD_EHUMAN, md_json_gets(ctx->job->state, "blocked", "reason", NULL));
    *poutcome = MD_DRIVE_BLOCKED;
    *pnext = 0;
    return 1;
}

/* True when a renewal is under way (answers set up, or waiting for a response delay or a poll): it goes on
 * whatever is due now. *puntil: when it may go on (0: now). */
static int under_way(apr_time_t *puntil, md_drive_ctx_t *ctx)
{
    const char *s = md_json_gets(ctx->job->state, "wait-until", NULL);

    *puntil = 0;
    if (s && md_time_parse_rfc3339(puntil, s) != APR_SUCCESS) *puntil = 0;
    return s || md_json_has_key(ctx->job->state, "challenges", NULL);
}

/* Whether the store records an active certificate of the MD revoked (by OCSP or its CRL). */
static int revoked(md_drive_ctx_t *ctx)
{
    md_cert_t *cert = NULL;
    int i;

    for (i = 0; i < ctx->md->pks->nelts; ++i) {
        if (md_store_load((void **)&cert, ctx->env->store, MD_SG_DOMAINS, ctx->md->name,
                          md_cert_aspect(ctx->md, i, ctx->p), MD_SV_CERT, NULL, ctx->p) == APR_SUCCESS
            && md_ocsp_is_revoked(NULL, ctx->env->store, ctx->md->name, cert, ctx->p)) return 1;
    }
    return 0;
}

/* The decision before any request: back off, activate what is staged, or find nothing due. Only ARI may
 * ask the CA here, and only when its cached answer is stale. */
static int decide(md_drive_outcome_t *poutcome, apr_time_t *pnext, md_drive_ctx_t *ctx,
                  const md_drive_flags_t *flags, apr_time_t now)
{
    apr_array_header_t *vals;
    apr_time_t due, pick, check, until;
    const char *problem;

    if (ctx->job->finished) return 0;      /* staged and waiting: activation below (forced: started again above) */
    if (flags->force) {
        md_json_del(ctx->job->state, "blocked", NULL);
        return 0;
    }
    if (blocked(poutcome, pnext, ctx)) return 1;
    if (under_way(&until, ctx)) {
        if (until <= now) return 0;
        *poutcome = MD_DRIVE_WAITING;
        *pnext = until;
        return 1;
    }
    if (ctx->job->errors > 0) {
        if (ctx->job->next_run <= now) return 0;
        *poutcome = MD_DRIVE_BACKING_OFF;
        *pnext = ctx->job->next_run;
        return 1;
    }
    validities(&vals, &problem, ctx->env->store, MD_SG_DOMAINS, ctx->md, ctx->p);
    if (!problem && flags->unusable) problem = "the server cannot use the active certificates";
    if (problem) {
        md_drive__progress(ctx, "Renewing now: %s", problem);
        return 0;
    }
    due = md_renew_due(ctx->md, vals, 0);
    if (due <= now) {
        if (revoked(ctx)) md_drive__progress(ctx, "Renewing now: the certificate is revoked");
        return 0;
    }
    md_drive__ari(&pick, &check, ctx, now);
    if (pick && pick <= now) {
        md_drive__progress(ctx, "Renewing now, inside the window the CA suggests");
        return 0;
    }
    if (pick && pick < due) due = pick;
    *poutcome = MD_DRIVE_NOT_DUE;
    *pnext = (check && check < due) ? check : due;
    return 1;
}

/* The job waits (response delay, a poll): it says until when, and nothing counts as a failure. */
static apr_status_t waiting(md_drive_outcome_t *poutcome, apr_time_t *pnext, md_drive_ctx_t *ctx)
{
    md_json_sets(md_time_print_rfc3339(ctx->wait_until, ctx->p), ctx->job->state, "wait-until", NULL);
    md_result_set(ctx->result, APR_SUCCESS, NULL);
    *poutcome = MD_DRIVE_WAITING;
    *pnext = ctx->wait_until;
    return md_drive__save_job(ctx);
}

/* A forced renewal while a renewed set waits in staging/ (not yet activated; a running server may serve it already):
 * that set goes, keys included, since it may be the one whose key was compromised, and the job starts again. */
static apr_status_t renew_staged_again(md_drive_ctx_t *ctx)
{
    int i;

    for (i = 0; i < ctx->md->pks->nelts; ++i) {
        md_store_remove(ctx->env->store, MD_SG_STAGING, ctx->md->name, md_cert_aspect(ctx->md, i, ctx->p), 1,
                        ctx->p);
        md_store_remove(ctx->env->store, MD_SG_STAGING, ctx->md->name, md_pkey_aspect(ctx->md, i, ctx->p), 1,
                        ctx->p);
    }
    md_json_del(ctx->job->state, "orders", NULL);
    ctx->job->finished = 0;
    md_drive__progress(ctx, "Forced: the renewed set that waited in staging is replaced by a new one");
    return md_drive__save_job(ctx);
}

static apr_status_t drive(md_drive_outcome_t *poutcome, apr_time_t *pnext, md_drive_env_t *env,
                          const char *name, const md_drive_flags_t *flags, md_result_t *result, apr_pool_t *p)
{
    md_drive_ctx_t ctx;
    apr_time_t now = md_clock_now(env->clock);
    apr_status_t rv = APR_SUCCESS;

    memset(&ctx, 0, sizeof(ctx));
    ctx.p = p;
    ctx.env = env;
    ctx.result = result;
    *poutcome = MD_DRIVE_FAILED;
    *pnext = 0;
    if (env->md && !strcmp(env->md->name, name)) ctx.md = md_clone(env->md, p);
    else rv = md_load(&ctx.md, env->store, MD_SG_DOMAINS, name, result, p);
    if (rv == APR_SUCCESS) rv = md_job_load(&ctx.job, env->store, MD_SG_STAGING, name, result, p);
    if (rv == APR_SUCCESS && flags->force && ctx.job->finished) rv = renew_staged_again(&ctx);
    if (rv != APR_SUCCESS) return rv;
    if (decide(poutcome, pnext, &ctx, flags, now)) return APR_SUCCESS;
    if (!ctx.job->finished) {
        if (!md_json_has_key(ctx.job->state, "wait-until", NULL) && postponed(&ctx, pnext)) {
            *poutcome = MD_DRIVE_POSTPONED;
            return APR_SUCCESS;
        }
        rv = run_job(&ctx);
        if (rv == MD_EWAIT) return waiting(poutcome, pnext, &ctx);
        if (rv != APR_SUCCESS) {
            record_failure(&ctx, md_clock_now(env->clock));   /* the back-off counts from the failure */
            *pnext = ctx.job->next_run;
            return rv;
        }
        rv = record_success(&ctx, md_clock_now(env->clock));
        if (rv != APR_SUCCESS) return rv;
    }
    *poutcome = MD_DRIVE_STAGED;
    if (flags->activate) {
        rv = activate(&ctx);
        if (rv != APR_SUCCESS) return rv;
        *poutcome = MD_DRIVE_ACTIVATED;
    }
    return APR_SUCCESS;
}

apr_status_t md_drive(md_drive_outcome_t *poutcome, apr_time_t *pnext, md_drive_env_t *env,
                      const char *name, const md_drive_flags_t *flags, md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv = drive(poutcome, pnext, env, name, flags, result, p);

    if (rv != APR_SUCCESS) md_result_hint_apply(result, env->hints);
    return rv;
}
