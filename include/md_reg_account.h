/* The registry's view of the store's ACME accounts: which MDs use an account, which CAs the MDs use, and where an
 * account found again at its CA (restored) is stored and which MDs take it. */
#ifndef MD_REG_ACCOUNT_H
#define MD_REG_ACCOUNT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md_acme_acct.h"
#include "md_reg.h"

struct md_result_t;

/* The names of the MDs whose md.json names the account id (ca.account), sorted. */
apr_array_header_t *md_reg_account_users(md_reg_t *reg, const char *id, apr_pool_t *p);

/* A CA the store's MDs use: its directory URL, and the CA file (--ca-file) of an MD using it (NULL: none). */
typedef struct md_reg_ca_t {
    const char *url;
    const char *ca_file;
} md_reg_ca_t;

/* The CAs of the store's MDs (md_reg_ca_t*), each once: an MD's CA in use, else its first. */
apr_array_header_t *md_reg_cas(md_reg_t *reg, apr_pool_t *p);

/* Store an account found at its CA with its key (restored, e.g. after accounts/ was lost): under the id of a stored
 * account with the same URL, else a new id (acct->id is set). Then every MD of that CA (its CA in use, else its first)
 * without a usable account (none named, or the named one missing, of another CA or not valid) is given it in its
 * md.json. *pnames: those MDs' names. */
apr_status_t md_reg_account_restore(apr_array_header_t **pnames, md_reg_t *reg, md_acme_acct_t *acct,
                                    md_pkey_t *key, struct md_result_t *result, apr_pool_t *p);

#endif
