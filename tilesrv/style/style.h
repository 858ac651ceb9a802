/* style/style.h — SLD 1.0 / SE 1.1 styles compiled into immutable rules.
 *
 * A style is parsed once (libxml2 with network access, external entities and entity
 * expansion off, size and depth limits) into a tree of FeatureTypeStyles -> Rules ->
 * Symbolizers with compiled filters. Property names used by filters and labels are
 * collected into one table; filters refer to properties by index into it, so a renderer
 * binds each index to a data column once per layer, not once per feature.
 * A ts_style is refcounted and immutable: share it between threads freely.
 * Unsupported elements are reported as warnings with file:line and skipped. */
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
    TS_EXPR_DIV
} ts_expr_op;

typedef struct ts_expr {
    ts_expr_op op;
    ts_value lit;            /* LITERAL: strings owned by the style; text that reads as a
                              * number is pre-parsed to TS_VAL_INT / TS_VAL_REAL */
    const char *text;        /* LITERAL: the literal as written (for string comparisons) */
    int prop;                /* PROPERTY: index into the style's property table */
    struct ts_expr *a, *b;   /* arithmetic operands */
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

/* ---- symbolizers ---------------------------------------------------------------------- */

typedef enum { TS_SYM_POLYGON = 0, TS_SYM_LINE, TS_SYM_POINT, TS_SYM_TEXT } ts_sym_kind;

typedef struct ts_symbolizer {
    ts_sym_kind kind;
    /* Polygon fill; Point mark fill. */
    int has_fill;
    ts_rgba fill;                /* straight colour, alpha 255 */
    double fill_opacity;         /* 0..1 */
    /* Polygon outline; Line; Point mark outline. width etc. in pixels at scale 1 */
    int has_stroke;
    ts_stroke stroke;
    ts_rgba stroke_color;
    double stroke_opacity;
    double perpendicular_offset; /* Line, pixels, positive = left of direction */
    /* Point */
    ts_mark_shape mark;
    double size;                 /* pixels */
    double rotation;             /* degrees clockwise */
    double opacity;              /* whole graphic */
    /* Text (issue 3): label expression etc. reserved */
    ts_expr *label;
} ts_symbolizer;

typedef struct ts_rule {
    char *name;
    char *title;
    char *abstract_text;
    double min_scale;            /* MinScaleDenominator, inclusive; 0 = none */
    double max_scale;            /* MaxScaleDenominator, exclusive; INFINITY = none */
    ts_filter *filter;           /* NULL = every feature */
    int is_else;                 /* ElseFilter: applies when no other rule of the FTS did */
    ts_symbolizer *syms;
    int nsyms;
} ts_rule;

typedef struct ts_fts {
    char *name;
    ts_rule *rules;
    int nrules;
} ts_fts;

typedef struct ts_style {
    int refs;                    /* atomic; use ts_style_ref/unref */
    char *name;                  /* UserStyle Name (or NamedLayer Name) */
    char *title;
    char *path;                  /* file it was read from, or the name given */
    ts_fts *fts;
    int nfts;
    char **props;                /* property names referenced, index = prop */
    int nprops;
    int nwarnings;               /* unsupported elements skipped */
} ts_style;

/* Parse SLD/SE XML held in memory. where names the source in messages (file path).
 * Errors (malformed XML, bad values, limits) give NULL with *err carrying file:line.
 * Warnings (unsupported elements) go to the log with file:line. Returns refs = 1. */
ts_style *ts_style_parse(const char *xml, size_t len, const char *where, ts_err *err);
/* Read and parse a file (at most 16 MiB). */
ts_style *ts_style_load(const char *path, ts_err *err);

/* As ts_style_parse / ts_style_load, but compile the NamedLayer or UserLayer whose Name is
 * layer (NULL = the first layer that has a UserStyle; further layers are then reported as
 * a warning). A missing layer is TS_ENOENT. */
ts_style *ts_style_parse_layer(const char *xml, size_t len, const char *where, const char *layer,
                               ts_err *err);
ts_style *ts_style_load_layer(const char *path, const char *layer, ts_err *err);

ts_style *ts_style_ref(ts_style *s);
/* Frees at zero. NULL is accepted. */
void ts_style_unref(ts_style *s);

/* Index of a property name in s->props, or -1. */
int ts_style_prop_index(const ts_style *s, const char *name);

/* 1 if the rule applies at this scale denominator. */
static inline int
ts_rule_in_scale(const ts_rule *r, double scale_denom)
{
    return scale_denom >= r->min_scale && scale_denom < r->max_scale;
}

#endif
