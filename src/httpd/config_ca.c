/* Directives about the CA, the ACME account and challenges: authority, agreement, contact, EAB, profiles, dns-01. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_result.h"
#include "md_uri.h"
#include "config_int.h"

const char *md_config__ca(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    return md_conf_ca(md_config__ctx(cmd), argc, (const char *const *)argv, &md_config__settings(cmd)->ca_urls);
}

const char *md_config__ca_proto(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_conf_ca_proto(md_config__ctx(cmd), arg, &md_config__settings(cmd)->ca_proto);
}

const char *md_config__agreement(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_conf_agreement(md_config__ctx(cmd), arg, &md_config__settings(cmd)->ca_agreement);
}

const char *md_config__contact(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_conf_contact(md_config__ctx(cmd), arg, &md_config__settings(cmd)->contact);
}

const char *md_config__eab(cmd_parms *cmd, void *dc, const char *arg1, const char *arg2)
{
    md_settings_t *st = md_config__settings(cmd);
    const char *kid = NULL, *hmac = NULL, *err;

    st->eab_set = 1;
    st->eab_kid = st->eab_hmac = NULL;
    err = md_conf_eab(md_config__ctx(cmd), arg1, arg2, &kid, &hmac);
    if (err) return err;
    st->eab_kid = kid;
    st->eab_hmac = hmac;
    return NULL;
}

const char *md_config__ca_file(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_conf_ca_file(md_config__ctx(cmd), arg, &md_config__settings(cmd)->ca_file);
}

const char *md_config__challenges(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    return md_conf_challenges(md_config__ctx(cmd), argc, (const char *const *)argv,
                              &md_config__settings(cmd)->ca_challenges);
}

/* Any word of printable ASCII (md_conf_profile): the CA says whether it offers it. */
const char *md_config__profile(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_conf_profile(md_config__ctx(cmd), arg, &md_config__settings(cmd)->profile);
}

const char *md_config__profile_mandatory(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config__settings(cmd)->profile_mandatory);
}

/* An empty line (as mod_md takes it) is no program. */
const char *md_config__dns01(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__cmdline(cmd, arg, 1, &md_config__settings(cmd)->dns01_cmd, NULL);
}

const char *md_config__event_handler(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *line = NULL;

    return md_config__cmdline(cmd, arg, 0, &line, &md_config__settings(cmd)->event_handler);
}

const char *md_config__response_delay(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    return md_conf_response_delay(md_config__ctx(cmd), argc, (const char *const *)argv,
                                  &md_config__settings(cmd)->challenge_delays);
}

const char *md_config__dns01_version(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = md_config__not_in_section(cmd);

    return err ? err : md_conf_dns01_version(md_config__ctx(cmd), arg, &md_config_mod_get(cmd->pool)->dns01_version);
}

const char *md_config__retry_failover(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = md_config__not_in_section(cmd);

    return err ? err : md_conf_retry_failover(md_config__ctx(cmd), arg,
                                              &md_config_mod_get(cmd->pool)->retry_failover);
}
