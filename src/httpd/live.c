/* Serving renewed certificates without a restart: a table in memory that httpd's processes share (made by the parent
 * before it forks), a certificate callback on each managed host's SSL_CTX (mod_ssl's init_server hook), and in each
 * child a cache of the set the registry says to serve, reloaded only when the table says something changed. */

/* The table has, per MD, two counters and a slot:
 *  - "staged": the watchdog (a child) adds 1 when the registry says a renewed set in staging/ may be served now
 *    (md_reg_live_staged_at). Children then read it from staging/, whose keys are encrypted with the store key they
 *    hold (they wrote them), exactly as before.
 *  - "seq" and the slot: the parent (root), and only it, writes the MD's active set there after an activation, by
 *    itself or by another server on the store (md_reg_live_active_id changed), as JSON with the PEMs; "seq" is a
 *    sequence lock (odd while it writes). Children that did not read the staged set in time, or were started later,
 *    or serve a set another server renewed, load it from there: no child ever reads a key in domains/.
 * A handshake looks at the two counters (two atomic loads) and, when they are what it saw last, serves what it has:
 * nothing (mod_ssl's certificates of the start) or the cached set (SSL_use_cert_and_key per key type).
 * OCSP stapling: where the host staples (MDStapling, or mod_ssl's SSLUseStapling), a process that loads a set primes
 * its certificates in the module's stapling set (mc->ocsp, ocsp.c), whose watchdog task fetches their responses, and
 * a status callback on the SSL_CTX, in front of mod_ssl's, staples them; mod_ssl knows only the certificates it
 * loaded at the start. Handshakes without status_request never reach it. */
#include <string.h>

#include <apu.h>
#include <apr_optional_hooks.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_rwlock.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "md.h"
#include "md_cert.h"
#include "md_json.h"
#include "md_reg_live.h"
#include "md_reg_ocsp.h"
#include "md_result.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

/* mod_ssl's optional hook, as httpd's mod_ssl_openssl.h declares it (Debian's apache2-dev does not ship that file);
 * mod_ssl runs it, by its name, for every server's SSL_CTX at startup. */
#define SSL_DECLARE(type) type
APR_DECLARE_EXTERNAL_HOOK(ssl, SSL, int, init_server, (server_rec *s, apr_pool_t *p, int is_proxy, SSL_CTX *ctx))

#define ACME_TLS_1 "acme-tls/1"
/* A slot holds one set as JSON: room per key type for a chain and a key, more for big RSA keys. */
#define SLOT_BASE 4096
#define SLOT_PER_KEY 16384

typedef struct {
    unsigned staged;          /* +1 (by the watchdog) when a renewed set in staging/ may be served */
    unsigned seq;             /* the slot's sequence lock: written by the parent alone, odd while it writes */
    unsigned len;             /* the JSON's length in the slot */
    unsigned size;            /* the slot's size */
    apr_size_t off;           /* the slot's offset from the table's start */
} live_md_t;

typedef struct {
    unsigned nmds;
    live_md_t md[];
} live_table_t;

/* One certificate as OpenSSL serves it (references of our own). */
typedef struct {
    X509 *x509;
    EVP_PKEY *pkey;
    STACK_OF(X509) *chain;    /* the issuers */
    unsigned char id[SHA_DIGEST_LENGTH];   /* its SHA-1, the id it has in the OCSP stapling set (as mod_ssl's) */
} live_cert_t;

typedef struct {
    char *id;                 /* md_reg_live_set_t's id */
    int staged;               /* read from staging/ */
    int unstapled;            /* certificates stapled here that had no OCSP response yet when it was loaded */
    int n;
    live_cert_t certs[];
} live_certs_t;

/* What a child serves for one MD. */
typedef struct {
    unsigned seen_staged, seen_seq;     /* the table's counters when it last looked */
    apr_thread_mutex_t *loading;        /* one thread reloads; the others serve what there is meanwhile */
    apr_thread_rwlock_t *lock;          /* guards set */
    live_certs_t *set;                  /* NULL: mod_ssl's certificates of the start */
} live_entry_t;

struct md_httpd_live_t {
    server_rec *s;
    md_mod_conf_t *mc;
    apr_shm_t *shm;
    live_table_t *table;
    live_entry_t *entries;              /* a child's, per MD (child_init; atomic: the watchdog's thread may run
                                         * before this module's child_init, live_entries) */
    char *stapled;                      /* per MD: its virtual host staples (MDStapling or SSLUseStapling), so its
                                         * live sets are stapled by this module (init_server, before the fork) */
};

/* A managed host's SSL_CTX with the status callback of this module, and the one mod_ssl had set (NULL: none). */
typedef struct {
    server_rec *s;
    int (*prev)(SSL *, void *);
    void *prev_arg;
} live_status_t;

static apr_size_t slot_size(const md_t *md)
{
    const md_pkey_spec_t *spec;
    apr_size_t size = SLOT_BASE;
    int i;

    for (i = 0; i < md->pks->nelts; ++i) {
        spec = APR_ARRAY_IDX(md->pks, i, const md_pkey_spec_t *);
        size += SLOT_PER_KEY + (spec->type == MD_PKEY_RSA ? spec->bits : 0);
    }
    return size;
}

apr_status_t md_httpd_live_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf)
{
    md_httpd_live_t *lv = apr_pcalloc(pconf, sizeof(*lv));
    md_reg_t *reg = md_reg_make(mc->store, NULL, pconf);
    apr_pool_t *ptemp = NULL;
    apr_size_t size, off;
    md_managed_t *m;
    apr_status_t rv;
    int i;

    mc->live = NULL;
    off = APR_ALIGN_DEFAULT(sizeof(live_table_t) + sizeof(live_md_t) * (apr_size_t)mc->mds->nelts);
    for (i = 0, size = off; i < mc->mds->nelts; ++i) {
        size += APR_ALIGN_DEFAULT(slot_size(APR_ARRAY_IDX(mc->mds, i, md_managed_t *)->md));
    }
    rv = apr_shm_create(&lv->shm, size, NULL, pconf);       /* anonymous: the children inherit it */
    if (rv == APR_SUCCESS) rv = apr_pool_create(&ptemp, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "cannot make %lu bytes of shared memory: renewed certificates "
                     "are served after the next restart only", (unsigned long)size);
        return rv;
    }
    lv->s = s;
    lv->mc = mc;
    lv->table = apr_shm_baseaddr_get(lv->shm);
    memset(lv->table, 0, off);
    lv->table->nmds = (unsigned)mc->mds->nelts;
    lv->stapled = apr_pcalloc(pconf, (apr_size_t)mc->mds->nelts + 1);
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        lv->table->md[i].off = off;
        lv->table->md[i].size = (unsigned)slot_size(m->md);
        off += APR_ALIGN_DEFAULT(slot_size(m->md));
        apr_pool_clear(ptemp);      /* the file names and stats of 1000 MDs: only the ids are kept */
        m->live_id = apr_pstrdup(pconf, md_reg_live_active_id(reg, m->md, ptemp));
    }
    apr_pool_destroy(ptemp);
    mc->live = lv;
    return APR_SUCCESS;
}

void md_httpd_live_staged(const md_mod_conf_t *mc, const md_managed_t *m)
{
    if (!mc->live || m->idx < 0 || (unsigned)m->idx >= mc->live->table->nmds) return;
    __atomic_add_fetch(&mc->live->table->md[m->idx].staged, 1, __ATOMIC_RELEASE);
}

apr_status_t md_httpd_live_publish(const md_mod_conf_t *mc, const md_managed_t *m, const md_reg_live_set_t *set,
                                   apr_pool_t *p)
{
    const char *json = md_json_writep(md_reg_live_to_json(set, p), MD_JSON_FMT_COMPACT, p);
    live_md_t *lm;
    unsigned seq;
    apr_size_t len = json ? strlen(json) : 0;

    if (!mc->live || m->idx < 0 || (unsigned)m->idx >= mc->live->table->nmds) return APR_ENOENT;
    lm = &mc->live->table->md[m->idx];
    if (!json || len > lm->size) return APR_ENOSPC;
    seq = __atomic_load_n(&lm->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&lm->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy((char *)mc->live->table + lm->off, json, len);
    __atomic_store_n(&lm->len, (unsigned)len, __ATOMIC_RELAXED);
    __atomic_store_n(&lm->seq, seq + 2, __ATOMIC_RELEASE);
    return APR_SUCCESS;
}

/* The parent's set in the slot, when seq is its stable sequence number: APR_EAGAIN when it is being written. */
static apr_status_t slot_read(md_reg_live_set_t **pset, md_httpd_live_t *lv, int idx, unsigned seq, apr_pool_t *p)
{
    live_md_t *lm = &lv->table->md[idx];
    unsigned len = __atomic_load_n(&lm->len, __ATOMIC_RELAXED);
    md_json_t *json = NULL;
    char *buf;

    *pset = NULL;
    if ((seq & 1) || len > lm->size) return APR_EAGAIN;
    buf = apr_palloc(p, (apr_size_t)len + 1);
    memcpy(buf, (char *)lv->table + lm->off, len);
    buf[len] = '\0';
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&lm->seq, __ATOMIC_RELAXED) != seq) return APR_EAGAIN;
    if (md_json_readd(&json, buf, len, "the live table", NULL, p) != APR_SUCCESS) return APR_EINVAL;
    return md_reg_live_from_json(pset, json, p);
}

static void certs_free(live_certs_t *set)
{
    int i;

    if (!set) return;
    for (i = 0; i < set->n; ++i) {
        X509_free(set->certs[i].x509);
        EVP_PKEY_free(set->certs[i].pkey);
        sk_X509_pop_free(set->certs[i].chain, X509_free);
    }
    free(set->id);
    free(set);
}

/* The registry's set as OpenSSL objects of our own (they outlive the pool it was read into). */
static live_certs_t *certs_make(const md_reg_live_set_t *rs)
{
    live_certs_t *set = calloc(1, sizeof(*set) + sizeof(live_cert_t) * (apr_size_t)rs->certs->nelts);
    const md_reg_live_cert_t *c;
    X509 *x;
    int i, j;

    if (!set || !(set->id = strdup(rs->id))) {
        free(set);
        return NULL;
    }
    set->staged = rs->group == MD_SG_STAGING;
    for (i = 0; i < rs->certs->nelts; ++i, ++set->n) {
        c = APR_ARRAY_IDX(rs->certs, i, const md_reg_live_cert_t *);
        set->certs[i].x509 = md_cert_get_X509(APR_ARRAY_IDX(c->chain, 0, md_cert_t *));
        X509_up_ref(set->certs[i].x509);
        X509_digest(set->certs[i].x509, EVP_sha1(), set->certs[i].id, NULL);
        set->certs[i].pkey = md_pkey_get_EVP_PKEY(c->pkey);
        EVP_PKEY_up_ref(set->certs[i].pkey);
        set->certs[i].chain = sk_X509_new_null();
        for (j = 1; set->certs[i].chain && j < c->chain->nelts; ++j) {
            x = md_cert_get_X509(APR_ARRAY_IDX(c->chain, j, md_cert_t *));
            if (sk_X509_push(set->certs[i].chain, x) > 0) X509_up_ref(x);
        }
    }
    return set;
}

/* What the table says now for the MD, read into a set: the staged one when the watchdog announced one and it may be
 * served (when the parent has just activated it, staging/ is gone and the active set is that one: read before the
 * parent publishes it), else the parent's when it published a new one. *pdone: the counters were read completely. */
static md_reg_live_set_t *reload_read(int *pdone, md_httpd_live_t *lv, live_entry_t *e, const md_managed_t *m,
                                      unsigned staged, unsigned seq, apr_pool_t *p)
{
    md_reg_t *reg = md_reg_make(lv->mc->store, NULL, p);
    md_reg_live_set_t *set = NULL;
    apr_status_t rv;

    *pdone = 1;
    if (staged != e->seen_staged) {
        md_reg_live_load(&set, reg, m->md, MD_SG_STAGING, lv->mc->activation_delay, md_result_make(p), p);
        if (!set && !md_store_exists(lv->mc->store, MD_SG_STAGING, m->md->name, NULL, p)) {
            md_reg_live_load(&set, reg, m->md, MD_SG_DOMAINS, lv->mc->activation_delay, md_result_make(p), p);
        }
    }
    if (!set && seq != e->seen_seq && seq != 0) {
        rv = slot_read(&set, lv, m->idx, seq, p);
        if (rv == APR_EAGAIN) *pdone = 0;
    }
    return set;
}

static void nothing_copied(const unsigned char *der, apr_size_t len, void *baton)
{
    (void)der;
    (void)len;
    (void)baton;
}

/* A set about to be served, stapled by this module when the MD's virtual host staples: the MD's earlier certificates
 * are no longer renewed, the new ones are (by the watchdog's OCSP task), their stored responses served when there. */
static void staple_prime(md_httpd_live_t *lv, const md_managed_t *m, live_certs_t *set,
                         const md_reg_live_set_t *rs)
{
    md_reg_ocsp_t *ocsp = lv->mc->ocsp;
    const md_reg_live_cert_t *c;
    const char *why = NULL;
    int i;

    if (!ocsp || !lv->stapled[m->idx]) return;
    md_reg_ocsp_retire(ocsp, m->md->name);
    for (i = 0; i < set->n; ++i) {
        c = APR_ARRAY_IDX(rs->certs, i, const md_reg_live_cert_t *);
        if (md_reg_ocsp_prime_chain(&why, ocsp, m->md, (const char *)set->certs[i].id, SHA_DIGEST_LENGTH, c->chain)
            != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, lv->s, "%s: no OCSP stapling for its new certificate: %s",
                         m->md->name, why ? why : "?");
        }
        else if (!md_reg_ocsp_get(ocsp, (const char *)set->certs[i].id, SHA_DIGEST_LENGTH, nothing_copied, NULL)) {
            set->unstapled++;
        }
    }
}

/* The child's entries once its child_init made them, else NULL. */
static live_entry_t *live_entries(md_httpd_live_t *lv)
{
    return __atomic_load_n(&lv->entries, __ATOMIC_ACQUIRE);
}

/* Reload the MD's set after the table changed (one thread at a time; the others go on with what there is). Returns
 * -1 when it loaded nothing, else how many of the loaded set's stapled certificates have no OCSP response yet. */
static int reload(md_httpd_live_t *lv, live_entry_t *e, const md_managed_t *m, unsigned staged, unsigned seq)
{
    md_reg_live_set_t *rs;
    live_certs_t *set = NULL, *old = NULL;
    apr_pool_t *p;
    int done, loaded = -1;

    if (apr_thread_mutex_trylock(e->loading) != APR_SUCCESS) return -1;
    apr_pool_create(&p, NULL);
    rs = reload_read(&done, lv, e, m, staged, seq, p);
    if (rs && (!e->set || strcmp(rs->id, e->set->id))) set = certs_make(rs);
    if (set) {
        staple_prime(lv, m, set, rs);
        loaded = set->unstapled;         /* set may be freed by another reload once the lock is released */
        apr_thread_rwlock_wrlock(e->lock);
        old = e->set;
        e->set = set;
        apr_thread_rwlock_unlock(e->lock);
        certs_free(old);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, lv->s, "%s: serving its %s certificates now (%s)", m->md->name,
                     set->staged ? "renewed" : "active", set->id);
    }
    __atomic_store_n(&e->seen_staged, staged, __ATOMIC_RELAXED);
    if (done) __atomic_store_n(&e->seen_seq, seq, __ATOMIC_RELAXED);
    apr_pool_destroy(p);
    apr_thread_mutex_unlock(e->loading);
    return loaded;
}

/* The MD of a handshake: the virtual host's only one, or the one covering the name the client asked for. */
static const md_managed_t *handshake_md(server_rec *s, SSL *ssl)
{
    md_srv_conf_t *sc = md_config_get(s);

    if (!sc->mds || sc->mds->nelts == 0) return NULL;
    if (sc->mds->nelts == 1) return APR_ARRAY_IDX(sc->mds, 0, const md_managed_t *);
    return md_config_md_for_host(sc, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), 1);
}

static int is_acme_tls_1(SSL *ssl)
{
    const unsigned char *proto = NULL;
    unsigned int len = 0;

    SSL_get0_alpn_selected(ssl, &proto, &len);
    return len == sizeof(ACME_TLS_1) - 1 && !memcmp(proto, ACME_TLS_1, len);
}

/* OpenSSL calls this in each full handshake, after SNI picked the virtual host (mod_ssl switched to its SSL_CTX):
 * the MD's current set replaces what mod_ssl loaded at the start. A tls-alpn-01 answer (TLS 1.3 chooses ALPN before
 * this) keeps mod_ssl's challenge certificate. Never fails a handshake: at worst the set of the start is served. */
static int cert_cb(SSL *ssl, void *arg)
{
    server_rec *s = arg;
    md_httpd_live_t *lv = md_config_get(s)->mc->live;
    const md_managed_t *m;
    live_entry_t *entries, *e;
    live_md_t *lm;
    unsigned staged, seq;
    int i;

    if (!lv || !(entries = live_entries(lv)) || !(m = handshake_md(s, ssl)) || m->cert_files->nelts
        || is_acme_tls_1(ssl)) {
        return 1;
    }
    e = &entries[m->idx];
    lm = &lv->table->md[m->idx];
    staged = __atomic_load_n(&lm->staged, __ATOMIC_ACQUIRE);
    seq = __atomic_load_n(&lm->seq, __ATOMIC_ACQUIRE);
    if (staged != __atomic_load_n(&e->seen_staged, __ATOMIC_RELAXED)
        || seq != __atomic_load_n(&e->seen_seq, __ATOMIC_RELAXED)) {
        reload(lv, e, m, staged, seq);
    }
    if (!__atomic_load_n(&e->set, __ATOMIC_RELAXED)) return 1;
    apr_thread_rwlock_rdlock(e->lock);
    SSL_certs_clear(ssl);
    for (i = 0; i < e->set->n; ++i) {
        SSL_use_cert_and_key(ssl, e->set->certs[i].x509, e->set->certs[i].pkey, e->set->certs[i].chain, 1);
    }
    apr_thread_rwlock_unlock(e->lock);
    return 1;
}

/* Whether x is a certificate of the live set this process serves for the handshake's MD. */
static int is_live_cert(md_httpd_live_t *lv, server_rec *s, SSL *ssl, X509 *x)
{
    const md_managed_t *m = handshake_md(s, ssl);
    live_entry_t *entries, *e;
    int i, found = 0;

    if (!m || !(entries = live_entries(lv))) return 0;
    e = &entries[m->idx];
    if (!__atomic_load_n(&e->set, __ATOMIC_RELAXED)) return 0;
    apr_thread_rwlock_rdlock(e->lock);
    for (i = 0; e->set && i < e->set->n && !found; ++i) found = e->set->certs[i].x509 == x;
    apr_thread_rwlock_unlock(e->lock);
    return found;
}

static void set_resp(const unsigned char *der, apr_size_t len, void *baton)
{
    unsigned char *copy = OPENSSL_malloc(len);

    if (!copy) return;
    memcpy(copy, der, len);
    SSL_set_tlsext_status_ocsp_resp((SSL *)baton, copy, (long)len);     /* OpenSSL frees it */
}

/* OpenSSL calls this in a full handshake whose client asked for the certificate's status (status_request), after the
 * certificate was chosen; never otherwise. The response this module keeps for the certificate served (one of the
 * start it staples, or one switched live by cert_cb) is stapled; a live certificate without one yet gets none; any
 * other goes to mod_ssl's own callback as before (SSLUseStapling, and its hooks). */
static int status_cb(SSL *ssl, void *arg)
{
    live_status_t *st = arg;
    md_mod_conf_t *mc = md_config_get(st->s)->mc;
    unsigned char id[SHA_DIGEST_LENGTH];
    X509 *x = SSL_get_certificate(ssl);

    if (x && mc->ocsp && X509_digest(x, EVP_sha1(), id, NULL) == 1
        && md_reg_ocsp_get(mc->ocsp, (const char *)id, sizeof(id), set_resp, ssl)) {
        return SSL_TLSEXT_ERR_OK;
    }
    if (x && mc->live && is_live_cert(mc->live, st->s, ssl, x)) return SSL_TLSEXT_ERR_NOACK;
    return st->prev ? st->prev(ssl, st->prev_arg) : SSL_TLSEXT_ERR_NOACK;
}

int md_httpd_live_announced(const md_mod_conf_t *mc, const md_managed_t *m)
{
    const live_md_t *lm;

    if (!mc->live || m->idx < 0 || (unsigned)m->idx >= mc->live->table->nmds) return 0;
    lm = &mc->live->table->md[m->idx];
    return __atomic_load_n(&lm->staged, __ATOMIC_RELAXED) || __atomic_load_n(&lm->seq, __ATOMIC_RELAXED);
}

int md_httpd_live_serves(const md_mod_conf_t *mc, const md_managed_t *m)
{
    return mc->live && mc->live->entries && __atomic_load_n(&mc->live->entries[m->idx].set, __ATOMIC_RELAXED);
}

/* mod_ssl, at startup, for each server with its SSL_CTX (after it loaded the certificates and set up its stapling):
 * managed hosts get the certificate callback, and when they staple (an MD with MDStapling, or mod_ssl's status
 * callback there: SSLUseStapling, or its hooks) the status callback that staples live sets too. */
static int live_init_server(server_rec *s, apr_pool_t *p, int is_proxy, SSL_CTX *ctx)
{
    md_srv_conf_t *sc = md_config_get(s);
    md_httpd_live_t *lv = sc->mc->live;
    int (*prev)(SSL *, void *) = NULL;
    live_status_t *st;
    const md_managed_t *m;
    int i, stapled = 0;

    if (is_proxy || !ctx || !lv || !sc->mds || sc->mds->nelts == 0) return DECLINED;
    SSL_CTX_set_cert_cb(ctx, cert_cb, s);
    SSL_CTX_get_tlsext_status_cb(ctx, &prev);
    for (i = 0; i < sc->mds->nelts; ++i) stapled |= APR_ARRAY_IDX(sc->mds, i, const md_managed_t *)->stapling > 0;
    if (!sc->mc->ocsp || !(stapled || prev)) return DECLINED;
    for (i = 0; i < sc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(sc->mds, i, const md_managed_t *);
        if (m->idx >= 0 && (unsigned)m->idx < lv->table->nmds) lv->stapled[m->idx] = 1;
    }
    if (prev == status_cb) return DECLINED;
    st = apr_pcalloc(p, sizeof(*st));
    st->s = s;
    st->prev = prev;
    SSL_CTX_get_tlsext_status_arg(ctx, &st->prev_arg);
    SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
    SSL_CTX_set_tlsext_status_arg(ctx, st);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "OCSP stapling of live certificates for %s (%s)",
                 s->server_hostname, prev ? "before mod_ssl's" : "mod_ssl has none");
    return DECLINED;
}

int md_httpd_live_sync(md_mod_conf_t *mc)
{
    md_httpd_live_t *lv = mc->live;
    const md_managed_t *m;
    live_entry_t *entries, *e;
    live_md_t *lm;
    unsigned staged, seq;
    int i, unstapled, n = 0;

    if (!lv || !(entries = live_entries(lv))) return 0;
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        if (!lv->stapled[m->idx] || m->cert_files->nelts) continue;
        e = &entries[m->idx];
        lm = &lv->table->md[m->idx];
        staged = __atomic_load_n(&lm->staged, __ATOMIC_ACQUIRE);
        seq = __atomic_load_n(&lm->seq, __ATOMIC_ACQUIRE);
        if (staged == __atomic_load_n(&e->seen_staged, __ATOMIC_RELAXED)
            && seq == __atomic_load_n(&e->seen_seq, __ATOMIC_RELAXED)) {
            continue;
        }
        if ((unstapled = reload(lv, e, m, staged, seq)) < 0) continue;
        ++n;
        if (unstapled) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, lv->s, "%s: its new certificates are served without a "
                         "stapled OCSP response until it is fetched (now, in the background)", m->md->name);
        }
    }
    return n;
}

static apr_status_t entries_free(void *baton)
{
    md_httpd_live_t *lv = baton;
    live_entry_t *entries = __atomic_exchange_n(&lv->entries, NULL, __ATOMIC_ACQ_REL);
    unsigned i;

    for (i = 0; entries && i < lv->table->nmds; ++i) certs_free(entries[i].set);
    return APR_SUCCESS;
}

static void live_child_init(apr_pool_t *pchild, server_rec *s)
{
    md_httpd_live_t *lv = md_config_get(s)->mc->live;
    live_entry_t *entries;
    unsigned i;

    if (!lv) return;
    entries = apr_pcalloc(pchild, sizeof(live_entry_t) * (lv->table->nmds + 1));
    for (i = 0; i < lv->table->nmds; ++i) {
        if (apr_thread_mutex_create(&entries[i].loading, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
            || apr_thread_rwlock_create(&entries[i].lock, pchild) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "cannot make the locks of the live certificates: this child "
                         "serves the certificates of the start");
            return;
        }
    }
    __atomic_store_n(&lv->entries, entries, __ATOMIC_RELEASE);
    apr_pool_cleanup_register(pchild, lv, entries_free, apr_pool_cleanup_null);
}

void md_httpd_live_hooks(void)
{
    ap_hook_child_init(live_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ssl, init_server, live_init_server, NULL, NULL, APR_HOOK_MIDDLE);
}
