/* The registry's renewal runner, used by both front-ends: a pool of worker threads drives a set of MDs (one ACME
 * client per CA shared by all), builds each MD's challenge responders (the front-end's own plus the programs of
 * the event interface), installs activated certificates for other servers, and raises the events after each
 * drive (errored, renewed, installed, expiring) with their repeats and rate limits. */
#ifndef MD_REG_RENEW_H
#define MD_REG_RENEW_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_drive.h"
#include "md_event.h"
#include "md_reg.h"
#include "md_responder.h"

struct md_result_t;

#define MD_REG_WORKERS_DEF 16
/* Per-MD event state (repeats, rate limits): STORE/events/NAME.json. */
#define MD_REG_EVENTS_DIR "events"

/* One MD to drive, and afterwards what came of it. */
typedef struct md_reg_item_t {
    const char *name;                /* the MD in domains/NAME */
    md_drive_flags_t flags;
    const apr_array_header_t *cert_files;  /* static certificate files (MDCertificateFile) the MD serves, NULL or empty:
                                      * none. Their certificates decide: only their expiring event, or, under
                                      * MDRenewMode always when they are due, an ACME renewal into the store (when
                                      * the store's set is due too) */
    void *baton;                     /* the front-end's */
    int request;                     /* asked through STORE/requests/NAME.json (md_reg_request.h): picked up once
                                      * the MD's lease is taken, answered after the drive */
    int again;                       /* set by the runner before its done callback: the MD waits in the run and is
                                      * driven again at next (rn->wait); 0: the run is done with it */
    /* the result (the strings live as long as the pool given to md_reg_renew_many) */
    md_drive_outcome_t outcome;
    apr_status_t rv;                 /* APR_SUCCESS unless the drive (or the install) failed */
    apr_time_t next;                 /* when to look again (due, retry, or the end of a wait); 0: not known */
    const char *detail;              /* what went wrong, NULL on success */
    const char *problem;             /* the CA's problem type, NULL when none */
    const char *activity;            /* what was being done when it went wrong */
    /* the registry's verdict */
    int failed;                      /* failed now (or blocked), or still backing off after a failure (detail: the
                                      * last failure's) */
    int renewed;                     /* a new set became active in this run (and was installed, when it is
                                      * installed for other servers), or one whose install was owed was installed */
    /* the batch's reload program (md_reg_batch) */
    int reloaded;                    /* it ran for this MD (MD_RENEWED named it) and exited 0 */
    const char *reload_detail;       /* it failed: why (the item is failed too); NULL otherwise */
} md_reg_item_t;

/* What the front-end knows of how the CA reaches this server (httpd: its Listen sockets against MDPortMap). */
typedef struct md_reg_reach_t {
    int http;      /* public port 80 reaches a port the server listens on */
    int https;     /* public port 443 does */
} md_reg_reach_t;

/* The registry's choice of an MD's challenge types (md_reg_challenges). */
typedef struct md_reg_challenges_t {
    apr_array_header_t *types;   /* const char*: the types to offer, in order of preference; empty: none can be used
                                  * (dropped says why); NULL: no choice made (the MD's MDCAChallenges, else what the
                                  * responders answer) */
    int local_http01;            /* the front-end's own http-01 answers are used */
    int local_tlsalpn01;         /* its own tls-alpn-01 answers are used */
    const char *dropped;         /* why types were left out ("http-01: ...; dns-01: ..."), NULL when none was */
} md_reg_challenges_t;

/* The challenge types for md. reach NULL (nothing known: the CLI, whose options say how it answers): no choice, the
 * front-end's answers all used. With MDCAChallenges: the types named, the front-end's own answers used for them (for
 * http-01 not when the server is unreachable on port 80 and an event handler takes every name). Without: in mod_md's
 * order tls-alpn-01 (when https is reachable and some name of the MD has acme-tls/1), http-01 (when http is
 * reachable, or an event handler answers it), dns-01 (with a dns-01 program or an event handler). */
void md_reg_challenges(md_reg_challenges_t *ch, const md_t *md, const md_reg_reach_t *reach, apr_pool_t *p);

/* The front-end's own responders for md (in-server http-01/tls-alpn-01, the CLI's servers or webroot): added to rs. */
typedef apr_status_t md_reg_local_cb(void *baton, md_responders_t *rs, const md_t *md, apr_pool_t *p);
/* After an item was driven, its events raised and its result kept (in its worker thread, as soon as its drive ends;
 * p lives during the call). */
typedef void md_reg_done_cb(void *baton, md_reg_item_t *item, apr_pool_t *p);

typedef struct md_reg_renew_t {
    md_drive_env_t drive;            /* store, HTTP options, clock, log, retry base, polling, hint; its responders,
                                      * shared clients and event callback are set per MD by the runner */
    const md_events_t *events;       /* the dispatcher; NULL: no events at all */
    md_event_programs_t programs;    /* server-wide programs (MDMessageCmd, MDNotifyCmd); each MD's handler and
                                      * dns-01 program are taken from the MD */
    int workers;                     /* MDs driven at once, 0: MD_REG_WORKERS_DEF */
    int wait;                        /* 1: an MD that waits (response delay, poll) is driven again at its time in
                                      * this run (the CLI, httpd's renewal runs); 0: it is handed back WAITING
                                      * with its time */
    apr_interval_time_t wait_max;    /* with wait: only waits up to this long stay in the run, a longer one is
                                      * handed back WAITING (httpd: a request for it is not held up); 0: any */
    md_reg_local_cb *local;
    void *local_baton;
    const md_reg_reach_t *reach;     /* how the CA reaches the server (md_reg_challenges); NULL: not known */
    md_reg_done_cb *done;
    void *done_baton;
    apr_interval_time_t lease;       /* each MD is driven under its lease (md_reg_lease.h), renewed every third of
                                      * this while the drive runs; 0: MD_REG_LEASE_DEF; < 0: no leases */
    const int *stop;                 /* non-NULL: once it is non-zero (set by another thread, read atomically) no
                                      * further MD is started (the drives under way end as usual); the items not
                                      * started are left as they were given */
} md_reg_renew_t;

/* How a run went: the worker threads it started, and the most MDs driven at the same time. */
typedef struct md_reg_run_stats_t {
    int workers;
    int max_active;
} md_reg_run_stats_t;

/* Drive the items (md_reg_item_t*) with up to rn->workers threads; each item's outcome and next are filled in.
 * Each MD is driven under its lease: one that another process holds is not driven (MD_DRIVE_LEASED, next when the
 * lease ends at the latest, detail who holds it); a lease is renewed while its drive runs and released after it.
 * After a drive that does not wait with its answers in place, challenges/DOMAIN of the MD's names are removed.
 * Never fails as a whole: each item says what became of it. pstats may be NULL. */
void md_reg_renew_many(md_reg_run_stats_t *pstats, md_reg_t *reg, const md_reg_renew_t *rn,
                       apr_array_header_t *items, apr_pool_t *p);

/* The programs that take an MD's events: the server-wide ones of rn, the MD's handler and dns-01 program. */
void md_reg_programs(md_event_programs_t *progs, const md_reg_renew_t *rn, const md_t *md, apr_pool_t *p);

/* The responders for md: the front-end's (rn->local) first, those of the types md_reg_challenges lets it answer;
 * then dns-01 through its program or the handler, and http-01 through the handler for names no local responder
 * serves. pch (may be NULL) gets the choice of types. */
apr_status_t md_reg_responders(md_responders_t **prs, md_reg_challenges_t *pch, const md_reg_renew_t *rn,
                               const md_event_programs_t *progs, const md_t *md, apr_pool_t *p);

/* The events after a drive of md: errored when failure is not NULL (at most hourly; the one-line reason in the
 * program's environment as MD_DETAIL), renewed and the notify program (for each new set, repeated at later calls
 * until each exits 0), installed (after an activation), expiring (at most daily, while a certificate is in the warn
 * window and no renewed set was made; with cert_files given, a certificate of those static files). Their state is
 * in STORE/events/NAME.json. After a drive that staged or activated a set, its job says what mod_md's says:
 * notified-renewed once renewed and the notify program are done; a failed MDMessageCmd renewed or MDNotifyCmd as a
 * renewal error (errors 1, last with mod_md's problem type). Returns when to drive the MD again for such a failure
 * (MDRetryDelay, jittered), 0 when nothing failed. */
apr_time_t md_reg_events_after(md_reg_t *reg, const md_reg_renew_t *rn, const md_t *md,
                               const apr_array_header_t *cert_files, md_drive_outcome_t outcome,
                               const char *failure, apr_pool_t *p);

/* True when no program takes any of the events md_reg_events_after raises (or rn has no dispatcher): then a finished
 * job is told as soon as it is saved (md_drive_env_t.told_at_finish). progs: md_reg_programs of the MD. */
int md_reg_events_none(const md_reg_renew_t *rn, const md_event_programs_t *progs);

/* Whether installing the MD's active set for another server failed and is owed (kept in STORE/events/NAME.json);
 * set or clear it. */
int md_reg_install_owed(md_reg_t *reg, const md_t *md, apr_pool_t *p);
void md_reg_install_owe(md_reg_t *reg, const md_t *md, int owed, apr_pool_t *p);

/* Whether the MD's reload program still owes a call for a set installed in an earlier batch; set or clear it. */
int md_reg_reload_owed(md_reg_t *reg, const md_t *md, apr_pool_t *p);
void md_reg_reload_owe(md_reg_t *reg, const md_t *md, int owed, apr_pool_t *p);

/* A batch (the command's periodic run): md_reg_renew_many over the items, then each reload program (md->install_reload)
 * once, for all MDs that have it and were renewed in this run or whose reload was owed from an earlier one, with
 * their names in MD_RENEWED (space-separated) and MD_EVENT=reload, through the dispatcher (2 minutes at most).
 * A reload that fails is owed (run again by the next batch) and fails those items (reload_detail). */
void md_reg_batch(md_reg_run_stats_t *pstats, md_reg_t *reg, const md_reg_renew_t *rn, apr_array_header_t *items,
                  apr_pool_t *p);

/* Write the MD's active chain and key (of its first key type) to its install paths, atomically, the key first, with
 * its owner (md->install_owner) and mode, then run its install program (PROGRAM MDNAME, with MD_CHAIN_FILE and
 * MD_KEY_FILE). Nothing when it has none. */
apr_status_t md_reg_install(md_reg_t *reg, const md_events_t *events, const md_t *md, struct md_result_t *result,
                            apr_pool_t *p);

#endif
