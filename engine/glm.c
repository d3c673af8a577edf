/*
 * glm.c - logistic regression as R's glm.fit (see sv_glm.h for the
 * reference and the points where sylva refuses what R only warns about).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_dist.h"
#include "sv_glm.h"

/* R's family.c constants for the logit link */
#define LOGIT_THRESH 30.0
#define LOGIT_MTHRESH -30.0

double sv_glm_linkinv(double eta)
{
    double t = eta < LOGIT_MTHRESH ? DBL_EPSILON : (eta > LOGIT_THRESH ? 1 / DBL_EPSILON : exp(eta));
    return t / (1 + t);
}

static double mu_eta(double eta)
{
    double opexp = 1 + exp(eta);
    return (eta > LOGIT_THRESH || eta < LOGIT_MTHRESH) ? DBL_EPSILON : exp(eta) / (opexp * opexp);
}

static double y_log_y(double y, double mu)
{
    return y != 0 ? y * log(y / mu) : 0;
}

/* binomial()$dev.resids summed */
static double deviance(const double *y, const double *mu, const double *w, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        d += 2 * wi * (y_log_y(y[i], mu[i]) + y_log_y(1 - y[i], 1 - mu[i]));
    }
    return d;
}

/* log dbinom(x; m, mu) for integers 0 <= x <= m */
static double log_dbinom(double x, double m, double mu)
{
    double lc = lgamma(m + 1) - lgamma(x + 1) - lgamma(m - x + 1);
    double a = x > 0 ? x * log(mu) : 0, b = m - x > 0 ? (m - x) * log1p(-mu) : 0;
    return lc + a + b;
}

/*
 * One IRLS fit on the design D (n x k, column-major, intercept column
 * included if any). On success: coef (k), mu (n), *dev, the R factor of
 * the last weighted least-squares step in Rf (k x k, column-major, upper),
 * iteration count, convergence and boundary flags.
 */
typedef struct irls_work {
    double *A;    /* m x k weighted design, m = rows with positive weight */
    double *z;    /* m working responses */
    double *eta;  /* n */
    double *coefold;
    double *orig; /* k original column norms */
} irls_work;

static sv_status householder_step(double *A, double *z, size_t m, size_t k, size_t ki,
                                   double *Rf, double *orig, double tol, double *coef, sv_err *err)
{
    for (size_t j = 0; j < k; j++) {
        double s = 0;
        for (size_t i = 0; i < m; i++) s += A[j * m + i] * A[j * m + i];
        orig[j] = sqrt(s);
    }
    for (size_t j = 0; j < k; j++) {
        double *x = A + j * m;
        double s = 0;
        for (size_t i = j; i < m; i++) s += x[i] * x[i];
        double nrm = sqrt(s);
        if (!(nrm > tol * orig[j]) || nrm == 0)
            return j < ki ? sv_err_set(err, SV_ENUM, "the intercept column is zero")
                          : sv_err_set(err, SV_ENUM,
                                       "column %zu of X is a linear combination of the columns "
                                       "before it%s (collinear predictors)",
                                       j - ki + 1, ki ? " and the intercept" : "");
        double alpha = x[j] >= 0 ? -nrm : nrm;
        double v0 = x[j] - alpha;
        double vtv = nrm * nrm - x[j] * x[j] + v0 * v0;
        /* apply I - 2 v v'/v'v to the later columns and to z; v = (v0, x[j+1..]) */
        for (size_t c = j + 1; c <= k; c++) {
            double *col = c < k ? A + c * m : z;
            double d = v0 * col[j];
            for (size_t i = j + 1; i < m; i++) d += x[i] * col[i];
            double f = 2 * d / vtv;
            col[j] -= f * v0;
            for (size_t i = j + 1; i < m; i++) col[i] -= f * x[i];
        }
        x[j] = alpha;
    }
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < k; i++) Rf[j * k + i] = i <= j ? A[j * m + i] : 0;
    for (size_t jj = k; jj-- > 0;) {
        double s = z[jj];
        for (size_t c = jj + 1; c < k; c++) s -= Rf[c * k + jj] * coef[c];
        coef[jj] = s / Rf[jj * k + jj];
    }
    return SV_OK;
}

static void linpred(const double *D, size_t n, size_t k, const double *coef, const double *offset,
                    double *eta)
{
    for (size_t i = 0; i < n; i++) eta[i] = 0;
    for (size_t j = 0; j < k; j++) {
        const double *c = D + j * n;
        for (size_t i = 0; i < n; i++) eta[i] += c[i] * coef[j];
    }
    if (offset)
        for (size_t i = 0; i < n; i++) eta[i] += offset[i];
}

typedef struct irls_out {
    double dev;
    int iter, converged, boundary;
} irls_out;

static sv_status irls(const double *D, size_t n, size_t k, size_t ki, const double *y, const double *w,
                      const double *offset, const double *mustart, double epsilon, int maxit,
                      double *coef, double *mu, double *Rf, double *step, irls_out *out,
                      sv_err *err)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += (w ? w[i] : 1) > 0;
    if (m < k)
        return sv_err_set(err, SV_EINVAL, "%zu rows with positive weight for %zu coefficients", m,
                          k);
    double *buf = sv_malloc(m * k + m + n + 2 * k, sizeof *buf);
    if (!buf) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu x %zu design)", n, k);
    double *A = buf, *z = A + m * k, *eta = z + m, *coefold = eta + n, *orig = coefold + k;
    /* tolerance of R's Cdqrls call in glm.fit */
    double tol = fmin(1e-7, epsilon / 1000);
    sv_status st = SV_OK;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        double ms = mustart ? mustart[i] : (wi * y[i] + 0.5) / (wi + 1);
        eta[i] = log(ms / (1 - ms));
        mu[i] = sv_glm_linkinv(eta[i]);
    }
    double devold = deviance(y, mu, w, n), dev = devold;
    int have_old = 0, conv = 0, boundary = 0, iter;
    for (iter = 1; iter <= maxit; iter++) {
        size_t r = 0;
        for (size_t i = 0; i < n; i++) {
            double wi = w ? w[i] : 1;
            if (!(wi > 0)) continue;
            double me = mu_eta(eta[i]), var = mu[i] * (1 - mu[i]);
            double off = offset ? offset[i] : 0;
            double zi = (eta[i] - off) + (y[i] - mu[i]) / me;
            double sw = sqrt(wi * me * me / var);
            z[r] = zi * sw;
            for (size_t j = 0; j < k; j++) A[j * m + r] = D[j * n + i] * sw;
            r++;
        }
        st = householder_step(A, z, m, k, ki, Rf, orig, tol, coef, err);
        if (st) goto done;
        if (step) memcpy(step, eta, n * sizeof *eta);
        linpred(D, n, k, coef, offset, eta);
        for (size_t i = 0; i < n; i++) mu[i] = sv_glm_linkinv(eta[i]);
        dev = deviance(y, mu, w, n);
        boundary = 0;
        if (!isfinite(dev)) {
            if (!have_old) {
                st = sv_err_set(err, SV_ENUM, "no valid set of coefficients has been found");
                goto done;
            }
            int ii = 1;
            while (!isfinite(dev)) {
                if (ii > maxit) {
                    st = sv_err_set(err, SV_ENUM, "cannot correct the step size (inner loop)");
                    goto done;
                }
                ii++;
                for (size_t j = 0; j < k; j++) coef[j] = (coef[j] + coefold[j]) / 2;
                linpred(D, n, k, coef, offset, eta);
                for (size_t i = 0; i < n; i++) mu[i] = sv_glm_linkinv(eta[i]);
                dev = deviance(y, mu, w, n);
            }
            boundary = 1;
        }
        if (fabs(dev - devold) / (fabs(dev) + 0.1) < epsilon) {
            conv = 1;
            break;
        }
        devold = dev;
        memcpy(coefold, coef, k * sizeof *coef);
        have_old = 1;
    }
    if (iter > maxit) iter = maxit;
    if (step)
        for (size_t i = 0; i < n; i++) step[i] = eta[i] - step[i];
    out->dev = dev;
    out->iter = iter;
    out->converged = conv;
    out->boundary = boundary;
done:
    free(buf);
    return st;
}

void sv_glm_opts_default(sv_glm_opts *o)
{
    o->intercept = 1;
    o->offset = o->weights = o->mustart = NULL;
    o->epsilon = SV_GLM_EPSILON;
    o->max_iter = SV_GLM_MAX_ITER;
}

sv_status sv_glm_logistic(const double *X, size_t n, size_t p, const double *y,
                          const sv_glm_opts *o, sv_glm_result *r, sv_err *err)
{
    sv_glm_opts dflt;
    sv_glm_opts_default(&dflt);
    if (!o) o = &dflt;
    size_t ki = o->intercept ? 1 : 0, k = p + ki;
    if (n == 0) return sv_err_set(err, SV_EINVAL, "no rows");
    if (k == 0) return sv_err_set(err, SV_EINVAL, "no coefficients (no columns and no intercept)");
    if (!(o->epsilon > 0 && o->epsilon < 1))
        return sv_err_set(err, SV_EINVAL, "epsilon must be in (0, 1), got %g", o->epsilon);
    if (o->max_iter < 1) return sv_err_set(err, SV_EINVAL, "max_iter must be >= 1, got %d", o->max_iter);
    double epsilon = o->epsilon;
    int maxit = o->max_iter;
    const double *w = o->weights;
    for (size_t i = 0; i < n; i++) {
        if (!(y[i] == 0 || y[i] == 1))
            return sv_err_set(err, SV_EINVAL, "y[%zu] is %g, expected 0 or 1", i + 1, y[i]);
        if (w && !(w[i] >= 0 && isfinite(w[i])))
            return sv_err_set(err, SV_EINVAL, "weights[%zu] is %g, expected a finite number >= 0",
                              i + 1, w[i]);
        if (o->offset && !isfinite(o->offset[i]))
            return sv_err_set(err, SV_EINVAL, "offset[%zu] is not finite", i + 1);
    }
    double *buf = sv_malloc(n * k + 2 * n + k * k + k, sizeof *buf);
    if (!buf) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu x %zu design)", n, k);
    double *D = buf, *mu = D + n * k, *Rf = mu + n, *c1 = Rf + k * k, *step = c1 + k;
    if (ki)
        for (size_t i = 0; i < n; i++) D[i] = 1;
    memcpy(D + ki * n, X, n * p * sizeof *X);
    irls_out io;
    sv_status st = irls(D, n, k, ki, y, w, o->offset, o->mustart, epsilon, maxit, r->coef, mu, Rf, step, &io,
                        err);
    if (st) goto done;
    r->deviance = io.dev;
    r->iter = io.iter;
    r->converged = io.converged;
    r->boundary = io.boundary;

    /* covariance: chol2inv(R) = R^-1 R^-T, dispersion 1 */
    double *Ri = D; /* the design is no longer needed: reuse for R^-1 (k x k) */
    for (size_t j = 0; j < k; j++) {
        for (size_t i = 0; i < k; i++) Ri[j * k + i] = 0;
        Ri[j * k + j] = 1 / Rf[j * k + j];
        for (size_t i = j; i-- > 0;) {
            double s = 0;
            for (size_t c = i + 1; c <= j; c++) s += Rf[c * k + i] * Ri[j * k + c];
            Ri[j * k + i] = -s / Rf[i * k + i];
        }
    }
    for (size_t a = 0; a < k; a++) {
        for (size_t b = a; b < k; b++) {
            double s = 0;
            for (size_t c = b; c < k; c++) s += Ri[c * k + a] * Ri[c * k + b];
            if (r->cov) r->cov[b * k + a] = r->cov[a * k + b] = s;
            if (a == b) r->se[a] = sqrt(s);
        }
    }
    for (size_t j = 0; j < k; j++) {
        r->z[j] = r->coef[j] / r->se[j];
        r->pval[j] = 2 * sv_pnorm(-fabs(r->z[j]), 1);
    }

    /* fitted values at 0 or 1 (R's warning threshold 10 * DBL_EPSILON) */
    double eps10 = 10 * DBL_EPSILON;
    r->n_extreme = 0;
    r->first_extreme = 0;
    r->separation = 0;
    for (size_t i = 0; i < n; i++)
        if (mu[i] > 1 - eps10 || mu[i] < eps10) {
            if (r->n_extreme == 0) r->first_extreme = i;
            r->n_extreme++;
            /* Newton's method converges quadratically to a finite maximum;
             * under separation it moves the separated rows' linear
             * predictor by about 1 per iteration for ever */
            if (fabs(step[i]) > SV_GLM_SEPARATION_STEP) r->separation = 1;
        }

    /* null deviance, degrees of freedom, AIC */
    size_t nok = 0;
    double sw = 0, swy = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        nok += wi != 0;
        sw += wi;
        swy += wi * y[i];
    }
    if (ki && o->offset) {
        /* glm() refits the intercept-only model with the offset, from the
         * full model's fitted values */
        double *ones = Ri;
        for (size_t i = 0; i < n; i++) ones[i] = 1;
        double *mu0 = sv_malloc(n, sizeof *mu0);
        double R0;
        irls_out i0;
        if (!mu0) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory");
            goto done;
        }
        st = irls(ones, n, 1, 1, y, w, o->offset, mu, epsilon, maxit, c1, mu0, &R0, NULL, &i0, err);
        free(mu0);
        if (st) goto done;
        r->null_deviance = i0.dev;
    } else {
        double nd = 0;
        for (size_t i = 0; i < n; i++) {
            double m0 = ki ? swy / sw : sv_glm_linkinv(o->offset ? o->offset[i] : 0);
            double wi = w ? w[i] : 1;
            nd += 2 * wi * (y_log_y(y[i], m0) + y_log_y(1 - y[i], 1 - m0));
        }
        r->null_deviance = nd;
    }
    r->df_null = (double)nok - (double)ki;
    r->df_residual = (double)nok - (double)k;
    double ll = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        if (!(wi > 0)) continue;
        ll += log_dbinom(nearbyint(wi * y[i]), nearbyint(wi), mu[i]);
    }
    r->loglik = ll;
    r->aic = -2 * ll + 2 * (double)k;
    if (r->fitted) memcpy(r->fitted, mu, n * sizeof *mu);
done:
    free(buf);
    return st;
}

void sv_glm_predict(const double *X, size_t n, size_t p, const double *coef, int intercept,
                    const double *offset, int link, double *out)
{
    size_t ki = intercept ? 1 : 0;
    for (size_t i = 0; i < n; i++) out[i] = ki ? coef[0] : 0;
    for (size_t j = 0; j < p; j++) {
        const double *c = X + j * n;
        for (size_t i = 0; i < n; i++) out[i] += c[i] * coef[ki + j];
    }
    for (size_t i = 0; i < n; i++) {
        if (offset) out[i] += offset[i];
        if (!link) out[i] = sv_glm_linkinv(out[i]);
    }
}
