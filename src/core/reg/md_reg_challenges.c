/* The registry's clean-up of challenges/: what answered an MD's challenges goes once its renewal is over, and at a
 * start the entries that are no name of any configured MD. */
#include <apr_strings.h>

#include "md.h"
#include "md_reg.h"
#include "md_store.h"
#include "md_reg_int.h"

void md_reg__purge_challenges(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    const char *name;
    int i;

    for (i = 0; i < md->domains->nelts; ++i) {
        name = APR_ARRAY_IDX(md->domains, i, const char *);
        if (md_store_exists(reg->store, MD_SG_CHALLENGES, name, NULL, p)) {
            md_store_purge(reg->store, MD_SG_CHALLENGES, name, p);
        }
    }
}

static int is_name_of(apr_array_header_t *items, const char *name)
{
    int i;

    for (i = 0; i < items->nelts; ++i) {
        if (md_contains(APR_ARRAY_IDX(items, i, md_reg_sync_item_t *)->md, name)) return 1;
    }
    return 0;
}

void md_reg__purge_unused_challenges(md_reg_t *reg, apr_array_header_t *items, const md_reg_sync_opts_t *opts,
                                     apr_pool_t *p)
{
    apr_array_header_t *names = NULL;
    const char *name;
    apr_status_t rv;
    int i;

    if (md_store_list(&names, reg->store, MD_SG_CHALLENGES, "*", p) != APR_SUCCESS) return;
    for (i = 0; i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        if (is_name_of(items, name)) continue;
        rv = md_store_purge(reg->store, MD_SG_CHALLENGES, name, p);
        md_reg__say(opts, rv == APR_SUCCESS ? 3 : 1, name, rv == APR_SUCCESS
                    ? "challenges/ entry of no configured MD removed"
                    : apr_psprintf(p, "challenges/ entry of no configured MD cannot be removed: %pm", &rv));
    }
}
