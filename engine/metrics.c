/*
 * metrics.c - threshold metrics, proportion intervals, calibration and
 * decision curves; see sv_metrics.h.
 */
#include "sv_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_dist.h"
#include "sv_rng.h"
#include "sv_sort.h"
#include "sv_stats.h"

/* ---- confusion counts and metrics ------------------------------------- */

void sv_confusion_at(const double *y, const double *score, size_t n, double cutoff,
                     sv_confusion *out)
{
    size_t tp = 0, fp = 0, tn = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        int pos = score[i] >= cutoff;
        if (y[i] == 1.0) {
            if (pos) tp++; else fn++;
        } else {
            if (pos) fp++; else tn++;
        }
    }
    out->tp = (double)tp;
    out->fp = (double)fp;
    out->tn = (double)tn;
    out->fn = (double)fn;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

void sv_metrics_from_confusion(const sv_confusion *c, double out[SV_MET_COUNT])
{
    out[SV_MET_SENS] = ratio(c->tp, c->tp + c->fn);
    out[SV_MET_SPEC] = ratio(c->tn, c->tn + c->fp);
    out[SV_MET_PPV] = ratio(c->tp, c->tp + c->fp);
    out[SV_MET_NPV] = ratio(c->tn, c->tn + c->fn);
    out[SV_MET_ACC] = ratio(c->tp + c->tn, c->tp + c->tn + c->fp + c->fn);
    out[SV_MET_F1] = ratio(2 * c->tp, 2 * c->tp + c->fp + c->fn);
}

void sv_ci_clopper_pearson(double x, double n, double level, double *lo, double *hi)
{
    if (!(n > 0)) {
        *lo = *hi = NAN;
        return;
    }
    double a = (1.0 - level) / 2.0;
    *lo = x == 0 ? 0.0 : sv_qbeta(a, x, n - x + 1.0, 1);
    *hi = x == n ? 1.0 : sv_qbeta(a, x + 1.0, n - x, 0);
}

void sv_ci_wilson(double x, double n, double level, double *lo, double *hi)
{
    if (!(n > 0)) {
        *lo = *hi = NAN;
        return;
    }
    double z = sv_qnorm((1.0 - level) / 2.0, 0);
    double p = x / n;
    double z22n = z * z / (2.0 * n);
    double half = z * sqrt(p * (1.0 - p) / n + z22n / (2.0 * n));
    *hi = p >= 1 ? 1.0 : (p + z22n + half) / (1.0 + 2.0 * z22n);
    *lo = p <= 0 ? 0.0 : (p + z22n - half) / (1.0 + 2.0 * z22n);
    if (*lo < 0) *lo = 0;
    if (*hi > 1) *hi = 1;
}

typedef struct mboot_job {
    const double *y, *score;
    size_t n;
    double cutoff;
    uint64_t seed;
    double *out;
} mboot_job;

static sv_status mboot_task(void *ud, size_t b, int worker, sv_err *err)
{
    (void)worker;
    (void)err;
    mboot_job *J = ud;
    sv_rng rng;
    sv_rng_init(&rng, J->seed, (uint64_t)b);
    sv_confusion c = {0, 0, 0, 0};
    for (size_t k = 0; k < J->n; k++) {
        size_t i = (size_t)sv_rng_below(&rng, J->n);
        int pos = J->score[i] >= J->cutoff;
        if (J->y[i] == 1.0) {
            if (pos) c.tp++; else c.fn++;
        } else {
            if (pos) c.fp++; else c.tn++;
        }
    }
    sv_metrics_from_confusion(&c, J->out + b * SV_MET_COUNT);
    return SV_OK;
}

sv_status sv_metrics_boot(const double *y, const double *score, size_t n, double cutoff,
                          size_t boot, uint64_t seed, const sv_ctx *ctx, double *out,
                          sv_err *err)
{
    if (n == 0) return sv_err_set(err, SV_EINVAL, "no rows");
    mboot_job J = {y, score, n, cutoff, seed, out};
    return sv_parallel_for(ctx, "metrics bootstrap", boot, 0, mboot_task, &J, err);
}

/* ---- calibration ------------------------------------------------------------ */

double sv_brier(const double *y, const double *p, size_t n)
{
    if (n == 0) return NAN;
    long double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = p[i] - y[i];
        s += d * d;
    }
    return (double)(s / (long double)n);
}

/* log(1 + exp(x)) without overflow */
static double log1pexp(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* Binomial deviance of the logistic model with linear predictor
 * a + b x (offset fit: b fixed at 1). */
static double deviance(const double *y, const double *x, size_t n, double a, double b)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double eta = a + b * x[i];
        d += y[i] == 1.0 ? log1pexp(-eta) : log1pexp(eta);
    }
    return 2.0 * d;
}

#define RECAL_MAXIT 100

/* Newton-Raphson with step halving; fit_slope = 0 keeps b = 1 (offset).
 * On return, cov receives the inverse information (a, b entries). */
static sv_status logistic_fit(const double *y, const double *x, size_t n, int fit_slope,
                              double *a, double *b, double cov[3], sv_err *err)
{
    double dev = deviance(y, x, n, *a, *b);
    for (int it = 0; it < RECAL_MAXIT; it++) {
        double g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
        for (size_t i = 0; i < n; i++) {
            double eta = *a + *b * x[i];
            double mu = 1.0 / (1.0 + exp(-eta));
            double w = mu * (1.0 - mu);
            double r = y[i] - mu;
            g0 += r;
            g1 += r * x[i];
            h00 += w;
            h01 += w * x[i];
            h11 += w * x[i] * x[i];
        }
        double da, db;
        if (fit_slope) {
            double det = h00 * h11 - h01 * h01;
            if (!(det > 0)) return sv_err_set(err, SV_ENUM, "logistic recalibration: singular "
                                                            "information (constant predictions?)");
            da = (h11 * g0 - h01 * g1) / det;
            db = (h00 * g1 - h01 * g0) / det;
            cov[0] = h11 / det;
            cov[1] = -h01 / det;
            cov[2] = h00 / det;
        } else {
            if (!(h00 > 0)) return sv_err_set(err, SV_ENUM, "logistic recalibration: zero information");
            da = g0 / h00;
            db = 0;
            cov[0] = 1.0 / h00;
            cov[1] = cov[2] = NAN;
        }
        double na = *a + da, nb = *b + db, nd = deviance(y, x, n, na, nb);
        for (int h = 0; h < 30 && nd > dev * (1 + 1e-15) + 1e-300; h++) {
            da /= 2, db /= 2;
            na = *a + da, nb = *b + db;
            nd = deviance(y, x, n, na, nb);
        }
        *a = na, *b = nb;
        double step = fmax(fabs(da) / (1 + fabs(na)), fabs(db) / (1 + fabs(nb)));
        dev = nd;
        if (step < 1e-13) return SV_OK;
    }
    return sv_err_set(err, SV_ENUM, "logistic recalibration did not converge in %d iterations "
                                    "(perfect separation?)", RECAL_MAXIT);
}

sv_status sv_calib_recalibrate(const double *y, const double *p, size_t n,
                               sv_recal_result *out, sv_err *err)
{
    double events = 0;
    for (size_t i = 0; i < n; i++) events += y[i];
    if (events == 0 || events == (double)n)
        return sv_err_set(err, SV_EINVAL, "y has a single class: recalibration needs both");
    double *x = sv_malloc(n + 1, sizeof *x);
    if (!x) return sv_err_set(err, SV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) x[i] = log(p[i] / (1.0 - p[i])); /* R's qlogis */
    double a = 0, b = 1, cov[3];
    sv_status st = logistic_fit(y, x, n, 1, &a, &b, cov, err);
    if (!st) {
        out->intercept = a;
        out->slope = b;
        out->se_intercept = sqrt(cov[0]);
        out->se_slope = sqrt(cov[2]);
        double c = 0, one = 1;
        st = logistic_fit(y, x, n, 0, &c, &one, cov, err);
        out->citl = c;
        out->se_citl = sqrt(cov[0]);
    }
    free(x);
    return st;
}

size_t sv_calib_quantile_edges(const double *p, size_t n, size_t g, double *edges, sv_err *err)
{
    double *s = sv_malloc(n + 1, sizeof *s);
    if (!s) {
        sv_err_set(err, SV_ENOMEM, "out of memory");
        return 0;
    }
    memcpy(s, p, n * sizeof *s);
    sv_sort_doubles(s, n);
    size_t k = 0;
    for (size_t j = 0; j <= g; j++) {
        double q = sv_quantile_sorted(s, n, (double)j / (double)g);
        if (k == 0 || q > edges[k - 1]) edges[k++] = q;
    }
    free(s);
    return k > 1 ? k - 1 : 1; /* all equal: one group [e0, e0] */
}

size_t sv_calib_group(const double *edges, size_t ngroups, double v)
{
    /* first k with v <= edges[k + 1] (right-closed), by bisection */
    size_t lo = 0, hi = ngroups - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= edges[mid + 1])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Per group of edges (G groups): the count, the sum of y and the sum of p. */
static void bin_sums(const double *y, const double *p, size_t n, const double *edges, size_t G,
                     double *cnt, double *sum_y, double *sum_p)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = sv_calib_group(edges, G, p[i]);
        cnt[k] += 1;
        sum_y[k] += y[i];
        sum_p[k] += p[i];
    }
}

sv_status sv_calib_hosmer_lemeshow(const double *y, const double *p, size_t n, size_t g,
                                   sv_hl_result *out, sv_err *err)
{
    double *edges = sv_malloc(g + 2, sizeof *edges);
    double *acc = sv_calloc(3 * (g + 1), sizeof *acc);
    if (!edges || !acc) {
        free(edges), free(acc);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    sv_err_clear(err);
    size_t G = sv_calib_quantile_edges(p, n, g, edges, err);
    if (err && err->status) {
        free(edges), free(acc);
        return err->status;
    }
    double *cnt = acc, *o1 = acc + g + 1, *e1 = acc + 2 * (g + 1);
    bin_sums(y, p, n, edges, G, cnt, o1, e1);
    double chisq = 0;
    for (size_t k = 0; k < G; k++) {
        double o0 = cnt[k] - o1[k], e0 = cnt[k] - e1[k];
        chisq += (o1[k] - e1[k]) * (o1[k] - e1[k]) / e1[k] + (o0 - e0) * (o0 - e0) / e0;
    }
    free(edges), free(acc);
    if (G < 3)
        return sv_err_set(err, SV_EINVAL, "the Hosmer-Lemeshow test needs at least 3 distinct "
                                          "risk groups (got %zu)", G);
    out->statistic = chisq;
    out->groups = G;
    out->df = (double)G - 2.0;
    out->p_value = sv_pchisq(chisq, out->df, 0);
    return SV_OK;
}

/* Bins of equal size after a stable sort by p. */
static sv_status equal_size_sums(const double *y, const double *p, size_t n, size_t g,
                                 double *cnt, double *sum_y, double *sum_p, sv_err *err)
{
    uint32_t *ord = sv_malloc(n ? n : 1, sizeof *ord);
    if (!ord) return sv_err_set(err, SV_ENOMEM, "out of memory");
    sv_status st = sv_order_doubles(p, n, ord, err);
    if (!st) {
        for (size_t b = 0; b < g; b++) {
            size_t from = b * n / g, to = (b + 1) * n / g;
            for (size_t a = from; a < to; a++) {
                cnt[b] += 1;
                sum_y[b] += y[ord[a]];
                sum_p[b] += p[ord[a]];
            }
        }
    }
    free(ord);
    return st;
}

sv_status sv_calib_curve(const double *y, const double *p, size_t n, size_t g,
                         sv_calib_bins bins, double *mean_pred, double *obs_rate,
                         double *count, size_t *nbins, sv_err *err)
{
    if (g == 0) return sv_err_set(err, SV_EINVAL, "bins must be at least 1");
    for (size_t i = 0; i < n; i++)
        if (!(p[i] >= 0 && p[i] <= 1))
            return sv_err_set(err, SV_EINVAL, "p[%zu] is %g, not a probability", i + 1, p[i]);
    double *edges = sv_malloc(g + 2, sizeof *edges);
    double *acc = sv_calloc(3 * (g + 1), sizeof *acc);
    if (!edges || !acc) {
        free(edges), free(acc);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    size_t G = g;
    double *cnt = acc, *sy = acc + g + 1, *sp = acc + 2 * (g + 1);
    sv_status st = SV_OK;
    if (bins == SV_CALIB_EQUAL_SIZE) {
        st = equal_size_sums(y, p, n, g, cnt, sy, sp, err);
    } else {
        if (bins == SV_CALIB_QUANTILE) {
            sv_err_clear(err);
            G = sv_calib_quantile_edges(p, n, g, edges, err);
            if (err && err->status) st = err->status;
        } else {
            for (size_t k = 0; k <= g; k++) edges[k] = (double)k / (double)g;
        }
        if (!st) bin_sums(y, p, n, edges, G, cnt, sy, sp);
    }
    size_t m = 0;
    for (size_t k = 0; !st && k < G; k++) {
        if (cnt[k] == 0) continue;
        mean_pred[m] = sp[k] / cnt[k];
        obs_rate[m] = sy[k] / cnt[k];
        count[m] = cnt[k];
        m++;
    }
    *nbins = m;
    free(edges), free(acc);
    return st;
}

sv_status sv_calib_dca(const double *y, const double *p, size_t n, const double *thr,
                       size_t nt, double *nb_model, double *nb_all, double *prevalence,
                       sv_err *err)
{
    if (n == 0) return sv_err_set(err, SV_EINVAL, "no rows");
    double events = 0;
    for (size_t i = 0; i < n; i++) events += y[i];
    double dn = (double)n, prev = events / dn;
    if (prevalence) *prevalence = prev;
    for (size_t k = 0; k < nt; k++) {
        double t = thr[k];
        if (!(t >= 0 && t < 1))
            return sv_err_set(err, SV_EINVAL, "threshold %zu is %g: thresholds must be in [0, 1)",
                              k + 1, t);
        sv_confusion c;
        sv_confusion_at(y, p, n, t, &c);
        double w = t / (1.0 - t);
        nb_model[k] = c.tp / dn - c.fp / dn * w;
        nb_all[k] = prev - (1.0 - prev) * w;
    }
    return SV_OK;
}

/* ---- several classes ------------------------------------------------------- */

static sv_status check_classes(const int *y, const double *P, size_t n, int K, int prob,
                               sv_err *err)
{
    if (K < 2) return sv_err_set(err, SV_EINVAL, "at least 2 classes are needed, got %d", K);
    if (n == 0) return sv_err_set(err, SV_EINVAL, "no rows");
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= K)
            return sv_err_set(err, SV_EINVAL, "y[%zu] = %d is not a class code in [0, %d)", i + 1,
                              y[i], K);
    for (size_t j = 0; j < n * (size_t)K; j++) {
        int ok = prob ? (P[j] >= 0 && P[j] <= 1) : !isnan(P[j]);
        if (!ok)
            return sv_err_set(err, SV_EINVAL, "P[%zu, %zu] is %g%s", j % n + 1, j / n + 1, P[j],
                              prob ? ", not a probability" : "");
    }
    return SV_OK;
}

sv_status sv_confusion_multiclass(const int *y, const double *P, size_t n, int K,
                                  double *counts, double *sens, double *spec, double *ppv,
                                  double *accuracy, sv_err *err)
{
    sv_status st = check_classes(y, P, n, K, 0, err);
    if (st) return st;
    size_t kk = (size_t)K;
    for (size_t j = 0; j < kk * kk; j++) counts[j] = 0;
    double hit = 0;
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t k = 1; k < kk; k++)
            if (P[k * n + i] > P[best * n + i]) best = k;
        counts[best * kk + (size_t)y[i]] += 1;
        hit += best == (size_t)y[i];
    }
    for (size_t k = 0; k < kk; k++) {
        double tp = counts[k * kk + k], row = 0, col = 0;
        for (size_t q = 0; q < kk; q++) row += counts[q * kk + k], col += counts[k * kk + q];
        double fn = row - tp, fp = col - tp, tn = (double)n - row - fp;
        if (sens) sens[k] = row > 0 ? tp / row : NAN;
        if (spec) spec[k] = tn + fp > 0 ? tn / (tn + fp) : NAN;
        if (ppv) ppv[k] = col > 0 ? tp / col : NAN;
        (void)fn;
    }
    if (accuracy) *accuracy = hit / (double)n;
    return SV_OK;
}

sv_status sv_brier_multiclass(const int *y, const double *P, size_t n, int K, double *out,
                              sv_err *err)
{
    sv_status st = check_classes(y, P, n, K, 1, err);
    if (st) return st;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < (size_t)K; k++) {
            double d = P[k * n + i] - (y[i] == (int)k ? 1.0 : 0.0);
            s += d * d;
        }
    *out = s / (double)n;
    return SV_OK;
}
