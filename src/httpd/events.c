/* The module's side of the event dispatcher: directive names in messages, the error log for every call, the
 * server-wide programs, the events directory the children keep their state in, and "installed" at startup. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <unixd.h>

#include "md.h"
#include "md_event.h"
#include "md_file.h"
#include "md_reg_renew.h"
#include "md_result.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

static void ev_log(void *baton, int level, const char *message)
{
    static const int levels[] = { APLOG_ERR, APLOG_WARNING, APLOG_INFO };

    ap_log_error(APLOG_MARK, levels[level < 0 ? 0 : level > 2 ? 2 : level], 0, (server_rec *)baton, "%s", message);
}

void md_httpd_events_init(md_events_t *ev, md_event_programs_t *progs, server_rec *s, const md_mod_conf_t *mc)
{
    memset(ev, 0, sizeof(*ev));
    ev->store_dir = mc->store_dir;
    ev->labels[MD_EVENT_PROG_HANDLER] = "MDEventHandler";
    ev->labels[MD_EVENT_PROG_MESSAGE] = "MDMessageCmd";
    ev->labels[MD_EVENT_PROG_NOTIFY] = "MDNotifyCmd";
    ev->labels[MD_EVENT_PROG_DNS01] = "MDChallengeDns01";
    ev->log = ev_log;
    ev->log_baton = s;
    memset(progs, 0, sizeof(*progs));
    progs->argv[MD_EVENT_PROG_MESSAGE] = mc->message_cmd;
    progs->argv[MD_EVENT_PROG_NOTIFY] = mc->notify_cmd;
    progs->dns01_version = mc->dns01_version;
}

/* STORE/events: made by the parent (root), owned by the child user, who keeps the per-MD state there. */
static void events_dir_setup(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p)
{
    const char *dir = md_file_join(p, mc->store_dir, MD_REG_EVENTS_DIR, NULL);
    apr_status_t rv;

    rv = md_file_mkdirs(dir, MD_DPERMS_PRIVATE, p);
    if (rv == APR_SUCCESS && geteuid() == 0
        && chown(dir, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "%s: cannot prepare it for the children: renewed, "
                     "expiring and errored events may repeat", dir);
    }
}

/* Does any MD have a program that takes events? */
static int any_programs(const md_mod_conf_t *mc)
{
    int i;

    if (mc->message_cmd || mc->notify_cmd) return 1;
    for (i = 0; i < mc->mds->nelts; ++i) {
        if (APR_ARRAY_IDX(mc->mds, i, const md_managed_t *)->md->event_handler->nelts) return 1;
    }
    return 0;
}

void md_httpd_events_installed(server_rec *s, const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p)
{
    md_event_programs_t progs;
    md_event_outcome_t outcome;
    md_reg_renew_t rn;
    md_event_t event;
    md_events_t ev;

    if (!any_programs(mc)) return;
    memset(&rn, 0, sizeof(rn));
    md_httpd_events_init(&ev, &rn.programs, s, mc);
    memset(&event, 0, sizeof(event));
    event.name = "installed";
    event.md_name = m->md->name;
    md_reg_programs(&progs, &rn, m->md, p);
    md_event_raise(&outcome, &ev, &progs, &event, md_result_make(p), p);
}

/* post_config, after the store was set up (md_post_config activates staged sets): "installed", as root, for
 * each MD activated at this start. At a fresh start that is the second configuration pass, which takes the
 * first pass's activations from the startup memo (store_memo.c). Sets activated while the server runs get theirs
 * from the parent's monitor (monitor.c). */
static int events_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    const md_managed_t *m;
    int i;

    (void)pconf; (void)plog;
    if (ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_NORMAL || mc->mds->nelts == 0) return OK;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return OK;
    if (!any_programs(mc)) return OK;
    events_dir_setup(s, mc, ptemp);
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (m->activated) md_httpd_events_installed(s, mc, m, ptemp);
    }
    return OK;
}

void md_httpd_events_hooks(void)
{
    ap_hook_post_config(events_post_config, NULL, NULL, APR_HOOK_LAST);
}
