/* Installing an MD's certificates for servers other than Apache: the full chain and key written atomically to its
 * install paths (the key first) with its owner and mode, then its install program through the dispatcher. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_event.h"
#include "md_file.h"
#include "md_pkey.h"
#include "md_reg_renew.h"
#include "md_result.h"

#define INSTALL_TIMEOUT apr_time_from_sec(120)

static apr_status_t run_install_cmd(md_reg_t *reg, const md_events_t *events, const md_t *md, md_result_t *result,
                                    apr_pool_t *p)
{
    apr_array_header_t *argv = apr_array_copy(p, md->install_cmd);
    apr_table_t *env = apr_table_make(p, 2);
    md_event_outcome_t outcome = MD_EVENT_NONE;
    md_events_t ev;

    if (events) ev = *events;
    else memset(&ev, 0, sizeof(ev));
    ev.store_dir = md_store_base_dir(reg->store);
    APR_ARRAY_PUSH(argv, const char *) = md->name;
    if (md->install_chain) apr_table_set(env, "MD_CHAIN_FILE", md->install_chain);
    if (md->install_key) apr_table_set(env, "MD_KEY_FILE", md->install_key);
    return md_event_run(&outcome, &ev, "install program", argv, md->name, "installed", env, INSTALL_TIMEOUT,
                        result, p);
}

static apr_status_t install_files(md_reg_t *reg, const md_t *md, md_result_t *result, apr_pool_t *p)
{
    void *chain = NULL, *key = NULL;
    const char *pem, *kpem, *err = NULL;
    apr_size_t len, klen;
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    apr_status_t rv = APR_SUCCESS;

    if (md->install_owner && md_file_owner_parse(&uid, &gid, md->install_owner, &err, p) != APR_SUCCESS) {
        md_result_printf(result, APR_EINVAL, "cannot install %s: owner %s", md->name, err);
        return APR_EINVAL;
    }
    rv = md_store_load(&chain, reg->store, MD_SG_DOMAINS, md->name, md_cert_aspect(md, 0, p), MD_SV_CHAIN,
                       result, p);
    if (rv == APR_SUCCESS) {
        rv = md_store_load(&key, reg->store, MD_SG_DOMAINS, md->name, md_pkey_aspect(md, 0, p), MD_SV_PKEY,
                           result, p);
    }
    if (rv == APR_SUCCESS) rv = md_cert_chain_to_pem(&pem, &len, chain, p);
    if (rv == APR_SUCCESS) rv = md_pkey_to_pem(&kpem, &klen, key, NULL, 0, p);
    /* the key first: a server reloading in between must never see a chain without its key */
    if (rv == APR_SUCCESS) {
        rv = md_file_write_atomic_owned(md->install_key, kpem, klen, (apr_fileperms_t)md->install_mode, uid, gid, p);
    }
    if (rv == APR_SUCCESS) rv = md_file_write_atomic_owned(md->install_chain, pem, len, MD_FPERMS_PUBLIC, uid, gid, p);
    /* The OCSP response (hook point): when the MD asks for its stapled OCSP response to be installed too (an install
     * path for it, built with the OCSP support of src/core/ocsp/), it is written here the same way, after the
     * chain, so the reload program of the batch sees chain, key and response together. Not done yet. */
    if (rv != APR_SUCCESS && (!result->detail || result->status == APR_SUCCESS)) {
        md_result_printf(result, rv, "cannot install %s to %s and %s", md->name, md->install_chain, md->install_key);
    }
    return rv;
}

apr_status_t md_reg_install(md_reg_t *reg, const md_events_t *events, const md_t *md, md_result_t *result,
                            apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;

    if (md->install_chain && md->install_key) rv = install_files(reg, md, result, p);
    if (rv == APR_SUCCESS && md->install_cmd && md->install_cmd->nelts > 0) {
        rv = run_install_cmd(reg, events, md, result, p);
    }
    return rv;
}
