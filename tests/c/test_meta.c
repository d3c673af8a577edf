/*
 * test_meta.c - the random-effects meta-analysis at C level: hand-worked
 * cases (metafor agreement on real data is in tests/lua/test_meta.lua)
 * and the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "sv_meta.h"

static void near_rel(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol * fmax(1, fabs(b)))) fail_msg("%.17g vs %.17g", a, b);
}

/* y = 0, 1, 2 with v = 1/4: Q = 8, DL tau2 = (8 - 2)/(12 - 48/12) = 3/4,
 * RE weights equal, mu = 1, se = sqrt(1/3), z quantile CI and PI
 * mu +- 1.959964 sqrt(1/3 + 3/4). */
static void test_dl_hand(void **state)
{
    (void)state;
    double y[3] = {0, 1, 2}, v[3] = {0.25, 0.25, 0.25}, w[3];
    sv_meta_opts o;
    sv_meta_opts_default(&o);
    o.method = SV_META_DL;
    sv_meta_result r;
    sv_err e;
    assert_int_equal(sv_meta_rma(y, v, 3, &o, &r, w, &e), SV_OK);
    near_rel(r.tau2, 0.75, 1e-14);
    near_rel(r.q, 8, 1e-14);
    near_rel(r.estimate, 1, 1e-14);
    near_rel(r.se, sqrt(1.0 / 3), 1e-14);
    double z = 1.959963984540054;
    near_rel(r.pi_hi, 1 + z * sqrt(1.0 / 3 + 0.75), 1e-13);
    near_rel(w[0], 100.0 / 3, 1e-13);
    assert_true(isinf(r.df));
}

/* Knapp-Hartung with equal weights: s2w = sum w (y - mu)^2 / (k - 1) =
 * (1 + 0 + 1)/(2 * 1) = 1 at tau2 = 3/4, so the SE is unchanged and the
 * CI uses qt(0.975, 2) = 4.302653. */
static void test_knha_hand(void **state)
{
    (void)state;
    double y[3] = {0, 1, 2}, v[3] = {0.25, 0.25, 0.25};
    sv_meta_opts o;
    sv_meta_opts_default(&o);
    o.method = SV_META_DL, o.test = SV_META_KNHA;
    sv_meta_result r;
    sv_err e;
    assert_int_equal(sv_meta_rma(y, v, 3, &o, &r, NULL, &e), SV_OK);
    near_rel(r.se, sqrt(1.0 / 3), 1e-14);
    near_rel(r.hi, 1 + 4.302652729749464 * sqrt(1.0 / 3), 1e-12);
    near_rel(r.df, 2, 0);
}

/* The transformations: logit AUC with the delta method, log O/E. */
static void test_scales(void **state)
{
    (void)state;
    double y, v;
    sv_err e;
    assert_int_equal(sv_meta_logit_auc(0.75, 0.03, &y, &v, &e), SV_OK);
    near_rel(y, log(3), 1e-15);
    near_rel(v, 0.0009 / (0.1875 * 0.1875), 1e-15);
    assert_int_equal(sv_meta_log_oe(20, 25, 100, &y, &v, &e), SV_OK);
    near_rel(y, log(0.8), 1e-15);
    near_rel(v, 0.8 / 20, 1e-15);
    assert_int_equal(sv_meta_log_oe(20, 25, 0, &y, &v, &e), SV_OK);
    near_rel(v, 0.05, 1e-15);
}

/* Refusals name the element. */
static void test_refusals(void **state)
{
    (void)state;
    double y[2] = {1, 2}, v[2] = {1, -1}, y1, v1;
    sv_meta_result r;
    sv_err e;
    assert_int_equal(sv_meta_rma(y, v, 1, NULL, &r, NULL, &e), SV_EINVAL);
    assert_non_null(strstr(e.msg, "at least 2"));
    assert_int_equal(sv_meta_rma(y, v, 2, NULL, &r, NULL, &e), SV_EINVAL);
    assert_non_null(strstr(e.msg, "vi[2]"));
    assert_int_equal(sv_meta_logit_auc(1, 0.1, &y1, &v1, &e), SV_EINVAL);
    assert_int_equal(sv_meta_log_oe(5, 2, 5, &y1, &v1, &e), SV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dl_hand),
        cmocka_unit_test(test_knha_hand),
        cmocka_unit_test(test_scales),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
