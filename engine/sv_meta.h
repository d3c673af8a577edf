/*
 * sv_meta.h - random-effects meta-analysis of k estimates yi with known
 * sampling variances vi (the intercept-only model of metafor::rma.uni),
 * and the transformations that put per-centre performance measures on the
 * scale where they are pooled.
 *
 * Reference: metafor 3.8-1 (Viechtbauer 2010, J Stat Softw 36(3)),
 * rma.uni(yi, vi, method = "REML" | "DL", test = "z" | "knha"),
 * confint() (Q-profile interval of tau^2, Viechtbauer 2007) and predict()
 * (prediction interval). The REML estimate replicates metafor's Fisher
 * scoring path (Hedges start, step halving only at the bound 0, stop when
 * the change is <= 1e-5), so that the numbers agree to 1e-9 rather than to
 * the convergence tolerance. See docs/centres.md for every formula.
 */
#ifndef SV_META_H
#define SV_META_H

#include <stddef.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sv_meta_method {
    SV_META_REML = 0, /* restricted maximum likelihood (Fisher scoring) */
    SV_META_DL = 1    /* DerSimonian-Laird method of moments */
} sv_meta_method;

typedef enum sv_meta_test {
    SV_META_Z = 0,   /* Wald z test and normal quantiles */
    SV_META_KNHA = 1 /* Knapp-Hartung: scaled variance, t(k-1) quantiles */
} sv_meta_test;

/* metafor's defaults, named once. */
#define SV_META_LEVEL 0.95
#define SV_META_REML_THRESHOLD 1e-5 /* stop when |tau2 change| <= this */
#define SV_META_REML_MAXITER 100
#define SV_META_LL0_TOL 1.220703125e-4 /* .Machine$double.eps^0.25 */

typedef struct sv_meta_opts {
    sv_meta_method method;
    sv_meta_test test;
    double level; /* confidence level of every interval, in (0, 1) */
} sv_meta_opts;

/* metafor's defaults: REML, z test, SV_META_LEVEL. A NULL opts pointer
 * means them. */
void sv_meta_opts_default(sv_meta_opts *o);

typedef struct sv_meta_result {
    size_t k;
    double estimate, se;   /* pooled mean mu and its standard error */
    double stat, df, p;    /* z (df = INFINITY) or t (df = k - 1) and p */
    double lo, hi;         /* confidence interval of mu */
    double pi_lo, pi_hi;   /* prediction interval for a new study */
    double tau2, se_tau2;  /* between-study variance and its SE */
    double tau2_lo, tau2_hi; /* Q-profile interval of tau^2 */
    int tau2_hi_capped;    /* 1: the upper bound is the search limit */
    double i2, i2_lo, i2_hi; /* I^2 in percent, interval from tau^2's */
    double h2, h2_lo, h2_hi;
    double q, q_df, q_p;   /* Cochran's Q (fixed-effect weights), df, p */
    int iterations;        /* Fisher scoring steps (REML), 0 for DL */
    int tau2_reset;        /* 1: REML stuck below ll(0), tau^2 set to 0 */
} sv_meta_result;

/*
 * Fits the random-effects model yi ~ N(mu, vi + tau^2).
 * Inputs: yi[k], vi[k] (finite; vi > 0), k >= 2, opts (NULL = REML, z,
 * 0.95). Outputs: *out; weights[k] (may be NULL) receives each study's
 * weight in percent, 100 w_i / sum w, w_i = 1/(vi + tau^2).
 * Errors: SV_EINVAL naming yi or vi and the element; SV_ENUM when the
 * Fisher scoring does not converge in SV_META_REML_MAXITER steps.
 */
sv_status sv_meta_rma(const double *yi, const double *vi, size_t k,
                      const sv_meta_opts *opts, sv_meta_result *out,
                      double *weights, sv_err *err);

/* Each study's own interval yi -/+ z sqrt(vi), z the normal quantile at
 * level (what metafor's forest() draws). */
void sv_meta_study_ci(const double *yi, const double *vi, size_t k, double level, double *lo,
                      double *hi);

/*
 * Pooling scales (Debray et al. 2017, BMJ 356:i6460; Snell et al. 2018):
 * - AUC (c-statistic) on the logit scale: y = logit(auc),
 *   v = se^2 / (auc (1 - auc))^2 (delta method). auc in (0, 1), se > 0.
 * - O/E ratio on the log scale: y = log(o / e), v = (1 - o/n) / o when the
 *   number of patients n is known (n > 0; binomial), else 1 / o (Poisson;
 *   pass n = 0). o > 0, e > 0, o < n.
 * Return SV_EINVAL with the reason when the input is out of range.
 */
sv_status sv_meta_logit_auc(double auc, double se, double *y, double *v, sv_err *err);
sv_status sv_meta_log_oe(double o, double e, double n, double *y, double *v, sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
