/*
 * forest_io.c - the forest's files: the versioned binary model format and
 * the JSON export of api.md (sv_forest.h; layout in docs/forest.md).
 *
 * Binary format, version 2 (written) and 1 (read), every integer and
 * double little-endian (doubles as their IEEE-754 bit pattern):
 *   header   "SVFOREST" | u32 version | u32 0 | u64 payload bytes
 *   payload  u32 n_trees | u32 n_features | training options |
 *            [v2: kinds section] |
 *            n_features x (u32 length | bytes) feature names |
 *            u64 n_train | u32 has_oob | [n_train x n_out f64 OOB] |
 *            n_trees x (u32 n_nodes | [v2: u32 n_values] |
 *                       i32 feature[] | f64 threshold[] |
 *                       i32 left[] | i32 right[] | f64 value[] |
 *                       f64 cover[] | f64 impurity[])
 *   trailer  u64 FNV-1a 64-bit hash of header and payload
 * The kinds section: u32 kind | u32 n_classes | u32 has_labels |
 * [n_classes x (u32 length | bytes) labels | u32 labels_numeric] |
 * n_classes x f64 class weights. value[] holds n_nodes x n_values
 * doubles; n_out (values per OOB row) is n_classes when it is > 2, else 1.
 * A version-1 file is a binary classification forest (kind 0, 2 classes,
 * n_values 1, no labels). A survival forest (kind 2, K 0, n_values 1, the
 * node mortality in value[]) is followed by its survival section: u64
 * n_times | n_times x f64 grid | n_trees x (u32 n_steps | (n_nodes + 1) x
 * u32 offsets | n_steps x u32 grid index | n_steps x f64 cumulative
 * hazard), each leaf's Nelson-Aalen curve (sv_survforest.h); older sylva
 * refuses it as an unknown kind, so the version stays 2.
 * The loader trusts no size in the file: every count is checked against
 * the bytes that remain before anything is allocated, and every tree is
 * checked to be a tree (children ids greater than the parent's and below
 * n_nodes, each node but the root the child of exactly one node, features
 * below n_features, finite numbers, each internal node's cover positive and
 * the sum of its children's to a relative 1e-9).
 */
#include "sv_forest.h"
#include "sv_io.h"
#include "sv_survforest.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOREST_MAGIC "SVFOREST"
#define FOREST_VERSION 2u
#define HEADER_BYTES 24u
#define TRAILER_BYTES 8u
#define NODE_BYTES (4u + 8u + 4u + 4u + 8u + 8u + 8u)
#define MAX_NAME_BYTES 65536u

/* FNV-1a, 64-bit (Fowler, Noll, Vo): simple, and any flipped byte
 * changes the hash. */
static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct wbuf {
    unsigned char *p;
    size_t len, cap;
    int failed;
} wbuf;

static void put_bytes(wbuf *b, const void *src, size_t n)
{
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            if (cap > ((size_t)-1) / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        unsigned char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(wbuf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put_bytes(b, c, 4);
}

static void put_u64(wbuf *b, uint64_t v)
{
    unsigned char c[8];
    for (int k = 0; k < 8; k++) c[k] = (unsigned char)(v >> (8 * k));
    put_bytes(b, c, 8);
}

static void put_f64(wbuf *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(b, v);
}

static void set_u64_at(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

static sv_status save_core(const sv_forest *f, const sv_survforest *sf, unsigned char **buf,
                           size_t *len, sv_err *err)
{
    if (f->kind == SV_TREE_SURVIVAL && !sf)
        return sv_err_set(err, SV_EINVAL,
                          "a survival forest is saved with its leaf curves (sv_survforest_save)");
    wbuf b = {0};
    put_bytes(&b, FOREST_MAGIC, 8);
    put_u32(&b, FOREST_VERSION);
    put_u32(&b, 0);
    put_u64(&b, 0); /* payload length, set below */
    put_u32(&b, (uint32_t)f->n_trees);
    put_u32(&b, (uint32_t)f->n_features);
    const sv_forest_opts *o = &f->opts;
    put_u32(&b, (uint32_t)o->mtry);
    put_u32(&b, (uint32_t)o->min_leaf);
    put_u32(&b, (uint32_t)o->min_split);
    put_u32(&b, (uint32_t)o->max_depth);
    put_u32(&b, (uint32_t)o->criterion);
    put_u32(&b, (uint32_t)o->bootstrap);
    put_f64(&b, o->sample_fraction);
    put_u32(&b, (uint32_t)o->class_weight);
    put_f64(&b, o->class_weights[0]);
    put_f64(&b, o->class_weights[1]);
    put_u64(&b, o->seed);
    /* a forest assembled by hand (calloc) is a binary classifier */
    int32_t K = f->kind == SV_TREE_CLASSIFICATION && f->n_classes < 2 ? 2 : f->n_classes;
    put_u32(&b, (uint32_t)f->kind);
    put_u32(&b, (uint32_t)K);
    put_u32(&b, f->class_labels != NULL && K == f->n_classes);
    if (f->class_labels && K == f->n_classes) {
        for (int32_t k = 0; k < K; k++) {
            size_t n = strlen(f->class_labels[k]);
            if (n > MAX_NAME_BYTES) n = MAX_NAME_BYTES;
            put_u32(&b, (uint32_t)n);
            put_bytes(&b, f->class_labels[k], n);
        }
        put_u32(&b, (uint32_t)f->labels_numeric);
    }
    for (int32_t k = 0; k < K; k++)
        put_f64(&b, f->class_weight_k ? f->class_weight_k[k] : o->class_weights[k < 2 ? k : 1]);
    for (int32_t j = 0; j < f->n_features; j++) {
        const char *s = f->feature_names ? f->feature_names[j] : "";
        size_t n = strlen(s);
        if (n > MAX_NAME_BYTES) n = MAX_NAME_BYTES;
        put_u32(&b, (uint32_t)n);
        put_bytes(&b, s, n);
    }
    put_u64(&b, (uint64_t)f->n_train);
    put_u32(&b, f->oob != NULL);
    if (f->oob)
        for (size_t i = 0; i < f->n_train * (size_t)sv_forest_n_outputs(f); i++)
            put_f64(&b, f->oob[i]);
    for (int32_t t = 0; t < f->n_trees; t++) {
        const sv_tree *tr = &f->trees[t];
        int32_t m = tr->n_nodes;
        put_u32(&b, (uint32_t)m);
        put_u32(&b, (uint32_t)tr->n_values);
        for (int32_t i = 0; i < m; i++) put_u32(&b, (uint32_t)tr->feature[i]);
        for (int32_t i = 0; i < m; i++) put_f64(&b, tr->threshold[i]);
        for (int32_t i = 0; i < m; i++) put_u32(&b, (uint32_t)tr->left[i]);
        for (int32_t i = 0; i < m; i++) put_u32(&b, (uint32_t)tr->right[i]);
        for (size_t i = 0; i < (size_t)m * (size_t)tr->n_values; i++) put_f64(&b, tr->value[i]);
        for (int32_t i = 0; i < m; i++) put_f64(&b, tr->cover[i]);
        for (int32_t i = 0; i < m; i++) put_f64(&b, tr->impurity[i]);
    }
    if (f->kind == SV_TREE_SURVIVAL) {
        put_u64(&b, (uint64_t)sf->n_times);
        for (size_t g = 0; g < sf->n_times; g++) put_f64(&b, sf->times[g]);
        for (int32_t t = 0; t < f->n_trees; t++) {
            int32_t m = f->trees[t].n_nodes;
            const uint32_t *off = sf->leaf_off[t];
            put_u32(&b, off[m]);
            for (int32_t k = 0; k <= m; k++) put_u32(&b, off[k]);
            for (uint32_t e = 0; e < off[m]; e++) put_u32(&b, sf->leaf_time[t][e]);
            for (uint32_t e = 0; e < off[m]; e++) put_f64(&b, sf->leaf_chf[t][e]);
        }
    }
    if (!b.failed) {
        set_u64_at(b.p + 16, (uint64_t)(b.len - HEADER_BYTES));
        put_u64(&b, fnv1a64(b.p, b.len));
    }
    if (b.failed) {
        free(b.p);
        return sv_err_set(err, SV_ENOMEM, "out of memory serialising the forest");
    }
    *buf = b.p;
    *len = b.len;
    return SV_OK;
}

sv_status sv_forest_save_mem(const sv_forest *f, unsigned char **buf, size_t *len, sv_err *err)
{
    return save_core(f, NULL, buf, len, err);
}

sv_status sv_survforest_save_mem(const sv_survforest *sf, unsigned char **buf, size_t *len,
                                 sv_err *err)
{
    return save_core(sf->f, sf, buf, len, err);
}

static sv_status write_file(const unsigned char *buf, size_t len, const char *path, sv_err *err);

sv_status sv_forest_save(const sv_forest *f, const char *path, sv_err *err)
{
    unsigned char *buf;
    size_t len;
    sv_status st = sv_forest_save_mem(f, &buf, &len, err);
    if (st != SV_OK) return st;
    st = write_file(buf, len, path, err);
    free(buf);
    return st;
}

sv_status sv_survforest_save(const sv_survforest *sf, const char *path, sv_err *err)
{
    unsigned char *buf;
    size_t len;
    sv_status st = sv_survforest_save_mem(sf, &buf, &len, err);
    if (st != SV_OK) return st;
    st = write_file(buf, len, path, err);
    free(buf);
    return st;
}

static sv_status write_file(const unsigned char *buf, size_t len, const char *path, sv_err *err)
{
    sv_status st;
    sv_atomic_file af;
    st = sv_atomic_open(&af, path, err);
    if (st != SV_OK) return st;
    if (fwrite(buf, 1, len, af.fp) != len) {
        int e = errno;
        sv_atomic_abort(&af);
        return sv_err_set(err, SV_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    return sv_atomic_commit(&af, err);
}

/* ---- reading -------------------------------------------------------------- */

typedef struct rbuf {
    const unsigned char *p;
    size_t len, pos;
} rbuf;

static int need(const rbuf *r, size_t n)
{
    return n <= r->len - r->pos;
}

static uint32_t get_u32(rbuf *r)
{
    const unsigned char *c = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
}

static uint64_t get_u64(rbuf *r)
{
    const unsigned char *c = r->p + r->pos;
    r->pos += 8;
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) v = v << 8 | c[k];
    return v;
}

static double get_f64(rbuf *r)
{
    uint64_t v = get_u64(r);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

#define BAD(...) do { st = sv_err_set(err, SV_EFORMAT, __VA_ARGS__); goto fail; } while (0)

static sv_status check_tree(const sv_tree *t, int32_t p, int32_t k, uint8_t *refs, sv_err *err)
{
    int32_t m = t->n_nodes;
    memset(refs, 0, (size_t)m);
    for (size_t i = 0; i < (size_t)m * (size_t)t->n_values; i++)
        if (!isfinite(t->value[i]) ||
            (t->kind == SV_TREE_CLASSIFICATION && (t->value[i] < 0 || t->value[i] > 1)))
            return sv_err_set(err, SV_EFORMAT, "tree %d, node %d: invalid value", (int)k + 1,
                              (int)(i / (size_t)t->n_values));
    for (int32_t i = 0; i < m; i++) {
        if (!isfinite(t->cover[i]) || t->cover[i] < 0 || !isfinite(t->impurity[i]) ||
            t->impurity[i] < 0 || !isfinite(t->threshold[i]))
            return sv_err_set(err, SV_EFORMAT, "tree %d, node %d: invalid number", (int)k + 1, (int)i);
        if (t->left[i] == -1) {
            if (t->right[i] != -1 || t->feature[i] != -1)
                return sv_err_set(err, SV_EFORMAT, "tree %d, node %d: malformed leaf", (int)k + 1, (int)i);
            continue;
        }
        int32_t l = t->left[i], r = t->right[i];
        if (t->feature[i] < 0 || t->feature[i] >= p)
            return sv_err_set(err, SV_EFORMAT, "tree %d, node %d: feature %d out of range",
                              (int)k + 1, (int)i, (int)t->feature[i]);
        if (l <= i || r <= i || l >= m || r >= m || l == r)
            return sv_err_set(err, SV_EFORMAT, "tree %d, node %d: invalid children %d, %d",
                              (int)k + 1, (int)i, (int)l, (int)r);
        /* A node's cover is the weighted count of its samples, so it is
         * the sum of its children's (trained forests agree to ~1e-16).
         * TreeSHAP divides by it: an inconsistent cover (a crafted or
         * re-checksummed file) would give NaN values, not an error. */
        if (!(t->cover[i] > 0) ||
            !(fabs(t->cover[l] + t->cover[r] - t->cover[i]) <= 1e-9 * t->cover[i]))
            return sv_err_set(err, SV_EFORMAT,
                              "tree %d, node %d: cover %.17g is not the sum of its children's",
                              (int)k + 1, (int)i, t->cover[i]);
        if (refs[l]++ || refs[r]++)
            return sv_err_set(err, SV_EFORMAT, "tree %d: node %d has two parents",
                              (int)k + 1, (int)(refs[l] > 1 ? l : r));
    }
    for (int32_t i = 1; i < m; i++)
        if (!refs[i])
            return sv_err_set(err, SV_EFORMAT, "tree %d: node %d is unreachable", (int)k + 1, (int)i);
    return SV_OK;
}

/* The survival section of tree k: its leaf curves, checked against the
 * tree (curves only at leaves, grid indexes strictly increasing and on the
 * grid, cumulative hazards finite, positive and increasing) and against
 * the leaf's payload (its mortality, the sum of its curve over the grid,
 * to a relative 1e-9; an internal node's the cover-weighted mean of its
 * children's): a checksum-valid file whose curves disagree with its
 * values would give two different risks. */
static sv_status read_leaf_curves(rbuf *r, sv_survforest *sf, uint32_t k, sv_err *err)
{
    sv_tree *t = &sf->f->trees[k];
    uint32_t m = (uint32_t)t->n_nodes;
    size_t K = sf->n_times;
    if (!need(r, 4)) return sv_err_set(err, SV_EFORMAT, "tree %u: truncated leaf curves", k + 1);
    uint32_t ne = get_u32(r);
    if ((uint64_t)(m + 1) * 4 + (uint64_t)ne * 12 > r->len - r->pos)
        return sv_err_set(err, SV_EFORMAT, "tree %u: truncated leaf curves (%u steps)", k + 1, ne);
    uint32_t *off = malloc(((size_t)m + 1) * sizeof *off);
    uint32_t *lt = malloc((ne ? ne : 1) * sizeof *lt);
    double *lc = malloc((ne ? ne : 1) * sizeof *lc);
    sf->leaf_off[k] = off, sf->leaf_time[k] = lt, sf->leaf_chf[k] = lc;
    if (!off || !lt || !lc) return sv_err_set(err, SV_ENOMEM, "out of memory");
    for (uint32_t i = 0; i <= m; i++) off[i] = get_u32(r);
    for (uint32_t e = 0; e < ne; e++) lt[e] = get_u32(r);
    for (uint32_t e = 0; e < ne; e++) lc[e] = get_f64(r);
    if (off[0] != 0 || off[m] != ne)
        return sv_err_set(err, SV_EFORMAT, "tree %u: leaf curve offsets do not cover its %u steps",
                          k + 1, ne);
    for (uint32_t i = 0; i < m; i++) {
        if (off[i + 1] < off[i])
            return sv_err_set(err, SV_EFORMAT, "tree %u, node %u: leaf curve offsets decrease",
                              k + 1, i);
        if (t->left[i] >= 0) {
            if (off[i + 1] != off[i])
                return sv_err_set(err, SV_EFORMAT, "tree %u, node %u: an internal node with a curve",
                                  k + 1, i);
            continue;
        }
        double prev = 0, mort = 0;
        for (uint32_t e = off[i]; e < off[i + 1]; e++) {
            if (lt[e] >= K || (e > off[i] && lt[e] <= lt[e - 1]))
                return sv_err_set(err, SV_EFORMAT, "tree %u, node %u: invalid death time index %u",
                                  k + 1, i, lt[e]);
            if (!isfinite(lc[e]) || !(lc[e] > prev))
                return sv_err_set(err, SV_EFORMAT, "tree %u, node %u: invalid cumulative hazard %.17g",
                                  k + 1, i, lc[e]);
            mort += (lc[e] - prev) * (double)(K - lt[e]);
            prev = lc[e];
        }
        if (!(fabs(mort - t->value[i]) <= 1e-9 * fmax(1.0, fabs(mort))))
            return sv_err_set(err, SV_EFORMAT,
                              "tree %u, node %u: mortality %.17g disagrees with its curve (%.17g)",
                              k + 1, i, t->value[i], mort);
    }
    for (uint32_t i = 0; i < m; i++) {
        if (t->left[i] < 0) continue;
        int32_t l = t->left[i], rr = t->right[i];
        double want = (t->cover[l] * t->value[l] + t->cover[rr] * t->value[rr]) /
                      (t->cover[l] + t->cover[rr]);
        if (!(fabs(want - t->value[i]) <= 1e-9 * fmax(1.0, fabs(want))))
            return sv_err_set(err, SV_EFORMAT,
                              "tree %u, node %u: mortality %.17g is not its children's mean",
                              k + 1, i, t->value[i]);
    }
    return SV_OK;
}

static sv_status load_core(const unsigned char *buf, size_t len, sv_forest **out,
                           sv_survforest **sfout, sv_err *err)
{
    *out = NULL;
    if (sfout) *sfout = NULL;
    sv_status st = SV_OK;
    sv_forest *f = NULL;
    sv_survforest *sf = NULL;
    uint8_t *refs = NULL;
    if (len < HEADER_BYTES + TRAILER_BYTES || memcmp(buf, FOREST_MAGIC, 8) != 0)
        return sv_err_set(err, SV_EFORMAT, "not a sylva forest file");
    rbuf r = {buf, len, 8};
    uint32_t version = get_u32(&r);
    if (version != 1 && version != FOREST_VERSION)
        return sv_err_set(err, SV_EFORMAT, "unsupported format version %u (this sylva reads versions 1 to %u)",
                          version, FOREST_VERSION);
    (void)get_u32(&r);
    uint64_t payload = get_u64(&r);
    if (payload != len - HEADER_BYTES - TRAILER_BYTES)
        return sv_err_set(err, SV_EFORMAT, "truncated or padded: %zu bytes, the header announces %llu",
                          len, (unsigned long long)(payload + HEADER_BYTES + TRAILER_BYTES));
    rbuf tr = {buf, len, len - TRAILER_BYTES};
    if (get_u64(&tr) != fnv1a64(buf, len - TRAILER_BYTES))
        return sv_err_set(err, SV_EFORMAT, "checksum mismatch: the file is damaged");
    r.len = len - TRAILER_BYTES;

    f = calloc(1, sizeof *f);
    if (!f) return sv_err_set(err, SV_ENOMEM, "out of memory");
    if (!need(&r, 8 + 6 * 4 + 8 + 4 + 3 * 8)) BAD("truncated header");
    uint32_t nt = get_u32(&r), p = get_u32(&r);
    if (nt < 1 || nt > 0x7fffffffu) BAD("invalid number of trees %u", nt);
    if (p < 1 || p > 0x7fffffffu) BAD("invalid number of features %u", p);
    sv_forest_opts *o = &f->opts;
    o->n_trees = (int32_t)nt;
    o->mtry = (int32_t)get_u32(&r);
    o->min_leaf = (int32_t)get_u32(&r);
    o->min_split = (int32_t)get_u32(&r);
    o->max_depth = (int32_t)get_u32(&r);
    uint32_t crit = get_u32(&r), boot = get_u32(&r);
    o->sample_fraction = get_f64(&r);
    uint32_t cw = get_u32(&r);
    o->class_weights[0] = get_f64(&r);
    o->class_weights[1] = get_f64(&r);
    o->seed = get_u64(&r);
    if (crit > 2 || boot > 1 || cw > 2) BAD("invalid training options");
    o->criterion = (sv_forest_criterion)crit;
    o->bootstrap = (int)boot;
    o->class_weight = (sv_forest_class_weight)cw;
    {
        /* the checker training uses: a checksum-valid file with absurd
         * options (mtry -7, a NaN sample fraction) is refused */
        sv_err oe;
        if (sv_forest_check_opts(o, p, 1, &oe) != SV_OK)
            BAD("invalid training options: %s", oe.msg);
    }

    f->kind = SV_TREE_CLASSIFICATION;
    f->n_classes = 2;
    if (version >= 2) {
        if (!need(&r, 12)) BAD("truncated kinds section");
        uint32_t kind = get_u32(&r), K = get_u32(&r), has_labels = get_u32(&r);
        if (kind != SV_TREE_CLASSIFICATION && kind != SV_TREE_REGRESSION && kind != SV_TREE_SURVIVAL)
            BAD("unknown forest kind %u", kind);
        if (kind == SV_TREE_SURVIVAL && !sfout)
            BAD("a survival forest (load it with sv_survforest_load)");
        if (kind == SV_TREE_CLASSIFICATION ? (K < 2 || K > SV_FOREST_MAX_CLASSES) : K != 0)
            BAD("invalid number of classes %u", K);
        if (has_labels > 1 || (has_labels && K == 0)) BAD("invalid class labels");
        f->kind = (int32_t)kind;
        f->n_classes = (int32_t)K;
        if (has_labels) {
            f->class_labels = calloc(K, sizeof *f->class_labels);
            if (!f->class_labels) {
                st = sv_err_set(err, SV_ENOMEM, "out of memory");
                goto fail;
            }
            for (uint32_t c = 0; c < K; c++) {
                if (!need(&r, 4)) BAD("truncated class labels");
                uint32_t n = get_u32(&r);
                if (n > MAX_NAME_BYTES || !need(&r, n)) BAD("invalid class label %u", c + 1);
                if (memchr(r.p + r.pos, 0, n)) BAD("class label %u holds a NUL byte", c + 1);
                f->class_labels[c] = malloc((size_t)n + 1);
                if (!f->class_labels[c]) {
                    st = sv_err_set(err, SV_ENOMEM, "out of memory");
                    goto fail;
                }
                memcpy(f->class_labels[c], r.p + r.pos, n);
                f->class_labels[c][n] = '\0';
                r.pos += n;
            }
            if (!need(&r, 4)) BAD("truncated class labels");
            uint32_t num = get_u32(&r);
            if (num > 1) BAD("invalid class labels");
            f->labels_numeric = (int)num;
        }
        if ((uint64_t)K * 8 > r.len - r.pos) BAD("truncated class weights");
        if (K > 0) {
            f->class_weight_k = malloc(K * sizeof *f->class_weight_k);
            if (!f->class_weight_k) {
                st = sv_err_set(err, SV_ENOMEM, "out of memory");
                goto fail;
            }
        }
        for (uint32_t c = 0; c < K; c++) {
            double w = get_f64(&r);
            if (!(w > 0 && isfinite(w))) BAD("invalid class weight %u", c + 1);
            f->class_weight_k[c] = w;
        }
    }
    const size_t nout = (size_t)sv_forest_n_outputs(f);
    const uint32_t nval = (uint32_t)nout;

    /* every feature name takes at least 4 bytes, every tree 4 + NODE_BYTES */
    if ((uint64_t)p * 4 > r.len - r.pos) BAD("truncated feature names");
    f->n_features = (int32_t)p;
    f->feature_names = calloc(p, sizeof *f->feature_names);
    if (!f->feature_names) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t j = 0; j < p; j++) {
        if (!need(&r, 4)) BAD("truncated feature names");
        uint32_t n = get_u32(&r);
        if (n > MAX_NAME_BYTES || !need(&r, n)) BAD("invalid feature name %u", j + 1);
        if (memchr(r.p + r.pos, 0, n)) BAD("feature name %u holds a NUL byte", j + 1);
        f->feature_names[j] = malloc((size_t)n + 1);
        if (!f->feature_names[j]) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(f->feature_names[j], r.p + r.pos, n);
        f->feature_names[j][n] = '\0';
        r.pos += n;
    }
    if (!need(&r, 12)) BAD("truncated OOB section");
    uint64_t ntrain = get_u64(&r);
    uint32_t has_oob = get_u32(&r);
    if (has_oob > 1 || ntrain > (uint64_t)0x7fffffffu) BAD("invalid OOB section");
    f->n_train = (size_t)ntrain;
    if (has_oob) {
        if (ntrain > (r.len - r.pos) / 8 / nout) BAD("truncated OOB section");
        f->oob = malloc((size_t)(ntrain ? ntrain * nout : 1) * sizeof *f->oob);
        if (!f->oob) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory");
            goto fail;
        }
        for (uint64_t i = 0; i < ntrain * nout; i++) {
            double v = get_f64(&r);
            if (!(isnan(v) || (f->kind == SV_TREE_CLASSIFICATION ? (v >= 0 && v <= 1) : isfinite(v))))
                BAD("invalid OOB prediction at row %llu", (unsigned long long)(i % ntrain) + 1);
            f->oob[i] = v;
        }
    }
    if ((uint64_t)nt * (4 + NODE_BYTES) > r.len - r.pos) BAD("truncated trees");
    f->trees = calloc(nt, sizeof *f->trees);
    if (!f->trees) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory");
        goto fail;
    }
    f->n_trees = (int32_t)nt;
    size_t max_nodes = 0;
    for (uint32_t k = 0; k < nt; k++) {
        if (!need(&r, 4)) BAD("truncated tree %u", k + 1);
        uint32_t m = get_u32(&r);
        if (version >= 2) {
            if (!need(&r, 4)) BAD("truncated tree %u", k + 1);
            if (get_u32(&r) != nval) BAD("tree %u: wrong number of values per node", k + 1);
        }
        if (m < 1 || m > 0x7fffffffu ||
            (uint64_t)m * (NODE_BYTES + 8 * (uint64_t)(nval - 1)) > r.len - r.pos)
            BAD("tree %u: invalid or truncated node count %u", k + 1, m);
        sv_tree *t = &f->trees[k];
        if (sv_tree_alloc_kind(t, (int32_t)m, f->kind, (int32_t)nval) != 0) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory");
            goto fail;
        }
        for (uint32_t i = 0; i < m; i++) t->feature[i] = (int32_t)get_u32(&r);
        for (uint32_t i = 0; i < m; i++) t->threshold[i] = get_f64(&r);
        for (uint32_t i = 0; i < m; i++) t->left[i] = (int32_t)get_u32(&r);
        for (uint32_t i = 0; i < m; i++) t->right[i] = (int32_t)get_u32(&r);
        for (size_t i = 0; i < (size_t)m * nval; i++) t->value[i] = get_f64(&r);
        for (uint32_t i = 0; i < m; i++) t->cover[i] = get_f64(&r);
        for (uint32_t i = 0; i < m; i++) t->impurity[i] = get_f64(&r);
        if (m > max_nodes) {
            free(refs);
            refs = malloc(m);
            max_nodes = m;
            if (!refs) {
                st = sv_err_set(err, SV_ENOMEM, "out of memory");
                goto fail;
            }
        }
        st = check_tree(t, (int32_t)p, (int32_t)k, refs, err);
        if (st != SV_OK) goto fail;
    }
    if (f->kind == SV_TREE_SURVIVAL) {
        if (!need(&r, 8)) BAD("truncated survival section");
        uint64_t K = get_u64(&r);
        if (K > (r.len - r.pos) / 8) BAD("truncated survival time grid (%llu times)", (unsigned long long)K);
        sf = calloc(1, sizeof *sf);
        if (!sf) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory");
            goto fail;
        }
        sf->f = f;
        sf->n_times = (size_t)K;
        sf->times = malloc((K ? K : 1) * sizeof *sf->times);
        sf->leaf_off = calloc(nt, sizeof *sf->leaf_off);
        sf->leaf_time = calloc(nt, sizeof *sf->leaf_time);
        sf->leaf_chf = calloc(nt, sizeof *sf->leaf_chf);
        if (!sf->times || !sf->leaf_off || !sf->leaf_time || !sf->leaf_chf) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory");
            goto fail;
        }
        for (uint64_t g = 0; g < K; g++) {
            sf->times[g] = get_f64(&r);
            if (!isfinite(sf->times[g]) || (g > 0 && !(sf->times[g] > sf->times[g - 1])))
                BAD("survival time grid: time %llu is not finite and increasing",
                    (unsigned long long)g + 1);
        }
        for (uint32_t k = 0; k < nt; k++) {
            st = read_leaf_curves(&r, sf, k, err);
            if (st != SV_OK) goto fail;
        }
    }
    if (r.pos != r.len) BAD("%zu unexpected bytes after the trees", r.len - r.pos);
    st = sv_forest_pack(f, err);
    if (st != SV_OK) goto fail;
    free(refs);
    *out = f;
    if (sfout) *sfout = sf;
    return SV_OK;

fail:
    free(refs);
    if (sf) sv_survforest_free(sf); /* frees f too */
    else sv_forest_free(f);
    return st;
}

sv_status sv_forest_load_mem(const unsigned char *buf, size_t len, sv_forest **out, sv_err *err)
{
    return load_core(buf, len, out, NULL, err);
}

sv_status sv_forest_load_any_mem(const unsigned char *buf, size_t len, sv_forest **out,
                                 sv_survforest **sf, sv_err *err)
{
    sv_status st = load_core(buf, len, out, sf, err);
    if (st == SV_OK && *sf) *out = NULL; /* owned by *sf */
    return st;
}

static sv_status load_file(const char *path, sv_forest **out, sv_survforest **sfout, sv_err *err)
{
    *out = NULL;
    if (sfout) *sfout = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return sv_err_set(err, SV_EIO, "cannot open '%s': %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) {
                free(buf);
                fclose(fp);
                return sv_err_set(err, SV_ENOMEM, "out of memory reading '%s'", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(fp);
    int e = errno;
    fclose(fp);
    if (bad) {
        free(buf);
        return sv_err_set(err, SV_EIO, "cannot read '%s': %s", path, strerror(e));
    }
    sv_err inner;
    sv_status st = sfout ? sv_forest_load_any_mem(buf, len, out, sfout, &inner)
                         : sv_forest_load_mem(buf, len, out, &inner);
    free(buf);
    if (st != SV_OK)
        return sv_err_set(err, st, "'%s' refused: %s", path, inner.msg);
    return SV_OK;
}

sv_status sv_forest_load(const char *path, sv_forest **out, sv_err *err)
{
    return load_file(path, out, NULL, err);
}

sv_status sv_forest_load_any(const char *path, sv_forest **out, sv_survforest **sf, sv_err *err)
{
    return load_file(path, out, sf, err);
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(fp, "\\%c", *c);
        else if (*c < 0x20) fprintf(fp, "\\u%04x", *c);
        else fputc(*c, fp);
    }
    fputc('"', fp);
}

static void json_ints(FILE *fp, const char *key, const int32_t *v, int32_t n)
{
    fprintf(fp, "\"%s\":[", key);
    for (int32_t i = 0; i < n; i++) fprintf(fp, i ? ",%d" : "%d", (int)v[i]);
    fputc(']', fp);
}

static void json_doubles(FILE *fp, const char *key, const double *v, int32_t n)
{
    fprintf(fp, "\"%s\":[", key);
    for (int32_t i = 0; i < n; i++) fprintf(fp, i ? ",%.17g" : "%.17g", v[i]);
    fputc(']', fp);
}

sv_status sv_forest_export_json(const sv_forest *f, const char *path,
                                sv_err *err)
{
    sv_atomic_file af;
    sv_status st = sv_atomic_open(&af, path, err);
    if (st != SV_OK) return st;
    FILE *fp = af.fp;
    static const char *const kinds[] = {"classification", "regression", "survival"};
    fprintf(fp, "{\"format\":\"sylva-forest\",\"version\":2,\"kind\":\"%s\",",
            kinds[f->kind >= 0 && f->kind <= 2 ? f->kind : 0]);
    if (f->kind == SV_TREE_CLASSIFICATION) {
        fprintf(fp, "\"classes\":[");
        for (int32_t k = 0; k < f->n_classes; k++) {
            if (k) fputc(',', fp);
            if (!f->class_labels) fprintf(fp, "%d", (int)k);
            else if (f->labels_numeric) fputs(f->class_labels[k], fp);
            else json_string(fp, f->class_labels[k]);
        }
        fprintf(fp, "],");
    }
    fprintf(fp, "\"feature_names\":[");
    for (int32_t j = 0; j < f->n_features; j++) {
        if (j) fputc(',', fp);
        char buf[32];
        snprintf(buf, sizeof buf, "V%d", (int)j + 1);
        json_string(fp, f->feature_names ? f->feature_names[j] : buf);
    }
    fprintf(fp, "],\"trees\":[");
    for (int32_t t = 0; t < f->n_trees; t++) {
        const sv_tree *tr = &f->trees[t];
        fprintf(fp, t ? ",\n{" : "\n{");
        json_ints(fp, "feature", tr->feature, tr->n_nodes);
        fputc(',', fp);
        json_doubles(fp, "threshold", tr->threshold, tr->n_nodes);
        fputc(',', fp);
        json_ints(fp, "left", tr->left, tr->n_nodes);
        fputc(',', fp);
        json_ints(fp, "right", tr->right, tr->n_nodes);
        fputc(',', fp);
        if (tr->n_values == 1) {
            json_doubles(fp, "value", tr->value, tr->n_nodes);
        } else {
            fprintf(fp, "\"value\":[");
            for (int32_t i = 0; i < tr->n_nodes; i++) {
                fputs(i ? ",[" : "[", fp);
                for (int32_t c = 0; c < tr->n_values; c++)
                    fprintf(fp, c ? ",%.17g" : "%.17g", tr->value[(size_t)i * (size_t)tr->n_values + (size_t)c]);
                fputc(']', fp);
            }
            fputc(']', fp);
        }
        fputc(',', fp);
        json_doubles(fp, "cover", tr->cover, tr->n_nodes);
        fputc('}', fp);
    }
    fprintf(fp, "]}\n");
    return sv_atomic_commit(&af, err);
}
