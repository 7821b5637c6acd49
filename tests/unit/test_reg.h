/* The registry tests' fixture: a store, the fake CA on a simulated clock, a local responder, an event program. */
#ifndef MD_TEST_REG_H
#define MD_TEST_REG_H

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_thread_mutex.h>

#include "md.h"
#include "md_clock.h"
#include "md_reg.h"
#include "md_reg_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "fake_ca.h"

#define TR_HOUR apr_time_from_sec(3600)
#define TR_DAY apr_time_from_sec(86400)
#define TR_START "2031-03-01T00:00:00Z"     /* the simulated clock starts here */

/*
 * The event program (tr_t.script, /bin/sh) is called with a tag as its first argument, then what the dispatcher
 * gives: "H" as the event handler (EVENT MDNAME ARGS...), "D" as the dns-01 program (setup|teardown DOMAIN [TXT]),
 * "M" as the message program (EVENT MDNAME), "N" as the notify program (MDNAME). Each call appends "TAG ARGS..." as
 * a line to DIR/calls (tr_calls). Its exit code is read from DIR/exit.EVENT (EVENT "notify" for N), else DIR/exit,
 * else 0; such a file may hold several lines: each call takes the first, the last one stays (tr_exit). When it
 * exits 0, a setup or poll-setup publishes the answer where the fake CA's validation looks (DIR/dns-01/DOMAIN,
 * one TXT per line; DIR/http-01/DOMAIN, the key authorization), and a teardown removes it again.
 * The fake CA's validation also appends "CA validate TYPE IDENTIFIER" to DIR/calls, so the order shows.
 */
typedef struct tr_t {
    apr_pool_t *p;
    const char *dir;                /* the test's directory: store/, the script and its files */
    md_store_t *store;
    md_clock_sim_t *sim;
    const md_clock_t *clock;
    md_reg_t *reg;
    fake_ca_t *ca;
    md_events_t events;
    md_reg_renew_t rn;              /* workers 1, wait 0, the simulated clock, the fake CA, the local responder */
    const char *script;
    apr_thread_mutex_t *lock;       /* guards what follows: responders, the CA's validation, done run in threads */
    int local;                      /* 1: rn.local adds an in-process http-01 responder (default) */
    int local_files;                /* 1: it also writes its answers to DIR/TYPE/DOMAIN, where the CA's validation
                                     * finds them when a forked runner (tr_run_forked) answers */
    const char *local_serves;       /* it serves only this name (NULL: all) */
    int local_tls;                  /* 1: and a tls-alpn-01 one, serving the MD's acme-tls/1 names */
    int rendezvous;                 /* 1: a local setup waits (at most 2 s) until another one runs at the same time */
    int in_setup, max_in_setup;     /* local setups running now, and at most */
    apr_hash_t *answers;            /* the local responders': "TYPE DOMAIN" -> key authorization */
    apr_hash_t *setup_at;           /* "TYPE DOMAIN" -> apr_time_t* (simulated) of the first local setup */
    apr_hash_t *validated_at;       /* "TYPE IDENTIFIER" -> apr_time_t* of the first validation */
    apr_array_header_t *done;       /* "NAME OUTCOME" from rn.done, in order */
    apr_time_t start;
    const char *killed_url;         /* the request at which tr_run_forked killed the runner, NULL when it did not */
} tr_t;

/* The fixture at TR_START; 6-day certificates unless lifetime_days says otherwise (0: the CA's default 90). */
void tr_init(tr_t *f, int lifetime_days);
void tr_done(tr_t *f);

/* A new MD for names ("a,b": the first is its name) with a P-256 key at the fake CA, not yet saved. */
md_t *tr_md(tr_t *f, const char *names);
void tr_save(tr_t *f, const md_t *md);
md_t *tr_load(tr_t *f, const char *name);
/* tr_md + tr_save. */
md_t *tr_add(tr_t *f, const char *names);

/* The program's argv with its tag ("H", "D", "M", "N"). */
apr_array_header_t *tr_prog(tr_t *f, const char *tag);
/* What DIR/exit.EVENT holds (event NULL: DIR/exit): one code per line, e.g. "76\n76\n0". */
void tr_exit(tr_t *f, const char *event, const char *codes);
/* The lines the program (and the CA's validation) logged since the last call, then forgotten. */
const char *tr_calls(tr_t *f);

/* Items for names ("a b c"), flags zero. */
apr_array_header_t *tr_items(tr_t *f, const char *names);
md_reg_item_t *tr_item(apr_array_header_t *items, int i);
/* md_reg_renew_many over the items; the stats in *pstats when given. */
void tr_run(tr_t *f, apr_array_header_t *items, md_reg_run_stats_t *pstats);
/* Drive one MD (force 0/1) and return its item. */
md_reg_item_t *tr_run1(tr_t *f, const char *name, int force);
/* Assert the item's outcome, saying its detail otherwise. */
void tr_assert_outcome(const md_reg_item_t *item, md_drive_outcome_t want);

/* A runner killed with SIGKILL (kill -9) at its CA request number n (tr_run_forked): before the CA sees the request,
 * after the CA answered it but before the runner reads the answer, or a moment after the runner got the answer
 * (the delay given: somewhere in what the runner does next, e.g. storing or activating). */
typedef enum { TR_KILL_BEFORE, TR_KILL_AFTER, TR_KILL_LATER } tr_kill_t;
/* md_reg_renew_many over the items in a forked child whose requests go to the fake CA in this process over a socket
 * pair, so the CA outlives the runner; the child is killed at its request number kill_at as how says (0: never),
 * later the delay of TR_KILL_LATER. When the child finishes, its items' outcome, next and detail are copied into
 * the items given; when it was killed, only the store tells what it did (set f->local_files, so the CA finds the
 * child's answers). Returns 1 when the child was killed (also when it killed
 * itself with SIGKILL, e.g. in an md_file_on_written hook), 0 when it finished. */
int tr_run_forked(tr_t *f, apr_array_header_t *items, int kill_at, tr_kill_t how, apr_interval_time_t later);
/* After a killed runner, as a restart: the store opened anew, which finishes interrupted activations. */
void tr_restart(tr_t *f);

/* md_reg_sync of md alone (asserted to succeed); returns whether its staged set was activated. */
int tr_sync(tr_t *f, const md_t *md, apr_interval_time_t activation_delay, int restart);
/* The staging job of name (a new one when none). */
md_job_t *tr_job(tr_t *f, const char *name);
/* The active leaf of name (key 0), NULL when none. */
md_cert_t *tr_leaf(tr_t *f, const char *name);
/* The simulated time. */
apr_time_t tr_now(tr_t *f);
/* The time recorded in f->setup_at or f->validated_at for key (asserted to be there). */
apr_time_t tr_time_of(tr_t *f, apr_hash_t *h, const char *key);
/* Assert that haystack contains needle. */
void tr_assert_has(const char *haystack, const char *needle);

#endif
