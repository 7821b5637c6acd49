/* Internals of the directive files: shared checks and value parsers, and every directive's handler. */
#ifndef MD_CONFIG_INT_H
#define MD_CONFIG_INT_H

#include "md_config.h"

/* "<directive> '<value>': <reason>" in cmd->pool (the value cut as md_conf_shown cuts it). */
const char *md_config__err(cmd_parms *cmd, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The arguments joined by spaces (for messages and command lines). */
const char *md_config__join(cmd_parms *cmd, int argc, char *const argv[]);

/* Where an MD setting goes: the <MDomain> section being read, else the server's settings. */
md_settings_t *md_config__settings(cmd_parms *cmd);
/* An error when a server-wide directive stands inside <MDomain>; NULL when fine. */
const char *md_config__not_in_section(cmd_parms *cmd);
/* An error when a directive that belongs to one MD stands outside <MDomain>; NULL when fine. */
const char *md_config__section_only(cmd_parms *cmd);
/* True when name is one of this module's directives (sections included, ignoring case). */
int md_config__is_own_directive(const char *name);

/* The core's value parsers (md_config_values.h) for this directive: its name in messages, warnings logged at startup
 * with where the directive stands, paths relative to ServerRoot. */
md_conf_ctx_t *md_config__ctx(cmd_parms *cmd);

/* Value parsers (the core's, md_conf_*); each returns NULL or the error message for this directive. */
const char *md_config__onoff(cmd_parms *cmd, const char *value, int *pv);
const char *md_config__duration(cmd_parms *cmd, const char *value, const char *def_unit,
                                apr_interval_time_t *pv);
const char *md_config__window(cmd_parms *cmd, const char *value, md_timeslice_t **pts);
/* A program with arguments (RAW_ARGS): *pline the trimmed line, *pargv (when given) its words. With allow_empty,
 * an empty line is fine too ("" and NULL: no program). */
const char *md_config__cmdline(cmd_parms *cmd, const char *arg, int allow_empty, const char **pline,
                               apr_array_header_t **pargv);
/* A file relative to ServerRoot that must exist as a regular file (absolute path in *ppath). */
const char *md_config__file(cmd_parms *cmd, const char *value, const char **ppath);
/* A file relative to ServerRoot (absolute path in *ppath) that is read later: when it is missing now, that is a
 * warning at startup, as mod_md takes it too. */
const char *md_config__path(cmd_parms *cmd, const char *value, const char **ppath);
/* A warning about the directive being read, logged at startup (post_config): a value mod_md accepts too, that will
 * make something fail later. */
void md_config__warn(cmd_parms *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));


/* config_md.c: managed domains, members, matching, renew mode, https, static files */
const char *md_config__mdomain(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *md_config__section(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__member(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *md_config__members(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__match_names(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__base_server(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__renew_mode(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__require_https(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__cert_file(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__key_file(cmd_parms *cmd, void *dc, const char *arg);

/* config_ca.c: the CA, the account, challenges */
const char *md_config__ca(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *md_config__ca_proto(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__agreement(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__contact(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__eab(cmd_parms *cmd, void *dc, const char *arg1, const char *arg2);
const char *md_config__ca_file(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__challenges(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *md_config__profile(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__profile_mandatory(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__dns01(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__dns01_version(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__event_handler(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__response_delay(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *md_config__retry_failover(cmd_parms *cmd, void *dc, const char *arg);

/* config_keys.c: keys and certificate lifetimes */
const char *md_config__pkeys(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *md_config__must_staple(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__renew_window(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__warn_window(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__renew_via_ari(cmd_parms *cmd, void *dc, const char *arg);

/* config_server.c: store, timing, ports, programs, proxy, status pages */
const char *md_config__store_dir(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__store_locks(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__check_interval(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__initial_delay(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__activation_delay(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__retry_delay(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__store_lease(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__preflight(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__preflight_dns(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__port_map(cmd_parms *cmd, void *dc, const char *arg1, const char *arg2);
const char *md_config__message_cmd(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__notify_cmd(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__proxy(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__proxy_ca_file(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__server_status(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__cert_status(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__cert_check(cmd_parms *cmd, void *dc, const char *name, const char *url);

/* config_ocsp.c: OCSP stapling */
const char *md_config__stapling(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__staple_others(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__stapling_keep(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__stapling_window(cmd_parms *cmd, void *dc, const char *arg);
const char *md_config__revocation_check(cmd_parms *cmd, void *dc, const char *arg);

#endif
