/* The startup memo: what the first of httpd's two configuration passes prepared in the store, reused by the second. */

/* At startup httpd reads its configuration twice in the same process, and pconf is cleared in between. Both
 * passes would sync 1000 md.json files, walk the store for ownership, load every certificate and check every
 * fallback: the second pass finds exactly what the first one left a moment before. So the first pass remembers
 * its results (what is usable, the fallbacks, what it activated) in process memory, keyed by a digest of the configuration (store directory, every MD as JSON,
 * static certificate files, activation delay), and the second pass takes them when the digest matches. The
 * memo is made only in the first pass at startup and used at most once: graceful restarts (no first pass) do
 * the whole setup, so they activate staged certificates as before. httpd unloads and reloads the module between
 * the passes, so the memo hangs on the process pool (userdata), not on a static variable. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>

#include <httpd.h>
#include <http_log.h>

#include "md.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store.h"
#include "md_httpd.h"

APLOG_USE_MODULE(mdomain);

typedef struct {
    apr_pool_t *pool;                  /* a child of the process pool, destroyed when the memo is used */
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len;
    int nmds;
    unsigned *usable;                  /* per MD, in the configuration's order */
    char *activated;                   /* per MD: its staged set was activated by the first pass */
    const char **fallback_certs;       /* per MD, or NULL */
    const char **set_problems;         /* per MD, or NULL */
    const char *fallback_key;
} startup_memo_t;

#define MEMO_KEY "mdomain-startup-memo"

static startup_memo_t *memo_get(server_rec *s)
{
    void *memo = NULL;

    apr_pool_userdata_get(&memo, MEMO_KEY, s->process->pool);
    return memo;
}

static void memo_drop(server_rec *s)
{
    startup_memo_t *memo = memo_get(s);

    apr_pool_userdata_set(NULL, MEMO_KEY, NULL, s->process->pool);
    if (memo) apr_pool_destroy(memo->pool);
}

static int digest_add(EVP_MD_CTX *ctx, const char *text)
{
    return text && EVP_DigestUpdate(ctx, text, strlen(text) + 1) == 1;
}

/* SHA-256 over everything of the configuration that the store setup depends on; 0 when it cannot be made. Each MD's
 * JSON lives in a pool cleared after it: 1000 of them at once (about 5 MB of jansson's malloc) would stay as holes
 * in the heap that httpd's processes keep, since mod_ssl allocates above them in the same pass. */
static unsigned int config_digest(unsigned char *out, const md_mod_conf_t *mc, apr_pool_t *p)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const md_managed_t *m;
    apr_pool_t *one = NULL;
    unsigned int len = 0;
    int i, ok;

    ok = ctx && apr_pool_create(&one, p) == APR_SUCCESS && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
         && digest_add(ctx, mc->store_dir)
         && digest_add(ctx, apr_psprintf(one, "%" APR_TIME_T_FMT " %d", mc->activation_delay, mc->mds->nelts));
    for (i = 0; ok && i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        apr_pool_clear(one);
        ok = digest_add(ctx, apr_psprintf(one, "%d", m->cert_files->nelts))
             && digest_add(ctx, md_json_writep(md_to_json(m->md, one), MD_JSON_FMT_COMPACT, one));
    }
    if (ok && EVP_DigestFinal_ex(ctx, out, &len) != 1) len = 0;
    EVP_MD_CTX_free(ctx);
    if (one) apr_pool_destroy(one);
    return ok ? len : 0;
}

void md_httpd_startup_remember(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *ptemp)
{
    startup_memo_t *memo;
    apr_pool_t *pool;
    const md_managed_t *m;
    int i;

    memo_drop(s);
    if (apr_pool_create(&pool, s->process->pool) != APR_SUCCESS) return;
    memo = apr_pcalloc(pool, sizeof(*memo));
    memo->pool = pool;
    memo->digest_len = config_digest(memo->digest, mc, ptemp);
    memo->nmds = mc->mds->nelts;
    memo->usable = apr_pcalloc(pool, sizeof(unsigned) * ((apr_size_t)memo->nmds + 1));
    memo->activated = apr_pcalloc(pool, (apr_size_t)memo->nmds + 1);
    memo->fallback_certs = apr_pcalloc(pool, sizeof(const char *) * ((apr_size_t)memo->nmds + 1));
    memo->set_problems = apr_pcalloc(pool, sizeof(const char *) * ((apr_size_t)memo->nmds + 1));
    memo->fallback_key = mc->fallback_key ? apr_pstrdup(pool, mc->fallback_key) : NULL;
    for (i = 0; i < memo->nmds; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, const md_managed_t *);
        memo->usable[i] = m->usable;
        memo->activated[i] = (char)(m->activated != 0);
        memo->fallback_certs[i] = m->fallback_cert ? apr_pstrdup(pool, m->fallback_cert) : NULL;
        memo->set_problems[i] = m->set_problem ? apr_pstrdup(pool, m->set_problem) : NULL;
    }
    if (memo->digest_len) apr_pool_userdata_set(memo, MEMO_KEY, NULL, s->process->pool);
    else apr_pool_destroy(pool);
}

/* True when the memo was made for this configuration. */
static int memo_matches(const startup_memo_t *memo, const md_mod_conf_t *mc, apr_pool_t *p)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len;

    if (!memo || memo->nmds != mc->mds->nelts) return 0;
    len = config_digest(digest, mc, p);
    return len && len == memo->digest_len && !memcmp(digest, memo->digest, len);
}

/* The memo's results into this pass's configuration (pconf lives until the next restart). */
static void memo_apply(const startup_memo_t *memo, md_mod_conf_t *mc, apr_pool_t *pconf)
{
    md_managed_t *m;
    int i;

    mc->fallback_key = memo->fallback_key ? apr_pstrdup(pconf, memo->fallback_key) : NULL;
    for (i = 0; i < mc->mds->nelts; ++i) {
        m = APR_ARRAY_IDX(mc->mds, i, md_managed_t *);
        m->usable = memo->usable[i];
        m->activated = memo->activated[i];
        m->fallback_cert = memo->fallback_certs[i] ? apr_pstrdup(pconf, memo->fallback_certs[i]) : NULL;
        m->set_problem = memo->set_problems[i] ? apr_pstrdup(pconf, memo->set_problems[i]) : NULL;
    }
}

int md_httpd_startup_recall(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp)
{
    md_result_t *result = md_result_make(ptemp);
    startup_memo_t *memo = memo_get(s);
    int applied = 0;

    if (!memo) return 0;
    if (memo_matches(memo, mc, ptemp)
        && md_store_fs_open(&mc->store, mc->store_dir, result, s->process->pconf) == APR_SUCCESS) {
        md_httpd_store_readers(mc);
        memo_apply(memo, mc, s->process->pconf);
        applied = 1;
    }
    memo_drop(s);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "store setup of the first configuration pass %s", applied
                 ? "reused" : "not reused (the configuration differs): doing it again");
    return applied;
}
