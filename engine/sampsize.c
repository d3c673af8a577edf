/*
 * sampsize.c - minimum sample size for model development (Riley et al.
 * 2020), as sv_validate.h states.
 */
#include <math.h>

#include "sv_dist.h"
#include "sv_validate.h"

double sv_sampsize_max_r2_binary(double phi)
{
    double l0 = phi * log(phi) + (1 - phi) * log(1 - phi);
    return 1 - exp(2 * l0);
}

double sv_sampsize_max_r2_survival(double rate, double meanfup)
{
    double n = 10000, E = ceil(rate * meanfup * n);
    double l0 = E * log(E / n) - E;
    return 1 - exp(2 * l0 / n);
}

static double crit(double p, double r2, double s)
{
    return ceil(p / ((s - 1) * log(1 - r2 / s)));
}

static sv_status common(double p, double r2, double max_r2, double shrinkage, double delta,
                        sv_sampsize_result *o, sv_err *err)
{
    if (!(p >= 1 && isfinite(p))) return sv_err_set(err, SV_EINVAL, "parameters must be >= 1");
    if (!(shrinkage > 0 && shrinkage < 1))
        return sv_err_set(err, SV_EINVAL, "shrinkage must be in (0, 1)");
    if (!(delta > 0 && delta < 1)) return sv_err_set(err, SV_EINVAL, "delta must be in (0, 1)");
    if (!(r2 > 0 && r2 < max_r2))
        return sv_err_set(err, SV_EINVAL,
                          "the Cox-Snell R^2 %g is outside (0, %g), the largest possible for "
                          "this outcome",
                          r2, max_r2);
    if (!(r2 < shrinkage))
        return sv_err_set(err, SV_EINVAL, "the Cox-Snell R^2 %g must be below the shrinkage %g",
                          r2, shrinkage);
    o->max_r2 = max_r2;
    o->r2_nagelkerke = r2 / max_r2;
    o->n1 = crit(p, r2, shrinkage);
    o->s2 = r2 / (r2 + delta * max_r2);
    o->n2 = crit(p, r2, o->s2);
    o->cuminc = o->cuminc_lo = o->cuminc_hi = NAN;
    return SV_OK;
}

sv_status sv_sampsize_binary(double p, double r2, double phi, double shrinkage, double delta,
                             double margin, sv_sampsize_result *o, sv_err *err)
{
    if (!(phi > 0 && phi < 1)) return sv_err_set(err, SV_EINVAL, "prevalence must be in (0, 1)");
    if (!(margin > 0 && margin < 1)) return sv_err_set(err, SV_EINVAL, "margin must be in (0, 1)");
    sv_status st = common(p, r2, sv_sampsize_max_r2_binary(phi), shrinkage, delta, o, err);
    if (st) return st;
    double z = 1.96 / margin;
    o->n3 = ceil(z * z * phi * (1 - phi));
    o->n = fmax(o->n1, fmax(o->n2, o->n3));
    o->events = o->n * phi;
    o->epp = o->events / p;
    return SV_OK;
}

sv_status sv_sampsize_survival(double p, double r2, double rate, double meanfup,
                               double timepoint, double shrinkage, double delta,
                               sv_sampsize_result *o, sv_err *err)
{
    if (!(rate > 0 && isfinite(rate))) return sv_err_set(err, SV_EINVAL, "rate must be > 0");
    if (!(meanfup > 0 && isfinite(meanfup)))
        return sv_err_set(err, SV_EINVAL, "mean follow-up must be > 0");
    if (!(timepoint > 0 && isfinite(timepoint)))
        return sv_err_set(err, SV_EINVAL, "time point must be > 0");
    sv_status st =
        common(p, r2, sv_sampsize_max_r2_survival(rate, meanfup), shrinkage, delta, o, err);
    if (st) return st;
    o->n3 = fmax(o->n1, o->n2);
    double py = round(meanfup * o->n3 * 10) / 10;
    double h = 1.96 * sqrt(rate / py);
    o->cuminc = 1 - exp(-rate * timepoint);
    o->cuminc_lo = 1 - exp(-(rate - h) * timepoint);
    o->cuminc_hi = 1 - exp(-(rate + h) * timepoint);
    o->n = fmax(o->n1, fmax(o->n2, o->n3));
    o->events = o->n * rate * meanfup;
    o->epp = o->events / p;
    return SV_OK;
}

/* log(1 + e^x) without overflow */
static double softplus(double x)
{
    return fmax(x, 0) + log1p(exp(-fabs(x)));
}

double sv_sampsize_cstat_to_r2(double c, double phi)
{
    double mu = sqrt(2.0) * sv_qnorm(c, 1);
    double a = log(phi / (1 - phi)) - mu * mu / 2, b = mu;
    /* E[log L] per patient: events x ~ N(mu, 1), non-events x ~ N(0, 1) */
    double lo = fmin(0, mu) - 12, hi = fmax(0, mu) + 12;
    const int m = 40000; /* even; the integrand is smooth: error ~1e-15 */
    double h = (hi - lo) / m, s = 0;
    for (int i = 0; i <= m; i++) {
        double x = lo + i * h;
        double w = (i == 0 || i == m) ? 1 : (i % 2 ? 4 : 2);
        double e = a + b * x, sp = softplus(e);
        double f1 = sv_dnorm(x - mu), f0 = sv_dnorm(x);
        s += w * (phi * f1 * (e - sp) + (1 - phi) * f0 * (-sp));
    }
    double ell = s * h / 3;
    double l0 = phi * log(phi) + (1 - phi) * log(1 - phi);
    return 1 - exp(-2 * (ell - l0));
}
