/*
 * test_surv_td.c - time-dependent performance (surv_td.c, surv_cut.c and
 * Uno's C in surv_conc.c) on cases worked by hand, and against direct
 * O(n^2)/O(n^3) transcriptions of the definitions on small random data
 * with ties. (The agreement with riskRegression, survival and maxstat on
 * real cohorts is tests/lua/test_surv_td.lua.)
 *
 * The 6-subject example used below:
 *   t     = 1  2  3  4  5  6
 *   event = 1  0  1  1  0  1
 * Reverse Kaplan-Meier G (censorings at 2 and 5): G = 1 before 2,
 * 1 - 1/5 = 0.8 from 2 (5 at risk), 0.8 (1 - 1/2) = 0.4 from 5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_surv.h"

static const double T6[6] = {1, 2, 3, 4, 5, 6};
static const double E6[6] = {1, 0, 1, 1, 0, 1};

static void assert_rel(double got, double want, double tol)
{
    double d = fabs(got - want);
    double bound = want == 0 ? tol : tol * fabs(want);
    if (!(d <= bound)) fail_msg("got %.17g, want %.17g (diff %.3g)", got, want, d);
}

/*
 * AUC at t = 3.5, marker 6 1 4 5 2 3. Cases (event, T <= 3.5): subjects 1
 * (marker 6, weight 1/G(1-) = 1) and 3 (marker 4, 1/G(3-) = 1.25).
 * Controls (T > 3.5): 4, 5, 6 (markers 5, 2, 3), each 1/G(3.5) = 1.25;
 * subject 2 (censored at 2) weighs 0. Case 1 beats the three controls:
 * 1 * 1.25 * 3 = 3.75; case 3 beats markers 2 and 3: 1.25 * 1.25 * 2 =
 * 3.125. AUC = 6.875 / ((1 + 1.25) * 3.75) = 22/27.
 * Without censoring weights (all events, t = 2.5) it is the plain
 * Mann-Whitney: cases markers 2, 4 against controls 3, 1, 5 win 3 of 6.
 */
static void test_auc_by_hand(void **state)
{
    (void)state;
    const double mk[6] = {6, 1, 4, 5, 2, 3}, t = 3.5;
    double auc, se, lo, hi, ca, co;
    sv_auc_t_result r = {&auc, &se, &lo, &hi, 0, 0, 0, 0, 0, 0, 0, 0, 0, &ca, &co};
    sv_err err;
    assert_int_equal(sv_surv_auc_t(T6, E6, mk, NULL, 6, &t, 1, 0.95, &r, &err), SV_OK);
    assert_rel(auc, 22.0 / 27.0, 1e-15);
    assert_true(ca == 2 && co == 3);
    assert_true(se > 0 && lo < auc && hi <= 1);

    const double e1[5] = {1, 1, 1, 1, 1}, t5[5] = {1, 2, 3, 4, 5}, m5[5] = {2, 4, 3, 1, 5};
    const double t2 = 2.5;
    assert_int_equal(sv_surv_auc_t(t5, e1, m5, NULL, 5, &t2, 1, 0.95, &r, &err), SV_OK);
    assert_rel(auc, 0.5, 1e-15);
    /* ties in the marker count 1/2: case markers 2, 2 vs controls 2, 1, 0 */
    const double m5t[5] = {2, 2, 2, 1, 0};
    assert_int_equal(sv_surv_auc_t(t5, e1, m5t, NULL, 5, &t2, 1, 0.95, &r, &err), SV_OK);
    assert_rel(auc, (2 * 0.5 + 2 * 2.0) / 6.0, 1e-15);
}

/*
 * Brier at t = 3.5 of S = 0.5 for all: cases 1 and 3 give 0.25 / 1 and
 * 0.25 / 0.8; controls 4, 5, 6 each 0.25 / 0.8; subject 2 gives 0.
 * Sum 0.25 + 0.3125 + 0.9375 = 1.5, over n = 6: 0.25. The IBS of the
 * times 2.5, 3.5 is the left-endpoint step integral over [0, 3.5]:
 * (0 * 2.5 + Brier(2.5) * 1) / 3.5.
 */
static void test_brier_by_hand(void **state)
{
    (void)state;
    double S[12], times[2] = {2.5, 3.5}, b[2], se[2], lo[2], hi[2], ibs[2];
    for (int i = 0; i < 12; i++) S[i] = 0.5;
    sv_err err;
    assert_int_equal(sv_surv_brier_t(T6, E6, S, 6, times, 2, 0.95, b, se, lo, hi, ibs, &err),
                     SV_OK);
    assert_rel(b[1], 0.25, 1e-15);
    /* at 2.5: case 1 0.25; subject 2 0; controls 3..6 0.25 / 0.8 each */
    assert_rel(b[0], (0.25 + 4 * 0.3125) / 6, 1e-15);
    assert_rel(ibs[0], 0, 1e-15);
    assert_rel(ibs[1], b[0] * 1.0 / 3.5, 1e-15);
}

/*
 * Uno's C, risk 6 1 4 5 2 3. Events with later subjects: 1 (weight
 * 1/G(1-)^2 = 1; risk 6 above all five later: 5 concordant), 3 (weight
 * 1/0.8^2 = 1.5625; later risks 5, 2, 3: 2 concordant, 1 discordant), 4
 * (1.5625; later risks 2, 3: 2 concordant). Concordant 11.25, discordant
 * 1.5625, C = 11.25 / 12.8125 = 36/41.
 */
static void test_uno_by_hand(void **state)
{
    (void)state;
    const double risk[6] = {6, 1, 4, 5, 2, 3};
    sv_concordance_result r;
    sv_err err;
    assert_int_equal(sv_concordance_uno(T6, E6, risk, 6, &r, &err), SV_OK);
    assert_rel(r.concordant, 11.25, 1e-15);
    assert_rel(r.discordant, 1.5625, 1e-15);
    assert_rel(r.concordance, 36.0 / 41.0, 1e-15);
}

/* A small data set with tied times (events and censorings at the same
 * time) and tied markers, from a fixed linear congruential sequence. */
static void small_data(size_t n, unsigned seed, double *t, double *e, double *x, double *x2)
{
    unsigned s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        t[i] = 1 + (double)((s >> 16) % 12);
        s = s * 1103515245u + 12345u;
        e[i] = ((s >> 16) % 3) != 0;
        s = s * 1103515245u + 12345u;
        x[i] = (double)((s >> 16) % 7);
        s = s * 1103515245u + 12345u;
        x2[i] = (double)((s >> 16) % 5) + x[i] / 2;
    }
}

/* Uno's C equals the direct double loop over pairs (the definition of
 * R's concordance with timewt = "n/G2"), counts and IJ variance. */
static void test_uno_brute_force(void **state)
{
    (void)state;
    enum { N = 60 };
    double t[N], e[N], x[N], x2[N];
    for (unsigned seed = 1; seed <= 5; seed++) {
        small_data(N, seed, t, e, x, x2);
        /* G(u-) by the prodlim rule, directly */
        double w[N], Ic[N] = {0}, Id[N] = {0}, It[N] = {0}, C = 0, D = 0, Tx = 0;
        for (int i = 0; i < N; i++) {
            double g = 1;
            for (double u = 1; u < t[i]; u++) {
                double y = 0, d = 0, c = 0;
                for (int j = 0; j < N; j++) {
                    y += t[j] >= u;
                    d += t[j] == u && e[j] == 1;
                    c += t[j] == u && e[j] == 0;
                }
                if (c > 0) g *= 1 - c / (y - d);
            }
            w[i] = 1 / (g * g);
        }
        for (int i = 0; i < N; i++) {
            if (e[i] != 1) continue;
            for (int j = 0; j < N; j++) {
                if (!(t[j] > t[i] || (t[j] == t[i] && e[j] == 0))) continue;
                double *dst = x[i] > x[j] ? Ic : x[i] < x[j] ? Id : It;
                double *tot = x[i] > x[j] ? &C : x[i] < x[j] ? &D : &Tx;
                dst[i] += w[i], dst[j] += w[i], *tot += w[i];
            }
        }
        double c = (C + Tx / 2) / (C + D + Tx), var = 0;
        for (int i = 0; i < N; i++) {
            double f = (Ic[i] + It[i] / 2 - c * (Ic[i] + Id[i] + It[i])) / (C + D + Tx);
            var += f * f;
        }
        sv_concordance_result r;
        sv_err err;
        assert_int_equal(sv_concordance_uno(t, e, x, N, &r, &err), SV_OK);
        assert_rel(r.concordant, C, 1e-12);
        assert_rel(r.discordant, D, 1e-12);
        assert_rel(r.tied_risk, Tx, 1e-12);
        assert_rel(r.concordance, c, 1e-12);
        assert_rel(r.var, var, 1e-10);
    }
}

/*
 * AUC(t) and its SE against a direct transcription of riskRegression's
 * estimator and influence function (reference-notes-v2.md section 1):
 * double sums over cases and controls, and phi_i(s) summed jump by jump.
 * The paired difference uses the difference of the two influence
 * functions.
 */
static double G_at(const double *t, const double *e, int n, double s, int strict)
{
    double g = 1;
    for (double u = 1; strict ? u < s : u <= s; u++) {
        double y = 0, d = 0, c = 0;
        for (int j = 0; j < n; j++) {
            y += t[j] >= u;
            d += t[j] == u && e[j] == 1;
            c += t[j] == u && e[j] == 0;
        }
        if (c > 0) g *= 1 - c / (y - d);
    }
    return g;
}

static double phi(const double *t, const double *e, int n, int i, double s, int strict)
{
    double v = 0;
    int before = strict ? t[i] < s : t[i] <= s;
    if (before && e[i] == 0) {
        double y = 0;
        for (int j = 0; j < n; j++) y += t[j] >= t[i];
        v += 1 / y;
    }
    for (double u = 1; u <= t[i] && (strict ? u < s : u <= s); u++) {
        double y = 0, c = 0;
        for (int j = 0; j < n; j++) y += t[j] >= u, c += t[j] == u && e[j] == 0;
        v -= c / (y * y);
    }
    return n * v;
}

static void brute_auc(const double *t, const double *e, const double *x, int n, double tt,
                      double *auc, double *IF)
{
    double W[64], nu = 0, Wa = 0, Wc = 0;
    int cs[64];
    for (int i = 0; i < n; i++) {
        cs[i] = t[i] <= tt && e[i] == 1 ? 1 : t[i] > tt ? 0 : -1;
        W[i] = cs[i] == 1 ? 1 / G_at(t, e, n, t[i], 1) : cs[i] == 0 ? 1 / G_at(t, e, n, tt, 0) : 0;
        if (cs[i] == 1) Wa += W[i];
        if (cs[i] == 0) Wc += W[i];
    }
    double h[64][64];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            h[i][j] = cs[i] == 1 && cs[j] == 0 ? (x[i] > x[j]) + 0.5 * (x[i] == x[j]) : 0;
            nu += h[i][j] * W[i] * W[j];
        }
    double dn = n;
    nu /= dn * dn;
    double mu = Wa * Wc / (dn * dn);
    *auc = nu / mu;
    for (int i = 0; i < n; i++) {
        double fnu = 0, fmu = 0;
        for (int j = 0; j < n; j++) fnu += W[i] * W[j] * (h[i][j] + h[j][i]);
        fnu /= dn;
        if (cs[i] == 1) fmu = W[i] * Wc / dn;
        if (cs[i] == 0) fmu = W[i] * Wa / dn;
        double cnu = 0, cmu = 0;
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n; k++) {
                if (cs[j] != 1 || cs[k] != 0) continue;
                double p = phi(t, e, n, i, t[j], 1) + phi(t, e, n, i, tt, 0);
                cnu += h[j][k] * W[j] * W[k] * p;
                cmu += W[j] * W[k] * p;
            }
        fnu += cnu / (dn * dn), fmu += cmu / (dn * dn);
        IF[i] = (fnu * mu - fmu * nu) / (mu * mu);
    }
}

static double sd_over_sqrtn(const double *x, int n)
{
    double m = 0, s = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - 1)) / sqrt((double)n);
}

static void test_auc_brute_force(void **state)
{
    (void)state;
    enum { N = 40 };
    double t[N], e[N], x[N], x2[N], IF[N], IF2[N];
    const double times[3] = {3, 6.5, 9};
    for (unsigned seed = 11; seed <= 13; seed++) {
        small_data(N, seed, t, e, x, x2);
        double auc[3], se[3], lo[3], hi[3], a2[3], s2[3], l2[3], h2[3], d[3], dse[3], dl[3],
            dh[3], dp[3], ca[3], co[3];
        sv_auc_t_result r = {auc, se, lo, hi, a2, s2, l2, h2, d, dse, dl, dh, dp, ca, co};
        sv_err err;
        assert_int_equal(sv_surv_auc_t(t, e, x, x2, N, times, 3, 0.95, &r, &err), SV_OK);
        for (int k = 0; k < 3; k++) {
            double want, want2;
            brute_auc(t, e, x, N, times[k], &want, IF);
            brute_auc(t, e, x2, N, times[k], &want2, IF2);
            assert_rel(auc[k], want, 1e-12);
            assert_rel(se[k], sd_over_sqrtn(IF, N), 1e-10);
            assert_rel(a2[k], want2, 1e-12);
            for (int i = 0; i < N; i++) IF[i] -= IF2[i];
            assert_rel(d[k], want - want2, 1e-10);
            assert_rel(dse[k], sd_over_sqrtn(IF, N), 1e-10);
        }
    }
}

/*
 * Cut-point, times 1..4 all events, marker 4 3 2 1 (higher marker, earlier
 * death), every cut allowed (minprop 0, maxprop 1: maxstat keeps m = 1, 2).
 * Log-rank scores by time: a = 1 - 1/4, 1 - 7/12, 1 - 13/12, 1 - 25/12 =
 * 3/4, 5/12, -1/12, -13/12 (sum 0, sum of squares 23/12), so V(m) =
 * m (4 - m) 23/144. The low group of m = 1 is {x <= 1} = the last
 * subject: |-13/12| / sqrt(69/144) = 13/sqrt(69) = 1.565; of m = 2 the
 * last two: 14/12 / sqrt(92/144) = 14/sqrt(92) = 1.460. The cut is 1.
 */
static void test_cutpoint_by_hand(void **state)
{
    (void)state;
    const double t[4] = {1, 2, 3, 4}, e[4] = {1, 1, 1, 1}, x[4] = {4, 3, 2, 1};
    sv_cutpoint_result r;
    sv_err err;
    assert_int_equal(sv_surv_cutpoint(t, e, x, 4, 0, 1, &r, &err), SV_OK);
    assert_rel(r.statistic, 13 / sqrt(69), 1e-14);
    assert_rel(r.cut, 1, 0);
    assert_true(r.ncuts == 2 && r.n_low == 1 && r.n_high == 3);
    /* a constant marker has no cut */
    const double c[4] = {1, 1, 1, 1};
    assert_int_equal(sv_surv_cutpoint(t, e, c, 4, 0.1, 0.9, &r, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "no cut-point"));
}

/* Times after the last follow-up, unsorted or non-positive, and
 * out-of-range predicted survival are refused, naming the element. */
static void test_td_bad_input(void **state)
{
    (void)state;
    const double mk[6] = {1, 2, 3, 4, 5, 6}, late = 7, bad[2] = {3, 2};
    double a[2], s[2], l[2], h[2];
    sv_auc_t_result r = {a, s, l, h, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
    sv_err err;
    assert_int_equal(sv_surv_auc_t(T6, E6, mk, NULL, 6, &late, 1, 0.95, &r, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "times[1] = 7 is after the last follow-up time 6"));
    assert_int_equal(sv_surv_auc_t(T6, E6, mk, NULL, 6, bad, 2, 0.95, &r, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "strictly ascending"));
    double S[6] = {0.5, 0.5, 0.5, 1.5, 0.5, 0.5}, tt = 3;
    assert_int_equal(sv_surv_brier_t(T6, E6, S, 6, &tt, 1, 0.95, a, s, l, h, a, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "S[4, 1]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auc_by_hand),
        cmocka_unit_test(test_brier_by_hand),
        cmocka_unit_test(test_uno_by_hand),
        cmocka_unit_test(test_uno_brute_force),
        cmocka_unit_test(test_auc_brute_force),
        cmocka_unit_test(test_cutpoint_by_hand),
        cmocka_unit_test(test_td_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
