/* The mdomain command: entry point and the table of verbs. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>

#include "cli.h"

static const cli_verb_t verbs[] = {
    { "add", cli_verb_add, "NAME [NAME...]", "a new managed domain" },
    { "update", cli_verb_update, "NAME [--domains NAME...]", "change a managed domain in place" },
    { "apply", cli_verb_apply, "FILE", "bring the store in line with a domains file" },
    { "list", cli_verb_list, "", "all managed domains" },
    { "show", cli_verb_show, "NAME", "one managed domain" },
    { "drive", cli_verb_drive, "[NAME...]", "obtain or renew what is due" },
    { "renew", cli_verb_drive, "[NAME...]", "alias of drive" },
    { "revoke", cli_verb_revoke, "NAME", "revoke the certificates of a managed domain" },
    { "remove", cli_verb_remove, "NAME", "forget a managed domain" },
    { "account", cli_verb_account, "show|update|rollover|deactivate [ID]", "ACME accounts" },
};

int main(int argc, char **argv)
{
    md_cli_t cli;
    size_t i;
    int rc;

    apr_initialize();
    memset(&cli, 0, sizeof(cli));
    apr_pool_create(&cli.p, NULL);
    rc = cli_parse(&cli, argc, argv);
    if (rc >= 0) goto leave;
    rc = CLI_EXIT_USAGE;
    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); ++i) {
        if (!strcmp(verbs[i].name, cli.verb)) {
            rc = verbs[i].fn(&cli);
            goto leave;
        }
    }
    fprintf(stderr, "mdomain: unknown verb '%s'\n", cli.verb);
    cli_usage(stderr);
leave:
    fflush(stdout);
    apr_pool_destroy(cli.p);
    apr_terminate();
    return rc;
}
