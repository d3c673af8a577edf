/*
 * validate.c - metrics, resampling and the optimism / .632 / .632+
 * combination of resampling validation (sv_validate.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_metrics.h"
#include "sv_rng.h"
#include "sv_roc.h"
#include "sv_stats.h"
#include "sv_validate.h"

sv_status sv_validate_metrics(const double *y, const double *p, size_t n, const size_t *rows,
                              size_t m, double out[SV_VM_COUNT], size_t *dropped, sv_err *err)
{
    if (!rows) m = n;
    for (int k = 0; k < SV_VM_COUNT; k++) out[k] = NAN;
    if (dropped) *dropped = 0;
    if (m == 0) return SV_OK;
    double *buf = sv_malloc(4 * m, sizeof *buf);
    if (!buf) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", m);
    double *ys = buf, *ps = buf + m, *yc = buf + 2 * m, *pc = buf + 3 * m;
    size_t n1 = 0, mc = 0;
    for (size_t i = 0; i < m; i++) {
        size_t r = rows ? rows[i] : i;
        if (r >= n) {
            free(buf);
            return sv_err_set(err, SV_EINVAL, "row %zu is out of range [1, %zu]", r + 1, n);
        }
        if (!(p[r] >= 0 && p[r] <= 1)) {
            free(buf);
            return sv_err_set(err, SV_EINVAL, "prediction %zu is %g, not a probability", r + 1,
                              p[r]);
        }
        ys[i] = y[r];
        ps[i] = p[r];
        n1 += y[r] == 1;
        if (p[r] > 0 && p[r] < 1) {
            yc[mc] = y[r];
            pc[mc] = p[r];
            mc++;
        }
    }
    if (dropped) *dropped = m - mc;
    out[SV_VM_BRIER] = sv_brier(ys, ps, m);
    if (n1 > 0 && n1 < m) {
        sv_roc_auc_result a;
        sv_err e2;
        if (sv_roc_auc(ys, ps, m, NULL, &a, &e2) == SV_OK) out[SV_VM_AUC] = a.auc;
        sv_recal_result rc;
        if (sv_calib_recalibrate(yc, pc, mc, &rc, &e2) == SV_OK) {
            out[SV_VM_SLOPE] = rc.slope;
            out[SV_VM_INTERCEPT] = rc.citl;
        }
    }
    sv_status st = sv_validate_calibration_errors(ys, ps, m, out + SV_VM_EMAX, err);
    free(buf);
    return st;
}

typedef struct pv_index {
    double p;
    size_t i;
} pv_index;

/* by prediction, ties in listing order (R's order() is stable) */
static int cmp_pv(const void *a, const void *b)
{
    const pv_index *u = a, *v = b;
    if (u->p < v->p) return -1;
    if (u->p > v->p) return 1;
    return u->i < v->i ? -1 : u->i > v->i;
}

sv_status sv_validate_calibration_errors(const double *y, const double *p, size_t m,
                                         double out[3], sv_err *err)
{
    out[0] = out[1] = out[2] = NAN;
    if (m < 2) return SV_OK;
    pv_index *ord = sv_malloc(m, sizeof *ord);
    double *buf = sv_malloc(3 * m, sizeof *buf);
    if (!ord || !buf) {
        free(ord);
        free(buf);
        return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", m);
    }
    double *xs = buf, *yv = buf + m, *fit = buf + 2 * m;
    for (size_t k = 0; k < m; k++) ord[k] = (pv_index){p[k], k};
    qsort(ord, m, sizeof *ord, cmp_pv);
    for (size_t k = 0; k < m; k++) {
        xs[k] = ord[k].p;
        yv[k] = y[ord[k].i];
    }
    sv_status st = sv_lowess(xs, yv, m, 2.0 / 3.0, 0, 0.01 * (xs[m - 1] - xs[0]), fit, err);
    if (st == SV_OK) {
        /* e = |p - s(p)|, tied predictions sharing the mean of their
         * smoothed values; yv is reused for e (sorted below) */
        double sum = 0, mx = 0;
        for (size_t a = 0; a < m;) {
            size_t b = a + 1;
            double s = fit[a];
            while (b < m && xs[b] == xs[a]) s += fit[b++];
            double sm = b - a > 1 ? s / (double)(b - a) : fit[a];
            for (size_t k = a; k < b; k++) {
                double e = fabs(xs[k] - sm);
                yv[k] = e;
                sum += e;
                if (e > mx) mx = e;
            }
            a = b;
        }
        sv_sort_doubles(yv, m);
        out[0] = mx;
        out[1] = sv_quantile_sorted(yv, m, 0.9);
        out[2] = sum / (double)m;
    }
    free(ord);
    free(buf);
    return st;
}

void sv_validate_resample(size_t n, uint64_t seed, uint64_t b, size_t *rows)
{
    sv_rng r;
    sv_rng_init(&r, seed, b);
    for (size_t i = 0; i < n; i++) rows[i] = (size_t)sv_rng_below(&r, (uint64_t)n);
}

double sv_validate_gamma_brier(const double *y, const double *p, size_t n)
{
    /* (1/n^2) sum_i sum_j (y_i - p_j)^2 = mean(y^2) - 2 mean(y) mean(p) + mean(p^2) */
    double sy = 0, sy2 = 0, sp = 0, sp2 = 0;
    for (size_t i = 0; i < n; i++) {
        sy += y[i];
        sy2 += y[i] * y[i];
        sp += p[i];
        sp2 += p[i] * p[i];
    }
    double dn = (double)n;
    return sy2 / dn - 2 * (sy / dn) * (sp / dn) + sp2 / dn;
}

/* mean over replicates of a[b] - (c ? c[b] : 0) where both are finite */
static double mean_diff(const double *a, const double *c, size_t B, int k, size_t *nv)
{
    double s = 0;
    size_t v = 0;
    for (size_t b = 0; b < B; b++) {
        double x = a[b * SV_VM_COUNT + (size_t)k];
        double z = c ? c[b * SV_VM_COUNT + (size_t)k] : 0;
        if (!isfinite(x) || !isfinite(z)) continue;
        s += x - z;
        v++;
    }
    *nv = v;
    return v ? s / (double)v : NAN;
}

void sv_validate_combine(sv_val_method method, const double app[SV_VM_COUNT],
                         const double *train, const double *test, const double *oob, size_t B,
                         double gamma_brier, double optimism[SV_VM_COUNT],
                         double corrected[SV_VM_COUNT], size_t nvalid[SV_VM_COUNT])
{
    for (int k = 0; k < SV_VM_COUNT; k++) {
        if (method == SV_VAL_OPTIMISM) {
            optimism[k] = mean_diff(train, test, B, k, &nvalid[k]);
            corrected[k] = app[k] - optimism[k];
            continue;
        }
        double o = mean_diff(oob, NULL, B, k, &nvalid[k]);
        double c = 0.368 * app[k] + 0.632 * o;
        if (method == SV_VAL_632PLUS) {
            if (k == SV_VM_AUC || k == SV_VM_BRIER) {
                /* as errors: 1 - AUC (no information 1/2), Brier (gamma) */
                int auc = k == SV_VM_AUC;
                double err_app = auc ? 1 - app[k] : app[k];
                double err1 = auc ? 1 - o : o;
                double gamma = auc ? 0.5 : gamma_brier;
                double err1p = fmin(err1, gamma);
                double R = (err1p > err_app && gamma > err_app)
                               ? (err1p - err_app) / (gamma - err_app)
                               : 0;
                double w = 0.632 / (1 - 0.368 * R);
                double e = err_app + (err1p - err_app) * w;
                c = auc ? 1 - e : e;
                if (!isfinite(o)) c = NAN;
            } else {
                c = NAN;
            }
        }
        corrected[k] = c;
        optimism[k] = app[k] - c;
    }
}

sv_status sv_validate_instability(const double *P, size_t B, size_t n, const double *p0,
                                  double *mape, double *lo, double *hi, double *mape_mean,
                                  sv_err *err)
{
    double *col = sv_malloc(B ? B : 1, sizeof *col);
    if (!col) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu replicates)", B);
    double tot = 0;
    for (size_t i = 0; i < n; i++) {
        size_t v = 0;
        double s = 0;
        for (size_t b = 0; b < B; b++) {
            double x = P[b * n + i];
            if (isnan(x)) continue;
            col[v++] = x;
            s += fabs(x - p0[i]);
        }
        if (v == 0) {
            mape[i] = lo[i] = hi[i] = NAN;
        } else {
            mape[i] = s / (double)v;
            sv_sort_doubles(col, v);
            lo[i] = sv_quantile_sorted(col, v, 0.025);
            hi[i] = sv_quantile_sorted(col, v, 0.975);
        }
        tot += mape[i];
    }
    *mape_mean = n ? tot / (double)n : NAN;
    free(col);
    return SV_OK;
}
