/*
 * sv_rng.h - the one random number generator of sylva.
 *
 * xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64. A stream
 * is identified by (seed, stream): each tree, bootstrap replicate or fold
 * derives its own generator from its index, so results never depend on how
 * work is spread over threads. Only integer arithmetic and IEEE-754 basic
 * operations are used (the normal deviates use a log written here, not
 * libm's), so every x86-64 and arm64 machine draws the same numbers; the
 * build disables floating-point contraction to keep it so.
 */
#ifndef SV_RNG_H
#define SV_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_rng {
    uint64_t s[4];
    int has_spare;   /* a second normal deviate is cached */
    double spare;
} sv_rng;

/* Initialise the generator for (seed, stream). Any 64-bit values. */
void sv_rng_init(sv_rng *r, uint64_t seed, uint64_t stream);
/* Next raw 64-bit output. */
uint64_t sv_rng_u64(sv_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double sv_rng_uniform(sv_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire 2019); n >= 1. */
uint64_t sv_rng_below(sv_rng *r, uint64_t n);

/* The same two as inline functions, for the hot loops that draw once per
 * row (a tree's bootstrap); the functions above are these. */
static inline uint64_t sv_rng_u64_inline(sv_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

static inline uint64_t sv_rng_below_inline(sv_rng *r, uint64_t n)
{
    /* Lemire's nearly divisionless method: multiply, reject the few
     * low products that would bias the result. */
    unsigned __int128 m = (unsigned __int128)sv_rng_u64_inline(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t thresh = (0 - n) % n;
        while (lo < thresh) {
            m = (unsigned __int128)sv_rng_u64_inline(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}
/* Standard normal deviate (Marsaglia polar method). */
double sv_rng_normal(sv_rng *r);
/* Fisher-Yates shuffle of a[0..n). */
void sv_rng_shuffle_u32(sv_rng *r, uint32_t *a, size_t n);
/*
 * Draws k distinct values of a[0..n) into a[0..k) by a partial Fisher-Yates
 * shuffle (order is the draw order). a is permuted in place; k <= n.
 */
void sv_rng_partial_shuffle_u32(sv_rng *r, uint32_t *a, size_t n, size_t k);

/* Natural logarithm from basic arithmetic only, correct to about 1 ulp,
 * for x > 0 finite. Exposed so that tests can check it against libm. */
double sv_portable_log(double x);

#ifdef __cplusplus
}
#endif
#endif
