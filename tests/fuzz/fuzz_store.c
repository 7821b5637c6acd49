/* Fuzz target: a store on disk that cannot be trusted (damaged or hostile files, as another program or a crash may
 * leave them), read the way a server start and md-status read it: open and recover, the MD and its state, the job,
 * the account, the ARI cache, the events state, the names cache (tmp/md-names.cache) as an add looks at it; then sync
 * as httpd's start does it, twice (it activates a staged set, reads and writes the state memo tmp/md-state.memo,
 * the second time takes a complete MD from the memo the first wrote). */
#include <ctype.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme_acct.h"
#include "md_clock.h"
#include "md_file.h"
#include "md_job.h"
#include "md_reg.h"
#include "md_reg_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "fuzz.h"

#define NOW (APR_INT64_C(1796083200) * APR_USEC_PER_SEC)    /* 2026-12-01: after the seeds' certificates begin */
#define DEF_NAME "test.example.org"

static const char *const groups[] = { "accounts", "challenges", "domains", "staging", "archive", "tmp", "ocsp" };

static char base[256];   /* a directory of this process for its stores, removed at exit */

static void base_remove(void)
{
    apr_pool_t *p = NULL;

    if (!base[0] || apr_pool_create(&p, NULL) != APR_SUCCESS) return;
    md_file_rm_rf(base, p);
    apr_pool_destroy(p);
}

/* Where the stores go: $MD_FUZZ_TMP, else /dev/shm (memory: fast), else /tmp. */
static void base_make(void)
{
    const char *tmp = getenv("MD_FUZZ_TMP");

    if (base[0]) return;
    if (!tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(base, sizeof(base), "%s/mdomain-fuzz-store-%ld", tmp, (long)getpid());
    atexit(base_remove);
}

/* A file name part: letters, digits, '.', '-', '_'; not "." or "..". */
static int name_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > 100 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) return 0;
    for (i = 0; i < len; ++i) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_') return 0;
    }
    return 1;
}

/* The store path a part's first line names ("md_store.json", "events/NAME.json", "GROUP/NAME/ASPECT"), or NULL
 * when it names none. *pname: the NAME of a GROUP/NAME/ASPECT path. */
static const char *part_path(const char **pname, const char *line, apr_pool_t *p)
{
    const char *s1 = strchr(line, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    size_t i;

    if (!strcmp(line, "md_store.json") || !strcmp(line, "tmp/md-names.cache") || !strcmp(line, "tmp/md-state.memo")) {
        return line;
    }
    if (s1 && !s2 && !strncmp(line, "events/", 7) && name_ok(s1 + 1, strlen(s1 + 1))) return line;
    if (!s1 || !s2 || strchr(s2 + 1, '/')) return NULL;
    if (!name_ok(s1 + 1, (size_t)(s2 - s1 - 1)) || !name_ok(s2 + 1, strlen(s2 + 1))) return NULL;
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); ++i) {
        if (strlen(groups[i]) == (size_t)(s1 - line) && !strncmp(line, groups[i], (size_t)(s1 - line))) {
            *pname = apr_pstrndup(p, s1 + 1, (size_t)(s2 - s1 - 1));
            return line;
        }
    }
    return NULL;
}

/* Write the input's parts into dir: each part is a path line and the file's content. The first NAME seen in
 * domains/ or staging/ is the MD's, the first in accounts/ the account's. */
static void write_parts(fz_input_t *in, const char *dir, const char **pmd, const char **pacct, apr_pool_t *p)
{
    const char *part, *nl, *path, *name, *fpath;
    size_t len;

    while ((part = fz_part(in, &len, p)) != NULL) {
        nl = memchr(part, '\n', len);
        if (!nl) continue;
        name = NULL;
        path = part_path(&name, apr_pstrndup(p, part, (size_t)(nl - part)), p);
        if (!path) continue;
        if (name && !strncmp(path, "accounts/", 9) && !*pacct) *pacct = name;
        if (name && (!strncmp(path, "domains/", 8) || !strncmp(path, "staging/", 8)) && !*pmd) *pmd = name;
        fpath = md_file_join(p, dir, path, NULL);
        md_file_mkdirs(apr_pstrndup(p, fpath, (size_t)(strrchr(fpath, '/') - fpath)), 0700, p);
        md_file_write_atomic_nosync(fpath, nl + 1, len - (size_t)(nl + 1 - part), 0600, p);
    }
}

static void state_checks(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    md_reg_state_opts_t opts;
    md_reg_state_t *st;
    md_json_t *status;
    int i;

    memset(&opts, 0, sizeof(opts));
    opts.check_keys = 1;
    st = md_reg_state(reg, md, &opts, p);
    FZ_CHECK(st && st->state_descr && st->certs);
    FZ_CHECK(!st->complete || st->servable);
    for (i = 0; i < st->certs->nelts; ++i) {
        const md_reg_cert_t *c = APR_ARRAY_IDX(st->certs, i, const md_reg_cert_t *);
        FZ_CHECK(c->key && (c->problem || (c->usable && c->covers)));
    }
    status = md_reg_status(reg, st, NULL, p);
    FZ_CHECK(status && md_json_writep(status, MD_JSON_FMT_INDENT, p));
    (void)md_reg_staged_certs(reg, md, p);
    (void)md_reg_install_owed(reg, md, p);
}

/* Which other MD holds one of md's names, through the names cache as found, and again after md's line was noted
 * in it: the cache never changes the answer. */
static void names_checks(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const char *holder = NULL, *found, *again;

    found = md_names_holder(&holder, store, md, p);
    FZ_CHECK(!found == !holder);
    FZ_CHECK(!holder || !md->name || strcmp(holder, md->name));     /* the MD itself does not count */
    md_names_note(store, md, p);
    again = md_names_holder(&holder, store, md, p);
    FZ_CHECK(!found == !again && (!found || !strcmp(found, again)));
}

static void read_all(md_reg_t *reg, md_store_t *store, const char *name, const char *acct_id, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_reg_state_t *st = NULL;
    md_acme_acct_t *acct = NULL;
    md_pkey_t *key = NULL;
    md_job_t *job = NULL;
    md_t *md = NULL;
    apr_array_header_t *names = NULL;
    int i;

    if (md_load(&md, store, MD_SG_DOMAINS, name, result, p) == APR_SUCCESS) {
        state_checks(reg, md, p);
        names_checks(store, md, p);
    }
    else {
        /* what md-status shows for an MD whose md.json cannot be read */
        md = md_create(NULL, p);
        md->name = name;
        FZ_CHECK(md_reg_status_error(md, result->detail ? result->detail : "?", p) != NULL);
    }
    if (md_reg_load_state(&st, reg, name, NULL, result, p) == APR_SUCCESS) FZ_CHECK(st && st->md);
    (void)md_load(&md, store, MD_SG_STAGING, name, result, p);
    (void)md_job_load(&job, store, MD_SG_STAGING, name, result, p);
    if (acct_id) (void)md_acme_acct_load(&acct, &key, store, acct_id, result, p);
    (void)md_acme_acct_find_stored(&acct_id, store, "https://127.0.0.1:14000/dir", NULL, p);
    for (i = 0; i < MD_SG_COUNT; ++i) (void)md_store_list(&names, store, (md_store_group_t)i, "*", p);
}

/* Sync the MD as configured (its name, the key types of the stored md.json) as httpd's start does, with the state
 * and the memo: activates a complete staged set; the second sync may take the MD from the memo the first wrote,
 * which then must be complete. */
static void sync_md(md_reg_t *reg, md_store_t *store, const char *name, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    apr_array_header_t *domains = apr_array_make(p, 1, sizeof(const char *)), *items;
    md_reg_state_opts_t state_opts;
    md_reg_sync_opts_t opts;
    md_reg_sync_item_t *item;
    md_t *stored = NULL, *md;
    int round;

    APR_ARRAY_PUSH(domains, const char *) = name;
    md = md_create(domains, p);
    if (md_load(&stored, store, MD_SG_DOMAINS, name, NULL, p) == APR_SUCCESS) md->pks = stored->pks;
    item = apr_pcalloc(p, sizeof(*item));
    item->md = md;
    items = apr_array_make(p, 1, sizeof(md_reg_sync_item_t *));
    APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = item;
    memset(&opts, 0, sizeof(opts));
    memset(&state_opts, 0, sizeof(state_opts));
    state_opts.check_keys = 1;
    opts.restart = 1;
    opts.state_opts = &state_opts;
    for (round = 0; round < 2; ++round) {
        if (md_reg_sync(reg, items, &opts, result, p) != APR_SUCCESS) FZ_CHECK(result->detail != NULL);
        FZ_CHECK(!item->from_memo || !item->state);
        if (item->from_memo) FZ_CHECK(md_reg_state(reg, md, &state_opts, p)->complete);
    }
    state_checks(reg, md, p);
}

/* Input: parts separated by lines "--", each a store path ("md_store.json", "events/NAME.json",
 * "tmp/md-names.cache", "GROUP/NAME/ASPECT") on its first line and the file's content after it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    md_result_t *result = md_result_make(p);
    md_clock_sim_t *sim = md_clock_sim_make(NOW, p);
    const char *dir, *name = NULL, *acct_id = NULL;
    md_store_t *store = NULL;
    md_reg_t *reg;

    base_make();
    dir = md_file_join(p, base, "store", NULL);
    md_file_rm_rf(dir, p);
    md_file_mkdirs(dir, 0700, p);
    write_parts(&in, dir, &name, &acct_id, p);
    if (!name) name = DEF_NAME;
    if (md_store_fs_open(&store, dir, result, p) != APR_SUCCESS) {
        FZ_CHECK(result->detail != NULL);
        goto leave;
    }
    reg = md_reg_make(store, md_clock_sim_clock(sim), p);
    read_all(reg, store, name, acct_id, p);
    sync_md(reg, store, name, p);
leave:
    apr_pool_destroy(p);
    return 0;
}
