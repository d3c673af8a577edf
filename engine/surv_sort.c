/*
 * surv_sort.c - input validation and the one sort of each survival call
 * (the engine's radix sort, sv_sort.h: stable, so ties keep their input
 * order, and O(n)), with the strata as the outer key.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_sort.h"
#include "sv_surv.h"

sv_status sv_surv_check(const double *time, const double *event, size_t n,
                        sv_err *err)
{
    /* R's survival refuses an empty data set ("data set has no
     * non-missing observations") and accepts time 0 (a patient censored,
     * or dying, on the day of diagnosis). */
    if (n == 0)
        return sv_err_set(err, SV_EINVAL, "no observations (time and event are empty)");
    for (size_t i = 0; i < n; i++) {
        if (!(time[i] >= 0) || !isfinite(time[i]))
            return sv_err_set(err, SV_EINVAL,
                              "time[%zu] is %g; times must be finite and >= 0",
                              i + 1, time[i]);
        if (!(event[i] == 0 || event[i] == 1))
            return sv_err_set(err, SV_EINVAL,
                              "event[%zu] is %g; events must be 0 (censored) or 1",
                              i + 1, event[i]);
    }
    return SV_OK;
}

/* The (within, key) order: the key order, then a stable counting pass by
 * the code. */
sv_status sv_surv_order(const double *key, const int *within, int nwithin,
                        size_t n, uint32_t *perm, sv_err *err)
{
    sv_status st = sv_sort_order(key, n, 0, 1, perm, NULL, err);
    if (st || !within) return st;
    uint32_t *tmp = sv_malloc(n ? n : 1, sizeof *tmp);
    size_t *count = sv_calloc((size_t)nwithin + 1, sizeof *count);
    if (!tmp || !count) {
        free(tmp), free(count);
        return sv_err_set(err, SV_ENOMEM, "out of memory sorting %zu times", n);
    }
    for (size_t i = 0; i < n; i++) count[within[i] + 1]++;
    for (int g = 0; g < nwithin; g++) count[g + 1] += count[g];
    for (size_t i = 0; i < n; i++) tmp[count[within[perm[i]]]++] = perm[i];
    if (n) memcpy(perm, tmp, n * sizeof *perm);
    free(tmp), free(count);
    return SV_OK;
}

sv_status sv_surv_reorder(const double *key, int descending, size_t n,
                          uint32_t *perm, sv_err *err)
{
    return sv_sort_order(key, n, descending, 0, perm, NULL, err);
}
