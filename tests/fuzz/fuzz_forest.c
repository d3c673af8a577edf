/*
 * fuzz_forest.c - libFuzzer harness for the forest model-file loader
 * (sv_forest_load_any_mem in engine/forest_io.c: every kind, survival
 * forests with their leaf curves included).
 *
 * A model file ends in a checksum, so a random mutation is refused at once
 * and would never exercise the parser behind it. Each input is therefore
 * loaded twice: as it is (the header and checksum checks), and "repaired"
 * - magic, version, payload length and trailing FNV-1a hash rewritten to
 * match - so that mutations reach every count, name and tree check.
 * Properties: the loader returns SV_OK or an error with a message, never
 * reads out of bounds or trusts a size; a loaded forest can predict a row
 * (every path ends in a leaf), saving it gives back the same bytes, and
 * TreeSHAP on it either refuses the forest with a message or gives values
 * that add up to the prediction (any tree the loader accepts, however deep:
 * path-dependent and interventional; Algorithm 2 and the interaction values
 * must at least run).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sv_forest.h"
#include "sv_shap.h"
#include "sv_survforest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) __builtin_trap();
}

/* FNV-1a 64-bit, as the format specifies (docs/forest.md). */
static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

/* A loaded survival forest: its CHF at every grid time is finite,
 * non-decreasing and 0 before the first time, and saving it gives back the
 * same bytes. */
static void exercise_surv(sv_survforest *sf, const unsigned char *buf, size_t len)
{
    check(sf->f->kind == SV_TREE_SURVIVAL);
    size_t m = sf->n_times < 64 ? sf->n_times : 64;
    double *x = calloc((size_t)sf->f->n_features, sizeof *x);
    double *t = malloc((m + 1) * sizeof *t), *h = malloc((m + 1) * sizeof *h);
    sv_ctx ctx = {.threads = 1};
    sv_err err;
    if (x && t && h) {
        for (size_t q = 0; q < m; q++) t[q] = sf->times[q];
        t[m] = -INFINITY;
        check(sv_survforest_chf(sf, x, 1, (size_t)sf->f->n_features, t, m + 1, 0, &ctx, h, &err) == SV_OK);
        for (size_t q = 0; q < m; q++) check(!isnan(h[q]) && h[q] >= 0 && (q == 0 || h[q] >= h[q - 1]));
        check(h[m] == 0);
    }
    free(x), free(t), free(h);
    unsigned char *out = NULL;
    size_t out_len = 0;
    static const unsigned char zero4[4] = {0, 0, 0, 0};
    if (memcmp(buf + 12, zero4, 4) == 0 && sv_survforest_save_mem(sf, &out, &out_len, &err) == SV_OK) {
        check(out_len == len && memcmp(out, buf, len) == 0);
        free(out);
    }
    sv_survforest_free(sf);
}

static void exercise(const unsigned char *buf, size_t len)
{
    sv_forest *f = NULL;
    sv_survforest *sf = NULL;
    sv_err err;
    sv_status st = sv_forest_load_any_mem(buf, len, &f, &sf, &err);
    if (st != SV_OK) {
        check(f == NULL && sf == NULL && err.msg[0] != '\0');
        return;
    }
    if (sf) {
        check(f == NULL);
        exercise_surv(sf, buf, len);
        return;
    }
    check(f != NULL && f->n_trees >= 1 && f->n_features >= 1);
    /* Every tree routes a row to a leaf with a value in [0, 1] (a
     * classification forest; regression leaves are any finite number). */
    double *x = calloc((size_t)f->n_features, sizeof *x);
    double *phi = calloc((size_t)f->n_features, sizeof *phi);
    if (x && phi) {
        double pred = 0;
        for (int32_t t = 0; t < f->n_trees; t++) {
            double v = sv_tree_predict_row(&f->trees[t], x);
            check(f->kind != SV_TREE_CLASSIFICATION || (v >= 0 && v <= 1));
            pred += v;
        }
        pred /= f->n_trees;
        /* TreeSHAP of that row (path-dependent, one thread). */
        sv_ctx ctx = {.threads = 1};
        double base = 0;
        sv_err e2;
        if (f->n_features <= 4096 &&
            sv_shap_values(f, x, 1, NULL, &ctx, phi, &base, &e2) == SV_OK) {
            /* additivity up to rounding, which scales with the magnitudes
             * summed: a regression leaf may be any finite number (a fuzzed
             * -6.8e38 leaf gave base -1.1e38 and phi +1.1e38, whose sum
             * cannot keep the 0.9 of the prediction) */
            double sum = base, mag = 1 + fabs(base) + fabs(pred);
            for (int32_t j = 0; j < f->n_features; j++) sum += phi[j], mag += fabs(phi[j]);
            check(fabs(sum - pred) <= 1e-6 * mag);
            /* The other walks over the same trees (each iterative, so a
             * deep tree - corpus entry deep_chain - needs no stack):
             * Algorithm 2 and the interaction values must run; the
             * interventional values against a background row of ones
             * add up to pred - f(ones). */
            sv_shap_opts ref = {.algorithm = SV_SHAP_REFERENCE};
            (void)sv_shap_values(f, x, 1, &ref, &ctx, phi, &base, &e2);
            /* the per-leaf tables, when the paths allow them (else a
             * clear refusal): additive as the linear walk is */
            sv_shap_opts tab = {.algorithm = SV_SHAP_TABLE};
            sv_status ts = sv_shap_values(f, x, 1, &tab, &ctx, phi, &base, &e2);
            check(ts == SV_OK || ts == SV_EINVAL || ts == SV_ENOMEM);
            if (ts == SV_OK) {
                double tsum = base, tmag = 1 + fabs(base) + fabs(pred);
                for (int32_t j = 0; j < f->n_features; j++) tsum += phi[j], tmag += fabs(phi[j]);
                check(fabs(tsum - pred) <= 1e-6 * tmag);
            }
            if (f->n_features <= 64) {
                size_t pp = (size_t)f->n_features * (size_t)f->n_features;
                double *inter = malloc(pp * sizeof *inter);
                if (inter) (void)sv_shap_interactions(f, x, 1, NULL, &ctx, inter, &base, &e2);
                free(inter);
            }
            double *ones = malloc((size_t)f->n_features * sizeof *ones);
            if (ones) {
                for (int32_t j = 0; j < f->n_features; j++) ones[j] = 1.0;
                sv_shap_opts iv = {.background = ones, .n_background = 1};
                if (sv_shap_values(f, x, 1, &iv, &ctx, phi, &base, &e2) == SV_OK) {
                    double pb = 0;
                    for (int32_t t = 0; t < f->n_trees; t++)
                        pb += sv_tree_predict_row(&f->trees[t], ones);
                    pb /= f->n_trees;
                    check(fabs(base - pb) <= 1e-9 * (1 + fabs(pb)));
                    sum = base;
                    mag = 1 + fabs(base) + fabs(pred);
                    for (int32_t j = 0; j < f->n_features; j++) sum += phi[j], mag += fabs(phi[j]);
                    check(fabs(sum - pred) <= 1e-6 * mag);
                }
                free(ones);
            }
        }
    }
    /* A forest of K > 2 classes is explained one class at a time: the
     * last class must run (or be refused with a message). */
    if (x && phi && sv_forest_n_outputs(f) > 1 && f->n_features <= 4096) {
        sv_ctx ctx = {.threads = 1};
        sv_shap_opts co;
        sv_shap_opts_default(&co);
        co.class_index = sv_forest_n_outputs(f) - 1;
        double base = 0;
        sv_err e3;
        if (sv_shap_values(f, x, 1, &co, &ctx, phi, &base, &e3) != SV_OK) check(e3.msg[0] != '\0');
    }
    free(x);
    free(phi);
    /* Saving what was loaded gives the same bytes (bytes 12-15 are a
     * reserved field the loader ignores and the writer sets to 0); a
     * version-1 file is saved as version 2, which loads and saves back to
     * the same bytes. */
    unsigned char *out = NULL;
    size_t out_len = 0;
    static const unsigned char zero4[4] = {0, 0, 0, 0};
    if (memcmp(buf + 12, zero4, 4) == 0 &&
        sv_forest_save_mem(f, &out, &out_len, &err) == SV_OK) {
        if (buf[8] == 2) {
            check(out_len == len && memcmp(out, buf, len) == 0);
        } else {
            sv_forest *g = NULL;
            check(sv_forest_load_mem(out, out_len, &g, &err) == SV_OK);
            unsigned char *again = NULL;
            size_t again_len = 0;
            if (sv_forest_save_mem(g, &again, &again_len, &err) == SV_OK) {
                check(again_len == out_len && memcmp(again, out, out_len) == 0);
                free(again);
            }
            sv_forest_free(g);
        }
        free(out);
    }
    sv_forest_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    exercise(data, size);
    if (size < 32) return 0;
    unsigned char *buf = malloc(size);
    if (!buf) return 0;
    memcpy(buf, data, size);
    memcpy(buf, "SVFOREST", 8);
    buf[8] = data[8] == 2 ? 2 : 1; /* both format versions */
    buf[9] = buf[10] = buf[11] = 0;
    buf[12] = buf[13] = buf[14] = buf[15] = 0;
    put_u64(buf + 16, (uint64_t)(size - 32));
    put_u64(buf + size - 8, fnv1a64(buf, size - 8));
    exercise(buf, size);
    free(buf);
    return 0;
}
