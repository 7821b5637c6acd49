/* The registry's changes to a stored MD in place (mdomain update, apply, a2md update): a set of changes applied,
 * checked, and md.json saved atomically, keeping the MD's certificates, account, CA in use and staged job. */
#ifndef MD_REG_UPDATE_H
#define MD_REG_UPDATE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md.h"
#include "md_reg.h"

struct md_result_t;

/* Changes to an MD. NULL pointers and MD_REG_KEEP ints leave an aspect as it is; a given value replaces it. An empty
 * string ("") clears a string setting (ca_file, agreement, profile, dns01_cmd, ...), an empty array clears a list
 * (contacts, challenges: all types, event_handler and install_cmd: none). Programs and files are taken as given:
 * the front-end makes them absolute. */
#define MD_REG_KEEP (-1)

typedef struct md_reg_change_t {
    const apr_array_header_t *domains;        /* const char*: the new names, replacing all (the MD keeps its name, the
                                               * directory in the store) */
    const apr_array_header_t *add_domains;    /* const char*: names added (after domains) */
    const apr_array_header_t *remove_domains; /* const char*: names removed (after add_domains) */
    const apr_array_header_t *ca_urls;        /* const char*: CA directory URLs, in failover order (not empty) */
    const char *ca_file;                      /* PEM roots for talking to the CA */
    const char *proxy_url;                    /* HTTP proxy for talking to the CA */
    const char *ca_account;                   /* the account id in the store ("": none, a new one is made) */
    const apr_array_header_t *contacts;       /* const char*: "mailto:" added where missing */
    const char *ca_agreement;                 /* "accepted" or a terms-of-service URL */
    int eab_set;                              /* 1: eab_kid/eab_hmac replace the EAB (NULL: none) */
    const char *eab_kid, *eab_hmac;
    const apr_array_header_t *pks;            /* md_pkey_spec_t*: the key types (not empty) */
    const apr_array_header_t *ca_challenges;  /* const char*: challenge types in order; empty: all */
    const char *profile;
    int profile_mandatory;
    const char *preferred_chain;
    const char *account_key;                  /* key type of a new account */
    const char *dns01_cmd;                    /* the dns-01 program line */
    int dns01_version;                        /* 1 or 2 */
    const apr_array_header_t *event_handler;  /* const char*: argv of the event handler */
    const md_challenge_delays_t *challenge_delays;
    const md_timeslice_t *renew_window, *warn_window;
    int renew_mode;                           /* md_renew_mode_t */
    int must_staple, ari_renewals;            /* 0/1 */
    int retry_failover;                       /* >= 1 */
    const char *install_chain, *install_key;  /* go together */
    int install_mode;                         /* 0..0777 */
    const apr_array_header_t *install_cmd;    /* const char*: argv of the program run after installing */
    const char *install_owner;                /* "USER[:GROUP]" of the installed files ("": the writer's) */
    const apr_array_header_t *install_reload; /* const char*: argv of the batch's reload program (empty: none) */
} md_reg_change_t;

/* No change at all (every aspect kept). */
void md_reg_change_init(md_reg_change_t *ch);
/* The change that gives a stored MD every setting of md (its names, CA, keys... and the defaults it has where
 * nothing was said): what a declarative file wants. The stored MD's name, account, CA in use and state stay. */
md_reg_change_t *md_reg_change_from_md(const md_t *md, apr_pool_t *p);

/* Apply ch to md in memory (a copy of the stored one) and check the result: at least one name, each a DNS name,
 * wildcard or IP address (lowercased, duplicates dropped), names removed that it has, keys that do not share a
 * store file, a CA, the install chain and key together, a mandatory profile with a profile, a wildcard name only
 * with a dns-01 program or an event handler. APR_EINVAL with *perr saying why ("--remove-domain" words are the
 * front-end's: the reason names the aspect, e.g. "domains: 'x.org' is not a name of the MD"). */
apr_status_t md_reg_change_md(md_t *md, const md_reg_change_t *ch, const char **perr, apr_pool_t *p);

/* The aspects in which two MDs' settings differ, as words in this order: "domains", "ca", "ca-file", "proxy", "contacts",
 * "agreement", "eab", "keys", "challenges", "profile", "preferred-chain", "account-key", "dns", "event-handler",
 * "challenge-delays", "renew-window", "warn-window", "renew-mode", "must-staple", "ari", "retry-failover",
 * "install" (the account, the CA in use and the state are no settings). Empty when they agree. */
apr_array_header_t *md_reg_md_diff(const md_t *a, const md_t *b, apr_pool_t *p);
/* True when a certificate obtained for a no longer covers b: b has a name or a key type (a key file, md_pkey_aspect)
 * a has not. */
int md_reg_md_widens(const md_t *a, const md_t *b, apr_pool_t *p);

typedef struct md_reg_update_t {
    md_t *old_md;                 /* as it was stored */
    md_t *md;                     /* as it is (or, dry run, would be) saved, its state recorded */
    apr_array_header_t *changed;  /* md_reg_md_diff(old_md, md) */
    int renew;                    /* the current certificates no longer cover it: the next drive renews */
} md_reg_update_t;

/* Change the stored MD name: load domains/NAME/md.json, apply ch (md_reg_change_md), refuse a name another MD has
 * (others: md_t* to check against; NULL: every other MD in the store), record the state of its certificates
 * against the new names and key types (incomplete, due now, when they no longer cover it), and save md.json
 * atomically when anything changed and not dry_run. Certificates, keys, account, CA in use (while still one of
 * its CAs) and staging are untouched. APR_ENOENT (no such MD), APR_EINVAL (a change refused: result says why) or
 * a store error. */
apr_status_t md_reg_update(md_reg_update_t **pupd, md_reg_t *reg, const char *name, const md_reg_change_t *ch,
                           const apr_array_header_t *others, int dry_run, struct md_result_t *result,
                           apr_pool_t *p);

/* mdomain apply: the store brought in line with the MDs of a domains file. */
typedef struct md_reg_apply_item_t {
    const char *name;
    const char *action;             /* "add", "update", "unchanged", "unlisted" (stored, not in the file; kept),
                                     * "remove" (unlisted, archived with prune) */
    const md_t *md;                 /* as it is (or, dry run, would be) stored; the stored one for unlisted/remove */
    apr_array_header_t *changed;    /* update: md_reg_md_diff's aspects */
    int renew;                      /* its certificates do not cover it: the next drive obtains them */
    const char *renamed_from;       /* update: the unlisted stored MD it takes over (shares the most names with) */
    const char *archived_as;        /* remove: archive/NAME.N (dry run: NULL) */
    const char *where;              /* "FILE:LINE" of its definition, NULL for unlisted/remove */
} md_reg_apply_item_t;

struct md_conf_file_md_t;

/* Bring the store in line with defs (md_conf_file_md_t*, names unique): an MD the store lacks is added, unless it
 * shares names with a stored MD the file does not list, which it then takes over (renamed: certificates kept); a
 * stored MD is updated to the file's settings (md_reg_change_from_md; the preferred chain and account key, which the
 * file cannot say, stay); stored MDs the file does not list are reported, and archived with prune. Everything is
 * checked first (md_reg_change_md's checks, no name in two MDs): on any problem nothing changes and result lists
 * every problem, one per line with FILE:LINE. dry_run: the same items, nothing written. md.json files are flushed
 * once at the end. *pitems: md_reg_apply_item_t*, the file's MDs in order, then the unlisted. */
apr_status_t md_reg_apply(apr_array_header_t **pitems, md_reg_t *reg, const apr_array_header_t *defs, int dry_run,
                          int prune, struct md_result_t *result, apr_pool_t *p);

#endif
