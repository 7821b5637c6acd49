/* http-01: answering GET /.well-known/acme-challenge/TOKEN from the store's challenges/ ahead of other handlers. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "md_responder.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

/* quick_handler: runs before translate_name, so no Redirect, RewriteRule or MDRequireHttps gets in the way of an
 * answer. Only a stored answer for the host and token is answered; every other request under the path goes on to
 * the other handlers (a static file, another ACME client's webroot). */
static int challenge_handler(request_rec *r, int lookup)
{
    md_mod_conf_t *mc = md_config_get(r->server)->mc;
    const md_managed_t *m;
    const char *token, *answer;
    apr_size_t plen = strlen(MD_HTTPD_ACME_PATH);

    if (!r->parsed_uri.path || strncmp(r->parsed_uri.path, MD_HTTPD_ACME_PATH, plen)) return DECLINED;
    if (!mc->store || lookup || !r->hostname) return DECLINED;
    token = r->parsed_uri.path + plen;
    m = md_config_md_for_name(mc, r->hostname);
    answer = md_challenge_http01_lookup(mc->store, m ? m->md : NULL, r->hostname, token, r->pool);
    if (!answer) return DECLINED;
    if (r->method_number != M_GET) return HTTP_NOT_IMPLEMENTED;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "http-01 challenge for %s answered", r->hostname);
    ap_set_content_type(r, "text/plain");
    ap_set_content_length(r, (apr_off_t)strlen(answer));
    if (!r->header_only) ap_rputs(answer, r);
    return OK;
}

void md_httpd_challenge_hooks(void)
{
    ap_hook_quick_handler(challenge_handler, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

int md_httpd_server_has_name(const server_rec *s, const char *name)
{
    int i;

    if (s->server_hostname && !strcasecmp(s->server_hostname, name)) return 1;
    for (i = 0; s->names && i < s->names->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(s->names, i, const char *), name)) return 1;
    }
    for (i = 0; s->wild_names && i < s->wild_names->nelts; ++i) {
        if (!ap_strcasecmp_match(name, APR_ARRAY_IDX(s->wild_names, i, const char *))) return 1;
    }
    return 0;
}

/* True when a virtual host of this server has name as ServerName or ServerAlias (wildcards included). */
int md_httpd_is_local_name(server_rec *base, const char *name)
{
    server_rec *s;

    for (s = base; s; s = s->next) {
        if (md_httpd_server_has_name(s, name)) return 1;
    }
    return 0;
}

static int http01_serves(void *baton, const char *domain)
{
    return md_httpd_is_local_name(baton, domain);
}

/* The responder the watchdog's drives use for http-01: the answers go to the store's challenges/ (the child owns
 * it), from where this server, and any other on the same store, serves them; it is preferred for the names of this
 * server's virtual hosts (others go to MDEventHandler's setup-http-01 when there is one). */
md_responder_t *md_httpd_http01_responder(md_store_t *store, server_rec *base, apr_pool_t *p)
{
    md_responder_t *r = NULL;

    md_responder_store_http01(&r, store, http01_serves, base, p);
    return r;
}
