/* Unit tests of requests to the servers on a store (STORE/requests/NAME.json): asked, picked up and answered by the
 * runner under the MD's lease, the renewed set's serials and whether it is active, failures, stale requests. */
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_reg_lease.h"
#include "md_reg_live.h"
#include "md_reg_request.h"
#include "test_common.h"
#include "test_reg.h"

#define NAME "a.example.org"

static md_reg_request_t *get(tr_t *f)
{
    md_reg_request_t *req = NULL;

    ck_assert_int_eq(md_reg_request_get(&req, f->reg, NAME, f->p), APR_SUCCESS);
    return req;
}

/* What a server does with the new requests: drives each (forced), without activating it. */
static md_reg_item_t *serve(tr_t *f)
{
    apr_array_header_t *names = NULL, *items;
    md_reg_item_t *item;

    ck_assert_int_eq(md_reg_requests_new(&names, f->reg, f->p), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(names, 0, const char *), NAME);
    items = tr_items(f, NAME);
    item = tr_item(items, 0);
    item->request = 1;
    item->flags.force = get(f)->force;
    tr_run(f, items, NULL);
    return item;
}

/* Asked, renewed by the server (forced, although its certificate is new), answered with the new set's serial, which
 * becomes the active one at its activation. */
START_TEST(request_renewed)
{
    apr_array_header_t *items;
    md_reg_sync_item_t *sitem;
    md_reg_sync_opts_t opts;
    md_reg_request_t *req;
    const char *before, *dir;
    md_t *md;
    tr_t f;

    tr_init(&f, 0);
    md = tr_add(&f, NAME);
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    before = md_cert_get_serial_hex(tr_leaf(&f, NAME), f.p);
    ck_assert_int_eq(md_reg_requests_served(f.reg, f.p), 0);
    ck_assert_int_eq(md_reg_request_put(f.reg, NAME, 1, "mdomain pid 1", NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_requests_served(f.reg, f.p), 1);
    req = get(&f);
    ck_assert_int_eq(req->state, MD_REG_REQ_NEW);
    ck_assert_str_eq(req->by, "mdomain pid 1");
    tr_assert_outcome(serve(&f), MD_DRIVE_STAGED);
    req = get(&f);
    ck_assert_int_eq(req->state, MD_REG_REQ_DONE);
    ck_assert_str_eq(req->outcome, "staged");
    ck_assert_str_eq(req->holder, md_reg_lease_me(f.p));
    ck_assert_int_eq(req->serials->nelts, 1);
    ck_assert_str_ne(APR_ARRAY_IDX(req->serials, 0, const char *), before);
    ck_assert_int_eq(md_reg_request_active(f.reg, req, f.p), 0);
    items = apr_array_make(f.p, 1, sizeof(md_reg_sync_item_t *));
    sitem = apr_pcalloc(f.p, sizeof(*sitem));
    sitem->md = md;
    APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = sitem;
    memset(&opts, 0, sizeof(opts));
    md_reg_activate(f.reg, items, &opts, f.p);
    ck_assert_int_eq(md_reg_request_active(f.reg, req, f.p), 1);
    /* the new set in domains/ but staging/NAME still there: the activation is not done (the old set may not be in
     * archive/ yet), so not yet active (test_live_first_and_forced found no archive/NAME.2 after the answer) */
    dir = apr_pstrcat(f.p, md_store_base_dir(f.reg->store), "/staging/" NAME, NULL);
    ck_assert_int_eq(apr_dir_make(dir, APR_OS_DEFAULT, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_request_active(f.reg, req, f.p), 0);
    ck_assert_int_eq(apr_dir_remove(dir, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_request_active(f.reg, req, f.p), 1);
    md_reg_request_remove(f.reg, NAME, f.p);
    ck_assert_int_eq(md_reg_request_get(&req, f.reg, NAME, f.p), APR_ENOENT);
    tr_done(&f);
}
END_TEST

/* A renewal that fails is answered as failed, with the reason. */
START_TEST(request_failed)
{
    md_reg_request_t *req;
    tr_t f;

    tr_init(&f, 0);
    f.local = 0;                        /* nothing answers the challenges */
    tr_add(&f, NAME);
    ck_assert_int_eq(md_reg_request_put(f.reg, NAME, 1, "me", NULL, f.p), APR_SUCCESS);
    tr_assert_outcome(serve(&f), MD_DRIVE_FAILED);
    req = get(&f);
    ck_assert_int_eq(req->state, MD_REG_REQ_FAILED);
    ck_assert_ptr_nonnull(req->detail);
    ck_assert_int_eq(req->serials->nelts, 0);
    tr_done(&f);
}
END_TEST

/* While another process holds the MD's lease the request waits for it; a request nobody picks up goes stale. */
START_TEST(request_leased_and_stale)
{
    apr_array_header_t *names = NULL;
    md_reg_request_t *req = NULL;
    md_reg_lease_t *lk = NULL;
    tr_t f;

    tr_init(&f, 0);
    tr_add(&f, NAME);
    ck_assert_int_eq(md_reg_request_put(f.reg, NAME, 1, "me", NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_lease_take(&lk, NULL, f.reg, NAME, apr_time_from_sec(60), f.p), APR_SUCCESS);
    tr_assert_outcome(serve(&f), MD_DRIVE_LEASED);
    ck_assert_int_eq(get(&f)->state, MD_REG_REQ_NEW);
    md_reg_lease_release(lk);
    md_clock_sim_advance(f.sim, MD_REG_REQUEST_STALE + apr_time_from_sec(1));
    ck_assert_int_eq(md_reg_requests_new(&names, f.reg, f.p), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 0);
    ck_assert_int_eq(md_reg_request_get(&req, f.reg, NAME, f.p), APR_ENOENT);
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_request_suite(void)
{
    Suite *s = suite_create("reg_request");
    TCase *tc = tcase_create("request");

    tcase_add_test(tc, request_renewed);
    tcase_add_test(tc, request_failed);
    tcase_add_test(tc, request_leased_and_stale);
    suite_add_tcase(s, tc);
    return s;
}
