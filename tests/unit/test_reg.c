/* The registry tests' fixture: a store, the fake CA on a simulated clock, a local responder, an event program. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "md_cert.h"
#include "md_file.h"
#include "md_job.h"
#include "md_jws.h"
#include "md_time.h"
#include "test_common.h"
#include "test_reg.h"

#define CA_BASE "https://ca.test"

static const char *SCRIPT =
    "#!/bin/sh\n"
    "d=\"$(dirname \"$0\")\"\n"
    "tag=\"$1\"; shift\n"
    "echo \"$tag $*\" >> \"$d/calls\"\n"
    "case \"$tag\" in\n"
    "  D) ev=\"$1\"; dom=\"$2\"; val=\"$3\" ;;\n"
    "  N) ev=notify ;;\n"
    "  *) ev=\"$1\"; dom=\"$3\"; val=\"$4\"; [ -n \"$5\" ] && val=\"$5\" ;;\n"
    "esac\n"
    "f=\"$d/exit.$ev\"; [ -f \"$f\" ] || f=\"$d/exit\"\n"
    "code=0\n"
    "if [ -f \"$f\" ]; then\n"
    "  code=$(head -n 1 \"$f\")\n"
    "  if [ \"$(wc -l < \"$f\")\" -gt 1 ]; then tail -n +2 \"$f\" > \"$f.tmp\" && mv \"$f.tmp\" \"$f\"; fi\n"
    "fi\n"
    "if [ \"$code\" = 0 ]; then\n"
    "  case \"$ev\" in\n"
    "    setup|poll-setup) mkdir -p \"$d/dns-01\"; echo \"$val\" >> \"$d/dns-01/$dom\" ;;\n"
    "    teardown) if [ -n \"$val\" ] && [ -f \"$d/dns-01/$dom\" ]; then\n"
    "                grep -v -x -F \"$val\" \"$d/dns-01/$dom\" > \"$d/dns.tmp\"; mv \"$d/dns.tmp\" \"$d/dns-01/$dom\"\n"
    "              else rm -f \"$d/dns-01/$dom\"; fi ;;\n"
    "    setup-http-01|poll-setup-http-01) mkdir -p \"$d/http-01\"; echo \"$val\" > \"$d/http-01/$dom\" ;;\n"
    "    teardown-http-01) rm -f \"$d/http-01/$dom\" ;;\n"
    "  esac\n"
    "fi\n"
    "echo \"output of $tag $ev\"\n"
    "exit $code\n";

apr_time_t tr_now(tr_t *f)
{
    return md_clock_now(f->clock);
}

/* Remember the time of key's first event in h. */
static void note_time(tr_t *f, apr_hash_t *h, const char *key)
{
    apr_time_t *t;

    if (apr_hash_get(h, key, APR_HASH_KEY_STRING)) return;
    t = apr_palloc(f->p, sizeof(*t));

    *t = tr_now(f);
    apr_hash_set(h, apr_pstrdup(f->p, key), APR_HASH_KEY_STRING, t);
}

static void append_call(tr_t *f, const char *line)
{
    apr_file_t *fd = NULL;
    const char *path = md_file_join(f->p, f->dir, "calls", NULL);

    ck_assert_int_eq(apr_file_open(&fd, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_APPEND,
                                   APR_FPROT_OS_DEFAULT, f->p), APR_SUCCESS);
    apr_file_puts(line, fd);
    apr_file_puts("\n", fd);
    apr_file_close(fd);
}

/* ---- the local responders (in-process http-01 and tls-alpn-01, like the server's own) ----------------------- */

static int local_supports(void *baton, const char *type)
{
    (void)baton;
    return !strcmp(type, "http-01");
}

static int local_serves(void *baton, const char *domain)
{
    tr_t *f = baton;

    return !f->local_serves || !strcmp(domain, f->local_serves);
}

/* tls-alpn-01, preferred for the MD's acme-tls/1 names, as the module's. */
typedef struct {
    tr_t *f;
    const md_t *md;
} tls_local_t;

static int tls_supports(void *baton, const char *type)
{
    (void)baton;
    return !strcmp(type, "tls-alpn-01");
}

static int tls_serves(void *baton, const char *domain)
{
    return md_acme_tls_1_has(((tls_local_t *)baton)->md, domain);
}

/* With the rendezvous on: wait (at most 2 s) until two setups overlapped once. */
static void rendezvous(tr_t *f)
{
    int i, met = 0;

    for (i = 0; i < 2000 && !met; ++i) {
        apr_thread_mutex_lock(f->lock);
        met = f->max_in_setup >= 2;
        apr_thread_mutex_unlock(f->lock);
        if (!met) apr_sleep(apr_time_from_msec(1));
    }
}

/* With local_files: the answer where the CA's validation looks in files (NULL: removed). */
static void local_file(tr_t *f, const md_challenge_setup_t *ch, const char *answer, apr_pool_t *p)
{
    const char *dir = md_file_join(p, f->dir, ch->type, NULL), *path = md_file_join(p, dir, ch->domain, NULL);

    if (!f->local_files) return;
    if (!answer) {
        unlink(path);
        return;
    }
    md_file_mkdirs(dir, MD_DPERMS_PUBLIC, p);
    md_file_write_atomic_nosync(path, apr_pstrcat(p, answer, "\n", NULL), strlen(answer) + 1, 0644, p);
}

static apr_status_t local_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    tr_t *f = baton;

    (void)result;
    local_file(f, ch, ch->key_authz, p);
    apr_thread_mutex_lock(f->lock);
    apr_hash_set(f->answers, apr_pstrcat(f->p, ch->type, " ", ch->domain, NULL), APR_HASH_KEY_STRING,
                 apr_pstrdup(f->p, ch->key_authz));
    note_time(f, f->setup_at, apr_pstrcat(p, ch->type, " ", ch->domain, NULL));
    append_call(f, apr_pstrcat(p, "local setup ", ch->domain, NULL));
    if (++f->in_setup > f->max_in_setup) f->max_in_setup = f->in_setup;
    apr_thread_mutex_unlock(f->lock);
    if (f->rendezvous) rendezvous(f);
    apr_thread_mutex_lock(f->lock);
    f->in_setup--;
    apr_thread_mutex_unlock(f->lock);
    return APR_SUCCESS;
}

static apr_status_t local_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    tr_t *f = baton;

    (void)result;
    local_file(f, ch, NULL, p);
    apr_thread_mutex_lock(f->lock);
    apr_hash_set(f->answers, apr_pstrcat(p, ch->type, " ", ch->domain, NULL), APR_HASH_KEY_STRING, NULL);
    append_call(f, apr_pstrcat(p, "local teardown ", ch->domain, NULL));
    apr_thread_mutex_unlock(f->lock);
    return APR_SUCCESS;
}

static apr_status_t tls_setup(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    return local_setup(((tls_local_t *)baton)->f, ch, result, p);
}

static apr_status_t tls_teardown(void *baton, const md_challenge_setup_t *ch, md_result_t *result, apr_pool_t *p)
{
    return local_teardown(((tls_local_t *)baton)->f, ch, result, p);
}

static apr_status_t add_local(void *baton, md_responders_t *rs, const md_t *md, apr_pool_t *p)
{
    tr_t *f = baton;
    tls_local_t *tls;
    md_responder_t r;

    if (!f->local) return APR_SUCCESS;
    memset(&r, 0, sizeof(r));
    r.name = "local http-01";
    r.supports = local_supports;
    r.setup = local_setup;
    r.teardown = local_teardown;
    r.serves = local_serves;
    r.baton = f;
    md_responders_add(rs, &r);
    if (!f->local_tls) return APR_SUCCESS;
    tls = apr_pcalloc(p, sizeof(*tls));
    tls->f = f;
    tls->md = md;
    r.name = "local tls-alpn-01";
    r.supports = tls_supports;
    r.setup = tls_setup;
    r.teardown = tls_teardown;
    r.serves = tls_serves;
    r.baton = tls;
    md_responders_add(rs, &r);
    return APR_SUCCESS;
}

/* ---- the CA's validation: the local answers, then what the program published -------------------------- */

static int file_has_line(const char *path, const char *want, apr_pool_t *p)
{
    char *text = NULL, *line, *state = NULL;
    apr_size_t len;

    if (md_file_read(&text, &len, path, p) != APR_SUCCESS) return 0;
    for (line = apr_strtok(text, "\n", &state); line; line = apr_strtok(NULL, "\n", &state)) {
        if (!strcmp(line, want)) return 1;
    }
    return 0;
}

static int validate(void *baton, const char *type, const char *identifier, const char *token,
                    const char *key_authz, const char **pproblem, const char **pdetail, apr_pool_t *p)
{
    tr_t *f = baton;
    const char *want = strcmp(type, "dns-01") ? key_authz : md_jws_dns01_txt(key_authz, p), *have;
    int ok;

    (void)token;
    apr_thread_mutex_lock(f->lock);
    append_call(f, apr_pstrcat(p, "CA validate ", type, " ", identifier, NULL));
    note_time(f, f->validated_at, apr_pstrcat(p, type, " ", identifier, NULL));
    have = apr_hash_get(f->answers, apr_pstrcat(p, type, " ", identifier, NULL), APR_HASH_KEY_STRING);
    ok = (have && !strcmp(have, want))
         || file_has_line(md_file_join(p, f->dir, type, identifier, NULL), want, p);
    apr_thread_mutex_unlock(f->lock);
    if (ok) return 0;
    *pproblem = "incorrectResponse";
    *pdetail = apr_psprintf(p, "%s for %s: the answer is not in place", type, identifier);
    return 1;
}

/* ---- done ---------------------------------------------------------------------------------------------- */

static void on_done(void *baton, md_reg_item_t *item, apr_pool_t *p)
{
    tr_t *f = baton;

    (void)p;
    apr_thread_mutex_lock(f->lock);
    APR_ARRAY_PUSH(f->done, const char *) = apr_pstrcat(f->p, item->name, " ", md_drive_outcome_str(item->outcome),
                                                        item->again ? " again" : "", NULL);
    apr_thread_mutex_unlock(f->lock);
}

void tr_init(tr_t *f, int lifetime_days)
{
    md_result_t *result;

    memset(f, 0, sizeof(*f));
    f->p = md_test_pool();
    f->dir = md_test_mkdtemp(f->p);
    result = md_result_make(f->p);
    ck_assert_int_eq(md_store_fs_open(&f->store, md_file_join(f->p, f->dir, "store", NULL), result, f->p),
                     APR_SUCCESS);
    ck_assert_int_eq(md_time_parse_rfc3339(&f->start, TR_START), APR_SUCCESS);
    f->sim = md_clock_sim_make(f->start, f->p);
    f->clock = md_clock_sim_clock(f->sim);
    f->reg = md_reg_make(f->store, f->clock, f->p);
    f->ca = fake_ca_create(CA_BASE, f->clock, f->p);
    if (lifetime_days) fake_ca_set(f->ca, FAKE_CA_SET_LIFETIME, lifetime_days * 86400L);
    fake_ca_set_validate(f->ca, validate, f);
    ck_assert_int_eq(apr_thread_mutex_create(&f->lock, APR_THREAD_MUTEX_NESTED, f->p), APR_SUCCESS);
    f->answers = apr_hash_make(f->p);
    f->setup_at = apr_hash_make(f->p);
    f->validated_at = apr_hash_make(f->p);
    f->done = apr_array_make(f->p, 8, sizeof(const char *));
    f->script = md_file_join(f->p, f->dir, "hook.sh", NULL);
    ck_assert_int_eq(md_file_write_atomic(f->script, SCRIPT, strlen(SCRIPT), 0755, f->p), APR_SUCCESS);
    f->events.store_dir = md_store_base_dir(f->store);
    f->local = 1;
    f->rn.drive.store = f->store;
    f->rn.drive.http_backend = fake_ca_backend(f->ca);
    f->rn.drive.clock = f->clock;
    f->rn.drive.poll_min = apr_time_from_msec(10);
    f->rn.drive.poll_max = apr_time_from_msec(50);
    f->rn.drive.authz_timeout = apr_time_from_sec(60);
    f->rn.drive.order_timeout = apr_time_from_sec(60);
    f->rn.drive.retry_base = apr_time_from_sec(60);
    f->rn.events = &f->events;
    f->rn.workers = 1;
    f->rn.local = add_local;
    f->rn.local_baton = f;
    f->rn.done = on_done;
    f->rn.done_baton = f;
}

void tr_done(tr_t *f)
{
    md_test_rmdir(f->dir, f->p);
    md_test_pool_done(f->p);
}

md_t *tr_md(tr_t *f, const char *names)
{
    apr_array_header_t *domains = apr_array_make(f->p, 2, sizeof(const char *));
    char *copy = apr_pstrdup(f->p, names), *s, *state = NULL;
    md_pkey_spec_t *ec = apr_pcalloc(f->p, sizeof(*ec));
    md_t *md;

    for (s = apr_strtok(copy, ",", &state); s; s = apr_strtok(NULL, ",", &state)) {
        APR_ARRAY_PUSH(domains, const char *) = s;
    }
    md = md_create(domains, f->p);
    APR_ARRAY_PUSH(md->ca_urls, const char *) = fake_ca_directory_url(f->ca);
    APR_ARRAY_PUSH(md->contacts, const char *) = "mailto:admin@example.org";
    md->ca_agreement = "accepted";
    ec->type = MD_PKEY_EC;
    ec->curve = "secp256r1";
    apr_array_clear(md->pks);
    APR_ARRAY_PUSH(md->pks, md_pkey_spec_t *) = ec;
    return md;
}

void tr_save(tr_t *f, const md_t *md)
{
    md_result_t *result = md_result_make(f->p);

    ck_assert_msg(md_save(md, f->store, MD_SG_DOMAINS, 0, result, f->p) == APR_SUCCESS, "saving %s: %s", md->name,
                  md_result_text(result, f->p));
}

md_t *tr_load(tr_t *f, const char *name)
{
    md_t *md = NULL;

    ck_assert_int_eq(md_load(&md, f->store, MD_SG_DOMAINS, name, NULL, f->p), APR_SUCCESS);
    return md;
}

md_t *tr_add(tr_t *f, const char *names)
{
    md_t *md = tr_md(f, names);

    tr_save(f, md);
    return md;
}

apr_array_header_t *tr_prog(tr_t *f, const char *tag)
{
    apr_array_header_t *argv = apr_array_make(f->p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(argv, const char *) = f->script;
    APR_ARRAY_PUSH(argv, const char *) = tag;
    return argv;
}

void tr_exit(tr_t *f, const char *event, const char *codes)
{
    const char *path = md_file_join(f->p, f->dir, event ? apr_pstrcat(f->p, "exit.", event, NULL) : "exit", NULL);
    const char *text = apr_pstrcat(f->p, codes, "\n", NULL);

    ck_assert_int_eq(md_file_write_atomic(path, text, strlen(text), 0644, f->p), APR_SUCCESS);
}

const char *tr_calls(tr_t *f)
{
    const char *path = md_file_join(f->p, f->dir, "calls", NULL);
    char *text = NULL;
    apr_size_t len;

    if (md_file_read(&text, &len, path, f->p) != APR_SUCCESS) return "";
    unlink(path);
    return text;
}

apr_array_header_t *tr_items(tr_t *f, const char *names)
{
    apr_array_header_t *items = apr_array_make(f->p, 4, sizeof(md_reg_item_t *));
    char *copy = apr_pstrdup(f->p, names), *s, *state = NULL;
    md_reg_item_t *item;

    for (s = apr_strtok(copy, " ", &state); s; s = apr_strtok(NULL, " ", &state)) {
        item = apr_pcalloc(f->p, sizeof(*item));
        item->name = s;
        APR_ARRAY_PUSH(items, md_reg_item_t *) = item;
    }
    return items;
}

md_reg_item_t *tr_item(apr_array_header_t *items, int i)
{
    ck_assert_int_lt(i, items->nelts);
    return APR_ARRAY_IDX(items, i, md_reg_item_t *);
}

void tr_run(tr_t *f, apr_array_header_t *items, md_reg_run_stats_t *pstats)
{
    md_reg_renew_many(pstats, f->reg, &f->rn, items, f->p);
}

md_reg_item_t *tr_run1(tr_t *f, const char *name, int force)
{
    apr_array_header_t *items = tr_items(f, name);
    md_reg_item_t *item = tr_item(items, 0);

    item->flags.force = force;
    item->flags.activate = 1;
    tr_run(f, items, NULL);
    return item;
}

void tr_assert_outcome(const md_reg_item_t *item, md_drive_outcome_t want)
{
    ck_assert_msg(item->outcome == want, "%s: %s, expected %s (%s)", item->name, md_drive_outcome_str(item->outcome),
                  md_drive_outcome_str(want), item->detail ? item->detail : "no detail");
}

md_job_t *tr_job(tr_t *f, const char *name)
{
    md_job_t *job = NULL;

    ck_assert_int_eq(md_job_load(&job, f->store, MD_SG_STAGING, name, NULL, f->p), APR_SUCCESS);
    return job;
}

md_cert_t *tr_leaf(tr_t *f, const char *name)
{
    md_t *md = tr_load(f, name);
    void *chain = NULL;

    if (md_store_load(&chain, f->store, MD_SG_DOMAINS, name, md_cert_aspect(md, 0, f->p), MD_SV_CHAIN, NULL, f->p)
        != APR_SUCCESS) return NULL;
    return APR_ARRAY_IDX((apr_array_header_t *)chain, 0, md_cert_t *);
}

void tr_assert_has(const char *haystack, const char *needle)
{
    ck_assert_msg(haystack && strstr(haystack, needle), "'%s' not in:\n%s", needle, haystack ? haystack : "(null)");
}

apr_time_t tr_time_of(tr_t *f, apr_hash_t *h, const char *key)
{
    apr_time_t *t;

    apr_thread_mutex_lock(f->lock);
    t = apr_hash_get(h, key, APR_HASH_KEY_STRING);
    apr_thread_mutex_unlock(f->lock);
    ck_assert_msg(t != NULL, "no time recorded for '%s'", key);
    return *t;
}

int tr_sync(tr_t *f, const md_t *md, apr_interval_time_t activation_delay, int restart)
{
    md_reg_sync_opts_t opts;
    md_reg_sync_item_t item;
    apr_array_header_t *items = apr_array_make(f->p, 1, sizeof(md_reg_sync_item_t *));
    md_result_t *result = md_result_make(f->p);

    memset(&opts, 0, sizeof(opts));
    opts.activation_delay = activation_delay;
    opts.restart = restart;
    memset(&item, 0, sizeof(item));
    item.md = md;
    APR_ARRAY_PUSH(items, md_reg_sync_item_t *) = &item;
    ck_assert_msg(md_reg_sync(f->reg, items, &opts, result, f->p) == APR_SUCCESS, "sync: %s",
                  md_result_text(result, f->p));
    return item.activated;
}

/* ---- a runner in a child process, the CA in this one ----------------------------------------------------- */

#define NO_STR 0xffffffffu

static int put_all(int fd, const void *buf, size_t len)
{
    const char *b = buf;
    ssize_t n;

    while (len > 0) {
        n = write(fd, b, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        b += n;
        len -= (size_t)n;
    }
    return 1;
}

static int get_all(int fd, void *buf, size_t len)
{
    char *b = buf;
    ssize_t n;

    while (len > 0) {
        n = read(fd, b, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        b += n;
        len -= (size_t)n;
    }
    return 1;
}

static int put_u32(int fd, uint32_t v)
{
    return put_all(fd, &v, sizeof(v));
}

static int get_u32(int fd, uint32_t *pv)
{
    return get_all(fd, pv, sizeof(*pv));
}

static int put_mem(int fd, const char *s, apr_size_t len)
{
    if (!s) return put_u32(fd, NO_STR);
    return put_u32(fd, (uint32_t)len) && put_all(fd, s, len);
}

static int put_str(int fd, const char *s)
{
    return put_mem(fd, s, s ? strlen(s) : 0);
}

static int get_mem(int fd, const char **ps, apr_size_t *plen, apr_pool_t *p)
{
    uint32_t len;
    char *s;

    *ps = NULL;
    if (plen) *plen = 0;
    if (!get_u32(fd, &len)) return 0;
    if (len == NO_STR) return 1;
    s = apr_palloc(p, (apr_size_t)len + 1);
    if (!get_all(fd, s, len)) return 0;
    s[len] = '\0';
    *ps = s;
    if (plen) *plen = len;
    return 1;
}

static int put_header(void *baton, const char *key, const char *value)
{
    int fd = *(int *)baton;

    return put_str(fd, key) && put_str(fd, value);
}

static int put_table(int fd, const apr_table_t *t)
{
    uint32_t n = t ? (uint32_t)apr_table_elts(t)->nelts : 0;

    if (!put_u32(fd, n)) return 0;
    return !t || apr_table_do(put_header, &fd, t, NULL);
}

static int get_table(int fd, apr_table_t **pt, apr_pool_t *p)
{
    const char *k, *v;
    uint32_t n, i;

    if (!get_u32(fd, &n)) return 0;
    *pt = apr_table_make(p, (int)n + 1);
    for (i = 0; i < n; ++i) {
        if (!get_mem(fd, &k, NULL, p) || !get_mem(fd, &v, NULL, p)) return 0;
        apr_table_add(*pt, k, v ? v : "");
    }
    return 1;
}

typedef struct {
    int fd;
    apr_thread_mutex_t *lock;     /* the runner's threads take turns */
} proxy_t;

/* The child's HTTP backend: each request to the parent and its answer back. */
static apr_status_t proxy_perform(void *baton, md_http_response_t **presp, const md_http_request_t *req,
                                  const md_http_options_t *opts, md_result_t *result, apr_pool_t *p)
{
    proxy_t *px = baton;
    md_http_response_t *resp = apr_pcalloc(p, sizeof(*resp));
    const char *detail = NULL, *body;
    uint32_t rv = APR_EGENERAL, status = 0;
    apr_size_t len = 0;
    int ok;

    (void)opts;
    *presp = NULL;
    apr_thread_mutex_lock(px->lock);
    ok = put_str(px->fd, req->method) && put_str(px->fd, req->url) && put_str(px->fd, req->content_type)
         && put_mem(px->fd, req->body ? req->body->data : NULL, req->body ? req->body->len : 0)
         && put_table(px->fd, req->headers)
         && get_u32(px->fd, &rv) && get_mem(px->fd, &detail, NULL, p) && get_u32(px->fd, &status)
         && get_table(px->fd, &resp->headers, p) && get_mem(px->fd, &body, &len, p);
    apr_thread_mutex_unlock(px->lock);
    if (!ok) rv = APR_EGENERAL, detail = "the parent is gone";
    if (rv != APR_SUCCESS) {
        md_result_set(result, (apr_status_t)rv, detail);
        return (apr_status_t)rv;
    }
    resp->url = apr_pstrdup(p, req->url);
    resp->status = (int)status;
    resp->body.data = body;
    resp->body.len = len;
    *presp = resp;
    return APR_SUCCESS;
}

#define RESULTS "RESULTS"    /* the child's last message: its items' outcomes, no answer expected */

/* Each item's outcome, next and detail as a line "OUTCOME NEXT DETAIL" (the detail's line breaks made spaces). */
static void send_results(int fd, apr_array_header_t *items, apr_pool_t *p)
{
    const char *text = "";
    md_reg_item_t *item;
    char *detail, *c;
    int i;

    for (i = 0; i < items->nelts; ++i) {
        item = APR_ARRAY_IDX(items, i, md_reg_item_t *);
        detail = apr_pstrdup(p, item->detail ? item->detail : "");
        for (c = detail; *c; ++c) if (*c == '\n' || *c == '\r') *c = ' ';
        text = apr_psprintf(p, "%s%d %" APR_TIME_T_FMT " %s\n", text, (int)item->outcome, item->next, detail);
    }
    if (put_str(fd, RESULTS) && put_str(fd, NULL) && put_str(fd, NULL) && put_str(fd, text)) put_table(fd, NULL);
}

/* The child's results into the parent's items. */
static void take_results(apr_array_header_t *items, const char *text, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, text), *line, *state = NULL, *end;
    md_reg_item_t *item;
    int i = 0;

    for (line = apr_strtok(copy, "\n", &state); line && i < items->nelts; line = apr_strtok(NULL, "\n", &state)) {
        item = APR_ARRAY_IDX(items, i++, md_reg_item_t *);
        item->outcome = (md_drive_outcome_t)strtol(line, &end, 10);
        item->next = (apr_time_t)apr_strtoi64(end, &end, 10);
        if (*end == ' ') ++end;
        item->detail = *end ? apr_pstrdup(p, end) : NULL;
    }
    ck_assert_int_eq(i, items->nelts);
}

static void child_run(tr_t *f, apr_array_header_t *items, int fd)
{
    md_http_backend_t backend = { "proxy", proxy_perform, NULL };
    proxy_t px;

    px.fd = fd;
    apr_thread_mutex_create(&px.lock, APR_THREAD_MUTEX_DEFAULT, f->p);
    backend.baton = &px;
    f->rn.drive.http_backend = &backend;
    md_reg_renew_many(NULL, f->reg, &f->rn, items, f->p);
    send_results(fd, items, f->p);
    _exit(0);
}

/* One request of the child, answered by the CA here; 0 at the child's end (its results, or EOF). *pkilled when the
 * plan hit. */
static int serve_one(tr_t *f, apr_array_header_t *items, int fd, pid_t pid, int n, int kill_at, tr_kill_t how, apr_interval_time_t later,
                     int *pkilled)
{
    md_http_request_t req;
    md_http_response_t *resp = NULL;
    md_data_t body;
    md_result_t *result;
    apr_status_t rv;
    apr_pool_t *p;
    struct pollfd pfd = { fd, POLLIN, 0 };
    int ok;

    ck_assert_msg(poll(&pfd, 1, 120 * 1000) == 1, "the forked runner hangs");
    apr_pool_create(&p, f->p);
    memset(&req, 0, sizeof(req));
    ok = get_mem(fd, &req.method, NULL, p) && get_mem(fd, &req.url, NULL, p) && get_mem(fd, &req.content_type, NULL, p)
         && get_mem(fd, &body.data, &body.len, p) && get_table(fd, &req.headers, p);
    if (ok && req.method && !strcmp(req.method, RESULTS)) {
        take_results(items, body.data ? body.data : "", f->p);
        apr_pool_destroy(p);
        return 0;
    }
    if (ok && n == kill_at && how == TR_KILL_BEFORE) *pkilled = 1;
    if (ok && !*pkilled) {
        req.body = body.data ? &body : NULL;
        result = md_result_make(p);
        rv = fake_ca_backend(f->ca)->perform(fake_ca_backend(f->ca)->baton, &resp, &req, NULL, result, p);
        if (n == kill_at && how == TR_KILL_AFTER) *pkilled = 1;
        else if (rv != APR_SUCCESS) ok = put_u32(fd, (uint32_t)rv) && put_str(fd, md_result_text(result, p))
                                         && put_u32(fd, 0) && put_table(fd, NULL) && put_mem(fd, NULL, 0);
        else ok = put_u32(fd, 0) && put_str(fd, NULL) && put_u32(fd, (uint32_t)resp->status)
                  && put_table(fd, resp->headers) && put_mem(fd, resp->body.data, resp->body.len);
        if (ok && n == kill_at && how == TR_KILL_LATER) {
            if (later > 0) apr_sleep(later);
            *pkilled = 1;
        }
    }
    if (*pkilled) {
        kill(pid, SIGKILL);
        f->killed_url = apr_pstrdup(f->p, req.url);
    }
    apr_pool_destroy(p);
    return ok && !*pkilled;
}

int tr_run_forked(tr_t *f, apr_array_header_t *items, int kill_at, tr_kill_t how, apr_interval_time_t later)
{
    int sv[2], n = 0, killed = 0, status = 0;
    pid_t pid;

    f->killed_url = NULL;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sv[0]);
        child_run(f, items, sv[1]);
    }
    close(sv[1]);
    while (serve_one(f, items, sv[0], pid, ++n, kill_at, how, later, &killed)) ;
    close(sv[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (killed && WIFSIGNALED(status)) return 1;
    f->killed_url = NULL;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return 1;      /* by a hook of the test, in the child */
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the forked runner ended with %d", status);
    return 0;
}

void tr_restart(tr_t *f)
{
    md_result_t *result = md_result_make(f->p);

    ck_assert_msg(md_store_fs_open(&f->store, md_file_join(f->p, f->dir, "store", NULL), result, f->p)
                  == APR_SUCCESS, "opening the store again: %s", md_result_text(result, f->p));
    f->reg->store = f->store;
    f->rn.drive.store = f->store;
}
