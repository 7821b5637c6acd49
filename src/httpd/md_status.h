/* mod_mdomain's status pages: the registry's state and model of each MD (status.c) for md-status, server-status,
 * certificate-status and md-metrics, read from the store at request time. */
#ifndef MD_STATUS_H
#define MD_STATUS_H

#include <httpd.h>

#include "md_cert.h"
#include "md_config.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_store.h"

/* status.c: the registry's state of one MD (its store's md.json and certificates, or its MDCertificateFile), with
 * MDActivationDelay; NULL when it cannot be read (*perr says why). *preg (may be NULL): the registry it used. */
md_reg_state_t *md_httpd_status_state(const char **perr, md_reg_t **preg, const md_mod_conf_t *mc,
                                      const md_managed_t *m, apr_pool_t *p);
/* status.c: one MD in md-status form (the registry's model, md_reg_status), never NULL: what cannot be read shows
 * as an error state with the reason. */
md_json_t *md_httpd_status_md(const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p);
/* All MDs: {"version": "...", "managed-domains": [ one md_httpd_status_md per MD ]}. */
md_json_t *md_httpd_status_all(const md_mod_conf_t *mc, apr_pool_t *p);
/* The MDs sorted by name; the MD a name asks for (its name or one of its domains, md_reg_find) or NULL. */
apr_array_header_t *md_httpd_status_sorted(const md_mod_conf_t *mc, apr_pool_t *p);
const md_managed_t *md_httpd_status_find(const md_mod_conf_t *mc, const char *name, apr_pool_t *p);

/* status_handler.c: the md-status handler (SetHandler md-status): all MDs, or one at .../md-status/NAME. */
#define MD_STATUS_HANDLER "md-status"
void md_httpd_status_handler_hooks(void);

/* status_server.c: the "Managed Certificates" section of mod_status's server-status (MDServerStatus). */
void md_httpd_status_server_hooks(void);

#endif
