/* The mdomain command's output: JSON documents, human lines, and errors in either form. */
#include <stdarg.h>
#include <apr_strings.h>

#include "cli.h"

void cli_json_out(md_cli_t *cli, const md_json_t *json)
{
    const char *text = md_json_writep(json, MD_JSON_FMT_INDENT, cli->p);

    fputs(text ? text : "{}", stdout);
    fputc('\n', stdout);
}

void cli_say(md_cli_t *cli, const char *fmt, ...)
{
    va_list ap;

    if (cli->json || cli->quiet) return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

int cli_fail(md_cli_t *cli, int exit_code, const md_result_t *result)
{
    md_json_t *json;
    const char *text = md_result_text(result, cli->p);

    if (cli->json) {
        json = md_json_create(cli->p);
        md_json_sets("error", json, "status", NULL);
        md_json_sets(text, json, "detail", NULL);
        if (result->problem) md_json_sets(result->problem, json, "problem", NULL);
        if (result->activity) md_json_sets(result->activity, json, "activity", NULL);
        if (result->subproblems) md_json_setj(result->subproblems, json, "subproblems", NULL);
        cli_json_out(cli, json);
    }
    fprintf(stderr, "mdomain: %s\n", text);
    return exit_code;
}

int cli_failf(md_cli_t *cli, int exit_code, const char *fmt, ...)
{
    md_result_t *result = md_result_make(cli->p);
    va_list ap;

    va_start(ap, fmt);
    md_result_set(result, APR_EINVAL, apr_pvsprintf(cli->p, fmt, ap));
    va_end(ap);
    return cli_fail(cli, exit_code, result);
}

int cli_store_open(md_cli_t *cli)
{
    md_result_t *result = md_result_make(cli->p);

    if (md_store_fs_open(&cli->store, cli->store_dir, result, cli->p) != APR_SUCCESS) {
        if (!result->detail) {
            md_result_printf(result, result->status, "cannot open the store at %s", cli->store_dir);
        }
        return cli_fail(cli, CLI_EXIT_ERROR, result);
    }
    return CLI_EXIT_OK;
}
