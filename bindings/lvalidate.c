/*
 * lvalidate.c - the C half of sv.validate (engine/sv_validate.h): metrics
 * over row lists, bootstrap row lists, the optimism / .632 / .632+
 * combination and prediction instability. Registered as sv._validate;
 * scripts/validate.lua runs the pipelines and is the public module.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/sv_stats.h"
#include "../engine/sv_validate.h"
#include "lsylva.h"

static const char *const metric_names[SV_VM_COUNT] = {"auc", "brier", "slope", "intercept",
                                                      "emax", "e90", "ici"};

static void push_metrics(lua_State *L, const double *v)
{
    lua_createtable(L, 0, SV_VM_COUNT);
    for (int k = 0; k < SV_VM_COUNT; k++) svL_setnum(L, metric_names[k], v[k]);
}

/* 1-based Lua row list at arg -> 0-based size_t array (userdata on the stack) */
static size_t *check_rows(lua_State *L, int arg, size_t n, size_t *m)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    size_t len = (size_t)luaL_len(L, arg);
    size_t *rows = lua_newuserdatauv(L, (len ? len : 1) * sizeof *rows, 0);
    for (size_t i = 0; i < len; i++) {
        lua_geti(L, arg, (lua_Integer)i + 1);
        int isint;
        lua_Integer r = lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint || r < 1 || (size_t)r > n) {
            const char *msg = lua_pushfstring(L, "row %d is not an integer in [1, %d]", (int)i + 1, (int)n);
            luaL_argerror(L, arg, msg);
        }
        rows[i] = (size_t)(r - 1);
    }
    *m = len;
    return rows;
}

/* metrics(y, p [, rows]) */
static int l_metrics(lua_State *L)
{
    lua_settop(L, 3);
    size_t n;
    const double *y = svL_check01(L, 1, &n);
    const double *p = svL_checklen(L, 2, n);
    size_t m = n, *rows = NULL;
    if (!lua_isnil(L, 3)) rows = check_rows(L, 3, n, &m);
    double out[SV_VM_COUNT];
    size_t dropped;
    sv_err e;
    if (sv_validate_metrics(y, p, n, rows, m, out, &dropped, &e))
        return svL_engine_error(L, "validate.metrics", &e);
    push_metrics(L, out);
    lua_pushinteger(L, (lua_Integer)dropped);
    lua_setfield(L, -2, "dropped");
    return 1;
}

/* lowess(x, y [, f = 2/3, iter = 3, delta = 1% of the range]) -> Vector of
 * the fitted values at x (sorted ascending, as R's lowess(x, y)$y); for
 * the calibration errors and their oracle test */
static int l_lowess(lua_State *L)
{
    size_t n;
    const double *x = svL_checkvector(L, 1, &n);
    const double *y = svL_checklen(L, 2, n);
    double f = luaL_optnumber(L, 3, 2.0 / 3.0);
    lua_Integer iter = luaL_optinteger(L, 4, 3);
    luaL_argcheck(L, f > 0, 3, "span must be positive");
    luaL_argcheck(L, iter >= 0 && iter <= 100, 4, "iterations out of range");
    double delta = n ? luaL_optnumber(L, 5, 0.01 * (x[n - 1] - x[0])) : 0;
    double *ys = svL_newvector(L, n);
    sv_err e;
    if (sv_lowess(x, y, n, f, (int)iter, delta, ys, &e)) return svL_engine_error(L, "lowess", &e);
    return 1;
}

/* resample(n, seed, b) -> array of n 1-based rows */
static int l_resample(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    lua_Integer seed = luaL_checkinteger(L, 2);
    lua_Integer b = luaL_checkinteger(L, 3);
    luaL_argcheck(L, n >= 1 && n <= 0x7fffffff, 1, "row count out of range");
    size_t *rows = lua_newuserdatauv(L, (size_t)n * sizeof *rows, 0);
    sv_validate_resample((size_t)n, (uint64_t)seed, (uint64_t)b, rows);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_pushinteger(L, (lua_Integer)rows[i] + 1);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static void check_flat(lua_State *L, int arg, size_t B, const double **v)
{
    size_t len;
    *v = svL_checkvector(L, arg, &len);
    if (len != B * SV_VM_COUNT) luaL_argerror(L, arg, "expected B x (number of metrics) values");
}

/* combine(method, app{4}, train, test, oob, B, gamma) -> optimism, corrected, nvalid */
static int l_combine(lua_State *L)
{
    static const char *const methods[] = {"optimism", ".632", ".632+", NULL};
    int method = luaL_checkoption(L, 1, NULL, methods);
    size_t na;
    const double *app = svL_checkvector(L, 2, &na);
    luaL_argcheck(L, na == SV_VM_COUNT, 2, "expected one value per metric");
    lua_Integer B = luaL_checkinteger(L, 6);
    luaL_argcheck(L, B >= 0, 6, "negative");
    const double *train, *test, *oob;
    check_flat(L, 3, (size_t)B, &train);
    check_flat(L, 4, (size_t)B, &test);
    check_flat(L, 5, (size_t)B, &oob);
    double gamma = luaL_optnumber(L, 7, NAN);
    double opt[SV_VM_COUNT], cor[SV_VM_COUNT];
    size_t nv[SV_VM_COUNT];
    sv_validate_combine((sv_val_method)method, app, train, test, oob, (size_t)B, gamma, opt, cor, nv);
    push_metrics(L, opt);
    push_metrics(L, cor);
    lua_createtable(L, 0, SV_VM_COUNT);
    for (int k = 0; k < SV_VM_COUNT; k++) {
        lua_pushinteger(L, (lua_Integer)nv[k]);
        lua_setfield(L, -2, metric_names[k]);
    }
    return 3;
}

/* gamma_brier(y, p) */
static int l_gamma_brier(lua_State *L)
{
    size_t n;
    const double *y = svL_checkvector(L, 1, &n);
    const double *p = svL_checklen(L, 2, n);
    lua_pushnumber(L, sv_validate_gamma_brier(y, p, n));
    return 1;
}

/* instability(P, p0) -> {mape=, lo=, hi=, mape_mean=}; P: an array of B
 * Vectors of n predictions, false for a failed replicate */
static int l_instability(lua_State *L)
{
    size_t n;
    luaL_checktype(L, 1, LUA_TTABLE);
    const double *p0 = svL_checkvector(L, 2, &n);
    size_t B = (size_t)luaL_len(L, 1);
    double *P = svL_newvector(L, B * n);
    for (size_t b = 0; b < B; b++) {
        lua_geti(L, 1, (lua_Integer)b + 1);
        svL_vector *v = svL_testvector(L, -1);
        if (v && v->n != n) luaL_argerror(L, 1, "a replicate's predictions have the wrong length");
        for (size_t i = 0; i < n; i++) P[b * n + i] = v ? v->data[i] : NAN;
        lua_pop(L, 1);
    }
    double *mape = svL_newvector(L, n);
    double *lo = svL_newvector(L, n);
    double *hi = svL_newvector(L, n);
    double mm;
    sv_err e;
    if (sv_validate_instability(P, B, n, p0, mape, lo, hi, &mm, &e))
        return svL_engine_error(L, "validate.instability", &e);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, -4);
    lua_setfield(L, -2, "mape");
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "lo");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "hi");
    svL_setnum(L, "mape_mean", mm);
    return 1;
}

/* sample_size(opts): Riley et al. 2020 (engine/sampsize.c) */
static int l_sample_size(lua_State *L)
{
    static const char *const allowed[] = {"outcome", "parameters", "prevalence", "r2_cs",
                                          "r2_nagelkerke", "c_statistic", "rate",
                                          "mean_followup", "timepoint", "shrinkage", "delta",
                                          "margin", NULL};
    static const char *const outcomes[] = {"binary", "survival", NULL};
    const char *fname = "validate.sample_size";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    svL_checkopts(L, 1, fname, allowed);
    int surv = svL_opt_enum(L, 1, fname, "outcome", 0, outcomes);
    if (svL_opt_get(L, 1, "parameters") == LUA_TNIL) svL_opt_error(L, fname, "parameters", "required");
    lua_pop(L, 1);
    double p = (double)svL_opt_int(L, 1, fname, "parameters", 1, 1, 1000000);
    double S = svL_opt_num(L, 1, fname, "shrinkage", 0.9, 1e-9, 1 - 1e-9);
    double delta = svL_opt_num(L, 1, fname, "delta", 0.05, 1e-9, 1 - 1e-9);
    double phi = NAN, rate = NAN, fup = NAN, tp = NAN, max_r2;
    if (!surv) {
        if (svL_opt_get(L, 1, "prevalence") == LUA_TNIL) svL_opt_error(L, fname, "prevalence", "required for a binary outcome");
        lua_pop(L, 1);
        phi = svL_opt_num(L, 1, fname, "prevalence", 0.5, 1e-9, 1 - 1e-9);
        max_r2 = sv_sampsize_max_r2_binary(phi);
    } else {
        const char *req[] = {"rate", "mean_followup", "timepoint"};
        for (int k = 0; k < 3; k++) {
            if (svL_opt_get(L, 1, req[k]) == LUA_TNIL) svL_opt_error(L, fname, req[k], "required for a survival outcome");
            lua_pop(L, 1);
        }
        rate = svL_opt_num(L, 1, fname, "rate", 1, 1e-12, HUGE_VAL);
        fup = svL_opt_num(L, 1, fname, "mean_followup", 1, 1e-12, HUGE_VAL);
        tp = svL_opt_num(L, 1, fname, "timepoint", 1, 1e-12, HUGE_VAL);
        max_r2 = sv_sampsize_max_r2_survival(rate, fup);
    }
    int given = 0;
    double r2 = NAN;
    const char *source = "r2_cs";
    if (svL_opt_get(L, 1, "r2_cs") != LUA_TNIL) {
        given++;
        r2 = svL_opt_num(L, 1, fname, "r2_cs", 0.1, 1e-12, 1 - 1e-12);
    }
    lua_pop(L, 1);
    if (svL_opt_get(L, 1, "r2_nagelkerke") != LUA_TNIL) {
        given++;
        source = "r2_nagelkerke";
        /* pmsampsize rounds the converted value to 3 decimals */
        r2 = nearbyint(svL_opt_num(L, 1, fname, "r2_nagelkerke", 0.1, 1e-12, 1) * max_r2 * 1000) / 1000;
    }
    lua_pop(L, 1);
    if (svL_opt_get(L, 1, "c_statistic") != LUA_TNIL) {
        given++;
        source = "c_statistic";
        if (surv) svL_opt_error(L, fname, "c_statistic", "only for a binary outcome");
        double c = svL_opt_num(L, 1, fname, "c_statistic", 0.7, 0.5 + 1e-9, 1 - 1e-9);
        /* pmsampsize rounds the converted value to 4 decimals */
        r2 = nearbyint(sv_sampsize_cstat_to_r2(c, phi) * 10000) / 10000;
    }
    lua_pop(L, 1);
    if (given != 1)
        return luaL_error(L, "%s: give exactly one of r2_cs, r2_nagelkerke, c_statistic (%d given)",
                          fname, given);
    sv_sampsize_result r;
    sv_err e;
    sv_status st = surv ? sv_sampsize_survival(p, r2, rate, fup, tp, S, delta, &r, &e)
                        : sv_sampsize_binary(p, r2, phi, S, delta,
                                             svL_opt_num(L, 1, fname, "margin", 0.05, 1e-9, 1 - 1e-9),
                                             &r, &e);
    if (st) return svL_engine_error(L, fname, &e);
    lua_createtable(L, 0, 16);
    svL_setnum(L, "n", r.n);
    svL_setnum(L, "n1", r.n1);
    svL_setnum(L, "n2", r.n2);
    svL_setnum(L, "n3", r.n3);
    svL_setnum(L, "shrinkage", fmax(S, r.s2));
    svL_setnum(L, "s2", r.s2);
    svL_setnum(L, "r2_cs", r2);
    svL_setnum(L, "max_r2", r.max_r2);
    svL_setnum(L, "r2_nagelkerke", r.r2_nagelkerke);
    svL_setnum(L, "events", r.events);
    svL_setnum(L, "epp", r.epp);
    lua_pushstring(L, source);
    lua_setfield(L, -2, "r2_from");
    lua_pushstring(L, outcomes[surv]);
    lua_setfield(L, -2, "outcome");
    if (surv) {
        svL_setnum(L, "cuminc", r.cuminc);
        svL_setnum(L, "cuminc_lo", r.cuminc_lo);
        svL_setnum(L, "cuminc_hi", r.cuminc_hi);
    }
    return 1;
}

/* cstat_to_r2(c, phi): the exact population Cox-Snell R^2 */
static int l_cstat_to_r2(lua_State *L)
{
    double c = luaL_checknumber(L, 1), phi = luaL_checknumber(L, 2);
    luaL_argcheck(L, c > 0.5 && c < 1, 1, "a C-statistic in (0.5, 1) expected");
    luaL_argcheck(L, phi > 0 && phi < 1, 2, "a prevalence in (0, 1) expected");
    lua_pushnumber(L, sv_sampsize_cstat_to_r2(c, phi));
    return 1;
}

static const luaL_Reg funcs[] = {{"metrics", l_metrics},
                                 {"resample", l_resample},
                                 {"lowess", l_lowess},
                                 {"combine", l_combine},
                                 {"gamma_brier", l_gamma_brier},
                                 {"instability", l_instability},
                                 {"sample_size", l_sample_size},
                                 {"cstat_to_r2", l_cstat_to_r2},
                                 {NULL, NULL}};

int luaopen_sylva_validate(lua_State *L)
{
    luaL_newlib(L, funcs);
    svL_open_workers(L);
    return 1;
}
