/* md.json writing: mod_md 2.6's keys in mod_md's order, unmodelled keys carried over, our own under "mdomain". */
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_md_int.h"

const char *const md_md__top_keys[] = {
    "name", "domains", "contacts", "transitive", "ca", "privkey", "state", "state-descr", "renew-mode",
    "renew-window", "warn-window", "must-staple", "cmd-dns-01", "eab", "profile", "profile-mandatory",
    "ari-renewals", MD_MD_KEY_OWN, NULL,
};
const char *const md_md__ca_keys[] = {
    "account", "url", "urls", "agreement", "challenges", NULL,
};
const char *const md_md__own_keys[] = {
    "ca-file", "dns01-cmd", "dns01-version", "preferred-chain", "retry-failover", "account-key", "install", "event-handler",
    "challenge-delay", "proxy", NULL,
};

/* mod_md keys we do not model but write at mod_md's place (from md->extra, some with mod_md's default). */
static const char *const passthrough_keys[] = {
    "require-https", "proto", "cert-files", "pkey-files", "stapling", NULL,
};

int md_md__key_in(const char *const *keys, const char *key)
{
    for (; *keys; ++keys) {
        if (!strcmp(*keys, key)) return 1;
    }
    return 0;
}

/* A window as mod_md writes it: "33%", or the duration in the largest unit that divides it ("36h", "90mi"). */
static const char *window_print(const md_timeslice_t *ts, apr_pool_t *p)
{
    static const struct { const char *unit; apr_interval_time_t len; } units[] = {
        { "d", APR_INT64_C(86400000000) }, { "h", APR_INT64_C(3600000000) }, { "mi", APR_INT64_C(60000000) },
        { "s", APR_INT64_C(1000000) }, { "ms", APR_INT64_C(1000) }, { "us", 1 },
    };
    size_t i;

    if (ts->percent >= 0) return apr_psprintf(p, "%d%%", ts->percent);
    if (ts->len <= 0) return "0d";
    for (i = 0; i + 1 < sizeof(units) / sizeof(units[0]); ++i) {
        if (ts->len % units[i].len == 0) break;
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT "%s", ts->len / units[i].len, units[i].unit);
}

static int count_cb(void *baton, const char *key, md_json_t *value)
{
    ++*(int *)baton;
    return 1;
}

static int obj_size(const md_json_t *json)
{
    int n = 0;

    if (json) md_json_iterkey(count_cb, &n, json, NULL);
    return n;
}

typedef struct {
    md_json_t *dest;
    const char *const *skip1;
    const char *const *skip2;
} copy_ctx_t;

static int copy_cb(void *baton, const char *key, md_json_t *value)
{
    copy_ctx_t *ctx = baton;

    if (ctx->skip1 && md_md__key_in(ctx->skip1, key)) return 1;
    if (ctx->skip2 && md_md__key_in(ctx->skip2, key)) return 1;
    md_json_setj(value, ctx->dest, key, NULL);
    return 1;
}

/* Copy the keys of src (when an object) to dest, except those in skip1 and skip2. */
static void copy_keys(md_json_t *dest, const md_json_t *src, const char *const *skip1, const char *const *skip2)
{
    copy_ctx_t ctx;

    if (!src || md_json_type(src) != MD_JSON_TYPE_OBJECT) return;
    ctx.dest = dest;
    ctx.skip1 = skip1;
    ctx.skip2 = skip2;
    md_json_iterkey(copy_cb, &ctx, src, NULL);
}

/* The unmodelled value at key in md->extra (of the sub-object sub when given), or NULL. */
static md_json_t *extra_get(const md_t *md, const char *sub, const char *key)
{
    if (!md->extra) return NULL;
    return sub ? md_json_getj(md->extra, sub, key, NULL) : md_json_getj(md->extra, key, NULL);
}

static void put_extra(md_json_t *json, const md_t *md, const char *key)
{
    md_json_t *value = extra_get(md, NULL, key);

    if (value) md_json_setj(value, json, key, NULL);
}

static void put_strs(md_json_t *json, const apr_array_header_t *a, const char *k1, const char *k2)
{
    apr_array_header_t empty = { 0 };

    if (!a) {
        empty.elt_size = sizeof(const char *);
        a = &empty;
    }
    if (k2) md_json_setsa(a, json, k1, k2, NULL);
    else md_json_setsa(a, json, k1, NULL);
}

static void put_ca(md_json_t *json, const md_t *md, apr_pool_t *p)
{
    static const char *const ca_passthrough[] = { "proto", NULL };
    md_json_t *proto = extra_get(md, "ca", "proto");
    md_json_t *ca = md_json_create(p);

    if (md->ca_account) md_json_sets(md->ca_account, ca, "account", NULL);
    if (proto) md_json_setj(proto, ca, "proto", NULL);
    else md_json_sets("ACME", ca, "proto", NULL);
    if (md->ca_effective) md_json_sets(md->ca_effective, ca, "url", NULL);
    if (md->ca_urls && md->ca_urls->nelts) put_strs(ca, md->ca_urls, "urls", NULL);
    if (md->ca_agreement) md_json_sets(md->ca_agreement, ca, "agreement", NULL);
    if (md->ca_challenges && md->ca_challenges->nelts) put_strs(ca, md->ca_challenges, "challenges", NULL);
    if (md->extra) {
        copy_keys(ca, md_json_getj(md->extra, "ca", NULL), md_md__ca_keys, ca_passthrough);
    }
    md_json_setj(ca, json, "ca", NULL);
}

/* One spec: an object (left out when no key type was configured, as mod_md does); several: an array. */
static void put_pkeys(md_json_t *json, const md_t *md, apr_pool_t *p)
{
    const md_pkey_spec_t *spec;
    md_json_t *arr;
    int i;

    if (!md->pks || md->pks->nelts == 0) return;
    if (md->pks->nelts == 1) {
        spec = APR_ARRAY_IDX(md->pks, 0, const md_pkey_spec_t *);
        if (md->pks_default && spec->type == MD_PKEY_RSA && spec->bits == MD_PKEY_RSA_BITS_DEF) return;
        md_json_setj(md_pkey_spec_to_json(spec, p), json, "privkey", NULL);
        return;
    }
    arr = md_json_create_array(p);
    for (i = 0; i < md->pks->nelts; ++i) {
        md_json_addj(md_pkey_spec_to_json(APR_ARRAY_IDX(md->pks, i, const md_pkey_spec_t *), p), arr, NULL);
    }
    md_json_setj(arr, json, "privkey", NULL);
}

static void put_state(md_json_t *json, const md_t *md, apr_pool_t *p)
{
    md_json_setl(md->state, json, "state", NULL);
    if (md->state_descr) md_json_sets(md->state_descr, json, "state-descr", NULL);
    md_json_setl(md->renew_mode, json, "renew-mode", NULL);
    if (md->renew_window) md_json_sets(window_print(md->renew_window, p), json, "renew-window", NULL);
    if (md->warn_window) md_json_sets(window_print(md->warn_window, p), json, "warn-window", NULL);
}

/* From "require-https" to "stapling": mod_md's httpd settings, carried over or at mod_md's defaults. */
static void put_httpd(md_json_t *json, const md_t *md, apr_pool_t *p)
{
    md_json_t *proto;

    put_extra(json, md, "require-https");
    md_json_setb(md->must_staple > 0, json, "must-staple", NULL);
    proto = extra_get(md, NULL, "proto");
    proto = (proto && md_json_is(MD_JSON_TYPE_OBJECT, proto, NULL)) ? md_json_clone(proto, p) : md_json_create(p);
    md_json_setsa(md->acme_tls_1, proto, "acme-tls/1", NULL);
    md_json_setj(proto, json, "proto", NULL);
    put_extra(json, md, "cert-files");
    put_extra(json, md, "pkey-files");
    if (extra_get(md, NULL, "stapling")) put_extra(json, md, "stapling");
    else md_json_setb(0, json, "stapling", NULL);
}

static void put_tail(md_json_t *json, const md_t *md)
{
    if (md->dns01_cmd) md_json_sets(md->dns01_cmd, json, "cmd-dns-01", NULL);
    if (md->ca_eab_kid && strcmp(md->ca_eab_kid, "none")) {
        md_json_sets(md->ca_eab_kid, json, "eab", "kid", NULL);
        if (md->ca_eab_hmac) md_json_sets(md->ca_eab_hmac, json, "eab", "hmac", NULL);
    }
    if (md->profile) md_json_sets(md->profile, json, "profile", NULL);
    md_json_setb(md->profile_mandatory > 0, json, "profile-mandatory", NULL);
    md_json_setb(md->ari_renewals > 0, json, "ari-renewals", NULL);
}

static void put_install(md_json_t *own, const md_t *md, apr_pool_t *p)
{
    if (md->install_chain) md_json_sets(md->install_chain, own, "install", "chain", NULL);
    if (md->install_key) md_json_sets(md->install_key, own, "install", "key", NULL);
    if (md->install_mode != MD_MD_INSTALL_MODE_DEF) {
        md_json_sets(apr_psprintf(p, "%04o", (unsigned)md->install_mode), own, "install", "mode", NULL);
    }
    if (md->install_cmd && md->install_cmd->nelts) put_strs(own, md->install_cmd, "install", "cmd");
    if (md->install_owner) md_json_sets(md->install_owner, own, "install", "owner", NULL);
    if (md->install_reload && md->install_reload->nelts) put_strs(own, md->install_reload, "install", "reload");
}

/* "challenge-delay": {"dns-01": "2mi", ...} for the types that have one. */
static void put_delays(md_json_t *own, const md_challenge_delays_t *d, apr_pool_t *p)
{
    if (d->http01) md_json_sets(md_duration_print(d->http01, p), own, "challenge-delay", "http-01", NULL);
    if (d->tlsalpn01) md_json_sets(md_duration_print(d->tlsalpn01, p), own, "challenge-delay", "tls-alpn-01", NULL);
    if (d->dns01) md_json_sets(md_duration_print(d->dns01, p), own, "challenge-delay", "dns-01", NULL);
}

/* Our own settings, only those that differ from the defaults; no "mdomain" key when all do not. */
static void put_own(md_json_t *json, const md_t *md, apr_pool_t *p)
{
    md_json_t *own = md_json_create(p);

    if (md->ca_file) md_json_sets(md->ca_file, own, "ca-file", NULL);
    if (md->proxy_url) md_json_sets(md->proxy_url, own, "proxy", NULL);
    if (md->dns01_version != MD_MD_DNS01_VERSION_DEF) md_json_setl(md->dns01_version, own, "dns01-version", NULL);
    if (md->preferred_chain) md_json_sets(md->preferred_chain, own, "preferred-chain", NULL);
    if (md->retry_failover != MD_MD_RETRY_FAILOVER_DEF) {
        md_json_setl(md->retry_failover, own, "retry-failover", NULL);
    }
    if (md->account_key) md_json_sets(md->account_key, own, "account-key", NULL);
    put_install(own, md, p);
    if (md->event_handler && md->event_handler->nelts) put_strs(own, md->event_handler, "event-handler", NULL);
    put_delays(own, &md->challenge_delays, p);
    if (md->extra) copy_keys(own, md_json_getj(md->extra, MD_MD_KEY_OWN, NULL), md_md__own_keys, NULL);
    if (obj_size(own) > 0) md_json_setj(own, json, MD_MD_KEY_OWN, NULL);
}

md_json_t *md_to_json(const md_t *md, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    if (md->name) md_json_sets(md->name, json, "name", NULL);
    put_strs(json, md->domains, "domains", NULL);
    put_strs(json, md->contacts, "contacts", NULL);
    md_json_setl(md->transitive, json, "transitive", NULL);
    put_ca(json, md, p);
    put_pkeys(json, md, p);
    put_state(json, md, p);
    put_httpd(json, md, p);
    put_tail(json, md);
    copy_keys(json, md->extra, md_md__top_keys, passthrough_keys);
    put_own(json, md, p);
    return json;
}
