/* The store's ACME accounts as the registry sees them: their users, the CAs in use, and a restored account taken
 * by the MDs of its CA that lack one. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_reg_account.h"
#include "md_result.h"

/* Every MD in the store (md_t*); those that cannot be read are left out. */
static apr_array_header_t *all_mds(md_reg_t *reg, apr_pool_t *p)
{
    apr_array_header_t *names, *mds = apr_array_make(p, 8, sizeof(md_t *));
    md_t *md;
    int i;

    if (md_store_list(&names, reg->store, MD_SG_DOMAINS, "*", p) != APR_SUCCESS) return mds;
    for (i = 0; i < names->nelts; ++i) {
        if (md_load(&md, reg->store, MD_SG_DOMAINS, APR_ARRAY_IDX(names, i, const char *), NULL, p) == APR_SUCCESS) {
            APR_ARRAY_PUSH(mds, md_t *) = md;
        }
    }
    return mds;
}

static const char *ca_of(const md_t *md)
{
    if (md->ca_effective) return md->ca_effective;
    return md->ca_urls && md->ca_urls->nelts ? APR_ARRAY_IDX(md->ca_urls, 0, const char *) : NULL;
}

apr_array_header_t *md_reg_account_users(md_reg_t *reg, const char *id, apr_pool_t *p)
{
    apr_array_header_t *mds = all_mds(reg, p), *names = apr_array_make(p, 4, sizeof(const char *));
    const md_t *md;
    int i;

    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, const md_t *);
        if (md->ca_account && !strcmp(md->ca_account, id)) APR_ARRAY_PUSH(names, const char *) = md->name;
    }
    return names;
}

apr_array_header_t *md_reg_cas(md_reg_t *reg, apr_pool_t *p)
{
    apr_array_header_t *mds = all_mds(reg, p), *cas = apr_array_make(p, 2, sizeof(md_reg_ca_t *));
    md_reg_ca_t *ca;
    const md_t *md;
    const char *url;
    int i, k;

    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, const md_t *);
        if (!(url = ca_of(md))) continue;
        for (k = 0, ca = NULL; k < cas->nelts && !ca; ++k) {
            if (!strcmp(APR_ARRAY_IDX(cas, k, md_reg_ca_t *)->url, url)) ca = APR_ARRAY_IDX(cas, k, md_reg_ca_t *);
        }
        if (!ca) {
            ca = apr_pcalloc(p, sizeof(*ca));
            ca->url = url;
            APR_ARRAY_PUSH(cas, md_reg_ca_t *) = ca;
        }
        if (!ca->ca_file) ca->ca_file = md->ca_file;
    }
    return cas;
}

/* The id of a stored account with this URL, NULL when none. */
static const char *stored_id(md_reg_t *reg, const char *url, apr_pool_t *p)
{
    apr_array_header_t *ids;
    md_acme_acct_t *acct;
    int i;

    if (md_store_list(&ids, reg->store, MD_SG_ACCOUNTS, "*", p) != APR_SUCCESS) return NULL;
    for (i = 0; i < ids->nelts; ++i) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        if (md_acme_acct_load(&acct, NULL, reg->store, id, NULL, p) == APR_SUCCESS && acct->url
            && !strcmp(acct->url, url)) {
            return id;
        }
    }
    return NULL;
}

/* Whether the MD's named account is there, of its CA and valid. */
static int has_usable_account(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    md_acme_acct_t *acct;

    if (!md->ca_account || md_acme_acct_load(&acct, NULL, reg->store, md->ca_account, NULL, p) != APR_SUCCESS) {
        return 0;
    }
    return acct->ca_url && !strcmp(acct->ca_url, ca_of(md)) && (!acct->status || !strcmp(acct->status, "valid"));
}

apr_status_t md_reg_account_restore(apr_array_header_t **pnames, md_reg_t *reg, md_acme_acct_t *acct,
                                    md_pkey_t *key, md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *mds, *lacking = apr_array_make(p, 4, sizeof(md_t *));
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *));
    const char *url;
    md_t *md;
    apr_status_t rv;
    int i;

    *pnames = names;
    mds = all_mds(reg, p);     /* who lacks an account is decided before it is stored (it may get the id they name) */
    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        url = ca_of(md);
        if (url && !strcmp(url, acct->ca_url) && !has_usable_account(reg, md, p)) {
            APR_ARRAY_PUSH(lacking, md_t *) = md;
        }
    }
    if (!acct->id) acct->id = stored_id(reg, acct->url, p);
    rv = md_acme_acct_save(acct, key, reg->store, result, p);
    if (rv != APR_SUCCESS) return rv;
    for (i = 0; i < lacking->nelts; ++i) {
        md = APR_ARRAY_IDX(lacking, i, md_t *);
        if (!md->ca_account || strcmp(md->ca_account, acct->id)) {
            md->ca_account = acct->id;
            rv = md_save(md, reg->store, MD_SG_DOMAINS, 0, result, p);
            if (rv != APR_SUCCESS) return rv;
        }
        APR_ARRAY_PUSH(names, const char *) = md->name;
    }
    return APR_SUCCESS;
}
