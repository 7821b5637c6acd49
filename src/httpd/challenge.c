/* http-01: answering GET /.well-known/acme-challenge/TOKEN from challenges/DOMAIN/acme-http-01.txt (a line
 * "TOKEN KEY-AUTHORIZATION"), ahead of every other handler and redirect; and the responder writing those files. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "md_result.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

/* The key authorization stored for host and token, or NULL. */
static const char *stored_answer(md_store_t *store, const char *host, const char *token, apr_pool_t *p)
{
    const char *text, *sp;
    apr_size_t tlen = strlen(token);

    if (md_store_load((void **)&text, store, MD_SG_CHALLENGES, host, MD_HTTPD_HTTP01_ASPECT, MD_SV_TEXT, NULL, p)
        != APR_SUCCESS) return NULL;
    sp = strchr(text, ' ');
    if (!sp || (apr_size_t)(sp - text) != tlen || strncmp(text, token, tlen)) return NULL;
    return apr_pstrndup(p, sp + 1, strcspn(sp + 1, "\r\n"));
}

/* quick_handler: runs before translate_name, so no Redirect, RewriteRule or MDRequireHttps gets in the way. */
static int challenge_handler(request_rec *r, int lookup)
{
    md_mod_conf_t *mc = md_config_get(r->server)->mc;
    const char *token, *answer;
    apr_size_t plen = strlen(MD_HTTPD_ACME_PATH);

    if (!r->parsed_uri.path || strncmp(r->parsed_uri.path, MD_HTTPD_ACME_PATH, plen)) return DECLINED;
    if (!mc->store || !mc->mds || mc->mds->nelts == 0) return DECLINED;
    if (lookup) return DECLINED;
    token = r->parsed_uri.path + plen;
    if (r->method_number != M_GET) return HTTP_NOT_IMPLEMENTED;
    if (!*token || strchr(token, '/') || !r->hostname || strchr(r->hostname, '/') || r->hostname[0] == '.') {
        return HTTP_NOT_FOUND;
    }
    answer = stored_answer(mc->store, r->hostname, token, r->pool);
    if (!answer) return HTTP_NOT_FOUND;
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

static int http01_supports(void *baton, const char *type)
{
    (void)baton;
    return !strcmp(type, "http-01");
}

typedef struct {
    md_store_t *store;
    server_rec *base;
} http01_t;

/* True when a virtual host of this server has name as ServerName or ServerAlias (wildcards included). */
int md_httpd_is_local_name(server_rec *base, const char *name)
{
    server_rec *s;
    int i;

    for (s = base; s; s = s->next) {
        if (s->server_hostname && !strcasecmp(s->server_hostname, name)) return 1;
        for (i = 0; s->names && i < s->names->nelts; ++i) {
            if (!strcasecmp(APR_ARRAY_IDX(s->names, i, const char *), name)) return 1;
        }
        for (i = 0; s->wild_names && i < s->wild_names->nelts; ++i) {
            if (!ap_strcasecmp_match(name, APR_ARRAY_IDX(s->wild_names, i, const char *))) return 1;
        }
    }
    return 0;
}

static int http01_serves(void *baton, const char *domain)
{
    return md_httpd_is_local_name(((http01_t *)baton)->base, domain);
}

static apr_status_t http01_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    md_store_t *store = ((http01_t *)baton)->store;
    const char *line = apr_pstrcat(p, ch->token, " ", ch->key_authz, "\n", NULL);

    return md_store_save(store, MD_SG_CHALLENGES, ch->domain, MD_HTTPD_HTTP01_ASPECT, MD_SV_TEXT, line, 0,
                         result, p);
}

static apr_status_t http01_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                    apr_pool_t *p)
{
    md_store_t *store = ((http01_t *)baton)->store;

    (void)result;
    return md_store_remove(store, MD_SG_CHALLENGES, ch->domain, MD_HTTPD_HTTP01_ASPECT, 1, p);
}

/* The responder the watchdog's drives use for http-01 (the child writes challenges/, which it owns): it serves
 * the names of this server's virtual hosts; others go to MDEventHandler's setup-http-01 when there is one. */
md_responder_t *md_httpd_http01_responder(md_store_t *store, server_rec *base, apr_pool_t *p)
{
    md_responder_t *r = apr_pcalloc(p, sizeof(*r));
    http01_t *h = apr_pcalloc(p, sizeof(*h));

    h->store = store;
    h->base = base;
    r->name = "httpd-http-01";
    r->supports = http01_supports;
    r->serves = http01_serves;
    r->setup = http01_setup;
    r->teardown = http01_teardown;
    r->baton = h;
    return r;
}
