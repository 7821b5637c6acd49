/* Driving a renewal: decide whether it is due, run or resume the job step by step, record failures with
 * back-off and CA failover, and activate the staged set when asked. */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/rand.h>

#include "md_cert.h"
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
    default: return "failed";
    }
}

void md_drive__progress(md_drive_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(ctx->p, fmt, ap);
    va_end(ap);
    md_job_log(ctx->job, "progress", msg, md_clock_now(ctx->env->clock));
    if (ctx->env->log) ctx->env->log(ctx->env->log_baton, ctx->md->name, msg);
}

apr_status_t md_drive__save_job(md_drive_ctx_t *ctx)
{
    return md_job_save(ctx->job, ctx->env->store, MD_SG_STAGING, ctx->result, ctx->p);
}

static double rand01(void)
{
    unsigned int r = 0;

    RAND_bytes((unsigned char *)&r, sizeof(r));
    return (double)r / (double)0xffffffffu;
}

/* True when the certificate covers every name of the MD (one that does not is due now, as a missing one). */
static int covers_all(const md_cert_t *cert, const md_t *md, apr_pool_t *p)
{
    int i;

    for (i = 0; i < md->domains->nelts; ++i) {
        if (!md_cert_covers(cert, APR_ARRAY_IDX(md->domains, i, const char *), p)) return 0;
    }
    return 1;
}

/* Certificate i has its private key in GROUP/NAME, and the key fits it. A key that cannot be read here (httpd's
 * children may not read domains/ keys) counts as fitting: only the server's own check can tell. */
static int key_fits(md_store_t *store, md_store_group_t group, const md_t *md, int i, const md_cert_t *cert,
                    apr_pool_t *p)
{
    void *key = NULL;
    apr_status_t rv;

    rv = md_store_load(&key, store, group, md->name, md_pkey_aspect(md, i, p), MD_SV_PKEY, NULL, p);
    if (APR_STATUS_IS_EACCES(rv)) return 1;
    return rv == APR_SUCCESS && md_cert_matches_key(cert, key);
}

apr_status_t md_drive_validities(apr_array_header_t **pvalidities, md_store_t *store, md_store_group_t group,
                                 const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *vals = apr_array_make(p, md->pks->nelts, sizeof(md_cert_validity_t *));
    md_cert_validity_t *v;
    md_cert_t *cert;
    void *chain;
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        v = NULL;
        chain = NULL;
        if (md_store_load(&chain, store, group, md->name, md_cert_aspect(md, i, p), MD_SV_CHAIN, NULL, p)
            == APR_SUCCESS && covers_all(APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *), md, p)
            && key_fits(store, group, md, i, APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *), p)) {
            cert = APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
            v = apr_pcalloc(p, sizeof(*v));
            v->not_before = md_cert_get_not_before(cert);
            v->not_after = md_cert_get_not_after(cert);
        }
        APR_ARRAY_PUSH(vals, md_cert_validity_t *) = v;
    }
    *pvalidities = vals;
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
 * warn window: the retry is moved there, and the job's log says so. Inside the warn window a Retry-After longer than
 * the back-off (backoff_at) is not waited for (the certificate would expire first), and no retry is more than a day
 * off. */
static void retry_cap(md_drive_ctx_t *ctx, apr_time_t now, apr_time_t backoff_at)
{
    apr_array_header_t *vals;
    apr_time_t next = ctx->job->next_run, warn_at;
    int capped;

    md_drive_validities(&vals, ctx->env->store, MD_SG_DOMAINS, ctx->md, ctx->p);
    warn_at = md_renew_warn_at(ctx->md, vals);
    if (warn_at && warn_at <= now && next > backoff_at) {
        md_drive__progress(ctx, "Retrying at %s, not at the CA's Retry-After %s: a certificate is in its warn window, "
                           "it expires soon", md_time_print_rfc3339(backoff_at, ctx->p),
                           md_time_print_rfc3339(next, ctx->p));
        next = ctx->job->next_run = backoff_at;
    }
    next = md_renew_retry_cap(ctx->md, vals, next, now, &capped);
    if (!capped) return;
    md_drive__progress(ctx, "Retrying at %s instead of %s%s: %s", md_time_print_rfc3339(next, ctx->p),
                       md_time_print_rfc3339(ctx->job->next_run, ctx->p),
                       ctx->result->ready_at > now ? " (the CA's Retry-After)" : "",
                       capped == 1 ? "a certificate enters its warn window then"
                                   : "a certificate is in its warn window, it expires soon");
    ctx->job->next_run = next;
}

/* A failure that needs a human (MD_EHUMAN) blocks the MD until its settings change: the job remembers them. */
static void record_failure(md_drive_ctx_t *ctx, apr_time_t now)
{
    apr_interval_time_t base = ctx->env->retry_base ? ctx->env->retry_base : apr_time_from_sec(5);
    double r;

    md_json_del(ctx->job->state, "wait-until", NULL);
    if (ctx->result->status == MD_EHUMAN) {
        md_json_sets(md_result_text(ctx->result, ctx->p), ctx->job->state, "blocked", "reason", NULL);
        md_json_sets(md_digest(ctx->md, ctx->p), ctx->job->state, "blocked", "md", NULL);
        md_job_log(ctx->job, "blocked", "a program failed so that a human must act: no automatic retry until the "
                   "MD's settings change, the server restarts or a forced renewal", now);
    }
    ctx->job->errors++;
    ctx->job->finished = 0;
    r = rand01();
    ctx->job->next_run = now + md_renew_retry_delay(ctx->job->errors, ctx->result->problem, base, r,
                                                    ctx->result->ready_at, now);
    retry_cap(ctx, now, now + md_renew_retry_delay(ctx->job->errors, ctx->result->problem, base, r, 0, now));
    if (ctx->result->status == MD_EHUMAN) ctx->job->next_run = 0;     /* no retry comes: blocked */
    md_result_hint_apply(ctx->result, ctx->env->hints);
    md_job_set_last(ctx->job, ctx->result, now);
    md_job_save(ctx->job, ctx->env->store, MD_SG_STAGING, NULL, ctx->p);
}

/* When the staged set is valid: the latest notBefore of its certificates (now when one cannot be read). */
static apr_time_t staged_valid_from(md_drive_ctx_t *ctx, apr_time_t now)
{
    apr_array_header_t *vals;
    const md_cert_validity_t *v;
    apr_time_t from = 0;
    int i;

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
    /* staging/NAME/md.json keeps the state the MD had (as mod_md's): the registry records the new one when the
     * set is activated */
    rv = md_save(ctx->md, ctx->env->store, MD_SG_STAGING, 0, ctx->result, ctx->p);
    if (rv == APR_SUCCESS) rv = md_drive__save_job(ctx);
    return rv;
}

static apr_status_t activate(md_drive_ctx_t *ctx)
{
    md_t *md = NULL;
    apr_status_t rv;

    rv = md_store_activate(ctx->env->store, ctx->md->name, NULL, NULL, ctx->result, ctx->p);
    if (rv == APR_SUCCESS) rv = md_load(&md, ctx->env->store, MD_SG_DOMAINS, ctx->md->name, ctx->result, ctx->p);
    if (rv == APR_SUCCESS) {
        md->state = MD_S_COMPLETE;      /* md.json as mod_md's after an activation: complete, no descr */
        md->state_descr = NULL;
        rv = md_save(md, ctx->env->store, MD_SG_DOMAINS, 0, ctx->result, ctx->p);
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

/* The decision before any request: back off, activate what is staged, or find nothing due. Only ARI may
 * ask the CA here, and only when its cached answer is stale. */
static int decide(md_drive_outcome_t *poutcome, apr_time_t *pnext, md_drive_ctx_t *ctx,
                  const md_drive_flags_t *flags, apr_time_t now)
{
    apr_array_header_t *vals;
    apr_time_t due, pick, check, until;

    if (ctx->job->finished) return 0;      /* staged and waiting: activation below */
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
    md_drive_validities(&vals, ctx->env->store, MD_SG_DOMAINS, ctx->md, ctx->p);
    due = md_renew_due(ctx->md, vals, 0);
    if (due <= now) return 0;
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

static apr_status_t drive(md_drive_outcome_t *poutcome, apr_time_t *pnext, md_drive_env_t *env,
                          const char *name, const md_drive_flags_t *flags, md_result_t *result, apr_pool_t *p)
{
    md_drive_ctx_t ctx;
    apr_time_t now = md_clock_now(env->clock);
    apr_status_t rv;

    memset(&ctx, 0, sizeof(ctx));
    ctx.p = p;
    ctx.env = env;
    ctx.result = result;
    *poutcome = MD_DRIVE_FAILED;
    *pnext = 0;
    rv = md_load(&ctx.md, env->store, MD_SG_DOMAINS, name, result, p);
    if (rv == APR_SUCCESS) rv = md_job_load(&ctx.job, env->store, MD_SG_STAGING, name, result, p);
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
