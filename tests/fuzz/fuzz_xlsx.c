/*
 * fuzz_xlsx.c - libFuzzer harness for the workbook reader (engine/xlsx.c).
 *
 * First byte even: the rest is the workbook file as is (the zip container
 * and its damage). First byte odd: the rest is split at the first NUL into
 * a worksheet and a shared-strings part, which the harness packs into a
 * valid uncompressed workbook (its own small zip writer, CRCs from zlib) so
 * that mutations reach the XML and cell handling instead of dying at the
 * zip checksum. Properties checked on every input:
 * - sv_xlsx_to_csv returns SV_OK or an error with a message, never a
 *   crash, an out-of-bounds access (ASan) or undefined behaviour (UBSan);
 * - on success the CSV text goes through sv_csv_parse_buffer (as
 *   sv.read_xlsx does), which also returns SV_OK or an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sv_csv.h"
#include "sv_xlsx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) __builtin_trap();
}

typedef struct zbuf {
    unsigned char *p;
    size_t n;
} zbuf;

static void put(zbuf *z, const void *s, size_t len)
{
    memcpy(z->p + z->n, s, len);
    z->n += len;
}
static void put16(zbuf *z, unsigned v)
{
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(z, b, 2);
}
static void put32(zbuf *z, unsigned long v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(z, b, 4);
}

typedef struct part {
    const char *name;
    const unsigned char *data;
    size_t len;
} part;

/* A zip of stored (uncompressed) entries. */
static unsigned char *make_zip(const part *parts, size_t n, size_t *len)
{
    size_t cap = 22;
    for (size_t i = 0; i < n; i++) cap += 30 + 46 + 2 * strlen(parts[i].name) + parts[i].len;
    zbuf z = {malloc(cap), 0};
    if (!z.p) return NULL;
    unsigned long *offs = malloc(n * sizeof *offs), *crcs = malloc(n * sizeof *crcs);
    if (!offs || !crcs) {
        free(z.p);
        free(offs);
        free(crcs);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        offs[i] = (unsigned long)z.n;
        crcs[i] = crc32(crc32(0L, Z_NULL, 0), parts[i].data, (uInt)parts[i].len);
        put32(&z, 0x04034b50UL);
        put16(&z, 10); put16(&z, 0); put16(&z, 0); put16(&z, 0); put16(&z, 0);
        put32(&z, crcs[i]); put32(&z, (unsigned long)parts[i].len); put32(&z, (unsigned long)parts[i].len);
        put16(&z, (unsigned)strlen(parts[i].name)); put16(&z, 0);
        put(&z, parts[i].name, strlen(parts[i].name));
        put(&z, parts[i].data, parts[i].len);
    }
    size_t cd = z.n;
    for (size_t i = 0; i < n; i++) {
        put32(&z, 0x02014b50UL);
        put16(&z, 20); put16(&z, 10); put16(&z, 0); put16(&z, 0); put16(&z, 0); put16(&z, 0);
        put32(&z, crcs[i]); put32(&z, (unsigned long)parts[i].len); put32(&z, (unsigned long)parts[i].len);
        put16(&z, (unsigned)strlen(parts[i].name)); put16(&z, 0); put16(&z, 0); put16(&z, 0);
        put16(&z, 0); put32(&z, 0); put32(&z, offs[i]);
        put(&z, parts[i].name, strlen(parts[i].name));
    }
    put32(&z, 0x06054b50UL);
    put16(&z, 0); put16(&z, 0); put16(&z, (unsigned)n); put16(&z, (unsigned)n);
    put32(&z, (unsigned long)(z.n - cd - 0)); put32(&z, (unsigned long)cd); put16(&z, 0);
    free(offs);
    free(crcs);
    *len = z.n;
    return z.p;
}

static const char WB[] =
    "<workbook xmlns:r=\"r\"><workbookPr/><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/>"
    "</sheets></workbook>";
static const char RELS[] =
    "<Relationships><Relationship Id=\"rId1\" Target=\"worksheets/sheet1.xml\"/></Relationships>";

static void run(const unsigned char *data, size_t size)
{
    sv_xlsx_csv out;
    sv_err err;
    sv_err_clear(&err);
    if (sv_xlsx_to_csv(data, size, "fuzz.xlsx", NULL, 0, &out, &err) != SV_OK) {
        check(err.msg[0] != '\0');
        return;
    }
    check(out.csv != NULL && out.sheet != NULL);
    sv_csv_opts o;
    sv_csv_opts_default(&o);
    sv_csv_table t;
    sv_err_clear(&err);
    if (sv_csv_parse_buffer(out.csv, out.len, "fuzz.xlsx!S", &o, NULL, &t, &err) == SV_OK)
        sv_csv_free(&t);
    else
        check(err.msg[0] != '\0');
    sv_xlsx_csv_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    if ((data[0] & 1) == 0) {
        run(data + 1, size - 1);
        return 0;
    }
    const unsigned char *rest = data + 1;
    size_t n = size - 1;
    const unsigned char *nul = memchr(rest, 0, n);
    size_t sheet_len = nul ? (size_t)(nul - rest) : n;
    part parts[4] = {
        {"xl/workbook.xml", (const unsigned char *)WB, sizeof WB - 1},
        {"xl/_rels/workbook.xml.rels", (const unsigned char *)RELS, sizeof RELS - 1},
        {"xl/worksheets/sheet1.xml", rest, sheet_len},
        {"xl/sharedStrings.xml", nul ? nul + 1 : rest, nul ? n - sheet_len - 1 : 0},
    };
    size_t zlen;
    unsigned char *zip = make_zip(parts, nul ? 4 : 3, &zlen);
    if (!zip) return 0;
    run(zip, zlen);
    free(zip);
    return 0;
}
