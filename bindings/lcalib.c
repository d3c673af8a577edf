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

static int l_curve(lua_State *L)
{
    static const char *const allowed[] = {"bins", "strategy", "level", NULL};
    static const char *const strategies[] = {"uniform", "quantile", "equal_size", NULL};
    size_t n;
    const double *y = check_y(L, 1, &n);
    const double *p = check_prob(L, 2, n, 0);
    svL_checkopts(L, 3, "calib.curve", allowed);
    lua_Integer bins = svL_opt_int(L, 3, "calib.curve", "bins", 10, 1, 100000);
    int strat = svL_opt_enum(L, 3, "calib.curve", "strategy", 0, strategies);
    double level = svL_opt_level(L, 3, "calib.curve", "level", 0.95);
    double *buf = malloc(3 * (size_t)bins * sizeof *buf);
    if (!buf) return luaL_error(L, "calib.curve: out of memory");
    size_t nb;
    sv_err e;
    if (sv_calib_curve(y, p, n, (size_t)bins, (sv_calib_bins)strat, buf, buf + bins, buf + 2 * bins, &nb, &e)) {
        free(buf);
        return svL_engine_error(L, "calib.curve", &e);
    }
    lua_createtable(L, 0, 3);
    const char *names[3] = {"mean_predicted", "observed", "n"};
    for (int k = 0; k < 3; k++) {
        double *v = svL_newvector(L, nb);
        for (size_t i = 0; i < nb; i++) v[i] = buf[(size_t)k * (size_t)bins + i];
        lua_setfield(L, -2, names[k]);
    }
    /* Wilson interval of each bin's observed rate */
    double *lo = svL_newvector(L, nb);
    lua_setfield(L, -2, "lo");
    double *hi = svL_newvector(L, nb);
    lua_setfield(L, -2, "hi");
    for (size_t i = 0; i < nb; i++) {
        double cnt = buf[2 * (size_t)bins + i];
        sv_ci_wilson(nearbyint(buf[(size_t)bins + i] * cnt), cnt, level, &lo[i], &hi[i]);
    }
    free(buf);
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
                                 {NULL, NULL}};

int luaopen_sylva_calib(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
