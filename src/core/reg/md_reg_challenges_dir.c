/* The registry's clean-up of challenges/: what answered an MD's challenges goes once its renewal is over, and at a
 * start the entries named after no configured MD. */
#include <strings.h>

#include <apr_strings.h>

#include "md.h"
#include "md_reg.h"
#include "md_store.h"
#include "md_reg_int.h"

void md_reg__purge_challenge(md_reg_t *reg, const char *name, apr_pool_t *p)
{
    if (md_store_exists(reg->store, MD_SG_CHALLENGES, name, NULL, p)) {
        md_store_purge(reg->store, MD_SG_CHALLENGES, name, p);
    }
}

void md_reg__purge_challenges(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    int i;

    for (i = 0; i < md->domains->nelts; ++i) {
        md_reg__purge_challenge(reg, APR_ARRAY_IDX(md->domains, i, const char *), p);
    }
}

/* True when an MD is named so (what mod_md keeps: the answers of a renewal that goes on are set up again). */
static int is_md_name(apr_array_header_t *items, const char *name)
{
    int i;

    for (i = 0; i < items->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(items, i, md_reg_sync_item_t *)->md->name, name)) return 1;
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
        if (is_md_name(items, name)) continue;
        rv = md_store_purge(reg->store, MD_SG_CHALLENGES, name, p);
        md_reg__say(opts, rv == APR_SUCCESS ? 3 : 1, name, rv == APR_SUCCESS
                    ? "challenges/ entry named after no configured MD removed"
                    : apr_psprintf(p, "challenges/ entry named after no configured MD cannot be removed: %pm", &rv));
    }
}
