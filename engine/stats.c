/*
 * stats.c - summaries, quantiles and the tests of sv_stats.h.
 */
#include "sv_stats.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sv_dist.h"
#include "sv_rng.h"
#include "sv_sort.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sv_sort_doubles(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
}

double sv_quantile_sorted(const double *x, size_t n, double p)
{
    if (n == 0) return NAN;
    double index = (double)(n - 1) * p;
    size_t lo = (size_t)floor(index);
    size_t hi = (size_t)ceil(index);
    double q = x[lo];
    double h = index - (double)lo;
    if (index > (double)lo && x[hi] != q) q = (1.0 - h) * q + h * x[hi];
    return q;
}

/* ---- mean, variance, summary ---------------------------------------------- */

double sv_mean(const double *x, size_t n)
{
    if (n == 0) return NAN;
    long double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    s /= (long double)n;
    if (isfinite((double)s)) {
        long double t = 0;
        for (size_t i = 0; i < n; i++) t += x[i] - s;
        s += t / (long double)n;
    }
    return (double)s;
}

double sv_var(const double *x, size_t n)
{
    if (n < 2) return NAN;
    long double m = 0;
    for (size_t i = 0; i < n; i++) m += x[i];
    m /= (long double)n;
    long double t = 0;
    for (size_t i = 0; i < n; i++) t += x[i] - m;
    m += t / (long double)n;
    long double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return (double)(ss / (long double)(n - 1));
}

sv_status sv_summary(const double *x, size_t n, sv_summary_result *out, sv_err *err)
{
    double *v = sv_malloc(n + 1, sizeof *v);
    if (!v) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu values)", n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) v[k++] = x[i];
    out->n = k;
    out->n_missing = n - k;
    out->mean = sv_mean(v, k);
    double var = sv_var(v, k);
    out->sd = sqrt(var);
    sv_sort_doubles(v, k);
    out->median = sv_quantile_sorted(v, k, 0.5);
    out->q1 = sv_quantile_sorted(v, k, 0.25);
    out->q3 = sv_quantile_sorted(v, k, 0.75);
    out->iqr = out->q3 - out->q1;
    out->min = k ? v[0] : NAN;
    out->max = k ? v[k - 1] : NAN;
    free(v);
    return SV_OK;
}

static void htest_init(sv_htest *h)
{
    h->statistic = h->df = h->p_value = NAN;
    h->estimate[0] = h->estimate[1] = NAN;
    h->conf_int[0] = h->conf_int[1] = NAN;
    h->stderr_ = NAN;
    h->exact = 0;
}

/* ---- chi-square ------------------------------------------------------------- */

static sv_status check_table(const double *counts, size_t nr, size_t nc, int integer,
                             sv_err *err)
{
    if (nr < 2 || nc < 2)
        return sv_err_set(err, SV_EINVAL, "the table must have at least 2 rows and 2 columns "
                                          "(got %zu x %zu)", nr, nc);
    for (size_t i = 0; i < nr * nc; i++) {
        double v = counts[i];
        if (!isfinite(v) || v < 0)
            return sv_err_set(err, SV_EINVAL, "cell [%zu, %zu] is %g: counts must be finite "
                                              "and non-negative", i / nc + 1, i % nc + 1, v);
        if (integer && v != floor(v))
            return sv_err_set(err, SV_EINVAL, "cell [%zu, %zu] is %g: counts must be integers",
                              i / nc + 1, i % nc + 1, v);
    }
    for (size_t i = 0; i < nr; i++) {
        double s = 0;
        for (size_t j = 0; j < nc; j++) s += counts[i * nc + j];
        if (s == 0) return sv_err_set(err, SV_EINVAL, "row %zu of the table sums to 0", i + 1);
    }
    for (size_t j = 0; j < nc; j++) {
        double s = 0;
        for (size_t i = 0; i < nr; i++) s += counts[i * nc + j];
        if (s == 0) return sv_err_set(err, SV_EINVAL, "column %zu of the table sums to 0", j + 1);
    }
    return SV_OK;
}

sv_status sv_chisq_test(const double *counts, size_t nr, size_t nc, int correct,
                        sv_htest *out, double *expected, sv_err *err)
{
    htest_init(out);
    sv_status st = check_table(counts, nr, nc, 0, err);
    if (st) return st;
    double *rs = sv_calloc(nr + nc, sizeof *rs);
    double *E = sv_malloc(nr * nc, sizeof *E);
    if (!rs || !E) {
        free(rs), free(E);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    double *cs = rs + nr, total = 0;
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nc; j++) {
            rs[i] += counts[i * nc + j];
            cs[j] += counts[i * nc + j];
            total += counts[i * nc + j];
        }
    /* R: E <- outer(sr, sc) / n */
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nc; j++) E[i * nc + j] = rs[i] * cs[j] / total;
    double yates = 0;
    if (correct && nr == 2 && nc == 2) {
        yates = 0.5;
        for (size_t c = 0; c < 4; c++) {
            double d = fabs(counts[c] - E[c]);
            if (d < yates) yates = d;
        }
    }
    double stat = 0;
    for (size_t c = 0; c < nr * nc; c++) {
        double d = fabs(counts[c] - E[c]) - yates;
        stat += d * d / E[c];
    }
    out->statistic = stat;
    out->df = (double)((nr - 1) * (nc - 1));
    out->p_value = sv_pchisq(stat, out->df, 0);
    if (expected)
        for (size_t c = 0; c < nr * nc; c++) expected[c] = E[c];
    free(rs), free(E);
    return SV_OK;
}

/* ---- Fisher ------------------------------------------------------------------- */

/* Depth-first enumeration of the tables with the given margins, filled
 * column by column, cell by cell; the last row of each column and the last
 * column follow from the margins. Sums the probabilities of tables with
 * log-probability <= limit. */
typedef struct fisher_enum {
    size_t nr, nc;
    double *rowrem;     /* remaining row totals */
    const double *colsum;
    const double *lfact; /* log k! for k = 0..N */
    double base;        /* log of sum(log r!) + sum(log c!) - log N! */
    double limit;
    double psum;
    double visited, max_visited;
    /* Bounds on the log-probability still to come from columns j..: for
     * each column, -sum log a! is at most its value for the most even
     * split of the column total over the rows (caps relaxed) and at least
     * -log(c!) (log-factorials are superadditive). Summed from j on. */
    const double *rest_max, *rest_min;
} fisher_enum;

static int fisher_col(fisher_enum *F, size_t j, double lp);

/* Fills cell (i, j) given `left` of column j still to place. */
static int fisher_cell(fisher_enum *F, size_t i, size_t j, double left, double lp)
{
    size_t nr = F->nr;
    if (i == nr - 1) {
        if (left > F->rowrem[i]) return 0;
        F->rowrem[i] -= left;
        int r = fisher_col(F, j + 1, lp - F->lfact[(size_t)left]);
        F->rowrem[i] += left;
        return r;
    }
    /* capacity of the rows below i bounds how little cell (i, j) may take */
    double below = 0;
    for (size_t r = i + 1; r < nr; r++) below += F->rowrem[r];
    double lo = left - below > 0 ? left - below : 0;
    double hi = left < F->rowrem[i] ? left : F->rowrem[i];
    for (double a = lo; a <= hi; a++) {
        F->rowrem[i] -= a;
        int r = fisher_cell(F, i + 1, j, left - a, lp - F->lfact[(size_t)a]);
        F->rowrem[i] += a;
        if (r) return r;
    }
    return 0;
}

static int fisher_col(fisher_enum *F, size_t j, double lp)
{
    /* Network-algorithm style pruning: when every completion of this
     * partial table is at most as likely as the observed one, all of them
     * count, and their total is closed-form (sum over tables with margins
     * r', c' of prod 1/a! = N'! / (prod r'! prod c'!)); when none can be,
     * the subtree is skipped. */
    if (j < F->nc - 1) {
        if (F->base + lp + F->rest_max[j] <= F->limit) {
            double Nr = 0, s = 0;
            for (size_t i = 0; i < F->nr; i++) {
                Nr += F->rowrem[i];
                s -= F->lfact[(size_t)F->rowrem[i]];
            }
            for (size_t jj = j; jj < F->nc; jj++) s -= F->lfact[(size_t)F->colsum[jj]];
            s += F->lfact[(size_t)Nr];
            F->psum += exp(F->base + lp + s);
            F->visited++;
            return F->visited > F->max_visited;
        }
        if (F->base + lp + F->rest_min[j] > F->limit) return 0;
    }
    if (j == F->nc - 1) {
        /* the last column is what remains of the rows */
        for (size_t i = 0; i < F->nr; i++) lp -= F->lfact[(size_t)F->rowrem[i]];
        double logp = F->base + lp;
        if (logp <= F->limit) F->psum += exp(logp);
        F->visited++;
        return F->visited > F->max_visited;
    }
    return fisher_cell(F, 0, j, F->colsum[j], lp);
}

sv_status sv_fisher_test(const double *counts, size_t nr, size_t nc,
                         sv_alternative alt, double max_tables, sv_htest *out,
                         sv_err *err)
{
    htest_init(out);
    out->exact = 1;
    sv_status st = check_table(counts, nr, nc, 1, err);
    if (st) return st;
    if (nr == 2 && nc == 2) {
        /* cell [1,1] is hypergeometric: m = row 1, n = row 2, k = column 1 */
        double x = counts[0], m = counts[0] + counts[1], n = counts[2] + counts[3];
        double k = counts[0] + counts[2];
        double lo = k - n > 0 ? k - n : 0, hi = k < m ? k : m;
        if (alt == SV_LESS) {
            out->p_value = sv_phyper(x, m, n, k, 1);
        } else if (alt == SV_GREATER) {
            out->p_value = sv_phyper(x - 1, m, n, k, 0);
        } else {
            /* R: sum of P[X = i] over i with P[X = i] <= P[X = x] (1 + 1e-7) */
            double dobs = sv_dhyper(x, m, n, k) * (1.0 + 1e-7);
            double p = 0;
            for (double i = lo; i <= hi; i++) {
                double d = sv_dhyper(i, m, n, k);
                if (d <= dobs) p += d;
            }
            out->p_value = p > 1 ? 1 : p;
        }
        return SV_OK;
    }
    if (alt != SV_TWO_SIDED)
        return sv_err_set(err, SV_EINVAL, "one-sided alternatives need a 2 x 2 table");
    /* The p-value does not change when rows and columns are permuted or
     * the table transposed, but the enumeration's pruning works best with
     * the more unequal margin as columns, largest column first. */
    double *tab = sv_malloc(nr * nc, sizeof *tab);
    size_t *perm = sv_malloc(nr + nc, sizeof *perm);
    double *msum = sv_calloc(nr + nc, sizeof *msum);
    if (!tab || !perm || !msum) {
        free(tab), free(perm), free(msum);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    double maxr = 0, maxc = 0;
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nc; j++) {
            msum[i] += counts[i * nc + j];
            msum[nr + j] += counts[i * nc + j];
        }
    for (size_t i = 0; i < nr; i++) maxr = fmax(maxr, msum[i]);
    for (size_t j = 0; j < nc; j++) maxc = fmax(maxc, msum[nr + j]);
    int transpose = maxr > maxc;
    size_t tr = transpose ? nc : nr, tc = transpose ? nr : nc;
    const double *csum = transpose ? msum : msum + nr;
    for (size_t j = 0; j < tc; j++) perm[j] = j;
    for (size_t a = 1; a < tc; a++) /* insertion sort, descending totals */
        for (size_t b = a; b > 0 && csum[perm[b]] > csum[perm[b - 1]]; b--) {
            size_t t = perm[b];
            perm[b] = perm[b - 1];
            perm[b - 1] = t;
        }
    for (size_t i = 0; i < tr; i++)
        for (size_t j = 0; j < tc; j++) {
            size_t sj = perm[j];
            tab[i * tc + j] = transpose ? counts[sj * nc + i] : counts[i * nc + sj];
        }
    free(perm), free(msum);
    counts = tab;
    nr = tr;
    nc = tc;
    double N = 0;
    for (size_t c = 0; c < nr * nc; c++) N += counts[c];
    double *lfact = sv_malloc((size_t)N + 1, sizeof *lfact);
    double *rowrem = sv_malloc(nr, sizeof *rowrem);
    double *colsum = sv_calloc(nc, sizeof *colsum);
    if (!lfact || !rowrem || !colsum) {
        free(lfact), free(rowrem), free(colsum), free(tab);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k <= (size_t)N; k++) lfact[k] = lgamma((double)k + 1.0);
    double base = -lfact[(size_t)N], lobs = 0;
    for (size_t i = 0; i < nr; i++) {
        double s = 0;
        for (size_t j = 0; j < nc; j++) {
            s += counts[i * nc + j];
            colsum[j] += counts[i * nc + j];
            lobs -= lfact[(size_t)counts[i * nc + j]];
        }
        rowrem[i] = s;
        base += lfact[(size_t)s];
    }
    for (size_t j = 0; j < nc; j++) base += lfact[(size_t)colsum[j]];
    double *rest = sv_calloc(2 * (nc + 1), sizeof *rest);
    if (!rest) {
        free(lfact), free(rowrem), free(colsum), free(tab);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    double *rest_max = rest, *rest_min = rest + nc + 1;
    for (size_t j = nc; j-- > 0;) {
        size_t c = (size_t)colsum[j], q = c / nr, r = c % nr;
        /* r rows get q + 1, the others q */
        double even = (double)r * lfact[q + 1] + (double)(nr - r) * lfact[q];
        rest_max[j] = rest_max[j + 1] - even;
        rest_min[j] = rest_min[j + 1] - lfact[c];
    }
    fisher_enum F = {nr, nc, rowrem, colsum, lfact, base, 0, 0, 0,
                     max_tables > 0 ? max_tables : 1e7, rest_max, rest_min};
    /* relative tolerance 1e-7 on the probability, as R */
    F.limit = base + lobs + log1p(1e-7);
    int stopped = fisher_col(&F, 0, 0.0);
    free(lfact), free(rowrem), free(colsum), free(rest), free(tab);
    if (stopped)
        return sv_err_set(err, SV_EINVAL, "the %zu x %zu table has more than %.0f tables with "
                                          "its margins: too many to enumerate exactly "
                                          "(use the chi-square test, or raise max_tables)",
                          nr, nc, F.max_visited);
    out->p_value = F.psum > 1 ? 1 : F.psum;
    return SV_OK;
}

/* ---- conditional MLE odds ratio of a 2 x 2 table ------------------------------- */

typedef struct nchyper {
    double lo;        /* smallest value of the support */
    size_t len;
    const double *ld; /* log dhyper over the support */
} nchyper;

/* Probabilities of the support under odds ratio exp(th), into w. */
static void nc_weights(const nchyper *H, double th, double *w)
{
    double mx = -INFINITY;
    for (size_t i = 0; i < H->len; i++) {
        w[i] = H->ld[i] + th * (H->lo + (double)i);
        if (w[i] > mx) mx = w[i];
    }
    double s = 0;
    for (size_t i = 0; i < H->len; i++) {
        w[i] = exp(w[i] - mx);
        s += w[i];
    }
    for (size_t i = 0; i < H->len; i++) w[i] /= s;
}

typedef enum nc_what { NC_MEAN, NC_LOWER_TAIL, NC_UPPER_TAIL } nc_what;

/* E[X], P[X <= x] or P[X >= x] at log odds ratio th: all increasing in th
 * except P[X <= x], which decreases. */
static double nc_eval(const nchyper *H, double th, nc_what what, double x, double *w)
{
    nc_weights(H, th, w);
    double s = 0;
    for (size_t i = 0; i < H->len; i++) {
        double v = H->lo + (double)i;
        if (what == NC_MEAN)
            s += v * w[i];
        else if (what == NC_LOWER_TAIL ? v <= x : v >= x)
            s += w[i];
    }
    return s;
}

/* Solves nc_eval(th) = target for th by bracketing and bisection. */
static double nc_solve(const nchyper *H, nc_what what, double x, double target, double *w)
{
    int incr = what != NC_LOWER_TAIL;
    double a = -1, b = 1;
    /* widen until the root is inside [a, b] (|th| <= 745 keeps exp finite
     * in the weights' differences) */
    for (int k = 0; k < 12; k++) {
        double fa = nc_eval(H, a, what, x, w) - target;
        double fb = nc_eval(H, b, what, x, w) - target;
        if ((incr ? fa <= 0 : fa >= 0) && (incr ? fb >= 0 : fb <= 0)) break;
        if (incr ? fa > 0 : fa < 0) a *= 2;
        if (incr ? fb < 0 : fb > 0) b *= 2;
    }
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (a + b);
        if (mid == a || mid == b) break;
        double f = nc_eval(H, mid, what, x, w) - target;
        if (f == 0) return mid;
        if ((f < 0) == incr)
            a = mid;
        else
            b = mid;
    }
    return 0.5 * (a + b);
}

sv_status sv_fisher_odds_ratio(const double *counts, double level, sv_alternative alt,
                               double *estimate, double conf_int[2], sv_err *err)
{
    sv_status st = check_table(counts, 2, 2, 1, err);
    if (st) return st;
    double x = counts[0], m = counts[0] + counts[1], n = counts[2] + counts[3];
    double k = counts[0] + counts[2];
    double lo = k - n > 0 ? k - n : 0, hi = k < m ? k : m;
    size_t len = (size_t)(hi - lo) + 1;
    double *ld = sv_malloc(2 * len, sizeof *ld);
    if (!ld) return sv_err_set(err, SV_ENOMEM, "out of memory");
    double *w = ld + len;
    for (size_t i = 0; i < len; i++) ld[i] = log(sv_dhyper(lo + (double)i, m, n, k));
    nchyper H = {lo, len, ld};
    /* estimate: 0 at the lower end of the support, Inf at the upper */
    if (x == lo)
        *estimate = 0;
    else if (x == hi)
        *estimate = INFINITY;
    else
        *estimate = exp(nc_solve(&H, NC_MEAN, x, x, w));
    double a = alt == SV_TWO_SIDED ? (1.0 - level) / 2.0 : 1.0 - level;
    double L = 0, U = INFINITY;
    if (alt != SV_LESS && x != lo) L = exp(nc_solve(&H, NC_UPPER_TAIL, x, a, w));
    if (alt != SV_GREATER && x != hi) U = exp(nc_solve(&H, NC_LOWER_TAIL, x, a, w));
    conf_int[0] = L;
    conf_int[1] = U;
    free(ld);
    return SV_OK;
}

/* ---- Fisher by simulation ------------------------------------------------------ */

typedef struct fsim_job {
    size_t nr, nc, N;
    const double *rowsum;
    const uint32_t *labels; /* column of each of the N units, in column order */
    const double *lfact;
    uint64_t seed;
    uint32_t *scratch; /* per worker: N labels + nr*nc counts */
    double *stat;
} fsim_job;

static sv_status fsim_task(void *ud, size_t b, int worker, sv_err *err)
{
    (void)err;
    fsim_job *J = ud;
    uint32_t *lab = J->scratch + (size_t)worker * (J->N + J->nr * J->nc);
    uint32_t *cnt = lab + J->N;
    memcpy(lab, J->labels, J->N * sizeof *lab);
    memset(cnt, 0, J->nr * J->nc * sizeof *cnt);
    sv_rng rng;
    sv_rng_init(&rng, J->seed, (uint64_t)b);
    sv_rng_shuffle_u32(&rng, lab, J->N);
    size_t pos = 0;
    for (size_t i = 0; i < J->nr; i++)
        for (size_t k = 0; k < (size_t)J->rowsum[i]; k++) cnt[i * J->nc + lab[pos++]]++;
    double st = 0;
    for (size_t c = 0; c < J->nr * J->nc; c++) st -= J->lfact[cnt[c]];
    J->stat[b] = st;
    return SV_OK;
}

sv_status sv_fisher_simulate(const double *counts, size_t nr, size_t nc, size_t B,
                             uint64_t seed, const sv_ctx *ctx, sv_htest *out,
                             sv_err *err)
{
    htest_init(out);
    sv_status st = check_table(counts, nr, nc, 1, err);
    if (st) return st;
    if (B == 0) return sv_err_set(err, SV_EINVAL, "B must be positive");
    double N = 0;
    for (size_t c = 0; c < nr * nc; c++) N += counts[c];
    if (N >= 4294967295.0) return sv_err_set(err, SV_EINVAL, "too many counts (%g)", N);
    size_t n = (size_t)N;
    int threads = sv_ctx_threads(ctx);
    double *rowsum = sv_calloc(nr, sizeof *rowsum);
    double *lfact = sv_malloc(n + 1, sizeof *lfact);
    uint32_t *labels = sv_malloc(n + 1, sizeof *labels);
    double *stat = sv_malloc(B, sizeof *stat);
    uint32_t *scratch = sv_malloc((size_t)threads * (n + nr * nc), sizeof *scratch);
    if (!rowsum || !lfact || !labels || !stat || !scratch) {
        free(rowsum), free(lfact), free(labels), free(stat), free(scratch);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k <= n; k++) lfact[k] = lgamma((double)k + 1.0);
    size_t pos = 0;
    double obs = 0;
    for (size_t j = 0; j < nc; j++)
        for (size_t i = 0; i < nr; i++)
            for (size_t k = 0; k < (size_t)counts[i * nc + j]; k++) labels[pos++] = (uint32_t)j;
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nc; j++) {
            rowsum[i] += counts[i * nc + j];
            obs -= lfact[(size_t)counts[i * nc + j]];
        }
    fsim_job J = {nr, nc, n, rowsum, labels, lfact, seed, scratch, stat};
    st = sv_parallel_for(ctx, "fisher_test simulation", B, threads, fsim_task, &J, err);
    if (!st) {
        /* R: tables with statistic <= observed / (1 + 64 eps) */
        double lim = obs / (1.0 + 64.0 * DBL_EPSILON);
        double k = 0;
        for (size_t b = 0; b < B; b++) k += stat[b] <= lim;
        out->p_value = (1.0 + k) / ((double)B + 1.0);
        out->statistic = obs;
    }
    free(rowsum), free(lfact), free(labels), free(stat), free(scratch);
    return st;
}

/* ---- t tests ---------------------------------------------------------------------- */

sv_status sv_t_test(const double *x, size_t nx, const double *y, size_t ny,
                    double mu, int var_equal, double level,
                    sv_alternative alt, sv_htest *out, sv_err *err)
{
    htest_init(out);
    double mx = sv_mean(x, nx), vx = sv_var(x, nx);
    double df, se, est;
    if (!y) {
        if (nx < 2) return sv_err_set(err, SV_EINVAL, "not enough observations in x (%zu)", nx);
        df = (double)nx - 1.0;
        se = sqrt(vx / (double)nx);
        est = mx;
        out->estimate[0] = mx;
    } else {
        double my = sv_mean(y, ny), vy = sv_var(y, ny);
        if (nx < 1 || ny < 1 || (!var_equal && (nx < 2 || ny < 2)) || nx + ny < 3)
            return sv_err_set(err, SV_EINVAL, "not enough observations (x has %zu, y has %zu)", nx, ny);
        if (var_equal) {
            df = (double)(nx + ny - 2);
            double v = 0;
            if (nx > 1) v += ((double)nx - 1.0) * vx;
            if (ny > 1) v += ((double)ny - 1.0) * vy;
            v /= df;
            se = sqrt(v * (1.0 / (double)nx + 1.0 / (double)ny));
        } else {
            double sx = vx / (double)nx, sy = vy / (double)ny;
            se = sqrt(sx + sy);
            df = (sx + sy) * (sx + sy) / (sx * sx / ((double)nx - 1.0) + sy * sy / ((double)ny - 1.0));
        }
        est = mx - my;
        out->estimate[0] = mx;
        out->estimate[1] = my;
    }
    /* R: stderr < 10 eps max(|mx|, |my|) */
    double scale = fabs(out->estimate[0]);
    if (y && fabs(out->estimate[1]) > scale) scale = fabs(out->estimate[1]);
    if (!(se >= 10 * DBL_EPSILON * scale))
        return sv_err_set(err, SV_EINVAL, "data are essentially constant");
    double t = (est - mu) / se;
    out->statistic = t;
    out->df = df;
    out->stderr_ = se;
    double alpha = 1.0 - level;
    if (alt == SV_LESS) {
        out->p_value = sv_pt(t, df, 1);
        out->conf_int[0] = -INFINITY;
        out->conf_int[1] = mu + (t + sv_qt(level, df, 1)) * se;
    } else if (alt == SV_GREATER) {
        out->p_value = sv_pt(t, df, 0);
        out->conf_int[0] = mu + (t - sv_qt(level, df, 1)) * se;
        out->conf_int[1] = INFINITY;
    } else {
        out->p_value = 2.0 * sv_pt(-fabs(t), df, 1);
        double c = sv_qt(1.0 - alpha / 2.0, df, 1);
        out->conf_int[0] = mu + (t - c) * se;
        out->conf_int[1] = mu + (t + c) * se;
    }
    return SV_OK;
}

/* ---- ranks ------------------------------------------------------------------------- */

/* Average ranks (R's rank(ties.method = "average")) of v[0..n) into r;
 * returns sum over tie groups of (t^3 - t) in *ties (may be NULL). */
static sv_status average_ranks(const double *v, size_t n, double *r, double *ties, sv_err *err)
{
    uint32_t *o = sv_malloc(n + 1, sizeof *o);
    if (!o) return sv_err_set(err, SV_ENOMEM, "out of memory");
    sv_status st = sv_order_doubles(v, n, o, err);
    if (st) {
        free(o);
        return st;
    }
    double tsum = 0;
    for (size_t k = 0; k < n;) {
        size_t e = k;
        while (e < n && v[o[e]] == v[o[k]]) e++;
        double avg = ((double)k + 1.0 + (double)e) / 2.0; /* ranks k+1..e */
        for (size_t j = k; j < e; j++) r[o[j]] = avg;
        double t = (double)(e - k);
        tsum += t * t * t - t;
        k = e;
    }
    if (ties) *ties = tsum;
    free(o);
    return SV_OK;
}

/*
 * p-value of a centred rank statistic z (statistic minus its mean) with
 * standard deviation sigma by the normal approximation, with R's
 * continuity correction when `correct` (wilcox.test: 0.5 towards zero for
 * two-sided tests, in the direction of the alternative otherwise).
 */
static double rank_normal_p(double z, double sigma, sv_alternative alt, int correct)
{
    double corr = 0;
    if (correct) {
        if (alt == SV_TWO_SIDED)
            corr = z > 0 ? 0.5 : (z < 0 ? -0.5 : 0);
        else
            corr = alt == SV_GREATER ? 0.5 : -0.5;
    }
    z = (z - corr) / sigma;
    if (alt == SV_LESS) return sv_pnorm(z, 1);
    if (alt == SV_GREATER) return sv_pnorm(z, 0);
    double lo = sv_pnorm(z, 1), up = sv_pnorm(z, 0);
    return 2.0 * (lo < up ? lo : up);
}

/* ---- Wilcoxon rank-sum -------------------------------------------------------------- */

/* Frequencies of the Mann-Whitney statistic U (0..m n) for m and n
 * observations without ties: c(i, j, u) = c(i-1, j, u - j) + c(i, j-1, u)
 * (the largest observation is an x, beating all j y's, or a y). freq gets
 * m n + 1 values; returns the total C(m + n, m). */
static double wilcox_freq(size_t m, size_t n, double *freq, double *work)
{
    /* work holds (n + 1) rows of length m n + 1: c(i, j, .) for the
     * current i, j = 0..n, updated in place from i - 1 to i. */
    size_t L = m * n + 1;
    for (size_t j = 0; j <= n; j++) {
        double *row = work + j * L;
        for (size_t u = 0; u < L; u++) row[u] = 0;
        row[0] = 1; /* i = 0: U = 0 */
    }
    for (size_t i = 1; i <= m; i++) {
        /* c(i, 0, .) = [U = 0] stays; for j >= 1, in increasing j, the new
         * c(i, j, u) = old c(i-1, j, u - j) + new c(i, j-1, u) */
        for (size_t j = 1; j <= n; j++) {
            double *row = work + j * L, *prev = work + (j - 1) * L;
            size_t umax = i * j;
            for (size_t u = umax + 1; u-- > 0;) {
                double a = u >= j ? row[u - j] : 0;
                row[u] = a + (u <= i * (j - 1) ? prev[u] : 0);
            }
        }
    }
    double *res = work + n * L, tot = 0;
    for (size_t u = 0; u < L; u++) {
        freq[u] = res[u];
        tot += res[u];
    }
    return tot;
}

double sv_pwilcox(double q, size_t m, size_t n, int lower)
{
    if (isnan(q)) return q;
    q = floor(q + 1e-7);
    double mn = (double)m * (double)n;
    if (q < 0) return lower ? 0.0 : 1.0;
    if (q >= mn) return lower ? 1.0 : 0.0;
    if (m > 200 || n > 200) return NAN;
    size_t L = m * n + 1;
    double *freq = sv_malloc(L, sizeof *freq);
    double *work = sv_malloc((n + 1) * L, sizeof *work);
    if (!freq || !work) {
        free(freq), free(work);
        return NAN;
    }
    double tot = wilcox_freq(m, n, freq, work);
    double s = 0;
    if (lower)
        for (size_t u = 0; u <= (size_t)q; u++) s += freq[u];
    else
        for (size_t u = (size_t)q + 1; u < L; u++) s += freq[u];
    free(freq), free(work);
    return s / tot;
}

sv_status sv_wilcox_test(const double *x, size_t nx, const double *y, size_t ny,
                         double mu, int exact, int correct, sv_alternative alt,
                         sv_htest *out, sv_err *err)
{
    htest_init(out);
    if (nx < 1 || ny < 1)
        return sv_err_set(err, SV_EINVAL, "not enough observations (x has %zu, y has %zu)", nx, ny);
    size_t n = nx + ny;
    double *v = sv_malloc(2 * n, sizeof *v);
    if (!v) return sv_err_set(err, SV_ENOMEM, "out of memory");
    double *r = v + n;
    for (size_t i = 0; i < nx; i++) v[i] = x[i] - mu;
    for (size_t i = 0; i < ny; i++) v[nx + i] = y[i];
    double ties;
    sv_status st = average_ranks(v, n, r, &ties, err);
    if (st) {
        free(v);
        return st;
    }
    double rs = 0;
    for (size_t i = 0; i < nx; i++) rs += r[i];
    free(v);
    double W = rs - (double)nx * ((double)nx + 1.0) / 2.0;
    double mn = (double)nx * (double)ny;
    out->statistic = W;
    if (exact < 0) exact = nx < 50 && ny < 50;
    if (exact && ties == 0) {
        out->exact = 1;
        double p;
        if (alt == SV_LESS)
            p = sv_pwilcox(W, nx, ny, 1);
        else if (alt == SV_GREATER)
            p = sv_pwilcox(W - 1, nx, ny, 0);
        else {
            p = W > mn / 2 ? sv_pwilcox(W - 1, nx, ny, 0) : sv_pwilcox(W, nx, ny, 1);
            p = 2 * p < 1 ? 2 * p : 1;
        }
        if (isnan(p)) return sv_err_set(err, SV_EINVAL, "exact distribution limited to 200 per sample");
        out->p_value = p;
        return SV_OK;
    }
    double z = W - mn / 2.0;
    double nn = (double)n;
    double sigma = sqrt(mn / 12.0 * ((nn + 1.0) - ties / (nn * (nn - 1.0))));
    out->statistic = W;
    out->p_value = rank_normal_p(z, sigma, alt, correct);
    return SV_OK;
}

/* ---- Wilcoxon signed rank ----------------------------------------------------------- */

double sv_psignrank(double q, size_t n, int lower)
{
    if (isnan(q)) return q;
    q = floor(q + 1e-7);
    double top = (double)n * ((double)n + 1.0) / 2.0;
    if (q < 0) return lower ? 0.0 : 1.0;
    if (q >= top) return lower ? 1.0 : 0.0;
    if (n > 1000) return NAN;
    /* c[v] = number of subsets of {1..k} with sum v, k = 1..n (0/1 knapsack
     * counts, updated downwards in place) */
    size_t L = (size_t)top + 1;
    double *c = sv_calloc(L, sizeof *c);
    if (!c) return NAN;
    c[0] = 1;
    for (size_t k = 1; k <= n; k++) {
        size_t hi = k * (k + 1) / 2;
        for (size_t v = hi; v >= k; v--) c[v] += c[v - k];
    }
    double tot = 0, s = 0;
    for (size_t v = 0; v < L; v++) {
        tot += c[v];
        if (lower ? v <= (size_t)q : v > (size_t)q) s += c[v];
    }
    free(c);
    return s / tot;
}

sv_status sv_signrank_test(const double *x, size_t n, double mu, int exact, int correct,
                           sv_alternative alt, sv_htest *out, sv_err *err)
{
    htest_init(out);
    double *d = sv_malloc(2 * n + 1, sizeof *d);
    if (!d) return sv_err_set(err, SV_ENOMEM, "out of memory");
    double *r = d + n;
    size_t m = 0;
    int zeroes = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i] - mu;
        if (v == 0)
            zeroes = 1;
        else
            d[m++] = v;
    }
    if (m == 0) {
        free(d);
        return sv_err_set(err, SV_EINVAL, "not enough (non-missing, non-zero) observations");
    }
    double *a = sv_malloc(m, sizeof *a);
    if (!a) {
        free(d);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++) a[i] = fabs(d[i]);
    double ties;
    sv_status st = average_ranks(a, m, r, &ties, err);
    free(a);
    if (st) {
        free(d);
        return st;
    }
    double V = 0;
    for (size_t i = 0; i < m; i++)
        if (d[i] > 0) V += r[i];
    free(d);
    out->statistic = V;
    double dm = (double)m, half = dm * (dm + 1.0) / 4.0;
    if (exact < 0) exact = m < 50;
    if (exact && ties == 0 && !zeroes) {
        out->exact = 1;
        double p;
        if (alt == SV_LESS)
            p = sv_psignrank(V, m, 1);
        else if (alt == SV_GREATER)
            p = sv_psignrank(V - 1, m, 0);
        else {
            p = V > half ? sv_psignrank(V - 1, m, 0) : sv_psignrank(V, m, 1);
            p = 2 * p < 1 ? 2 * p : 1;
        }
        if (isnan(p)) return sv_err_set(err, SV_EINVAL, "exact distribution limited to 1000 values");
        out->p_value = p;
        return SV_OK;
    }
    double z = V - half;
    double sigma = sqrt(dm * (dm + 1.0) * (2.0 * dm + 1.0) / 24.0 - ties / 48.0);
    out->p_value = rank_normal_p(z, sigma, alt, correct);
    return SV_OK;
}

/* ---- Kruskal-Wallis -------------------------------------------------------------------- */

sv_status sv_kruskal_test(const double *x, const int *group, size_t n, int k,
                          sv_htest *out, sv_err *err)
{
    htest_init(out);
    if (n < 2) return sv_err_set(err, SV_EINVAL, "not enough observations (%zu)", n);
    double *r = sv_malloc(n, sizeof *r);
    double *rsum = sv_calloc((size_t)k * 2, sizeof *rsum);
    if (!r || !rsum) {
        free(r), free(rsum);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    double ties;
    sv_status st = average_ranks(x, n, r, &ties, err);
    if (st) {
        free(r), free(rsum);
        return st;
    }
    double *cnt = rsum + k;
    for (size_t i = 0; i < n; i++) {
        rsum[group[i]] += r[i];
        cnt[group[i]] += 1;
    }
    double s = 0;
    int present = 0;
    for (int g = 0; g < k; g++)
        if (cnt[g] > 0) {
            s += rsum[g] * rsum[g] / cnt[g];
            present++;
        }
    free(r), free(rsum);
    if (present < 2) return sv_err_set(err, SV_EINVAL, "all observations are in the same group");
    double nn = (double)n;
    double H = (12.0 * s / (nn * (nn + 1.0)) - 3.0 * (nn + 1.0)) / (1.0 - ties / (nn * nn * nn - nn));
    out->statistic = H;
    out->df = (double)(present - 1);
    out->p_value = sv_pchisq(H, out->df, 0);
    return SV_OK;
}

/* ---- p.adjust --------------------------------------------------------------------------- */

typedef struct pv_idx {
    double p;
    size_t i;
} pv_idx;

static int cmp_pv(const void *a, const void *b)
{
    const pv_idx *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? -1 : 1;
    return x->i < y->i ? -1 : (x->i > y->i);
}

sv_status sv_p_adjust(const double *p, size_t n, sv_padjust method, double *out, sv_err *err)
{
    pv_idx *s = sv_malloc(n + 1, sizeof *s);
    if (!s) return sv_err_set(err, SV_ENOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = p[i];
        if (!isnan(p[i])) s[m++] = (pv_idx){p[i], i};
    }
    qsort(s, m, sizeof *s, cmp_pv);
    double dm = (double)m;
    switch (method) {
    case SV_PADJ_NONE:
        break;
    case SV_PADJ_BONFERRONI:
        for (size_t k = 0; k < m; k++) out[s[k].i] = fmin(1.0, dm * s[k].p);
        break;
    case SV_PADJ_HOLM: {
        /* ascending: cummax((m - k + 1) p_(k)) */
        double run = 0;
        for (size_t k = 0; k < m; k++) {
            double v = (dm - (double)k) * s[k].p;
            if (v > run) run = v;
            out[s[k].i] = fmin(1.0, run);
        }
        break;
    }
    case SV_PADJ_HOCHBERG:
    case SV_PADJ_BH:
    case SV_PADJ_BY: {
        /* descending: cummin(f(k) p_(k)) */
        double q = 1.0;
        if (method == SV_PADJ_BY) {
            q = 0;
            for (size_t k = 1; k <= m; k++) q += 1.0 / (double)k;
        }
        double run = INFINITY;
        for (size_t k = m; k-- > 0;) {
            double rank = (double)k + 1.0;
            double v = method == SV_PADJ_HOCHBERG ? (dm - rank + 1.0) * s[k].p
                                                  : q * dm / rank * s[k].p;
            if (v < run) run = v;
            out[s[k].i] = fmin(1.0, run);
        }
        break;
    }
    }
    free(s);
    return SV_OK;
}

/* ---- bootstrap percentile interval -------------------------------------------------- */

size_t sv_boot_percentile(double *x, size_t n, double level, double *lo, double *hi, double *sd)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) x[m++] = x[i];
    double mean = 0, ss = 0;
    for (size_t i = 0; i < m; i++) mean += x[i];
    mean /= (double)m;
    for (size_t i = 0; i < m; i++) ss += (x[i] - mean) * (x[i] - mean);
    if (sd) *sd = m > 1 ? sqrt(ss / (double)(m - 1)) : NAN;
    if (m == 0) {
        if (lo) *lo = NAN;
        if (hi) *hi = NAN;
        return 0;
    }
    sv_sort_doubles(x, m);
    if (lo) *lo = sv_quantile_sorted(x, m, (1.0 - level) / 2.0);
    if (hi) *hi = sv_quantile_sorted(x, m, 1.0 - (1.0 - level) / 2.0);
    return m;
}
