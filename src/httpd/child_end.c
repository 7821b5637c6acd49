/* The child's end: the work under way in its threads (watchdog tasks, renewal runs, status pages over all MDs) that
 * the child's exit() must not cut. */
#include <apr_pools.h>
#include <apr_time.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_main.h>
#include <mpm_common.h>

#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

/* How long the child's end waits for the work under way. */
#define END_WAIT apr_time_from_sec(5)

/* Both atomic; a child is one process and ends once, so they are the process's (the parent never sets them). */
static int ending;     /* the child is ending: no further work starts, work under way stops between MDs */
static int busy;       /* work under way */

int md_httpd_child_enter(void)
{
    __atomic_add_fetch(&busy, 1, __ATOMIC_ACQ_REL);
    if (!__atomic_load_n(&ending, __ATOMIC_ACQUIRE)) return 1;
    __atomic_sub_fetch(&busy, 1, __ATOMIC_ACQ_REL);
    return 0;
}

void md_httpd_child_leave(void)
{
    __atomic_sub_fetch(&busy, 1, __ATOMIC_ACQ_REL);
}

int md_httpd_child_ending(void)
{
    return __atomic_load_n(&ending, __ATOMIC_ACQUIRE);
}

int *md_httpd_child_ending_flag(void)
{
    return &ending;
}

/* The MPM tells the child to stop (its pod, or a worker's MaxConnectionsPerChild): the status pages under way stop
 * between MDs, so that the MPM, which joins the workers before the child's end, need not wait for pages over 1000
 * MDs (hundreds of milliseconds each); the watchdog's tasks and the renewal runs stop between MDs too. */
static void child_stopping(apr_pool_t *pchild, int graceful)
{
    (void)pchild;
    (void)graceful;
    __atomic_store_n(&ending, 1, __ATOMIC_RELEASE);
}

/* A pre-cleanup of the child's pool, which is destroyed right before the child's exit(): the renewal runs go on in
 * threads nobody joins, and the watchdog's thread is joined only by mod_watchdog's own cleanup. exit() runs
 * OpenSSL's exit handler and destroys APR's global pool under any thread still at work (a SIGSEGV at every stop
 * during a run over many MDs, before the wait). So the child waits, up to END_WAIT, for the work under way. */
static apr_status_t child_wait(void *baton)
{
    server_rec *s = baton;
    apr_time_t deadline = apr_time_now() + END_WAIT;

    __atomic_store_n(&ending, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&busy, __ATOMIC_ACQUIRE) > 0 && apr_time_now() < deadline) {
        apr_sleep(apr_time_from_msec(10));
    }
    if (__atomic_load_n(&busy, __ATOMIC_ACQUIRE) > 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "the child ended with work of this module still under way "
                     "(renewals, OCSP or a status page)");
    }
    return APR_SUCCESS;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_pool_pre_cleanup_register(pchild, s, child_wait);
}

void md_httpd_child_end_hooks(void)
{
    /* the last of the child_init hooks: its pre-cleanup runs first (LIFO), before any other module's takes away
     * what the work under way uses */
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_child_stopping(child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
}
