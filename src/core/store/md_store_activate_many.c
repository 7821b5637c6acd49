/* Activation of many staged sets at once (a server's parent after a renewal run), their flushes shared. */

/* Each name goes through the steps of md_store_activate.c, with the same state at every interruption, but the
 * flushes are the batch's (docs/store.md, "Durability"): the copies of up to BATCH names are built (not flushed,
 * left in tmp/NAME.new), one syncfs makes all of them durable, then each is marked ready, swapped, archived and
 * unstaged without a flush, and one more syncfs makes the swaps durable before the names' locks go. Per set that is
 * two flushes per BATCH sets instead of eight flushes (the copy's files and directory, domains/ and tmp/), which a
 * journaling file system turns into as many commits. What a crash loses is what recovery redoes for one name: a
 * copy that was not flushed is still tmp/NAME.new (the rename to tmp/NAME.ready comes after the flush), a swap that
 * was not flushed comes with the steps after it, which the file system keeps in order. A name whose lock this
 * process would have to wait for (another process activates it) or take exclusively (no staging/NAME: an
 * interrupted activation to finish) is activated on its own after the batch has let its locks go. */
#include <apr_strings.h>

#include "md_file.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs_int.h"

/* Names activated together; each holds two descriptors (its staging/NAME and the store directory) until the end. */
#define BATCH 32

typedef struct {
    md_store_step_cb *cb;
    void *baton;
    int step;
} steps_t;

/* The steps of all names in one sequence. */
static void batch_step(void *baton, int step, const char *what)
{
    steps_t *s = baton;

    (void)step;
    s->cb(s->baton, ++s->step, what);
}

typedef struct {
    md_store_act_t a;
    int fd, nfd;
    int built;          /* its copy is in tmp/NAME.new, waiting for the batch's flush */
} item_t;

/* alone[i]: names[i] is left to md_store_activate after the batch. */
static void one_batch(md_store_t *store, const char *const *names, int n, steps_t *steps, apr_status_t *rvs,
                      md_result_t *const *results, char *alone, apr_pool_t *p)
{
    item_t *items = apr_pcalloc(p, (apr_size_t)n * sizeof(*items)), *it;
    apr_status_t rv;
    int i, locked = 0, built = 0;

    for (i = 0; i < n; ++i) {
        it = &items[i];
        it->fd = it->nfd = -1;
        md_store_act__init(&it->a, store, names[i], steps ? batch_step : NULL, steps, results[i], p);
        it->a.batch = 1;
        if (md_store_fs__check_name(names[i]) != APR_SUCCESS) {
            md_result_printf(results[i], APR_EINVAL, "activate: invalid name '%s'", names[i] ? names[i] : "");
            rvs[i] = APR_EINVAL;
            continue;
        }
        rvs[i] = md_store_act__lock(&it->fd, &it->nfd, &it->a);
        if (rvs[i] != APR_SUCCESS) {
            alone[i] = 1;
            continue;
        }
        ++locked;
        rvs[i] = md_store_act__run(&it->a, 1);
        if (rvs[i] == APR_INCOMPLETE) {
            it->built = 1;
            ++built;
        }
    }
    rv = built ? md_file_syncfs(store->base) : APR_SUCCESS;
    for (i = 0; i < n; ++i) {
        it = &items[i];
        if (!it->built) continue;
        if (rv != APR_SUCCESS) {        /* tmp/NAME.new stays, which the next activation discards */
            md_result_printf(results[i], rv, "activating %s: cannot flush %s", names[i], store->base);
            rvs[i] = rv;
            continue;
        }
        rvs[i] = md_store_act__complete(&it->a);
    }
    if (locked && (rv = md_file_syncfs(store->base)) != APR_SUCCESS) {
        for (i = 0; i < n; ++i) {
            if (alone[i] || rvs[i] != APR_SUCCESS) continue;
            md_result_printf(results[i], rv, "activating %s: cannot flush %s", names[i], store->base);
            rvs[i] = rv;
        }
    }
    for (i = 0; i < n; ++i) md_store_act__unlock(items[i].fd, items[i].nfd);
}

void md_store_activate_many(md_store_t *store, const char *const *names, int n, md_store_step_cb *step_cb,
                            void *baton, apr_status_t *rvs, md_result_t *const *results, apr_pool_t *p)
{
    steps_t steps = { step_cb, baton, 0 };
    char *alone = apr_pcalloc(p, (apr_size_t)n + 1);
    apr_pool_t *bp = NULL;
    int i, k;

    apr_pool_create(&bp, p);
    for (i = 0; i < n; i += BATCH) {
        k = n - i < BATCH ? n - i : BATCH;
        apr_pool_clear(bp);
        one_batch(store, names + i, k, step_cb ? &steps : NULL, rvs + i, results + i, alone + i, bp);
    }
    for (i = 0; i < n; ++i) {
        if (!alone[i]) continue;
        apr_pool_clear(bp);
        rvs[i] = md_store_activate(store, names[i], step_cb ? batch_step : NULL, &steps, results[i], bp);
    }
    apr_pool_destroy(bp);
}
