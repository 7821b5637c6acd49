/* The module's view of the registry's status model: each configured MD's state and md-status JSON, read from the
 * store at request time, with what only the module knows (require-https, stapling, whether it renews the MD). */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>

#include "md.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_status.h"
#include "md_httpd.h"

static const char *require_https_str(int require)
{
    switch (require) {
    case MD_REQUIRE_TEMPORARY: return "temporary";
    case MD_REQUIRE_PERMANENT: return "permanent";
    default: return "off";
    }
}

md_reg_state_t *md_httpd_status_state(const char **perr, md_reg_t **preg, const md_mod_conf_t *mc,
                                      const md_managed_t *m, apr_pool_t *p)
{
    md_reg_state_opts_t opts = { NULL, mc->activation_delay, 0 };
    md_result_t *result = md_result_make(p);
    md_reg_t *reg = md_reg_make(mc->store, NULL, p);
    md_reg_state_t *st = NULL;

    reg->retry_base = mc->retry_delay;      /* the attempts left at MDRetryDelay's back-off */
    *perr = NULL;
    if (preg) *preg = reg;
    if (m->cert_files->nelts) {
        opts.cert_files = m->cert_files;
        return md_reg_state(reg, m->md, &opts, p);
    }
    if (!mc->store) {
        *perr = "the store is not open";
        return NULL;
    }
    if (md_reg_load_state(&st, reg, m->md->name, &opts, result, p) != APR_SUCCESS) {
        *perr = md_result_text(result, p);
        return NULL;
    }
    return st;
}

md_json_t *md_httpd_status_md(const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p)
{
    md_reg_status_opts_t opts;
    md_reg_state_t *st;
    md_reg_t *reg;
    const char *err;

    opts.require_https = require_https_str(m->require_https);
    opts.stapling = m->stapling > 0;
    opts.watched = md_reg_is_watched(m->md, m->cert_files->nelts > 0, m->servers->nelts > 0);
    opts.stapling_window = mc->stapling_renew_window;
    st = md_httpd_status_state(&err, &reg, mc, m, p);
    if (!st) return md_reg_status_error(m->md, err, p);
    return md_reg_status(reg, st, &opts, p);
}

static int by_name(const void *a, const void *b)
{
    const md_managed_t *ma = *(const md_managed_t *const *)a, *mb = *(const md_managed_t *const *)b;

    return strcmp(ma->md->name, mb->md->name);
}

/* The MDs sorted by name (md-status and server-status list them so). */
apr_array_header_t *md_httpd_status_sorted(const md_mod_conf_t *mc, apr_pool_t *p)
{
    apr_array_header_t *mds = apr_array_copy(p, mc->mds);

    if (mds->nelts > 1) qsort(mds->elts, (size_t)mds->nelts, sizeof(md_managed_t *), by_name);
    return mds;
}

/* The MD that name asks for (the registry finds it by name or domain), or NULL. */
const md_managed_t *md_httpd_status_find(const md_mod_conf_t *mc, const char *name, apr_pool_t *p)
{
    apr_array_header_t *mds;
    int i;

    if (!mc->mds) return NULL;
    mds = apr_array_make(p, mc->mds->nelts + 1, sizeof(const md_t *));
    for (i = 0; i < mc->mds->nelts; ++i) {
        APR_ARRAY_PUSH(mds, const md_t *) = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *)->md;
    }
    i = md_reg_find(mds, name);
    return i < 0 ? NULL : APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
}

md_json_t *md_httpd_status_all(const md_mod_conf_t *mc, apr_pool_t *p)
{
    md_json_t *json = md_reg_status_frame(p);
    apr_array_header_t *mds;
    apr_pool_t *ptemp;
    int i;

    if (!mc->mds) return json;
    mds = md_httpd_status_sorted(mc, p);
    apr_pool_create(&ptemp, p);
    for (i = 0; i < mds->nelts && !md_httpd_child_ending(); ++i) {
        apr_pool_clear(ptemp);
        md_json_addj(md_httpd_status_md(mc, APR_ARRAY_IDX(mds, i, const md_managed_t *), ptemp), json,
                     "managed-domains", NULL);
    }
    apr_pool_destroy(ptemp);
    return json;
}
