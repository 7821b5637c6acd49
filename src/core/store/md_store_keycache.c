/* The store's cache of decoded private keys, found by the SHA-256 of their PEM text: a key the drive wrote or read
 * once is not decoded again (an encrypted key costs PBKDF2 and OpenSSL's decoder search, about a millisecond). */
#include <string.h>
#include <openssl/evp.h>
#include <apr_thread_mutex.h>

#include "md_pkey.h"
#include "md_store_fs_int.h"

struct md_store_keycache_t {
    apr_thread_mutex_t *lock;
    struct {
        unsigned char digest[32];
        EVP_PKEY *evp;            /* a reference of our own, NULL for a free slot */
        unsigned long used;
    } slot[MD_STORE_KEYCACHE_SLOTS];
    unsigned long tick;
};

static apr_status_t cache_free(void *baton)
{
    md_store_keycache_t *kc = baton;
    int i;

    for (i = 0; i < MD_STORE_KEYCACHE_SLOTS; ++i) {
        if (kc->slot[i].evp) EVP_PKEY_free(kc->slot[i].evp);
        kc->slot[i].evp = NULL;
    }
    return APR_SUCCESS;
}

md_store_keycache_t *md_store_fs__keycache_make(apr_pool_t *p)
{
    md_store_keycache_t *kc = apr_pcalloc(p, sizeof(*kc));

    if (apr_thread_mutex_create(&kc->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) return NULL;
    apr_pool_cleanup_register(p, kc, cache_free, apr_pool_cleanup_null);
    return kc;
}

static int digest_of(unsigned char digest[32], const char *pem, apr_size_t len)
{
    unsigned int n = 0;

    return EVP_Digest(pem, len, digest, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

md_pkey_t *md_store_fs__keycache_get(md_store_keycache_t *kc, const char *pem, apr_size_t len, apr_pool_t *p)
{
    unsigned char digest[32];
    EVP_PKEY *evp = NULL;
    int i;

    if (!kc || !digest_of(digest, pem, len)) return NULL;
    apr_thread_mutex_lock(kc->lock);
    for (i = 0; i < MD_STORE_KEYCACHE_SLOTS && !evp; ++i) {
        if (kc->slot[i].evp && !memcmp(kc->slot[i].digest, digest, sizeof(digest))
            && EVP_PKEY_up_ref(kc->slot[i].evp) == 1) {
            evp = kc->slot[i].evp;
            kc->slot[i].used = ++kc->tick;
        }
    }
    apr_thread_mutex_unlock(kc->lock);
    return evp ? md_pkey_wrap(evp, p) : NULL;
}

void md_store_fs__keycache_put(md_store_keycache_t *kc, const char *pem, apr_size_t len, const md_pkey_t *pkey)
{
    EVP_PKEY *evp = md_pkey_get_EVP_PKEY(pkey), *old;
    unsigned char digest[32];
    int i, victim = 0;

    if (!kc || !evp || !digest_of(digest, pem, len) || EVP_PKEY_up_ref(evp) != 1) return;
    apr_thread_mutex_lock(kc->lock);
    for (i = 0; i < MD_STORE_KEYCACHE_SLOTS; ++i) {
        if (kc->slot[i].evp && !memcmp(kc->slot[i].digest, digest, sizeof(digest))) {
            victim = i;       /* the same text again: take the newer key object */
            break;
        }
        if (!kc->slot[i].evp || kc->slot[i].used < kc->slot[victim].used) victim = i;
        if (!kc->slot[i].evp) break;
    }
    old = kc->slot[victim].evp;
    memcpy(kc->slot[victim].digest, digest, sizeof(digest));
    kc->slot[victim].evp = evp;
    kc->slot[victim].used = ++kc->tick;
    apr_thread_mutex_unlock(kc->lock);
    if (old) EVP_PKEY_free(old);
}
