/*
 * surv_conc.c - Harrell's concordance index (Harrell et al. 1982, 1996)
 * for a risk score, with R's conventions (concordance(..., reverse = TRUE)):
 * tied risks count 1/2, pairs with tied event times are left out, and a
 * censoring tied with an event time counts as the longer survival.
 *
 * O(n log n) with sequential memory access (a Fenwick tree over a million
 * ranks is bound by cache misses): the subjects of a stratum are put in
 * the sequence
 *     time descending; at equal times censored first, then the events by
 *     risk descending,
 * so that for an event, the subjects before it in the sequence are exactly
 * those it is compared with (longer times, and censorings at its time),
 * plus the earlier events of its own time. The number of earlier subjects
 * with a lower risk (concordant pairs) comes from a bottom-up merge sort
 * of the risk ranks (Knight 1966's way of counting inversions); the number
 * with an equal risk from a running count per rank. Because the events of
 * one time are in decreasing risk, none of their mutual pairs counts as
 * concordant: they sit in the tied-risk (equal risks) and discordant
 * (others) counts, from which they are moved to tied_both and tied_time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_surv.h"

/*
 * below[k] = #{j < k : r[j] < r[k]} for the ranks r[0..m), by a bottom-up
 * merge sort on (rank, position) pairs. a and b are scratch of m pairs.
 */
typedef struct rank_pos {
    uint32_t rank, pos;
} rank_pos;

static void count_below(const uint32_t *r, size_t m, uint32_t *below,
                        rank_pos *a, rank_pos *b)
{
    for (size_t k = 0; k < m; k++) {
        a[k].rank = r[k];
        a[k].pos = (uint32_t)k;
        below[k] = 0;
    }
    for (size_t width = 1; width < m; width *= 2) {
        for (size_t lo = 0; lo < m; lo += 2 * width) {
            size_t mid = lo + width < m ? lo + width : m;
            size_t hi = lo + 2 * width < m ? lo + 2 * width : m;
            size_t i = lo, j = mid, o = lo;
            /* a left element goes first only when strictly smaller: then
             * a right element has passed exactly the left ones below it */
            while (i < mid && j < hi) {
                if (a[i].rank < a[j].rank) {
                    b[o++] = a[i++];
                } else {
                    below[a[j].pos] += (uint32_t)(i - lo);
                    b[o++] = a[j++];
                }
            }
            while (i < mid) b[o++] = a[i++];
            while (j < hi) {
                below[a[j].pos] += (uint32_t)(mid - lo);
                b[o++] = a[j++];
            }
        }
        rank_pos *t = a;
        a = b;
        b = t;
    }
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
    uint32_t *seq = sv_malloc(cap, sizeof *seq);
    uint32_t *rank = sv_malloc(cap, sizeof *rank);
    uint32_t *seqrank = sv_malloc(cap, sizeof *seqrank);
    uint32_t *below = sv_malloc(cap, sizeof *below);
    uint32_t *at_rank = sv_calloc(cap, sizeof *at_rank);
    rank_pos *ma = sv_malloc(cap, sizeof *ma);
    rank_pos *mb = sv_malloc(cap, sizeof *mb);
    if (!seq || !rank || !seqrank || !below || !at_rank || !ma || !mb) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    /* Dense ranks of the risk score (equal scores share a rank). */
    st = sv_surv_order(risk, NULL, 0, n, seq, err);
    if (st) goto done;
    uint32_t r = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && risk[seq[k]] != risk[seq[k - 1]]) r++;
        rank[seq[k]] = r;
    }
    /* The sequence, built by stable passes from the last key to the
     * first: risk descending (reverse of the ascending order), censored
     * first, time descending, stratum. */
    for (size_t k = 0; k < n / 2; k++) {
        uint32_t t = seq[k];
        seq[k] = seq[n - 1 - k];
        seq[n - 1 - k] = t;
    }
    {
        size_t nc = 0, o = 0;
        for (size_t k = 0; k < n; k++) nc += event[seq[k]] == 0;
        size_t oc = 0, oe = nc;
        for (size_t k = 0; k < n; k++) below[event[seq[k]] == 0 ? oc++ : oe++] = seq[k];
        memcpy(seq, below, n * sizeof *seq);
        (void)o;
    }
    st = sv_surv_reorder(time, 1, n, seq, err);
    if (st) goto done;
    if (strata) {
        size_t *count = sv_calloc((size_t)nstrata + 1, sizeof *count);
        if (!count) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
            goto done;
        }
        for (size_t k = 0; k < n; k++) count[strata[k] + 1]++;
        for (int g = 0; g < nstrata; g++) count[g + 1] += count[g];
        for (size_t k = 0; k < n; k++) below[count[strata[seq[k]]]++] = seq[k];
        memcpy(seq, below, n * sizeof *seq);
        free(count);
    }
    for (size_t k = 0; k < n; k++) seqrank[k] = rank[seq[k]];

    size_t start = 0;
    while (start < n) {
        size_t end = start + 1;
        if (strata)
            while (end < n && strata[seq[end]] == strata[seq[start]]) end++;
        else
            end = n;
        size_t m = end - start;
        count_below(seqrank + start, m, below + start, ma, mb);
        for (size_t k = start; k < end; k++) {
            uint32_t rk = seqrank[k];
            if (event[seq[k]] != 0) {
                double earlier = (double)(k - start), lower = below[k], same = at_rank[rk];
                out->concordant += lower;
                out->tied_risk += same;
                out->discordant += earlier - lower - same;
            }
            at_rank[rk]++;
        }
        /* the events of each time: their mutual pairs are tied in time */
        size_t k = start;
        while (k < end) {
            double t = time[seq[k]];
            size_t e0 = k;
            while (e0 < end && time[seq[e0]] == t && event[seq[e0]] == 0) e0++;
            size_t e1 = e0;
            while (e1 < end && time[seq[e1]] == t) e1++;
            double nd = (double)(e1 - e0), both = 0;
            for (size_t a = e0; a < e1;) { /* runs of equal risk */
                size_t b = a;
                while (b < e1 && seqrank[b] == seqrank[a]) b++;
                double run = (double)(b - a);
                both += run * (run - 1) / 2;
                a = b;
            }
            double pairs = nd * (nd - 1) / 2;
            out->tied_risk -= both;
            out->discordant -= pairs - both;
            out->tied_both += both;
            out->tied_time += pairs - both;
            k = e1;
        }
        if (end < n) /* clear the counts before the next stratum */
            for (size_t q = start; q < end; q++) at_rank[seqrank[q]] = 0;
        start = end;
    }
    double denom = out->concordant + out->discordant + out->tied_risk;
    out->concordance = denom > 0 ? (out->concordant + out->tied_risk / 2) / denom : NAN;

done:
    free(seq), free(rank), free(seqrank), free(below), free(at_rank), free(ma), free(mb);
    return st;
}
