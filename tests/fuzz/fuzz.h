/* What every fuzz target shares: APR set up once, a fresh pool per input, the input cut into parts, checks. */
#ifndef MD_FUZZ_H
#define MD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <apr_pools.h>

#include "md_cert.h"

/* libFuzzer's entry points. Each target defines LLVMFuzzerTestOneInput; fuzz.c defines LLVMFuzzerInitialize. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A pool for one input, made from the pool that lives as long as the process; destroy it at the end. */
apr_pool_t *fz_pool(void);

/* The input as it is left to read. */
typedef struct fz_input_t {
    const char *data;
    size_t len;
} fz_input_t;

fz_input_t fz_input(const uint8_t *data, size_t size);
/* A NUL-terminated copy of len bytes (inner NULs are kept: C string functions see only the first part). */
char *fz_strn(const char *data, size_t len, apr_pool_t *p);
/* The next byte (0 when the input is used up). */
unsigned int fz_byte(fz_input_t *in);
/* The text up to the next '\n' (not included), NULL when the input is used up. */
const char *fz_line(fz_input_t *in, apr_pool_t *p);
/* The text up to the next separator line "\n--\n" (not included), the rest when there is none; NULL when the
 * input is used up. Seeds use it to hand a target several parts, e.g. headers and a body. */
const char *fz_part(fz_input_t *in, size_t *plen, apr_pool_t *p);
/* The next part read as a PEM chain: 1 with its first certificate and that one's issuer (the second), 0 when the
 * part is missing or holds fewer than two certificates. */
int fz_cert_and_issuer(fz_input_t *in, const md_cert_t **pcert, const md_cert_t **pissuer, apr_pool_t *p);

/* A property of the code under test that must hold: when it does not, say which and abort (a crash for
 * libFuzzer, with the input saved). */
#define FZ_CHECK(cond) do { \
        if (!(cond)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); abort(); } \
    } while (0)

#endif
