/*
 * test_validate.c - the logistic regression (sv_glm) and the resampling
 * validation numbers (sv_validate) at C level on hand-worked cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "sv_glm.h"
#include "sv_validate.h"

static void near_abs(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol)) fail_msg("%.17g vs %.17g", a, b);
}

/* One binary predictor: the fit reproduces the 2x2 table. x = 0: 3 events
 * of 8, x = 1: 6 of 8: intercept log(3/5), slope log(3) - log(3/5), slope
 * SE sqrt(1/3 + 1/5 + 1/6 + 1/2) (Woolf). */
static void test_glm_two_by_two(void **state)
{
    (void)state;
    double X[16], y[16];
    for (int i = 0; i < 16; i++) {
        X[i] = i < 8 ? 0 : 1;
        y[i] = (i < 8) ? (i < 3) : (i - 8 < 6);
    }
    double coef[2], se[2], z[2], p[2];
    sv_glm_result r;
    memset(&r, 0, sizeof r);
    r.coef = coef, r.se = se, r.z = z, r.pval = p;
    sv_glm_opts o;
    sv_glm_opts_default(&o);
    o.epsilon = 1e-14;
    o.max_iter = 50;
    sv_err e;
    assert_int_equal(sv_glm_logistic(X, 16, 1, y, &o, &r, &e), SV_OK);
    assert_true(r.converged && !r.separation);
    near_abs(coef[0], log(3.0 / 5.0), 1e-12);
    near_abs(coef[1], log(3.0) - log(3.0 / 5.0), 1e-12);
    near_abs(se[1], sqrt(1.0 / 3 + 1.0 / 5 + 1.0 / 6 + 1.0 / 2), 1e-12);
    near_abs(r.df_residual, 14, 0);
}

/* y = 1 exactly when x > 5: the iterates diverge; flagged, not hidden. */
static void test_glm_separation_flagged(void **state)
{
    (void)state;
    double X[10], y[10];
    for (int i = 0; i < 10; i++) X[i] = i + 1, y[i] = i >= 5;
    double coef[2], se[2], z[2], p[2];
    sv_glm_result r;
    memset(&r, 0, sizeof r);
    r.coef = coef, r.se = se, r.z = z, r.pval = p;
    sv_glm_opts o;
    sv_glm_opts_default(&o);
    o.max_iter = 100;
    sv_err e;
    sv_status st = sv_glm_logistic(X, 10, 1, y, &o, &r, &e);
    if (st) fail_msg("%s", e.msg);
    assert_true(r.separation || !r.converged);
    assert_true(r.n_extreme > 0);
}

/* Metrics over a row list with repeats: rows {0, 0, 1, 2} of y = (1, 0, 0),
 * p = (.8, .3, .6): listed y = 1 1 0 0, p = .8 .8 .3 .6: AUC 1, Brier
 * (.04 + .04 + .09 + .36)/4. */
static void test_metrics_rows(void **state)
{
    (void)state;
    double y[3] = {1, 0, 0}, p[3] = {0.8, 0.3, 0.6}, out[SV_VM_COUNT];
    size_t rows[4] = {0, 0, 1, 2}, dropped;
    sv_err e;
    assert_int_equal(sv_validate_metrics(y, p, 3, rows, 4, out, &dropped, &e), SV_OK);
    near_abs(out[SV_VM_AUC], 1, 0);
    near_abs(out[SV_VM_BRIER], (0.04 + 0.04 + 0.09 + 0.36) / 4, 1e-15);
    assert_int_equal(dropped, 0);
    /* one class: AUC NaN, Brier still defined */
    size_t one[2] = {1, 2};
    assert_int_equal(sv_validate_metrics(y, p, 3, one, 2, out, &dropped, &e), SV_OK);
    assert_true(isnan(out[SV_VM_AUC]) && !isnan(out[SV_VM_BRIER]));
}

/* The combination by hand: two replicates, AUC train .9/.8, test .7/.6:
 * optimism .2; .632 with oob .65, .55 and apparent .85:
 * .368 * .85 + .632 * .6. .632+ for AUC: err .15, Err1 .4, gamma .5,
 * R = (.4 - .15)/(.5 - .15), w = .632/(1 - .368 R). */
static void test_combine_hand(void **state)
{
    (void)state;
    enum { K = SV_VM_COUNT };
    /* auc, brier, slope, intercept as above; the calibration errors 0 */
    double app[K] = {0.85, 0.1, 1, 0};
    double train[2 * K] = {0}, test[2 * K] = {0}, oob[2 * K] = {0};
    const double tr[2][4] = {{0.9, 0.1, 1, 0}, {0.8, 0.1, 1, 0}};
    const double te[2][4] = {{0.7, 0.2, 0.9, 0}, {0.6, 0.2, 0.8, 0}};
    const double ob[2][4] = {{0.65, 0.2, 0.9, 0}, {0.55, 0.2, 0.8, 0}};
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 4; k++) {
            train[b * K + k] = tr[b][k];
            test[b * K + k] = te[b][k];
            oob[b * K + k] = ob[b][k];
        }
    double opt[K], cor[K];
    size_t nv[K];
    sv_validate_combine(SV_VAL_OPTIMISM, app, train, test, oob, 2, 0.25, opt, cor, nv);
    near_abs(opt[SV_VM_AUC], 0.2, 1e-15);
    near_abs(cor[SV_VM_AUC], 0.65, 1e-15);
    near_abs(opt[SV_VM_SLOPE], 0.15, 1e-15);
    assert_int_equal(nv[SV_VM_AUC], 2);
    sv_validate_combine(SV_VAL_632, app, train, test, oob, 2, 0.25, opt, cor, nv);
    near_abs(cor[SV_VM_AUC], 0.368 * 0.85 + 0.632 * 0.6, 1e-15);
    sv_validate_combine(SV_VAL_632PLUS, app, train, test, oob, 2, 0.25, opt, cor, nv);
    double R = (0.4 - 0.15) / (0.5 - 0.15), w = 0.632 / (1 - 0.368 * R);
    near_abs(cor[SV_VM_AUC], 1 - (0.15 + (0.4 - 0.15) * w), 1e-15);
    assert_true(isnan(cor[SV_VM_SLOPE]));
    assert_true(isnan(cor[SV_VM_ICI]));
}

/* Calibration errors by hand. Predictions all equal (0.3) and outcomes
 * 1 0 0 0: the smooth is the mean outcome 1/4 everywhere (every weight 1,
 * no spread in p), so every error is |0.3 - 0.25| = 0.05 (rms gives
 * |p - mean(y)| in this case too). Two points: at each point the
 * window's far end is at distance h, whose tricube weight is 0, so each
 * fit is the point's own outcome and every error is |p - y|. */
static void test_calibration_errors_hand(void **state)
{
    (void)state;
    double out[3];
    sv_err e;
    double y4[4] = {1, 0, 0, 0}, p4[4] = {0.3, 0.3, 0.3, 0.3};
    assert_int_equal(sv_validate_calibration_errors(y4, p4, 4, out, &e), SV_OK);
    near_abs(out[0], 0.05, 1e-15);
    near_abs(out[1], 0.05, 1e-15);
    near_abs(out[2], 0.05, 1e-15);
    double y2[2] = {0, 1}, p2[2] = {0.2, 0.6};
    assert_int_equal(sv_validate_calibration_errors(y2, p2, 2, out, &e), SV_OK);
    near_abs(out[0], 0.4, 1e-15);
    near_abs(out[2], (0.2 + 0.4) / 2, 1e-15);
    near_abs(out[1], 0.2 + 0.9 * (0.4 - 0.2), 1e-15);
    assert_int_equal(sv_validate_calibration_errors(y2, p2, 1, out, &e), SV_OK);
    assert_true(isnan(out[0]) && isnan(out[1]) && isnan(out[2]));
}

/* Riley et al. 2020 worked examples: binary 662, survival 5143. */
static void test_sample_size_examples(void **state)
{
    (void)state;
    sv_sampsize_result r;
    sv_err e;
    assert_int_equal(sv_sampsize_binary(24, 0.288, 0.174, 0.9, 0.05, 0.05, &r, &e), SV_OK);
    near_abs(r.n, 662, 0);
    near_abs(r.n1, 623, 0);
    assert_int_equal(sv_sampsize_survival(30, 0.051, 0.065, 2.07, 2, 0.9, 0.05, &r, &e), SV_OK);
    near_abs(r.n, 5143, 0);
    near_abs(r.n2, 1039, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glm_two_by_two),
        cmocka_unit_test(test_glm_separation_flagged),
        cmocka_unit_test(test_metrics_rows),
        cmocka_unit_test(test_combine_hand),
        cmocka_unit_test(test_calibration_errors_hand),
        cmocka_unit_test(test_sample_size_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
