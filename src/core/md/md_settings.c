/* MD settings from directives: made unset, merged level over level, resolved into an md_t with mod_md's defaults. */
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_settings.h"

md_settings_t *md_settings_make(apr_pool_t *p)
{
    md_settings_t *st = apr_pcalloc(p, sizeof(*st));

    st->renew_mode = MD_CONF_UNSET;
    st->transitive = MD_CONF_UNSET;
    st->must_staple = MD_CONF_UNSET;
    st->require_https = MD_CONF_UNSET;
    st->stapling = MD_CONF_UNSET;
    st->profile_mandatory = MD_CONF_UNSET;
    st->ari_renewals = MD_CONF_UNSET;
    return st;
}

#define PICK_PTR(f) (add->f ? add->f : base->f)
#define PICK_INT(f) (add->f != MD_CONF_UNSET ? add->f : base->f)

md_settings_t *md_settings_merge(const md_settings_t *base, const md_settings_t *add, apr_pool_t *p)
{
    md_settings_t *st = apr_pcalloc(p, sizeof(*st));

    st->ca_urls = PICK_PTR(ca_urls);
    st->ca_proto = PICK_PTR(ca_proto);
    st->ca_agreement = PICK_PTR(ca_agreement);
    st->ca_challenges = PICK_PTR(ca_challenges);
    st->ca_file = PICK_PTR(ca_file);
    st->contact = PICK_PTR(contact);
    st->eab_set = add->eab_set ? 1 : base->eab_set;
    st->eab_kid = add->eab_set ? add->eab_kid : base->eab_kid;
    st->eab_hmac = add->eab_set ? add->eab_hmac : base->eab_hmac;
    st->pks = PICK_PTR(pks);
    st->renew_window = PICK_PTR(renew_window);
    st->warn_window = PICK_PTR(warn_window);
    st->renew_mode = PICK_INT(renew_mode);
    st->transitive = PICK_INT(transitive);
    st->must_staple = PICK_INT(must_staple);
    st->require_https = PICK_INT(require_https);
    st->stapling = PICK_INT(stapling);
    st->profile = PICK_PTR(profile);
    st->profile_mandatory = PICK_INT(profile_mandatory);
    st->ari_renewals = PICK_INT(ari_renewals);
    st->dns01_cmd = PICK_PTR(dns01_cmd);
    st->event_handler = PICK_PTR(event_handler);
    st->challenge_delays = PICK_PTR(challenge_delays);
    return st;
}

/* CA, account and challenge settings. */
static void apply_ca(md_t *md, const md_settings_t *st, apr_pool_t *p)
{
    if (st->ca_urls) md->ca_urls = apr_array_copy(p, st->ca_urls);
    else APR_ARRAY_PUSH(md->ca_urls, const char *) = md_acme_ca_url_for("LetsEncrypt");
    md->ca_agreement = st->ca_agreement;
    if (st->ca_challenges) md->ca_challenges = apr_array_copy(p, st->ca_challenges);
    md->ca_file = (st->ca_file && strcmp(st->ca_file, MD_CONF_NONE)) ? st->ca_file : NULL;
    if (st->contact) APR_ARRAY_PUSH(md->contacts, const char *) = st->contact;
    if (st->eab_set && st->eab_kid) {
        md->ca_eab_kid = st->eab_kid;
        md->ca_eab_hmac = st->eab_hmac;
    }
    md->profile = st->profile;
    md->profile_mandatory = st->profile_mandatory == MD_CONF_UNSET ? 0 : st->profile_mandatory;
    md->dns01_cmd = (st->dns01_cmd && *st->dns01_cmd) ? st->dns01_cmd : NULL;     /* "": none */
    if (st->event_handler) md->event_handler = apr_array_copy(p, st->event_handler);
    if (st->challenge_delays) md->challenge_delays = *st->challenge_delays;
}

void md_settings_apply(md_t *md, const md_settings_t *st, apr_pool_t *p)
{
    apply_ca(md, st, p);
    if (st->pks) {
        md->pks = apr_array_copy(p, st->pks);
        md->pks_default = 0;         /* configured: md.json records it, "RSA" too */
    }
    if (st->renew_window) md->renew_window = st->renew_window;
    if (st->warn_window) md->warn_window = st->warn_window;
    if (st->renew_mode != MD_CONF_UNSET) md->renew_mode = (md_renew_mode_t)st->renew_mode;
    md->transitive = st->transitive == MD_CONF_UNSET ? 1 : st->transitive;
    md->must_staple = st->must_staple == MD_CONF_UNSET ? 0 : st->must_staple;
    md->ari_renewals = st->ari_renewals == MD_CONF_UNSET ? 1 : st->ari_renewals;
}
