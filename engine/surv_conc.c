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
 * below[k] = #{j < k : r[j] < r[k] and w[j]} for the ranks r[0..m) (w NULL:
 * every j counts), by a bottom-up merge sort on (rank, position, weight)
 * triples. a and b are scratch of m entries.
 */
typedef struct rank_pos {
    uint32_t rank, pos, w;
} rank_pos;

static void count_below(const uint32_t *r, const unsigned char *w, size_t m,
                        uint32_t *below, rank_pos *a, rank_pos *b)
{
    for (size_t k = 0; k < m; k++) {
        a[k].rank = r[k];
        a[k].pos = (uint32_t)k;
        a[k].w = w ? w[k] : 1;
        below[k] = 0;
    }
    for (size_t width = 1; width < m; width *= 2) {
        for (size_t lo = 0; lo < m; lo += 2 * width) {
            size_t mid = lo + width < m ? lo + width : m;
            size_t hi = lo + 2 * width < m ? lo + 2 * width : m;
            size_t i = lo, j = mid, o = lo;
            uint32_t passed = 0, left = 0;
            for (size_t q = lo; q < mid; q++) left += a[q].w;
            /* a left element goes first only when strictly smaller: then
             * a right element has passed exactly the left ones below it */
            while (i < mid && j < hi) {
                if (a[i].rank < a[j].rank) {
                    passed += a[i].w;
                    b[o++] = a[i++];
                } else {
                    below[a[j].pos] += passed;
                    b[o++] = a[j++];
                }
            }
            while (i < mid) b[o++] = a[i++];
            while (j < hi) {
                below[a[j].pos] += left;
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
    uint32_t *below2 = sv_malloc(cap, sizeof *below2);
    uint32_t *same1 = sv_malloc(cap, sizeof *same1);
    uint32_t *same2 = sv_malloc(cap, sizeof *same2);
    uint32_t *tot2 = sv_malloc(cap, sizeof *tot2);
    uint32_t *rev = sv_malloc(cap, sizeof *rev);
    unsigned char *wrev = sv_malloc(cap, 1);
    double *dN = sv_malloc(cap, sizeof *dN);
    double *dD = sv_malloc(cap, sizeof *dD);
    if (!seq || !rank || !seqrank || !below || !at_rank || !ma || !mb || !below2 || !same1 ||
        !same2 || !tot2 || !rev || !wrev || !dN || !dD) {
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
        size_t nc = 0;
        for (size_t k = 0; k < n; k++) nc += event[seq[k]] == 0;
        size_t oc = 0, oe = nc;
        for (size_t k = 0; k < n; k++) below[event[seq[k]] == 0 ? oc++ : oe++] = seq[k];
        memcpy(seq, below, n * sizeof *seq);
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

    uint32_t maxrank = r;
    size_t start = 0;
    while (start < n) {
        size_t end = start + 1;
        if (strata)
            while (end < n && strata[seq[end]] == strata[seq[start]]) end++;
        else
            end = n;
        size_t m = end - start;
        /* forward: lower-risk subjects before each position */
        count_below(seqrank + start, NULL, m, below + start, ma, mb);
        for (size_t k = start; k < end; k++) same1[k] = at_rank[seqrank[k]]++;
        for (size_t k = start; k < end; k++) at_rank[seqrank[k]] = 0;
        /* backward: higher-risk events after each position (ranks
         * mirrored so that "higher" becomes "lower") */
        for (size_t k = 0; k < m; k++) {
            size_t q = end - 1 - k;
            rev[start + k] = maxrank - seqrank[q];
            wrev[start + k] = event[seq[q]] != 0;
        }
        count_below(rev + start, wrev + start, m, below2 + start, ma, mb);
        uint32_t tot = 0;
        for (size_t q = end; q-- > start;) {
            uint32_t rk = seqrank[q];
            same2[q] = at_rank[rk];
            tot2[q] = tot;
            if (event[seq[q]] != 0) {
                at_rank[rk]++;
                tot++;
            }
        }
        for (size_t k = start; k < end; k++) at_rank[seqrank[k]] = 0;

        /* per time group: censored [g0, e0), events [e0, g1) in runs of
         * equal risk; pairs of events of one time are not comparable */
        size_t g0 = start;
        while (g0 < end) {
            double t = time[seq[g0]];
            size_t e0 = g0;
            while (e0 < end && time[seq[e0]] == t && event[seq[e0]] == 0) e0++;
            size_t g1 = e0;
            while (g1 < end && time[seq[g1]] == t) g1++;
            for (size_t k = g0; k < e0; k++) { /* censored: second member only */
                double c2 = below2[start + end - 1 - k], t2 = same2[k], d2 = tot2[k] - c2 - t2;
                dN[k] = c2 + t2 / 2;
                dD[k] = c2 + t2 + d2;
            }
            double nd = (double)(g1 - e0), both = 0;
            for (size_t ra = e0; ra < g1;) {
                size_t rb = ra;
                while (rb < g1 && seqrank[rb] == seqrank[ra]) rb++;
                double run = (double)(rb - ra);
                both += run * (run - 1) / 2;
                for (size_t k = ra; k < rb; k++) {
                    /* as the shorter time: earlier subjects, minus the
                     * earlier events of its time (equal: k - ra, higher:
                     * ra - e0) */
                    double c1 = below[k];
                    double t1 = (double)same1[k] - (double)(k - ra);
                    double d1 = (double)(k - start) - below[k] - same1[k] - (double)(ra - e0);
                    /* as the longer time: later events, minus the later
                     * events of its time (equal: rb - 1 - k, lower: g1 - rb) */
                    double c2 = below2[start + end - 1 - k];
                    double t2 = (double)same2[k] - (double)(rb - 1 - k);
                    double d2 = (double)tot2[k] - c2 - same2[k] - (double)(g1 - rb);
                    out->concordant += c1;
                    out->tied_risk += t1;
                    out->discordant += d1;
                    dN[k] = c1 + t1 / 2 + c2 + t2 / 2;
                    dD[k] = c1 + t1 + d1 + c2 + t2 + d2;
                }
                ra = rb;
            }
            double pairs = nd * (nd - 1) / 2;
            out->tied_both += both;
            out->tied_time += pairs - both;
            g0 = g1;
        }
        start = end;
    }
    double denom = out->concordant + out->discordant + out->tied_risk;
    out->concordance = denom > 0 ? (out->concordant + out->tied_risk / 2) / denom : NAN;
    /* infinitesimal jackknife: the derivative of C with respect to each
     * subject's weight, (dN_i - C dD_i) / D, squared and summed */
    double var = 0;
    if (denom > 0)
        for (size_t k = 0; k < n; k++) {
            double infl = (dN[k] - out->concordance * dD[k]) / denom;
            var += infl * infl;
        }
    out->var = denom > 0 ? var : NAN;

done:
    free(seq), free(rank), free(seqrank), free(below), free(at_rank), free(ma), free(mb);
    free(below2), free(same1), free(same2), free(tot2), free(rev), free(wrev), free(dN), free(dD);
    return st;
}

/* ---- Uno's concordance (timewt = "n/G2") ------------------------------- */

/* Fenwick tree of doubles over ranks 0..m-1. */
static void fw_add(double *f, size_t m, size_t r, double v)
{
    for (size_t i = r + 1; i <= m; i += i & (~i + 1)) f[i - 1] += v;
}

/* Sum over ranks 0..r-1. */
static double fw_sum(const double *f, size_t r)
{
    double s = 0;
    for (size_t i = r; i > 0; i -= i & (~i + 1)) s += f[i - 1];
    return s;
}

/*
 * With every pair weighted by w(T_i) of its earlier (event) member, the
 * counts and each subject's share are sums of weights, so the merge-sort
 * counting above (integer counts) gives way to two Fenwick trees over the
 * risk ranks: one walk in decreasing time (the subjects each event is
 * compared with: later times, and censorings at its time) for the event's
 * own counts; one in increasing time (the events each subject is compared
 * with: earlier events, and for a censoring the events at its time) for
 * the later member's share.
 */
sv_status sv_concordance_uno(const double *time, const double *event,
                             const double *risk, size_t n,
                             sv_concordance_result *out, sv_err *err)
{
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        if (isnan(risk[i])) return sv_err_set(err, SV_EINVAL, "risk[%zu] is NaN", i + 1);
    memset(out, 0, sizeof *out);
    size_t cap = n ? n : 1;
    uint32_t *ord = sv_malloc(cap, sizeof *ord), *rank = sv_malloc(cap, sizeof *rank);
    double *w = sv_malloc(cap, sizeof *w), *cnt = sv_malloc(cap, sizeof *cnt);
    double *fw = sv_malloc(cap, sizeof *fw), *fw2 = sv_malloc(cap, sizeof *fw2);
    double *Ic = sv_calloc(cap, sizeof *Ic), *Id = sv_calloc(cap, sizeof *Id);
    double *It = sv_calloc(cap, sizeof *It), *tc = sv_calloc(cap, sizeof *tc);
    if (!ord || !rank || !w || !cnt || !fw || !fw2 || !Ic || !Id || !It || !tc) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory (%zu subjects)", n);
        goto done;
    }
    /* dense ranks of the risk */
    if ((st = sv_surv_order(risk, NULL, 0, n, ord, err))) goto done;
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && risk[ord[k]] != risk[ord[k - 1]]) m++;
        rank[ord[k]] = (uint32_t)m;
    }
    m++;
    /* time order; G(T-) with the events leaving before the censorings */
    if ((st = sv_surv_order(time, NULL, 0, n, ord, err))) goto done;
    double nev = 0;
    for (size_t i = 0; i < n; i++) nev += event[i] != 0;
    {
        double g = 1;
        for (size_t a = 0; a < n;) {
            double u = time[ord[a]], d = 0, c = 0;
            size_t b = a;
            while (b < n && time[ord[b]] == u) {
                if (event[ord[b]] != 0) d++; else c++;
                b++;
            }
            /* fewer than 2 events: R falls back to timewt = "n" */
            for (size_t q = a; q < b; q++) w[ord[q]] = nev < 2 ? 1 : 1 / (g * g);
            if (c > 0) g *= 1 - c / ((double)(n - a) - d);
            a = b;
        }
    }
    /* decreasing time: the event's own counts. At a time, the censorings
     * enter the tree before the events are counted, then the events. */
    for (size_t k = 0; k < m; k++) fw[k] = 0, cnt[k] = 0;
    double inserted = 0;
    for (size_t b = n; b > 0;) {
        double u = time[ord[b - 1]];
        size_t a = b;
        while (a > 0 && time[ord[a - 1]] == u) a--;
        for (size_t q = a; q < b; q++)
            if (event[ord[q]] == 0) fw_add(fw, m, rank[ord[q]], 1), cnt[rank[ord[q]]]++, inserted++;
        for (size_t q = a; q < b; q++) {
            size_t i = ord[q];
            if (event[i] == 0) continue;
            double lower = fw_sum(fw, rank[i]), tied = cnt[rank[i]];
            double higher = inserted - lower - tied;
            Ic[i] += w[i] * lower, Id[i] += w[i] * higher, It[i] += w[i] * tied;
            out->concordant += w[i] * lower;
            out->discordant += w[i] * higher;
            out->tied_risk += w[i] * tied;
        }
        /* pairs of events at this time are tied in time (weighted once):
         * tied_both those with equal risks, counted through tc by rank */
        double ne = 0, both = 0;
        for (size_t q = a; q < b; q++) {
            size_t i = ord[q];
            if (event[i] == 0) continue;
            ne++;
            both += tc[rank[i]]++;
        }
        for (size_t q = a; q < b; q++) tc[rank[ord[q]]] = 0;
        if (ne > 1) {
            out->tied_both += w[ord[a]] * both;
            out->tied_time += w[ord[a]] * (ne * (ne - 1) / 2 - both);
        }
        for (size_t q = a; q < b; q++)
            if (event[ord[q]] != 0) fw_add(fw, m, rank[ord[q]], 1), cnt[rank[ord[q]]]++, inserted++;
        b = a;
    }
    /* increasing time: each subject's share as the later member. fw2 holds
     * the weights of the earlier events by rank (cnt their tied sums). */
    for (size_t k = 0; k < m; k++) fw2[k] = 0, cnt[k] = 0;
    double wsum = 0;
    for (size_t a = 0; a < n;) {
        double u = time[ord[a]];
        size_t b = a;
        while (b < n && time[ord[b]] == u) b++;
        for (size_t q = a; q < b; q++) {
            size_t i = ord[q];
            if (event[i] == 0) continue;
            double below = fw_sum(fw2, rank[i]), tied = cnt[rank[i]];
            /* earlier events with a higher risk are concordant with i */
            Ic[i] += wsum - below - tied, Id[i] += below, It[i] += tied;
        }
        for (size_t q = a; q < b; q++) {
            size_t i = ord[q];
            if (event[i] == 0) continue;
            fw_add(fw2, m, rank[i], w[i]), cnt[rank[i]] += w[i], wsum += w[i];
        }
        for (size_t q = a; q < b; q++) {
            size_t i = ord[q];
            if (event[i] != 0) continue;
            double below = fw_sum(fw2, rank[i]), tied = cnt[rank[i]];
            Ic[i] += wsum - below - tied, Id[i] += below, It[i] += tied;
        }
        a = b;
    }
    double denom = out->concordant + out->discordant + out->tied_risk;
    out->concordance = denom > 0 ? (out->concordant + out->tied_risk / 2) / denom : NAN;
    double var = 0;
    if (denom > 0)
        for (size_t i = 0; i < n; i++) {
            double infl = (Ic[i] + It[i] / 2 - out->concordance * (Ic[i] + Id[i] + It[i])) / denom;
            var += infl * infl;
        }
    out->var = denom > 0 ? var : NAN;
done:
    free(ord), free(rank), free(w), free(cnt), free(fw), free(fw2), free(Ic), free(Id), free(It), free(tc);
    return st;
}
