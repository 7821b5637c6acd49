/* Matching MDs to virtual hosts by ServerName/ServerAlias (MDMatchNames, MDBaseServer), MDMembers auto, contacts. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "config_int.h"

md_managed_t *md_config_md_for_name(const md_mod_conf_t *mc, const char *name)
{
    md_managed_t *m;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (md_contains(m->md, name)) return m;
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (md_covers(m->md, name)) return m;
    }
    return NULL;
}

/* The server's names: ServerName first, then (when aliases) the ServerAlias names, literal and wildcard. */
static apr_array_header_t *server_names(const server_rec *s, int aliases, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *));

    if (s->server_hostname) APR_ARRAY_PUSH(names, const char *) = s->server_hostname;
    if (aliases && s->names) apr_array_cat(names, s->names);
    if (aliases && s->wild_names) apr_array_cat(names, s->wild_names);
    return names;
}

static void assign(md_managed_t *m, server_rec *s)
{
    md_srv_conf_t *sc = md_config_get(s);
    int i;

    for (i = 0; i < sc->mds->nelts; ++i) {
        if (APR_ARRAY_IDX(sc->mds, i, md_managed_t *) == m) return;
    }
    APR_ARRAY_PUSH(sc->mds, md_managed_t *) = m;
    APR_ARRAY_PUSH(m->servers, server_rec *) = s;
}

static void match_server(const md_mod_conf_t *mc, server_rec *s, apr_pool_t *p)
{
    apr_array_header_t *names = server_names(s, !mc->match_servernames, p);
    md_managed_t *m;
    int i;

    for (i = 0; i < names->nelts; ++i) {
        m = md_config_md_for_name(mc, APR_ARRAY_IDX(names, i, const char *));
        if (m) assign(m, s);
    }
}

/* True when another MD than m has name among its domains. */
static int in_other_md(const md_mod_conf_t *mc, const md_managed_t *m, const char *name)
{
    const md_managed_t *other;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        other = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (other != m && md_contains(other->md, name)) return 1;
    }
    return 0;
}

/* MDMembers auto: the names of m's servers that m does not cover yet become its domains, unless they are
 * no certificate names (ServerAlias patterns like www?.example.org) or belong to another MD. */
static void auto_add(const md_mod_conf_t *mc, md_managed_t *m, apr_pool_t *p)
{
    apr_array_header_t *names;
    const server_rec *s;
    char *name;
    int i, j;

    for (i = 0; i < m->servers->nelts; ++i) {
        s = APR_ARRAY_IDX(m->servers, i, const server_rec *);
        names = server_names(s, 1, p);
        for (j = 0; j < names->nelts; ++j) {
            name = apr_pstrdup(p, APR_ARRAY_IDX(names, j, const char *));
            ap_str_tolower(name);
            if (md_covers(m->md, name) || md_domain_problem(name) || in_other_md(mc, m, name)) continue;
            APR_ARRAY_PUSH(m->md->domains, const char *) = name;
        }
    }
}

/* A ServerAdmin that is an email address (without "mailto:"), or NULL. */
static const char *admin_email(const server_rec *s)
{
    const char *a = s ? s->server_admin : NULL;

    if (!a) return NULL;
    if (!strncasecmp(a, "mailto:", 7)) a += 7;
    if (!strchr(a, '@') || strpbrk(a, " \t<>")) return NULL;
    return a;
}

/* Without MDContactEmail: the ServerAdmin of the MD's first server that has one, else of the server the MD
 * is defined in, else of the base server. */
static void default_contact(md_managed_t *m, server_rec *base, apr_pool_t *p)
{
    const char *email = NULL;
    int i;

    if (m->md->contacts->nelts > 0) return;
    for (i = 0; !email && i < m->servers->nelts; ++i) {
        email = admin_email(APR_ARRAY_IDX(m->servers, i, const server_rec *));
    }
    if (!email) email = admin_email(m->conf->s);
    if (!email) email = admin_email(base);
    if (email) APR_ARRAY_PUSH(m->md->contacts, const char *) = apr_pstrcat(p, "mailto:", email, NULL);
}

apr_status_t md_config_match(const char **perr, md_mod_conf_t *mc, server_rec *base, apr_pool_t *p)
{
    apr_array_header_t *vhosts = apr_array_make(p, 16, sizeof(server_rec *));
    md_managed_t *m;
    server_rec *s;
    int i;

    *perr = NULL;
    if (mc->base_server) match_server(mc, base, p);
    for (s = base->next; s; s = s->next) APR_ARRAY_PUSH(vhosts, server_rec *) = s;
    for (i = vhosts->nelts - 1; i >= 0; --i) {     /* httpd links virtual hosts in reverse config order */
        match_server(mc, APR_ARRAY_IDX(vhosts, i, server_rec *), p);
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        if (m->md->transitive) auto_add(mc, m, p);
        default_contact(m, base, p);
    }
    return APR_SUCCESS;
}

const md_managed_t *md_config_md_for_host(const md_srv_conf_t *sc, const char *hostname, int any_fallback)
{
    const md_managed_t *m;
    int i;

    if (!sc->mds || sc->mds->nelts == 0) return NULL;
    for (i = 0; hostname && i < sc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(sc->mds, i, const md_managed_t *);
        if (md_covers(m->md, hostname)) return m;
    }
    return (any_fallback || sc->mds->nelts == 1) ? APR_ARRAY_IDX(sc->mds, 0, const md_managed_t *) : NULL;
}
