/*
 * test_io.c - atomic output files.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sv_io.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sv_io_testXXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A committed file replaces the old one; nothing else is left behind. */
/* The names in dir that start with prefix, counted. */
static int count_prefixed(const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

static void touch(const char *name)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs("stale", f);
    fclose(f);
}

static int exists(const char *name)
{
    char p[400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* Regression: a writer killed with SIGKILL between creating its temporary
 * and the rename left a full-size TARGET.tmpXXXXXX beside the target
 * forever. The next write of the same target removes it (the dead
 * writer's lock is gone), but keeps a temporary a live writer holds
 * locked, other targets' temporaries, and names that only look alike. */
static void test_stale_temporaries_removed(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/model.bin", dir);
    sv_atomic_file af;
    sv_err err;
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    fputs("old", af.fp);
    assert_int_equal(sv_atomic_commit(&af, &err), SV_OK);
    /* a child killed with SIGKILL in the middle of a write */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sv_atomic_file c;
        sv_err e;
        if (sv_atomic_open(&c, path, &e) != SV_OK) _exit(2);
        for (int i = 0; i < 100000; i++) fputs("partial ", c.fp);
        fflush(c.fp);
        raise(SIGKILL);
        _exit(3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(count_prefixed("model.bin.tmp"), 1);
    /* an unlocked look-alike of a dead writer, and names to be kept */
    touch("model.bin.tmpAb3dE9");
    touch("other.bin.tmpAb3dE9");   /* another target */
    touch("model.bin.tmpABC");      /* not mkstemp's 6 characters */
    touch("model.bin.tmp_x-y.z");
    /* a live writer: holds its temporary locked */
    touch("model.bin.tmpLiVe01");
    char live[400];
    snprintf(live, sizeof live, "%s/model.bin.tmpLiVe01", dir);
    int lfd = open(live, O_RDONLY);
    assert_true(lfd >= 0);
    assert_int_equal(flock(lfd, LOCK_EX), 0);
    assert_int_equal(count_prefixed("model.bin.tmp"), 5);

    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    fputs("new", af.fp);
    assert_int_equal(sv_atomic_commit(&af, &err), SV_OK);
    assert_string_equal(slurp(path), "new");
    assert_false(exists("model.bin.tmpAb3dE9"));
    assert_true(exists("model.bin.tmpLiVe01"));
    assert_true(exists("other.bin.tmpAb3dE9"));
    assert_true(exists("model.bin.tmpABC"));
    assert_true(exists("model.bin.tmp_x-y.z"));
    /* the killed child's temporary is gone: 3 names remain */
    assert_int_equal(count_prefixed("model.bin.tmp"), 3);
    close(lfd);
    /* the tests after this one expect a directory without temporaries */
    const char *left[] = {"model.bin.tmpLiVe01", "other.bin.tmpAb3dE9", "model.bin.tmpABC",
                          "model.bin.tmp_x-y.z"};
    for (int k = 0; k < 4; k++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", dir, left[k]);
        assert_int_equal(unlink(p), 0);
    }
}

static void test_commit_replaces(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    sv_atomic_file af;
    sv_err err;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
        fprintf(af.fp, "version %d", k);
        assert_int_equal(sv_atomic_commit(&af, &err), SV_OK);
    }
    assert_string_equal(slurp(path), "version 1");
}

/* An abandoned write leaves the previous file intact and no temporary. */
static void test_abort_keeps_previous(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/keep.txt", dir);
    sv_atomic_file af;
    sv_err err;
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    fputs("good", af.fp);
    assert_int_equal(sv_atomic_commit(&af, &err), SV_OK);
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    fputs("half", af.fp);
    sv_atomic_abort(&af);
    assert_string_equal(slurp(path), "good");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls %s | grep -c tmp) -eq 0", dir);
    assert_int_equal(system(cmd), 0);
}

/* A directory that cannot be written gives SV_EIO with the path named. */
static void test_unwritable_dir_is_clear_error(void **state)
{
    (void)state;
    if (geteuid() == 0) {
        /* root ignores permissions: use a path under a missing directory */
        char path[300];
        snprintf(path, sizeof path, "%s/missing/x.txt", dir);
        sv_atomic_file af;
        sv_err err;
        assert_int_equal(sv_atomic_open(&af, path, &err), SV_EIO);
        assert_non_null(strstr(err.msg, path));
        return;
    }
    char sub[300], path[320];
    snprintf(sub, sizeof sub, "%s/ro", dir);
    mkdir(sub, 0500);
    snprintf(path, sizeof path, "%s/x.txt", sub);
    sv_atomic_file af;
    sv_err err;
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_EIO);
    assert_non_null(strstr(err.msg, path));
}

/* The committed file has the mode an ordinary open gives (0666 less the
 * umask), not mkstemp's private 0600; a replaced file keeps its mode. */
static void test_mode_like_open(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/mode.txt", dir);
    mode_t old = umask(022);
    sv_atomic_file af;
    sv_err err;
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    fputs("x\n", af.fp);
    assert_int_equal(sv_atomic_commit(&af, &err), SV_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    fputs("y\n", af.fp);
    assert_int_equal(sv_atomic_commit(&af, &err), SV_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    umask(old);
}

/* A full device makes commit fail and leaves the target untouched. */
static void test_full_device(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0) skip();
    /* /dev/full cannot host a temporary file beside it, so write through a
     * FILE swapped for /dev/full to exercise the flush failure path. */
    char path[300];
    snprintf(path, sizeof path, "%s/full.txt", dir);
    sv_atomic_file af;
    sv_err err;
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    fputs("old", af.fp);
    assert_int_equal(sv_atomic_commit(&af, &err), SV_OK);
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    char *tmp = strdup(af.tmp_path);
    fclose(af.fp);
    af.fp = fopen("/dev/full", "wb");
    assert_non_null(af.fp);
    for (int i = 0; i < 10000; i++) fputs("data that will not fit ", af.fp);
    assert_int_equal(sv_atomic_commit(&af, &err), SV_EIO);
    assert_string_equal(slurp(path), "old");
    assert_int_equal(access(tmp, F_OK), -1);
    free(tmp);
}

/* A target that is a directory: the rename fails with the path named,
 * the directory is untouched and no temporary file is left. */
static void test_target_is_directory(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    sv_atomic_file af;
    sv_err err;
    assert_int_equal(sv_atomic_open(&af, path, &err), SV_OK);
    fputs("data", af.fp);
    assert_int_equal(sv_atomic_commit(&af, &err), SV_EIO);
    assert_non_null(strstr(err.msg, path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls %s | grep -c tmp) -eq 0", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_replaces),
        cmocka_unit_test(test_stale_temporaries_removed),
        cmocka_unit_test(test_abort_keeps_previous),
        cmocka_unit_test(test_unwritable_dir_is_clear_error),
        cmocka_unit_test(test_mode_like_open),
        cmocka_unit_test(test_full_device),
        cmocka_unit_test(test_target_is_directory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
