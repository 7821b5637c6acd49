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
#include "cli.h"

/* The MD in the store that already holds one of names, and that name. */
static const char *name_taken(const char **pmd, md_cli_t *cli, const md_t *md)
{
    apr_array_header_t *names;
    md_t *other;
    const char *common;
    int i;

    if (md_store_list(&names, cli->store, MD_SG_DOMAINS, "*", cli->p) != APR_SUCCESS) return NULL;
    for (i = 0; i < names->nelts; ++i) {
        if (md_load(&other, cli->store, MD_SG_DOMAINS, APR_ARRAY_IDX(names, i, const char *), NULL, cli->p)
            != APR_SUCCESS) {
            continue;
        }
        common = md_common_name(md, other);
        if (common) {
            *pmd = other->name;
            return common;
        }
    }
    return NULL;
}

/* Copy the global options that belong to an MD into it. */
static int md_settings(md_cli_t *cli, md_t *md)
{
    md_result_t *result = md_result_make(cli->p);
    md_acme_eab_t *eab;
    char real[PATH_MAX];
    int i;

    md->ca_urls = apr_array_make(cli->p, 2, sizeof(const char *));
    for (i = 0; i < cli->cas->nelts; ++i) {
        const char *url = md_acme_ca_url_for(APR_ARRAY_IDX(cli->cas, i, const char *));
        if (strncasecmp(url, "https://", 8) && strncasecmp(url, "http://", 7)) {
            return cli_failf(cli, CLI_EXIT_USAGE, "-a '%s': not a CA name (letsencrypt, letsencrypt-test, buypass, "
                             "buypass-test) nor an http(s) URL", url);
        }
        APR_ARRAY_PUSH(md->ca_urls, const char *) = url;
    }
    if (md->ca_urls->nelts == 0) APR_ARRAY_PUSH(md->ca_urls, const char *) = md_acme_ca_url_for("letsencrypt");
    if (cli->ca_file) {
        if (!realpath(cli->ca_file, real)) return cli_failf(cli, CLI_EXIT_USAGE, "--ca-file %s: not found", cli->ca_file);
        md->ca_file = apr_pstrdup(cli->p, real);
    }
    if (cli->terms) {
        if (strcasecmp(cli->terms, "accepted")) {
            return cli_failf(cli, CLI_EXIT_USAGE, "-t/--terms '%s': the only value is 'accepted'", cli->terms);
        }
        md->ca_agreement = "accepted";
    }
    for (i = 0; i < cli->contacts->nelts; ++i) {
        const char *c = APR_ARRAY_IDX(cli->contacts, i, const char *);
        APR_ARRAY_PUSH(md->contacts, const char *) = strncmp(c, "mailto:", 7) ? apr_pstrcat(cli->p, "mailto:", c, NULL) : c;
    }
    if (cli->eab_file) {
        if (md_acme_eab_load(&eab, cli->eab_file, result, cli->p) != APR_SUCCESS) return cli_fail(cli, CLI_EXIT_USAGE, result);
        md->ca_eab_kid = eab->kid;
        md->ca_eab_hmac = md_b64url_encode(eab->hmac->data, eab->hmac->len, cli->p);
    }
    else if (cli->eab_kid) {
        if (md_acme_eab_make(&eab, cli->eab_kid, cli->eab_hmac, result, cli->p) != APR_SUCCESS) {
            return cli_fail(cli, CLI_EXIT_USAGE, result);
        }
        md->ca_eab_kid = cli->eab_kid;
        md->ca_eab_hmac = cli->eab_hmac;
    }
    return CLI_EXIT_OK;
}

static int is_challenge_type(const char *t)
{
    return !strcmp(t, "http-01") || !strcmp(t, "tls-alpn-01") || !strcmp(t, "dns-01");
}

/* The absolute path of an executable program (NULL when it is none), quoted for a program line when it has to be. */
static const char *program_path(md_cli_t *cli, const char *program, int quoted)
{
    char real[PATH_MAX];

    program = md_exec_find(program, cli->p);        /* a bare name is looked up in PATH, as when it runs */
    if (!program || !realpath(program, real) || access(real, X_OK) != 0) return NULL;
    if (quoted && strpbrk(real, " \t\"'\\")) {
        if (strchr(real, '\'')) return NULL;      /* cannot be quoted for apr_tokenize_to_argv */
        return apr_pstrcat(cli->p, "'", real, "'", NULL);
    }
    return apr_pstrdup(cli->p, real);
}

/* The event interface: --dns-cmd "PROGRAM [ARGS]" (split as MDChallengeDns01 is), --event-handler PROGRAM with its
 * --event-arg ARGs, --challenge-delay TYPE=DURATION. Programs are checked and stored with absolute paths. */
static int event_options(md_cli_t *cli, md_t *md)
{
    apr_array_header_t *words;
    const char *path, *err = NULL;
    int i;

    if (cli->dns_cmd) {
        words = md_event_argv(cli->dns_cmd, cli->p);
        path = words ? program_path(cli, APR_ARRAY_IDX(words, 0, const char *), 1) : NULL;
        if (!path) return cli_failf(cli, CLI_EXIT_USAGE, "--dns-cmd '%s': not an executable program", cli->dns_cmd);
        for (i = 1; i < words->nelts; ++i) {
            path = apr_pstrcat(cli->p, path, " '", APR_ARRAY_IDX(words, i, const char *), "'", NULL);
        }
        md->dns01_cmd = path;
    }
    if (cli->event_args->nelts && !cli->event_handler) {
        return cli_failf(cli, CLI_EXIT_USAGE, "--event-arg goes with --event-handler PROGRAM");
    }
    if (cli->event_handler) {
        if (!(path = program_path(cli, cli->event_handler, 0))) {
            return cli_failf(cli, CLI_EXIT_USAGE, "--event-handler '%s': not an executable program",
                             cli->event_handler);
        }
        APR_ARRAY_PUSH(md->event_handler, const char *) = path;
        for (i = 0; i < cli->event_args->nelts; ++i) {
            APR_ARRAY_PUSH(md->event_handler, const char *) = APR_ARRAY_IDX(cli->event_args, i, const char *);
        }
    }
    for (i = 0; i < cli->challenge_delays->nelts; ++i) {
        if (md_challenge_delay_parse(&md->challenge_delays, APR_ARRAY_IDX(cli->challenge_delays, i, const char *),
                                     &err, cli->p) != APR_SUCCESS) {
            return cli_failf(cli, CLI_EXIT_USAGE, "--challenge-delay: %s", err);
        }
    }
    return CLI_EXIT_OK;
}

/* The verb options of add: keys, challenges, profile, event programs and delays, chain, installation. */
static int md_options(md_cli_t *cli, md_t *md)
{
    md_pkey_spec_t *spec;
    const char *err = NULL, *t;
    int i, rc;

    if (cli->keys->nelts) {
        apr_array_clear(md->pks);
        md->pks_default = 0;
    }
    for (i = 0; i < cli->keys->nelts; ++i) {
        if (md_pkey_spec_parse(&spec, APR_ARRAY_IDX(cli->keys, i, const char *), NULL, &err, cli->p) != APR_SUCCESS) {
            return cli_failf(cli, CLI_EXIT_USAGE, "--key: %s", err);
        }
        md_pkey_spec_for_mod_md(spec);      /* "p256" is recorded as "secp256r1": mod_md can use the store */
        APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = spec;
    }
    for (i = 1; i < md->pks->nelts; ++i) {
        for (int k = 0; k < i; ++k) {
            if (!strcmp(md_pkey_aspect(md, i, cli->p), md_pkey_aspect(md, k, cli->p))) {
                return cli_failf(cli, CLI_EXIT_USAGE, "--key: two keys would share the file %s: give one key "
                                 "per type (one RSA, one of each curve)", md_pkey_aspect(md, i, cli->p));
            }
        }
    }
    for (i = 0; i < cli->challenges->nelts; ++i) {
        t = APR_ARRAY_IDX(cli->challenges, i, const char *);
        if (!is_challenge_type(t)) {
            return cli_failf(cli, CLI_EXIT_USAGE, "--challenge '%s': use http-01, tls-alpn-01 or dns-01", t);
        }
        APR_ARRAY_PUSH(md->ca_challenges, const char *) = t;
    }
    md->profile = cli->profile;
    md->profile_mandatory = cli->profile_mandatory;
    if (cli->profile_mandatory && !cli->profile) {
        return cli_failf(cli, CLI_EXIT_USAGE, "--profile-mandatory needs --profile NAME");
    }
    if (cli->account_key) {
        if (md_pkey_spec_parse(&spec, cli->account_key, NULL, &err, cli->p) != APR_SUCCESS) {
            return cli_failf(cli, CLI_EXIT_USAGE, "--account-key: %s", err);
        }
        md->account_key = cli->account_key;
    }
    if (cli->dns_version) md->dns01_version = cli->dns_version;
    if (cli->retry_failover > 0) md->retry_failover = cli->retry_failover;
    md->preferred_chain = cli->preferred_chain;
    if ((rc = event_options(cli, md)) != CLI_EXIT_OK) return rc;
    md->install_chain = cli->install_chain;
    md->install_key = cli->install_key;
    md->install_ocsp = cli->install_ocsp;
    if (cli->install_mode >= 0) md->install_mode = cli->install_mode;
    if (cli->install_cmd) APR_ARRAY_PUSH(md->install_cmd, const char *) = cli->install_cmd;
    if (!!md->install_chain != !!md->install_key) {
        return cli_failf(cli, CLI_EXIT_USAGE, "--install-chain and --install-key go together");
    }
    return CLI_EXIT_OK;
}

int cli_verb_add(md_cli_t *cli)
{
    apr_array_header_t *names = apr_array_make(cli->p, cli->args->nelts, sizeof(const char *));
    const char *why, *other = NULL, *common;
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
    if ((rc = md_settings(cli, md)) != CLI_EXIT_OK || (rc = md_options(cli, md)) != CLI_EXIT_OK) return rc;
    if (wildcard && !md->dns01_cmd && !md->event_handler->nelts) {
        return cli_failf(cli, CLI_EXIT_USAGE, "add: wildcard names are validated with dns-01 only: give --dns-cmd "
                         "or --event-handler");
    }
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
    if (cli->json) cli_json_out(cli, cli_md_status(cli, md->name, cli->p));
    cli_say(cli, "added %s with %d name(s), CA %s", md->name, md->domains->nelts,
            APR_ARRAY_IDX(md->ca_urls, 0, const char *));
    return CLI_EXIT_OK;
}
