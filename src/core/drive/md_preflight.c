/* Pre-flight checks: a challenge's answer as the CA would see it, and CAA (RFC 8659) for the CA's identities. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_jws.h"
#include "md_preflight.h"
#include "md_result.h"

apr_status_t md_preflight_parse(int *pflags, const char *value)
{
    if (!value) return APR_EINVAL;
    if (!strcasecmp(value, "on")) *pflags = MD_PREFLIGHT_ALL;
    else if (!strcasecmp(value, "off")) *pflags = 0;
    else if (!strcasecmp(value, "challenge")) *pflags = MD_PREFLIGHT_CHALLENGE;
    else if (!strcasecmp(value, "caa")) *pflags = MD_PREFLIGHT_CAA;
    else return APR_EINVAL;
    return APR_SUCCESS;
}

const char *md_preflight_str(int flags)
{
    switch (flags & MD_PREFLIGHT_ALL) {
    case MD_PREFLIGHT_ALL: return "on";
    case MD_PREFLIGHT_CHALLENGE: return "challenge";
    case MD_PREFLIGHT_CAA: return "caa";
    default: return "off";
    }
}

/* A look-up failed: nothing is decided (APR_SUCCESS), the result's detail says what was not checked. */
static apr_status_t unchecked(md_result_t *result, const char *what, const char *domain, md_result_t *lookup,
                              apr_pool_t *p)
{
    md_result_printf(result, APR_SUCCESS, "pre-flight: %s of %s not checked: %s", what, domain,
                     md_result_text(lookup, p));
    return APR_SUCCESS;
}

/* ---- CAA ------------------------------------------------------------------------------------------------- */

typedef struct {
    int critical;
    const char *tag, *value, *text;
} caa_t;

static int caa_parse(caa_t *c, const char *text, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, text), *sp1, *sp2;

    if (!(sp1 = strchr(copy, ' ')) || !(sp2 = strchr(sp1 + 1, ' '))) return 0;
    *sp1 = *sp2 = '\0';
    c->critical = (atoi(copy) & 128) != 0;
    c->tag = apr_pstrdup(p, sp1 + 1);
    c->value = sp2 + 1;
    c->text = text;
    return 1;
}

static int tag_known(const char *tag)
{
    static const char *const known[] = { "issue", "issuewild", "iodef", "contactemail", "contactphone",
                                         "issuemail", "issuevmc" };
    apr_size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); ++i) if (!strcasecmp(tag, known[i])) return 1;
    return 0;
}

/* The issuer domain of an issue/issuewild value (before ';', without white space), "" when it names none. */
static const char *caa_issuer(const char *value, apr_pool_t *p)
{
    const char *start = value, *end;

    while (*start == ' ' || *start == '\t') ++start;
    for (end = start; *end && *end != ';' && *end != ' ' && *end != '\t'; ++end) ;
    return apr_pstrndup(p, start, (apr_size_t)(end - start));
}

static int names_ca(const char *issuer, const apr_array_header_t *ids)
{
    int i;

    for (i = 0; i < ids->nelts; ++i) {
        if (!strcasecmp(issuer, APR_ARRAY_IDX(ids, i, const char *))) return 1;
    }
    return 0;
}

static const char *joined(const apr_array_header_t *caas, const char *tag, apr_pool_t *p)
{
    const char *s = NULL;
    const caa_t *c;
    int i;

    for (i = 0; i < caas->nelts; ++i) {
        c = APR_ARRAY_IDX(caas, i, const caa_t *);
        if (tag && strcasecmp(c->tag, tag)) continue;
        s = s ? apr_pstrcat(p, s, ", \"", c->text, "\"", NULL) : apr_pstrcat(p, "\"", c->text, "\"", NULL);
    }
    return s ? s : "";
}

apr_status_t md_preflight_caa(const md_dns_t *dns, const char *domain, const apr_array_header_t *ids,
                              md_result_t *result, apr_pool_t *p)
{
    int wildcard = !strncmp(domain, "*.", 2), i, n_issue = 0, n_wild = 0;
    const char *name = wildcard ? domain + 2 : domain, *tag, *ids_text;
    apr_array_header_t *answers = NULL, *caas = apr_array_make(p, 4, sizeof(caa_t *));
    md_result_t *lookup = md_result_make(p);
    caa_t *c;

    if (!ids || ids->nelts == 0) return APR_SUCCESS;
    /* the relevant record set: the name's, else the closest parent's that has one */
    for (;;) {
        if (md_dns_query(dns, &answers, name, "CAA", lookup, p) != APR_SUCCESS) {
            return unchecked(result, "CAA", domain, lookup, p);
        }
        if (answers->nelts > 0 || !strchr(name, '.')) break;
        name = strchr(name, '.') + 1;
    }
    for (i = 0; i < answers->nelts; ++i) {
        c = apr_pcalloc(p, sizeof(*c));
        if (!caa_parse(c, APR_ARRAY_IDX(answers, i, const char *), p)) continue;
        APR_ARRAY_PUSH(caas, caa_t *) = c;
        if (c->critical && !tag_known(c->tag)) {
            md_result_printf(result, APR_EACCES, "CAA of %s forbids any CA to issue for %s: the record \"%s\" is "
                             "critical and not understood (RFC 8659)", name, domain, c->text);
            return APR_EACCES;
        }
        if (!strcasecmp(c->tag, "issue")) ++n_issue;
        else if (!strcasecmp(c->tag, "issuewild")) ++n_wild;
    }
    tag = (wildcard && n_wild) ? "issuewild" : "issue";
    if (!strcmp(tag, "issue") && n_issue == 0) return APR_SUCCESS;
    for (i = 0; i < caas->nelts; ++i) {
        c = APR_ARRAY_IDX(caas, i, caa_t *);
        if (!strcasecmp(c->tag, tag) && names_ca(caa_issuer(c->value, p), ids)) return APR_SUCCESS;
    }
    ids_text = APR_ARRAY_IDX(ids, 0, const char *);
    for (i = 1; i < ids->nelts; ++i) ids_text = apr_pstrcat(p, ids_text, ", ", APR_ARRAY_IDX(ids, i, const char *), NULL);
    md_result_printf(result, APR_EACCES, "CAA of %s forbids this CA (%s) to issue for %s: %s names no identity of "
                     "it (RFC 8659)", name, ids_text, domain, joined(caas, tag, p));
    return APR_EACCES;
}

/* ---- the answers ----------------------------------------------------------------------------------------- */

static const char *trimmed(const char *s, apr_size_t len, apr_pool_t *p)
{
    while (len > 0 && isspace((unsigned char)s[len - 1])) --len;
    return apr_pstrndup(p, s, len);
}

/* What an answer text looks like in a message: short and printable. */
static const char *shown(const char *s, apr_pool_t *p)
{
    char *c = apr_pstrndup(p, s, 60);
    char *q;

    for (q = c; *q; ++q) if (!isprint((unsigned char)*q)) *q = '?';
    return apr_pstrcat(p, "\"", c, strlen(s) > 60 ? "...\"" : "\"", NULL);
}

static apr_status_t check_http01(const md_dns_t *dns, const md_http_backend_t *backend, int port,
                                 const char *domain, const char *token, const char *key_authz,
                                 md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *addrs = apr_array_make(p, 2, sizeof(const char *)), *some = NULL;
    static const char *const types[] = { "AAAA", "A" };
    const char *addr, *url, *found = NULL, *got;
    md_result_t *lookup = md_result_make(p), *fetch;
    md_http_options_t opts;
    md_http_request_t req;
    md_http_response_t *resp;
    md_http_t *http;
    int i, j;

    for (i = 0; i < 2; ++i) {
        if (md_dns_query(dns, &some, domain, types[i], lookup, p) != APR_SUCCESS) {
            return unchecked(result, "the http-01 answer", domain, lookup, p);
        }
        for (j = 0; j < some->nelts; ++j) APR_ARRAY_PUSH(addrs, const char *) = APR_ARRAY_IDX(some, j, const char *);
    }
    if (addrs->nelts == 0) {
        md_result_printf(result, APR_EAGAIN, "pre-flight: %s has no address in DNS, the CA cannot fetch the http-01 "
                         "answer", domain);
        return APR_EAGAIN;
    }
    memset(&opts, 0, sizeof(opts));
    opts.connect_timeout = apr_time_from_sec(5);
    opts.timeout = apr_time_from_sec(10);
    opts.max_body = 8192;
    if (md_http_create(&http, &opts, backend, p) != APR_SUCCESS) return APR_SUCCESS;
    for (i = 0; i < addrs->nelts; ++i) {
        addr = APR_ARRAY_IDX(addrs, i, const char *);
        url = apr_psprintf(p, strchr(addr, ':') ? "http://[%s]:%d/.well-known/acme-challenge/%s"
                                                 : "http://%s:%d/.well-known/acme-challenge/%s",
                           addr, port > 0 ? port : 80, token);
        memset(&req, 0, sizeof(req));
        req.method = "GET";
        req.url = url;
        req.headers = apr_table_make(p, 1);
        apr_table_set(req.headers, "Host", domain);
        fetch = md_result_make(p);
        resp = NULL;
        if (md_http_perform(&resp, http, &req, fetch, p) != APR_SUCCESS || !resp) {
            got = apr_psprintf(p, "%s: %s", url, md_result_text(fetch, p));
        }
        else if (resp->status != 200) got = apr_psprintf(p, "%s: HTTP status %d", url, resp->status);
        else if (strcmp(trimmed(resp->body.data ? resp->body.data : "", resp->body.len, p), key_authz)) {
            got = apr_psprintf(p, "%s: %s, not the answer", url,
                               shown(trimmed(resp->body.data ? resp->body.data : "", resp->body.len, p), p));
        }
        else return APR_SUCCESS;
        found = found ? apr_pstrcat(p, found, "; ", got, NULL) : got;
    }
    md_result_printf(result, APR_EAGAIN, "pre-flight: the http-01 answer for %s is not visible at its address%s in "
                     "DNS (%s)", domain, addrs->nelts > 1 ? "es" : "", found);
    return APR_EAGAIN;
}

static apr_status_t check_dns01(const md_dns_t *dns, const char *domain, const char *key_authz,
                                md_result_t *result, apr_pool_t *p)
{
    const char *name = apr_pstrcat(p, "_acme-challenge.", domain, NULL), *want = md_jws_dns01_txt(key_authz, p);
    const char *have = NULL;
    apr_array_header_t *txts = NULL;
    md_result_t *lookup = md_result_make(p);
    int i;

    if (md_dns_query(dns, &txts, name, "TXT", lookup, p) != APR_SUCCESS) {
        return unchecked(result, "the dns-01 answer", domain, lookup, p);
    }
    for (i = 0; i < txts->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(txts, i, const char *), want)) return APR_SUCCESS;
        have = have ? apr_pstrcat(p, have, ", ", shown(APR_ARRAY_IDX(txts, i, const char *), p), NULL)
                    : shown(APR_ARRAY_IDX(txts, i, const char *), p);
    }
    md_result_printf(result, APR_EAGAIN, "pre-flight: the dns-01 answer for %s is not in DNS: %s has %s%s", domain,
                     name, have ? "only TXT " : "no TXT record", have ? have : "");
    return APR_EAGAIN;
}

apr_status_t md_preflight_answer(const md_dns_t *dns, const md_http_backend_t *http, int http_port, const char *type,
                                 const char *domain, const char *token, const char *key_authz,
                                 md_result_t *result, apr_pool_t *p)
{
    if (!strcmp(type, "http-01")) return check_http01(dns, http, http_port, domain, token, key_authz, result, p);
    if (!strcmp(type, "dns-01")) return check_dns01(dns, domain, key_authz, result, p);
    return APR_SUCCESS;
}
