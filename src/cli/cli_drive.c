/* The drive verb (alias renew): obtain or renew due certificates with the standalone responders, activate
 * them, and install them for servers other than Apache. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>

#include "md.h"
#include "md_drive.h"
#include "md_exec.h"
#include "md_time.h"
#include "cli.h"

static void on_progress(void *baton, const char *md_name, const char *message)
{
    md_cli_t *cli = baton;

    if (cli->verbose) fprintf(stderr, "[%s] %s\n", md_name, message);
}

#define DRIVE_WORKERS_MAX 8

typedef struct {
    md_cli_t *cli;
    apr_array_header_t *names;
    apr_array_header_t *shared;        /* md_responder_t*: the command line's responders */
    char **entries;                    /* per name: its result as JSON text (malloc'ed) */
    int next, failed;
    apr_thread_mutex_t *lock;
    md_drive_shared_t *drive_shared;   /* one ACME client per CA, one account step at a time */
} drive_run_t;

/* The responders given on the command line, made once and shared by all MDs (they run servers). */
static apr_status_t shared_responders(apr_array_header_t **pshared, md_cli_t *cli, md_result_t *result)
{
    apr_array_header_t *shared = apr_array_make(cli->p, 3, sizeof(md_responder_t *));
    md_responder_t *r;
    int port;
    apr_status_t rv = APR_SUCCESS;

    if (cli->http_port) {
        rv = md_responder_http01_server(&r, &port, cli->listen_addr, cli->http_port, result, cli->p);
        if (rv == APR_SUCCESS) APR_ARRAY_PUSH(shared, md_responder_t *) = r;
    }
    if (rv == APR_SUCCESS && cli->webroot) {
        rv = md_responder_webroot(&r, cli->webroot, cli->p);
        if (rv == APR_SUCCESS) APR_ARRAY_PUSH(shared, md_responder_t *) = r;
    }
    if (rv == APR_SUCCESS && cli->tls_port) {
        rv = md_responder_tlsalpn01_server(&r, &port, cli->listen_addr, cli->tls_port, result, cli->p);
        if (rv == APR_SUCCESS) APR_ARRAY_PUSH(shared, md_responder_t *) = r;
    }
    *pshared = shared;
    return rv;
}

/* The shared responders plus the MD's own dns-01 program. */
static apr_status_t responders_make(md_responders_t **prs, drive_run_t *run, const md_t *md, apr_pool_t *p)
{
    md_responders_t *rs = md_responders_make(p);
    md_responder_t *r;
    apr_array_header_t *argv;
    apr_status_t rv;
    int i;

    for (i = 0; i < run->shared->nelts; ++i) md_responders_add(rs, APR_ARRAY_IDX(run->shared, i, md_responder_t *));
    if (md->dns01_cmd) {
        argv = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(argv, const char *) = md->dns01_cmd;
        rv = md_responder_dns01_cmd(&r, argv, md->dns01_version, md_store_base_dir(run->cli->store),
                                    apr_time_from_sec(300), p);
        if (rv != APR_SUCCESS) return rv;
        md_responders_add(rs, r);
    }
    *prs = rs;
    return APR_SUCCESS;
}

static md_json_t *entry_make(const char *name, md_drive_outcome_t outcome, apr_time_t next, apr_status_t rv,
                             const md_result_t *result, apr_pool_t *p)
{
    md_json_t *entry = md_json_create(p);

    md_json_sets(name, entry, "name", NULL);
    md_json_sets(rv == APR_SUCCESS ? md_drive_outcome_str(outcome) : "failed", entry, "outcome", NULL);
    if (next) md_json_sets(md_time_print_rfc3339(next, p), entry, "next", NULL);
    if (rv != APR_SUCCESS) {
        md_json_sets(md_result_text(result, p), entry, "detail", NULL);
        if (result->problem) md_json_sets(result->problem, entry, "problem", NULL);
        if (result->activity) md_json_sets(result->activity, entry, "activity", NULL);
    }
    return entry;
}

/* Drive one MD (in a worker thread, with its own pool); returns its result as JSON text. */
static char *drive_one(drive_run_t *run, const char *name, int *pfailed, apr_pool_t *p)
{
    md_cli_t *cli = run->cli;
    md_result_t *result = md_result_make(p);
    md_drive_flags_t flags = { cli->force, 1 };
    md_drive_outcome_t outcome = MD_DRIVE_FAILED;
    md_drive_env_t env;
    apr_time_t next = 0;
    md_t *md;
    apr_status_t rv;

    memset(&env, 0, sizeof(env));
    env.store = cli->store;
    env.log = on_progress;
    env.log_baton = cli;
    env.shared = run->drive_shared;
    env.http_opts.proxy_url = cli->proxy;
    env.hints = &cli_hints;
    rv = md_load(&md, cli->store, MD_SG_DOMAINS, name, result, p);
    if (rv == APR_SUCCESS) rv = responders_make(&env.responders, run, md, p);
    if (rv == APR_SUCCESS) rv = md_drive(&outcome, &next, &env, name, &flags, result, p);
    if (rv == APR_SUCCESS && outcome == MD_DRIVE_ACTIVATED) rv = cli_install(cli, name, result, p);
    if (rv != APR_SUCCESS) {
        md_result_hint_apply(result, &cli_hints);
        fprintf(stderr, "mdomain: %s: %s\n", name, md_result_text(result, p));
        cli_say(cli, "%s: failed: %s%s%s", name, md_result_text(result, p), next ? ", next attempt " : "",
                next ? md_time_print_rfc3339(next, p) : "");
    }
    else {
        cli_say(cli, "%s: %s%s%s", name, md_drive_outcome_str(outcome), next ? ", next " : "",
                next ? md_time_print_rfc3339(next, p) : "");
    }
    *pfailed = (rv != APR_SUCCESS);
    return strdup(md_json_writep(entry_make(name, outcome, next, rv, result, p), MD_JSON_FMT_COMPACT, p));
}

static void *APR_THREAD_FUNC drive_worker(apr_thread_t *thread, void *baton)
{
    drive_run_t *run = baton;
    apr_pool_t *p;
    int i, failed;

    (void)thread;
    for (;;) {
        apr_thread_mutex_lock(run->lock);
        i = run->next++;
        apr_thread_mutex_unlock(run->lock);
        if (i >= run->names->nelts) break;
        apr_pool_create(&p, NULL);
        run->entries[i] = drive_one(run, APR_ARRAY_IDX(run->names, i, const char *), &failed, p);
        apr_pool_destroy(p);
        apr_thread_mutex_lock(run->lock);
        run->failed += failed;
        apr_thread_mutex_unlock(run->lock);
    }
    return NULL;
}

/* Drive all names with up to DRIVE_WORKERS_MAX threads. */
static void drive_all(drive_run_t *run)
{
    apr_thread_t *threads[DRIVE_WORKERS_MAX];
    apr_status_t trv;
    int n = run->names->nelts < DRIVE_WORKERS_MAX ? run->names->nelts : DRIVE_WORKERS_MAX, i;

    apr_pool_t *shared_pool;

    apr_thread_mutex_create(&run->lock, APR_THREAD_MUTEX_DEFAULT, run->cli->p);
    apr_pool_create(&shared_pool, NULL);     /* allocated from under the shared object's own lock */
    run->drive_shared = md_drive_shared_make(shared_pool);
    for (i = 0; i < n; ++i) apr_thread_create(&threads[i], NULL, drive_worker, run, run->cli->p);
    for (i = 0; i < n; ++i) apr_thread_join(&trv, threads[i]);
    apr_pool_destroy(shared_pool);
}

int cli_verb_drive(md_cli_t *cli)
{
    md_result_t *result = md_result_make(cli->p);
    md_json_t *out = md_json_create(cli->p), *entry;
    drive_run_t run;
    int i, rc;

    memset(&run, 0, sizeof(run));
    run.cli = cli;
    run.names = cli->args;
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (run.names->nelts == 0 && md_store_list(&run.names, cli->store, MD_SG_DOMAINS, "*", cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "cannot list %s/domains", cli->store_dir);
    }
    if (shared_responders(&run.shared, cli, result) != APR_SUCCESS) return cli_fail(cli, CLI_EXIT_ERROR, result);
    run.entries = apr_pcalloc(cli->p, sizeof(char *) * (apr_size_t)(run.names->nelts + 1));
    drive_all(&run);
    md_json_setj(md_json_create_array(cli->p), out, "results", NULL);
    for (i = 0; i < run.names->nelts; ++i) {
        if (run.entries[i] && md_json_readd(&entry, run.entries[i], strlen(run.entries[i]), NULL, NULL, cli->p)
            == APR_SUCCESS) {
            md_json_addj(entry, out, "results", NULL);
        }
        free(run.entries[i]);
    }
    if (cli->json) cli_json_out(cli, out);
    return run.failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
