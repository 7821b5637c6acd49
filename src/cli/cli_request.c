/* renew --force NAME on the store of a running httpd: the request goes to the server (STORE/requests/NAME.json),
 * which renews the MD and serves the new set live; the command waits for the pick-up, the answer and the activation,
 * and says what happened, or that no server picked the request up. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "md_reg.h"
#include "md_reg_request.h"
#include "md_time.h"
#include "cli.h"

#define LOOK apr_time_from_msec(200)
/* How long the command waits for the renewal once a server picked it up, and then for its activation. */
#define RENEWAL_WAIT apr_time_from_sec(600)
#define ACTIVATION_WAIT apr_time_from_sec(60)

typedef struct {
    const char *name;
    md_reg_request_t *req;       /* as last read */
    const char *outcome;         /* "renewed", "staged", "failed", "not-picked-up", ... */
    const char *detail;
    int active;                  /* the new set is the active one */
    int failed;
} asked_t;

static void progress(md_cli_t *cli, const char *name, const char *msg)
{
    if (cli->verbose) fprintf(stderr, "[%s] %s\n", name, msg);
}

/* The request as it is now (NULL when it went away). */
static md_reg_request_t *look(md_reg_t *reg, const char *name, apr_pool_t *p)
{
    md_reg_request_t *req = NULL;

    if (md_reg_request_get(&req, reg, name, p) != APR_SUCCESS) return NULL;
    return req;
}

/* Wait until the request is picked up (by the deadline) and answered; the final state in a->req. */
static void wait_answer(md_cli_t *cli, md_reg_t *reg, asked_t *a, apr_time_t pickup_by)
{
    apr_time_t answer_by = 0;
    int picked = 0;

    for (;;) {
        a->req = look(reg, a->name, cli->p);
        if (!a->req) return;
        if (a->req->state == MD_REG_REQ_DONE || a->req->state == MD_REG_REQ_FAILED) return;
        if (a->req->state == MD_REG_REQ_PICKED && !picked) {
            picked = 1;
            answer_by = apr_time_now() + RENEWAL_WAIT;
            progress(cli, a->name, apr_pstrcat(cli->p, "picked up by ", a->req->holder ? a->req->holder : "?", NULL));
        }
        if (!picked && apr_time_now() > pickup_by) return;
        if (picked && apr_time_now() > answer_by) return;
        apr_sleep(LOOK);
    }
}

/* After a renewal: wait until its set is the active one in the store. */
static void wait_active(md_cli_t *cli, md_reg_t *reg, asked_t *a)
{
    apr_time_t until = apr_time_now() + ACTIVATION_WAIT;

    while (!(a->active = md_reg_request_active(reg, a->req, cli->p)) && apr_time_now() < until) apr_sleep(LOOK);
}

static void judge(md_cli_t *cli, md_reg_t *reg, asked_t *a, int wait_secs)
{
    if (!a->req) {
        a->outcome = "failed";
        a->detail = "the request went away before it was answered (removed from STORE/requests?)";
    }
    else if (a->req->state == MD_REG_REQ_NEW) {
        md_reg_request_remove(reg, a->name, cli->p);
        a->outcome = "not-picked-up";
        a->detail = apr_psprintf(cli->p, "no server picked up the request within %d s: is httpd running with "
                                 "MDStoreDir %s, and %s one of its MDs? (the request is withdrawn; --here renews it "
                                 "in this process instead)", wait_secs, cli->store_dir, a->name);
    }
    else if (a->req->state == MD_REG_REQ_PICKED) {
        a->outcome = "under-way";
        a->detail = apr_psprintf(cli->p, "%s works on it and has not answered yet; see 'mdomain show %s'",
                                 a->req->holder ? a->req->holder : "the server", a->name);
    }
    else if (a->req->state == MD_REG_REQ_FAILED) {
        a->outcome = "failed";
        a->detail = a->req->detail ? a->req->detail : "failed";
    }
    else {
        a->outcome = a->req->outcome ? a->req->outcome : "done";
        if (a->req->serials && a->req->serials->nelts) wait_active(cli, reg, a);
        if (a->active) a->outcome = "activated";
    }
    a->failed = strcmp(a->outcome, "activated") && strcmp(a->outcome, "staged") && strcmp(a->outcome, "not-due");
    if (a->req && a->req->state != MD_REG_REQ_NEW && a->req->state != MD_REG_REQ_PICKED) {
        md_reg_request_remove(reg, a->name, cli->p);
    }
}

static md_json_t *asked_json(const asked_t *a, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(a->name, json, "name", NULL);
    md_json_sets(a->outcome, json, "outcome", NULL);
    if (a->req && a->req->holder) md_json_sets(a->req->holder, json, "server", NULL);
    if (a->req && a->req->serials) md_json_setsa(a->req->serials, json, "serials", NULL);
    if (a->detail) md_json_sets(a->detail, json, "detail", NULL);
    return json;
}

static void asked_say(md_cli_t *cli, const asked_t *a)
{
    const char *serials = a->req && a->req->serials && a->req->serials->nelts
                          ? apr_array_pstrcat(cli->p, a->req->serials, ' ') : NULL;
    const char *server = a->req && a->req->holder ? a->req->holder : "the server";

    if (a->failed) {
        cli_say(cli, "%s: %s: %s", a->name, a->outcome, a->detail ? a->detail : "failed");
        fprintf(stderr, "mdomain: %s: %s\n", a->name, a->detail ? a->detail : a->outcome);
    }
    else if (a->active) {
        cli_say(cli, "%s: activated: renewed by %s, served now (serial %s)", a->name, server, serials);
    }
    else if (serials) {
        cli_say(cli, "%s: staged: renewed by %s (serial %s), not yet active after %d s (MDActivationDelay?)",
                a->name, server, serials, (int)apr_time_sec(ACTIVATION_WAIT));
    }
    else {
        cli_say(cli, "%s: %s (%s)", a->name, a->outcome, server);
    }
}

int cli_drive_via_server(md_cli_t *cli, apr_array_header_t *names)
{
    md_reg_t *reg = md_reg_make(cli->store, NULL, cli->p);
    md_result_t *result = md_result_make(cli->p);
    md_json_t *out = md_json_create(cli->p);
    int wait_secs = cli->wait_secs > 0 ? cli->wait_secs : 60, i, failed = 0;
    const char *by = apr_psprintf(cli->p, "mdomain pid %ld", (long)getpid());
    asked_t *asked = apr_pcalloc(cli->p, sizeof(asked_t) * (apr_size_t)names->nelts);
    apr_time_t pickup_by;

    for (i = 0; i < names->nelts; ++i) {
        asked[i].name = APR_ARRAY_IDX(names, i, const char *);
        if (md_reg_request_put(reg, asked[i].name, cli->force, by, result, cli->p) != APR_SUCCESS) {
            return cli_fail(cli, CLI_EXIT_ERROR, result);
        }
        progress(cli, asked[i].name, "asked the server working on this store to renew it");
    }
    pickup_by = apr_time_now() + apr_time_from_sec(wait_secs);
    md_json_setj(md_json_create_array(cli->p), out, "results", NULL);
    for (i = 0; i < names->nelts; ++i) {
        wait_answer(cli, reg, &asked[i], pickup_by);
        judge(cli, reg, &asked[i], wait_secs);
        if (asked[i].failed) failed = 1;
        asked_say(cli, &asked[i]);
        md_json_addj(asked_json(&asked[i], cli->p), out, "results", NULL);
    }
    if (cli->json) cli_json_out(cli, out);
    return failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
