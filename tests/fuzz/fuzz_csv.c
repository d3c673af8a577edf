/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader (engine/csv.c).
 *
 * The first input byte picks the options (separator, header, NA strings);
 * the rest is the file. Properties checked on every input:
 * - sv_csv_parse_buffer returns SV_OK or an error with a message, and
 *   never reads or writes out of bounds (ASan) or overflows (UBSan);
 * - on success, every cell is reachable: text spans lie inside the
 *   table's buffer, numeric columns have nrow values; each record's
 *   physical line is >= 1, after the previous record's, and within the
 *   input's line count;
 * - the two-step reader writing numbers into caller arrays (the path the
 *   Lua binding takes) agrees with the one-step reader bit for bit;
 * - a number formatted by sv_csv_format_number parses back to the same
 *   double (the writer/reader round trip), for 8 input bytes as a double.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sv_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) __builtin_trap();
}

static void check_table(const sv_csv_table *t)
{
    /* physical lines: from 1, strictly increasing, at most line ends + 1 */
    size_t ends = 0;
    for (size_t b = 0; b < t->buf_len; b++) /* LF, or a CR not before LF */
        ends += t->buf[b] == '\n' || (t->buf[b] == '\r' && (b + 1 == t->buf_len || t->buf[b + 1] != '\n'));
    for (size_t i = 0; i < t->nrow; i++) {
        size_t line = sv_csv_line(t, i);
        check(line >= 1 && line <= ends + 1);
        if (i > 0) check(line > sv_csv_line(t, i - 1));
    }
    for (size_t j = 0; j < t->ncol; j++) {
        const sv_csv_column *c = &t->cols[j];
        check(c->name != NULL && strlen(c->name) == c->name_len);
        for (size_t i = 0; i < t->nrow; i++) {
            if (c->type == SV_CSV_TEXT) {
                size_t len;
                const char *s = sv_csv_text(t, j, i, &len);
                if (s) {
                    check(s >= t->buf && len <= t->buf_len &&
                          (size_t)(s - t->buf) <= t->buf_len - len);
                    volatile char sink = len ? s[len - 1] : 0;
                    (void)sink;
                }
            } else {
                volatile double v = c->num[i];
                (void)v;
            }
        }
    }
}

static void roundtrip_number(const uint8_t *data)
{
    double x;
    memcpy(&x, data, sizeof x);
    char buf[SV_CSV_NUMBUF];
    size_t n = sv_csv_format_number(x, "NA", buf);
    check(n < SV_CSV_NUMBUF);
    double y;
    if (isnan(x)) return; /* written as the NA string */
    check(sv_csv_parse_number(buf, n, &y) == 1);
    check(memcmp(&x, &y, sizeof x) == 0 || (x == 0 && y == 0 && signbit(x) == signbit(y)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    if (size >= 8) roundtrip_number(data);

    static const char seps[4] = {',', ';', '\t', '|'};
    static const char *const na_default[2] = {"", "NA"};
    static const char *const na_more[4] = {"", "NA", ".", "-999"};
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    o.sep = seps[mode & 3];
    o.header = !(mode & 4);
    if (mode & 8) {
        o.na = na_more;
        o.n_na = 4;
    } else if (mode & 16) {
        o.na = NULL;
        o.n_na = 0;
    } else {
        o.na = na_default;
        o.n_na = 2;
    }

    sv_csv_table t;
    sv_err err;
    sv_status st = sv_csv_parse_buffer((const char *)data, size, "fuzz.csv", &o, NULL, &t, &err);
    if (st != SV_OK) {
        check(err.msg[0] != '\0');
        return 0;
    }
    check_table(&t);

    /* The two-step reader into caller-owned arrays must agree. */
    sv_csv_reader *rd;
    sv_err err2;
    if (sv_csv_reader_open_buffer((const char *)data, size, "fuzz.csv", &o, &rd, &err2) == SV_OK) {
        size_t nc = sv_csv_reader_ncol(rd), bound = sv_csv_reader_row_bound(rd);
        double **dest = calloc(nc ? nc : 1, sizeof *dest);
        int ok = dest != NULL;
        for (size_t j = 0; ok && j < nc; j++) {
            dest[j] = malloc((bound ? bound : 1) * sizeof(double));
            ok = dest[j] != NULL;
        }
        if (ok) {
            sv_csv_table t2;
            sv_status st2 = sv_csv_reader_parse(rd, dest, NULL, &t2, &err2);
            check(st2 == SV_OK);
            check(t2.nrow == t.nrow && t2.ncol == t.ncol && t2.nrow <= bound);
            for (size_t j = 0; j < t.ncol; j++) {
                check(t2.cols[j].type == t.cols[j].type);
                check(strcmp(t2.cols[j].name, t.cols[j].name) == 0);
                if (t.cols[j].type == SV_CSV_NUMERIC && t.nrow)
                    check(memcmp(t2.cols[j].num, t.cols[j].num, t.nrow * sizeof(double)) == 0);
            }
            check_table(&t2);
            sv_csv_free(&t2);
        }
        for (size_t j = 0; dest && j < nc; j++) free(dest[j]);
        free(dest);
        sv_csv_reader_free(rd);
    } else {
        check(0); /* the one-step reader accepted what the two-step refused */
    }
    sv_csv_free(&t);
    return 0;
}
