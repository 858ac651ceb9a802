/* seed/state.c — the progress file of a seed: a few "key value" lines, replaced atomically
 * (temporary file in the same directory, fsync, rename), so a kill at any moment leaves
 * either the previous or the new state, never a mix. */
#include "seed/seed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seed/seed_int.h"

static ts_status
errno_fail(ts_err *err, int e, const char *what, const char *path)
{
    char et[128];
    if (strerror_r(e, et, sizeof et) != 0)
        snprintf(et, sizeof et, "error %d", e);
    return TS_FAIL(err, TS_EIO, "%s %s: %s", what, path, et);
}

ts_status
ts_seed__state_save(const char *path, const ts_seed_state *st, ts_err *err)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "tilesrv-seed-progress 1\n"
                     "fingerprint %016llx\n"
                     "tileset %s\n"
                     "zooms %d %d\n"
                     "at %d %llu\n"
                     "rendered %llu\n"
                     "skipped %llu\n"
                     "failed %llu\n"
                     "bytes %llu\n"
                     "total %llu\n"
                     "force %d\n"
                     "status %s\n",
                     (unsigned long long)st->fingerprint, st->tileset, st->minz, st->maxz, st->z,
                     (unsigned long long)st->d, (unsigned long long)st->rendered,
                     (unsigned long long)st->skipped, (unsigned long long)st->failed,
                     (unsigned long long)st->bytes, (unsigned long long)st->total, st->force,
                     st->status[0] ? st->status : "running");
    /* a new file of a random name (O_EXCL): a link planted under a guessable name in a
     * shared directory cannot make the seed write over another file */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return errno_fail(err, errno, "cannot create", tmp);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)fchmod(fd, 0644);
    const char *p = text;
    size_t left = (size_t)n;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return errno_fail(err, e, "cannot write", tmp);
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return errno_fail(err, e, "cannot write", tmp);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return errno_fail(err, e, "cannot replace", path);
    }
    return TS_OK;
}

ts_status
ts_seed__state_load(const char *path, ts_seed_state *st, ts_err *err)
{
    memset(st, 0, sizeof *st);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return TS_FAIL(err, TS_ENOENT, "%s does not exist", path);
        return errno_fail(err, errno, "cannot read", path);
    }
    char line[256];
    int version = 0, have_at = 0, have_fp = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long a, b;
        int i, j;
        char word[64];
        if (sscanf(line, "tilesrv-seed-progress %d", &i) == 1)
            version = i;
        else if (sscanf(line, "fingerprint %llx", &a) == 1)
            st->fingerprint = a, have_fp = 1;
        else if (sscanf(line, "tileset %63s", word) == 1)
            snprintf(st->tileset, sizeof st->tileset, "%s", word);
        else if (sscanf(line, "zooms %d %d", &i, &j) == 2)
            st->minz = i, st->maxz = j;
        else if (sscanf(line, "at %d %llu", &i, &b) == 2)
            st->z = i, st->d = b, have_at = 1;
        else if (sscanf(line, "rendered %llu", &a) == 1)
            st->rendered = a;
        else if (sscanf(line, "skipped %llu", &a) == 1)
            st->skipped = a;
        else if (sscanf(line, "failed %llu", &a) == 1)
            st->failed = a;
        else if (sscanf(line, "bytes %llu", &a) == 1)
            st->bytes = a;
        else if (sscanf(line, "force %d", &i) == 1)
            st->force = i != 0;
        else if (sscanf(line, "total %llu", &a) == 1)
            st->total = a;
        else if (sscanf(line, "status %15s", word) == 1)
            snprintf(st->status, sizeof st->status, "%.15s", word);
    }
    fclose(f);
    if (version != 1 || !have_at || !have_fp || st->z < 0 || st->z > 32)
        return TS_FAIL(err, TS_EINVAL, "%s is not a tilesrv seed progress file", path);
    return TS_OK;
}

ts_status
ts_seed_progress_read(const char *path, ts_seed_progress *out, ts_err *err)
{
    ts_seed_state st;
    memset(out, 0, sizeof *out);
    TS_TRY(ts_seed__state_load(path, &st, err));
    snprintf(out->tileset, sizeof out->tileset, "%s", st.tileset);
    snprintf(out->status, sizeof out->status, "%s", st.status);
    out->z = st.z > st.maxz ? st.maxz : st.z; /* a finished seed: its last level */
    out->rendered = st.rendered;
    out->skipped = st.skipped;
    out->failed = st.failed;
    out->total = st.total;
    return TS_OK;
}

ts_status
ts_seed__to_cache(const char *to, const char *layout, ts_cfg_cache *cc, ts_err *err)
{
    memset(cc, 0, sizeof *cc);
    size_t n = strlen(to);
    if (n == 0)
        return TS_FAIL(err, TS_EINVAL, "--to needs a FILE.mbtiles or a directory");
    cc->path = (char *)to;
    if (n > 8 && strcasecmp(to + n - 8, ".mbtiles") == 0) {
        if (layout)
            return TS_FAIL(err, TS_EINVAL, "--layout applies to a directory, not an MBTiles file");
        cc->type = (char *)"mbtiles";
        return TS_OK;
    }
    if (ts_cache_layout_parse(layout) < 0)
        return TS_FAIL(err, TS_EINVAL, "--layout is xyz, tc or tms, got '%.20s'", layout);
    /* a name of another kind of file is a mistake, not a directory to make */
    static const char *const files[] = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gpkg",
                                        ".sqlite", ".sqlite3", ".db", ".zip", ".pmtiles",
                                        ".mbtile", ".pbf", ".mvt", ".json", ".geojson", NULL};
    struct stat sb;
    for (int i = 0; files[i] != NULL; i++) {
        size_t e = strlen(files[i]);
        if (n > e && strcasecmp(to + n - e, files[i]) == 0 &&
            !(stat(to, &sb) == 0 && S_ISDIR(sb.st_mode)))
            return TS_FAIL(err, TS_EINVAL,
                           "--to %s: tiles go into a FILE.mbtiles or a directory, not a %s file",
                           to, files[i] + 1);
    }
    cc->type = (char *)"disk";
    cc->layout = (char *)(layout ? layout : "xyz");
    return TS_OK;
}
