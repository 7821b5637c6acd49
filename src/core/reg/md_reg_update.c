/* Changing a stored MD in place: a set of changes applied and checked, the aspects that differ, md.json saved
 * atomically with the state of the certificates it keeps (due at once when they no longer cover it). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "md.h"
#include "md_reg.h"
#include "md_reg_update.h"
#include "md_result.h"

void md_reg_change_init(md_reg_change_t *ch)
{
    memset(ch, 0, sizeof(*ch));
    ch->profile_mandatory = MD_REG_KEEP;
    ch->dns01_version = MD_REG_KEEP;
    ch->renew_mode = MD_REG_KEEP;
    ch->must_staple = MD_REG_KEEP;
    ch->ari_renewals = MD_REG_KEEP;
    ch->retry_failover = MD_REG_KEEP;
    ch->install_mode = MD_REG_KEEP;
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

md_reg_change_t *md_reg_change_from_md(const md_t *md, apr_pool_t *p)
{
    md_reg_change_t *ch = apr_pcalloc(p, sizeof(*ch));

    md_reg_change_init(ch);
    ch->domains = md->domains;
    ch->ca_urls = md->ca_urls;
    ch->ca_file = str_or_empty(md->ca_file);
    ch->proxy_url = str_or_empty(md->proxy_url);
    ch->contacts = md->contacts;
    ch->ca_agreement = str_or_empty(md->ca_agreement);
    ch->eab_set = 1;
    ch->eab_kid = md->ca_eab_kid;
    ch->eab_hmac = md->ca_eab_hmac;
    ch->pks = md->pks;
    ch->ca_challenges = md->ca_challenges;
    ch->profile = str_or_empty(md->profile);
    ch->profile_mandatory = md->profile_mandatory;
    ch->preferred_chain = str_or_empty(md->preferred_chain);
    ch->account_key = str_or_empty(md->account_key);
    ch->dns01_cmd = str_or_empty(md->dns01_cmd);
    ch->dns01_version = md->dns01_version;
    ch->event_handler = md->event_handler;
    ch->challenge_delays = &md->challenge_delays;
    ch->renew_window = md->renew_window;
    ch->warn_window = md->warn_window;
    ch->renew_mode = (int)md->renew_mode;
    ch->must_staple = md->must_staple;
    ch->ari_renewals = md->ari_renewals;
    ch->retry_failover = md->retry_failover;
    ch->install_chain = str_or_empty(md->install_chain);
    ch->install_key = str_or_empty(md->install_key);
    ch->install_mode = md->install_mode;
    ch->install_cmd = md->install_cmd;
    ch->install_owner = str_or_empty(md->install_owner);
    ch->install_reload = md->install_reload;
    return ch;
}

/* A string setting: NULL keeps it, "" clears it. */
static void set_str(const char **field, const char *value, apr_pool_t *p)
{
    if (value) *field = *value ? apr_pstrdup(p, value) : NULL;
}

static apr_array_header_t *strs(const apr_array_header_t *src, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, src->nelts ? src->nelts : 1, sizeof(const char *));
    int i;

    for (i = 0; i < src->nelts; ++i) APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(p, APR_ARRAY_IDX(src, i, const char *));
    return a;
}

static int strs_index(const apr_array_header_t *a, const char *s)
{
    int i;

    for (i = 0; i < a->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(a, i, const char *), s)) return i;
    }
    return -1;
}

static char *lower(const char *s, apr_pool_t *p)
{
    char *l = apr_pstrdup(p, s);

    for (char *c = l; *c; ++c) *c = (char)tolower((unsigned char)*c);
    return l;
}

/* A name to add: checked, lowercased, appended unless there. */
static apr_status_t name_add(apr_array_header_t *names, const char *name, const char **perr, apr_pool_t *p)
{
    const char *why = md_domain_problem(name);

    if (why) {
        *perr = apr_psprintf(p, "domains: '%s': %s", name, why);
        return APR_EINVAL;
    }
    if (strs_index(names, name) < 0) APR_ARRAY_PUSH(names, const char *) = lower(name, p);
    return APR_SUCCESS;
}

static apr_status_t change_domains(md_t *md, const md_reg_change_t *ch, const char **perr, apr_pool_t *p)
{
    apr_array_header_t *names = ch->domains ? apr_array_make(p, ch->domains->nelts + 1, sizeof(const char *))
                                            : strs(md->domains, p);
    const char *name;
    int i, k;

    for (i = 0; ch->domains && i < ch->domains->nelts; ++i) {
        if (name_add(names, APR_ARRAY_IDX(ch->domains, i, const char *), perr, p) != APR_SUCCESS) return APR_EINVAL;
    }
    for (i = 0; ch->add_domains && i < ch->add_domains->nelts; ++i) {
        if (name_add(names, APR_ARRAY_IDX(ch->add_domains, i, const char *), perr, p) != APR_SUCCESS) return APR_EINVAL;
    }
    for (i = 0; ch->remove_domains && i < ch->remove_domains->nelts; ++i) {
        name = APR_ARRAY_IDX(ch->remove_domains, i, const char *);
        if ((k = strs_index(names, name)) < 0) {
            *perr = apr_psprintf(p, "domains: '%s' is not a name of the MD %s", name, md->name);
            return APR_EINVAL;
        }
        memmove(names->elts + (apr_size_t)k * sizeof(const char *), names->elts + (apr_size_t)(k + 1) * sizeof(const char *),
                (apr_size_t)(names->nelts - k - 1) * sizeof(const char *));
        --names->nelts;
    }
    if (names->nelts == 0) {
        *perr = apr_psprintf(p, "domains: the MD %s would have no name left", md->name);
        return APR_EINVAL;
    }
    md->domains = names;
    return APR_SUCCESS;
}

static apr_status_t change_keys(md_t *md, const md_reg_change_t *ch, const char **perr, apr_pool_t *p)
{
    int i, k;

    if (!ch->pks) return APR_SUCCESS;
    if (ch->pks->nelts == 0) {
        *perr = "keys: an MD needs at least one key type";
        return APR_EINVAL;
    }
    md->pks = apr_array_make(p, ch->pks->nelts, sizeof(md_pkey_spec_t *));
    for (i = 0; i < ch->pks->nelts; ++i) {
        md_pkey_spec_t *spec = apr_pmemdup(p, APR_ARRAY_IDX(ch->pks, i, const md_pkey_spec_t *), sizeof(*spec));
        if (spec->curve) spec->curve = apr_pstrdup(p, spec->curve);
        APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = spec;
    }
    md->pks_default = 0;
    for (i = 1; i < md->pks->nelts; ++i) {
        for (k = 0; k < i; ++k) {
            if (!strcmp(md_pkey_aspect(md, i, p), md_pkey_aspect(md, k, p))) {
                *perr = apr_psprintf(p, "keys: two keys would share the file %s: give one key per type (one RSA, one "
                                     "of each curve)", md_pkey_aspect(md, i, p));
                return APR_EINVAL;
            }
        }
    }
    return APR_SUCCESS;
}

static apr_array_header_t *contacts(const apr_array_header_t *src, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, src->nelts ? src->nelts : 1, sizeof(const char *));
    const char *c;
    int i;

    for (i = 0; i < src->nelts; ++i) {
        c = APR_ARRAY_IDX(src, i, const char *);
        APR_ARRAY_PUSH(a, const char *) = strncasecmp(c, "mailto:", 7) ? apr_pstrcat(p, "mailto:", c, NULL)
                                                                         : apr_pstrdup(p, c);
    }
    return a;
}

static void change_settings(md_t *md, const md_reg_change_t *ch, apr_pool_t *p)
{
    if (ch->ca_urls) md->ca_urls = strs(ch->ca_urls, p);
    set_str(&md->ca_file, ch->ca_file, p);
    set_str(&md->proxy_url, ch->proxy_url, p);
    set_str(&md->ca_account, ch->ca_account, p);
    if (ch->contacts) md->contacts = contacts(ch->contacts, p);
    set_str(&md->ca_agreement, ch->ca_agreement, p);
    if (ch->eab_set) {
        md->ca_eab_kid = ch->eab_kid ? apr_pstrdup(p, ch->eab_kid) : NULL;
        md->ca_eab_hmac = ch->eab_hmac ? apr_pstrdup(p, ch->eab_hmac) : NULL;
    }
    if (ch->ca_challenges) md->ca_challenges = strs(ch->ca_challenges, p);
    set_str(&md->profile, ch->profile, p);
    if (ch->profile_mandatory != MD_REG_KEEP) md->profile_mandatory = ch->profile_mandatory;
    set_str(&md->preferred_chain, ch->preferred_chain, p);
    set_str(&md->account_key, ch->account_key, p);
    set_str(&md->dns01_cmd, ch->dns01_cmd, p);
    if (ch->dns01_version != MD_REG_KEEP) md->dns01_version = ch->dns01_version;
    if (ch->event_handler) md->event_handler = strs(ch->event_handler, p);
    if (ch->challenge_delays) md->challenge_delays = *ch->challenge_delays;
    if (ch->renew_window) md->renew_window = apr_pmemdup(p, ch->renew_window, sizeof(*ch->renew_window));
    if (ch->warn_window) md->warn_window = apr_pmemdup(p, ch->warn_window, sizeof(*ch->warn_window));
    if (ch->renew_mode != MD_REG_KEEP) md->renew_mode = (md_renew_mode_t)ch->renew_mode;
    if (ch->must_staple != MD_REG_KEEP) md->must_staple = ch->must_staple;
    if (ch->ari_renewals != MD_REG_KEEP) md->ari_renewals = ch->ari_renewals;
    if (ch->retry_failover != MD_REG_KEEP) md->retry_failover = ch->retry_failover;
    set_str(&md->install_chain, ch->install_chain, p);
    set_str(&md->install_key, ch->install_key, p);
    if (ch->install_mode != MD_REG_KEEP) md->install_mode = ch->install_mode;
    if (ch->install_cmd) md->install_cmd = strs(ch->install_cmd, p);
    set_str(&md->install_owner, ch->install_owner, p);
    if (ch->install_reload) md->install_reload = strs(ch->install_reload, p);
}

/* The checks every MD passes, whatever changed. */
static apr_status_t check(const md_t *md, const char **perr, apr_pool_t *p)
{
    int i, wildcard = 0;

    for (i = 0; i < md->domains->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(md->domains, i, const char *), *why = md_domain_problem(name);
        if (why) {
            *perr = apr_psprintf(p, "domains: '%s': %s", name, why);
            return APR_EINVAL;
        }
        if (!strncmp(name, "*.", 2)) wildcard = 1;
    }
    if (md->ca_urls->nelts == 0) *perr = "ca: an MD needs a CA";
    else if (md->renew_mode < MD_RENEW_MANUAL || md->renew_mode > MD_RENEW_ALWAYS) *perr = "renew-mode: 0, 1 or 2";
    else if (md->dns01_version != 1 && md->dns01_version != 2) *perr = "dns: the version is 1 or 2";
    else if (md->retry_failover < 1) *perr = "retry-failover: the number of failed attempts is 1 or more";
    else if (md->install_mode < 0 || md->install_mode > 0777) *perr = "install: the mode is 0000..0777";
    else if (!!md->install_chain != !!md->install_key) *perr = "install: the chain and the key paths go together";
    else if (md->profile_mandatory && !md->profile) *perr = "profile: a mandatory profile needs a profile name";
    else if (wildcard && !md->dns01_cmd && !md->event_handler->nelts) {
        *perr = "domains: wildcard names are validated with dns-01 only: the MD needs a dns-01 program or an event "
                "handler";
    }
    else return APR_SUCCESS;
    return APR_EINVAL;
}

apr_status_t md_reg_change_md(md_t *md, const md_reg_change_t *ch, const char **perr, apr_pool_t *p)
{
    apr_status_t rv;
    int i;

    if ((rv = change_domains(md, ch, perr, p)) != APR_SUCCESS) return rv;
    if ((rv = change_keys(md, ch, perr, p)) != APR_SUCCESS) return rv;
    change_settings(md, ch, p);
    if (md->ca_effective) {         /* the CA in use stays while it is still one of the MD's CAs */
        for (i = 0; i < md->ca_urls->nelts; ++i) {
            if (!strcmp(APR_ARRAY_IDX(md->ca_urls, i, const char *), md->ca_effective)) break;
        }
        if (i == md->ca_urls->nelts) md->ca_effective = NULL;
    }
    return check(md, perr, p);
}

static const char *joined(const apr_array_header_t *a, apr_pool_t *p)
{
    return a ? apr_array_pstrcat(p, a, '\n') : "";
}

static const char *keys_text(const md_t *md, apr_pool_t *p)
{
    const char *s = "";
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        const md_pkey_spec_t *spec = APR_ARRAY_IDX(md->pks, i, const md_pkey_spec_t *);
        /* the store's spelling: "P-256" and "secp256r1" name different key files */
        s = apr_psprintf(p, "%s %s/%u", s, md_pkey_spec_name(spec, p), spec->type == MD_PKEY_RSA ? spec->bits : 0);
    }
    return s;
}

static int differ(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") != 0;
}

static const char *ts_text(const md_timeslice_t *ts, apr_pool_t *p)
{
    return ts ? md_timeslice_print(ts, p) : "";
}

apr_array_header_t *md_reg_md_diff(const md_t *a, const md_t *b, apr_pool_t *p)
{
    apr_array_header_t *d = apr_array_make(p, 4, sizeof(const char *));

#define ASPECT(word, cond) do { if (cond) APR_ARRAY_PUSH(d, const char *) = (word); } while (0)
    ASPECT("domains", differ(joined(a->domains, p), joined(b->domains, p)));
    ASPECT("ca", differ(joined(a->ca_urls, p), joined(b->ca_urls, p)));
    ASPECT("ca-file", differ(a->ca_file, b->ca_file));
    ASPECT("proxy", differ(a->proxy_url, b->proxy_url));
    ASPECT("contacts", differ(joined(a->contacts, p), joined(b->contacts, p)));
    ASPECT("agreement", differ(a->ca_agreement, b->ca_agreement));
    ASPECT("eab", differ(a->ca_eab_kid, b->ca_eab_kid) || differ(a->ca_eab_hmac, b->ca_eab_hmac));
    ASPECT("keys", differ(keys_text(a, p), keys_text(b, p)));
    ASPECT("challenges", differ(joined(a->ca_challenges, p), joined(b->ca_challenges, p)));
    ASPECT("profile", differ(a->profile, b->profile) || a->profile_mandatory != b->profile_mandatory);
    ASPECT("preferred-chain", differ(a->preferred_chain, b->preferred_chain));
    ASPECT("account-key", differ(a->account_key, b->account_key));
    ASPECT("dns", differ(a->dns01_cmd, b->dns01_cmd) || a->dns01_version != b->dns01_version);
    ASPECT("event-handler", differ(joined(a->event_handler, p), joined(b->event_handler, p)));
    ASPECT("challenge-delays", memcmp(&a->challenge_delays, &b->challenge_delays, sizeof(a->challenge_delays)) != 0);
    ASPECT("renew-window", differ(ts_text(a->renew_window, p), ts_text(b->renew_window, p)));
    ASPECT("warn-window", differ(ts_text(a->warn_window, p), ts_text(b->warn_window, p)));
    ASPECT("renew-mode", a->renew_mode != b->renew_mode);
    ASPECT("must-staple", a->must_staple != b->must_staple);
    ASPECT("ari", a->ari_renewals != b->ari_renewals);
    ASPECT("retry-failover", a->retry_failover != b->retry_failover);
    ASPECT("install", differ(a->install_chain, b->install_chain) || differ(a->install_key, b->install_key)
                      || a->install_mode != b->install_mode || differ(joined(a->install_cmd, p), joined(b->install_cmd, p))
                      || differ(a->install_owner, b->install_owner)
                      || differ(joined(a->install_reload, p), joined(b->install_reload, p)));
#undef ASPECT
    return d;
}

int md_reg_md_widens(const md_t *a, const md_t *b, apr_pool_t *p)
{
    int i, k;

    for (i = 0; i < b->domains->nelts; ++i) {
        if (!md_contains(a, APR_ARRAY_IDX(b->domains, i, const char *))) return 1;
    }
    for (i = 0; i < b->pks->nelts; ++i) {
        for (k = 0; k < a->pks->nelts; ++k) {      /* the same key file (md_pkey_aspect), the same size */
            const md_pkey_spec_t *x = APR_ARRAY_IDX(a->pks, k, const md_pkey_spec_t *);
            const md_pkey_spec_t *y = APR_ARRAY_IDX(b->pks, i, const md_pkey_spec_t *);
            if (!strcmp(md_pkey_aspect(a, k, p), md_pkey_aspect(b, i, p)) && x->bits == y->bits) break;
        }
        if (k == a->pks->nelts) return 1;
    }
    return 0;
}

/* A name of md that another MD has: "'NAME' belongs to the MD 'OTHER' already". */
static const char *name_clash(md_reg_t *reg, const md_t *md, const apr_array_header_t *others, apr_pool_t *p)
{
    apr_array_header_t *names = NULL;
    const md_t *other;
    md_t *loaded;
    const char *common;
    int i, n;

    if (!others) {
        if (md_store_list(&names, reg->store, MD_SG_DOMAINS, "*", p) != APR_SUCCESS) return NULL;
    }
    n = others ? others->nelts : names->nelts;
    for (i = 0; i < n; ++i) {
        if (others) other = APR_ARRAY_IDX(others, i, const md_t *);
        else if (md_load(&loaded, reg->store, MD_SG_DOMAINS, APR_ARRAY_IDX(names, i, const char *), NULL, p)
                 == APR_SUCCESS) other = loaded;
        else continue;
        if (!strcmp(other->name, md->name)) continue;
        if ((common = md_common_name(md, other)) != NULL) {
            return apr_psprintf(p, "domains: '%s' belongs to the MD '%s' already", common, other->name);
        }
    }
    return NULL;
}

apr_status_t md_reg_update(md_reg_update_t **pupd, md_reg_t *reg, const char *name, const md_reg_change_t *ch,
                           const apr_array_header_t *others, int dry_run, md_result_t *result, apr_pool_t *p)
{
    md_reg_update_t *upd = apr_pcalloc(p, sizeof(*upd));
    const char *err = NULL;
    apr_status_t rv;

    *pupd = upd;
    if ((rv = md_load(&upd->old_md, reg->store, MD_SG_DOMAINS, name, result, p)) != APR_SUCCESS) return rv;
    upd->md = md_clone(upd->old_md, p);
    upd->md->name = apr_pstrdup(p, name);       /* the directory decides: an MD taken over under a new name */
    if (md_reg_change_md(upd->md, ch, &err, p) != APR_SUCCESS
        || (err = name_clash(reg, upd->md, others, p)) != NULL) {
        md_result_printf(result, APR_EINVAL, "%s: %s", name, err);
        return APR_EINVAL;
    }
    upd->changed = md_reg_md_diff(upd->old_md, upd->md, p);
    md_reg_state_record(reg, upd->md, NULL, p);
    upd->renew = md_reg_state(reg, upd->md, NULL, p)->due;
    if (dry_run || (upd->changed->nelts == 0 && upd->md->state == upd->old_md->state
                    && !differ(upd->md->state_descr, upd->old_md->state_descr)
                    && !differ(upd->md->name, upd->old_md->name)
                    && !differ(upd->md->ca_account, upd->old_md->ca_account)
                    && !differ(upd->md->ca_effective, upd->old_md->ca_effective))) {
        return APR_SUCCESS;
    }
    rv = md_save(upd->md, reg->store, MD_SG_DOMAINS, 0, result, p);
    if (rv != APR_SUCCESS) md_result_printf(result, rv, "%s: cannot save its md.json: %s", name, md_result_text(result, p));
    return rv;
}
