/* Fuzz target: the domains file of `mdomain apply` (md_conf_file_parse: lines, words, sections, every directive's
 * value parser). Properties: every message names the file and a line of it; the MDs have names, unique across the
 * file when there is no error; each MD's md.json reads back as the same MD. */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_conf_file.h"
#include "md_json.h"
#include "md_reg_update.h"
#include "md_result.h"
#include "fuzz.h"

/* "d.conf:LINE: ..." with LINE within the input's lines. */
static void check_messages(const apr_array_header_t *msgs, unsigned lines)
{
    unsigned line;
    int i, n;

    for (i = 0; i < msgs->nelts; ++i) {
        const char *m = APR_ARRAY_IDX(msgs, i, const char *);
        n = 0;
        FZ_CHECK(sscanf(m, "d.conf:%u: %n", &line, &n) == 1 && n > 0);
        FZ_CHECK(line >= 1 && line <= lines);
        FZ_CHECK(m[n] != '\0');
    }
}

/* An MD apply would take (its names DNS names or addresses, md_reg_change_md's checks) reads back from its md.json
 * as the same MD; one with a name that is none is refused by those checks. */
static void check_md(const md_conf_file_md_t *m, unsigned lines, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_reg_change_t none;
    const char *err = NULL;
    md_t *back = NULL;
    int i, names_ok = 1;

    FZ_CHECK(m->md->name && *m->md->name && m->md->domains->nelts > 0);
    FZ_CHECK(m->line >= 1 && m->line <= lines);
    FZ_CHECK(md_name_problem(m->md->name) == NULL);
    for (i = 0; i < m->md->domains->nelts; ++i) {
        if (md_domain_problem(APR_ARRAY_IDX(m->md->domains, i, const char *))) names_ok = 0;
    }
    md_reg_change_init(&none);
    if (md_reg_change_md(md_clone(m->md, p), &none, &err, p) != APR_SUCCESS) {
        FZ_CHECK(err != NULL);
        return;
    }
    FZ_CHECK(names_ok);
    FZ_CHECK(md_from_json(&back, md_to_json(m->md, p), result, p) == APR_SUCCESS);
    FZ_CHECK(md_reg_md_diff(m->md, back, p)->nelts == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    md_conf_file_t *cf = md_conf_file_parse("d.conf", (const char *)data, size, "/etc/mdomain", p);
    unsigned lines = 1;
    size_t k;
    int i, j;

    for (k = 0; k < size; ++k) lines += data[k] == '\n';
    check_messages(cf->errors, lines);
    check_messages(cf->warnings, lines);
    for (i = 0; i < cf->mds->nelts; ++i) check_md(APR_ARRAY_IDX(cf->mds, i, const md_conf_file_md_t *), lines, p);
    if (cf->errors->nelts == 0) {
        for (i = 0; i < cf->mds->nelts; ++i) {
            for (j = 0; j < i; ++j) {
                FZ_CHECK(md_common_name(APR_ARRAY_IDX(cf->mds, i, const md_conf_file_md_t *)->md,
                                        APR_ARRAY_IDX(cf->mds, j, const md_conf_file_md_t *)->md) == NULL);
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
