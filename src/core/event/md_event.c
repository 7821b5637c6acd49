/* The event dispatcher: routes an event to its program, runs it with the MD_* environment and judges its exit. */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "md_event.h"
#include "md_exec.h"
#include "md_result.h"

#ifndef MD_VERSION
#define MD_VERSION "unknown"
#endif

#define EV_OUTPUT_MAX 512

static const char *const GENERIC_LABELS[MD_EVENT_PROG_COUNT] = {
    "event handler", "message program", "notify program", "dns-01 program"
};

const char *md_event_outcome_str(md_event_outcome_t outcome)
{
    switch (outcome) {
    case MD_EVENT_NONE: return "none";
    case MD_EVENT_OK: return "ok";
    case MD_EVENT_RETRY: return "retry";
    case MD_EVENT_NEEDS_POLL: return "needs-poll";
    default: return "failed";
    }
}

static int configured(const md_event_programs_t *progs, md_event_prog_t which)
{
    return progs && progs->argv[which] && progs->argv[which]->nelts > 0;
}

static int is_one_of(const char *name, const char *const *names)
{
    for (; *names; ++names) {
        if (!strcmp(name, *names)) return 1;
    }
    return 0;
}

static const char *const DNS01_EVENTS[] = { "setup", "teardown", "poll-setup", NULL };
static const char *const MESSAGE_EVENTS[] = { "renewing", "renewed", "installed", "expiring", "errored",
                                              "ocsp-renewed", "ocsp-errored", "revoked", NULL };

static int is_message(const char *name)
{
    return is_one_of(name, MESSAGE_EVENTS) || !strncmp(name, "challenge-setup:", 16);
}

md_event_prog_t md_event_route(const md_event_programs_t *progs, const char *event)
{
    md_event_prog_t which = MD_EVENT_PROG_HANDLER;

    if (!strcmp(event, MD_EVENT_NOTIFY)) {
        return configured(progs, MD_EVENT_PROG_NOTIFY) ? MD_EVENT_PROG_NOTIFY : MD_EVENT_PROG_COUNT;
    }
    if (is_one_of(event, DNS01_EVENTS) && configured(progs, MD_EVENT_PROG_DNS01)) which = MD_EVENT_PROG_DNS01;
    else if (is_message(event) && configured(progs, MD_EVENT_PROG_MESSAGE)) which = MD_EVENT_PROG_MESSAGE;
    else if (!strcmp(event, "renewed") && configured(progs, MD_EVENT_PROG_NOTIFY)) return MD_EVENT_PROG_COUNT;
    return configured(progs, which) ? which : MD_EVENT_PROG_COUNT;
}

static const char *arg(const md_event_t *event, int i)
{
    return (event->args && i < event->args->nelts) ? APR_ARRAY_IDX(event->args, i, const char *) : NULL;
}

/* The argument vector for the program that takes the event, by its calling convention. */
static apr_array_header_t *argv_for(const md_event_programs_t *progs, md_event_prog_t which,
                                    const md_event_t *event, apr_pool_t *p)
{
    apr_array_header_t *argv = apr_array_copy(p, progs->argv[which]);
    int i;

    switch (which) {
    case MD_EVENT_PROG_NOTIFY:
        APR_ARRAY_PUSH(argv, const char *) = event->md_name;
        break;
    case MD_EVENT_PROG_MESSAGE:
        APR_ARRAY_PUSH(argv, const char *) = event->name;
        APR_ARRAY_PUSH(argv, const char *) = event->md_name;
        break;
    case MD_EVENT_PROG_DNS01:
        APR_ARRAY_PUSH(argv, const char *) = event->name;
        if (arg(event, 0)) APR_ARRAY_PUSH(argv, const char *) = arg(event, 0);
        if (arg(event, 1) && (strcmp(event->name, "teardown") || progs->dns01_version >= 2)) {
            APR_ARRAY_PUSH(argv, const char *) = arg(event, 1);
        }
        break;
    default:
        APR_ARRAY_PUSH(argv, const char *) = event->name;
        APR_ARRAY_PUSH(argv, const char *) = event->md_name;
        for (i = 0; arg(event, i); ++i) APR_ARRAY_PUSH(argv, const char *) = arg(event, i);
        break;
    }
    return argv;
}

/* The contract: the handler's exit codes mean what they say. The specific programs keep mod_md's reading
 * (any other non-zero exit: try again later), and 76 counts only for a dns-01 setup. */
static md_event_outcome_t outcome_of(md_event_prog_t which, const char *event, int code)
{
    md_exec_outcome_t o = md_exec_outcome(code);

    if (o == MD_EXEC_OK) return MD_EVENT_OK;
    if (which == MD_EVENT_PROG_HANDLER) {
        return o == MD_EXEC_RETRY ? MD_EVENT_RETRY : o == MD_EXEC_NEEDS_POLL ? MD_EVENT_NEEDS_POLL : MD_EVENT_FAILED;
    }
    if (which == MD_EVENT_PROG_DNS01 && o == MD_EXEC_NEEDS_POLL && strcmp(event, "teardown")) {
        return MD_EVENT_NEEDS_POLL;
    }
    return MD_EVENT_RETRY;
}

const char *md_event_output_line(const char *output, apr_size_t max, apr_pool_t *p)
{
    apr_size_t i, n, o = 0;
    char *s;

    if (!output || !*output) return "(no output)";
    n = strlen(output);
    if (n > max) n = max;
    while (n > 0 && (output[n - 1] == '\n' || output[n - 1] == '\r' || output[n - 1] == ' ')) --n;
    s = apr_palloc(p, 3 * n + 1);
    for (i = 0; i < n; ++i) {
        if (output[i] == '\r' && i + 1 < n && output[i + 1] == '\n') continue;
        if (output[i] == '\n' || output[i] == '\r') {
            memcpy(s + o, " | ", 3);
            o += 3;
        }
        else if (output[i] == '\t') s[o++] = ' ';
        else if ((unsigned char)output[i] < 0x20 || output[i] == 0x7f) s[o++] = '?';
        else s[o++] = output[i];
    }
    s[o] = '\0';
    return o ? s : "(no output)";
}

static apr_table_t *env_for(const md_events_t *ev, const char *md_name, const char *event, apr_table_t *extra,
                            apr_pool_t *p)
{
    apr_table_t *env = extra ? apr_table_copy(p, extra) : apr_table_make(p, 4);

    apr_table_set(env, "MD_VERSION", MD_VERSION);
    if (ev && ev->store_dir) apr_table_set(env, "MD_STORE", ev->store_dir);
    if (md_name) apr_table_set(env, "MD_MDOMAIN", md_name);
    if (event) apr_table_set(env, "MD_EVENT", event);
    return env;
}

static void logf_event(const md_events_t *ev, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_event(const md_events_t *ev, int level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    if (!ev || !ev->log) return;
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ev->log(ev->log_baton, level, buf);
}

/* The call for messages: the label and the first arguments after the program's own ("MDNotifyCmd example.org",
 * "MDEventHandler setup-http-01 example.org www.example.org"). */
static const char *call_text(const char *label, const apr_array_header_t *argv, int nfixed, apr_pool_t *p)
{
    const char *s = label;
    int i;

    for (i = nfixed; i < argv->nelts && i < nfixed + 3; ++i) {
        s = apr_pstrcat(p, s, " ", APR_ARRAY_IDX(argv, i, const char *), NULL);
    }
    return s;
}

/* Run argv and say what came of it: the log line and, unless it exited 0, the result. *pcode: its exit code (-1
 * when it did not run to its end). */
static apr_status_t run_judged(md_event_outcome_t *poutcome, int *pcode, const md_events_t *ev,
                               md_event_prog_t which, const char *what, const apr_array_header_t *argv,
                               const char *md_name, const char *event, apr_table_t *extra,
                               apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p)
{
    const char *output = NULL;
    md_result_t *run = md_result_make(p);
    apr_status_t rv;
    int code = -1;

    *pcode = -1;
    rv = md_exec_run(&code, &output, argv, env_for(ev, md_name, event, extra, p), timeout, run, p);
    if (rv != APR_SUCCESS) {
        *poutcome = which == MD_EVENT_PROG_HANDLER ? MD_EVENT_FAILED : MD_EVENT_RETRY;
        md_result_printf(result, rv, "%s: %s", what, md_result_text(run, p));
        logf_event(ev, 0, "%s", result ? result->detail : what);
        return rv;
    }
    *pcode = code;
    *poutcome = outcome_of(which, event, code);
    if (*poutcome == MD_EVENT_OK) {
        md_result_set(result, APR_SUCCESS, NULL);
        logf_event(ev, 2, "%s: exit 0", what);
        return APR_SUCCESS;
    }
    output = md_event_output_line(output, EV_OUTPUT_MAX, p);
    logf_event(ev, 1, "%s: exit %d (%s): %s", what, code, md_event_outcome_str(*poutcome), output);
    rv = (*poutcome == MD_EVENT_FAILED) ? APR_EGENERAL : APR_EAGAIN;
    md_result_printf(result, rv, "%s: exit %d (%s): %s", what, code, md_event_outcome_str(*poutcome), output);
    return rv;
}

static int is_challenge_event(const char *name)
{
    static const char *const http01[] = { "setup-http-01", "teardown-http-01", "poll-setup-http-01", NULL };

    return is_one_of(name, DNS01_EVENTS) || is_one_of(name, http01);
}

/* A failed MDMessageCmd or MDNotifyCmd as mod_md reports it (job.json's "last"): "MDNotifyCmd PROGRAM failed with
 * exit code N.", its log id as the problem type, status APR_EGENERAL. */
static void mod_md_words(md_result_t *result, md_event_prog_t which, const char *label,
                         const apr_array_header_t *prog, int code, apr_pool_t *p)
{
    const char *line = apr_array_pstrcat(p, prog, ' ');

    if (!result) return;
    if (code >= 0) md_result_printf(result, APR_EGENERAL, "%s %s failed with exit code %d.", label, line, code);
    else result->status = APR_EGENERAL;       /* it did not run: the detail says why */
    md_result_problem_type(result, which == MD_EVENT_PROG_NOTIFY ? MD_PROBLEM_NOTIFY_CMD : MD_PROBLEM_MESSAGE_CMD);
}

apr_status_t md_event_raise(md_event_outcome_t *poutcome, const md_events_t *ev, const md_event_programs_t *progs,
                            const md_event_t *event, md_result_t *result, apr_pool_t *p)
{
    md_event_prog_t which = md_event_route(progs, event->name);
    apr_array_header_t *argv;
    const char *label;
    apr_interval_time_t timeout;
    apr_status_t rv;
    int code;

    *poutcome = MD_EVENT_NONE;
    if (which == MD_EVENT_PROG_COUNT) return APR_SUCCESS;
    label = (ev && ev->labels[which]) ? ev->labels[which] : GENERIC_LABELS[which];
    if (is_challenge_event(event->name)) {
        timeout = (ev && ev->challenge_timeout) ? ev->challenge_timeout : apr_time_from_sec(300);
    }
    else {
        timeout = (ev && ev->message_timeout) ? ev->message_timeout : apr_time_from_sec(60);
    }
    argv = argv_for(progs, which, event, p);
    rv = run_judged(poutcome, &code, ev, which, call_text(label, argv, progs->argv[which]->nelts, p), argv,
                    event->md_name, event->name, event->env, timeout, result, p);
    if (rv != APR_SUCCESS && (which == MD_EVENT_PROG_MESSAGE || which == MD_EVENT_PROG_NOTIFY)) {
        mod_md_words(result, which, label, progs->argv[which], code, p);
    }
    return rv;
}

apr_status_t md_event_run(md_event_outcome_t *poutcome, const md_events_t *ev, const char *label,
                          const apr_array_header_t *argv, const char *md_name, const char *event,
                          apr_table_t *env, apr_interval_time_t timeout, md_result_t *result, apr_pool_t *p)
{
    int code;

    return run_judged(poutcome, &code, ev, MD_EVENT_PROG_HANDLER, call_text(label, argv, 1, p), argv, md_name,
                      event, env, timeout, result, p);
}

apr_array_header_t *md_event_argv(const char *line, apr_pool_t *p)
{
    apr_array_header_t *argv;
    char **words = NULL;
    int i;

    if (!line || apr_tokenize_to_argv(line, &words, p) != APR_SUCCESS || !words || !words[0]) return NULL;
    argv = apr_array_make(p, 4, sizeof(const char *));
    for (i = 0; words[i]; ++i) APR_ARRAY_PUSH(argv, const char *) = words[i];
    return argv;
}
