/* The mdomain command's shared state: parsed options, the store, output helpers, and the verbs. */
#ifndef MD_CLI_H
#define MD_CLI_H

#include <stdio.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "md.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_USAGE 2

typedef struct md_cli_t {
    apr_pool_t *p;
    /* global options */
    const char *store_dir;
    apr_array_header_t *cas;        /* -a: URLs or known names, in failover order */
    const char *ca_file;
    const char *terms;              /* -t accepted */
    apr_array_header_t *contacts;
    const char *eab_kid, *eab_hmac, *eab_file;
    int json, verbose, quiet;
    /* verb options */
    apr_array_header_t *keys;       /* --key */
    apr_array_header_t *challenges; /* --challenge */
    const char *profile;
    const char *account_key;        /* --account-key */
    const char *proxy;              /* --proxy */
    int dns_version;                /* --dns-version, 0: not given */
    int retry_failover;             /* --retry-failover, -1: not given */
    const char *dns_cmd;            /* --dns-cmd: the program and its arguments, as one line */
    const char *event_handler;      /* --event-handler PROGRAM */
    apr_array_header_t *event_args; /* --event-arg: its fixed arguments */
    apr_array_header_t *challenge_delays;   /* --challenge-delay TYPE=DURATION */
    const char *preferred_chain;
    int force;
    int here;                       /* --here: drive in this process also on a running server's store */
    int wait_secs;                  /* --wait: how long a server has to pick up a request, 0: 60 s */
    int http_port, tls_port;
    int preflight;                  /* --preflight: MD_PREFLIGHT_* flags (default MD_PREFLIGHT_CAA) */
    const char *preflight_dns;      /* --preflight-dns, NULL: the system's resolver */
    const char *listen_addr;
    const char *webroot;
    const char *reason;
    int revoke_by_cert_key;         /* --cert-key */
    int profile_mandatory;          /* --profile-mandatory */
    const char *install_chain, *install_key, *install_cmd;
    int install_mode;               /* -1: not given */
    const char *install_ocsp;       /* --install-ocsp */
    const char *out;                /* --out (ocsp) */
    int no_revocation_check;        /* --no-revocation-check (drive) */
    const char *install_owner;      /* --install-owner USER[:GROUP] */
    const char *install_reload;     /* --install-reload PROGRAM: its line */
    int jobs;                       /* drive --jobs N, 0: the registry's default */
    const char *renew_window, *warn_window;     /* --renew-window, --warn-window */
    int domains_given;              /* update --domains: the arguments after NAME replace its names */
    apr_array_header_t *add_domains, *remove_domains;   /* update --add-domain, --remove-domain */
    const md_challenge_delays_t *base_delays;   /* update: the stored MD's, which --challenge-delay amends */
    int dry_run, prune;             /* apply --dry-run, --prune */
    /* the verb and its arguments */
    const char *verb;
    apr_array_header_t *args;       /* const char* */
    md_store_t *store;              /* opened by cli_store_open */
} md_cli_t;

typedef int cli_verb_fn(md_cli_t *cli);

typedef struct cli_verb_t {
    const char *name;
    cli_verb_fn *fn;
    const char *usage;      /* arguments, e.g. "NAME [NAME...]" */
    const char *summary;
} cli_verb_t;

/* Parse argv into cli; on a usage error prints why and returns CLI_EXIT_USAGE, on --help/--version
 * prints and returns CLI_EXIT_OK with cli->verb NULL; otherwise -1. */
int cli_parse(md_cli_t *cli, int argc, char **argv);
void cli_usage(FILE *out);

/* The operator's remedies for failures (md_hint_t) in this command's terms: its options. */
extern const md_hints_t cli_hints;

/* Open the store of -d (creating it). On failure prints the reason. */
int cli_store_open(md_cli_t *cli);
/* Print an error (with its remedy in cli_hints' words): as {"status": "error", "detail": ...} with --json, and
 * "mdomain: ..." on stderr. */
int cli_fail(md_cli_t *cli, int exit_code, const md_result_t *result);
int cli_failf(md_cli_t *cli, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* renew --force NAME... on the store of a running httpd: ask it (STORE/requests), wait, report (cli_request.c). */
int cli_drive_via_server(md_cli_t *cli, apr_array_header_t *names);
/* Print a JSON document on stdout (indented). */
void cli_json_out(md_cli_t *cli, const md_json_t *json);
/* Print a line for humans (not with --json or --quiet). */
void cli_say(md_cli_t *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct md_reg_change_t;
/* The options that describe an MD (-a, --ca-file, -t, -c, --eab, --key, --challenge, --profile, the programs, the
 * windows, the install paths) as the registry's change set (cli_change.c): what add applies to a new MD and update to
 * a stored one. On a usage error prints why and returns CLI_EXIT_USAGE. */
int cli_change_from_options(struct md_reg_change_t *ch, md_cli_t *cli);

/* Verbs. */
int cli_verb_add(md_cli_t *cli);
int cli_verb_list(md_cli_t *cli);
int cli_verb_show(md_cli_t *cli);
int cli_verb_drive(md_cli_t *cli);
int cli_verb_revoke(md_cli_t *cli);
int cli_verb_account(md_cli_t *cli);
int cli_verb_remove(md_cli_t *cli);
int cli_verb_ocsp(md_cli_t *cli);

struct md_reg_renew_t;
/* drive's revocation work (cli_ocsp.c): before renewing, the CRL check of the MDs' certificates without an OCSP
 * URL (a revoked one makes its MD due); after it, the OCSP responses of MDs with --install-ocsp written when due. */
void cli_revocation_pass(md_cli_t *cli, const apr_array_header_t *names, const struct md_reg_renew_t *rn);
void cli_ocsp_install_pass(md_cli_t *cli, const apr_array_header_t *names, const struct md_reg_renew_t *rn);
int cli_verb_update(md_cli_t *cli);
int cli_verb_apply(md_cli_t *cli);

struct md_acme_t;
/* An ACME client for ca_url trusting ca_file (NULL: the system's roots), directory fetched. */
apr_status_t cli_acme_for(struct md_acme_t **pacme, md_cli_t *cli, const char *ca_url, const char *ca_file,
                          md_result_t *result);

/* The CA file for talking about a stored account: --ca-file (a2md's -C), else that of an MD using the account, else
 * that of an MD of the account's CA. */
const char *cli_account_ca_file(md_cli_t *cli, const char *id);

/* An MD's summary as JSON (md.json plus its certificates and job) for list/show/add/drive output; *pproblem (may be
 * NULL) gets why the MD or one of its files cannot be read ("PATH: what is wrong"), NULL when all is fine. */
md_json_t *cli_md_status(md_cli_t *cli, const char *name, const char **pproblem, apr_pool_t *p);

#endif
