/* JSON: a jansson wrapper tied to APR pools; typed get/set by key path, arrays, atomic file save. */
#ifndef MD_JSON_H
#define MD_JSON_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_info.h>

struct md_result_t;

typedef struct md_json_t md_json_t;

typedef enum {
    MD_JSON_TYPE_OBJECT, MD_JSON_TYPE_ARRAY, MD_JSON_TYPE_STRING, MD_JSON_TYPE_REAL,
    MD_JSON_TYPE_INT, MD_JSON_TYPE_BOOL, MD_JSON_TYPE_NULL,
} md_json_type_t;

typedef enum {
    MD_JSON_FMT_COMPACT,   /* one line, no spaces */
    MD_JSON_FMT_INDENT,    /* two-space indentation */
} md_json_fmt_t;

/* Key paths: every accessor takes a NULL-terminated list of object keys after the node, e.g.
 * md_json_gets(j, "ca", "urls", NULL). An empty path (just NULL) addresses the node itself.
 * Nodes returned by md_json_getj() share the underlying data with their parent. */

md_json_t *md_json_create(apr_pool_t *p);                 /* {} */
md_json_t *md_json_create_array(apr_pool_t *p);           /* [] */
md_json_t *md_json_clone(const md_json_t *json, apr_pool_t *p);   /* deep copy */
int md_json_equal(const md_json_t *a, const md_json_t *b);

md_json_t *md_json_getj(const md_json_t *json, ...) __attribute__((sentinel));
int md_json_has_key(const md_json_t *json, ...) __attribute__((sentinel));
int md_json_is(md_json_type_t type, const md_json_t *json, ...) __attribute__((sentinel));

/* Getters return the value at the path, or NULL / 0 when it is missing or of another type.
 * md_json_getl accepts integers and reals (truncated, clamped to the range of long long); md_json_getn both
 * as double. */
const char *md_json_gets(const md_json_t *json, ...) __attribute__((sentinel));
const char *md_json_dups(apr_pool_t *p, const md_json_t *json, ...) __attribute__((sentinel));
long long md_json_getl(const md_json_t *json, ...) __attribute__((sentinel));
double md_json_getn(const md_json_t *json, ...) __attribute__((sentinel));
int md_json_getb(const md_json_t *json, ...) __attribute__((sentinel));

/* Setters create missing intermediate objects; APR_EINVAL when a node on the path is not an object. */
apr_status_t md_json_sets(const char *value, md_json_t *json, ...) __attribute__((sentinel));
apr_status_t md_json_setl(long long value, md_json_t *json, ...) __attribute__((sentinel));
apr_status_t md_json_setn(double value, md_json_t *json, ...) __attribute__((sentinel));
apr_status_t md_json_setb(int value, md_json_t *json, ...) __attribute__((sentinel));
apr_status_t md_json_set_null(md_json_t *json, ...) __attribute__((sentinel));
/* Store a deep copy of value at the path. */
apr_status_t md_json_setj(const md_json_t *value, md_json_t *json, ...) __attribute__((sentinel));
/* Remove the key at the path; a missing key is success. */
apr_status_t md_json_del(md_json_t *json, ...) __attribute__((sentinel));

/* Arrays. md_json_count: number of elements of the array at the path (0 when missing). */
apr_size_t md_json_count(const md_json_t *json, ...) __attribute__((sentinel));
/* Element idx of the array at the path, or NULL. */
md_json_t *md_json_at(const md_json_t *json, apr_size_t idx, ...) __attribute__((sentinel));
/* Append to the array at the path (created when missing). */
apr_status_t md_json_adds(const char *value, md_json_t *json, ...) __attribute__((sentinel));
apr_status_t md_json_addj(const md_json_t *value, md_json_t *json, ...) __attribute__((sentinel));
/* A new array of at most max elements: a copy of value, then array's first elements (when it is an array), shared
 * with it, not copied (an activity log, newest first: one copy per entry instead of the whole log at each entry). */
md_json_t *md_json_prepend_capped(const md_json_t *value, const md_json_t *array, apr_size_t max, apr_pool_t *p);
/* The strings of the array at the path, appended to a (an array of const char*). */
apr_status_t md_json_getsa(apr_array_header_t *a, const md_json_t *json, ...) __attribute__((sentinel));
/* Set the array at the path to the strings of a (an array of const char*). */
apr_status_t md_json_setsa(const apr_array_header_t *a, md_json_t *json, ...) __attribute__((sentinel));

/* Iteration; a callback returns non-zero to continue, 0 to stop. Returns 0 when stopped early. */
typedef int md_json_itera_cb(void *baton, apr_size_t index, md_json_t *item);
int md_json_itera(md_json_itera_cb *cb, void *baton, const md_json_t *json, ...)
    __attribute__((sentinel));
typedef int md_json_iterkey_cb(void *baton, const char *key, md_json_t *value);
int md_json_iterkey(md_json_iterkey_cb *cb, void *baton, const md_json_t *json, ...)
    __attribute__((sentinel));

md_json_type_t md_json_type(const md_json_t *json);

/* Serialization. Keys keep insertion order; MD_JSON_FMT_COMPACT with sorted keys is md_json_write_sorted. */
const char *md_json_writep(const md_json_t *json, md_json_fmt_t fmt, apr_pool_t *p);
const char *md_json_write_sorted(const md_json_t *json, apr_pool_t *p);
/* Parse text. On failure returns APR_EINVAL and, when result is given, its detail names the source
 * (e.g. the file path), the line, the column and what is wrong. */
apr_status_t md_json_readd(md_json_t **pjson, const char *data, apr_size_t len, const char *source,
                           struct md_result_t *result, apr_pool_t *p);
apr_status_t md_json_readf(md_json_t **pjson, const char *fpath, struct md_result_t *result, apr_pool_t *p);
/* Save atomically with the given mode (see md_file_write_atomic). */
apr_status_t md_json_writef(const md_json_t *json, md_json_fmt_t fmt, const char *fpath,
                            apr_fileperms_t perms, apr_pool_t *p);

#endif
