/* Which stored MD holds a name: the names of every domains/NAME/md.json, cached in tmp/md-names.cache beside each
 * file's inode, size and modification time, so that a look-up in a store of 1000 MDs stats their md.json instead
 * of reading and parsing each of them. A file that changed (by anyone, mod_md too) is read again. An add appends its
 * MD's line (md_names_note), so that the next add finds the cache current; a line without its newline is not taken. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "md.h"
#include "md_file.h"
#include "md_store.h"

#define CACHE_FILE "md-names.cache"

typedef struct {
    const char *line;               /* "NAME INO SIZE MTIME_NS name1,name2,..." as cached */
    unsigned long long ino, size, mtime;
    const char *names;              /* ","-joined */
} entry_t;

/* The cache's lines by MD name. */
static apr_hash_t *cache_read(const char *path, apr_pool_t *p)
{
    apr_hash_t *cache = apr_hash_make(p);
    char *data = NULL, *line, *next, name[256], names[8192];
    apr_size_t len = 0;
    entry_t *e;

    if (md_file_read(&data, &len, path, p) != APR_SUCCESS) return cache;
    for (line = data; line && *line; line = next) {
        next = strchr(line, '\n');
        if (!next) break;           /* a line is only whole with its newline (md_names_note appends) */
        *next++ = '\0';
        e = apr_pcalloc(p, sizeof(*e));
        if (sscanf(line, "%255s %llu %llu %llu %8191s", name, &e->ino, &e->size, &e->mtime, names) != 5) continue;
        e->line = line;
        e->names = apr_pstrdup(p, names);
        apr_hash_set(cache, apr_pstrdup(p, name), APR_HASH_KEY_STRING, e);
    }
    return cache;
}

static int names_ok(const char *names)
{
    return *names && !strpbrk(names, " \t\n");
}

/* The entry for domains/NAME/md.json now: the cached one when the file is unchanged, else read anew (*pchanged);
 * NULL when it cannot be read. */
static entry_t *entry_get(int *pchanged, apr_hash_t *cache, md_store_t *store, int dfd, const char *name,
                          apr_pool_t *p)
{
    entry_t *e = apr_hash_get(cache, name, APR_HASH_KEY_STRING);
    md_t *md = NULL;
    struct stat st;

    /* relative to domains/: the path walk of one directory, not of the whole store path, per MD */
    if (dfd < 0 || fstatat(dfd, apr_pstrcat(p, name, "/md.json", NULL), &st, 0) != 0) return NULL;
    if (e && e->ino == (unsigned long long)st.st_ino && e->size == (unsigned long long)st.st_size
        && e->mtime == (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec) {
        return e;
    }
    *pchanged = 1;
    if (md_load(&md, store, MD_SG_DOMAINS, name, NULL, p) != APR_SUCCESS || !md->domains) return NULL;
    e = apr_pcalloc(p, sizeof(*e));
    e->ino = (unsigned long long)st.st_ino;
    e->size = (unsigned long long)st.st_size;
    e->mtime = (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec;
    e->names = apr_array_pstrcat(p, md->domains, ',');
    e->line = names_ok(e->names) ? apr_psprintf(p, "%s %" APR_UINT64_T_FMT " %" APR_UINT64_T_FMT " %" APR_UINT64_T_FMT
                                                 " %s", name, (apr_uint64_t)e->ino, (apr_uint64_t)e->size,
                                                 (apr_uint64_t)e->mtime, e->names)
                                 : NULL;
    return e;
}

/* The cache's line for name: NULL when its md.json cannot be stat'ed or its names cannot be cached. */
static const char *entry_line(md_store_t *store, const char *name, const char *names, apr_pool_t *p)
{
    const char *path = NULL;
    struct stat st;

    if (!names_ok(names) || md_store_get_fname(&path, store, MD_SG_DOMAINS, name, "md.json", p) != APR_SUCCESS
        || stat(path, &st) != 0) {
        return NULL;
    }
    return apr_psprintf(p, "%s %" APR_UINT64_T_FMT " %" APR_UINT64_T_FMT " %" APR_UINT64_T_FMT " %s", name,
                        (apr_uint64_t)st.st_ino, (apr_uint64_t)st.st_size,
                        (apr_uint64_t)(st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec),
                        names);
}

void md_names_note(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const char *path = NULL, *line;
    int fd;

    if (!md->name || !md->domains || md->domains->nelts == 0) return;
    line = entry_line(store, md->name, apr_array_pstrcat(p, md->domains, ','), p);
    if (!line || md_store_get_fname(&path, store, MD_SG_TMP, NULL, CACHE_FILE, p) != APR_SUCCESS) return;
    /* no cache yet: the next look-up makes one; one write, a whole line, after whatever others appended */
    fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    line = apr_pstrcat(p, line, "\n", NULL);
    if (write(fd, line, strlen(line)) < 0) { /* a cache: the next look-up reads the file instead */ }
    close(fd);
}

/* The first of md's names that the ","-joined list holds (as md_common_name). */
static const char *common(const md_t *md, const char *names, apr_pool_t *p)
{
    md_t other;
    char *copy = apr_pstrdup(p, names), *tok, *state = NULL;

    memset(&other, 0, sizeof(other));
    other.domains = apr_array_make(p, 4, sizeof(const char *));
    for (tok = apr_strtok(copy, ",", &state); tok; tok = apr_strtok(NULL, ",", &state)) {
        APR_ARRAY_PUSH(other.domains, const char *) = tok;
    }
    return md_common_name(md, &other);
}

const char *md_names_holder(const char **pholder, md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *mds = NULL, *lines;
    const char *path = NULL, *found = NULL, *name;
    const char *dir = NULL;
    apr_hash_t *cache;
    entry_t *e;
    int i, changed = 0, dfd;

    *pholder = NULL;
    if (md_store_list(&mds, store, MD_SG_DOMAINS, "*", p) != APR_SUCCESS) return NULL;
    if (md_store_get_fname(&path, store, MD_SG_TMP, NULL, CACHE_FILE, p) != APR_SUCCESS) return NULL;
    if (md_store_get_fname(&dir, store, MD_SG_DOMAINS, NULL, NULL, p) != APR_SUCCESS) return NULL;
    cache = cache_read(path, p);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    lines = apr_array_make(p, mds->nelts, sizeof(const char *));
    for (i = 0; i < mds->nelts; ++i) {
        name = APR_ARRAY_IDX(mds, i, const char *);
        if (!(e = entry_get(&changed, cache, store, dfd, name, p))) continue;
        if (e->line) APR_ARRAY_PUSH(lines, const char *) = e->line;
        if (!found && md->name && strcmp(name, md->name) && (found = common(md, e->names, p)) != NULL) {
            *pholder = name;
        }
    }
    if (dfd >= 0) close(dfd);
    if (changed || (int)apr_hash_count(cache) != lines->nelts) {
        const char *text = lines->nelts ? apr_pstrcat(p, apr_array_pstrcat(p, lines, '\n'), "\n", NULL) : "";
        md_file_write_atomic_nosync(path, text, strlen(text), MD_FPERMS_SECRET, p);   /* a cache: no flush */
    }
    return found;
}
