/* JSON arrays and iteration over arrays and objects. */
#include <apr_strings.h>

#include "md_json_int.h"

apr_size_t md_json_count(const md_json_t *json, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    return json_is_array(j) ? json_array_size(j) : 0;
}

md_json_t *md_json_at(const md_json_t *json, apr_size_t idx, ...)
{
    va_list ap;
    json_t *j;

    va_start(ap, idx);
    j = md_json__select(json->j, ap);
    va_end(ap);
    j = json_is_array(j) ? json_array_get(j, idx) : NULL;
    return j ? md_json__wrap(json_incref(j), json->p) : NULL;
}

apr_status_t md_json_adds(const char *value, md_json_t *json, ...)
{
    va_list ap;
    json_t *arr;

    if (!value) return APR_EINVAL;
    va_start(ap, json);
    arr = md_json__select_array(json->j, ap);
    va_end(ap);
    if (!arr) return APR_EINVAL;
    return json_array_append_new(arr, json_string(value)) == 0 ? APR_SUCCESS : APR_ENOMEM;
}

apr_status_t md_json_addj(const md_json_t *value, md_json_t *json, ...)
{
    va_list ap;
    json_t *arr;

    if (!value) return APR_EINVAL;
    va_start(ap, json);
    arr = md_json__select_array(json->j, ap);
    va_end(ap);
    if (!arr) return APR_EINVAL;
    return json_array_append_new(arr, json_deep_copy(value->j)) == 0 ? APR_SUCCESS : APR_ENOMEM;
}

md_json_t *md_json_prepend_capped(const md_json_t *value, const md_json_t *array, apr_size_t max, apr_pool_t *p)
{
    json_t *arr = json_array();
    apr_size_t i, n = array && json_is_array(array->j) ? json_array_size(array->j) : 0;

    if (!arr) return NULL;
    if (value && max > 0) json_array_append_new(arr, json_deep_copy(value->j));
    for (i = 0; i < n && json_array_size(arr) < max; ++i) json_array_append(arr, json_array_get(array->j, i));
    return md_json__wrap(arr, p);
}

apr_status_t md_json_getsa(apr_array_header_t *a, const md_json_t *json, ...)
{
    va_list ap;
    json_t *j, *item;
    size_t i;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    if (!j) return APR_ENOENT;
    if (!json_is_array(j)) return APR_EINVAL;
    json_array_foreach(j, i, item) {
        if (json_is_string(item)) {
            APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(a->pool, json_string_value(item));
        }
    }
    return APR_SUCCESS;
}

apr_status_t md_json_setsa(const apr_array_header_t *a, md_json_t *json, ...)
{
    va_list ap;
    json_t *arr;
    int i;

    va_start(ap, json);
    arr = md_json__select_array(json->j, ap);
    va_end(ap);
    if (!arr) return APR_EINVAL;
    json_array_clear(arr);
    for (i = 0; i < a->nelts; ++i) {
        if (json_array_append_new(arr, json_string(APR_ARRAY_IDX(a, i, const char *))) != 0) {
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

int md_json_itera(md_json_itera_cb *cb, void *baton, const md_json_t *json, ...)
{
    va_list ap;
    json_t *j, *item;
    md_json_t node;
    size_t i;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    if (!json_is_array(j)) return 1;
    node.p = json->p;
    json_array_foreach(j, i, item) {
        node.j = item;
        if (!cb(baton, i, &node)) return 0;
    }
    return 1;
}

int md_json_iterkey(md_json_iterkey_cb *cb, void *baton, const md_json_t *json, ...)
{
    va_list ap;
    json_t *j, *value;
    const char *key;
    md_json_t node;

    va_start(ap, json);
    j = md_json__select(json->j, ap);
    va_end(ap);
    if (!json_is_object(j)) return 1;
    node.p = json->p;
    json_object_foreach(j, key, value) {
        node.j = value;
        if (!cb(baton, key, &node)) return 0;
    }
    return 1;
}
