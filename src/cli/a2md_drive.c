/* a2md drive [-f|--force] [-r|--reset] [NAME...]: the registry's batch over the named MDs (all without), answering
 * http-01 and tls-alpn-01 in the store's challenges/ for the web server on the same store (mod_md's cluster setup),
 * dns-01 and the rest through the MD's programs; new certificates are activated. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_event.h"
#include "md_reg_renew.h"
#include "md_time.h"
#include "a2md.h"

static void on_progress(void *baton, const char *md_name, const char *message)
{
    a2md_t *a = baton;

    if (a->cli->verbose) fprintf(stderr, "[%s] %s\n", md_name, message);
}

static void on_event_log(void *baton, int level, const char *message)
{
    a2md_t *a = baton;

    if (level < 2 || a->cli->verbose) fprintf(stderr, "%s%s\n", level < 2 ? "a2md: " : "[event] ", message);
}

/* The store's challenges/ answers: served by a server on the same store (mod_mdomain, mod_md). */
static apr_status_t store_responders(void *baton, md_responders_t *rs, const md_t *md, apr_pool_t *p)
{
    a2md_t *a = baton;
    md_responder_t *r;
    apr_status_t rv;

    rv = md_responder_store_http01(&r, a->cli->store, NULL, NULL, p);
    if (rv == APR_SUCCESS) md_responders_add(rs, r);
    if (rv == APR_SUCCESS) rv = md_responder_store_tlsalpn01(&r, a->cli->store, md, p);
    if (rv == APR_SUCCESS) md_responders_add(rs, r);
    return rv;
}

static void setup(md_reg_renew_t *rn, md_events_t *ev, a2md_t *a)
{
    memset(ev, 0, sizeof(*ev));
    ev->store_dir = md_store_base_dir(a->cli->store);
    ev->labels[MD_EVENT_PROG_HANDLER] = "event handler";
    ev->labels[MD_EVENT_PROG_DNS01] = "cmd-dns-01";
    ev->log = on_event_log;
    ev->log_baton = a;
    memset(rn, 0, sizeof(*rn));
    rn->drive.store = a->cli->store;
    rn->drive.http_opts.proxy_url = a->cli->proxy;
    rn->drive.log = on_progress;
    rn->drive.log_baton = a;
    rn->events = ev;
    rn->wait = 1;
    rn->local = store_responders;
    rn->local_baton = a;
}

static apr_array_header_t *drive_items(a2md_t *a, apr_array_header_t *names, int force, int reset)
{
    apr_array_header_t *items = apr_array_make(a->cli->p, names->nelts, sizeof(md_reg_item_t *));
    md_reg_item_t *item;
    int i;

    for (i = 0; i < names->nelts; ++i) {
        item = apr_pcalloc(a->cli->p, sizeof(*item));
        item->name = APR_ARRAY_IDX(names, i, const char *);
        item->flags.force = force;
        item->flags.activate = 1;
        if (reset) md_store_purge(a->cli->store, MD_SG_STAGING, item->name, a->cli->p);    /* start over */
        APR_ARRAY_PUSH(items, md_reg_item_t *) = item;
    }
    return items;
}

int a2md_drive(a2md_t *a)
{
    static const char *const flags[] = { "f:force", "r:reset", NULL };
    int force = 0, reset = 0, *const values[] = { &force, &reset };
    apr_array_header_t *names, *items;
    const char *description = NULL;
    apr_status_t status = APR_SUCCESS;
    md_reg_item_t *item;
    md_reg_renew_t rn;
    md_events_t ev;
    int i, rc;

    if ((rc = a2md_flags(a, "drive", flags, values)) >= 0) return rc;
    names = apr_array_make(a->cli->p, 4, sizeof(const char *));
    for (i = 0; i < a->argc; ++i) APR_ARRAY_PUSH(names, const char *) = a->argv[i];
    a->argc = 0;
    rc = a2md_store_open(a);
    if (rc != CLI_EXIT_OK) return rc;
    if (names->nelts == 0 && md_store_list(&names, a->cli->store, MD_SG_DOMAINS, "*", a->cli->p) != APR_SUCCESS) {
        return a2md_failf(a, APR_EGENERAL, CLI_EXIT_ERROR, "cannot list %s/domains", a->cli->store_dir);
    }
    for (i = 0; i < names->nelts; ++i) {
        if (!md_store_exists(a->cli->store, MD_SG_DOMAINS, APR_ARRAY_IDX(names, i, const char *), "md.json",
                             a->cli->p)) {
            return a2md_failf(a, APR_ENOENT, CLI_EXIT_ERROR, "drive: no managed domain '%s'",
                              APR_ARRAY_IDX(names, i, const char *));
        }
    }
    setup(&rn, &ev, a);
    items = drive_items(a, names, force, reset);
    md_reg_batch(NULL, md_reg_make(a->cli->store, NULL, a->cli->p), &rn, items, a->cli->p);
    for (i = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_item_t *);
        a2md_out_md(a, item->name);
        a2md_say(a, "%s: %s", item->name, md_drive_outcome_str(item->outcome));
        if (!item->failed) continue;
        if (status == APR_SUCCESS) status = item->rv != APR_SUCCESS ? item->rv : APR_EGENERAL;
        description = apr_pstrcat(a->cli->p, description ? description : "", description ? "; " : "", item->name,
                                  ": ", item->detail ? item->detail : md_drive_outcome_str(item->outcome), NULL);
    }
    return a2md_done(a, status, description, status == APR_SUCCESS ? CLI_EXIT_OK : CLI_EXIT_ERROR);
}
