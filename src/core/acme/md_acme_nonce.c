/* The ACME nonce pool: fed by every Replay-Nonce, refilled by HEAD newNonce, shared by threads (mutex). */
#include <string.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_result.h"
#include "md_acme_int.h"

/* RFC 8555 6.5.1: a nonce is base64url; anything else is ignored. */
static int nonce_valid(const char *nonce)
{
    const char *c;

    if (!nonce || !*nonce || strlen(nonce) >= MD_ACME_NONCE_MAXLEN) return 0;
    for (c = nonce; *c; ++c) {
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
              || *c == '-' || *c == '_')) {
            return 0;
        }
    }
    return 1;
}

void md_acme__nonce_put(md_acme_t *acme, const md_http_response_t *resp)
{
    const char *nonce = resp ? md_http_header(resp, "Replay-Nonce") : NULL;

    if (!nonce_valid(nonce)) return;
    apr_thread_mutex_lock(acme->nonce_mutex);
    if (acme->nonce_count == MD_ACME_NONCE_POOL) {
        memmove(acme->nonces[0], acme->nonces[1], sizeof(acme->nonces[0]) * (MD_ACME_NONCE_POOL - 1));
        acme->nonce_count--;
    }
    apr_cpystrn(acme->nonces[acme->nonce_count++], nonce, MD_ACME_NONCE_MAXLEN);
    apr_thread_mutex_unlock(acme->nonce_mutex);
}

/* The newest nonce of the pool (removed from it), NULL when empty. */
static const char *nonce_pop(md_acme_t *acme, apr_pool_t *p)
{
    const char *nonce = NULL;

    apr_thread_mutex_lock(acme->nonce_mutex);
    if (acme->nonce_count > 0) {
        nonce = apr_pstrdup(p, acme->nonces[--acme->nonce_count]);
    }
    apr_thread_mutex_unlock(acme->nonce_mutex);
    return nonce;
}

int md_acme__nonce_count(md_acme_t *acme)
{
    int n;

    apr_thread_mutex_lock(acme->nonce_mutex);
    n = acme->nonce_count;
    apr_thread_mutex_unlock(acme->nonce_mutex);
    return n;
}

static apr_status_t nonce_fetch(const char **pnonce, md_acme_t *acme, md_result_t *result, apr_pool_t *p)
{
    const char *url = md_acme_resource(acme, "newNonce"), *nonce;
    md_http_response_t *resp = NULL;
    apr_status_t rv;

    *pnonce = NULL;
    if (!url) {
        md_result_printf(result, APR_EINVAL, "the ACME directory at %s has no newNonce", md_acme_url(acme));
        return APR_EINVAL;
    }
    rv = md_http_head(&resp, md_acme_http(acme), url, result, p);
    if (rv != APR_SUCCESS) return rv;
    nonce = md_http_header(resp, "Replay-Nonce");
    if (resp->status < 200 || resp->status >= 300 || !nonce_valid(nonce)) {
        md_result_printf(result, APR_EGENERAL, "newNonce %s answered HTTP %d %s", url, resp->status,
                         nonce ? "with an invalid Replay-Nonce" : "without a Replay-Nonce");
        return APR_EGENERAL;
    }
    *pnonce = apr_pstrdup(p, nonce);
    return APR_SUCCESS;
}

apr_status_t md_acme__nonce_get(const char **pnonce, md_acme_t *acme, md_result_t *result, apr_pool_t *p)
{
    *pnonce = nonce_pop(acme, p);
    if (*pnonce) return APR_SUCCESS;
    return nonce_fetch(pnonce, acme, result, p);
}
