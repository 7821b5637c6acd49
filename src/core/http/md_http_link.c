/* Parsing of HTTP Link headers (RFC 8288) as ACME uses them: rel="up", rel="alternate", rel="index". */
#include <ctype.h>
#include <string.h>
#include <apr_strings.h>

#include "md_http.h"

typedef struct {
    const char *rel;
    const char *base_url;
    apr_array_header_t *links;
} link_ctx_t;

/* Resolve a reference against the base: absolute URLs stay, "/path" takes the base's scheme and host. */
static const char *resolve(const char *ref, const char *base, apr_pool_t *p)
{
    const char *host, *path;

    if (strstr(ref, "://") || !base) return ref;
    host = strstr(base, "://");
    if (!host) return ref;
    path = strchr(host + 3, '/');
    if (ref[0] == '/') {
        return apr_pstrcat(p, apr_pstrndup(p, base, path ? (apr_size_t)(path - base) : strlen(base)), ref, NULL);
    }
    path = strrchr(base, '/');
    return apr_pstrcat(p, apr_pstrndup(p, base, (apr_size_t)(path - base) + 1), ref, NULL);
}

/* True when the parameters (after the URI reference, up to the next link) contain rel=REL. rel may hold
 * several space-separated relation types. */
static int params_have_rel(const char *params, apr_size_t len, const char *rel, apr_pool_t *p)
{
    char *copy = apr_pstrndup(p, params, len), *param, *state = NULL, *eq, *value, *word, *wstate;

    for (param = apr_strtok(copy, ";", &state); param; param = apr_strtok(NULL, ";", &state)) {
        eq = strchr(param, '=');
        if (!eq) continue;
        *eq = '\0';
        apr_collapse_spaces(param, param);
        if (strcasecmp(param, "rel")) continue;
        value = eq + 1;
        while (isspace((unsigned char)*value) || *value == '"') ++value;
        for (word = apr_strtok(value, " \t\",", &wstate); word; word = apr_strtok(NULL, " \t\",", &wstate)) {
            if (!strcasecmp(word, rel)) return 1;
        }
    }
    return 0;
}

/* Each link is "<URI>" followed by ";"-separated parameters up to the next link's '<'
 * (a URI reference cannot contain '<'). */
static int collect_links(void *baton, const char *key, const char *value)
{
    link_ctx_t *ctx = baton;
    apr_pool_t *p = ctx->links->pool;
    const char *lt = strchr(value, '<'), *gt, *next;

    (void)key;
    while (lt && (gt = strchr(lt, '>')) != NULL) {
        next = strchr(gt, '<');
        if (params_have_rel(gt + 1, next ? (apr_size_t)(next - gt - 1) : strlen(gt + 1), ctx->rel, p)) {
            APR_ARRAY_PUSH(ctx->links, const char *) =
                resolve(apr_pstrndup(p, lt + 1, (apr_size_t)(gt - lt - 1)), ctx->base_url, p);
        }
        lt = next;
    }
    return 1;
}

apr_array_header_t *md_http_links(const md_http_response_t *resp, const char *rel, apr_pool_t *p)
{
    link_ctx_t ctx;

    ctx.rel = rel;
    ctx.base_url = resp->url;
    ctx.links = apr_array_make(p, 2, sizeof(const char *));
    if (resp->headers) apr_table_do(collect_links, &ctx, resp->headers, "Link", NULL);
    return ctx.links;
}
