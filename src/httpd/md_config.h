/* mod_mdomain's configuration: MD settings per server and per <MDomain>, module-wide settings, the assembled MDs. */
#ifndef MD_CONFIG_H
#define MD_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_settings.h"

typedef enum {
    MD_REQUIRE_OFF = 0,         /* MDRequireHttps off (default) */
    MD_REQUIRE_TEMPORARY = 1,   /* redirect http: to https: with 302 */
    MD_REQUIRE_PERMANENT = 2,   /* 301 and the Strict-Transport-Security header */
} md_require_t;

/* The settings an MD takes from its <MDomain> section, else from the server (virtual host merged over the base server)
 * it is defined in, else the defaults: md_settings_t (md_settings.h, shared with `mdomain apply`'s file). */

/* One MDomain line or <MDomain>/<MDomainSet> section as written. */
typedef struct md_conf_md_t {
    apr_array_header_t *domains;       /* const char*: its names (and MDMember names), in order */
    apr_array_header_t *written;       /* const char*: the same as written in the configuration (messages) */
    md_settings_t *settings;           /* the section's own settings (all unset for an MDomain line) */
    apr_array_header_t *cert_files;    /* MDCertificateFile: absolute paths, in order */
    apr_array_header_t *key_files;     /* MDCertificateKeyFile: absolute paths, in order */
    server_rec *s;                     /* the server it is defined in (base server or a virtual host) */
    const char *file;                  /* where: config file and line */
    unsigned line;
} md_conf_md_t;

/* One MD after check_config: the core's model with every setting resolved, and its virtual hosts. */
typedef struct md_managed_t {
    md_t *md;                          /* domains (with auto-added aliases), CA, keys, windows, ...;
                                        * md->extra holds "require-https", "stapling", "cert-files" and
                                        * "pkey-files" in mod_md's md.json form */
    const md_conf_md_t *conf;          /* its definition */
    apr_array_header_t *servers;       /* server_rec*: the servers whose names it covers */
    int require_https;                 /* md_require_t */
    int stapling;
    apr_array_header_t *cert_files;    /* static certificate files (MDCertificateFile), empty: ACME */
    apr_array_header_t *key_files;     /* their keys, same order */
    unsigned usable;                   /* post_config: bit i set when domains/NAME holds a usable certificate (and
                                        * key) for key type i: mod_ssl gets those, also while a renewal adds a
                                        * name or a key type; 0: none, the fallback is served */
    int activated;                     /* post_config: its staged set was activated at this start */
    const char *set_problem;           /* post_config: a file of domains/NAME that cannot be used ("PATH: why", e.g.
                                        * a key that is not its certificate's, which the children may not read):
                                        * the watchdog renews the MD at once; NULL when the set is sound */
    int idx;                           /* its place in mc->mds (its slot in the live table, live.c) */
    const char *live_id;               /* the parent: what identified its active files when it last looked
                                        * (md_reg_live_active_id), to see activations by anyone */
    const char *fallback_cert;         /* post_config: its self-signed fallback certificate file, or NULL */
} md_managed_t;

/* Settings that hold for the whole server. mod_md accepts them in virtual hosts too (and some inside
 * <MDomain>), but they apply server-wide wherever they are written; the last one read wins. One per
 * configuration generation, kept in pconf (md_config_mod_get). */
typedef struct md_mod_conf_t {
    const char *store_dir;             /* MDStoreDir: absolute (default ServerRoot/md) */
    int store_locks;                   /* MDStoreLocks on|off|duration */
    apr_interval_time_t store_lock_wait;   /* how long to wait for the lock (default 5s) */
    int base_server;                   /* MDBaseServer */
    int match_servernames;             /* MDMatchNames: 1 servernames, 0 all (ServerName and ServerAlias) */
    apr_interval_time_t check_interval;    /* MDCheckInterval (12h) */
    apr_interval_time_t initial_delay;     /* MDInitialDelay (0) */
    apr_interval_time_t activation_delay;  /* MDActivationDelay (0, may be negative as in mod_md) */
    apr_interval_time_t retry_delay;       /* MDRetryDelay (5s) */
    apr_interval_time_t store_lease;       /* MDStoreLease (60s): the leases on MDs (md_reg_lease.h) */
    int preflight;                     /* MDPreflight: MD_PREFLIGHT_* flags (default MD_PREFLIGHT_CAA) */
    const char *preflight_dns;         /* MDPreflightDNS: the server asked, NULL: the system's resolver */
    int retry_failover;                /* MDRetryFailover (13) */
    int dns01_version;                 /* MDChallengeDns01Version (1) */
    apr_array_header_t *message_cmd;   /* MDMessageCmd: const char* argv (program, args), NULL: none */
    apr_array_header_t *notify_cmd;    /* MDNotifyCmd: the same */
    int port_http;                     /* MDPortMap: local port that public port 80 reaches, 0: none */
    int port_https;                    /* ... and public port 443 */
    int reach_http;                    /* post_config: httpd listens on port_http (reach.c) */
    int reach_https;                   /* ... and on port_https */
    const char *cert_check_name;       /* MDCertificateCheck (MDCertificateMonitor): "crt.sh" */
    const char *cert_check_url;        /* "https://crt.sh?q=" */
    int server_status;                 /* MDServerStatus (on) */
    int certificate_status;            /* MDCertificateStatus (on) */
    const char *proxy_url;             /* MDHttpProxy, NULL: none */
    const char *proxy_ca_file;         /* MDHttpProxyCACertificateFile, NULL or absolute */
    int staple_others;                 /* MDStapleOthers (on) */
    apr_interval_time_t stapling_keep; /* MDStaplingKeepResponse (7d) */
    md_timeslice_t *stapling_renew_window; /* MDStaplingRenewWindow (33%) */
    int revocation_check;              /* MDRevocationCheck (on) */

    apr_array_header_t *warnings;      /* const char*: what the directives let pass but will fail later (logged
                                        * at startup) */
    apr_array_header_t *conf_mds;      /* md_conf_md_t*: every MD definition, in config order */
    md_conf_md_t *section;             /* the <MDomain> section being read, NULL outside */
    apr_array_header_t *mds;           /* md_managed_t*: the assembled MDs (after check_config) */
    md_store_t *store;                 /* opened in post_config (children inherit it, with its key) */
    const char *fallback_key;          /* post_config: the one fallback key file for all MDs */
    struct md_httpd_live_t *live;      /* post_config: what the processes serve live (live.c), NULL: nothing */
    struct md_reg_ocsp_t *ocsp;        /* post_config: the stapled certificates (ocsp.c), NULL: no stapling */
    void *watchdog;                    /* post_config: the module's watchdog instance (drive.c), NULL: none */
    void *drive;                       /* post_config: the renewal task's state (drive.c), NULL: none */
} md_mod_conf_t;

/* The per-server configuration (one for the base server and one per virtual host). */
typedef struct md_srv_conf_t {
    server_rec *s;
    md_mod_conf_t *mc;                 /* the module-wide settings */
    md_settings_t *settings;           /* MD settings written at this level (vhosts: merged over base) */
    int own_settings;                  /* a directive wrote settings at this level (else a vhost shares base's) */
    apr_array_header_t *mds;           /* md_managed_t*: the MDs covering this server's names
                                        * (after check_config) */
} md_srv_conf_t;

extern module AP_MODULE_DECLARE_DATA mdomain_module;

/* The directive table (config.c). */
extern const command_rec md_config_cmds[];

void *md_config_create_srv(apr_pool_t *p, server_rec *s);
void *md_config_merge_srv(apr_pool_t *p, void *basev, void *addv);
md_srv_conf_t *md_config_get(server_rec *s);
/* The module-wide settings of the configuration generation that lives in pconf (made on first use). */
md_mod_conf_t *md_config_mod_get(apr_pool_t *pconf);

/* check_config: build mc->mds from the definitions (settings resolved, static files checked, no name in two
 * MDs), match them to the servers (MDMatchNames, MDMembers auto, MDBaseServer) and fill each server's
 * ->mds. Nothing is read from the store and nobody is contacted. On failure *perr says why. */
apr_status_t md_config_assemble(const char **perr, server_rec *base, apr_pool_t *p);
/* The matching step of md_config_assemble (config_match.c). */
apr_status_t md_config_match(const char **perr, md_mod_conf_t *mc, server_rec *base, apr_pool_t *p);
/* The MD that has name among its domains; failing that, one whose "*." wildcard covers it; or NULL
 * (config_match.c). */
md_managed_t *md_config_md_for_name(const md_mod_conf_t *mc, const char *name);
/* The request's MD among its server's: the one covering hostname; when none does, the server's first MD
 * (any_fallback) or its only one (otherwise); NULL when there is none (config_match.c). */
const md_managed_t *md_config_md_for_host(const md_srv_conf_t *sc, const char *hostname, int any_fallback);

#endif
