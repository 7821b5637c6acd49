/* The ACME client (RFC 8555): directory, nonce pool, signed requests with badNonce retry, problem documents. */
#ifndef MD_ACME_H
#define MD_ACME_H

#include <apr_pools.h>
#include <apr_time.h>

#include "md_http.h"
#include "md_json.h"
#include "md_pkey.h"

struct md_result_t;

#define MD_ACME_PROBLEM_PREFIX "urn:ietf:params:acme:error:"
/* A CA may reject any nonce (pebble in the tests: half of them); 21 rejections in a row at 50% happen once in two
 * million requests, where 11 failed the e2e tests now and then. */
#define MD_ACME_BADNONCE_RETRIES 20

/* Known CA names for -a/--acme and MDCertificateAuthority (case-insensitive). */
const char *md_acme_ca_url_for(const char *name_or_url);   /* the URL, or name_or_url when it is a URL */
/* The known CA names for messages: "LetsEncrypt, LetsEncrypt-Test, Buypass, Buypass-Test". */
const char *md_acme_ca_names(apr_pool_t *p);
/* The directory URL of a CA as MDCertificateAuthority takes it: a known name (any case), or an absolute URI that
 * mod_md accepts (md_uri_problem: any scheme; md_uri_is_http says whether it can be used). NULL otherwise, with
 * mod_md's words in *perr: "The CA name 'X' is not known and it is not a URL either (REASON)", and the names. */
const char *md_acme_ca_resolve(const char *name_or_url, const char **perr, apr_pool_t *p);

typedef struct md_acme_t md_acme_t;

/* A client for the CA whose directory is at url. The http client is used for every request; a nonce pool
 * (thread-safe) is shared by all users of this md_acme_t. Nothing is fetched yet. */
apr_status_t md_acme_create(md_acme_t **pacme, const char *url, md_http_t *http, apr_pool_t *p);
const char *md_acme_url(const md_acme_t *acme);
md_http_t *md_acme_http(const md_acme_t *acme);
/* url (what: "the account URL", ...) when it is on the CA's origin, the scheme, host and port of its directory URL,
 * made absolute when it is a path ("/acme/acct/1"); NULL, with result set, when it is elsewhere or no http(s) URL:
 * a CA's answer cannot send the account's key or orders to another host. */
const char *md_acme_on_origin(md_acme_t *acme, const char *what, const char *url, struct md_result_t *result,
                              apr_pool_t *p);

/* Fetch the directory (once; later calls return at once). A directory without newNonce, newAccount or
 * newOrder, or not JSON, is APR_EINVAL with a detail that says so. */
apr_status_t md_acme_setup(md_acme_t *acme, struct md_result_t *result);
md_json_t *md_acme_directory(const md_acme_t *acme);
/* A resource URL from the directory ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange",
 * "renewalInfo", "newAuthz"), or NULL. */
const char *md_acme_resource(const md_acme_t *acme, const char *name);
/* meta: termsOfService URL, externalAccountRequired, profiles (object name -> description) or NULL. */
const char *md_acme_tos(const md_acme_t *acme);
int md_acme_eab_required(const md_acme_t *acme);
md_json_t *md_acme_profiles(const md_acme_t *acme);
/* meta.caaIdentities: the domain names CAA records must name for this CA (const char*), empty when it gives none. */
apr_array_header_t *md_acme_caa_identities(const md_acme_t *acme, apr_pool_t *p);

/* The account requests are signed with: kid (account URL) and its key. Until set, md_acme_post signs
 * with the JWK. */
void md_acme_set_account(md_acme_t *acme, const char *kid, md_pkey_t *key);
const char *md_acme_account_url(const md_acme_t *acme);
md_pkey_t *md_acme_account_key(const md_acme_t *acme);

/* Polling (authorizations, orders): the first wait and the longest; a Retry-After of the CA wins when
 * it is longer, up to poll_max. Defaults 250ms (doubling) and 10s; tests set them shorter. */
void md_acme_set_polling(md_acme_t *acme, apr_interval_time_t poll_min, apr_interval_time_t poll_max);
apr_interval_time_t md_acme_poll_min(const md_acme_t *acme);
apr_interval_time_t md_acme_poll_max(const md_acme_t *acme);
/* The clock for polling deadlines, waits and Retry-After (NULL, the default: the real one). */
struct md_clock_t;
void md_acme_set_clock(md_acme_t *acme, const struct md_clock_t *clock);
const struct md_clock_t *md_acme_clock(const md_acme_t *acme);

/* Options of a signed request. */
typedef struct md_acme_req_opts_t {
    int use_jwk;            /* sign with the JWK instead of kid (newAccount, revocation by cert key) */
    md_pkey_t *key;         /* sign with this key instead of the account key */
    const char *accept;     /* Accept header, e.g. "application/pem-certificate-chain" */
} md_acme_req_opts_t;

/* POST a JWS to url: payload NULL is POST-as-GET (empty payload). Takes a nonce from the pool (HEAD
 * newNonce when empty), feeds the pool from every Replay-Nonce, retries badNonce up to
 * MD_ACME_BADNONCE_RETRIES times with a fresh nonce. A problem document (or any status >= 400) becomes
 * the result (problem type, detail, subproblems, ready_at from Retry-After) and a status from
 * md_acme_problem_status(). On success *presp is the 2xx response; when the CA answered with an error,
 * *presp is that answer (NULL only when there was none). */
apr_status_t md_acme_post(md_http_response_t **presp, md_acme_t *acme, const char *url,
                          const md_json_t *payload, const md_acme_req_opts_t *opts,
                          struct md_result_t *result, apr_pool_t *p);
/* md_acme_post and parse the body as JSON (a non-JSON body is APR_EINVAL, detail names the URL). */
apr_status_t md_acme_post_json(md_json_t **pjson, md_http_response_t **presp, md_acme_t *acme,
                               const char *url, const md_json_t *payload,
                               const md_acme_req_opts_t *opts, struct md_result_t *result, apr_pool_t *p);
/* Unsigned GET of JSON (directory, renewalInfo). Errors as for md_acme_post. */
apr_status_t md_acme_get_json(md_json_t **pjson, md_http_response_t **presp, md_acme_t *acme,
                              const char *url, struct md_result_t *result, apr_pool_t *p);

/* The APR status for an ACME problem type (full URN or the short name after the prefix):
 * badNonce -> APR_EAGAIN, rateLimited -> APR_EAGAIN, unauthorized/userActionRequired -> APR_EACCES,
 * accountDoesNotExist -> APR_ENOENT, malformed/badCSR/badPublicKey/badSignatureAlgorithm/
 * rejectedIdentifier/unsupportedIdentifier/invalidProfile -> APR_EINVAL, others -> APR_EGENERAL. */
apr_status_t md_acme_problem_status(const char *type);
/* Turn an error response into the result: problem document when Content-Type is application/problem+json
 * (or the body looks like one), else "HTTP <status> from <url>" with the start of the body. Returns the
 * status it recorded. */
apr_status_t md_acme_response_error(const md_http_response_t *resp, struct md_result_t *result,
                                    apr_pool_t *p);

#endif
