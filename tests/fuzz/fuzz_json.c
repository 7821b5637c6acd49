/* Fuzz target: the JSON wrapper (md_json_readd, typed getters, iteration, setters, writing) and JWK/JWS reading. */
#include <string.h>
#include <apr_strings.h>

#include "md_data.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_result.h"
#include "fuzz.h"

#define WALK_DEPTH 64    /* deeper nodes are not walked (jansson itself takes up to 2048 levels) */

typedef struct {
    const md_json_t *node;
    int depth;
    apr_pool_t *p;
} walk_t;

static void walk(const md_json_t *node, int depth, apr_pool_t *p);

/* Every getter on the value at key of obj, and a walk below it. */
static int key_cb(void *baton, const char *key, md_json_t *value)
{
    const walk_t *w = baton;
    apr_array_header_t *a = apr_array_make(w->p, 2, sizeof(const char *));
    const char *s = md_json_gets(w->node, key, NULL);
    md_json_t *sub;

    FZ_CHECK(!s == !md_json_is(MD_JSON_TYPE_STRING, w->node, key, NULL));
    if (s) FZ_CHECK(!strcmp(md_json_dups(w->p, w->node, key, NULL), s));
    (void)md_json_getl(w->node, key, NULL);
    (void)md_json_getn(w->node, key, NULL);
    (void)md_json_getb(w->node, key, NULL);
    (void)md_json_count(w->node, key, NULL);
    (void)md_json_at(w->node, 0, key, NULL);
    (void)md_json_getsa(a, w->node, key, NULL);
    FZ_CHECK(md_json_has_key(w->node, key, NULL));
    sub = md_json_getj(w->node, key, NULL);
    FZ_CHECK(sub != NULL && md_json_type(sub) == md_json_type(value));
    walk(sub, w->depth + 1, w->p);
    return 1;
}

static int item_cb(void *baton, apr_size_t index, md_json_t *item)
{
    const walk_t *w = baton;

    FZ_CHECK(md_json_at(w->node, index, NULL) != NULL);
    walk(item, w->depth + 1, w->p);
    return 1;
}

static void walk(const md_json_t *node, int depth, apr_pool_t *p)
{
    walk_t w;

    if (depth > WALK_DEPTH) return;
    w.node = node;
    w.depth = depth;
    w.p = p;
    (void)md_json_gets(node, NULL);
    (void)md_json_getl(node, NULL);
    (void)md_json_getn(node, NULL);
    (void)md_json_getb(node, NULL);
    (void)md_json_gets(node, "type", "value", NULL);
    md_json_iterkey(key_cb, &w, node, NULL);
    md_json_itera(item_cb, &w, node, NULL);
}

/* Written out and read back, a document is the same. */
static void round_trip(const md_json_t *json, md_json_fmt_t fmt, int sorted, apr_pool_t *p)
{
    const char *text = sorted ? md_json_write_sorted(json, p) : md_json_writep(json, fmt, p);
    md_json_t *back = NULL;

    FZ_CHECK(text != NULL);
    FZ_CHECK(md_json_readd(&back, text, strlen(text), "round trip", NULL, p) == APR_SUCCESS);
    FZ_CHECK(md_json_equal(json, back));
}

/* Setters on a copy: they succeed or refuse, and what they set reads back. */
static void set_some(const md_json_t *json, apr_pool_t *p)
{
    md_json_t *copy = md_json_clone(json, p);
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));

    FZ_CHECK(md_json_equal(json, copy));
    if (md_json_sets("v", copy, "status", NULL) == APR_SUCCESS) {
        FZ_CHECK(!strcmp(md_json_gets(copy, "status", NULL), "v"));
    }
    (void)md_json_setl(42, copy, "mdomain", "n", NULL);
    (void)md_json_setb(1, copy, "b", NULL);
    (void)md_json_set_null(copy, "n", NULL);
    (void)md_json_setj(json, copy, "self", NULL);
    (void)md_json_adds("x", copy, "contact", NULL);
    (void)md_json_addj(json, copy, "log", NULL);
    (void)md_json_getsa(a, copy, "contact", NULL);
    (void)md_json_setsa(a, copy, "contact", NULL);
    (void)md_json_del(copy, "status", NULL);
    round_trip(copy, MD_JSON_FMT_COMPACT, 0, p);
}

/* What reads JSON from the CA or the network: JWK thumbprints, JWS verification (HS256 with a fixed key). */
static void jws_read(const md_json_t *json, apr_pool_t *p)
{
    static const char key[32] = "0123456789abcdef0123456789abcdef";
    md_data_t *payload = NULL;
    const char *thumb = NULL;

    (void)md_jwk_thumbprint_json(&thumb, json, p);
    (void)md_jws_verify(&payload, json, NULL, md_data_make(key, sizeof(key), p), p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    md_result_t *result = md_result_make(p);
    md_json_t *json = NULL;

    if (md_json_readd(&json, (const char *)data, size, "fuzz", result, p) == APR_SUCCESS) {
        walk(json, 0, p);
        round_trip(json, MD_JSON_FMT_COMPACT, 0, p);
        round_trip(json, MD_JSON_FMT_INDENT, 0, p);
        round_trip(json, MD_JSON_FMT_COMPACT, 1, p);
        set_some(json, p);
        jws_read(json, p);
    }
    else {
        FZ_CHECK(result->status == APR_EINVAL && result->detail != NULL);
    }
    apr_pool_destroy(p);
    return 0;
}
