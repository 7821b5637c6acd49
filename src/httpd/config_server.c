/* Server-wide directives: store, timing, port map, event programs, proxy, status pages and certificate monitor. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "md_dns.h"
#include "md_preflight.h"
#include "md_time.h"
#include "md_uri.h"
#include "config_int.h"

const char *md_config__store_dir(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = md_config__not_in_section(cmd), *path;

    if (err) return err;
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path || !*arg) return md_config__err(cmd, arg, "not a valid directory path");
    md_config_mod_get(cmd->pool)->store_dir = path;
    return NULL;
}

/* on, off or how long to wait for the lock; a negative wait (mod_md takes it) is no wait. */
const char *md_config__store_locks(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    const char *err = md_config__not_in_section(cmd);
    apr_interval_time_t wait;

    if (err) return err;
    if (!strcasecmp(arg, "on")) mc->store_locks = 1;
    else if (!strcasecmp(arg, "off")) mc->store_locks = 0;
    else if (md_duration_parse_signed(&wait, arg, "s") == APR_SUCCESS) {
        mc->store_locks = 1;
        mc->store_lock_wait = wait > 0 ? wait : 0;
    }
    else {
        return md_config__err(cmd, arg, "neither 'on', 'off' or a duration specified: allowed are on, off or the "
                              "time to wait for the lock (e.g. 10s)");
    }
    return NULL;
}

/* A server-wide duration (default unit def_unit) of at least min; below it, the message says why (mod_md's words). */
static const char *global_duration(cmd_parms *cmd, const char *arg, const char *def_unit,
                                   apr_interval_time_t min, const char *below_min, apr_interval_time_t *pv)
{
    const char *err = md_config__not_in_section(cmd);
    apr_interval_time_t v;

    if (err) return err;
    err = md_config__duration(cmd, arg, def_unit, &v);
    if (err) return err;
    if (v < min) return md_config__err(cmd, arg, "%s", below_min);
    *pv = v;
    return NULL;
}

const char *md_config__check_interval(cmd_parms *cmd, void *dc, const char *arg)
{
    return global_duration(cmd, arg, "s", apr_time_from_sec(1), "check interval cannot be less than one second",
                           &md_config_mod_get(cmd->pool)->check_interval);
}

const char *md_config__initial_delay(cmd_parms *cmd, void *dc, const char *arg)
{
    return global_duration(cmd, arg, "s", 0, "initial delay must not be negative",
                           &md_config_mod_get(cmd->pool)->initial_delay);
}

const char *md_config__retry_delay(cmd_parms *cmd, void *dc, const char *arg)
{
    return global_duration(cmd, arg, "s", 1, "minimum delay must be greater than 0",
                           &md_config_mod_get(cmd->pool)->retry_delay);
}

const char *md_config__preflight(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = md_config__not_in_section(cmd);

    (void)dc;
    if (err) return err;
    if (md_preflight_parse(&md_config_mod_get(cmd->pool)->preflight, arg) != APR_SUCCESS) {
        return md_config__err(cmd, arg, "is none of on, off, challenge, caa");
    }
    return NULL;
}

const char *md_config__preflight_dns(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = md_config__not_in_section(cmd);

    (void)dc;
    if (err) return err;
    if ((err = md_dns_server_check(arg, cmd->pool)) != NULL) return md_config__err(cmd, arg, "%s", err);
    md_config_mod_get(cmd->pool)->preflight_dns = arg;
    return NULL;
}

/* As in mod_md, a negative delay is accepted: certificates are activated before they become valid. */
const char *md_config__activation_delay(cmd_parms *cmd, void *dc, const char *arg)
{
    return global_duration(cmd, arg, "d", APR_INT64_MIN, "", &md_config_mod_get(cmd->pool)->activation_delay);
}

/* MDStoreLease: how long a lease on an MD holds without being renewed (servers sharing a store). */
const char *md_config__store_lease(cmd_parms *cmd, void *dc, const char *arg)
{
    return global_duration(cmd, arg, "s", apr_time_from_sec(3), "a lease must last at least 3 seconds",
                           &md_config_mod_get(cmd->pool)->store_lease);
}

/* "http"/"80" -> 80, "https"/"443" -> 443, else 0. */
static int public_port(const char *s, apr_size_t len)
{
    if ((len == 4 && !strncasecmp(s, "http", 4)) || (len == 2 && !strncmp(s, "80", 2))) return 80;
    if ((len == 5 && !strncasecmp(s, "https", 5)) || (len == 3 && !strncmp(s, "443", 3))) return 443;
    return 0;
}

static const char *one_port_map(cmd_parms *cmd, md_mod_conf_t *mc, const char *map)
{
    const char *colon = strchr(map, ':'), *local;
    char *end = NULL;
    long port;
    int pub;

    pub = colon ? public_port(map, (apr_size_t)(colon - map)) : 0;
    if (!pub) {
        return md_config__err(cmd, map, "no ':' after first port number: expected http:PORT or https:PORT (also "
                              "80:PORT, 443:PORT), PORT being the local port or '-' when not reachable from outside");
    }
    local = colon + 1;
    if (!strcmp(local, "-")) port = 0;
    else {
        port = strtol(local, &end, 10);
        if (!apr_isdigit(*local) || *end || port < 1 || port > 65535) {
            return md_config__err(cmd, map, "invalid number for port map, must be in ]0,65535]: the local port "
                                  "'%s' must be a number from 1 to 65535, or '-'", local);
        }
    }
    if (pub == 80) mc->port_http = (int)port;
    else mc->port_https = (int)port;
    return NULL;
}

const char *md_config__port_map(cmd_parms *cmd, void *dc, const char *arg1, const char *arg2)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    const char *err = md_config__not_in_section(cmd);

    if (err) return err;
    err = one_port_map(cmd, mc, arg1);
    if (err || !arg2) return err;
    return one_port_map(cmd, mc, arg2);
}

/* An empty line is no program (mod_md takes it). */
static const char *program(cmd_parms *cmd, const char *arg, apr_array_header_t **pargv)
{
    const char *err = md_config__not_in_section(cmd), *line = NULL;

    if (err) return err;
    return md_config__cmdline(cmd, arg, 1, &line, pargv);
}

const char *md_config__message_cmd(cmd_parms *cmd, void *dc, const char *arg)
{
    return program(cmd, arg, &md_config_mod_get(cmd->pool)->message_cmd);
}

const char *md_config__notify_cmd(cmd_parms *cmd, void *dc, const char *arg)
{
    return program(cmd, arg, &md_config_mod_get(cmd->pool)->notify_cmd);
}

/* An http: or https: URL as mod_md takes it, with its words when not ("invalid port", "uri scheme must be http or
 * https", ...). */
const char *md_config__proxy(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_conf_proxy(md_config__ctx(cmd), arg, &md_config_mod_get(cmd->pool)->proxy_url);
}

const char *md_config__proxy_ca_file(cmd_parms *cmd, void *dc, const char *arg)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);
    const char *path = NULL, *err;

    if (!strcasecmp(arg, MD_CONF_NONE)) {
        mc->proxy_ca_file = NULL;
        return NULL;
    }
    err = md_config__path(cmd, arg, &path);
    if (err) return err;
    mc->proxy_ca_file = path;
    return NULL;
}

const char *md_config__server_status(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config_mod_get(cmd->pool)->server_status);
}

const char *md_config__cert_status(cmd_parms *cmd, void *dc, const char *arg)
{
    return md_config__onoff(cmd, arg, &md_config_mod_get(cmd->pool)->certificate_status);
}

/* Any text as the URL, as in mod_md: it is only the start of the links on the status page. */
const char *md_config__cert_check(cmd_parms *cmd, void *dc, const char *name, const char *url)
{
    md_mod_conf_t *mc = md_config_mod_get(cmd->pool);

    mc->cert_check_name = name;
    mc->cert_check_url = url;
    return NULL;
}
