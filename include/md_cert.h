/* X.509 certificates: PEM chains, fields (subject, SANs, issuer, serial, validity, OCSP, CRL, SCTs, ARI id),
 * self-signed and tls-alpn-01 certificates, chain verification. */
#ifndef MD_CERT_H
#define MD_CERT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_file_info.h>
#include <openssl/x509.h>

#include "md_data.h"
#include "md_pkey.h"

struct md_result_t;

/* A certificate, owned by the pool it was made in (freed with it). */
typedef struct md_cert_t md_cert_t;

md_cert_t *md_cert_wrap(X509 *x509, apr_pool_t *p);    /* takes ownership of the reference */
X509 *md_cert_get_X509(const md_cert_t *cert);

/* PEM chains: an array of md_cert_t*, first the end-entity certificate, then its issuers.
 * Parsing fails with APR_EINVAL (reason in *perr) on bad data; no certificate at all is APR_ENOENT. */
apr_status_t md_cert_chain_from_pem(apr_array_header_t **pchain, const char *pem, apr_size_t len,
                                    const char **perr, apr_pool_t *p);
apr_status_t md_cert_chain_to_pem(const char **ppem, apr_size_t *plen, const apr_array_header_t *chain,
                                  apr_pool_t *p);
apr_status_t md_cert_chain_fload(apr_array_header_t **pchain, const char *fpath, const char **perr,
                                 apr_pool_t *p);
apr_status_t md_cert_chain_fsave(const apr_array_header_t *chain, const char *fpath,
                                 apr_fileperms_t perms, apr_pool_t *p);
apr_status_t md_cert_from_der(md_cert_t **pcert, const md_data_t *der, apr_pool_t *p);
apr_status_t md_cert_to_der(md_data_t **pder, const md_cert_t *cert, apr_pool_t *p);

/* Fields. Names are returned in RFC 2253 form ("CN=example.org,O=Org"). */
const char *md_cert_get_subject(const md_cert_t *cert, apr_pool_t *p);
const char *md_cert_get_issuer(const md_cert_t *cert, apr_pool_t *p);
const char *md_cert_get_common_name(const md_cert_t *cert, apr_pool_t *p);   /* CN or NULL */
const char *md_cert_get_serial_hex(const md_cert_t *cert, apr_pool_t *p);    /* uppercase hex */
apr_time_t md_cert_get_not_before(const md_cert_t *cert);
apr_time_t md_cert_get_not_after(const md_cert_t *cert);
/* An ASN.1 time (UTCTime, GeneralizedTime) as apr_time_t; 0 when it is missing or cannot be read. */
apr_time_t md_asn1_time_get(const ASN1_TIME *t);
/* SANs: DNS names and IP addresses (printed as "192.0.2.1" / "2001:db8::1"), as arrays of const char*. A DNS
 * name with a NUL byte in it is left out (and so covers nothing); so are such URLs below. */
apr_status_t md_cert_get_dns_names(apr_array_header_t **pnames, const md_cert_t *cert, apr_pool_t *p);
apr_status_t md_cert_get_ip_addresses(apr_array_header_t **paddrs, const md_cert_t *cert, apr_pool_t *p);
/* True when the cert's SANs cover name: exact, or one-label wildcard ("*.example.org" covers "a.example.org"). */
int md_cert_covers(const md_cert_t *cert, const char *name, apr_pool_t *p);
/* True when the cert covers every name of names (const char*), as md_cert_covers says; in time linear in the
 * number of names and SANs (an MD may have 100 000 names). *pmissing (may be NULL) gets the first name it does not
 * cover, NULL when it covers all. */
int md_cert_covers_all(const md_cert_t *cert, const apr_array_header_t *names, const char **pmissing, apr_pool_t *p);
/* OCSP responder URL from the AIA extension, or NULL. */
const char *md_cert_get_ocsp_url(const md_cert_t *cert, apr_pool_t *p);
/* The CA issuers URL from AIA (where to fetch the issuer), or NULL. */
const char *md_cert_get_ca_issuers_url(const md_cert_t *cert, apr_pool_t *p);
/* CRL distribution point URLs (array of const char*, maybe empty). */
apr_status_t md_cert_get_crl_urls(apr_array_header_t **purls, const md_cert_t *cert, apr_pool_t *p);
/* True when the TLS feature extension asks for status_request (must-staple). */
int md_cert_has_must_staple(const md_cert_t *cert);

/* A signed certificate timestamp embedded in the certificate. */
typedef struct md_sct_t {
    int version;               /* 0 for v1 */
    const char *log_id_hex;    /* the log's id, lowercase hex */
    apr_time_t timestamp;      /* 0 when the SCT's is beyond what an apr_time_t holds */
    const char *signature_alg; /* e.g. "ecdsa-with-SHA256" */
} md_sct_t;
/* The embedded SCTs (array of md_sct_t*, empty when there are none). */
apr_status_t md_cert_get_scts(apr_array_header_t **pscts, const md_cert_t *cert, apr_pool_t *p);

/* RFC 9773 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial DER content bytes).
 * APR_ENOENT when the certificate has no authority key identifier. */
apr_status_t md_cert_get_ari_cert_id(const char **pid, const md_cert_t *cert, apr_pool_t *p);
/* SHA-256 over the DER, lowercase hex without separators. */
const char *md_cert_get_sha256_fingerprint(const md_cert_t *cert, apr_pool_t *p);
/* True when the certificate's public key is the one of pkey. */
int md_cert_matches_key(const md_cert_t *cert, const md_pkey_t *pkey);
/* True when now lies within [not_before, not_after]. */
int md_cert_is_valid_at(const md_cert_t *cert, apr_time_t now);

/* A self-signed certificate for the fallback while a domain has none: CN = cn, SANs = names (DNS names or
 * IP addresses), valid from now - 1 day for valid_for. */
apr_status_t md_cert_self_sign(md_cert_t **pcert, const char *cn, const apr_array_header_t *names,
                               const md_pkey_t *pkey, apr_interval_time_t valid_for, apr_pool_t *p);
/* Many such certificates with one key (the fallbacks of 1000 MDs at httpd's start), made faster than one by one:
 * the key's public half is encoded once. Valid from the signer's making - 1 day for valid_for; not for use by
 * several threads at once. */
typedef struct md_cert_signer_t md_cert_signer_t;
apr_status_t md_cert_signer_make(md_cert_signer_t **psigner, const md_pkey_t *pkey, apr_interval_time_t valid_for,
                                 apr_pool_t *p);
/* A certificate as md_cert_self_sign makes it (a serial of its own), in PEM. */
apr_status_t md_cert_signer_pem(const char **ppem, apr_size_t *plen, md_cert_signer_t *signer, const char *cn,
                                const apr_array_header_t *names, apr_pool_t *p);
/* The tls-alpn-01 challenge certificate (RFC 8737): SAN = domain (DNS name or IP address), a critical
 * acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding the DER OCTET STRING of SHA-256(key_authz). */
apr_status_t md_cert_make_tls_alpn_01(md_cert_t **pcert, const char *domain, const char *key_authz,
                                      const md_pkey_t *pkey, apr_interval_time_t valid_for, apr_pool_t *p);

/* Verify chain (end-entity first, then intermediates) against the root certificates in roots (array of
 * md_cert_t*), at time 'at' (0 = now). On failure: APR_EINVAL and result's detail says why (OpenSSL's
 * verification error and the depth). */
apr_status_t md_cert_chain_verify(const apr_array_header_t *chain, const apr_array_header_t *roots,
                                  apr_time_t at, struct md_result_t *result, apr_pool_t *p);

#endif
