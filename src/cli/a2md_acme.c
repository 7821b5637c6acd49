/* a2md acme newreg|delreg|agree|validate: ACME accounts at the CA (newreg at the CA of -a, the others at the stored
 * account's own CA), stored in the store's accounts/ as the drive uses them. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "a2md.h"

static void out_account(a2md_t *a, const md_acme_acct_t *acct)
{
    md_json_t *j = md_acme_acct_to_json(acct, a->cli->p);

    md_json_sets(acct->id, j, "id", NULL);
    md_json_addj(j, a->output, NULL);
    a2md_say(a, "%s: %s %s (%s)", acct->id, acct->status ? acct->status : "?", acct->url ? acct->url : "",
             acct->ca_url ? acct->ca_url : "");
}

static int acme_fail(a2md_t *a, const char *what, const md_result_t *result)
{
    return a2md_failf(a, result->status != APR_SUCCESS ? result->status : APR_EGENERAL, CLI_EXIT_ERROR, "acme %s: %s",
                      what, md_result_text(result, a->cli->p));
}

/* newreg CONTACT...: a new account at the CA of -a (Let's Encrypt without), agreeing to its terms with -t. */
static int newreg(a2md_t *a)
{
    md_result_t *result = md_result_make(a->cli->p);
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    apr_array_header_t *contacts = apr_array_make(a->cli->p, 2, sizeof(const char *));
    const char *ca = md_acme_ca_url_for(a->cli->cas->nelts ? APR_ARRAY_IDX(a->cli->cas, 0, const char *) : "letsencrypt");
    md_acme_acct_t *acct = NULL;
    md_acme_t *acme;
    md_pkey_t *key;
    apr_status_t rv;
    int i;

    if (a->argc < 1) return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "acme newreg: give a contact-uri (mailto:...)");
    for (i = 0; i < a->argc; ++i) APR_ARRAY_PUSH(contacts, const char *) = a->argv[i];
    rv = md_pkey_gen(&key, &spec, a->cli->p);
    if (rv == APR_SUCCESS) rv = cli_acme_for(&acme, a->cli, ca, a->cli->ca_file, result);
    if (rv == APR_SUCCESS) rv = md_acme_acct_register(&acct, acme, key, contacts, a->cli->terms != NULL, NULL, result,
                                                      a->cli->p);
    if (rv == APR_SUCCESS && a->cli->terms && strcasecmp(a->cli->terms, "accepted")) acct->agreement = a->cli->terms;
    if (rv == APR_SUCCESS) rv = md_acme_acct_save(acct, key, a->cli->store, result, a->cli->p);
    if (rv != APR_SUCCESS) return acme_fail(a, "newreg", result);
    out_account(a, acct);
    return a2md_done(a, APR_SUCCESS, NULL, CLI_EXIT_OK);
}

/* delreg|agree|validate ACCOUNT: the stored account at its CA; the answer is stored. */
static int on_account(a2md_t *a, const char *what)
{
    md_result_t *result = md_result_make(a->cli->p);
    md_acme_acct_t *acct = NULL;
    md_acme_t *acme;
    md_pkey_t *key;
    apr_status_t rv;

    if (a->argc != 1) return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "acme %s: give one account id", what);
    rv = md_acme_acct_load(&acct, &key, a->cli->store, a->argv[0], result, a->cli->p);
    if (rv == APR_ENOENT) return a2md_failf(a, rv, CLI_EXIT_ERROR, "acme %s: no account '%s' in the store", what,
                                            a->argv[0]);
    if (rv == APR_SUCCESS) {
        acct->id = a->argv[0];
        rv = cli_acme_for(&acme, a->cli, acct->ca_url, cli_account_ca_file(a->cli, acct->id), result);
    }
    if (rv == APR_SUCCESS) md_acme_set_account(acme, acct->url, key);
    if (rv == APR_SUCCESS && !strcmp(what, "delreg")) rv = md_acme_acct_deactivate(acct, acme, result, a->cli->p);
    else if (rv == APR_SUCCESS && !strcmp(what, "agree")) {
        rv = md_acme_acct_agree(acct, acme, a->cli->terms && strcasecmp(a->cli->terms, "accepted") ? a->cli->terms
                                : NULL, result, a->cli->p);
    }
    else if (rv == APR_SUCCESS) rv = md_acme_acct_refresh(acct, acme, result, a->cli->p);
    if (rv == APR_SUCCESS) rv = md_acme_acct_save(acct, NULL, a->cli->store, result, a->cli->p);
    if (rv != APR_SUCCESS) return acme_fail(a, what, result);
    out_account(a, acct);
    if (!strcmp(what, "validate") && (!acct->status || strcmp(acct->status, "valid"))) {
        return a2md_failf(a, APR_EACCES, CLI_EXIT_ERROR, "acme validate: the account %s is %s", acct->id,
                          acct->status ? acct->status : "of unknown status");
    }
    return a2md_done(a, APR_SUCCESS, NULL, CLI_EXIT_OK);
}

int a2md_acme(a2md_t *a)
{
    const char *sub = a->argc ? a->argv[0] : "";
    int rc;

    if (strcmp(sub, "newreg") && strcmp(sub, "delreg") && strcmp(sub, "agree") && strcmp(sub, "validate")) {
        return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "acme: use newreg, delreg, agree or validate");
    }
    --a->argc;
    ++a->argv;
    if ((rc = a2md_store_open(a)) != CLI_EXIT_OK) return rc;
    if (!strcmp(sub, "newreg")) return newreg(a);
    return on_account(a, sub);
}
