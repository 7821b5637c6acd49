/* Shared helpers for the unit tests: pools, scratch directories, test data paths. */
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "md_file.h"
#include "test_common.h"

apr_pool_t *md_test_pool(void)
{
    apr_pool_t *p = NULL;
    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    return p;
}

void md_test_pool_done(apr_pool_t *p)
{
    if (p) apr_pool_destroy(p);
}

const char *md_test_mkdtemp(apr_pool_t *p)
{
    const char *base = getenv("TMPDIR");
    char *templ = apr_pstrcat(p, (base && *base) ? base : "/tmp", "/md-unit-XXXXXX", NULL);
    ck_assert_ptr_nonnull(mkdtemp(templ));
    return templ;
}

void md_test_rmdir(const char *dir, apr_pool_t *p)
{
    md_file_rm_rf(dir, p);
}

const char *md_test_data(const char *name, apr_pool_t *p)
{
    const char *dir = getenv("MD_TEST_DATA");
    if (!dir || !*dir) dir = "tests/unit/data";
    return apr_pstrcat(p, dir, "/", name, NULL);
}
