/* The values of mod_md's directives, parsed once for mod_mdomain and for the domains file of `mdomain apply`: each
 * parser returns NULL or the error in mod_md's words (mostly "DIRECTIVE 'VALUE': REASON"), and hands warnings (values
 * mod_md takes that will make something fail later) to its context; and the check that no name is in two MDs. */
#ifndef MD_CONFIG_VALUES_H
#define MD_CONFIG_VALUES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_time.h"

/* MDCACertificateFile none / MDHttpProxyCACertificateFile none: explicitly no file. */
#define MD_CONF_NONE "none"

typedef struct md_conf_ctx_t {
    const char *directive;      /* the directive's name as the table spells it, for messages */
    apr_pool_t *p;              /* values and messages */
    /* a value mod_md takes that will make something fail later: text without the directive (the front-end says
     * where); NULL: dropped */
    void (*warn)(void *baton, const char *text);
    /* a path as written made absolute (httpd: against ServerRoot; a domains file: against its directory), NULL when
     * it is no valid path; NULL: taken as written */
    const char *(*path)(void *baton, const char *value);
    void *baton;
} md_conf_ctx_t;

/* value as messages show it: at most MD_CONF_SHOWN_MAX characters, a longer one cut with its length told (httpd cuts
 * a long message, and a 10 000-character name hid the reason). */
#define MD_CONF_SHOWN_MAX 200
const char *md_conf_shown(apr_pool_t *p, const char *value);
/* "DIRECTIVE 'VALUE': REASON" in c->p (the value md_conf_shown). */
const char *md_conf_err(const md_conf_ctx_t *c, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A warning through c->warn. */
void md_conf_warn(const md_conf_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The words joined by spaces. */
const char *md_conf_join(const md_conf_ctx_t *c, int argc, const char *const argv[]);

/* Where a directive stands, in the module's words; text is the directive as written ("MDRetryFailover 3"). */
const char *md_conf_not_in_section(const md_conf_ctx_t *c, const char *text);
const char *md_conf_section_only(const md_conf_ctx_t *c, const char *text);

/* on|off (any case). */
const char *md_conf_onoff(const md_conf_ctx_t *c, const char *value, int *pv);
/* A duration (md_duration_parse_signed) with def_unit ("d", "h", "mi", "s", "ms") when it has no unit. */
const char *md_conf_duration(const md_conf_ctx_t *c, const char *value, const char *def_unit,
                             apr_interval_time_t *pv);
/* MDRenewWindow, MDWarnWindow, MDStaplingRenewWindow: a duration (days without a unit) or a percentage below 100. */
const char *md_conf_window(const md_conf_ctx_t *c, const char *value, md_timeslice_t **pts);
/* A program with arguments (a raw line): *pline the trimmed line, *pargv (when given) its words. With allow_empty, an
 * empty line is fine too (NULL and nothing: no program); a program whose name is empty ('""') is not. */
const char *md_conf_cmdline(const md_conf_ctx_t *c, const char *arg, int allow_empty, const char **pline,
                            apr_array_header_t **pargv);
/* A file read later: when it is missing now, that is a warning (as mod_md takes it). */
const char *md_conf_path(const md_conf_ctx_t *c, const char *value, const char **ppath);
/* MDProfile: any name mod_md takes, but not bytes that are no UTF-8 or control characters (mod_md takes those; a
 * JSON md.json cannot hold them, so the name would be lost): refused, the message naming the byte's position and value without echoing
 * it. A space or non-ASCII is taken with a warning (a CA's profile names are words such as "shortlived"). */
const char *md_conf_profile(const md_conf_ctx_t *c, const char *value, const char **pprofile);
/* A file that must exist now as a regular file. */
const char *md_conf_file(const md_conf_ctx_t *c, const char *value, const char **ppath);

/* Names of a managed domain (MDomain, <MDomain>, MDMember), appended to names lowercased without duplicates, empty
 * words skipped; written (when given) gets each as written, at the same index. A last word auto|manual (with
 * anywhere: every such word) sets *ptransitive (1 auto, 0 manual). The first name must be able to name a directory;
 * names a CA will refuse are taken with a warning, as mod_md takes them, except those no CA can ever take
 * (md_domain_impossible) and, with written, one given twice in different case. */
const char *md_conf_names(const md_conf_ctx_t *c, int argc, const char *const argv[], int anywhere,
                          apr_array_header_t *names, apr_array_header_t *written, int *ptransitive);
/* A name listed by two MDs (md_conf_name_clashes): the MD that lists it first and the one that lists it again. */
typedef struct md_conf_clash_t {
    const char *name;
    int first, again;           /* indices into the MDs */
} md_conf_clash_t;
/* Each name of the MDs (md_t *, names lowercase as md_conf_names makes them) that an earlier MD lists already, in
 * order: a name belongs to one MD only, as mod_md checks it at its start (a wildcard that covers another MD's name is
 * fine). */
apr_array_header_t *md_conf_name_clashes(const apr_array_header_t *mds, apr_pool_t *p);
/* The clash in mod_md's words, each MD with where it is defined (e.g. "FILE:LINE"). */
const char *md_conf_clash_msg(const md_conf_clash_t *clash, const apr_array_header_t *mds, const char *first_at,
                              const char *again_at, apr_pool_t *p);
/* A wildcard name is validated only with dns-01: when the MD's MDCAChallenges leaves dns-01 out, every renewal would
 * fail (mod_md finds out at the CA). Then the first such name in a message naming the MD (defined at 'at', e.g.
 * "FILE:LINE") and what to change; NULL when the MD has none or may use dns-01. */
const char *md_conf_wildcard_problem(const md_t *md, const char *at, apr_pool_t *p);
/* auto (1) | manual (0): MDMembers. */
const char *md_conf_members(const md_conf_ctx_t *c, const char *value, int *pv);
/* auto|always|manual: MDRenewMode, MDDriveMode (md_renew_mode_t). */
const char *md_conf_renew_mode(const md_conf_ctx_t *c, const char *value, int *pv);
/* MDCertificateAuthority: CA names or URLs, without repetitions. */
const char *md_conf_ca(const md_conf_ctx_t *c, int argc, const char *const argv[], apr_array_header_t **purls);
/* MDCertificateProtocol: ACME. */
const char *md_conf_ca_proto(const md_conf_ctx_t *c, const char *value, const char **pproto);
/* MDCertificateAgreement: anything ("accepted" in any case becomes "accepted"). */
const char *md_conf_agreement(const md_conf_ctx_t *c, const char *value, const char **pv);
/* MDContactEmail: "mailto:" + the address (a warning when it is none). */
const char *md_conf_contact(const md_conf_ctx_t *c, const char *value, const char **pv);
/* MDExternalAccountBinding KID HMAC | FILE | none: *pkid and *phmac NULL for none. */
const char *md_conf_eab(const md_conf_ctx_t *c, const char *arg1, const char *arg2, const char **pkid,
                        const char **phmac);
/* MDCACertificateFile PATH | none (MD_CONF_NONE). */
const char *md_conf_ca_file(const md_conf_ctx_t *c, const char *value, const char **ppath);
/* MDCAChallenges: known types in our spelling; others kept lowercased, with a warning. */
const char *md_conf_challenges(const md_conf_ctx_t *c, int argc, const char *const argv[],
                               apr_array_header_t **ptypes);
/* MDChallengeResponseDelay TYPE=DURATION... */
const char *md_conf_response_delay(const md_conf_ctx_t *c, int argc, const char *const argv[],
                                   md_challenge_delays_t **pdelays);
/* MDChallengeDns01Version 1|2. */
const char *md_conf_dns01_version(const md_conf_ctx_t *c, const char *value, int *pv);
/* MDRetryFailover: a whole number from 1. */
const char *md_conf_retry_failover(const md_conf_ctx_t *c, const char *value, int *pv);
/* MDPrivateKeys: md_pkey_spec_t* per key type. */
const char *md_conf_pkeys(const md_conf_ctx_t *c, int argc, const char *const argv[], apr_array_header_t **ppks);
/* MDHttpProxy: an http: or https: URL. */
const char *md_conf_proxy(const md_conf_ctx_t *c, const char *value, const char **purl);
/* An octal file mode 0..0777 (MDInstallMode). */
const char *md_conf_mode(const md_conf_ctx_t *c, const char *value, int *pv);

#endif
