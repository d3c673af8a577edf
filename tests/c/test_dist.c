/*
 * test_dist.c - distribution functions against closed forms (the R
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

/* Closed forms: chi-square 2 df is exponential, t 1 df is Cauchy, t 2 df
 * has CDF 1/2 + t/(2 sqrt(2 + t^2)), Beta(1, b) has 1 - (1 - x)^b. In the
 * lower tail (t < 0) the references are rewritten without cancellation:
 * Cauchy atan(1/|t|)/pi, t2 1/(r (r + |t|)) with r = sqrt(2 + t^2). */
static void test_closed_forms(void **state)
{
    (void)state;
    for (double x = 0.5; x < 600; x *= 3) near_rel(sv_pchisq(x, 2, 0), exp(-x / 2), 1e-13);
    for (double t = -50; t < 50; t += 7.3) {
        double r = sqrt(2 + t * t);
        near_rel(sv_pt(t, 1, 1), t < 0 ? atan(-1 / t) / M_PI : 0.5 + atan(t) / M_PI, 1e-13);
        near_rel(sv_pt(t, 2, 1), t < 0 ? 1 / (r * (r - t)) : 0.5 + t / (2 * r), 1e-13);
    }
    near_rel(sv_pbeta(0.3, 1, 4, 1), 1 - pow(0.7, 4), 1e-14);
    near_rel(sv_pnorm(-10, 1), 7.6198530241605269e-24, 1e-13); /* erfc(10/sqrt 2)/2 */
}

/* Quantiles invert their CDFs in both tails. */
static void test_quantiles_invert(void **state)
{
    (void)state;
    double ps[] = {1e-200, 1e-12, 0.01, 0.3, 0.5, 0.8, 0.999};
    for (int i = 0; i < 7; i++) {
        double p = ps[i];
        near_rel(sv_pnorm(sv_qnorm(p, 1), 1), p, 1e-12);
        near_rel(sv_pnorm(sv_qnorm(p, 0), 0), p, 1e-12);
        if (p > 1e-100) {
            near_rel(sv_pt(sv_qt(p, 3.5, 1), 3.5, 1), p, 1e-12);
            near_rel(sv_pchisq(sv_qchisq(p, 7, 0), 7, 0), p, 1e-12);
            near_rel(sv_pbeta(sv_qbeta(p, 2.5, 9, 1), 2.5, 9, 1), p, 1e-12);
        }
    }
}

/* The Wilcoxon null distribution: P[W <= mn] = 1 and the distribution is
 * symmetric, P[W <= q] = P[W >= mn - q]. */
static void test_pwilcox_symmetry(void **state)
{
    (void)state;
    near_rel(sv_pwilcox(12 * 9, 12, 9, 1), 1, 0);
    for (double q = 0; q < 108; q += 5)
        near_rel(sv_pwilcox(q, 12, 9, 1), sv_pwilcox(108 - q - 1, 12, 9, 0), 1e-13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_forms),
        cmocka_unit_test(test_quantiles_invert),
        cmocka_unit_test(test_pwilcox_symmetry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
