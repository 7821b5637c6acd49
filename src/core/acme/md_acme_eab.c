/* External account binding credentials: key id and base64url HMAC key, given directly or in a JSON file. */
#include <errno.h>
#include <string.h>
#include <apr_strings.h>

#include "md_acme_acct.h"
#include "md_encode.h"
#include "md_file.h"
#include "md_result.h"

/* Build the EAB; errors start with origin ("EAB" or "EAB file <path>"). */
static apr_status_t eab_make(md_acme_eab_t **peab, const char *kid, const char *hmac_b64, const char *origin,
                             md_result_t *result, apr_pool_t *p)
{
    unsigned char *raw = NULL;
    apr_size_t len = 0;
    md_acme_eab_t *eab;
    char *b64, *c;

    *peab = NULL;
    if (!kid || !*kid) {
        md_result_printf(result, APR_EINVAL, "%s: the key id (kid) is missing", origin);
        return APR_EINVAL;
    }
    if (!hmac_b64 || !*hmac_b64) {
        md_result_printf(result, APR_EINVAL, "%s: the HMAC key (hmac) for kid '%s' is missing", origin, kid);
        return APR_EINVAL;
    }
    b64 = apr_pstrdup(p, hmac_b64);
    apr_collapse_spaces(b64, b64);
    for (c = b64; *c; ++c) {        /* also take standard base64, as some CAs hand it out */
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
    }
    if (md_b64url_decode(&raw, &len, b64, p) != APR_SUCCESS || len == 0) {
        md_result_printf(result, APR_EINVAL, "%s: the HMAC key for kid '%s' is not valid base64url", origin, kid);
        md_result_problem_type(result, MD_PROBLEM_EAB_HMAC);
        return APR_EINVAL;
    }
    eab = apr_pcalloc(p, sizeof(*eab));
    eab->kid = apr_pstrdup(p, kid);
    eab->hmac = md_data_make((const char *)raw, len, p);
    *peab = eab;
    return APR_SUCCESS;
}

apr_status_t md_acme_eab_make(md_acme_eab_t **peab, const char *kid, const char *hmac_b64,
                              md_result_t *result, apr_pool_t *p)
{
    return eab_make(peab, kid, hmac_b64, "EAB", result, p);
}

apr_status_t md_acme_eab_read(const char **pkid, const char **phmac, const char *fpath, md_result_t *result,
                              apr_pool_t *p)
{
    md_json_t *json = NULL;
    char *data = NULL;
    apr_size_t len = 0;
    char buf[256];
    apr_status_t rv;

    *pkid = *phmac = NULL;
    rv = md_file_read(&data, &len, fpath, p);
    if (APR_STATUS_IS_ENOENT(rv) || rv == APR_FROM_OS_ERROR(EISDIR)) {
        md_result_printf(result, rv, "file not found: %s", fpath);
        return rv;
    }
    if (rv != APR_SUCCESS) {
        md_result_printf(result, rv, "cannot read the file %s: %s", fpath, apr_strerror(rv, buf, sizeof(buf)));
        return rv;
    }
    rv = md_json_readd(&json, data, len, fpath, result, p);
    if (rv != APR_SUCCESS) {
        if (result) result->detail = apr_psprintf(result->p, "error reading JSON file %s (%s)", fpath,
                                                  result->detail ? result->detail : "");
        return rv;
    }
    *pkid = md_json_type(json) == MD_JSON_TYPE_OBJECT ? md_json_gets(json, "kid", NULL) : NULL;
    *phmac = md_json_type(json) == MD_JSON_TYPE_OBJECT ? md_json_gets(json, "hmac", NULL) : NULL;
    if (!*pkid || !*phmac) {
        md_result_printf(result, APR_EINVAL, "JSON does not contain '%s' element in file %s",
                         *pkid ? "hmac" : "kid", fpath);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t md_acme_eab_load(md_acme_eab_t **peab, const char *fpath, md_result_t *result, apr_pool_t *p)
{
    const char *kid, *hmac;
    apr_status_t rv;

    *peab = NULL;
    rv = md_acme_eab_read(&kid, &hmac, fpath, result, p);
    if (rv != APR_SUCCESS) return rv;
    return eab_make(peab, kid, hmac, apr_psprintf(p, "EAB file %s", fpath), result, p);
}
