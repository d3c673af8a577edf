/*
 * surv_cox.c - the Cox proportional hazards model (Cox 1972) by maximum
 * partial likelihood, with Breslow's (1974) or Efron's (1977) handling of
 * tied event times, fitted as R's coxph does so that every digit agrees:
 *
 * - covariates centred and scaled (mean absolute deviation) before the
 *   fit, coefficients and variance returned on the original scale;
 * - Newton-Raphson from beta = 0; when the log partial likelihood gets
 *   worse (or is not finite) the step is shrunk towards the last good
 *   beta, (new + h old) / (h + 1) with h the number of consecutive
 *   failures; converged when |1 - l_best / l_new| <= eps (1e-9), at most
 *   20 iterations;
 * - the information matrix factored as L D L' with R's tolerance rule
 *   (a pivot below toler_chol times the largest diagonal is zero): such a
 *   column is collinear with earlier ones, its coefficient stays 0 and is
 *   reported as NA (NaN), as coxph does;
 * - after convergence, a coefficient "may be infinite" (monotone
 *   likelihood) when |(u' V)_j| > eps and > toler_inf |beta_j|, R's test.
 *
 * The accumulation walks the subjects from the longest time to the
 * shortest within each stratum, keeping running sums of exp(eta),
 * exp(eta) x and exp(eta) x x' over the risk set: O(n p^2) per iteration,
 * no allocation inside the loop.
 */
#include <float.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_surv.h"
#include "sv_dist.h"

typedef struct cox_data {
    size_t n, p;
    const double *x;       /* n x p row-major, sorted, centred and scaled */
    const double *time;    /* sorted */
    const unsigned char *status;
    const int *sid;        /* stratum of each sorted subject (NULL = one) */
    int efron;
    /* scratch, p or p*p each */
    double *a, *a2, *cmat, *cmat2;
} cox_data;

/* Log partial likelihood at beta; fills the score u[p] and the
 * information imat (lower triangle, imat[i * p + j], j <= i). */
static double cox_iter(const cox_data *w, const double *beta, double *u,
                       double *imat)
{
    size_t n = w->n, p = w->p;
    double *a = w->a, *a2 = w->a2, *cmat = w->cmat, *cmat2 = w->cmat2;
    double loglik = 0, denom = 0;
    memset(u, 0, p * sizeof *u);
    memset(imat, 0, p * p * sizeof *imat);
    memset(a2, 0, p * sizeof *a2);
    memset(cmat2, 0, p * p * sizeof *cmat2);
    size_t person = n;
    while (person > 0) {
        size_t last = person - 1;
        if (person == n || (w->sid && w->sid[last] != w->sid[person])) {
            /* a new stratum starts (walking backwards): empty risk set */
            denom = 0;
            memset(a, 0, p * sizeof *a);
            memset(cmat, 0, p * p * sizeof *cmat);
        }
        double t = w->time[last];
        int sid = w->sid ? w->sid[last] : 0;
        double ndead = 0, denom2 = 0;
        while (person > 0 && w->time[person - 1] == t &&
               (!w->sid || w->sid[person - 1] == sid)) {
            person--;
            const double *xi = w->x + person * p;
            double eta = 0;
            for (size_t j = 0; j < p; j++) eta += beta[j] * xi[j];
            double risk = exp(eta);
            if (w->status[person]) {
                ndead += 1;
                denom2 += risk;
                loglik += eta;
                for (size_t i = 0; i < p; i++) {
                    double rx = risk * xi[i];
                    u[i] += xi[i];
                    a2[i] += rx;
                    double *row = cmat2 + i * p;
                    for (size_t j = 0; j <= i; j++) row[j] += rx * xi[j];
                }
            } else {
                denom += risk;
                for (size_t i = 0; i < p; i++) {
                    double rx = risk * xi[i];
                    a[i] += rx;
                    double *row = cmat + i * p;
                    for (size_t j = 0; j <= i; j++) row[j] += rx * xi[j];
                }
            }
        }
        if (ndead == 0) continue;
        /* Efron: the tied deaths leave the risk set in ndead equal
         * fractions; Breslow (or a single death): all at once. */
        int steps = (w->efron && ndead > 1) ? (int)ndead : 1;
        double frac = 1.0 / steps, wt = ndead / steps;
        for (int k = 0; k < steps; k++) {
            denom += denom2 * frac;
            loglik -= wt * log(denom);
            for (size_t i = 0; i < p; i++) {
                a[i] += a2[i] * frac;
                double mean = a[i] / denom;
                u[i] -= wt * mean;
                double *crow = cmat + i * p, *c2row = cmat2 + i * p, *irow = imat + i * p;
                for (size_t j = 0; j <= i; j++) {
                    crow[j] += c2row[j] * frac;
                    irow[j] += wt * (crow[j] - mean * a[j]) / denom;
                }
            }
        }
        memset(a2, 0, p * sizeof *a2);
        for (size_t i = 0; i < p; i++) memset(cmat2 + i * p, 0, (i + 1) * sizeof *cmat2);
    }
    return loglik;
}

/*
 * In-place L D L' of the symmetric matrix m (lower triangle used, p x p,
 * m[i * p + j] for j <= i): D on the diagonal, L below it. A pivot that is
 * not finite, not positive, or below toler * (largest diagonal) is set to
 * 0 and its column of L cleared (the variable is aliased; with no events
 * every variable is). Returns the rank.
 */
static int ldl_factor(double *m, size_t p, double toler)
{
    double eps = 0;
    for (size_t i = 0; i < p; i++)
        if (m[i * p + i] > eps) eps = m[i * p + i];
    eps *= toler;
    int rank = 0;
    for (size_t i = 0; i < p; i++) {
        double pivot = m[i * p + i];
        if (!isfinite(pivot) || pivot < eps || pivot <= 0) {
            m[i * p + i] = 0;
            for (size_t j = i + 1; j < p; j++) m[j * p + i] = 0;
            continue;
        }
        rank++;
        for (size_t j = i + 1; j < p; j++) {
            double f = m[j * p + i] / pivot;
            m[j * p + i] = f;
            m[j * p + j] -= f * f * pivot;
            for (size_t k = j + 1; k < p; k++) m[k * p + j] -= f * m[k * p + i];
        }
    }
    return rank;
}

/* Solves (L D L') x = b in place; components of zero pivots are 0. */
static void ldl_solve(const double *m, size_t p, double *b)
{
    for (size_t i = 0; i < p; i++) {
        double s = b[i];
        for (size_t j = 0; j < i; j++) s -= b[j] * m[i * p + j];
        b[i] = s;
    }
    for (size_t i = p; i-- > 0;) {
        if (m[i * p + i] == 0) {
            b[i] = 0;
            continue;
        }
        double s = b[i] / m[i * p + i];
        for (size_t j = i + 1; j < p; j++) s -= b[j] * m[j * p + i];
        b[i] = s;
    }
}

/* The (generalised) inverse from the factor: full symmetric p x p into
 * inv, rows and columns of zero pivots 0. col is scratch of p. */
static void ldl_inverse(const double *m, size_t p, double *inv, double *col)
{
    for (size_t c = 0; c < p; c++) {
        memset(col, 0, p * sizeof *col);
        col[c] = 1;
        ldl_solve(m, p, col);
        for (size_t r = 0; r < p; r++) inv[c * p + r] = col[r];
    }
    for (size_t i = 0; i < p; i++) {
        if (m[i * p + i] != 0) continue;
        for (size_t j = 0; j < p; j++) inv[i * p + j] = inv[j * p + i] = 0;
    }
}

void sv_cox_opts_default(sv_cox_opts *opts)
{
    opts->ties = SV_TIES_EFRON;
    opts->max_iter = SV_COX_MAX_ITER;
    opts->eps = SV_COX_EPS;
    opts->conf_level = 0.95;
}

sv_status sv_cox_fit(const double *time, const double *event, const double *X,
                     size_t n, size_t p, const int *strata, int nstrata,
                     const sv_cox_opts *opts, const sv_ctx *ctx,
                     sv_cox_result *out, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    if (p == 0) return sv_err_set(err, SV_EINVAL, "X has no columns");
    if (n == 0) return sv_err_set(err, SV_EINVAL, "no subjects");
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(X[j * n + i]))
                return sv_err_set(err, SV_EINVAL, "X[%zu, %zu] is %g; covariates must be finite",
                                  i + 1, j + 1, X[j * n + i]);
    if (strata)
        for (size_t i = 0; i < n; i++)
            if (strata[i] < 0 || strata[i] >= nstrata)
                return sv_err_set(err, SV_EINVAL, "strata[%zu] code out of range", i + 1);
    sv_cox_opts dflt;
    if (!opts) {
        sv_cox_opts_default(&dflt);
        opts = &dflt;
    }
    if (opts->max_iter < 1)
        return sv_err_set(err, SV_EINVAL, "max_iter must be >= 1, got %d", opts->max_iter);
    if (!(opts->eps > 0 && opts->eps < 1))
        return sv_err_set(err, SV_EINVAL, "eps must be in (0, 1), got %g", opts->eps);
    if (!(opts->conf_level > 0 && opts->conf_level < 1))
        return sv_err_set(err, SV_EINVAL, "conf_level must be in (0, 1), got %g", opts->conf_level);
    if (opts->ties != SV_TIES_EFRON && opts->ties != SV_TIES_BRESLOW)
        return sv_err_set(err, SV_EINVAL, "unknown ties method %d", (int)opts->ties);
    int max_iter = opts->max_iter;
    double eps = opts->eps;
    double level = opts->conf_level;
    int efron = opts->ties == SV_TIES_EFRON;

    double events = 0;
    for (size_t i = 0; i < n; i++) events += event[i];
    out->n = n;
    out->events = events;

    uint32_t *perm = sv_malloc(n, sizeof *perm);
    double *xs = sv_malloc(n, p * sizeof *xs);
    double *ts = sv_malloc(n, sizeof *ts);
    unsigned char *ss = sv_malloc(n, 1);
    int *sid = strata ? sv_malloc(n, sizeof *sid) : NULL;
    /* p-sized: means, scale, beta, newbeta, u, u0, step, col, a, a2;
     * p*p: imat, fac, cmat, cmat2, var */
    double *work = sv_calloc(10 * p + 5 * p * p, sizeof *work);
    if (!perm || !xs || !ts || !ss || (strata && !sid) || !work) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu x %zu)", n, p);
        goto done;
    }
    double *means = work, *scale = means + p, *beta = scale + p,
           *newbeta = beta + p, *u = newbeta + p, *u0 = u + p, *step = u0 + p,
           *col = step + p, *acc_a = col + p, *acc_a2 = acc_a + p;
    double *imat = acc_a2 + p, *fac = imat + p * p, *cmat = fac + p * p,
           *cmat2 = cmat + p * p, *var = cmat2 + p * p;

    st = sv_surv_order(time, strata, nstrata, n, perm, err);
    if (st) goto done;
    for (size_t j = 0; j < p; j++) {
        const double *xj = X + j * n;
        double s = 0;
        for (size_t i = 0; i < n; i++) s += xj[i];
        means[j] = s / (double)n;
        double mad = 0;
        for (size_t i = 0; i < n; i++) mad += fabs(xj[i] - means[j]);
        scale[j] = mad > 0 ? (double)n / mad : 1.0;
    }
    for (size_t r = 0; r < n; r++) {
        size_t i = perm[r];
        ts[r] = time[i];
        ss[r] = event[i] != 0;
        if (sid) sid[r] = strata[i];
        double *row = xs + r * p;
        for (size_t j = 0; j < p; j++) row[j] = (X[j * n + i] - means[j]) * scale[j];
    }
    cox_data w = {n, p, xs, ts, ss, sid, efron, acc_a, acc_a2, cmat, cmat2};

    /* Start: beta = 0, the null log likelihood and the score test. */
    double lnull = cox_iter(&w, beta, u, imat);
    memcpy(fac, imat, p * p * sizeof *fac);
    ldl_factor(fac, p, SV_COX_TOLER_CHOL);
    memcpy(u0, u, p * sizeof *u);
    memcpy(step, u, p * sizeof *u);
    ldl_solve(fac, p, step);
    double score = 0;
    for (size_t j = 0; j < p; j++) score += u0[j] * step[j];
    out->loglik_null = lnull;
    out->score = score;
    if (!isfinite(lnull)) {
        st = sv_err_set(err, SV_ENUM, "the log partial likelihood at beta = 0 is not finite");
        goto done;
    }

    double lbest = lnull;
    for (size_t j = 0; j < p; j++) newbeta[j] = beta[j] + step[j];
    int halving = 0, converged = 0, iter;
    for (iter = 1; iter <= max_iter; iter++) {
        if (sv_ctx_cancelled(ctx)) {
            st = sv_err_set(err, SV_EINTR, "interrupted");
            goto done;
        }
        double lnew = cox_iter(&w, newbeta, u, imat);
        memcpy(fac, imat, p * p * sizeof *fac);
        ldl_factor(fac, p, SV_COX_TOLER_CHOL);
        int finite = isfinite(lnew);
        for (size_t i = 0; i < p && finite; i++) {
            if (!isfinite(u[i])) finite = 0;
            for (size_t j = 0; j <= i; j++)
                if (!isfinite(imat[i * p + j])) finite = 0;
        }
        if (finite && fabs(1 - lbest / lnew) <= eps) {
            lbest = lnew;
            memcpy(beta, newbeta, p * sizeof *beta);
            converged = 1;
            break;
        }
        if (!finite || lnew < lbest) {
            halving++;
            for (size_t j = 0; j < p; j++)
                newbeta[j] = (newbeta[j] + halving * beta[j]) / (halving + 1.0);
        } else {
            halving = 0;
            lbest = lnew;
            memcpy(step, u, p * sizeof *u);
            ldl_solve(fac, p, step);
            for (size_t j = 0; j < p; j++) {
                beta[j] = newbeta[j];
                newbeta[j] += step[j];
            }
        }
    }
    if (!converged) {
        /* back to the last good beta: its likelihood, score, information */
        iter = max_iter;
        lbest = cox_iter(&w, beta, u, imat);
        memcpy(fac, imat, p * p * sizeof *fac);
        ldl_factor(fac, p, SV_COX_TOLER_CHOL);
    }
    ldl_inverse(fac, p, var, col);
    /* back to the original scale */
    for (size_t i = 0; i < p; i++) {
        beta[i] *= scale[i];
        u[i] /= scale[i];
        for (size_t j = 0; j < p; j++) var[j * p + i] *= scale[i] * scale[j];
    }
    out->iter = iter;
    out->converged = converged;
    out->loglik = lbest;
    if (!isfinite(lbest)) {
        st = sv_err_set(err, SV_ENUM, "numerical overflow in the Cox fit");
        goto done;
    }

    double z = sv_qnorm(1.0 - (1.0 - level) / 2.0, 1);
    int df = 0;
    for (size_t j = 0; j < p; j++) {
        int alias = var[j * p + j] == 0;
        out->aliased[j] = alias;
        out->infinite[j] = 0;
        if (converged && max_iter > 1 && !alias) {
            double uv = 0;
            for (size_t k = 0; k < p; k++) uv += u[k] * var[j * p + k];
            uv = fabs(uv);
            if (!isfinite(u[j]) || (uv > eps && uv > SV_COX_TOLER_INF * fabs(beta[j])))
                out->infinite[j] = 1;
        }
        for (size_t k = 0; k < p; k++) out->var[k * p + j] = var[k * p + j];
        if (alias) {
            out->coef[j] = out->se[j] = out->hr[j] = out->hr_lo[j] = out->hr_hi[j] =
                out->z[j] = out->p[j] = NAN;
            continue;
        }
        df++;
        double se = sqrt(var[j * p + j]);
        out->coef[j] = beta[j];
        out->se[j] = se;
        out->hr[j] = exp(beta[j]);
        out->hr_lo[j] = exp(beta[j] - z * se);
        out->hr_hi[j] = exp(beta[j] + z * se);
        out->z[j] = beta[j] / se;
        out->p[j] = 2.0 * sv_pnorm(fabs(out->z[j]), 0);
    }
    out->df = df;

    {
        /* Wald: beta' V^-1 beta over the non-aliased coefficients (the
         * block packed m x m into fac), as coxph.wtest. */
        size_t m = 0;
        for (size_t j = 0; j < p; j++) if (!out->aliased[j]) step[m++] = beta[j];
        size_t r = 0;
        for (size_t i = 0; i < p; i++) {
            if (out->aliased[i]) continue;
            size_t c = 0;
            for (size_t j = 0; j < p; j++) {
                if (out->aliased[j]) continue;
                fac[r * m + c] = var[j * p + i];
                c++;
            }
            r++;
        }
        ldl_factor(fac, m, SV_COX_TOLER_CHOL);
        memcpy(col, step, m * sizeof *col);
        ldl_solve(fac, m, col);
        double wald = 0;
        for (size_t j = 0; j < m; j++) wald += step[j] * col[j];
        out->wald = wald;
    }
    out->lrt = 2 * (out->loglik - out->loglik_null);
    out->wald_p = sv_pchisq(out->wald, df, 0);
    out->score_p = sv_pchisq(out->score, df, 0);
    out->lrt_p = sv_pchisq(out->lrt, df, 0);

    /* The linear predictor (aliased columns contribute 0) and its
     * concordance, as coxph reports it. */
    {
        double *lp = out->lp ? out->lp : ts; /* ts is free now: reuse */
        memset(lp, 0, n * sizeof *lp);
        for (size_t j = 0; j < p; j++) {
            if (out->aliased[j]) continue;
            const double *xj = X + j * n;
            for (size_t i = 0; i < n; i++) lp[i] += beta[j] * (xj[i] - means[j]);
        }
        sv_concordance_result cr;
        st = sv_concordance(time, event, lp, strata, nstrata, n, &cr, err);
        if (st) goto done;
        out->concordance = cr.concordance;
        out->concordance_se = sqrt(cr.var);
    }

done:
    free(perm), free(xs), free(ts), free(ss), free(sid), free(work);
    return st;
}

/* ---- warnings ------------------------------------------------------------- */

/* A growing NUL-terminated string; on allocation failure s becomes NULL
 * and stays so. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_add(strbuf *b, const char *t)
{
    if (!b->s) return;
    size_t n = strlen(t);
    if (b->len + n + 1 > b->cap) {
        size_t cap = 2 * (b->len + n + 1);
        char *s = realloc(b->s, cap);
        if (!s) {
            free(b->s);
            b->s = NULL;
            return;
        }
        b->s = s, b->cap = cap;
    }
    memcpy(b->s + b->len, t, n + 1);
    b->len += n;
}

static void sb_name(strbuf *b, const char *const *names, size_t j)
{
    char tmp[32];
    if (names && names[j]) {
        sb_add(b, names[j]);
    } else {
        snprintf(tmp, sizeof tmp, "x%zu", j + 1);
        sb_add(b, tmp);
    }
}

static int sb_init(strbuf *b, const char *t)
{
    b->cap = 128, b->len = 0;
    b->s = malloc(b->cap);
    if (b->s) b->s[0] = 0;
    sb_add(b, t);
    return b->s != NULL;
}

int sv_cox_warnings(const sv_cox_result *r, size_t p, const char *const *names,
                    char *out[SV_COX_MAX_WARNINGS])
{
    int nw = 0;
    strbuf b;
    if (r->events == 0) {
        if (!sb_init(&b, "no events: no coefficient can be estimated")) goto nomem;
        out[nw++] = b.s;
    } else {
        int first = 1;
        for (size_t j = 0; j < p; j++) {
            if (!r->aliased[j]) continue;
            if (first && !sb_init(&b, "X matrix deemed to be singular; NA coefficient for "
                                      "variable(s) "))
                goto nomem;
            if (!first) sb_add(&b, ", ");
            first = 0;
            sb_name(&b, names, j);
        }
        if (!first) {
            if (!b.s) goto nomem;
            out[nw++] = b.s;
        }
    }
    if (!r->converged) {
        if (!sb_init(&b, "Ran out of iterations and did not converge")) goto nomem;
        out[nw++] = b.s;
    }
    int first = 1;
    for (size_t j = 0; j < p; j++) {
        if (!r->infinite[j]) continue;
        if (first && !sb_init(&b, "Loglik converged before variable ")) goto nomem;
        char num[32];
        snprintf(num, sizeof num, "%s%zu (", first ? "" : ",", j + 1);
        first = 0;
        sb_add(&b, num);
        sb_name(&b, names, j);
        sb_add(&b, ")");
    }
    if (!first) {
        sb_add(&b, "; coefficient may be infinite");
        if (!b.s) goto nomem;
        out[nw++] = b.s;
    }
    return nw;
nomem:
    while (nw > 0) free(out[--nw]);
    return -1;
}
