/* cache/mbtiles.c — MBTiles 1.3 in SQLite: WAL journal, one writer connection behind a
 * mutex, readers from a pool of connections (one per concurrent reader, reused).
 *
 * Schema: identical tiles are stored once. `images(tile_id, tile_data)` holds each distinct
 * content under its 128-bit content id; `map(zoom_level, tile_column, tile_row, tile_id,
 * mtime, version)` places it; the view `tiles` joins them into the standard MBTiles table,
 * which is what GDAL, QGIS and viewers read. Rows are TMS (counted from the bottom).
 * `mtime` (wall-clock ns) and `version` (hex data version) are tilesrv's own columns: a tile
 * whose version differs from the tileset's is stale. A write is one transaction per batch
 * (a metatile), with synchronous=NORMAL: a killed process loses nothing committed, a power
 * failure at most the last transactions, and the file stays consistent either way.
 *
 * Checkpoints (copying the WAL's pages into the file, then an fsync) run on a thread of
 * their own with its own connection, not inside the writer's COMMIT as SQLite's automatic
 * checkpoint does: there they held the writer mutex through the copy and the fsync. The
 * writer's WAL hook wakes the checkpointer when the WAL holds CKPT_PAGES pages; a passive
 * checkpoint does not block the writer or the readers. Should the checkpointer fall behind
 * (a slow disk), the writer checkpoints itself at CKPT_HARD_PAGES, so the WAL stays
 * bounded. */
#include "cache/cache.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cache/cache_int.h"
#include "util/log.h"

#define BUSY_MS 10000
#define CKPT_PAGES 4096       /* WAL pages (4 KiB each) that wake the checkpointer: 16 MiB */
#define CKPT_HARD_PAGES 65536 /* the writer checkpoints itself beyond this: 256 MiB */
#define CKPT_SELF_PAGES 1000  /* without a checkpointer: SQLite's automatic checkpoint */

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS metadata (name TEXT NOT NULL PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS images (tile_id TEXT NOT NULL PRIMARY KEY, tile_data BLOB);"
    "CREATE TABLE IF NOT EXISTS map (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL,"
    " tile_row INTEGER NOT NULL, tile_id TEXT NOT NULL, mtime INTEGER NOT NULL DEFAULT 0,"
    " version TEXT, PRIMARY KEY (zoom_level, tile_column, tile_row));"
    "CREATE INDEX IF NOT EXISTS map_tile_id ON map (tile_id);"
    "CREATE VIEW IF NOT EXISTS tiles AS SELECT map.zoom_level AS zoom_level,"
    " map.tile_column AS tile_column, map.tile_row AS tile_row, images.tile_data AS tile_data"
    " FROM map JOIN images ON images.tile_id = map.tile_id;";

static const char get_sql[] =
    "SELECT images.tile_data, map.mtime, map.version FROM map JOIN images"
    " ON images.tile_id = map.tile_id"
    " WHERE map.zoom_level = ?1 AND map.tile_column = ?2 AND map.tile_row = ?3";
static const char stat_sql[] =
    "SELECT mtime, version FROM map WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3";

/* A reader connection with its statements. */
typedef struct reader {
    struct reader *next;
    sqlite3 *db;
    sqlite3_stmt *get, *stat;
} reader;

typedef struct mbt {
    ts_cache base;
    char path[1024];
    char version_hex[17];
    pthread_mutex_t wmu;        /* the writer connection and its statements */
    dev_t dev;                  /* the file opened (mbt_replaced) */
    ino_t ino;
    int zmin, zmax;             /* zooms of the tiles stored (metadata minzoom, maxzoom);
                                 * -1: none yet (under wmu) */
    sqlite3 *w;
    sqlite3_stmt *w_old, *w_img, *w_map, *w_del, *w_orphan;
    pthread_mutex_t rmu;        /* the idle readers */
    reader *idle;
    /* the checkpointer: its thread and connection, and what the writer asks of it */
    pthread_t ckpt_thread;
    int ckpt_started;
    sqlite3 *ckpt_db;
    pthread_mutex_t cmu;
    pthread_cond_t ccv;
    int ckpt_wanted, ckpt_stop; /* under cmu */
    int ckpt_failed;            /* the checkpointer's own: the last checkpoint failed */
} mbt;

/* ---- helpers ---------------------------------------------------------------------------- */

static ts_status
db_fail(ts_err *err, sqlite3 *db, int rc, const char *path, const char *what)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int full = rc == SQLITE_FULL || (db && sqlite3_extended_errcode(db) == SQLITE_FULL);
    return TS_FAIL(err, TS_EIO, "MBTiles %s: %s: %s%s", path, what, msg,
                   full ? " (no space left on device: the cache storage is full)" : "");
}

static int
exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static ts_status
open_db(const char *path, int create, sqlite3 **out, ts_err *err)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        ts_status st = db_fail(err, db, rc, path, "cannot open");
        sqlite3_close(db);
        return st;
    }
    sqlite3_busy_timeout(db, BUSY_MS);
    *out = db;
    return TS_OK;
}

static ts_status
prepare(mbt *m, sqlite3 *db, const char *sql, sqlite3_stmt **st, ts_err *err)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(err, db, rc, m->path, "cannot prepare a statement");
    return TS_OK;
}

static void
reader_free(reader *r)
{
    if (r == NULL)
        return;
    sqlite3_finalize(r->get);
    sqlite3_finalize(r->stat);
    sqlite3_close(r->db);
    free(r);
}

/* An idle reader, or a new one. NULL with *err on failure. */
static reader *
reader_take(mbt *m, ts_err *err)
{
    pthread_mutex_lock(&m->rmu);
    reader *r = m->idle;
    if (r)
        m->idle = r->next;
    pthread_mutex_unlock(&m->rmu);
    if (r)
        return r;
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        TS_FAIL(err, TS_ENOMEM, "MBTiles reader");
        return NULL;
    }
    if (open_db(m->path, 0, &r->db, err) != TS_OK || prepare(m, r->db, get_sql, &r->get, err) ||
        prepare(m, r->db, stat_sql, &r->stat, err)) {
        reader_free(r);
        return NULL;
    }
    return r;
}

static void
reader_give(mbt *m, reader *r)
{
    pthread_mutex_lock(&m->rmu);
    r->next = m->idle;
    m->idle = r;
    pthread_mutex_unlock(&m->rmu);
}

static void
bind_tile(sqlite3_stmt *s, const mbt *m, int z, uint32_t x, uint32_t y)
{
    sqlite3_bind_int(s, 1, z);
    sqlite3_bind_int64(s, 2, x);
    sqlite3_bind_int64(s, 3, ts_cache__flip_y(&m->base, z, y));
}

static int
version_ok(const mbt *m, sqlite3_stmt *s, int col)
{
    if (m->base.version == 0)
        return 1;
    const unsigned char *v = sqlite3_column_text(s, col);
    return v && strcmp((const char *)v, m->version_hex) == 0;
}

/* ---- reads ------------------------------------------------------------------------------ */

static ts_status
mbt_get(ts_cache *c, int z, uint32_t x, uint32_t y, ts_tile **out, ts_cache_entry *e, ts_err *err)
{
    mbt *m = (mbt *)c;
    reader *r = reader_take(m, err);
    if (r == NULL)
        return err ? err->code : TS_EIO;
    bind_tile(r->get, m, z, x, y);
    ts_status st;
    int rc = sqlite3_step(r->get);
    if (rc == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(r->get, 0);
        int n = sqlite3_column_bytes(r->get, 0);
        int64_t mt = sqlite3_column_int64(r->get, 1);
        ts_tile *t = ts_cache__tile_alloc((size_t)(n > 0 ? n : 0), mt / 1000000000);
        if (t == NULL) {
            st = TS_FAIL(err, TS_ENOMEM, "tile");
        } else {
            if (n > 0)
                memcpy(t->own, blob, (size_t)n);
            ts_cache__tile_seal(t);
            e->mtime_ns = mt;
            e->version_ok = version_ok(m, r->get, 2);
            *out = t;
            st = TS_OK;
        }
    } else if (rc == SQLITE_DONE) {
        st = TS_FAIL(err, TS_ENOENT, "tile %d/%u/%u not cached", z, x, y);
    } else {
        st = db_fail(err, r->db, rc, m->path, "cannot read a tile");
    }
    sqlite3_reset(r->get);
    sqlite3_clear_bindings(r->get);
    reader_give(m, r);
    return st;
}

static ts_status
mbt_stat(ts_cache *c, int z, uint32_t x, uint32_t y, ts_cache_entry *e, ts_err *err)
{
    mbt *m = (mbt *)c;
    reader *r = reader_take(m, err);
    if (r == NULL)
        return err ? err->code : TS_EIO;
    bind_tile(r->stat, m, z, x, y);
    ts_status st;
    int rc = sqlite3_step(r->stat);
    if (rc == SQLITE_ROW) {
        e->mtime_ns = sqlite3_column_int64(r->stat, 0);
        e->version_ok = version_ok(m, r->stat, 1);
        st = TS_OK;
    } else if (rc == SQLITE_DONE) {
        st = TS_FAIL(err, TS_ENOENT, "tile %d/%u/%u not cached", z, x, y);
    } else {
        st = db_fail(err, r->db, rc, m->path, "cannot read a tile");
    }
    sqlite3_reset(r->stat);
    reader_give(m, r);
    return st;
}

/* ---- writes (under wmu) ----------------------------------------------------------------- */

/* Delete the image id when no map row uses it any more. */
static int
drop_orphan(mbt *m, const char *id)
{
    sqlite3_bind_text(m->w_orphan, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(m->w_orphan);
    sqlite3_reset(m->w_orphan);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Place one tile; inside the caller's transaction. */
static int
put_locked(mbt *m, int z, const ts_cache_item *it, int64_t now)
{
    char id[40], old[40] = "";
    ts_tile_content_id(it->tile, id, sizeof id);
    bind_tile(m->w_old, m, z, it->x, it->y);
    int rc = sqlite3_step(m->w_old);
    if (rc == SQLITE_ROW) {
        const unsigned char *o = sqlite3_column_text(m->w_old, 0);
        snprintf(old, sizeof old, "%s", o ? (const char *)o : "");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(m->w_old);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(m->w_img, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(m->w_img, 2, it->tile->data, (int)it->tile->len, SQLITE_STATIC);
    rc = sqlite3_step(m->w_img);
    sqlite3_reset(m->w_img);
    sqlite3_clear_bindings(m->w_img);
    if (rc != SQLITE_DONE)
        return rc;
    bind_tile(m->w_map, m, z, it->x, it->y);
    sqlite3_bind_text(m->w_map, 4, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(m->w_map, 5, now);
    if (m->base.version)
        sqlite3_bind_text(m->w_map, 6, m->version_hex, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(m->w_map, 6);
    rc = sqlite3_step(m->w_map);
    sqlite3_reset(m->w_map);
    if (rc != SQLITE_DONE)
        return rc;
    if (old[0] && strcmp(old, id) != 0)
        return drop_orphan(m, old);
    return SQLITE_OK;
}

static int set_meta(sqlite3 *db, const char *name, const char *value);

/* Widen the metadata's minzoom and maxzoom to z (tiles of z are being stored); inside the
 * caller's transaction. *zmin, *zmax: the range to keep should the transaction commit. */
static int
widen_zooms(mbt *m, int z, int *zmin, int *zmax)
{
    char v[16];
    snprintf(v, sizeof v, "%d", z);
    int rc = SQLITE_OK;
    if (*zmin < 0 || z < *zmin) {
        rc = set_meta(m->w, "minzoom", v);
        *zmin = z;
    }
    if (rc == SQLITE_OK && (*zmax < 0 || z > *zmax)) {
        rc = set_meta(m->w, "maxzoom", v);
        *zmax = z;
    }
    return rc;
}

static ts_status
mbt_put(ts_cache *c, int z, const ts_cache_item *items, int n, ts_err *err)
{
    mbt *m = (mbt *)c;
    int64_t now = ts_cache__now_ns();
    pthread_mutex_lock(&m->wmu);
    int rc = exec(m->w, "BEGIN IMMEDIATE");
    int zmin = m->zmin, zmax = m->zmax;
    for (int i = 0; rc == SQLITE_OK && i < n; i++)
        rc = put_locked(m, z, &items[i], now);
    if (rc == SQLITE_OK && n > 0 && (zmin < 0 || z < zmin || z > zmax))
        rc = widen_zooms(m, z, &zmin, &zmax);
    if (rc == SQLITE_OK && (rc = exec(m->w, "COMMIT")) == SQLITE_OK) {
        m->zmin = zmin;
        m->zmax = zmax;
    }
    ts_status st = TS_OK;
    if (rc != SQLITE_OK) {
        st = db_fail(err, m->w, rc, m->path, "cannot store tiles");
        if (!sqlite3_get_autocommit(m->w))
            exec(m->w, "ROLLBACK");
    }
    pthread_mutex_unlock(&m->wmu);
    return st;
}

static ts_status
mbt_del(ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err)
{
    mbt *m = (mbt *)c;
    pthread_mutex_lock(&m->wmu);
    int rc = exec(m->w, "BEGIN IMMEDIATE");
    char old[40] = "";
    if (rc == SQLITE_OK) {
        bind_tile(m->w_old, m, z, x, y);
        if (sqlite3_step(m->w_old) == SQLITE_ROW) {
            const unsigned char *o = sqlite3_column_text(m->w_old, 0);
            snprintf(old, sizeof old, "%s", o ? (const char *)o : "");
        }
        sqlite3_reset(m->w_old);
        bind_tile(m->w_del, m, z, x, y);
        rc = sqlite3_step(m->w_del) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(m->w);
        sqlite3_reset(m->w_del);
    }
    if (rc == SQLITE_OK && old[0])
        rc = drop_orphan(m, old);
    if (rc == SQLITE_OK)
        rc = exec(m->w, "COMMIT");
    ts_status st = TS_OK;
    if (rc != SQLITE_OK) {
        st = db_fail(err, m->w, rc, m->path, "cannot delete a tile");
        if (!sqlite3_get_autocommit(m->w))
            exec(m->w, "ROLLBACK");
    }
    pthread_mutex_unlock(&m->wmu);
    return st;
}

static ts_status
mbt_truncate(ts_cache *c, int z, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
             int64_t older_than, uint64_t *removed, ts_err *err)
{
    mbt *m = (mbt *)c;
    uint32_t r0 = ts_cache__flip_y(c, z, y1), r1 = ts_cache__flip_y(c, z, y0);
    pthread_mutex_lock(&m->wmu);
    sqlite3_stmt *s = NULL;
    int rc = exec(m->w, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(m->w,
                                "DELETE FROM map WHERE zoom_level = ?1 AND tile_column BETWEEN ?2"
                                " AND ?3 AND tile_row BETWEEN ?4 AND ?5 AND mtime < ?6",
                                -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(s, 1, z);
        sqlite3_bind_int64(s, 2, x0);
        sqlite3_bind_int64(s, 3, x1);
        sqlite3_bind_int64(s, 4, r0);
        sqlite3_bind_int64(s, 5, r1);
        sqlite3_bind_int64(s, 6, older_than > 0 ? older_than * 1000000000 : INT64_MAX);
        rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(m->w);
        *removed = (uint64_t)sqlite3_changes(m->w);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_OK && *removed > 0)
        rc = exec(m->w, "DELETE FROM images WHERE tile_id NOT IN (SELECT tile_id FROM map)");
    if (rc == SQLITE_OK)
        rc = exec(m->w, "COMMIT");
    ts_status st = TS_OK;
    if (rc != SQLITE_OK) {
        *removed = 0;
        st = db_fail(err, m->w, rc, m->path, "cannot truncate");
        if (!sqlite3_get_autocommit(m->w))
            exec(m->w, "ROLLBACK");
    }
    pthread_mutex_unlock(&m->wmu);
    return st;
}

static ts_status
mbt_sync(ts_cache *c, ts_err *err)
{
    mbt *m = (mbt *)c;
    pthread_mutex_lock(&m->wmu);
    int rc = sqlite3_wal_checkpoint_v2(m->w, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    ts_status st = rc == SQLITE_OK || rc == SQLITE_BUSY
                       ? TS_OK
                       : db_fail(err, m->w, rc, m->path, "cannot checkpoint");
    pthread_mutex_unlock(&m->wmu);
    return st;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

/* The checkpointer thread: a passive checkpoint each time the writer asks for one. */
static void *
ckpt_main(void *arg)
{
    mbt *m = arg;
    pthread_mutex_lock(&m->cmu);
    for (;;) {
        while (!m->ckpt_wanted && !m->ckpt_stop)
            pthread_cond_wait(&m->ccv, &m->cmu);
        if (m->ckpt_stop)
            break;
        m->ckpt_wanted = 0;
        pthread_mutex_unlock(&m->cmu);
        int rc = sqlite3_wal_checkpoint_v2(m->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                           NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            if (!m->ckpt_failed) /* once per run of failures: a full disk fails them all */
                ts_warn("MBTiles %s: checkpoint failed: %s (the tiles stay in the WAL)",
                        m->path, sqlite3_errmsg(m->ckpt_db));
            m->ckpt_failed = 1;
        } else {
            m->ckpt_failed = 0;
        }
        pthread_mutex_lock(&m->cmu);
    }
    pthread_mutex_unlock(&m->cmu);
    return NULL;
}

/* The writer's WAL hook, called after each commit with the pages in the WAL (frames
 * already copied included: the count drops when the WAL restarts). */
static int
wal_hook(void *ud, sqlite3 *db, const char *name, int pages)
{
    mbt *m = ud;
    if (!m->ckpt_started) { /* no checkpointer: checkpoint here, as SQLite would */
        if (pages >= CKPT_SELF_PAGES)
            sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (pages >= CKPT_HARD_PAGES) { /* the checkpointer is behind: help it */
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (pages >= CKPT_PAGES) {
        pthread_mutex_lock(&m->cmu);
        m->ckpt_wanted = 1;
        pthread_cond_signal(&m->ccv);
        pthread_mutex_unlock(&m->cmu);
    }
    return SQLITE_OK;
}

/* Start the checkpointer; without it (no connection or thread) the writer checkpoints in
 * its hook as SQLite's automatic checkpoint does. */
static void
ckpt_start(mbt *m)
{
    ts_err err;
    ts_err_clear(&err);
    if (open_db(m->path, 0, &m->ckpt_db, &err) != TS_OK) {
        ts_warn("%s: the writer checkpoints itself", err.msg);
        m->ckpt_db = NULL;
        return;
    }
    /* a connection learns that the file is in WAL mode when it first reads it; until then
     * its checkpoints do nothing */
    const char *why = NULL;
    if (exec(m->ckpt_db, "SELECT count(*) FROM sqlite_master") != SQLITE_OK)
        why = sqlite3_errmsg(m->ckpt_db);
    else if (pthread_create(&m->ckpt_thread, NULL, ckpt_main, m) != 0)
        why = "no checkpointer thread";
    if (why != NULL) {
        ts_warn("MBTiles %s: %s: the writer checkpoints itself", m->path, why);
        sqlite3_close(m->ckpt_db);
        m->ckpt_db = NULL;
        return;
    }
    m->ckpt_started = 1;
}

static void
ckpt_stop(mbt *m)
{
    if (m->ckpt_started) {
        pthread_mutex_lock(&m->cmu);
        m->ckpt_stop = 1;
        pthread_cond_signal(&m->ccv);
        pthread_mutex_unlock(&m->cmu);
        pthread_join(m->ckpt_thread, NULL);
        m->ckpt_started = 0;
    }
    if (m->ckpt_db)
        sqlite3_close(m->ckpt_db);
    m->ckpt_db = NULL;
}

static void
mbt_free(mbt *m)
{
    if (m->w)
        sqlite3_wal_hook(m->w, NULL, NULL);
    ckpt_stop(m); /* before the writer closes: the last connection checkpoints the WAL */
    while (m->idle) {
        reader *r = m->idle;
        m->idle = r->next;
        reader_free(r);
    }
    sqlite3_finalize(m->w_old);
    sqlite3_finalize(m->w_img);
    sqlite3_finalize(m->w_map);
    sqlite3_finalize(m->w_del);
    sqlite3_finalize(m->w_orphan);
    if (m->w)
        sqlite3_close(m->w); /* the last connection checkpoints the WAL into the file */
    pthread_mutex_destroy(&m->wmu);
    pthread_mutex_destroy(&m->rmu);
    pthread_mutex_destroy(&m->cmu);
    pthread_cond_destroy(&m->ccv);
    free(m);
}

static void
mbt_close(ts_cache *c)
{
    mbt_free((mbt *)c);
}

/* The file at m->path is gone or another one than was opened. */
static int
mbt_replaced(ts_cache *c)
{
    mbt *m = (mbt *)c;
    struct stat st;
    if (stat(m->path, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR;
    return st.st_dev != m->dev || st.st_ino != m->ino;
}

static const ts_cache_ops mbt_ops = {
    .kind = "mbtiles",
    .get = mbt_get,
    .stat = mbt_stat,
    .put = mbt_put,
    .del = mbt_del,
    .truncate = mbt_truncate,
    .sync = mbt_sync,
    .close = mbt_close,
    .replaced = mbt_replaced,
    .checks_png = 1,
};

/* ---- metadata --------------------------------------------------------------------------- */

/* Bounds already recorded ("w,s,e,n"), if any. */
static int
meta_bounds(sqlite3 *db, double b[4])
{
    sqlite3_stmt *s;
    int ok = 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM metadata WHERE name = 'bounds'", -1, &s, NULL) !=
        SQLITE_OK)
        return 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        ok = t && sscanf(t, "%lf,%lf,%lf,%lf", &b[0], &b[1], &b[2], &b[3]) == 4;
        /* another tool's (or a damaged) value: only a real box in degrees counts */
        ok = ok && b[0] >= -180 && b[2] <= 180 && b[0] <= b[2] && b[1] >= -90 && b[3] <= 90 &&
             b[1] <= b[3];
    }
    sqlite3_finalize(s);
    return ok;
}

static int
has_tiles(sqlite3 *db)
{
    sqlite3_stmt *s;
    int yes = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM map LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
        yes = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
    }
    return yes;
}

/* The lowest and highest zoom_level in map; 0 when there are none. */
static int
stored_zooms(sqlite3 *db, int *zmin, int *zmax)
{
    sqlite3_stmt *s;
    int ok = 0;
    if (sqlite3_prepare_v2(db, "SELECT MIN(zoom_level), MAX(zoom_level) FROM map", -1, &s,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_INTEGER &&
            sqlite3_column_type(s, 1) == SQLITE_INTEGER) {
            *zmin = sqlite3_column_int(s, 0);
            *zmax = sqlite3_column_int(s, 1);
            ok = 1;
        }
        sqlite3_finalize(s);
    }
    return ok;
}

static int
set_meta(sqlite3 *db, const char *name, const char *value)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO metadata (name, value) VALUES (?1, ?2)",
                                -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    sqlite3_finalize(s);
    return rc;
}

/* Fill the metadata table; zooms and bounds widened to what the file already holds. */
static int
write_metadata(mbt *m, const ts_cache_desc *d)
{
    sqlite3 *db = m->w;
    double b[4] = {d->bounds[0], d->bounds[1], d->bounds[2], d->bounds[3]};
    if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) {
        b[0] = -180;
        b[1] = -85.0511287798066;
        b[2] = 180;
        b[3] = 85.0511287798066;
    }
    /* minzoom and maxzoom are the zooms of the tiles in the file (MBTiles 1.3; GDAL opens
     * no file whose maxzoom is beyond 22, a cache's range may reach 24): a new file
     * says the tileset's range until its first tiles are stored (put_locked widens) */
    int minz = d->minzoom, maxz = d->maxzoom;
    if (m->zmin >= 0) {
        minz = m->zmin;
        maxz = m->zmax;
    }
    if (has_tiles(db)) {
        double o[4];
        if (meta_bounds(db, o)) {
            b[0] = fmin(b[0], o[0]);
            b[1] = fmin(b[1], o[1]);
            b[2] = fmax(b[2], o[2]);
            b[3] = fmax(b[3], o[3]);
        }
    }
    char bounds[128], center[128], mz[16], xz[16];
    snprintf(bounds, sizeof bounds, "%.7f,%.7f,%.7f,%.7f", b[0], b[1], b[2], b[3]);
    int cz = minz + (maxz - minz) / 2;
    snprintf(center, sizeof center, "%.7f,%.7f,%d", (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, cz);
    snprintf(mz, sizeof mz, "%d", minz);
    snprintf(xz, sizeof xz, "%d", maxz);
    const char *kv[][2] = {
        {"name", d->name ? d->name : "tiles"},
        {"format", m->base.format},
        {"bounds", bounds},
        {"center", center},
        {"minzoom", mz},
        {"maxzoom", xz},
        {"type", d->type ? d->type : "baselayer"},
        {"description", d->description ? d->description : (d->name ? d->name : "tiles")},
        {"version", "1"}, /* MBTiles 1.3: the tileset's own revision, not the spec's */
        {"tilesrv_version", m->version_hex},
    };
    int rc = exec(db, "BEGIN IMMEDIATE");
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof kv / sizeof kv[0]; i++)
        rc = set_meta(db, kv[i][0], kv[i][1]);
    if (rc == SQLITE_OK && d->attribution)
        rc = set_meta(db, "attribution", d->attribution);
    if (rc == SQLITE_OK && d->json)
        rc = set_meta(db, "json", d->json);
    if (rc == SQLITE_OK)
        rc = exec(db, "COMMIT");
    else
        exec(db, "ROLLBACK");
    return rc;
}

/* What makes the database at db another kind of file than tilesrv's MBTiles (into why, n
 * bytes), or 0 when it is one or empty: a plain `tiles` table (another tool's MBTiles
 * schema), a GeoPackage, or tables of some other schema (one of ours is `map`). Reads only:
 * nothing is changed in such a file. */
static int
foreign_schema(sqlite3 *db, char *why, size_t n)
{
    sqlite3_stmt *s;
    int foreign = 0, ours = 0;
    char other[128] = "";
    if (sqlite3_prepare_v2(db, "SELECT type, name FROM sqlite_master WHERE type = 'table' OR "
                               "name = 'tiles'", -1, &s, NULL) != SQLITE_OK)
        return 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        const char *name = (const char *)sqlite3_column_text(s, 1);
        if (t == NULL || name == NULL)
            continue;
        if (strcmp(name, "tiles") == 0 && strcmp(t, "table") == 0) {
            snprintf(why, n, "has a plain 'tiles' table from another tool; tilesrv writes its "
                             "own map/images schema: use a new file");
            foreign = 1;
        } else if (strcmp(name, "gpkg_contents") == 0) {
            snprintf(why, n, "is a GeoPackage, not an MBTiles file: use a new file");
            foreign = 1;
        } else if (strcmp(name, "map") == 0) {
            ours = 1;
        } else if (other[0] == '\0' && strcmp(name, "metadata") != 0 &&
                   strcmp(name, "images") != 0 && strncmp(name, "sqlite_", 7) != 0) {
            snprintf(other, sizeof other, "%.100s", name);
        }
    }
    sqlite3_finalize(s);
    if (!foreign && !ours && other[0]) {
        snprintf(why, n, "holds tables of another kind (e.g. '%s'), not an MBTiles file: use a "
                         "new file", other);
        foreign = 1;
    }
    return foreign;
}

ts_cache *
ts_cache_mbtiles_open(const char *path, const ts_cache_desc *d, ts_err *err)
{
    if (d == NULL || d->grid == NULL) {
        TS_FAIL(err, TS_EINVAL, "MBTiles %s: no grid given", path);
        return NULL;
    }
    if (d->grid->epsg != 3857) {
        TS_FAIL(err, TS_EINVAL,
                "MBTiles %s: MBTiles holds WebMercatorQuad (EPSG:3857) tiles only, not grid %s "
                "(seed --grid WebMercatorQuad, or --to a directory for %s)",
                path, d->grid->name, d->grid->name);
        return NULL;
    }
    mbt *m = calloc(1, sizeof *m);
    if (m == NULL) {
        TS_FAIL(err, TS_ENOMEM, "MBTiles");
        return NULL;
    }
    ts_cache__init(&m->base, &mbt_ops, d);
    pthread_mutex_init(&m->wmu, NULL);
    pthread_mutex_init(&m->rmu, NULL);
    pthread_mutex_init(&m->cmu, NULL);
    pthread_cond_init(&m->ccv, NULL);
    /* For a scale 2 cache, a sibling file: x.mbtiles -> x@2x.mbtiles. */
    size_t pl = strlen(path);
    if (m->base.scale == 2 && pl > 8 && strcasecmp(path + pl - 8, ".mbtiles") == 0)
        snprintf(m->path, sizeof m->path, "%.*s@2x.mbtiles", (int)(pl - 8), path);
    else if (m->base.scale == 2)
        snprintf(m->path, sizeof m->path, "%s@2x", path);
    else
        snprintf(m->path, sizeof m->path, "%s", path);
    snprintf(m->version_hex, sizeof m->version_hex, "%016llx", (unsigned long long)d->version);
    char dir[sizeof m->path];
    snprintf(dir, sizeof dir, "%s", m->path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (ts_cache__make_dirs(dir) != 0) {
            TS_CACHE_ERRNO(err, errno, "MBTiles %s: cannot create directory %s", m->path, dir);
            goto fail;
        }
    }
    if (open_db(m->path, 1, &m->w, err) != TS_OK)
        goto fail;
    char why[256];
    if (foreign_schema(m->w, why, sizeof why)) { /* before anything is written into it */
        TS_FAIL(err, TS_EINVAL, "MBTiles %s %s", m->path, why);
        goto fail;
    }
    char *emsg = NULL;
    int rc = sqlite3_exec(m->w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                          &emsg);
    sqlite3_free(emsg);
    if (rc != SQLITE_OK) {
        int code = rc & 0xff; /* the primary result code */
        db_fail(err, m->w, rc, m->path,
                code == SQLITE_READONLY || code == SQLITE_PERM || code == SQLITE_CANTOPEN
                    ? "cannot write the file or its directory (permissions? the server "
                      "writes a -wal and a -shm file beside it)"
                : code == SQLITE_NOTADB ? "cannot switch to WAL: not an SQLite file"
                                        : "cannot switch to WAL");
        goto fail;
    }
    rc = exec(m->w, schema_sql);
    if (rc != SQLITE_OK) {
        db_fail(err, m->w, rc, m->path, "cannot create the MBTiles tables");
        goto fail;
    }
    struct stat fst; /* the file is there now: which one it is, for mbt_replaced */
    if (stat(m->path, &fst) == 0) {
        m->dev = fst.st_dev;
        m->ino = fst.st_ino;
    }
    m->zmin = m->zmax = -1;
    stored_zooms(m->w, &m->zmin, &m->zmax);
    if (d->version != 0 && (rc = write_metadata(m, d)) != SQLITE_OK) {
        db_fail(err, m->w, rc, m->path, "cannot write the metadata");
        goto fail;
    }
    if (d->version == 0) {
        /* Tools (truncate) keep the stored version: read it back for freshness checks. */
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(m->w, "SELECT value FROM metadata WHERE name = 'tilesrv_version'",
                               -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
                snprintf(m->version_hex, sizeof m->version_hex, "%s",
                         (const char *)sqlite3_column_text(s, 0));
            sqlite3_finalize(s);
        }
    }
    if (prepare(m, m->w,
                "SELECT tile_id FROM map WHERE zoom_level = ?1 AND tile_column = ?2 AND "
                "tile_row = ?3",
                &m->w_old, err) ||
        prepare(m, m->w, "INSERT OR IGNORE INTO images (tile_id, tile_data) VALUES (?1, ?2)",
                &m->w_img, err) ||
        prepare(m, m->w,
                "INSERT OR REPLACE INTO map (zoom_level, tile_column, tile_row, tile_id, mtime, "
                "version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &m->w_map, err) ||
        prepare(m, m->w,
                "DELETE FROM map WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                &m->w_del, err) ||
        prepare(m, m->w,
                "DELETE FROM images WHERE tile_id = ?1 AND NOT EXISTS "
                "(SELECT 1 FROM map WHERE tile_id = ?1)",
                &m->w_orphan, err))
        goto fail;
    sqlite3_wal_hook(m->w, wal_hook, m); /* in place of SQLite's automatic checkpoint */
    ckpt_start(m);
    return &m->base;
fail:
    mbt_free(m);
    return NULL;
}
