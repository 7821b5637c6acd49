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
#include "md_reg.h"
#include "md_reg_ocsp.h"
#include "md_store.h"
#include "md_time.h"
#include "md_httpd.h"
#include "md_status.h"

APLOG_USE_MODULE(mdomain);

#define METRICS_HANDLER "md-metrics"
#define CONTENT_TYPE "text/plain; version=0.0.4"

typedef enum {
    F_STATE, F_NOT_BEFORE, F_NOT_AFTER, F_RENEW_AT, F_ARI_START, F_ARI_END, F_ERRORS, F_STAGED, F_LAST_OK,
    F_DEADLINE, F_ATTEMPTS, F_OCSP_EXPIRY, F_REVOKED, F_COUNT
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
    { "mdomain_renewal_staged", "gauge", "1 while renewed certificates wait in staging for their activation." },
    { "mdomain_renewal_last_success_seconds", "gauge", "When the last renewal of the managed domain succeeded, "
      "unix time." },
    { "mdomain_renewal_deadline_seconds", "gauge", "The last moment a renewal can still succeed before a "
      "certificate of the managed domain expires (its earliest notAfter), unix time." },
    { "mdomain_renewal_attempts_left", "gauge", "Automatic renewal attempts left before that deadline at the "
      "current back-off (0: blocked or too late)." },
    { "mdomain_ocsp_response_expiry_seconds", "gauge", "End of the stored OCSP response's validity (nextUpdate) "
      "of the active certificate, unix time." },
    { "mdomain_cert_revoked", "gauge", "1 when the active certificate is known to be revoked (by OCSP or its "
      "CRL), else 0." },
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
    apr_pool_t *p;
} collect_t;

static void add(collect_t *c, family_id_t f, const char *key, long long value)
{
    sample_t *s = &APR_ARRAY_PUSH(c->samples[f], sample_t);

    s->md = c->md;
    s->key = key;
    s->value = value;
}

static long long secs(apr_time_t t)
{
    return (long long)apr_time_sec(t);
}

/* The last success: the staged job's when it finished, else the one that came to domains/ at activation. */
static long long last_success(const md_reg_t *reg, const md_reg_state_t *st, apr_pool_t *p)
{
    md_job_t *job = NULL;

    if (st->staged && st->job->valid_from) return secs(st->job->valid_from);
    if (md_job_load(&job, reg->store, MD_SG_DOMAINS, st->md->name, NULL, p) != APR_SUCCESS) return 0;
    return job->valid_from ? secs(job->valid_from) : 0;
}

/* One MD from the registry's state: its certificates per key type, when it is due, the ARI window of its first
 * certificate, the renewal's errors and staged set. */
static void collect_md(collect_t *c, const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p)
{
    const md_reg_cert_t *cert;
    md_json_t *ocsp;
    apr_time_t until;
    md_reg_state_t *st;
    md_reg_t *reg;
    const char *err;
    long long t;
    int i;

    c->md = m->md->name;
    st = md_httpd_status_state(&err, &reg, mc, m, p);
    if (!st) {
        add(c, F_STATE, NULL, MD_S_ERROR);
        return;
    }
    add(c, F_STATE, NULL, st->state);
    for (i = 0; i < st->certs->nelts; ++i) {
        cert = APR_ARRAY_IDX(st->certs, i, const md_reg_cert_t *);
        if (!cert->cert) continue;
        add(c, F_NOT_BEFORE, cert->key, secs(md_cert_get_not_before(cert->cert)));
        add(c, F_NOT_AFTER, cert->key, secs(md_cert_get_not_after(cert->cert)));
        if (i == 0 && st->ari_start) add(c, F_ARI_START, cert->key, secs(st->ari_start));
        if (i == 0 && st->ari_end) add(c, F_ARI_END, cert->key, secs(st->ari_end));
        ocsp = md_reg_ocsp_status(reg, m->md->name, cert->cert, mc->stapling_renew_window, p);
        if (ocsp && md_json_gets(ocsp, "valid", "until", NULL)
            && md_time_parse_http(&until, md_json_gets(ocsp, "valid", "until", NULL)) == APR_SUCCESS) {
            add(c, F_OCSP_EXPIRY, cert->key, secs(until));
        }
        add(c, F_REVOKED, cert->key, cert->revoked ? 1 : 0);
    }
    add(c, F_RENEW_AT, NULL, secs(st->renew_at ? st->renew_at : st->now));
    add(c, F_ERRORS, NULL, st->job ? st->job->errors : 0);
    add(c, F_STAGED, NULL, st->staged ? 1 : 0);
    if ((t = last_success(reg, st, p)) != 0) add(c, F_LAST_OK, NULL, t);
    if (st->deadline) add(c, F_DEADLINE, NULL, secs(st->deadline));
    if (st->attempts_left >= 0) add(c, F_ATTEMPTS, NULL, st->attempts_left);
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
    for (i = 0; i < n && !md_httpd_child_ending(); ++i) {
        collect_md(&c, mc, APR_ARRAY_IDX(mds, i, const md_managed_t *), p);
    }
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
    if (!md_httpd_child_enter()) return HTTP_SERVICE_UNAVAILABLE;     /* the child is ending */
    text = metrics_text(md_config_get(r->server)->mc, r->pool);
    md_httpd_child_leave();
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
