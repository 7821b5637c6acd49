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

apr_status_t md_reg_responders(md_responders_t **prs, const md_reg_renew_t *rn, const md_event_programs_t *progs,
                               const md_t *md, apr_pool_t *p)
{
    md_responders_t *rs = md_responders_make(p);
    md_responder_t *r;
    apr_status_t rv = APR_SUCCESS;

    *prs = rs;
    if (rn->local) rv = rn->local(rn->local_baton, rs, md, p);
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
