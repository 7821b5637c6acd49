/* Fuzz target: the HTTP response header parsers (Link with rel and relative URLs, Retry-After, Content-Type). */
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "md_http.h"
#include "fuzz.h"

#define NOW (APR_INT64_C(1767225600) * APR_USEC_PER_SEC)    /* 2026-01-01, as a clock would say */

static const char *const rels[] = { "alternate", "up", "index", "terms-of-service" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_input_t in = fz_input(data, size);
    md_http_response_t resp;
    const char *line, *colon, *media;
    apr_array_header_t *links;
    apr_time_t t;
    size_t i;
    int j;

    /* the URL requested, then one header per line: "Name: value" */
    memset(&resp, 0, sizeof(resp));
    resp.url = fz_line(&in, p);
    resp.status = 200;
    resp.headers = apr_table_make(p, 5);
    while ((line = fz_line(&in, p)) != NULL) {
        colon = strchr(line, ':');
        if (!colon) continue;
        apr_table_add(resp.headers, apr_pstrndup(p, line, (apr_size_t)(colon - line)),
                      colon[1] == ' ' ? colon + 2 : colon + 1);
    }
    for (i = 0; i < sizeof(rels) / sizeof(rels[0]); ++i) {
        links = md_http_links(&resp, rels[i], p);
        FZ_CHECK(links != NULL);
        for (j = 0; j < links->nelts; ++j) FZ_CHECK(APR_ARRAY_IDX(links, j, const char *) != NULL);
    }
    media = md_http_media_type(&resp, p);
    if (media) FZ_CHECK(!strchr(media, ';') && !strchr(media, ' '));
    t = md_http_retry_after(&resp, NOW);
    FZ_CHECK(t >= 0);
    (void)md_http_header(&resp, "Replay-Nonce");
    apr_pool_destroy(p);
    return 0;
}
