/* The md-status handler: the status of all MDs as JSON, or of one at <location>/NAME (its name or a domain of it);
 * hook registration. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "md_httpd.h"
#include "md_status.h"

APLOG_USE_MODULE(mdomain);

/* The MD name after the handler's location (path_info "/NAME"), or NULL for all. */
static const char *requested_name(const request_rec *r)
{
    const char *name = r->path_info;

    if (!name) return NULL;
    while (*name == '/') ++name;
    if (!*name) return NULL;
    return name;
}

static int send_json(request_rec *r, const md_json_t *json)
{
    const char *text = md_json_writep(json, MD_JSON_FMT_INDENT, r->pool);

    if (!text) return HTTP_INTERNAL_SERVER_ERROR;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(text) + 1);
    if (r->header_only) return OK;
    ap_rputs(text, r);
    ap_rputs("\n", r);
    return OK;
}

static int md_status_handler(request_rec *r)
{
    md_mod_conf_t *mc;
    const md_managed_t *m;
    const char *name;
    md_json_t *json;

    if (!r->handler || strcmp(r->handler, MD_STATUS_HANDLER)) return DECLINED;
    r->allowed = (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) return HTTP_METHOD_NOT_ALLOWED;
    if (!md_httpd_child_enter()) return HTTP_SERVICE_UNAVAILABLE;     /* the child is ending */
    mc = md_config_get(r->server)->mc;
    name = requested_name(r);
    m = name ? md_httpd_status_find(mc, name, r->pool) : NULL;
    if (m) {
        json = md_httpd_status_md(mc, m, r->pool);
    }
    else {
        if (name) ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "md-status: no managed domain '%s', all shown", name);
        json = md_httpd_status_all(mc, r->pool);     /* as mod_md: a name no MD has shows them all */
    }
    md_httpd_child_leave();
    return send_json(r, json);
}

int md_httpd_status_exempt(const request_rec *r)
{
    if (!r->handler) return 0;
    return !strcmp(r->handler, MD_STATUS_HANDLER) || !strcmp(r->handler, "server-status")
           || !strcmp(r->handler, "md-metrics");
}

void md_httpd_status_handler_hooks(void)
{
    ap_hook_handler(md_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

void md_httpd_status_hooks(void)
{
    md_httpd_status_handler_hooks();
    md_httpd_status_server_hooks();
}
