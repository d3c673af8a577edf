/*
 * rng.c - xoshiro256** with splitmix64 seeding; see sv_rng.h.
 */
#include "sv_rng.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void sv_rng_init(sv_rng *r, uint64_t seed, uint64_t stream)
{
    /* Mix seed and stream through two splitmix rounds so that nearby
     * (seed, stream) pairs give unrelated states. */
    uint64_t x = seed;
    uint64_t a = splitmix64(&x);
    uint64_t y = stream ^ 0x6A09E667F3BCC909ull;
    uint64_t b = splitmix64(&y);
    uint64_t z = a ^ rotl(b, 17) ^ (b * 0x9E3779B97F4A7C15ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&z);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1;
    r->has_spare = 0;
    r->spare = 0.0;
}

uint64_t sv_rng_u64(sv_rng *r)
{
    return sv_rng_u64_inline(r);
}

double sv_rng_uniform(sv_rng *r)
{
    return (double)(sv_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t sv_rng_below(sv_rng *r, uint64_t n)
{
    return sv_rng_below_inline(r, n);
}

double sv_portable_log(double x)
{
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s),
     * s = (m - 1) / (m + 1), |s| < 0.1716: the odd series converges to
     * double precision within 12 terms. */
    static const double ln2_hi = 6.93147180369123816490e-01;
    static const double ln2_lo = 1.90821492927058770002e-10;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff);
    if (e == 0) { /* subnormal: scale up */
        x *= 0x1.0p54;
        memcpy(&bits, &x, sizeof bits);
        e = (int)((bits >> 52) & 0x7ff) - 54;
    }
    e -= 1023;
    bits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e += 1;
    }
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double s2 = s * s;
    double term = s2, sum = 0.0;
    for (int k = 3; k <= 27; k += 2) {
        sum += term / (double)k;
        term *= s2;
    }
    /* Direct form: log m = 2 s (1 + s^2/3 + s^4/5 + ...). */
    double lm = 2.0 * s + 2.0 * s * sum;
    return (double)e * ln2_hi + (lm + (double)e * ln2_lo);
}

double sv_rng_normal(sv_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, q;
    do {
        u = 2.0 * sv_rng_uniform(r) - 1.0;
        v = 2.0 * sv_rng_uniform(r) - 1.0;
        q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    /* sqrt is an IEEE-754 basic operation (correctly rounded), so this
     * is portable; log is ours. */
    double f = __builtin_sqrt(-2.0 * sv_portable_log(q) / q);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

void sv_rng_shuffle_u32(sv_rng *r, uint32_t *a, size_t n)
{
    sv_rng_partial_shuffle_u32(r, a, n, n);
}

void sv_rng_partial_shuffle_u32(sv_rng *r, uint32_t *a, size_t n, size_t k)
{
    if (k > n) k = n;
    for (size_t i = 0; i < k && i + 1 < n; i++) {
        size_t j = i + (size_t)sv_rng_below(r, (uint64_t)(n - i));
        uint32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
