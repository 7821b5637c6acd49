/* The registry: the one answer to what an MD's state is (certificates, coverage, due, warn, ARI, staged job), and
 * its md-status JSON model. Both front-ends read it; neither decides anything about an MD itself. */
#ifndef MD_REG_H
#define MD_REG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_cert.h"
#include "md_clock.h"
#include "md_job.h"
#include "md_json.h"
#include "md_store.h"

struct md_result_t;

/* The registry of one store. clock NULL: the real clock. retry_base: the first retry delay after a failure
 * (MDRetryDelay; 0: 5 seconds), for the attempts an MD has left (md_reg_state_t.attempts_left). */
typedef struct md_reg_t {
    md_store_t *store;
    const md_clock_t *clock;
    apr_interval_time_t retry_base;
} md_reg_t;

md_reg_t *md_reg_make(md_store_t *store, const md_clock_t *clock, apr_pool_t *p);
apr_time_t md_reg_now(const md_reg_t *reg);

/* Whether a front-end's watchdog watches an MD (hands it to md_reg_renew_many): "always" also when nothing uses it
 * (no https host, in_use 0), "auto" when something does, manual never; an MD with static certificate files
 * (MDCertificateFile) when something uses it or under "always": the runner sends its expiring event and renews it by
 * ACME only under "always" (md_reg_item_t.cert_files). */
int md_reg_is_watched(const md_t *md, int is_static, int in_use);
/* An MD that serves static certificate files: MDRenewMode auto becomes manual, as mod_md records it in md.json and
 * md-status (renew-mode 0); always stays. */
void md_reg_static_md(md_t *md);

/* One certificate of an MD (one per key type; for static certificates one per MDCertificateFile). */
typedef struct md_reg_cert_t {
    const char *key;          /* the label of its key type ("rsa", "secp256r1", ...) */
    const char *file;         /* the store's aspect ("pubcert.pem") or the static file's path */
    md_cert_t *cert;          /* the end-entity certificate, NULL when missing or unreadable */
    apr_array_header_t *chain;/* md_cert_t*: the whole chain, NULL when missing */
    int usable;               /* present with its key, and valid now: mod_ssl may be given it */
    int covers;               /* covers every name of the MD */
    int key_ok;               /* present, with its private key (static files: always); with check_keys also matching */
    const char *problem;      /* NULL when usable and covering, else why not, e.g. "certificate(rsa) is missing" */
    const char *revoked;      /* "ocsp" or "crl" when the store records it revoked (ocsp/NAME/), NULL otherwise: a
                               * revoked certificate is still served, and its MD is due now */
    const char *file_problem; /* a file of the set that is there but cannot be used, "PATH: what is wrong" (a
                               * certificate that cannot be read, a key that is missing beside its certificate or,
                               * with check_keys, cannot be read or is not the certificate's); NULL when fine */
} md_reg_cert_t;

/* What the registry knows about an MD at one moment. */
typedef struct md_reg_state_t {
    const md_t *md;
    apr_time_t now;
    int is_static;               /* certificates from files (MDCertificateFile), not renewed */
    md_state_t state;            /* MD_S_INCOMPLETE, MD_S_COMPLETE, MD_S_EXPIRED */
    const char *state_descr;     /* "complete", or the first problem ("certificate(rsa) is missing") */
    apr_array_header_t *certs;   /* md_reg_cert_t*, in key type order */
    int complete;                /* every certificate usable and covering all names */
    int servable;                /* at least one certificate usable */
    apr_array_header_t *validities;  /* md_cert_validity_t*, NULL for a missing one (md_renew.h) */
    const char *ari_cert_id;     /* ARI id of the first certificate, or NULL */
    apr_time_t ari_start, ari_end, ari_pick;   /* the cached ARI answer for that certificate; 0: none */
    apr_time_t renew_at;         /* when the MD is due (0: now: a certificate is missing, not covering, revoked, or
                                  * without its private key or, with check_keys, not matching it) */
    int revoked;                 /* how many of its certificates are recorded revoked */
    int due;                     /* renew_at <= now */
    int warn;                    /* a certificate is inside the warn window, or expired */
    apr_time_t deadline;         /* the last moment a renewal can still succeed before a certificate expires (the
                                  * earliest notAfter); 0: a certificate is missing, nothing can expire */
    int attempts_left;           /* automatic attempts left before the deadline at the current back-off (the job's
                                  * errors, next-run and problem, retry_base): 0 when blocked or past the deadline;
                                  * -1 when not counted (no deadline, static files, a renewed set is staged) */
    int attempts_low;            /* 0 <= attempts_left <= MD_RENEW_ATTEMPTS_LOW: a failure is in sight */
    md_job_t *job;               /* staging/NAME/job.json, NULL when there is none */
    const char *job_problem;     /* why job.json could not be read, NULL when fine */
    int staged;                  /* the job finished: a renewed set waits in staging/NAME */
    const char *file_problem;    /* the first file of the MD's in the store that is there but cannot be used (a
                                  * certificate's file_problem, job.json that cannot be read): "PATH: what is wrong";
                                  * NULL when every file there is fine. The front-ends report it as an error. */
} md_reg_state_t;

typedef struct md_reg_state_opts_t {
    const apr_array_header_t *cert_files;   /* static certificate files (const char*); NULL/empty: the store */
    apr_interval_time_t activation_delay;   /* < 0: a certificate valid within that time counts as usable */
    int check_keys;                         /* load the private keys and match them with their certificates */
} md_reg_state_opts_t;

/* The state of md (its domains and key types as configured) from domains/NAME, staging/NAME/job.json and the ARI
 * cache. opts may be NULL. Never fails: what cannot be read is a problem in the state. */
md_reg_state_t *md_reg_state(md_reg_t *reg, const md_t *md, const md_reg_state_opts_t *opts, apr_pool_t *p);
/* md's state as its md.json records it, as mod_md records it: md->state from md_reg_state (1 incomplete while a
 * certificate is missing or does not cover all names, 2 complete, 3 expired) and md->state_descr why, NULL when
 * complete; of the static certificate files when cert_files is given (MDCertificateFile), else of the store's. */
void md_reg_state_record(md_reg_t *reg, md_t *md, const apr_array_header_t *cert_files, apr_pool_t *p);
/* The store's MD of that name and its state; APR_ENOENT/APR_EINVAL (result says why) when md.json is missing or
 * damaged. */
apr_status_t md_reg_load_state(md_reg_state_t **pst, md_reg_t *reg, const char *name,
                               const md_reg_state_opts_t *opts, struct md_result_t *result, apr_pool_t *p);

/* Sync: the configured MDs into the store. Messages: level 0 error, 1 warning, 2 notice, 3 info. */
typedef void md_reg_sync_log_cb(void *baton, int level, const char *md_name, const char *message);

typedef struct md_reg_sync_opts_t {
    apr_interval_time_t activation_delay;   /* MDActivationDelay: a staged set waits this long after notBefore */
    int restart;                            /* a server (re)start: renewals blocked by a hard failure go again */
    md_reg_sync_log_cb *log;
    void *log_baton;
    apr_interval_time_t lease;              /* a staged set is activated or removed under the MD's lease
                                             * (md_reg_lease.h): 0 MD_REG_LEASE_DEF, < 0 none */
    const struct md_reg_state_opts_t *state_opts;   /* non-NULL: each item without cert_files gets its state */
} md_reg_sync_opts_t;

typedef struct md_reg_sync_item_t {
    const md_t *md;                         /* as configured */
    const apr_array_header_t *cert_files;   /* its static certificate files (MDCertificateFile), NULL: none */
    void *baton;                            /* the front-end's */
    int activated;                          /* out: its staged set became the active one */
    const char *renamed_from;               /* out: the stored MD it took over (renamed), NULL when none */
    md_reg_state_t *state;                  /* out (opts->state_opts): md_reg_state after its md.json was written,
                                             * in the sync's pool; its certificates are read once for both. NULL
                                             * when from_memo */
    int from_memo;                          /* out (opts->state_opts): 1 when the MD is complete and nothing its
                                             * state comes from changed since the last sync (the memo): every
                                             * certificate is usable and covers all names; neither md.json nor the
                                             * certificates and keys were read */
} md_reg_sync_item_t;

/* For the items (md_reg_sync_item_t*, every configured MD):
 * 1. An MD without domains/NAME takes over the stored MD that no item has as its name and that holds all of its
 *    names, else the one with the most of them (an MD that was renamed): staging/OLD, then domains/OLD are renamed
 *    to NAME, so its certificates are kept and served; when the names differ it is incomplete and due as any MD
 *    whose names changed. An interrupted take-over is done again by the next sync.
 * 2. A finished renewal's set in staging/NAME is activated (when the delay allows), under the MD's lease (a set whose
 *    lease another process holds is left alone, logged at level 3). A staged set whose job.json or
 *    md.json cannot be read, or whose job finished without a certificate and key for every key type, or whose
 *    certificates fail activation's check, is logged (level 0) and removed: the MD is renewed again. Either way
 *    challenges/DOMAIN of the MD's names are removed.
 * 3. domains/NAME/md.json is written from the configuration when it differs, keeping the account and the CA in
 *    use, with the state of its certificates (md_reg_state_record: the static files' for an MD that has them); the
 *    new and changed md.json files are flushed once at the end. An MD that cannot be saved ends the
 *    sync (result says which). With opts->state_opts, an MD that was complete at the last such sync, none of whose
 *    inputs changed since (its configuration, the state options, md.json, its certificate and key files and
 *    staging/NAME/job.json: inode, size, mtime) and whose certificates are all still valid, is taken from the
 *    store's memo (tmp/md-state.memo) without reading any of them (from_memo).
 * 4. Entries of challenges/ named after no item's MD are removed (as mod_md: a renewal that goes on sets its
 *    in-process answers up again). */
apr_status_t md_reg_sync(md_reg_t *reg, apr_array_header_t *items, const md_reg_sync_opts_t *opts,
                         struct md_result_t *result, apr_pool_t *p);

/* What a front-end adds to the status model: its own view of the MD. */
typedef struct md_reg_status_opts_t {
    const char *require_https;   /* "off", "temporary", "permanent"; NULL: left out */
    int stapling;                /* 0/1; < 0: left out */
    int watched;                 /* 1 when this front-end renews the MD; < 0: left out */
    const md_timeslice_t *stapling_window;   /* MDStaplingRenewWindow for the responses' renew-at; NULL: 33% */
} md_reg_status_opts_t;

/* The md-status model of an MD (mod_md's fields): name, domains, contacts, ca {urls, url, account,
 * agreement...}, state, state-descr, renew-mode, renew-window, warn-window, must-staple, cert {KEY: {...},
 * valid {from, until}}, renew-at, renew, warn, renew-deadline, renew-attempts-left, renewal {the staged job, with its
 * certificates}; times as HTTP dates. A certificate with a stored OCSP response has "ocsp" (md_reg_ocsp_status), one
 * with a CRL check "revocation" (md_reg_crl_status). Secrets (the EAB HMAC) are never in it. */
md_json_t *md_reg_status(md_reg_t *reg, const md_reg_state_t *st, const md_reg_status_opts_t *opts,
                         apr_pool_t *p);
/* The model of an MD whose md.json cannot be read: name, domains, state 4 (error) and the reason. */
md_json_t *md_reg_status_error(const md_t *md, const char *detail, apr_pool_t *p);
/* One certificate in md-status form: issuer-name, valid {from, until}, serial, sha256-fingerprint, ari-cert-id. */
md_json_t *md_reg_status_cert(const md_cert_t *cert, apr_pool_t *p);
/* The renewed set in staging/NAME (md_reg_cert_t*, one per key type) when it is complete: a certificate and a key
 * for every key type; NULL otherwise. */
apr_array_header_t *md_reg_staged_certs(md_reg_t *reg, const md_t *md, apr_pool_t *p);
/* The MD a request names (md-status/NAME), found as mod_md finds it: the one of that name, else one that has the
 * name among its domains (ignoring case), else one whose "*." domain covers it. mds: const md_t*. -1 when none. */
int md_reg_find(const apr_array_header_t *mds, const char *name);
/* {"version": MD_VERSION, "managed-domains": []}: the frame around a list of models. */
md_json_t *md_reg_status_frame(apr_pool_t *p);

#endif
