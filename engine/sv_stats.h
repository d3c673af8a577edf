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


/*
 * Cleveland's LOWESS smoother as R's stats::lowess (engine/lowess.c):
 * the fitted values ys[0..n) at the points (x[i], y[i]), x sorted
 * ascending (R sorts with order(), ties kept in input order), span f
 * (R: 2/3), iter robustness iterations (R: 3; rms's val.prob uses 0),
 * delta (R: 0.01 * diff(range(x))): fits are computed only at points
 * more than delta apart and interpolated in between. Errors: SV_EINVAL
 * (a value not finite, x not sorted), SV_ENOMEM.
 */
sv_status sv_lowess(const double *x, const double *y, size_t n, double f, int iter, double delta,
                    double *ys, sv_err *err);

/* Alternative hypotheses, as R's `alternative`. */
typedef enum sv_alternative {
    SV_TWO_SIDED = 0,
    SV_LESS = 1,
    SV_GREATER = 2
} sv_alternative;

/* The fields of R's htest that sylva's tests fill (NaN when absent). */
typedef struct sv_htest {
    double statistic;
    double df;          /* parameter: degrees of freedom */
    double p_value;
    double estimate[2]; /* e.g. the two means of a t test */
    double conf_int[2];
    double stderr_;     /* standard error of the t statistic's numerator */
    int exact;          /* 1 when the p-value is from an exact distribution */
} sv_htest;

/* Descriptive summary of the non-NaN values of x (R: mean, sd, median,
 * quantile(type 7), min, max). */
typedef struct sv_summary_result {
    size_t n, n_missing;
    double mean, sd, median, q1, q3, iqr, min, max;
} sv_summary_result;
sv_status sv_summary(const double *x, size_t n, sv_summary_result *out, sv_err *err);

/* Mean and variance as R computes them (long double sums, a second pass
 * correcting the mean). var is NaN for n < 2. */
double sv_mean(const double *x, size_t n);
double sv_var(const double *x, size_t n);

/*
 * Pearson's chi-square test of independence of an nr x nc table of counts
 * (row-major: counts[i * nc + j]) - R's chisq.test(m, correct). With
 * correct != 0 and a 2 x 2 table, Yates' continuity correction
 * min(0.5, min |O - E|) is subtracted from every |O - E|. expected (may be
 * NULL) receives the nr * nc expected counts.
 */
sv_status sv_chisq_test(const double *counts, size_t nr, size_t nc, int correct,
                        sv_htest *out, double *expected, sv_err *err);

/*
 * Fisher's exact test of an nr x nc table (row-major, integer counts) -
 * R's fisher.test(m)$p.value: the probability, under the multiple
 * hypergeometric law given the margins, of the tables no more likely than
 * the observed one (relative tolerance 1e-7). 2 x 2 tables take
 * `alternative` (less/greater: the hypergeometric tail of cell [1,1]); larger
 * tables are enumerated exactly, failing with SV_EINVAL beyond max_tables
 * (0 = default 1e7) visited tables.
 */
sv_status sv_fisher_test(const double *counts, size_t nr, size_t nc,
                         sv_alternative alt, double max_tables, sv_htest *out,
                         sv_err *err);

/*
 * The conditional maximum-likelihood odds ratio of a 2 x 2 table and its
 * exact interval (R's fisher.test(m)$estimate and $conf.int): under the
 * non-central hypergeometric law of cell [1,1] with odds ratio t, the
 * estimate solves E_t[X] = x; two-sided limits solve P_L[X >= x] = a/2 and
 * P_U[X <= x] = a/2 (one-sided: a, the other limit 0 or Inf). Solved to
 * full precision (R's uniroot stops near 1e-4 relative).
 */
sv_status sv_fisher_odds_ratio(const double *counts, double level, sv_alternative alt,
                               double *estimate, double conf_int[2], sv_err *err);

/*
 * Monte Carlo p-value of Fisher's test for any r x c table (R's
 * fisher.test(simulate.p.value = TRUE, B)): B tables drawn from the
 * multiple hypergeometric law with the observed margins (a shuffle of the
 * column labels dealt to the rows), replicate b from the stream (seed, b);
 * p = (1 + #{tables no more likely than the observed}) / (B + 1).
 */
sv_status sv_fisher_simulate(const double *counts, size_t nr, size_t nc, size_t B,
                             uint64_t seed, const sv_ctx *ctx, sv_htest *out,
                             sv_err *err);

/*
 * t tests - R's t.test(x, y, mu, var.equal, conf.level, alternative).
 * y == NULL: one-sample test of mean(x) = mu. Otherwise two samples:
 * Welch (var_equal = 0) or Student (pooled variance).
 * estimate = (mean x, mean y); conf_int for mean(x) - mean(y) (or mean x).
 */
sv_status sv_t_test(const double *x, size_t nx, const double *y, size_t ny,
                    double mu, int var_equal, double level,
                    sv_alternative alt, sv_htest *out, sv_err *err);

/*
 * Wilcoxon rank-sum (Mann-Whitney) test - R's wilcox.test(x, y, mu,
 * exact, correct). W = sum of the ranks of x - mu among all - nx(nx+1)/2.
 * exact < 0: exact when nx < 50, ny < 50 and there are no ties; exact
 * requested with ties falls back to the normal approximation (as R, which
 * warns). Normal: tie-corrected variance, continuity correction when
 * correct != 0.
 */
sv_status sv_wilcox_test(const double *x, size_t nx, const double *y, size_t ny,
                         double mu, int exact, int correct, sv_alternative alt,
                         sv_htest *out, sv_err *err);

/*
 * Wilcoxon signed-rank test of x - mu (one sample; paired samples pass the
 * differences) - R's wilcox.test(x, mu, exact, correct) and
 * wilcox.test(x, y, paired = TRUE). Zeros are dropped; V = sum of the ranks
 * of |x - mu| over the positive differences. Exact (n < 50, no ties, no
 * zeros, or as requested) or normal with tie and continuity corrections.
 */
sv_status sv_signrank_test(const double *x, size_t n, double mu, int exact, int correct,
                           sv_alternative alt, sv_htest *out, sv_err *err);

/* P[V <= q] (lower) or P[V > q] for the signed-rank statistic of n
 * observations without ties (R's psignrank); n <= 1000. */
double sv_psignrank(double q, size_t n, int lower);

/* P[W <= q] (lower) or P[W > q] for the rank-sum statistic of m and n
 * observations without ties (R's pwilcox). m, n <= 200. */
double sv_pwilcox(double q, size_t m, size_t n, int lower);

/*
 * Kruskal-Wallis rank-sum test - R's kruskal.test(x, g). group[i] in
 * [0, k) (groups without rows are ignored, as R's factor levels that do
 * not occur). statistic H with the tie correction, df = groups - 1.
 */
sv_status sv_kruskal_test(const double *x, const int *group, size_t n, int k,
                          sv_htest *out, sv_err *err);

/*
 * The percentile interval of bootstrap replicates (pROC's and boot's
 * "perc"): NaN replicates are dropped (x is compacted and sorted in
 * place); lo and hi are the type-7 quantiles at (1 - level) / 2 and
 * 1 - (1 - level) / 2, sd the sample SD of the replicates (any output may
 * be NULL). NaN outputs when no replicate (sd: fewer than two) is left.
 * Returns the number of replicates used.
 */
size_t sv_boot_percentile(double *x, size_t n, double level, double *lo, double *hi, double *sd);

/* p-value adjustment - R's p.adjust. NaN entries are kept and not counted. */
typedef enum sv_padjust {
    SV_PADJ_HOLM,
    SV_PADJ_HOCHBERG,
    SV_PADJ_BONFERRONI,
    SV_PADJ_BH,
    SV_PADJ_BY,
    SV_PADJ_NONE
} sv_padjust;
sv_status sv_p_adjust(const double *p, size_t n, sv_padjust method, double *out,
                      sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
