/* Internals of the JSON wrapper shared by its source files: the node struct and path helpers. */
#ifndef MD_JSON_INT_H
#define MD_JSON_INT_H

#include <stdarg.h>
#include <jansson.h>

#include "md_json.h"

struct md_json_t {
    apr_pool_t *p;
    json_t *j;
};

/* Wrap j, taking over one reference; it is released with the pool. */
md_json_t *md_json__wrap(json_t *j, apr_pool_t *p);
/* The node at the key path in ap, or NULL. */
json_t *md_json__select(json_t *j, va_list ap);
/* The array at the key path in ap, created (with missing objects on the way) when absent; NULL when
 * something else is in the way. */
json_t *md_json__select_array(json_t *root, va_list ap);

#endif
