/*
 * fixture.h - reading the committed R/Python fixtures from the C tests:
 * a data set (tests/fixtures/data/<name>.csv, columns by name) and the
 * key,value scalars files the oracle scripts write (NA reads as NaN).
 * Paths are relative to $SYLVA_ROOT (ctest sets it), else ".".
 * Header-only: each test file includes it once.
 */
#ifndef SV_TEST_FIXTURE_H
#define SV_TEST_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_csv.h"

/* Reads $SYLVA_ROOT/<rel> into *t; fails the test if it cannot. */
static void fx_read(const char *rel, sv_csv_table *t)
{
    const char *root = getenv("SYLVA_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    sv_err e;
    if (sv_csv_read(path, &o, NULL, t, &e) != SV_OK) fail_msg("%s: %s", path, e.msg);
}

/* The numeric column `name` of t. */
static const double *fx_col(const sv_csv_table *t, const char *name)
{
    for (size_t j = 0; j < t->ncol; j++)
        if (strcmp(t->cols[j].name, name) == 0) {
            if (t->cols[j].type != SV_CSV_NUMERIC) fail_msg("column %s is not numeric", name);
            return t->cols[j].num;
        }
    fail_msg("no column %s", name);
    return NULL;
}

/* The value of `key` in a key,value table (the oracle's scalars). */
static double fx_scalar(const sv_csv_table *t, const char *key)
{
    const double *v = fx_col(t, "value");
    for (size_t i = 0; i < t->nrow; i++) {
        size_t len;
        const char *k = sv_csv_text(t, 0, i, &len);
        if (k && len == strlen(key) && memcmp(k, key, len) == 0) return v[i];
    }
    fail_msg("no key %s", key);
    return NAN;
}

/* |got - want| <= tol |want| (<= tol when want is 0). */
static void fx_rel(double got, double want, double tol, const char *what)
{
    double d = fabs(got - want);
    double bound = want == 0 ? tol : tol * fabs(want);
    if (!(d <= bound)) fail_msg("%s: got %.17g, want %.17g (rel %.3g)", what, got, want,
                                want == 0 ? d : d / fabs(want));
}

#endif
