/* tls-alpn-01 through mod_ssl: acme-tls/1 in ALPN, the challenge certificate handed over per handshake, its responder. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_ssl.h>

#include "md_cert.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define ACME_TLS_1 "acme-tls/1"
#define CONN_NOTE "mdomain-acme-tls-1"
#define TLSALPN01_VALID apr_time_from_sec(7 * 24 * 3600)

/* True when the server has acme-tls/1 among its Protocols. */
static int server_speaks_acme_tls(const server_rec *s)
{
    core_server_config *conf = ap_get_core_module_config(s->module_config);
    int i;

    if (!conf || !conf->protocols) return 0;
    for (i = 0; i < conf->protocols->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(conf->protocols, i, const char *), ACME_TLS_1)) return 1;
    }
    return 0;
}

int md_httpd_tlsalpn01_enabled(const md_mod_conf_t *mc, const char *md_name)
{
    const md_managed_t *m;
    int i, j;

    if (!mc->port_https) return 0;
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (strcmp(m->md->name, md_name)) continue;
        for (j = 0; j < m->servers->nelts; ++j) {
            if (server_speaks_acme_tls(APR_ARRAY_IDX(m->servers, j, const server_rec *))) return 1;
        }
    }
    return 0;
}

void md_httpd_tlsalpn01_warn(server_rec *s, const md_mod_conf_t *mc)
{
    const md_managed_t *m;
    int i, j;

    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (!m->md->ca_challenges || m->cert_files->nelts) continue;
        for (j = 0; j < m->md->ca_challenges->nelts; ++j) {
            if (strcmp(APR_ARRAY_IDX(m->md->ca_challenges, j, const char *), "tls-alpn-01")) continue;
            if (!md_httpd_tlsalpn01_enabled(mc, m->md->name)) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "MD %s: MDCAChallenges names tls-alpn-01, but it "
                             "cannot be answered: %s", m->md->name, mc->port_https
                             ? "none of its virtual hosts has 'acme-tls/1' in Protocols"
                             : "MDPortMap says https is not reachable");
            }
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

/* mod_ssl asks, in the handshake of an acme-tls/1 connection, for the certificate of server_name. */
static int tls_answer_challenge(conn_rec *c, const char *server_name, const char **pcert_pem,
                                const char **pkey_pem)
{
    md_mod_conf_t *mc = md_config_get(c->base_server)->mc;
    md_cert_t *cert;
    md_pkey_t *pkey;
    apr_array_header_t *one;
    const char *cert_pem, *key_pem;
    apr_size_t len;

    if (!server_name || !*server_name || strchr(server_name, '/') || server_name[0] == '.') return DECLINED;
    if (!mc || !mc->store || !apr_table_get(c->notes, CONN_NOTE)) return DECLINED;
    if (md_store_load((void **)&cert, mc->store, MD_SG_CHALLENGES, server_name, MD_HTTPD_TLSALPN01_CERT,
                      MD_SV_CERT, NULL, c->pool) != APR_SUCCESS
        || md_store_load((void **)&pkey, mc->store, MD_SG_CHALLENGES, server_name, MD_HTTPD_TLSALPN01_KEY,
                         MD_SV_PKEY, NULL, c->pool) != APR_SUCCESS) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, "tls-alpn-01: no challenge certificate for %s", server_name);
        return DECLINED;
    }
    one = apr_array_make(c->pool, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(one, md_cert_t *) = cert;
    if (md_cert_chain_to_pem(&cert_pem, &len, one, c->pool) != APR_SUCCESS) return DECLINED;
    if (md_pkey_to_pem(&key_pem, &len, pkey, NULL, 0, c->pool) != APR_SUCCESS) return DECLINED;
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, "tls-alpn-01 challenge for %s answered", server_name);
    *pcert_pem = cert_pem;
    *pkey_pem = key_pem;
    return OK;
}

void md_httpd_challenge_tls_hooks(void)
{
    ap_hook_protocol_propose(tls_protocol_propose, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_protocol_switch(tls_protocol_switch, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_protocol_get(tls_protocol_get, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_answer_challenge(tls_answer_challenge, NULL, NULL, APR_HOOK_MIDDLE);
}

static int tlsalpn01_supports(void *baton, const char *type)
{
    (void)baton;
    return !strcmp(type, "tls-alpn-01");
}

static apr_status_t tlsalpn01_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                    apr_pool_t *p)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_store_t *store = baton;
    md_pkey_t *pkey;
    md_cert_t *cert;
    apr_status_t rv;

    rv = md_pkey_gen(&pkey, &spec, p);
    if (rv == APR_SUCCESS) rv = md_cert_make_tls_alpn_01(&cert, ch->domain, ch->key_authz, pkey, TLSALPN01_VALID, p);
    if (rv != APR_SUCCESS) return rv;
    /* the key first: a handshake finding the new certificate with the old key fails and is retried by the CA */
    rv = md_store_save(store, MD_SG_CHALLENGES, ch->domain, MD_HTTPD_TLSALPN01_KEY, MD_SV_PKEY, pkey, 0,
                       result, p);
    if (rv == APR_SUCCESS) {
        rv = md_store_save(store, MD_SG_CHALLENGES, ch->domain, MD_HTTPD_TLSALPN01_CERT, MD_SV_CERT, cert, 0,
                           result, p);
    }
    return rv;
}

static apr_status_t tlsalpn01_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                       apr_pool_t *p)
{
    md_store_t *store = baton;
    apr_status_t rv;

    (void)result;
    rv = md_store_remove(store, MD_SG_CHALLENGES, ch->domain, MD_HTTPD_TLSALPN01_CERT, 1, p);
    if (rv == APR_SUCCESS) rv = md_store_remove(store, MD_SG_CHALLENGES, ch->domain, MD_HTTPD_TLSALPN01_KEY, 1, p);
    return rv;
}

md_responder_t *md_httpd_tlsalpn01_responder(md_store_t *store, apr_pool_t *p)
{
    md_responder_t *r = apr_pcalloc(p, sizeof(*r));

    r->name = "httpd-tls-alpn-01";
    r->supports = tlsalpn01_supports;
    r->setup = tlsalpn01_setup;
    r->teardown = tlsalpn01_teardown;
    r->baton = store;
    return r;
}
