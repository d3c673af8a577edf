/*
 * test_stats.c - the table tests at C level on hand-worked cases (the R
 * comparisons live in tests/lua/test_stats.lua).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "sv_dist.h"
#include "sv_stats.h"

static void near_rel(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol * fabs(b))) fail_msg("%.17g vs %.17g", a, b);
}

/* {{10, 20}, {20, 10}}: E = 15 everywhere, X2 = 4 * 25/15 = 20/3; Yates:
 * 4 * 4.5^2 / 15 = 5.4. */
static void test_chisq_hand(void **state)
{
    (void)state;
    double t[4] = {10, 20, 20, 10}, E[4];
    sv_htest h;
    sv_err e;
    assert_int_equal(sv_chisq_test(t, 2, 2, 0, &h, E, &e), SV_OK);
    near_rel(h.statistic, 20.0 / 3.0, 1e-15);
    assert_true(E[1] == 15);
    assert_int_equal(sv_chisq_test(t, 2, 2, 1, &h, NULL, &e), SV_OK);
    near_rel(h.statistic, 5.4, 1e-15);
}

/* Tea tasting: P[X = k] = 1, 16, 36, 16, 1 over 70; two-sided p = 34/70;
 * a 3 x 2 table's p is invariant to transposing and permuting. */
static void test_fisher_hand(void **state)
{
    (void)state;
    double t[4] = {3, 1, 1, 3};
    sv_htest h;
    sv_err e;
    assert_int_equal(sv_fisher_test(t, 2, 2, SV_TWO_SIDED, 0, &h, &e), SV_OK);
    near_rel(h.p_value, 34.0 / 70.0, 1e-14);
    double a[6] = {3, 1, 4, 0, 2, 5}, b[6] = {3, 4, 2, 1, 0, 5}, c[6] = {2, 5, 3, 1, 4, 0};
    sv_htest ha, hb, hc;
    assert_int_equal(sv_fisher_test(a, 3, 2, SV_TWO_SIDED, 0, &ha, &e), SV_OK);
    assert_int_equal(sv_fisher_test(b, 2, 3, SV_TWO_SIDED, 0, &hb, &e), SV_OK);
    assert_int_equal(sv_fisher_test(c, 3, 2, SV_TWO_SIDED, 0, &hc, &e), SV_OK);
    near_rel(hb.p_value, ha.p_value, 1e-13);
    near_rel(hc.p_value, ha.p_value, 1e-13);
}

/* Holm on (0.01, 0.04, 0.03): sorted .01 .03 .04 times 3, 2, 1 -> .03 .06
 * .06 (cummax); BH: 3/1 .01, 3/2 .03, 3/3 .04 cummin from the top ->
 * .03 .04 .04. */
static void test_p_adjust_hand(void **state)
{
    (void)state;
    double p[3] = {0.01, 0.04, 0.03}, out[3];
    sv_err e;
    assert_int_equal(sv_p_adjust(p, 3, SV_PADJ_HOLM, out, &e), SV_OK);
    near_rel(out[0], 0.03, 1e-15);
    near_rel(out[1], 0.06, 1e-15);
    near_rel(out[2], 0.06, 1e-15);
    assert_int_equal(sv_p_adjust(p, 3, SV_PADJ_BH, out, &e), SV_OK);
    near_rel(out[0], 0.03, 1e-15);
    near_rel(out[1], 0.04, 1e-15);
    near_rel(out[2], 0.04, 1e-15);
}

/* Type-7 quantiles of 1..4: h = 3p; median 2.5, q1 1.75, q3 3.25. */
static void test_quantile_hand(void **state)
{
    (void)state;
    double x[4] = {1, 2, 3, 4};
    near_rel(sv_quantile_sorted(x, 4, 0.5), 2.5, 0);
    near_rel(sv_quantile_sorted(x, 4, 0.25), 1.75, 0);
    near_rel(sv_quantile_sorted(x, 4, 0.75), 3.25, 0);
}

/* Welch with equal variances and sizes equals Student: x = 1..5, y = 3..7
 * gives t = -2/sqrt(2.5 * 2 / 5) = -2, df = 8. */
static void test_t_hand(void **state)
{
    (void)state;
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {3, 4, 5, 6, 7};
    sv_htest h;
    sv_err e;
    assert_int_equal(sv_t_test(x, 5, y, 5, 0, 0, 0.95, SV_TWO_SIDED, &h, &e), SV_OK);
    near_rel(h.statistic, -2, 1e-15);
    near_rel(h.df, 8, 1e-15);
    near_rel(h.p_value, 2 * sv_pt(-2, 8, 1), 1e-15);
}

/* Percentile interval by hand: {1, 2, 3, 4} (NaN dropped), level 0.5 ->
 * type-7 quantiles at .25 (h = .75: 1.75) and .75 (h = 2.25: 3.25);
 * sd = sqrt(5/3). No replicate left: NaN. */
static void test_boot_percentile_hand(void **state)
{
    (void)state;
    double x[5] = {3, 1, NAN, 2, 4}, lo, hi, sd;
    assert_int_equal(sv_boot_percentile(x, 5, 0.5, &lo, &hi, &sd), 4);
    assert_true(lo == 1.75 && hi == 3.25);
    assert_true(fabs(sd - sqrt(5.0 / 3.0)) < 1e-15);
    double y[2] = {NAN, NAN};
    assert_int_equal(sv_boot_percentile(y, 2, 0.95, &lo, &hi, &sd), 0);
    assert_true(isnan(lo) && isnan(hi) && isnan(sd));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chisq_hand),
        cmocka_unit_test(test_fisher_hand),
        cmocka_unit_test(test_p_adjust_hand),
        cmocka_unit_test(test_boot_percentile_hand),
        cmocka_unit_test(test_quantile_hand),
        cmocka_unit_test(test_t_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
