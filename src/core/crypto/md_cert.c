/* X.509 certificates: ownership, PEM chains, DER, names, serial, validity, SANs, fingerprint, key match. */
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "md.h"
#include "md_cert.h"
#include "md_encode.h"
#include "md_crypt_int.h"
#include "md_file.h"

struct md_cert_t {
    apr_pool_t *p;
    X509 *x509;
};

static apr_status_t cert_cleanup(void *data)
{
    md_cert_t *cert = data;

    if (cert->x509) {
        X509_free(cert->x509);
        cert->x509 = NULL;
    }
    return APR_SUCCESS;
}

md_cert_t *md_cert_wrap(X509 *x509, apr_pool_t *p)
{
    md_cert_t *cert = apr_pcalloc(p, sizeof(*cert));

    cert->p = p;
    cert->x509 = x509;
    apr_pool_cleanup_register(p, cert, cert_cleanup, apr_pool_cleanup_null);
    return cert;
}

X509 *md_cert_get_X509(const md_cert_t *cert)
{
    return cert->x509;
}

/* The text of the oldest error on OpenSSL's queue (or fallback), and the queue cleared. */
static const char *ssl_error_text(const char *fallback, apr_pool_t *p)
{
    unsigned long e = ERR_peek_error();
    const char *s = fallback;
    char buf[256];

    if (e) {
        ERR_error_string_n(e, buf, sizeof(buf));
        s = apr_pstrdup(p, buf);
    }
    ERR_clear_error();
    return s;
}

static int is_pem_end(void)
{
    unsigned long e = ERR_peek_last_error();

    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

apr_status_t md_cert_chain_from_pem(apr_array_header_t **pchain, const char *pem, apr_size_t len,
                                    const char **perr, apr_pool_t *p)
{
    apr_array_header_t *chain = apr_array_make(p, 4, sizeof(md_cert_t *));
    apr_status_t rv = APR_SUCCESS;
    BIO *bio = NULL;
    char *tail = NULL;
    long tail_len = 0;
    X509 *x;

    *pchain = NULL;
    if (perr) *perr = NULL;
    ERR_clear_error();
    if (!pem || !len) {
        rv = APR_ENOENT;
        if (perr) *perr = "no certificate in PEM data";
        goto leave;
    }
    if (len > INT_MAX || !(bio = BIO_new_mem_buf(pem, (int)len))) {
        rv = APR_EINVAL;
        if (perr) *perr = ssl_error_text("PEM data too large", p);
        goto leave;
    }
    if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(x, p);
        tail_len = BIO_get_mem_data(bio, &tail);
        if (tail_len < 0 || !tail) tail_len = 0;
        if (md_crypt__tail_take(chain, tail, (size_t)tail_len, p)) goto done;
    }
    while (chain->nelts > 0 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(x, p);
    }
    if (!is_pem_end()) {
        rv = APR_EINVAL;
        if (perr) *perr = apr_psprintf(p, "certificate %d in PEM: %s", chain->nelts + 1,
                                       ssl_error_text("unreadable", p));
        goto leave;
    }
    ERR_clear_error();
    if (chain->nelts == 0) {
        rv = APR_ENOENT;
        if (perr) *perr = "no certificate in PEM data";
        goto leave;
    }
    if (chain->nelts > 1) md_crypt__tail_keep(tail, (size_t)tail_len, chain, 1);
done:
    *pchain = chain;
leave:
    BIO_free(bio);
    return rv;
}

apr_status_t md_cert_chain_to_pem(const char **ppem, apr_size_t *plen, const apr_array_header_t *chain,
                                  apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    int i;

    *ppem = NULL;
    *plen = 0;
    if (!bio) return APR_ENOMEM;
    for (i = 0; i < chain->nelts; ++i) {
        const md_cert_t *cert = APR_ARRAY_IDX(chain, i, const md_cert_t *);
        if (!PEM_write_bio_X509(bio, cert->x509)) {
            ERR_clear_error();
            rv = APR_EGENERAL;
            goto leave;
        }
    }
    n = BIO_get_mem_data(bio, &data);
    *ppem = apr_pstrmemdup(p, data, (apr_size_t)n);
    *plen = (apr_size_t)n;
leave:
    BIO_free(bio);
    return rv;
}

apr_status_t md_cert_chain_fload(apr_array_header_t **pchain, const char *fpath, const char **perr,
                                 apr_pool_t *p)
{
    apr_status_t rv;
    char *data;
    apr_size_t len;

    *pchain = NULL;
    if (perr) *perr = NULL;
    rv = md_file_read(&data, &len, fpath, p);
    if (rv != APR_SUCCESS) {
        if (perr) *perr = apr_psprintf(p, "reading %s: %pm", fpath, &rv);
        goto leave;
    }
    rv = md_cert_chain_from_pem(pchain, data, len, perr, p);
    if (rv != APR_SUCCESS && perr) *perr = apr_psprintf(p, "%s: %s", fpath, *perr);
leave:
    return rv;
}

apr_status_t md_cert_chain_fsave(const apr_array_header_t *chain, const char *fpath,
                                 apr_fileperms_t perms, apr_pool_t *p)
{
    apr_status_t rv;
    const char *pem;
    apr_size_t len;

    rv = md_cert_chain_to_pem(&pem, &len, chain, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = md_file_write_atomic(fpath, pem, len, perms, p);
leave:
    return rv;
}

apr_status_t md_cert_from_der(md_cert_t **pcert, const md_data_t *der, apr_pool_t *p)
{
    const unsigned char *d = (const unsigned char *)der->data;
    X509 *x;

    *pcert = NULL;
    if (der->len > LONG_MAX) return APR_EINVAL;
    x = d2i_X509(NULL, &d, (long)der->len);
    if (!x || d != (const unsigned char *)der->data + der->len) {
        X509_free(x);
        ERR_clear_error();
        return APR_EINVAL;
    }
    *pcert = md_cert_wrap(x, p);
    return APR_SUCCESS;
}

apr_status_t md_cert_to_der(md_data_t **pder, const md_cert_t *cert, apr_pool_t *p)
{
    unsigned char *buf, *q;
    int len;

    *pder = NULL;
    len = i2d_X509(cert->x509, NULL);
    if (len <= 0) {
        ERR_clear_error();
        return APR_EINVAL;
    }
    buf = q = apr_palloc(p, (apr_size_t)len);
    i2d_X509(cert->x509, &q);
    *pder = apr_pcalloc(p, sizeof(**pder));
    (*pder)->data = (const char *)buf;
    (*pder)->len = (apr_size_t)len;
    return APR_SUCCESS;
}

static const char *name_rfc2253(const X509_NAME *name, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const char *s = NULL;
    char *data;
    long n;

    if (!bio) return NULL;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_get_mem_data(bio, &data);
        s = apr_pstrmemdup(p, data, (apr_size_t)n);
    }
    BIO_free(bio);
    return s;
}

const char *md_cert_get_subject(const md_cert_t *cert, apr_pool_t *p)
{
    return name_rfc2253(X509_get_subject_name(cert->x509), p);
}

const char *md_cert_get_issuer(const md_cert_t *cert, apr_pool_t *p)
{
    return name_rfc2253(X509_get_issuer_name(cert->x509), p);
}

const char *md_cert_get_common_name(const md_cert_t *cert, apr_pool_t *p)
{
    const X509_NAME *name = X509_get_subject_name(cert->x509);
    const X509_NAME_ENTRY *entry;
    unsigned char *utf8 = NULL;
    const char *cn = NULL;
    int i, len;

    i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0) return NULL;
    entry = X509_NAME_get_entry(name, i);
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (len >= 0) cn = apr_pstrmemdup(p, (const char *)utf8, (apr_size_t)len);
    OPENSSL_free(utf8);
    ERR_clear_error();
    return cn;
}

const char *md_cert_get_serial_hex(const md_cert_t *cert, apr_pool_t *p)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert->x509), NULL);
    const char *s = NULL;
    char *hex;

    if (bn && (hex = BN_bn2hex(bn)) != NULL) {
        s = apr_pstrdup(p, hex);
        OPENSSL_free(hex);
    }
    BN_free(bn);
    ERR_clear_error();
    return s;
}

apr_time_t md_asn1_time_get(const ASN1_TIME *t)
{
    struct tm tm;
    apr_time_exp_t exp;
    apr_time_t result = 0;

    if (!t || !ASN1_TIME_to_tm(t, &tm)) {
        ERR_clear_error();
        return 0;
    }
    memset(&exp, 0, sizeof(exp));
    exp.tm_sec = tm.tm_sec;
    exp.tm_min = tm.tm_min;
    exp.tm_hour = tm.tm_hour;
    exp.tm_mday = tm.tm_mday;
    exp.tm_mon = tm.tm_mon;
    exp.tm_year = tm.tm_year;
    if (apr_time_exp_gmt_get(&result, &exp) != APR_SUCCESS) return 0;
    return result;
}

apr_time_t md_cert_get_not_before(const md_cert_t *cert)
{
    return md_asn1_time_get(X509_get0_notBefore(cert->x509));
}

apr_time_t md_cert_get_not_after(const md_cert_t *cert)
{
    return md_asn1_time_get(X509_get0_notAfter(cert->x509));
}

int md_cert_is_valid_at(const md_cert_t *cert, apr_time_t now)
{
    return md_cert_get_not_before(cert) <= now && now <= md_cert_get_not_after(cert);
}

/* Collect SANs of one type (GEN_DNS or GEN_IPADD) as strings. */
static apr_status_t get_sans(apr_array_header_t **pout, const md_cert_t *cert, int type, apr_pool_t *p)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert->x509, NID_subject_alt_name, NULL, NULL);
    apr_array_header_t *out = apr_array_make(p, 5, sizeof(const char *));
    char buf[INET6_ADDRSTRLEN];
    int i;

    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s;
        int af;

        if (gen->type != type) continue;
        if (type == GEN_DNS) {
            s = gen->d.dNSName;
            /* a name with a NUL in it would read as its start: "a.example\0.evil.example" is not a.example */
            if (memchr(ASN1_STRING_get0_data(s), 0, (size_t)ASN1_STRING_length(s))) continue;
            APR_ARRAY_PUSH(out, const char *) =
                apr_pstrmemdup(p, (const char *)ASN1_STRING_get0_data(s), (apr_size_t)ASN1_STRING_length(s));
            continue;
        }
        s = gen->d.iPAddress;
        af = ASN1_STRING_length(s) == 4 ? AF_INET : ASN1_STRING_length(s) == 16 ? AF_INET6 : 0;
        if (af && inet_ntop(af, ASN1_STRING_get0_data(s), buf, sizeof(buf))) {
            APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, buf);
        }
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
    *pout = out;
    return APR_SUCCESS;
}

apr_status_t md_cert_get_dns_names(apr_array_header_t **pnames, const md_cert_t *cert, apr_pool_t *p)
{
    return get_sans(pnames, cert, GEN_DNS, p);
}

apr_status_t md_cert_get_ip_addresses(apr_array_header_t **paddrs, const md_cert_t *cert, apr_pool_t *p)
{
    return get_sans(paddrs, cert, GEN_IPADD, p);
}

/* Bring an IP literal into the form get_sans prints (IPv6 compressed), or NULL when it is none. */
static const char *ip_canonical(const char *name, apr_pool_t *p)
{
    unsigned char addr[16];
    char buf[INET6_ADDRSTRLEN];

    if (inet_pton(AF_INET, name, addr) == 1 && inet_ntop(AF_INET, addr, buf, sizeof(buf))) {
        return apr_pstrdup(p, buf);
    }
    if (inet_pton(AF_INET6, name, addr) == 1 && inet_ntop(AF_INET6, addr, buf, sizeof(buf))) {
        return apr_pstrdup(p, buf);
    }
    return NULL;
}

int md_cert_covers(const md_cert_t *cert, const char *name, apr_pool_t *p)
{
    apr_array_header_t *sans;
    const char *ip = ip_canonical(name, p);
    int i;

    if (ip) {
        get_sans(&sans, cert, GEN_IPADD, p);
        for (i = 0; i < sans->nelts; ++i) {
            if (!strcmp(APR_ARRAY_IDX(sans, i, const char *), ip)) return 1;
        }
        return 0;
    }
    get_sans(&sans, cert, GEN_DNS, p);
    for (i = 0; i < sans->nelts; ++i) {
        if (md_dns_matches(APR_ARRAY_IDX(sans, i, const char *), name)) return 1;
    }
    return 0;
}

/* A lowercase copy. */
static const char *lower(const char *s, apr_pool_t *p)
{
    char *c = apr_pstrdup(p, s), *t;

    for (t = c; *t; ++t) {
        if (*t >= 'A' && *t <= 'Z') *t = (char)(*t - 'A' + 'a');
    }
    return c;
}

int md_cert_covers_all(const md_cert_t *cert, const apr_array_header_t *names, const char **pmissing, apr_pool_t *p)
{
    apr_array_header_t *dns, *ips;
    apr_hash_t *set = apr_hash_make(p);
    const char *name, *key, *dot;
    int i;

    if (pmissing) *pmissing = NULL;
    get_sans(&dns, cert, GEN_DNS, p);
    get_sans(&ips, cert, GEN_IPADD, p);
    for (i = 0; i < dns->nelts; ++i) {
        key = lower(APR_ARRAY_IDX(dns, i, const char *), p);
        apr_hash_set(set, key, APR_HASH_KEY_STRING, key);
    }
    for (i = 0; i < ips->nelts; ++i) {
        key = apr_pstrcat(p, "ip:", APR_ARRAY_IDX(ips, i, const char *), NULL);
        apr_hash_set(set, key, APR_HASH_KEY_STRING, key);
    }
    for (i = 0; names && i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        if (!name) continue;
        if ((key = ip_canonical(name, p)) != NULL) {
            if (apr_hash_get(set, apr_pstrcat(p, "ip:", key, NULL), APR_HASH_KEY_STRING)) continue;
        }
        else {
            key = lower(name, p);
            if (apr_hash_get(set, key, APR_HASH_KEY_STRING)) continue;
            /* "*.rest" covers one label in front of ".rest" (md_dns_matches), not a wildcard name */
            dot = strchr(key, '.');
            if (key[0] != '*' && dot && dot != key
                && apr_hash_get(set, apr_pstrcat(p, "*", dot, NULL), APR_HASH_KEY_STRING)) continue;
        }
        if (pmissing) *pmissing = name;
        return 0;
    }
    return 1;
}

const char *md_cert_get_sha256_fingerprint(const md_cert_t *cert, apr_pool_t *p)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!X509_digest(cert->x509, EVP_sha256(), md, &len)) {
        ERR_clear_error();
        return NULL;
    }
    return md_hex_encode(md, len, 0, p);
}

int md_cert_matches_key(const md_cert_t *cert, const md_pkey_t *pkey)
{
    EVP_PKEY *pub = X509_get0_pubkey(cert->x509);
    int rc;

    if (!pub || !pkey) return 0;
    rc = EVP_PKEY_eq(pub, md_pkey_get_EVP_PKEY(pkey));
    ERR_clear_error();
    return rc == 1;
}
