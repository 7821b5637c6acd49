/* Unit tests for the challenge responders: the set, http-01 and tls-alpn-01 servers, webroot, dns-01. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_pkey.h"
#include "md_store.h"
#include "md_file.h"
#include "md_http.h"
#include "md_jws.h"
#include "md_result.h"
#include "md_event.h"
#include "md_responder.h"
#include "test_common.h"

static md_challenge_setup_t challenge(const char *type, const char *domain, const char *token,
                                      apr_pool_t *p)
{
    md_challenge_setup_t ch;

    memset(&ch, 0, sizeof(ch));
    ch.md_name = "example.org";
    ch.type = type;
    ch.domain = domain;
    ch.token = token;
    ch.key_authz = token ? apr_pstrcat(p, token, ".thumbprint-xyz", NULL) : NULL;
    return ch;
}

/* A TCP connection to 127.0.0.1:port with 5s I/O timeouts, or -1 (errno set). */
static int connect_local(int port)
{
    struct sockaddr_in sa;
    struct timeval tv = { 5, 0 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static void assert_refused(int port)
{
    ck_assert_int_eq(connect_local(port), -1);
    ck_assert_int_eq(errno, ECONNREFUSED);
}

/* ---- the set ---------------------------------------------------------------------------------------- */

static int fake_supports(void *baton, const char *type)
{
    return strstr((const char *)baton, type) != NULL;
}

START_TEST(responder_set)
{
    apr_pool_t *p = md_test_pool();
    md_responders_t *rs = md_responders_make(p);
    md_responder_t a = { .name = "a", .supports = fake_supports, .baton = "dns-01" };
    md_responder_t b = { .name = "b", .supports = fake_supports, .baton = "dns-01 http-01" };
    apr_array_header_t *types;

    ck_assert_int_eq(md_responders_types(rs, p)->nelts, 0);
    ck_assert_ptr_null(md_responders_for(rs, "http-01"));
    md_responders_add(rs, &a);
    md_responders_add(rs, &b);
    ck_assert_str_eq(md_responders_for(rs, "dns-01")->name, "a");   /* the first that supports it */
    ck_assert_str_eq(md_responders_for(rs, "http-01")->name, "b");
    ck_assert_ptr_null(md_responders_for(rs, "tls-alpn-01"));
    types = md_responders_types(rs, p);
    ck_assert_int_eq(types->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(types, 0, const char *), "http-01");
    ck_assert_str_eq(APR_ARRAY_IDX(types, 1, const char *), "dns-01");
    md_test_pool_done(p);
}
END_TEST

/* ---- http-01 ---------------------------------------------------------------------------------------- */

static const char *raw_request(int port, const char *request, apr_pool_t *p)
{
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    int fd = connect_local(port);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    while (len + 1 < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) len += (size_t)n;
    close(fd);
    return apr_pstrndup(p, buf, len);
}

START_TEST(http01_serves_tokens)
{
    apr_pool_t *p = md_test_pool(), *sp = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_challenge_setup_t ch = challenge("http-01", "www.example.org", "tok-1_A", p);
    md_http_response_t *resp;
    md_responder_t *r;
    md_http_t *http;
    const char *base, *url;
    char c;
    int port = 0, slow;

    ck_assert_int_eq(md_responder_http01_server(&r, &port, "127.0.0.1", 0, result, sp), APR_SUCCESS);
    ck_assert_int_gt(port, 0);
    ck_assert(r->supports(r->baton, "http-01"));
    ck_assert(!r->supports(r->baton, "dns-01"));
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_http_create(&http, NULL, NULL, p), APR_SUCCESS);
    base = apr_psprintf(p, "http://127.0.0.1:%d/.well-known/acme-challenge/", port);

    /* a client that connects and says nothing must not hold up the others */
    slow = connect_local(port);
    ck_assert_int_ge(slow, 0);
    url = apr_pstrcat(p, base, "tok-1_A", NULL);
    ck_assert_int_eq(md_http_get(&resp, http, url, result, p), APR_SUCCESS);
    /* served while the silent client is still connected (not after the server gave up on it) */
    ck_assert_int_eq(recv(slow, &c, 1, MSG_DONTWAIT), -1);
    ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "the silent connection was closed: %d", errno);
    ck_assert_int_eq(resp->status, 200);
    ck_assert_str_eq(resp->body.data, ch.key_authz);
    ck_assert_str_eq(md_http_media_type(resp, p), "text/plain");
    ck_assert_int_eq(md_http_head(&resp, http, url, result, p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 200);
    ck_assert_str_eq(md_http_header(resp, "Content-Length"), apr_ltoa(p, (long)strlen(ch.key_authz)));
    ck_assert_uint_eq(resp->body.len, 0);
    close(slow);

    ck_assert_int_eq(md_http_get(&resp, http, apr_pstrcat(p, base, "unknown", NULL), result, p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 404);
    ck_assert_int_eq(md_http_get(&resp, http, apr_psprintf(p, "http://127.0.0.1:%d/", port), result, p),
                     APR_SUCCESS);
    ck_assert_int_eq(resp->status, 404);
    ck_assert_int_eq(md_http_post(&resp, http, apr_pstrcat(p, base, "tok-1_A", NULL), "text/plain",
                                  md_data_from_str("x", p), result, p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 405);

    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_http_get(&resp, http, apr_pstrcat(p, base, "tok-1_A", NULL), result, p), APR_SUCCESS);
    ck_assert_int_eq(resp->status, 404);
    ch.token = "../etc";
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_EINVAL);

    md_test_pool_done(sp);   /* stops the server */
    assert_refused(port);
    md_test_pool_done(p);
}
END_TEST

START_TEST(http01_raw_requests)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_challenge_setup_t ch = challenge("http-01", "www.example.org", "tok-1_B", p);
    md_responder_t *r;
    const char *raw;
    int port = 0;

    ck_assert_int_eq(md_responder_http01_server(&r, &port, "127.0.0.1", 0, result, p), APR_SUCCESS);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    /* HTTP/1.0, absolute form, a Host as a validator sends it */
    raw = raw_request(port, "GET http://www.example.org/.well-known/acme-challenge/tok-1_B?x=1 HTTP/1.0\r\n"
                            "Host: www.example.org\r\n\r\n", p);
    ck_assert_ptr_nonnull(strstr(raw, " 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(raw, "Connection: close\r\n"));
    ck_assert_ptr_nonnull(strstr(raw, apr_pstrcat(p, "\r\n\r\n", ch.key_authz, NULL)));
    /* what Go's client (pebble's validator) sends */
    raw = raw_request(port, "GET /.well-known/acme-challenge/tok-1_B HTTP/1.1\r\nHost: www.example.org:80\r\n"
                            "User-Agent: Go-http-client/1.1\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n"
                            "Connection: close\r\n\r\n", p);
    ck_assert_ptr_nonnull(strstr(raw, apr_pstrcat(p, "HTTP/1.1 200 OK\r\n", NULL)));
    ck_assert_ptr_nonnull(strstr(raw, apr_pstrcat(p, "\r\n\r\n", ch.key_authz, NULL)));
    ck_assert_ptr_nonnull(strstr(raw_request(port, "garbage\r\n\r\n", p), " 400 "));
    ck_assert_ptr_nonnull(strstr(raw_request(port, "HEAD /x HTTP/1.0\r\n\r\n", p), " 404 "));
    md_test_pool_done(p);   /* stops the server too */
}
END_TEST

START_TEST(http01_bind_errors)
{
    apr_pool_t *p = md_test_pool(), *sp = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_responder_t *r, *r2;
    int port = 0, port2 = 0;

    ck_assert_int_eq(md_responder_http01_server(&r, &port, NULL, 0, result, sp), APR_SUCCESS);
    /* the port is taken */
    ck_assert_int_ne(md_responder_http01_server(&r2, &port2, "127.0.0.1", port, result, p), APR_SUCCESS);
    ck_assert_ptr_null(r2);
    ck_assert_ptr_nonnull(strstr(result->detail, apr_itoa(p, port)));
    ck_assert_int_eq(md_responder_http01_server(&r2, &port2, "not-an-address", 0, result, p), APR_EINVAL);
    md_test_pool_done(sp);
    md_test_pool_done(p);
}
END_TEST

/* ---- webroot ---------------------------------------------------------------------------------------- */

static mode_t mode_of(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_mode & 07777;
}

START_TEST(webroot_files)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p), *root = md_file_join(p, dir, "htdocs", NULL);
    const char *cdir = md_file_join(p, root, ".well-known", "acme-challenge", NULL);
    const char *f = md_file_join(p, cdir, "tok-2", NULL);
    md_challenge_setup_t ch = challenge("http-01", "www.example.org", "tok-2", p);
    md_responder_t *r;
    char *data;
    apr_size_t len;

    ck_assert_int_eq(md_responder_webroot(&r, root, p), APR_SUCCESS);
    ck_assert(r->supports(r->baton, "http-01"));
    ck_assert(!r->supports(r->baton, "tls-alpn-01"));
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_read(&data, &len, f, p), APR_SUCCESS);
    ck_assert_str_eq(data, ch.key_authz);
    ck_assert_int_eq(mode_of(f), 0644);
    ck_assert_int_eq(mode_of(cdir) & 0755, 0755);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);   /* again: replaced */
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_is(f, APR_REG, p), APR_ENOENT);
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);  /* already gone: fine */
    ch.token = "../../evil";
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_EINVAL);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* ---- tls-alpn-01 ------------------------------------------------------------------------------------ */

static const unsigned char ALPN_ACME[] = "\x0a" "acme-tls/1";
static const unsigned char ALPN_H2_ACME[] = "\x02" "h2" "\x0a" "acme-tls/1";
static const unsigned char ALPN_H2[] = "\x02" "h2";

/* Handshake with the server; on success the peer certificate (owned by p) and the protocol selected. */
static int tls_try(md_cert_t **pcert, const char **palpn, int port, const char *sni,
                   const unsigned char *alpn, unsigned alpn_len, apr_pool_t *p)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    const unsigned char *sel = NULL;
    unsigned sel_len = 0;
    int fd = connect_local(port), ok;

    ck_assert_int_ge(fd, 0);
    SSL_set_fd(ssl, fd);
    if (sni) SSL_set_tlsext_host_name(ssl, sni);
    if (alpn) ck_assert_int_eq(SSL_set_alpn_protos(ssl, alpn, alpn_len), 0);
    ok = SSL_connect(ssl) == 1;
    if (ok) {
        SSL_get0_alpn_selected(ssl, &sel, &sel_len);
        *palpn = apr_pstrndup(p, (const char *)sel, sel_len);
        *pcert = md_cert_wrap(SSL_get1_peer_certificate(ssl), p);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    ERR_clear_error();
    return ok;
}

static void assert_acme_identifier(const md_cert_t *cert, const char *key_authz)
{
    X509 *x = md_cert_get_X509(cert);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    unsigned char want[2 + 32];
    unsigned int dlen = 0;
    X509_EXTENSION *ext;
    const ASN1_OCTET_STRING *data;
    int idx;

    want[0] = 0x04;
    want[1] = 0x20;
    ck_assert(EVP_Digest(key_authz, strlen(key_authz), want + 2, &dlen, EVP_sha256(), NULL));
    idx = X509_get_ext_by_OBJ(x, oid, -1);
    ASN1_OBJECT_free(oid);
    ck_assert_int_ge(idx, 0);
    ext = X509_get_ext(x, idx);
    ck_assert(X509_EXTENSION_get_critical(ext));
    data = X509_EXTENSION_get_data(ext);
    ck_assert_int_eq(ASN1_STRING_length(data), (int)sizeof(want));
    ck_assert(!memcmp(ASN1_STRING_get0_data(data), want, sizeof(want)));
}

static const char *first_of(apr_array_header_t *a)
{
    ck_assert_int_eq(a->nelts, 1);
    return APR_ARRAY_IDX(a, 0, const char *);
}

START_TEST(tlsalpn01_serves_certificates)
{
    apr_pool_t *p = md_test_pool(), *sp = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_challenge_setup_t ch = challenge("tls-alpn-01", "www.example.org", "tok-3", p);
    md_responder_t *r;
    md_cert_t *cert;
    apr_array_header_t *names;
    const char *alpn;
    int port = 0;

    ck_assert_int_eq(md_responder_tlsalpn01_server(&r, &port, "127.0.0.1", 0, result, sp), APR_SUCCESS);
    ck_assert(r->supports(r->baton, "tls-alpn-01"));
    ck_assert(!r->supports(r->baton, "http-01"));
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);

    ck_assert(tls_try(&cert, &alpn, port, "www.example.org", ALPN_ACME, sizeof(ALPN_ACME) - 1, p));
    ck_assert_str_eq(alpn, "acme-tls/1");
    ck_assert_int_eq(md_cert_get_dns_names(&names, cert, p), APR_SUCCESS);
    ck_assert_str_eq(first_of(names), "www.example.org");
    assert_acme_identifier(cert, ch.key_authz);
    /* acme-tls/1 among others, SNI in other case */
    ck_assert(tls_try(&cert, &alpn, port, "WWW.Example.ORG", ALPN_H2_ACME, sizeof(ALPN_H2_ACME) - 1, p));
    ck_assert_str_eq(alpn, "acme-tls/1");

    /* refused: no ALPN, another protocol only, no SNI, an unknown name */
    ck_assert(!tls_try(&cert, &alpn, port, "www.example.org", NULL, 0, p));
    ck_assert(!tls_try(&cert, &alpn, port, "www.example.org", ALPN_H2, sizeof(ALPN_H2) - 1, p));
    ck_assert(!tls_try(&cert, &alpn, port, NULL, ALPN_ACME, sizeof(ALPN_ACME) - 1, p));
    ck_assert(!tls_try(&cert, &alpn, port, "other.example.org", ALPN_ACME, sizeof(ALPN_ACME) - 1, p));

    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert(!tls_try(&cert, &alpn, port, "www.example.org", ALPN_ACME, sizeof(ALPN_ACME) - 1, p));
    md_test_pool_done(sp);
    assert_refused(port);
    md_test_pool_done(p);
}
END_TEST

START_TEST(tlsalpn01_ip_identifiers)
{
    apr_pool_t *p = md_test_pool(), *sp = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_challenge_setup_t ch4 = challenge("tls-alpn-01", "192.0.2.1", "tok-4", p);
    md_challenge_setup_t ch6 = challenge("tls-alpn-01", "2001:db8::1", "tok-6", p);
    md_responder_t *r;
    md_cert_t *cert;
    apr_array_header_t *addrs;
    const char *alpn;
    int port = 0;

    ck_assert_int_eq(md_responder_tlsalpn01_server(&r, &port, "127.0.0.1", 0, result, sp), APR_SUCCESS);
    ck_assert_int_eq(r->setup(r->baton, &ch4, result, p), APR_SUCCESS);
    ck_assert_int_eq(r->setup(r->baton, &ch6, result, p), APR_SUCCESS);
    ck_assert(tls_try(&cert, &alpn, port, "1.2.0.192.in-addr.arpa", ALPN_ACME, sizeof(ALPN_ACME) - 1, p));
    ck_assert_int_eq(md_cert_get_ip_addresses(&addrs, cert, p), APR_SUCCESS);
    ck_assert_str_eq(first_of(addrs), "192.0.2.1");
    assert_acme_identifier(cert, ch4.key_authz);
    ck_assert(tls_try(&cert, &alpn, port,
                      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                      ALPN_ACME, sizeof(ALPN_ACME) - 1, p));
    ck_assert_int_eq(md_cert_get_ip_addresses(&addrs, cert, p), APR_SUCCESS);
    ck_assert_str_eq(first_of(addrs), "2001:db8::1");
    assert_acme_identifier(cert, ch6.key_authz);
    md_test_pool_done(sp);
    md_test_pool_done(p);
}
END_TEST

/* ---- dns-01 ----------------------------------------------------------------------------------------- */

static const char HOOK[] =
    "#!/bin/sh\n"
    "log=\"$1\"; code=\"$2\"; shift 2\n"
    "echo \"$*\" >> \"$log\"\n"
    "echo \"env MD_MDOMAIN=$MD_MDOMAIN MD_VERSION=$MD_VERSION MD_STORE=${MD_STORE-unset}\" >> \"$log\"\n"
    "echo 'line one from hook'\n"
    "echo 'line two' >&2\n"
    "exit \"$code\"\n";

/* A responder of type ("dns-01", "http-01") through the dispatcher: the hook script as dns-01 program
 * (as_handler 0) or as event handler (1); it logs to dir/log and exits with code. */
static md_responder_t *event_hook(const char *type, int as_handler, const char *dir, const char *code, int version,
                                  const char *store, apr_pool_t *p)
{
    apr_array_header_t *argv = apr_array_make(p, 3, sizeof(const char *));
    const char *script = md_file_join(p, dir, "hook.sh", NULL);
    md_event_programs_t *progs = apr_pcalloc(p, sizeof(*progs));
    md_events_t *ev = apr_pcalloc(p, sizeof(*ev));
    md_responder_t *r;

    if (md_file_is(script, APR_REG, p) != APR_SUCCESS) {
        ck_assert_int_eq(md_file_write_atomic(script, HOOK, sizeof(HOOK) - 1, 0755, p), APR_SUCCESS);
    }
    APR_ARRAY_PUSH(argv, const char *) = script;
    APR_ARRAY_PUSH(argv, const char *) = md_file_join(p, dir, "log", NULL);
    APR_ARRAY_PUSH(argv, const char *) = code;
    progs->argv[as_handler ? MD_EVENT_PROG_HANDLER : MD_EVENT_PROG_DNS01] = argv;
    progs->dns01_version = version;
    ev->store_dir = store;
    ev->challenge_timeout = apr_time_from_sec(10);
    ck_assert_int_eq(md_responder_event(&r, type, ev, progs, p), APR_SUCCESS);
    ck_assert(r->supports(r->baton, type));
    ck_assert(!r->supports(r->baton, "tls-alpn-01"));
    ck_assert(r->external);
    return r;
}

static md_responder_t *dns01_hook(const char *dir, const char *code, int version, const char *store, apr_pool_t *p)
{
    return event_hook("dns-01", 0, dir, code, version, store, p);
}

static const char *read_log(const char *dir, apr_pool_t *p)
{
    const char *f = md_file_join(p, dir, "log", NULL);
    char *data;
    apr_size_t len;

    ck_assert_int_eq(md_file_read(&data, &len, f, p), APR_SUCCESS);
    unlink(f);
    return data;
}

static md_store_t *open_store(const char *dir, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p);
    md_store_t *store = NULL;

    ck_assert_msg(md_store_fs_open(&store, dir, result, p) == APR_SUCCESS, "%s", md_result_text(result, p));
    return store;
}

static const char *store_file(const char *dir, const char *domain, const char *file, apr_pool_t *p)
{
    return md_file_join(p, dir, "challenges", domain, file, NULL);
}

static const char *read_file(const char *path, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len;

    ck_assert_int_eq(md_file_read(&data, &len, path, p), APR_SUCCESS);
    return data;
}

static int file_exists(const char *path, apr_pool_t *p)
{
    return md_file_is(path, APR_REG, p) == APR_SUCCESS;
}

static int serves_www(void *baton, const char *domain)
{
    return !strcmp(domain, (const char *)baton);
}

/* http-01 in the store: mod_md's challenges/DOMAIN/acme-http-01.txt holds the key authorization; a request is
 * answered when it is its token's, whoever wrote it, and never for an MD that does not use http-01. */
START_TEST(store_http01)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *text;
    md_store_t *store = open_store(dir, p);
    md_result_t *result = md_result_make(p);
    md_challenge_setup_t ch = challenge("http-01", "www.example.org", "tok-1", p);
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *));
    md_responder_t *r;
    md_t *md;

    APR_ARRAY_PUSH(names, const char *) = "www.example.org";
    md = md_create(names, p);
    ck_assert_int_eq(md_responder_store_http01(&r, store, serves_www, "www.example.org", p), APR_SUCCESS);
    ck_assert(r->supports(r->baton, "http-01") && !r->supports(r->baton, "tls-alpn-01"));
    ck_assert(r->serves(r->baton, "www.example.org") && !r->serves(r->baton, "other.example.org"));
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    text = read_file(store_file(dir, "www.example.org", "acme-http-01.txt", p), p);
    ck_assert_str_eq(text, "tok-1.thumbprint-xyz");
    ck_assert_str_eq(md_challenge_http01_lookup(store, md, "www.example.org", "tok-1", p), "tok-1.thumbprint-xyz");
    ck_assert_str_eq(md_challenge_http01_lookup(store, NULL, "www.example.org", "tok-1", p), "tok-1.thumbprint-xyz");
    /* another token, another host, no token, a path: nothing */
    ck_assert_ptr_null(md_challenge_http01_lookup(store, md, "www.example.org", "tok-2", p));
    ck_assert_ptr_null(md_challenge_http01_lookup(store, md, "www.example.org", "tok", p));
    ck_assert_ptr_null(md_challenge_http01_lookup(store, md, "other.example.org", "tok-1", p));
    ck_assert_ptr_null(md_challenge_http01_lookup(store, md, "www.example.org", "", p));
    ck_assert_ptr_null(md_challenge_http01_lookup(store, md, "..", "tok-1", p));
    /* an MD whose challenge types leave out http-01: another server answers for it */
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "dns-01";
    ck_assert_ptr_null(md_challenge_http01_lookup(store, md, "www.example.org", "tok-1", p));
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_ptr_null(md_challenge_http01_lookup(store, NULL, "www.example.org", "tok-1", p));
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    /* written by another program, with a line end */
    ck_assert_int_eq(md_file_mkdirs(md_file_join(p, dir, "challenges", "a.example.org", NULL), 0755, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_write_atomic(store_file(dir, "a.example.org", "acme-http-01.txt", p), "T.x\n", 4, 0644,
                                          p), APR_SUCCESS);
    ck_assert_str_eq(md_challenge_http01_lookup(store, NULL, "a.example.org", "T", p), "T.x");
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

static md_t *md_with_keys(const char *name, const char *k1, const char *k2, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *));
    md_pkey_spec_t *spec;
    const char *err = NULL;
    md_t *md;

    APR_ARRAY_PUSH(names, const char *) = name;
    md = md_create(names, p);
    apr_array_clear(md->pks);
    ck_assert_int_eq(md_pkey_spec_parse(&spec, k1, NULL, &err, p), APR_SUCCESS);
    APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = spec;
    if (k2) {
        ck_assert_int_eq(md_pkey_spec_parse(&spec, k2, NULL, &err, p), APR_SUCCESS);
        APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = spec;
    }
    return md;
}

static md_cert_t *pem_cert(const char *pem, apr_pool_t *p)
{
    apr_array_header_t *chain = NULL;

    ck_assert_int_eq(md_cert_chain_from_pem(&chain, pem, strlen(pem), NULL, p), APR_SUCCESS);
    return APR_ARRAY_IDX(chain, 0, md_cert_t *);
}

/* tls-alpn-01 in the store: one certificate and (unencrypted) key per key type of the MD, named as mod_md names
 * them; the look-up takes the MD's first key type there, or any pair another program wrote. */
START_TEST(store_tlsalpn01)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *cert_pem = NULL, *key_pem = NULL, *text;
    md_store_t *store = open_store(dir, p);
    md_result_t *result = md_result_make(p);
    md_challenge_setup_t ch = challenge("tls-alpn-01", "www.example.org", "tok-3", p);
    md_t *md = md_with_keys("www.example.org", "secp384r1", "P-256", p), *rsa = md_with_keys("x", "rsa", NULL, p);
    md_responder_t *r;
    EVP_PKEY *k;

    APR_ARRAY_PUSH(md->acme_tls_1, const char *) = "www.example.org";
    ck_assert_int_eq(md_responder_store_tlsalpn01(&r, store, md, p), APR_SUCCESS);
    ck_assert(r->supports(r->baton, "tls-alpn-01") && !r->supports(r->baton, "http-01"));
    ck_assert(r->serves(r->baton, "WWW.example.org") && !r->serves(r->baton, "other.example.org"));
    ck_assert_int_eq(md_challenge_tlsalpn01_lookup(&cert_pem, &key_pem, store, md, "www.example.org", p), APR_ENOENT);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    text = read_file(store_file(dir, "www.example.org", "acme-tls-alpn-01-privkey.p-256.pem", p), p);
    ck_assert(!strncmp(text, "-----BEGIN PRIVATE KEY-----", 27));
    ck_assert(file_exists(store_file(dir, "www.example.org", "acme-tls-alpn-01-pubcert.p-256.pem", p), p));
    ck_assert(file_exists(store_file(dir, "www.example.org", "acme-tls-alpn-01-pubcert.secp384r1.pem", p), p));
    ck_assert_int_eq(md_challenge_tlsalpn01_lookup(&cert_pem, &key_pem, store, md, "www.example.org", p),
                     APR_SUCCESS);
    assert_acme_identifier(pem_cert(cert_pem, p), ch.key_authz);
    k = X509_get0_pubkey(md_cert_get_X509(pem_cert(cert_pem, p)));
    ck_assert_int_eq(EVP_PKEY_get_bits(k), 384);
    ck_assert(!strncmp(key_pem, "-----BEGIN PRIVATE KEY-----", 27));
    /* without the MD, or for an MD of other key types: what is there */
    ck_assert_int_eq(md_challenge_tlsalpn01_lookup(&cert_pem, &key_pem, store, rsa, "www.example.org", p),
                     APR_SUCCESS);
    assert_acme_identifier(pem_cert(cert_pem, p), ch.key_authz);
    ck_assert_int_eq(md_challenge_tlsalpn01_lookup(&cert_pem, &key_pem, store, NULL, "www.example.org", p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_challenge_tlsalpn01_lookup(&cert_pem, &key_pem, store, NULL, "other.example.org", p),
                     APR_ENOENT);
    ck_assert_int_eq(md_challenge_tlsalpn01_lookup(&cert_pem, &key_pem, store, NULL, "../x", p), APR_ENOENT);
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(md_challenge_tlsalpn01_lookup(&cert_pem, &key_pem, store, NULL, "www.example.org", p),
                     APR_ENOENT);
    ck_assert(!file_exists(store_file(dir, "www.example.org", "acme-tls-alpn-01-privkey.p-256.pem", p), p));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(dns01_program_calls)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p);
    md_challenge_setup_t ch = challenge("dns-01", "www.example.org", "tok-5", p);
    const char *txt = md_jws_dns01_txt(ch.key_authz, p);
    const char *env = "env MD_MDOMAIN=example.org MD_VERSION=" MD_VERSION;
    md_responder_t *r;

    r = dns01_hook(dir, "0", 1, "/var/md-store", p);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_str_eq(read_log(dir, p), apr_pstrcat(p, "setup www.example.org ", txt, "\n", env,
                                                   " MD_STORE=/var/md-store\n", "teardown www.example.org\n",
                                                   env, " MD_STORE=/var/md-store\n", NULL));
    r = dns01_hook(dir, "0", 2, NULL, p);
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_str_eq(read_log(dir, p), apr_pstrcat(p, "teardown www.example.org ", txt, "\n", env,
                                                   " MD_STORE=unset\n", NULL));
    /* through the handler: the MD's name comes first, teardown gets the value too, poll-setup exists */
    r = event_hook("dns-01", 1, dir, "0", 1, NULL, p);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(r->poll(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_str_eq(read_log(dir, p), apr_pstrcat(p,
        "setup example.org www.example.org ", txt, "\n", env, " MD_STORE=unset\n",
        "poll-setup example.org www.example.org ", txt, "\n", env, " MD_STORE=unset\n",
        "teardown example.org www.example.org ", txt, "\n", env, " MD_STORE=unset\n", NULL));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(http01_remote_calls)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p);
    md_challenge_setup_t ch = challenge("http-01", "www.example.org", "tok-6", p);
    const char *env = "env MD_MDOMAIN=example.org MD_VERSION=" MD_VERSION " MD_STORE=unset\n";
    md_responder_t *r = event_hook("http-01", 1, dir, "0", 1, NULL, p);

    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(r->poll(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(r->teardown(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_str_eq(read_log(dir, p), apr_pstrcat(p,
        "setup-http-01 example.org www.example.org tok-6 ", ch.key_authz, "\n", env,
        "poll-setup-http-01 example.org www.example.org tok-6 ", ch.key_authz, "\n", env,
        "teardown-http-01 example.org www.example.org tok-6\n", env, NULL));
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(dns01_exit_codes)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    const char *dir = md_test_mkdtemp(p);
    md_challenge_setup_t ch = challenge("dns-01", "www.example.org", "tok-7", p);
    md_responder_t *r;

    /* mod_md's dns-01 program: any failure is retried later; 76 asks for a poll */
    r = dns01_hook(dir, "75", 1, NULL, p);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_EAGAIN);
    ck_assert_int_eq(result->status, APR_EAGAIN);
    ck_assert_ptr_nonnull(strstr(result->detail, "(retry)"));
    r = dns01_hook(dir, "76", 1, NULL, p);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), MD_EPOLL);
    ck_assert_ptr_nonnull(strstr(result->detail, "(needs-poll)"));
    r = dns01_hook(dir, "3", 1, NULL, p);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_EAGAIN);
    ck_assert_ptr_nonnull(strstr(result->detail, "exit 3"));
    ck_assert_ptr_nonnull(strstr(result->detail, "dns-01 program setup www.example.org"));
    ck_assert_ptr_nonnull(strstr(result->detail, "line one from hook | line two"));
    /* the handler: 3 is a hard failure */
    r = event_hook("dns-01", 1, dir, "3", 1, NULL, p);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), MD_EHUMAN);
    ck_assert_int_eq(result->status, MD_EHUMAN);
    ck_assert_ptr_nonnull(strstr(result->detail, "exit 3 (failed)"));
    r = dns01_hook(dir, "0", 1, NULL, p);
    ck_assert_int_eq(r->setup(r->baton, &ch, result, p), APR_SUCCESS);
    ck_assert_int_eq(result->status, APR_SUCCESS);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_responder_suite(void)
{
    Suite *s = suite_create("responder");
    TCase *tc = tcase_create("responder");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, responder_set);
    tcase_add_test(tc, http01_serves_tokens);
    tcase_add_test(tc, http01_raw_requests);
    tcase_add_test(tc, http01_bind_errors);
    tcase_add_test(tc, webroot_files);
    tcase_add_test(tc, tlsalpn01_serves_certificates);
    tcase_add_test(tc, tlsalpn01_ip_identifiers);
    tcase_add_test(tc, store_http01);
    tcase_add_test(tc, store_tlsalpn01);
    tcase_add_test(tc, dns01_program_calls);
    tcase_add_test(tc, dns01_exit_codes);
    tcase_add_test(tc, http01_remote_calls);
    suite_add_tcase(s, tc);
    return s;
}
