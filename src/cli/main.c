/* The mdomain command: entry point (as a2md when called so, or with a2md as its first argument) and the table of
 * verbs. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>

#include "a2md.h"
#include "cli.h"

/* Reached when options stand before "a2md": a2md's own options differ (-C, -p), so it must come first. */
static int cli_verb_a2md(md_cli_t *cli)
{
    return cli_failf(cli, CLI_EXIT_USAGE, "a2md: give it as the first argument, its options after it: mdomain a2md "
                     "[-a URL] [-d DIR] [-C FILE] [-p URL] [-j] [-q] [-v] [-t URL] COMMAND [ARGS]");
}

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
    { "a2md", cli_verb_a2md, "[a2md options] COMMAND [ARGS]", "mod_md's a2md command line" },
    { "account", cli_verb_account, "list|show|update|rollover|deactivate|restore [ID]", "ACME accounts" },
};

int main(int argc, char **argv)
{
    md_cli_t cli;
    const char *base;
    size_t i;
    int rc;

    apr_initialize();
    memset(&cli, 0, sizeof(cli));
    apr_pool_create(&cli.p, NULL);
    base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (!strcmp(base, "a2md")) {
        rc = a2md_main(&cli, argc, argv);
        goto leave;
    }
    if (argc > 1 && !strcmp(argv[1], "a2md")) {
        rc = a2md_main(&cli, argc - 1, argv + 1);
        goto leave;
    }
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
