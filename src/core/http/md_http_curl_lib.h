/* libcurl's functions as the HTTP backend calls them, from the library loaded at the first request (dlopen): a
 * process that never talks to a CA (most CLI verbs, httpd's parent) does not load libcurl's ~30 libraries. */
#ifndef MD_HTTP_CURL_LIB_H
#define MD_HTTP_CURL_LIB_H

#include <curl/curl.h>

/* The library's name as the dynamic linker knows it (its SONAME; Debian: package libcurl4). */
#define MD_CURL_LIBRARY "libcurl.so.4"

typedef struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *curl);
    void (*easy_reset)(CURL *curl);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
} md_curl_lib_t;

/* Load the library by name (RTLD_NOW | RTLD_LOCAL) and fill *lib: NULL when done, otherwise why not, naming the
 * library (and the first function missing), in buf. The handle is kept for the life of the process. */
const char *md_curl_lib_load(md_curl_lib_t *lib, const char *name, char *buf, size_t len);

#endif
