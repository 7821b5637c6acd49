/* The events after a drive: errored at most hourly, renewed and the notify program repeated until they exit 0 (a
 * failed MDMessageCmd renewed or MDNotifyCmd a renewal error in the job, retried after MDRetryDelay, as mod_md counts
 * it), installed after an activation, expiring at most daily; their state in STORE/events/NAME.json survives
 * restarts. */
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_event.h"
#include "md_file.h"
#include "md_job.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_reg_ocsp.h"
#include "md_reg_renew.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_time.h"

#define EV_EXPIRING_EVERY apr_time_from_sec(24 * 3600)
#define EV_ERRORED_EVERY apr_time_from_sec(3600)

typedef struct {
    md_reg_t *reg;
    const md_reg_renew_t *rn;
    const md_t *md;
    md_event_programs_t progs;
    const char *path;          /* STORE/events/NAME.json */
    md_json_t *json;
    int changed;
    apr_time_t now;
    const char *failure;       /* why the drive failed, NULL when it did not */
    const apr_array_header_t *cert_files;   /* static certificate files, NULL: the store's */
    md_result_t *told;         /* how a failed renewed message or notify program failed (status 0: none did) */
    const char *told_event;    /* and which: "renewed" or MD_EVENT_NOTIFY */
    apr_pool_t *p;
} ev_state_t;

/* The MD's event state, not read yet (state_load reads it). */
static void state_init(ev_state_t *st, md_reg_t *reg, const md_reg_renew_t *rn, const md_t *md, apr_pool_t *p)
{
    memset(st, 0, sizeof(*st));
    st->reg = reg;
    st->rn = rn;
    st->md = md;
    st->p = p;
    st->now = md_reg_now(reg);
}

static void state_load(ev_state_t *st)
{
    const char *dir = md_file_join(st->p, md_store_base_dir(st->reg->store), MD_REG_EVENTS_DIR, NULL);
    md_json_t *json = NULL;

    st->path = md_file_join(st->p, dir, apr_pstrcat(st->p, st->md->name, ".json", NULL), NULL);
    if (md_file_is(st->path, APR_REG, st->p) == APR_SUCCESS
        && md_json_readf(&json, st->path, NULL, st->p) == APR_SUCCESS && md_json_type(json) == MD_JSON_TYPE_OBJECT) {
        st->json = json;
        return;
    }
    md_file_mkdirs(dir, MD_DPERMS_PRIVATE, st->p);
    st->json = md_json_create(st->p);
    md_json_sets(st->md->name, st->json, "name", NULL);
}

static void state_save(ev_state_t *st)
{
    if (!st->changed) return;
    if (md_json_writef(st->json, MD_JSON_FMT_INDENT, st->path, MD_FPERMS_SECRET, st->p) != APR_SUCCESS
        && st->rn && st->rn->events && st->rn->events->log) {
        st->rn->events->log(st->rn->events->log_baton, 1, apr_pstrcat(st->p, st->md->name, ": cannot save ",
                                                                     st->path, NULL));
    }
}

/* Raise an event of the MD; true when it was taken and done (exit 0) or nobody takes it. result (may be NULL):
 * why not. */
static int raise_ev(ev_state_t *st, const char *name, md_result_t *result)
{
    md_event_outcome_t outcome = MD_EVENT_NONE;
    md_event_t ev = { name, st->md->name, NULL, NULL };

    if (st->failure && !strcmp(name, "errored")) {
        ev.env = apr_table_make(st->p, 1);
        apr_table_set(ev.env, "MD_DETAIL", md_event_output_line(st->failure, 1024, st->p));
    }
    md_event_raise(&outcome, st->rn->events, &st->progs, &ev, result ? result : md_result_make(st->p), st->p);
    return outcome == MD_EVENT_OK || outcome == MD_EVENT_NONE;
}

static int taken(const ev_state_t *st, const char *name)
{
    return md_event_route(&st->progs, name) != MD_EVENT_PROG_COUNT;
}

/* Raise 'name' unless it was raised less than 'every' ago; the time is remembered whatever its exit. */
static void limited(ev_state_t *st, const char *name, apr_interval_time_t every)
{
    const char *last = md_json_gets(st->json, name, NULL);
    apr_time_t t = 0;

    if (!taken(st, name)) return;
    if (last && md_time_parse_rfc3339(&t, last) == APR_SUCCESS && t <= st->now && st->now - t < every) return;
    raise_ev(st, name, NULL);
    md_json_sets(md_time_print_rfc3339(st->now, st->p), st->json, name, NULL);
    st->changed = 1;
}

/* A new set (told apart by its job's valid-from, in staging/ or, once activated, domains/): renewed and the
 * notify program become due. */
static void new_set(ev_state_t *st, md_store_group_t group)
{
    const char *id = "set", *known = md_json_gets(st->json, "renewed", "set", NULL);
    md_job_t *job = NULL;

    if (md_job_load(&job, st->reg->store, group, st->md->name, NULL, st->p) == APR_SUCCESS && job->valid_from) {
        id = md_time_print_rfc3339(job->valid_from, st->p);
    }
    if (known && !strcmp(known, id)) return;
    md_json_sets(id, st->json, "renewed", "set", NULL);
    md_json_setb(taken(st, "renewed"), st->json, "renewed", "message", NULL);
    md_json_setb(taken(st, MD_EVENT_NOTIFY), st->json, "renewed", "notify", NULL);
    st->changed = 1;
}

/* One of renewed and the notify program, when still owed for the last set, until it exits 0. A failure of mod_md's
 * program (MDMessageCmd, MDNotifyCmd; not the event handler, which is only asked again) goes to st->told. */
static void owed(ev_state_t *st, const char *key, const char *event)
{
    md_result_t *result = md_result_make(st->p);

    if (!md_json_getb(st->json, "renewed", key, NULL)) return;
    if (raise_ev(st, event, result)) {
        md_json_setb(0, st->json, "renewed", key, NULL);
        st->changed = 1;
    }
    else if (md_event_route(&st->progs, event) != MD_EVENT_PROG_HANDLER) {
        md_result_assign(st->told, result);
        st->told_event = event;
    }
}

/* renewed and the notify program still owed for the last set; mod_md runs MDNotifyCmd first and reports its
 * failure, so that one is told when both fail. */
static void renewed_pending(ev_state_t *st)
{
    owed(st, "message", "renewed");
    owed(st, "notify", MD_EVENT_NOTIFY);
}

static int renewed_owed(const ev_state_t *st)
{
    return md_json_getb(st->json, "renewed", "message", NULL) || md_json_getb(st->json, "renewed", "notify", NULL);
}

/* The new set's job as mod_md keeps it: notified-renewed once renewed and the notify program are done (or nobody
 * takes them); a failed MDMessageCmd renewed or MDNotifyCmd is a renewal error there: errors 1, the failure as
 * last, its log entry, a retry after MDRetryDelay (mod_md counts each such run as its first error). Returns the
 * retry time, 0 when none is needed. Only a finished job is touched. */
static apr_time_t job_told(ev_state_t *st, md_store_group_t group)
{
    apr_interval_time_t base = st->rn->drive.retry_base ? st->rn->drive.retry_base : apr_time_from_sec(5);
    md_result_t *done;
    md_job_t *job = NULL;
    int failed = st->told->status != APR_SUCCESS, all_told, notify;

    if (md_job_load(&job, st->reg->store, group, st->md->name, NULL, st->p) != APR_SUCCESS || !job->finished) return 0;
    all_told = !renewed_owed(st);           /* what is still owed after a success is the event handler's */
    if (!failed && job->errors == 0 && (job->notified_renewed || !all_told)) return 0;     /* nothing new */
    if (failed) {
        st->told->ready_at = job->valid_from;
        md_job_record(job, st->told);
        notify = !strcmp(st->told_event, MD_EVENT_NOTIFY);        /* mod_md's log entries for them */
        md_job_log_status(job, notify ? "notify-error" : "message-error", notify ? st->told->problem : "renewed",
                          st->told->detail, st->now);
        job->errors = 1;
        job->next_run = st->now + md_renew_retry_delay(1, NULL, base, md_clock_jitter(st->reg->clock), 0, st->now);
    }
    else {
        if (job->errors) {                  /* a failed program exited 0 at last */
            done = md_result_make(st->p);
            done->ready_at = job->valid_from;
            md_job_record(job, done);
            job->errors = 0;
            job->next_run = 0;
        }
        if (all_told) job->notified = job->notified_renewed = 1;
    }
    /* not flushed: lost in a crash, the event is told again (at least once, as mod_md) */
    md_job_save_unflushed(job, st->reg->store, group, NULL, st->p);
    return failed ? job->next_run : 0;
}

/* A certificate of the MD is inside its warn window, or so few attempts are left before one expires that a failure
 * is in sight (MD_RENEW_ATTEMPTS_LOW). One it never had does not count: nothing expires. */
static int expiring(ev_state_t *st)
{
    md_reg_state_opts_t opts = { st->cert_files, 0, 0 };
    md_reg_state_t *state = md_reg_state(st->reg, st->md, &opts, st->p);
    int i;

    for (i = 0; i < state->certs->nelts; ++i) {
        if (!APR_ARRAY_IDX(state->certs, i, const md_reg_cert_t *)->cert) return 0;
    }
    return state->warn || state->attempts_low;
}

int md_reg_events_none(const md_reg_renew_t *rn, const md_event_programs_t *progs)
{
    static const char *const after[] = { "errored", "renewed", MD_EVENT_NOTIFY, "expiring", "installed" };
    size_t i;

    if (!rn->events) return 1;
    for (i = 0; i < sizeof(after) / sizeof(after[0]); ++i) {
        if (md_event_route(progs, after[i]) != MD_EVENT_PROG_COUNT) return 0;
    }
    return 1;
}

apr_time_t md_reg_events_after(md_reg_t *reg, const md_reg_renew_t *rn, const md_t *md,
                               const apr_array_header_t *cert_files, md_drive_outcome_t outcome,
                               const char *failure, apr_pool_t *p)
{
    md_store_group_t group = outcome == MD_DRIVE_ACTIVATED ? MD_SG_DOMAINS : MD_SG_STAGING;
    int failed = failure != NULL, staged = outcome == MD_DRIVE_STAGED || outcome == MD_DRIVE_ACTIVATED;
    ev_state_t st;

    state_init(&st, reg, rn, md, p);
    st.failure = failure;
    st.cert_files = cert_files;
    st.told = md_result_make(p);
    st.json = md_json_create(p);
    md_reg_programs(&st.progs, rn, md, p);
    if (md_reg_events_none(rn, &st.progs)) {
        return staged ? job_told(&st, group) : 0;      /* nobody to tell: told (the drive saved it so, mostly) */
    }
    state_load(&st);
    if (failed) limited(&st, "errored", EV_ERRORED_EVERY);
    /* a new set counts even when installing it for another server failed afterwards */
    if (outcome == MD_DRIVE_STAGED) new_set(&st, MD_SG_STAGING);
    if (outcome == MD_DRIVE_ACTIVATED) new_set(&st, MD_SG_DOMAINS);
    renewed_pending(&st);
    if (outcome == MD_DRIVE_ACTIVATED) raise_ev(&st, "installed", NULL);
    if (!staged && expiring(&st)) limited(&st, "expiring", EV_EXPIRING_EVERY);
    state_save(&st);
    return staged ? job_told(&st, group) : 0;
}

/* A flag of the MD's event state (install-owed, reload-owed). */
static int flag_get(md_reg_t *reg, const md_t *md, const char *key, apr_pool_t *p)
{
    ev_state_t st;

    state_init(&st, reg, NULL, md, p);
    state_load(&st);
    return md_json_getb(st.json, key, NULL);
}

static void flag_set(md_reg_t *reg, const md_t *md, const char *key, int on, apr_pool_t *p)
{
    ev_state_t st;

    state_init(&st, reg, NULL, md, p);
    state_load(&st);
    if (md_json_getb(st.json, key, NULL) == (on != 0)) return;
    md_json_setb(on, st.json, key, NULL);
    st.changed = 1;
    state_save(&st);
}

int md_reg_install_owed(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    return flag_get(reg, md, "install-owed", p);
}

void md_reg_install_owe(md_reg_t *reg, const md_t *md, int owed, apr_pool_t *p)
{
    flag_set(reg, md, "install-owed", owed, p);
}

int md_reg_reload_owed(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    return flag_get(reg, md, "reload-owed", p);
}

void md_reg_reload_owe(md_reg_t *reg, const md_t *md, int owed, apr_pool_t *p)
{
    flag_set(reg, md, "reload-owed", owed, p);
}

int md_reg_event_limited(md_reg_t *reg, const md_reg_renew_t *rn, const md_t *md, const char *event,
                         const char *key, apr_interval_time_t every, apr_table_t *env, apr_pool_t *p)
{
    md_event_outcome_t outcome = MD_EVENT_NONE;
    md_event_t ev = { event, md->name, NULL, env };
    const char *last;
    ev_state_t st;
    apr_time_t t = 0;

    if (!rn || !rn->events) return 0;
    state_init(&st, reg, rn, md, p);
    md_reg_programs(&st.progs, rn, md, p);
    if (!taken(&st, event)) return 0;
    state_load(&st);
    last = md_json_gets(st.json, "limited", event, key, NULL);
    if (last && (!every || (md_time_parse_rfc3339(&t, last) == APR_SUCCESS && t <= st.now && st.now - t < every))) {
        return 0;
    }
    md_event_raise(&outcome, rn->events, &st.progs, &ev, md_result_make(p), p);
    md_json_sets(md_time_print_rfc3339(st.now, p), st.json, "limited", event, key, NULL);
    st.changed = 1;
    state_save(&st);
    return 1;
}
