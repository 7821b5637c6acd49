/* Directives about the CA, the ACME account and challenges: authority, agreement, contact, EAB, profiles, dns-01. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_encode.h"
#include "md_result.h"
#include "config_int.h"

static const char *const challenge_types[] = { "http-01", "tls-alpn-01", "dns-01", NULL };

static int strs_contain(const apr_array_header_t *a, const char *s)
{
    int i;

    for (i = 0; i < a->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(a, i, const char *), s)) return 1;
    }
    return 0;
}

/* A CA name or directory URL as the directory URL. */
static const char *ca_url(cmd_parms *cmd, const char *arg, const char **perr)
{
    const char *url = md_acme_ca_url_for(arg);

    *perr = NULL;
    if (url != arg) return url;
    if (!strstr(arg, "://")) {
        *perr = md_config__err(cmd, arg, "neither a known CA name (%s) nor an http: or https: URL",
                               md_acme_ca_names(cmd->temp_pool));
        return NULL;
    }
    *perr = md_config__http_url(cmd, arg);
    return *perr ? NULL : arg;
}

const char *md_config__ca(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *urls = apr_array_make(cmd->pool, argc > 0 ? argc : 1, sizeof(const char *));
    const char *url, *err;
    int i;

    if (argc == 0) {
        return apr_psprintf(cmd->pool, "MDCertificateAuthority needs at least one CA: a directory URL or one "
                            "of %s", md_acme_ca_names(cmd->temp_pool));
    }
    for (i = 0; i < argc; ++i) {
        url = ca_url(cmd, argv[i], &err);
        if (!url) return err;
        if (!strs_contain(urls, url)) APR_ARRAY_PUSH(urls, const char *) = url;
    }
    md_config__settings(cmd)->ca_urls = urls;
    return NULL;
}

const char *md_config__ca_proto(cmd_parms *cmd, void *dc, const char *arg)
{
    if (strcasecmp(arg, "ACME")) return md_config__err(cmd, arg, "the only protocol supported is ACME");
    md_config__settings(cmd)->ca_proto = "ACME";
    return NULL;
}

const char *md_config__agreement(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err;

    if (!strcasecmp(arg, "accepted")) {
        md_config__settings(cmd)->ca_agreement = "accepted";
        return NULL;
    }
    if (!strstr(arg, "://")) {
        return md_config__err(cmd, arg, "allowed are 'accepted' or the URL of the CA's terms of service");
    }
    err = md_config__http_url(cmd, arg);
    if (err) return err;
    md_config__settings(cmd)->ca_agreement = arg;
    return NULL;
}

const char *md_config__contact(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *addr = strncasecmp(arg, "mailto:", 7) ? arg : arg + 7;
    const char *at = strchr(addr, '@');

    if (!at || at == addr || !at[1] || strchr(at + 1, '@') || strpbrk(addr, " \t<>,;")) {
        return md_config__err(cmd, arg, "not an email address (expected name@domain)");
    }
    md_config__settings(cmd)->contact = apr_pstrcat(cmd->pool, "mailto:", addr, NULL);
    return NULL;
}

static const char *eab_file(cmd_parms *cmd, md_settings_t *st, const char *arg)
{
    md_result_t *result = md_result_make(cmd->temp_pool);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    md_acme_eab_t *eab = NULL;

    if (!path) return md_config__err(cmd, arg, "not a valid file path");
    if (md_acme_eab_load(&eab, path, result, cmd->pool) != APR_SUCCESS) {
        return md_config__err(cmd, arg, "%s (expected KID HMAC, a JSON file {\"kid\": ..., \"hmac\": ...} "
                              "or none)", md_result_text(result, cmd->temp_pool));
    }
    st->eab_kid = eab->kid;
    st->eab_hmac = md_b64url_encode(eab->hmac->data, eab->hmac->len, cmd->pool);
    return NULL;
}

const char *md_config__eab(cmd_parms *cmd, void *dc, const char *arg1, const char *arg2)
{
    md_settings_t *st = md_config__settings(cmd);
    md_result_t *result;
    md_acme_eab_t *eab = NULL;

    st->eab_set = 1;
    st->eab_kid = st->eab_hmac = NULL;
    if (!arg2 && !strcasecmp(arg1, "none")) return NULL;
    if (!arg2) return eab_file(cmd, st, arg1);
    result = md_result_make(cmd->temp_pool);
    if (md_acme_eab_make(&eab, arg1, arg2, result, cmd->pool) != APR_SUCCESS) {
        return md_config__err(cmd, apr_pstrcat(cmd->temp_pool, arg1, " ", arg2, NULL), "%s",
                              md_result_text(result, cmd->temp_pool));
    }
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
    err = md_config__file(cmd, arg, &path);
    if (err) return err;
    st->ca_file = path;
    return NULL;
}

static const char *challenge_type(const char *word)
{
    int i;

    for (i = 0; challenge_types[i]; ++i) {
        if (!strcasecmp(word, challenge_types[i])) return challenge_types[i];
    }
    return NULL;
}

const char *md_config__challenges(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *types = apr_array_make(cmd->pool, 3, sizeof(const char *));
    const char *type;
    int i;

    if (argc == 0) return "MDCAChallenges needs at least one challenge type: http-01, tls-alpn-01 or dns-01";
    for (i = 0; i < argc; ++i) {
        type = challenge_type(argv[i]);
        if (!type) {
            return md_config__err(cmd, argv[i], "unknown challenge type, allowed are http-01, tls-alpn-01 "
                                  "and dns-01");
        }
        if (!strs_contain(types, type)) APR_ARRAY_PUSH(types, const char *) = type;
    }
    md_config__settings(cmd)->ca_challenges = types;
    return NULL;
}

const char *md_config__profile(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *c;

    for (c = arg; *c; ++c) {
        if (!isgraph((unsigned char)*c)) return md_config__err(cmd, arg, "a profile name has no spaces");
    }
    if (!*arg) return md_config__err(cmd, arg, "the profile name is empty");
    md_config__settings(cmd)->profile = arg;
    return NULL;
}

const char *md_config__profile_mandatory(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config__settings(cmd)->profile_mandatory);
}

const char *md_config__dns01(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *line = NULL, *err;

    err = md_config__cmdline(cmd, arg, &line, NULL);
    if (err) return err;
    md_config__settings(cmd)->dns01_cmd = line;
    return NULL;
}

const char *md_config__event_handler(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_array_header_t *argv = NULL;
    const char *line = NULL, *err;

    err = md_config__cmdline(cmd, arg, &line, &argv);
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
    else return md_config__err(cmd, arg, "allowed are 1 and 2");
    return NULL;
}

const char *md_config__retry_failover(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = md_config__not_in_section(cmd);
    char *end = NULL;
    long n;

    if (err) return err;
    n = strtol(arg, &end, 10);
    if (!apr_isdigit(*arg) || *end || n < 1 || n > 1000000) {
        return md_config__err(cmd, arg, "expected a whole number of 1 or more (failed attempts before the "
                              "next CA)");
    }
    md_config_mod_get(cmd->pool)->retry_failover = (int)n;
    return NULL;
}
