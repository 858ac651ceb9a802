/* style/sld.c — SLD 1.0 / SE 1.1 documents into compiled styles.
 *
 * The bytes are parsed by libxml2 into a DOM with network access, DTD loading and entity
 * substitution off; a document whose DOCTYPE declares any entity is refused while it is
 * being parsed (SAX hooks), so neither external entities (XXE) nor entity expansion
 * (billion laughs) ever happen. The same hooks count what the DOM would hold and stop
 * the parser past the limits of style_int.h (nodes, rules, nesting), so memory stays
 * bounded whatever the 16 MiB allowed hold; a lexical pass before libxml2 refuses start
 * tags with hundreds of attributes, which libxml2 < 2.12 checks for duplicates in
 * quadratic time. libxml2 diagnostics are collected per parser context with
 * their line, never printed. The DOM is then walked once: layer -> UserStyle ->
 * FeatureTypeStyles -> Rules -> Symbolizers, with filters and expressions compiled by ogc.c
 * and symbolizers by sym.c. Element names
 * are matched by local name in the SLD, SE, OGC and FES namespaces or none (QGIS writes
 * se:/ogc: prefixes, GeoServer a default namespace), without case as GeoTools does. */
#include "style/style.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "style/style_int.h"
#include "util/fmt.h"
#include "util/log.h"

#define NS_SLD "http://www.opengis.net/sld"
#define NS_SE "http://www.opengis.net/se"
#define NS_OGC "http://www.opengis.net/ogc"
#define NS_FES "http://www.opengis.net/fes/2.0"
#define MAX_LOGGED_WARNINGS 50 /* per style; a hostile file cannot flood the log */

/* ---- helpers shared with ogc.c ------------------------------------------------------------ */

long
ts_style__line(const xmlNode *n)
{
    return n ? xmlGetLineNo(n) : 0;
}

void *
ts_style__error(ts_style__pctx *p, const xmlNode *n, ts_status st, const char *fmt, ...)
{
    if (p->failed)
        return NULL;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    long line = ts_style__line(n);
    TS_FAIL_AT(p->err, st, p->where, line > 0 ? (int)line : 0, 0, "%s", msg);
    p->failed = 1;
    return NULL;
}

void
ts_style__warn(ts_style__pctx *p, const xmlNode *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int k = p->st->pub.nwarnings++;
    if (k < MAX_LOGGED_WARNINGS)
        ts_log(TS_LOG_WARN, "%s:%ld: %s", p->where, ts_style__line(n), msg);
    else if (k == MAX_LOGGED_WARNINGS)
        ts_log(TS_LOG_WARN, "%s:%ld: more warnings; the rest are counted, not logged", p->where,
               ts_style__line(n));
}

int
ts_style__is(const xmlNode *n, const char *name)
{
    if (n == NULL || n->type != XML_ELEMENT_NODE || strcasecmp((const char *)n->name, name) != 0)
        return 0;
    if (n->ns == NULL || n->ns->href == NULL)
        return 1;
    const char *h = (const char *)n->ns->href;
    return strcmp(h, NS_SLD) == 0 || strcmp(h, NS_SE) == 0 || strcmp(h, NS_OGC) == 0 ||
           strcmp(h, NS_FES) == 0;
}

const xmlNode *
ts_style__next_elem(const xmlNode *n)
{
    for (n = n->next; n != NULL; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

const xmlNode *
ts_style__first_elem(const xmlNode *n)
{
    for (n = n->children; n != NULL; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

#define FOR_ELEMS(c, parent) TS_STYLE__FOR_ELEMS(c, parent)

/* Value of the unqualified attribute name as stored in the DOM (valid while the document
 * lives), or NULL when absent. Attribute values are a single text node here: entity
 * references are refused before the tree exists. */
const char *
ts_style__attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
        if (a->ns == NULL && strcmp((const char *)a->name, name) == 0) {
            if (a->children == NULL)
                return "";
            if (a->children->type == XML_TEXT_NODE && a->children->next == NULL)
                return (const char *)a->children->content;
            return NULL;
        }
    }
    return NULL;
}

/* Text of a parameter-like element: its text and that of ogc:Literal children, trimmed.
 * Any other element inside (PropertyName, Function, arithmetic) is a dynamic value, not
 * supported yet: error. NULL on error (recorded in p). */
char *
ts_style__param_text(ts_style__pctx *p, const xmlNode *n)
{
    size_t len = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *out = NULL;
        if (pass == 1) {
            out = ts_style__alloc(p->st, len + 1);
            if (out == NULL)
                return ts_style__error(p, n, TS_ENOMEM, "out of memory");
        }
        size_t at = 0;
        for (const xmlNode *c = n->children; c != NULL; c = c->next) {
            const xmlNode *t = c, *tend = c->next;
            if (c->type == XML_ELEMENT_NODE) {
                if (!ts_style__is(c, "Literal"))
                    return ts_style__error(p, c, TS_ESTYLE,
                                           "<%s> inside <%s>: dynamic values are not supported "
                                           "yet, only text or <Literal>",
                                           (const char *)c->name, (const char *)n->name);
                t = c->children;
                tend = NULL;
            }
            for (; t != tend; t = t->next) {
                if (t->type == XML_TEXT_NODE || t->type == XML_CDATA_SECTION_NODE) {
                    size_t l = strlen((const char *)t->content);
                    if (out)
                        memcpy(out + at, t->content, l);
                    at += l;
                } else if (t->type != XML_COMMENT_NODE && t->type != XML_PI_NODE) {
                    return ts_style__error(p, t, TS_ESTYLE, "unexpected content in <%s>",
                                           (const char *)n->name);
                }
            }
        }
        if (pass == 0) {
            len = at;
            continue;
        }
        out[at] = '\0';
        char *b = out, *e = out + at;
        while (b < e && ts_style__is_space(*b))
            b++;
        while (e > b && ts_style__is_space(e[-1]))
            e--;
        *e = '\0';
        return b;
    }
    return NULL;
}

/* A number in [lo, hi]; 0 with the error recorded otherwise. */
int
ts_style__param_number(ts_style__pctx *p, const xmlNode *n, const char *what, double lo,
                       double hi, double *out)
{
    const char *s = ts_style__param_text(p, n);
    if (s == NULL)
        return 0;
    double d;
    int64_t i;
    int is_int;
    if (!ts_style__scan_number(s, strlen(s), &d, &i, &is_int) || !isfinite(d)) {
        ts_style__error(p, n, TS_ESTYLE, "%s: '%s' is not a number", what, s);
        return 0;
    }
    if (d < lo || d > hi) {
        ts_style__error(p, n, TS_ESTYLE, "%s: %s is out of range [%g, %g]", what, s, lo, hi);
        return 0;
    }
    *out = d;
    return 1;
}

/* "#rrggbb" or "#rgb", any case; also "0xrrggbb", which GeoTools accepts and GeoServer's
 * own styles use (pophatch.sld). */
static int
parse_colour(const char *s, ts_rgba *out)
{
    char buf[8];
    size_t n = strlen(s);
    if (n == 8 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        buf[0] = '#';
        memcpy(buf + 1, s + 2, 7);
        s = buf;
        n = 7;
    }
    if (s[0] != '#' || (n != 7 && n != 4))
        return 0;
    int v[6];
    for (size_t k = 1; k < n; k++)
        if ((v[k - 1] = ts_hexval(s[k])) < 0)
            return 0;
    if (n == 7) {
        out->r = (uint8_t)(v[0] * 16 + v[1]);
        out->g = (uint8_t)(v[2] * 16 + v[3]);
        out->b = (uint8_t)(v[4] * 16 + v[5]);
    } else {
        out->r = (uint8_t)(v[0] * 17);
        out->g = (uint8_t)(v[1] * 17);
        out->b = (uint8_t)(v[2] * 17);
    }
    out->a = 255;
    return 1;
}

int
ts_style_colour(const char *s, ts_rgba *out)
{
    if (s == NULL)
        return 0;
    while (ts_style__is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && ts_style__is_space(s[n - 1]))
        n--;
    char buf[12];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return parse_colour(buf, out);
}

int
ts_style__param_colour(ts_style__pctx *p, const xmlNode *n, const char *what, ts_rgba *out)
{
    const char *s = ts_style__param_text(p, n);
    if (s == NULL)
        return 0;
    if (!parse_colour(s, out)) {
        ts_style__error(p, n, TS_ESTYLE, "%s: invalid colour '%s' (expected #rrggbb, #rgb or 0xrrggbb)",
                        what, s);
        return 0;
    }
    return 1;
}

/* Plain text of a metadata element (Name, Title...), copied into the arena. */
static char *
meta_text(ts_style__pctx *p, const xmlNode *n)
{
    return ts_style__param_text(p, n);
}

int
ts_style__is_param(const xmlNode *c)
{
    return ts_style__is(c, "CssParameter") || ts_style__is(c, "SvgParameter");
}

/* ---- rules, feature type styles ------------------------------------------------------------ */

static int
count_elems(const xmlNode *n, const char *name)
{
    int k = 0;
    FOR_ELEMS(c, n) {
        if (name == NULL || ts_style__is(c, name))
            k++;
    }
    return k;
}

static int
parse_description(ts_style__pctx *p, const xmlNode *n, char **title, char **abstract_text)
{
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "Title")) {
            if ((*title = meta_text(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "Abstract")) {
            if ((*abstract_text = meta_text(p, c)) == NULL)
                return -1;
        }
    }
    return 0;
}

static int
parse_rule(ts_style__pctx *p, const xmlNode *n, ts_rule *r)
{
    const xmlNode *min_node = NULL, *filter_node = NULL, *else_node = NULL;
    r->min_scale = 0.0;
    r->max_scale = INFINITY;
    int nsym = count_elems(n, NULL);
    if (nsym > 0) {
        r->syms = ts_style__alloc(p->st, (size_t)nsym * sizeof *r->syms);
        if (r->syms == NULL)
            return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
    }
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "Name")) {
            if ((r->name = meta_text(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "Title")) {
            if ((r->title = meta_text(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "Abstract")) {
            if ((r->abstract_text = meta_text(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "Description")) {
            if (parse_description(p, c, &r->title, &r->abstract_text) != 0)
                return -1;
        } else if (ts_style__is(c, "Filter")) {
            if (filter_node != NULL)
                return ts_style__error(p, c, TS_ESTYLE, "second <Filter> in one <Rule>"), -1;
            filter_node = c;
            if ((r->filter = ts_style__parse_filter(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "ElseFilter")) {
            else_node = c;
            r->is_else = 1;
        } else if (ts_style__is(c, "MinScaleDenominator")) {
            min_node = c;
            if (!ts_style__param_number(p, c, "MinScaleDenominator", 0.0, INFINITY, &r->min_scale))
                return -1;
        } else if (ts_style__is(c, "MaxScaleDenominator")) {
            if (!ts_style__param_number(p, c, "MaxScaleDenominator", 0.0, INFINITY, &r->max_scale))
                return -1;
        } else if (ts_style__is(c, "PolygonSymbolizer") || ts_style__is(c, "LineSymbolizer") ||
                   ts_style__is(c, "PointSymbolizer") || ts_style__is(c, "TextSymbolizer")) {
            int rc = ts_style__parse_symbolizer(p, c, &r->syms[r->nsyms]);
            if (rc < 0)
                return -1;
            r->nsyms += rc;
        } else {
            ts_style__warn(p, c, "<%s> in <Rule> not supported yet, skipped",
                           (const char *)c->name);
        }
    }
    if (filter_node != NULL && else_node != NULL)
        return ts_style__error(p, else_node, TS_ESTYLE,
                               "<Rule> has both a <Filter> and an <ElseFilter>"),
               -1;
    if (r->min_scale > r->max_scale)
        return ts_style__error(p, min_node, TS_ESTYLE,
                               "MinScaleDenominator %g is above MaxScaleDenominator %g",
                               r->min_scale, r->max_scale),
               -1;
    return 0;
}

static int
parse_fts(ts_style__pctx *p, const xmlNode *n, ts_fts *f)
{
    int nrules = count_elems(n, "Rule");
    if (nrules > 0) {
        f->rules = ts_style__alloc(p->st, (size_t)nrules * sizeof *f->rules);
        if (f->rules == NULL)
            return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
    }
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "Rule")) {
            if (parse_rule(p, c, &f->rules[f->nrules]) != 0)
                return -1;
            f->has_else |= f->rules[f->nrules].is_else;
            f->nrules++;
        } else if (ts_style__is(c, "Name")) {
            if ((f->name = meta_text(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "Title") || ts_style__is(c, "Abstract") ||
                   ts_style__is(c, "Description") || ts_style__is(c, "FeatureTypeName") ||
                   ts_style__is(c, "SemanticTypeIdentifier")) {
            /* metadata without effect on rendering */
        } else {
            ts_style__warn(p, c, "<%s> in <FeatureTypeStyle> not supported yet, skipped",
                           (const char *)c->name);
        }
    }
    return 0;
}

static int
is_true(const char *s)
{
    return s != NULL && (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0);
}

static int
parse_user_style(ts_style__pctx *p, const xmlNode *n, const xmlNode *layer)
{
    ts_style *s = &p->st->pub;
    int nfts = count_elems(n, "FeatureTypeStyle");
    if (nfts > 0) {
        s->fts = ts_style__alloc(p->st, (size_t)nfts * sizeof *s->fts);
        if (s->fts == NULL)
            return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
    }
    char *abstract_text = NULL;
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "FeatureTypeStyle")) {
            if (parse_fts(p, c, &s->fts[s->nfts]) != 0)
                return -1;
            s->nfts++;
        } else if (ts_style__is(c, "Name")) {
            if ((s->name = meta_text(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "Title")) {
            if ((s->title = meta_text(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "Description")) {
            if (parse_description(p, c, &s->title, &abstract_text) != 0)
                return -1;
        } else if (ts_style__is(c, "Abstract") || ts_style__is(c, "IsDefault")) {
            /* IsDefault was used to pick this style */
        } else {
            ts_style__warn(p, c, "<%s> in <UserStyle> not supported yet, skipped",
                           (const char *)c->name);
        }
    }
    if (s->name == NULL || s->name[0] == '\0') {
        FOR_ELEMS(c, layer) {
            if (ts_style__is(c, "Name")) {
                if ((s->name = meta_text(p, c)) == NULL)
                    return -1;
                break;
            }
        }
    }
    return 0;
}

/* The layer's Name text compared with want, without allocating. */
static int
layer_name_is(const xmlNode *layer, const char *want)
{
    FOR_ELEMS(c, layer) {
        if (!ts_style__is(c, "Name"))
            continue;
        const xmlNode *t = c->children;
        if (t == NULL || t->next != NULL ||
            (t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE))
            return 0;
        const char *b = (const char *)t->content, *e = b + strlen(b);
        while (b < e && ts_style__is_space(*b))
            b++;
        while (e > b && ts_style__is_space(e[-1]))
            e--;
        return strlen(want) == (size_t)(e - b) && memcmp(b, want, (size_t)(e - b)) == 0;
    }
    return 0;
}

static const xmlNode *
pick_user_style(const xmlNode *layer)
{
    const xmlNode *first = NULL;
    FOR_ELEMS(c, layer) {
        if (!ts_style__is(c, "UserStyle"))
            continue;
        if (first == NULL)
            first = c;
        FOR_ELEMS(d, c) {
            if (!ts_style__is(d, "IsDefault"))
                continue;
            const xmlNode *t = d->children;
            char v[8] = "";
            if (t != NULL && t->next == NULL &&
                (t->type == XML_TEXT_NODE || t->type == XML_CDATA_SECTION_NODE)) {
                const char *b = (const char *)t->content;
                while (ts_style__is_space(*b))
                    b++;
                size_t k = 0;
                while (k + 1 < sizeof v && b[k] && !ts_style__is_space(b[k])) {
                    v[k] = b[k];
                    k++;
                }
                v[k] = '\0';
            }
            if (is_true(v))
                return c;
        }
    }
    return first;
}

static int
parse_document(ts_style__pctx *p, const xmlNode *root, const char *layer_name, int strict)
{
    if (root == NULL || !ts_style__is(root, "StyledLayerDescriptor")) {
        ts_style__error(p, root, TS_ESTYLE, "root element is <%s>, expected <StyledLayerDescriptor>",
                        root ? (const char *)root->name : "");
        return -1;
    }
    const xmlNode *layer = NULL, *style = NULL;
    FOR_ELEMS(c, root) {
        if (!ts_style__is(c, "NamedLayer") && !ts_style__is(c, "UserLayer"))
            continue;
        if (layer_name != NULL) {
            if (layer == NULL && layer_name_is(c, layer_name))
                layer = c;
            continue;
        }
        const xmlNode *us = pick_user_style(c);
        if (us == NULL)
            continue;
        if (layer == NULL) {
            layer = c;
            style = us;
        } else {
            ts_style__warn(p, c, "only the first layer's style is used, <%s> ignored",
                           (const char *)c->name);
        }
    }
    if (layer == NULL && layer_name != NULL && !strict) /* no layer of that name: the first */
        return parse_document(p, root, NULL, 1);
    if (layer == NULL) {
        if (layer_name != NULL)
            ts_style__error(p, root, TS_ENOENT, "no NamedLayer or UserLayer named '%s'",
                            layer_name);
        else
            ts_style__error(p, root, TS_ESTYLE, "no NamedLayer or UserLayer with a <UserStyle>");
        return -1;
    }
    if (style == NULL && (style = pick_user_style(layer)) == NULL) {
        ts_style__error(p, layer, TS_ESTYLE,
                        "layer '%s' has no <UserStyle> (NamedStyle references are not supported)",
                        layer_name ? layer_name : "");
        return -1;
    }
    FOR_ELEMS(c, layer) {
        if (!ts_style__is(c, "Name") && !ts_style__is(c, "Description") &&
            !ts_style__is(c, "Title") && !ts_style__is(c, "Abstract") &&
            !ts_style__is(c, "LayerFeatureConstraints") && !ts_style__is(c, "NamedStyle") &&
            !ts_style__is(c, "UserStyle"))
            ts_style__warn(p, c, "<%s> in <%s> not supported, ignored", (const char *)c->name,
                           (const char *)layer->name);
    }
    return parse_user_style(p, style, layer);
}

/* ---- libxml2 ----------------------------------------------------------------------------- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
    xmlInitParser();
}

/* Per-parse diagnostics, found from the parser context's _private. */
typedef struct xml_diag {
    int have;              /* first error recorded */
    int line, col;
    char msg[256];
    int refused;           /* the DOCTYPE declared an entity */
    int refused_line;
    char entity[64];
    int limited;           /* a limit of style_int.h was passed: the parser was stopped */
    int limited_line;
    char limit_msg[128];
    long nodes, rules;     /* counted so far */
    /* libxml2's DOM builders, called by the counting hooks */
    startElementNsSAX2Func start_element;
    commentSAXFunc comment;
    processingInstructionSAXFunc pi;
    cdataBlockSAXFunc cdata;
} xml_diag;

/* Errors raised without a parser context (encoding conversion, I/O) go to the thread's
 * global handlers; while a style is parsed those point here instead of stderr. */
static void
on_global_error(void *data, xmlErrorPtr e)
{
    xml_diag *d = data;
    if (d == NULL || e == NULL || e->level < XML_ERR_ERROR || d->have)
        return;
    d->have = 1;
    d->line = e->line;
    d->col = e->int2;
    snprintf(d->msg, sizeof d->msg, "%s", e->message ? e->message : "parse error");
    size_t l = strlen(d->msg);
    while (l > 0 && ts_style__is_space(d->msg[l - 1]))
        d->msg[--l] = '\0';
    for (size_t k = 0; k < l; k++) /* one line in logs */
        if (d->msg[k] == '\n' || d->msg[k] == '\r')
            d->msg[k] = ' ';
}

/* Errors of the parser context itself (with line and column). */
static void
on_xml_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    on_global_error(ctxt ? ctxt->_private : NULL, e);
}

static void
on_generic_error(void *data, const char *msg, ...)
{
    (void)data;
    (void)msg;
}

static void
refuse_entity(void *ctx, const xmlChar *name)
{
    xmlParserCtxtPtr ctxt = ctx;
    xml_diag *d = ctxt->_private;
    if (d != NULL && !d->refused) {
        d->refused = 1;
        d->refused_line = ctxt->input ? ctxt->input->line : 0;
        snprintf(d->entity, sizeof d->entity, "%s", name ? (const char *)name : "");
    }
    xmlStopParser(ctxt);
}

static void
on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
               const xmlChar *system_id, xmlChar *content)
{
    refuse_entity(ctx, name);
}

static void
on_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                        const xmlChar *system_id, const xmlChar *notation)
{
    refuse_entity(ctx, name);
}

/* Stop the parser for a limit: TS_ELIMIT with the message at the current line. */
static void refuse_limit(xmlParserCtxtPtr ctxt, xml_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse_limit(xmlParserCtxtPtr ctxt, xml_diag *d, const char *fmt, ...)
{
    if (!d->limited) {
        d->limited = 1;
        d->limited_line = ctxt->input ? ctxt->input->line : 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->limit_msg, sizeof d->limit_msg, fmt, ap);
        va_end(ap);
    }
    xmlStopParser(ctxt);
}

/* Count n nodes; 0 (parser stopped) past TS_STYLE__MAX_NODES. */
static int
count_nodes(xmlParserCtxtPtr ctxt, xml_diag *d, long n)
{
    if (d->limited)
        return 0;
    d->nodes += n;
    if (d->nodes > TS_STYLE__MAX_NODES) {
        refuse_limit(ctxt, d, "more than %d XML nodes (elements, attributes, comments)",
                     TS_STYLE__MAX_NODES);
        return 0;
    }
    return 1;
}

static void
on_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                 int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
                 int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    xml_diag *d = ctxt->_private;
    if (d->limited)
        return;
    /* nameNr counts the open ancestors of this element */
    if (ctxt->nameNr >= TS_STYLE__MAX_XML_DEPTH) {
        refuse_limit(ctxt, d, "elements nested deeper than %d levels", TS_STYLE__MAX_XML_DEPTH);
        return;
    }
    if (!count_nodes(ctxt, d, 1 + (long)nb_namespaces + (long)nb_attributes))
        return;
    if (localname != NULL && strcasecmp((const char *)localname, "Rule") == 0 &&
        ++d->rules > TS_STYLE__MAX_RULES) {
        refuse_limit(ctxt, d, "more than %d rules", TS_STYLE__MAX_RULES);
        return;
    }
    d->start_element(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                     nb_defaulted, attributes);
}

static void
on_comment(void *ctx, const xmlChar *value)
{
    xmlParserCtxtPtr ctxt = ctx;
    xml_diag *d = ctxt->_private;
    if (count_nodes(ctxt, d, 1))
        d->comment(ctx, value);
}

static void
on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    xmlParserCtxtPtr ctxt = ctx;
    xml_diag *d = ctxt->_private;
    if (count_nodes(ctxt, d, 1))
        d->pi(ctx, target, data);
}

static void
on_cdata(void *ctx, const xmlChar *value, int len)
{
    xmlParserCtxtPtr ctxt = ctx;
    xml_diag *d = ctxt->_private;
    if (count_nodes(ctxt, d, 1))
        d->cdata(ctx, value, len);
}

/* Offset of the end of the first occurrence of term in s[from, len), or len. */
static size_t
skip_past(const char *s, size_t len, size_t from, const char *term)
{
    size_t tl = strlen(term);
    while (from < len) {
        const char *c = memchr(s + from, term[0], len - from);
        if (c == NULL)
            return len;
        size_t at = (size_t)(c - s);
        if (len - at >= tl && memcmp(c, term, tl) == 0)
            return at + tl;
        from = at + 1;
    }
    return len;
}

/* A lexical pass over the bytes: the offset of the first tag with more than
 * TS_STYLE__MAX_ATTRS '=' outside quoted values (skipping comments, CDATA sections and
 * processing instructions), or len when there is none. Well-formedness is libxml2's to
 * judge; this only has to count no fewer attributes than a tag has. A tag ends at '>' or
 * before the next '<' (never part of a tag, not even of a quoted value), so every byte
 * is looked at a bounded number of times. */
static size_t
crowded_tag(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (lt == NULL)
            return len;
        size_t t = (size_t)(lt - s);
        if (len - t >= 4 && memcmp(lt, "<!--", 4) == 0) {
            i = skip_past(s, len, t + 4, "-->");
            continue;
        }
        if (len - t >= 9 && memcmp(lt, "<![CDATA[", 9) == 0) {
            i = skip_past(s, len, t + 9, "]]>");
            continue;
        }
        if (len - t >= 2 && lt[1] == '?') {
            i = skip_past(s, len, t + 2, "?>");
            continue;
        }
        int n = 0;
        char q = 0;
        size_t k = t + 1;
        for (; k < len; k++) {
            char c = s[k];
            if (c == '<')
                break;
            if (q != 0) {
                if (c == q)
                    q = 0;
            } else if (c == '"' || c == '\'') {
                q = c;
            } else if (c == '=') {
                if (++n > TS_STYLE__MAX_ATTRS)
                    return t;
            } else if (c == '>') {
                break;
            }
        }
        i = k < len && s[k] == '<' ? k : k + 1;
    }
    return len;
}

static ts_style *parse_impl(const char *xml, size_t len, const char *where, const char *layer,
                            int strict, ts_err *err);

ts_style *
ts_style_parse_layer(const char *xml, size_t len, const char *where, const char *layer,
                     ts_err *err)
{
    return parse_impl(xml, len, where, layer, 1, err);
}

ts_style *
ts_style_parse_prefer(const char *xml, size_t len, const char *where, const char *layer,
                      ts_err *err)
{
    return parse_impl(xml, len, where, layer, 0, err);
}

xmlDoc *
ts_style__read_xml(const char *xml, size_t len, const char *where, const char *what,
                   ts_err *err)
{
    if (where == NULL)
        where = "<memory>";
    if (xml == NULL || len == 0) {
        TS_FAIL_AT(err, TS_ESTYLE, where, 0, 0, "empty %s document", what);
        return NULL;
    }
    if (len > TS_STYLE__MAX_BYTES) {
        TS_FAIL_AT(err, TS_ELIMIT, where, 0, 0, "%s of %zu bytes exceeds the %u-byte limit",
                   what, len, TS_STYLE__MAX_BYTES);
        return NULL;
    }
    size_t crowded = crowded_tag(xml, len);
    if (crowded < len) {
        int line = 1;
        for (size_t k = 0; k < crowded; k++)
            line += xml[k] == '\n';
        TS_FAIL_AT(err, TS_ELIMIT, where, line, 0, "a tag with more than %d attributes",
                   TS_STYLE__MAX_ATTRS);
        return NULL;
    }
    pthread_once(&xml_once, xml_init);

    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        TS_FAIL_AT(err, TS_ENOMEM, where, 0, 0, "out of memory (XML parser)");
        return NULL;
    }
    xml_diag diag;
    memset(&diag, 0, sizeof diag);
    ctxt->_private = &diag;
    ctxt->sax->serror = on_xml_error;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
    ctxt->sax->externalSubset = NULL;
    diag.start_element = ctxt->sax->startElementNs;
    diag.comment = ctxt->sax->comment;
    diag.pi = ctxt->sax->processingInstruction;
    diag.cdata = ctxt->sax->cdataBlock;
    if (diag.start_element == NULL || diag.comment == NULL || diag.pi == NULL ||
        diag.cdata == NULL) {
        xmlFreeParserCtxt(ctxt);
        TS_FAIL_AT(err, TS_EINTERNAL, where, 0, 0, "libxml2 SAX2 handlers missing");
        return NULL;
    }
    ctxt->sax->startElementNs = on_start_element;
    ctxt->sax->comment = on_comment;
    ctxt->sax->processingInstruction = on_pi;
    ctxt->sax->cdataBlock = on_cdata;
    /* NONET: no network; no NOENT (no substitution), no DTDLOAD/DTDATTR/XINCLUDE. */
    /* CDATA sections stay nodes of their own: <Label> keeps their white space */
    int options = XML_PARSE_NONET | XML_PARSE_BIG_LINES;
#if LIBXML_VERSION >= 21300
    options |= XML_PARSE_NO_XXE;
#endif
    /* libxml2 keeps these per thread: swap ours in for this parse, then put them back */
    xmlStructuredErrorFunc old_serror = xmlStructuredError;
    void *old_sctx = xmlStructuredErrorContext;
    xmlGenericErrorFunc old_generic = xmlGenericError;
    void *old_gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(&diag, on_global_error);
    xmlSetGenericErrorFunc(&diag, on_generic_error);
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, options);
    xmlSetStructuredErrorFunc(old_sctx, old_serror);
    xmlSetGenericErrorFunc(old_gctx, old_generic);
    if (diag.refused) {
        TS_FAIL_AT(err, TS_ESTYLE, where, diag.refused_line, 0,
                   "DOCTYPE declares entity '%s': documents declaring entities are refused",
                   diag.entity);
        goto done;
    }
    if (diag.limited) {
        TS_FAIL_AT(err, TS_ELIMIT, where, diag.limited_line, 0, "%s", diag.limit_msg);
        goto done;
    }
    if (doc == NULL || diag.have) {
        if (diag.have)
            TS_FAIL_AT(err, TS_ESTYLE, where, diag.line, diag.col, "malformed XML: %s", diag.msg);
        else
            TS_FAIL_AT(err, TS_ESTYLE, where, 0, 0, "malformed XML");
        goto done;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
done:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return NULL;
}

static ts_style *
parse_impl(const char *xml, size_t len, const char *where, const char *layer, int strict,
           ts_err *err)
{
    if (where == NULL)
        where = "<memory>";
    xmlDocPtr doc = ts_style__read_xml(xml, len, where, "style", err);
    if (doc == NULL)
        return NULL;
    ts_style__impl *st = NULL;
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        TS_FAIL_AT(err, TS_ENOMEM, where, 0, 0, "out of memory (style)");
        goto done;
    }
    st->pub.refs = 1;
    ts_style__pctx p = {.st = st, .where = where, .err = err, .failed = 0};
    if ((st->pub.path = ts_style__strndup(st, where, strlen(where))) == NULL) {
        ts_style__error(&p, NULL, TS_ENOMEM, "out of memory");
    } else if (parse_document(&p, xmlDocGetRootElement(doc), layer, strict) != 0 && !p.failed) {
        ts_style__error(&p, NULL, TS_EINTERNAL, "style parse failed without a message");
    }
    if (p.failed) {
        ts_style__free(st);
        st = NULL;
    }
done:
    xmlFreeDoc(doc);
    return st ? &st->pub : NULL;
}

ts_style *
ts_style_parse(const char *xml, size_t len, const char *where, ts_err *err)
{
    return ts_style_parse_layer(xml, len, where, NULL, err);
}
