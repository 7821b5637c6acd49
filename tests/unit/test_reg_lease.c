/* Unit tests of the leases on MDs (STORE/leases/NAME.json): one holder at a time, expiry and take-over, dead holders of
 * this machine, unreadable files, and many processes racing for one lease. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>

#include "md_file.h"
#include "md_json.h"
#include "md_reg_lease.h"
#include "test_common.h"
#include "test_reg.h"

#define NAME "a.example.org"
#define MIN apr_time_from_sec(60)

static const char *lease_path(tr_t *f)
{
    return md_file_join(f->p, md_store_base_dir(f->store), MD_REG_LEASES_DIR, NAME ".json", NULL);
}

static md_json_t *lease_json(tr_t *f)
{
    md_json_t *json = NULL;

    ck_assert_int_eq(md_json_readf(&json, lease_path(f), NULL, f->p), APR_SUCCESS);
    return json;
}

static void lease_write(tr_t *f, md_json_t *json)
{
    ck_assert_int_eq(md_json_writef(json, MD_JSON_FMT_INDENT, lease_path(f), 0644, f->p), APR_SUCCESS);
}

/* One holder: a second taker is told who holds it and until when; after the release it is free again. */
START_TEST(lease_one_holder)
{
    md_reg_lease_t *a = NULL, *b = NULL;
    md_reg_lease_info_t other;
    tr_t f;

    tr_init(&f, 0);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(lease_json(&f), "holder", NULL), md_reg_lease_me(f.p));
    ck_assert_int_eq(md_reg_lease_take(&b, &other, f.reg, NAME, MIN, f.p), APR_EBUSY);
    ck_assert_ptr_null(b);
    ck_assert_str_eq(other.holder, md_reg_lease_me(f.p));
    ck_assert(other.until >= tr_now(&f) + MIN - apr_time_from_sec(1));
    md_reg_lease_get(&other, f.reg, NAME, f.p);
    ck_assert_ptr_nonnull(other.holder);
    md_reg_lease_release(a);
    ck_assert(md_file_is(lease_path(&f), APR_REG, f.p) != APR_SUCCESS);
    md_reg_lease_get(&other, f.reg, NAME, f.p);
    ck_assert_ptr_null(other.holder);
    ck_assert_int_eq(md_reg_lease_take(&b, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    md_reg_lease_release(b);
    tr_done(&f);
}
END_TEST

/* A lease that is not renewed ends: another taker gets it, the first holder's renewal says it was lost, and its
 * release leaves the new lease alone. A renewal in time extends it. */
START_TEST(lease_expiry)
{
    md_reg_lease_t *a = NULL, *b = NULL;
    apr_time_t until;
    tr_t f;

    tr_init(&f, 0);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    until = md_reg_lease_until(a);
    md_clock_sim_advance(f.sim, apr_time_from_sec(40));
    ck_assert_int_eq(md_reg_lease_renew(a), APR_SUCCESS);
    ck_assert(md_reg_lease_until(a) >= until + apr_time_from_sec(40));
    md_clock_sim_advance(f.sim, apr_time_from_sec(40));
    ck_assert_int_eq(md_reg_lease_take(&b, NULL, f.reg, NAME, MIN, f.p), APR_EBUSY);    /* renewed: 20 s left */
    md_clock_sim_advance(f.sim, apr_time_from_sec(21));
    ck_assert_int_eq(md_reg_lease_take(&b, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_lease_renew(a), APR_EBUSY);
    md_reg_lease_release(a);
    ck_assert_int_eq(md_file_is(lease_path(&f), APR_REG, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_lease_renew(b), APR_SUCCESS);
    md_reg_lease_release(b);
    tr_done(&f);
}
END_TEST

/* A holder on another machine: its pid means nothing here, only the expiry counts. */
START_TEST(lease_other_node)
{
    md_reg_lease_t *a = NULL;
    md_reg_lease_info_t other;
    md_json_t *json;
    tr_t f;

    tr_init(&f, 0);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    json = lease_json(&f);
    md_reg_lease_release(a);
    md_json_sets("web2.example.net pid 99999", json, "holder", NULL);
    md_json_sets("web2.example.net 0000 pid:[1]", json, "node", NULL);
    md_json_setl(999999999, json, "pid", NULL);          /* no such process here */
    md_json_sets("other", json, "nonce", NULL);
    lease_write(&f, json);
    ck_assert_int_eq(md_reg_lease_take(&a, &other, f.reg, NAME, MIN, f.p), APR_EBUSY);
    ck_assert_str_eq(other.holder, "web2.example.net pid 99999");
    md_clock_sim_advance(f.sim, MIN + apr_time_from_sec(1));
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    ck_assert_str_eq(md_json_gets(lease_json(&f), "holder", NULL), md_reg_lease_me(f.p));
    md_reg_lease_release(a);
    tr_done(&f);
}
END_TEST

/* A holder of this machine that died (killed mid-renewal) does not block the MD until its lease ends. */
START_TEST(lease_dead_holder)
{
    md_reg_lease_t *a = NULL;
    md_json_t *json;
    pid_t pid;
    int status;
    tr_t f;

    tr_init(&f, 0);
    pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, &status, 0);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    json = lease_json(&f);
    md_reg_lease_release(a);
    md_json_setl((long long)pid, json, "pid", NULL);
    md_json_sets("dead", json, "nonce", NULL);
    lease_write(&f, json);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    md_reg_lease_release(a);
    /* one that ended and is not yet reaped (its parent was killed too): still answers kill(pid, 0) */
    pid = fork();
    if (pid == 0) _exit(0);
    apr_sleep(apr_time_from_msec(200));
    md_json_setl((long long)pid, json, "pid", NULL);
    md_json_sets("zombie", json, "nonce", NULL);
    lease_write(&f, json);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    md_reg_lease_release(a);
    waitpid(pid, &status, 0);
    tr_done(&f);
}
END_TEST

/* Field 22 of /proc/self/stat: this process's start time. */
static long long own_start(void)
{
    char buf[1024];
    const char *s = NULL;
    FILE *f = fopen("/proc/self/stat", "r");
    int i;

    if (f && fgets(buf, sizeof(buf), f)) s = strrchr(buf, ')');
    if (f) fclose(f);
    for (i = 2; s && i < 22; ++i) s = strchr(s + 1, ' ');
    return s ? strtoll(s + 1, NULL, 10) : -1;
}

/* The holder's node and start time are read once per process: a forked child's lease names the child (its pid and
 * start time), not what its parent read before the fork. */
START_TEST(lease_holder_after_fork)
{
    md_reg_lease_t *a = NULL;
    md_json_t *json;
    pid_t pid;
    int status;
    tr_t f;

    tr_init(&f, 0);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    json = lease_json(&f);
    ck_assert_int_eq(md_json_getl(json, "pid", NULL), (long long)getpid());
    ck_assert_int_eq(md_json_getl(json, "start", NULL), own_start());
    md_reg_lease_release(a);
    apr_sleep(apr_time_from_msec(30));      /* the child starts some clock ticks later */
    pid = fork();
    if (pid == 0) {
        if (md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p) != APR_SUCCESS) _exit(1);
        json = lease_json(&f);
        if (md_json_getl(json, "pid", NULL) != (long long)getpid()) _exit(2);
        if (md_json_getl(json, "start", NULL) != own_start()) _exit(3);
        md_reg_lease_release(a);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
    tr_done(&f);
}
END_TEST

/* A file that cannot be read (garbage, empty after a crash) holds nothing. */
START_TEST(lease_unreadable)
{
    md_reg_lease_t *a = NULL;
    tr_t f;

    tr_init(&f, 0);
    md_file_mkdirs(md_file_join(f.p, md_store_base_dir(f.store), MD_REG_LEASES_DIR, NULL), 0755, f.p);
    ck_assert_int_eq(md_file_write_atomic(lease_path(&f), "", 0, 0644, f.p), APR_SUCCESS);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    md_reg_lease_release(a);
    tr_done(&f);
}
END_TEST

/* Racing processes on the real clock, over a stale lease (another node's, expired): exactly one of them wins. */
START_TEST(lease_race)
{
    enum { N = 8 };
    md_reg_lease_t *a = NULL;
    md_reg_t *reg;
    md_json_t *json;
    pid_t pids[N];
    int i, status, go[2], wins = 0;
    char c = 'x';
    tr_t f;

    tr_init(&f, 0);
    reg = md_reg_make(f.store, NULL, f.p);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, reg, NAME, MIN, f.p), APR_SUCCESS);
    json = lease_json(&f);
    md_reg_lease_release(a);
    md_json_sets("web2.example.net 0000 pid:[1]", json, "node", NULL);
    md_json_sets("stale", json, "nonce", NULL);
    md_json_setl((long long)(apr_time_now() - apr_time_from_sec(1)), json, "expires", NULL);
    lease_write(&f, json);
    ck_assert_int_eq(pipe(go), 0);
    for (i = 0; i < N; ++i) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(go[1]);
            if (read(go[0], &c, 1) != 0) _exit(3);           /* all start when the pipe closes */
            status = md_reg_lease_take(&a, NULL, reg, NAME, MIN, f.p) == APR_SUCCESS ? 0 : 1;
            apr_sleep(apr_time_from_msec(500));              /* alive while the others try: no dead holder */
            _exit(status);
        }
    }
    close(go[0]);
    close(go[1]);
    for (i = 0; i < N; ++i) {
        waitpid(pids[i], &status, 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 1);
        if (WEXITSTATUS(status) == 0) ++wins;
    }
    ck_assert_int_eq(wins, 1);
    tr_done(&f);
}
END_TEST

/* The runner drives an MD under its lease: one another node holds is not driven (nothing asked of the CA), the
 * item says who holds it and when to look again; after the lease ends it is driven, and the lease is released. */
START_TEST(lease_runner)
{
    md_reg_lease_t *a = NULL;
    md_reg_item_t *item;
    md_json_t *json;
    tr_t f;

    tr_init(&f, 0);
    tr_add(&f, NAME);
    ck_assert_int_eq(md_reg_lease_take(&a, NULL, f.reg, NAME, MIN, f.p), APR_SUCCESS);
    json = lease_json(&f);
    md_reg_lease_release(a);
    md_json_sets("web2.example.net pid 7", json, "holder", NULL);
    md_json_sets("web2.example.net 0000 pid:[1]", json, "node", NULL);
    lease_write(&f, json);
    item = tr_run1(&f, NAME, 0);
    tr_assert_outcome(item, MD_DRIVE_LEASED);
    ck_assert_int_eq(item->rv, APR_SUCCESS);
    tr_assert_has(item->detail, "renewed by web2.example.net pid 7");
    ck_assert(item->next > tr_now(&f) && item->next <= tr_now(&f) + MIN);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_ANY), 0);
    md_clock_sim_advance(f.sim, MIN + apr_time_from_sec(1));
    tr_assert_outcome(tr_run1(&f, NAME, 0), MD_DRIVE_ACTIVATED);
    ck_assert_int_eq(fake_ca_count(f.ca, FAKE_CA_NEW_ORDER), 1);
    ck_assert(md_file_is(lease_path(&f), APR_REG, f.p) != APR_SUCCESS);
    tr_done(&f);
}
END_TEST

Suite *md_test_reg_lease_suite(void)
{
    Suite *s = suite_create("reg_lease");
    TCase *tc = tcase_create("lease");

    tcase_add_test(tc, lease_one_holder);
    tcase_add_test(tc, lease_expiry);
    tcase_add_test(tc, lease_other_node);
    tcase_add_test(tc, lease_dead_holder);
    tcase_add_test(tc, lease_holder_after_fork);
    tcase_add_test(tc, lease_unreadable);
    tcase_add_test(tc, lease_race);
    tcase_add_test(tc, lease_runner);
    suite_add_tcase(s, tc);
    return s;
}
