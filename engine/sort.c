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

/* ---- 64-bit keys of the tree grower (sv_sort.h) ---------------------- */

static void insertion_sort_u64(uint64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Quicksort with median-of-three pivots, recursing into the smaller part
 * (stack depth O(log n)). Keys are distinct, so both parts are never
 * empty. */
void sv_sort_u64(uint64_t *a, size_t n)
{
    while (n > 24) {
        uint64_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint64_t piv = x < y ? (y < z ? y : (x < z ? z : x))
                             : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < piv) i++;
            while (a[j] > piv) j--;
            if (i >= j) break;
            uint64_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        /* [0, j] <= piv <= [j + 1, n) */
        size_t nl = j + 1, nr = n - nl;
        if (nl < nr) {
            sv_sort_u64(a, nl);
            a += nl;
            n = nr;
        } else {
            sv_sort_u64(a + nl, nr);
            n = nl;
        }
    }
    insertion_sort_u64(a, n);
}

void sv_sort_u64_codes(uint64_t *a, uint64_t *tmp, size_t n, int code_bits, int digit)
{
    uint64_t *src = a, *dst = tmp;
    uint32_t cnt[1u << 11];
    const uint64_t mask = ((uint64_t)1 << digit) - 1;
    for (int shift = 32; shift < 32 + code_bits; shift += digit) {
        memset(cnt, 0, (mask + 1) * sizeof cnt[0]);
        for (size_t i = 0; i < n; i++) cnt[(src[i] >> shift) & mask]++;
        uint32_t sum = 0;
        for (size_t d = 0; d <= mask; d++) {
            uint32_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[(src[i] >> shift) & mask]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}
