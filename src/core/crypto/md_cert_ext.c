/* X.509 certificate extensions: AIA (OCSP, CA issuers), CRL distribution points, must-staple, SCTs, ARI id. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/asn1.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "md_cert.h"
#include "md_encode.h"

#define MD_TLS_FEATURE_STATUS_REQUEST 5   /* RFC 7633: TLS extension status_request */

/* A URI without a NUL in it: one with would be used as its start. */
static int uri_usable(const ASN1_IA5STRING *uri)
{
    return !memchr(ASN1_STRING_get0_data(uri), 0, (size_t)ASN1_STRING_length(uri));
}

/* The first URI of the AIA access method (NID_ad_OCSP, NID_ad_ca_issuers), or NULL. */
static const char *aia_uri(const md_cert_t *cert, int method, apr_pool_t *p)
{
    AUTHORITY_INFO_ACCESS *aia;
    const char *url = NULL;
    int i;

    aia = X509_get_ext_d2i(md_cert_get_X509(cert), NID_info_access, NULL, NULL);
    for (i = 0; aia && !url && i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
        const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        const ASN1_IA5STRING *uri;

        if (OBJ_obj2nid(ad->method) != method || ad->location->type != GEN_URI) continue;
        uri = ad->location->d.uniformResourceIdentifier;
        if (!uri_usable(uri)) continue;
        url = apr_pstrmemdup(p, (const char *)ASN1_STRING_get0_data(uri), (apr_size_t)ASN1_STRING_length(uri));
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    ERR_clear_error();
    return url;
}

const char *md_cert_get_ocsp_url(const md_cert_t *cert, apr_pool_t *p)
{
    return aia_uri(cert, NID_ad_OCSP, p);
}

const char *md_cert_get_ca_issuers_url(const md_cert_t *cert, apr_pool_t *p)
{
    return aia_uri(cert, NID_ad_ca_issuers, p);
}

static void push_uris(apr_array_header_t *urls, const GENERAL_NAMES *names, apr_pool_t *p)
{
    int i;

    for (i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(names, i);
        const ASN1_IA5STRING *uri;

        if (gen->type != GEN_URI) continue;
        uri = gen->d.uniformResourceIdentifier;
        if (!uri_usable(uri)) continue;
        APR_ARRAY_PUSH(urls, const char *) =
            apr_pstrmemdup(p, (const char *)ASN1_STRING_get0_data(uri), (apr_size_t)ASN1_STRING_length(uri));
    }
}

apr_status_t md_cert_get_crl_urls(apr_array_header_t **purls, const md_cert_t *cert, apr_pool_t *p)
{
    apr_array_header_t *urls = apr_array_make(p, 2, sizeof(const char *));
    CRL_DIST_POINTS *dps;
    int i;

    dps = X509_get_ext_d2i(md_cert_get_X509(cert), NID_crl_distribution_points, NULL, NULL);
    for (i = 0; dps && i < sk_DIST_POINT_num(dps); ++i) {
        const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

        if (dp->distpoint && dp->distpoint->type == 0) push_uris(urls, dp->distpoint->name.fullname, p);
    }
    CRL_DIST_POINTS_free(dps);
    ERR_clear_error();
    *purls = urls;
    return APR_SUCCESS;
}

int md_cert_has_must_staple(const md_cert_t *cert)
{
    TLS_FEATURE *features;
    int64_t v;
    int i, found = 0;

    features = X509_get_ext_d2i(md_cert_get_X509(cert), NID_tlsfeature, NULL, NULL);
    for (i = 0; features && !found && i < sk_ASN1_INTEGER_num(features); ++i) {
        if (ASN1_INTEGER_get_int64(&v, sk_ASN1_INTEGER_value(features, i))
            && v == MD_TLS_FEATURE_STATUS_REQUEST) {
            found = 1;
        }
    }
    TLS_FEATURE_free(features);
    ERR_clear_error();
    return found;
}

static md_sct_t *sct_make(const SCT *sct, apr_pool_t *p)
{
    md_sct_t *out = apr_pcalloc(p, sizeof(*out));
    unsigned char *log_id = NULL;
    uint64_t ms;
    size_t len;
    int nid;

    out->version = (int)SCT_get_version(sct);
    len = SCT_get0_log_id(sct, &log_id);
    out->log_id_hex = md_hex_encode(log_id, len, 0, p);
    /* the SCT's timestamp is in milliseconds since the epoch; 0 when it is beyond what a time can hold (it was
     * multiplied into a negative time) */
    ms = SCT_get_timestamp(sct);
    out->timestamp = (ms <= (uint64_t)(APR_INT64_MAX / 1000)) ? (apr_time_t)ms * 1000 : 0;
    nid = SCT_get_signature_nid(sct);
    out->signature_alg = (nid != NID_undef) ? OBJ_nid2ln(nid) : "unknown";
    return out;
}

apr_status_t md_cert_get_scts(apr_array_header_t **pscts, const md_cert_t *cert, apr_pool_t *p)
{
    apr_array_header_t *scts = apr_array_make(p, 3, sizeof(md_sct_t *));
    STACK_OF(SCT) *list;
    int i;

    list = X509_get_ext_d2i(md_cert_get_X509(cert), NID_ct_precert_scts, NULL, NULL);
    for (i = 0; list && i < sk_SCT_num(list); ++i) {
        APR_ARRAY_PUSH(scts, md_sct_t *) = sct_make(sk_SCT_value(list, i), p);
    }
    SCT_LIST_free(list);
    ERR_clear_error();
    *pscts = scts;
    return APR_SUCCESS;
}

/* The content octets of the serial number's DER INTEGER (with its leading 0x00 when the high bit is set). */
static apr_status_t serial_content(const char **pb64, const X509 *x, apr_pool_t *p)
{
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    unsigned char *der = NULL;
    const unsigned char *q;
    long clen;
    int len, tag, xclass, ret;
    apr_status_t rv = APR_EINVAL;

    len = i2d_ASN1_INTEGER(serial, &der);
    if (len <= 0) goto leave;
    q = der;
    ret = ASN1_get_object(&q, &clen, &tag, &xclass, len);
    if ((ret & 0x80) || tag != V_ASN1_INTEGER || clen <= 0 || q + clen != der + len) goto leave;
    *pb64 = md_b64url_encode(q, (apr_size_t)clen, p);
    rv = APR_SUCCESS;
leave:
    OPENSSL_free(der);
    ERR_clear_error();
    return rv;
}

apr_status_t md_cert_get_ari_cert_id(const char **pid, const md_cert_t *cert, apr_pool_t *p)
{
    X509 *x = md_cert_get_X509(cert);
    AUTHORITY_KEYID *akid;
    const char *aki = NULL, *serial;
    apr_status_t rv;

    *pid = NULL;
    /* decoded here rather than from OpenSSL's extension cache, which refuses certificates it finds odd */
    akid = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
    if (akid && akid->keyid && ASN1_STRING_length(akid->keyid) > 0) {
        aki = md_b64url_encode(ASN1_STRING_get0_data(akid->keyid), (apr_size_t)ASN1_STRING_length(akid->keyid), p);
    }
    AUTHORITY_KEYID_free(akid);
    ERR_clear_error();
    if (!aki) {
        rv = APR_ENOENT;
        goto leave;
    }
    rv = serial_content(&serial, x, p);
    if (rv != APR_SUCCESS) goto leave;
    *pid = apr_pstrcat(p, aki, ".", serial, NULL);
leave:
    return rv;
}
