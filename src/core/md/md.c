/* The managed domain model: creation with mod_md's defaults, deep copies, name look-ups, store file names. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "md.h"
#include "md_encode.h"
#include "md_md_int.h"

static const char *const state_names[] = {
    "unknown", "incomplete", "complete", "expired", "error", "missing-information",
};

apr_array_header_t *md_md__strs_copy(const apr_array_header_t *src, int dedup, apr_pool_t *p)
{
    apr_array_header_t *dest = apr_array_make(p, src && src->nelts ? src->nelts : 2, sizeof(const char *));
    apr_hash_t *seen = dedup ? apr_hash_make(p) : NULL;     /* lowercased: linear for 100 000 names */
    const char *s;
    char *key, *c;
    int i;

    for (i = 0; src && i < src->nelts; ++i) {
        s = APR_ARRAY_IDX(src, i, const char *);
        if (!s) continue;
        if (seen) {
            key = apr_pstrdup(p, s);
            for (c = key; *c; ++c) *c = (char)apr_tolower(*c);
            if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) continue;
            apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);
        }
        APR_ARRAY_PUSH(dest, const char *) = apr_pstrdup(p, s);
    }
    return dest;
}

int md_md__strs_index(const apr_array_header_t *a, const char *s)
{
    int i;

    for (i = 0; a && s && i < a->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(a, i, const char *), s)) return i;
    }
    return -1;
}

md_timeslice_t *md_md__timeslice_make(int percent, apr_interval_time_t len, apr_pool_t *p)
{
    md_timeslice_t *ts = apr_pcalloc(p, sizeof(*ts));

    ts->percent = percent;
    ts->len = len;
    return ts;
}

md_pkey_spec_t *md_md__pkey_spec_default(apr_pool_t *p)
{
    md_pkey_spec_t *spec = apr_pcalloc(p, sizeof(*spec));

    spec->type = MD_PKEY_RSA;
    spec->bits = MD_PKEY_RSA_BITS_DEF;
    return spec;
}

md_t *md_create(const apr_array_header_t *domains, apr_pool_t *p)
{
    md_t *md = apr_pcalloc(p, sizeof(*md));

    md->domains = md_md__strs_copy(domains, 1, p);
    md->name = md->domains->nelts ? APR_ARRAY_IDX(md->domains, 0, const char *) : NULL;
    md->contacts = apr_array_make(p, 2, sizeof(const char *));
    md->ca_urls = apr_array_make(p, 2, sizeof(const char *));
    md->ca_challenges = apr_array_make(p, 3, sizeof(const char *));
    md->pks = apr_array_make(p, 2, sizeof(md_pkey_spec_t *));
    APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = md_md__pkey_spec_default(p);
    md->pks_default = 1;
    md->renew_window = md_md__timeslice_make(MD_MD_RENEW_PERCENT_DEF, 0, p);
    md->warn_window = md_md__timeslice_make(MD_MD_WARN_PERCENT_DEF, 0, p);
    md->renew_mode = MD_RENEW_AUTO;
    md->transitive = 1;
    md->ari_renewals = 1;
    md->dns01_version = MD_MD_DNS01_VERSION_DEF;
    md->retry_failover = MD_MD_RETRY_FAILOVER_DEF;
    md->install_mode = MD_MD_INSTALL_MODE_DEF;
    md->install_cmd = apr_array_make(p, 2, sizeof(const char *));
    md->install_reload = apr_array_make(p, 2, sizeof(const char *));
    md->event_handler = apr_array_make(p, 2, sizeof(const char *));
    md->acme_tls_1 = apr_array_make(p, 2, sizeof(const char *));
    md->state = MD_S_UNKNOWN;
    return md;
}

static const char *dup_or_null(const char *s, apr_pool_t *p)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

static apr_array_header_t *pks_copy(const apr_array_header_t *src, apr_pool_t *p)
{
    apr_array_header_t *dest = apr_array_make(p, src && src->nelts ? src->nelts : 1, sizeof(md_pkey_spec_t *));
    const md_pkey_spec_t *from;
    md_pkey_spec_t *to;
    int i;

    for (i = 0; src && i < src->nelts; ++i) {
        from = APR_ARRAY_IDX(src, i, const md_pkey_spec_t *);
        if (!from) continue;
        to = apr_pmemdup(p, from, sizeof(*to));
        to->curve = dup_or_null(from->curve, p);
        APR_ARRAY_PUSH(dest, md_pkey_spec_t *) = to;
    }
    return dest;
}

static md_timeslice_t *ts_copy(const md_timeslice_t *ts, apr_pool_t *p)
{
    return ts ? apr_pmemdup(p, ts, sizeof(*ts)) : NULL;
}

md_t *md_clone(const md_t *md, apr_pool_t *p)
{
    md_t *c;

    if (!md) return NULL;
    c = apr_pmemdup(p, md, sizeof(*c));
    c->name = dup_or_null(md->name, p);
    c->domains = md_md__strs_copy(md->domains, 0, p);
    c->contacts = md_md__strs_copy(md->contacts, 0, p);
    c->ca_urls = md_md__strs_copy(md->ca_urls, 0, p);
    c->ca_effective = dup_or_null(md->ca_effective, p);
    c->ca_account = dup_or_null(md->ca_account, p);
    c->ca_agreement = dup_or_null(md->ca_agreement, p);
    c->ca_eab_kid = dup_or_null(md->ca_eab_kid, p);
    c->ca_eab_hmac = dup_or_null(md->ca_eab_hmac, p);
    c->ca_file = dup_or_null(md->ca_file, p);
    c->proxy_url = dup_or_null(md->proxy_url, p);
    c->ca_challenges = md_md__strs_copy(md->ca_challenges, 0, p);
    c->pks = pks_copy(md->pks, p);
    c->renew_window = ts_copy(md->renew_window, p);
    c->warn_window = ts_copy(md->warn_window, p);
    c->profile = dup_or_null(md->profile, p);
    c->preferred_chain = dup_or_null(md->preferred_chain, p);
    c->account_key = dup_or_null(md->account_key, p);
    c->dns01_cmd = dup_or_null(md->dns01_cmd, p);
    c->install_chain = dup_or_null(md->install_chain, p);
    c->install_key = dup_or_null(md->install_key, p);
    c->install_ocsp = dup_or_null(md->install_ocsp, p);
    c->install_cmd = md_md__strs_copy(md->install_cmd, 0, p);
    c->install_owner = dup_or_null(md->install_owner, p);
    c->install_reload = md_md__strs_copy(md->install_reload, 0, p);
    c->event_handler = md_md__strs_copy(md->event_handler, 0, p);
    c->acme_tls_1 = md_md__strs_copy(md->acme_tls_1, 0, p);
    c->state_descr = dup_or_null(md->state_descr, p);
    c->extra = md->extra ? md_json_clone(md->extra, p) : NULL;
    return c;
}

int md_contains(const md_t *md, const char *name)
{
    return md && md_md__strs_index(md->domains, name) >= 0;
}

const char *md_common_name(const md_t *a, const md_t *b)
{
    const char *name;
    int i;

    if (!a || !b || !a->domains) return NULL;
    for (i = 0; i < a->domains->nelts; ++i) {
        name = APR_ARRAY_IDX(a->domains, i, const char *);
        if (md_contains(b, name)) return name;
    }
    return NULL;
}

int md_dns_matches(const char *pattern, const char *name)
{
    const char *dot;

    if (!pattern || !name) return 0;
    if (!strcasecmp(pattern, name)) return 1;
    if (strncmp(pattern, "*.", 2) != 0 || name[0] == '*') return 0;
    dot = strchr(name, '.');
    if (!dot || dot == name) return 0;
    return strlen(dot) == strlen(pattern + 1) && !strcasecmp(dot, pattern + 1);
}

int md_covers(const md_t *md, const char *name)
{
    int i;

    for (i = 0; md && md->domains && i < md->domains->nelts; ++i) {
        if (md_dns_matches(APR_ARRAY_IDX(md->domains, i, const char *), name)) return 1;
    }
    return 0;
}

const char *md_domain_impossible(const char *name)
{
    unsigned char buf[16];
    const char *last, *s;

    if (!name || !*name || inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1) return NULL;
    last = strrchr(name, '.');
    last = last ? last + 1 : name;
    for (s = last; *s && isdigit((unsigned char)*s); ++s);
    if (*last && !*s && strspn(name, "0123456789.") == strlen(name)) {
        return "not an IPv4 address (four numbers 0 to 255), and a DNS name cannot end in a number";
    }
    if (*last && !*s) return "a DNS name cannot end in a number (its top-level domain)";
    if (!strncmp(name, "*.", 2) && !strchr(name + 2, '.')) {
        return "a wildcard needs at least two labels after '*.' (*.example.org): no CA issues one for a whole "
               "top-level domain";
    }
    return NULL;
}

const char *md_domain_problem(const char *name)
{
    unsigned char buf[16];
    const char *s = name, *label = name, *why;

    if (!name || !*name) return "the name is empty";
    if (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1) return NULL;
    if ((why = md_domain_impossible(name)) != NULL) return why;
    if (!strncmp(s, "*.", 2)) s = label = name + 2;
    if (!*s) return "a wildcard needs a domain after '*.'";
    if (strlen(s) > 253) return "longer than 253 characters";
    for (; *s; ++s) {
        if (*s == '.') {
            if (s == label || s[1] == '\0') return "it has an empty label (two dots, or a dot at either end)";
            label = s + 1;
        }
        else if (!isalnum((unsigned char)*s) && *s != '-') {
            return "only letters, digits, '-' and '.' are allowed (and a leading '*.')";
        }
        else if (s - label >= 63) {
            return "a label is longer than 63 characters";
        }
    }
    return NULL;
}

const char *md_name_problem(const char *name)
{
    if (!name || !*name) return "the name is empty";
    if (!strcmp(name, ".") || !strcmp(name, "..")) return "'.' and '..' cannot name a directory in the store";
    if (strchr(name, '/')) return "a '/' cannot be in the name of a directory in the store";
    if (strlen(name) > 253) return "longer than 253 characters (no DNS name is)";
    return NULL;
}

const char *md_challenge_type_known(const char *word)
{
    static const char *const types[] = { "http-01", "tls-alpn-01", "dns-01" };
    size_t i;

    for (i = 0; word && i < sizeof(types) / sizeof(types[0]); ++i) {
        if (!strcasecmp(word, types[i])) return types[i];
    }
    return NULL;
}

/* mod_md's rule: an RSA key is "<base>.pem", any other "<base>.<spec name>.pem", all lowercase. */
static const char *aspect(const md_t *md, int i, const char *base, apr_pool_t *p)
{
    const md_pkey_spec_t *spec;
    char *name, *c;

    if (!md || !md->pks || i < 0 || i >= md->pks->nelts) return NULL;
    spec = APR_ARRAY_IDX(md->pks, i, const md_pkey_spec_t *);
    if (!spec || spec->type == MD_PKEY_RSA) return apr_pstrcat(p, base, ".pem", NULL);
    name = apr_pstrcat(p, base, ".", md_pkey_spec_name(spec, p), ".pem", NULL);
    for (c = name; *c; ++c) {
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    }
    return name;
}

const char *md_pkey_aspect(const md_t *md, int i, apr_pool_t *p)
{
    return aspect(md, i, "privkey", p);
}

const char *md_cert_aspect(const md_t *md, int i, apr_pool_t *p)
{
    return aspect(md, i, "pubcert", p);
}

const char *md_state_str(md_state_t state)
{
    if ((int)state < 0 || (size_t)state >= sizeof(state_names) / sizeof(state_names[0])) return "unknown";
    return state_names[state];
}

int md_challenge_allowed(const md_t *md, const char *type)
{
    if (!md || !type || !md->ca_challenges || md->ca_challenges->nelts == 0) return 1;
    return md_md__strs_index(md->ca_challenges, type) >= 0;
}

int md_acme_tls_1_has(const md_t *md, const char *name)
{
    return md && name && md_md__strs_index(md->acme_tls_1, name) >= 0;
}

apr_interval_time_t md_challenge_delay(const md_t *md, const char *type)
{
    if (!md || !type) return 0;
    if (!strcmp(type, "http-01")) return md->challenge_delays.http01;
    if (!strcmp(type, "tls-alpn-01")) return md->challenge_delays.tlsalpn01;
    if (!strcmp(type, "dns-01")) return md->challenge_delays.dns01;
    return 0;
}

apr_status_t md_challenge_delay_parse(md_challenge_delays_t *delays, const char *word, const char **perr,
                                      apr_pool_t *p)
{
    const char *eq = word ? strchr(word, '=') : NULL, *type, *value;
    apr_interval_time_t d = 0;
    apr_size_t len;

    if (!eq) {
        *perr = apr_psprintf(p, "'%s' is not TYPE=DURATION (e.g. dns-01=2m)", word ? word : "");
        return APR_EINVAL;
    }
    type = apr_pstrndup(p, word, (apr_size_t)(eq - word));
    value = eq + 1;
    len = strlen(value);
    if (len > 1 && value[len - 1] == 'm' && apr_isdigit(value[len - 2])) {
        value = apr_pstrcat(p, value, "i", NULL);         /* "2m": minutes, as people write them */
    }
    if (!strcmp(value, "off")) value = "0";
    if (md_duration_parse(&d, value, "s") != APR_SUCCESS) {
        *perr = apr_psprintf(p, "'%s' in '%s' is not a duration (e.g. 90s, 2m, 1h; off)", eq + 1, word);
        return APR_EINVAL;
    }
    if (!strcmp(type, "http-01")) delays->http01 = d;
    else if (!strcmp(type, "tls-alpn-01")) delays->tlsalpn01 = d;
    else if (!strcmp(type, "dns-01")) delays->dns01 = d;
    else {
        *perr = apr_psprintf(p, "unknown challenge type '%s' in '%s' (http-01, tls-alpn-01 or dns-01)", type, word);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

const char *md_challenge_delays_print(const md_challenge_delays_t *d, apr_pool_t *p)
{
    const char *s = "";

    if (d->http01) s = apr_pstrcat(p, s, "http-01=", md_duration_print(d->http01, p), NULL);
    if (d->tlsalpn01) s = apr_pstrcat(p, s, *s ? " " : "", "tls-alpn-01=", md_duration_print(d->tlsalpn01, p), NULL);
    if (d->dns01) s = apr_pstrcat(p, s, *s ? " " : "", "dns-01=", md_duration_print(d->dns01, p), NULL);
    return s;
}

const char *md_digest(const md_t *md, apr_pool_t *p)
{
    md_t *c = md_clone(md, p);
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const char *text;

    c->state = MD_S_UNKNOWN;
    c->state_descr = NULL;
    c->ca_account = NULL;
    c->ca_effective = NULL;
    text = md_json_writep(md_to_json(c, p), MD_JSON_FMT_COMPACT, p);
    if (!text || !EVP_Digest(text, strlen(text), dig, &len, EVP_sha256(), NULL)) return "";
    return md_hex_encode(dig, len, 0, p);
}
