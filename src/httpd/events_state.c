/* The events after a watchdog run for one MD: renewed and MDNotifyCmd repeated until they exit 0, expiring at
 * most daily, errored at most hourly; their state in STORE/events/NAME.json survives restarts. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>

#include "md.h"
#include "md_drive.h"
#include "md_file.h"
#include "md_job.h"
#include "md_json.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_time.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define EV_EXPIRING_EVERY apr_time_from_sec(24 * 3600)
#define EV_ERRORED_EVERY apr_time_from_sec(3600)

typedef struct {
    const md_httpd_events_t *ev;
    const md_t *md;
    const char *path;          /* STORE/events/NAME.json */
    md_json_t *json;
    int changed;
    apr_pool_t *p;
} ev_state_t;

static void state_load(ev_state_t *st)
{
    md_json_t *json = NULL;

    st->path = md_file_join(st->p, st->ev->mc->store_dir, MD_HTTPD_EVENTS_DIR,
                            apr_pstrcat(st->p, st->md->name, ".json", NULL), NULL);
    if (md_file_is(st->path, APR_REG, st->p) == APR_SUCCESS
        && md_json_readf(&json, st->path, NULL, st->p) == APR_SUCCESS && md_json_type(json) == MD_JSON_TYPE_OBJECT) {
        st->json = json;
        return;
    }
    st->json = md_json_create(st->p);
    md_json_sets(st->md->name, st->json, "name", NULL);
}

static void state_save(ev_state_t *st)
{
    apr_status_t rv;

    if (!st->changed) return;
    rv = md_json_writef(st->json, MD_JSON_FMT_INDENT, st->path, MD_FPERMS_SECRET, st->p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, st->ev->s, "%s: cannot save %s", st->md->name, st->path);
    }
}

/* Call 'reason' unless it ran less than 'every' ago; the time of the call is remembered whatever its exit. */
static void limited(ev_state_t *st, const char *reason, apr_interval_time_t every, apr_time_t now)
{
    const char *last = md_json_gets(st->json, reason, NULL);
    apr_time_t t = 0;

    if (last && md_time_parse_rfc3339(&t, last) == APR_SUCCESS && t <= now && now - t < every) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, st->ev->s, "%s: MDMessageCmd %s was called at %s, not again "
                     "before %s", st->md->name, reason, last, md_time_print_rfc3339(t + every, st->p));
        return;
    }
    md_httpd_event_run(st->ev, 0, reason, st->md->name, md_result_make(st->p), st->p);
    md_json_sets(md_time_print_rfc3339(now, st->p), st->json, reason, NULL);
    st->changed = 1;
}

/* A newly staged set (told apart by its job's valid-from): renewed and notify become due. */
static void staged_set(ev_state_t *st)
{
    md_job_t *job = NULL;
    const char *id = "staged", *known = md_json_gets(st->json, "renewed", "set", NULL);

    if (md_job_load(&job, st->ev->mc->store, MD_SG_STAGING, st->md->name, NULL, st->p) == APR_SUCCESS
        && job->valid_from) {
        id = md_time_print_rfc3339(job->valid_from, st->p);
    }
    if (known && !strcmp(known, id)) return;
    md_json_sets(id, st->json, "renewed", "set", NULL);
    md_json_setb(st->ev->mc->message_cmd != NULL, st->json, "renewed", "message", NULL);
    md_json_setb(st->ev->mc->notify_cmd != NULL, st->json, "renewed", "notify", NULL);
    st->changed = 1;
}

/* The renewed message and the notify program still owed for the last set, until each exits 0. */
static void renewed_pending(ev_state_t *st)
{
    if (md_json_getb(st->json, "renewed", "message", NULL)
        && md_httpd_event_run(st->ev, 0, "renewed", st->md->name, md_result_make(st->p), st->p) == APR_SUCCESS) {
        md_json_setb(0, st->json, "renewed", "message", NULL);
        st->changed = 1;
    }
    if (md_json_getb(st->json, "renewed", "notify", NULL)
        && md_httpd_event_run(st->ev, 1, NULL, st->md->name, md_result_make(st->p), st->p) == APR_SUCCESS) {
        md_json_setb(0, st->json, "renewed", "notify", NULL);
        st->changed = 1;
    }
}

static int in_warn_window(ev_state_t *st, apr_time_t now)
{
    apr_array_header_t *vals = NULL;
    int i;

    md_drive_validities(&vals, st->ev->mc->store, MD_SG_DOMAINS, st->md, st->p);
    for (i = 0; vals && i < vals->nelts; ++i) {
        if (!APR_ARRAY_IDX(vals, i, md_cert_validity_t *)) return 0;    /* never had one: nothing expires */
    }
    return vals && md_renew_should_warn(st->md, vals, now);
}

void md_httpd_events_after(const md_httpd_events_t *ev, const md_t *md, int failed, int outcome,
                           apr_pool_t *p)
{
    ev_state_t st;
    apr_time_t now = apr_time_now();

    if (!ev->mc->message_cmd && !ev->mc->notify_cmd) return;
    memset(&st, 0, sizeof(st));
    st.ev = ev;
    st.md = md;
    st.p = p;
    state_load(&st);
    if (failed && ev->mc->message_cmd) limited(&st, "errored", EV_ERRORED_EVERY, now);
    if (!failed && outcome == MD_DRIVE_STAGED) staged_set(&st);
    renewed_pending(&st);
    if (outcome != MD_DRIVE_STAGED && ev->mc->message_cmd && in_warn_window(&st, now)) {
        limited(&st, "expiring", EV_EXPIRING_EVERY, now);
    }
    state_save(&st);
}
