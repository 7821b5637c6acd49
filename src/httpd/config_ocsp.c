/* OCSP stapling directives: MDStapling (per MD), MDStapleOthers, MDStaplingKeepResponse, MDStaplingRenewWindow. */
#include <httpd.h>
#include <http_config.h>

#include "config_int.h"

const char *md_config__stapling(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config__settings(cmd)->stapling);
}

const char *md_config__staple_others(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config_mod_get(cmd->pool)->staple_others);
}

const char *md_config__stapling_keep(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__duration(cmd, arg, "d", &md_config_mod_get(cmd->pool)->stapling_keep);
}

const char *md_config__stapling_window(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__window(cmd, arg, &md_config_mod_get(cmd->pool)->stapling_renew_window);
}
