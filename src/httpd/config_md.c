/* Directives that define managed domains and how they meet virtual hosts: MDomain, <MDomain>, members, modes. */
#include <strings.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <util_cfgtree.h>

#include "config_int.h"

static md_conf_md_t *conf_md_make(cmd_parms *cmd)
{
    md_conf_md_t *conf = apr_pcalloc(cmd->pool, sizeof(*conf));

    conf->domains = apr_array_make(cmd->pool, 4, sizeof(const char *));
    conf->written = apr_array_make(cmd->pool, 4, sizeof(const char *));
    conf->settings = md_settings_make(cmd->pool);
    conf->cert_files = apr_array_make(cmd->pool, 2, sizeof(const char *));
    conf->key_files = apr_array_make(cmd->pool, 2, sizeof(const char *));
    conf->s = cmd->server;
    conf->file = cmd->directive ? cmd->directive->filename : NULL;
    conf->line = cmd->directive ? (unsigned)cmd->directive->line_num : 0;
    return conf;
}

/* auto (1), manual (0), or -1 for anything else. */
static int members_mode(const char *word)
{
    if (!strcasecmp(word, "auto")) return 1;
    if (!strcasecmp(word, "manual")) return 0;
    return -1;
}

/* Add names to conf (md_conf_names: lowercased, without duplicates; a last word auto|manual sets MDMembers, with
 * anywhere every auto|manual does). */
static const char *add_names(cmd_parms *cmd, md_conf_md_t *conf, int argc, char *const argv[], int anywhere)
{
    return md_conf_names(md_config__ctx(cmd), argc, (const char *const *)argv, anywhere, conf->domains, conf->written,
                         &conf->settings->transitive);
}

const char *md_config__mdomain(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    md_conf_md_t *conf;
    const char *err;

    err = md_config__not_in_section(cmd);
    if (err) return err;
    conf = conf_md_make(cmd);
    err = add_names(cmd, conf, argc, argv, 0);
    if (err) return err;
    if (conf->domains->nelts == 0) {
        return apr_psprintf(cmd->pool, "MDomain needs at least one domain name, e.g. MDomain example.org "
                            "www.example.org (an optional last word auto|manual sets MDMembers)");
    }
    APR_ARRAY_PUSH(mc->conf_mds, md_conf_md_t *) = conf;
    return NULL;
}

/* Other directives inside <MDomain> act on the server around it, as in mod_md: a warning says so. */
static void warn_other_children(cmd_parms *cmd, const md_conf_md_t *conf)
{
    const ap_directive_t *d;

    for (d = cmd->directive->first_child; d; d = d->next) {
        if (md_config__is_own_directive(d->directive)) continue;
        APR_ARRAY_PUSH(md_config_mod_get(cmd->pool)->warnings, const char *) = apr_psprintf(cmd->pool,
            "'%s %s' (line %d of %s) stands inside <MDomain %s>, but it is no MD directive: it applies to the server "
            "the section is in, as if written outside the section", d->directive, d->args ? d->args : "",
            d->line_num, d->filename, APR_ARRAY_IDX(conf->domains, 0, const char *));
    }
}

/* Every MDCertificateFile needs one MDCertificateKeyFile (paired in order), and the other way round. */
static const char *check_static_files(cmd_parms *cmd, const md_conf_md_t *conf)
{
    int ncerts = conf->cert_files->nelts, nkeys = conf->key_files->nelts;

    /* mod_md checks this when the server starts, in the words quoted here */
    if (ncerts > nkeys) {
        return apr_psprintf(cmd->pool, "MDCertificateFile '%s' of MD %s has no MDCertificateKeyFile: The Managed "
                            "Domain '%s' needs one MDCertificateKeyFile for each MDCertificateFile (%d certificate, %d "
                            "key files)", APR_ARRAY_IDX(conf->cert_files, nkeys, const char *),
                            APR_ARRAY_IDX(conf->domains, 0, const char *),
                            APR_ARRAY_IDX(conf->domains, 0, const char *), ncerts, nkeys);
    }
    if (nkeys > ncerts) {
        return apr_psprintf(cmd->pool, "MDCertificateKeyFile '%s' of MD %s has no MDCertificateFile: each "
                            "MDCertificateKeyFile belongs to an MDCertificateFile (%d certificate, %d key files; The "
                            "Managed Domain '%s' has MDCertificateKeyFile(s) but no MDCertificateFile)",
                            APR_ARRAY_IDX(conf->key_files, ncerts, const char *),
                            APR_ARRAY_IDX(conf->domains, 0, const char *), ncerts, nkeys,
                            APR_ARRAY_IDX(conf->domains, 0, const char *));
    }
    return NULL;
}

/* Split the section's argument text (up to the '>') into words. */
static apr_array_header_t *section_words(cmd_parms *cmd, const char *args)
{
    apr_array_header_t *words = apr_array_make(cmd->temp_pool, 4, sizeof(char *));
    char *w;

    while (*(w = ap_getword_conf(cmd->temp_pool, &args)) != '\0') APR_ARRAY_PUSH(words, char *) = w;
    return words;
}

const char *md_config__section(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    const char *endp = ap_strrchr_c(arg, '>'), *err;
    apr_array_header_t *words;
    md_conf_md_t *conf;

    if (mc->section) {
        return apr_psprintf(cmd->pool, "'%s %s': %s is not allowed inside an '<MDomainSet' context: a %s> "
                            "section cannot stand inside another <MDomain>/<MDomainSet> section", cmd->cmd->name, arg,
                            cmd->cmd->name, cmd->cmd->name);
    }
    if (!endp) return apr_psprintf(cmd->pool, "%s> directive missing closing '>'", cmd->cmd->name);
    words = section_words(cmd, apr_pstrmemdup(cmd->temp_pool, arg, (apr_size_t)(endp - arg)));
    conf = conf_md_make(cmd);
    err = add_names(cmd, conf, words->nelts, (char *const *)words->elts, 0);
    if (err) return err;
    if (conf->domains->nelts == 0) {
        return apr_psprintf(cmd->pool, "%s> section must specify a unique domain name: the names of the managed "
                            "domain, e.g. %s example.org>", cmd->cmd->name, cmd->cmd->name);
    }
    warn_other_children(cmd, conf);
    APR_ARRAY_PUSH(mc->conf_mds, md_conf_md_t *) = conf;
    mc->section = conf;
    err = ap_walk_config(cmd->directive->first_child, cmd, cmd->context);
    mc->section = NULL;
    if (err) return err;
    return check_static_files(cmd, conf);
}

const char *md_config__member(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    int mode;

    if (!mc->section) {
        /* mod_md takes MDMember auto|manual outside a section as MDMembers */
        mode = argc == 1 ? members_mode(argv[0]) : -1;
        if (mode < 0) {
            return md_config__err(cmd, md_config__join(cmd, argc, argv), "unknown value, use \"auto|manual\": "
                                  "MDMember adds names only inside <MDomain name>...</MDomain>; outside it takes "
                                  "auto|manual as MDMembers does");
        }
        md_config__settings(cmd)->transitive = mode;
        return NULL;
    }
    return add_names(cmd, mc->section, argc, argv, 1);
}

const char *md_config__members(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_conf_members(md_config__ctx(cmd), arg, &md_config__settings(cmd)->transitive);
}

const char *md_config__match_names(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    const char *err;

    err = md_config__not_in_section(cmd);
    if (err) return err;
    if (!strcasecmp(arg, "all")) mc->match_servernames = 0;
    else if (!strcasecmp(arg, "servernames")) mc->match_servernames = 1;
    else return md_config__err(cmd, arg, "invalid argument, must be a 'all' or 'servernames'");
    return NULL;
}

const char *md_config__base_server(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err;

    err = md_config__not_in_section(cmd);
    if (err) return err;
    return md_config__onoff(cmd, arg, &md_config_mod_get(cmd->pool)->base_server);
}

const char *md_config__renew_mode(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_conf_renew_mode(md_config__ctx(cmd), arg, &md_config__settings(cmd)->renew_mode);
}

/* Where mod_md takes it: server config, <VirtualHost>, <MDomain>, and (AllowOverride AuthConfig) <If>, <Files>, where
 * it applies as if written outside them, and .htaccess, where it has no effect. Not in <Directory>, <Location>. */
const char *md_config__require_https(cmd_parms *cmd, void *dc, const char *arg)
{
    md_settings_t *st;
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_LOCATION);
    int mode;

    if (err) return apr_pstrcat(cmd->pool, err, ": MDRequireHttps is not allowed there", NULL);
    if (!strcasecmp(arg, "off")) mode = MD_REQUIRE_OFF;
    else if (!strcasecmp(arg, "temporary")) mode = MD_REQUIRE_TEMPORARY;
    else if (!strcasecmp(arg, "permanent")) mode = MD_REQUIRE_PERMANENT;
    else return md_config__err(cmd, arg, "supported parameter values are 'temporary' and 'permanent' (and 'off')");
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_RUN_MPM) return NULL;      /* .htaccess, per request */
    st = md_config__settings(cmd);
    st->require_https = mode;
    return NULL;
}

static const char *static_file(cmd_parms *cmd, const char *arg, int key)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    const char *err, *path = NULL;

    err = md_config__section_only(cmd);
    if (err) return err;
    err = md_config__file(cmd, arg, &path);
    if (err) return err;
    APR_ARRAY_PUSH(key ? mc->section->key_files : mc->section->cert_files, const char *) = path;
    return NULL;
}

const char *md_config__cert_file(cmd_parms *cmd, void *dc, const char *arg)
{
    return static_file(cmd, arg, 0);
}

const char *md_config__key_file(cmd_parms *cmd, void *dc, const char *arg)
{
    return static_file(cmd, arg, 1);
}
