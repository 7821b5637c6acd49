/* What an MD's renewal talks to: the programs that take its events, and the responders that answer its challenges
 * (the front-end's own first, then the event interface's programs). */
#include <apr_strings.h>

#include "md_event.h"
#include "md_reg_renew.h"
#include "md_responder.h"

void md_reg_programs(md_event_programs_t *progs, const md_reg_renew_t *rn, const md_t *md, apr_pool_t *p)
{
    *progs = rn->programs;
    if (md->event_handler && md->event_handler->nelts) progs->argv[MD_EVENT_PROG_HANDLER] = md->event_handler;
    if (md->dns01_cmd) progs->argv[MD_EVENT_PROG_DNS01] = md_event_argv(md->dns01_cmd, p);
    progs->dns01_version = md->dns01_version;
}

static int has(const md_event_programs_t *progs, md_event_prog_t which)
{
    return progs->argv[which] && progs->argv[which]->nelts > 0;
}

/* True when the front-end's responder answers a type the choice lets it answer. */
static int local_allowed(const md_responder_t *r, const md_reg_challenges_t *ch)
{
    return (ch->local_http01 && r->supports(r->baton, "http-01"))
        || (ch->local_tlsalpn01 && r->supports(r->baton, "tls-alpn-01"))
        || r->supports(r->baton, "dns-01");
}

/* The front-end's own responders, those the choice allows. */
static apr_status_t add_local(md_responders_t *rs, const md_reg_challenges_t *ch, const md_reg_renew_t *rn,
                              const md_t *md, apr_pool_t *p)
{
    md_responders_t *local = md_responders_make(p);
    const md_responder_t *r;
    apr_status_t rv;
    int i;

    if (!rn->local) return APR_SUCCESS;
    rv = rn->local(rn->local_baton, local, md, p);
    for (i = 0; rv == APR_SUCCESS && i < md_responders_count(local); ++i) {
        r = md_responders_get(local, i);
        if (local_allowed(r, ch)) md_responders_add(rs, r);
    }
    return rv;
}

apr_status_t md_reg_responders(md_responders_t **prs, md_reg_challenges_t *pch, const md_reg_renew_t *rn,
                               const md_event_programs_t *progs, const md_t *md, apr_pool_t *p)
{
    md_responders_t *rs = md_responders_make(p);
    md_reg_challenges_t ch;
    md_responder_t *r;
    apr_status_t rv;

    *prs = rs;
    md_reg_challenges(&ch, md, rn->reach, p);
    if (pch) *pch = ch;
    rv = add_local(rs, &ch, rn, md, p);
    if (rv != APR_SUCCESS) return rv;
    if (has(progs, MD_EVENT_PROG_DNS01) || has(progs, MD_EVENT_PROG_HANDLER)) {
        rv = md_responder_event(&r, "dns-01", rn->events, progs, p);
        if (rv == APR_SUCCESS) md_responders_add(rs, r);
    }
    if (rv == APR_SUCCESS && has(progs, MD_EVENT_PROG_HANDLER)) {
        rv = md_responder_event(&r, "http-01", rn->events, progs, p);   /* after the local ones: remote names */
        if (rv == APR_SUCCESS) md_responders_add(rs, r);
    }
    return rv;
}
