/* The apply verb: the store brought in line with a domains file (mod_md's directives) by the registry; the file's
 * errors and warnings with FILE:LINE, then one line (or JSON object) per MD saying what was (or would be) done. */
#include <string.h>
#include <apr_strings.h>

#include "md_conf_file.h"
#include "md_reg.h"
#include "md_reg_update.h"
#include "cli.h"

static const char *joined(md_cli_t *cli, const apr_array_header_t *a)
{
    const char *s = "";
    int i;

    for (i = 0; a && i < a->nelts; ++i) s = apr_pstrcat(cli->p, s, i ? ", " : "", APR_ARRAY_IDX(a, i, const char *), NULL);
    return s;
}

static void say_item(md_cli_t *cli, const md_reg_apply_item_t *item)
{
    const char *from = item->renamed_from ? apr_pstrcat(cli->p, " (takes over the stored MD ", item->renamed_from,
                                                        ")", NULL) : "";
    const char *renew = item->renew ? "; the next drive obtains its certificates" : "";

    if (!strcmp(item->action, "add")) cli_say(cli, "%s: add (%s)%s", item->name, item->where, renew);
    else if (!strcmp(item->action, "update")) {
        cli_say(cli, "%s: update%s%s%s%s", item->name, item->changed->nelts ? ": " : "", joined(cli, item->changed),
                from, renew);
    }
    else if (!strcmp(item->action, "unchanged")) cli_say(cli, "%s: unchanged", item->name);
    else if (!strcmp(item->action, "unlisted")) {
        cli_say(cli, "%s: unlisted (not in the file; kept, apply --prune removes it)", item->name);
    }
    else cli_say(cli, "%s: remove%s%s%s", item->name, item->archived_as ? " (its files are in archive/" : "",
                 item->archived_as ? item->archived_as : "", item->archived_as ? ")" : "");
}

static md_json_t *item_json(md_cli_t *cli, const md_reg_apply_item_t *item)
{
    md_json_t *j = md_json_create(cli->p);

    md_json_sets(item->name, j, "name", NULL);
    md_json_sets(item->action, j, "action", NULL);
    if (item->where) md_json_sets(item->where, j, "where", NULL);
    if (item->changed) md_json_setsa(item->changed, j, "changed", NULL);
    if (item->renamed_from) md_json_sets(item->renamed_from, j, "renamed-from", NULL);
    if (item->archived_as) md_json_sets(item->archived_as, j, "archived-as", NULL);
    if (strcmp(item->action, "unlisted") && strcmp(item->action, "remove")) md_json_setb(item->renew, j, "renew", NULL);
    return j;
}

static void report(md_cli_t *cli, const md_conf_file_t *cf, apr_array_header_t *items)
{
    static const char *const actions[] = { "add", "update", "unchanged", "unlisted", "remove" };
    static const char *const words[] = { "added", "updated", "unchanged", "unlisted", "removed" };
    const char *summary = "";
    md_json_t *json;
    size_t k;
    int i, n;

    if (cli->json) {
        json = md_json_create(cli->p);
        md_json_sets(cf->path, json, "file", NULL);
        md_json_setb(cli->dry_run, json, "dry-run", NULL);
        md_json_setsa(cf->warnings, json, "warnings", NULL);
        for (i = 0; i < items->nelts; ++i) {
            md_json_addj(item_json(cli, APR_ARRAY_IDX(items, i, const md_reg_apply_item_t *)), json, "changes", NULL);
        }
        cli_json_out(cli, json);
        return;
    }
    for (i = 0; i < items->nelts; ++i) say_item(cli, APR_ARRAY_IDX(items, i, const md_reg_apply_item_t *));
    for (k = 0; k < sizeof(actions) / sizeof(actions[0]); ++k) {
        for (n = 0, i = 0; i < items->nelts; ++i) n += !strcmp(APR_ARRAY_IDX(items, i, md_reg_apply_item_t *)->action,
                                                               actions[k]);
        if (n) summary = apr_psprintf(cli->p, "%s%s%d %s", summary, *summary ? ", " : "", n, words[k]);
    }
    cli_say(cli, "%s: %s%s", cf->path, *summary ? summary : "no managed domains",
            cli->dry_run ? " (dry run: nothing changed)" : "");
}

int cli_verb_apply(md_cli_t *cli)
{
    md_result_t *result = md_result_make(cli->p);
    apr_array_header_t *items = NULL;
    md_conf_file_t *cf = NULL;
    const char *err = NULL;
    int i, rc;

    if (cli->args->nelts != 1) return cli_failf(cli, CLI_EXIT_USAGE, "apply: give one FILE");
    if (md_conf_file_read(&cf, APR_ARRAY_IDX(cli->args, 0, const char *), &err, cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "apply: %s", err);
    }
    for (i = 0; !cli->quiet && i < cf->warnings->nelts; ++i) {
        fprintf(stderr, "mdomain: warning: %s\n", APR_ARRAY_IDX(cf->warnings, i, const char *));
    }
    if (cf->errors->nelts) {
        return cli_failf(cli, CLI_EXIT_USAGE, "apply: %d error(s), nothing changed:\n%s", cf->errors->nelts,
                         apr_array_pstrcat(cli->p, cf->errors, '\n'));
    }
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (md_reg_apply(&items, md_reg_make(cli->store, NULL, cli->p), cf->mds, cli->dry_run, cli->prune, result,
                     cli->p) != APR_SUCCESS) {
        if (result->status == APR_EINVAL) {
            return cli_failf(cli, CLI_EXIT_USAGE, "apply: nothing changed:\n%s", md_result_text(result, cli->p));
        }
        return cli_fail(cli, CLI_EXIT_ERROR, result);
    }
    report(cli, cf, items);
    return CLI_EXIT_OK;
}
