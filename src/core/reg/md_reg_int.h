/* Internals of the registry shared by its source files: the sync's steps (take-over of renamed MDs, staged sets,
 * challenges) and the challenge directories a finished renewal leaves behind. */
#ifndef MD_REG_INT_H
#define MD_REG_INT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "md.h"
#include "md_reg.h"
#include "md_reg_lease.h"

/* Hand a message to the sync's log callback (level 0 error .. 3 info). */
void md_reg__say(const md_reg_sync_opts_t *opts, int level, const char *name, const char *msg);

/* Each configured MD (items: md_reg_sync_item_t*) without domains/NAME takes over the stored MD no configured MD
 * uses that holds all of its names, else the one with the most of its names: staging/OLD and domains/OLD are
 * renamed to NAME (in that order; domains/ last, so an interrupted take-over is done again at the next sync). */
void md_reg__take_over(md_reg_t *reg, apr_array_header_t *items, const md_reg_sync_opts_t *opts, apr_pool_t *p);

/* staging/OLD, then domains/OLD become NAME's (their job.json naming NAME); *pstaged says whether there was a staged
 * set. domains/ last, so that an interruption leaves OLD in place. */
apr_status_t md_reg__rename(int *pstaged, md_reg_t *reg, const char *old, const char *name, apr_pool_t *p);

/* The staged set of md, in three parts (md_reg_activate takes them for a batch of MDs, whose sets the store then
 * activates together): md_reg__staged_lease is true when staging/NAME exists and *plk holds the MD's lease
 * (opts->lease; NULL with leases off; when another process holds it, nothing is done, told at level 3). Then,
 * under the lease, md_reg__staged_due is true when the set is to be activated now: a finished one when
 * MDActivationDelay allows; one that cannot be used (its job.json or md.json cannot be read, or a finished job whose
 * certificates or keys are missing) is purged, so that the MD is renewed again. md_reg__staged_activated then tells
 * what the activation returned (rv, result) and is true when it was activated; a set that did not pass
 * activation's check is purged too. Either way challenges/DOMAIN of the MD's names go (as mod_md's do). */
int md_reg__staged_lease(md_reg_lease_t **plk, md_reg_t *reg, const md_t *md,
                         const md_reg_sync_opts_t *opts, apr_pool_t *p);
int md_reg__staged_due(md_reg_t *reg, const md_t *md, const md_reg_sync_opts_t *opts, apr_pool_t *p);
int md_reg__staged_activated(md_reg_t *reg, const md_t *md, apr_status_t rv, struct md_result_t *result,
                             const md_reg_sync_opts_t *opts, apr_pool_t *p);

/* Why the set in staging/NAME cannot be activated (NULL when it can, or is still being made); *pready when it is a
 * finished renewal's set (complete, with md.json unless put there by hand without job.json). */
const char *md_reg__staged_problem(int *pready, md_store_t *store, const md_t *md, apr_pool_t *p);
/* The latest notBefore of the staged certificates (0 when one cannot be read: activation then reports it). */
apr_time_t md_reg__staged_not_before(md_store_t *store, const md_t *md, apr_pool_t *p);

/* The sync's memo of complete MDs (tmp/md-state.memo, md_reg_sync_memo.c), read at the sync's start. */
typedef struct md_reg_memo_t md_reg_memo_t;
md_reg_memo_t *md_reg__memo_read(md_reg_t *reg, apr_pool_t *p);
/* True when md (as configured, with these state options) is unchanged since the memo's line about it and its
 * certificates are all inside their validity now: it is complete, each certificate usable. The line is kept. */
int md_reg__memo_hit(md_reg_memo_t *memo, md_reg_t *reg, const md_t *md, const md_reg_state_opts_t *o,
                     apr_pool_t *ptemp);
/* A line for md when st (computed with o, after its md.json was written) is complete, each certificate usable and
 * valid now, and no file of its has a problem; otherwise none (its next sync computes its state again). */
void md_reg__memo_note(md_reg_memo_t *memo, md_reg_t *reg, const md_t *md, const md_reg_state_opts_t *o,
                       const md_reg_state_t *st, apr_pool_t *ptemp);
/* Write the memo when it differs from the one read (atomically, not flushed). */
void md_reg__memo_write(md_reg_memo_t *memo, md_reg_t *reg, apr_pool_t *p);

/* Remove challenges/NAME, where there is one. */
void md_reg__purge_challenge(md_reg_t *reg, const char *name, apr_pool_t *p);
/* Remove challenges/DOMAIN for each name of md (what answered its challenges), where there is one. */
void md_reg__purge_challenges(md_reg_t *reg, const md_t *md, apr_pool_t *p);
/* Remove the entries of challenges/ named after none of the MDs (items: md_reg_sync_item_t*), as mod_md does. */
void md_reg__purge_unused_challenges(md_reg_t *reg, apr_array_header_t *items, const md_reg_sync_opts_t *opts,
                                     apr_pool_t *p);

#endif
