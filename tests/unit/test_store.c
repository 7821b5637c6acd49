/* Unit tests of the file store: layout and key, values in every group, remove, purge, list, move, names. */
#include <dirent.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <apr_strings.h>

#include "md_encode.h"
#include "md_file.h"
#include "md_json.h"
#include "md_result.h"
#include "test_common.h"
#include "test_store.h"

#define STORE_TIMEOUT 60

/* ---- helpers shared with test_store_activate.c ---- */

md_store_t *test_store_open(const char *dir, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_store_t *store = NULL;
    apr_status_t rv = md_store_fs_open(&store, dir, result, p);

    ck_assert_msg(rv == APR_SUCCESS, "open %s: %d %s", dir, rv, result->detail ? result->detail : "");
    return store;
}

md_pkey_t *test_store_gen_key(apr_pool_t *p)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_pkey_t *pkey = NULL;

    ck_assert_int_eq(md_pkey_gen(&pkey, &spec, p), APR_SUCCESS);
    return pkey;
}

test_set_t *test_set_make(const char *tag, apr_pool_t *p)
{
    test_set_t *set = apr_pcalloc(p, sizeof(*set));
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *));
    md_cert_t *cert = NULL;

    set->tag = tag;
    set->pkey = test_store_gen_key(p);
    APR_ARRAY_PUSH(names, const char *) = "example.org";
    ck_assert_int_eq(md_cert_self_sign(&cert, tag, names, set->pkey, apr_time_from_sec(86400), p),
                     APR_SUCCESS);
    set->chain = apr_array_make(p, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(set->chain, md_cert_t *) = cert;
    return set;
}

void test_set_save(md_store_t *store, md_store_group_t group, const char *name, const test_set_t *set,
                   apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    ck_assert_int_eq(md_json_sets(set->tag, json, "tag", NULL), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, group, name, "md.json", MD_SV_JSON, json, 0, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, group, name, "job.json", MD_SV_TEXT, set->tag, 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, group, name, "pubcert.pem", MD_SV_CHAIN, set->chain, 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, group, name, "privkey.pem", MD_SV_PKEY, set->pkey, 0, NULL, p),
                     APR_SUCCESS);
}

int test_set_is_in(md_store_t *store, md_store_group_t group, const char *name, const test_set_t *set,
                   apr_pool_t *p)
{
    md_json_t *json = NULL;
    apr_array_header_t *chain = NULL;
    const char *text = NULL;
    md_pkey_t *pkey = NULL;
    md_cert_t *cert, *want = APR_ARRAY_IDX(set->chain, 0, md_cert_t *);

    if (md_store_load((void **)&json, store, group, name, "md.json", MD_SV_JSON, NULL, p) != APR_SUCCESS
        || md_store_load((void **)&text, store, group, name, "job.json", MD_SV_TEXT, NULL, p) != APR_SUCCESS
        || md_store_load((void **)&chain, store, group, name, "pubcert.pem", MD_SV_CHAIN, NULL, p)
           != APR_SUCCESS
        || md_store_load((void **)&pkey, store, group, name, "privkey.pem", MD_SV_PKEY, NULL, p)
           != APR_SUCCESS) {
        return 0;
    }
    cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
    return md_json_gets(json, "tag", NULL) && !strcmp(md_json_gets(json, "tag", NULL), set->tag)
           && !strcmp(text, set->tag)
           && !strcmp(md_cert_get_sha256_fingerprint(cert, p), md_cert_get_sha256_fingerprint(want, p))
           && md_cert_matches_key(cert, pkey);
}

typedef struct {
    int crash_at;
    const char *crash_what;
    int last;
} crash_t;

static void crash_cb(void *baton, int step, const char *what)
{
    crash_t *c = baton;

    if (!what || !*what || step != c->last + 1) _exit(TEST_CHILD_BAD_STEP);
    c->last = step;
    if (step == c->crash_at || (c->crash_what && !strcmp(what, c->crash_what))) _exit(TEST_CHILD_CRASHED);
}

int test_activate_child(md_store_t *store, const char *name, int crash_at, const char *crash_what)
{
    int status = 0;
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        apr_pool_t *cp = NULL;
        crash_t c = { crash_at, crash_what, 0 };
        apr_status_t rv;

        if (apr_pool_create(&cp, NULL) != APR_SUCCESS) _exit(TEST_CHILD_FAILED);
        rv = md_store_activate(store, name, crash_cb, &c, NULL, cp);
        _exit(rv == APR_SUCCESS ? TEST_CHILD_DONE : (rv == APR_ENOENT ? TEST_CHILD_NOTHING : TEST_CHILD_FAILED));
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

int test_dir_count(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int n = 0;

    if (!d) return -1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) ++n;
    }
    closedir(d);
    return n;
}

int test_file_mode(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0) return -1;
    return (int)(st.st_mode & 07777);
}

static const char *fname(md_store_t *store, md_store_group_t group, const char *name, const char *aspect,
                         apr_pool_t *p)
{
    const char *path = NULL;

    ck_assert_int_eq(md_store_get_fname(&path, store, group, name, aspect, p), APR_SUCCESS);
    return path;
}

static const char *read_text(const char *path, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len = 0;

    ck_assert_int_eq(md_file_read(&data, &len, path, p), APR_SUCCESS);
    return data;
}

/* ---- open ---- */

/* A file as a writer killed mid-write leaves it: DIR/.NAME.tmp.PID.XXXXXX. */
static const char *leave_temp(const char *dir, pid_t pid, apr_pool_t *p)
{
    const char *path = md_file_join(p, dir, apr_psprintf(p, ".ari.json.tmp.%ld.AbC123", (long)pid), NULL);
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs("{", f);
    fclose(f);
    return path;
}

/* opening the store removes what writers killed mid-write left behind (here: in ocsp/NAME, the ARI cache): a
 * writer marks itself in writers/ before its first temporary file, and a marker whose process is gone makes the
 * next open sweep the store */
START_TEST(open_sweeps_dead_temps)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *leftover, *odir = md_file_join(p, dir, "ocsp", "example.org", NULL);
    md_store_t *store = test_store_open(dir, p);
    pid_t pid;
    int status = -1;

    (void)store;
    ck_assert_int_eq(md_file_mkdirs(odir, 0700, p), APR_SUCCESS);
    pid = fork();
    if (pid == 0) {
        /* a writer: its first write marks it; then it dies mid-write (no exit handlers) */
        if (md_file_write_atomic(md_file_join(p, odir, "ari.json", NULL), "{}", 2, MD_FPERMS_PUBLIC, p) != APR_SUCCESS
            || !md_file_is(md_file_join(p, dir, "writers", apr_psprintf(p, "%ld", (long)getpid()), NULL), APR_REG, p)
                == APR_SUCCESS) {
            _exit(1);
        }
        leave_temp(odir, getpid(), p);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(status, 0);
    leftover = md_file_join(p, odir, apr_psprintf(p, ".ari.json.tmp.%ld.AbC123", (long)pid), NULL);
    ck_assert_int_eq(md_file_is(leftover, APR_REG, p), APR_SUCCESS);
    store = test_store_open(dir, p);
    ck_assert_int_eq(md_file_is(leftover, APR_REG, p), APR_ENOENT);
    ck_assert_int_eq(md_file_is(md_file_join(p, dir, "writers", apr_psprintf(p, "%ld", (long)pid), NULL), APR_REG, p),
                     APR_ENOENT);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* a writer that ends removes its marker; with no marked writer dead, an open does not look into every directory
 * (a leftover of an unmarked process stays), until the last sweep is a day old: then it goes */
START_TEST(open_sweeps_daily_without_dead_writer)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *leftover, *odir = md_file_join(p, dir, "ocsp", "example.org", NULL);
    const char *stamp = md_file_join(p, dir, "writers", ".swept", NULL);
    md_store_t *store = test_store_open(dir, p);
    struct timeval old[2];
    pid_t pid;
    int status = -1;

    (void)store;
    ck_assert_int_eq(md_file_mkdirs(odir, 0700, p), APR_SUCCESS);
    pid = fork();
    if (pid == 0) {
        md_file_write_atomic(md_file_join(p, odir, "ari.json", NULL), "{}", 2, MD_FPERMS_PUBLIC, p);
        md_store_writers_done();    /* what exit() does (atexit); no exit() here: the sanitizers' leak check */
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(md_file_is(md_file_join(p, dir, "writers", apr_psprintf(p, "%ld", (long)pid), NULL), APR_REG, p),
                     APR_ENOENT);
    leftover = leave_temp(odir, pid, p);
    store = test_store_open(dir, p);
    ck_assert_int_eq(md_file_is(leftover, APR_REG, p), APR_SUCCESS);
    memset(old, 0, sizeof(old));
    old[0].tv_sec = old[1].tv_sec = time(NULL) - 25 * 3600;
    ck_assert_int_eq(utimes(stamp, old), 0);
    store = test_store_open(dir, p);
    ck_assert_int_eq(md_file_is(leftover, APR_REG, p), APR_ENOENT);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(open_creates_layout)
{
    static const struct { md_store_group_t group; int mode; } dirs[] = {
        { MD_SG_ACCOUNTS, 0750 }, { MD_SG_CHALLENGES, 0750 }, { MD_SG_OCSP, 0750 }, { MD_SG_STAGING, 0755 },
        { MD_SG_DOMAINS, 0700 }, { MD_SG_ARCHIVE, 0700 }, { MD_SG_TMP, 0700 },
    };
    apr_pool_t *p = md_test_pool();
    const char *top = md_test_mkdtemp(p), *dir = md_file_join(p, top, "md", NULL);
    md_store_t *store;
    md_json_t *json = NULL;
    unsigned char *key = NULL;
    apr_size_t key_len = 0, i;
    mode_t old_mask = umask(077);   /* the modes must not depend on the umask */

    store = test_store_open(dir, p);
    umask(old_mask);
    ck_assert_str_eq(md_store_base_dir(store), dir);
    ck_assert_int_eq(test_file_mode(dir), 0755);
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); ++i) {
        const char *gdir = md_file_join(p, dir, md_store_group_name(dirs[i].group), NULL);
        ck_assert_msg(test_file_mode(gdir) == dirs[i].mode, "%s: mode %o", gdir, test_file_mode(gdir));
    }
    ck_assert_int_eq(test_file_mode(md_file_join(p, dir, "md_store.json", NULL)), 0600);
    ck_assert_int_eq(md_json_readf(&json, md_file_join(p, dir, "md_store.json", NULL), NULL, p), APR_SUCCESS);
    ck_assert(md_json_is(MD_JSON_TYPE_REAL, json, "store", "version", NULL));
    ck_assert(md_json_getn(json, "store", "version", NULL) == 3.0);
    ck_assert_int_eq(md_b64url_decode(&key, &key_len, md_json_gets(json, "key", NULL), p), APR_SUCCESS);
    ck_assert_int_eq(key_len, 48);
    ck_assert_int_eq(test_file_mode(md_file_join(p, dir, "writers", NULL)), 0755);
    ck_assert_int_eq(test_dir_count(dir), 9);
    md_test_rmdir(top, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(reopen_keeps_key)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *before, *after;
    md_store_t *store = test_store_open(dir, p);
    md_pkey_t *pkey = test_store_gen_key(p), *loaded = NULL;

    before = read_text(md_file_join(p, dir, "md_store.json", NULL), p);
    ck_assert_int_eq(md_store_save(store, MD_SG_ACCOUNTS, "ACME-x-0000", "account.pem", MD_SV_PKEY, pkey, 0,
                                   NULL, p), APR_SUCCESS);
    store = test_store_open(dir, p);
    after = read_text(md_file_join(p, dir, "md_store.json", NULL), p);
    ck_assert_str_eq(before, after);
    ck_assert_int_eq(md_store_load((void **)&loaded, store, MD_SG_ACCOUNTS, "ACME-x-0000", "account.pem",
                                   MD_SV_PKEY, NULL, p), APR_SUCCESS);
    ck_assert(EVP_PKEY_eq(md_pkey_get_EVP_PKEY(pkey), md_pkey_get_EVP_PKEY(loaded)) == 1);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* issue 15: after md_store.json was lost, a new key was made silently and the accounts could no longer be read
 * ("account show" said [] with exit 0). With encrypted keys in the store, opening it is an error that says how to
 * recover; without any (keys in domains/ are plain) a new md_store.json is made as before. */
START_TEST(lost_store_key_refused)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *fpath = md_file_join(p, dir, "md_store.json", NULL), *before;
    md_store_t *store = test_store_open(dir, p);
    md_pkey_t *pkey = test_store_gen_key(p);
    md_result_t *result = md_result_make(p);

    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, "example.org", "privkey.pem", MD_SV_PKEY, pkey, 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, MD_SG_ACCOUNTS, "ACME-x-0000", "account.pem", MD_SV_PKEY, pkey, 0, NULL,
                                   p), APR_SUCCESS);
    before = read_text(fpath, p);
    ck_assert_int_eq(unlink(fpath), 0);
    store = NULL;
    ck_assert_int_eq(md_store_fs_open(&store, dir, result, p), APR_ENOENT);
    ck_assert_ptr_null(store);
    ck_assert_msg(strstr(result->detail, apr_pstrcat(p, fpath, " is missing, but the store holds keys encrypted with "
                                                     "the key it had (", dir, "/accounts/ACME-x-0000/account.pem): "
                                                     "restore md_store.json from a backup", NULL))
                  && strstr(result->detail, "docs/store.md"), "%s", result->detail);
    ck_assert_int_ne(access(fpath, F_OK), 0);           /* no new key */
    /* restored: opens, the account's key is read */
    ck_assert_int_eq(md_file_write_atomic(fpath, before, strlen(before), 0600, p), APR_SUCCESS);
    store = test_store_open(dir, p);
    /* given up: accounts/ moved away, a new key, domains/ as it was */
    ck_assert_int_eq(unlink(fpath), 0);
    ck_assert_int_eq(rename(md_file_join(p, dir, "accounts", NULL), md_file_join(p, dir, "accounts.old", NULL)), 0);
    store = test_store_open(dir, p);
    ck_assert_str_ne(read_text(fpath, p), before);
    ck_assert_int_eq(md_store_load((void **)&pkey, store, MD_SG_DOMAINS, "example.org", "privkey.pem", MD_SV_PKEY,
                                   NULL, p), APR_SUCCESS);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(open_corrupt_store_json)
{
    static const char *const bad[] = {
        "{\"store\": {\"version\": 3.0}, \"key\": ",                   /* truncated */
        "",                                                             /* empty */
        "{\"store\": {\"version\": 3.0}, \"key\": \"AAAA\"}",          /* short key */
        "{\"store\": {\"version\": 4.0}, \"key\": \"AAAA\"}",          /* newer version */
        "{\"key\": \"AAAA\"}",                                          /* no version */
    };
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *fpath = md_file_join(p, dir, "md_store.json", NULL);
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        md_result_t *result = md_result_make(p);
        md_store_t *store = NULL;
        ck_assert_int_eq(md_file_write_atomic(fpath, bad[i], strlen(bad[i]), 0600, p), APR_SUCCESS);
        ck_assert_int_eq(md_store_fs_open(&store, dir, result, p), APR_EINVAL);
        ck_assert_ptr_null(store);
        ck_assert_ptr_nonnull(result->detail);
        ck_assert_msg(strstr(result->detail, fpath) != NULL, "detail: %s", result->detail);
        ck_assert_str_eq(read_text(fpath, p), bad[i]);
    }
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* ---- values ---- */

START_TEST(save_load_every_group)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);
    test_set_t *set = test_set_make("CN=values", p);
    md_cert_t *cert = NULL;
    int g;

    for (g = MD_SG_NONE; g < MD_SG_COUNT; ++g) {
        md_store_group_t group = (md_store_group_t)g;
        test_set_save(store, group, "example.org", set, p);
        ck_assert_msg(test_set_is_in(store, group, "example.org", set, p), "group %s", md_store_group_name(group));
        ck_assert_int_eq(md_store_save(store, group, "example.org", "cert.pem", MD_SV_CERT,
                                       APR_ARRAY_IDX(set->chain, 0, md_cert_t *), 0, NULL, p), APR_SUCCESS);
        ck_assert_int_eq(md_store_load((void **)&cert, store, group, "example.org", "cert.pem", MD_SV_CERT,
                                       NULL, p), APR_SUCCESS);
        ck_assert(md_cert_matches_key(cert, set->pkey));
        ck_assert(md_store_exists(store, group, "example.org", "md.json", p));
        ck_assert(md_store_get_modified(store, group, "example.org", "md.json", p) > 0);
    }
    /* a file directly in a group (no name) */
    ck_assert_int_eq(md_store_save(store, MD_SG_NONE, NULL, "httpd.json", MD_SV_TEXT, "{}", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(test_file_mode(md_file_join(p, dir, "httpd.json", NULL)), 0600);
    ck_assert_int_eq(md_store_get_modified(store, MD_SG_DOMAINS, "nope", "md.json", p), 0);
    ck_assert(!md_store_exists(store, MD_SG_DOMAINS, "nope", "md.json", p));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(keys_encrypted_by_group)
{
    static const struct { md_store_group_t group; int encrypted; } cases[] = {
        { MD_SG_ACCOUNTS, 1 }, { MD_SG_STAGING, 1 }, { MD_SG_CHALLENGES, 0 }, { MD_SG_OCSP, 1 },
        { MD_SG_NONE, 1 }, { MD_SG_DOMAINS, 0 }, { MD_SG_ARCHIVE, 0 }, { MD_SG_TMP, 0 },
    };
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *path, *pem;
    md_store_t *store = test_store_open(dir, p), *other;
    md_pkey_t *pkey = test_store_gen_key(p), *loaded = NULL;
    md_result_t *result = md_result_make(p);
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        ck_assert_int_eq(md_store_save(store, cases[i].group, "x", "privkey.pem", MD_SV_PKEY, pkey, 0, NULL, p),
                         APR_SUCCESS);
        path = fname(store, cases[i].group, "x", "privkey.pem", p);
        pem = read_text(path, p);
        ck_assert_int_eq(test_file_mode(path), 0600);
        if (cases[i].encrypted) ck_assert(!strncmp(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37));
        else ck_assert(!strncmp(pem, "-----BEGIN PRIVATE KEY-----", 27));
        ck_assert_int_eq(md_store_load((void **)&loaded, store, cases[i].group, "x", "privkey.pem",
                                       MD_SV_PKEY, NULL, p), APR_SUCCESS);
        ck_assert(EVP_PKEY_eq(md_pkey_get_EVP_PKEY(pkey), md_pkey_get_EVP_PKEY(loaded)) == 1);
    }
    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, "x", "md.json", MD_SV_JSON, md_json_create(p), 0,
                                   NULL, p), APR_SUCCESS);
    ck_assert_int_eq(test_file_mode(fname(store, MD_SG_DOMAINS, "x", "md.json", p)), 0600);
    ck_assert_int_eq(test_file_mode(fname(store, MD_SG_DOMAINS, "x", NULL, p)), 0700);
    /* another store has another key: the encrypted key does not open */
    other = test_store_open(md_test_mkdtemp(p), p);
    path = fname(store, MD_SG_ACCOUNTS, "x", "privkey.pem", p);
    ck_assert_int_eq(md_file_write_atomic(fname(other, MD_SG_ACCOUNTS, NULL, "k.pem", p), read_text(path, p),
                                          strlen(read_text(path, p)), 0600, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_load((void **)&loaded, other, MD_SG_ACCOUNTS, NULL, "k.pem", MD_SV_PKEY, result,
                                   p), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(result->detail, "k.pem"));
    md_test_rmdir(md_store_base_dir(other), p);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(load_corrupt_and_missing)
{
    static const struct { const char *aspect; md_store_vtype_t vtype; const char *data; } cases[] = {
        { "md.json", MD_SV_JSON, "{\"name\": " },
        { "pubcert.pem", MD_SV_CHAIN, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" },
        { "cert.pem", MD_SV_CERT, "no pem here\n" },
        { "privkey.pem", MD_SV_PKEY, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" },
    };
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);
    void *value = NULL;
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        md_result_t *result = md_result_make(p);
        ck_assert_int_eq(md_store_load(&value, store, MD_SG_DOMAINS, "x", cases[i].aspect, cases[i].vtype,
                                       result, p), APR_ENOENT);
        ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, "x", cases[i].aspect, MD_SV_TEXT, cases[i].data,
                                       0, NULL, p), APR_SUCCESS);
        ck_assert_int_eq(md_store_load(&value, store, MD_SG_DOMAINS, "x", cases[i].aspect, cases[i].vtype,
                                       result, p), APR_EINVAL);
        ck_assert_ptr_null(value);
        ck_assert_int_eq(result->status, APR_EINVAL);
        ck_assert_msg(strstr(result->detail, fname(store, MD_SG_DOMAINS, "x", cases[i].aspect, p)) != NULL,
                      "detail: %s", result->detail);
    }
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(create_only_and_remove)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *text = NULL;
    md_store_t *store = test_store_open(dir, p);

    ck_assert_int_eq(md_store_save(store, MD_SG_ACCOUNTS, "a", "account.json", MD_SV_TEXT, "one", 1, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, MD_SG_ACCOUNTS, "a", "account.json", MD_SV_TEXT, "two", 1, NULL, p),
                     APR_EEXIST);
    ck_assert_int_eq(md_store_load((void **)&text, store, MD_SG_ACCOUNTS, "a", "account.json", MD_SV_TEXT,
                                   NULL, p), APR_SUCCESS);
    ck_assert_str_eq(text, "one");
    ck_assert_int_eq(md_store_save(store, MD_SG_ACCOUNTS, "a", "account.json", MD_SV_TEXT, "two", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_load((void **)&text, store, MD_SG_ACCOUNTS, "a", "account.json", MD_SV_TEXT,
                                   NULL, p), APR_SUCCESS);
    ck_assert_str_eq(text, "two");
    ck_assert_int_eq(test_file_mode(fname(store, MD_SG_ACCOUNTS, "a", "account.json", p)), 0640);

    ck_assert_int_eq(md_store_remove(store, MD_SG_ACCOUNTS, "a", "account.json", 0, p), APR_SUCCESS);
    ck_assert(!md_store_exists(store, MD_SG_ACCOUNTS, "a", "account.json", p));
    ck_assert_int_eq(md_store_remove(store, MD_SG_ACCOUNTS, "a", "account.json", 0, p), APR_ENOENT);
    ck_assert_int_eq(md_store_remove(store, MD_SG_ACCOUNTS, "a", "account.json", 1, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_remove(store, MD_SG_ACCOUNTS, "nope", "account.json", 0, p), APR_ENOENT);
    ck_assert_int_eq(md_store_remove(store, MD_SG_ACCOUNTS, "nope", "account.json", 1, p), APR_SUCCESS);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(purge_removes_all)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);

    ck_assert_int_eq(md_store_save(store, MD_SG_STAGING, "x", "a", MD_SV_TEXT, "1", 0, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, MD_SG_STAGING, "x", "b", MD_SV_TEXT, "2", 0, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, MD_SG_TMP, "y", "b", MD_SV_TEXT, "2", 0, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_purge(store, MD_SG_STAGING, "x", p), APR_SUCCESS);
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "x", NULL, p));
    ck_assert_int_eq(md_store_purge(store, MD_SG_TMP, "y", p), APR_SUCCESS);
    ck_assert_int_eq(test_dir_count(md_file_join(p, dir, "tmp", NULL)), 0);
    ck_assert_int_eq(md_store_purge(store, MD_SG_STAGING, "x", p), APR_SUCCESS);   /* missing is fine */
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

static const char *joined(const apr_array_header_t *a, apr_pool_t *p)
{
    return apr_array_pstrcat(p, a, ',');
}

START_TEST(list_names_and_aspects)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);
    apr_array_header_t *names = NULL;
    static const char *const doms[] = { "b.org", "a.org", "c.net", "a.net" };
    apr_size_t i;

    for (i = 0; i < sizeof(doms) / sizeof(doms[0]); ++i) {
        ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, doms[i], "md.json", MD_SV_TEXT, "{}", 0, NULL, p),
                         APR_SUCCESS);
    }
    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, "a.org", ".hidden", MD_SV_TEXT, "x", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, "a.org", "pubcert.pem", MD_SV_TEXT, "x", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_list(&names, store, MD_SG_DOMAINS, "*", p), APR_SUCCESS);
    ck_assert_str_eq(joined(names, p), "a.net,a.org,b.org,c.net");
    ck_assert_int_eq(md_store_list(&names, store, MD_SG_DOMAINS, "*.org", p), APR_SUCCESS);
    ck_assert_str_eq(joined(names, p), "a.org,b.org");
    ck_assert_int_eq(md_store_list(&names, store, MD_SG_DOMAINS, "x*", p), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 0);
    ck_assert_int_eq(md_store_list(&names, store, MD_SG_ARCHIVE, "*", p), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 0);
    ck_assert_int_eq(md_store_list_aspects(&names, store, MD_SG_DOMAINS, "a.org", "*", p), APR_SUCCESS);
    ck_assert_str_eq(joined(names, p), "md.json,pubcert.pem");
    ck_assert_int_eq(md_store_list_aspects(&names, store, MD_SG_DOMAINS, "a.org", "*.pem", p), APR_SUCCESS);
    ck_assert_str_eq(joined(names, p), "pubcert.pem");
    ck_assert_int_eq(md_store_list_aspects(&names, store, MD_SG_DOMAINS, "a.org", ".*", p), APR_SUCCESS);
    ck_assert_str_eq(joined(names, p), ".hidden");
    /* the temp file of a write that crashed is never listed, not even by a pattern that matches it */
    ck_assert_int_eq(md_file_write_atomic(md_file_join(p, dir, "domains", "a.org", ".md.json.tmp.Ab12Cd", NULL),
                                          "{", 1, 0600, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_list_aspects(&names, store, MD_SG_DOMAINS, "a.org", ".*", p), APR_SUCCESS);
    ck_assert_str_eq(joined(names, p), ".hidden");
    ck_assert_int_eq(md_store_list_aspects(&names, store, MD_SG_DOMAINS, "zz", "*", p), APR_ENOENT);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(move_with_archive)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *text = NULL;
    md_store_t *store = test_store_open(dir, p);
    apr_array_header_t *names = NULL;
    static const char *const gen[] = { "one", "two", "three" };
    int i;

    ck_assert_int_eq(md_store_move(store, MD_SG_STAGING, MD_SG_DOMAINS, "x", 1, p), APR_ENOENT);
    for (i = 0; i < 3; ++i) {
        ck_assert_int_eq(md_store_save(store, MD_SG_STAGING, "x", "md.json", MD_SV_TEXT, gen[i], 0, NULL, p),
                         APR_SUCCESS);
        if (i > 0) {
            ck_assert_int_eq(md_store_move(store, MD_SG_STAGING, MD_SG_DOMAINS, "x", 0, p), APR_EEXIST);
            ck_assert(md_store_exists(store, MD_SG_STAGING, "x", "md.json", p));
        }
        ck_assert_int_eq(md_store_move(store, MD_SG_STAGING, MD_SG_DOMAINS, "x", 1, p), APR_SUCCESS);
        ck_assert(!md_store_exists(store, MD_SG_STAGING, "x", NULL, p));
    }
    ck_assert_int_eq(md_store_load((void **)&text, store, MD_SG_DOMAINS, "x", "md.json", MD_SV_TEXT, NULL, p),
                     APR_SUCCESS);
    ck_assert_str_eq(text, "three");
    ck_assert_int_eq(md_store_list(&names, store, MD_SG_ARCHIVE, "*", p), APR_SUCCESS);
    ck_assert_str_eq(joined(names, p), "x.1,x.2");
    ck_assert_int_eq(md_store_load((void **)&text, store, MD_SG_ARCHIVE, "x.1", "md.json", MD_SV_TEXT, NULL, p),
                     APR_SUCCESS);
    ck_assert_str_eq(text, "one");
    ck_assert_int_eq(md_store_load((void **)&text, store, MD_SG_ARCHIVE, "x.2", "md.json", MD_SV_TEXT, NULL, p),
                     APR_SUCCESS);
    ck_assert_str_eq(text, "two");
    /* archiving a whole set takes the next number */
    ck_assert_int_eq(md_store_archive(&text, store, MD_SG_DOMAINS, "x", p), APR_SUCCESS);
    ck_assert_str_eq(text, "x.3");
    ck_assert(!md_store_exists(store, MD_SG_DOMAINS, "x", NULL, p));
    ck_assert_int_eq(md_store_archive(&text, store, MD_SG_DOMAINS, "x", p), APR_ENOENT);
    ck_assert_int_eq(md_store_archive(NULL, store, MD_SG_DOMAINS, "../x", p), APR_EINVAL);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* A rename within a group: atomic, replaces nothing, and keeps what the set holds. */
START_TEST(rename_in_group)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *text = NULL;
    md_store_t *store = test_store_open(dir, p);

    ck_assert_int_eq(md_store_rename(store, MD_SG_DOMAINS, "old", "new", p), APR_ENOENT);
    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, "old", "md.json", MD_SV_TEXT, "old set", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, "other", "md.json", MD_SV_TEXT, "other", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_rename(store, MD_SG_DOMAINS, "old", "other", p), APR_EEXIST);
    ck_assert_int_eq(md_store_rename(store, MD_SG_DOMAINS, "old", "new", p), APR_SUCCESS);
    ck_assert(!md_store_exists(store, MD_SG_DOMAINS, "old", NULL, p));
    ck_assert_int_eq(md_store_load((void **)&text, store, MD_SG_DOMAINS, "new", "md.json", MD_SV_TEXT, NULL, p),
                     APR_SUCCESS);
    ck_assert_str_eq(text, "old set");
    ck_assert_int_eq(md_store_load((void **)&text, store, MD_SG_DOMAINS, "other", "md.json", MD_SV_TEXT, NULL, p),
                     APR_SUCCESS);
    ck_assert_str_eq(text, "other");
    ck_assert_int_eq(md_store_rename(store, MD_SG_DOMAINS, "new", "../x", p), APR_EINVAL);
    ck_assert_int_eq(md_store_rename(store, MD_SG_NONE, "new", "x", p), APR_EINVAL);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(bad_names_rejected)
{
    static const char *const bad[] = { "", ".", "..", "../x", "a/b", "/etc", "x/.." };
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *path = NULL;
    md_store_t *store = test_store_open(dir, p);
    void *value = NULL;
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        const char *b = bad[i];
        ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, b, "md.json", MD_SV_TEXT, "x", 0, NULL, p),
                         APR_EINVAL);
        ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, "x", b, MD_SV_TEXT, "x", 0, NULL, p), APR_EINVAL);
        ck_assert_int_eq(md_store_load(&value, store, MD_SG_DOMAINS, b, "md.json", MD_SV_TEXT, NULL, p),
                         APR_EINVAL);
        ck_assert_int_eq(md_store_load(&value, store, MD_SG_DOMAINS, "x", b, MD_SV_TEXT, NULL, p), APR_EINVAL);
        ck_assert_int_eq(md_store_get_fname(&path, store, MD_SG_DOMAINS, b, "md.json", p), APR_EINVAL);
        ck_assert_int_eq(md_store_remove(store, MD_SG_DOMAINS, "x", b, 1, p), APR_EINVAL);
        ck_assert_int_eq(md_store_purge(store, MD_SG_DOMAINS, b, p), APR_EINVAL);
        ck_assert_int_eq(md_store_move(store, MD_SG_STAGING, MD_SG_DOMAINS, b, 1, p), APR_EINVAL);
        ck_assert_int_eq(md_store_activate(store, b, NULL, NULL, NULL, p), APR_EINVAL);
        ck_assert(!md_store_exists(store, MD_SG_DOMAINS, b, NULL, p));
    }
    ck_assert_int_eq(test_dir_count(md_file_join(p, dir, "domains", NULL)), 0);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("fs");

    tcase_set_timeout(tc, STORE_TIMEOUT);
    tcase_add_test(tc, open_creates_layout);
    tcase_add_test(tc, open_sweeps_dead_temps);
    tcase_add_test(tc, open_sweeps_daily_without_dead_writer);
    tcase_add_test(tc, reopen_keeps_key);
    tcase_add_test(tc, open_corrupt_store_json);
    tcase_add_test(tc, lost_store_key_refused);
    tcase_add_test(tc, save_load_every_group);
    tcase_add_test(tc, keys_encrypted_by_group);
    tcase_add_test(tc, load_corrupt_and_missing);
    tcase_add_test(tc, create_only_and_remove);
    tcase_add_test(tc, purge_removes_all);
    tcase_add_test(tc, list_names_and_aspects);
    tcase_add_test(tc, move_with_archive);
    tcase_add_test(tc, rename_in_group);
    tcase_add_test(tc, bad_names_rejected);
    suite_add_tcase(s, tc);
    test_store_add_activate_tcases(s);
    test_store_add_flush_tcases(s);
    test_store_add_many_tcases(s);
    return s;
}
