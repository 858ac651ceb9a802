/* main/cli.h — shared pieces of the command-line programs. */
#ifndef TS_MAIN_CLI_H
#define TS_MAIN_CLI_H

#include "config/config.h"
#include "feed/feed.h"
#include "pipeline/pipeline.h"

/* Options common to every command. */
typedef struct ts_cli {
    const char *config_path;    /* -c FILE, or NULL = bundled demo */
    const char *listen;         /* --listen ADDR:PORT */
    int threads;                /* --threads N, 0 = config/default */
    const char *tileset;        /* --tileset NAME */
    const char *out;            /* -o FILE */
    const char *tile;           /* Z/X/Y[@2x] */
    int quiet;                  /* -q */
    /* seed and truncate */
    const char *zoom;           /* --zoom A-B */
    const char *bbox;           /* --bbox MINX,MINY,MAXX,MAXY[,CRS] */
    const char *coverage;       /* --coverage FILE[:LAYER]: polygons (any OGR file) */
    const char *shard;          /* --shard I/N */
    const char *to;             /* --to FILE.mbtiles | DIR */
    const char *layout;         /* --layout xyz|tc|tms (with --to DIR) */
    const char *grid;           /* --grid NAME: one of the tileset's grids (default: first) */
    const char *format;         /* --format png|pbf (seed: raster or vector tiles) */
    const char *older_than;     /* --older-than AGE (truncate) */
    const char *progress_file;  /* --progress-file FILE */
    int resume;                 /* --resume */
    int force;                  /* --force: render fresh tiles too */
    int hidpi;                  /* --hidpi: 512 px tiles (@2x) */
} ts_cli;

/* Path of the bundled demo configuration (exists or not). */
const char *ts_cli_demo_config(void);

/* Load the config named by the options (or the demo), printing file:line errors to stderr.
 * NULL on failure. */
ts_config *ts_cli_load_config(const ts_cli *o);
/* Raise the log level to cfg's server.log_level (never lower: --log-level debug stays),
 * unless --quiet. Called as soon as the file is parsed, so the load's lines obey it. */
void ts_cli_apply_log_level(const ts_cli *o, const ts_config *cfg);

/* Print an error record as "tilesrv: file:line:col: message". */
void ts_cli_print_err(const char *what, const ts_err *err);

/* Number of CPUs online (>= 1). */
int ts_cli_ncpu(void);

/* A configured feed as the feed module takes it (main/feeds.c): cfg with the kind's
 * defaults and what the file gave; its strings are borrowed from the ts_cfg_feed, the
 * mapping arrays owned here. Free with ts_cli_feed_config_free (also after a failure). */
typedef struct ts_cli_feed_cfg {
    struct ts_feed_config cfg;
    struct ts_feed_map *values, *states;
} ts_cli_feed_cfg;
ts_status ts_cli_feed_config(const ts_cfg_feed *c, ts_cli_feed_cfg *out, ts_err *err);
void ts_cli_feed_config_free(ts_cli_feed_cfg *c);
/* Check every feed of cfg by creating it as the feed module would (not started): its
 * settings, and a lorawan feed's device table (a duplicate or unreadable row: the table's
 * file:line). The first fault is reported at the feed's file:line:col. Used by check, and
 * before serving or reloading a configuration, so a broken feed refuses the configuration
 * (a reload keeps the running one and its feeds). */
ts_status ts_cli_feeds_check(const ts_config *cfg, ts_err *err);
/* The key a running feed is kept under on reload when equal: the hash of its settings and
 * the identity (size, modification time, inode) of the files it reads (device table, bays,
 * air CSV), so an edited device table restarts the feed with it. */
uint64_t ts_cli_feed_key(const ts_cfg_feed *c);

int ts_cmd_serve(const ts_cli *o);
int ts_cmd_render(const ts_cli *o);
int ts_cmd_check(const ts_cli *o);
int ts_cmd_seed(const ts_cli *o);
int ts_cmd_truncate(const ts_cli *o);

#endif
