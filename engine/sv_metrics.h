/*
 * sv_metrics.h - threshold metrics of a score at a cut-off and the
 * calibration of predicted probabilities: confusion counts, sensitivity,
 * specificity, PPV, NPV, accuracy, F1 with exact (Clopper-Pearson) or
 * Wilson intervals and a row bootstrap; Brier score, logistic
 * recalibration (calibration intercept and slope, calibration-in-the-large),
 * the Hosmer-Lemeshow test, binned calibration curves, and the net benefit
 * of decision curve analysis. See docs/diagnostics.md.
 *
 * y[i] in {0, 1}; a row is called positive when score >= cutoff.
 */
#ifndef SV_METRICS_H
#define SV_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_confusion {
    double tp, fp, tn, fn;
} sv_confusion;

enum sv_metric {
    SV_MET_SENS,
    SV_MET_SPEC,
    SV_MET_PPV,
    SV_MET_NPV,
    SV_MET_ACC,
    SV_MET_F1,
    SV_MET_COUNT
};

void sv_confusion_at(const double *y, const double *score, size_t n, double cutoff,
                     sv_confusion *out);
/* The six metrics (NaN where a denominator is 0). */
void sv_metrics_from_confusion(const sv_confusion *c, double out[SV_MET_COUNT]);

/* Two-sided intervals for a proportion x/n. Clopper-Pearson (R's
 * binom.test): qbeta(a/2; x, n-x+1), qbeta(1-a/2; x+1, n-x), 0 and 1 at the
 * ends. Wilson score (R's prop.test(correct = FALSE)). NaN when n = 0. */
void sv_ci_clopper_pearson(double x, double n, double level, double *lo, double *hi);
void sv_ci_wilson(double x, double n, double level, double *lo, double *hi);

/* Row bootstrap of the six metrics: replicate b resamples the n rows with
 * replacement from the stream (seed, b); out[b * SV_MET_COUNT + k]. */
sv_status sv_metrics_boot(const double *y, const double *score, size_t n, double cutoff,
                          size_t boot, uint64_t seed, const sv_ctx *ctx, double *out,
                          sv_err *err);

/* Brier score: mean (p - y)^2. */
double sv_brier(const double *y, const double *p, size_t n);

/*
 * Logistic recalibration on x = logit(p), fitted by Newton-Raphson to full
 * convergence (R: glm(y ~ qlogis(p), binomial) and
 * glm(y ~ offset(qlogis(p)), binomial)). p must be in (0, 1).
 */
typedef struct sv_recal_result {
    double intercept, slope;       /* joint fit: logit P(y) = a + b logit(p) */
    double se_intercept, se_slope;
    double citl, se_citl;          /* a in logit P(y) = a + logit(p) */
} sv_recal_result;
sv_status sv_calib_recalibrate(const double *y, const double *p, size_t n,
                               sv_recal_result *out, sv_err *err);

/* Group edges at the type-7 quantiles of p at 0, 1/g, ..., 1 (duplicates
 * removed); a value belongs to the right-closed interval (e[k-1], e[k]],
 * the first interval closed on both sides (R's cut(include.lowest = TRUE)).
 * edges must hold g + 1 values; returns the number of groups. */
size_t sv_calib_quantile_edges(const double *p, size_t n, size_t g, double *edges,
                               sv_err *err);
/* Group (0-based) of v among the intervals of edges[0..ngroups]. */
size_t sv_calib_group(const double *edges, size_t ngroups, double v);

/*
 * Hosmer-Lemeshow test over the quantile groups (ResourceSelection's
 * hoslem.test definition): chisq = sum over groups and both outcomes of
 * (O - E)^2 / E, df = groups - 2.
 */
typedef struct sv_hl_result {
    double statistic, df, p_value;
    size_t groups;
} sv_hl_result;
sv_status sv_calib_hosmer_lemeshow(const double *y, const double *p, size_t n, size_t g,
                                   sv_hl_result *out, sv_err *err);

/*
 * Binned calibration curve: for each non-empty bin, the mean predicted
 * probability, the observed event rate and the count. Bins
 * (sv_calib_bins): g equal-width intervals of [0, 1] (UNIFORM) or the
 * quantile groups above (QUANTILE), both right-closed as scikit-learn's
 * calibration_curve; or EQUAL_SIZE: the rows sorted by p (ties in row
 * order) cut into g groups of floor(b n / g) - floor((b - 1) n / g) rows
 * (b = 1..g), so every point rests on n / g rows even when predictions
 * tie (the binning of sv.plot.calibration). Outputs hold g values;
 * *nbins receives the number of non-empty bins.
 */
typedef enum sv_calib_bins {
    SV_CALIB_UNIFORM = 0,
    SV_CALIB_QUANTILE = 1,
    SV_CALIB_EQUAL_SIZE = 2
} sv_calib_bins;
sv_status sv_calib_curve(const double *y, const double *p, size_t n, size_t g,
                         sv_calib_bins bins, double *mean_pred, double *obs_rate,
                         double *count, size_t *nbins, sv_err *err);

/*
 * Decision curve analysis (Vickers & Elkin 2006): at each threshold
 * probability t (0 <= t < 1), net benefit of treating rows with p >= t:
 * TP/n - FP/n * t/(1 - t); of treating all: prev - (1 - prev) t/(1 - t).
 * *prevalence (may be NULL) receives prev, the mean of y.
 */
sv_status sv_calib_dca(const double *y, const double *p, size_t n, const double *thr,
                       size_t nt, double *nb_model, double *nb_all, double *prevalence,
                       sv_err *err);

/* ---- several classes ------------------------------------------------------
 * y[i] in [0, K) class codes; P column-major n x K (P[k * n + i] the
 * predicted probability of class k for row i).
 */

/*
 * Confusion matrix of the predicted class, argmax_k P[k * n + i] (the
 * first of tied maxima, as numpy's argmax): counts (K x K, column-major)
 * counts[p * K + t] = rows of true class t predicted p - rows true,
 * columns predicted, as scikit-learn's confusion_matrix. Per class k
 * (arrays of K, any may be NULL): sens = TP / (TP + FN) (recall),
 * spec = TN / (TN + FP), ppv = TP / (TP + FP) (precision), NaN when the
 * denominator is 0; *accuracy the fraction on the diagonal. SV_EINVAL for
 * no rows, a code out of range or a NaN probability.
 */
sv_status sv_confusion_multiclass(const int *y, const double *P, size_t n, int K,
                                  double *counts, double *sens, double *spec, double *ppv,
                                  double *accuracy, sv_err *err);

/* Brier's (1950) multiclass score: (1/n) sum_i sum_k (P_ik - [y_i = k])^2,
 * in [0, 2]; probabilities must lie in [0, 1]. */
sv_status sv_brier_multiclass(const int *y, const double *P, size_t n, int K, double *out,
                              sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
