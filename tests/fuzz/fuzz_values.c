/* Fuzz target: the value parsers behind directives and options that live in the core: key specs, challenge
 * delays, CA names, domain names and patterns, revocation reasons, EAB values, program lines, encodings. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_order.h"
#include "md_encode.h"
#include "md_event.h"
#include "md_pkey.h"
#include "md_result.h"
#include "fuzz.h"

static void key_specs(const char *text, apr_pool_t *p)
{
    char *word = apr_pstrdup(p, text), *space = strchr(word, ' ');
    md_pkey_spec_t *spec = NULL, *back = NULL;
    const char *err = NULL;

    if (space) *space = '\0';
    if (md_pkey_spec_parse(&spec, word, space ? space + 1 : NULL, &err, p) != APR_SUCCESS) {
        FZ_CHECK(err != NULL);
        return;
    }
    FZ_CHECK(spec->type == MD_PKEY_EC || (spec->bits >= MD_PKEY_RSA_BITS_MIN && spec->bits <= MD_PKEY_RSA_BITS_MAX));
    FZ_CHECK(spec->type == MD_PKEY_RSA || md_pkey_spec_curve_nid(spec) != 0);
    FZ_CHECK(md_pkey_spec_from_json(&back, md_pkey_spec_to_json(spec, p), p) == APR_SUCCESS);
    FZ_CHECK(md_pkey_spec_eq(spec, back));
    (void)md_pkey_spec_name(spec, p);
    (void)md_pkey_spec_label(spec);
}

/* A delay printed as md.json keeps it ("TYPE" and md_duration_print) reads back the same. */
static void delay_again(const char *type, apr_interval_time_t d, apr_pool_t *p)
{
    md_challenge_delays_t again;
    const char *err = NULL;

    if (!d) return;
    memset(&again, 0, sizeof(again));
    FZ_CHECK(md_challenge_delay_parse(&again, apr_pstrcat(p, type, "=", md_duration_print(d, p), NULL), &err, p)
             == APR_SUCCESS);
    FZ_CHECK(again.http01 + again.tlsalpn01 + again.dns01 == d);
}

static void delays(const char *text, apr_pool_t *p)
{
    md_challenge_delays_t d;
    const char *err = NULL;

    memset(&d, 0, sizeof(d));
    if (md_challenge_delay_parse(&d, text, &err, p) != APR_SUCCESS) {
        FZ_CHECK(err != NULL);
        return;
    }
    FZ_CHECK(d.http01 >= 0 && d.tlsalpn01 >= 0 && d.dns01 >= 0);
    delay_again("http-01", d.http01, p);
    delay_again("tls-alpn-01", d.tlsalpn01, p);
    delay_again("dns-01", d.dns01, p);
    (void)md_challenge_delays_print(&d, p);
}

static void names(const char *text, const char *second, apr_pool_t *p)
{
    const char *url = md_acme_ca_url_for(text);
    int reason = md_acme_revoke_reason_parse(text);

    FZ_CHECK(url != NULL);
    FZ_CHECK(reason >= -1 && reason <= 10 && reason != 7);
    if (!md_domain_problem(text)) FZ_CHECK(md_dns_matches(text, text));
    (void)md_dns_matches(text, second);
    (void)md_acme_problem_status(text);
    (void)md_acme_ca_names(p);
}

static void eab(const char *kid, const char *hmac, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_acme_eab_t *e = NULL;

    if (md_acme_eab_make(&e, kid, hmac, result, p) == APR_SUCCESS) FZ_CHECK(e->kid && e->hmac && e->hmac->len > 0);
    else FZ_CHECK(result->detail != NULL);
}

static void programs(const char *text, apr_pool_t *p)
{
    apr_array_header_t *argv = md_event_argv(text, p);
    const char *line = md_event_output_line(text, 200, p);
    int i;

    for (i = 0; argv && i < argv->nelts; ++i) FZ_CHECK(APR_ARRAY_IDX(argv, i, const char *) != NULL);
    FZ_CHECK(line != NULL);
    for (i = 0; line[i]; ++i) FZ_CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
}

static void encodings(const char *text, apr_pool_t *p)
{
    unsigned char *raw = NULL, *again = NULL;
    apr_size_t len = 0, len2 = 0;

    if (md_b64url_decode(&raw, &len, text, p) == APR_SUCCESS) {
        FZ_CHECK(md_b64url_decode(&again, &len2, md_b64url_encode(raw, len, p), p) == APR_SUCCESS);
        FZ_CHECK(len2 == len && !memcmp(raw, again, len));
    }
    if (md_hex_decode(&raw, &len, text, p) == APR_SUCCESS) {
        FZ_CHECK(md_hex_decode(&again, &len2, md_hex_encode(raw, len, ':', p), p) == APR_SUCCESS);
        FZ_CHECK(len2 == len && !memcmp(raw, again, len));
    }
}

/* Input: the value (the first line, for the two-part parsers; the second line is their other part). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    const char *text = fz_strn(in.data, in.len, p), *first, *second;

    first = fz_line(&in, p);
    second = fz_line(&in, p);
    if (!first) first = "";
    if (!second) second = "";
    key_specs(first, p);
    delays(first, p);
    names(first, second, p);
    eab(first, second, p);
    programs(text, p);
    encodings(first, p);
    apr_pool_destroy(p);
    return 0;
}
