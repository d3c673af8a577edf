/*
 * surv_td.c - time-dependent performance of survival predictions: the
 * IPCW cumulative/dynamic AUC(t) with its influence-function standard
 * error and a paired comparison of two markers, the IPCW Brier score with
 * its standard error and the integrated Brier score, and calibration at a
 * horizon. The conventions are those of riskRegression::Score(cens.model
 * = "km", se.fit = TRUE) 2022.11.28; reference-notes-v2.md section 1 and
 * docs/survival.md give the formulas.
 *
 * The work shared by every time (one sort by time, the reverse
 * Kaplan-Meier G, the cumulative sums of the Nelson-Aalen influence) is
 * done once per call in `cens_prep`; each time then costs O(n) passes.
 *
 * The censoring part of the influence function. With the subjects sorted
 * by time, distinct times u_1 < ... < u_K, Y_k = #{T >= u_k}, c_k the
 * censorings at u_k and L_k = sum_{l <= k} c_l / Y_l^2, riskRegression's
 * phi_i(s) (n times the influence of subject i on the Nelson-Aalen
 * censoring hazard up to s) is
 *     phi_i(s) = n [ 1(T_i before s, censored) / Y(T_i) - L(min(T_i, s)) ]
 * where "before s" and the sum in L are strict (u < T_j) for s = T_j-
 * (a case's own time) and inclusive (u <= t) for s = t (a control). For
 * coefficients a_j on the cases and a total A on the controls,
 *     sum_j a_j phi_i(T_j-) + A phi_i(t)
 * splits into the cases after T_i (each contributing 1/Y(T_i) and L at
 * T_i) and those at or before (each contributing L just before its own
 * time): two running sums over the sorted times (`cens_term`).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_dist.h"
#include "sv_metrics.h"
#include "sv_sort.h"
#include "sv_surv.h"

/* What every time shares: the subjects in time order and, per subject
 * (indexed by original row), its distinct-time index, G(T-), Y(T), L(T)
 * and L(T-). Per distinct time: G after it. */
typedef struct cens_prep {
    size_t n, K;
    uint32_t *ord;     /* [n] rows by time ascending */
    uint32_t *tidx;    /* [n] distinct-time index of each row */
    double *ut;        /* [K] distinct times */
    double *G;         /* [K] reverse KM just after u_k */
    double *Y;         /* [K] #{T >= u_k} */
    double *L;         /* [K] sum_{l <= k} c_l / Y_l^2 */
} cens_prep;

static void cens_free(cens_prep *c)
{
    free(c->ord), free(c->tidx), free(c->ut), free(c->G), free(c->Y), free(c->L);
}

static sv_status cens_prepare(const double *time, const double *event, size_t n,
                              cens_prep *c, sv_err *err)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    size_t cap = n ? n : 1;
    c->ord = sv_malloc(cap, sizeof *c->ord);
    c->tidx = sv_malloc(cap, sizeof *c->tidx);
    c->ut = sv_malloc(cap, sizeof *c->ut);
    c->G = sv_malloc(cap, sizeof *c->G);
    c->Y = sv_malloc(cap, sizeof *c->Y);
    c->L = sv_malloc(cap, sizeof *c->L);
    if (!c->ord || !c->tidx || !c->ut || !c->G || !c->Y || !c->L)
        return sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
    sv_status st = sv_order_doubles(time, n, c->ord, err);
    if (st) return st;
    double g = 1, lsum = 0;
    size_t k = 0, a = 0;
    while (a < n) {
        double u = time[c->ord[a]];
        size_t b = a;
        double d = 0, cn = 0;
        while (b < n && time[c->ord[b]] == u) {
            if (event[c->ord[b]] != 0) d++; else cn++;
            c->tidx[c->ord[b]] = (uint32_t)k;
            b++;
        }
        double y = (double)(n - a);
        /* prodlim's reverse KM: the events at u leave before the censorings */
        if (cn > 0) g *= 1 - cn / (y - d);
        lsum += cn / (y * y);
        c->ut[k] = u, c->G[k] = g, c->Y[k] = y, c->L[k] = lsum;
        k++;
        a = b;
    }
    c->K = k;
    return SV_OK;
}

/* Index of the last distinct time <= t (SIZE_MAX when t is before all). */
static size_t last_le(const cens_prep *c, double t)
{
    size_t lo = 0, hi = c->K; /* first index with ut > t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->ut[mid] <= t) lo = mid + 1; else hi = mid;
    }
    return lo == 0 ? (size_t)-1 : lo - 1;
}

/*
 * out[i] += scale * (sum_j a[j] phi_i(T_j-) + A phi_i(t)) for every row
 * i, kt the index of the last distinct time <= t. a[] is indexed by row
 * and nonzero only for cases; scratch has K entries.
 */
static void cens_term(const cens_prep *c, const double *event, const double *a,
                      double A, size_t kt, double scale, double *out,
                      double *scratch)
{
    size_t n = c->n, K = c->K;
    /* per distinct time: sum of a over its rows (cases only) */
    double *asum = scratch;
    for (size_t k = 0; k < K; k++) asum[k] = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != 0) asum[c->tidx[i]] += a[i];
    double total = 0;
    for (size_t k = 0; k < K; k++) total += asum[k];
    /* walk the distinct times: before(k) = sum of a at times <= k weighted
     * by L just before their own time; after(k) = sum of a at times > k */
    double before = 0, upto = 0;
    size_t q = 0;
    double dn = (double)n;
    for (size_t k = 0; k < K; k++) {
        double lprev = k ? c->L[k - 1] : 0;
        before += asum[k] * lprev;
        upto += asum[k];
        double after = total - upto;
        double lk = c->L[k], yk = c->Y[k];
        /* the control point t: L(min(T_i, t)) */
        int in_t = kt != (size_t)-1 && k <= kt; /* u_k <= t */
        double lt = kt == (size_t)-1 ? 0 : in_t ? lk : c->L[kt];
        for (; q < n && c->tidx[c->ord[q]] == k; q++) {
            size_t i = c->ord[q];
            int cens = event[i] == 0;
            double v = -before - lk * after;
            if (cens) v += after / yk;
            double w = -lt;
            if (cens && in_t) w += 1 / yk;
            out[i] += scale * dn * (v + A * w);
        }
    }
}

static sv_status check_times(const cens_prep *c, const double *times, size_t m,
                             sv_err *err)
{
    if (m == 0) return sv_err_set(err, SV_EINVAL, "times is empty");
    double last = c->K ? c->ut[c->K - 1] : 0;
    for (size_t k = 0; k < m; k++) {
        if (!isfinite(times[k]) || !(times[k] > 0))
            return sv_err_set(err, SV_EINVAL, "times[%zu] is %g; times must be finite and > 0",
                              k + 1, times[k]);
        if (k > 0 && !(times[k] > times[k - 1]))
            return sv_err_set(err, SV_EINVAL, "times must be strictly ascending (times[%zu] = %g after %g)",
                              k + 1, times[k], times[k - 1]);
        if (times[k] > last)
            return sv_err_set(err, SV_EINVAL,
                              "times[%zu] = %g is after the last follow-up time %g", k + 1,
                              times[k], last);
    }
    return SV_OK;
}

/* Sample standard deviation (n - 1) of x[0..n) over sqrt(n). */
static double se_of(const double *x, size_t n)
{
    if (n < 2) return NAN;
    double mean = 0;
    for (size_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* ---- AUC(t) ------------------------------------------------------------ */

/*
 * AUC at one time and its influence function IF[n]. W[i] is the IPCW
 * weight (0 for neither case nor control), is_case[i] 1 for a case.
 * Returns the AUC (NaN without cases or controls; IF then untouched).
 * gwin and coef are scratch of n, scratch2 of K.
 */
static double auc_one(const cens_prep *c, const double *event, const double *marker,
                      const uint32_t *mord, const double *W, const unsigned char *is_case,
                      size_t kt, double *IF, double *gwin, double *coef, double *scratch2)
{
    size_t n = c->n;
    double Wa = 0, Wc = 0;
    for (size_t i = 0; i < n; i++) {
        if (W[i] == 0) continue;
        if (is_case[i]) Wa += W[i]; else Wc += W[i];
    }
    if (Wa == 0 || Wc == 0) return NAN;
    /* gwin: for a case the control weight below its marker (+1/2 tied),
     * for a control the case weight above (+1/2 tied) */
    double ctrl_below = 0, case_below = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        double cg = 0, kg = 0;
        double v = marker[mord[a]];
        while (b < n && marker[mord[b]] == v) {
            size_t i = mord[b];
            if (W[i] != 0) {
                if (is_case[i]) cg += W[i]; else kg += W[i];
            }
            b++;
        }
        double case_above = Wa - case_below - cg;
        for (size_t q = a; q < b; q++) {
            size_t i = mord[q];
            if (W[i] == 0) gwin[i] = 0;
            else if (is_case[i]) gwin[i] = ctrl_below + kg / 2;
            else gwin[i] = case_above + cg / 2;
        }
        ctrl_below += kg;
        case_below += cg;
        a = b;
    }
    double Nsum = 0;
    for (size_t i = 0; i < n; i++)
        if (W[i] != 0 && is_case[i]) Nsum += W[i] * gwin[i];
    double dn = (double)n;
    double nu = Nsum / (dn * dn), mu = Wa * Wc / (dn * dn);
    double auc = Nsum / (Wa * Wc);
    /* IF_i = (IFnu_i mu - IFmu_i nu) / mu^2, each part the direct term
     * plus the censoring term */
    for (size_t i = 0; i < n; i++) {
        double fnu = 0, fmu = 0;
        if (W[i] != 0) {
            fnu = W[i] * gwin[i] / dn;
            fmu = W[i] * (is_case[i] ? Wc : Wa) / dn;
        }
        IF[i] = (fnu * mu - fmu * nu) / (mu * mu);
    }
    /* censoring parts: nu with a_j = W_j g_j, A = Nsum; mu with a_j =
     * W_j Wc, A = Wa Wc; combined linearly into IF */
    double snu = mu / (mu * mu) / (dn * dn), smu = -nu / (mu * mu) / (dn * dn);
    for (size_t i = 0; i < n; i++) coef[i] = W[i] != 0 && is_case[i] ? W[i] * gwin[i] : 0;
    cens_term(c, event, coef, Nsum, kt, snu, IF, scratch2);
    for (size_t i = 0; i < n; i++) coef[i] = W[i] != 0 && is_case[i] ? W[i] * Wc : 0;
    cens_term(c, event, coef, Wa * Wc, kt, smu, IF, scratch2);
    return auc;
}

/* Case/control weights at t (kt = last distinct time <= t). */
static void ipcw_weights(const cens_prep *c, const double *time, const double *event,
                         double t, size_t kt, double *W, unsigned char *is_case,
                         double *ncase, double *nctrl)
{
    double Gt = kt == (size_t)-1 ? 1 : c->G[kt];
    double a = 0, b = 0;
    for (size_t i = 0; i < c->n; i++) {
        is_case[i] = 0;
        W[i] = 0;
        if (time[i] <= t) {
            if (event[i] != 0) {
                size_t k = c->tidx[i];
                W[i] = 1 / (k ? c->G[k - 1] : 1);
                is_case[i] = 1;
                a++;
            }
        } else {
            W[i] = 1 / Gt;
            b++;
        }
    }
    *ncase = a, *nctrl = b;
}

static sv_status check_marker(const double *x, size_t n, const char *name, sv_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return sv_err_set(err, SV_EINVAL, "%s[%zu] is %g; markers must be finite", name,
                              i + 1, x[i]);
    return SV_OK;
}

sv_status sv_surv_auc_t(const double *time, const double *event,
                        const double *marker, const double *marker2, size_t n,
                        const double *times, size_t m, double level,
                        sv_auc_t_result *out, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    if (n < 2) return sv_err_set(err, SV_EINVAL, "time has %zu subjects; need at least 2", n);
    if ((st = check_marker(marker, n, "marker", err))) return st;
    if (marker2 && (st = check_marker(marker2, n, "marker2", err))) return st;
    if (!(level > 0 && level < 1))
        return sv_err_set(err, SV_EINVAL, "level must be in (0, 1), got %g", level);
    cens_prep c;
    st = cens_prepare(time, event, n, &c, err);
    double *W = NULL, *IF = NULL, *IF2 = NULL, *gwin = NULL, *coef = NULL, *scr = NULL;
    unsigned char *is_case = NULL;
    uint32_t *mord = NULL, *mord2 = NULL;
    if (st) goto done;
    if ((st = check_times(&c, times, m, err))) goto done;
    W = sv_malloc(n, sizeof *W);
    IF = sv_malloc(n, sizeof *IF);
    IF2 = marker2 ? sv_malloc(n, sizeof *IF2) : NULL;
    gwin = sv_malloc(n, sizeof *gwin);
    coef = sv_malloc(n, sizeof *coef);
    scr = sv_malloc(c.K, sizeof *scr);
    is_case = sv_malloc(n, 1);
    mord = sv_malloc(n, sizeof *mord);
    mord2 = marker2 ? sv_malloc(n, sizeof *mord2) : NULL;
    if (!W || !IF || !gwin || !coef || !scr || !is_case || !mord ||
        (marker2 && (!IF2 || !mord2))) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    if ((st = sv_order_doubles(marker, n, mord, err))) goto done;
    if (marker2 && (st = sv_order_doubles(marker2, n, mord2, err))) goto done;
    double z = sv_qnorm(1 - (1 - level) / 2, 1);
    for (size_t k = 0; k < m; k++) {
        size_t kt = last_le(&c, times[k]);
        double na, nc;
        ipcw_weights(&c, time, event, times[k], kt, W, is_case, &na, &nc);
        if (out->cases) out->cases[k] = na;
        if (out->controls) out->controls[k] = nc;
        double a = auc_one(&c, event, marker, mord, W, is_case, kt, IF, gwin, coef, scr);
        double se = a == a ? se_of(IF, n) : NAN;
        out->auc[k] = a, out->se[k] = se;
        out->lo[k] = a == a ? clamp01(a - z * se) : NAN;
        out->hi[k] = a == a ? clamp01(a + z * se) : NAN;
        if (!marker2) continue;
        double a2 = auc_one(&c, event, marker2, mord2, W, is_case, kt, IF2, gwin, coef, scr);
        double se2 = a2 == a2 ? se_of(IF2, n) : NAN;
        out->auc2[k] = a2, out->se2[k] = se2;
        out->lo2[k] = a2 == a2 ? clamp01(a2 - z * se2) : NAN;
        out->hi2[k] = a2 == a2 ? clamp01(a2 + z * se2) : NAN;
        if (a != a || a2 != a2) {
            out->diff[k] = out->diff_se[k] = out->diff_lo[k] = out->diff_hi[k] =
                out->diff_p[k] = NAN;
            continue;
        }
        for (size_t i = 0; i < n; i++) IF[i] -= IF2[i];
        double d = a - a2, dse = se_of(IF, n);
        out->diff[k] = d, out->diff_se[k] = dse;
        out->diff_lo[k] = d - z * dse, out->diff_hi[k] = d + z * dse;
        out->diff_p[k] = dse > 0 ? 2 * sv_pnorm(-fabs(d) / dse, 1) : NAN;
    }
done:
    cens_free(&c);
    free(W), free(IF), free(IF2), free(gwin), free(coef), free(scr), free(is_case);
    free(mord), free(mord2);
    return st;
}

sv_status sv_surv_roc_t(const double *time, const double *event,
                        const double *marker, size_t n, double t,
                        double *threshold, double *tpr, double *fpr,
                        size_t *npoints, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    if (n < 2) return sv_err_set(err, SV_EINVAL, "time has %zu subjects; need at least 2", n);
    if ((st = check_marker(marker, n, "marker", err))) return st;
    cens_prep c;
    st = cens_prepare(time, event, n, &c, err);
    double *W = NULL;
    unsigned char *is_case = NULL;
    uint32_t *mord = NULL;
    if (st) goto done;
    if ((st = check_times(&c, &t, 1, err))) goto done;
    W = sv_malloc(n, sizeof *W);
    is_case = sv_malloc(n, 1);
    mord = sv_malloc(n, sizeof *mord);
    if (!W || !is_case || !mord) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    if ((st = sv_sort_order(marker, n, 1, 1, mord, NULL, err))) goto done;
    size_t kt = last_le(&c, t);
    double na, nc, Wa = 0, Wc = 0;
    ipcw_weights(&c, time, event, t, kt, W, is_case, &na, &nc);
    for (size_t i = 0; i < n; i++) {
        if (W[i] == 0) continue;
        if (is_case[i]) Wa += W[i]; else Wc += W[i];
    }
    double ca = 0, cc = 0;
    size_t k = 0;
    for (size_t a = 0; a < n;) {
        double v = marker[mord[a]];
        size_t b = a;
        while (b < n && marker[mord[b]] == v) {
            size_t i = mord[b++];
            if (W[i] == 0) continue;
            if (is_case[i]) ca += W[i]; else cc += W[i];
        }
        threshold[k] = v;
        tpr[k] = Wa > 0 ? ca / Wa : NAN;
        fpr[k] = Wc > 0 ? cc / Wc : NAN;
        k++;
        a = b;
    }
    *npoints = k;
done:
    cens_free(&c);
    free(W), free(is_case), free(mord);
    return st;
}

/* ---- Brier(t) ----------------------------------------------------------- */

sv_status sv_surv_brier_t(const double *time, const double *event,
                          const double *S, size_t n, const double *times,
                          size_t m, double level, double *brier, double *se,
                          double *lo, double *hi, double *ibs, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    if (n < 2) return sv_err_set(err, SV_EINVAL, "time has %zu subjects; need at least 2", n);
    if (!(level > 0 && level < 1))
        return sv_err_set(err, SV_EINVAL, "level must be in (0, 1), got %g", level);
    for (size_t k = 0; k < m; k++)
        for (size_t i = 0; i < n; i++) {
            double s = S[k * n + i];
            if (!(s >= 0 && s <= 1))
                return sv_err_set(err, SV_EINVAL,
                                  "S[%zu, %zu] is %g; predicted survival must be in [0, 1]",
                                  i + 1, k + 1, s);
        }
    cens_prep c;
    st = cens_prepare(time, event, n, &c, err);
    double *res = NULL, *IF = NULL, *coef = NULL, *scr = NULL;
    if (st) goto done;
    if ((st = check_times(&c, times, m, err))) goto done;
    res = sv_malloc(n, sizeof *res);
    IF = sv_malloc(n, sizeof *IF);
    coef = sv_malloc(n, sizeof *coef);
    scr = sv_malloc(c.K, sizeof *scr);
    if (!res || !IF || !coef || !scr) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    double z = sv_qnorm(1 - (1 - level) / 2, 1), dn = (double)n;
    for (size_t k = 0; k < m; k++) {
        double t = times[k];
        size_t kt = last_le(&c, t);
        double Gt = kt == (size_t)-1 ? 1 : c.G[kt];
        const double *s = S + k * n;
        double sum = 0, ctrl = 0;
        for (size_t i = 0; i < n; i++) {
            double r = 0;
            coef[i] = 0;
            if (time[i] <= t) {
                if (event[i] != 0) {
                    size_t q = c.tidx[i];
                    r = s[i] * s[i] / (q ? c.G[q - 1] : 1);
                    coef[i] = r;
                }
            } else {
                r = (1 - s[i]) * (1 - s[i]) / Gt;
                ctrl += r;
            }
            res[i] = r;
            sum += r;
        }
        double b = sum / dn;
        for (size_t i = 0; i < n; i++) IF[i] = res[i] - b;
        cens_term(&c, event, coef, ctrl, kt, 1 / dn, IF, scr);
        brier[k] = b;
        se[k] = se_of(IF, n);
        lo[k] = clamp01(b - z * se[k]);
        hi[k] = clamp01(b + z * se[k]);
    }
    /* Score's ibs: Dint(c(0, times), c(0, brier), range = c(0, t)), a
     * left-endpoint step integral divided by t */
    for (size_t k = 0; k < m; k++) {
        double area = 0, x0 = 0, y0 = 0;
        for (size_t j = 0; j <= k; j++) {
            area += y0 * (times[j] - x0);
            x0 = times[j], y0 = brier[j];
        }
        ibs[k] = area / times[k];
    }
done:
    cens_free(&c);
    free(res), free(IF), free(coef), free(scr);
    return st;
}

/* ---- calibration at a horizon -------------------------------------------- */

/* KM at t over rows idx[0..m) (ascending time): S(t) and Greenwood's
 * cumulative-hazard-scale std_err. */
static void km_at(const double *time, const double *event, const uint32_t *idx, size_t m,
                  double t, double *surv, double *std_err, double *nevent)
{
    double s = 1, v = 0, ev = 0;
    size_t a = 0;
    while (a < m && time[idx[a]] <= t) {
        double u = time[idx[a]], d = 0;
        size_t b = a;
        while (b < m && time[idx[b]] == u) d += event[idx[b++]] != 0;
        double y = (double)(m - a);
        if (d > 0) {
            s *= 1 - d / y;
            v += y > d ? d / (y * (y - d)) : INFINITY;
            ev += d;
        }
        a = b;
    }
    *surv = s, *std_err = sqrt(v), *nevent = ev;
}

sv_status sv_surv_calibration_t(const double *time, const double *event,
                                const double *S, size_t n, double t,
                                size_t groups, double level,
                                sv_calib_t_result *out, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    if (n < 2) return sv_err_set(err, SV_EINVAL, "time has %zu subjects; need at least 2", n);
    if (groups < 1) return sv_err_set(err, SV_EINVAL, "groups must be >= 1");
    if (!(level > 0 && level < 1))
        return sv_err_set(err, SV_EINVAL, "level must be in (0, 1), got %g", level);
    if (!isfinite(t) || !(t > 0))
        return sv_err_set(err, SV_EINVAL, "t is %g; must be finite and > 0", t);
    for (size_t i = 0; i < n; i++)
        if (!(S[i] > 0 && S[i] < 1))
            return sv_err_set(err, SV_EINVAL,
                              "S[%zu] is %g; predicted survival must be in (0, 1)", i + 1, S[i]);
    double *risk = sv_malloc(n, sizeof *risk), *x = sv_malloc(n, sizeof *x);
    double *edges = sv_malloc(groups + 1, sizeof *edges);
    uint32_t *ord = sv_malloc(n, sizeof *ord), *sub = sv_malloc(n, sizeof *sub);
    size_t *grp = sv_malloc(n, sizeof *grp);
    if (!risk || !x || !edges || !ord || !sub || !grp) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    double tmax = 0;
    for (size_t i = 0; i < n; i++) tmax = time[i] > tmax ? time[i] : tmax;
    if (t > tmax) {
        st = sv_err_set(err, SV_EINVAL, "t = %g is after the last follow-up time %g", t, tmax);
        goto done;
    }
    double z = sv_qnorm(1 - (1 - level) / 2, 1);
    double mean_risk = 0;
    for (size_t i = 0; i < n; i++) {
        risk[i] = 1 - S[i];
        mean_risk += risk[i];
        x[i] = log(-log(S[i]));
    }
    mean_risk /= (double)n;
    if ((st = sv_order_doubles(time, n, ord, err))) goto done;
    /* overall O/E */
    double s, se, ev;
    km_at(time, event, ord, n, t, &s, &se, &ev);
    out->observed = 1 - s, out->expected = mean_risk;
    out->oe = (1 - s) / mean_risk;
    double lse = s < 1 ? s * se / (1 - s) : NAN;
    out->oe_lo = out->oe * exp(-z * lse);
    out->oe_hi = out->oe * exp(z * lse);
    /* groups by the quantiles of the predicted risk */
    size_t g = sv_calib_quantile_edges(risk, n, groups, edges, err);
    if (g == 0) {
        st = SV_ENOMEM; /* the only way quantile_edges fails; err is set */
        goto done;
    }
    out->ngroups = g;
    for (size_t i = 0; i < n; i++) grp[i] = sv_calib_group(edges, g, risk[i]);
    for (size_t q = 0; q < g; q++) {
        size_t m = 0;
        double pr = 0;
        for (size_t k = 0; k < n; k++)
            if (grp[ord[k]] == q) {
                sub[m++] = ord[k];
                pr += risk[ord[k]];
            }
        out->n[q] = (double)m;
        if (m == 0) {
            out->events[q] = 0;
            out->pred[q] = out->obs[q] = out->obs_lo[q] = out->obs_hi[q] = NAN;
            continue;
        }
        km_at(time, event, sub, m, t, &s, &se, &ev);
        out->events[q] = ev;
        out->pred[q] = pr / (double)m;
        out->obs[q] = 1 - s;
        /* survfit's log limits S exp(-+ z se), upper capped at 1, as risks */
        if (s > 0 && isfinite(se)) {
            double up = s * exp(z * se);
            out->obs_lo[q] = 1 - (up > 1 ? 1 : up);
            out->obs_hi[q] = 1 - s * exp(-z * se);
        } else {
            out->obs_lo[q] = out->obs_hi[q] = NAN;
        }
    }
    /* calibration slope: Cox coefficient of log(-log S) */
    {
        double coef, cse, hr, hrl, hrh, zz, p, var;
        int aliased = 0, infinite = 0;
        sv_cox_result r;
        memset(&r, 0, sizeof r);
        r.coef = &coef, r.se = &cse, r.hr = &hr, r.hr_lo = &hrl, r.hr_hi = &hrh, r.z = &zz,
        r.p = &p, r.var = &var, r.aliased = &aliased, r.infinite = &infinite, r.lp = NULL;
        sv_cox_opts co;
        sv_cox_opts_default(&co);
        co.conf_level = level;
        if ((st = sv_cox_fit(time, event, x, n, 1, NULL, 0, &co, NULL, &r, err))) goto done;
        out->slope = coef, out->slope_se = cse;
        out->slope_lo = coef - z * cse, out->slope_hi = coef + z * cse;
    }
done:
    free(risk), free(x), free(edges), free(ord), free(sub), free(grp);
    return st;
}
