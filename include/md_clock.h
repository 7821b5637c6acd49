/* The clock as an injected service: every decision about time (and the jitter of retry times) asks it, so tests can
 * run simulated years and repeat them. */
#ifndef MD_CLOCK_H
#define MD_CLOCK_H

#include <apr_pools.h>
#include <apr_time.h>

/* now() returns the current time; sleep() waits (a simulated clock advances instead); jitter() gives a number in
 * [0, 1] that spreads retry times. Each may be NULL: then the real clock (apr_time_now), a real sleep (apr_sleep)
 * and OpenSSL's random bytes are used. */
typedef struct md_clock_t {
    apr_time_t (*now)(void *baton);
    void (*sleep)(void *baton, apr_interval_time_t duration);
    double (*jitter)(void *baton);
    void *baton;
} md_clock_t;

/* The time of clock, or the real time when clock (or its now) is NULL. */
apr_time_t md_clock_now(const md_clock_t *clock);
/* Wait duration on clock (<= 0: return at once). */
void md_clock_sleep(const md_clock_t *clock, apr_interval_time_t duration);
/* A number in [0, 1] from clock's jitter, or from OpenSSL's random bytes when clock (or its jitter) is NULL. */
double md_clock_jitter(const md_clock_t *clock);

/* A simulated clock for tests: starts at start, advances only through md_clock_sleep or md_clock_sim_advance.
 * Thread-safe. */
typedef struct md_clock_sim_t md_clock_sim_t;
md_clock_sim_t *md_clock_sim_make(apr_time_t start, apr_pool_t *p);
const md_clock_t *md_clock_sim_clock(md_clock_sim_t *sim);
void md_clock_sim_advance(md_clock_sim_t *sim, apr_interval_time_t duration);
void md_clock_sim_set(md_clock_sim_t *sim, apr_time_t t);
/* From now on the simulated clock's jitter is a fixed sequence that starts from seed (a run can be repeated; a
 * forked child goes on from where its parent was); before the first call: OpenSSL's random bytes. */
void md_clock_sim_seed(md_clock_sim_t *sim, unsigned long seed);

#endif
