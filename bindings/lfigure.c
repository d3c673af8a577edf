/*
 * lfigure.c - publication figure files from sv.plot's SVG text:
 * sv.figure.render(svg, format [, {dpi =, width_mm =}]) -> bytes
 * (format "rgb": raw pixels, width, height).
 *
 * Rendering is librsvg's (the SVG renderer of GNOME, used by ImageMagick
 * and LibreOffice) drawing on cairo surfaces: a vector PDF surface, or an
 * image surface encoded as PNG (cairo's encoder) or TIFF (libtiff, LZW).
 * sylva draws nothing itself here; it only chooses the page size and the
 * raster resolution, and records the resolution in the file (PNG pHYs,
 * TIFF XResolution/YResolution) so that a journal's checker reads the dpi.
 *
 * Size: the SVG's width and height are CSS pixels (96 per inch). With
 * width_mm the figure is scaled to that printed width (aspect kept);
 * without it, it is printed at 96 px per inch. Raster formats have
 * round(width_in * dpi) x round(height_in * dpi) pixels on white.
 */
#include "lsylva.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <librsvg/rsvg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <zlib.h>

#define FIG_MAX_PIXELS (400.0 * 1000.0 * 1000.0) /* 400 megapixels */

typedef struct membuf {
    unsigned char *p;
    size_t n, cap;
    size_t pos; /* TIFF writes seek */
    int oom;
} membuf;

static int mb_reserve(membuf *b, size_t need)
{
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return 0;
        cap *= 2;
    }
    unsigned char *q = realloc(b->p, cap);
    if (!q) return 0;
    memset(q + b->cap, 0, cap - b->cap);
    b->p = q;
    b->cap = cap;
    return 1;
}

/* writes at b->pos, extending b->n */
static int mb_write_at(membuf *b, const void *data, size_t len)
{
    if (len > SIZE_MAX - b->pos || !mb_reserve(b, b->pos + len)) {
        b->oom = 1;
        return 0;
    }
    memcpy(b->p + b->pos, data, len);
    b->pos += len;
    if (b->pos > b->n) b->n = b->pos;
    return 1;
}

static cairo_status_t cairo_to_membuf(void *closure, const unsigned char *data, unsigned int len)
{
    membuf *b = closure;
    b->pos = b->n;
    return mb_write_at(b, data, len) ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* ---- libtiff client I/O on a membuf ------------------------------------ */
static tsize_t tif_read(thandle_t h, tdata_t buf, tsize_t size)
{
    membuf *b = (membuf *)h;
    size_t avail = b->pos < b->n ? b->n - b->pos : 0;
    size_t k = (size_t)size < avail ? (size_t)size : avail;
    memcpy(buf, b->p + b->pos, k);
    b->pos += k;
    return (tsize_t)k;
}
static tsize_t tif_write(thandle_t h, tdata_t buf, tsize_t size)
{
    return mb_write_at((membuf *)h, buf, (size_t)size) ? size : (tsize_t)-1;
}
static toff_t tif_seek(thandle_t h, toff_t off, int whence)
{
    membuf *b = (membuf *)h;
    uint64_t base = whence == SEEK_CUR ? b->pos : whence == SEEK_END ? b->n : 0;
    uint64_t np = base + off;
    if (np > b->n) { /* seeking past the end: zero fill */
        if (!mb_reserve(b, (size_t)np)) {
            b->oom = 1;
            return (toff_t)-1;
        }
        b->n = (size_t)np;
    }
    b->pos = (size_t)np;
    return np;
}
static int tif_close(thandle_t h) { (void)h; return 0; }
static toff_t tif_size(thandle_t h) { return ((membuf *)h)->n; }
static int tif_map(thandle_t h, tdata_t *base, toff_t *size)
{
    (void)h; (void)base; (void)size;
    return 0;
}
static void tif_unmap(thandle_t h, tdata_t base, toff_t size) { (void)h; (void)base; (void)size; }

/* libtiff reports through global handlers; keep the last message. */
static char tif_msg[256];
static void tif_error(const char *module, const char *fmt, va_list ap)
{
    (void)module;
    vsnprintf(tif_msg, sizeof tif_msg, fmt, ap);
}
static void tif_warning(const char *module, const char *fmt, va_list ap)
{
    (void)module; (void)fmt; (void)ap;
}

/* Encodes the (opaque, white-backed) ARGB32 surface as an RGB TIFF. */
static int encode_tiff(cairo_surface_t *s, double dpi, membuf *out, const char **why)
{
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *px = cairo_image_surface_get_data(s);
    TIFFSetErrorHandler(tif_error);
    TIFFSetWarningHandler(tif_warning);
    tif_msg[0] = 0;
    TIFF *t = TIFFClientOpen("figure.tif", "w", (thandle_t)out, tif_read, tif_write, tif_seek,
                             tif_close, tif_size, tif_map, tif_unmap);
    if (!t) {
        *why = tif_msg[0] ? tif_msg : "libtiff could not start the file";
        return 0;
    }
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)h);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
    TIFFSetField(t, TIFFTAG_PREDICTOR, 2);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
    TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)dpi);
    TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)dpi);
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(t, TIFFTAG_SOFTWARE, "sylva (librsvg + cairo + libtiff)");
    unsigned char *row = malloc((size_t)w * 3);
    int ok = row != NULL;
    for (int y = 0; ok && y < h; y++) {
        const uint32_t *src = (const uint32_t *)(px + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            uint32_t v = src[x]; /* opaque: premultiplied == straight */
            row[3 * x] = (unsigned char)(v >> 16);
            row[3 * x + 1] = (unsigned char)(v >> 8);
            row[3 * x + 2] = (unsigned char)v;
        }
        if (TIFFWriteScanline(t, row, (uint32_t)y, 0) < 0) ok = 0;
    }
    free(row);
    if (ok && !TIFFWriteDirectory(t)) ok = 0;
    TIFFClose(t);
    if (!ok || out->oom) {
        *why = out->oom ? "out of memory" : (tif_msg[0] ? tif_msg : "libtiff failed");
        return 0;
    }
    return 1;
}

/* The pixels as 8-bit RGB triples, rows top to bottom (for checks). */
static void encode_rgb(cairo_surface_t *s, membuf *out)
{
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *px = cairo_image_surface_get_data(s);
    if (!mb_reserve(out, (size_t)w * (size_t)h * 3 + 1)) {
        out->oom = 1;
        return;
    }
    unsigned char *q = out->p;
    for (int y = 0; y < h; y++) {
        const uint32_t *src = (const uint32_t *)(px + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            *q++ = (unsigned char)(src[x] >> 16);
            *q++ = (unsigned char)(src[x] >> 8);
            *q++ = (unsigned char)src[x];
        }
    }
    out->n = (size_t)w * (size_t)h * 3;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Inserts a pHYs chunk (pixels per metre) right after IHDR, which is
 * always the first chunk (8-byte signature + 25-byte IHDR chunk). */
static int png_add_phys(membuf *b, double dpi)
{
    const size_t at = 8 + 25;
    if (b->n < at || memcmp(b->p + 12, "IHDR", 4) != 0) return 0;
    unsigned char c[21];
    uint32_t ppm = (uint32_t)lround(dpi / 0.0254);
    put_be32(c, 9);
    memcpy(c + 4, "pHYs", 4);
    put_be32(c + 8, ppm);
    put_be32(c + 12, ppm);
    c[16] = 1; /* unit: metre */
    put_be32(c + 17, (uint32_t)crc32(crc32(0L, Z_NULL, 0), c + 4, 13));
    if (!mb_reserve(b, b->n + sizeof c)) return 0;
    memmove(b->p + at + sizeof c, b->p + at, b->n - at);
    memcpy(b->p + at, c, sizeof c);
    b->n += sizeof c;
    return 1;
}

static const char *num(double v, char *b)
{
    snprintf(b, 32, "%g", v);
    return b;
}

/* sv.figure.render(svg, format [, opts]) -> string */
static int l_render(lua_State *L)
{
    size_t len;
    const char *svg = luaL_checklstring(L, 1, &len);
    static const char *const fmts[] = {"pdf", "png", "tiff", "rgb", NULL};
    int fmt = luaL_checkoption(L, 2, NULL, fmts);
    double dpi = 300, width_mm = 0;
    char b[32];
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "dpi");
        if (!lua_isnil(L, -1)) {
            if (!lua_isnumber(L, -1))
                return luaL_error(L, "figure.render: option 'dpi' must be a number, got %s", luaL_typename(L, -1));
            dpi = lua_tonumber(L, -1);
            if (!(dpi >= 72 && dpi <= 2400))
                return luaL_error(L, "figure.render: option 'dpi' must be in [72, 2400], got %s", num(dpi, b));
        }
        lua_pop(L, 1);
        lua_getfield(L, 3, "width_mm");
        if (!lua_isnil(L, -1)) {
            if (!lua_isnumber(L, -1))
                return luaL_error(L, "figure.render: option 'width_mm' must be a number, got %s", luaL_typename(L, -1));
            width_mm = lua_tonumber(L, -1);
            if (!(width_mm > 0 && width_mm <= 1000))
                return luaL_error(L, "figure.render: option 'width_mm' must be in (0, 1000], got %s", num(width_mm, b));
        }
        lua_pop(L, 1);
    }

    GError *gerr = NULL;
    RsvgHandle *hd = rsvg_handle_new_from_data((const guint8 *)svg, len, &gerr);
    if (!hd) {
        lua_pushfstring(L, "figure.render: the SVG cannot be read: %s", gerr ? gerr->message : "unknown error");
        if (gerr) g_error_free(gerr);
        return lua_error(L);
    }
    rsvg_handle_set_dpi(hd, 96);
    gdouble wpx = 0, hpx = 0;
    if (!rsvg_handle_get_intrinsic_size_in_pixels(hd, &wpx, &hpx) || !(wpx > 0) || !(hpx > 0)) {
        g_object_unref(hd);
        return luaL_error(L, "figure.render: the SVG has no width and height in absolute units");
    }
    double win = width_mm > 0 ? width_mm / 25.4 : wpx / 96.0;
    double hin = win * hpx / wpx;

    membuf out = {0};
    const char *why = NULL;
    int rgb_w = 0, rgb_h = 0;
    cairo_surface_t *s = NULL;
    if (fmt == 0) {
        s = cairo_pdf_surface_create_for_stream(cairo_to_membuf, &out, win * 72, hin * 72);
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "sylva");
    } else {
        double pw = round(win * dpi), ph = round(hin * dpi);
        if (pw < 1) pw = 1;
        if (ph < 1) ph = 1;
        if (pw * ph > FIG_MAX_PIXELS || pw > 32767 || ph > 32767) {
            g_object_unref(hd);
            return luaL_error(L, "figure.render: %d x %d pixels is too large (at most 32767 a side and 400 megapixels); lower 'dpi' or 'width_mm'", (int)fmin(pw, 2e9), (int)fmin(ph, 2e9));
        }
        s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)pw, (int)ph);
    }
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        why = cairo_status_to_string(cairo_surface_status(s));
    } else {
        cairo_t *cr = cairo_create(s);
        RsvgRectangle vp;
        if (fmt == 0) {
            vp = (RsvgRectangle){0, 0, win * 72, hin * 72};
        } else {
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_paint(cr);
            vp = (RsvgRectangle){0, 0, cairo_image_surface_get_width(s), cairo_image_surface_get_height(s)};
        }
        if (!rsvg_handle_render_document(hd, cr, &vp, &gerr)) {
            why = gerr ? gerr->message : "librsvg could not draw the figure";
        }
        cairo_destroy(cr);
        if (!why) {
            if (fmt == 0) {
                cairo_surface_finish(s);
                if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
                    why = cairo_status_to_string(cairo_surface_status(s));
            } else if (fmt == 1) {
                cairo_surface_flush(s);
                if (cairo_surface_write_to_png_stream(s, cairo_to_membuf, &out) != CAIRO_STATUS_SUCCESS)
                    why = "cairo could not encode the PNG";
                else if (!png_add_phys(&out, dpi))
                    why = "out of memory";
            } else if (fmt == 2) {
                cairo_surface_flush(s);
                encode_tiff(s, dpi, &out, &why);
            } else {
                cairo_surface_flush(s);
                rgb_w = cairo_image_surface_get_width(s);
                rgb_h = cairo_image_surface_get_height(s);
                encode_rgb(s, &out);
            }
        }
    }
    if (!why && out.oom) why = "out of memory";
    if (s) cairo_surface_destroy(s);
    g_object_unref(hd);
    if (why) {
        lua_pushfstring(L, "figure.render: cannot make the %s: %s", fmts[fmt], why);
        if (gerr) g_error_free(gerr);
        free(out.p);
        return lua_error(L);
    }
    lua_pushlstring(L, (const char *)out.p, out.n);
    free(out.p);
    if (fmt == 3) {
        lua_pushinteger(L, rgb_w);
        lua_pushinteger(L, rgb_h);
        return 3;
    }
    return 1;
}

static const luaL_Reg figure_funcs[] = {{"render", l_render}, {NULL, NULL}};

int luaopen_sylva_figure(lua_State *L)
{
    luaL_newlib(L, figure_funcs);
    return 1;
}
