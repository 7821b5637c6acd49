/* The status of managed domains as JSON and as text: list, show, and remove. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_drive.h"
#include "md_job.h"
#include "md_renew.h"
#include "md_time.h"
#include "cli.h"

static md_json_t *cert_json(const apr_array_header_t *chain, const char *aspect, apr_pool_t *p)
{
    md_cert_t *cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
    md_json_t *json = md_json_create(p);
    const char *ari = NULL;

    md_json_sets(aspect, json, "file", NULL);
    md_json_sets(md_time_print_rfc3339(md_cert_get_not_before(cert), p), json, "valid", "from", NULL);
    md_json_sets(md_time_print_rfc3339(md_cert_get_not_after(cert), p), json, "valid", "until", NULL);
    md_json_sets(md_cert_get_serial_hex(cert, p), json, "serial", NULL);
    md_json_sets(md_cert_get_sha256_fingerprint(cert, p), json, "sha256-fingerprint", NULL);
    md_json_sets(md_cert_get_issuer(cert, p), json, "issuer", NULL);
    if (md_cert_get_ari_cert_id(&ari, cert, p) == APR_SUCCESS) md_json_sets(ari, json, "ari-cert-id", NULL);
    return json;
}

/* Certificates per key type, and the MD's state from them. */
static md_state_t certs_json(md_json_t *json, md_cli_t *cli, const md_t *md, apr_pool_t *p)
{
    md_state_t state = MD_S_COMPLETE;
    apr_time_t now = apr_time_now();
    const char *aspect;
    md_cert_t *cert;
    void *chain;
    int i, k;

    for (i = 0; i < md->pks->nelts; ++i) {
        const char *keyname = md_pkey_spec_label(APR_ARRAY_IDX(md->pks, i, md_pkey_spec_t *));
        aspect = md_cert_aspect(md, i, p);
        chain = NULL;
        if (md_store_load(&chain, cli->store, MD_SG_DOMAINS, md->name, aspect, MD_SV_CHAIN, NULL, p) != APR_SUCCESS) {
            state = MD_S_INCOMPLETE;
            continue;
        }
        md_json_setj(cert_json(chain, aspect, p), json, "cert", keyname, NULL);
        cert = APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
        if (md_cert_get_not_after(cert) < now && state == MD_S_COMPLETE) state = MD_S_EXPIRED;
        for (k = 0; k < md->domains->nelts; ++k) {
            if (!md_cert_covers(cert, APR_ARRAY_IDX(md->domains, k, const char *), p)) state = MD_S_INCOMPLETE;
        }
    }
    return state;
}

static void renewal_json(md_json_t *json, md_cli_t *cli, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *vals;
    md_job_t *job;

    md_drive_validities(&vals, cli->store, MD_SG_DOMAINS, md, p);
    md_json_sets(md_time_print_rfc3339(md_renew_due(md, vals, 0), p), json, "renewal", "due", NULL);
    /* inside the warn window (or expired): operators should look */
    md_json_setb(md_renew_should_warn(md, vals, apr_time_now()), json, "renewal", "warn", NULL);
    if (md_job_load(&job, cli->store, MD_SG_STAGING, md->name, NULL, p) != APR_SUCCESS) return;
    if (!md_store_exists(cli->store, MD_SG_STAGING, md->name, "job.json", p)) return;
    md_json_setb(job->finished, json, "renewal", "staged", NULL);
    md_json_setl(job->errors, json, "renewal", "errors", NULL);
    if (job->next_run) md_json_sets(md_time_print_rfc3339(job->next_run, p), json, "renewal", "next-run", NULL);
    md_json_setj(job->last, json, "renewal", "last", NULL);
}

md_json_t *cli_md_status(md_cli_t *cli, const char *name, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);
    md_result_t *result = md_result_make(p);
    md_state_t state;
    md_t *md;

    if (md_load(&md, cli->store, MD_SG_DOMAINS, name, result, p) != APR_SUCCESS) {
        md_json_sets(name, json, "name", NULL);
        md_json_setl(MD_S_ERROR, json, "state", NULL);
        md_json_sets(md_result_text(result, p), json, "state-descr", NULL);
        return json;
    }
    md_json_sets(md->name, json, "name", NULL);
    md_json_setsa(md->domains, json, "domains", NULL);
    md_json_setl(MD_S_UNKNOWN, json, "state", NULL);
    md_json_setsa(md->ca_urls, json, "ca", "urls", NULL);
    md_json_sets(md->ca_effective ? md->ca_effective : APR_ARRAY_IDX(md->ca_urls, 0, const char *), json, "ca", "url", NULL);
    if (md->ca_account) md_json_sets(md->ca_account, json, "ca", "account", NULL);
    md_json_sets(md_timeslice_print(md->renew_window, p), json, "renew-window", NULL);
    state = certs_json(json, cli, md, p);
    md_json_setl(state, json, "state", NULL);
    md_json_sets(md_state_str(state), json, "state-descr", NULL);
    renewal_json(json, cli, md, p);
    return json;
}

static int say_cert(void *baton, const char *key, md_json_t *cert)
{
    md_cli_t *cli = baton;

    cli_say(cli, "  %-10s valid %s .. %s, serial %s", key, md_json_gets(cert, "valid", "from", NULL),
            md_json_gets(cert, "valid", "until", NULL), md_json_gets(cert, "serial", NULL));
    return 1;
}

static void say_status(md_cli_t *cli, const md_json_t *st, int detailed)
{
    const char *last = md_json_gets(st, "renewal", "last", "detail", NULL);
    long long errors = md_json_getl(st, "renewal", "errors", NULL);
    md_json_t *certs = md_json_getj(st, "cert", NULL);

    cli_say(cli, "%-32s %-10s renewal due %s%s", md_json_gets(st, "name", NULL),
            md_json_gets(st, "state-descr", NULL), md_json_gets(st, "renewal", "due", NULL),
            md_json_getb(st, "renewal", "warn", NULL) ? "  WARNING: expires soon" : "");
    if (detailed) {
        cli_say(cli, "  names: %s", md_json_writep(md_json_getj(st, "domains", NULL), MD_JSON_FMT_COMPACT, cli->p));
        cli_say(cli, "  CA:    %s", md_json_gets(st, "ca", "url", NULL));
    }
    if (certs) md_json_iterkey(say_cert, cli, certs, NULL);
    if (errors > 0) {
        cli_say(cli, "  %lld failed attempt(s), next %s: %s", errors, md_json_gets(st, "renewal", "next-run", NULL),
                last ? last : "");
    }
}

int cli_verb_list(md_cli_t *cli)
{
    md_json_t *out = md_json_create(cli->p), *st;
    apr_array_header_t *names;
    int i, rc;

    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (md_store_list(&names, cli->store, MD_SG_DOMAINS, "*", cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "cannot list %s/domains", cli->store_dir);
    }
    md_json_sets(MD_VERSION, out, "version", NULL);
    md_json_setl(names->nelts, out, "managed-domains", NULL);
    md_json_setj(md_json_create_array(cli->p), out, "domains", NULL);
    for (i = 0; i < names->nelts; ++i) {
        st = cli_md_status(cli, APR_ARRAY_IDX(names, i, const char *), cli->p);
        md_json_addj(st, out, "domains", NULL);
        say_status(cli, st, 0);
    }
    if (cli->json) cli_json_out(cli, out);
    else if (names->nelts == 0) cli_say(cli, "no managed domains in %s", cli->store_dir);
    return CLI_EXIT_OK;
}

int cli_verb_show(md_cli_t *cli)
{
    const char *name;
    md_json_t *st;
    int rc;

    if (cli->args->nelts != 1) return cli_failf(cli, CLI_EXIT_USAGE, "show: give one NAME");
    name = APR_ARRAY_IDX(cli->args, 0, const char *);
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (!md_store_exists(cli->store, MD_SG_DOMAINS, name, "md.json", cli->p)) {
        return cli_failf(cli, CLI_EXIT_ERROR, "show: no managed domain '%s' in %s", name, cli->store_dir);
    }
    st = cli_md_status(cli, name, cli->p);
    if (cli->json) cli_json_out(cli, st);
    else say_status(cli, st, 1);
    return CLI_EXIT_OK;
}

int cli_verb_remove(md_cli_t *cli)
{
    const char *name, *archived = NULL;
    int rc;

    if (cli->args->nelts != 1) return cli_failf(cli, CLI_EXIT_USAGE, "remove: give one NAME");
    name = APR_ARRAY_IDX(cli->args, 0, const char *);
    if ((rc = cli_store_open(cli)) != CLI_EXIT_OK) return rc;
    if (md_store_archive(&archived, cli->store, MD_SG_DOMAINS, name, cli->p) != APR_SUCCESS) {
        return cli_failf(cli, CLI_EXIT_ERROR, "remove: no managed domain '%s' in %s", name, cli->store_dir);
    }
    md_store_purge(cli->store, MD_SG_STAGING, name, cli->p);
    if (cli->json) {
        md_json_t *out = md_json_create(cli->p);
        md_json_sets(name, out, "name", NULL);
        md_json_sets(archived, out, "archived-as", NULL);
        cli_json_out(cli, out);
    }
    cli_say(cli, "removed %s (its files are in archive/%s)", name, archived);
    return CLI_EXIT_OK;
}
