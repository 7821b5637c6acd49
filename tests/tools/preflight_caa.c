/* E2E tool: the CAA pre-flight check of one name through a real DNS server: preflight_caa SERVER NAME IDENTITY...
 * prints the verdict and exits 0 (the CA may issue) or 1 (CAA forbids it), 2 on a usage error. */
#include <stdio.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "md_dns.h"
#include "md_preflight.h"
#include "md_result.h"

int main(int argc, const char *const *argv)
{
    apr_array_header_t *ids;
    md_result_t *result;
    md_dns_t *dns = NULL;
    apr_pool_t *p;
    apr_status_t rv;
    int i;

    if (argc < 4) {
        fprintf(stderr, "usage: preflight_caa SERVER NAME IDENTITY...\n");
        return 2;
    }
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    if (md_dns_resolver(&dns, argv[1], p) != APR_SUCCESS) {
        fprintf(stderr, "preflight_caa: %s is no DNS server address\n", argv[1]);
        return 2;
    }
    ids = apr_array_make(p, argc - 3, sizeof(const char *));
    for (i = 3; i < argc; ++i) APR_ARRAY_PUSH(ids, const char *) = argv[i];
    result = md_result_make(p);
    rv = md_preflight_caa(dns, argv[2], ids, result, p);
    printf("%s\n", rv == APR_SUCCESS ? (result->detail ? result->detail : "allowed") : md_result_text(result, p));
    apr_pool_destroy(p);
    apr_terminate();
    return rv == APR_SUCCESS ? 0 : 1;
}
