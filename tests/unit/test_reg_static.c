/* Unit tests of MDs with static certificate files (MDCertificateFile) in the registry: watched as other MDs, their
 * renewal window and warnings from the file's certificate, expiring sent, renewed by ACME only under "always". */
#include <string.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_job.h"
#include "md_time.h"
#include "test_common.h"
#include "test_reg.h"

#define NAME "static.example.org"

/* The MD with the event handler "H", its certificate (6 days from now, by the fake CA) moved out of the store into
 * DIR/static.pem, which *pfiles names; domains/NAME holds md.json only, and nothing was called. */
static md_t *static_md(tr_t *f, md_renew_mode_t mode, apr_array_header_t **pfiles)
{
    md_t *md = tr_md(f, NAME);
    const char *src, *dst = md_file_join(f->p, f->dir, "static.pem", NULL);
    char *pem = NULL;
    apr_size_t len;

    md->event_handler = tr_prog(f, "H");
    tr_save(f, md);
    tr_assert_outcome(tr_run1(f, NAME, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(md_store_get_fname(&src, f->store, MD_SG_DOMAINS, NAME, md_cert_aspect(md, 0, f->p), f->p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_file_read(&pem, &len, src, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_file_write_atomic(dst, pem, len, 0644, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_store_purge(f->store, MD_SG_DOMAINS, NAME, f->p), APR_SUCCESS);
    md->renew_mode = mode;
    md_reg_static_md(md);
    tr_save(f, md);
    tr_calls(f);
    *pfiles = apr_array_make(f->p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(*pfiles, const char *) = dst;
    return md;
}

static md_reg_item_t *run_static(tr_t *f, const apr_array_header_t *files)
{
    apr_array_header_t *items = tr_items(f, NAME);       /* staged only, as httpd drives */

    tr_item(items, 0)->cert_files = files;
    tr_run(f, items, NULL);
    return tr_item(items, 0);
}

static md_json_t *status_of(tr_t *f, const md_t *md, const apr_array_header_t *files)
{
    md_reg_state_opts_t opts = { files, 0, 0 };

    return md_reg_status(f->reg, md_reg_state(f->reg, md, &opts, f->p), NULL, f->p);
}

/* Who is watched; static files under auto are recorded as manual (renew-mode 0), as mod_md does. */
START_TEST(static_watched)
{
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = tr_md(&f, NAME);
    ck_assert_int_eq(md_reg_is_watched(md, 0, 1), 1);
    ck_assert_int_eq(md_reg_is_watched(md, 0, 0), 0);
    ck_assert_int_eq(md_reg_is_watched(md, 1, 1), 1);
    ck_assert_int_eq(md_reg_is_watched(md, 1, 0), 0);
    md_reg_static_md(md);
    ck_assert_int_eq(md->renew_mode, MD_RENEW_MANUAL);
    ck_assert_int_eq(md_reg_is_watched(md, 1, 1), 1);
    ck_assert_int_eq(md_reg_is_watched(md, 0, 1), 0);
    md->renew_mode = MD_RENEW_ALWAYS;
    md_reg_static_md(md);
    ck_assert_int_eq(md->renew_mode, MD_RENEW_ALWAYS);
    ck_assert_int_eq(md_reg_is_watched(md, 1, 0), 1);
    ck_assert_int_eq(md_reg_is_watched(md, 0, 0), 1);
    tr_done(&f);
}
END_TEST

/* auto: the file's certificate gives renew-at and renew, expiring is sent at most daily in its warn window, and the
 * CA is never asked. */
START_TEST(static_auto_expiring)
{
    apr_array_header_t *files;
    md_reg_item_t *item;
    apr_time_t na, due;
    md_json_t *json;
    md_t *md;
    tr_t f;
    int total;

    tr_init(&f, 6);
    md = static_md(&f, MD_RENEW_AUTO, &files);
    ck_assert_int_eq(md->renew_mode, MD_RENEW_MANUAL);
    total = fake_ca_count(f.ca, FAKE_CA_ANY);
    json = status_of(&f, md, files);
    ck_assert_int_eq(md_json_getl(json, "renew-mode", NULL), 0);
    ck_assert_int_eq(md_json_getb(json, "renew", NULL), 0);
    ck_assert_int_eq(md_time_parse_http(&due, md_json_gets(json, "renew-at", NULL)), APR_SUCCESS);
    na = md_cert_get_not_after(APR_ARRAY_IDX(md_reg_state(f.reg, md, &(md_reg_state_opts_t){ files, 0, 0 },
                                                          f.p)->certs, 0, md_reg_cert_t *)->cert);
    ck_assert_int_lt(due, na);
    item = run_static(&f, files);
    tr_assert_outcome(item, MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(apr_time_sec(item->next), apr_time_sec(due));      /* the HTTP date has whole seconds */
    /* due, in the warn window: no renewal, expiring once a day */
    md_clock_sim_set(f.sim, na - 14 * TR_HOUR);
    ck_assert_int_eq(md_json_getb(status_of(&f, md, files), "renew", NULL), 1);
    tr_assert_outcome(run_static(&f, files), MD_DRIVE_NOT_DUE);
    ck_assert_str_eq(tr_calls(&f), "H expiring " NAME "\n");
    md_clock_sim_advance(f.sim, 2 * TR_HOUR);
    tr_assert_outcome(run_static(&f, files), MD_DRIVE_NOT_DUE);
    ck_assert_str_eq(tr_calls(&f), "");
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), total);
    ck_assert(!md_store_exists(f.store, MD_SG_STAGING, NAME, NULL, f.p));
    tr_done(&f);
}
END_TEST

/* always: an ACME renewal into the store once the file's certificate is due (its result in md-status' renewal.cert);
 * once that set is active and not due, the file's due certificate renews nothing more. */
START_TEST(static_always_renews)
{
    apr_array_header_t *files;
    md_reg_state_opts_t opts;
    md_reg_item_t *item;
    md_json_t *json;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    md = static_md(&f, MD_RENEW_ALWAYS, &files);
    item = run_static(&f, files);
    tr_assert_outcome(item, MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    md_clock_sim_set(f.sim, item->next);
    tr_assert_outcome(run_static(&f, files), MD_DRIVE_STAGED);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 2);
    json = status_of(&f, md, files);
    ck_assert_int_eq(md_json_getl(json, "renew-mode", NULL), MD_RENEW_ALWAYS);
    ck_assert_int_eq(md_json_getb(json, "renewal", "finished", NULL), 1);
    ck_assert_ptr_nonnull(md_json_gets(json, "renewal", "cert", "secp256r1", "serial", NULL));
    ck_assert_int_eq(md_json_getb(json, "renew", NULL), 1);          /* the file is still what is served */
    ck_assert_int_eq(tr_sync(&f, md, 0, 1), 1);
    memset(&opts, 0, sizeof(opts));
    ck_assert_int_eq(md_reg_state(f.reg, md, &opts, f.p)->complete, 1);
    tr_assert_outcome(run_static(&f, files), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 2);
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_static_suite(void)
{
    Suite *s = suite_create("reg_static");
    TCase *tc = tcase_create("static");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, static_watched);
    tcase_add_test(tc, static_auto_expiring);
    tcase_add_test(tc, static_always_renews);
    suite_add_tcase(s, tc);
    return s;
}
