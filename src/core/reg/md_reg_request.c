/* Requests to the servers on a store in STORE/requests/NAME.json: asked by the command, picked up and answered by the
 * server whose runner drives the MD (under its lease), read back by the command; stale ones are dropped. */
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_file.h"
#include "md_json.h"
#include "md_reg_lease.h"
#include "md_reg_request.h"
#include "md_result.h"
#include "md_time.h"

static const char *const state_names[] = { "new", "picked", "done", "failed" };

const char *md_reg_req_state_str(md_reg_req_state_t state)
{
    return (int)state >= 0 && state <= MD_REG_REQ_FAILED ? state_names[state] : "?";
}

static md_reg_req_state_t state_parse(const char *s)
{
    int i;

    for (i = 0; s && i <= MD_REG_REQ_FAILED; ++i) {
        if (!strcmp(s, state_names[i])) return (md_reg_req_state_t)i;
    }
    return MD_REG_REQ_FAILED;
}

static const char *req_dir(md_reg_t *reg, apr_pool_t *p)
{
    return md_file_join(p, md_store_base_dir(reg->store), MD_REG_REQUESTS_DIR, NULL);
}

static const char *req_path(md_reg_t *reg, const char *name, apr_pool_t *p)
{
    return md_file_join(p, req_dir(reg, p), apr_pstrcat(p, name, ".json", NULL), NULL);
}

static apr_time_t time_get(const md_json_t *json, const char *key)
{
    const char *s = md_json_gets(json, key, NULL);
    apr_time_t t = 0;

    if (!s || md_time_parse_rfc3339(&t, s) != APR_SUCCESS) return 0;
    return t;
}

static md_json_t *req_to_json(const md_reg_request_t *req, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(req->name, json, "name", NULL);
    md_json_setb(req->force, json, "force", NULL);
    md_json_sets(md_reg_req_state_str(req->state), json, "state", NULL);
    if (req->by) md_json_sets(req->by, json, "by", NULL);
    if (req->asked) md_json_sets(md_time_print_rfc3339(req->asked, p), json, "asked", NULL);
    if (req->holder) md_json_sets(req->holder, json, "holder", NULL);
    if (req->changed) md_json_sets(md_time_print_rfc3339(req->changed, p), json, "changed", NULL);
    if (req->outcome) md_json_sets(req->outcome, json, "outcome", NULL);
    if (req->detail) md_json_sets(req->detail, json, "detail", NULL);
    if (req->serials) md_json_setsa(req->serials, json, "serials", NULL);
    return json;
}

static apr_status_t req_save(md_reg_t *reg, const md_reg_request_t *req, apr_pool_t *p)
{
    apr_status_t rv = md_file_mkdirs(req_dir(reg, p), MD_DPERMS_PUBLIC, p);

    /* 0644: the command (often root) writes it, the server's children read and answer it */
    if (rv == APR_SUCCESS) {
        rv = md_json_writef(req_to_json(req, p), MD_JSON_FMT_INDENT, req_path(reg, req->name, p), MD_FPERMS_PUBLIC, p);
    }
    return rv;
}

int md_reg_requests_served(md_reg_t *reg, apr_pool_t *p)
{
    return md_file_is(req_dir(reg, p), APR_DIR, p) == APR_SUCCESS;
}

apr_status_t md_reg_request_put(md_reg_t *reg, const char *name, int force, const char *by, md_result_t *result,
                                apr_pool_t *p)
{
    md_reg_request_t req;
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    req.name = name;
    req.force = force;
    req.state = MD_REG_REQ_NEW;
    req.by = by;
    req.asked = req.changed = md_reg_now(reg);
    rv = req_save(reg, &req, p);
    if (rv != APR_SUCCESS) md_result_printf(result, rv, "cannot write %s", req_path(reg, name, p));
    return rv;
}

apr_status_t md_reg_request_get(md_reg_request_t **preq, md_reg_t *reg, const char *name, apr_pool_t *p)
{
    md_reg_request_t *req = apr_pcalloc(p, sizeof(*req));
    const char *path = req_path(reg, name, p);
    md_json_t *json = NULL;
    apr_status_t rv;

    *preq = NULL;
    if (md_file_is(path, APR_REG, p) != APR_SUCCESS) return APR_ENOENT;
    rv = md_json_readf(&json, path, NULL, p);
    if (rv != APR_SUCCESS) return rv;
    req->name = md_json_dups(p, json, "name", NULL);
    if (!req->name) req->name = apr_pstrdup(p, name);
    req->force = md_json_getb(json, "force", NULL);
    req->state = state_parse(md_json_gets(json, "state", NULL));
    req->by = md_json_dups(p, json, "by", NULL);
    req->asked = time_get(json, "asked");
    req->holder = md_json_dups(p, json, "holder", NULL);
    req->changed = time_get(json, "changed");
    req->outcome = md_json_dups(p, json, "outcome", NULL);
    req->detail = md_json_dups(p, json, "detail", NULL);
    req->serials = apr_array_make(p, 2, sizeof(const char *));
    md_json_getsa(req->serials, json, "serials", NULL);
    *preq = req;
    return APR_SUCCESS;
}

void md_reg_request_remove(md_reg_t *reg, const char *name, apr_pool_t *p)
{
    md_file_rm_rf(req_path(reg, name, p), p);
}

/* The serials of the certificates in GROUP/NAME. */
static apr_array_header_t *serials_in(md_reg_t *reg, md_store_group_t group, const char *name, apr_pool_t *p)
{
    apr_array_header_t *serials = apr_array_make(p, 2, sizeof(const char *)), *aspects = NULL, *chain;
    int i;

    if (md_store_list_aspects(&aspects, reg->store, group, name, "pubcert*.pem", p) != APR_SUCCESS) return serials;
    for (i = 0; i < aspects->nelts; ++i) {
        chain = NULL;
        if (md_store_load((void **)&chain, reg->store, group, name, APR_ARRAY_IDX(aspects, i, const char *),
                          MD_SV_CHAIN, NULL, p) != APR_SUCCESS || chain->nelts < 1) continue;
        APR_ARRAY_PUSH(serials, const char *) = md_cert_get_serial_hex(APR_ARRAY_IDX(chain, 0, md_cert_t *), p);
    }
    return serials;
}

int md_reg_request_active(md_reg_t *reg, const md_reg_request_t *req, apr_pool_t *p)
{
    apr_array_header_t *active;
    int i, j, found;

    if (req->state != MD_REG_REQ_DONE || !req->serials || req->serials->nelts == 0) return 0;
    /* the new set is in domains/ before the old one is archived: the activation ends with staging/NAME's removal */
    if (md_store_exists(reg->store, MD_SG_STAGING, req->name, NULL, p)) return 0;
    active = serials_in(reg, MD_SG_DOMAINS, req->name, p);
    for (i = 0; i < req->serials->nelts; ++i) {
        for (j = 0, found = 0; j < active->nelts && !found; ++j) {
            found = !strcmp(APR_ARRAY_IDX(req->serials, i, const char *), APR_ARRAY_IDX(active, j, const char *));
        }
        if (!found) return 0;
    }
    return 1;
}

/* Drop what nobody will read: a new request older than MD_REG_REQUEST_STALE, an answered one that old. */
static int stale(const md_reg_request_t *req, apr_time_t now)
{
    apr_time_t since = req->state == MD_REG_REQ_NEW ? req->asked : req->changed;

    return req->state != MD_REG_REQ_PICKED && since + MD_REG_REQUEST_STALE < now;
}

apr_status_t md_reg_requests_new(apr_array_header_t **pnames, md_reg_t *reg, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 2, sizeof(const char *)), *files = NULL;
    md_reg_request_t *req;
    const char *fname;
    apr_size_t len;
    int i;

    *pnames = names;
    if (md_store_list_aspects(&files, reg->store, MD_SG_NONE, MD_REG_REQUESTS_DIR, "*.json", p) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    for (i = 0; i < files->nelts; ++i) {
        fname = APR_ARRAY_IDX(files, i, const char *);
        len = strlen(fname) - strlen(".json");
        if (md_reg_request_get(&req, reg, apr_pstrndup(p, fname, len), p) != APR_SUCCESS) continue;
        if (stale(req, md_reg_now(reg))) md_reg_request_remove(reg, req->name, p);
        else if (req->state == MD_REG_REQ_NEW) APR_ARRAY_PUSH(names, const char *) = req->name;
    }
    return APR_SUCCESS;
}

void md_reg_request_pick(md_reg_t *reg, const char *name, apr_pool_t *p)
{
    md_reg_request_t *req = NULL;

    if (md_reg_request_get(&req, reg, name, p) != APR_SUCCESS || req->state != MD_REG_REQ_NEW) return;
    req->state = MD_REG_REQ_PICKED;
    req->holder = md_reg_lease_me(p);
    req->changed = md_reg_now(reg);
    req_save(reg, req, p);
}

void md_reg_request_answer(md_reg_t *reg, const char *name, md_drive_outcome_t outcome, apr_status_t rv,
                           const char *detail, apr_pool_t *p)
{
    md_reg_request_t *req = NULL;

    if (md_reg_request_get(&req, reg, name, p) != APR_SUCCESS || req->state != MD_REG_REQ_PICKED) return;
    if (rv == APR_SUCCESS && outcome == MD_DRIVE_WAITING) return;     /* answered when it has gone on */
    req->state = (rv == APR_SUCCESS && outcome != MD_DRIVE_FAILED) ? MD_REG_REQ_DONE : MD_REG_REQ_FAILED;
    req->outcome = md_drive_outcome_str(outcome);
    req->detail = req->state == MD_REG_REQ_FAILED ? detail : NULL;
    req->changed = md_reg_now(reg);
    if (outcome == MD_DRIVE_STAGED) req->serials = serials_in(reg, MD_SG_STAGING, name, p);
    else if (outcome == MD_DRIVE_ACTIVATED) req->serials = serials_in(reg, MD_SG_DOMAINS, name, p);
    req_save(reg, req, p);
}
