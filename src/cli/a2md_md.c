/* a2md's verbs on managed domains: add, update NAME ASPECT ARGS, list, and store add|remove|list|update; each prints
 * the MDs' md.json as stored. Changes go through the registry (md_reg_change_md, md_reg_update). */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_reg.h"
#include "md_reg_update.h"
#include "a2md.h"

int a2md_store_open(a2md_t *a)
{
    md_result_t *result = md_result_make(a->cli->p);
    char *abs = NULL;

    if (apr_filepath_merge(&abs, NULL, a->cli->store_dir, APR_FILEPATH_NOTRELATIVE, a->cli->p) == APR_SUCCESS) {
        a->cli->store_dir = abs;
    }
    if (md_store_fs_open(&a->cli->store, a->cli->store_dir, result, a->cli->p) != APR_SUCCESS) {
        return a2md_failf(a, result->status, CLI_EXIT_ERROR, "cannot open the store at %s: %s", a->cli->store_dir,
                          md_result_text(result, a->cli->p));
    }
    return CLI_EXIT_OK;
}

/* -a (a name or URL; the first is used, the others are CAs to fail over to) and -C as a change. */
static int ca_change(a2md_t *a, md_reg_change_t *ch, const apr_array_header_t *given)
{
    apr_array_header_t *urls = apr_array_make(a->cli->p, 2, sizeof(const char *));
    char real[PATH_MAX];
    const char *url;
    int i;

    for (i = 0; given && i < given->nelts; ++i) {
        url = md_acme_ca_url_for(APR_ARRAY_IDX(given, i, const char *));
        if (strncasecmp(url, "https://", 8) && strncasecmp(url, "http://", 7)) {
            return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "'%s' is not a CA name (letsencrypt, letsencrypt-test, "
                              "buypass, buypass-test) nor an http(s) URL", url);
        }
        APR_ARRAY_PUSH(urls, const char *) = url;
    }
    if (urls->nelts) ch->ca_urls = urls;
    if (a->cli->ca_file) {
        if (!realpath(a->cli->ca_file, real)) {
            return a2md_failf(a, APR_ENOENT, CLI_EXIT_USAGE, "-C %s: not found", a->cli->ca_file);
        }
        ch->ca_file = apr_pstrdup(a->cli->p, real);
    }
    return CLI_EXIT_OK;
}

/* The MD in the store that has a name of md already, and that name (NULL when none). */
static const char *name_taken(const char **pother, a2md_t *a, const md_t *md)
{
    apr_array_header_t *names;
    const char *common;
    md_t *other;
    int i;

    if (md_store_list(&names, a->cli->store, MD_SG_DOMAINS, "*", a->cli->p) != APR_SUCCESS) return NULL;
    for (i = 0; i < names->nelts; ++i) {
        if (md_load(&other, a->cli->store, MD_SG_DOMAINS, APR_ARRAY_IDX(names, i, const char *), NULL, a->cli->p)
            == APR_SUCCESS && (common = md_common_name(md, other)) != NULL) {
            *pother = other->name;
            return common;
        }
    }
    return NULL;
}

/* add DOMAIN...: a new MD with the CA of -a (Let's Encrypt without), -C, the agreement of -t. */
static int add_md(a2md_t *a, const char *verb)
{
    apr_array_header_t *names = apr_array_make(a->cli->p, a->argc, sizeof(const char *));
    const char *why, *err = NULL, *other = NULL, *common;
    md_reg_change_t ch;
    md_t *md;
    int i, rc;

    if (a->argc == 0) return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "%s: give at least one domain", verb);
    for (i = 0; i < a->argc; ++i) {
        char *name = apr_pstrdup(a->cli->p, a->argv[i]);
        for (char *c = name; *c; ++c) *c = (char)tolower((unsigned char)*c);
        if ((why = md_domain_problem(name)) != NULL) {
            return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "%s: '%s': %s", verb, name, why);
        }
        APR_ARRAY_PUSH(names, const char *) = name;
    }
    md = md_create(names, a->cli->p);
    APR_ARRAY_PUSH(md->ca_urls, const char *) = md_acme_ca_url_for("letsencrypt");
    md_reg_change_init(&ch);
    if ((rc = ca_change(a, &ch, a->cli->cas)) != CLI_EXIT_OK) return rc;
    if (a->cli->terms) ch.ca_agreement = a->cli->terms;
    if (md_reg_change_md(md, &ch, &err, a->cli->p) != APR_SUCCESS) {
        return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "%s: %s", verb, err);
    }
    if ((rc = a2md_store_open(a)) != CLI_EXIT_OK) return rc;
    if (md_store_exists(a->cli->store, MD_SG_DOMAINS, md->name, "md.json", a->cli->p)) {
        return a2md_failf(a, APR_EEXIST, CLI_EXIT_ERROR, "%s: a managed domain '%s' exists already", verb, md->name);
    }
    if ((common = name_taken(&other, a, md)) != NULL) {
        return a2md_failf(a, APR_EINVAL, CLI_EXIT_ERROR, "%s: '%s' belongs to the managed domain '%s' already", verb,
                          common, other);
    }
    md_reg_state_record(md_reg_make(a->cli->store, NULL, a->cli->p), md, NULL, a->cli->p);
    if (md_save(md, a->cli->store, MD_SG_DOMAINS, 1, NULL, a->cli->p) != APR_SUCCESS) {
        return a2md_failf(a, APR_EGENERAL, CLI_EXIT_ERROR, "%s: cannot save %s", verb, md->name);
    }
    a2md_out_md(a, md->name);
    return a2md_done(a, APR_SUCCESS, NULL, CLI_EXIT_OK);
}

int a2md_add(a2md_t *a)
{
    return add_md(a, "add");
}

static apr_array_header_t *rest(a2md_t *a, int from)
{
    apr_array_header_t *vals = apr_array_make(a->cli->p, 4, sizeof(const char *));

    for (; from < a->argc; ++from) APR_ARRAY_PUSH(vals, const char *) = a->argv[from];
    return vals;
}

/* The change an aspect and its arguments make (a2md's update aspects). */
static int aspect_change(a2md_t *a, md_reg_change_t *ch, const char *aspect)
{
    apr_array_header_t *vals = rest(a, 2);
    int n = vals->nelts;

    if (!strcmp(aspect, "domains") && n >= 1) ch->domains = vals;
    else if (!strcmp(aspect, "ca") && (n == 1 || n == 2)) {
        if (n == 2 && strcasecmp(APR_ARRAY_IDX(vals, 1, const char *), "ACME")) {
            return a2md_failf(a, APR_ENOTIMPL, CLI_EXIT_USAGE, "update ca: unknown protocol '%s' (only ACME)",
                              APR_ARRAY_IDX(vals, 1, const char *));
        }
        vals->nelts = 1;                        /* the URL only */
        return ca_change(a, ch, vals);
    }
    else if (!strcmp(aspect, "account") && n == 1) {
        if (!md_store_exists(a->cli->store, MD_SG_ACCOUNTS, a->argv[2], "account.json", a->cli->p)) {
            return a2md_failf(a, APR_ENOENT, CLI_EXIT_ERROR, "update account: no account '%s' in the store", a->argv[2]);
        }
        ch->ca_account = a->argv[2];
    }
    else if (!strcmp(aspect, "contacts") && n >= 1) ch->contacts = vals;
    else if (!strcmp(aspect, "agreement") && n == 1) ch->ca_agreement = a->argv[2];
    else if (!strcmp(aspect, "domains") || !strcmp(aspect, "ca") || !strcmp(aspect, "account")
             || !strcmp(aspect, "contacts") || !strcmp(aspect, "agreement")) {
        return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "update %s: wrong number of arguments (domains NAME..., ca URL "
                          "[ACME], account ID, contacts EMAIL..., agreement URL)", aspect);
    }
    else {
        return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "update: unknown aspect '%s' (domains, ca, account, contacts, "
                          "agreement)", aspect);
    }
    return CLI_EXIT_OK;
}

/* update NAME [ASPECT ARGS...]: without an aspect the MD as it is. */
int a2md_update(a2md_t *a)
{
    md_result_t *result = md_result_make(a->cli->p);
    md_reg_update_t *upd = NULL;
    md_reg_change_t ch;
    int rc;

    if (a->argc < 1) return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "update: give the name of a managed domain");
    if ((rc = a2md_store_open(a)) != CLI_EXIT_OK) return rc;
    if (!md_store_exists(a->cli->store, MD_SG_DOMAINS, a->argv[0], "md.json", a->cli->p)) {
        return a2md_failf(a, APR_ENOENT, CLI_EXIT_ERROR, "update: no managed domain '%s'", a->argv[0]);
    }
    if (a->argc > 1) {
        md_reg_change_init(&ch);
        if ((rc = aspect_change(a, &ch, a->argv[1])) != CLI_EXIT_OK) return rc;
        if (md_reg_update(&upd, md_reg_make(a->cli->store, NULL, a->cli->p), a->argv[0], &ch, NULL, 0, result,
                          a->cli->p) != APR_SUCCESS) {
            return a2md_failf(a, result->status, result->status == APR_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_ERROR,
                              "update: %s", md_result_text(result, a->cli->p));
        }
    }
    a2md_out_md(a, a->argv[0]);
    return a2md_done(a, APR_SUCCESS, NULL, CLI_EXIT_OK);
}

int a2md_list(a2md_t *a)
{
    apr_array_header_t *names;
    int i, rc;

    if (a->argc > 0) return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "list: takes no arguments ('%s')", a->argv[0]);
    if ((rc = a2md_store_open(a)) != CLI_EXIT_OK) return rc;
    if (md_store_list(&names, a->cli->store, MD_SG_DOMAINS, "*", a->cli->p) != APR_SUCCESS) {
        return a2md_failf(a, APR_EGENERAL, CLI_EXIT_ERROR, "cannot list %s/domains", a->cli->store_dir);
    }
    for (i = 0; i < names->nelts; ++i) a2md_out_md(a, APR_ARRAY_IDX(names, i, const char *));
    return a2md_done(a, APR_SUCCESS, NULL, CLI_EXIT_OK);
}

/* store remove [-f|--force] NAME...: each MD goes to archive/NAME.N (its staging with it); with -f a missing one is
 * no error. The output has the removed MDs as they were. */
static int store_remove(a2md_t *a)
{
    static const char *const names[] = { "f:force", NULL };
    int force = 0, *const values[] = { &force };
    const char *name;
    int i, rc;

    if ((rc = a2md_flags(a, "store remove", names, values)) >= 0) return rc;
    if (a->argc == 0) return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "store remove: give the names of managed domains");
    if ((rc = a2md_store_open(a)) != CLI_EXIT_OK) return rc;
    for (i = 0; i < a->argc; ++i) {
        name = a->argv[i];
        if (!md_store_exists(a->cli->store, MD_SG_DOMAINS, name, "md.json", a->cli->p)) {
            if (force) continue;
            return a2md_failf(a, APR_ENOENT, CLI_EXIT_ERROR, "store remove: no managed domain '%s'", name);
        }
        a2md_out_md(a, name);
        if (md_store_archive(NULL, a->cli->store, MD_SG_DOMAINS, name, a->cli->p) != APR_SUCCESS) {
            return a2md_failf(a, APR_EGENERAL, CLI_EXIT_ERROR, "store remove: cannot remove '%s'", name);
        }
        md_store_purge(a->cli->store, MD_SG_STAGING, name, a->cli->p);
        a2md_say(a, "removed %s", name);
    }
    return a2md_done(a, APR_SUCCESS, NULL, CLI_EXIT_OK);
}

int a2md_store(a2md_t *a)
{
    const char *sub = a->argc ? a->argv[0] : "";

    --a->argc;
    ++a->argv;
    if (!strcmp(sub, "add")) return add_md(a, "store add");
    if (!strcmp(sub, "remove")) return store_remove(a);
    if (!strcmp(sub, "list")) return a2md_list(a);
    if (!strcmp(sub, "update")) return a2md_update(a);
    ++a->argc;
    --a->argv;
    return a2md_failf(a, APR_EINVAL, CLI_EXIT_USAGE, "store: use add, remove, list or update");
}
