/* Unit tests for the MD model: defaults, copies, names, file names, and md.json as mod_md 2.6 reads and writes it. */
#include <string.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "md.h"
#include "md_file.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store.h"
#include "test_common.h"

#define DAY apr_time_from_sec(86400)

/* md.json files written by Debian's mod_md 2.6.10 (see data/md/README.md). */
static const char *const mod_md_files[] = {
    "md/default.json", "md/all-settings.json", "md/p256-36h.json", "md/rsa4096-p384.json",
    "md/wildcard-tos.json", "md/window-90mi.json", "md/window-3601s.json", "md/window-0d.json",
    "md/two-p256-names.json", "md/static-files.json", "store/mod_md-2.6.10/domains/test.example.org/md.json",
    "store/mod_md-2.6.10/staging/test.example.org/md.json",
};

static apr_array_header_t *strs(apr_pool_t *p, const char *s1, const char *s2, const char *s3)
{
    apr_array_header_t *a = apr_array_make(p, 3, sizeof(const char *));

    if (s1) APR_ARRAY_PUSH(a, const char *) = s1;
    if (s2) APR_ARRAY_PUSH(a, const char *) = s2;
    if (s3) APR_ARRAY_PUSH(a, const char *) = s3;
    return a;
}

static const char *slurp(const char *name, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len = 0;

    ck_assert_msg(md_file_read(&data, &len, md_test_data(name, p), p) == APR_SUCCESS, "cannot read %s", name);
    return apr_pstrmemdup(p, data, len);
}

static md_json_t *parse(const char *text, apr_pool_t *p)
{
    md_json_t *json = NULL;

    ck_assert_int_eq(md_json_readd(&json, text, strlen(text), "test", NULL, p), APR_SUCCESS);
    return json;
}

static md_t *read_md(const char *text, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_t *md = NULL;

    ck_assert_msg(md_from_json(&md, parse(text, p), result, p) == APR_SUCCESS, "md_from_json: %s",
                  md_result_text(result, p));
    ck_assert_ptr_nonnull(md);
    return md;
}

static const char *str_at(const apr_array_header_t *a, int i)
{
    return APR_ARRAY_IDX(a, i, const char *);
}

static const md_pkey_spec_t *pk_at(const md_t *md, int i)
{
    return APR_ARRAY_IDX(md->pks, i, const md_pkey_spec_t *);
}

START_TEST(create_defaults)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = md_create(strs(p, "a.example", "www.a.example", "A.Example"), p);

    ck_assert_str_eq(md->name, "a.example");
    ck_assert_int_eq(md->domains->nelts, 2);          /* the duplicate, ignoring case, is dropped */
    ck_assert_str_eq(str_at(md->domains, 1), "www.a.example");
    ck_assert_int_eq(md->contacts->nelts, 0);
    ck_assert_int_eq(md->ca_urls->nelts, 0);
    ck_assert_int_eq(md->ca_challenges->nelts, 0);
    ck_assert_int_eq(md->pks->nelts, 1);
    ck_assert_int_eq(pk_at(md, 0)->type, MD_PKEY_RSA);
    ck_assert_uint_eq(pk_at(md, 0)->bits, 2048);
    ck_assert_str_eq(md_timeslice_print(md->renew_window, p), "33%");
    ck_assert_str_eq(md_timeslice_print(md->warn_window, p), "10%");
    ck_assert_int_eq(md->renew_mode, MD_RENEW_AUTO);
    ck_assert_int_eq(md->transitive, 1);
    ck_assert_int_eq(md->ari_renewals, 1);
    ck_assert_int_eq(md->must_staple, 0);
    ck_assert_int_eq(md->profile_mandatory, 0);
    ck_assert_int_eq(md->dns01_version, 1);
    ck_assert_int_eq(md->retry_failover, 13);
    ck_assert_int_eq(md->install_mode, 0600);
    ck_assert_int_eq(md->install_cmd->nelts, 0);
    ck_assert_int_eq(md->state, MD_S_UNKNOWN);
    ck_assert_ptr_null(md->extra);
    ck_assert_ptr_null(md->profile);
    ck_assert_ptr_null(md_create(NULL, p)->name);
    ck_assert_int_eq(md_create(NULL, p)->domains->nelts, 0);
    md_test_pool_done(p);
}
END_TEST

/* Every field set, including the extra keys, so that clone and round trips see them all. */
static md_t *full_md(apr_pool_t *p)
{
    md_t *md = md_create(strs(p, "a.example", "www.a.example", NULL), p);
    md_pkey_spec_t *ec = NULL;

    md->contacts = strs(p, "mailto:admin@a.example", NULL, NULL);
    md->ca_urls = strs(p, "https://ca1.example/dir", "https://ca2.example/dir", NULL);
    md->ca_effective = "https://ca2.example/dir";
    md->ca_account = "ACC1";
    md->ca_agreement = "accepted";
    md->ca_eab_kid = "kid-1";
    md->ca_eab_hmac = "aGVsbG8";
    md->ca_file = "/etc/ssl/roots.pem";
    md->ca_challenges = strs(p, "dns-01", "http-01", NULL);
    ck_assert_int_eq(md_pkey_spec_parse(&ec, "P-384", NULL, NULL, p), APR_SUCCESS);
    APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = ec;
    ck_assert_int_eq(md_timeslice_parse(&md->renew_window, "21d", "d", NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_timeslice_parse(&md->warn_window, "36h", "d", NULL, p), APR_SUCCESS);
    md->renew_mode = MD_RENEW_ALWAYS;
    md->must_staple = 1;
    md->profile = "shortlived";
    md->profile_mandatory = 1;
    md->ari_renewals = 0;
    md->preferred_chain = "ISRG Root X1";
    md->dns01_cmd = "/usr/bin/dns-hook";
    md->dns01_version = 2;
    md->retry_failover = 3;
    md->install_chain = "/etc/nginx/chain.pem";
    md->install_key = "/etc/nginx/key.pem";
    md->install_mode = 0640;
    md->install_cmd = strs(p, "systemctl", "reload", "nginx");
    md->install_owner = "root:ssl-cert";
    md->install_reload = strs(p, "/bin/systemctl", "reload", "postfix");
    md->state = MD_S_COMPLETE;
    md->state_descr = "all fine";
    md->extra = parse("{\"stapling\":true,\"future\":[1,2],\"ca\":{\"proto\":\"ACME\",\"x\":1}}", p);
    return md;
}

START_TEST(clone_is_deep)
{
    apr_pool_t *p = md_test_pool(), *src_pool = NULL;
    md_t *md, *copy;
    const char *expected;

    ck_assert_int_eq(apr_pool_create(&src_pool, p), APR_SUCCESS);
    md = full_md(src_pool);
    expected = md_json_writep(md_to_json(md, p), MD_JSON_FMT_COMPACT, p);
    copy = md_clone(md, p);
    apr_pool_destroy(src_pool);   /* the copy must not point into the original's pool (ASan checks) */
    ck_assert_str_eq(md_json_writep(md_to_json(copy, p), MD_JSON_FMT_COMPACT, p), expected);
    ck_assert_str_eq(copy->ca_file, "/etc/ssl/roots.pem");
    ck_assert_str_eq(copy->preferred_chain, "ISRG Root X1");
    ck_assert_str_eq(str_at(copy->install_cmd, 2), "nginx");
    ck_assert_str_eq(copy->install_owner, "root:ssl-cert");
    ck_assert_str_eq(str_at(copy->install_reload, 0), "/bin/systemctl");
    ck_assert_str_eq(pk_at(copy, 1)->curve, "P-384");
    ck_assert_ptr_null(md_clone(NULL, p));
    md_test_pool_done(p);
}
END_TEST

START_TEST(names_contained_and_common)
{
    apr_pool_t *p = md_test_pool();
    md_t *a = md_create(strs(p, "a.example", "www.a.example", "*.b.example"), p);
    md_t *b = md_create(strs(p, "c.example", "WWW.A.example", NULL), p);
    md_t *c = md_create(strs(p, "c.example", NULL, NULL), p);
    md_t *d = md_create(strs(p, "x.b.example", NULL, NULL), p);

    ck_assert(md_contains(a, "a.example"));
    ck_assert(md_contains(a, "WWW.A.EXAMPLE"));
    ck_assert(md_contains(a, "*.b.example"));
    ck_assert(!md_contains(a, "x.b.example"));   /* names, not wildcard matching */
    ck_assert(!md_contains(a, "example"));
    ck_assert(!md_contains(a, NULL));
    ck_assert_str_eq(md_common_name(a, b), "www.a.example");
    ck_assert_str_eq(md_common_name(b, c), "c.example");
    ck_assert_ptr_null(md_common_name(a, c));
    ck_assert_ptr_null(md_common_name(a, d));
    md_test_pool_done(p);
}
END_TEST

static void save_md(md_store_t *store, const char *n1, const char *n2, apr_pool_t *p)
{
    ck_assert_int_eq(md_save(md_create(strs(p, n1, n2, NULL), p), store, MD_SG_DOMAINS, 0, NULL, p), APR_SUCCESS);
}

/* Which stored MD holds a name: found through the cache in tmp/, which follows changed and removed md.json files
 * (also when another program rewrote one) and is rebuilt when unreadable. */
START_TEST(names_holder_cached)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *holder = NULL, *cache;
    md_result_t *result = md_result_make(p);
    md_store_t *store = NULL;
    md_t *md = md_create(strs(p, "new.example", "www.b.example", NULL), p);
    char *text = NULL;
    apr_size_t len;

    ck_assert_int_eq(md_store_fs_open(&store, dir, result, p), APR_SUCCESS);
    ck_assert_ptr_null(md_names_holder(&holder, store, md, p));
    ck_assert_ptr_null(holder);
    save_md(store, "a.example", "www.a.example", p);
    save_md(store, "b.example", NULL, p);
    ck_assert_ptr_null(md_names_holder(&holder, store, md, p));
    cache = md_file_join(p, dir, "tmp", "md-names.cache", NULL);
    ck_assert_int_eq(md_file_read(&text, &len, cache, p), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(text, "b.example "));
    /* b.example gains www.b.example: its md.json changed, the cache notices */
    save_md(store, "b.example", "www.b.example", p);
    ck_assert_str_eq(md_names_holder(&holder, store, md, p), "www.b.example");
    ck_assert_str_eq(holder, "b.example");
    /* a garbled cache is read past; the MD itself does not count */
    ck_assert_int_eq(md_file_write_atomic(cache, "garbage\n\n1 2", strlen("garbage\n\n1 2"), 0600, p), APR_SUCCESS);
    ck_assert_str_eq(md_names_holder(&holder, store, md_create(strs(p, "www.a.example", NULL, NULL), p), p),
                     "www.a.example");
    ck_assert_str_eq(holder, "a.example");
    ck_assert_ptr_null(md_names_holder(&holder, store, md_create(strs(p, "a.example", "x.example", NULL), p), p));
    /* removed: its names are free again */
    ck_assert_int_eq(md_store_purge(store, MD_SG_DOMAINS, "b.example", p), APR_SUCCESS);
    ck_assert_ptr_null(md_names_holder(&holder, store, md, p));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* An add notes its MD in the cache (md_names_note): the next look-up finds the cache current and does not rewrite it
 * (it read the new md.json and rewrote the cache of 1000 MDs at every add); a line cut short is not taken. */
START_TEST(names_note_keeps_cache)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *holder = NULL, *cache;
    md_result_t *result = md_result_make(p);
    md_store_t *store = NULL;
    md_t *b = md_create(strs(p, "b.example", "www.b.example", NULL), p);
    char *text = NULL, *cut;
    struct stat st0, st1;
    apr_size_t len;

    ck_assert_int_eq(md_store_fs_open(&store, dir, result, p), APR_SUCCESS);
    save_md(store, "a.example", NULL, p);
    ck_assert_ptr_null(md_names_holder(&holder, store, b, p));
    cache = md_file_join(p, dir, "tmp", "md-names.cache", NULL);
    ck_assert_int_eq(stat(cache, &st0), 0);
    ck_assert_int_eq(md_save(b, store, MD_SG_DOMAINS, 0, NULL, p), APR_SUCCESS);
    md_names_note(store, b, p);
    ck_assert_str_eq(md_names_holder(&holder, store, md_create(strs(p, "www.b.example", NULL, NULL), p), p),
                     "www.b.example");
    ck_assert_str_eq(holder, "b.example");
    ck_assert_int_eq(stat(cache, &st1), 0);
    ck_assert_int_eq(st1.st_ino, st0.st_ino);       /* appended to, not rewritten */
    /* a line without its newline (an append under way) is not taken: b's names come from its file */
    ck_assert_int_eq(md_file_read(&text, &len, cache, p), APR_SUCCESS);
    cut = strstr(text, ",www.b");
    ck_assert_ptr_nonnull(cut);
    ck_assert_int_eq(md_file_write_atomic(cache, text, (apr_size_t)(cut - text) + 4, 0600, p), APR_SUCCESS);
    ck_assert_str_eq(md_names_holder(&holder, store, md_create(strs(p, "www.b.example", NULL, NULL), p), p),
                     "www.b.example");
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(wildcards_cover_one_label)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = md_create(strs(p, "a.example", "*.b.example", NULL), p);

    ck_assert(md_dns_matches("*.b.example", "x.b.example"));
    ck_assert(md_dns_matches("*.B.example", "X.b.EXAMPLE"));
    ck_assert(!md_dns_matches("*.b.example", "y.x.b.example"));
    ck_assert(!md_dns_matches("*.b.example", "b.example"));
    ck_assert(!md_dns_matches("*.b.example", ".b.example"));
    ck_assert(!md_dns_matches("x.b.example", "*.b.example"));
    ck_assert(md_dns_matches("*.b.example", "*.b.example"));
    ck_assert(!md_dns_matches(NULL, "a"));
    ck_assert(md_covers(md, "A.example"));
    ck_assert(md_covers(md, "www.b.example"));
    ck_assert(!md_covers(md, "www.a.example"));
    ck_assert(!md_covers(NULL, "a.example"));
    md_test_pool_done(p);
}
END_TEST

START_TEST(domain_names_checked)
{
    static const char *const good[] = {
        "example.org", "a-b.example", "*.example.org", "localhost", "xn--bcher-kva.example", "127.0.0.1", "::1",
        "2001:db8::5",
    };
    static const char *const bad[] = {
        "", "bad_name!.org", "a..b", ".a.b", "a.b.", "*.", "*", "a.*.b", "sp ace.org", "*.*.example",
    };
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); ++i) {
        ck_assert_msg(md_domain_problem(good[i]) == NULL, "'%s' rejected: %s", good[i], md_domain_problem(good[i]));
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ck_assert_msg(md_domain_problem(bad[i]) != NULL, "'%s' accepted", bad[i]);
    }
    ck_assert_ptr_nonnull(md_domain_problem(NULL));
}
END_TEST

/* issue 15: names no CA can ever take are refused at apache2 -t (and by mdomain add), not warned about. */
START_TEST(domain_names_impossible)
{
    static const char *const never[] = { "*.org", "*.com", "300.1.1.1", "1.2.3", "1.2.3.4.5", "a.b.123", "42" };
    static const char *const fine[] = { "*.example.org", "*.co.uk", "1.2.3.4", "::1", "123.example.org", "a1.org1",
                                        "localhost", "bad_name.example.org" };
    char long_name[300];
    size_t i;

    for (i = 0; i < sizeof(never) / sizeof(never[0]); ++i) {
        ck_assert_msg(md_domain_impossible(never[i]) != NULL, "'%s' taken", never[i]);
        ck_assert_str_eq(md_domain_problem(never[i]), md_domain_impossible(never[i]));
    }
    for (i = 0; i < sizeof(fine) / sizeof(fine[0]); ++i) {
        ck_assert_msg(md_domain_impossible(fine[i]) == NULL, "'%s': %s", fine[i], md_domain_impossible(fine[i]));
    }
    ck_assert_ptr_null(md_domain_impossible(NULL));
    ck_assert_ptr_null(md_domain_impossible(""));
    ck_assert_str_eq(md_domain_impossible("300.1.1.1"), "not an IPv4 address (four numbers 0 to 255), and a DNS name "
                     "cannot end in a number");
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    ck_assert_str_eq(md_name_problem(long_name), "longer than 253 characters (no DNS name is)");
    long_name[253] = '\0';
    ck_assert_ptr_null(md_name_problem(long_name));
}
END_TEST

static void add_spec(md_t *md, const char *word, apr_pool_t *p)
{
    md_pkey_spec_t *spec = NULL;

    ck_assert_int_eq(md_pkey_spec_parse(&spec, word, NULL, NULL, p), APR_SUCCESS);
    APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = spec;
}

/* mod_md names files by key type, not position: an only EC key is privkey.secp256r1.pem (see the store). */
START_TEST(aspects_like_mod_md)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = md_create(strs(p, "a.example", NULL, NULL), p);

    ck_assert_str_eq(md_pkey_aspect(md, 0, p), "privkey.pem");
    ck_assert_str_eq(md_cert_aspect(md, 0, p), "pubcert.pem");
    add_spec(md, "secp384r1", p);
    add_spec(md, "P-256", p);
    ck_assert_str_eq(md_pkey_aspect(md, 1, p), "privkey.secp384r1.pem");
    ck_assert_str_eq(md_cert_aspect(md, 1, p), "pubcert.secp384r1.pem");
    ck_assert_str_eq(md_pkey_aspect(md, 2, p), "privkey.p-256.pem");
    ck_assert_ptr_null(md_pkey_aspect(md, 3, p));
    ck_assert_ptr_null(md_cert_aspect(md, -1, p));
    apr_array_clear(md->pks);
    add_spec(md, "secp256r1", p);
    add_spec(md, "rsa3072", p);
    ck_assert_str_eq(md_pkey_aspect(md, 0, p), "privkey.secp256r1.pem");
    ck_assert_str_eq(md_cert_aspect(md, 0, p), "pubcert.secp256r1.pem");
    ck_assert_str_eq(md_pkey_aspect(md, 1, p), "privkey.pem");
    md_test_pool_done(p);
}
END_TEST

START_TEST(state_names)
{
    ck_assert_str_eq(md_state_str(MD_S_UNKNOWN), "unknown");
    ck_assert_str_eq(md_state_str(MD_S_INCOMPLETE), "incomplete");
    ck_assert_str_eq(md_state_str(MD_S_COMPLETE), "complete");
    ck_assert_str_eq(md_state_str(MD_S_EXPIRED), "expired");
    ck_assert_str_eq(md_state_str(MD_S_ERROR), "error");
    ck_assert_str_eq(md_state_str(MD_S_MISSING_INFORMATION), "missing-information");
    ck_assert_str_eq(md_state_str((md_state_t)6), "unknown");
    ck_assert_str_eq(md_state_str((md_state_t)-1), "unknown");
}
END_TEST

/* Read what mod_md wrote, write it again: byte for byte what mod_md wrote. */
START_TEST(mod_md_files_round_trip)
{
    apr_pool_t *p = md_test_pool();
    const char *text = slurp(mod_md_files[_i], p);
    md_t *md = read_md(text, p);

    ck_assert_str_eq(md_json_writep(md_to_json(md, p), MD_JSON_FMT_INDENT, p), text);
    ck_assert_str_eq(md_json_writep(md_to_json(md_clone(md, p), p), MD_JSON_FMT_INDENT, p), text);
    md_test_pool_done(p);
}
END_TEST

START_TEST(mod_md_two_keys_array)
{
    apr_pool_t *p = md_test_pool();
    const char *text = slurp("md/rsa-p256-compact.json", p);
    md_t *md = read_md(text, p);

    ck_assert_str_eq(md->name, "probe.example");
    ck_assert_int_eq(md->pks->nelts, 2);
    ck_assert_int_eq(pk_at(md, 0)->type, MD_PKEY_RSA);
    ck_assert_uint_eq(pk_at(md, 0)->bits, 2048);
    ck_assert_int_eq(pk_at(md, 1)->type, MD_PKEY_EC);
    ck_assert_str_eq(pk_at(md, 1)->curve, "secp256r1");
    ck_assert_str_eq(md_pkey_aspect(md, 0, p), "privkey.pem");
    ck_assert_str_eq(md_pkey_aspect(md, 1, p), "privkey.secp256r1.pem");
    ck_assert_int_eq(md->state, MD_S_INCOMPLETE);
    ck_assert_str_eq(md->state_descr, "certificate(rsa) is missing");
    ck_assert_int_eq(md->renew_mode, MD_RENEW_AUTO);
    ck_assert_int_eq(md->transitive, 1);
    ck_assert_int_eq(md->ari_renewals, 1);
    ck_assert_str_eq(str_at(md->ca_urls, 0), "https://127.0.0.1:1/dir");
    ck_assert_ptr_null(md->ca_effective);
    ck_assert_str_eq(md->ca_agreement, "accepted");
    ck_assert_str_eq(md_json_writep(md_to_json(md, p), MD_JSON_FMT_COMPACT, p), text);
    md_test_pool_done(p);
}
END_TEST

START_TEST(mod_md_all_settings_read)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = read_md(slurp("md/all-settings.json", p), p);

    ck_assert_str_eq(str_at(md->domains, 1), "www.a.example");
    ck_assert_str_eq(str_at(md->contacts, 0), "mailto:admin@a.example");
    ck_assert_int_eq(md->ca_urls->nelts, 2);
    ck_assert_str_eq(str_at(md->ca_challenges, 1), "http-01");
    ck_assert_str_eq(pk_at(md, 0)->curve, "secp384r1");
    ck_assert_uint_eq(pk_at(md, 1)->bits, 3072);
    ck_assert_int_eq(md->renew_window->percent, -1);
    ck_assert_int_eq(md->renew_window->len, 21 * DAY);
    ck_assert_int_eq(md->warn_window->len, 5 * DAY);
    ck_assert_int_eq(md->renew_mode, MD_RENEW_MANUAL);
    ck_assert_int_eq(md->must_staple, 1);
    ck_assert_str_eq(md->dns01_cmd, "/usr/bin/dnscmd");
    ck_assert_str_eq(md->ca_eab_kid, "kid123");
    ck_assert_str_eq(md->ca_eab_hmac, "aGVsbG8gd29ybGQ");
    ck_assert_str_eq(md->profile, "shortlived");
    ck_assert_int_eq(md->profile_mandatory, 1);
    ck_assert_int_eq(md->ari_renewals, 0);
    ck_assert_str_eq(md_json_gets(md->extra, "require-https", NULL), "permanent");
    ck_assert(md_json_getb(md->extra, "stapling", NULL));
    md_test_pool_done(p);
}
END_TEST

/* An MD made from scratch with the settings of mod_md's default config writes what mod_md wrote. */
START_TEST(created_md_writes_mod_md_default)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = md_create(strs(p, "a.example", "b.example", NULL), p);

    md->ca_urls = strs(p, "https://127.0.0.1:1/dir", NULL, NULL);
    md->ca_agreement = "accepted";
    md->state = MD_S_INCOMPLETE;
    md->state_descr = "certificate(rsa) is missing";
    md->renew_mode = MD_RENEW_ALWAYS;
    ck_assert_str_eq(md_json_writep(md_to_json(md, p), MD_JSON_FMT_INDENT, p), slurp("md/default.json", p));
    md_test_pool_done(p);
}
END_TEST

/* An explicit single RSA 2048 (mod_md writes it so for a configured "MDPrivateKeys RSA", measured with mod_md
 * 2.6.10) is written back as it was; only a key type nobody configured is left out, as mod_md leaves it out. */
START_TEST(rsa2048_written_as_default)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = read_md(slurp("md/rsa-explicit.json", p), p), *again;
    md_json_t *json = md_to_json(md, p);

    ck_assert_int_eq(md->pks_default, 0);
    ck_assert_str_eq(md_json_gets(json, "privkey", "type", NULL), "RSA");
    ck_assert_int_eq(md_json_getl(json, "privkey", "bits", NULL), 2048);
    again = read_md(md_json_writep(json, MD_JSON_FMT_COMPACT, p), p);
    ck_assert_int_eq(again->pks->nelts, 1);
    ck_assert(md_pkey_spec_eq(pk_at(again, 0), pk_at(md, 0)));
    /* none recorded: mod_md's default, left out again */
    md = read_md("{\"name\":\"a.example\",\"domains\":[\"a.example\"]}", p);
    ck_assert_int_eq(md->pks_default, 1);
    ck_assert(!md_json_has_key(md_to_json(md, p), "privkey", NULL));
    md_test_pool_done(p);
}
END_TEST

START_TEST(older_forms_accepted)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = read_md("{\"name\":\"a.example\",\"domains\":[\"a.example\",\"A.EXAMPLE\"],"
                       "\"ca\":{\"proto\":\"ACME\",\"url\":\"https://ca.example/dir\",\"account\":\"ACC\"},"
                       "\"privkey\":{\"type\":\"Default\"},\"must-staple\":1,\"transitive\":true,"
                       "\"state\":2}", p);

    ck_assert_int_eq(md->domains->nelts, 1);
    ck_assert_int_eq(md->ca_urls->nelts, 1);
    ck_assert_str_eq(str_at(md->ca_urls, 0), "https://ca.example/dir");
    ck_assert_str_eq(md->ca_effective, "https://ca.example/dir");
    ck_assert_str_eq(md->ca_account, "ACC");
    ck_assert_int_eq(pk_at(md, 0)->type, MD_PKEY_RSA);
    ck_assert_uint_eq(pk_at(md, 0)->bits, 2048);
    ck_assert_int_eq(md->must_staple, 1);
    ck_assert_int_eq(md->transitive, 1);
    ck_assert_int_eq(md->state, MD_S_COMPLETE);
    /* missing keys take md_create's defaults */
    ck_assert_int_eq(md->renew_window->percent, 33);
    ck_assert_int_eq(md->warn_window->percent, 10);
    ck_assert_int_eq(md->ari_renewals, 1);
    ck_assert_int_eq(md->renew_mode, MD_RENEW_AUTO);
    ck_assert_int_eq(md->contacts->nelts, 0);
    md_test_pool_done(p);
}
END_TEST

/* The ca object in mod_md's order once an account and the CA in use are known. */
START_TEST(ca_key_order)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = md_create(strs(p, "a.example", NULL, NULL), p);

    md->ca_account = "ACC";
    md->ca_effective = "https://ca.example/dir";
    md->ca_urls = strs(p, "https://ca.example/dir", NULL, NULL);
    md->ca_agreement = "accepted";
    md->ca_challenges = strs(p, "http-01", NULL, NULL);
    ck_assert_str_eq(md_json_writep(md_json_getj(md_to_json(md, p), "ca", NULL), MD_JSON_FMT_COMPACT, p),
                     "{\"account\":\"ACC\",\"proto\":\"ACME\",\"url\":\"https://ca.example/dir\","
                     "\"urls\":[\"https://ca.example/dir\"],\"agreement\":\"accepted\","
                     "\"challenges\":[\"http-01\"]}");
    md_test_pool_done(p);
}
END_TEST

START_TEST(windows_printed_like_mod_md)
{
    static const struct { const char *in, *out; } cases[] = {
        { "36h", "36h" }, { "1d 12h", "36h" }, { "90mi", "90mi" }, { "1440mi", "1d" }, { "3601s", "3601s" },
        { "1500ms", "1500ms" }, { "0s", "0d" }, { "21d", "21d" }, { "0%", "0%" }, { "100%", "100%" },
    };
    apr_pool_t *p = md_test_pool();
    md_t *md = md_create(strs(p, "a.example", NULL, NULL), p), *back;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        ck_assert_int_eq(md_timeslice_parse(&md->renew_window, cases[i].in, "d", NULL, p), APR_SUCCESS);
        ck_assert_str_eq(md_json_gets(md_to_json(md, p), "renew-window", NULL), cases[i].out);
        back = read_md(md_json_writep(md_to_json(md, p), MD_JSON_FMT_COMPACT, p), p);
        ck_assert_int_eq(back->renew_window->percent, md->renew_window->percent);
        ck_assert_int_eq(back->renew_window->len, md->renew_window->len);
    }
    md_test_pool_done(p);
}
END_TEST

/* Our own settings: under "mdomain", only what differs from the defaults, and read back. */
START_TEST(own_settings_round_trip)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = full_md(p), *back;
    md_json_t *json = md_to_json(md, p);

    ck_assert_str_eq(md_json_writep(md_json_getj(json, "mdomain", NULL), MD_JSON_FMT_COMPACT, p),
                     "{\"ca-file\":\"/etc/ssl/roots.pem\",\"dns01-version\":2,\"preferred-chain\":\"ISRG Root X1\","
                     "\"retry-failover\":3,\"install\":{\"chain\":\"/etc/nginx/chain.pem\","
                     "\"key\":\"/etc/nginx/key.pem\",\"mode\":\"0640\",\"cmd\":[\"systemctl\",\"reload\",\"nginx\"],"
                     "\"owner\":\"root:ssl-cert\",\"reload\":[\"/bin/systemctl\",\"reload\",\"postfix\"]}}");
    ck_assert_str_eq(md_json_gets(json, "cmd-dns-01", NULL), "/usr/bin/dns-hook");   /* mod_md's key */
    back = read_md(md_json_writep(json, MD_JSON_FMT_INDENT, p), p);
    ck_assert(md_json_equal(md_to_json(back, p), json));
    ck_assert_str_eq(back->ca_file, "/etc/ssl/roots.pem");
    ck_assert_int_eq(back->dns01_version, 2);
    ck_assert_int_eq(back->retry_failover, 3);
    ck_assert_int_eq(back->install_mode, 0640);
    ck_assert_str_eq(str_at(back->install_cmd, 0), "systemctl");
    ck_assert_str_eq(back->install_owner, "root:ssl-cert");
    ck_assert_str_eq(str_at(back->install_reload, 2), "postfix");
    ck_assert(!md_json_has_key(md_to_json(md_create(strs(p, "x.example", NULL, NULL), p), p), "mdomain", NULL));
    md_test_pool_done(p);
}
END_TEST

START_TEST(own_settings_variants)
{
    apr_pool_t *p = md_test_pool();
    md_t *md;

    md = read_md("{\"name\":\"a\",\"domains\":[\"a\"],\"mdomain\":{\"install\":{\"mode\":416},"
                 "\"dns01-cmd\":\"/bin/own\"}}", p);
    ck_assert_int_eq(md->install_mode, 0640);
    ck_assert_str_eq(md->dns01_cmd, "/bin/own");
    md = read_md("{\"name\":\"a\",\"domains\":[\"a\"],\"cmd-dns-01\":\"/bin/modmd\","
                 "\"mdomain\":{\"dns01-cmd\":\"/bin/own\",\"retry-failover\":0}}", p);
    ck_assert_str_eq(md->dns01_cmd, "/bin/modmd");
    ck_assert_int_eq(md->retry_failover, 0);
    md_test_pool_done(p);
}
END_TEST

/* Keys we do not model survive a rewrite: mod_md's at their place, others at the end of their object. */
START_TEST(unknown_keys_kept)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = read_md("{\"future-top\":{\"a\":[1]},\"name\":\"a\",\"domains\":[\"a\"],"
                       "\"ca\":{\"future-ca\":true,\"proto\":\"ACME2\",\"urls\":[\"u\"]},"
                       "\"stapling\":true,\"require-https\":\"temporary\","
                       "\"mdomain\":{\"future-own\":\"x\",\"retry-failover\":5}}", p);
    const char *out = md_json_writep(md_to_json(md, p), MD_JSON_FMT_COMPACT, p);

    ck_assert_str_eq(out, "{\"name\":\"a\",\"domains\":[\"a\"],\"contacts\":[],\"transitive\":1,"
                          "\"ca\":{\"proto\":\"ACME2\",\"urls\":[\"u\"],\"future-ca\":true},"
                          "\"state\":0,\"renew-mode\":1,\"renew-window\":\"33%\",\"warn-window\":\"10%\","
                          "\"require-https\":\"temporary\",\"must-staple\":false,\"proto\":{\"acme-tls/1\":[]},"
                          "\"stapling\":true,\"profile-mandatory\":false,\"ari-renewals\":true,"
                          "\"future-top\":{\"a\":[1]},"
                          "\"mdomain\":{\"retry-failover\":5,\"future-own\":\"x\"}}");
    ck_assert_int_eq(md->retry_failover, 5);
    md_test_pool_done(p);
}
END_TEST

/* "proto": {"acme-tls/1": [...]} is the MD's acme-tls/1 names, read and written as mod_md does; other keys of
 * "proto" are kept. */
START_TEST(acme_tls_1_names)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = read_md("{\"name\":\"a\",\"domains\":[\"a\",\"b\"],"
                       "\"proto\":{\"acme-tls/1\":[\"b\"],\"future\":1}}", p);
    md_result_t *result = md_result_make(p);
    md_t *bad = NULL;

    ck_assert_int_eq(md->acme_tls_1->nelts, 1);
    ck_assert(md_acme_tls_1_has(md, "B"));
    ck_assert(!md_acme_tls_1_has(md, "a"));
    APR_ARRAY_PUSH(md->acme_tls_1, const char *) = "a";
    ck_assert_str_eq(md_json_writep(md_json_getj(md_to_json(md, p), "proto", NULL), MD_JSON_FMT_COMPACT, p),
                     "{\"acme-tls/1\":[\"b\",\"a\"],\"future\":1}");
    ck_assert_int_eq(md_clone(md, p)->acme_tls_1->nelts, 2);
    /* a new MD has none */
    md = md_create(md->domains, p);
    ck_assert_int_eq(md->acme_tls_1->nelts, 0);
    ck_assert_str_eq(md_json_writep(md_json_getj(md_to_json(md, p), "proto", NULL), MD_JSON_FMT_COMPACT, p),
                     "{\"acme-tls/1\":[]}");
    ck_assert_int_eq(md_from_json(&bad, parse("{\"name\":\"a\",\"domains\":[\"a\"],\"proto\":{\"acme-tls/1\":"
                                              "\"a\"}}", p), result, p), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(md_result_text(result, p), "proto.acme-tls/1"));
    md_test_pool_done(p);
}
END_TEST

/* The challenge types an MD may use: those MDCAChallenges names, or all. */
START_TEST(challenge_allowed)
{
    apr_pool_t *p = md_test_pool();
    md_t *md = read_md("{\"name\":\"a\",\"domains\":[\"a\"]}", p);

    ck_assert(md_challenge_allowed(md, "http-01"));
    ck_assert(md_challenge_allowed(NULL, "http-01"));
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "dns-01";
    ck_assert(!md_challenge_allowed(md, "http-01"));
    ck_assert(md_challenge_allowed(md, "dns-01"));
    md_test_pool_done(p);
}
END_TEST

/* Bad md.json: APR_EINVAL, and the result names the key. */
START_TEST(bad_values_named)
{
    static const struct { const char *json, *key; } cases[] = {
        { "{\"domains\":[\"a\"]}", "\"name\"" },
        { "{\"name\":\"\",\"domains\":[\"a\"]}", "\"name\"" },
        { "{\"name\":7,\"domains\":[\"a\"]}", "\"name\"" },
        { "{\"name\":\"a\"}", "\"domains\"" },
        { "{\"name\":\"a\",\"domains\":[]}", "\"domains\"" },
        { "{\"name\":\"a\",\"domains\":\"a\"}", "\"domains\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\",3]}", "\"domains\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"contacts\":{}}", "\"contacts\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"renew-window\":\"5x\"}", "\"renew-window\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"renew-window\":\"120%\"}", "\"renew-window\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"warn-window\":33}", "\"warn-window\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"privkey\":{\"type\":\"DSA\"}}", "\"privkey\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"privkey\":{\"type\":\"EC\",\"curve\":\"nope\"}}", "\"privkey\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"privkey\":{\"type\":\"RSA\",\"bits\":1024}}", "\"privkey\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"privkey\":[]}", "\"privkey\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"privkey\":[{\"type\":\"EC\",\"curve\":\"P-256\"},7]}",
          "\"privkey[1]\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"privkey\":[{\"type\":\"RSA\"},{\"type\":\"RSA\",\"bits\":4096}]}",
          "\"privkey\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"privkey\":\"RSA\"}", "\"privkey\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"state\":9}", "\"state\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"renew-mode\":3}", "\"renew-mode\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"renew-mode\":\"auto\"}", "\"renew-mode\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"must-staple\":\"yes\"}", "\"must-staple\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"ca\":[]}", "\"ca\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"ca\":{\"urls\":\"u\"}}", "\"ca.urls\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"eab\":{\"kid\":1}}", "\"eab.kid\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"mdomain\":{\"dns01-version\":3}}", "\"mdomain.dns01-version\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"mdomain\":{\"install\":{\"mode\":\"0999\"}}}",
          "\"mdomain.install.mode\"" },
        { "{\"name\":\"a\",\"domains\":[\"a\"],\"mdomain\":{\"install\":{\"cmd\":\"x\"}}}",
          "\"mdomain.install.cmd\"" },
        { "[1]", "not a JSON object" },
    };
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_t *md;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        md_result_reset(result);
        md = (md_t *)1;
        ck_assert_msg(md_from_json(&md, parse(cases[i].json, p), result, p) == APR_EINVAL, "%s", cases[i].json);
        ck_assert_ptr_null(md);
        ck_assert_int_eq(result->status, APR_EINVAL);
        ck_assert_msg(result->detail && strstr(result->detail, cases[i].key), "%s: detail '%s' lacks %s",
                      cases[i].json, result->detail ? result->detail : "(null)", cases[i].key);
    }
    md_from_json(&md, parse("{\"name\":\"a\",\"domains\":[\"a\"],\"state\":9}", p), result, p);
    ck_assert_str_eq(result->detail, "md.json: \"state\" is 9, allowed are 0 to 5");
    md_from_json(&md, parse("{\"name\":\"a\",\"domains\":[\"a\"],\"renew-window\":\"5x\"}", p), result, p);
    ck_assert_msg(strstr(result->detail, "md.json: \"renew-window\" is invalid: '5x' has unrecognized format") == result->detail,
                  "%s", result->detail);
    ck_assert_int_eq(md_from_json(&md, parse("{}", p), NULL, p), APR_EINVAL);   /* no result is fine */
    md_test_pool_done(p);
}
END_TEST

/* What the module refuses in MD names (only what cannot be a directory in the store), and the challenge types it
 * answers. */
START_TEST(md_names_and_challenge_types)
{
    static const char *const storable[] = { "bad_name.example.org", "a b.example.org", "*", "x.*.example.org",
                                            "example.org.", "::1" };
    static const char *const unstorable[] = { "", ".", "..", "a/b.example.org" };
    size_t i;

    for (i = 0; i < sizeof(storable) / sizeof(storable[0]); ++i) {
        ck_assert_msg(!md_name_problem(storable[i]), "%s", storable[i]);
    }
    for (i = 0; i < sizeof(unstorable) / sizeof(unstorable[0]); ++i) {
        ck_assert_msg(md_name_problem(unstorable[i]) != NULL, "'%s'", unstorable[i]);
    }
    ck_assert_str_eq(md_challenge_type_known("HTTP-01"), "http-01");
    ck_assert_str_eq(md_challenge_type_known("tls-alpn-01"), "tls-alpn-01");
    ck_assert_str_eq(md_challenge_type_known("Dns-01"), "dns-01");
    ck_assert_ptr_null(md_challenge_type_known("http-02"));
    ck_assert_ptr_null(md_challenge_type_known("tls-sni-01"));
    ck_assert_ptr_null(md_challenge_type_known(NULL));
}
END_TEST

Suite *md_test_md_suite(void)
{
    Suite *s = suite_create("md");
    TCase *tc = tcase_create("model");

    tcase_add_test(tc, create_defaults);
    tcase_add_test(tc, clone_is_deep);
    tcase_add_test(tc, names_contained_and_common);
    tcase_add_test(tc, names_holder_cached);
    tcase_add_test(tc, names_note_keeps_cache);
    tcase_add_test(tc, wildcards_cover_one_label);
    tcase_add_test(tc, domain_names_checked);
    tcase_add_test(tc, domain_names_impossible);
    tcase_add_test(tc, aspects_like_mod_md);
    tcase_add_test(tc, state_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("md.json");
    tcase_add_loop_test(tc, mod_md_files_round_trip, 0, (int)(sizeof(mod_md_files) / sizeof(mod_md_files[0])));
    tcase_add_test(tc, mod_md_two_keys_array);
    tcase_add_test(tc, mod_md_all_settings_read);
    tcase_add_test(tc, created_md_writes_mod_md_default);
    tcase_add_test(tc, rsa2048_written_as_default);
    tcase_add_test(tc, older_forms_accepted);
    tcase_add_test(tc, ca_key_order);
    tcase_add_test(tc, windows_printed_like_mod_md);
    tcase_add_test(tc, own_settings_round_trip);
    tcase_add_test(tc, own_settings_variants);
    tcase_add_test(tc, unknown_keys_kept);
    tcase_add_test(tc, acme_tls_1_names);
    tcase_add_test(tc, challenge_allowed);
    tcase_add_test(tc, bad_values_named);
    tcase_add_test(tc, md_names_and_challenge_types);
    suite_add_tcase(s, tc);
    return s;
}
