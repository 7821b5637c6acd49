/* A stateful fake ACME CA (RFC 8555) for unit tests: an md_http_backend_t that issues real certificates on a clock. */
#ifndef MD_TEST_FAKE_CA_H
#define MD_TEST_FAKE_CA_H

/*
 * Usage
 *
 *   md_clock_sim_t *sim = md_clock_sim_make(start, p);
 *   fake_ca_t *ca = fake_ca_create("https://ca.test", md_clock_sim_clock(sim), p);
 *   fake_ca_set(ca, FAKE_CA_SET_LIFETIME, 6 * 86400);              // 6-day certificates
 *   fake_ca_set_validate(ca, my_validate, baton);                 // look at what the responder set up
 *   env.http_backend = fake_ca_backend(ca);                       // md->ca_urls: fake_ca_directory_url(ca)
 *   ... md_drive(...), any number of times, from any number of threads ...
 *   fake_ca_count(ca, FAKE_CA_NEW_ORDER);                         // requests seen, per kind
 *   apr_array_header_t *certs = fake_ca_issued(ca, "example.org,*.example.org", p);
 *
 * The CA behaves by itself, for any number of accounts and orders; nothing is scripted. It answers, below its
 * base URL: GET /dir (newNonce, newAccount, newOrder, revokeCert, keyChange, meta.termsOfService,
 * meta.caaIdentities [the base URL's host, "ca.test"], and renewalInfo when ARI is on), HEAD/GET /nonce, POST /new-acct, /new-order, /order/N, /authz/N, /chall/N/TYPE,
 * /finalize/N, /cert/N, /revoke-cert, and GET /ari/CERT-ID. Anything else is 404 malformed: keyChange is listed
 * but not implemented, nor are account URLs (/acct/N: refresh, contact update, deactivation) or EAB.
 *
 * Protocol rules it enforces, like a real CA:
 * - Every response carries a fresh Replay-Nonce, but those to GET /dir and GET /ari/... (as Boulder and pebble,
 *   so that clients need HEAD newNonce). A POST whose nonce was not handed out, or was used already,
 *   gets 400 badNonce (problem+json); FAKE_CA_SET_REJECT_NONCES also rejects every Nth good one, as pebble does.
 * - Every POST is a flattened JWS whose "url" is the request URL, verified with md_jws_verify: newAccount (and
 *   revokeCert by certificate key) with the "jwk" of the header, everything else with "kid" = an account URL
 *   and that account's key (unknown kid: 400 accountDoesNotExist). Objects of another account: 403.
 * - newAccount needs termsOfServiceAgreed; a known key gets its account back (200), onlyReturnExisting with an
 *   unknown key 400 accountDoesNotExist. Accounts are valid at once; Location /acct/N (its kid).
 * - newOrder ("dns" and "ip" identifiers): order "pending" with expires (now + 7 days), one authorization per
 *   identifier (reusing a still valid one of the same account when authz reuse is on, the default), finalize.
 *   An authorization offers http-01, dns-01 and tls-alpn-01 with one token; a wildcard ("*.x") only dns-01,
 *   with "wildcard": true and the base name "x" as identifier value.
 * - POST {} to a challenge validates it: the validate callback (none: valid) and fake_ca_fail_validation().
 *   The challenge (and then the authorization) becomes valid or invalid with the problem; with
 *   FAKE_CA_SET_AUTHZ_POLLS = K it stays "processing" (authorization "pending") for K more polls first (of the
 *   authorization, or of a pending order holding it: time passes for the CA either way).
 * - An order is "ready" when all its authorizations are valid, "invalid" when one is invalid or it expired.
 *   Finalize needs "ready" (else 403 orderNotReady) and a CSR whose SANs are exactly the identifiers (else
 *   400 badCSR). It issues a leaf signed by the CA's own P-256 key: the CSR's public key, SANs (and TLS
 *   feature), a unique serial, notBefore = now - 60s, notAfter = now + lifetime (default 90 days). The order
 *   becomes "valid" with "certificate" /cert/N (with FAKE_CA_SET_ORDER_POLLS = K: "processing" first for K
 *   polls). The download is "leaf PEM + CA PEM" as application/pem-certificate-chain.
 * - GET /ari/CERT-ID (ARI on): suggestedWindow [notBefore + 2/3 lifetime, notBefore + 5/6 lifetime] of that
 *   certificate moved by FAKE_CA_SET_ARI_SHIFT, or, when urgent (FAKE_CA_SET_ARI_URGENT, the certificate is revoked,
 *   or issued before FAKE_CA_SET_ARI_URGENT_BEFORE), [now - 2h, now - 1h]; Retry-After: 21600
 *   (FAKE_CA_SET_ARI_RETRY_AFTER). Unknown id or ARI off: 404. revokeCert: 200, the serial is remembered.
 *
 * Time: every time the CA uses (validity, expiry of orders and authorizations, ARI windows) comes from the
 * clock given at creation (md_clock_now; NULL is the real clock), never from apr_time_now(), so a test with a
 * simulated clock can run a simulated year.
 *
 * Failure injection: fake_ca_fail_next() answers the next N requests of a kind with an HTTP status and
 * problem (optionally with Retry-After); FAKE_CA_SET_DOWN makes every request a transport error
 * (APR_ECONNREFUSED) until switched back; fake_ca_fail_validation() fails challenges of one identifier.
 * The order of checks per request: counted, down, injected failure, nonce, signature, the resource.
 *
 * Thread-safe: one (nested) mutex around each request and each function below. The validate callback runs
 * with that mutex held: it may call fake_ca_* functions, and must not wait for other threads using the CA (a
 * lock it takes must never be held by code that calls into the CA).
 */

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_cert.h"
#include "md_clock.h"
#include "md_http.h"

typedef struct fake_ca_t fake_ca_t;

/* Kinds of requests, for counting and failure injection. */
typedef enum {
    FAKE_CA_ANY,           /* every request: fake_ca_count(ca, FAKE_CA_ANY) is the total */
    FAKE_CA_DIRECTORY,     /* GET /dir */
    FAKE_CA_NONCE,         /* HEAD/GET /nonce */
    FAKE_CA_NEW_ACCOUNT,   /* POST /new-acct */
    FAKE_CA_NEW_ORDER,     /* POST /new-order */
    FAKE_CA_AUTHZ,         /* POST(-as-GET) /authz/N */
    FAKE_CA_CHALLENGE,     /* POST /chall/N/TYPE */
    FAKE_CA_ORDER,         /* POST-as-GET /order/N (order polls) */
    FAKE_CA_FINALIZE,      /* POST /finalize/N */
    FAKE_CA_CERT,          /* POST-as-GET /cert/N */
    FAKE_CA_ARI,           /* GET /ari/CERT-ID */
    FAKE_CA_REVOKE,        /* POST /revoke-cert */
    FAKE_CA_OTHER,         /* anything else */
    FAKE_CA_KINDS
} fake_ca_kind_t;

/* A certificate the CA issued. */
typedef struct fake_ca_cert_t {
    const char *names;      /* its identifiers, lowercased, sorted, ","-joined: "*.example.org,example.org" */
    md_cert_t *leaf;
    const char *pem;        /* the leaf as PEM */
    const char *chain_pem;  /* leaf + CA certificate, as downloaded */
    const char *serial_hex; /* as md_cert_get_serial_hex */
    const char *ari_id;     /* its RFC 9773 certificate id */
    const char *replaces;   /* the ARI id the order said it replaces, or NULL */
    const char *account;    /* the URL (kid) of the account whose order it was */
    apr_time_t not_before, not_after;
    int revoked;
} fake_ca_cert_t;

/* Validation of one challenge: return 0 when the answer is right; else non-zero with *pproblem the short
 * problem type (NULL: "incorrectResponse") and *pdetail the reason. identifier is the authorization's value
 * (for a wildcard the base name), expected_key_authz is token "." account-key thumbprint (for dns-01 the TXT
 * record must be md_jws_dns01_txt(expected_key_authz)). p lives as long as the request. */
typedef int fake_ca_validate_cb(void *baton, const char *type, const char *identifier, const char *token,
                                const char *expected_key_authz, const char **pproblem, const char **pdetail,
                                apr_pool_t *p);

/* A CA at base_url (no trailing '/'), on clock (NULL: the real one), with a new P-256 key and self-signed
 * certificate (valid from now - 1 day for 20 years). Lives as long as p. */
fake_ca_t *fake_ca_create(const char *base_url, const md_clock_t *clock, apr_pool_t *p);
/* The backend to put into md_drive_env_t.http_backend (or md_http_create). */
const md_http_backend_t *fake_ca_backend(fake_ca_t *ca);
/* base_url "/dir": the MD's CA URL. */
const char *fake_ca_directory_url(fake_ca_t *ca);
/* The CA certificate (the root that issued chains verify against). */
md_cert_t *fake_ca_root(fake_ca_t *ca);

/* Settings, for fake_ca_set; all may change at any time. */
typedef enum {
    FAKE_CA_SET_LIFETIME,      /* of issued certificates, in seconds (default 90 days) */
    FAKE_CA_SET_ARI,           /* 1: offer and answer renewalInfo (default 0) */
    FAKE_CA_SET_ARI_URGENT,    /* 1: every ARI window lies in the past, "renew now" (default 0) */
    FAKE_CA_SET_AUTHZ_REUSE,   /* 1: newOrder reuses a still valid authorization of the account (default 1) */
    FAKE_CA_SET_AUTHZ_POLLS,   /* a challenge stays "processing" for this many polls of its authorization or of
                                * a pending order that holds it (default 0) */
    FAKE_CA_SET_ORDER_POLLS,   /* a finalized order stays "processing" for this many order polls (default 0) */
    FAKE_CA_SET_REJECT_NONCES, /* N > 0: reject every Nth good nonce with badNonce (default 0: none) */
    FAKE_CA_SET_DOWN,          /* 1: every request fails with APR_ECONNREFUSED, a detail saying so (default 0) */
    FAKE_CA_SET_ARI_SHIFT,     /* seconds added to every suggested window that is not urgent, may be negative: the
                                * CA moves its windows (default 0) */
    FAKE_CA_SET_ARI_URGENT_BEFORE, /* unix seconds: certificates issued before then get urgent windows, as after a
                                * mass revocation (default 0: none) */
    FAKE_CA_SET_ARI_RETRY_AFTER,   /* the Retry-After of ARI answers, in seconds (default 21600) */
    FAKE_CA_SETTINGS
} fake_ca_setting_t;

void fake_ca_set(fake_ca_t *ca, fake_ca_setting_t setting, long value);
/* Certificates with identifier (a name as ordered, "*.x" for a wildcard, any case) among theirs get this lifetime in
 * seconds instead of FAKE_CA_SET_LIFETIME; 0 removes it. The first identifier of an order that has one decides. */
void fake_ca_set_lifetime_for(fake_ca_t *ca, const char *identifier, long seconds);
/* The validation callback (NULL: every challenge is valid). */
void fake_ca_set_validate(fake_ca_t *ca, fake_ca_validate_cb *cb, void *baton);
/* Challenges for identifier (the authorization's value) fail with incorrectResponse and detail, before the
 * callback is asked. detail NULL: stop failing them. */
void fake_ca_fail_validation(fake_ca_t *ca, const char *identifier, const char *detail);

/* Failure injection: the next count requests of kind (FAKE_CA_ANY: of any kind) are answered with
 * http_status and the problem short_type ("serverInternal", "rateLimited", ...) with detail, and a
 * "Retry-After: retry_after" header when retry_after > 0 (seconds). Several injections queue up. */
void fake_ca_fail_next(fake_ca_t *ca, fake_ca_kind_t kind, int count, int http_status, const char *short_type,
                       const char *detail, int retry_after);

/* Observation. */
/* Requests of kind seen so far (FAKE_CA_ANY: all, including refused ones). */
int fake_ca_count(fake_ca_t *ca, fake_ca_kind_t kind);
/* Accounts registered. */
int fake_ca_accounts(fake_ca_t *ca);
/* badNonce answers given. */
int fake_ca_bad_nonces(fake_ca_t *ca);
/* Certificates issued. */
int fake_ca_issued_count(fake_ca_t *ca);
/* The certificates issued for the identifier set names ("a,b" in any order and case; NULL: all), in the
 * order of issuance, as const fake_ca_cert_t* (the structs stay the CA's; copy what outlives it). */
apr_array_header_t *fake_ca_issued(fake_ca_t *ca, const char *names, apr_pool_t *p);
/* The ARI window the CA would answer for cert now. */
void fake_ca_ari_window(fake_ca_t *ca, const fake_ca_cert_t *cert, apr_time_t *pstart, apr_time_t *pend);

#endif
