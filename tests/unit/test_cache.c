/* Unit tests for cache: tiles, ETags, the sharded LRU under a byte budget and threads. */
#include "test.h"

#include <pthread.h>
#include <stdlib.h>

#include "cache/cache.h"
#include "util/redis_url.h"

TS_TEST(tile_etag_follows_content)
{
    ts_tile *a = ts_tile_new((const uint8_t *)"abcdefghij", 10, 1);
    ts_tile *b = ts_tile_new((const uint8_t *)"abcdefghij", 10, 2);
    ts_tile *c = ts_tile_new((const uint8_t *)"abcdefghiJ", 10, 1);
    TS_REQUIRE(a && b && c);
    TS_CHECK(a->etag == b->etag);
    TS_CHECK(a->etag != c->etag);
    char s[32];
    ts_tile_etag_str(a, s, sizeof s);
    TS_CHECK_INT(strlen(s), 18);
    TS_CHECK(s[0] == '"' && s[17] == '"');
    char want[32], cut[8];
    snprintf(want, sizeof want, "\"%016llx\"", (unsigned long long)a->etag);
    TS_CHECK_STR(s, want); /* the hex form of the hash, as printf writes it */
    ts_tile_etag_str(a, cut, sizeof cut);
    TS_CHECK(strncmp(cut, want, 7) == 0 && cut[7] == '\0');
    ts_tile_unref(a);
    ts_tile_unref(b);
    ts_tile_unref(c);
}

TS_TEST(cache_get_put_replace)
{
    ts_mem_cache *c = ts_mem_cache_new(1 << 20);
    TS_REQUIRE(c);
    TS_CHECK(ts_mem_cache_get(c, "a/1/2/3") == NULL);
    ts_tile *t = ts_tile_new((const uint8_t *)"png1", 4, 0);
    ts_mem_cache_put(c, "a/1/2/3", t);
    ts_tile_unref(t);
    ts_tile *g = ts_mem_cache_get(c, "a/1/2/3");
    TS_REQUIRE(g);
    TS_CHECK(memcmp(g->data, "png1", 4) == 0);
    ts_tile *t2 = ts_tile_new((const uint8_t *)"png22", 5, 0);
    ts_mem_cache_put(c, "a/1/2/3", t2);
    ts_tile_unref(t2);
    /* the old tile stays valid for the reader holding it */
    TS_CHECK(memcmp(g->data, "png1", 4) == 0);
    ts_tile_unref(g);
    g = ts_mem_cache_get(c, "a/1/2/3");
    TS_REQUIRE(g);
    TS_CHECK_INT(g->len, 5);
    ts_tile_unref(g);
    ts_cache_stats st;
    ts_mem_cache_stats_get(c, &st);
    TS_CHECK_INT(st.entries, 1);
    TS_CHECK_INT(st.hits, 2);
    TS_CHECK_INT(st.misses, 1);
    TS_CHECK_INT(ts_mem_cache_drop_prefix(c, "a/"), 1);
    TS_CHECK(ts_mem_cache_get(c, "a/1/2/3") == NULL);
    ts_mem_cache_free(c);
}

TS_TEST(cache_contains_is_not_counted)
{
    ts_mem_cache *c = ts_mem_cache_new(1 << 20);
    TS_REQUIRE(c);
    ts_tile *t = ts_tile_new((const uint8_t *)"png1", 4, 0);
    ts_mem_cache_put(c, "a/1/2/3", t);
    ts_tile_unref(t);
    TS_CHECK_INT(ts_mem_cache_contains(c, "a/1/2/3"), 1);
    TS_CHECK_INT(ts_mem_cache_contains(c, "a/1/2/4"), 0);
    ts_cache_stats st;
    ts_mem_cache_stats_get(c, &st);
    TS_CHECK_INT(st.hits, 0);
    TS_CHECK_INT(st.misses, 0);
    ts_mem_cache_free(c);
}

TS_TEST(cache_evicts_least_recent_within_budget)
{
    /* 16 shards x 64 KiB; 4 KiB tiles: each shard keeps ~15 */
    ts_mem_cache *c = ts_mem_cache_new(16 * 65536);
    TS_REQUIRE(c);
    static uint8_t blob[4096];
    char key[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "t/%d", i);
        ts_tile *t = ts_tile_new(blob, sizeof blob, 0);
        ts_mem_cache_put(c, key, t);
        ts_tile_unref(t);
        /* keep tile 0 hot */
        ts_tile *h = ts_mem_cache_get(c, "t/0");
        TS_REQUIRE(h);
        ts_tile_unref(h);
    }
    ts_cache_stats st;
    ts_mem_cache_stats_get(c, &st);
    TS_CHECK(st.bytes <= 16 * 65536);
    TS_CHECK(st.entries < 300);
    TS_CHECK(st.evictions > 1500);
    ts_tile *h = ts_mem_cache_get(c, "t/0");
    TS_CHECK(h != NULL);
    ts_tile_unref(h);
    ts_tile *last = ts_mem_cache_get(c, "t/1999");
    TS_CHECK(last != NULL);
    ts_tile_unref(last);
    ts_mem_cache_free(c);
}

static void *
hammer(void *arg)
{
    ts_mem_cache *c = arg;
    char key[32];
    uint8_t data[100] = {0};
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k/%d", i % 500);
        if (i % 3 == 0) {
            ts_tile *t = ts_tile_new(data, sizeof data, i);
            ts_mem_cache_put(c, key, t);
            ts_tile_unref(t);
        } else {
            ts_tile *t = ts_mem_cache_get(c, key);
            if (t) {
                volatile uint8_t x = t->data[0];
                (void)x;
                ts_tile_unref(t);
            }
        }
    }
    return NULL;
}

TS_TEST(cache_survives_concurrent_readers_and_writers)
{
    ts_mem_cache *c = ts_mem_cache_new(64 * 1024);
    TS_REQUIRE(c);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, c);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ts_cache_stats st;
    ts_mem_cache_stats_get(c, &st);
    TS_CHECK(st.bytes <= 64 * 1024);
    ts_mem_cache_free(c);
}

/* ---- back-ends ------------------------------------------------------------------------- */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static size_t
add_chunk(uint8_t *out, size_t off, const char *type, const uint8_t *data, uint32_t len)
{
    put_be32(out + off, len);
    memcpy(out + off + 4, type, 4);
    if (len)
        memcpy(out + off + 8, data, len);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), out + off + 4, len + 4);
    put_be32(out + off + 8 + len, (uint32_t)crc);
    return off + 12 + len;
}

/* A w x h RGBA PNG: seed 0 = one flat colour, else pseudo-random pixels (incompressible). */
static ts_tile *
make_png(int w, int h, uint32_t seed)
{
    size_t raw_len = (size_t)h * (1 + 4 * (size_t)w);
    uint8_t *raw = malloc(raw_len);
    uint32_t s = seed;
    for (size_t i = 0; i < raw_len; i++) {
        s = s * 1664525u + 1013904223u;
        raw[i] = seed ? (uint8_t)(s >> 24) : 0x40;
    }
    for (int y = 0; y < h; y++)
        raw[(size_t)y * (1 + 4 * (size_t)w)] = 0; /* filter: none */
    uLongf zlen = compressBound(raw_len);
    uint8_t *out = malloc(zlen + 128);
    uint8_t *z = malloc(zlen);
    compress2(z, &zlen, raw, raw_len, 1);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(out, sig, 8);
    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;
    ihdr[9] = 6;
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    size_t off = add_chunk(out, 8, "IHDR", ihdr, 13);
    off = add_chunk(out, off, "IDAT", z, (uint32_t)zlen);
    off = add_chunk(out, off, "IEND", NULL, 0);
    ts_tile *t = ts_tile_new(out, off, 1000);
    free(raw);
    free(z);
    free(out);
    return t;
}

/* rm -rf */
static void
remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void
scratch(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", ts_test_tmpdir(), name);
    remove_tree(buf);
}

static int
file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Files under path whose name contains needle (recursively). */
static int
count_files(const char *path, const char *needle)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            n += count_files(sub, needle);
        else if (needle == NULL || strstr(de->d_name, needle))
            n++;
    }
    closedir(d);
    return n;
}

static ts_cache_desc
desc_for(uint64_t version)
{
    ts_cache_desc d = {
        .name = "test",
        .format = "png",
        .grid = ts_grid_webmercator_quad(),
        .scale = 1,
        .minzoom = 0,
        .maxzoom = 5,
        .bounds = {6.7, 51.1, 6.9, 51.3},
        .version = version,
    };
    return d;
}

TS_TEST(png_check_accepts_whole_pngs_only)
{
    ts_tile *t = make_png(16, 16, 7);
    TS_REQUIRE(t);
    TS_CHECK(ts_cache_png_ok(t->data, t->len));
    /* cut anywhere: refused */
    for (size_t n = 0; n < t->len; n += 7)
        TS_CHECK(!ts_cache_png_ok(t->data, n));
    TS_CHECK(!ts_cache_png_ok(t->data, t->len - 1));
    /* a flipped bit inside the data: the chunk CRC catches it */
    uint8_t *copy = malloc(t->len + 4);
    memcpy(copy, t->data, t->len);
    copy[60] ^= 0x10;
    TS_CHECK(!ts_cache_png_ok(copy, t->len));
    /* trailing garbage after IEND */
    memcpy(copy, t->data, t->len);
    memcpy(copy + t->len, "junk", 4);
    TS_CHECK(!ts_cache_png_ok(copy, t->len + 4));
    TS_CHECK(!ts_cache_png_ok((const uint8_t *)"garbage garbage garbage garbage garbage garbage", 47));
    free(copy);
    ts_tile_unref(t);
}

TS_TEST(disk_layouts_name_files_like_mapproxy)
{
    char dir[512], path[1024];
    ts_tile *t = make_png(8, 8, 0);
    TS_REQUIRE(t);
    static const char *const names[] = {"xyz", "tc", "tms"};
    static const char *const want[] = {"WebMercatorQuad/3/5/1.png",
                                       "WebMercatorQuad/03/000/000/005/000/000/006.png",
                                       "WebMercatorQuad/3/5/6.png"};
    for (int i = 0; i < 3; i++) {
        scratch(dir, sizeof dir, names[i]);
        ts_cache_desc d = desc_for(1);
        ts_err err;
        ts_err_clear(&err);
        int layout = ts_cache_layout_parse(names[i]);
        TS_REQUIRE(layout >= 0);
        ts_cache *c = ts_cache_disk_open(dir, (ts_cache_layout)layout, 0, &d, &err);
        TS_REQUIRE(c);
        TS_CHECK_STR(ts_cache_kind(c), "disk");
        ts_cache_item it = {5, 1, t};
        TS_CHECK_INT(ts_cache_put(c, 3, &it, 1, &err), TS_OK);
        snprintf(path, sizeof path, "%s/%s", dir, want[i]);
        TS_CHECK(file_exists(path));
        ts_tile *g = NULL;
        ts_cache_info info;
        TS_CHECK_INT(ts_cache_get(c, 3, 5, 1, &g, &info, &err), TS_OK);
        TS_REQUIRE(g);
        TS_CHECK(g->len == t->len && memcmp(g->data, t->data, t->len) == 0);
        TS_CHECK(g->etag == t->etag);
        TS_CHECK(!info.stale);
        ts_tile_unref(g);
        TS_CHECK_INT(ts_cache_get(c, 3, 5, 2, &g, NULL, &err), TS_ENOENT);
        TS_CHECK_INT(ts_cache_stat(c, 3, 5, 1, &info, &err), TS_OK);
        TS_CHECK_INT(ts_cache_delete(c, 3, 5, 1, &err), TS_OK);
        TS_CHECK(!file_exists(path));
        TS_CHECK_INT(ts_cache_stat(c, 3, 5, 1, &info, &err), TS_ENOENT);
        /* outside the grid: refused, nothing written */
        ts_cache_item bad = {8, 0, t};
        TS_CHECK_INT(ts_cache_put(c, 3, &bad, 1, &err), TS_EINVAL);
        TS_CHECK_INT(count_files(dir, ".tmp"), 0);
        ts_cache_unref(c);
        remove_tree(dir);
    }
    ts_tile_unref(t);
}

typedef struct atomic_ctx {
    ts_cache *c;
    char path[1024];
    ts_tile *a, *b;
    atomic_int stop;
    int reads, partial;
} atomic_ctx;

static void *
atomic_reader(void *arg)
{
    atomic_ctx *x = arg;
    uint8_t *buf = malloc(x->a->len + x->b->len);
    while (!atomic_load(&x->stop)) {
        FILE *f = fopen(x->path, "rb");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, x->a->len + x->b->len, f);
        fclose(f);
        x->reads++;
        int whole = (n == x->a->len && memcmp(buf, x->a->data, n) == 0) ||
                    (n == x->b->len && memcmp(buf, x->b->data, n) == 0);
        if (!whole)
            x->partial++;
    }
    free(buf);
    return NULL;
}

static void disk_writers_never_show_a_partial_tile_run(void);
static void disk_full_fails_cleanly_run(void);

/* Both ways of writing a tile: an unnamed file linked in (O_TMPFILE), and a temporary file
 * renamed (where O_TMPFILE is missing; TS_CACHE_NO_TMPFILE=1 makes the cache take it). */
TS_TEST(disk_writers_never_show_a_partial_tile)
{
    for (int way = 0; way < 2; way++) {
        setenv("TS_CACHE_NO_TMPFILE", way ? "1" : "0", 1);
        disk_writers_never_show_a_partial_tile_run();
    }
    unsetenv("TS_CACHE_NO_TMPFILE");
}

TS_TEST(disk_full_fails_cleanly_and_leaves_no_partial_file)
{
    for (int way = 0; way < 2; way++) {
        setenv("TS_CACHE_NO_TMPFILE", way ? "1" : "0", 1);
        disk_full_fails_cleanly_run();
    }
    unsetenv("TS_CACHE_NO_TMPFILE");
}

static void
disk_writers_never_show_a_partial_tile_run(void)
{
    char dir[512];
    scratch(dir, sizeof dir, "atomic");
    ts_cache_desc d = desc_for(1);
    ts_err err;
    ts_err_clear(&err);
    atomic_ctx x;
    memset(&x, 0, sizeof x);
    x.c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(x.c);
    x.a = make_png(300, 300, 1); /* ~360 KB each, different sizes */
    x.b = make_png(200, 240, 2);
    TS_REQUIRE(x.a && x.b);
    ts_cache_item it = {1, 1, x.a};
    TS_REQUIRE(ts_cache_put(x.c, 2, &it, 1, &err) == TS_OK);
    snprintf(x.path, sizeof x.path, "%s/WebMercatorQuad/2/1/1.png", dir);
    pthread_t th;
    pthread_create(&th, NULL, atomic_reader, &x);
    for (int i = 0; i < 200; i++) {
        it.tile = (i & 1) ? x.a : x.b;
        TS_CHECK_INT(ts_cache_put(x.c, 2, &it, 1, &err), TS_OK);
    }
    atomic_store(&x.stop, 1);
    pthread_join(th, NULL);
    TS_CHECK(x.reads > 0);
    TS_CHECK_INT(x.partial, 0);
    TS_CHECK_INT(count_files(dir, ".tmp"), 0);
    ts_cache_unref(x.c);
    ts_tile_unref(x.a);
    ts_tile_unref(x.b);
    remove_tree(dir);
}

static void
disk_full_fails_cleanly_run(void)
{
    char dir[512], path[1024];
    scratch(dir, sizeof dir, "full");
    ts_cache_desc d = desc_for(1);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(c);
    ts_tile *big = make_png(256, 256, 3); /* ~260 KB */
    TS_REQUIRE(big);
    /* A file-size limit makes write(2) fail with EFBIG part way, as a full disk would. */
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    TS_REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    ts_cache_item it = {0, 0, big};
    ts_status st = ts_cache_put(c, 1, &it, 1, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    TS_CHECK_INT(st, TS_EIO);
    TS_CHECK(strstr(err.msg, "full") != NULL);
    snprintf(path, sizeof path, "%s/WebMercatorQuad/1/0/0.png", dir);
    TS_CHECK(!file_exists(path));
    TS_CHECK_INT(count_files(dir, ".tmp"), 0);
    TS_CHECK_INT(count_files(dir, NULL), 1); /* tilesrv-version only: no file of the tile */
    ts_cache_io_stats s;
    ts_cache_io_stats_get(c, &s);
    TS_CHECK_INT(s.put_errors, 1);
    /* and it works again once there is room */
    TS_CHECK_INT(ts_cache_put(c, 1, &it, 1, &err), TS_OK);
    TS_CHECK(file_exists(path));
    ts_cache_unref(c);
    ts_tile_unref(big);
    remove_tree(dir);
}

TS_TEST(disk_corrupt_tile_is_deleted_not_served)
{
    char dir[512], path[1024];
    scratch(dir, sizeof dir, "corrupt");
    ts_cache_desc d = desc_for(1);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_TC, 0, &d, &err);
    TS_REQUIRE(c);
    ts_tile *t = make_png(64, 64, 5);
    ts_cache_item it = {2, 3, t};
    TS_REQUIRE(ts_cache_put(c, 2, &it, 1, &err) == TS_OK);
    snprintf(path, sizeof path, "%s/WebMercatorQuad/02/000/000/002/000/000/000.png", dir);
    TS_REQUIRE(file_exists(path));
    TS_REQUIRE(truncate(path, (off_t)(t->len / 2)) == 0); /* a tile cut short */
    ts_tile *g = NULL;
    TS_CHECK_INT(ts_cache_get(c, 2, 2, 3, &g, NULL, &err), TS_ENOENT);
    TS_CHECK(g == NULL);
    TS_CHECK(!file_exists(path));
    ts_cache_io_stats s;
    ts_cache_io_stats_get(c, &s);
    TS_CHECK_INT(s.corrupt, 1);
    /* an empty file (power loss without fsync) likewise */
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f);
    fclose(f);
    TS_CHECK_INT(ts_cache_get(c, 2, 2, 3, &g, NULL, &err), TS_ENOENT);
    TS_CHECK(!file_exists(path));
    ts_cache_unref(c);
    ts_tile_unref(t);
    remove_tree(dir);
}

TS_TEST(disk_version_change_makes_old_tiles_stale)
{
    char dir[512], path[1024];
    scratch(dir, sizeof dir, "version");
    ts_cache_desc d = desc_for(0x1111);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(c);
    ts_tile *t = make_png(8, 8, 0);
    ts_cache_item it = {0, 0, t};
    TS_REQUIRE(ts_cache_put(c, 0, &it, 1, &err) == TS_OK);
    ts_cache_unref(c);
    /* same version: fresh */
    c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(c);
    ts_cache_info info;
    TS_CHECK_INT(ts_cache_stat(c, 0, 0, 0, &info, &err), TS_OK);
    TS_CHECK(!info.stale);
    ts_cache_unref(c);
    /* new version: stale until rewritten */
    usleep(20000);
    d.version = 0x2222;
    c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(c);
    ts_tile *g = NULL;
    TS_CHECK_INT(ts_cache_get(c, 0, 0, 0, &g, &info, &err), TS_OK);
    TS_CHECK(info.stale);
    ts_tile_unref(g);
    usleep(20000);
    TS_REQUIRE(ts_cache_put(c, 0, &it, 1, &err) == TS_OK);
    TS_CHECK_INT(ts_cache_stat(c, 0, 0, 0, &info, &err), TS_OK);
    TS_CHECK(!info.stale);
    ts_cache_unref(c);
    /* a tool opening without a version keeps the recorded one */
    d.version = 0;
    c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(c);
    ts_cache_unref(c);
    snprintf(path, sizeof path, "%s/WebMercatorQuad/tilesrv-version", dir);
    FILE *f = fopen(path, "r");
    TS_REQUIRE(f);
    char line[256] = "";
    TS_CHECK(fread(line, 1, sizeof line - 1, f) > 0);
    fclose(f);
    TS_CHECK(strstr(line, "0000000000002222") != NULL);
    ts_tile_unref(t);
    remove_tree(dir);
}

static ino_t
inode_of(const char *dir, uint32_t x, uint32_t y, nlink_t *links)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/WebMercatorQuad/2/%u/%u.png", dir, x, y);
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (links)
        *links = st.st_nlink;
    return st.st_ino;
}

TS_TEST(disk_uniform_tiles_are_links_to_one_file_of_their_content)
{
    char dir[512];
    scratch(dir, sizeof dir, "uniform");
    ts_cache_desc d = desc_for(1);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(c);
    ts_tile *png = make_png(8, 8, 0);
    ts_tile *other = make_png(8, 8, 9);
    TS_REQUIRE(png && other);
    /* the encoder's uniform tiles are shared bytes */
    ts_tile *u = ts_tile_new_shared(png->data, png->len, 0);
    TS_REQUIRE(u);
    for (uint32_t x = 0; x < 3; x++) {
        ts_cache_item it = {x, 0, u};
        TS_REQUIRE(ts_cache_put(c, 2, &it, 1, &err) == TS_OK);
    }
    nlink_t links = 0;
    ino_t first = inode_of(dir, 0, 0, &links);
    TS_CHECK(first != 0);
    TS_CHECK(inode_of(dir, 1, 0, NULL) == first && inode_of(dir, 2, 0, NULL) == first);
    TS_CHECK_INT(links, 3);
    ts_tile *g = NULL;
    TS_REQUIRE(ts_cache_get(c, 2, 2, 0, &g, NULL, &err) == TS_OK);
    TS_CHECK(g->len == png->len && memcmp(g->data, png->data, png->len) == 0);
    ts_tile_unref(g);
    /* the remembered file replaced by other content: the next uniform tile is written,
     * not linked to what the name now holds */
    ts_cache_item it0 = {0, 0, other};
    TS_REQUIRE(ts_cache_put(c, 2, &it0, 1, &err) == TS_OK);
    ts_cache_item it3 = {3, 0, u};
    TS_REQUIRE(ts_cache_put(c, 2, &it3, 1, &err) == TS_OK);
    TS_CHECK(inode_of(dir, 3, 0, NULL) != inode_of(dir, 0, 0, NULL));
    TS_REQUIRE(ts_cache_get(c, 2, 3, 0, &g, NULL, &err) == TS_OK);
    TS_CHECK(g->len == png->len && memcmp(g->data, png->data, png->len) == 0);
    ts_tile_unref(g);
    /* the same bytes not marked uniform are a file of their own */
    ts_tile *copy = ts_tile_new(png->data, png->len, 0);
    ts_cache_item it4 = {0, 1, copy};
    TS_REQUIRE(ts_cache_put(c, 2, &it4, 1, &err) == TS_OK);
    TS_CHECK(inode_of(dir, 0, 1, &links) != inode_of(dir, 3, 0, NULL));
    TS_CHECK_INT(links, 1);
    ts_cache_unref(c);
    /* another data version never links to a file of the one before */
    usleep(20000);
    d.version = 2;
    c = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(c);
    ts_cache_item it5 = {1, 1, u};
    TS_REQUIRE(ts_cache_put(c, 2, &it5, 1, &err) == TS_OK);
    TS_CHECK(inode_of(dir, 1, 1, NULL) != inode_of(dir, 3, 0, NULL));
    ts_cache_info info;
    TS_CHECK_INT(ts_cache_stat(c, 2, 1, 1, &info, &err), TS_OK);
    TS_CHECK(!info.stale);
    TS_CHECK_INT(ts_cache_stat(c, 2, 3, 0, &info, &err), TS_OK);
    TS_CHECK(info.stale);
    ts_cache_unref(c);
    ts_tile_unref(copy);
    ts_tile_unref(u);
    ts_tile_unref(other);
    ts_tile_unref(png);
    remove_tree(dir);
}

TS_TEST(disk_truncate_by_range_and_age)
{
    static const ts_cache_layout layouts[] = {TS_CACHE_LAYOUT_XYZ, TS_CACHE_LAYOUT_TC,
                                              TS_CACHE_LAYOUT_TMS};
    ts_tile *t = make_png(8, 8, 0);
    for (int l = 0; l < 3; l++) {
        char dir[512];
        scratch(dir, sizeof dir, "trunc");
        ts_cache_desc d = desc_for(1);
        ts_err err;
        ts_err_clear(&err);
        ts_cache *c = ts_cache_disk_open(dir, layouts[l], 0, &d, &err);
        TS_REQUIRE(c);
        ts_cache_item items[64];
        for (int i = 0; i < 64; i++)
            items[i] = (ts_cache_item){(uint32_t)(i % 8), (uint32_t)(i / 8), t};
        TS_REQUIRE(ts_cache_put(c, 3, items, 64, &err) == TS_OK);
        TS_REQUIRE(ts_cache_put(c, 4, items, 64, &err) == TS_OK);
        uint64_t removed = 0;
        /* x 2..5, y 1..2 at level 3: 8 tiles */
        TS_CHECK_INT(ts_cache_truncate(c, 3, 2, 1, 5, 2, 0, &removed, &err), TS_OK);
        TS_CHECK_INT(removed, 8);
        ts_cache_info info;
        TS_CHECK_INT(ts_cache_stat(c, 3, 2, 1, &info, &err), TS_ENOENT);
        TS_CHECK_INT(ts_cache_stat(c, 3, 5, 2, &info, &err), TS_ENOENT);
        TS_CHECK_INT(ts_cache_stat(c, 3, 1, 1, &info, &err), TS_OK);
        TS_CHECK_INT(ts_cache_stat(c, 3, 2, 3, &info, &err), TS_OK);
        TS_CHECK_INT(ts_cache_stat(c, 4, 2, 1, &info, &err), TS_OK);
        /* by age: nothing is older than an hour ago, everything is older than tomorrow */
        TS_CHECK_INT(ts_cache_truncate(c, 4, 0, 0, UINT32_MAX, UINT32_MAX, time(NULL) - 3600,
                                       &removed, &err), TS_OK);
        TS_CHECK_INT(removed, 0);
        TS_CHECK_INT(ts_cache_truncate(c, 4, 0, 0, UINT32_MAX, UINT32_MAX, time(NULL) + 86400,
                                       &removed, &err), TS_OK);
        TS_CHECK_INT(removed, 64);
        TS_CHECK_INT(ts_cache_truncate(c, 3, 0, 0, UINT32_MAX, UINT32_MAX, 0, &removed, &err),
                     TS_OK);
        TS_CHECK_INT(removed, 56);
        TS_CHECK_INT(count_files(dir, ".png"), 0);
        ts_cache_unref(c);
        remove_tree(dir);
    }
    ts_tile_unref(t);
}

static sqlite3 *
open_raw(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static long long
query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    return v;
}

static void
query_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
    sqlite3_stmt *s;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            snprintf(out, size, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
}

TS_TEST(mbtiles_round_trip_with_tms_rows_metadata_and_dedupe)
{
    char path[512];
    scratch(path, sizeof path, "rt.mbtiles");
    ts_cache_desc d = desc_for(0xabcdef);
    d.attribution = "Stadt D";
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    TS_CHECK_STR(ts_cache_kind(c), "mbtiles");
    ts_tile *blank = make_png(256, 256, 0);
    ts_tile *busy = make_png(32, 32, 9);
    ts_cache_item items[64];
    for (int i = 0; i < 64; i++)
        items[i] = (ts_cache_item){(uint32_t)(i % 8), (uint32_t)(i / 8), i == 13 ? busy : blank};
    TS_CHECK_INT(ts_cache_put(c, 3, items, 64, &err), TS_OK);
    ts_tile *g = NULL;
    ts_cache_info info;
    TS_CHECK_INT(ts_cache_get(c, 3, 5, 1, &g, &info, &err), TS_OK); /* item 13 */
    TS_REQUIRE(g);
    TS_CHECK(g->len == busy->len && memcmp(g->data, busy->data, busy->len) == 0);
    TS_CHECK(!info.stale);
    ts_tile_unref(g);
    TS_CHECK_INT(ts_cache_get(c, 3, 0, 0, &g, &info, &err), TS_OK);
    TS_CHECK(g && g->etag == blank->etag);
    ts_tile_unref(g);
    TS_CHECK_INT(ts_cache_get(c, 4, 0, 0, &g, &info, &err), TS_ENOENT);

    sqlite3 *db = open_raw(path);
    TS_REQUIRE(db);
    /* y 1 at level 3 is TMS row 6 */
    TS_CHECK_INT(query_int(db, "SELECT length(tile_data) FROM tiles WHERE zoom_level = 3 AND "
                               "tile_column = 5 AND tile_row = 6"),
                 (long long)busy->len);
    TS_CHECK_INT(query_int(db, "SELECT count(*) FROM tiles"), 64);
    TS_CHECK_INT(query_int(db, "SELECT count(*) FROM images"), 2); /* 63 blanks stored once */
    char v[128];
    query_text(db, "SELECT value FROM metadata WHERE name = 'format'", v, sizeof v);
    TS_CHECK_STR(v, "png");
    query_text(db, "SELECT value FROM metadata WHERE name = 'name'", v, sizeof v);
    TS_CHECK_STR(v, "test");
    query_text(db, "SELECT value FROM metadata WHERE name = 'attribution'", v, sizeof v);
    TS_CHECK_STR(v, "Stadt D");
    query_text(db, "SELECT value FROM metadata WHERE name = 'bounds'", v, sizeof v);
    TS_CHECK(strncmp(v, "6.7000000,51.1000000,6.9000000,51.3000000", 40) == 0);
    /* minzoom and maxzoom are the zooms stored (the desc said 0..5: a cache's range can
     * reach 24, and GDAL opens no MBTiles whose maxzoom is beyond 22) */
    query_text(db, "SELECT value FROM metadata WHERE name = 'minzoom'", v, sizeof v);
    TS_CHECK_STR(v, "3");
    query_text(db, "SELECT value FROM metadata WHERE name = 'maxzoom'", v, sizeof v);
    TS_CHECK_STR(v, "3");
    query_text(db, "SELECT value FROM metadata WHERE name = 'center'", v, sizeof v);
    TS_CHECK(strlen(v) > 0);
    query_text(db, "SELECT value FROM metadata WHERE name = 'type'", v, sizeof v);
    TS_CHECK_STR(v, "baselayer");

    /* replacing the busy tile with a blank drops the busy image */
    items[13].tile = blank;
    TS_CHECK_INT(ts_cache_put(c, 3, &items[13], 1, &err), TS_OK);
    TS_CHECK_INT(query_int(db, "SELECT count(*) FROM images"), 1);
    /* delete, truncate */
    TS_CHECK_INT(ts_cache_delete(c, 3, 0, 0, &err), TS_OK);
    TS_CHECK_INT(ts_cache_stat(c, 3, 0, 0, &info, &err), TS_ENOENT);
    uint64_t removed = 0;
    TS_CHECK_INT(ts_cache_truncate(c, 3, 2, 1, 5, 2, 0, &removed, &err), TS_OK);
    TS_CHECK_INT(removed, 8);
    TS_CHECK_INT(ts_cache_stat(c, 3, 2, 1, &info, &err), TS_ENOENT);
    TS_CHECK_INT(ts_cache_stat(c, 3, 2, 3, &info, &err), TS_OK);
    TS_CHECK_INT(ts_cache_truncate(c, 3, 0, 0, UINT32_MAX, UINT32_MAX, time(NULL) - 3600,
                                   &removed, &err), TS_OK);
    TS_CHECK_INT(removed, 0);
    TS_CHECK_INT(ts_cache_truncate(c, 3, 0, 0, UINT32_MAX, UINT32_MAX, 0, &removed, &err), TS_OK);
    TS_CHECK_INT(removed, 55);
    TS_CHECK_INT(query_int(db, "SELECT count(*) FROM images"), 0);
    sqlite3_close(db);
    ts_cache_unref(c);

    /* a second open: the zooms widen as tiles are stored, bounds to what the file holds */
    c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    ts_cache_item one = {0, 0, blank};
    TS_CHECK_INT(ts_cache_put(c, 1, &one, 1, &err), TS_OK);
    TS_CHECK_INT(ts_cache_put(c, 3, &one, 1, &err), TS_OK);
    ts_cache_unref(c);
    d.minzoom = 2;
    d.maxzoom = 9;
    d.bounds[0] = 6.0;
    c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    ts_cache_unref(c);
    db = open_raw(path);
    TS_REQUIRE(db);
    query_text(db, "SELECT value FROM metadata WHERE name = 'minzoom'", v, sizeof v);
    TS_CHECK_STR(v, "1");
    query_text(db, "SELECT value FROM metadata WHERE name = 'maxzoom'", v, sizeof v);
    TS_CHECK_STR(v, "3");
    query_text(db, "SELECT value FROM metadata WHERE name = 'bounds'", v, sizeof v);
    TS_CHECK(strncmp(v, "6.0000000,51.1000000,6.9000000", 30) == 0);
    sqlite3_close(db);
    ts_tile_unref(blank);
    ts_tile_unref(busy);
    remove_tree(path);
}

TS_TEST(mbtiles_garbage_blob_is_deleted_not_served)
{
    char path[512];
    scratch(path, sizeof path, "garbage.mbtiles");
    ts_cache_desc d = desc_for(7);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    ts_tile *a = make_png(16, 16, 4), *b = make_png(16, 16, 0);
    ts_cache_item items[2] = {{0, 0, a}, {1, 0, b}};
    TS_REQUIRE(ts_cache_put(c, 1, items, 2, &err) == TS_OK);
    sqlite3 *db = open_raw(path);
    TS_REQUIRE(db);
    char sql[256], id[40];
    ts_tile_content_id(a, id, sizeof id);
    snprintf(sql, sizeof sql, "UPDATE images SET tile_data = randomblob(300) WHERE tile_id = '%s'",
             id);
    TS_REQUIRE(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    ts_tile *g = NULL;
    TS_CHECK_INT(ts_cache_get(c, 1, 0, 0, &g, NULL, &err), TS_ENOENT);
    TS_CHECK(g == NULL);
    TS_CHECK_INT(query_int(db, "SELECT count(*) FROM map"), 1);
    TS_CHECK_INT(query_int(db, "SELECT count(*) FROM images"), 1);
    TS_CHECK_INT(ts_cache_get(c, 1, 1, 0, &g, NULL, &err), TS_OK); /* the other is fine */
    ts_tile_unref(g);
    ts_cache_io_stats s;
    ts_cache_io_stats_get(c, &s);
    TS_CHECK_INT(s.corrupt, 1);
    /* expiry by age: a tile stored an hour ago is stale with expire 60 s */
    ts_cache_unref(c);
    d.expire_s = 60;
    c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    ts_cache_info info;
    TS_CHECK_INT(ts_cache_stat(c, 1, 1, 0, &info, &err), TS_OK);
    TS_CHECK(!info.stale);
    TS_REQUIRE(sqlite3_exec(db, "UPDATE map SET mtime = mtime - 3600000000000", NULL, NULL,
                            NULL) == SQLITE_OK);
    TS_CHECK_INT(ts_cache_stat(c, 1, 1, 0, &info, &err), TS_OK);
    TS_CHECK(info.stale);
    ts_cache_unref(c);
    /* another data version: stale */
    d.expire_s = 0;
    d.version = 8;
    c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    TS_CHECK_INT(ts_cache_stat(c, 1, 1, 0, &info, &err), TS_OK);
    TS_CHECK(info.stale);
    ts_cache_unref(c);
    sqlite3_close(db);
    ts_tile_unref(a);
    ts_tile_unref(b);
    remove_tree(path);
}

typedef struct mt_ctx {
    ts_cache *c;
    ts_tile *t;
    int id, errors;
} mt_ctx;

static void *
mbt_hammer(void *arg)
{
    mt_ctx *x = arg;
    ts_err err;
    for (int i = 0; i < 300; i++) {
        uint32_t tx = (uint32_t)((i * 7 + x->id) % 16), ty = (uint32_t)(i % 16);
        ts_err_clear(&err);
        if (i % 3 == 0) {
            ts_cache_item it = {tx, ty, x->t};
            if (ts_cache_put(x->c, 4, &it, 1, &err) != TS_OK)
                x->errors++;
        } else {
            ts_tile *g = NULL;
            ts_status st = ts_cache_get(x->c, 4, tx, ty, &g, NULL, &err);
            if (st != TS_OK && st != TS_ENOENT)
                x->errors++;
            if (g && !ts_cache_png_ok(g->data, g->len))
                x->errors++;
            ts_tile_unref(g);
        }
    }
    return NULL;
}

TS_TEST(mbtiles_concurrent_readers_and_writers)
{
    char path[512];
    scratch(path, sizeof path, "mt.mbtiles");
    ts_cache_desc d = desc_for(3);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    mt_ctx ctx[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        ctx[i] = (mt_ctx){c, make_png(24, 24, (uint32_t)i + 1), i, 0};
        pthread_create(&th[i], NULL, mbt_hammer, &ctx[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        TS_CHECK_INT(ctx[i].errors, 0);
        ts_tile_unref(ctx[i].t);
    }
    TS_CHECK_INT(ts_cache_sync(c, &err), TS_OK);
    ts_cache_unref(c);
    remove_tree(path);
}

/* Writes large enough to fill the WAL many times over (1,200 distinct 16 KiB tiles, ~4x
 * the checkpointer's 16 MiB trigger), while two threads read: every read is whole, the
 * checkpointer copies the WAL into the file before the cache is closed (the file grows while
 * it is open), and every tile is there after it is reopened. */
typedef struct ck_ctx {
    ts_cache *c;
    ts_tile **tiles;
    atomic_int *written; /* tiles 0 .. written-1 are stored */
    int n, errors, reads;
} ck_ctx;

static void *
ck_reader(void *arg)
{
    ck_ctx *x = arg;
    uint32_t s = 12345;
    while (atomic_load(x->written) < x->n) {
        int w = atomic_load(x->written);
        if (w == 0)
            continue;
        s = s * 1664525u + 1013904223u;
        int i = (int)((s >> 8) % (uint32_t)w);
        ts_err err;
        ts_err_clear(&err);
        ts_tile *g = NULL;
        if (ts_cache_get(x->c, 6, (uint32_t)(i % 32), (uint32_t)(i / 32), &g, NULL, &err) !=
                TS_OK ||
            g->len != x->tiles[i]->len || memcmp(g->data, x->tiles[i]->data, g->len) != 0)
            x->errors++;
        x->reads++;
        ts_tile_unref(g);
    }
    return NULL;
}

TS_TEST(mbtiles_checkpoints_in_the_background_while_writers_and_readers_go_on)
{
    enum { N = 1200, BATCH = 8 };
    char path[512];
    scratch(path, sizeof path, "ck.mbtiles");
    ts_cache_desc d = desc_for(3);
    d.maxzoom = 6;
    ts_err err;
    ts_err_clear(&err);
    ts_cache *c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    ts_tile **tiles = malloc(sizeof *tiles * N);
    for (int i = 0; i < N; i++)
        tiles[i] = make_png(64, 64, (uint32_t)i + 1);
    atomic_int written;
    atomic_init(&written, 0);
    ck_ctx rd[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        rd[i] = (ck_ctx){c, tiles, &written, N, 0, 0};
        pthread_create(&th[i], NULL, ck_reader, &rd[i]);
    }
    int put_errors = 0;
    for (int i = 0; i < N; i += BATCH) {
        ts_cache_item it[BATCH];
        for (int k = 0; k < BATCH; k++)
            it[k] = (ts_cache_item){(uint32_t)((i + k) % 32), (uint32_t)((i + k) / 32), tiles[i + k]};
        ts_err_clear(&err);
        put_errors += ts_cache_put(c, 6, it, BATCH, &err) != TS_OK;
        atomic_store(&written, i + BATCH);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        TS_CHECK_INT(rd[i].errors, 0);
    }
    TS_CHECK_INT(put_errors, 0);
    /* the checkpointer runs on its own: give it time to copy the WAL into the file */
    struct stat sb;
    long long size = 0;
    for (int tries = 0; tries < 300 && size < 16ll << 20; tries++) {
        if (stat(path, &sb) == 0)
            size = (long long)sb.st_size;
        if (size < 16ll << 20)
            usleep(20000);
    }
    TS_CHECK(size >= 16ll << 20);
    ts_cache_unref(c);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    TS_CHECK(!file_exists(wal)); /* closed: the WAL is in the file */
    c = ts_cache_mbtiles_open(path, &d, &err);
    TS_REQUIRE(c);
    int missing = 0;
    for (int i = 0; i < N; i++) {
        ts_tile *g = NULL;
        ts_err_clear(&err);
        if (ts_cache_get(c, 6, (uint32_t)(i % 32), (uint32_t)(i / 32), &g, NULL, &err) != TS_OK ||
            g->len != tiles[i]->len || memcmp(g->data, tiles[i]->data, g->len) != 0)
            missing++;
        ts_tile_unref(g);
    }
    TS_CHECK_INT(missing, 0);
    ts_cache_unref(c);
    for (int i = 0; i < N; i++)
        ts_tile_unref(tiles[i]);
    free(tiles);
    remove_tree(path);
}

TS_TEST(mbtiles_refuses_other_grids_and_foreign_files)
{
    char path[512];
    scratch(path, sizeof path, "bad.mbtiles");
    ts_grid g;
    ts_err err;
    ts_err_clear(&err);
    TS_REQUIRE(ts_grid_init_quad(&g, "UTM32Quad", "EPSG:25832", -46133.17, 6301219.54,
                                 4891.96981025128, 256, 1, 1, 18, 0, 1.0, &err) == TS_OK);
    ts_cache_desc d = desc_for(1);
    d.grid = &g;
    TS_CHECK(ts_cache_mbtiles_open(path, &d, &err) == NULL);
    TS_CHECK(strstr(err.msg, "WebMercatorQuad") != NULL);
    /* a file with a plain tiles table (another tool): refused, not rewritten */
    sqlite3 *db = open_raw(path);
    TS_REQUIRE(db);
    TS_REQUIRE(sqlite3_exec(db, "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                                "tile_row INTEGER, tile_data BLOB)",
                            NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    d = desc_for(1);
    ts_err_clear(&err);
    TS_CHECK(ts_cache_mbtiles_open(path, &d, &err) == NULL);
    TS_CHECK(strstr(err.msg, "another tool") != NULL);
    remove_tree(path);
    /* not a database at all */
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f);
    for (int i = 0; i < 100; i++)
        fputs("not sqlite ", f);
    fclose(f);
    ts_err_clear(&err);
    TS_CHECK(ts_cache_mbtiles_open(path, &d, &err) == NULL);
    TS_CHECK_INT(err.code, TS_EIO);
    TS_CHECK(strstr(err.msg, "not an SQLite file") != NULL);
    remove_tree(path);
    /* a file the server may not write (mode 0444; root may write anything, so only when
     * not root) says so, not "is it an SQLite file?" */
    if (getuid() != 0) {
        ts_err_clear(&err);
        d = desc_for(1);
        TS_REQUIRE((f = fopen(path, "w")) != NULL);
        fclose(f);
        chmod(path, 0444);
        TS_CHECK(ts_cache_mbtiles_open(path, &d, &err) == NULL);
        TS_CHECK(strstr(err.msg, "permissions") != NULL);
        remove_tree(path);
    }
}

TS_TEST(tiered_reads_through_and_promotes_fresh_tiles_only)
{
    char dir[512];
    scratch(dir, sizeof dir, "tiered");
    ts_mem_cache *m = ts_mem_cache_new(1 << 20);
    TS_REQUIRE(m);
    ts_cache *mem = ts_cache_memory_open(m, "t/WebMercatorQuad/", "@1x.png");
    ts_cache_desc d = desc_for(1);
    ts_err err;
    ts_err_clear(&err);
    ts_cache *disk = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(mem && disk);
    ts_cache *levels[2] = {mem, disk};
    ts_cache *tc = ts_cache_tiered_open(levels, 2);
    TS_REQUIRE(tc);
    TS_CHECK_STR(ts_cache_kind(tc), "tiered");
    ts_tile *t = make_png(8, 8, 0);
    ts_cache_item it = {1, 1, t};
    /* on disk only */
    TS_REQUIRE(ts_cache_put(disk, 2, &it, 1, &err) == TS_OK);
    ts_tile *g = ts_mem_cache_get(m, "t/WebMercatorQuad/2/1/1@1x.png");
    TS_CHECK(g == NULL);
    ts_cache_info info;
    TS_CHECK_INT(ts_cache_get(tc, 2, 1, 1, &g, &info, &err), TS_OK);
    TS_CHECK(g && !info.stale);
    ts_tile_unref(g);
    g = ts_mem_cache_get(m, "t/WebMercatorQuad/2/1/1@1x.png"); /* promoted */
    TS_CHECK(g != NULL);
    ts_tile_unref(g);
    /* write-through */
    it.x = 2;
    TS_CHECK_INT(ts_cache_put(tc, 2, &it, 1, &err), TS_OK);
    TS_CHECK_INT(ts_cache_stat(disk, 2, 2, 1, &info, &err), TS_OK);
    TS_CHECK_INT(ts_cache_stat(mem, 2, 2, 1, &info, &err), TS_OK);
    ts_cache_unref(tc);
    ts_cache_unref(disk);
    /* a new version: the disk tile is stale and is not promoted */
    ts_mem_cache_drop_prefix(m, "t/");
    usleep(20000);
    d.version = 2;
    disk = ts_cache_disk_open(dir, TS_CACHE_LAYOUT_XYZ, 0, &d, &err);
    TS_REQUIRE(disk);
    levels[1] = disk;
    tc = ts_cache_tiered_open(levels, 2);
    TS_REQUIRE(tc);
    TS_CHECK_INT(ts_cache_get(tc, 2, 1, 1, &g, &info, &err), TS_OK);
    TS_CHECK(g && info.stale);
    ts_tile_unref(g);
    g = ts_mem_cache_get(m, "t/WebMercatorQuad/2/1/1@1x.png");
    TS_CHECK(g == NULL);
    ts_cache_io_stats s;
    ts_cache_io_stats_get(tc, &s);
    TS_CHECK(s.stale >= 1);
    ts_cache_unref(tc);
    ts_cache_unref(disk);
    ts_cache_unref(mem);
    ts_mem_cache_free(m);
    ts_tile_unref(t);
    remove_tree(dir);
}

/* ---- Redis: value format, URL, behaviour with no server --------------------------------- */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cache/cache_int.h"
#include "util/clock.h"

TS_TEST(redis_value_header_round_trip_and_damage_detected)
{
    ts_tile *t = make_png(16, 16, 3);
    TS_REQUIRE(t);
    size_t n = TS_CACHE_REDIS_HDR + t->len;
    uint8_t *v = malloc(n);
    TS_REQUIRE(v);
    ts_cache__redis_value_encode(v, t->data, t->len, 1234567890123456789ll, 0xfeedfacecafebeefull);
    memcpy(v + TS_CACHE_REDIS_HDR, t->data, t->len);
    int64_t mt = 0;
    uint64_t ver = 0;
    TS_CHECK_INT(ts_cache__redis_value_decode(v, n, 1, &mt, &ver), 0);
    TS_CHECK(mt == 1234567890123456789ll);
    TS_CHECK(ver == 0xfeedfacecafebeefull);
    /* the header alone (GETRANGE) is enough without the data check */
    TS_CHECK_INT(ts_cache__redis_value_decode(v, TS_CACHE_REDIS_HDR, 0, &mt, &ver), 0);
    TS_CHECK_INT(ts_cache__redis_value_decode(v, TS_CACHE_REDIS_HDR, 1, &mt, &ver), -1);
    /* cut anywhere, one byte flipped anywhere, bad magic: refused */
    for (size_t cut = 0; cut < n; cut += 7)
        TS_CHECK_INT(ts_cache__redis_value_decode(v, cut, 1, &mt, &ver), -1);
    for (size_t i = 0; i < n; i++) {
        if (i >= 8 && i < 24)
            continue; /* mtime and version: any value is valid */
        v[i] ^= 0x20;
        TS_CHECK_INT(ts_cache__redis_value_decode(v, n, 1, &mt, &ver), -1);
        v[i] ^= 0x20;
    }
    /* longer than announced (garbage appended): refused */
    uint8_t *w = malloc(n + 3);
    TS_REQUIRE(w);
    memcpy(w, v, n);
    memcpy(w + n, "xyz", 3);
    TS_CHECK_INT(ts_cache__redis_value_decode(w, n + 3, 1, &mt, &ver), -1);
    free(w);
    free(v);
    ts_tile_unref(t);
}

TS_TEST(redis_url_parse)
{
    char host[64], user[32], pw[32];
    int port, db;
    TS_CHECK_INT(ts_redis_url_parse("redis://127.0.0.1:6380/3", host, sizeof host, &port,
                                          &db, user, sizeof user, pw, sizeof pw), 0);
    TS_CHECK_STR(host, "127.0.0.1");
    TS_CHECK_INT(port, 6380);
    TS_CHECK_INT(db, 3);
    TS_CHECK_STR(pw, "");
    TS_CHECK_INT(ts_redis_url_parse("redis://cache.example", host, sizeof host, &port, &db,
                                          user, sizeof user, pw, sizeof pw), 0);
    TS_CHECK_STR(host, "cache.example");
    TS_CHECK_INT(port, 6379);
    TS_CHECK_INT(db, 0);
    TS_CHECK_INT(ts_redis_url_parse("redis://:p%40ss%3Aw@h:1/0", host, sizeof host, &port,
                                          &db, user, sizeof user, pw, sizeof pw), 0);
    TS_CHECK_STR(user, "");
    TS_CHECK_STR(pw, "p@ss:w");
    TS_CHECK_STR(host, "h");
    TS_CHECK_INT(ts_redis_url_parse("redis://tiles:pw@h/2", host, sizeof host, &port, &db,
                                          user, sizeof user, pw, sizeof pw), 0);
    TS_CHECK_STR(user, "tiles");
    TS_CHECK_STR(pw, "pw");
    TS_CHECK_INT(db, 2);
    static const char *const bad[] = {"http://h", "redis://", "redis://:6379", "redis://h:0",
                                      "redis://h:99999", "redis://h:12x", "redis://h/x",
                                      "redis://user@h", "redis://:pw%4@h", "redis://:p%zz@h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TS_CHECK_INT(ts_redis_url_parse(bad[i], host, sizeof host, &port, &db, user,
                                              sizeof user, pw, sizeof pw), -1);
}

/* A loopback port nobody listens on. */
static int
closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    close(s);
    return ntohs(a.sin_port);
}

TS_TEST(redis_down_reports_errors_at_once_and_never_blocks)
{
    int port = closed_port();
    TS_REQUIRE(port > 0);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    ts_cache_redis_opts o = {url, "unit:", 0, 5, 500};
    ts_cache_desc d = desc_for(1);
    ts_err err;
    ts_cache *c = ts_cache_redis_open(&o, &d, &err);
    TS_REQUIRE(c); /* opening does not need the server */
    TS_CHECK_STR(ts_cache_kind(c), "redis");
    TS_CHECK_INT(ts_cache_lock_ms(c), 5000);
    ts_tile *t = make_png(8, 8, 1), *g = NULL;
    TS_REQUIRE(t);
    ts_cache_item it = {1, 1, t};
    uint64_t t0 = ts_mono_ns();
    for (int i = 0; i < 20; i++) {
        TS_CHECK_INT(ts_cache_get(c, 2, 1, 1, &g, NULL, &err), TS_EIO);
        TS_CHECK(g == NULL);
        TS_CHECK_INT(ts_cache_put(c, 2, &it, 1, &err), TS_EIO);
        char token[128];
        TS_CHECK_INT(ts_cache_lock(c, "m", token, sizeof token, &err), TS_EIO);
    }
    TS_CHECK(strstr(err.msg, "Redis 127.0.0.1:") != NULL);
    /* 60 calls: one connect attempt, the others fail at once */
    TS_CHECK((ts_mono_ns() - t0) < 2000000000ull);
    ts_cache_io_stats s;
    ts_cache_io_stats_get(c, &s);
    TS_CHECK_INT(s.read_errors, 20);
    TS_CHECK_INT(s.put_errors, 20);
    /* a back-end without a lock says so */
    ts_mem_cache *m = ts_mem_cache_new(1 << 20);
    ts_cache *mem = ts_cache_memory_open(m, "t/", ".png");
    TS_REQUIRE(mem);
    char token[128];
    TS_CHECK_INT(ts_cache_lock_ms(mem), 0);
    TS_CHECK_INT(ts_cache_lock(mem, "m", token, sizeof token, &err), TS_EINVAL);
    ts_cache_unref(mem);
    ts_mem_cache_free(m);
    /* a malformed URL is refused at open */
    o.url = "redis://h:notaport";
    TS_CHECK(ts_cache_redis_open(&o, &d, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ECONFIG);
    ts_cache_unref(c);
    ts_tile_unref(t);
}
