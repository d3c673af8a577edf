/*
 * test_combat.c - ComBat at C level: a hand-worked mean-only case, the
 * reference batch left unchanged, a new batch refused without a reference,
 * and the refusals (sva agreement on real data is tests/lua/test_harmonise.lua).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "sv_combat.h"

/* 4 rows x 2 features, column-major: a = {0, 2, 4, 6}, b = {1, 3, 1, 5};
 * batches A A B B. */
static const double X[8] = {0, 2, 4, 6, 1, 3, 1, 5};
static const int batch[4] = {0, 0, 1, 1};

/* Mean-only by hand: grand means 3 and 2.5; pooled variances over N:
 * a (1+1+1+1)/4 = 1, b (1+1+4+4)/4 = 5/2; standardised batch means
 * gamma_hat_A = (-2, -0.5/sqrt(2.5)), gamma_hat_B = -gamma_hat_A; shrunk
 * (t2 g + gbar)/(t2 + 1) with gbar, t2 the mean and n-1 variance over the
 * two features; adjusted x = x - gamma* sqrt(var). */
static void test_mean_only_hand(void **state)
{
    (void)state;
    sv_combat_opts o;
    sv_combat_opts_default(&o);
    o.mean_only = 1;
    sv_combat *c;
    sv_err e;
    assert_int_equal(sv_combat_fit(X, 4, 2, batch, 2, &o, &c, &e), SV_OK);
    double g1 = -2, g2 = -0.5 / sqrt(2.5);
    double gbar = (g1 + g2) / 2, t2 = (g1 - g2) * (g1 - g2) / 2;
    double s1 = (t2 * g1 + gbar) / (t2 + 1), s2 = (t2 * g2 + gbar) / (t2 + 1);
    assert_true(fabs(c->gamma_star[0] - s1) < 1e-14);
    assert_true(fabs(c->gamma_star[1] - s2) < 1e-14);
    double out[8];
    assert_int_equal(sv_combat_apply(c, X, 4, 2, batch, 0, out, &e), SV_OK);
    assert_true(fabs(out[0] - (0 - s1 * 1)) < 1e-14);
    assert_true(fabs(out[4] - (1 - s2 * sqrt(2.5))) < 1e-14);
    sv_combat_free(c);
}

/* With a reference batch its rows come back unchanged, and a batch never
 * seen is adjusted onto it; without a reference it is refused. */
static void test_reference_and_new(void **state)
{
    (void)state;
    sv_combat_opts o;
    sv_combat_opts_default(&o);
    o.ref = 0;
    o.mean_only = 1;
    sv_combat *c;
    sv_err e;
    assert_int_equal(sv_combat_fit(X, 4, 2, batch, 2, &o, &c, &e), SV_OK);
    double out[8];
    assert_int_equal(sv_combat_apply(c, X, 4, 2, batch, 0, out, &e), SV_OK);
    assert_true(out[0] == 0 && out[1] == 2 && out[4] == 1 && out[5] == 3);
    const double Xn[4] = {10, 12, 7, 9};
    const int bn[2] = {2, 2};
    assert_int_equal(sv_combat_apply(c, Xn, 2, 2, bn, 1, out, &e), SV_OK);
    assert_true(isfinite(out[0]) && isfinite(out[3]));
    sv_combat_free(c);
    o.ref = -1;
    assert_int_equal(sv_combat_fit(X, 4, 2, batch, 2, &o, &c, &e), SV_OK);
    assert_int_equal(sv_combat_apply(c, Xn, 2, 2, bn, 1, out, &e), SV_EINVAL);
    assert_non_null(strstr(e.msg, "reference"));
    sv_combat_free(c);
}

/* Refusals: a non-finite value, an empty batch, too few varying features. */
static void test_refusals(void **state)
{
    (void)state;
    sv_combat *c;
    sv_err e;
    double bad[8];
    memcpy(bad, X, sizeof bad);
    bad[5] = NAN;
    assert_int_equal(sv_combat_fit(bad, 4, 2, batch, 2, NULL, &c, &e), SV_EINVAL);
    assert_non_null(strstr(e.msg, "X[2, 2]"));
    assert_int_equal(sv_combat_fit(X, 4, 2, batch, 3, NULL, &c, &e), SV_EINVAL);
    assert_non_null(strstr(e.msg, "batch 3 has no rows"));
    double flat[8] = {1, 1, 2, 3, 1, 3, 1, 5}; /* feature 1 constant in batch A */
    assert_int_equal(sv_combat_fit(flat, 4, 2, batch, 2, NULL, &c, &e), SV_EINVAL);
    assert_non_null(strstr(e.msg, "at least 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_only_hand),
        cmocka_unit_test(test_reference_and_new),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
