/*
 * test_metrics.c - threshold metrics, proportion intervals, calibration
 * and decision curves at C level on hand-worked cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "sv_metrics.h"

static void near_abs(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol)) fail_msg("%.17g vs %.17g", a, b);
}

/* Positive when score >= cutoff: tp 2, fn 1, fp 1, tn 3. */
static void test_confusion_hand(void **state)
{
    (void)state;
    double y[7] = {1, 1, 1, 0, 0, 0, 0}, s[7] = {0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.5};
    sv_confusion c;
    sv_confusion_at(y, s, 7, 0.5, &c);
    assert_true(c.tp == 2 && c.fn == 1 && c.fp == 2 && c.tn == 2);
    double m[SV_MET_COUNT];
    sv_metrics_from_confusion(&c, m);
    near_abs(m[SV_MET_SENS], 2.0 / 3.0, 1e-15);
    near_abs(m[SV_MET_SPEC], 0.5, 1e-15);
    near_abs(m[SV_MET_F1], 4.0 / 7.0, 1e-15); /* 2*2 / (4 + 2 + 1) */
}

/* Clopper-Pearson at the ends: x = 0 of n: [0, 1 - (a/2)^(1/n)]. Wilson
 * at p = 1/2, n = 100, z = 1.959964: centre 1/2, half-width
 * z sqrt(1/400 + z^2/40000) / (1 + z^2/100). */
static void test_intervals_hand(void **state)
{
    (void)state;
    double lo, hi;
    sv_ci_clopper_pearson(0, 10, 0.95, &lo, &hi);
    assert_true(lo == 0);
    near_abs(hi, 1 - pow(0.025, 0.1), 1e-13);
    sv_ci_wilson(50, 100, 0.95, &lo, &hi);
    double z = 1.959963984540054;
    double half = z * sqrt(0.25 / 100 + z * z / 40000) / (1 + z * z / 100);
    near_abs(lo, 0.5 - half, 1e-14);
    near_abs(hi, 0.5 + half, 1e-14);
}

/* Perfect calibration by construction: risks 1/4 and 3/4 observed at
 * those rates recalibrate to a = 0, b = 1; Brier = mean (p - y)^2. */
static void test_recalibration_hand(void **state)
{
    (void)state;
    double y[8] = {1, 0, 0, 0, 1, 1, 1, 0};
    double p[8] = {0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75};
    sv_recal_result r;
    sv_err e;
    assert_int_equal(sv_calib_recalibrate(y, p, 8, &r, &e), SV_OK);
    near_abs(r.intercept, 0, 1e-12);
    near_abs(r.slope, 1, 1e-12);
    near_abs(r.citl, 0, 1e-12);
    /* two rows off by .75 (.5625 each), six by .25 (.0625 each): 1.5 / 8 */
    near_abs(sv_brier(y, p, 8), 0.1875, 1e-15);
}

/* Net benefit at t = 0.2 of y 1 0 1 0 with p .9 .6 .4 .1: treated 3 rows,
 * TP 2, FP 1: 2/4 - 1/4 * 0.25 = 0.4375; treat all 0.5 - 0.5 * 0.25. */
static void test_dca_hand(void **state)
{
    (void)state;
    double y[4] = {1, 0, 1, 0}, p[4] = {0.9, 0.6, 0.4, 0.1}, t[1] = {0.2}, nb, all;
    sv_err e;
    assert_int_equal(sv_calib_dca(y, p, 4, t, 1, &nb, &all, NULL, &e), SV_OK);
    near_abs(nb, 0.4375, 1e-15);
    near_abs(all, 0.375, 1e-15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confusion_hand),
        cmocka_unit_test(test_intervals_hand),
        cmocka_unit_test(test_recalibration_hand),
        cmocka_unit_test(test_dca_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
