/* encode/common.c — what the encoder files share: the un-premultiply table and the
 * per-thread scratch buffers (the raw scanlines, the index image, the colour hash table,
 * quantiser points) and deflate compressors, kept between calls so the hot path does not
 * allocate. */
#include "encode/encode_int.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>

/* ---- un-premultiply ---------------------------------------------------------------- */

static uint8_t unpremul[256][256]; /* [a][v] */
static pthread_once_t unpremul_once = PTHREAD_ONCE_INIT;

static void
unpremul_init(void)
{
    for (unsigned a = 1; a < 256; a++) {
        for (unsigned v = 0; v < 256; v++) {
            unsigned s = (v * 255 + a / 2) / a; /* round(v * 255 / a), halves up */
            unpremul[a][v] = (uint8_t)(s > 255 ? 255 : s);
        }
    }
    /* row 0 stays 0: a fully transparent pixel is written as 0,0,0,0 */
}

const uint8_t (*ts_encode__unpremul_table(void))[256]
{
    pthread_once(&unpremul_once, unpremul_init);
    return (const uint8_t(*)[256])unpremul;
}

uint32_t
ts_encode__unpremul(uint32_t px)
{
    uint32_t a = px >> 24;
    if (a == 255)
        return px;
    if (a == 0)
        return 0;
    const uint8_t *t = ts_encode__unpremul_table()[a];
    return (uint32_t)t[px & 255] | (uint32_t)t[(px >> 8) & 255] << 8 |
           (uint32_t)t[(px >> 16) & 255] << 16 | a << 24;
}

/* ---- per-thread scratch ------------------------------------------------------------ */

typedef struct scratch {
    void *p[TS_ENCODE__S_COUNT];
    size_t cap[TS_ENCODE__S_COUNT];
    struct libdeflate_compressor *comp[13]; /* per libdeflate level, made on first use */
} scratch;

static __thread scratch *tls_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void
scratch_free(void *v)
{
    scratch *s = v;
    if (s == NULL)
        return;
    for (int i = 0; i < TS_ENCODE__S_COUNT; i++)
        free(s->p[i]);
    for (int i = 0; i < 13; i++)
        if (s->comp[i])
            libdeflate_free_compressor(s->comp[i]);
    free(s);
}

static void
scratch_key_init(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

static scratch *
scratch_get(void)
{
    scratch *s = tls_scratch;
    if (s == NULL) {
        pthread_once(&scratch_once, scratch_key_init);
        s = calloc(1, sizeof *s);
        if (s == NULL)
            return NULL;
        /* The key's destructor frees the buffers when the thread exits. Without a key
         * (practically never) the buffers stay attached to the thread until exit. */
        if (scratch_key_ok)
            pthread_setspecific(scratch_key, s);
        tls_scratch = s;
    }
    return s;
}

void *
ts_encode__scratch(int slot, size_t size)
{
    scratch *s = scratch_get();
    if (s == NULL)
        return NULL;
    if (size == 0)
        size = 1;
    if (s->cap[slot] >= size)
        return s->p[slot];
    size_t cap = s->cap[slot] ? s->cap[slot] : 4096;
    while (cap < size)
        cap = cap > SIZE_MAX / 2 ? size : cap * 2;
    free(s->p[slot]); /* contents are not kept, so no realloc copy */
    s->p[slot] = malloc(cap);
    if (s->p[slot] == NULL) {
        s->cap[slot] = 0;
        return NULL;
    }
    s->cap[slot] = cap;
    return s->p[slot];
}

void
ts_encode__scratch_trim(void)
{
    scratch *s = tls_scratch;
    if (s == NULL)
        return;
    for (int i = 0; i < TS_ENCODE__S_COUNT; i++) {
        if (s->cap[i] > TS_ENCODE__KEEP_MAX) {
            free(s->p[i]);
            s->p[i] = NULL;
            s->cap[i] = 0;
        }
    }
}

/* ---- deflate compressors ----------------------------------------------------------- */

struct libdeflate_compressor *
ts_encode__compressor(int level)
{
    if (level < 0 || level > 12)
        return NULL;
    scratch *s = scratch_get();
    if (s == NULL)
        return NULL;
    if (s->comp[level] == NULL)
        s->comp[level] = libdeflate_alloc_compressor(level);
    return s->comp[level];
}
