/* Encodings: base64url (RFC 4648 section 5, no padding) and lowercase hex. */
#ifndef MD_ENCODE_H
#define MD_ENCODE_H

#include <apr_pools.h>

/* Encode len bytes as base64url without padding; returns a NUL-terminated string. */
const char *md_b64url_encode(const void *data, apr_size_t len, apr_pool_t *p);
/* Decode base64url; trailing '=' padding is accepted, any other character outside the alphabet and
 * impossible lengths are APR_EINVAL. The output is NUL-terminated (not counted in *plen). */
apr_status_t md_b64url_decode(unsigned char **pdata, apr_size_t *plen, const char *s, apr_pool_t *p);

/* Lowercase hex; with sep != 0 the bytes are separated by that character ("a1:b2"). */
const char *md_hex_encode(const void *data, apr_size_t len, char sep, apr_pool_t *p);
/* Decode hex of either case, optionally with ':' separators; odd lengths or other characters are APR_EINVAL. */
apr_status_t md_hex_decode(unsigned char **pdata, apr_size_t *plen, const char *s, apr_pool_t *p);

#endif
