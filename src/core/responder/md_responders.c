/* The set of challenge responders, asked in order; and small helpers shared by the built-in responders. */
#include <string.h>
#include <arpa/inet.h>
#include <apr_strings.h>

#include "md_responder.h"
#include "md_responder_int.h"

struct md_responders_t {
    apr_array_header_t *list;   /* of md_responder_t (copies) */
};

md_responders_t *md_responders_make(apr_pool_t *p)
{
    md_responders_t *rs = apr_pcalloc(p, sizeof(*rs));

    rs->list = apr_array_make(p, 4, sizeof(md_responder_t));
    return rs;
}

void md_responders_add(md_responders_t *rs, const md_responder_t *r)
{
    if (!rs || !r) return;
    APR_ARRAY_PUSH(rs->list, md_responder_t) = *r;
}

/* The first responder that supports the type and serves the identifier; when none serves it, the first that
 * supports the type (an answer from here is better than none). */
const md_responder_t *md_responders_for_domain(const md_responders_t *rs, const char *type, const char *domain)
{
    const md_responder_t *r, *fallback = NULL;
    int i;

    if (!rs || !type) return NULL;
    for (i = 0; i < rs->list->nelts; ++i) {
        r = &APR_ARRAY_IDX(rs->list, i, md_responder_t);
        if (!r->supports || !r->supports(r->baton, type)) continue;
        if (!domain || !r->serves || r->serves(r->baton, domain)) return r;
        if (!fallback) fallback = r;
    }
    return fallback;
}

const md_responder_t *md_responders_for(const md_responders_t *rs, const char *type)
{
    return md_responders_for_domain(rs, type, NULL);
}

apr_array_header_t *md_responders_types_for(const md_responders_t *rs, const char *domain, apr_pool_t *p)
{
    static const char *const types[] = { "http-01", "tls-alpn-01", "dns-01" };
    apr_array_header_t *out = apr_array_make(p, 3, sizeof(const char *));
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
        if (md_responders_for_domain(rs, types[i], domain)) APR_ARRAY_PUSH(out, const char *) = types[i];
    }
    return out;
}

apr_array_header_t *md_responders_types(const md_responders_t *rs, apr_pool_t *p)
{
    return md_responders_types_for(rs, NULL, p);
}

int md_responders_count(const md_responders_t *rs)
{
    return rs ? rs->list->nelts : 0;
}

const md_responder_t *md_responders_get(const md_responders_t *rs, int i)
{
    if (!rs || i < 0 || i >= rs->list->nelts) return NULL;
    return &APR_ARRAY_IDX(rs->list, i, md_responder_t);
}

const md_responder_t *md_responders_serving(const md_responders_t *rs, const char *type, const char *domain)
{
    const md_responder_t *r = md_responders_for_domain(rs, type, domain);

    if (!r || !domain || !r->serves || r->serves(r->baton, domain)) return r;
    return NULL;
}

int md_responder__token_ok(const char *token)
{
    const char *s;

    if (!token || !*token) return 0;
    for (s = token; *s; ++s) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
              || *s == '-' || *s == '_')) {
            return 0;
        }
    }
    return 1;
}

const char *md_responder__reverse_name(const char *name, apr_pool_t *p)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char a[16];
    char buf[80], *d = buf;
    int i;

    if (!name) return NULL;
    if (inet_pton(AF_INET, name, a) == 1) {
        return apr_psprintf(p, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    }
    if (inet_pton(AF_INET6, name, a) != 1) return NULL;
    for (i = 15; i >= 0; --i) {
        *d++ = hex[a[i] & 0x0f];
        *d++ = '.';
        *d++ = hex[a[i] >> 4];
        *d++ = '.';
    }
    strcpy(d, "ip6.arpa");
    return apr_pstrdup(p, buf);
}
