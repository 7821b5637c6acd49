/* http-01: answering GET /.well-known/acme-challenge/TOKEN from challenges/DOMAIN/acme-http-01.txt (a line
 * "TOKEN KEY-AUTHORIZATION"), ahead of every other handler and redirect; and the responder writing those files. */
#include <string.h>

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

static apr_status_t http01_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    md_store_t *store = baton;
    const char *line = apr_pstrcat(p, ch->token, " ", ch->key_authz, "\n", NULL);

    return md_store_save(store, MD_SG_CHALLENGES, ch->domain, MD_HTTPD_HTTP01_ASPECT, MD_SV_TEXT, line, 0,
                         result, p);
}

static apr_status_t http01_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                    apr_pool_t *p)
{
    md_store_t *store = baton;

    (void)result;
    return md_store_remove(store, MD_SG_CHALLENGES, ch->domain, MD_HTTPD_HTTP01_ASPECT, 1, p);
}

/* The responder the watchdog's drives use for http-01 (the child writes challenges/, which it owns). */
md_responder_t *md_httpd_http01_responder(md_store_t *store, apr_pool_t *p)
{
    md_responder_t *r = apr_pcalloc(p, sizeof(*r));

    r->name = "httpd-http-01";
    r->supports = http01_supports;
    r->setup = http01_setup;
    r->teardown = http01_teardown;
    r->baton = store;
    return r;
}
