/* text/text.h — fonts, shaping and drawing of labels.
 *
 * Three layers, from the shared to the per-thread:
 *   - a font catalogue (ts_font_catalog): the faces found in font directories, built once
 *     at startup, immutable, read by every thread;
 *   - a text context (ts_text_ctx), one per thread: its own FreeType library, faces opened
 *     lazily, HarfBuzz fonts, a cache of flattened glyph outlines and a cache of shaped
 *     runs, both bounded in bytes;
 *   - shaped runs (ts_text_run): immutable, reference-counted results of shaping a UTF-8
 *     string with one face at one size.
 * Glyphs are drawn through the raster module's exact-area rasteriser (not FreeType's):
 * outlines are flattened to within 0.1 px, filled nonzero, and a halo is the same
 * outlines stroked with round joins, composited once under the fill.
 *
 * Coordinates are pixels, y down. Angles are radians, positive = clockwise on screen
 * (the angle of a direction (dx, dy) is atan2(dy, dx)). Run space is a run's own frame:
 * x from the left edge of the label box, y down from the baseline of its first line.
 * Nothing here knows about styles, features or HTTP. */
#ifndef TS_TEXT_TEXT_H
#define TS_TEXT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "raster/raster.h"
#include "util/buf.h"
#include "util/status.h"

/* ---- font catalogue ----------------------------------------------------------------- */

typedef struct ts_font_catalog ts_font_catalog;

/* One face of the catalogue. Strings are owned by the catalogue. */
typedef struct ts_font_info {
    const char *family;  /* family as FreeType reports it (typographic family), "DejaVu Sans" */
    const char *family2; /* the legacy family name (name ID 1) when it differs, else NULL:
                          * "DejaVu Sans Condensed" */
    const char *style;   /* "Bold Oblique" */
    const char *path;    /* font file */
    int index;           /* face index in the file (font collections) */
    int weight;          /* OS/2 usWeightClass: 400 regular, 700 bold */
    int width;           /* OS/2 usWidthClass: 5 normal, below 5 condensed */
    int bold, italic;    /* 0/1, from the weight (>= 600) and FreeType's style flags */
} ts_font_info;

/* Scan ndirs directories (NULL dirs: the default list, /usr/share/fonts/truetype and
 * /opentype, /usr/share/fonts/dejavu, TTF and OTF, /usr/local/share/fonts and data/fonts
 * relative to the working directory, of which missing ones are skipped) for .ttf/.otf/.ttc/.otc files, three
 * subdirectory levels deep, and read each scalable face's family, style, weight and width
 * with a temporary FreeType library. Faces are ordered by path, so indices are the same
 * from run to run. Returns the catalogue, or NULL with *err set: TS_ENOENT when an
 * explicit directory cannot be read or no face was found at all, TS_ENOMEM. Unreadable
 * font files are skipped (logged at debug level). At most 4096 faces are kept.
 * The catalogue is immutable: any thread may use it. Free it with ts_font_catalog_free
 * after every ts_text_ctx made from it has been freed. */
ts_font_catalog *ts_font_catalog_new(const char *const *dirs, int ndirs, ts_err *err);
/* NULL is accepted. */
void ts_font_catalog_free(ts_font_catalog *cat);
/* Number of faces (> 0 for a catalogue ts_font_catalog_new returned). */
int ts_font_catalog_count(const ts_font_catalog *cat);
/* Face i (0 <= i < count), borrowed: lives as cat. NULL when i is out of range. */
const ts_font_info *ts_font_catalog_info(const ts_font_catalog *cat, int i);

/* How ts_font_catalog_find matched the family asked for. */
typedef enum {
    TS_FONT_EXACT = 0, /* a family of the list is in the catalogue (case-insensitive) */
    TS_FONT_ALIAS,     /* a generic or well-known family mapped to a substitute:
                        * sans-serif, SansSerif, Arial, Helvetica, Verdana -> DejaVu Sans;
                        * serif, Times New Roman, Georgia -> DejaVu Serif; monospace,
                        * Monospaced, Courier New -> DejaVu Sans Mono; also NULL or "" */
    TS_FONT_FALLBACK   /* nothing matched: the default sans face was taken (log it once) */
} ts_font_match;

/* The face to use for a CSS-like family list ("Open Sans, Arial, sans-serif": comma
 * separated, quotes and spaces around names ignored), tried in order, first by name,
 * then by alias. Among the faces of the chosen family, the one closest in style wins:
 * slant first (italic/oblique or not), then weight (700 for bold, 400 otherwise), then
 * normal width. An unknown family gives the default: DejaVu Sans (else Noto Sans,
 * Liberation Sans, FreeSans; else any face) in the closest style. *match (may be NULL)
 * says how the family matched; compare ts_font_catalog_info(...)->bold / ->italic to
 * learn whether the style did. Returns a face index, never -1. Thread-safe. */
int ts_font_catalog_find(const ts_font_catalog *cat, const char *family, int bold, int italic,
                         ts_font_match *match);

/* ---- per-thread context -------------------------------------------------------------- */

typedef struct ts_text_ctx ts_text_ctx;

/* A context for one thread on catalogue cat (which must outlive it): its own FreeType
 * library, the catalogue's faces opened on first use, a glyph outline cache (8 MiB) and a
 * shaped-run cache (4 MiB), least recently used entries evicted first. NULL with *err set
 * (TS_ENOMEM) on failure. A context must never be used by two threads at once; give each
 * render thread its own. Free with ts_text_ctx_free. */
ts_text_ctx *ts_text_ctx_new(const ts_font_catalog *cat, ts_err *err);
/* Closes the faces and frees the caches. Runs shaped by this context stay valid (they
 * are released separately). NULL is accepted. */
void ts_text_ctx_free(ts_text_ctx *t);
/* Set the byte limits of the glyph and run caches (0 = keep the current limit) and evict
 * down to them now. Entries larger than a limit are used once and not kept. */
void ts_text_ctx_set_cache_limits(ts_text_ctx *t, size_t glyph_bytes, size_t run_bytes);

typedef struct ts_text_stats {
    size_t glyph_bytes, glyph_entries; /* now in the glyph cache */
    size_t run_bytes, run_entries;     /* now in the run cache */
    uint64_t glyph_hits, glyph_misses; /* since the context was made */
    uint64_t run_hits, run_misses;
} ts_text_stats;
/* Cache figures of the context. */
void ts_text_ctx_stats(const ts_text_ctx *t, ts_text_stats *out);

/* ---- shaping ------------------------------------------------------------------------ */

typedef enum {
    TS_TEXT_ALIGN_CENTER = 0, /* lines of a multi-line label centred on the widest */
    TS_TEXT_ALIGN_LEFT,
    TS_TEXT_ALIGN_RIGHT
} ts_text_align;

/* What to shape with. A zeroed struct plus face and size is the usual case. */
typedef struct ts_font_spec {
    int face;                 /* catalogue index (ts_font_catalog_find) */
    double size_px;           /* em size in pixels, 0 < size_px <= 2048; quantised to 1/64 */
    double letter_spacing_px; /* added after every character but a line's last; may be < 0 */
    int no_kerning;           /* 1: HarfBuzz's kern feature off; 0: kerning on */
    ts_text_align align;      /* of the lines of a multi-line label */
} ts_font_spec;

/* One glyph of a run. */
typedef struct ts_text_glyph {
    uint32_t gid;     /* glyph id in the face (0 = .notdef: the face lacks the character) */
    uint32_t cluster; /* byte offset in the UTF-8 string of the first character it shows */
    int face;         /* catalogue index of the face */
    int line;         /* 0-based line of the label */
    double x, y;      /* pen position in run space: y is the line's baseline */
    double advance;   /* pen advance along the baseline, px (0 for combining marks) */
    double dx, dy;    /* offset of the outline from the pen (shaping), px, y down; the
                       * outline's origin is (x + dx, y + dy) */
} ts_text_glyph;

/* A shaped label: immutable, reference-counted, may be read by any thread and drawn by
 * any context on the same catalogue. The label box, for anchor and displacement math, is
 * [0, width] x [-ascent, (nlines - 1) * line_height + descent] in run space (see
 * ts_text_run_box). */
typedef struct ts_text_run {
    int face;
    double size_px; /* as quantised: a multiple of 1/64 */
    size_t nglyphs;
    const ts_text_glyph *glyphs; /* in visual order, line by line */
    int nlines;                  /* lines split at '\n' ("\r\n" too); >= 1 */
    double width;                /* advance width of the widest line, px */
    double ascent, descent;      /* face metrics at this size, both >= 0 (descent below) */
    double line_height;          /* baseline to baseline of consecutive lines */
    double ink_x0, ink_y0, ink_x1, ink_y1; /* outline bounds in run space; all 0 without ink */
    int nmissing;                          /* glyphs that are .notdef (characters the face lacks) */
} ts_text_run;

/* Shape len bytes of UTF-8 (need not be NUL-terminated) with HarfBuzz: script, direction
 * and language guessed per line (hb_buffer_guess_segment_properties), kerning on unless
 * spec->no_kerning. Invalid UTF-8 sequences become U+FFFD; other control characters but
 * '\n' are shaped as spaces. An empty string gives a run without glyphs (its metrics are
 * set). On TS_OK *out holds a run with one reference for the caller (release it with
 * ts_text_run_release); an identical earlier call may answer from the context's run
 * cache. Errors, with *out = NULL and *err set: TS_EINVAL (bad face or size, NULL
 * arguments), TS_ELIMIT (more than 16384 bytes or 1024 lines), TS_EIO (the face's file
 * cannot be opened any more), TS_ENOMEM. */
ts_status ts_text_shape(ts_text_ctx *t, const char *utf8, size_t len, const ts_font_spec *spec,
                        const ts_text_run **out, ts_err *err);
/* Another reference to run (returned). Thread-safe. */
const ts_text_run *ts_text_run_ref(const ts_text_run *run);
/* Drop a reference; the last frees the run. Thread-safe. NULL is accepted. */
void ts_text_run_release(const ts_text_run *run);
/* The label box in run space: [*x0, *x1] x [*y0, *y1] (see ts_text_run). */
void ts_text_run_box(const ts_text_run *run, double *x0, double *y0, double *x1, double *y1);

/* ---- placement ---------------------------------------------------------------------- */

/* Where one glyph goes on the whole image. */
typedef struct ts_text_glyph_pos {
    double x, y;  /* pixel where the glyph's outline origin (pen + shaping offset) goes */
    double angle; /* rotation of the glyph about (x, y), radians clockwise */
} ts_text_glyph_pos;

/* An oriented box, for collision tests: centre, half extents along its own axes, and the
 * clockwise angle of its first (hw) axis. */
typedef struct ts_rbox {
    double cx, cy;
    double hw, hh;
    double angle;
} ts_rbox;

/* 1 if the boxes overlap (touching edges do not), by separating axes. */
int ts_rbox_overlap(const ts_rbox *a, const ts_rbox *b);
/* The axis-aligned bounds of b. */
void ts_rbox_bounds(const ts_rbox *b, double *x0, double *y0, double *x1, double *y1);

/* A straight label: run space is rotated by angle_rad about its origin (first baseline,
 * left edge of the label box), which goes to pixel (x, y). Fills out[run->nglyphs]. */
void ts_text_layout_straight(const ts_text_run *run, double x, double y, double angle_rad,
                             ts_text_glyph_pos *out);

/* A point label as SLD's PointPlacement places it. */
typedef struct ts_text_point {
    double x, y;               /* the point, whole-image pixels */
    double anchor_x, anchor_y; /* AnchorPoint: fraction of the label box put on the point,
                                * (0, 0) its left bottom, (0.5, 0.5) its centre */
    double disp_x, disp_y;     /* Displacement, pixels: x right, y UP (as in SLD) */
    double rotation_deg;       /* Rotation, degrees clockwise, about the point */
} ts_text_point;

/* Lay a run out at a point: the label box's anchor goes to the point plus the
 * displacement, and the whole (displacement included) is rotated about the point.
 * Fills out[run->nglyphs] and, if box != NULL, the label box grown by pad_px on every
 * side (halo radius plus any spacing wanted), for collision tests. */
void ts_text_layout_point(const ts_text_run *run, const ts_text_point *pt, double pad_px,
                          ts_text_glyph_pos *out, ts_rbox *box);

/* Lay a run out along a polyline of npts points (xy pairs, pixels): the label's
 * horizontal centre goes to arc length start (pixels from the first point); each glyph's
 * advance cell is centred on the line at its arc length and turned to the direction of
 * the chord under it; the label's vertical middle (between the top of its first line and
 * the bottom of its last) sits offset_px above the line as the text is read (positive:
 * to the left of the reading direction). When the line runs right to left under the
 * label (the chord from the label's start to its end points left, or straight down), the
 * line is walked reversed, so text is never upside down; start then still measures from
 * the first point. Combining marks (no advance) follow their base glyph's frame.
 * Returns run->nglyphs with out[run->nglyphs] filled and, if boxes != NULL,
 * boxes[run->nglyphs] set: each glyph's advance cell times (ascent + descent), grown by
 * pad_px (a mark repeats its base's box). Returns 0, with nothing defined in out or
 * boxes, when: the run has no glyphs, the line has under 2 points or is shorter than the
 * label at that start (either end overhanging), the directions of two consecutive glyphs
 * of a line differ by more than max_angle_delta_deg, or the line turns by more than that
 * (summed) under one glyph (max_angle_delta_deg <= 0: no limit). Thread-safe, allocates
 * nothing. */
size_t ts_text_layout_on_line(const ts_text_run *run, const double *xy, size_t npts, double start,
                              double offset_px, double max_angle_delta_deg, double pad_px,
                              ts_text_glyph_pos *out, ts_rbox *boxes);

/* ---- drawing ------------------------------------------------------------------------ */

typedef struct ts_text_paint {
    ts_rgba fill;        /* straight colour of the glyphs; a == 0: no fill */
    double fill_opacity; /* 0..1 */
    double halo_radius;  /* pixels; <= 0: no halo */
    ts_rgba halo;        /* straight colour of the halo */
    double halo_opacity; /* 0..1 */
} ts_text_paint;

/* Draw a run with glyph positions pos[run->nglyphs] (from a layout function, or the
 * caller's own) into c with r's scratch. The halo is every glyph's outline stroked with
 * width 2 * halo_radius and round joins, composited once for the whole label (overlaps
 * of neighbouring glyphs' halos are painted once), then every glyph filled nonzero in one
 * path on top, so no halo covers a glyph body. As in GeoServer, the halo is a band of
 * halo_radius either side of the outline: under a translucent fill it shows only within
 * that band of the glyph's edges, not in the middle of thick strokes. Coordinates are of
 * the whole image; c may be a band view (ts_canvas_view) and gets exactly the pixels
 * drawing into the whole image gives its rows (a label wholly outside its rows is
 * skipped). TS_OK, TS_EINVAL (NULL arguments), TS_EIO (a face cannot be opened),
 * TS_ENOMEM (the canvas may then hold the halo without the fill). Uses t's caches and
 * scratch: t and r belong to the calling thread. */
ts_status ts_text_draw(ts_text_ctx *t, ts_raster *r, ts_canvas *c, const ts_text_run *run,
                       const ts_text_glyph_pos *pos, const ts_text_paint *paint, ts_err *err);

/* ---- glyph ranges for vector-tile clients (text/sdf.c) -------------------------------- */

/* At most this many fonts in one font stack of ts_text_glyph_range. */
#define TS_MAX_GLYPH_STACK 8

/* Append to out the glyphs protobuf (MapLibre GL's glyph PBF: glyphs { stacks { name,
 * range, glyphs* } }) of code points start .. start + 255 (start a multiple of 256, at
 * most 65280) drawn as signed distance fields at 24 px, each code point from the first
 * face of faces[nfaces] (catalogue indices, at most TS_MAX_GLYPH_STACK used) that has it;
 * code points none has are left out. name is the stack's name as written in the message.
 * Opens the fonts with a FreeType library of its own: any thread, costly (tens of ms):
 * cache the result. TS_OK; TS_EINVAL (bad arguments), TS_EIO (no face opens), TS_ENOMEM,
 * TS_ELIMIT, with *err set. */
ts_status ts_text_glyph_range(const ts_font_catalog *cat, const int *faces, int nfaces,
                              const char *name, uint32_t start, ts_buf *out, ts_err *err);

/* The face for one font name of a glyph request's font stack, name[len] (not terminated):
 * "Family Style" as the catalogue names a face ("DejaVu Sans Bold", "DejaVu Sans Book"),
 * else a family with style words ("Open Sans Semibold Italic", "Arial Unicode MS Regular")
 * or alone, chosen as ts_font_catalog_find chooses (aliases, then the default face).
 * *exact = 1 when the family was found or aliased, 0 when the default face stands in.
 * -1 for an empty or overlong name or a NULL catalogue. Thread-safe. */
int ts_text_glyph_face(const ts_font_catalog *cat, const char *name, size_t len, int *exact);

/* The name ts_text_glyph_face maps back to face: "Family Style" ("DejaVu Sans Book"),
 * written into buf (cap bytes, cut to fit). */
void ts_text_glyph_font_name(const ts_font_catalog *cat, int face, char *buf, size_t cap);

#endif
