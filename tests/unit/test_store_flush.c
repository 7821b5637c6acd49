/* Unit tests of the store's flushes: which files and directories an activation or a save flushes, in which order,
 * and that losing what it does not flush leaves a store that recovery brings to the same end. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "md_file.h"
#include "md_result.h"
#include "test_common.h"
#include "test_store.h"

#define FLUSH_TIMEOUT 120
#define NAME "example.org"

typedef struct {
    apr_array_header_t *paths;   /* every flushed path, in order */
    apr_pool_t *p;
} flushes_t;

static void on_synced(const char *path, void *baton)
{
    flushes_t *f = baton;

    APR_ARRAY_PUSH(f->paths, const char *) = apr_pstrdup(f->p, path);
}

static void flushes_start(flushes_t *f, apr_pool_t *p)
{
    f->p = p;
    f->paths = apr_array_make(p, 16, sizeof(const char *));
    md_file_on_synced(on_synced, f);
}

/* The index of the first flush of path (-1: none) and the number of flushes of paths below dir/. */
static int flush_index(const flushes_t *f, const char *path)
{
    int i;

    for (i = 0; i < f->paths->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(f->paths, i, const char *), path)) return i;
    }
    return -1;
}

static int flushes_below(const flushes_t *f, const char *dir, apr_pool_t *p)
{
    const char *prefix = apr_pstrcat(p, dir, "/", NULL);
    int i, n = 0;

    for (i = 0; i < f->paths->nelts; ++i) {
        if (!strncmp(APR_ARRAY_IDX(f->paths, i, const char *), prefix, strlen(prefix))) ++n;
    }
    return n;
}

static const char *gdir(md_store_t *store, md_store_group_t group, const char *name, apr_pool_t *p)
{
    const char *path = NULL;

    ck_assert_int_eq(md_store_get_fname(&path, store, group, name, NULL, p), APR_SUCCESS);
    return path;
}

/* Replacing a set: the copy's five files (job.json, md.json, privkey.pem, pubcert.pem, .activation) and its
 * directory, then domains/ and tmp/ once each with the exchange: 8 flushes. Before: 16 (the id and staging/NAME,
 * tmp/ after the copy's rename, archive/ and tmp/ after archiving, staging/ and tmp/ after unstaging, tmp/ after
 * the cleanup). Nothing in staging/ or archive/ is flushed; every file of the copy before its directory, that
 * before domains/. */
START_TEST(activate_flushes_copy_then_exchange)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *old_set = test_set_make("CN=old", p), *new_set = test_set_make("CN=new", p);
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p), *copy, *domains, *tmp;
    md_store_t *store = test_store_open(dir, p);
    flushes_t f;
    int i, at_copy, at_domains;

    test_set_save(store, MD_SG_DOMAINS, NAME, old_set, p);
    test_set_save(store, MD_SG_STAGING, NAME, new_set, p);
    flushes_start(&f, p);
    ck_assert_int_eq(md_store_activate(store, NAME, NULL, NULL, result, p), APR_SUCCESS);
    md_file_on_synced(NULL, NULL);
    ck_assert(test_set_is_in(store, MD_SG_DOMAINS, NAME, new_set, p));
    ck_assert(test_set_is_in(store, MD_SG_ARCHIVE, NAME ".1", old_set, p));

    tmp = gdir(store, MD_SG_TMP, NULL, p);
    domains = gdir(store, MD_SG_DOMAINS, NULL, p);
    copy = md_file_join(p, tmp, NAME ".new", NULL);
    ck_assert_msg(f.paths->nelts == 8, "%d flushes: %s", f.paths->nelts, apr_array_pstrcat(p, f.paths, ' '));
    ck_assert_int_eq(flushes_below(&f, copy, p), 5);
    at_copy = flush_index(&f, copy);
    at_domains = flush_index(&f, domains);
    ck_assert_int_ge(at_copy, 5);
    ck_assert_int_gt(at_domains, at_copy);
    ck_assert_int_gt(flush_index(&f, tmp), at_copy);
    for (i = 0; i < 5; ++i) {
        ck_assert_msg(!strncmp(APR_ARRAY_IDX(f.paths, i, const char *), copy, strlen(copy)), "flush %d: %s", i,
                      APR_ARRAY_IDX(f.paths, i, const char *));
    }
    ck_assert_int_eq(flushes_below(&f, gdir(store, MD_SG_STAGING, NULL, p), p), 0);
    ck_assert_int_eq(flush_index(&f, gdir(store, MD_SG_STAGING, NULL, p)), -1);
    ck_assert_int_eq(flush_index(&f, gdir(store, MD_SG_ARCHIVE, NULL, p)), -1);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* A power loss after the exchange was flushed, where the id's entry in staging/NAME (not flushed any more) did not
 * reach the disk: recovery sees no activation in progress and archives the old set from tmp/; the staged set,
 * activated again, replaces its own copy, which is archived too. No set is lost, domains/NAME is complete. The
 * steps after the exchange (archive, unstage, cleanup) lost are a crash right after "exchanged" with everything in
 * place: crash_replacement (test_store_activate.c) checks that recovery finishes those. */
START_TEST(activate_lost_id_redone)
{
    apr_pool_t *p = md_test_pool();
    test_set_t *old_set = test_set_make("CN=old", p), *new_set = test_set_make("CN=new", p);
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);
    apr_array_header_t *names = NULL;

    test_set_save(store, MD_SG_DOMAINS, NAME, old_set, p);
    test_set_save(store, MD_SG_STAGING, NAME, new_set, p);
    ck_assert_int_eq(test_activate_child(store, NAME, 0, "exchanged"), TEST_CHILD_CRASHED);
    ck_assert_int_eq(md_store_remove(store, MD_SG_STAGING, NAME, ".activation", 0, p), APR_SUCCESS);

    store = test_store_open(dir, p);            /* recovery */
    ck_assert(test_set_is_in(store, MD_SG_DOMAINS, NAME, new_set, p));
    ck_assert(test_set_is_in(store, MD_SG_ARCHIVE, NAME ".1", old_set, p));
    ck_assert(test_set_is_in(store, MD_SG_STAGING, NAME, new_set, p));
    ck_assert_int_eq(md_store_activate(store, NAME, NULL, NULL, result, p), APR_SUCCESS);
    ck_assert(test_set_is_in(store, MD_SG_DOMAINS, NAME, new_set, p));
    ck_assert(test_set_is_in(store, MD_SG_ARCHIVE, NAME ".1", old_set, p));
    ck_assert(test_set_is_in(store, MD_SG_ARCHIVE, NAME ".2", new_set, p));
    ck_assert_int_eq(md_store_list(&names, store, MD_SG_ARCHIVE, "*", p), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 2);
    ck_assert_int_eq(test_dir_count(gdir(store, MD_SG_STAGING, NULL, p)), 0);
    ck_assert_int_eq(test_dir_count(gdir(store, MD_SG_TMP, NULL, p)), 0);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* md_store_save_unflushed: atomic like md_store_save (the value complete in place), no flush; md_store_save in
 * domains/ flushes the file and its directory. */
START_TEST(save_unflushed_not_flushed)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *loaded = NULL;
    md_store_t *store = test_store_open(dir, p);
    flushes_t f;

    flushes_start(&f, p);
    ck_assert_int_eq(md_store_save_unflushed(store, MD_SG_DOMAINS, NAME, "note.txt", MD_SV_TEXT, "lazy", NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(f.paths->nelts, 0);
    ck_assert_int_eq(md_store_load((void **)&loaded, store, MD_SG_DOMAINS, NAME, "note.txt", MD_SV_TEXT, NULL, p),
                     APR_SUCCESS);
    ck_assert_str_eq(loaded, "lazy");
    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, NAME, "note.txt", MD_SV_TEXT, "flushed", 0, NULL, p),
                     APR_SUCCESS);
    md_file_on_synced(NULL, NULL);
    ck_assert_int_eq(f.paths->nelts, 2);
    ck_assert_int_eq(flush_index(&f, gdir(store, MD_SG_DOMAINS, NAME, p)), 1);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* md_store_save into a directory it creates (an add's domains/NAME, a new account's accounts/ID): the file, the new
 * directory, then the group's directory, whose entry for the new one a crash could otherwise lose; the next save
 * into the same directory flushes only the file and the directory. */
START_TEST(save_new_dir_flushes_parent)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    md_store_t *store = test_store_open(dir, p);
    flushes_t f;

    flushes_start(&f, p);
    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, NAME, "note.txt", MD_SV_TEXT, "first", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(f.paths->nelts, 3);
    ck_assert_int_eq(flush_index(&f, gdir(store, MD_SG_DOMAINS, NAME, p)), 1);
    ck_assert_int_eq(flush_index(&f, gdir(store, MD_SG_DOMAINS, NULL, p)), 2);
    ck_assert_int_eq(md_store_save(store, MD_SG_DOMAINS, NAME, "note.txt", MD_SV_TEXT, "second", 0, NULL, p),
                     APR_SUCCESS);
    ck_assert_int_eq(f.paths->nelts, 5);
    ck_assert_int_eq(md_store_save(store, MD_SG_ACCOUNTS, "ACME-example-0000", "note.txt", MD_SV_TEXT, "acct", 0,
                                   NULL, p), APR_SUCCESS);
    md_file_on_synced(NULL, NULL);
    ck_assert_int_eq(f.paths->nelts, 8);
    ck_assert_int_eq(flush_index(&f, gdir(store, MD_SG_ACCOUNTS, NULL, p)), 7);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

void test_store_add_flush_tcases(Suite *s)
{
    TCase *tc = tcase_create("flush");

    tcase_set_timeout(tc, FLUSH_TIMEOUT);
    tcase_add_test(tc, activate_flushes_copy_then_exchange);
    tcase_add_test(tc, activate_lost_id_redone);
    tcase_add_test(tc, save_unflushed_not_flushed);
    tcase_add_test(tc, save_new_dir_flushes_parent);
    suite_add_tcase(s, tc);
}
