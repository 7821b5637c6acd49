/* Unit tests for atomic writes, reads, mkdir -p and rm -rf. */
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <dirent.h>
#include <sys/stat.h>
#include <apr_strings.h>

#include "md_file.h"
#include "test_common.h"

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) ++n;
    }
    closedir(d);
    return n;
}

static mode_t file_mode(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_mode & 07777;
}

START_TEST(write_atomic_modes_and_replace)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *f = md_file_join(p, dir, "secret.pem", NULL);
    char *data;
    apr_size_t len;

    ck_assert_int_eq(md_file_write_atomic(f, "first", 5, MD_FPERMS_SECRET, p), APR_SUCCESS);
    ck_assert_int_eq(file_mode(f), 0600);
    ck_assert_int_eq(md_file_read(&data, &len, f, p), APR_SUCCESS);
    ck_assert_str_eq(data, "first");
    ck_assert_int_eq(md_file_write_atomic(f, "second!", 7, MD_FPERMS_PUBLIC, p), APR_SUCCESS);
    ck_assert_int_eq(file_mode(f), 0644);
    ck_assert_int_eq(md_file_read(&data, &len, f, p), APR_SUCCESS);
    ck_assert_uint_eq(len, 7);
    ck_assert_str_eq(data, "second!");
    ck_assert_int_eq(count_entries(dir), 1);      /* no temp file left behind */
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* the unflushed variant (challenge responses): same contract but the flushes */
START_TEST(write_atomic_nosync_replaces)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *f = md_file_join(p, dir, "token.txt", NULL);
    char *data;
    apr_size_t len;

    ck_assert_int_eq(md_file_write_atomic_nosync(f, "one", 3, MD_FPERMS_PUBLIC, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_write_atomic_nosync(f, "two!", 4, MD_FPERMS_PUBLIC, p), APR_SUCCESS);
    ck_assert_int_eq(file_mode(f), 0644);
    ck_assert_int_eq(md_file_read(&data, &len, f, p), APR_SUCCESS);
    ck_assert_str_eq(data, "two!");
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_ne(md_file_write_atomic_nosync(md_file_join(p, dir, "missing", "x", NULL), "x", 1,
                                                 MD_FPERMS_PUBLIC, p), APR_SUCCESS);
    ck_assert_int_eq(count_entries(dir), 1);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

/* A pid that no process has: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();

    if (pid == 0) _exit(0);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return pid;
}

static void touch(const char *dir, const char *name, apr_pool_t *p)
{
    ck_assert_int_eq(md_file_write_atomic(md_file_join(p, dir, name, NULL), "x", 1, MD_FPERMS_PUBLIC, p),
                     APR_SUCCESS);
}

/* a writer killed mid-write leaves .NAME.tmp.PID.XXXXXX; only those of dead writers are swept */
START_TEST(sweep_dead_temps)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p);
    const char *dead = apr_psprintf(p, ".ari.json.tmp.%ld.AbC123", (long)dead_pid());
    const char *alive = apr_psprintf(p, ".job.json.tmp.%ld.XyZ789", (long)getpid());

    touch(dir, dead, p);
    touch(dir, alive, p);
    touch(dir, "ari.json", p);
    touch(dir, ".old.tmp.AbC123", p);               /* no pid: not ours to judge */
    touch(dir, ".x.tmp.12ab.AbC123", p);            /* not a pid */
    ck_assert_int_eq(md_file_sweep_dead_temps(dir), 1);
    ck_assert_int_eq(md_file_is(md_file_join(p, dir, dead, NULL), APR_REG, p), APR_ENOENT);
    ck_assert_int_eq(md_file_is(md_file_join(p, dir, alive, NULL), APR_REG, p), APR_SUCCESS);
    ck_assert_int_eq(count_entries(dir), 4);
    ck_assert_int_eq(md_file_sweep_dead_temps(md_file_join(p, dir, "missing", NULL)), 0);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(write_atomic_failure_keeps_old_file)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *f = md_file_join(p, dir, "a.json", NULL);
    const char *blocker = md_file_join(p, dir, "sub", NULL);
    char *data;
    apr_size_t len;

    ck_assert_int_eq(md_file_write_atomic(f, "{}", 2, 0600, p), APR_SUCCESS);
    /* a directory in the way of the rename: the write fails and nothing else changes */
    ck_assert_int_eq(mkdir(blocker, 0700), 0);
    ck_assert_int_eq(mkdir(md_file_join(p, blocker, "x", NULL), 0700), 0);
    ck_assert_int_ne(md_file_write_atomic(blocker, "data", 4, 0600, p), APR_SUCCESS);
    ck_assert_int_eq(count_entries(dir), 2);
    ck_assert_int_eq(md_file_read(&data, &len, f, p), APR_SUCCESS);
    ck_assert_str_eq(data, "{}");
    /* a missing directory: no file appears */
    ck_assert_int_ne(md_file_write_atomic(md_file_join(p, dir, "nope", "f", NULL), "x", 1, 0600, p),
                     APR_SUCCESS);
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(read_missing_and_empty)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *f = md_file_join(p, dir, "empty", NULL);
    char *data;
    apr_size_t len;

    ck_assert(APR_STATUS_IS_ENOENT(md_file_read(&data, &len, md_file_join(p, dir, "missing", NULL), p)));
    ck_assert_int_eq(md_file_write_atomic(f, "", 0, 0600, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_read(&data, &len, f, p), APR_SUCCESS);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(data, "");
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(mkdirs_and_rm_rf)
{
    apr_pool_t *p = md_test_pool();
    const char *dir = md_test_mkdtemp(p), *deep = md_file_join(p, dir, "a", "b", "c", NULL);
    const char *top = md_file_join(p, dir, "a", NULL);

    ck_assert_int_eq(md_file_mkdirs(deep, 0750, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_is(deep, APR_DIR, p), APR_SUCCESS);
    ck_assert_int_eq(file_mode(deep), 0750 & ~(mode_t)0);
    ck_assert_int_eq(md_file_mkdirs(deep, 0750, p), APR_SUCCESS);        /* exists: fine */
    ck_assert_int_eq(md_file_write_atomic(md_file_join(p, deep, "f", NULL), "x", 1, 0600, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_is(md_file_join(p, deep, "f", NULL), APR_REG, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_is(md_file_join(p, deep, "f", NULL), APR_DIR, p), APR_ENOENT);
    ck_assert_int_ne(md_file_mkdirs(md_file_join(p, deep, "f", "g", NULL), 0700, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_rm_rf(top, p), APR_SUCCESS);
    ck_assert_int_eq(md_file_is(top, APR_DIR, p), APR_ENOENT);
    ck_assert_int_eq(md_file_rm_rf(top, p), APR_SUCCESS);                /* missing: fine */
    md_test_rmdir(dir, p);
    md_test_pool_done(p);
}
END_TEST

START_TEST(join_paths)
{
    apr_pool_t *p = md_test_pool();

    ck_assert_str_eq(md_file_join(p, "/a", "b", "c.json", NULL), "/a/b/c.json");
    ck_assert_str_eq(md_file_join(p, "/a/", "b", NULL), "/a/b");
    ck_assert_str_eq(md_file_join(p, "x", NULL), "x");
    md_test_pool_done(p);
}
END_TEST

/* Owners of files written for other servers: names, numbers, a group alone; unknown ones named. */
START_TEST(owner_parse)
{
    apr_pool_t *p = md_test_pool();
    const char *err = NULL;
    uid_t uid;
    gid_t gid;

    ck_assert_int_eq(md_file_owner_parse(&uid, &gid, "root", &err, p), APR_SUCCESS);
    ck_assert_int_eq(uid, 0);
    ck_assert_int_eq(gid, (gid_t)-1);
    ck_assert_int_eq(md_file_owner_parse(&uid, &gid, "root:root", &err, p), APR_SUCCESS);
    ck_assert_int_eq(uid, 0);
    ck_assert_int_eq(gid, 0);
    ck_assert_int_eq(md_file_owner_parse(&uid, &gid, "1234:5678", &err, p), APR_SUCCESS);
    ck_assert_int_eq(uid, 1234);
    ck_assert_int_eq(gid, 5678);
    ck_assert_int_eq(md_file_owner_parse(&uid, &gid, ":0", &err, p), APR_SUCCESS);
    ck_assert_int_eq(uid, (uid_t)-1);
    ck_assert_int_eq(gid, 0);
    ck_assert_int_eq(md_file_owner_parse(&uid, &gid, "no-such-user-x", &err, p), APR_EINVAL);
    ck_assert_str_eq(err, "'no-such-user-x': no such user 'no-such-user-x'");
    ck_assert_int_eq(md_file_owner_parse(&uid, &gid, "root:no-such-group-x", &err, p), APR_EINVAL);
    ck_assert_str_eq(err, "'root:no-such-group-x': no such group 'no-such-group-x'");
    ck_assert_int_eq(md_file_owner_parse(&uid, &gid, ":", &err, p), APR_EINVAL);
    md_test_pool_done(p);
}
END_TEST

Suite *md_test_file_suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("file");

    tcase_add_test(tc, write_atomic_modes_and_replace);
    tcase_add_test(tc, write_atomic_failure_keeps_old_file);
    tcase_add_test(tc, write_atomic_nosync_replaces);
    tcase_add_test(tc, sweep_dead_temps);
    tcase_add_test(tc, read_missing_and_empty);
    tcase_add_test(tc, mkdirs_and_rm_rf);
    tcase_add_test(tc, join_paths);
    tcase_add_test(tc, owner_parse);
    suite_add_tcase(s, tc);
    return s;
}
