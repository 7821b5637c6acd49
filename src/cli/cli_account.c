/* The account verb: show the stored ACME accounts, update contacts, roll the key over, deactivate. */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_result.h"
#include "cli.h"

apr_status_t cli_acme_for(md_acme_t **pacme, md_cli_t *cli, const char *ca_url, const char *ca_file,
                          md_result_t *result)
{
    md_http_options_t opts;
    md_http_t *http;
    apr_status_t rv;

    memset(&opts, 0, sizeof(opts));
    opts.ca_file = ca_file;
    opts.proxy_url = cli->proxy;
    rv = md_http_create(&http, &opts, NULL, cli->p);
    if (rv == APR_SUCCESS) rv = md_acme_create(pacme, ca_url, http, cli->p);
    if (rv == APR_SUCCESS) rv = md_acme_setup(*pacme, result);
    return rv;
}

/* The CA file for talking about an account: --ca-file, or that of an MD using the account. */
static const char *account_ca_file(md_cli_t *cli, const char *id)
{
    apr_array_header_t *names;
    md_t *md;
    int i;

    if (cli->ca_file) return cli->ca_file;
    if (md_store_list(&names, cli->store, MD_SG_DOMAINS, "*", cli->p) != APR_SUCCESS) return NULL;
    for (i = 0; i < names->nelts; ++i) {
        if (md_load(&md, cli->store, MD_SG_DOMAINS, APR_ARRAY_IDX(names, i, const char *), NULL, cli->p)
            == APR_SUCCESS && md->ca_account
            && !strcmp(md->ca_account, id)) {
            return md->ca_file;
        }
    }
    return NULL;
}

/* Every stored account (or those matching the pattern); one that cannot be read (its key does not open with the
 * store key, a broken account.json) is named on stderr and in --json's "errors", and the exit is 1. */
static int account_show(md_cli_t *cli)
{
    md_json_t *out = md_json_create(cli->p), *errors = md_json_create_array(cli->p), *j;
    md_result_t *result = md_result_make(cli->p);
    apr_array_header_t *ids;
    md_acme_acct_t *acct;
    md_pkey_t *key;
    const char *id;
    int i, failed = 0;

    if (md_store_list(&ids, cli->store, MD_SG_ACCOUNTS,
                      cli->args->nelts > 1 ? APR_ARRAY_IDX(cli->args, 1, const char *) : "*", cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "cannot list %s/accounts", cli->store_dir);
    }
    md_json_setj(md_json_create_array(cli->p), out, "accounts", NULL);
    for (i = 0; i < ids->nelts; ++i) {
        id = APR_ARRAY_IDX(ids, i, const char *);
        md_result_reset(result);
        if (md_acme_acct_load(&acct, &key, cli->store, id, result, cli->p) != APR_SUCCESS) {
            fprintf(stderr, "mdomain: account %s: %s\n", id, md_result_text(result, cli->p));
            j = md_json_create(cli->p);
            md_json_sets(id, j, "id", NULL);
            md_json_sets(md_result_text(result, cli->p), j, "detail", NULL);
            md_json_addj(j, errors, NULL);
            failed = 1;
            continue;
        }
        j = md_acme_acct_to_json(acct, cli->p);
        md_json_sets(id, j, "id", NULL);
        md_json_addj(j, out, "accounts", NULL);
        cli_say(cli, "%-28s %-11s %s (%s)", id, acct->status ? acct->status : "?", acct->url ? acct->url : "",
                acct->ca_url ? acct->ca_url : "");
    }
    if (failed) md_json_setj(errors, out, "errors", NULL);
    if (cli->json) cli_json_out(cli, out);
    return failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* update, rollover, deactivate: one account, talking to its CA. */
static int account_change(md_cli_t *cli, const char *what)
{
    md_result_t *result = md_result_make(cli->p);
    md_acme_acct_t *acct;
    md_acme_t *acme;
    md_pkey_t *key, *new_key = NULL;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    const char *id;
    apr_status_t rv;

    if (cli->args->nelts != 2) return cli_failf(cli, CLI_EXIT_USAGE, "account %s: give the account ID", what);
    id = APR_ARRAY_IDX(cli->args, 1, const char *);
    rv = md_acme_acct_load(&acct, &key, cli->store, id, result, cli->p);
    if (rv == APR_SUCCESS) rv = cli_acme_for(&acme, cli, acct->ca_url, account_ca_file(cli, id), result);
    if (rv == APR_SUCCESS) md_acme_set_account(acme, acct->url, key);
    if (rv == APR_SUCCESS && !strcmp(what, "update")) {
        apr_array_header_t *contacts = apr_array_make(cli->p, 2, sizeof(const char *));
        for (int i = 0; i < cli->contacts->nelts; ++i) {
            const char *c = APR_ARRAY_IDX(cli->contacts, i, const char *);
            APR_ARRAY_PUSH(contacts, const char *) = strncmp(c, "mailto:", 7) ? apr_pstrcat(cli->p, "mailto:", c, NULL) : c;
        }
        rv = md_acme_acct_update_contacts(acct, acme, contacts, result, cli->p);
    }
    else if (rv == APR_SUCCESS && !strcmp(what, "rollover")) {
        rv = md_pkey_gen(&new_key, &spec, cli->p);
        if (rv == APR_SUCCESS) rv = md_acme_acct_key_change(acct, acme, new_key, result, cli->p);
        if (rv == APR_SUCCESS) key = new_key;
    }
    else if (rv == APR_SUCCESS) {
        rv = md_acme_acct_deactivate(acct, acme, result, cli->p);
    }
    if (rv == APR_SUCCESS) rv = md_acme_acct_save(acct, key, cli->store, result, cli->p);
    if (rv != APR_SUCCESS) return cli_fail(cli, CLI_EXIT_ERROR, result);
    if (cli->json) {
        md_json_t *j = md_acme_acct_to_json(acct, cli->p);
        md_json_sets(id, j, "id", NULL);
        cli_json_out(cli, j);
    }
    cli_say(cli, "account %s: %s done (%s)", id, what, acct->status ? acct->status : "?");
    return CLI_EXIT_OK;
}

int cli_verb_account(md_cli_t *cli)
{
    const char *sub = cli->args->nelts ? APR_ARRAY_IDX(cli->args, 0, const char *) : "show";
    int rc;

    if (strcmp(sub, "show") && strcmp(sub, "update") && strcmp(sub, "rollover") && strcmp(sub, "deactivate")) {
        return cli_failf(cli, CLI_EXIT_USAGE, "account '%s': use show, update, rollover or deactivate", sub);
    }
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (!strcmp(sub, "show")) return account_show(cli);
    if (!strcmp(sub, "update") && cli->contacts->nelts == 0) {
        return cli_failf(cli, CLI_EXIT_USAGE, "account update: give the new contacts with -c EMAIL");
    }
    return account_change(cli, sub);
}
