/* Certificate chain verification against given roots, at a given time, with OpenSSL's reason on failure. */
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "md_cert.h"
#include "md_result.h"

static X509_STORE *store_make(const apr_array_header_t *roots)
{
    X509_STORE *store = X509_STORE_new();
    int i;

    for (i = 0; store && roots && i < roots->nelts; ++i) {
        if (!X509_STORE_add_cert(store, md_cert_get_X509(APR_ARRAY_IDX(roots, i, const md_cert_t *)))) {
            X509_STORE_free(store);
            store = NULL;
        }
    }
    return store;
}

static STACK_OF(X509) *untrusted_make(const apr_array_header_t *chain)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    int i;

    for (i = 1; sk && i < chain->nelts; ++i) {
        if (!sk_X509_push(sk, md_cert_get_X509(APR_ARRAY_IDX(chain, i, const md_cert_t *)))) {
            sk_X509_free(sk);
            sk = NULL;
        }
    }
    return sk;   /* the certificates stay owned by the chain: free with sk_X509_free only */
}

/* Describe why ctx failed: OpenSSL's reason, the depth and the subject of the certificate there. */
static void report_failure(md_result_t *result, X509_STORE_CTX *ctx, apr_pool_t *p)
{
    int err = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    X509 *current = X509_STORE_CTX_get_current_cert(ctx);
    const char *subject = "?";

    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;

    if (current && bio && X509_NAME_print_ex(bio, X509_get_subject_name(current), 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_get_mem_data(bio, &data);
        subject = apr_pstrmemdup(p, data, (apr_size_t)n);
    }
    BIO_free(bio);
    md_result_printf(result, APR_EINVAL, "certificate verification failed at depth %d (%s): %s (error %d)",
                     depth, subject, X509_verify_cert_error_string(err), err);
}

apr_status_t md_cert_chain_verify(const apr_array_header_t *chain, const apr_array_header_t *roots,
                                  apr_time_t at, md_result_t *result, apr_pool_t *p)
{
    X509_STORE *store = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE_CTX *ctx = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!chain || chain->nelts == 0) {
        md_result_set(result, rv, "certificate verification: empty chain");
        goto leave;
    }
    store = store_make(roots);
    untrusted = untrusted_make(chain);
    ctx = X509_STORE_CTX_new();
    if (!store || !untrusted || !ctx
        || !X509_STORE_CTX_init(ctx, store, md_cert_get_X509(APR_ARRAY_IDX(chain, 0, const md_cert_t *)),
                                untrusted)) {
        rv = APR_ENOMEM;
        md_result_set(result, rv, "certificate verification: setting up the store failed");
        goto leave;
    }
    if (at) X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)apr_time_sec(at));
    if (X509_verify_cert(ctx) != 1) {
        report_failure(result, ctx, p);
        goto leave;
    }
    rv = APR_SUCCESS;
    md_result_set(result, rv, NULL);
leave:
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    ERR_clear_error();
    return rv;
}
