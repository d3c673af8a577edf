/*
 * sv_shift.h - how much the case mix shifts between centres: standardised
 * mean differences of a feature between two groups (Austin 2009, Stat Med
 * 28:3083; the "SMD" of Table 1 and of tableone/cobalt).
 */
#ifndef SV_SHIFT_H
#define SV_SHIFT_H

#include <stddef.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * SMD = (mean1 - mean2) / sqrt((s1^2 + s2^2) / 2): s^2 the sample
 * variances (n - 1) for a continuous feature, p (1 - p) for a binary one
 * (binary nonzero; values 0/1). Both spreads 0: 0 when the means are
 * equal, else +-INFINITY. Inputs finite, n1, n2 >= 2 for a continuous
 * feature, >= 1 for a binary one; SV_EINVAL otherwise, naming the group.
 */
sv_status sv_smd(const double *x1, size_t n1, const double *x2, size_t n2, int binary,
                 double *smd, sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
