/* Chain tails (the issuers after a chain's first certificate) parsed once per process, as the CA repeats them. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>

#include "md_cert.h"
#include "md_crypt_int.h"

/* A CA sends the same intermediates with every certificate; a drive of N MDs parsed them N times (parsing a
 * certificate is mostly OpenSSL 3's decoder set-up for its public key). The same bytes give the same
 * certificates, so a tail read before is taken again, each X509 with a new reference. A few tails are kept
 * (a CA with a few chains, a few CAs), the oldest replaced. */
#define TAILS       4
#define TAIL_MAX    (64 * 1024)     /* bytes: a longer tail is not kept */
#define TAIL_CERTS  8               /* certificates: a longer tail is not kept */

typedef struct {
    char *pem;
    size_t len;
    X509 *certs[TAIL_CERTS];
    int ncerts;
} tail_t;

static tail_t tails[TAILS];
static unsigned int next_slot;
static pthread_mutex_t tails_lock = PTHREAD_MUTEX_INITIALIZER;

int md_crypt__tail_take(apr_array_header_t *chain, const char *pem, size_t len, apr_pool_t *p)
{
    X509 *found[TAIL_CERTS];
    int i, j, n = 0;

    if (len == 0 || len > TAIL_MAX) return 0;
    pthread_mutex_lock(&tails_lock);
    for (i = 0; i < TAILS && n == 0; ++i) {
        if (tails[i].pem && tails[i].len == len && !memcmp(tails[i].pem, pem, len)) {
            for (j = 0; j < tails[i].ncerts; ++j) {
                X509_up_ref(tails[i].certs[j]);
                found[n++] = tails[i].certs[j];
            }
        }
    }
    pthread_mutex_unlock(&tails_lock);
    for (j = 0; j < n; ++j) APR_ARRAY_PUSH(chain, md_cert_t *) = md_cert_wrap(found[j], p);
    return n > 0;
}

void md_crypt__tail_keep(const char *pem, size_t len, const apr_array_header_t *chain, int from)
{
    tail_t t, old;
    int j;

    if (len == 0 || len > TAIL_MAX || from >= chain->nelts || chain->nelts - from > TAIL_CERTS) return;
    memset(&t, 0, sizeof(t));
    if (!(t.pem = malloc(len))) return;
    memcpy(t.pem, pem, len);
    t.len = len;
    for (j = from; j < chain->nelts; ++j) {
        t.certs[t.ncerts] = md_cert_get_X509(APR_ARRAY_IDX(chain, j, const md_cert_t *));
        X509_up_ref(t.certs[t.ncerts++]);
    }
    pthread_mutex_lock(&tails_lock);
    old = tails[next_slot];
    tails[next_slot] = t;
    next_slot = (next_slot + 1) % TAILS;
    pthread_mutex_unlock(&tails_lock);
    for (j = 0; j < old.ncerts; ++j) X509_free(old.certs[j]);
    free(old.pem);
}
