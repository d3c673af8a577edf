/*
 * lxlsx.c - sv.write_xlsx(path, sheets): tables as an Excel workbook,
 * written with libxlsxwriter (Debian libxlsxwriter-dev), atomically.
 *
 * `sheets` is a Frame (one sheet, "Sheet1"), or an array of sheets, each
 * {name =, frame = Frame} or {name =, columns = {...}, rows = {{...}, ...}}
 * (the shape of a report table). Numbers are written as numbers (NaN and
 * infinities as empty cells), strings as text, booleans as TRUE/FALSE, and
 * nil or false (missing) as empty cells. The header row is bold and frozen.
 */
#define _POSIX_C_SOURCE 200809L
#include "lsylva.h"
#include "../engine/sv_io.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xlsxwriter.h>

#define XLSX_MAX_ROWS 1048576
#define XLSX_MAX_COLS 16384

typedef struct wb_box {
    lxw_workbook *wb;
    sv_atomic_file af;
    int open;
} wb_box;

static int wbbox_gc(lua_State *L)
{
    wb_box *b = lua_touserdata(L, 1);
    if (b->wb) {
        /* an error while filling it: finish it into the temporary file
         * (libxlsxwriter has no way to abandon a workbook), then drop it */
        workbook_close(b->wb);
        b->wb = NULL;
    }
    if (b->open) {
        sv_atomic_abort(&b->af);
        b->open = 0;
    }
    return 0;
}

static const char *sheet_name_problem(const char *s, size_t n)
{
    if (n == 0) return "is empty";
    if (n > 31) return "is longer than 31 characters (Excel's limit)";
    if (strpbrk(s, "[]:*?/\\")) return "holds one of []:*?/\\ (not allowed by Excel)";
    if (s[0] == '\'' || s[n - 1] == '\'') return "begins or ends with an apostrophe (not allowed by Excel)";
    return NULL;
}

/* Writes the value on top of the stack into (r, c). */
static void put_cell(lua_State *L, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, lxw_format *fmt)
{
    switch (lua_type(L, -1)) {
    case LUA_TNUMBER: {
        double x = lua_tonumber(L, -1);
        if (isfinite(x)) worksheet_write_number(ws, r, c, x, fmt);
        break;
    }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (n > 32767) luaL_error(L, "write_xlsx: a text cell of %d characters (Excel holds at most 32767)", (int)n);
        if (n) worksheet_write_string(ws, r, c, s, fmt);
        break;
    }
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, -1)) worksheet_write_boolean(ws, r, c, 1, fmt);
        break;
    default:
        break; /* nil: missing */
    }
}

/* Method call obj:name(...) with nargs arguments pushed after obj. */
static void call_method(lua_State *L, int obj, const char *name, int nargs, int nres)
{
    lua_getfield(L, obj, name);
    lua_insert(L, -1 - nargs);
    lua_pushvalue(L, obj);
    lua_insert(L, -1 - nargs);
    lua_call(L, nargs + 1, nres);
}

static void write_frame(lua_State *L, int fr, lxw_worksheet *ws, lxw_format *bold, const char *sheet)
{
    call_method(L, fr, "nrow", 0, 1);
    lua_Integer nrow = lua_tointeger(L, -1);
    lua_pop(L, 1);
    call_method(L, fr, "names", 0, 1);
    int names = lua_gettop(L);
    lua_Integer ncol = (lua_Integer)lua_rawlen(L, names);
    if (nrow + 1 > XLSX_MAX_ROWS || ncol > XLSX_MAX_COLS)
        luaL_error(L, "write_xlsx: sheet '%s' has %d rows and %d columns; Excel holds at most 1048575 rows and 16384 columns",
                   sheet, (int)nrow, (int)ncol);
    for (lua_Integer j = 1; j <= ncol; j++) {
        lua_rawgeti(L, names, j);
        put_cell(L, ws, 0, (lxw_col_t)(j - 1), bold);
        call_method(L, fr, "col", 1, 1);
        int col = lua_gettop(L);
        svL_vector *v = svL_testvector(L, col);
        for (lua_Integer i = 1; i <= nrow; i++) {
            if (v) {
                double x = v->data[i - 1];
                if (isfinite(x)) worksheet_write_number(ws, (lxw_row_t)i, (lxw_col_t)(j - 1), x, NULL);
            } else {
                lua_rawgeti(L, col, i);
                put_cell(L, ws, (lxw_row_t)i, (lxw_col_t)(j - 1), NULL);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void write_rows(lua_State *L, int sh, lxw_worksheet *ws, lxw_format *bold, const char *sheet)
{
    if (lua_getfield(L, sh, "columns") != LUA_TTABLE)
        luaL_error(L, "write_xlsx: sheet '%s': 'columns' (an array of column names) expected", sheet);
    int cols = lua_gettop(L);
    lua_Integer ncol = (lua_Integer)lua_rawlen(L, cols);
    if (lua_getfield(L, sh, "rows") != LUA_TTABLE)
        luaL_error(L, "write_xlsx: sheet '%s': 'rows' (an array of rows) expected", sheet);
    int rows = lua_gettop(L);
    lua_Integer nrow = (lua_Integer)lua_rawlen(L, rows);
    if (nrow + 1 > XLSX_MAX_ROWS || ncol > XLSX_MAX_COLS)
        luaL_error(L, "write_xlsx: sheet '%s' has %d rows and %d columns; Excel holds at most 1048575 rows and 16384 columns",
                   sheet, (int)nrow, (int)ncol);
    for (lua_Integer j = 1; j <= ncol; j++) {
        lua_rawgeti(L, cols, j);
        put_cell(L, ws, 0, (lxw_col_t)(j - 1), bold);
        lua_pop(L, 1);
    }
    for (lua_Integer i = 1; i <= nrow; i++) {
        if (lua_rawgeti(L, rows, i) != LUA_TTABLE)
            luaL_error(L, "write_xlsx: sheet '%s': row %d is not an array of cells", sheet, (int)i);
        for (lua_Integer j = 1; j <= ncol; j++) {
            lua_rawgeti(L, -1, j);
            put_cell(L, ws, (lxw_row_t)i, (lxw_col_t)(j - 1), NULL);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
}

/* sv.write_xlsx(path, sheets) -> path */
static int l_write_xlsx(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int is_frame = luaL_testudata(L, 2, SV_FRAME_MT) != NULL;
    if (!is_frame && !lua_istable(L, 2))
        return luaL_argerror(L, 2, "a Frame or an array of sheets {name =, frame = | columns =, rows =} expected");
    lua_Integer nsheets = is_frame ? 1 : (lua_Integer)lua_rawlen(L, 2);
    if (nsheets < 1) return luaL_argerror(L, 2, "no sheets to write");
    /* check every sheet's name before anything is written */
    lua_newtable(L);
    int seen = lua_gettop(L);
    for (lua_Integer k = 1; !is_frame && k <= nsheets; k++) {
        if (lua_rawgeti(L, 2, k) != LUA_TTABLE)
            return luaL_error(L, "write_xlsx: sheet %d is not a table {name =, frame = | columns =, rows =}", (int)k);
        if (lua_getfield(L, -1, "name") != LUA_TSTRING)
            return luaL_error(L, "write_xlsx: sheet %d has no name (a string)", (int)k);
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        const char *why = sheet_name_problem(s, n);
        if (why) return luaL_error(L, "write_xlsx: sheet name '%s' %s", s, why);
        /* Excel compares sheet names without regard to (ASCII) case */
        char low[32];
        for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)s[i]);
        lua_pushlstring(L, low, n);
        if (lua_rawget(L, seen) != LUA_TNIL)
            return luaL_error(L, "write_xlsx: two sheets are named '%s' (Excel ignores case)", s);
        lua_pop(L, 1);
        lua_pushlstring(L, low, n);
        lua_pushboolean(L, 1);
        lua_rawset(L, seen);
        lua_pop(L, 2);
    }

    wb_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    luaL_setmetatable(L, "sylva.XlsxWorkbook");
    sv_err err;
    sv_err_clear(&err);
    if (sv_atomic_open(&b->af, path, &err) != SV_OK) return svL_engine_error(L, "write_xlsx", &err);
    b->open = 1;
    lxw_workbook_options wo = {.constant_memory = LXW_FALSE, .tmpdir = NULL};
    b->wb = workbook_new_opt(b->af.tmp_path, &wo);
    if (!b->wb) return luaL_error(L, "write_xlsx: cannot start a workbook for '%s'", path);
    /* reproducible files: the creation time is SOURCE_DATE_EPOCH when set */
    lxw_doc_properties props;
    memset(&props, 0, sizeof props);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    props.created = sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    workbook_set_properties(b->wb, &props);
    lxw_format *bold = workbook_add_format(b->wb);
    format_set_bold(bold);
    for (lua_Integer k = 1; k <= nsheets; k++) {
        const char *name = "Sheet1";
        int sh = 2;
        if (!is_frame) {
            lua_rawgeti(L, 2, k);
            sh = lua_gettop(L);
            lua_getfield(L, sh, "name");
            name = lua_tostring(L, -1);
        }
        lxw_worksheet *ws = workbook_add_worksheet(b->wb, name);
        if (!ws) return luaL_error(L, "write_xlsx: cannot add sheet '%s'", name);
        worksheet_freeze_panes(ws, 1, 0);
        if (is_frame) {
            write_frame(L, 2, ws, bold, name);
        } else if (lua_getfield(L, sh, "frame") != LUA_TNIL) {
            if (!luaL_testudata(L, -1, SV_FRAME_MT))
                return luaL_error(L, "write_xlsx: sheet '%s': 'frame' must be a Frame", name);
            write_frame(L, lua_gettop(L), ws, bold, name);
            lua_pop(L, 1);
        } else {
            lua_pop(L, 1);
            write_rows(L, sh, ws, bold, name);
        }
        if (!is_frame) lua_pop(L, 2);
    }
    lxw_error e = workbook_close(b->wb);
    b->wb = NULL;
    if (e != LXW_NO_ERROR) {
        sv_atomic_abort(&b->af);
        b->open = 0;
        return luaL_error(L, "write_xlsx: cannot write '%s': %s", path, lxw_strerror(e));
    }
    b->open = 0;
    if (sv_atomic_commit(&b->af, &err) != SV_OK) return svL_engine_error(L, "write_xlsx", &err);
    lua_pushvalue(L, 1);
    return 1;
}

static const luaL_Reg xlsx_funcs[] = {{"write_xlsx", l_write_xlsx}, {NULL, NULL}};

/* Adds write_xlsx to the sv table on top of the stack. */
int svL_open_xlsx(lua_State *L)
{
    luaL_newmetatable(L, "sylva.XlsxWorkbook");
    lua_pushcfunction(L, wbbox_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_setfuncs(L, xlsx_funcs, 0);
    return 0;
}
