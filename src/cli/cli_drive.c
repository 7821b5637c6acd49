/* The drive verb (alias renew): the registry's batch with the command line's responders (built-in http-01 and
 * tls-alpn-01 servers, webroot), activation, installation and reload, and what became of every MD as text or JSON; a
 * forced renewal of named MDs on a running server's store goes to that server (cli_request.c). */
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "md.h"
#include "md_dns.h"
#include "md_event.h"
#include "md_reg_renew.h"
#include "md_reg_request.h"
#include "md_time.h"
#include "cli.h"

static void on_progress(void *baton, const char *md_name, const char *message)
{
    md_cli_t *cli = baton;

    if (cli->verbose) fprintf(stderr, "[%s] %s\n", md_name, message);
}

/* Program calls: warnings and errors always on stderr, the others with -v. */
static void on_event_log(void *baton, int level, const char *message)
{
    md_cli_t *cli = baton;

    if (level < 2 || cli->verbose) fprintf(stderr, "%s%s\n", level < 2 ? "mdomain: " : "[event] ", message);
}

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

static apr_status_t local_responders(void *baton, md_responders_t *rs, const md_t *md, apr_pool_t *p)
{
    const apr_array_header_t *shared = baton;
    int i;

    (void)md; (void)p;
    for (i = 0; i < shared->nelts; ++i) md_responders_add(rs, APR_ARRAY_IDX(shared, i, md_responder_t *));
    return APR_SUCCESS;
}

static md_json_t *entry_json(const md_reg_item_t *item, apr_pool_t *p)
{
    md_json_t *entry = md_json_create(p);

    md_json_sets(item->name, entry, "name", NULL);
    md_json_sets(item->rv == APR_SUCCESS ? md_drive_outcome_str(item->outcome) : "failed", entry, "outcome", NULL);
    md_json_setb(item->renewed, entry, "renewed", NULL);
    md_json_setb(item->failed, entry, "failed", NULL);
    if (item->next) md_json_sets(md_time_print_http(item->next, p), entry, "next", NULL);
    if (item->failed) {
        if (item->rv != APR_SUCCESS && item->outcome == MD_DRIVE_BLOCKED) md_json_sets("blocked", entry, "outcome", NULL);
        md_json_sets(item->detail ? item->detail : "failed", entry, "detail", NULL);
        if (item->problem) md_json_sets(item->problem, entry, "problem", NULL);
        if (item->activity) md_json_sets(item->activity, entry, "activity", NULL);
    }
    if (item->reloaded) md_json_sets("ok", entry, "reload", NULL);
    else if (item->reload_detail) md_json_sets(item->reload_detail, entry, "reload", NULL);
    return entry;
}

/* One line per MD on stdout, failed ones too (with the reason also on stderr). */
static void say_item(md_cli_t *cli, const md_reg_item_t *item)
{
    const char *next = item->next ? md_time_print_rfc3339(item->next, cli->p) : NULL;

    if (item->rv != APR_SUCCESS) {
        cli_say(cli, "%s: %s: %s%s%s", item->name, item->outcome == MD_DRIVE_BLOCKED ? "blocked" : "failed",
                item->detail ? item->detail : "failed", next ? ", next attempt " : "", next ? next : "");
        fprintf(stderr, "mdomain: %s: %s\n", item->name, item->detail ? item->detail : "failed");
        return;
    }
    cli_say(cli, "%s: %s%s%s%s", item->name, md_drive_outcome_str(item->outcome), next ? ", next " : "",
            next ? next : "", item->reloaded ? ", reloaded" : "");
    if (item->reload_detail) fprintf(stderr, "mdomain: %s: %s\n", item->name, item->reload_detail);
    else if (item->failed) fprintf(stderr, "mdomain: %s: %s\n", item->name, item->detail ? item->detail : "failed");
}

static void renew_setup(md_reg_renew_t *rn, md_events_t *ev, md_cli_t *cli, apr_array_header_t *shared)
{
    md_dns_t *dns = NULL;

    memset(ev, 0, sizeof(*ev));
    ev->store_dir = md_store_base_dir(cli->store);
    ev->labels[MD_EVENT_PROG_HANDLER] = "event handler";
    ev->labels[MD_EVENT_PROG_DNS01] = "--dns-cmd";
    ev->log = on_event_log;
    ev->log_baton = cli;
    memset(rn, 0, sizeof(*rn));
    rn->drive.store = cli->store;
    rn->drive.http_opts.proxy_url = cli->proxy;
    rn->drive.log = on_progress;
    rn->drive.log_baton = cli;
    rn->drive.hints = &cli_hints;
    rn->drive.preflight = cli->preflight;
    rn->drive.preflight_http_port = cli->http_port ? cli->http_port : 80;
    if (cli->preflight && cli->preflight_dns) {
        md_dns_resolver(&dns, cli->preflight_dns, cli->p);
        rn->drive.dns = dns;
    }
    rn->events = ev;
    rn->wait = 1;
    rn->workers = cli->jobs;
    rn->local = local_responders;
    rn->local_baton = shared;
}

int cli_verb_drive(md_cli_t *cli)
{
    md_result_t *result = md_result_make(cli->p);
    md_json_t *out = md_json_create(cli->p);
    apr_array_header_t *names = cli->args, *shared, *items;
    md_reg_item_t *item;
    md_reg_renew_t rn;
    md_reg_run_stats_t stats;
    md_events_t ev;
    char real[PATH_MAX];
    int i, rc, failed = 0;

    if (cli->terms && strcasecmp(cli->terms, "accepted")) {
        return cli_failf(cli, CLI_EXIT_USAGE, "-t/--terms '%s': the only value is 'accepted'", cli->terms);
    }
    if (cli->ca_file && !realpath(cli->ca_file, real)) {
        return cli_failf(cli, CLI_EXIT_USAGE, "--ca-file %s: not found", cli->ca_file);
    }
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    /* a forced renewal of named MDs on a running server's store: the server renews and serves them */
    if (cli->force && names->nelts && !cli->here && md_reg_requests_served(md_reg_make(cli->store, NULL, cli->p),
                                                                           cli->p)) {
        return cli_drive_via_server(cli, names);
    }
    if (names->nelts == 0 && md_store_list(&names, cli->store, MD_SG_DOMAINS, "*", cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "cannot list %s/domains", cli->store_dir);
    }
    if (shared_responders(&shared, cli, result) != APR_SUCCESS) return cli_fail(cli, CLI_EXIT_ERROR, result);
    renew_setup(&rn, &ev, cli, shared);
    rn.drive.ca_file = cli->ca_file ? apr_pstrdup(cli->p, real) : NULL;     /* for this run, before the MD's */
    rn.drive.agree_tos = cli->terms != NULL;
    items = apr_array_make(cli->p, names->nelts, sizeof(md_reg_item_t *));
    for (i = 0; i < names->nelts; ++i) {
        item = apr_pcalloc(cli->p, sizeof(*item));
        item->name = APR_ARRAY_IDX(names, i, const char *);
        item->flags.force = cli->force;
        item->flags.activate = 1;
        APR_ARRAY_PUSH(items, md_reg_item_t *) = item;
    }
    cli_revocation_pass(cli, names, &rn);
    md_reg_batch(&stats, md_reg_make(cli->store, NULL, cli->p), &rn, items, cli->p);
    cli_ocsp_install_pass(cli, names, &rn);
    md_json_setl(stats.workers, out, "workers", NULL);
    md_json_setl(stats.max_active, out, "max-active", NULL);
    md_json_setj(md_json_create_array(cli->p), out, "results", NULL);
    for (i = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_item_t *);
        if (item->failed) failed = 1;
        say_item(cli, item);
        md_json_addj(entry_json(item, cli->p), out, "results", NULL);
    }
    if (cli->json) cli_json_out(cli, out);
    return failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
