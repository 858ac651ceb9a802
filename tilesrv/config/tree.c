/* config/tree.c — libyaml events -> a small node tree with positions. The event API keeps
 * the parser reentrant (all state in yaml_parser_t on our stack) and lets us refuse
 * aliases, tags, over-deep nesting and duplicate keys as they are met. */
#include "config/config_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct reader {
    yaml_parser_t parser;
    const char *where;
    const unsigned char *buf;
    size_t len;
    ts_err *err;
    ts_cnode *root;
    ts_cnode *stack[TS_CONFIG_MAX_DEPTH]; /* open containers, innermost last */
    int depth;
    int ndocs;
} reader;

void
ts_config__node_free(ts_cnode *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++)
        ts_config__node_free(n->kids[i]); /* depth is bounded by TS_CONFIG_MAX_DEPTH */
    free(n->kids);
    free(n->str);
    free(n);
}

/* Line and column (1-based, columns in UTF-8 characters) of a byte offset. */
static void
offset_pos(const unsigned char *buf, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            l++;
            c = 1;
        } else if ((buf[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static ts_status
syntax_error(reader *r)
{
    yaml_parser_t *p = &r->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return TS_FAIL(r->err, TS_ENOMEM, "YAML parser: out of memory");
    int line, col;
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->error == YAML_READER_ERROR) {
        offset_pos(r->buf, r->len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            return TS_FAIL_AT(r->err, TS_ECONFIG, r->where, line, col,
                              "YAML syntax error: %s (byte 0x%02X)", problem,
                              (unsigned)p->problem_value & 0xFFu);
        return TS_FAIL_AT(r->err, TS_ECONFIG, r->where, line, col, "YAML syntax error: %s",
                          problem);
    }
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    if (p->context)
        return TS_FAIL_AT(r->err, TS_ECONFIG, r->where, line, col,
                          "YAML syntax error: %s %s (started at %d:%d)", problem, p->context,
                          (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return TS_FAIL_AT(r->err, TS_ECONFIG, r->where, line, col, "YAML syntax error: %s", problem);
}

static ts_status
fail_mark(reader *r, const yaml_mark_t *m, const char *what, const char *name)
{
    return TS_FAIL_AT(r->err, TS_ECONFIG, r->where, (int)m->line + 1, (int)m->column + 1,
                      "YAML %s ('%.60s') are not supported by tilesrv configuration; write the "
                      "value out instead",
                      what, name);
}

/* Refuse anchors and explicit tags on a node event. */
static ts_status
check_props(reader *r, const yaml_event_t *ev, const yaml_char_t *anchor, const yaml_char_t *tag)
{
    if (anchor != NULL)
        return fail_mark(r, &ev->start_mark, "anchors", (const char *)anchor);
    if (tag != NULL)
        return fail_mark(r, &ev->start_mark, "tags", (const char *)tag);
    return TS_OK;
}

static ts_status
append(reader *r, ts_cnode *parent, ts_cnode *kid)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        ts_cnode **k = realloc(parent->kids, cap * sizeof *k);
        if (k == NULL)
            return TS_FAIL(r->err, TS_ENOMEM, "YAML tree: out of memory");
        parent->kids = k;
        parent->cap = cap;
    }
    parent->kids[parent->n++] = kid;
    return TS_OK;
}

/* Hang a new node under the innermost open container (or make it the root). On failure the
 * node is freed. */
static ts_status
attach(reader *r, ts_cnode *node)
{
    if (r->depth == 0) {
        r->root = node; /* a document has exactly one root; libyaml guarantees it */
        return TS_OK;
    }
    ts_cnode *parent = r->stack[r->depth - 1];
    if (parent->kind == TS_CNODE_MAP && parent->n % 2 == 0 && node->kind != TS_CNODE_SCALAR) {
        ts_status st = TS_FAIL_AT(r->err, TS_ECONFIG, r->where, node->line, node->col,
                                  "mapping keys must be strings, not %s",
                                  node->kind == TS_CNODE_MAP ? "mappings" : "sequences");
        ts_config__node_free(node);
        return st;
    }
    ts_status st = append(r, parent, node);
    if (st != TS_OK)
        ts_config__node_free(node);
    return st;
}

static ts_cnode *
new_node(reader *r, ts_cnode_kind kind, const yaml_mark_t *m)
{
    ts_cnode *n = calloc(1, sizeof *n);
    if (n == NULL) {
        TS_FAIL(r->err, TS_ENOMEM, "YAML tree: out of memory");
        return NULL;
    }
    n->kind = kind;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

static ts_status
on_scalar(reader *r, const yaml_event_t *ev)
{
    TS_TRY(check_props(r, ev, ev->data.scalar.anchor, ev->data.scalar.tag));
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(v, '\0', len) != NULL)
        return TS_FAIL_AT(r->err, TS_ECONFIG, r->where, (int)ev->start_mark.line + 1,
                          (int)ev->start_mark.column + 1,
                          "a NUL character is not allowed in a value");
    ts_cnode *n = new_node(r, TS_CNODE_SCALAR, &ev->start_mark);
    if (n == NULL)
        return TS_ENOMEM;
    n->str = malloc(len + 1);
    if (n->str == NULL) {
        free(n);
        return TS_FAIL(r->err, TS_ENOMEM, "YAML tree: out of memory");
    }
    memcpy(n->str, v, len);
    n->str[len] = '\0';
    n->len = len;
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    return attach(r, n);
}

static ts_status
on_start(reader *r, const yaml_event_t *ev, ts_cnode_kind kind)
{
    if (kind == TS_CNODE_MAP)
        TS_TRY(check_props(r, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag));
    else
        TS_TRY(check_props(r, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag));
    if (r->depth >= TS_CONFIG_MAX_DEPTH)
        return TS_FAIL_AT(r->err, TS_ECONFIG, r->where, (int)ev->start_mark.line + 1,
                          (int)ev->start_mark.column + 1, "YAML nesting deeper than %d levels",
                          TS_CONFIG_MAX_DEPTH);
    ts_cnode *n = new_node(r, kind, &ev->start_mark);
    if (n == NULL)
        return TS_ENOMEM;
    TS_TRY(attach(r, n));
    r->stack[r->depth++] = n;
    return TS_OK;
}

typedef struct keyref {
    const ts_cnode *key;
    size_t idx;
} keyref;

static int
keyref_cmp(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    int c = strcmp(x->key->str, y->key->str);
    if (c != 0)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Refuse a key that appears twice in a finished mapping: reports the earliest repeat in
 * document order. O(n log n) so a large hostile mapping cannot stall the parser. */
static ts_status
check_dup_keys(reader *r, const ts_cnode *map)
{
    size_t npairs = map->n / 2;
    if (npairs < 2)
        return TS_OK;
    keyref *refs = malloc(npairs * sizeof *refs);
    if (refs == NULL)
        return TS_FAIL(r->err, TS_ENOMEM, "YAML tree: out of memory");
    for (size_t i = 0; i < npairs; i++) {
        refs[i].key = map->kids[2 * i];
        refs[i].idx = i;
    }
    qsort(refs, npairs, sizeof *refs, keyref_cmp);
    const keyref *dup = NULL, *first = NULL;
    for (size_t i = 1; i < npairs; i++) {
        if (strcmp(refs[i].key->str, refs[i - 1].key->str) != 0)
            continue;
        size_t g = i - 1; /* refs[i] repeats; find its group's first occurrence */
        while (g > 0 && strcmp(refs[g - 1].key->str, refs[i].key->str) == 0)
            g--;
        if (dup == NULL || refs[i].idx < dup->idx) {
            dup = &refs[i];
            first = &refs[g];
        }
    }
    ts_status st = TS_OK;
    if (dup != NULL)
        st = TS_FAIL_AT(r->err, TS_ECONFIG, r->where, dup->key->line, dup->key->col,
                        "duplicate key '%.80s' (first defined at %d:%d)", dup->key->str,
                        first->key->line, first->key->col);
    free(refs);
    return st;
}

static ts_status
on_event(reader *r, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (r->ndocs++ > 0)
            return TS_FAIL_AT(r->err, TS_ECONFIG, r->where, (int)ev->start_mark.line + 1,
                              (int)ev->start_mark.column + 1,
                              "only one YAML document is allowed in a configuration");
        return TS_OK;
    case YAML_ALIAS_EVENT:
        return fail_mark(r, &ev->start_mark, "aliases", (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        return on_scalar(r, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(r, ev, TS_CNODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(r, ev, TS_CNODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
        r->depth--;
        return TS_OK;
    case YAML_MAPPING_END_EVENT: {
        const ts_cnode *map = r->stack[--r->depth];
        return check_dup_keys(r, map);
    }
    default: /* stream start/end, document end, no-op */
        return TS_OK;
    }
}

ts_status
ts_config__read_yaml(const char *yaml, size_t len, const char *where, ts_cnode **root, ts_err *err)
{
    *root = NULL;
    reader r;
    memset(&r, 0, sizeof r);
    r.where = where;
    r.buf = (const unsigned char *)(yaml ? yaml : "");
    r.len = yaml ? len : 0;
    r.err = err;
    if (!yaml_parser_initialize(&r.parser))
        return TS_FAIL(err, TS_ENOMEM, "YAML parser: out of memory");
    yaml_parser_set_input_string(&r.parser, r.buf, r.len);

    ts_status st = TS_OK;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&r.parser, &ev)) {
            st = syntax_error(&r);
            break;
        }
        st = on_event(&r, &ev);
        int done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (st != TS_OK || done)
            break;
    }
    yaml_parser_delete(&r.parser);

    if (st == TS_OK && r.root == NULL)
        st = TS_FAIL_AT(err, TS_ECONFIG, where, 1, 1,
                        "the configuration is empty (expected a mapping with server, sources, "
                        "layers, tilesets, grids)");
    if (st != TS_OK) {
        ts_config__node_free(r.root);
        return st;
    }
    *root = r.root;
    return TS_OK;
}
