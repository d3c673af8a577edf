/*
 * sv_io.h - atomic output files: everything sylva writes (CSV, model files,
 * reports) goes to a temporary file beside the target and is renamed over
 * it only when complete, so a failure (disk full, read-only directory,
 * interrupt) leaves any previous file intact and no half-written output.
 * The temporary is flock'ed until the rename, and sv_atomic_open removes
 * the unlocked temporaries of the same target that killed writers left
 * (io.c; docs/reliability.md).
 */
#ifndef SV_IO_H
#define SV_IO_H

#include <stdio.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_atomic_file {
    FILE *fp;
    char *path;     /* final path */
    char *tmp_path; /* temporary file in the same directory */
} sv_atomic_file;

/* Opens a temporary file beside `path` for writing (binary). */
sv_status sv_atomic_open(sv_atomic_file *af, const char *path, sv_err *err);
/* Flushes, syncs, closes and renames over the target. On any failure the
 * temporary file is removed and the target is untouched. */
sv_status sv_atomic_commit(sv_atomic_file *af, sv_err *err);
/* Abandons the temporary file (idempotent; safe after commit). */
void sv_atomic_abort(sv_atomic_file *af);

#ifdef __cplusplus
}
#endif
#endif
