/* The CRL check of an MD's certificates without an OCSP URL: when it is due (daily, the ARI window moved, forced),
 * the CRL fetched with If-Modified-Since and cached, verified against the issuer, the outcome recorded, `revoked`
 * raised once; and its md-status view. */
#include <string.h>

#include <apr_strings.h>

#include "md_ocsp.h"
#include "md_reg_ocsp.h"
#include "md_result.h"
#include "md_time.h"
#include "md_reg_ocsp_int.h"

typedef struct {
    md_reg_t *reg;
    const md_t *md;
    const md_reg_ocsp_opts_t *opts;
    const char *ari_window;            /* the MD's ARI window now, NULL when none */
    apr_time_t now;
    md_http_t *http;
    int fresh;                         /* fetch without If-Modified-Since */
} crl_run_t;

static const char *ari_window(const md_reg_state_t *st, apr_pool_t *p)
{
    if (!st->ari_start || !st->ari_end) return NULL;
    return apr_pstrcat(p, md_time_print_rfc3339(st->ari_start, p), "/", md_time_print_rfc3339(st->ari_end, p), NULL);
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Whether the certificate's CRL is checked now: 0 no, 1 yes, 2 yes and without If-Modified-Since (forced, or the
 * CA moved the ARI window: Last-Modified counts whole seconds, a CRL published in the second of the last check would
 * look unchanged). */
static int check_due(const crl_run_t *run, const md_ocsp_crl_record_t *rec, int force)
{
    if (force) return 2;
    if (!rec || !rec->checked || rec->error) return 1;
    if (rec->status == MD_OCSP_REVOKED) return 0;                 /* a revocation is final */
    if (!same(rec->ari_window, run->ari_window)) return 2;        /* the CA moved the window: ask now */
    return run->now - rec->checked >= MD_REG_CRL_EVERY || run->now < rec->checked;
}

/* The CRL: fetched, or the cached one when the server says it is not modified. */
static apr_status_t crl_get(md_crl_t **pcrl, const char **plast_modified, crl_run_t *run, const char *url,
                            const char *hexid, const md_ocsp_crl_record_t *rec, md_result_t *result, apr_pool_t *p)
{
    md_store_t *store = run->reg->store;
    const char *aspect = md_ocsp_crl_aspect(hexid, ".pem", p), *pem = NULL, *ims = NULL;
    md_data_t *data = NULL, cached;
    int not_modified = 0;
    apr_status_t rv;

    if (!run->fresh && rec && rec->last_modified && same(rec->url, url)
        && md_store_exists(store, MD_OCSP_GROUP, run->md->name, aspect, p)) ims = rec->last_modified;
    if (!run->http && (rv = md_reg__ocsp_http(&run->http, run->opts, MD_CRL_MAX_SIZE, p))
        != APR_SUCCESS) {
        md_result_set(result, rv, "cannot make an HTTP client");
        return rv;
    }
    rv = md_crl_fetch(&data, plast_modified, &not_modified, run->http, url, ims, result, p);
    if (rv != APR_SUCCESS) return rv;
    if (not_modified) {
        rv = md_store_load((void **)&pem, store, MD_OCSP_GROUP, run->md->name, aspect, MD_SV_TEXT, result, p);
        if (rv != APR_SUCCESS) return rv;
        cached.data = pem;
        cached.len = strlen(pem);
        data = &cached;
    }
    rv = md_crl_parse(pcrl, data, result, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "CRL %s: %s", url, md_result_text(result, p));
        return rv;
    }
    if (!not_modified && md_crl_to_pem(&pem, *pcrl, p) == APR_SUCCESS) {
        md_store_save(store, MD_OCSP_GROUP, run->md->name, aspect, MD_SV_TEXT, (void *)pem, 0, NULL, p);
    }
    return APR_SUCCESS;
}

static void raise_revoked(crl_run_t *run, const md_cert_t *cert, apr_pool_t *p)
{
    apr_table_t *env = apr_table_make(p, 2);

    apr_table_set(env, "MD_CERT_SERIAL", md_cert_get_serial_hex(cert, p));
    apr_table_set(env, "MD_REVOKED_VIA", "crl");
    md_reg_event_limited(run->reg, run->opts->rn, run->md, "revoked", md_cert_get_serial_hex(cert, p), 0, env, p);
}

/* Check one certificate (issued by issuer) against the CRL at url; the outcome recorded. */
static apr_status_t check_one(crl_run_t *run, const md_cert_t *cert, const md_cert_t *issuer, const char *url,
                              const char *hexid, md_ocsp_crl_record_t *rec, md_result_t *result, apr_pool_t *p)
{
    md_ocsp_crl_record_t *out = apr_pcalloc(p, sizeof(*out));
    md_crl_check_t check;
    md_crl_t *crl = NULL;
    const char *lm = NULL;
    apr_status_t rv;

    out->url = url;
    out->checked = run->now;
    out->ari_window = run->ari_window;
    out->cert_until = md_cert_get_not_after(cert);
    out->reason = -1;
    rv = issuer ? crl_get(&crl, &lm, run, url, hexid, rec, result, p) : APR_EINVAL;
    if (!issuer) md_result_set(result, rv, "the certificate's issuer is not in its chain");
    if (rv == APR_SUCCESS) rv = md_crl_check(&check, crl, cert, issuer, run->now, result, p);
    if (rv == APR_SUCCESS) {
        out->status = check.status;
        out->revoked_at = check.revoked_at;
        out->reason = check.reason;
        out->crl_next_update = check.next_update;
        out->last_modified = lm;
    }
    else {
        out->status = (rec && rec->status == MD_OCSP_REVOKED) ? MD_OCSP_REVOKED : MD_OCSP_UNKNOWN;
        out->error = md_result_text(result, p);
        if (rec && same(rec->url, url)) out->last_modified = rec->last_modified;
    }
    md_ocsp_crl_record_save(run->reg->store, run->md->name, hexid, out, p);
    if (out->status == MD_OCSP_REVOKED) raise_revoked(run, cert, p);
    return rv;
}

static md_cert_t *chain_issuer(const apr_array_header_t *chain)
{
    return chain && chain->nelts > 1 ? APR_ARRAY_IDX(chain, 1, md_cert_t *) : NULL;
}

apr_status_t md_reg_crl_check(int *prevoked, int *pchecked, md_reg_t *reg, const md_t *md,
                              const apr_array_header_t *cert_files, const md_reg_ocsp_opts_t *opts, int force,
                              md_result_t *result, apr_pool_t *p)
{
    md_reg_state_opts_t sopts = { cert_files, 0, 0 };
    md_reg_state_t *st = md_reg_state(reg, md, &sopts, p);
    md_ocsp_crl_record_t *rec;
    apr_array_header_t *urls;
    const md_reg_cert_t *c;
    crl_run_t run;
    const char *hexid, *failed = NULL;
    int i, due, revoked = 0, checked = 0, tried = 0;

    memset(&run, 0, sizeof(run));
    run.reg = reg;
    run.md = md;
    run.opts = opts;
    run.now = md_reg_now(reg);
    run.ari_window = ari_window(st, p);
    md_result_set(result, APR_SUCCESS, NULL);
    for (i = 0; i < st->certs->nelts; ++i) {
        c = APR_ARRAY_IDX(st->certs, i, const md_reg_cert_t *);
        if (!c->cert || md_ocsp_cert_id(NULL, &hexid, c->cert, p) != APR_SUCCESS) continue;
        if (md_ocsp_is_revoked(NULL, reg->store, md->name, c->cert, p)) {
            ++revoked;
            continue;
        }
        urls = NULL;
        if (md_cert_get_ocsp_url(c->cert, p) || md_cert_get_crl_urls(&urls, c->cert, p) != APR_SUCCESS
            || !urls || urls->nelts == 0) continue;
        rec = NULL;
        md_ocsp_crl_record_load(&rec, reg->store, md->name, hexid, p);
        if (!(due = check_due(&run, rec, force))) continue;
        run.fresh = due == 2;
        ++tried;
        if (check_one(&run, c->cert, chain_issuer(c->chain), APR_ARRAY_IDX(urls, 0, const char *), hexid, rec,
                      result, p) == APR_SUCCESS) ++checked;
        else failed = md_result_text(result, p);
        if (md_ocsp_is_revoked(NULL, reg->store, md->name, c->cert, p)) ++revoked;
    }
    if (prevoked) *prevoked = revoked;
    if (pchecked) *pchecked = checked;
    if (failed) md_result_set(result, APR_EGENERAL, failed);
    return (tried && !checked) ? APR_EGENERAL : APR_SUCCESS;
}

md_json_t *md_reg_crl_status(md_reg_t *reg, const char *md_name, const md_cert_t *cert, apr_pool_t *p)
{
    md_ocsp_crl_record_t *rec = NULL;
    md_json_t *json;
    const char *hexid;

    if (!cert || md_ocsp_cert_id(NULL, &hexid, cert, p) != APR_SUCCESS
        || md_ocsp_crl_record_load(&rec, reg->store, md_name, hexid, p) != APR_SUCCESS) return NULL;
    json = md_json_create(p);
    md_json_sets(md_ocsp_status_str(rec->status), json, "status", NULL);
    md_json_sets("crl", json, "via", NULL);
    if (rec->url) md_json_sets(rec->url, json, "url", NULL);
    if (rec->checked) {
        md_json_sets(md_time_print_http(rec->checked, p), json, "checked", NULL);
        if (rec->status != MD_OCSP_REVOKED) {
            md_json_sets(md_time_print_http(rec->checked + MD_REG_CRL_EVERY, p), json, "next-check", NULL);
        }
    }
    if (rec->revoked_at) md_json_sets(md_time_print_http(rec->revoked_at, p), json, "revoked-at", NULL);
    if (rec->status == MD_OCSP_REVOKED && rec->reason >= 0) md_json_setl(rec->reason, json, "reason", NULL);
    if (rec->error) md_json_sets(rec->error, json, "error", NULL);
    return json;
}
