/* The directives of the domains file: mod_md's MD directives with the module's value parsers, MDInstall* of our own,
 * the module's server directives taken with a warning, anything else refused as httpd refuses it. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "md_conf_file_int.h"
#include "md_file.h"

typedef enum { TAKE1, TAKE12, ARGV, RAW } arity_t;
typedef enum { ANYWHERE, GLOBAL_ONLY, SECTION_ONLY } place_t;

typedef const char *dir_fn(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                           const char *raw);

typedef struct {
    const char *name;
    dir_fn *fn;
    arity_t arity;
    place_t place;
    const char *help;
} dir_t;

#define ST(ps) (md_conf_file__level(ps)->st)

static const char *d_mdomain(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                             const char *raw)
{
    md_conf_file_def_t *def = apr_pcalloc(ps->p, sizeof(*def));
    int transitive = MD_CONF_UNSET;
    const char *err;

    (void)raw;
    def->domains = apr_array_make(ps->p, 4, sizeof(const char *));
    def->written = apr_array_make(ps->p, 4, sizeof(const char *));
    def->level = md_conf_file__level_make(ps->p);
    def->line = ps->line;
    if ((err = md_conf_names(c, argc, argv, 0, def->domains, def->written, &transitive)) != NULL) return err;
    if (def->domains->nelts == 0) {
        return "MDomain needs at least one domain name, e.g. MDomain example.org www.example.org (an optional last "
               "word auto|manual sets MDMembers)";
    }
    APR_ARRAY_PUSH(ps->defs, md_conf_file_def_t *) = def;
    return NULL;
}

static const char *d_member(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                            const char *raw)
{
    int mode = MD_CONF_UNSET;

    (void)raw;
    if (ps->section) {
        return md_conf_names(c, argc, argv, 1, ps->section->domains, ps->section->written, &ST(ps)->transitive);
    }
    /* as mod_md: MDMember auto|manual outside a section is MDMembers */
    if (argc != 1 || md_conf_members(c, argv[0], &mode) != NULL) {
        return md_conf_err(c, md_conf_join(c, argc, argv), "unknown value, use \"auto|manual\": MDMember adds names "
                           "only inside <MDomain name>...</MDomain>; outside it takes auto|manual as MDMembers does");
    }
    ST(ps)->transitive = mode;
    return NULL;
}

static const char *d_members(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                             const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_members(c, argv[0], &ST(ps)->transitive);
}

static const char *d_renew_mode(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_renew_mode(c, argv[0], &ST(ps)->renew_mode);
}

static const char *d_ca(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                        const char *raw)
{
    (void)raw;
    return md_conf_ca(c, argc, argv, &ST(ps)->ca_urls);
}

static const char *d_ca_proto(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                              const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_ca_proto(c, argv[0], &ST(ps)->ca_proto);
}

static const char *d_agreement(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                               const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_agreement(c, argv[0], &ST(ps)->ca_agreement);
}

static const char *d_contact(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                             const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_contact(c, argv[0], &ST(ps)->contact);
}

static const char *d_eab(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                         const char *raw)
{
    md_settings_t *st = ST(ps);
    const char *kid = NULL, *hmac = NULL, *err;

    (void)raw;
    st->eab_set = 1;
    st->eab_kid = st->eab_hmac = NULL;
    if ((err = md_conf_eab(c, argv[0], argc > 1 ? argv[1] : NULL, &kid, &hmac)) != NULL) return err;
    st->eab_kid = kid;
    st->eab_hmac = hmac;
    return NULL;
}

static const char *d_ca_file(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                             const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_ca_file(c, argv[0], &ST(ps)->ca_file);
}

static const char *d_challenges(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                const char *raw)
{
    (void)raw;
    return md_conf_challenges(c, argc, argv, &ST(ps)->ca_challenges);
}

static const char *d_profile(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                             const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_profile(c, argv[0], &ST(ps)->profile);
}

static const char *d_profile_mandatory(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc,
                                       const char *const argv[], const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_onoff(c, argv[0], &ST(ps)->profile_mandatory);
}

static const char *d_dns01(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                           const char *raw)
{
    (void)argc; (void)argv;
    return md_conf_cmdline(c, raw, 1, &ST(ps)->dns01_cmd, NULL);
}

static const char *d_event_handler(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                   const char *raw)
{
    const char *line = NULL;

    (void)argc; (void)argv;
    return md_conf_cmdline(c, raw, 0, &line, &ST(ps)->event_handler);
}

static const char *d_response_delay(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                    const char *raw)
{
    (void)raw;
    return md_conf_response_delay(c, argc, argv, &ST(ps)->challenge_delays);
}

static const char *d_dns01_version(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                   const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_dns01_version(c, argv[0], &ps->dns01_version);
}

static const char *d_retry_failover(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                    const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_retry_failover(c, argv[0], &ps->retry_failover);
}

static const char *d_pkeys(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                           const char *raw)
{
    (void)raw;
    return md_conf_pkeys(c, argc, argv, &ST(ps)->pks);
}

static const char *d_must_staple(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                 const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_onoff(c, argv[0], &ST(ps)->must_staple);
}

static const char *d_ari(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                         const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_onoff(c, argv[0], &ST(ps)->ari_renewals);
}

static const char *d_renew_window(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                  const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_window(c, argv[0], &ST(ps)->renew_window);
}

static const char *d_warn_window(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                 const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_window(c, argv[0], &ST(ps)->warn_window);
}

static const char *d_proxy(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                           const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_proxy(c, argv[0], &ps->proxy_url);
}

/* A path written after each renewal: absolute (against the file's directory); it need not exist yet. */
static const char *install_path(md_conf_file_parser_t *ps, md_conf_ctx_t *c, const char *value, const char **pv)
{
    const char *path = c->path ? c->path(c->baton, value) : value;

    (void)ps;
    if (!path || !*value) return md_conf_err(c, value, "not a valid file path");
    *pv = path;
    return NULL;
}

static const char *d_install_chain(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                   const char *raw)
{
    (void)argc; (void)raw;
    return install_path(ps, c, argv[0], &md_conf_file__level(ps)->install_chain);
}

static const char *d_install_key(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                 const char *raw)
{
    (void)argc; (void)raw;
    return install_path(ps, c, argv[0], &md_conf_file__level(ps)->install_key);
}

static const char *d_install_mode(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                  const char *raw)
{
    (void)argc; (void)raw;
    return md_conf_mode(c, argv[0], &md_conf_file__level(ps)->install_mode);
}

static const char *d_install_cmd(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                 const char *raw)
{
    const char *line = NULL;

    (void)argc; (void)argv;
    return md_conf_cmdline(c, raw, 0, &line, &md_conf_file__level(ps)->install_cmd);
}

static const char *d_install_owner(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                   const char *raw)
{
    const char *err = NULL;
    uid_t uid;
    gid_t gid;

    (void)argc; (void)raw;
    if (md_file_owner_parse(&uid, &gid, argv[0], &err, ps->p) != APR_SUCCESS) {
        return md_conf_err(c, argv[0], "%s", strstr(err, "': ") ? strstr(err, "': ") + 3 : err);   /* no value twice */
    }
    md_conf_file__level(ps)->install_owner = argv[0];
    return NULL;
}

static const char *d_install_reload(md_conf_file_parser_t *ps, md_conf_ctx_t *c, int argc, const char *const argv[],
                                    const char *raw)
{
    const char *line = NULL;

    (void)argc; (void)argv;
    return md_conf_cmdline(c, raw, 0, &line, &md_conf_file__level(ps)->install_reload);
}

static const dir_t dirs[] = {
    { "MDomain", d_mdomain, ARGV, GLOBAL_ONLY, "" },
    { "MDMember", d_member, ARGV, ANYWHERE, "" },
    { "MDMembers", d_members, TAKE1, ANYWHERE, "auto|manual" },
    { "MDRenewMode", d_renew_mode, TAKE1, ANYWHERE, "auto|always|manual" },
    { "MDDriveMode", d_renew_mode, TAKE1, ANYWHERE, "auto|always|manual" },
    { "MDCertificateAuthority", d_ca, ARGV, ANYWHERE, "" },
    { "MDCertificateProtocol", d_ca_proto, TAKE1, ANYWHERE, "ACME" },
    { "MDCertificateAgreement", d_agreement, TAKE1, ANYWHERE, "accepted" },
    { "MDContactEmail", d_contact, TAKE1, ANYWHERE, "the email address of the ACME account" },
    { "MDExternalAccountBinding", d_eab, TAKE12, ANYWHERE, "KID HMAC, a JSON file with kid and hmac, or none" },
    { "MDCACertificateFile", d_ca_file, TAKE1, ANYWHERE, "a PEM file, or none" },
    { "MDCAChallenges", d_challenges, ARGV, ANYWHERE, "" },
    { "MDProfile", d_profile, TAKE1, ANYWHERE, "the name of the CA's certificate profile" },
    { "MDProfileMandatory", d_profile_mandatory, TAKE1, ANYWHERE, "on|off" },
    { "MDChallengeDns01", d_dns01, RAW, ANYWHERE, "" },
    { "MDEventHandler", d_event_handler, RAW, ANYWHERE, "" },
    { "MDChallengeResponseDelay", d_response_delay, ARGV, ANYWHERE, "" },
    { "MDChallengeDns01Version", d_dns01_version, TAKE1, GLOBAL_ONLY, "1|2" },
    { "MDRetryFailover", d_retry_failover, TAKE1, GLOBAL_ONLY, "failed attempts before the next CA is used" },
    { "MDPrivateKeys", d_pkeys, ARGV, ANYWHERE, "" },
    { "MDMustStaple", d_must_staple, TAKE1, ANYWHERE, "on|off" },
    { "MDRenewWindow", d_renew_window, TAKE1, ANYWHERE, "a duration (days without a unit) or a percentage" },
    { "MDWarnWindow", d_warn_window, TAKE1, ANYWHERE, "a duration (days without a unit) or a percentage" },
    { "MDRenewViaARI", d_ari, TAKE1, ANYWHERE, "on|off" },
    { "MDHttpProxy", d_proxy, TAKE1, GLOBAL_ONLY, "the http: or https: URL of a proxy" },
    { "MDInstallChain", d_install_chain, TAKE1, SECTION_ONLY, "where the full chain is written after a renewal" },
    { "MDInstallKey", d_install_key, TAKE1, SECTION_ONLY, "where the private key is written after a renewal" },
    { "MDInstallMode", d_install_mode, TAKE1, ANYWHERE, "the octal mode of the installed key, e.g. 0640" },
    { "MDInstallCmd", d_install_cmd, RAW, ANYWHERE, "" },
    { "MDInstallOwner", d_install_owner, TAKE1, ANYWHERE, "USER[:GROUP] of the installed chain and key" },
    { "MDInstallReload", d_install_reload, RAW, ANYWHERE, "" },
};

/* The module's directives about the server, not an MD: the file takes them (a file shared with httpd), without
 * effect. */
static const char *const server_only[] = {
    "MDMatchNames", "MDBaseServer", "MDRequireHttps", "MDCertificateFile", "MDCertificateKeyFile", "MDStoreDir",
    "MDStoreLocks", "MDCheckInterval", "MDInitialDelay", "MDActivationDelay", "MDRetryDelay", "MDPortMap",
    "MDMessageCmd", "MDNotifyCmd", "MDHttpProxyCACertificateFile", "MDServerStatus", "MDCertificateStatus",
    "MDCertificateCheck", "MDCertificateMonitor", "MDStapling", "MDStapleOthers", "MDStaplingKeepResponse",
    "MDStaplingRenewWindow", "MDRevocationCheck", NULL,
};

static const char *arity_problem(const dir_t *d, int argc)
{
    switch (d->arity) {
    case TAKE1: return argc == 1 ? NULL : "%s takes one argument, %s";
    case TAKE12: return argc == 1 || argc == 2 ? NULL : "%s takes 1-2 arguments, %s";
    default: return NULL;
    }
}

const char *md_conf_file__directive(md_conf_file_parser_t *ps, md_conf_ctx_t *c, const char *name,
                                    const char *raw)
{
    apr_array_header_t *words = apr_array_make(ps->p, 4, sizeof(const char *));
    const char *s = raw, *fmt;
    const dir_t *d = NULL;
    char *w;
    size_t i;

    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); ++i) {
        if (!strcasecmp(dirs[i].name, name)) d = &dirs[i];
    }
    if (!d) {
        for (i = 0; server_only[i]; ++i) {
            if (!strcasecmp(server_only[i], name)) {
                c->directive = server_only[i];
                md_conf_warn(c, "%s is a setting of the Apache module: it has no effect here", server_only[i]);
                return NULL;
            }
        }
        return apr_psprintf(ps->p, "Invalid command '%s', perhaps misspelled or defined by a module not included in "
                            "the server configuration", name);
    }
    c->directive = d->name;
    while ((w = md_conf_file__word(&s, ps->p)) != NULL) APR_ARRAY_PUSH(words, const char *) = w;
    if ((fmt = arity_problem(d, words->nelts)) != NULL) return apr_psprintf(ps->p, fmt, d->name, d->help);
    if (d->place == GLOBAL_ONLY && ps->section) return md_conf_not_in_section(c, ps->text);
    if (d->place == SECTION_ONLY && !ps->section) return md_conf_section_only(c, ps->text);
    return d->fn(ps, c, words->nelts, (const char *const *)words->elts, raw);
}
