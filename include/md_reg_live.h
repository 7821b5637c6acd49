/* Live activation: which set of certificates and keys a running server serves for an MD, from where it may read it,
 * when a renewed set may be served (MDActivationDelay), and activation while the server runs. The front-ends only
 * hand over what the registry says: the module's TLS hook, its children and its parent decide nothing here. */
#ifndef MD_REG_LIVE_H
#define MD_REG_LIVE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_json.h"
#include "md_pkey.h"
#include "md_reg.h"
#include "md_store.h"

struct md_result_t;

/* One certificate of a set as it is served. */
typedef struct md_reg_live_cert_t {
    const char *key;               /* the label of its key type ("rsa", "secp256r1") */
    apr_array_header_t *chain;     /* md_cert_t*: the certificate, then its issuers */
    md_pkey_t *pkey;               /* its private key */
} md_reg_live_cert_t;

/* A set of certificates to serve. */
typedef struct md_reg_live_set_t {
    md_store_group_t group;        /* where it was read: MD_SG_STAGING (a renewed set, before its activation) or
                                    * MD_SG_DOMAINS (the active set) */
    apr_array_header_t *certs;     /* md_reg_live_cert_t*, in key type order: each one usable now (present with a key
                                    * that fits it, valid now, or within a negative MDActivationDelay) */
    const char *id;                /* what tells sets apart: the SHA-256 fingerprints of its certificates */
} md_reg_live_set_t;

/* When the finished renewal's set in staging/NAME may be served: its latest notBefore plus the activation delay
 * (MDActivationDelay, may be negative). 0 when no such set is there: none, still under way, incomplete, or its
 * job.json or md.json cannot be read (md_reg_sync's checks). Reads job.json and the certificates, no keys. */
apr_time_t md_reg_live_staged_at(md_reg_t *reg, const md_t *md, apr_interval_time_t delay, apr_pool_t *p);

/* The set md is served with, read from group: MD_SG_STAGING only once md_reg_live_staged_at has come (else
 * APR_ENOENT, result says why), staged keys decrypted with the store key (httpd's children may); MD_SG_DOMAINS the
 * active set, whose keys only the server's parent may read (APR_EACCES elsewhere). A certificate whose key is
 * missing or does not fit it is left out, or the whole staged set refused (APR_EINVAL: activation would refuse it
 * too); APR_ENOENT when no certificate is usable. */
apr_status_t md_reg_live_load(md_reg_live_set_t **pset, md_reg_t *reg, const md_t *md, md_store_group_t group,
                              apr_interval_time_t delay, struct md_result_t *result, apr_pool_t *p);

/* What identifies the active set's files (domains/NAME/pubcert*.pem: inode, size, modification time): it changes
 * when a set is activated, by this process or any other on the store (a server in a cluster). Stats, reads nothing. */
const char *md_reg_live_active_id(md_reg_t *reg, const md_t *md, apr_pool_t *p);

/* A set as JSON for another process ({"id", "group", "certs": [{"key", "chain": PEM, "pkey": PEM}]}, keys NOT
 * encrypted: only for memory the server's processes share), and back. */
md_json_t *md_reg_live_to_json(const md_reg_live_set_t *set, apr_pool_t *p);
apr_status_t md_reg_live_from_json(md_reg_live_set_t **pset, const md_json_t *json, apr_pool_t *p);

/* Activation while the server runs (the httpd parent, every few seconds), and md_reg_sync's second step: for each item
 * (md_reg_sync_item_t*) with a staged set, under the MD's lease: a finished set becomes the active one when the
 * delay allows (item->activated), one that cannot be used is removed; a set whose lease another process holds is
 * left for the next time. Up to 32 items at a time hold their leases while the store activates their sets in one
 * batch that shares its flushes (md_store_activate_many). Only opts->activation_delay, log and lease are used. */
void md_reg_activate(md_reg_t *reg, apr_array_header_t *items, const md_reg_sync_opts_t *opts, apr_pool_t *p);

#endif
