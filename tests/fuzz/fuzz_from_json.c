/* Fuzz target: the store's JSON records read back (md.json, job.json, account.json, key specs, ACME orders), and
 * written out again: what was read must read back the same. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme_acct.h"
#include "md_acme_order.h"
#include "md_job.h"
#include "md_json.h"
#include "md_pkey.h"
#include "md_result.h"
#include "fuzz.h"

/* json written and read back through the writer's own reader gives the same json. */
static void md_checks(const md_t *md, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_json_t *json = md_to_json(md, p), *again;
    md_t *back = NULL, *clone = md_clone(md, p);
    int i;

    FZ_CHECK(md_from_json(&back, json, result, p) == APR_SUCCESS);
    again = md_to_json(back, p);
    FZ_CHECK(md_json_equal(json, again));
    FZ_CHECK(!strcmp(md_digest(md, p), md_digest(back, p)));
    FZ_CHECK(!strcmp(md_digest(md, p), md_digest(clone, p)));
    FZ_CHECK(md_json_equal(json, md_to_json(clone, p)));
    for (i = 0; i < md->domains->nelts; ++i) {
        const char *d = APR_ARRAY_IDX(md->domains, i, const char *);
        FZ_CHECK(md_contains(md, d));
        (void)md_covers(md, d);
        (void)md_domain_problem(d);
    }
    for (i = 0; i <= md->pks->nelts; ++i) {
        FZ_CHECK(!md_pkey_aspect(md, i, p) == (i == md->pks->nelts));
        FZ_CHECK(!md_cert_aspect(md, i, p) == (i == md->pks->nelts));
        if (i < md->pks->nelts) {
            const md_pkey_spec_t *spec = APR_ARRAY_IDX(md->pks, i, const md_pkey_spec_t *);
            (void)md_pkey_spec_label(spec);
            (void)md_pkey_spec_curve_nid(spec);
        }
    }
    (void)md_state_str(md->state);
    (void)md_challenge_delays_print(&md->challenge_delays, p);
    (void)md_challenge_delay(md, "dns-01");
    if (md->renew_window) (void)md_timeslice_print(md->renew_window, p);
    if (md->warn_window) (void)md_timeslice_print(md->warn_window, p);
    (void)md_common_name(md, back);
}

static void job_checks(const md_job_t *job, apr_pool_t *p)
{
    md_json_t *json = md_job_to_json(job, p);
    md_job_t *back = NULL;
    md_result_t *result = md_result_make(p);

    FZ_CHECK(md_job_from_json(&back, json, p) == APR_SUCCESS);
    FZ_CHECK(md_json_equal(json, md_job_to_json(back, p)));
    md_job_log(back, "fuzz", "a detail", apr_time_from_sec(1700000000));
    md_result_printf(result, APR_EINVAL, "failed");
    md_job_set_last(back, result, apr_time_from_sec(1700000001));
    FZ_CHECK(md_job_from_json(&back, md_job_to_json(back, p), p) == APR_SUCCESS);
}

static void acct_checks(const md_acme_acct_t *acct, apr_pool_t *p)
{
    md_json_t *json = md_acme_acct_to_json(acct, p);
    md_acme_acct_t *back = NULL;

    FZ_CHECK(md_acme_acct_from_json(&back, json, p) == APR_SUCCESS);
    FZ_CHECK(md_json_equal(json, md_acme_acct_to_json(back, p)));
}

static void spec_checks(const md_json_t *json, apr_pool_t *p)
{
    md_pkey_spec_t *spec = NULL, *back = NULL;

    if (md_pkey_spec_from_json(&spec, json, p) != APR_SUCCESS) return;
    FZ_CHECK(md_pkey_spec_from_json(&back, md_pkey_spec_to_json(spec, p), p) == APR_SUCCESS);
    FZ_CHECK(md_pkey_spec_eq(spec, back));
    (void)md_pkey_spec_name(spec, p);
    (void)md_pkey_spec_label(spec);
    md_pkey_spec_for_mod_md(spec);
    FZ_CHECK(md_pkey_spec_eq(spec, back));
}

static int spec_item(void *baton, apr_size_t index, md_json_t *item)
{
    (void)index;
    spec_checks(item, baton);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    md_result_t *result = md_result_make(p);
    md_json_t *json = NULL;
    md_t *md = NULL;
    md_job_t *job = NULL;
    md_acme_acct_t *acct = NULL;
    md_acme_order_t *order = NULL;

    if (md_json_readd(&json, (const char *)data, size, "fuzz", NULL, p) != APR_SUCCESS) goto leave;
    if (md_from_json(&md, json, result, p) == APR_SUCCESS) {
        FZ_CHECK(md && md->name && md->domains->nelts > 0 && md->pks->nelts > 0);
        md_checks(md, p);
    }
    else {
        FZ_CHECK(!md && result->status != APR_SUCCESS && result->detail);
    }
    if (md_job_from_json(&job, json, p) == APR_SUCCESS) job_checks(job, p);
    if (md_acme_acct_from_json(&acct, json, p) == APR_SUCCESS) acct_checks(acct, p);
    if (md_acme_order_from_json(&order, "https://ca.test/order/1", json, p) == APR_SUCCESS) {
        FZ_CHECK(order->status && order->authz_urls);
    }
    spec_checks(json, p);
    spec_checks(md_json_getj(json, "privkey", NULL) ? md_json_getj(json, "privkey", NULL) : json, p);
    md_json_itera(spec_item, p, json, "privkey", NULL);
leave:
    apr_pool_destroy(p);
    return 0;
}
