/* E2E tool: register an ACME account at a CA with mdomain's keys, JWS and JSON; print key=value results. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include "md_data.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_pkey.h"
#include "md_result.h"

#define BAD_NONCE    "urn:ietf:params:acme:error:badNonce"
#define MAX_ATTEMPTS 20

/* One HTTP exchange: what was received. */
typedef struct {
    apr_pool_t *p;
    long status;
    const char *location;
    const char *nonce;
    const char *content_type;
    char *body;
    apr_size_t len;
    apr_size_t cap;
} resp_t;

typedef struct {
    apr_pool_t *p;
    const char *ca_file;
    const char *nonce;           /* the next nonce to use, NULL when none is at hand */
    const char *new_nonce_url;
    md_pkey_t *key;
    int requests;
    int bad_nonces;
} client_t;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "acme_register: %s: %s\n", what, detail ? detail : "(no detail)");
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *baton)
{
    resp_t *r = baton;
    apr_size_t n = size * nmemb;

    if (r->len + n + 1 > r->cap) {
        apr_size_t cap = (r->len + n + 1) * 2;
        char *grown = apr_palloc(r->p, cap);
        if (r->len) memcpy(grown, r->body, r->len);
        r->body = grown;
        r->cap = cap;
    }
    memcpy(r->body + r->len, ptr, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

/* The value of "Name: value\r\n" when line is that header, else NULL. */
static const char *header_value(const char *line, size_t len, const char *name, apr_pool_t *p)
{
    size_t nlen = strlen(name);
    const char *v, *end = line + len;

    if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen)) return NULL;
    v = line + nlen + 1;
    while (v < end && (*v == ' ' || *v == '\t')) ++v;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) --end;
    return apr_pstrmemdup(p, v, (apr_size_t)(end - v));
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *baton)
{
    resp_t *r = baton;
    size_t len = size * nmemb;
    const char *v;

    if ((v = header_value(line, len, "Location", r->p))) r->location = v;
    else if ((v = header_value(line, len, "Replay-Nonce", r->p))) r->nonce = v;
    else if ((v = header_value(line, len, "Content-Type", r->p))) r->content_type = v;
    return len;
}

/* Perform method on url (body NULL: no body). Returns 0 on a transport success, whatever the status. */
static int http_do(resp_t *r, client_t *c, const char *method, const char *url, const char *body)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    r->p = c->p;
    if (!curl) return -1;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "mdomain-e2e-acme_register");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    }
    else if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/jose+json");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    else fail(url, curl_easy_strerror(rc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    ++c->requests;
    if (r->nonce) c->nonce = r->nonce;
    return rc == CURLE_OK ? 0 : -1;
}

/* The response body as JSON, or NULL (with a message) when it is not JSON. */
static md_json_t *resp_json(const resp_t *r, const char *what, apr_pool_t *p)
{
    md_json_t *json = NULL;
    md_result_t *result = md_result_make(p);

    if (!r->body || md_json_readd(&json, r->body, r->len, what, result, p) != APR_SUCCESS) {
        fail(what, md_result_text(result, p));
        return NULL;
    }
    return json;
}

static int fetch_nonce(client_t *c)
{
    resp_t r;

    if (http_do(&r, c, "HEAD", c->new_nonce_url, NULL)) return -1;
    if ((r.status != 200 && r.status != 204) || !r.nonce) {
        fail("newNonce", apr_psprintf(c->p, "HTTP %ld, Replay-Nonce %s", r.status,
                                      r.nonce ? r.nonce : "missing"));
        return -1;
    }
    return 0;
}

/* POST a JWS over payload (NULL: POST-as-GET) to url, signed with the jwk or, when kid is given, the kid.
 * A badNonce answer is retried with the nonce it carried (or a fresh one). */
static int acme_post(resp_t *r, client_t *c, const char *url, const md_json_t *payload, const char *kid)
{
    md_data_t *data = payload ? md_data_from_str(md_json_writep(payload, MD_JSON_FMT_COMPACT, c->p), c->p)
                              : NULL;
    int attempt;

    for (attempt = 0; attempt < MAX_ATTEMPTS; ++attempt) {
        md_json_t *prot = md_json_create(c->p), *msg, *problem;
        apr_status_t rv;

        if (!c->nonce && fetch_nonce(c)) return -1;
        md_json_sets(c->nonce, prot, "nonce", NULL);
        md_json_sets(url, prot, "url", NULL);
        c->nonce = NULL;
        rv = md_jws_sign(&msg, data, prot, c->key, kid, c->p);
        if (rv != APR_SUCCESS) {
            fail("md_jws_sign", "signing failed");
            return -1;
        }
        if (http_do(r, c, "POST", url, md_json_writep(msg, MD_JSON_FMT_COMPACT, c->p))) return -1;
        if (r->status != 400 || !(problem = resp_json(r, url, c->p))) return 0;
        if (!md_json_gets(problem, "type", NULL) || strcmp(md_json_gets(problem, "type", NULL), BAD_NONCE))
            return 0;
        ++c->bad_nonces;
    }
    fail(url, "still badNonce after all attempts");
    return -1;
}

static int get_directory(md_json_t **pdir, client_t *c, const char *url)
{
    resp_t r;

    if (http_do(&r, c, "GET", url, NULL)) return -1;
    if (r.status != 200) {
        fail("directory", apr_psprintf(c->p, "HTTP %ld", r.status));
        return -1;
    }
    if (!(*pdir = resp_json(&r, "directory", c->p))) return -1;
    c->new_nonce_url = md_json_gets(*pdir, "newNonce", NULL);
    if (!c->new_nonce_url || !md_json_gets(*pdir, "newAccount", NULL)) {
        fail("directory", "no newNonce or newAccount");
        return -1;
    }
    return 0;
}

static void print_kv(const char *key, const char *value)
{
    printf("%s=%s\n", key, value ? value : "");
}

/* POST to url with payload and print <prefix>_http, <prefix>_url (Location) and <prefix>_status. */
static int step(resp_t *r, client_t *c, const char *prefix, const char *url, const md_json_t *payload,
                const char *kid)
{
    md_json_t *json;

    if (acme_post(r, c, url, payload, kid)) return -1;
    print_kv(apr_pstrcat(c->p, prefix, "_http", NULL), apr_ltoa(c->p, r->status));
    print_kv(apr_pstrcat(c->p, prefix, "_url", NULL), r->location);
    json = r->body && r->len ? resp_json(r, prefix, c->p) : NULL;
    print_kv(apr_pstrcat(c->p, prefix, "_status", NULL), json ? md_json_gets(json, "status", NULL) : NULL);
    if (json && md_json_gets(json, "type", NULL)) {
        print_kv(apr_pstrcat(c->p, prefix, "_problem", NULL), md_json_gets(json, "type", NULL));
        print_kv(apr_pstrcat(c->p, prefix, "_detail", NULL), md_json_gets(json, "detail", NULL));
    }
    return 0;
}

static int make_key(client_t *c, const char *key_type)
{
    md_pkey_spec_t *spec;
    const char *err = NULL;

    if (md_pkey_spec_parse(&spec, key_type, NULL, &err, c->p) != APR_SUCCESS) {
        fail(key_type, err);
        return -1;
    }
    if (md_pkey_gen(&c->key, spec, c->p) != APR_SUCCESS) {
        fail("md_pkey_gen", key_type);
        return -1;
    }
    print_kv("alg", md_jws_alg(c->key));
    return 0;
}

/* newAccount (jwk), newAccount onlyReturnExisting (jwk), POST-as-GET of the account (kid). */
static int run(client_t *c, const char *dir_url, const char *key_type, const char *contact)
{
    md_json_t *dir, *payload, *existing;
    const char *thumb = NULL, *new_account, *account_url;
    resp_t r;

    if (make_key(c, key_type) || get_directory(&dir, c, dir_url)) return -1;
    if (md_jwk_thumbprint(&thumb, c->key, c->p) == APR_SUCCESS) print_kv("thumbprint", thumb);
    new_account = md_json_gets(dir, "newAccount", NULL);
    payload = md_json_create(c->p);
    md_json_setb(1, payload, "termsOfServiceAgreed", NULL);
    md_json_adds(apr_pstrcat(c->p, "mailto:", contact, NULL), payload, "contact", NULL);
    if (step(&r, c, "new", new_account, payload, NULL)) return -1;
    if (r.status != 201 || !r.location) return -1;
    account_url = r.location;

    existing = md_json_create(c->p);
    md_json_setb(1, existing, "onlyReturnExisting", NULL);
    if (step(&r, c, "existing", new_account, existing, NULL)) return -1;
    if (step(&r, c, "kid", account_url, NULL, account_url)) return -1;
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    client_t c;
    int rc;

    if (argc != 5) {
        fprintf(stderr, "usage: %s DIRECTORY-URL CA-FILE KEY-TYPE(p256|p384|rsa2048) CONTACT-EMAIL\n",
                argv[0]);
        return 2;
    }
    apr_app_initialize(&argc, &argv, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    apr_pool_create(&p, NULL);
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.ca_file = argv[2];
    rc = run(&c, argv[1], argv[3], argv[4]);
    print_kv("requests", apr_itoa(p, c.requests));
    print_kv("bad_nonce_retries", apr_itoa(p, c.bad_nonces));
    print_kv("result", rc ? "error" : "ok");
    fflush(stdout);
    apr_pool_destroy(p);
    curl_global_cleanup();
    apr_terminate();
    return rc ? 1 : 0;
}
