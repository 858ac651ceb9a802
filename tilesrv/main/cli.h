/* main/cli.h — shared pieces of the command-line programs. */
#ifndef TS_MAIN_CLI_H
#define TS_MAIN_CLI_H

#include "config/config.h"
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
} ts_cli;

/* Path of the bundled demo configuration (exists or not). */
const char *ts_cli_demo_config(void);

/* Load the config named by the options (or the demo), printing file:line errors to stderr.
 * NULL on failure. */
ts_config *ts_cli_load_config(const ts_cli *o);

/* Print an error record as "tilesrv: file:line:col: message". */
void ts_cli_print_err(const char *what, const ts_err *err);

/* Number of CPUs online (>= 1). */
int ts_cli_ncpu(void);

int ts_cmd_serve(const ts_cli *o);
int ts_cmd_render(const ts_cli *o);
int ts_cmd_check(const ts_cli *o);

#endif
