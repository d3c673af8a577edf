/*
 * sv_combat.h - ComBat harmonisation of features measured in batches
 * (centres, scanners): location/scale adjustment with parametric
 * empirical Bayes priors (Johnson, Li & Rabinovic 2007, Biostatistics
 * 8:118), fitted once and applied to new rows without refitting.
 *
 * Reference: sva 3.46.0, ComBat(dat = t(X), batch, mod = NULL,
 * par.prior = TRUE, mean.only, ref.batch). On the fitting rows
 * sv_combat_apply equals ComBat's output to rounding: the same
 * least-squares means, the pooled variance divided by N (or n_ref),
 * rowVars with n - 1, the method-of-moments priors and it.sol's iteration
 * (conv 1e-4, signed relative change). Formulas in docs/centres.md.
 *
 * Data: X is n rows (samples) by p features, column-major (x[i, j] at
 * X[j * n + i]), all finite. batch[i] is the batch code of row i, in
 * [0, n_batches).
 */
#ifndef SV_COMBAT_H
#define SV_COMBAT_H

#include <stddef.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SV_COMBAT_CONV 1e-4   /* it.sol's relative-change threshold */
#define SV_COMBAT_MAXITER 100000 /* it.sol has no cap; this one stops a runaway loop */

typedef struct sv_combat_opts {
    int mean_only; /* nonzero: adjust the location only (delta = 1) */
    int ref;       /* reference batch code, or -1 for none */
} sv_combat_opts;

/* sva::ComBat's defaults: location and scale, no reference batch. A NULL
 * opts pointer means them. */
void sv_combat_opts_default(sv_combat_opts *o);

/* A fitted harmonisation: everything needed to adjust new rows. */
typedef struct sv_combat {
    size_t p, n_batches;
    int ref;             /* reference batch, -1 for none */
    int mean_only;       /* as fitted (forced when a batch has one row) */
    unsigned char *kept; /* p: 0 = zero variance inside a batch, passed through */
    double *stand_mean;  /* p: grand mean (or the reference batch's mean) */
    double *var_pooled;  /* p */
    double *ref_gamma;   /* p: mean standardised value of the reference batch (about 0) */
    double *gamma_star;  /* n_batches x p (batch-major): EB location */
    double *delta_star;  /* n_batches x p: EB scale */
    size_t *batch_n;     /* n_batches: rows per batch in fitting */
} sv_combat;

/*
 * Fits on X (n x p) with batch codes in [0, n_batches); every batch must
 * have a row. Errors: SV_EINVAL naming the row, column or batch
 * (non-finite value, empty batch, fewer than 2 features that vary, a
 * reference batch of one row); SV_ENUM when it.sol does not converge.
 * The result is freed with sv_combat_free.
 */
sv_status sv_combat_fit(const double *X, size_t n, size_t p, const int *batch, size_t n_batches,
                        const sv_combat_opts *opts, sv_combat **out, sv_err *err);

/*
 * Adjusts X (n x p) into out (n x p, may not alias X). batch[i] in
 * [0, n_batches) uses the fitted parameters of that batch; codes from
 * n_batches to n_batches + n_new - 1 are batches never seen in fitting.
 * They are allowed only with a reference batch: each is estimated from
 * its own rows against the frozen reference (standardised by the
 * reference's mean and variance, its own priors and it.sol), which is
 * exactly what ComBat(ref.batch = ref) gives that batch when run on the
 * reference rows and its rows (no outcome is used, nothing of the fit
 * changes). Rows of the reference batch are returned unchanged.
 */
sv_status sv_combat_apply(const sv_combat *c, const double *X, size_t n, size_t p,
                          const int *batch, size_t n_new, double *out, sv_err *err);

void sv_combat_free(sv_combat *c);

#ifdef __cplusplus
}
#endif
#endif
