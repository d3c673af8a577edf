/*
 * sv_validate.h - the numbers of resampling validation of a prediction
 * pipeline (docs/validation.md): the performance metrics of predicted
 * probabilities over a list of rows, the bootstrap row lists, Harrell's
 * optimism, Efron's .632 and Efron & Tibshirani's .632+ estimates, the
 * prediction instability of Riley & Collins (2023), and the sample-size
 * criteria of Riley et al. (2020).
 *
 * The pipelines themselves are Lua functions run by scripts/validate.lua;
 * every statistic they are judged by is computed here.
 */
#ifndef SV_VALIDATE_H
#define SV_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The metrics, in this order everywhere. */
enum sv_vmetric {
    SV_VM_AUC,       /* AUC (Mann-Whitney, ties 1/2), as sv_roc_auc */
    SV_VM_BRIER,     /* mean (p - y)^2 */
    SV_VM_SLOPE,     /* b in logit P(y) = a + b logit(p) (R: glm(y ~ qlogis(p), binomial)) */
    SV_VM_INTERCEPT, /* a in logit P(y) = a + logit(p) (R: glm(y ~ offset(qlogis(p)), binomial)) */
    SV_VM_EMAX,      /* max |p - s(p)|, s the lowess calibration curve (rms::val.prob's Emax) */
    SV_VM_E90,       /* the 90th percentile (type 7) of |p - s(p)| (val.prob's E90) */
    SV_VM_ICI,       /* mean |p - s(p)|: Austin & Steyerberg's ICI (val.prob's Eavg) */
    SV_VM_COUNT
};

/*
 * The calibration errors of Austin & Steyerberg (2019, Stat Med 38:4051),
 * computed as rms::val.prob does: s = the lowess smooth of the outcomes y
 * on the predictions p (R: lowess(p, y, iter = 0), span 2/3, delta 1% of
 * the range of p; sv_lowess), read at each prediction (R: approx(Sm, xout
 * = p, ties = mean): tied predictions take the mean of their smoothed
 * values); e_i = |p_i - s(p_i)|; out[0] = Emax = max e, out[1] = E90 =
 * the type-7 90% quantile of e, out[2] = ICI = mean e. Over the m listed
 * (y, p) pairs (repeats as listed); m < 2 gives NaN.
 */
sv_status sv_validate_calibration_errors(const double *y, const double *p, size_t m,
                                         double out[3], sv_err *err);

/*
 * Metrics of the probabilities p (indexed by row) over the listed rows
 * (all SV_VM_COUNT of them; Emax, E90 and ICI from
 * sv_validate_calibration_errors, over every listed row)
 * (0-based, repeats count as often as listed). AUC is NaN when the rows
 * hold one class; slope and intercept leave out rows with p = 0 or 1
 * (logit infinite; rms's val.prob does the same), their number goes to
 * *dropped, and are NaN when the recalibration has no finite estimate.
 * rows = NULL means all n rows once. Never fails on values: errors are
 * SV_EINVAL (a row out of range, p outside [0, 1]) and SV_ENOMEM.
 */
sv_status sv_validate_metrics(const double *y, const double *p, size_t n, const size_t *rows,
                              size_t m, double out[SV_VM_COUNT], size_t *dropped, sv_err *err);

/* Replicate b's bootstrap sample: n rows drawn with replacement from
 * [0, n) with the generator stream (seed, b), in draw order. */
void sv_validate_resample(size_t n, uint64_t seed, uint64_t b, size_t *rows);

typedef enum sv_val_method {
    SV_VAL_OPTIMISM = 0, /* Harrell: apparent - mean(train - test) */
    SV_VAL_632 = 1,      /* Efron: 0.368 apparent + 0.632 mean(out-of-bag) */
    SV_VAL_632PLUS = 2   /* Efron & Tibshirani 1997 */
} sv_val_method;

/*
 * Combines B replicates' metrics (row-major B x SV_VM_COUNT arrays; NaN
 * where a replicate has no value) into the optimism and the corrected
 * estimate of each metric. train: the replicate's model on its own rows;
 * test: on all rows; oob: on the rows its sample left out. A metric's
 * replicates are those where the values the method needs are finite; their
 * number goes to nvalid (0 gives NaN). gamma_brier is the no-information
 * Brier score of the apparent predictions, n^-2 sum_i sum_j (y_i - p_j)^2
 * (.632+ only). For .632+, AUC is handled as the error 1 - AUC with the
 * no-information value 1/2; slope and intercept have no no-information
 * value and are NaN. optimism = apparent - corrected for every method.
 */
void sv_validate_combine(sv_val_method method, const double app[SV_VM_COUNT],
                         const double *train, const double *test, const double *oob, size_t B,
                         double gamma_brier, double optimism[SV_VM_COUNT],
                         double corrected[SV_VM_COUNT], size_t nvalid[SV_VM_COUNT]);

/* n^-2 sum_i sum_j (y_i - p_j)^2, in O(n). */
double sv_validate_gamma_brier(const double *y, const double *p, size_t n);

/*
 * Prediction instability (Riley & Collins 2023): P holds the B bootstrap
 * models' predictions for the n patients (row-major B x n; NaN rows for
 * failed replicates are skipped), p0 the original model's. Per patient:
 * mape = mean_b |P[b, i] - p0[i]|, lo and hi the 2.5% and 97.5% type-7
 * quantiles of P[., i]. *mape_mean is the mean of mape over patients.
 */
sv_status sv_validate_instability(const double *P, size_t B, size_t n, const double *p0,
                                  double *mape, double *lo, double *hi, double *mape_mean,
                                  sv_err *err);

/*
 * Minimum sample size for developing a prediction model (Riley et al.
 * 2020, BMJ 368:m441; the criteria as pmsampsize 1.1.3 computes them).
 * p: candidate predictor parameters; r2: the anticipated Cox-Snell R^2
 * (adjusted); shrinkage: the target S (0.9); delta: the accepted optimism
 * in Nagelkerke's R^2 (0.05).
 * Binary (prevalence phi; margin of error of the overall risk, 0.05):
 *   max R^2 = 1 - (phi^phi (1 - phi)^(1 - phi))^2,
 *   n1 = ceil(p / ((S - 1) ln(1 - R^2/S)))             (shrinkage),
 *   S2 = R^2 / (R^2 + delta max R^2), n2 likewise with S2 (optimism),
 *   n3 = ceil((1.96 / margin)^2 phi (1 - phi))           (overall risk).
 * Survival (event rate per unit time, mean follow-up, time point t):
 *   max R^2 = 1 - exp(2 lnL0 / 10000), lnL0 = E ln(E / 10000) - E,
 *   E = ceil(rate * meanfup * 10000) (pmsampsize's discretisation);
 *   n1, n2 as above; n3 = max(n1, n2) with the 95% interval of the
 *   cumulative incidence at t, 1 - exp(-(rate +- 1.96 sqrt(rate / PY)) t),
 *   PY = meanfup * n3 rounded to 1 decimal.
 * n = max(n1, n2, n3); events = n phi or n rate meanfup.
 */
typedef struct sv_sampsize_result {
    double n, n1, n2, n3;
    double s2;          /* the shrinkage that criterion 2 implies */
    double max_r2, r2_nagelkerke;
    double events, epp;
    double cuminc, cuminc_lo, cuminc_hi; /* survival only (else NaN) */
} sv_sampsize_result;

sv_status sv_sampsize_binary(double p, double r2, double phi, double shrinkage, double delta,
                             double margin, sv_sampsize_result *out, sv_err *err);
sv_status sv_sampsize_survival(double p, double r2, double rate, double meanfup,
                               double timepoint, double shrinkage, double delta,
                               sv_sampsize_result *out, sv_err *err);
/* The Cox-Snell R^2 of a logistic model with C-statistic c at prevalence
 * phi, for a linear predictor normal with unit variance in each class
 * (the model of Riley et al. 2021's conversion): computed exactly, as the
 * population value (pmsampsize estimates it by simulating 10^6 patients,
 * whose Monte Carlo error is about 1e-3). The log odds given the predictor
 * are then exactly logit(phi) - mu^2/2 + mu x with mu = sqrt(2) qnorm(c),
 * and R^2 = 1 - exp(-2 (E log L - log L0)) by Simpson's rule. */
double sv_sampsize_cstat_to_r2(double c, double phi);
/* The Cox-Snell R^2 for a Nagelkerke R^2 (r2 * max R^2) at prevalence
 * phi (binary). */
double sv_sampsize_max_r2_binary(double phi);
double sv_sampsize_max_r2_survival(double rate, double meanfup);

#ifdef __cplusplus
}
#endif
#endif
