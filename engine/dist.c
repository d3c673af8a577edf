/*
 * dist.c - distribution functions; see sv_dist.h for the methods.
 *
 * Every CDF has a direct formula for each tail: an upper-tail p-value of
 * 1e-300 is computed as such, never as 1 - (1 - 1e-300).
 */
#include "sv_dist.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

#define LN_SQRT_2PI 0.918938533204672741780329736406 /* log(sqrt(2 pi)) */
#define INV_SQRT_2PI 0.398942280401432677939946059934 /* 1/sqrt(2 pi) */
#define TWO_PI 6.283185307179586476925286766559

/* Iteration caps: far above what convergence needs for any argument
 * reachable from a test statistic (the series and fractions converge in
 * O(sqrt(max(a, b))) terms). */
#define SERIES_MAX 100000
#define CF_MAX 100000
#define CF_EPS 1e-16
#define CF_TINY 1e-300

/* ---- Loader's saddle-point pieces ----------------------------------- */

double sv_stirlerr(double n)
{
    /* Series of log(n!) - Stirling: 1/(12n) - 1/(360n^3) + 1/(1260n^5)
     * - 1/(1680n^7) + 1/(1188n^9); below 15 from lgamma directly (the
     * absolute error of the difference stays near 1e-15). */
    if (n <= 15.0) {
        return lgamma(n + 1.0) - (n + 0.5) * log(n) + n - LN_SQRT_2PI;
    }
    double nn = n * n;
    if (n > 500) return (1.0 / 12.0 - 1.0 / 360.0 / nn) / n;
    if (n > 80) return (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / 1260.0 / nn) / nn) / n;
    if (n > 35)
        return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / 1680.0 / nn) / nn) / nn) / n;
    return (1.0 / 12.0 -
            (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / 1188.0 / nn) / nn) / nn) / nn) /
           n;
}

/* bd0 with del = x - np supplied by the caller, who can often compute it
 * without the cancellation of forming np first. */
static double bd0_del(double x, double np, double del)
{
    /* Near x == np the two sides cancel; with v = del/(x + np) the
     * expression is del v + 2x sum_{j>=1} v^(2j+1)/(2j+1), all terms of
     * one sign. */
    if (fabs(del) < 0.1 * (x + np)) {
        double v = del / (x + np);
        double s = del * v;
        double ej = 2.0 * x * v;
        double v2 = v * v;
        for (int j = 1; j < 1000; j++) {
            ej *= v2;
            double s1 = s + ej / (double)(2 * j + 1);
            if (s1 == s) return s1;
            s = s1;
        }
        return s;
    }
    return x * log1p(del / np) - del;
}

double sv_bd0(double x, double np)
{
    return bd0_del(x, np, x - np);
}

/* Binomial density at real x of n (both may be non-integer) with success
 * probability p and q = 1 - p given separately (so that q near 0 keeps
 * its precision). */
static double dbinom_raw(double x, double n, double p, double q)
{
    if (p == 0) return x == 0 ? 1.0 : 0.0;
    if (q == 0) return x == n ? 1.0 : 0.0;
    if (x == 0) {
        if (n == 0) return 1.0;
        double lc = p < 0.1 ? -sv_bd0(n, n * q) - n * p : n * log(q);
        return exp(lc);
    }
    if (x == n) {
        double lc = q < 0.1 ? -sv_bd0(n, n * p) - n * q : n * log(p);
        return exp(lc);
    }
    if (x < 0 || x > n) return 0.0;
    /* x - np = xq - (n - x)p: both terms are formed without the
     * rounding error of n*p, which matters when n is large */
    double del = x * q - (n - x) * p;
    double lc = sv_stirlerr(n) - sv_stirlerr(x) - sv_stirlerr(n - x) -
                bd0_del(x, n * p, del) - bd0_del(n - x, n * q, -del);
    double lf = log(TWO_PI) + log(x) + log1p(-x / n);
    return exp(lc - 0.5 * lf);
}

/* Poisson density at real x with mean lambda: lambda^x e^-lambda / x!. */
static double dpois_raw(double x, double lambda)
{
    if (lambda == 0) return x == 0 ? 1.0 : 0.0;
    if (x == 0) return exp(-lambda);
    if (x < 0) return 0.0;
    return exp(-sv_stirlerr(x) - sv_bd0(x, lambda)) / sqrt(TWO_PI * x);
}

/* ---- normal ------------------------------------------------------------ */

/* exp(-x^2/2) without the rounding error of x*x for large x: x is split
 * into a part with 4 fractional bits (whose square is exact) and the rest. */
static double exp_half_sq(double x)
{
    double xs = floor(x * 16.0) / 16.0;
    double del = (x - xs) * (x + xs);
    return exp(-xs * xs * 0.5) * exp(-del * 0.5);
}

double sv_dnorm(double x)
{
    if (isnan(x)) return x;
    return INV_SQRT_2PI * exp_half_sq(fabs(x));
}

/* Upper tail Q(x) for x >= 0. */
static double norm_upper(double x)
{
    if (x < 1.9) {
        /* Phi(x) = 1/2 + phi(x) sum_{k>=0} x^(2k+1) / (1*3*...*(2k+1)) */
        double term = x, sum = x, x2 = x * x;
        for (int k = 1; k < SERIES_MAX; k++) {
            term *= x2 / (double)(2 * k + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return 0.5 - sv_dnorm(x) * sum;
    }
    if (x > 37.5193) return 0.0; /* R's underflow point */
    /* Mills' ratio R(x) = Q(x)/phi(x) = 1/(x+ 1/(x+ 2/(x+ 3/(x+ ...))))
     * by modified Lentz. */
    double f = x, c = x, d = 0;
    for (int k = 1; k < CF_MAX; k++) {
        double ak = (double)k;
        d = x + ak * d;
        if (fabs(d) < CF_TINY) d = CF_TINY;
        c = x + ak / c;
        if (fabs(c) < CF_TINY) c = CF_TINY;
        d = 1.0 / d;
        double delta = c * d;
        f *= delta;
        if (fabs(delta - 1.0) < CF_EPS) break;
    }
    return sv_dnorm(x) / f;
}

double sv_pnorm(double x, int lower)
{
    if (isnan(x)) return x;
    if (isinf(x)) return (x > 0) == (lower != 0) ? 1.0 : 0.0;
    double ax = fabs(x);
    double up = norm_upper(ax);
    if (ax < 1.9) {
        /* both tails are near 1/2: either complement is accurate */
        double lowv = 1.0 - up;
        if (x >= 0) return lower ? lowv : up;
        return lower ? up : lowv;
    }
    if (x >= 0) return lower ? 1.0 - up : up;
    return lower ? up : 1.0 - up;
}

/* ---- incomplete gamma ----------------------------------------------------- */

double sv_pgamma_reg(double x, double a, int lower)
{
    if (isnan(x) || isnan(a) || a < 0) return NAN;
    if (x < 0) return lower ? 0.0 : 1.0;
    /* shape 0 is a point mass at 0 (R: pgamma(0, 0) = 1) */
    if (a == 0) return lower ? 1.0 : 0.0;
    if (x == 0) return lower ? 0.0 : 1.0;
    if (isinf(x)) return lower ? 1.0 : 0.0;
    if (x < a + 1.0) {
        /* P(a, x) = x^a e^-x / Gamma(a+1) * sum_k x^k / ((a+1)...(a+k)) */
        double term = 1.0, sum = 1.0;
        for (int k = 1; k < SERIES_MAX; k++) {
            term *= x / (a + k);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        double p = dpois_raw(a, x) * sum;
        return lower ? p : 1.0 - p;
    }
    /* Q(a, x) = x^a e^-x / Gamma(a) * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/...)) */
    double b = x + 1.0 - a;
    double c = 1.0 / CF_TINY, d = 1.0 / b, h = d;
    for (int i = 1; i < CF_MAX; i++) {
        double an = -(double)i * ((double)i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < CF_TINY) d = CF_TINY;
        c = b + an / c;
        if (fabs(c) < CF_TINY) c = CF_TINY;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < CF_EPS) break;
    }
    double q = a * dpois_raw(a, x) * h;
    return lower ? 1.0 - q : q;
}

double sv_pchisq(double x, double df, int lower)
{
    if (isnan(x) || isnan(df) || df < 0) return NAN;
    return sv_pgamma_reg(x / 2.0, df / 2.0, lower);
}

static double dchisq(double x, double df)
{
    if (x < 0) return 0.0;
    if (x == 0) return df < 2 ? INFINITY : (df == 2 ? 0.5 : 0.0);
    /* x^(k/2-1) e^(-x/2) / (2^(k/2) Gamma(k/2)) = dpois(k/2 - 1; x/2) / 2 */
    double a = df / 2.0;
    return a * dpois_raw(a, x / 2.0) / x;
}

/* ---- incomplete beta ------------------------------------------------------- */

/* Continued fraction of I_x(a, b) (Abramowitz & Stegun 26.5.8) by Lentz. */
static double betacf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < CF_TINY) d = CF_TINY;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m < CF_MAX; m++) {
        double dm = (double)m, m2 = 2.0 * dm;
        double aa = dm * (b - dm) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < CF_TINY) d = CF_TINY;
        c = 1.0 + aa / c;
        if (fabs(c) < CF_TINY) c = CF_TINY;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + dm) * (qab + dm) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < CF_TINY) d = CF_TINY;
        c = 1.0 + aa / c;
        if (fabs(c) < CF_TINY) c = CF_TINY;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < CF_EPS) break;
    }
    return h;
}

/* I_x(a, b) with y = 1 - x given separately; lower = I, else 1 - I. */
static double ibeta(double x, double y, double a, double b, int lower)
{
    if (x <= 0) return lower ? 0.0 : 1.0;
    if (y <= 0) return lower ? 1.0 : 0.0;
    if (x > (a + 1.0) / (a + b + 2.0)) return ibeta(y, x, b, a, !lower);
    /* x^a y^b / (a B(a, b)) = dbinom(a; a + b, x) * b / (a + b) */
    double front = dbinom_raw(a, a + b, x, y) * (b / (a + b));
    double v = front * betacf(a, b, x);
    if (v > 1.0) v = 1.0;
    return lower ? v : 1.0 - v;
}

double sv_pbeta(double x, double a, double b, int lower)
{
    if (isnan(x) || isnan(a) || isnan(b) || a <= 0 || b <= 0) return NAN;
    if (x <= 0) return lower ? 0.0 : 1.0;
    if (x >= 1) return lower ? 1.0 : 0.0;
    return ibeta(x, 1.0 - x, a, b, lower);
}

double sv_dbeta(double x, double a, double b)
{
    if (x < 0 || x > 1) return 0.0;
    if (x == 0 || x == 1) {
        double e = x == 0 ? a : b;
        if (e < 1) return INFINITY;
        if (e > 1) return 0.0;
        return x == 0 ? b : a; /* density of Beta(1, b) at 0 is b */
    }
    /* Only steers the quantile iteration, so lgamma's precision is ample. */
    double lv = lgamma(a + b) - lgamma(a) - lgamma(b) + (a - 1.0) * log(x) +
                (b - 1.0) * log1p(-x);
    return exp(lv);
}

/* ---- t and F ---------------------------------------------------------------- */

double sv_pt(double t, double df, int lower)
{
    if (isnan(t) || isnan(df) || df <= 0) return NAN;
    if (isinf(t)) return (t > 0) == (lower != 0) ? 1.0 : 0.0;
    if (isinf(df)) return sv_pnorm(t, lower);
    /* P[T > |t|] = I_x(df/2, 1/2) / 2 with x = df / (df + t^2) */
    double t2 = t * t;
    double x, y;
    if (t2 > df) {
        x = df / (df + t2);
        y = t2 / (df + t2);
    } else {
        double r = t2 / df;
        x = 1.0 / (1.0 + r);
        y = r / (1.0 + r);
    }
    double tail = 0.5 * ibeta(x, y, df / 2.0, 0.5, 1);
    if (t > 0) return lower ? 1.0 - tail : tail;
    return lower ? tail : 1.0 - tail;
}

double sv_dt(double t, double df)
{
    if (isinf(df)) return sv_dnorm(t);
    double lv = lgamma((df + 1.0) / 2.0) - lgamma(df / 2.0) - 0.5 * log(df * M_PI) -
                (df + 1.0) / 2.0 * log1p(t * t / df);
    return exp(lv);
}

double sv_pf(double f, double df1, double df2, int lower)
{
    if (isnan(f) || isnan(df1) || isnan(df2) || df1 <= 0 || df2 <= 0) return NAN;
    if (f <= 0) return lower ? 0.0 : 1.0;
    if (isinf(f)) return lower ? 1.0 : 0.0;
    double u = df1 * f;
    double x = u / (u + df2), y = df2 / (u + df2);
    return ibeta(x, y, df1 / 2.0, df2 / 2.0, lower);
}

/* ---- binomial and hypergeometric --------------------------------------------- */

static int nonint(double x)
{
    return fabs(x - nearbyint(x)) > 1e-7 * fmax(1.0, fabs(x));
}

double sv_dbinom(double k, double n, double p)
{
    if (isnan(k) || isnan(n) || isnan(p) || p < 0 || p > 1 || n < 0 || nonint(n)) return NAN;
    if (nonint(k) || k < 0 || k > n) return 0.0;
    return dbinom_raw(nearbyint(k), nearbyint(n), p, 1.0 - p);
}

double sv_pbinom(double k, double n, double p, int lower)
{
    if (isnan(k) || isnan(n) || isnan(p) || p < 0 || p > 1 || n < 0 || nonint(n)) return NAN;
    n = nearbyint(n);
    k = floor(k + 1e-7);
    if (k < 0) return lower ? 0.0 : 1.0;
    if (k >= n) return lower ? 1.0 : 0.0;
    /* P[X <= k] = I_(1-p)(n - k, k + 1) */
    return ibeta(1.0 - p, p, n - k, k + 1.0, lower);
}

double sv_dhyper(double x, double m, double n, double k)
{
    if (isnan(x) || isnan(m) || isnan(n) || isnan(k)) return NAN;
    if (m < 0 || n < 0 || k < 0 || k > m + n || nonint(m) || nonint(n) || nonint(k)) return NAN;
    if (nonint(x)) return 0.0;
    x = nearbyint(x);
    m = nearbyint(m);
    n = nearbyint(n);
    k = nearbyint(k);
    if (x < 0 || x < k - n || x > k || x > m) return 0.0;
    if (k == 0) return x == 0 ? 1.0 : 0.0;
    /* choose(m, x) choose(n, k-x) / choose(m+n, k) as a ratio of binomial
     * densities at p = k/(m+n), where each is near its mode */
    double p = k / (m + n), q = (m + n - k) / (m + n);
    double p1 = dbinom_raw(x, m, p, q);
    double p2 = dbinom_raw(k - x, n, p, q);
    double p3 = dbinom_raw(k, m + n, p, q);
    return p1 * p2 / p3;
}

/* sum_{i <= x} P[X = i] / P[X = x], summed from x downwards (terms
 * decrease when x is at or below the mean). */
static double pdhyper_ratio(double x, double m, double n, double k)
{
    double sum = 0, term = 1;
    while (x > 0 && term >= DBL_EPSILON * sum) {
        term *= x * (n - k + x) / ((k + 1.0 - x) * (m + 1.0 - x));
        sum += term;
        x--;
    }
    return 1.0 + sum;
}

double sv_phyper(double x, double m, double n, double k, int lower)
{
    if (isnan(x) || isnan(m) || isnan(n) || isnan(k)) return NAN;
    if (m < 0 || n < 0 || k < 0 || k > m + n || nonint(m) || nonint(n) || nonint(k)) return NAN;
    x = floor(x + 1e-7);
    m = nearbyint(m);
    n = nearbyint(n);
    k = nearbyint(k);
    /* Above the mean, sum the other colour's lower tail instead:
     * P[X > x] = P[X' <= k - x - 1] with X' the black balls drawn. */
    if (x * (m + n) > k * m) {
        double t = m;
        m = n;
        n = t;
        x = k - x - 1;
        lower = !lower;
    }
    if (x < 0 || x < k - n) return lower ? 0.0 : 1.0;
    if (x >= k || x >= m) return lower ? 1.0 : 0.0;
    double d = sv_dhyper(x, m, n, k);
    double pd = pdhyper_ratio(x, m, n, k);
    double v = d * pd;
    return lower ? v : 1.0 - v;
}

/* ---- quantiles ------------------------------------------------------------------ */

typedef double (*tail_fn)(double x, const double *par, int lower);
typedef double (*dens_fn)(double x, const double *par);

/*
 * Solves T(x) = t for the tail T (lower: increasing CDF; else decreasing
 * survival function), 0 < t <= 1/2, with the root known to lie in [a, b]
 * (either may be infinite). Newton steps on log T (quadratic near the
 * root, well-behaved in exponential and polynomial tails), replaced by
 * bisection or expansion whenever they leave the bracket.
 */
static double solve_tail(tail_fn T, dens_fn D, const double *par, int lower,
                         double t, double a, double b, double x)
{
    double lt = log(t);
    for (int it = 0; it < 400; it++) {
        double v = T(x, par, lower);
        if (v == t) return x;
        int root_above = lower ? (v < t) : (v > t);
        if (root_above)
            a = x;
        else
            b = x;
        double xn = NAN;
        double dv = D(x, par);
        if (v > 0 && dv > 0 && isfinite(dv)) {
            double step = (log(v) - lt) * v / dv;
            xn = lower ? x - step : x + step;
        }
        if (!(xn > a && xn < b)) {
            if (isinf(a) && isinf(b))
                xn = 0;
            else if (isinf(a))
                xn = b - 2.0 * (fabs(b) + 1.0);
            else if (isinf(b))
                xn = a + 2.0 * (fabs(a) + 1.0);
            else if (a > 0 && b > 4.0 * a)
                xn = sqrt(a * b);
            else
                xn = 0.5 * (a + b);
        }
        if (fabs(xn - x) <= 2e-16 * fabs(x) || xn == a || xn == b) return xn;
        x = xn;
    }
    return x;
}

/* Maps (p, lower) to the smaller tail: returns the tail flag to solve and
 * sets *t <= 1/2 (1 - p is exact for p >= 1/2). */
static int small_tail(double p, int lower, double *t)
{
    if (p > 0.5) {
        *t = 1.0 - p;
        return !lower;
    }
    *t = p;
    return lower;
}

static double norm_tail(double x, const double *par, int lower)
{
    (void)par;
    return sv_pnorm(x, lower);
}
static double norm_dens(double x, const double *par)
{
    (void)par;
    return sv_dnorm(x);
}

double sv_qnorm(double p, int lower)
{
    if (isnan(p) || p < 0 || p > 1) return NAN;
    if (p == 0) return lower ? -INFINITY : INFINITY;
    if (p == 1) return lower ? INFINITY : -INFINITY;
    if (p == 0.5) return 0.0;
    double t;
    int tl = small_tail(p, lower, &t);
    /* Abramowitz & Stegun 26.2.23 start (error < 4.5e-4), then refined. */
    double r = sqrt(-2.0 * log(t));
    double z = r - (2.515517 + r * (0.802853 + r * 0.010328)) /
                       (1.0 + r * (1.432788 + r * (0.189269 + r * 0.001308)));
    /* z solves the upper tail; the lower tail's root is -z */
    double x0 = tl ? -z : z;
    double a = tl ? -INFINITY : 0.0, b = tl ? 0.0 : INFINITY;
    return solve_tail(norm_tail, norm_dens, NULL, tl, t, a, b, x0);
}

static double t_tail(double x, const double *par, int lower)
{
    return sv_pt(x, par[0], lower);
}
static double t_dens(double x, const double *par)
{
    return sv_dt(x, par[0]);
}

double sv_qt(double p, double df, int lower)
{
    if (isnan(p) || isnan(df) || p < 0 || p > 1 || df <= 0) return NAN;
    if (p == 0) return lower ? -INFINITY : INFINITY;
    if (p == 1) return lower ? INFINITY : -INFINITY;
    if (p == 0.5) return 0.0;
    if (isinf(df)) return sv_qnorm(p, lower);
    double t;
    int tl = small_tail(p, lower, &t);
    double z = fabs(sv_qnorm(t, 1));
    /* Cornish-Fisher start (Abramowitz & Stegun 26.7.5) */
    double z3 = z * z * z;
    double x = z + (z3 + z) / (4.0 * df);
    double par[1] = {df};
    double x0 = tl ? -x : x;
    double a = tl ? -INFINITY : 0.0, b = tl ? 0.0 : INFINITY;
    return solve_tail(t_tail, t_dens, par, tl, t, a, b, x0);
}

static double chisq_tail(double x, const double *par, int lower)
{
    return sv_pchisq(x, par[0], lower);
}
static double chisq_dens(double x, const double *par)
{
    return dchisq(x, par[0]);
}

double sv_qchisq(double p, double df, int lower)
{
    if (isnan(p) || isnan(df) || p < 0 || p > 1 || df <= 0) return NAN;
    if (p == 0) return lower ? 0.0 : INFINITY;
    if (p == 1) return lower ? INFINITY : 0.0;
    double t;
    int tl = small_tail(p, lower, &t);
    /* Wilson-Hilferty start */
    double z = sv_qnorm(t, tl);
    double c = 2.0 / (9.0 * df);
    double w = 1.0 - c + z * sqrt(c);
    double x0 = w > 0 ? df * w * w * w : df * 0.01;
    if (!(x0 > 0) || isinf(x0)) x0 = df;
    double par[1] = {df};
    return solve_tail(chisq_tail, chisq_dens, par, tl, t, 0.0, INFINITY, x0);
}

static double beta_tail(double x, const double *par, int lower)
{
    return sv_pbeta(x, par[0], par[1], lower);
}
static double beta_dens(double x, const double *par)
{
    return sv_dbeta(x, par[0], par[1]);
}

double sv_qbeta(double p, double a, double b, int lower)
{
    if (isnan(p) || isnan(a) || isnan(b) || p < 0 || p > 1 || a <= 0 || b <= 0) return NAN;
    if (p == 0) return lower ? 0.0 : 1.0;
    if (p == 1) return lower ? 1.0 : 0.0;
    double t;
    int tl = small_tail(p, lower, &t);
    double par[2] = {a, b};
    return solve_tail(beta_tail, beta_dens, par, tl, t, 0.0, 1.0, a / (a + b));
}
