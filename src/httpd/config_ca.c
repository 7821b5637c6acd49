/* Directives about the CA, the ACME account and challenges: authority, agreement, contact, EAB, profiles, dns-01. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_result.h"
#include "md_uri.h"
#include "config_int.h"

static int strs_contain(const apr_array_header_t *a, const char *s)
{
    int i;

    for (i = 0; i < a->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(a, i, const char *), s)) return 1;
    }
    return 0;
}

const char *md_config__ca(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *urls = apr_array_make(cmd->pool, argc > 0 ? argc : 1, sizeof(const char *));
    const char *url, *err = NULL;
    int i;

    if (argc == 0) {
        /* mod_md 2.6 lets this pass (and has no CA then); we keep httpd's words for a missing argument */
        return apr_psprintf(cmd->pool, "MDCertificateAuthority takes one argument or more: the URL of the CA's ACME "
                            "directory or one of the names %s", md_acme_ca_names(cmd->temp_pool));
    }
    for (i = 0; i < argc; ++i) {
        url = md_acme_ca_resolve(argv[i], &err, cmd->pool);
        if (!url) return md_config__err(cmd, argv[i], "%s", err);
        if (!md_uri_is_http(url, cmd->temp_pool)) {
            md_config__warn(cmd, "'%s' is not an http: or https: URL with a host: renewals with this CA will fail",
                            url);
        }
        if (!strs_contain(urls, url)) APR_ARRAY_PUSH(urls, const char *) = url;
    }
    md_config__settings(cmd)->ca_urls = urls;
    return NULL;
}

const char *md_config__ca_proto(cmd_parms *cmd, void *dc, const char *arg)
{
    /* mod_md takes any word here and then does not start ("uses unknown CA protocol") */
    if (strcasecmp(arg, "ACME")) {
        return md_config__err(cmd, arg, "unknown CA protocol '%s': the only protocol supported is ACME", arg);
    }
    md_config__settings(cmd)->ca_proto = "ACME";
    return NULL;
}

/* Anything, as in mod_md: any value agrees to the CA's terms of service. */
const char *md_config__agreement(cmd_parms *cmd, void *dc, const char *arg)
{
    md_config__settings(cmd)->ca_agreement = strcasecmp(arg, "accepted") ? arg : "accepted";
    return NULL;
}

/* Anything, as in mod_md ("mailto:" added); the CA refuses what is not an email address. */
const char *md_config__contact(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *addr = strncasecmp(arg, "mailto:", 7) ? arg : arg + 7;
    const char *at = strchr(addr, '@');

    if (!at || at == addr || !at[1] || strchr(at + 1, '@') || strpbrk(addr, " \t<>,;")) {
        md_config__warn(cmd, "'%s' is not an email address (name@domain): a CA will refuse it as the account's "
                        "contact", addr);
    }
    md_config__settings(cmd)->contact = apr_pstrcat(cmd->pool, "mailto:", addr, NULL);
    return NULL;
}

/* An HMAC that is no base64url is kept as written (mod_md does), the renewal fails with it. */
static void eab_hmac_check(cmd_parms *cmd, const char *kid, const char *hmac)
{
    md_result_t *result = md_result_make(cmd->temp_pool);
    md_acme_eab_t *eab = NULL;

    if (md_acme_eab_make(&eab, kid, hmac, result, cmd->temp_pool) != APR_SUCCESS) {
        md_config__warn(cmd, "%s: registering an account will fail", md_result_text(result, cmd->temp_pool));
    }
}

static const char *eab_file(cmd_parms *cmd, md_settings_t *st, const char *arg)
{
    md_result_t *result = md_result_make(cmd->temp_pool);
    const char *path = ap_server_root_relative(cmd->pool, arg), *kid = NULL, *hmac = NULL;

    if (!path) return md_config__err(cmd, arg, "not a valid file path");
    if (md_acme_eab_read(&kid, &hmac, path, result, cmd->pool) != APR_SUCCESS) {
        return md_config__err(cmd, arg, "%s (expected KID HMAC, a JSON file {\"kid\": ..., \"hmac\": ...} or none)",
                              md_result_text(result, cmd->temp_pool));
    }
    eab_hmac_check(cmd, kid, hmac);
    st->eab_kid = kid;
    st->eab_hmac = hmac;
    return NULL;
}

const char *md_config__eab(cmd_parms *cmd, void *dc, const char *arg1, const char *arg2)
{
    md_settings_t *st = md_config__settings(cmd);

    st->eab_set = 1;
    st->eab_kid = st->eab_hmac = NULL;
    if (arg2 && !*arg2) arg2 = NULL;            /* as mod_md: KID "" is a file named KID */
    if (!arg2 && !strcasecmp(arg1, "none")) return NULL;
    if (!arg2) return eab_file(cmd, st, arg1);
    eab_hmac_check(cmd, arg1, arg2);
    st->eab_kid = arg1;
    st->eab_hmac = arg2;
    return NULL;
}

const char *md_config__ca_file(cmd_parms *cmd, void *dc, const char *arg)
{
    md_settings_t *st = md_config__settings(cmd);
    const char *path = NULL, *err;

    if (!strcasecmp(arg, MD_CONF_NONE)) {
        st->ca_file = MD_CONF_NONE;
        return NULL;
    }
    err = md_config__path(cmd, arg, &path);
    if (err) return err;
    st->ca_file = path;
    return NULL;
}

/* Known types in our spelling; others are kept (lowercase, as mod_md does) and never chosen: a renewal that has no
 * type left fails. Without any type, the default (all) applies. */
const char *md_config__challenges(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *types = apr_array_make(cmd->pool, 3, sizeof(const char *));
    const char *type;
    char *lower;
    int i;

    for (i = 0; i < argc; ++i) {
        type = md_challenge_type_known(argv[i]);
        if (!type) {
            lower = apr_pstrdup(cmd->pool, argv[i]);
            ap_str_tolower(lower);
            type = lower;
            md_config__warn(cmd, "unknown challenge type '%s' (known are http-01, tls-alpn-01 and dns-01): it is "
                            "never used", argv[i]);
        }
        if (!strs_contain(types, type)) APR_ARRAY_PUSH(types, const char *) = type;
    }
    md_config__settings(cmd)->ca_challenges = types;
    return NULL;
}

/* Any name, as in mod_md: the CA says whether it offers it. */
const char *md_config__profile(cmd_parms *cmd, void *dc, const char *arg)
{
    md_config__settings(cmd)->profile = arg;
    return NULL;
}

const char *md_config__profile_mandatory(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config__settings(cmd)->profile_mandatory);
}

/* An empty line (as mod_md takes it) is no program. */
const char *md_config__dns01(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *line = NULL, *err;

    err = md_config__cmdline(cmd, arg, 1, &line, NULL);
    if (err) return err;
    md_config__settings(cmd)->dns01_cmd = line;
    return NULL;
}

const char *md_config__event_handler(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_array_header_t *argv = NULL;
    const char *line = NULL, *err;

    err = md_config__cmdline(cmd, arg, 0, &line, &argv);
    if (err) return err;
    md_config__settings(cmd)->event_handler = argv;
    return NULL;
}

/* MDChallengeResponseDelay TYPE=DURATION...: a bare number is seconds; "off" or 0 removes a delay. */
const char *md_config__response_delay(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_challenge_delays_t *delays = apr_pcalloc(cmd->pool, sizeof(*delays));
    const char *err = NULL;
    int i;

    if (argc < 1) return "MDChallengeResponseDelay needs TYPE=DURATION, e.g. dns-01=2m http-01=5s";
    for (i = 0; i < argc; ++i) {
        if (md_challenge_delay_parse(delays, argv[i], &err, cmd->pool) != APR_SUCCESS) {
            return apr_psprintf(cmd->pool, "MDChallengeResponseDelay: %s", err);
        }
    }
    md_config__settings(cmd)->challenge_delays = delays;
    return NULL;
}

const char *md_config__dns01_version(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    const char *err = md_config__not_in_section(cmd);

    if (err) return err;
    if (!strcmp(arg, "1")) mc->dns01_version = 1;
    else if (!strcmp(arg, "2")) mc->dns01_version = 2;
    else return md_config__err(cmd, arg, "Only versions `1` and `2` are supported");
    return NULL;
}

/* A whole number from 1 to INT_MAX, with spaces or a '+' around it as mod_md reads it. */
const char *md_config__retry_failover(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = md_config__not_in_section(cmd), *s = arg;
    char *end = NULL;
    long long n;

    if (err) return err;
    while (apr_isspace(*s)) ++s;
    if (*s == '+') ++s;
    n = apr_isdigit(*s) ? strtoll(s, &end, 10) : 0;
    while (end && apr_isspace(*end)) ++end;
    if (!end || *end || n < 1 || n > INT_MAX) {
        return md_config__err(cmd, arg, "invalid argument, must be a number > 0 (failed attempts before the next CA, "
                              "up to %d)", INT_MAX);
    }
    md_config_mod_get(cmd->pool)->retry_failover = (int)n;
    return NULL;
}
