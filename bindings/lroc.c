/*
 * lroc.c - the sv.roc module: ROC curve, AUC with DeLong or bootstrap
 * confidence intervals, DeLong's paired and unpaired tests, Youden's
 * index (docs/diagnostics.md). Agrees with R's pROC 1.18 with
 * direction = "<" (higher scores predict class 1).
 */
#include <math.h>
#include <stdlib.h>

#include "../engine/sv_roc.h"
#include "../engine/sv_stats.h"
#include "lsylva.h"

#define ROC_DEFAULT_LEVEL 0.95
#define ROC_DEFAULT_BOOT 2000

/* A score vector of length n, finite values only. */
static const double *check_score(lua_State *L, int arg, size_t n)
{
    const double *s = svL_checklen(L, arg, n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(s[i])) {
            const char *msg = lua_pushfstring(L, "element %d is %f, finite number expected",
                                              (int)i + 1, s[i]);
            luaL_argerror(L, arg, msg);
        }
    }
    return s;
}

static void setint(lua_State *L, const char *k, size_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

static void setstr(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static int l_auc(lua_State *L)
{
    static const char *const allowed[] = {"ci", "level", "boot", "seed", "threads", NULL};
    static const char *const methods[] = {"delong", "bootstrap", "none", NULL};
    size_t n;
    const double *y = svL_check01(L, 1, &n);
    const double *s = check_score(L, 2, n);
    svL_checkopts(L, 3, "roc.auc", allowed);
    int method = svL_opt_enum(L, 3, "roc.auc", "ci", 0, methods);
    double level = svL_opt_level(L, 3, "roc.auc", "level", ROC_DEFAULT_LEVEL);
    lua_Integer boot = svL_opt_int(L, 3, "roc.auc", "boot", ROC_DEFAULT_BOOT, 1, 100000000);
    uint64_t seed = svL_opt_seed(L, 3, "roc.auc");
    int threads = (int)svL_opt_int(L, 3, "roc.auc", "threads", 0, 0, 4096);

    sv_err e;
    sv_roc_auc_result r;
    if (sv_roc_auc(y, s, n, NULL, &r, &e)) return svL_engine_error(L, "roc.auc", &e);
    double se = sqrt(r.var), lo = NAN, hi = NAN;
    if (method == 0) {
        sv_roc_ci_delong(r.auc, r.var, level, &lo, &hi);
    } else if (method == 1) {
        double *aucs = malloc((size_t)boot * sizeof *aucs);
        if (!aucs) return luaL_error(L, "roc.auc: out of memory");
        sv_ctx ctx;
        svL_ctx(L, &ctx, threads);
        if (sv_roc_boot_auc(y, s, n, (size_t)boot, seed, &ctx, aucs, &e)) {
            free(aucs);
            return svL_engine_error(L, "roc.auc", &e);
        }
        sv_boot_percentile(aucs, (size_t)boot, level, &lo, &hi, &se);
        free(aucs);
    }
    lua_createtable(L, 0, 8);
    svL_setnum(L, "auc", r.auc);
    svL_setnum(L, "se", se);
    svL_setnum(L, "lo", lo);
    svL_setnum(L, "hi", hi);
    svL_setnum(L, "level", level);
    setstr(L, "method", methods[method]);
    setint(L, "n_case", r.n_case);
    setint(L, "n_control", r.n_control);
    return 1;
}

static const char *const alt_names[] = {"two.sided", "less", "greater", NULL};

static int l_test(lua_State *L)
{
    static const char *const allowed[] = {"alternative", "level", NULL};
    size_t n;
    const double *y = svL_check01(L, 1, &n);
    const double *s1 = check_score(L, 2, n);
    const double *s2 = check_score(L, 3, n);
    svL_checkopts(L, 4, "roc.test", allowed);
    int alt = svL_opt_enum(L, 4, "roc.test", "alternative", 0, alt_names);
    double level = svL_opt_level(L, 4, "roc.test", "level", ROC_DEFAULT_LEVEL);
    sv_err e;
    sv_roc_test_result r;
    if (sv_roc_test_paired(y, s1, s2, n, &r, &e)) return svL_engine_error(L, "roc.test", &e);
    double p = sv_roc_test_p(&r, (sv_alternative)alt), d, sd, dlo, dhi;
    sv_roc_test_diff_ci(&r, level, &d, &sd, &dlo, &dhi);
    lua_createtable(L, 0, 14);
    svL_setnum(L, "auc1", r.auc1);
    svL_setnum(L, "auc2", r.auc2);
    svL_setnum(L, "z", r.z);
    svL_setnum(L, "p", p);
    svL_setnum(L, "statistic", r.z);
    svL_setnum(L, "p_value", p);
    svL_setnum(L, "var1", r.var1);
    svL_setnum(L, "var2", r.var2);
    svL_setnum(L, "cov", r.cov);
    svL_setnum(L, "diff", d);
    svL_setnum(L, "se_diff", sd);
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, dlo);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, dhi);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "conf_int");
    setstr(L, "alternative", alt_names[alt]);
    setstr(L, "method", "DeLong's test for two correlated ROC curves");
    return 1;
}

static int l_test_unpaired(lua_State *L)
{
    static const char *const allowed[] = {"alternative", NULL};
    size_t n1, n2;
    const double *y1 = svL_check01(L, 1, &n1);
    const double *s1 = check_score(L, 2, n1);
    const double *y2 = svL_check01(L, 3, &n2);
    const double *s2 = check_score(L, 4, n2);
    svL_checkopts(L, 5, "roc.test_unpaired", allowed);
    int alt = svL_opt_enum(L, 5, "roc.test_unpaired", "alternative", 0, alt_names);
    sv_err e;
    sv_roc_unpaired_result r;
    if (sv_roc_test_unpaired(y1, s1, n1, y2, s2, n2, &r, &e))
        return svL_engine_error(L, "roc.test_unpaired", &e);
    double p = sv_roc_unpaired_p(&r, (sv_alternative)alt);
    lua_createtable(L, 0, 11);
    svL_setnum(L, "auc1", r.auc1);
    svL_setnum(L, "auc2", r.auc2);
    svL_setnum(L, "statistic", r.d);
    svL_setnum(L, "d", r.d);
    svL_setnum(L, "df", r.df);
    svL_setnum(L, "parameter", r.df);
    svL_setnum(L, "p", p);
    svL_setnum(L, "p_value", p);
    svL_setnum(L, "var1", r.var1);
    svL_setnum(L, "var2", r.var2);
    setstr(L, "alternative", alt_names[alt]);
    setstr(L, "method", "DeLong's test for two ROC curves");
    return 1;
}

static int l_curve(lua_State *L)
{
    static const char *const allowed[] = {NULL};
    size_t n;
    const double *y = svL_check01(L, 1, &n);
    const double *s = check_score(L, 2, n);
    svL_checkopts(L, 3, "roc.curve", allowed);
    double *buf = malloc(3 * (n + 1) * sizeof *buf);
    if (!buf) return luaL_error(L, "roc.curve: out of memory");
    size_t np;
    sv_err e;
    if (sv_roc_curve(y, s, n, buf, buf + n + 1, buf + 2 * (n + 1), &np, &e)) {
        free(buf);
        return svL_engine_error(L, "roc.curve", &e);
    }
    lua_createtable(L, 0, 3);
    const char *names[3] = {"threshold", "tpr", "fpr"};
    for (int k = 0; k < 3; k++) {
        double *v = svL_newvector(L, np);
        for (size_t i = 0; i < np; i++) v[i] = buf[(size_t)k * (n + 1) + i];
        lua_setfield(L, -2, names[k]);
    }
    free(buf);
    return 1;
}

static int l_youden(lua_State *L)
{
    static const char *const allowed[] = {NULL};
    size_t n;
    const double *y = svL_check01(L, 1, &n);
    const double *s = check_score(L, 2, n);
    svL_checkopts(L, 3, "roc.youden", allowed);
    sv_err e;
    sv_roc_youden_result r;
    if (sv_roc_youden(y, s, n, &r, &e)) return svL_engine_error(L, "roc.youden", &e);
    lua_createtable(L, 0, 5);
    svL_setnum(L, "threshold", r.threshold);
    svL_setnum(L, "j", r.j);
    svL_setnum(L, "sens", r.sens);
    svL_setnum(L, "spec", r.spec);
    setint(L, "ties", r.ties);
    return 1;
}

/* ---- several classes ------------------------------------------------------- */

/* sv.roc.multiclass(y, P [, {ci, boot, seed, level, threads}]) */
static int l_multiclass(lua_State *L)
{
    static const char *const allowed[] = {"ci", "level", "boot", "seed", "threads", NULL};
    static const char *const methods[] = {"bootstrap", "none", NULL};
    const char *fname = "roc.multiclass";
    lua_settop(L, 3);
    svL_checkopts(L, 3, fname, allowed);
    int method = svL_opt_enum(L, 3, fname, "ci", 0, methods);
    double level = svL_opt_level(L, 3, fname, "level", ROC_DEFAULT_LEVEL);
    lua_Integer boot = svL_opt_int(L, 3, fname, "boot", ROC_DEFAULT_BOOT, 2, 100000000);
    uint64_t seed = svL_opt_seed(L, 3, fname);
    int threads = (int)svL_opt_int(L, 3, fname, "threads", 0, 0, 4096);
    int *codes, K;
    svL_matrix *P = svL_checkclasses(L, fname, &codes, &K);
    int labels = lua_gettop(L);
    size_t n = P->nrow, kk = (size_t)K;
    double *pair = lua_newuserdatauv(L, kk * kk * sizeof *pair, 0);
    double M;
    int c;
    sv_err e;
    if (sv_roc_multiclass(codes, P->data, n, K, &M, pair, &c, &e))
        return svL_engine_error(L, fname, &e);
    double lo = NAN, hi = NAN, se = NAN;
    if (method == 0) {
        double *Ms = malloc((size_t)boot * sizeof *Ms);
        if (!Ms) return luaL_error(L, "%s: out of memory", fname);
        sv_ctx ctx;
        svL_ctx(L, &ctx, threads);
        if (sv_roc_multiclass_boot(codes, P->data, n, K, (size_t)boot, seed, &ctx, Ms, &e)) {
            free(Ms);
            return svL_engine_error(L, fname, &e);
        }
        sv_boot_percentile(Ms, (size_t)boot, level, &lo, &hi, &se);
        free(Ms);
    }
    lua_createtable(L, 0, 10);
    svL_setnum(L, "auc", M);
    svL_setnum(L, "lo", lo);
    svL_setnum(L, "hi", hi);
    svL_setnum(L, "se", se);
    svL_setnum(L, "level", level);
    setstr(L, "method", methods[method]);
    if (method == 0) setint(L, "boot", (size_t)boot);
    lua_pushvalue(L, labels);
    lua_setfield(L, -2, "classes");
    lua_newtable(L);
    int np = 0;
    for (int a = 0; a < K; a++)
        for (int b = a + 1; b < K; b++) {
            double ab = pair[(size_t)a * kk + (size_t)b], ba = pair[(size_t)b * kk + (size_t)a];
            if (isnan(ab)) continue; /* a class without rows */
            lua_createtable(L, 0, 5);
            lua_rawgeti(L, labels, a + 1);
            lua_setfield(L, -2, "a");
            lua_rawgeti(L, labels, b + 1);
            lua_setfield(L, -2, "b");
            svL_setnum(L, "auc", (ab + ba) / 2.0);
            svL_setnum(L, "auc_ab", ab);
            svL_setnum(L, "auc_ba", ba);
            lua_rawseti(L, -2, ++np);
        }
    lua_setfield(L, -2, "pairs");
    setint(L, "n_classes", (size_t)c);
    return 1;
}

/* sv.roc.ovr(y, P [, {level}]) -> { {class=, auc=, se=, lo=, hi=, n_case=, n_control=}, ... } */
static int l_ovr(lua_State *L)
{
    static const char *const allowed[] = {"level", "curves", NULL};
    const char *fname = "roc.ovr";
    lua_settop(L, 3);
    svL_checkopts(L, 3, fname, allowed);
    double level = svL_opt_level(L, 3, fname, "level", ROC_DEFAULT_LEVEL);
    int curves = svL_opt_bool(L, 3, fname, "curves", 0);
    int *codes, K;
    svL_matrix *P = svL_checkclasses(L, fname, &codes, &K);
    int labels = lua_gettop(L);
    size_t n = P->nrow;
    double *buf = lua_newuserdatauv(L, 2 * (size_t)K * sizeof *buf, 0);
    /* for the curves: the 0/1 outcome of a class and the curve's points */
    double *yk = curves ? lua_newuserdatauv(L, (n + 3 * (n + 1)) * sizeof *yk, 0) : NULL;
    sv_err e;
    if (sv_roc_ovr(codes, P->data, n, K, buf, buf + K, &e))
        return svL_engine_error(L, fname, &e);
    lua_createtable(L, K, 0);
    for (int k = 0; k < K; k++) {
        size_t m = 0;
        for (size_t i = 0; i < P->nrow; i++) m += codes[i] == k;
        double lo = NAN, hi = NAN;
        if (!isnan(buf[k])) sv_roc_ci_delong(buf[k], buf[K + k], level, &lo, &hi);
        lua_createtable(L, 0, 8);
        lua_rawgeti(L, labels, k + 1);
        lua_setfield(L, -2, "class");
        svL_setnum(L, "auc", buf[k]);
        svL_setnum(L, "var", buf[K + k]);
        svL_setnum(L, "se", sqrt(buf[K + k]));
        svL_setnum(L, "lo", lo);
        svL_setnum(L, "hi", hi);
        svL_setnum(L, "level", level);
        setint(L, "n_case", m);
        setint(L, "n_control", P->nrow - m);
        if (curves && !isnan(buf[k])) {
            double *pt = yk + n;
            for (size_t i = 0; i < n; i++) yk[i] = codes[i] == k;
            size_t np;
            if (sv_roc_curve(yk, P->data + (size_t)k * n, n, pt, pt + n + 1, pt + 2 * (n + 1), &np,
                             &e))
                return svL_engine_error(L, fname, &e);
            const char *names[3] = {"threshold", "tpr", "fpr"};
            for (int c = 0; c < 3; c++) {
                double *v = svL_newvector(L, np);
                for (size_t i = 0; i < np; i++) v[i] = pt[(size_t)c * (n + 1) + i];
                lua_setfield(L, -2, names[c]);
            }
        }
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

static const luaL_Reg funcs[] = {{"auc", l_auc},
                                 {"test", l_test},
                                 {"test_unpaired", l_test_unpaired},
                                 {"curve", l_curve},
                                 {"youden", l_youden},
                                 {"multiclass", l_multiclass},
                                 {"ovr", l_ovr},
                                 {NULL, NULL}};

int luaopen_sylva_roc(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
