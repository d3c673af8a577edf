/*
 * surv_logrank.c - the log-rank test (Mantel 1966; Peto & Peto 1972) and
 * the G-rho family of Harrington & Fleming (1982), as R's survdiff.
 *
 * At each distinct event time t within a stratum, with n subjects at risk
 * (n_j in group j), d events (d_j in group j) and weight w = S(t-)^rho
 * (S the Kaplan-Meier of the stratum, all groups pooled):
 *   O_j += w d_j,   E_j += w d n_j / n,
 *   V_jk += w^2 d (n - d) / (n - 1) * n_j / n * (delta_jk - n_k / n)
 * (the hypergeometric covariance of the events among the groups).
 * O, E and V are summed over strata; the statistic is (O - E)' V^- (O - E)
 * on the groups with E > 0, dropping the first of them (V's rows sum to
 * zero), with df = (groups with E > 0) - 1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_surv.h"
#include "sv_dist.h"

sv_status sv_surv_quadform(double *V, double *x, int m, double *value,
                           sv_err *err)
{
    /* Gaussian elimination with partial pivoting on [V | x], then
     * value = x' V^-1 x with the original x (kept in b). */
    double *b = sv_malloc((size_t)m ? (size_t)m : 1, sizeof *b);
    if (!b) return sv_err_set(err, SV_ENOMEM, "out of memory");
    memcpy(b, x, (size_t)m * sizeof *b);
    double scale = 0;
    for (int i = 0; i < m * m; i++) scale = fmax(scale, fabs(V[i]));
    for (int c = 0; c < m; c++) {
        int piv = c;
        for (int r = c + 1; r < m; r++)
            if (fabs(V[c * m + r]) > fabs(V[c * m + piv])) piv = r;
        if (!(fabs(V[c * m + piv]) > scale * 1e-14)) {
            free(b);
            return sv_err_set(err, SV_ENUM,
                              "the variance matrix of the test is singular");
        }
        if (piv != c) {
            for (int j = 0; j < m; j++) {
                double t = V[j * m + c];
                V[j * m + c] = V[j * m + piv];
                V[j * m + piv] = t;
            }
            double t = x[c]; x[c] = x[piv]; x[piv] = t;
        }
        for (int r = c + 1; r < m; r++) {
            double f = V[c * m + r] / V[c * m + c];
            if (f == 0) continue;
            for (int j = c; j < m; j++) V[j * m + r] -= f * V[j * m + c];
            x[r] -= f * x[c];
        }
    }
    for (int r = m - 1; r >= 0; r--) {
        double s = x[r];
        for (int j = r + 1; j < m; j++) s -= V[j * m + r] * x[j];
        x[r] = s / V[r * m + r];
    }
    double q = 0;
    for (int i = 0; i < m; i++) q += b[i] * x[i];
    free(b);
    *value = q;
    return SV_OK;
}

void sv_logrank_opts_default(sv_logrank_opts *opts)
{
    opts->rho = 0;
}

sv_status sv_logrank(const double *time, const double *event,
                     const int *group, int k, const int *strata, int nstrata,
                     size_t n, const sv_logrank_opts *opts,
                     sv_logrank_result *out, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    if (k < 1) return sv_err_set(err, SV_EINVAL, "no groups");
    if (k > SV_LOGRANK_MAX_GROUPS)
        return sv_err_set(err, SV_EINVAL, "%d groups (at most %d)", k, SV_LOGRANK_MAX_GROUPS);
    for (size_t i = 0; i < n; i++) {
        if (group[i] < 0 || group[i] >= k)
            return sv_err_set(err, SV_EINVAL, "group[%zu] code out of range", i + 1);
        if (strata && (strata[i] < 0 || strata[i] >= nstrata))
            return sv_err_set(err, SV_EINVAL, "strata[%zu] code out of range", i + 1);
    }
    double rho = opts ? opts->rho : 0;
    if (!(rho >= 0)) return sv_err_set(err, SV_EINVAL, "rho must be >= 0, got %g", rho);
    size_t kk = (size_t)k;
    /* Scratch: the sort, per-group at-risk and event counts, the groups
     * touched at the current time. */
    uint32_t *perm = sv_malloc(n ? n : 1, sizeof *perm);
    double *risk = sv_calloc(kk, sizeof *risk);
    double *dead = sv_calloc(kk, sizeof *dead);
    int *present = sv_calloc(kk, sizeof *present);
    double *ovec = sv_malloc(kk, sizeof *ovec);
    double *vsub = sv_malloc(kk * kk, sizeof *vsub);
    if (!perm || !risk || !dead || !present || !ovec || !vsub) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    st = sv_surv_order(time, strata, nstrata, n, perm, err);
    if (st) goto done;

    memset(out->observed, 0, kk * sizeof *out->observed);
    memset(out->expected, 0, kk * sizeof *out->expected);
    memset(out->var, 0, kk * kk * sizeof *out->var);
    int ngroups_present = 0;
    for (size_t i = 0; i < n; i++) {
        if (!present[group[i]]) ngroups_present++;
        present[group[i]] = 1;
    }
    if (ngroups_present < 2) {
        st = sv_err_set(err, SV_EINVAL, "there is only 1 group");
        goto done;
    }

    size_t start = 0;
    while (start < n) {
        /* One stratum: perm[start, end). */
        size_t end = start + 1;
        if (strata)
            while (end < n && strata[perm[end]] == strata[perm[start]]) end++;
        else
            end = n;
        memset(risk, 0, kk * sizeof *risk);
        for (size_t i = start; i < end; i++) risk[group[perm[i]]] += 1;
        double nrisk = (double)(end - start), km = 1.0;
        size_t i = start;
        while (i < end) {
            double t = time[perm[i]];
            size_t j = i;
            double d = 0;
            while (j < end && time[perm[j]] == t) {
                if (event[perm[j]] != 0) {
                    dead[group[perm[j]]] += 1;
                    d += 1;
                }
                j++;
            }
            if (d > 0) {
                double w = rho == 0 ? 1.0 : pow(km, rho);
                for (size_t g = 0; g < kk; g++) {
                    out->observed[g] += w * dead[g];
                    out->expected[g] += w * d * risk[g] / nrisk;
                }
                if (nrisk > 1) {
                    double f = w * w * d * (nrisk - d) / (nrisk - 1);
                    for (size_t g = 0; g < kk; g++) {
                        if (risk[g] == 0) continue;
                        double fg = f * risk[g] / nrisk;
                        out->var[g * kk + g] += fg;
                        for (size_t h = 0; h < kk; h++)
                            out->var[h * kk + g] -= fg * risk[h] / nrisk;
                    }
                }
                km *= (nrisk - d) / nrisk;
                memset(dead, 0, kk * sizeof *dead);
            }
            for (size_t r = i; r < j; r++) risk[group[perm[r]]] -= 1;
            nrisk -= (double)(j - i);
            i = j;
        }
        start = end;
    }

    /* Chi-square on the groups with E > 0, the first of them dropped. */
    int m = 0, first = -1;
    int *keep = present; /* reuse: indices of groups with E > 0 */
    for (int g = 0; g < k; g++) {
        if (out->expected[g] > 0) {
            if (first < 0) first = g;
            else keep[m++] = g;
        }
    }
    out->df = first < 0 ? 0 : m;
    if (m < 1) {
        out->chisq = 0;
    } else {
        for (int a = 0; a < m; a++) {
            ovec[a] = out->observed[keep[a]] - out->expected[keep[a]];
            for (int b = 0; b < m; b++)
                vsub[b * m + a] = out->var[(size_t)keep[b] * kk + (size_t)keep[a]];
        }
        st = sv_surv_quadform(vsub, ovec, m, &out->chisq, err);
        if (st) goto done;
    }
    out->p = sv_pchisq(out->chisq, (double)out->df, 0);

done:
    free(perm), free(risk), free(dead), free(present), free(ovec), free(vsub);
    return st;
}

sv_status sv_logrank_pairwise(const double *time, const double *event,
                              const int *group, int k, const int *strata,
                              int nstrata, size_t n,
                              const sv_logrank_opts *opts, sv_padjust adjust,
                              double *chisq, double *p, double *p_adj,
                              sv_err *err)
{
    if (k < 2) return sv_err_set(err, SV_EINVAL, "there is only 1 group");
    if (k > SV_PAIRWISE_MAX_GROUPS)
        return sv_err_set(err, SV_EINVAL, "%d groups (at most %d for pairwise tests)", k,
                          SV_PAIRWISE_MAX_GROUPS);
    for (size_t i = 0; i < n; i++)
        if (group[i] < 0 || group[i] >= k)
            return sv_err_set(err, SV_EINVAL, "group[%zu] code out of range", i + 1);
    sv_status st = SV_OK;
    double *sub_t = sv_malloc(n ? n : 1, sizeof *sub_t);
    double *sub_e = sv_malloc(n ? n : 1, sizeof *sub_e);
    int *sub_g = sv_malloc(n ? n : 1, sizeof *sub_g);
    int *sub_s = strata ? sv_malloc(n ? n : 1, sizeof *sub_s) : NULL;
    if (!sub_t || !sub_e || !sub_g || (strata && !sub_s)) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    double rb[8]; /* observed (2), expected (2), var (2 x 2) */
    sv_logrank_result r = {0, 0, 0, rb, rb + 2, rb + 4};
    size_t q = 0;
    for (int a = 0; a < k; a++) {
        for (int b = a + 1; b < k; b++, q++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                if (group[i] != a && group[i] != b) continue;
                sub_t[m] = time[i];
                sub_e[m] = event[i];
                sub_g[m] = group[i] == a ? 0 : 1;
                if (strata) sub_s[m] = strata[i];
                m++;
            }
            st = sv_logrank(sub_t, sub_e, sub_g, 2, sub_s, nstrata, m, opts, &r, err);
            if (st) goto done;
            chisq[q] = r.chisq;
            p[q] = r.df < 1 ? NAN : r.p;
        }
    }
    st = sv_p_adjust(p, q, adjust, p_adj, err);
done:
    free(sub_t), free(sub_e), free(sub_g), free(sub_s);
    return st;
}
