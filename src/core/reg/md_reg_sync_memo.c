/* The sync's memo (tmp/md-state.memo): per MD, what its state was at the last start when it was complete, with a
 * digest of everything that state was computed from (the MD as configured, the state options, the identity of
 * md.json, of each certificate and key file and of staging/NAME/job.json). An MD whose digest is unchanged and whose
 * certificates are all still inside their validity is complete and served as it was: the next start neither reads
 * its md.json nor decodes its certificates and keys (OpenSSL 3.0 decodes each certificate's public key through its
 * decoder framework: most of a start's own CPU with 1000 MDs). A file replaced (a new inode), rewritten (size,
 * mtime) or gone changes the digest; a memo that cannot be read is none. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "md.h"
#include "md_cert.h"
#include "md_encode.h"
#include "md_file.h"
#include "md_store.h"
#include "md_reg_int.h"

#define MEMO_FILE "md-state.memo"
#define MEMO_FORMAT "md-state-memo 1"    /* first line; a memo of another format is ignored */

struct md_reg_memo_t {
    apr_pool_t *p;
    apr_hash_t *old;            /* name -> its line as read ("NAME DIGEST N NB NA..."), without the newline */
    apr_array_header_t *lines;  /* const char*: the memo to write, a line per complete MD */
    const char *text;           /* the memo as read, "" when there was none */
};

/* "INO SIZE MTIME_NS" of a file, "-" when it is not there (or cannot be told). */
static const char *file_id(md_store_t *store, md_store_group_t group, const char *name, const char *aspect,
                           apr_pool_t *p)
{
    const char *path = NULL;
    struct stat st;

    if (md_store_get_fname(&path, store, group, name, aspect, p) != APR_SUCCESS || lstat(path, &st) != 0) return "-";
    return apr_psprintf(p, "%" APR_UINT64_T_FMT " %" APR_UINT64_T_FMT " %" APR_UINT64_T_FMT,
                        (apr_uint64_t)st.st_ino, (apr_uint64_t)st.st_size,
                        (apr_uint64_t)st.st_mtim.tv_sec * 1000000000u + (apr_uint64_t)st.st_mtim.tv_nsec);
}

/* The digest of what md's state is computed from; NULL when it cannot be made. */
static const char *memo_digest(md_reg_t *reg, const md_t *md, const md_reg_state_opts_t *o, apr_pool_t *p)
{
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const char *text;
    int k;

    text = apr_psprintf(p, "%s|%s|%d|%" APR_INT64_T_FMT "|md.json %s|job.json %s", MD_VERSION, md_digest(md, p),
                        o->check_keys, (apr_int64_t)o->activation_delay,
                        file_id(reg->store, MD_SG_DOMAINS, md->name, "md.json", p),
                        file_id(reg->store, MD_SG_STAGING, md->name, "job.json", p));
    for (k = 0; k < md->pks->nelts; ++k) {
        text = apr_psprintf(p, "%s|%s %s|%s %s", text, md_cert_aspect(md, k, p),
                            file_id(reg->store, MD_SG_DOMAINS, md->name, md_cert_aspect(md, k, p), p),
                            md_pkey_aspect(md, k, p),
                            file_id(reg->store, MD_SG_DOMAINS, md->name, md_pkey_aspect(md, k, p), p));
    }
    if (!EVP_Digest(text, strlen(text), dig, &len, EVP_sha256(), NULL)) return NULL;
    return md_hex_encode(dig, len, 0, p);
}

md_reg_memo_t *md_reg__memo_read(md_reg_t *reg, apr_pool_t *p)
{
    md_reg_memo_t *memo = apr_pcalloc(p, sizeof(*memo));
    const char *path = NULL;
    char *data = NULL, *line, *next, name[256];
    apr_size_t len = 0;

    memo->p = p;
    memo->old = apr_hash_make(p);
    memo->lines = apr_array_make(p, 64, sizeof(const char *));
    memo->text = "";
    if (md_store_get_fname(&path, reg->store, MD_SG_TMP, NULL, MEMO_FILE, p) != APR_SUCCESS
        || md_file_read(&data, &len, path, p) != APR_SUCCESS) return memo;
    memo->text = apr_pstrmemdup(p, data, len);
    if (strncmp(data, MEMO_FORMAT "\n", sizeof(MEMO_FORMAT))) return memo;
    for (line = data + sizeof(MEMO_FORMAT); *line; line = next) {
        next = strchr(line, '\n');
        if (!next) break;                   /* a line is only whole with its newline */
        *next++ = '\0';
        if (sscanf(line, "%255s ", name) == 1) apr_hash_set(memo->old, apr_pstrdup(p, name), APR_HASH_KEY_STRING, line);
    }
    return memo;
}

/* The line's validity windows all hold now, and there is one per key type: n NB NA NB NA ... after the digest. */
static int windows_hold(const char *rest, int n, apr_time_t now)
{
    long long nb, na;
    int count = 0, used = 0, k;

    if (sscanf(rest, " %d%n", &count, &used) != 1 || count != n) return 0;
    rest += used;
    for (k = 0; k < n; ++k) {
        if (sscanf(rest, " %lld %lld%n", &nb, &na, &used) != 2 || nb > now || now >= na) return 0;
        rest += used;
    }
    return 1;
}

int md_reg__memo_hit(md_reg_memo_t *memo, md_reg_t *reg, const md_t *md, const md_reg_state_opts_t *o,
                     apr_pool_t *ptemp)
{
    const char *line = apr_hash_get(memo->old, md->name, APR_HASH_KEY_STRING), *digest;
    size_t nlen = strlen(md->name);

    if (!line || !md->pks || md->pks->nelts <= 0) return 0;
    digest = memo_digest(reg, md, o, ptemp);
    if (!digest || strncmp(line + nlen + 1, digest, strlen(digest)) || line[nlen + 1 + strlen(digest)] != ' '
        || !windows_hold(line + nlen + 1 + strlen(digest), md->pks->nelts, md_reg_now(reg))) return 0;
    APR_ARRAY_PUSH(memo->lines, const char *) = line;
    return 1;
}

void md_reg__memo_note(md_reg_memo_t *memo, md_reg_t *reg, const md_t *md, const md_reg_state_opts_t *o,
                       const md_reg_state_t *st, apr_pool_t *ptemp)
{
    const char *digest, *line;
    const md_reg_cert_t *c;
    int k;

    if (st->is_static || st->state != MD_S_COMPLETE || !st->complete || st->file_problem || !md->pks
        || st->certs->nelts != md->pks->nelts || strpbrk(md->name, " \t\n")) return;
    for (k = 0; k < st->certs->nelts; ++k) {
        c = APR_ARRAY_IDX(st->certs, k, const md_reg_cert_t *);
        if (!c->cert || !c->usable || !c->covers || !c->key_ok || c->file_problem
            || !md_cert_is_valid_at(c->cert, st->now)) return;
    }
    if (!(digest = memo_digest(reg, md, o, ptemp))) return;
    line = apr_psprintf(memo->p, "%s %s %d", md->name, digest, st->certs->nelts);
    for (k = 0; k < st->certs->nelts; ++k) {
        c = APR_ARRAY_IDX(st->certs, k, const md_reg_cert_t *);
        line = apr_psprintf(memo->p, "%s %" APR_INT64_T_FMT " %" APR_INT64_T_FMT, line,
                            (apr_int64_t)md_cert_get_not_before(c->cert), (apr_int64_t)md_cert_get_not_after(c->cert));
    }
    APR_ARRAY_PUSH(memo->lines, const char *) = line;
}

void md_reg__memo_write(md_reg_memo_t *memo, md_reg_t *reg, apr_pool_t *p)
{
    const char *path = NULL, *text;

    text = memo->lines->nelts ? apr_pstrcat(p, MEMO_FORMAT "\n", apr_array_pstrcat(p, memo->lines, '\n'), "\n", NULL)
                              : "";
    if (!strcmp(text, memo->text)
        || md_store_get_fname(&path, reg->store, MD_SG_TMP, NULL, MEMO_FILE, p) != APR_SUCCESS) return;
    /* worthless after a crash (a lost memo costs one slower start), so not flushed; only root's start reads it */
    md_file_write_atomic_nosync(path, text, strlen(text), MD_FPERMS_SECRET, p);
}
