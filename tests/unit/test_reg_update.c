/* Unit tests of the registry's changes to stored MDs: md_reg_update (checks, the state against the new names and
 * key types, nothing lost), md_reg_md_diff, md_reg_md_widens, and md_reg_apply of a domains file. */
#include <string.h>
#include <apr_strings.h>

#include "md_conf_file.h"
#include "md_pkey.h"
#include "md_reg_update.h"
#include "test_common.h"
#include "test_reg.h"

#define A "a.example.org"
#define WWW "www.a.example.org"
#define B "b.example.org"

static apr_array_header_t *names(apr_pool_t *p, const char *csv)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    char *last, *w, *s = apr_pstrdup(p, csv);

    for (w = apr_strtok(s, ",", &last); w; w = apr_strtok(NULL, ",", &last)) APR_ARRAY_PUSH(a, const char *) = w;
    return a;
}

static md_reg_update_t *update_ok(tr_t *f, const char *name, const md_reg_change_t *ch)
{
    md_result_t *result = md_result_make(f->p);
    md_reg_update_t *upd = NULL;

    ck_assert_msg(md_reg_update(&upd, f->reg, name, ch, NULL, 0, result, f->p) == APR_SUCCESS, "update: %s",
                  md_result_text(result, f->p));
    return upd;
}

static const char *update_fails(tr_t *f, const char *name, const md_reg_change_t *ch)
{
    md_result_t *result = md_result_make(f->p);
    md_reg_update_t *upd = NULL;

    ck_assert_int_ne(md_reg_update(&upd, f->reg, name, ch, NULL, 0, result, f->p), APR_SUCCESS);
    return md_result_text(result, f->p);
}

static const char *diff_text(tr_t *f, const md_reg_update_t *upd)
{
    return apr_array_pstrcat(f->p, upd->changed, ' ');
}

/* A contacts change keeps the certificate covering: not due; a name added makes it due, with the certificate still
 * served and the account kept; the stored certificate and key files are untouched. */
START_TEST(update_keeps_state)
{
    md_reg_change_t ch;
    md_reg_update_t *upd;
    const char *account;
    md_t *md;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, A);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    account = tr_load(&f, A)->ca_account;
    ck_assert_ptr_nonnull(account);
    md_reg_change_init(&ch);
    ch.contacts = names(f.p, "ops@example.org");
    upd = update_ok(&f, A, &ch);
    ck_assert_str_eq(diff_text(&f, upd), "contacts");
    ck_assert_int_eq(upd->renew, 0);
    md = tr_load(&f, A);
    ck_assert_str_eq(APR_ARRAY_IDX(md->contacts, 0, const char *), "mailto:ops@example.org");
    ck_assert_int_eq(md->state, MD_S_COMPLETE);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_NOT_DUE);

    md_reg_change_init(&ch);
    ch.add_domains = names(f.p, "WWW.a.example.org");
    upd = update_ok(&f, A, &ch);
    ck_assert_str_eq(diff_text(&f, upd), "domains");
    ck_assert_int_eq(upd->renew, 1);
    md = tr_load(&f, A);
    ck_assert_str_eq(APR_ARRAY_IDX(md->domains, 1, const char *), WWW);
    ck_assert_int_eq(md->state, MD_S_INCOMPLETE);
    ck_assert_str_eq(md->ca_account, account);
    ck_assert_int_eq(md_reg_state(f.reg, md, NULL, f.p)->servable, 1);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(md_reg_state(f.reg, tr_load(&f, A), NULL, f.p)->state, MD_S_COMPLETE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ACCOUNT), 1);
    tr_done(&f);
}
END_TEST

/* A new key type: the certificate for it is missing, due now; a name removed: still covered. */
START_TEST(update_keys_and_removal)
{
    md_reg_change_t ch;
    apr_array_header_t *pks = apr_array_make(md_test_pool(), 2, sizeof(md_pkey_spec_t *));
    md_pkey_spec_t *spec;
    md_reg_update_t *upd;
    const char *err = NULL;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, A "," WWW);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    md_reg_change_init(&ch);
    ch.remove_domains = names(f.p, WWW);
    upd = update_ok(&f, A, &ch);
    ck_assert_int_eq(upd->renew, 0);
    ck_assert_int_eq(upd->md->domains->nelts, 1);
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_NOT_DUE);

    ck_assert_int_eq(md_pkey_spec_parse(&spec, "secp256r1", NULL, &err, f.p), APR_SUCCESS);
    APR_ARRAY_PUSH(pks, md_pkey_spec_t *) = spec;
    ck_assert_int_eq(md_pkey_spec_parse(&spec, "rsa2048", NULL, &err, f.p), APR_SUCCESS);
    APR_ARRAY_PUSH(pks, md_pkey_spec_t *) = spec;
    md_reg_change_init(&ch);
    ch.pks = pks;
    upd = update_ok(&f, A, &ch);
    ck_assert_str_eq(diff_text(&f, upd), "keys");
    ck_assert_int_eq(upd->renew, 1);
    ck_assert(md_reg_md_widens(upd->old_md, upd->md, f.p));
    ck_assert(!md_reg_md_widens(upd->md, upd->old_md, f.p));
    ck_assert_str_eq(tr_load(&f, A)->state_descr, "certificate(rsa) is missing");
    tr_done(&f);
}
END_TEST

/* Refused changes name the aspect and leave md.json as it was. */
START_TEST(update_refused)
{
    md_reg_change_t ch;
    const char *before, *err;
    tr_t f;

    tr_init(&f, 6);
    tr_add(&f, A);
    tr_add(&f, B);
    before = md_json_writep(md_to_json(tr_load(&f, A), f.p), MD_JSON_FMT_COMPACT, f.p);
    md_reg_change_init(&ch);
    ch.remove_domains = names(f.p, "x.example.org");
    tr_assert_has(update_fails(&f, A, &ch), "domains: 'x.example.org' is not a name of the MD " A);
    md_reg_change_init(&ch);
    ch.remove_domains = names(f.p, A);
    tr_assert_has(update_fails(&f, A, &ch), "would have no name left");
    md_reg_change_init(&ch);
    ch.add_domains = names(f.p, "bad_name.example.org");
    tr_assert_has(update_fails(&f, A, &ch), "'bad_name.example.org'");
    md_reg_change_init(&ch);
    ch.add_domains = names(f.p, B);
    tr_assert_has(update_fails(&f, A, &ch), "domains: '" B "' belongs to the MD '" B "' already");
    md_reg_change_init(&ch);
    ch.add_domains = names(f.p, "*.a.example.org");
    tr_assert_has(update_fails(&f, A, &ch), "wildcard names are validated with dns-01 only");
    md_reg_change_init(&ch);
    ch.install_chain = "/tmp/chain.pem";
    tr_assert_has(update_fails(&f, A, &ch), "install: the chain and the key paths go together");
    md_reg_change_init(&ch);
    ch.ca_urls = names(f.p, "");
    ch.ca_urls = apr_array_make(f.p, 1, sizeof(const char *));
    tr_assert_has(update_fails(&f, A, &ch), "ca: an MD needs a CA");
    ck_assert_str_eq(md_json_writep(md_to_json(tr_load(&f, A), f.p), MD_JSON_FMT_COMPACT, f.p), before);
    md_reg_change_init(&ch);
    ch.contacts = names(f.p, "a@example.org");
    err = update_fails(&f, "nope.example.org", &ch);
    tr_assert_has(err, "no managed domain 'nope.example.org'");
    tr_done(&f);
}
END_TEST

/* Every aspect md_reg_change_from_md sets is one md_reg_md_diff names; the same MD has no difference. */
START_TEST(update_diff_aspects)
{
    apr_pool_t *p = md_test_pool();
    md_t *a = md_create(names(p, A), p), *b;
    md_reg_change_t none;
    const char *err = NULL;

    APR_ARRAY_PUSH(a->ca_urls, const char *) = "https://ca.example.net/dir";
    b = md_clone(a, p);
    ck_assert_int_eq(md_reg_md_diff(a, b, p)->nelts, 0);
    md_reg_change_init(&none);
    ck_assert_int_eq(md_reg_change_md(b, &none, &err, p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_md_diff(a, b, p)->nelts, 0);
    b->proxy_url = "http://proxy:3128";
    b->renew_window = apr_pmemdup(p, b->renew_window, sizeof(*b->renew_window));
    b->renew_window->percent = 20;
    b->install_mode = 0640;
    b->must_staple = 1;
    ck_assert_str_eq(apr_array_pstrcat(p, md_reg_md_diff(a, b, p), ' '), "proxy renew-window must-staple install");
    /* a name that is no DNS name or address (mod_md takes it from a file, with a warning) is refused, also when the
     * change does not touch the names (found by fuzz_conf_file: it could not be recorded in md.json) */
    APR_ARRAY_PUSH(b->domains, const char *) = "bad_name.example.org";
    ck_assert_int_eq(md_reg_change_md(b, &none, &err, p), APR_EINVAL);
    tr_assert_has(err, "domains: 'bad_name.example.org': ");
    /* the change of a whole MD makes another its copy, name and state aside */
    b = md_create(names(p, B), p);
    ck_assert_int_eq(md_reg_change_md(b, md_reg_change_from_md(a, p), &err, p), APR_SUCCESS);
    ck_assert_str_eq(b->name, B);
    ck_assert_int_eq(md_reg_md_diff(a, b, p)->nelts, 0);
    md_test_pool_done(p);
}
END_TEST

static md_conf_file_t *conf(tr_t *f, const char *text)
{
    md_conf_file_t *cf = md_conf_file_parse("d.conf", text, strlen(text), NULL, f->p);

    ck_assert_msg(cf->errors->nelts == 0, "%s", apr_array_pstrcat(f->p, cf->errors, '\n'));
    return cf;
}

static apr_array_header_t *apply(tr_t *f, const char *text, int dry_run, int prune)
{
    md_result_t *result = md_result_make(f->p);
    apr_array_header_t *items = NULL;

    ck_assert_msg(md_reg_apply(&items, f->reg, conf(f, text)->mds, dry_run, prune, result, f->p) == APR_SUCCESS,
                  "%s", md_result_text(result, f->p));
    return items;
}

/* "NAME:ACTION" of each item, space separated. */
static const char *actions(tr_t *f, apr_array_header_t *items)
{
    const char *s = "";
    int i;

    for (i = 0; i < items->nelts; ++i) {
        const md_reg_apply_item_t *it = APR_ARRAY_IDX(items, i, const md_reg_apply_item_t *);
        s = apr_psprintf(f->p, "%s%s%s:%s", s, i ? " " : "", it->name, it->action);
    }
    return s;
}

/* The file's global part: the fake CA, P-256 keys (as tr_md makes them), contact and agreement. */
#define CA_LINE head(&f)

static const char *head(tr_t *f)
{
    return apr_psprintf(f->p, "MDCertificateAuthority %s\nMDPrivateKeys secp256r1\nMDContactEmail admin@example.org\n"
                        "MDCertificateAgreement accepted\n", fake_ca_directory_url(f->ca));
}

static const char *text(tr_t *f, const char *head_text, const char *rest)
{
    return apr_pstrcat(f->p, head_text, rest, NULL);
}

/* Added, unchanged, updated, unlisted and pruned; a dry run writes nothing; a new MD takes over an unlisted one with
 * its names, keeping its certificate. */
START_TEST(apply_file)
{
    apr_array_header_t *items;
    md_result_t *result;
    tr_t f;

    tr_init(&f, 6);
    items = apply(&f, text(&f, CA_LINE, "MDomain " A "\nMDomain " B "\n"), 1, 0);
    ck_assert_str_eq(actions(&f, items), A ":add " B ":add");
    ck_assert(!md_store_exists(f.store, MD_SG_DOMAINS, A, NULL, f.p));
    items = apply(&f, text(&f, CA_LINE, "MDomain " A "\nMDomain " B "\n"), 0, 0);
    ck_assert_str_eq(actions(&f, items), A ":add " B ":add");
    ck_assert_str_eq(tr_load(&f, B)->name, B);
    items = apply(&f, text(&f, CA_LINE, "MDomain " A "\nMDomain " B "\n"), 0, 0);
    ck_assert_str_eq(actions(&f, items), A ":unchanged " B ":unchanged");
    items = apply(&f, text(&f, CA_LINE, "MDomain " A " " WWW "\n"), 0, 0);
    ck_assert_str_eq(actions(&f, items), A ":update " B ":unlisted");
    ck_assert_str_eq(apr_array_pstrcat(f.p, APR_ARRAY_IDX(items, 0, md_reg_apply_item_t *)->changed, ' '), "domains");
    ck_assert_int_eq(tr_load(&f, A)->domains->nelts, 2);
    ck_assert(md_store_exists(f.store, MD_SG_DOMAINS, B, NULL, f.p));
    items = apply(&f, text(&f, CA_LINE, "MDomain " A " " WWW "\n"), 1, 1);
    ck_assert_str_eq(actions(&f, items), A ":unchanged " B ":remove");
    ck_assert(md_store_exists(f.store, MD_SG_DOMAINS, B, NULL, f.p));
    items = apply(&f, text(&f, CA_LINE, "MDomain " A " " WWW "\n"), 0, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(items, 1, md_reg_apply_item_t *)->archived_as, B ".1");
    ck_assert(!md_store_exists(f.store, MD_SG_DOMAINS, B, NULL, f.p));

    /* renamed in the file: the new name takes the stored MD over, and its account */
    tr_assert_outcome(tr_run1(&f, A, 0), MD_DRIVE_ACTIVATED);
    items = apply(&f, text(&f, CA_LINE, "MDomain " WWW " " A "\n"), 0, 0);
    ck_assert_str_eq(actions(&f, items), WWW ":update");
    ck_assert_str_eq(APR_ARRAY_IDX(items, 0, md_reg_apply_item_t *)->renamed_from, A);
    ck_assert(!md_store_exists(f.store, MD_SG_DOMAINS, A, NULL, f.p));
    ck_assert_str_eq(tr_load(&f, WWW)->name, WWW);
    ck_assert_ptr_nonnull(tr_load(&f, WWW)->ca_account);
    tr_assert_outcome(tr_run1(&f, WWW, 0), MD_DRIVE_NOT_DUE);

    /* a stored MD the file does not list keeps a name of the file's MD: refused, nothing written */
    tr_add(&f, B);
    result = md_result_make(f.p);
    ck_assert_int_eq(md_reg_apply(&items, f.reg, conf(&f, text(&f, CA_LINE, "MDomain " WWW " " A " " B "\n"
                                                               "MDomain c.example.org\n"))->mds, 0, 0, result, f.p),
                     APR_EINVAL);
    tr_assert_has(md_result_text(result, f.p), "d.conf:5: MD " WWW ": '" B "' belongs to the stored MD " B ", which "
                  "the file does not list");
    ck_assert(!md_store_exists(f.store, MD_SG_DOMAINS, "c.example.org", NULL, f.p));
    ck_assert_int_eq(tr_load(&f, WWW)->domains->nelts, 2);
    /* with prune it goes, and the name moves */
    items = apply(&f, text(&f, CA_LINE, "MDomain " WWW " " A " " B "\n"), 0, 1);
    ck_assert_str_eq(actions(&f, items), WWW ":update " B ":remove");
    ck_assert_int_eq(tr_load(&f, WWW)->domains->nelts, 3);
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_update_suite(void)
{
    Suite *s = suite_create("reg_update");
    TCase *tc = tcase_create("update");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, update_keeps_state);
    tcase_add_test(tc, update_keys_and_removal);
    tcase_add_test(tc, update_refused);
    tcase_add_test(tc, update_diff_aspects);
    tcase_add_test(tc, apply_file);
    suite_add_tcase(s, tc);
    return s;
}
