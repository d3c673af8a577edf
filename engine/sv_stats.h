/*
 * sv_stats.h - the statistics of a baseline-characteristics table and of
 * model comparison, as R's stats package computes them: summaries and
 * quantiles, chi-square and Fisher's exact tests, Student and Welch t
 * tests, Wilcoxon rank-sum and Kruskal-Wallis tests, p-value adjustment.
 * See docs/stats.md for the formulas and the R function each matches.
 */
#ifndef SV_STATS_H
#define SV_STATS_H

#include <stddef.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sorts x ascending in place (NaN not allowed). */
void sv_sort_doubles(double *x, size_t n);

/* R's default quantile (type 7) of sorted x[0..n), n >= 1, 0 <= p <= 1:
 * h = (n - 1) p, x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h])
 * written as R does ((1 - f) a + f b). */
double sv_quantile_sorted(const double *x, size_t n, double p);

#ifdef __cplusplus
}
#endif
#endif
