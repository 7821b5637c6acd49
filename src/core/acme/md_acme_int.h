/* Internals of the ACME client shared by its files: the md_acme_t struct and the nonce pool. */
#ifndef MD_ACME_INT_H
#define MD_ACME_INT_H

#include <apr_pools.h>
#include <apr_thread_mutex.h>

#include "md_acme.h"
#include "md_clock.h"
#include "md_http.h"
#include "md_json.h"
#include "md_pkey.h"

struct md_result_t;

#define MD_ACME_NONCE_POOL 16     /* nonces kept, the oldest dropped first */
#define MD_ACME_NONCE_MAXLEN 256  /* longer Replay-Nonce values are ignored */

/* What the CA takes time for, learned per client (md_acme_order__poll's first wait). */
typedef enum {
    MD_ACME_PACE_NONE = -1,       /* no learning: look at once */
    MD_ACME_PACE_VALIDATION,      /* from answering the challenges until the order is ready */
    MD_ACME_PACE_ISSUANCE,        /* from finalize until the order is valid */
    MD_ACME_PACE_KINDS
} md_acme_pace_t;

struct md_acme_t {
    apr_pool_t *p;
    const char *url;
    md_http_t *http;
    apr_thread_mutex_t *mutex;    /* guards directory, kid and key */
    apr_thread_mutex_t *nonce_mutex;  /* guards the nonce pool */
    md_json_t *directory;         /* NULL until md_acme_setup succeeded */
    const char *kid;
    md_pkey_t *key;
    apr_interval_time_t poll_min;
    apr_interval_time_t poll_max;
    const md_clock_t *clock;      /* NULL: the real clock */
    apr_interval_time_t pace[MD_ACME_PACE_KINDS];  /* the wait before the first look (0: not yet set), under mutex */
    /* The nonce pool lives in fixed buffers, so that threads never allocate from acme->p. */
    char nonces[MD_ACME_NONCE_POOL][MD_ACME_NONCE_MAXLEN];
    int nonce_count;
};

/* Keep the Replay-Nonce of resp (when it is a valid base64url token). */
void md_acme__nonce_put(md_acme_t *acme, const md_http_response_t *resp);
/* A nonce for the next request: the newest in the pool, else a fresh one from HEAD newNonce. */
apr_status_t md_acme__nonce_get(const char **pnonce, md_acme_t *acme, struct md_result_t *result,
                                apr_pool_t *p);
/* The wait before the first look at a resource the CA works on (kind: md_acme_pace_t), and what that look
 * told: hit (the work was done) shortens the next wait by 1/32, but never below where it starts; after a miss it
 * becomes at least what the CA took (took: from the start of the wait to the look that found the work done; at most
 * poll_max), so the misses of drives in the same stall do not add up. It starts at half poll_min (25 ms): a CA that
 * takes longer is missed at the first look whatever the start (a second look comes poll_min later), one that
 * answers within milliseconds (pebble, a local CA) is not made to wait longer. It does not go below that either: a
 * wait shortened to the few milliseconds pebble usually takes missed whenever pebble or the machine stalled (3-8
 * first looks in 200 at 100 MDs, 50-60 in 2000 at 1000 MDs; at 25 ms 0-3 and about 10). */
apr_interval_time_t md_acme__pace_get(md_acme_t *acme, int kind);
void md_acme__pace_learn(md_acme_t *acme, int kind, int hit, apr_interval_time_t took);
/* The number of nonces at hand (tests). */
int md_acme__nonce_count(md_acme_t *acme);

#endif
