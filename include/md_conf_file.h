/* The domains file of `mdomain apply`: managed domains in mod_md's directive syntax (MDomain, <MDomain> sections and
 * the MD directives, with the module's value checks), plus MDInstall* for servers other than Apache. */
#ifndef MD_CONF_FILE_H
#define MD_CONF_FILE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md.h"

typedef struct md_conf_file_md_t {
    md_t *md;               /* its names and every setting resolved (section over global over mod_md's defaults) */
    const char *file;       /* where it is defined */
    unsigned line;
} md_conf_file_md_t;

typedef struct md_conf_file_t {
    const char *path;               /* as given */
    apr_array_header_t *mds;        /* md_conf_file_md_t*: in the order of the file */
    apr_array_header_t *errors;     /* const char*: "FILE:LINE: MESSAGE" (the directive and its value named) */
    apr_array_header_t *warnings;   /* const char*: "FILE:LINE: 'DIRECTIVE ARGS': what will fail later" */
} md_conf_file_t;

/* Parse text (len bytes) as the file named path; relative paths in it are taken relative to base_dir (NULL: as
 * written). Lines as httpd reads them: leading blanks skipped, '#' starts a comment line, a '\' at the end continues
 * the line, words split as httpd splits them ("..." and '...' quote). Every error is collected (the parse goes on
 * after one); no name may belong to two MDs. Never fails otherwise: the result's errors say what is wrong. */
md_conf_file_t *md_conf_file_parse(const char *path, const char *text, apr_size_t len, const char *base_dir,
                                   apr_pool_t *p);
/* Read and parse the file at path (relative paths in it against its directory). APR_ENOENT and other read errors
 * are returned with *perr saying why. */
apr_status_t md_conf_file_read(md_conf_file_t **pcf, const char *path, const char **perr, apr_pool_t *p);

#endif
