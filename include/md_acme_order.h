/* ACME orders: new order (DNS/IP identifiers, wildcards, profile, ARI replaces), authorizations and
 * challenges, finalize, certificate chains with alternates, renewal information (RFC 9773), revocation. */
#ifndef MD_ACME_ORDER_H
#define MD_ACME_ORDER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_acme.h"
#include "md_cert.h"
#include "md_data.h"
#include "md_json.h"

struct md_result_t;

typedef struct md_acme_order_t {
    const char *url;
    const char *status;              /* pending, ready, processing, valid, invalid */
    apr_array_header_t *authz_urls;  /* const char* */
    const char *finalize;
    const char *certificate;         /* when valid */
    md_json_t *json;                 /* the order object as last seen */
} md_acme_order_t;

/* newOrder for names (DNS names, "*." wildcards, IPv4/IPv6 literals as type "ip"). profile: sent when
 * the CA offers it; when it is not offered: an error (APR_EINVAL, detail names the offered ones) if
 * profile_mandatory, else left out. replaces: the ARI id of the certificate this order renews, sent
 * only when the CA's directory has renewalInfo. */
apr_status_t md_acme_order_new(md_acme_order_t **porder, md_acme_t *acme, const apr_array_header_t *names,
                               const char *profile, int profile_mandatory, const char *replaces,
                               struct md_result_t *result, apr_pool_t *p);
/* POST-as-GET the order URL again. */
apr_status_t md_acme_order_refresh(md_acme_order_t *order, md_acme_t *acme, struct md_result_t *result,
                                   apr_pool_t *p);
apr_status_t md_acme_order_from_json(md_acme_order_t **porder, const char *url, const md_json_t *json,
                                     apr_pool_t *p);
/* Poll until the order's status is one of the '|'-separated states ("ready", "valid", "ready|valid"),
 * honouring Retry-After; "invalid" ends it with the order's error in the result; timeout: APR_TIMEUP. */
apr_status_t md_acme_order_await(md_acme_order_t *order, md_acme_t *acme, const char *states,
                                 apr_interval_time_t timeout, struct md_result_t *result, apr_pool_t *p);
/* After the order's challenges were answered: poll the order itself (no authorization polls) until it is
 * ready or valid, the first look after the time this client's CA took to validate lately. An invalid order
 * (or one still pending at the third look) has its authorizations looked at: a failed one is the result
 * (APR_EINVAL with its challenge's problem, as md_acme_authz_await). Timeout: APR_TIMEUP. */
apr_status_t md_acme_order_await_authorized(md_acme_order_t *order, md_acme_t *acme, apr_interval_time_t timeout,
                                            struct md_result_t *result, apr_pool_t *p);
/* After finalize: poll until the order is valid (at once done when it is already), the first look after the
 * time this client's CA took to issue lately. */
apr_status_t md_acme_order_await_issued(md_acme_order_t *order, md_acme_t *acme, apr_interval_time_t timeout,
                                        struct md_result_t *result, apr_pool_t *p);
/* Send the CSR (DER) to the finalize URL. */
apr_status_t md_acme_order_finalize(md_acme_order_t *order, md_acme_t *acme, const md_data_t *csr_der,
                                    struct md_result_t *result, apr_pool_t *p);

typedef struct md_acme_challenge_t {
    const char *type;     /* "http-01", "tls-alpn-01", "dns-01", ... */
    const char *url;
    const char *token;
    const char *status;
    md_json_t *error;     /* the CA's problem for an invalid challenge, or NULL */
} md_acme_challenge_t;

typedef struct md_acme_authz_t {
    const char *url;
    const char *status;   /* pending, valid, invalid, deactivated, expired, revoked */
    const char *id_type;  /* "dns" or "ip" */
    const char *domain;   /* the identifier value (without "*." for wildcards) */
    int wildcard;
    apr_array_header_t *challenges;   /* md_acme_challenge_t* */
    md_json_t *json;
} md_acme_authz_t;

apr_status_t md_acme_authz_get(md_acme_authz_t **pauthz, md_acme_t *acme, const char *url,
                               struct md_result_t *result, apr_pool_t *p);
/* The challenge to use: the first type in prefs (array of const char*, in order of preference) that the
 * authorization offers. None: APR_ENOTIMPL with a detail listing what the CA offers and what is configured. */
apr_status_t md_acme_authz_choose(md_acme_challenge_t **pchallenge, const md_acme_authz_t *authz,
                                  const apr_array_header_t *prefs, struct md_result_t *result,
                                  apr_pool_t *p);
/* Tell the CA the challenge is ready to be validated (POST {}). */
apr_status_t md_acme_challenge_respond(md_acme_t *acme, const md_acme_challenge_t *challenge,
                                       struct md_result_t *result, apr_pool_t *p);
/* Poll the authorization until valid (APR_SUCCESS) or invalid (APR_EINVAL with the failed challenge's
 * problem as the result: type, detail, and the identifier), honouring Retry-After; timeout: APR_TIMEUP. */
apr_status_t md_acme_authz_await(md_acme_authz_t **pauthz, md_acme_t *acme, const char *url,
                                 apr_interval_time_t timeout, struct md_result_t *result, apr_pool_t *p);
/* Deactivate an authorization (after a failed attempt, so the next one starts fresh). */
apr_status_t md_acme_authz_deactivate(md_acme_t *acme, const char *url, struct md_result_t *result,
                                      apr_pool_t *p);

/* Download the chain at url (application/pem-certificate-chain). *palternates (may be NULL) gets the
 * Link rel="alternate" URLs. */
apr_status_t md_acme_cert_fetch(apr_array_header_t **pchain, apr_array_header_t **palternates,
                                md_acme_t *acme, const char *url, struct md_result_t *result, apr_pool_t *p);
/* Download the chain and, when preferred_issuer is given and the default chain's topmost certificate's
 * issuer (or subject) does not contain it (case-insensitive, e.g. "ISRG Root X1"), the first alternate
 * whose top does. No match: the default chain. */
apr_status_t md_acme_cert_fetch_preferred(apr_array_header_t **pchain, md_acme_t *acme, const char *url,
                                          const char *preferred_issuer, struct md_result_t *result,
                                          apr_pool_t *p);

/* ACME Renewal Information (RFC 9773). */
typedef struct md_acme_ari_t {
    apr_time_t start, end;        /* the suggested window */
    const char *explanation_url;  /* or NULL */
    apr_time_t retry_after;       /* when to ask again (Retry-After), 0 when not given */
} md_acme_ari_t;

/* GET renewalInfo/<cert_id>. APR_ENOTIMPL when the CA has no renewalInfo. A window with end <= start is
 * APR_EINVAL. */
apr_status_t md_acme_ari_get(md_acme_ari_t **pari, md_acme_t *acme, const char *cert_id,
                             struct md_result_t *result, apr_pool_t *p);
/* A time in the window, uniformly at rand01 (0..1) of it; when the window is already past, now. */
apr_time_t md_acme_ari_pick(const md_acme_ari_t *ari, apr_time_t now, double rand01);

/* Revocation reasons (RFC 5280): "unspecified" 0, "keyCompromise" 1, "superseded" 4,
 * "affiliationChanged" 3, "cessationOfOperation" 5, or a number; -1 when unknown. */
int md_acme_revoke_reason_parse(const char *s);
/* revokeCert for cert with reason (< 0: none sent); signed by the account (cert_key NULL) or by the
 * certificate's own key with its JWK. */
apr_status_t md_acme_revoke(md_acme_t *acme, const md_cert_t *cert, int reason, md_pkey_t *cert_key,
                            struct md_result_t *result, apr_pool_t *p);

#endif
