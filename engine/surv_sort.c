/*
 * surv_sort.c - input validation and the one sort of each survival call.
 *
 * The order is an LSD radix sort on the IEEE-754 bit patterns mapped to
 * unsigned integers that compare like the doubles (negative numbers: all
 * bits flipped; others: the sign bit set). Eight passes of 8 bits, with
 * every histogram counted in one read of the keys and the passes whose
 * digit is the same for every key skipped (times share their top bytes).
 * Stable, so ties keep their input order, and O(n).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_surv.h"

sv_status sv_surv_check(const double *time, const double *event, size_t n,
                        sv_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!(time[i] > 0) || !isfinite(time[i]))
            return sv_err_set(err, SV_EINVAL,
                              "time[%zu] is %g; times must be finite and > 0",
                              i + 1, time[i]);
        if (!(event[i] == 0 || event[i] == 1))
            return sv_err_set(err, SV_EINVAL,
                              "event[%zu] is %g; events must be 0 (censored) or 1",
                              i + 1, event[i]);
    }
    return SV_OK;
}

static uint64_t sortable_bits(double x)
{
    uint64_t u;
    x += 0.0; /* -0.0 becomes +0.0 so that the two compare equal */
    memcpy(&u, &x, sizeof u);
    return (u & UINT64_C(0x8000000000000000)) ? ~u : (u | UINT64_C(0x8000000000000000));
}

static sv_status order_impl(const double *key, int descending,
                            const int *within, int nwithin, size_t n,
                            uint32_t *perm, int identity, sv_err *err)
{
    if (n > UINT32_MAX)
        return sv_err_set(err, SV_EINVAL, "too many subjects (%zu)", n);
    uint64_t *k0 = sv_malloc(n ? n : 1, sizeof *k0);
    uint64_t *k1 = sv_malloc(n ? n : 1, sizeof *k1);
    uint32_t *p1 = sv_malloc(n ? n : 1, sizeof *p1);
    size_t(*hist)[256] = sv_calloc(8, sizeof *hist);
    if (!k0 || !k1 || !p1 || !hist) {
        free(k0), free(k1), free(p1), free(hist);
        return sv_err_set(err, SV_ENOMEM, "out of memory sorting %zu times", n);
    }
    for (size_t i = 0; i < n; i++) {
        if (identity) perm[i] = (uint32_t)i;
        uint64_t u = sortable_bits(key[perm[i]]);
        if (descending) u = ~u;
        k0[i] = u;
        for (int b = 0; b < 8; b++) hist[b][(u >> (8 * b)) & 0xff]++;
    }
    uint64_t *ks = k0, *kd = k1;
    uint32_t *ps = perm, *pd = p1;
    for (int b = 0; b < 8; b++) {
        int trivial = 0;
        for (int d = 0; d < 256; d++)
            if (hist[b][d] == n) trivial = 1;
        if (trivial) continue;
        size_t pos[256], acc = 0;
        for (int d = 0; d < 256; d++) {
            pos[d] = acc;
            acc += hist[b][d];
        }
        int shift = 8 * b;
        for (size_t i = 0; i < n; i++) {
            size_t at = pos[(ks[i] >> shift) & 0xff]++;
            kd[at] = ks[i];
            pd[at] = ps[i];
        }
        uint64_t *tk = ks; ks = kd; kd = tk;
        uint32_t *tp = ps; ps = pd; pd = tp;
    }
    if (within) {
        /* Stable counting pass by the code: (within, key) order. */
        size_t *count = sv_calloc((size_t)nwithin + 1, sizeof *count);
        if (!count) {
            free(k0), free(k1), free(p1), free(hist);
            return sv_err_set(err, SV_ENOMEM, "out of memory sorting %zu times", n);
        }
        for (size_t i = 0; i < n; i++) count[within[i] + 1]++;
        for (int g = 0; g < nwithin; g++) count[g + 1] += count[g];
        for (size_t i = 0; i < n; i++) pd[count[within[ps[i]]]++] = ps[i];
        free(count);
        uint32_t *tp = ps; ps = pd; pd = tp;
    }
    if (ps != perm) memcpy(perm, ps, n * sizeof *perm);
    free(k0), free(k1), free(p1), free(hist);
    return SV_OK;
}

sv_status sv_surv_order(const double *key, const int *within, int nwithin,
                        size_t n, uint32_t *perm, sv_err *err)
{
    return order_impl(key, 0, within, nwithin, n, perm, 1, err);
}

sv_status sv_surv_reorder(const double *key, int descending, size_t n,
                          uint32_t *perm, sv_err *err)
{
    return order_impl(key, descending, NULL, 0, n, perm, 0, err);
}
