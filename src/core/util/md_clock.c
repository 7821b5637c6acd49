/* The injected clock: the real one by default, and a simulated one that tests advance (and seed) by hand. */
#include <apr_pools.h>
#include <apr_thread_mutex.h>
#include <openssl/rand.h>

#include "md_clock.h"

apr_time_t md_clock_now(const md_clock_t *clock)
{
    return (clock && clock->now) ? clock->now(clock->baton) : apr_time_now();
}

void md_clock_sleep(const md_clock_t *clock, apr_interval_time_t duration)
{
    if (duration <= 0) return;
    if (clock && clock->sleep) clock->sleep(clock->baton, duration);
    else apr_sleep(duration);
}

double md_clock_jitter(const md_clock_t *clock)
{
    unsigned int r = 0;

    if (clock && clock->jitter) return clock->jitter(clock->baton);
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1) return 0.5;   /* no random bytes: no jitter */
    return (double)r / (double)0xffffffffu;
}

struct md_clock_sim_t {
    md_clock_t clock;
    apr_thread_mutex_t *lock;
    apr_time_t now;
    int seeded;
    apr_uint64_t state;        /* the jitter's linear congruential sequence */
};

static apr_time_t sim_now(void *baton)
{
    md_clock_sim_t *sim = baton;
    apr_time_t t;

    apr_thread_mutex_lock(sim->lock);
    t = sim->now;
    apr_thread_mutex_unlock(sim->lock);
    return t;
}

static void sim_sleep(void *baton, apr_interval_time_t duration)
{
    md_clock_sim_advance(baton, duration);
}

static double sim_jitter(void *baton)
{
    md_clock_sim_t *sim = baton;
    apr_uint64_t x;
    int seeded;

    apr_thread_mutex_lock(sim->lock);
    seeded = sim->seeded;
    sim->state = sim->state * APR_UINT64_C(6364136223846793005) + APR_UINT64_C(1442695040888963407);
    x = sim->state >> 11;
    apr_thread_mutex_unlock(sim->lock);
    if (!seeded) return md_clock_jitter(NULL);
    return (double)x / (double)(APR_UINT64_C(1) << 53);
}

md_clock_sim_t *md_clock_sim_make(apr_time_t start, apr_pool_t *p)
{
    md_clock_sim_t *sim = apr_pcalloc(p, sizeof(*sim));

    apr_thread_mutex_create(&sim->lock, APR_THREAD_MUTEX_DEFAULT, p);
    sim->now = start;
    sim->clock.now = sim_now;
    sim->clock.sleep = sim_sleep;
    sim->clock.jitter = sim_jitter;
    sim->clock.baton = sim;
    return sim;
}

const md_clock_t *md_clock_sim_clock(md_clock_sim_t *sim)
{
    return &sim->clock;
}

void md_clock_sim_advance(md_clock_sim_t *sim, apr_interval_time_t duration)
{
    if (duration <= 0) return;
    apr_thread_mutex_lock(sim->lock);
    sim->now += duration;
    apr_thread_mutex_unlock(sim->lock);
}

void md_clock_sim_set(md_clock_sim_t *sim, apr_time_t t)
{
    apr_thread_mutex_lock(sim->lock);
    sim->now = t;
    apr_thread_mutex_unlock(sim->lock);
}

void md_clock_sim_seed(md_clock_sim_t *sim, unsigned long seed)
{
    apr_thread_mutex_lock(sim->lock);
    sim->seeded = 1;
    sim->state = seed;
    apr_thread_mutex_unlock(sim->lock);
}
