/* The OCSP records in the store's ocsp/ group: mod_md's ocsp-ID.json per certificate, mdomain's CRL checks
 * (crl-ID.json and the cached CRL crl-ID.pem) beside them, whether a certificate is recorded revoked, and the
 * removal of what is no longer kept. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "md_encode.h"
#include "md_json.h"
#include "md_ocsp.h"
#include "md_result.h"

const char *md_ocsp_record_aspect(const char *hexid, apr_pool_t *p)
{
    return apr_pstrcat(p, "ocsp-", hexid, ".json", NULL);
}

const char *md_ocsp_crl_aspect(const char *hexid, const char *ext, apr_pool_t *p)
{
    return apr_pstrcat(p, "crl-", hexid, ext, NULL);
}

static apr_time_t json_http_time(const md_json_t *json, const char *k1, const char *k2)
{
    const char *s = k2 ? md_json_gets(json, k1, k2, NULL) : md_json_gets(json, k1, NULL);
    apr_time_t t = 0;

    return (s && md_time_parse_http(&t, s) == APR_SUCCESS) ? t : 0;
}

static void json_set_time(md_json_t *json, apr_time_t t, const char *k1, const char *k2, apr_pool_t *p)
{
    if (!t) return;
    if (k2) md_json_sets(md_time_print_http(t, p), json, k1, k2, NULL);
    else md_json_sets(md_time_print_http(t, p), json, k1, NULL);
}

apr_status_t md_ocsp_record_load(md_ocsp_record_t **prec, md_store_t *store, const char *md_name, const char *hexid,
                                 apr_pool_t *p)
{
    md_json_t *json = NULL;
    apr_status_t rv;

    *prec = NULL;
    rv = md_store_load((void **)&json, store, MD_OCSP_GROUP, md_name, md_ocsp_record_aspect(hexid, p), MD_SV_JSON,
                       NULL, p);
    if (rv != APR_SUCCESS) return rv;
    return md_ocsp_record_from_json(prec, json, p);
}

apr_status_t md_ocsp_record_from_json(md_ocsp_record_t **prec, const md_json_t *json, apr_pool_t *p)
{
    md_ocsp_record_t *rec;
    unsigned char *der = NULL;
    apr_size_t len = 0;
    const char *b64;

    *prec = NULL;
    b64 = md_json_gets(json, "response", NULL);
    if (!b64 || md_b64url_decode(&der, &len, b64, p) != APR_SUCCESS || len == 0) return APR_EINVAL;
    rec = apr_pcalloc(p, sizeof(*rec));
    rec->der.data = (const char *)der;
    rec->der.len = len;
    rec->status = md_ocsp_status_parse(md_json_gets(json, "status", NULL));
    rec->valid_from = json_http_time(json, "valid", "from");
    rec->valid_until = json_http_time(json, "valid", "until");
    *prec = rec;
    return APR_SUCCESS;
}

apr_status_t md_ocsp_record_save(md_store_t *store, const char *md_name, const char *hexid,
                                 const md_ocsp_resp_t *resp, md_result_t *result, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(md_b64url_encode(resp->der.data, resp->der.len, p), json, "response", NULL);
    md_json_sets(md_ocsp_status_str(resp->status), json, "status", NULL);
    json_set_time(json, resp->this_update, "valid", "from", p);
    json_set_time(json, resp->valid_until, "valid", "until", p);
    return md_store_save(store, MD_OCSP_GROUP, md_name, md_ocsp_record_aspect(hexid, p), MD_SV_JSON, json, 0,
                         result, p);
}

apr_status_t md_ocsp_crl_record_load(md_ocsp_crl_record_t **prec, md_store_t *store, const char *md_name,
                                     const char *hexid, apr_pool_t *p)
{
    md_json_t *json = NULL;
    apr_status_t rv;

    *prec = NULL;
    rv = md_store_load((void **)&json, store, MD_OCSP_GROUP, md_name, md_ocsp_crl_aspect(hexid, ".json", p),
                       MD_SV_JSON, NULL, p);
    if (rv != APR_SUCCESS) return rv;
    return md_ocsp_crl_record_from_json(prec, json, p);
}

apr_status_t md_ocsp_crl_record_from_json(md_ocsp_crl_record_t **prec, const md_json_t *json, apr_pool_t *p)
{
    md_ocsp_crl_record_t *rec;

    *prec = NULL;
    if (!md_json_is(MD_JSON_TYPE_OBJECT, json, NULL)) return APR_EINVAL;
    rec = apr_pcalloc(p, sizeof(*rec));
    rec->url = md_json_dups(p, json, "url", NULL);
    rec->status = md_ocsp_status_parse(md_json_gets(json, "status", NULL));
    rec->checked = json_http_time(json, "checked", NULL);
    rec->revoked_at = json_http_time(json, "revoked-at", NULL);
    rec->reason = md_json_has_key(json, "reason", NULL) ? (int)md_json_getl(json, "reason", NULL) : -1;
    rec->crl_next_update = json_http_time(json, "crl-next-update", NULL);
    rec->last_modified = md_json_dups(p, json, "last-modified", NULL);
    rec->error = md_json_dups(p, json, "error", NULL);
    rec->ari_window = md_json_dups(p, json, "ari-window", NULL);
    rec->cert_until = json_http_time(json, "cert-until", NULL);
    *prec = rec;
    return APR_SUCCESS;
}

apr_status_t md_ocsp_crl_record_save(md_store_t *store, const char *md_name, const char *hexid,
                                     const md_ocsp_crl_record_t *rec, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    if (rec->url) md_json_sets(rec->url, json, "url", NULL);
    md_json_sets(md_ocsp_status_str(rec->status), json, "status", NULL);
    json_set_time(json, rec->checked, "checked", NULL, p);
    json_set_time(json, rec->revoked_at, "revoked-at", NULL, p);
    if (rec->status == MD_OCSP_REVOKED && rec->reason >= 0) md_json_setl(rec->reason, json, "reason", NULL);
    json_set_time(json, rec->crl_next_update, "crl-next-update", NULL, p);
    if (rec->last_modified) md_json_sets(rec->last_modified, json, "last-modified", NULL);
    if (rec->error) md_json_sets(rec->error, json, "error", NULL);
    if (rec->ari_window) md_json_sets(rec->ari_window, json, "ari-window", NULL);
    json_set_time(json, rec->cert_until, "cert-until", NULL, p);
    return md_store_save(store, MD_OCSP_GROUP, md_name, md_ocsp_crl_aspect(hexid, ".json", p), MD_SV_JSON, json, 0,
                         NULL, p);
}

int md_ocsp_is_revoked(const char **pvia, md_store_t *store, const char *md_name, const md_cert_t *cert,
                       apr_pool_t *p)
{
    md_ocsp_crl_record_t *crec = NULL;
    md_ocsp_record_t *rec = NULL;
    const char *hexid;

    if (pvia) *pvia = NULL;
    if (!cert || md_ocsp_cert_id(NULL, &hexid, cert, p) != APR_SUCCESS) return 0;
    if (md_ocsp_record_load(&rec, store, md_name, hexid, p) == APR_SUCCESS && rec->status == MD_OCSP_REVOKED) {
        if (pvia) *pvia = "ocsp";
        return 1;
    }
    if (md_ocsp_crl_record_load(&crec, store, md_name, hexid, p) == APR_SUCCESS && crec->status == MD_OCSP_REVOKED) {
        if (pvia) *pvia = "crl";
        return 1;
    }
    return 0;
}

/* The hex id in an aspect "PREFIXID.EXT", or NULL. */
static const char *aspect_id(const char *aspect, const char *prefix, const char *ext, apr_pool_t *p)
{
    apr_size_t lp = strlen(prefix), le = strlen(ext), la = strlen(aspect);

    if (la <= lp + le || strncmp(aspect, prefix, lp) || strcmp(aspect + la - le, ext)) return NULL;
    return apr_pstrmemdup(p, aspect + lp, la - lp - le);
}

/* The records of one name that are no longer kept; returns how many went. */
static int cleanup_name(md_store_t *store, const char *name, apr_interval_time_t keep, apr_time_t now,
                        apr_pool_t *p)
{
    apr_array_header_t *aspects = NULL;
    md_ocsp_crl_record_t *crec;
    md_ocsp_record_t *rec;
    const char *aspect, *id;
    int i, n = 0;

    if (md_store_list_aspects(&aspects, store, MD_OCSP_GROUP, name, "*.json", p) != APR_SUCCESS) return 0;
    for (i = 0; i < aspects->nelts; ++i) {
        aspect = APR_ARRAY_IDX(aspects, i, const char *);
        if ((id = aspect_id(aspect, "ocsp-", ".json", p)) != NULL
            && md_ocsp_record_load(&rec, store, name, id, p) == APR_SUCCESS && rec->valid_until
            && !md_ocsp_keep(rec->valid_until, keep, now)) {
            n += md_store_remove(store, MD_OCSP_GROUP, name, aspect, 1, p) == APR_SUCCESS;
        }
        else if ((id = aspect_id(aspect, "crl-", ".json", p)) != NULL
                 && md_ocsp_crl_record_load(&crec, store, name, id, p) == APR_SUCCESS && crec->cert_until
                 && !md_ocsp_keep(crec->cert_until, keep, now)) {
            md_store_remove(store, MD_OCSP_GROUP, name, md_ocsp_crl_aspect(id, ".pem", p), 1, p);
            n += md_store_remove(store, MD_OCSP_GROUP, name, aspect, 1, p) == APR_SUCCESS;
        }
    }
    return n;
}

int md_ocsp_store_cleanup(md_store_t *store, apr_interval_time_t keep, apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *names = NULL;
    apr_pool_t *ptemp;
    int i, n = 0;

    if (md_store_list(&names, store, MD_OCSP_GROUP, "*", p) != APR_SUCCESS) return 0;
    apr_pool_create(&ptemp, p);
    for (i = 0; i < names->nelts; ++i) {
        apr_pool_clear(ptemp);
        n += cleanup_name(store, APR_ARRAY_IDX(names, i, const char *), keep, now, ptemp);
    }
    apr_pool_destroy(ptemp);
    return n;
}
