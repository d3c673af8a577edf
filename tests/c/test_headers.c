/*
 * test_headers.c - every engine header in one translation unit, so that
 * no two of them can declare the same name differently (as sv_stats.h and
 * sv_surv.h once did with sv_p_adjust), and a check that this file keeps
 * up: every engine/sv_*.h on disk must be in the list below. A new header
 * is added to both the #include lines and `included`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_combat.h"
#include "sv_core.h"
#include "sv_csv.h"
#include "sv_dist.h"
#include "sv_forest.h"
#include "sv_glm.h"
#include "sv_io.h"
#include "sv_meta.h"
#include "sv_metrics.h"
#include "sv_rng.h"
#include "sv_roc.h"
#include "sv_sha256.h"
#include "sv_shap.h"
#include "sv_shift.h"
#include "sv_sort.h"
#include "sv_stats.h"
#include "sv_surv.h"
#include "sv_survforest.h"
#include "sv_tree.h"
#include "sv_validate.h"
#include "sv_xlsx.h"

/* one per line, sorted, so that headers added on branches merge cleanly */
static const char *const included[] = {
    "sv_combat.h",
    "sv_core.h",
    "sv_csv.h",
    "sv_dist.h",
    "sv_forest.h",
    "sv_glm.h",
    "sv_io.h",
    "sv_meta.h",
    "sv_metrics.h",
    "sv_rng.h",
    "sv_roc.h",
    "sv_sha256.h",
    "sv_shap.h",
    "sv_shift.h",
    "sv_sort.h",
    "sv_stats.h",
    "sv_surv.h",
    "sv_survforest.h",
    "sv_tree.h",
    "sv_validate.h",
    "sv_xlsx.h",
    NULL};

static int is_included(const char *name)
{
    for (int i = 0; included[i]; i++)
        if (strcmp(included[i], name) == 0) return 1;
    return 0;
}

static void test_every_header_is_included(void **state)
{
    (void)state;
    const char *root = getenv("SYLVA_ROOT");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/engine", root ? root : ".");
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot list %s", dir);
    int seen = 0, missing = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strncmp(e->d_name, "sv_", 3) != 0 || strcmp(e->d_name + len - 2, ".h") != 0)
            continue;
        seen++;
        if (!is_included(e->d_name)) {
            print_error("engine/%s is not included by tests/c/test_headers.c\n", e->d_name);
            missing++;
        }
    }
    closedir(d);
    assert_int_equal(missing, 0);
    assert_true(seen >= 14);
}

/* Reads $SYLVA_ROOT/engine/<name> into a malloc'd string. */
static char *read_header(const char *name)
{
    const char *root = getenv("SYLVA_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/engine/%s", root ? root : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    if (fread(s, 1, (size_t)len, f) != (size_t)len) fail_msg("cannot read %s", path);
    s[len] = 0;
    fclose(f);
    return s;
}

/*
 * The options convention (docs/internals.md): every options struct
 * `typedef struct sv_X_opts { ... } sv_X_opts;` (or sv_X_wopts) of an
 * engine header comes with `sv_X_opts_default(` in the same header, and
 * none carries the context (an sv_ctx field): the context is a parameter.
 */
static void test_every_opts_struct_has_a_default(void **state)
{
    (void)state;
    int structs = 0, bad = 0;
    for (int h = 0; included[h]; h++) {
        char *s = read_header(included[h]);
        for (char *p = strstr(s, "typedef struct sv_"); p; p = strstr(p + 1, "typedef struct sv_")) {
            char name[128];
            if (sscanf(p, "typedef struct %127[A-Za-z0-9_]", name) != 1) continue;
            size_t len = strlen(name);
            if (len < 5 || strcmp(name + len - 5, "_opts") != 0) continue;
            structs++;
            char want[160];
            snprintf(want, sizeof want, "void %s_default(", name);
            if (!strstr(s, want)) {
                print_error("engine/%s: %s has no %s_default()\n", included[h], name, name);
                bad++;
            }
            char close[160];
            snprintf(close, sizeof close, "} %s;", name);
            char *end = strstr(p, close);
            char *ctx = strstr(p, "sv_ctx");
            if (end && ctx && ctx < end) {
                print_error("engine/%s: %s carries an sv_ctx; pass the context as a parameter\n",
                            included[h], name);
                bad++;
            }
        }
        free(s);
    }
    assert_int_equal(bad, 0);
    assert_true(structs >= 10);
}

/* The one p-value adjustment is reachable under one name with every
 * header in scope (it used to be an enum in sv_surv.h). */
static void test_one_p_adjust(void **state)
{
    (void)state;
    const double p[3] = {0.01, 0.04, 0.03};
    double out[3];
    sv_err e;
    assert_int_equal(sv_p_adjust(p, 3, SV_PADJ_BONFERRONI, out, &e), SV_OK);
    assert_true(out[0] == 0.03 && out[1] == 0.12 && out[2] == 0.09);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_header_is_included),
        cmocka_unit_test(test_one_p_adjust),
        cmocka_unit_test(test_every_opts_struct_has_a_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
