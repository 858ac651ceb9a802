/* main/cmd_seed.c — `tilesrv seed` and `tilesrv truncate`: options, signals, summary. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "main/cli.h"
#include "seed/seed.h"
#include "util/log.h"

static volatile sig_atomic_t stop_requested;

/* First SIGINT/SIGTERM: stop after the metatiles in flight and save the progress. A second
 * one: leave at once (the progress file is at most a few seconds old). */
static void
on_signal(int sig)
{
    (void)sig;
    if (stop_requested) {
        static const char msg[] = "\ntilesrv: second signal: exiting now\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(TS_SEED_EXIT_INTERRUPTED);
    }
    stop_requested = 1;
}

/* SIGHUP (a reload meant for `tilesrv serve`, e.g. `kill -HUP $(pidof tilesrv)`, which
 * names seeds too) would end a seed without saving its progress: it is ignored, and said. */
static void
on_hangup(int sig)
{
    (void)sig;
    static const char msg[] = "\ntilesrv seed: SIGHUP ignored (a seed does not reload; SIGINT or "
                              "SIGTERM stop it with its progress saved)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

static void
install_signals(void)
{
    /* a batch: a database away for a moment is waited for, not failed through */
    ts_pg_set_patient(1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hangup;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
}

static int
usage_error(const ts_err *err)
{
    fprintf(stderr, "tilesrv: %s\n", err->msg);
    return TS_SEED_EXIT_USAGE;
}

static void
print_summary(const ts_seed_opts *so, const ts_seed_summary *s)
{
    if (so->format && strcmp(so->format, "png") != 0) {
        printf("seed %s z%d-%d (%s) %s in %.1f s: %llu tiles written, %llu without features, "
               "%llu failed; %.1f MB\n",
               so->tileset, so->minz, so->maxz, so->format,
               s->result == TS_SEED_DONE ? "done" : "stopped", s->seconds,
               (unsigned long long)s->rendered, (unsigned long long)s->skipped,
               (unsigned long long)s->failed, s->bytes / 1048576.0);
        fflush(stdout);
        if (s->result == TS_SEED_STORAGE)
            fprintf(stderr, "tilesrv: seed stopped: the output cannot be written: %s\n",
                    s->error);
        return;
    }
    const char *how = s->result == TS_SEED_DONE           ? "done"
                      : s->result == TS_SEED_FAILED_TILES ? "finished with failures"
                      : s->result == TS_SEED_STORAGE      ? "stopped"
                                                          : "interrupted";
    double rate = s->seconds > 0 ? (double)s->rendered / s->seconds : 0;
    printf("seed %s z%d-%d %s in %.1f s: %llu tiles rendered, %llu fresh tiles skipped, "
           "%llu failed; %llu metatiles, %.1f MB written, %.0f tiles/s\n",
           so->tileset, so->minz, so->maxz, how, s->seconds, (unsigned long long)s->rendered,
           (unsigned long long)s->skipped, (unsigned long long)s->failed,
           (unsigned long long)s->metatiles, s->bytes / 1048576.0, rate);
    if (s->resumed && s->resume_z > so->maxz)
        printf("resumed a seed that had finished: nothing was left to do\n");
    else if (s->resumed)
        printf("resumed at level %d, Hilbert index %llu; with the earlier runs: %llu rendered, "
               "%llu skipped, %llu failed\n",
               s->resume_z, (unsigned long long)s->resume_d,
               (unsigned long long)(s->prior_rendered + s->rendered),
               (unsigned long long)(s->prior_skipped + s->skipped),
               (unsigned long long)(s->prior_failed + s->failed));
    fflush(stdout);
    switch (s->result) {
    case TS_SEED_STORAGE:
        fprintf(stderr, "tilesrv: seed stopped: the cache cannot be written: %s\n", s->error);
        if (s->progress_unsaved)
            fprintf(stderr, "tilesrv: the progress could not be saved (%s): a --resume would "
                            "start over\n", s->progress_error);
        else if (strstr(s->error, "has taken over the cache") != NULL)
            fprintf(stderr, "tilesrv: the data or styles changed during the seed: run it again "
                            "(its tiles of the old version are stale)\n");
        else
            fprintf(stderr, "tilesrv: progress saved in %s; free space, then run again with "
                            "--resume%s\n", s->progress_path, s->resumed_force ? " --force" : "");
        break;
    case TS_SEED_INTERRUPTED:
        if (s->progress_unsaved)
            fprintf(stderr, "tilesrv: seed interrupted; the progress could not be saved (%s): "
                            "a --resume would start over\n", s->progress_error);
        else
            fprintf(stderr, "tilesrv: seed interrupted; progress saved in %s; continue with "
                            "--resume\n", s->progress_path);
        break;
    case TS_SEED_FAILED_TILES:
        fprintf(stderr,
                "tilesrv: %llu tiles failed to render (see the warnings above); run again with "
                "--resume to retry them\n",
                (unsigned long long)s->failed);
        break;
    case TS_SEED_DONE:
        break;
    }
}

int
ts_cmd_seed(const ts_cli *o)
{
    ts_err err;
    ts_err_clear(&err);
    ts_seed_opts so;
    memset(&so, 0, sizeof so);
    so.tileset = o->tileset;
    so.grid = o->grid;
    so.scale = o->hidpi ? 2 : 1;
    so.shard_n = 1;
    so.resume = o->resume;
    so.force = o->force;
    so.progress_path = o->progress_file;
    so.to = o->to;
    so.to_layout = o->layout;
    so.format = o->format;
    so.show_progress = !o->quiet;
    so.stop = &stop_requested;
    if (o->tileset == NULL || o->zoom == NULL) {
        fprintf(stderr, "usage: tilesrv seed [-c FILE] --tileset NAME --zoom A-B "
                        "[--bbox MINX,MINY,MAXX,MAXY[,CRS]] [--coverage FILE[:LAYER]] "
                        "[--threads N] [--resume] [--shard I/N] [--to FILE.mbtiles|DIR]\n");
        return TS_SEED_EXIT_USAGE;
    }
    if (o->layout && o->to == NULL) {
        fprintf(stderr, "tilesrv: --layout goes with --to DIR\n");
        return TS_SEED_EXIT_USAGE;
    }
    if (ts_seed_parse_zooms(o->zoom, &so.minz, &so.maxz, &err) != TS_OK)
        return usage_error(&err);
    if (o->bbox && ts_seed_parse_bbox(o->bbox, &so.area, &err) != TS_OK)
        return usage_error(&err);
    so.area.coverage = o->coverage;
    if (o->shard && ts_seed_parse_shard(o->shard, &so.shard_i, &so.shard_n, &err) != TS_OK)
        return usage_error(&err);

    ts_config *cfg = ts_cli_load_config(o);
    if (cfg != NULL)
        so.progress_dir = cfg->server.seed_progress_dir;
    if (cfg == NULL)
        return TS_SEED_EXIT_SETUP;
    ts_service *svc = ts_service_load_tileset(cfg, o->tileset, &err); /* its data alone */
    if (svc == NULL) {
        ts_cli_print_err("cannot load the service", &err);
        ts_config_unref(cfg);
        return TS_SEED_EXIT_SETUP;
    }
    if (ts_service_tileset(svc, o->tileset) == NULL) {
        fprintf(stderr, "tilesrv: no tileset named '%s' in %s\n", o->tileset, cfg->path);
        ts_service_unref(svc);
        ts_config_unref(cfg);
        return TS_SEED_EXIT_USAGE;
    }
    int threads = o->threads > 0 ? o->threads
                  : cfg->server.render_threads > 0 ? cfg->server.render_threads
                                                   : ts_cli_ncpu();
    so.inflight = 2 * threads;
    so.writers = threads;
    ts_pipeline_opts po = {threads, 4 * threads + 16, 16u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    ts_service_unref(svc);
    if (p == NULL) {
        ts_cli_print_err("cannot start the render pool", &err);
        ts_config_unref(cfg);
        return TS_SEED_EXIT_SETUP;
    }
    install_signals();
    ts_seed_summary sum;
    ts_status st = ts_seed_run(p, &so, &sum, &err);
    ts_pipeline_free(p);
    ts_config_unref(cfg);
    if (st != TS_OK) {
        fprintf(stderr, "tilesrv: seed: %s\n", err.msg);
        return ts_seed_exit_code(st, NULL);
    }
    print_summary(&so, &sum);
    return ts_seed_exit_code(st, &sum);
}

int
ts_cmd_truncate(const ts_cli *o)
{
    ts_err err;
    ts_err_clear(&err);
    ts_truncate_opts to;
    memset(&to, 0, sizeof to);
    to.tileset = o->tileset;
    to.grid = o->grid;
    to.minz = to.maxz = -1;
    to.scale = o->hidpi ? 2 : 1;
    to.to = o->to;
    to.to_layout = o->layout;
    if (o->tileset == NULL) {
        fprintf(stderr, "usage: tilesrv truncate [-c FILE] --tileset NAME [--zoom A-B] "
                        "[--bbox ...] [--coverage FILE[:LAYER]] [--older-than AGE] "
                        "[--to FILE.mbtiles|DIR]\n");
        return TS_SEED_EXIT_USAGE;
    }
    if (o->zoom && ts_seed_parse_zooms(o->zoom, &to.minz, &to.maxz, &err) != TS_OK)
        return usage_error(&err);
    if (o->bbox && ts_seed_parse_bbox(o->bbox, &to.area, &err) != TS_OK)
        return usage_error(&err);
    to.area.coverage = o->coverage;
    if (o->older_than && ts_seed_parse_age(o->older_than, &to.older_than_s, &err) != TS_OK)
        return usage_error(&err);
    ts_config *cfg = ts_cli_load_config(o);
    if (cfg == NULL)
        return TS_SEED_EXIT_SETUP;
    uint64_t removed = 0;
    ts_status st = ts_seed_truncate(cfg, &to, &removed, &err);
    ts_config_unref(cfg);
    if (st != TS_OK) {
        fprintf(stderr, "tilesrv: truncate: %s\n", err.msg);
        return ts_seed_exit_code(st, NULL);
    }
    printf("truncate %s: %llu tiles removed\n", o->tileset, (unsigned long long)removed);
    return TS_SEED_EXIT_OK;
}
