/*
 * roc_multi.c - ROC analysis of several classes: Hand and Till's M (the
 * multiclass AUC of pROC's multiclass.roc with a probability matrix), its
 * class-stratified bootstrap, and the one-vs-rest AUCs with DeLong
 * variances. See sv_roc.h and docs/diagnostics.md.
 *
 * Reference: Hand DJ, Till RJ (2001). A simple generalisation of the area
 * under the ROC curve for multiple class classification problems. Machine
 * Learning 45:171-186.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_dist.h"
#include "sv_rng.h"
#include "sv_roc.h"

typedef struct tagged {
    double v;
    int a; /* 1: from the first group */
} tagged;

static int cmp_tagged(const void *x, const void *y)
{
    double a = ((const tagged *)x)->v, b = ((const tagged *)y)->v;
    return a < b ? -1 : a > b;
}

/* P(x > z) + P(x = z) / 2 for x from the rows of class a and z from the
 * rows of class b, both scored by column `col`; rows[0..m) lists the rows
 * of either class. Counted exactly: per tie group, a-values times the
 * b-values below (twice) plus the b-values tied. */
static double pair_auc(const int *y, const double *P, size_t n, int a, int b, int col,
                       const uint32_t *rows, size_t m, tagged *t)
{
    size_t k = 0;
    double na = 0, nb = 0;
    for (size_t r = 0; r < m; r++) {
        size_t i = rows[r];
        int isa = y[i] == a;
        if (!isa && y[i] != b) continue;
        t[k].v = P[(size_t)col * n + i];
        t[k].a = isa;
        k++;
        if (isa) na += 1; else nb += 1;
    }
    qsort(t, k, sizeof *t, cmp_tagged);
    double pairs2 = 0, below = 0;
    for (size_t s = 0; s < k;) {
        size_t e = s;
        double ca = 0, cb = 0;
        while (e < k && t[e].v == t[s].v) {
            if (t[e].a) ca += 1; else cb += 1;
            e++;
        }
        pairs2 += ca * (2.0 * below + cb);
        below += cb;
        s = e;
    }
    return pairs2 / 2.0 / (na * nb);
}

static sv_status check_args(const int *y, const double *P, size_t n, int K, size_t *count,
                            sv_err *err)
{
    if (K < 2) return sv_err_set(err, SV_EINVAL, "at least 2 classes are needed, got %d", K);
    if (n > UINT32_MAX) return sv_err_set(err, SV_EINVAL, "too many rows (%zu)", n);
    for (int k = 0; k < K; k++) count[k] = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= K)
            return sv_err_set(err, SV_EINVAL, "y[%zu] = %d is not a class code in [0, %d)", i + 1,
                              y[i], K);
        count[y[i]]++;
    }
    for (size_t j = 0; j < n * (size_t)K; j++)
        if (!isfinite(P[j]))
            return sv_err_set(err, SV_EINVAL, "P[%zu, %zu] is not finite", j % n + 1, j / n + 1);
    int c = 0;
    for (int k = 0; k < K; k++) c += count[k] > 0;
    if (c < 2) return sv_err_set(err, SV_EINVAL, "fewer than 2 classes have rows");
    return SV_OK;
}

/* M over the rows listed in rows[0..m) (with repeats), count[k] rows of
 * class k among them. */
static double hand_till(const int *y, const double *P, size_t n, int K, const size_t *count,
                        const uint32_t *rows, size_t m, tagged *t, double *pair)
{
    double sum = 0;
    int npairs = 0;
    for (int a = 0; a < K; a++) {
        for (int b = a + 1; b < K; b++) {
            double ab = NAN, ba = NAN;
            if (count[a] > 0 && count[b] > 0) {
                ab = pair_auc(y, P, n, a, b, a, rows, m, t);
                ba = pair_auc(y, P, n, b, a, b, rows, m, t);
                sum += (ab + ba) / 2.0;
                npairs++;
            }
            if (pair) pair[(size_t)a * (size_t)K + (size_t)b] = ab,
                      pair[(size_t)b * (size_t)K + (size_t)a] = ba;
        }
        if (pair) pair[(size_t)a * (size_t)K + (size_t)a] = NAN;
    }
    return sum / (double)npairs;
}

sv_status sv_roc_multiclass(const int *y, const double *P, size_t n, int K, double *M,
                            double *pair, int *classes, sv_err *err)
{
    size_t *count = sv_malloc((size_t)(K > 0 ? K : 1), sizeof *count);
    if (!count) return sv_err_set(err, SV_ENOMEM, "out of memory");
    sv_status st = check_args(y, P, n, K, count, err);
    uint32_t *rows = NULL;
    tagged *t = NULL;
    if (!st) {
        rows = sv_malloc(n, sizeof *rows);
        t = sv_malloc(n, sizeof *t);
        if (!rows || !t) st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    }
    if (!st) {
        for (size_t i = 0; i < n; i++) rows[i] = (uint32_t)i;
        *M = hand_till(y, P, n, K, count, rows, n, t, pair);
        if (classes) {
            int c = 0;
            for (int k = 0; k < K; k++) c += count[k] > 0;
            *classes = c;
        }
    }
    free(count), free(rows), free(t);
    return st;
}

/* ---- bootstrap --------------------------------------------------------------- */

#define MC_CHUNK 8

typedef struct mc_job {
    const int *y;
    const double *P;
    size_t n;
    int K;
    const size_t *count;   /* rows per class */
    const uint32_t *byclass; /* rows of class 0, then class 1, ... */
    const size_t *start;   /* offset of class k in byclass */
    uint64_t seed;
    size_t boot;
    uint32_t *rows;        /* per worker: n */
    tagged *t;             /* per worker: n */
    double *Ms;
} mc_job;

static sv_status mc_task(void *ud, size_t chunk, int worker, sv_err *err)
{
    (void)err;
    mc_job *J = ud;
    uint32_t *rows = J->rows + (size_t)worker * J->n;
    tagged *t = J->t + (size_t)worker * J->n;
    size_t r0 = chunk * MC_CHUNK, r1 = r0 + MC_CHUNK < J->boot ? r0 + MC_CHUNK : J->boot;
    for (size_t r = r0; r < r1; r++) {
        sv_rng rng;
        sv_rng_init(&rng, J->seed, (uint64_t)r);
        /* class 0 first, then class 1, ...: each class resampled to its size */
        size_t m = 0;
        for (int k = 0; k < J->K; k++)
            for (size_t q = 0; q < J->count[k]; q++)
                rows[m++] = J->byclass[J->start[k] + sv_rng_below(&rng, J->count[k])];
        J->Ms[r] = hand_till(J->y, J->P, J->n, J->K, J->count, rows, m, t, NULL);
    }
    return SV_OK;
}

sv_status sv_roc_multiclass_boot(const int *y, const double *P, size_t n, int K, size_t boot,
                                 uint64_t seed, const sv_ctx *ctx, double *Ms, sv_err *err)
{
    size_t kk = (size_t)(K > 0 ? K : 1);
    size_t *count = sv_malloc(2 * kk, sizeof *count);
    if (!count) return sv_err_set(err, SV_ENOMEM, "out of memory");
    sv_status st = check_args(y, P, n, K, count, err);
    if (st) {
        free(count);
        return st;
    }
    size_t *start = count + kk;
    int threads = sv_ctx_threads(ctx);
    uint32_t *byclass = sv_malloc(n, sizeof *byclass);
    uint32_t *rows = sv_malloc((size_t)threads * n, sizeof *rows);
    tagged *t = sv_malloc((size_t)threads * n, sizeof *t);
    if (!byclass || !rows || !t) {
        free(count), free(byclass), free(rows), free(t);
        return sv_err_set(err, SV_ENOMEM, "out of memory for the bootstrap (%zu rows)", n);
    }
    size_t off = 0;
    for (int k = 0; k < K; k++) start[k] = off, off += count[k];
    size_t *fill = sv_calloc(kk, sizeof *fill);
    if (!fill) {
        free(count), free(byclass), free(rows), free(t);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) byclass[start[y[i]] + fill[y[i]]++] = (uint32_t)i;
    free(fill);
    mc_job J = {y, P, n, K, count, byclass, start, seed, boot, rows, t, Ms};
    st = sv_parallel_for(ctx, "roc.multiclass bootstrap", (boot + MC_CHUNK - 1) / MC_CHUNK,
                         threads, mc_task, &J, err);
    free(count), free(byclass), free(rows), free(t);
    return st;
}

/* ---- one versus rest ----------------------------------------------------------- */

sv_status sv_roc_ovr(const int *y, const double *P, size_t n, int K, double *auc, double *var,
                     sv_err *err)
{
    if (K < 2) return sv_err_set(err, SV_EINVAL, "at least 2 classes are needed, got %d", K);
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= K)
            return sv_err_set(err, SV_EINVAL, "y[%zu] = %d is not a class code in [0, %d)", i + 1,
                              y[i], K);
    double *yk = sv_malloc(n ? n : 1, sizeof *yk);
    if (!yk) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    sv_status st = SV_OK;
    for (int k = 0; k < K && !st; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) m += (yk[i] = y[i] == k) != 0;
        auc[k] = var[k] = NAN;
        if (m == 0 || m == n) continue;
        sv_roc_auc_result r;
        st = sv_roc_auc(yk, P + (size_t)k * n, n, NULL, &r, err);
        if (!st) auc[k] = r.auc, var[k] = r.var;
    }
    free(yk);
    return st;
}

void sv_roc_ci_delong(double auc, double var, double level, double *lo, double *hi)
{
    double z = sv_qnorm((1.0 - level) / 2.0, 0), se = sqrt(var);
    *lo = auc - z * se;
    *hi = auc + z * se;
    if (*lo < 0) *lo = 0;
    if (*hi > 1) *hi = 1;
}
