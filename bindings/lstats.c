/*
 * lstats.c - the sv.stats module: the tests and summaries of a baseline
 * table (chi-square, Fisher, t, Wilcoxon, Kruskal-Wallis, p.adjust,
 * summary, freq) and the distribution functions (docs/stats.md).
 * Results are tables with R's htest field names (statistic, parameter,
 * p_value, estimate, conf_int, method), plus `df` and `p` for short.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/sv_dist.h"
#include "../engine/sv_stats.h"
#include "lsylva.h"

static void setstr(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void setpair(lua_State *L, const char *k, double a, double b)
{
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, a);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, b);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, k);
}

static const char *const alt_names[] = {"two.sided", "less", "greater", NULL};

/* Pushes the htest table common to every test. */
static void push_htest(lua_State *L, const sv_htest *h, const char *method, int alt)
{
    lua_createtable(L, 0, 10);
    svL_setnum(L, "statistic", h->statistic);
    if (!isnan(h->df)) {
        svL_setnum(L, "parameter", h->df);
        svL_setnum(L, "df", h->df);
    }
    svL_setnum(L, "p_value", h->p_value);
    svL_setnum(L, "p", h->p_value);
    setstr(L, "method", method);
    if (alt >= 0) setstr(L, "alternative", alt_names[alt]);
}

/* A numeric sample: Vector or array of numbers; NaN values are dropped
 * (R's t.test and wilcox.test drop NA). The array of kept values is left
 * as a new Vector in the argument's slot. */
static const double *check_sample(lua_State *L, int arg, size_t *n)
{
    size_t len;
    const double *v = svL_checkvector(L, arg, &len);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) k += !isnan(v[i]);
    if (k == len) {
        *n = len;
        return v;
    }
    double *d = svL_newvector(L, k);
    k = 0;
    for (size_t i = 0; i < len; i++)
        if (!isnan(v[i])) d[k++] = v[i];
    lua_replace(L, arg);
    *n = k;
    return d;
}

/* True when the argument is a sample (Vector or non-empty array), false
 * when it is an options table or absent. */
static int is_sample(lua_State *L, int arg)
{
    if (svL_testvector(L, arg)) return 1;
    if (!lua_istable(L, arg)) return 0;
    int t = lua_rawgeti(L, arg, 1);
    lua_pop(L, 1);
    return t != LUA_TNIL;
}

/* ---- levels of a categorical vector ---------------------------------- */

/* Order of levels: numbers ascending, then strings byte-wise. */
static int level_less(lua_State *L)
{
    int ta = lua_type(L, 1), tb = lua_type(L, 2);
    if (ta != tb) {
        lua_pushboolean(L, ta == LUA_TNUMBER);
        return 1;
    }
    lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
    return 1;
}

/*
 * Codes the values of the array at arg (numbers, strings; NaN, nil and
 * false are missing) as 0-based level indices in *codes (-1 = missing),
 * and pushes the sorted array of levels. Returns the number of levels.
 * codes is a userdata left on the stack below the levels.
 */
static int code_levels(lua_State *L, int arg, size_t *n, int **codes)
{
    arg = lua_absindex(L, arg);
    if (svL_testvector(L, arg)) {
        /* a Vector: numbers */
        size_t len;
        const double *v = svL_checkvector(L, arg, &len);
        lua_createtable(L, (int)len, 0);
        for (size_t i = 0; i < len; i++) {
            lua_pushnumber(L, v[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_replace(L, arg);
    }
    luaL_checktype(L, arg, LUA_TTABLE);
    size_t len = (size_t)luaL_len(L, arg);
    int *c = lua_newuserdatauv(L, (len + 1) * sizeof *c, 0);
    int cidx = lua_gettop(L);
    lua_newtable(L); /* value -> true */
    int seen = lua_gettop(L);
    lua_newtable(L); /* distinct values */
    int lv = lua_gettop(L);
    int nl = 0;
    for (size_t i = 0; i < len; i++) {
        int t = lua_geti(L, arg, (lua_Integer)i + 1);
        int missing = t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) ||
                      (t == LUA_TNUMBER && isnan(lua_tonumber(L, -1)));
        if (!missing && t != LUA_TNUMBER && t != LUA_TSTRING) {
            const char *msg = lua_pushfstring(L, "element %d is %s, expected a number or a string",
                                              (int)i + 1, luaL_typename(L, -1));
            luaL_argerror(L, arg, msg);
        }
        if (!missing) {
            if (t == LUA_TNUMBER && lua_isinteger(L, -1) == 0) {
                /* 1.0 and 1 are one level */
                lua_Number x = lua_tonumber(L, -1);
                lua_Integer ix;
                if (lua_numbertointeger(x, &ix) && (lua_Number)ix == x) {
                    lua_pop(L, 1);
                    lua_pushinteger(L, ix);
                }
            }
            lua_pushvalue(L, -1);
            if (lua_rawget(L, seen) == LUA_TNIL) {
                lua_pushvalue(L, -2);
                lua_pushboolean(L, 1);
                lua_rawset(L, seen);
                lua_pushvalue(L, -2);
                lua_rawseti(L, lv, ++nl);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    /* sort the levels */
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, lv);
    lua_pushcfunction(L, level_less);
    lua_call(L, 2, 0);
    lua_pop(L, 1);
    /* level -> code */
    for (int k = 1; k <= nl; k++) {
        lua_rawgeti(L, lv, k);
        lua_pushinteger(L, k - 1);
        lua_rawset(L, seen);
    }
    for (size_t i = 0; i < len; i++) {
        int t = lua_geti(L, arg, (lua_Integer)i + 1);
        if (t == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            lua_Number x = lua_tonumber(L, -1);
            lua_Integer ix;
            if (lua_numbertointeger(x, &ix) && (lua_Number)ix == x) {
                lua_pop(L, 1);
                lua_pushinteger(L, ix);
            }
        }
        if ((t == LUA_TNUMBER || t == LUA_TSTRING) && !(t == LUA_TNUMBER && isnan(lua_tonumber(L, -1)))) {
            lua_rawget(L, seen);
            c[i] = (int)lua_tointeger(L, -1);
        } else {
            c[i] = -1;
        }
        lua_pop(L, 1);
    }
    lua_remove(L, seen);
    (void)cidx;
    *n = len;
    *codes = c;
    return nl;
}

/*
 * The contingency table of a test: either a matrix of counts (Matrix or
 * array of rows) at arg, or two label vectors at arg and arg + 1 (cross-
 * tabulated as R's table(x, y), missing values dropped). Returns row-major
 * counts in a userdata left on the stack; sets nr, nc and *next_arg (the
 * options' position).
 */
static double *check_table(lua_State *L, int arg, const char *fname, size_t *nr,
                           size_t *nc, int *next_arg)
{
    int is_matrix = svL_testmatrix(L, arg) != NULL;
    if (!is_matrix && lua_istable(L, arg)) {
        int t = lua_rawgeti(L, arg, 1);
        is_matrix = t == LUA_TTABLE;
        lua_pop(L, 1);
    }
    if (is_matrix) {
        svL_matrix *m = svL_checkmatrix(L, arg);
        *nr = m->nrow;
        *nc = m->ncol;
        double *d = lua_newuserdatauv(L, (m->nrow * m->ncol + 1) * sizeof *d, 0);
        for (size_t i = 0; i < m->nrow; i++)
            for (size_t j = 0; j < m->ncol; j++) d[i * m->ncol + j] = m->data[j * m->nrow + i];
        *next_arg = arg + 1;
        return d;
    }
    if (!lua_istable(L, arg) && !svL_testvector(L, arg))
        luaL_typeerror(L, arg, "table of counts or vector of labels");
    if (!lua_istable(L, arg + 1) && !svL_testvector(L, arg + 1))
        luaL_typeerror(L, arg + 1, "vector of labels");
    size_t nx, ny;
    int *cx, *cy;
    int kx = code_levels(L, arg, &nx, &cx);
    int ky = code_levels(L, arg + 1, &ny, &cy);
    if (nx != ny) luaL_error(L, "bad argument #%d to '%s' (has %d values, x has %d)", arg + 1,
                             fname, (int)ny, (int)nx);
    /* the codes userdata stay on the stack while cx and cy are read */
    double *d = lua_newuserdatauv(L, ((size_t)kx * (size_t)ky + 1) * sizeof *d, 0);
    memset(d, 0, ((size_t)kx * (size_t)ky + 1) * sizeof *d);
    for (size_t i = 0; i < nx; i++)
        if (cx[i] >= 0 && cy[i] >= 0) d[(size_t)cx[i] * (size_t)ky + (size_t)cy[i]] += 1;
    *nr = (size_t)kx;
    *nc = (size_t)ky;
    *next_arg = arg + 2;
    return d;
}

static int l_chisq_test(lua_State *L)
{
    static const char *const allowed[] = {"correct", NULL};
    size_t nr, nc;
    int oarg;
    lua_settop(L, 3); /* the options stay below what the call pushes */
    double *tab = check_table(L, 1, "chisq_test", &nr, &nc, &oarg);
    int tabidx = lua_gettop(L);
    svL_checkopts(L, oarg, "stats.chisq_test", allowed);
    int correct = svL_opt_bool(L, oarg, "stats.chisq_test", "correct", 1);
    double *E = lua_newuserdatauv(L, (nr * nc + 1) * sizeof *E, 0);
    sv_htest h;
    sv_err e;
    if (sv_chisq_test(tab, nr, nc, correct, &h, E, &e)) return svL_engine_error(L, "stats.chisq_test", &e);
    int yates = correct && nr == 2 && nc == 2;
    push_htest(L, &h, yates ? "Pearson's Chi-squared test with Yates' continuity correction"
                            : "Pearson's Chi-squared test", -1);
    lua_createtable(L, (int)nr, 0);
    for (size_t i = 0; i < nr; i++) {
        lua_createtable(L, (int)nc, 0);
        for (size_t j = 0; j < nc; j++) {
            lua_pushnumber(L, E[i * nc + j]);
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "expected");
    (void)tabidx;
    return 1;
}

static int l_fisher_test(lua_State *L)
{
    static const char *const allowed[] = {"alternative", "max_tables", "simulate", "B",
                                          "seed", "threads", "conf_level", NULL};
    size_t nr, nc;
    int oarg;
    lua_settop(L, 3); /* the options stay below what the call pushes */
    double *tab = check_table(L, 1, "fisher_test", &nr, &nc, &oarg);
    svL_checkopts(L, oarg, "stats.fisher_test", allowed);
    int alt = svL_opt_enum(L, oarg, "stats.fisher_test", "alternative", 0, alt_names);
    double maxt = svL_opt_num(L, oarg, "stats.fisher_test", "max_tables", 1e7, 1, 1e15);
    int simulate = svL_opt_bool(L, oarg, "stats.fisher_test", "simulate", 0);
    lua_Integer B = svL_opt_int(L, oarg, "stats.fisher_test", "B", 2000, 1, 100000000);
    uint64_t seed = svL_opt_seed(L, oarg, "stats.fisher_test");
    int threads = (int)svL_opt_int(L, oarg, "stats.fisher_test", "threads", 0, 0, 4096);
    double level = svL_opt_level(L, oarg, "stats.fisher_test", "conf_level", 0.95);
    sv_htest h;
    sv_err e;
    if (simulate) {
        if (alt != 0) svL_opt_error(L, "stats.fisher_test", "alternative", "simulation is two-sided only");
        sv_ctx ctx;
        svL_ctx(L, &ctx, threads);
        if (sv_fisher_simulate(tab, nr, nc, (size_t)B, seed, &ctx, &h, &e))
            return svL_engine_error(L, "stats.fisher_test", &e);
        push_htest(L, &h, "Fisher's Exact Test for Count Data with simulated p-value", alt);
        lua_pushinteger(L, B);
        lua_setfield(L, -2, "B");
        return 1;
    }
    if (sv_fisher_test(tab, nr, nc, (sv_alternative)alt, maxt, &h, &e))
        return svL_engine_error(L, "stats.fisher_test", &e);
    push_htest(L, &h, "Fisher's Exact Test for Count Data", alt);
    if (nr == 2 && nc == 2) {
        double est, ci[2];
        if (sv_fisher_odds_ratio(tab, level, (sv_alternative)alt, &est, ci, &e))
            return svL_engine_error(L, "stats.fisher_test", &e);
        svL_setnum(L, "estimate", est);
        setpair(L, "conf_int", ci[0], ci[1]);
        svL_setnum(L, "conf_level", level);
    }
    return 1;
}

static int l_t_test(lua_State *L)
{
    static const char *const allowed[] = {"mu", "var_equal", "conf_level", "alternative",
                                          "paired", NULL};
    int two = is_sample(L, 2);
    int oarg = two ? 3 : 2;
    svL_checkopts(L, oarg, "stats.t_test", allowed);
    double mu = svL_opt_num(L, oarg, "stats.t_test", "mu", 0, -HUGE_VAL, HUGE_VAL);
    int var_equal = svL_opt_bool(L, oarg, "stats.t_test", "var_equal", 0);
    double level = svL_opt_level(L, oarg, "stats.t_test", "conf_level", 0.95);
    int alt = svL_opt_enum(L, oarg, "stats.t_test", "alternative", 0, alt_names);
    int paired = svL_opt_bool(L, oarg, "stats.t_test", "paired", 0);
    const char *method;
    sv_htest h;
    sv_err e;
    sv_status st;
    if (paired) {
        if (!two) return luaL_error(L, "stats.t_test: paired = true needs two samples");
        /* differences of the complete pairs */
        size_t n1, n2;
        const double *x = svL_checkvector(L, 1, &n1);
        const double *y = svL_checkvector(L, 2, &n2);
        if (n1 != n2)
            return luaL_error(L, "stats.t_test: paired samples differ in length (%d and %d)",
                              (int)n1, (int)n2);
        double *d = svL_newvector(L, n1);
        size_t k = 0;
        for (size_t i = 0; i < n1; i++)
            if (!isnan(x[i]) && !isnan(y[i])) d[k++] = x[i] - y[i];
        st = sv_t_test(d, k, NULL, 0, mu, 0, level, (sv_alternative)alt, &h, &e);
        method = "Paired t-test";
    } else {
        size_t nx, ny = 0;
        const double *x = check_sample(L, 1, &nx);
        const double *y = two ? check_sample(L, 2, &ny) : NULL;
        st = sv_t_test(x, nx, y, ny, mu, var_equal, level, (sv_alternative)alt, &h, &e);
        method = !two ? "One Sample t-test" : (var_equal ? " Two Sample t-test" : "Welch Two Sample t-test");
    }
    if (st) return svL_engine_error(L, "stats.t_test", &e);
    push_htest(L, &h, method, alt);
    if (two && !paired)
        setpair(L, "estimate", h.estimate[0], h.estimate[1]);
    else
        svL_setnum(L, "estimate", h.estimate[0]);
    setpair(L, "conf_int", h.conf_int[0], h.conf_int[1]);
    svL_setnum(L, "stderr", h.stderr_);
    svL_setnum(L, "conf_level", level);
    return 1;
}

static int l_wilcox_test(lua_State *L)
{
    static const char *const allowed[] = {"mu", "exact", "correct", "alternative", "paired", NULL};
    int two = is_sample(L, 2);
    int oarg = two ? 3 : 2;
    svL_checkopts(L, oarg, "stats.wilcox_test", allowed);
    double mu = svL_opt_num(L, oarg, "stats.wilcox_test", "mu", 0, -HUGE_VAL, HUGE_VAL);
    int exact = -1;
    if (svL_opt_get(L, oarg, "exact") != LUA_TNIL)
        exact = svL_opt_bool(L, oarg, "stats.wilcox_test", "exact", 0);
    lua_pop(L, 1);
    int correct = svL_opt_bool(L, oarg, "stats.wilcox_test", "correct", 1);
    int alt = svL_opt_enum(L, oarg, "stats.wilcox_test", "alternative", 0, alt_names);
    int paired = svL_opt_bool(L, oarg, "stats.wilcox_test", "paired", 0);
    sv_htest h;
    sv_err e;
    const char *method;
    if (two && !paired) {
        size_t nx, ny;
        const double *x = check_sample(L, 1, &nx);
        const double *y = check_sample(L, 2, &ny);
        if (sv_wilcox_test(x, nx, y, ny, mu, exact, correct, (sv_alternative)alt, &h, &e))
            return svL_engine_error(L, "stats.wilcox_test", &e);
        method = h.exact ? "Wilcoxon rank sum exact test"
                         : (correct ? "Wilcoxon rank sum test with continuity correction"
                                    : "Wilcoxon rank sum test");
    } else {
        const double *d;
        size_t nd;
        if (paired) {
            if (!two) return luaL_error(L, "stats.wilcox_test: paired = true needs two samples");
            size_t n1, n2;
            const double *x = svL_checkvector(L, 1, &n1);
            const double *y = svL_checkvector(L, 2, &n2);
            if (n1 != n2)
                return luaL_error(L, "stats.wilcox_test: paired samples differ in length (%d and %d)",
                                  (int)n1, (int)n2);
            double *dd = svL_newvector(L, n1);
            nd = 0;
            for (size_t i = 0; i < n1; i++)
                if (!isnan(x[i]) && !isnan(y[i])) dd[nd++] = x[i] - y[i];
            d = dd;
        } else {
            d = check_sample(L, 1, &nd);
        }
        if (sv_signrank_test(d, nd, mu, exact, correct, (sv_alternative)alt, &h, &e))
            return svL_engine_error(L, "stats.wilcox_test", &e);
        method = h.exact ? "Wilcoxon signed rank exact test"
                         : (correct ? "Wilcoxon signed rank test with continuity correction"
                                    : "Wilcoxon signed rank test");
    }
    push_htest(L, &h, method, alt);
    lua_pushboolean(L, h.exact);
    lua_setfield(L, -2, "exact");
    return 1;
}

static int l_kruskal_test(lua_State *L)
{
    static const char *const allowed[] = {NULL};
    size_t n;
    const double *x;
    int *codes;
    int k;
    lua_settop(L, 3);
    if (lua_istable(L, 1) && !svL_testvector(L, 1) && lua_isnoneornil(L, 2)) {
        /* a list of samples */
        int ng = (int)luaL_len(L, 1);
        size_t tot = 0;
        for (int g = 1; g <= ng; g++) {
            lua_geti(L, 1, g);
            size_t m;
            svL_checkvector(L, -1, &m);
            tot += m;
            lua_pop(L, 1);
        }
        double *xx = svL_newvector(L, tot);
        codes = lua_newuserdatauv(L, (tot + 1) * sizeof *codes, 0);
        size_t pos = 0;
        for (int g = 1; g <= ng; g++) {
            lua_geti(L, 1, g);
            size_t m;
            const double *v = svL_checkvector(L, -1, &m);
            for (size_t i = 0; i < m; i++) {
                if (isnan(v[i])) continue;
                xx[pos] = v[i];
                codes[pos++] = g - 1;
            }
            lua_pop(L, 1);
        }
        x = xx;
        n = pos;
        k = ng;
    } else {
        size_t nx;
        const double *x0 = svL_checkvector(L, 1, &nx);
        size_t ng;
        int *c0;
        k = code_levels(L, 2, &ng, &c0);
        svL_checkopts(L, 3, "stats.kruskal_test", allowed);
        if (ng != nx) return luaL_error(L, "bad argument #2 to 'kruskal_test' (has %d values, x has %d)",
                                        (int)ng, (int)nx);
        double *xx = svL_newvector(L, nx);
        codes = lua_newuserdatauv(L, (nx + 1) * sizeof *codes, 0);
        n = 0;
        for (size_t i = 0; i < nx; i++) {
            if (isnan(x0[i]) || c0[i] < 0) continue;
            xx[n] = x0[i];
            codes[n++] = c0[i];
        }
        x = xx;
    }
    sv_htest h;
    sv_err e;
    if (sv_kruskal_test(x, codes, n, k, &h, &e)) return svL_engine_error(L, "stats.kruskal_test", &e);
    push_htest(L, &h, "Kruskal-Wallis rank sum test", -1);
    return 1;
}

static int l_p_adjust(lua_State *L)
{
    static const char *const names[] = {"holm", "hochberg", "bonferroni", "BH", "BY", "none", "fdr", NULL};
    size_t n;
    const double *p = svL_checkvector(L, 1, &n);
    int m = luaL_checkoption(L, 2, "holm", names);
    if (m == 6) m = SV_PADJ_BH;
    for (size_t i = 0; i < n; i++)
        if (!isnan(p[i]) && !(p[i] >= 0 && p[i] <= 1)) {
            const char *msg = lua_pushfstring(L, "element %d is %f, expected a probability", (int)i + 1, p[i]);
            luaL_argerror(L, 1, msg);
        }
    double *out = svL_newvector(L, n);
    sv_err e;
    if (sv_p_adjust(p, n, (sv_padjust)m, out, &e)) return svL_engine_error(L, "stats.p_adjust", &e);
    return 1;
}

static int l_summary(lua_State *L)
{
    size_t n;
    const double *x = svL_checkvector(L, 1, &n);
    sv_summary_result s;
    sv_err e;
    if (sv_summary(x, n, &s, &e)) return svL_engine_error(L, "stats.summary", &e);
    lua_createtable(L, 0, 10);
    lua_pushinteger(L, (lua_Integer)s.n);
    lua_setfield(L, -2, "n");
    lua_pushinteger(L, (lua_Integer)s.n_missing);
    lua_setfield(L, -2, "n_missing");
    svL_setnum(L, "mean", s.mean);
    svL_setnum(L, "sd", s.sd);
    svL_setnum(L, "median", s.median);
    svL_setnum(L, "q1", s.q1);
    svL_setnum(L, "q3", s.q3);
    svL_setnum(L, "iqr", s.iqr);
    svL_setnum(L, "min", s.min);
    svL_setnum(L, "max", s.max);
    return 1;
}

static int l_quantile(lua_State *L)
{
    size_t n;
    const double *x = svL_checkvector(L, 1, &n);
    double p = luaL_checknumber(L, 2);
    luaL_argcheck(L, p >= 0 && p <= 1, 2, "probability in [0, 1] expected");
    double *v = svL_newvector(L, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) v[k++] = x[i];
    sv_sort_doubles(v, k);
    lua_pushnumber(L, sv_quantile_sorted(v, k, p));
    return 1;
}

static int l_freq(lua_State *L)
{
    size_t n;
    int *codes;
    int k = code_levels(L, 1, &n, &codes);
    int lv = lua_gettop(L);
    size_t *cnt = lua_newuserdatauv(L, ((size_t)k + 1) * sizeof *cnt, 0);
    memset(cnt, 0, ((size_t)k + 1) * sizeof *cnt);
    size_t total = 0, missing = 0;
    for (size_t i = 0; i < n; i++) {
        if (codes[i] < 0)
            missing++;
        else {
            cnt[codes[i]]++;
            total++;
        }
    }
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, lv);
    lua_setfield(L, -2, "levels");
    lua_createtable(L, k, 0);
    for (int g = 0; g < k; g++) {
        lua_pushinteger(L, (lua_Integer)cnt[g]);
        lua_rawseti(L, -2, g + 1);
    }
    lua_setfield(L, -2, "n");
    lua_createtable(L, k, 0);
    for (int g = 0; g < k; g++) {
        lua_pushnumber(L, 100.0 * (double)cnt[g] / (double)total);
        lua_rawseti(L, -2, g + 1);
    }
    lua_setfield(L, -2, "percent");
    lua_pushinteger(L, (lua_Integer)total);
    lua_setfield(L, -2, "total");
    lua_pushinteger(L, (lua_Integer)missing);
    lua_setfield(L, -2, "n_missing");
    return 1;
}

/* ---- distribution functions -------------------------------------------- */

static int opt_lower(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg)) return 1;
    luaL_checktype(L, arg, LUA_TBOOLEAN);
    return lua_toboolean(L, arg);
}

static double checkprob(lua_State *L, int arg)
{
    double p = luaL_checknumber(L, arg);
    luaL_argcheck(L, p >= 0 && p <= 1, arg, "probability in [0, 1] expected");
    return p;
}

static double checkpos(lua_State *L, int arg, const char *what)
{
    double v = luaL_checknumber(L, arg);
    if (!(v > 0)) luaL_argerror(L, arg, what);
    return v;
}

static double checkcount(lua_State *L, int arg)
{
    double v = luaL_checknumber(L, arg);
    if (!(v >= 0 && v == floor(v))) luaL_argerror(L, arg, "non-negative integer expected");
    return v;
}

static int l_pnorm(lua_State *L)
{
    lua_pushnumber(L, sv_pnorm(luaL_checknumber(L, 1), opt_lower(L, 2)));
    return 1;
}
static int l_qnorm(lua_State *L)
{
    lua_pushnumber(L, sv_qnorm(checkprob(L, 1), opt_lower(L, 2)));
    return 1;
}
static int l_pt(lua_State *L)
{
    double t = luaL_checknumber(L, 1), df = checkpos(L, 2, "df > 0 expected");
    lua_pushnumber(L, sv_pt(t, df, opt_lower(L, 3)));
    return 1;
}
static int l_qt(lua_State *L)
{
    double p = checkprob(L, 1), df = checkpos(L, 2, "df > 0 expected");
    lua_pushnumber(L, sv_qt(p, df, opt_lower(L, 3)));
    return 1;
}
static int l_pchisq(lua_State *L)
{
    double x = luaL_checknumber(L, 1), df = checkpos(L, 2, "df > 0 expected");
    lua_pushnumber(L, sv_pchisq(x, df, opt_lower(L, 3)));
    return 1;
}
static int l_qchisq(lua_State *L)
{
    double p = checkprob(L, 1), df = checkpos(L, 2, "df > 0 expected");
    lua_pushnumber(L, sv_qchisq(p, df, opt_lower(L, 3)));
    return 1;
}
static int l_pf(lua_State *L)
{
    double f = luaL_checknumber(L, 1);
    double d1 = checkpos(L, 2, "df1 > 0 expected"), d2 = checkpos(L, 3, "df2 > 0 expected");
    lua_pushnumber(L, sv_pf(f, d1, d2, opt_lower(L, 4)));
    return 1;
}
static int l_pbeta(lua_State *L)
{
    double x = luaL_checknumber(L, 1);
    double a = checkpos(L, 2, "shape1 > 0 expected"), b = checkpos(L, 3, "shape2 > 0 expected");
    lua_pushnumber(L, sv_pbeta(x, a, b, opt_lower(L, 4)));
    return 1;
}
static int l_qbeta(lua_State *L)
{
    double p = checkprob(L, 1);
    double a = checkpos(L, 2, "shape1 > 0 expected"), b = checkpos(L, 3, "shape2 > 0 expected");
    lua_pushnumber(L, sv_qbeta(p, a, b, opt_lower(L, 4)));
    return 1;
}
static int l_dbinom(lua_State *L)
{
    double k = luaL_checknumber(L, 1), n = checkcount(L, 2), p = checkprob(L, 3);
    lua_pushnumber(L, sv_dbinom(k, n, p));
    return 1;
}
static int l_pbinom(lua_State *L)
{
    double k = luaL_checknumber(L, 1), n = checkcount(L, 2), p = checkprob(L, 3);
    lua_pushnumber(L, sv_pbinom(k, n, p, opt_lower(L, 4)));
    return 1;
}
static int l_dhyper(lua_State *L)
{
    double x = luaL_checknumber(L, 1), m = checkcount(L, 2), n = checkcount(L, 3), k = checkcount(L, 4);
    luaL_argcheck(L, k <= m + n, 4, "k must not exceed m + n");
    lua_pushnumber(L, sv_dhyper(x, m, n, k));
    return 1;
}
static int l_phyper(lua_State *L)
{
    double x = luaL_checknumber(L, 1), m = checkcount(L, 2), n = checkcount(L, 3), k = checkcount(L, 4);
    luaL_argcheck(L, k <= m + n, 4, "k must not exceed m + n");
    lua_pushnumber(L, sv_phyper(x, m, n, k, opt_lower(L, 5)));
    return 1;
}
static int l_psignrank(lua_State *L)
{
    double q = luaL_checknumber(L, 1), n = checkcount(L, 2);
    luaL_argcheck(L, n >= 1 && n <= 1000, 2, "between 1 and 1000 expected");
    lua_pushnumber(L, sv_psignrank(q, (size_t)n, opt_lower(L, 3)));
    return 1;
}

static int l_pwilcox(lua_State *L)
{
    double q = luaL_checknumber(L, 1), m = checkcount(L, 2), n = checkcount(L, 3);
    luaL_argcheck(L, m >= 1 && m <= 200, 2, "between 1 and 200 expected");
    luaL_argcheck(L, n >= 1 && n <= 200, 3, "between 1 and 200 expected");
    lua_pushnumber(L, sv_pwilcox(q, (size_t)m, (size_t)n, opt_lower(L, 4)));
    return 1;
}

static const luaL_Reg funcs[] = {{"chisq_test", l_chisq_test},
                                 {"fisher_test", l_fisher_test},
                                 {"t_test", l_t_test},
                                 {"wilcox_test", l_wilcox_test},
                                 {"kruskal_test", l_kruskal_test},
                                 {"p_adjust", l_p_adjust},
                                 {"summary", l_summary},
                                 {"quantile", l_quantile},
                                 {"freq", l_freq},
                                 {"pnorm", l_pnorm},
                                 {"qnorm", l_qnorm},
                                 {"pt", l_pt},
                                 {"qt", l_qt},
                                 {"pchisq", l_pchisq},
                                 {"qchisq", l_qchisq},
                                 {"pf", l_pf},
                                 {"pbeta", l_pbeta},
                                 {"qbeta", l_qbeta},
                                 {"dbinom", l_dbinom},
                                 {"pbinom", l_pbinom},
                                 {"dhyper", l_dhyper},
                                 {"phyper", l_phyper},
                                 {"pwilcox", l_pwilcox},
                                 {"psignrank", l_psignrank},
                                 {NULL, NULL}};

int luaopen_sylva_stats(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
