/* Directives about keys and certificate lifetimes: MDPrivateKeys, MDMustStaple, renew/warn windows, ARI. */
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "md_pkey.h"
#include "config_int.h"

const char *md_config__pkeys(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    return md_conf_pkeys(md_config__ctx(cmd), argc, (const char *const *)argv, &md_config__settings(cmd)->pks);
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
