/* The public /.httpd/certificate-status: the requested host's certificates (and a staged renewal) in JSON, over https. */
#include <string.h>

#include <apr_strings.h>


#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_ssl.h>

#include "md.h"
#include "md_cert.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_store.h"
#include "md_time.h"
#include "md_httpd.h"
#include "md_status.h"

APLOG_USE_MODULE(mdomain);

/* The earliest end and the latest start over a set of certificates. */
typedef struct {
    apr_time_t from, until;
    int count;
} validity_t;

static void validity_add(validity_t *v, const md_cert_t *cert)
{
    apr_time_t from = md_cert_get_not_before(cert), until = md_cert_get_not_after(cert);

    if (!v->count || from > v->from) v->from = from;
    if (!v->count || until < v->until) v->until = until;
    v->count++;
}

static void set_valid(md_json_t *json, apr_time_t from, apr_time_t until, apr_pool_t *p)
{
    md_json_sets(md_time_print_http(from, p), json, "valid", "from", NULL);
    md_json_sets(md_time_print_http(until, p), json, "valid", "until", NULL);
}

/* "scts": [{"logid", "signed", "signature-type"}] when the certificate embeds SCTs. */
static void set_scts(md_json_t *json, const md_cert_t *cert, apr_pool_t *p)
{
    apr_array_header_t *scts;
    const md_sct_t *sct;
    md_json_t *entry;
    int i;

    if (md_cert_get_scts(&scts, cert, p) != APR_SUCCESS || scts->nelts == 0) return;
    for (i = 0; i < scts->nelts; ++i) {
        sct = APR_ARRAY_IDX(scts, i, const md_sct_t *);
        entry = md_json_create(p);
        md_json_sets(sct->log_id_hex, entry, "logid", NULL);
        md_json_sets(md_time_print_http(sct->timestamp, p), entry, "signed", NULL);
        if (sct->signature_alg) md_json_sets(sct->signature_alg, entry, "signature-type", NULL);
        md_json_addj(entry, json, "scts", NULL);
    }
}

/* One certificate: valid {from, until}, serial, sha256-fingerprint; a staged one as md-status shows it (also
 * issuer-name and ari-cert-id, as mod_md does); "scts" when it has some. */
static md_json_t *cert_json(const md_cert_t *cert, int staged, apr_pool_t *p)
{
    md_json_t *json;

    if (staged) json = md_reg_status_cert(cert, p);
    else {
        json = md_json_create(p);
        set_valid(json, md_cert_get_not_before(cert), md_cert_get_not_after(cert), p);
        md_json_sets(md_cert_get_serial_hex(cert, p), json, "serial", NULL);
        md_json_sets(md_cert_get_sha256_fingerprint(cert, p), json, "sha256-fingerprint", NULL);
    }
    set_scts(json, cert, p);
    return json;
}

static int copy_key(void *baton, const char *key, md_json_t *value)
{
    md_json_setj(value, (md_json_t *)baton, key, NULL);
    return 1;
}

/* Certificates one object per key type ({} for a missing one), before them "valid" over all of them (the latest
 * start, the earliest end) when every key type has one. */
static md_json_t *certs_json(const apr_array_header_t *certs, int staged, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p), *keys = md_json_create(p);
    validity_t v = { 0, 0, 0 };
    const md_reg_cert_t *c;
    int i;

    for (i = 0; i < certs->nelts; ++i) {
        c = APR_ARRAY_IDX(certs, i, const md_reg_cert_t *);
        md_json_setj(c->cert ? cert_json(c->cert, staged, p) : md_json_create(p), keys, c->key, NULL);
        if (c->cert) validity_add(&v, c->cert);
    }
    if (certs->nelts > 0 && v.count == certs->nelts) set_valid(json, v.from, v.until, p);
    md_json_iterkey(copy_key, json, keys, NULL);
    return json;
}

/* md_httpd.h: the certificate-status JSON of one MD: its active certificates, and "renewal": {"cert": ...} when
 * staging/NAME holds a complete set waiting for its activation (by the running server, or MDActivationDelay). */
md_json_t *md_httpd_cert_status(const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p)
{
    md_reg_state_t *st;
    apr_array_header_t *staged;
    md_json_t *json, *renewal;
    md_reg_t *reg;
    const char *err;

    st = md_httpd_status_state(&err, &reg, mc, m, p);
    if (!st) return md_json_create(p);
    json = certs_json(st->certs, 0, p);
    staged = st->is_static ? NULL : md_reg_staged_certs(reg, st->md, p);
    if (staged && staged->nelts) {
        renewal = md_json_create(p);
        md_json_setj(certs_json(staged, 1, p), renewal, "cert", NULL);
        md_json_setj(renewal, json, "renewal", NULL);
    }
    return json;
}

/* True when the request asks for a host other than the one its TLS connection was made for (SNI): mod_ssl
 * answers those (421), and no host's status goes out over another host's connection. */
static int misdirected(request_rec *r)
{
    const char *sni = ap_ssl_var_lookup(r->pool, r->server, r->connection, r, "SSL_TLS_SNI");

    return sni && *sni && (!r->hostname || strcasecmp(sni, r->hostname));
}

static int send_status(request_rec *r, const md_mod_conf_t *mc, const md_managed_t *m)
{
    const char *text = md_json_writep(md_httpd_cert_status(mc, m, r->pool), MD_JSON_FMT_INDENT, r->pool);

    if (!text) return HTTP_INTERNAL_SERVER_ERROR;
    text = apr_pstrcat(r->pool, text, "\n", NULL);
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only) ap_rputs(text, r);
    return DONE;
}

/* post_read_request, before mod_ssl's: a host still served with the fallback certificate gets a 503 from the gate
 * in fixups, but its status is answered: nothing yet, or the renewal under way. Only initial GET (and HEAD) requests over https for the exact path; others take the normal way.
 * The response is complete here (DONE). */
static int cert_status_request(request_rec *r)
{
    md_srv_conf_t *sc = md_config_get(r->server);
    const md_managed_t *m;

    if (r->main || r->prev || !r->parsed_uri.path || strcmp(r->parsed_uri.path, MD_HTTPD_CERT_STATUS_PATH)) {
        return DECLINED;
    }
    if (r->method_number != M_GET || !sc->mc->certificate_status || !ap_ssl_conn_is_ssl(r->connection)
        || misdirected(r)) return DECLINED;
    m = md_config_md_for_host(sc, r->hostname, 0);
    if (!m) return DECLINED;
    return send_status(r, sc->mc, m);
}

void md_httpd_cert_status_hooks(void)
{
    static const char *const before_ssl[] = { "mod_ssl.c", NULL };

    ap_hook_post_read_request(cert_status_request, NULL, before_ssl, APR_HOOK_MIDDLE);
}
