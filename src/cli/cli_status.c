/* The status of managed domains as JSON and as text (list, show) from the registry's model, and remove. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_reg.h"
#include "md_renew.h"
#include "md_time.h"
#include "cli.h"

md_json_t *cli_md_status(md_cli_t *cli, const char *name, const char **pproblem, apr_pool_t *p)
{
    md_reg_state_opts_t opts = { NULL, 0, 1 };
    md_result_t *result = md_result_make(p);
    md_reg_t *reg = md_reg_make(cli->store, NULL, p);
    apr_array_header_t *names;
    md_reg_state_t *st;

    if (md_reg_load_state(&st, reg, name, &opts, result, p) != APR_SUCCESS) {
        names = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(names, const char *) = name;
        if (pproblem) *pproblem = md_result_text(result, p);
        return md_reg_status_error(md_create(names, p), md_result_text(result, p), p);
    }
    if (pproblem) *pproblem = st->file_problem;
    return md_reg_status(reg, st, NULL, p);
}

/* An HTTP date of the model (at k1.k2.k3; k2 and k3 may be NULL) as RFC 3339, for people; "?" when missing. */
static const char *when3(const md_json_t *json, const char *k1, const char *k2, const char *k3, apr_pool_t *p)
{
    const char *s = md_json_gets(json, k1, k2, k3, NULL);
    apr_time_t t = 0;

    if (!s || md_time_parse_http(&t, s) != APR_SUCCESS) return "?";
    return md_time_print_rfc3339(t, p);
}

static const char *when(const md_json_t *json, const char *k1, const char *k2, apr_pool_t *p)
{
    return when3(json, k1, k2, NULL, p);
}

static int say_cert(void *baton, const char *key, md_json_t *cert)
{
    md_cli_t *cli = baton;

    if (!strcmp(key, "valid")) return 1;
    cli_say(cli, "  %-10s valid %s .. %s, serial %s", key, when(cert, "valid", "from", cli->p),
            when(cert, "valid", "until", cli->p), md_json_gets(cert, "serial", NULL));
    if (md_json_has_key(cert, "ocsp", NULL)) {
        cli_say(cli, "  %-10s OCSP %s, valid until %s, renew at %s%s%s", "", md_json_gets(cert, "ocsp", "status", NULL)
                ? md_json_gets(cert, "ocsp", "status", NULL) : "none", when3(cert, "ocsp", "valid", "until", cli->p),
                when3(cert, "ocsp", "renew-at", NULL, cli->p), md_json_gets(cert, "ocsp", "last-error", NULL)
                ? ", last error: " : "", md_json_gets(cert, "ocsp", "last-error", NULL)
                ? md_json_gets(cert, "ocsp", "last-error", NULL) : "");
    }
    if (md_json_has_key(cert, "revocation", NULL)) {
        cli_say(cli, "  %-10s CRL check: %s, checked %s%s%s", "", md_json_gets(cert, "revocation", "status", NULL),
                when3(cert, "revocation", "checked", NULL, cli->p), md_json_gets(cert, "revocation", "error", NULL)
                ? ", error: " : "", md_json_gets(cert, "revocation", "error", NULL)
                ? md_json_gets(cert, "revocation", "error", NULL) : "");
    }
    return 1;
}

static void say_status(md_cli_t *cli, const md_json_t *st, int detailed)
{
    const char *last = md_json_gets(st, "renewal", "last", "detail", NULL);
    long long errors = md_json_getl(st, "renewal", "errors", NULL);
    md_json_t *certs = md_json_getj(st, "cert", NULL);
    const char *due = md_json_getb(st, "renew", NULL) ? "now" : when(st, "renew-at", NULL, cli->p);
    int low;

    if (md_json_getl(st, "state", NULL) == MD_S_ERROR) {      /* md.json cannot be read: nothing else is known */
        cli_say(cli, "%-32s error: %s", md_json_gets(st, "name", NULL), md_json_gets(st, "state-descr", NULL));
        return;
    }
    cli_say(cli, "%-32s %-10s renewal due %s%s", md_json_gets(st, "name", NULL), md_json_gets(st, "state-descr", NULL),
            due, md_json_getb(st, "warn", NULL) ? "  WARNING: expires soon" : "");
    if (detailed) {
        const char *ca = md_json_gets(st, "ca", "url", NULL);
        if (!ca) ca = md_json_gets(st, "ca", "urls", "0", NULL);
        cli_say(cli, "  names: %s", md_json_writep(md_json_getj(st, "domains", NULL), MD_JSON_FMT_COMPACT, cli->p));
        cli_say(cli, "  CA:    %s", ca ? ca : "(none)");
    }
    low = md_json_getb(st, "renew-attempts-low", NULL);
    if (md_json_has_key(st, "renew-attempts-left", NULL) && (detailed || low)) {
        cli_say(cli, "  renew before %s: %lld attempt(s) left%s", when(st, "renew-deadline", NULL, cli->p),
                md_json_getl(st, "renew-attempts-left", NULL), low ? "  WARNING: few left" : "");
    }
    if (certs) md_json_iterkey(say_cert, cli, certs, NULL);
    if (md_json_getb(st, "renewal", "finished", NULL)) cli_say(cli, "  renewed certificates are staged");
    if (errors > 0) {
        cli_say(cli, "  %lld failed attempt(s), next %s: %s", errors, when(st, "renewal", "next-run", cli->p),
                last ? last : "");
    }
}

/* An MD that cannot be read, or has a file that cannot be used: named on stderr (and in --json's "errors"). */
static void md_error(md_cli_t *cli, md_json_t *errors, const char *name, const char *problem)
{
    md_json_t *e = md_json_create(cli->p);

    fprintf(stderr, "mdomain: %s: %s\n", name, problem);
    if (!errors) return;
    md_json_sets(name, e, "name", NULL);
    md_json_sets(problem, e, "detail", NULL);
    md_json_addj(e, errors, NULL);
}

int cli_verb_list(md_cli_t *cli)
{
    md_json_t *out = md_json_create(cli->p), *st, *errors = md_json_create_array(cli->p);
    apr_array_header_t *names;
    const char *name, *problem;
    int i, rc, failed = 0;

    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (md_store_list(&names, cli->store, MD_SG_DOMAINS, "*", cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "cannot list %s/domains", cli->store_dir);
    }
    md_json_sets(MD_VERSION, out, "version", NULL);
    md_json_setl(names->nelts, out, "managed-domains", NULL);
    md_json_setj(md_json_create_array(cli->p), out, "domains", NULL);
    for (i = 0; i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        problem = NULL;
        st = cli_md_status(cli, name, &problem, cli->p);
        md_json_addj(st, out, "domains", NULL);
        say_status(cli, st, 0);
        if (problem) {
            md_error(cli, errors, name, problem);
            failed = 1;
        }
    }
    if (failed) md_json_setj(errors, out, "errors", NULL);
    if (cli->json) cli_json_out(cli, out);
    else if (names->nelts == 0) cli_say(cli, "no managed domains in %s", cli->store_dir);
    return failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int cli_verb_show(md_cli_t *cli)
{
    const char *name, *problem = NULL;
    md_json_t *st;
    int rc;

    if (cli->args->nelts != 1) return cli_failf(cli, CLI_EXIT_USAGE, "show: give one NAME");
    name = APR_ARRAY_IDX(cli->args, 0, const char *);
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (md_name_problem(name) || !md_store_exists(cli->store, MD_SG_DOMAINS, name, NULL, cli->p)) {
        return cli_failf(cli, CLI_EXIT_ERROR, "show: no managed domain '%s' in %s", name, cli->store_dir);
    }
    st = cli_md_status(cli, name, &problem, cli->p);
    if (cli->json) cli_json_out(cli, st);
    else say_status(cli, st, 1);
    if (problem) md_error(cli, NULL, name, problem);
    return problem ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int cli_verb_remove(md_cli_t *cli)
{
    const char *name, *archived = NULL;
    int rc;

    if (cli->args->nelts != 1) return cli_failf(cli, CLI_EXIT_USAGE, "remove: give one NAME");
    name = APR_ARRAY_IDX(cli->args, 0, const char *);
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (md_store_archive(&archived, cli->store, MD_SG_DOMAINS, name, cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "remove: no managed domain '%s' in %s", name, cli->store_dir);
    }
    md_store_purge(cli->store, MD_SG_STAGING, name, cli->p);
    if (cli->json) {
        md_json_t *out = md_json_create(cli->p);
        md_json_sets(name, out, "name", NULL);
        md_json_sets(archived, out, "archived-as", NULL);
        cli_json_out(cli, out);
    }
    cli_say(cli, "removed %s (its files are in archive/%s)", name, archived);
    return CLI_EXIT_OK;
}
