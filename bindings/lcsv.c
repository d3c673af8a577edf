/*
 * lcsv.c - sv.read_csv, sv.parse_csv, sv.frame and the Frame type.
 *
 * A Frame is an immutable list of equal-length named columns. A numeric
 * column is a Vector; a text column is a Lua array of strings with false
 * for missing cells. The Frame userdata holds four user values: the
 * names (array), the columns (array), an index name -> position, and the
 * origin of its rows ({file = path or nil, lines = Vector of the physical
 * CSV line of each row}, or nil for frames not read from CSV text).
 * Columns are never modified once in a frame, so frames made from frames
 * (rows, select, add) share them; d:col() hands out a copy.
 */
#include "lsylva.h"
#include "../engine/sv_xlsx.h"
#include "../engine/sv_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_CSVTABLE_MT "sylva.CsvTable" /* engine table, freed by __gc */

enum { UV_NAMES = 1, UV_COLS = 2, UV_INDEX = 3, UV_ORIGIN = 4 };

typedef struct svL_frame {
    size_t nrow, ncol;
} svL_frame;

static svL_frame *checkframe(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, SV_FRAME_MT);
}

/* ---- building frames ------------------------------------------------ */

/* Pushes a new Frame from the names array at names_idx and the columns
 * array at cols_idx (both taken over, not copied), with the origin table at
 * origin_idx (0: none). */
static svL_frame *push_frame_origin(lua_State *L, int names_idx, int cols_idx,
                                    int origin_idx, size_t nrow, size_t ncol)
{
    names_idx = lua_absindex(L, names_idx);
    cols_idx = lua_absindex(L, cols_idx);
    if (origin_idx) origin_idx = lua_absindex(L, origin_idx);
    svL_frame *d = lua_newuserdatauv(L, sizeof *d, 4);
    if (origin_idx) {
        lua_pushvalue(L, origin_idx);
        lua_setiuservalue(L, -2, UV_ORIGIN);
    }
    d->nrow = nrow;
    d->ncol = ncol;
    luaL_setmetatable(L, SV_FRAME_MT);
    lua_pushvalue(L, names_idx);
    lua_setiuservalue(L, -2, UV_NAMES);
    lua_pushvalue(L, cols_idx);
    lua_setiuservalue(L, -2, UV_COLS);
    lua_createtable(L, 0, (int)ncol);
    for (size_t j = 0; j < ncol; j++) {
        lua_geti(L, names_idx, (lua_Integer)j + 1);
        lua_pushinteger(L, (lua_Integer)j + 1);
        lua_rawset(L, -3);
    }
    lua_setiuservalue(L, -2, UV_INDEX);
    return d;
}

static svL_frame *push_frame(lua_State *L, int names_idx, int cols_idx,
                             size_t nrow, size_t ncol)
{
    return push_frame_origin(L, names_idx, cols_idx, 0, nrow, ncol);
}

/* Column position (0-based) of the name or 1-based number at arg, or
 * raises naming the argument. */
static size_t checkcolumn(lua_State *L, int fidx, int arg)
{
    svL_frame *d = checkframe(L, fidx);
    if (lua_type(L, arg) == LUA_TSTRING) {
        lua_getiuservalue(L, fidx, UV_INDEX);
        lua_pushvalue(L, arg);
        lua_rawget(L, -2);
        lua_Integer j = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        lua_pop(L, 2);
        if (j < 1) {
            const char *msg = lua_pushfstring(L, "no column named '%s'", lua_tostring(L, arg));
            luaL_argerror(L, arg, msg);
        }
        return (size_t)j - 1;
    }
    if (lua_isinteger(L, arg)) {
        lua_Integer j = lua_tointeger(L, arg);
        if (j < 1 || (size_t)j > d->ncol) {
            const char *msg = lua_pushfstring(L, "column %I out of range [1, %d]", j, (int)d->ncol);
            luaL_argerror(L, arg, msg);
        }
        return (size_t)j - 1;
    }
    return (size_t)luaL_typeerror(L, arg, "column name or number");
}

/* Pushes the stored column j (not a copy). */
static int pushcolumn(lua_State *L, int fidx, size_t j)
{
    lua_getiuservalue(L, fidx, UV_COLS);
    int t = lua_geti(L, -1, (lua_Integer)j + 1);
    lua_remove(L, -2);
    return t;
}

static void pushname(lua_State *L, int fidx, size_t j)
{
    lua_getiuservalue(L, fidx, UV_NAMES);
    lua_geti(L, -1, (lua_Integer)j + 1);
    lua_remove(L, -2);
}

/* Copies the text column (Lua array) at idx of n cells and pushes it. */
static void copy_text(lua_State *L, int idx, size_t n)
{
    idx = lua_absindex(L, idx);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i);
        lua_rawseti(L, -2, (lua_Integer)i);
    }
}

/*
 * Converts a user-supplied column (argument arg, for messages; the value
 * at idx) into a stored column and pushes it: a Vector is copied; a Lua
 * array of numbers (false = missing) becomes a Vector; a Lua array of
 * strings (false = missing) becomes a text column. Sets *n to its length.
 */
static void push_user_column(lua_State *L, int idx, int arg, const char *cname,
                             size_t *n)
{
    idx = lua_absindex(L, idx);
    svL_vector *v = svL_testvector(L, idx);
    if (v) {
        double *d = svL_newvector(L, v->n);
        if (v->n) memcpy(d, v->data, v->n * sizeof *d);
        *n = v->n;
        return;
    }
    if (!lua_istable(L, idx)) {
        const char *msg = lua_pushfstring(L, "column '%s' is a %s, expected a Vector or an array",
                                          cname, luaL_typename(L, idx));
        luaL_argerror(L, arg, msg);
    }
    size_t len = (size_t)lua_rawlen(L, idx);
    int kind = LUA_TNIL; /* LUA_TNUMBER or LUA_TSTRING once seen */
    size_t first = 0;
    for (size_t i = 1; i <= len; i++) {
        int t = lua_rawgeti(L, idx, (lua_Integer)i);
        lua_pop(L, 1);
        if (t == LUA_TBOOLEAN) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            int b = lua_toboolean(L, -1);
            lua_pop(L, 1);
            if (!b) continue;
        }
        if (t != LUA_TNUMBER && t != LUA_TSTRING) {
            const char *msg = lua_pushfstring(L, "column '%s': element %d is %s (numbers or strings expected, false for missing)",
                                              cname, (int)i, lua_typename(L, t));
            luaL_argerror(L, arg, msg);
        }
        if (kind == LUA_TNIL) {
            kind = t;
            first = i;
        } else if (kind != t) {
            const char *msg = lua_pushfstring(L, "column '%s' mixes numbers and strings (elements %d and %d)",
                                              cname, (int)first, (int)i);
            luaL_argerror(L, arg, msg);
        }
    }
    if (kind == LUA_TSTRING) {
        lua_createtable(L, (int)len, 0);
        for (size_t i = 1; i <= len; i++) {
            if (lua_rawgeti(L, idx, (lua_Integer)i) != LUA_TSTRING) {
                lua_pop(L, 1);
                lua_pushboolean(L, 0);
            }
            lua_rawseti(L, -2, (lua_Integer)i);
        }
    } else {
        double *d = svL_newvector(L, len);
        for (size_t i = 1; i <= len; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            d[i - 1] = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
            lua_pop(L, 1);
        }
    }
    *n = len;
}

/* ---- read_csv ------------------------------------------------------- */

static int csvtable_gc(lua_State *L)
{
    sv_csv_free(luaL_checkudata(L, 1, SV_CSVTABLE_MT));
    return 0;
}

static const char *const read_opts[] = {"sep", "na", "header", NULL};

/* Options of read_csv / parse_csv into o; the NA strings stay anchored in
 * the options table (argument arg) for the duration of the call. */
static void get_read_opts(lua_State *L, int arg, const char *fname,
                          sv_csv_opts *o, const char **na_buf)
{
    svL_checkopts(L, arg, fname, read_opts);
    sv_csv_opts_default(o);
    int t = svL_opt_get(L, arg, "sep");
    if (t != LUA_TNIL) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (t != LUA_TSTRING || n != 1)
            svL_opt_error(L, fname, "sep", "a one-character string expected");
        if (s[0] == '"' || s[0] == '\n' || s[0] == '\r' || s[0] == '\0')
            svL_opt_error(L, fname, "sep", "must not be a quote, a line end or NUL");
        o->sep = s[0];
    }
    lua_pop(L, 1);
    o->header = svL_opt_bool(L, arg, fname, "header", 1);
    t = svL_opt_get(L, arg, "na");
    if (t != LUA_TNIL) {
        if (t != LUA_TTABLE) svL_opt_error(L, fname, "na", "an array of strings expected");
        size_t n = (size_t)lua_rawlen(L, -1);
        if (n > SV_CSV_MAX_NA) svL_opt_error(L, fname, "na", "at most 64 strings");
        for (size_t k = 0; k < n; k++) {
            if (lua_rawgeti(L, -1, (lua_Integer)k + 1) != LUA_TSTRING)
                svL_opt_error(L, fname, "na", "an array of strings expected");
            na_buf[k] = lua_tostring(L, -1); /* anchored by the options table */
            lua_pop(L, 1);
        }
        o->na = na_buf;
        o->n_na = n;
    }
    lua_pop(L, 1);
}

#define SV_CSVREADER_MT "sylva.CsvReader" /* engine reader, freed by __gc */
#define SV_XLSXBOX_MT "sylva.XlsxBuffer"  /* workbook bytes and CSV, freed by __gc */

static int csvreader_gc(lua_State *L)
{
    sv_csv_reader **box = luaL_checkudata(L, 1, SV_CSVREADER_MT);
    sv_csv_reader_free(*box);
    *box = NULL;
    return 0;
}

/*
 * Reads with the two-step engine API so that numeric columns are parsed
 * straight into Vectors: the reader (boxed, collected on any error) tells
 * the number of columns and a bound on the rows; one Vector of that many
 * doubles per column receives the numbers; afterwards each numeric
 * column's Vector is shortened to the real row count, and text columns
 * become Lua arrays. Returns the Frame.
 */
static int read_into_frame_as(lua_State *L, const char *fname, const char *path,
                              const char *text, size_t len, const sv_csv_opts *o,
                              const char *label);
static int read_into_frame(lua_State *L, const char *fname, const char *path,
                           const char *text, size_t len, const sv_csv_opts *o)
{
    return read_into_frame_as(L, fname, path, text, len, o, NULL);
}

/* The same; a buffer read on behalf of a file (a workbook's sheet) is
 * named `label` in errors and in the frame's origin. */
static int read_into_frame_as(lua_State *L, const char *fname, const char *path,
                              const char *text, size_t len, const sv_csv_opts *o,
                              const char *label)
{
    sv_csv_reader **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, SV_CSVREADER_MT);
    sv_err err;
    sv_err_clear(&err);
    sv_status st = path ? sv_csv_reader_open(path, o, box, &err)
                        : sv_csv_reader_open_buffer(text, len, label ? label : "(string)", o, box, &err);
    if (st != SV_OK) return svL_engine_error(L, fname, &err);
    size_t ncol = sv_csv_reader_ncol(*box), bound = sv_csv_reader_row_bound(*box);

    luaL_checkstack(L, 8, "read_csv");
    double **dest = lua_newuserdatauv(L, (ncol ? ncol : 1) * sizeof *dest, 0);
    lua_createtable(L, (int)ncol, 0); /* the Vectors, kept alive here */
    int vecs = lua_gettop(L);
    for (size_t j = 0; j < ncol; j++) {
        dest[j] = svL_newvector(L, bound);
        lua_rawseti(L, vecs, (lua_Integer)j + 1);
    }
    sv_csv_table *t = lua_newuserdatauv(L, sizeof *t, 0);
    memset(t, 0, sizeof *t);
    luaL_setmetatable(L, SV_CSVTABLE_MT);
    sv_ctx ctx;
    svL_ctx(L, &ctx, 1);
    st = sv_csv_reader_parse(*box, dest, &ctx, t, &err);
    sv_csv_reader_free(*box);
    *box = NULL;
    if (st != SV_OK) return svL_engine_error(L, fname, &err);

    lua_createtable(L, (int)t->ncol, 0); /* names */
    lua_createtable(L, (int)t->ncol, 0); /* columns */
    for (size_t j = 0; j < t->ncol; j++) {
        const sv_csv_column *c = &t->cols[j];
        lua_pushlstring(L, c->name, c->name_len);
        lua_rawseti(L, -3, (lua_Integer)j + 1);
        if (c->type == SV_CSV_NUMERIC) {
            lua_rawgeti(L, vecs, (lua_Integer)j + 1);
            svL_vector *v = svL_testvector(L, -1);
            v->n = t->nrow; /* the userdata keeps its (bound) size */
        } else {
            lua_createtable(L, (int)t->nrow, 0);
            for (size_t i = 0; i < t->nrow; i++) {
                size_t n;
                const char *s = sv_csv_text(t, j, i, &n);
                if (s) lua_pushlstring(L, s, n);
                else lua_pushboolean(L, 0);
                lua_rawseti(L, -2, (lua_Integer)i + 1);
            }
        }
        lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_createtable(L, 0, 2); /* origin: the file and each row's line */
    if (path || label) {
        lua_pushstring(L, path ? path : label);
        lua_setfield(L, -2, "file");
    }
    double *lines = svL_newvector(L, t->nrow);
    for (size_t i = 0; i < t->nrow; i++) lines[i] = (double)sv_csv_line(t, i);
    lua_setfield(L, -2, "lines");
    push_frame_origin(L, -3, -2, -1, t->nrow, t->ncol);
    sv_csv_free(t); /* early release; the box's __gc is then a no-op */
    return 1;
}

/* sv.read_csv(path [, opts]) -> Frame */
static int l_read_csv(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    sv_csv_opts o;
    const char *na_buf[SV_CSV_MAX_NA];
    get_read_opts(L, 2, "read_csv", &o, na_buf);
    return read_into_frame(L, "read_csv", path, NULL, 0, &o);
}

/* sv.parse_csv(text [, opts]) -> Frame: the same reader on a string. */
static int l_parse_csv(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    sv_csv_opts o;
    const char *na_buf[SV_CSV_MAX_NA];
    get_read_opts(L, 2, "parse_csv", &o, na_buf);
    return read_into_frame(L, "parse_csv", NULL, text, len, &o);
}

/* ---- sv.read_xlsx -------------------------------------------------------- */

static const char *const xlsx_opts[] = {"sheet", "na", NULL};
/* Excel's error values: missing, as readxl and pandas read them */
static const char *const excel_errors[] = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?",
                                           "#NUM!", "#NULL!", "#GETTING_DATA", "#SPILL!", "#CALC!"};
#define N_EXCEL_ERRORS (sizeof excel_errors / sizeof excel_errors[0])

typedef struct xlsx_box {
    unsigned char *data;
    sv_xlsx_csv csv;
} xlsx_box;

static int xlsxbox_gc(lua_State *L)
{
    xlsx_box *b = lua_touserdata(L, 1);
    free(b->data);
    b->data = NULL;
    sv_xlsx_csv_free(&b->csv);
    return 0;
}

/* sv.read_xlsx(path [, {sheet =, na =}]) -> Frame */
static int l_read_xlsx(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    svL_checkopts(L, 2, "read_xlsx", xlsx_opts);
    const char *sheet_name = NULL;
    int sheet_index = 0;
    int t = svL_opt_get(L, 2, "sheet");
    if (t == LUA_TSTRING) {
        sheet_name = lua_tostring(L, -1); /* anchored by the options table */
    } else if (t == LUA_TNUMBER) {
        lua_Integer k;
        if (!lua_isinteger(L, -1) && !(lua_tonumber(L, -1) == (double)(lua_Integer)lua_tonumber(L, -1)))
            svL_opt_error(L, "read_xlsx", "sheet", "a sheet name or a positive integer expected");
        k = (lua_Integer)lua_tonumber(L, -1);
        if (k < 1 || k > 100000) svL_opt_error(L, "read_xlsx", "sheet", "a sheet name or a positive integer expected");
        sheet_index = (int)k;
    } else if (t != LUA_TNIL) {
        svL_opt_error(L, "read_xlsx", "sheet", "a sheet name or a positive integer expected");
    }
    lua_pop(L, 1);
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    const char *na_buf[SV_CSV_MAX_NA + N_EXCEL_ERRORS];
    size_t n_na = 0;
    t = svL_opt_get(L, 2, "na");
    if (t != LUA_TNIL) {
        if (t != LUA_TTABLE) svL_opt_error(L, "read_xlsx", "na", "an array of strings expected");
        size_t n = (size_t)lua_rawlen(L, -1);
        if (n > SV_CSV_MAX_NA - N_EXCEL_ERRORS) svL_opt_error(L, "read_xlsx", "na", "at most 54 strings");
        for (size_t k = 0; k < n; k++) {
            if (lua_rawgeti(L, -1, (lua_Integer)k + 1) != LUA_TSTRING)
                svL_opt_error(L, "read_xlsx", "na", "an array of strings expected");
            na_buf[n_na++] = lua_tostring(L, -1); /* anchored by the options table */
            lua_pop(L, 1);
        }
    } else {
        for (size_t k = 0; k < o.n_na; k++) na_buf[n_na++] = o.na[k];
    }
    lua_pop(L, 1);
    for (size_t k = 0; k < N_EXCEL_ERRORS; k++) na_buf[n_na++] = excel_errors[k];
    o.na = na_buf;
    o.n_na = n_na;

    xlsx_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, SV_XLSXBOX_MT);
    FILE *f = fopen(path, "rb");
    if (!f) return luaL_error(L, "read_xlsx: cannot open '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    box->data = malloc(cap);
    int bad = 0;
    while (box->data) {
        size_t k = fread(box->data + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
        if (n == cap) {
            if (cap > ((size_t)1 << 34)) { bad = EFBIG; break; }
            unsigned char *q = realloc(box->data, cap * 2);
            if (!q) break;
            box->data = q;
            cap *= 2;
        }
    }
    int rerr = ferror(f) ? errno : bad;
    fclose(f);
    if (!box->data) return luaL_error(L, "read_xlsx: out of memory reading '%s'", path);
    if (rerr) return luaL_error(L, "read_xlsx: cannot read '%s': %s", path, strerror(rerr));
    sv_err err;
    sv_err_clear(&err);
    if (sv_xlsx_to_csv(box->data, n, path, sheet_name, sheet_index, &box->csv, &err) != SV_OK)
        return svL_engine_error(L, "read_xlsx", &err);
    free(box->data);
    box->data = NULL;
    lua_pushfstring(L, "%s!%s", path, box->csv.sheet);
    const char *label = lua_tostring(L, -1);
    read_into_frame_as(L, "read_xlsx", NULL, box->csv.csv, box->csv.len, &o, label);
    /* second result: which sheet was read, and the workbook's date system */
    lua_createtable(L, 0, 3);
    lua_pushstring(L, box->csv.sheet);
    lua_setfield(L, -2, "sheet");
    lua_pushboolean(L, box->csv.date1904);
    lua_setfield(L, -2, "date1904");
    lua_pushstring(L, box->csv.date1904 ? "1904-01-01" : "1899-12-30");
    lua_setfield(L, -2, "date_origin");
    return 2;
}

/* ---- sv.frame --------------------------------------------------------- */

static int cmp_strings(lua_State *L)
{
    lua_pushboolean(L, strcmp(lua_tostring(L, 1), lua_tostring(L, 2)) < 0);
    return 1;
}

/* sv.frame(Matrix): a frame of the matrix's columns (names V1.. if the
 * matrix has none). */
static int frame_from_matrix(lua_State *L, svL_matrix *m)
{
    lua_createtable(L, (int)m->ncol, 0);
    int names = lua_gettop(L);
    lua_createtable(L, (int)m->ncol, 0);
    int cols = lua_gettop(L);
    svL_matrix_pushnames(L, 1);
    int mnames = lua_gettop(L);
    for (size_t j = 0; j < m->ncol; j++) {
        if (lua_istable(L, mnames)) lua_geti(L, mnames, (lua_Integer)j + 1);
        else lua_pushfstring(L, "V%d", (int)j + 1);
        lua_rawseti(L, names, (lua_Integer)j + 1);
        double *d = svL_newvector(L, m->nrow);
        if (m->nrow) memcpy(d, m->data + j * m->nrow, m->nrow * sizeof *d);
        lua_rawseti(L, cols, (lua_Integer)j + 1);
    }
    push_frame(L, names, cols, m->nrow, m->ncol);
    return 1;
}

/* sv.frame({name = column, ...} [, order]) -> Frame */
static int l_frame(lua_State *L)
{
    svL_matrix *m = svL_testmatrix(L, 1);
    if (m) return frame_from_matrix(L, m);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    lua_newtable(L);
    int names = lua_gettop(L);
    size_t ncol = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        size_t k = (size_t)lua_rawlen(L, 2);
        for (size_t i = 1; i <= k; i++) {
            if (lua_rawgeti(L, 2, (lua_Integer)i) != LUA_TSTRING) {
                const char *msg = lua_pushfstring(L, "name %d is not a string", (int)i);
                return luaL_argerror(L, 2, msg);
            }
            if (lua_rawget(L, 1) == LUA_TNIL) {
                lua_rawgeti(L, 2, (lua_Integer)i);
                const char *msg = lua_pushfstring(L, "'%s' is not a column of argument #1", lua_tostring(L, -1));
                return luaL_argerror(L, 2, msg);
            }
            lua_pop(L, 1);
            lua_rawgeti(L, 2, (lua_Integer)i);
            lua_rawseti(L, names, (lua_Integer)++ncol);
        }
        /* every column must be listed exactly once */
        lua_newtable(L);
        for (size_t i = 1; i <= ncol; i++) {
            lua_rawgeti(L, names, (lua_Integer)i);
            if (lua_rawget(L, -2) != LUA_TNIL) {
                lua_rawgeti(L, names, (lua_Integer)i);
                const char *msg = lua_pushfstring(L, "'%s' is listed twice", lua_tostring(L, -1));
                return luaL_argerror(L, 2, msg);
            }
            lua_pop(L, 1);
            lua_rawgeti(L, names, (lua_Integer)i);
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);
        }
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            if (lua_rawget(L, -3) == LUA_TNIL) {
                const char *msg = lua_pushfstring(L, "column '%s' is missing from the order",
                                                  luaL_tolstring(L, -2, NULL));
                return luaL_argerror(L, 2, msg);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    } else {
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING) {
                const char *msg = lua_pushfstring(L, "column names must be strings, got %s",
                                                  luaL_typename(L, -1));
                return luaL_argerror(L, 1, msg);
            }
            lua_pushvalue(L, -1);
            lua_rawseti(L, names, (lua_Integer)++ncol);
        }
        lua_getglobal(L, "table");
        lua_getfield(L, -1, "sort");
        lua_remove(L, -2);
        lua_pushvalue(L, names);
        lua_pushcfunction(L, cmp_strings);
        lua_call(L, 2, 0);
    }
    lua_createtable(L, (int)ncol, 0);
    int cols = lua_gettop(L);
    size_t nrow = 0;
    for (size_t j = 1; j <= ncol; j++) {
        lua_rawgeti(L, names, (lua_Integer)j);
        const char *cname = lua_tostring(L, -1);
        lua_rawget(L, 1);
        size_t n;
        push_user_column(L, -1, 1, cname, &n);
        if (j == 1) {
            nrow = n;
        } else if (n != nrow) {
            lua_rawgeti(L, names, 1);
            const char *msg = lua_pushfstring(L, "column '%s' has %d rows, column '%s' has %d",
                                              cname, (int)n, lua_tostring(L, -1), (int)nrow);
            return luaL_argerror(L, 1, msg);
        }
        lua_rawseti(L, cols, (lua_Integer)j);
        lua_pop(L, 1);
    }
    push_frame(L, names, cols, nrow, ncol);
    return 1;
}

/* ---- Frame methods -------------------------------------------------- */

static int f_nrow(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checkframe(L, 1)->nrow);
    return 1;
}

static int f_ncol(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checkframe(L, 1)->ncol);
    return 1;
}

static int f_names(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    lua_getiuservalue(L, 1, UV_NAMES);
    copy_text(L, -1, d->ncol);
    return 1;
}

static int f_has(lua_State *L)
{
    checkframe(L, 1);
    if (lua_type(L, 2) != LUA_TSTRING) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_getiuservalue(L, 1, UV_INDEX);
    lua_pushvalue(L, 2);
    lua_pushboolean(L, lua_rawget(L, -2) != LUA_TNIL);
    return 1;
}

/* d:col(name | j) -> a copy: Vector, or array of strings with false. */
static int f_col(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    size_t j = checkcolumn(L, 1, 2);
    pushcolumn(L, 1, j);
    svL_vector *v = svL_testvector(L, -1);
    if (v) {
        double *c = svL_newvector(L, v->n);
        if (v->n) memcpy(c, v->data, v->n * sizeof *c);
    } else {
        copy_text(L, -1, d->nrow);
    }
    return 1;
}

/* d:types() -> array of "number" | "text", in column order. */
static int f_types(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    lua_createtable(L, (int)d->ncol, 0);
    for (size_t j = 0; j < d->ncol; j++) {
        pushcolumn(L, 1, j);
        lua_pushstring(L, svL_testvector(L, -1) ? "number" : "text");
        lua_rawseti(L, -3, (lua_Integer)j + 1);
        lua_pop(L, 1);
    }
    return 1;
}

/* d:matrix([names]) -> Matrix of the named numeric columns (all columns
 * when names is absent), with those column names. */
static int f_matrix(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    size_t k;
    int listed = !lua_isnoneornil(L, 2);
    if (listed) {
        luaL_checktype(L, 2, LUA_TTABLE);
        k = (size_t)lua_rawlen(L, 2);
    } else {
        k = d->ncol;
    }
    svL_matrix *m = svL_newmatrix(L, d->nrow, k);
    int midx = lua_gettop(L);
    lua_createtable(L, (int)k, 0);
    int nidx = lua_gettop(L);
    for (size_t a = 0; a < k; a++) {
        size_t j = a;
        if (listed) {
            lua_rawgeti(L, 2, (lua_Integer)a + 1);
            if (lua_type(L, -1) == LUA_TSTRING) {
                lua_getiuservalue(L, 1, UV_INDEX);
                lua_pushvalue(L, -2);
                lua_Integer p = lua_rawget(L, -2) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
                lua_pop(L, 2);
                if (p < 1) {
                    const char *msg = lua_pushfstring(L, "no column named '%s'", lua_tostring(L, -1));
                    return luaL_argerror(L, 2, msg);
                }
                j = (size_t)p - 1;
            } else {
                const char *msg = lua_pushfstring(L, "name %d is %s, string expected", (int)a + 1,
                                                  luaL_typename(L, -1));
                return luaL_argerror(L, 2, msg);
            }
            lua_pop(L, 1);
        }
        pushcolumn(L, 1, j);
        svL_vector *v = svL_testvector(L, -1);
        pushname(L, 1, j);
        if (!v && listed) {
            const char *msg = lua_pushfstring(L, "column '%s' is text, not numeric", lua_tostring(L, -1));
            return luaL_argerror(L, 2, msg);
        }
        if (!v)
            return luaL_error(L, "matrix: column '%s' is text, not numeric (list the numeric columns: d:matrix({names...}))",
                              lua_tostring(L, -1));
        if (d->nrow) memcpy(m->data + a * d->nrow, v->data, d->nrow * sizeof(double));
        lua_rawseti(L, nidx, (lua_Integer)a + 1);
        lua_pop(L, 1);
    }
    svL_matrix_setnames(L, midx);
    return 1;
}

/* Row indices from a Lua array or Vector of integers in [1, nrow]; the
 * 0-based indices are left in a userdata on the stack. */
static size_t *check_rows(lua_State *L, int arg, size_t nrow, size_t *k)
{
    size_t n;
    const double *x = svL_checkvector(L, arg, &n);
    size_t *idx = lua_newuserdatauv(L, (n ? n : 1) * sizeof *idx, 0);
    for (size_t a = 0; a < n; a++) {
        double r = x[a];
        if (!(r >= 1 && r <= (double)nrow && r == floor(r))) {
            const char *msg = lua_pushfstring(L, "index %d (%f) is not a row in [1, %d]",
                                              (int)a + 1, r, (int)nrow);
            luaL_argerror(L, arg, msg);
        }
        idx[a] = (size_t)r - 1;
    }
    *k = n;
    return idx;
}

/* d:rows(idx) -> a new Frame of the listed rows, in that order. */
static int f_rows(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    size_t k;
    size_t *idx = check_rows(L, 2, d->nrow, &k);
    lua_getiuservalue(L, 1, UV_NAMES);
    int names = lua_gettop(L);
    lua_createtable(L, (int)d->ncol, 0);
    int cols = lua_gettop(L);
    for (size_t j = 0; j < d->ncol; j++) {
        pushcolumn(L, 1, j);
        svL_vector *v = svL_testvector(L, -1);
        if (v) {
            double *c = svL_newvector(L, k);
            for (size_t a = 0; a < k; a++) c[a] = v->data[idx[a]];
        } else {
            lua_createtable(L, (int)k, 0);
            for (size_t a = 0; a < k; a++) {
                lua_rawgeti(L, -2, (lua_Integer)idx[a] + 1);
                lua_rawseti(L, -2, (lua_Integer)a + 1);
            }
        }
        lua_rawseti(L, cols, (lua_Integer)j + 1);
        lua_pop(L, 1);
    }
    int origin = 0;
    if (lua_getiuservalue(L, 1, UV_ORIGIN) == LUA_TTABLE) {
        origin = lua_gettop(L);
        lua_createtable(L, 0, 2);
        lua_getfield(L, origin, "file");
        lua_setfield(L, -2, "file");
        lua_getfield(L, origin, "lines");
        svL_vector *from = svL_testvector(L, -1);
        double *lines = svL_newvector(L, k);
        for (size_t a = 0; a < k; a++) lines[a] = from && idx[a] < from->n ? from->data[idx[a]] : 0;
        lua_setfield(L, -3, "lines");
        lua_pop(L, 1);
        origin = lua_gettop(L);
    }
    push_frame_origin(L, names, cols, origin, k, d->ncol);
    return 1;
}

/* d:select(names) -> a new Frame of those columns, in that order. */
static int f_select(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t k = (size_t)lua_rawlen(L, 2);
    lua_createtable(L, (int)k, 0);
    int names = lua_gettop(L);
    lua_createtable(L, (int)k, 0);
    int cols = lua_gettop(L);
    lua_newtable(L);
    int seen = lua_gettop(L);
    for (size_t a = 0; a < k; a++) {
        lua_rawgeti(L, 2, (lua_Integer)a + 1);
        int top = lua_gettop(L);
        if (lua_type(L, top) != LUA_TSTRING && !lua_isinteger(L, top)) {
            const char *msg = lua_pushfstring(L, "element %d is %s, column name expected",
                                              (int)a + 1, luaL_typename(L, top));
            return luaL_argerror(L, 2, msg);
        }
        lua_getiuservalue(L, 1, UV_INDEX);
        lua_Integer p = 0;
        if (lua_isinteger(L, top)) {
            p = lua_tointeger(L, top);
            if (p < 1 || (size_t)p > d->ncol) p = 0;
        } else {
            lua_pushvalue(L, top);
            p = lua_rawget(L, -2) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (p < 1) {
            const char *msg = lua_pushfstring(L, "no column '%s'", luaL_tolstring(L, top, NULL));
            return luaL_argerror(L, 2, msg);
        }
        size_t j = (size_t)p - 1;
        pushname(L, 1, j);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, seen) != LUA_TNIL) {
            const char *msg = lua_pushfstring(L, "column '%s' selected twice", lua_tostring(L, -2));
            return luaL_argerror(L, 2, msg);
        }
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_rawset(L, seen);
        lua_rawseti(L, names, (lua_Integer)a + 1);
        pushcolumn(L, 1, j);
        lua_rawseti(L, cols, (lua_Integer)a + 1);
        lua_settop(L, seen);
    }
    int origin = lua_getiuservalue(L, 1, UV_ORIGIN) == LUA_TTABLE ? lua_gettop(L) : 0;
    push_frame_origin(L, names, cols, origin, d->nrow, k);
    return 1;
}

/* d:add(name, column) -> a new Frame with the column appended (or
 * replaced in place when the name exists). */
static int f_add(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    const char *name = luaL_checkstring(L, 2);
    size_t n;
    push_user_column(L, 3, 2, name, &n);
    int col = lua_gettop(L);
    if (n != d->nrow && d->ncol > 0) {
        const char *msg = lua_pushfstring(L, "column has %d rows, the frame has %d", (int)n, (int)d->nrow);
        return luaL_argerror(L, 3, msg);
    }
    lua_getiuservalue(L, 1, UV_INDEX);
    lua_pushvalue(L, 2);
    lua_Integer p = lua_rawget(L, -2) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 2);
    size_t ncol = d->ncol + (p < 1 ? 1 : 0);
    lua_createtable(L, (int)ncol, 0);
    int names = lua_gettop(L);
    lua_createtable(L, (int)ncol, 0);
    int cols = lua_gettop(L);
    for (size_t j = 0; j < d->ncol; j++) {
        pushname(L, 1, j);
        lua_rawseti(L, names, (lua_Integer)j + 1);
        pushcolumn(L, 1, j);
        lua_rawseti(L, cols, (lua_Integer)j + 1);
    }
    size_t at = p < 1 ? d->ncol : (size_t)p - 1;
    lua_pushvalue(L, 2);
    lua_rawseti(L, names, (lua_Integer)at + 1);
    lua_pushvalue(L, col);
    lua_rawseti(L, cols, (lua_Integer)at + 1);
    int origin = d->ncol > 0 && lua_getiuservalue(L, 1, UV_ORIGIN) == LUA_TTABLE ? lua_gettop(L) : 0;
    push_frame_origin(L, names, cols, origin, d->ncol == 0 ? n : d->nrow, ncol);
    return 1;
}

/* d:origin(i) -> file, line: where row i was read (the path given to
 * read_csv, nil for parse_csv; the physical line on which the record
 * starts). d:origin() -> file, lines (an array, one line per row). Both
 * give nothing for frames not read from CSV text (sv.frame). */
static int f_origin(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    int has_i = !lua_isnoneornil(L, 2);
    lua_Integer i = has_i ? luaL_checkinteger(L, 2) : 0;
    if (has_i && (i < 1 || (size_t)i > d->nrow)) {
        const char *msg = lua_pushfstring(L, "row %I out of range [1, %d]", i, (int)d->nrow);
        return luaL_argerror(L, 2, msg);
    }
    if (lua_getiuservalue(L, 1, UV_ORIGIN) != LUA_TTABLE) return 0;
    int origin = lua_gettop(L);
    lua_getfield(L, origin, "file");
    lua_getfield(L, origin, "lines");
    svL_vector *v = svL_testvector(L, -1);
    if (!v || v->n != d->nrow) return luaL_error(L, "origin: damaged frame (line numbers)");
    if (has_i) {
        lua_pushinteger(L, (lua_Integer)v->data[i - 1]);
    } else {
        lua_createtable(L, (int)d->nrow, 0);
        for (size_t r = 0; r < d->nrow; r++) {
            lua_pushinteger(L, (lua_Integer)v->data[r]);
            lua_rawseti(L, -2, (lua_Integer)r + 1);
        }
    }
    lua_remove(L, -2);
    return 2;
}

static const char *const write_opts[] = {"sep", "na", NULL};

/* d:write_csv(path [, {sep = ",", na = "NA"}]) */
static int f_write_csv(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    const char *path = luaL_checkstring(L, 2);
    svL_checkopts(L, 3, "write_csv", write_opts);
    sv_csv_wopts wo;
    sv_csv_wopts_default(&wo);
    int t = svL_opt_get(L, 3, "sep");
    if (t != LUA_TNIL) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (t != LUA_TSTRING || n != 1)
            svL_opt_error(L, "write_csv", "sep", "a one-character string expected");
        if (s[0] == '"' || s[0] == '\n' || s[0] == '\r' || s[0] == '\0')
            svL_opt_error(L, "write_csv", "sep", "must not be a quote, a line end or NUL");
        wo.sep = s[0];
    }
    lua_pop(L, 1);
    t = svL_opt_get(L, 3, "na");
    if (t != LUA_TNIL) {
        if (t != LUA_TSTRING) svL_opt_error(L, "write_csv", "na", "string expected");
        wo.na = lua_tostring(L, -1); /* anchored by the options table */
    }
    lua_pop(L, 1);
    if (d->ncol == 0) return luaL_error(L, "write_csv: the frame has no columns");

    sv_csv_wcol *wc = lua_newuserdatauv(L, d->ncol * sizeof *wc, 0);
    for (size_t j = 0; j < d->ncol; j++) {
        luaL_checkstack(L, 8, "too many text columns");
        memset(&wc[j], 0, sizeof wc[j]);
        pushname(L, 1, j);
        wc[j].name = lua_tostring(L, -1); /* anchored by the frame */
        lua_pop(L, 1);
        pushcolumn(L, 1, j);
        svL_vector *v = svL_testvector(L, -1);
        if (v) {
            wc[j].num = v->data;
            lua_pop(L, 1);
            continue;
        }
        int tidx = lua_gettop(L);
        size_t n = d->nrow ? d->nrow : 1;
        const char **s = lua_newuserdatauv(L, n * sizeof *s, 0);
        size_t *len = lua_newuserdatauv(L, n * sizeof *len, 0);
        for (size_t i = 0; i < d->nrow; i++) {
            lua_rawgeti(L, tidx, (lua_Integer)i + 1);
            s[i] = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len[i]) : NULL;
            lua_pop(L, 1);
        }
        wc[j].text = s;
        wc[j].text_len = len;
        /* The two scratch arrays stay on the stack until the write is
         * done; the column table goes (the frame anchors it and its
         * strings). */
        lua_rotate(L, tidx, 2);
        lua_pop(L, 1); /* the column table (anchored by the frame) */
    }
    sv_ctx ctx;
    svL_ctx(L, &ctx, 1);
    sv_err err;
    sv_err_clear(&err);
    if (sv_csv_write(path, wc, d->ncol, d->nrow, &wo, &ctx, &err) != SV_OK)
        return svL_engine_error(L, "write_csv", &err);
    return 0;
}

/* Appends x formatted for display (NA for NaN). */
static void fmt_cell_num(char *buf, size_t n, double x)
{
    if (isnan(x)) snprintf(buf, n, "NA");
    else if (isinf(x)) snprintf(buf, n, x > 0 ? "Inf" : "-Inf");
    else snprintf(buf, n, "%.6g", x);
}

#define SHOW_WIDTH 12 /* widest cell shown */
#define SHOW_LINE 78  /* columns shown while the line fits */

/* The display text of cell (i, j) in buf. */
static void cell_text(lua_State *L, int fidx, size_t i, size_t j, char *buf,
                      size_t n)
{
    pushcolumn(L, fidx, j);
    svL_vector *v = svL_testvector(L, -1);
    if (v) {
        fmt_cell_num(buf, n, v->data[i]);
    } else {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        size_t len;
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!s) {
            snprintf(buf, n, "<NA>");
        } else {
            size_t w = len < SHOW_WIDTH ? len : SHOW_WIDTH;
            if (w + 1 > n) w = n - 1;
            memcpy(buf, s, w);
            buf[w] = '\0';
            for (size_t k = 0; k < w; k++)
                if ((unsigned char)buf[k] < 32) buf[k] = ' ';
            if (len > SHOW_WIDTH && w >= 1) buf[w - 1] = '~';
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static int f_tostring(lua_State *L)
{
    svL_frame *d = checkframe(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char line[256];
    snprintf(line, sizeof line, "Frame: %zu row%s x %zu column%s", d->nrow,
             d->nrow == 1 ? "" : "s", d->ncol, d->ncol == 1 ? "" : "s");
    luaL_addstring(&b, line);
    size_t showr = d->nrow <= 8 ? d->nrow : 6;
    char rowlab[32];
    int labw = snprintf(rowlab, sizeof rowlab, "%zu", showr);
    /* column widths, and how many columns fit */
    size_t widths[64], showc = 0, used = (size_t)labw;
    char cellbuf[SHOW_WIDTH + 8];
    for (size_t j = 0; j < d->ncol && j < 64; j++) {
        pushname(L, 1, j);
        size_t w = lua_rawlen(L, -1);
        lua_pop(L, 1);
        if (w > SHOW_WIDTH) w = SHOW_WIDTH;
        for (size_t i = 0; i < showr; i++) {
            cell_text(L, 1, i, j, cellbuf, sizeof cellbuf);
            size_t cw = strlen(cellbuf);
            if (cw > w) w = cw;
        }
        if (used + 1 + w > SHOW_LINE && showc > 0) break;
        widths[j] = w;
        used += 1 + w;
        showc++;
    }
    if (d->ncol > 0) {
        luaL_addchar(&b, '\n');
        snprintf(line, sizeof line, "%*s", labw, "");
        luaL_addstring(&b, line);
        for (size_t j = 0; j < showc; j++) {
            pushname(L, 1, j);
            size_t nl;
            const char *nm = lua_tolstring(L, -1, &nl);
            snprintf(line, sizeof line, " %*.*s%s", (int)widths[j] - (nl > SHOW_WIDTH ? 1 : 0),
                     nl > SHOW_WIDTH ? SHOW_WIDTH - 1 : SHOW_WIDTH, nm ? nm : "",
                     nl > SHOW_WIDTH ? "~" : "");
            lua_pop(L, 1);
            luaL_addstring(&b, line);
        }
        for (size_t i = 0; i < showr; i++) {
            luaL_addchar(&b, '\n');
            snprintf(line, sizeof line, "%*zu", labw, i + 1);
            luaL_addstring(&b, line);
            for (size_t j = 0; j < showc; j++) {
                cell_text(L, 1, i, j, cellbuf, sizeof cellbuf);
                snprintf(line, sizeof line, " %*s", (int)widths[j], cellbuf);
                luaL_addstring(&b, line);
            }
        }
        if (showr < d->nrow) {
            snprintf(line, sizeof line, "\n... %zu more row%s", d->nrow - showr,
                     d->nrow - showr == 1 ? "" : "s");
            luaL_addstring(&b, line);
        }
        if (showc < d->ncol) {
            snprintf(line, sizeof line, "\n... %zu more column%s:", d->ncol - showc,
                     d->ncol - showc == 1 ? "" : "s");
            luaL_addstring(&b, line);
            /* every remaining name with its type, wrapped: a wide clinical
             * table's hundred names are all there to read */
            size_t col = SHOW_LINE;
            for (size_t j = showc; j < d->ncol; j++) {
                pushcolumn(L, 1, j);
                const char *ty = svL_testvector(L, -1) ? "num" : "txt";
                lua_pop(L, 1);
                pushname(L, 1, j);
                size_t nl = lua_rawlen(L, -1);
                lua_pop(L, 1);
                size_t w = nl + 7; /* "  name <num>" */
                if (col + w > SHOW_LINE) {
                    luaL_addstring(&b, "\n ");
                    col = 1;
                }
                luaL_addchar(&b, ' ');
                pushname(L, 1, j);
                luaL_addvalue(&b);
                luaL_addstring(&b, " <");
                luaL_addstring(&b, ty);
                luaL_addchar(&b, '>');
                col += w;
            }
        }
    }
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg frame_methods[] = {
    {"nrow", f_nrow}, {"ncol", f_ncol}, {"names", f_names}, {"has", f_has},
    {"col", f_col}, {"types", f_types}, {"matrix", f_matrix}, {"rows", f_rows},
    {"select", f_select}, {"add", f_add}, {"write_csv", f_write_csv},
    {"origin", f_origin},
    {NULL, NULL}};

static const luaL_Reg csv_funcs[] = {
    {"read_csv", l_read_csv}, {"parse_csv", l_parse_csv}, {"frame", l_frame},
    {"read_xlsx", l_read_xlsx},
    {NULL, NULL}};

/* Adds read_csv, parse_csv and frame to the sv table on top of the stack. */
int svL_open_csv(lua_State *L)
{
    luaL_newmetatable(L, SV_FRAME_MT);
    lua_pushcfunction(L, f_tostring);
    lua_setfield(L, -2, "__tostring");
    luaL_newlib(L, frame_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_newmetatable(L, SV_CSVTABLE_MT);
    lua_pushcfunction(L, csvtable_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    luaL_newmetatable(L, SV_XLSXBOX_MT);
    lua_pushcfunction(L, xlsxbox_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    luaL_newmetatable(L, SV_CSVREADER_MT);
    lua_pushcfunction(L, csvreader_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    luaL_setfuncs(L, csv_funcs, 0);
    return 0;
}
