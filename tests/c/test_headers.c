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
#include "sv_sort.h"
#include "sv_stats.h"
#include "sv_surv.h"
#include "sv_tree.h"
#include "sv_validate.h"

static const char *const included[] = {
    "sv_combat.h", "sv_core.h", "sv_csv.h",    "sv_dist.h",  "sv_forest.h", "sv_glm.h", "sv_io.h",
    "sv_meta.h", "sv_metrics.h", "sv_rng.h", "sv_roc.h",   "sv_sha256.h", "sv_shap.h",
    "sv_sort.h", "sv_stats.h",  "sv_surv.h",  "sv_tree.h",   "sv_validate.h", NULL};

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
