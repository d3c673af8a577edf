/*
 * lmetrics.c - the sv.metrics module: sensitivity, specificity, PPV, NPV,
 * accuracy and F1 of a score at a cut-off, with Clopper-Pearson or Wilson
 * intervals and an optional row bootstrap (docs/diagnostics.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../engine/sv_metrics.h"
#include "../engine/sv_stats.h"
#include "lsylva.h"

static const double *check_score(lua_State *L, int arg, size_t n)
{
    const double *s = svL_checklen(L, arg, n);
    for (size_t i = 0; i < n; i++)
        if (isnan(s[i])) {
            const char *msg = lua_pushfstring(L, "element %d is NaN", (int)i + 1);
            luaL_argerror(L, arg, msg);
        }
    return s;
}

static const char *const metric_names[SV_MET_COUNT] = {"sens", "spec", "ppv", "npv", "accuracy", "f1"};

static int l_at(lua_State *L)
{
    static const char *const allowed[] = {"ci", "level", "boot", "seed", "threads", NULL};
    static const char *const cis[] = {"clopper-pearson", "wilson", "none", NULL};
    size_t n;
    const double *y = svL_check01(L, 1, &n);
    const double *s = check_score(L, 2, n);
    double cutoff = luaL_checknumber(L, 3);
    if (isnan(cutoff)) luaL_argerror(L, 3, "cut-off is NaN");
    svL_checkopts(L, 4, "metrics.at", allowed);
    int ci = svL_opt_enum(L, 4, "metrics.at", "ci", 0, cis);
    double level = svL_opt_level(L, 4, "metrics.at", "level", 0.95);
    lua_Integer boot = svL_opt_int(L, 4, "metrics.at", "boot", 0, 0, 100000000);
    uint64_t seed = svL_opt_seed(L, 4, "metrics.at");
    int threads = (int)svL_opt_int(L, 4, "metrics.at", "threads", 0, 0, 4096);
    if (n == 0) luaL_argerror(L, 1, "no rows");

    sv_confusion c;
    sv_confusion_at(y, s, n, cutoff, &c);
    double m[SV_MET_COUNT];
    sv_metrics_from_confusion(&c, m);
    /* numerator and denominator of each proportion */
    double num[SV_MET_COUNT] = {c.tp, c.tn, c.tp, c.tn, c.tp + c.tn, NAN};
    double den[SV_MET_COUNT] = {c.tp + c.fn, c.tn + c.fp, c.tp + c.fp, c.tn + c.fn, (double)n, NAN};

    lua_createtable(L, 0, 32);
    svL_setnum(L, "cutoff", cutoff);
    svL_setnum(L, "tp", c.tp);
    svL_setnum(L, "fp", c.fp);
    svL_setnum(L, "tn", c.tn);
    svL_setnum(L, "fn", c.fn);
    svL_setnum(L, "level", level);
    for (int k = 0; k < SV_MET_COUNT; k++) {
        char key[32];
        svL_setnum(L, metric_names[k], m[k]);
        double lo = NAN, hi = NAN;
        if (k != SV_MET_F1 && ci == 0) sv_ci_clopper_pearson(num[k], den[k], level, &lo, &hi);
        if (k != SV_MET_F1 && ci == 1) sv_ci_wilson(num[k], den[k], level, &lo, &hi);
        snprintf(key, sizeof key, "%s_lo", metric_names[k]);
        svL_setnum(L, key, lo);
        snprintf(key, sizeof key, "%s_hi", metric_names[k]);
        svL_setnum(L, key, hi);
    }
    lua_pushstring(L, cis[ci]);
    lua_setfield(L, -2, "ci");
    if (boot > 0) {
        double *out = malloc((size_t)boot * SV_MET_COUNT * sizeof *out);
        double *col = malloc((size_t)boot * sizeof *col);
        if (!out || !col) {
            free(out), free(col);
            return luaL_error(L, "metrics.at: out of memory");
        }
        sv_ctx ctx;
        svL_ctx(L, &ctx, threads);
        sv_err e;
        if (sv_metrics_boot(y, s, n, cutoff, (size_t)boot, seed, &ctx, out, &e)) {
            free(out), free(col);
            return svL_engine_error(L, "metrics.at", &e);
        }
        lua_createtable(L, 0, SV_MET_COUNT);
        for (int k = 0; k < SV_MET_COUNT; k++) {
            for (lua_Integer b = 0; b < boot; b++) col[b] = out[(size_t)b * SV_MET_COUNT + (size_t)k];
            double lo, hi;
            sv_boot_percentile(col, (size_t)boot, level, &lo, &hi, NULL);
            lua_createtable(L, 2, 0);
            lua_pushnumber(L, lo);
            lua_rawseti(L, -2, 1);
            lua_pushnumber(L, hi);
            lua_rawseti(L, -2, 2);
            lua_setfield(L, -2, metric_names[k]);
        }
        lua_setfield(L, -2, "boot_ci");
        free(out), free(col);
    }
    return 1;
}

static int l_ci_proportion(lua_State *L)
{
    static const char *const cis[] = {"clopper-pearson", "wilson", NULL};
    double x = luaL_checknumber(L, 1), n = luaL_checknumber(L, 2);
    luaL_argcheck(L, n > 0 && n == floor(n), 2, "positive integer expected");
    luaL_argcheck(L, x >= 0 && x <= n && x == floor(x), 1, "integer in [0, n] expected");
    int ci = luaL_checkoption(L, 3, "clopper-pearson", cis);
    double level = luaL_optnumber(L, 4, 0.95);
    luaL_argcheck(L, level > 0 && level < 1, 4, "level in (0, 1) expected");
    double lo, hi;
    if (ci == 0)
        sv_ci_clopper_pearson(x, n, level, &lo, &hi);
    else
        sv_ci_wilson(x, n, level, &lo, &hi);
    lua_pushnumber(L, lo);
    lua_pushnumber(L, hi);
    return 2;
}

/* sv.metrics.confusion(y, P) -> {classes=, matrix=, n=, accuracy=, per_class=} */
static int l_confusion(lua_State *L)
{
    const char *fname = "metrics.confusion";
    lua_settop(L, 2);
    int *codes, K;
    svL_matrix *P = svL_checkclasses(L, fname, &codes, &K);
    int labels = lua_gettop(L);
    size_t kk = (size_t)K;
    double *buf = lua_newuserdatauv(L, 3 * kk * sizeof *buf, 0);
    svL_matrix *C = svL_newmatrix(L, kk, kk);
    int cidx = lua_gettop(L);
    double acc;
    sv_err e;
    if (sv_confusion_multiclass(codes, P->data, P->nrow, K, C->data, buf, buf + kk, buf + 2 * kk,
                                &acc, &e))
        return svL_engine_error(L, fname, &e);
    lua_pushvalue(L, labels);
    svL_matrix_setnames(L, cidx);
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, labels);
    lua_setfield(L, -2, "classes");
    lua_pushvalue(L, cidx);
    lua_setfield(L, -2, "matrix");
    lua_pushinteger(L, (lua_Integer)P->nrow);
    lua_setfield(L, -2, "n");
    svL_setnum(L, "accuracy", acc);
    lua_createtable(L, K, 0);
    for (size_t k = 0; k < kk; k++) {
        double nk = 0;
        for (size_t q = 0; q < kk; q++) nk += C->data[q * kk + k];
        lua_createtable(L, 0, 5);
        lua_rawgeti(L, labels, (lua_Integer)k + 1);
        lua_setfield(L, -2, "class");
        lua_pushinteger(L, (lua_Integer)nk);
        lua_setfield(L, -2, "n");
        svL_setnum(L, "sens", buf[k]);
        svL_setnum(L, "spec", buf[kk + k]);
        svL_setnum(L, "ppv", buf[2 * kk + k]);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -2, "per_class");
    return 1;
}

static const luaL_Reg funcs[] = {{"at", l_at}, {"ci_proportion", l_ci_proportion},
                                 {"confusion", l_confusion}, {NULL, NULL}};

int luaopen_sylva_metrics(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
