/* The managed domain (MD): names, settings and state, and its md.json form (mod_md's format). */
#ifndef MD_H
#define MD_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md_json.h"
#include "md_pkey.h"
#include "md_store.h"
#include "md_time.h"

struct md_result_t;

typedef enum {
    MD_S_UNKNOWN = 0,      /* not yet looked at */
    MD_S_INCOMPLETE = 1,   /* a certificate is missing or does not cover all names */
    MD_S_COMPLETE = 2,     /* all certificates there and valid */
    MD_S_EXPIRED = 3,      /* a certificate has expired */
    MD_S_ERROR = 4,        /* the last renewal failed */
    MD_S_MISSING_INFORMATION = 5,   /* e.g. no ToS agreement where the CA needs one */
} md_state_t;

typedef enum {
    MD_RENEW_MANUAL = 0,   /* never renewed automatically */
    MD_RENEW_AUTO = 1,     /* renewed when due (default) */
    MD_RENEW_ALWAYS = 2,   /* also when the certificates are not in use (httpd) */
} md_renew_mode_t;

#define MD_RENEW_WINDOW_DEF "33%"
#define MD_WARN_WINDOW_DEF  "10%"

/* MDChallengeResponseDelay / --challenge-delay: per challenge type, 0 for none. */
typedef struct md_challenge_delays_t {
    apr_interval_time_t http01, tlsalpn01, dns01;
} md_challenge_delays_t;

typedef struct md_t {
    const char *name;                 /* the MD's name: its first domain */
    apr_array_header_t *domains;      /* const char*: DNS names, "*." wildcards, IP addresses */
    apr_array_header_t *contacts;     /* const char*: "mailto:..." */
    apr_array_header_t *ca_urls;      /* const char*: CA directory URLs, in failover order */
    const char *ca_effective;         /* the CA in use now (one of ca_urls) */
    const char *ca_account;           /* the account id in the store, NULL until known */
    const char *ca_agreement;         /* "accepted" (or a ToS URL), NULL when not agreed */
    const char *ca_eab_kid;           /* external account binding */
    const char *ca_eab_hmac;
    const char *ca_file;              /* PEM roots for talking to the CA (CLI) */
    const char *proxy_url;            /* HTTP proxy for talking to the CA (mdomain apply's MDHttpProxy), NULL: the
                                       * front-end's */
    apr_array_header_t *ca_challenges;/* const char*: challenge types in order of preference; empty: all */
    apr_array_header_t *pks;          /* md_pkey_spec_t*: at least one (see md_pkey_aspect for file names) */
    int pks_default;                  /* 1: no key type was configured (md_create's RSA 2048): md.json leaves out
                                       * "privkey", as mod_md does; a configured "RSA" is written */
    md_timeslice_t *renew_window;
    md_timeslice_t *warn_window;
    md_renew_mode_t renew_mode;
    int must_staple;
    int transitive;                   /* mod_md: 1 */
    const char *profile;              /* ACME profile, NULL for the CA's default */
    int profile_mandatory;
    int ari_renewals;                 /* use ARI when the CA offers it (default 1) */
    const char *preferred_chain;      /* issuer name of the preferred alternate chain, NULL */
    const char *dns01_cmd;            /* program for dns-01 setup/teardown, NULL */
    int dns01_version;                /* 1: "teardown DOMAIN", 2: "teardown DOMAIN TXT" */
    int retry_failover;               /* failed attempts before the next CA, default 13 */
    const char *account_key;          /* key type of a new ACME account ("rsa2048", ...), NULL: P-256 */
    /* Installing for servers other than Apache (CLI): paths written after a renewal, and a program to run. */
    const char *install_chain;        /* full chain (first key type) */
    const char *install_key;          /* its private key */
    int install_mode;                 /* mode of the installed key, default 0600 */
    apr_array_header_t *install_cmd;  /* const char*: argv of the program run after installing, or empty */
    const char *install_owner;        /* "USER[:GROUP]" the installed files are given, NULL: the writer's */
    apr_array_header_t *install_reload;   /* const char*: argv of the reload program, run once per batch for all
                                       * MDs renewed in it (MD_RENEWED), or empty */
    const char *install_ocsp;         /* where `mdomain ocsp` (and drive) write its OCSP response (DER), or NULL */
    /* The event interface: the program for events no specific program takes, and the wait between a challenge's
     * successful setup and telling the CA to validate it, per challenge type. */
    apr_array_header_t *event_handler;        /* const char*: argv (program, args), empty: none */
    md_challenge_delays_t challenge_delays;
    /* The names whose https server allows the ACME protocol "acme-tls/1", so that tls-alpn-01 can be answered for
     * them (md.json's "proto": {"acme-tls/1": [...]}, as mod_md writes it); the module sets them from its
     * virtual hosts' Protocols. Never NULL. */
    apr_array_header_t *acme_tls_1;
    md_state_t state;
    const char *state_descr;
    /* md.json keys this struct does not model (mod_md's "require-https", "stapling", "proto", "cert-files",
     * "pkey-files", "ca"."proto", keys of newer versions...), in md.json's shape: md_to_json writes them back
     * so a rewrite loses nothing. NULL when there are none. */
    md_json_t *extra;
} md_t;

/* A new MD with mod_md's defaults: name = first domain, renew 33%, warn 10%, one RSA 2048 key (mod_md's
 * MDPrivateKeys default)... see md.c. Duplicate domains (ignoring case) are dropped. */
md_t *md_create(const apr_array_header_t *domains, apr_pool_t *p);
md_t *md_clone(const md_t *md, apr_pool_t *p);
/* True when the MD's domains contain name (case-insensitive). */
int md_contains(const md_t *md, const char *name);
/* The first name two MDs have in common, or NULL. */
const char *md_common_name(const md_t *a, const md_t *b);
/* The first of md's names that another MD in the store's domains/ holds (NULL: none), *pholder that MD. The names
 * of all stored MDs are cached in tmp/ with each md.json's inode, size and time: only changed files are read. */
struct md_store_t;
const char *md_names_holder(const char **pholder, struct md_store_t *store, const md_t *md, apr_pool_t *p);
/* After md's md.json was written (added): its names noted in that cache, so that the next look-up need not read
 * the file again and rewrite the cache. Never fails: a cache. */
void md_names_note(struct md_store_t *store, const md_t *md, apr_pool_t *p);
/* True when a DNS name pattern matches name: equal (ignoring case), or pattern "*.rest" and name one
 * non-empty label followed by ".rest". */
int md_dns_matches(const char *pattern, const char *name);
/* True when one of the MD's domains matches name (md_dns_matches: exact or by a "*." wildcard). */
int md_covers(const md_t *md, const char *name);
/* NULL when name can be a domain of an MD (a DNS name, a "*." wildcard DNS name, an IPv4/IPv6 address),
 * else a short reason ("only letters, digits, '-' and '.' are allowed", ...). */
const char *md_domain_problem(const char *name);
/* The part of md_domain_problem that no CA and no setup can ever take, which the module refuses at apache2 -t while it
 * only warns about the rest (as mod_md takes them): a name ending in a number that is no IP address ("300.1.1.1",
 * "1.2.3"), a wildcard of a top-level domain ("*.org"). NULL when name is none of these. */
const char *md_domain_impossible(const char *name);
/* NULL when name can be the name of an MD (its directory in the store), else why not: empty, "." or "..", with a
 * '/', or longer than 253 characters. Other names a CA will refuse are fine here (mod_md takes them, the CA's
 * answer shows in the status). */
const char *md_name_problem(const char *name);
/* The challenge type for word when it is one we answer ("http-01", "tls-alpn-01", "dns-01", any case), else NULL. */
const char *md_challenge_type_known(const char *word);

/* md.json: mod_md's keys in mod_md's order ("name", "domains", "contacts", "transitive", "ca" {"account",
 * "proto", "url", "urls", "agreement", "challenges"}, "privkey" (an object for one key, an array for several;
 * left out when no key type was configured, pks_default, as mod_md does), "state", "state-descr", "renew-mode",
 * "renew-window", "warn-window", "must-staple", "cmd-dns-01", "eab" {"kid","hmac"}, "profile",
 * "profile-mandatory", "ari-renewals") plus mdomain's own under "mdomain" {"ca-file", "dns01-version",
 * "preferred-chain", "retry-failover", "proxy", "install" {"chain","key","mode","cmd","owner","reload","ocsp"}},
 * written only when not default. Reading accepts what mod_md 2.x writes; bad values are APR_EINVAL with the key
 * named in result. */
md_json_t *md_to_json(const md_t *md, apr_pool_t *p);
apr_status_t md_from_json(md_t **pmd, const md_json_t *json, struct md_result_t *result, apr_pool_t *p);

/* GROUP/NAME/md.json from the store. A missing MD is APR_ENOENT with "no managed domain 'NAME' in STORE"
 * in result; a damaged one (not JSON, a bad value, a "name" that cannot name a directory or is not NAME, a domain
 * with a control character) APR_EINVAL with "PATH: what is wrong" (the key named) in result. */
apr_status_t md_load(md_t **pmd, md_store_t *store, md_store_group_t group, const char *name,
                     struct md_result_t *result, apr_pool_t *p);
apr_status_t md_save(const md_t *md, md_store_t *store, md_store_group_t group, int create_only,
                     struct md_result_t *result, apr_pool_t *p);
/* md_save without the flush (md_store_save_unflushed): the state recorded after an activation. */
apr_status_t md_save_unflushed(const md_t *md, md_store_t *store, md_store_group_t group,
                               struct md_result_t *result, apr_pool_t *p);

/* The store file names of key number i, as mod_md names them: "privkey.pem"/"pubcert.pem" for an RSA key,
 * else "privkey.<spec name>.pem"/"pubcert.<spec name>.pem" (lowercase), e.g. "privkey.secp256r1.pem" even
 * when that key is the only one. NULL when i is out of range. */
const char *md_pkey_aspect(const md_t *md, int i, apr_pool_t *p);
const char *md_cert_aspect(const md_t *md, int i, apr_pool_t *p);

const char *md_state_str(md_state_t state);
/* True when the MD may use the challenge type: MDCAChallenges / --challenge names it, or names none. */
int md_challenge_allowed(const md_t *md, const char *type);
/* True when name is one of the MD's acme-tls/1 names (md->acme_tls_1, ignoring case). */
int md_acme_tls_1_has(const md_t *md, const char *name);

/* A digest (SHA-256, hex) of the MD's settings, without its state, account and CA in use: it changes when the
 * configuration of the MD does. */
const char *md_digest(const md_t *md, apr_pool_t *p);

/* The response delay of a challenge type ("http-01", "tls-alpn-01", "dns-01"; 0 for others). */
apr_interval_time_t md_challenge_delay(const md_t *md, const char *type);
/* Parse "TYPE=DURATION" (e.g. "dns-01=2m": a duration in mod_md's units, "m" also for minutes, a bare number is
 * seconds, "off" is 0) into delays; on failure *perr says why. */
apr_status_t md_challenge_delay_parse(md_challenge_delays_t *delays, const char *word, const char **perr,
                                      apr_pool_t *p);
/* "http-01=5s dns-01=2mi" for the non-zero delays, "" when there are none. */
const char *md_challenge_delays_print(const md_challenge_delays_t *delays, apr_pool_t *p);   /* "unknown", "incomplete", "complete", "expired", "error", ... */

#endif
