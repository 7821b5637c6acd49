/* The store's cache of decoded private keys and certificate chains, found by the SHA-256 of their PEM text: what
 * the drive wrote or read once is not decoded again (an encrypted key costs PBKDF2 and OpenSSL's decoder search,
 * a certificate its public key's decoding: each about a millisecond). */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <apr_thread_mutex.h>

#include "md_cert.h"
#include "md_pkey.h"
#include "md_store_fs_int.h"

#define CHAIN_MAX 8     /* longer chains are not kept */

typedef struct {
    unsigned char digest[32];
    EVP_PKEY *evp;              /* a key: a reference of our own */
    X509 *certs[CHAIN_MAX];     /* or a chain: references of our own */
    int ncerts;
    unsigned long used;         /* 0: a free slot */
} slot_t;

struct md_store_cache_t {
    apr_thread_mutex_t *lock;
    slot_t slot[MD_STORE_CACHE_SLOTS];
    unsigned long tick;
};

static void slot_clear(slot_t *s)
{
    int i;

    if (s->evp) EVP_PKEY_free(s->evp);
    for (i = 0; i < s->ncerts; ++i) X509_free(s->certs[i]);
    memset(s, 0, sizeof(*s));
}

static apr_status_t cache_free(void *baton)
{
    md_store_cache_t *c = baton;
    int i;

    for (i = 0; i < MD_STORE_CACHE_SLOTS; ++i) slot_clear(&c->slot[i]);
    return APR_SUCCESS;
}

md_store_cache_t *md_store_fs__cache_make(apr_pool_t *p)
{
    md_store_cache_t *c = apr_pcalloc(p, sizeof(*c));

    if (apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) return NULL;
    apr_pool_cleanup_register(p, c, cache_free, apr_pool_cleanup_null);
    return c;
}

static int digest_of(unsigned char digest[32], const char *pem, apr_size_t len)
{
    unsigned int n = 0;

    return EVP_Digest(pem, len, digest, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

/* The slot for digest (locked), NULL when none. */
static slot_t *find(md_store_cache_t *c, const unsigned char *digest)
{
    int i;

    for (i = 0; i < MD_STORE_CACHE_SLOTS && c->slot[i].used; ++i) {
        if (!memcmp(c->slot[i].digest, digest, 32)) return &c->slot[i];
    }
    return NULL;
}

/* A slot to fill for digest (locked): its own, a free one or the least recently used, cleared. Free slots are
 * only ever at the end. */
static slot_t *claim(md_store_cache_t *c, const unsigned char *digest)
{
    slot_t *s = find(c, digest);
    int i, victim = 0;

    if (!s) {
        for (i = 0; i < MD_STORE_CACHE_SLOTS; ++i) {
            if (!c->slot[i].used) {
                victim = i;
                break;
            }
            if (c->slot[i].used < c->slot[victim].used) victim = i;
        }
        s = &c->slot[victim];
    }
    slot_clear(s);
    memcpy(s->digest, digest, 32);
    s->used = ++c->tick;
    return s;
}

md_pkey_t *md_store_fs__cache_get_pkey(md_store_cache_t *c, const char *pem, apr_size_t len, apr_pool_t *p)
{
    unsigned char digest[32];
    EVP_PKEY *evp = NULL;
    slot_t *s;

    if (!c || !digest_of(digest, pem, len)) return NULL;
    apr_thread_mutex_lock(c->lock);
    s = find(c, digest);
    if (s && s->evp && EVP_PKEY_up_ref(s->evp) == 1) {
        evp = s->evp;
        s->used = ++c->tick;
    }
    apr_thread_mutex_unlock(c->lock);
    return evp ? md_pkey_wrap(evp, p) : NULL;
}

void md_store_fs__cache_put_pkey(md_store_cache_t *c, const char *pem, apr_size_t len, const md_pkey_t *pkey)
{
    EVP_PKEY *evp = md_pkey_get_EVP_PKEY(pkey);
    unsigned char digest[32];

    if (!c || !evp || !digest_of(digest, pem, len) || EVP_PKEY_up_ref(evp) != 1) return;
    apr_thread_mutex_lock(c->lock);
    claim(c, digest)->evp = evp;
    apr_thread_mutex_unlock(c->lock);
}

apr_array_header_t *md_store_fs__cache_get_chain(md_store_cache_t *c, const char *pem, apr_size_t len,
                                                 apr_pool_t *p)
{
    unsigned char digest[32];
    X509 *certs[CHAIN_MAX];
    apr_array_header_t *chain = NULL;
    slot_t *s;
    int i, n = 0, complete = 0;

    if (!c || !digest_of(digest, pem, len)) return NULL;
    apr_thread_mutex_lock(c->lock);
    s = find(c, digest);
    if (s && s->ncerts > 0) {
        for (n = 0; n < s->ncerts && X509_up_ref(s->certs[n]) == 1; ++n) certs[n] = s->certs[n];
        complete = n == s->ncerts;      /* the slot is another's once unlocked */
        s->used = ++c->tick;
    }
    apr_thread_mutex_unlock(c->lock);
    if (n == 0) return NULL;
    chain = apr_array_make(p, n, sizeof(md_cert_t *));
    for (i = 0; i < n; ++i) APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(certs[i], p);
    if (!complete) return NULL;     /* a reference could not be taken: those taken are released with p */
    return chain;
}

void md_store_fs__cache_put_chain(md_store_cache_t *c, const char *pem, apr_size_t len,
                                  const apr_array_header_t *chain)
{
    unsigned char digest[32];
    slot_t *s;
    int i;

    if (!c || !chain || chain->nelts == 0 || chain->nelts > CHAIN_MAX || !digest_of(digest, pem, len)) return;
    apr_thread_mutex_lock(c->lock);
    s = claim(c, digest);
    for (i = 0; i < chain->nelts; ++i) {
        X509 *x = md_cert_get_X509(APR_ARRAY_IDX(chain, i, const md_cert_t *));
        if (!x || X509_up_ref(x) != 1) break;
        s->certs[s->ncerts++] = x;
    }
    if (s->ncerts != chain->nelts) slot_clear(s);
    apr_thread_mutex_unlock(c->lock);
}
