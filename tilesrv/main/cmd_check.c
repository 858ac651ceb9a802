/* main/cmd_check.c — `tilesrv check`: load config, styles and sources; report and exit. */
#include <stdio.h>

#include "main/cli.h"
#include "util/log.h"

int
ts_cmd_check(const ts_cli *o)
{
    ts_config *cfg = ts_cli_load_config(o);
    if (cfg == NULL)
        return 1;
    ts_err err;
    ts_err_clear(&err);
    if (ts_cli_feeds_check(cfg, &err) != TS_OK) {
        ts_cli_print_err("check failed", &err);
        ts_config_unref(cfg);
        return 1;
    }
    ts_service *svc = ts_service_load(cfg, &err);
    if (svc == NULL) {
        ts_cli_print_err("check failed", &err);
        ts_config_unref(cfg);
        return 1;
    }
    unsigned long nw = ts_log_warnings();
    printf("%s: ok: %d sources, %d feeds, %d layers, %d tilesets", cfg->path, cfg->nsources,
           cfg->nfeeds, cfg->nlayers, cfg->ntilesets);
    if (nw > 0) /* it loads and serves; what the warnings name may still draw nothing */
        printf("; %lu warning%s above", nw, nw == 1 ? "" : "s");
    printf("\n");
    ts_service_unref(svc);
    ts_config_unref(cfg);
    return 0;
}
