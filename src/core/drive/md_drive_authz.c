/* The drive's authorization step: choose a challenge per authorization, set up all answers (polling those that are
 * not yet visible), wait out the response delays without blocking (the job records each answer and when it may go
 * on: MD_EWAIT), then tell the CA, wait for its verdicts, and always tear the answers down again. */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_order.h"
#include "md_jws.h"
#include "md_time.h"
#include "md_drive_int.h"

/* A "needs-poll" answer is asked again after the type's response delay, or this long without one. */
#define POLL_INTERVAL_DEF apr_time_from_sec(10)

typedef struct {
    const md_responder_t *responder;
    md_challenge_setup_t setup;
    md_acme_challenge_t *challenge;  /* NULL for an answer recorded by an earlier run whose authz is done */
    const char *authz_url;
    md_json_t *rec;                  /* its record in the job: type, domain, token, state, at, since */
    int triggered;                   /* the CA was told already (a resumed job): only wait for its verdict */
} pending_t;

/* The job's records of answers that are set up: {AUTHZ_URL: {...}}. */
static md_json_t *records(md_drive_ctx_t *ctx)
{
    md_json_t *recs = md_json_getj(ctx->job->state, "challenges", NULL);

    if (!recs || !md_json_is(MD_JSON_TYPE_OBJECT, recs, NULL)) {
        md_json_setj(md_json_create(ctx->p), ctx->job->state, "challenges", NULL);
        recs = md_json_getj(ctx->job->state, "challenges", NULL);
    }
    return recs;
}

static apr_time_t rec_time(const md_json_t *rec, const char *key)
{
    const char *s = md_json_gets(rec, key, NULL);
    apr_time_t t = 0;

    return (s && md_time_parse_rfc3339(&t, s) == APR_SUCCESS) ? t : 0;
}

/* The record's state and the time it may go on; a time in the future is rounded up to the second (the record's
 * resolution), so a wait is never cut short. */
static void rec_set(pending_t *pd, const char *state, apr_time_t at, int future, apr_pool_t *p)
{
    apr_time_t whole = apr_time_from_sec(apr_time_sec(at));

    if (!future) whole = at;
    md_json_sets(state, pd->rec, "state", NULL);
    md_json_sets(md_time_print_rfc3339(whole < at ? whole + apr_time_from_sec(1) : at, p), pd->rec, "at", NULL);
}

/* The challenge types to offer for one identifier, in order: the registry's choice, else the MD's configured ones,
 * else all; of those the ones a responder can answer for it, first those whose responder serves it (a tls-alpn-01
 * answer for a name without acme-tls/1 would fail), then those a responder answers only for want of a better. */
static apr_array_header_t *challenge_prefs(md_drive_ctx_t *ctx, const char *domain)
{
    const md_responders_t *rs = ctx->env->responders;
    const apr_array_header_t *types = ctx->env->challenge_types ? ctx->env->challenge_types : ctx->md->ca_challenges;
    apr_array_header_t *prefs = apr_array_make(ctx->p, 3, sizeof(const char *)), *later;
    const char *type;
    int i;

    if (!types || types->nelts == 0) types = md_responders_types_for(rs, domain, ctx->p);
    later = apr_array_make(ctx->p, 3, sizeof(const char *));
    for (i = 0; i < types->nelts; ++i) {
        type = APR_ARRAY_IDX(types, i, const char *);
        if (md_responders_serving(rs, type, domain)) APR_ARRAY_PUSH(prefs, const char *) = type;
        else if (md_responders_for_domain(rs, type, domain)) APR_ARRAY_PUSH(later, const char *) = type;
    }
    apr_array_cat(prefs, later);
    return prefs;
}

/* The challenge types the MD may use, for messages: "http-01,dns-01" or "any". */
static const char *challenges_str(md_drive_ctx_t *ctx)
{
    const apr_array_header_t *types = ctx->env->challenge_types ? ctx->env->challenge_types : ctx->md->ca_challenges;

    if (!types || types->nelts == 0) return "any";
    return apr_array_pstrcat(ctx->p, types, ',');
}

/* An answer could not be set up (its program failed, or the challenge-setup message said no): mod_md's problem
 * type challenge-setup-failure, with its status for it unless the failure blocks the MD. */
static apr_status_t setup_failed(md_drive_ctx_t *ctx, apr_status_t rv)
{
    if (rv != MD_EHUMAN && rv != APR_TIMEUP) rv = APR_EGENERAL;
    ctx->result->status = rv;
    md_result_problem_type(ctx->result, MD_PROBLEM_CHALLENGE_SETUP);
    return rv;
}

/* "challenge-setup:TYPE:DOMAIN" once the answer is in place and before the CA is told: an error ends the
 * attempt (the answer is torn down with the others). */
static apr_status_t setup_event(md_drive_ctx_t *ctx, const pending_t *pd)
{
    const char *event;
    apr_status_t rv;

    if (!ctx->env->event) {
        ctx->job->notified = 1;     /* as mod_md: a message of the job was delivered (or nobody takes it) */
        return APR_SUCCESS;
    }
    event = apr_pstrcat(ctx->p, "challenge-setup:", pd->setup.type, ":", pd->setup.domain, NULL);
    rv = ctx->env->event(ctx->env->event_baton, ctx->md->name, event, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) {
        md_result_printf(ctx->result, rv, "%s refused: %s", event, md_result_text(ctx->result, ctx->p));
        return setup_failed(ctx, rv);
    }
    ctx->job->notified = 1;     /* as mod_md: a message of the job was delivered (or nobody takes it) */
    return APR_SUCCESS;
}

/* The answer is visible: it may be told to the CA after the type's response delay (counted from now: the setup may
 * have taken a while), or at once when a poll said so (the delay was waited before that poll). */
static apr_status_t answer_ready(md_drive_ctx_t *ctx, pending_t *pd, apr_time_t now, int polled)
{
    apr_interval_time_t delay = polled ? 0 : md_challenge_delay(ctx->md, pd->setup.type);

    if (delay > 0) now = md_clock_now(ctx->env->clock);
    rec_set(pd, "ready", now + delay, delay > 0, ctx->p);
    if (delay > 0) {
        md_drive__progress(ctx, "%s for %s is set up; telling the CA in %s (response delay)", pd->setup.type,
                           pd->setup.domain, md_duration_print(delay, ctx->p));
    }
    return setup_event(ctx, pd);
}

/* Started but not yet visible: ask again after the type's response delay (or POLL_INTERVAL_DEF). */
static void answer_polling(md_drive_ctx_t *ctx, pending_t *pd, apr_time_t now)
{
    apr_interval_time_t delay = md_challenge_delay(ctx->md, pd->setup.type);

    now = md_clock_now(ctx->env->clock);
    rec_set(pd, "poll", now + (delay > 0 ? delay : POLL_INTERVAL_DEF), 1, ctx->p);
    md_drive__progress(ctx, "%s for %s is started but not yet visible; asking again at %s", pd->setup.type,
                       pd->setup.domain, md_json_gets(pd->rec, "at", NULL));
}

/* What a responder's setup or poll (polled) answered. */
static apr_status_t answered(md_drive_ctx_t *ctx, pending_t *pd, apr_status_t rv, apr_time_t now, int polled)
{
    if (rv == APR_SUCCESS) return answer_ready(ctx, pd, now, polled);
    if (rv == MD_EPOLL) {
        answer_polling(ctx, pd, now);
        return APR_SUCCESS;
    }
    return rv;
}

/* Poll an answer that was not yet visible, when its time has come; fail when it stays invisible too long. */
static apr_status_t poll_answer(md_drive_ctx_t *ctx, pending_t *pd, apr_time_t now)
{
    apr_interval_time_t limit = ctx->env->authz_timeout ? ctx->env->authz_timeout : apr_time_from_sec(300);
    apr_time_t since = rec_time(pd->rec, "since");
    apr_status_t rv;

    if (rec_time(pd->rec, "at") > now) return APR_SUCCESS;
    if (!pd->responder->poll) return answer_ready(ctx, pd, now, 1);
    rv = pd->responder->poll(pd->responder->baton, &pd->setup, ctx->result, ctx->p);
    if (rv == MD_EPOLL && since && now - since >= limit) {
        md_result_printf(ctx->result, APR_TIMEUP, "%s for %s: still not visible after %s of polling",
                         pd->setup.type, pd->setup.domain, md_duration_print(now - since, ctx->p));
        return setup_failed(ctx, APR_TIMEUP);
    }
    if (rv != APR_SUCCESS && rv != MD_EPOLL) return setup_failed(ctx, rv);
    return answered(ctx, pd, rv, now, 1);
}

/* A new answer: choose the challenge, set it up, record it. */
static apr_status_t answer_new(md_drive_ctx_t *ctx, pending_t *pd, md_acme_authz_t *authz, apr_time_t now)
{
    apr_array_header_t *prefs = challenge_prefs(ctx, authz->domain);
    apr_status_t rv;

    if (prefs->nelts == 0) {
        md_result_printf(ctx->result, APR_EINVAL, "no way to answer the challenges for %s: none of the "
                         "challenge types to use (%s) can be answered here for %s", ctx->md->name,
                         challenges_str(ctx), authz->domain);
        md_result_problem_type(ctx->result, MD_PROBLEM_CHALLENGE_MISMATCH);
        md_result_hint_set(ctx->result, MD_HINT_RESPONDER);
        return APR_EINVAL;
    }
    rv = md_acme_authz_choose(&pd->challenge, authz, prefs, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    pd->responder = md_responders_for_domain(ctx->env->responders, pd->challenge->type, authz->domain);
    pd->triggered = pd->challenge->status && strcmp(pd->challenge->status, "pending") != 0;
    pd->setup.type = pd->challenge->type;
    pd->setup.token = pd->challenge->token;
    pd->setup.key_authz = md_jws_key_authz(pd->challenge->token, ctx->thumbprint, ctx->p);
    pd->rec = md_json_create(ctx->p);
    md_json_sets(pd->setup.type, pd->rec, "type", NULL);
    md_json_sets(pd->setup.domain, pd->rec, "domain", NULL);
    md_json_sets(pd->setup.token, pd->rec, "token", NULL);
    md_json_sets(md_time_print_rfc3339(now, ctx->p), pd->rec, "since", NULL);
    md_drive__progress(ctx, "Setting up %s for %s", pd->setup.type, pd->setup.domain);
    rv = pd->responder->setup(pd->responder->baton, &pd->setup, ctx->result, ctx->p);
    if (rv != APR_SUCCESS && rv != MD_EPOLL) return setup_failed(ctx, rv);
    md_json_setj(pd->rec, records(ctx), pd->authz_url, NULL);
    pd->rec = md_json_getj(records(ctx), pd->authz_url, NULL);      /* the job's own record from now on */
    if (pd->triggered) {
        rec_set(pd, "ready", now, 0, ctx->p);
        return APR_SUCCESS;
    }
    return answered(ctx, pd, rv, now, 0);
}

static const char *rec_state(const md_json_t *rec)
{
    const char *state = md_json_gets(rec, "state", NULL);

    return state ? state : "";
}

/* The answer a record describes: type, token, key authorization and its responder; APR_EINVAL when unusable. */
static apr_status_t rec_restore(md_drive_ctx_t *ctx, pending_t *pd)
{
    const char *type = md_json_gets(pd->rec, "type", NULL);

    pd->setup.type = type;
    pd->setup.token = md_json_gets(pd->rec, "token", NULL);
    pd->setup.key_authz = pd->setup.token ? md_jws_key_authz(pd->setup.token, ctx->thumbprint, ctx->p) : NULL;
    pd->responder = type ? md_responders_for_domain(ctx->env->responders, type, pd->setup.domain) : NULL;
    if (pd->responder && pd->setup.token && pd->setup.domain) return APR_SUCCESS;
    md_result_printf(ctx->result, APR_EINVAL, "the recorded %s answer for %s cannot be resumed (no responder for it "
                     "now)", type ? type : "challenge", pd->setup.domain ? pd->setup.domain : "?");
    return APR_EINVAL;
}

/* An answer recorded by an earlier run: find its challenge again; in-process answers are set up again; a poll
 * that is due is made. */
static apr_status_t answer_resumed(md_drive_ctx_t *ctx, pending_t *pd, md_acme_authz_t *authz, apr_time_t now)
{
    apr_status_t rv = rec_restore(ctx, pd);
    md_acme_challenge_t *ch;
    int i;

    for (i = 0; rv == APR_SUCCESS && i < authz->challenges->nelts; ++i) {
        ch = APR_ARRAY_IDX(authz->challenges, i, md_acme_challenge_t *);
        if (!strcmp(ch->type, pd->setup.type)) pd->challenge = ch;
    }
    if (rv == APR_SUCCESS && !pd->challenge) {
        md_result_printf(ctx->result, APR_EINVAL, "the CA no longer offers %s for %s", pd->setup.type,
                         pd->setup.domain);
        rv = APR_EINVAL;
    }
    if (rv != APR_SUCCESS) return rv;
    pd->triggered = pd->challenge->status && strcmp(pd->challenge->status, "pending") != 0;
    if (!pd->responder->external) rv = pd->responder->setup(pd->responder->baton, &pd->setup, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return setup_failed(ctx, rv);
    if (!strcmp(rec_state(pd->rec), "poll")) return poll_answer(ctx, pd, now);
    return APR_SUCCESS;
}

/* Look at one authorization: nothing to do when valid, else set up its answer or go on with the recorded one. */
static apr_status_t prepare(md_drive_ctx_t *ctx, apr_array_header_t *pendings, const char *url, apr_time_t now)
{
    md_acme_authz_t *authz;
    pending_t *pd;
    apr_status_t rv;

    rv = md_acme_authz_get(&authz, ctx->acme, url, ctx->result, ctx->p);
    if (rv != APR_SUCCESS) return rv;
    if (!strcmp(authz->status, "valid")) return APR_SUCCESS;
    if (strcmp(authz->status, "pending")) {
        md_result_printf(ctx->result, APR_EINVAL, "authorization for %s is '%s' at the CA", authz->domain,
                         authz->status);
        return APR_EINVAL;
    }
    pd = apr_pcalloc(ctx->p, sizeof(*pd));
    pd->authz_url = url;
    pd->setup.md_name = ctx->md->name;
    pd->setup.domain = authz->domain;
    pd->rec = md_json_getj(records(ctx), url, NULL);
    APR_ARRAY_PUSH(pendings, pending_t *) = pd;
    if (pd->rec) return answer_resumed(ctx, pd, authz, now);
    return answer_new(ctx, pd, authz, now);
}

static void teardown_one(md_drive_ctx_t *ctx, const pending_t *pd)
{
    md_result_t *ignored = md_result_make(ctx->p);

    if (!pd->responder || !pd->setup.token) return;
    if (pd->responder->teardown(pd->responder->baton, &pd->setup, ignored, ctx->p) != APR_SUCCESS) {
        md_drive__progress(ctx, "Tearing down %s for %s failed: %s", pd->setup.type, pd->setup.domain,
                           md_result_text(ignored, ctx->p));
    }
}

static int collect_key(void *baton, const char *key, md_json_t *value)
{
    (void)value;
    APR_ARRAY_PUSH((apr_array_header_t *)baton, const char *) = key;
    return 1;
}

/* Tear down every recorded answer (also those of earlier runs this run did not look at) and forget them. */
static void teardown_all(md_drive_ctx_t *ctx, apr_array_header_t *pendings)
{
    md_json_t *recs = records(ctx);
    apr_array_header_t *urls = apr_array_make(ctx->p, 4, sizeof(const char *));
    const pending_t *pd;
    pending_t old;
    int i, j, seen;

    md_json_iterkey(collect_key, urls, recs, NULL);
    for (i = 0; i < pendings->nelts; ++i) teardown_one(ctx, APR_ARRAY_IDX(pendings, i, const pending_t *));
    for (i = 0; i < urls->nelts; ++i) {
        const char *url = APR_ARRAY_IDX(urls, i, const char *);
        for (seen = 0, j = 0; j < pendings->nelts && !seen; ++j) {
            pd = APR_ARRAY_IDX(pendings, j, const pending_t *);
            seen = !strcmp(pd->authz_url, url);
        }
        if (seen) continue;
        memset(&old, 0, sizeof(old));
        old.rec = md_json_getj(recs, url, NULL);
        old.setup.md_name = ctx->md->name;
        old.setup.domain = md_json_gets(old.rec, "domain", NULL);
        if (rec_restore(ctx, &old) == APR_SUCCESS) teardown_one(ctx, &old);
    }
    md_json_del(ctx->job->state, "challenges", NULL);
}

/* The earliest time a recorded answer may go on, when some may not yet (0: all may go on now). */
static apr_time_t wait_until(const apr_array_header_t *pendings, apr_time_t now)
{
    const pending_t *pd;
    apr_time_t t, until = 0;
    int i;

    for (i = 0; i < pendings->nelts; ++i) {
        pd = APR_ARRAY_IDX(pendings, i, const pending_t *);
        if (!pd->rec) continue;
        t = rec_time(pd->rec, "at");
        if (t <= now && strcmp(rec_state(pd->rec), "poll")) continue;    /* ready, and its time has come */
        if (t < now) t = now;
        if (!until || t < until) until = t;
    }
    return until;
}

/* Tell the CA about every answer, then wait for the order (not each authorization) to become ready: one
 * look at the order when the CA is as fast as it was lately. */
static apr_status_t validate_all(md_drive_ctx_t *ctx, md_acme_order_t *order, apr_array_header_t *pendings)
{
    apr_interval_time_t timeout = ctx->env->authz_timeout ? ctx->env->authz_timeout : apr_time_from_sec(300);
    pending_t *pd;
    apr_status_t rv = APR_SUCCESS;
    int i;

    /* every answer checked before the CA hears of any: a miss costs no validation at all */
    for (i = 0; i < pendings->nelts && rv == APR_SUCCESS; ++i) {
        pd = APR_ARRAY_IDX(pendings, i, pending_t *);
        if (!pd->triggered) rv = md_drive__preflight_answer(ctx, pd->setup.type, pd->setup.domain, pd->setup.token,
                                                            pd->setup.key_authz);
    }
    for (i = 0; i < pendings->nelts && rv == APR_SUCCESS; ++i) {
        pd = APR_ARRAY_IDX(pendings, i, pending_t *);
        if (!pd->triggered) rv = md_acme_challenge_respond(ctx->acme, pd->challenge, ctx->result, ctx->p);
    }
    if (rv == APR_SUCCESS) rv = md_acme_order_await_authorized(order, ctx->acme, timeout, ctx->result, ctx->p);
    for (i = 0; i < pendings->nelts && rv == APR_SUCCESS; ++i) {
        pd = APR_ARRAY_IDX(pendings, i, pending_t *);
        md_drive__progress(ctx, "%s validated %s", pd->setup.type, pd->setup.domain);
    }
    return rv;
}

apr_status_t md_drive__authorize(md_drive_ctx_t *ctx, md_acme_order_t *order)
{
    const apr_array_header_t *authz_urls = order->authz_urls;
    apr_array_header_t *pendings = apr_array_make(ctx->p, authz_urls->nelts, sizeof(pending_t *));
    apr_time_t now = md_clock_now(ctx->env->clock), until;
    apr_status_t rv = APR_SUCCESS;
    int i;

    md_result_activity_set(ctx->result, "authorizing");
    for (i = 0; i < authz_urls->nelts && rv == APR_SUCCESS; ++i) {
        rv = prepare(ctx, pendings, APR_ARRAY_IDX(authz_urls, i, const char *), now);
    }
    if (rv == APR_SUCCESS && (until = wait_until(pendings, now)) != 0) {
        ctx->wait_until = until;
        rv = md_drive__save_job(ctx);
        return rv == APR_SUCCESS ? MD_EWAIT : rv;
    }
    if (rv == APR_SUCCESS) rv = validate_all(ctx, order, pendings);
    teardown_all(ctx, pendings);
    /* not saved here: every attempt ends in a save of the job (its success, its failure, a wait), 2.9 % of a
     * drive's CPU per certificate; a crash before that leaves the records of answers torn down already, which the
     * next run tears down again */
    return rv;
}
