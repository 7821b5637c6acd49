/* Installing certificates for servers other than Apache: the full chain and key written atomically to the
 * MD's target paths, then its program run (e.g. a mail server's reload). */
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_exec.h"
#include "md_file.h"
#include "md_pkey.h"
#include "cli.h"

static apr_status_t run_install_cmd(md_cli_t *cli, const md_t *md, md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *argv = apr_array_copy(p, md->install_cmd);
    apr_table_t *env = apr_table_make(p, 4);
    const char *output = NULL;
    int code = 0;
    apr_status_t rv;

    APR_ARRAY_PUSH(argv, const char *) = md->name;
    apr_table_set(env, "MD_MDOMAIN", md->name);
    apr_table_set(env, "MD_VERSION", MD_VERSION);
    apr_table_set(env, "MD_STORE", md_store_base_dir(cli->store));
    if (md->install_chain) apr_table_set(env, "MD_CHAIN_FILE", md->install_chain);
    if (md->install_key) apr_table_set(env, "MD_KEY_FILE", md->install_key);
    rv = md_exec_run(&code, &output, argv, env, apr_time_from_sec(120), result, p);
    if (rv == APR_SUCCESS && code != 0) {
        md_result_printf(result, APR_EGENERAL, "install program %s %s exited with %d: %s",
                         APR_ARRAY_IDX(argv, 0, const char *), md->name, code, output ? output : "");
        rv = APR_EGENERAL;
    }
    return rv;
}

static apr_status_t install_files(md_cli_t *cli, const md_t *md, md_result_t *result, apr_pool_t *p)
{
    void *chain = NULL, *key = NULL;
    const char *pem;
    apr_size_t len;
    apr_status_t rv;

    rv = md_store_load(&chain, cli->store, MD_SG_DOMAINS, md->name, md_cert_aspect(md, 0, p), MD_SV_CHAIN,
                       result, p);
    if (rv == APR_SUCCESS) {
        rv = md_store_load(&key, cli->store, MD_SG_DOMAINS, md->name, md_pkey_aspect(md, 0, p), MD_SV_PKEY,
                           result, p);
    }
    if (rv == APR_SUCCESS) rv = md_cert_chain_to_pem(&pem, &len, chain, p);
    /* the key first: a server reloading in between must never see a chain without its key */
    if (rv == APR_SUCCESS) rv = md_pkey_fsave(key, md->install_key, NULL, 0, (apr_fileperms_t)md->install_mode, p);
    if (rv == APR_SUCCESS) rv = md_file_write_atomic(md->install_chain, pem, len, MD_FPERMS_PUBLIC, p);
    if (rv != APR_SUCCESS && !result->detail) {
        md_result_printf(result, rv, "cannot install %s to %s and %s", md->name, md->install_chain, md->install_key);
    }
    return rv;
}

apr_status_t cli_install(md_cli_t *cli, const char *name, md_result_t *result, apr_pool_t *p)
{
    md_t *md;
    apr_status_t rv;

    rv = md_load(&md, cli->store, MD_SG_DOMAINS, name, result, p);
    if (rv != APR_SUCCESS) return rv;
    if (md->install_chain && md->install_key) {
        rv = install_files(cli, md, result, p);
        if (rv != APR_SUCCESS) return rv;
        cli_say(cli, "%s: installed %s and %s", name, md->install_chain, md->install_key);
    }
    if (md->install_cmd && md->install_cmd->nelts > 0) rv = run_install_cmd(cli, md, result, p);
    return rv;
}
