/*
 * lmeta.c - the sv.meta module: random-effects meta-analysis
 * (sv.meta.rma, as metafor::rma + confint + predict) and the pooling of
 * per-centre AUCs (logit scale) and O/E ratios (log scale); docs/centres.md.
 */
#include <math.h>

#include "../engine/sv_meta.h"
#include "lsylva.h"

static const char *const meta_opts[] = {"method", "test", "level", NULL};
static const char *const methods[] = {"REML", "DL", NULL};
static const char *const tests[] = {"z", "knha", NULL};

static void read_opts(lua_State *L, int arg, const char *fname, sv_meta_opts *o)
{
    svL_checkopts(L, arg, fname, meta_opts);
    sv_meta_opts_default(o);
    o->method = (sv_meta_method)svL_opt_enum(L, arg, fname, "method", 0, methods);
    o->test = (sv_meta_test)svL_opt_enum(L, arg, fname, "test", 0, tests);
    o->level = svL_opt_level(L, arg, fname, "level", SV_META_LEVEL);
}

/* A second vector as long as the first: "has 3 values, yi has 4". */
static const double *check_same_len(lua_State *L, int arg, size_t n, const char *first)
{
    size_t len;
    const double *x = svL_checkvector(L, arg, &len);
    if (len != n) {
        const char *msg = lua_pushfstring(L, "has %d values, %s has %d", (int)len, first, (int)n);
        luaL_argerror(L, arg, msg);
    }
    return x;
}

static void set_vector(lua_State *L, const char *key, const double *x, size_t n)
{
    double *v = svL_newvector(L, n);
    for (size_t i = 0; i < n; i++) v[i] = x[i];
    lua_setfield(L, -2, key);
}

/* Runs the engine and pushes the result table (fields in docs/centres.md). */
static int push_rma(lua_State *L, const char *fname, const double *yi, const double *vi, size_t k,
                    const sv_meta_opts *o)
{
    double *w = svL_newvector(L, k); /* weights: kept on the stack, collected on error */
    int widx = lua_gettop(L);
    sv_meta_result r;
    sv_err e;
    if (sv_meta_rma(yi, vi, k, o, &r, w, &e)) return svL_engine_error(L, fname, &e);
    lua_createtable(L, 0, 36);
    svL_setnum(L, "estimate", r.estimate);
    svL_setnum(L, "se", r.se);
    svL_setnum(L, o->test == SV_META_KNHA ? "t" : "z", r.stat);
    svL_setnum(L, "df", r.df);
    svL_setnum(L, "p", r.p);
    svL_setnum(L, "lo", r.lo);
    svL_setnum(L, "hi", r.hi);
    svL_setnum(L, "pi_lo", r.pi_lo);
    svL_setnum(L, "pi_hi", r.pi_hi);
    svL_setnum(L, "tau2", r.tau2);
    svL_setnum(L, "se_tau2", r.se_tau2);
    svL_setnum(L, "tau2_lo", r.tau2_lo);
    svL_setnum(L, "tau2_hi", r.tau2_hi);
    svL_setnum(L, "tau", sqrt(r.tau2));
    svL_setnum(L, "tau_lo", sqrt(r.tau2_lo));
    svL_setnum(L, "tau_hi", sqrt(r.tau2_hi));
    lua_pushboolean(L, r.tau2_hi_capped);
    lua_setfield(L, -2, "tau2_hi_capped");
    svL_setnum(L, "i2", r.i2);
    svL_setnum(L, "i2_lo", r.i2_lo);
    svL_setnum(L, "i2_hi", r.i2_hi);
    svL_setnum(L, "h2", r.h2);
    svL_setnum(L, "h2_lo", r.h2_lo);
    svL_setnum(L, "h2_hi", r.h2_hi);
    svL_setnum(L, "q", r.q);
    svL_setnum(L, "q_df", r.q_df);
    svL_setnum(L, "q_p", r.q_p);
    lua_pushinteger(L, (lua_Integer)r.k);
    lua_setfield(L, -2, "k");
    lua_pushinteger(L, r.iterations);
    lua_setfield(L, -2, "iterations");
    lua_pushboolean(L, r.tau2_reset);
    lua_setfield(L, -2, "tau2_reset");
    lua_pushstring(L, methods[o->method]);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, tests[o->test]);
    lua_setfield(L, -2, "test");
    svL_setnum(L, "level", o->level);
    set_vector(L, "yi", yi, k);
    set_vector(L, "vi", vi, k);
    lua_pushvalue(L, widx);
    lua_setfield(L, -2, "weights");
    double *clo = svL_newvector(L, k);
    double *chi = svL_newvector(L, k);
    sv_meta_study_ci(yi, vi, k, o->level, clo, chi);
    lua_setfield(L, -3, "ci_hi");
    lua_setfield(L, -2, "ci_lo");
    lua_remove(L, widx); /* the result is now on top, where the weights were */
    return 1;
}

static int l_rma(lua_State *L)
{
    size_t k;
    const double *yi = svL_checkvector(L, 1, &k);
    const double *vi = check_same_len(L, 2, k, "yi");
    sv_meta_opts o;
    read_opts(L, 3, "meta.rma", &o);
    if (k < 2) luaL_argerror(L, 1, "needs at least 2 estimates");
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(yi[i])) {
            const char *msg = lua_pushfstring(L, "element %d is %f, expected a finite estimate",
                                              (int)i + 1, yi[i]);
            luaL_argerror(L, 1, msg);
        }
        if (!(vi[i] > 0) || !isfinite(vi[i])) {
            const char *msg = lua_pushfstring(
                L, "element %d is %f, expected a finite sampling variance > 0", (int)i + 1, vi[i]);
            luaL_argerror(L, 2, msg);
        }
    }
    return push_rma(L, "meta.rma", yi, vi, k, &o);
}

/* Sets the back-transformed estimate, CI and PI of the fit at -1 into the
 * table at -2 under the given names: exp or the inverse logit. */
static void back_transform(lua_State *L, const char *est_name, int logistic)
{
    static const char *const from[] = {"estimate", "lo", "hi", "pi_lo", "pi_hi"};
    for (int j = 0; j < 5; j++) {
        lua_getfield(L, -1, from[j]);
        double x = lua_tonumber(L, -1);
        lua_pop(L, 1);
        double b = logistic ? 1 / (1 + exp(-x)) : exp(x);
        lua_pushnumber(L, b);
        lua_setfield(L, -3, j == 0 ? est_name : from[j]);
    }
    static const char *const copy[] = {"tau2", "i2", "p", NULL};
    for (int j = 0; copy[j]; j++) {
        lua_getfield(L, -1, copy[j]);
        lua_setfield(L, -3, copy[j]);
    }
    lua_getfield(L, -1, "k");
    lua_setfield(L, -3, "k");
}

/* sv.meta.pool_auc(auc, se [, opts]) */
static int l_pool_auc(lua_State *L)
{
    size_t k;
    const double *auc = svL_checkvector(L, 1, &k);
    const double *se = check_same_len(L, 2, k, "auc");
    sv_meta_opts o;
    read_opts(L, 3, "meta.pool_auc", &o);
    if (k < 2) luaL_argerror(L, 1, "needs at least 2 AUCs");
    double *y = svL_newvector(L, k);
    double *v = svL_newvector(L, k);
    for (size_t i = 0; i < k; i++) {
        sv_err e;
        if (sv_meta_logit_auc(auc[i], se[i], &y[i], &v[i], &e)) {
            const char *msg = lua_pushfstring(L, "centre %d: %s", (int)i + 1, e.msg);
            luaL_argerror(L, (auc[i] > 0 && auc[i] < 1) ? 2 : 1, msg);
        }
    }
    lua_newtable(L);
    push_rma(L, "meta.pool_auc", y, v, k, &o);
    back_transform(L, "auc", 1);
    lua_setfield(L, -2, "fit");
    lua_pushstring(L, "logit");
    lua_setfield(L, -2, "scale");
    return 1;
}

/* sv.meta.pool_oe(o, e [, opts]); opts.n = patients per centre */
static int l_pool_oe(lua_State *L)
{
    static const char *const allowed[] = {"method", "test", "level", "n", NULL};
    size_t k;
    const double *obs = svL_checkvector(L, 1, &k);
    const double *ex = check_same_len(L, 2, k, "o");
    svL_checkopts(L, 3, "meta.pool_oe", allowed);
    sv_meta_opts o;
    o.method = (sv_meta_method)svL_opt_enum(L, 3, "meta.pool_oe", "method", 0, methods);
    o.test = (sv_meta_test)svL_opt_enum(L, 3, "meta.pool_oe", "test", 0, tests);
    o.level = svL_opt_level(L, 3, "meta.pool_oe", "level", SV_META_LEVEL);
    const double *n = NULL;
    if (svL_opt_get(L, 3, "n") != LUA_TNIL) {
        size_t nn;
        int idx = lua_gettop(L);
        n = svL_checkvector(L, idx, &nn);
        if (nn != k) {
            const char *msg = lua_pushfstring(L, "has %d values, o has %d", (int)nn, (int)k);
            svL_opt_error(L, "meta.pool_oe", "n", msg);
        }
    }
    if (k < 2) luaL_argerror(L, 1, "needs at least 2 centres");
    double *y = svL_newvector(L, k);
    double *v = svL_newvector(L, k);
    for (size_t i = 0; i < k; i++) {
        sv_err e;
        if (sv_meta_log_oe(obs[i], ex[i], n ? n[i] : 0, &y[i], &v[i], &e)) {
            const char *msg = lua_pushfstring(L, "centre %d: %s", (int)i + 1, e.msg);
            int bad_o = !(obs[i] > 0 && isfinite(obs[i]));
            int bad_e = !(ex[i] > 0 && isfinite(ex[i]));
            if (bad_o || bad_e) luaL_argerror(L, bad_o ? 1 : 2, msg);
            svL_opt_error(L, "meta.pool_oe", "n", msg);
        }
    }
    lua_newtable(L);
    push_rma(L, "meta.pool_oe", y, v, k, &o);
    back_transform(L, "oe", 0);
    lua_setfield(L, -2, "fit");
    lua_pushstring(L, "log");
    lua_setfield(L, -2, "scale");
    return 1;
}

static const luaL_Reg funcs[] = {{"rma", l_rma},
                                 {"pool_auc", l_pool_auc},
                                 {"pool_oe", l_pool_oe},
                                 {NULL, NULL}};

int luaopen_sylva_meta(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
