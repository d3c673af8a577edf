/*
 * lvalidate.c - the C half of sv.validate (engine/sv_validate.h): metrics
 * over row lists, bootstrap row lists, the optimism / .632 / .632+
 * combination and prediction instability. Registered as sv._validate;
 * scripts/validate.lua runs the pipelines and is the public module.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/sv_validate.h"
#include "lsylva.h"

static const char *const metric_names[SV_VM_COUNT] = {"auc", "brier", "slope", "intercept"};

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
    if (len != B * SV_VM_COUNT) luaL_argerror(L, arg, "expected B x 4 values");
}

/* combine(method, app{4}, train, test, oob, B, gamma) -> optimism, corrected, nvalid */
static int l_combine(lua_State *L)
{
    static const char *const methods[] = {"optimism", ".632", ".632+", NULL};
    int method = luaL_checkoption(L, 1, NULL, methods);
    size_t na;
    const double *app = svL_checkvector(L, 2, &na);
    luaL_argcheck(L, na == SV_VM_COUNT, 2, "expected 4 values");
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

static const luaL_Reg funcs[] = {{"metrics", l_metrics},
                                 {"resample", l_resample},
                                 {"combine", l_combine},
                                 {"gamma_brier", l_gamma_brier},
                                 {"instability", l_instability},
                                 {NULL, NULL}};

int luaopen_sylva_validate(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
