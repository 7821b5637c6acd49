/* The 503 gate: https requests to an MD that has no usable certificate yet (served with the fallback) are refused. */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_ssl.h>

#include "md.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

static int gate_fixups(request_rec *r)
{
    md_srv_conf_t *sc = md_config_get(r->server);
    const md_managed_t *m;

    if (!ap_ssl_conn_is_ssl(r->connection)) return DECLINED;
    if (!strncmp(r->uri ? r->uri : "", MD_HTTPD_ACME_PATH, strlen(MD_HTTPD_ACME_PATH))) return DECLINED;
    if (md_httpd_status_exempt(r)) return DECLINED;
    m = md_config_md_for_host(sc, r->hostname, 1);
    if (!m || m->usable || m->cert_files->nelts || md_httpd_live_serves(sc->mc, m)) return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "%s: no certificate yet, answering 503", m->md->name);
    apr_table_setn(r->err_headers_out, "Retry-After", "60");
    return HTTP_SERVICE_UNAVAILABLE;
}

void md_httpd_gate_hooks(void)
{
    ap_hook_fixups(gate_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
