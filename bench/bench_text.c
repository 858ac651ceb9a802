/* bench/bench_text.c — speed of labels: shaping (run cache missed and hit), straight labels
 * drawn without and with a halo, layout along a curved line and curved labels drawn with
 * a halo. Labels are 400 synthetic German street names (umlauts, ß) at 11-14 px in DejaVu
 * Sans on a 1024 x 1024 canvas. Each case runs several times; the best run's thread CPU
 * time per label is reported (the machine is shared).
 *
 * usage: bench_text [commit|-] [fontdir]   "-" reads the commit with git. */
#include "text/text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5
#define NLABELS 400

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
print_env(const char *commit_arg)
{
    char commit[64] = "unknown";
    if (commit_arg != NULL && strcmp(commit_arg, "-") != 0) {
        snprintf(commit, sizeof commit, "%s", commit_arg);
    } else {
#ifdef TS_SOURCE_DIR
        FILE *f = popen("git -C " TS_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null", "r");
        if (f != NULL) {
            if (fgets(commit, sizeof commit, f) == NULL)
                snprintf(commit, sizeof commit, "unknown");
            commit[strcspn(commit, "\n")] = '\0';
            pclose(f);
        }
#endif
    }
    char cpu[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                if (v != NULL) {
                    snprintf(cpu, sizeof cpu, "%s", v + 2);
                    cpu[strcspn(cpu, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
#ifdef __OPTIMIZE__
    const char *opt = "optimised";
#else
    const char *opt = "NOT optimised";
#endif
    printf("bench_text  commit %s  compiler %s (%s)  cpu %s  threads 1\n", commit, __VERSION__, opt,
           cpu);
}

static char labels[NLABELS][64];

static void
make_labels(void)
{
    static const char *const a[] = {
        "König",  "Schloß",      "Grün",   "Düssel",  "Kaisers",       "Rhein", "Berg",    "Ahorn",
        "Mühlen", "Graf-Adolf-", "Lorett", "Bilker ", "Oberkasseler ", "Süd",   "Fürsten", "Jäger"};
    static const char *const b[] = {"straße", "allee", "weg",  "platz", "ufer",
                                    "gasse",  "ring",  "damm", "höfe",  "park"};
    uint32_t s = 4711;
    for (int i = 0; i < NLABELS; i++) {
        s = s * 1664525u + 1013904223u;
        const char *x = a[(s >> 8) % 16];
        s = s * 1664525u + 1013904223u;
        const char *y = b[(s >> 8) % 10];
        if (i % 3 == 0)
            snprintf(labels[i], sizeof labels[i], "%s%s %d", x, y, i);
        else
            snprintf(labels[i], sizeof labels[i], "%s%s", x, y);
    }
}

typedef struct job {
    ts_text_ctx *t;
    ts_raster *r;
    ts_canvas *c;
    int face;
    const ts_text_run *runs[NLABELS];
    ts_text_glyph_pos *pos[NLABELS];
    double line[2 * 64];
    int placed;
} job;

static double
size_of(int i)
{
    return 11 + (i % 4);
}

static int
shape_all(job *j, int release)
{
    for (int i = 0; i < NLABELS; i++) {
        ts_font_spec spec = {0};
        spec.face = j->face;
        spec.size_px = size_of(i);
        ts_err e;
        const ts_text_run *run;
        if (ts_text_shape(j->t, labels[i], strlen(labels[i]), &spec, &run, &e) != TS_OK) {
            fprintf(stderr, "shape: %s\n", e.msg);
            return -1;
        }
        if (release)
            ts_text_run_release(run);
        else
            j->runs[i] = run;
    }
    return 0;
}

static void
draw_all(job *j, double halo, int curved)
{
    ts_text_paint p = {{30, 30, 30, 255}, 1, halo, {255, 255, 255, 255}, 0.8};
    j->placed = 0;
    for (int i = 0; i < NLABELS; i++) {
        const ts_text_run *run = j->runs[i];
        double x = 20 + (i % 4) * 250, y = 30 + (i / 4) * 10;
        if (curved) {
            for (int k = 0; k < 64; k++) {
                j->line[2 * k] = x - 10 + k * 4;
                j->line[2 * k + 1] = y + 8 * sin(k * 0.1 + i);
            }
            if (ts_text_layout_on_line(run, j->line, 64, 128, 0, 30, halo, j->pos[i], NULL) == 0)
                continue;
        } else {
            ts_text_layout_straight(run, x, y, 0, j->pos[i]);
        }
        j->placed++;
        if (ts_text_draw(j->t, j->r, j->c, run, j->pos[i], &p, NULL) != TS_OK)
            fprintf(stderr, "draw failed\n");
    }
}

static void
layout_all(job *j)
{
    j->placed = 0;
    for (int i = 0; i < NLABELS; i++) {
        double x = 20 + (i % 4) * 250, y = 30 + (i / 4) * 10;
        for (int k = 0; k < 64; k++) {
            j->line[2 * k] = x - 10 + k * 4;
            j->line[2 * k + 1] = y + 8 * sin(k * 0.1 + i);
        }
        ts_rbox boxes[64];
        if (j->runs[i]->nglyphs <= 64 &&
            ts_text_layout_on_line(j->runs[i], j->line, 64, 128, 0, 30, 1, j->pos[i], boxes))
            j->placed++;
    }
}

static void
report(const char *name, double best)
{
    printf("%-34s %8.2f us/label  %9.0f labels/s\n", name, best * 1e6 / NLABELS, NLABELS / best);
}

int
main(int argc, char **argv)
{
    print_env(argc > 1 ? argv[1] : NULL);
    const char *dir = argc > 2 ? argv[2] : "/usr/share/fonts/truetype/dejavu";
    make_labels();
    ts_err e;
    double t0 = now_s();
    ts_font_catalog *cat = ts_font_catalog_new(&dir, 1, &e);
    if (cat == NULL) {
        fprintf(stderr, "catalogue: %s\n", e.msg);
        return 1;
    }
    printf("catalogue: %d faces in %.1f ms\n", ts_font_catalog_count(cat), (now_s() - t0) * 1e3);
    static job j;
    j.t = ts_text_ctx_new(cat, &e);
    j.r = ts_raster_new();
    j.c = ts_canvas_new(1024, 1024, &e);
    j.face = ts_font_catalog_find(cat, "DejaVu Sans", 0, 0, NULL);
    if (j.t == NULL || j.r == NULL || j.c == NULL)
        return 1;
    double best;

    /* shaping, every call a miss (run cache too small to keep anything); glyph cache warm
     * after the first run */
    ts_text_ctx_set_cache_limits(j.t, 0, 1);
    best = INFINITY;
    for (int k = 0; k < RUNS; k++) {
        double s = now_s();
        if (shape_all(&j, 1) != 0)
            return 1;
        best = fmin(best, now_s() - s);
    }
    report("shape (run cache miss)", best);
    ts_text_ctx_set_cache_limits(j.t, 0, 4u << 20);
    if (shape_all(&j, 0) != 0)
        return 1;
    best = INFINITY;
    for (int k = 0; k < RUNS; k++) {
        double s = now_s();
        if (shape_all(&j, 1) != 0)
            return 1;
        best = fmin(best, now_s() - s);
    }
    report("shape (run cache hit)", best);

    for (int i = 0; i < NLABELS; i++) {
        j.pos[i] = malloc(j.runs[i]->nglyphs * sizeof *j.pos[i] + 1);
        if (j.pos[i] == NULL)
            return 1;
    }
    size_t glyphs = 0;
    for (int i = 0; i < NLABELS; i++)
        glyphs += j.runs[i]->nglyphs;
    printf("labels: %d, %.1f glyphs each\n", NLABELS, (double)glyphs / NLABELS);

    struct {
        const char *name;
        double halo;
        int curved;
    } cases[] = {
        {"draw straight, no halo", 0, 0},
        {"draw straight, halo 1.5 px", 1.5, 0},
        {"draw curved, halo 1.5 px", 1.5, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        best = INFINITY;
        for (int k = 0; k < RUNS; k++) {
            ts_canvas_clear(j.c, (ts_rgba){240, 236, 228, 255});
            double s = now_s();
            draw_all(&j, cases[c].halo, cases[c].curved);
            best = fmin(best, now_s() - s);
        }
        report(cases[c].name, best);
        if (cases[c].curved)
            printf("  (%d of %d placed)\n", j.placed, NLABELS);
    }
    best = INFINITY;
    for (int k = 0; k < RUNS; k++) {
        double s = now_s();
        layout_all(&j);
        best = fmin(best, now_s() - s);
    }
    report("layout on a 64-point line + boxes", best);

    ts_text_stats st;
    ts_text_ctx_stats(j.t, &st);
    printf("glyph cache: %zu entries, %zu KiB; run cache: %zu entries, %zu KiB\n", st.glyph_entries,
           st.glyph_bytes >> 10, st.run_entries, st.run_bytes >> 10);
    for (int i = 0; i < NLABELS; i++) {
        free(j.pos[i]);
        ts_text_run_release(j.runs[i]);
    }
    ts_canvas_free(j.c);
    ts_raster_free(j.r);
    ts_text_ctx_free(j.t);
    ts_font_catalog_free(cat);
    return 0;
}
