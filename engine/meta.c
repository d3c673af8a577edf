/*
 * meta.c - random-effects meta-analysis as metafor::rma.uni (intercept
 * only), with confint()'s Q-profile interval of tau^2 and predict()'s
 * prediction interval. Formulas in sv_meta.h and docs/centres.md.
 *
 * For the intercept-only model the matrices of metafor reduce to sums:
 * with w_i = 1/(v_i + tau^2), S1 = sum w, S2 = sum w^2, S3 = sum w^3 and
 * P = W - w w'/S1,
 *   P y     = w o (y - mu_w),           mu_w = sum w y / S1,
 *   y'P y   = sum w (y - mu_w)^2,
 *   y'PP y  = sum w^2 (y - mu_w)^2,
 *   tr P    = S1 - S2/S1,
 *   tr PP   = sum_ij P_ij^2 = S2 - 2 S3/S1 + (S2/S1)^2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_dist.h"
#include "sv_meta.h"

/* The sums above at one tau^2, for y already centred (as metafor's Ymc). */
typedef struct wsums {
    double s1, s2, s3; /* sum w, w^2, w^3 */
    double mu;         /* weighted mean of y */
    double rss;        /* y'P y */
    double ryy;        /* y'PP y */
} wsums;

static void weighted_sums(const double *y, const double *v, size_t k, double tau2, wsums *s)
{
    double s1 = 0, s2 = 0, s3 = 0, sy = 0;
    for (size_t i = 0; i < k; i++) {
        double w = 1 / (v[i] + tau2);
        s1 += w;
        s2 += w * w;
        s3 += w * w * w;
        sy += w * y[i];
    }
    double mu = sy / s1, rss = 0, ryy = 0;
    for (size_t i = 0; i < k; i++) {
        double w = 1 / (v[i] + tau2), r = y[i] - mu;
        rss += w * r * r;
        ryy += w * w * r * r;
    }
    s->s1 = s1;
    s->s2 = s2;
    s->s3 = s3;
    s->mu = mu;
    s->rss = rss;
    s->ryy = ryy;
}

static double trace_p(const wsums *s) { return s->s1 - s->s2 / s->s1; }

static double trace_pp(const wsums *s)
{
    double r = s->s2 / s->s1;
    return s->s2 - 2 * s->s3 / s->s1 + r * r;
}

/* REML log-likelihood up to a constant (metafor's ll, less the
 * -(k-1)/2 log(2 pi) term that cancels in ll(0) - ll(tau^2)). */
static double reml_ll(const double *y, const double *v, size_t k, double tau2)
{
    wsums s;
    weighted_sums(y, v, k, tau2, &s);
    double sl = 0;
    for (size_t i = 0; i < k; i++) sl += log(v[i] + tau2);
    return -0.5 * sl - 0.5 * log(s.s1) - 0.5 * s.rss;
}

/* Fisher scoring for REML from the Hedges (HE) start, as metafor. */
static sv_status reml_tau2(const double *y, const double *v, size_t k, double *tau2_out,
                           int *iters, int *reset, sv_err *err)
{
    double kk = (double)k;
    /* HE: (sum (y - ybar)^2 - (1 - 1/k) sum v) / (k - 1), truncated at 0 */
    double rss = 0, sv = 0;
    for (size_t i = 0; i < k; i++) {
        rss += y[i] * y[i]; /* y is centred */
        sv += v[i];
    }
    double tau2 = (rss - (sv - sv / kk)) / (kk - 1);
    if (!(tau2 > 0)) tau2 = 0;
    double change = SV_META_REML_THRESHOLD + 1;
    int iter = 0;
    while (change > SV_META_REML_THRESHOLD) {
        iter++;
        double old = tau2;
        wsums s;
        weighted_sums(y, v, k, tau2, &s);
        double adj = (s.ryy - trace_p(&s)) / trace_pp(&s);
        if (isnan(adj)) adj = 0;
        /* halving only to stay at or above the bound 0; a negative adj
         * from tau2 = 0 halves down to -0, which ends the loop */
        while (tau2 + adj < 0) adj /= 2;
        tau2 += adj;
        change = fabs(old - tau2);
        if (iter > SV_META_REML_MAXITER)
            return sv_err_set(err, SV_ENUM,
                              "REML: Fisher scoring did not converge in %d iterations "
                              "(tau^2 = %g)",
                              SV_META_REML_MAXITER, tau2);
    }
    *iters = iter;
    *reset = 0;
    /* metafor's ll0check: a fit below the likelihood at tau^2 = 0 is a
     * local maximum; take 0 instead */
    if (reml_ll(y, v, k, 0) - reml_ll(y, v, k, tau2) > SV_META_LL0_TOL &&
        tau2 > SV_META_REML_THRESHOLD) {
        tau2 = 0;
        *reset = 1;
    }
    *tau2_out = tau2 > 0 ? tau2 : 0;
    return SV_OK;
}

/* Generalised Q at tau^2: sum w (y - mu_w)^2, decreasing in tau^2. */
static double q_at(const double *y, const double *v, size_t k, double tau2)
{
    wsums s;
    weighted_sums(y, v, k, tau2, &s);
    return s.rss;
}

/* The tau^2 in [lo, hi] where Q(tau^2) = target, Q(lo) > target > Q(hi):
 * bisection down to adjacent doubles (metafor uses uniroot with a
 * tolerance; the exact root is what that tolerance approximates). */
static double q_root(const double *y, const double *v, size_t k, double target, double lo,
                     double hi)
{
    for (;;) {
        double mid = lo + (hi - lo) / 2;
        if (!(mid > lo && mid < hi)) return mid;
        if (q_at(y, v, k, mid) > target)
            lo = mid;
        else
            hi = mid;
    }
}

/* confint.rma.uni(type = "QP"): search range [0, max(100, 10 tau^2)]. */
static void q_profile(const double *y, const double *v, size_t k, double tau2, double level,
                      sv_meta_result *r)
{
    double alpha = 1 - level, df = (double)k - 1;
    double crit_u = sv_qchisq(alpha / 2, df, 0);
    double crit_l = sv_qchisq(alpha / 2, df, 1);
    double tmax = 10 * tau2 > 100 ? 10 * tau2 : 100;
    double q0 = q_at(y, v, k, 0), qmax = q_at(y, v, k, tmax);
    double lb, ub;
    r->tau2_hi_capped = 0;
    if (q0 < crit_l) {
        lb = ub = 0;
    } else {
        if (qmax > crit_l) {
            ub = tmax;
            r->tau2_hi_capped = 1;
        } else {
            ub = q_root(y, v, k, crit_l, 0, tmax);
        }
        if (qmax > crit_u)
            lb = tmax;
        else if (q0 < crit_u)
            lb = 0;
        else
            lb = q_root(y, v, k, crit_u, 0, tmax);
    }
    r->tau2_lo = lb;
    r->tau2_hi = ub;
}

static sv_status check_inputs(const double *yi, const double *vi, size_t k, const sv_meta_opts *o,
                              sv_err *err)
{
    if (k < 2)
        return sv_err_set(err, SV_EINVAL,
                          "yi has %zu estimate%s; a random-effects meta-analysis needs at least 2",
                          k, k == 1 ? "" : "s");
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(yi[i]))
            return sv_err_set(err, SV_EINVAL, "yi[%zu] is %g; estimates must be finite", i + 1,
                              yi[i]);
        if (!isfinite(vi[i]) || !(vi[i] > 0))
            return sv_err_set(err, SV_EINVAL,
                              "vi[%zu] is %g; sampling variances must be finite and > 0", i + 1,
                              vi[i]);
    }
    if (!(o->level > 0 && o->level < 1))
        return sv_err_set(err, SV_EINVAL, "level is %g, must be in (0, 1)", o->level);
    if (o->method != SV_META_REML && o->method != SV_META_DL)
        return sv_err_set(err, SV_EINVAL, "unknown method %d", (int)o->method);
    if (o->test != SV_META_Z && o->test != SV_META_KNHA)
        return sv_err_set(err, SV_EINVAL, "unknown test %d", (int)o->test);
    return SV_OK;
}

void sv_meta_opts_default(sv_meta_opts *o)
{
    o->method = SV_META_REML;
    o->test = SV_META_Z;
    o->level = SV_META_LEVEL;
}

sv_status sv_meta_rma(const double *yi, const double *vi, size_t k, const sv_meta_opts *opts,
                      sv_meta_result *out, double *weights, sv_err *err)
{
    sv_meta_opts def;
    sv_meta_opts_default(&def);
    const sv_meta_opts *o = opts ? opts : &def;
    sv_status st = check_inputs(yi, vi, k, o, err);
    if (st) return st;
    double *ymc = sv_malloc(k, sizeof *ymc);
    if (!ymc) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu estimates)", k);
    double ybar = 0;
    for (size_t i = 0; i < k; i++) ybar += yi[i];
    ybar /= (double)k;
    for (size_t i = 0; i < k; i++) ymc[i] = yi[i] - ybar;

    memset(out, 0, sizeof *out);
    out->k = k;
    double kk = (double)k, df = kk - 1;
    double tau2 = 0;
    wsums fe;
    weighted_sums(ymc, vi, k, 0, &fe);
    if (o->method == SV_META_REML) {
        st = reml_tau2(ymc, vi, k, &tau2, &out->iterations, &out->tau2_reset, err);
        if (st) {
            free(ymc);
            return st;
        }
        wsums s;
        weighted_sums(ymc, vi, k, tau2, &s);
        out->se_tau2 = sqrt(2 / trace_pp(&s));
    } else {
        double trp = trace_p(&fe);
        tau2 = (fe.rss - df) / trp;
        if (!(tau2 > 0)) tau2 = 0;
        out->se_tau2 =
            sqrt((2 * df + 4 * tau2 * trp + 2 * tau2 * tau2 * trace_pp(&fe)) / (trp * trp));
    }
    out->tau2 = tau2;

    /* the pooled mean with random-effects weights, on the original y */
    wsums re;
    weighted_sums(yi, vi, k, tau2, &re);
    double vb = 1 / re.s1;
    double crit;
    if (o->test == SV_META_KNHA) {
        double s2w = re.rss <= 2.220446049250313e-16 ? 0 : re.rss / df;
        vb *= s2w;
        out->df = df;
        crit = sv_qt((1 - o->level) / 2, df, 0);
    } else {
        out->df = INFINITY;
        crit = sv_qnorm((1 - o->level) / 2, 0);
    }
    out->estimate = re.mu;
    out->se = sqrt(vb);
    out->stat = re.mu / out->se;
    out->p = o->test == SV_META_KNHA ? 2 * sv_pt(fabs(out->stat), df, 0)
                                     : 2 * sv_pnorm(-fabs(out->stat), 1);
    out->lo = re.mu - crit * out->se;
    out->hi = re.mu + crit * out->se;
    double sp = sqrt(vb + tau2);
    out->pi_lo = re.mu - crit * sp;
    out->pi_hi = re.mu + crit * sp;

    /* heterogeneity: Q with fixed-effect weights; I^2 and H^2 from tau^2
     * and the "typical" within-study variance vt = (k - 1) / tr P_FE */
    out->q = fe.rss > 0 ? fe.rss : 0;
    out->q_df = df;
    out->q_p = sv_pchisq(out->q, df, 0);
    double vt = df / trace_p(&fe);
    q_profile(ymc, vi, k, tau2, o->level, out);
    out->i2 = 100 * tau2 / (vt + tau2);
    out->h2 = tau2 / vt + 1;
    out->i2_lo = 100 * out->tau2_lo / (vt + out->tau2_lo);
    out->i2_hi = 100 * out->tau2_hi / (vt + out->tau2_hi);
    out->h2_lo = out->tau2_lo / vt + 1;
    out->h2_hi = out->tau2_hi / vt + 1;
    if (weights)
        for (size_t i = 0; i < k; i++) weights[i] = 100 / (vi[i] + tau2) / re.s1;
    free(ymc);
    return SV_OK;
}

void sv_meta_study_ci(const double *yi, const double *vi, size_t k, double level, double *lo,
                      double *hi)
{
    double z = sv_qnorm((1 - level) / 2, 0);
    for (size_t i = 0; i < k; i++) {
        double h = z * sqrt(vi[i]);
        lo[i] = yi[i] - h;
        hi[i] = yi[i] + h;
    }
}

sv_status sv_meta_logit_auc(double auc, double se, double *y, double *v, sv_err *err)
{
    if (!(auc > 0 && auc < 1))
        return sv_err_set(err, SV_EINVAL, "AUC %g is not in (0, 1); its logit is not finite", auc);
    if (!(se > 0) || !isfinite(se))
        return sv_err_set(err, SV_EINVAL, "standard error %g must be finite and > 0", se);
    double d = auc * (1 - auc);
    *y = log(auc / (1 - auc));
    *v = se * se / (d * d);
    return SV_OK;
}

sv_status sv_meta_log_oe(double o, double e, double n, double *y, double *v, sv_err *err)
{
    if (!(o > 0) || !isfinite(o))
        return sv_err_set(err, SV_EINVAL, "observed events %g must be finite and > 0", o);
    if (!(e > 0) || !isfinite(e))
        return sv_err_set(err, SV_EINVAL, "expected events %g must be finite and > 0", e);
    if (!(n >= 0) || !isfinite(n))
        return sv_err_set(err, SV_EINVAL, "number of patients %g must be finite and >= 0", n);
    if (n > 0 && !(o < n))
        return sv_err_set(err, SV_EINVAL, "observed events %g must be fewer than the %g patients",
                          o, n);
    *y = log(o / e);
    *v = n > 0 ? (1 - o / n) / o : 1 / o;
    return SV_OK;
}
