/* config/config_int.h — private to the config module: the YAML node tree (tree.c), the
 * value converters (value.c) and the section builder (build.c). Nothing here is seen
 * outside tilesrv/config/. */
#ifndef TS_CONFIG_CONFIG_INT_H
#define TS_CONFIG_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define TS_CONFIG_MAX_BYTES ((size_t)4 << 20) /* largest document accepted */
#define TS_CONFIG_MAX_DEPTH 32                /* deepest container nesting accepted */
#define TS_CONFIG_MAX_NAME 63                 /* longest section entry name */
#define TS_CONFIG_MAX_LIST 256                /* most names in a tileset's layers/grids */

typedef enum { TS_CNODE_SCALAR, TS_CNODE_SEQ, TS_CNODE_MAP } ts_cnode_kind;

/* One YAML node with its 1-based start position. Built by ts_config__read_yaml, freed with
 * ts_config__node_free; the tree only lives while a config is being built. */
typedef struct ts_cnode ts_cnode;
struct ts_cnode {
    ts_cnode_kind kind;
    int line, col;   /* 1-based, columns in characters (libyaml's marks + 1) */
    int quoted;      /* scalar: written quoted or as a block scalar ('|' '>') */
    char *str;       /* scalar: the value, NUL-terminated, never contains a NUL */
    size_t len;      /* scalar: strlen(str) */
    ts_cnode **kids; /* seq: the items; map: key, value, key, value ... */
    size_t n, cap;   /* used and allocated slots of kids (a map has n / 2 pairs) */
};

/* Parse one YAML document of len bytes into a node tree. Refuses syntax errors, a second
 * document, an empty stream, anchors, aliases, explicit tags, non-scalar mapping keys,
 * duplicate keys, NUL characters in scalars and nesting deeper than TS_CONFIG_MAX_DEPTH,
 * all as TS_ECONFIG with where:line:col. *root is the caller's to free (NULL on error). */
ts_status ts_config__read_yaml(const char *yaml, size_t len, const char *where, ts_cnode **root,
                               ts_err *err);
/* Free a tree; NULL is accepted. */
void ts_config__node_free(ts_cnode *n);

/* What the converters need to report and resolve. */
typedef struct ts_cfg_ctx {
    const char *where; /* file name used in messages */
    const char *dir;   /* directory relative paths are resolved against */
    ts_err *err;
} ts_cfg_ctx;

/* Fail with TS_ECONFIG at a node's position (node may be NULL: no position). */
#define TS_CFG_FAIL(cx, node, ...)                                                                 \
    TS_FAIL_AT((cx)->err, TS_ECONFIG, (cx)->where, (node) ? (node)->line : 0,                      \
               (node) ? (node)->col : 0, __VA_ARGS__)

/* 1 if n is a plain null scalar: empty, "~", "null", "Null" or "NULL". */
int ts_config__is_null(const ts_cnode *n);
/* Short description of a node for "got ..." in messages, written into buf. */
const char *ts_config__describe(const ts_cnode *n, char *buf, size_t size);

/* A string value: a non-null scalar, with ${NAME} references expanded. *out is malloc'd.
 * what names the value in messages ("'title' in layer 'roads'"). */
ts_status ts_config__get_string(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what,
                                char **out);
/* Expand ${NAME} in s (a value of node n): "$${" is a literal "${". *out is malloc'd. */
ts_status ts_config__expand_env(const ts_cfg_ctx *cx, const ts_cnode *n, const char *s, char **out);
/* A plain (unquoted) base-10 integer in [min, max]. */
ts_status ts_config__get_int(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, long min,
                             long max, long *out);
/* A plain finite number (strtod syntax). */
ts_status ts_config__get_double(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what,
                                double *out);
/* A plain boolean: true/false/yes/no in any letter case. */
ts_status ts_config__get_bool(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, int *out);
/* "#rrggbb" (alpha 255) or "#rrggbbaa" into straight RGBA. */
ts_status ts_config__parse_colour(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what,
                                  const char *s, uint8_t rgba[4]);
/* "host:port", "[v6]:port" or ":port" (host "0.0.0.0"). *host is malloc'd. */
ts_status ts_config__parse_listen(const ts_cfg_ctx *cx, const ts_cnode *n, const char *s,
                                  char **host, int *port);
/* Resolve p against cx->dir and check it exists (a regular file when want_file, else a file
 * or a directory). With allow_conn, connection strings ("PG:...", any prefix of 2+ letters
 * and ':') and GDAL virtual paths ("/vsi...") are returned unchanged and unchecked. */
ts_status ts_config__resolve_path(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what,
                                  const char *p, int allow_conn, int want_file, char **out);
/* 1 if s is a valid entry name: 1..TS_CONFIG_MAX_NAME characters of [A-Za-z0-9_.-]. */
int ts_config__name_ok(const char *s);

/* Optimal-string-alignment edit distance of a and b, or limit + 1 when it exceeds limit. */
int ts_config__edit_distance(const char *a, const char *b, int limit);

/* Closest-candidate search for "did you mean" hints (edit distance <= 2). */
typedef struct ts_cfg_suggest {
    const char *word; /* what the user wrote */
    const char *best; /* closest candidate so far, or NULL */
    int dist;
} ts_cfg_suggest;
void ts_config__suggest_init(ts_cfg_suggest *s, const char *word);
void ts_config__suggest_add(ts_cfg_suggest *s, const char *candidate);

/* The `feeds` section (feeds.c): one ts_cfg_feed per entry. */
ts_status ts_config__build_feeds(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *sec);
/* Free what a ts_cfg_feed owns (not the struct itself). */
void ts_config__feed_free(ts_cfg_feed *f);

/* Fill c (already holding path and dir, everything else zero) from the root node. On error
 * c holds whatever was built so far; the caller frees it. */
ts_status ts_config__build(ts_config *c, const ts_cnode *root, ts_err *err);

#endif
