/* style/style_int.h — private to the style module: the allocation arena every compiled
 * style lives in, the parse state shared by the SLD and filter parsers, and the number
 * scanner shared by the parser (literals, parameters) and the evaluator (attribute
 * strings). The only place libxml2 types are seen outside sld.c / ogc.c. */
#ifndef TS_STYLE_STYLE_INT_H
#define TS_STYLE_STYLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "style/style.h"

/* Limits of the parser. */
#define TS_STYLE__MAX_BYTES (16u * 1024u * 1024u) /* whole document */
#define TS_STYLE__MAX_DEPTH 64                    /* nesting of filter / expression nodes */
#define TS_STYLE__MAX_PX 10000.0                  /* widths, sizes, offsets in pixels */
#define TS_STYLE__MAX_IMAGES 256                  /* distinct ExternalGraphic files */
/* Checked while libxml2 reads, so a hostile document is stopped before its DOM exists
 * (libxml2 spends ~400 bytes per node: 16 MiB of "<a/>" would take 1.7 GB). */
#define TS_STYLE__MAX_NODES 200000     /* elements + attributes + namespace declarations +
                                        * comments + processing instructions + CDATA */
#define TS_STYLE__MAX_RULES 100000     /* <Rule> elements in the document */
#define TS_STYLE__MAX_XML_DEPTH 128    /* element nesting (libxml2's own limit is 256) */
#define TS_STYLE__MAX_ATTRS 256        /* attributes + namespace declarations of one tag */
#define TS_STYLE__MAX_PROPS 4096       /* distinct property names */

/* One block of the arena; allocations are bumped from data. */
typedef struct ts_style__chunk {
    struct ts_style__chunk *next;
    size_t used, cap;
    max_align_t data[];
} ts_style__chunk;

/* What ts_style_parse allocates: the public struct first, so a ts_style * is also a
 * ts_style__impl *. Rules, filters, expressions and strings come from the arena and are
 * freed all at once; the property table grows by realloc. */
typedef struct ts_style__impl {
    ts_style pub;
    ts_style__chunk *chunks;
    int props_cap;
    int images_cap;              /* pub.images grows by realloc too */
} ts_style__impl;

/* Zeroed memory from the style's arena, or NULL on out-of-memory. */
void *ts_style__alloc(ts_style__impl *st, size_t size);
/* Copy of s[0..n) plus a NUL from the arena, or NULL on out-of-memory. */
char *ts_style__strndup(ts_style__impl *st, const char *s, size_t n);
/* Index of name in the property table, adding it if new; -1 on out-of-memory, -2 when
 * the table already holds TS_STYLE__MAX_PROPS names. */
int ts_style__prop_add(ts_style__impl *st, const char *name, long line);
/* Free everything of a style regardless of its reference count. NULL is accepted. */
void ts_style__free(ts_style__impl *st);

/* Scan s[0..n) as a decimal number (optional surrounding XML whitespace, sign, digits,
 * fraction, exponent; no hex, inf or nan). Returns 0 if it is not one; else 1 with *d set,
 * and, when the text is an integer that fits int64, *is_int = 1 and *i set.
 * Allocates nothing (long mantissas go through strtod on a bounded stack copy). */
int ts_style__scan_number(const char *s, size_t n, double *d, int64_t *i, int *is_int);

/* Parse state shared by sld.c and ogc.c. */
typedef struct ts_style__pctx {
    ts_style__impl *st;
    const char *where;      /* file name for messages */
    ts_err *err;
    int failed;             /* an error has been recorded in *err */
    const xmlNode *unsupported; /* an expression of a symbolizer value used something we
                             * cannot evaluate (a function): the parser returned NULL
                             * without an error; the symbolizer is skipped with a warning */
    int dyn_ok;             /* CssParameters and Size may take values of the feature here (a
                             * Polygon/Line symbolizer's own Fill and Stroke, a
                             * PointSymbolizer's graphic; not GraphicFill/GraphicStroke
                             * patterns, which are drawn once and cached) */
} ts_style__pctx;

/* Record an error at node n (its line) unless one is already recorded; returns NULL so
 * parsers can `return perr(...)`. */
void *ts_style__error(ts_style__pctx *p, const xmlNode *n, ts_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Log a warning at node n and count it in the style's nwarnings. */
void ts_style__warn(ts_style__pctx *p, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 1 if n is an element in an SLD/SE/OGC/FES namespace (or none) whose local name is
 * name, compared without case (as GeoTools does). */
int ts_style__is(const xmlNode *n, const char *name);
/* First element child of n, and the next element sibling, or NULL. */
const xmlNode *ts_style__first_elem(const xmlNode *n);
const xmlNode *ts_style__next_elem(const xmlNode *n);
/* Line of n in the document. */
long ts_style__line(const xmlNode *n);

/* for (each element child c of parent) */
#define TS_STYLE__FOR_ELEMS(c, parent)                                                             \
    for (const xmlNode *c = ts_style__first_elem(parent); c != NULL; c = ts_style__next_elem(c))

/* Value of the unqualified attribute name (valid while the document lives), or NULL. */
const char *ts_style__attr(const xmlNode *n, const char *name);
/* 1 if c is a CssParameter (SLD 1.0) or SvgParameter (SE 1.1). */
int ts_style__is_param(const xmlNode *c);
/* Text of a parameter-like element (its text, CDATA and <Literal> children, trimmed), in
 * the style's arena; any other element inside is an error ("dynamic values"). NULL on
 * error (recorded in p). */
char *ts_style__param_text(ts_style__pctx *p, const xmlNode *n);
/* The parameter as a number in [lo, hi]; 0 with the error recorded otherwise. */
int ts_style__param_number(ts_style__pctx *p, const xmlNode *n, const char *what, double lo,
                           double hi, double *out);
/* The parameter as a colour "#rrggbb" or "#rgb"; 0 with the error recorded otherwise. */
int ts_style__param_colour(ts_style__pctx *p, const xmlNode *n, const char *what, ts_rgba *out);

/* Compile a Polygon-, Line-, Point- or TextSymbolizer element into *s: 1 = compiled,
 * 0 = skipped with a warning, -1 = error (recorded in p). */
int ts_style__parse_symbolizer(ts_style__pctx *p, const xmlNode *n, ts_symbolizer *s);

/* Compile an ogc:Filter element (its single child operator). NULL with the error
 * recorded in p on failure. */
ts_filter *ts_style__parse_filter(ts_style__pctx *p, const xmlNode *filter);

/* Compile one expression element of a symbolizer value (PropertyName, Literal, arithmetic,
 * the functions strConcat / Concatenate, SE Concatenate) at nesting depth. NULL on error
 * (recorded in p) or, with p->unsupported set, when it uses an unknown function. */
ts_expr *ts_style__parse_expr(ts_style__pctx *p, const xmlNode *n, int depth);
/* Compile the mixed content of n (text, CDATA and expression elements, concatenated;
 * white space as documented in ogc.c). NULL for empty content, on error, or unsupported
 * (tell them apart by p->failed and p->unsupported). */
ts_expr *ts_style__parse_mixed(ts_style__pctx *p, const xmlNode *n);
/* A literal expression of text[0..len) (copied; numbers pre-parsed). NULL on OOM. */
ts_expr *ts_style__literal(ts_style__pctx *p, const xmlNode *n, const char *text, size_t len);
/* a followed by b as text; a == NULL returns b. NULL on OOM. */
ts_expr *ts_style__concat(ts_style__pctx *p, const xmlNode *n, ts_expr *a, ts_expr *b);

/* XML white space (the characters SLD text is trimmed of). */
static inline int
ts_style__is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Read an XML document as styles are read (no network, entities refused, limits on size
 * and attributes); what names the kind in messages ("style", "SVG"). NULL with *err
 * (where:line:col). Free with xmlFreeDoc. */
xmlDoc *ts_style__read_xml(const char *xml, size_t len, const char *where, const char *what,
                           ts_err *err);

#endif
