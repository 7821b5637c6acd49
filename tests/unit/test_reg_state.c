/* Unit tests of the registry's state (md_reg_state) against one table of store situations, and its md-status model. */
#include <string.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/x509v3.h>

#include "md.h"
#include "md_cert.h"
#include "md_drive.h"
#include "md_file.h"
#include "md_job.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"
#include "test_common.h"

#define NAME "example.org"
#define DAY (86400L)                       /* the table's times are seconds relative to T0 */
#define HOUR (3600L)
#define T0_STR "2031-03-01T12:00:00Z"      /* the registry's (simulated) time */
#define NONE_AT (-999999999L)              /* no expectation for renew_at / due */
#define AT_NOW (-999999998L)               /* renew_at 0: due now */
#define SAN_ALL NULL                       /* the certificate covers the MD's names */

/* One certificate in the store (or in a static file). */
typedef struct {
    int present;
    const char *names;      /* its SANs ("a,b"), SAN_ALL: the row's domains */
    long nb, na;            /* notBefore, notAfter relative to T0 */
    int key;                /* KEY_OWN: its key in the store, KEY_NONE: none, KEY_OTHER: another one */
} cert_spec_t;

enum { KEY_OWN, KEY_NONE, KEY_OTHER };
enum { STATIC_NO, STATIC_FILE, STATIC_UNREADABLE };
enum { ARI_NONE, ARI_THIS, ARI_OTHER };
enum { JOB_NONE, JOB_FINISHED, JOB_UNREADABLE };

typedef struct {
    const char *label;
    const char *domains;
    int two_keys;                 /* P-256 and P-384 (else P-256 only) */
    cert_spec_t cert[2];
    int is_static;                /* STATIC_*: cert[0] as an MDCertificateFile instead of the store */
    long activation_delay;        /* seconds */
    int check_keys;
    int ari;                      /* ARI_*: ocsp/NAME/ari.json for this certificate or another one */
    long ari_pick;
    int job;                      /* JOB_* */
    /* expected */
    md_state_t state;
    const char *descr;            /* state-descr starts with this */
    int complete, servable, due, warn;
    long renew_at;                /* relative to T0, AT_NOW, or NONE_AT (with due not checked) */
    const char *problem[2];       /* each certificate's problem starts with this; NULL: none */
    int staged, job_problem;
} row_t;

#define VALID(nb, na) { 1, SAN_ALL, nb, na, KEY_OWN }
#define NO_CERT { 0, NULL, 0, 0, KEY_OWN }
#define LIFE90 (90 * DAY)
/* 33% of the lifetime before notAfter */
#define WINDOW(nb, na) ((na) - ((na) - (nb)) * 33 / 100)

#define P256 "certificate(secp256r1)"
#define P384 "certificate(secp384r1)"

static const row_t rows[] = {
    { "missing", NAME, 0, { NO_CERT }, 0, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_INCOMPLETE, P256 " is missing", 0, 0, 1, 0, AT_NOW, { P256 " is missing" }, 0, 0 },
    { "valid", NAME, 0, { VALID(-10 * DAY, 80 * DAY) }, 0, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_COMPLETE, "complete", 1, 1, 0, 0, WINDOW(-10 * DAY, 80 * DAY), { NULL }, 0, 0 },
    { "gained a name", NAME ",www." NAME, 0, { { 1, NAME, -10 * DAY, 80 * DAY, KEY_OWN } }, 0, 0, 0, ARI_NONE, 0,
      JOB_NONE, MD_S_INCOMPLETE, P256 " does not cover all domains", 0, 1, 1, 0, AT_NOW,
      { P256 " does not cover all domains" }, 0, 0 },
    { "gained a key type", NAME, 1, { VALID(-10 * DAY, 80 * DAY), NO_CERT }, 0, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_INCOMPLETE, P384 " is missing", 0, 1, 1, 0, AT_NOW, { NULL, P384 " is missing" }, 0, 0 },
    { "two key types", NAME, 1, { VALID(-10 * DAY, 80 * DAY), VALID(-20 * DAY, 70 * DAY) }, 0, 0, 0, ARI_NONE, 0,
      JOB_NONE, MD_S_COMPLETE, "complete", 1, 1, 0, 0, WINDOW(-20 * DAY, 70 * DAY), { NULL, NULL }, 0, 0 },
    { "expired", NAME, 0, { VALID(-100 * DAY, -10 * DAY) }, 0, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_EXPIRED, P256 " has expired", 0, 0, 1, 1, WINDOW(-100 * DAY, -10 * DAY), { P256 " has expired" }, 0, 0 },
    { "not yet valid", NAME, 0, { VALID(HOUR, HOUR + LIFE90) }, 0, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_INCOMPLETE, P256 " is not valid before ", 0, 0, 0, 0, WINDOW(HOUR, HOUR + LIFE90),
      { P256 " is not valid before " }, 0, 0 },
    { "not yet valid, activation delay -2h", NAME, 0, { VALID(HOUR, HOUR + LIFE90) }, 0, -2 * HOUR, 0, ARI_NONE, 0,
      JOB_NONE, MD_S_COMPLETE, "complete", 1, 1, 0, 0, WINDOW(HOUR, HOUR + LIFE90), { NULL }, 0, 0 },
    { "not yet valid, activation delay -30m", NAME, 0, { VALID(HOUR, HOUR + LIFE90) }, 0, -HOUR / 2, 0, ARI_NONE,
      0, JOB_NONE, MD_S_INCOMPLETE, P256 " is not valid before ", 0, 0, 0, 0, WINDOW(HOUR, HOUR + LIFE90),
      { P256 " is not valid before " }, 0, 0 },
    { "key file missing", NAME, 0, { { 1, SAN_ALL, -10 * DAY, 80 * DAY, KEY_NONE } }, 0, 0, 0, ARI_NONE, 0,
      JOB_NONE, MD_S_INCOMPLETE, P256 " has no private key (privkey.secp256r1.pem)", 0, 0, 1, 0, AT_NOW,
      { P256 " has no private key (privkey.secp256r1.pem)" }, 0, 0 },
    { "key not matching, check_keys", NAME, 0, { { 1, SAN_ALL, -10 * DAY, 80 * DAY, KEY_OTHER } }, 0, 0, 1,
      ARI_NONE, 0, JOB_NONE, MD_S_INCOMPLETE, P256 " does not match its private key privkey.secp256r1.pem", 0, 0,
      1, 0, AT_NOW, { P256 " does not match its private key privkey.secp256r1.pem" }, 0, 0 },
    { "key not matching, no check_keys", NAME, 0, { { 1, SAN_ALL, -10 * DAY, 80 * DAY, KEY_OTHER } }, 0, 0, 0,
      ARI_NONE, 0, JOB_NONE, MD_S_COMPLETE, "complete", 1, 1, 0, 0, WINDOW(-10 * DAY, 80 * DAY), { NULL }, 0, 0 },
    { "static file valid", NAME, 0, { VALID(-10 * DAY, 80 * DAY) }, STATIC_FILE, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_COMPLETE, "complete", 1, 1, 0, 0, NONE_AT, { NULL }, 0, 0 },
    { "static file expired", NAME, 0, { VALID(-100 * DAY, -DAY) }, STATIC_FILE, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_EXPIRED, P256 " has expired", 0, 0, 0, 1, NONE_AT, { P256 " has expired" }, 0, 0 },
    { "static file unreadable", NAME, 0, { VALID(-10 * DAY, 80 * DAY) }, STATIC_UNREADABLE, 0, 0, ARI_NONE, 0,
      JOB_NONE, MD_S_INCOMPLETE, "/", 0, 0, 0, 0, NONE_AT, { "/" }, 0, 0 },
    { "in the renew window", NAME, 0, { VALID(-70 * DAY, 20 * DAY) }, 0, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_COMPLETE, "complete", 1, 1, 1, 0, WINDOW(-70 * DAY, 20 * DAY), { NULL }, 0, 0 },
    { "just before the renew window", NAME, 0, { VALID(-60 * DAY + 3 * HOUR, 30 * DAY + 3 * HOUR) }, 0, 0, 0,
      ARI_NONE, 0, JOB_NONE, MD_S_COMPLETE, "complete", 1, 1, 0, 0,
      WINDOW(-60 * DAY + 3 * HOUR, 30 * DAY + 3 * HOUR), { NULL }, 0, 0 },
    { "in the warn window", NAME, 0, { VALID(-85 * DAY, 5 * DAY) }, 0, 0, 0, ARI_NONE, 0, JOB_NONE,
      MD_S_COMPLETE, "complete", 1, 1, 1, 1, WINDOW(-85 * DAY, 5 * DAY), { NULL }, 0, 0 },
    { "6-day certificate at 2/3", NAME, 0, { VALID(-4 * DAY - HOUR, 2 * DAY - HOUR) }, 0, 0, 0, ARI_NONE, 0,
      JOB_NONE, MD_S_COMPLETE, "complete", 1, 1, 1, 0, WINDOW(-4 * DAY - HOUR, 2 * DAY - HOUR), { NULL }, 0, 0 },
    { "ARI pick before the window", NAME, 0, { VALID(-10 * DAY, 80 * DAY) }, 0, 0, 0, ARI_THIS, 5 * DAY, JOB_NONE,
      MD_S_COMPLETE, "complete", 1, 1, 0, 0, 5 * DAY, { NULL }, 0, 0 },
    { "ARI pick passed", NAME, 0, { VALID(-10 * DAY, 80 * DAY) }, 0, 0, 0, ARI_THIS, -HOUR, JOB_NONE,
      MD_S_COMPLETE, "complete", 1, 1, 1, 0, -HOUR, { NULL }, 0, 0 },
    { "ARI of another certificate", NAME, 0, { VALID(-10 * DAY, 80 * DAY) }, 0, 0, 0, ARI_OTHER, -HOUR, JOB_NONE,
      MD_S_COMPLETE, "complete", 1, 1, 0, 0, WINDOW(-10 * DAY, 80 * DAY), { NULL }, 0, 0 },
    { "staged job", NAME, 0, { VALID(-70 * DAY, 20 * DAY) }, 0, 0, 0, ARI_NONE, 0, JOB_FINISHED,
      MD_S_COMPLETE, "complete", 1, 1, 1, 0, WINDOW(-70 * DAY, 20 * DAY), { NULL }, 1, 0 },
    { "unreadable job.json", NAME, 0, { VALID(-10 * DAY, 80 * DAY) }, 0, 0, 0, ARI_NONE, 0, JOB_UNREADABLE,
      MD_S_COMPLETE, "complete", 1, 1, 0, 0, WINDOW(-10 * DAY, 80 * DAY), { NULL }, 0, 1 },
};

#define ROWS ((int)(sizeof(rows) / sizeof(rows[0])))

/* ---- the fixture: a store, an MD, certificates with chosen validities ----------------------------------- */

typedef struct {
    apr_pool_t *p;
    const char *dir;
    md_store_t *store;
    md_clock_sim_t *sim;
    md_reg_t *reg;
    apr_time_t t0;
    md_t *md;
} st_fx_t;

static apr_time_t t0(void)
{
    apr_time_t t = 0;

    ck_assert_int_eq(md_time_parse_rfc3339(&t, T0_STR), APR_SUCCESS);
    return t;
}

static apr_array_header_t *split(const char *names, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    char *copy = apr_pstrdup(p, names), *s, *state = NULL;

    for (s = apr_strtok(copy, ",", &state); s; s = apr_strtok(NULL, ",", &state)) APR_ARRAY_PUSH(a, const char *) = s;
    return a;
}

static md_pkey_spec_t *ec_spec(const char *curve, apr_pool_t *p)
{
    md_pkey_spec_t *spec = apr_pcalloc(p, sizeof(*spec));

    spec->type = MD_PKEY_EC;
    spec->curve = curve;
    return spec;
}

static void add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A self-signed certificate of key for names, valid [nb, na]; with SKI and AKI, so that it has an ARI id. */
static md_cert_t *make_cert(const char *names, const md_pkey_t *key, apr_time_t nb, apr_time_t na, apr_pool_t *p)
{
    static long serial = 4711;
    apr_array_header_t *a = split(names, p);
    const char *san = "";
    X509 *x = X509_new();
    int i;

    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_set_version(x, 2), 1);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial), 1);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                                (const unsigned char *)APR_ARRAY_IDX(a, 0, const char *), -1, -1, 0), 1);
    ck_assert_int_eq(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)apr_time_sec(nb)));
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)apr_time_sec(na)));
    ck_assert_int_eq(X509_set_pubkey(x, md_pkey_get_EVP_PKEY(key)), 1);
    for (i = 0; i < a->nelts; ++i) {
        san = apr_pstrcat(p, san, i ? "," : "", "DNS:", APR_ARRAY_IDX(a, i, const char *), NULL);
    }
    add_ext(x, NID_subject_alt_name, san);
    add_ext(x, NID_subject_key_identifier, "hash");
    add_ext(x, NID_authority_key_identifier, "keyid:always");
    ck_assert_int_gt(X509_sign(x, md_pkey_get_EVP_PKEY(key), EVP_sha256()), 0);
    return md_cert_wrap(x, p);
}

static void fx_init(st_fx_t *f, const char *domains, int two_keys)
{
    md_result_t *result;

    memset(f, 0, sizeof(*f));
    f->p = md_test_pool();
    f->dir = md_test_mkdtemp(f->p);
    result = md_result_make(f->p);
    ck_assert_int_eq(md_store_fs_open(&f->store, md_file_join(f->p, f->dir, "store", NULL), result, f->p),
                     APR_SUCCESS);
    f->t0 = t0();
    f->sim = md_clock_sim_make(f->t0, f->p);
    f->reg = md_reg_make(f->store, md_clock_sim_clock(f->sim), f->p);
    f->md = md_create(split(domains, f->p), f->p);
    apr_array_clear(f->md->pks);
    APR_ARRAY_PUSH(f->md->pks, md_pkey_spec_t *) = ec_spec("secp256r1", f->p);
    if (two_keys) APR_ARRAY_PUSH(f->md->pks, md_pkey_spec_t *) = ec_spec("secp384r1", f->p);
    APR_ARRAY_PUSH(f->md->ca_urls, const char *) = "https://ca.test/dir";
    ck_assert_int_eq(md_save(f->md, f->store, MD_SG_DOMAINS, 0, result, f->p), APR_SUCCESS);
}

static void fx_done(st_fx_t *f)
{
    md_test_rmdir(f->dir, f->p);
    md_test_pool_done(f->p);
}

/* Certificate i as spec says: in domains/NAME (with its key, none or another), or as a static file. Returns the
 * certificate (NULL when not present) and, for static files, their path in *ppath. */
static md_cert_t *fx_cert(st_fx_t *f, const cert_spec_t *cs, int i, int is_static, const char **ppath)
{
    md_pkey_spec_t *spec = APR_ARRAY_IDX(f->md->pks, i, md_pkey_spec_t *);
    apr_array_header_t *chain = apr_array_make(f->p, 1, sizeof(md_cert_t *));
    md_pkey_t *key = NULL, *other = NULL;
    md_cert_t *cert;
    const char *names = cs->names ? cs->names : apr_array_pstrcat(f->p, f->md->domains, ',');

    if (!cs->present) return NULL;
    ck_assert_int_eq(md_pkey_gen(&key, spec, f->p), APR_SUCCESS);
    cert = make_cert(names, key, f->t0 + apr_time_from_sec(cs->nb), f->t0 + apr_time_from_sec(cs->na), f->p);
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    if (is_static) {
        *ppath = md_file_join(f->p, f->dir, "static.pem", NULL);
        ck_assert_int_eq(md_cert_chain_fsave(chain, *ppath, 0644, f->p), APR_SUCCESS);
        return cert;
    }
    ck_assert_int_eq(md_store_save(f->store, MD_SG_DOMAINS, f->md->name, md_cert_aspect(f->md, i, f->p), MD_SV_CHAIN,
                                   chain, 0, NULL, f->p), APR_SUCCESS);
    if (cs->key == KEY_OTHER) ck_assert_int_eq(md_pkey_gen(&other, spec, f->p), APR_SUCCESS);
    if (cs->key != KEY_NONE) {
        ck_assert_int_eq(md_store_save(f->store, MD_SG_DOMAINS, f->md->name, md_pkey_aspect(f->md, i, f->p),
                                       MD_SV_PKEY, other ? other : key, 0, NULL, f->p), APR_SUCCESS);
    }
    return cert;
}

/* ocsp/NAME/ari.json for the certificate with that ARI id, a window around pick. */
static void fx_ari(st_fx_t *f, const char *cert_id, apr_time_t pick)
{
    md_json_t *json = md_json_create(f->p);

    md_json_sets(cert_id, json, "cert-id", NULL);
    md_json_sets(md_time_print_rfc3339(pick - apr_time_from_sec(HOUR), f->p), json, "window", "start", NULL);
    md_json_sets(md_time_print_rfc3339(pick + apr_time_from_sec(HOUR), f->p), json, "window", "end", NULL);
    md_json_sets(md_time_print_rfc3339(pick, f->p), json, "pick", NULL);
    md_json_sets(md_time_print_rfc3339(f->t0 + apr_time_from_sec(6 * HOUR), f->p), json, "next-check", NULL);
    ck_assert_int_eq(md_store_save(f->store, MD_DRIVE_ARI_GROUP, f->md->name, MD_DRIVE_ARI_FILE, MD_SV_JSON, json, 0,
                                   NULL, f->p), APR_SUCCESS);
}

static void fx_job(st_fx_t *f, int which)
{
    md_job_t *job = md_job_make(f->md->name, f->p);

    if (which == JOB_UNREADABLE) {
        ck_assert_int_eq(md_store_save(f->store, MD_SG_STAGING, f->md->name, "job.json", MD_SV_TEXT,
                                       "{\"name\": \"example.org\", \"finished\": tru", 0, NULL, f->p), APR_SUCCESS);
        return;
    }
    job->finished = 1;
    job->valid_from = f->t0 - apr_time_from_sec(HOUR);
    md_job_log(job, "finished", NULL, f->t0 - apr_time_from_sec(HOUR));
    ck_assert_int_eq(md_job_save(job, f->store, MD_SG_STAGING, NULL, f->p), APR_SUCCESS);
}

/* The store situation of a row; the options to read it with in *opts. */
static void fx_row(st_fx_t *f, const row_t *row, md_reg_state_opts_t *opts)
{
    apr_array_header_t *files = apr_array_make(f->p, 1, sizeof(const char *));
    const char *path = NULL, *id = NULL;
    md_cert_t *first;
    int i;

    memset(opts, 0, sizeof(*opts));
    first = fx_cert(f, &row->cert[0], 0, row->is_static != STATIC_NO, &path);
    for (i = 1; i < f->md->pks->nelts; ++i) fx_cert(f, &row->cert[i], i, 0, NULL);
    if (row->is_static == STATIC_UNREADABLE) {
        ck_assert_int_eq(md_file_write_atomic(path, "-----BEGIN CERTIFICATE-----\nnonsense\n", 38, 0644, f->p),
                         APR_SUCCESS);
    }
    if (path) {
        APR_ARRAY_PUSH(files, const char *) = path;
        opts->cert_files = files;
    }
    opts->activation_delay = apr_time_from_sec(row->activation_delay);
    opts->check_keys = row->check_keys;
    if (row->ari != ARI_NONE) {
        ck_assert_int_eq(md_cert_get_ari_cert_id(&id, first, f->p), APR_SUCCESS);
        fx_ari(f, row->ari == ARI_THIS ? id : "aW52ZW50ZWQ.AQID", f->t0 + apr_time_from_sec(row->ari_pick));
    }
    if (row->job != JOB_NONE) fx_job(f, row->job);
}

static void assert_starts(const char *what, const char *got, const char *want, const char *label)
{
    ck_assert_msg(got && !strncmp(got, want, strlen(want)), "%s: %s is '%s', expected '%s...'", label, what,
                  got ? got : "(null)", want);
}

START_TEST(reg_state_table)
{
    const row_t *row = &rows[_i];
    md_reg_state_opts_t opts;
    md_reg_state_t *st;
    md_reg_cert_t *c;
    st_fx_t f;
    int i;

    fx_init(&f, row->domains, row->two_keys);
    fx_row(&f, row, &opts);
    st = md_reg_state(f.reg, f.md, &opts, f.p);
    ck_assert_msg(st->state == row->state, "%s: state %s, expected %s (%s)", row->label, md_state_str(st->state),
                  md_state_str(row->state), st->state_descr);
    assert_starts("state-descr", st->state_descr, row->descr, row->label);
    ck_assert_int_eq(st->now, f.t0);
    ck_assert_int_eq(st->is_static, row->is_static != STATIC_NO);
    ck_assert_msg(st->complete == row->complete, "%s: complete %d", row->label, st->complete);
    ck_assert_msg(st->servable == row->servable, "%s: servable %d", row->label, st->servable);
    ck_assert_msg(st->warn == row->warn, "%s: warn %d", row->label, st->warn);
    if (row->renew_at != NONE_AT) {
        ck_assert_msg(st->due == row->due, "%s: due %d", row->label, st->due);
        if (row->renew_at == AT_NOW) ck_assert_msg(st->renew_at == 0, "%s: renew_at %s, expected now", row->label,
                                                  md_time_print_rfc3339(st->renew_at, f.p));
        else ck_assert_msg(apr_time_sec(st->renew_at) == apr_time_sec(f.t0) + row->renew_at,
                           "%s: renew_at %s, expected %s", row->label, md_time_print_rfc3339(st->renew_at, f.p),
                           md_time_print_rfc3339(f.t0 + apr_time_from_sec(row->renew_at), f.p));
    }
    ck_assert_int_eq(st->certs->nelts, row->is_static != STATIC_NO ? 1 : f.md->pks->nelts);
    ck_assert_int_eq(st->validities->nelts, st->certs->nelts);
    for (i = 0; i < st->certs->nelts; ++i) {
        c = APR_ARRAY_IDX(st->certs, i, md_reg_cert_t *);
        if (row->problem[i]) assert_starts("problem", c->problem, row->problem[i], row->label);
        else ck_assert_msg(c->problem == NULL, "%s: certificate %d has problem '%s'", row->label, i, c->problem);
        ck_assert_int_eq(c->cert != NULL, row->cert[i].present && row->is_static != STATIC_UNREADABLE);
        ck_assert_int_eq(APR_ARRAY_IDX(st->validities, i, md_cert_validity_t *) != NULL, c->cert != NULL);
    }
    if (row->is_static == STATIC_NO && st->certs->nelts) {
        c = APR_ARRAY_IDX(st->certs, 0, md_reg_cert_t *);
        ck_assert_str_eq(c->key, "secp256r1");
        ck_assert_str_eq(c->file, "pubcert.secp256r1.pem");
    }
    if (row->is_static == STATIC_FILE) ck_assert_str_eq(APR_ARRAY_IDX(st->certs, 0, md_reg_cert_t *)->key, "secp256r1");
    if (row->is_static == STATIC_UNREADABLE) ck_assert_str_eq(APR_ARRAY_IDX(st->certs, 0, md_reg_cert_t *)->key, "cert-0");
    ck_assert_msg(st->staged == row->staged, "%s: staged %d", row->label, st->staged);
    ck_assert_msg((st->job_problem != NULL) == row->job_problem, "%s: job_problem %s", row->label,
                  st->job_problem ? st->job_problem : "(none)");
    ck_assert_int_eq(st->job != NULL, row->job == JOB_FINISHED);
    if (row->ari == ARI_THIS) ck_assert_int_eq(apr_time_sec(st->ari_pick), apr_time_sec(f.t0) + row->ari_pick);
    else ck_assert_int_eq(st->ari_pick, 0);
    ck_assert_int_eq(st->ari_cert_id != NULL, row->cert[0].present && row->is_static != STATIC_UNREADABLE);
    fx_done(&f);
}
END_TEST

/* md_reg_load_state reads md.json; a missing MD says so. */
START_TEST(reg_state_load)
{
    md_result_t *result;
    md_reg_state_t *st = NULL;
    st_fx_t f;

    fx_init(&f, NAME, 0);
    result = md_result_make(f.p);
    ck_assert_int_eq(md_reg_load_state(&st, f.reg, NAME, NULL, result, f.p), APR_SUCCESS);
    ck_assert_str_eq(st->md->name, NAME);
    ck_assert_int_eq(st->state, MD_S_INCOMPLETE);
    ck_assert_int_eq(md_reg_load_state(&st, f.reg, "nothing.example.org", NULL, result, f.p), APR_ENOENT);
    ck_assert_ptr_null(st);
    ck_assert_ptr_nonnull(strstr(md_result_text(result, f.p), "nothing.example.org"));
    fx_done(&f);
}
END_TEST

/* Every file of the set that is there but cannot be used is named with its path and what is wrong (issue 15: a junk,
 * empty or foreign privkey, a truncated pubcert were reported as "complete" or without the file): never complete,
 * due now, and st->file_problem says which file. */
START_TEST(reg_state_names_bad_files)
{
    static const struct { const char *label; const char *key_text; int other_key, drop_key, cut_cert;
                          const char *file, *why; } cases[] = {
        { "junk key", "junk\n", 0, 0, 0, "privkey.secp256r1.pem", "not a usable private key" },
        { "empty key", "", 0, 0, 0, "privkey.secp256r1.pem", "not a usable private key" },
        { "another key", NULL, 1, 0, 0, "privkey.secp256r1.pem", "is not the key of the certificate" },
        { "key missing", NULL, 0, 1, 0, "privkey.secp256r1.pem", "is missing, but pubcert.secp256r1.pem is there" },
        { "truncated certificate", NULL, 0, 0, 1, "pubcert.secp256r1.pem", "not a certificate chain" },
    };
    const cert_spec_t valid = VALID(-10 * DAY, 80 * DAY);
    md_reg_state_opts_t opts = { NULL, 0, 1 };
    md_reg_state_t *st;
    md_pkey_t *other;
    const char *path, *text;
    size_t i;
    st_fx_t f;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        fx_init(&f, NAME, 0);
        fx_cert(&f, &valid, 0, 0, NULL);
        ck_assert_int_eq(md_store_get_fname(&path, f.store, MD_SG_DOMAINS, NAME, cases[i].file, f.p), APR_SUCCESS);
        if (cases[i].key_text) {
            ck_assert_int_eq(md_file_write_atomic(path, cases[i].key_text, strlen(cases[i].key_text), 0600, f.p),
                             APR_SUCCESS);
        }
        if (cases[i].other_key) {
            ck_assert_int_eq(md_pkey_gen(&other, APR_ARRAY_IDX(f.md->pks, 0, md_pkey_spec_t *), f.p), APR_SUCCESS);
            ck_assert_int_eq(md_store_save(f.store, MD_SG_DOMAINS, NAME, cases[i].file, MD_SV_PKEY, other, 0, NULL,
                                           f.p), APR_SUCCESS);
        }
        if (cases[i].drop_key) ck_assert_int_eq(md_store_remove(f.store, MD_SG_DOMAINS, NAME, cases[i].file, 0, f.p),
                                                APR_SUCCESS);
        if (cases[i].cut_cert) {
            char *data;
            apr_size_t len;
            ck_assert_int_eq(md_file_read(&data, &len, path, f.p), APR_SUCCESS);
            ck_assert_int_eq(md_file_write_atomic(path, data, len / 2, 0644, f.p), APR_SUCCESS);
        }
        st = md_reg_state(f.reg, f.md, &opts, f.p);
        ck_assert_msg(st->file_problem != NULL, "%s: no file problem", cases[i].label);
        ck_assert_msg(strstr(st->file_problem, path) && strstr(st->file_problem, cases[i].why),
                      "%s: '%s' does not name %s and '%s'", cases[i].label, st->file_problem, path, cases[i].why);
        ck_assert_msg(!st->complete && st->state != MD_S_COMPLETE && st->due && st->renew_at == 0,
                      "%s: complete %d, state %s, due %d", cases[i].label, st->complete, st->state_descr, st->due);
        text = APR_ARRAY_IDX(st->certs, 0, md_reg_cert_t *)->file_problem;
        ck_assert_str_eq(text, st->file_problem);
        fx_done(&f);
    }
    /* a sound set has none */
    fx_init(&f, NAME, 0);
    fx_cert(&f, &valid, 0, 0, NULL);
    st = md_reg_state(f.reg, f.md, &opts, f.p);
    ck_assert_ptr_null(st->file_problem);
    ck_assert_int_eq(st->state, MD_S_COMPLETE);
    fx_done(&f);
}
END_TEST

/* A damaged md.json is an error that names the file and what is wrong, never a crash (issue 15: empty, truncated, with
 * a NUL, "name": 5, a directory, a name that is no directory name or another MD's). */
START_TEST(reg_state_bad_md_json)
{
    static const struct { const char *label; const char *text; apr_size_t len; const char *why; } cases[] = {
        { "empty", "", 0, "invalid JSON" },
        { "truncated", "{\"name\": \"example.org\", \"doma", 30, "invalid JSON" },
        { "a NUL", "{\"name\": \"example.org\"\0, \"domains\": [\"example.org\"]}", 52, "invalid JSON" },
        { "name 5", "{\"name\": 5, \"domains\": [\"example.org\"]}", 0, "\"name\" is not a string" },
        { "no domains", "{\"name\": \"example.org\"}", 0, "\"domains\" is missing" },
        { "name ../../etc", "{\"name\": \"../../etc\", \"domains\": [\"example.org\"]}", 0,
          "\"name\" '../../etc' cannot be an MD's name" },
        { "another MD's name", "{\"name\": \"other.example.org\", \"domains\": [\"other.example.org\"]}", 0,
          "\"name\" is 'other.example.org', but the file is in the directory of 'example.org'" },
        { "control character", "{\"name\": \"example.org\", \"domains\": [\"example.org\", \"a\\u001b[31m.org\"]}", 0,
          "control character" },
    };
    md_result_t *result;
    md_reg_state_t *st;
    const char *path;
    size_t i;
    st_fx_t f;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        fx_init(&f, NAME, 0);
        result = md_result_make(f.p);
        ck_assert_int_eq(md_store_get_fname(&path, f.store, MD_SG_DOMAINS, NAME, "md.json", f.p), APR_SUCCESS);
        ck_assert_int_eq(md_file_write_atomic(path, cases[i].text, cases[i].len ? cases[i].len : strlen(cases[i].text),
                                              0600, f.p), APR_SUCCESS);
        ck_assert_int_ne(md_reg_load_state(&st, f.reg, NAME, NULL, result, f.p), APR_SUCCESS);
        ck_assert_ptr_null(st);
        ck_assert_msg(strstr(md_result_text(result, f.p), path) && strstr(md_result_text(result, f.p), cases[i].why),
                      "%s: '%s' does not name %s and '%s'", cases[i].label, md_result_text(result, f.p), path,
                      cases[i].why);
        fx_done(&f);
    }
    /* a directory where md.json should be; a directory without md.json */
    fx_init(&f, NAME, 0);
    result = md_result_make(f.p);
    ck_assert_int_eq(md_store_get_fname(&path, f.store, MD_SG_DOMAINS, NAME, "md.json", f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_remove(f.store, MD_SG_DOMAINS, NAME, "md.json", 0, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_load_state(&st, f.reg, NAME, NULL, result, f.p), APR_ENOENT);
    ck_assert_str_eq(md_result_text(result, f.p), apr_pstrcat(f.p, path, " is missing", NULL));
    ck_assert_int_eq(apr_dir_make(path, APR_FPROT_OS_DEFAULT, f.p), APR_SUCCESS);
    ck_assert_int_ne(md_reg_load_state(&st, f.reg, NAME, NULL, result, f.p), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(md_result_text(result, f.p), path));
    fx_done(&f);
}
END_TEST

/* 200 000 names (issue 15: list/show/drive ran for minutes, the time growing with the square of the count): md.json
 * read, the certificate's coverage, the state, all in time linear in the names (a square would take hours here;
 * the test case's time limit is 120 s). */
START_TEST(reg_state_200000_names)
{
    enum { N = 200000 };
    apr_array_header_t *names, *chain;
    md_reg_state_opts_t opts = { NULL, 0, 1 };
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    md_result_t *result;
    md_reg_state_t *st;
    md_pkey_t *key;
    md_t *md;
    X509 *x;
    st_fx_t f;
    int i;

    fx_init(&f, NAME, 0);
    result = md_result_make(f.p);
    names = apr_array_make(f.p, N + 1, sizeof(const char *));
    APR_ARRAY_PUSH(names, const char *) = NAME;
    for (i = 1; i < N; ++i) APR_ARRAY_PUSH(names, const char *) = apr_psprintf(f.p, "n%d." NAME, i);
    APR_ARRAY_PUSH(names, const char *) = "N1.Example.ORG";     /* a duplicate in other case: dropped */
    md = md_create(names, f.p);
    ck_assert_int_eq(md->domains->nelts, N);
    md->pks = f.md->pks;
    APR_ARRAY_PUSH(md->ca_urls, const char *) = "https://ca.test/dir";
    ck_assert_int_eq(md_save(md, f.store, MD_SG_DOMAINS, 0, result, f.p), APR_SUCCESS);
    /* a certificate with the names as SANs, in reverse order */
    ck_assert_int_eq(md_pkey_gen(&key, APR_ARRAY_IDX(md->pks, 0, md_pkey_spec_t *), f.p), APR_SUCCESS);
    x = md_cert_get_X509(make_cert(NAME, key, f.t0 - apr_time_from_sec(DAY), f.t0 + apr_time_from_sec(80 * DAY), f.p));
    for (i = N - 1; i >= 0; --i) {
        GENERAL_NAME *gen = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ck_assert_int_eq(ASN1_STRING_set(s, APR_ARRAY_IDX(md->domains, i, const char *), -1), 1);
        GENERAL_NAME_set0_value(gen, GEN_DNS, s);
        ck_assert_int_gt(sk_GENERAL_NAME_push(gens, gen), 0);
    }
    ck_assert_int_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_REPLACE), 1);
    GENERAL_NAMES_free(gens);
    ck_assert_int_gt(X509_sign(x, md_pkey_get_EVP_PKEY(key), EVP_sha256()), 0);
    chain = apr_array_make(f.p, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(X509_dup(x), f.p);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_DOMAINS, NAME, md_cert_aspect(md, 0, f.p), MD_SV_CHAIN, chain, 0,
                                   NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_store_save(f.store, MD_SG_DOMAINS, NAME, md_pkey_aspect(md, 0, f.p), MD_SV_PKEY, key, 0,
                                   NULL, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_load_state(&st, f.reg, NAME, &opts, result, f.p), APR_SUCCESS);
    ck_assert_int_eq(st->md->domains->nelts, N);
    ck_assert_msg(st->complete && st->state == MD_S_COMPLETE, "%s", st->state_descr);
    ck_assert_ptr_nonnull(md_reg_status(f.reg, st, NULL, f.p));
    /* one name more that the certificate does not have: not covering, and named */
    APR_ARRAY_PUSH(st->md->domains, const char *) = "extra." NAME;
    {
        const char *missing = NULL;
        ck_assert(!md_cert_covers_all(md_cert_wrap(x, f.p), st->md->domains, &missing, f.p));
        ck_assert_str_eq(missing, "extra." NAME);
    }
    fx_done(&f);
}
END_TEST

/* ---- the md-status model ------------------------------------------------------------------------------ */

/* The model of the "staged job" row for example.org and www.example.org, with an EAB key. */
static md_json_t *status_of_staged(st_fx_t *f)
{
    md_reg_status_opts_t sopts = { "temporary", 1, 1 };
    md_reg_state_opts_t opts;
    const row_t *row = NULL;
    int i;

    for (i = 0; i < ROWS; ++i) if (!strcmp(rows[i].label, "staged job")) row = &rows[i];
    ck_assert_ptr_nonnull(row);
    fx_init(f, NAME ",www." NAME, 0);
    f->md->ca_eab_kid = "kid-1";
    f->md->ca_eab_hmac = "c2VjcmV0LWhtYWMta2V5";
    fx_row(f, row, &opts);
    return md_reg_status(f->reg, md_reg_state(f->reg, f->md, &opts, f->p), &sopts, f->p);
}

START_TEST(reg_status_fields)
{
    apr_array_header_t *names;
    apr_time_t nb, na;
    md_json_t *json;
    st_fx_t f;

    json = status_of_staged(&f);
    ck_assert_str_eq(md_json_gets(json, "name", NULL), NAME);
    names = apr_array_make(f.p, 2, sizeof(const char *));
    ck_assert_int_eq(md_json_getsa(names, json, "domains", NULL), APR_SUCCESS);
    ck_assert_int_eq(names->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(names, 0, const char *), NAME);
    ck_assert_str_eq(APR_ARRAY_IDX(names, 1, const char *), "www." NAME);
    ck_assert_int_eq(md_json_getl(json, "state", NULL), MD_S_COMPLETE);
    ck_assert_str_eq(md_json_gets(json, "state-descr", NULL), "complete");
    nb = f.t0 + apr_time_from_sec(-70 * DAY);
    na = f.t0 + apr_time_from_sec(20 * DAY);
    ck_assert_str_eq(md_json_gets(json, "cert", "secp256r1", "valid", "from", NULL), md_time_print_http(nb, f.p));
    ck_assert_str_eq(md_json_gets(json, "cert", "secp256r1", "valid", "until", NULL), md_time_print_http(na, f.p));
    ck_assert_str_eq(md_json_gets(json, "cert", "valid", "until", NULL), md_time_print_http(na, f.p));
    ck_assert_ptr_nonnull(md_json_gets(json, "cert", "secp256r1", "sha256-fingerprint", NULL));
    ck_assert_ptr_nonnull(md_json_gets(json, "cert", "secp256r1", "serial", NULL));
    ck_assert_str_eq(md_json_gets(json, "renew-at", NULL),
                     md_time_print_http(f.t0 + apr_time_from_sec(WINDOW(-70 * DAY, 20 * DAY)), f.p));
    ck_assert_int_eq(md_json_getb(json, "renew", NULL), 1);
    ck_assert(md_json_has_key(json, "renew", NULL));
    ck_assert_int_eq(md_json_getb(json, "warn", NULL), 0);
    ck_assert(md_json_has_key(json, "warn", NULL));
    ck_assert_str_eq(md_json_gets(json, "require-https", NULL), "temporary");
    ck_assert_int_eq(md_json_getb(json, "watched", NULL), 1);
    /* the staged job */
    ck_assert_str_eq(md_json_gets(json, "renewal", "name", NULL), NAME);
    ck_assert_int_eq(md_json_getb(json, "renewal", "finished", NULL), 1);
    ck_assert(md_json_is(MD_JSON_TYPE_ARRAY, json, "renewal", "log", "entries", NULL));   /* mod_md's shape */
    ck_assert_ptr_null(md_json_getj(json, "renewal", "mdomain", NULL));
    /* no secrets: the EAB key id, its HMAC as "***" (as mod_md shows it) */
    ck_assert_str_eq(md_json_gets(json, "eab", "kid", NULL), "kid-1");
    ck_assert_str_eq(md_json_gets(json, "eab", "hmac", NULL), "***");
    ck_assert_ptr_null(strstr(md_json_writep(json, MD_JSON_FMT_COMPACT, f.p), "c2VjcmV0LWhtYWMta2V5"));
    fx_done(&f);
}
END_TEST

/* md-status/NAME as mod_md finds the MD: by its name, else by any of its domains (ignoring case, wildcards too). */
START_TEST(reg_find_by_name_or_domain)
{
    apr_pool_t *p = md_test_pool();
    apr_array_header_t *mds = apr_array_make(p, 3, sizeof(const md_t *));
    static const char *const sets[][3] = {
        { "example.org", "www.example.org", NULL },
        { "shop.example.net", "*.shop.example.net", NULL },
        { "www.example.org.other", NULL, NULL },
    };
    apr_array_header_t *domains;
    int i, j;

    for (i = 0; i < 3; ++i) {
        domains = apr_array_make(p, 2, sizeof(const char *));
        for (j = 0; j < 3 && sets[i][j]; ++j) APR_ARRAY_PUSH(domains, const char *) = sets[i][j];
        APR_ARRAY_PUSH(mds, const md_t *) = md_create(domains, p);
    }
    ck_assert_int_eq(md_reg_find(mds, "example.org"), 0);
    ck_assert_int_eq(md_reg_find(mds, "www.example.org"), 0);
    ck_assert_int_eq(md_reg_find(mds, "WWW.Example.ORG"), 0);
    ck_assert_int_eq(md_reg_find(mds, "shop.example.net"), 1);
    ck_assert_int_eq(md_reg_find(mds, "a.shop.example.net"), 1);             /* by its wildcard */
    ck_assert_int_eq(md_reg_find(mds, "*.shop.example.net"), 1);
    ck_assert_int_eq(md_reg_find(mds, "www.example.org.other"), 2);
    ck_assert_int_eq(md_reg_find(mds, "a.b.shop.example.net"), -1);          /* one label only */
    ck_assert_int_eq(md_reg_find(mds, "other.example.org"), -1);
    ck_assert_int_eq(md_reg_find(mds, ""), -1);
    ck_assert_int_eq(md_reg_find(mds, NULL), -1);
    ck_assert_int_eq(md_reg_find(NULL, "example.org"), -1);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_reg_state_suite(void)
{
    Suite *s = suite_create("reg_state");
    TCase *tc = tcase_create("state");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, reg_state_table, 0, ROWS);
    tcase_add_test(tc, reg_state_load);
    tcase_add_test(tc, reg_status_fields);
    tcase_add_test(tc, reg_find_by_name_or_domain);
    tcase_add_test(tc, reg_state_names_bad_files);
    tcase_add_test(tc, reg_state_bad_md_json);
    suite_add_tcase(s, tc);
    tc = tcase_create("scale");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reg_state_200000_names);
    suite_add_tcase(s, tc);
    return s;
}
