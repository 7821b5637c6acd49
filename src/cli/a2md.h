/* a2md, mod_md's command line, over the mdomain command's store and registry: its global options and verbs, and
 * its output (text, or with -j the envelope {"status": 0, "output": [...]}, "description" on errors). */
#ifndef MD_A2MD_H
#define MD_A2MD_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md_json.h"
#include "cli.h"

typedef struct a2md_t {
    md_cli_t *cli;                /* the global options: -d (store_dir), -a (cas), -C (ca_file), -p (proxy), -t (terms),
                                   * -j (json), -q (quiet), -v (verbose) */
    md_json_t *output;            /* the envelope's "output" array */
    int argc;                     /* the verb's arguments (after the verb) */
    const char *const *argv;
} a2md_t;

/* Run a2md with argv[0] its name: returns the exit code (0 ok, 1 error, 2 usage error). */
int a2md_main(md_cli_t *cli, int argc, char **argv);

/* The end of a verb: the envelope with status (an APR status, 0 on success) and description (NULL on success) on
 * stdout with -j, the description on stderr as "a2md: ..."; returns exit_code. */
int a2md_done(a2md_t *a, apr_status_t status, const char *description, int exit_code);
int a2md_failf(a2md_t *a, apr_status_t status, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Open the store of -d (created when missing); on failure the envelope says why and the exit code is returned. */
int a2md_store_open(a2md_t *a);
/* Add an MD's md.json, as stored, to the output (and a line for humans without -j). */
void a2md_out_md(a2md_t *a, const char *name);
/* A line for humans (not with -j or -q). */
void a2md_say(a2md_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The verb's leading options: each of flags (e.g. "f:force") found sets its int; any other is a usage error (returns
 * CLI_EXIT_USAGE after saying so), else -1. a->argc/argv then start after the options. */
int a2md_flags(a2md_t *a, const char *verb, const char *const *names, int *const *values);

/* Verbs (a2md_md.c, a2md_drive.c, a2md_acme.c). */
int a2md_add(a2md_t *a);
int a2md_update(a2md_t *a);
int a2md_list(a2md_t *a);
int a2md_store(a2md_t *a);
int a2md_drive(a2md_t *a);
int a2md_acme(a2md_t *a);

#endif
