/* mod_ssl hand-over: the certificate and key files of managed hosts, and the self-signed fallback while there are none.
 * The fallback key is one P-256 key for all MDs, made once, kept unencrypted (0600, root) at STORE/fallback-privkey.pem;
 * each MD's self-signed certificate is domains/NAME/fallback-pubcert.pem (valid for 7 days, remade when needed). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_ssl.h>
#include <unixd.h>

#include "md.h"
#include "md_cert.h"
#include "md_file.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

#define FALLBACK_KEY "fallback-privkey.pem"
#define FALLBACK_CERT "fallback-pubcert.pem"
#define FALLBACK_VALID apr_time_from_sec(7 * 24 * 3600)

/* The one fallback key: loaded from the store top, or generated (P-256: milliseconds) and saved there. */
static apr_status_t fallback_key(md_pkey_t **pkey, const char *path, apr_pool_t *p)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    apr_status_t rv;

    if (md_pkey_fload(pkey, path, NULL, 0, NULL, p) == APR_SUCCESS) return APR_SUCCESS;
    rv = md_pkey_gen(pkey, &spec, p);
    if (rv == APR_SUCCESS) rv = md_pkey_fsave(*pkey, path, NULL, 0, 0600, p);
    return rv;
}

/* True when the fallback certificate at path is for this key, covers the MD's names and is good for a day. */
static int fallback_cert_ok(const char *path, const md_t *md, const md_pkey_t *key, apr_pool_t *p)
{
    apr_array_header_t *chain;
    const md_cert_t *cert;

    if (md_cert_chain_fload(&chain, path, NULL, p) != APR_SUCCESS || chain->nelts < 1) return 0;
    cert = APR_ARRAY_IDX(chain, 0, const md_cert_t *);
    if (!md_cert_matches_key(cert, key)) return 0;
    if (md_cert_get_not_after(cert) < apr_time_now() + apr_time_from_sec(24 * 3600)) return 0;
    return md_cert_covers_all(cert, md->domains, NULL, p);
}

/* Write a fallback certificate through a temporary file and a rename, without fsync: it is remade from the key
 * whenever it is missing or unusable, and 1000 MDs would otherwise cost 2000 fsyncs at the first start. */
static apr_status_t fallback_write(const char *pem, apr_size_t len, const char *path, apr_pool_t *p)
{
    apr_status_t rv;

    /* the mode and group that domains/ files get from the store setup, which ran before */
    rv = md_file_write_atomic_nosync(path, pem, len, 0640, p);
    if (rv == APR_SUCCESS && geteuid() == 0 && chown(path, 0, ap_unixd_config.group_id) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    return rv;
}

typedef struct {
    md_pkey_t *key;
    md_cert_signer_t *signer;       /* all fallback certificates of a pass with the one key */
} fallback_ctx_t;

static apr_status_t fallback_cert(const char **ppath, md_store_t *store, const md_t *md, fallback_ctx_t *fb,
                                  apr_pool_t *pconf, apr_pool_t *p)
{
    const char *pem;
    apr_size_t len;
    apr_status_t rv;

    rv = md_store_get_fname(ppath, store, MD_SG_DOMAINS, md->name, FALLBACK_CERT, pconf);
    if (rv != APR_SUCCESS || fallback_cert_ok(*ppath, md, fb->key, p)) return rv;
    if (!fb->signer) {
        rv = md_cert_signer_make(&fb->signer, fb->key, FALLBACK_VALID, p);
        if (rv != APR_SUCCESS) return rv;
    }
    rv = md_cert_signer_pem(&pem, &len, fb->signer, md->name, md->domains, p);
    if (rv != APR_SUCCESS) return rv;
    return fallback_write(pem, len, *ppath, p);
}

apr_status_t md_httpd_fallbacks_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp)
{
    fallback_ctx_t fb = { NULL, NULL };
    md_managed_t *m;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        /* only a virtual host of the MD hands its fallback to mod_ssl (add_cert_files): none is made for an MD no
         * host names (driven with MDRenewMode always, its certificates used elsewhere) */
        if (m->usable || m->cert_files->nelts || m->servers->nelts == 0) continue;
        if (!fb.key) {
            mc->fallback_key = apr_pstrcat(s->process->pconf, md_store_base_dir(mc->store), "/", FALLBACK_KEY,
                                           NULL);
            rv = fallback_key(&fb.key, mc->fallback_key, ptemp);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, md_result_log_status(rv), s, "cannot make the fallback key %s",
                             mc->fallback_key);
                return rv;
            }
        }
        rv = fallback_cert(&m->fallback_cert, mc->store, m->md, &fb, s->process->pconf, ptemp);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, md_result_log_status(rv), s, "%s: cannot make its fallback "
                         "certificate", m->md->name);
            return rv;
        }
    }
    return APR_SUCCESS;
}

static void add_files(apr_array_header_t *certs, apr_array_header_t *keys, const apr_array_header_t *c,
                      const apr_array_header_t *k)
{
    int i;

    for (i = 0; i < c->nelts && i < k->nelts; ++i) {
        APR_ARRAY_PUSH(certs, const char *) = APR_ARRAY_IDX(c, i, const char *);
        APR_ARRAY_PUSH(keys, const char *) = APR_ARRAY_IDX(k, i, const char *);
    }
}

/* The self-signed fallback of the server's first MD without a usable certificate: 1 when added. */
static int add_fallback(const md_srv_conf_t *sc, apr_array_header_t *certs, apr_array_header_t *keys)
{
    const md_managed_t *m;
    int i;

    for (i = 0; sc->mds && i < sc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(sc->mds, i, const md_managed_t *);
        if (m->usable || !m->fallback_cert || !sc->mc->fallback_key) continue;
        APR_ARRAY_PUSH(certs, const char *) = m->fallback_cert;
        APR_ARRAY_PUSH(keys, const char *) = sc->mc->fallback_key;
        return 1;
    }
    return 0;
}

/* ssl_add_cert_files: the static files, or the usable certificates of the active set, of the server's MDs; else the
 * self-signed fallback. The fallback comes through this hook, not mod_ssl's fallback hook, on purpose: mod_ssl
 * answers every request on a host given a fallback that way with 503 for as long as it runs, so a certificate
 * served live (live.c) would never be answered with anything else. The 503 gate (gate.c) answers those requests
 * until the MD has a certificate, at the start or live. */
static int add_cert_files(server_rec *s, apr_pool_t *p, apr_array_header_t *certs, apr_array_header_t *keys)
{
    md_srv_conf_t *sc = md_config_get(s);
    const md_managed_t *m;
    const char *cf, *kf;
    int i, j, added = 0;

    for (i = 0; sc->mds && i < sc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(sc->mds, i, const md_managed_t *);
        if (m->cert_files->nelts) {
            add_files(certs, keys, m->cert_files, m->key_files);
            added = 1;
            continue;
        }
        if (!m->usable || !sc->mc->store) continue;
        for (j = 0; j < m->md->pks->nelts && j < 32; ++j) {
            if (!(m->usable & (1u << j))) continue;        /* missing or not valid: the others are served */
            if (md_store_get_fname(&cf, sc->mc->store, MD_SG_DOMAINS, m->md->name, md_cert_aspect(m->md, j, p), p)
                != APR_SUCCESS) continue;
            if (md_store_get_fname(&kf, sc->mc->store, MD_SG_DOMAINS, m->md->name, md_pkey_aspect(m->md, j, p), p)
                != APR_SUCCESS) continue;
            APR_ARRAY_PUSH(certs, const char *) = cf;
            APR_ARRAY_PUSH(keys, const char *) = kf;
            added = 1;
        }
    }
    if (!added) added = add_fallback(sc, certs, keys);
    return added ? OK : DECLINED;
}

void md_httpd_certs_hooks(void)
{
    ap_hook_ssl_add_cert_files(add_cert_files, NULL, NULL, APR_HOOK_MIDDLE);
}
