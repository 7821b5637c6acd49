/* Challenge answers in the store's challenges/ (mod_md's layout): responders writing them, look-ups serving them. */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_pkey.h"
#include "md_result.h"
#include "md_store.h"
#include "md_responder.h"

/* A challenge certificate is only looked at while its challenge is validated. */
#define TLSALPN01_VALID apr_time_from_sec(7 * 24 * 3600)

typedef struct {
    md_store_t *store;
    const md_t *md;                  /* tls-alpn-01: its key types and acme-tls/1 names */
    md_responder_serves_cb *serves;  /* http-01: the front-end's say, NULL: all */
    void *serves_baton;
} store_resp_t;

static int http01_supports(void *baton, const char *type)
{
    (void)baton;
    return type && !strcmp(type, "http-01");
}

static int tlsalpn01_supports(void *baton, const char *type)
{
    (void)baton;
    return type && !strcmp(type, "tls-alpn-01");
}

static int http01_serves(void *baton, const char *domain)
{
    const store_resp_t *s = baton;

    return s->serves(s->serves_baton, domain);
}

static apr_status_t http01_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    const store_resp_t *s = baton;

    if (!ch->key_authz || !ch->domain) {
        md_result_printf(result, APR_EINVAL, "http-01: no key authorization for %s", ch->domain ? ch->domain : "?");
        return APR_EINVAL;
    }
    return md_store_save(s->store, MD_SG_CHALLENGES, ch->domain, MD_CHALLENGE_HTTP01_FILE, MD_SV_TEXT,
                         ch->key_authz, 0, result, p);
}

static apr_status_t http01_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                    apr_pool_t *p)
{
    const store_resp_t *s = baton;

    (void)result;
    return md_store_remove(s->store, MD_SG_CHALLENGES, ch->domain, MD_CHALLENGE_HTTP01_FILE, 1, p);
}

apr_status_t md_responder_store_http01(md_responder_t **presp, md_store_t *store, md_responder_serves_cb *serves,
                                       void *serves_baton, apr_pool_t *p)
{
    md_responder_t *r = apr_pcalloc(p, sizeof(*r));
    store_resp_t *s = apr_pcalloc(p, sizeof(*s));

    s->store = store;
    s->serves = serves;
    s->serves_baton = serves_baton;
    r->name = "store-http-01";
    r->supports = http01_supports;
    r->serves = serves ? http01_serves : NULL;
    r->setup = http01_setup;
    r->teardown = http01_teardown;
    r->baton = s;
    *presp = r;
    return APR_SUCCESS;
}

/* The file names of key type i: "acme-tls-alpn-01-privkey[.KEY].pem" and "acme-tls-alpn-01-pubcert[.KEY].pem". */
static void tlsalpn01_files(const char **pkey, const char **pcert, const md_t *md, int i, apr_pool_t *p)
{
    *pkey = apr_pstrcat(p, MD_CHALLENGE_TLSALPN01_PREFIX, md_pkey_aspect(md, i, p), NULL);
    *pcert = apr_pstrcat(p, MD_CHALLENGE_TLSALPN01_PREFIX, md_cert_aspect(md, i, p), NULL);
}

static int tlsalpn01_serves(void *baton, const char *domain)
{
    return md_acme_tls_1_has(((const store_resp_t *)baton)->md, domain);
}

/* One certificate and key per key type of the MD, as mod_md makes them: whichever a server picks answers. The key
 * first: a handshake finding the new certificate with the old key fails and is retried by the CA. */
static apr_status_t tlsalpn01_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                    apr_pool_t *p)
{
    const store_resp_t *s = baton;
    const char *kfile, *cfile;
    md_pkey_t *pkey;
    md_cert_t *cert;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; rv == APR_SUCCESS && i < s->md->pks->nelts; ++i) {
        tlsalpn01_files(&kfile, &cfile, s->md, i, p);
        rv = md_pkey_gen(&pkey, APR_ARRAY_IDX(s->md->pks, i, const md_pkey_spec_t *), p);
        if (rv == APR_SUCCESS) {
            rv = md_cert_make_tls_alpn_01(&cert, ch->domain, ch->key_authz, pkey, TLSALPN01_VALID, p);
        }
        if (rv != APR_SUCCESS) {
            md_result_printf(result, rv, "tls-alpn-01: cannot make the challenge certificate for %s", ch->domain);
            break;
        }
        rv = md_store_save(s->store, MD_SG_CHALLENGES, ch->domain, kfile, MD_SV_PKEY, pkey, 0, result, p);
        if (rv == APR_SUCCESS) {
            rv = md_store_save(s->store, MD_SG_CHALLENGES, ch->domain, cfile, MD_SV_CERT, cert, 0, result, p);
        }
    }
    return rv;
}

static apr_status_t tlsalpn01_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result,
                                       apr_pool_t *p)
{
    const store_resp_t *s = baton;
    const char *kfile, *cfile;
    apr_status_t rv = APR_SUCCESS, rv2;
    int i;

    (void)result;
    for (i = 0; i < s->md->pks->nelts; ++i) {
        tlsalpn01_files(&kfile, &cfile, s->md, i, p);
        rv2 = md_store_remove(s->store, MD_SG_CHALLENGES, ch->domain, cfile, 1, p);
        if (rv2 == APR_SUCCESS) rv2 = md_store_remove(s->store, MD_SG_CHALLENGES, ch->domain, kfile, 1, p);
        if (rv2 != APR_SUCCESS) rv = rv2;
    }
    return rv;
}

apr_status_t md_responder_store_tlsalpn01(md_responder_t **presp, md_store_t *store, const md_t *md, apr_pool_t *p)
{
    md_responder_t *r = apr_pcalloc(p, sizeof(*r));
    store_resp_t *s = apr_pcalloc(p, sizeof(*s));

    s->store = store;
    s->md = md;
    r->name = "store-tls-alpn-01";
    r->supports = tlsalpn01_supports;
    r->serves = tlsalpn01_serves;
    r->setup = tlsalpn01_setup;
    r->teardown = tlsalpn01_teardown;
    r->baton = s;
    *presp = r;
    return APR_SUCCESS;
}

/* A host as a store name: no path, no hidden file. */
static int host_ok(const char *host)
{
    return host && *host && host[0] != '.' && !strchr(host, '/') && !strchr(host, '\\');
}

const char *md_challenge_http01_lookup(md_store_t *store, const md_t *md, const char *host, const char *token,
                                       apr_pool_t *p)
{
    const char *text = NULL;
    apr_size_t tlen;

    if (!store || !token || !*token || strchr(token, '/') || !host_ok(host)) return NULL;
    if (!md_challenge_allowed(md, "http-01")) return NULL;     /* another server answers them */
    if (md_store_load((void **)&text, store, MD_SG_CHALLENGES, host, MD_CHALLENGE_HTTP01_FILE, MD_SV_TEXT, NULL,
                      p) != APR_SUCCESS || !text) {
        return NULL;
    }
    text = apr_pstrndup(p, text, strcspn(text, "\r\n \t"));
    tlen = strlen(token);
    if (strncmp(text, token, tlen) || text[tlen] != '.') return NULL;     /* another token's */
    return text;
}

/* The certificate file and its key file in challenges/HOST/, as PEM; APR_ENOENT when not both are there. */
static apr_status_t tlsalpn01_pair(const char **pcert_pem, const char **pkey_pem, md_store_t *store,
                                   const char *host, const char *cfile, const char *kfile, apr_pool_t *p)
{
    md_pkey_t *pkey = NULL;
    const char *cert_pem = NULL;
    apr_size_t len;
    apr_status_t rv;

    rv = md_store_load((void **)&cert_pem, store, MD_SG_CHALLENGES, host, cfile, MD_SV_TEXT, NULL, p);
    if (rv == APR_SUCCESS) {
        rv = md_store_load((void **)&pkey, store, MD_SG_CHALLENGES, host, kfile, MD_SV_PKEY, NULL, p);
    }
    if (rv == APR_SUCCESS) rv = md_pkey_to_pem(pkey_pem, &len, pkey, NULL, 0, p);
    if (rv == APR_SUCCESS) *pcert_pem = cert_pem;
    return rv;
}

/* "acme-tls-alpn-01-privkey..." for "acme-tls-alpn-01-pubcert...". */
static const char *key_file_for(const char *cfile, apr_pool_t *p)
{
    static const char pub[] = MD_CHALLENGE_TLSALPN01_PREFIX "pubcert";

    return apr_pstrcat(p, MD_CHALLENGE_TLSALPN01_PREFIX "privkey", cfile + sizeof(pub) - 1, NULL);
}

apr_status_t md_challenge_tlsalpn01_lookup(const char **pcert_pem, const char **pkey_pem, md_store_t *store,
                                           const md_t *md, const char *host, apr_pool_t *p)
{
    apr_array_header_t *files = NULL;
    const char *kfile, *cfile;
    int i;

    if (!store || !host_ok(host)) return APR_ENOENT;
    for (i = 0; md && i < md->pks->nelts; ++i) {     /* the MD's own key types first, in its order */
        tlsalpn01_files(&kfile, &cfile, md, i, p);
        if (tlsalpn01_pair(pcert_pem, pkey_pem, store, host, cfile, kfile, p) == APR_SUCCESS) return APR_SUCCESS;
    }
    if (md_store_list_aspects(&files, store, MD_SG_CHALLENGES, host, MD_CHALLENGE_TLSALPN01_PREFIX "pubcert*.pem",
                              p) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    for (i = 0; i < files->nelts; ++i) {                /* whatever another program wrote */
        cfile = APR_ARRAY_IDX(files, i, const char *);
        if (tlsalpn01_pair(pcert_pem, pkey_pem, store, host, cfile, key_file_for(cfile, p), p) == APR_SUCCESS) {
            return APR_SUCCESS;
        }
    }
    return APR_ENOENT;
}
