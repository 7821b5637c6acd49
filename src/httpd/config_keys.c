/* Directives about keys and certificate lifetimes: MDPrivateKeys, MDMustStaple, renew/warn windows, ARI. */
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "md_pkey.h"
#include "config_int.h"

/* True when a key of spec's type (RSA of any size, or the same curve) is already in pks. */
static int same_type_in(const apr_array_header_t *pks, const md_pkey_spec_t *spec)
{
    const md_pkey_spec_t *other;
    int i;

    for (i = 0; i < pks->nelts; ++i) {
        other = APR_ARRAY_IDX(pks, i, const md_pkey_spec_t *);
        if (other->type != spec->type) continue;
        if (spec->type == MD_PKEY_RSA) return 1;
        if (md_pkey_spec_curve_nid(other) == md_pkey_spec_curve_nid(spec)) return 1;
    }
    return 0;
}

/* One key spec from argv at *pi ("RSA" may take the next word as its size); advances *pi. */
static const char *one_spec(cmd_parms *cmd, md_pkey_spec_t **pspec, int *pi, int argc, char *const argv[])
{
    const char *word = argv[*pi], *bits = NULL, *err = NULL;

    if (!strcasecmp(word, "Default")) word = "RSA";
    else if (!strcasecmp(word, "RSA") && *pi + 1 < argc && apr_isdigit(argv[*pi + 1][0])) bits = argv[++*pi];
    if (md_pkey_spec_parse(pspec, word, bits, &err, cmd->pool) != APR_SUCCESS) {
        return md_config__err(cmd, bits ? apr_pstrcat(cmd->temp_pool, word, " ", bits, NULL) : word, "%s", err);
    }
    return NULL;
}

const char *md_config__pkeys(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *pks = apr_array_make(cmd->pool, 2, sizeof(md_pkey_spec_t *));
    md_pkey_spec_t *spec = NULL;
    const char *err;
    int i;

    if (argc == 0) {
        return "MDPrivateKeys needs at least one key type, e.g. RSA, RSA 4096, P-256 or secp384r1";
    }
    for (i = 0; i < argc; ++i) {
        err = one_spec(cmd, &spec, &i, argc, argv);
        if (err) return err;
        if (same_type_in(pks, spec)) {
            return md_config__err(cmd, md_config__join(cmd, argc, argv), "two keys of type %s: each key type "
                                  "(RSA, or one EC curve) may be given once", md_pkey_spec_label(spec));
        }
        APR_ARRAY_PUSH(pks, md_pkey_spec_t *) = spec;
    }
    md_config__settings(cmd)->pks = pks;
    return NULL;
}

const char *md_config__must_staple(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config__settings(cmd)->must_staple);
}

const char *md_config__renew_window(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__window(cmd, arg, &md_config__settings(cmd)->renew_window);
}

const char *md_config__warn_window(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__window(cmd, arg, &md_config__settings(cmd)->warn_window);
}

const char *md_config__renew_via_ari(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config__settings(cmd)->ari_renewals);
}
