/*
 * surv_km.c - the Kaplan-Meier estimator (Kaplan & Meier 1958) with
 * Greenwood's variance (Greenwood 1926), R's three confidence intervals,
 * print.survfit's median and its confidence limits (Brookmeyer & Crowley
 * 1982: the times where the pointwise limits cross 0.5), survival at given
 * times and the restricted mean (Irwin 1949; variance as print.survfit).
 *
 * Agrees with R's survfit(Surv(time, event) ~ 1, conf.type = ...) row by
 * row; see docs/survival.md.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "sv_surv.h"
#include "sv_dist.h"

static double conf_z(double level)
{
    return sv_qnorm(1.0 - (1.0 - level) / 2.0, 1);
}

void sv_km_opts_default(sv_km_opts *opts)
{
    opts->conf_type = SV_CONF_LOG;
    opts->conf_level = SV_KM_CONF_LEVEL_DEFAULT;
}

void sv_km_confint(double s, double se, sv_conf_type type, double z,
                   double *lower, double *upper)
{
    switch (type) {
    case SV_CONF_PLAIN: {
        /* R: se2 = se * p * z; lower = pmax(p - se2, 0); upper = pmin(p + se2, 1).
         * At S = 0 se is Inf and Inf * 0 is NaN, as in R. */
        double se2 = se * s * z;
        double lo = s - se2, hi = s + se2;
        *lower = isnan(lo) ? NAN : (lo < 0 ? 0 : lo);
        *upper = isnan(hi) ? NAN : (hi > 1 ? 1 : hi);
        break;
    }
    case SV_CONF_LOGLOG: {
        if (s == 0 || s == 1) { /* R: NA at 0 and at 1 */
            *lower = *upper = NAN;
            break;
        }
        double ll = log(-log(s));
        double se2 = z * se / log(s);
        *lower = exp(-exp(ll - se2));
        *upper = exp(-exp(ll + se2));
        break;
    }
    case SV_CONF_LOG:
    default: {
        if (s == 0) {
            *lower = *upper = NAN;
            break;
        }
        double ls = log(s), se2 = z * se;
        double hi = exp(ls + se2);
        *lower = exp(ls - se2);
        *upper = hi > 1 ? 1 : hi;
        break;
    }
    }
}

double sv_km_median_rule(const double *x, const double *y, size_t nrow)
{
    const double tol = sqrt(DBL_EPSILON);
    size_t first = nrow;
    for (size_t k = 0; k < nrow; k++) {
        if (!isnan(y[k]) && y[k] < 0.5 + tol) {
            first = k;
            break;
        }
    }
    if (first == nrow) return NAN;
    if (fabs(y[first] - 0.5) < tol) {
        /* Flat at 0.5: midpoint to the next (kept) time where it drops. */
        for (size_t k = first + 1; k < nrow; k++)
            if (!isnan(y[k]) && y[k] < y[first]) return (x[first] + x[k]) / 2.0;
    }
    return x[first];
}

void sv_km_fit_sorted(const double *time, const double *event,
                      const uint32_t *idx, size_t m, const sv_km_opts *opts,
                      sv_km *out)
{
    sv_conf_type type = opts ? opts->conf_type : SV_CONF_LOG;
    double z = conf_z(opts ? opts->conf_level : SV_KM_CONF_LEVEL_DEFAULT);
    double s = 1.0, varhaz = 0.0, at_risk = (double)m, events = 0;
    size_t row = 0, i = 0;
    while (i < m) {
        double t = time[idx[i]];
        double d = 0, c = 0;
        while (i < m && time[idx[i]] == t) {
            if (event[idx[i]] != 0) d += 1;
            else c += 1;
            i++;
        }
        if (d > 0) {
            /* At n = d, d / (n (n - d)) is Inf: R reports std.err Inf. */
            varhaz += d / (at_risk * (at_risk - d));
            s *= (at_risk - d) / at_risk;
        }
        out->time[row] = t;
        out->n_risk[row] = at_risk;
        out->n_event[row] = d;
        out->n_censor[row] = c;
        out->surv[row] = s;
        out->std_err[row] = sqrt(varhaz);
        sv_km_confint(s, out->std_err[row], type, z, &out->lower[row], &out->upper[row]);
        events += d;
        at_risk -= d + c;
        row++;
    }
    out->nrow = row;
    out->n = m;
    out->events = events;
    out->median = sv_km_median_rule(out->time, out->surv, row);
    out->median_lo = sv_km_median_rule(out->time, out->lower, row);
    out->median_hi = sv_km_median_rule(out->time, out->upper, row);
}

sv_status sv_km_fit(const double *time, const double *event, size_t n,
                    const sv_km_opts *opts, sv_km *out, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    if (opts && !(opts->conf_level > 0 && opts->conf_level < 1))
        return sv_err_set(err, SV_EINVAL, "conf_level must be in (0, 1), got %g", opts->conf_level);
    if (opts && (opts->conf_type < SV_CONF_LOG || opts->conf_type > SV_CONF_PLAIN))
        return sv_err_set(err, SV_EINVAL, "unknown conf_type %d", (int)opts->conf_type);
    uint32_t *perm = sv_malloc(n ? n : 1, sizeof *perm);
    if (!perm) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
    st = sv_surv_order(time, NULL, 0, n, perm, err);
    if (!st) sv_km_fit_sorted(time, event, perm, n, opts, out);
    free(perm);
    return st;
}

/* Index of the last row with time <= t, or -1. */
static long last_at_or_before(const double *x, size_t nrow, double t)
{
    size_t lo = 0, hi = nrow; /* first index with x > t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] <= t) lo = mid + 1;
        else hi = mid;
    }
    return (long)lo - 1;
}

sv_status sv_km_at(const sv_km *km, sv_conf_type type, double conf_level,
                   const double *t, size_t m, double *surv, double *std_err,
                   double *lower, double *upper, double *n_risk,
                   double *n_event, sv_err *err)
{
    for (size_t j = 0; j < m; j++) {
        if (isnan(t[j]))
            return sv_err_set(err, SV_EINVAL, "times[%zu] is NaN", j + 1);
        if (j > 0 && t[j] < t[j - 1])
            return sv_err_set(err, SV_EINVAL, "times must be ascending (times[%zu] < times[%zu])",
                              j + 1, j);
    }
    double z = conf_z(conf_level);
    size_t nrow = km->nrow;
    double last_time = nrow ? km->time[nrow - 1] : 0;
    double cum_prev = 0;   /* events up to the previous requested time */
    long k_prev = -1;
    double cum = 0;
    for (size_t j = 0; j < m; j++) {
        long k = last_at_or_before(km->time, nrow, t[j]);
        for (long r = k_prev + 1; r <= k; r++) cum += km->n_event[r];
        if (k > k_prev) k_prev = k;
        n_event[j] = cum - cum_prev;
        cum_prev = cum;
        /* at risk at t: subjects with time >= t = n_risk of the first row
         * at or after t */
        size_t first_ge = (k >= 0 && km->time[k] == t[j]) ? (size_t)k : (size_t)(k + 1);
        n_risk[j] = first_ge < nrow ? km->n_risk[first_ge] : 0;
        if (nrow == 0) { /* an empty curve estimates nothing */
            surv[j] = std_err[j] = lower[j] = upper[j] = NAN;
        } else if (k < 0) {
            surv[j] = 1;
            std_err[j] = 0;
            lower[j] = upper[j] = 1;
        } else if (t[j] > last_time) {
            surv[j] = std_err[j] = lower[j] = upper[j] = NAN;
        } else {
            surv[j] = km->surv[k];
            std_err[j] = km->std_err[k];
            sv_km_confint(surv[j], std_err[j], type, z, &lower[j], &upper[j]);
        }
    }
    return SV_OK;
}

void sv_km_rmst(const sv_km *km, double tau, double *rmst, double *se)
{
    /* Rows with time <= tau, then tau itself; rectangle k spans
     * [t_{k-1}, t_k) at height S(t_{k-1}) (t_0 = 0, S = 1). */
    size_t nrow = km->nrow, kept = 0;
    while (kept < nrow && km->time[kept] <= tau) kept++;
    double area = 0, prev_t = 0, prev_s = 1;
    for (size_t k = 0; k < kept; k++) {
        area += (km->time[k] - prev_t) * prev_s;
        prev_t = km->time[k];
        prev_s = km->surv[k];
    }
    area += (tau - prev_t) * prev_s;
    /* Variance: sum over kept rows k of A_k^2 h_k, A_k the area from t_k
     * to tau, h_k = d / (n (n - d)) (0 when n = d, as R). Accumulated
     * from tau backwards. */
    double var = 0, tail = 0, next_t = tau;
    for (size_t k = kept; k-- > 0;) {
        tail += (next_t - km->time[k]) * km->surv[k];
        next_t = km->time[k];
        double n = km->n_risk[k], d = km->n_event[k];
        double h = (n - d) == 0 ? 0 : d / (n * (n - d));
        var += tail * tail * h;
    }
    *rmst = area;
    *se = sqrt(var);
}
