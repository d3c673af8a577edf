/*
 * lcalib.c - the sv.calib module: Brier score, logistic recalibration
 * (calibration intercept, slope, calibration-in-the-large), the
 * Hosmer-Lemeshow test, binned calibration curves and decision curve
 * analysis (docs/diagnostics.md).
 */
#include <math.h>
#include <stdlib.h>

#include "../engine/sv_metrics.h"
#include "lsylva.h"

static const double *check_y(lua_State *L, int arg, size_t *n)
{
    const double *y = svL_check01(L, arg, n);
    if (*n == 0) luaL_argerror(L, arg, "no rows");
    return y;
}

/* Predicted probabilities: in [0, 1], or (0, 1) when open. */
static const double *check_prob(lua_State *L, int arg, size_t n, int open)
{
    const double *p = svL_checklen(L, arg, n);
    for (size_t i = 0; i < n; i++) {
        int ok = open ? (p[i] > 0 && p[i] < 1) : (p[i] >= 0 && p[i] <= 1);
        if (!ok) {
            const char *msg = lua_pushfstring(L, "element %d is %f, expected a probability in %s",
                                              (int)i + 1, p[i], open ? "(0, 1)" : "[0, 1]");
            luaL_argerror(L, arg, msg);
        }
    }
    return p;
}

static int l_brier(lua_State *L)
{
    size_t n;
    const double *y = check_y(L, 1, &n);
    const double *p = check_prob(L, 2, n, 0);
    lua_pushnumber(L, sv_brier(y, p, n));
    return 1;
}

static int l_slope(lua_State *L)
{
    static const char *const allowed[] = {NULL};
    size_t n;
    const double *y = check_y(L, 1, &n);
    const double *p = check_prob(L, 2, n, 1);
    svL_checkopts(L, 3, "calib.slope", allowed);
    sv_recal_result r;
    sv_err e;
    if (sv_calib_recalibrate(y, p, n, &r, &e)) return svL_engine_error(L, "calib.slope", &e);
    lua_createtable(L, 0, 6);
    svL_setnum(L, "intercept", r.intercept);
    svL_setnum(L, "slope", r.slope);
    svL_setnum(L, "se_intercept", r.se_intercept);
    svL_setnum(L, "se_slope", r.se_slope);
    svL_setnum(L, "citl", r.citl);
    svL_setnum(L, "se_citl", r.se_citl);
    return 1;
}

static int l_hosmer_lemeshow(lua_State *L)
{
    static const char *const allowed[] = {"g", NULL};
    size_t n;
    const double *y = check_y(L, 1, &n);
    const double *p = check_prob(L, 2, n, 0);
    svL_checkopts(L, 3, "calib.hosmer_lemeshow", allowed);
    lua_Integer g = svL_opt_int(L, 3, "calib.hosmer_lemeshow", "g", 10, 3, 1000000);
    sv_hl_result r;
    sv_err e;
    if (sv_calib_hosmer_lemeshow(y, p, n, (size_t)g, &r, &e))
        return svL_engine_error(L, "calib.hosmer_lemeshow", &e);
    lua_createtable(L, 0, 7);
    svL_setnum(L, "statistic", r.statistic);
    svL_setnum(L, "parameter", r.df);
    svL_setnum(L, "df", r.df);
    svL_setnum(L, "p_value", r.p_value);
    svL_setnum(L, "p", r.p_value);
    lua_pushinteger(L, (lua_Integer)r.groups);
    lua_setfield(L, -2, "groups");
    lua_pushstring(L, "Hosmer and Lemeshow goodness of fit (GOF) test");
    lua_setfield(L, -2, "method");
    return 1;
}

/* Pushes {mean_predicted=, observed=, n=, lo=, hi=} of sv_calib_curve. */
static void push_curve(lua_State *L, const char *fname, const double *y, const double *p,
                       size_t n, size_t bins, int strat, double level)
{
    double *buf = lua_newuserdatauv(L, 3 * bins * sizeof *buf, 0);
    size_t nb;
    sv_err e;
    if (sv_calib_curve(y, p, n, bins, (sv_calib_bins)strat, buf, buf + bins, buf + 2 * bins, &nb,
                       &e))
        svL_engine_error(L, fname, &e);
    lua_createtable(L, 0, 5);
    const char *names[3] = {"mean_predicted", "observed", "n"};
    for (int k = 0; k < 3; k++) {
        double *v = svL_newvector(L, nb);
        for (size_t i = 0; i < nb; i++) v[i] = buf[(size_t)k * bins + i];
        lua_setfield(L, -2, names[k]);
    }
    /* Wilson interval of each bin's observed rate */
    double *lo = svL_newvector(L, nb);
    lua_setfield(L, -2, "lo");
    double *hi = svL_newvector(L, nb);
    lua_setfield(L, -2, "hi");
    for (size_t i = 0; i < nb; i++) {
        double cnt = buf[2 * bins + i];
        sv_ci_wilson(nearbyint(buf[bins + i] * cnt), cnt, level, &lo[i], &hi[i]);
    }
    lua_remove(L, -2); /* buf */
}

static const char *const curve_opts[] = {"bins", "strategy", "level", NULL};
static const char *const strategies[] = {"uniform", "quantile", "equal_size", NULL};

static int l_curve(lua_State *L)
{
    size_t n;
    const double *y = check_y(L, 1, &n);
    const double *p = check_prob(L, 2, n, 0);
    svL_checkopts(L, 3, "calib.curve", curve_opts);
    lua_Integer bins = svL_opt_int(L, 3, "calib.curve", "bins", 10, 1, 100000);
    int strat = svL_opt_enum(L, 3, "calib.curve", "strategy", 0, strategies);
    double level = svL_opt_level(L, 3, "calib.curve", "level", 0.95);
    push_curve(L, "calib.curve", y, p, n, (size_t)bins, strat, level);
    return 1;
}

/* sv.calib.brier_multiclass(y, P) */
static int l_brier_multiclass(lua_State *L)
{
    lua_settop(L, 2);
    int *codes, K;
    svL_matrix *P = svL_checkclasses(L, "calib.brier_multiclass", &codes, &K);
    double b;
    sv_err e;
    if (sv_brier_multiclass(codes, P->data, P->nrow, K, &b, &e)) {
        if (e.status == SV_EINVAL) luaL_argerror(L, 2, e.msg);
        return svL_engine_error(L, "calib.brier_multiclass", &e);
    }
    lua_pushnumber(L, b);
    return 1;
}

/* sv.calib.per_class(y, P [, {bins, strategy, level}]) -> one curve and
 * Brier score per class (one versus rest) */
static int l_per_class(lua_State *L)
{
    const char *fname = "calib.per_class";
    lua_settop(L, 3);
    svL_checkopts(L, 3, fname, curve_opts);
    lua_Integer bins = svL_opt_int(L, 3, fname, "bins", 10, 1, 100000);
    int strat = svL_opt_enum(L, 3, fname, "strategy", 0, strategies);
    double level = svL_opt_level(L, 3, fname, "level", 0.95);
    int *codes, K;
    svL_matrix *P = svL_checkclasses(L, fname, &codes, &K);
    int labels = lua_gettop(L);
    size_t n = P->nrow;
    for (size_t j = 0; j < n * (size_t)K; j++)
        if (!(P->data[j] >= 0 && P->data[j] <= 1)) {
            const char *m = lua_pushfstring(L, "P[%d, %d] is %f, not a probability", (int)(j % n) + 1,
                                            (int)(j / n) + 1, P->data[j]);
            luaL_argerror(L, 2, m);
        }
    double *yk = lua_newuserdatauv(L, n * sizeof *yk, 0);
    lua_createtable(L, K, 0);
    for (int k = 0; k < K; k++) {
        for (size_t i = 0; i < n; i++) yk[i] = codes[i] == k;
        const double *pk = P->data + (size_t)k * n;
        push_curve(L, fname, yk, pk, n, (size_t)bins, strat, level);
        lua_rawgeti(L, labels, k + 1);
        lua_setfield(L, -2, "class");
        svL_setnum(L, "brier", sv_brier(yk, pk, n));
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

static int l_dca(lua_State *L)
{
    static const char *const allowed[] = {"thresholds", "from", "to", "by", NULL};
    size_t n;
    const double *y = check_y(L, 1, &n);
    const double *p = check_prob(L, 2, n, 0);
    svL_checkopts(L, 3, "calib.dca", allowed);
    size_t nt;
    const double *thr;
    if (svL_opt_get(L, 3, "thresholds") != LUA_TNIL) {
        int idx = lua_gettop(L);
        thr = svL_checkvector(L, idx, &nt);
        /* the checked vector stays at idx for the call */
    } else {
        lua_pop(L, 1);
        double from = svL_opt_num(L, 3, "calib.dca", "from", 0.01, 0, 1);
        double to = svL_opt_num(L, 3, "calib.dca", "to", 0.99, 0, 1);
        double by = svL_opt_num(L, 3, "calib.dca", "by", 0.01, 1e-9, 1);
        if (!(to >= from)) svL_opt_error(L, "calib.dca", "to", "must not be below 'from'");
        nt = (size_t)floor((to - from) / by + 1e-9) + 1;
        double *t = svL_newvector(L, nt);
        for (size_t k = 0; k < nt; k++) t[k] = from + (double)k * by; /* R: seq(from, to, by) */
        thr = t;
    }
    int thr_idx = lua_gettop(L);
    double *buf = malloc(2 * (nt + 1) * sizeof *buf);
    if (!buf) return luaL_error(L, "calib.dca: out of memory");
    sv_err e;
    double prev;
    if (sv_calib_dca(y, p, n, thr, nt, buf, buf + nt, &prev, &e)) {
        free(buf);
        return svL_engine_error(L, "calib.dca", &e);
    }
    lua_createtable(L, 0, 5);
    svL_setnum(L, "prevalence", prev);
    double *t = svL_newvector(L, nt);
    for (size_t k = 0; k < nt; k++) t[k] = thr[k];
    lua_setfield(L, -2, "threshold");
    double *a = svL_newvector(L, nt);
    for (size_t k = 0; k < nt; k++) a[k] = buf[k];
    lua_setfield(L, -2, "model");
    double *b = svL_newvector(L, nt);
    for (size_t k = 0; k < nt; k++) b[k] = buf[nt + k];
    lua_setfield(L, -2, "all");
    double *z = svL_newvector(L, nt);
    for (size_t k = 0; k < nt; k++) z[k] = 0;
    lua_setfield(L, -2, "none");
    (void)thr_idx;
    free(buf);
    return 1;
}

static const luaL_Reg funcs[] = {{"brier", l_brier},
                                 {"slope", l_slope},
                                 {"hosmer_lemeshow", l_hosmer_lemeshow},
                                 {"curve", l_curve},
                                 {"dca", l_dca},
                                 {"brier_multiclass", l_brier_multiclass},
                                 {"per_class", l_per_class},
                                 {NULL, NULL}};

int luaopen_sylva_calib(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
