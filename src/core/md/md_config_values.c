/* The values of mod_md's directives, one parser per value type, shared by mod_mdomain and `mdomain apply`'s file:
 * mod_md's words in the errors, warnings for what mod_md takes but will fail later; names in two MDs. */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_file_info.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_config_values.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_uri.h"

const char *md_conf_shown(apr_pool_t *p, const char *value)
{
    apr_size_t len = value ? strlen(value) : 0;

    if (len <= MD_CONF_SHOWN_MAX) return value ? value : "";
    return apr_psprintf(p, "%.*s...(%" APR_SIZE_T_FMT " characters)", MD_CONF_SHOWN_MAX - 20, value, len);
}

const char *md_conf_err(const md_conf_ctx_t *c, const char *value, const char *fmt, ...)
{
    va_list ap;
    const char *reason;

    va_start(ap, fmt);
    reason = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
    return apr_psprintf(c->p, "%s '%s': %s", c->directive, md_conf_shown(c->p, value), reason);
}

void md_conf_warn(const md_conf_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    const char *text;

    if (!c->warn) return;
    va_start(ap, fmt);
    text = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
    c->warn(c->baton, text);
}

const char *md_conf_join(const md_conf_ctx_t *c, int argc, const char *const argv[])
{
    const char *s = "";
    int i;

    for (i = 0; i < argc; ++i) s = apr_pstrcat(c->p, s, i ? " " : "", argv[i], NULL);
    return s;
}

const char *md_conf_not_in_section(const md_conf_ctx_t *c, const char *text)
{
    return apr_psprintf(c->p, "'%s': %s is not allowed inside an '<MDomainSet' context (<MDomain> or <MDomainSet>): it "
                        "is a server-wide setting, put it outside the section", text, c->directive);
}

const char *md_conf_section_only(const md_conf_ctx_t *c, const char *text)
{
    return apr_psprintf(c->p, "'%s': %s is only valid inside a '<MDomainSet' context, not here: it belongs to one "
                        "managed domain, put it inside <MDomain name>...</MDomain> (or <MDomainSet>)", text,
                        c->directive);
}

static const char *abs_path(const md_conf_ctx_t *c, const char *value)
{
    return c->path ? c->path(c->baton, value) : apr_pstrdup(c->p, value);
}

static char *lowered(const char *s, apr_pool_t *p)
{
    char *l = apr_pstrdup(p, s);

    for (char *x = l; *x; ++x) *x = (char)apr_tolower(*x);
    return l;
}

const char *md_conf_onoff(const md_conf_ctx_t *c, const char *value, int *pv)
{
    if (!strcasecmp(value, "on")) *pv = 1;
    else if (!strcasecmp(value, "off")) *pv = 0;
    else return md_conf_err(c, value, "supported parameter values are 'on' and 'off'");
    return NULL;
}

static const char *unit_name(const char *def_unit)
{
    if (!strcmp(def_unit, "d")) return "days";
    if (!strcmp(def_unit, "h")) return "hours";
    if (!strcmp(def_unit, "mi")) return "minutes";
    if (!strcmp(def_unit, "ms")) return "milliseconds";
    return "seconds";
}

const char *md_conf_duration(const md_conf_ctx_t *c, const char *value, const char *def_unit,
                             apr_interval_time_t *pv)
{
    if (md_duration_parse_signed(pv, value, def_unit) != APR_SUCCESS) {
        return md_conf_err(c, value, "unrecognized duration format: a whole number with a unit d, h, mi, s or ms "
                           "(e.g. 12h, 30s), without a unit in %s", unit_name(def_unit));
    }
    return NULL;
}

const char *md_conf_window(const md_conf_ctx_t *c, const char *value, md_timeslice_t **pts)
{
    const char *err = NULL;

    /* the message of md_timeslice_parse_window starts with the value: "MDRenewWindow '3x' has unrecognized ..." */
    if (md_timeslice_parse_window(pts, value, "d", &err, c->p) != APR_SUCCESS) {
        if (*value && value[strlen(value) - 1] == '%') return apr_psprintf(c->p, "%s %s", c->directive, err);
        return apr_psprintf(c->p, "%s %s (without a unit in days)", c->directive, err);
    }
    return NULL;
}

const char *md_conf_cmdline(const md_conf_ctx_t *c, const char *arg, int allow_empty, const char **pline,
                            apr_array_header_t **pargv)
{
    char *line = apr_pstrdup(c->p, arg ? arg : "");
    apr_size_t len = strlen(line);
    char **argv = NULL;
    int i;

    while (len > 0 && apr_isspace(line[len - 1])) line[--len] = '\0';
    while (apr_isspace(*line)) ++line;
    if (!*line && allow_empty) {        /* as in mod_md: no program */
        *pline = line;
        if (pargv) *pargv = NULL;
        return NULL;
    }
    if (!*line || apr_tokenize_to_argv(line, &argv, c->p) != APR_SUCCESS || !argv || !argv[0]) {
        return apr_psprintf(c->p, "%s needs the program to call (and its arguments), e.g. %s /usr/local/bin/program",
                            c->directive, c->directive);
    }
    if (!*argv[0]) {       /* MDMessageCmd "": a program without a name, which no exec finds */
        return apr_psprintf(c->p, "%s '%s': the program's name is empty; give the program to call, e.g. %s "
                            "/usr/local/bin/program (or leave the directive out)", c->directive,
                            md_conf_shown(c->p, line), c->directive);
    }
    *pline = line;
    if (pargv) {
        *pargv = apr_array_make(c->p, 4, sizeof(const char *));
        for (i = 0; argv[i]; ++i) APR_ARRAY_PUSH(*pargv, const char *) = argv[i];
    }
    return NULL;
}

/* The length of the UTF-8 sequence at s (shortest form, no surrogates, at most U+10FFFF), 0 when it is none. */
static apr_size_t utf8_len(const unsigned char *s)
{
    apr_size_t n, k;
    unsigned long cp;

    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) { n = 2; cp = s[0] & 0x1f; }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) { n = 3; cp = s[0] & 0x0f; }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) { n = 4; cp = s[0] & 0x07; }
    else return 0;
    for (k = 1; k < n; ++k) {
        if ((s[k] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

const char *md_conf_profile(const md_conf_ctx_t *c, const char *value, const char **pprofile)
{
    const unsigned char *s = (const unsigned char *)value;
    apr_size_t i, n;
    int odd = 0;

    if (!*s) return apr_psprintf(c->p, "%s needs a profile name (the CA's directory lists them)", c->directive);
    for (i = 0; s[i]; i += n) {
        n = utf8_len(s + i);
        if (n == 0 || s[i] < 0x20 || s[i] == 0x7f) {
            return apr_psprintf(c->p, "%s: byte %" APR_SIZE_T_FMT " of the profile name is 0x%02X, %s: a CA's "
                                "profile names are words such as 'classic' or 'shortlived'", c->directive, i + 1,
                                s[i], n == 0 ? "no UTF-8" : "a control character");
        }
        if (s[i] == ' ' || n > 1) odd = 1;
    }
    if (odd) {
        md_conf_warn(c, "the profile name '%s' is not a word of printable ASCII: no CA is likely to offer it",
                     md_conf_shown(c->p, value));
    }
    *pprofile = apr_pstrdup(c->p, value);
    return NULL;
}

const char *md_conf_path(const md_conf_ctx_t *c, const char *value, const char **ppath)
{
    apr_finfo_t finfo;
    const char *path = abs_path(c, value);

    if (!path) return md_conf_err(c, value, "not a valid file path");
    if (apr_stat(&finfo, path, APR_FINFO_TYPE, c->p) != APR_SUCCESS) {
        md_conf_warn(c, "the file %s does not exist: talking to the CA will fail until it does", path);
    }
    else if (finfo.filetype != APR_REG) {
        md_conf_warn(c, "%s is not a regular file: talking to the CA will fail", path);
    }
    *ppath = path;
    return NULL;
}

const char *md_conf_file(const md_conf_ctx_t *c, const char *value, const char **ppath)
{
    apr_finfo_t finfo;
    const char *path = abs_path(c, value);

    if (!path) return md_conf_err(c, value, "not a valid file path");
    if (apr_stat(&finfo, path, APR_FINFO_TYPE, c->p) != APR_SUCCESS) {
        return md_conf_err(c, value, "the file does not exist (looked for %s)", path);
    }
    if (finfo.filetype != APR_REG) return md_conf_err(c, value, "%s is not a regular file", path);
    *ppath = path;
    return NULL;
}

/* auto (1), manual (0), or -1 for anything else. */
static int members_mode(const char *word)
{
    if (!strcasecmp(word, "auto")) return 1;
    if (!strcasecmp(word, "manual")) return 0;
    return -1;
}

const char *md_conf_names(const md_conf_ctx_t *c, int argc, const char *const argv[], int anywhere,
                          apr_array_header_t *names, apr_array_header_t *written, int *ptransitive)
{
    const char *problem, *before;
    char *name;
    int i, j, mode;

    for (i = 0; i < argc; ++i) {
        mode = members_mode(argv[i]);
        if (mode >= 0 && (anywhere || i == argc - 1)) {
            *ptransitive = mode;
            continue;
        }
        if (!*argv[i]) continue;
        problem = names->nelts ? NULL : md_name_problem(argv[i]);
        if (problem) return md_conf_err(c, argv[i], "cannot be the name of a managed domain: %s", problem);
        problem = md_domain_impossible(argv[i]);
        if (problem) return md_conf_err(c, argv[i], "cannot be a domain name of a managed domain: %s", problem);
        problem = md_domain_problem(argv[i]);
        if (problem) {
            md_conf_warn(c, "'%s' is not a valid DNS name or IP address (%s): a CA will refuse it",
                         md_conf_shown(c->p, argv[i]), problem);
        }
        name = lowered(argv[i], c->p);
        for (j = 0; j < names->nelts; ++j) {
            if (!strcmp(APR_ARRAY_IDX(names, j, const char *), name)) break;
        }
        if (j == names->nelts) {
            APR_ARRAY_PUSH(names, const char *) = name;
            if (written) APR_ARRAY_PUSH(written, const char *) = apr_pstrdup(c->p, argv[i]);
            continue;
        }
        before = (written && j < written->nelts) ? APR_ARRAY_IDX(written, j, const char *) : NULL;
        if (before && strcmp(before, argv[i])) {      /* which of them is meant? */
            return md_conf_err(c, argv[i], "the managed domain %s has this name already, written '%s': names are not "
                               "case-sensitive, give it once", APR_ARRAY_IDX(names, 0, const char *),
                               md_conf_shown(c->p, before));
        }
    }
    return NULL;
}

apr_array_header_t *md_conf_name_clashes(const apr_array_header_t *mds, apr_pool_t *p)
{
    apr_array_header_t *clashes = apr_array_make(p, 1, sizeof(md_conf_clash_t));
    apr_hash_t *owners = apr_hash_make(p);
    const md_t *md;
    md_conf_clash_t *c;
    const char *name;
    int i, j, *owner;

    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, const md_t *);
        for (j = 0; j < md->domains->nelts; ++j) {
            name = APR_ARRAY_IDX(md->domains, j, const char *);
            if ((owner = apr_hash_get(owners, name, APR_HASH_KEY_STRING)) != NULL) {
                c = &APR_ARRAY_PUSH(clashes, md_conf_clash_t);
                c->name = name;
                c->first = *owner;
                c->again = i;
                continue;
            }
            owner = apr_palloc(p, sizeof(*owner));
            *owner = i;
            apr_hash_set(owners, name, APR_HASH_KEY_STRING, owner);
        }
    }
    return clashes;
}

const char *md_conf_clash_msg(const md_conf_clash_t *clash, const apr_array_header_t *mds, const char *first_at,
                              const char *again_at, apr_pool_t *p)
{
    /* mod_md stops at its start with "two Managed Domains have an overlap in domain 'NAME'" */
    return apr_psprintf(p, "the name '%s' is in two managed domains: MD %s (defined at %s) and MD %s (defined at "
                        "%s); a name can belong to one MD only (two Managed Domains have an overlap in domain '%s')",
                        clash->name, APR_ARRAY_IDX(mds, clash->first, const md_t *)->name, first_at,
                        APR_ARRAY_IDX(mds, clash->again, const md_t *)->name, again_at, clash->name);
}

const char *md_conf_members(const md_conf_ctx_t *c, const char *value, int *pv)
{
    int mode = members_mode(value);

    if (mode < 0) return md_conf_err(c, value, "unknown value, use \"auto|manual\"");
    *pv = mode;
    return NULL;
}

const char *md_conf_renew_mode(const md_conf_ctx_t *c, const char *value, int *pv)
{
    if (!strcasecmp(value, "auto")) *pv = MD_RENEW_AUTO;
    else if (!strcasecmp(value, "always")) *pv = MD_RENEW_ALWAYS;
    else if (!strcasecmp(value, "manual")) *pv = MD_RENEW_MANUAL;
    else return md_conf_err(c, value, "unknown MDDriveMode %s: allowed are 'auto', 'always' and 'manual'", value);
    return NULL;
}

static int strs_contain(const apr_array_header_t *a, const char *s)
{
    int i;

    for (i = 0; i < a->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(a, i, const char *), s)) return 1;
    }
    return 0;
}

const char *md_conf_ca(const md_conf_ctx_t *c, int argc, const char *const argv[], apr_array_header_t **purls)
{
    apr_array_header_t *urls = apr_array_make(c->p, argc > 0 ? argc : 1, sizeof(const char *));
    const char *url, *err = NULL;
    int i;

    if (argc == 0) {
        /* mod_md 2.6 lets this pass (and has no CA then); we keep httpd's words for a missing argument */
        return apr_psprintf(c->p, "%s takes one argument or more: the URL of the CA's ACME directory or one of the "
                            "names %s", c->directive, md_acme_ca_names(c->p));
    }
    for (i = 0; i < argc; ++i) {
        url = md_acme_ca_resolve(argv[i], &err, c->p);
        if (!url) return md_conf_err(c, argv[i], "%s", err);
        if (!md_uri_is_http(url, c->p)) {
            md_conf_warn(c, "'%s' is not an http: or https: URL with a host: renewals with this CA will fail", url);
        }
        if (!strs_contain(urls, url)) APR_ARRAY_PUSH(urls, const char *) = url;
    }
    *purls = urls;
    return NULL;
}

const char *md_conf_ca_proto(const md_conf_ctx_t *c, const char *value, const char **pproto)
{
    /* mod_md takes any word here and then does not start ("uses unknown CA protocol") */
    if (strcasecmp(value, "ACME")) {
        return md_conf_err(c, value, "unknown CA protocol '%s': the only protocol supported is ACME", value);
    }
    *pproto = "ACME";
    return NULL;
}

/* Anything, as in mod_md: any value agrees to the CA's terms of service. */
const char *md_conf_agreement(const md_conf_ctx_t *c, const char *value, const char **pv)
{
    *pv = strcasecmp(value, "accepted") ? apr_pstrdup(c->p, value) : "accepted";
    return NULL;
}

/* Anything, as in mod_md ("mailto:" added); the CA refuses what is not an email address. */
const char *md_conf_contact(const md_conf_ctx_t *c, const char *value, const char **pv)
{
    const char *addr = strncasecmp(value, "mailto:", 7) ? value : value + 7;
    const char *at = strchr(addr, '@');

    if (!at || at == addr || !at[1] || strchr(at + 1, '@') || strpbrk(addr, " \t<>,;")) {
        md_conf_warn(c, "'%s' is not an email address (name@domain): a CA will refuse it as the account's contact",
                     addr);
    }
    *pv = apr_pstrcat(c->p, "mailto:", addr, NULL);
    return NULL;
}

/* An HMAC that is no base64url is kept as written (mod_md does), the renewal fails with it. */
static void eab_hmac_check(const md_conf_ctx_t *c, const char *kid, const char *hmac)
{
    md_result_t *result = md_result_make(c->p);
    md_acme_eab_t *eab = NULL;

    if (md_acme_eab_make(&eab, kid, hmac, result, c->p) != APR_SUCCESS) {
        md_conf_warn(c, "%s: registering an account will fail", md_result_text(result, c->p));
    }
}

const char *md_conf_eab(const md_conf_ctx_t *c, const char *arg1, const char *arg2, const char **pkid,
                        const char **phmac)
{
    md_result_t *result;
    const char *path;

    *pkid = *phmac = NULL;
    if (arg2 && !*arg2) arg2 = NULL;            /* as mod_md: KID "" is a file named KID */
    if (!arg2 && !strcasecmp(arg1, "none")) return NULL;
    if (arg2) {
        eab_hmac_check(c, arg1, arg2);
        *pkid = apr_pstrdup(c->p, arg1);
        *phmac = apr_pstrdup(c->p, arg2);
        return NULL;
    }
    result = md_result_make(c->p);
    if (!(path = abs_path(c, arg1))) return md_conf_err(c, arg1, "not a valid file path");
    if (md_acme_eab_read(pkid, phmac, path, result, c->p) != APR_SUCCESS) {
        *pkid = *phmac = NULL;
        return md_conf_err(c, arg1, "%s (expected KID HMAC, a JSON file {\"kid\": ..., \"hmac\": ...} or none)",
                           md_result_text(result, c->p));
    }
    eab_hmac_check(c, *pkid, *phmac);
    return NULL;
}

const char *md_conf_ca_file(const md_conf_ctx_t *c, const char *value, const char **ppath)
{
    if (!strcasecmp(value, MD_CONF_NONE)) {
        *ppath = MD_CONF_NONE;
        return NULL;
    }
    return md_conf_path(c, value, ppath);
}

/* Known types in our spelling; others are kept (lowercase, as mod_md does) and never chosen: a renewal that has no
 * type left fails. Without any type, the default (all) applies. */
const char *md_conf_challenges(const md_conf_ctx_t *c, int argc, const char *const argv[],
                               apr_array_header_t **ptypes)
{
    apr_array_header_t *types = apr_array_make(c->p, 3, sizeof(const char *));
    const char *type;
    int i;

    for (i = 0; i < argc; ++i) {
        type = md_challenge_type_known(argv[i]);
        if (!type) {
            type = lowered(argv[i], c->p);
            md_conf_warn(c, "unknown challenge type '%s' (known are http-01, tls-alpn-01 and dns-01): it is never used",
                         argv[i]);
        }
        if (!strs_contain(types, type)) APR_ARRAY_PUSH(types, const char *) = type;
    }
    *ptypes = types;
    return NULL;
}

/* TYPE=DURATION...: a bare number is seconds; "off" or 0 removes a delay. */
const char *md_conf_response_delay(const md_conf_ctx_t *c, int argc, const char *const argv[],
                                   md_challenge_delays_t **pdelays)
{
    md_challenge_delays_t *delays = apr_pcalloc(c->p, sizeof(*delays));
    const char *err = NULL;
    int i;

    if (argc < 1) return apr_psprintf(c->p, "%s needs TYPE=DURATION, e.g. dns-01=2m http-01=5s", c->directive);
    for (i = 0; i < argc; ++i) {
        if (md_challenge_delay_parse(delays, argv[i], &err, c->p) != APR_SUCCESS) {
            return apr_psprintf(c->p, "%s: %s", c->directive, err);
        }
    }
    *pdelays = delays;
    return NULL;
}

const char *md_conf_dns01_version(const md_conf_ctx_t *c, const char *value, int *pv)
{
    if (!strcmp(value, "1")) *pv = 1;
    else if (!strcmp(value, "2")) *pv = 2;
    else return md_conf_err(c, value, "Only versions `1` and `2` are supported");
    return NULL;
}

/* A whole number from 1 to INT_MAX, with spaces or a '+' around it as mod_md reads it. */
const char *md_conf_retry_failover(const md_conf_ctx_t *c, const char *value, int *pv)
{
    const char *s = value;
    char *end = NULL;
    long long n;

    while (apr_isspace(*s)) ++s;
    if (*s == '+') ++s;
    n = apr_isdigit(*s) ? strtoll(s, &end, 10) : 0;
    while (end && apr_isspace(*end)) ++end;
    if (!end || *end || n < 1 || n > INT_MAX) {
        return md_conf_err(c, value, "invalid argument, must be a number > 0 (failed attempts before the next CA, up "
                           "to %d)", INT_MAX);
    }
    *pv = (int)n;
    return NULL;
}

const char *md_conf_pkeys(const md_conf_ctx_t *c, int argc, const char *const argv[], apr_array_header_t **ppks)
{
    const char *err = NULL, *bad = NULL;

    if (md_pkey_specs_parse(ppks, &bad, argc, argv, &err, c->p) != APR_SUCCESS) {
        if (argc == 0) return apr_pstrcat(c->p, c->directive, " ", err, NULL);
        return md_conf_err(c, md_conf_join(c, argc, argv), "%s", err);
    }
    return NULL;
}

/* An http: or https: URL as mod_md takes it, with its words when not ("invalid port", "uri scheme must be http or
 * https", ...). */
const char *md_conf_proxy(const md_conf_ctx_t *c, const char *value, const char **purl)
{
    const char *problem = md_uri_http_problem(value, c->p);

    if (problem) {
        return md_conf_err(c, value, "%s: expected the http: or https: URL of the proxy, e.g. "
                           "http://proxy.example.org:3128", problem);
    }
    if (!md_uri_is_http(value, c->p)) md_conf_warn(c, "the proxy URL has no host: talking to the CA will fail");
    *purl = apr_pstrdup(c->p, value);
    return NULL;
}

const char *md_conf_mode(const md_conf_ctx_t *c, const char *value, int *pv)
{
    char *end = NULL;
    long mode = strtol(value, &end, 8);

    if (!*value || !apr_isdigit(*value) || *end || mode < 0 || mode > 0777) {
        return md_conf_err(c, value, "an octal file mode such as 0600 or 0640");
    }
    *pv = (int)mode;
    return NULL;
}

const char *md_conf_wildcard_problem(const md_t *md, const char *at, apr_pool_t *p)
{
    const char *name;
    int j, k;

    if (!md->ca_challenges || md->ca_challenges->nelts == 0) return NULL;
    for (k = 0; k < md->ca_challenges->nelts; ++k) {
        if (!strcasecmp(APR_ARRAY_IDX(md->ca_challenges, k, const char *), "dns-01")) return NULL;
    }
    for (j = 0; j < md->domains->nelts; ++j) {
        name = APR_ARRAY_IDX(md->domains, j, const char *);
        if (strncmp(name, "*.", 2)) continue;
        return apr_psprintf(p, "MD %s (defined at %s) has the wildcard name '%s', which a CA validates only with "
                            "dns-01, but its MDCAChallenges allows only %s: add dns-01 to MDCAChallenges (with "
                            "MDChallengeDns01 or an MDMessageCmd that answers it), or leave the wildcard out",
                            md->name, at, name, apr_array_pstrcat(p, md->ca_challenges, ' '));
    }
    return NULL;
}
