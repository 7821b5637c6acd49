/* Assembling the MDs at check_config: each definition's settings resolved into an md_t, no name in two MDs. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "md_acme.h"
#include "md_json.h"
#include "md_reg.h"
#include "config_int.h"

/* The md.json keys mod_md writes for httpd settings the core does not model. */
static md_json_t *extra_make(const md_managed_t *m, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    if (m->require_https == MD_REQUIRE_TEMPORARY) md_json_sets("temporary", json, "require-https", NULL);
    else if (m->require_https == MD_REQUIRE_PERMANENT) md_json_sets("permanent", json, "require-https", NULL);
    if (m->cert_files->nelts) {
        md_json_setsa(m->cert_files, json, "cert-files", NULL);
        md_json_setsa(m->key_files, json, "pkey-files", NULL);
    }
    md_json_setb(m->stapling, json, "stapling", NULL);
    return json;
}

/* The merged settings are needed while the md_t is made only (scratch, cleared by the caller). */
static md_managed_t *managed_make(const md_conf_md_t *conf, const md_mod_conf_t *mc, apr_pool_t *p,
                                  apr_pool_t *scratch)
{
    const md_srv_conf_t *sc = md_config_get(conf->s);
    md_settings_t *st = md_settings_merge(sc->settings, conf->settings, scratch);
    md_managed_t *m = apr_pcalloc(p, sizeof(*m));

    m->conf = conf;
    m->md = md_create(conf->domains, p);
    m->servers = apr_array_make(p, 2, sizeof(server_rec *));
    md_settings_apply(m->md, st, p);
    m->md->dns01_version = mc->dns01_version;
    m->md->retry_failover = mc->retry_failover;
    m->require_https = st->require_https == MD_CONF_UNSET ? MD_REQUIRE_OFF : st->require_https;
    m->stapling = st->stapling == MD_CONF_UNSET ? 0 : st->stapling;
    m->cert_files = apr_array_copy(p, conf->cert_files);
    m->key_files = apr_array_copy(p, conf->key_files);
    m->md->extra = extra_make(m, p);
    if (m->cert_files->nelts) md_reg_static_md(m->md);
    return m;
}

static const char *where(const md_conf_md_t *conf, apr_pool_t *p)
{
    return apr_psprintf(p, "%s:%u", conf->file ? conf->file : "?", conf->line);
}

/* A name may belong to one MD only (md_conf_name_clashes): the first clash. */
static const char *check_overlaps(const md_mod_conf_t *mc, apr_pool_t *p)
{
    apr_array_header_t *mds = apr_array_make(p, mc->mds->nelts + 1, sizeof(md_t *)), *clashes;
    const md_conf_clash_t *c;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) APR_ARRAY_PUSH(mds, md_t *) = APR_ARRAY_IDX(mc->mds, i, md_managed_t *)->md;
    clashes = md_conf_name_clashes(mds, p);
    if (!clashes->nelts) return NULL;
    c = &APR_ARRAY_IDX(clashes, 0, md_conf_clash_t);
    return md_conf_clash_msg(c, mds, where(APR_ARRAY_IDX(mc->mds, c->first, md_managed_t *)->conf, p),
                             where(APR_ARRAY_IDX(mc->mds, c->again, md_managed_t *)->conf, p), p);
}

/* The first MD with a wildcard that its MDCAChallenges cannot validate (md_conf_wildcard_problem). */
static const char *check_wildcards(const md_mod_conf_t *mc, apr_pool_t *p)
{
    const md_managed_t *m;
    const char *err;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if ((err = md_conf_wildcard_problem(m->md, where(m->conf, p), p))) return err;
    }
    return NULL;
}

apr_status_t md_config_assemble(const char **perr, server_rec *base, apr_pool_t *p)
{
    md_mod_conf_t *mc = md_config_get(base)->mc;
    const md_conf_md_t *conf;
    apr_pool_t *scratch;
    md_managed_t *m;
    int i;

    *perr = NULL;
    if (!mc->store_dir) mc->store_dir = ap_server_root_relative(p, "md");
    if (apr_pool_create(&scratch, p) != APR_SUCCESS) return APR_ENOMEM;
    apr_array_clear(mc->mds);
    for (i = 0; i < mc->conf_mds->nelts; ++i) {
        conf = APR_ARRAY_IDX(mc->conf_mds, i, const md_conf_md_t *);
        apr_pool_clear(scratch);
        m = managed_make(conf, mc, p, scratch);
        m->idx = mc->mds->nelts;
        APR_ARRAY_PUSH(mc->mds, md_managed_t *) = m;
    }
    apr_pool_destroy(scratch);
    *perr = check_overlaps(mc, p);
    if (!*perr) *perr = check_wildcards(mc, p);
    if (*perr) return APR_EINVAL;
    return md_config_match(perr, mc, base, p);
}
