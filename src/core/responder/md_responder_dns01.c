/* The dns-01 responder: an external program sets up and tears down the _acme-challenge TXT records. */
#include <string.h>
#include <apr_strings.h>

#include "md_exec.h"
#include "md_jws.h"
#include "md_result.h"
#include "md_responder.h"

#ifndef MD_VERSION
#define MD_VERSION "unknown"
#endif

#define DNS01_OUTPUT_LINES  5
#define DNS01_OUTPUT_CHARS  512

typedef struct {
    apr_array_header_t *argv;  /* the program and its fixed arguments */
    int version;               /* 1: teardown DOMAIN; 2: teardown DOMAIN TXT */
    const char *store_dir;
    apr_interval_time_t timeout;
} dns01_t;

static int dns01_supports(void *baton, const char *type)
{
    (void)baton;
    return type && !strcmp(type, "dns-01");
}

/* The first lines of a program's output, joined with " | ", for a one-line detail. */
static const char *first_lines(const char *out, apr_pool_t *p)
{
    char *buf = apr_pstrndup(p, out ? out : "", DNS01_OUTPUT_CHARS), *line, *last = NULL;
    const char *joined = "";
    int n = 0;

    for (line = apr_strtok(buf, "\r\n", &last); line && n < DNS01_OUTPUT_LINES;
         line = apr_strtok(NULL, "\r\n", &last)) {
        joined = n++ ? apr_pstrcat(p, joined, " | ", line, NULL) : line;
    }
    if (!*joined) return "no output";
    return joined;
}

static apr_table_t *dns01_env(const dns01_t *d, const md_challenge_setup_t *ch, apr_pool_t *p)
{
    apr_table_t *env = apr_table_make(p, 3);

    apr_table_set(env, "MD_VERSION", MD_VERSION);
    if (ch->md_name) apr_table_set(env, "MD_MDOMAIN", ch->md_name);
    if (d->store_dir) apr_table_set(env, "MD_STORE", d->store_dir);
    return env;
}

/* Run "PROGRAM [args] EVENT DOMAIN [TXT]" and judge its exit code. */
static apr_status_t dns01_call(const dns01_t *d, const char *event, const md_challenge_setup_t *ch,
                               int with_txt, md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *argv = apr_array_copy(p, d->argv);
    const char *output, *prog = APR_ARRAY_IDX(d->argv, 0, const char *);
    md_exec_outcome_t outcome;
    apr_status_t rv;
    int code;

    if (!ch->domain || !*ch->domain || (with_txt && !ch->key_authz)) {
        md_result_set(result, APR_EINVAL, "dns-01: no domain or key authorization");
        return APR_EINVAL;
    }
    APR_ARRAY_PUSH(argv, const char *) = event;
    APR_ARRAY_PUSH(argv, const char *) = ch->domain;
    if (with_txt) APR_ARRAY_PUSH(argv, const char *) = md_jws_dns01_txt(ch->key_authz, p);
    rv = md_exec_run(&code, &output, argv, dns01_env(d, ch, p), d->timeout, result, p);
    if (rv != APR_SUCCESS) return rv;
    outcome = md_exec_outcome(code);
    switch (outcome) {
    case MD_EXEC_OK:
        md_result_set(result, APR_SUCCESS, NULL);
        return APR_SUCCESS;
    case MD_EXEC_RETRY:
    case MD_EXEC_NEEDS_POLL:
        md_result_printf(result, APR_EAGAIN, "dns-01 %s %s: %s exited with %d (%s): %s", event, ch->domain,
                         prog, code, md_exec_outcome_str(outcome), first_lines(output, p));
        return APR_EAGAIN;
    default:
        md_result_printf(result, APR_EGENERAL, "dns-01 %s %s: %s failed with exit code %d: %s", event,
                         ch->domain, prog, code, first_lines(output, p));
        return APR_EGENERAL;
    }
}

static apr_status_t dns01_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                apr_pool_t *p)
{
    return dns01_call(baton, "setup", ch, 1, result, p);
}

static apr_status_t dns01_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                   apr_pool_t *p)
{
    const dns01_t *d = baton;

    return dns01_call(d, "teardown", ch, d->version >= 2, result, p);
}

apr_status_t md_responder_dns01_cmd(md_responder_t **presp, const apr_array_header_t *argv, int version,
                                    const char *store_dir, apr_interval_time_t timeout, apr_pool_t *p)
{
    dns01_t *d;
    md_responder_t *r;
    int i;

    *presp = NULL;
    if (!argv || argv->nelts < 1 || !APR_ARRAY_IDX(argv, 0, const char *)) return APR_EINVAL;
    if (version == 0) version = 1;   /* the default, as MDChallengeDns01Version */
    if (version != 1 && version != 2) return APR_EINVAL;
    d = apr_pcalloc(p, sizeof(*d));
    d->argv = apr_array_make(p, argv->nelts + 3, sizeof(const char *));
    for (i = 0; i < argv->nelts; ++i) {
        APR_ARRAY_PUSH(d->argv, const char *) = apr_pstrdup(p, APR_ARRAY_IDX(argv, i, const char *));
    }
    d->version = version;
    d->store_dir = store_dir ? apr_pstrdup(p, store_dir) : NULL;
    d->timeout = timeout;
    r = apr_pcalloc(p, sizeof(*r));
    r->name = "dns-01 program";
    r->supports = dns01_supports;
    r->setup = dns01_setup;
    r->teardown = dns01_teardown;
    r->baton = d;
    *presp = r;
    return APR_SUCCESS;
}
