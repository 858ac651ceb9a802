/* main/main.c — `tilesrv serve|render|check|seed|truncate`, options and dispatch. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "main/cli.h"
#include "util/log.h"

static const char usage[] =
    "usage:\n"
    "  tilesrv serve    [-c FILE] [--listen ADDR:PORT] [--threads N]\n"
    "  tilesrv render   [-c FILE] --tileset NAME Z/X/Y[@2x] [-o OUT.png|OUT.mvt] [--format png|pbf]\n"
    "  tilesrv check    [-c FILE]\n"
    "  tilesrv seed     [-c FILE] --tileset NAME [--grid G] --zoom A-B\n"
    "                   [--bbox MINX,MINY,MAXX,MAXY[,CRS]] [--coverage FILE[:LAYER]]\n"
    "                   [--threads N] [--resume] [--shard I/N] [--to FILE.mbtiles|DIR\n"
    "                   [--layout L]] [--progress-file FILE] [--force] [--hidpi]\n"
    "                   [--format png|pbf]\n"
    "  tilesrv truncate [-c FILE] --tileset NAME [--grid G] [--zoom A-B] [--bbox ...]\n"
    "                   [--coverage ...] [--older-than AGE] [--to FILE.mbtiles|DIR\n"
    "                   [--layout L]] [--hidpi]\n"
    "  tilesrv --version | --help\n"
    "\n"
    "Without -c the bundled demo configuration is used:\n"
    "  %s\n"
    "Options: -q (quiet: warnings and errors only), --log-level debug|info|warn|error\n"
    "\n"
    "seed renders the tiles of a bbox (lon/lat, or in the CRS after it, e.g. EPSG:25832: its\n"
    "envelope in the grid's CRS) and/or those meeting the polygons of --coverage (GeoJSON,\n"
    "GeoPackage, any OGR vector file; default layer: the first; both: their intersection;\n"
    "neither: the data extent) into the tileset's configured cache, or into --to (an\n"
    ".mbtiles file or a directory in layout xyz, tc or tms), on the tileset's first grid or\n"
    "--grid (e.g. DE_EPSG_25832_ADV: --zoom counts that grid's levels). --resume continues\n"
    "from the progress file (default ./.tilesrv-seed-<tileset>[-to-<file>].progress);\n"
    "--shard I/N renders the metatiles whose Hilbert index d has (d / 16) %% N == I. Fresh\n"
    "tiles are skipped unless\n"
    "--force. --format pbf writes the tileset's vector tiles (gzip'd MVT) into --to instead.\n"
    "truncate removes cached tiles (by zoom, bbox, coverage); --older-than takes seconds or\n"
    "90m, 12h, 7d, 2w.\n"
    "Exit codes of seed/truncate: 0 done, 1 could not start, 2 usage, 3 some metatiles\n"
    "failed, 4 cache not writable (disk full: progress saved), 5 interrupted (progress\n"
    "saved: run again with --resume).\n";

const char *
ts_cli_demo_config(void)
{
    static char path[1024];
    const char *env = getenv("TILESRV_DEMO_CONFIG");
    if (env && env[0])
        return env;
    /* Next to an installed binary: <prefix>/bin/tilesrv -> <prefix>/share/tilesrv/ */
    char exe[900];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char cand[1024];
            snprintf(cand, sizeof cand, "%s/../share/tilesrv/data/demo/tilesrv.yaml", exe);
            if (realpath(cand, path) != NULL && access(path, R_OK) == 0)
                return path;
        }
    }
    snprintf(path, sizeof path, "%s/data/demo/tilesrv.yaml", TS_SOURCE_DIR);
    return path;
}

ts_config *
ts_cli_load_config(const ts_cli *o)
{
    const char *path = o->config_path ? o->config_path : ts_cli_demo_config();
    ts_err err;
    ts_err_clear(&err);
    ts_config *c = ts_config_load(path, &err);
    if (c == NULL)
        ts_cli_print_err("configuration refused", &err);
    else
        ts_cli_apply_log_level(o, c);
    return c;
}

void
ts_cli_apply_log_level(const ts_cli *o, const ts_config *cfg)
{
    ts_log_level lvl;
    if (!o->quiet && cfg->server.log_level &&
        ts_log_parse_level(cfg->server.log_level, &lvl) == 0 && lvl > ts_log_get_level())
        ts_log_set_level(lvl);
}

void
ts_cli_print_err(const char *what, const ts_err *err)
{
    char buf[1024];
    fprintf(stderr, "tilesrv: %s: %s\n", what, ts_err_format(err, buf, sizeof buf));
}

int
ts_cli_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int
parse_int(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 0 || v > 4096)
        return -1;
    *out = (int)v;
    return 0;
}

int
main(int argc, char **argv)
{
    /* options for every command may come before it too (tilesrv -q render ...): move the
     * command to the front */
    static char *reordered[512];
    if (argc >= (int)(sizeof reordered / sizeof reordered[0])) {
        fprintf(stderr, "tilesrv: too many arguments\n");
        return 2;
    }
    {
        int k = 1, i = 1;
        while (i < argc && (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0 ||
                            ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0 ||
                              strcmp(argv[i], "--log-level") == 0) &&
                             i + 1 < argc)))
            i += strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0 ? 1 : 2;
        reordered[0] = argv[0];
        if (i < argc)
            reordered[k++] = argv[i];
        for (int j = 1; j < argc; j++)
            if (j != i)
                reordered[k++] = argv[j];
        reordered[k] = NULL;
        if (i >= argc)
            argc = 1; /* options without a command */
        argv = reordered;
    }
    if (argc < 2) {
        fprintf(stderr, usage, ts_cli_demo_config());
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("tilesrv %s\n", TS_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        printf(usage, ts_cli_demo_config());
        return 0;
    }
    ts_cli o;
    memset(&o, 0, sizeof o);
    const char *given[64]; /* the command-specific options given, checked below */
    int ngiven = 0;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(usage, ts_cli_demo_config());
            return 0;
        }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && !(a[1] >= '0' && a[1] <= '9') && strcmp(a, "-c") != 0 &&
            strcmp(a, "--config") != 0 &&
            strcmp(a, "-q") != 0 && strcmp(a, "--quiet") != 0 && strcmp(a, "--log-level") != 0 &&
            ngiven < 64)
            given[ngiven++] = a;
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (!v)
                goto missing;
            o.config_path = v;
            i++;
        } else if (strcmp(a, "--listen") == 0) {
            if (!v)
                goto missing;
            o.listen = v;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (!v || parse_int(v, &o.threads) != 0) {
                fprintf(stderr, "tilesrv: --threads needs a number 0..4096\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--tileset") == 0) {
            if (!v)
                goto missing;
            o.tileset = v;
            i++;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (!v)
                goto missing;
            o.out = v;
            i++;
        } else if (strcmp(a, "--log-level") == 0) {
            ts_log_level lvl;
            if (!v || ts_log_parse_level(v, &lvl) != 0) {
                fprintf(stderr, "tilesrv: --log-level is debug, info, warn or error\n");
                return 2;
            }
            ts_log_set_level(lvl);
            i++;
        } else if (strcmp(a, "--zoom") == 0 || strcmp(a, "--bbox") == 0 ||
                   strcmp(a, "--coverage") == 0 || strcmp(a, "--shard") == 0 ||
                   strcmp(a, "--to") == 0 || strcmp(a, "--layout") == 0 ||
                   strcmp(a, "--format") == 0 || strcmp(a, "--grid") == 0 ||
                   strcmp(a, "--older-than") == 0 || strcmp(a, "--progress-file") == 0) {
            if (!v)
                goto missing;
            const char **slot = strcmp(a, "--zoom") == 0       ? &o.zoom
                                : strcmp(a, "--bbox") == 0     ? &o.bbox
                                : strcmp(a, "--coverage") == 0 ? &o.coverage
                                : strcmp(a, "--shard") == 0    ? &o.shard
                                : strcmp(a, "--to") == 0       ? &o.to
                                : strcmp(a, "--layout") == 0   ? &o.layout
                                : strcmp(a, "--format") == 0   ? &o.format
                                : strcmp(a, "--grid") == 0     ? &o.grid
                                : strcmp(a, "--older-than") == 0 ? &o.older_than
                                                                 : &o.progress_file;
            *slot = v;
            i++;
        } else if (strcmp(a, "--resume") == 0) {
            o.resume = 1;
        } else if (strcmp(a, "--force") == 0) {
            o.force = 1;
        } else if (strcmp(a, "--hidpi") == 0) {
            o.hidpi = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = 1;
            ts_log_set_level(TS_LOG_WARN);
        } else if (o.tile == NULL && (a[0] != '-' || (a[1] >= '0' && a[1] <= '9'))) {
            o.tile = a; /* a negative level is the tile's to refuse, not an option */
        } else {
            fprintf(stderr, "tilesrv: unknown option %s\n", a);
            fprintf(stderr, usage, ts_cli_demo_config());
            return 2;
        }
        continue;
    missing:
        fprintf(stderr, "tilesrv: option %s needs a value\n", a);
        return 2;
    }
    /* options a command does not take are refused, not silently ignored */
    static const struct {
        const char *cmd;
        const char *opts; /* space-separated, each followed by a space */
    } takes[] = {
        {"serve", "--listen --threads "},
        {"render", "--threads --tileset -o --output --format --hidpi "},
        {"check", ""},
        {"seed", "--threads --tileset --grid --zoom --bbox --coverage --shard --to --layout "
                 "--format --resume --force --hidpi --progress-file "},
        {"truncate", "--tileset --grid --zoom --bbox --coverage --to --layout --older-than "
                     "--hidpi "},
    };
    for (size_t k = 0; k < sizeof takes / sizeof takes[0]; k++) {
        if (strcmp(cmd, takes[k].cmd) != 0)
            continue;
        char hay[256], key[64];
        snprintf(hay, sizeof hay, " %s", takes[k].opts);
        for (int g = 0; g < ngiven; g++) {
            snprintf(key, sizeof key, " %.60s ", given[g]);
            if (strstr(hay, key) == NULL) {
                fprintf(stderr, "tilesrv %s: option %s does not apply to %s (see tilesrv --help)\n",
                        cmd, given[g], cmd);
                return 2;
            }
        }
    }
    if (strcmp(cmd, "serve") == 0)
        return ts_cmd_serve(&o);
    if (strcmp(cmd, "render") == 0)
        return ts_cmd_render(&o);
    if (strcmp(cmd, "check") == 0)
        return ts_cmd_check(&o);
    if (strcmp(cmd, "seed") == 0)
        return ts_cmd_seed(&o);
    if (strcmp(cmd, "truncate") == 0)
        return ts_cmd_truncate(&o);
    fprintf(stderr, "tilesrv: unknown command '%s'\n", cmd);
    fprintf(stderr, usage, ts_cli_demo_config());
    return 2;
}
