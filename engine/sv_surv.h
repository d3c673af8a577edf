/*
 * sv_surv.h - survival statistics: Kaplan-Meier, log-rank / G-rho, Cox
 * proportional hazards, Harrell's concordance and the restricted mean.
 *
 * Every kernel is written to agree with R's survival package (3.5):
 * survfit (and print.survfit for the median and the restricted mean),
 * survdiff, coxph and concordance(..., reverse = TRUE). The conventions
 * that decide the digits are stated at each function; docs/survival.md
 * gives the formulas and references.
 *
 * Inputs common to every function:
 *   time[n]   follow-up times, finite and > 0
 *   event[n]  1 = event, 0 = censored (exactly those two values)
 *   group[n]  integer codes 0..k-1 (the bindings map labels to codes in
 *             sorted label order, as R's factor levels)
 *   strata[n] integer codes 0..s-1, or NULL for a single stratum
 * Each function validates its inputs and returns SV_EINVAL with a message
 * naming the argument and the first offending element.
 *
 * Sorting is done once per call with a radix sort on the time keys
 * (O(n)); the passes over the sorted data are linear; scratch memory is
 * allocated once per call, never inside a loop over subjects.
 */
#ifndef SV_SURV_H
#define SV_SURV_H

#include <stddef.h>
#include <stdint.h>

#include "sv_core.h"
#include "sv_stats.h" /* sv_padjust, for the pairwise tests */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- validation and ordering ---------------------------------------- */

/* Checks time (finite, > 0) and event (0 or 1). Messages name the
 * element 1-based, as seen from Lua. */
sv_status sv_surv_check(const double *time, const double *event, size_t n,
                        sv_err *err);

/*
 * Stable ascending order of key[0..n) into perm (caller-owned, n entries):
 * an LSD radix sort on the IEEE-754 bits, O(n). Keys must not be NaN.
 * When `within` is not NULL the order is by (within[i], key[i]), within
 * holding codes 0..nwithin-1 (a stable counting pass after the radix sort).
 */
sv_status sv_surv_order(const double *key, const int *within, int nwithin,
                        size_t n, uint32_t *perm, sv_err *err);

/* Stably re-sorts an existing permutation perm[0..n) by key[perm[i]],
 * ascending or descending (ties keep their current order). */
sv_status sv_surv_reorder(const double *key, int descending, size_t n,
                          uint32_t *perm, sv_err *err);

/* ---- Kaplan-Meier ----------------------------------------------------- */

typedef enum sv_conf_type {
    SV_CONF_LOG = 0,    /* R's default: S exp(+-z se), upper capped at 1 */
    SV_CONF_LOGLOG = 1, /* exp(-exp(log(-log S) -+ z se / log S)) */
    SV_CONF_PLAIN = 2   /* S (1 +- z se), clipped to [0, 1] */
} sv_conf_type;

#define SV_KM_CONF_LEVEL_DEFAULT 0.95

typedef struct sv_km_opts {
    sv_conf_type conf_type; /* default SV_CONF_LOG */
    double conf_level;      /* in (0, 1); default SV_KM_CONF_LEVEL_DEFAULT */
} sv_km_opts;

/* The defaults (R's survfit): log intervals at 0.95. Every options struct
 * of the engine has such a function; a NULL opts pointer means them. */
void sv_km_opts_default(sv_km_opts *opts);

/*
 * One Kaplan-Meier curve. The arrays are caller-owned with room for n
 * rows (n = number of subjects of the curve); nrow is set by the fit.
 * One row per distinct time with an event or a censoring (R's survfit).
 * std_err is Greenwood's on R's scale, the standard error of the
 * cumulative hazard: sqrt(sum d / (n (n - d))) (Inf once S = 0).
 * lower/upper are NaN where R reports NA.
 */
typedef struct sv_km {
    size_t nrow;
    double *time, *n_risk, *n_event, *n_censor, *surv, *std_err, *lower,
        *upper;
    size_t n;      /* subjects */
    double events; /* total events */
    /* print.survfit's median and its CI (NaN = NA) */
    double median, median_lo, median_hi;
} sv_km;

/* Fits one curve on the subjects idx[0..m) (already in ascending time
 * order, e.g. a slice of sv_surv_order's permutation). */
void sv_km_fit_sorted(const double *time, const double *event,
                      const uint32_t *idx, size_t m, const sv_km_opts *opts,
                      sv_km *out);

/* Validates, sorts and fits one curve on all n subjects. */
sv_status sv_km_fit(const double *time, const double *event, size_t n,
                    const sv_km_opts *opts, sv_km *out, sv_err *err);

/* Confidence limits of survival s with cumulative-hazard standard error
 * se, exactly as R's survfit_confint (NaN where R gives NA). */
void sv_km_confint(double s, double se, sv_conf_type type, double z,
                   double *lower, double *upper);

/* print.survfit's rule for the time where a curve y (values at times x,
 * nrow rows, NaN = NA) first reaches 0.5: the first time with
 * y < 0.5 + tol (tol = sqrt(DBL_EPSILON)); when that y equals 0.5 within
 * tol and the curve drops later, the midpoint between that time and the
 * time of the next drop. NaN when never reached. */
double sv_km_median_rule(const double *x, const double *y, size_t nrow);

/*
 * Survival at the times t[0..m) from a fitted curve: S, std_err and
 * limits at the last curve time <= t (1, 0, 1, 1 before the first time;
 * NaN after the last curve time, as R's summary(fit, times) does not
 * extrapolate, and NaN for a curve without subjects); n_risk = subjects with time >= t; n_event = events in
 * (t_prev, t] where t_prev is the previous requested time (0 for the
 * first). Requested times must be ascending (SV_EINVAL otherwise).
 */
sv_status sv_km_at(const sv_km *km, sv_conf_type type, double conf_level,
                   const double *t, size_t m, double *surv, double *std_err,
                   double *lower, double *upper, double *n_risk,
                   double *n_event, sv_err *err);

/*
 * Restricted mean survival time to tau, as print(survfit, rmean = tau):
 * the area under the curve from 0 to tau, and its standard error
 * sqrt(sum_k A_k^2 d_k / (n_k (n_k - d_k))) with A_k the area from t_k
 * to tau (terms with n_k = d_k contribute 0, as in R).
 */
void sv_km_rmst(const sv_km *km, double tau, double *rmst, double *se);

/* ---- log-rank and G-rho ---------------------------------------------- */

/* The test's work is O(k^2) per event time and its variance k x k: more
 * groups than this is refused (most likely a continuous variable passed
 * as the group), as is a pairwise comparison of more than 100 groups. */
#define SV_LOGRANK_MAX_GROUPS 1000
#define SV_PAIRWISE_MAX_GROUPS 100

typedef struct sv_logrank_opts {
    double rho; /* weights S(t-)^rho, S the pooled KM within the stratum;
                   >= 0, default 0 (the log-rank test) */
} sv_logrank_opts;

void sv_logrank_opts_default(sv_logrank_opts *opts);

typedef struct sv_logrank_result {
    double chisq, p;
    int df;              /* groups with expected > 0, minus one */
    double *observed;    /* [k] caller-owned, summed over strata */
    double *expected;    /* [k] */
    double *var;         /* [k * k], column-major */
} sv_logrank_result;

/* survdiff(Surv(time, event) ~ group [+ strata(s)], rho = rho).
 * Fewer than two groups present is SV_EINVAL ("only 1 group", as R). */
sv_status sv_logrank(const double *time, const double *event,
                     const int *group, int k, const int *strata, int nstrata,
                     size_t n, const sv_logrank_opts *opts,
                     sv_logrank_result *out, sv_err *err);

/*
 * Pairwise log-rank tests: for every two groups a < b of the k, the test
 * of sv_logrank on the subjects of those two groups only (R: survdiff on
 * the subset, as survminer's pairwise_survdiff), then the k(k-1)/2
 * p-values adjusted together by `adjust` (sv_p_adjust, R's p.adjust).
 * Pair q runs (0,1), (0,2), .., (0,k-1), (1,2), ..; chisq, p and p_adj
 * have k(k-1)/2 caller-owned entries. A pair without a test (df 0) has
 * p = NaN (R: NA), left out of the adjustment. 2 <= k <=
 * SV_PAIRWISE_MAX_GROUPS.
 */
sv_status sv_logrank_pairwise(const double *time, const double *event,
                              const int *group, int k, const int *strata,
                              int nstrata, size_t n,
                              const sv_logrank_opts *opts, sv_padjust adjust,
                              double *chisq, double *p, double *p_adj,
                              sv_err *err);

/* Solves x' V^- x for the chi-square: V (m x m, column-major) and x are
 * overwritten. Gaussian elimination with partial pivoting (R's solve);
 * SV_ENUM when V is singular. */
sv_status sv_surv_quadform(double *V, double *x, int m, double *value,
                           sv_err *err);

/* ---- Cox proportional hazards ----------------------------------------- */

typedef enum sv_cox_ties { SV_TIES_EFRON = 0, SV_TIES_BRESLOW = 1 } sv_cox_ties;

#define SV_COX_EPS 1e-9         /* coxph.control(eps) */
#define SV_COX_MAX_ITER 20      /* coxph.control(iter.max) */
/* coxph.control(toler.chol) = .Machine$double.eps^0.75 */
#define SV_COX_TOLER_CHOL 1.8189894035458617e-12
/* coxph.control(toler.inf) = sqrt(eps) */
#define SV_COX_TOLER_INF 3.1622776601683795e-05

typedef struct sv_cox_opts {
    sv_cox_ties ties;  /* default SV_TIES_EFRON */
    int max_iter;      /* >= 1; default SV_COX_MAX_ITER */
    double eps;        /* > 0; default SV_COX_EPS */
    double conf_level; /* in (0, 1); default 0.95 */
} sv_cox_opts;

/* The defaults of R's coxph / coxph.control. */
void sv_cox_opts_default(sv_cox_opts *opts);

/* Caller-owned arrays: p or p*p entries. NaN where R reports NA. */
typedef struct sv_cox_result {
    double *coef, *se, *hr, *hr_lo, *hr_hi, *z, *p;
    double *var;            /* p x p, column-major; 0 rows for aliased */
    int *aliased;           /* [p] 1 where the column is collinear (NA) */
    int *infinite;          /* [p] 1 where R warns "may be infinite" */
    double *lp;             /* [n] linear predictor (may be NULL) */
    double loglik_null, loglik;
    double wald, score, lrt;
    int df;                 /* non-aliased coefficients */
    double wald_p, score_p, lrt_p;
    double concordance, concordance_se;
    int iter;
    int converged;          /* 0: ran out of iterations */
    size_t n;
    double events;
} sv_cox_result;

/*
 * coxph(Surv(time, event) ~ X [+ strata(s)], ties = ties) with R's
 * Newton-Raphson (start at 0, step-halving when the log partial
 * likelihood decreases, converged when |1 - l_old / l_new| <= eps, at most
 * max_iter iterations), R's Cholesky tolerance for collinear columns
 * (their coefficients are NaN and flagged in `aliased`) and R's test for
 * coefficients that may be infinite (flagged in `infinite`).
 * X is n x p column-major. opts NULL means sv_cox_opts_default; options
 * out of range are SV_EINVAL. ctx may be NULL; its cancel flag is checked
 * at every Newton step (SV_EINTR). Returns SV_ENUM only for numerical
 * overflow.
 */
sv_status sv_cox_fit(const double *time, const double *event, const double *X,
                     size_t n, size_t p, const int *strata, int nstrata,
                     const sv_cox_opts *opts, const sv_ctx *ctx,
                     sv_cox_result *out, sv_err *err);

/*
 * The warnings of a Cox fit of p columns, worded as R's coxph where R has
 * one (names[j] the column names; NULL, or a NULL entry, reads "x<j+1>"):
 *   - no events: "no events: no coefficient can be estimated", else when
 *     columns are aliased "X matrix deemed to be singular; NA coefficient
 *     for variable(s) a, b";
 *   - not converged: "Ran out of iterations and did not converge";
 *   - infinite: "Loglik converged before variable 1 (a),3 (c);
 *     coefficient may be infinite".
 * Writes up to SV_COX_MAX_WARNINGS malloc'd strings to out (the caller
 * frees them) and returns how many; -1 when out of memory (then nothing
 * is left to free).
 */
#define SV_COX_MAX_WARNINGS 3
int sv_cox_warnings(const sv_cox_result *r, size_t p, const char *const *names,
                    char *out[SV_COX_MAX_WARNINGS]);

/* ---- concordance ------------------------------------------------------- */

typedef struct sv_concordance_result {
    /* pairs, as R's count: concordant, discordant, tied.x (risk tied,
     * times not), tied.y (event times tied, risks not), tied.xy (both) */
    double concordant, discordant, tied_risk, tied_time, tied_both;
    double concordance; /* (concordant + tied_risk / 2) / (concordant +
                           discordant + tied_risk); NaN with no pairs */
    double var;         /* infinitesimal-jackknife variance of C, as R's
                           concordance()$var: sum_i ((dN_i - C dD_i) / D)^2
                           with dN_i, dD_i the (concordant + tied/2) and
                           comparable pairs subject i belongs to */
} sv_concordance_result;

/*
 * Harrell's C for a risk score (higher risk = shorter survival), as R's
 * concordance(Surv(time, event) ~ risk [+ strata(s)], reverse = TRUE):
 * a pair is comparable when the shorter time is an event (an event and a
 * censoring at the same time count as comparable, the event first; two
 * events at the same time are tied in time and left out); pairs are only
 * formed within a stratum. O(n log n): a merge sort of the risk ranks in
 * time order (surv_conc.c).
 */
sv_status sv_concordance(const double *time, const double *event,
                         const double *risk, const int *strata, int nstrata,
                         size_t n, sv_concordance_result *out, sv_err *err);

/* ---- time-dependent performance (surv_td.c) --------------------------- */

/*
 * Inputs shared by the functions below: time/event as above; times[m]
 * the evaluation horizons, finite, > 0, strictly ascending and not after
 * the last follow-up time (riskRegression::Score drops such times; here
 * they are an error naming the element).
 *
 * Censoring weights are those of riskRegression::Score(cens.model = "km"):
 * G is the reverse Kaplan-Meier of prodlim (at a time with events and
 * censorings, the events leave the risk set first), G(T_i-) for a case,
 * G(t) for a control. "Cases" at t are T <= t with an event, "controls"
 * T > t, censored subjects with T <= t get weight 0.
 *
 * Standard errors are Score's default (conservative = FALSE): sd(IF) /
 * sqrt(n), sd dividing by n - 1, IF the influence function including the
 * term for the estimated Kaplan-Meier censoring distribution (the
 * Nelson-Aalen influence of riskRegression's getInfluenceFunctionKM).
 * Computed in O(n) per time after two sorts, memory O(n).
 */

typedef struct sv_auc_t_result {
    /* [m] caller-owned arrays; NaN at a time without cases or controls */
    double *auc, *se, *lo, *hi;
    /* with a second marker (else unused, may be NULL): its AUC and SE and
     * the paired comparison diff = auc - auc2, its SE from the difference
     * of the influence functions, the normal CI and two-sided p-value
     * (Score's AUC$contrasts with marker2 as the reference) */
    double *auc2, *se2, *lo2, *hi2;
    double *diff, *diff_se, *diff_lo, *diff_hi, *diff_p;
    /* [m] numbers of cases and controls at each time */
    double *cases, *controls;
} sv_auc_t_result;

/*
 * Cumulative/dynamic AUC(t) with IPCW (Uno et al. 2007; Blanche et al.
 * 2013): the weighted Mann-Whitney of cases against controls, ties in the
 * marker counting 1/2; a higher marker means higher risk. Limits are
 * AUC -+ z se truncated to [0, 1] (z from level). marker2 may be NULL.
 */
sv_status sv_surv_auc_t(const double *time, const double *event,
                        const double *marker, const double *marker2, size_t n,
                        const double *times, size_t m, double level,
                        sv_auc_t_result *out, sv_err *err);

/*
 * The IPCW ROC curve at t behind sv_surv_auc_t (riskRegression's
 * Score(plots = "ROC") plotframe): for each distinct marker value c, in
 * decreasing order, threshold[k] = c and the weighted fractions of cases
 * (tpr) and controls (fpr) with marker >= c. Outputs hold n values;
 * *npoints receives the number of distinct markers. Without cases or
 * controls at t the fractions are NaN.
 */
sv_status sv_surv_roc_t(const double *time, const double *event,
                        const double *marker, size_t n, double t,
                        double *threshold, double *tpr, double *fpr,
                        size_t *npoints, sv_err *err);

/*
 * IPCW Brier score at each time (Graf et al. 1999) of predicted survival
 * probabilities S (n x m, column-major: S[k*n + i] for subject i at
 * times[k], in [0, 1]): residual (S_i)^2 / G(T_i-) for a case,
 * (1 - S_i)^2 / G(t) for a control, 0 for one censored before t; Brier =
 * sum / n. se as above, lo/hi truncated to [0, 1]. ibs[k] is Score's
 * summary "ibs": the step integral of (0, 0), (times[j], brier[j]) from 0
 * to times[k], divided by times[k] (so ibs[0] = 0).
 */
sv_status sv_surv_brier_t(const double *time, const double *event,
                          const double *S, size_t n, const double *times,
                          size_t m, double level, double *brier, double *se,
                          double *lo, double *hi, double *ibs, sv_err *err);

/*
 * Calibration at horizon t of predicted survival S[n] (each in (0, 1)):
 * subjects grouped by the type-7 quantiles of the predicted risk 1 - S
 * (sv_calib_quantile_edges: at most `groups` groups, fewer when
 * quantiles tie); per group the mean predicted risk and the observed risk
 * 1 - KM(t) with its log-scale limits (R: 1 - summary(survfit, times =
 * t) upper/lower); overall O/E = (1 - KM(t)) / mean(1 - S) with the
 * delta-method limits exp(log(O/E) -+ z se), se = std_err KM / (1 - KM)
 * (std_err on the cumulative-hazard scale, as R's); and the calibration
 * slope: the Cox coefficient of log(-log S) (R: coxph(Surv(time, event) ~
 * log(-log(S)))), 1 for a perfectly calibrated model.
 */
typedef struct sv_calib_t_result {
    size_t ngroups;
    /* [groups] caller-owned */
    double *n, *events, *pred, *obs, *obs_lo, *obs_hi;
    double observed, expected, oe, oe_lo, oe_hi;
    double slope, slope_se, slope_lo, slope_hi;
} sv_calib_t_result;
sv_status sv_surv_calibration_t(const double *time, const double *event,
                                const double *S, size_t n, double t,
                                size_t groups, double level,
                                sv_calib_t_result *out, sv_err *err);

/*
 * Uno's concordance: as sv_concordance (no strata) with each comparable
 * pair weighted by 1 / G(T_i-)^2, T_i the earlier (event) time and G the
 * censoring Kaplan-Meier with the same tie rule as above - R's
 * concordance(..., timewt = "n/G2", reverse = TRUE). Counts are weighted;
 * var is R's infinitesimal jackknife with the weights held fixed
 * (concordance()$var). Fewer than 2 events fall back to weight 1, as R.
 */
sv_status sv_concordance_uno(const double *time, const double *event,
                             const double *risk, size_t n,
                             sv_concordance_result *out, sv_err *err);

/*
 * Maximally selected log-rank statistic and Lau's (1994) improved
 * Bonferroni p-value, as maxstat::maxstat.test(Surv(time, event) ~ marker,
 * smethod = "LogRank", pmethod = "Lau94", minprop, maxprop): log-rank
 * scores with max-rank ties, cuts at the distinct marker values leaving
 * at least floor(n minprop) (>= 1) and at most floor(n maxprop) subjects
 * in the low group x <= cut; the smallest cut wins exact ties. `ncuts` is
 * the number of candidate cuts. No candidate cut: SV_EINVAL.
 */
typedef struct sv_cutpoint_result {
    double cut, statistic, p;
    size_t ncuts, n_low, n_high;
} sv_cutpoint_result;
sv_status sv_surv_cutpoint(const double *time, const double *event,
                           const double *marker, size_t n, double minprop,
                           double maxprop, sv_cutpoint_result *out,
                           sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
