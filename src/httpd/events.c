/* MDMessageCmd and MDNotifyCmd: running the programs (argv, no shell, time limit, MD_* environment), the
 * drive's renewing/challenge-setup events, and "installed" at startup. The per-MD state is in events_state.c. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <unixd.h>

#include "md.h"
#include "md_exec.h"
#include "md_file.h"
#include "md_result.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define EV_TIMEOUT apr_time_from_sec(60)
#define EV_OUTPUT_MAX 512

/* The first lines of a program's output, for the log: at most EV_OUTPUT_MAX characters, newlines as " | ". */
static const char *output_text(const char *output, apr_pool_t *p)
{
    char *s;
    apr_size_t i, n;

    if (!output || !*output) return "(no output)";
    n = strlen(output);
    s = apr_pstrndup(p, output, n > EV_OUTPUT_MAX ? EV_OUTPUT_MAX : n);
    n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
    for (i = 0; i < n; ++i) {
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') s[i] = ' ';
    }
    return s;
}

static apr_table_t *ev_env(const md_mod_conf_t *mc, const char *md_name, apr_pool_t *p)
{
    apr_table_t *env = apr_table_make(p, 3);

    apr_table_setn(env, "MD_STORE", mc->store_dir);
    apr_table_setn(env, "MD_VERSION", MD_VERSION);
    apr_table_setn(env, "MD_MDOMAIN", md_name);
    return env;
}

apr_status_t md_httpd_event_run(const md_httpd_events_t *ev, int notify, const char *reason,
                                const char *md_name, md_result_t *result, apr_pool_t *p)
{
    const apr_array_header_t *cmd = notify ? ev->mc->notify_cmd : ev->mc->message_cmd;
    const char *directive = notify ? "MDNotifyCmd" : "MDMessageCmd", *output = NULL, *what;
    apr_array_header_t *argv;
    apr_status_t rv;
    int code = -1;

    if (!cmd || cmd->nelts == 0) return APR_SUCCESS;
    argv = apr_array_copy(p, cmd);
    if (reason) APR_ARRAY_PUSH(argv, const char *) = reason;
    APR_ARRAY_PUSH(argv, const char *) = md_name;
    what = apr_pstrcat(p, directive, reason ? " " : "", reason ? reason : "", " ", md_name, NULL);
    rv = md_exec_run(&code, &output, argv, ev_env(ev->mc, md_name, p), EV_TIMEOUT, result, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, md_result_log_status(rv), ev->s, "%s: %s", what,
                     md_result_text(result, p));
        md_result_printf(result, rv, "%s: %s", directive, md_result_text(result, p));
        return rv;
    }
    if (code == 0) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ev->s, "%s: exit 0", what);
        return APR_SUCCESS;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ev->s, "%s: exit %d (%s): %s", what, code,
                 md_exec_outcome_str(md_exec_outcome(code)), output_text(output, p));
    md_result_printf(result, APR_EGENERAL, "%s exited with %d: %s", directive, code, output_text(output, p));
    return APR_EGENERAL;
}

apr_status_t md_httpd_event_drive_cb(void *baton, const char *md_name, const char *event, md_result_t *result,
                                     apr_pool_t *p)
{
    return md_httpd_event_run(baton, 0, event, md_name, result, p);
}

/* STORE/events: made by the parent (root), owned by the child user, who keeps the per-MD state there. */
static void events_dir_setup(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p)
{
    const char *dir = md_file_join(p, mc->store_dir, MD_HTTPD_EVENTS_DIR, NULL);
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

/* post_config, after the store was set up (md_post_config activates staged sets): "installed", as root, for
 * each MD activated at this start. At a fresh start that is the second configuration pass, which takes the
 * first pass's activations from the startup memo (store_memo.c). */
static int events_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    md_httpd_events_t ev = { s, mc };
    const md_managed_t *m;
    int i;

    (void)pconf; (void)plog;
    if (ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_NORMAL || mc->mds->nelts == 0) return OK;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return OK;
    if (mc->message_cmd || mc->notify_cmd) events_dir_setup(s, mc, ptemp);
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (m->activated) md_httpd_event_run(&ev, 0, "installed", m->md->name, md_result_make(ptemp), ptemp);
    }
    return OK;
}

void md_httpd_events_hooks(void)
{
    ap_hook_post_config(events_post_config, NULL, NULL, APR_HOOK_LAST);
}
