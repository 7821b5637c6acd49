/* Which URLs a CA may hand out: account and order URLs must be on the CA's origin (scheme, host and port). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_result.h"

static char *lower(const char *s, apr_pool_t *p)
{
    char *c = apr_pstrdup(p, s), *x;

    for (x = c; *x; ++x) *x = (char)tolower((unsigned char)*x);
    return c;
}

/* scheme://host:port of an absolute http(s) URL, lower case with the port always given; NULL when it is none (no
 * host, user info, a bad port). */
static const char *origin_of(const char *url, apr_pool_t *p)
{
    const char *scheme, *auth, *end, *colon, *host;
    unsigned long port;
    char *stop;

    if (!url) return NULL;
    if (!strncasecmp(url, "https://", 8)) scheme = "https", auth = url + 8, port = 443;
    else if (!strncasecmp(url, "http://", 7)) scheme = "http", auth = url + 7, port = 80;
    else return NULL;
    end = auth + strcspn(auth, "/?#");
    host = apr_pstrndup(p, auth, (apr_size_t)(end - auth));
    if (!*host || strchr(host, '@')) return NULL;
    colon = strrchr(host, ':');
    if (colon && (host[0] != '[' || strchr(colon, ']') == NULL)) {
        port = strtoul(colon + 1, &stop, 10);
        if (colon[1] == '\0' || *stop || port == 0 || port > 65535) return NULL;
        host = apr_pstrndup(p, host, (apr_size_t)(colon - host));
        if (!*host) return NULL;
    }
    return apr_psprintf(p, "%s://%s:%lu", scheme, lower(host, p), port);
}

const char *md_acme_on_origin(md_acme_t *acme, const char *what, const char *url, md_result_t *result,
                              apr_pool_t *p)
{
    const char *ca = origin_of(md_acme_url(acme), p), *at;

    if (url && url[0] == '/' && url[1] != '/' && ca) {      /* relative to the CA: "/acme/acct/1" */
        url = apr_pstrcat(p, ca, url, NULL);
    }
    at = origin_of(url, p);
    if (at && ca && !strcmp(at, ca)) return url;
    md_result_printf(result, APR_EINVAL, "the CA at %s gave %s %s, which is not on its origin %s: refused",
                     md_acme_url(acme), what, url ? url : "(none)", ca ? ca : "(none)");
    return NULL;
}
