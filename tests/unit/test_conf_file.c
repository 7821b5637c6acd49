/* Unit tests of the directives' value parsers (md_config_values.h, shared by the module and mdomain apply) and of the
 * domains file: lines, words, sections, settings merged over the file's, and errors with FILE:LINE. */
#include <string.h>
#include <apr_strings.h>

#include "md_conf_file.h"
#include "md_config_values.h"
#include "md_pkey.h"
#include "test_common.h"

typedef struct {
    apr_pool_t *p;
    const char *warnings;
} warn_t;

static void on_warn(void *baton, const char *text)
{
    warn_t *w = baton;

    w->warnings = apr_pstrcat(w->p, w->warnings, text, "\n", NULL);
}

static md_conf_ctx_t *ctx(apr_pool_t *p, const char *directive, warn_t *w)
{
    md_conf_ctx_t *c = apr_pcalloc(p, sizeof(*c));

    c->directive = directive;
    c->p = p;
    c->warn = on_warn;
    c->baton = w;
    w->p = p;
    w->warnings = "";
    return c;
}

static void assert_has(const char *haystack, const char *needle)
{
    ck_assert_msg(haystack && strstr(haystack, needle), "'%s' not in '%s'", needle, haystack ? haystack : "(null)");
}

START_TEST(values_simple)
{
    apr_pool_t *p = md_test_pool();
    apr_interval_time_t d = 0;
    md_timeslice_t *ts = NULL;
    warn_t w;
    int v = -1;

    ck_assert_ptr_null(md_conf_onoff(ctx(p, "MDMustStaple", &w), "ON", &v));
    ck_assert_int_eq(v, 1);
    ck_assert_str_eq(md_conf_onoff(ctx(p, "MDMustStaple", &w), "yes", &v),
                     "MDMustStaple 'yes': supported parameter values are 'on' and 'off'");
    ck_assert_ptr_null(md_conf_duration(ctx(p, "MDCheckInterval", &w), "2", "h", &d));
    ck_assert_int_eq(d, apr_time_from_sec(7200));
    assert_has(md_conf_duration(ctx(p, "MDCheckInterval", &w), "2x", "h", &d), "without a unit in hours");
    ck_assert_ptr_null(md_conf_window(ctx(p, "MDRenewWindow", &w), "21", &ts));
    ck_assert_int_eq(ts->len, apr_time_from_sec(21 * 86400));
    ck_assert_str_eq(md_conf_window(ctx(p, "MDRenewWindow", &w), "3x", &ts),
                     "MDRenewWindow '3x' has unrecognized format: use a duration with a unit d, h, mi, s or ms (e.g. "
                     "21d, 12h) or a percentage (e.g. 33%) (without a unit in days)");
    assert_has(md_conf_window(ctx(p, "MDWarnWindow", &w), "100%", &ts), "MDWarnWindow '100%'");
    ck_assert_ptr_null(md_conf_renew_mode(ctx(p, "MDRenewMode", &w), "Always", &v));
    ck_assert_int_eq(v, MD_RENEW_ALWAYS);
    assert_has(md_conf_renew_mode(ctx(p, "MDRenewMode", &w), "sometimes", &v), "MDRenewMode 'sometimes'");
    ck_assert_ptr_null(md_conf_dns01_version(ctx(p, "MDChallengeDns01Version", &w), "2", &v));
    ck_assert_int_eq(v, 2);
    assert_has(md_conf_dns01_version(ctx(p, "MDChallengeDns01Version", &w), "3", &v), "Only versions `1` and `2`");
    ck_assert_ptr_null(md_conf_retry_failover(ctx(p, "MDRetryFailover", &w), " +7 ", &v));
    ck_assert_int_eq(v, 7);
    assert_has(md_conf_retry_failover(ctx(p, "MDRetryFailover", &w), "0", &v), "must be a number > 0");
    ck_assert_ptr_null(md_conf_mode(ctx(p, "MDInstallMode", &w), "0640", &v));
    ck_assert_int_eq(v, 0640);
    assert_has(md_conf_mode(ctx(p, "MDInstallMode", &w), "0999", &v), "MDInstallMode '0999': an octal file mode");
    md_test_pool_done(p);
}
END_TEST

/* A profile name is UTF-8 without control characters; invalid UTF-8 was taken and then lost from md.json (fuzz_conf_file
 * found "MDProfile \xe0\x9e\x9c": the MD read back from its md.json had no profile). */
START_TEST(values_profile)
{
    apr_pool_t *p = md_test_pool();
    const char *profile = NULL;
    warn_t w;

    ck_assert_ptr_null(md_conf_profile(ctx(p, "MDProfile", &w), "shortlived", &profile));
    ck_assert_str_eq(profile, "shortlived");
    ck_assert_str_eq(w.warnings, "");
    ck_assert_str_eq(md_conf_profile(ctx(p, "MDProfile", &w), "\xe0\x9e\x9c", &profile),
                     "MDProfile: byte 1 of the profile name is 0xE0, no UTF-8: a CA's profile names are words such "
                     "as 'classic' or 'shortlived'");
    assert_has(md_conf_profile(ctx(p, "MDProfile", &w), "ok\xc3", &profile), "byte 3 of the profile name is 0xC3");
    assert_has(md_conf_profile(ctx(p, "MDProfile", &w), "tab\t", &profile),
               "byte 4 of the profile name is 0x09, a control character");
    assert_has(md_conf_profile(ctx(p, "MDProfile", &w), "", &profile), "MDProfile needs a profile name");
    ck_assert_str_eq(profile, "shortlived");
    /* what mod_md takes and no CA is likely to offer: taken, with a warning */
    ck_assert_ptr_null(md_conf_profile(ctx(p, "MDProfile", &w), "short lived", &profile));
    ck_assert_str_eq(profile, "short lived");
    assert_has(w.warnings, "the profile name 'short lived' is not a word of printable ASCII");
    ck_assert_ptr_null(md_conf_profile(ctx(p, "MDProfile", &w), "kurzlebig-\xc3\xa4", &profile));
    md_test_pool_done(p);
}
END_TEST

START_TEST(values_md)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *a = NULL, *names = apr_array_make(p, 2, sizeof(const char *));
    const char *s = NULL, *kid = NULL, *hmac = NULL;
    md_challenge_delays_t *delays = NULL;
    const char *argv[] = { "Example.ORG", "www.example.org", "example.org", "manual" };
    const char *cas[] = { "letsencrypt", "https://ca.example.net/dir", "LetsEncrypt" };
    const char *types[] = { "DNS-01", "foo-01" };
    const char *keys[] = { "RSA", "3072", "P-256" };
    const char *delay[] = { "dns-01=2m" };
    int transitive = -1;
    warn_t w;

    ck_assert_ptr_null(md_conf_names(ctx(p, "MDomain", &w), 4, argv, 0, names, NULL, &transitive));
    ck_assert_int_eq(names->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(names, 0, const char *), "example.org");
    ck_assert_int_eq(transitive, 0);
    ck_assert_ptr_null(md_conf_names(ctx(p, "MDMember", &w), 1, (const char *[]){ "bad_name.org" }, 1, names,
                                     NULL, &transitive));
    assert_has(w.warnings, "'bad_name.org' is not a valid DNS name or IP address");
    ck_assert_ptr_null(md_conf_ca(ctx(p, "MDCertificateAuthority", &w), 3, cas, &a));
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(a, 1, const char *), "https://ca.example.net/dir");
    assert_has(md_conf_ca(ctx(p, "MDCertificateAuthority", &w), 1, (const char *[]){ "nope" }, &a),
               "MDCertificateAuthority 'nope': The CA name 'nope' is not known");
    ck_assert_ptr_null(md_conf_contact(ctx(p, "MDContactEmail", &w), "mailto:ops@example.org", &s));
    ck_assert_str_eq(s, "mailto:ops@example.org");
    ck_assert_ptr_null(md_conf_contact(ctx(p, "MDContactEmail", &w), "ops", &s));
    assert_has(w.warnings, "'ops' is not an email address");
    ck_assert_ptr_null(md_conf_challenges(ctx(p, "MDCAChallenges", &w), 2, types, &a));
    ck_assert_str_eq(APR_ARRAY_IDX(a, 0, const char *), "dns-01");
    ck_assert_str_eq(APR_ARRAY_IDX(a, 1, const char *), "foo-01");
    assert_has(w.warnings, "unknown challenge type 'foo-01'");
    ck_assert_ptr_null(md_conf_pkeys(ctx(p, "MDPrivateKeys", &w), 3, keys, &a));
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_int_eq(APR_ARRAY_IDX(a, 0, md_pkey_spec_t *)->bits, 3072);
    assert_has(md_conf_pkeys(ctx(p, "MDPrivateKeys", &w), 2, (const char *[]){ "RSA", "1024" }, &a),
               "MDPrivateKeys 'RSA 1024': ");
    ck_assert_ptr_null(md_conf_response_delay(ctx(p, "MDChallengeResponseDelay", &w), 1, delay, &delays));
    ck_assert_int_eq(delays->dns01, apr_time_from_sec(120));
    ck_assert_ptr_null(md_conf_eab(ctx(p, "MDExternalAccountBinding", &w), "none", NULL, &kid, &hmac));
    ck_assert_ptr_null(kid);
    ck_assert_ptr_null(md_conf_eab(ctx(p, "MDExternalAccountBinding", &w), "kid-1", "c2VjcmV0", &kid, &hmac));
    ck_assert_str_eq(kid, "kid-1");
    assert_has(md_conf_eab(ctx(p, "MDExternalAccountBinding", &w), "/nonexistent/eab.json", NULL, &kid, &hmac),
               "MDExternalAccountBinding '/nonexistent/eab.json': ");
    ck_assert_ptr_null(md_conf_cmdline(ctx(p, "MDChallengeDns01", &w), "  /bin/dns 'a b'  ", 0, &s, &a));
    ck_assert_str_eq(s, "/bin/dns 'a b'");
    ck_assert_str_eq(APR_ARRAY_IDX(a, 1, const char *), "a b");
    ck_assert_str_eq(md_conf_cmdline(ctx(p, "MDEventHandler", &w), " ", 0, &s, &a),
                     "MDEventHandler needs the program to call (and its arguments), e.g. MDEventHandler "
                     "/usr/local/bin/program");
    assert_has(md_conf_proxy(ctx(p, "MDHttpProxy", &w), "ftp://proxy", &s), "MDHttpProxy 'ftp://proxy': ");
    ck_assert_ptr_null(md_conf_proxy(ctx(p, "MDHttpProxy", &w), "http://proxy:3128", &s));
    md_test_pool_done(p);
}
END_TEST

static md_conf_file_t *parse(apr_pool_t *p, const char *text)
{
    return md_conf_file_parse("d.conf", text, strlen(text), "/etc/mdomain", p);
}

static const md_t *md_at(const md_conf_file_t *cf, int i)
{
    ck_assert_int_gt(cf->mds->nelts, i);
    return APR_ARRAY_IDX(cf->mds, i, const md_conf_file_md_t *)->md;
}

/* Global settings apply to every MD, a section's over them; lines, continuations, comments and quotes as httpd. */
START_TEST(file_sections)
{
    apr_pool_t *p = md_test_pool();
    const md_conf_file_t *cf = parse(p,
        "# the CA for all\n"
        "  MDCertificateAuthority https://ca.example.net/dir\n"
        "MDContactEmail ops@example.org\n"
        "MDPrivateKeys P-256\n"
        "MDHttpProxy http://proxy:3128\n"
        "MDRetryFailover 3\n"
        "MDomain A.example.org \\\n"
        "        www.a.example.org\n"
        "<MDomain b.example.org>\n"
        "    MDMember www.b.example.org\n"
        "    MDPrivateKeys RSA 3072\n"
        "    MDRenewWindow 20d\n"
        "    MDEventHandler /usr/local/bin/hook \"two words\"\n"
        "    MDInstallChain b/chain.pem\n"
        "    MDInstallKey /etc/ssl/b.key\n"
        "    MDInstallMode 0640\n"
        "    MDInstallOwner root:0\n"
        "</MDomain>\n"
        "MDInstallCmd /bin/systemctl reload postfix\n"
        "MDInstallReload /usr/sbin/postfix reload\n");
    const md_t *a, *b;

    ck_assert_msg(cf->errors->nelts == 0, "%s", apr_array_pstrcat(p, cf->errors, '\n'));
    ck_assert_int_eq(cf->mds->nelts, 2);
    a = md_at(cf, 0);
    b = md_at(cf, 1);
    ck_assert_str_eq(a->name, "a.example.org");
    ck_assert_int_eq(a->domains->nelts, 2);
    ck_assert_int_eq(APR_ARRAY_IDX(cf->mds, 0, md_conf_file_md_t *)->line, 7);
    ck_assert_int_eq(APR_ARRAY_IDX(cf->mds, 1, md_conf_file_md_t *)->line, 9);
    ck_assert_str_eq(APR_ARRAY_IDX(a->ca_urls, 0, const char *), "https://ca.example.net/dir");
    ck_assert_str_eq(APR_ARRAY_IDX(b->contacts, 0, const char *), "mailto:ops@example.org");
    ck_assert_str_eq(APR_ARRAY_IDX(a->pks, 0, md_pkey_spec_t *)->curve, "P-256");
    ck_assert_int_eq(APR_ARRAY_IDX(b->pks, 0, md_pkey_spec_t *)->bits, 3072);
    ck_assert_int_eq(a->renew_window->percent, 33);
    ck_assert_int_eq(b->renew_window->len, apr_time_from_sec(20 * 86400));
    ck_assert_str_eq(b->proxy_url, "http://proxy:3128");
    ck_assert_int_eq(b->retry_failover, 3);
    ck_assert_int_eq(b->domains->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(b->event_handler, 1, const char *), "two words");
    ck_assert_int_eq(a->event_handler->nelts, 0);
    ck_assert_str_eq(b->install_chain, "/etc/mdomain/b/chain.pem");
    ck_assert_str_eq(b->install_key, "/etc/ssl/b.key");
    ck_assert_int_eq(b->install_mode, 0640);
    ck_assert_int_eq(b->install_cmd->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(a->install_cmd, 2, const char *), "postfix");
    ck_assert_str_eq(b->install_owner, "root:0");          /* the section's */
    ck_assert_ptr_null(a->install_owner);
    ck_assert_int_eq(a->install_reload->nelts, 2);          /* the global one, for both */
    ck_assert_str_eq(APR_ARRAY_IDX(b->install_reload, 1, const char *), "reload");
    md_test_pool_done(p);
}
END_TEST

/* Every error is collected, each with FILE:LINE, the directive and its value; warnings too. */
START_TEST(file_errors)
{
    apr_pool_t *p = md_test_pool();
    const md_conf_file_t *cf = parse(p,
        "MDRenewWindow 3x\n"                        /* 1 */
        "MDomain ok.example.org\n"                  /* 2 */
        "<MDomain x.example.org>\n"                 /* 3 */
        "  MDPrivateKeys RSA 1024\n"                /* 4 */
        "  MDRetryFailover 3\n"                     /* 5 */
        "  ServerName x\n"                          /* 6 */
        "  MDStapling on\n"                         /* 7 */
        "  MDContactEmail nobody\n"                 /* 8 */
        "  MDMustStaple\n"                          /* 9 */
        "</MDomain>\n"                              /* 10 */
        "MDInstallKey /tmp/k\n"                     /* 11 */
        "MDomain ok.example.org\n"                  /* 12 */
        "</MDomainSet>\n"                           /* 13 */
        "<MDomain y.example.org>\n"                 /* 14 */
        "  <MDomain z.example.org>\n"               /* 15 */
        "<MDomain w.example.org>\n"                 /* 16 */
        "  MDInstallChain /tmp/w\n"                 /* 17 */
        "</MDomain>\n"                              /* 18 */
        "MDInstallOwner nobody-at-all:root\n");      /* 19 */
    const char *all = apr_array_pstrcat(p, cf->errors, '\n'), *warnings = apr_array_pstrcat(p, cf->warnings, '\n');

    assert_has(all, "d.conf:1: MDRenewWindow '3x' has unrecognized format");
    assert_has(all, "d.conf:4: MDPrivateKeys 'RSA 1024': ");
    assert_has(all, "d.conf:5: 'MDRetryFailover 3': MDRetryFailover is not allowed inside an '<MDomainSet' context");
    assert_has(all, "d.conf:6: Invalid command 'ServerName', perhaps misspelled");
    assert_has(all, "d.conf:9: MDMustStaple takes one argument, on|off");
    assert_has(all, "d.conf:11: 'MDInstallKey /tmp/k': MDInstallKey is only valid inside a '<MDomainSet' context");
    assert_has(all, "d.conf:13: </MDomainSet> without matching <MDomainSet section");
    assert_has(all, "d.conf:15: '<MDomain z.example.org>': <MDomain is not allowed inside");
    assert_has(all, "d.conf:16: '<MDomain w.example.org>': <MDomain is not allowed inside");
    assert_has(all, "d.conf:12: the name 'ok.example.org' is in two managed domains: MD ok.example.org (defined at "
               "d.conf:2) and MD ok.example.org (defined at d.conf:12)");
    assert_has(all, "d.conf:19: MDInstallOwner 'nobody-at-all:root': no such user 'nobody-at-all'");
    assert_has(all, "d.conf:14: MD y.example.org has MDInstallChain without MDInstallKey: the two go together");
    assert_has(warnings, "d.conf:7: 'MDStapling on': MDStapling is a setting of the Apache module: it has no effect");
    assert_has(warnings, "d.conf:8: 'MDContactEmail nobody': 'nobody' is not an email address");
    md_test_pool_done(p);
}
END_TEST

/* A wildcard needs dns-01 among its challenges, as the module says at its start (the domains file took it before and
 * every renewal would have failed at the CA). */
START_TEST(file_wildcard_needs_dns01)
{
    apr_pool_t *p = md_test_pool();
    const md_conf_file_t *cf = parse(p,
        "<MDomain *.w.example.org>\n"               /* 1 */
        "  MDCAChallenges http-01 tls-alpn-01\n"    /* 2 */
        "</MDomain>\n"                              /* 3 */
        "<MDomain *.v.example.org>\n"               /* 4 */
        "  MDCAChallenges http-01 dns-01\n"         /* 5 */
        "</MDomain>\n"                              /* 6 */
        "MDomain *.u.example.org\n");               /* 7 */

    ck_assert_int_eq(cf->errors->nelts, 1);
    assert_has(APR_ARRAY_IDX(cf->errors, 0, const char *), "d.conf:1: MD *.w.example.org (defined at d.conf:1) has the "
               "wildcard name '*.w.example.org', which a CA validates only with dns-01, but its MDCAChallenges allows "
               "only http-01 tls-alpn-01: add dns-01");
    md_test_pool_done(p);
}
END_TEST

/* Odd input: empty, only comments, a NUL byte, an unterminated quote, a continuation at the end. */
START_TEST(file_odd)
{
    apr_pool_t *p = md_test_pool();
    const md_conf_file_t *cf;
    static const char nul[] = "MDomain a.example.org\0 b.example.org\nMDomain c.example.org";

    cf = parse(p, "");
    ck_assert_int_eq(cf->mds->nelts + cf->errors->nelts, 0);
    cf = parse(p, "# only\n   # comments\n\n");
    ck_assert_int_eq(cf->mds->nelts + cf->errors->nelts, 0);
    cf = md_conf_file_parse("d.conf", nul, sizeof(nul) - 1, NULL, p);
    ck_assert_int_eq(cf->mds->nelts, 2);
    ck_assert_int_eq(md_at(cf, 0)->domains->nelts, 1);
    cf = parse(p, "MDomain \"a.example.org\n");
    ck_assert_str_eq(md_at(cf, 0)->name, "a.example.org");
    cf = parse(p, "MDomain a.example.org \\");
    ck_assert_int_eq(cf->mds->nelts, 1);
    cf = parse(p, "<MDomain>\n</MDomain>\n");
    assert_has(apr_array_pstrcat(p, cf->errors, '\n'), "d.conf:1: <MDomain> section must specify a unique domain name");
    cf = parse(p, "MDomain a.example.org\n<MDomain b.example.org>\n  MDomain c.example.org\n");
    assert_has(apr_array_pstrcat(p, cf->errors, '\n'), "d.conf:3: 'MDomain c.example.org': MDomain is not allowed "
               "inside");
    assert_has(apr_array_pstrcat(p, cf->errors, '\n'), "d.conf:2: <MDomain> was not closed");
    /* found by fuzz_conf_file: a name that is no UTF-8 could not be recorded in md.json */
    cf = parse(p, "MDomain ok.example.org\nMDomain x.exa\x8b\x8f.org\nMDProfile \xff\n");
    ck_assert_int_eq(cf->mds->nelts, 1);
    assert_has(apr_array_pstrcat(p, cf->errors, '\n'), "d.conf:2: the line is not UTF-8 text");
    assert_has(apr_array_pstrcat(p, cf->errors, '\n'), "d.conf:3: the line is not UTF-8 text");
    cf = parse(p, "MDomain\n");
    assert_has(apr_array_pstrcat(p, cf->errors, '\n'), "d.conf:1: MDomain needs at least one domain name");
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_conf_file_suite(void)
{
    Suite *s = suite_create("conf_file");
    TCase *tc = tcase_create("conf_file");

    tcase_add_test(tc, values_simple);
    tcase_add_test(tc, values_md);
    tcase_add_test(tc, file_sections);
    tcase_add_test(tc, file_errors);
    tcase_add_test(tc, file_wildcard_needs_dns01);
    tcase_add_test(tc, values_profile);
    tcase_add_test(tc, file_odd);
    suite_add_tcase(s, tc);
    return s;
}
