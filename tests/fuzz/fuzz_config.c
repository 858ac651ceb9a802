/* tests/fuzz/fuzz_config.c — libFuzzer target for the YAML configuration parser: the input
 * bytes go to ts_config_parse. Relative paths resolve against a scratch directory holding
 * the files the seed corpus (the *.yaml files in tests/data/config) refers to, so valid seeds
 * parse all the way through the tileset checks.
 *
 * libFuzzer build (clang):
 *   CC=clang cmake /work/main -DTS_FUZZ=ON -DTS_SANITIZE=address,undefined
 *   make fuzz_config
 *   ./tests/fuzz_config -max_len=8192 corpus/ /work/main/tests/data/config
 * Without TS_FUZZ the same file builds, with standalone_main.c, as fuzz_config_replay, which
 * runs the target once on every file named on its command line (a ctest case). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base_dir[64];

static const char *const fixture_dirs[] = {"styles", "data", "data/shapes"};
static const char *const fixture_files[] = {"styles/roads.sld", "styles/parcels.sld",
                                            "data/city.gpkg"};

static void
remove_fixture(void)
{
    char p[128];
    for (size_t i = 0; i < sizeof fixture_files / sizeof fixture_files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", base_dir, fixture_files[i]);
        unlink(p);
    }
    for (size_t i = sizeof fixture_dirs / sizeof fixture_dirs[0]; i-- > 0;) {
        snprintf(p, sizeof p, "%s/%s", base_dir, fixture_dirs[i]);
        rmdir(p);
    }
    rmdir(base_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(base_dir, sizeof base_dir, "/tmp/fuzz_config.XXXXXX");
    if (mkdtemp(base_dir) == NULL) {
        snprintf(base_dir, sizeof base_dir, "/nonexistent");
        return 0;
    }
    char p[128];
    for (size_t i = 0; i < sizeof fixture_dirs / sizeof fixture_dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", base_dir, fixture_dirs[i]);
        mkdir(p, 0700);
    }
    for (size_t i = 0; i < sizeof fixture_files / sizeof fixture_files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", base_dir, fixture_files[i]);
        FILE *f = fopen(p, "w");
        if (f)
            fclose(f);
    }
    setenv("TS_TEST_DB_PASSWORD", "fuzz", 1);
    atexit(remove_fixture);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_err err;
    ts_err_clear(&err);
    ts_config *c = ts_config_parse((const char *)data, size, "fuzz.yaml", base_dir, &err);
    if (c != NULL) {
        /* touch what a server reads, so use-after-free or bad counts show up */
        for (int i = 0; i < c->ntilesets; i++) {
            const ts_cfg_tileset *t = &c->tilesets[i];
            if (ts_config_tileset(c, t->name) != t)
                abort();
            for (int j = 0; j < t->nlayers; j++)
                if (ts_config_layer(c, t->layers[j]) == NULL)
                    abort();
            /* the zoom range is the first grid's; other grids serve the part of it they
             * have (docs/config.md, check_zooms in config/build.c) */
            for (int j = 0; j < t->ngrids; j++) {
                const ts_grid *g = ts_config_grid(c, t->grids[j]);
                if (g == NULL || t->minzoom > t->maxzoom || (j == 0 && t->maxzoom >= g->nlevels))
                    abort();
            }
        }
        for (int i = 0; i < c->nlayers; i++)
            if (ts_config_source(c, c->layers[i].source) == NULL)
                abort();
        ts_config_unref(ts_config_ref(c));
        ts_config_unref(c);
    } else if (err.code == TS_OK || err.msg[0] == '\0') {
        abort(); /* every refusal must say why */
    }
    return 0;
}
