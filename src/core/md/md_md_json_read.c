/* md.json reading: what mod_md 2.x writes (and our "mdomain" settings), each value checked, the key named. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_result.h"
#include "md_md_int.h"

static apr_status_t bad(md_result_t *result, const char *label, const char *why)
{
    md_result_printf(result, APR_EINVAL, "md.json: \"%s\" %s", label, why);
    return APR_EINVAL;
}

/* The value at key in obj; NULL when obj or the key is missing or the value is null. */
static md_json_t *node(const md_json_t *obj, const char *key)
{
    md_json_t *j;

    if (!obj) return NULL;
    j = md_json_getj(obj, key, NULL);
    return (j && md_json_type(j) != MD_JSON_TYPE_NULL) ? j : NULL;
}

static apr_status_t opt_obj(md_json_t **pobj, const md_json_t *obj, const char *key, const char *label,
                            md_result_t *result)
{
    *pobj = node(obj, key);
    if (*pobj && md_json_type(*pobj) != MD_JSON_TYPE_OBJECT) return bad(result, label, "is not an object");
    return APR_SUCCESS;
}

/* A string; *pv is left alone when the key is missing. */
static apr_status_t opt_str(const char **pv, const md_json_t *obj, const char *key, const char *label,
                            md_result_t *result, apr_pool_t *p)
{
    md_json_t *j = node(obj, key);

    if (!j) return APR_SUCCESS;
    if (md_json_type(j) != MD_JSON_TYPE_STRING) return bad(result, label, "is not a string");
    *pv = md_json_dups(p, j, NULL);
    return APR_SUCCESS;
}

/* An array of strings, replacing *pa; *pa is left alone when the key is missing. */
static apr_status_t opt_strs(apr_array_header_t **pa, const md_json_t *obj, const char *key, const char *label,
                             md_result_t *result, apr_pool_t *p)
{
    md_json_t *j = node(obj, key);
    apr_array_header_t *a;

    if (!j) return APR_SUCCESS;
    a = apr_array_make(p, 5, sizeof(const char *));
    if (md_json_type(j) != MD_JSON_TYPE_ARRAY || md_json_getsa(a, j, NULL) != APR_SUCCESS
        || (apr_size_t)a->nelts != md_json_count(j, NULL)) {
        return bad(result, label, "is not an array of strings");
    }
    *pa = a;
    return APR_SUCCESS;
}

/* An integer in [min, max] (true/false read as 1/0); *pv is left alone when the key is missing. */
static apr_status_t opt_int(int *pv, const md_json_t *obj, const char *key, const char *label, long long min,
                            long long max, md_result_t *result)
{
    md_json_t *j = node(obj, key);
    long long v;

    if (!j) return APR_SUCCESS;
    if (md_json_type(j) == MD_JSON_TYPE_BOOL) {
        v = md_json_getb(j, NULL);
    }
    else if (md_json_type(j) == MD_JSON_TYPE_INT) {
        v = md_json_getl(j, NULL);
    }
    else {
        return bad(result, label, "is not an integer");
    }
    if (v < min || v > max) {
        md_result_printf(result, APR_EINVAL, "md.json: \"%s\" is %" APR_INT64_T_FMT ", allowed are %"
                         APR_INT64_T_FMT " to %" APR_INT64_T_FMT, label, (apr_int64_t)v, (apr_int64_t)min,
                         (apr_int64_t)max);
        return APR_EINVAL;
    }
    *pv = (int)v;
    return APR_SUCCESS;
}

/* A flag: true/false, or a number (non-zero is true) as older writers used. */
static apr_status_t opt_bool(int *pv, const md_json_t *obj, const char *key, const char *label,
                             md_result_t *result)
{
    md_json_t *j = node(obj, key);

    if (!j) return APR_SUCCESS;
    if (md_json_type(j) == MD_JSON_TYPE_BOOL) *pv = md_json_getb(j, NULL);
    else if (md_json_type(j) == MD_JSON_TYPE_INT) *pv = md_json_getl(j, NULL) != 0;
    else return bad(result, label, "is not true or false");
    return APR_SUCCESS;
}

static apr_status_t opt_window(md_timeslice_t **pts, const md_json_t *obj, const char *key,
                               md_result_t *result, apr_pool_t *p)
{
    const char *s = NULL, *err = NULL;
    apr_status_t rv;

    rv = opt_str(&s, obj, key, key, result, p);
    if (rv != APR_SUCCESS || !s) return rv;
    rv = md_timeslice_parse(pts, s, "d", &err, p);
    if (rv != APR_SUCCESS) return bad(result, key, apr_psprintf(p, "is invalid: %s", err ? err : s));
    return APR_SUCCESS;
}

static apr_status_t read_names(md_t *md, const md_json_t *json, md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *domains = NULL;
    apr_status_t rv;

    rv = opt_str(&md->name, json, "name", "name", result, p);
    if (rv != APR_SUCCESS) goto leave;
    if (!md->name || !*md->name) {
        rv = bad(result, "name", "is missing");
        goto leave;
    }
    rv = opt_strs(&domains, json, "domains", "domains", result, p);
    if (rv != APR_SUCCESS) goto leave;
    if (!domains || !domains->nelts) {
        rv = bad(result, "domains", domains ? "is empty" : "is missing");
        goto leave;
    }
    md->domains = md_md__strs_copy(domains, 1, p);
    rv = opt_strs(&md->contacts, json, "contacts", "contacts", result, p);
leave:
    return rv;
}

static apr_status_t read_ca(md_t *md, const md_json_t *json, md_result_t *result, apr_pool_t *p)
{
    md_json_t *ca = NULL;
    apr_status_t rv;

    rv = opt_obj(&ca, json, "ca", "ca", result);
    if (rv != APR_SUCCESS || !ca) goto leave;
    rv = opt_str(&md->ca_account, ca, "account", "ca.account", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->ca_effective, ca, "url", "ca.url", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_strs(&md->ca_urls, ca, "urls", "ca.urls", result, p);
    if (rv != APR_SUCCESS) goto leave;
    if (!md->ca_urls->nelts && md->ca_effective) {
        /* mod_md 2.0 had only "url" */
        APR_ARRAY_PUSH(md->ca_urls, const char *) = md->ca_effective;
    }
    rv = opt_str(&md->ca_agreement, ca, "agreement", "ca.agreement", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_strs(&md->ca_challenges, ca, "challenges", "ca.challenges", result, p);
leave:
    return rv;
}

/* One key spec; mod_md wrote {"type":"Default"} (or no type) for its default, RSA 2048. */
static apr_status_t read_pkey(md_pkey_spec_t **pspec, const md_json_t *j, const char *label,
                              md_result_t *result, apr_pool_t *p)
{
    const char *type;

    if (md_json_type(j) != MD_JSON_TYPE_OBJECT) return bad(result, label, "is not a key spec object");
    type = md_json_gets(j, "type", NULL);
    if (!type && node(j, "type")) return bad(result, label, "has a \"type\" that is not a string");
    if (!type || !strcasecmp(type, "Default")) {
        *pspec = md_md__pkey_spec_default(p);
        return APR_SUCCESS;
    }
    if (md_pkey_spec_from_json(pspec, j, p) != APR_SUCCESS) {
        return bad(result, label, apr_psprintf(p, "is not a supported key spec: %s",
                                               md_json_writep(j, MD_JSON_FMT_COMPACT, p)));
    }
    return APR_SUCCESS;
}

/* Two specs that would share a file (two RSA keys, or the same curve name) cannot be stored. */
static apr_status_t check_pkeys(const md_t *md, md_result_t *result, apr_pool_t *p)
{
    int i, j;

    for (i = 0; i < md->pks->nelts; ++i) {
        for (j = 0; j < i; ++j) {
            if (!strcmp(md_pkey_aspect(md, i, p), md_pkey_aspect(md, j, p))) {
                return bad(result, "privkey", apr_psprintf(p, "has two keys stored as %s",
                                                           md_pkey_aspect(md, i, p)));
            }
        }
    }
    return APR_SUCCESS;
}

static apr_status_t read_pkeys(md_t *md, const md_json_t *json, md_result_t *result, apr_pool_t *p)
{
    md_json_t *j = node(json, "privkey");
    md_pkey_spec_t *spec = NULL;
    apr_size_t i, n;
    apr_status_t rv = APR_SUCCESS;

    if (!j) goto leave;   /* mod_md leaves it out for its default */
    md->pks = apr_array_make(p, 2, sizeof(md_pkey_spec_t *));
    md->pks_default = 0;
    if (md_json_type(j) != MD_JSON_TYPE_ARRAY) {
        rv = read_pkey(&spec, j, "privkey", result, p);
        if (rv != APR_SUCCESS) goto leave;
        APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = spec;
        goto leave;
    }
    n = md_json_count(j, NULL);
    if (n == 0) {
        rv = bad(result, "privkey", "is an empty array");
        goto leave;
    }
    for (i = 0; i < n; ++i) {
        rv = read_pkey(&spec, md_json_at(j, i, NULL), apr_psprintf(p, "privkey[%lu]", (unsigned long)i),
                       result, p);
        if (rv != APR_SUCCESS) goto leave;
        APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = spec;
    }
    rv = check_pkeys(md, result, p);
leave:
    return rv;
}

static apr_status_t read_state(md_t *md, const md_json_t *json, md_result_t *result, apr_pool_t *p)
{
    int state = md->state, mode = md->renew_mode;
    apr_status_t rv;

    rv = opt_int(&state, json, "state", "state", MD_S_UNKNOWN, MD_S_MISSING_INFORMATION, result);
    if (rv != APR_SUCCESS) goto leave;
    md->state = (md_state_t)state;
    rv = opt_str(&md->state_descr, json, "state-descr", "state-descr", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_int(&mode, json, "renew-mode", "renew-mode", MD_RENEW_MANUAL, MD_RENEW_ALWAYS, result);
    if (rv != APR_SUCCESS) goto leave;
    md->renew_mode = (md_renew_mode_t)mode;
    rv = opt_window(&md->renew_window, json, "renew-window", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_window(&md->warn_window, json, "warn-window", result, p);
leave:
    return rv;
}

static apr_status_t read_settings(md_t *md, const md_json_t *json, md_result_t *result, apr_pool_t *p)
{
    md_json_t *eab = NULL;
    apr_status_t rv;

    rv = opt_int(&md->transitive, json, "transitive", "transitive", INT_MIN, INT_MAX, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_bool(&md->must_staple, json, "must-staple", "must-staple", result);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->dns01_cmd, json, "cmd-dns-01", "cmd-dns-01", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_obj(&eab, json, "eab", "eab", result);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->ca_eab_kid, eab, "kid", "eab.kid", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->ca_eab_hmac, eab, "hmac", "eab.hmac", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->profile, json, "profile", "profile", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_bool(&md->profile_mandatory, json, "profile-mandatory", "profile-mandatory", result);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_bool(&md->ari_renewals, json, "ari-renewals", "ari-renewals", result);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_strs(&md->acme_tls_1, node(json, "proto"), "acme-tls/1", "proto.acme-tls/1", result, p);
leave:
    return rv;
}

/* The installed key's mode: "0640" (octal text, as we write it) or a number. */
static apr_status_t read_mode(int *pmode, const md_json_t *install, md_result_t *result)
{
    const char *label = MD_MD_KEY_OWN ".install.mode";
    md_json_t *j = node(install, "mode");
    char *end = NULL;
    long v;

    if (!j) return APR_SUCCESS;
    if (md_json_type(j) != MD_JSON_TYPE_STRING) return opt_int(pmode, install, "mode", label, 0, 0777, result);
    v = strtol(md_json_gets(j, NULL), &end, 8);
    if (!*md_json_gets(j, NULL) || *end || v < 0 || v > 0777) {
        return bad(result, label, "is not a file mode from 0000 to 0777");
    }
    *pmode = (int)v;
    return APR_SUCCESS;
}

static apr_status_t read_install(md_t *md, const md_json_t *own, md_result_t *result, apr_pool_t *p)
{
    md_json_t *install = NULL;
    apr_status_t rv;

    rv = opt_obj(&install, own, "install", MD_MD_KEY_OWN ".install", result);
    if (rv != APR_SUCCESS || !install) goto leave;
    rv = opt_str(&md->install_chain, install, "chain", MD_MD_KEY_OWN ".install.chain", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->install_key, install, "key", MD_MD_KEY_OWN ".install.key", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = read_mode(&md->install_mode, install, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_strs(&md->install_cmd, install, "cmd", MD_MD_KEY_OWN ".install.cmd", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->install_owner, install, "owner", MD_MD_KEY_OWN ".install.owner", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_strs(&md->install_reload, install, "reload", MD_MD_KEY_OWN ".install.reload", result, p);
leave:
    return rv;
}

typedef struct {
    md_challenge_delays_t *delays;
    const char *err;           /* the first bad entry */
    apr_pool_t *p;
} delays_ctx_t;

static int read_delay_cb(void *baton, const char *key, md_json_t *value)
{
    delays_ctx_t *ctx = baton;
    const char *s = md_json_gets(value, NULL), *err = NULL;

    if (!s || md_challenge_delay_parse(ctx->delays, apr_pstrcat(ctx->p, key, "=", s, NULL), &err, ctx->p)
        != APR_SUCCESS) {
        ctx->err = apr_pstrcat(ctx->p, key, ": ", err ? err : "expected a duration as a string", NULL);
        return 0;
    }
    return 1;
}

/* "challenge-delay": {"TYPE": "DURATION", ...}. */
static apr_status_t read_delays(md_challenge_delays_t *d, const md_json_t *own, md_result_t *result, apr_pool_t *p)
{
    delays_ctx_t ctx = { d, NULL, p };
    md_json_t *obj = NULL;
    apr_status_t rv;

    rv = opt_obj(&obj, own, "challenge-delay", MD_MD_KEY_OWN ".challenge-delay", result);
    if (rv != APR_SUCCESS || !obj) return rv;
    md_json_iterkey(read_delay_cb, &ctx, obj, NULL);
    if (ctx.err) {
        md_result_printf(result, APR_EINVAL, "%s.challenge-delay.%s", MD_MD_KEY_OWN, ctx.err);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t read_own(md_t *md, const md_json_t *json, md_result_t *result, apr_pool_t *p)
{
    md_json_t *own = NULL;
    apr_status_t rv;

    rv = opt_obj(&own, json, MD_MD_KEY_OWN, MD_MD_KEY_OWN, result);
    if (rv != APR_SUCCESS || !own) goto leave;
    rv = opt_str(&md->ca_file, own, "ca-file", MD_MD_KEY_OWN ".ca-file", result, p);
    if (rv == APR_SUCCESS) rv = opt_str(&md->proxy_url, own, "proxy", MD_MD_KEY_OWN ".proxy", result, p);
    if (rv != APR_SUCCESS) goto leave;
    if (!md->dns01_cmd) {   /* mod_md's "cmd-dns-01" wins */
        rv = opt_str(&md->dns01_cmd, own, "dns01-cmd", MD_MD_KEY_OWN ".dns01-cmd", result, p);
        if (rv != APR_SUCCESS) goto leave;
    }
    rv = opt_int(&md->dns01_version, own, "dns01-version", MD_MD_KEY_OWN ".dns01-version", 1, 2, result);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->preferred_chain, own, "preferred-chain", MD_MD_KEY_OWN ".preferred-chain", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_int(&md->retry_failover, own, "retry-failover", MD_MD_KEY_OWN ".retry-failover", 0, INT_MAX,
                 result);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_str(&md->account_key, own, "account-key", MD_MD_KEY_OWN ".account-key", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = read_install(md, own, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = opt_strs(&md->event_handler, own, "event-handler", MD_MD_KEY_OWN ".event-handler", result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = read_delays(&md->challenge_delays, own, result, p);
leave:
    return rv;
}

typedef struct {
    md_json_t *extra;
    const char *sub;
    const char *const *known;
} extra_ctx_t;

static int extra_cb(void *baton, const char *key, md_json_t *value)
{
    extra_ctx_t *ctx = baton;

    if (md_md__key_in(ctx->known, key)) return 1;
    if (ctx->sub) md_json_setj(value, ctx->extra, ctx->sub, key, NULL);
    else md_json_setj(value, ctx->extra, key, NULL);
    return 1;
}

/* What md_t does not model, in md.json's shape; NULL when that is nothing. */
static md_json_t *read_extra(const md_json_t *json, apr_pool_t *p)
{
    extra_ctx_t ctx;

    ctx.extra = md_json_create(p);
    ctx.sub = NULL;
    ctx.known = md_md__top_keys;
    md_json_iterkey(extra_cb, &ctx, json, NULL);
    ctx.sub = "ca";
    ctx.known = md_md__ca_keys;
    if (md_json_is(MD_JSON_TYPE_OBJECT, json, "ca", NULL)) md_json_iterkey(extra_cb, &ctx, json, "ca", NULL);
    ctx.sub = MD_MD_KEY_OWN;
    ctx.known = md_md__own_keys;
    if (md_json_is(MD_JSON_TYPE_OBJECT, json, MD_MD_KEY_OWN, NULL)) {
        md_json_iterkey(extra_cb, &ctx, json, MD_MD_KEY_OWN, NULL);
    }
    return md_json_equal(ctx.extra, md_json_create(p)) ? NULL : ctx.extra;
}

apr_status_t md_from_json(md_t **pmd, const md_json_t *json, md_result_t *result, apr_pool_t *p)
{
    md_t *md = md_create(NULL, p);
    apr_status_t rv;

    *pmd = NULL;
    if (!json || md_json_type(json) != MD_JSON_TYPE_OBJECT) {
        rv = APR_EINVAL;
        md_result_set(result, rv, "md.json: not a JSON object");
        goto leave;
    }
    rv = read_names(md, json, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = read_ca(md, json, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = read_pkeys(md, json, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = read_state(md, json, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = read_settings(md, json, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = read_own(md, json, result, p);
    if (rv != APR_SUCCESS) goto leave;
    md->extra = read_extra(json, p);
    *pmd = md;
leave:
    return rv;
}
