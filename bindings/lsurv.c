/*
 * lsurv.c - the sv.surv module: Kaplan-Meier, survival at given times,
 * numbers at risk, log-rank / G-rho (overall and pairwise), Cox
 * proportional hazards, Harrell's and Uno's concordance, the restricted
 * mean, and time-dependent performance (auc_t, brier_t, calibration_t,
 * cutpoint).
 * The statistics are computed by engine/surv_*.c (sv_surv.h); this file
 * checks arguments, maps group labels to codes and builds result tables.
 * See docs/survival.md.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lsylva.h"
#include "sv_surv.h"
#include "../engine/sv_dist.h"

/* ---- helpers ------------------------------------------------------- */

/* Scratch memory owned by a userdata pushed on the stack (collected on
 * error, so nothing leaks when an argument error is raised). */
static void *scratch(lua_State *L, size_t n, size_t size)
{
    if (size && n > ((size_t)-1) / size) luaL_error(L, "allocation too large");
    return lua_newuserdatauv(L, n * size != 0 ? n * size : 1, 0);
}

static void push_vector(lua_State *L, const double *x, size_t n)
{
    double *d = svL_newvector(L, n);
    if (n) memcpy(d, x, n * sizeof *d);
}

static void set_vec(lua_State *L, const char *k, const double *x, size_t n)
{
    push_vector(L, x, n);
    lua_setfield(L, -2, k);
}

/* Reads time and event (args 1 and 2), checks lengths, values and
 * reports errors naming the function and the argument. */
static size_t check_time_event(lua_State *L,
                               const double **time, const double **event)
{
    size_t n, ne;
    *time = svL_checkvector(L, 1, &n);
    *event = svL_checkvector(L, 2, &ne);
    if (ne != n) {
        const char *m = lua_pushfstring(L, "event has %d values, time has %d",
                                        (int)ne, (int)n);
        luaL_argerror(L, 2, m);
    }
    if (n == 0) luaL_argerror(L, 1, "no observations (time and event are empty)");
    for (size_t i = 0; i < n; i++) {
        double t = (*time)[i];
        if (!(t >= 0) || !isfinite(t)) {
            const char *m = lua_pushfstring(L, "time[%d] is %f; times must be finite and >= 0",
                                            (int)i + 1, t);
            luaL_argerror(L, 1, m);
        }
        double e = (*event)[i];
        if (!(e == 0 || e == 1)) {
            const char *m = lua_pushfstring(L, "event[%d] is %f; events must be 0 (censored) or 1",
                                            (int)i + 1, e);
            luaL_argerror(L, 2, m);
        }
    }
    return n;
}

/* Group labels (svL_label_codes): codes 0..k-1 in sorted label order,
 * the sorted labels pushed. */
static int group_codes(lua_State *L, int arg, const char *what, size_t n,
                       int *codes)
{
    return svL_label_codes(L, arg, what, "time", n, codes);
}

static const char *const conf_types[] = {"log", "log-log", "plain", NULL};

/* ---- Kaplan-Meier -------------------------------------------------- */

/* Pushes one curve as a table. */
static void push_km(lua_State *L, const sv_km *km, sv_conf_type type,
                    double level)
{
    lua_createtable(L, 0, 20);
    set_vec(L, "time", km->time, km->nrow);
    set_vec(L, "n_risk", km->n_risk, km->nrow);
    set_vec(L, "n_event", km->n_event, km->nrow);
    set_vec(L, "n_censor", km->n_censor, km->nrow);
    set_vec(L, "surv", km->surv, km->nrow);
    set_vec(L, "std_err", km->std_err, km->nrow);
    set_vec(L, "lower", km->lower, km->nrow);
    set_vec(L, "upper", km->upper, km->nrow);
    svL_setnum(L, "median", km->median);
    svL_setnum(L, "median_lo", km->median_lo);
    svL_setnum(L, "median_hi", km->median_hi);
    lua_pushinteger(L, (lua_Integer)km->n);
    lua_setfield(L, -2, "n");
    svL_setnum(L, "events", km->events);
    lua_pushstring(L, conf_types[type]);
    lua_setfield(L, -2, "conf_type");
    svL_setnum(L, "conf_level", level);
}

/* Room for a curve of m subjects in one scratch userdata. */
static void km_alloc(lua_State *L, sv_km *km, size_t m)
{
    double *buf = scratch(L, 8 * (m ? m : 1), sizeof *buf);
    size_t s = m ? m : 1;
    km->time = buf, km->n_risk = buf + s, km->n_event = buf + 2 * s,
    km->n_censor = buf + 3 * s, km->surv = buf + 4 * s, km->std_err = buf + 5 * s,
    km->lower = buf + 6 * s, km->upper = buf + 7 * s;
}

/* What fit_curves pushes for each fitted curve. */
typedef struct km_push_ctx {
    sv_conf_type type;
    double level;
    double tau;      /* surv.rmst only */
} km_push_ctx;

typedef void (*km_push_fn)(lua_State *L, const sv_km *km, const km_push_ctx *pc);

/*
 * Fits the Kaplan-Meier curve of all subjects, or one per level of the
 * `group` option (options at stack index opt_arg), and pushes what `push`
 * makes of each: one result, or {groups = labels, curves = {...}} with
 * each curve's `group` field set. Shared by surv.km and surv.rmst.
 */
static int fit_curves(lua_State *L, const char *fname, int opt_arg,
                      const double *time, const double *event, size_t n,
                      const sv_km_opts *o, km_push_fn push, const km_push_ctx *pc)
{
    sv_err err;
    uint32_t *perm = scratch(L, n, sizeof *perm);
    sv_km km;
    km_alloc(L, &km, n);
    if (svL_opt_get(L, opt_arg, "group") == LUA_TNIL) {
        lua_pop(L, 1);
        if (sv_surv_order(time, NULL, 0, n, perm, &err)) return svL_engine_error(L, fname, &err);
        sv_km_fit_sorted(time, event, perm, n, o, &km);
        push(L, &km, pc);
        return 1;
    }
    int gidx = lua_gettop(L);
    int *codes = scratch(L, n, sizeof *codes);
    int k = group_codes(L, gidx, "group", n, codes);
    int labels = lua_gettop(L);
    if (sv_surv_order(time, codes, k, n, perm, &err)) return svL_engine_error(L, fname, &err);
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, labels);
    lua_setfield(L, -2, "groups");
    lua_createtable(L, k, 0);
    size_t start = 0;
    for (int g = 0; g < k; g++) {
        size_t end = start;
        while (end < n && codes[perm[end]] == g) end++;
        sv_km_fit_sorted(time, event, perm + start, end - start, o, &km);
        push(L, &km, pc);
        lua_rawgeti(L, labels, g + 1);
        lua_setfield(L, -2, "group");
        lua_rawseti(L, -2, g + 1);
        start = end;
    }
    lua_setfield(L, -2, "curves");
    return 1;
}

static void push_km_cb(lua_State *L, const sv_km *km, const km_push_ctx *pc)
{
    push_km(L, km, pc->type, pc->level);
}

static int l_km(lua_State *L)
{
    static const char *const allowed[] = {"conf_type", "conf_level", "group", NULL};
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    svL_checkopts(L, 3, "surv.km", allowed);
    sv_km_opts o;
    sv_km_opts_default(&o);
    o.conf_type = (sv_conf_type)svL_opt_enum(L, 3, "surv.km", "conf_type", 0, conf_types);
    o.conf_level = svL_opt_level(L, 3, "surv.km", "conf_level", 0.95);
    km_push_ctx pc = {o.conf_type, o.conf_level, 0};
    return fit_curves(L, "surv.km", 3, time, event, n, &o, push_km_cb, &pc);
}

/* Reads a fitted curve (a table from surv.km) at stack index idx into km;
 * the vectors stay referenced from the table. */
static void read_km(lua_State *L, int idx, int arg, sv_km *km,
                    sv_conf_type *type, double *level)
{
    static const char *const fields[] = {"time", "n_risk", "n_event", "n_censor",
                                         "surv", "std_err", "lower", "upper"};
    double **dst[] = {&km->time, &km->n_risk, &km->n_event, &km->n_censor,
                      &km->surv, &km->std_err, &km->lower, &km->upper};
    idx = lua_absindex(L, idx);
    size_t nrow = 0;
    for (int f = 0; f < 8; f++) {
        lua_getfield(L, idx, fields[f]);
        svL_vector *v = svL_testvector(L, -1);
        if (!v) {
            const char *m = lua_pushfstring(L, "not a curve from surv.km (field '%s' missing)",
                                            fields[f]);
            luaL_argerror(L, arg, m);
        }
        if (f > 0 && v->n != nrow) luaL_argerror(L, arg, "curve fields have different lengths");
        nrow = v->n;
        *dst[f] = v->data;
        lua_pop(L, 1); /* the table keeps the vector alive */
    }
    km->nrow = nrow;
    km->n = nrow ? (size_t)km->n_risk[0] : 0;
    lua_getfield(L, idx, "conf_type");
    *type = SV_CONF_LOG;
    if (lua_type(L, -1) == LUA_TSTRING)
        for (int i = 0; conf_types[i]; i++)
            if (strcmp(conf_types[i], lua_tostring(L, -1)) == 0) *type = (sv_conf_type)i;
    lua_pop(L, 1);
    lua_getfield(L, idx, "conf_level");
    *level = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0.95;
    lua_pop(L, 1);
}

/* at / risk_table on one curve (table at idx): pushes the result. */
static void at_one(lua_State *L, int idx, const double *t, size_t m, int full)
{
    sv_km km;
    sv_conf_type type;
    double level;
    read_km(L, idx, 1, &km, &type, &level);
    double *buf = scratch(L, 6 * (m ? m : 1), sizeof *buf);
    size_t s = m ? m : 1;
    sv_err err;
    if (sv_km_at(&km, type, level, t, m, buf, buf + s, buf + 2 * s, buf + 3 * s, buf + 4 * s,
                 buf + 5 * s, &err))
        luaL_argerror(L, 2, err.msg);
    lua_createtable(L, 0, 8);
    set_vec(L, "time", t, m);
    if (full) {
        set_vec(L, "surv", buf, m);
        set_vec(L, "std_err", buf + s, m);
        /* summary.survfit's std.err: of S itself, S * std_err */
        for (size_t j = 0; j < m; j++) buf[s + j] = buf[j] == 0 ? 0 : buf[j] * buf[s + j];
        set_vec(L, "se_surv", buf + s, m);
        set_vec(L, "lower", buf + 2 * s, m);
        set_vec(L, "upper", buf + 3 * s, m);
    }
    set_vec(L, "n_risk", buf + 4 * s, m);
    set_vec(L, "n_event", buf + 5 * s, m);
    lua_remove(L, -2); /* the scratch */
}

static int at_common(lua_State *L, int full)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t m;
    const double *t = svL_checkvector(L, 2, &m);
    lua_getfield(L, 1, "curves");
    if (lua_istable(L, -1)) {
        int curves = lua_gettop(L);
        lua_createtable(L, 0, 2);
        lua_getfield(L, 1, "groups");
        lua_setfield(L, -2, "groups");
        lua_newtable(L);
        lua_Integer k = luaL_len(L, curves);
        for (lua_Integer g = 1; g <= k; g++) {
            lua_rawgeti(L, curves, g);
            at_one(L, -1, t, m, full);
            lua_getfield(L, -2, "group");
            lua_setfield(L, -2, "group");
            lua_rawseti(L, -3, g);
            lua_pop(L, 1);
        }
        lua_setfield(L, -2, "curves");
        return 1;
    }
    lua_pop(L, 1);
    at_one(L, 1, t, m, full);
    return 1;
}

static int l_at(lua_State *L) { return at_common(L, 1); }
static int l_risk_table(lua_State *L) { return at_common(L, 0); }

/* ---- restricted mean --------------------------------------------- */

static void push_rmst(lua_State *L, const sv_km *km, double tau, double level)
{
    double r, se;
    sv_km_rmst(km, tau, &r, &se);
    double z = sv_qnorm(1 - (1 - level) / 2, 1);
    lua_createtable(L, 0, 5);
    svL_setnum(L, "rmst", r);
    svL_setnum(L, "se", se);
    svL_setnum(L, "lo", r - z * se);
    svL_setnum(L, "hi", r + z * se);
    svL_setnum(L, "tau", tau);
}

static void push_rmst_cb(lua_State *L, const sv_km *km, const km_push_ctx *pc)
{
    push_rmst(L, km, pc->tau, pc->level);
}

static int l_rmst(lua_State *L)
{
    if (lua_istable(L, 1) && !svL_testvector(L, 1) && lua_getfield(L, 1, "surv") != LUA_TNIL) {
        lua_pop(L, 1);
        double tau = luaL_checknumber(L, 2);
        if (!(tau > 0) || !isfinite(tau)) luaL_argerror(L, 2, "tau must be finite and > 0");
        static const char *const allowed[] = {"conf_level", NULL};
        svL_checkopts(L, 3, "surv.rmst", allowed);
        double level = svL_opt_level(L, 3, "surv.rmst", "conf_level", 0.95);
        sv_km km;
        sv_conf_type type;
        double lv;
        read_km(L, 1, 1, &km, &type, &lv);
        push_rmst(L, &km, tau, level);
        return 1;
    }
    lua_settop(L, 4);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    double tau = luaL_checknumber(L, 3);
    if (!(tau > 0) || !isfinite(tau)) luaL_argerror(L, 3, "tau must be finite and > 0");
    static const char *const allowed[] = {"conf_level", "group", NULL};
    svL_checkopts(L, 4, "surv.rmst", allowed);
    double level = svL_opt_level(L, 4, "surv.rmst", "conf_level", 0.95);
    sv_km_opts o;
    sv_km_opts_default(&o);
    km_push_ctx pc = {SV_CONF_LOG, level, tau};
    return fit_curves(L, "surv.rmst", 4, time, event, n, &o, push_rmst_cb, &pc);
}

/* ---- log-rank ------------------------------------------------------ */

/* Reads the strata option (opts at index arg) into codes; returns the
 * number of strata, 0 when absent. */
static int strata_codes(lua_State *L, int arg, const char *fname, size_t n,
                        int **codes)
{
    if (svL_opt_get(L, arg, "strata") == LUA_TNIL) {
        lua_pop(L, 1);
        *codes = NULL;
        return 0;
    }
    int idx = lua_gettop(L);
    if (!svL_testvector(L, idx) && !lua_istable(L, idx))
        svL_opt_error(L, fname, "strata", "array of stratum labels expected");
    svL_vector *v = svL_testvector(L, idx);
    size_t len = v ? v->n : (size_t)luaL_len(L, idx);
    if (len != n) {
        const char *m = lua_pushfstring(L, "has %d values, time has %d", (int)len, (int)n);
        svL_opt_error(L, fname, "strata", m);
    }
    *codes = scratch(L, n, sizeof **codes);
    return group_codes(L, idx, "strata", n, *codes);
}

static void push_logrank(lua_State *L, const sv_logrank_result *r, int k,
                         int labels, const double *counts, double rho)
{
    lua_createtable(L, 0, 10);
    svL_setnum(L, "chisq", r->chisq);
    lua_pushinteger(L, r->df);
    lua_setfield(L, -2, "df");
    svL_setnum(L, "p", r->p);
    lua_pushvalue(L, labels);
    lua_setfield(L, -2, "groups");
    set_vec(L, "observed", r->observed, (size_t)k);
    set_vec(L, "expected", r->expected, (size_t)k);
    set_vec(L, "n", counts, (size_t)k);
    svL_matrix *V = svL_newmatrix(L, (size_t)k, (size_t)k);
    memcpy(V->data, r->var, (size_t)k * (size_t)k * sizeof *V->data);
    lua_setfield(L, -2, "var");
    svL_setnum(L, "rho", rho);
}

static int l_logrank(lua_State *L)
{
    static const char *const allowed[] = {"rho", "strata", NULL};
    lua_settop(L, 4);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    svL_checkopts(L, 4, "surv.logrank", allowed);
    sv_logrank_opts o;
    sv_logrank_opts_default(&o);
    o.rho = svL_opt_num(L, 4, "surv.logrank", "rho", 0, 0, HUGE_VAL);
    int *codes = scratch(L, n, sizeof *codes);
    int k = group_codes(L, 3, "group", n, codes);
    int labels = lua_gettop(L);
    if (k < 2) luaL_argerror(L, 3, "there is only 1 group");
    if (k > SV_LOGRANK_MAX_GROUPS) {
        const char *m = lua_pushfstring(L, "%d groups (at most %d: is group a continuous variable?)",
                                        k, SV_LOGRANK_MAX_GROUPS);
        luaL_argerror(L, 3, m);
    }
    int *scodes;
    int ns = strata_codes(L, 4, "surv.logrank", n, &scodes);
    double *buf = scratch(L, (size_t)k * (3 + (size_t)k), sizeof *buf);
    sv_logrank_result r = {0, 0, 0, buf, buf + k, buf + 2 * k};
    double *counts = buf + (size_t)k * (2 + (size_t)k);
    memset(counts, 0, (size_t)k * sizeof *counts);
    for (size_t i = 0; i < n; i++) counts[codes[i]] += 1;
    sv_err err;
    if (sv_logrank(time, event, codes, k, scodes, ns, n, &o, &r, &err))
        return svL_engine_error(L, "surv.logrank", &err);
    if (r.df < 1) r.p = NAN; /* no test: R reports p = NA */
    push_logrank(L, &r, k, labels, counts, o.rho);
    return 1;
}

static const char *const adjust_names[] = {"BH", "holm", "bonferroni", "none", NULL};
static const sv_padjust adjust_methods[] = {SV_PADJ_BH, SV_PADJ_HOLM, SV_PADJ_BONFERRONI,
                                            SV_PADJ_NONE};

static int l_pairwise(lua_State *L)
{
    static const char *const allowed[] = {"rho", "strata", "adjust", NULL};
    lua_settop(L, 4);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    svL_checkopts(L, 4, "surv.pairwise", allowed);
    sv_logrank_opts o;
    sv_logrank_opts_default(&o);
    o.rho = svL_opt_num(L, 4, "surv.pairwise", "rho", 0, 0, HUGE_VAL);
    int adj = svL_opt_enum(L, 4, "surv.pairwise", "adjust", 0, adjust_names);
    int *codes = scratch(L, n, sizeof *codes);
    int k = group_codes(L, 3, "group", n, codes);
    int labels = lua_gettop(L);
    if (k < 2) luaL_argerror(L, 3, "there is only 1 group");
    if (k > SV_PAIRWISE_MAX_GROUPS) {
        const char *m = lua_pushfstring(L, "%d groups (at most %d for pairwise tests)", k,
                                        SV_PAIRWISE_MAX_GROUPS);
        luaL_argerror(L, 3, m);
    }
    int *scodes;
    int ns = strata_codes(L, 4, "surv.pairwise", n, &scodes);
    size_t npair = (size_t)k * (size_t)(k - 1) / 2;
    double *chisq = scratch(L, 3 * npair, sizeof *chisq);
    double *pv = chisq + npair, *padj = pv + npair;
    sv_err err;
    if (sv_logrank_pairwise(time, event, codes, k, scodes, ns, n, &o, adjust_methods[adj], chisq,
                            pv, padj, &err))
        return svL_engine_error(L, "surv.pairwise", &err);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, labels);
    lua_setfield(L, -2, "groups");
    lua_pushstring(L, adjust_names[adj]);
    lua_setfield(L, -2, "adjust");
    /* k x k matrix of adjusted p-values (row > column filled, R's
     * pairwise_survdiff layout; NaN elsewhere) */
    svL_matrix *P = svL_newmatrix(L, (size_t)k, (size_t)k);
    for (size_t i = 0; i < (size_t)k * (size_t)k; i++) P->data[i] = NAN;
    lua_createtable(L, (int)npair, 0);
    size_t q = 0;
    for (int a = 0; a < k; a++) {
        for (int b = a + 1; b < k; b++, q++) {
            P->data[(size_t)a * (size_t)k + (size_t)b] = padj[q];
            lua_createtable(L, 0, 5);
            lua_rawgeti(L, labels, a + 1);
            lua_setfield(L, -2, "group1");
            lua_rawgeti(L, labels, b + 1);
            lua_setfield(L, -2, "group2");
            svL_setnum(L, "chisq", chisq[q]);
            svL_setnum(L, "p", pv[q]);
            svL_setnum(L, "p_adj", padj[q]);
            lua_rawseti(L, -2, (lua_Integer)q + 1);
        }
    }
    lua_setfield(L, -3, "pairs");
    lua_setfield(L, -2, "p");
    return 1;
}

/* ---- Cox ----------------------------------------------------------- */

static const char *const ties_names[] = {"efron", "breslow", NULL};

/* The fields of a Cox result: vectors of p (or n) values and scalars. */
static const struct {
    const char *name;
    size_t off;
} cox_vectors[] = {{"coef", offsetof(sv_cox_result, coef)}, {"se", offsetof(sv_cox_result, se)},
                   {"hr", offsetof(sv_cox_result, hr)},     {"hr_lo", offsetof(sv_cox_result, hr_lo)},
                   {"hr_hi", offsetof(sv_cox_result, hr_hi)}, {"z", offsetof(sv_cox_result, z)},
                   {"p", offsetof(sv_cox_result, p)}},
  cox_scalars[] = {{"wald", offsetof(sv_cox_result, wald)},
                   {"score", offsetof(sv_cox_result, score)},
                   {"lrt", offsetof(sv_cox_result, lrt)},
                   {"wald_p", offsetof(sv_cox_result, wald_p)},
                   {"score_p", offsetof(sv_cox_result, score_p)},
                   {"lrt_p", offsetof(sv_cox_result, lrt_p)},
                   {"concordance", offsetof(sv_cox_result, concordance)},
                   {"concordance_se", offsetof(sv_cox_result, concordance_se)},
                   {"events", offsetof(sv_cox_result, events)}};

/* Pushes the result table of sv.surv.cox for the fit r of X (argument
 * 3): its fields, the column names (X's, else x1..xp) and the engine's
 * warnings. */
static void push_cox(lua_State *L, const sv_cox_result *r, size_t n, size_t p, sv_cox_ties ties)
{
    lua_createtable(L, 0, 30);
    int res = lua_gettop(L);
    svL_matrix_pushnames(L, 3);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_createtable(L, (int)p, 0);
        for (size_t j = 0; j < p; j++) {
            lua_pushfstring(L, "x%d", (int)j + 1);
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
    }
    int names = lua_gettop(L);
    lua_pushvalue(L, names);
    lua_setfield(L, res, "names");
    lua_pushvalue(L, res); /* the setters below work on the top */
    for (size_t i = 0; i < sizeof cox_vectors / sizeof *cox_vectors; i++)
        set_vec(L, cox_vectors[i].name, *(double *const *)((const char *)r + cox_vectors[i].off), p);
    for (size_t i = 0; i < sizeof cox_scalars / sizeof *cox_scalars; i++)
        svL_setnum(L, cox_scalars[i].name, *(const double *)((const char *)r + cox_scalars[i].off));
    svL_matrix *V = svL_newmatrix(L, p, p);
    memcpy(V->data, r->var, p * p * sizeof *V->data);
    lua_pushvalue(L, names);
    svL_matrix_setnames(L, -2);
    lua_setfield(L, -2, "var");
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, r->loglik_null);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, r->loglik);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "loglik");
    lua_pushinteger(L, r->df);
    lua_setfield(L, -2, "df");
    lua_pushinteger(L, (lua_Integer)r->n);
    lua_setfield(L, -2, "n");
    lua_pushinteger(L, r->iter);
    lua_setfield(L, -2, "iter");
    lua_pushboolean(L, r->converged);
    lua_setfield(L, -2, "converged");
    lua_pushstring(L, ties_names[ties]);
    lua_setfield(L, -2, "ties");
    set_vec(L, "lp", r->lp, n);
    /* warnings: the engine words them from the names */
    const char **cn = scratch(L, p, sizeof *cn);
    for (size_t j = 0; j < p; j++) {
        lua_rawgeti(L, names, (lua_Integer)j + 1);
        cn[j] = lua_tostring(L, -1); /* kept alive by the names table */
        lua_pop(L, 1);
    }
    char *w[SV_COX_MAX_WARNINGS];
    int nw = sv_cox_warnings(r, p, cn, w);
    if (nw < 0) luaL_error(L, "surv.cox: out of memory");
    lua_createtable(L, nw, 0);
    for (int i = 0; i < nw; i++) {
        lua_pushstring(L, w[i]);
        lua_rawseti(L, -2, i + 1);
    }
    for (int i = 0; i < nw; i++) free(w[i]);
    lua_setfield(L, res, "warnings");
    lua_settop(L, res);
}

static int l_cox(lua_State *L)
{
    static const char *const allowed[] = {"ties", "strata", "conf_level", "max_iter", NULL};
    lua_settop(L, 4);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    svL_matrix *X = svL_checkmatrix(L, 3);
    if (X->nrow != n) {
        const char *m = lua_pushfstring(L, "X has %d rows, time has %d", (int)X->nrow, (int)n);
        luaL_argerror(L, 3, m);
    }
    if (X->ncol == 0) luaL_argerror(L, 3, "X has no columns");
    size_t p = X->ncol;
    for (size_t i = 0; i < n * p; i++)
        if (!isfinite(X->data[i])) {
            const char *m = lua_pushfstring(L, "X[%d, %d] is not finite", (int)(i % n) + 1,
                                            (int)(i / n) + 1);
            luaL_argerror(L, 3, m);
        }
    svL_checkopts(L, 4, "surv.cox", allowed);
    sv_ctx ctx;
    svL_ctx(L, &ctx, 1);
    sv_cox_opts o;
    sv_cox_opts_default(&o);
    o.ties = (sv_cox_ties)svL_opt_enum(L, 4, "surv.cox", "ties", 0, ties_names);
    o.conf_level = svL_opt_level(L, 4, "surv.cox", "conf_level", 0.95);
    o.max_iter = (int)svL_opt_int(L, 4, "surv.cox", "max_iter", SV_COX_MAX_ITER, 1, 1000);
    int *scodes;
    int ns = strata_codes(L, 4, "surv.cox", n, &scodes);

    double *buf = scratch(L, 7 * p + p * p + n, sizeof *buf);
    int *flags = scratch(L, 2 * p, sizeof *flags);
    sv_cox_result r;
    memset(&r, 0, sizeof r);
    r.coef = buf, r.se = buf + p, r.hr = buf + 2 * p, r.hr_lo = buf + 3 * p,
    r.hr_hi = buf + 4 * p, r.z = buf + 5 * p, r.p = buf + 6 * p, r.var = buf + 7 * p,
    r.lp = buf + 7 * p + p * p;
    r.aliased = flags, r.infinite = flags + p;
    sv_err err;
    if (sv_cox_fit(time, event, X->data, n, p, scodes, ns, &o, &ctx, &r, &err))
        return svL_engine_error(L, "surv.cox", &err);

    push_cox(L, &r, n, p, o.ties);
    return 1;
}

/* ---- concordance --------------------------------------------------- */

static const char *const timewt_names[] = {"n", "n/G2", NULL};

static int l_concordance(lua_State *L)
{
    static const char *const allowed[] = {"strata", "timewt", NULL};
    lua_settop(L, 4);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    size_t nr;
    const double *risk = svL_checkvector(L, 3, &nr);
    if (nr != n) {
        const char *m = lua_pushfstring(L, "risk has %d values, time has %d", (int)nr, (int)n);
        luaL_argerror(L, 3, m);
    }
    for (size_t i = 0; i < n; i++)
        if (isnan(risk[i])) {
            const char *m = lua_pushfstring(L, "risk[%d] is NaN", (int)i + 1);
            luaL_argerror(L, 3, m);
        }
    svL_checkopts(L, 4, "surv.concordance", allowed);
    int uno = svL_opt_enum(L, 4, "surv.concordance", "timewt", 0, timewt_names);
    int *scodes;
    int ns = strata_codes(L, 4, "surv.concordance", n, &scodes);
    if (uno && scodes)
        svL_opt_error(L, "surv.concordance", "timewt",
                      "timewt = \"n/G2\" is not available with strata");
    sv_concordance_result r;
    sv_err err;
    if (uno ? sv_concordance_uno(time, event, risk, n, &r, &err)
            : sv_concordance(time, event, risk, scodes, ns, n, &r, &err))
        return svL_engine_error(L, "surv.concordance", &err);
    lua_pushnumber(L, r.concordance);
    lua_createtable(L, 0, 8);
    svL_setnum(L, "concordance", r.concordance);
    svL_setnum(L, "se", sqrt(r.var));
    svL_setnum(L, "var", r.var);
    svL_setnum(L, "concordant", r.concordant);
    svL_setnum(L, "discordant", r.discordant);
    svL_setnum(L, "tied_risk", r.tied_risk);
    svL_setnum(L, "tied_time", r.tied_time);
    svL_setnum(L, "tied_both", r.tied_both);
    return 2;
}

/* ---- time-dependent performance ---------------------------------- */

/* A marker of n finite values at argument arg (named `what`). */
static const double *check_marker(lua_State *L, int arg, const char *what, size_t n)
{
    size_t nm;
    const double *x = svL_checkvector(L, arg, &nm);
    if (nm != n) {
        const char *m = lua_pushfstring(L, "%s has %d values, time has %d", what, (int)nm, (int)n);
        luaL_argerror(L, arg, m);
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            const char *m = isnan(x[i])
                                ? lua_pushfstring(L, "%s[%d] is NaN; markers must be finite", what,
                                                  (int)i + 1)
                                : lua_pushfstring(L, "%s[%d] is %f; markers must be finite", what,
                                                  (int)i + 1, x[i]);
            luaL_argerror(L, arg, m);
        }
    return x;
}

/* Evaluation times at arg: a number or a vector; finite, > 0, strictly
 * ascending, not after the last follow-up time. */
static const double *check_times(lua_State *L, int arg, const double *time, size_t n,
                                 size_t *m)
{
    if (lua_type(L, arg) == LUA_TNUMBER) {
        double v = lua_tonumber(L, arg);
        double *d = svL_newvector(L, 1);
        d[0] = v;
        lua_replace(L, arg);
    }
    const double *t = svL_checkvector(L, arg, m);
    if (*m == 0) luaL_argerror(L, arg, "times is empty");
    double last = 0;
    for (size_t i = 0; i < n; i++) last = time[i] > last ? time[i] : last;
    for (size_t k = 0; k < *m; k++) {
        if (!isfinite(t[k]) || !(t[k] > 0)) {
            const char *msg = lua_pushfstring(L, "times[%d] is %f; times must be finite and > 0",
                                              (int)k + 1, t[k]);
            luaL_argerror(L, arg, msg);
        }
        if (k > 0 && !(t[k] > t[k - 1])) {
            const char *msg = lua_pushfstring(L, "times must be strictly ascending (times[%d] = %f after %f)",
                                              (int)k + 1, t[k], t[k - 1]);
            luaL_argerror(L, arg, msg);
        }
        if (t[k] > last) {
            const char *msg = lua_pushfstring(L, "times[%d] = %f is after the last follow-up time %f",
                                              (int)k + 1, t[k], last);
            luaL_argerror(L, arg, msg);
        }
    }
    return t;
}

static int l_auc_t(lua_State *L)
{
    static const char *const allowed[] = {"level", "compare", NULL};
    lua_settop(L, 5);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    const double *marker = check_marker(L, 3, "marker", n);
    size_t m;
    const double *times = check_times(L, 4, time, n, &m);
    svL_checkopts(L, 5, "surv.auc_t", allowed);
    double level = svL_opt_level(L, 5, "surv.auc_t", "level", 0.95);
    const double *marker2 = NULL;
    if (svL_opt_get(L, 5, "compare") != LUA_TNIL) {
        int idx = lua_gettop(L);
        size_t n2;
        if (!svL_testvector(L, idx) && !lua_istable(L, idx))
            svL_opt_error(L, "surv.auc_t", "compare", "a second marker (Vector or array) expected");
        marker2 = svL_checkvector(L, idx, &n2);
        if (n2 != n) {
            const char *msg = lua_pushfstring(L, "has %d values, time has %d", (int)n2, (int)n);
            svL_opt_error(L, "surv.auc_t", "compare", msg);
        }
        for (size_t i = 0; i < n; i++)
            if (!isfinite(marker2[i])) {
                const char *msg = lua_pushfstring(L, "compare[%d] is %f; markers must be finite",
                                                  (int)i + 1, marker2[i]);
                svL_opt_error(L, "surv.auc_t", "compare", msg);
            }
    } else {
        lua_pop(L, 1);
    }
    double *buf = scratch(L, 15 * m, sizeof *buf);
    sv_auc_t_result r;
    double **f[] = {&r.auc, &r.se, &r.lo, &r.hi, &r.auc2, &r.se2, &r.lo2, &r.hi2, &r.diff,
                    &r.diff_se, &r.diff_lo, &r.diff_hi, &r.diff_p, &r.cases, &r.controls};
    for (int k = 0; k < 15; k++) *f[k] = buf + (size_t)k * m;
    sv_err err;
    if (sv_surv_auc_t(time, event, marker, marker2, n, times, m, level, &r, &err))
        return svL_engine_error(L, "surv.auc_t", &err);
    lua_createtable(L, 0, 9);
    set_vec(L, "time", times, m);
    set_vec(L, "auc", r.auc, m);
    set_vec(L, "se", r.se, m);
    set_vec(L, "lo", r.lo, m);
    set_vec(L, "hi", r.hi, m);
    set_vec(L, "cases", r.cases, m);
    set_vec(L, "controls", r.controls, m);
    svL_setnum(L, "level", level);
    if (marker2) {
        lua_createtable(L, 0, 9);
        set_vec(L, "auc", r.auc2, m);
        set_vec(L, "se", r.se2, m);
        set_vec(L, "lo", r.lo2, m);
        set_vec(L, "hi", r.hi2, m);
        set_vec(L, "diff", r.diff, m);
        set_vec(L, "diff_se", r.diff_se, m);
        set_vec(L, "diff_lo", r.diff_lo, m);
        set_vec(L, "diff_hi", r.diff_hi, m);
        set_vec(L, "p", r.diff_p, m);
        lua_setfield(L, -2, "compare");
    }
    return 1;
}

static int l_roc_t(lua_State *L)
{
    lua_settop(L, 4);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    const double *marker = check_marker(L, 3, "marker", n);
    size_t m;
    const double *t = check_times(L, 4, time, n, &m);
    if (m != 1) luaL_argerror(L, 4, "one horizon t expected");
    double *buf = scratch(L, 3 * (n ? n : 1), sizeof *buf);
    size_t k = 0;
    sv_err err;
    if (sv_surv_roc_t(time, event, marker, n, t[0], buf, buf + n, buf + 2 * n, &k, &err))
        return svL_engine_error(L, "surv.roc_t", &err);
    lua_createtable(L, 0, 4);
    svL_setnum(L, "t", t[0]);
    set_vec(L, "threshold", buf, k);
    set_vec(L, "tpr", buf + n, k);
    set_vec(L, "fpr", buf + 2 * n, k);
    return 1;
}

static int l_brier_t(lua_State *L)
{
    static const char *const allowed[] = {"level", NULL};
    lua_settop(L, 5);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    size_t m;
    const double *times = check_times(L, 4, time, n, &m);
    const double *S;
    int flat = svL_testvector(L, 3) != NULL;
    if (!flat && lua_istable(L, 3) && !svL_testmatrix(L, 3)) {
        flat = lua_geti(L, 3, 1) == LUA_TNUMBER;
        lua_pop(L, 1);
    }
    if (flat && m == 1) { /* one time: a vector of n values */
        size_t nv;
        S = svL_checkvector(L, 3, &nv);
        if (nv != n) {
            const char *msg = lua_pushfstring(L, "S has %d values, time has %d", (int)nv, (int)n);
            luaL_argerror(L, 3, msg);
        }
    } else {
        svL_matrix *X = svL_checkmatrix(L, 3);
        if (X->nrow != n || X->ncol != m) {
            const char *msg = lua_pushfstring(L, "S is %d x %d; expected %d x %d (subjects x times)",
                                              (int)X->nrow, (int)X->ncol, (int)n, (int)m);
            luaL_argerror(L, 3, msg);
        }
        S = X->data;
    }
    for (size_t k = 0; k < m; k++)
        for (size_t i = 0; i < n; i++) {
            double s = S[k * n + i];
            if (!(s >= 0 && s <= 1)) {
                const char *msg = lua_pushfstring(L, "S[%d, %d] is %s; predicted survival must be in [0, 1]",
                                                  (int)i + 1, (int)k + 1,
                                                  isnan(s) ? "NaN" : lua_pushfstring(L, "%f", s));
                luaL_argerror(L, 3, msg);
            }
        }
    svL_checkopts(L, 5, "surv.brier_t", allowed);
    double level = svL_opt_level(L, 5, "surv.brier_t", "level", 0.95);
    double *buf = scratch(L, 5 * m, sizeof *buf);
    sv_err err;
    if (sv_surv_brier_t(time, event, S, n, times, m, level, buf, buf + m, buf + 2 * m,
                        buf + 3 * m, buf + 4 * m, &err))
        return svL_engine_error(L, "surv.brier_t", &err);
    lua_createtable(L, 0, 7);
    set_vec(L, "time", times, m);
    set_vec(L, "brier", buf, m);
    set_vec(L, "se", buf + m, m);
    set_vec(L, "lo", buf + 2 * m, m);
    set_vec(L, "hi", buf + 3 * m, m);
    set_vec(L, "ibs", buf + 4 * m, m);
    svL_setnum(L, "level", level);
    return 1;
}

static int l_calibration_t(lua_State *L)
{
    static const char *const allowed[] = {"groups", "level", NULL};
    lua_settop(L, 5);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    size_t ns;
    const double *S = svL_checkvector(L, 3, &ns);
    if (ns != n) {
        const char *msg = lua_pushfstring(L, "S has %d values, time has %d", (int)ns, (int)n);
        luaL_argerror(L, 3, msg);
    }
    for (size_t i = 0; i < n; i++)
        if (!(S[i] > 0 && S[i] < 1)) {
            const char *msg = lua_pushfstring(L, "S[%d] is %s; predicted survival must be in (0, 1)",
                                              (int)i + 1,
                                              isnan(S[i]) ? "NaN" : lua_pushfstring(L, "%f", S[i]));
            luaL_argerror(L, 3, msg);
        }
    size_t m;
    const double *t = check_times(L, 4, time, n, &m);
    if (m != 1) luaL_argerror(L, 4, "one horizon t expected");
    svL_checkopts(L, 5, "surv.calibration_t", allowed);
    size_t groups = (size_t)svL_opt_int(L, 5, "surv.calibration_t", "groups", 10, 1, 1000);
    double level = svL_opt_level(L, 5, "surv.calibration_t", "level", 0.95);
    double *buf = scratch(L, 6 * groups, sizeof *buf);
    sv_calib_t_result r;
    r.n = buf, r.events = buf + groups, r.pred = buf + 2 * groups, r.obs = buf + 3 * groups,
    r.obs_lo = buf + 4 * groups, r.obs_hi = buf + 5 * groups;
    sv_err err;
    if (sv_surv_calibration_t(time, event, S, n, t[0], groups, level, &r, &err))
        return svL_engine_error(L, "surv.calibration_t", &err);
    size_t g = r.ngroups;
    lua_createtable(L, 0, 16);
    svL_setnum(L, "t", t[0]);
    set_vec(L, "n", r.n, g);
    set_vec(L, "events", r.events, g);
    set_vec(L, "pred", r.pred, g);
    set_vec(L, "obs", r.obs, g);
    set_vec(L, "obs_lo", r.obs_lo, g);
    set_vec(L, "obs_hi", r.obs_hi, g);
    svL_setnum(L, "observed", r.observed);
    svL_setnum(L, "expected", r.expected);
    svL_setnum(L, "oe", r.oe);
    svL_setnum(L, "oe_lo", r.oe_lo);
    svL_setnum(L, "oe_hi", r.oe_hi);
    svL_setnum(L, "slope", r.slope);
    svL_setnum(L, "slope_se", r.slope_se);
    svL_setnum(L, "slope_lo", r.slope_lo);
    svL_setnum(L, "slope_hi", r.slope_hi);
    svL_setnum(L, "level", level);
    return 1;
}

static int l_cutpoint(lua_State *L)
{
    static const char *const allowed[] = {"minprop", "maxprop", NULL};
    lua_settop(L, 4);
    const double *time, *event;
    size_t n = check_time_event(L, &time, &event);
    const double *marker = check_marker(L, 3, "marker", n);
    svL_checkopts(L, 4, "surv.cutpoint", allowed);
    double minprop = svL_opt_num(L, 4, "surv.cutpoint", "minprop", 0.1, 0, 0.5);
    double maxprop = svL_opt_num(L, 4, "surv.cutpoint", "maxprop", 1 - minprop, 0.5, 1);
    sv_cutpoint_result r;
    sv_err err;
    if (sv_surv_cutpoint(time, event, marker, n, minprop, maxprop, &r, &err))
        return svL_engine_error(L, "surv.cutpoint", &err);
    lua_createtable(L, 0, 8);
    svL_setnum(L, "cut", r.cut);
    svL_setnum(L, "statistic", r.statistic);
    svL_setnum(L, "p", r.p);
    lua_pushinteger(L, (lua_Integer)r.ncuts);
    lua_setfield(L, -2, "ncuts");
    lua_pushinteger(L, (lua_Integer)r.n_low);
    lua_setfield(L, -2, "n_low");
    lua_pushinteger(L, (lua_Integer)r.n_high);
    lua_setfield(L, -2, "n_high");
    svL_setnum(L, "minprop", minprop);
    svL_setnum(L, "maxprop", maxprop);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"km", l_km},
    {"at", l_at},
    {"risk_table", l_risk_table},
    {"rmst", l_rmst},
    {"logrank", l_logrank},
    {"pairwise", l_pairwise},
    {"cox", l_cox},
    {"concordance", l_concordance},
    {"auc_t", l_auc_t},
    {"roc_t", l_roc_t},
    {"brier_t", l_brier_t},
    {"calibration_t", l_calibration_t},
    {"cutpoint", l_cutpoint},
    {NULL, NULL}};

int luaopen_sylva_surv(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
