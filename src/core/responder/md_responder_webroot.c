/* The webroot http-01 responder: writes DIR/.well-known/acme-challenge/TOKEN for a web server to serve. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md_file.h"
#include "md_result.h"
#include "md_responder.h"
#include "md_responder_int.h"

typedef struct {
    const char *dir;
} webroot_t;

static int webroot_supports(void *baton, const char *type)
{
    (void)baton;
    return type && !strcmp(type, "http-01");
}

static apr_status_t webroot_path(const char **ppath, const char **pdir, const webroot_t *w,
                                 const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    if (!md_responder__token_ok(ch->token)) {
        md_result_printf(result, APR_EINVAL, "webroot: invalid http-01 token for %s",
                         ch->domain ? ch->domain : "?");
        return APR_EINVAL;
    }
    *pdir = md_file_join(p, w->dir, ".well-known", "acme-challenge", NULL);
    *ppath = md_file_join(p, *pdir, ch->token, NULL);
    return APR_SUCCESS;
}

static apr_status_t webroot_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                  apr_pool_t *p)
{
    const webroot_t *w = baton;
    const char *dir, *path;
    apr_status_t rv;

    rv = webroot_path(&path, &dir, w, ch, result, p);
    if (rv != APR_SUCCESS) goto leave;
    if (!ch->key_authz) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "webroot: no key authorization for %s", ch->domain ? ch->domain : "?");
        goto leave;
    }
    rv = md_file_mkdirs(dir, MD_DPERMS_PUBLIC, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "webroot: cannot create %s", dir);
        goto leave;
    }
    rv = md_file_write_atomic(path, ch->key_authz, strlen(ch->key_authz), MD_FPERMS_PUBLIC, p);
    if (rv != APR_SUCCESS) md_result_printf(result, rv, "webroot: cannot write %s", path);
leave:
    return rv;
}

static apr_status_t webroot_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                     apr_pool_t *p)
{
    const webroot_t *w = baton;
    const char *dir, *path;
    apr_status_t rv;

    rv = webroot_path(&path, &dir, w, ch, result, p);
    if (rv != APR_SUCCESS) return rv;
    if (unlink(path) != 0 && errno != ENOENT) {
        rv = APR_FROM_OS_ERROR(errno);
        md_result_printf(result, rv, "webroot: cannot remove %s", path);
    }
    return rv;
}

apr_status_t md_responder_webroot(md_responder_t **presp, const char *dir, apr_pool_t *p)
{
    webroot_t *w;
    md_responder_t *r;

    *presp = NULL;
    if (!dir || !*dir) return APR_EINVAL;
    w = apr_pcalloc(p, sizeof(*w));
    w->dir = apr_pstrdup(p, dir);
    r = apr_pcalloc(p, sizeof(*r));
    r->name = "webroot";
    r->supports = webroot_supports;
    r->setup = webroot_setup;
    r->teardown = webroot_teardown;
    r->baton = w;
    *presp = r;
    return APR_SUCCESS;
}
