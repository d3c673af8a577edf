/*
 * ldescribe.c - d:describe(): one line per column of a Frame, as R's
 * summary() gives per column: n, missing, and mean (SD), median [Q1, Q3],
 * range for numbers (sv_summary, the engine's R-equal statistics); the
 * levels with their counts, most frequent first, for text. The result is a
 * Lua array of per-column tables whose __tostring prints every column (a
 * wide clinical table has a hundred; none is elided).
 */
#include "lsylva.h"
#include "../engine/sv_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_DESCRIBE_MT "sylva.Description"
#define NAME_WIDTH 32 /* names wider than this are cut with '~' in print */
#define SHOW_LEVELS 6

typedef struct level_count {
    const char *s;
    size_t len;
    size_t count;
} level_count;

static int cmp_level_text(const void *a, const void *b)
{
    const level_count *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int cmp_level_count(const void *a, const void *b)
{
    const level_count *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return cmp_level_text(a, b);
}

static void setnum_at(lua_State *L, int t, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, t, k);
}

/* Method call obj:name(...) with nargs arguments already pushed after obj. */
static void call_method(lua_State *L, int obj, const char *name, int nargs, int nres)
{
    lua_getfield(L, obj, name);
    lua_insert(L, -1 - nargs);
    lua_pushvalue(L, obj);
    lua_insert(L, -1 - nargs);
    lua_call(L, nargs + 1, nres);
}

/* Text column at idx (Lua array of strings, missing = not a string) of
 * nrow cells: sets n, missing and a `levels` array {{value=, count=}}. */
static void describe_text(lua_State *L, int col, size_t nrow, int entry)
{
    level_count *lv = lua_newuserdatauv(L, (nrow ? nrow : 1) * sizeof *lv, 0);
    size_t k = 0, missing = 0;
    for (size_t i = 0; i < nrow; i++) {
        lua_rawgeti(L, col, (lua_Integer)i + 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            lv[k].s = lua_tolstring(L, -1, &lv[k].len); /* anchored by the column */
            lv[k].count = 1;
            k++;
        } else {
            missing++;
        }
        lua_pop(L, 1);
    }
    qsort(lv, k, sizeof *lv, cmp_level_text);
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        if (u > 0 && cmp_level_text(&lv[u - 1], &lv[i]) == 0) {
            lv[u - 1].count++;
        } else {
            lv[u++] = lv[i];
        }
    }
    qsort(lv, u, sizeof *lv, cmp_level_count);
    setnum_at(L, entry, "n", (double)k);
    setnum_at(L, entry, "missing", (double)missing);
    lua_createtable(L, (int)u, 0);
    for (size_t i = 0; i < u; i++) {
        lua_createtable(L, 0, 2);
        lua_pushlstring(L, lv[i].s, lv[i].len);
        lua_setfield(L, -2, "value");
        svL_setnum(L, "count", (double)lv[i].count);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, entry, "levels");
    lua_pop(L, 1); /* the work array */
}

/* d:describe() -> array of {name=, type=, n=, missing=, ...} */
static int f_describe(lua_State *L)
{
    luaL_checkudata(L, 1, SV_FRAME_MT);
    call_method(L, 1, "nrow", 0, 1);
    size_t nrow = (size_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    call_method(L, 1, "names", 0, 1);
    int names = lua_gettop(L);
    size_t ncol = (size_t)lua_rawlen(L, names);
    lua_createtable(L, (int)ncol, 2);
    int out = lua_gettop(L);
    setnum_at(L, out, "nrow", (double)nrow);
    for (size_t j = 0; j < ncol; j++) {
        lua_createtable(L, 0, 12);
        int entry = lua_gettop(L);
        lua_rawgeti(L, names, (lua_Integer)j + 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, entry, "name");
        call_method(L, 1, "col", 1, 1);
        int col = lua_gettop(L);
        svL_vector *v = svL_testvector(L, col);
        if (v) {
            lua_pushliteral(L, "number");
            lua_setfield(L, entry, "type");
            sv_summary_result r;
            sv_err err;
            sv_err_clear(&err);
            if (sv_summary(v->data, v->n, &r, &err) != SV_OK) return svL_engine_error(L, "describe", &err);
            setnum_at(L, entry, "n", (double)r.n);
            setnum_at(L, entry, "missing", (double)r.n_missing);
            if (r.n > 0) {
                setnum_at(L, entry, "mean", r.mean);
                setnum_at(L, entry, "sd", r.sd);
                setnum_at(L, entry, "median", r.median);
                setnum_at(L, entry, "q1", r.q1);
                setnum_at(L, entry, "q3", r.q3);
                setnum_at(L, entry, "min", r.min);
                setnum_at(L, entry, "max", r.max);
            }
        } else {
            lua_pushliteral(L, "text");
            lua_setfield(L, entry, "type");
            describe_text(L, col, nrow, entry);
        }
        lua_pop(L, 1); /* column */
        lua_rawseti(L, out, (lua_Integer)j + 1);
    }
    luaL_setmetatable(L, SV_DESCRIBE_MT);
    return 1;
}

/* A growing C string: the printout is built off the Lua stack (a
 * luaL_Buffer would forbid the stack use in between). */
typedef struct strbuf {
    char *p;
    size_t n, cap;
} strbuf;

static void sb_addlstring(strbuf *b, const char *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + len + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return; /* out of memory: the printout is cut short */
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}
static void sb_addstring(strbuf *b, const char *s) { sb_addlstring(b, s, strlen(s)); }
static void sb_addchar(strbuf *b, char c) { sb_addlstring(b, &c, 1); }

static void add_num(strbuf *b, double x)
{
    char s[64];
    if (isnan(x)) snprintf(s, sizeof s, "NaN");
    else if (x == floor(x) && fabs(x) < 1e15) snprintf(s, sizeof s, "%.0f", x);
    else snprintf(s, sizeof s, "%.4g", x);
    sb_addstring(b, s);
}

static double getnum(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    double x = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : NAN;
    lua_pop(L, 1);
    return x;
}

/* print(d:describe()): every column, one line each. */
static int describe_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t ncol = (size_t)lua_rawlen(L, 1);
    int namew = 6;
    for (size_t j = 1; j <= ncol; j++) {
        lua_rawgeti(L, 1, (lua_Integer)j);
        lua_getfield(L, -1, "name");
        int w = (int)lua_rawlen(L, -1);
        if (w > namew) namew = w;
        lua_pop(L, 2);
    }
    if (namew > NAME_WIDTH) namew = NAME_WIDTH;
    strbuf b = {0};
    char line[256];
    snprintf(line, sizeof line, "%zu column%s, %.0f rows\n%4s  %-*s %-6s %6s %7s  %s", ncol,
             ncol == 1 ? "" : "s", getnum(L, 1, "nrow"), "#", namew, "column", "type", "n",
             "missing", "summary");
    sb_addstring(&b, line);
    for (size_t j = 1; j <= ncol; j++) {
        lua_rawgeti(L, 1, (lua_Integer)j);
        int e = lua_gettop(L);
        lua_getfield(L, e, "name");
        size_t nl;
        const char *nm = lua_tolstring(L, -1, &nl);
        char name[NAME_WIDTH + 1];
        if (!nm) nm = "?", nl = 1;
        if ((int)nl > namew) {
            memcpy(name, nm, (size_t)namew - 1);
            name[namew - 1] = '~';
            name[namew] = '\0';
        } else {
            memcpy(name, nm, nl);
            name[nl] = '\0';
        }
        lua_pop(L, 1);
        lua_getfield(L, e, "type");
        const char *type = lua_tostring(L, -1);
        snprintf(line, sizeof line, "\n%4zu  %-*s %-6s %6.0f %7.0f  ", j, namew, name,
                 type ? type : "?", getnum(L, e, "n"), getnum(L, e, "missing"));
        int is_num = type && strcmp(type, "number") == 0;
        lua_pop(L, 1);
        sb_addstring(&b, line);
        if (is_num) {
            if (getnum(L, e, "n") > 0) {
                sb_addstring(&b, "mean ");
                add_num(&b, getnum(L, e, "mean"));
                sb_addstring(&b, " (SD ");
                add_num(&b, getnum(L, e, "sd"));
                sb_addstring(&b, "); median ");
                add_num(&b, getnum(L, e, "median"));
                sb_addstring(&b, " [");
                add_num(&b, getnum(L, e, "q1"));
                sb_addstring(&b, ", ");
                add_num(&b, getnum(L, e, "q3"));
                sb_addstring(&b, "]; range ");
                add_num(&b, getnum(L, e, "min"));
                sb_addstring(&b, " to ");
                add_num(&b, getnum(L, e, "max"));
            } else {
                sb_addstring(&b, "all missing");
            }
        } else {
            lua_getfield(L, e, "levels");
            int lv = lua_gettop(L);
            size_t nlev = lua_istable(L, lv) ? (size_t)lua_rawlen(L, lv) : 0;
            if (nlev == 0) sb_addstring(&b, "all missing");
            for (size_t k = 1; k <= nlev && k <= SHOW_LEVELS; k++) {
                lua_rawgeti(L, lv, (lua_Integer)k);
                lua_getfield(L, -1, "value");
                size_t vl;
                const char *val = lua_tolstring(L, -1, &vl);
                if (k > 1) sb_addstring(&b, ", ");
                sb_addchar(&b, '"');
                sb_addlstring(&b, val ? val : "", vl > 24 ? 24 : vl);
                if (vl > 24) sb_addchar(&b, '~');
                sb_addstring(&b, "\" ");
                lua_pop(L, 1);
                add_num(&b, getnum(L, -1, "count"));
                lua_pop(L, 1);
            }
            if (nlev > SHOW_LEVELS) {
                snprintf(line, sizeof line, " ... (%zu levels)", nlev);
                sb_addstring(&b, line);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushlstring(L, b.p ? b.p : "", b.n);
    free(b.p);
    return 1;
}

/* Adds describe to the Frame's methods (after svL_open_csv). */
int svL_open_describe(lua_State *L)
{
    luaL_newmetatable(L, SV_DESCRIBE_MT);
    lua_pushcfunction(L, describe_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_getmetatable(L, SV_FRAME_MT);
    lua_getfield(L, -1, "__index");
    lua_pushcfunction(L, f_describe);
    lua_setfield(L, -2, "describe");
    lua_pop(L, 2);
    return 0;
}
