/* The stateful fake ACME CA of the unit tests (fake_ca.h says what it does and how to use it). */
#include "fake_ca_int.h"

/* ---- answers ----------------------------------------------------------------------------------------- */

void fca_answer(fca_req_t *r, int status, const char *ctype, const char *body)
{
    r->resp->status = status;
    if (ctype) apr_table_set(r->resp->headers, "Content-Type", ctype);
    r->resp->body.data = body;
    r->resp->body.len = body ? strlen(body) : 0;
}

static void answer_json(fca_req_t *r, int status, const md_json_t *json)
{
    fca_answer(r, status, "application/json", md_json_writep(json, MD_JSON_FMT_COMPACT, r->p));
}

static md_json_t *problem_json(const char *short_type, const char *detail, int status, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(apr_pstrcat(p, MD_ACME_PROBLEM_PREFIX, short_type, NULL), json, "type", NULL);
    if (detail) md_json_sets(detail, json, "detail", NULL);
    md_json_setl(status, json, "status", NULL);
    return json;
}

/* Answer with a problem document. Returns 0, for checks that fail with "return fca_problem(...)". */
int fca_problem(fca_req_t *r, int status, const char *short_type, const char *detail)
{
    fca_answer(r, status, "application/problem+json",
           md_json_writep(problem_json(short_type, detail, status, r->p), MD_JSON_FMT_COMPACT, r->p));
    return 0;
}

static const char *url_of(fca_req_t *r, const char *what, int n)
{
    return apr_psprintf(r->p, "%s/%s/%d", r->ca->base, what, n);
}

/* ---- directory, nonce, accounts ---------------------------------------------------------------------- */

static void h_directory(fca_req_t *r)
{
    md_json_t *dir = md_json_create(r->p);
    const char *base = r->ca->base, *host = strstr(base, "://") ? strstr(base, "://") + 3 : base;
    apr_array_header_t *ids;

    md_json_sets(apr_pstrcat(r->p, base, "/nonce", NULL), dir, "newNonce", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/new-acct", NULL), dir, "newAccount", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/new-order", NULL), dir, "newOrder", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/revoke-cert", NULL), dir, "revokeCert", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/key-change", NULL), dir, "keyChange", NULL);
    if (r->ca->set[FAKE_CA_SET_ARI]) md_json_sets(apr_pstrcat(r->p, base, "/ari", NULL), dir, "renewalInfo", NULL);
    md_json_sets(apr_pstrcat(r->p, base, "/terms", NULL), dir, "meta", "termsOfService", NULL);
    ids = apr_array_make(r->p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = host;
    md_json_setsa(ids, dir, "meta", "caaIdentities", NULL);
    answer_json(r, 200, dir);
}

static void h_nonce(fca_req_t *r)
{
    apr_table_set(r->resp->headers, "Cache-Control", "no-store");
    fca_answer(r, strcmp(r->req->method, "HEAD") ? 204 : 200, NULL, NULL);
}

/* The account object: valid, with the contacts of the request. */
static void account_answer(fca_req_t *r, const fca_acct_t *a, int n, int status)
{
    md_json_t *json = md_json_create(r->p);

    md_json_sets("valid", json, "status", NULL);
    if (md_json_has_key(r->args, "contact", NULL)) {
        md_json_setj(md_json_getj(r->args, "contact", NULL), json, "contact", NULL);
    }
    md_json_sets(apr_pstrcat(r->p, url_of(r, "acct", n), "/orders", NULL), json, "orders", NULL);
    apr_table_set(r->resp->headers, "Location", a->url);
    answer_json(r, status, json);
}

static void h_new_account(fca_req_t *r)
{
    fake_ca_t *ca = r->ca;
    const char *thumb = NULL;
    fca_acct_t *a;
    int i;

    if (md_jwk_thumbprint_json(&thumb, r->jwk, r->p) != APR_SUCCESS) {
        fca_problem(r, 400, "badPublicKey", "no thumbprint for the jwk");
        return;
    }
    for (i = 0; i < ca->accts->nelts; ++i) {
        a = APR_ARRAY_IDX(ca->accts, i, fca_acct_t *);
        if (!strcmp(a->thumbprint, thumb)) {
            account_answer(r, a, i + 1, 200);
            return;
        }
    }
    if (md_json_getb(r->args, "onlyReturnExisting", NULL)) {
        fca_problem(r, 400, "accountDoesNotExist", "no account for this key");
        return;
    }
    if (!md_json_getb(r->args, "termsOfServiceAgreed", NULL)) {
        fca_problem(r, 403, "userActionRequired",
                    apr_pstrcat(r->p, "agree to the terms at ", ca->base, "/terms", NULL));
        return;
    }
    a = apr_pcalloc(ca->p, sizeof(*a));
    a->key = fca_jwk_key(r->jwk, ca->p);
    a->thumbprint = apr_pstrdup(ca->p, thumb);
    APR_ARRAY_PUSH(ca->accts, fca_acct_t *) = a;
    a->url = apr_psprintf(ca->p, "%s/acct/%d", ca->base, ca->accts->nelts);
    account_answer(r, a, ca->accts->nelts, 201);
}

/* ---- authorizations and challenges ------------------------------------------------------------------- */

static const char *token_new(apr_pool_t *p)
{
    unsigned char bytes[24];

    RAND_bytes(bytes, sizeof(bytes));
    return md_b64url_encode(bytes, sizeof(bytes), p);
}

const char *fca_lower(const char *s, apr_pool_t *p)
{
    char *c, *copy = apr_pstrdup(p, s);

    for (c = copy; *c; ++c) *c = (char)tolower((unsigned char)*c);
    return copy;
}

/* A valid authorization of the account for the identifier (when reuse is on), else a new pending one. */
static int authz_for(fake_ca_t *ca, int acct, const char *type, const char *value, apr_time_t now)
{
    int wildcard = !strncmp(value, "*.", 2), i;
    fca_authz_t *a;

    if (wildcard) value += 2;
    for (i = 0; ca->set[FAKE_CA_SET_AUTHZ_REUSE] && i < ca->authzs->nelts; ++i) {
        a = APR_ARRAY_IDX(ca->authzs, i, fca_authz_t *);
        if (a->acct == acct && !strcmp(a->status, "valid") && a->expires > now && a->wildcard == wildcard
            && !strcmp(a->id_type, type) && !strcasecmp(a->value, value)) {
            return i + 1;
        }
    }
    a = apr_pcalloc(ca->p, sizeof(*a));
    a->acct = acct;
    a->id_type = apr_pstrdup(ca->p, type);
    a->value = fca_lower(value, ca->p);
    a->wildcard = wildcard;
    a->token = token_new(ca->p);
    a->status = "pending";
    a->expires = now + 7 * DAY;
    APR_ARRAY_PUSH(ca->authzs, fca_authz_t *) = a;
    return ca->authzs->nelts;
}

/* The challenge types offered: a wildcard only dns-01, an IP address no dns-01 (RFC 8738). */
static int authz_offers(const fca_authz_t *a, const char *type)
{
    if (!strcmp(type, "dns-01")) return strcmp(a->id_type, "ip") != 0;
    return !a->wildcard && (!strcmp(type, "http-01") || !strcmp(type, "tls-alpn-01"));
}

static void authz_settle(fca_authz_t *a, apr_time_t now)
{
    a->status = a->verdict;
    if (!strcmp(a->status, "valid")) a->expires = now + 30 * DAY;
}

/* A poll of the authorization: the verdict of a validation in progress comes after polls_left polls. */
static void authz_poll(fca_authz_t *a, apr_time_t now)
{
    if (!a->verdict || strcmp(a->status, "pending")) return;
    if (a->polls_left > 0) a->polls_left--;
    else authz_settle(a, now);
}

static void authz_expire(fca_authz_t *a, apr_time_t now)
{
    if (now > a->expires && (!strcmp(a->status, "pending") || !strcmp(a->status, "valid"))) a->status = "expired";
}

static md_json_t *challenge_json(fca_req_t *r, const fca_authz_t *a, int n, const char *type)
{
    md_json_t *ch = md_json_create(r->p);
    const char *status = "pending";

    if (a->chall_type && !strcmp(a->chall_type, type)) {
        status = strcmp(a->status, "pending") ? a->verdict : "processing";
    }
    md_json_sets(type, ch, "type", NULL);
    md_json_sets(apr_pstrcat(r->p, url_of(r, "chall", n), "/", type, NULL), ch, "url", NULL);
    md_json_sets(status, ch, "status", NULL);
    md_json_sets(a->token, ch, "token", NULL);
    if (!strcmp(status, "invalid")) {
        md_json_setj(problem_json(a->err_type, a->err_detail, 403, r->p), ch, "error", NULL);
    }
    return ch;
}

static md_json_t *authz_json(fca_req_t *r, const fca_authz_t *a, int n)
{
    static const char *const types[] = { "http-01", "dns-01", "tls-alpn-01" };
    md_json_t *json = md_json_create(r->p);
    size_t i;

    md_json_sets(a->id_type, json, "identifier", "type", NULL);
    md_json_sets(a->value, json, "identifier", "value", NULL);
    md_json_sets(a->status, json, "status", NULL);
    md_json_sets(md_time_print_rfc3339(a->expires, r->p), json, "expires", NULL);
    if (a->wildcard) md_json_setb(1, json, "wildcard", NULL);
    md_json_setj(md_json_create_array(r->p), json, "challenges", NULL);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
        if (authz_offers(a, types[i])) md_json_addj(challenge_json(r, a, n, types[i]), json, "challenges", NULL);
    }
    return json;
}

static void h_authz(fca_req_t *r)
{
    fca_authz_t *a = fca_owned(r, r->ca->authzs, "authorization");
    const char *status;

    if (!a) return;
    status = md_json_gets(r->args, "status", NULL);
    if (status && !strcmp(status, "deactivated")) a->status = "deactivated";
    authz_poll(a, r->now);
    authz_expire(a, r->now);
    answer_json(r, 200, authz_json(r, a, r->n));
}

/* Validate the challenge of type: the failing identifiers first, then the test's callback. */
static void validate(fca_req_t *r, fca_authz_t *a, const char *type)
{
    fake_ca_t *ca = r->ca;
    const char *ka = md_jws_key_authz(a->token, r->acct->thumbprint, r->p);
    const char *ptype = NULL, *detail = apr_table_get(ca->failing_ids, a->value);
    int failed = detail != NULL;

    if (!failed && ca->validate) {
        failed = ca->validate(ca->validate_baton, type, a->value, a->token, ka, &ptype, &detail, r->p);
    }
    a->chall_type = apr_pstrdup(ca->p, type);
    a->verdict = failed ? "invalid" : "valid";
    if (failed) {
        a->err_type = apr_pstrdup(ca->p, ptype ? ptype : "incorrectResponse");
        a->err_detail = apr_pstrdup(ca->p, detail ? detail : "the answer is not right");
    }
    a->polls_left = (int)ca->set[FAKE_CA_SET_AUTHZ_POLLS];
    if (!a->polls_left) authz_settle(a, r->now);
}

static void h_challenge(fca_req_t *r)
{
    fca_authz_t *a = fca_owned(r, r->ca->authzs, "authorization");
    const char *type = (r->rest && r->rest[0] == '/') ? r->rest + 1 : "";

    if (!a) return;
    if (!authz_offers(a, type)) {
        fca_problem(r, 404, "malformed", apr_psprintf(r->p, "authorization %d has no challenge '%s'", r->n, type));
        return;
    }
    authz_expire(a, r->now);
    if (r->payload && !strcmp(a->status, "pending") && !a->chall_type) validate(r, a, type);
    apr_table_set(r->resp->headers, "Link", apr_psprintf(r->p, "<%s>;rel=\"up\"", url_of(r, "authz", r->n)));
    answer_json(r, 200, challenge_json(r, a, r->n, type));
}

/* ---- orders ------------------------------------------------------------------------------------------ */

static void order_fail(fake_ca_t *ca, fca_order_t *o, const char *type, const char *detail)
{
    o->status = "invalid";
    o->err_type = type;
    o->err_detail = apr_pstrdup(ca->p, detail);
}

/* A pending order becomes ready when all its authorizations are valid, invalid when one is not or it expired. */
void fca_order_refresh(fake_ca_t *ca, fca_order_t *o, apr_time_t now)
{
    fca_authz_t *a;
    int i, valid = 0;

    if (strcmp(o->status, "pending") && strcmp(o->status, "ready")) return;
    if (now > o->expires) {
        order_fail(ca, o, "malformed", "the order expired");
        return;
    }
    for (i = 0; i < o->authzs->nelts; ++i) {
        a = APR_ARRAY_IDX(ca->authzs, APR_ARRAY_IDX(o->authzs, i, int) - 1, fca_authz_t *);
        authz_expire(a, now);
        if (!strcmp(a->status, "valid")) ++valid;
        else if (strcmp(a->status, "pending")) {
            order_fail(ca, o, a->err_type ? a->err_type : "unauthorized",
                       apr_psprintf(ca->p, "the authorization for %s is %s", a->value, a->status));
            return;
        }
    }
    o->status = (valid == o->authzs->nelts) ? "ready" : "pending";
}

static md_json_t *order_json(fca_req_t *r, const fca_order_t *o, int n)
{
    md_json_t *json = md_json_create(r->p), *id;
    const char *s;
    int i;

    md_json_sets(o->status, json, "status", NULL);
    md_json_sets(md_time_print_rfc3339(o->expires, r->p), json, "expires", NULL);
    for (i = 0; i < o->ids->nelts; ++i) {
        s = APR_ARRAY_IDX(o->ids, i, const char *);
        id = md_json_create(r->p);
        md_json_sets(apr_pstrndup(r->p, s, (apr_size_t)(strchr(s, ':') - s)), id, "type", NULL);
        md_json_sets(strchr(s, ':') + 1, id, "value", NULL);
        md_json_addj(id, json, "identifiers", NULL);
        md_json_adds(url_of(r, "authz", APR_ARRAY_IDX(o->authzs, i, int)), json, "authorizations", NULL);
    }
    md_json_sets(url_of(r, "finalize", n), json, "finalize", NULL);
    if (!strcmp(o->status, "valid")) md_json_sets(url_of(r, "cert", n), json, "certificate", NULL);
    if (o->err_type) md_json_setj(problem_json(o->err_type, o->err_detail, 403, r->p), json, "error", NULL);
    return json;
}

void fca_order_answer(fca_req_t *r, const fca_order_t *o, int n, int status)
{
    apr_table_set(r->resp->headers, "Location", url_of(r, "order", n));
    answer_json(r, status, order_json(r, o, n));
}

/* The identifiers of a newOrder, checked; NULL when answered with a problem. */
static md_json_t *order_identifiers(fca_req_t *r)
{
    md_json_t *ids = md_json_getj(r->args, "identifiers", NULL), *id;
    const char *type, *value;
    apr_size_t i, count = ids ? md_json_count(ids, NULL) : 0;

    if (!count) {
        fca_problem(r, 400, "malformed", "newOrder without identifiers");
        return NULL;
    }
    for (i = 0; i < count; ++i) {
        id = md_json_at(ids, i, NULL);
        type = id ? md_json_gets(id, "type", NULL) : NULL;
        value = id ? md_json_gets(id, "value", NULL) : NULL;
        if (!type || !value || !*value || (strcmp(type, "dns") && strcmp(type, "ip"))) {
            fca_problem(r, 400, "unsupportedIdentifier", "identifiers must be of type dns or ip, with a value");
            return NULL;
        }
    }
    return ids;
}

static void h_new_order(fca_req_t *r)
{
    fake_ca_t *ca = r->ca;
    md_json_t *ids = order_identifiers(r), *id;
    const char *type, *value, *replaces = md_json_gets(r->args, "replaces", NULL);
    fca_order_t *o;
    apr_size_t i;

    if (!ids) return;
    o = apr_pcalloc(ca->p, sizeof(*o));
    o->acct = r->acct_n;
    o->status = "pending";
    o->expires = r->now + 7 * DAY;
    o->replaces = replaces ? apr_pstrdup(ca->p, replaces) : NULL;
    o->ids = apr_array_make(ca->p, 4, sizeof(const char *));
    o->authzs = apr_array_make(ca->p, 4, sizeof(int));
    for (i = 0; i < md_json_count(ids, NULL); ++i) {
        id = md_json_at(ids, i, NULL);
        type = md_json_gets(id, "type", NULL);
        value = fca_lower(md_json_gets(id, "value", NULL), ca->p);
        APR_ARRAY_PUSH(o->ids, const char *) = apr_pstrcat(ca->p, type, ":", value, NULL);
        APR_ARRAY_PUSH(o->authzs, int) = authz_for(ca, r->acct_n, type, value, r->now);
    }
    APR_ARRAY_PUSH(ca->orders, fca_order_t *) = o;
    fca_order_refresh(ca, o, r->now);
    fca_order_answer(r, o, ca->orders->nelts, 201);
}

static void h_order(fca_req_t *r)
{
    fca_order_t *o = fca_owned(r, r->ca->orders, "order");
    int i;

    if (!o) return;
    if (!strcmp(o->status, "processing")) {
        if (o->polls_left > 0) o->polls_left--;
        else o->status = "valid";
    }
    for (i = 0; !strcmp(o->status, "pending") && i < o->authzs->nelts; ++i) {
        /* time passes for its validations too: a look at the order is one at each authorization */
        authz_poll(APR_ARRAY_IDX(r->ca->authzs, APR_ARRAY_IDX(o->authzs, i, int) - 1, fca_authz_t *), r->now);
    }
    fca_order_refresh(r->ca, o, r->now);
    fca_order_answer(r, o, r->n, 200);
}

/* ---- ARI and revocation ------------------------------------------------------------------------------ */

static void h_ari(fca_req_t *r)
{
    const char *id = r->path + strlen("/ari/");
    const fake_ca_cert_t *c = NULL;
    md_json_t *json = md_json_create(r->p);
    apr_time_t start, end;
    int i;

    for (i = 0; r->ca->set[FAKE_CA_SET_ARI] && i < r->ca->certs->nelts && !c; ++i) {
        c = APR_ARRAY_IDX(r->ca->certs, i, const fake_ca_cert_t *);
        if (!c->ari_id || strcmp(c->ari_id, id)) c = NULL;
    }
    if (!c) {
        fca_problem(r, 404, "malformed", apr_psprintf(r->p, "no renewal information for '%s'", id));
        return;
    }
    fake_ca_ari_window(r->ca, c, &start, &end);
    md_json_sets(md_time_print_rfc3339(start, r->p), json, "suggestedWindow", "start", NULL);
    md_json_sets(md_time_print_rfc3339(end, r->p), json, "suggestedWindow", "end", NULL);
    apr_table_set(r->resp->headers, "Retry-After", apr_ltoa(r->p, r->ca->set[FAKE_CA_SET_ARI_RETRY_AFTER]));
    answer_json(r, 200, json);
}

static void h_revoke(fca_req_t *r)
{
    unsigned char *der = NULL;
    apr_size_t len = 0;
    md_data_t data;
    md_cert_t *cert = NULL;
    fake_ca_cert_t *c = NULL;
    const char *serial;
    int i;

    if (!fca_b64_member(&der, &len, r->args, "certificate", r->p)) {
        fca_problem(r, 400, "malformed", "revokeCert without a certificate");
        return;
    }
    data.data = (const char *)der;
    data.len = len;
    serial = md_cert_from_der(&cert, &data, r->p) == APR_SUCCESS ? md_cert_get_serial_hex(cert, r->p) : "";
    for (i = 0; i < r->ca->certs->nelts && !c; ++i) {
        c = APR_ARRAY_IDX(r->ca->certs, i, fake_ca_cert_t *);
        if (strcmp(c->serial_hex, serial)) c = NULL;
    }
    if (!c) fca_problem(r, 404, "malformed", "not a certificate of this CA");
    else if (c->revoked) fca_problem(r, 400, "alreadyRevoked", "the certificate is revoked already");
    else if (r->jwk_key && !md_cert_matches_key(c->leaf, r->jwk_key)) {
        fca_problem(r, 403, "unauthorized", "the jwk is not the certificate's key");
    }
    else {
        c->revoked = 1;
        fca_answer(r, 200, NULL, NULL);
    }
}

/* ---- requests ---------------------------------------------------------------------------------------- */

typedef struct {
    void (*fn)(fca_req_t *r);
    int post;        /* a JWS to check first */
    int jwk_ok;      /* may be signed with a jwk */
} fca_handler_t;

static const fca_handler_t handlers[FAKE_CA_KINDS] = {
    [FAKE_CA_DIRECTORY] = { h_directory, 0, 0 },
    [FAKE_CA_NONCE] = { h_nonce, 0, 0 },
    [FAKE_CA_NEW_ACCOUNT] = { h_new_account, 1, 1 },
    [FAKE_CA_NEW_ORDER] = { h_new_order, 1, 0 },
    [FAKE_CA_AUTHZ] = { h_authz, 1, 0 },
    [FAKE_CA_CHALLENGE] = { h_challenge, 1, 0 },
    [FAKE_CA_ORDER] = { h_order, 1, 0 },
    [FAKE_CA_FINALIZE] = { fca_h_finalize, 1, 0 },
    [FAKE_CA_CERT] = { fca_h_cert, 1, 0 },
    [FAKE_CA_ARI] = { h_ari, 0, 0 },
    [FAKE_CA_REVOKE] = { h_revoke, 1, 1 },
};

static const struct {
    const char *path;
    fake_ca_kind_t kind;
} post_paths[] = {
    { "/new-acct", FAKE_CA_NEW_ACCOUNT }, { "/new-order", FAKE_CA_NEW_ORDER },
    { "/authz/", FAKE_CA_AUTHZ }, { "/chall/", FAKE_CA_CHALLENGE }, { "/order/", FAKE_CA_ORDER },
    { "/finalize/", FAKE_CA_FINALIZE }, { "/cert/", FAKE_CA_CERT }, { "/revoke-cert", FAKE_CA_REVOKE },
};

/* The kind of request; for "/what/N..." paths also r->n and r->rest. */
static fake_ca_kind_t classify(fca_req_t *r)
{
    const char *m = r->req->method, *path = r->path;
    apr_size_t i, len;
    char *end = NULL;

    if (!path) return FAKE_CA_OTHER;
    if (!strcmp(m, "GET") && !strcmp(path, "/dir")) return FAKE_CA_DIRECTORY;
    if ((!strcmp(m, "GET") || !strcmp(m, "HEAD")) && !strcmp(path, "/nonce")) return FAKE_CA_NONCE;
    if (!strcmp(m, "GET") && !strncmp(path, "/ari/", 5)) return FAKE_CA_ARI;
    if (strcmp(m, "POST")) return FAKE_CA_OTHER;
    for (i = 0; i < sizeof(post_paths) / sizeof(post_paths[0]); ++i) {
        len = strlen(post_paths[i].path);
        if (post_paths[i].path[len - 1] != '/') {
            if (!strcmp(path, post_paths[i].path)) return post_paths[i].kind;
            continue;
        }
        if (strncmp(path, post_paths[i].path, len)) continue;
        r->n = (int)strtol(path + len, &end, 10);
        r->rest = end;
        return post_paths[i].kind;
    }
    return FAKE_CA_OTHER;
}

/* An injected failure for this kind of request: answered (1) or not (0). */
static int injected(fca_req_t *r, fake_ca_kind_t kind)
{
    fca_fail_t *f;
    int i;

    for (i = 0; i < r->ca->fails->nelts; ++i) {
        f = &APR_ARRAY_IDX(r->ca->fails, i, fca_fail_t);
        if (f->count <= 0 || (f->kind != FAKE_CA_ANY && f->kind != kind)) continue;
        f->count--;
        if (f->retry_after > 0) apr_table_set(r->resp->headers, "Retry-After", apr_itoa(r->p, f->retry_after));
        fca_problem(r, f->status, f->type, f->detail);
        return 1;
    }
    return 0;
}

static void dispatch(fca_req_t *r, fake_ca_kind_t kind)
{
    const fca_handler_t *h = &handlers[kind];

    if (!h->fn) {
        fca_problem(r, 404, "malformed", apr_psprintf(r->p, "the fake CA has no %s %s", r->req->method, r->req->url));
        return;
    }
    if (h->post && !fca_jws_check(r, h->jwk_ok)) return;
    h->fn(r);
}

static apr_status_t ca_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                               const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    fake_ca_t *ca = baton;
    apr_size_t blen = strlen(ca->base);
    fake_ca_kind_t kind;
    fca_req_t r;

    (void)opts;
    *presp = NULL;
    memset(&r, 0, sizeof(r));
    r.ca = ca;
    r.req = req;
    r.p = p;
    r.resp = apr_pcalloc(p, sizeof(*r.resp));
    r.resp->url = apr_pstrdup(p, req->url);
    r.resp->headers = apr_table_make(p, 8);
    if (!strncmp(req->url, ca->base, blen) && req->url[blen] == '/') r.path = req->url + blen;
    apr_thread_mutex_lock(ca->mutex);
    r.now = md_clock_now(ca->clock);
    kind = classify(&r);
    ca->counts[FAKE_CA_ANY]++;
    ca->counts[kind]++;
    if (ca->set[FAKE_CA_SET_DOWN]) {
        apr_thread_mutex_unlock(ca->mutex);
        md_result_printf(result, APR_ECONNREFUSED, "fake CA %s is down: connection refused (%s %s)", ca->base,
                         req->method, req->url);
        return APR_ECONNREFUSED;
    }
    if (!injected(&r, kind)) dispatch(&r, kind);
    if (kind != FAKE_CA_DIRECTORY && kind != FAKE_CA_ARI) {     /* as Boulder and pebble: no nonce on those */
        apr_table_set(r.resp->headers, "Replay-Nonce", fca_nonce_new(ca, p));
    }
    apr_thread_mutex_unlock(ca->mutex);
    *presp = r.resp;
    return APR_SUCCESS;
}

/* ---- the API ----------------------------------------------------------------------------------------- */

static void ca_root_make(fake_ca_t *ca)
{
    md_pkey_spec_t spec = { MD_PKEY_EC, 0, "P-256" };
    apr_time_t now = md_clock_now(ca->clock);
    X509_NAME *name = X509_NAME_new();
    X509 *x;

    if (md_pkey_gen(&ca->key, &spec, ca->p) != APR_SUCCESS || !name) abort();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"mdomain fake CA", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)ca->base, -1, -1, 0);
    x = fca_cert_build(ca, md_pkey_get_EVP_PKEY(ca->key), name, NULL, now - DAY, now + 20 * 365 * DAY);
    X509_NAME_free(name);
    if (!x) abort();
    ca->root = md_cert_wrap(x, ca->p);
    ca->root_pem = fca_cert_pem(x, ca->p);
}

fake_ca_t *fake_ca_create(const char *base_url, const md_clock_t *clock, apr_pool_t *p)
{
    fake_ca_t *ca = apr_pcalloc(p, sizeof(*ca));

    /* a pool of its own, only used under the CA's lock: p may be used by other threads meanwhile */
    if (apr_pool_create(&ca->p, p) != APR_SUCCESS
        || apr_thread_mutex_create(&ca->mutex, APR_THREAD_MUTEX_NESTED, p) != APR_SUCCESS) {
        abort();
    }
    p = ca->p;
    ca->backend.name = "fake-ca";
    ca->backend.perform = ca_perform;
    ca->backend.baton = ca;
    ca->base = apr_pstrdup(p, base_url);
    ca->clock = clock;
    ca->set[FAKE_CA_SET_LIFETIME] = 90 * 86400;
    ca->set[FAKE_CA_SET_AUTHZ_REUSE] = 1;
    ca->set[FAKE_CA_SET_ARI_RETRY_AFTER] = 21600;
    ca->lifetimes = apr_table_make(p, 4);
    ca->serial = 0x1000;
    ca->failing_ids = apr_table_make(p, 4);
    ca->fails = apr_array_make(p, 4, sizeof(fca_fail_t));
    ca->nonces = apr_array_make(p, 256, sizeof(char));
    ca->accts = apr_array_make(p, 4, sizeof(fca_acct_t *));
    ca->authzs = apr_array_make(p, 16, sizeof(fca_authz_t *));
    ca->orders = apr_array_make(p, 16, sizeof(fca_order_t *));
    ca->certs = apr_array_make(p, 16, sizeof(fake_ca_cert_t *));
    ca_root_make(ca);
    return ca;
}

const md_http_backend_t *fake_ca_backend(fake_ca_t *ca)
{
    return &ca->backend;
}

const char *fake_ca_directory_url(fake_ca_t *ca)
{
    return apr_pstrcat(ca->p, ca->base, "/dir", NULL);
}

md_cert_t *fake_ca_root(fake_ca_t *ca)
{
    return ca->root;
}

void fake_ca_set(fake_ca_t *ca, fake_ca_setting_t setting, long value)
{
    if ((unsigned)setting >= FAKE_CA_SETTINGS) return;
    apr_thread_mutex_lock(ca->mutex);
    ca->set[setting] = value;
    apr_thread_mutex_unlock(ca->mutex);
}

/* A counter, read under the lock. */
static int get_int(fake_ca_t *ca, const int *field)
{
    int value;

    apr_thread_mutex_lock(ca->mutex);
    value = *field;
    apr_thread_mutex_unlock(ca->mutex);
    return value;
}

void fake_ca_set_validate(fake_ca_t *ca, fake_ca_validate_cb *cb, void *baton)
{
    apr_thread_mutex_lock(ca->mutex);
    ca->validate = cb;
    ca->validate_baton = baton;
    apr_thread_mutex_unlock(ca->mutex);
}

void fake_ca_set_lifetime_for(fake_ca_t *ca, const char *identifier, long seconds)
{
    apr_thread_mutex_lock(ca->mutex);
    if (seconds > 0) apr_table_set(ca->lifetimes, fca_lower(identifier, ca->p), apr_ltoa(ca->p, seconds));
    else apr_table_unset(ca->lifetimes, fca_lower(identifier, ca->p));
    apr_thread_mutex_unlock(ca->mutex);
}

void fake_ca_fail_validation(fake_ca_t *ca, const char *identifier, const char *detail)
{
    apr_thread_mutex_lock(ca->mutex);
    if (detail) apr_table_set(ca->failing_ids, identifier, detail);
    else apr_table_unset(ca->failing_ids, identifier);
    apr_thread_mutex_unlock(ca->mutex);
}

void fake_ca_fail_next(fake_ca_t *ca, fake_ca_kind_t kind, int count, int http_status, const char *short_type,
                       const char *detail, int retry_after)
{
    fca_fail_t *f;

    apr_thread_mutex_lock(ca->mutex);
    f = apr_array_push(ca->fails);
    f->kind = kind;
    f->count = count;
    f->status = http_status;
    f->retry_after = retry_after;
    f->type = apr_pstrdup(ca->p, short_type);
    f->detail = detail ? apr_pstrdup(ca->p, detail) : NULL;
    apr_thread_mutex_unlock(ca->mutex);
}

int fake_ca_count(fake_ca_t *ca, fake_ca_kind_t kind)
{
    return (unsigned)kind < FAKE_CA_KINDS ? get_int(ca, &ca->counts[kind]) : 0;
}

int fake_ca_accounts(fake_ca_t *ca)
{
    return get_int(ca, &ca->accts->nelts);
}

int fake_ca_bad_nonces(fake_ca_t *ca)
{
    return get_int(ca, &ca->bad_nonces);
}

int fake_ca_issued_count(fake_ca_t *ca)
{
    return get_int(ca, &ca->certs->nelts);
}

apr_array_header_t *fake_ca_issued(fake_ca_t *ca, const char *names, apr_pool_t *p)
{
    apr_array_header_t *found = apr_array_make(p, 4, sizeof(const fake_ca_cert_t *)), *split;
    const fake_ca_cert_t *c;
    char *copy, *name, *state = NULL;
    const char *key = NULL;
    int i;

    if (names) {
        split = apr_array_make(p, 4, sizeof(const char *));
        copy = apr_pstrdup(p, names);
        for (name = apr_strtok(copy, ", ", &state); name; name = apr_strtok(NULL, ", ", &state)) {
            APR_ARRAY_PUSH(split, const char *) = fca_lower(name, p);
        }
        key = fca_names_join(split, 0, p);
    }
    apr_thread_mutex_lock(ca->mutex);
    for (i = 0; i < ca->certs->nelts; ++i) {
        c = APR_ARRAY_IDX(ca->certs, i, const fake_ca_cert_t *);
        if (!key || !strcmp(c->names, key)) APR_ARRAY_PUSH(found, const fake_ca_cert_t *) = c;
    }
    apr_thread_mutex_unlock(ca->mutex);
    return found;
}

void fake_ca_ari_window(fake_ca_t *ca, const fake_ca_cert_t *cert, apr_time_t *pstart, apr_time_t *pend)
{
    apr_time_t life = apr_time_sec(cert->not_after - cert->not_before), now;

    apr_thread_mutex_lock(ca->mutex);
    now = md_clock_now(ca->clock);
    if (ca->set[FAKE_CA_SET_ARI_URGENT] || cert->revoked
        || cert->not_before < apr_time_from_sec(ca->set[FAKE_CA_SET_ARI_URGENT_BEFORE])) {
        *pstart = now - apr_time_from_sec(2 * 3600);
        *pend = now - apr_time_from_sec(3600);
    }
    else {
        *pstart = cert->not_before + apr_time_from_sec(life * 2 / 3 + ca->set[FAKE_CA_SET_ARI_SHIFT]);
        *pend = cert->not_before + apr_time_from_sec(life * 5 / 6 + ca->set[FAKE_CA_SET_ARI_SHIFT]);
    }
    apr_thread_mutex_unlock(ca->mutex);
}
