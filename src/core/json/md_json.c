/* JSON: a jansson wrapper whose nodes are tied to APR pools; typed access by key path. */
#include <limits.h>
#include <string.h>
#include <apr_strings.h>

#include "md_file.h"
#include "md_json.h"
#include "md_result.h"

#include "md_json_int.h"

#define MD_JSON_PATH_MAX 32

static apr_status_t json_cleanup(void *data)
{
    md_json_t *json = data;

    json_decref(json->j);
    json->j = NULL;
    return APR_SUCCESS;
}

md_json_t *md_json__wrap(json_t *j, apr_pool_t *p)
{
    md_json_t *json = apr_palloc(p, sizeof(*json));

    json->p = p;
    json->j = j;
    apr_pool_cleanup_register(p, json, json_cleanup, apr_pool_cleanup_null);
    return json;
}

md_json_t *md_json_create(apr_pool_t *p)
{
    return md_json__wrap(json_object(), p);
}

md_json_t *md_json_create_array(apr_pool_t *p)
{
    return md_json__wrap(json_array(), p);
}

md_json_t *md_json_clone(const md_json_t *json, apr_pool_t *p)
{
    return md_json__wrap(json_deep_copy(json->j), p);
}

int md_json_equal(const md_json_t *a, const md_json_t *b)
{
    return json_equal(a->j, b->j);
}

md_json_type_t md_json_type(const md_json_t *json)
{
    switch (json_typeof(json->j)) {
    case JSON_OBJECT: return MD_JSON_TYPE_OBJECT;
    case JSON_ARRAY: return MD_JSON_TYPE_ARRAY;
    case JSON_STRING: return MD_JSON_TYPE_STRING;
    case JSON_REAL: return MD_JSON_TYPE_REAL;
    case JSON_INTEGER: return MD_JSON_TYPE_INT;
    case JSON_TRUE:
    case JSON_FALSE: return MD_JSON_TYPE_BOOL;
    default: return MD_JSON_TYPE_NULL;
    }
}

json_t *md_json__select(json_t *j, va_list ap)
{
    const char *key;

    while (j && (key = va_arg(ap, const char *)) != NULL) {
        j = json_is_object(j) ? json_object_get(j, key) : NULL;
    }
    return j;
}

/* Collect the keys of a path; APR_EINVAL when there are more than MD_JSON_PATH_MAX. */
static apr_status_t path_collect(const char **keys, int *pn, va_list ap)
{
    const char *key;
    int n = 0;

    while ((key = va_arg(ap, const char *)) != NULL) {
        if (n >= MD_JSON_PATH_MAX) return APR_EINVAL;
        keys[n++] = key;
    }
    *pn = n;
    return APR_SUCCESS;
}

/* Walk keys[0..n-1], creating missing objects; *pnode is the object that will hold the last key. */
static apr_status_t path_create(json_t **pnode, json_t *j, const char **keys, int n)
{
    json_t *next;
    int i;

    for (i = 0; i < n; ++i) {
        if (!json_is_object(j)) return APR_EINVAL;
        next = json_object_get(j, keys[i]);
        if (!next) {
            next = json_object();
            if (json_object_set_new(j, keys[i], next) != 0) return APR_ENOMEM;
        }
        j = next;
    }
    *pnode = j;
    return APR_SUCCESS;
}

/* Put value (a new reference, always consumed) at the path in ap; the path must not be empty. */
static apr_status_t path_set(json_t *root, json_t *value, va_list ap)
{
    const char *keys[MD_JSON_PATH_MAX];
    json_t *parent;
    int n;
    apr_status_t rv;

    rv = path_collect(keys, &n, ap);
    if (rv == APR_SUCCESS && n == 0) rv = APR_EINVAL;
    if (rv == APR_SUCCESS) rv = path_create(&parent, root, keys, n - 1);
    if (rv == APR_SUCCESS && !json_is_object(parent)) rv = APR_EINVAL;
    if (rv != APR_SUCCESS || !value) {
        json_decref(value);
        return (rv != APR_SUCCESS) ? rv : APR_ENOMEM;
    }
    return json_object_set_new(parent, keys[n - 1], value) == 0 ? APR_SUCCESS : APR_ENOMEM;
}

md_json_t *md_json_getj(const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    return j ? md_json__wrap(json_incref(j), json->p) : NULL;
}

int md_json_has_key(const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    return j != NULL;
}

int md_json_is(md_json_type_t type, const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;
    md_json_t node;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    if (!j) return 0;
    node.p = json->p;
    node.j = j;
    return md_json_type(&node) == type;
}

const char *md_json_gets(const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    return json_is_string(j) ? json_string_value(j) : NULL;
}

const char *md_json_dups(apr_pool_t *p, const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    return json_is_string(j) ? apr_pstrdup(p, json_string_value(j)) : NULL;
}

/* A real truncated to a long long, clamped to its range (a cast of a real beyond it is undefined behaviour). */
static long long real_to_ll(double d)
{
    if (d >= 9223372036854775807.0) return LLONG_MAX;    /* the double is 2^63 */
    if (d <= -9223372036854775808.0) return LLONG_MIN;
    return (long long)d;
}

long long md_json_getl(const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    if (json_is_integer(j)) return json_integer_value(j);
    if (json_is_real(j)) return real_to_ll(json_real_value(j));
    return 0;
}

double md_json_getn(const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    return json_is_number(j) ? json_number_value(j) : 0.0;
}

int md_json_getb(const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    return json_is_true(j);
}

apr_status_t md_json_sets(const char *value, md_json_t *json, ...)
{
    va_list ap;
    apr_status_t rv;

    if (!value) return APR_EINVAL;
    va_start(ap, json);
    rv = path_set(json->j, json_string(value), ap);
    va_end(ap);
    return rv;
}

apr_status_t md_json_setl(long long value, md_json_t *json, ...)
{
    va_list ap;
    apr_status_t rv;

    va_start(ap, json);
    rv = path_set(json->j, json_integer(value), ap);
    va_end(ap);
    return rv;
}

apr_status_t md_json_setn(double value, md_json_t *json, ...)
{
    va_list ap;
    apr_status_t rv;

    va_start(ap, json);
    rv = path_set(json->j, json_real(value), ap);
    va_end(ap);
    return rv;
}

apr_status_t md_json_setb(int value, md_json_t *json, ...)
{
    va_list ap;
    apr_status_t rv;

    va_start(ap, json);
    rv = path_set(json->j, json_boolean(value), ap);
    va_end(ap);
    return rv;
}

apr_status_t md_json_set_null(md_json_t *json, ...)
{
    va_list ap;
    apr_status_t rv;

    va_start(ap, json);
    rv = path_set(json->j, json_null(), ap);
    va_end(ap);
    return rv;
}

apr_status_t md_json_setj(const md_json_t *value, md_json_t *json, ...)
{
    va_list ap;
    apr_status_t rv;

    if (!value) return APR_EINVAL;
    va_start(ap, json);
    rv = path_set(json->j, json_deep_copy(value->j), ap);
    va_end(ap);
    return rv;
}

apr_status_t md_json_del(md_json_t *json, ...)
{
    const char *keys[MD_JSON_PATH_MAX];
    va_list ap;
    json_t *parent = json->j;
    int n, i;
    apr_status_t rv;

    va_start(ap, json);
    rv = path_collect(keys, &n, ap);
    va_end(ap);
    if (rv != APR_SUCCESS || n == 0) return APR_EINVAL;
    for (i = 0; parent && i < n - 1; ++i) {
        parent = json_is_object(parent) ? json_object_get(parent, keys[i]) : NULL;
    }
    if (json_is_object(parent)) json_object_del(parent, keys[n - 1]);
    return APR_SUCCESS;
}

json_t *md_json__select_array(json_t *root, va_list ap)
{
    const char *keys[MD_JSON_PATH_MAX];
    json_t *parent, *arr;
    int n;

    if (path_collect(keys, &n, ap) != APR_SUCCESS) return NULL;
    if (n == 0) return json_is_array(root) ? root : NULL;
    if (path_create(&parent, root, keys, n - 1) != APR_SUCCESS || !json_is_object(parent)) return NULL;
    arr = json_object_get(parent, keys[n - 1]);
    if (!arr) {
        arr = json_array();
        if (json_object_set_new(parent, keys[n - 1], arr) != 0) return NULL;
    }
    return json_is_array(arr) ? arr : NULL;
}
