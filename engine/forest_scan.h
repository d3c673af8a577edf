/*
 * forest_scan.h - the generic split search over one feature in one node,
 * instantiated by each splitter (see forest_grow.h). Not include-guarded:
 * include it once per instance after defining
 *   SCAN_NAME                  name of the generated eval_feature function
 *   SCAN_CTX                   type of the splitter's context
 *   SCAN_STAT_BYTES(c)         bytes of a statistic (a constant when known)
 *   SCAN_SLOT_BYTES(c)         bytes of a histogram slot (statistic, then a
 *                              uint32 count of distinct rows)
 *   SCAN_ADD_ROW(c, st, smp)   add sample *smp to statistic st
 *   SCAN_ADD_STAT(c, dst, src) dst += src
 *   SCAN_SCORE(c, left, node)  the split's score, larger is better
 * (c is a const SCAN_CTX *, statistics are unsigned char pointers) and,
 * when the statistic has a fixed size, SCAN_STAT_T, a type of that size:
 * the running sums then live in local variables (registers) instead of
 * scratch memory. SCAN_BANKS (only for a statistic of integer counts,
 * whose sums do not depend on the order of addition): the counting pass
 * alternates rows between two histograms, merged level by level in the
 * scan, for features of at most SV_GROW_BANK_LEVELS levels. Rows of one
 * level in a row (a binary feature) otherwise make a chain of
 * read-modify-writes of one slot, each waiting for the last.
 *
 * Per feature and node the search either counts the node's rows per level
 * (few levels relative to the node size: O(n + L)) or sorts the node's
 * codes (O(n log n)); both feed the same scan of candidate boundaries in
 * increasing order of level, which keeps the first best one. A boundary
 * is a candidate when both sides hold at least min_leaf distinct rows.
 */
#define SCAN_CAT2(a, b) a##b
#define SCAN_CAT(a, b) SCAN_CAT2(a, b)
#define SCAN_GROUP SCAN_CAT(SCAN_NAME, _group)

typedef struct {
    uint32_t nl, prev;
    int have_prev;
} SCAN_CAT(SCAN_NAME, _state);

/* One group of rows sharing level `code` (statistic grp, gn distinct
 * rows) joins the left side, after the boundary before it is scored. */
static inline void SCAN_GROUP(SCAN_CAT(SCAN_NAME, _state) *s, sv_grow_best *b,
                              const SCAN_CTX *c, uint32_t min_leaf, int32_t feature,
                              uint32_t code, const unsigned char *grp, uint32_t gn,
                              uint32_t nnode, unsigned char *left,
                              const unsigned char *node)
{
    if (s->have_prev) {
        uint32_t nr = nnode - s->nl;
        if (s->nl >= min_leaf && nr >= min_leaf) {
            double pr = SCAN_SCORE(c, left, node);
            if (!b->found || pr > b->proxy)
                sv_grow_best_take(b, pr, feature, s->prev, code, s->nl, left, SCAN_STAT_BYTES(c));
        }
    }
    SCAN_ADD_STAT(c, left, grp);
    s->nl += gn;
    s->prev = code;
    s->have_prev = 1;
}

static __attribute__((unused)) int SCAN_NAME(const sv_grower *g, sv_grow_scratch *s, int32_t f, uint32_t start,
                     uint32_t end, const void *node_stat, sv_grow_best *b)
{
    const SCAN_CTX *c = g->sp->ctx;
    const sv_grow_codes *fc = &g->fc[f];
    uint32_t L = fc->n_levels;
    if (L < 2) return 0;
    const sv_grow_sample *smp = s->smp + start;
    uint32_t nnode = end - start;
    uint32_t ml = (uint32_t)g->o.min_leaf;
    const size_t sb = SCAN_STAT_BYTES(c), slot = SCAN_SLOT_BYTES(c);
#ifdef SCAN_STAT_T
    SCAN_STAT_T left_v, grp_v, node_v;
    memcpy(&node_v, node_stat, sizeof node_v);
    unsigned char *left = (unsigned char *)&left_v, *grp = (unsigned char *)&grp_v;
    const unsigned char *node = (const unsigned char *)&node_v;
#else
    const unsigned char *node = node_stat;
    unsigned char *left = s->tmp + 2 * sb, *grp = s->tmp + sb;
#endif
    memset(left, 0, sb);
    SCAN_CAT(SCAN_NAME, _state) st = {0, 0, 0};
    uint32_t *cb = s->cbuf;
    sv_grow_gather(fc, smp, nnode, cb);

    if ((uint64_t)L <= (uint64_t)nnode * SV_GROW_COUNT_RATIO) {
        unsigned char *h = s->hist;
        uint32_t lo = UINT32_MAX, hi = 0;
/* row k of the node into histogram h, widening the levels seen [lo, hi] */
#define SCAN_COUNT_ROW(k_)                                             \
    do {                                                               \
        uint32_t code_ = cb[k_];                                       \
        unsigned char *e_ = h + (size_t)code_ * slot;                  \
        SCAN_ADD_ROW(c, e_, &smp[k_]);                                 \
        (*(uint32_t *)(e_ + sb))++;                                    \
        if (code_ < lo) lo = code_;                                    \
        if (code_ > hi) hi = code_;                                    \
    } while (0)
#ifdef SCAN_BANKS
        if (L <= SV_GROW_BANK_LEVELS) {
            unsigned char *h2 = s->hist + s->hist_bank;
            uint32_t k = 0;
            for (; k + 1 < nnode; k += 2) {
                uint32_t c1 = cb[k], c2 = cb[k + 1];
                unsigned char *e1 = h + (size_t)c1 * slot, *e2 = h2 + (size_t)c2 * slot;
                SCAN_ADD_ROW(c, e1, &smp[k]);
                (*(uint32_t *)(e1 + sb))++;
                SCAN_ADD_ROW(c, e2, &smp[k + 1]);
                (*(uint32_t *)(e2 + sb))++;
                uint32_t a = c1 < c2 ? c1 : c2, z = c1 < c2 ? c2 : c1;
                if (a < lo) lo = a;
                if (z > hi) hi = z;
            }
            if (k < nnode) SCAN_COUNT_ROW(k);
            if (lo == hi) {
                memset(h + (size_t)lo * slot, 0, slot);
                memset(h2 + (size_t)lo * slot, 0, slot);
                return 0;
            }
            for (uint32_t code = lo; code <= hi; code++) {
                unsigned char *e = h + (size_t)code * slot, *e2 = h2 + (size_t)code * slot;
                uint32_t gn = *(uint32_t *)(e + sb) + *(uint32_t *)(e2 + sb);
                if (gn == 0) continue;
                SCAN_ADD_STAT(c, e, e2);
                SCAN_GROUP(&st, b, c, ml, f, code, e, gn, nnode, left, node);
                memset(e, 0, slot);
                memset(e2, 0, slot);
            }
            return 1;
        }
#endif
        for (uint32_t k = 0; k < nnode; k++) SCAN_COUNT_ROW(k);
        if (lo == hi) {
            memset(h + (size_t)lo * slot, 0, slot);
            return 0;
        }
        for (uint32_t code = lo; code <= hi; code++) {
            unsigned char *e = h + (size_t)code * slot;
            uint32_t gn = *(uint32_t *)(e + sb);
            if (gn == 0) continue;
            SCAN_GROUP(&st, b, c, ml, f, code, e, gn, nnode, left, node);
            memset(e, 0, slot);
        }
        return 1;
    }

    uint64_t *keys = s->keys;
    for (uint32_t k = 0; k < nnode; k++) keys[k] = (uint64_t)cb[k] << 32 | k;
    if (nnode >= SV_GROW_RADIX_MIN) {
        int bits = 1;
        while (bits < 32 && (L - 1) >> bits) bits++;
        sv_sort_u64_codes(keys, s->keys2, nnode, bits, nnode >= SV_GROW_RADIX_WIDE ? 11 : 8);
    } else {
        sv_sort_u64(keys, nnode);
    }
    if ((keys[0] >> 32) == (keys[nnode - 1] >> 32)) return 0;
    uint32_t k = 0;
    while (k < nnode) {
        uint32_t code = (uint32_t)(keys[k] >> 32);
        uint32_t gn = 0;
        memset(grp, 0, sb);
        while (k < nnode && (uint32_t)(keys[k] >> 32) == code) {
            SCAN_ADD_ROW(c, grp, &smp[(uint32_t)keys[k]]);
            gn++;
            k++;
        }
        SCAN_GROUP(&st, b, c, ml, f, code, grp, gn, nnode, left, node);
    }
    return 1;
}

#undef SCAN_GROUP
#undef SCAN_COUNT_ROW
#undef SCAN_NAME
#undef SCAN_CTX
#undef SCAN_STAT_BYTES
#undef SCAN_SLOT_BYTES
#undef SCAN_ADD_ROW
#undef SCAN_ADD_STAT
#undef SCAN_SCORE
#undef SCAN_STAT_T
#undef SCAN_BANKS
