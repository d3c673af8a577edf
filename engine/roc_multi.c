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
#include "sv_sort.h"

/* Dense ranks of each column of P: rank[k * n + i] in [0, G[k]) orders
 * the values of column k (equal values, equal rank). One sort per column
 * (sv_sort.h); every pair AUC is then a count over ranks. */
static sv_status column_ranks(const double *P, size_t n, int K, uint32_t *rank, size_t *G,
                              sv_err *err)
{
    uint32_t *order = sv_malloc(n ? n : 1, sizeof *order);
    if (!order) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    for (int k = 0; k < K; k++) {
        const double *col = P + (size_t)k * n;
        sv_status st = sv_order_doubles(col, n, order, err);
        if (st) {
            free(order);
            return st;
        }
        uint32_t g = 0;
        for (size_t q = 0; q < n; q++) {
            if (q > 0 && col[order[q]] != col[order[q - 1]]) g++;
            rank[(size_t)k * n + order[q]] = g;
        }
        G[k] = n ? (size_t)g + 1 : 0;
    }
    free(order);
    return SV_OK;
}

/* The rows of a replicate (or of the data): rows of class k at
 * rows[start[k] .. start[k] + count[k]). */
typedef struct classed {
    const uint32_t *rows;
    const size_t *start, *count;
} classed;

/* P(x > z) + P(x = z) / 2, x the column-`col` ranks of the class-a rows
 * and z those of the class-b rows; ca, cb: G scratch counts. Exact:
 * per rank, a-rows times the b-rows below (twice) plus the b-rows tied. */
static double pair_auc(const uint32_t *rank, size_t G, const classed *c, int a, int b,
                       double *ca, double *cb)
{
    memset(ca, 0, G * sizeof *ca);
    memset(cb, 0, G * sizeof *cb);
    for (size_t q = 0; q < c->count[a]; q++) ca[rank[c->rows[c->start[a] + q]]] += 1;
    for (size_t q = 0; q < c->count[b]; q++) cb[rank[c->rows[c->start[b] + q]]] += 1;
    double pairs2 = 0, below = 0;
    for (size_t g = 0; g < G; g++) {
        pairs2 += ca[g] * (2.0 * below + cb[g]);
        below += cb[g];
    }
    return pairs2 / 2.0 / ((double)c->count[a] * (double)c->count[b]);
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

/* M over the rows of c; ca, cb: scratch of max G values. */
static double hand_till(const uint32_t *rank, const size_t *G, size_t n, int K, const classed *c,
                        double *ca, double *cb, double *pair)
{
    double sum = 0;
    int npairs = 0;
    size_t kk = (size_t)K;
    for (int a = 0; a < K; a++) {
        for (int b = a + 1; b < K; b++) {
            double ab = NAN, ba = NAN;
            if (c->count[a] > 0 && c->count[b] > 0) {
                ab = pair_auc(rank + (size_t)a * n, G[a], c, a, b, ca, cb);
                ba = pair_auc(rank + (size_t)b * n, G[b], c, b, a, ca, cb);
                sum += (ab + ba) / 2.0;
                npairs++;
            }
            if (pair) {
                pair[(size_t)a * kk + (size_t)b] = ab;
                pair[(size_t)b * kk + (size_t)a] = ba;
            }
        }
        if (pair) pair[(size_t)a * kk + (size_t)a] = NAN;
    }
    return sum / (double)npairs;
}

/* The shared set-up: counts, ranks and the rows listed by class. */
typedef struct mc_data {
    size_t *count, *start, G_max;
    size_t *G;
    uint32_t *rank, *byclass;
} mc_data;

static void mc_free(mc_data *d)
{
    free(d->count), free(d->start), free(d->G), free(d->rank), free(d->byclass);
}

static sv_status mc_init(const int *y, const double *P, size_t n, int K, mc_data *d, sv_err *err)
{
    memset(d, 0, sizeof *d);
    size_t kk = (size_t)(K > 0 ? K : 1);
    d->count = sv_malloc(kk, sizeof *d->count);
    if (!d->count) return sv_err_set(err, SV_ENOMEM, "out of memory");
    sv_status st = check_args(y, P, n, K, d->count, err);
    if (st) return st;
    d->start = sv_malloc(kk, sizeof *d->start);
    d->G = sv_malloc(kk, sizeof *d->G);
    d->rank = sv_malloc(n * kk, sizeof *d->rank);
    d->byclass = sv_malloc(n, sizeof *d->byclass);
    if (!d->start || !d->G || !d->rank || !d->byclass)
        return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    size_t off = 0;
    for (size_t k = 0; k < kk; k++) d->start[k] = off, off += d->count[k];
    size_t *fill = sv_calloc(kk, sizeof *fill);
    if (!fill) return sv_err_set(err, SV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) d->byclass[d->start[y[i]] + fill[y[i]]++] = (uint32_t)i;
    free(fill);
    st = column_ranks(P, n, K, d->rank, d->G, err);
    for (size_t k = 0; k < kk; k++)
        if (d->G[k] > d->G_max) d->G_max = d->G[k];
    return st;
}

sv_status sv_roc_multiclass(const int *y, const double *P, size_t n, int K, double *M,
                            double *pair, int *classes, sv_err *err)
{
    mc_data d;
    sv_status st = mc_init(y, P, n, K, &d, err);
    double *ca = NULL;
    if (!st) {
        ca = sv_malloc(2 * (d.G_max ? d.G_max : 1), sizeof *ca);
        if (!ca) st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    }
    if (!st) {
        classed c = {d.byclass, d.start, d.count};
        *M = hand_till(d.rank, d.G, n, K, &c, ca, ca + d.G_max, pair);
        if (classes) {
            int nc = 0;
            for (int k = 0; k < K; k++) nc += d.count[k] > 0;
            *classes = nc;
        }
    }
    free(ca);
    mc_free(&d);
    return st;
}

/* ---- bootstrap --------------------------------------------------------------- */

#define MC_CHUNK 8

typedef struct mc_job {
    const mc_data *d;
    size_t n;
    int K;
    uint64_t seed;
    size_t boot;
    uint32_t *rows; /* per worker: n */
    double *cnt;    /* per worker: 2 G_max */
    double *Ms;
} mc_job;

static sv_status mc_task(void *ud, size_t chunk, int worker, sv_err *err)
{
    (void)err;
    mc_job *J = ud;
    const mc_data *d = J->d;
    uint32_t *rows = J->rows + (size_t)worker * J->n;
    double *ca = J->cnt + (size_t)worker * 2 * d->G_max, *cb = ca + d->G_max;
    classed c = {rows, d->start, d->count};
    size_t r0 = chunk * MC_CHUNK, r1 = r0 + MC_CHUNK < J->boot ? r0 + MC_CHUNK : J->boot;
    for (size_t r = r0; r < r1; r++) {
        sv_rng rng;
        sv_rng_init(&rng, J->seed, (uint64_t)r);
        /* class 0 first, then class 1, ...: each class resampled to its size */
        for (int k = 0; k < J->K; k++)
            for (size_t q = 0; q < d->count[k]; q++)
                rows[d->start[k] + q] = d->byclass[d->start[k] + sv_rng_below(&rng, d->count[k])];
        J->Ms[r] = hand_till(d->rank, d->G, J->n, J->K, &c, ca, cb, NULL);
    }
    return SV_OK;
}

sv_status sv_roc_multiclass_boot(const int *y, const double *P, size_t n, int K, size_t boot,
                                 uint64_t seed, const sv_ctx *ctx, double *Ms, sv_err *err)
{
    mc_data d;
    sv_status st = mc_init(y, P, n, K, &d, err);
    if (st) {
        mc_free(&d);
        return st;
    }
    int threads = sv_ctx_threads(ctx);
    uint32_t *rows = sv_malloc((size_t)threads * n, sizeof *rows);
    double *cnt = sv_malloc((size_t)threads * 2 * d.G_max, sizeof *cnt);
    if (!rows || !cnt) {
        free(rows), free(cnt);
        mc_free(&d);
        return sv_err_set(err, SV_ENOMEM, "out of memory for the bootstrap (%zu rows)", n);
    }
    mc_job J = {&d, n, K, seed, boot, rows, cnt, Ms};
    st = sv_parallel_for(ctx, "roc.multiclass bootstrap", (boot + MC_CHUNK - 1) / MC_CHUNK,
                         threads, mc_task, &J, err);
    free(rows), free(cnt);
    mc_free(&d);
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
