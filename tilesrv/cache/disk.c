/* cache/disk.c — one file per tile under a directory, in the xyz, MapProxy `tc` or `tms`
 * layout.
 *
 * Writes go to an unnamed file in the tile's own directory (Linux O_TMPFILE) that is linked
 * under the tile's name once written: a reader sees the tile whole or not at all, and a
 * write cut short (an error, a full disk, a kill -9) leaves nothing behind. A tile that
 * exists already is replaced by linking the new file under a temporary name and renaming
 * that over it: rename(2) within a directory is atomic, so a reader sees the old tile or
 * the new one. Where O_TMPFILE or /proc/self/fd is missing (another kernel or file system,
 * a chroot) every write goes through a hidden temporary file (".<name>.<pid>.<n>.tmp")
 * renamed over the final name. (O_TMPFILE + link: ~30 % less kernel time per new file
 * than create + rename on ext4, measured.) fsync before the link or rename is optional
 * (config `fsync`): without it a power failure may leave an empty or cut file, which the
 * PNG check on read finds and deletes. On any write error the temporary file is removed.
 *
 * Uniform tiles (blank, or one colour: the encoder's shared tiles) are stored as hard links
 * to one file of that content written in the last LINK_WINDOW_S seconds of this data
 * version, so the thousands of blank tiles of a seed take one inode and one block: link(2)
 * of the remembered file to the temporary name, checked to be the remembered inode (a
 * file is never changed in place, so the same inode is the same bytes; a tile re-rendered
 * since then under that name is another inode and is not linked), then the same rename.
 * A linked tile carries the mtime of that file: at most LINK_WINDOW_S older than it is.
 *
 * Versions: <root>/tilesrv-version records the tileset's data version; it is rewritten
 * when the version changes, and its modification time says since when the version holds.
 * A tile file modified before that time belongs to an older version and is stale. */
#define _GNU_SOURCE /* O_TMPFILE */
#include "cache/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_int.h"
#include "util/log.h"

#define MAX_TILE_BYTES ((off_t)64 << 20)
#define STALE_TMP_S 600 /* temporary files older than this are leftovers of a crash */
#define LINK_WINDOW_S 10 /* a uniform tile is linked to a file of its content this recent */
#define LINK_SLOTS 8     /* distinct uniform contents remembered */

/* The last file written with one uniform tile's content. */
typedef struct link_ref {
    uint64_t etag;             /* 0: free slot */
    dev_t dev;
    ino_t ino;
    int64_t mtime_ns;
    char path[PATH_MAX];
} link_ref;

typedef struct disk {
    ts_cache base;
    char root[PATH_MAX - 96];  /* dir/<grid>[@2x]; room left for the tile's path */
    ts_cache_layout layout;
    int do_fsync;
    int64_t since_ns;          /* files older than this are of an older version; 0 = none */
    atomic_uint seq;           /* temporary file names */
    atomic_int tmpfile;        /* O_TMPFILE writes: 0 try, -1 do not work here */
    pthread_mutex_t link_mu;   /* refs */
    link_ref refs[LINK_SLOTS];
    unsigned next_ref;         /* slot to reuse next */
} disk;

/* ---- paths ------------------------------------------------------------------------------ */

static void
level_dir(const disk *d, int z, char *buf, size_t size)
{
    if (d->layout == TS_CACHE_LAYOUT_TC)
        snprintf(buf, size, "%s/%02d", d->root, z);
    else
        snprintf(buf, size, "%s/%d", d->root, z);
}

static int
tile_path(const disk *d, int z, uint32_t x, uint32_t y, char *buf, size_t size)
{
    const char *ext = d->base.format;
    int n;
    switch (d->layout) {
    case TS_CACHE_LAYOUT_TC: {
        uint32_t fy = ts_cache__flip_y(&d->base, z, y);
        n = snprintf(buf, size, "%s/%02d/%03u/%03u/%03u/%03u/%03u/%03u.%s", d->root, z,
                     x / 1000000, x / 1000 % 1000, x % 1000, fy / 1000000, fy / 1000 % 1000,
                     fy % 1000, ext);
        break;
    }
    case TS_CACHE_LAYOUT_TMS:
        n = snprintf(buf, size, "%s/%d/%u/%u.%s", d->root, z, x, ts_cache__flip_y(&d->base, z, y),
                     ext);
        break;
    default:
        n = snprintf(buf, size, "%s/%d/%u/%u.%s", d->root, z, x, y, ext);
        break;
    }
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static int64_t
mtime_ns(const struct stat *st)
{
    /* saturated: a file can carry any time stamp (year 3000, or before 1678) */
    if (st->st_mtim.tv_sec >= INT64_MAX / 1000000000)
        return INT64_MAX;
    if (st->st_mtim.tv_sec <= INT64_MIN / 1000000000)
        return INT64_MIN;
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* ---- versions --------------------------------------------------------------------------- */

/* Write all of n bytes to fd. 0 or -1 with errno. */
static int
write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write path through a temporary file and rename; fsync'ed (a small file, once per open). */
static ts_status
write_file_atomic(const char *path, const char *text, ts_err *err)
{
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return TS_CACHE_ERRNO(err, errno, "cannot create %s", tmp);
    if (write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return TS_CACHE_ERRNO(err, e, "cannot write %s", tmp);
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return TS_CACHE_ERRNO(err, e, "cannot write %s", path);
    }
    return TS_OK;
}

/* The version a version file records; 0 when it is missing or unreadable. */
static unsigned long long
read_version_file(const char *path)
{
    unsigned long long have = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "tilesrv-version 1 version %llx", &have) != 1)
            have = 0;
        fclose(f);
    }
    return have;
}

static ts_status
load_version(disk *d, ts_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tilesrv-version", d->root);
    unsigned long long have = read_version_file(path);
    if (d->base.version != 0 && have != d->base.version) {
        /* A new data version: everything stored before now is stale. */
        char text[160];
        snprintf(text, sizeof text, "tilesrv-version 1\nversion %016llx\n",
                 (unsigned long long)d->base.version);
        TS_TRY(write_file_atomic(path, text, err));
    }
    /* The version holds since the file was written, by the file system's own clock (the
     * coarse one that stamps tile files too, which can lag the precise wall clock). */
    struct stat st;
    d->since_ns = stat(path, &st) == 0 ? mtime_ns(&st) : 0;
    return TS_OK;
}

/* ---- ops -------------------------------------------------------------------------------- */

static ts_status
disk_get(ts_cache *c, int z, uint32_t x, uint32_t y, ts_tile **out, ts_cache_entry *e, ts_err *err)
{
    disk *d = (disk *)c;
    char path[PATH_MAX];
    if (tile_path(d, z, x, y, path, sizeof path) != 0)
        return TS_FAIL(err, TS_EINVAL, "tile path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return TS_FAIL(err, TS_ENOENT, "%s: not cached", path);
        return TS_CACHE_ERRNO(err, errno, "cannot open %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int en = errno;
        close(fd);
        return TS_CACHE_ERRNO(err, en, "cannot stat %s", path);
    }
    if (st.st_size > MAX_TILE_BYTES) {
        close(fd);
        return TS_FAIL(err, TS_EIO, "%s: %lld bytes is too large for a tile", path,
                       (long long)st.st_size);
    }
    ts_tile *t = ts_cache__tile_alloc((size_t)st.st_size, mtime_ns(&st) / 1000000000);
    if (t == NULL) {
        close(fd);
        return TS_FAIL(err, TS_ENOMEM, "tile %s", path);
    }
    size_t got = 0;
    while (got < t->len) {
        ssize_t r = read(fd, t->own + got, t->len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int en = errno;
            close(fd);
            ts_tile_unref(t);
            return TS_CACHE_ERRNO(err, en, "cannot read %s", path);
        }
        if (r == 0)
            break; /* shorter than when stat'ed: the PNG check will say so */
        got += (size_t)r;
    }
    close(fd);
    t->len = got;
    ts_cache__tile_seal(t);
    e->mtime_ns = mtime_ns(&st);
    e->version_ok = d->since_ns == 0 || e->mtime_ns >= d->since_ns;
    *out = t;
    return TS_OK;
}

static ts_status
disk_stat(ts_cache *c, int z, uint32_t x, uint32_t y, ts_cache_entry *e, ts_err *err)
{
    disk *d = (disk *)c;
    char path[PATH_MAX];
    if (tile_path(d, z, x, y, path, sizeof path) != 0)
        return TS_FAIL(err, TS_EINVAL, "tile path too long");
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return TS_FAIL(err, TS_ENOENT, "%s: not cached", path);
        return TS_CACHE_ERRNO(err, errno, "cannot stat %s", path);
    }
    e->mtime_ns = mtime_ns(&st);
    e->version_ok = d->since_ns == 0 || e->mtime_ns >= d->since_ns;
    return TS_OK;
}

/* For a uniform tile: tmp (in directory dir, created when missing) made a hard link to a
 * recent file of the same content. 1 when done, 0 when the tile must be written (no such
 * file, too old, of an older version, gone or replaced since, too many links). */
static int
link_uniform(disk *d, const ts_tile *t, const char *dir, const char *tmp)
{
    char src[PATH_MAX];
    dev_t dev = 0;
    ino_t ino = 0;
    int found = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    pthread_mutex_lock(&d->link_mu);
    for (int i = 0; i < LINK_SLOTS && !found; i++) {
        link_ref *r = &d->refs[i];
        if (r->etag == t->etag && r->mtime_ns >= d->since_ns &&
            now_ns - r->mtime_ns < (int64_t)LINK_WINDOW_S * 1000000000) {
            memcpy(src, r->path, sizeof src);
            dev = r->dev;
            ino = r->ino;
            found = 1;
        }
    }
    pthread_mutex_unlock(&d->link_mu);
    if (!found)
        return 0;
    if (link(src, tmp) != 0 &&
        (errno != ENOENT || ts_cache__make_dirs(dir) != 0 || link(src, tmp) != 0))
        return 0;
    struct stat st;
    if (stat(tmp, &st) != 0 || st.st_dev != dev || st.st_ino != ino) {
        unlink(tmp);
        return 0;
    }
    return 1;
}

/* Remember path (just written with uniform tile t) as the file later copies link to. */
static void
remember_uniform(disk *d, const ts_tile *t, const char *path)
{
    struct stat st;
    if (strlen(path) >= PATH_MAX || stat(path, &st) != 0)
        return;
    pthread_mutex_lock(&d->link_mu);
    link_ref *r = NULL;
    for (int i = 0; i < LINK_SLOTS && r == NULL; i++)
        if (d->refs[i].etag == t->etag)
            r = &d->refs[i];
    if (r == NULL)
        r = &d->refs[d->next_ref++ % LINK_SLOTS];
    r->etag = t->etag;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    r->mtime_ns = mtime_ns(&st);
    memcpy(r->path, path, strlen(path) + 1);
    pthread_mutex_unlock(&d->link_mu);
}

/* Write a tile through an unnamed file in directory dir, then link it as path (through tmp
 * and a rename when path exists). 1: written; 0: O_TMPFILE does not work here (nothing
 * done: write the other way); -1: failed, errno set, nothing left behind. */
static int
put_unnamed(disk *d, const char *dir, const char *path, const char *tmp, const ts_tile *t)
{
#ifdef O_TMPFILE
    if (atomic_load(&d->tmpfile) < 0)
        return 0;
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        if (ts_cache__make_dirs(dir) != 0)
            return -1;
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
            atomic_store(&d->tmpfile, -1); /* the kernel or the file system has none */
            return 0;
        }
        return -1;
    }
    if (write_all(fd, t->data, t->len) != 0 || (d->do_fsync && fsync(fd) != 0)) {
        int e = errno;
        close(fd); /* an unnamed file is gone with its last descriptor */
        errno = e;
        return -1;
    }
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int rc = linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
    if (rc != 0 && errno == EEXIST) { /* replace the tile there: link aside, rename over */
        rc = linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW);
        if (rc == 0 && rename(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            close(fd);
            errno = e;
            return -1;
        }
    }
    int e = errno;
    close(fd);
    if (rc != 0 && e == ENOENT && access("/proc/self/fd", X_OK) != 0) {
        atomic_store(&d->tmpfile, -1); /* no /proc (a chroot): nothing was linked */
        return 0;
    }
    errno = e;
    return rc == 0 ? 1 : -1;
#else
    (void)d, (void)dir, (void)path, (void)tmp, (void)t;
    return 0;
#endif
}

/* Write a tile to the temporary file tmp in directory dir, then rename it over path. */
static ts_status
put_renamed(disk *d, int z, const ts_cache_item *it, const char *dir, const char *path,
            const char *tmp, ts_err *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        if (ts_cache__make_dirs(dir) != 0)
            return TS_CACHE_ERRNO(err, errno, "cannot create directory %s", dir);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (fd < 0)
        return TS_CACHE_ERRNO(err, errno, "cannot create %s", tmp);
    int bad = write_all(fd, it->tile->data, it->tile->len) != 0 ||
              (d->do_fsync && fsync(fd) != 0);
    int e = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return TS_CACHE_ERRNO(err, e, "cannot write tile %d/%u/%u to %s", z, it->x, it->y, path);
    }
    return TS_OK;
}

/* Write one tile: a link to a file of its content (uniform tiles), an unnamed file linked
 * in, or a temporary file renamed. */
static ts_status
put_one(disk *d, int z, const ts_cache_item *it, ts_err *err)
{
    char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 64];
    if (tile_path(d, z, it->x, it->y, path, sizeof path) != 0)
        return TS_FAIL(err, TS_EINVAL, "tile path too long");
    const char *name = strrchr(path, '/') + 1;
    size_t dl = (size_t)(name - 1 - path);
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.%u.tmp", dir, name, (long)getpid(),
             atomic_fetch_add(&d->seq, 1));
    int uniform = it->tile->shared && !d->do_fsync;
    if (uniform && link_uniform(d, it->tile, dir, tmp)) {
        if (rename(tmp, path) == 0)
            return TS_OK;
        int e = errno;
        unlink(tmp);
        return TS_CACHE_ERRNO(err, e, "cannot write tile %d/%u/%u to %s", z, it->x, it->y, path);
    }
    int done = put_unnamed(d, dir, path, tmp, it->tile);
    if (done < 0)
        return TS_CACHE_ERRNO(err, errno, "cannot write tile %d/%u/%u to %s", z, it->x, it->y,
                              path);
    if (done == 0)
        TS_TRY(put_renamed(d, z, it, dir, path, tmp, err));
    if (uniform)
        remember_uniform(d, it->tile, path);
    return TS_OK;
}

/* TS_OK when the version file still holds this cache's version: a tile written now is of
 * the version it says. Another process (a reloaded server, a seed) with other data or
 * styles may have rewritten it since this one read it; tiles this one wrote after that
 * would be newer than the file and count as fresh for good, while made of last week's
 * data. So it writes none (TS_EIO, with the reason), until it is reloaded or run again.
 * One stat per call (a metatile's tiles). */
static ts_status
check_version(disk *d, ts_err *err)
{
    if (d->base.version == 0 || d->since_ns == 0)
        return TS_OK;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tilesrv-version", d->root);
    struct stat st;
    if (stat(path, &st) != 0 || mtime_ns(&st) == d->since_ns)
        return TS_OK; /* unchanged (gone: a truncate of everything; nothing to protect) */
    unsigned long long have = read_version_file(path);
    if (have == 0 || have == d->base.version)
        return TS_OK;
    return TS_FAIL(err, TS_EIO,
                   "%s now says data version %016llx, this process has %016llx: another "
                   "process with other data or styles (a reloaded server, a newer seed) has "
                   "taken over the cache, and tiles written from here would pass for its "
                   "version; none are written (reload the server, or run the seed again)",
                   path, have, (unsigned long long)d->base.version);
}

static ts_status
disk_put(ts_cache *c, int z, const ts_cache_item *items, int n, ts_err *err)
{
    disk *d = (disk *)c;
    TS_TRY(check_version(d, err));
    ts_status st = TS_OK;
    int i = 0;
    for (; i < n && st == TS_OK; i++)
        st = put_one(d, z, &items[i], err);
    /* and after: a version file another process wrote while these were written (its
     * reload in the same milliseconds) is older than some of them, which would pass for
     * its version. They are taken back. A version file written after this look is newer
     * than every one of them, which are then stale, as they should be. */
    ts_err verr;
    ts_err_clear(&verr);
    if (check_version(d, &verr) != TS_OK) {
        for (int k = 0; k < i; k++) {
            char path[PATH_MAX];
            if (tile_path(d, z, items[k].x, items[k].y, path, sizeof path) == 0)
                unlink(path);
        }
        if (err != NULL)
            *err = verr;
        return verr.code;
    }
    return st;
}

static ts_status
disk_del(ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err)
{
    disk *d = (disk *)c;
    char path[PATH_MAX];
    if (tile_path(d, z, x, y, path, sizeof path) != 0)
        return TS_FAIL(err, TS_EINVAL, "tile path too long");
    if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR)
        return TS_CACHE_ERRNO(err, errno, "cannot delete %s", path);
    return TS_OK;
}

/* ---- truncate: a walk of the level's tree, pruned by the range -------------------------- */

typedef struct comp {
    int axis;                  /* 0 = x, 1 = y */
    uint64_t mult;             /* value of one unit of this path component */
} comp;

static const comp comps_xyz[] = {{0, 1}, {1, 1}};
static const comp comps_tc[] = {{0, 1000000}, {0, 1000}, {0, 1}, {1, 1000000}, {1, 1000}, {1, 1}};

typedef struct walk {
    const disk *d;
    const comp *comps;
    int ncomps;
    uint64_t lo[2], hi[2];     /* range in stored coordinates */
    int64_t older_than;
    int64_t now_s;
    uint64_t removed;
    int err_no;                /* first error, 0 = none */
    char err_path[PATH_MAX];
} walk;

/* The leading digits of name as a number; *rest points after them. -1 if none. */
static int64_t
parse_num(const char *name, const char **rest)
{
    if (*name < '0' || *name > '9')
        return -1;
    int64_t v = 0;
    while (*name >= '0' && *name <= '9' && v < ((int64_t)1 << 40))
        v = v * 10 + (*name++ - '0');
    *rest = name;
    return v;
}

/* Walk the directory at path (not a symbolic link: a link planted in the cache, as a
 * level or a column, must not make a truncate, perhaps run as root, delete the tiles of
 * another tree). */
static void
walk_dir(walk *w, char *path, size_t plen, int depth, uint64_t acc0, uint64_t acc1)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (e == ELOOP || e == ENOTDIR) {
            ts_warn("truncate: %s is a symbolic link or not a directory: not followed", path);
            return;
        }
        errno = e;
        if (errno != ENOENT && w->err_no == 0) {
            w->err_no = errno;
            snprintf(w->err_path, sizeof w->err_path, "%s", path);
        }
        return;
    }
    const comp *cp = &w->comps[depth];
    int last = depth == w->ncomps - 1;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.') {
            /* A temporary file left by a killed writer: remove it once it is old. */
            size_t nl = strlen(name);
            if (nl > 5 && strcmp(name + nl - 4, ".tmp") == 0) {
                struct stat st;
                snprintf(path + plen, PATH_MAX - plen, "/%s", name);
                if (lstat(path, &st) == 0 && w->now_s - st.st_mtim.tv_sec > STALE_TMP_S)
                    unlink(path);
                path[plen] = '\0';
            }
            continue;
        }
        const char *rest;
        int64_t v = parse_num(name, &rest);
        if (v < 0)
            continue;
        uint64_t acc[2] = {acc0, acc1};
        acc[cp->axis] += (uint64_t)v * cp->mult;
        uint64_t lo = acc[cp->axis], hi = lo + cp->mult - 1;
        if (hi < w->lo[cp->axis] || lo > w->hi[cp->axis])
            continue;
        if (snprintf(path + plen, PATH_MAX - plen, "/%s", name) >= (int)(PATH_MAX - plen))
            continue;
        size_t nplen = plen + 1 + strlen(name);
        if (last) {
            if (rest[0] != '.' || strcmp(rest + 1, w->d->base.format) != 0) {
                path[plen] = '\0';
                continue;
            }
            struct stat st;
            int gone = 0, tried = 0;
            if (w->older_than > 0) {
                if (lstat(path, &st) == 0 && st.st_mtim.tv_sec < w->older_than)
                    tried = 1, gone = unlink(path) == 0;
            } else {
                tried = 1, gone = unlink(path) == 0;
            }
            if (gone) {
                w->removed++;
            } else if (tried && errno != ENOENT && w->err_no == 0) {
                /* not removable (permissions): said, not a silent "0 tiles removed" */
                w->err_no = errno;
                snprintf(w->err_path, sizeof w->err_path, "%s", path);
            }
        } else if (rest[0] == '\0') {
            walk_dir(w, path, nplen, depth + 1, acc[0], acc[1]);
            rmdir(path); /* only succeeds when the walk emptied it */
        }
        path[plen] = '\0';
    }
    closedir(dir);
}

static ts_status
disk_truncate(ts_cache *c, int z, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
              int64_t older_than, uint64_t *removed, ts_err *err)
{
    disk *d = (disk *)c;
    walk w;
    memset(&w, 0, sizeof w);
    w.d = d;
    w.older_than = older_than;
    w.now_s = ts_cache__now_ns() / 1000000000;
    if (d->layout == TS_CACHE_LAYOUT_TC) {
        w.comps = comps_tc;
        w.ncomps = 6;
    } else {
        w.comps = comps_xyz;
        w.ncomps = 2;
    }
    w.lo[0] = x0;
    w.hi[0] = x1;
    if (d->layout == TS_CACHE_LAYOUT_XYZ) {
        w.lo[1] = y0;
        w.hi[1] = y1;
    } else {
        w.lo[1] = ts_cache__flip_y(c, z, y1);
        w.hi[1] = ts_cache__flip_y(c, z, y0);
    }
    char path[PATH_MAX];
    level_dir(d, z, path, sizeof path);
    walk_dir(&w, path, strlen(path), 0, 0, 0);
    rmdir(path);
    *removed = w.removed;
    if (w.err_no != 0)
        return TS_CACHE_ERRNO(err, w.err_no, "truncate: cannot read or remove %s (%llu tiles "
                              "removed)", w.err_path, (unsigned long long)w.removed);
    return TS_OK;
}

static void
disk_close(ts_cache *c)
{
    pthread_mutex_destroy(&((disk *)c)->link_mu);
    free(c);
}

static const ts_cache_ops disk_ops = {
    .kind = "disk",
    .get = disk_get,
    .stat = disk_stat,
    .put = disk_put,
    .del = disk_del,
    .truncate = disk_truncate,
    .close = disk_close,
    .checks_png = 1,
};

ts_cache *
ts_cache_disk_open(const char *dir, ts_cache_layout layout, int do_fsync, const ts_cache_desc *desc,
                   ts_err *err)
{
    if (desc == NULL || desc->grid == NULL) {
        TS_FAIL(err, TS_EINVAL, "disk cache %s: no grid given", dir);
        return NULL;
    }
    disk *d = calloc(1, sizeof *d);
    if (d == NULL) {
        TS_FAIL(err, TS_ENOMEM, "disk cache");
        return NULL;
    }
    ts_cache__init(&d->base, &disk_ops, desc);
    d->layout = layout;
    d->do_fsync = do_fsync;
    atomic_init(&d->seq, 0);
    /* TS_CACHE_NO_TMPFILE=1: always the temporary file and rename (the tests run both) */
    const char *no_tmpfile = getenv("TS_CACHE_NO_TMPFILE");
    atomic_init(&d->tmpfile, no_tmpfile && *no_tmpfile && *no_tmpfile != '0' ? -1 : 0);
    pthread_mutex_init(&d->link_mu, NULL);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    int n = snprintf(d->root, sizeof d->root, "%.*s/%s%s", (int)dl, dir, desc->grid->name,
                     d->base.scale == 2 ? "@2x" : "");
    if (n < 0 || (size_t)n >= sizeof d->root) {
        TS_FAIL(err, TS_EINVAL, "disk cache path too long: %s", dir);
        disk_close(&d->base);
        return NULL;
    }
    if (ts_cache__make_dirs(d->root) != 0) {
        TS_CACHE_ERRNO(err, errno, "disk cache: cannot create %s", d->root);
        disk_close(&d->base);
        return NULL;
    }
    if (access(d->root, W_OK) != 0 && desc->version != 0) {
        TS_CACHE_ERRNO(err, errno, "disk cache: cannot write to %s", d->root);
        disk_close(&d->base);
        return NULL;
    }
    if (load_version(d, err) != TS_OK) {
        disk_close(&d->base);
        return NULL;
    }
    return &d->base;
}
