/*
 * shift.c - standardised mean differences between centres (sv_shift.h).
 */
#include <math.h>

#include "sv_shift.h"

static sv_status moments(const double *x, size_t n, int binary, int which, double *mean,
                         double *var, sv_err *err)
{
    size_t need = binary ? 1 : 2;
    if (n < need)
        return sv_err_set(err, SV_EINVAL, "group %d has %zu value%s; an SMD needs at least %zu",
                          which, n, n == 1 ? "" : "s", need);
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return sv_err_set(err, SV_EINVAL, "group %d, value %zu is %g; values must be finite",
                              which, i + 1, x[i]);
        if (binary && x[i] != 0 && x[i] != 1)
            return sv_err_set(err, SV_EINVAL, "group %d, value %zu is %g; a binary feature is 0 or 1",
                              which, i + 1, x[i]);
        s += x[i];
    }
    double m = s / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = binary ? m * (1 - m) : ss / (double)(n - 1);
    return SV_OK;
}

sv_status sv_smd(const double *x1, size_t n1, const double *x2, size_t n2, int binary,
                 double *smd, sv_err *err)
{
    double m1, v1, m2, v2;
    sv_status st = moments(x1, n1, binary, 1, &m1, &v1, err);
    if (st) return st;
    if ((st = moments(x2, n2, binary, 2, &m2, &v2, err))) return st;
    double sd = sqrt((v1 + v2) / 2);
    if (sd > 0)
        *smd = (m1 - m2) / sd;
    else
        *smd = m1 == m2 ? 0 : (m1 > m2 ? INFINITY : -INFINITY);
    return SV_OK;
}
