/* Unit tests of activations in batches (md_store_activate_many): shared flushes, crashes at every step, names
 * that go on their own. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>

#include "md_file.h"
#include "md_result.h"
#include "test_common.h"
#include "test_store.h"

#define MANY_TIMEOUT 600
#define MAX_STEPS 128

/* n names with an old set in domains/ (none for the first) and a new one staged. */
typedef struct {
    const char *dir;
    md_store_t *store;
    int n;
    const char **names;
    test_set_t **old_sets;      /* NULL entries: a first activation */
    test_set_t **new_sets;
} many_t;

static void many_setup(many_t *m, int n, int first_new, apr_pool_t *p)
{
    int i;

    m->dir = md_test_mkdtemp(p);
    m->store = test_store_open(m->dir, p);
    m->n = n;
    m->names = apr_pcalloc(p, (apr_size_t)n * sizeof(*m->names));
    m->old_sets = apr_pcalloc(p, (apr_size_t)n * sizeof(*m->old_sets));
    m->new_sets = apr_pcalloc(p, (apr_size_t)n * sizeof(*m->new_sets));
    for (i = 0; i < n; ++i) {
        m->names[i] = apr_psprintf(p, "md%02d.example.org", i);
        m->new_sets[i] = test_set_make(apr_psprintf(p, "CN=new%d", i), p);
        test_set_save(m->store, MD_SG_STAGING, m->names[i], m->new_sets[i], p);
        if (i == 0 && first_new) continue;
        m->old_sets[i] = test_set_make(apr_psprintf(p, "CN=old%d", i), p);
        test_set_save(m->store, MD_SG_DOMAINS, m->names[i], m->old_sets[i], p);
    }
}

static const char *gdir(md_store_t *store, md_store_group_t group, const char *name, apr_pool_t *p)
{
    const char *path = NULL;

    ck_assert_int_eq(md_store_get_fname(&path, store, group, name, NULL, p), APR_SUCCESS);
    return path;
}

/* md_store_activate_many of all names; each must succeed (or, after recovery, may have nothing left to do). */
static void activate_all(many_t *m, md_store_step_cb *cb, void *baton, int after_recovery, apr_pool_t *p)
{
    apr_status_t *rvs = apr_pcalloc(p, (apr_size_t)m->n * sizeof(*rvs));
    md_result_t **results = apr_pcalloc(p, (apr_size_t)m->n * sizeof(*results));
    int i;

    for (i = 0; i < m->n; ++i) results[i] = md_result_make(p);
    md_store_activate_many(m->store, m->names, m->n, cb, baton, rvs, results, p);
    for (i = 0; i < m->n; ++i) {
        ck_assert_msg(rvs[i] == APR_SUCCESS || (after_recovery && rvs[i] == APR_ENOENT), "%s: %d %s", m->names[i], rvs[i],
                      results[i]->detail ? results[i]->detail : "");
    }
}

/* Every name: the new set in domains/, the old one as archive/NAME.1; nothing in staging/ or tmp/. */
static void check_final(const many_t *m, apr_pool_t *p)
{
    int i;

    for (i = 0; i < m->n; ++i) {
        ck_assert_msg(test_set_is_in(m->store, MD_SG_DOMAINS, m->names[i], m->new_sets[i], p), "%s: not new",
                      m->names[i]);
        if (m->old_sets[i]) {
            ck_assert_msg(test_set_is_in(m->store, MD_SG_ARCHIVE, apr_pstrcat(p, m->names[i], ".1", NULL),
                                         m->old_sets[i], p), "%s: the old set is not archived", m->names[i]);
            ck_assert(!md_store_exists(m->store, MD_SG_ARCHIVE, apr_pstrcat(p, m->names[i], ".2", NULL), NULL, p));
        }
    }
    ck_assert_int_eq(test_dir_count(gdir(m->store, MD_SG_STAGING, NULL, p)), 0);
    ck_assert_int_eq(test_dir_count(gdir(m->store, MD_SG_TMP, NULL, p)), 0);
}

/* After a crash, each name: domains/ holds its old set or its new one (or nothing yet, first activation), and
 * neither set is lost (the old one may wait in tmp/ or the archive, the new one in staging/ or tmp/). */
static void check_interrupted(const many_t *m, apr_pool_t *p)
{
    const char *name, *ready;
    int i, d_old, d_new;

    for (i = 0; i < m->n; ++i) {
        name = m->names[i];
        ready = apr_pstrcat(p, name, ".ready", NULL);
        d_new = test_set_is_in(m->store, MD_SG_DOMAINS, name, m->new_sets[i], p);
        d_old = m->old_sets[i] && test_set_is_in(m->store, MD_SG_DOMAINS, name, m->old_sets[i], p);
        ck_assert_msg(d_old || d_new || (!m->old_sets[i] && !md_store_exists(m->store, MD_SG_DOMAINS, name, NULL,
                                                                             p)), "%s: domains/ is broken", name);
        ck_assert_msg(d_new || test_set_is_in(m->store, MD_SG_STAGING, name, m->new_sets[i], p), "%s: new lost",
                      name);
        if (m->old_sets[i]) {
            ck_assert_msg(d_old || test_set_is_in(m->store, MD_SG_TMP, ready, m->old_sets[i], p)
                          || test_set_is_in(m->store, MD_SG_ARCHIVE, apr_pstrcat(p, name, ".1", NULL),
                                            m->old_sets[i], p), "%s: old lost", name);
        }
    }
}

typedef struct {
    int crash_at, last;
    apr_array_header_t *log;     /* steps and flushes in order (the flush test) */
    apr_pool_t *p;
} seq_t;

static void seq_step(void *baton, int step, const char *what)
{
    seq_t *s = baton;

    if (!what || !*what || step != s->last + 1) _exit(TEST_CHILD_BAD_STEP);
    s->last = step;
    if (s->log) APR_ARRAY_PUSH(s->log, const char *) = apr_pstrdup(s->p, what);
    if (step == s->crash_at) _exit(TEST_CHILD_CRASHED);
}

static void seq_synced(const char *path, void *baton)
{
    seq_t *s = baton;

    APR_ARRAY_PUSH(s->log, const char *) = apr_pstrcat(s->p, "flush ", path, NULL);
}

/* md_store_activate_many of all names in a forked child that dies right after step crash_at of the batch. */
static int many_child(many_t *m, int crash_at)
{
    int status = 0;
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        apr_pool_t *cp = NULL;
        seq_t s = { crash_at, 0, NULL, NULL };
        apr_status_t *rvs;
        md_result_t **results;
        int i;

        if (apr_pool_create(&cp, NULL) != APR_SUCCESS) _exit(TEST_CHILD_FAILED);
        rvs = apr_pcalloc(cp, (apr_size_t)m->n * sizeof(*rvs));
        results = apr_pcalloc(cp, (apr_size_t)m->n * sizeof(*results));
        for (i = 0; i < m->n; ++i) results[i] = md_result_make(cp);
        md_store_activate_many(m->store, m->names, m->n, seq_step, &s, rvs, results, cp);
        for (i = 0; i < m->n; ++i) if (rvs[i] != APR_SUCCESS) _exit(TEST_CHILD_FAILED);
        _exit(TEST_CHILD_DONE);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Three sets replaced and one first set, in one batch: all copies before the one shared flush, then each marked
 * ready and swapped, then one more flush; that is two flushes for the four (one at a time: eight each). */
START_TEST(many_flushes_shared)
{
    apr_pool_t *p = md_test_pool();
    seq_t s = { 0, 0, NULL, p };
    const char *what, *base;
    many_t m;
    int i, first = -1, second = -1, readies = 0, swaps = 0;

    many_setup(&m, 4, 1, p);
    base = md_store_base_dir(m.store);
    s.log = apr_array_make(p, 64, sizeof(const char *));
    md_file_on_synced(seq_synced, &s);
    activate_all(&m, seq_step, &s, 0, p);
    md_file_on_synced(NULL, NULL);
    check_final(&m, p);
    for (i = 0; i < s.log->nelts; ++i) {
        what = APR_ARRAY_IDX(s.log, i, const char *);
        if (!strncmp(what, "flush ", 6)) {
            ck_assert_str_eq(what + 6, base);
            ck_assert_int_eq(second, -1);
            if (first < 0) first = i;
            else second = i;
        }
        else if (!strcmp(what, "ready")) {
            ck_assert_msg(first >= 0 && second < 0, "ready at %d", i);
            ++readies;
        }
        else if (!strcmp(what, "exchanged") || !strcmp(what, "new set in place")) {
            ck_assert_msg(first >= 0 && second < 0, "%s at %d", what, i);
            ++swaps;
        }
        else if (!strncmp(what, "copied ", 7)) {
            ck_assert_msg(first < 0, "%s at %d", what, i);
        }
    }
    ck_assert_int_gt(first, 0);
    ck_assert_int_eq(second, s.log->nelts - 1);
    ck_assert_int_eq(readies, 4);
    ck_assert_int_eq(swaps, 4);
    md_test_rmdir(m.dir, p);
    md_test_pool_done(p);
}
END_TEST

/* More names than a batch: 40 names in two batches, two flushes each. */
START_TEST(many_in_batches)
{
    apr_pool_t *p = md_test_pool();
    seq_t s = { 0, 0, NULL, p };
    many_t m;
    int i, flushes = 0;

    many_setup(&m, 40, 0, p);
    s.log = apr_array_make(p, 64, sizeof(const char *));
    md_file_on_synced(seq_synced, &s);
    activate_all(&m, NULL, NULL, 0, p);
    md_file_on_synced(NULL, NULL);
    check_final(&m, p);
    for (i = 0; i < s.log->nelts; ++i) flushes += !strncmp(APR_ARRAY_IDX(s.log, i, const char *), "flush ", 6);
    ck_assert_int_eq(flushes, 4);
    md_test_rmdir(m.dir, p);
    md_test_pool_done(p);
}
END_TEST

/* A crash after every step of a batch of three (one of them a first activation): every name keeps a complete set
 * in domains/ and loses none; the next open (recovery) and batch end with all new sets active, one archive each. */
START_TEST(many_crash_every_step)
{
    apr_pool_t *p = md_test_pool();
    int n, rc, done = 0;
    many_t m;

    for (n = 1; n < MAX_STEPS && !done; ++n) {
        apr_pool_t *ip = NULL;

        apr_pool_create(&ip, p);
        many_setup(&m, 3, 1, ip);
        rc = many_child(&m, n);
        if (rc == TEST_CHILD_DONE) done = 1;
        else {
            ck_assert_msg(rc == TEST_CHILD_CRASHED, "step %d: child exit %d", n, rc);
            check_interrupted(&m, ip);
            m.store = test_store_open(m.dir, ip);       /* recovery */
            check_interrupted(&m, ip);
            activate_all(&m, NULL, NULL, 1, ip);
        }
        check_final(&m, ip);
        md_test_rmdir(m.dir, ip);
        apr_pool_destroy(ip);
    }
    ck_assert(done);
    ck_assert_int_ge(n, 3 * 10);
    md_test_pool_done(p);
}
END_TEST

/* A name without staging/NAME whose earlier activation stopped after the swap (it needs the store's lock
 * exclusively) goes on its own after the batch let its shared locks go: no deadlock, the others in the batch. */
START_TEST(many_interrupted_alone)
{
    apr_pool_t *p = md_test_pool();
    apr_status_t rvs[3];
    md_result_t *results[3];
    many_t m;
    int i;

    many_setup(&m, 3, 0, p);
    ck_assert_int_eq(test_activate_child(m.store, m.names[1], 0, "unstaged"), TEST_CHILD_CRASHED);
    ck_assert(!md_store_exists(m.store, MD_SG_STAGING, m.names[1], NULL, p));
    for (i = 0; i < 3; ++i) results[i] = md_result_make(p);
    md_store_activate_many(m.store, m.names, 3, NULL, NULL, rvs, results, p);
    ck_assert_int_eq(rvs[0], APR_SUCCESS);
    ck_assert_int_eq(rvs[1], APR_ENOENT);      /* its cleanup finished, nothing staged */
    ck_assert_int_eq(rvs[2], APR_SUCCESS);
    check_final(&m, p);
    md_test_rmdir(m.dir, p);
    md_test_pool_done(p);
}
END_TEST

void test_store_add_many_tcases(Suite *s)
{
    TCase *tc = tcase_create("activate_many");

    tcase_set_timeout(tc, MANY_TIMEOUT);
    tcase_add_test(tc, many_flushes_shared);
    tcase_add_test(tc, many_in_batches);
    tcase_add_test(tc, many_crash_every_step);
    tcase_add_test(tc, many_interrupted_alone);
    suite_add_tcase(s, tc);
}
