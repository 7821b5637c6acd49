/* Internals shared by the MD model files: defaults, string arrays, and the md.json key names. */
#ifndef MD_MD_INT_H
#define MD_MD_INT_H

#include <apr_tables.h>

#include "md.h"

#define MD_MD_RENEW_PERCENT_DEF   33
#define MD_MD_WARN_PERCENT_DEF    10
#define MD_MD_DNS01_VERSION_DEF   1
#define MD_MD_RETRY_FAILOVER_DEF  13
#define MD_MD_INSTALL_MODE_DEF    0600

/* Our own settings live under this key; mod_md ignores it. */
#define MD_MD_KEY_OWN "mdomain"

/* A copy of an array of strings (NULL: empty), optionally without case-insensitive duplicates. */
apr_array_header_t *md_md__strs_copy(const apr_array_header_t *src, int dedup, apr_pool_t *p);
/* The index of s in a (ignoring case), or -1. */
int md_md__strs_index(const apr_array_header_t *a, const char *s);
md_timeslice_t *md_md__timeslice_make(int percent, apr_interval_time_t len, apr_pool_t *p);
/* RSA 2048: mod_md's default MDPrivateKeys. */
md_pkey_spec_t *md_md__pkey_spec_default(apr_pool_t *p);

/* The keys md_t models in each md.json object; everything else goes to md_t.extra. NULL-terminated. */
extern const char *const md_md__top_keys[];
extern const char *const md_md__ca_keys[];
extern const char *const md_md__own_keys[];
/* True when key is in the NULL-terminated list. */
int md_md__key_in(const char *const *keys, const char *key);

#endif
