/* tests/fuzz/fuzz_cache.c — libFuzzer target for cache reads: what a disk cache directory or
 * an MBTiles file hands back is outside input (another tool, a damaged disk, an operator
 * copying files around). The input is written to storage and read back through the cache
 * API (ts_cache_get / ts_cache_stat / truncate / put on top):
 *
 *   byte 0: mode & 3 — 0 disk cache (xyz layout), 1 disk cache (tc layout), 2 an MBTiles
 *           file built from the fields below, 3 the rest of the input is the MBTiles file;
 *           mode & 4 — a data version is set (else 0); mode & 8 — tiles expire after 60 s
 *   bytes 1..3: z (mod 6), x, y of the tile (taken modulo the level's size)
 *   then fields, each a big-endian u16 length and that many bytes (missing = empty):
 *     disk:    tile bytes, tilesrv-version file text, tile file mtime (8 bytes, seconds),
 *              version file mtime (8 bytes)
 *     MBTiles: tile blob, metadata minzoom, maxzoom, bounds, tilesrv_version, the map row's
 *              mtime (8 bytes, ns), the map row's version text
 *
 * Every read must give the stored bytes when they are a whole PNG, or a miss (the damaged
 * entry deleted) when they are not; never a crash, a leak or undefined behaviour. Scratch
 * files live under /dev/shm (or $TMPDIR) in a directory of this process, removed at exit. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[256];

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

typedef struct field {
    const uint8_t *p;
    size_t n;
} field;

static field
take(rd *r)
{
    field f = {NULL, 0};
    if (r->n < 2) {
        r->n = 0;
        return f;
    }
    size_t len = (size_t)r->p[0] << 8 | r->p[1];
    r->p += 2;
    r->n -= 2;
    if (len > r->n)
        len = r->n;
    f.p = r->p;
    f.n = len;
    r->p += len;
    r->n -= len;
    return f;
}

static int64_t
field_i64(field f)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < f.n; i++)
        v = v << 8 | f.p[i];
    return (int64_t)v;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
rm_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
cleanup(void)
{
    if (scratch[0])
        rm_tree(scratch);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/ts_fuzz_cache.%ld", base ? base : "/tmp", (long)getpid());
    rm_tree(scratch);
    if (mkdir(scratch, 0700) != 0) {
        perror(scratch);
        abort();
    }
    atexit(cleanup);
    ts_log_set_level(TS_LOG_ERROR);
    return 0;
}

static ts_cache_desc
desc_for(int mode)
{
    ts_cache_desc d = {
        .name = "fuzz",
        .format = "png",
        .grid = ts_grid_webmercator_quad(),
        .scale = 1,
        .minzoom = 0,
        .maxzoom = 5,
        .bounds = {6.7, 51.1, 6.9, 51.3},
        .version = (mode & 4) ? 0x1234 : 0,
        .expire_s = (mode & 8) ? 60 : 0,
    };
    return d;
}

/* Read (z, x, y) back: a whole PNG equal to want, or a miss when want is not a whole PNG
 * (want NULL: whatever is there, but a hit must be a whole PNG). */
static void
check_read(ts_cache *c, int z, uint32_t x, uint32_t y, const uint8_t *want, size_t wn)
{
    ts_err err;
    ts_err_clear(&err);
    ts_tile *t = NULL;
    ts_cache_info info;
    ts_status st = ts_cache_get(c, z, x, y, &t, &info, &err);
    if (st == TS_OK) {
        if (t == NULL || !ts_cache_png_ok(t->data, t->len))
            abort();
        if (want != NULL && (t->len != wn || memcmp(t->data, want, wn) != 0))
            abort();
        ts_tile_unref(t);
    } else {
        if (t != NULL || err.msg[0] == '\0')
            abort();
        if (st == TS_ENOENT && want != NULL && ts_cache_png_ok(want, wn))
            abort(); /* a whole PNG that was stored must come back */
    }
    ts_err_clear(&err);
    ts_cache_stat(c, z, x, y, &info, &err);
}

static void
run_disk(int mode, int z, uint32_t x, uint32_t y, rd *r)
{
    field tile = take(r), vtext = take(r), tmt = take(r), vmt = take(r);
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/disk", scratch);
    ts_cache_desc d = desc_for(mode);
    ts_err err;
    ts_err_clear(&err);
    /* the version file as another process (or a damaged disk) left it */
    snprintf(path, sizeof path, "%s/%s", dir, d.grid->name);
    mkdir(dir, 0700);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/tilesrv-version", dir, d.grid->name);
    if (vtext.n > 0) {
        FILE *f = fopen(path, "wb");
        if (f != NULL) {
            fwrite(vtext.p, 1, vtext.n, f);
            fclose(f);
            if (vmt.n > 0) {
                struct timespec ts[2] = {{0, UTIME_OMIT}, {field_i64(vmt), 0}};
                utimensat(AT_FDCWD, path, ts, 0);
            }
        }
    }
    ts_cache *c = ts_cache_disk_open(dir, (mode & 1) ? TS_CACHE_LAYOUT_TC : TS_CACHE_LAYOUT_XYZ,
                                     0, &d, &err);
    if (c == NULL) {
        if (err.msg[0] == '\0')
            abort();
        rm_tree(dir);
        return;
    }
    /* the tile file: written through the cache, then given the stored mtime */
    ts_tile *in = ts_tile_new(tile.p ? tile.p : (const uint8_t *)"", tile.n, 0);
    if (in != NULL) {
        ts_cache_item it = {x, y, in};
        ts_err_clear(&err);
        if (ts_cache_put(c, z, &it, 1, &err) == TS_OK) {
            if (tmt.n > 0) {
                /* find the file the way a reader would: the only regular file in the tree */
                char leaf[600];
                if ((mode & 1) == 0)
                    snprintf(leaf, sizeof leaf, "%s/%s/%d/%u/%u.png", dir, d.grid->name, z, x, y);
                else
                    leaf[0] = '\0';
                if (leaf[0]) {
                    struct timespec ts[2] = {{0, UTIME_OMIT}, {field_i64(tmt), 0}};
                    utimensat(AT_FDCWD, leaf, ts, 0);
                }
            }
            check_read(c, z, x, y, tile.p ? tile.p : (const uint8_t *)"", tile.n);
            check_read(c, z, x, y, tile.p ? tile.p : (const uint8_t *)"", tile.n);
        }
        ts_tile_unref(in);
    }
    uint64_t removed = 0;
    ts_err_clear(&err);
    ts_cache_truncate(c, z, 0, 0, (1u << z) - 1, (1u << z) - 1, 0, &removed, &err);
    ts_cache_io_stats s;
    ts_cache_io_stats_get(c, &s);
    ts_cache_unref(c);
    rm_tree(dir);
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void
meta_put(sqlite3 *db, const char *name, field f)
{
    if (f.p == NULL)
        return;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO metadata (name, value) VALUES (?1, ?2)",
                           -1, &s, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, (const char *)f.p, (int)f.n, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

/* An MBTiles file in tilesrv's schema (created by the cache itself), then rows written
 * behind its back as another tool would. 0 on success. */
static int
build_mbtiles(const char *path, int z, uint32_t x, uint32_t y, rd *r, field *blob)
{
    ts_cache_desc d0 = desc_for(0);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_mbtiles_open(path, &d0, &err);
    if (c == NULL)
        abort(); /* a fresh file in our own scratch directory must open */
    ts_cache_unref(c);
    *blob = take(r);
    field minz = take(r), maxz = take(r), bounds = take(r), ver = take(r), mt = take(r),
          rowver = take(r);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    exec_sql(db, "BEGIN");
    meta_put(db, "minzoom", minz);
    meta_put(db, "maxzoom", maxz);
    meta_put(db, "bounds", bounds);
    meta_put(db, "tilesrv_version", ver);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "INSERT INTO images (tile_id, tile_data) VALUES ('t', ?1)", -1, &s,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_blob(s, 1, blob->p ? (const void *)blob->p : (const void *)"", (int)blob->n,
                          SQLITE_STATIC);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO map (zoom_level, tile_column, tile_row, tile_id, mtime,"
                           " version) VALUES (?1, ?2, ?3, 't', ?4, ?5)",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int(s, 1, z);
        sqlite3_bind_int64(s, 2, x);
        sqlite3_bind_int64(s, 3, (int64_t)((1u << z) - 1 - y));
        sqlite3_bind_int64(s, 4, field_i64(mt));
        if (rowver.p != NULL)
            sqlite3_bind_text(s, 5, (const char *)rowver.p, (int)rowver.n, SQLITE_STATIC);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    exec_sql(db, "COMMIT");
    sqlite3_close(db);
    return 0;
}

static void
run_mbtiles(int mode, int z, uint32_t x, uint32_t y, rd *r)
{
    char path[512], aux[600];
    snprintf(path, sizeof path, "%s/fuzz.mbtiles", scratch);
    field blob = {NULL, 0};
    if ((mode & 3) == 2) {
        if (build_mbtiles(path, z, x, y, r, &blob) != 0)
            goto out;
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            abort();
        if (r->n > 0 && write(fd, r->p, r->n) != (ssize_t)r->n)
            abort();
        close(fd);
    }
    ts_cache_desc d = desc_for(mode);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_mbtiles_open(path, &d, &err);
    if (c == NULL) {
        if (err.msg[0] == '\0')
            abort();
        goto out;
    }
    check_read(c, z, x, y, (mode & 3) == 2 ? (blob.p ? blob.p : (const uint8_t *)"") : NULL, blob.n);
    check_read(c, 0, 0, 0, NULL, 0);
    /* a write on top of whatever the file held, read back */
    static const uint8_t not_png[] = "not a png";
    ts_tile *in = ts_tile_new(not_png, sizeof not_png, 0);
    if (in != NULL) {
        ts_cache_item it = {0, 0, in};
        ts_err_clear(&err);
        if (ts_cache_put(c, 1, &it, 1, &err) == TS_OK)
            check_read(c, 1, 0, 0, not_png, sizeof not_png);
        ts_tile_unref(in);
    }
    uint64_t removed = 0;
    ts_err_clear(&err);
    ts_cache_truncate(c, z, 0, 0, (1u << z) - 1, (1u << z) - 1, 0, &removed, &err);
    ts_err_clear(&err);
    ts_cache_sync(c, &err);
    ts_cache_unref(c);
out:
    unlink(path);
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-journal", path);
    unlink(aux);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > (1u << 20))
        return 0;
    int mode = data[0];
    int z = data[1] % 6;
    uint32_t x = data[2] % (1u << z), y = data[3] % (1u << z);
    rd r = {data + 4, size - 4};
    if ((mode & 3) < 2)
        run_disk(mode, z, x, y, &r);
    else
        run_mbtiles(mode, z, x, y, &r);
    return 0;
}
