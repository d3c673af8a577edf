/*
 * sv_xlsx.h - reading a worksheet of an Excel workbook (.xlsx, Office Open
 * XML) as CSV text, so that it goes through the one CSV reader and gets
 * exactly read_csv's typing and missing-value rules.
 *
 * The workbook is a zip container (read with zlib's minizip, from memory)
 * of XML parts (parsed with expat): xl/workbook.xml names the sheets,
 * xl/_rels/workbook.xml.rels maps them to their parts, xl/sharedStrings.xml
 * holds the text, and each worksheet lists its cells by reference ("C18").
 * The CSV has one line per worksheet row, from row 1 to the last row with a
 * cell: line N of the CSV is row N of the sheet (empty rows are blank
 * lines, which the CSV reader skips but counts), and the columns run from
 * the first column holding a cell to the last. Numbers are written as
 * stored (Excel stores the shortest decimal that round-trips the double);
 * text cells are written as Excel's CSV export writes them (quoted only
 * when they hold a comma, a quote or a line end);
 * booleans are TRUE / FALSE; error cells (#N/A, #DIV/0!, ...) are written
 * as their code, which sv.read_xlsx treats as missing. Dates are numbers
 * (serial days), as stored.
 *
 * Any input, however damaged, gives SV_OK or an error naming the file and,
 * where it applies, the sheet and the cell ("Sheet1!C18"); never a crash
 * (fuzzed by tests/fuzz/fuzz_xlsx.c). Parts larger than SV_XLSX_MAX_PART
 * uncompressed are refused (a zip bomb is an error, not an exhausted
 * machine).
 */
#ifndef SV_XLSX_H
#define SV_XLSX_H

#include <stddef.h>

#include "sv_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SV_XLSX_MAX_PART ((size_t)1 << 30) /* 1 GiB per XML part */

typedef struct sv_xlsx_csv {
    char *csv;        /* the sheet as CSV text (owned; free with sv_xlsx_csv_free) */
    size_t len;
    char *sheet;      /* the name of the sheet read (owned) */
    int date1904;     /* the workbook counts dates from 1904-01-01 */
} sv_xlsx_csv;

/*
 * Converts one sheet of the workbook in data[0..len) to CSV. `name` names
 * the file in errors. The sheet is chosen by `sheet_name` (non-NULL) or by
 * `sheet_index` (1-based; 0 means the first sheet).
 */
sv_status sv_xlsx_to_csv(const unsigned char *data, size_t len, const char *name,
                         const char *sheet_name, int sheet_index, sv_xlsx_csv *out,
                         sv_err *err);

/* The sheets' names in workbook order: *names is an array of n strings,
 * all in one allocation (free(*names) releases everything). */
sv_status sv_xlsx_sheets(const unsigned char *data, size_t len, const char *name,
                         char ***names, size_t *n, sv_err *err);

void sv_xlsx_csv_free(sv_xlsx_csv *out);

#ifdef __cplusplus
}
#endif
#endif
