/*
 * sv_core.h - what every engine module shares: status codes, the error
 * buffer, the run context (threads, progress, cancellation), checked
 * allocation and the parallel-for over pthreads.
 *
 * The engine never includes a Lua header and keeps no file-scope mutable
 * state: everything a call needs arrives through its arguments.
 */
#ifndef SV_CORE_H
#define SV_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SV_VERSION_MAJOR 0
#define SV_VERSION_MINOR 1
#define SV_VERSION_PATCH 0
#define SV_VERSION_STRING "0.1.0"

/* Status returned by every engine function that can fail. */
typedef enum sv_status {
    SV_OK = 0,
    SV_EINVAL = 1,  /* bad argument: the message names it */
    SV_ENOMEM = 2,  /* allocation failed or size overflowed */
    SV_EIO = 3,     /* file could not be opened, read or written */
    SV_EFORMAT = 4, /* file contents are malformed or damaged */
    SV_EINTR = 5,   /* cancelled through sv_ctx.cancel */
    SV_ENUM = 6     /* numerical failure (no convergence, singular) */
} sv_status;

#define SV_ERRMSG_MAX 512

/* Caller-owned error buffer: a status plus a human-readable message. */
typedef struct sv_err {
    sv_status status;
    char msg[SV_ERRMSG_MAX];
} sv_err;

/* Records status and a printf-style message in err (if err is not NULL)
 * and returns status, so that `return sv_err_set(err, ...)` reads well. */
sv_status sv_err_set(sv_err *err, sv_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void sv_err_clear(sv_err *err);
const char *sv_status_name(sv_status s);

/*
 * Progress callback: done out of total units of work. Called only from the
 * thread that started the work (never concurrently), at most a few hundred
 * times per call. `what` names the stage ("forest.train").
 */
typedef void (*sv_progress_fn)(void *ud, const char *what, size_t done,
                               size_t total);

/* The context of one engine call. Zero-initialised is valid: all cores,
 * no progress, no cancellation. */
typedef struct sv_ctx {
    int threads;                  /* 0 = all online cores */
    sv_progress_fn progress;      /* may be NULL */
    void *progress_ud;
    volatile const int *cancel;   /* may be NULL; nonzero requests a stop */
} sv_ctx;

/* Number of worker threads a context asks for, resolved (>= 1). */
int sv_ctx_threads(const sv_ctx *ctx);
/* Nonzero when cancellation was requested. */
int sv_ctx_cancelled(const sv_ctx *ctx);

/*
 * Checked allocation: NULL on failure or when n * size overflows.
 * sv_calloc zero-fills. Memory is released with free().
 */
void *sv_malloc(size_t n, size_t size);
void *sv_calloc(size_t n, size_t size);

/*
 * Parallel for: calls task(ud, i, worker, err) for i in [0, n), spreading
 * the indices over sv_ctx_threads(ctx) workers (worker in [0, threads)).
 * Indices are claimed dynamically, so a task must write only to outputs
 * owned by index i (or by `worker` for scratch space): then the result does
 * not depend on the number of threads. The first task that fails stops the
 * rest; its status and message are returned in err. Cancellation is checked
 * between tasks (SV_EINTR). Progress, if set in ctx, is reported as tasks
 * complete, with `what` as the stage name.
 */
typedef sv_status (*sv_task_fn)(void *ud, size_t i, int worker, sv_err *err);
sv_status sv_parallel_for(const sv_ctx *ctx, const char *what, size_t n,
                          int max_workers, sv_task_fn task, void *ud,
                          sv_err *err);

/* Seconds from a monotonic clock. */
double sv_clock(void);

#ifdef __cplusplus
}
#endif
#endif
