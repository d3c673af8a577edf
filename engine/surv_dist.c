/*
 * surv_dist.c - the normal and chi-square upper tails and the normal
 * quantile that the survival tests need, accurate far into the tails
 * (p-values of 1e-300 keep their relative precision).
 *
 * Kept internal to the survival module (sv_surv_ prefix) so that it does
 * not collide with the general distributions module.
 *
 * - Normal upper tail: erfc(z / sqrt 2) / 2; C99's erfc is accurate to a
 *   few ulps over its whole range, including the far tail.
 * - Chi-square upper tail: the regularised upper incomplete gamma
 *   Q(df/2, x/2), by its power series for P = 1 - Q when x/2 < df/2 + 1
 *   (where Q is not small, so 1 - P keeps full relative precision) and by
 *   the Legendre continued fraction (modified Lentz, Numerical Recipes
 *   6.2) otherwise. df = 1 and df = 2 use their closed forms.
 * - Normal quantile: an Abramowitz & Stegun 26.2.23 start refined by
 *   Newton steps on the erfc-based tail, converging to the last ulp.
 */
#include <float.h>
#include <math.h>

#include "sv_surv.h"

double sv_surv_pnorm_upper(double z)
{
    return 0.5 * erfc(z / M_SQRT2);
}

/* log of the prefactor x^a e^-x / Gamma(a). */
static double gamma_prefactor_log(double a, double x)
{
    return a * log(x) - x - lgamma(a);
}

static double gamma_p_series(double a, double x)
{
    double term = 1.0 / a, sum = term;
    for (int k = 1; k < 100000; k++) {
        term *= x / (a + k);
        sum += term;
        if (fabs(term) < fabs(sum) * DBL_EPSILON * 0.5) break;
    }
    return exp(gamma_prefactor_log(a, x)) * sum;
}

static double gamma_q_contfrac(double a, double x)
{
    const double tiny = 1e-300;
    double b = x + 1.0 - a;
    double c = 1.0 / tiny;
    double d = 1.0 / b;
    double h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < DBL_EPSILON) break;
    }
    return exp(gamma_prefactor_log(a, x)) * h;
}

double sv_surv_pchisq_upper(double x, double df)
{
    if (isnan(x) || isnan(df) || df < 0) return NAN;
    if (df == 0) return 0.0; /* point mass at 0: P(X > x) = 0 for x >= 0 */
    if (x <= 0) return 1.0;
    if (isinf(x)) return 0.0;
    if (df == 1) return erfc(sqrt(0.5 * x));
    if (df == 2) return exp(-0.5 * x);
    double a = 0.5 * df, y = 0.5 * x;
    if (y < a + 1.0) return 1.0 - gamma_p_series(a, y);
    return gamma_q_contfrac(a, y);
}

double sv_surv_qnorm(double p)
{
    if (!(p > 0 && p < 1)) {
        if (p == 0) return -INFINITY;
        if (p == 1) return INFINITY;
        return NAN;
    }
    if (p == 0.5) return 0.0;
    /* Solve upper(x) = q for x > 0 with q = min(p, 1 - p); 1 - p is exact
     * for p in [0.5, 1) (Sterbenz). */
    int lower = p < 0.5;
    double q = lower ? p : 1.0 - p;
    double t = sqrt(-2.0 * log(q));
    double x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                       (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
    for (int it = 0; it < 60; it++) {
        double phi = exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
        if (phi == 0) break;
        double dx = (sv_surv_pnorm_upper(x) - q) / phi;
        /* Halley: f = U - q, f' = -phi, f'' = x phi. */
        dx = dx / (1.0 - 0.5 * x * dx);
        x += dx;
        if (fabs(dx) <= 4 * DBL_EPSILON * fabs(x)) break;
    }
    return lower ? -x : x;
}
