/* The fake ACME CA: finalize (the CSR checked) and the certificates it issues. */
#include "fake_ca_int.h"

/* ---- finalize: the CSR and the certificate ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names sorted and ","-joined; with strip_type without their "type:" prefix. */
const char *fca_names_join(const apr_array_header_t *names, int strip_type, apr_pool_t *p)
{
    apr_array_header_t *sorted = apr_array_copy(p, names);
    const char *s, *joined = "";
    int i;

    for (i = 0; strip_type && i < sorted->nelts; ++i) {
        s = APR_ARRAY_IDX(sorted, i, const char *);
        APR_ARRAY_IDX(sorted, i, const char *) = strchr(s, ':') + 1;
    }
    qsort(sorted->elts, (size_t)sorted->nelts, sizeof(const char *), cmp_str);
    for (i = 0; i < sorted->nelts; ++i) {
        joined = apr_pstrcat(p, joined, i ? "," : "", APR_ARRAY_IDX(sorted, i, const char *), NULL);
    }
    return joined;
}

/* The SANs of a CSR as "dns:name" / "ip:address", sorted and joined like names_join. */
static const char *csr_names(X509_REQ *csr, apr_pool_t *p)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
    GENERAL_NAMES *sans = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *));
    const GENERAL_NAME *gn;
    char text[64];
    int i, len;

    for (i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
        gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type == GEN_DNS) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrcat(p, "dns:", fca_lower(apr_pstrndup(p,
                (const char *)ASN1_STRING_get0_data(gn->d.dNSName), (apr_size_t)ASN1_STRING_length(gn->d.dNSName)),
                p), NULL);
        }
        else if (gn->type == GEN_IPADD && ((len = ASN1_STRING_length(gn->d.iPAddress)) == 4 || len == 16)
                 && inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.iPAddress), text,
                              sizeof(text))) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrcat(p, "ip:", text, NULL);
        }
        else APR_ARRAY_PUSH(names, const char *) = "other:?";
    }
    GENERAL_NAMES_free(sans);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return fca_names_join(names, 0, p);
}

/* The finalize request's CSR, its signature checked and its SANs the order's; NULL when answered. */
static X509_REQ *csr_get(fca_req_t *r, const fca_order_t *o)
{
    unsigned char *der = NULL;
    const unsigned char *c;
    apr_size_t len = 0;
    X509_REQ *csr = NULL;
    const char *sans, *ids;

    if (fca_b64_member(&der, &len, r->args, "csr", r->p)) {
        c = der;
        csr = d2i_X509_REQ(NULL, &c, (long)len);
    }
    if (!csr || X509_REQ_verify(csr, X509_REQ_get0_pubkey(csr)) != 1) {
        ERR_clear_error();
        X509_REQ_free(csr);
        fca_problem(r, 400, "badCSR", "the csr is not a DER CSR with a valid signature");
        return NULL;
    }
    sans = csr_names(csr, r->p);
    ids = fca_names_join(o->ids, 0, r->p);
    if (strcmp(sans, ids)) {
        X509_REQ_free(csr);
        fca_problem(r, 400, "badCSR", apr_psprintf(r->p, "the CSR is for %s, the order for %s", sans, ids));
        return NULL;
    }
    return csr;
}

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);

    X509_EXTENSION_free(ext);
    return ok;
}

/* Copy the CSR's SANs and TLS feature (must-staple) into the leaf. */
static int csr_exts_copy(X509 *x, X509_REQ *csr)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
    const int nids[] = { NID_subject_alt_name, NID_tlsfeature };
    int i, idx, ok = exts != NULL;

    for (i = 0; ok && i < 2; ++i) {
        idx = X509v3_get_ext_by_NID(exts, nids[i], -1);
        if (idx >= 0) ok = X509_add_ext(x, X509v3_get_ext(exts, idx), -1);
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok;
}

/* A certificate for pub valid [from, until]: the CA's own (self-signed) without csr, else a leaf for the CSR. */
X509 *fca_cert_build(fake_ca_t *ca, EVP_PKEY *pub, const X509_NAME *subject, X509_REQ *csr, apr_time_t from,
                        apr_time_t until)
{
    X509 *x = X509_new(), *issuer = csr ? md_cert_get_X509(ca->root) : x;
    X509V3_CTX v3;
    int ok;

    if (!x) return NULL;
    ok = X509_set_version(x, 2) && ASN1_INTEGER_set_int64(X509_get_serialNumber(x), ++ca->serial)
         && X509_set_subject_name(x, subject) && X509_set_issuer_name(x, X509_get_subject_name(issuer))
         && ASN1_TIME_set(X509_getm_notBefore(x), (time_t)apr_time_sec(from)) != NULL
         && ASN1_TIME_set(X509_getm_notAfter(x), (time_t)apr_time_sec(until)) != NULL && X509_set_pubkey(x, pub);
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ok = ok && ext_add(x, &v3, NID_basic_constraints, csr ? "critical,CA:FALSE" : "critical,CA:TRUE")
         && ext_add(x, &v3, NID_key_usage, csr ? "critical,digitalSignature,keyEncipherment"
                                                : "critical,keyCertSign,cRLSign")
         && ext_add(x, &v3, NID_subject_key_identifier, "hash")
         && ext_add(x, &v3, NID_authority_key_identifier, "keyid:always");
    if (ok && csr) ok = ext_add(x, &v3, NID_ext_key_usage, "serverAuth") && csr_exts_copy(x, csr);
    ok = ok && X509_sign(x, md_pkey_get_EVP_PKEY(ca->key), EVP_sha256()) > 0;
    if (!ok) {
        ERR_clear_error();
        X509_free(x);
        return NULL;
    }
    return x;
}

const char *fca_cert_pem(X509 *x, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    const char *pem = NULL;
    long len;

    if (bio && PEM_write_bio_X509(bio, x) == 1 && (len = BIO_get_mem_data(bio, &data)) > 0) {
        pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    return pem;
}

/* The lifetime of the order's certificate, in seconds: its first identifier's own, else the CA's. */
static long lifetime_of(fake_ca_t *ca, const fca_order_t *o)
{
    const char *id, *s;
    int i;

    for (i = 0; i < o->ids->nelts; ++i) {
        id = APR_ARRAY_IDX(o->ids, i, const char *);
        if ((s = apr_table_get(ca->lifetimes, strchr(id, ':') + 1)) != NULL) return atol(s);
    }
    return ca->set[FAKE_CA_SET_LIFETIME];
}

/* Issue the order's certificate for the CSR; NULL when OpenSSL failed. */
static fake_ca_cert_t *issue(fake_ca_t *ca, fca_order_t *o, X509_REQ *csr, apr_time_t now)
{
    X509 *x = fca_cert_build(ca, X509_REQ_get0_pubkey(csr), X509_REQ_get_subject_name(csr), csr,
                         now - apr_time_from_sec(60), now + apr_time_from_sec(lifetime_of(ca, o)));
    fake_ca_cert_t *c;

    if (!x) return NULL;
    c = apr_pcalloc(ca->p, sizeof(*c));
    c->leaf = md_cert_wrap(x, ca->p);
    c->pem = fca_cert_pem(x, ca->p);
    c->chain_pem = apr_pstrcat(ca->p, c->pem, ca->root_pem, NULL);
    c->serial_hex = md_cert_get_serial_hex(c->leaf, ca->p);
    md_cert_get_ari_cert_id(&c->ari_id, c->leaf, ca->p);
    c->names = fca_names_join(o->ids, 1, ca->p);
    c->replaces = o->replaces;
    c->account = APR_ARRAY_IDX(ca->accts, o->acct - 1, fca_acct_t *)->url;
    c->not_before = md_cert_get_not_before(c->leaf);
    c->not_after = md_cert_get_not_after(c->leaf);
    APR_ARRAY_PUSH(ca->certs, fake_ca_cert_t *) = c;
    return c;
}

void fca_h_finalize(fca_req_t *r)
{
    fca_order_t *o = fca_owned(r, r->ca->orders, "order");
    X509_REQ *csr;

    if (!o) return;
    fca_order_refresh(r->ca, o, r->now);
    if (strcmp(o->status, "ready")) {
        fca_problem(r, 403, "orderNotReady", apr_psprintf(r->p, "order %d is %s", r->n, o->status));
        return;
    }
    if (!(csr = csr_get(r, o))) return;
    o->cert = issue(r->ca, o, csr, r->now);
    X509_REQ_free(csr);
    if (!o->cert) {
        fca_problem(r, 500, "serverInternal", "the fake CA could not make the certificate");
        return;
    }
    o->polls_left = (int)r->ca->set[FAKE_CA_SET_ORDER_POLLS];
    o->status = o->polls_left ? "processing" : "valid";
    fca_order_answer(r, o, r->n, 200);
}

void fca_h_cert(fca_req_t *r)
{
    fca_order_t *o = fca_owned(r, r->ca->orders, "order");

    if (!o) return;
    if (!o->cert || strcmp(o->status, "valid")) {
        fca_problem(r, 404, "malformed", apr_psprintf(r->p, "order %d has no certificate (yet)", r->n));
        return;
    }
    fca_answer(r, 200, "application/pem-certificate-chain", o->cert->chain_pem);
}

