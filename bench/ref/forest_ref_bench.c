/*
 * forest_ref_bench.c - the generic tree grower against the frozen copy of
 * the binary forest it replaced (bench/ref/forest_ref.c), in one process
 * on the same data: training and prediction times alternate between the
 * two for `reps` rounds and the median CPU time (all threads) of each is
 * compared. The forests
 * must be identical (same predictions bit for bit), or the run fails.
 *   bench_forest_ref [n [trees [reps [threads]]]]
 * Data: n x 50, features 1-25 with 2-6 levels, 26-50 standard normal,
 * y from a logistic model (as set (b) of bench_forest.lua).
 * Prints: RATIO train <new/old> predict <new/old>.
 */
#include "sv_forest.h"
#include "sv_rng.h"
#include "svref_forest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of the process (all threads): steadier than wall time on a
 * shared machine. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 10000;
    int trees = argc > 2 ? atoi(argv[2]) : 100;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    size_t p = 50;
    double *X = malloc(n * p * sizeof *X), *y = malloc(n * sizeof *y);
    double *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    double *tn = malloc((size_t)reps * sizeof *tn), *to = malloc((size_t)reps * sizeof *to);
    double *qn = malloc((size_t)reps * sizeof *qn), *qo = malloc((size_t)reps * sizeof *qo);
    if (!X || !y || !pa || !pb || !tn || !to || !qn || !qo) return 2;
    sv_rng r;
    sv_rng_init(&r, 2024, 3);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < 25; j++) X[j * n + i] = (double)sv_rng_below(&r, 2 + (j + 1) % 5);
        for (size_t j = 25; j < 50; j++) X[j * n + i] = sv_rng_normal(&r);
        double s = 0.6 * X[i] - 0.5 * X[n + i] + 0.4 * X[2 * n + i] + 0.8 * X[25 * n + i] -
                   0.6 * X[26 * n + i] + 0.5 * X[27 * n + i] * X[3 * n + i] - 0.3;
        y[i] = sv_rng_uniform(&r) < 1.0 / (1.0 + exp(-s)) ? 1.0 : 0.0;
    }
    sv_ctx ctx = {threads, NULL, NULL, NULL};
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = trees;
    svref_forest_opts ro;
    svref_forest_opts_default(&ro);
    ro.n_trees = trees;
    sv_err err;
    /* rounds alternate which of the two goes first */
    for (int k = 0; k < reps; k++) {
        sv_forest *fa = NULL;
        svref_forest *fb = NULL;
        for (int half = 0; half < 2; half++) {
            int mine = (half == 0) == (k % 2 == 0);
            double t0 = cpu_now();
            sv_status st = mine ? sv_forest_train(X, n, p, y, NULL, &o, &ctx, &fa, &err)
                                : svref_forest_train(X, n, p, y, NULL, &ro, &ctx, &fb, &err);
            double t1 = cpu_now();
            if (st == SV_OK)
                st = mine ? sv_forest_predict(fa, X, n, p, &ctx, pa, &err)
                          : svref_forest_predict(fb, X, n, p, &ctx, pb, &err);
            double t2 = cpu_now();
            if (st != SV_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 3;
            }
            if (mine) tn[k] = t1 - t0, qn[k] = t2 - t1;
            else to[k] = t1 - t0, qo[k] = t2 - t1;
        }
        if (memcmp(pa, pb, n * sizeof *pa) != 0) {
            fprintf(stderr, "the two forests differ\n");
            return 1;
        }
        sv_forest_free(fa);
        svref_forest_free(fb);
    }
    double a = median(tn, reps), b = median(to, reps), c = median(qn, reps), d = median(qo, reps);
    printf("n %zu x %zu, %d trees, %d threads, median CPU seconds of %d rounds: train new %.3f s, old %.3f s; "
           "predict new %.3f s, old %.3f s\n", n, p, trees, threads, reps, a, b, c, d);
    printf("RATIO train %.4f predict %.4f\n", a / b, c / d);
    return 0;
}
