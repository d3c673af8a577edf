/*
 * io.c - atomic output files (sv_io.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sv_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
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
    snprintf(af->tmp_path, n + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        sv_atomic_abort(af);
        return sv_err_set(err, SV_EIO, "cannot write '%s': %s", path, strerror(e));
    }
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
    if (fclose(af->fp) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    af->fp = NULL;
    if (!failed && rename(af->tmp_path, af->path) != 0) {
        failed = 1;
        e = errno;
    }
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
