/*
 * surv_conc.c - Harrell's concordance index (Harrell et al. 1982, 1996)
 * for a risk score, with R's conventions (concordance(..., reverse = TRUE)):
 * tied risks count 1/2, pairs with tied event times are left out, and a
 * censoring tied with an event time counts as the longer survival.
 *
 * O(n log n): subjects are visited by decreasing time; a Fenwick tree over
 * the ranks of the risk score holds everyone with a longer time (and the
 * censorings at the current time), so each event reads how many of them
 * have a lower, equal or higher risk in O(log n).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_surv.h"

static void fenwick_add(double *tree, size_t size, size_t pos, double v)
{
    for (size_t i = pos + 1; i <= size; i += i & (~i + 1)) tree[i - 1] += v;
}

/* Sum of entries [0, pos). */
static double fenwick_prefix(const double *tree, size_t pos)
{
    double s = 0;
    for (size_t i = pos; i > 0; i -= i & (~i + 1)) s += tree[i - 1];
    return s;
}

sv_status sv_concordance(const double *time, const double *event,
                         const double *risk, const int *strata, int nstrata,
                         size_t n, sv_concordance_result *out, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        if (isnan(risk[i]))
            return sv_err_set(err, SV_EINVAL, "risk[%zu] is NaN", i + 1);
    memset(out, 0, sizeof *out);
    size_t cap = n ? n : 1;
    uint32_t *order = sv_malloc(cap, sizeof *order);
    uint32_t *rorder = sv_malloc(cap, sizeof *rorder);
    uint32_t *rank = sv_malloc(cap, sizeof *rank);
    double *tree = sv_calloc(cap, sizeof *tree);
    double *tied_base = sv_malloc(cap, sizeof *tied_base);
    if (!order || !rorder || !rank || !tree || !tied_base) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    /* Dense ranks of the risk score (equal scores share a rank). */
    st = sv_surv_order(risk, NULL, 0, n, rorder, err);
    if (st) goto done;
    size_t nrank = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && risk[rorder[i]] != risk[rorder[i - 1]]) nrank++;
        rank[rorder[i]] = (uint32_t)nrank;
    }
    nrank = n ? nrank + 1 : 0;
    st = sv_surv_order(time, strata, nstrata, n, order, err);
    if (st) goto done;

    size_t end = n;
    while (end > 0) {
        /* One stratum: order[start, end), visited backwards. */
        size_t start = end - 1;
        if (strata)
            while (start > 0 && strata[order[start - 1]] == strata[order[end - 1]]) start--;
        else
            start = 0;
        double inserted = 0;
        size_t j = end;
        while (j > start) {
            double t = time[order[j - 1]];
            size_t lo = j;
            while (lo > start && time[order[lo - 1]] == t) lo--;
            /* censorings at t are comparable to the events at t */
            for (size_t r = lo; r < j; r++)
                if (event[order[r]] == 0) {
                    fenwick_add(tree, nrank, rank[order[r]], 1.0);
                    inserted += 1;
                }
            double nevent = 0;
            for (size_t r = lo; r < j; r++) {
                if (event[order[r]] == 0) continue;
                size_t rk = rank[order[r]];
                double below = fenwick_prefix(tree, rk);
                double upto = fenwick_prefix(tree, rk + 1);
                out->concordant += below;
                out->tied_risk += upto - below;
                out->discordant += inserted - upto;
                tied_base[r] = upto - below;
                nevent += 1;
            }
            /* the events at t, inserted one by one: each sees the earlier
             * ones of its time; equal ranks among them are tied in both */
            double tied_both = 0;
            for (size_t r = lo; r < j; r++)
                if (event[order[r]] != 0) {
                    size_t rk = rank[order[r]];
                    tied_both += fenwick_prefix(tree, rk + 1) - fenwick_prefix(tree, rk) - tied_base[r];
                    fenwick_add(tree, nrank, rk, 1.0);
                    inserted += 1;
                }
            out->tied_both += tied_both;
            out->tied_time += nevent * (nevent - 1) / 2 - tied_both;
            j = lo;
        }
        /* empty the tree for the next stratum, touching only what was set */
        for (size_t r = start; r < end; r++) fenwick_add(tree, nrank, rank[order[r]], -1.0);
        end = start;
    }
    double denom = out->concordant + out->discordant + out->tied_risk;
    out->concordance = denom > 0 ? (out->concordant + out->tied_risk / 2) / denom : NAN;

done:
    free(order), free(rorder), free(rank), free(tree), free(tied_base);
    return st;
}
