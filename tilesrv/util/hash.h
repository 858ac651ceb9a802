/* util/hash.h — small non-cryptographic hashes (FNV-1a 64 and a 64-bit mixer). */
#ifndef TS_UTIL_HASH_H
#define TS_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TS_HASH_SEED 0xcbf29ce484222325ull

/* FNV-1a over n bytes, continuing from h (start with TS_HASH_SEED). */
static inline uint64_t
ts_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Finaliser from splitmix64: spreads all input bits over the output. */
static inline uint64_t
ts_hash_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

#endif
