/* feed/sensors.c — the sensor store: the mutable latest state of every sensor of one feed
 * (ordered per state and per value by phenomenon time), staleness, and publication as
 * immutable snapshots. A snapshot is an id-sorted array of refcounted sensor records; a
 * publish builds new records only for the sensors that changed and shares the others
 * with the previous snapshot, so its cost is one pointer per sensor plus the changes. */
#include "feed/feed_int.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

typedef struct vslot {
    char *name;
    double v;
    int64_t t;
} vslot;

typedef struct entry {
    char *id;
    char *label;
    int has_pos;
    double lon, lat;
    char *state;
    int64_t state_t;
    vslot *vals; /* sorted by name */
    uint32_t nvals, vcap;
    int64_t obs_t;     /* latest phenomenon time, or NONE */
    int64_t update_ms; /* staleness is measured from here */
    int64_t seen_ms;
    int stale;
    unsigned changed; /* TS_FEED_CHANGED_* since the last publish, 0 = none */
    uint32_t mark;
    ts_sensor_rec *pub; /* last published record (a reference), or NULL */
} entry;

typedef struct gone {
    char *id;
    int had_pos;
    double lon, lat;
} gone;

struct ts_sensor_store {
    char *feed;
    int64_t stale_after;
    char *stale_state; /* NULL = keep the state */
    ts_feed_stale_basis basis;
    entry **e; /* insertion order (swap-removed) */
    size_t n, cap;
    uint32_t *slots; /* open addressing: index + 1 into e, 0 = empty */
    size_t nslots;   /* power of two, > 2 n */
    entry **order;   /* sorted by id, valid unless resort */
    size_t norder;
    int resort;
    size_t npending;
    uint32_t gen;
    gone *gone;
    size_t ngone, gcap;
    char **fields;
    int nfields, fcap;
    ts_feed_snapshot *cur;
};

/* ---- records and snapshots ---------------------------------------------------------- */

static void
rec_unref(ts_sensor_rec *r)
{
    if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1)
        free(r);
}

ts_feed_snapshot *
ts_feed_snapshot_ref(ts_feed_snapshot *s)
{
    if (s != NULL)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

static void
snapshot_free(ts_feed_snapshot *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        rec_unref(s->recs[i]);
    free(s->recs);
    for (int i = 0; i < s->nfields; i++)
        free(s->fields[i]);
    free(s->fields);
    free(s->feed);
    free(s);
}

void
ts_feed_snapshot_unref(ts_feed_snapshot *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
        snapshot_free(s);
}

uint64_t
ts_feed_snapshot_version(const ts_feed_snapshot *s)
{
    return s->version;
}

int64_t
ts_feed_snapshot_time(const ts_feed_snapshot *s)
{
    return s->time_ms;
}

const char *
ts_feed_snapshot_feed(const ts_feed_snapshot *s)
{
    return s->feed;
}

uint32_t
ts_feed_snapshot_count(const ts_feed_snapshot *s)
{
    return s->n;
}

uint32_t
ts_feed_snapshot_stale_count(const ts_feed_snapshot *s)
{
    return s->nstale;
}

const ts_sensor *
ts_feed_snapshot_at(const ts_feed_snapshot *s, uint32_t i)
{
    return i < s->n ? &s->recs[i]->s : NULL;
}

const ts_sensor *
ts_feed_snapshot_find(const ts_feed_snapshot *s, const char *id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->recs[mid]->s.id, id);
        if (c == 0)
            return &s->recs[mid]->s;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const ts_sensor_value *
ts_sensor_value_find(const ts_sensor *x, const char *name)
{
    size_t lo = 0, hi = x->nvalues;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(x->values[mid].name, name);
        if (c == 0)
            return &x->values[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int
ts_feed_snapshot_nfields(const ts_feed_snapshot *s)
{
    return s->nfields;
}

const char *
ts_feed_snapshot_field(const ts_feed_snapshot *s, int i)
{
    return i >= 0 && i < s->nfields ? s->fields[i] : NULL;
}

/* ---- the store ------------------------------------------------------------------------ */

static uint64_t
id_hash(const char *id)
{
    return ts_hash_mix(ts_hash_bytes(TS_HASH_SEED, id, strlen(id)));
}

static void
fill_slots(const ts_sensor_store *st, uint32_t *slots, size_t nslots)
{
    memset(slots, 0, nslots * sizeof *slots);
    for (size_t i = 0; i < st->n; i++) {
        size_t h = (size_t)id_hash(st->e[i]->id) & (nslots - 1);
        while (slots[h] != 0)
            h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)(i + 1);
    }
}

static int
rehash(ts_sensor_store *st, size_t nslots)
{
    uint32_t *slots = malloc(nslots * sizeof *slots);
    if (slots == NULL)
        return -1;
    fill_slots(st, slots, nslots);
    free(st->slots);
    st->slots = slots;
    st->nslots = nslots;
    return 0;
}

static entry *
find_entry(const ts_sensor_store *st, const char *id)
{
    if (st->nslots == 0)
        return NULL;
    size_t h = (size_t)id_hash(id) & (st->nslots - 1);
    while (st->slots[h] != 0) {
        entry *e = st->e[st->slots[h] - 1];
        if (strcmp(e->id, id) == 0)
            return e;
        h = (h + 1) & (st->nslots - 1);
    }
    return NULL;
}

static void
entry_free(entry *e)
{
    if (e == NULL)
        return;
    free(e->id);
    free(e->label);
    free(e->state);
    for (uint32_t i = 0; i < e->nvals; i++)
        free(e->vals[i].name);
    free(e->vals);
    rec_unref(e->pub);
    free(e);
}

static int
add_field(ts_sensor_store *st, const char *name)
{
    for (int i = 0; i < st->nfields; i++)
        if (strcmp(st->fields[i], name) == 0)
            return 0;
    if (st->nfields == st->fcap) {
        int cap = st->fcap ? st->fcap * 2 : 8;
        char **nf = realloc(st->fields, (size_t)cap * sizeof *nf);
        if (nf == NULL)
            return -1;
        st->fields = nf;
        st->fcap = cap;
    }
    char *c = strdup(name);
    if (c == NULL)
        return -1;
    st->fields[st->nfields++] = c;
    return 0;
}

static ts_feed_snapshot *
snapshot_new(const ts_sensor_store *st, uint32_t n)
{
    ts_feed_snapshot *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    atomic_init(&s->refs, 1);
    s->feed = strdup(st->feed);
    s->recs = calloc(n ? n : 1, sizeof *s->recs);
    s->fields = calloc(st->nfields ? (size_t)st->nfields : 1, sizeof *s->fields);
    if (s->feed == NULL || s->recs == NULL || s->fields == NULL) {
        snapshot_free(s);
        return NULL;
    }
    for (int i = 0; i < st->nfields; i++) {
        if ((s->fields[i] = strdup(st->fields[i])) == NULL) {
            snapshot_free(s);
            return NULL;
        }
        s->nfields = i + 1;
    }
    return s;
}

ts_sensor_store *
ts_sensor_store_new(const ts_sensor_store_opts *o, ts_err *err)
{
    ts_sensor_store *st = calloc(1, sizeof *st);
    if (st == NULL) {
        TS_FAIL(err, TS_ENOMEM, "sensor store");
        return NULL;
    }
    st->feed = strdup(o->feed != NULL ? o->feed : "");
    st->stale_after = o->stale_after_ms > 0 ? o->stale_after_ms : 0;
    st->basis = o->stale_basis;
    if (o->stale_state != NULL && o->stale_state[0] != '\0')
        st->stale_state = strdup(o->stale_state);
    int bad = st->feed == NULL ||
              (o->stale_state != NULL && o->stale_state[0] != '\0' && st->stale_state == NULL);
    for (int i = 0; !bad && i < o->nfields; i++)
        bad = add_field(st, o->fields[i]) != 0;
    if (!bad)
        bad = rehash(st, 64) != 0;
    if (!bad)
        bad = (st->cur = snapshot_new(st, 0)) == NULL;
    if (bad) {
        ts_sensor_store_free(st);
        TS_FAIL(err, TS_ENOMEM, "sensor store");
        return NULL;
    }
    return st;
}

void
ts_sensor_store_free(ts_sensor_store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n; i++)
        entry_free(st->e[i]);
    free(st->e);
    free(st->slots);
    free(st->order);
    for (size_t i = 0; i < st->ngone; i++)
        free(st->gone[i].id);
    free(st->gone);
    for (int i = 0; i < st->nfields; i++)
        free(st->fields[i]);
    free(st->fields);
    ts_feed_snapshot_unref(st->cur);
    free(st->feed);
    free(st->stale_state);
    free(st);
}

size_t
ts_sensor_store_count(const ts_sensor_store *st)
{
    return st->n;
}

static int
is_stale(const ts_sensor_store *st, const entry *e, int64_t now)
{
    return st->stale_after > 0 && now - e->update_ms > st->stale_after;
}

static void
mark_changed(ts_sensor_store *st, entry *e, unsigned what)
{
    if (!e->changed)
        st->npending++;
    e->changed |= what;
}

static entry *
create_entry(ts_sensor_store *st, const char *id, int64_t now)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        entry **ne = realloc(st->e, cap * sizeof *ne);
        if (ne == NULL)
            return NULL;
        st->e = ne;
        st->cap = cap;
    }
    if ((st->n + 1) * 2 >= st->nslots && rehash(st, st->nslots * 2) != 0)
        return NULL;
    entry *e = calloc(1, sizeof *e);
    if (e == NULL || (e->id = strdup(id)) == NULL) {
        free(e);
        return NULL;
    }
    e->state_t = TS_FEED_TIME_NONE;
    e->obs_t = TS_FEED_TIME_NONE;
    e->update_ms = now;
    e->seen_ms = now;
    e->mark = st->gen;
    st->e[st->n++] = e;
    size_t h = (size_t)id_hash(id) & (st->nslots - 1);
    while (st->slots[h] != 0)
        h = (h + 1) & (st->nslots - 1);
    st->slots[h] = (uint32_t)st->n;
    st->resort = 1;
    mark_changed(st, e, TS_FEED_CHANGED_ADDED);
    return e;
}

static int
set_str(char **dst, const char *s)
{
    if (s == NULL) {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    if (*dst != NULL && strcmp(*dst, s) == 0)
        return 0;
    char *c = strdup(s);
    if (c == NULL)
        return -1;
    free(*dst);
    *dst = c;
    return 1;
}

/* The slot for name, inserted (sorted) when missing; NULL on allocation failure. */
static vslot *
value_slot(entry *e, const char *name, int *created)
{
    uint32_t lo = 0, hi = e->nvals;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e->vals[mid].name, name);
        if (c == 0) {
            *created = 0;
            return &e->vals[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (e->nvals == e->vcap) {
        uint32_t cap = e->vcap ? e->vcap * 2 : 4;
        vslot *nv = realloc(e->vals, cap * sizeof *nv);
        if (nv == NULL)
            return NULL;
        e->vals = nv;
        e->vcap = cap;
    }
    char *c = strdup(name);
    if (c == NULL)
        return NULL;
    memmove(e->vals + lo + 1, e->vals + lo, (e->nvals - lo) * sizeof *e->vals);
    e->nvals++;
    e->vals[lo] = (vslot){.name = c, .v = 0, .t = TS_FEED_TIME_NONE};
    *created = 1;
    return &e->vals[lo];
}

ts_apply_result
ts_sensor_store_apply(ts_sensor_store *st, const ts_obs *o, int64_t now)
{
    if (o->sensor == NULL || o->sensor[0] == '\0')
        return TS_APPLY_NOCHANGE;
    entry *e = find_entry(st, o->sensor);
    if (o->kind == TS_OBS_SEEN) { /* refused item: keep the sensor as it is */
        if (e != NULL)
            e->mark = st->gen;
        return TS_APPLY_NOCHANGE;
    }
    int fresh_entry = 0;
    if (e == NULL) {
        if ((e = create_entry(st, o->sensor, now)) == NULL)
            return TS_APPLY_ENOMEM;
        fresh_entry = 1;
    }
    e->mark = st->gen;
    ts_apply_result res = fresh_entry ? TS_APPLY_POSITION : TS_APPLY_NOCHANGE;
    if (o->has_pos && (!e->has_pos || e->lon != o->lon || e->lat != o->lat)) {
        e->has_pos = 1;
        e->lon = o->lon;
        e->lat = o->lat;
        mark_changed(st, e, TS_FEED_CHANGED_POS);
        res = TS_APPLY_POSITION;
    }
    if (o->label != NULL) {
        int r = set_str(&e->label, o->label);
        if (r < 0)
            return TS_APPLY_ENOMEM;
        if (r > 0) {
            mark_changed(st, e, TS_FEED_CHANGED_LABEL);
            res = TS_APPLY_POSITION;
        }
    }
    if (o->kind == TS_OBS_NONE || o->time_ms == TS_FEED_TIME_NONE)
        return res;

    int64_t t = o->time_ms;
    unsigned what = TS_FEED_CHANGED_TIME;
    if (o->kind == TS_OBS_STATE) {
        if (o->state == NULL)
            return res;
        if (e->state_t != TS_FEED_TIME_NONE && t < e->state_t)
            return TS_APPLY_OLD;
        if (e->state_t != TS_FEED_TIME_NONE && t == e->state_t)
            return TS_APPLY_DUPLICATE;
        int r = set_str(&e->state, o->state);
        if (r < 0)
            return TS_APPLY_ENOMEM;
        if (r > 0)
            what |= TS_FEED_CHANGED_STATE;
        e->state_t = t;
    } else {
        if (o->name == NULL)
            return res;
        int created;
        vslot *v = value_slot(e, o->name, &created);
        if (v == NULL)
            return TS_APPLY_ENOMEM;
        if (!created && t < v->t)
            return TS_APPLY_OLD;
        if (!created && t == v->t)
            return TS_APPLY_DUPLICATE;
        if (created && add_field(st, o->name) != 0)
            return TS_APPLY_ENOMEM;
        if (created || v->v != o->value)
            what |= TS_FEED_CHANGED_VALUE;
        v->v = o->value;
        v->t = t;
    }
    /* staleness counts from the newest observation (or its arrival); the first one
     * replaces the creation time, so a sensor loaded with an old reading is stale */
    int64_t ref = st->basis == TS_FEED_STALE_RECEIVED ? now : (t < now ? t : now);
    if (e->obs_t == TS_FEED_TIME_NONE || ref > e->update_ms)
        e->update_ms = ref;
    if (e->obs_t == TS_FEED_TIME_NONE || t > e->obs_t)
        e->obs_t = t;
    e->seen_ms = now;
    int stale = is_stale(st, e, now);
    if (stale != e->stale)
        what |= TS_FEED_CHANGED_STALE;
    e->stale = stale;
    mark_changed(st, e, what);
    return TS_APPLY_ACCEPTED;
}

void
ts_sensor_store_mark(ts_sensor_store *st)
{
    st->gen++;
}

size_t
ts_sensor_store_sweep(ts_sensor_store *st)
{
    size_t ndead = 0;
    for (size_t i = 0; i < st->n; i++)
        ndead += st->e[i]->mark != st->gen;
    if (ndead == 0)
        return 0;
    /* take every allocation first, so that a failure leaves the store as it was */
    if (st->ngone + ndead > st->gcap) {
        gone *ng = realloc(st->gone, (st->ngone + ndead) * sizeof *ng);
        if (ng == NULL)
            return 0;
        st->gone = ng;
        st->gcap = st->ngone + ndead;
    }
    uint32_t *slots = malloc(st->nslots * sizeof *slots);
    if (slots == NULL)
        return 0;
    for (size_t i = 0; i < st->n;) {
        entry *e = st->e[i];
        if (e->mark == st->gen) {
            i++;
            continue;
        }
        if (e->pub != NULL) {
            st->gone[st->ngone++] = (gone){.id = e->id,
                                           .had_pos = e->pub->s.has_pos,
                                           .lon = e->pub->s.lon,
                                           .lat = e->pub->s.lat};
            e->id = NULL;
        }
        if (e->changed)
            st->npending--;
        entry_free(e);
        st->e[i] = st->e[--st->n];
    }
    fill_slots(st, slots, st->nslots);
    free(st->slots);
    st->slots = slots;
    st->resort = 1;
    return ndead;
}

size_t
ts_sensor_store_check_stale(ts_sensor_store *st, int64_t now)
{
    size_t changed = 0;
    for (size_t i = 0; i < st->n; i++) {
        entry *e = st->e[i];
        int s = is_stale(st, e, now);
        if (s != e->stale) {
            e->stale = s;
            mark_changed(st, e, TS_FEED_CHANGED_STALE);
            changed++;
        }
    }
    return changed;
}

int64_t
ts_sensor_store_next_stale(const ts_sensor_store *st)
{
    int64_t next = INT64_MAX;
    if (st->stale_after <= 0)
        return next;
    for (size_t i = 0; i < st->n; i++) {
        const entry *e = st->e[i];
        if (!e->stale && e->update_ms + st->stale_after + 1 < next)
            next = e->update_ms + st->stale_after + 1;
    }
    return next;
}

size_t
ts_sensor_store_pending(const ts_sensor_store *st)
{
    return st->npending + st->ngone;
}

ts_feed_snapshot *
ts_sensor_store_current(ts_sensor_store *st)
{
    return st->cur;
}

static int
cmp_entry(const void *a, const void *b)
{
    return strcmp((*(entry *const *)a)->id, (*(entry *const *)b)->id);
}

/* One allocation: the record, its values, then its strings. */
static ts_sensor_rec *
build_rec(const ts_sensor_store *st, const entry *e)
{
    size_t strs = strlen(e->id) + 1;
    strs += e->label ? strlen(e->label) + 1 : 0;
    strs += e->state ? strlen(e->state) + 1 : 0;
    int use_stale = e->stale && st->stale_state != NULL;
    strs += use_stale ? strlen(st->stale_state) + 1 : 0;
    for (uint32_t i = 0; i < e->nvals; i++)
        strs += strlen(e->vals[i].name) + 1;
    size_t head = sizeof(ts_sensor_rec);
    head =
        (head + alignof(ts_sensor_value) - 1) / alignof(ts_sensor_value) * alignof(ts_sensor_value);
    ts_sensor_rec *r = malloc(head + e->nvals * sizeof(ts_sensor_value) + strs);
    if (r == NULL)
        return NULL;
    atomic_init(&r->refs, 1);
    ts_sensor_value *vals = (ts_sensor_value *)((char *)r + head);
    char *p = (char *)(vals + e->nvals);
#define PUT(dst, src)                                                                              \
    do {                                                                                           \
        size_t l_ = strlen(src) + 1;                                                               \
        memcpy(p, (src), l_);                                                                      \
        (dst) = p;                                                                                 \
        p += l_;                                                                                   \
    } while (0)
    ts_sensor *s = &r->s;
    memset(s, 0, sizeof *s);
    PUT(s->id, e->id);
    if (e->label)
        PUT(s->label, e->label);
    if (e->state)
        PUT(s->last_state, e->state);
    if (use_stale)
        PUT(s->state, st->stale_state);
    else
        s->state = s->last_state;
    for (uint32_t i = 0; i < e->nvals; i++) {
        PUT(vals[i].name, e->vals[i].name);
        vals[i].v = e->vals[i].v;
        vals[i].time_ms = e->vals[i].t;
    }
#undef PUT
    s->has_pos = e->has_pos;
    s->lon = e->has_pos ? e->lon : 0;
    s->lat = e->has_pos ? e->lat : 0;
    s->state_time_ms = e->state_t;
    s->time_ms = e->obs_t;
    s->seen_ms = e->seen_ms;
    s->stale = e->stale;
    s->nvalues = e->nvals;
    s->values = vals;
    return r;
}

ts_status
ts_sensor_store_publish(ts_sensor_store *st, int64_t now, ts_feed_change **changes, size_t *nout)
{
    *changes = NULL;
    *nout = 0;
    size_t nch = st->npending + st->ngone;
    if (nch == 0)
        return TS_OK;
    if (st->resort || st->norder != st->n) {
        entry **order = realloc(st->order, (st->n ? st->n : 1) * sizeof *order);
        if (order == NULL)
            return TS_ENOMEM;
        memcpy(order, st->e, st->n * sizeof *order);
        qsort(order, st->n, sizeof *order, cmp_entry);
        st->order = order;
        st->norder = st->n;
        st->resort = 0;
    }
    ts_feed_snapshot *snap = snapshot_new(st, (uint32_t)st->n);
    ts_sensor_rec **fresh = calloc(st->n ? st->n : 1, sizeof *fresh);
    size_t idbytes = 0;
    for (size_t i = 0; i < st->n; i++)
        if (st->order[i]->changed)
            idbytes += strlen(st->order[i]->id) + 1;
    for (size_t i = 0; i < st->ngone; i++)
        idbytes += strlen(st->gone[i].id) + 1;
    ts_feed_change *ch = malloc(nch * sizeof *ch + idbytes);
    if (snap == NULL || fresh == NULL || ch == NULL)
        goto nomem;
    char *idp = (char *)(ch + nch);
    size_t k = 0;
    uint32_t nstale = 0;
    for (size_t i = 0; i < st->n; i++) {
        entry *e = st->order[i];
        ts_sensor_rec *r;
        if (e->changed || e->pub == NULL) {
            if ((r = fresh[i] = build_rec(st, e)) == NULL)
                goto nomem;
        } else {
            r = e->pub;
        }
        atomic_fetch_add(&r->refs, 1);
        snap->recs[snap->n++] = r;
        nstale += (uint32_t)r->s.stale;
        if (e->changed) {
            size_t l = strlen(e->id) + 1;
            memcpy(idp, e->id, l);
            ch[k++] = (ts_feed_change){.id = idp,
                                       .what = e->changed,
                                       .had_pos = e->pub != NULL && e->pub->s.has_pos,
                                       .old_lon = e->pub ? e->pub->s.lon : 0,
                                       .old_lat = e->pub ? e->pub->s.lat : 0,
                                       .has_pos = r->s.has_pos,
                                       .lon = r->s.lon,
                                       .lat = r->s.lat};
            idp += l;
        }
    }
    for (size_t i = 0; i < st->ngone; i++) {
        size_t l = strlen(st->gone[i].id) + 1;
        memcpy(idp, st->gone[i].id, l);
        ch[k++] = (ts_feed_change){.id = idp,
                                   .what = TS_FEED_CHANGED_REMOVED,
                                   .had_pos = st->gone[i].had_pos,
                                   .old_lon = st->gone[i].lon,
                                   .old_lat = st->gone[i].lat};
        idp += l;
        free(st->gone[i].id);
    }
    st->ngone = 0;
    /* commit: entries take their new records */
    for (size_t i = 0; i < st->n; i++) {
        entry *e = st->order[i];
        if (fresh[i] != NULL) {
            rec_unref(e->pub);
            e->pub = fresh[i]; /* the build reference */
        }
        e->changed = 0;
    }
    st->npending = 0;
    free(fresh);
    snap->nstale = nstale;
    snap->version = st->cur->version + 1;
    snap->time_ms = now;
    ts_feed_snapshot_unref(st->cur);
    st->cur = snap;
    *changes = ch;
    *nout = k;
    return TS_OK;

nomem:
    if (fresh != NULL)
        for (size_t i = 0; i < st->n; i++)
            rec_unref(fresh[i]);
    free(fresh);
    if (snap != NULL)
        snapshot_free(snap);
    free(ch);
    return TS_ENOMEM;
}
