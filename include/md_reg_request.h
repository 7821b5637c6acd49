/* Requests to the servers on a store: `mdomain renew --force NAME` on the store of a running httpd asks it, through a
 * file STORE/requests/NAME.json, to renew NAME now; the server that picks it up (under the MD's lease) answers in the
 * same file. The registry's runner picks up and answers (md_reg_item_t.request); the front-ends only pass them on. */
#ifndef MD_REG_REQUEST_H
#define MD_REG_REQUEST_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_drive.h"
#include "md_reg.h"

struct md_result_t;

/* STORE/requests: httpd makes it at every start (owned by its children's user); its presence tells the command that
 * a server works on the store. */
#define MD_REG_REQUESTS_DIR "requests"
/* A request nobody picked up within this time is dropped by the servers (its asker gave up long ago). */
#define MD_REG_REQUEST_STALE apr_time_from_sec(600)

typedef enum {
    MD_REG_REQ_NEW,          /* asked, not yet picked up */
    MD_REG_REQ_PICKED,       /* a server drives the MD */
    MD_REG_REQ_DONE,         /* driven: outcome says what came of it */
    MD_REG_REQ_FAILED,       /* driven, and it failed: detail says why */
} md_reg_req_state_t;

typedef struct md_reg_request_t {
    const char *name;
    int force;
    md_reg_req_state_t state;
    const char *by;                /* who asked */
    apr_time_t asked;
    const char *holder;            /* the server process that picked it up */
    apr_time_t changed;            /* when its state last changed */
    const char *outcome;           /* md_drive_outcome_str of the drive */
    const char *detail;            /* why it failed */
    apr_array_header_t *serials;   /* const char*: the new certificates (renewed set), one per key type */
} md_reg_request_t;

const char *md_reg_req_state_str(md_reg_req_state_t state);

/* True when a server works on the store (STORE/requests exists). */
int md_reg_requests_served(md_reg_t *reg, apr_pool_t *p);
/* Ask the servers to renew name now (force: whatever the windows say), replacing an earlier request. */
apr_status_t md_reg_request_put(md_reg_t *reg, const char *name, int force, const char *by,
                                struct md_result_t *result, apr_pool_t *p);
/* The request for name as it is now; APR_ENOENT when there is none. */
apr_status_t md_reg_request_get(md_reg_request_t **preq, md_reg_t *reg, const char *name, apr_pool_t *p);
/* Remove the request for name (the asker's last step, or when it gives up). */
void md_reg_request_remove(md_reg_t *reg, const char *name, apr_pool_t *p);
/* True when the renewed certificates of a done request are the active ones in domains/NAME and their activation is
 * complete (staging/NAME gone: the activation's last step, after the old set went to archive/). */
int md_reg_request_active(md_reg_t *reg, const md_reg_request_t *req, apr_pool_t *p);

/* The server's side: the names with a new request (const char*); requests no server picked up within
 * MD_REG_REQUEST_STALE, and answered ones older than that, are removed. */
apr_status_t md_reg_requests_new(apr_array_header_t **pnames, md_reg_t *reg, apr_pool_t *p);
/* The runner, for an item with request set: picked up (holder: this process), then the answer after the drive; a
 * drive that waits (response delay, poll) leaves it picked: the front-end keeps setting request for the MD until a
 * drive ends otherwise. */
void md_reg_request_pick(md_reg_t *reg, const char *name, apr_pool_t *p);
void md_reg_request_answer(md_reg_t *reg, const char *name, md_drive_outcome_t outcome, apr_status_t rv,
                           const char *detail, apr_pool_t *p);

#endif
