/* The ocsp verb (fetch, verify and store an MD's OCSP response, written to --out or its --install-ocsp) and the
 * revocation work of drive: the CRL checks and the installed responses, all decided by the registry. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_reg_ocsp.h"
#include "md_time.h"
#include "cli.h"

static void ocsp_opts(md_reg_ocsp_opts_t *opts, md_cli_t *cli, const md_reg_renew_t *rn)
{
    memset(opts, 0, sizeof(*opts));
    opts->keep = -1;
    opts->http.proxy_url = cli->proxy;
    opts->rn = rn;
}

static md_json_t *resp_json(const char *name, const md_ocsp_resp_t *resp, const char *file, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(name, json, "name", NULL);
    md_json_sets(md_ocsp_status_str(resp->status), json, "status", NULL);
    md_json_sets(md_time_print_http(resp->this_update, p), json, "valid", "from", NULL);
    md_json_sets(md_time_print_http(resp->valid_until, p), json, "valid", "until", NULL);
    if (file) md_json_sets(file, json, "file", NULL);
    return json;
}

int cli_verb_ocsp(md_cli_t *cli)
{
    md_result_t *result = md_result_make(cli->p);
    md_reg_ocsp_opts_t opts;
    md_ocsp_resp_t *resp = NULL;
    md_reg_state_t *st;
    md_reg_t *reg;
    const md_reg_cert_t *c;
    const char *name, *path;
    int rc, written = 0;

    if (cli->args->nelts != 1) return cli_failf(cli, CLI_EXIT_USAGE, "ocsp: give one NAME");
    name = APR_ARRAY_IDX(cli->args, 0, const char *);
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    reg = md_reg_make(cli->store, NULL, cli->p);
    if (md_reg_load_state(&st, reg, name, NULL, result, cli->p) != APR_SUCCESS) {
        return cli_fail(cli, CLI_EXIT_ERROR, result);
    }
    ocsp_opts(&opts, cli, NULL);
    path = cli->out ? cli->out : st->md->install_ocsp;
    if (path) {
        if (md_reg_ocsp_install(&resp, &written, reg, st->md, path, &opts, 1, result, cli->p) != APR_SUCCESS) {
            return cli_fail(cli, CLI_EXIT_ERROR, result);
        }
    }
    else {
        c = st->certs->nelts ? APR_ARRAY_IDX(st->certs, 0, const md_reg_cert_t *) : NULL;
        if (!c || !c->cert || !c->chain || c->chain->nelts < 2) {
            return cli_failf(cli, CLI_EXIT_ERROR, "ocsp: %s has no certificate with its issuer in the chain", name);
        }
        if (md_reg_ocsp_fetch_one(&resp, reg, name, c->cert, APR_ARRAY_IDX(c->chain, 1, md_cert_t *), &opts,
                                  result, cli->p) != APR_SUCCESS) {
            return cli_fail(cli, CLI_EXIT_ERROR, result);
        }
    }
    if (cli->json) cli_json_out(cli, resp_json(name, resp, path, cli->p));
    cli_say(cli, "%s: OCSP %s, valid until %s%s%s", name, md_ocsp_status_str(resp->status),
            md_time_print_rfc3339(resp->valid_until, cli->p), path ? ", written to " : "", path ? path : "");
    return resp->status == MD_OCSP_REVOKED ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

void cli_revocation_pass(md_cli_t *cli, const apr_array_header_t *names, const md_reg_renew_t *rn)
{
    md_reg_t *reg = md_reg_make(cli->store, NULL, cli->p);
    md_result_t *result;
    md_reg_ocsp_opts_t opts;
    md_reg_state_t *st;
    apr_pool_t *ptemp;
    const char *name;
    int i, revoked, checked;

    ocsp_opts(&opts, cli, rn);
    apr_pool_create(&ptemp, cli->p);
    for (i = 0; i < names->nelts; ++i) {
        apr_pool_clear(ptemp);
        name = APR_ARRAY_IDX(names, i, const char *);
        result = md_result_make(ptemp);
        if (md_reg_load_state(&st, reg, name, NULL, result, ptemp) != APR_SUCCESS) continue;
        revoked = checked = 0;
        if (!cli->no_revocation_check
            && (md_reg_crl_check(&revoked, &checked, reg, st->md, NULL, &opts, 0, result, ptemp) != APR_SUCCESS
                || result->status != APR_SUCCESS)) {
            fprintf(stderr, "mdomain: %s: CRL check failed: %s\n", name, md_result_text(result, ptemp));
        }
        if (checked && cli->verbose) fprintf(stderr, "[%s] CRL checked for %d certificates\n", name, checked);
        if (revoked) cli_say(cli, "%s: a certificate is revoked: renewing it now", name);
    }
    apr_pool_destroy(ptemp);
}

void cli_ocsp_install_pass(md_cli_t *cli, const apr_array_header_t *names, const md_reg_renew_t *rn)
{
    md_reg_t *reg = md_reg_make(cli->store, NULL, cli->p);
    md_reg_ocsp_opts_t opts;
    md_ocsp_resp_t *resp;
    md_result_t *result;
    md_t *md;
    apr_pool_t *ptemp;
    const char *name;
    int i, written;

    ocsp_opts(&opts, cli, rn);
    apr_pool_create(&ptemp, cli->p);
    for (i = 0; i < names->nelts; ++i) {
        apr_pool_clear(ptemp);
        name = APR_ARRAY_IDX(names, i, const char *);
        result = md_result_make(ptemp);
        md = NULL;
        if (md_load(&md, cli->store, MD_SG_DOMAINS, name, result, ptemp) != APR_SUCCESS || !md->install_ocsp) continue;
        written = 0;
        if (md_reg_ocsp_install(&resp, &written, reg, md, md->install_ocsp, &opts, 0, result, ptemp) != APR_SUCCESS) {
            fprintf(stderr, "mdomain: %s: OCSP response for %s: %s\n", name, md->install_ocsp,
                    md_result_text(result, ptemp));
        }
        else if (written && cli->verbose) {
            fprintf(stderr, "[%s] OCSP response (%s) written to %s\n", name, md_ocsp_status_str(resp->status),
                    md->install_ocsp);
        }
    }
    apr_pool_destroy(ptemp);
}
