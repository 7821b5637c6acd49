/* The built-in tls-alpn-01 responder (RFC 8737, RFC 8738): a TLS server presenting challenge certificates. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_responder.h"
#include "md_responder_int.h"

#define ACME_TLS_1      "acme-tls/1"
#define ACME_TLS_1_LEN  10
#define TLSALPN_CERT_VALID apr_time_from_sec(7 * 24 * 3600)

/* A challenge certificate by SNI name (the domain lowercased, or an IP address's reverse name). */
typedef struct tlsalpn_entry_t {
    struct tlsalpn_entry_t *next;
    char *sni;
    X509 *x509;
    EVP_PKEY *pkey;
} tlsalpn_entry_t;

typedef struct {
    pthread_mutex_t mutex;
    tlsalpn_entry_t *entries;
    SSL_CTX *ctx;
} tlsalpn_t;

/* ---- the table -------------------------------------------------------------------------------------- */

static tlsalpn_entry_t **tlsalpn_find(tlsalpn_t *t, const char *sni)
{
    tlsalpn_entry_t **pe;

    for (pe = &t->entries; *pe; pe = &(*pe)->next) {
        if (!strcmp((*pe)->sni, sni)) return pe;
    }
    return pe;
}

static void tlsalpn_entry_free(tlsalpn_entry_t *e)
{
    if (!e) return;
    free(e->sni);
    X509_free(e->x509);
    EVP_PKEY_free(e->pkey);
    free(e);
}

static apr_status_t tlsalpn_cleanup(void *baton)
{
    tlsalpn_t *t = baton;
    tlsalpn_entry_t *e;

    while ((e = t->entries) != NULL) {
        t->entries = e->next;
        tlsalpn_entry_free(e);
    }
    SSL_CTX_free(t->ctx);
    t->ctx = NULL;
    pthread_mutex_destroy(&t->mutex);
    return APR_SUCCESS;
}

/* The SNI name a validator sends for an identifier: lowercased, or RFC 8738's reverse name for IPs. */
static const char *tlsalpn_sni_of(const char *domain, apr_pool_t *p)
{
    const char *rev = md_responder__reverse_name(domain, p);
    char *s;

    if (rev) return rev;
    s = apr_pstrdup(p, domain);
    for (char *c = s; *c; ++c) *c = (char)tolower((unsigned char)*c);
    return s;
}

/* ---- the handshake callbacks (server thread) -------------------------------------------------------- */

/* Find "acme-tls/1" in an ALPN protocol list (RFC 7301: 1-byte lengths); the entry or NULL. */
static const unsigned char *alpn_find(const unsigned char *list, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t n = list[i];
        if (i + 1 + n > len) return NULL;
        if (n == ACME_TLS_1_LEN && !memcmp(list + i + 1, ACME_TLS_1, ACME_TLS_1_LEN)) return list + i;
        i += 1 + n;
    }
    return NULL;
}

/* The host_name of a server_name extension (RFC 6066), lowercased, without a trailing dot. */
static int sni_parse(char *name, size_t cap, const unsigned char *ext, size_t len)
{
    size_t list_len, n, i;

    if (len < 5) return 0;
    list_len = ((size_t)ext[0] << 8) | ext[1];
    if (list_len + 2 != len || ext[2] != 0 /* host_name */) return 0;
    n = ((size_t)ext[3] << 8) | ext[4];
    if (n == 0 || n + 5 > len || n >= cap) return 0;
    for (i = 0; i < n; ++i) name[i] = (char)tolower(ext[5 + i]);
    if (name[n - 1] == '.') --n;
    name[n] = '\0';
    return n > 0 && strlen(name) == n;
}

/* Before anything is decided: refuse clients that do not ask for acme-tls/1, pick the certificate. */
static int tlsalpn_hello_cb(SSL *ssl, int *al, void *arg)
{
    tlsalpn_t *t = arg;
    const unsigned char *ext;
    size_t len;
    char name[256];
    tlsalpn_entry_t *e;
    int ok = 0;

    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext, &len)
        || len < 2 || !alpn_find(ext + 2, len - 2)) {
        *al = SSL_AD_NO_APPLICATION_PROTOCOL;
        return SSL_CLIENT_HELLO_ERROR;
    }
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len)
        || !sni_parse(name, sizeof(name), ext, len)) {
        *al = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    pthread_mutex_lock(&t->mutex);
    e = *tlsalpn_find(t, name);
    if (e) ok = SSL_use_cert_and_key(ssl, e->x509, e->pkey, NULL, 1) == 1;
    pthread_mutex_unlock(&t->mutex);
    if (!ok) {
        *al = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

static int tlsalpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg)
{
    const unsigned char *found = alpn_find(in, inlen);

    (void)ssl;
    (void)arg;
    if (!found) return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = found + 1;
    *outlen = found[0];
    return SSL_TLSEXT_ERR_OK;
}

/* ---- the protocol: handshake, close_notify, close --------------------------------------------------- */

static md_srv_want_t tlsalpn_io(void *baton, md_srv_conn_t *c)
{
    SSL *ssl = c->data;
    int rc;

    (void)baton;
    rc = SSL_do_handshake(ssl);
    if (rc == 1) {
        SSL_shutdown(ssl);
        return MD_SRV_DONE;
    }
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:  return MD_SRV_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return MD_SRV_WANT_WRITE;
    default:                   return MD_SRV_DONE;
    }
}

static md_srv_want_t tlsalpn_open(void *baton, md_srv_conn_t *c)
{
    tlsalpn_t *t = baton;
    SSL *ssl = SSL_new(t->ctx);

    if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        return MD_SRV_DONE;
    }
    SSL_set_accept_state(ssl);
    c->data = ssl;
    return MD_SRV_WANT_READ;
}

static void tlsalpn_close(void *baton, md_srv_conn_t *c)
{
    (void)baton;
    SSL_free(c->data);
    ERR_clear_error();
}

/* ---- the responder ---------------------------------------------------------------------------------- */

static int tlsalpn_supports(void *baton, const char *type)
{
    (void)baton;
    return type && !strcmp(type, "tls-alpn-01");
}

static apr_status_t tlsalpn_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                  apr_pool_t *p)
{
    tlsalpn_t *t = baton;
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    md_pkey_t *pkey;
    md_cert_t *cert;
    tlsalpn_entry_t **pe, *e, *old = NULL;
    apr_status_t rv;

    if (!ch->domain || !*ch->domain || !ch->key_authz) {
        md_result_set(result, APR_EINVAL, "tls-alpn-01: no domain or key authorization");
        return APR_EINVAL;
    }
    rv = md_pkey_gen(&pkey, &spec, p);
    if (rv != APR_SUCCESS) goto failed;
    rv = md_cert_make_tls_alpn_01(&cert, ch->domain, ch->key_authz, pkey, TLSALPN_CERT_VALID, p);
    if (rv != APR_SUCCESS) goto failed;
    e = calloc(1, sizeof(*e));
    if (!e || !(e->sni = strdup(tlsalpn_sni_of(ch->domain, p)))) {
        free(e);
        rv = APR_ENOMEM;
        goto failed;
    }
    e->x509 = md_cert_get_X509(cert);
    e->pkey = md_pkey_get_EVP_PKEY(pkey);
    X509_up_ref(e->x509);
    EVP_PKEY_up_ref(e->pkey);
    pthread_mutex_lock(&t->mutex);
    pe = tlsalpn_find(t, e->sni);
    if (*pe) {   /* a new challenge for the same name replaces the old one */
        old = *pe;
        e->next = old->next;
    }
    *pe = e;
    pthread_mutex_unlock(&t->mutex);
    tlsalpn_entry_free(old);
    return APR_SUCCESS;
failed:
    md_result_printf(result, rv, "tls-alpn-01: cannot make the challenge certificate for %s", ch->domain);
    return rv;
}

static apr_status_t tlsalpn_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                     apr_pool_t *p)
{
    tlsalpn_t *t = baton;
    tlsalpn_entry_t **pe, *e = NULL;

    (void)result;
    if (!ch->domain) return APR_SUCCESS;
    pthread_mutex_lock(&t->mutex);
    pe = tlsalpn_find(t, tlsalpn_sni_of(ch->domain, p));
    if (*pe) {
        e = *pe;
        *pe = e->next;
    }
    pthread_mutex_unlock(&t->mutex);
    tlsalpn_entry_free(e);
    return APR_SUCCESS;
}

static apr_status_t tlsalpn_ctx_make(tlsalpn_t *t, md_result_t *result)
{
    t->ctx = SSL_CTX_new(TLS_server_method());
    if (!t->ctx || SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
        ERR_clear_error();
        md_result_set(result, APR_EGENERAL, "tls-alpn-01 server: cannot make the TLS context");
        return APR_EGENERAL;
    }
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(t->ctx, 0);
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_client_hello_cb(t->ctx, tlsalpn_hello_cb, t);
    SSL_CTX_set_alpn_select_cb(t->ctx, tlsalpn_select_cb, t);
    return APR_SUCCESS;
}

apr_status_t md_responder_tlsalpn01_server(md_responder_t **presp, int *pport, const char *addr, int port,
                                           md_result_t *result, apr_pool_t *p)
{
    tlsalpn_t *t = apr_pcalloc(p, sizeof(*t));
    md_srv_proto_t proto = { "tls-alpn-01 server", tlsalpn_open, tlsalpn_io, tlsalpn_close, t };
    md_responder_t *r;
    apr_status_t rv;

    *presp = NULL;
    pthread_mutex_init(&t->mutex, NULL);
    /* registered before the server's cleanup, so it runs after the thread has been joined */
    apr_pool_cleanup_register(p, t, tlsalpn_cleanup, apr_pool_cleanup_null);
    rv = tlsalpn_ctx_make(t, result);
    if (rv != APR_SUCCESS) return rv;
    rv = md_srv__start(pport, addr, port, &proto, result, p);
    if (rv != APR_SUCCESS) return rv;
    r = apr_pcalloc(p, sizeof(*r));
    r->name = "tls-alpn-01 server";
    r->supports = tlsalpn_supports;
    r->setup = tlsalpn_setup;
    r->teardown = tlsalpn_teardown;
    r->baton = t;
    *presp = r;
    return APR_SUCCESS;
}
