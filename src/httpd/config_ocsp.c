/* OCSP stapling directives: MDStapling (per MD), MDStapleOthers, MDStaplingKeepResponse, MDStaplingRenewWindow;
 * MDRevocationCheck. */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include "md_time.h"
#include "config_int.h"

const char *md_config__stapling(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config__settings(cmd)->stapling);
}

const char *md_config__staple_others(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config_mod_get(cmd->pool)->staple_others);
}

/* A duration; as in mod_md also a percentage (there is no lifetime it could be a share of: the default stays) or a
 * negative duration (0: not kept). */
const char *md_config__stapling_keep(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    apr_size_t len = strlen(arg);
    apr_interval_time_t keep;

    if (md_duration_parse_signed(&keep, arg, "d") == APR_SUCCESS) {
        mc->stapling_keep = keep > 0 ? keep : 0;
        return NULL;
    }
    if (len > 1 && arg[len - 1] == '%' && *arg == '-') {
        return md_config__err(cmd, arg, "percent must be less than 100 and not negative: a duration is expected, "
                              "e.g. 7d");
    }
    if (len > 1 && arg[len - 1] == '%' && strspn(arg, "0123456789") == len - 1) {
        md_config__warn(cmd, "a percentage has no meaning here: responses are kept for the default 7 days");
        return NULL;
    }
    return md_config__err(cmd, arg, "has unrecognized format: a duration is expected, a whole number with a unit d, "
                          "h, mi, s or ms (e.g. 7d, 12h), without a unit in days");
}

const char *md_config__stapling_window(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__window(cmd, arg, &md_config_mod_get(cmd->pool)->stapling_renew_window);
}

const char *md_config__revocation_check(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config_mod_get(cmd->pool)->revocation_check);
}
