/* The md-metrics handler: every MD's certificates, renewal and ARI times in Prometheus text exposition format 0.0.4. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "md.h"
#include "md_drive.h"
#include "md_job.h"
#include "md_json.h"
#include "md_store.h"
#include "md_time.h"
#include "md_httpd.h"
#include "md_status.h"

APLOG_USE_MODULE(mdomain);

#define METRICS_HANDLER "md-metrics"
#define CONTENT_TYPE "text/plain; version=0.0.4"

typedef enum {
    F_STATE, F_NOT_BEFORE, F_NOT_AFTER, F_RENEW_AT, F_ARI_START, F_ARI_END, F_ERRORS, F_STAGED, F_LAST_OK,
    F_COUNT
} family_id_t;

/* The metric families, in output order: name, type, help. Those with a key label are per certificate. */
static const struct {
    const char *name, *type, *help;
} FAMILIES[F_COUNT] = {
    { "mdomain_md_state", "gauge", "State of the managed domain: 0 unknown, 1 incomplete, 2 complete, "
      "3 expired, 4 error (as md-status shows it)." },
    { "mdomain_cert_not_before_seconds", "gauge", "Start of the active certificate's validity, unix time." },
    { "mdomain_cert_expiry_seconds", "gauge", "End of the active certificate's validity (notAfter), unix time." },
    { "mdomain_renewal_due_seconds", "gauge", "When the managed domain is due for renewal (renew window or the "
      "CA's ARI window), unix time; in the past while a renewal is due." },
    { "mdomain_ari_window_start_seconds", "gauge", "Start of the renewal window the CA suggests through ARI "
      "for the active certificate, unix time." },
    { "mdomain_ari_window_end_seconds", "gauge", "End of the renewal window the CA suggests through ARI "
      "for the active certificate, unix time." },
    { "mdomain_renewal_errors", "gauge", "Failed renewal attempts in a row (0 after a success)." },
    { "mdomain_renewal_staged", "gauge", "1 when renewed certificates wait in staging for a graceful restart." },
    { "mdomain_renewal_last_success_seconds", "gauge", "When the last renewal of the managed domain succeeded, "
      "unix time." },
};

/* One line of a family: labels and value. */
typedef struct {
    const char *md;
    const char *key;   /* NULL: no key label */
    long long value;
} sample_t;

typedef struct {
    apr_array_header_t *samples[F_COUNT];   /* sample_t */
    const char *md;                         /* the MD being collected */
    md_json_t *ari;                         /* its domains/NAME/ari.json, or NULL */
    apr_pool_t *p;
} collect_t;

static void add(collect_t *c, family_id_t f, const char *key, long long value)
{
    sample_t *s = &APR_ARRAY_PUSH(c->samples[f], sample_t);

    s->md = c->md;
    s->key = key;
    s->value = value;
}

/* An HTTP date (as md-status shows times) at json.k1.k2 as unix seconds; 0 when missing. */
static long long http_secs(const md_json_t *json, const char *k1, const char *k2)
{
    const char *s = md_json_gets(json, k1, k2, NULL);
    apr_time_t t = 0;

    if (!s || md_time_parse_http(&t, s) != APR_SUCCESS) return 0;
    return (long long)apr_time_sec(t);
}

static long long rfc3339_secs(const md_json_t *json, const char *k1, const char *k2)
{
    const char *s = md_json_gets(json, k1, k2, NULL);
    apr_time_t t = 0;

    if (!s || md_time_parse_rfc3339(&t, s) != APR_SUCCESS) return 0;
    return (long long)apr_time_sec(t);
}

/* One certificate of md-status' "cert" object (the key "valid" there is the summary, not a key type). */
static int collect_cert(void *baton, const char *key, md_json_t *cert)
{
    collect_t *c = baton;
    const char *ari_id = md_json_gets(cert, "ari-cert-id", NULL);
    const char *ari_for = c->ari ? md_json_gets(c->ari, "cert-id", NULL) : NULL;
    long long t;

    if (!strcmp(key, "valid") || !md_json_is(MD_JSON_TYPE_OBJECT, cert, NULL)) return 1;
    key = apr_pstrdup(c->p, key);
    if ((t = http_secs(cert, "valid", "from")) != 0) add(c, F_NOT_BEFORE, key, t);
    if ((t = http_secs(cert, "valid", "until")) != 0) add(c, F_NOT_AFTER, key, t);
    if (ari_for && ari_id && !strcmp(ari_id, ari_for)) {
        if ((t = rfc3339_secs(c->ari, "window", "start")) != 0) add(c, F_ARI_START, key, t);
        if ((t = rfc3339_secs(c->ari, "window", "end")) != 0) add(c, F_ARI_END, key, t);
    }
    return 1;
}

/* The last success: the staged job's when it finished, else the one that came to domains/ at activation. */
static long long last_success(const md_mod_conf_t *mc, const md_managed_t *m, const md_json_t *status,
                              apr_pool_t *p)
{
    md_job_t *job = NULL;

    if (md_json_getb(status, "renewal", "finished", NULL) && http_secs(status, "renewal", "valid-from")) {
        return http_secs(status, "renewal", "valid-from");
    }
    if (!mc->store || m->cert_files->nelts) return 0;
    if (md_job_load(&job, mc->store, MD_SG_DOMAINS, m->md->name, NULL, p) != APR_SUCCESS) return 0;
    return job->valid_from ? (long long)apr_time_sec(job->valid_from) : 0;
}

static void collect_md(collect_t *c, const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p)
{
    md_json_t *status = md_httpd_status_md(mc, m, p);
    long long t;

    c->md = m->md->name;
    c->ari = NULL;
    if (mc->store && !m->cert_files->nelts) {
        md_store_load((void **)&c->ari, mc->store, MD_DRIVE_ARI_GROUP, m->md->name, MD_DRIVE_ARI_FILE,
                      MD_SV_JSON, NULL, p);
    }
    add(c, F_STATE, NULL, md_json_getl(status, "state", NULL));
    md_json_iterkey(collect_cert, c, status, "cert", NULL);
    if ((t = http_secs(status, "renew-at", NULL)) != 0) add(c, F_RENEW_AT, NULL, t);
    if (!m->cert_files->nelts) {
        add(c, F_ERRORS, NULL, md_json_getl(status, "renewal", "errors", NULL));
        add(c, F_STAGED, NULL, md_json_getb(status, "renewal", "finished", NULL) ? 1 : 0);
    }
    if ((t = last_success(mc, m, status, p)) != 0) add(c, F_LAST_OK, NULL, t);
}

/* A label value with backslash, double quote and line feed escaped, as the text format wants. */
static const char *escape_label(const char *value, apr_pool_t *p)
{
    char *out = apr_palloc(p, 2 * strlen(value) + 1), *o = out;

    for (; *value; ++value) {
        if (*value == '\\' || *value == '"') *o++ = '\\', *o++ = *value;
        else if (*value == '\n') *o++ = '\\', *o++ = 'n';
        else *o++ = *value;
    }
    *o = '\0';
    return out;
}

static void emit_family(apr_array_header_t *out, const collect_t *c, family_id_t f, apr_pool_t *p)
{
    const sample_t *s;
    int i;

    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, "# HELP ", FAMILIES[f].name, " ", FAMILIES[f].help, "\n",
                                                    "# TYPE ", FAMILIES[f].name, " ", FAMILIES[f].type, "\n", NULL);
    for (i = 0; i < c->samples[f]->nelts; ++i) {
        s = &APR_ARRAY_IDX(c->samples[f], i, sample_t);
        APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, FAMILIES[f].name, "{md=\"", escape_label(s->md, p),
            "\"", s->key ? ",key=\"" : "", s->key ? escape_label(s->key, p) : "", s->key ? "\"" : "", "} ",
            apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)s->value), "\n", NULL);
    }
}

/* The whole exposition: per family its HELP and TYPE, then one sample per MD (and key type). */
static const char *metrics_text(const md_mod_conf_t *mc, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 64, sizeof(const char *)), *mds;
    collect_t c;
    int i, n = mc->mds ? mc->mds->nelts : 0;

    memset(&c, 0, sizeof(c));
    c.p = p;
    for (i = 0; i < F_COUNT; ++i) c.samples[i] = apr_array_make(p, n + 1, sizeof(sample_t));
    mds = n ? md_httpd_status_sorted(mc, p) : NULL;
    for (i = 0; i < n; ++i) collect_md(&c, mc, APR_ARRAY_IDX(mds, i, const md_managed_t *), p);
    APR_ARRAY_PUSH(out, const char *) = "# HELP mdomain_managed_domains Managed domains in the configuration.\n"
                                        "# TYPE mdomain_managed_domains gauge\n";
    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p, "mdomain_managed_domains %d\n", n);
    for (i = 0; i < F_COUNT; ++i) emit_family(out, &c, (family_id_t)i, p);
    return apr_array_pstrcat(p, out, 0);
}

static int metrics_handler(request_rec *r)
{
    const char *text;

    if (!r->handler || strcmp(r->handler, METRICS_HANDLER)) return DECLINED;
    r->allowed = (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) return HTTP_METHOD_NOT_ALLOWED;
    text = metrics_text(md_config_get(r->server)->mc, r->pool);
    ap_set_content_type(r, CONTENT_TYPE);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only) ap_rputs(text, r);
    return OK;
}

void md_httpd_metrics_hooks(void)
{
    ap_hook_handler(metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
