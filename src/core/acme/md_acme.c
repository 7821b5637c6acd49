/* ACME client setup: CA names, the directory (fetched once) and its meta data, account and polling settings. */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "md_acme.h"
#include "md_result.h"
#include "md_uri.h"
#include "md_acme_int.h"

static const struct {
    const char *name;
    const char *url;
} known_cas[] = {
    { "LetsEncrypt", "https://acme-v02.api.letsencrypt.org/directory" },
    { "LetsEncrypt-Test", "https://acme-staging-v02.api.letsencrypt.org/directory" },
    { "Buypass", "https://api.buypass.com/acme/directory" },
    { "Buypass-Test", "https://api.test4.buypass.no/acme/directory" },
};

const char *md_acme_ca_url_for(const char *name_or_url)
{
    size_t i;

    if (!name_or_url) return NULL;
    for (i = 0; i < sizeof(known_cas) / sizeof(known_cas[0]); ++i) {
        if (!strcasecmp(name_or_url, known_cas[i].name)) return known_cas[i].url;
    }
    return name_or_url;
}

const char *md_acme_ca_names(apr_pool_t *p)
{
    const char *names = NULL;
    size_t i;

    for (i = 0; i < sizeof(known_cas) / sizeof(known_cas[0]); ++i) {
        names = names ? apr_pstrcat(p, names, ", ", known_cas[i].name, NULL) : known_cas[i].name;
    }
    return names;
}

const char *md_acme_ca_resolve(const char *name_or_url, const char **perr, apr_pool_t *p)
{
    const char *url, *problem;

    *perr = NULL;
    if (!name_or_url) name_or_url = "";
    url = md_acme_ca_url_for(name_or_url);
    if (url != name_or_url) return url;
    problem = md_uri_problem(url, p);
    if (!problem) return url;
    *perr = apr_psprintf(p, "The CA name '%s' is not known and it is not a URL either (%s); known CA names are %s, "
                         "or give the http: or https: URL of the CA's ACME directory", url, problem,
                         md_acme_ca_names(p));
    return NULL;
}

apr_status_t md_acme_create(md_acme_t **pacme, const char *url, md_http_t *http, apr_pool_t *p)
{
    md_acme_t *acme;
    apr_status_t rv;

    *pacme = NULL;
    if (!url || !http) return APR_EINVAL;
    acme = apr_pcalloc(p, sizeof(*acme));
    acme->p = p;
    acme->url = apr_pstrdup(p, url);
    acme->http = http;
    /* doubled at every look: 0.05s, 0.1s, 0.2s ... 10s. A CA that validates in milliseconds (pebble) is seen at
     * once; one that takes seconds is asked a few more times than when starting at 1s. Retry-After wins. */
    acme->poll_min = apr_time_from_msec(50);
    acme->poll_max = apr_time_from_sec(10);
    rv = apr_thread_mutex_create(&acme->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) return rv;
    rv = apr_thread_mutex_create(&acme->nonce_mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) return rv;
    *pacme = acme;
    return APR_SUCCESS;
}

const char *md_acme_url(const md_acme_t *acme)
{
    return acme->url;
}

md_http_t *md_acme_http(const md_acme_t *acme)
{
    return acme->http;
}

/* The names of required resources missing from dir, "" when none. */
static const char *missing_resources(const md_json_t *dir, apr_pool_t *p)
{
    static const char *const required[] = { "newNonce", "newAccount", "newOrder" };
    const char *missing = "";
    size_t i;

    for (i = 0; i < sizeof(required) / sizeof(required[0]); ++i) {
        if (!md_json_gets(dir, required[i], NULL)) {
            missing = apr_pstrcat(p, missing, *missing ? ", " : "", required[i], NULL);
        }
    }
    return missing;
}

static apr_status_t fetch_directory(md_json_t **pdir, md_acme_t *acme, md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp = NULL;
    md_json_t *dir = NULL;
    const char *missing;
    apr_status_t rv;

    *pdir = NULL;
    rv = md_acme_get_json(&dir, &resp, acme, acme->url, result, p);
    if (rv != APR_SUCCESS) goto leave;
    rv = APR_EINVAL;
    if (md_json_type(dir) != MD_JSON_TYPE_OBJECT) {
        md_result_printf(result, rv, "the ACME directory at %s is not a JSON object", acme->url);
        goto leave;
    }
    missing = missing_resources(dir, p);
    if (*missing) {
        md_result_printf(result, rv, "the ACME directory at %s lacks %s", acme->url, missing);
        goto leave;
    }
    *pdir = dir;
    rv = APR_SUCCESS;
leave:
    return rv;
}

apr_status_t md_acme_setup(md_acme_t *acme, md_result_t *result)
{
    apr_pool_t *ptmp = NULL;
    md_json_t *dir = NULL;
    apr_status_t rv;

    apr_thread_mutex_lock(acme->mutex);
    rv = APR_SUCCESS;
    if (acme->directory) goto leave;
    rv = apr_pool_create(&ptmp, NULL);
    if (rv != APR_SUCCESS) goto leave;
    rv = fetch_directory(&dir, acme, result, ptmp);
    if (rv != APR_SUCCESS) goto leave;
    acme->directory = md_json_clone(dir, acme->p);
leave:
    apr_thread_mutex_unlock(acme->mutex);
    if (ptmp) apr_pool_destroy(ptmp);
    return rv;
}

md_json_t *md_acme_directory(const md_acme_t *acme)
{
    md_json_t *dir;

    apr_thread_mutex_lock(acme->mutex);
    dir = acme->directory;
    apr_thread_mutex_unlock(acme->mutex);
    return dir;
}

const char *md_acme_resource(const md_acme_t *acme, const char *name)
{
    md_json_t *dir = md_acme_directory(acme);

    return dir ? md_json_gets(dir, name, NULL) : NULL;
}

const char *md_acme_tos(const md_acme_t *acme)
{
    md_json_t *dir = md_acme_directory(acme);

    return dir ? md_json_gets(dir, "meta", "termsOfService", NULL) : NULL;
}

int md_acme_eab_required(const md_acme_t *acme)
{
    md_json_t *dir = md_acme_directory(acme);

    return dir ? md_json_getb(dir, "meta", "externalAccountRequired", NULL) : 0;
}

md_json_t *md_acme_profiles(const md_acme_t *acme)
{
    md_json_t *dir = md_acme_directory(acme);

    if (!dir || !md_json_is(MD_JSON_TYPE_OBJECT, dir, "meta", "profiles", NULL)) return NULL;
    return md_json_getj(dir, "meta", "profiles", NULL);
}

apr_array_header_t *md_acme_caa_identities(const md_acme_t *acme, apr_pool_t *p)
{
    md_json_t *dir = md_acme_directory(acme);
    apr_array_header_t *ids = apr_array_make(p, 2, sizeof(const char *));

    if (dir && md_json_is(MD_JSON_TYPE_ARRAY, dir, "meta", "caaIdentities", NULL)) {
        md_json_getsa(ids, dir, "meta", "caaIdentities", NULL);
    }
    return ids;
}

void md_acme_set_account(md_acme_t *acme, const char *kid, md_pkey_t *key)
{
    apr_thread_mutex_lock(acme->mutex);
    acme->kid = kid ? apr_pstrdup(acme->p, kid) : NULL;
    acme->key = key;
    apr_thread_mutex_unlock(acme->mutex);
}

const char *md_acme_account_url(const md_acme_t *acme)
{
    const char *kid;

    apr_thread_mutex_lock(acme->mutex);
    kid = acme->kid;
    apr_thread_mutex_unlock(acme->mutex);
    return kid;
}

md_pkey_t *md_acme_account_key(const md_acme_t *acme)
{
    md_pkey_t *key;

    apr_thread_mutex_lock(acme->mutex);
    key = acme->key;
    apr_thread_mutex_unlock(acme->mutex);
    return key;
}

void md_acme_set_polling(md_acme_t *acme, apr_interval_time_t poll_min, apr_interval_time_t poll_max)
{
    acme->poll_min = poll_min;
    acme->poll_max = poll_max < poll_min ? poll_min : poll_max;
}

apr_interval_time_t md_acme_poll_min(const md_acme_t *acme)
{
    return acme->poll_min;
}

apr_interval_time_t md_acme_poll_max(const md_acme_t *acme)
{
    return acme->poll_max;
}

void md_acme_set_clock(md_acme_t *acme, const md_clock_t *clock)
{
    acme->clock = clock;
}

const md_clock_t *md_acme_clock(const md_acme_t *acme)
{
    return acme->clock;
}
