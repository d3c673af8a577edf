/*
 * test_csv.c - the CSV reader and writer: the dialect (quoting, line ends,
 * BOM, NA strings, type inference), every error with its line and column,
 * exact number conversion against strtod, and write-then-read round trips
 * bit for bit.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sv_csv.h"
#include "sv_rng.h"

static char tmpdir[64]; /* scratch directory of the group (setup_dir) */

/* Parses a NUL-terminated string with the default options. */
static sv_status parse(const char *s, sv_csv_table *t, sv_err *err)
{
    return sv_csv_parse_buffer(s, strlen(s), "t.csv", NULL, NULL, t, err);
}

static sv_status parse_opts(const char *s, const sv_csv_opts *o,
                            sv_csv_table *t, sv_err *err)
{
    return sv_csv_parse_buffer(s, strlen(s), "t.csv", o, NULL, t, err);
}

/* The text cell as a NUL-terminated copy in buf ("<NA>" when missing). */
static const char *cell(const sv_csv_table *t, size_t col, size_t row)
{
    static char buf[256];
    size_t n;
    const char *s = sv_csv_text(t, col, row, &n);
    if (!s) return "<NA>";
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* Asserts that parsing fails with SV_EFORMAT and a message containing
 * every fragment given (NULL-terminated list). */
static void expect_error(const char *csv, const sv_csv_opts *o, ...)
{
    sv_csv_table t;
    sv_err err;
    sv_status st = sv_csv_parse_buffer(csv, strlen(csv), "t.csv", o, NULL, &t, &err);
    assert_int_equal(st, SV_EFORMAT);
    assert_null(t.cols);
    va_list ap;
    va_start(ap, o);
    const char *frag;
    while ((frag = va_arg(ap, const char *)) != NULL) {
        if (!strstr(err.msg, frag)) fail_msg("message '%s' lacks '%s'", err.msg, frag);
    }
    va_end(ap);
}

/* Numbers and names of a small numeric file, values worked by hand. */
static void test_numeric_basic(void **state)
{
    (void)state;
    sv_csv_table t;
    sv_err err;
    assert_int_equal(parse("a,b\n1,2.5\n-3,4e2\n", &t, &err), SV_OK);
    assert_int_equal(t.nrow, 2);
    assert_int_equal(t.ncol, 2);
    assert_string_equal(t.cols[0].name, "a");
    assert_string_equal(t.cols[1].name, "b");
    assert_int_equal(t.cols[0].type, SV_CSV_NUMERIC);
    assert_true(t.cols[0].num[0] == 1.0 && t.cols[0].num[1] == -3.0);
    assert_true(t.cols[1].num[0] == 2.5 && t.cols[1].num[1] == 400.0);
    sv_csv_free(&t);
    sv_csv_free(&t); /* idempotent */
}

/* RFC 4180 quoting: separators, line ends and doubled quotes inside
 * quotes are data; quoted numbers are numbers. */
static void test_quoting(void **state)
{
    (void)state;
    sv_csv_table t;
    sv_err err;
    const char *csv = "name,\"x\"\n"
                      "\"a,b\",\"1\"\n"
                      "\"line1\nline2\",2\n"
                      "\"say \"\"hi\"\"\",3\n"
                      "\"\"\"\",4\n";
    assert_int_equal(parse(csv, &t, &err), SV_OK);
    assert_int_equal(t.nrow, 4);
    assert_int_equal(t.cols[0].type, SV_CSV_TEXT);
    assert_string_equal(cell(&t, 0, 0), "a,b");
    assert_string_equal(cell(&t, 0, 1), "line1\nline2");
    assert_string_equal(cell(&t, 0, 2), "say \"hi\"");
    assert_string_equal(cell(&t, 0, 3), "\"");
    assert_string_equal(t.cols[1].name, "x");
    assert_int_equal(t.cols[1].type, SV_CSV_NUMERIC);
    assert_true(t.cols[1].num[0] == 1.0 && t.cols[1].num[3] == 4.0);
    sv_csv_free(&t);
}

/* CRLF, LF and a lone CR all end records (outside quotes, as R and pandas
 * read them), a final line end is optional, blank lines are skipped, a BOM
 * is skipped; inside quotes CR is data. */
static void test_line_ends_bom_blank(void **state)
{
    (void)state;
    sv_csv_table t;
    sv_err err;
    assert_int_equal(parse("\xEF\xBB\xBF" "id,s\r\n1,a\r\n\r\n2,\"b\rc\"\n\n3,\"x\r\ny\"", &t, &err), SV_OK);
    assert_string_equal(t.cols[0].name, "id");
    assert_int_equal(t.nrow, 3);
    assert_true(t.cols[0].num[2] == 3.0);
    assert_string_equal(cell(&t, 1, 0), "a");
    assert_string_equal(cell(&t, 1, 1), "b\rc");
    assert_string_equal(cell(&t, 1, 2), "x\r\ny");
    sv_csv_free(&t);
    /* An unquoted lone CR ends the record, as in R and pandas: 2,b then c
     * (one field) is a short record. */
    assert_int_equal(parse("id,s\n2,b\rc\n", &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "the record has 1 field, expected 2"));
    /* A CR right at the end of the input ends the last record. */
    assert_int_equal(parse("a\n1\r", &t, &err), SV_OK);
    assert_int_equal(t.nrow, 1);
    assert_true(t.cols[0].num[0] == 1.0);
    sv_csv_free(&t);
}

/* Regression: a file with CR-only line ends (Excel's "CSV (Macintosh)")
 * read as 0 rows with CRs inside the column names. R 4.2.2's read.csv and
 * pandas 1.5.3's read_csv both read this file as 3 rows of id, name, x
 * (pandas keeps the quoted CR; R turns it into LF): so does sylva, keeping
 * it as pandas does. Line numbers in messages count CR line ends. */
static void test_cr_only_line_ends(void **state)
{
    (void)state;
    sv_csv_table t;
    sv_err err;
    assert_int_equal(parse("id,name,x\r1,a,2.5\r\r2,\"b\rc\",3\r3,d,4\r", &t, &err), SV_OK);
    assert_int_equal(t.ncol, 3);
    assert_int_equal(t.nrow, 3);
    assert_string_equal(t.cols[0].name, "id");
    assert_string_equal(t.cols[2].name, "x");
    assert_true(t.cols[0].num[0] == 1.0 && t.cols[0].num[2] == 3.0);
    assert_true(t.cols[2].num[0] == 2.5 && t.cols[2].num[1] == 3.0 && t.cols[2].num[2] == 4.0);
    assert_string_equal(cell(&t, 1, 0), "a");
    assert_string_equal(cell(&t, 1, 1), "b\rc");
    assert_string_equal(cell(&t, 1, 2), "d");
    sv_csv_free(&t);
    /* no final line end, numbers only (the fast path) */
    assert_int_equal(parse("a,b\r1,2\r3,4", &t, &err), SV_OK);
    assert_int_equal(t.nrow, 2);
    assert_true(t.cols[1].num[1] == 4.0);
    sv_csv_free(&t);
    /* the error names the line, counting CR line ends (and the one inside
     * the quoted field) */
    assert_int_equal(parse("a,b\r1,\"x\ry\"\r3\r", &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "line 4"));
}

/* Default NA strings ("" and NA) are NaN in numeric columns; in text
 * columns an unquoted NA is missing but quoted "NA" and "" are strings. */
static void test_missing_values(void **state)
{
    (void)state;
    sv_csv_table t;
    sv_err err;
    assert_int_equal(parse("x,s\n1,NA\n,\"NA\"\nNA,\"\"\n\"\",b\n", &t, &err), SV_OK);
    assert_int_equal(t.cols[0].type, SV_CSV_NUMERIC);
    assert_true(t.cols[0].num[0] == 1.0);
    assert_true(isnan(t.cols[0].num[1]) && isnan(t.cols[0].num[2]) && isnan(t.cols[0].num[3]));
    assert_int_equal(t.cols[1].type, SV_CSV_TEXT);
    assert_string_equal(cell(&t, 1, 0), "<NA>");
    assert_string_equal(cell(&t, 1, 1), "NA");
    assert_string_equal(cell(&t, 1, 2), "");
    assert_string_equal(cell(&t, 1, 3), "b");
    sv_csv_free(&t);

    /* An all-missing column is numeric (vacuously all numbers). */
    assert_int_equal(parse("x,y\n,1\nNA,2\n", &t, &err), SV_OK);
    assert_int_equal(t.cols[0].type, SV_CSV_NUMERIC);
    assert_true(isnan(t.cols[0].num[0]) && isnan(t.cols[0].num[1]));
    sv_csv_free(&t);

    /* Custom NA strings replace the defaults: -999 is missing, NA is text. */
    const char *na[] = {"-999", "."};
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    o.na = na;
    o.n_na = 2;
    assert_int_equal(parse_opts("x,y\n-999,NA\n.,b\n5,c\n", &o, &t, &err), SV_OK);
    assert_int_equal(t.cols[0].type, SV_CSV_NUMERIC);
    assert_true(isnan(t.cols[0].num[0]) && isnan(t.cols[0].num[1]) && t.cols[0].num[2] == 5.0);
    assert_string_equal(cell(&t, 1, 0), "NA");
    sv_csv_free(&t);

    /* With no NA strings an empty cell is text, not a number. */
    o.n_na = 0;
    assert_int_equal(parse_opts("x\n1\n\"\"\n", &o, &t, &err), SV_OK);
    assert_int_equal(t.cols[0].type, SV_CSV_TEXT);
    assert_string_equal(cell(&t, 0, 0), "1");
    assert_string_equal(cell(&t, 0, 1), "");
    sv_csv_free(&t);
}

/* A column turns to text at its first non-number; the cells before it
 * come back as their original text, missing ones as missing. Two columns
 * turn at different rows (the refill pass covers both). */
static void test_late_text_column(void **state)
{
    (void)state;
    enum { N = 1000 };
    size_t cap = N * 32 + 64, n = 0;
    char *csv = malloc(cap);
    n += (size_t)snprintf(csv + n, cap - n, "a,b,c\n");
    for (int i = 0; i < N; i++) {
        const char *a = i == 900 ? "x" : (i == 5 ? "NA" : NULL);
        const char *b = i == 10 ? "y" : NULL;
        char abuf[16], bbuf[16];
        if (!a) { snprintf(abuf, sizeof abuf, "%d.5", i); a = abuf; }
        if (!b) { snprintf(bbuf, sizeof bbuf, "%d", -i); b = bbuf; }
        n += (size_t)snprintf(csv + n, cap - n, "%s,%s,%d\n", a, b, i);
    }
    sv_csv_table t;
    sv_err err;
    assert_int_equal(sv_csv_parse_buffer(csv, n, "gen", NULL, NULL, &t, &err), SV_OK);
    assert_int_equal(t.nrow, N);
    assert_int_equal(t.cols[0].type, SV_CSV_TEXT);
    assert_int_equal(t.cols[1].type, SV_CSV_TEXT);
    assert_int_equal(t.cols[2].type, SV_CSV_NUMERIC);
    assert_string_equal(cell(&t, 0, 0), "0.5");
    assert_string_equal(cell(&t, 0, 5), "<NA>");
    assert_string_equal(cell(&t, 0, 899), "899.5");
    assert_string_equal(cell(&t, 0, 900), "x");
    assert_string_equal(cell(&t, 0, 999), "999.5");
    assert_string_equal(cell(&t, 1, 9), "-9");
    assert_string_equal(cell(&t, 1, 10), "y");
    assert_string_equal(cell(&t, 1, 11), "-11");
    assert_true(t.cols[2].num[999] == 999.0);
    sv_csv_free(&t);
    free(csv);
}

/* header = 0: names V1..Vp and the first record is data; other
 * separators (';', tab); escaped quotes in header names are unescaped;
 * an empty header name becomes V<j>. */
static void test_header_and_separators(void **state)
{
    (void)state;
    sv_csv_table t;
    sv_err err;
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    o.header = 0;
    assert_int_equal(parse_opts("1,2\n3,4\n", &o, &t, &err), SV_OK);
    assert_int_equal(t.nrow, 2);
    assert_string_equal(t.cols[0].name, "V1");
    assert_string_equal(t.cols[1].name, "V2");
    assert_true(t.cols[1].num[0] == 2.0);
    sv_csv_free(&t);

    sv_csv_opts_default(&o);
    o.sep = ';';
    assert_int_equal(parse_opts("a;\"b\"\"q\";\n1,5;2;3\n", &o, &t, &err), SV_OK);
    assert_int_equal(t.ncol, 3);
    assert_string_equal(t.cols[1].name, "b\"q");
    assert_string_equal(t.cols[2].name, "V3");
    assert_int_equal(t.cols[0].type, SV_CSV_TEXT); /* "1,5": decimal comma is text */
    assert_string_equal(cell(&t, 0, 0), "1,5");
    sv_csv_free(&t);

    o.sep = '\t';
    assert_int_equal(parse_opts("a\tb\n1\t x\n", &o, &t, &err), SV_OK);
    assert_int_equal(t.cols[1].type, SV_CSV_TEXT);
    assert_string_equal(cell(&t, 1, 0), " x");
    sv_csv_free(&t);

    /* Header only: zero rows, numeric columns. */
    assert_int_equal(parse("a,b\n", &t, &err), SV_OK);
    assert_int_equal(t.nrow, 0);
    assert_int_equal(t.ncol, 2);
    sv_csv_free(&t);

    o.sep = '"';
    assert_int_equal(parse_opts("a\n", &o, &t, &err), SV_EINVAL);
}

/* Ragged records: the message names the file, the line and the column. */
static void test_error_ragged(void **state)
{
    (void)state;
    expect_error("a,b,c\n1,2,3\n4,5\n", NULL, "t.csv", "line 3", "column 3 (c)",
                 "2 fields, expected 3", NULL);
    expect_error("a,b\n1,2\n3,4,5\n", NULL, "line 3", "column 3", "3 fields, expected 2", NULL);
    /* A quoted field spanning lines moves the line count on. */
    expect_error("a,b\n\"x\ny\",1\n2\n", NULL, "line 4", NULL);
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    o.header = 0;
    expect_error("1,2\n3\n", &o, "line 2", "column 2", NULL);
}

/* Unterminated quote: the line where the quote opened, and the column. */
static void test_error_unterminated(void **state)
{
    (void)state;
    expect_error("a,b\n1,2\n3,\"abc\n4,5\n6,7\n", NULL, "t.csv", "line 3", "column 2 (b)",
                 "unterminated", NULL);
    expect_error("\"abc", NULL, "line 1", "column 1", "unterminated", NULL);
    expect_error("a,b\n1,\"", NULL, "line 2", "unterminated", NULL);
}

/* Garbage after a closing quote is an error, not a guess. */
static void test_error_after_quote(void **state)
{
    (void)state;
    expect_error("a,b\n\"x\"y,1\n", NULL, "line 2", "column 1 (a)", "unexpected 'y' after a closing quote", NULL);
    expect_error("a\n\"x\" \n", NULL, "line 2", "after a closing quote", NULL);
}

/* Empty input: nothing, only a BOM, only blank lines. */
static void test_error_empty(void **state)
{
    (void)state;
    expect_error("", NULL, "t.csv", "empty file", NULL);
    expect_error("\xEF\xBB\xBF", NULL, "empty file", NULL);
    expect_error("\n\r\n\n", NULL, "empty file", NULL);
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    o.header = 0;
    expect_error("", &o, "empty file", NULL);
}

/* Duplicate header names name both columns. */
static void test_error_duplicate_names(void **state)
{
    (void)state;
    expect_error("a,b,a\n1,2,3\n", NULL, "t.csv", "line 1", "column 3", "duplicate column name 'a' (also column 1)", NULL);
    /* "V2" given explicitly collides with the generated name of column 2. */
    expect_error("V2,,c\n1,2,3\n", NULL, "duplicate column name 'V2'", NULL);
    /* Many columns (the hash table grows): only the real duplicate fails. */
    char hdr[8000];
    size_t n = 0;
    for (int j = 0; j < 500; j++) n += (size_t)snprintf(hdr + n, sizeof hdr - n, "c%d,", j);
    snprintf(hdr + n, sizeof hdr - n, "c123\n");
    expect_error(hdr, NULL, "column 501", "duplicate column name 'c123' (also column 124)", NULL);
}

/* Binary input: a NUL byte anywhere, or a UTF-16 byte-order mark. */
static void test_error_binary(void **state)
{
    (void)state;
    const char bin[] = "a,b\n1,2\n3,\0x\n";
    sv_csv_table t;
    sv_err err;
    assert_int_equal(sv_csv_parse_buffer(bin, sizeof bin - 1, "t.csv", NULL, NULL, &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "line 3, column 2 (b)"));
    assert_non_null(strstr(err.msg, "NUL byte"));
    const char binq[] = "a\n\"x\0\"\n";
    assert_int_equal(sv_csv_parse_buffer(binq, sizeof binq - 1, "t.csv", NULL, NULL, &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "NUL byte"));
    const char u16[] = "\xFF\xFE" "a\0,\0b\0";
    assert_int_equal(sv_csv_parse_buffer(u16, sizeof u16 - 1, "t.csv", NULL, NULL, &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "UTF-16"));
    /* Common non-CSV files get a message saying what they are. */
    const char gz[] = "\x1F\x8B\x08\x00\x00\x00";
    assert_int_equal(sv_csv_parse_buffer(gz, sizeof gz - 1, "t.csv.gz", NULL, NULL, &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "gzip"));
    const char zip[] = "PK\x03\x04\x14\x00";
    assert_int_equal(sv_csv_parse_buffer(zip, sizeof zip - 1, "t.xlsx", NULL, NULL, &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "xlsx"));
    const char ole[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00";
    assert_int_equal(sv_csv_parse_buffer(ole, sizeof ole - 1, "t.xls", NULL, NULL, &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, ".xls"));
}

/* A missing file names the path and the reason; a directory too. */
static void test_error_io(void **state)
{
    (void)state;
    sv_csv_table t;
    sv_err err;
    assert_int_equal(sv_csv_read("/nonexistent/x.csv", NULL, NULL, &t, &err), SV_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.csv"));
    assert_non_null(strstr(err.msg, "No such file"));
    assert_int_equal(sv_csv_read("/tmp", NULL, NULL, &t, &err), SV_EIO);
    assert_non_null(strstr(err.msg, "directory"));
}

/* Hand-picked numbers: syntax accepted and refused, and values that
 * leave the fast path (more than 2^53, large exponents, subnormals). */
static void test_number_syntax(void **state)
{
    (void)state;
    struct { const char *s; double v; } ok[] = {
        {"0", 0.0}, {"-0", -0.0}, {".5", 0.5}, {"5.", 5.0}, {"+1.25", 1.25},
        {" 7 ", 7.0}, {"\t-2e-3", -0.002}, {"1E+2", 100.0}, {"007", 7.0},
        /* 2^53 + 1 is halfway between two doubles: ties to even, 2^53 */
        {"9007199254740993", 9007199254740992.0},
        {"1e23", 1e23}, {"1e-400", 0.0}, {"123e25", 1.23e27},
        {"0.1", 0.1}, {"2.2250738585072011e-308", 2.2250738585072011e-308},
        {"4.9e-324", 4.9e-324},
        {"12345678901234567890123", 1.2345678901234568e22},
        {"0.000000000000000000000000000001", 1e-30},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -1;
        if (!sv_csv_parse_number(ok[i].s, strlen(ok[i].s), &v)) fail_msg("'%s' refused", ok[i].s);
        if (memcmp(&v, &ok[i].v, sizeof v) != 0) fail_msg("'%s' gave %.17g", ok[i].s, v);
    }
    double v;
    assert_true(sv_csv_parse_number("Inf", 3, &v) && v == INFINITY);
    assert_true(sv_csv_parse_number("-infinity", 9, &v) && v == -INFINITY);
    assert_true(sv_csv_parse_number("NaN", 3, &v) && isnan(v));
    assert_true(sv_csv_parse_number("1e400", 5, &v) && v == INFINITY);
    const char *bad[] = {"", " ", "1e", "e1", ".", "-", "+", "1.2.3", "0x10", "1,5",
                         "1 2", "--1", "1e+", "abc", "infx", "1d5", "1e5.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sv_csv_parse_number(bad[i], strlen(bad[i]), &v)) fail_msg("'%s' accepted", bad[i]);
}

/* Random decimal strings of every shape agree with strtod bit for bit
 * (strtod in glibc is correctly rounded: the independent oracle). */
static void test_number_exact_vs_strtod(void **state)
{
    (void)state;
    sv_rng r;
    sv_rng_init(&r, 42, 0);
    char s[64];
    for (int k = 0; k < 200000; k++) {
        int ndig = 1 + (int)sv_rng_below(&r, 22);
        int point = (int)sv_rng_below(&r, (uint64_t)ndig + 1);
        size_t n = 0;
        if (sv_rng_below(&r, 2)) s[n++] = '-';
        for (int d = 0; d < ndig; d++) {
            if (d == point && d > 0) s[n++] = '.';
            s[n++] = (char)('0' + sv_rng_below(&r, 10));
        }
        if (sv_rng_below(&r, 3) == 0)
            n += (size_t)snprintf(s + n, sizeof s - n, "e%d", (int)sv_rng_below(&r, 700) - 350);
        s[n] = '\0';
        double mine, ref = strtod(s, NULL);
        if (!sv_csv_parse_number(s, n, &mine)) fail_msg("'%s' refused", s);
        if (memcmp(&mine, &ref, sizeof ref) != 0) fail_msg("'%s': %.17g vs strtod %.17g", s, mine, ref);
    }
    /* Random doubles printed with %.17g read back exactly. */
    for (int k = 0; k < 100000; k++) {
        uint64_t bits = sv_rng_u64(&r);
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x)) continue;
        snprintf(s, sizeof s, "%.17g", x);
        double y;
        assert_true(sv_csv_parse_number(s, strlen(s), &y));
        if (memcmp(&x, &y, sizeof x) != 0) fail_msg("'%s' did not read back", s);
    }
}

/* 16-19 digit decimals with exponents near zero (the extended-precision
 * path), and decimals within a few units of the 19th digit of the exact
 * midpoint between two neighbouring doubles (where a double rounding
 * would go wrong), agree with strtod bit for bit: through
 * sv_csv_parse_number and through a whole CSV file (the fused path). */
static void test_number_long_mantissas_and_midpoints(void **state)
{
    (void)state;
    enum { N = 120000 };
    sv_rng r;
    sv_rng_init(&r, 4242, 0);
    char *csv = malloc((size_t)N * 32 + 8);
    double *ref = malloc(N * sizeof *ref);
    size_t n = (size_t)snprintf(csv, 8, "x\n");
    char s[64];
    for (int k = 0; k < N; k++) {
        if (k % 2 == 0) {
            /* 16 to 19 significant digits, decimal exponent in [-27, 27] */
            int ndig = 16 + (int)sv_rng_below(&r, 4);
            uint64_t w = 1 + sv_rng_below(&r, 9);
            for (int d = 1; d < ndig; d++) w = w * 10 + sv_rng_below(&r, 10);
            int e = (int)sv_rng_below(&r, 55) - 27;
            snprintf(s, sizeof s, "%s%llue%d", sv_rng_below(&r, 2) ? "-" : "",
                     (unsigned long long)w, e);
        } else {
            /* near the midpoint of d and the next double up */
            double d = (sv_rng_uniform(&r) + 0.5) * ldexp(1.0, (int)sv_rng_below(&r, 120) - 60);
            long double mid = ((long double)d + (long double)nextafter(d, INFINITY)) / 2;
            snprintf(s, sizeof s, "%.18Le", mid);
            /* nudge the last digit by -2..2 */
            char *ep = strchr(s, 'e');
            int nudge = (int)sv_rng_below(&r, 5) - 2;
            char *last = ep - 1;
            int dig = *last - '0' + nudge;
            if (dig >= 0 && dig <= 9) *last = (char)('0' + dig);
        }
        size_t len = strlen(s);
        ref[k] = strtod(s, NULL);
        double mine;
        if (!sv_csv_parse_number(s, len, &mine)) fail_msg("'%s' refused", s);
        if (memcmp(&mine, &ref[k], sizeof mine) != 0) fail_msg("'%s': %.17g vs strtod %.17g", s, mine, ref[k]);
        memcpy(csv + n, s, len);
        n += len;
        csv[n++] = '\n';
    }
    sv_csv_table t;
    sv_err err;
    assert_int_equal(sv_csv_parse_buffer(csv, n, "long", NULL, NULL, &t, &err), SV_OK);
    assert_int_equal(t.nrow, N);
    assert_memory_equal(t.cols[0].num, ref, N * sizeof *ref);
    sv_csv_free(&t);
    free(csv);
    free(ref);
}

/* The conversion does not depend on the process locale. */
static void test_number_locale_independent(void **state)
{
    (void)state;
    const char *old = setlocale(LC_NUMERIC, NULL);
    char saved[64];
    snprintf(saved, sizeof saved, "%s", old ? old : "C");
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
        /* Not installed: compile it into the scratch directory (glibc
         * reads LOCPATH), if the locale sources are there. */
        char cmd[512], dir[128];
        snprintf(dir, sizeof dir, "%s/locales", tmpdir);
        snprintf(cmd, sizeof cmd, "mkdir -p %s && localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
                 dir, dir);
        if (system(cmd) == 0) setenv("LOCPATH", dir, 1);
        if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
            skip();
            return;
        }
    }
    /* The locale really has a decimal comma. */
    assert_string_equal(localeconv()->decimal_point, ",");
    double v;
    /* 17 digits: the strtod_l slow path */
    assert_true(sv_csv_parse_number("0.12345678901234567", 19, &v));
    assert_true(v == 0.12345678901234567);
    char buf[SV_CSV_NUMBUF];
    sv_csv_format_number(0.1, "NA", buf);
    setlocale(LC_NUMERIC, saved);
    assert_string_equal(buf, "0.1");
}

/* Shortest round-trip formatting: short when possible, exact always. */
static void test_format_number(void **state)
{
    (void)state;
    char buf[SV_CSV_NUMBUF];
    sv_csv_format_number(0.1, "NA", buf);
    assert_string_equal(buf, "0.1");
    sv_csv_format_number(1838, "NA", buf);
    assert_string_equal(buf, "1838");
    sv_csv_format_number(-0.0, "NA", buf);
    assert_string_equal(buf, "-0");
    sv_csv_format_number(NAN, "NA", buf);
    assert_string_equal(buf, "NA");
    sv_csv_format_number(-INFINITY, "NA", buf);
    assert_string_equal(buf, "-Inf");
    sv_csv_format_number(0.1 + 0.2, "NA", buf); /* needs 17 digits */
    assert_string_equal(buf, "0.30000000000000004");
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sv_csv_testXXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* write then read gives the same table: doubles bit for bit (random bit
 * patterns, -0, +-Inf, NaN as missing), text with every character that
 * needs quoting, the empty string and "NA" as strings, missing text. */
static void test_round_trip(void **state)
{
    (void)state;
    enum { N = 2000 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    const char **s = malloc(N * sizeof *s);
    const char *words[] = {"plain", "with,comma", "with \"quotes\"", "two\nlines",
                           "cr\r\nlf", "", "NA", " spaced ", "\xc3\xa9t\xc3\xa9", "1.5"};
    sv_rng r;
    sv_rng_init(&r, 7, 0);
    for (int i = 0; i < N; i++) {
        uint64_t bits = sv_rng_u64(&r);
        memcpy(&x[i], &bits, sizeof bits);
        if (isnan(x[i])) x[i] = 1.0;
        y[i] = sv_rng_normal(&r);
        s[i] = i % 11 == 10 ? NULL : words[i % 10];
    }
    x[0] = -0.0;
    x[1] = INFINITY;
    x[2] = -INFINITY;
    x[3] = NAN;
    x[4] = 5e-324;
    sv_csv_wcol cols[3] = {{.name = "x", .num = x}, {.name = "text, \"quoted\"", .text = s},
                           {.name = "y", .num = y}};
    char path[128];
    snprintf(path, sizeof path, "%s/rt.csv", tmpdir);
    sv_err err;
    assert_int_equal(sv_csv_write(path, cols, 3, N, NULL, NULL, &err), SV_OK);
    sv_csv_table t;
    if (sv_csv_read(path, NULL, NULL, &t, &err) != SV_OK) fail_msg("%s", err.msg);
    assert_int_equal(t.nrow, N);
    assert_string_equal(t.cols[1].name, "text, \"quoted\"");
    assert_int_equal(t.cols[0].type, SV_CSV_NUMERIC);
    assert_int_equal(t.cols[1].type, SV_CSV_TEXT);
    assert_true(isnan(t.cols[0].num[3]));
    t.cols[0].num[3] = x[3] = 0.0;
    assert_memory_equal(t.cols[0].num, x, N * sizeof *x);
    assert_memory_equal(t.cols[2].num, y, N * sizeof *y);
    for (int i = 0; i < N; i++) {
        size_t n;
        const char *c = sv_csv_text(&t, 1, (size_t)i, &n);
        if (!s[i]) {
            assert_null(c);
        } else {
            assert_non_null(c);
            assert_int_equal(n, strlen(s[i]));
            assert_memory_equal(c, s[i], n);
        }
    }
    sv_csv_free(&t);

    /* A semicolon file with a custom NA string reads back with the same
     * options. */
    sv_csv_wopts wo;
    sv_csv_wopts_default(&wo);
    wo.sep = ';', wo.na = ".";
    assert_int_equal(sv_csv_write(path, cols, 3, N, &wo, NULL, &err), SV_OK);
    const char *na[] = {"."};
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    o.sep = ';';
    o.na = na;
    o.n_na = 1;
    assert_int_equal(sv_csv_read(path, &o, NULL, &t, &err), SV_OK);
    assert_memory_equal(t.cols[2].num, y, N * sizeof *y);
    assert_string_equal(cell(&t, 1, 5), "");
    assert_string_equal(cell(&t, 1, 6), "NA");
    assert_string_equal(cell(&t, 1, 10), "<NA>");
    sv_csv_free(&t);

    /* Writing to a missing directory fails naming the path. */
    assert_int_equal(sv_csv_write("/nonexistent/dir/x.csv", cols, 3, N, NULL, NULL, &err), SV_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/x.csv"));
    free(x);
    free(y);
    free(s);
}

/* The cancel flag stops a long parse with SV_EINTR and frees everything. */
static void test_cancel(void **state)
{
    (void)state;
    enum { N = 200000 };
    char *csv = malloc(2 * N + 3);
    memcpy(csv, "a\n", 2);
    for (int i = 0; i < N; i++) memcpy(csv + 2 + 2 * i, "1\n", 2);
    volatile int flag = 1;
    sv_ctx ctx = {.cancel = &flag};
    sv_csv_table t;
    sv_err err;
    assert_int_equal(sv_csv_parse_buffer(csv, 2 + 2 * N, "big", NULL, &ctx, &t, &err), SV_EINTR);
    flag = 0;
    assert_int_equal(sv_csv_parse_buffer(csv, 2 + 2 * N, "big", NULL, &ctx, &t, &err), SV_OK);
    assert_int_equal(t.nrow, N);
    sv_csv_free(&t);
    free(csv);
}

/* Random mutations of a valid file never crash and always give either a
 * consistent table or a message (ASan in `make test SANITIZE=1` checks
 * every access). */
static void test_mutations_never_crash(void **state)
{
    (void)state;
    const char base[] = "id,name,\"va,l\"\r\n1,\"a\"\"b\",2.5\n2,NA,\"x\ny\"\n\n3,c,-1e5\n";
    const char alphabet[] = ",\"\n\r\0aN1.e-;\xEF\xBB\xBF ";
    char buf[sizeof base + 16];
    sv_rng r;
    sv_rng_init(&r, 99, 0);
    int ok = 0, bad = 0;
    for (int k = 0; k < 20000; k++) {
        size_t n = sizeof base - 1;
        memcpy(buf, base, n);
        int edits = 1 + (int)sv_rng_below(&r, 4);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)sv_rng_below(&r, n);
            switch (sv_rng_below(&r, 3)) {
            case 0: buf[at] = alphabet[sv_rng_below(&r, sizeof alphabet - 1)]; break;
            case 1: n = at; break; /* truncate */
            default:
                if (n < sizeof buf) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = alphabet[sv_rng_below(&r, sizeof alphabet - 1)];
                    n++;
                }
            }
        }
        sv_csv_table t;
        sv_err err = {0};
        sv_status st = sv_csv_parse_buffer(buf, n, "m", NULL, NULL, &t, &err);
        if (st == SV_OK) {
            ok++;
            for (size_t j = 0; j < t.ncol; j++)
                for (size_t i = 0; i < t.nrow; i++) {
                    size_t len;
                    const char *c = sv_csv_text(&t, j, i, &len);
                    if (c) assert_true(c >= t.buf && c + len <= t.buf + t.buf_len);
                }
            sv_csv_free(&t);
        } else {
            bad++;
            assert_int_equal(st, SV_EFORMAT);
            assert_true(strlen(err.msg) > 0);
        }
    }
    assert_true(ok > 100 && bad > 100);
}

/* Memory is bounded by the input size: a 3000-column header over 200000
 * blank lines would need 4.8 GB if arrays were sized by line count alone;
 * the size bound ((bytes + 1) / columns) keeps it to a few hundred kB. The
 * same with data rows at the end, which must all be read. */
static void test_memory_bounded_by_input(void **state)
{
    (void)state;
    enum { NC = 3000, NBLANK = 200000 };
    size_t cap = NC * 8 + NBLANK + NC * 4 + 16, n = 0;
    char *csv = malloc(cap);
    for (int j = 0; j < NC; j++) n += (size_t)snprintf(csv + n, cap - n, "%sc%d", j ? "," : "", j);
    csv[n++] = '\n';
    memset(csv + n, '\n', NBLANK);
    n += NBLANK;
    sv_csv_table t;
    sv_err err;
    assert_int_equal(sv_csv_parse_buffer(csv, n, "wide", NULL, NULL, &t, &err), SV_OK);
    assert_int_equal(t.nrow, 0);
    assert_int_equal(t.ncol, NC);
    sv_csv_free(&t);
    for (int r = 0; r < 2; r++) {
        for (int j = 0; j < NC; j++) n += (size_t)snprintf(csv + n, cap - n, "%s%d", j ? "," : "", r);
        csv[n++] = '\n';
    }
    assert_int_equal(sv_csv_parse_buffer(csv, n, "wide", NULL, NULL, &t, &err), SV_OK);
    assert_int_equal(t.nrow, 2);
    assert_true(t.cols[NC - 1].num[1] == 1.0);
    sv_csv_free(&t);
    free(csv);
}

/* The two-step reader writes numbers into the caller's arrays and never
 * frees them (ASan in the sanitizer build would catch a free of the stack
 * arrays); the row bound covers every row; a text column leaves its array
 * unused; a parse error after open frees the reader's part only. */
static void test_reader_into_caller_arrays(void **state)
{
    (void)state;
    const char *csv = "a,b,c\n1,x,2.5\n\n3,y,-1\n";
    sv_csv_reader *rd;
    sv_err err;
    assert_int_equal(sv_csv_reader_open_buffer(csv, strlen(csv), "two", NULL, &rd, &err), SV_OK);
    assert_int_equal(sv_csv_reader_ncol(rd), 3);
    size_t bound = sv_csv_reader_row_bound(rd);
    assert_true(bound >= 2 && bound <= 4); /* 3 line ends after the header + 1 */
    double a[4], b[4], c[4];
    double *dest[3] = {a, b, c};
    sv_csv_table t;
    assert_int_equal(sv_csv_reader_parse(rd, dest, NULL, &t, &err), SV_OK);
    sv_csv_table again;
    assert_int_equal(sv_csv_reader_parse(rd, dest, NULL, &again, &err), SV_EINVAL); /* once */
    sv_csv_reader_free(rd);
    assert_int_equal(t.nrow, 2);
    assert_ptr_equal(t.cols[0].num, a);
    assert_true(a[0] == 1.0 && a[1] == 3.0 && c[0] == 2.5 && c[1] == -1.0);
    assert_int_equal(t.cols[1].type, SV_CSV_TEXT);
    assert_string_equal(cell(&t, 1, 1), "y");
    sv_csv_free(&t);

    const char *bad = "a,b\n1,2\n3\n";
    assert_int_equal(sv_csv_reader_open_buffer(bad, strlen(bad), "two", NULL, &rd, &err), SV_OK);
    double *dest2[2] = {a, b};
    assert_int_equal(sv_csv_reader_parse(rd, dest2, NULL, &t, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "two: line 3"));
    assert_null(t.cols);
    sv_csv_reader_free(rd);
    sv_csv_reader_free(NULL);
}

/* The real cohort: 686 rows, 11 numeric columns, first row by hand. */
static void test_gbsg_fixture(void **state)
{
    (void)state;
    const char *root = getenv("SYLVA_ROOT");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/data/gbsg.csv", root ? root : ".");
    sv_csv_table t;
    sv_err err;
    if (sv_csv_read(path, NULL, NULL, &t, &err) != SV_OK) fail_msg("%s", err.msg);
    assert_int_equal(t.nrow, 686);
    assert_int_equal(t.ncol, 11);
    assert_string_equal(t.cols[0].name, "pid");
    assert_string_equal(t.cols[10].name, "status");
    for (size_t j = 0; j < t.ncol; j++) assert_int_equal(t.cols[j].type, SV_CSV_NUMERIC);
    /* first record: 132,49,0,18,2,2,0,0,0,1838,0 */
    assert_true(t.cols[0].num[0] == 132 && t.cols[1].num[0] == 49 && t.cols[9].num[0] == 1838);
    sv_csv_free(&t);
}

/* Every record knows the physical line it starts on, as an editor counts
 * them: line ends inside quoted header names and fields, blank lines and
 * CRLF all count (hand-counted expectations). */
static void test_physical_lines(void **state)
{
    (void)state;
    sv_csv_table t;
    sv_err err;
    const char *csv =
        "id,\"HER2\nstatus\",\"Age at\r\ndiagnosis\"\n" /* lines 1-3 */
        "P1,pos,50\n"                                    /* line 4 */
        "\n"                                             /* line 5 (blank) */
        "P2,\"neg\nlow\",61\r\n"                        /* lines 6-7 */
        "P3,neg,70";                                     /* line 8, no final end */
    assert_int_equal(parse(csv, &t, &err), SV_OK);
    assert_int_equal(t.nrow, 3);
    assert_int_equal(sv_csv_line(&t, 0), 4);
    assert_int_equal(sv_csv_line(&t, 1), 6);
    assert_int_equal(sv_csv_line(&t, 2), 8);
    assert_int_equal(sv_csv_line(&t, 3), 0);
    assert_int_equal(sv_csv_line(NULL, 0), 0);
    assert_string_equal(t.cols[1].name, "HER2\nstatus");
    sv_csv_free(&t);
    /* without a header the first record is data, on its own line */
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    o.header = 0;
    assert_int_equal(parse_opts("\n\na,\"b\n\"\nc,d\n", &o, &t, &err), SV_OK);
    assert_int_equal(t.nrow, 2);
    assert_int_equal(sv_csv_line(&t, 0), 3);
    assert_int_equal(sv_csv_line(&t, 1), 5);
    sv_csv_free(&t);
    /* a column that turns text late (the refill pass) keeps the lines */
    assert_int_equal(parse("x\n1\n\"2\n\"\nz\n", &t, &err), SV_OK);
    assert_int_equal(t.cols[0].type, SV_CSV_TEXT);
    assert_int_equal(sv_csv_line(&t, 0), 2);
    assert_int_equal(sv_csv_line(&t, 1), 3);
    assert_int_equal(sv_csv_line(&t, 2), 5);
    sv_csv_free(&t);
    /* CR-only line ends ("CSV (Macintosh)") count as lines too */
    assert_int_equal(parse("a,b\r1,\"x\ry\"\r\r3,4", &t, &err), SV_OK);
    assert_int_equal(t.nrow, 2);
    assert_int_equal(sv_csv_line(&t, 0), 2);
    assert_int_equal(sv_csv_line(&t, 1), 5);
    sv_csv_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_basic),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_line_ends_bom_blank),
        cmocka_unit_test(test_cr_only_line_ends),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_late_text_column),
        cmocka_unit_test(test_header_and_separators),
        cmocka_unit_test(test_error_ragged),
        cmocka_unit_test(test_error_unterminated),
        cmocka_unit_test(test_error_after_quote),
        cmocka_unit_test(test_error_empty),
        cmocka_unit_test(test_error_duplicate_names),
        cmocka_unit_test(test_error_binary),
        cmocka_unit_test(test_error_io),
        cmocka_unit_test(test_number_syntax),
        cmocka_unit_test(test_number_exact_vs_strtod),
        cmocka_unit_test(test_number_long_mantissas_and_midpoints),
        cmocka_unit_test(test_number_locale_independent),
        cmocka_unit_test(test_format_number),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_mutations_never_crash),
        cmocka_unit_test(test_memory_bounded_by_input),
        cmocka_unit_test(test_reader_into_caller_arrays),
        cmocka_unit_test(test_gbsg_fixture),
        cmocka_unit_test(test_physical_lines),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
