/* The fixture of the fake CA tests (test_fake_ca.c, test_fake_ca_time.c): a store, a simulated clock, the fake
 * CA, a responder that records its answers. */
#ifndef TEST_FAKE_CA_FIXTURE_H
#define TEST_FAKE_CA_FIXTURE_H
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
#define WHOLE_SECONDS(t) apr_time_from_sec(apr_time_sec(t))   /* times the ARI cache keeps */
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


int resp_supports(void *baton, const char *type);
apr_status_t resp_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p);
apr_status_t resp_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                  apr_pool_t *p);
int fx_validate(void *baton, const char *type, const char *identifier, const char *token,
                       const char *key_authz, const char **pproblem, const char **pdetail, apr_pool_t *p);
apr_time_t sim_start(void);
void fx_add_md(fx_t *f, const char *names, int two_keys);
void fx_init(fx_t *f, const char *names, int two_keys, apr_time_t start);
void fx_done(fx_t *f);
md_drive_outcome_t fx_drive_md(fx_t *f, const char *name, int force);
md_drive_outcome_t fx_drive(fx_t *f, int force);
void assert_outcome(fx_t *f, md_drive_outcome_t got, md_drive_outcome_t want);
md_cert_t *fca_fx_leaf(fx_t *f, int i);
const fake_ca_cert_t *issued(fx_t *f, const char *names, int i);
void assert_chain_ok(fx_t *f, const fake_ca_cert_t *cert);
int answers_in_place(fx_t *f);

/* The tests of test_fake_ca_time.c, added to the fake CA suite. */
void test_fake_ca_time_tcases(TCase *tc);

#endif
