/* The revoke verb: revoke an MD's active certificates at its CA, with a reason. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_order.h"
#include "md_cert.h"
#include "cli.h"

static apr_status_t revoke_all(md_cli_t *cli, const md_t *md, int reason, md_json_t *out, md_result_t *result)
{
    md_acme_acct_t *acct;
    md_acme_t *acme;
    md_pkey_t *key;
    void *chain;
    int i, done = 0;
    apr_status_t rv;

    if (!md->ca_account) {
        md_result_printf(result, APR_ENOENT, "%s has no account yet: nothing was issued to revoke", md->name);
        return APR_ENOENT;
    }
    rv = md_acme_acct_load(&acct, &key, cli->store, md->ca_account, result, cli->p);
    if (rv == APR_SUCCESS) {
        rv = cli_acme_for(&acme, cli, acct->ca_url, cli->ca_file ? cli->ca_file : md->ca_file, result);
    }
    if (rv != APR_SUCCESS) return rv;
    md_acme_set_account(acme, acct->url, key);
    for (i = 0; i < md->pks->nelts && rv == APR_SUCCESS; ++i) {
        chain = NULL;
        if (md_store_load(&chain, cli->store, MD_SG_DOMAINS, md->name, md_cert_aspect(md, i, cli->p), MD_SV_CHAIN,
                          NULL, cli->p) != APR_SUCCESS) {
            continue;
        }
        md_cert_t *cert = APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
        void *cert_key = NULL;
        if (cli->revoke_by_cert_key) {
            rv = md_store_load(&cert_key, cli->store, MD_SG_DOMAINS, md->name, md_pkey_aspect(md, i, cli->p),
                               MD_SV_PKEY, result, cli->p);
            if (rv != APR_SUCCESS) break;
        }
        rv = md_acme_revoke(acme, cert, reason, cert_key, result, cli->p);
        if (rv == APR_SUCCESS) {
            md_json_adds(md_cert_get_serial_hex(cert, cli->p), out, "revoked", NULL);
            cli_say(cli, "%s: revoked certificate %s", md->name, md_cert_get_serial_hex(cert, cli->p));
            ++done;
        }
    }
    if (rv == APR_SUCCESS && done == 0) {
        md_result_printf(result, APR_ENOENT, "%s has no certificate to revoke", md->name);
        rv = APR_ENOENT;
    }
    return rv;
}

int cli_verb_revoke(md_cli_t *cli)
{
    md_result_t *result = md_result_make(cli->p);
    md_json_t *out = md_json_create(cli->p);
    const char *name;
    md_t *md;
    int reason = -1, rc;
    apr_status_t rv;

    if (cli->args->nelts != 1) return cli_failf(cli, CLI_EXIT_USAGE, "revoke: give one NAME");
    if (cli->reason && (reason = md_acme_revoke_reason_parse(cli->reason)) < 0) {
        return cli_failf(cli, CLI_EXIT_USAGE, "revoke --reason '%s': use unspecified, keyCompromise, superseded, "
                         "affiliationChanged or cessationOfOperation", cli->reason);
    }
    name = APR_ARRAY_IDX(cli->args, 0, const char *);
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    rv = md_load(&md, cli->store, MD_SG_DOMAINS, name, result, cli->p);
    md_json_sets(name, out, "name", NULL);
    if (rv == APR_SUCCESS) rv = revoke_all(cli, md, reason, out, result);
    if (rv != APR_SUCCESS) return cli_fail(cli, CLI_EXIT_ERROR, result);
    if (cli->json) cli_json_out(cli, out);
    return CLI_EXIT_OK;
}
