/* Helpers shared by the store's unit tests: stores in scratch directories, certificate sets and their checks. */
#ifndef MD_TEST_STORE_H
#define MD_TEST_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <check.h>

#include "md_cert.h"
#include "md_pkey.h"
#include "md_store.h"

/* A set as activation moves it: md.json, job.json, pubcert.pem, privkey.pem, all telling their tag. */
typedef struct test_set_t {
    const char *tag;
    md_pkey_t *pkey;
    apr_array_header_t *chain;
} test_set_t;

md_store_t *test_store_open(const char *dir, apr_pool_t *p);
md_pkey_t *test_store_gen_key(apr_pool_t *p);
test_set_t *test_set_make(const char *tag, apr_pool_t *p);
/* Save the set in GROUP/NAME through the store API. */
void test_set_save(md_store_t *store, md_store_group_t group, const char *name, const test_set_t *set,
                   apr_pool_t *p);
/* True when GROUP/NAME holds the complete set (every file there, loadable, the key matching the cert). */
int test_set_is_in(md_store_t *store, md_store_group_t group, const char *name, const test_set_t *set,
                   apr_pool_t *p);
/* The number of entries in a directory, hidden ones included (-1 when it is missing). */
/* Exit codes of test_activate_child's child. */
enum { TEST_CHILD_CRASHED = 0, TEST_CHILD_DONE = 3, TEST_CHILD_NOTHING = 4, TEST_CHILD_FAILED = 5, TEST_CHILD_BAD_STEP = 6 };
/* md_store_activate(store, name) in a forked child that dies right after step crash_at (steps counted from 1, each
 * checked to follow the last; 0: none) or the step named crash_what (NULL: none). The child uses the parent's store object, so no md_store_fs_open (and its
 * recovery) runs before the activation. Returns the child's exit code. */
int test_activate_child(md_store_t *store, const char *name, int crash_at, const char *crash_what);
int test_dir_count(const char *dir);
/* The file's mode bits, -1 when missing. */
int test_file_mode(const char *path);

void test_store_add_activate_tcases(Suite *s);
void test_store_add_flush_tcases(Suite *s);
void test_store_add_many_tcases(Suite *s);

#endif
