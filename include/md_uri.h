/* Checks of absolute URIs as the directives take them (CA directories, proxies), with mod_md's reasons. */
#ifndef MD_URI_H
#define MD_URI_H

#include <apr_pools.h>

/* NULL when uri is an absolute URI, else why not, in mod_md's words: "whitespace in uri", "not an uri", "missing
 * uri scheme", "missing uri identifier" (nothing after "scheme:"), and for http: and https: "missing hostname",
 * "invalid hostname", "invalid port" (not 1 to 65535). Any scheme passes ("ftp://x", "mailto:a@b"), and so does an
 * http: URL without a host ("https://"), as in mod_md; an IPv6 address in brackets is a valid host. */
const char *md_uri_problem(const char *uri, apr_pool_t *p);
/* md_uri_problem, and the scheme must be http or https: "uri scheme must be http or https". */
const char *md_uri_http_problem(const char *uri, apr_pool_t *p);
/* True when uri is an http: or https: URL with a host name: one the HTTP client can talk to. */
int md_uri_is_http(const char *uri, apr_pool_t *p);

#endif
