/*
 * test_survforest_io.c - survival forests in the model file
 * (engine/forest_io.c): save -> load gives back a forest whose risk,
 * cumulative hazard and survival are bit-identical to the trained one's
 * (the oracle is the forest in memory), the same bytes when saved again,
 * and the loader refuses damaged files and checksum-valid files whose
 * leaf curves are absurd or disagree with the trees, naming tree and node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_forest.h"
#include "sv_survforest.h"

#define N 150
#define P 3

static double X[N * P], T[N], E[N];

/* a small cohort: hazard rising with x1, censoring one in four */
static void make_data(void)
{
    uint64_t s = 12345;
    for (size_t i = 0; i < N * P; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        X[i] = (double)(s >> 11) / 9007199254740992.0;
    }
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
        T[i] = round(-log(u) / exp(2 * X[i]) * 100) / 10 + 0.1; /* ties on purpose */
        E[i] = (s >> 7) % 4 != 0;
    }
}

static sv_survforest *train(void)
{
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 12;
    o.min_leaf = 3;
    o.seed = 7;
    sv_ctx ctx = {.threads = 1};
    sv_err err;
    sv_survforest *sf = NULL;
    if (sv_survforest_train(X, N, P, T, E, NULL, &o, &ctx, &sf, &err) != SV_OK)
        fail_msg("train failed: %s", err.msg);
    return sf;
}

/* FNV-1a 64-bit, written from the format's description (docs/forest.md) */
static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void reseal(unsigned char *b, size_t len)
{
    uint64_t pl = len - 32;
    for (int k = 0; k < 8; k++) b[16 + k] = (unsigned char)(pl >> (8 * k));
    uint64_t h = fnv(b, len - 8);
    for (int k = 0; k < 8; k++) b[len - 8 + k] = (unsigned char)(h >> (8 * k));
}

static void test_roundtrip_bit_identical(void **state)
{
    (void)state;
    make_data();
    sv_survforest *sf = train();
    unsigned char *buf;
    size_t len;
    sv_err err;
    assert_int_equal(sv_survforest_save_mem(sf, &buf, &len, &err), SV_OK);
    sv_forest *f = NULL;
    sv_survforest *g = NULL;
    assert_int_equal(sv_forest_load_any_mem(buf, len, &f, &g, &err), SV_OK);
    assert_null(f);
    assert_non_null(g);
    assert_int_equal(g->n_times, sf->n_times);
    assert_memory_equal(g->times, sf->times, sf->n_times * sizeof(double));
    sv_ctx ctx = {.threads = 1};
    double *a = malloc(N * sf->n_times * sizeof *a), *b = malloc(N * sf->n_times * sizeof *b);
    for (int surv = 0; surv <= 1; surv++) {
        assert_int_equal(sv_survforest_chf(sf, X, N, P, sf->times, sf->n_times, surv, &ctx, a, &err), SV_OK);
        assert_int_equal(sv_survforest_chf(g, X, N, P, sf->times, sf->n_times, surv, &ctx, b, &err), SV_OK);
        assert_memory_equal(a, b, N * sf->n_times * sizeof *a);
    }
    assert_int_equal(sv_forest_predict(sf->f, X, N, P, &ctx, a, &err), SV_OK);
    assert_int_equal(sv_forest_predict(g->f, X, N, P, &ctx, b, &err), SV_OK);
    assert_memory_equal(a, b, N * sizeof *a);
    free(a);
    free(b);
    unsigned char *buf2;
    size_t len2;
    assert_int_equal(sv_survforest_save_mem(g, &buf2, &len2, &err), SV_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(buf2, buf, len);
    free(buf2);

    /* the classification loader refuses it by name; a classification
     * file still loads through load_any */
    assert_int_equal(sv_forest_load_mem(buf, len, &f, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "survival forest"));
    /* a flipped byte, a truncation */
    sv_survforest *h = NULL;
    buf[len / 2] ^= 1;
    assert_int_equal(sv_forest_load_any_mem(buf, len, &f, &h, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "checksum"));
    buf[len / 2] ^= 1;
    unsigned char *cut = malloc(len);
    memcpy(cut, buf, len);
    memcpy(cut + len - 40, buf + len - 8, 8);
    reseal(cut, len - 32);
    assert_int_equal(sv_forest_load_any_mem(cut, len - 32, &f, &h, &err), SV_EFORMAT);
    if (!strstr(err.msg, "truncated leaf curves")) fail_msg("%s", err.msg);
    free(cut);
    free(buf);
    sv_survforest_free(g);
    sv_survforest_free(sf);
}

/* mutate sf, save (the writer checksums it), expect the loader's refusal */
static void refused(const sv_survforest *sf, const char *want)
{
    unsigned char *buf;
    size_t len;
    sv_err err;
    assert_int_equal(sv_survforest_save_mem(sf, &buf, &len, &err), SV_OK);
    sv_forest *f = NULL;
    sv_survforest *g = NULL;
    sv_status st = sv_forest_load_any_mem(buf, len, &f, &g, &err);
    free(buf);
    if (st != SV_EFORMAT || !strstr(err.msg, want))
        fail_msg("expected refusal '%s', got status %d '%s'", want, (int)st, st ? err.msg : "");
    assert_null(f);
    assert_null(g);
}

static void test_absurd_contents_refused(void **state)
{
    (void)state;
    make_data();
    sv_survforest *sf = train();
    /* tree 2's first leaf with two steps or more */
    const sv_tree *t = &sf->f->trees[1];
    uint32_t *off = sf->leaf_off[1];
    int32_t leaf = -1, inner = -1;
    for (int32_t k = 0; k < t->n_nodes; k++) {
        if (t->left[k] < 0 && off[k + 1] - off[k] >= 2 && leaf < 0) leaf = k;
        if (t->left[k] >= 0 && inner < 0) inner = k;
    }
    assert_true(leaf > 0 && inner >= 0);
    char want[128];
    uint32_t e = off[leaf];
    double *chf = sf->leaf_chf[1];
    uint32_t *lt = sf->leaf_time[1];

    double keep = chf[e];
    chf[e] = NAN;
    snprintf(want, sizeof want, "tree 2, node %d: invalid cumulative hazard", (int)leaf);
    refused(sf, want);
    chf[e] = chf[e + 1]; /* not increasing */
    refused(sf, want);
    chf[e] = keep;

    uint32_t tk = lt[e + 1];
    lt[e + 1] = lt[e]; /* a repeated death time */
    snprintf(want, sizeof want, "tree 2, node %d: invalid death time index", (int)leaf);
    refused(sf, want);
    lt[e + 1] = (uint32_t)sf->n_times; /* off the grid */
    refused(sf, want);
    lt[e + 1] = tk;

    double last = chf[off[leaf + 1] - 1];
    chf[off[leaf + 1] - 1] = last * 1.5; /* a curve that disagrees with the leaf's risk */
    snprintf(want, sizeof want, "tree 2, node %d: mortality", (int)leaf);
    refused(sf, want);
    chf[off[leaf + 1] - 1] = last;

    double v = sf->f->trees[1].value[inner];
    sf->f->trees[1].value[inner] = v * 2 + 1;
    snprintf(want, sizeof want, "tree 2, node %d: mortality", (int)inner);
    refused(sf, want);
    sf->f->trees[1].value[inner] = v;

    off[0] = 1;
    refused(sf, "tree 2: leaf curve offsets do not cover");
    off[0] = 0;
    uint32_t o1 = off[inner + 1];
    off[inner + 1] = off[inner] + 1; /* an internal node with a curve (or decreasing offsets) */
    snprintf(want, sizeof want, "tree 2, node %d:", (int)inner);
    refused(sf, want);
    off[inner + 1] = o1;

    double t1 = sf->times[1];
    sf->times[1] = sf->times[0];
    refused(sf, "survival time grid: time 2 is not finite and increasing");
    sf->times[1] = t1;

    /* restored: loads again */
    unsigned char *buf;
    size_t len;
    sv_err err;
    assert_int_equal(sv_survforest_save_mem(sf, &buf, &len, &err), SV_OK);
    sv_forest *f = NULL;
    sv_survforest *g = NULL;
    assert_int_equal(sv_forest_load_any_mem(buf, len, &f, &g, &err), SV_OK);
    /* the plain forest writer refuses the trees alone */
    unsigned char *b2;
    size_t l2;
    assert_int_equal(sv_forest_save_mem(g->f, &b2, &l2, &err), SV_EINVAL);
    free(buf);
    sv_survforest_free(g);
    sv_survforest_free(sf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_bit_identical),
        cmocka_unit_test(test_absurd_contents_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
