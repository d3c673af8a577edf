/*
 * lowess.c - Cleveland's LOWESS scatterplot smoother as R's
 * stats::lowess computes it (sv_stats.h).
 *
 * Cleveland, W. S. (1979) Robust locally weighted regression and
 * smoothing scatterplots. JASA 74, 829-836; Cleveland (1981) LOWESS: a
 * program for smoothing scatterplots by robust locally weighted
 * regression. The American Statistician 35, 54. R's lowess() runs the
 * 1981 program's algorithm (its C translation, clowess) on the points
 * sorted by x; this is a fresh implementation of that algorithm, step by
 * step the same so that the fitted values agree to rounding:
 * - span: the ns = max(2, min(n, (int)(f n + 1e-7))) nearest points;
 * - fits are computed at x[0] and then at the first point more than delta
 *   beyond the last fitted one (the point before it when that is further
 *   than the last fitted one), points in between are linearly
 *   interpolated, and exact ties of a fitted point copy its value;
 * - each local fit: tricube weights (1 - (r/h)^3)^3 of the distance r to
 *   the point, h the larger distance to the ends of the window, weight 1
 *   for r <= h/1000 and 0 for r > 0.999 h (ties beyond the window's right
 *   end are picked up), times the robustness weights after the first
 *   pass; a weighted straight line when the weighted spread of x exceeds
 *   a thousandth of the range of x, else the weighted mean; no positive
 *   weight gives the point's own y;
 * - iter robustness passes: bisquare weights of the residuals scaled by
 *   6 x their median, stopped early when that is below 1e-7 x the mean
 *   absolute residual.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_stats.h"

/* The local fit at xs over the window [nl, nr] (0-based, inclusive) of
 * the sorted x; w is scratch of n. Returns 0 when every weight is 0. */
static int local_fit(const double *x, const double *y, size_t n, double xs, size_t nl, size_t nr,
                     double *w, const double *rw, double *ys)
{
    double range = x[n - 1] - x[0];
    double h = fmax(xs - x[nl], x[nr] - xs);
    double h9 = 0.999 * h, h1 = 0.001 * h;
    double a = 0.0;
    size_t j = nl;
    for (; j < n; j++) {
        w[j] = 0.0;
        double r = fabs(x[j] - xs);
        if (r <= h9) {
            if (r <= h1) {
                w[j] = 1.0;
            } else {
                double q = r / h;
                q = 1.0 - q * q * q;
                w[j] = q * q * q;
            }
            if (rw) w[j] *= rw[j];
            a += w[j];
        } else if (x[j] > xs) {
            break;
        }
    }
    size_t nrt = j; /* one past the last point used (ties included) */
    if (a <= 0.0) return 0;
    for (j = nl; j < nrt; j++) w[j] /= a;
    if (h > 0.0) {
        double c = 0.0;
        a = 0.0;
        for (j = nl; j < nrt; j++) a += w[j] * x[j];
        double b = xs - a;
        for (j = nl; j < nrt; j++) c += w[j] * (x[j] - a) * (x[j] - a);
        if (sqrt(c) > 0.001 * range) {
            b /= c;
            for (j = nl; j < nrt; j++) w[j] *= (b * (x[j] - a) + 1.0);
        }
    }
    double s = 0.0;
    for (j = nl; j < nrt; j++) s += w[j] * y[j];
    *ys = s;
    return 1;
}

sv_status sv_lowess(const double *x, const double *y, size_t n, double f, int iter, double delta,
                    double *ys, sv_err *err)
{
    if (n == 0) return SV_OK;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return sv_err_set(err, SV_EINVAL, "point %zu is not finite", i + 1);
        if (i > 0 && x[i] < x[i - 1])
            return sv_err_set(err, SV_EINVAL, "x is not sorted (point %zu)", i + 1);
    }
    if (n < 2) {
        ys[0] = y[0];
        return SV_OK;
    }
    double *buf = sv_malloc(3 * n, sizeof *buf);
    if (!buf) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu points)", n);
    double *w = buf, *rw = buf + n, *res = buf + 2 * n;
    double fn = f * (double)n + 1e-7;
    size_t ns = fn >= (double)n ? n : (size_t)(int)fn;
    if (ns < 2) ns = 2;
    for (int pass = 0; pass <= iter; pass++) {
        const double *robust = pass > 0 ? rw : NULL;
        size_t nl = 0, nr = ns - 1, last = 0, i = 0;
        int have_last = 0;
        for (;;) {
            if (nr + 1 < n) {
                double d1 = x[i] - x[nl], d2 = x[nr + 1] - x[i];
                if (d1 > d2) {
                    nl++;
                    nr++;
                    continue;
                }
            }
            if (!local_fit(x, y, n, x[i], nl, nr, w, robust, &ys[i])) ys[i] = y[i];
            if (have_last && last + 1 < i) {
                double denom = x[i] - x[last];
                for (size_t j = last + 1; j < i; j++) {
                    double alpha = (x[j] - x[last]) / denom;
                    ys[j] = alpha * ys[i] + (1.0 - alpha) * ys[last];
                }
            }
            last = i;
            have_last = 1;
            double cut = x[last] + delta;
            for (i = last + 1; i < n; i++) {
                if (x[i] > cut) break;
                if (x[i] == x[last]) {
                    ys[i] = ys[last];
                    last = i;
                }
            }
            /* the next fit: the point before the first beyond the cut,
             * or the one after the last fitted */
            i = i - 1 > last + 1 ? i - 1 : last + 1;
            if (last >= n - 1) break;
        }
        for (size_t k = 0; k < n; k++) res[k] = y[k] - ys[k];
        if (pass == iter) break;
        double sc = 0.0;
        for (size_t k = 0; k < n; k++) sc += fabs(res[k]);
        sc /= (double)n;
        for (size_t k = 0; k < n; k++) rw[k] = fabs(res[k]);
        /* 6 x the median absolute residual */
        sv_sort_doubles(rw, n);
        size_t m1 = n / 2;
        double cmad = n % 2 == 0 ? 3.0 * (rw[m1] + rw[n - m1 - 1]) : 6.0 * rw[m1];
        if (cmad < 1e-7 * sc) break;
        double c9 = 0.999 * cmad, c1 = 0.001 * cmad;
        for (size_t k = 0; k < n; k++) {
            double r = fabs(res[k]);
            if (r <= c1) {
                rw[k] = 1.0;
            } else if (r <= c9) {
                double q = r / cmad;
                q = 1.0 - q * q;
                rw[k] = q * q;
            } else {
                rw[k] = 0.0;
            }
        }
    }
    free(buf);
    return SV_OK;
}
