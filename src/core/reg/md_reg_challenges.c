/* Which challenge types an MD's renewal offers, from what the front-end knows (reachability, acme-tls/1 names). */
#include <string.h>

#include <apr_strings.h>

#include "md_reg_renew.h"

static int has_handler(const md_t *md)
{
    return md->event_handler && md->event_handler->nelts > 0;
}

/* MDCAChallenges names the types: they are offered as named, the front-end's own answers for all of them (as mod_md
 * does, also where the server seems unreachable: the operator knows better); http-01 goes to the event handler for
 * every name when the server is not reachable on port 80 and there is one. */
static void configured(md_reg_challenges_t *ch, const md_t *md, const md_reg_reach_t *reach, apr_pool_t *p)
{
    ch->types = apr_array_copy(p, md->ca_challenges);
    ch->local_http01 = reach->http || !has_handler(md);
    ch->local_tlsalpn01 = 1;
}

static void drop(md_reg_challenges_t *ch, const char *why, apr_pool_t *p)
{
    ch->dropped = ch->dropped ? apr_pstrcat(p, ch->dropped, "; ", why, NULL) : why;
}

/* No MDCAChallenges: what can be answered, in mod_md's order (tls-alpn-01 first: it needs no port 80). */
static void automatic(md_reg_challenges_t *ch, const md_t *md, const md_reg_reach_t *reach, apr_pool_t *p)
{
    ch->types = apr_array_make(p, 3, sizeof(const char *));
    if (!reach->https) {
        drop(ch, "tls-alpn-01: the server seems not reachable on public port 443", p);
    }
    else if (md->acme_tls_1->nelts == 0) {
        drop(ch, "tls-alpn-01: none of its names is served with the protocol acme-tls/1", p);
    }
    else {
        APR_ARRAY_PUSH(ch->types, const char *) = "tls-alpn-01";
        ch->local_tlsalpn01 = 1;
    }
    ch->local_http01 = reach->http;
    if (reach->http || has_handler(md)) APR_ARRAY_PUSH(ch->types, const char *) = "http-01";
    else drop(ch, "http-01: the server seems not reachable on public port 80", p);
    if (md->dns01_cmd || has_handler(md)) APR_ARRAY_PUSH(ch->types, const char *) = "dns-01";
    else drop(ch, "dns-01: no dns-01 program or event handler is configured", p);
}

void md_reg_challenges(md_reg_challenges_t *ch, const md_t *md, const md_reg_reach_t *reach, apr_pool_t *p)
{
    memset(ch, 0, sizeof(*ch));
    if (!reach) {
        ch->local_http01 = ch->local_tlsalpn01 = 1;
        return;
    }
    if (md->ca_challenges && md->ca_challenges->nelts > 0) configured(ch, md, reach, p);
    else automatic(ch, md, reach, p);
}
