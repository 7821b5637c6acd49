/* Reading the domains file: lines and words as httpd reads them, <MDomain> sections, every error with FILE:LINE, and
 * the MDs resolved from their section's settings over the file's (as httpd merges a section over its server). */
#include <string.h>
#include <strings.h>

#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md.h"
#include "md_conf_file_int.h"

#define MAX_ERRORS 100

md_conf_file_level_t *md_conf_file__level_make(apr_pool_t *p)
{
    md_conf_file_level_t *l = apr_pcalloc(p, sizeof(*l));

    l->st = md_settings_make(p);
    l->install_mode = MD_CONF_UNSET;
    return l;
}

md_conf_file_level_t *md_conf_file__level(md_conf_file_parser_t *ps)
{
    return ps->section ? ps->section->level : ps->global;
}

char *md_conf_file__word(const char **ps, apr_pool_t *p)
{
    const char *s = *ps, *start;
    char quote, *w, *o;

    while (*s && apr_isspace(*s)) ++s;
    if (!*s) {
        *ps = s;
        return NULL;
    }
    if (*s == '"' || *s == '\'') {
        quote = *s++;
        w = o = apr_palloc(p, strlen(s) + 1);
        while (*s && *s != quote) {
            if (*s == '\\' && s[1] == quote) ++s;       /* \" inside "...": a quote */
            *o++ = *s++;
        }
        *o = '\0';
        if (*s) ++s;
        *ps = s;
        return w;
    }
    start = s;
    while (*s && !apr_isspace(*s)) ++s;
    *ps = s;
    return apr_pstrmemdup(p, start, (apr_size_t)(s - start));
}

static void add_msg(md_conf_file_parser_t *ps, apr_array_header_t *list, unsigned line, const char *msg)
{
    if (list == ps->cf->errors && list->nelts >= MAX_ERRORS) return;
    APR_ARRAY_PUSH(list, const char *) = apr_psprintf(ps->p, "%s:%u: %s", ps->cf->path, line, msg);
}

static void ctx_warn(void *baton, const char *text)
{
    md_conf_file_parser_t *ps = baton;

    add_msg(ps, ps->cf->warnings, ps->line, apr_psprintf(ps->p, "'%s': %s", ps->text, text));
}

static const char *ctx_path(void *baton, const char *value)
{
    md_conf_file_parser_t *ps = baton;
    char *path = NULL;

    if (!*value) return NULL;
    if (!ps->base_dir || *value == '/') return apr_pstrdup(ps->p, value);
    if (apr_filepath_merge(&path, ps->base_dir, value, APR_FILEPATH_NOTRELATIVE, ps->p)
        != APR_SUCCESS) {
        return apr_pstrcat(ps->p, ps->base_dir, "/", value, NULL);
    }
    return path;
}

static md_conf_ctx_t *ctx_make(md_conf_file_parser_t *ps)
{
    md_conf_ctx_t *c = apr_pcalloc(ps->p, sizeof(*c));

    c->p = ps->p;
    c->warn = ctx_warn;
    c->path = ctx_path;
    c->baton = ps;
    return c;
}

/* "<MDomain a b>": the section's words (up to the '>') are its names. */
static const char *section_open(md_conf_file_parser_t *ps, const char *name, const char *rest)
{
    md_conf_ctx_t *c = ctx_make(ps);
    apr_array_header_t *words = apr_array_make(ps->p, 4, sizeof(const char *));
    const char *end = strrchr(rest, '>'), *s, *err;
    md_conf_file_def_t *def;
    char *w;

    c->directive = name;
    while (apr_isspace(*rest)) ++rest;
    if (ps->section) {
        return apr_psprintf(ps->p, "'%s %s': %s is not allowed inside an '<MDomainSet' context: a %s> section cannot "
                            "stand inside another <MDomain>/<MDomainSet> section", name, rest, name, name);
    }
    if (!end) return apr_psprintf(ps->p, "%s> directive missing closing '>'", name);
    s = apr_pstrmemdup(ps->p, rest, (apr_size_t)(end - rest));
    while ((w = md_conf_file__word(&s, ps->p)) != NULL) APR_ARRAY_PUSH(words, const char *) = w;
    def = apr_pcalloc(ps->p, sizeof(*def));
    def->domains = apr_array_make(ps->p, 4, sizeof(const char *));
    def->written = apr_array_make(ps->p, 4, sizeof(const char *));
    def->level = md_conf_file__level_make(ps->p);
    def->line = ps->line;
    err = md_conf_names(c, words->nelts, (const char *const *)words->elts, 0, def->domains, def->written,
                        &def->level->st->transitive);
    if (err) return err;
    if (def->domains->nelts == 0) {
        return apr_psprintf(ps->p, "%s> section must specify a unique domain name: the names of the managed domain, "
                            "e.g. %s example.org>", name, name);
    }
    APR_ARRAY_PUSH(ps->defs, md_conf_file_def_t *) = def;
    ps->section = def;
    ps->section_name = name;
    return NULL;
}

static const char *section_close(md_conf_file_parser_t *ps, const char *line)
{
    const char *name = line + 2, *end = strchr(name, '>');
    apr_size_t len = end ? (apr_size_t)(end - name) : strlen(name);

    if (!ps->section || len + 1 != strlen(ps->section_name) || strncasecmp(name, ps->section_name + 1, len)) {
        return apr_psprintf(ps->p, "%s without matching <%.*s section", line, (int)len, name);
    }
    if (!end || end[1 + strspn(end + 1, " \t")]) return apr_psprintf(ps->p, "%s: closing '>' expected at its end", line);
    ps->section = NULL;
    return NULL;
}

/* True when s is UTF-8 (md.json, which records what the file says, holds only that). */
static int is_utf8(const unsigned char *s)
{
    int n;

    while (*s) {
        if (*s < 0x80) n = 0;
        else if (*s >= 0xc2 && *s <= 0xdf) n = 1;
        else if (*s >= 0xe0 && *s <= 0xef) n = 2;
        else if (*s >= 0xf0 && *s <= 0xf4) n = 3;
        else return 0;
        for (++s; n > 0; --n, ++s) {
            if ((*s & 0xc0) != 0x80) return 0;
        }
    }
    return 1;
}

/* One logical line (continuations joined), without leading blanks. */
static void one_line(md_conf_file_parser_t *ps, const char *line)
{
    const char *s = line, *err;
    char *name;

    ps->text = line;
    if (!is_utf8((const unsigned char *)line)) err = "the line is not UTF-8 text";
    else if (line[0] == '<' && line[1] == '/') err = section_close(ps, line);
    else if (line[0] == '<') {
        name = apr_pstrmemdup(ps->p, line, strcspn(line, " \t>"));     /* "<MDomain" of "<MDomain a>" */
        s = line + strlen(name);
        if (!strcasecmp(name, "<MDomain") || !strcasecmp(name, "<MDomainSet")) {
            err = section_open(ps, !strcasecmp(name, "<MDomain") ? "<MDomain" : "<MDomainSet", s);
        }
        else {
            err = apr_psprintf(ps->p, "Invalid command '%s', perhaps misspelled or defined by a module not included "
                               "in the server configuration", name);
        }
    }
    else {
        name = md_conf_file__word(&s, ps->p);
        while (*s && apr_isspace(*s)) ++s;
        err = md_conf_file__directive(ps, ctx_make(ps), name, s);
    }
    if (err) add_msg(ps, ps->cf->errors, ps->line, err);
}

static void read_lines(md_conf_file_parser_t *ps, const char *text, apr_size_t len)
{
    const char *pos = text, *end = text + len, *nl;
    char *logical = NULL, *piece;
    apr_size_t plen;
    unsigned lineno = 0, start = 0;

    while (pos < end) {
        nl = memchr(pos, '\n', (apr_size_t)(end - pos));
        plen = nl ? (apr_size_t)(nl - pos) : (apr_size_t)(end - pos);
        piece = apr_pstrmemdup(ps->p, pos, plen);       /* a NUL byte ends the line's text */
        pos = nl ? nl + 1 : end;
        ++lineno;
        plen = strlen(piece);
        while (plen > 0 && apr_isspace(piece[plen - 1])) piece[--plen] = '\0';
        if (!logical) start = lineno;
        logical = logical ? apr_pstrcat(ps->p, logical, " ", piece, NULL) : piece;
        if (plen > 0 && piece[plen - 1] == '\\' && pos < end) {     /* continued on the next line */
            logical[strlen(logical) - 1] = '\0';
            continue;
        }
        while (apr_isspace(*logical)) ++logical;
        if (*logical && *logical != '#') {
            ps->line = start;
            one_line(ps, logical);
        }
        logical = NULL;
    }
    if (ps->section) {
        add_msg(ps, ps->cf->errors, ps->section->line, apr_psprintf(ps->p, "%s> was not closed", ps->section_name));
    }
}

/* The MD of a definition: its settings over the file's, mod_md's defaults for the rest. */
static md_conf_file_md_t *resolve(md_conf_file_parser_t *ps, const md_conf_file_def_t *def)
{
    md_conf_file_md_t *m = apr_pcalloc(ps->p, sizeof(*m));
    const md_conf_file_level_t *g = ps->global, *l = def->level;
    md_t *md = md_create(def->domains, ps->p);

    md_settings_apply(md, md_settings_merge(g->st, l->st, ps->p), ps->p);
    md->dns01_version = ps->dns01_version;
    if (ps->retry_failover != MD_CONF_UNSET) md->retry_failover = ps->retry_failover;
    md->proxy_url = ps->proxy_url;
    md->install_chain = l->install_chain;
    md->install_key = l->install_key;
    if (l->install_mode != MD_CONF_UNSET) md->install_mode = l->install_mode;
    else if (g->install_mode != MD_CONF_UNSET) md->install_mode = g->install_mode;
    if (l->install_cmd || g->install_cmd) md->install_cmd = apr_array_copy(ps->p, l->install_cmd ? l->install_cmd : g->install_cmd);
    md->install_owner = l->install_owner ? l->install_owner : g->install_owner;
    if (l->install_reload || g->install_reload) {
        md->install_reload = apr_array_copy(ps->p, l->install_reload ? l->install_reload : g->install_reload);
    }
    m->md = md;
    m->file = ps->cf->path;
    m->line = def->line;
    return m;
}

static const char *where(const md_conf_file_md_t *m, apr_pool_t *p)
{
    return apr_psprintf(p, "%s:%u", m->file, m->line);
}

/* As the module: a name belongs to one MD only; a wildcard needs dns-01 among its challenges; MDInstallChain and
 * MDInstallKey go together. */
static void check_mds(md_conf_file_parser_t *ps)
{
    apr_array_header_t *mds = apr_array_make(ps->p, ps->cf->mds->nelts + 1, sizeof(md_t *)), *clashes;
    const md_conf_file_md_t *m, *other;
    const md_conf_clash_t *c;
    const char *err;
    int i, k;

    for (i = 0; i < ps->cf->mds->nelts; ++i) {
        APR_ARRAY_PUSH(mds, md_t *) = APR_ARRAY_IDX(ps->cf->mds, i, const md_conf_file_md_t *)->md;
    }
    clashes = md_conf_name_clashes(mds, ps->p);
    for (i = 0, k = 0; i < ps->cf->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(ps->cf->mds, i, const md_conf_file_md_t *);
        if ((err = md_conf_wildcard_problem(m->md, where(m, ps->p), ps->p))) add_msg(ps, ps->cf->errors, m->line, err);
        if (!!m->md->install_chain != !!m->md->install_key) {
            add_msg(ps, ps->cf->errors, m->line, apr_psprintf(ps->p, "MD %s has %s without %s: the two go together",
                                                              m->md->name,
                                                              m->md->install_chain ? "MDInstallChain" : "MDInstallKey",
                                                              m->md->install_chain ? "MDInstallKey" : "MDInstallChain"));
        }
        for (; k < clashes->nelts && (c = &APR_ARRAY_IDX(clashes, k, md_conf_clash_t))->again == i; ++k) {
            other = APR_ARRAY_IDX(ps->cf->mds, c->first, const md_conf_file_md_t *);
            add_msg(ps, ps->cf->errors, m->line, md_conf_clash_msg(c, mds, where(other, ps->p), where(m, ps->p), ps->p));
        }
    }
}

md_conf_file_t *md_conf_file_parse(const char *path, const char *text, apr_size_t len, const char *base_dir,
                                   apr_pool_t *p)
{
    md_conf_file_parser_t *ps = apr_pcalloc(p, sizeof(*ps));
    md_conf_file_t *cf = apr_pcalloc(p, sizeof(*cf));
    int i;

    cf->path = apr_pstrdup(p, path);
    cf->mds = apr_array_make(p, 16, sizeof(md_conf_file_md_t *));
    cf->errors = apr_array_make(p, 4, sizeof(const char *));
    cf->warnings = apr_array_make(p, 4, sizeof(const char *));
    ps->p = p;
    ps->cf = cf;
    ps->base_dir = base_dir;
    ps->global = md_conf_file__level_make(p);
    ps->defs = apr_array_make(p, 16, sizeof(md_conf_file_def_t *));
    ps->dns01_version = 1;
    ps->retry_failover = MD_CONF_UNSET;
    read_lines(ps, text, len);
    for (i = 0; i < ps->defs->nelts; ++i) {
        APR_ARRAY_PUSH(cf->mds, md_conf_file_md_t *) = resolve(ps, APR_ARRAY_IDX(ps->defs, i, md_conf_file_def_t *));
    }
    check_mds(ps);
    return cf;
}

apr_status_t md_conf_file_read(md_conf_file_t **pcf, const char *path, const char **perr, apr_pool_t *p)
{
    apr_file_t *f = NULL;
    apr_finfo_t finfo;
    char *dir = NULL, *text = NULL, *slash;
    apr_size_t len = 0;
    apr_status_t rv;

    *pcf = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv == APR_SUCCESS) rv = apr_file_info_get(&finfo, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv == APR_SUCCESS && finfo.filetype != APR_REG) rv = APR_EINVAL;
    if (rv == APR_SUCCESS) {
        len = (apr_size_t)finfo.size;
        text = apr_palloc(p, len + 1);
        rv = len ? apr_file_read_full(f, text, len, &len) : APR_SUCCESS;
        text[len] = '\0';
    }
    if (f) apr_file_close(f);
    if (rv != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot read %s: %pm", path, &rv);
        return rv;
    }
    if (apr_filepath_merge(&dir, NULL, path, APR_FILEPATH_TRUENAME, p) == APR_SUCCESS && (slash = strrchr(dir, '/'))) {
        *slash = '\0';
        if (!*dir) dir = "/";
    }
    else dir = NULL;
    *pcf = md_conf_file_parse(path, text, len, dir, p);
    return APR_SUCCESS;
}
