/* Shared between the registry's OCSP files: the renew window's default and the HTTP client for responders and CRLs. */
#ifndef MD_REG_OCSP_INT_H
#define MD_REG_OCSP_INT_H

#include "md_reg_ocsp.h"

/* given, or 33% when NULL */
void md_reg__ocsp_window(md_timeslice_t *ts, const md_timeslice_t *given);
/* A client with opts' proxy and timeouts (30 s, connecting 10 s); max_body 0: the default. */
apr_status_t md_reg__ocsp_http(md_http_t **phttp, const md_reg_ocsp_opts_t *opts, apr_size_t max_body,
                               apr_pool_t *p);

#endif
