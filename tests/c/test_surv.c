/*
 * test_surv.c - the survival engine on cases small enough to work by hand,
 * the distribution tails against R's values, and the radix order.
 * (The agreement with R on the real cohorts is tests/lua/test_surv.lua.)
 *
 * The 6-subject example used throughout:
 *   group A: t = 1 (event), 3 (event), 5 (censored)
 *   group B: t = 2 (event), 4 (censored), 6 (event)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_dist.h"
#include "sv_surv.h"
#include "fixture.h"

static const double T6[6] = {1, 3, 5, 2, 4, 6};
static const double E6[6] = {1, 1, 0, 1, 0, 1};
static const int G6[6] = {0, 0, 0, 1, 1, 1};

static void assert_rel(double got, double want, double tol)
{
    double d = fabs(got - want);
    double bound = want == 0 ? tol : tol * fabs(want);
    if (!(d <= bound)) fail_msg("got %.17g, want %.17g (diff %.3g)", got, want, d);
}

/*
 * Kaplan-Meier of the six, pooled:
 *   t=1: n=6 d=1  S = 5/6          Greenwood term d/(n(n-d)) = 1/30
 *   t=2: n=5 d=1  S = 5/6*4/5 = 2/3               term 1/20
 *   t=3: n=4 d=1  S = 2/3*3/4 = 1/2               term 1/12
 *   t=4: n=3 censored, S = 1/2;  t=5: n=2 censored, S = 1/2
 *   t=6: n=1 d=1  S = 0, term 1/(1*0) = Inf (R: std.err Inf, limits NA)
 * std_err(3) = sqrt(1/30 + 1/20 + 1/12) = sqrt(10/60) = sqrt(1/6).
 * S = 1/2 exactly on [3, 6), dropping at 6: median (3 + 6) / 2 = 4.5.
 * Log CI at t=1: 5/6 exp(-+1.959964 sqrt(1/30)), upper capped at 1.
 */
static void test_km_six_by_hand(void **state)
{
    (void)state;
    double buf[8 * 6];
    sv_km km = {0, buf, buf + 6, buf + 12, buf + 18, buf + 24, buf + 30, buf + 36, buf + 42,
                0, 0, 0, 0, 0};
    sv_km_opts o;
    sv_km_opts_default(&o);
    sv_err err;
    assert_int_equal(sv_km_fit(T6, E6, 6, &o, &km, &err), SV_OK);
    assert_int_equal(km.nrow, 6);
    const double surv[6] = {5.0 / 6, 2.0 / 3, 0.5, 0.5, 0.5, 0};
    const double nrisk[6] = {6, 5, 4, 3, 2, 1};
    for (int i = 0; i < 6; i++) {
        assert_true(km.time[i] == i + 1);
        assert_true(km.n_risk[i] == nrisk[i]);
        assert_rel(km.surv[i], surv[i], 1e-15);
    }
    assert_true(km.n_censor[3] == 1 && km.n_event[3] == 0);
    assert_rel(km.std_err[0], sqrt(1.0 / 30), 1e-15);
    assert_rel(km.std_err[2], sqrt(1.0 / 6), 1e-15);
    assert_rel(km.std_err[4], sqrt(1.0 / 6), 1e-15);
    assert_true(isinf(km.std_err[5]));
    assert_true(isnan(km.lower[5]) && isnan(km.upper[5]));
    double z = 1.959963984540054;
    assert_rel(km.lower[0], 5.0 / 6 * exp(-z * sqrt(1.0 / 30)), 1e-14);
    assert_true(km.upper[0] == 1);
    assert_rel(km.median, 4.5, 0);
    assert_true(km.events == 4);

    /* RMST to tau = 4: 1*1 + 1*5/6 + 1*2/3 + 1*1/2 = 3.
     * Its variance: areas from t_k to 4: A1 = 5/6+2/3+1/2 = 2,
     * A2 = 2/3+1/2 = 7/6, A3 = 1/2; var = 4/30 + (49/36)/20 + (1/4)/12. */
    double r, se;
    sv_km_rmst(&km, 4, &r, &se);
    assert_rel(r, 3, 1e-15);
    assert_rel(se, sqrt(4.0 / 30 + 49.0 / 36 / 20 + 0.25 / 12), 1e-15);

    /* at t = 0.5, 3, 3.5: S = 1, 1/2, 1/2; at risk 6, 4, 3; events in
     * (0, 0.5] = 0, (0.5, 3] = 3, (3, 3.5] = 0. */
    double t[3] = {0.5, 3, 3.5}, s[3], sd[3], lo[3], hi[3], nr[3], ne[3];
    assert_int_equal(sv_km_at(&km, SV_CONF_LOG, 0.95, t, 3, s, sd, lo, hi, nr, ne, &err), SV_OK);
    assert_true(s[0] == 1 && s[1] == 0.5 && s[2] == 0.5);
    assert_true(nr[0] == 6 && nr[1] == 4 && nr[2] == 3);
    assert_true(ne[0] == 0 && ne[1] == 3 && ne[2] == 0);
}

/*
 * Log-rank, A against B, at each event time (n_A, n_B at risk):
 *   t=1 (3,3) d=1 in A: E_A = 3/6 = 0.5, V = d(n-d)/(n-1) pA(1-pA) = 1/4
 *   t=2 (2,3) d=1 in B: E_A = 2/5,       V = 1 * 2/5 * 3/5 = 6/25
 *   t=3 (2,2) d=1 in A: E_A = 1/2,       V = 1/4
 *   t=6 (0,1) d=1 in B: E_A = 0,         V = 0 (n = 1)
 * O_A = 2, E_A = 1.4, V = 0.74: chisq = 0.36 / 0.74 = 18/37.
 * Peto-Peto (rho = 1), weights S(t-) = 1, 5/6, 2/3, 1/2:
 * O_A = 1 + 2/3 = 5/3, E_A = 1/2 + 1/3 + 1/3 = 7/6,
 * V = 1/4 + 25/36 * 6/25 + 4/9 * 1/4 = 19/36: chisq = (1/4)/(19/36) = 9/19.
 */
static void test_logrank_six_by_hand(void **state)
{
    (void)state;
    double buf[8];
    sv_logrank_result r = {0, 0, 0, buf, buf + 2, buf + 4};
    sv_logrank_opts o;
    sv_logrank_opts_default(&o);
    sv_err err;
    assert_int_equal(sv_logrank(T6, E6, G6, 2, NULL, 0, 6, &o, &r, &err), SV_OK);
    assert_rel(r.observed[0], 2, 0);
    assert_rel(r.expected[0], 1.4, 1e-15);
    assert_rel(r.expected[1], 2.6, 1e-15);
    assert_rel(r.var[0], 0.74, 1e-15);
    assert_rel(r.var[1], -0.74, 1e-15);
    assert_rel(r.chisq, 18.0 / 37, 1e-14);
    assert_int_equal(r.df, 1);
    assert_rel(r.p, 4.8549880264428230e-01, 1e-14); /* R: pchisq(18/37, 1, lower = FALSE) */

    o.rho = 1;
    assert_int_equal(sv_logrank(T6, E6, G6, 2, NULL, 0, 6, &o, &r, &err), SV_OK);
    assert_rel(r.observed[0], 5.0 / 3, 1e-15);
    assert_rel(r.expected[0], 7.0 / 6, 1e-15);
    assert_rel(r.chisq, 9.0 / 19, 1e-14);
    assert_rel(r.p, 4.9129712421589311e-01, 1e-14);

    /* A single group present is refused, as survdiff ("only 1 group"). */
    int one_group[6] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(sv_logrank(T6, E6, one_group, 2, NULL, 0, 6, &o, &r, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "only 1 group"));
}

/* Concordance of four subjects, times 1e 2e 3c 4e, risks 4 2 3 1:
 * comparable pairs (shorter time is an event): (1,2) 4>2 C, (1,3) 4>3 C,
 * (1,4) 4>1 C, (2,3) 2<3 D, (2,4) 2>1 C; subject 3 is censored: no pairs
 * from it. C = 4 / 5 = 0.8. With risks 4 2 2 2: (2,3) and (2,4) tie on
 * risk: C = (3 + 2/2) / 5 = 0.8 as well, with 2 tied pairs. */
static void test_concordance_by_hand(void **state)
{
    (void)state;
    const double t[4] = {1, 2, 3, 4}, e[4] = {1, 1, 0, 1};
    const double r1[4] = {4, 2, 3, 1}, r2[4] = {4, 2, 2, 2};
    sv_concordance_result c;
    sv_err err;
    assert_int_equal(sv_concordance(t, e, r1, NULL, 0, 4, &c, &err), SV_OK);
    assert_true(c.concordant == 4 && c.discordant == 1 && c.tied_risk == 0);
    assert_rel(c.concordance, 0.8, 1e-15);
    assert_int_equal(sv_concordance(t, e, r2, NULL, 0, 4, &c, &err), SV_OK);
    assert_true(c.concordant == 3 && c.discordant == 0 && c.tied_risk == 2);
    assert_rel(c.concordance, 0.8, 1e-15);
}

/*
 * Cox by hand: three subjects, all events, x = 1, 0, 1 at t = 1, 2, 3.
 * l(b) = log(u / (2u + 1)) + log(1 / (1 + u)) + log(1), u = e^b.
 * l'(b) = 1 - 2u/(2u + 1) - u/(1 + u) = 0  <=>  2u^2 = 1: u = 1/sqrt 2,
 * b = -log(2)/2. Information: the weighted variance of x in each risk set,
 * 2u/(2u + 1)^2 + u/(1 + u)^2 = 2 sqrt2 / (3 + 2 sqrt2), so
 * var = (3 + 2 sqrt2) / (2 sqrt2) = 1 + 3 / (2 sqrt2).
 * l(0) = log(1/3) + log(1/2) = -log 6.
 */
static void test_cox_three_by_hand(void **state)
{
    (void)state;
    const double t[3] = {1, 2, 3}, e[3] = {1, 1, 1}, X[3] = {1, 0, 1};
    double coef, se, hr, lo, hi, z, p, var;
    int aliased, infinite;
    sv_cox_result r;
    memset(&r, 0, sizeof r);
    r.coef = &coef, r.se = &se, r.hr = &hr, r.hr_lo = &lo, r.hr_hi = &hi, r.z = &z, r.p = &p;
    r.var = &var, r.aliased = &aliased, r.infinite = &infinite;
    sv_cox_opts o;
    sv_cox_opts_default(&o);
    sv_err err;
    assert_int_equal(sv_cox_fit(t, e, X, 3, 1, NULL, 0, &o, NULL, &r, &err), SV_OK);
    assert_true(r.converged);
    assert_rel(coef, -log(2.0) / 2, 1e-9);
    assert_rel(var, 1 + 3 / (2 * sqrt(2.0)), 1e-9);
    assert_rel(r.loglik_null, -log(6.0), 1e-15);
    double u = 1 / sqrt(2.0);
    assert_rel(r.loglik, log(u / (2 * u + 1)) - log(1 + u), 1e-12);
    assert_int_equal(aliased, 0);
    assert_int_equal(infinite, 0);
    assert_int_equal(r.df, 1);

    /* a raised cancel flag stops the iteration with SV_EINTR */
    int cancel = 1;
    sv_ctx ctx = {.cancel = &cancel};
    assert_int_equal(sv_cox_fit(t, e, X, 3, 1, NULL, 0, &o, &ctx, &r, &err), SV_EINTR);
    /* options out of range are refused, never silently replaced */
    o.max_iter = 0;
    assert_int_equal(sv_cox_fit(t, e, X, 3, 1, NULL, 0, &o, NULL, &r, &err), SV_EINVAL);
    sv_cox_opts_default(&o);
    o.conf_level = 0;
    assert_int_equal(sv_cox_fit(t, e, X, 3, 1, NULL, 0, &o, NULL, &r, &err), SV_EINVAL);
    sv_cox_opts_default(&o);
    /* NULL options are the defaults */
    assert_int_equal(sv_cox_fit(t, e, X, 3, 1, NULL, 0, NULL, NULL, &r, &err), SV_OK);
}

/* The O(n log n) counts equal an O(n^2) count of R's definition on
 * random data with many ties in time, risk and both, with strata. */
static void test_concordance_brute_force(void **state)
{
    (void)state;
    enum { N = 300 };
    double t[N], e[N], r[N];
    int s[N];
    uint64_t x = 12345;
    for (int rep = 0; rep < 20; rep++) {
        for (int i = 0; i < N; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            t[i] = 1 + (double)((x >> 33) % 25);
            e[i] = (double)((x >> 20) & 1);
            r[i] = (double)((x >> 40) % 9) - 4;
            s[i] = (int)((x >> 50) % 3);
        }
        for (int use_strata = 0; use_strata < 2; use_strata++) {
            double conc = 0, disc = 0, tx = 0, ty = 0, txy = 0;
            double dN[N], dD[N];
            memset(dN, 0, sizeof dN);
            memset(dD, 0, sizeof dD);
            for (int i = 0; i < N; i++) {
                for (int j = 0; j < N; j++) {
                    if (i == j || (use_strata && s[i] != s[j])) continue;
                    if (!e[i]) continue; /* i is the event of the pair */
                    if (t[j] < t[i]) continue;
                    if (t[j] == t[i]) {
                        if (e[j]) { /* both events at one time: count once */
                            if (j < i) continue;
                            if (r[i] == r[j]) txy += 1; else ty += 1;
                            continue;
                        }
                    }
                    double sc = r[i] > r[j] ? 1 : r[i] < r[j] ? 0 : 0.5;
                    if (r[i] > r[j]) conc += 1;
                    else if (r[i] < r[j]) disc += 1;
                    else tx += 1;
                    dN[i] += sc, dN[j] += sc, dD[i] += 1, dD[j] += 1;
                }
            }
            sv_concordance_result c;
            sv_err err;
            assert_int_equal(sv_concordance(t, e, r, use_strata ? s : NULL, 3, N, &c, &err), SV_OK);
            assert_true(c.concordant == conc);
            assert_true(c.discordant == disc);
            assert_true(c.tied_risk == tx);
            assert_true(c.tied_time == ty);
            assert_true(c.tied_both == txy);
            /* the infinitesimal jackknife variance, from the pair sums */
            double D = conc + disc + tx, C = (conc + tx / 2) / D, var = 0;
            for (int i = 0; i < N; i++) var += pow((dN[i] - C * dD[i]) / D, 2);
            assert_rel(c.var, var, 1e-12);
        }
    }
}

/* The tails the survival tests use (sv_dist.h), against R
 * (options(digits = 17)): relative agreement far out. */
static void test_distributions_match_r(void **state)
{
    (void)state;
    assert_rel(sv_pnorm(10, 0), 7.6198530241605269e-24, 1e-13);
    assert_rel(sv_pnorm(30, 0), 4.9067139271481872e-198, 1e-12);
    assert_rel(sv_pnorm(-1.5, 0), 9.3319279873114191e-01, 1e-15);
    assert_rel(sv_pchisq(100, 5, 0), 5.2851483609432400e-20, 1e-12);
    assert_rel(sv_pchisq(500, 10, 0), 4.4147360999137316e-101, 1e-11);
    assert_rel(sv_pchisq(1200, 3, 0), 7.3316715915506790e-260, 1e-11);
    assert_rel(sv_pchisq(3.5, 7, 0), 8.3522548261034213e-01, 1e-14);
    assert_rel(sv_pchisq(0.2, 3, 0), 9.7758929776164949e-01, 1e-14);
    /* sv_qnorm is a Newton solve on pnorm: within a few ulp (1e-14). */
    assert_rel(sv_qnorm(0.975, 1), 1.9599639845400536, 1e-14);
    assert_rel(sv_qnorm(0.95, 1), 1.6448536269514715, 1e-14);
    assert_rel(sv_qnorm(1e-10, 1), -6.3613409024040557, 1e-14);
    assert_true(sv_pchisq(0, 0, 0) == 0);
}

/* The radix order is ascending and stable, handles negatives and -0. */
static void test_order_stable(void **state)
{
    (void)state;
    const double key[8] = {3, -1, 2, -0.0, 0.0, 3, -1e300, 1e-300};
    const int within[8] = {1, 0, 1, 0, 0, 0, 1, 1};
    uint32_t perm[8];
    sv_err err;
    assert_int_equal(sv_surv_order(key, NULL, 0, 8, perm, &err), SV_OK);
    const uint32_t want[8] = {6, 1, 3, 4, 7, 2, 0, 5};
    assert_memory_equal(perm, want, sizeof want);
    assert_int_equal(sv_surv_order(key, within, 2, 8, perm, &err), SV_OK);
    const uint32_t want2[8] = {1, 3, 4, 5, 6, 7, 2, 0};
    assert_memory_equal(perm, want2, sizeof want2);
}

/* Bad input is refused with a message naming the element. */
static void test_bad_input(void **state)
{
    (void)state;
    const double t[3] = {1, -0.5, 2}, e[3] = {1, 1, 0}, e2[3] = {1, 2, 0};
    const double t3[3] = {1, 2, 3}, t0[3] = {0, 0, 2};
    sv_err err;
    assert_int_equal(sv_surv_check(t, e, 3, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "time[2]"));
    assert_non_null(strstr(err.msg, "times must be finite and >= 0"));
    /* time 0 is a time, as in R's survival (regression: it was refused) */
    assert_int_equal(sv_surv_check(t0, e, 3, &err), SV_OK);
    /* no observations: R's survfit errors, so do we (was an empty, NaN
     * result) */
    assert_int_equal(sv_surv_check(t, e, 0, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "no observations"));
    assert_int_equal(sv_surv_check(t3, e2, 3, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "event[2]"));
}

/* ---- against R on the gbsg cohort (tests/oracle/surv_r.R) ------------- */

/* Pairwise log-rank by grade: survdiff on each pair of grades and
 * p.adjust(holm / BH) of the three p-values, in R. */
static void test_pairwise_gbsg_grade(void **state)
{
    (void)state;
    sv_csv_table g, R;
    fx_read("tests/fixtures/data/gbsg.csv", &g);
    fx_read("tests/fixtures/surv/scalars.csv", &R);
    const double *t = fx_col(&g, "rfstime"), *e = fx_col(&g, "status"), *gr = fx_col(&g, "grade");
    int *codes = malloc(g.nrow * sizeof *codes);
    for (size_t i = 0; i < g.nrow; i++) codes[i] = (int)gr[i] - 1;
    const char *names[] = {"holm", "BH"};
    const sv_padjust methods[] = {SV_PADJ_HOLM, SV_PADJ_BH};
    for (int m = 0; m < 2; m++) {
        double chisq[3], p[3], padj[3];
        sv_err err;
        sv_logrank_opts o;
    sv_logrank_opts_default(&o);
        assert_int_equal(sv_logrank_pairwise(t, e, codes, 3, NULL, 0, g.nrow, &o, methods[m],
                                             chisq, p, padj, &err),
                         SV_OK);
        for (int q = 0; q < 3; q++) {
            char key[64];
            snprintf(key, sizeof key, "pw.gbsg.grade.p.%d", q + 1);
            fx_rel(p[q], fx_scalar(&R, key), 1e-9, key);
            snprintf(key, sizeof key, "pw.gbsg.grade.%s.%d", names[m], q + 1);
            fx_rel(padj[q], fx_scalar(&R, key), 1e-9, key);
        }
    }
    /* one group is refused; a pair with no events has p NaN, left out */
    double chisq[1], p[1], padj[1];
    sv_err err;
    const double t2[4] = {1, 2, 3, 4}, e0[4] = {0, 0, 0, 0};
    const int g2[4] = {0, 1, 0, 1};
    assert_int_equal(sv_logrank_pairwise(t2, e0, g2, 1, NULL, 0, 4, NULL, SV_PADJ_BH, chisq, p,
                                         padj, &err),
                     SV_EINVAL);
    assert_int_equal(sv_logrank_pairwise(t2, e0, g2, 2, NULL, 0, 4, NULL, SV_PADJ_BH, chisq, p,
                                         padj, &err),
                     SV_OK);
    assert_true(isnan(p[0]) && isnan(padj[0]));
    free(codes);
    sv_csv_free(&g);
    sv_csv_free(&R);
}

/* Cox warnings as R words them: the monotone likelihood of surv_r.R
 * (R: "Loglik converged before variable  1 ; coefficient may be
 * infinite.", tests/fixtures/surv/cox_mono_warning.txt) and the aliased
 * column agesize = age + size (R: coefficient NA). */
static void test_cox_warnings_as_r(void **state)
{
    (void)state;
    /* the variable R names in its warning */
    const char *root = getenv("SYLVA_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/surv/cox_mono_warning.txt", root ? root : ".");
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[256];
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    int rvar = 0;
    assert_int_equal(sscanf(line, "Loglik converged before variable %d", &rvar), 1);

    const double t[8] = {1, 2, 3, 4, 5, 6, 7, 8}, e[8] = {1, 1, 1, 1, 0, 1, 0, 1};
    const double X[16] = {1, 1, 1, 1, 0, 0, 0, 0, 0.5, -1, 2, 0.1, 0.3, -0.7, 1.2, 0.4};
    double buf[7 * 2 + 4 + 8];
    int flags[4];
    sv_cox_result r = {.coef = buf, .se = buf + 2, .hr = buf + 4, .hr_lo = buf + 6,
                       .hr_hi = buf + 8, .z = buf + 10, .p = buf + 12, .var = buf + 14,
                       .aliased = flags, .infinite = flags + 2, .lp = buf + 18};
    sv_cox_opts o;
    sv_cox_opts_default(&o);
    sv_err err;
    assert_int_equal(sv_cox_fit(t, e, X, 8, 2, NULL, 0, &o, NULL, &r, &err), SV_OK);
    const char *names[2] = {"x", "z"};
    char *w[SV_COX_MAX_WARNINGS];
    int nw = sv_cox_warnings(&r, 2, names, w);
    assert_int_equal(nw, 1);
    char want[128];
    snprintf(want, sizeof want, "Loglik converged before variable %d (%s); coefficient may be infinite",
             rvar, names[rvar - 1]);
    assert_string_equal(w[0], want);
    free(w[0]);
    /* unnamed columns read x1, x2 */
    nw = sv_cox_warnings(&r, 2, NULL, w);
    assert_int_equal(nw, 1);
    assert_non_null(strstr(w[0], "variable 1 (x1);"));
    free(w[0]);

    sv_csv_table g, R;
    fx_read("tests/fixtures/data/gbsg.csv", &g);
    fx_read("tests/fixtures/surv/scalars.csv", &R);
    size_t n = g.nrow;
    double *A = malloc(4 * n * sizeof *A), *big = malloc((7 * 4 + 16 + n) * sizeof *big);
    const double *age = fx_col(&g, "age"), *size = fx_col(&g, "size"), *nodes = fx_col(&g, "nodes");
    for (size_t i = 0; i < n; i++)
        A[i] = age[i], A[n + i] = size[i], A[2 * n + i] = age[i] + size[i], A[3 * n + i] = nodes[i];
    int fl[8];
    sv_cox_result a = {.coef = big, .se = big + 4, .hr = big + 8, .hr_lo = big + 12,
                       .hr_hi = big + 16, .z = big + 20, .p = big + 24, .var = big + 28,
                       .aliased = fl, .infinite = fl + 4, .lp = big + 44};
    assert_int_equal(sv_cox_fit(fx_col(&g, "rfstime"), fx_col(&g, "status"), A, n, 4, NULL, 0, &o,
                                NULL, &a, &err),
                     SV_OK);
    const char *an[4] = {"age", "size", "agesize", "nodes"};
    char expect[256] = "X matrix deemed to be singular; NA coefficient for variable(s) ";
    int first = 1;
    for (int j = 0; j < 4; j++) {
        char key[32];
        snprintf(key, sizeof key, "cox.alias.coef.%d", j + 1);
        if (!isnan(fx_scalar(&R, key))) continue;
        if (!first) strcat(expect, ", ");
        strcat(expect, an[j]);
        first = 0;
    }
    assert_false(first);
    nw = sv_cox_warnings(&a, 4, an, w);
    assert_int_equal(nw, 1);
    assert_string_equal(w[0], expect);
    free(w[0]);
    free(A), free(big);
    sv_csv_free(&g);
    sv_csv_free(&R);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_km_six_by_hand),
        cmocka_unit_test(test_logrank_six_by_hand),
        cmocka_unit_test(test_concordance_by_hand),
        cmocka_unit_test(test_cox_three_by_hand),
        cmocka_unit_test(test_concordance_brute_force),
        cmocka_unit_test(test_distributions_match_r),
        cmocka_unit_test(test_order_stable),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_pairwise_gbsg_grade),
        cmocka_unit_test(test_cox_warnings_as_r),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
