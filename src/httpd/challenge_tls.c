/* tls-alpn-01 through mod_ssl: acme-tls/1 in ALPN, the challenge certificate handed over per handshake, its responder. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_ssl.h>

#include "md_responder.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define ACME_TLS_1 "acme-tls/1"
#define CONN_NOTE "mdomain-acme-tls-1"

/* Why tls-alpn-01 cannot be answered for m (reach.c found no acme-tls/1 name), or NULL when it can. */
static const char *tlsalpn01_problem(const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p)
{
    if (m->md->acme_tls_1->nelts > 0) return NULL;
    if (!mc->port_https) return "MDPortMap says https is not reachable";
    if (!mc->reach_https) {
        return apr_psprintf(p, "httpd does not listen on port %d, where MDPortMap says public port 443 arrives",
                            mc->port_https);
    }
    return "none of its virtual hosts has 'acme-tls/1' in Protocols";
}

void md_httpd_tlsalpn01_warn(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p)
{
    const md_managed_t *m;
    const char *problem;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (m->cert_files->nelts || !m->md->ca_challenges->nelts || !md_challenge_allowed(m->md, "tls-alpn-01")) {
            continue;
        }
        problem = tlsalpn01_problem(mc, m, p);
        if (problem) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD %s: MDCAChallenges names tls-alpn-01, but it cannot be "
                         "answered: %s", m->md->name, problem);
        }
    }
}

/* ALPN on a TLS connection: propose acme-tls/1 when the client offers it (core keeps it only when it is in the
 * server's Protocols). */
static int tls_protocol_propose(conn_rec *c, request_rec *r, server_rec *s, const apr_array_header_t *offers,
                                apr_array_header_t *proposals)
{
    int i;

    if (r || !offers || !ap_ssl_conn_is_ssl(c)) return DECLINED;
    for (i = 0; i < offers->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(offers, i, const char *), ACME_TLS_1)) {
            APR_ARRAY_PUSH(proposals, const char *) = ACME_TLS_1;
            return OK;
        }
    }
    return DECLINED;
}

/* The switch to acme-tls/1: nothing is spoken on such a connection after the handshake. */
static int tls_protocol_switch(conn_rec *c, request_rec *r, server_rec *s, const char *protocol)
{
    if (r || strcmp(protocol, ACME_TLS_1)) return DECLINED;
    apr_table_setn(c->notes, CONN_NOTE, "1");
    c->keepalive = AP_CONN_CLOSE;
    return OK;
}

static const char *tls_protocol_get(const conn_rec *c)
{
    return apr_table_get(c->notes, CONN_NOTE) ? ACME_TLS_1 : NULL;
}

/* mod_ssl asks, in the handshake of an acme-tls/1 connection, for the certificate of server_name: the one in the
 * store's challenges/, whoever wrote it. */
static int tls_answer_challenge(conn_rec *c, const char *server_name, const char **pcert_pem,
                                const char **pkey_pem)
{
    md_mod_conf_t *mc = md_config_get(c->base_server)->mc;
    const md_managed_t *m;

    if (!server_name || !mc || !mc->store || !apr_table_get(c->notes, CONN_NOTE)) return DECLINED;
    m = md_config_md_for_name(mc, server_name);
    if (md_challenge_tlsalpn01_lookup(pcert_pem, pkey_pem, mc->store, m ? m->md : NULL, server_name, c->pool)
        != APR_SUCCESS) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, "tls-alpn-01: no challenge certificate for %s", server_name);
        return DECLINED;
    }
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, "tls-alpn-01 challenge for %s answered", server_name);
    return OK;
}

void md_httpd_challenge_tls_hooks(void)
{
    ap_hook_protocol_propose(tls_protocol_propose, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_protocol_switch(tls_protocol_switch, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_protocol_get(tls_protocol_get, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_answer_challenge(tls_answer_challenge, NULL, NULL, APR_HOOK_MIDDLE);
}

/* tls-alpn-01 answers into the store's challenges/, for the MD's key types, preferred for its acme-tls/1 names. */
md_responder_t *md_httpd_tlsalpn01_responder(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    md_responder_t *r = NULL;

    md_responder_store_tlsalpn01(&r, store, md, p);
    return r;
}
