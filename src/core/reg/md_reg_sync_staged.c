/* The sync's staged sets: a finished renewal's set becomes the active one when MDActivationDelay allows; a set that
 * cannot be used is removed with the MD's challenges, and the MD is renewed again. */
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_job.h"
#include "md_reg.h"
#include "md_reg_lease.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"
#include "md_reg_int.h"

/* True when staging/NAME holds a certificate and key for every key type of the MD. */
static int staged_complete(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        if (!md_store_exists(store, MD_SG_STAGING, md->name, md_cert_aspect(md, i, p), p)
            || !md_store_exists(store, MD_SG_STAGING, md->name, md_pkey_aspect(md, i, p), p)) return 0;
    }
    return 1;
}

/* The first certificate or key of the MD's key types that staging/NAME lacks, NULL when none. */
static const char *staged_missing(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const char *aspect;
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        aspect = md_cert_aspect(md, i, p);
        if (!md_store_exists(store, MD_SG_STAGING, md->name, aspect, p)) return aspect;
        aspect = md_pkey_aspect(md, i, p);
        if (!md_store_exists(store, MD_SG_STAGING, md->name, aspect, p)) return aspect;
    }
    return NULL;
}

/* Why the set in staging/NAME cannot be activated (NULL when it can, or is still being made); *pready when it is
 * a finished renewal's set. A set without job.json (put there by hand) counts as finished when complete, and needs
 * no md.json. */
const char *md_reg__staged_problem(int *pready, md_store_t *store, const md_t *md, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_job_t *job = NULL;
    void *json = NULL;
    const char *missing;
    apr_status_t rv;
    int has_job = md_store_exists(store, MD_SG_STAGING, md->name, "job.json", p);

    *pready = 0;
    if (has_job && md_job_load(&job, store, MD_SG_STAGING, md->name, result, p) != APR_SUCCESS) {
        return apr_pstrcat(p, "its job.json cannot be read: ", md_result_text(result, p), NULL);
    }
    if (has_job ? !job->finished : !staged_complete(store, md, p)) return NULL;     /* under way */
    rv = md_store_load(&json, store, MD_SG_STAGING, md->name, "md.json", MD_SV_JSON, result, p);
    if (APR_STATUS_IS_ENOENT(rv) && !has_job) rv = APR_SUCCESS;
    if (APR_STATUS_IS_ENOENT(rv)) return "its md.json is missing";
    if (rv != APR_SUCCESS) return apr_pstrcat(p, "its md.json cannot be read: ", md_result_text(result, p), NULL);
    if ((missing = staged_missing(store, md, p)) != NULL) {
        return apr_pstrcat(p, "its renewal finished, but ", missing, " is missing", NULL);
    }
    *pready = 1;
    return NULL;
}

apr_time_t md_reg__staged_not_before(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *chain;
    apr_time_t latest = 0, t;
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        if (md_store_load((void **)&chain, store, MD_SG_STAGING, md->name, md_cert_aspect(md, i, p), MD_SV_CHAIN,
                          NULL, p) != APR_SUCCESS || chain->nelts < 1) return 0;
        t = md_cert_get_not_before(APR_ARRAY_IDX(chain, 0, const md_cert_t *));
        if (t > latest) latest = t;
    }
    return latest;
}

/* MDActivationDelay: a staged set is activated once it is valid for at least that long (notBefore + delay has
 * passed; a negative delay activates it that long before notBefore). */
static int activation_due(md_reg_t *reg, const md_t *md, const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    apr_time_t not_before = md_reg__staged_not_before(reg->store, md, p);

    if (!not_before || md_reg_now(reg) >= not_before + opts->activation_delay) return 1;
    md_reg__say(opts, 3, md->name, apr_psprintf(p, "renewed certificates stay staged until %s (MDActivationDelay %ld s "
                                                "after their notBefore)",
                                                md_time_print_http(not_before + opts->activation_delay, p),
                                                (long)apr_time_sec(opts->activation_delay)));
    return 0;
}

/* A set that cannot be used goes, with challenges/ of the MD's names: the MD is due as before and renewed. */
static void discard(md_reg_t *reg, const md_t *md, const char *problem, const md_reg_sync_opts_t *opts,
                    apr_pool_t *p)
{
    apr_status_t rv = md_store_purge(reg->store, MD_SG_STAGING, md->name, p);

    md_reg__purge_challenges(reg, md, p);
    if (rv != APR_SUCCESS) {
        md_reg__say(opts, 0, md->name, apr_psprintf(p, "the staged set is not activated, %s; staging/%s cannot be "
                                                    "removed: %pm", problem, md->name, &rv));
        return;
    }
    md_reg__say(opts, 0, md->name, apr_psprintf(p, "the staged set is not activated, %s: staging/%s and the MD's "
                                                "challenges removed, it is renewed again", problem, md->name));
}

int md_reg__staged_due(md_reg_t *reg, const md_t *md, const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    const char *problem;
    int ready;

    problem = md_reg__staged_problem(&ready, reg->store, md, p);
    if (problem) {
        discard(reg, md, problem, opts, p);
        return 0;
    }
    return ready && activation_due(reg, md, opts, p);
}

int md_reg__staged_activated(md_reg_t *reg, const md_t *md, apr_status_t rv, md_result_t *result,
                             const md_reg_sync_opts_t *opts, apr_pool_t *p)
{
    if (rv == APR_SUCCESS) {
        md_reg__say(opts, 2, md->name, "activated the renewed certificates");
        md_reg__purge_challenges(reg, md, p);
        return 1;
    }
    if (rv != APR_EINVAL) {      /* not the set's fault: it stays for the next start */
        md_reg__say(opts, 0, md->name, apr_pstrcat(p, "staged certificates not activated: ",
                                                   md_result_text(result, p), NULL));
        return 0;
    }
    discard(reg, md, apr_pstrcat(p, "its certificates do not pass the check: ", md_result_text(result, p), NULL),
            opts, p);
    return 0;
}

int md_reg__staged_lease(md_reg_lease_t **plk, md_reg_t *reg, const md_t *md, const md_reg_sync_opts_t *opts,
                         apr_pool_t *p)
{
    md_reg_lease_info_t other;
    apr_status_t rv;

    *plk = NULL;
    if (!md_store_exists(reg->store, MD_SG_STAGING, md->name, NULL, p)) return 0;
    if (opts->lease < 0) return 1;
    rv = md_reg_lease_take(plk, &other, reg, md->name, opts->lease, p);
    if (rv == APR_SUCCESS) return 1;
    md_reg__say(opts, 3, md->name, rv == APR_EBUSY
                ? apr_psprintf(p, "its staged set is left as it is while %s works on it", other.holder)
                : apr_psprintf(p, "its staged set is left as it is: cannot take its lease: %pm", &rv));
    return 0;
}
