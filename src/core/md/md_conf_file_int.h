/* Internals of the domains file: the parser's state and its directive table. */
#ifndef MD_CONF_FILE_INT_H
#define MD_CONF_FILE_INT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md_conf_file.h"
#include "md_config_values.h"
#include "md_settings.h"

/* The settings of one level (the file outside sections, or one section): the module's MD settings and the
 * installation for servers other than Apache. */
typedef struct md_conf_file_level_t {
    md_settings_t *st;
    const char *install_chain, *install_key;    /* MDInstallChain, MDInstallKey (sections only) */
    int install_mode;                           /* MDInstallMode, MD_CONF_UNSET */
    apr_array_header_t *install_cmd;            /* MDInstallCmd: argv */
    const char *install_owner;                  /* MDInstallOwner USER[:GROUP] */
    apr_array_header_t *install_reload;         /* MDInstallReload: argv of the batch's reload program */
} md_conf_file_level_t;

/* One MDomain line or <MDomain> section. */
typedef struct md_conf_file_def_t {
    apr_array_header_t *domains;
    apr_array_header_t *written;                /* the domains as written (md_conf_names) */
    md_conf_file_level_t *level;                /* its own settings (all unset for an MDomain line) */
    unsigned line;
} md_conf_file_def_t;

typedef struct md_conf_file_parser_t {
    apr_pool_t *p;
    md_conf_file_t *cf;
    const char *base_dir;
    unsigned line;                              /* of the directive being read */
    const char *text;                           /* the directive as written, for messages */
    md_conf_file_level_t *global;
    md_conf_file_def_t *section;                /* the open <MDomain> section, or NULL */
    const char *section_name;                   /* "<MDomain" or "<MDomainSet" as written */
    apr_array_header_t *defs;                   /* md_conf_file_def_t* */
    int dns01_version, retry_failover;          /* MDChallengeDns01Version, MDRetryFailover (global) */
    const char *proxy_url;                      /* MDHttpProxy (global) */
} md_conf_file_parser_t;

md_conf_file_level_t *md_conf_file__level_make(apr_pool_t *p);
/* The level a directive sets: the open section's, else the file's. */
md_conf_file_level_t *md_conf_file__level(md_conf_file_parser_t *ps);
/* Run the directive name with its raw argument text (after the name); NULL or the error. */
const char *md_conf_file__directive(md_conf_file_parser_t *ps, md_conf_ctx_t *c, const char *name,
                                    const char *raw);
/* The next word of *ps as httpd splits it ("..." and '...' quote, a backslash escapes the quote inside), NULL at
 * the end. */
char *md_conf_file__word(const char **ps, apr_pool_t *p);

#endif
