/* The directive table, per-server and module-wide configuration records, and the checks all directives share. */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <apr_file_info.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "md_preflight.h"
#include "md_time.h"
#include "config_int.h"

#define MOD_CONF_KEY "mdomain.mod_conf"

/* Contexts: every directive is allowed in the server config and in <VirtualHost> (as in mod_md); inside
 * <MDomain> only those that belong to one MD (the handlers check). */
#define MD_TAKE1(name, fn, help)  AP_INIT_TAKE1(name, fn, NULL, RSRC_CONF, help)
#define MD_ARGV(name, fn, help)   AP_INIT_TAKE_ARGV(name, fn, NULL, RSRC_CONF, help)
#define MD_RAW(name, fn, help)    AP_INIT_RAW_ARGS(name, fn, NULL, RSRC_CONF, help)

const command_rec md_config_cmds[] = {
    MD_ARGV("MDomain", md_config__mdomain,
            "names of one managed domain (the first names it), optionally followed by auto|manual"),
    AP_INIT_RAW_ARGS("<MDomainSet", md_config__section, NULL, RSRC_CONF,
                     "section with the settings of one managed domain, given by its names"),
    AP_INIT_RAW_ARGS("<MDomain", md_config__section, NULL, RSRC_CONF,
                     "the same as <MDomainSet>"),
    MD_ARGV("MDMember", md_config__member, "more names of the managed domain (inside <MDomain>)"),
    MD_TAKE1("MDMembers", md_config__members,
             "auto: add the ServerAlias names of matching virtual hosts to the MD; manual: do not"),
    MD_TAKE1("MDMatchNames", md_config__match_names,
             "all: match virtual hosts by ServerName and ServerAlias; servernames: by ServerName only"),
    MD_TAKE1("MDBaseServer", md_config__base_server, "on: manage the server outside all virtual hosts too"),
    MD_TAKE1("MDRenewMode", md_config__renew_mode, "auto|always|manual: when certificates are renewed"),
    MD_TAKE1("MDDriveMode", md_config__renew_mode, "the old name of MDRenewMode"),
    /* as in mod_md also where AllowOverride AuthConfig applies: <If>, <Files> (the handler refuses <Directory> and
     * <Location>), and .htaccess, where it has no effect */
    AP_INIT_TAKE1("MDRequireHttps", md_config__require_https, NULL, RSRC_CONF | OR_AUTHCFG,
                  "off|temporary|permanent: redirect http: to https: (permanent adds HSTS)"),
    MD_TAKE1("MDCertificateFile", md_config__cert_file,
             "a static certificate (chain) file for this MD, used instead of ACME"),
    MD_TAKE1("MDCertificateKeyFile", md_config__key_file, "the private key of the MDCertificateFile before"),
    MD_ARGV("MDCertificateAuthority", md_config__ca,
            "the ACME CA: directory URLs or known names, several for failover"),
    MD_TAKE1("MDCertificateProtocol", md_config__ca_proto, "the protocol to talk to the CA: ACME"),
    MD_TAKE1("MDCertificateAgreement", md_config__agreement,
             "'accepted' to agree to the CA's terms of service"),
    MD_TAKE1("MDContactEmail", md_config__contact, "the email address of the ACME account"),
    AP_INIT_TAKE12("MDExternalAccountBinding", md_config__eab, NULL, RSRC_CONF,
                   "external account binding: KID HMAC, a JSON file with kid and hmac, or none"),
    MD_TAKE1("MDCACertificateFile", md_config__ca_file,
             "PEM file with the roots to trust when talking to the CA, or none"),
    MD_ARGV("MDCAChallenges", md_config__challenges,
            "the challenge types to use, in order: http-01, tls-alpn-01, dns-01"),
    MD_TAKE1("MDProfile", md_config__profile, "the name of the CA's certificate profile to order"),
    MD_TAKE1("MDProfileMandatory", md_config__profile_mandatory,
             "on: fail when the CA does not offer the MDProfile"),
    MD_RAW("MDChallengeDns01", md_config__dns01,
            "the program (and its arguments) that sets up and tears down dns-01 TXT records"),
    MD_RAW("MDEventHandler", md_config__event_handler,
           "the program (and its arguments) called for every event no more specific directive takes"),
    MD_ARGV("MDChallengeResponseDelay", md_config__response_delay,
            "TYPE=DURATION...: the wait between setting up a challenge's answer and telling the CA, e.g. dns-01=2m"),
    MD_TAKE1("MDChallengeDns01Version", md_config__dns01_version,
             "1|2: 2 also passes the TXT value to the teardown call"),
    MD_TAKE1("MDRetryFailover", md_config__retry_failover, "failed attempts before the next CA is used"),
    MD_ARGV("MDPrivateKeys", md_config__pkeys,
            "the key types of the certificates: RSA [bits], P-256, P-384, secp256r1, secp384r1..."),
    MD_TAKE1("MDMustStaple", md_config__must_staple, "on: request certificates with the OCSP must-staple flag"),
    MD_TAKE1("MDRenewWindow", md_config__renew_window,
             "renew when this much (duration, default days, or percent) of the lifetime is left"),
    MD_TAKE1("MDWarnWindow", md_config__warn_window,
             "warn when this much (duration, default days, or percent) of the lifetime is left"),
    MD_TAKE1("MDRenewViaARI", md_config__renew_via_ari, "on: follow the CA's renewal information (ARI)"),
    MD_TAKE1("MDStoreDir", md_config__store_dir, "the directory of the store (relative to ServerRoot)"),
    MD_TAKE1("MDStoreLocks", md_config__store_locks,
             "on|off|duration: lock the store while it is synchronised at startup"),
    MD_TAKE1("MDStoreLease", md_config__store_lease,
             "how long a server's lease on an MD holds without being renewed (servers sharing a store)"),
    MD_TAKE1("MDCheckInterval", md_config__check_interval, "how often certificates are checked (default 12h)"),
    MD_TAKE1("MDInitialDelay", md_config__initial_delay, "how long to wait before the first check"),
    MD_TAKE1("MDActivationDelay", md_config__activation_delay,
             "how long after their start of validity new certificates are activated"),
    MD_TAKE1("MDRetryDelay", md_config__retry_delay, "the first delay after a failed renewal (doubles)"),
    MD_TAKE1("MDPreflight", md_config__preflight,
             "on|off|challenge|caa: check answers and/or CAA before asking the CA (default caa)"),
    MD_TAKE1("MDPreflightDNS", md_config__preflight_dns, "the DNS server pre-flight checks ask (IPv4[:PORT])"),
    AP_INIT_TAKE12("MDPortMap", md_config__port_map, NULL, RSRC_CONF,
                   "where public ports arrive locally: http:PORT https:PORT ('-': not reachable)"),
    MD_RAW("MDMessageCmd", md_config__message_cmd,
            "a program (and arguments) called with the event and the MD name"),
    MD_RAW("MDNotifyCmd", md_config__notify_cmd, "a program (and arguments) called after a renewal"),
    MD_TAKE1("MDHttpProxy", md_config__proxy, "the http: or https: URL of a proxy for talking to the CA"),
    MD_TAKE1("MDHttpProxyCACertificateFile", md_config__proxy_ca_file,
             "PEM file with the roots to trust for an https: proxy"),
    MD_TAKE1("MDServerStatus", md_config__server_status, "on: show the MDs on mod_status' server-status"),
    MD_TAKE1("MDCertificateStatus", md_config__cert_status,
             "on: answer /.httpd/certificate-status on managed hosts"),
    AP_INIT_TAKE2("MDCertificateCheck", md_config__cert_check, NULL, RSRC_CONF,
                  "name and URL prefix of a certificate monitor linked from the status page"),
    AP_INIT_TAKE2("MDCertificateMonitor", md_config__cert_check, NULL, RSRC_CONF,
                  "the old name of MDCertificateCheck"),
    MD_TAKE1("MDStapling", md_config__stapling, "on: staple OCSP responses for managed certificates"),
    MD_TAKE1("MDStapleOthers", md_config__staple_others,
             "on: with MDStapling, also staple for certificates not managed here"),
    MD_TAKE1("MDRevocationCheck", md_config__revocation_check,
             "on: check the CRL of managed certificates without an OCSP URL, and renew those found revoked"),
    MD_TAKE1("MDStaplingKeepResponse", md_config__stapling_keep,
             "how long old OCSP responses are kept in the store (default days)"),
    MD_TAKE1("MDStaplingRenewWindow", md_config__stapling_window,
             "renew an OCSP response when this much (duration or percent) of its lifetime is left"),
    { .name = NULL },   /* the end (designated: clang warns of missing fields in { NULL }) */
};

int md_config__is_own_directive(const char *name)
{
    const command_rec *c;

    for (c = md_config_cmds; c->name; ++c) {
        if (!strcasecmp(c->name, name)) return 1;
    }
    return 0;
}

static md_mod_conf_t *mod_conf_make(apr_pool_t *p)
{
    md_mod_conf_t *mc = apr_pcalloc(p, sizeof(*mc));

    mc->store_lock_wait = apr_time_from_sec(5);
    mc->check_interval = apr_time_from_sec(12 * 3600);
    mc->retry_delay = apr_time_from_sec(5);
    mc->store_lease = apr_time_from_sec(60);
    mc->retry_failover = 13;
    mc->preflight = MD_PREFLIGHT_CAA;
    mc->dns01_version = 1;
    mc->port_http = 80;
    mc->port_https = 443;
    mc->cert_check_name = "crt.sh";
    mc->cert_check_url = "https://crt.sh?q=";
    mc->server_status = 1;
    mc->certificate_status = 1;
    mc->staple_others = 1;
    mc->revocation_check = 1;
    mc->stapling_keep = apr_time_from_sec(7 * 86400);
    mc->stapling_renew_window = apr_pcalloc(p, sizeof(*mc->stapling_renew_window));
    mc->stapling_renew_window->percent = 33;
    mc->warnings = apr_array_make(p, 2, sizeof(const char *));
    mc->conf_mds = apr_array_make(p, 16, sizeof(md_conf_md_t *));
    mc->mds = apr_array_make(p, 16, sizeof(md_managed_t *));
    return mc;
}

md_mod_conf_t *md_config_mod_get(apr_pool_t *pconf)
{
    void *data = NULL;
    md_mod_conf_t *mc;

    apr_pool_userdata_get(&data, MOD_CONF_KEY, pconf);
    if (data) return data;
    mc = mod_conf_make(pconf);
    apr_pool_userdata_setn(mc, MOD_CONF_KEY, NULL, pconf);
    return mc;
}

void *md_config_create_srv(apr_pool_t *p, server_rec *s)
{
    md_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    sc->s = s;
    sc->mc = md_config_mod_get(p);
    sc->settings = md_settings_make(p);
    sc->mds = apr_array_make(p, 2, sizeof(md_managed_t *));
    return sc;
}

void *md_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    const md_srv_conf_t *base = basev, *add = addv;
    md_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    sc->s = add->s;
    sc->mc = add->mc;
    /* a virtual host without MD settings of its own shares the base server's (1000 merged copies otherwise) */
    sc->own_settings = add->own_settings;
    sc->settings = add->own_settings ? md_settings_merge(base->settings, add->settings, p) : base->settings;
    sc->mds = apr_array_make(p, 2, sizeof(md_managed_t *));
    return sc;
}

md_srv_conf_t *md_config_get(server_rec *s)
{
    return ap_get_module_config(s->module_config, &mdomain_module);
}

/* ---- shared checks and parsers ---------------------------------------------------------------------- */

const char *md_config__err(cmd_parms *cmd, const char *value, const char *fmt, ...)
{
    va_list ap;
    const char *reason;

    va_start(ap, fmt);
    reason = apr_pvsprintf(cmd->pool, fmt, ap);
    va_end(ap);
    return apr_psprintf(cmd->pool, "%s '%s': %s", cmd->cmd->name, md_conf_shown(cmd->pool, value), reason);
}

const char *md_config__join(cmd_parms *cmd, int argc, char *const argv[])
{
    const char *s = "";
    int i;

    for (i = 0; i < argc; ++i) s = apr_pstrcat(cmd->pool, s, i ? " " : "", argv[i], NULL);
    return s;
}

md_settings_t *md_config__settings(cmd_parms *cmd)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    md_srv_conf_t *sc;

    if (mc->section) return mc->section->settings;
    sc = md_config_get(cmd->server);
    sc->own_settings = 1;
    return sc->settings;
}

/* The directive as written, for messages: "MDCheckInterval 1h". */
static const char *directive_text(cmd_parms *cmd)
{
    if (!cmd->directive || !cmd->directive->args || !*cmd->directive->args) return cmd->cmd->name;
    return apr_pstrcat(cmd->pool, cmd->directive->directive, " ", md_conf_shown(cmd->pool, cmd->directive->args),
                       NULL);
}

const char *md_config__not_in_section(cmd_parms *cmd)
{
    if (!md_config_mod_get(cmd->pool)->section) return NULL;
    return md_conf_not_in_section(md_config__ctx(cmd), directive_text(cmd));
}

const char *md_config__section_only(cmd_parms *cmd)
{
    if (md_config_mod_get(cmd->pool)->section) return NULL;
    return md_conf_section_only(md_config__ctx(cmd), directive_text(cmd));
}

void md_config__warn(cmd_parms *cmd, const char *fmt, ...)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    const char *where = "", *text;
    va_list ap;

    va_start(ap, fmt);
    text = apr_pvsprintf(cmd->pool, fmt, ap);
    va_end(ap);
    if (cmd->directive && cmd->directive->filename) {
        where = apr_psprintf(cmd->pool, " (line %d of %s)", cmd->directive->line_num, cmd->directive->filename);
    }
    APR_ARRAY_PUSH(mc->warnings, const char *) = apr_psprintf(cmd->pool, "'%s'%s: %s", directive_text(cmd), where,
                                                              text);
}

static void ctx_warn(void *baton, const char *text)
{
    md_config__warn(baton, "%s", text);
}

static const char *ctx_path(void *baton, const char *value)
{
    cmd_parms *cmd = baton;

    return ap_server_root_relative(cmd->pool, value);
}

md_conf_ctx_t *md_config__ctx(cmd_parms *cmd)
{
    md_conf_ctx_t *c = apr_pcalloc(cmd->pool, sizeof(*c));

    c->directive = cmd->cmd->name;
    c->p = cmd->pool;
    c->warn = ctx_warn;
    c->path = ctx_path;
    c->baton = cmd;
    return c;
}

const char *md_config__onoff(cmd_parms *cmd, const char *value, int *pv)
{
    return md_conf_onoff(md_config__ctx(cmd), value, pv);
}

const char *md_config__duration(cmd_parms *cmd, const char *value, const char *def_unit,
                                apr_interval_time_t *pv)
{
    return md_conf_duration(md_config__ctx(cmd), value, def_unit, pv);
}

const char *md_config__window(cmd_parms *cmd, const char *value, md_timeslice_t **pts)
{
    return md_conf_window(md_config__ctx(cmd), value, pts);
}

const char *md_config__path(cmd_parms *cmd, const char *value, const char **ppath)
{
    return md_conf_path(md_config__ctx(cmd), value, ppath);
}

const char *md_config__file(cmd_parms *cmd, const char *value, const char **ppath)
{
    return md_conf_file(md_config__ctx(cmd), value, ppath);
}

const char *md_config__cmdline(cmd_parms *cmd, const char *arg, int allow_empty, const char **pline,
                               apr_array_header_t **pargv)
{
    return md_conf_cmdline(md_config__ctx(cmd), arg, allow_empty, pline, pargv);
}
