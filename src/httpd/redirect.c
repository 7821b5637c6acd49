/* MDRequireHttps: plain http requests to an MD with a certificate (since the start, or served live since) are
 * redirected to https (port 443), and with "permanent" https responses carry HSTS. */
#include <string.h>

#include <apr_strings.h>
#include <apr_uri.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_ssl.h>

#include "md.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define HSTS_HEADER "Strict-Transport-Security"
/* about half a year, as mod_md */
#define HSTS_VALUE "max-age=15768000"

/* The MD of the request's server that covers its host name, or NULL. */
static const md_managed_t *host_md(const request_rec *r, const md_srv_conf_t *sc)
{
    const md_managed_t *m;
    int i;

    if (!sc->mds || !r->hostname) return NULL;
    for (i = 0; i < sc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(sc->mds, i, const md_managed_t *);
        if (md_covers(m->md, r->hostname)) return m;
    }
    return NULL;
}

/* The https: URL for the request: same host, path and query; the standard port 443 (the public port, as mod_md:
 * MDPortMap maps public ports to local ones, so clients reach https on 443). */
static const char *https_url(request_rec *r)
{
    apr_uri_t uri;

    memset(&uri, 0, sizeof(uri));
    uri.scheme = (char *)"https";
    uri.hostname = (char *)r->hostname;
    uri.port = 443;
    uri.port_str = (char *)"443";
    uri.path = r->parsed_uri.path;
    uri.query = r->parsed_uri.query;
    return apr_uri_unparse(r->pool, &uri, APR_URI_UNP_OMITUSERINFO);
}

/* post_read_request: after challenge.c's quick handler has had its chance; before any other module's handler. */
static int require_https(request_rec *r)
{
    md_srv_conf_t *sc = md_config_get(r->server);
    const md_managed_t *m;
    const char *url;
    int permanent;

    if (!r->parsed_uri.path || !strncmp(r->parsed_uri.path, MD_HTTPD_ACME_PATH, strlen(MD_HTTPD_ACME_PATH))) {
        return DECLINED;
    }
    m = host_md(r, sc);
    if (!m || m->require_https <= MD_REQUIRE_OFF) return DECLINED;
    if (!(m->usable || m->cert_files->nelts || md_httpd_live_announced(sc->mc, m))) return DECLINED;
    permanent = m->require_https == MD_REQUIRE_PERMANENT;
    if (ap_ssl_conn_is_ssl(r->connection)) {
        if (permanent && !apr_table_get(r->headers_out, HSTS_HEADER)
            && !apr_table_get(r->err_headers_out, HSTS_HEADER)) {
            apr_table_setn(r->err_headers_out, HSTS_HEADER, HSTS_VALUE);
        }
        return DECLINED;
    }
    url = https_url(r);
    if (!url || !*url) return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "%s: MDRequireHttps, redirecting to %s", m->md->name, url);
    apr_table_setn(r->headers_out, "Location", url);
    if (r->method_number == M_GET) {   /* HEAD too */
        return permanent ? HTTP_MOVED_PERMANENTLY : HTTP_MOVED_TEMPORARILY;
    }
    /* other methods: codes that keep the method on retry */
    return permanent ? HTTP_PERMANENT_REDIRECT : HTTP_TEMPORARY_REDIRECT;
}

void md_httpd_redirect_hooks(void)
{
    static const char *const after_ssl[] = { "mod_ssl.c", NULL };

    ap_hook_post_read_request(require_https, after_ssl, NULL, APR_HOOK_MIDDLE);
}
