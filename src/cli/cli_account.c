/* The account verb: list the stored ACME accounts with their users, update contacts, roll the key over, deactivate,
 * restore an account from its key. */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_reg_account.h"
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
const char *cli_account_ca_file(md_cli_t *cli, const char *id)
{
    apr_array_header_t *names;
    md_acme_acct_t *acct = NULL;
    const char *by_ca = NULL;
    md_t *md;
    int i;

    if (cli->ca_file) return cli->ca_file;
    md_acme_acct_load(&acct, NULL, cli->store, id, NULL, cli->p);
    if (md_store_list(&names, cli->store, MD_SG_DOMAINS, "*", cli->p) != APR_SUCCESS) return NULL;
    for (i = 0; i < names->nelts; ++i) {
        if (md_load(&md, cli->store, MD_SG_DOMAINS, APR_ARRAY_IDX(names, i, const char *), NULL, cli->p)
            != APR_SUCCESS) {
            continue;
        }
        if (md->ca_account && !strcmp(md->ca_account, id)) return md->ca_file;
        for (int k = 0; !by_ca && acct && acct->ca_url && k < md->ca_urls->nelts; ++k) {
            if (!strcmp(APR_ARRAY_IDX(md->ca_urls, k, const char *), acct->ca_url)) by_ca = md->ca_file;
        }
    }
    return by_ca;          /* else that of an MD of the account's CA */
}

/* An account as list, show and restore print it: account.json's fields, its id and the MDs using it. */
static md_json_t *account_json(md_cli_t *cli, md_reg_t *reg, const md_acme_acct_t *acct)
{
    md_json_t *j = md_acme_acct_to_json(acct, cli->p);
    apr_array_header_t *users = md_reg_account_users(reg, acct->id, cli->p);

    md_json_sets(acct->id, j, "id", NULL);
    md_json_setsa(users, j, "mds", NULL);
    return j;
}

static void account_say(md_cli_t *cli, md_reg_t *reg, const md_acme_acct_t *acct)
{
    apr_array_header_t *users = md_reg_account_users(reg, acct->id, cli->p);

    cli_say(cli, "%-28s %-11s %s (%s) contacts: %s; used by: %s", acct->id, acct->status ? acct->status : "?",
            acct->url ? acct->url : "", acct->ca_url ? acct->ca_url : "",
            acct->contacts && acct->contacts->nelts ? apr_array_pstrcat(cli->p, acct->contacts, ' ') : "none",
            users->nelts ? apr_array_pstrcat(cli->p, users, ' ') : "no MD");
}

/* Every stored account (or those matching the pattern); one that cannot be read (its key does not open with the
 * store key, a broken account.json) is named on stderr and in --json's "errors", and the exit is 1. */
static int account_show(md_cli_t *cli)
{
    md_reg_t *reg = md_reg_make(cli->store, NULL, cli->p);
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
        acct->id = id;
        md_json_addj(account_json(cli, reg, acct), out, "accounts", NULL);
        account_say(cli, reg, acct);
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
    if (rv == APR_SUCCESS) rv = cli_acme_for(&acme, cli, acct->ca_url, cli_account_ca_file(cli, id), result);
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

/* The CAs to look for an account at: those of -a, else those the store's MDs use. */
static apr_array_header_t *restore_cas(md_cli_t *cli, md_reg_t *reg)
{
    apr_array_header_t *cas;
    md_reg_ca_t *ca;
    int i;

    if (cli->cas->nelts == 0) return md_reg_cas(reg, cli->p);
    cas = apr_array_make(cli->p, cli->cas->nelts, sizeof(md_reg_ca_t *));
    for (i = 0; i < cli->cas->nelts; ++i) {
        ca = apr_pcalloc(cli->p, sizeof(*ca));
        ca->url = md_acme_ca_url_for(APR_ARRAY_IDX(cli->cas, i, const char *));
        APR_ARRAY_PUSH(cas, md_reg_ca_t *) = ca;
    }
    return cas;
}

/* account restore --key FILE: newAccount with onlyReturnExisting at each CA; an account found is stored and taken by
 * the MDs of that CA that lack one. */
static int account_restore(md_cli_t *cli)
{
    md_reg_t *reg = md_reg_make(cli->store, NULL, cli->p);
    md_result_t *result = md_result_make(cli->p);
    md_json_t *out = md_json_create(cli->p), *j;
    apr_array_header_t *cas, *names;
    md_acme_acct_t *acct;
    md_acme_t *acme;
    md_pkey_t *key;
    md_reg_ca_t *ca;
    apr_status_t rv;
    int i, found = 0;

    if (cli->keys->nelts != 1) {
        return cli_failf(cli, CLI_EXIT_USAGE, "account restore: give the account's key: --key FILE");
    }
    if (md_store_pkey_fload(&key, cli->store, APR_ARRAY_IDX(cli->keys, 0, const char *), result, cli->p)
        != APR_SUCCESS) {
        return cli_fail(cli, CLI_EXIT_ERROR, result);
    }
    cas = restore_cas(cli, reg);
    if (cas->nelts == 0) return cli_failf(cli, CLI_EXIT_USAGE, "account restore: no MD uses a CA: name it with -a");
    md_json_setj(md_json_create_array(cli->p), out, "restored", NULL);
    md_json_setj(md_json_create_array(cli->p), out, "not-found", NULL);
    for (i = 0; i < cas->nelts; ++i) {
        ca = APR_ARRAY_IDX(cas, i, md_reg_ca_t *);
        md_result_reset(result);
        rv = cli_acme_for(&acme, cli, ca->url, cli->ca_file ? cli->ca_file : ca->ca_file, result);
        if (rv == APR_SUCCESS) rv = md_acme_acct_find(&acct, acme, key, result, cli->p);
        if (rv == APR_SUCCESS) rv = md_reg_account_restore(&names, reg, acct, key, result, cli->p);
        if (rv != APR_SUCCESS) {
            j = md_json_create(cli->p);
            md_json_sets(ca->url, j, "ca-url", NULL);
            md_json_sets(md_result_text(result, cli->p), j, "detail", NULL);
            md_json_addj(j, out, "not-found", NULL);
            fprintf(stderr, "mdomain: no account of this key at %s: %s\n", ca->url, md_result_text(result, cli->p));
            continue;
        }
        ++found;
        j = account_json(cli, reg, acct);
        md_json_setsa(names, j, "given-to", NULL);
        md_json_addj(j, out, "restored", NULL);
        cli_say(cli, "restored %s as %s (%s); given to: %s", acct->url, acct->id, ca->url,
                names->nelts ? apr_array_pstrcat(cli->p, names, ' ') : "no MD (they have an account)");
    }
    if (cli->json) cli_json_out(cli, out);
    return found ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

int cli_verb_account(md_cli_t *cli)
{
    const char *sub = cli->args->nelts ? APR_ARRAY_IDX(cli->args, 0, const char *) : "list";
    int rc;

    if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "update") && strcmp(sub, "rollover")
        && strcmp(sub, "deactivate") && strcmp(sub, "restore")) {
        return cli_failf(cli, CLI_EXIT_USAGE, "account '%s': use list, show, update, rollover, deactivate or "
                         "restore", sub);
    }
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (!strcmp(sub, "list") || !strcmp(sub, "show")) return account_show(cli);
    if (!strcmp(sub, "restore")) return account_restore(cli);
    if (!strcmp(sub, "update") && cli->contacts->nelts == 0) {
        return cli_failf(cli, CLI_EXIT_USAGE, "account update: give the new contacts with -c EMAIL");
    }
    return account_change(cli, sub);
}
