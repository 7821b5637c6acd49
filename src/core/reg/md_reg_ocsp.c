/* The stapling set: certificates primed before the fork, their responses served in handshakes from memory (read
 * again from the store when another process renewed them), and the background pass that renews them. */
#include <string.h>

#include <apr_allocator.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "md_file.h"
#include "md_job.h"
#include "md_json.h"
#include "md_ocsp.h"
#include "md_reg_ocsp.h"
#include "md_result.h"
#include "md_time.h"
#include "md_reg_ocsp_int.h"

#define CLEANUP_EVERY apr_time_from_sec(3600)
#define IDLE_WAKE apr_time_from_sec(3600)     /* the next pass when nothing is stapled */

struct md_reg_ocsp_t {
    md_reg_t *reg;
    md_reg_ocsp_opts_t opts;
    md_timeslice_t window;
    apr_pool_t *p;
    apr_allocator_t *allocator;        /* of ptemp and the entries' presp: used under the lock only, so that
                                        * handshake threads never touch p's allocator */
    apr_pool_t *ptemp;                 /* cleared after each use */
    apr_pool_t *pentries;              /* the entries, the hash and the array */
    apr_thread_mutex_t *lock;
    apr_hash_t *by_id;                 /* the caller's id -> ocsp_entry_t* */
    apr_array_header_t *entries;       /* ocsp_entry_t* in priming order */
    apr_time_t cleaned;
};

typedef struct ocsp_entry_t {
    const md_t *md;                    /* NULL: a certificate of no MD */
    const char *md_name;               /* md->name or MD_OCSP_OTHER */
    const char *hexid;                 /* the store's id of the certificate */
    md_cert_t *cert, *issuer;
    const char *url;
    /* what is served (under the lock) */
    apr_pool_t *presp;
    md_data_t der;
    md_ocsp_status_t status;
    apr_time_t valid_from, valid_until;
    apr_time_t mtime;                  /* of the record it was read from, 0: none read */
    /* the background pass's own */
    int retired;                       /* no longer served (a certificate switched live replaced it): not renewed */
    int errors;
    apr_time_t next_try;
} ocsp_entry_t;

/* A pool of p (destroyed with it) on the set's own allocator, for what is only touched under the lock. */
static apr_pool_t *locked_pool(md_reg_ocsp_t *ocsp)
{
    apr_pool_t *pool = NULL;

    apr_pool_create_ex(&pool, ocsp->p, NULL, ocsp->allocator);
    return pool;
}

md_reg_ocsp_t *md_reg_ocsp_make(md_reg_t *reg, const md_reg_ocsp_opts_t *opts, apr_pool_t *p)
{
    md_reg_ocsp_t *ocsp = apr_pcalloc(p, sizeof(*ocsp));

    ocsp->reg = reg;
    if (opts) ocsp->opts = *opts;
    md_reg__ocsp_window(&ocsp->window, ocsp->opts.renew_window);
    if (ocsp->opts.keep < 0) ocsp->opts.keep = MD_REG_OCSP_KEEP_DEF;
    if (!ocsp->opts.retry_base) ocsp->opts.retry_base = MD_REG_OCSP_RETRY_DEF;
    ocsp->p = p;
    apr_allocator_create(&ocsp->allocator);
    ocsp->ptemp = locked_pool(ocsp);
    apr_allocator_owner_set(ocsp->allocator, ocsp->ptemp);     /* the first made, the last destroyed */
    ocsp->pentries = locked_pool(ocsp);
    apr_thread_mutex_create(&ocsp->lock, APR_THREAD_MUTEX_DEFAULT, p);
    ocsp->by_id = apr_hash_make(ocsp->pentries);
    ocsp->entries = apr_array_make(ocsp->pentries, 10, sizeof(ocsp_entry_t *));
    return ocsp;
}

int md_reg_ocsp_count(md_reg_ocsp_t *ocsp)
{
    int n;

    if (!ocsp) return 0;
    apr_thread_mutex_lock(ocsp->lock);
    n = ocsp->entries->nelts;
    apr_thread_mutex_unlock(ocsp->lock);
    return n;
}

void md_reg__ocsp_window(md_timeslice_t *ts, const md_timeslice_t *given)
{
    if (given) {
        *ts = *given;
        return;
    }
    ts->len = 0;
    ts->percent = 33;
}

static void entry_take(ocsp_entry_t *e, const md_ocsp_resp_t *resp)
{
    apr_pool_clear(e->presp);
    e->der.data = apr_pmemdup(e->presp, resp->der.data, resp->der.len);
    e->der.len = resp->der.len;
    e->status = resp->status;
    e->valid_from = resp->this_update;
    e->valid_until = resp->valid_until;
}

/* Take what the store holds for e when its record changed since it was read (under the lock). */
static void entry_refresh(md_reg_ocsp_t *ocsp, ocsp_entry_t *e, apr_time_t now)
{
    apr_pool_t *p = ocsp->ptemp;
    md_store_t *store = ocsp->reg->store;
    md_ocsp_record_t *rec = NULL;
    md_ocsp_resp_t *resp = NULL;
    apr_time_t mtime;

    mtime = md_store_get_modified(store, MD_OCSP_GROUP, e->md_name, md_ocsp_record_aspect(e->hexid, p), p);
    if (mtime == e->mtime) goto leave;
    e->mtime = mtime;
    if (!mtime || md_ocsp_record_load(&rec, store, e->md_name, e->hexid, p) != APR_SUCCESS
        || md_ocsp_resp_verify(&resp, &rec->der, e->cert, e->issuer, NULL, now, md_result_make(p), p)
           != APR_SUCCESS) {
        goto leave;            /* what is served stays: a damaged or foreign record is never taken */
    }
    entry_take(e, resp);
leave:
    apr_pool_clear(p);
}

/* The issuer: the chain's second certificate when it signed the first. */
static md_cert_t *issuer_of(const apr_array_header_t *chain)
{
    md_cert_t *cert, *issuer;

    if (chain->nelts < 2) return NULL;
    cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
    issuer = APR_ARRAY_IDX(chain, 1, md_cert_t *);
    return X509_check_issued(md_cert_get_X509(issuer), md_cert_get_X509(cert)) == X509_V_OK ? issuer : NULL;
}

/* A new entry for the certificate first in chain (under the lock: its memory is the set's own). */
static apr_status_t entry_make(ocsp_entry_t **pe, const char **pwhy, md_reg_ocsp_t *ocsp, const md_t *md,
                               const apr_array_header_t *chain)
{
    apr_pool_t *pool = ocsp->pentries;
    md_cert_t *cert = APR_ARRAY_IDX(chain, 0, md_cert_t *), *issuer;
    ocsp_entry_t *e;
    const char *url;

    *pe = NULL;
    if (!(url = md_cert_get_ocsp_url(cert, pool))) {
        *pwhy = "the certificate has no OCSP responder URL";
        return APR_ENOENT;
    }
    if (!(issuer = issuer_of(chain))) {
        *pwhy = "the certificate's issuer is not in its chain";
        return APR_EINVAL;
    }
    e = apr_pcalloc(pool, sizeof(*e));
    e->url = url;
    /* the chain lives in the caller's pool: the set keeps copies */
    e->cert = md_cert_wrap(X509_dup(md_cert_get_X509(cert)), pool);
    e->issuer = md_cert_wrap(X509_dup(md_cert_get_X509(issuer)), pool);
    md_ocsp_cert_id(NULL, &e->hexid, e->cert, pool);
    e->md = md;
    e->md_name = md ? md->name : MD_OCSP_OTHER;
    apr_pool_create_ex(&e->presp, pool, NULL, ocsp->allocator);
    *pe = e;
    return APR_SUCCESS;
}

apr_status_t md_reg_ocsp_prime(const char **pwhy, md_reg_ocsp_t *ocsp, const md_t *md, const char *id,
                               apr_size_t id_len, const char *pem, apr_pool_t *p)
{
    apr_array_header_t *chain = NULL;
    const char *err = NULL;

    if (md_cert_chain_from_pem(&chain, pem, strlen(pem), &err, p) != APR_SUCCESS || chain->nelts < 1) {
        if (pwhy) *pwhy = apr_pstrcat(p, "cannot read the certificate: ", err ? err : "no certificate", NULL);
        return APR_EINVAL;
    }
    return md_reg_ocsp_prime_chain(pwhy, ocsp, md, id, id_len, chain);
}

void md_reg_ocsp_retire(md_reg_ocsp_t *ocsp, const char *md_name)
{
    ocsp_entry_t *e;
    int i;

    apr_thread_mutex_lock(ocsp->lock);
    for (i = 0; i < ocsp->entries->nelts; ++i) {
        e = APR_ARRAY_IDX(ocsp->entries, i, ocsp_entry_t *);
        if (e->md && !strcmp(e->md->name, md_name)) e->retired = 1;
    }
    apr_thread_mutex_unlock(ocsp->lock);
}

apr_status_t md_reg_ocsp_prime_chain(const char **pwhy, md_reg_ocsp_t *ocsp, const md_t *md, const char *id,
                                     apr_size_t id_len, const apr_array_header_t *chain)
{
    ocsp_entry_t *e;
    const char *why = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (!chain || chain->nelts < 1) {
        if (pwhy) *pwhy = "no certificate";
        return APR_EINVAL;
    }
    apr_thread_mutex_lock(ocsp->lock);
    if ((e = apr_hash_get(ocsp->by_id, id, (apr_ssize_t)id_len)) != NULL) {
        e->retired = 0;
        if (md && !e->md) {          /* an MD's certificate also loaded elsewhere: it is the MD's */
            e->md = md;
            e->md_name = md->name;
            e->mtime = 0;
            entry_refresh(ocsp, e, md_reg_now(ocsp->reg));
        }
    }
    else if ((rv = entry_make(&e, &why, ocsp, md, chain)) == APR_SUCCESS) {
        apr_hash_set(ocsp->by_id, apr_pmemdup(ocsp->pentries, id, id_len), (apr_ssize_t)id_len, e);
        APR_ARRAY_PUSH(ocsp->entries, ocsp_entry_t *) = e;
        entry_refresh(ocsp, e, md_reg_now(ocsp->reg));
    }
    apr_thread_mutex_unlock(ocsp->lock);
    if (pwhy) *pwhy = why;
    return rv;
}

int md_reg_ocsp_get(md_reg_ocsp_t *ocsp, const char *id, apr_size_t id_len, md_reg_ocsp_copy_cb *cb, void *baton)
{
    apr_time_t now;
    ocsp_entry_t *e;
    int served = 0;

    if (!ocsp) return 0;
    now = md_reg_now(ocsp->reg);
    apr_thread_mutex_lock(ocsp->lock);
    e = apr_hash_get(ocsp->by_id, id, (apr_ssize_t)id_len);
    if (e) entry_refresh(ocsp, e, now);
    if (e && e->der.len && e->valid_until > now) {
        cb((const unsigned char *)e->der.data, e->der.len, baton);
        served = 1;
    }
    apr_thread_mutex_unlock(ocsp->lock);
    return served;
}

/* ocsp/NAME/job.json as mod_md keeps it: the last attempt for the MD's certificates. */
static void job_record(md_reg_ocsp_t *ocsp, ocsp_entry_t *e, const md_result_t *result, apr_time_t now,
                       apr_pool_t *p)
{
    md_job_t *job = NULL;

    if (md_job_load(&job, ocsp->reg->store, MD_OCSP_GROUP, e->md_name, NULL, p) != APR_SUCCESS) {
        job = md_job_make(e->md_name, p);
    }
    job->finished = result->status == APR_SUCCESS;
    job->errors = e->errors;
    job->next_run = e->errors ? e->next_try : 0;
    md_job_set_last(job, result, now);
    md_job_log(job, result->status == APR_SUCCESS ? "message-ocsp-renewed" : "message-ocsp-errored",
               result->status == APR_SUCCESS ? NULL : result->detail, now);
    job->state = NULL;                   /* no drive state: the file is mod_md's */
    md_job_save(job, ocsp->reg->store, MD_OCSP_GROUP, NULL, p);
}

/* A certificate of no MD gets its events under the name "other" (the server-wide programs only). */
static const md_t *event_md(const ocsp_entry_t *e, apr_pool_t *p)
{
    md_t *other;

    if (e->md) return e->md;
    other = apr_pcalloc(p, sizeof(*other));
    other->name = MD_OCSP_OTHER;
    return other;
}

static void renewed(md_reg_ocsp_t *ocsp, ocsp_entry_t *e, md_ocsp_resp_t *resp, apr_array_header_t *revoked,
                    apr_time_t now, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    apr_table_t *env;

    apr_thread_mutex_lock(ocsp->lock);
    entry_take(e, resp);
    e->mtime = md_store_get_modified(ocsp->reg->store, MD_OCSP_GROUP, e->md_name,
                                     md_ocsp_record_aspect(e->hexid, p), p);
    apr_thread_mutex_unlock(ocsp->lock);
    e->errors = 0;
    e->next_try = 0;
    md_result_activity_set(result, apr_psprintf(p, "status of certid %s, reading response", e->hexid));
    md_result_printf(result, APR_SUCCESS, "certificate status is %s, status valid %s - %s",
                     resp->status == MD_OCSP_GOOD ? "GOOD" : resp->status == MD_OCSP_REVOKED ? "REVOKED" : "UNKNOWN", md_time_print_http(resp->this_update, p),
                     md_time_print_http(resp->valid_until, p));
    result->status = APR_SUCCESS;
    job_record(ocsp, e, result, now, p);
    md_reg_event_limited(ocsp->reg, ocsp->opts.rn, event_md(e, p), "ocsp-renewed", e->hexid, 1, NULL, p);
    if (resp->status == MD_OCSP_REVOKED && e->md) {
        env = apr_table_make(p, 2);
        apr_table_set(env, "MD_CERT_SERIAL", md_cert_get_serial_hex(e->cert, p));
        apr_table_set(env, "MD_REVOKED_VIA", "ocsp");
        md_reg_event_limited(ocsp->reg, ocsp->opts.rn, e->md, "revoked", md_cert_get_serial_hex(e->cert, p), 0,
                             env, p);
        if (revoked) APR_ARRAY_PUSH(revoked, const char *) = apr_pstrdup(revoked->pool, e->md->name);
    }
}

static void errored(md_reg_ocsp_t *ocsp, ocsp_entry_t *e, md_result_t *result, apr_time_t now, apr_pool_t *p)
{
    apr_interval_time_t delay = ocsp->opts.retry_base;
    apr_table_t *env = apr_table_make(p, 1);
    int i;

    e->errors++;
    for (i = 1; i < e->errors && delay < MD_REG_OCSP_RETRY_MAX; ++i) delay *= 2;
    if (delay > MD_REG_OCSP_RETRY_MAX) delay = MD_REG_OCSP_RETRY_MAX;
    e->next_try = now + delay;
    md_result_activity_set(result, apr_psprintf(p, "status of certid %s, contacting %s", e->hexid, e->url));
    job_record(ocsp, e, result, now, p);
    apr_table_set(env, "MD_DETAIL", md_result_text(result, p));
    md_reg_event_limited(ocsp->reg, ocsp->opts.rn, event_md(e, p), "ocsp-errored", e->hexid,
                         MD_REG_OCSP_ERRORED_EVERY, env, p);
}

/* When e is renewed next: now when it has nothing (or an expired response), else in its renew window; not
 * before its back-off. */
static apr_time_t entry_due(md_reg_ocsp_t *ocsp, const ocsp_entry_t *e, apr_time_t now)
{
    apr_time_t at = 0;

    if (e->der.len && e->valid_until > now) at = md_ocsp_renew_at(&ocsp->window, e->valid_from, e->valid_until);
    return e->next_try > at ? e->next_try : at;
}

apr_time_t md_reg_ocsp_renew(md_reg_ocsp_t *ocsp, apr_array_header_t *revoked, apr_pool_t *p)
{
    apr_time_t now = md_reg_now(ocsp->reg), next = 0, due;
    md_ocsp_resp_t *resp;
    md_result_t *result;
    md_http_t *http = NULL;
    ocsp_entry_t *e;
    apr_pool_t *ptemp;
    int i;

    apr_pool_create(&ptemp, p);
    for (i = 0; i < md_reg_ocsp_count(ocsp); ++i) {
        apr_pool_clear(ptemp);
        apr_thread_mutex_lock(ocsp->lock);
        e = APR_ARRAY_IDX(ocsp->entries, i, ocsp_entry_t *);
        if (e->retired) {
            apr_thread_mutex_unlock(ocsp->lock);
            continue;
        }
        entry_refresh(ocsp, e, now);
        due = entry_due(ocsp, e, now);
        apr_thread_mutex_unlock(ocsp->lock);
        if (due <= now) {
            result = md_result_make(ptemp);
            if (!http) md_reg__ocsp_http(&http, &ocsp->opts, 0, p);
            if (http && md_ocsp_fetch(&resp, http, e->url, e->cert, e->issuer, now, result, ptemp) == APR_SUCCESS
                && md_ocsp_record_save(ocsp->reg->store, e->md_name, e->hexid, resp, result, ptemp) == APR_SUCCESS) {
                renewed(ocsp, e, resp, revoked, now, ptemp);
            }
            else {
                if (!http) md_result_set(result, APR_EGENERAL, "cannot make an HTTP client");
                errored(ocsp, e, result, now, ptemp);
            }
            due = entry_due(ocsp, e, now);
        }
        if (!next || due < next) next = due;
    }
    if (!ocsp->cleaned || now - ocsp->cleaned >= CLEANUP_EVERY) {
        md_ocsp_store_cleanup(ocsp->reg->store, ocsp->opts.keep, now, ptemp);
        ocsp->cleaned = now;
    }
    apr_pool_destroy(ptemp);
    return next ? next : now + IDLE_WAKE;
}

apr_status_t md_reg__ocsp_http(md_http_t **phttp, const md_reg_ocsp_opts_t *opts, apr_size_t max_body,
                               apr_pool_t *p)
{
    md_http_options_t hopts = opts->http;

    if (max_body) hopts.max_body = max_body;
    if (!hopts.timeout) hopts.timeout = apr_time_from_sec(30);
    if (!hopts.connect_timeout) hopts.connect_timeout = apr_time_from_sec(10);
    *phttp = NULL;
    return md_http_create(phttp, &hopts, opts->http_backend, p);
}

md_json_t *md_reg_ocsp_status(md_reg_t *reg, const char *md_name, const md_cert_t *cert,
                              const md_timeslice_t *window, apr_pool_t *p)
{
    md_ocsp_record_t *rec = NULL;
    md_timeslice_t ts;
    md_job_t *job = NULL;
    md_json_t *json;
    const char *hexid;

    if (!cert || md_ocsp_cert_id(NULL, &hexid, cert, p) != APR_SUCCESS) return NULL;
    if (md_ocsp_record_load(&rec, reg->store, md_name, hexid, p) != APR_SUCCESS) {
        rec = NULL;
        if (!md_store_exists(reg->store, MD_OCSP_GROUP, md_name, "job.json", p)) return NULL;
    }
    md_reg__ocsp_window(&ts, window);
    json = md_json_create(p);
    if (rec) md_json_sets(md_ocsp_status_str(rec->status), json, "status", NULL);
    if (rec && rec->valid_from) md_json_sets(md_time_print_http(rec->valid_from, p), json, "valid", "from", NULL);
    if (rec && rec->valid_until) md_json_sets(md_time_print_http(rec->valid_until, p), json, "valid", "until", NULL);
    if (rec && rec->valid_until) {
        md_json_sets(md_time_print_http(md_ocsp_renew_at(&ts, rec->valid_from, rec->valid_until), p), json,
                     "renew-at", NULL);
    }
    if (md_store_exists(reg->store, MD_OCSP_GROUP, md_name, "job.json", p)
        && md_job_load(&job, reg->store, MD_OCSP_GROUP, md_name, NULL, p) == APR_SUCCESS) {
        job->log = NULL;
        job->state = NULL;
        md_json_setj(md_job_to_json(job, p), json, "renewal", NULL);
        if (job->errors && md_json_gets(job->last, "detail", NULL)) {
            md_json_sets(md_json_gets(job->last, "detail", NULL), json, "last-error", NULL);
        }
    }
    return json;
}

apr_status_t md_reg_ocsp_fetch_one(md_ocsp_resp_t **presp, md_reg_t *reg, const char *md_name,
                                   const md_cert_t *cert, const md_cert_t *issuer, const md_reg_ocsp_opts_t *opts,
                                   md_result_t *result, apr_pool_t *p)
{
    md_http_t *http = NULL;
    const char *url = md_cert_get_ocsp_url(cert, p), *hexid = NULL;
    apr_status_t rv;

    *presp = NULL;
    if (!url) {
        md_result_set(result, APR_ENOENT, "the certificate has no OCSP responder URL");
        return APR_ENOENT;
    }
    rv = md_reg__ocsp_http(&http, opts, 0, p);
    if (rv != APR_SUCCESS) {
        md_result_set(result, rv, "cannot make an HTTP client");
        return rv;
    }
    rv = md_ocsp_fetch(presp, http, url, cert, issuer, md_reg_now(reg), result, p);
    if (rv == APR_SUCCESS) md_ocsp_cert_id(NULL, &hexid, cert, p);
    if (rv == APR_SUCCESS) rv = md_ocsp_record_save(reg->store, md_name, hexid, *presp, result, p);
    return rv;
}

/* The response in the file at path when it is one for cert that verifies now, else NULL. */
static md_ocsp_resp_t *installed(const char *path, const md_cert_t *cert, const md_cert_t *issuer, apr_time_t now,
                                 apr_pool_t *p)
{
    md_ocsp_resp_t *resp = NULL;
    md_data_t der;
    char *data = NULL;
    apr_size_t len = 0;

    if (md_file_read(&data, &len, path, p) != APR_SUCCESS) return NULL;
    der.data = data;
    der.len = len;
    if (md_ocsp_resp_verify(&resp, &der, cert, issuer, NULL, now, md_result_make(p), p) != APR_SUCCESS) return NULL;
    return resp;
}

apr_status_t md_reg_ocsp_install(md_ocsp_resp_t **presp, int *pwritten, md_reg_t *reg, const md_t *md,
                                 const char *path, const md_reg_ocsp_opts_t *opts, int force, md_result_t *result,
                                 apr_pool_t *p)
{
    md_reg_state_t *st = md_reg_state(reg, md, NULL, p);
    const md_reg_cert_t *c = st->certs->nelts ? APR_ARRAY_IDX(st->certs, 0, const md_reg_cert_t *) : NULL;
    apr_time_t now = md_reg_now(reg);
    md_ocsp_resp_t *resp = NULL;
    md_timeslice_t ts;
    apr_status_t rv;

    if (presp) *presp = NULL;
    if (pwritten) *pwritten = 0;
    if (!c || !c->cert || !c->chain || c->chain->nelts < 2) {
        md_result_set(result, APR_ENOENT, "the MD has no certificate with its issuer in the chain");
        return APR_ENOENT;
    }
    md_reg__ocsp_window(&ts, opts->renew_window);
    resp = force ? NULL : installed(path, c->cert, APR_ARRAY_IDX(c->chain, 1, md_cert_t *), now, p);
    if (!resp || md_ocsp_renew_at(&ts, resp->this_update, resp->valid_until) <= now) {
        rv = md_reg_ocsp_fetch_one(&resp, reg, md->name, c->cert, APR_ARRAY_IDX(c->chain, 1, md_cert_t *), opts,
                                   result, p);
        if (rv != APR_SUCCESS) return rv;
        rv = md_file_write_atomic(path, resp->der.data, resp->der.len, 0644, p);
        if (rv != APR_SUCCESS) {
            md_result_printf(result, rv, "cannot write %s", path);
            return rv;
        }
        if (pwritten) *pwritten = 1;
    }
    if (presp) *presp = resp;
    md_result_set(result, APR_SUCCESS, NULL);
    return APR_SUCCESS;
}
