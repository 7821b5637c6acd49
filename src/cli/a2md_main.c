/* a2md's entry: its global options (mod_md's), the table of its verbs, and its output envelope. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "a2md.h"

static const struct option a2md_opts[] = {
    { "acme", required_argument, NULL, 'a' },
    { "dir", required_argument, NULL, 'd' },
    { "cafile", required_argument, NULL, 'C' },
    { "proxy", required_argument, NULL, 'p' },
    { "json", no_argument, NULL, 'j' },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "terms", required_argument, NULL, 't' },
    { "version", no_argument, NULL, 'V' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static const struct { const char *name; int (*fn)(a2md_t *a); } verbs[] = {
    { "acme", a2md_acme }, { "add", a2md_add }, { "update", a2md_update }, { "drive", a2md_drive },
    { "list", a2md_list }, { "store", a2md_store },
};

static void usage(FILE *out, const char *name)
{
    fprintf(out, "usage: %s [options] cmd [cmd options] [args]\n"
            "\tShow and manipulate Apache Managed Domains (mod_md's a2md, on mdomain's store)\n"
            "  with the following options:\n"
            "  -a | --acme    arg\tthe url of the ACME server directory (or letsencrypt, ...)\n"
            "  -C | --cafile  arg\tfile with the root certificates trusted for the ACME server\n"
            "  -d | --dir     arg\tdirectory for file data (default $MDOMAIN_STORE or /var/lib/mdomain)\n"
            "  -h | --help    \tprint usage information\n"
            "  -j | --json    \tproduce json output\n"
            "  -p | --proxy   arg\tuse the HTTP proxy url\n"
            "  -q | --quiet   \tproduce less output\n"
            "  -t | --terms   arg\tyou agree to the terms of services (url)\n"
            "  -v | --verbose \tproduce more output\n"
            "  -V | --version \tprint version\n"
            "  using one of the following commands:\n"
            "  \tacme newreg contact-uri [contact-uri...] | delreg account | agree account | validate account\n"
            "  \t\tplay with the ACME server\n"
            "  \tadd domain [domain...]\n"
            "  \t\tAdds a new managed domain. Must not overlap with existing domains.\n"
            "  \tupdate name [ 'aspect' args ]\n"
            "  \t\tupdate a managed domain's properties, where 'aspect'\n"
            "  \t\tis one of: 'domains', 'ca', 'account', 'contacts' or 'agreement'\n"
            "  \tdrive [-f|--force] [-r|--reset] [md...]\n"
            "  \t\tdrive all or the mentioned managed domains toward completeness\n"
            "  \tlist\n"
            "  \t\tlist all managed domains\n"
            "  \tstore add domain... | remove [-f|--force] name... | list | update name [aspect args]\n"
            "  \t\tmanipulate the MD store\n", name);
}

static int parse(a2md_t *a, int argc, char **argv)
{
    md_cli_t *cli = a->cli;
    int c;

    optind = 0;        /* GNU getopt: start over (mdomain a2md ... comes here after nothing was parsed) */
    opterr = 1;
    while ((c = getopt_long(argc, argv, "+a:d:C:p:jqvt:Vh", a2md_opts, NULL)) != -1) {
        switch (c) {
        case 'a': APR_ARRAY_PUSH(cli->cas, const char *) = optarg; break;
        case 'd': cli->store_dir = optarg; break;
        case 'C': cli->ca_file = optarg; break;
        case 'p': cli->proxy = optarg; break;
        case 'j': cli->json = 1; break;
        case 'q': cli->quiet = 1; break;
        case 'v': cli->verbose = 1; break;
        case 't': cli->terms = optarg; break;
        case 'V': printf("a2md (mdomain) %s\n", MD_VERSION); return CLI_EXIT_OK;
        case 'h': usage(stdout, "a2md"); return CLI_EXIT_OK;
        default: usage(stderr, "a2md"); return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "a2md: no command given\n");
        usage(stderr, "a2md");
        return CLI_EXIT_USAGE;
    }
    if (!cli->store_dir) cli->store_dir = getenv("MDOMAIN_STORE");
    if (!cli->store_dir || !*cli->store_dir) cli->store_dir = "/var/lib/mdomain";
    cli->verb = argv[optind];
    a->argc = argc - optind - 1;
    a->argv = (const char *const *)argv + optind + 1;
    return -1;
}

int a2md_main(md_cli_t *cli, int argc, char **argv)
{
    a2md_t a;
    size_t i;
    int rc;

    memset(&a, 0, sizeof(a));
    a.cli = cli;
    a.output = md_json_create_array(cli->p);
    cli->contacts = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->cas = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->args = apr_array_make(cli->p, 4, sizeof(const char *));
    if ((rc = parse(&a, argc, argv)) >= 0) return rc;
    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); ++i) {
        if (!strcmp(verbs[i].name, cli->verb)) return verbs[i].fn(&a);
    }
    fprintf(stderr, "a2md: unknown command '%s'\n", cli->verb);
    usage(stderr, "a2md");
    return CLI_EXIT_USAGE;
}

int a2md_done(a2md_t *a, apr_status_t status, const char *description, int exit_code)
{
    md_json_t *env = md_json_create(a->cli->p);
    const char *text;

    if (a->cli->json) {
        md_json_setl(status, env, "status", NULL);
        if (description) md_json_sets(description, env, "description", NULL);
        md_json_setj(a->output, env, "output", NULL);
        text = md_json_writep(env, MD_JSON_FMT_INDENT, a->cli->p);
        fputs(text ? text : "{}", stdout);
        fputc('\n', stdout);
    }
    if (description) fprintf(stderr, "a2md: %s\n", description);
    return exit_code;
}

int a2md_failf(a2md_t *a, apr_status_t status, int exit_code, const char *fmt, ...)
{
    const char *text;
    va_list ap;

    va_start(ap, fmt);
    text = apr_pvsprintf(a->cli->p, fmt, ap);
    va_end(ap);
    return a2md_done(a, status, text, exit_code);
}

void a2md_say(a2md_t *a, const char *fmt, ...)
{
    va_list ap;

    if (a->cli->json || a->cli->quiet) return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

void a2md_out_md(a2md_t *a, const char *name)
{
    void *json = NULL;
    md_t *md = NULL;

    if (md_store_load(&json, a->cli->store, MD_SG_DOMAINS, name, "md.json", MD_SV_JSON, NULL, a->cli->p)
        != APR_SUCCESS) {
        return;
    }
    md_json_addj(json, a->output, NULL);
    if (md_from_json(&md, json, NULL, a->cli->p) == APR_SUCCESS) {
        a2md_say(a, "%s: %s, domains: %s, ca: %s%s%s", md->name, md_state_str(md->state),
                 apr_array_pstrcat(a->cli->p, md->domains, ' '),
                 md->ca_urls->nelts ? APR_ARRAY_IDX(md->ca_urls, 0, const char *) : "-",
                 md->ca_account ? ", account: " : "", md->ca_account ? md->ca_account : "");
    }
}

int a2md_flags(a2md_t *a, const char *verb, const char *const *names, int *const *values)
{
    const char *arg;
    int i, k, found;

    while (a->argc > 0 && a->argv[0][0] == '-' && a->argv[0][1]) {
        arg = a->argv[0];
        --a->argc;
        ++a->argv;
        if (!strcmp(arg, "--")) break;
        for (k = 1, found = 0; arg[1] != '-' && arg[k]; ++k, found = 0) {        /* -f, -fr */
            for (i = 0; names[i]; ++i) {
                if (names[i][0] == arg[k]) *values[i] = found = 1;
            }
            if (!found) return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "%s: unknown option -%c", verb, arg[k]);
        }
        if (arg[1] != '-') continue;
        for (i = 0, found = 0; names[i]; ++i) {                              /* --force */
            if (!strcmp(names[i] + 2, arg + 2)) *values[i] = found = 1;
        }
        if (!found) return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "%s: unknown option %s", verb, arg);
    }
    return -1;
}
