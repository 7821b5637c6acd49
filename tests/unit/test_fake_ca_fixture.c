/* The fixture of the fake CA tests: setting up, driving, looking at what was issued. */
#include "test_fake_ca_fixture.h"

/* ---- a responder that records what it puts in place, and the CA's validation that looks at it --------- */

int resp_supports(void *baton, const char *type)
{
    fx_t *f = baton;

    return !strcmp(type, "http-01") || (f->dns01 && !strcmp(type, "dns-01"));
}

apr_status_t resp_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
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

apr_status_t resp_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
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
int fx_validate(void *baton, const char *type, const char *identifier, const char *token,
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

apr_time_t sim_start(void)
{
    apr_time_t t = 0;

    ck_assert_int_eq(md_time_parse_rfc3339(&t, SIM_START), APR_SUCCESS);
    return t;
}

/* Save an MD for the names ("a,b") with one P-256 key, or RSA 2048 and P-256, at the fake CA. */
void fx_add_md(fx_t *f, const char *names, int two_keys)
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
void fx_init(fx_t *f, const char *names, int two_keys, apr_time_t start)
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

void fx_done(fx_t *f)
{
    md_test_rmdir(f->dir, f->p);
    md_test_pool_done(f->p);
}

/* Drive an MD (activating) with a fresh result; the outcome, f->rv and f->next tell the rest. */
md_drive_outcome_t fx_drive_md(fx_t *f, const char *name, int force)
{
    md_drive_flags_t flags = { force, 1, 0 };
    md_drive_outcome_t outcome = MD_DRIVE_FAILED;

    f->result = md_result_make(f->p);
    f->rv = md_drive(&outcome, &f->next, &f->env, name, &flags, f->result, f->p);
    return outcome;
}

md_drive_outcome_t fx_drive(fx_t *f, int force)
{
    return fx_drive_md(f, NAME, force);
}

void assert_outcome(fx_t *f, md_drive_outcome_t got, md_drive_outcome_t want)
{
    ck_assert_msg(got == want, "drive: %s, expected %s (%s)", md_drive_outcome_str(got),
                  md_drive_outcome_str(want), md_result_text(f->result, f->p));
}

/* The leaf of key i of the MD in domains/. */
md_cert_t *fca_fx_leaf(fx_t *f, int i)
{
    md_t *md = NULL;
    void *chain = NULL;

    ck_assert_int_eq(md_load(&md, f->store, MD_SG_DOMAINS, NAME, NULL, f->p), APR_SUCCESS);
    ck_assert_int_eq(md_store_load(&chain, f->store, MD_SG_DOMAINS, NAME, md_cert_aspect(md, i, f->p), MD_SV_CHAIN,
                                   NULL, f->p), APR_SUCCESS);
    return APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
}

const fake_ca_cert_t *issued(fx_t *f, const char *names, int i)
{
    apr_array_header_t *certs = fake_ca_issued(f->ca, names, f->p);

    ck_assert_msg(i < certs->nelts, "only %d certificate(s) issued for %s", certs->nelts, names);
    return APR_ARRAY_IDX(certs, i, const fake_ca_cert_t *);
}

/* The chain of cert verifies against the fake CA's root at the simulated time. */
void assert_chain_ok(fx_t *f, const fake_ca_cert_t *cert)
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

int answers_in_place(fx_t *f)
{
    return (int)apr_hash_count(f->answers);
}

