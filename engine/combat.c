/*
 * combat.c - ComBat location/scale harmonisation with parametric
 * empirical Bayes priors, as sva::ComBat(par.prior = TRUE, mod = NULL);
 * see sv_combat.h and docs/centres.md.
 *
 * Notation per feature g and batch b: s = (x - stand_mean) /
 * sqrt(var_pooled) are the standardised values; gamma_hat, delta_hat their
 * batch mean and variance; gamma_star, delta_star the empirical Bayes
 * estimates that shrink them towards the batch's mean over features.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_combat.h"

void sv_combat_free(sv_combat *c)
{
    if (!c) return;
    free(c->kept);
    free(c->stand_mean);
    free(c->var_pooled);
    free(c->ref_gamma);
    free(c->gamma_star);
    free(c->delta_star);
    free(c->batch_n);
    free(c);
}

static double mean_of(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return s / (double)n;
}

/* Sample variance with the n - 1 denominator (genefilter's rowVars). */
static double var_of(const double *v, size_t n)
{
    double m = mean_of(v, n), s = 0;
    for (size_t i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    return s / (double)(n - 1);
}

/*
 * Empirical Bayes for one batch. s: the batch's standardised values,
 * feature-major (s[k * nb + j] = row j, the k-th feature of `feat`), for m
 * features; ghat, dhat: per feature. Writes gstar, dstar (length m).
 * it.sol: iterate the posterior mean and variance until the largest
 * relative change (signed denominators, as sva) is <= SV_COMBAT_CONV.
 */
static sv_status eb_batch(const double *s, size_t nb, size_t m, const double *ghat,
                          const double *dhat, int mean_only, double *gstar, double *dstar,
                          double *work, sv_err *err)
{
    double gbar = mean_of(ghat, m), t2 = var_of(ghat, m);
    if (mean_only) {
        /* postmean(g.hat, g.bar, n = 1, d.star = 1, t2): n is literally 1 */
        for (size_t k = 0; k < m; k++) {
            gstar[k] = (t2 * ghat[k] + gbar) / (t2 + 1);
            dstar[k] = 1;
        }
        return SV_OK;
    }
    double dm = mean_of(dhat, m), s2 = var_of(dhat, m);
    double a = (2 * s2 + dm * dm) / s2, b = (dm * s2 + dm * dm * dm) / s2;
    double n = (double)nb;
    double *gold = work, *dold = work + m;
    memcpy(gold, ghat, m * sizeof *gold);
    memcpy(dold, dhat, m * sizeof *dold);
    for (int iter = 0;; iter++) {
        double change = -INFINITY;
        for (size_t k = 0; k < m; k++) {
            double gnew = (t2 * n * ghat[k] + dold[k] * gbar) / (t2 * n + dold[k]);
            const double *sk = s + k * nb;
            double sum2 = 0;
            for (size_t j = 0; j < nb; j++) sum2 += (sk[j] - gnew) * (sk[j] - gnew);
            double dnew = (0.5 * sum2 + b) / (n / 2 + a - 1);
            double cg = fabs(gnew - gold[k]) / gold[k], cd = fabs(dnew - dold[k]) / dold[k];
            if (isnan(cg) || isnan(cd)) change = NAN;
            if (!isnan(change)) change = fmax(change, fmax(cg, cd));
            gold[k] = gnew;
            dold[k] = dnew;
        }
        if (isnan(change))
            return sv_err_set(err, SV_ENUM,
                              "the empirical Bayes iteration gave NaN (priors a = %g, b = %g)", a, b);
        if (!(change > SV_COMBAT_CONV)) break;
        if (iter >= SV_COMBAT_MAXITER)
            return sv_err_set(err, SV_ENUM, "the empirical Bayes iteration did not converge");
    }
    memcpy(gstar, gold, m * sizeof *gstar);
    memcpy(dstar, dold, m * sizeof *dstar);
    return SV_OK;
}

/* Rows of each batch, grouped: idx[start[b] .. start[b+1]) */
static sv_status group_rows(const int *batch, size_t n, size_t nbat, size_t **start_out,
                            size_t **idx_out, sv_err *err)
{
    size_t *start = sv_calloc(nbat + 1, sizeof *start);
    size_t *idx = sv_malloc(n ? n : 1, sizeof *idx);
    if (!start || !idx) {
        free(start);
        free(idx);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) start[batch[i] + 1]++;
    for (size_t b = 0; b < nbat; b++) start[b + 1] += start[b];
    size_t *fill = sv_malloc(nbat ? nbat : 1, sizeof *fill);
    if (!fill) {
        free(start);
        free(idx);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    memcpy(fill, start, nbat * sizeof *fill);
    for (size_t i = 0; i < n; i++) idx[fill[batch[i]]++] = i;
    free(fill);
    *start_out = start;
    *idx_out = idx;
    return SV_OK;
}

static sv_status check_x(const double *X, size_t n, size_t p, sv_err *err)
{
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(X[j * n + i]))
                return sv_err_set(err, SV_EINVAL, "X[%zu, %zu] is %g; values must be finite", i + 1,
                                  j + 1, X[j * n + i]);
    return SV_OK;
}

/* Does feature column x vary inside every batch of more than one row? */
static int varies_in_batches(const double *x, const size_t *start, const size_t *idx,
                             size_t nbat)
{
    for (size_t b = 0; b < nbat; b++) {
        size_t nb = start[b + 1] - start[b];
        if (nb < 2) continue;
        double first = x[idx[start[b]]];
        int same = 1;
        for (size_t r = start[b] + 1; r < start[b + 1] && same; r++) same = x[idx[r]] == first;
        if (same) return 0;
    }
    return 1;
}

/*
 * Standardised values of one batch for the kept features, feature-major,
 * and their means and variances (gamma_hat relative to ref_gamma).
 */
static void batch_stats(const double *X, size_t n, const size_t *rows, size_t nb,
                        const size_t *feat, size_t m, const double *sm, const double *vp,
                        const double *ref_gamma, int mean_only, double *s, double *ghat,
                        double *dhat)
{
    for (size_t k = 0; k < m; k++) {
        size_t g = feat[k];
        double sd = sqrt(vp[g]);
        double *sk = s + k * nb;
        for (size_t j = 0; j < nb; j++) sk[j] = (X[g * n + rows[j]] - sm[g]) / sd;
        ghat[k] = mean_of(sk, nb) - (ref_gamma ? ref_gamma[g] : 0);
        dhat[k] = mean_only ? 1 : var_of(sk, nb);
    }
}

void sv_combat_opts_default(sv_combat_opts *o)
{
    o->mean_only = 0;
    o->ref = -1;
}

sv_status sv_combat_fit(const double *X, size_t n, size_t p, const int *batch, size_t n_batches,
                        const sv_combat_opts *opts, sv_combat **out, sv_err *err)
{
    *out = NULL;
    sv_combat_opts def;
    sv_combat_opts_default(&def);
    const sv_combat_opts *o = opts ? opts : &def;
    if (n_batches < 1) return sv_err_set(err, SV_EINVAL, "no batches");
    if (o->ref >= (int)n_batches) return sv_err_set(err, SV_EINVAL, "reference batch out of range");
    for (size_t i = 0; i < n; i++)
        if (batch[i] < 0 || (size_t)batch[i] >= n_batches)
            return sv_err_set(err, SV_EINVAL, "batch[%zu] is %d, not a batch code", i + 1, batch[i]);
    sv_status st = check_x(X, n, p, err);
    if (st) return st;
    size_t *start, *idx;
    if ((st = group_rows(batch, n, n_batches, &start, &idx, err))) return st;
    int mean_only = o->mean_only != 0;
    for (size_t b = 0; b < n_batches; b++) {
        size_t nb = start[b + 1] - start[b];
        if (nb == 0) {
            free(start);
            free(idx);
            return sv_err_set(err, SV_EINVAL, "batch %zu has no rows", b + 1);
        }
        if (nb == 1) mean_only = 1; /* as sva: a batch of one row has no variance */
    }
    if (o->ref >= 0 && start[o->ref + 1] - start[o->ref] < 2) {
        free(start);
        free(idx);
        return sv_err_set(err, SV_EINVAL,
                          "the reference batch has 1 row; its variance is the pooled one");
    }
    sv_combat *c = sv_calloc(1, sizeof *c);
    size_t *feat = sv_malloc(p ? p : 1, sizeof *feat);
    if (!c || !feat) goto nomem;
    c->p = p;
    c->n_batches = n_batches;
    c->ref = o->ref;
    c->mean_only = mean_only;
    c->kept = sv_calloc(p ? p : 1, 1);
    c->stand_mean = sv_calloc(p ? p : 1, sizeof(double));
    c->var_pooled = sv_calloc(p ? p : 1, sizeof(double));
    c->ref_gamma = sv_calloc(p ? p : 1, sizeof(double));
    c->gamma_star = sv_calloc(n_batches * (p ? p : 1), sizeof(double));
    c->delta_star = sv_calloc(n_batches * (p ? p : 1), sizeof(double));
    c->batch_n = sv_malloc(n_batches, sizeof(size_t));
    if (!c->kept || !c->stand_mean || !c->var_pooled || !c->ref_gamma || !c->gamma_star ||
        !c->delta_star || !c->batch_n)
        goto nomem;
    for (size_t b = 0; b < n_batches; b++) {
        c->batch_n[b] = start[b + 1] - start[b];
        for (size_t g = 0; g < p; g++) c->delta_star[b * p + g] = 1;
    }
    size_t m = 0;
    for (size_t g = 0; g < p; g++) {
        c->kept[g] = (unsigned char)varies_in_batches(X + g * n, start, idx, n_batches);
        if (c->kept[g]) feat[m++] = g;
    }
    if (m < 2) {
        sv_combat_free(c);
        free(feat);
        free(start);
        free(idx);
        return sv_err_set(err, SV_EINVAL,
                          "%zu feature%s vary inside every batch; the empirical Bayes priors are "
                          "estimated across features and need at least 2",
                          m, m == 1 ? "" : "s");
    }
    /* location and scale of each feature: batch means by least squares,
     * the grand mean (or the reference's), the pooled variance over N (or
     * over the reference's rows), as ComBat */
    for (size_t k = 0; k < m; k++) {
        size_t g = feat[k];
        const double *x = X + g * n;
        double grand = 0, ss = 0;
        double mref = 0;
        if (o->ref >= 0) {
            size_t r0 = start[o->ref], nr = start[o->ref + 1] - r0;
            for (size_t r = r0; r < r0 + nr; r++) mref += x[idx[r]];
            mref /= (double)nr;
            for (size_t r = r0; r < r0 + nr; r++) ss += (x[idx[r]] - mref) * (x[idx[r]] - mref);
            c->stand_mean[g] = mref;
            c->var_pooled[g] = ss / (double)nr;
        } else {
            for (size_t b = 0; b < n_batches; b++) {
                size_t nb = start[b + 1] - start[b];
                double mb = 0;
                for (size_t r = start[b]; r < start[b + 1]; r++) mb += x[idx[r]];
                mb /= (double)nb;
                grand += (double)nb / (double)n * mb;
                for (size_t r = start[b]; r < start[b + 1]; r++)
                    ss += (x[idx[r]] - mb) * (x[idx[r]] - mb);
            }
            c->stand_mean[g] = grand;
            c->var_pooled[g] = ss / (double)n;
        }
    }
    /* the reference's own mean standardised value (0 up to rounding),
     * which LS subtracts from the other batches' gamma_hat */
    size_t maxb = 0;
    for (size_t b = 0; b < n_batches; b++)
        if (c->batch_n[b] > maxb) maxb = c->batch_n[b];
    double *s = sv_malloc(maxb * m, sizeof *s);
    double *vec = sv_malloc(6 * m, sizeof *vec);
    if (!s || !vec) {
        free(s);
        free(vec);
        goto nomem;
    }
    double *ghat = vec, *dhat = vec + m, *gs = vec + 2 * m, *ds = vec + 3 * m, *work = vec + 4 * m;
    if (o->ref >= 0) {
        batch_stats(X, n, idx + start[o->ref], c->batch_n[o->ref], feat, m, c->stand_mean,
                    c->var_pooled, NULL, 1, s, ghat, dhat);
        for (size_t k = 0; k < m; k++) c->ref_gamma[feat[k]] = ghat[k];
    }
    for (size_t b = 0; b < n_batches; b++) {
        if ((int)b == o->ref) continue; /* gamma* = 0, delta* = 1 */
        batch_stats(X, n, idx + start[b], c->batch_n[b], feat, m, c->stand_mean, c->var_pooled,
                    o->ref >= 0 ? c->ref_gamma : NULL, mean_only, s, ghat, dhat);
        st = eb_batch(s, c->batch_n[b], m, ghat, dhat, mean_only, gs, ds, work, err);
        if (st) {
            free(s);
            free(vec);
            sv_combat_free(c);
            free(feat);
            free(start);
            free(idx);
            return st;
        }
        for (size_t k = 0; k < m; k++) {
            c->gamma_star[b * p + feat[k]] = gs[k];
            c->delta_star[b * p + feat[k]] = ds[k];
        }
    }
    free(s);
    free(vec);
    free(feat);
    free(start);
    free(idx);
    *out = c;
    return SV_OK;
nomem:
    sv_combat_free(c);
    free(feat);
    free(start);
    free(idx);
    return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows, %zu features)", n, p);
}

/* out = (s - gamma) / sqrt(delta) * sqrt(var_pooled) + stand_mean */
static double adjust(double x, double sm, double vp, double gamma, double delta)
{
    double sd = sqrt(vp);
    double s = (x - sm) / sd;
    return (s - gamma) / sqrt(delta) * sd + sm;
}

sv_status sv_combat_apply(const sv_combat *c, const double *X, size_t n, size_t p,
                          const int *batch, size_t n_new, double *out, sv_err *err)
{
    if (p != c->p)
        return sv_err_set(err, SV_EINVAL, "X has %zu columns, the harmonisation was fitted on %zu",
                          p, c->p);
    size_t nall = c->n_batches + n_new;
    for (size_t i = 0; i < n; i++)
        if (batch[i] < 0 || (size_t)batch[i] >= nall)
            return sv_err_set(err, SV_EINVAL, "batch[%zu] is %d, not a batch code", i + 1, batch[i]);
    if (n_new > 0 && c->ref < 0)
        return sv_err_set(err, SV_EINVAL,
                          "a batch never seen in fitting can be adjusted only onto a reference "
                          "batch (fit with a reference)");
    sv_status st = check_x(X, n, p, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)batch[i];
        if (b >= c->n_batches) continue;
        for (size_t g = 0; g < p; g++) {
            double x = X[g * n + i];
            out[g * n + i] = (!c->kept[g] || (int)b == c->ref)
                                 ? x
                                 : adjust(x, c->stand_mean[g], c->var_pooled[g],
                                          c->gamma_star[b * p + g], c->delta_star[b * p + g]);
        }
    }
    if (n_new == 0) return SV_OK;
    /* batches never seen: estimated from their own rows against the
     * frozen reference standardisation */
    size_t *start, *idx;
    if ((st = group_rows(batch, n, nall, &start, &idx, err))) return st;
    size_t maxb = 0;
    for (size_t b = c->n_batches; b < nall; b++)
        if (start[b + 1] - start[b] > maxb) maxb = start[b + 1] - start[b];
    size_t *feat = sv_malloc(p, sizeof *feat);
    double *s = sv_malloc(maxb * p + 1, sizeof *s);
    double *vec = sv_malloc(6 * p, sizeof *vec);
    if (!feat || !s || !vec) {
        free(feat);
        free(s);
        free(vec);
        free(start);
        free(idx);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    double *ghat = vec, *dhat = vec + p, *gs = vec + 2 * p, *ds = vec + 3 * p, *work = vec + 4 * p;
    for (size_t b = c->n_batches; b < nall && st == SV_OK; b++) {
        size_t nb = start[b + 1] - start[b];
        if (nb == 0) continue;
        const size_t *rows = idx + start[b];
        /* features that vary in this batch as in the fit; the others pass */
        size_t m = 0;
        for (size_t g = 0; g < p; g++) {
            if (!c->kept[g]) continue;
            int varies = nb < 2;
            for (size_t j = 1; j < nb && !varies; j++)
                varies = X[g * n + rows[j]] != X[g * n + rows[0]];
            if (varies) feat[m++] = g;
        }
        for (size_t j = 0; j < nb; j++)
            for (size_t g = 0; g < p; g++) out[g * n + rows[j]] = X[g * n + rows[j]];
        if (m < 2) {
            st = sv_err_set(err, SV_EINVAL,
                            "new batch %zu: %zu feature%s vary in its %zu rows; at least 2 are "
                            "needed",
                            b - c->n_batches + 1, m, m == 1 ? "" : "s", nb);
            break;
        }
        int mo = c->mean_only || nb == 1;
        batch_stats(X, n, rows, nb, feat, m, c->stand_mean, c->var_pooled, c->ref_gamma, mo, s,
                    ghat, dhat);
        st = eb_batch(s, nb, m, ghat, dhat, mo, gs, ds, work, err);
        if (st) break;
        for (size_t k = 0; k < m; k++) {
            size_t g = feat[k];
            for (size_t j = 0; j < nb; j++)
                out[g * n + rows[j]] =
                    adjust(X[g * n + rows[j]], c->stand_mean[g], c->var_pooled[g], gs[k], ds[k]);
        }
    }
    free(feat);
    free(s);
    free(vec);
    free(start);
    free(idx);
    return st;
}
