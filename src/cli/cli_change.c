/* The options that describe an MD (CA, account, keys, challenges, programs, windows, installation) turned into the
 * registry's set of changes: one parser for add (applied to a new MD) and update (applied to a stored one). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_encode.h"
#include "md_event.h"
#include "md_exec.h"
#include "md_file.h"
#include "md_reg_update.h"
#include "md_uri.h"
#include "cli.h"

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

static apr_array_header_t *strs_make(md_cli_t *cli)
{
    return apr_array_make(cli->p, 2, sizeof(const char *));
}

/* The CA, its roots, the terms, contacts and EAB. */
static int account_options(md_cli_t *cli, md_reg_change_t *ch)
{
    md_result_t *result = md_result_make(cli->p);
    apr_array_header_t *urls, *contacts;
    md_acme_eab_t *eab;
    char real[PATH_MAX];
    int i;

    if (cli->cas->nelts) {
        ch->ca_urls = urls = strs_make(cli);
        for (i = 0; i < cli->cas->nelts; ++i) {
            const char *url = md_acme_ca_url_for(APR_ARRAY_IDX(cli->cas, i, const char *));
            const char *why = md_uri_http_problem(url, cli->p);     /* the module's check: a host that is one */

            if (why || !md_uri_is_http(url, cli->p)) {
                return cli_failf(cli, CLI_EXIT_USAGE, "-a '%s': not a CA name (letsencrypt, letsencrypt-test, "
                                 "buypass, buypass-test) nor an http(s) URL%s%s%s", url, why ? " (" : "",
                                 why ? why : "", why ? ")" : "");
            }
            APR_ARRAY_PUSH(urls, const char *) = url;
        }
    }
    if (cli->ca_file && *cli->ca_file) {
        if (!realpath(cli->ca_file, real)) return cli_failf(cli, CLI_EXIT_USAGE, "--ca-file %s: not found", cli->ca_file);
        ch->ca_file = apr_pstrdup(cli->p, real);
    }
    else if (cli->ca_file) ch->ca_file = "";
    if (cli->terms) {
        if (strcasecmp(cli->terms, "accepted")) {
            return cli_failf(cli, CLI_EXIT_USAGE, "-t/--terms '%s': the only value is 'accepted'", cli->terms);
        }
        ch->ca_agreement = "accepted";
    }
    if (cli->contacts->nelts) {
        ch->contacts = contacts = strs_make(cli);
        for (i = 0; i < cli->contacts->nelts; ++i) {
            const char *c = APR_ARRAY_IDX(cli->contacts, i, const char *);
            if (*c) APR_ARRAY_PUSH(contacts, const char *) = c;     /* -c "": no contact */
        }
    }
    if (cli->eab_file) {
        if (md_acme_eab_load(&eab, cli->eab_file, result, cli->p) != APR_SUCCESS) return cli_fail(cli, CLI_EXIT_USAGE, result);
        ch->eab_set = 1;
        ch->eab_kid = eab->kid;
        ch->eab_hmac = md_b64url_encode(eab->hmac->data, eab->hmac->len, cli->p);
    }
    else if (cli->eab_kid) {
        if (md_acme_eab_make(&eab, cli->eab_kid, cli->eab_hmac, result, cli->p) != APR_SUCCESS) {
            return cli_fail(cli, CLI_EXIT_USAGE, result);
        }
        ch->eab_set = 1;
        ch->eab_kid = cli->eab_kid;
        ch->eab_hmac = cli->eab_hmac;
    }
    return CLI_EXIT_OK;
}

/* The event interface: --dns-cmd "PROGRAM [ARGS]" (split as MDChallengeDns01 is), --event-handler PROGRAM with its
 * --event-arg ARGs, --challenge-delay TYPE=DURATION. Programs are checked and stored with absolute paths; "" is
 * none. */
static int event_options(md_cli_t *cli, md_reg_change_t *ch)
{
    md_challenge_delays_t *delays;
    apr_array_header_t *words, *argv;
    const char *path, *err = NULL;
    int i;

    if (cli->dns_cmd && *cli->dns_cmd) {
        words = md_event_argv(cli->dns_cmd, cli->p);
        path = words ? program_path(cli, APR_ARRAY_IDX(words, 0, const char *), 1) : NULL;
        if (!path) return cli_failf(cli, CLI_EXIT_USAGE, "--dns-cmd '%s': not an executable program", cli->dns_cmd);
        for (i = 1; i < words->nelts; ++i) {
            path = apr_pstrcat(cli->p, path, " '", APR_ARRAY_IDX(words, i, const char *), "'", NULL);
        }
        ch->dns01_cmd = path;
    }
    else if (cli->dns_cmd) ch->dns01_cmd = "";
    if (cli->event_args->nelts && (!cli->event_handler || !*cli->event_handler)) {
        return cli_failf(cli, CLI_EXIT_USAGE, "--event-arg goes with --event-handler PROGRAM");
    }
    if (cli->event_handler) {
        ch->event_handler = argv = strs_make(cli);
        if (*cli->event_handler) {
            if (!(path = program_path(cli, cli->event_handler, 0))) {
                return cli_failf(cli, CLI_EXIT_USAGE, "--event-handler '%s': not an executable program",
                                 cli->event_handler);
            }
            APR_ARRAY_PUSH(argv, const char *) = path;
            for (i = 0; i < cli->event_args->nelts; ++i) {
                APR_ARRAY_PUSH(argv, const char *) = APR_ARRAY_IDX(cli->event_args, i, const char *);
            }
        }
    }
    if (cli->challenge_delays->nelts) {
        ch->challenge_delays = delays = apr_pcalloc(cli->p, sizeof(*delays));
        if (cli->base_delays) *delays = *cli->base_delays;      /* update: the delays not named stay */
        for (i = 0; i < cli->challenge_delays->nelts; ++i) {
            if (md_challenge_delay_parse(delays, APR_ARRAY_IDX(cli->challenge_delays, i, const char *), &err,
                                         cli->p) != APR_SUCCESS) {
                return cli_failf(cli, CLI_EXIT_USAGE, "--challenge-delay: %s", err);
            }
        }
    }
    return CLI_EXIT_OK;
}

static int key_options(md_cli_t *cli, md_reg_change_t *ch)
{
    apr_array_header_t *pks;
    md_pkey_spec_t *spec;
    const char *err = NULL;
    int i;

    if (cli->keys->nelts) {
        ch->pks = pks = apr_array_make(cli->p, cli->keys->nelts, sizeof(md_pkey_spec_t *));
        for (i = 0; i < cli->keys->nelts; ++i) {
            if (md_pkey_spec_parse(&spec, APR_ARRAY_IDX(cli->keys, i, const char *), NULL, &err, cli->p) != APR_SUCCESS) {
                return cli_failf(cli, CLI_EXIT_USAGE, "--key: %s", err);
            }
            md_pkey_spec_for_mod_md(spec);      /* "p256" is recorded as "secp256r1": mod_md can use the store */
            APR_ARRAY_PUSH(pks, md_pkey_spec_t *) = spec;
        }
    }
    if (cli->account_key) {
        if (md_pkey_spec_parse(&spec, cli->account_key, NULL, &err, cli->p) != APR_SUCCESS) {
            return cli_failf(cli, CLI_EXIT_USAGE, "--account-key: %s", err);
        }
        ch->account_key = cli->account_key;
    }
    return CLI_EXIT_OK;
}

static int window_option(md_cli_t *cli, const char *opt, const char *value, const md_timeslice_t **pts)
{
    md_timeslice_t *ts = NULL;
    const char *err = NULL;

    if (!value) return CLI_EXIT_OK;
    if (md_timeslice_parse_window(&ts, value, "d", &err, cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_USAGE, "%s %s (a duration, without a unit in days, or a percentage of the "
                         "certificate's lifetime)", opt, err);
    }
    *pts = ts;
    return CLI_EXIT_OK;
}

/* Installing for other servers: paths, mode, owner, the install program and the batch's reload program ("": none). */
static int install_options(md_cli_t *cli, md_reg_change_t *ch)
{
    apr_array_header_t *words, *argv;
    const char *path, *err = NULL;
    uid_t uid;
    gid_t gid;
    int i;

    if (cli->install_owner && *cli->install_owner
        && md_file_owner_parse(&uid, &gid, cli->install_owner, &err, cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_USAGE, "--install-owner %s", err);
    }
    ch->install_owner = cli->install_owner;
    if (cli->install_reload) {
        ch->install_reload = argv = strs_make(cli);
        if (*cli->install_reload) {
            words = md_event_argv(cli->install_reload, cli->p);
            path = words ? program_path(cli, APR_ARRAY_IDX(words, 0, const char *), 0) : NULL;
            if (!path) {
                return cli_failf(cli, CLI_EXIT_USAGE, "--install-reload '%s': not an executable program",
                                 cli->install_reload);
            }
            APR_ARRAY_PUSH(argv, const char *) = path;
            for (i = 1; i < words->nelts; ++i) APR_ARRAY_PUSH(argv, const char *) = APR_ARRAY_IDX(words, i, const char *);
        }
    }
    ch->install_chain = cli->install_chain;
    ch->install_key = cli->install_key;
    if (cli->install_mode >= 0) ch->install_mode = cli->install_mode;
    if (cli->install_cmd) {
        apr_array_header_t *cmd = strs_make(cli);
        if (*cli->install_cmd) APR_ARRAY_PUSH(cmd, const char *) = cli->install_cmd;
        ch->install_cmd = cmd;
    }
    return CLI_EXIT_OK;
}

int cli_change_from_options(md_reg_change_t *ch, md_cli_t *cli)
{
    apr_array_header_t *types;
    const char *t;
    int i, rc;

    md_reg_change_init(ch);
    if ((rc = account_options(cli, ch)) != CLI_EXIT_OK || (rc = key_options(cli, ch)) != CLI_EXIT_OK) return rc;
    if (cli->challenges->nelts) {
        ch->ca_challenges = types = strs_make(cli);
        for (i = 0; i < cli->challenges->nelts; ++i) {
            t = APR_ARRAY_IDX(cli->challenges, i, const char *);
            if (!*t) continue;                      /* --challenge "": all types */
            if (!md_challenge_type_known(t)) {
                return cli_failf(cli, CLI_EXIT_USAGE, "--challenge '%s': use http-01, tls-alpn-01 or dns-01", t);
            }
            APR_ARRAY_PUSH(types, const char *) = md_challenge_type_known(t);
        }
    }
    if (cli->profile || cli->profile_mandatory) {
        ch->profile = cli->profile;
        ch->profile_mandatory = cli->profile_mandatory;
    }
    if (cli->dns_version) ch->dns01_version = cli->dns_version;
    if (cli->retry_failover > 0) ch->retry_failover = cli->retry_failover;
    ch->preferred_chain = cli->preferred_chain;
    if ((rc = event_options(cli, ch)) != CLI_EXIT_OK) return rc;
    if ((rc = window_option(cli, "--renew-window", cli->renew_window, &ch->renew_window)) != CLI_EXIT_OK
        || (rc = window_option(cli, "--warn-window", cli->warn_window, &ch->warn_window)) != CLI_EXIT_OK) {
        return rc;
    }
    return install_options(cli, ch);
}
