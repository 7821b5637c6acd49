/* An MD's settings as directives give them (mod_mdomain's server and <MDomain> levels, the domains file of
 * `mdomain apply`): unset until configured, merged level over level, and resolved into an md_t with mod_md's
 * defaults, the same way for both. */
#ifndef MD_SETTINGS_H
#define MD_SETTINGS_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md.h"
#include "md_config_values.h"
#include "md_time.h"

/* An int or enum setting that was not configured at this level. */
#define MD_CONF_UNSET (-1)

/* Unset: NULL pointers and MD_CONF_UNSET ints. */
typedef struct md_settings_t {
    apr_array_header_t *ca_urls;       /* MDCertificateAuthority: directory URLs (CA names resolved) */
    const char *ca_proto;              /* MDCertificateProtocol: "ACME" */
    const char *ca_agreement;          /* MDCertificateAgreement: "accepted" or a terms-of-service URL */
    apr_array_header_t *ca_challenges; /* MDCAChallenges: "http-01", "tls-alpn-01", "dns-01" in order */
    const char *ca_file;               /* MDCACertificateFile: absolute path, or MD_CONF_NONE */
    const char *contact;               /* MDContactEmail: "mailto:..." */
    int eab_set;                       /* MDExternalAccountBinding given (eab_kid NULL: "none") */
    const char *eab_kid;
    const char *eab_hmac;              /* base64url */
    apr_array_header_t *pks;           /* MDPrivateKeys: md_pkey_spec_t*, one per key type */
    md_timeslice_t *renew_window;      /* MDRenewWindow */
    md_timeslice_t *warn_window;       /* MDWarnWindow */
    int renew_mode;                    /* MDRenewMode/MDDriveMode: md_renew_mode_t */
    int transitive;                    /* MDMembers: auto (1), manual (0) */
    int must_staple;                   /* MDMustStaple */
    int require_https;                 /* MDRequireHttps (httpd's md_require_t) */
    int stapling;                      /* MDStapling */
    const char *profile;               /* MDProfile */
    int profile_mandatory;             /* MDProfileMandatory */
    int ari_renewals;                  /* MDRenewViaARI */
    const char *dns01_cmd;             /* MDChallengeDns01: the program and its arguments, as one line */
    apr_array_header_t *event_handler; /* MDEventHandler: argv (program, arguments) */
    md_challenge_delays_t *challenge_delays;   /* MDChallengeResponseDelay */
} md_settings_t;

md_settings_t *md_settings_make(apr_pool_t *p);
/* add's settings where it has them, else base's. */
md_settings_t *md_settings_merge(const md_settings_t *base, const md_settings_t *add, apr_pool_t *p);
/* Resolve settings into md (made by md_create): unset ones take mod_md's defaults (CA Let's Encrypt, transitive,
 * ARI on, no must-staple, no mandatory profile, RSA 2048 recorded as unconfigured). */
void md_settings_apply(md_t *md, const md_settings_t *st, apr_pool_t *p);

#endif
