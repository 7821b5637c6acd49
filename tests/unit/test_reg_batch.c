/* Unit tests of the registry's batch (md_reg_batch) and its verdicts against the fake CA: one reload call per program
 * for the MDs renewed in the batch (MD_RENEWED), owed to the next batch when it fails; failed while backing off;
 * and of the store's accounts as the registry sees them (md_reg_account_restore, md_reg_account_users). */
#include <string.h>
#include <apr_strings.h>

#include "md_acme_acct.h"
#include "md_file.h"
#include "md_pkey.h"
#include "md_reg_account.h"
#include "test_common.h"
#include "test_reg.h"

/* A reload program: appends "ARG EVENT MD_RENEWED" to DIR/reload.log; exits with the first line of DIR/reload.exit
 * (that line is then removed), 0 without. */
static apr_array_header_t *reload_prog(tr_t *f, const char *arg)
{
    const char *path = md_file_join(f->p, f->dir, "reload.sh", NULL);
    const char *text = apr_psprintf(f->p,
        "#!/bin/sh\n"
        "echo \"$1 $MD_EVENT $MD_RENEWED\" >> %s/reload.log\n"
        "code=0\n"
        "if [ -s %s/reload.exit ]; then code=$(head -n1 %s/reload.exit); sed -i 1d %s/reload.exit; fi\n"
        "exit $code\n", f->dir, f->dir, f->dir, f->dir);
    apr_array_header_t *argv = apr_array_make(f->p, 2, sizeof(const char *));

    ck_assert_int_eq(md_file_write_atomic(path, text, strlen(text), 0755, f->p), APR_SUCCESS);
    APR_ARRAY_PUSH(argv, const char *) = path;
    APR_ARRAY_PUSH(argv, const char *) = arg;
    return argv;
}

/* What the reload program logged since the last call, then forgotten. */
static const char *reloads(tr_t *f)
{
    const char *path = md_file_join(f->p, f->dir, "reload.log", NULL);
    char *data = NULL;
    apr_size_t len = 0;

    if (md_file_read(&data, &len, path, f->p) != APR_SUCCESS) return "";
    md_file_rm_rf(path, f->p);
    return data;
}

static void add_with_reload(tr_t *f, const char *name, const char *arg)
{
    md_t *md = tr_md(f, name);

    if (arg) md->install_reload = reload_prog(f, arg);
    tr_save(f, md);
}

static apr_array_header_t *batch(tr_t *f, const char *names, int force)
{
    apr_array_header_t *items = tr_items(f, names);
    int i;

    for (i = 0; i < items->nelts; ++i) {
        tr_item(items, i)->flags.activate = 1;
        tr_item(items, i)->flags.force = force;
    }
    md_reg_batch(NULL, f->reg, &f->rn, items, f->p);
    return items;
}

/* Four MDs, two reload programs: one call each for the MDs renewed with it; a batch with nothing renewed calls none. */
START_TEST(batch_reloads_once_per_program)
{
    apr_array_header_t *items;
    md_reg_item_t *item;
    tr_t f;
    int i;

    tr_init(&f, 6);
    f.rn.workers = 2;
    add_with_reload(&f, "a.example.org", "x");
    add_with_reload(&f, "b.example.org", "x");
    add_with_reload(&f, "c.example.org", "y");
    add_with_reload(&f, "d.example.org", NULL);
    items = batch(&f, "a.example.org b.example.org c.example.org d.example.org", 0);
    ck_assert_str_eq(reloads(&f), "x reload a.example.org b.example.org\ny reload c.example.org\n");
    for (i = 0; i < 4; ++i) {
        item = tr_item(items, i);
        tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
        ck_assert_int_eq(item->renewed, 1);
        ck_assert_int_eq(item->failed, 0);
        ck_assert_int_eq(item->reloaded, i < 3);
        ck_assert_ptr_null(item->reload_detail);
    }
    items = batch(&f, "a.example.org b.example.org c.example.org d.example.org", 0);
    ck_assert_str_eq(reloads(&f), "");
    for (i = 0; i < 4; ++i) {
        tr_assert_outcome(tr_item(items, i), MD_DRIVE_NOT_DUE);
        ck_assert_int_eq(tr_item(items, i)->renewed + tr_item(items, i)->failed + tr_item(items, i)->reloaded, 0);
    }
    batch(&f, "b.example.org c.example.org", 1);      /* forced: only those two */
    ck_assert_str_eq(reloads(&f), "x reload b.example.org\ny reload c.example.org\n");
    tr_done(&f);
}
END_TEST

/* A reload that fails fails its MDs and is owed: the next batch calls it again, renewed or not, until it works. */
START_TEST(batch_reload_owed)
{
    const char *exit_path;
    md_reg_item_t *item;
    tr_t f;

    tr_init(&f, 6);
    add_with_reload(&f, "a.example.org", "x");
    exit_path = md_file_join(f.p, f.dir, "reload.exit", NULL);
    ck_assert_int_eq(md_file_write_atomic(exit_path, "3\n", 2, 0644, f.p), APR_SUCCESS);
    item = tr_item(batch(&f, "a.example.org", 0), 0);
    tr_assert_outcome(item, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(item->rv, APR_SUCCESS);
    ck_assert_int_eq(item->renewed, 1);
    ck_assert_int_eq(item->failed, 1);
    ck_assert_int_eq(item->reloaded, 0);
    tr_assert_has(item->reload_detail, "reload program");
    tr_assert_has(item->reload_detail, "exit 3");
    ck_assert_int_eq(md_reg_reload_owed(f.reg, tr_load(&f, "a.example.org"), f.p), 1);
    ck_assert_str_eq(reloads(&f), "x reload a.example.org\n");
    item = tr_item(batch(&f, "a.example.org", 0), 0);
    tr_assert_outcome(item, MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(item->renewed, 0);
    ck_assert_int_eq(item->failed, 0);
    ck_assert_int_eq(item->reloaded, 1);
    ck_assert_str_eq(reloads(&f), "x reload a.example.org\n");
    ck_assert_int_eq(md_reg_reload_owed(f.reg, tr_load(&f, "a.example.org"), f.p), 0);
    batch(&f, "a.example.org", 0);
    ck_assert_str_eq(reloads(&f), "");
    tr_done(&f);
}
END_TEST

/* Backing off after a failure is failed (the registry's verdict), with the failure it backs off from. */
START_TEST(batch_backing_off_is_failed)
{
    md_reg_item_t *item;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, "bad.example.org");
    fake_ca_fail_validation(f.ca, "bad.example.org", "nobody home");
    item = tr_item(batch(&f, "bad.example.org", 0), 0);
    tr_assert_outcome(item, MD_DRIVE_FAILED);
    ck_assert_int_eq(item->failed, 1);
    item = tr_item(batch(&f, "bad.example.org", 0), 0);
    tr_assert_outcome(item, MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(item->rv, APR_SUCCESS);
    ck_assert_int_eq(item->failed, 1);
    ck_assert_int_eq(item->renewed, 0);
    tr_assert_has(item->detail, "backing off after 1 failed attempt: ");
    tr_assert_has(item->detail, "nobody home");
    tr_assert_has(item->problem, "incorrectResponse");
    ck_assert_int_gt(item->next, tr_now(&f));
    tr_done(&f);
}
END_TEST

/* A restored account goes to the MDs of its CA without a usable one; users are the MDs naming it. */
START_TEST(account_restore_given_to_lacking)
{
    md_result_t *result;
    apr_array_header_t *names;
    md_acme_acct_t *acct, *other;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_pkey_t *key;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    result = md_result_make(f.p);
    ck_assert_int_eq(md_pkey_gen(&key, &spec, f.p), APR_SUCCESS);
    other = apr_pcalloc(f.p, sizeof(*other));
    other->url = "https://ca.example/acct/other";
    other->ca_url = APR_ARRAY_IDX(tr_md(&f, "x.example.org")->ca_urls, 0, const char *);
    other->status = "valid";
    ck_assert_int_eq(md_acme_acct_save(other, key, f.store, result, f.p), APR_SUCCESS);
    md = tr_md(&f, "has.example.org");
    md->ca_account = other->id;
    tr_save(&f, md);
    md = tr_md(&f, "lost.example.org");
    md->ca_account = "ACME-gone-0007";                  /* named, but not in accounts/ */
    tr_save(&f, md);
    tr_add(&f, "none.example.org");
    md = tr_md(&f, "elsewhere.example.org");
    APR_ARRAY_IDX(md->ca_urls, 0, const char *) = "https://other-ca.example/dir";
    tr_save(&f, md);
    acct = apr_pcalloc(f.p, sizeof(*acct));
    acct->url = "https://ca.example/acct/restored";
    acct->ca_url = other->ca_url;
    acct->status = "valid";
    ck_assert_int_eq(md_reg_account_restore(&names, f.reg, acct, key, result, f.p), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(names, 0, const char *), "lost.example.org");
    ck_assert_str_eq(APR_ARRAY_IDX(names, 1, const char *), "none.example.org");
    ck_assert_str_eq(tr_load(&f, "lost.example.org")->ca_account, acct->id);
    ck_assert_str_eq(tr_load(&f, "has.example.org")->ca_account, other->id);
    ck_assert_ptr_null(tr_load(&f, "elsewhere.example.org")->ca_account);
    names = md_reg_account_users(f.reg, acct->id, f.p);
    ck_assert_int_eq(names->nelts, 2);
    /* restored again: the same id (by its URL), nobody lacks it any more */
    acct->id = NULL;
    ck_assert_int_eq(md_reg_account_restore(&names, f.reg, acct, key, result, f.p), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 0);
    ck_assert_str_eq(acct->id, tr_load(&f, "none.example.org")->ca_account);
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_batch_suite(void)
{
    Suite *s = suite_create("reg_batch");
    TCase *tc = tcase_create("batch");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, batch_reloads_once_per_program);
    tcase_add_test(tc, batch_reload_owed);
    tcase_add_test(tc, batch_backing_off_is_failed);
    tcase_add_test(tc, account_restore_given_to_lacking);
    suite_add_tcase(s, tc);
    return s;
}
