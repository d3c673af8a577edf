/*
 * core.c - error buffer, checked allocation, clock and the parallel-for.
 *
 * The parallel-for creates its worker threads per call. Work items are
 * coarse in every caller (a tree, a block of rows, a bootstrap replicate),
 * so thread start-up (tens of microseconds) is negligible, and a per-call
 * pool cannot leak threads when a call is cancelled or fails.
 */
#define _POSIX_C_SOURCE 200809L
#include "sv_core.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

sv_status sv_err_set(sv_err *err, sv_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void sv_err_clear(sv_err *err)
{
    if (err) {
        err->status = SV_OK;
        err->msg[0] = '\0';
    }
}

const char *sv_status_name(sv_status s)
{
    switch (s) {
    case SV_OK: return "ok";
    case SV_EINVAL: return "invalid argument";
    case SV_ENOMEM: return "out of memory";
    case SV_EIO: return "input/output error";
    case SV_EFORMAT: return "malformed input";
    case SV_EINTR: return "interrupted";
    case SV_ENUM: return "numerical failure";
    }
    return "unknown status";
}

int sv_ctx_threads(const sv_ctx *ctx)
{
    int t = ctx ? ctx->threads : 0;
    if (t <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        t = n > 0 ? (int)n : 1;
    }
    return t;
}

int sv_ctx_cancelled(const sv_ctx *ctx)
{
    return ctx && ctx->cancel && *ctx->cancel;
}

void *sv_malloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    if (n == 0 || size == 0) return malloc(1);
    return malloc(n * size);
}

void *sv_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    if (n == 0 || size == 0) return calloc(1, 1);
    return calloc(n, size);
}

double sv_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Shared state of one sv_parallel_for call. */
typedef struct pfor {
    const sv_ctx *ctx;
    const char *what;
    size_t n;
    sv_task_fn task;
    void *ud;
    size_t next;    /* next index to claim (atomic) */
    size_t done;    /* completed tasks (atomic) */
    int failed;     /* set once by the first failure (atomic) */
    pthread_mutex_t lock;
    sv_err first;   /* error of the first failing task, under lock */
} pfor;

typedef struct worker_arg {
    pfor *pf;
    int worker;
} worker_arg;

static void pfor_fail(pfor *pf, const sv_err *e)
{
    pthread_mutex_lock(&pf->lock);
    if (!pf->failed) {
        pf->first = *e;
        __atomic_store_n(&pf->failed, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&pf->lock);
}

static void *pfor_run(void *arg)
{
    worker_arg *wa = arg;
    pfor *pf = wa->pf;
    sv_err e;
    size_t last_reported = 0;
    for (;;) {
        if (__atomic_load_n(&pf->failed, __ATOMIC_ACQUIRE)) break;
        if (sv_ctx_cancelled(pf->ctx)) {
            sv_err_set(&e, SV_EINTR, "interrupted");
            pfor_fail(pf, &e);
            break;
        }
        size_t i = __atomic_fetch_add(&pf->next, 1, __ATOMIC_RELAXED);
        if (i >= pf->n) break;
        sv_err_clear(&e);
        sv_status st = pf->task(pf->ud, i, wa->worker, &e);
        if (st != SV_OK) {
            if (e.status == SV_OK) sv_err_set(&e, st, "%s", sv_status_name(st));
            pfor_fail(pf, &e);
            break;
        }
        size_t d = __atomic_add_fetch(&pf->done, 1, __ATOMIC_RELAXED);
        /* Only the calling thread reports, so callbacks never run
         * concurrently; about 200 reports per call at most. */
        if (wa->worker == 0 && pf->ctx && pf->ctx->progress) {
            size_t step = pf->n / 200 + 1;
            if (d - last_reported >= step || d == pf->n) {
                last_reported = d;
                pf->ctx->progress(pf->ctx->progress_ud, pf->what, d, pf->n);
            }
        }
    }
    return NULL;
}

sv_status sv_parallel_for(const sv_ctx *ctx, const char *what, size_t n,
                          int max_workers, sv_task_fn task, void *ud,
                          sv_err *err)
{
    pfor pf;
    memset(&pf, 0, sizeof pf);
    pf.ctx = ctx;
    pf.what = what ? what : "";
    pf.n = n;
    pf.task = task;
    pf.ud = ud;
    sv_err_clear(&pf.first);
    if (n == 0) return SV_OK;

    int nw = sv_ctx_threads(ctx);
    if (max_workers > 0 && nw > max_workers) nw = max_workers;
    if ((size_t)nw > n) nw = (int)n;
    if (nw < 1) nw = 1;

    pthread_mutex_init(&pf.lock, NULL);
    pthread_t *tids = NULL;
    worker_arg *args = sv_malloc((size_t)nw, sizeof *args);
    if (nw > 1) tids = sv_malloc((size_t)nw, sizeof *tids);
    if (!args || (nw > 1 && !tids)) {
        free(args);
        free(tids);
        pthread_mutex_destroy(&pf.lock);
        return sv_err_set(err, SV_ENOMEM, "out of memory starting %d threads", nw);
    }
    int started = 1;
    for (int w = 1; w < nw; w++) {
        args[w].pf = &pf;
        args[w].worker = w;
        if (pthread_create(&tids[w], NULL, pfor_run, &args[w]) != 0) break;
        started++;
    }
    args[0].pf = &pf;
    args[0].worker = 0;
    pfor_run(&args[0]);
    for (int w = 1; w < started; w++) pthread_join(tids[w], NULL);
    free(tids);
    free(args);
    pthread_mutex_destroy(&pf.lock);

    if (pf.failed) {
        if (err) *err = pf.first;
        return pf.first.status;
    }
    if (ctx && ctx->progress) ctx->progress(ctx->progress_ud, pf.what, n, n);
    return SV_OK;
}
