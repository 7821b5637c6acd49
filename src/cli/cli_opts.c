/* The mdomain command's options: one table for global and verb options, which may stand anywhere. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_dns.h"
#include "md_preflight.h"
#include "cli.h"

enum {
    OPT_CA_FILE = 256, OPT_EAB, OPT_EAB_FILE, OPT_KEY, OPT_CHALLENGE, OPT_PROFILE, OPT_DNS_CMD, OPT_FORCE,
    OPT_HTTP_PORT, OPT_TLS_PORT, OPT_LISTEN, OPT_WEBROOT, OPT_REASON, OPT_INSTALL_CHAIN, OPT_INSTALL_KEY,
    OPT_INSTALL_MODE, OPT_INSTALL_CMD, OPT_PREFERRED_CHAIN, OPT_ACCOUNT_KEY, OPT_PROXY, OPT_DNS_VERSION,
    OPT_RETRY_FAILOVER, OPT_CERT_KEY, OPT_PROFILE_MANDATORY, OPT_EVENT_HANDLER, OPT_EVENT_ARG,
    OPT_CHALLENGE_DELAY, OPT_RENEW_WINDOW, OPT_WARN_WINDOW, OPT_DOMAINS, OPT_ADD_DOMAIN, OPT_REMOVE_DOMAIN,
    OPT_DRY_RUN, OPT_PRUNE, OPT_INSTALL_OWNER, OPT_INSTALL_RELOAD, OPT_JOBS, OPT_HERE, OPT_WAIT,
    OPT_INSTALL_OCSP, OPT_OUT, OPT_NO_REVOCATION_CHECK, OPT_PREFLIGHT, OPT_PREFLIGHT_DNS,
};

static const struct option long_opts[] = {
    { "dir", required_argument, NULL, 'd' },
    { "acme", required_argument, NULL, 'a' },
    { "ca-file", required_argument, NULL, OPT_CA_FILE },
    { "terms", required_argument, NULL, 't' },
    { "contact", required_argument, NULL, 'c' },
    { "eab", required_argument, NULL, OPT_EAB },
    { "eab-file", required_argument, NULL, OPT_EAB_FILE },
    { "json", no_argument, NULL, 'j' },
    { "verbose", no_argument, NULL, 'v' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { "key", required_argument, NULL, OPT_KEY },
    { "challenge", required_argument, NULL, OPT_CHALLENGE },
    { "profile", required_argument, NULL, OPT_PROFILE },
    { "dns-cmd", required_argument, NULL, OPT_DNS_CMD },
    { "preferred-chain", required_argument, NULL, OPT_PREFERRED_CHAIN },
    { "force", no_argument, NULL, OPT_FORCE },
    { "here", no_argument, NULL, OPT_HERE },
    { "wait", required_argument, NULL, OPT_WAIT },
    { "http-port", required_argument, NULL, OPT_HTTP_PORT },
    { "tls-port", required_argument, NULL, OPT_TLS_PORT },
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "webroot", required_argument, NULL, OPT_WEBROOT },
    { "reason", required_argument, NULL, OPT_REASON },
    { "install-chain", required_argument, NULL, OPT_INSTALL_CHAIN },
    { "install-key", required_argument, NULL, OPT_INSTALL_KEY },
    { "install-mode", required_argument, NULL, OPT_INSTALL_MODE },
    { "install-cmd", required_argument, NULL, OPT_INSTALL_CMD },
    { "install-owner", required_argument, NULL, OPT_INSTALL_OWNER },
    { "install-reload", required_argument, NULL, OPT_INSTALL_RELOAD },
    { "jobs", required_argument, NULL, OPT_JOBS },
    { "account-key", required_argument, NULL, OPT_ACCOUNT_KEY },
    { "proxy", required_argument, NULL, OPT_PROXY },
    { "dns-version", required_argument, NULL, OPT_DNS_VERSION },
    { "retry-failover", required_argument, NULL, OPT_RETRY_FAILOVER },
    { "cert-key", no_argument, NULL, OPT_CERT_KEY },
    { "profile-mandatory", no_argument, NULL, OPT_PROFILE_MANDATORY },
    { "event-handler", required_argument, NULL, OPT_EVENT_HANDLER },
    { "event-arg", required_argument, NULL, OPT_EVENT_ARG },
    { "challenge-delay", required_argument, NULL, OPT_CHALLENGE_DELAY },
    { "renew-window", required_argument, NULL, OPT_RENEW_WINDOW },
    { "warn-window", required_argument, NULL, OPT_WARN_WINDOW },
    { "domains", no_argument, NULL, OPT_DOMAINS },
    { "add-domain", required_argument, NULL, OPT_ADD_DOMAIN },
    { "remove-domain", required_argument, NULL, OPT_REMOVE_DOMAIN },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "prune", no_argument, NULL, OPT_PRUNE },
    { "install-ocsp", required_argument, NULL, OPT_INSTALL_OCSP },
    { "out", required_argument, NULL, OPT_OUT },
    { "no-revocation-check", no_argument, NULL, OPT_NO_REVOCATION_CHECK },
    { "preflight", required_argument, NULL, OPT_PREFLIGHT },
    { "preflight-dns", required_argument, NULL, OPT_PREFLIGHT_DNS },
    { NULL, 0, NULL, 0 },
};

void cli_usage(FILE *out)
{
    fputs("usage: mdomain [options] VERB [args]\n"
          "\n"
          "Automatic certificate management with ACME (RFC 8555).\n"
          "\n"
          "verbs:\n"
          "  add NAME [NAME...]      a new managed domain (MD) named after its first NAME\n"
          "  update NAME [--domains NAME...]  change an MD in place, keeping its certificates and state\n"
          "  apply FILE              bring the store in line with a domains file (MDomain directives)\n"
          "  list                    all MDs with their state and certificates\n"
          "  show NAME               one MD in detail\n"
          "  drive [NAME...]         obtain or renew what is due (alias: renew); all MDs when none named\n"
          "  revoke NAME             revoke the MD's certificates\n"
          "  ocsp NAME               fetch, verify and store the OCSP response of the MD's certificate\n"
          "  remove NAME             forget an MD (its certificates stay in archive/)\n"
          "  account list|show|update|rollover|deactivate|restore [ID]\n"
          "  a2md [a2md options] COMMAND [ARGS]\n"
          "                          mod_md's a2md (as the first argument; also the a2md link): acme newreg|delreg|\n"
          "                          agree|validate, add, update NAME ASPECT ARGS, drive, list, store add|remove|\n"
          "                          list|update; a2md -h for its options\n"
          "\n"
          "global options:\n"
          "  -d, --dir STORE         the store directory (default $MDOMAIN_STORE or /var/lib/mdomain)\n"
          "  -a, --acme URL|NAME     the CA: a directory URL or letsencrypt, letsencrypt-test, buypass,\n"
          "                          buypass-test; repeat it for CAs to fail over to\n"
          "      --proxy URL         HTTP proxy for talking to the CA\n"
          "      --ca-file PEM       roots trusted for the CA's https\n"
          "  -t, --terms accepted    agree to the CA's terms of service\n"
          "  -c, --contact EMAIL     contact for the account (repeatable)\n"
          "      --eab KID HMAC      external account binding; --eab-file FILE with {\"kid\",\"hmac\"}\n"
          "  -j, --json              JSON output\n"
          "  -v, --verbose           progress messages;  -q, --quiet  errors only\n"
          "  -h, --help, -V, --version  this text, the version\n"
          "\n"
          "add: --key TYPE (rsa2048..rsa8192, p256, p384; repeatable), --challenge TYPE (http-01, tls-alpn-01,\n"
          "     dns-01; repeatable, in order of preference), --profile P [--profile-mandatory], --dns-cmd PROGRAM,\n"
          "     --dns-version 1|2, --event-handler PROGRAM [--event-arg ARG]..., --challenge-delay TYPE=DURATION,\n"
          "     --preferred-chain ISSUER, --account-key TYPE, --retry-failover N,\n"
          "     --renew-window W, --warn-window W (a duration, default unit days, or a percentage),\n"
          "     --install-chain PATH, --install-key PATH, --install-mode MODE, --install-owner USER[:GROUP],\n"
          "     --install-cmd PROGRAM, --install-reload PROGRAM,\n"
          "     --install-ocsp PATH (where drive and ocsp write the OCSP response, DER)\n"
          "update: the options of add (and -a, --ca-file, -t, -c, --eab: each replaces what the MD has; \"\" clears a\n"
          "     program, file or profile), --domains NAME... (replace the names), --add-domain NAME,\n"
          "     --remove-domain NAME (repeatable)\n"
          "apply: --dry-run (show the changes only), --prune (remove the MDs the file no longer lists)\n"
          "drive: --force, --http-port PORT [--listen ADDR], --webroot DIR, --tls-port PORT, --jobs N,\n"
          "       --no-revocation-check (no CRL check of certificates without an OCSP URL),\n"
          "       --preflight on|off|challenge|caa [--preflight-dns IPv4[:PORT]];\n"
          "       on the store of a running httpd, --force NAME asks the server to renew NAME and waits\n"
          "       --wait SECONDS (60) for it to pick the request up; --here drives in this process instead\n"
          "ocsp: --out PATH (write the response there; default: the path the MD was added with)\n"
          "account: restore --key FILE (find the account of this key at the CAs of -a, or of the MDs)\n"
          "revoke: --reason unspecified|keyCompromise|superseded|affiliationChanged|cessationOfOperation,\n"
          "        --cert-key (sign with the certificate's own key instead of the account's)\n"
          "\n"
          "exit codes: 0 ok, 1 error, 2 usage error\n"
          "\n"
          "More in mdomain(1): man mdomain\n", out);
}

static int parse_port(int *pport, const char *s, const char *opt)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end || v < 1 || v > 65535) {
        fprintf(stderr, "mdomain: %s '%s': not a port number (1..65535)\n", opt, s);
        return 0;
    }
    *pport = (int)v;
    return 1;
}

/* One option; returns 0 on success, an exit code to stop with otherwise. */
static int take(md_cli_t *cli, int c, int argc, char **argv)
{
    const char *err;
    char *end;

    switch (c) {
    case 'd': cli->store_dir = optarg; break;
    case 'a': APR_ARRAY_PUSH(cli->cas, const char *) = optarg; break;
    case OPT_ACCOUNT_KEY: cli->account_key = optarg; break;
    case OPT_PROXY: cli->proxy = optarg; break;
    case OPT_CERT_KEY: cli->revoke_by_cert_key = 1; break;
    case OPT_PROFILE_MANDATORY: cli->profile_mandatory = 1; break;
    case OPT_DNS_VERSION:
        if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
            fprintf(stderr, "mdomain: --dns-version '%s': use 1 (teardown DOMAIN) or 2 (teardown DOMAIN TXT)\n", optarg);
            return CLI_EXIT_USAGE;
        }
        cli->dns_version = atoi(optarg);
        break;
    case OPT_RETRY_FAILOVER:
        cli->retry_failover = (int)strtol(optarg, &end, 10);
        if (!*optarg || *end || cli->retry_failover < 1) {
            fprintf(stderr, "mdomain: --retry-failover '%s': give the number of failed attempts (1 or more)\n", optarg);
            return CLI_EXIT_USAGE;
        }
        break;
    case OPT_CA_FILE: cli->ca_file = optarg; break;
    case 't': cli->terms = optarg; break;
    case 'c': APR_ARRAY_PUSH(cli->contacts, const char *) = optarg; break;
    case OPT_EAB:
        if (optind >= argc) {
            fprintf(stderr, "mdomain: --eab needs two arguments: KID HMAC\n");
            return CLI_EXIT_USAGE;
        }
        cli->eab_kid = optarg;
        cli->eab_hmac = argv[optind++];
        break;
    case OPT_EAB_FILE: cli->eab_file = optarg; break;
    case 'j': cli->json = 1; break;
    case 'v': cli->verbose = 1; break;
    case 'q': cli->quiet = 1; break;
    case OPT_KEY: APR_ARRAY_PUSH(cli->keys, const char *) = optarg; break;
    case OPT_CHALLENGE: APR_ARRAY_PUSH(cli->challenges, const char *) = optarg; break;
    case OPT_PROFILE: cli->profile = optarg; break;
    case OPT_DNS_CMD: cli->dns_cmd = optarg; break;
    case OPT_EVENT_HANDLER: cli->event_handler = optarg; break;
    case OPT_EVENT_ARG: APR_ARRAY_PUSH(cli->event_args, const char *) = optarg; break;
    case OPT_CHALLENGE_DELAY: APR_ARRAY_PUSH(cli->challenge_delays, const char *) = optarg; break;
    case OPT_RENEW_WINDOW: cli->renew_window = optarg; break;
    case OPT_WARN_WINDOW: cli->warn_window = optarg; break;
    case OPT_DOMAINS: cli->domains_given = 1; break;
    case OPT_ADD_DOMAIN: APR_ARRAY_PUSH(cli->add_domains, const char *) = optarg; break;
    case OPT_REMOVE_DOMAIN: APR_ARRAY_PUSH(cli->remove_domains, const char *) = optarg; break;
    case OPT_DRY_RUN: cli->dry_run = 1; break;
    case OPT_PRUNE: cli->prune = 1; break;
    case OPT_PREFLIGHT:
        if (md_preflight_parse(&cli->preflight, optarg) != APR_SUCCESS) {
            fprintf(stderr, "mdomain: --preflight '%s': give on, off, challenge or caa\n", optarg);
            return CLI_EXIT_USAGE;
        }
        break;
    case OPT_PREFLIGHT_DNS:
        if ((err = md_dns_server_check(optarg, cli->p)) != NULL) {
            fprintf(stderr, "mdomain: --preflight-dns: %s\n", err);
            return CLI_EXIT_USAGE;
        }
        cli->preflight_dns = optarg;
        break;
    case OPT_PREFERRED_CHAIN: cli->preferred_chain = optarg; break;
    case OPT_FORCE: cli->force = 1; break;
    case OPT_HERE: cli->here = 1; break;
    case OPT_WAIT:
        cli->wait_secs = (int)strtol(optarg, &end, 10);
        if (!*optarg || *end || cli->wait_secs < 1) {
            fprintf(stderr, "mdomain: --wait '%s': give the seconds to wait for the server (1 or more)\n", optarg);
            return CLI_EXIT_USAGE;
        }
        break;
    case OPT_HTTP_PORT: return parse_port(&cli->http_port, optarg, "--http-port") ? 0 : CLI_EXIT_USAGE;
    case OPT_TLS_PORT: return parse_port(&cli->tls_port, optarg, "--tls-port") ? 0 : CLI_EXIT_USAGE;
    case OPT_LISTEN: cli->listen_addr = optarg; break;
    case OPT_WEBROOT: cli->webroot = optarg; break;
    case OPT_REASON: cli->reason = optarg; break;
    case OPT_INSTALL_CHAIN: cli->install_chain = optarg; break;
    case OPT_INSTALL_KEY: cli->install_key = optarg; break;
    case OPT_INSTALL_CMD: cli->install_cmd = optarg; break;
    case OPT_INSTALL_OCSP: cli->install_ocsp = optarg; break;
    case OPT_OUT: cli->out = optarg; break;
    case OPT_NO_REVOCATION_CHECK: cli->no_revocation_check = 1; break;
    case OPT_INSTALL_OWNER: cli->install_owner = optarg; break;
    case OPT_INSTALL_RELOAD: cli->install_reload = optarg; break;
    case OPT_JOBS:
        cli->jobs = (int)strtol(optarg, &end, 10);
        if (!*optarg || *end || cli->jobs < 1 || cli->jobs > 256) {
            fprintf(stderr, "mdomain: --jobs '%s': give the number of MDs driven at the same time (1..256)\n", optarg);
            return CLI_EXIT_USAGE;
        }
        break;
    case OPT_INSTALL_MODE:
        cli->install_mode = (int)strtol(optarg, &end, 8);
        if (!*optarg || *end || cli->install_mode < 0 || cli->install_mode > 0777) {
            fprintf(stderr, "mdomain: --install-mode '%s': give an octal mode such as 0600 or 0640\n", optarg);
            return CLI_EXIT_USAGE;
        }
        break;
    case 'h': cli_usage(stdout); return -2;
    case 'V': printf("mdomain %s\n", MD_VERSION); return -2;
    default: cli_usage(stderr); return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_parse(md_cli_t *cli, int argc, char **argv)
{
    int c, rc;

    cli->contacts = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->cas = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->retry_failover = -1;
    cli->keys = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->challenges = apr_array_make(cli->p, 3, sizeof(const char *));
    cli->event_args = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->challenge_delays = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->args = apr_array_make(cli->p, 4, sizeof(const char *));
    cli->add_domains = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->remove_domains = apr_array_make(cli->p, 2, sizeof(const char *));
    cli->install_mode = -1;
    cli->listen_addr = "127.0.0.1";
    cli->preflight = MD_PREFLIGHT_CAA;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "d:a:t:c:jvqhV", long_opts, NULL)) != -1) {
        rc = take(cli, c, argc, argv);
        if (rc == -2) return CLI_EXIT_OK;
        if (rc != 0) return rc;
    }
    if (optind >= argc) {
        fprintf(stderr, "mdomain: no verb given\n");
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    cli->verb = argv[optind++];
    while (optind < argc) APR_ARRAY_PUSH(cli->args, const char *) = argv[optind++];
    if (!cli->store_dir) cli->store_dir = getenv("MDOMAIN_STORE");
    if (!cli->store_dir || !*cli->store_dir) cli->store_dir = "/var/lib/mdomain";
    return -1;
}
