/*
 * sv_roc.h - ROC analysis as R's pROC (1.18) computes it, with higher
 * scores predicting class 1 (pROC's direction = "<").
 *
 * Inputs everywhere: y[i] in {0, 1} (1 = case), score[i] finite, n rows.
 * Callers check the values; the engine checks only what it needs (both
 * classes present) and reports SV_EINVAL otherwise.
 *
 * References: DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44:837;
 * Sun & Xu (2014), IEEE Signal Processing Letters 21:1389 (midrank form
 * of the placement values, O(n log n)); Robin et al. (2011) pROC.
 */
#ifndef SV_ROC_H
#define SV_ROC_H

#include <stddef.h>
#include <stdint.h>

#include "sv_core.h"
#include "sv_stats.h" /* sv_alternative */

#ifdef __cplusplus
extern "C" {
#endif

/* AUC and its DeLong variance. */
typedef struct sv_roc_auc_result {
    double auc;       /* P(score_case > score_control) + P(tie) / 2 */
    double var;       /* DeLong's variance: S10/m + S01/n (NaN if m or n < 2) */
    size_t n_case;    /* m */
    size_t n_control; /* n */
} sv_roc_auc_result;

/*
 * AUC, DeLong variance and, when placement is not NULL, the placement
 * value of every row (length n, by row): for a case, the fraction of
 * controls scored below it (ties 1/2) - Sun & Xu's V10; for a control,
 * the fraction of cases scored above it - V01. One sort, O(n log n).
 */
sv_status sv_roc_auc(const double *y, const double *score, size_t n,
                     double *placement, sv_roc_auc_result *out, sv_err *err);

/*
 * Hand and Till's (2001) multiclass AUC M, as pROC's
 * multiclass.roc(response, predictor = P): y[i] a class index 0..K-1,
 * P n x K column-major class scores. For every pair of classes a < b
 * present in y, A(a|b) is the AUC of column a separating the rows of
 * class a from those of class b (ties 1/2) and A(b|a) likewise with
 * column b; the pair's AUC is their mean, stored in pair_auc (K(K-1)/2
 * values in the order (0,1), (0,2), ..., (K-2,K-1); NaN for a pair with an
 * absent class) when not NULL; M is the mean over the pairs present. At
 * least two classes must be present.
 */
sv_status sv_roc_hand_till(const int32_t *y, const double *P, size_t n, int32_t K,
                           double *M, double *pair_auc, sv_err *err);

/* DeLong's test for two correlated curves (same rows): the covariance
 * of the two AUCs from the placements, z = (auc1 - auc2) / sd. */
typedef struct sv_roc_test_result {
    double auc1, auc2, var1, var2, cov, z, p;
} sv_roc_test_result;
sv_status sv_roc_test_paired(const double *y, const double *s1,
                             const double *s2, size_t n,
                             sv_roc_test_result *out, sv_err *err);

/* The p-value of the paired test for an alternative (pROC: two-sided from
 * |z|; "less" P(Z <= z), "greater" P(Z >= z)), and the interval of the
 * difference auc1 - auc2: d -+ z_(level) sd, sd = sqrt(var1 + var2 - 2 cov)
 * (0 when rounding makes that negative). Any output may be NULL. */
double sv_roc_test_p(const sv_roc_test_result *r, sv_alternative alt);
void sv_roc_test_diff_ci(const sv_roc_test_result *r, double level, double *diff, double *sd,
                         double *lo, double *hi);

/* pROC's unpaired DeLong test of two independent cohorts: a statistic
 * D = (auc1 - auc2)/sqrt(var1 + var2), referred to Student's t with
 * Welch-Satterthwaite degrees of freedom
 * df = (V1 + V2)^2 / (V1^2/(N1 - 1) + V2^2/(N2 - 1)), N = cohort sizes. */
typedef struct sv_roc_unpaired_result {
    double auc1, auc2, var1, var2, d, df, p;
} sv_roc_unpaired_result;
sv_status sv_roc_test_unpaired(const double *y1, const double *s1, size_t n1,
                               const double *y2, const double *s2, size_t n2,
                               sv_roc_unpaired_result *out, sv_err *err);
/* Its p-value for an alternative, from Student's t with df. */
double sv_roc_unpaired_p(const sv_roc_unpaired_result *r, sv_alternative alt);

/*
 * ROC curve at pROC's thresholds: -Inf, the midpoints between consecutive
 * distinct scores, +Inf (ascending; a row is called positive when
 * score >= threshold). A midpoint that rounds onto the lower score is
 * moved to the upper one, as pROC does. Outputs have room for n + 1
 * points; *npoints receives the count (distinct scores + 1).
 */
sv_status sv_roc_curve(const double *y, const double *score, size_t n,
                       double *threshold, double *tpr, double *fpr,
                       size_t *npoints, sv_err *err);

/* Youden's index: the point of the curve maximising sens + spec - 1
 * (pROC's coords(r, "best")); ties: the lowest threshold, with their
 * count in ties. */
typedef struct sv_roc_youden_result {
    double threshold, j, sens, spec;
    size_t ties;
} sv_roc_youden_result;
sv_status sv_roc_youden(const double *y, const double *score, size_t n,
                        sv_roc_youden_result *out, sv_err *err);

/*
 * Stratified bootstrap of the AUC (pROC's ci.auc(method = "bootstrap")):
 * replicate r resamples the cases and the controls separately, with
 * replacement, from the generator stream (seed, r). aucs[0..boot)
 * receives the replicate AUCs (in replicate order: identical for any
 * number of threads).
 */
sv_status sv_roc_boot_auc(const double *y, const double *score, size_t n,
                          size_t boot, uint64_t seed, const sv_ctx *ctx,
                          double *aucs, sv_err *err);


/* pROC's DeLong interval (ci.auc(method = "delong")): auc -+ z sqrt(var),
 * z the normal quantile of the two-sided level, clipped to [0, 1]. */
void sv_roc_ci_delong(double auc, double var, double level, double *lo, double *hi);

/* ---- several classes (roc_multi.c) ---------------------------------------
 * y[i] in [0, K): class codes; P column-major n x K, P[k * n + i] the
 * score (predicted probability) of class k for row i, finite. Classes
 * without rows are left out, as pROC drops levels with no observations.
 */

/*
 * Hand and Till's M, as pROC's multiclass.roc(response, predictor = P)
 * (direction ">"): for each pair a < b of classes with rows,
 * A(a|b) = P(P[a] of a class-a row > P[a] of a class-b row) + ties / 2 and
 * A(b|a) the same with column b; the pair's value is their mean and M the
 * mean over the c (c - 1) / 2 pairs (c = classes with rows, *classes when
 * not NULL). pair (may be NULL): K x K, pair[a * K + b] = A(a|b), NaN on
 * the diagonal and for classes without rows. Fewer than 2 classes with
 * rows is SV_EINVAL.
 */
sv_status sv_roc_multiclass(const int *y, const double *P, size_t n, int K, double *M,
                            double *pair, int *classes, sv_err *err);

/*
 * Bootstrap of M (pROC offers none): replicate r resamples the rows of each
 * class separately, with replacement, to the class's size (stratified, as
 * pROC's ci.auc), from the stream (seed, r); Ms[0..boot) receives the
 * replicates' M in replicate order, whatever the number of threads.
 */
sv_status sv_roc_multiclass_boot(const int *y, const double *P, size_t n, int K, size_t boot,
                                 uint64_t seed, const sv_ctx *ctx, double *Ms, sv_err *err);

/*
 * One versus rest: for each class k, the AUC of column k with the rows of
 * class k as cases and all others as controls (sv_roc_auc), and its DeLong
 * variance; NaN for a class with no rows or only rows. auc, var: K values.
 */
sv_status sv_roc_ovr(const int *y, const double *P, size_t n, int K, double *auc, double *var,
                     sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
