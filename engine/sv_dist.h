/*
 * sv_dist.h - distribution functions under sylva's tests and p-values:
 * normal, t, chi-square, F, beta, binomial and hypergeometric CDFs (both
 * tails, each computed directly so that small tail probabilities keep
 * their relative accuracy) and the quantiles the confidence intervals need.
 *
 * Must agree with R's p- and q- functions to about 1e-12 relative in the tails
 * p-values use. Methods (see docs/stats.md):
 * - densities through Loader's saddle-point form (stirlerr, bd0; Loader
 *   2000, "Fast and accurate computation of binomial probabilities");
 * - regularised incomplete gamma by its power series or its Legendre
 *   continued fraction, incomplete beta by its continued fraction, both
 *   evaluated with the modified Lentz method (Lentz 1976; Thompson &
 *   Barnett 1986), the prefactor from the saddle-point densities;
 * - the normal tail from a positive-term series (small |x|) or the Laplace
 *   continued fraction of Mills' ratio (large |x|);
 * - quantiles by safeguarded Newton/Halley iteration on the tail CDF.
 *
 * Arguments out of the domain give NaN (as R does with a warning).
 * `lower` nonzero selects P[X <= x], zero selects P[X > x].
 */
#ifndef SV_DIST_H
#define SV_DIST_H

#ifdef __cplusplus
extern "C" {
#endif

double sv_pnorm(double x, int lower);
double sv_dnorm(double x);
double sv_qnorm(double p, int lower);

double sv_pt(double t, double df, int lower);
double sv_dt(double t, double df);
double sv_qt(double p, double df, int lower);

double sv_pchisq(double x, double df, int lower);
double sv_qchisq(double p, double df, int lower);

double sv_pf(double f, double df1, double df2, int lower);

double sv_pbeta(double x, double a, double b, int lower);
double sv_dbeta(double x, double a, double b);
double sv_qbeta(double p, double a, double b, int lower);

/* Binomial: k successes of n trials with probability p. */
double sv_dbinom(double k, double n, double p);
double sv_pbinom(double k, double n, double p, int lower);

/* Hypergeometric as R's dhyper/phyper(x, m, n, k): x white balls among k
 * drawn from an urn of m white and n black. */
double sv_dhyper(double x, double m, double n, double k);
double sv_phyper(double x, double m, double n, double k, int lower);

/* Regularised incomplete gamma P(a, x) (lower) or Q(a, x). */
double sv_pgamma_reg(double x, double a, int lower);

/* log of the binomial saddle-point density pieces, exposed for tests:
 * stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n), and
 * bd0(x, np) = x log(x/np) + np - x computed without cancellation. */
double sv_stirlerr(double n);
double sv_bd0(double x, double np);

#ifdef __cplusplus
}
#endif
#endif
