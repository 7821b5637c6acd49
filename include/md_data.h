/* A plain byte buffer {data, len}: HTTP bodies, DER, file contents. */
#ifndef MD_DATA_H
#define MD_DATA_H

#include <apr_pools.h>

typedef struct md_data_t {
    const char *data;
    apr_size_t len;
} md_data_t;

md_data_t *md_data_make(const char *data, apr_size_t len, apr_pool_t *p);   /* copies */
md_data_t *md_data_from_str(const char *s, apr_pool_t *p);                  /* copies, without the NUL */

#endif
