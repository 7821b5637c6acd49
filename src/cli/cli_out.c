/* The mdomain command's output: JSON documents, human lines, and errors in either form. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <apr_file_info.h>
#include <apr_strings.h>

#include "cli.h"

const md_hints_t cli_hints = { {
    [MD_HINT_TERMS] = "read them, then agree with '-t accepted' (mdomain update NAME -t accepted, kept with the MD; or "
                      "mdomain -t accepted drive NAME, for this run)",
    [MD_HINT_EAB] = "give them to the MD: mdomain update NAME --eab KID HMAC (or --eab-file FILE)",
    [MD_HINT_RESPONDER] = "give drive a way to answer: --http-port PORT or --webroot DIR (http-01), --tls-port PORT "
                          "(tls-alpn-01), or add the MD with --dns-cmd PROGRAM (dns-01) or --event-handler PROGRAM (dns-01, "
                          "and http-01 on another server)",
    [MD_HINT_CA_FILE] = "if the CA's certificate comes from a private root, trust that root with --ca-file PEM "
                        "(mdomain update NAME --ca-file PEM, kept with the MD; or mdomain --ca-file PEM drive NAME, for "
                        "this run)",
} };

void cli_json_out(md_cli_t *cli, const md_json_t *json)
{
    const char *text = md_json_writep(json, MD_JSON_FMT_INDENT, cli->p);

    fputs(text ? text : "{}", stdout);
    fputc('\n', stdout);
}

void cli_say(md_cli_t *cli, const char *fmt, ...)
{
    apr_pool_t *tmp = NULL;
    const char *line;
    char *raw = NULL;
    va_list ap;
    int n;

    if (cli->json || cli->quiet) return;
    va_start(ap, fmt);
    n = vasprintf(&raw, fmt, ap);           /* libc's formats (%lld), as printf */
    va_end(ap);
    if (n < 0) return;
    if (apr_pool_create(&tmp, NULL) != APR_SUCCESS) {     /* drive's workers print from their threads */
        free(raw);
        return;
    }
    /* what came from a file or the CA never moves the cursor or forges a line (issue 15) */
    line = md_result_clean_text(raw, (apr_size_t)-1, tmp);
    free(raw);
    flockfile(stdout);      /* one whole line, also when drive's workers print at the same time */
    fputs(line, stdout);
    fputc('\n', stdout);
    funlockfile(stdout);
    apr_pool_destroy(tmp);
}

int cli_fail(md_cli_t *cli, int exit_code, const md_result_t *result)
{
    md_json_t *json;
    md_result_t worded = *result;
    const char *text;

    md_result_hint_apply(&worded, &cli_hints);
    text = md_result_text(&worded, cli->p);

    if (cli->json) {
        json = md_json_create(cli->p);
        md_json_sets("error", json, "status", NULL);
        md_json_sets(text, json, "detail", NULL);
        if (result->problem) md_json_sets(result->problem, json, "problem", NULL);
        if (result->activity) md_json_sets(result->activity, json, "activity", NULL);
        if (result->subproblems) md_json_setj(result->subproblems, json, "subproblems", NULL);
        cli_json_out(cli, json);
    }
    fprintf(stderr, "mdomain: %s\n", md_result_clean_text(text, (apr_size_t)-1, cli->p));
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
    char *abs = NULL;

    /* absolute: programs get it as MD_STORE, and may run in another directory */
    if (apr_filepath_merge(&abs, NULL, cli->store_dir, APR_FILEPATH_NOTRELATIVE, cli->p) == APR_SUCCESS) {
        cli->store_dir = abs;
    }
    if (md_store_fs_open(&cli->store, cli->store_dir, result, cli->p) != APR_SUCCESS) {
        if (!result->detail) {
            md_result_printf(result, result->status, "cannot open the store at %s", cli->store_dir);
        }
        return cli_fail(cli, CLI_EXIT_ERROR, result);
    }
    return CLI_EXIT_OK;
}
