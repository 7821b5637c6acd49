/* Loading libcurl at the first request: dlopen of its SONAME and the functions the libcurl backend uses. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "md_http_curl_lib.h"

typedef struct {
    const char *symbol;
    size_t offset;
} curl_fn_t;

#define FN(sym, member) { sym, offsetof(md_curl_lib_t, member) }
static const curl_fn_t fns[] = {
    FN("curl_global_init", global_init), FN("curl_easy_init", easy_init), FN("curl_easy_cleanup", easy_cleanup),
    FN("curl_easy_reset", easy_reset), FN("curl_easy_setopt", easy_setopt), FN("curl_easy_perform", easy_perform),
    FN("curl_easy_getinfo", easy_getinfo), FN("curl_easy_strerror", easy_strerror),
    FN("curl_slist_append", slist_append), FN("curl_slist_free_all", slist_free_all),
};

const char *md_curl_lib_load(md_curl_lib_t *lib, const char *name, char *buf, size_t len)
{
    const char *err;
    void *handle, *sym;
    size_t i;

    memset(lib, 0, sizeof(*lib));
    handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        err = dlerror();
        snprintf(buf, len, "libcurl cannot be loaded (%s): %s; it is needed to talk to a CA (Debian: apt-get "
                 "install libcurl4)", name, err ? err : "unknown error");
        return buf;
    }
    for (i = 0; i < sizeof(fns) / sizeof(fns[0]); ++i) {
        dlerror();
        sym = dlsym(handle, fns[i].symbol);
        if (!sym) {
            snprintf(buf, len, "libcurl cannot be used (%s): it has no %s", name, fns[i].symbol);
            dlclose(handle);
            memset(lib, 0, sizeof(*lib));
            return buf;
        }
        /* POSIX: a data pointer from dlsym converts to a function pointer of the symbol's type */
        memcpy((char *)lib + fns[i].offset, &sym, sizeof(sym));
    }
    return NULL;
}
