/* ACME accounts: register (with EAB), find by key, update contacts, key rollover, deactivate; their storage
 * in the store's accounts/ group, in mod_md's format, shared by all MDs of a CA. */
#ifndef MD_ACME_ACCT_H
#define MD_ACME_ACCT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md_acme.h"
#include "md_data.h"
#include "md_json.h"
#include "md_pkey.h"
#include "md_store.h"

struct md_result_t;

typedef struct md_acme_acct_t {
    const char *id;            /* its name in accounts/, e.g. "ACME-127.0.0.1-0000" */
    const char *url;           /* the account URL (kid) */
    const char *ca_url;        /* the CA's directory URL */
    const char *status;        /* "valid", "deactivated", "revoked" */
    apr_array_header_t *contacts;  /* "mailto:..." */
    const char *agreement;     /* "accepted" or the ToS URL agreed to, NULL */
    const char *eab_kid;       /* the EAB kid used at registration, NULL */
    const char *orders;        /* the orders URL, NULL */
    md_json_t *registration;   /* the CA's account object as last seen */
} md_acme_acct_t;

/* External account binding: kid and the HMAC key (raw bytes, decoded from base64url). */
typedef struct md_acme_eab_t {
    const char *kid;
    md_data_t *hmac;
} md_acme_eab_t;

/* Parse "kid" + base64url HMAC (from the command line / directives), or a JSON file {"kid": ..., "hmac": ...}.
 * Errors name the problem (and the file). */
apr_status_t md_acme_eab_make(md_acme_eab_t **peab, const char *kid, const char *hmac_b64,
                              struct md_result_t *result, apr_pool_t *p);
apr_status_t md_acme_eab_load(md_acme_eab_t **peab, const char *fpath, struct md_result_t *result,
                              apr_pool_t *p);
/* The kid and hmac strings of a JSON file {"kid": ..., "hmac": ...} as written, the HMAC not decoded (as
 * MDExternalAccountBinding takes a file). Errors in mod_md's words: "file not found: PATH", "error reading JSON
 * file PATH (...)", "JSON does not contain 'kid' element in file PATH" (or 'hmac'). */
apr_status_t md_acme_eab_read(const char **pkid, const char **phmac, const char *fpath,
                              struct md_result_t *result, apr_pool_t *p);

/* newAccount with key: contacts ("mailto:" added when missing), termsOfServiceAgreed when agree_tos,
 * externalAccountBinding when eab. A CA that requires EAB without one given, or ToS not agreed while
 * the CA has terms, fails with a detail telling what to configure. On success md_acme_set_account()
 * is done on acme. */
apr_status_t md_acme_acct_register(md_acme_acct_t **pacct, md_acme_t *acme, md_pkey_t *key,
                                   const apr_array_header_t *contacts, int agree_tos,
                                   const md_acme_eab_t *eab, struct md_result_t *result, apr_pool_t *p);
/* onlyReturnExisting: the account of key at this CA; APR_ENOENT when there is none. */
apr_status_t md_acme_acct_find(md_acme_acct_t **pacct, md_acme_t *acme, md_pkey_t *key,
                               struct md_result_t *result, apr_pool_t *p);
/* POST-as-GET the account: refresh status and contacts. */
apr_status_t md_acme_acct_refresh(md_acme_acct_t *acct, md_acme_t *acme, struct md_result_t *result,
                                  apr_pool_t *p);
apr_status_t md_acme_acct_update_contacts(md_acme_acct_t *acct, md_acme_t *acme,
                                          const apr_array_header_t *contacts,
                                          struct md_result_t *result, apr_pool_t *p);
/* keyChange (RFC 8555 7.3.5) to new_key; on success the account's key is new_key (the caller saves it). */
apr_status_t md_acme_acct_key_change(md_acme_acct_t *acct, md_acme_t *acme, md_pkey_t *new_key,
                                     struct md_result_t *result, apr_pool_t *p);
/* Agree to the CA's terms of service for an existing account (termsOfServiceAgreed); acct->agreement becomes tos
 * (NULL: the CA's current terms URL, else "accepted"). */
apr_status_t md_acme_acct_agree(md_acme_acct_t *acct, md_acme_t *acme, const char *tos,
                                struct md_result_t *result, apr_pool_t *p);
apr_status_t md_acme_acct_deactivate(md_acme_acct_t *acct, md_acme_t *acme, struct md_result_t *result,
                                     apr_pool_t *p);

/* Storage: accounts/<id>/account.json (mod_md's format: status, url, ca-url, contact, registration,
 * agreement, eab {kid}, orders) and account.pem (the key, encrypted with the store key).
 * save with acct->id NULL picks a new id "ACME-<host of the CA>-NNNN". */
apr_status_t md_acme_acct_save(md_acme_acct_t *acct, md_pkey_t *key, md_store_t *store,
                               struct md_result_t *result, apr_pool_t *p);
apr_status_t md_acme_acct_load(md_acme_acct_t **pacct, md_pkey_t **pkey, md_store_t *store,
                               const char *id, struct md_result_t *result, apr_pool_t *p);
/* The id of a stored, valid account for this CA (and EAB kid, NULL for none), APR_ENOENT when none. */
apr_status_t md_acme_acct_find_stored(const char **pid, md_store_t *store, const char *ca_url,
                                      const char *eab_kid, apr_pool_t *p);

md_json_t *md_acme_acct_to_json(const md_acme_acct_t *acct, apr_pool_t *p);
apr_status_t md_acme_acct_from_json(md_acme_acct_t **pacct, const md_json_t *json, apr_pool_t *p);

#endif
