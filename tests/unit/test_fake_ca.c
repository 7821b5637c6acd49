/* Unit tests of the stateful fake ACME CA: real MDs driven through md_drive() against it, on a simulated clock. */
#include <string.h>
#include <apr_file_info.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "md.h"
#include "md_acme.h"
#include "md_cert.h"
#include "md_clock.h"
#include "md_drive.h"
#include "md_file.h"
#include "md_job.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"
#include "fake_ca.h"
#include "test_common.h"

#define CA_BASE "https://ca.test"
#define NAME "example.org"
#define HOUR apr_time_from_sec(3600)
#define DAY apr_time_from_sec(86400)
#define SIM_START "2031-03-01T00:00:00Z"     /* far from the real time: what the CA issues follows its clock */

typedef struct {
    apr_pool_t *p;
    const char *dir;
    md_store_t *store;
    md_clock_sim_t *sim;
    fake_ca_t *ca;
    md_drive_env_t env;
    md_result_t *result;
    apr_status_t rv;
    apr_time_t next;
    apr_thread_mutex_t *lock;      /* responder and validation may run in several drives' threads */
    apr_hash_t *answers;           /* "TYPE DOMAIN" -> what the responder has in place (dns-01: the TXT) */
    apr_array_header_t *validated; /* "TYPE DOMAIN" the CA validated, in order */
    const char *refuse;            /* the validation callback refuses this identifier */
    int dns01;                     /* the responder answers dns-01 too */
} fx_t;

/* ---- a responder that records what it puts in place, and the CA's validation that looks at it --------- */

static int resp_supports(void *baton, const char *type)
{
    fx_t *f = baton;

    return !strcmp(type, "http-01") || (f->dns01 && !strcmp(type, "dns-01"));
}

static apr_status_t resp_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    fx_t *f = baton;
    const char *answer = strcmp(ch->type, "dns-01") ? ch->key_authz : md_jws_dns01_txt(ch->key_authz, p);

    (void)result;
    apr_thread_mutex_lock(f->lock);
    apr_hash_set(f->answers, apr_pstrcat(f->p, ch->type, " ", ch->domain, NULL), APR_HASH_KEY_STRING,
                 apr_pstrdup(f->p, answer));
    apr_thread_mutex_unlock(f->lock);
    return APR_SUCCESS;
}

static apr_status_t resp_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                  apr_pool_t *p)
{
    fx_t *f = baton;

    (void)result;
    apr_thread_mutex_lock(f->lock);
    apr_hash_set(f->answers, apr_pstrcat(p, ch->type, " ", ch->domain, NULL), APR_HASH_KEY_STRING, NULL);
    apr_thread_mutex_unlock(f->lock);
    return APR_SUCCESS;
}

/* The CA validates: the responder must have the expected answer in place for type and identifier. */
static int fx_validate(void *baton, const char *type, const char *identifier, const char *token,
                       const char *key_authz, const char **pproblem, const char **pdetail, apr_pool_t *p)
{
    fx_t *f = baton;
    const char *key, *have, *want = strcmp(type, "dns-01") ? key_authz : md_jws_dns01_txt(key_authz, p);
    int failed = 0;

    (void)token;
    apr_thread_mutex_lock(f->lock);
    key = apr_pstrcat(f->p, type, " ", identifier, NULL);
    APR_ARRAY_PUSH(f->validated, const char *) = key;
    have = apr_hash_get(f->answers, key, APR_HASH_KEY_STRING);
    if (f->refuse && !strcmp(identifier, f->refuse)) {
        *pdetail = apr_psprintf(p, "the test refuses %s", identifier);
        failed = 1;
    }
    else if (!have || strcmp(have, want)) {
        *pproblem = have ? "incorrectResponse" : "connection";
        *pdetail = apr_psprintf(p, "%s for %s: found '%s', expected '%s'", type, identifier, have ? have : "nothing",
                                want);
        failed = 1;
    }
    apr_thread_mutex_unlock(f->lock);
    return failed;
}

/* ---- the fixture ------------------------------------------------------------------------------------- */

static apr_time_t sim_start(void)
{
    apr_time_t t = 0;

    ck_assert_int_eq(md_time_parse_rfc3339(&t, SIM_START), APR_SUCCESS);
    return t;
}

/* Save an MD for the names ("a,b") with one P-256 key, or RSA 2048 and P-256, at the fake CA. */
static void fx_add_md(fx_t *f, const char *names, int two_keys)
{
    apr_array_header_t *domains = apr_array_make(f->p, 2, sizeof(const char *));
    md_pkey_spec_t *rsa = apr_pcalloc(f->p, sizeof(*rsa)), *ec = apr_pcalloc(f->p, sizeof(*ec));
    char *copy = apr_pstrdup(f->p, names), *name, *state = NULL;
    md_t *md;

    for (name = apr_strtok(copy, ",", &state); name; name = apr_strtok(NULL, ",", &state)) {
        APR_ARRAY_PUSH(domains, const char *) = name;
    }
    md = md_create(domains, f->p);
    APR_ARRAY_PUSH(md->ca_urls, const char *) = fake_ca_directory_url(f->ca);
    APR_ARRAY_PUSH(md->contacts, const char *) = "mailto:admin@example.org";
    md->ca_agreement = "accepted";
    rsa->type = MD_PKEY_RSA;
    rsa->bits = 2048;
    ec->type = MD_PKEY_EC;
    ec->curve = "P-256";
    apr_array_clear(md->pks);
    if (two_keys) APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = rsa;
    APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = ec;
    ck_assert_int_eq(md_save(md, f->store, MD_SG_DOMAINS, 0, f->result, f->p), APR_SUCCESS);
}

/* A store with one MD for names, the fake CA on a simulated clock starting at start, the responder. */
static void fx_init(fx_t *f, const char *names, int two_keys, apr_time_t start)
{
    md_responder_t resp = { .name = "fake-responder", .supports = resp_supports, .setup = resp_setup,
                            .teardown = resp_teardown };

    memset(f, 0, sizeof(*f));
    f->p = md_test_pool();
    f->dir = md_test_mkdtemp(f->p);
    f->result = md_result_make(f->p);
    ck_assert_int_eq(md_store_fs_open(&f->store, f->dir, f->result, f->p), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_mutex_create(&f->lock, APR_THREAD_MUTEX_DEFAULT, f->p), APR_SUCCESS);
    f->answers = apr_hash_make(f->p);
    f->validated = apr_array_make(f->p, 4, sizeof(const char *));
    f->sim = md_clock_sim_make(start, f->p);
    f->ca = fake_ca_create(CA_BASE, md_clock_sim_clock(f->sim), f->p);
    fake_ca_set_validate(f->ca, fx_validate, f);
    resp.baton = f;
    f->env.store = f->store;
    f->env.responders = md_responders_make(f->p);
    md_responders_add(f->env.responders, &resp);
    f->env.http_backend = fake_ca_backend(f->ca);
    f->env.poll_min = apr_time_from_msec(1);
    f->env.poll_max = apr_time_from_msec(5);
    f->env.authz_timeout = apr_time_from_sec(5);
    f->env.order_timeout = apr_time_from_sec(5);
    f->env.retry_base = apr_time_from_sec(60);
    if (names) fx_add_md(f, names, two_keys);
}

static void fx_done(fx_t *f)
{
    md_test_rmdir(f->dir, f->p);
    md_test_pool_done(f->p);
}

/* Drive an MD (activating) with a fresh result; the outcome, f->rv and f->next tell the rest. */
static md_drive_outcome_t fx_drive_md(fx_t *f, const char *name, int force)
{
    md_drive_flags_t flags = { force, 1, 0 };
    md_drive_outcome_t outcome = MD_DRIVE_FAILED;

    f->result = md_result_make(f->p);
    f->rv = md_drive(&outcome, &f->next, &f->env, name, &flags, f->result, f->p);
    return outcome;
}

static md_drive_outcome_t fx_drive(fx_t *f, int force)
{
    return fx_drive_md(f, NAME, force);
}

static void assert_outcome(fx_t *f, md_drive_outcome_t got, md_drive_outcome_t want)
{
    ck_assert_msg(got == want, "drive: %s, expected %s (%s)", md_drive_outcome_str(got),
                  md_drive_outcome_str(want), md_result_text(f->result, f->p));
}

/* The leaf of key i of the MD in domains/. */
static md_cert_t *fx_leaf(fx_t *f, int i)
{
    md_t *md = NULL;
    void *chain = NULL;

    ck_assert_int_eq(md_load(&md, f->store, MD_SG_DOMAINS, NAME, NULL, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_store_load(&chain, f->store, MD_SG_DOMAINS, NAME, md_cert_aspect(md, i, f->p), MD_SV_CHAIN,
                                   NULL, f->p), APR_SUCCESS);
    return APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
}

static const fake_ca_cert_t *issued(fx_t *f, const char *names, int i)
{
    apr_array_header_t *certs = fake_ca_issued(f->ca, names, f->p);

    ck_assert_msg(i < certs->nelts, "only %d certificate(s) issued for %s", certs->nelts, names);
    return APR_ARRAY_IDX(certs, i, const fake_ca_cert_t *);
}

/* The chain of cert verifies against the fake CA's root at the simulated time. */
static void assert_chain_ok(fx_t *f, const fake_ca_cert_t *cert)
{
    apr_array_header_t *chain = NULL, *roots = apr_array_make(f->p, 1, sizeof(md_cert_t *));
    md_result_t *result = md_result_make(f->p);
    const char *err = NULL;

    ck_assert_int_eq(md_cert_chain_from_pem(&chain, cert->chain_pem, strlen(cert->chain_pem), &err, f->p), APR_SUCCESS);
    ck_assert_int_eq(chain->nelts, 2);
    APR_ARRAY_PUSH(roots, md_cert_t *) = fake_ca_root(f->ca);
    ck_assert_msg(md_cert_chain_verify(chain, roots, md_clock_now(md_clock_sim_clock(f->sim)), result, f->p)
                  == APR_SUCCESS, "chain does not verify: %s", md_result_text(result, f->p));
}

static int answers_in_place(fx_t *f)
{
    return (int)apr_hash_count(f->answers);
}

/* ---- issuance ---------------------------------------------------------------------------------------- */

START_TEST(fca_first_issuance)
{
    fx_t f;
    const fake_ca_cert_t *cert;
    apr_time_t now;
    int total;

    fx_init(&f, NAME, 0, apr_time_now());
    now = md_clock_now(md_clock_sim_clock(f.sim));
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    /* what one first issuance of a P-256 MD asks of the CA, account registration included: the order, not the
     * authorization, is polled after the challenge, and this CA's finalize answers "valid" at once */
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_DIRECTORY), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NONCE), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ACCOUNT), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_AUTHZ), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ORDER), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_FINALIZE), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CERT), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 9);
    ck_assert_int_eq(fake_ca_bad_nonces(f.ca), 0);
    /* the CA checked the responder's answer, which was torn down afterwards */
    ck_assert_int_eq(f.validated->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(f.validated, 0, const char *), "http-01 " NAME);
    ck_assert_int_eq(answers_in_place(&f), 0);
    /* the certificate: the one in domains/, issued by the CA, on the CA's clock (90 days by default) */
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    cert = issued(&f, NAME, 0);
    ck_assert_str_eq(cert->names, NAME);
    ck_assert_str_eq(md_cert_get_sha256_fingerprint(fx_leaf(&f, 0), f.p),
                     md_cert_get_sha256_fingerprint(cert->leaf, f.p));
    ck_assert_int_eq(apr_time_sec(cert->not_before), apr_time_sec(now) - 60);
    ck_assert_int_eq(apr_time_sec(cert->not_after), apr_time_sec(now + 90 * DAY));
    assert_chain_ok(&f, cert);
    /* not due again: nothing asked */
    total = fake_ca_count(f.ca, FAKE_CA_ANY);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), total);
    fx_done(&f);
}
END_TEST

/* Two keys: two orders for the same name; with authz reuse (_i == 1) the second needs no challenge. */
START_TEST(fca_two_keys)
{
    fx_t f;
    md_t *md = NULL;
    void *key = NULL;
    int reuse = _i;

    fx_init(&f, NAME, 1, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_AUTHZ_REUSE, reuse);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 2);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), reuse ? 1 : 2);
    ck_assert_int_eq(f.validated->nelts, reuse ? 1 : 2);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 2);
    ck_assert_int_eq(md_load(&md, f.store, MD_SG_DOMAINS, NAME, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_load(&key, f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 0, f.p), MD_SV_PKEY, NULL,
                                   f.p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_get_type(key), MD_PKEY_RSA);
    ck_assert(md_cert_matches_key(issued(&f, NAME, 0)->leaf, key));
    ck_assert_int_eq(md_store_load(&key, f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 1, f.p), MD_SV_PKEY, NULL,
                                   f.p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_get_type(key), MD_PKEY_EC);
    ck_assert(md_cert_matches_key(issued(&f, NAME, 1)->leaf, key));
    ck_assert_str_ne(issued(&f, NAME, 0)->serial_hex, issued(&f, NAME, 1)->serial_hex);
    fx_done(&f);
}
END_TEST

START_TEST(fca_wildcard_dns01)
{
    fx_t f;
    const fake_ca_cert_t *cert;

    fx_init(&f, NAME ",*." NAME, 0, apr_time_now());
    f.dns01 = 1;
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    /* the name by http-01 (preferred), the wildcard's base name by dns-01: the only one its authz offers */
    ck_assert_int_eq(f.validated->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(f.validated, 0, const char *), "http-01 " NAME);
    ck_assert_str_eq(APR_ARRAY_IDX(f.validated, 1, const char *), "dns-01 " NAME);
    cert = issued(&f, "*." NAME ", " NAME, 0);
    ck_assert_str_eq(cert->names, "*." NAME "," NAME);
    ck_assert(md_cert_covers(cert->leaf, NAME, f.p));
    ck_assert(md_cert_covers(cert->leaf, "www." NAME, f.p));
    fx_done(&f);
}
END_TEST

START_TEST(fca_wildcard_needs_dns01)
{
    fx_t f;

    fx_init(&f, NAME ",*." NAME, 0, apr_time_now());
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_msg(strstr(f.result->detail, "*." NAME ": the CA offers dns-01;") != NULL, "%s", f.result->detail);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 0);
    ck_assert_int_eq(answers_in_place(&f), 0);
    fx_done(&f);
}
END_TEST

/* An IP address: an "ip" identifier, answered by http-01 (no dns-01 for addresses), an IP SAN. */
START_TEST(fca_ip_identifier)
{
    fx_t f;
    const fake_ca_cert_t *cert;
    apr_array_header_t *ips = NULL;

    fx_init(&f, NAME ",192.0.2.7", 0, apr_time_now());
    f.dns01 = 1;
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(f.validated->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(f.validated, 1, const char *), "http-01 192.0.2.7");
    cert = issued(&f, NAME ",192.0.2.7", 0);
    ck_assert_int_eq(md_cert_get_ip_addresses(&ips, cert->leaf, f.p), APR_SUCCESS);
    ck_assert_int_eq(ips->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(ips, 0, const char *), "192.0.2.7");
    fx_done(&f);
}
END_TEST

/* ---- failures ---------------------------------------------------------------------------------------- */

START_TEST(fca_validation_refused)
{
    fx_t f;
    md_job_t *job = NULL;
    apr_time_t before = apr_time_now();

    fx_init(&f, NAME, 0, apr_time_now());
    f.refuse = NAME;
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_str_eq(f.result->problem, MD_ACME_PROBLEM_PREFIX "incorrectResponse");
    ck_assert_msg(strstr(f.result->detail, "the test refuses " NAME) != NULL, "%s", f.result->detail);
    ck_assert_int_eq(answers_in_place(&f), 0);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_FINALIZE), 0);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 0);
    /* back-off recorded: the next drive does not ask the CA */
    ck_assert_int_eq(md_job_load(&job, f.store, MD_SG_STAGING, NAME, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(job->errors, 1);
    ck_assert_int_gt(job->next_run, before);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_CHALLENGE), 1);
    /* the same through the CA's own switch */
    f.refuse = NULL;
    fake_ca_fail_validation(f.ca, NAME, "nobody home");
    assert_outcome(&f, fx_drive(&f, 1), MD_DRIVE_FAILED);
    ck_assert_msg(strstr(f.result->detail, "nobody home") != NULL, "%s", f.result->detail);
    fake_ca_fail_validation(f.ca, NAME, NULL);
    assert_outcome(&f, fx_drive(&f, 1), MD_DRIVE_ACTIVATED);
    fx_done(&f);
}
END_TEST

START_TEST(fca_new_order_retry_after)
{
    fx_t f;
    apr_time_t before = apr_time_now();

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_fail_next(f.ca, FAKE_CA_NEW_ORDER, 1, 429, "rateLimited", "too many new orders", 3600);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_str_eq(f.result->problem, MD_ACME_PROBLEM_PREFIX "rateLimited");
    ck_assert_msg(strstr(f.result->detail, "too many new orders") != NULL, "%s", f.result->detail);
    ck_assert_int_ge(f.next, before + apr_time_from_sec(3600));     /* the CA's Retry-After wins */
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 1);
    assert_outcome(&f, fx_drive(&f, 1), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 2);
    fx_done(&f);
}
END_TEST

/* issue 15: a 429 with "Retry-After: 315360000" (ten years) postponed the renewal by 30 days, past the time the
 * certificate enters its warn window, and "drive" then reported backing-off while it expired; its detail of 1.5 MB
 * with terminal escapes and newlines was stored twice in job.json and printed as it came. The next attempt is now
 * before the warn window (and says so), the detail is cut and without control characters. */
START_TEST(fca_ca_cannot_postpone_past_warn)
{
    apr_size_t big = 1536 * 1024, i;
    char *detail;
    apr_time_t na, warn_at, now;
    apr_finfo_t info;
    const char *path, *stored, *said = "";
    md_job_t *job = NULL;
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    detail = apr_palloc(f.p, big + 64);
    for (i = 0; i < big; ++i) detail[i] = (char)('a' + i % 26);
    strcpy(detail + 100, "\n\x1b[32mexample.org: activated\x1b[0m\r\n");
    detail[100 + strlen(detail + 100)] = 'x';
    detail[big] = '\0';
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    na = md_cert_get_not_after(fx_leaf(&f, 0));
    f.env.clock = md_clock_sim_clock(f.sim);
    md_clock_sim_set(f.sim, na - 20 * DAY);       /* due (33%), warn window (10%) in 11 days */
    now = md_clock_now(md_clock_sim_clock(f.sim));
    warn_at = na - 9 * DAY;
    fake_ca_fail_next(f.ca, FAKE_CA_NEW_ORDER, 1, 429, "rateLimited", detail, 315360000);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_msg(f.next > now && f.next <= warn_at, "next attempt %s, the warn window begins %s",
                  md_time_print_rfc3339(f.next, f.p), md_time_print_rfc3339(warn_at, f.p));
    /* the stored job: small, the detail cut and clean, the cap logged */
    ck_assert_int_eq(md_store_get_fname(&path, f.store, MD_SG_STAGING, NAME, "job.json", f.p), APR_SUCCESS);
    ck_assert_int_eq(apr_stat(&info, path, APR_FINFO_SIZE, f.p), APR_SUCCESS);
    ck_assert_msg(info.size < 32 * 1024, "job.json has %ld bytes", (long)info.size);
    ck_assert_int_eq(md_job_load(&job, f.store, MD_SG_STAGING, NAME, NULL, f.p), APR_SUCCESS);
    stored = md_json_gets(job->last, "detail", NULL);
    ck_assert_ptr_nonnull(stored);
    ck_assert_int_le(strlen(stored), MD_RESULT_TEXT_MAX + 3);
    ck_assert_int_le(strlen(f.result->detail), MD_RESULT_TEXT_MAX + 3);
    for (i = 0; stored[i]; ++i) ck_assert_msg((unsigned char)stored[i] >= 0x20, "control character in '%s'", stored);
    for (i = 0; f.result->detail[i]; ++i) ck_assert((unsigned char)f.result->detail[i] >= 0x20);
    ck_assert_ptr_nonnull(strstr(stored, " [32mexample.org: activated [0m  x"));
    for (i = 0; i < md_json_count(job->log, NULL); ++i) {
        said = apr_pstrcat(f.p, said, md_json_gets(md_json_at(job->log, i, NULL), "detail", NULL), "\n", NULL);
    }
    ck_assert_msg(strstr(said, "(the CA's Retry-After): a certificate enters its warn window then"), "%s", said);
    /* until then: backing off; at the capped time it goes on and renews */
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_BACKING_OFF);
    ck_assert_int_eq(f.next, job->next_run);
    md_clock_sim_set(f.sim, job->next_run);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    fx_done(&f);
}
END_TEST

START_TEST(fca_down_then_up)
{
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_DOWN, 1);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_FAILED);
    ck_assert_int_eq(f.rv, APR_ECONNREFUSED);
    ck_assert_msg(strstr(f.result->detail, "is down") != NULL, "%s", f.result->detail);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 1);
    fake_ca_set(f.ca, FAKE_CA_SET_DOWN, 0);
    assert_outcome(&f, fx_drive(&f, 1), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    fx_done(&f);
}
END_TEST

/* The CA rejects every 3rd good nonce; the client retries with the fresh one of the rejection. */
START_TEST(fca_bad_nonce_recovery)
{
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_REJECT_NONCES, 3);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_ge(fake_ca_bad_nonces(f.ca), 2);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 9 + fake_ca_bad_nonces(f.ca));
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    fx_done(&f);
}
END_TEST

/* A signed newAccount POST with nonce; the response. */
static md_http_response_t *post_new_account(fx_t *f, md_http_t *http, md_pkey_t *key, const char *nonce)
{
    md_json_t *prot = md_json_create(f->p), *msg = NULL;
    md_http_response_t *resp = NULL;
    const char *url = CA_BASE "/new-acct";

    md_json_sets(nonce, prot, "nonce", NULL);
    md_json_sets(url, prot, "url", NULL);
    ck_assert_int_eq(md_jws_sign(&msg, md_data_from_str("{\"termsOfServiceAgreed\":true}", f->p), prot, key, NULL,
                                 f->p), APR_SUCCESS);
    ck_assert_int_eq(md_http_post(&resp, http, url, "application/jose+json",
                                  md_data_from_str(md_json_writep(msg, MD_JSON_FMT_COMPACT, f->p), f->p), NULL, f->p),
                     APR_SUCCESS);
    return resp;
}

static void assert_problem(fx_t *f, md_http_response_t *resp, int status, const char *type)
{
    md_result_t *result = md_result_make(f->p);

    ck_assert_int_eq(resp->status, status);
    ck_assert_str_eq(md_http_media_type(resp, f->p), "application/problem+json");
    md_acme_response_error(resp, result, f->p);
    ck_assert_str_eq(result->problem, type);
}

START_TEST(fca_protocol_rules)
{
    fx_t f;
    md_http_t *http = NULL;
    md_http_response_t *resp = NULL;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_pkey_t *key = NULL;
    const char *nonce;

    fx_init(&f, NULL, 0, apr_time_now());
    ck_assert_int_eq(md_http_create(&http, NULL, fake_ca_backend(f.ca), f.p), APR_SUCCESS);
    ck_assert_int_eq(md_pkey_gen(&key, &spec, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_http_head(&resp, http, CA_BASE "/nonce", NULL, f.p), APR_SUCCESS);
    nonce = apr_pstrdup(f.p, md_http_header(resp, "Replay-Nonce"));
    /* a nonce never handed out, then a good one, then the same again */
    resp = post_new_account(&f, http, key, "fca999");
    assert_problem(&f, resp, 400, MD_ACME_PROBLEM_PREFIX "badNonce");
    ck_assert_ptr_nonnull(md_http_header(resp, "Replay-Nonce"));    /* a fresh one to retry with */
    resp = post_new_account(&f, http, key, nonce);
    ck_assert_int_eq(resp->status, 201);
    ck_assert_str_eq(md_http_header(resp, "Location"), CA_BASE "/acct/1");
    assert_problem(&f, post_new_account(&f, http, key, nonce), 400, MD_ACME_PROBLEM_PREFIX "badNonce");
    ck_assert_int_eq(fake_ca_bad_nonces(f.ca), 2);
    /* the same key again: its account, 200 */
    resp = post_new_account(&f, http, key, md_http_header(resp, "Replay-Nonce"));
    ck_assert_int_eq(resp->status, 200);
    ck_assert_str_eq(md_http_header(resp, "Location"), CA_BASE "/acct/1");
    /* no ARI: no renewalInfo in the directory, 404 for asking anyway; unknown resources 404 */
    ck_assert_int_eq(md_http_get(&resp, http, CA_BASE "/dir", NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 200);
    ck_assert_ptr_null(strstr(resp->body.data, "renewalInfo"));
    ck_assert_int_eq(md_http_get(&resp, http, CA_BASE "/ari/abc.def", NULL, f.p), APR_SUCCESS);
    assert_problem(&f, resp, 404, MD_ACME_PROBLEM_PREFIX "malformed");
    ck_assert_int_eq(md_http_get(&resp, http, CA_BASE "/nothing", NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 404);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_OTHER), 1);
    fx_done(&f);
}
END_TEST

/* Challenges and orders "processing" for a few polls: the client polls until they are done. */
START_TEST(fca_polling)
{
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_AUTHZ_POLLS, 3);
    fake_ca_set(f.ca, FAKE_CA_SET_ORDER_POLLS, 2);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    /* the order is polled until ready (a look at the order is one at its authorization too); at the third look
     * that still finds it pending, the authorization is asked whether it failed (it is valid by then) */
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_AUTHZ), 1 + 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ORDER), 4 + 3);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 1);
    fx_done(&f);
}
END_TEST

static void fx_log(void *baton, const char *md_name, const char *message)
{
    apr_array_header_t *lines = baton;

    (void)md_name;
    APR_ARRAY_PUSH(lines, const char *) = apr_pstrdup(lines->pool, message);
}

/* ---- ARI --------------------------------------------------------------------------------------------- */

static md_json_t *ari_cache(fx_t *f)
{
    void *json = NULL;

    ck_assert_int_eq(md_store_load(&json, f->store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, MD_SV_JSON, NULL,
                                   f->p), APR_SUCCESS);
    return json;
}

START_TEST(fca_ari_window)
{
    fx_t f;
    const fake_ca_cert_t *cert;
    apr_time_t start, end, t = 0;
    md_json_t *cache;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    /* activation cached "ask later"; forget that, so the next drive asks the CA */
    ck_assert_int_eq(md_store_remove(f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, 1, f.p), APR_SUCCESS);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 1);
    cert = issued(&f, NAME, 0);
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_eq(apr_time_sec(start - cert->not_before), apr_time_sec(cert->not_after - cert->not_before) * 2 / 3);
    cache = ari_cache(&f);
    ck_assert_str_eq(md_json_gets(cache, "cert-id", NULL), cert->ari_id);
    ck_assert_int_eq(md_time_parse_rfc3339(&t, md_json_gets(cache, "window", "start", NULL)), APR_SUCCESS);
    ck_assert_int_eq(apr_time_sec(t), apr_time_sec(start));
    ck_assert_int_eq(md_time_parse_rfc3339(&t, md_json_gets(cache, "window", "end", NULL)), APR_SUCCESS);
    ck_assert_int_eq(apr_time_sec(t), apr_time_sec(end));
    fx_done(&f);
}
END_TEST

/* The CA says "renew now": the drive renews, and the new order names the certificate it replaces. */
START_TEST(fca_ari_urgent_renews)
{
    fx_t f;

    fx_init(&f, NAME, 0, apr_time_now());
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_URGENT, 1);
    ck_assert_int_eq(md_store_remove(f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, 1, f.p), APR_SUCCESS);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 1);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 2);
    ck_assert_ptr_null(issued(&f, NAME, 0)->replaces);
    ck_assert_str_eq(issued(&f, NAME, 1)->replaces, issued(&f, NAME, 0)->ari_id);
    fx_done(&f);
}
END_TEST

/* A CA's Retry-After on renewalInfo of ten years is taken as a day (RFC 9773 allows that cap; issue 15: every
 * Retry-After from a CA is capped, and it is logged), one of a second as a minute. */
START_TEST(fca_ari_retry_after_capped)
{
    apr_array_header_t *lines;
    apr_time_t now, t = 0;
    const char *said = "";
    int i;
    fx_t f;

    fx_init(&f, NAME, 0, sim_start());
    f.env.clock = md_clock_sim_clock(f.sim);
    lines = apr_array_make(f.p, 10, sizeof(const char *));
    f.env.log = fx_log;
    f.env.log_baton = lines;
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_RETRY_AFTER, 315360000);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(md_store_remove(f.store, MD_DRIVE_ARI_GROUP, NAME, MD_DRIVE_ARI_FILE, 1, f.p), APR_SUCCESS);
    now = md_clock_now(md_clock_sim_clock(f.sim));
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 1);
    ck_assert_int_eq(f.next, now + DAY);
    ck_assert_int_eq(md_time_parse_rfc3339(&t, md_json_gets(ari_cache(&f), "next-check", NULL)), APR_SUCCESS);
    ck_assert_int_eq(apr_time_sec(t), apr_time_sec(now + DAY));
    for (i = 0; i < lines->nelts; ++i) said = apr_pstrcat(f.p, said, APR_ARRAY_IDX(lines, i, const char *), "\n", NULL);
    ck_assert_msg(strstr(said, "The CA asked to check its renewal information again at ")
                  && strstr(said, "(at most a day later)"), "%s", said);
    /* a day later it asks again; a Retry-After of one second is a minute */
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_RETRY_AFTER, 1);
    md_clock_sim_set(f.sim, now + DAY);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 2);
    ck_assert_int_eq(f.next, now + DAY + apr_time_from_sec(60));
    fx_done(&f);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------------------------- */

#define PARALLEL 4

typedef struct {
    fx_t *f;
    const char *name;
    md_drive_outcome_t outcome;
    apr_status_t rv;
} par_t;

static void *APR_THREAD_FUNC par_drive(apr_thread_t *thread, void *baton)
{
    par_t *d = baton;
    md_drive_flags_t flags = { 0, 1, 0 };
    apr_pool_t *p = NULL;
    apr_time_t next;

    (void)thread;
    apr_pool_create(&p, NULL);
    d->rv = md_drive(&d->outcome, &next, &d->f->env, d->name, &flags, md_result_make(p), p);
    apr_pool_destroy(p);
    return NULL;
}

/* Several MDs driven at once through one shared ACME client: one account, one certificate each. */
START_TEST(fca_parallel_drives)
{
    fx_t f;
    apr_thread_t *threads[PARALLEL];
    par_t runs[PARALLEL];
    apr_pool_t *shared_pool = NULL;
    apr_status_t trv;
    int i;

    fx_init(&f, NULL, 0, apr_time_now());
    ck_assert_int_eq(apr_pool_create(&shared_pool, NULL), APR_SUCCESS);
    f.env.shared = md_drive_shared_make(shared_pool);
    for (i = 0; i < PARALLEL; ++i) {
        runs[i].f = &f;
        runs[i].name = apr_psprintf(f.p, "site%d.example.org", i);
        fx_add_md(&f, runs[i].name, 0);
    }
    for (i = 0; i < PARALLEL; ++i) {
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, par_drive, &runs[i], f.p), APR_SUCCESS);
    }
    for (i = 0; i < PARALLEL; ++i) apr_thread_join(&trv, threads[i]);
    apr_pool_destroy(shared_pool);
    for (i = 0; i < PARALLEL; ++i) {
        ck_assert_int_eq(runs[i].rv, APR_SUCCESS);
        ck_assert_int_eq(runs[i].outcome, MD_DRIVE_ACTIVATED);
        ck_assert_int_eq(fake_ca_issued(f.ca, runs[i].name, f.p)->nelts, 1);
    }
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ACCOUNT), 1);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_DIRECTORY), 1);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), PARALLEL);
    fx_done(&f);
}
END_TEST

/* ---- simulated time ---------------------------------------------------------------------------------- */

/* Today's drive decides on the real clock, so renewals are forced here; the CA issues on its simulated one. */
START_TEST(fca_sim_clock_validity)
{
    fx_t f;
    const fake_ca_cert_t *cert;
    apr_time_t t, start, end;
    int i;

    fx_init(&f, NAME, 0, sim_start());
    fake_ca_set(f.ca, FAKE_CA_SET_LIFETIME, 6 * 86400);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    for (i = 0; i < 3; ++i) {
        t = md_clock_now(md_clock_sim_clock(f.sim));
        assert_outcome(&f, fx_drive(&f, i > 0), MD_DRIVE_ACTIVATED);
        cert = issued(&f, NAME, i);
        ck_assert_int_eq(apr_time_sec(cert->not_before), apr_time_sec(t) - 60);
        ck_assert_int_eq(apr_time_sec(cert->not_after), apr_time_sec(t + 6 * DAY));
        assert_chain_ok(&f, cert);
        fake_ca_ari_window(f.ca, cert, &start, &end);
        ck_assert_int_eq(apr_time_sec(start), apr_time_sec(t) - 60 + (6 * 86400 + 60) * 2 / 3);
        ck_assert_int_eq(apr_time_sec(end), apr_time_sec(t) - 60 + (6 * 86400 + 60) * 5 / 6);
        md_clock_sim_advance(f.sim, 4 * DAY);
    }
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_URGENT, 1);
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_eq(end, md_clock_now(md_clock_sim_clock(f.sim)) - HOUR);
    ck_assert_int_eq(fake_ca_issued_count(f.ca), 3);
    fx_done(&f);
}
END_TEST

/* Lifetimes per identifier, ARI windows that move (a shift, urgent for what was issued before a time), the ARI
 * answer's Retry-After, the accounts. */
START_TEST(fca_lifetime_for_and_moving_ari)
{
    const fake_ca_cert_t *cert;
    apr_time_t t, start, end;
    fx_t f;

    fx_init(&f, NAME, 0, sim_start());
    f.env.clock = md_clock_sim_clock(f.sim);
    fx_add_md(&f, "other.org,www.other.org", 0);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI, 1);
    fake_ca_set_lifetime_for(f.ca, "WWW.other.org", 45 * 86400);
    t = md_clock_now(md_clock_sim_clock(f.sim));
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    assert_outcome(&f, fx_drive_md(&f, "other.org", 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_accounts(f.ca), 1);
    cert = issued(&f, NAME, 0);
    ck_assert_int_eq(apr_time_sec(cert->not_after), apr_time_sec(t + 90 * DAY));
    cert = issued(&f, "other.org,www.other.org", 0);
    ck_assert_int_eq(apr_time_sec(cert->not_after), apr_time_sec(t + 45 * DAY));
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_SHIFT, -86400);
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_eq(apr_time_sec(start), apr_time_sec(t) - 60 + (45 * 86400 + 60) * 2 / 3 - 86400);
    ck_assert_int_eq(apr_time_sec(end), apr_time_sec(t) - 60 + (45 * 86400 + 60) * 5 / 6 - 86400);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_URGENT_BEFORE, (long)apr_time_sec(t));
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_eq(end, md_clock_now(md_clock_sim_clock(f.sim)) - HOUR);
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_URGENT_BEFORE, (long)apr_time_sec(t) - 60);
    fake_ca_ari_window(f.ca, cert, &start, &end);
    ck_assert_int_gt(end, md_clock_now(md_clock_sim_clock(f.sim)));
    /* the CA's Retry-After for renewalInfo decides when the drive asks again */
    fake_ca_set(f.ca, FAKE_CA_SET_ARI_RETRY_AFTER, 20 * 3600);      /* at most a day: fca_ari_retry_after_capped */
    md_clock_sim_advance(f.sim, 7 * HOUR);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ARI), 1);
    ck_assert_int_eq(f.next, md_clock_now(md_clock_sim_clock(f.sim)) + 20 * HOUR);
    fake_ca_set_lifetime_for(f.ca, "www.other.org", 0);
    assert_outcome(&f, fx_drive_md(&f, "other.org", 1), MD_DRIVE_ACTIVATED);
    cert = issued(&f, "other.org,www.other.org", 1);
    ck_assert_int_eq(apr_time_sec(cert->not_after - cert->not_before), 90 * 86400 + 60);
    fx_done(&f);
}
END_TEST

/* The drive on an injected clock (md_drive_env_t.clock): 30 simulated days of an MD with 6-day certificates, driven once per simulated hour: renewed when a third of
 * the lifetime is left, i.e. 96h29m after the previous notBefore, seen at the next full hour: every 97 hours,
 * and never without a valid certificate. */
START_TEST(fca_sim_30_days)
{
    fx_t f;
    const md_clock_t *clock;
    apr_array_header_t *certs;
    apr_time_t now, gap;
    md_cert_t *leaf;
    int hour, i;

    fx_init(&f, NAME, 0, sim_start());
    clock = md_clock_sim_clock(f.sim);
    f.env.clock = clock;
    fake_ca_set(f.ca, FAKE_CA_SET_LIFETIME, 6 * 86400);
    for (hour = 0; hour < 30 * 24; ++hour) {
        md_drive_outcome_t outcome = fx_drive(&f, 0);

        ck_assert_msg(outcome == MD_DRIVE_ACTIVATED || outcome == MD_DRIVE_NOT_DUE, "hour %d: %s (%s)", hour,
                      md_drive_outcome_str(outcome), md_result_text(f.result, f.p));
        now = md_clock_now(clock);
        leaf = fx_leaf(&f, 0);
        ck_assert_msg(md_cert_is_valid_at(leaf, now), "hour %d: the active certificate is not valid", hour);
        md_clock_sim_advance(f.sim, HOUR);
    }
    certs = fake_ca_issued(f.ca, NAME, f.p);
    ck_assert_int_eq(certs->nelts, 8);      /* hours 0, 97, 194, 291, 388, 485, 582, 679 */
    for (i = 1; i < certs->nelts; ++i) {
        gap = APR_ARRAY_IDX(certs, i, const fake_ca_cert_t *)->not_before
              - APR_ARRAY_IDX(certs, i - 1, const fake_ca_cert_t *)->not_before;
        ck_assert_msg(gap >= 96 * HOUR && gap <= 98 * HOUR, "renewal %d after %" APR_TIME_T_FMT "s", i,
                      apr_time_sec(gap));
    }
    fx_done(&f);
}
END_TEST


/* An active set whose private key is junk or another key's (issue 15: "not-due", nothing named) is due now, and
 * the drive says which file; httpd's parent tells its child through flags.unusable what the child cannot read. */
START_TEST(fca_unusable_key_renews)
{
    apr_array_header_t *lines;
    md_drive_flags_t flags = { 0, 1, 1 };
    md_drive_outcome_t outcome = MD_DRIVE_FAILED;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    const char *path, *said;
    md_pkey_t *other;
    md_t *md = NULL;
    fx_t f;
    int orders;

    fx_init(&f, NAME, 0, apr_time_now());
    lines = apr_array_make(f.p, 10, sizeof(const char *));
    f.env.log = fx_log;
    f.env.log_baton = lines;
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    ck_assert_int_eq(md_load(&md, f.store, MD_SG_DOMAINS, NAME, NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_get_fname(&path, f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 0, f.p), f.p),
                     APR_SUCCESS);
    /* junk */
    ck_assert_int_eq(md_file_write_atomic(path, "junk\n", 5, 0600, f.p), APR_SUCCESS);
    orders = fake_ca_count(f.ca, FAKE_CA_NEW_ORDER);
    apr_array_clear(lines);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), orders + 1);
    said = apr_array_pstrcat(f.p, lines, '\n');
    ck_assert_msg(strstr(said, "Renewing now: ") && strstr(said, path) && strstr(said, "not a usable private key"),
                  "%s", said);
    /* another key */
    ck_assert_int_eq(md_pkey_gen(&other, &spec, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 0, f.p), MD_SV_PKEY, other, 0,
                                   NULL, f.p), APR_SUCCESS);
    apr_array_clear(lines);
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), orders + 2);
    said = apr_array_pstrcat(f.p, lines, '\n');
    ck_assert_msg(strstr(said, path) && strstr(said, "is not the key of the certificate"), "%s", said);
    /* sound again: not due; with flags.unusable (the server could not use it) due now */
    assert_outcome(&f, fx_drive(&f, 0), MD_DRIVE_NOT_DUE);
    f.result = md_result_make(f.p);
    f.rv = md_drive(&outcome, &f.next, &f.env, NAME, &flags, f.result, f.p);
    assert_outcome(&f, outcome, MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), orders + 3);
    fx_done(&f);
}
END_TEST

Suite *md_test_fake_ca_suite(void)
{
    Suite *s = suite_create("fake_ca");
    TCase *tc = tcase_create("drive");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fca_first_issuance);
    tcase_add_loop_test(tc, fca_two_keys, 0, 2);
    tcase_add_test(tc, fca_wildcard_dns01);
    tcase_add_test(tc, fca_wildcard_needs_dns01);
    tcase_add_test(tc, fca_ip_identifier);
    tcase_add_test(tc, fca_validation_refused);
    tcase_add_test(tc, fca_new_order_retry_after);
    tcase_add_test(tc, fca_down_then_up);
    tcase_add_test(tc, fca_bad_nonce_recovery);
    tcase_add_test(tc, fca_protocol_rules);
    tcase_add_test(tc, fca_polling);
    tcase_add_test(tc, fca_ari_window);
    tcase_add_test(tc, fca_ari_urgent_renews);
    tcase_add_test(tc, fca_parallel_drives);
    tcase_add_test(tc, fca_sim_clock_validity);
    tcase_add_test(tc, fca_sim_30_days);
    tcase_add_test(tc, fca_unusable_key_renews);
    tcase_add_test(tc, fca_lifetime_for_and_moving_ari);
    tcase_add_test(tc, fca_ca_cannot_postpone_past_warn);
    tcase_add_test(tc, fca_ari_retry_after_capped);
    suite_add_tcase(s, tc);
    return s;
}
