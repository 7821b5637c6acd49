/* Test fixtures for OCSP and CRLs made with OpenSSL at test time: an issuing CA, a leaf, a delegated responder, a
 * wrong key with the issuer's name, and OCSP responses and CRLs signed by any of them, at chosen times. */
#ifndef MD_TEST_OCSP_FIXTURE_H
#define MD_TEST_OCSP_FIXTURE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <openssl/ocsp.h>

#include "md_cert.h"
#include "md_data.h"
#include "md_ocsp.h"

typedef struct fx_pki_t {
    apr_pool_t *p;
    apr_time_t now;             /* certificates are valid from now - 1 day for 90 days */
    EVP_PKEY *ca_key;
    X509 *ca;                   /* the issuer (self-signed, keyCertSign + cRLSign) */
    EVP_PKEY *leaf_key;
    X509 *leaf;                 /* issued by ca, serial 0x1001 */
    EVP_PKEY *resp_key;
    X509 *resp;                 /* issued by ca for OCSP signing (id-kp-OCSPSigning) */
    X509 *resp_noeku;           /* issued by ca with resp_key, without the OCSP signing usage */
    EVP_PKEY *wrong_key;
    X509 *wrong;                /* self-signed with the ca's name */
    md_cert_t *mca, *mleaf;     /* the same as md_cert_t */
} fx_pki_t;

typedef enum { FX_SIGN_CA, FX_SIGN_DELEGATED, FX_SIGN_NO_EKU, FX_SIGN_WRONG } fx_signer_t;

fx_pki_t *fx_pki_make(apr_time_t now, apr_pool_t *p);
/* Another leaf issued by the CA with this serial (e.g. one the CRL lists). */
md_cert_t *fx_leaf(fx_pki_t *pki, long serial, apr_pool_t *p);

/* A leaf issued by the CA (serial) with an OCSP responder URL and a CRL distribution point (either may be NULL). */
md_cert_t *fx_leaf_with(fx_pki_t *pki, long serial, const char *ocsp_url, const char *crl_url, apr_pool_t *p);
/* leaf and the CA as a PEM chain. */
const char *fx_chain_pem(fx_pki_t *pki, const md_cert_t *leaf, apr_pool_t *p);

/* A successful OCSP response about cert (NULL: the leaf) with status (V_OCSP_CERTSTATUS_*), thisUpdate and nextUpdate
 * (0: none), signed as signer says (the signer's certificate included unless it is the CA), the request's nonce
 * copied when req is given, a foreign nonce when bad_nonce. */
md_data_t *fx_ocsp_response(fx_pki_t *pki, fx_signer_t signer, const md_cert_t *cert, int status,
                            apr_time_t this_update, apr_time_t next_update, const md_ocsp_req_t *req, int bad_nonce,
                            apr_pool_t *p);
/* An OCSP response whose responseStatus is not successful (e.g. OCSP_RESPONSE_STATUS_TRYLATER). */
md_data_t *fx_ocsp_error(int status, apr_pool_t *p);
/* A CRL of the CA listing the serials (long, keyCompromise), signed by the CA (or the wrong key), in DER or PEM. */
md_data_t *fx_crl(fx_pki_t *pki, const long *serials, int n, apr_time_t this_update, apr_time_t next_update,
                  int wrong_key, int pem, apr_pool_t *p);

#endif
