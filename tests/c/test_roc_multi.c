/*
 * test_roc_multi.c - the several-class kernels on a case worked by hand:
 * Hand and Till's M and its pairs, the bootstrap's determinism, the
 * one-vs-rest AUCs, the confusion matrix and the multiclass Brier score.
 * (Agreement with pROC and scikit-learn on real data:
 * tests/lua/test_multiclass.lua.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "sv_metrics.h"
#include "sv_roc.h"

/* 6 rows, classes 0, 0, 1, 1, 2, 2; P column-major 6 x 3:
 *   row: P0   P1   P2
 *    0  .9   .05  .05
 *    1  .6   .2   .2
 *    2  .3   .5   .2
 *    3  .6   .3   .1
 *    4  .1   .1   .8
 *    5  .2   .5   .3
 * A(0|1): column 0, class-0 {.9,.6} vs class-1 {.3,.6}: 1+1+1+.5 = 3.5/4
 * A(1|0): column 1, {.5,.3} vs {.05,.2}: 1
 * A(0|2): {.9,.6} vs {.1,.2}: 1;      A(2|0): {.8,.3} vs {.05,.2}: 1
 * A(1|2): {.5,.3} vs {.1,.5}: 1 + .5 + 1 + 0 = 2.5/4
 * A(2|1): {.8,.3} vs {.2,.1}: 1
 * M = ((.875 + 1)/2 + 1 + (.625 + 1)/2) / 3 = (0.9375 + 1 + 0.8125) / 3 */
static const int Y[6] = {0, 0, 1, 1, 2, 2};
static const double P[18] = {.9, .6, .3, .6, .1, .2, .05, .2, .5, .3, .1, .5,
                             .05, .2, .2, .1, .8, .3};

static void test_hand_till_by_hand(void **state)
{
    (void)state;
    double M, pair[9];
    int c;
    sv_err err;
    assert_int_equal(sv_roc_multiclass(Y, P, 6, 3, &M, pair, &c, &err), SV_OK);
    assert_int_equal(c, 3);
    assert_true(fabs(M - (0.9375 + 1 + 0.8125) / 3) < 1e-15);
    assert_true(pair[0 * 3 + 1] == 0.875 && pair[1 * 3 + 0] == 1);
    assert_true(pair[1 * 3 + 2] == 0.625 && pair[2 * 3 + 1] == 1);
    assert_true(isnan(pair[0]));
    /* a class without rows is left out: classes 0 and 1 only */
    const int y2[4] = {0, 0, 1, 1};
    const double P2[12] = {.9, .6, .3, .6, .05, .2, .5, .3, .05, .2, .2, .1};
    assert_int_equal(sv_roc_multiclass(y2, P2, 4, 3, &M, pair, &c, &err), SV_OK);
    assert_int_equal(c, 2);
    assert_true(M == (0.875 + 1) / 2);
    /* one class with rows is refused */
    const int y1[4] = {0, 0, 0, 0};
    assert_int_equal(sv_roc_multiclass(y1, P2, 4, 3, &M, NULL, NULL, &err), SV_EINVAL);
    const int bad[6] = {0, 0, 1, 1, 2, 3};
    assert_int_equal(sv_roc_multiclass(bad, P, 6, 3, &M, NULL, NULL, &err), SV_EINVAL);
}

static void test_boot_deterministic(void **state)
{
    (void)state;
    double a[40], b[40];
    sv_err err;
    sv_ctx one = {.threads = 1}, two = {.threads = 2};
    assert_int_equal(sv_roc_multiclass_boot(Y, P, 6, 3, 40, 9, &one, a, &err), SV_OK);
    assert_int_equal(sv_roc_multiclass_boot(Y, P, 6, 3, 40, 9, &two, b, &err), SV_OK);
    for (int r = 0; r < 40; r++) {
        assert_true(a[r] == b[r]);
        assert_true(a[r] >= 0 && a[r] <= 1);
    }
}

static void test_ovr_confusion_brier(void **state)
{
    (void)state;
    double auc[3], var[3];
    sv_err err;
    assert_int_equal(sv_roc_ovr(Y, P, 6, 3, auc, var, &err), SV_OK);
    /* class 0, column 0: cases {.9,.6} vs controls {.3,.6,.1,.2}: 7.5/8 */
    assert_true(auc[0] == 7.5 / 8);
    /* confusion: predicted 0 0 1 0 2 1 */
    double C[9], sens[3], spec[3], ppv[3], acc;
    assert_int_equal(sv_confusion_multiclass(Y, P, 6, 3, C, sens, spec, ppv, &acc, &err), SV_OK);
    assert_true(C[0 * 3 + 0] == 2 && C[0 * 3 + 1] == 1 && C[1 * 3 + 1] == 1 && C[1 * 3 + 2] == 1 &&
                C[2 * 3 + 2] == 1);
    assert_true(sens[0] == 1 && sens[1] == 0.5 && spec[0] == 0.75 && fabs(acc - 4.0 / 6) < 1e-15);
    assert_true(fabs(ppv[0] - 2.0 / 3) < 1e-15);
    /* Brier: row sums of squared differences
     * .01+.0025+.0025, .16+.04+.04, .09+.25+.04, .36+.49+.01, .01+.01+.04, .04+.25+.49 */
    double want = (0.015 + 0.24 + 0.38 + 0.86 + 0.06 + 0.78) / 6, b;
    assert_int_equal(sv_brier_multiclass(Y, P, 6, 3, &b, &err), SV_OK);
    assert_true(fabs(b - want) < 1e-15);
    const double Pbad[6] = {1.5, 0, 0, 1, 0, 0};
    const int y2[2] = {0, 1};
    assert_int_equal(sv_brier_multiclass(y2, Pbad, 2, 3, &b, &err), SV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_till_by_hand),
        cmocka_unit_test(test_boot_deterministic),
        cmocka_unit_test(test_ovr_confusion_brier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
