/* Plain byte buffers {data, len}. */
#include <string.h>
#include <apr_strings.h>

#include "md_data.h"

md_data_t *md_data_make(const char *data, apr_size_t len, apr_pool_t *p)
{
    md_data_t *d = apr_palloc(p, sizeof(*d));
    char *copy = apr_palloc(p, len + 1);

    if (len) memcpy(copy, data, len);
    copy[len] = '\0';
    d->data = copy;
    d->len = len;
    return d;
}

md_data_t *md_data_from_str(const char *s, apr_pool_t *p)
{
    return md_data_make(s, strlen(s), p);
}
