/*
 * roc.c - ROC curve, AUC, DeLong variance and tests, Youden's index and
 * the stratified bootstrap; see sv_roc.h.
 *
 * Everything starts from one ordering of the scores. Walking the scores
 * in ascending order, group by group of tied values, gives for every row
 * the number of controls below it and of cases above it: these counts
 * are Sun & Xu's midrank differences, so the placement values and the
 * AUC come out in O(n) after the O(n) radix sort.
 */
#include "sv_roc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_dist.h"
#include "sv_rng.h"
#include "sv_sort.h"

/* ---- AUC and placements --------------------------------------------------- */

static sv_status count_classes(const double *y, size_t n, size_t *m, size_t *nc, sv_err *err)
{
    size_t cases = 0;
    for (size_t i = 0; i < n; i++) cases += y[i] == 1.0;
    *m = cases;
    *nc = n - cases;
    if (cases == 0 || cases == n)
        return sv_err_set(err, SV_EINVAL,
                          "y has a single class (%zu cases, %zu controls): "
                          "the ROC curve needs both",
                          cases, n - cases);
    return SV_OK;
}

sv_status sv_roc_auc(const double *y, const double *score, size_t n,
                     double *placement, sv_roc_auc_result *out, sv_err *err)
{
    size_t m, nc;
    sv_status st = count_classes(y, n, &m, &nc, err);
    if (st) return st;
    uint32_t *order = sv_malloc(n, sizeof *order);
    uint64_t *key = sv_malloc(n, sizeof *key);
    unsigned char *lab = sv_malloc(n, 1);
    if (!order || !key || !lab) {
        free(order), free(key), free(lab);
        return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    }
    st = sv_sort_order(score, n, 0, 1, order, key, err);
    if (st) {
        free(order), free(key), free(lab);
        return st;
    }
    /* labels in score order: the one gather; the walks below are
     * sequential */
    for (size_t k = 0; k < n; k++) lab[k] = y[order[k]] == 1.0;
    /* First walk: pairs won by the cases (ties 1/2), over the tie groups
     * in ascending order. */
    double sum_pairs = 0; /* x2, exact in doubles up to 2^53 */
    size_t ctrl_below = 0;
    for (size_t k = 0; k < n;) {
        size_t e = k, gc = 0;
        while (e < n && key[e] == key[k]) gc += lab[e++];
        size_t gn = (e - k) - gc;
        sum_pairs += (double)gc * (2.0 * (double)ctrl_below + (double)gn);
        ctrl_below += gn;
        k = e;
    }
    double auc = sum_pairs / 2.0 / ((double)m * (double)nc);
    /* Second walk: placement values (Sun & Xu's midrank differences) and
     * their squared deviations from the AUC; every member of a tie group
     * of one class shares its placement. */
    double s10 = 0, s01 = 0;
    size_t case_below = 0;
    ctrl_below = 0;
    for (size_t k = 0; k < n;) {
        size_t e = k, gc = 0;
        while (e < n && key[e] == key[k]) gc += lab[e++];
        size_t gn = (e - k) - gc;
        double v10 = ((double)ctrl_below + 0.5 * (double)gn) / (double)nc;
        size_t case_above = m - case_below - gc;
        double v01 = ((double)case_above + 0.5 * (double)gc) / (double)m;
        s10 += (double)gc * (v10 - auc) * (v10 - auc);
        s01 += (double)gn * (v01 - auc) * (v01 - auc);
        if (placement)
            for (size_t j = k; j < e; j++) placement[order[j]] = lab[j] ? v10 : v01;
        ctrl_below += gn;
        case_below += gc;
        k = e;
    }
    out->auc = auc;
    out->n_case = m;
    out->n_control = nc;
    out->var = (m < 2 || nc < 2) ? NAN
                                 : s10 / (double)(m - 1) / (double)m +
                                       s01 / (double)(nc - 1) / (double)nc;
    free(order), free(key), free(lab);
    return SV_OK;
}

sv_status sv_roc_test_paired(const double *y, const double *s1,
                             const double *s2, size_t n,
                             sv_roc_test_result *out, sv_err *err)
{
    double *p1 = sv_malloc(n, sizeof *p1), *p2 = sv_malloc(n, sizeof *p2);
    if (!p1 || !p2) {
        free(p1), free(p2);
        return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    }
    sv_roc_auc_result r1, r2;
    sv_status st = sv_roc_auc(y, s1, n, p1, &r1, err);
    if (!st) st = sv_roc_auc(y, s2, n, p2, &r2, err);
    if (st) {
        free(p1), free(p2);
        return st;
    }
    size_t m = r1.n_case, nc = r1.n_control;
    if (m < 2 || nc < 2) {
        free(p1), free(p2);
        return sv_err_set(err, SV_EINVAL, "DeLong's test needs at least 2 cases and 2 controls "
                                          "(got %zu and %zu)", m, nc);
    }
    double c10 = 0, c01 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (p1[i] - r1.auc) * (p2[i] - r2.auc);
        if (y[i] == 1.0)
            c10 += d;
        else
            c01 += d;
    }
    free(p1), free(p2);
    out->auc1 = r1.auc;
    out->auc2 = r2.auc;
    out->var1 = r1.var;
    out->var2 = r2.var;
    out->cov = c10 / (double)(m - 1) / (double)m + c01 / (double)(nc - 1) / (double)nc;
    double vd = r1.var + r2.var - 2.0 * out->cov;
    double d = r1.auc - r2.auc;
    double sd = sqrt(vd > 0 ? vd : 0);
    /* identical curves: 0/0, which pROC reports as z = 0 */
    out->z = (d == 0 && sd == 0) ? 0.0 : d / sd;
    out->p = 2.0 * sv_pnorm(-fabs(out->z), 1);
    return SV_OK;
}

sv_status sv_roc_test_unpaired(const double *y1, const double *s1, size_t n1,
                               const double *y2, const double *s2, size_t n2,
                               sv_roc_unpaired_result *out, sv_err *err)
{
    sv_roc_auc_result r1, r2;
    sv_status st = sv_roc_auc(y1, s1, n1, NULL, &r1, err);
    if (!st) st = sv_roc_auc(y2, s2, n2, NULL, &r2, err);
    if (st) return st;
    if (isnan(r1.var) || isnan(r2.var))
        return sv_err_set(err, SV_EINVAL, "the unpaired DeLong test needs at least 2 cases and "
                                          "2 controls in each cohort");
    out->auc1 = r1.auc;
    out->auc2 = r2.auc;
    out->var1 = r1.var;
    out->var2 = r2.var;
    double v = r1.var + r2.var;
    out->d = (r1.auc - r2.auc) / sqrt(v);
    out->df = v * v / (r1.var * r1.var / (double)(n1 - 1) + r2.var * r2.var / (double)(n2 - 1));
    out->p = 2.0 * sv_pt(-fabs(out->d), out->df, 1);
    return SV_OK;
}

/* ---- curve and Youden --------------------------------------------------------- */

sv_status sv_roc_curve(const double *y, const double *score, size_t n,
                       double *threshold, double *tpr, double *fpr,
                       size_t *npoints, sv_err *err)
{
    size_t m, nc;
    sv_status st = count_classes(y, n, &m, &nc, err);
    if (st) return st;
    uint32_t *order = sv_malloc(n, sizeof *order);
    if (!order) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    st = sv_order_doubles(score, n, order, err);
    if (st) {
        free(order);
        return st;
    }
    /* Point 0: threshold -Inf, everything called positive. Each further
     * point passes one group of tied scores to the negative side. */
    size_t k = 0, pt = 0;
    size_t tp = m, fp = nc;
    threshold[pt] = -INFINITY;
    tpr[pt] = 1.0;
    fpr[pt] = 1.0;
    pt++;
    while (k < n) {
        double v = score[order[k]];
        while (k < n && score[order[k]] == v) {
            if (y[order[k]] == 1.0)
                tp--;
            else
                fp--;
            k++;
        }
        double t;
        if (k == n) {
            t = INFINITY;
        } else {
            double u = score[order[k]];
            t = (v + u) / 2.0;
            if (fabs(t) > 1e100) t = v / 2.0 + u / 2.0;
            if (t == v) t = u; /* near-tie: keep v on the negative side */
        }
        threshold[pt] = t;
        tpr[pt] = (double)tp / (double)m;
        fpr[pt] = (double)fp / (double)nc;
        pt++;
    }
    *npoints = pt;
    free(order);
    return SV_OK;
}

sv_status sv_roc_youden(const double *y, const double *score, size_t n,
                        sv_roc_youden_result *out, sv_err *err)
{
    double *buf = sv_malloc(3 * (n + 1), sizeof *buf);
    if (!buf) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    double *thr = buf, *tpr = buf + n + 1, *fpr = buf + 2 * (n + 1);
    size_t np;
    sv_status st = sv_roc_curve(y, score, n, thr, tpr, fpr, &np, err);
    if (st) {
        free(buf);
        return st;
    }
    /* pROC maximises sensitivity + specificity as doubles; so do we. */
    double best = -INFINITY;
    size_t ib = 0, ties = 0;
    for (size_t i = 0; i < np; i++) {
        double s = tpr[i] + (1.0 - fpr[i]);
        if (s > best) {
            best = s;
            ib = i;
            ties = 1;
        } else if (s == best) {
            ties++;
        }
    }
    out->threshold = thr[ib];
    out->sens = tpr[ib];
    out->spec = 1.0 - fpr[ib];
    out->j = out->sens + out->spec - 1.0;
    out->ties = ties;
    free(buf);
    return SV_OK;
}

/* ---- stratified bootstrap ------------------------------------------------------ */

typedef struct boot_job {
    const uint32_t *case_group;    /* group (rank of distinct score) per case */
    const uint32_t *control_group; /* same per control */
    size_t m, nc, ngroups;
    uint64_t seed;
    uint32_t *scratch; /* per worker: 2 * ngroups counters */
    double *aucs;
    size_t boot;
} boot_job;

/* Replicates per parallel task: a replicate on a few thousand rows takes
 * microseconds, less than claiming a task costs. Each replicate still has
 * its own stream, so the chunking does not change any result. */
#define BOOT_CHUNK 16

static sv_status boot_task(void *ud, size_t chunk, int worker, sv_err *err)
{
    (void)err;
    boot_job *J = ud;
    uint32_t *cc = J->scratch + (size_t)worker * 2 * J->ngroups;
    uint32_t *cn = cc + J->ngroups;
    size_t r0 = chunk * BOOT_CHUNK;
    size_t r1 = r0 + BOOT_CHUNK < J->boot ? r0 + BOOT_CHUNK : J->boot;
    for (size_t r = r0; r < r1; r++) {
        memset(cc, 0, 2 * J->ngroups * sizeof *cc);
        sv_rng rng;
        sv_rng_init(&rng, J->seed, (uint64_t)r);
        /* cases first, then controls, from one stream per replicate */
        for (size_t i = 0; i < J->m; i++) cc[J->case_group[sv_rng_below(&rng, J->m)]]++;
        for (size_t i = 0; i < J->nc; i++) cn[J->control_group[sv_rng_below(&rng, J->nc)]]++;
        double pairs2 = 0, below = 0;
        for (size_t g = 0; g < J->ngroups; g++) {
            pairs2 += (double)cc[g] * (2.0 * below + (double)cn[g]);
            below += (double)cn[g];
        }
        J->aucs[r] = pairs2 / 2.0 / ((double)J->m * (double)J->nc);
    }
    return SV_OK;
}

sv_status sv_roc_boot_auc(const double *y, const double *score, size_t n,
                          size_t boot, uint64_t seed, const sv_ctx *ctx,
                          double *aucs, sv_err *err)
{
    size_t m, nc;
    sv_status st = count_classes(y, n, &m, &nc, err);
    if (st) return st;
    uint32_t *order = sv_malloc(n, sizeof *order);
    uint32_t *groups = sv_malloc(n, sizeof *groups);
    if (!order || !groups) {
        free(order), free(groups);
        return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    }
    st = sv_order_doubles(score, n, order, err);
    if (st) {
        free(order), free(groups);
        return st;
    }
    /* Cases and controls each listed in row order, tagged with the rank
     * of their distinct score: a replicate is then a count per rank. */
    uint32_t *rank = sv_malloc(n, sizeof *rank);
    if (!rank) {
        free(order), free(groups);
        return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    }
    size_t g = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && score[order[k]] != score[order[k - 1]]) g++;
        rank[order[k]] = (uint32_t)g;
    }
    size_t ngroups = g + 1;
    size_t ic = 0, in = m;
    for (size_t i = 0; i < n; i++) {
        if (y[i] == 1.0)
            groups[ic++] = rank[i];
        else
            groups[in++] = rank[i];
    }
    free(rank);
    free(order);
    int threads = sv_ctx_threads(ctx);
    boot_job J = {groups, groups + m, m, nc, ngroups, seed, NULL, aucs, boot};
    J.scratch = sv_malloc((size_t)threads * 2 * ngroups, sizeof *J.scratch);
    if (!J.scratch) {
        free(groups);
        return sv_err_set(err, SV_ENOMEM, "out of memory for the bootstrap");
    }
    size_t nchunks = (boot + BOOT_CHUNK - 1) / BOOT_CHUNK;
    st = sv_parallel_for(ctx, "roc.auc bootstrap", nchunks, threads, boot_task, &J, err);
    free(J.scratch);
    free(groups);
    return st;
}

/* One Hand and Till's M in the engine: this is sv_roc_multiclass
 * (roc_multi.c) with int32 classes and the pairs listed a < b. */
sv_status sv_roc_hand_till(const int32_t *y, const double *P, size_t n, int32_t K,
                           double *M, double *pair_auc, sv_err *err)
{
    if (K < 2) return sv_err_set(err, SV_EINVAL, "the number of classes must be >= 2, got %d", (int)K);
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= K)
            return sv_err_set(err, SV_EINVAL, "class index %d out of range at row %zu", (int)y[i], i + 1);
    int *yi = sv_malloc(n ? n : 1, sizeof *yi);
    double *pair = sv_malloc((size_t)K * (size_t)K, sizeof *pair);
    if (!yi || !pair) {
        free(yi), free(pair);
        return sv_err_set(err, SV_ENOMEM, "out of memory (%zu rows)", n);
    }
    for (size_t i = 0; i < n; i++) yi[i] = (int)y[i];
    sv_status st = sv_roc_multiclass(yi, P, n, (int)K, M, pair, NULL, err);
    if (st == SV_OK && pair_auc) {
        size_t q = 0;
        for (int32_t a = 0; a < K; a++)
            for (int32_t b = a + 1; b < K; b++, q++) {
                double ab = pair[(size_t)a * (size_t)K + (size_t)b], ba = pair[(size_t)b * (size_t)K + (size_t)a];
                pair_auc[q] = isnan(ab) || isnan(ba) ? NAN : (ab + ba) / 2.0;
            }
    }
    free(yi), free(pair);
    return st;
}

/* ---- alternatives and the interval of a difference ------------------------------ */

double sv_roc_test_p(const sv_roc_test_result *r, sv_alternative alt)
{
    if (alt == SV_LESS) return sv_pnorm(r->z, 1);
    if (alt == SV_GREATER) return sv_pnorm(-r->z, 1);
    return r->p;
}

void sv_roc_test_diff_ci(const sv_roc_test_result *r, double level, double *diff, double *sd,
                         double *lo, double *hi)
{
    double vd = r->var1 + r->var2 - 2.0 * r->cov;
    double s = sqrt(vd > 0 ? vd : 0);
    double d = r->auc1 - r->auc2, z = sv_qnorm((1.0 - level) / 2.0, 0);
    if (diff) *diff = d;
    if (sd) *sd = s;
    if (lo) *lo = d - z * s;
    if (hi) *hi = d + z * s;
}

double sv_roc_unpaired_p(const sv_roc_unpaired_result *r, sv_alternative alt)
{
    if (alt == SV_LESS) return sv_pt(r->d, r->df, 1);
    if (alt == SV_GREATER) return sv_pt(-r->d, r->df, 1);
    return r->p;
}
