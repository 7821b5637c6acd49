/* The event dispatcher: the only code that runs external programs. An event has a name, the MD and its intrinsic
 * arguments; the dispatcher picks the program (a specific one, else the event handler), builds its argument vector
 * and environment, runs it (md_exec: no shell, time limit, process group, captured output), logs the call and
 * reads its exit code by one contract: 0 ok, 75 retry, 76 needs-poll, anything else failed. */
#ifndef MD_EVENT_H
#define MD_EVENT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

struct md_result_t;

/* Who may get events of an MD: the specific programs (mod_md's directives, with mod_md's calling conventions)
 * and the event handler that gets every event none of them takes. Each is an argument vector (the program and
 * its fixed arguments, const char*), NULL or empty when not configured. */
typedef enum {
    MD_EVENT_PROG_HANDLER,     /* MDEventHandler / --event-handler: PROG [args] EVENT MDNAME [intrinsics...] */
    MD_EVENT_PROG_MESSAGE,     /* MDMessageCmd: PROG [args] EVENT MDNAME, for the message events */
    MD_EVENT_PROG_NOTIFY,      /* MDNotifyCmd: PROG [args] MDNAME, for "renewed" */
    MD_EVENT_PROG_DNS01,       /* MDChallengeDns01 / --dns-cmd: PROG [args] setup|teardown DOMAIN [TXT] */
    MD_EVENT_PROG_COUNT
} md_event_prog_t;

typedef struct md_event_programs_t {
    const apr_array_header_t *argv[MD_EVENT_PROG_COUNT];
    int dns01_version;         /* 1: "teardown DOMAIN" (default); 2: "teardown DOMAIN TXT" */
} md_event_programs_t;

/* Event names with intrinsic arguments (the others have none):
 *   setup, teardown, poll-setup                 DOMAIN TXT-VALUE         (dns-01; DOMAIN without "*.")
 *   setup-http-01, poll-setup-http-01           DOMAIN TOKEN KEYAUTH
 *   teardown-http-01                            DOMAIN TOKEN
 * Message events: renewing, renewed, installed, expiring, errored, ocsp-renewed, ocsp-errored, revoked,
 * challenge-setup:TYPE:DOMAIN. MD_EVENT_NOTIFY is the MDNotifyCmd half of "renewed" (tracked on its own). */
#define MD_EVENT_NOTIFY "notify"

typedef enum {
    MD_EVENT_NONE,        /* no program takes this event */
    MD_EVENT_OK,          /* exit 0: done, and visible */
    MD_EVENT_RETRY,       /* 75, or a specific program's other non-zero exit: nothing done, try again later */
    MD_EVENT_NEEDS_POLL,  /* 76: started, not yet visible: call poll-EVENT later */
    MD_EVENT_FAILED,      /* anything else (or not startable, or over time): a human must act */
} md_event_outcome_t;

const char *md_event_outcome_str(md_event_outcome_t outcome);  /* "none", "ok", "retry", "needs-poll", "failed" */

/* Each call is logged: level 0 error (could not run, timed out), 1 warning (non-zero exit), 2 info (exit 0). */
typedef void md_event_log_cb(void *baton, int level, const char *message);

/* The dispatcher's setting, shared by all calls. */
typedef struct md_events_t {
    const char *store_dir;                       /* MD_STORE */
    const char *labels[MD_EVENT_PROG_COUNT];     /* how the front-end names the programs in messages
                                                  * ("MDEventHandler", "--event-handler"...); NULL: generic */
    apr_interval_time_t challenge_timeout;       /* setup/teardown/poll events; 0: 5 minutes */
    apr_interval_time_t message_timeout;         /* the others; 0: 60 seconds */
    md_event_log_cb *log;                        /* NULL: not logged */
    void *log_baton;
} md_events_t;

/* One event. */
typedef struct md_event_t {
    const char *name;                    /* "setup", "renewed", "challenge-setup:http-01:example.org", ... */
    const char *md_name;
    const apr_array_header_t *args;      /* intrinsic arguments (const char*), NULL for none */
    apr_table_t *env;                    /* extra environment, NULL for none */
} md_event_t;

/* The program that takes the event (MD_EVENT_PROG_COUNT when none). */
md_event_prog_t md_event_route(const md_event_programs_t *progs, const char *event);

/* Raise the event: run its program and judge the exit. *poutcome MD_EVENT_NONE when no program takes it
 * (APR_SUCCESS). Otherwise APR_SUCCESS for MD_EVENT_OK; for anything else APR_EGENERAL (APR_EAGAIN for retry and
 * needs-poll) and result says which program, its exit and the first lines of its output; for MDMessageCmd and
 * MDNotifyCmd in mod_md's words instead ("MDMessageCmd PROGRAM failed with exit code N.", problem type
 * MD_PROBLEM_MESSAGE_CMD or MD_PROBLEM_NOTIFY_CMD, status APR_EGENERAL; the output is in the log line). */
apr_status_t md_event_raise(md_event_outcome_t *poutcome, const md_events_t *ev, const md_event_programs_t *progs,
                            const md_event_t *event, struct md_result_t *result, apr_pool_t *p);

/* Run one program directly (e.g. the CLI's install program) by the same rules: argv (the program and all its
 * arguments), MD_* environment for md_name/event, env extra; label names it in messages. */
apr_status_t md_event_run(md_event_outcome_t *poutcome, const md_events_t *ev, const char *label,
                          const apr_array_header_t *argv, const char *md_name, const char *event,
                          apr_table_t *env, apr_interval_time_t timeout, struct md_result_t *result, apr_pool_t *p);

/* Split a program line ("/usr/bin/hook --zone example.org") into words as a shell would split plain words and
 * quotes (no expansion). NULL for an empty line. */
apr_array_header_t *md_event_argv(const char *line, apr_pool_t *p);

/* A program's output made safe for one line of a log or a status page: at most max characters, line breaks as
 * " | ", other control characters (escape sequences too) as '?'. */
const char *md_event_output_line(const char *output, apr_size_t max, apr_pool_t *p);

#endif
