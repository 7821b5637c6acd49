/* Unit tests of the store's activation: validation, the swap, and crashes at every step (test_activate_child). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "md_file.h"
#include "md_json.h"
#include "md_pkey.h"
#include "md_result.h"
#include "test_common.h"
#include "test_store.h"

#define ACTIVATE_TIMEOUT 600
#define NAME "example.org"
#define MAX_STEPS 64
/* Steps a replacement takes at least: id, 5 copies, ready, swap, archive, unstaged, cleaned. */
#define MIN_REPLACE_STEPS 11

typedef struct {
    const char *dir;
    md_store_t *store;
    const test_set_t *old_set;   /* NULL: first activation */
    const test_set_t *new_set;
} scene_t;

static void scene_setup(scene_t *sc, const test_set_t *old_set, const test_set_t *new_set, apr_pool_t *p)
{
    sc->dir = md_test_mkdtemp(p);
    sc->store = test_store_open(sc->dir, p);
    sc->old_set = old_set;
    sc->new_set = new_set;
    if (old_set) test_set_save(sc->store, MD_SG_DOMAINS, NAME, old_set, p);
    test_set_save(sc->store, MD_SG_STAGING, NAME, new_set, p);
}

static const char *gpath(const scene_t *sc, md_store_group_t group, const char *name, apr_pool_t *p)
{
    const char *path = NULL;

    ck_assert_int_eq(md_store_get_fname(&path, sc->store, group, name, NULL, p), APR_SUCCESS);
    return path;
}

static int in(const scene_t *sc, md_store_group_t group, const char *name, const test_set_t *set,
              apr_pool_t *p)
{
    return set && test_set_is_in(sc->store, group, name, set, p);
}

/* After a crash: domains/NAME is the old set or the new one (or, with the two-rename fallback, missing
 * while both sets wait in tmp/), and neither set is lost. Returns 1 when the fallback gap was seen. */
static int check_interrupted(const scene_t *sc, int allow_gap, apr_pool_t *p)
{
    const char *ready = NAME ".ready", *old = NAME ".old";
    int d_old = in(sc, MD_SG_DOMAINS, NAME, sc->old_set, p);
    int d_new = in(sc, MD_SG_DOMAINS, NAME, sc->new_set, p);
    int d_missing = !md_store_exists(sc->store, MD_SG_DOMAINS, NAME, NULL, p);
    int gap = d_missing && in(sc, MD_SG_TMP, old, sc->old_set, p) && in(sc, MD_SG_TMP, ready, sc->new_set, p);

    if (sc->old_set) ck_assert_msg(d_old || d_new || (allow_gap && gap), "domains/" NAME " is broken");
    else ck_assert_msg(d_missing || d_new, "domains/" NAME " is broken");
    ck_assert_msg(d_new || in(sc, MD_SG_STAGING, NAME, sc->new_set, p) || gap, "the new set is lost");
    if (sc->old_set) {
        ck_assert_msg(d_old || in(sc, MD_SG_TMP, ready, sc->old_set, p) || in(sc, MD_SG_TMP, old, sc->old_set, p)
                      || in(sc, MD_SG_ARCHIVE, NAME ".1", sc->old_set, p), "the old set is lost");
    }
    return gap;
}

static void check_domain_files(const scene_t *sc, apr_pool_t *p)
{
    const char *dir = gpath(sc, MD_SG_DOMAINS, NAME, p);
    apr_array_header_t *names = NULL;
    char *pem = NULL;
    apr_size_t len;
    int i;

    ck_assert_int_eq(test_file_mode(dir), 0700);
    ck_assert_int_eq(md_store_list_aspects(&names, sc->store, MD_SG_DOMAINS, NAME, "*", p), APR_SUCCESS);
    ck_assert_str_eq(apr_array_pstrcat(p, names, ','), "job.json,md.json,privkey.pem,pubcert.pem");
    ck_assert_int_eq(test_dir_count(dir), 5);   /* and .activation, kept */
    for (i = 0; i < names->nelts; ++i) {
        const char *f = md_file_join(p, dir, APR_ARRAY_IDX(names, i, const char *), NULL);
        ck_assert_msg(test_file_mode(f) == 0600, "%s: mode %o", f, test_file_mode(f));
    }
    ck_assert_int_eq(md_file_read(&pem, &len, md_file_join(p, dir, "privkey.pem", NULL), p), APR_SUCCESS);
    ck_assert(!strncmp(pem, "-----BEGIN PRIVATE KEY-----", 27));
}

/* After recovery: the new set in domains/, the old one as archive/NAME.1, nothing else anywhere. */
static void check_final(const scene_t *sc, apr_pool_t *p)
{
    apr_array_header_t *names = NULL;

    ck_assert_msg(in(sc, MD_SG_DOMAINS, NAME, sc->new_set, p), "domains/" NAME " is not the new set");
    check_domain_files(sc, p);
    ck_assert_int_eq(md_store_list(&names, sc->store, MD_SG_ARCHIVE, ".*", p), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 0);
    ck_assert_int_eq(md_store_list(&names, sc->store, MD_SG_ARCHIVE, "*", p), APR_SUCCESS);
    if (sc->old_set) {
        ck_assert_str_eq(apr_array_pstrcat(p, names, ','), NAME ".1");
        ck_assert_msg(in(sc, MD_SG_ARCHIVE, NAME ".1", sc->old_set, p), "archive/" NAME ".1 is not the old set");
    }
    else {
        ck_assert_int_eq(names->nelts, 0);
    }
    ck_assert_int_eq(test_dir_count(gpath(sc, MD_SG_STAGING, NULL, p)), 0);
    ck_assert_int_eq(test_dir_count(gpath(sc, MD_SG_TMP, NULL, p)), 0);
}

static void recover(scene_t *sc, int via_activate, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    apr_status_t rv;

    if (via_activate) {
        rv = md_store_activate(sc->store, NAME, NULL, NULL, result, p);
        ck_assert_msg(rv == APR_SUCCESS || rv == APR_ENOENT, "activate: %d %s", rv,
                      result->detail ? result->detail : "");
    }
    else {
        sc->store = test_store_open(sc->dir, p);
    }
}

/* Crash after step n for n = 1, 2, ... until the activation no longer reaches n; recover; check.
 * Returns the number of times the fallback gap was seen. */
static int crash_loop(const test_set_t *old_set, const test_set_t *new_set, int via_activate, int allow_gap,
                      apr_pool_t *p)
{
    scene_t sc;
    int n, rc, gaps = 0, done = 0;

    for (n = 1; n < MAX_STEPS && !done; ++n) {
        apr_pool_t *ip = NULL;
        apr_pool_create(&ip, p);
        scene_setup(&sc, old_set, new_set, ip);
        rc = test_activate_child(sc.store, NAME, n, NULL);
        if (rc == TEST_CHILD_DONE) {
            done = 1;
        }
        else {
            ck_assert_msg(rc == TEST_CHILD_CRASHED, "step %d: child exit %d", n, rc);
            gaps += check_interrupted(&sc, allow_gap, ip);
            recover(&sc, via_activate, ip);
        }
        check_final(&sc, ip);
        md_test_rmdir(sc.dir, ip);
        apr_pool_destroy(ip);
    }
    ck_assert(done);
    ck_assert_int_ge(n - 2, old_set ? MIN_REPLACE_STEPS : MIN_REPLACE_STEPS - 1);
    return gaps;
}

/* Crash after step n, then crash the resumed activation after its step m; recover; check. */
static void double_crash_loop(const test_set_t *old_set, const test_set_t *new_set, int allow_gap,
                              apr_pool_t *p)
{
    scene_t sc;
    int n, m, rc, done_n = 0, done_m;

    for (n = 1; n < MAX_STEPS && !done_n; ++n) {
        for (m = 1, done_m = 0; m < MAX_STEPS && !done_m; ++m) {
            apr_pool_t *ip = NULL;
            apr_pool_create(&ip, p);
            scene_setup(&sc, old_set, new_set, ip);
            rc = test_activate_child(sc.store, NAME, n, NULL);
            if (rc == TEST_CHILD_DONE) {
                done_n = done_m = 1;
            }
            else {
                ck_assert_int_eq(rc, TEST_CHILD_CRASHED);
                rc = test_activate_child(sc.store, NAME, m, NULL);
                if (rc == TEST_CHILD_DONE || rc == TEST_CHILD_NOTHING) {
                    done_m = 1;
                }
                else {
                    ck_assert_msg(rc == TEST_CHILD_CRASHED, "steps %d/%d: child exit %d", n, m, rc);
                    check_interrupted(&sc, allow_gap, ip);
                    recover(&sc, 0, ip);
                }
            }
            check_final(&sc, ip);
            md_test_rmdir(sc.dir, ip);
            apr_pool_destroy(ip);
        }
    }
    ck_assert(done_n);
}

START_TEST(crash_first_activation)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *new_set = test_set_make("CN=new", p);

    ck_assert_int_eq(crash_loop(NULL, new_set, 0, 0, p), 0);
    ck_assert_int_eq(crash_loop(NULL, new_set, 1, 0, p), 0);
    md_test_pool_done(p);
}
END_TEST

START_TEST(crash_replacement)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *old_set = test_set_make("CN=old", p), *new_set = test_set_make("CN=new", p);

    ck_assert_int_eq(crash_loop(old_set, new_set, 0, 0, p), 0);
    ck_assert_int_eq(crash_loop(old_set, new_set, 1, 0, p), 0);
    double_crash_loop(old_set, new_set, 0, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(crash_fallback)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *old_set = test_set_make("CN=old", p), *new_set = test_set_make("CN=new", p);

    setenv("MD_STORE_NO_EXCHANGE", "1", 1);
    crash_loop(NULL, new_set, 0, 1, p);
    ck_assert_int_eq(crash_loop(old_set, new_set, 0, 1, p), 1);   /* one step leaves the gap */
    ck_assert_int_eq(crash_loop(old_set, new_set, 1, 1, p), 1);
    double_crash_loop(old_set, new_set, 1, p);
    unsetenv("MD_STORE_NO_EXCHANGE");
    md_test_pool_done(p);
}
END_TEST

START_TEST(activate_twice_archives_in_order)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *s1 = test_set_make("CN=one", p), *s2 = test_set_make("CN=two", p), *s3 = test_set_make("CN=3", p);
    md_result_t *result = md_result_make(p);
    scene_t sc;

    scene_setup(&sc, s1, s2, p);
    ck_assert_int_eq(md_store_activate(sc.store, NAME, NULL, NULL, result, p), APR_SUCCESS);
    test_set_save(sc.store, MD_SG_STAGING, NAME, s3, p);
    ck_assert_int_eq(md_store_activate(sc.store, NAME, NULL, NULL, result, p), APR_SUCCESS);
    ck_assert(in(&sc, MD_SG_DOMAINS, NAME, s3, p));
    ck_assert(in(&sc, MD_SG_ARCHIVE, NAME ".1", s1, p));
    ck_assert(in(&sc, MD_SG_ARCHIVE, NAME ".2", s2, p));
    ck_assert_int_eq(md_store_activate(sc.store, NAME, NULL, NULL, result, p), APR_ENOENT);
    ck_assert_int_eq(test_dir_count(gpath(&sc, MD_SG_TMP, NULL, p)), 0);
    md_test_rmdir(sc.dir, p);
    md_test_pool_done(p);
}
END_TEST

/* The decrypted copy of a staged key is found decoded in the store's cache: the parent, which publishes each set it
 * activated to the children right after (reading domains/NAME), does not decode the key again (issue 16: one key
 * decoding per activated set less). */
START_TEST(activated_key_read_from_cache)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *s1 = test_set_make("CN=one", p);
    md_pkey_t *staged = NULL, *active = NULL;
    char *pem = NULL;
    apr_size_t len;
    scene_t sc;

    scene_setup(&sc, NULL, s1, p);
    ck_assert_int_eq(md_store_load((void **)&staged, sc.store, MD_SG_STAGING, NAME, "privkey.pem", MD_SV_PKEY, NULL,
                                   p), APR_SUCCESS);
    ck_assert_int_eq(md_store_activate(sc.store, NAME, NULL, NULL, md_result_make(p), p), APR_SUCCESS);
    /* the active key is stored decrypted, as before */
    ck_assert_int_eq(md_file_read(&pem, &len, md_file_join(p, gpath(&sc, MD_SG_DOMAINS, NAME, p), "privkey.pem",
                                                           NULL), p), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    ck_assert_int_eq(md_store_load((void **)&active, sc.store, MD_SG_DOMAINS, NAME, "privkey.pem", MD_SV_PKEY, NULL,
                                   p), APR_SUCCESS);
    ck_assert_ptr_eq(md_pkey_get_EVP_PKEY(active), md_pkey_get_EVP_PKEY(staged));
    ck_assert(in(&sc, MD_SG_DOMAINS, NAME, s1, p));
    md_test_rmdir(sc.dir, p);
    md_test_pool_done(p);
}
END_TEST

typedef struct {
    md_store_t *store;
    apr_pool_t *p;
    apr_status_t rv;
    int done;
} nested_t;

/* In the middle of one activation (its locks held), another MD's. */
static void nested_cb(void *baton, int step, const char *what)
{
    nested_t *n = baton;

    (void)step;
    if (n->done || strcmp(what, "ready")) return;
    n->done = 1;
    n->rv = md_store_activate(n->store, "other.org", NULL, NULL, md_result_make(n->p), n->p);
}

/* Activations of different MDs do not wait for each other (a drive of 1000 MDs activates them side by side): one
 * runs to its end while another holds its locks (with the store's lock held exclusively it would never start). */
START_TEST(activate_other_names_meanwhile)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *s1 = test_set_make("CN=one", p), *s2 = test_set_make("CN=two", p);
    md_result_t *result = md_result_make(p);
    nested_t n;
    scene_t sc;

    scene_setup(&sc, NULL, s1, p);
    test_set_save(sc.store, MD_SG_STAGING, "other.org", s2, p);
    memset(&n, 0, sizeof(n));
    n.store = sc.store;
    n.p = p;
    ck_assert_int_eq(md_store_activate(sc.store, NAME, nested_cb, &n, result, p), APR_SUCCESS);
    ck_assert(n.done);
    ck_assert_int_eq(n.rv, APR_SUCCESS);
    ck_assert(in(&sc, MD_SG_DOMAINS, NAME, s1, p));
    ck_assert(in(&sc, MD_SG_DOMAINS, "other.org", s2, p));
    ck_assert_int_eq(test_dir_count(gpath(&sc, MD_SG_TMP, NULL, p)), 0);
    ck_assert_int_eq(test_dir_count(gpath(&sc, MD_SG_STAGING, NULL, p)), 0);
    md_test_rmdir(sc.dir, p);
    md_test_pool_done(p);
}
END_TEST

/* With a reader group (httpd's children), the activated set is readable by it, its private key is not. */
START_TEST(activate_reader_group)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *s1 = test_set_make("CN=one", p), *s2 = test_set_make("CN=two", p);
    md_result_t *result = md_result_make(p);
    const char *dir;
    struct stat st;
    scene_t sc;

    scene_setup(&sc, s1, s2, p);
    md_store_set_reader_group(sc.store, (long)getgid());
    ck_assert_int_eq(md_store_activate(sc.store, NAME, NULL, NULL, result, p), APR_SUCCESS);
    dir = gpath(&sc, MD_SG_DOMAINS, NAME, p);
    ck_assert_int_eq(test_file_mode(dir), 0750);
    ck_assert_int_eq(test_file_mode(md_file_join(p, dir, "pubcert.pem", NULL)), 0640);
    ck_assert_int_eq(test_file_mode(md_file_join(p, dir, "md.json", NULL)), 0640);
    ck_assert_int_eq(test_file_mode(md_file_join(p, dir, "privkey.pem", NULL)), 0600);
    ck_assert_int_eq(stat(md_file_join(p, dir, "pubcert.pem", NULL), &st), 0);
    ck_assert_int_eq(st.st_gid, getgid());
    md_test_rmdir(sc.dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(activate_several_keys)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *s1 = test_set_make("CN=one", p), *s2 = test_set_make("CN=two", p);
    md_result_t *result = md_result_make(p);
    md_pkey_t *pkey = NULL;
    char *pem = NULL;
    apr_size_t len;
    scene_t sc;

    scene_setup(&sc, NULL, s1, p);
    ck_assert_int_eq(md_store_save(sc.store, MD_SG_STAGING, NAME, "privkey.secp384r1.pem", MD_SV_PKEY,
                                   s2->pkey, 0, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(sc.store, MD_SG_STAGING, NAME, "pubcert.secp384r1.pem", MD_SV_CHAIN,
                                   s2->chain, 0, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_activate(sc.store, NAME, NULL, NULL, result, p), APR_SUCCESS);
    ck_assert(in(&sc, MD_SG_DOMAINS, NAME, s1, p));
    ck_assert_int_eq(md_store_load((void **)&pkey, sc.store, MD_SG_DOMAINS, NAME, "privkey.secp384r1.pem",
                                   MD_SV_PKEY, NULL, p), APR_SUCCESS);
    ck_assert(md_cert_matches_key(APR_ARRAY_IDX(s2->chain, 0, md_cert_t *), pkey));
    ck_assert_int_eq(md_file_read(&pem, &len, md_file_join(p, gpath(&sc, MD_SG_DOMAINS, NAME, p),
                                                           "privkey.secp384r1.pem", NULL), p), APR_SUCCESS);
    ck_assert(!strncmp(pem, "-----BEGIN PRIVATE KEY-----", 27));
    md_test_rmdir(sc.dir, p);
    md_test_pool_done(p);
}
END_TEST

/* Ways to spoil a staged set; each must fail validation and change nothing. */
static void spoil(scene_t *sc, int how, const test_set_t *other, apr_pool_t *p)
{
    md_store_t *st = sc->store;

    switch (how) {
    case 0:   /* certificate for another key */
        md_store_save(st, MD_SG_STAGING, NAME, "pubcert.pem", MD_SV_CHAIN, other->chain, 0, NULL, p);
        break;
    case 1:   /* no certificate */
        md_store_remove(st, MD_SG_STAGING, NAME, "pubcert.pem", 0, p);
        break;
    case 2:   /* no key */
        md_store_remove(st, MD_SG_STAGING, NAME, "privkey.pem", 0, p);
        break;
    case 3:   /* a certificate without its key */
        md_store_save(st, MD_SG_STAGING, NAME, "pubcert.rsa.pem", MD_SV_CHAIN, other->chain, 0, NULL, p);
        break;
    case 4:   /* a corrupt key */
        md_store_save(st, MD_SG_STAGING, NAME, "privkey.pem", MD_SV_TEXT, "garbage", 0, NULL, p);
        break;
    case 5:   /* a key the store key does not open */
        md_store_save(st, MD_SG_STAGING, NAME, "privkey.pem", MD_SV_TEXT,
                      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", 0,
                      NULL, p);
        break;
    }
}

START_TEST(activate_invalid_changes_nothing)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *s1 = test_set_make("CN=one", p), *s2 = test_set_make("CN=two", p);
    int how;

    for (how = 0; how <= 5; ++how) {
        md_result_t *result = md_result_make(p);
        apr_array_header_t *before = NULL, *after = NULL;
        scene_t sc;

        scene_setup(&sc, s1, s2, p);
        spoil(&sc, how, s1, p);
        ck_assert_int_eq(md_store_list_aspects(&before, sc.store, MD_SG_STAGING, NAME, NULL, p), APR_SUCCESS);
        ck_assert_int_eq(md_store_activate(sc.store, NAME, NULL, NULL, result, p), APR_EINVAL);
        ck_assert_msg(result->detail && strstr(result->detail, "staging"), "case %d: %s", how,
                      result->detail ? result->detail : "(no detail)");
        sc.store = test_store_open(sc.dir, p);   /* recovery has nothing to do either */
        ck_assert_int_eq(md_store_list_aspects(&after, sc.store, MD_SG_STAGING, NAME, NULL, p), APR_SUCCESS);
        ck_assert_str_eq(apr_array_pstrcat(p, before, ','), apr_array_pstrcat(p, after, ','));
        ck_assert(!md_store_exists(sc.store, MD_SG_STAGING, NAME, ".activation", p));
        ck_assert(in(&sc, MD_SG_DOMAINS, NAME, s1, p));
        ck_assert_int_eq(test_dir_count(gpath(&sc, MD_SG_ARCHIVE, NULL, p)), 0);
        ck_assert_int_eq(test_dir_count(gpath(&sc, MD_SG_TMP, NULL, p)), 0);
        md_test_rmdir(sc.dir, p);
    }
    md_test_pool_done(p);
}
END_TEST

START_TEST(open_clears_leftovers)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *s1 = test_set_make("CN=one", p), *s2 = test_set_make("CN=two", p);
    scene_t sc;

    scene_setup(&sc, NULL, s1, p);
    ck_assert_int_eq(md_store_purge(sc.store, MD_SG_STAGING, NAME, p), APR_SUCCESS);
    /* a half copy, a purge that stopped, and a complete set nobody put in place */
    ck_assert_int_eq(md_store_save(sc.store, MD_SG_TMP, NAME ".new", "md.json", MD_SV_TEXT, "{}", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_store_save(sc.store, MD_SG_TMP, NAME ".staging.purge", "x", MD_SV_TEXT, "", 0, NULL, p),
                     APR_SUCCESS);
    test_set_save(sc.store, MD_SG_TMP, NAME ".ready", s2, p);
    ck_assert_int_eq(md_store_save(sc.store, MD_SG_TMP, "other", "x", MD_SV_TEXT, "", 0, NULL, p), APR_SUCCESS);
    sc.store = test_store_open(sc.dir, p);
    ck_assert(in(&sc, MD_SG_DOMAINS, NAME, s2, p));
    ck_assert(md_store_exists(sc.store, MD_SG_TMP, "other", "x", p));   /* not ours: left alone */
    ck_assert_int_eq(test_dir_count(gpath(&sc, MD_SG_TMP, NULL, p)), 1);
    ck_assert_int_eq(md_store_activate(sc.store, NAME, NULL, NULL, NULL, p), APR_ENOENT);
    md_test_rmdir(sc.dir, p);
    md_test_pool_done(p);
}
END_TEST

/* Copy a directory tree (files and modes), for fixtures. */
static void copy_tree(const char *from, const char *to, apr_pool_t *p)
{
    struct dirent *de;
    struct stat st;
    DIR *d = opendir(from);

    ck_assert_msg(d != NULL, "cannot open %s", from);
    while ((de = readdir(d)) != NULL) {
        const char *src = md_file_join(p, from, de->d_name, NULL), *dest = md_file_join(p, to, de->d_name, NULL);
        char *data = NULL;
        apr_size_t len = 0;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        ck_assert_int_eq(lstat(src, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            ck_assert_int_eq(mkdir(dest, st.st_mode & 0777), 0);
            copy_tree(src, dest, p);
            continue;
        }
        ck_assert_int_eq(md_file_read(&data, &len, src, p), APR_SUCCESS);
        ck_assert_int_eq(md_file_write_atomic(dest, data, len, st.st_mode & 0777, p), APR_SUCCESS);
    }
    closedir(d);
}

static const char *slurp(const char *path, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len = 0;

    ck_assert_msg(md_file_read(&data, &len, path, p) == APR_SUCCESS, "cannot read %s", path);
    return data;
}

/* A store as Debian's mod_md 2.6.10 wrote it: opened as it is, its encrypted keys load, and activating its
 * staged set writes the very key file mod_md's own activation wrote. */
START_TEST(mod_md_store_compat)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *fixture = md_test_data("store/mod_md-2.6.10", p);
    const char *activated = md_test_data("store/mod_md-2.6.10-activated", p), *before;
    md_result_t *result = md_result_make(p);
    apr_array_header_t *chain = NULL;
    md_pkey_t *pkey = NULL, *account = NULL;
    md_json_t *md = NULL;
    scene_t sc;

    copy_tree(fixture, dir, p);
    before = slurp(md_file_join(p, dir, "md_store.json", NULL), p);
    sc.dir = dir;
    sc.store = test_store_open(dir, p);
    ck_assert_str_eq(slurp(md_file_join(p, dir, "md_store.json", NULL), p), before);
    ck_assert_int_eq(md_store_load((void **)&pkey, sc.store, MD_SG_STAGING, "test.example.org",
                                   "privkey.secp256r1.pem", MD_SV_PKEY, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_store_load((void **)&account, sc.store, MD_SG_STAGING, "test.example.org",
                                   "account.pem", MD_SV_PKEY, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_get_type(account), MD_PKEY_RSA);
    ck_assert_int_eq(md_store_load((void **)&chain, sc.store, MD_SG_STAGING, "test.example.org",
                                   "pubcert.secp256r1.pem", MD_SV_CHAIN, result, p), APR_SUCCESS);
    ck_assert(md_cert_matches_key(APR_ARRAY_IDX(chain, 0, md_cert_t *), pkey));
    ck_assert_int_eq(md_store_load((void **)&md, sc.store, MD_SG_DOMAINS, "test.example.org", "md.json",
                                   MD_SV_JSON, result, p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(md, "name", NULL), "test.example.org");

    ck_assert_int_eq(md_store_activate(sc.store, "test.example.org", NULL, NULL, result, p), APR_SUCCESS);
    ck_assert_str_eq(slurp(md_file_join(p, gpath(&sc, MD_SG_DOMAINS, "test.example.org", p),
                                        "privkey.secp256r1.pem", NULL), p),
                     slurp(md_file_join(p, activated, "privkey.secp256r1.pem", NULL), p));
    ck_assert_str_eq(slurp(md_file_join(p, gpath(&sc, MD_SG_DOMAINS, "test.example.org", p),
                                        "pubcert.secp256r1.pem", NULL), p),
                     slurp(md_file_join(p, activated, "pubcert.secp256r1.pem", NULL), p));
    ck_assert(md_store_exists(sc.store, MD_SG_ARCHIVE, "test.example.org.1", "md.json", p));
    ck_assert_int_eq(test_dir_count(gpath(&sc, MD_SG_TMP, NULL, p)), 0);
    ck_assert_int_eq(test_dir_count(gpath(&sc, MD_SG_STAGING, NULL, p)), 0);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

void test_store_add_activate_tcases(Suite *s)
{
    TCase *tc = tcase_create("activate");

    tcase_set_timeout(tc, ACTIVATE_TIMEOUT);
    tcase_add_test(tc, activate_twice_archives_in_order);
    tcase_add_test(tc, activated_key_read_from_cache);
    tcase_add_test(tc, activate_several_keys);
    tcase_add_test(tc, activate_other_names_meanwhile);
    tcase_add_test(tc, activate_reader_group);
    tcase_add_test(tc, activate_invalid_changes_nothing);
    tcase_add_test(tc, open_clears_leftovers);
    tcase_add_test(tc, mod_md_store_compat);
    tcase_add_test(tc, crash_first_activation);
    tcase_add_test(tc, crash_replacement);
    tcase_add_test(tc, crash_fallback);
    suite_add_tcase(s, tc);
}
