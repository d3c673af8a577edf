/*
 * shap_table.h - internal to shap.c: path-dependent TreeSHAP values by
 * per-leaf tables (the idea of Fast TreeSHAP v2, Yang 2021).
 *
 * For a leaf l with d distinct path features, aggregated zero fractions
 * q_k and one fractions o_k in {0, 1}, the leaf's contribution to phi_j
 * (see shap.c) depends on the row only through the pattern of the o_k: d
 * bits. Each leaf therefore keeps a table of 2^d rows of d values,
 *   value_l (o_j - q_j) integral_0^1 prod_{k != j} (q_k + t (o_k - q_k)) dt,
 * computed once per forest with the Gauss-Legendre rule of shap.c, and
 * explaining a row is one pass over each tree's nodes to find every leaf's
 * pattern, then d additions per leaf: no division, no per-node polynomial
 * work. Exact as the other algorithms are (the same integrals, summed in a
 * different order: values agree to rounding).
 *
 * Usable when every leaf's path splits on at most SV_SHAP_TABLE_MAX_D
 * distinct features; the tables cost sum_l 2^d_l d_l doubles (a cherry,
 * see shap_table.c, 2^(d+1) d), which the caller bounds.
 */
#ifndef SV_SHAP_TABLE_H
#define SV_SHAP_TABLE_H

#include "sv_core.h"
#include "sv_tree.h"

#define SV_SHAP_TABLE_MAX_D 16

typedef struct shap_table shap_table;

/*
 * Size of the tables for trees[0..T) (checked as sv_shap_check_forest
 * checks them): *doubles the table entries, *build_flops an estimate of the
 * work to fill them. Returns 0 when the trees qualify, -1 otherwise.
 */
int shap_table_size(const sv_tree *trees, int32_t T, size_t *doubles, double *build_flops);

/* Builds the tables into *out: SV_EINVAL when the trees do not qualify,
 * SV_ENOMEM. */
sv_status shap_table_new(const sv_tree *trees, int32_t T, shap_table **out, sv_err *err);
void shap_table_free(shap_table *tb);

/* Most rows per block. */
#define SV_SHAP_TABLE_MAX_ROWS 256

/* Rows per block for this forest (its pattern slots stay in cache). */
size_t shap_table_block_rows(const shap_table *tb);

/* Scratch bytes one worker needs for blocks of `rows` rows. */
size_t shap_table_scratch(const shap_table *tb, size_t rows);

/*
 * Adds tree t's SHAP values for rows i0 .. i0 + nr - 1 of the column-major
 * X (n rows) into accT, feature-major: accT[j * nr + r]. For each row the
 * leaves are added in the same order whatever the block.
 */
void shap_table_block(const shap_table *tb, int32_t t, const double *X, size_t n, size_t i0,
                      size_t nr, double *accT, void *scratch);

#endif
