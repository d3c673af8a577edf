/*
 * lsylva.h - glue shared by every binding file: the Vector and Matrix
 * userdata, argument and option checking, the engine context (progress bar
 * and Ctrl-C) and engine error reporting.
 *
 * Conventions (see docs/internals.md):
 * - every public function checks its arguments before calling the engine
 *   and raises through luaL_argerror / svL_opt_* so messages name the
 *   function and the argument;
 * - memory the engine needs for the duration of a call is allocated as
 *   Lua userdata where possible (collected on error), else freed before
 *   any lua_error.
 */
#ifndef LSYLVA_H
#define LSYLVA_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

#include "../engine/sv_core.h"

#define SV_VECTOR_MT "sylva.Vector"
#define SV_MATRIX_MT "sylva.Matrix"
#define SV_FOREST_MT "sylva.Forest"
#define SV_FRAME_MT "sylva.Frame"

struct sv_forest;
/* The Forest userdata (bindings/lforest.c): a pointer to the engine's
 * forest, owned by the userdata (freed by __gc/__close). Every module
 * reads a Forest argument through svL_checkforest. */
typedef struct svL_forest {
    struct sv_forest *f;
} svL_forest;

/* A Vector: n doubles inside the userdata itself. */
typedef struct svL_vector {
    size_t n;
    double data[];
} svL_vector;

/* A Matrix: nrow x ncol doubles, column-major (x[i, j] at data[j*nrow+i]),
 * inside the userdata. Column names, when set, are the userdata's first
 * user value (a Lua array of strings). */
typedef struct svL_matrix {
    size_t nrow, ncol;
    double data[];
} svL_matrix;

/* Creates a Vector of n elements (uninitialised) and pushes it. */
double *svL_newvector(lua_State *L, size_t n);
/* Creates an nrow x ncol Matrix (uninitialised), pushes it, returns it. */
svL_matrix *svL_newmatrix(lua_State *L, size_t nrow, size_t ncol);
svL_vector *svL_testvector(lua_State *L, int idx);
svL_matrix *svL_testmatrix(lua_State *L, int idx);

/*
 * Numeric vector argument: a Vector or a Lua array of numbers. A Lua
 * array is converted to a Vector that replaces the argument in its stack
 * slot (so the data live as long as the call). Non-numbers raise an
 * error naming the argument and the element. Sets *n.
 */
const double *svL_checkvector(lua_State *L, int arg, size_t *n);
/* A vector of 0/1 outcomes ("element 3 is 2.0, expected 0 or 1"). */
const double *svL_check01(lua_State *L, int arg, size_t *n);
/* A vector of exactly n values, n being the length of y
 * ("has 4 values, y has 5"). */
const double *svL_checklen(lua_State *L, int arg, size_t n);
/* t[k] = v for the table on top of the stack. */
void svL_setnum(lua_State *L, const char *k, double v);
/* Same, or NULL when the argument is absent or nil. */
const double *svL_optvector(lua_State *L, int arg, size_t *n);

/*
 * Matrix argument: a Matrix or a Lua array of rows (arrays of numbers, all
 * the same length). A Lua array is converted to a Matrix in the same slot.
 */
svL_matrix *svL_checkmatrix(lua_State *L, int arg);

/* The one check of a Forest argument (the luaL_checkudata pattern: one
 * checker per userdata type, one wording): "Forest expected" for another
 * type, "forest is closed" after f:close(). */
svL_forest *svL_checkforest(lua_State *L, int arg);
/* Rows for a forest to predict or explain: a Matrix (or array of rows)
 * with the forest's number of columns (any width when it has no rows) and
 * finite values: "X has 3 columns, the forest was trained on 2",
 * "NaN at row 1, column 2". */
svL_matrix *svL_checkforestX(lua_State *L, int arg, const struct sv_forest *f);
/* The trees of the SurvivalForest at arg (bindings/lsurvforest.c: node
 * values are mortalities, so the forest's prediction is the risk), or NULL
 * when arg holds another type; "forest is closed" after f:close(). */
struct sv_forest *svL_testsurvforest(lua_State *L, int arg);
struct sv_survforest;
/* The same SurvivalForest itself (its time grid and leaf curves), or NULL. */
struct sv_survforest *svL_testsurvforest_sf(lua_State *L, int arg);
struct sv_tree;
/* Pushes tree t as f:tree(k) returns it (bindings/lforest.c). */
void svL_pushtree(lua_State *L, const struct sv_tree *t);
/* Raises an argument error at the first NaN or infinite value of m
 * ("NaN at row 1, column 2", "infinite value at row ..."), naming the
 * column when m is the Matrix at arg and has column names
 * ("NaN at row 130, column 1 (age)"). */
void svL_checkfinite(lua_State *L, int arg, const svL_matrix *m);

/*
 * Class or group labels at arg (a Lua array of numbers or strings, or a
 * Vector), n of them ("<what> has 4 values, <against> has 5"). Fills
 * codes[n] with 0..k-1 in sorted label order (numbers ascending, then
 * strings byte-wise; 1 and 1.0 are one label), pushes the array of sorted
 * labels and returns k. NaN labels and mixed types are errors.
 */
int svL_label_codes(lua_State *L, int arg, const char *what, const char *against, size_t n,
                    int *codes);
/*
 * The arguments of the several-class diagnostics: y (argument 1, class
 * labels) and P (argument 2, an n x K Matrix of predicted probabilities or
 * scores, one column per class, finite). With column names, each label of
 * y (integral numbers written as integers) must be one of them; without,
 * the K columns are y's distinct labels in sorted order. Sets *codes (n
 * class codes in column order, kept on the stack) and *K, pushes the
 * array of class labels in column order and returns P.
 */
svL_matrix *svL_checkclasses(lua_State *L, const char *fname, int **codes, int *K);
/* Pushes the matrix's column names array (or nil). */
void svL_matrix_pushnames(lua_State *L, int idx);
/* Sets the names of the matrix at idx from the array on top (popped). */
void svL_matrix_setnames(lua_State *L, int idx);

/*
 * Options table at stack index arg (absent or nil = no options). Raises
 * "unknown option 'treees' to forest.train" for any key not in allowed
 * (a NULL-terminated list), and for a non-string key.
 */
void svL_checkopts(lua_State *L, int arg, const char *fname,
                   const char *const allowed[]);
/* Typed option readers; each raises "bad option 'key' to fname (...)". */
lua_Integer svL_opt_int(lua_State *L, int arg, const char *fname,
                        const char *key, lua_Integer def, lua_Integer lo,
                        lua_Integer hi);
double svL_opt_num(lua_State *L, int arg, const char *fname, const char *key,
                   double def, double lo, double hi);
/* A confidence level: a number strictly between 0 and 1. */
double svL_opt_level(lua_State *L, int arg, const char *fname, const char *key,
                     double def);
/* A number in (0, hi]: "1.5 is out of range (0, 1]". */
double svL_opt_pos(lua_State *L, int arg, const char *fname, const char *key,
                   double def, double hi);
int svL_opt_bool(lua_State *L, int arg, const char *fname, const char *key,
                 int def);
/* One of a NULL-terminated list of strings; returns its index. */
int svL_opt_enum(lua_State *L, int arg, const char *fname, const char *key,
                 int def, const char *const list[]);
/* Pushes the option's value (or nil) and returns its Lua type. */
int svL_opt_get(lua_State *L, int arg, const char *key);
/* Raises "bad option 'key' to fname (msg)". */
int svL_opt_error(lua_State *L, const char *fname, const char *key,
                  const char *msg);

/* The seed option: any integer (negative seeds are reinterpreted as
 * unsigned 64-bit, documented); default 1. */
uint64_t svL_opt_seed(lua_State *L, int arg, const char *fname);

/*
 * Fills an engine context: threads, the progress bar (when enabled by
 * sv.progress and stderr is a terminal), and the Ctrl-C flag.
 */
void svL_ctx(lua_State *L, sv_ctx *ctx, int threads);

/* sv.progress(on): switches the progress bar on or off. */
int svL_progress_set(lua_State *L);

/* Raises a Lua error "fname: message" for a failed engine call. */
int svL_engine_error(lua_State *L, const char *fname, const sv_err *e);

/* The interrupt flag set by the executable's SIGINT handler. */
extern volatile int svL_interrupt_flag;

/* Set in a worker process of sv._validate.map (bindings/lworkers.c): when
 * > 0, every engine context gets this many threads whatever its call asks
 * (the workers already use the cores) and no progress bar. */
extern int svL_worker_threads;
/* Adds map and workers (the worker processes) to the table on top. */
void svL_open_workers(lua_State *L);

/* Registers a submodule: sets sv[name] (table at sv_idx) and
 * package.loaded["sylva." .. name] to the table on top of the stack
 * (popped). */
void svL_register_submodule(lua_State *L, int sv_idx, const char *name);

/* Module openers, one per binding file. */
int luaopen_sylva(lua_State *L);
int svL_open_data(lua_State *L);   /* Vector, Matrix, rng, clock */
int svL_open_csv(lua_State *L);    /* read_csv, Frame */
int svL_open_describe(lua_State *L); /* d:describe() */
int svL_open_xlsx(lua_State *L);     /* write_xlsx */
int svL_open_files(lua_State *L);  /* sha256, sha256_file, write_atomic */
int luaopen_sylva_forest(lua_State *L);
int luaopen_sylva_survforest(lua_State *L);
struct sv_survforest;
/* pushes a SurvivalForest userdata that takes ownership of sf */
void svL_push_survforest(lua_State *L, struct sv_survforest *sf);
int luaopen_sylva_shap(lua_State *L);
int luaopen_sylva_surv(lua_State *L);
int luaopen_sylva_roc(lua_State *L);
int luaopen_sylva_stats(lua_State *L);
int luaopen_sylva_metrics(lua_State *L);
int luaopen_sylva_calib(lua_State *L);
int luaopen_sylva_figure(lua_State *L);
int luaopen_sylva_glm(lua_State *L);
int luaopen_sylva_meta(lua_State *L);
int luaopen_sylva_validate(lua_State *L);
int luaopen_sylva_harmonise(lua_State *L);
int luaopen_sylva_centres(lua_State *L);

#endif
