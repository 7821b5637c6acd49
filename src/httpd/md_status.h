/* mod_mdomain's status model: what md-status, server-status, certificate-status and md-metrics show, read
 * from the store (md.json, certificates in domains/ and staging/, job.json, ari.json) at request time. */
#ifndef MD_STATUS_H
#define MD_STATUS_H

#include <httpd.h>

#include "md_cert.h"
#include "md_config.h"
#include "md_json.h"
#include "md_store.h"

/* State numbers of md-status, as mod_md has them. */
#define MD_STATUS_UNKNOWN    0
#define MD_STATUS_INCOMPLETE 1
#define MD_STATUS_COMPLETE   2
#define MD_STATUS_EXPIRED    3
#define MD_STATUS_ERROR      4

/* status.c: one MD in md-status form: name, domains, state, state-descr, renew-mode, must-staple,
 * require-https, ca {urls, url, account}, cert {KEYTYPE: {valid {from, until}, serial, sha256-fingerprint,
 * ari-cert-id}}, renewal {...} when a job exists, ... Never NULL: what cannot be read shows as an error
 * state with a detail. */
md_json_t *md_httpd_status_md(const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p);
/* All MDs: {"version": "...", "managed-domains": [ one md_httpd_status_md per MD ]}. */
md_json_t *md_httpd_status_all(const md_mod_conf_t *mc, apr_pool_t *p);

/* status.c, helpers for the handlers: one certificate in md-status form ({issuer-name, valid {from, until},
 * serial, sha256-fingerprint, ari-cert-id}); the first certificate of chain i of an MD in GROUP/NAME (for an
 * MD with MDCertificateFile: file i, domains/ only), NULL when there is none; the MDs sorted by name; the MD
 * of a name or NULL. */
md_json_t *md_httpd_status_cert(const md_cert_t *cert, apr_pool_t *p);
md_cert_t *md_httpd_status_load_cert(const md_mod_conf_t *mc, const md_managed_t *m, const md_t *md,
                                     md_store_group_t group, int i, apr_pool_t *p);
apr_array_header_t *md_httpd_status_sorted(const md_mod_conf_t *mc, apr_pool_t *p);
const md_managed_t *md_httpd_status_find(const md_mod_conf_t *mc, const char *name);

/* status_handler.c: the md-status handler (SetHandler md-status): all MDs, or one at .../md-status/NAME. */
#define MD_STATUS_HANDLER "md-status"
void md_httpd_status_handler_hooks(void);

/* status_server.c: the "Managed Certificates" section of mod_status's server-status (MDServerStatus). */
void md_httpd_status_server_hooks(void);

#endif
