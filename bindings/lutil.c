/*
 * lutil.c - argument checking, options, engine context and errors shared
 * by all binding files (see lsylva.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "lsylva.h"
#include "../engine/sv_forest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile int svL_interrupt_flag = 0;
int svL_worker_threads = 0;

double *svL_newvector(lua_State *L, size_t n)
{
    if (n > (((size_t)-1) - sizeof(svL_vector)) / sizeof(double))
        luaL_error(L, "vector of %zu elements is too large", n);
    svL_vector *v = lua_newuserdatauv(L, sizeof(svL_vector) + n * sizeof(double), 0);
    v->n = n;
    luaL_setmetatable(L, SV_VECTOR_MT);
    return v->data;
}

svL_matrix *svL_newmatrix(lua_State *L, size_t nrow, size_t ncol)
{
    size_t cap = (((size_t)-1) - sizeof(svL_matrix)) / sizeof(double);
    if (ncol != 0 && nrow > cap / ncol)
        luaL_error(L, "matrix of %zu x %zu is too large", nrow, ncol);
    svL_matrix *m = lua_newuserdatauv(L, sizeof(svL_matrix) + nrow * ncol * sizeof(double), 1);
    m->nrow = nrow;
    m->ncol = ncol;
    luaL_setmetatable(L, SV_MATRIX_MT);
    return m;
}

svL_vector *svL_testvector(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, SV_VECTOR_MT);
}

svL_matrix *svL_testmatrix(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, SV_MATRIX_MT);
}

static int bad_element(lua_State *L, int arg, size_t i, const char *what)
{
    const char *msg = lua_pushfstring(L, "element %d is %s, number expected",
                                      (int)i, what);
    return luaL_argerror(L, arg, msg);
}

const double *svL_checkvector(lua_State *L, int arg, size_t *n)
{
    arg = lua_absindex(L, arg);
    svL_vector *v = svL_testvector(L, arg);
    if (v) {
        *n = v->n;
        return v->data;
    }
    if (!lua_istable(L, arg))
        luaL_typeerror(L, arg, "Vector or array of numbers");
    size_t len = (size_t)luaL_len(L, arg);
    double *d = svL_newvector(L, len);
    for (size_t i = 0; i < len; i++) {
        int t = lua_geti(L, arg, (lua_Integer)i + 1);
        if (t != LUA_TNUMBER) bad_element(L, arg, i + 1, luaL_typename(L, -1));
        d[i] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    lua_replace(L, arg);
    *n = len;
    return d;
}

const double *svL_optvector(lua_State *L, int arg, size_t *n)
{
    if (lua_isnoneornil(L, arg)) {
        *n = 0;
        return NULL;
    }
    return svL_checkvector(L, arg, n);
}

svL_matrix *svL_checkmatrix(lua_State *L, int arg)
{
    arg = lua_absindex(L, arg);
    svL_matrix *m = svL_testmatrix(L, arg);
    if (m) return m;
    if (!lua_istable(L, arg))
        luaL_typeerror(L, arg, "Matrix or array of rows");
    size_t nrow = (size_t)luaL_len(L, arg);
    size_t ncol = 0;
    if (nrow > 0) {
        if (lua_geti(L, arg, 1) != LUA_TTABLE)
            luaL_argerror(L, arg, "row 1 is not an array of numbers");
        ncol = (size_t)luaL_len(L, -1);
        lua_pop(L, 1);
    }
    m = svL_newmatrix(L, nrow, ncol);
    for (size_t i = 0; i < nrow; i++) {
        if (lua_geti(L, arg, (lua_Integer)i + 1) != LUA_TTABLE) {
            const char *msg = lua_pushfstring(L, "row %d is not an array of numbers", (int)i + 1);
            luaL_argerror(L, arg, msg);
        }
        if ((size_t)luaL_len(L, -1) != ncol) {
            const char *msg = lua_pushfstring(L, "row %d has %d values, row 1 has %d",
                                              (int)i + 1, (int)luaL_len(L, -1), (int)ncol);
            luaL_argerror(L, arg, msg);
        }
        for (size_t j = 0; j < ncol; j++) {
            if (lua_geti(L, -1, (lua_Integer)j + 1) != LUA_TNUMBER) {
                const char *msg = lua_pushfstring(L, "row %d, column %d is %s, number expected",
                                                  (int)i + 1, (int)j + 1, luaL_typename(L, -1));
                luaL_argerror(L, arg, msg);
            }
            m->data[j * nrow + i] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_replace(L, arg);
    return m;
}

void svL_matrix_pushnames(lua_State *L, int idx)
{
    lua_getiuservalue(L, idx, 1);
}

void svL_matrix_setnames(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_setiuservalue(L, idx, 1);
}

/* ---- options ------------------------------------------------------- */

void svL_checkopts(lua_State *L, int arg, const char *fname,
                   const char *const allowed[])
{
    if (lua_isnoneornil(L, arg)) return;
    if (!lua_istable(L, arg)) luaL_typeerror(L, arg, "options table");
    arg = lua_absindex(L, arg);
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "bad options to %s (option names must be strings, got %s)",
                       fname, luaL_typename(L, -1));
        const char *k = lua_tostring(L, -1);
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (strcmp(allowed[i], k) == 0) ok = 1;
        if (!ok) luaL_error(L, "unknown option '%s' to %s", k, fname);
    }
}

int svL_opt_get(lua_State *L, int arg, const char *key)
{
    if (lua_isnoneornil(L, arg) || !lua_istable(L, arg)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    return lua_getfield(L, arg, key);
}

int svL_opt_error(lua_State *L, const char *fname, const char *key,
                  const char *msg)
{
    return luaL_error(L, "bad option '%s' to %s (%s)", key, fname, msg);
}

lua_Integer svL_opt_int(lua_State *L, int arg, const char *fname,
                        const char *key, lua_Integer def, lua_Integer lo,
                        lua_Integer hi)
{
    int t = svL_opt_get(L, arg, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (t != LUA_TNUMBER || !isint) {
        const char *msg = lua_pushfstring(L, "integer expected, got %s",
                                          t == LUA_TNUMBER ? "non-integer number" : lua_typename(L, t));
        svL_opt_error(L, fname, key, msg);
    }
    if (v < lo || v > hi) {
        const char *msg = lua_pushfstring(L, "%I is out of range [%I, %I]", v, lo, hi);
        svL_opt_error(L, fname, key, msg);
    }
    lua_pop(L, 1);
    return v;
}

double svL_opt_num(lua_State *L, int arg, const char *fname, const char *key,
                   double def, double lo, double hi)
{
    int t = svL_opt_get(L, arg, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (t != LUA_TNUMBER) {
        const char *msg = lua_pushfstring(L, "number expected, got %s", lua_typename(L, t));
        svL_opt_error(L, fname, key, msg);
    }
    double v = lua_tonumber(L, -1);
    if (isnan(v)) svL_opt_error(L, fname, key, "NaN is not a valid value");
    if (!(v >= lo && v <= hi)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%.14g is out of range [%.14g, %.14g]", v, lo, hi);
        svL_opt_error(L, fname, key, msg);
    }
    lua_pop(L, 1);
    return v;
}

double svL_opt_level(lua_State *L, int arg, const char *fname, const char *key,
                     double def)
{
    double v = svL_opt_num(L, arg, fname, key, def, -HUGE_VAL, HUGE_VAL);
    if (!(v > 0 && v < 1)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%.14g is out of range: must be in (0, 1)", v);
        svL_opt_error(L, fname, key, msg);
    }
    return v;
}

double svL_opt_pos(lua_State *L, int arg, const char *fname, const char *key,
                   double def, double hi)
{
    double v = svL_opt_num(L, arg, fname, key, def, -HUGE_VAL, HUGE_VAL);
    if (!(v > 0 && v <= hi)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%.14g is out of range (0, %.14g]", v, hi);
        svL_opt_error(L, fname, key, msg);
    }
    return v;
}

int svL_opt_bool(lua_State *L, int arg, const char *fname, const char *key,
                 int def)
{
    int t = svL_opt_get(L, arg, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (t != LUA_TBOOLEAN) {
        const char *msg = lua_pushfstring(L, "boolean expected, got %s", lua_typename(L, t));
        svL_opt_error(L, fname, key, msg);
    }
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

int svL_opt_enum(lua_State *L, int arg, const char *fname, const char *key,
                 int def, const char *const list[])
{
    int t = svL_opt_get(L, arg, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        for (int i = 0; list[i]; i++) {
            if (strcmp(list[i], s) == 0) {
                lua_pop(L, 1);
                return i;
            }
        }
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "expected one of ");
    for (int i = 0; list[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addchar(&b, '"');
        luaL_addstring(&b, list[i]);
        luaL_addchar(&b, '"');
    }
    luaL_pushresult(&b);
    return svL_opt_error(L, fname, key, lua_tostring(L, -1));
}

uint64_t svL_opt_seed(lua_State *L, int arg, const char *fname)
{
    lua_Integer s = svL_opt_int(L, arg, fname, "seed", 1, LUA_MININTEGER, LUA_MAXINTEGER);
    return (uint64_t)s;
}

/* ---- engine context: progress bar and interrupt ---------------------- */

/* Registry key of the progress switch (set by sv.progress). */
static const char progress_key = 'p';

typedef struct bar_state {
    double start;
    double delay; /* seconds of work before the bar appears */
    int drawn;
} bar_state;

static void draw_bar(void *ud, const char *what, size_t done, size_t total)
{
    bar_state *bs = ud;
    if (total == 0) return;
    double now = sv_clock();
    /* Quiet for short runs: nothing is drawn (not even the final 100%)
     * unless the work has run for bs->delay seconds (0.5 by default). */
    if (!bs->drawn && now - bs->start < bs->delay) return;
    int width = 30;
    int fill = (int)((double)width * (double)done / (double)total);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : ' ';
    bar[width] = '\0';
    fprintf(stderr, "\r%-20.20s [%s] %3d%%", what, bar,
            (int)(100.0 * (double)done / (double)total));
    if (done >= total) fprintf(stderr, "\r%*s\r", 20 + width + 8, "");
    fflush(stderr);
    bs->drawn = 1;
}

static int progress_enabled(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &progress_key);
    int on = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!on) return 0;
    const char *ci = getenv("CI");
    if (ci && *ci) return 0;
    return isatty(2);
}

void svL_ctx(lua_State *L, sv_ctx *ctx, int threads)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->threads = svL_worker_threads > 0 ? svL_worker_threads : threads;
    ctx->cancel = &svL_interrupt_flag;
    if (svL_worker_threads <= 0 && progress_enabled(L)) {
        bar_state *bs = lua_newuserdatauv(L, sizeof *bs, 0);
        bs->start = sv_clock();
        bs->drawn = 0;
        /* SYLVA_PROGRESS_DELAY (seconds, >= 0) overrides the half second;
         * tests use it so that they do not depend on the machine's speed. */
        bs->delay = 0.5;
        const char *d = getenv("SYLVA_PROGRESS_DELAY");
        if (d && *d) {
            char *end;
            double v = strtod(d, &end);
            if (*end == '\0' && v >= 0.0) bs->delay = v;
        }
        /* Kept alive in the registry until the next call replaces it. */
        lua_rawsetp(L, LUA_REGISTRYINDEX, &draw_bar);
        ctx->progress = draw_bar;
        ctx->progress_ud = bs;
    }
}

int svL_progress_set(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    lua_pushvalue(L, 1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &progress_key);
    return 0;
}

int svL_engine_error(lua_State *L, const char *fname, const sv_err *e)
{
    if (e->status == SV_EINTR) {
        svL_interrupt_flag = 0;
        return luaL_error(L, "%s: interrupted", fname);
    }
    return luaL_error(L, "%s: %s", fname, e->msg[0] ? e->msg : sv_status_name(e->status));
}

void svL_register_submodule(lua_State *L, int sv_idx, const char *name)
{
    sv_idx = lua_absindex(L, sv_idx);
    lua_pushvalue(L, -1);
    lua_setfield(L, sv_idx, name);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushfstring(L, "sylva.%s", name);
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    lua_pop(L, 2);
}

const double *svL_check01(lua_State *L, int arg, size_t *n)
{
    const double *y = svL_checkvector(L, arg, n);
    for (size_t i = 0; i < *n; i++) {
        if (y[i] != 0.0 && y[i] != 1.0) {
            const char *msg = lua_pushfstring(L, "element %d is %f, expected 0 or 1", (int)i + 1, y[i]);
            luaL_argerror(L, arg, msg);
        }
    }
    return y;
}

const double *svL_checklen(lua_State *L, int arg, size_t n)
{
    size_t len;
    const double *x = svL_checkvector(L, arg, &len);
    if (len != n) {
        const char *msg = lua_pushfstring(L, "has %d values, y has %d", (int)len, (int)n);
        luaL_argerror(L, arg, msg);
    }
    return x;
}

void svL_setnum(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

/* ---- Forest arguments ------------------------------------------------------- */

svL_forest *svL_checkforest(lua_State *L, int arg)
{
    svL_forest *u = luaL_checkudata(L, arg, SV_FOREST_MT);
    if (!u->f) luaL_argerror(L, arg, "forest is closed");
    return u;
}

void svL_checkfinite(lua_State *L, int arg, const svL_matrix *m)
{
    for (size_t j = 0; j < m->ncol; j++)
        for (size_t i = 0; i < m->nrow; i++) {
            double v = m->data[j * m->nrow + i];
            if (!isfinite(v)) {
                /* name the column when the Matrix has column names */
                const char *name = NULL;
                if (svL_testmatrix(L, arg) == m) {
                    svL_matrix_pushnames(L, arg);
                    if (lua_type(L, -1) == LUA_TTABLE &&
                        lua_geti(L, -1, (lua_Integer)j + 1) == LUA_TSTRING)
                        name = lua_tostring(L, -1); /* stays on the stack */
                }
                const char *msg =
                    name ? lua_pushfstring(L, "%s at row %d, column %d (%s)",
                                           isnan(v) ? "NaN" : "infinite value", (int)i + 1,
                                           (int)j + 1, name)
                         : lua_pushfstring(L, "%s at row %d, column %d",
                                           isnan(v) ? "NaN" : "infinite value", (int)i + 1,
                                           (int)j + 1);
                luaL_argerror(L, arg, msg);
            }
        }
}

svL_matrix *svL_checkforestX(lua_State *L, int arg, const struct sv_forest *f)
{
    svL_matrix *X = svL_checkmatrix(L, arg);
    if (X->ncol != (size_t)f->n_features && X->nrow > 0) {
        const char *msg = lua_pushfstring(L, "X has %d columns, the forest was trained on %d",
                                          (int)X->ncol, (int)f->n_features);
        luaL_argerror(L, arg, msg);
    }
    svL_checkfinite(L, arg, X);
    return X;
}

/* ---- labels ------------------------------------------------------------------ */

/* Compares two group labels (numbers before strings; numbers ascending,
 * strings byte-wise). Both are on the stack at a and b. */
static int label_less(lua_State *L, int a, int b)
{
    int ta = lua_type(L, a), tb = lua_type(L, b);
    if (ta != tb) return ta == LUA_TNUMBER;
    if (ta == LUA_TNUMBER) return lua_compare(L, a, b, LUA_OPLT);
    size_t la, lb;
    const char *sa = lua_tolstring(L, a, &la), *sb = lua_tolstring(L, b, &lb);
    int c = memcmp(sa, sb, la < lb ? la : lb);
    return c < 0 || (c == 0 && la < lb);
}

/*
 * Class or group labels at stack index arg (a Lua array of numbers or strings, or a
 * Vector), n of them. Fills codes[n] with 0..k-1 in sorted label order and
 * pushes the array of sorted labels; returns k. NaN labels and mixed
 * types are errors.
 */
int svL_label_codes(lua_State *L, int arg, const char *what, const char *against, size_t n,
                    int *codes)
{
    arg = lua_absindex(L, arg);
    svL_vector *v = svL_testvector(L, arg);
    if (!v && !lua_istable(L, arg))
        luaL_typeerror(L, arg, "array of group labels (numbers or strings)");
    size_t len = v ? v->n : (size_t)luaL_len(L, arg);
    if (len != n) {
        const char *m = lua_pushfstring(L, "%s has %d values, %s has %d", what,
                                        (int)len, against, (int)n);
        luaL_argerror(L, arg, m);
    }
    /* label -> first index, collected in a table; distinct labels in an array */
    lua_newtable(L);               /* map: label -> code (provisional) */
    int map = lua_gettop(L);
    lua_newtable(L);               /* distinct labels */
    int labels = lua_gettop(L);
    int k = 0, kind = 0;
    for (size_t i = 0; i < n; i++) {
        int t;
        if (v) {
            lua_pushnumber(L, v->data[i]);
            t = LUA_TNUMBER;
        } else {
            t = lua_geti(L, arg, (lua_Integer)i + 1);
        }
        if (t != LUA_TNUMBER && t != LUA_TSTRING) {
            const char *m = lua_pushfstring(L, "%s[%d] is %s; labels must be numbers or strings",
                                            what, (int)i + 1, lua_typename(L, t));
            luaL_argerror(L, arg, m);
        }
        if (t == LUA_TNUMBER && lua_tonumber(L, -1) != lua_tonumber(L, -1)) {
            const char *m = lua_pushfstring(L, "%s[%d] is NaN", what, (int)i + 1);
            luaL_argerror(L, arg, m);
        }
        if (kind && kind != t) {
            const char *m = lua_pushfstring(L, "%s mixes numbers and strings (element %d)",
                                            what, (int)i + 1);
            luaL_argerror(L, arg, m);
        }
        kind = t;
        /* normalise integral floats so that 1 and 1.0 are one label */
        if (t == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            double d = lua_tonumber(L, -1);
            if (d == floor(d) && fabs(d) < 9.0e15) {
                lua_pop(L, 1);
                lua_pushinteger(L, (lua_Integer)d);
            }
        }
        lua_pushvalue(L, -1);
        if (lua_rawget(L, map) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushinteger(L, k);
            lua_rawset(L, map);
            lua_rawseti(L, labels, ++k);
            codes[i] = k - 1;
        } else {
            codes[i] = (int)lua_tointeger(L, -1);
            lua_pop(L, 2);
        }
    }
    /* sort the distinct labels (insertion sort on the stack) */
    int *rank = lua_newuserdatauv(L, (size_t)(k ? k : 1) * sizeof *rank, 0);
    int *order = lua_newuserdatauv(L, (size_t)(k ? k : 1) * sizeof *order, 0);
    for (int a = 0; a < k; a++) {
        int j = a;
        order[j] = a;
        while (j > 0) {
            lua_rawgeti(L, labels, order[j - 1] + 1);
            lua_rawgeti(L, labels, a + 1);
            int less = label_less(L, -1, -2);
            lua_pop(L, 2);
            if (!less) break;
            order[j] = order[j - 1];
            order[j - 1] = a;
            j--;
        }
    }
    for (int r = 0; r < k; r++) rank[order[r]] = r;
    for (size_t i = 0; i < n; i++) codes[i] = rank[codes[i]];
    lua_newtable(L);
    for (int r = 0; r < k; r++) {
        lua_rawgeti(L, labels, order[r] + 1);
        lua_rawseti(L, -2, r + 1);
    }
    /* leave only the sorted labels: remove map, labels, rank, order */
    lua_replace(L, map);
    lua_settop(L, map);
    return k;
}

/* ---- several classes ------------------------------------------------------- */

/* The label of y[i] (on top of the stack) as a column name: integral
 * numbers as integers, other numbers with 17 digits, strings as they are.
 * Replaces the value with the string. */
static const char *label_name(lua_State *L, int i)
{
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING) return lua_tostring(L, -1);
    if (t != LUA_TNUMBER) {
        const char *m = lua_pushfstring(L, "y[%d] is %s; class labels must be numbers or strings",
                                        i + 1, luaL_typename(L, -1));
        luaL_argerror(L, 1, m);
    }
    double d = lua_tonumber(L, -1);
    if (d != d) {
        const char *m = lua_pushfstring(L, "y[%d] is NaN (a missing class)", i + 1);
        luaL_argerror(L, 1, m);
    }
    char buf[64];
    if (d == floor(d) && fabs(d) < 9.0e15)
        snprintf(buf, sizeof buf, "%.0f", d);
    else
        snprintf(buf, sizeof buf, "%.17g", d);
    lua_pop(L, 1);
    return lua_pushstring(L, buf);
}

svL_matrix *svL_checkclasses(lua_State *L, const char *fname, int **codes, int *K)
{
    (void)fname;
    svL_matrix *P = svL_checkmatrix(L, 2);
    size_t n = P->nrow;
    if (P->ncol < 2) {
        const char *m = lua_pushfstring(L, "P has %d columns; one per class, at least 2, expected",
                                        (int)P->ncol);
        luaL_argerror(L, 2, m);
    }
    if (n == 0) luaL_argerror(L, 2, "P has no rows");
    if (P->ncol > 100000) luaL_argerror(L, 2, "P has too many columns");
    svL_checkfinite(L, 2, P);
    int *c = lua_newuserdatauv(L, n * sizeof *c, 0);
    int cidx = lua_gettop(L);
    svL_matrix_pushnames(L, 2);
    if (lua_istable(L, -1) && (size_t)luaL_len(L, -1) == P->ncol) {
        int names = lua_gettop(L);
        lua_newtable(L); /* name -> code */
        int map = names + 1;
        for (size_t k = 0; k < P->ncol; k++) {
            if (lua_geti(L, names, (lua_Integer)k + 1) != LUA_TSTRING)
                luaL_argerror(L, 2, "P's column names must be strings (the class labels)");
            lua_pushvalue(L, -1);
            if (lua_rawget(L, map) != LUA_TNIL) {
                const char *m = lua_pushfstring(L, "column name '%s' appears twice",
                                                lua_tostring(L, -2));
                luaL_argerror(L, 2, m);
            }
            lua_pop(L, 1);
            lua_pushinteger(L, (lua_Integer)k);
            lua_rawset(L, map);
        }
        svL_vector *v = svL_testvector(L, 1);
        if (!v && !lua_istable(L, 1)) luaL_typeerror(L, 1, "array of class labels");
        size_t len = v ? v->n : (size_t)luaL_len(L, 1);
        if (len != n) {
            const char *m = lua_pushfstring(L, "y has %d values, P has %d rows", (int)len, (int)n);
            luaL_argerror(L, 1, m);
        }
        for (size_t i = 0; i < n; i++) {
            if (v)
                lua_pushnumber(L, v->data[i]);
            else
                lua_geti(L, 1, (lua_Integer)i + 1);
            const char *name = label_name(L, (int)i);
            if (lua_rawget(L, map) == LUA_TNIL) {
                const char *m = lua_pushfstring(L, "y[%d] is '%s', which is not a column name of P",
                                                (int)i + 1, name);
                luaL_argerror(L, 1, m);
            }
            c[i] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1); /* map: the names stay on top */
    } else {
        lua_pop(L, 1);
        int k = svL_label_codes(L, 1, "y", "P rows", n, c);
        if ((size_t)k != P->ncol) {
            const char *m = lua_pushfstring(L, "P has %d columns but y has %d classes: name P's "
                                               "columns by the class labels",
                                            (int)P->ncol, k);
            luaL_argerror(L, 2, m);
        }
    }
    (void)cidx;
    *codes = c;
    *K = (int)P->ncol;
    return P;
}
