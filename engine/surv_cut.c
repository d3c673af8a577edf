/*
 * surv_cut.c - the cut-point of a continuous marker that maximises the
 * standardised log-rank statistic, with Lausen, Sauerbrei & Schumacher's
 * (1994) improved Bonferroni p-value for having searched over the cuts:
 * maxstat::maxstat.test(Surv(time, event) ~ marker, smethod = "LogRank",
 * pmethod = "Lau94") 0.7-25 (Hothorn & Lausen 2003), reference-notes-v2.md
 * section 3.
 *
 * The statistic uses exactRankTests' log-rank scores
 *     a_i = event_i - sum_{j: T_j <= T_i} event_j / (N - g_j + 1),
 * g_j = #{T <= T_j} (ties take the largest rank), summed over the low
 * group {marker <= cut}: with S_m the sum of the m lowest markers'
 * scores, E = m/N sum a, V = m (N - m) / (N^2 (N - 1)) (N sum a^2 -
 * (sum a)^2), the statistic at the cut is |S_m - E| / sqrt(V).
 * O(n) after two sorts.
 */
#include <math.h>
#include <stdlib.h>

#include "sv_dist.h"
#include "sv_sort.h"
#include "sv_surv.h"

/* Lau94: 1 - (Phi(b) - Phi(-b)) + sum over consecutive candidate cuts of
 * exp(-b^2/2)/pi (t - (b^2/4 - 1) t^3 / 6), t = sqrt(1 - m1 (N - m2) /
 * ((N - m1) m2)). Not clipped to [0, 1], as maxstat. */
static double p_lau94(double b, double N, const double *mc, size_t k)
{
    double D = 0;
    for (size_t j = 0; j + 1 < k; j++) {
        double m1 = mc[j], m2 = mc[j + 1];
        double t = sqrt(1 - m1 * (N - m2) / ((N - m1) * m2));
        D += 1 / M_PI * exp(-b * b / 2) * (t - (b * b / 4 - 1) * (t * t * t) / 6);
    }
    return 1 - (sv_pnorm(b, 1) - sv_pnorm(-b, 1)) + D;
}

sv_status sv_surv_cutpoint(const double *time, const double *event,
                           const double *marker, size_t n, double minprop,
                           double maxprop, sv_cutpoint_result *out,
                           sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(marker[i]))
            return sv_err_set(err, SV_EINVAL, "marker[%zu] is %g; markers must be finite", i + 1,
                              marker[i]);
    if (!(minprop >= 0 && minprop < maxprop && maxprop <= 1))
        return sv_err_set(err, SV_EINVAL,
                          "need 0 <= minprop < maxprop <= 1 (minprop = %g, maxprop = %g)",
                          minprop, maxprop);
    if (n < 2) return sv_err_set(err, SV_EINVAL, "time has %zu subjects; need at least 2", n);
    uint32_t *ord = sv_malloc(n, sizeof *ord);
    double *a = sv_malloc(n, sizeof *a), *mc = sv_malloc(n, sizeof *mc);
    double *stat = sv_malloc(n, sizeof *stat);
    if (!ord || !a || !mc || !stat) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    double N = (double)n;
    /* scores, by time */
    if ((st = sv_order_doubles(time, n, ord, err))) goto done;
    double cum = 0;
    for (size_t p = 0; p < n;) {
        size_t q = p;
        double d = 0;
        while (q < n && time[ord[q]] == time[ord[p]]) d += event[ord[q++]] != 0;
        cum += d / (N - (double)q + 1); /* q = the max rank of the tie */
        for (size_t r = p; r < q; r++) a[ord[r]] = event[ord[r]] - cum;
        p = q;
    }
    double sa = 0, sa2 = 0;
    for (size_t i = 0; i < n; i++) sa += a[i], sa2 += a[i] * a[i];
    /* cuts, by marker: m = #{x < v} for each distinct v */
    if ((st = sv_order_doubles(marker, n, ord, err))) goto done;
    double lo = floor(N * minprop), hi = floor(N * maxprop);
    int all = minprop == 0 && maxprop == 1;
    if (lo < 1) lo = 1;
    size_t k = 0, best = 0, nunique = 0;
    double cumsum = 0, bestval = -1;
    for (size_t p = 0; p < n;) {
        double m = (double)p;
        nunique++;
        int keep = all ? p > 0 : (m >= lo && m <= hi);
        if (keep) {
            double E = m / N * sa;
            double V = m * (N - m) / (N * N * (N - 1)) * (N * sa2 - sa * sa);
            double T = fabs((cumsum - E) / sqrt(V));
            mc[k] = m;
            stat[k] = T;
            if (T > bestval) bestval = T, best = k; /* the smallest cut wins ties */
            k++;
        }
        size_t q = p;
        while (q < n && marker[ord[q]] == marker[ord[p]]) cumsum += a[ord[q++]];
        p = q;
    }
    /* minprop = 0, maxprop = 1: maxstat drops the first and last m */
    if (all && k > 0) {
        k--; /* the last distinct value's m is kept by R's m[2:(length-1)] only
                when it is not the last: recompute the best without it */
        bestval = -1;
        for (size_t j = 0; j < k; j++)
            if (stat[j] > bestval) bestval = stat[j], best = j;
    }
    if (k == 0 || !(bestval >= 0)) {
        st = sv_err_set(err, SV_EINVAL,
                        "no cut-point leaves between %g and %g of the %zu subjects in the low "
                        "group (%zu distinct marker values)",
                        minprop, maxprop, n, nunique);
        goto done;
    }
    size_t mbest = (size_t)mc[best];
    out->cut = marker[ord[mbest - 1]];
    out->statistic = stat[best];
    out->p = p_lau94(stat[best], N, mc, k);
    out->ncuts = k;
    out->n_low = mbest;
    out->n_high = n - mbest;
done:
    free(ord), free(a), free(mc), free(stat);
    return st;
}
