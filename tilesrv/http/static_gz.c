/* http/static_gz.c — gzip copies of the web map's text files for clients that take gzip
 * (its 250 KB script bundle goes out in about a third of that), made on the first request
 * and kept while the file is unchanged (same path, modification time and size). */
#include "http/http_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mvt/mvt.h"

enum {
    SLOTS = 8,                  /* files kept (the page, its script, its styles ...) */
    MAX_FILE = 8 << 20,         /* larger files go out as they are */
};

typedef struct gz_slot {
    char path[512];
    int64_t mtime_ns;
    int64_t size;
    uint8_t *gz;
    size_t len;
} gz_slot;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static gz_slot slots[SLOTS];
static int next_slot;

/* The whole of fd (size bytes) into a new buffer, or NULL. */
static uint8_t *
read_all(int fd, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    size_t got = 0;
    while (b != NULL && got < size) {
        ssize_t n = pread(fd, b + got, size - got, (off_t)got);
        if (n <= 0) {
            free(b);
            return NULL;
        }
        got += (size_t)n;
    }
    return b;
}

int
ts_http__static_gzip(const char *path, const struct stat *sb, int fd, ts_buf *out)
{
    if (sb->st_size < 1024 || sb->st_size > MAX_FILE || strlen(path) >= sizeof slots[0].path)
        return 0;
    int64_t mt = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
    int done = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < SLOTS && !done; i++)
        if (slots[i].gz != NULL && strcmp(slots[i].path, path) == 0 &&
            slots[i].mtime_ns == mt && slots[i].size == (int64_t)sb->st_size)
            done = ts_buf_add(out, slots[i].gz, slots[i].len) == TS_OK;
    pthread_mutex_unlock(&mu);
    if (done)
        return 1;
    uint8_t *raw = read_all(fd, (size_t)sb->st_size);
    if (raw == NULL)
        return 0;
    ts_buf gz;
    ts_buf_init(&gz, (size_t)MAX_FILE * 2);
    ts_status st = ts_mvt_gzip(raw, (size_t)sb->st_size, 9, &gz, NULL);
    free(raw);
    if (st != TS_OK || ts_buf_add(out, gz.data, gz.len) != TS_OK) {
        ts_buf_fini(&gz);
        return 0;
    }
    /* keep it (the buffer moves into the slot) */
    pthread_mutex_lock(&mu);
    gz_slot *s = &slots[next_slot];
    next_slot = (next_slot + 1) % SLOTS;
    free(s->gz);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->mtime_ns = mt;
    s->size = (int64_t)sb->st_size;
    s->gz = gz.data;
    s->len = gz.len;
    pthread_mutex_unlock(&mu);
    return 1;
}
