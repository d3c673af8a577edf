/*
 * io.c - atomic output files (sv_io.h).
 *
 * Stale temporaries. A process killed between creating TARGET.tmpXXXXXX
 * and renaming it (kill -9, a power cut) leaves the temporary beside the
 * target. A writer therefore holds an exclusive flock(2) on its temporary
 * from creation to rename, and every open of TARGET removes the
 * temporaries of the same target that nobody holds: the kernel drops a
 * lock when its process dies, however it dies, so a temporary that can be
 * locked belongs to no live writer. A writer that finds its own new
 * temporary gone (removed by another writer in the instant before it took
 * the lock) makes a new one.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock */
#include "sv_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Is name "<base>.tmp" followed by the 6 characters mkstemp puts there? */
static int is_temp_of(const char *name, const char *base, size_t nb)
{
    if (strncmp(name, base, nb) != 0 || strncmp(name + nb, ".tmp", 4) != 0) return 0;
    const char *x = name + nb + 4;
    if (strlen(x) != 6) return 0;
    for (int i = 0; i < 6; i++) {
        char c = x[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* Removes the temporaries of `path` (TARGET.tmpXXXXXX, regular files) that
 * no live writer holds locked, except `keep`. Best effort: anything it
 * cannot open or lock is left alone. */
static void remove_stale_temps(const char *path, const char *keep)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t nd = slash ? (size_t)(slash - path) : 0, nb = strlen(base);
    if (nb == 0) return;
    char *dname = malloc(nd + 2);
    char *cand = malloc(nd + nb + 16);
    if (!dname || !cand) {
        free(dname);
        free(cand);
        return;
    }
    if (slash && nd == 0) strcpy(dname, "/");
    else if (slash) {
        memcpy(dname, path, nd);
        dname[nd] = '\0';
    } else {
        strcpy(dname, ".");
    }
    DIR *d = opendir(dname);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!is_temp_of(e->d_name, base, nb)) continue;
            if (slash) {
                memcpy(cand, path, nd + 1);
                strcpy(cand + nd + 1, e->d_name);
            } else {
                strcpy(cand, e->d_name);
            }
            if (strcmp(cand, keep) == 0) continue;
            int fd = open(cand, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) continue;
            struct stat st;
            if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
                (void)unlink(cand); /* the lock is ours: its writer is dead */
            close(fd);
        }
        closedir(d);
    }
    free(dname);
    free(cand);
}

sv_status sv_atomic_open(sv_atomic_file *af, const char *path, sv_err *err)
{
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = dup_str(path);
    af->tmp_path = malloc(n + 16);
    if (!af->path || !af->tmp_path) {
        sv_atomic_abort(af);
        return sv_err_set(err, SV_ENOMEM, "out of memory opening '%s'", path);
    }
    int fd = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(af->tmp_path, n + 16, "%s.tmpXXXXXX", path);
        fd = mkstemp(af->tmp_path);
        if (fd < 0) break;
        /* Held until the rename (or the process's death); then check that
         * no other writer removed the file before the lock was taken. */
        struct stat a, b;
        if (flock(fd, LOCK_EX) != 0) break; /* no locks on this file system:
                                               no cleaning either */
        if (fstat(fd, &a) == 0 && stat(af->tmp_path, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            break;
        close(fd); /* removed as stale before we locked it: try another */
        fd = -1;
        errno = EAGAIN;
    }
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        sv_atomic_abort(af);
        return sv_err_set(err, SV_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    remove_stale_temps(path, af->tmp_path);
    /* mkstemp creates the file private (0600); give the result the mode
     * an ordinary open would: the target's mode when it exists, else
     * 0666 less the umask. (umask can only be read by setting it; the
     * engine's worker threads create no files in that instant.) */
    struct stat st;
    mode_t mode;
    if (stat(path, &st) == 0) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(077);
        umask(mask);
        mode = 0666 & ~mask;
    }
    (void)fchmod(fd, mode); /* on failure the file just stays private */
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        sv_atomic_abort(af);
        return sv_err_set(err, SV_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    return SV_OK;
}

sv_status sv_atomic_commit(sv_atomic_file *af, sv_err *err)
{
    int failed = 0, e = 0;
    if (!af->fp) return sv_err_set(err, SV_EIO, "file is not open");
    if (ferror(af->fp) || fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0) {
        failed = 1;
        e = errno ? errno : EIO;
    }
    /* Renamed while still open, so still locked: no other writer can take
     * it for a stale temporary in between. The data is synced, so a close
     * failing after the rename loses nothing. */
    if (!failed && rename(af->tmp_path, af->path) != 0) {
        failed = 1;
        e = errno;
    }
    fclose(af->fp);
    af->fp = NULL;
    if (failed) {
        sv_status st = sv_err_set(err, SV_EIO, "cannot write '%s': %s", af->path, strerror(e));
        sv_atomic_abort(af);
        return st;
    }
    free(af->tmp_path);
    af->tmp_path = NULL;
    free(af->path);
    af->path = NULL;
    return SV_OK;
}

void sv_atomic_abort(sv_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp_path) {
        remove(af->tmp_path);
        free(af->tmp_path);
        af->tmp_path = NULL;
    }
    free(af->path);
    af->path = NULL;
}
