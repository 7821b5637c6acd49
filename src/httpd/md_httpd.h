/* mod_mdomain's internal interfaces between its files: store setup, mod_ssl hand-over, 503 gate, http-01, watchdog. */
#ifndef MD_HTTPD_H
#define MD_HTTPD_H

#include <httpd.h>
#include <http_config.h>

#include "md_config.h"
#include "md_responder.h"

/* store.c: open MDStoreDir, sync the configured MDs into domains/, activate complete staged sets, set
 * ownership so children can work in challenges/, staging/ and accounts/. Sets mc->store and m->usable. */
apr_status_t md_httpd_store_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp);

/* certs.c: the fallback key (one for all MDs) and a self-signed certificate per MD without a usable set;
 * registers nothing, the hooks are added by md_httpd_certs_hooks. */
apr_status_t md_httpd_fallbacks_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp);
void md_httpd_certs_hooks(void);

/* gate.c: 503 for requests to MDs without a usable certificate (challenge paths excepted). */
void md_httpd_gate_hooks(void);

/* challenge.c: answering http-01 from challenges/DOMAIN/acme-http-01.txt; the responder writing those files. */
void md_httpd_challenge_hooks(void);
md_responder_t *md_httpd_http01_responder(md_store_t *store, apr_pool_t *p);
#define MD_HTTPD_HTTP01_ASPECT "acme-http-01.txt"
#define MD_HTTPD_ACME_PATH "/.well-known/acme-challenge/"

/* drive.c: the watchdog task renewing MDs in one child (registered in post_config). */
apr_status_t md_httpd_drive_register(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf);

#endif
