/*
 * sort.c - see sv_sort.h.
 *
 * Eight passes of 8 bits, every histogram counted in one read of the
 * keys, and the passes whose digit is the same for every key skipped
 * (scores and times usually share their top bytes).
 */
#include "sv_sort.h"

#include <stdlib.h>
#include <string.h>

uint64_t sv_sort_key(double v)
{
    if (v == 0) v = 0.0; /* -0.0 sorts with 0.0 */
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u & UINT64_C(0x8000000000000000)) ? ~u : (u | UINT64_C(0x8000000000000000));
}

sv_status sv_sort_order(const double *key, size_t n, int descending, int identity,
                        uint32_t *perm, uint64_t *sorted, sv_err *err)
{
    if (n >= (size_t)UINT32_MAX) return sv_err_set(err, SV_EINVAL, "too many rows to sort (%zu)", n);
    uint64_t *k0 = sv_malloc(n ? n : 1, sizeof *k0);
    uint64_t *k1 = sv_malloc(n ? n : 1, sizeof *k1);
    uint32_t *p1 = sv_malloc(n ? n : 1, sizeof *p1);
    size_t(*hist)[256] = sv_calloc(8, sizeof *hist);
    if (!k0 || !k1 || !p1 || !hist) {
        free(k0), free(k1), free(p1), free(hist);
        return sv_err_set(err, SV_ENOMEM, "out of memory sorting %zu values", n);
    }
    for (size_t i = 0; i < n; i++) {
        if (identity) perm[i] = (uint32_t)i;
        uint64_t u = sv_sort_key(key[perm[i]]);
        if (descending) u = ~u;
        k0[i] = u;
        for (int b = 0; b < 8; b++) hist[b][(u >> (8 * b)) & 0xff]++;
    }
    uint64_t *ks = k0, *kd = k1;
    uint32_t *ps = perm, *pd = p1;
    for (int b = 0; b < 8; b++) {
        if (n == 0 || hist[b][(ks[0] >> (8 * b)) & 0xff] == n) continue; /* one digit for all */
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
    if (ps != perm) memcpy(perm, ps, n * sizeof *perm);
    if (sorted && n) memcpy(sorted, ks, n * sizeof *sorted);
    free(k0), free(k1), free(p1), free(hist);
    return SV_OK;
}

sv_status sv_order_doubles(const double *x, size_t n, uint32_t *order, sv_err *err)
{
    return sv_sort_order(x, n, 0, 1, order, NULL, err);
}
