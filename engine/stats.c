/*
 * stats.c - summaries, quantiles and the tests of sv_stats.h.
 */
#include "sv_stats.h"

#include <math.h>
#include <stdlib.h>

#include "sv_dist.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sv_sort_doubles(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
}

double sv_quantile_sorted(const double *x, size_t n, double p)
{
    if (n == 0) return NAN;
    double index = (double)(n - 1) * p;
    size_t lo = (size_t)floor(index);
    size_t hi = (size_t)ceil(index);
    double q = x[lo];
    double h = index - (double)lo;
    if (index > (double)lo && x[hi] != q) q = (1.0 - h) * q + h * x[hi];
    return q;
}
