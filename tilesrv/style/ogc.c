/* style/ogc.c — OGC Filter Encoding 1.0 / 1.1 (ogc:Filter) into compiled filters.
 *
 * Comparison, Like, Null, Between and logical operators with PropertyName / Literal /
 * Add / Sub / Mul / Div operands. Literals that read as numbers are converted here, once,
 * so evaluation never parses literal text; Like patterns are rewritten to one canonical
 * form. Property names are entered in the style's property table and referred to by
 * index. Nesting is limited (TS_STYLE__MAX_DEPTH) so neither parsing nor evaluation
 * recursion can be driven deep by a hostile document. Spatial operators, feature ids and
 * functions other than the case functions, in and strLength are errors: a filter that
 * cannot be evaluated exactly is refused, never approximated. The same expression parser
 * serves symbolizer values (labels, rotations, priorities), where the string functions
 * strConcat and Concatenate are known too, and an unknown function only makes the
 * symbolizer unsupported (see ts_style__parse_expr). */
#include "style/style.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "style/style_int.h"

static const char *
name_of(const xmlNode *n)
{
    return (const char *)n->name;
}

/* Text children of n concatenated (no element children allowed), into the arena. */
static char *
leaf_text(ts_style__pctx *p, const xmlNode *n, size_t *len_out)
{
    size_t len = 0;
    for (const xmlNode *c = n->children; c != NULL; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            len += strlen((const char *)c->content);
        else if (c->type == XML_ELEMENT_NODE)
            return ts_style__error(p, c, TS_ESTYLE, "<%s> inside <%s> not supported",
                                   name_of(c), name_of(n));
        else if (c->type != XML_COMMENT_NODE && c->type != XML_PI_NODE)
            return ts_style__error(p, c, TS_ESTYLE, "unexpected content in <%s>", name_of(n));
    }
    char *out = ts_style__alloc(p->st, len + 1);
    if (out == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory");
    size_t at = 0;
    for (const xmlNode *c = n->children; c != NULL; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            size_t l = strlen((const char *)c->content);
            memcpy(out + at, c->content, l);
            at += l;
        }
    }
    out[at] = '\0';
    if (len_out)
        *len_out = at;
    return out;
}

static int
count_kids(const xmlNode *n)
{
    int k = 0;
    for (const xmlNode *c = ts_style__first_elem(n); c != NULL; c = ts_style__next_elem(c))
        k++;
    return k;
}

static void *
too_deep(ts_style__pctx *p, const xmlNode *n)
{
    return ts_style__error(p, n, TS_ELIMIT, "filter nested deeper than %d levels",
                           TS_STYLE__MAX_DEPTH);
}

/* ---- expressions -------------------------------------------------------------------------- */

static ts_expr *
new_expr(ts_style__pctx *p, const xmlNode *n, ts_expr_op op)
{
    ts_expr *e = ts_style__alloc(p->st, sizeof *e);
    if (e == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory");
    e->op = op;
    e->prop = -1;
    return e;
}

static ts_expr *parse_expr(ts_style__pctx *p, const xmlNode *n, int depth, int labels);
static ts_expr *mixed(ts_style__pctx *p, const xmlNode *n, int depth);

/* A literal of text[0..len) (NUL-terminated, owned by the style), numbers pre-parsed. */
static ts_expr *
literal_of(ts_style__pctx *p, const xmlNode *n, char *text, size_t len)
{
    ts_expr *e = new_expr(p, n, TS_EXPR_LITERAL);
    if (e == NULL)
        return NULL;
    e->text = text;
    double d;
    int64_t i;
    int is_int;
    if (ts_style__scan_number(text, len, &d, &i, &is_int) && isfinite(d)) {
        if (is_int) {
            e->lit.type = TS_VAL_INT;
            e->lit.u.i = i;
        } else {
            e->lit.type = TS_VAL_REAL;
            e->lit.u.d = d;
        }
    } else {
        e->lit.type = TS_VAL_STR;
        e->lit.u.s = text;
    }
    return e;
}

static ts_expr *
parse_literal(ts_style__pctx *p, const xmlNode *n)
{
    size_t len;
    char *text = leaf_text(p, n, &len);
    if (text == NULL)
        return NULL;
    return literal_of(p, n, text, len);
}

ts_expr *
ts_style__literal(ts_style__pctx *p, const xmlNode *n, const char *text, size_t len)
{
    char *copy = ts_style__strndup(p->st, text, len);
    if (copy == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory");
    return literal_of(p, n, copy, len);
}

ts_expr *
ts_style__concat(ts_style__pctx *p, const xmlNode *n, ts_expr *a, ts_expr *b)
{
    if (a == NULL)
        return b;
    ts_expr *e = new_expr(p, n, TS_EXPR_CONCAT);
    if (e == NULL)
        return NULL;
    e->a = a;
    e->b = b;
    return e;
}

/* Value of the function's name attribute ("" when absent). */
static const char *
function_name(const xmlNode *n)
{
    for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
        if (strcmp((const char *)a->name, "name") == 0 && a->children &&
            a->children->type == XML_TEXT_NODE)
            return (const char *)a->children->content;
    return "";
}

/* 1 if x is a literal whose text is word (any case). */
static int
literal_is(const ts_expr *x, const char *word)
{
    return x->op == TS_EXPR_LITERAL && x->text != NULL && strcasecmp(x->text, word) == 0;
}

/* The trailing option words of Recode / Categorize / Interpolate taken off e's arguments
 * into e->fn_flags, and the count of what is left checked. 0, or -1 with the error. */
static int
lookup_options(ts_style__pctx *p, const xmlNode *n, ts_expr *e, const char *fname)
{
    if (e->fn == TS_FN_CATEGORIZE && e->nargs > 2) {
        const ts_expr *last = e->args[e->nargs - 1];
        if (literal_is(last, "preceding") || literal_is(last, "succeeding")) {
            e->fn_flags |= literal_is(last, "preceding") ? TS_FN_PRECEDING : 0;
            e->nargs--;
        }
    }
    int mode = 0;
    while (e->fn == TS_FN_INTERPOLATE && e->nargs > 3) {
        const ts_expr *last = e->args[e->nargs - 1];
        if (literal_is(last, "color") || literal_is(last, "colour")) {
            e->fn_flags |= TS_FN_COLOUR;
            mode = 1;
        } else if (literal_is(last, "numeric")) {
            mode = 1;
        } else if (literal_is(last, "cosine")) {
            e->fn_flags |= TS_FN_COSINE;
        } else if (literal_is(last, "cubic")) {
            ts_style__error(p, n, TS_ESTYLE,
                            "<Function name=\"%s\">: method 'cubic' not supported (linear, "
                            "cosine)",
                            fname);
            return -1;
        } else if (!literal_is(last, "linear")) {
            break;
        }
        e->nargs--;
    }
    int ok = e->fn == TS_FN_RECODE       ? e->nargs >= 3 && (e->nargs - 1) % 2 == 0
             : e->fn == TS_FN_CATEGORIZE ? e->nargs >= 2 && (e->nargs - 2) % 2 == 0
                                         : e->nargs >= 3 && (e->nargs - 1) % 2 == 0;
    if (!ok) {
        ts_style__error(p, n, TS_ESTYLE,
                        "<Function name=\"%s\">: %d arguments do not make %s", fname,
                        e->nargs,
                        e->fn == TS_FN_RECODE       ? "an input and key/value pairs"
                        : e->fn == TS_FN_CATEGORIZE ? "an input, a value and threshold/value pairs"
                                                    : "an input and data/value pairs");
        return -1;
    }
    if (e->fn == TS_FN_INTERPOLATE && !mode) { /* no mode given: colours if all values are */
        int colours = 1;
        for (int i = 2; i < e->nargs && colours; i += 2) {
            ts_rgba c;
            colours = e->args[i]->op == TS_EXPR_LITERAL && e->args[i]->text != NULL &&
                      ts_style_colour(e->args[i]->text, &c);
        }
        if (colours)
            e->fn_flags |= TS_FN_COLOUR;
    }
    return 0;
}

/* Functions: strConcat(a, b) and Concatenate(a, ...) (string concatenation, in symbolizer
 * values only), and everywhere the case functions, in / in2..in10 and strLength. Any
 * other function is an error in a filter and marks a symbolizer value unsupported
 * (p->unsupported). */
static ts_expr *
parse_function(ts_style__pctx *p, const xmlNode *n, int depth, int labels)
{
    static const struct {
        const char *name;
        ts_expr_fn fn;
        int min, max; /* arguments */
    } fns[] = {
        {"strToUpperCase", TS_FN_UPPER, 1, 1}, {"upper", TS_FN_UPPER, 1, 1},
        {"strToLowerCase", TS_FN_LOWER, 1, 1}, {"lower", TS_FN_LOWER, 1, 1},
        {"strLength", TS_FN_STRLEN, 1, 1},     {"length", TS_FN_STRLEN, 1, 1},
        {"Recode", TS_FN_RECODE, 3, 1025},
        {"Categorize", TS_FN_CATEGORIZE, 2, 1025},
        {"Interpolate", TS_FN_INTERPOLATE, 3, 1026},
        {"in", TS_FN_IN, 2, 1024},
    };
    const char *fname = function_name(n);
    int k = count_kids(n);
    if (labels && (strcasecmp(fname, "strConcat") == 0 || strcasecmp(fname, "Concatenate") == 0)) {
        if (strcasecmp(fname, "strConcat") == 0 ? k != 2 : k < 1)
            return ts_style__error(p, n, TS_ESTYLE, "<Function name=\"%s\"> needs %s", fname,
                                   k < 1 ? "arguments" : "two arguments");
        ts_expr *acc = NULL;
        for (const xmlNode *c = ts_style__first_elem(n); c != NULL; c = ts_style__next_elem(c)) {
            ts_expr *x = parse_expr(p, c, depth + 1, labels);
            if (x == NULL || (acc = ts_style__concat(p, n, acc, x)) == NULL)
                return NULL;
        }
        return acc;
    }
    int which = -1, max = 0;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0] && which < 0; i++)
        if (strcasecmp(fname, fns[i].name) == 0) {
            which = (int)i;
            max = fns[i].max;
        }
    /* GeoServer's in2 .. in10: in with at most N values */
    if (which < 0 && strncasecmp(fname, "in", 2) == 0 && fname[2] >= '1' && fname[2] <= '9') {
        char *end;
        long m = strtol(fname + 2, &end, 10);
        if (*end == '\0' && m >= 2 && m <= 10) {
            which = (int)(sizeof fns / sizeof fns[0]) - 1;
            max = (int)m + 1;
        }
    }
    if (which < 0) {
        if (!labels)
            return ts_style__error(p, n, TS_ESTYLE,
                                   "<Function name=\"%s\"> not supported (known: "
                                   "strToUpperCase/upper, strToLowerCase/lower, strLength, "
                                   "in, in2..in10, Recode, Categorize, Interpolate)",
                                   fname);
        if (p->unsupported == NULL)
            p->unsupported = n;
        return NULL;
    }
    if (k < fns[which].min || k > max)
        return ts_style__error(p, n, TS_ESTYLE, "<Function name=\"%s\"> with %d arguments",
                               fname, k);
    ts_expr *e = new_expr(p, n, TS_EXPR_FUNC);
    if (e == NULL)
        return NULL;
    e->fn = fns[which].fn;
    e->args = ts_style__alloc(p->st, (size_t)k * sizeof *e->args);
    if (e->args == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory");
    for (const xmlNode *c = ts_style__first_elem(n); c != NULL; c = ts_style__next_elem(c)) {
        ts_expr *x = parse_expr(p, c, depth + 1, labels);
        if (x == NULL)
            return NULL;
        e->args[e->nargs++] = x;
    }
    if (e->fn == TS_FN_RECODE || e->fn == TS_FN_CATEGORIZE || e->fn == TS_FN_INTERPOLATE)
        return lookup_options(p, n, e, fname) == 0 ? e : NULL;
    return e;
}

static ts_expr *
parse_property(ts_style__pctx *p, const xmlNode *n)
{
    char *text = leaf_text(p, n, NULL);
    if (text == NULL)
        return NULL;
    char *b = text, *e = text + strlen(text);
    while (b < e && ts_style__is_space(*b))
        b++;
    while (e > b && ts_style__is_space(e[-1]))
        e--;
    *e = '\0';
    if (*b == '\0')
        return ts_style__error(p, n, TS_ESTYLE, "empty <%s>", name_of(n));
    ts_expr *x = new_expr(p, n, TS_EXPR_PROPERTY);
    if (x == NULL)
        return NULL;
    x->prop = ts_style__prop_add(p->st, b, ts_style__line(n));
    if (x->prop == -2)
        return ts_style__error(p, n, TS_ELIMIT, "more than %d distinct property names",
                               TS_STYLE__MAX_PROPS);
    if (x->prop < 0)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory");
    return x;
}

static ts_expr *
parse_expr(ts_style__pctx *p, const xmlNode *n, int depth, int labels)
{
    static const struct {
        const char *name;
        ts_expr_op op;
    } arith[] = {{"Add", TS_EXPR_ADD}, {"Sub", TS_EXPR_SUB}, {"Mul", TS_EXPR_MUL},
                 {"Div", TS_EXPR_DIV}};
    if (depth > TS_STYLE__MAX_DEPTH)
        return too_deep(p, n);
    if (ts_style__is(n, "PropertyName") || ts_style__is(n, "ValueReference"))
        return parse_property(p, n);
    if (ts_style__is(n, "Literal"))
        return parse_literal(p, n);
    for (size_t k = 0; k < sizeof arith / sizeof arith[0]; k++) {
        if (!ts_style__is(n, arith[k].name))
            continue;
        if (count_kids(n) != 2)
            return ts_style__error(p, n, TS_ESTYLE, "<%s> needs exactly two operands",
                                   name_of(n));
        ts_expr *e = new_expr(p, n, arith[k].op);
        if (e == NULL)
            return NULL;
        const xmlNode *a = ts_style__first_elem(n);
        if ((e->a = parse_expr(p, a, depth + 1, labels)) == NULL ||
            (e->b = parse_expr(p, ts_style__next_elem(a), depth + 1, labels)) == NULL)
            return NULL;
        return e;
    }
    if (ts_style__is(n, "Function"))
        return parse_function(p, n, depth, labels);
    if (labels && ts_style__is(n, "Concatenate")) { /* SE 1.1: StringValue children */
        ts_expr *acc = NULL;
        for (const xmlNode *c = ts_style__first_elem(n); c != NULL; c = ts_style__next_elem(c)) {
            if (!ts_style__is(c, "StringValue"))
                return ts_style__error(p, c, TS_ESTYLE, "<%s> in <Concatenate>", name_of(c));
            ts_expr *x = mixed(p, c, depth + 1);
            if (p->failed || p->unsupported)
                return NULL;
            if (x != NULL && (acc = ts_style__concat(p, c, acc, x)) == NULL)
                return NULL;
        }
        if (acc == NULL)
            return ts_style__literal(p, n, "", 0);
        return acc;
    }
    return ts_style__error(p, n, TS_ESTYLE, "<%s> is not a supported expression", name_of(n));
}

ts_expr *
ts_style__parse_expr(ts_style__pctx *p, const xmlNode *n, int depth)
{
    return parse_expr(p, n, depth < 1 ? 1 : depth, 1);
}

/* Mixed content: text, CDATA and expression elements concatenated. A text node loses its
 * leading and trailing white space and has inner runs of white space collapsed to one
 * space (XML "collapse", as GeoServer documents for <Label>); a CDATA section is kept
 * exactly; a <Literal> keeps its text as written. NULL with neither failed nor unsupported
 * set in p: the content is empty. */
static ts_expr *
mixed(ts_style__pctx *p, const xmlNode *n, int depth)
{
    if (depth > TS_STYLE__MAX_DEPTH)
        return too_deep(p, n);
    ts_expr *acc = NULL;
    for (const xmlNode *c = n->children; c != NULL; c = c->next) {
        ts_expr *x = NULL;
        if (c->type == XML_TEXT_NODE) {
            const char *t = (const char *)c->content;
            size_t len = strlen(t);
            char *buf = ts_style__alloc(p->st, len + 1);
            if (buf == NULL)
                return ts_style__error(p, c, TS_ENOMEM, "out of memory");
            size_t o = 0;
            int space = 0;
            for (size_t i = 0; i < len; i++) {
                if (ts_style__is_space(t[i])) {
                    space = o > 0;
                    continue;
                }
                if (space)
                    buf[o++] = ' ';
                space = 0;
                buf[o++] = t[i];
            }
            buf[o] = '\0';
            if (o == 0)
                continue;
            x = literal_of(p, c, buf, o);
        } else if (c->type == XML_CDATA_SECTION_NODE) {
            size_t len = strlen((const char *)c->content);
            if (len == 0)
                continue;
            x = ts_style__literal(p, c, (const char *)c->content, len);
        } else if (c->type == XML_ELEMENT_NODE) {
            x = parse_expr(p, c, depth + 1, 1);
        } else if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE) {
            continue;
        } else {
            return ts_style__error(p, c, TS_ESTYLE, "unexpected content in <%s>", name_of(n));
        }
        if (x == NULL || (acc = ts_style__concat(p, n, acc, x)) == NULL)
            return NULL;
    }
    return acc;
}

ts_expr *
ts_style__parse_mixed(ts_style__pctx *p, const xmlNode *n)
{
    return mixed(p, n, 1);
}

/* ---- operators ---------------------------------------------------------------------------- */

static const char *
attr(const xmlNode *n, const char *name)
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

static ts_filter *
new_filter(ts_style__pctx *p, const xmlNode *n, ts_filter_op op)
{
    ts_filter *f = ts_style__alloc(p->st, sizeof *f);
    if (f == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory");
    f->op = op;
    f->match_case = 1;
    return f;
}

static int
parse_match_case(ts_style__pctx *p, const xmlNode *n, ts_filter *f)
{
    const char *v = attr(n, "matchCase");
    if (v == NULL)
        return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        f->match_case = 1;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        f->match_case = 0;
    else {
        ts_style__error(p, n, TS_ESTYLE, "matchCase=\"%s\" is not true or false", v);
        return -1;
    }
    return 0;
}

/* One ASCII character attribute of PropertyIsLike; 0 if absent and optional. */
static int
like_char(ts_style__pctx *p, const xmlNode *n, const char *name, const char *alt, int required,
          char *out)
{
    const char *v = attr(n, name);
    if (v == NULL && alt != NULL)
        v = attr(n, alt);
    if (v == NULL) {
        if (!required) {
            *out = 0;
            return 0;
        }
        ts_style__error(p, n, TS_ESTYLE, "<PropertyIsLike> needs a %s attribute", name);
        return -1;
    }
    if (strlen(v) != 1 || (unsigned char)v[0] >= 0x80) {
        ts_style__error(p, n, TS_ESTYLE, "%s=\"%s\" must be one ASCII character", name, v);
        return -1;
    }
    *out = v[0];
    return 0;
}

/* Rewrite pat with the document's wildcards into SQL form: '%' any run, '_' one
 * character, '\' escapes the next byte; consecutive '%' collapse. */
static char *
like_normalise(ts_style__pctx *p, const xmlNode *n, const char *pat, char wild, char single,
               char esc)
{
    size_t len = strlen(pat);
    char *out = ts_style__alloc(p->st, 2 * len + 1);
    if (out == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory");
    size_t o = 0;
    int last_wild = 0;
    for (size_t i = 0; i < len; i++) {
        char c = pat[i];
        if (esc && c == esc) {
            if (++i == len)
                return ts_style__error(p, n, TS_ESTYLE,
                                       "Like pattern '%s' ends with its escape character", pat);
            c = pat[i];
        } else if (c == wild) {
            if (!last_wild)
                out[o++] = '%';
            last_wild = 1;
            continue;
        } else if (c == single) {
            out[o++] = '_';
            last_wild = 0;
            continue;
        }
        if (c == '%' || c == '_' || c == '\\')
            out[o++] = '\\';
        out[o++] = c;
        last_wild = 0;
    }
    out[o] = '\0';
    return out;
}

static ts_filter *parse_op(ts_style__pctx *p, const xmlNode *n, int depth);

static ts_filter *
parse_like(ts_style__pctx *p, const xmlNode *n, int depth)
{
    ts_filter *f = new_filter(p, n, TS_FILTER_LIKE);
    if (f == NULL || parse_match_case(p, n, f) != 0)
        return NULL;
    char wild, single, esc;
    if (like_char(p, n, "wildCard", NULL, 1, &wild) != 0 ||
        like_char(p, n, "singleChar", NULL, 1, &single) != 0 ||
        like_char(p, n, "escapeChar", "escape", 0, &esc) != 0)
        return NULL;
    if (wild == single || wild == esc || single == esc)
        return ts_style__error(p, n, TS_ESTYLE,
                               "<PropertyIsLike> wildCard, singleChar and escape must differ");
    const xmlNode *a = ts_style__first_elem(n);
    const xmlNode *b = a ? ts_style__next_elem(a) : NULL;
    if (a == NULL || b == NULL || ts_style__next_elem(b) != NULL)
        return ts_style__error(p, n, TS_ESTYLE,
                               "<PropertyIsLike> needs an expression and a <Literal>");
    if (!ts_style__is(b, "Literal"))
        return ts_style__error(p, b, TS_ESTYLE, "<PropertyIsLike> pattern must be a <Literal>");
    if ((f->a = parse_expr(p, a, depth + 1, 0)) == NULL || (f->b = parse_literal(p, b)) == NULL)
        return NULL;
    f->like_pattern = like_normalise(p, b, f->b->text, wild, single, esc);
    if (f->like_pattern == NULL)
        return NULL;
    f->wild = '%';
    f->single = '_';
    f->esc = '\\';
    return f;
}

static ts_filter *
parse_between(ts_style__pctx *p, const xmlNode *n, int depth)
{
    ts_filter *f = new_filter(p, n, TS_FILTER_BETWEEN);
    if (f == NULL)
        return NULL;
    const xmlNode *lo = NULL, *hi = NULL, *ex = NULL;
    for (const xmlNode *c = ts_style__first_elem(n); c != NULL; c = ts_style__next_elem(c)) {
        const xmlNode **slot = ts_style__is(c, "LowerBoundary")   ? &lo
                               : ts_style__is(c, "UpperBoundary") ? &hi
                                                                  : &ex;
        if (*slot != NULL)
            return ts_style__error(p, c, TS_ESTYLE, "unexpected <%s> in <PropertyIsBetween>",
                                   name_of(c));
        *slot = c;
    }
    if (ex == NULL || lo == NULL || hi == NULL)
        return ts_style__error(p, n, TS_ESTYLE,
                               "<PropertyIsBetween> needs an expression, <LowerBoundary> and "
                               "<UpperBoundary>");
    if (count_kids(lo) != 1 || count_kids(hi) != 1)
        return ts_style__error(p, count_kids(lo) != 1 ? lo : hi, TS_ESTYLE,
                               "a boundary holds exactly one expression");
    if ((f->a = parse_expr(p, ex, depth + 1, 0)) == NULL ||
        (f->b = parse_expr(p, ts_style__first_elem(lo), depth + 2, 0)) == NULL ||
        (f->c = parse_expr(p, ts_style__first_elem(hi), depth + 2, 0)) == NULL)
        return NULL;
    return f;
}

static ts_filter *
parse_logic(ts_style__pctx *p, const xmlNode *n, ts_filter_op op, int depth)
{
    int k = count_kids(n);
    if (op == TS_FILTER_NOT ? k != 1 : k < 1)
        return ts_style__error(p, n, TS_ESTYLE, "<%s> needs %s", name_of(n),
                               op == TS_FILTER_NOT ? "exactly one operand" : "operands");
    ts_filter *f = new_filter(p, n, op);
    if (f == NULL)
        return NULL;
    f->kids = ts_style__alloc(p->st, (size_t)k * sizeof *f->kids);
    if (f->kids == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory");
    for (const xmlNode *c = ts_style__first_elem(n); c != NULL; c = ts_style__next_elem(c)) {
        if ((f->kids[f->nkids] = parse_op(p, c, depth + 1)) == NULL)
            return NULL;
        f->nkids++;
    }
    return f;
}

static ts_filter *
parse_op(ts_style__pctx *p, const xmlNode *n, int depth)
{
    static const struct {
        const char *name;
        ts_filter_op op;
    } cmp[] = {{"PropertyIsEqualTo", TS_FILTER_EQ},
               {"PropertyIsNotEqualTo", TS_FILTER_NE},
               {"PropertyIsLessThan", TS_FILTER_LT},
               {"PropertyIsLessThanOrEqualTo", TS_FILTER_LE},
               {"PropertyIsGreaterThan", TS_FILTER_GT},
               {"PropertyIsGreaterThanOrEqualTo", TS_FILTER_GE}};
    static const char *spatial[] = {"BBOX",    "Equals",   "Disjoint", "Touches",
                                    "Within",  "Overlaps", "Crosses",  "Intersects",
                                    "Contains", "DWithin", "Beyond"};
    if (depth > TS_STYLE__MAX_DEPTH)
        return too_deep(p, n);
    for (size_t k = 0; k < sizeof cmp / sizeof cmp[0]; k++) {
        if (!ts_style__is(n, cmp[k].name))
            continue;
        if (count_kids(n) != 2)
            return ts_style__error(p, n, TS_ESTYLE, "<%s> needs exactly two expressions",
                                   name_of(n));
        ts_filter *f = new_filter(p, n, cmp[k].op);
        if (f == NULL || parse_match_case(p, n, f) != 0)
            return NULL;
        const xmlNode *a = ts_style__first_elem(n);
        if ((f->a = parse_expr(p, a, depth + 1, 0)) == NULL ||
            (f->b = parse_expr(p, ts_style__next_elem(a), depth + 1, 0)) == NULL)
            return NULL;
        return f;
    }
    if (ts_style__is(n, "And"))
        return parse_logic(p, n, TS_FILTER_AND, depth);
    if (ts_style__is(n, "Or"))
        return parse_logic(p, n, TS_FILTER_OR, depth);
    if (ts_style__is(n, "Not"))
        return parse_logic(p, n, TS_FILTER_NOT, depth);
    if (ts_style__is(n, "PropertyIsLike"))
        return parse_like(p, n, depth);
    if (ts_style__is(n, "PropertyIsBetween"))
        return parse_between(p, n, depth);
    if (ts_style__is(n, "PropertyIsNull")) {
        if (count_kids(n) != 1)
            return ts_style__error(p, n, TS_ESTYLE, "<PropertyIsNull> needs one expression");
        ts_filter *f = new_filter(p, n, TS_FILTER_ISNULL);
        if (f == NULL || (f->a = parse_expr(p, ts_style__first_elem(n), depth + 1, 0)) == NULL)
            return NULL;
        return f;
    }
    for (size_t k = 0; k < sizeof spatial / sizeof spatial[0]; k++)
        if (ts_style__is(n, spatial[k]))
            return ts_style__error(p, n, TS_ESTYLE, "spatial filter <%s> not supported yet",
                                   name_of(n));
    return ts_style__error(p, n, TS_ESTYLE, "<%s> is not a supported filter operator",
                           name_of(n));
}

ts_filter *
ts_style__parse_filter(ts_style__pctx *p, const xmlNode *filter)
{
    const xmlNode *op = ts_style__first_elem(filter);
    if (op == NULL)
        return ts_style__error(p, filter, TS_ESTYLE, "empty <Filter>");
    if (ts_style__next_elem(op) != NULL)
        return ts_style__error(p, ts_style__next_elem(op), TS_ESTYLE,
                               "<Filter> holds more than one operator (wrap them in <And>/<Or>)");
    return parse_op(p, op, 1);
}
