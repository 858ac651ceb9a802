/* style/style.h — SLD 1.0 / SE 1.1 styles compiled into immutable rules.
 *
 * A style is parsed once (libxml2 with network access, external entities and entity
 * expansion off, size and depth limits) into a tree of FeatureTypeStyles -> Rules ->
 * Symbolizers with compiled filters. Property names used by filters and labels are
 * collected into one table; filters refer to properties by index into it, so a renderer
 * binds each index to a data column once per layer, not once per feature.
 * A ts_style is refcounted and immutable: share it between threads freely.
 * Unsupported elements are reported as warnings with file:line and skipped; malformed
 * values (a bad colour, a negative width, a size that is not a number) are errors.
 * Symbolizers: Polygon (fill, GraphicFill, outline, GraphicStroke), Line (stroke, dashes,
 * PerpendicularOffset, GraphicStroke), Point (well-known and shape:// marks, local PNG
 * ExternalGraphics; size, rotation as a literal or an expression, opacity, anchor,
 * displacement) and Text (label, font, halo, placement, priority, vendor options; drawn
 * by the label engine, not by render). */
#ifndef TS_STYLE_STYLE_H
#define TS_STYLE_STYLE_H

#include <stddef.h>

#include "grid/grid.h"
#include "raster/raster.h"
#include "util/status.h"
#include "util/value.h"

/* ---- filters ------------------------------------------------------------------------ */

typedef enum {
    TS_EXPR_LITERAL = 0,
    TS_EXPR_PROPERTY,
    TS_EXPR_ADD,
    TS_EXPR_SUB,
    TS_EXPR_MUL,
    TS_EXPR_DIV,
    TS_EXPR_CONCAT,          /* a's text then b's text (labels only: strConcat, Concatenate,
                              * SE Concatenate and the mixed content of <Label>) */
    TS_EXPR_FUNC             /* a function (fn) of args */
} ts_expr_op;

/* The functions of ogc:Function known in filters and values (GeoServer's names and the
 * ones QGIS writes). */
typedef enum {
    TS_FN_UPPER = 0,         /* strToUpperCase, upper: ASCII and Latin-1 letters */
    TS_FN_LOWER,             /* strToLowerCase, lower */
    TS_FN_IN,                /* in, in2 .. in10: true if args[0] equals one of the others */
    TS_FN_STRLEN,            /* strLength, length: characters (UTF-8 code points) */
    TS_FN_RECODE,            /* Recode(x, k1, v1, k2, v2, ...): the v of the first k equal
                              * to x, else null */
    TS_FN_CATEGORIZE,        /* Categorize(x, v0, t1, v1, ..., tn, vn): v0 below t1, vi from
                              * ti on (TS_FN_PRECEDING: above ti) */
    TS_FN_INTERPOLATE        /* Interpolate(x, d1, v1, ..., dn, vn): v1 up to d1, vn from dn
                              * on, in between linear (TS_FN_COSINE: cosine) in numbers or
                              * (TS_FN_COLOUR) in RGB colours */
} ts_expr_fn;

#define TS_FN_PRECEDING 1    /* Categorize: "preceding" */
#define TS_FN_COLOUR 2       /* Interpolate: "color" mode (or its values are all colours) */
#define TS_FN_COSINE 4       /* Interpolate: "cosine" method */

typedef struct ts_expr {
    ts_expr_op op;
    ts_value lit;            /* LITERAL: strings owned by the style; text that reads as a
                              * number is pre-parsed to TS_VAL_INT / TS_VAL_REAL */
    const char *text;        /* LITERAL: the literal as written (for string comparisons) */
    int prop;                /* PROPERTY: index into the style's property table */
    struct ts_expr *a, *b;   /* arithmetic / CONCAT operands */
    ts_expr_fn fn;           /* FUNC: which */
    int fn_flags;            /* FUNC: TS_FN_PRECEDING, TS_FN_COLOUR, TS_FN_COSINE */
    struct ts_expr **args;   /* FUNC: its arguments */
    int nargs;
} ts_expr;

typedef enum {
    TS_FILTER_EQ = 0,
    TS_FILTER_NE,
    TS_FILTER_LT,
    TS_FILTER_LE,
    TS_FILTER_GT,
    TS_FILTER_GE,
    TS_FILTER_LIKE,
    TS_FILTER_ISNULL,
    TS_FILTER_BETWEEN,
    TS_FILTER_AND,
    TS_FILTER_OR,
    TS_FILTER_NOT,
    TS_FILTER_BBOX
} ts_filter_op;

typedef struct ts_filter {
    ts_filter_op op;
    ts_expr *a, *b, *c;          /* comparison operands (BETWEEN: a within [b, c]) */
    int match_case;              /* comparisons of strings; default 1 */
    struct ts_filter **kids;     /* AND / OR / NOT children */
    int nkids;
    char *like_pattern;          /* LIKE: normalised to SQL form: wild '%', single '_', esc '\\'
                                  * (literal %, _ and \\ escaped); b is the original Literal */
    char wild, single, esc;      /* LIKE: always '%', '_', '\\' after normalisation */
    ts_bbox bbox;                /* BBOX, in the layer's CRS */
} ts_filter;

/* Access to one feature's attributes while evaluating: get(ctx, prop) returns the value
 * of the style property with that index (NULL = missing, treated as null). */
typedef struct ts_feature_ref {
    const ts_value *(*get)(const void *ctx, int prop);
    const void *ctx;
    ts_bbox bbox;                /* feature bounds, for BBOX filters */
} ts_feature_ref;

/* 1 if the feature passes the filter (NULL filter = pass), else 0. Thread-safe; allocates
 * nothing. Comparisons are numeric when both sides are numbers or strings that read as
 * decimal numbers (as GeoServer does), otherwise byte-wise string comparisons (ASCII case
 * folded when matchCase is false). A null or missing value makes every comparison, Like
 * and Between false; only PropertyIsNull is true for it. */
int ts_filter_eval(const ts_filter *f, const ts_feature_ref *feat);

/* ---- graphics ------------------------------------------------------------------------- */

/* GeoServer's shape:// marks (GeoTools ShapeMarkFactory). All but carrow are lines, drawn
 * with the Mark's Stroke only (a Fill has no area to paint); carrow is a closed arrow head
 * painted with Fill and Stroke. In a unit box centred on the point, y up:
 * horline (-0.5,0)-(0.5,0), vertline (0,-0.5)-(0,0.5), slash "/" (-0.5,-0.5)-(0.5,0.5),
 * backslash "\\" (-0.5,0.5)-(0.5,-0.5), plus = horline + vertline, times = slash +
 * backslash, dot = a round dot as wide as the stroke, oarrow = open arrow head pointing
 * along +x with its tip on the point ((-0.5,0.2)-(0,0)-(-0.5,-0.2)), carrow = oarrow
 * closed. In a GraphicFill the line marks become continuous hatching (see ts_graphic). */
typedef enum {
    TS_SHAPE_NONE = 0,           /* not a shape:// mark */
    TS_SHAPE_HORLINE,
    TS_SHAPE_VERTLINE,
    TS_SHAPE_SLASH,
    TS_SHAPE_BACKSLASH,
    TS_SHAPE_DOT,
    TS_SHAPE_PLUS,
    TS_SHAPE_TIMES,
    TS_SHAPE_OARROW,
    TS_SHAPE_CARROW
} ts_shape_mark;

/* A Graphic of SLD/SE: what a PointSymbolizer draws, the tile of a GraphicFill, the symbol
 * a GraphicStroke repeats along a line. It is one of: an image (image >= 0), a shape://
 * mark (shape != TS_SHAPE_NONE), or a well-known mark (mark). Sizes are pixels at scale
 * factor 1 (the renderer multiplies them by the request's scale factor). */
typedef struct ts_graphic {
    int image;                   /* index into ts_style.images (an ExternalGraphic PNG), or -1 */
    ts_shape_mark shape;         /* a shape:// mark, or TS_SHAPE_NONE */
    ts_mark_shape mark;          /* well-known mark when image < 0 and shape == NONE;
                                  * default square */
    /* Mark paint. A Mark without <Fill> has no fill, without <Stroke> no outline (as
     * GeoTools); a Graphic with neither Mark nor ExternalGraphic is the SLD default grey
     * square with a black outline. */
    int has_fill;
    ts_rgba fill;                /* straight colour, alpha 255; default #808080 */
    double fill_opacity;         /* 0..1, default 1 */
    int has_stroke;
    ts_stroke stroke;            /* width (px, default 1), join, cap, dashes */
    ts_rgba stroke_color;        /* default #000000 */
    double stroke_opacity;       /* 0..1, default 1 */
    double size;                 /* <Size>, px: the mark's diameter/side, the image's height
                                  * (width kept in proportion); default 6 for marks; for an
                                  * image 0 = not given = its own pixel size */
    double rotation;             /* <Rotation>, degrees clockwise, default 0 */
    ts_expr *rotation_expr;      /* <Rotation> as an expression of the feature (degrees;
                                  * null or non-numeric = 0); NULL = the literal rotation */
    double opacity;              /* <Opacity> of the whole graphic, 0..1, default 1 */
    double anchor_x, anchor_y;   /* SE <AnchorPoint>: the graphic's point placed on the
                                  * feature's point, (0,0) bottom left .. (1,1) top right;
                                  * default 0.5, 0.5 (centre) */
    double disp_x, disp_y;       /* SE <Displacement>, px, x right, y up; default 0 */
    double gap;                  /* GraphicStroke: SE <Gap>, px between the end of one
                                  * graphic and the start of the next; default 0 */
    double initial_gap;          /* GraphicStroke: SE <InitialGap>, px before the first;
                                  * default 0 */
    double margin[4];            /* GraphicFill of a mark: px of space around each copy in
                                  * the pattern, top, right, bottom, left (VendorOption
                                  * graphic-margin, or QGIS's distance); default 0 */
    /* A font mark: the character glyph (a Unicode code point) of font family glyph_font
     * (NULL = not a font mark), filled with the Mark's Fill, outlined by its Stroke;
     * glyph_em: Size is the font's em size (QGIS's MarkIndex marks), else the glyph's
     * larger side (GeoServer's ttf://Family#code). */
    const char *glyph_font;
    uint32_t glyph;
    int glyph_em;
    const struct ts_graphic *fallback; /* a font mark's next drawable alternative (Mark or
                                        * ExternalGraphic) in the Graphic, drawn when the
                                        * font or its character is missing; else NULL */
    /* PointSymbolizer graphics: values of the feature (an expression in <Size> or in a
     * Mark's CssParameter) used instead of the fixed ones above; NULL = fixed. See
     * ts_style_dynamic. */
    ts_expr *size_expr, *fill_expr, *fill_opacity_expr, *stroke_expr, *stroke_width_expr,
        *stroke_opacity_expr;
} ts_graphic;

/* An external graphic file a style refers to. The style module only resolves and checks
 * the path (it never reads pixels): whoever binds the style to a renderer decodes it. */
/* An SVG image read into outlines (style/svg.c): items drawn in order, each filled and/or
 * stroked, coordinates in the drawing's own units (the transforms applied). */
typedef struct ts_svg_item {
    double *xy;                  /* points of all parts */
    uint32_t *counts;            /* points per part */
    uint8_t *closed;             /* per part: 1 when closed (Z, rect, polygon...) */
    uint32_t nparts;
    int has_fill, evenodd;
    ts_rgba fill;                /* straight colour, alpha 255 */
    double fill_opacity;         /* 0..1, the element's opacities multiplied in */
    int has_stroke;
    ts_rgba stroke;
    double stroke_opacity;
    ts_stroke sk;                /* width in the drawing's units */
} ts_svg_item;

typedef struct ts_svg {
    double x, y, w, h;           /* the viewBox: the box of the drawing's units shown */
    double width, height;        /* the natural size, px (width/height, else the viewBox) */
    ts_svg_item *items;
    int nitems;
} ts_svg;

/* Read the SVG document xml[len] (where names it in messages): see style/svg.c for what
 * is read. params (NULL: none) are the values of its QGIS-style parameters, as the query
 * of a GeoServer href: "fill=%23ff0000&outline=%23000000&outline-width=2". NULL with *err
 * (file:line) for malformed XML, entities, limits (4 MiB, 2^20 points), no size, or
 * nothing drawable. */
ts_svg *ts_svg_parse(const char *xml, size_t len, const char *where, const char *params,
                     ts_err *err);
/* ts_svg_parse of the file at path. */
ts_svg *ts_svg_read(const char *path, const char *params, ts_err *err);
/* NULL is accepted. */
void ts_svg_free(ts_svg *s);

typedef struct ts_style_image {
    char *path;                  /* resolved, canonical (symlinks followed) path of a
                                  * regular file inside the style file's directory tree */
    char *href;                  /* xlink:href as written */
    int line;                    /* line of its <OnlineResource> in the style file */
    int is_svg;                  /* an image/svg+xml graphic: drawn from svg, not decoded */
    char *params;                /* SVG: the href's query (its parameters), or NULL; the
                                  * same file with other parameters is another image */
    ts_svg *svg;                 /* its outlines (owned by the style); NULL when it could
                                  * not be read (no graphic uses it then) */
} ts_style_image;

/* ---- text ----------------------------------------------------------------------------- */

/* What a TextSymbolizer asks of the label engine, which places and draws labels after all
 * layers (render.c draws no text: see its LABEL HOOK). Every field is parsed and kept;
 * which ones a placement honours is the label engine's to document (see
 * tilesrv/label/). Lengths are pixels at scale factor 1: multiply them by the request's
 * scale_factor. */
#define TS_MAX_FONT_FAMILIES 8

typedef enum { TS_FONT_NORMAL = 0, TS_FONT_ITALIC, TS_FONT_OBLIQUE } ts_font_style;
typedef enum { TS_PLACE_POINT = 0, TS_PLACE_LINE } ts_placement;

typedef struct ts_text {
    /* <Font> */
    const char *font_family[TS_MAX_FONT_FAMILIES]; /* in order of preference, as written
                                  * (one per font-family parameter, or a CSS list
                                  * "A, 'B C'" split and unquoted); further ones warned */
    int nfont_family;            /* 0: none given, the engine's default face */
    double font_size;            /* px, default 10 (SLD) */
    ts_font_style font_style;    /* default normal */
    int font_bold;               /* font-weight bold (or a number >= 600); default 0 */
    /* text colour: the symbolizer's fill / fill_opacity (default black, has_fill = 1) */
    /* <Halo> */
    int has_halo;                /* a <Halo> element was given */
    double halo_radius;          /* px, default 1 */
    ts_rgba halo_fill;           /* default white */
    double halo_opacity;         /* 0..1, default 1 */
    /* <LabelPlacement> */
    ts_placement placement;      /* PointPlacement (default) or LinePlacement */
    double anchor_x, anchor_y;   /* PointPlacement <AnchorPoint>: which point of the label's
                                  * box sits on the label point, (0,0) bottom left .. (1,1)
                                  * top right; default (0, 0.5) as SLD 1.0 says */
    double disp_x, disp_y;       /* PointPlacement <Displacement>, px, x right, y up */
    double rotation;             /* PointPlacement <Rotation>, degrees clockwise, default 0 */
    ts_expr *rotation_expr;      /* the rotation as an expression (e.g. a PropertyName),
                                  * or NULL = the literal above */
    /* LinePlacement: PerpendicularOffset is the symbolizer's perpendicular_offset (px,
     * positive = left of the line's direction). */
    int is_repeated;             /* SE 1.1 <IsRepeated>, default 0 */
    double initial_gap;          /* SE 1.1 <InitialGap>, px, default 0 */
    double gap;                  /* SE 1.1 <Gap>, px between repeated labels, default 0 */
    int is_aligned;              /* SE 1.1 <IsAligned>: text follows the line's direction;
                                  * default 1 */
    int generalize_line;         /* SE 1.1 <GeneralizeLine>, default 0 */
    /* <Priority>: higher wins conflicts; NULL = none given (GeoServer's default 1000) */
    ts_expr *priority;
    /* GeoServer VendorOptions (names as in GeoServer; others are warned about). */
    double repeat;               /* "repeat": px between labels along a line; 0 = once */
    double max_angle_delta;      /* "maxAngleDelta": degrees between adjacent characters of
                                  * a curved label; default 22.5 */
    int follow_line;             /* "followLine": curved along the line; default 0 */
    double space_around;         /* "spaceAround": px kept free around the label (negative
                                  * allows overlap); default 0 */
    int group;                   /* "group": one label per distinct text; default 0 */
    double max_displacement;     /* "maxDisplacement": px a label may move to find room;
                                  * default 0 */
    double auto_wrap;            /* "autoWrap": px width at which text wraps; 0 = never */
    int conflict_resolution;     /* "conflictResolution": 0 = may overlap; default 1 */
    int partials;                /* "partials": labels may be cut at the map edge;
                                  * default 0 */
    int fraction;                /* "fraction", a tilesrv extension (others ignore it): the
                                  * label's text up to its first newline is drawn as the
                                  * numerator over the rest, with a fraction bar (parcel
                                  * numbers, Zähler/Nenner); default 0 */
} ts_text;

/* ---- symbolizers ---------------------------------------------------------------------- */

typedef enum { TS_SYM_POLYGON = 0, TS_SYM_LINE, TS_SYM_POINT, TS_SYM_TEXT } ts_sym_kind;

typedef struct ts_symbolizer {
    ts_sym_kind kind;
    /* Polygon fill; Point mark fill; Text colour. */
    int has_fill;
    ts_rgba fill;                /* straight colour, alpha 255 */
    double fill_opacity;         /* 0..1 */
    /* Polygon outline; Line; Point mark outline. width etc. in pixels at scale 1 */
    int has_stroke;
    ts_stroke stroke;
    ts_rgba stroke_color;
    double stroke_opacity;
    double perpendicular_offset; /* Line and LinePlacement, pixels, positive = left of
                                  * direction */
    /* Point: copies of the graphic's fields below, for readers of the first form */
    ts_mark_shape mark;
    double size;                 /* pixels */
    double rotation;             /* degrees clockwise */
    double opacity;              /* whole graphic */
    /* Text: the <Label> (NULL = no Label: nothing to draw); see ts_label_eval */
    ts_expr *label;
    /* Point: the whole Graphic (never NULL for a Point symbolizer). */
    const ts_graphic *graphic;
    /* Polygon: Fill/GraphicFill, a pattern of this graphic repeated over the polygon
     * (when set, has_fill is 0: the colour of the Fill is not used, as GeoTools). */
    const ts_graphic *fill_graphic;
    /* Line (and Polygon outline): Stroke/GraphicStroke, this graphic repeated along the
     * line, rotated with it (when set, has_stroke is 0). */
    const ts_graphic *stroke_graphic;
    /* Text: font, halo, placement, priority, vendor options (kind TS_SYM_TEXT only). */
    const ts_text *text;
    /* Polygon and Line: values of the feature (an expression in a CssParameter: a
     * PropertyName, arithmetic, Recode...) used instead of the fixed fill, fill_opacity,
     * stroke_color, stroke.width and stroke_opacity; NULL = fixed. */
    ts_expr *fill_expr, *fill_opacity_expr, *stroke_expr, *stroke_width_expr,
        *stroke_opacity_expr;
    int dynamic;                 /* one of those, or of its graphic's, is set */
    /* Units of every length above and in its graphics and text (widths, dashes, offsets,
     * sizes, gaps, displacements, font size, halo, spaceAround, repeat): 0 = pixels (the
     * SE default and uom pixel); else ground units, this many metres each (uom metre 1,
     * foot 0.3048): see ts_symbolizer_px_per_unit. */
    double uom_m;
} ts_symbolizer;

typedef struct ts_rule {
    char *name;
    char *title;
    char *abstract_text;
    double min_scale;            /* MinScaleDenominator, inclusive; 0 = none */
    double max_scale;            /* MaxScaleDenominator, exclusive; INFINITY = none */
    ts_filter *filter;           /* NULL = every feature */
    int is_else;                 /* ElseFilter: see ts_rule_counts_for_else */
    ts_symbolizer *syms;
    int nsyms;
} ts_rule;

typedef struct ts_fts {
    char *name;
    ts_rule *rules;
    int nrules;
    int has_else; /* a rule of it is an ElseFilter rule */
} ts_fts;

typedef struct ts_style {
    int refs;                    /* atomic; use ts_style_ref/unref */
    char *name;                  /* UserStyle Name (or NamedLayer Name) */
    char *title;
    char *path;                  /* file it was read from, or the name given */
    ts_fts *fts;
    int nfts;
    char **props;                /* property names referenced, index = prop */
    long *prop_lines;            /* the line of each one's first reference in the file */
    int nprops;
    int nwarnings;               /* unsupported elements skipped */
    ts_style_image *images;      /* ExternalGraphic files, distinct paths; a ts_graphic's
                                  * image indexes this */
    int nimages;
} ts_style;

/* Parse SLD/SE XML held in memory. where names the source in messages (file path).
 * Errors (malformed XML, bad values, limits) give NULL with *err carrying file:line.
 * Limits (TS_ELIMIT): 16 MiB of bytes, checked before anything is read; while libxml2
 * reads, 200000 nodes (elements, attributes, namespace declarations, comments, processing
 * instructions, CDATA sections), 100000 Rules, 128 levels of element nesting; 256
 * attributes on one tag; 4096 distinct property names; filter and expression nesting 64.
 * A DOCTYPE declaring any entity is refused (TS_ESTYLE): nothing is expanded or fetched.
 * Warnings (unsupported elements) go to the log with file:line. Returns refs = 1.
 * ExternalGraphic hrefs (a relative path, or a file: URL) are resolved against the
 * directory of where ("." when it has no '/'); the file must exist and lie inside that
 * directory tree after symlinks are followed. http(s) and other URL schemes, and paths
 * that leave the tree, are errors; formats other than image/png are warned about and the
 * next alternative of the Graphic (a Mark) is used. */
ts_style *ts_style_parse(const char *xml, size_t len, const char *where, ts_err *err);
/* Read and parse a file (at most 16 MiB). */
ts_style *ts_style_load(const char *path, ts_err *err);

/* As ts_style_parse / ts_style_load, but compile the NamedLayer or UserLayer whose Name is
 * layer (NULL = the first layer that has a UserStyle; further layers are then reported as
 * a warning). A missing layer is TS_ENOENT. */
ts_style *ts_style_parse_layer(const char *xml, size_t len, const char *where, const char *layer,
                               ts_err *err);
ts_style *ts_style_load_layer(const char *path, const char *layer, ts_err *err);
/* As ts_style_parse_layer / ts_style_load_layer, but a file without a layer of that name
 * gives its first layer (as ts_style_parse): how a configured layer reads its style file,
 * so one file may hold the NamedLayers of several configured layers. */
ts_style *ts_style_parse_prefer(const char *xml, size_t len, const char *where,
                                const char *layer, ts_err *err);
ts_style *ts_style_load_prefer(const char *path, const char *layer, ts_err *err);

ts_style *ts_style_ref(ts_style *s);
/* Frees at zero. NULL is accepted. */
void ts_style_unref(ts_style *s);

/* ---- evaluation of symbolizer expressions --------------------------------------------- */

/* Parse a colour as SLD writes it: "#rrggbb", "#rgb" or "0xrrggbb" (space around ignored).
 * 1 with *out set (alpha 255), else 0. */
int ts_style_colour(const char *s, ts_rgba *out);

/* A symbolizer with its values of feature f (s->dynamic): s copied to *out, its graphic to
 * *gout (out->graphic points there when the graphic has values of the feature), each
 * expression evaluated in place of the fixed value: colours from text as ts_style_colour
 * reads it, numbers clamped to their SLD ranges (opacities 0..1, widths and sizes
 * 0..max_px). A value that is null or not a colour / number keeps the fixed one (the
 * style's, or the SLD default). Allocates nothing. */
void ts_style_dynamic(const ts_symbolizer *s, const ts_feature_ref *f, double max_px,
                      ts_symbolizer *out, ts_graphic *gout);

/* The text of a label (ts_symbolizer.label) for one feature, written into buf (cap bytes,
 * always NUL-terminated when cap > 0; cut at a UTF-8 character boundary when it does not
 * fit). Returns the label's length in bytes, as snprintf: a result >= cap means buf holds
 * a cut copy. Parts are concatenated: literal text as compiled (see the parser), property
 * values as text: strings as they are, integers plainly, reals shortest ("12" for 12.0,
 * "0.1", "1.5e+20"; NaN and infinities as "NaN", "Infinity", "-Infinity"), booleans
 * "true"/"false". A null or missing property contributes nothing. A label that comes out
 * empty or only white space returns 0 with buf "": there is nothing to draw (GeoServer
 * draws no label for null or blank text). label == NULL returns 0. Thread-safe;
 * allocates nothing. */
size_t ts_label_eval(const ts_expr *label, const ts_feature_ref *feat, char *buf, size_t cap);

/* Evaluate e as a number for one feature (a rotation, a priority): 1 with *out set, or 0
 * when the value is null, missing or not numeric (strings are read as decimal numbers).
 * Thread-safe; allocates nothing. */
int ts_expr_eval_number(const ts_expr *e, const ts_feature_ref *feat, double *out);

/* Index of a property name in s->props, or -1. */
int ts_style_prop_index(const ts_style *s, const char *name);

/* ElseFilter rules: an ElseFilter rule applies to a feature that no rule of its
 * FeatureTypeStyle matches (in scale, before or after it) among those that count: every rule
 * without ElseFilter except one without a filter that draws labels only (QGIS writes its
 * labelling so, after its categories: labelling every feature is no category, and counting
 * it would leave QGIS's "all other values" undrawn). A rule without a filter that draws
 * otherwise matches every feature: its ElseFilter siblings then draw nothing, as in GeoServer.
 * 1 when r counts. */
int ts_rule_counts_for_else(const ts_rule *r);

/* 1 when the ElseFilter rules among rules[0..n) (those in scale) apply to the feature: no
 * rule there that counts (ts_rule_counts_for_else) matches it. Thread-safe. */
int ts_rules_else_applies(const ts_rule *const *rules, int n, const ts_feature_ref *feat);

/* Which of rules[0..n) (those in scale) apply to the feature, into applies[0..n) (0 or
 * 1): a rule when its filter passes, an ElseFilter rule when no rule that counts matched;
 * each filter evaluated once. Thread-safe. */
void ts_rules_apply(const ts_rule *const *rules, int n, const ts_feature_ref *feat,
                    unsigned char *applies);

/* As ts_rules_else_applies over the rules of fts in scale at scale_denom. */
int ts_fts_else_applies(const ts_fts *fts, double scale_denom, const ts_feature_ref *feat);

/* Pixels (of 0.28 mm, at scale factor 1) per unit of s's lengths at scale denominator
 * scale_denom: 1 for pixels; for ground units (uom metre, foot) the unit's metres over the
 * ground size of a pixel, scale_denom x 0.28 mm — the OGC scale the rules' scale ranges are
 * read at, as GeoServer and MapServer size ground units (on Web Mercator a metre of the
 * projection, 1 / cos(latitude) ground metres). */
static inline double
ts_symbolizer_px_per_unit(const ts_symbolizer *s, double scale_denom)
{
    if (!(s->uom_m > 0) || !(scale_denom > 0))
        return 1;
    return s->uom_m / (scale_denom * 0.00028);
}

/* 1 if the rule applies at this scale denominator. */
static inline int
ts_rule_in_scale(const ts_rule *r, double scale_denom)
{
    return scale_denom >= r->min_scale && scale_denom < r->max_scale;
}

#endif
