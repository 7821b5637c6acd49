/* The "Managed Certificates" section of mod_status' server-status (HTML table, and ?auto counters). */
#include <string.h>

#include <apr_optional.h>
#include <apr_optional_hooks.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <mod_status.h>

#include "md_httpd.h"
#include "md_status.h"

APLOG_USE_MODULE(mdomain);

/* What ?auto counts. */
typedef struct {
    int total, ok, renew, errored;
} status_counts_t;

static const char *esc(request_rec *r, const char *s)
{
    return ap_escape_html(r->pool, s ? s : "");
}

static int md_errored(const md_json_t *json)
{
    return md_json_getl(json, "state", NULL) == MD_S_ERROR
           || md_json_getl(json, "renewal", "errors", NULL) > 0;
}

/* Due for renewal, or a renewal under way (or finished and waiting for the restart). */
static int md_renewing(const md_json_t *json)
{
    return md_json_getb(json, "renew", NULL) || md_json_has_key(json, "renewal", NULL);
}

static void count(status_counts_t *c, const md_json_t *json)
{
    int errored = md_errored(json), renewing = md_renewing(json);

    c->total++;
    if (errored) c->errored++;
    if (renewing) c->renew++;
    if (!errored && !renewing && md_json_getl(json, "state", NULL) == MD_S_COMPLETE) c->ok++;
}

static void put_names(request_rec *r, const md_json_t *json)
{
    apr_size_t i, n = md_json_count(json, "domains", NULL);

    for (i = 0; i < n; ++i) {
        ap_rvputs(r, i ? "<br>" : "", esc(r, md_json_gets(md_json_at(json, i, "domains", NULL), NULL)), NULL);
    }
}

typedef struct {
    request_rec *r;
    const md_mod_conf_t *mc;
    int n;
} link_ctx_t;

/* One link to the certificate monitor per certificate: cert_check_url + its SHA-256 fingerprint. */
static int put_link(void *baton, const char *key, md_json_t *cert)
{
    link_ctx_t *ctx = baton;
    const char *fp = md_json_gets(cert, "sha256-fingerprint", NULL);

    if (!fp) return 1;
    ap_rvputs(ctx->r, ctx->n++ ? "<br>" : "", "<a href=\"",
              esc(ctx->r, apr_pstrcat(ctx->r->pool, ctx->mc->cert_check_url, fp, NULL)), "\">",
              esc(ctx->r, ctx->mc->cert_check_name), " ", esc(ctx->r, key), "</a>", NULL);
    return 1;
}

static void put_links(request_rec *r, const md_mod_conf_t *mc, const md_json_t *json)
{
    link_ctx_t ctx = { r, mc, 0 };

    if (!mc->cert_check_url || !mc->cert_check_name) return;
    md_json_iterkey(put_link, &ctx, json, "cert", NULL);
}

/* The last failure: "N errors, next attempt DATE: detail (problem)". */
static void put_failure(request_rec *r, const md_json_t *renewal)
{
    const char *detail = md_json_gets(renewal, "last", "detail", NULL);
    const char *problem = md_json_gets(renewal, "last", "problem", NULL);
    const char *next = md_json_gets(renewal, "next-run", NULL);

    ap_rvputs(r, apr_ltoa(r->pool, (long)md_json_getl(renewal, "errors", NULL)), " error(s)", NULL);
    if (next) ap_rvputs(r, ", next attempt ", esc(r, next), NULL);
    if (detail) ap_rvputs(r, ": ", esc(r, detail), NULL);
    if (problem) ap_rvputs(r, " (", esc(r, problem), ")", NULL);
}

static void put_renewal(request_rec *r, const md_json_t *json)
{
    const md_json_t *renewal = md_json_getj(json, "renewal", NULL);
    const char *detail;

    if (!renewal) {
        if (!md_json_getb(json, "watched", NULL)) ap_rputs("not renewed here (MDRenewMode, or no https host)", r);
        else if (md_json_getb(json, "renew", NULL)) ap_rputs("due", r);
        return;
    }
    if (md_json_getl(renewal, "errors", NULL) > 0) {
        put_failure(r, renewal);
    }
    else if (md_json_getb(renewal, "finished", NULL)) {
        ap_rputs("renewed, served and activated within seconds (or when MDActivationDelay allows)", r);
    }
    else {
        detail = md_json_gets(md_json_at(renewal, 0, "log", "entries", NULL), "detail", NULL);
        ap_rvputs(r, "ongoing", detail ? ": " : "", detail ? esc(r, detail) : "", NULL);
    }
}

typedef struct {
    request_rec *r;
    int n;
} ocsp_ctx_t;

/* One certificate's revocation view: its OCSP response ("good until DATE", the last error) and its CRL check. */
static int put_ocsp_cert(void *baton, const char *key, md_json_t *cert)
{
    ocsp_ctx_t *ctx = baton;
    request_rec *r = ctx->r;
    const char *status = md_json_gets(cert, "ocsp", "status", NULL);
    const char *until = md_json_gets(cert, "ocsp", "valid", "until", NULL);
    const char *err = md_json_gets(cert, "ocsp", "last-error", NULL);

    if (!strcmp(key, "valid")) return 1;
    if (md_json_has_key(cert, "ocsp", NULL)) {
        ap_rvputs(r, ctx->n++ ? "<br>" : "", esc(r, status ? status : "no response"), NULL);
        if (until) ap_rvputs(r, " until ", esc(r, until), NULL);
        if (err) ap_rvputs(r, " (last attempt: ", esc(r, err), ")", NULL);
    }
    if (md_json_has_key(cert, "revocation", NULL)) {
        ap_rvputs(r, ctx->n++ ? "<br>" : "", "CRL: ", esc(r, md_json_gets(cert, "revocation", "status", NULL)),
                  NULL);
        if (md_json_gets(cert, "revocation", "error", NULL)) {
            ap_rvputs(r, " (", esc(r, md_json_gets(cert, "revocation", "error", NULL)), ")", NULL);
        }
    }
    return 1;
}

static void put_ocsp(request_rec *r, const md_json_t *json)
{
    ocsp_ctx_t ctx = { r, 0 };

    md_json_iterkey(put_ocsp_cert, &ctx, json, "cert", NULL);
    if (!ctx.n) ap_rputs(md_json_getb(json, "stapling", NULL) ? "no response yet" : "-", r);
}

static void put_row(request_rec *r, const md_mod_conf_t *mc, const md_json_t *json)
{
    const char *until = md_json_gets(json, "cert", "valid", "until", NULL);

    ap_rvputs(r, "<tr><td>", esc(r, md_json_gets(json, "name", NULL)), "</td><td>", NULL);
    put_names(r, json);
    ap_rvputs(r, "</td><td>", esc(r, md_json_gets(json, "state-descr", NULL)), "</td><td>",
              until ? esc(r, until) : "-", "</td><td>", NULL);
    put_ocsp(r, json);
    ap_rvputs(r, "</td><td>", esc(r, md_json_gets(json, "ca", "url", NULL)), "</td><td>", NULL);
    put_renewal(r, json);
    ap_rputs("</td><td>", r);
    put_links(r, mc, json);
    ap_rputs("</td></tr>\n", r);
}

static const char *const columns[] = { "Domain", "Names", "Status", "Valid until", "OCSP", "CA", "Renewal", "Check",
                                       NULL };

static void put_table_head(request_rec *r)
{
    int i;

    ap_rputs("<hr>\n<h3>Managed Certificates</h3>\n<table class=\"md_status\"><thead><tr>", r);
    for (i = 0; columns[i]; ++i) ap_rvputs(r, "<th>", columns[i], "</th>", NULL);
    ap_rputs("</tr></thead><tbody>\n", r);
}

static int md_server_status(request_rec *r, int flags)
{
    md_mod_conf_t *mc = md_config_get(r->server)->mc;
    status_counts_t c = { 0, 0, 0, 0 };
    apr_array_header_t *mds;
    md_json_t *json;
    apr_pool_t *ptemp;
    int i, html = !(flags & AP_STATUS_SHORT);

    if (!mc->server_status || !mc->mds || mc->mds->nelts == 0 || !md_httpd_child_enter()) return DECLINED;
    mds = md_httpd_status_sorted(mc, r->pool);
    apr_pool_create(&ptemp, r->pool);
    if (html) put_table_head(r);
    for (i = 0; i < mds->nelts && !md_httpd_child_ending(); ++i) {
        apr_pool_clear(ptemp);
        json = md_httpd_status_md(mc, APR_ARRAY_IDX(mds, i, const md_managed_t *), ptemp);
        count(&c, json);
        if (html) put_row(r, mc, json);
    }
    apr_pool_destroy(ptemp);
    if (i < mds->nelts) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "server-status: the child is ending, its MDs cut short after %d "
                      "of %d", i, mds->nelts);
    }
    md_httpd_child_leave();
    if (html) {
        ap_rputs("</tbody></table>\n", r);
        return OK;
    }
    ap_rprintf(r, "ManagedCertificatesTotal: %d\nManagedCertificatesOK: %d\nManagedCertificatesRenew: %d\n"
               "ManagedCertificatesErrored: %d\n", c.total, c.ok, c.renew, c.errored);
    return OK;
}

void md_httpd_status_server_hooks(void)
{
    APR_OPTIONAL_HOOK(ap, status_hook, md_server_status, NULL, NULL, APR_HOOK_MIDDLE);
}
