/* base64url (RFC 4648 section 5, unpadded) and hex encodings. */
#include <string.h>
#include <apr_strings.h>

#include "md_encode.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *md_b64url_encode(const void *data, apr_size_t len, apr_pool_t *p)
{
    const unsigned char *in = data;
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = b64url_alphabet[in[i] >> 2];
        *o++ = b64url_alphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
        *o++ = b64url_alphabet[((in[i + 1] & 0x0f) << 2) | (in[i + 2] >> 6)];
        *o++ = b64url_alphabet[in[i + 2] & 0x3f];
    }
    if (len - i == 1) {
        *o++ = b64url_alphabet[in[i] >> 2];
        *o++ = b64url_alphabet[(in[i] & 0x03) << 4];
    }
    else if (len - i == 2) {
        *o++ = b64url_alphabet[in[i] >> 2];
        *o++ = b64url_alphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
        *o++ = b64url_alphabet[(in[i + 1] & 0x0f) << 2];
    }
    *o = '\0';
    return out;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

apr_status_t md_b64url_decode(unsigned char **pdata, apr_size_t *plen, const char *s, apr_pool_t *p)
{
    apr_size_t n = strlen(s), i, olen = 0;
    unsigned char *out;
    unsigned int acc = 0;
    int bits = 0, v;

    while (n > 0 && s[n - 1] == '=') --n;
    if (n % 4 == 1) return APR_EINVAL;
    out = apr_palloc(p, n * 3 / 4 + 1);
    for (i = 0; i < n; ++i) {
        v = b64url_value(s[i]);
        if (v < 0) return APR_EINVAL;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[olen++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out[olen] = '\0';
    *pdata = out;
    *plen = olen;
    return APR_SUCCESS;
}

const char *md_hex_encode(const void *data, apr_size_t len, char sep, apr_pool_t *p)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *in = data;
    char *out = apr_palloc(p, len * 3 + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; ++i) {
        if (sep && i > 0) *o++ = sep;
        *o++ = digits[in[i] >> 4];
        *o++ = digits[in[i] & 0x0f];
    }
    *o = '\0';
    return out;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

apr_status_t md_hex_decode(unsigned char **pdata, apr_size_t *plen, const char *s, apr_pool_t *p)
{
    apr_size_t n = strlen(s), olen = 0;
    unsigned char *out = apr_palloc(p, n / 2 + 1);
    int hi, lo;

    while (*s) {
        if (*s == ':' && olen > 0) ++s;
        hi = hex_value(s[0]);
        lo = (hi >= 0) ? hex_value(s[1]) : -1;
        if (hi < 0 || lo < 0) return APR_EINVAL;
        out[olen++] = (unsigned char)((hi << 4) | lo);
        s += 2;
    }
    out[olen] = '\0';
    *pdata = out;
    *plen = olen;
    return APR_SUCCESS;
}
