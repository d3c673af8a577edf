/*
 * sv_glm.h - logistic regression by iteratively reweighted least squares,
 * computed as R's glm(y ~ X, family = binomial) computes it (glm.fit of R
 * 4.2 with glm.control(epsilon = 1e-8, maxit = 25)): the same starting
 * values (binomial()$initialize: mu = (w y + 1/2) / (w + 1)), the same
 * clamped logit inverse (eta beyond +-30 maps to DBL_EPSILON), the same
 * convergence rule |dev - dev_old| / (|dev| + 0.1) < epsilon, step halving
 * when the deviance is not finite, and standard errors from the QR
 * factor of the last iteration (summary.glm's chol2inv(R)). Each weighted
 * least-squares step is a Householder QR of sqrt(W) X, as R's Cdqrls.
 *
 * Unlike R, a design whose columns are linearly dependent is an error
 * (R sets the aliased coefficients to NA), and the result flags rather than
 * hides the two failures R only warns about: no convergence and fitted
 * probabilities numerically 0 or 1 (complete or quasi-complete
 * separation). The caller decides whether these are errors.
 *
 * X is column-major, n rows by p columns (without the intercept column);
 * y[i] in {0, 1}. docs/validation.md.
 */
#ifndef SV_GLM_H
#define SV_GLM_H

#include <stddef.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SV_GLM_EPSILON 1e-8 /* glm.control(epsilon) */
#define SV_GLM_MAX_ITER 25  /* glm.control(maxit) */
/* A fitted value at 0 or 1 whose linear predictor still moved by more
 * than this in the last iteration marks separation (see sv_glm_result). */
#define SV_GLM_SEPARATION_STEP 1e-3

typedef struct sv_glm_opts {
    int intercept;         /* nonzero: a column of ones comes first */
    const double *offset;  /* n values added to the linear predictor, or NULL */
    const double *weights; /* n prior weights >= 0, or NULL for all 1 */
    const double *mustart; /* n starting fitted values in (0, 1), or NULL */
    double epsilon;        /* > 0; default SV_GLM_EPSILON */
    int max_iter;          /* >= 1; default SV_GLM_MAX_ITER */
} sv_glm_opts;

/* R's glm defaults: an intercept, no offset, weights or start,
 * glm.control(epsilon, maxit). A NULL opts pointer means them. */
void sv_glm_opts_default(sv_glm_opts *o);

/*
 * Outputs: k = p + (intercept ? 1 : 0) coefficients, intercept first.
 * coef, se, z, pval must hold k values; cov (k * k, column-major) and
 * fitted (n) may be NULL.
 */
typedef struct sv_glm_result {
    double *coef, *se, *z, *pval, *cov, *fitted;
    double deviance, null_deviance, aic, loglik;
    double df_residual, df_null;
    int iter;
    int converged;       /* the deviance criterion was met within max_iter */
    int boundary;        /* a step was halved (R's fit$boundary) */
    size_t n_extreme;    /* fitted values within 10 DBL_EPSILON of 0 or 1
                            (R's warning "fitted probabilities numerically
                            0 or 1 occurred") */
    size_t first_extreme; /* the first such row (0-based), if any */
    int separation;      /* some of those rows' linear predictor moved by more
                            than SV_GLM_SEPARATION_STEP in the last iteration:
                            the iterates diverge (complete or quasi-complete
                            separation, no finite maximum); a converged fit
                            with an extreme but finite fitted value is not
                            flagged */
} sv_glm_result;

/*
 * Fits the model. Errors: SV_EINVAL for bad sizes or values (y not 0/1,
 * a negative weight, fewer positive-weight rows than coefficients),
 * SV_ENUM for linearly dependent columns (the message names the 1-based
 * design column, counting the intercept as column 0) or a step that
 * cannot be made finite. Non-convergence and fitted values at 0 or 1 are
 * reported in the result, with status SV_OK.
 */
sv_status sv_glm_logistic(const double *X, size_t n, size_t p, const double *y,
                          const sv_glm_opts *o, sv_glm_result *r, sv_err *err);

/*
 * Predictions of a fitted model for n new rows: the linear predictor
 * (link != 0) or the probability plogis(eta) computed as R's
 * predict(type = "response"), i.e. with the same clamping at |eta| > 30.
 * coef holds p + (intercept ? 1 : 0) values; offset may be NULL.
 */
void sv_glm_predict(const double *X, size_t n, size_t p, const double *coef, int intercept,
                    const double *offset, int link, double *out);

/* R's binomial()$linkinv (the clamped inverse logit). */
double sv_glm_linkinv(double eta);

#ifdef __cplusplus
}
#endif
#endif
