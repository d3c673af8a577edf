/*
 * xlsx.c - one worksheet of an .xlsx workbook as CSV text (sv_xlsx.h).
 *
 * The zip container is read from memory with minizip (zlib's contrib
 * unzip, Debian libminizip) through our own memory I/O functions; each XML
 * part is parsed with expat (Debian libexpat). Only what a data table
 * needs is read: sheet names and their parts, shared strings, and the
 * cells' references, types and values. Styles are not read: a date stays
 * its serial number.
 */
#define _POSIX_C_SOURCE 200809L
#include "sv_xlsx.h"

#include <expat.h>
#include <minizip/unzip.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing byte buffer --------------------------------------------- */
typedef struct xbuf {
    char *p;
    size_t n, cap;
    int oom;
} xbuf;

static int xb_add(xbuf *b, const char *s, size_t len)
{
    if (b->oom) return 0;
    if (len > SIZE_MAX - b->n - 1) {
        b->oom = 1;
        return 0;
    }
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len + 1) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return 0;
            }
            cap *= 2;
        }
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return 0;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
    return 1;
}
static int xb_addc(xbuf *b, char c) { return xb_add(b, &c, 1); }

/* ---- minizip on a memory buffer ---------------------------------------- */
typedef struct memzip {
    const unsigned char *data;
    size_t len, pos;
} memzip;

static voidpf ZCALLBACK mz_open(voidpf opaque, const void *filename, int mode)
{
    (void)filename;
    (void)mode;
    memzip *m = opaque;
    m->pos = 0;
    return m;
}
static uLong ZCALLBACK mz_read(voidpf opaque, voidpf stream, void *buf, uLong size)
{
    (void)opaque;
    memzip *m = stream;
    size_t avail = m->pos < m->len ? m->len - m->pos : 0;
    size_t k = size < avail ? size : avail;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (uLong)k;
}
static uLong ZCALLBACK mz_write(voidpf opaque, voidpf stream, const void *buf, uLong size)
{
    (void)opaque; (void)stream; (void)buf; (void)size;
    return 0;
}
static ZPOS64_T ZCALLBACK mz_tell(voidpf opaque, voidpf stream)
{
    (void)opaque;
    return ((memzip *)stream)->pos;
}
static long ZCALLBACK mz_seek(voidpf opaque, voidpf stream, ZPOS64_T off, int origin)
{
    (void)opaque;
    memzip *m = stream;
    uint64_t base = origin == ZLIB_FILEFUNC_SEEK_CUR ? m->pos
                    : origin == ZLIB_FILEFUNC_SEEK_END ? m->len : 0;
    if (off > UINT64_MAX - base || base + off > m->len) return -1;
    m->pos = (size_t)(base + off);
    return 0;
}
static int ZCALLBACK mz_close(voidpf opaque, voidpf stream)
{
    (void)opaque; (void)stream;
    return 0;
}
static int ZCALLBACK mz_error(voidpf opaque, voidpf stream)
{
    (void)opaque; (void)stream;
    return 0;
}

static unzFile open_zip(memzip *m)
{
    zlib_filefunc64_def f;
    f.zopen64_file = mz_open;
    f.zread_file = mz_read;
    f.zwrite_file = mz_write;
    f.ztell64_file = mz_tell;
    f.zseek64_file = mz_seek;
    f.zclose_file = mz_close;
    f.zerror_file = mz_error;
    f.opaque = m;
    return unzOpen2_64("memory", &f);
}

/* Reads the part `path` into *out (NUL-terminated). SV_OK with *out NULL
 * when the part does not exist and `optional`. */
static sv_status read_part(unzFile z, const char *name, const char *path, int optional,
                           char **out, size_t *len, sv_err *err)
{
    *out = NULL;
    *len = 0;
    if (unzLocateFile(z, path, 0) != UNZ_OK) {
        if (optional) return SV_OK;
        return sv_err_set(err, SV_EFORMAT, "%s: not an Excel workbook (.xlsx): it has no %s", name, path);
    }
    unz_file_info64 info;
    if (unzGetCurrentFileInfo64(z, &info, NULL, 0, NULL, 0, NULL, 0) != UNZ_OK)
        return sv_err_set(err, SV_EFORMAT, "%s: damaged workbook: cannot read the entry %s", name, path);
    if (info.uncompressed_size > SV_XLSX_MAX_PART)
        return sv_err_set(err, SV_EFORMAT, "%s: %s is larger than 1 GiB uncompressed; refused", name, path);
    if (unzOpenCurrentFile(z) != UNZ_OK)
        return sv_err_set(err, SV_EFORMAT, "%s: damaged workbook: cannot open %s (encrypted or an unknown compression?)", name, path);
    xbuf b = {0};
    char chunk[65536];
    int k;
    while ((k = unzReadCurrentFile(z, chunk, sizeof chunk)) > 0) {
        if (b.n + (size_t)k > SV_XLSX_MAX_PART) {
            unzCloseCurrentFile(z);
            free(b.p);
            return sv_err_set(err, SV_EFORMAT, "%s: %s is larger than 1 GiB uncompressed; refused", name, path);
        }
        if (!xb_add(&b, chunk, (size_t)k)) break;
    }
    int closed = unzCloseCurrentFile(z); /* checks the CRC */
    if (b.oom) {
        free(b.p);
        return sv_err_set(err, SV_ENOMEM, "%s: out of memory reading %s", name, path);
    }
    if (k < 0 || closed != UNZ_OK) {
        free(b.p);
        return sv_err_set(err, SV_EFORMAT, "%s: damaged workbook: %s is corrupt (%s)", name, path,
                          k < 0 ? "cannot inflate" : "CRC mismatch");
    }
    if (!b.p && !xb_add(&b, "", 0)) return sv_err_set(err, SV_ENOMEM, "%s: out of memory", name);
    *out = b.p;
    *len = b.n;
    return SV_OK;
}

/* ---- XML helpers -------------------------------------------------------- */
/* The element's local name (after any namespace prefix). */
static const char *local(const char *s)
{
    const char *c = strrchr(s, ':');
    return c ? c + 1 : s;
}

static const char *attr(const char **atts, const char *nm)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], nm) == 0) return atts[i + 1];
    return NULL;
}

/* r:id — the relationship id, whatever the prefix */
static const char *attr_rid(const char **atts)
{
    for (size_t i = 0; atts[i]; i += 2) {
        const char *c = strchr(atts[i], ':');
        if (c && strcmp(c + 1, "id") == 0) return atts[i + 1];
    }
    return NULL;
}

/* Parses xml with the handlers; fills err with the part and expat's line
 * on a syntax error. */
static sv_status parse_xml(const char *name, const char *part, const char *xml, size_t len,
                           void *ud, XML_StartElementHandler start, XML_EndElementHandler end,
                           XML_CharacterDataHandler text, int *failed, sv_err *err)
{
    XML_Parser p = XML_ParserCreate("UTF-8");
    if (!p) return sv_err_set(err, SV_ENOMEM, "%s: out of memory", name);
    XML_SetUserData(p, ud);
    XML_SetElementHandler(p, start, end);
    if (text) XML_SetCharacterDataHandler(p, text);
    sv_status st = SV_OK;
    /* feed in pieces: XML_Parse takes an int length */
    size_t off = 0;
    do {
        size_t k = len - off > (1u << 30) ? (1u << 30) : len - off;
        int last = off + k == len;
        if (XML_Parse(p, xml + off, (int)k, last) == XML_STATUS_ERROR) {
            if (!*failed)
                st = sv_err_set(err, SV_EFORMAT, "%s: damaged workbook: %s line %lu: %s", name, part,
                                (unsigned long)XML_GetCurrentLineNumber(p),
                                XML_ErrorString(XML_GetErrorCode(p)));
            else
                st = err->status;
            break;
        }
        off += k;
    } while (off < len);
    if (st == SV_OK && *failed) st = err->status;
    XML_ParserFree(p);
    return st;
}

/* ---- workbook.xml: sheet names and relationship ids --------------------- */
typedef struct sheet_ref {
    char *name, *rid;
} sheet_ref;

typedef struct wb_state {
    sheet_ref *s;
    size_t n, cap;
    int date1904;
    int failed;
    sv_err *err;
    const char *file;
} wb_state;

static void XMLCALL wb_start(void *ud, const char *el, const char **atts)
{
    wb_state *w = ud;
    if (w->failed) return;
    const char *ln = local(el);
    if (strcmp(ln, "workbookPr") == 0) {
        const char *d = attr(atts, "date1904");
        if (d && (strcmp(d, "1") == 0 || strcmp(d, "true") == 0)) w->date1904 = 1;
    } else if (strcmp(ln, "sheet") == 0) {
        const char *nm = attr(atts, "name"), *rid = attr_rid(atts);
        if (!nm || !rid) {
            w->failed = 1;
            sv_err_set(w->err, SV_EFORMAT, "%s: damaged workbook: a sheet without a name or id in xl/workbook.xml", w->file);
            return;
        }
        if (w->n == w->cap) {
            size_t cap = w->cap ? 2 * w->cap : 8;
            sheet_ref *q = realloc(w->s, cap * sizeof *q);
            if (!q) goto oom;
            w->s = q;
            w->cap = cap;
        }
        w->s[w->n].name = strdup(nm);
        w->s[w->n].rid = strdup(rid);
        if (!w->s[w->n].name || !w->s[w->n].rid) {
            free(w->s[w->n].name);
            free(w->s[w->n].rid);
            goto oom;
        }
        w->n++;
    }
    return;
oom:
    w->failed = 1;
    sv_err_set(w->err, SV_ENOMEM, "%s: out of memory", w->file);
}
static void XMLCALL no_end(void *ud, const char *el) { (void)ud; (void)el; }

static void free_sheets(wb_state *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->s[i].name);
        free(w->s[i].rid);
    }
    free(w->s);
}

/* ---- workbook.xml.rels: id -> target ------------------------------------ */
typedef struct rel_state {
    const char *want;
    char *target;
    int failed;
    sv_err *err;
    const char *file;
} rel_state;

static void XMLCALL rel_start(void *ud, const char *el, const char **atts)
{
    rel_state *r = ud;
    if (r->failed || r->target || strcmp(local(el), "Relationship") != 0) return;
    const char *id = attr(atts, "Id"), *t = attr(atts, "Target");
    if (id && t && strcmp(id, r->want) == 0) {
        /* relative to xl/, or absolute from the package root */
        xbuf b = {0};
        if (t[0] == '/') xb_add(&b, t + 1, strlen(t + 1));
        else {
            xb_add(&b, "xl/", 3);
            xb_add(&b, t, strlen(t));
        }
        if (b.oom) {
            free(b.p);
            r->failed = 1;
            sv_err_set(r->err, SV_ENOMEM, "%s: out of memory", r->file);
            return;
        }
        r->target = b.p;
    }
}

/* ---- sharedStrings.xml -------------------------------------------------- */
typedef struct sst_state {
    char **s;           /* the strings */
    size_t n, cap;
    xbuf cur;           /* the <si> being read */
    int in_si, in_t, in_rph;
    int failed;
    sv_err *err;
    const char *file;
} sst_state;

static void XMLCALL sst_start(void *ud, const char *el, const char **atts)
{
    (void)atts;
    sst_state *s = ud;
    const char *ln = local(el);
    if (strcmp(ln, "si") == 0) {
        s->in_si = 1;
        s->cur.n = 0;
        if (!xb_add(&s->cur, "", 0)) s->failed = 1;
    } else if (strcmp(ln, "rPh") == 0) {
        s->in_rph = 1; /* phonetic guide: not part of the text */
    } else if (strcmp(ln, "t") == 0 && s->in_si && !s->in_rph) {
        s->in_t = 1;
    }
}
static void XMLCALL sst_end(void *ud, const char *el)
{
    sst_state *s = ud;
    if (s->failed) return;
    const char *ln = local(el);
    if (strcmp(ln, "t") == 0) s->in_t = 0;
    else if (strcmp(ln, "rPh") == 0) s->in_rph = 0;
    else if (strcmp(ln, "si") == 0 && s->in_si) {
        s->in_si = 0;
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 64;
            char **q = realloc(s->s, cap * sizeof *q);
            if (!q) goto oom;
            s->s = q;
            s->cap = cap;
        }
        s->s[s->n] = malloc(s->cur.n + 1);
        if (!s->s[s->n]) goto oom;
        memcpy(s->s[s->n], s->cur.p ? s->cur.p : "", s->cur.n + 1);
        s->n++;
    }
    return;
oom:
    s->failed = 1;
    sv_err_set(s->err, SV_ENOMEM, "%s: out of memory", s->file);
}
static void XMLCALL sst_text(void *ud, const char *t, int len)
{
    sst_state *s = ud;
    if (s->in_t && !s->failed && !xb_add(&s->cur, t, (size_t)len)) {
        s->failed = 1;
        sv_err_set(s->err, SV_ENOMEM, "%s: out of memory", s->file);
    }
}

/* ---- the worksheet ------------------------------------------------------ */
typedef struct cell {
    uint32_t row, col; /* 1-based */
    char kind;         /* 'n' number, 's' text, 'b' boolean, 'e' error */
    size_t off, len;   /* the value in the sheet state's text buffer */
} cell;

typedef struct sheet_state {
    cell *c;
    size_t n, cap;
    xbuf text;          /* values */
    uint32_t row, col;  /* current row, last column */
    char type[16];      /* t= of the open cell */
    int in_c, in_v, in_is_t, in_rph;
    size_t val_off;
    int failed;
    sv_err *err;
    const char *file, *sheet;
    char **sst;
    size_t n_sst;
} sheet_state;

#define XLSX_MAX_ROW 1048576u
#define XLSX_MAX_COL 16384u

static void colname(uint32_t col, char *out)
{
    char tmp[8];
    int k = 0;
    while (col > 0 && k < 7) {
        col--;
        tmp[k++] = (char)('A' + col % 26);
        col /= 26;
    }
    for (int i = 0; i < k; i++) out[i] = tmp[k - 1 - i];
    out[k] = '\0';
}

static void sheet_fail(sheet_state *s, const char *what)
{
    if (s->failed) return;
    char cn[8];
    colname(s->col, cn);
    s->failed = 1;
    sv_err_set(s->err, SV_EFORMAT, "%s: %s!%s%lu: %s", s->file, s->sheet, cn, (unsigned long)s->row, what);
}

/* "C18" -> col 3, row 18; returns 0 on a malformed reference */
static int parse_ref(const char *r, uint32_t *row, uint32_t *col)
{
    uint32_t c = 0, w = 0;
    const char *p = r;
    while (*p >= 'A' && *p <= 'Z') {
        c = c * 26 + (uint32_t)(*p - 'A' + 1);
        if (c > XLSX_MAX_COL) return 0;
        p++;
    }
    if (p == r) return 0;
    const char *q = p;
    while (*p >= '0' && *p <= '9') {
        w = w * 10 + (uint32_t)(*p - '0');
        if (w > XLSX_MAX_ROW) return 0;
        p++;
    }
    if (*p || p == q || w == 0) return 0;
    *row = w;
    *col = c;
    return 1;
}

static void XMLCALL sh_start(void *ud, const char *el, const char **atts)
{
    sheet_state *s = ud;
    if (s->failed) return;
    const char *ln = local(el);
    if (strcmp(ln, "row") == 0) {
        const char *r = attr(atts, "r");
        uint32_t next = s->row + 1;
        if (r) {
            char *end;
            unsigned long v = strtoul(r, &end, 10);
            if (*end || v == 0 || v > XLSX_MAX_ROW) {
                s->row = next;
                s->col = 0;
                sheet_fail(s, "malformed row number");
                return;
            }
            next = (uint32_t)v;
        }
        s->row = next;
        s->col = 0;
    } else if (strcmp(ln, "c") == 0) {
        const char *r = attr(atts, "r"), *t = attr(atts, "t");
        uint32_t row = s->row ? s->row : 1, col = s->col + 1;
        if (r && !parse_ref(r, &row, &col)) {
            s->col++;
            sheet_fail(s, "malformed cell reference");
            return;
        }
        if (col > XLSX_MAX_COL) {
            sheet_fail(s, "beyond Excel's last column");
            return;
        }
        s->row = row;
        s->col = col;
        snprintf(s->type, sizeof s->type, "%s", t ? t : "n");
        s->in_c = 1;
        s->val_off = (size_t)-1;
    } else if (s->in_c && strcmp(ln, "v") == 0) {
        s->in_v = 1;
        s->val_off = s->text.n;
    } else if (s->in_c && strcmp(ln, "rPh") == 0) {
        s->in_rph = 1;
    } else if (s->in_c && strcmp(ln, "t") == 0 && !s->in_rph) {
        s->in_is_t = 1; /* inline string <is><t> */
        if (s->val_off == (size_t)-1) s->val_off = s->text.n;
    }
}

static void push_cell(sheet_state *s, char kind, size_t off, size_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        cell *q = realloc(s->c, cap * sizeof *q);
        if (!q) {
            s->failed = 1;
            sv_err_set(s->err, SV_ENOMEM, "%s: out of memory", s->file);
            return;
        }
        s->c = q;
        s->cap = cap;
    }
    s->c[s->n++] = (cell){s->row, s->col, kind, off, len};
}

static void XMLCALL sh_end(void *ud, const char *el)
{
    sheet_state *s = ud;
    if (s->failed) return;
    const char *ln = local(el);
    if (strcmp(ln, "v") == 0) s->in_v = 0;
    else if (strcmp(ln, "t") == 0) s->in_is_t = 0;
    else if (strcmp(ln, "rPh") == 0) s->in_rph = 0;
    else if (strcmp(ln, "c") == 0 && s->in_c) {
        s->in_c = 0;
        if (s->val_off == (size_t)-1) return; /* a styled empty cell */
        size_t off = s->val_off, len = s->text.n - off;
        const char *t = s->type;
        if (strcmp(t, "s") == 0) {
            char *end;
            const char *v = s->text.p + off;
            unsigned long k = strtoul(v, &end, 10);
            if (len == 0 || end != v + len) {
                sheet_fail(s, "a shared-string cell without a valid index");
                return;
            }
            if (k >= s->n_sst) {
                char msg[128];
                snprintf(msg, sizeof msg, "shared string %lu does not exist (the workbook has %lu)",
                         k, (unsigned long)s->n_sst);
                sheet_fail(s, msg);
                return;
            }
            /* replace the index by the text */
            s->text.n = off;
            xb_add(&s->text, s->sst[k], strlen(s->sst[k]));
            push_cell(s, 's', off, s->text.n - off);
        } else if (strcmp(t, "str") == 0 || strcmp(t, "inlineStr") == 0) {
            push_cell(s, 's', off, len);
        } else if (strcmp(t, "b") == 0) {
            push_cell(s, 'b', off, len);
        } else if (strcmp(t, "e") == 0) {
            push_cell(s, 'e', off, len);
        } else if (strcmp(t, "n") == 0 || strcmp(t, "d") == 0) {
            push_cell(s, t[0] == 'd' ? 's' : 'n', off, len);
        } else {
            sheet_fail(s, "unknown cell type");
        }
        if (s->text.oom) {
            s->failed = 1;
            sv_err_set(s->err, SV_ENOMEM, "%s: out of memory", s->file);
        }
    }
}

static void XMLCALL sh_text(void *ud, const char *t, int len)
{
    sheet_state *s = ud;
    if (s->failed || !s->in_c || !(s->in_v || s->in_is_t)) return;
    if (!xb_add(&s->text, t, (size_t)len)) {
        s->failed = 1;
        sv_err_set(s->err, SV_ENOMEM, "%s: out of memory", s->file);
    }
}

static int cmp_cell(const void *a, const void *b)
{
    const cell *x = a, *y = b;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    return 0;
}

/* Writes one field: numbers as stored, the rest quoted. */
static void put_field(xbuf *o, const sheet_state *s, const cell *c)
{
    const char *v = s->text.p + c->off;
    if (c->kind == 'n') {
        xb_add(o, v, c->len);
    } else if (c->kind == 'b') {
        xb_add(o, c->len == 1 && v[0] == '1' ? "TRUE" : "FALSE", c->len == 1 && v[0] == '1' ? 4 : 5);
    } else {
        /* quoted only when it must be, as Excel's own CSV export does, so
         * that NA strings and numbers stored as text read as they would
         * from that export */
        int quote = c->len == 0;
        for (size_t i = 0; i < c->len && !quote; i++)
            if (v[i] == '"' || v[i] == ',' || v[i] == '\n' || v[i] == '\r') quote = 1;
        if (!quote) {
            xb_add(o, v, c->len);
            return;
        }
        xb_addc(o, '"');
        for (size_t i = 0; i < c->len; i++) {
            if (v[i] == '"') xb_addc(o, '"');
            xb_addc(o, v[i]);
        }
        xb_addc(o, '"');
    }
}

/* ---- the whole ---------------------------------------------------------- */
static sv_status load_workbook(unzFile z, const char *name, wb_state *w, sv_err *err)
{
    char *xml;
    size_t len;
    sv_status st = read_part(z, name, "xl/workbook.xml", 0, &xml, &len, err);
    if (st != SV_OK) return st;
    w->err = err;
    w->file = name;
    st = parse_xml(name, "xl/workbook.xml", xml, len, w, wb_start, no_end, NULL, &w->failed, err);
    free(xml);
    if (st == SV_OK && w->n == 0) st = sv_err_set(err, SV_EFORMAT, "%s: the workbook has no sheets", name);
    return st;
}

sv_status sv_xlsx_sheets(const unsigned char *data, size_t len, const char *name,
                         char ***names, size_t *n, sv_err *err)
{
    *names = NULL;
    *n = 0;
    memzip m = {data, len, 0};
    unzFile z = open_zip(&m);
    if (!z) return sv_err_set(err, SV_EFORMAT, "%s: not an Excel workbook (.xlsx): not a zip file", name);
    wb_state w = {0};
    sv_status st = load_workbook(z, name, &w, err);
    unzClose(z);
    if (st == SV_OK) {
        size_t bytes = w.n * sizeof(char *);
        for (size_t i = 0; i < w.n; i++) bytes += strlen(w.s[i].name) + 1;
        char **out = malloc(bytes);
        if (!out) {
            st = sv_err_set(err, SV_ENOMEM, "%s: out of memory", name);
        } else {
            char *p = (char *)(out + w.n);
            for (size_t i = 0; i < w.n; i++) {
                size_t l = strlen(w.s[i].name) + 1;
                memcpy(p, w.s[i].name, l);
                out[i] = p;
                p += l;
            }
            *names = out;
            *n = w.n;
        }
    }
    free_sheets(&w);
    return st;
}

sv_status sv_xlsx_to_csv(const unsigned char *data, size_t len, const char *name,
                         const char *sheet_name, int sheet_index, sv_xlsx_csv *out,
                         sv_err *err)
{
    memset(out, 0, sizeof *out);
    memzip m = {data, len, 0};
    unzFile z = open_zip(&m);
    if (!z) return sv_err_set(err, SV_EFORMAT, "%s: not an Excel workbook (.xlsx): not a zip file", name);
    wb_state w = {0};
    sst_state ss = {0};
    sheet_state sh = {0};
    rel_state rel = {0};
    xbuf o = {0};
    char *xml = NULL;
    size_t xlen = 0;
    sv_status st = load_workbook(z, name, &w, err);
    if (st != SV_OK) goto done;

    size_t which = 0;
    if (sheet_name) {
        size_t i;
        for (i = 0; i < w.n; i++)
            if (strcmp(w.s[i].name, sheet_name) == 0) break;
        if (i == w.n) {
            xbuf names = {0};
            for (size_t k = 0; k < w.n && k < 20; k++) {
                if (k) xb_add(&names, ", ", 2);
                xb_addc(&names, '\'');
                xb_add(&names, w.s[k].name, strlen(w.s[k].name));
                xb_addc(&names, '\'');
            }
            st = sv_err_set(err, SV_EINVAL, "%s: no sheet named '%s' (the sheets are %s)", name, sheet_name,
                            names.p ? names.p : "");
            free(names.p);
            goto done;
        }
        which = i;
    } else if (sheet_index > 0) {
        if ((size_t)sheet_index > w.n) {
            st = sv_err_set(err, SV_EINVAL, "%s: no sheet %d (the workbook has %lu)", name, sheet_index,
                            (unsigned long)w.n);
            goto done;
        }
        which = (size_t)sheet_index - 1;
    }
    out->date1904 = w.date1904;

    st = read_part(z, name, "xl/_rels/workbook.xml.rels", 0, &xml, &xlen, err);
    if (st != SV_OK) goto done;
    rel.want = w.s[which].rid;
    rel.err = err;
    rel.file = name;
    st = parse_xml(name, "xl/_rels/workbook.xml.rels", xml, xlen, &rel, rel_start, no_end, NULL, &rel.failed, err);
    free(xml);
    xml = NULL;
    if (st != SV_OK) goto done;
    if (!rel.target) {
        st = sv_err_set(err, SV_EFORMAT, "%s: damaged workbook: sheet '%s' has no part", name, w.s[which].name);
        goto done;
    }

    st = read_part(z, name, "xl/sharedStrings.xml", 1, &xml, &xlen, err);
    if (st != SV_OK) goto done;
    if (xml) {
        ss.err = err;
        ss.file = name;
        st = parse_xml(name, "xl/sharedStrings.xml", xml, xlen, &ss, sst_start, sst_end, sst_text, &ss.failed, err);
        free(xml);
        xml = NULL;
        if (st != SV_OK) goto done;
    }

    st = read_part(z, name, rel.target, 0, &xml, &xlen, err);
    if (st != SV_OK) goto done;
    sh.err = err;
    sh.file = name;
    sh.sheet = w.s[which].name;
    sh.sst = ss.s;
    sh.n_sst = ss.n;
    if (!xb_add(&sh.text, "", 0)) {
        st = sv_err_set(err, SV_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    st = parse_xml(name, rel.target, xml, xlen, &sh, sh_start, sh_end, sh_text, &sh.failed, err);
    free(xml);
    xml = NULL;
    if (st != SV_OK) goto done;
    if (sh.n == 0) {
        st = sv_err_set(err, SV_EFORMAT, "%s: sheet '%s' is empty (no header and no data)", name, sh.sheet);
        goto done;
    }

    /* CSV: rows 1..last, columns 1..widest; a row without cells is a blank
     * line (line N of the CSV = row N of the sheet) */
    qsort(sh.c, sh.n, sizeof *sh.c, cmp_cell);
    /* columns from the first one holding a cell (leading empty columns
     * are not part of the table, as readxl finds the data's extent) */
    uint32_t ncol = 0, col0 = XLSX_MAX_COL;
    for (size_t i = 0; i < sh.n; i++) {
        if (sh.c[i].col > ncol) ncol = sh.c[i].col;
        if (sh.c[i].col < col0) col0 = sh.c[i].col;
    }
    uint32_t row = 1;
    size_t i = 0;
    while (i < sh.n && !o.oom) {
        uint32_t r = sh.c[i].row;
        for (; row < r; row++) xb_addc(&o, '\n');
        uint32_t col = col0;
        for (; i < sh.n && sh.c[i].row == r; i++) {
            if (i > 0 && sh.c[i - 1].row == r && sh.c[i - 1].col == sh.c[i].col) {
                char cn[8];
                colname(sh.c[i].col, cn);
                st = sv_err_set(err, SV_EFORMAT, "%s: %s!%s%lu: the cell is given twice", name, sh.sheet, cn,
                                (unsigned long)r);
                goto done;
            }
            for (; col < sh.c[i].col; col++) xb_addc(&o, ',');
            put_field(&o, &sh, &sh.c[i]);
        }
        for (; col < ncol; col++) xb_addc(&o, ',');
        xb_addc(&o, '\n');
        row = r + 1;
    }
    if (o.oom) {
        st = sv_err_set(err, SV_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    out->csv = o.p;
    out->len = o.n;
    o.p = NULL;
    out->sheet = strdup(sh.sheet);
    if (!out->sheet) {
        st = sv_err_set(err, SV_ENOMEM, "%s: out of memory", name);
        goto done;
    }

done:
    unzClose(z);
    free(xml);
    free(o.p);
    free(rel.target);
    for (size_t k = 0; k < ss.n; k++) free(ss.s[k]);
    free(ss.s);
    free(ss.cur.p);
    free(sh.c);
    free(sh.text.p);
    free_sheets(&w);
    if (st != SV_OK) sv_xlsx_csv_free(out);
    return st;
}

void sv_xlsx_csv_free(sv_xlsx_csv *out)
{
    free(out->csv);
    free(out->sheet);
    out->csv = NULL;
    out->sheet = NULL;
    out->len = 0;
}
