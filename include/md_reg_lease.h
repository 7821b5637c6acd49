/* Leases: which process works on an MD now (renews or activates it), a file per MD in the store, so that servers on
 * one store (a cluster on NFS) never renew the same MD twice, and a holder that died blocks it no longer than the
 * lease. Only the files' own content counts (holder, expiry): no fcntl or flock, which network file systems do not
 * keep reliably. */
#ifndef MD_REG_LEASE_H
#define MD_REG_LEASE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "md_reg.h"

/* STORE/leases/NAME.json */
#define MD_REG_LEASES_DIR "leases"
/* How long a lease holds without being renewed (MDStoreLease); the runner renews it every third of that. */
#define MD_REG_LEASE_DEF apr_time_from_sec(60)

/* A lease this process holds. */
typedef struct md_reg_lease_t md_reg_lease_t;

/* Who holds a lease (another process, or nobody). */
typedef struct md_reg_lease_info_t {
    const char *holder;     /* "HOST pid PID", NULL when nobody holds it */
    apr_time_t until;       /* when it ends unless its holder renews it */
} md_reg_lease_info_t;

/* This process as a lease holder ("HOST pid PID"). */
const char *md_reg_lease_me(apr_pool_t *p);

/* Take the lease on the MD name for duration (the registry's clock). A lease file that is missing, has expired,
 * cannot be read, or whose holder is known to be dead (a process of this machine, same boot and pid namespace, that
 * no longer runs) is taken; APR_EBUSY when another holder's lease runs (*pother, may be NULL, says who and until
 * when). Files are created with link() (exclusive on NFS too); a stale one is renamed away and checked before it
 * is replaced, so two takers never both win. The lease has a root pool of its own (threads may renew it); pinfo is
 * for *pother's text. */
apr_status_t md_reg_lease_take(md_reg_lease_t **plk, md_reg_lease_info_t *pother, md_reg_t *reg, const char *name,
                               apr_interval_time_t duration, apr_pool_t *pinfo);
/* Extend a held lease by its duration from now; APR_EBUSY when it was lost (taken over after it expired), then
 * it is no longer held (release still frees it). */
apr_status_t md_reg_lease_renew(md_reg_lease_t *lk);
/* Remove the lease file when it is still this lease, and free the lease. */
void md_reg_lease_release(md_reg_lease_t *lk);
/* The lease's MD and when it ends. */
const char *md_reg_lease_name(const md_reg_lease_t *lk);
apr_time_t md_reg_lease_until(const md_reg_lease_t *lk);

/* Who holds the lease on name (info->holder NULL when nobody: no file, expired, or a dead holder). */
void md_reg_lease_get(md_reg_lease_info_t *info, md_reg_t *reg, const char *name, apr_pool_t *p);

#endif
