/* Challenges answered by programs through the event dispatcher: dns-01 (setup/teardown/poll-setup, to
 * MDChallengeDns01 or the event handler) and http-01 for names this server does not answer (setup-http-01...). */
#include <string.h>
#include <apr_strings.h>

#include "md_event.h"
#include "md_jws.h"
#include "md_result.h"
#include "md_responder.h"

typedef struct {
    const char *type;                  /* "dns-01" or "http-01" */
    const md_events_t *events;
    md_event_programs_t progs;
} event_resp_t;

static int event_supports(void *baton, const char *type)
{
    const event_resp_t *er = baton;

    return type && !strcmp(type, er->type);
}

/* The event's name and intrinsic arguments for a step ("setup", "teardown", "poll-setup"). */
static md_event_t *event_for(const event_resp_t *er, const char *step, const md_challenge_setup_t *ch,
                             apr_pool_t *p)
{
    md_event_t *ev = apr_pcalloc(p, sizeof(*ev));
    apr_array_header_t *args = apr_array_make(p, 3, sizeof(const char *));
    int dns = !strcmp(er->type, "dns-01");

    ev->name = dns ? step : apr_pstrcat(p, step, "-http-01", NULL);
    ev->md_name = ch->md_name;
    APR_ARRAY_PUSH(args, const char *) = ch->domain;
    if (dns) {
        APR_ARRAY_PUSH(args, const char *) = md_jws_dns01_txt(ch->key_authz, p);
    }
    else {
        APR_ARRAY_PUSH(args, const char *) = ch->token;
        if (strcmp(step, "teardown")) APR_ARRAY_PUSH(args, const char *) = ch->key_authz;
    }
    ev->args = args;
    return ev;
}

/* Raise the step's event and turn the outcome into the responder's answer. */
static apr_status_t event_step(const event_resp_t *er, const char *step, const md_challenge_setup_t *ch,
                               md_result_t *result, apr_pool_t *p)
{
    md_event_outcome_t outcome = MD_EVENT_NONE;
    apr_status_t rv;

    if (!ch->domain || !*ch->domain || !ch->token || !ch->key_authz) {
        md_result_printf(result, APR_EINVAL, "%s %s: no domain, token or key authorization", er->type, step);
        return APR_EINVAL;
    }
    rv = md_event_raise(&outcome, er->events, &er->progs, event_for(er, step, ch, p), result, p);
    switch (outcome) {
    case MD_EVENT_OK: return APR_SUCCESS;
    case MD_EVENT_NEEDS_POLL: return MD_EPOLL;
    case MD_EVENT_RETRY: return APR_EAGAIN;
    case MD_EVENT_NONE:
        md_result_printf(result, APR_ENOENT, "%s %s for %s: no program takes it", er->type, step, ch->domain);
        return APR_ENOENT;
    default:
        (void)rv;
        if (result) result->status = MD_EHUMAN;
        return MD_EHUMAN;
    }
}

static apr_status_t event_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    return event_step(baton, "setup", ch, result, p);
}

static apr_status_t event_poll(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    return event_step(baton, "poll-setup", ch, result, p);
}

static apr_status_t event_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                   apr_pool_t *p)
{
    return event_step(baton, "teardown", ch, result, p);
}

apr_status_t md_responder_event(md_responder_t **presp, const char *type, const md_events_t *events,
                                const md_event_programs_t *progs, apr_pool_t *p)
{
    event_resp_t *er;
    md_responder_t *r;

    *presp = NULL;
    if (!type || (strcmp(type, "dns-01") && strcmp(type, "http-01")) || !progs) return APR_EINVAL;
    er = apr_pcalloc(p, sizeof(*er));
    er->type = apr_pstrdup(p, type);
    er->events = events;
    er->progs = *progs;
    r = apr_pcalloc(p, sizeof(*r));
    r->name = !strcmp(type, "dns-01") ? "dns-01 program" : "remote http-01 (event handler)";
    r->supports = event_supports;
    r->setup = event_setup;
    r->teardown = event_teardown;
    r->poll = event_poll;
    r->external = 1;
    r->baton = er;
    *presp = r;
    return APR_SUCCESS;
}
