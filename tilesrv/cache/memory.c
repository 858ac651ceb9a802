/* cache/memory.c — sharded in-memory LRU of tiles with a byte budget, and its view as a
 * cache back-end (one key prefix per tileset). */
#include "cache/cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"
#include "util/hash.h"

#define NSHARDS 16

typedef struct entry {
    struct entry *hnext;          /* hash chain */
    struct entry *prev, *next;    /* LRU list: head = most recent */
    uint64_t hash;
    ts_tile *tile;
    char key[];
} entry;

typedef struct shard {
    pthread_mutex_t mu;
    entry **buckets;
    size_t nbuckets;              /* power of two */
    size_t count;
    size_t bytes;
    size_t max_bytes;
    entry *head, *tail;
    ts_cache_stats st;
} shard;

struct ts_mem_cache {
    shard shards[NSHARDS];
};

static uint64_t
key_hash(const char *k)
{
    return ts_hash_mix(ts_hash_bytes(TS_HASH_SEED, k, strlen(k)));
}

/* The shard of a key hash: from its top bits, as the buckets inside a shard take the low
 * bits (the same bits for both would leave all but 1 / NSHARDS of each shard's buckets
 * empty and its chains NSHARDS times longer). */
static shard *
shard_of(ts_mem_cache *c, uint64_t h)
{
    return &c->shards[(h >> 58) % NSHARDS];
}

static size_t
entry_cost(const entry *e)
{
    return e->tile->len + sizeof *e + strlen(e->key) + 1;
}

ts_mem_cache *
ts_mem_cache_new(size_t max_bytes)
{
    ts_mem_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_init(&s->mu, NULL);
        s->nbuckets = 256;
        s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
        s->max_bytes = max_bytes / NSHARDS;
        if (s->buckets == NULL) {
            ts_mem_cache_free(c);
            return NULL;
        }
    }
    return c;
}

void
ts_mem_cache_free(ts_mem_cache *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        for (entry *e = s->head; e;) {
            entry *n = e->next;
            ts_tile_unref(e->tile);
            free(e);
            e = n;
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->mu);
    }
    free(c);
}

static void
lru_unlink(shard *s, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
    e->prev = e->next = NULL;
}

static void
lru_push_front(shard *s, entry *e)
{
    e->prev = NULL;
    e->next = s->head;
    if (s->head)
        s->head->prev = e;
    s->head = e;
    if (s->tail == NULL)
        s->tail = e;
}

static entry **
find_slot(shard *s, uint64_t h, const char *key)
{
    entry **pp = &s->buckets[h & (s->nbuckets - 1)];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
        pp = &(*pp)->hnext;
    return pp;
}

static void
remove_entry(shard *s, entry *e)
{
    entry **pp = find_slot(s, e->hash, e->key);
    if (*pp == e)
        *pp = e->hnext;
    lru_unlink(s, e);
    s->bytes -= entry_cost(e);
    s->count--;
    ts_tile_unref(e->tile);
    free(e);
}

static void
grow(shard *s)
{
    size_t n = s->nbuckets * 2;
    entry **b = calloc(n, sizeof *b);
    if (b == NULL)
        return; /* keep the longer chains */
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (entry *e = s->buckets[i]; e;) {
            entry *next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = n;
}

static ts_tile *
mem_get(ts_mem_cache *c, const char *key, int count)
{
    uint64_t h = key_hash(key);
    shard *s = shard_of(c, h);
    pthread_mutex_lock(&s->mu);
    entry *e = *find_slot(s, h, key);
    ts_tile *t = NULL;
    if (e) {
        lru_unlink(s, e);
        lru_push_front(s, e);
        t = ts_tile_ref(e->tile);
        s->st.hits += (uint64_t)count;
    } else {
        s->st.misses += (uint64_t)count;
    }
    pthread_mutex_unlock(&s->mu);
    return t;
}

ts_tile *
ts_mem_cache_get(ts_mem_cache *c, const char *key)
{
    return mem_get(c, key, 1);
}

ts_tile *
ts_mem_cache_recheck(ts_mem_cache *c, const char *key)
{
    return mem_get(c, key, 0);
}

int
ts_mem_cache_contains(ts_mem_cache *c, const char *key)
{
    uint64_t h = key_hash(key);
    shard *s = shard_of(c, h);
    pthread_mutex_lock(&s->mu);
    int found = *find_slot(s, h, key) != NULL;
    pthread_mutex_unlock(&s->mu);
    return found;
}

void
ts_mem_cache_put(ts_mem_cache *c, const char *key, ts_tile *t)
{
    uint64_t h = key_hash(key);
    shard *s = shard_of(c, h);
    size_t klen = strlen(key);
    entry *n = malloc(sizeof *n + klen + 1);
    if (n == NULL)
        return;
    memcpy(n->key, key, klen + 1);
    n->hash = h;
    n->tile = t;
    n->prev = n->next = n->hnext = NULL;
    if (entry_cost(n) > s->max_bytes) {
        free(n);
        return;
    }
    ts_tile_ref(t);
    pthread_mutex_lock(&s->mu);
    entry **pp = find_slot(s, h, key);
    if (*pp)
        remove_entry(s, *pp);
    pp = find_slot(s, h, key);
    *pp = n;
    lru_push_front(s, n);
    s->bytes += entry_cost(n);
    s->count++;
    s->st.puts++;
    while (s->bytes > s->max_bytes && s->tail && s->tail != n) {
        remove_entry(s, s->tail);
        s->st.evictions++;
    }
    if (s->count > s->nbuckets)
        grow(s);
    pthread_mutex_unlock(&s->mu);
}

size_t
ts_mem_cache_drop_prefix(ts_mem_cache *c, const char *prefix)
{
    size_t plen = strlen(prefix), dropped = 0;
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_lock(&s->mu);
        for (entry *e = s->head; e;) {
            entry *next = e->next;
            if (strncmp(e->key, prefix, plen) == 0) {
                remove_entry(s, e);
                dropped++;
            }
            e = next;
        }
        pthread_mutex_unlock(&s->mu);
    }
    return dropped;
}

void
ts_mem_cache_stats_get(ts_mem_cache *c, ts_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_lock(&s->mu);
        out->hits += s->st.hits;
        out->misses += s->st.misses;
        out->puts += s->st.puts;
        out->evictions += s->st.evictions;
        out->bytes += s->bytes;
        out->entries += s->count;
        pthread_mutex_unlock(&s->mu);
    }
}

/* ---- the LRU as a back-end -------------------------------------------------------------- */

typedef struct mem_view {
    ts_cache base;
    ts_mem_cache *m;             /* borrowed */
    char prefix[128], suffix[32];
} mem_view;

static void
view_key(const mem_view *v, int z, uint32_t x, uint32_t y, char *buf, size_t size)
{
    snprintf(buf, size, "%s%d/%u/%u%s", v->prefix, z, x, y, v->suffix);
}

static ts_status
view_get(ts_cache *c, int z, uint32_t x, uint32_t y, ts_tile **out, ts_cache_entry *e, ts_err *err)
{
    mem_view *v = (mem_view *)c;
    char key[200];
    view_key(v, z, x, y, key, sizeof key);
    /* not counted: a request's memory lookup is counted once, where it starts (the
     * pipeline's lookup); this level is read again on the way to the persistent one */
    ts_tile *t = ts_mem_cache_recheck(v->m, key);
    if (t == NULL)
        return TS_FAIL(err, TS_ENOENT, "not in memory");
    e->mtime_ns = t->mtime * 1000000000;
    e->version_ok = 1;
    *out = t;
    return TS_OK;
}

static ts_status
view_stat(ts_cache *c, int z, uint32_t x, uint32_t y, ts_cache_entry *e, ts_err *err)
{
    ts_tile *t = NULL;
    TS_TRY(view_get(c, z, x, y, &t, e, err));
    ts_tile_unref(t);
    return TS_OK;
}

static ts_status
view_put(ts_cache *c, int z, const ts_cache_item *items, int n, ts_err *err)
{
    mem_view *v = (mem_view *)c;
    char key[200];
    for (int i = 0; i < n; i++) {
        view_key(v, z, items[i].x, items[i].y, key, sizeof key);
        ts_mem_cache_put(v->m, key, items[i].tile);
    }
    return TS_OK;
}

static ts_status
view_del(ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err)
{
    mem_view *v = (mem_view *)c;
    char key[200];
    view_key(v, z, x, y, key, sizeof key);
    ts_mem_cache_drop_prefix(v->m, key);
    return TS_OK;
}

static ts_status
view_truncate(ts_cache *c, int z, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
              int64_t older_than, uint64_t *removed, ts_err *err)
{
    /* The LRU has no range index: the whole level goes (it is only a cache). */
    mem_view *v = (mem_view *)c;
    char key[200];
    snprintf(key, sizeof key, "%s%d/", v->prefix, z);
    *removed = ts_mem_cache_drop_prefix(v->m, key);
    return TS_OK;
}

static void
view_close(ts_cache *c)
{
    free(c);
}

static const ts_cache_ops view_ops = {
    .kind = "memory",
    .get = view_get,
    .stat = view_stat,
    .put = view_put,
    .del = view_del,
    .truncate = view_truncate,
    .close = view_close,
};

ts_cache *
ts_cache_memory_open(ts_mem_cache *m, const char *prefix, const char *suffix)
{
    mem_view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return NULL;
    ts_cache__init(&v->base, &view_ops, NULL);
    v->m = m;
    snprintf(v->prefix, sizeof v->prefix, "%s", prefix ? prefix : "");
    snprintf(v->suffix, sizeof v->suffix, "%s", suffix ? suffix : "");
    return &v->base;
}
