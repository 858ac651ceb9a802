/* text/lru.c — a small LRU map bounded in bytes (chained hash + recency list), for the
 * glyph outline and shaped-run caches of one context. Single-threaded by contract. */
#include "text/text.h"
#include "text/text_int.h"

#include <stdlib.h>
#include <string.h>

void
ts_text__lru_init(ts_text__lru *m, size_t max_bytes, void (*free_val)(void *))
{
    memset(m, 0, sizeof *m);
    m->max_bytes = max_bytes;
    m->free_val = free_val;
    m->head.prev = m->head.next = &m->head;
}

static void
unlink_list(ts_text__lru_entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void
push_front(ts_text__lru *m, ts_text__lru_entry *e)
{
    e->prev = &m->head;
    e->next = m->head.next;
    m->head.next->prev = e;
    m->head.next = e;
}

static void
drop(ts_text__lru *m, ts_text__lru_entry *e)
{
    ts_text__lru_entry **pp = &m->buckets[e->hash & (m->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    unlink_list(e);
    m->bytes -= e->cost;
    m->count--;
    m->free_val(e->val);
    free(e);
}

void
ts_text__lru_fini(ts_text__lru *m)
{
    ts_text__lru_entry *e = m->head.next;
    while (e != &m->head) {
        ts_text__lru_entry *n = e->next;
        m->free_val(e->val);
        free(e);
        e = n;
    }
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = m->bytes = 0;
    m->head.prev = m->head.next = &m->head;
}

void *
ts_text__lru_get(ts_text__lru *m, const void *key, uint32_t klen, uint64_t hash)
{
    if (m->nbuckets > 0) {
        for (ts_text__lru_entry *e = m->buckets[hash & (m->nbuckets - 1)]; e; e = e->hnext) {
            if (e->hash == hash && e->klen == klen && memcmp(e->key, key, klen) == 0) {
                unlink_list(e);
                push_front(m, e);
                m->hits++;
                return e->val;
            }
        }
    }
    m->misses++;
    return NULL;
}

void
ts_text__lru_trim(ts_text__lru *m)
{
    while (m->bytes > m->max_bytes && m->head.prev != &m->head)
        drop(m, m->head.prev);
}

static int
grow_buckets(ts_text__lru *m)
{
    size_t nb = m->nbuckets ? 2 * m->nbuckets : 256;
    ts_text__lru_entry **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return -1;
    for (ts_text__lru_entry *e = m->head.next; e != &m->head; e = e->next) {
        size_t k = e->hash & (nb - 1);
        e->hnext = b[k];
        b[k] = e;
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
    return 0;
}

int
ts_text__lru_put(ts_text__lru *m, const void *key, uint32_t klen, uint64_t hash, void *val,
                 size_t cost)
{
    cost += sizeof(ts_text__lru_entry) + klen;
    if (cost > m->max_bytes)
        return 0;
    if (m->count + 1 > m->nbuckets && grow_buckets(m) != 0)
        return 0;
    ts_text__lru_entry *e = malloc(sizeof *e + klen);
    if (e == NULL)
        return 0;
    e->hash = hash;
    e->cost = cost;
    e->val = val;
    e->klen = klen;
    memcpy(e->key, key, klen);
    size_t k = hash & (m->nbuckets - 1);
    m->bytes += cost;
    m->count++;
    /* evict before linking, so the new entry is never its own victim */
    ts_text__lru_trim(m);
    e->hnext = m->buckets[k];
    m->buckets[k] = e;
    push_front(m, e);
    return 1;
}
