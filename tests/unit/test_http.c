/* Unit tests for the HTTP client: the libcurl backend against a tiny local server, response helpers,
 * and backend injection. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <apr_strings.h>
#include <openssl/ssl.h>

#include "md_http.h"
#include "../../src/core/http/md_http_curl_lib.h"
#include "md_uri.h"
#include "md_result.h"
#include "test_common.h"

/* A one-shot HTTP server on 127.0.0.1: answers one connection with a canned response. */
typedef struct {
    int listen_fd;
    int port;
    const char *response;     /* raw bytes to send */
    unsigned delay_ms;        /* wait before answering */
    char request[8192];       /* what the client sent */
    pthread_t thread;
} mini_server_t;

static size_t read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0, want = 0;
    ssize_t n;
    char *end, *cl;

    while (len + 1 < cap) {
        n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        cl = strcasestr(buf, "\r\nContent-Length:");
        want = (size_t)(end + 4 - buf) + (cl && cl < end ? (size_t)atol(cl + 17) : 0);
        if (len >= want) break;
    }
    buf[len] = '\0';
    return len;
}

static void *serve_one(void *baton)
{
    mini_server_t *srv = baton;
    int fd = accept(srv->listen_fd, NULL, NULL);

    if (fd < 0) return NULL;
    read_request(fd, srv->request, sizeof(srv->request));
    if (srv->delay_ms) usleep(srv->delay_ms * 1000);
    if (write(fd, srv->response, strlen(srv->response)) < 0) { /* the client may be gone */ }
    close(fd);
    return NULL;
}

static void server_start(mini_server_t *srv, const char *response, unsigned delay_ms)
{
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    int one = 1;

    memset(srv, 0, sizeof(*srv));
    srv->response = response;
    srv->delay_ms = delay_ms;
    srv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(srv->listen_fd, 0);
    setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(listen(srv->listen_fd, 4), 0);
    ck_assert_int_eq(getsockname(srv->listen_fd, (struct sockaddr *)&addr, &alen), 0);
    srv->port = ntohs(addr.sin_port);
    ck_assert_int_eq(pthread_create(&srv->thread, NULL, serve_one, srv), 0);
}

static void server_stop(mini_server_t *srv)
{
    shutdown(srv->listen_fd, SHUT_RDWR);
    pthread_join(srv->thread, NULL);
    close(srv->listen_fd);
}

static const char *server_url(mini_server_t *srv, const char *path, apr_pool_t *p)
{
    return apr_psprintf(p, "http://127.0.0.1:%d%s", srv->port, path);
}

START_TEST(curl_get_headers_and_body)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_http_response_t *resp;
    md_http_t *http;
    mini_server_t srv;

    server_start(&srv, "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                       "Replay-Nonce: abc123\r\nLink: <https://ca.test/dir>;rel=\"index\"\r\n"
                       "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}", 0);
    ck_assert_int_eq(md_http_create(&http, NULL, NULL, p), APR_SUCCESS);
    ck_assert_int_eq(md_http_get(&resp, http, server_url(&srv, "/dir", p), result, p), APR_SUCCESS);
    server_stop(&srv);
    ck_assert_int_eq(resp->status, 200);
    ck_assert_uint_eq(resp->body.len, 11);
    ck_assert_str_eq(resp->body.data, "{\"ok\":true}");
    ck_assert_str_eq(md_http_header(resp, "replay-nonce"), "abc123");
    ck_assert_str_eq(md_http_media_type(resp, p), "application/json");
    ck_assert_str_eq(APR_ARRAY_IDX(md_http_links(resp, "index", p), 0, const char *), "https://ca.test/dir");
    ck_assert_ptr_nonnull(strstr(srv.request, "GET /dir HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(srv.request, "User-Agent: mdomain/" MD_VERSION "\r\n"));
    md_test_pool_done(p);
}
END_TEST

START_TEST(curl_post_and_head)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_http_response_t *resp;
    md_http_t *http;
    mini_server_t srv;
    md_data_t body = { "{\"payload\":\"x\"}", 15 };

    ck_assert_int_eq(md_http_create(&http, NULL, NULL, p), APR_SUCCESS);
    server_start(&srv, "HTTP/1.1 201 Created\r\nLocation: /acct/1\r\nContent-Length: 2\r\n\r\n{}", 0);
    ck_assert_int_eq(md_http_post(&resp, http, server_url(&srv, "/new-acct", p), "application/jose+json",
                                  &body, result, p), APR_SUCCESS);
    server_stop(&srv);
    ck_assert_int_eq(resp->status, 201);
    ck_assert_str_eq(md_http_header(resp, "Location"), "/acct/1");
    ck_assert_ptr_nonnull(strstr(srv.request, "POST /new-acct HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(srv.request, "Content-Type: application/jose+json\r\n"));
    ck_assert_ptr_nonnull(strstr(srv.request, "\r\n\r\n{\"payload\":\"x\"}"));
    ck_assert_ptr_null(strstr(srv.request, "Expect:"));

    server_start(&srv, "HTTP/1.1 200 OK\r\nReplay-Nonce: n1\r\nContent-Length: 0\r\n\r\n", 0);
    ck_assert_int_eq(md_http_head(&resp, http, server_url(&srv, "/nonce", p), result, p), APR_SUCCESS);
    server_stop(&srv);
    ck_assert_str_eq(md_http_header(resp, "Replay-Nonce"), "n1");
    ck_assert_ptr_nonnull(strstr(srv.request, "HEAD /nonce HTTP/1.1\r\n"));
    md_test_pool_done(p);
}
END_TEST

START_TEST(curl_errors_are_explained)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_http_options_t opts;
    md_http_response_t *resp;
    md_http_t *http;
    mini_server_t srv;
    const char *url;

    memset(&opts, 0, sizeof(opts));
    opts.timeout = apr_time_from_msec(300);
    opts.max_body = 16;
    ck_assert_int_eq(md_http_create(&http, &opts, NULL, p), APR_SUCCESS);

    /* nobody listening: refused, and the URL is named */
    server_start(&srv, "", 0);
    url = server_url(&srv, "/", p);
    server_stop(&srv);
    ck_assert_int_eq(md_http_get(&resp, http, url, result, p), APR_ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(result->detail, url));

    /* too slow: time-out */
    server_start(&srv, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1500);
    ck_assert_int_eq(md_http_get(&resp, http, server_url(&srv, "/slow", p), result, p), APR_TIMEUP);
    server_stop(&srv);

    /* too large a body: refused */
    server_start(&srv, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n0123456789012345678901234567890123456789", 0);
    ck_assert_int_eq(md_http_get(&resp, http, server_url(&srv, "/big", p), result, p), APR_EINVAL);
    server_stop(&srv);
    ck_assert_ptr_nonnull(strstr(result->detail, "larger than 16 bytes"));

    /* not http(s) */
    ck_assert_int_eq(md_http_get(&resp, http, "file:///etc/passwd", result, p), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(result->detail, "file:///etc/passwd"));
    md_test_pool_done(p);
}
END_TEST

/* A one-shot TLS server presenting tests/unit/data/cert's leaf (issued by its intermediate). */
typedef struct {
    mini_server_t tcp;
    SSL_CTX *ctx;
} tls_server_t;

static void *tls_serve_one(void *baton)
{
    tls_server_t *srv = baton;
    int fd = accept(srv->tcp.listen_fd, NULL, NULL);
    SSL *ssl;

    if (fd < 0) return NULL;
    ssl = SSL_new(srv->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) SSL_shutdown(ssl);     /* the client is meant to give up in the handshake */
    SSL_free(ssl);
    close(fd);
    return NULL;
}

/* Listen on a free port and serve one TLS connection in a thread. */
static void tls_listen(tls_server_t *srv)
{
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    int one = 1;

    srv->tcp.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(srv->tcp.listen_fd, 0);
    setsockopt(srv->tcp.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(srv->tcp.listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(listen(srv->tcp.listen_fd, 4), 0);
    ck_assert_int_eq(getsockname(srv->tcp.listen_fd, (struct sockaddr *)&addr, &alen), 0);
    srv->tcp.port = ntohs(addr.sin_port);
    ck_assert_int_eq(pthread_create(&srv->tcp.thread, NULL, tls_serve_one, srv), 0);
}

static void tls_server_stop(tls_server_t *srv)
{
    shutdown(srv->tcp.listen_fd, SHUT_RDWR);
    pthread_join(srv->tcp.thread, NULL);
    close(srv->tcp.listen_fd);
}

/* A CA whose certificate does not verify, or roots that cannot be read: the result names the CA-file hint,
 * which each front-end words (MDCACertificateFile, --ca-file). */
START_TEST(curl_tls_verification_hints_ca_file)
{
    apr_pool_t *p = md_test_pool();
    md_result_t *result = md_result_make(p);
    md_http_options_t opts;
    md_http_response_t *resp;
    md_http_t *http;
    tls_server_t srv;
    apr_status_t rv;

    signal(SIGPIPE, SIG_IGN);      /* the server writes on after the client gave up (this test's own process) */
    memset(&opts, 0, sizeof(opts));
    opts.timeout = apr_time_from_sec(5);
    opts.ca_file = md_test_data("cert/other-root.pem", p);
    ck_assert_int_eq(md_http_create(&http, &opts, NULL, p), APR_SUCCESS);
    memset(&srv, 0, sizeof(srv));
    srv.ctx = SSL_CTX_new(TLS_server_method());
    ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(srv.ctx, md_test_data("cert/fullchain.pem", p)), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(srv.ctx, md_test_data("cert/leaf.key", p), SSL_FILETYPE_PEM), 1);
    tls_listen(&srv);
    rv = md_http_get(&resp, http, apr_psprintf(p, "https://127.0.0.1:%d/dir", srv.tcp.port), result, p);
    tls_server_stop(&srv);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_int_eq(result->hint, MD_HINT_CA_FILE);

    /* roots that cannot be read */
    opts.ca_file = "/nonexistent/roots.pem";
    ck_assert_int_eq(md_http_create(&http, &opts, NULL, p), APR_SUCCESS);
    tls_listen(&srv);
    rv = md_http_get(&resp, http, apr_psprintf(p, "https://127.0.0.1:%d/dir", srv.tcp.port), result, p);
    tls_server_stop(&srv);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_int_eq(result->hint, MD_HINT_CA_FILE);

    /* other failures name no such hint */
    ck_assert_int_eq(md_http_get(&resp, http, "file:///etc/passwd", result, p), APR_EINVAL);
    ck_assert_int_eq(result->hint, MD_HINT_NONE);
    SSL_CTX_free(srv.ctx);
    md_test_pool_done(p);
}
END_TEST

START_TEST(links_and_retry_after)
{
    apr_pool_t *p = md_test_pool();
    md_http_response_t resp;
    apr_array_header_t *links;
    apr_time_t now = apr_time_from_sec(1795428558);

    memset(&resp, 0, sizeof(resp));
    resp.url = "https://ca.test/acme/cert/1";
    resp.headers = apr_table_make(p, 4);
    apr_table_add(resp.headers, "Link", "<https://ca.test/alt/1>;rel=\"alternate\", </alt/2>; rel=alternate");
    apr_table_add(resp.headers, "link", "<https://ca.test/issuer>;rel=\"up\"");
    apr_table_add(resp.headers, "Link", "<other>;title=\"x\";rel=\"alternate index\"");
    links = md_http_links(&resp, "alternate", p);
    ck_assert_int_eq(links->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(links, 0, const char *), "https://ca.test/alt/1");
    ck_assert_str_eq(APR_ARRAY_IDX(links, 1, const char *), "https://ca.test/alt/2");
    ck_assert_str_eq(APR_ARRAY_IDX(links, 2, const char *), "https://ca.test/acme/cert/other");
    links = md_http_links(&resp, "up", p);
    ck_assert_int_eq(links->nelts, 1);
    ck_assert_int_eq(md_http_links(&resp, "none", p)->nelts, 0);

    ck_assert_int_eq(md_http_retry_after(&resp, now), 0);
    apr_table_set(resp.headers, "Retry-After", "120");
    ck_assert_int_eq(md_http_retry_after(&resp, now), now + apr_time_from_sec(120));
    apr_table_set(resp.headers, "Retry-After", "Mon, 23 Nov 2026 11:09:18 GMT");
    ck_assert_int_eq(md_http_retry_after(&resp, now), now + apr_time_from_sec(3600));
    apr_table_set(resp.headers, "Retry-After", "soon");
    ck_assert_int_eq(md_http_retry_after(&resp, now), 0);
    /* found by fuzzing (tests/fuzz, target http): now + 9223372036853 s overflowed; a wait longer than
     * MD_HTTP_RETRY_AFTER_MAX is cut to it, in both forms */
    apr_table_set(resp.headers, "Retry-After", "9223372036853");
    ck_assert_int_eq(md_http_retry_after(&resp, now), now + MD_HTTP_RETRY_AFTER_MAX);
    apr_table_set(resp.headers, "Retry-After", "31536000");
    ck_assert_int_eq(md_http_retry_after(&resp, now), now + MD_HTTP_RETRY_AFTER_MAX);
    apr_table_set(resp.headers, "Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT");
    ck_assert_int_eq(md_http_retry_after(&resp, now), now + MD_HTTP_RETRY_AFTER_MAX);
    apr_table_set(resp.headers, "Retry-After", "Thu, 01 Jan 1970 00:00:01 GMT");
    ck_assert_int_eq(md_http_retry_after(&resp, now), apr_time_from_sec(1));
    md_test_pool_done(p);
}
END_TEST

static apr_status_t fake_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                                 const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    int *calls = baton;
    md_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));

    (void)result;
    ++*calls;
    resp->url = req->url;
    resp->status = 418;
    resp->headers = apr_table_make(p, 1);
    apr_table_set(resp->headers, "X-Agent", opts->user_agent);
    *presp = resp;
    return APR_SUCCESS;
}

START_TEST(backend_injection)
{
    apr_pool_t *p = md_test_pool();
    int calls = 0;
    md_http_backend_t fake = { "fake", fake_perform, &calls };
    md_http_options_t opts;
    md_http_response_t *resp;
    md_http_t *http;

    memset(&opts, 0, sizeof(opts));
    opts.user_agent = "test-agent/1";
    ck_assert_int_eq(md_http_create(&http, &opts, &fake, p), APR_SUCCESS);
    ck_assert_int_eq(md_http_get(&resp, http, "https://ca.test/dir", NULL, p), APR_SUCCESS);
    ck_assert_int_eq(calls, 1);
    ck_assert_int_eq(resp->status, 418);
    ck_assert_str_eq(md_http_header(resp, "X-Agent"), "test-agent/1");
    ck_assert_int_eq(md_http_get_options(http)->timeout, apr_time_from_sec(60));
    md_test_pool_done(p);
}
END_TEST

/* URIs as MDCertificateAuthority and MDHttpProxy take them: what mod_md accepts passes, what it refuses fails with
 * its reason. */
START_TEST(uri_checks_as_mod_md)
{
    static const struct { const char *uri; const char *any; const char *http; int usable; } cases[] = {
        { "https://acme.example.org/dir", NULL, NULL, 1 },
        { "HTTPS://h/dir", NULL, NULL, 1 },
        { "https://[::1]:14000/dir", NULL, NULL, 1 },
        { "http://p.example.org:65535", NULL, NULL, 1 },
        { "ftp://ca.example.org/dir", NULL, "uri scheme must be http or https", 0 },
        { "mailto:x@y", NULL, "uri scheme must be http or https", 0 },
        { "https://", NULL, NULL, 0 },
        { "x", "missing uri scheme", "missing uri scheme", 0 },
        { "/dir", "missing uri scheme", "missing uri scheme", 0 },
        { "https:", "missing uri identifier", "missing uri identifier", 0 },
        { "https:x", "missing hostname", "missing hostname", 0 },
        { "https://a b/dir", "whitespace in uri", "whitespace in uri", 0 },
        { "https://x:abc/dir", "not an uri", "not an uri", 0 },
        { "https://a_b/dir", "invalid hostname", "invalid hostname", 0 },
        { "http://p:0", "invalid port", "invalid port", 0 },
        { "http://p:99999", "invalid port", "invalid port", 0 },
        { "http://p:", "invalid port", "invalid port", 0 },
    };
    apr_pool_t *p = md_test_pool();
    const char *got;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        got = md_uri_problem(cases[i].uri, p);
        ck_assert_msg(cases[i].any ? (got && !strcmp(got, cases[i].any)) : !got, "%s: %s", cases[i].uri,
                      got ? got : "fine");
        got = md_uri_http_problem(cases[i].uri, p);
        ck_assert_msg(cases[i].http ? (got && !strcmp(got, cases[i].http)) : !got, "http %s: %s", cases[i].uri,
                      got ? got : "fine");
        ck_assert_msg(md_uri_is_http(cases[i].uri, p) == cases[i].usable, "usable %s", cases[i].uri);
    }
    md_test_pool_done(p);
}
END_TEST

/* libcurl is loaded at the first request: a library that cannot be loaded is named in the error, the real one loads
 * with every function the backend calls. */
START_TEST(curl_library_loaded_or_named)
{
    md_curl_lib_t lib;
    char buf[512];
    const char *err;

    err = md_curl_lib_load(&lib, "libcurl-missing.so.99", buf, sizeof(buf));
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "libcurl cannot be loaded (libcurl-missing.so.99)") != NULL, "%s", err);
    ck_assert_ptr_null(lib.easy_perform);
    err = md_curl_lib_load(&lib, "libz.so.1", buf, sizeof(buf));     /* loads, but is no libcurl */
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "(libz.so.1): it has no curl_global_init") != NULL, "%s", err);
    err = md_curl_lib_load(&lib, MD_CURL_LIBRARY, buf, sizeof(buf));
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_ptr_nonnull(lib.global_init);
    ck_assert_ptr_nonnull(lib.slist_free_all);
    ck_assert_str_eq(lib.easy_strerror(CURLE_OK), "No error");
}
END_TEST

Suite *md_test_http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, curl_get_headers_and_body);
    tcase_add_test(tc, curl_post_and_head);
    tcase_add_test(tc, curl_errors_are_explained);
    tcase_add_test(tc, curl_tls_verification_hints_ca_file);
    tcase_add_test(tc, curl_library_loaded_or_named);
    tcase_add_test(tc, links_and_retry_after);
    tcase_add_test(tc, backend_injection);
    tcase_add_test(tc, uri_checks_as_mod_md);
    suite_add_tcase(s, tc);
    return s;
}
