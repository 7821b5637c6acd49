/* The facts the registry chooses challenge types by: Listen sockets against MDPortMap, and acme-tls/1 names. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_listen.h>

#include "md_reg_renew.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define ACME_TLS_1 "acme-tls/1"

/* True when httpd listens on port for http or https (as mod_md counts: a Listen without protocol, or one whose
 * protocol starts with "http"). */
static int listens_on(int port)
{
    const ap_listen_rec *lr;
    const apr_sockaddr_t *sa;

    if (port <= 0) return 0;
    for (lr = ap_listeners; lr; lr = lr->next) {
        for (sa = lr->bind_addr; sa; sa = sa->next) {
            if (sa->port == port && (!lr->protocol || !strncasecmp(lr->protocol, "http", 4))) return 1;
        }
    }
    return 0;
}

/* A port and what it says, for the log. */
static const char *port_text(int listening, int port, const char *scheme, apr_pool_t *p)
{
    if (port <= 0) return apr_psprintf(p, "MDPortMap %s:-", scheme);
    return apr_psprintf(p, "public port %s reaches port %d, %s", strcmp(scheme, "http") ? "443" : "80", port,
                        listening ? "where httpd listens" : "where httpd does not listen");
}

void md_httpd_reach_detect(server_rec *s, md_mod_conf_t *mc, int log, apr_pool_t *p)
{
    mc->reach_http = listens_on(mc->port_http);
    mc->reach_https = listens_on(mc->port_https);
    if (!log || mc->mds->nelts == 0) return;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "server seems%s reachable via http: (%s) and%s reachable via https: "
                 "(%s)", mc->reach_http ? "" : " not", port_text(mc->reach_http, mc->port_http, "http", p),
                 mc->reach_https ? "" : " not", port_text(mc->reach_https, mc->port_https, "https", p));
}

/* A server the CA reaches with tls-alpn-01: one with an address on the https port, or on any port (a virtual host
 * for "*", the base server). */
static int on_https(const server_rec *s, int port_https)
{
    const server_addr_rec *a;

    if (!s->is_virtual) return 1;
    for (a = s->addrs; a; a = a->next) {
        if (a->host_port == port_https || a->host_port == 0) return 1;
    }
    return 0;
}

/* The names of an MD whose https server, among the MD's servers (the base server too with MDBaseServer on), allows
 * acme-tls/1; none when https is not reachable. */
static void acme_tls_names(md_managed_t *m, const md_mod_conf_t *mc)
{
    const char *name;
    server_rec *s;
    int i, j;

    apr_array_clear(m->md->acme_tls_1);
    for (i = 0; mc->reach_https && i < m->md->domains->nelts; ++i) {
        name = APR_ARRAY_IDX(m->md->domains, i, const char *);
        for (j = 0; j < m->servers->nelts; ++j) {
            s = APR_ARRAY_IDX(m->servers, j, server_rec *);
            if (on_https(s, mc->port_https) && md_httpd_server_has_name(s, name)
                && ap_is_allowed_protocol(NULL, NULL, s, ACME_TLS_1)) {
                APR_ARRAY_PUSH(m->md->acme_tls_1, const char *) = name;
                break;
            }
        }
    }
}

void md_httpd_acme_tls_names(md_mod_conf_t *mc)
{
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) acme_tls_names(APR_ARRAY_IDX(mc->mds, i, md_managed_t *), mc);
}

void md_httpd_reach_get(md_reg_reach_t *reach, const md_mod_conf_t *mc)
{
    reach->http = mc->reach_http;
    reach->https = mc->reach_https;
}

/* At startup, as mod_md: an error for each MD the watchdog renews when no challenge type is left for it. */
void md_httpd_challenges_check(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p)
{
    const md_managed_t *m;
    md_reg_challenges_t ch;
    md_reg_reach_t reach;
    int i;

    md_httpd_reach_get(&reach, mc);
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (m->cert_files->nelts && m->md->renew_mode != MD_RENEW_ALWAYS) continue;    /* no ACME renewal */
        if (!md_reg_is_watched(m->md, m->cert_files->nelts > 0, m->servers->nelts > 0)) continue;
        md_reg_challenges(&ch, m->md, &reach, p);
        if (ch.types && ch.types->nelts == 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "MD %s: none of the challenge types can be used, it cannot be "
                         "renewed: %s", m->md->name, ch.dropped ? ch.dropped : "none is configured");
        }
    }
}
