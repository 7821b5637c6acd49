/* External programs: run with an argument vector (fork/exec, never a shell), extra environment, a time
 * limit, captured output; and the exit-code contract of the event interface. */
#ifndef MD_EXEC_H
#define MD_EXEC_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

struct md_result_t;

/* Exit codes of event programs: 0 ok; 75 (EX_TEMPFAIL) retry later, nothing was done; 76 started but
 * not yet visible, ask again later with "poll-<event>"; anything else failed (needs a human). */
#define MD_EXIT_OK          0
#define MD_EXIT_RETRY       75
#define MD_EXIT_NEEDS_POLL  76

typedef enum {
    MD_EXEC_OK, MD_EXEC_FAILED, MD_EXEC_RETRY, MD_EXEC_NEEDS_POLL,
} md_exec_outcome_t;

md_exec_outcome_t md_exec_outcome(int exit_code);
const char *md_exec_outcome_str(md_exec_outcome_t outcome);   /* "ok", "failed", "retry", "needs-poll" */

/* Run argv (argv[0] is the program path, the array holds const char*) with the environment of this
 * process plus env (an apr_table_t of NAME -> value, may be NULL), stdin from /dev/null, stdout and stderr
 * captured (up to 64 KiB, the rest dropped). Killed (SIGTERM, then SIGKILL after 2s) when it runs longer
 * than timeout. *pexit: the exit code, or 128+signal when it died of a signal. A program that cannot be
 * started, or that timed out, is an error (APR_ENOENT, APR_TIMEUP...) with the program named in result.
 * A non-zero exit is NOT an error of md_exec_run: callers judge it with md_exec_outcome().
 * argv[0] without a '/' is looked up in $PATH (before the fork); timeout <= 0 means no limit. The program
 * runs in a process group of its own: on timeout the whole group is killed. */
/* The executable file a program name means: itself when it has a '/' (NULL when it is not an executable file),
 * else the first executable of that name in $PATH (NULL when there is none). */
const char *md_exec_find(const char *program, apr_pool_t *p);

apr_status_t md_exec_run(int *pexit, const char **poutput, const apr_array_header_t *argv,
                         apr_table_t *env, apr_interval_time_t timeout, struct md_result_t *result,
                         apr_pool_t *p);

#endif
