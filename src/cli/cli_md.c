/* The verbs about managed domains: add, list, show, remove. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_encode.h"
#include "md_event.h"
#include "md_exec.h"
#include "md_reg.h"
#include "md_reg_update.h"
#include "cli.h"

/* The MD in the store that already holds one of names, and that name. */
static const char *name_taken(const char **pmd, md_cli_t *cli, const md_t *md)
{
    return md_names_holder(pmd, cli->store, md, cli->p);
}

int cli_verb_add(md_cli_t *cli)
{
    apr_array_header_t *names = apr_array_make(cli->p, cli->args->nelts, sizeof(const char *));
    const char *why, *other = NULL, *common, *err = NULL;
    md_reg_change_t ch;
    md_t *md;
    int i, rc, wildcard = 0;

    if (cli->args->nelts == 0) return cli_failf(cli, CLI_EXIT_USAGE, "add: give at least one NAME");
    for (i = 0; i < cli->args->nelts; ++i) {
        const char *name = apr_pstrdup(cli->p, APR_ARRAY_IDX(cli->args, i, const char *));
        for (char *c = (char *)name; *c; ++c) *c = (char)tolower((unsigned char)*c);
        if ((why = md_domain_problem(name)) != NULL) return cli_failf(cli, CLI_EXIT_USAGE, "add: '%s': %s", name, why);
        if (!strncmp(name, "*.", 2)) wildcard = 1;
        APR_ARRAY_PUSH(names, const char *) = name;
    }
    md = md_create(names, cli->p);
    APR_ARRAY_PUSH(md->ca_urls, const char *) = md_acme_ca_url_for("letsencrypt");     /* without -a */
    if ((rc = cli_change_from_options(&ch, cli)) != CLI_EXIT_OK) return rc;
    if (wildcard && !ch.dns01_cmd && !ch.event_handler) {
        return cli_failf(cli, CLI_EXIT_USAGE, "add: wildcard names are validated with dns-01 only: give --dns-cmd "
                         "or --event-handler");
    }
    if (!!ch.install_chain != !!ch.install_key) {
        return cli_failf(cli, CLI_EXIT_USAGE, "add: --install-chain and --install-key go together");
    }
    if (md_reg_change_md(md, &ch, &err, cli->p) != APR_SUCCESS) return cli_failf(cli, CLI_EXIT_USAGE, "add: %s", err);
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (md_store_exists(cli->store, MD_SG_DOMAINS, md->name, "md.json", cli->p)) {
        return cli_failf(cli, CLI_EXIT_ERROR, "add: an MD named '%s' exists already", md->name);
    }
    if ((common = name_taken(&other, cli, md)) != NULL) {
        return cli_failf(cli, CLI_EXIT_ERROR, "add: '%s' belongs to the MD '%s' already", common, other);
    }
    md_reg_state_record(md_reg_make(cli->store, NULL, cli->p), md, NULL, cli->p);     /* md.json's state, as mod_md's */
    if (md_save(md, cli->store, MD_SG_DOMAINS, 1, NULL, cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "add: cannot save %s in %s", md->name, cli->store_dir);
    }
    md_names_note(cli->store, md, cli->p);
    if (cli->json) cli_json_out(cli, cli_md_status(cli, md->name, NULL, cli->p));
    cli_say(cli, "added %s with %d name(s), CA %s", md->name, md->domains->nelts,
            APR_ARRAY_IDX(md->ca_urls, 0, const char *));
    return CLI_EXIT_OK;
}
