/* JSON text: serialization, parsing with located errors, atomic file save. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_file.h"
#include "md_result.h"
#include "md_json_int.h"

static const char *dump(const md_json_t *json, size_t flags, apr_pool_t *p)
{
    char *s = json_dumps(json->j, flags | JSON_ENCODE_ANY);
    const char *out;

    if (!s) return NULL;
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

const char *md_json_writep(const md_json_t *json, md_json_fmt_t fmt, apr_pool_t *p)
{
    return dump(json, (fmt == MD_JSON_FMT_INDENT) ? JSON_INDENT(2) : JSON_COMPACT, p);
}

const char *md_json_write_sorted(const md_json_t *json, apr_pool_t *p)
{
    return dump(json, JSON_COMPACT | JSON_SORT_KEYS, p);
}

apr_status_t md_json_readd(md_json_t **pjson, const char *data, apr_size_t len, const char *source,
                           md_result_t *result, apr_pool_t *p)
{
    json_error_t err;
    json_t *j = json_loadb(data, len, 0, &err);

    if (!j) {
        md_result_printf(result, APR_EINVAL, "%s:%d:%d: invalid JSON: %s", source ? source : "<data>",
                         err.line, err.column, err.text);
        return APR_EINVAL;
    }
    *pjson = md_json__wrap(j, p);
    return APR_SUCCESS;
}

apr_status_t md_json_readf(md_json_t **pjson, const char *fpath, md_result_t *result, apr_pool_t *p)
{
    char *data;
    apr_size_t len;
    char buf[256];
    apr_status_t rv;

    rv = md_file_read(&data, &len, fpath, p);
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "%s: %s", fpath, apr_strerror(rv, buf, sizeof(buf)));
        return rv;
    }
    return md_json_readd(pjson, data, len, fpath, result, p);
}

apr_status_t md_json_writef(const md_json_t *json, md_json_fmt_t fmt, const char *fpath,
                            apr_fileperms_t perms, apr_pool_t *p)
{
    const char *text = md_json_writep(json, fmt, p);

    if (!text) return APR_EINVAL;
    return md_file_write_atomic(fpath, text, strlen(text), perms, p);
}
