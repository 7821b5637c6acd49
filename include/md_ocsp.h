/* OCSP (RFC 6960) and CRLs (RFC 5280) for stapling and revocation checks: a certificate's id, requests, responses
 * and CRLs verified against the issuer, fetching over HTTP, the records under the store's ocsp/ (mod_md's layout),
 * and the pure decisions: when a response is renewed, when it is dropped. */
#ifndef MD_OCSP_H
#define MD_OCSP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_cert.h"
#include "md_data.h"
#include "md_http.h"
#include "md_json.h"
#include "md_store.h"
#include "md_time.h"

struct md_result_t;

/* The status of a certificate, as a responder or a CRL says it (mod_md's words: "good", "revoked", "unknown"). */
typedef enum {
    MD_OCSP_UNKNOWN = 0,
    MD_OCSP_GOOD = 1,
    MD_OCSP_REVOKED = 2,
} md_ocsp_status_t;

const char *md_ocsp_status_str(md_ocsp_status_t status);
/* The status for its word; MD_OCSP_UNKNOWN for anything else. */
md_ocsp_status_t md_ocsp_status_parse(const char *word);

/* mod_md's (and mod_ssl's) id of a certificate: SHA-1 over its DER. *pid the 20 bytes (may be NULL), *phex them in
 * lowercase hex (the store's file names; may be NULL). */
apr_status_t md_ocsp_cert_id(md_data_t **pid, const char **phex, const md_cert_t *cert, apr_pool_t *p);

/* An OCSP request for cert, issued by issuer: one SHA-1 CertID, and a random nonce when with_nonce. */
typedef struct md_ocsp_req_t md_ocsp_req_t;
apr_status_t md_ocsp_req_make(md_ocsp_req_t **preq, const md_cert_t *cert, const md_cert_t *issuer, int with_nonce,
                              apr_pool_t *p);
/* The request's DER (the body of a POST, application/ocsp-request). */
const md_data_t *md_ocsp_req_der(const md_ocsp_req_t *req);

/* A response, verified for one certificate. */
typedef struct md_ocsp_resp_t {
    md_data_t der;                 /* the whole OCSPResponse, as stapled and stored */
    md_ocsp_status_t status;
    int reason;                    /* the revocation reason (CRLReason), -1 when none is given */
    apr_time_t revoked_at;         /* when revoked, 0 otherwise */
    apr_time_t this_update;
    apr_time_t next_update;        /* 0: the responder gave none */
    apr_time_t valid_until;        /* next_update, or without one this_update + MD_OCSP_NO_NEXT_UPDATE */
} md_ocsp_resp_t;

/* How long a response without nextUpdate counts as valid after its thisUpdate (mod_md: a day). */
#define MD_OCSP_NO_NEXT_UPDATE apr_time_from_sec(24 * 3600)
/* The clock skew allowed for a thisUpdate in the future. */
#define MD_OCSP_LEEWAY apr_time_from_sec(300)

/* Verify der as the response for cert (issued by issuer) at now: an OCSPResponse whose status is successful, a basic
 * response signed by the issuer itself or by a responder whose certificate the issuer signed for OCSP signing
 * (id-kp-OCSPSigning, valid at now), a nonce equal to the request's when req is given and the response has one, a
 * SingleResponse for cert's CertID, thisUpdate not after now + MD_OCSP_LEEWAY and before nextUpdate, nextUpdate
 * after now. Anything else: APR_EINVAL (for an unsuccessful responseStatus APR_EAGAIN) and result says why. */
apr_status_t md_ocsp_resp_verify(md_ocsp_resp_t **presp, const md_data_t *der, const md_cert_t *cert,
                                 const md_cert_t *issuer, const md_ocsp_req_t *req, apr_time_t now,
                                 struct md_result_t *result, apr_pool_t *p);

/* When a response valid from..until is renewed: until - the window's length (an absolute duration, or its percent
 * of until - from), and never before from. MDStaplingRenewWindow's decision. */
apr_time_t md_ocsp_renew_at(const md_timeslice_t *window, apr_time_t from, apr_time_t until);
/* Whether a response valid until 'until' is kept at now: until + keep (MDStaplingKeepResponse) not yet passed. */
int md_ocsp_keep(apr_time_t until, apr_interval_time_t keep, apr_time_t now);

/* Ask the responder at url for cert's status (POST application/ocsp-request) and verify the answer (as
 * md_ocsp_resp_verify, with the request's nonce). HTTP statuses other than 200 and bodies of another type are
 * errors naming the responder. */
apr_status_t md_ocsp_fetch(md_ocsp_resp_t **presp, md_http_t *http, const char *url, const md_cert_t *cert,
                           const md_cert_t *issuer, apr_time_t now, struct md_result_t *result, apr_pool_t *p);

/* CRLs. */
typedef struct md_crl_t md_crl_t;

/* A CRL from DER or PEM; APR_EINVAL (result says why) when it is neither. */
apr_status_t md_crl_parse(md_crl_t **pcrl, const md_data_t *data, struct md_result_t *result, apr_pool_t *p);
apr_time_t md_crl_this_update(const md_crl_t *crl);
apr_time_t md_crl_next_update(const md_crl_t *crl);         /* 0 when it has none */
int md_crl_count(const md_crl_t *crl);                      /* revoked entries */
/* The CRL in PEM (how the store caches it). */
apr_status_t md_crl_to_pem(const char **ppem, const md_crl_t *crl, apr_pool_t *p);

/* What a CRL says about one certificate. */
typedef struct md_crl_check_t {
    md_ocsp_status_t status;       /* REVOKED when listed, GOOD when not and the CRL is current */
    int reason;                    /* the entry's reason, -1 none */
    apr_time_t revoked_at;
    apr_time_t this_update, next_update;
} md_crl_check_t;

/* Check cert against crl at now: the CRL's issuer name must be issuer's subject, its signature by issuer's key
 * (which, when it has a key usage, allows cRLSign), its thisUpdate not after now + MD_OCSP_LEEWAY. Listed: REVOKED
 * (also when the CRL is out of date: a revocation is final). Not listed and nextUpdate passed: APR_EINVAL, the
 * CRL is out of date. Failures: APR_EINVAL, result says why. */
apr_status_t md_crl_check(md_crl_check_t *pcheck, const md_crl_t *crl, const md_cert_t *cert,
                          const md_cert_t *issuer, apr_time_t now, struct md_result_t *result, apr_pool_t *p);

/* GET a CRL from url with If-Modified-Since when if_modified_since is given: *pdata the body and *plast_modified its
 * Last-Modified (NULL when none), or *pnot_modified set on a 304. Its size is bounded by the client's max_body (give
 * the client MD_CRL_MAX_SIZE). */
apr_status_t md_crl_fetch(md_data_t **pdata, const char **plast_modified, int *pnot_modified, md_http_t *http,
                          const char *url, const char *if_modified_since, struct md_result_t *result,
                          apr_pool_t *p);
#define MD_CRL_MAX_SIZE (16 * 1024 * 1024)

/* The records in the store's ocsp/ group, as mod_md keeps them: ocsp/NAME/ocsp-ID.json for the certificates of the
 * MD NAME (MD_OCSP_OTHER for certificates of no MD), ID the certificate's hex id:
 *   {"response": base64url(DER), "status": "good", "valid": {"from": HTTP date, "until": HTTP date}}
 * and mdomain's CRL checks beside them: ocsp/NAME/crl-ID.json (the outcome, see md_ocsp_crl_record_t) with the
 * cached CRL in ocsp/NAME/crl-ID.pem. */
#define MD_OCSP_OTHER "other"
#define MD_OCSP_GROUP MD_SG_OCSP

const char *md_ocsp_record_aspect(const char *hexid, apr_pool_t *p);     /* "ocsp-ID.json" */

/* A stored response: its DER and what the record says (not verified: md_ocsp_resp_verify does that). */
typedef struct md_ocsp_record_t {
    md_data_t der;
    md_ocsp_status_t status;
    apr_time_t valid_from, valid_until;
} md_ocsp_record_t;

/* APR_ENOENT when there is none, APR_EINVAL when it cannot be read. */
apr_status_t md_ocsp_record_load(md_ocsp_record_t **prec, md_store_t *store, const char *md_name, const char *hexid,
                                 apr_pool_t *p);
/* The same from the record's JSON (APR_EINVAL when it holds no response). */
apr_status_t md_ocsp_record_from_json(md_ocsp_record_t **prec, const md_json_t *json, apr_pool_t *p);
apr_status_t md_ocsp_record_save(md_store_t *store, const char *md_name, const char *hexid,
                                 const md_ocsp_resp_t *resp, struct md_result_t *result, apr_pool_t *p);

/* A CRL check's outcome (ocsp/NAME/crl-ID.json). */
typedef struct md_ocsp_crl_record_t {
    const char *url;               /* the CRL checked */
    md_ocsp_status_t status;       /* UNKNOWN while it could not be checked */
    apr_time_t checked;            /* the last check (successful or not) */
    apr_time_t revoked_at;         /* when listed */
    int reason;
    apr_time_t crl_next_update;    /* of the CRL used */
    const char *last_modified;     /* the CRL's Last-Modified, for If-Modified-Since */
    const char *error;             /* why the last check failed, NULL when it did not */
    const char *ari_window;        /* the MD's ARI window at the last check ("START/END"), NULL when none */
    apr_time_t cert_until;         /* the certificate's notAfter: the record is dropped after it (and keep) */
} md_ocsp_crl_record_t;

const char *md_ocsp_crl_aspect(const char *hexid, const char *ext, apr_pool_t *p);   /* "crl-ID.json", ".pem" */
apr_status_t md_ocsp_crl_record_load(md_ocsp_crl_record_t **prec, md_store_t *store, const char *md_name,
                                     const char *hexid, apr_pool_t *p);
apr_status_t md_ocsp_crl_record_from_json(md_ocsp_crl_record_t **prec, const md_json_t *json, apr_pool_t *p);
apr_status_t md_ocsp_crl_record_save(md_store_t *store, const char *md_name, const char *hexid,
                                     const md_ocsp_crl_record_t *rec, apr_pool_t *p);

/* Whether the store records cert (of the MD md_name) as revoked: by its stored OCSP response or its CRL check.
 * *pvia (may be NULL): "ocsp" or "crl". */
int md_ocsp_is_revoked(const char **pvia, md_store_t *store, const char *md_name, const md_cert_t *cert,
                       apr_pool_t *p);

/* Remove ocsp/NAME/ocsp-*.json whose response ended more than keep before now, and crl-ID.* whose certificate
 * did; returns how many records went. */
int md_ocsp_store_cleanup(md_store_t *store, apr_interval_time_t keep, apr_time_t now, apr_pool_t *p);

#endif
