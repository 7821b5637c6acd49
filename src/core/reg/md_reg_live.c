/* Live activation: the set a running server serves (a renewed set from staging/ once MDActivationDelay allows, else
 * the active one), what identifies the active files, a set as JSON for another process, activation while running. */
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_pkey.h"
#include "md_reg_lease.h"
#include "md_reg_live.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"
#include "md_reg_int.h"

apr_time_t md_reg_live_staged_at(md_reg_t *reg, const md_t *md, apr_interval_time_t delay, apr_pool_t *p)
{
    apr_time_t not_before;
    int ready = 0;

    if (!md_store_exists(reg->store, MD_SG_STAGING, md->name, NULL, p)) return 0;
    if (md_reg__staged_problem(&ready, reg->store, md, p) || !ready) return 0;
    not_before = md_reg__staged_not_before(reg->store, md, p);
    if (!not_before) return 0;
    return not_before + delay > 0 ? not_before + delay : 1;
}

/* Certificate i of md from group, with its key; *pc NULL when it is not usable now (staging: an error instead). */
static apr_status_t load_cert(md_reg_live_cert_t **pc, md_reg_t *reg, const md_t *md, md_store_group_t group, int i,
                              apr_time_t early, md_result_t *result, apr_pool_t *p)
{
    md_reg_live_cert_t *c = apr_pcalloc(p, sizeof(*c));
    const md_cert_t *cert;
    apr_time_t now = md_reg_now(reg);
    apr_status_t rv;

    *pc = NULL;
    c->key = md_pkey_spec_label(APR_ARRAY_IDX(md->pks, i, md_pkey_spec_t *));
    rv = md_store_load((void **)&c->chain, reg->store, group, md->name, md_cert_aspect(md, i, p), MD_SV_CHAIN,
                       result, p);
    if (rv == APR_SUCCESS && c->chain->nelts < 1) rv = APR_ENOENT;
    if (rv == APR_SUCCESS) {
        rv = md_store_load((void **)&c->pkey, reg->store, group, md->name, md_pkey_aspect(md, i, p), MD_SV_PKEY,
                           result, p);
    }
    if (APR_STATUS_IS_EACCES(rv)) return rv;
    if (rv == APR_SUCCESS && !md_cert_matches_key(APR_ARRAY_IDX(c->chain, 0, md_cert_t *), c->pkey)) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "%s/%s: certificate(%s) does not match its private key",
                         md_store_group_name(group), md->name, c->key);
    }
    if (rv != APR_SUCCESS) return group == MD_SG_STAGING ? APR_EINVAL : APR_SUCCESS;
    cert = APR_ARRAY_IDX(c->chain, 0, md_cert_t *);
    if (md_cert_is_valid_at(cert, now) || md_cert_is_valid_at(cert, early)) *pc = c;
    return APR_SUCCESS;
}

static const char *set_id(const apr_array_header_t *certs, apr_pool_t *p)
{
    const md_reg_live_cert_t *c;
    const char *id = "";
    int i;

    for (i = 0; i < certs->nelts; ++i) {
        c = APR_ARRAY_IDX(certs, i, const md_reg_live_cert_t *);
        id = apr_pstrcat(p, id, i ? " " : "", c->key, ":",
                         md_cert_get_sha256_fingerprint(APR_ARRAY_IDX(c->chain, 0, md_cert_t *), p), NULL);
    }
    return id;
}

apr_status_t md_reg_live_load(md_reg_live_set_t **pset, md_reg_t *reg, const md_t *md, md_store_group_t group,
                              apr_interval_time_t delay, md_result_t *result, apr_pool_t *p)
{
    md_reg_live_set_t *set = apr_pcalloc(p, sizeof(*set));
    apr_time_t now = md_reg_now(reg), at;
    md_reg_live_cert_t *c;
    apr_status_t rv;
    int i;

    *pset = NULL;
    if (group == MD_SG_STAGING && ((at = md_reg_live_staged_at(reg, md, delay, p)) == 0 || at > now)) {
        md_result_printf(result, APR_ENOENT, "%s: no renewed set may be served %s", md->name,
                         at ? apr_pstrcat(p, "before ", md_time_print_http(at, p), NULL) : "(none is staged)");
        return APR_ENOENT;
    }
    set->group = group;
    set->certs = apr_array_make(p, md->pks->nelts, sizeof(md_reg_live_cert_t *));
    for (i = 0; i < md->pks->nelts; ++i) {
        rv = load_cert(&c, reg, md, group, i, delay < 0 ? now - delay : now, result, p);
        if (rv != APR_SUCCESS) return rv;
        if (c) APR_ARRAY_PUSH(set->certs, md_reg_live_cert_t *) = c;
    }
    if (set->certs->nelts == 0) {
        md_result_printf(result, APR_ENOENT, "%s/%s: no usable certificate", md_store_group_name(group), md->name);
        return APR_ENOENT;
    }
    set->id = set_id(set->certs, p);
    *pset = set;
    return APR_SUCCESS;
}

const char *md_reg_live_active_id(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    const char *id = "", *path;
    apr_finfo_t fi;
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        if (md_store_get_fname(&path, reg->store, MD_SG_DOMAINS, md->name, md_cert_aspect(md, i, p), p)
            != APR_SUCCESS || apr_stat(&fi, path, APR_FINFO_INODE | APR_FINFO_SIZE | APR_FINFO_MTIME, p)
            != APR_SUCCESS) {
            id = apr_pstrcat(p, id, " -", NULL);
            continue;
        }
        id = apr_psprintf(p, "%s %lu.%ld.%" APR_TIME_T_FMT, id, (unsigned long)fi.inode, (long)fi.size, fi.mtime);
    }
    return id;
}

md_json_t *md_reg_live_to_json(const md_reg_live_set_t *set, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p), *jc;
    const md_reg_live_cert_t *c;
    const char *pem;
    apr_size_t len;
    int i;

    md_json_sets(set->id, json, "id", NULL);
    md_json_sets(md_store_group_name(set->group), json, "group", NULL);
    md_json_setj(md_json_create_array(p), json, "certs", NULL);
    for (i = 0; i < set->certs->nelts; ++i) {
        c = APR_ARRAY_IDX(set->certs, i, const md_reg_live_cert_t *);
        jc = md_json_create(p);
        md_json_sets(c->key, jc, "key", NULL);
        if (md_cert_chain_to_pem(&pem, &len, c->chain, p) == APR_SUCCESS) md_json_sets(pem, jc, "chain", NULL);
        if (md_pkey_to_pem(&pem, &len, c->pkey, NULL, 0, p) == APR_SUCCESS) md_json_sets(pem, jc, "pkey", NULL);
        md_json_addj(jc, json, "certs", NULL);
    }
    return json;
}

apr_status_t md_reg_live_from_json(md_reg_live_set_t **pset, const md_json_t *json, apr_pool_t *p)
{
    md_reg_live_set_t *set = apr_pcalloc(p, sizeof(*set));
    md_reg_live_cert_t *c;
    const char *chain, *pkey;
    apr_size_t i, n = md_json_count(json, "certs", NULL);
    md_json_t *jc;
    apr_status_t rv = APR_SUCCESS;

    *pset = NULL;
    set->id = md_json_dups(p, json, "id", NULL);
    set->group = !strcmp(md_json_gets(json, "group", NULL) ? md_json_gets(json, "group", NULL) : "", "staging")
                 ? MD_SG_STAGING : MD_SG_DOMAINS;
    set->certs = apr_array_make(p, (int)n + 1, sizeof(md_reg_live_cert_t *));
    for (i = 0; i < n && rv == APR_SUCCESS; ++i) {
        jc = md_json_at(json, i, "certs", NULL);
        chain = md_json_gets(jc, "chain", NULL);
        pkey = md_json_gets(jc, "pkey", NULL);
        c = apr_pcalloc(p, sizeof(*c));
        c->key = md_json_dups(p, jc, "key", NULL);
        rv = (chain && pkey && c->key) ? APR_SUCCESS : APR_EINVAL;
        if (rv == APR_SUCCESS) rv = md_cert_chain_from_pem(&c->chain, chain, strlen(chain), NULL, p);
        if (rv == APR_SUCCESS) rv = md_pkey_from_pem(&c->pkey, pkey, strlen(pkey), NULL, 0, NULL, p);
        if (rv == APR_SUCCESS) APR_ARRAY_PUSH(set->certs, md_reg_live_cert_t *) = c;
    }
    if (rv == APR_SUCCESS && (!set->id || !set->certs->nelts)) rv = APR_EINVAL;
    if (rv == APR_SUCCESS) *pset = set;
    return rv;
}

/* Items activated together: their leases are held while the store activates their sets in one batch. */
#define ACTIVATE_BATCH 32

static void activate_batch(md_reg_t *reg, md_reg_sync_item_t **items, int n, const md_reg_sync_opts_t *opts,
                           apr_pool_t *p)
{
    md_reg_lease_t **leases = apr_pcalloc(p, (apr_size_t)n * sizeof(*leases));
    md_reg_sync_item_t **go = apr_pcalloc(p, (apr_size_t)n * sizeof(*go));
    const char **names = apr_pcalloc(p, (apr_size_t)n * sizeof(*names));
    md_result_t **results = apr_pcalloc(p, (apr_size_t)n * sizeof(*results));
    apr_status_t *rvs = apr_pcalloc(p, (apr_size_t)n * sizeof(*rvs));
    int i, k = 0;

    for (i = 0; i < n; ++i) {
        items[i]->activated = 0;
        if (!md_reg__staged_lease(&leases[k], reg, items[i]->md, opts, p)) continue;
        if (!md_reg__staged_due(reg, items[i]->md, opts, p)) {
            md_reg_lease_release(leases[k]);
            continue;
        }
        go[k] = items[i];
        names[k] = items[i]->md->name;
        results[k] = md_result_make(p);
        ++k;
    }
    if (k) md_store_activate_many(reg->store, names, k, NULL, NULL, rvs, results, p);
    for (i = 0; i < k; ++i) {
        go[i]->activated = md_reg__staged_activated(reg, go[i]->md, rvs[i], results[i], opts, p);
        md_reg_lease_release(leases[i]);
    }
}

void md_reg_activate(md_reg_t *reg, apr_array_header_t *items, const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    apr_pool_t *ptemp;
    int i, n;

    apr_pool_create(&ptemp, p);
    for (i = 0; i < items->nelts; i += ACTIVATE_BATCH) {
        n = items->nelts - i < ACTIVATE_BATCH ? items->nelts - i : ACTIVATE_BATCH;
        apr_pool_clear(ptemp);
        activate_batch(reg, &APR_ARRAY_IDX(items, i, md_reg_sync_item_t *), n, opts, ptemp);
    }
    apr_pool_destroy(ptemp);
}
