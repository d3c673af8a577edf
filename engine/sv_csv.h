/*
 * sv_csv.h - reading and writing CSV files (RFC 4180).
 *
 * Reading: the whole input is held in one buffer and tokenised in a single
 * pass. Each column is numeric when every non-missing cell parses as a
 * number (missing cells become NaN), else text. Numbers are converted
 * exactly (correctly rounded, as strtod in the "C" locale): Clinger's
 * (1990) exact fast path for mantissas up to 2^53 and exponents within 22,
 * an x87 extended-precision path with a double-rounding guard for 16-19
 * digit mantissas (what "%.17g" writes), else strtod_l. Text cells are spans into the
 * buffer; no memory is allocated per cell.
 *
 * Dialect (what R's read.csv and pandas' read_csv accept, strict where
 * they guess):
 * - a field is either unquoted (any bytes but the separator, the line
 *   end, and NUL) or enclosed in double quotes, where the separator and
 *   line ends are data and a doubled quote "" stands for one quote; only
 *   the separator or the end of the line may follow a closing quote;
 * - records end with LF, CRLF or a lone CR (CR-only files, as R and pandas
 *   read them; inside quotes CR is data); a record that
 *   is entirely empty (a blank line) is skipped; a final line end is
 *   optional; a UTF-8 byte-order mark at the start is skipped;
 * - every record has as many fields as the header (or as the first record
 *   when there is no header);
 * - missing: a cell whose content equals one of the NA strings (default
 *   "" and "NA"). In a text column a quoted cell is never missing (so the
 *   empty string and the string "NA" survive a round trip);
 * - numbers: optional spaces, an optional sign, digits with an optional
 *   decimal point (".5" and "5." are numbers), an optional exponent, and
 *   optional spaces; also "Inf", "Infinity" and "NaN" in any letter case
 *   with an optional sign. Hexadecimal, thousands separators and decimal
 *   commas are text.
 *
 * Errors (status SV_EFORMAT) name the input, the line (1-based, counting
 * line ends inside quoted fields) and the column (1-based field number):
 * ragged record, unterminated quoted field, character after a closing
 * quote, NUL byte (binary input), empty input, duplicate column names.
 */
#ifndef SV_CSV_H
#define SV_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SV_CSV_DEFAULT_SEP ','
#define SV_CSV_MAX_NA 64 /* most NA strings an options struct may list */

typedef struct sv_csv_opts {
    char sep;               /* field separator: not '"', CR, LF or NUL */
    int header;             /* nonzero: the first record holds the names */
    const char *const *na;  /* the NA strings (n_na of them) */
    size_t n_na;
} sv_csv_opts;

/* The defaults: sep ',', header on, NA strings "" and "NA". */
void sv_csv_opts_default(sv_csv_opts *opts);

typedef enum sv_csv_type {
    SV_CSV_NUMERIC = 0,
    SV_CSV_TEXT = 1
} sv_csv_type;

/* A text cell: len bytes at table->buf + off; off == SV_CSV_MISSING
 * for a missing cell. */
typedef struct sv_csv_span {
    size_t off;
    size_t len;
} sv_csv_span;

#define SV_CSV_MISSING ((size_t)-1)

typedef struct sv_csv_column {
    char *name;         /* NUL-terminated (header names with a NUL are refused) */
    size_t name_len;
    sv_csv_type type;
    double *num;        /* numeric: nrow values, NaN where missing */
    sv_csv_span *text;  /* text: nrow spans into buf */
} sv_csv_column;

typedef struct sv_csv_table {
    size_t nrow, ncol;
    sv_csv_column *cols;
    char *buf;          /* owns the text cells' bytes */
    size_t buf_len;
    int num_borrowed;   /* the numeric arrays belong to the caller */
    size_t *line;       /* nrow entries: the physical line (1-based, counting
                           every line end, also those inside quoted fields
                           and blank lines) on which each record starts */
} sv_csv_table;

/*
 * Reads the file at `path`. On success fills *out (free with
 * sv_csv_free); on failure *out is empty and err says why. With no header
 * the columns are named V1, V2, ... (as R does). ctx (may be NULL) gives
 * cancellation and progress (by bytes).
 */
sv_status sv_csv_read(const char *path, const sv_csv_opts *opts,
                      const sv_ctx *ctx, sv_csv_table *out, sv_err *err);

/*
 * The same from memory: `len` bytes at `data` (copied; need not be
 * NUL-terminated). `name` labels error messages. This is the entry point
 * a fuzzer calls: any input gives SV_OK or an error, never a crash.
 */
sv_status sv_csv_parse_buffer(const char *data, size_t len, const char *name,
                              const sv_csv_opts *opts, const sv_ctx *ctx,
                              sv_csv_table *out, sv_err *err);

/*
 * The same in two steps, for a caller that wants the numbers written
 * straight into its own arrays (the Lua binding writes into Vectors, saving
 * a copy of every numeric column). sv_csv_reader_open reads the input and
 * its first record; then sv_csv_reader_ncol and sv_csv_reader_row_bound
 * tell how many columns and at most how many rows there are.
 * sv_csv_reader_parse (once) fills *out; with dest non-NULL, dest[j] must
 * point to row_bound doubles where column j's numbers go (the table then
 * refers to them and does not free them; a column that turns out to be
 * text leaves its array partly written and unused). The options and their
 * NA strings must stay valid until the parse. sv_csv_reader_free releases
 * the reader (always, after open succeeded).
 */
typedef struct sv_csv_reader sv_csv_reader;
sv_status sv_csv_reader_open(const char *path, const sv_csv_opts *opts,
                             sv_csv_reader **rd, sv_err *err);
sv_status sv_csv_reader_open_buffer(const char *data, size_t len,
                                    const char *name, const sv_csv_opts *opts,
                                    sv_csv_reader **rd, sv_err *err);
size_t sv_csv_reader_ncol(const sv_csv_reader *rd);
size_t sv_csv_reader_row_bound(const sv_csv_reader *rd);
sv_status sv_csv_reader_parse(sv_csv_reader *rd, double *const *dest,
                              const sv_ctx *ctx, sv_csv_table *out,
                              sv_err *err);
void sv_csv_reader_free(sv_csv_reader *rd);

/* Releases everything a table owns (idempotent; zero-filled is valid). */
void sv_csv_free(sv_csv_table *t);

/* The physical line (1-based) on which record `row` (0-based) starts, as
 * an editor numbers lines; 0 when row is out of range. */
size_t sv_csv_line(const sv_csv_table *t, size_t row);

/* The bytes of a text cell (not NUL-terminated), or NULL when missing. */
const char *sv_csv_text(const sv_csv_table *t, size_t col, size_t row,
                        size_t *len);

/*
 * Parses a whole field as a number with the reader's rules (above).
 * Returns 1 and sets *out when it is a number, else 0. Exact: the
 * result is the correctly rounded double, as strtod gives in the "C"
 * locale, whatever the current locale.
 */
int sv_csv_parse_number(const char *s, size_t len, double *out);

/*
 * Formats x as the shortest decimal that parses back to the same double
 * (at most 17 significant digits), in the "C" locale; "Inf" / "-Inf" for
 * infinities and `na` for NaN. buf must hold SV_CSV_NUMBUF bytes. Returns
 * the length written.
 */
#define SV_CSV_NUMBUF 40
size_t sv_csv_format_number(double x, const char *na, char *buf);

/* ---- writing ---------------------------------------------------------- */

/* A column to write: numeric (num != NULL) or text (text[i] == NULL is
 * missing; text_len[i] its length, or NULL to use strlen). */
typedef struct sv_csv_wcol {
    const char *name;
    const double *num;
    const char *const *text;
    const size_t *text_len;
} sv_csv_wcol;

typedef struct sv_csv_wopts {
    char sep;           /* not '"', CR, LF or NUL; default ',' */
    const char *na;     /* written for missing cells; default "NA" */
} sv_csv_wopts;

/* The defaults above; a NULL opts pointer to sv_csv_write means them. */
void sv_csv_wopts_default(sv_csv_wopts *opts);

/*
 * Writes ncol columns of nrow rows with a header to `path`, atomically
 * (sv_io.h). Numbers are written so that sv_csv_read gives back the same
 * doubles bit for bit (NaN comes back as NaN, i.e. missing). A text cell
 * is quoted when it holds the separator, a quote, a CR or LF, when it is
 * empty or equals `na` (so it does not read back as missing), or when it
 * begins with a UTF-8 byte-order mark in the first column.
 */
sv_status sv_csv_write(const char *path, const sv_csv_wcol *cols,
                       size_t ncol, size_t nrow, const sv_csv_wopts *opts,
                       const sv_ctx *ctx, sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
