/* The update verb: an MD changed in place by the registry (names, CA, account settings, keys, programs, windows,
 * installation), its certificates and state kept; the output says what changed and whether the next drive renews. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_reg.h"
#include "md_reg_update.h"
#include "cli.h"

/* What update prints: the MD's status, what changed, whether its certificates still cover it. */
static void report(md_cli_t *cli, const md_reg_update_t *upd)
{
    md_json_t *json;
    const char *what;
    int i;

    if (cli->json) {
        json = cli_md_status(cli, upd->md->name, NULL, cli->p);
        md_json_setsa(upd->changed, json, "changed", NULL);
        cli_json_out(cli, json);
        return;
    }
    if (upd->changed->nelts == 0) {
        cli_say(cli, "%s: nothing changed", upd->md->name);
        return;
    }
    what = "";
    for (i = 0; i < upd->changed->nelts; ++i) {
        what = apr_pstrcat(cli->p, what, i ? ", " : "", APR_ARRAY_IDX(upd->changed, i, const char *), NULL);
    }
    cli_say(cli, "updated %s: %s%s", upd->md->name, what,
            upd->renew ? " (its certificates do not cover it: the next drive renews)" : "");
}

int cli_verb_update(md_cli_t *cli)
{
    md_result_t *result = md_result_make(cli->p);
    apr_array_header_t *domains = NULL;
    md_reg_update_t *upd = NULL;
    md_reg_change_t ch;
    const char *name;
    md_t *stored = NULL;
    int i, rc;

    if (cli->args->nelts < 1) return cli_failf(cli, CLI_EXIT_USAGE, "update: give the NAME of the MD");
    if (cli->args->nelts > 1 && !cli->domains_given) {
        return cli_failf(cli, CLI_EXIT_USAGE, "update: one NAME only (new names go after --domains, or with "
                         "--add-domain)");
    }
    if (cli->domains_given) {
        if (cli->args->nelts < 2) return cli_failf(cli, CLI_EXIT_USAGE, "update: --domains needs the new names");
        domains = apr_array_make(cli->p, cli->args->nelts, sizeof(const char *));
        for (i = 1; i < cli->args->nelts; ++i) {
            APR_ARRAY_PUSH(domains, const char *) = APR_ARRAY_IDX(cli->args, i, const char *);
        }
    }
    name = APR_ARRAY_IDX(cli->args, 0, const char *);
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (cli->challenge_delays->nelts) {         /* --challenge-delay amends the delays the MD has */
        if (md_load(&stored, cli->store, MD_SG_DOMAINS, name, result, cli->p) != APR_SUCCESS) {
            return cli_fail(cli, CLI_EXIT_ERROR, result);
        }
        cli->base_delays = &stored->challenge_delays;
    }
    if ((rc = cli_change_from_options(&ch, cli)) != CLI_EXIT_OK) return rc;
    ch.domains = domains;
    ch.add_domains = cli->add_domains->nelts ? cli->add_domains : NULL;
    ch.remove_domains = cli->remove_domains->nelts ? cli->remove_domains : NULL;
    if (md_reg_update(&upd, md_reg_make(cli->store, NULL, cli->p), name, &ch, NULL, 0, result, cli->p)
        != APR_SUCCESS) {
        return cli_fail(cli, result->status == APR_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_ERROR, result);
    }
    report(cli, upd);
    return CLI_EXIT_OK;
}
