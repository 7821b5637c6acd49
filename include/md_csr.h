/* Certificate signing requests with DNS and IP SANs and optional must-staple. */
#ifndef MD_CSR_H
#define MD_CSR_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md_data.h"
#include "md_pkey.h"

/* A CSR (DER) for names (array of const char*: DNS names, wildcards, IPv4/IPv6 addresses, which become IP
 * SANs). The subject CN is the first name when it is a DNS name of at most 64 characters, else empty.
 * With must_staple the TLS feature extension status_request (RFC 7633) is added. Signed with SHA-256. */
apr_status_t md_csr_make(md_data_t **pder, const apr_array_header_t *names, int must_staple,
                         const md_pkey_t *pkey, apr_pool_t *p);

#endif
