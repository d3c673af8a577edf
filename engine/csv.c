/*
 * csv.c - the CSV reader and writer (sv_csv.h).
 *
 * Reading works on one buffer holding the whole input. A single pass
 * tokenises the records; numeric columns are converted as the pass goes,
 * into arrays sized from an upper bound on the number of records (the
 * number of line ends + 1), so nothing is allocated per cell. When a
 * column first meets a cell that is neither missing nor a number, it turns
 * into a text column; the cells before that row are recovered by a second
 * tokenising pass over the rows before the latest such turn (at most one
 * extra pass, and none for an all-numeric file). Text cells are spans into
 * the buffer, unescaped in place at the end.
 *
 * Every read of the buffer is bounds-checked against its length: the
 * input may be anything (the fuzzer calls sv_csv_parse_buffer).
 */
#define _GNU_SOURCE /* strtod_l, newlocale, uselocale */
#include "sv_csv.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sv_io.h"

/* High bit of a span's len: the quoted content holds doubled quotes that
 * still need unescaping. */
#define SPAN_ESCAPED (((size_t)-1 >> 1) + 1)
#define NOT_FLIPPED ((size_t)-1)
/* Rows between checks of the cancel flag and progress reports. */
#define CHECK_EVERY 65536
/* Numbers up to this many bytes are converted from a stack buffer. */
#define NUM_STACK 128

static const char default_na_empty[] = "";
static const char default_na_na[] = "NA";
static const char *const default_na[] = {default_na_empty, default_na_na};

void sv_csv_opts_default(sv_csv_opts *opts)
{
    opts->sep = SV_CSV_DEFAULT_SEP;
    opts->header = 1;
    opts->na = default_na;
    opts->n_na = 2;
}

void sv_csv_wopts_default(sv_csv_wopts *opts)
{
    opts->sep = SV_CSV_DEFAULT_SEP;
    opts->na = "NA";
}

/* ---- numbers ---------------------------------------------------------- */

/* Powers of ten that are exact doubles (10^22 < 2^53 * 2^22 ... each is
 * exactly representable: 5^22 < 2^53). */
static const double exact_pow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Case-insensitive comparison of [s, s+n) with the lower-case word w. */
static int word_eq(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n != k) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return 0;
    }
    return 1;
}

/*
 * Exact conversion of w * 10^e10 (w < 2^64, |e10| <= 27) through the x87
 * 64-bit-mantissa format, for the 16-19 digit decimals that Clinger's fast
 * path cannot take (what "%.17g" and pandas' to_csv write). Both operands
 * are exact (10^27 = 2^27 * 5^27 and 5^27 < 2^64), so the one
 * multiplication or division is correctly rounded to 64 bits: q is within
 * half a 64-bit ulp of the true value. Rounding q to double then gives the
 * correctly rounded double unless the 11 bits it drops lie within one unit
 * of the halfway pattern 0x400, where the true value might sit on the
 * other side of a rounding boundary: then 0 is returned and the caller
 * uses strtod_l. Available only when long double has a 64-bit mantissa and
 * the x87 unit really computes with it (not under a 53-bit precision
 * control or an emulator): ext_available() checks that at run time.
 */
#if defined(LDBL_MANT_DIG) && LDBL_MANT_DIG == 64
static const long double ext_pow10[28] = {
    1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

static int ext_available(void)
{
    volatile long double one = 1.0L, tiny = 0x1p-63L;
    volatile long double sum = one + tiny;
    return sum != one;
}

static int ext_convert(uint64_t w, long e10, int neg, double *out)
{
    if (e10 < -27 || e10 > 27 || w == 0) return 0;
    long double q = e10 >= 0 ? (long double)w * ext_pow10[e10]
                             : (long double)w / ext_pow10[-e10];
    int ex;
    long double fr = frexpl(q, &ex);
    uint64_t m = (uint64_t)ldexpl(fr, 64);
    unsigned low = (unsigned)(m & 0x7FF);
    if (low >= 0x3FF && low <= 0x401) return 0;
    double v = (double)q;
    *out = neg ? -v : v;
    return 1;
}
#else
static int ext_available(void)
{
    return 0;
}

static int ext_convert(uint64_t w, long e10, int neg, double *out)
{
    (void)w;
    (void)e10;
    (void)neg;
    (void)out;
    return 0;
}
#endif

/*
 * The number parser. Syntax first (digits, point, exponent), gathering up
 * to 19 significant digits in a 64-bit integer w and the decimal exponent
 * e, so that the value is w * 10^e when no nonzero digit was dropped.
 * Clinger's fast path: when w <= 2^53 and |e| <= 22 both w and 10^|e| are
 * exact doubles and one IEEE multiplication or division gives the
 * correctly rounded result. Everything else goes to strtod_l in the "C"
 * locale (exact in glibc), on a NUL-terminated copy.
 * c_loc may be (locale_t)0: one is then made for the slow path.
 */
static int parse_number_loc(const char *s, size_t len, double *out,
                            locale_t c_loc, int ext_ok)
{
    const char *p = s, *end = s + len;
    while (p < end && is_blank(*p)) p++;
    while (end > p && is_blank(end[-1])) end--;
    if (p == end) return 0;
    const char *start = p;
    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (p < end && !(*p >= '0' && *p <= '9') && *p != '.') {
        size_t n = (size_t)(end - p);
        if (word_eq(p, n, "inf") || word_eq(p, n, "infinity")) {
            *out = neg ? -INFINITY : INFINITY;
            return 1;
        }
        if (word_eq(p, n, "nan")) {
            *out = NAN;
            return 1;
        }
        return 0;
    }
    uint64_t w = 0;
    int nsig = 0;          /* significant digits kept in w */
    int dropped_nonzero = 0;
    long e10 = 0;
    int ndigits = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        int d = *p - '0';
        ndigits++;
        if (nsig < 19) {
            if (nsig > 0 || d != 0) {
                w = w * 10 + (uint64_t)d;
                nsig++;
            }
        } else {
            e10++;
            if (d != 0) dropped_nonzero = 1;
        }
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            int d = *p - '0';
            ndigits++;
            if (nsig < 19) {
                if (nsig > 0 || d != 0) {
                    w = w * 10 + (uint64_t)d;
                    nsig++;
                }
                e10--;
            } else if (d != 0) {
                dropped_nonzero = 1;
            }
            p++;
        }
    }
    if (ndigits == 0) return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == end || !(*p >= '0' && *p <= '9')) return 0;
        long x = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (x < 100000000) x = x * 10 + (*p - '0');
            p++;
        }
        e10 += eneg ? -x : x;
    }
    if (p != end) return 0;

    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
    if (!dropped_nonzero && w <= ((uint64_t)1 << 53)) {
        double v = (double)w;
        if (e10 == 0) {
            *out = neg ? -v : v;
            return 1;
        }
        if (e10 > 0 && e10 <= 22) {
            v *= exact_pow10[e10];
            *out = neg ? -v : v;
            return 1;
        }
        if (e10 < 0 && e10 >= -22) {
            v /= exact_pow10[-e10];
            *out = neg ? -v : v;
            return 1;
        }
        /* 123e25: move part of the exponent into w while w stays exact. */
        if (e10 > 22 && e10 <= 22 + 16) {
            uint64_t ww = w;
            long k = e10 - 22;
            int ok = 1;
            while (k-- > 0) {
                if (ww > ((uint64_t)1 << 53) / 10) {
                    ok = 0;
                    break;
                }
                ww *= 10;
            }
            if (ok) {
                v = (double)ww * exact_pow10[22];
                *out = neg ? -v : v;
                return 1;
            }
        }
    }

    if (ext_ok && !dropped_nonzero && ext_convert(w, e10, neg, out)) return 1;

    /* Slow path: strtod_l on a bounded, NUL-terminated copy. */
    size_t n = (size_t)(end - start);
    char stackbuf[NUM_STACK];
    char *tmp = n < sizeof stackbuf ? stackbuf : malloc(n + 1);
    if (!tmp) return 0;
    memcpy(tmp, start, n);
    tmp[n] = '\0';
    locale_t loc = c_loc;
    if (loc == (locale_t)0) loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    int ok = 0;
    if (loc != (locale_t)0) {
        char *stop = NULL;
        double v = strtod_l(tmp, &stop, loc);
        if (stop == tmp + n) {
            *out = v;
            ok = 1;
        }
        if (c_loc == (locale_t)0) freelocale(loc);
    }
    if (tmp != stackbuf) free(tmp);
    return ok;
}

int sv_csv_parse_number(const char *s, size_t len, double *out)
{
    if (!s) return 0;
    return parse_number_loc(s, len, out, (locale_t)0, ext_available());
}

/* Shortest of %.15g, %.16g, %.17g that reads back to the same bits; the
 * caller has switched the thread to the "C" locale (c_loc is that locale,
 * for the read-back). Integers below 10^15 are written digit by digit,
 * which is what %.15g would print, five times faster. */
static size_t format_number_c(double x, const char *na, char *buf,
                              locale_t c_loc, int ext_ok)
{
    if (isnan(x)) {
        size_t n = strlen(na);
        if (n >= SV_CSV_NUMBUF) n = SV_CSV_NUMBUF - 1;
        memcpy(buf, na, n);
        buf[n] = '\0';
        return n;
    }
    if (isinf(x)) {
        strcpy(buf, x > 0 ? "Inf" : "-Inf");
        return x > 0 ? 3 : 4;
    }
    if (x > -1e15 && x < 1e15 && x == (double)(int64_t)x) {
        int64_t v = (int64_t)x;
        char tmp[24];
        size_t k = 0;
        uint64_t u = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
        do {
            tmp[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        size_t n = 0;
        if (v < 0 || (v == 0 && signbit(x))) buf[n++] = '-';
        while (k) buf[n++] = tmp[--k];
        buf[n] = '\0';
        return n;
    }
    /* Few decimals (0.1344, -452.6478): the smallest k with an integer m
     * such that m / 10^k == x, m <= 2^53. The reader converts that text by
     * exactly this division (Clinger's path), so it reads back to x. */
    double ax = fabs(x);
    if (ax >= 1e-5 && ax < 1e15) {
        for (int k = 1; k <= 22; k++) {
            double scaled = ax * exact_pow10[k];
            if (scaled > 9007199254740992.0) break;
            double m = floor(scaled + 0.5);
            if (m / exact_pow10[k] != ax) continue;
            uint64_t u = (uint64_t)m;
            char tmp[24];
            size_t nd = 0;
            do {
                tmp[nd++] = (char)('0' + u % 10);
                u /= 10;
            } while (u);
            while (nd <= (size_t)k) tmp[nd++] = '0'; /* 0.0123: leading zeros */
            size_t n = 0;
            if (x < 0) buf[n++] = '-';
            while (nd > (size_t)k) buf[n++] = tmp[--nd];
            buf[n++] = '.';
            while (nd) buf[n++] = tmp[--nd];
            buf[n] = '\0';
            return n;
        }
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, SV_CSV_NUMBUF, "%.*g", prec, x);
        if (prec == 17) break;
        double back;
        if (parse_number_loc(buf, (size_t)n, &back, c_loc, ext_ok) &&
            memcmp(&back, &x, sizeof x) == 0)
            break;
    }
    return (size_t)n;
}

size_t sv_csv_format_number(double x, const char *na, char *buf)
{
    if (!na) na = "NA";
    locale_t c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = (locale_t)0;
    if (c_loc != (locale_t)0) old = uselocale(c_loc);
    size_t n = format_number_c(x, na, buf, c_loc, ext_available());
    if (c_loc != (locale_t)0) {
        uselocale(old);
        freelocale(c_loc);
    }
    return n;
}

/* ---- the tokeniser ---------------------------------------------------- */

typedef struct csv_field {
    size_t start, end; /* content; for a quoted field without its quotes */
    int quoted;
    int escaped;       /* quoted content holds doubled quotes */
} csv_field;

typedef struct csv_parser {
    char *buf;
    size_t len;
    const char *name;
    char sep;
    const char *const *na;
    size_t n_na;
    size_t na_len[SV_CSV_MAX_NA];
    unsigned char special[256]; /* bytes that end an unquoted field */
    size_t line;                /* 1-based line of the current position */
    locale_t c_loc;
    int fast_numbers;           /* no NA string is a number: fast_cell is safe */
    int ext_ok;                 /* ext_convert may be used (ext_available) */
    sv_csv_table *t;            /* column names for messages */
    sv_err *err;
} csv_parser;

/* "name: line L, column C (name): message" */
static sv_status fail_at(csv_parser *P, size_t line, size_t col,
                         const char *msg)
{
    char where[200];
    if (col == (size_t)-1) {
        snprintf(where, sizeof where, "line %zu", line);
    } else if (P->t && P->t->cols && col < P->t->ncol && P->t->cols[col].name) {
        snprintf(where, sizeof where, "line %zu, column %zu (%.60s)", line,
                 col + 1, P->t->cols[col].name);
    } else {
        snprintf(where, sizeof where, "line %zu, column %zu", line, col + 1);
    }
    return sv_err_set(P->err, SV_EFORMAT, "%s: %s: %s", P->name, where, msg);
}

/*
 * Scans the field at *pos (column col, for messages). Leaves *pos on the
 * byte after the field: a separator, a line end, or the end of input.
 */
static sv_status scan_field(csv_parser *P, size_t *pos, size_t col,
                            csv_field *f)
{
    const char *b = P->buf;
    size_t len = P->len, p = *pos;
    f->quoted = 0;
    f->escaped = 0;
    if (p < len && b[p] == '"') {
        size_t open_line = P->line;
        f->quoted = 1;
        p++;
        f->start = p;
        for (;;) {
            while (p < len && b[p] != '"') {
                if (b[p] == '\n' || (b[p] == '\r' && (p + 1 == len || b[p + 1] != '\n')))
                    P->line++;
                else if (b[p] == '\0')
                    return fail_at(P, P->line, col, "NUL byte in a quoted field (is this a binary file?)");
                p++;
            }
            if (p >= len) {
                char msg[96];
                snprintf(msg, sizeof msg,
                         "unterminated quoted field (the quote opened on line %zu is never closed)",
                         open_line);
                return fail_at(P, open_line, col, msg);
            }
            if (p + 1 < len && b[p + 1] == '"') {
                f->escaped = 1;
                p += 2;
                continue;
            }
            f->end = p;
            p++;
            break;
        }
        if (p < len && b[p] != P->sep && b[p] != '\n' && b[p] != '\r') {
            if (b[p] == '\0')
                return fail_at(P, P->line, col, "NUL byte (is this a binary file?)");
            char msg[96];
            unsigned char c = (unsigned char)b[p];
            if (c >= 32 && c < 127)
                snprintf(msg, sizeof msg, "unexpected '%c' after a closing quote", c);
            else
                snprintf(msg, sizeof msg, "unexpected byte 0x%02x after a closing quote", c);
            return fail_at(P, P->line, col, msg);
        }
    } else {
        f->start = p;
        for (;;) {
            while (p < len && !P->special[(unsigned char)b[p]]) p++;
            if (p >= len) break;
            char c = b[p];
            if (c == P->sep || c == '\n' || c == '\r') break;
            /* c == '\0' */
            return fail_at(P, P->line, col, "NUL byte (is this a binary file?)");
        }
        f->end = p;
    }
    *pos = p;
    return SV_OK;
}

/* At a line end (LF, CRLF or a lone CR, as R and pandas read them: Excel's
 * "CSV (Macintosh)" ends lines with CR only) or the end of input: steps
 * over it. */
static void skip_line_end(csv_parser *P, size_t *pos)
{
    size_t p = *pos;
    if (p < P->len && P->buf[p] == '\r') {
        p++;
        if (p < P->len && P->buf[p] == '\n') p++;
        P->line++;
    } else if (p < P->len && P->buf[p] == '\n') {
        p++;
        P->line++;
    }
    *pos = p;
}

/* Steps over blank lines (LF, CRLF or CR alone). */
static void skip_blank_lines(csv_parser *P, size_t *pos)
{
    for (;;) {
        size_t p = *pos;
        if (p >= P->len || (P->buf[p] != '\n' && P->buf[p] != '\r')) break;
        skip_line_end(P, pos);
    }
}

/* Does the content of f equal one of the NA strings? */
static int field_is_na(const csv_parser *P, const csv_field *f)
{
    size_t n = f->end - f->start;
    const char *s = P->buf + f->start;
    if (f->escaped) {
        /* Compare the unescaped content without materialising it. */
        for (size_t k = 0; k < P->n_na; k++) {
            const char *na = P->na[k];
            size_t i = 0, j = 0, m = P->na_len[k];
            int same = 1;
            while (i < n) {
                char c = s[i];
                i += (c == '"') ? 2 : 1;
                if (j >= m || na[j] != c) {
                    same = 0;
                    break;
                }
                j++;
            }
            if (same && j == m) return 1;
        }
        return 0;
    }
    for (size_t k = 0; k < P->n_na; k++)
        if (P->na_len[k] == n && (n == 0 || memcmp(P->na[k], s, n) == 0)) return 1;
    return 0;
}

/* Records f as the text cell at `row` of column c. */
static void store_text(const csv_parser *P, sv_csv_column *c, size_t row,
                       const csv_field *f)
{
    if (!f->quoted && field_is_na(P, f)) {
        c->text[row].off = SV_CSV_MISSING;
        c->text[row].len = 0;
        return;
    }
    c->text[row].off = f->start;
    c->text[row].len = (f->end - f->start) | (f->escaped ? SPAN_ESCAPED : 0);
}

/* Unescapes "" -> " in place in a quoted span; returns the new length. */
static size_t unescape_in_place(char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        s[w++] = s[i];
        if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') i++;
    }
    return w;
}

/* ---- the reader ------------------------------------------------------- */

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void sv_csv_free(sv_csv_table *t)
{
    if (!t) return;
    if (t->cols) {
        for (size_t j = 0; j < t->ncol; j++) {
            free(t->cols[j].name);
            if (!t->num_borrowed) free(t->cols[j].num);
            free(t->cols[j].text);
        }
    }
    free(t->cols);
    free(t->buf);
    free(t->line);
    memset(t, 0, sizeof *t);
}

size_t sv_csv_line(const sv_csv_table *t, size_t row)
{
    if (!t || !t->line || row >= t->nrow) return 0;
    return t->line[row];
}

const char *sv_csv_text(const sv_csv_table *t, size_t col, size_t row,
                        size_t *len)
{
    if (!t || col >= t->ncol || row >= t->nrow || t->cols[col].type != SV_CSV_TEXT) {
        if (len) *len = 0;
        return NULL;
    }
    const sv_csv_span *s = &t->cols[col].text[row];
    if (s->off == SV_CSV_MISSING) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = s->len;
    return t->buf + s->off;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Refuses duplicate column names (hash table of column indices). */
static sv_status check_duplicates(csv_parser *P, size_t header_line)
{
    sv_csv_table *t = P->t;
    size_t cap = 16;
    while (cap < 2 * t->ncol) cap *= 2;
    size_t *slot = sv_malloc(cap, sizeof *slot);
    if (!slot) return sv_err_set(P->err, SV_ENOMEM, "%s: out of memory", P->name);
    for (size_t i = 0; i < cap; i++) slot[i] = (size_t)-1;
    sv_status st = SV_OK;
    for (size_t j = 0; j < t->ncol && st == SV_OK; j++) {
        const sv_csv_column *c = &t->cols[j];
        size_t h = (size_t)hash_bytes(c->name, c->name_len) & (cap - 1);
        while (slot[h] != (size_t)-1) {
            const sv_csv_column *o = &t->cols[slot[h]];
            if (o->name_len == c->name_len && memcmp(o->name, c->name, c->name_len) == 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "duplicate column name '%.60s' (also column %zu)",
                         c->name, slot[h] + 1);
                st = fail_at(P, header_line, j, msg);
                break;
            }
            h = (h + 1) & (cap - 1);
        }
        slot[h] = j;
    }
    free(slot);
    return st;
}

/* Gathers the fields of the first record into a growing array. */
static sv_status first_record(csv_parser *P, size_t *pos, csv_field **out,
                              size_t *nout)
{
    size_t cap = 16, n = 0;
    csv_field *fs = malloc(cap * sizeof *fs);
    if (!fs) return sv_err_set(P->err, SV_ENOMEM, "%s: out of memory", P->name);
    for (;;) {
        if (n == cap) {
            csv_field *g = cap > ((size_t)-1) / 2 / sizeof *fs ? NULL
                                                               : realloc(fs, 2 * cap * sizeof *fs);
            if (!g) {
                free(fs);
                return sv_err_set(P->err, SV_ENOMEM, "%s: out of memory", P->name);
            }
            fs = g;
            cap *= 2;
        }
        sv_status st = scan_field(P, pos, n, &fs[n]);
        if (st != SV_OK) {
            free(fs);
            return st;
        }
        n++;
        if (*pos < P->len && P->buf[*pos] == P->sep) {
            (*pos)++;
            continue;
        }
        break;
    }
    *out = fs;
    *nout = n;
    return SV_OK;
}

/* Which pass over the data records. */
typedef enum pass_kind {
    PASS_MAIN,   /* convert numbers, find text columns, validate */
    PASS_REFILL  /* collect the text cells before each column turned text */
} pass_kind;

/*
 * The fused fast path for an unquoted numeric cell at p: sign, digits,
 * point, exponent in one sweep that must end at the end of the field.
 * Returns 1 with *x and *next (the byte after the cell) when the number
 * has at most 19 digits, w <= 2^53 and a decimal exponent within 22, so
 * that Clinger's fast path is exact; else 0, and the caller takes the
 * general path (scan the field, then parse_number_loc) from p again.
 */
static int fast_cell(const char *b, size_t len, size_t p, char sep, int ext_ok,
                     double *x, size_t *next)
{
    size_t q = p;
    int neg = 0;
    if (q < len && (b[q] == '-' || b[q] == '+')) {
        neg = b[q] == '-';
        q++;
    }
    uint64_t w = 0;
    size_t s0 = q;
    while (q < len && (unsigned)(b[q] - '0') < 10) {
        w = w * 10 + (uint64_t)(b[q] - '0');
        q++;
        if (q - s0 > 19) return 0;
    }
    size_t nd = q - s0;
    long e = 0;
    if (q < len && b[q] == '.') {
        q++;
        size_t f0 = q;
        while (q < len && (unsigned)(b[q] - '0') < 10) {
            w = w * 10 + (uint64_t)(b[q] - '0');
            q++;
            if (nd + (q - f0) > 19) return 0;
        }
        e = -(long)(q - f0);
        nd += q - f0;
    }
    if (nd == 0) return 0;
    if (q < len && (b[q] == 'e' || b[q] == 'E')) {
        q++;
        int eneg = 0;
        if (q < len && (b[q] == '-' || b[q] == '+')) {
            eneg = b[q] == '-';
            q++;
        }
        size_t e0 = q;
        long ev = 0;
        while (q < len && (unsigned)(b[q] - '0') < 10) {
            if (q - e0 >= 4) return 0;
            ev = ev * 10 + (b[q] - '0');
            q++;
        }
        if (q == e0) return 0;
        e += eneg ? -ev : ev;
    }
    if (q < len) {
        char c = b[q];
        if (c != sep && c != '\n' && c != '\r') return 0;
    }
    if (w > ((uint64_t)1 << 53) || e < -22 || e > 22) {
        if (ext_ok && ext_convert(w, e, neg, x)) {
            *next = q;
            return 1;
        }
        return 0;
    }
    double v = (double)w;
    if (e < 0) v /= exact_pow10[-e];
    else if (e > 0) v *= exact_pow10[e];
    *x = neg ? -v : v;
    *next = q;
    return 1;
}

/* Numeric cell of column c at row r: a number, a missing value, or the
 * cell that turns the column into text. */
static sv_status numeric_cell(csv_parser *P, sv_csv_column *c, size_t *flip,
                              size_t r, size_t bound, const csv_field *f)
{
    double x;
    if (field_is_na(P, f)) {
        c->num[r] = NAN;
        return SV_OK;
    }
    if (!f->escaped &&
        parse_number_loc(P->buf + f->start, f->end - f->start, &x, P->c_loc, P->ext_ok)) {
        c->num[r] = x;
        return SV_OK;
    }
    c->text = sv_malloc(bound, sizeof *c->text);
    if (!c->text) return sv_err_set(P->err, SV_ENOMEM, "%s: out of memory", P->name);
    if (!P->t->num_borrowed) free(c->num);
    c->num = NULL;
    c->type = SV_CSV_TEXT;
    *flip = r;
    store_text(P, c, r, f);
    return SV_OK;
}

static sv_status data_pass(csv_parser *P, size_t pos, pass_kind kind,
                           size_t *flip, size_t refill_rows, size_t bound,
                           const sv_ctx *ctx, size_t *nrow_out)
{
    sv_csv_table *t = P->t;
    size_t ncol = t->ncol, row = 0;
    csv_field f;
    for (;;) {
        skip_blank_lines(P, &pos);
        if (pos >= P->len) break;
        if (kind == PASS_REFILL && row >= refill_rows) break;
        if ((row & (CHECK_EVERY - 1)) == 0 && row > 0 && ctx) {
            if (sv_ctx_cancelled(ctx))
                return sv_err_set(P->err, SV_EINTR, "%s: interrupted", P->name);
            if (ctx->progress && kind == PASS_MAIN)
                ctx->progress(ctx->progress_ud, "read_csv", pos, P->len);
        }
        if (row >= bound) /* cannot happen: bound counts line ends */
            return sv_err_set(P->err, SV_EFORMAT, "%s: internal error: row bound", P->name);
        size_t rec_line = P->line, j = 0;
        if (kind == PASS_MAIN) t->line[row] = rec_line;
        for (;;) {
            double x;
            size_t next;
            if (kind == PASS_MAIN && P->fast_numbers && j < ncol &&
                t->cols[j].type == SV_CSV_NUMERIC &&
                fast_cell(P->buf, P->len, pos, P->sep, P->ext_ok, &x, &next)) {
                t->cols[j].num[row] = x;
                pos = next;
                goto field_done;
            }
            sv_status st = scan_field(P, &pos, j, &f);
            if (st != SV_OK) return st;
            if (j < ncol) {
                sv_csv_column *c = &t->cols[j];
                if (kind == PASS_MAIN) {
                    if (c->type == SV_CSV_NUMERIC)
                        st = numeric_cell(P, c, &flip[j], row, bound, &f);
                    else
                        store_text(P, c, row, &f);
                    if (st != SV_OK) return st;
                } else if (flip[j] != NOT_FLIPPED && row < flip[j]) {
                    store_text(P, c, row, &f);
                }
            }
        field_done:
            j++;
            if (pos < P->len && P->buf[pos] == P->sep) {
                pos++;
                continue;
            }
            break;
        }
        if (j != ncol) {
            char msg[160];
            if (j < ncol)
                snprintf(msg, sizeof msg, "the record has %zu field%s, expected %zu (missing column %zu)",
                         j, j == 1 ? "" : "s", ncol, j + 1);
            else
                snprintf(msg, sizeof msg, "the record has %zu fields, expected %zu (extra column %zu)",
                         j, ncol, ncol + 1);
            return fail_at(P, rec_line, j < ncol ? j : ncol, msg);
        }
        skip_line_end(P, &pos);
        row++;
    }
    *nrow_out = row;
    return SV_OK;
}

/* The state between sv_csv_reader_open* and sv_csv_reader_parse. */
struct sv_csv_reader {
    csv_parser P;       /* P.t points to t; P.err is the current call's */
    sv_csv_table t;     /* the buffer and the names, until parsed */
    char *name;         /* the label of messages (a copy) */
    size_t data_pos, data_line, bound;
    int parsed;
};

void sv_csv_reader_free(sv_csv_reader *rd)
{
    if (!rd) return;
    sv_csv_free(&rd->t);
    if (rd->P.c_loc != (locale_t)0) freelocale(rd->P.c_loc);
    free(rd->name);
    free(rd);
}

size_t sv_csv_reader_ncol(const sv_csv_reader *rd)
{
    return rd ? rd->t.ncol : 0;
}

size_t sv_csv_reader_row_bound(const sv_csv_reader *rd)
{
    return rd ? rd->bound : 0;
}

/* Phase one: the byte-order mark, the first record (the names), the
 * duplicate check and the bound on the number of records. */
static sv_status reader_begin(sv_csv_reader *rd, const sv_csv_opts *opts)
{
    csv_parser *P = &rd->P;
    sv_csv_table *t = P->t;
    size_t pos = 0;
    P->line = 1;
    const unsigned char *u = (const unsigned char *)P->buf;
    if (P->len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) pos = 3;
    else if (P->len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return sv_err_set(P->err, SV_EFORMAT,
                          "%s: the file is UTF-16 (byte-order mark); convert it to UTF-8", P->name);
    else if (P->len >= 2 && u[0] == 0x1F && u[1] == 0x8B)
        return sv_err_set(P->err, SV_EFORMAT,
                          "%s: a gzip-compressed file, not CSV text; decompress it first", P->name);
    else if (P->len >= 4 && memcmp(u, "PK\x03\x04", 4) == 0)
        return sv_err_set(P->err, SV_EFORMAT,
                          "%s: a ZIP archive (an .xlsx workbook?), not CSV text; read it with sv.read_xlsx", P->name);
    else if (P->len >= 8 && memcmp(u, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
        return sv_err_set(P->err, SV_EFORMAT,
                          "%s: an OLE document (an .xls workbook?), not CSV text; export it as CSV", P->name);
    skip_blank_lines(P, &pos);
    if (pos >= P->len)
        return sv_err_set(P->err, SV_EFORMAT, "%s: empty file (no header and no data)", P->name);

    /* The first record gives the number of columns (and the names). */
    size_t first_line = P->line, first_pos = pos;
    csv_field *fs = NULL;
    size_t nf = 0;
    sv_status st = first_record(P, &pos, &fs, &nf);
    if (st != SV_OK) return st;
    t->cols = sv_calloc(nf, sizeof *t->cols);
    if (!t->cols) {
        free(fs);
        return sv_err_set(P->err, SV_ENOMEM, "%s: out of memory", P->name);
    }
    t->ncol = nf;
    for (size_t j = 0; j < nf; j++) {
        sv_csv_column *c = &t->cols[j];
        char vname[32];
        const char *src = vname;
        size_t n;
        if (opts->header && fs[j].end > fs[j].start) {
            src = P->buf + fs[j].start;
            n = fs[j].end - fs[j].start;
        } else {
            n = (size_t)snprintf(vname, sizeof vname, "V%zu", j + 1);
        }
        c->name = dup_range(src, n);
        if (!c->name) {
            free(fs);
            return sv_err_set(P->err, SV_ENOMEM, "%s: out of memory", P->name);
        }
        c->name_len = fs[j].escaped && src != vname ? unescape_in_place(c->name, n) : n;
        c->name[c->name_len] = '\0';
    }
    free(fs);
    if (opts->header) {
        st = check_duplicates(P, first_line);
        if (st != SV_OK) return st;
        skip_line_end(P, &pos);
    } else {
        pos = first_pos;
        P->line = first_line;
    }
    rd->data_pos = pos;
    rd->data_line = P->line;

    /* Upper bound on the records: line ends (LF, and CR not before LF) + 1;
     * also, since a record of
     * nf fields takes nf - 1 separators and a line end, (bytes + 1) / nf.
     * The second keeps the arrays within 8 bytes per input byte whatever
     * the input (a fuzzer's many-column header over blank lines). */
    size_t bound = 1;
    for (const char *q = P->buf + pos, *e = P->buf + P->len;
         q < e && (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++)
        bound++;
    for (const char *q = P->buf + pos, *e = P->buf + P->len;
         q < e && (q = memchr(q, '\r', (size_t)(e - q))) != NULL; q++)
        if (q + 1 == e || q[1] != '\n') bound++;
    size_t by_size = (P->len - pos + 1) / nf + 1;
    if (by_size < bound) bound = by_size;
    rd->bound = bound;
    return SV_OK;
}

sv_status sv_csv_reader_parse(sv_csv_reader *rd, double *const *dest,
                              const sv_ctx *ctx, sv_csv_table *out,
                              sv_err *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!rd || !out) return sv_err_set(err, SV_EINVAL, "sv_csv_reader_parse: NULL argument");
    if (rd->parsed) return sv_err_set(err, SV_EINVAL, "sv_csv_reader_parse: already parsed");
    rd->parsed = 1;
    csv_parser *P = &rd->P;
    sv_csv_table *t = &rd->t;
    P->err = err;
    size_t nf = t->ncol, bound = rd->bound;
    t->num_borrowed = dest != NULL;
    sv_status st = SV_OK;
    size_t *flip = sv_malloc(nf, sizeof *flip);
    if (!flip) st = sv_err_set(err, SV_ENOMEM, "%s: out of memory", P->name);
    for (size_t j = 0; j < nf && st == SV_OK; j++) {
        flip[j] = NOT_FLIPPED;
        t->cols[j].type = SV_CSV_NUMERIC;
        t->cols[j].num = dest ? dest[j] : sv_malloc(bound, sizeof(double));
        if (!t->cols[j].num)
            st = sv_err_set(err, SV_ENOMEM, "%s: out of memory (%zu columns of up to %zu rows)",
                            P->name, nf, bound);
    }
    if (st == SV_OK) {
        t->line = sv_malloc(bound, sizeof *t->line);
        if (!t->line) st = sv_err_set(err, SV_ENOMEM, "%s: out of memory (line numbers of up to %zu rows)",
                                      P->name, bound);
    }
    size_t nrow = 0;
    if (st == SV_OK) st = data_pass(P, rd->data_pos, PASS_MAIN, flip, 0, bound, ctx, &nrow);
    if (st == SV_OK) {
        size_t refill = 0;
        for (size_t j = 0; j < nf; j++)
            if (flip[j] != NOT_FLIPPED && flip[j] > refill) refill = flip[j];
        if (refill > 0) {
            size_t ignored;
            P->line = rd->data_line;
            st = data_pass(P, rd->data_pos, PASS_REFILL, flip, refill, bound, ctx, &ignored);
        }
    }
    free(flip);
    if (st != SV_OK) {
        sv_csv_free(t);
        return st;
    }
    t->nrow = nrow;

    /* Unescape the quoted text cells that hold doubled quotes. */
    for (size_t j = 0; j < nf; j++) {
        sv_csv_column *c = &t->cols[j];
        if (c->type != SV_CSV_TEXT) continue;
        for (size_t r = 0; r < nrow; r++) {
            sv_csv_span *s = &c->text[r];
            if (s->off != SV_CSV_MISSING && (s->len & SPAN_ESCAPED))
                s->len = unescape_in_place(P->buf + s->off, s->len & ~SPAN_ESCAPED);
        }
    }
    if (ctx && ctx->progress) ctx->progress(ctx->progress_ud, "read_csv", P->len, P->len);
    *out = *t;
    memset(t, 0, sizeof *t);
    return SV_OK;
}

/* Sets up a reader around an owned buffer (taken over even on failure)
 * and runs phase one. */
static sv_status reader_open_owned(char *buf, size_t len, const char *name,
                                   const sv_csv_opts *opts, sv_csv_reader **out,
                                   sv_err *err)
{
    *out = NULL;
    sv_csv_opts def;
    if (!opts) {
        sv_csv_opts_default(&def);
        opts = &def;
    }
    sv_csv_reader *rd = calloc(1, sizeof *rd);
    if (!rd) {
        free(buf);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    rd->t.buf = buf;
    rd->t.buf_len = len;
    rd->name = dup_range(name ? name : "(buffer)", strlen(name ? name : "(buffer)"));
    csv_parser *P = &rd->P;
    P->buf = buf;
    P->len = len;
    P->name = rd->name;
    P->t = &rd->t;
    P->err = err;
    char sep = opts->sep;
    sv_status st = SV_OK;
    if (!rd->name)
        st = sv_err_set(err, SV_ENOMEM, "out of memory");
    else if (sep == '"' || sep == '\n' || sep == '\r' || sep == '\0')
        st = sv_err_set(err, SV_EINVAL, "separator must not be a quote, a line end or NUL");
    else if (opts->n_na > SV_CSV_MAX_NA || (opts->n_na > 0 && !opts->na))
        st = sv_err_set(err, SV_EINVAL, "at most %d NA strings", SV_CSV_MAX_NA);
    P->sep = sep;
    P->na = opts->na;
    P->n_na = st == SV_OK ? opts->n_na : 0;
    for (size_t k = 0; k < P->n_na && st == SV_OK; k++) {
        if (!P->na[k]) st = sv_err_set(err, SV_EINVAL, "NA string %zu is NULL", k + 1);
        else P->na_len[k] = strlen(P->na[k]);
    }
    /* fast_cell skips the NA check, which only matters when an NA string
     * is itself a number ("-999"). */
    P->fast_numbers = 1;
    for (size_t k = 0; k < P->n_na && st == SV_OK; k++) {
        double ignored;
        if (parse_number_loc(P->na[k], P->na_len[k], &ignored, (locale_t)0, 0)) P->fast_numbers = 0;
    }
    P->ext_ok = ext_available();
    P->special[(unsigned char)sep] = 1;
    P->special['\n'] = 1;
    P->special['\r'] = 1;
    P->special[0] = 1;
    if (st == SV_OK) {
        P->c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        if (P->c_loc == (locale_t)0)
            st = sv_err_set(err, SV_ENOMEM, "%s: cannot create the C locale", P->name);
    }
    if (st == SV_OK) st = reader_begin(rd, opts);
    if (st != SV_OK) {
        sv_csv_reader_free(rd);
        return st;
    }
    *out = rd;
    return SV_OK;
}

sv_status sv_csv_reader_open_buffer(const char *data, size_t len,
                                    const char *name, const sv_csv_opts *opts,
                                    sv_csv_reader **out, sv_err *err)
{
    if (!out) return sv_err_set(err, SV_EINVAL, "sv_csv_reader_open_buffer: NULL argument");
    *out = NULL;
    if (!data && len > 0) return sv_err_set(err, SV_EINVAL, "sv_csv_reader_open_buffer: NULL argument");
    char *buf = malloc(len + 1);
    if (!buf) return sv_err_set(err, SV_ENOMEM, "%s: out of memory (%zu bytes)",
                                name ? name : "(buffer)", len);
    if (len) memcpy(buf, data, len);
    buf[len] = '\0';
    return reader_open_owned(buf, len, name, opts, out, err);
}

/* Reads a whole file (or pipe) into a malloc'd buffer. */
static sv_status slurp(const char *path, char **buf_out, size_t *len_out,
                       sv_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return sv_err_set(err, SV_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    size_t cap = 1 << 16;
    if (fstat(fileno(fp), &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            fclose(fp);
            return sv_err_set(err, SV_EIO, "cannot read '%s': %s", path, strerror(EISDIR));
        }
        if (S_ISREG(sb.st_mode) && sb.st_size >= 0 && (uint64_t)sb.st_size < (uint64_t)SIZE_MAX / 2)
            cap = (size_t)sb.st_size + 1;
    }
    char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return sv_err_set(err, SV_ENOMEM, "cannot read '%s': out of memory (%zu bytes)", path, cap);
    }
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            char *g = cap > ((size_t)-1) / 2 ? NULL : realloc(buf, cap * 2);
            if (!g) {
                free(buf);
                fclose(fp);
                return sv_err_set(err, SV_ENOMEM, "cannot read '%s': out of memory", path);
            }
            buf = g;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    if (ferror(fp)) {
        int e = errno;
        free(buf);
        fclose(fp);
        return sv_err_set(err, SV_EIO, "cannot read '%s': %s", path, strerror(e ? e : EIO));
    }
    fclose(fp);
    *buf_out = buf;
    *len_out = len;
    return SV_OK;
}

sv_status sv_csv_reader_open(const char *path, const sv_csv_opts *opts,
                             sv_csv_reader **out, sv_err *err)
{
    if (!out) return sv_err_set(err, SV_EINVAL, "sv_csv_reader_open: NULL argument");
    *out = NULL;
    if (!path) return sv_err_set(err, SV_EINVAL, "sv_csv_reader_open: NULL argument");
    char *buf = NULL;
    size_t len = 0;
    sv_status st = slurp(path, &buf, &len, err);
    if (st != SV_OK) return st;
    return reader_open_owned(buf, len, path, opts, out, err);
}

sv_status sv_csv_read(const char *path, const sv_csv_opts *opts,
                      const sv_ctx *ctx, sv_csv_table *out, sv_err *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out) return sv_err_set(err, SV_EINVAL, "sv_csv_read: NULL argument");
    sv_csv_reader *rd;
    sv_status st = sv_csv_reader_open(path, opts, &rd, err);
    if (st != SV_OK) return st;
    st = sv_csv_reader_parse(rd, NULL, ctx, out, err);
    sv_csv_reader_free(rd);
    return st;
}

sv_status sv_csv_parse_buffer(const char *data, size_t len, const char *name,
                              const sv_csv_opts *opts, const sv_ctx *ctx,
                              sv_csv_table *out, sv_err *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!out || (!data && len > 0))
        return sv_err_set(err, SV_EINVAL, "sv_csv_parse_buffer: NULL argument");
    sv_csv_reader *rd;
    sv_status st = sv_csv_reader_open_buffer(data, len, name, opts, &rd, err);
    if (st != SV_OK) return st;
    st = sv_csv_reader_parse(rd, NULL, ctx, out, err);
    sv_csv_reader_free(rd);
    return st;
}

/* ---- the writer ------------------------------------------------------- */

static int needs_quotes(const char *s, size_t n, char sep, const char *na,
                        int first_col)
{
    if (n == 0) return 1;
    if (na && strlen(na) == n && memcmp(na, s, n) == 0) return 1;
    if (n == 2 && s[0] == 'N' && s[1] == 'A') return 1; /* the default NA */
    if (first_col && n >= 3 && (unsigned char)s[0] == 0xEF &&
        (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
        return 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == sep || c == '"' || c == '\n' || c == '\r') return 1;
    }
    return 0;
}

static void put_text(FILE *fp, const char *s, size_t n, char sep,
                     const char *na, int first_col)
{
    if (!needs_quotes(s, n, sep, na, first_col)) {
        fwrite(s, 1, n, fp);
        return;
    }
    putc('"', fp);
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            fwrite(s + from, 1, i + 1 - from, fp);
            putc('"', fp);
            from = i + 1;
        }
    }
    fwrite(s + from, 1, n - from, fp);
    putc('"', fp);
}

sv_status sv_csv_write(const char *path, const sv_csv_wcol *cols,
                       size_t ncol, size_t nrow, const sv_csv_wopts *opts,
                       const sv_ctx *ctx, sv_err *err)
{
    sv_csv_wopts def;
    if (!opts) {
        sv_csv_wopts_default(&def);
        opts = &def;
    }
    char sep = opts->sep;
    const char *na = opts->na;
    if (sep == '"' || sep == '\n' || sep == '\r' || sep == '\0')
        return sv_err_set(err, SV_EINVAL, "separator must not be a quote, a line end or NUL");
    if (!na) return sv_err_set(err, SV_EINVAL, "the NA string is NULL");
    if (strchr(na, sep) || strchr(na, '"') || strchr(na, '\n') || strchr(na, '\r'))
        return sv_err_set(err, SV_EINVAL, "the NA string must not hold the separator, a quote or a line end");
    for (size_t j = 0; j < ncol; j++)
        if (!cols[j].name || (!cols[j].num && !cols[j].text))
            return sv_err_set(err, SV_EINVAL, "column %zu has no name or no data", j + 1);
    if (ncol == 0)
        return sv_err_set(err, SV_EINVAL, "cannot write '%s': no columns", path);

    sv_atomic_file af;
    sv_status st = sv_atomic_open(&af, path, err);
    if (st != SV_OK) return st;
    setvbuf(af.fp, NULL, _IOFBF, 1 << 20);
    locale_t c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_loc == (locale_t)0) {
        sv_atomic_abort(&af);
        return sv_err_set(err, SV_ENOMEM, "cannot write '%s': cannot create the C locale", path);
    }
    locale_t old = uselocale(c_loc);
    int ext_ok = ext_available();

    for (size_t j = 0; j < ncol; j++) {
        if (j) putc(sep, af.fp);
        put_text(af.fp, cols[j].name, strlen(cols[j].name), sep, na, j == 0);
    }
    putc('\n', af.fp);
    char num[SV_CSV_NUMBUF];
    for (size_t i = 0; i < nrow; i++) {
        if ((i & (CHECK_EVERY - 1)) == 0 && i > 0 && ctx) {
            if (sv_ctx_cancelled(ctx)) {
                st = sv_err_set(err, SV_EINTR, "%s: interrupted", path);
                break;
            }
            if (ctx->progress) ctx->progress(ctx->progress_ud, "write_csv", i, nrow);
        }
        for (size_t j = 0; j < ncol; j++) {
            if (j) putc(sep, af.fp);
            const sv_csv_wcol *c = &cols[j];
            if (c->num) {
                size_t n = format_number_c(c->num[i], na, num, c_loc, ext_ok);
                fwrite(num, 1, n, af.fp);
            } else if (c->text[i] == NULL) {
                fputs(na, af.fp);
            } else {
                size_t n = c->text_len ? c->text_len[i] : strlen(c->text[i]);
                put_text(af.fp, c->text[i], n, sep, na, j == 0);
            }
        }
        putc('\n', af.fp);
    }
    uselocale(old);
    freelocale(c_loc);
    if (st != SV_OK) {
        sv_atomic_abort(&af);
        return st;
    }
    if (ctx && ctx->progress) ctx->progress(ctx->progress_ud, "write_csv", nrow, nrow);
    return sv_atomic_commit(&af, err);
}
