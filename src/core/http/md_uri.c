/* Checks of absolute URIs with mod_md's reasons: what MDCertificateAuthority and MDHttpProxy accept. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "md.h"
#include "md_uri.h"

/* The parts of "scheme:[//[user@]host[:port]]rest" that the checks need. */
typedef struct {
    const char *scheme;
    const char *host;          /* NULL without "//"; "" for "https://" */
    const char *port;          /* NULL without ':' after the host */
} uri_parts_t;

static int scheme_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

/* The authority after "//" up to the path: [user@]host[:port], the host possibly "[v6 address]". */
static const char *parse_authority(uri_parts_t *u, const char *s, apr_pool_t *p)
{
    apr_size_t len = strcspn(s, "/?#");
    const char *auth = apr_pstrmemdup(p, s, len), *at = strrchr(auth, '@'), *host, *colon, *c;

    host = at ? at + 1 : auth;
    if (*host == '[') {
        c = strchr(host, ']');
        if (!c || (c[1] && c[1] != ':')) return "not an uri";
        u->host = apr_pstrmemdup(p, host + 1, (apr_size_t)(c - host - 1));
        colon = c[1] ? c + 1 : NULL;
    }
    else {
        colon = strchr(host, ':');
        u->host = colon ? apr_pstrmemdup(p, host, (apr_size_t)(colon - host)) : host;
    }
    if (colon) {
        u->port = colon + 1;
        for (c = u->port; *c; ++c) {
            if (!isdigit((unsigned char)*c)) return "not an uri";
        }
    }
    return NULL;
}

static const char *parse(uri_parts_t *u, const char *s, apr_pool_t *p)
{
    const char *c, *colon = strchr(s, ':');

    memset(u, 0, sizeof(*u));
    for (c = s; colon && c < colon; ++c) {
        if (!scheme_char(*c)) colon = NULL;
    }
    if (!colon || colon == s) return "missing uri scheme";
    if (!isalpha((unsigned char)*s)) return "not an uri";
    u->scheme = apr_pstrmemdup(p, s, (apr_size_t)(colon - s));
    if (!colon[1]) return "missing uri identifier";
    if (!strncmp(colon + 1, "//", 2)) return parse_authority(u, colon + 3, p);
    return NULL;
}

static int is_http_scheme(const char *scheme)
{
    return scheme && (!strcasecmp(scheme, "http") || !strcasecmp(scheme, "https"));
}

/* The port as written is a number from 1 to 65535. */
static int port_ok(const char *port)
{
    long n;

    if (!port) return 1;
    if (!*port || strlen(port) > 5) return 0;
    n = strtol(port, NULL, 10);
    return n >= 1 && n <= 65535;
}

const char *md_uri_problem(const char *s, apr_pool_t *p)
{
    uri_parts_t u;
    const char *c, *problem;

    if (!s || !*s) return "missing uri scheme";
    for (c = s; *c; ++c) {
        if (isspace((unsigned char)*c)) return "whitespace in uri";
    }
    problem = parse(&u, s, p);
    if (problem || !is_http_scheme(u.scheme)) return problem;
    if (!u.host) return "missing hostname";
    if (*u.host && md_domain_problem(u.host)) return "invalid hostname";
    if (!port_ok(u.port)) return "invalid port";
    return NULL;
}

const char *md_uri_http_problem(const char *s, apr_pool_t *p)
{
    const char *problem = md_uri_problem(s, p);
    uri_parts_t u;

    if (problem) return problem;
    parse(&u, s, p);
    return is_http_scheme(u.scheme) ? NULL : "uri scheme must be http or https";
}

int md_uri_is_http(const char *s, apr_pool_t *p)
{
    uri_parts_t u;

    if (md_uri_problem(s, p)) return 0;
    parse(&u, s, p);
    return is_http_scheme(u.scheme) && u.host && *u.host;
}
