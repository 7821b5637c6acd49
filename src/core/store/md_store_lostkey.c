/* A store whose md_store.json is gone: the encrypted keys it holds need that key, so no new one is made silently. */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "md_store_fs_int.h"

/* True when the file at path is a PEM private key encrypted with a passphrase. */
static int is_encrypted_pem(const char *path)
{
    char head[256];
    size_t n;
    FILE *f = fopen(path, "r");

    if (!f) return 0;
    n = fread(head, 1, sizeof(head) - 1, f);
    fclose(f);
    head[n] = '\0';
    return strstr(head, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL
           || strstr(head, "Proc-Type: 4,ENCRYPTED") != NULL;
}

const char *md_store_fs__encrypted_file(const md_store_t *store, apr_pool_t *p)
{
    apr_array_header_t *names, *files;
    const char *dir, *sub, *path;
    int g, i, j;

    for (g = MD_SG_NONE + 1; g < MD_SG_COUNT; ++g) {
        if (!md_store_fs__encrypts_keys((md_store_group_t)g)) continue;
        dir = md_store_fs__group_dir(store, (md_store_group_t)g, p);
        if (md_store_fs__list_dir(&names, dir, NULL, 0, p) != APR_SUCCESS) continue;
        for (i = 0; i < names->nelts; ++i) {
            sub = apr_pstrcat(p, dir, "/", APR_ARRAY_IDX(names, i, const char *), NULL);
            if (md_store_fs__list_dir(&files, sub, "*.pem", 0, p) != APR_SUCCESS) continue;
            for (j = 0; j < files->nelts; ++j) {
                path = apr_pstrcat(p, sub, "/", APR_ARRAY_IDX(files, j, const char *), NULL);
                if (is_encrypted_pem(path)) return path;
            }
        }
    }
    return NULL;
}
