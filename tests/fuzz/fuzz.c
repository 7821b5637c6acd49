/* The fuzz targets' shared part: APR initialised once, per-input pools, input cutting and reading (see fuzz.h). */
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS) abort();
    /* Pools still alive at exit (what a target keeps for all inputs) are destroyed before the leak check runs:
     * what they own (keys, certificates) is not a leak. */
    atexit(apr_terminate);
    return 0;
}

apr_pool_t *fz_pool(void)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, root) != APR_SUCCESS) abort();
    return p;
}

fz_input_t fz_input(const uint8_t *data, size_t size)
{
    fz_input_t in;

    in.data = (const char *)data;
    in.len = size;
    return in;
}

char *fz_strn(const char *data, size_t len, apr_pool_t *p)
{
    char *s = apr_palloc(p, len + 1);

    if (len) memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

unsigned int fz_byte(fz_input_t *in)
{
    unsigned int b;

    if (!in->len) return 0;
    b = (unsigned char)in->data[0];
    ++in->data;
    --in->len;
    return b;
}

const char *fz_line(fz_input_t *in, apr_pool_t *p)
{
    const char *nl;
    const char *s;
    size_t n;

    if (!in->len) return NULL;
    nl = memchr(in->data, '\n', in->len);
    n = nl ? (size_t)(nl - in->data) : in->len;
    s = fz_strn(in->data, n, p);
    in->data += nl ? n + 1 : n;
    in->len -= nl ? n + 1 : n;
    return s;
}

const char *fz_part(fz_input_t *in, size_t *plen, apr_pool_t *p)
{
    static const char sep[] = "\n--\n";
    const size_t seplen = sizeof(sep) - 1;
    size_t i, n = in->len, skip = in->len;
    const char *s;

    if (!in->len) return NULL;
    for (i = 0; i + seplen <= in->len; ++i) {
        if (in->data[i] == '\n' && !memcmp(in->data + i, sep, seplen)) {
            n = i;
            skip = i + seplen;
            break;
        }
    }
    s = fz_strn(in->data, n, p);
    if (plen) *plen = n;
    in->data += skip;
    in->len -= skip;
    return s;
}

int fz_cert_and_issuer(fz_input_t *in, const md_cert_t **pcert, const md_cert_t **pissuer, apr_pool_t *p)
{
    apr_array_header_t *chain = NULL;
    const char *pem, *err = NULL;
    size_t len = 0;

    pem = fz_part(in, &len, p);
    if (!pem || md_cert_chain_from_pem(&chain, pem, len, &err, p) != APR_SUCCESS || chain->nelts < 2) return 0;
    *pcert = APR_ARRAY_IDX(chain, 0, const md_cert_t *);
    *pissuer = APR_ARRAY_IDX(chain, 1, const md_cert_t *);
    return 1;
}
