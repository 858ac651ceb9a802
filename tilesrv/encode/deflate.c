/* encode/deflate.c — a fast DEFLATE encoder (zlib stream) for the PNG scanlines of map
 * tiles; the default of ts_png_encode (zlevel -1). Measured figures: png_write.c.
 *
 * Map tiles are flat colours, rows that repeat the row above, and anti-aliased edges.
 * Almost every long match is at one of two distances: the pixel size (a run of one
 * colour) or the row length (the row above). So the input is read in segments, and for
 * each two bit masks are made 32 or 16 bytes per compare: byte equals the byte one row
 * above, byte equals the byte one pixel to the left; where three ones start, a match
 * starts. Between two such starts, each pixel of the literal stretch is looked up in a
 * hash table of 4-byte sequences (an edge colour seen elsewhere: a repeated symbol, a
 * line at the same angle); a match's length is a count of ones in a mask (or an 8-byte
 * compare loop for the hash's). Greedy; nothing is inserted into the hash table inside a
 * match. The sequences (literal count, match) of a block go to a per-thread buffer with
 * the symbol counts; then the block is written in the cheapest of three forms: a dynamic
 * Huffman code from those counts (lit/len codes limited to 14 bits so that four literals
 * fit in one 64-bit flush; 15 for distances, 7 for the code-length code), the fixed
 * code, or stored bytes. Bits are packed 64 at a time; Adler-32 is libdeflate's.
 *
 * Every Huffman code written is complete (two used symbols at least), as zlib's deflate
 * writes them, so strict inflaters accept the output. Same input, same bytes: the hash
 * table is cleared per call.
 *
 * Tried and not kept (the 300 benchmark tiles, compressor alone): looking up every byte
 * of a literal stretch, not every pixel (an earlier version: 1.7x slower, 6% smaller); no
 * hash table (1.3x faster, 10% larger); lookups aligned to pixel starts (13% slower, 2.5%
 * smaller); hash entries holding their 4 bytes, 2^12 or 2^13 entries, counting literals
 * inside the lookup loop, eight literals per group, looking match starts up in the hash
 * too (none faster; 0-1% larger). */
#include "encode/encode_int.h"

#include <libdeflate.h>
#include <pthread.h>

/* deflate_v3.c includes this file again with TS_DEFLATE_V3 = 1, compiled for x86-64-v3
 * (AVX2, BMI1/2: 32-byte compares, shifts by a register without moves); the plain
 * build picks that one at run time when the CPU has it. */
#ifndef TS_DEFLATE_V3
#define TS_DEFLATE_V3 0
#endif
#ifndef TS_DEFLATE_HAVE_V3
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TS_DEFLATE_HAVE_V3 1
#else
#define TS_DEFLATE_HAVE_V3 0
#endif
#endif

enum {
    WINDOW_BITS = 15,
    WINDOW = 1 << WINDOW_BITS, /* largest distance DEFLATE can express */
    MIN_MATCH = 3,        /* shortest match at the run and row distances */
    MIN_HASH_MATCH = 4,   /* shortest match from the hash table */
    MAX_MATCH = 258,
    HASH_BITS = 14,       /* 16 K entries of 4 bytes */
    MAX_LITLEN_BITS = 14, /* not 15: four literal codes fit in one 64-bit flush */
    NLITLEN = 286,        /* lit/len symbols that can occur (0..285) */
    NDIST = 30,
    NCL = 19,
};

static inline uint64_t
ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* ---- symbols ----------------------------------------------------------------------- */

/* Match length 3..258, given as l = length - 3 (0..255): its lit/len symbol 257..285
 * and number of extra bits (whose value is the low bits of l: each symbol's first
 * length - 3 is a multiple of their range). */
static inline unsigned
len_sym(unsigned l)
{
    if (l < 8)
        return 257 + l;
    if (l == 255)
        return 285;
    unsigned k = 31u - (unsigned)__builtin_clz(l); /* 3..7 */
    return 257 + 4 * (k - 1) + ((l >> (k - 2)) & 3);
}

static inline unsigned
len_extra_bits(unsigned l)
{
    if (l < 8 || l == 255)
        return 0;
    return 31u - (unsigned)__builtin_clz(l) - 2;
}

/* Distance 1..32768, given as d = distance - 1: its symbol 0..29 (extra bits: the low
 * bits of d, as many as dist_extra[symbol]). */
static inline unsigned
dist_sym(unsigned d)
{
    unsigned k = 31u - (unsigned)__builtin_clz(d | 2); /* >= 1 */
    unsigned s = 2 * k + ((d >> (k - 1)) & 1);
    return d < 2 ? d : s;
}

static const uint8_t dist_extra[NDIST] = {0, 0, 0,  0,  1,  1,  2,  2,  3,  3,
                                          4, 4, 5,  5,  6,  6,  7,  7,  8,  8,
                                          9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* Extra bits of lit/len symbol s (257..285). */
static inline unsigned
litlen_extra_bits(unsigned s)
{
    if (s < 265 || s == 285)
        return 0;
    return (s - 261) / 4;
}

/* len_sym(l) - 256 for l = 0..255 (set once, by tables_init) */
static uint8_t len_sym1[256];

/* ---- matching ---------------------------------------------------------------------- */

/* The input is read in segments of SEG bytes. For each, two bit masks say which bytes
 * equal the byte one row above (a) and the byte one pixel to the left (l); a third (st)
 * marks where a match of >= MIN_MATCH bytes at one of those distances starts. The masks
 * reach LOOK bytes past the segment so that every match starting inside it is measured
 * in full. */
enum {
    SEG = 16384,
    LOOK = 320, /* >= MAX_MATCH + MIN_MATCH, a multiple of 64 */
    MWORDS = (SEG + LOOK) / 64 + 2,
    BLOCK_SEQS = 1 << 14,    /* sequences per block at most (+ 1 for the last literals) */
    BLOCK_BYTES = 1 << 20,   /* input bytes per block, about */
};

/* A sequence: lit literal bytes (taken from the input), then a match if m has MATCH_FLAG:
 * bits 24..28 distance symbol, 16..23 length - 3, 0..14 distance - 1. */
#define MATCH_FLAG 0x80000000u

typedef struct seq {
    uint32_t lit;
    uint32_t m;
} seq;

typedef struct block {
    seq *sq;
    size_t nseq;
    uint32_t lf[NLITLEN]; /* symbol counts */
    uint32_t df[NDIST];
} block;

typedef struct matcher {
    const uint8_t *src;
    size_t n, bpp, stride; /* stride 0: no row above */
    uint32_t *ht;          /* hash table: 1 << HASH_BITS positions */
    size_t s, lim;         /* segment start; matches start before lim */
    uint64_t a[MWORDS], l[MWORDS], st[MWORDS];
} matcher;

/* Bytes a[l..max) compared with b[l..max): length of the common prefix of a and b (the
 * first l bytes are known equal), at most max. */
static inline size_t
extend(const uint8_t *a, const uint8_t *b, size_t l, size_t max)
{
    while (l + 8 <= max) {
        uint64_t x = ld64(a + l) ^ ld64(b + l);
        if (x)
            return l + ((size_t)__builtin_ctzll(x) >> 3);
        l += 8;
    }
    while (l < max && a[l] == b[l])
        l++;
    return l;
}

/* Bit i of the result: p[i] == p[i - d], for i < 64. */
#if TS_DEFLATE_V3
#include <immintrin.h>
static inline uint64_t
eq64(const uint8_t *p, size_t d)
{
    __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    __m256i y0 = _mm256_loadu_si256((const __m256i *)(const void *)(p - d));
    __m256i y1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 - d));
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x0, y0)) |
           (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x1, y1)) << 32;
}
#elif defined(__SSE2__)
#include <emmintrin.h>
static inline uint64_t
eq16(const uint8_t *p, size_t d)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p - d));
    return (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y));
}

static inline uint64_t
eq64(const uint8_t *p, size_t d)
{
    return eq16(p, d) | eq16(p + 16, d) << 16 | eq16(p + 32, d) << 32 | eq16(p + 48, d) << 48;
}
#else
static inline uint64_t
eq64(const uint8_t *p, size_t d)
{
    uint64_t m = 0;
    for (size_t i = 0; i < 64; i++)
        m |= (uint64_t)(p[i] == p[(ptrdiff_t)i - (ptrdiff_t)d]) << i;
    return m;
}
#endif

/* (x >> k) of the bit string x[0..], for word i (x has a zero word past the end). */
static inline uint64_t
shr(const uint64_t *x, size_t i, unsigned k)
{
    return x[i] >> k | x[i + 1] << (64 - k);
}

/* Masks of the segment starting at s. */
static void
seg_masks(matcher *z, size_t s)
{
    const uint8_t *src = z->src;
    size_t e = z->n - s < SEG + LOOK ? z->n : s + SEG + LOOK;
    size_t nw = (e - s + 63) / 64;
    size_t stride = z->stride, bpp = z->bpp;
    for (size_t w = 0; w < nw; w++) {
        size_t p = s + 64 * w;
        uint64_t am = 0, lm = 0;
        if (p + 64 <= e && p >= bpp && (stride == 0 || p >= stride)) {
            if (stride)
                am = eq64(src + p, stride);
            lm = eq64(src + p, bpp);
        } else { /* the first row, or the last word */
            size_t k = e - p < 64 ? e - p : 64;
            for (size_t i = 0; i < k; i++) {
                if (stride && p + i >= stride)
                    am |= (uint64_t)(src[p + i] == src[p + i - stride]) << i;
                if (p + i >= bpp)
                    lm |= (uint64_t)(src[p + i] == src[p + i - bpp]) << i;
            }
        }
        z->a[w] = am;
        z->l[w] = lm;
    }
    z->a[nw] = z->l[nw] = 0;
    z->a[nw + 1] = z->l[nw + 1] = 0;
    /* runs of MIN_MATCH (3) ones start a match */
    for (size_t i = 0; i < nw; i++) {
        uint64_t a3 = z->a[i] & shr(z->a, i, 1) & shr(z->a, i, 2);
        uint64_t l3 = z->l[i] & shr(z->l, i, 1) & shr(z->l, i, 2);
        z->st[i] = a3 | l3;
    }
    z->s = s;
    z->lim = z->n - s < SEG ? z->n : s + SEG;
}

/* First match start in [r, lim), or lim. */
static inline size_t
next_start(const matcher *z, size_t r)
{
    size_t i = r - z->s, end = z->lim - z->s, k = i >> 6;
    uint64_t w = z->st[k] & (~0ull << (i & 63));
    for (;;) {
        if (w) {
            size_t q = (k << 6) + (size_t)__builtin_ctzll(w);
            return q < end ? z->s + q : z->lim;
        }
        if (++k << 6 >= end)
            return z->lim;
        w = z->st[k];
    }
}

/* Ones of mask x from bit i on (relative to the segment), at most max. */
static inline size_t
run_len(const uint64_t *x, size_t i, size_t max)
{
    size_t k = i >> 6, b = i & 63;
    uint64_t w = ~(x[k] >> b); /* the b bits shifted in become ones: they end the count */
    size_t l = w ? (size_t)__builtin_ctzll(w) : 64;
    if (l < 64 - b)
        return l < max ? l : max;
    l = 64 - b;
    while (l < max) {
        w = ~x[++k];
        if (w) {
            l += (size_t)__builtin_ctzll(w);
            break;
        }
        l += 64;
    }
    return l < max ? l : max;
}

/* Append a sequence: the literals src[lit0..q), then a match of len at dist (len 0:
 * none; then q > lit0). Literals are counted four at a time, the ones past q adding 0
 * (short stretches are the rule, and a loop per byte mispredicts its exit): this reads
 * up to 3 bytes past q, at most 3 past n (see TS_ENCODE__DEFLATE_SLACK). */
static inline void
add_seq(block *b, const uint8_t *src, size_t lit0, size_t q, size_t len, size_t dist)
{
    const uint8_t *p = src + lit0;
    size_t k = q - lit0;
    seq *sq = &b->sq[b->nseq++];
    sq->lit = (uint32_t)k;
    for (;;) {
        b->lf[p[0]] += k > 0;
        b->lf[p[1]] += k > 1;
        b->lf[p[2]] += k > 2;
        b->lf[p[3]] += k > 3;
        if (k <= 4)
            break;
        k -= 4;
        p += 4;
    }
    sq->m = 0;
    if (len) {
        unsigned l = (unsigned)(len - MIN_MATCH), d = (unsigned)(dist - 1), ds = dist_sym(d);
        sq->m = MATCH_FLAG | ds << 24 | l << 16 | d;
        b->lf[256 + len_sym1[l]]++;
        b->df[ds]++;
    }
}

/* Sequences from pos into b until the block is full or the input ends; returns the
 * position reached. */
static size_t
tokenise(matcher *z, size_t pos, block *b)
{
    const uint8_t *src = z->src;
    size_t n = z->n, bpp = z->bpp, lit0 = pos, r = pos;
    size_t hlim = n >= 8 ? n - 7 : 0; /* probes read 8 bytes */
    uint32_t *ht = z->ht;
    while (b->nseq < BLOCK_SEQS && r - pos < BLOCK_BYTES) {
        if (r >= z->lim) {
            if (z->lim >= n)
                break;
            seg_masks(z, r);
        }
        size_t q = next_start(z, r);
        /* the literals before q: look each pixel up in the hash table */
        size_t hend = q < hlim ? q : hlim;
        for (size_t h = r; h < hend; h += bpp) {
            uint64_t cur = ld64(src + h);
            uint32_t hh = (uint32_t)((uint32_t)cur * 2654435761u) >> (32 - HASH_BITS);
            size_t cand = ht[hh];
            ht[hh] = (uint32_t)h;
            /* Positions go in in increasing order, so cand <= h (also when truncated to
             * 32 bits): it names real bytes, which are compared; one test for a match of
             * >= MIN_HASH_MATCH bytes at a distance of 1..WINDOW. */
            uint64_t x = cur ^ ld64(src + cand);
            if (((x & 0xffffffffu) | (h - cand - 1) >> WINDOW_BITS) == 0) {
                size_t max = n - h < MAX_MATCH ? n - h : MAX_MATCH;
                size_t len = x ? (size_t)__builtin_ctzll(x) >> 3
                               : extend(src + h, src + cand, 8, max);
                add_seq(b, src, lit0, h, len, h - cand);
                r = lit0 = h + len;
                goto next;
            }
        }
        if (q == z->lim) { /* no match in this segment: the literals go on */
            r = q;
            continue;
        }
        {
            size_t i = q - z->s, max = n - q < MAX_MATCH ? n - q : MAX_MATCH;
            size_t la = run_len(z->a, i, max), ll = run_len(z->l, i, max);
            /* the longer (>= MIN_MATCH: q is a start); the left pixel on a tie (its
             * distance costs fewer bits) */
            int left = ll >= la;
            size_t len = left ? ll : la;
            add_seq(b, src, lit0, q, len, left ? bpp : z->stride);
            r = lit0 = q + len;
        }
    next:;
    }
    if (r > n)
        r = n;
    if (lit0 < r)
        add_seq(b, src, lit0, r, 0, 0);
    return r;
}

/* ---- Huffman codes ----------------------------------------------------------------- */

/* Sort keys[0..m) ascending (bottom-up merge sort; tmp holds m keys). */
static void
sort_keys(uint64_t *keys, uint64_t *tmp, int m)
{
    for (int i = 1; i < m; i += 2) /* pairs first */
        if (keys[i - 1] > keys[i]) {
            uint64_t t = keys[i - 1];
            keys[i - 1] = keys[i];
            keys[i] = t;
        }
    uint64_t *a = keys, *o = tmp;
    for (int w = 2; w < m; w *= 2) {
        for (int lo = 0; lo < m; lo += 2 * w) {
            int mid = lo + w < m ? lo + w : m, hi = lo + 2 * w < m ? lo + 2 * w : m;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                o[k++] = a[i] <= a[j] ? a[i++] : a[j++];
            while (i < mid)
                o[k++] = a[i++];
            while (j < hi)
                o[k++] = a[j++];
        }
        uint64_t *t = a;
        a = o;
        o = t;
    }
    if (a != keys)
        memcpy(keys, a, (size_t)m * sizeof *keys);
}

/* Code lengths (at most maxbits) for the n symbol counts freq; unused symbols get 0.
 * At least two counts must be nonzero. The code is complete. */
static void
huff_lengths(const uint32_t *freq, int n, int maxbits, uint8_t *len)
{
    uint64_t key[NLITLEN], tmp[NLITLEN];
    uint32_t w[2 * NLITLEN];
    int parent[2 * NLITLEN], depth[2 * NLITLEN];
    int m = 0;
    for (int s = 0; s < n; s++) {
        len[s] = 0;
        if (freq[s])
            key[m++] = (uint64_t)freq[s] << 16 | (uint64_t)s;
    }
    sort_keys(key, tmp, m);
    for (int i = 0; i < m; i++)
        w[i] = (uint32_t)(key[i] >> 16);
    /* Two queues: the sorted leaves and the internal nodes, made in ascending weight. */
    int li = 0, ii = m;
    for (int next = m; next < 2 * m - 1; next++) {
        int pick[2];
        for (int k = 0; k < 2; k++) {
            if (li < m && (ii >= next || w[li] <= w[ii]))
                pick[k] = li++;
            else
                pick[k] = ii++;
        }
        w[next] = w[pick[0]] + w[pick[1]];
        parent[pick[0]] = parent[pick[1]] = next;
    }
    int root = 2 * m - 2, maxd = 0;
    depth[root] = 0;
    for (int i = root - 1; i >= 0; i--) { /* a parent comes after its children */
        depth[i] = depth[parent[i]] + 1;
        if (depth[i] > maxd)
            maxd = depth[i];
    }
    int count[2 * NLITLEN] = {0};
    for (int i = 0; i < m; i++)
        count[depth[i]]++;
    if (maxd > maxbits) {
        /* Clamp, then restore the Kraft sum: each step removes one leaf at maxbits and
         * splits the deepest leaf above maxbits into two one level lower. */
        for (int d = maxbits + 1; d <= maxd; d++) {
            count[maxbits] += count[d];
            count[d] = 0;
        }
        uint32_t total = 0;
        for (int d = 1; d <= maxbits; d++)
            total += (uint32_t)count[d] << (maxbits - d);
        while (total > (1u << maxbits)) {
            count[maxbits]--;
            for (int d = maxbits - 1; d > 0; d--) {
                if (count[d]) {
                    count[d]--;
                    count[d + 1] += 2;
                    break;
                }
            }
            total--;
        }
        maxd = maxbits;
    }
    /* the rarest symbols get the longest codes */
    int i = 0;
    for (int d = maxd; d > 0; d--)
        for (int c = 0; c < count[d]; c++)
            len[key[i++] & 0xffff] = (uint8_t)d;
}

static inline unsigned
rev8(unsigned v)
{
    v = (v & 0x0f) << 4 | (v & 0xf0) >> 4;
    v = (v & 0x33) << 2 | (v & 0xcc) >> 2;
    return (v & 0x55) << 1 | (v & 0xaa) >> 1;
}

/* Canonical codes for lengths len[0..n), bit-reversed for LSB-first output. */
static void
huff_codes(const uint8_t *len, int n, uint32_t *code)
{
    unsigned count[16] = {0}, next[16];
    for (int s = 0; s < n; s++)
        count[len[s]]++;
    count[0] = 0;
    unsigned c = 0;
    for (int b = 1; b < 16; b++) {
        c = (c + count[b - 1]) << 1;
        next[b] = c;
    }
    for (int s = 0; s < n; s++) {
        unsigned l = len[s];
        if (l == 0) {
            code[s] = 0;
            continue;
        }
        unsigned v = next[l]++; /* l <= 15 bits, reversed */
        code[s] = (unsigned)(rev8(v & 255) << 8 | rev8(v >> 8)) >> (16 - l);
    }
}

/* ---- bit output -------------------------------------------------------------------- */

typedef struct bits {
    uint8_t *p;
    uint64_t buf;
    unsigned cnt; /* bits in buf, <= 7 after flush */
} bits;

/* Up to 56 bits may be put between flushes. */
#define PUT(w, code, n)                                                                    \
    do {                                                                                   \
        (w).buf |= (uint64_t)(code) << (w).cnt;                                            \
        (w).cnt += (n);                                                                    \
    } while (0)

/* Writes 8 bytes at p: the output needs 8 bytes of room past its end. */
#define FLUSH(w)                                                                           \
    do {                                                                                   \
        memcpy((w).p, &(w).buf, 8);                                                        \
        (w).p += (w).cnt >> 3;                                                             \
        (w).buf >>= (w).cnt & ~7u;                                                         \
        (w).cnt &= 7;                                                                      \
    } while (0)

/* ---- blocks ------------------------------------------------------------------------ */

typedef struct codes {
    uint8_t ll[NLITLEN + 2], dl[NDIST + 2]; /* lengths (fixed code: 288 and 32) */
    uint32_t lc[NLITLEN + 2], dc[NDIST + 2];
} codes;

static const uint8_t cl_order[NCL] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                      11, 4,  12, 3, 13, 2, 14, 1, 15};

/* Bits of the block's symbols (no header) under code lengths ll, dl. */
static uint64_t
symbol_bits(const block *b, const uint8_t *ll, const uint8_t *dl)
{
    uint64_t n = 0;
    for (int s = 0; s < NLITLEN; s++)
        n += (uint64_t)b->lf[s] * (ll[s] + (s > 256 ? litlen_extra_bits((unsigned)s) : 0));
    for (int s = 0; s < NDIST; s++)
        n += (uint64_t)b->df[s] * (dl[s] + dist_extra[s]);
    return n;
}

/* The dynamic header of a block: lengths run-length coded with symbols 16/17/18. */
typedef struct dynhdr {
    int nlit, ndist, ncl;
    int nrle;
    uint8_t rle[NLITLEN + NDIST];    /* code-length symbols */
    uint8_t rle_x[NLITLEN + NDIST];  /* their extra-bit values */
    uint8_t cll[NCL];
    uint32_t clc[NCL];
    uint64_t bits; /* header size in bits, the 3 block-type bits included */
} dynhdr;

static void
dyn_header(const codes *c, dynhdr *h)
{
    int nlit = NLITLEN, ndist = NDIST;
    while (nlit > 257 && c->ll[nlit - 1] == 0)
        nlit--;
    while (ndist > 1 && c->dl[ndist - 1] == 0)
        ndist--;
    uint8_t all[NLITLEN + NDIST];
    memcpy(all, c->ll, (size_t)nlit);
    memcpy(all + nlit, c->dl, (size_t)ndist);
    int total = nlit + ndist, n = 0;
    uint32_t clf[NCL] = {0};
    for (int i = 0; i < total;) {
        uint8_t v = all[i];
        int run = 1;
        while (i + run < total && all[i + run] == v)
            run++;
        i += run;
        if (v == 0) {
            while (run >= 11) {
                int r = run > 138 ? 138 : run;
                h->rle[n] = 18;
                h->rle_x[n++] = (uint8_t)(r - 11);
                run -= r;
            }
            if (run >= 3) {
                h->rle[n] = 17;
                h->rle_x[n++] = (uint8_t)(run - 3);
                run = 0;
            }
        } else {
            h->rle[n] = v; /* the value once, then repeats of it */
            h->rle_x[n++] = 0;
            run--;
            while (run >= 3) {
                int r = run > 6 ? 6 : run;
                h->rle[n] = 16;
                h->rle_x[n++] = (uint8_t)(r - 3);
                run -= r;
            }
        }
        while (run-- > 0) {
            h->rle[n] = v;
            h->rle_x[n++] = 0;
        }
    }
    for (int k = 0; k < n; k++)
        clf[h->rle[k]]++;
    int used = 0;
    for (int s = 0; s < NCL; s++)
        used += clf[s] != 0;
    for (int s = 0; used < 2; s++) /* a complete code needs two symbols */
        if (clf[s] == 0) {
            clf[s] = 1;
            used++;
        }
    huff_lengths(clf, NCL, 7, h->cll);
    huff_codes(h->cll, NCL, h->clc);
    int ncl = NCL;
    while (ncl > 4 && h->cll[cl_order[ncl - 1]] == 0)
        ncl--;
    uint64_t nb = 3 + 5 + 5 + 4 + 3 * (uint64_t)ncl;
    for (int k = 0; k < n; k++) {
        uint8_t s = h->rle[k];
        nb += h->cll[s] + (s == 16 ? 2 : s == 17 ? 3 : s == 18 ? 7 : 0);
    }
    h->nlit = nlit;
    h->ndist = ndist;
    h->ncl = ncl;
    h->nrle = n;
    h->bits = nb;
}

static void
put_dyn_header(bits *w, const dynhdr *h, int final)
{
    PUT(*w, (unsigned)final | 2u << 1, 3);
    PUT(*w, (unsigned)(h->nlit - 257), 5);
    PUT(*w, (unsigned)(h->ndist - 1), 5);
    PUT(*w, (unsigned)(h->ncl - 4), 4);
    FLUSH(*w);
    for (int k = 0; k < h->ncl; k++) {
        PUT(*w, h->cll[cl_order[k]], 3);
        FLUSH(*w);
    }
    for (int k = 0; k < h->nrle; k++) {
        uint8_t s = h->rle[k];
        PUT(*w, h->clc[s], h->cll[s]);
        if (s >= 16)
            PUT(*w, h->rle_x[k], s == 16 ? 2 : s == 17 ? 3 : 7);
        FLUSH(*w);
    }
}

/* The block's sequences (their literals read from src, where the block starts) and
 * end-of-block under code c. */
static void
put_tokens(bits *w, const block *b, const uint8_t *src, const codes *c)
{
    /* Codes with their lengths in one word: code | bits << 24. A length's code comes
     * with its extra bits (the low bits of length - 3); a distance's word has its
     * number of extra bits (the low bits of distance - 1) in bits 16..23. */
    uint32_t lit_e[256], len_e[256], dist_e[NDIST];
    for (unsigned v = 0; v < 256; v++) {
        lit_e[v] = c->lc[v] | (uint32_t)c->ll[v] << 24;
        unsigned s = len_sym(v), e = len_extra_bits(v);
        len_e[v] = (c->lc[s] | (v & ((1u << e) - 1)) << c->ll[s]) | (uint32_t)(c->ll[s] + e) << 24;
    }
    for (unsigned s = 0; s < NDIST; s++)
        dist_e[s] = c->dc[s] | (uint32_t)dist_extra[s] << 16 | (uint32_t)c->dl[s] << 24;
    /* the writer's state in locals (through w, every byte stored could alias it) */
    uint64_t bb = w->buf;
    unsigned bc = w->cnt;
    uint8_t *bp = w->p;
#define PUTL(code, n)                                                                      \
    do {                                                                                   \
        bb |= (uint64_t)(code) << bc;                                                      \
        bc += (n);                                                                         \
    } while (0)
#define FLUSHL()                                                                           \
    do {                                                                                   \
        memcpy(bp, &bb, 8);                                                                \
        bp += bc >> 3;                                                                     \
        bb >>= bc & ~7u;                                                                   \
        bc &= 7;                                                                           \
    } while (0)
    const uint8_t *lit = src;
    const seq *sq = b->sq, *end = sq + b->nseq;
    for (; sq < end; sq++) {
        size_t k = sq->lit;
        uint32_t m = sq->m;
        /* Four literals of <= 14 bits fit between two flushes (7 + 56 bits). The last
         * group's codes past the stretch are masked to nothing, so a short stretch costs
         * no mispredicted loop exit; the bytes read past it exist (see add_seq). */
        for (;;) {
            uint32_t e0 = lit_e[lit[0]] & -(uint32_t)(k > 0);
            uint32_t e1 = lit_e[lit[1]] & -(uint32_t)(k > 1);
            uint32_t e2 = lit_e[lit[2]] & -(uint32_t)(k > 2);
            uint32_t e3 = lit_e[lit[3]] & -(uint32_t)(k > 3);
            PUTL(e0 & 0xffffff, e0 >> 24);
            PUTL(e1 & 0xffffff, e1 >> 24);
            PUTL(e2 & 0xffffff, e2 >> 24);
            PUTL(e3 & 0xffffff, e3 >> 24);
            FLUSHL();
            if (k <= 4) {
                lit += k;
                break;
            }
            k -= 4;
            lit += 4;
        }
        if (m) {
            unsigned l = (m >> 16) & 255, d = m & 0x7fff;
            uint32_t le = len_e[l], de = dist_e[(m >> 24) & 31];
            unsigned dl = de >> 24, dx = (de >> 16) & 255;
            PUTL(le & 0xffffff, le >> 24);
            PUTL((de & 0xffff) | (d & ((1u << dx) - 1)) << dl, dl + dx);
            FLUSHL();
            lit += l + MIN_MATCH;
        }
    }
    PUTL(c->lc[256], c->ll[256]);
    FLUSHL();
#undef PUTL
#undef FLUSHL
    w->buf = bb;
    w->cnt = bc;
    w->p = bp;
}

static codes fixed; /* the fixed code of block type 1 */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void
tables_init(void)
{
    for (unsigned l = 0; l < 256; l++)
        len_sym1[l] = (uint8_t)(len_sym(l) - 256);
    for (int s = 0; s < 288; s++)
        fixed.ll[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    for (int s = 0; s < 32; s++)
        fixed.dl[s] = 5;
    huff_codes(fixed.ll, 288, fixed.lc);
    huff_codes(fixed.dl, 32, fixed.dc);
}

/* Stored blocks for src[0..n) (n may be 0 only with final). */
static void
put_stored(bits *w, const uint8_t *src, size_t n, int final)
{
    do {
        size_t m = n > 65535 ? 65535 : n;
        n -= m;
        PUT(*w, (unsigned)(final && n == 0), 3);
        FLUSH(*w);
        if (w->cnt) {
            PUT(*w, 0, 8 - w->cnt);
            FLUSH(*w);
        }
        uint8_t *p = w->p;
        p[0] = (uint8_t)m;
        p[1] = (uint8_t)(m >> 8);
        p[2] = (uint8_t)~m;
        p[3] = (uint8_t)(~m >> 8);
        memcpy(p + 4, src, m);
        w->p = p + 4 + m;
        src += m;
    } while (n > 0);
}

/* Write block b (covering src[0..n)) in its cheapest form. */
static void
put_block(bits *w, block *b, const uint8_t *src, size_t n, int final)
{
    b->lf[256] = 1; /* end of block */
    codes dyn;
    uint32_t lf[NLITLEN], df[NDIST];
    memcpy(lf, b->lf, sizeof lf);
    memcpy(df, b->df, sizeof df);
    /* a complete code needs two used symbols: lit/len has 256 and usually more */
    int used = 0;
    for (int s = 0; s < NDIST; s++)
        used += df[s] != 0;
    for (int s = 0; used < 2; s++)
        if (df[s] == 0) {
            df[s] = 1;
            used++;
        }
    used = 0;
    for (int s = 0; s < NLITLEN; s++)
        used += lf[s] != 0;
    for (int s = 0; used < 2; s++)
        if (lf[s] == 0) {
            lf[s] = 1;
            used++;
        }
    huff_lengths(lf, NLITLEN, MAX_LITLEN_BITS, dyn.ll);
    huff_lengths(df, NDIST, 15, dyn.dl);
    dynhdr h;
    dyn_header(&dyn, &h);
    uint64_t dyn_bits = h.bits + symbol_bits(b, dyn.ll, dyn.dl);

    uint64_t fixed_bits = 3 + symbol_bits(b, fixed.ll, fixed.dl);
    uint64_t stored_bits = 7 + (n / 65535 + 1) * 40 + 8 * (uint64_t)n;

    if (stored_bits <= dyn_bits && stored_bits <= fixed_bits) {
        put_stored(w, src, n, final);
    } else if (fixed_bits <= dyn_bits) {
        PUT(*w, (unsigned)final | 1u << 1, 3);
        put_tokens(w, b, src, &fixed);
    } else {
        huff_codes(dyn.ll, NLITLEN, dyn.lc);
        huff_codes(dyn.dl, NDIST, dyn.dc);
        put_dyn_header(w, &h, final);
        put_tokens(w, b, src, &dyn);
    }
}

/* ---- the stream -------------------------------------------------------------------- */

#if TS_DEFLATE_V3
size_t ts_encode__deflate_v3(const uint8_t *src, size_t n, size_t bpp, size_t stride,
                             uint8_t *dst);

size_t
ts_encode__deflate_v3(const uint8_t *src, size_t n, size_t bpp, size_t stride, uint8_t *dst)
#else
static size_t
deflate_generic(const uint8_t *src, size_t n, size_t bpp, size_t stride, uint8_t *dst)
#endif
{
    pthread_once(&tables_once, tables_init);
    uint32_t *ht = ts_encode__scratch(TS_ENCODE__S_ZHASH, sizeof(uint32_t) << HASH_BITS);
    seq *sq = ts_encode__scratch(TS_ENCODE__S_TOKENS, sizeof(seq) * (BLOCK_SEQS + 1));
    matcher *z = ts_encode__scratch(TS_ENCODE__S_MATCHER, sizeof(matcher));
    if (ht == NULL || sq == NULL || z == NULL)
        return 0;
    memset(ht, 0, sizeof(uint32_t) << HASH_BITS); /* same bytes out for the same input */
    z->src = src;
    z->n = n;
    z->bpp = bpp < 1 ? 1 : bpp;
    z->stride = stride > WINDOW || stride <= z->bpp ? 0 : stride;
    z->ht = ht;
    z->s = z->lim = 0;

    bits w = {dst, 0, 0};
    w.p[0] = 0x78; /* deflate, 32 KiB window */
    w.p[1] = 0x01; /* fastest; (0x78 << 8 | 0x01) % 31 == 0 */
    w.p += 2;
    size_t pos = 0;
    do {
        block b;
        b.sq = sq;
        b.nseq = 0;
        memset(b.lf, 0, sizeof b.lf);
        memset(b.df, 0, sizeof b.df);
        size_t start = pos;
        pos = tokenise(z, pos, &b);
        put_block(&w, &b, src + start, pos - start, pos >= n);
    } while (pos < n);
    if (w.cnt) {
        PUT(w, 0, 8 - w.cnt);
        FLUSH(w);
    }
    uint32_t a = libdeflate_adler32(1, src, n);
    w.p[0] = (uint8_t)(a >> 24);
    w.p[1] = (uint8_t)(a >> 16);
    w.p[2] = (uint8_t)(a >> 8);
    w.p[3] = (uint8_t)a;
    return (size_t)(w.p + 4 - dst);
}

#if !TS_DEFLATE_V3
size_t
ts_encode__deflate_bound(size_t n)
{
    /* zlib header 2 + Adler 4 + flush slack 8; stored worst case: 5 bytes per 64 KiB
     * piece, one extra piece and a padding byte per block (blocks hold >= BLOCK_SEQS
     * bytes each but the last) */
    return n + 5 * (n / 65535 + 1) + 6 * (n / BLOCK_SEQS + 1) + 2 + 4 + 8 + 16;
}

#if TS_DEFLATE_HAVE_V3
size_t ts_encode__deflate_v3(const uint8_t *src, size_t n, size_t bpp, size_t stride,
                             uint8_t *dst);

int
ts_encode__cpu_v3(void)
{
    static int v = -1; /* -1: not asked yet; every thread finds the same answer */
    int r = __atomic_load_n(&v, __ATOMIC_RELAXED);
    if (r < 0) {
        __builtin_cpu_init();
        r = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
            __builtin_cpu_supports("bmi") && __builtin_cpu_supports("popcnt");
        __atomic_store_n(&v, r, __ATOMIC_RELAXED);
    }
    return r;
}
#endif

size_t
ts_encode__deflate(const uint8_t *src, size_t n, size_t bpp, size_t stride, uint8_t *dst)
{
#if TS_DEFLATE_HAVE_V3
    if (ts_encode__cpu_v3())
        return ts_encode__deflate_v3(src, n, bpp, stride, dst);
#endif
    return deflate_generic(src, n, bpp, stride, dst);
}
#endif
