/*
 * sv_sort.h - the engine's one ordering of doubles: a stable LSD radix
 * sort on the IEEE-754 bit patterns, O(n). ROC/AUC, ranks and every
 * survival call sort through it.
 */
#ifndef SV_SORT_H
#define SV_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "sv_core.h"

/* Maps a double to an unsigned key that compares as the double does
 * (-0.0 as 0.0; NaN has no place in the order and must not be passed). */
uint64_t sv_sort_key(double v);

/*
 * Stably orders perm[0..n) by key[perm[i]], ascending or descending (ties
 * keep their current order). With identity set, perm is first filled with
 * 0..n-1, so the result is the order of key itself. When sorted is not
 * NULL it receives the sort keys in the final order (sv_sort_key values,
 * complemented when descending): equal keys <=> equal values. n must be
 * below 2^32.
 */
sv_status sv_sort_order(const double *key, size_t n, int descending, int identity,
                        uint32_t *perm, uint64_t *sorted, sv_err *err);

/* order[k] is the row of the k-th smallest x (stable). */
sv_status sv_order_doubles(const double *x, size_t n, uint32_t *order, sv_err *err);

/*
 * Sorting 64-bit keys whose high 32 bits are a small integer code and low
 * 32 bits a position (the tree grower's keys code << 32 | row):
 * sv_sort_u64 sorts distinct keys ascending in place (quicksort with
 * median-of-three pivots and an insertion sort below 25 keys; stack depth
 * O(log n)); sv_sort_u64_codes orders keys by their code alone (bits 32 to
 * 32 + code_bits) with an LSD radix sort of `digit`-bit digits (8 or 11),
 * tmp holding n keys: keys of one code end up together, stably.
 */
void sv_sort_u64(uint64_t *a, size_t n);
void sv_sort_u64_codes(uint64_t *a, uint64_t *tmp, size_t n, int code_bits, int digit);

#endif
