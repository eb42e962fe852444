/*
 * table.c - the tables of .mbx programs (mbx.h section 12).
 *
 * A table is an open hash (chained through entry indexes) over fixed-size
 * encoded keys, with two doubly linked lists through its entries: insertion
 * order (iteration; a full table evicts the oldest entry, the head) and
 * last-write order (expiry sweeps from the oldest write).  Entries, keys and
 * values live in three parallel arrays that double when full, up to the
 * table's bound, so a table stops allocating once it has reached its working
 * size.  Expiry is lazy, on packet time: writes and len() sweep expired
 * entries from the head of the write list (amortised O(1)); reads treat an
 * expired entry as missing.  Removed entries keep their forward links and are
 * not reused until the next write, so an iteration survives reads and
 * removals made inside its loop.  A map<K, set<T>> holds one nested table per
 * key; nested tables of removed entries are cleared and recycled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mbx.h"

#define T_LIVE 0x1 /* entry holds a key */

struct tent {
    uint64_t hash;  /* hash of the encoded key */
    mbx_time wtime; /* last write */
    uint32_t hnext; /* bucket chain / free list: index + 1 (0: end) */
    uint32_t iprev; /* insertion order: index + 1 */
    uint32_t inext;
    uint32_t wprev; /* write order: index + 1 */
    uint32_t wnext;
    uint32_t flags; /* T_* */
};

/* Encoded str key: length, then the bytes (zero padded); longer keys keep their
 * first STR_PREFIX bytes and a hash of the whole string. */
#define STR_PREFIX 40
struct skey {
    uint64_t len;                 /* the string's length */
    uint8_t b[MBX_TABLE_KEY_MAX]; /* bytes, or prefix + 8-byte hash */
};

/* A stored str value: a view of its own bytes. */
struct sval {
    struct mbx_str v;             /* what mbx_table_get() hands out */
    uint8_t b[MBX_TABLE_STR_MAX]; /* the bytes */
};

struct mbx_table {
    struct mbx_table_def def; /* kinds, expire, max */
    char name[64];            /* def.name copied */
    size_t ksize, vsize;      /* encoded key and value sizes */
    uint32_t cap;             /* entries allocated */
    uint32_t used;            /* entries ever handed out (high water) */
    uint32_t n;               /* live entries */
    uint32_t nbuckets;        /* power of two */
    uint32_t *buckets;        /* index + 1 */
    struct tent *ents;        /* entries */
    uint8_t *keys;            /* cap * ksize */
    uint8_t *vals;            /* cap * vsize */
    uint32_t freel;           /* removed entries: index + 1, chained by hnext */
    uint32_t last;            /* the entry found last: index + 1 (0: none); generated
                               * code often reads t[k] right after writing it */
    uint32_t ihead, itail;    /* insertion order */
    uint32_t whead, wtail;    /* write order */
    uint64_t evicted;         /* entries evicted: full */
    uint64_t failed;          /* writes lost: out of memory */
    uint64_t truncated;       /* str values cut to MBX_TABLE_STR_MAX */
    mbx_table **spare;        /* recycled nested sets */
    uint32_t nspare, capspare;
};

static size_t key_size(uint8_t k)
{
    switch (k) {
    case MBX_TK_ADDR:
        return sizeof(struct mbx_addr);
    case MBX_TK_STR:
    case MBX_TK_BYTES:
        return sizeof(struct skey);
    default:
        return sizeof(uint64_t);
    }
}

static size_t val_size(uint8_t v)
{
    switch (v) {
    case MBX_TK_NONE:
        return 0;
    case MBX_TK_ADDR:
        return sizeof(struct mbx_addr);
    case MBX_TK_STR:
    case MBX_TK_BYTES:
        return sizeof(struct sval);
    case MBX_TK_SET:
        return sizeof(mbx_table *);
    default:
        return sizeof(uint64_t);
    }
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = mix(h ^ w);
        b += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, b, n);
    return mix(h ^ w ^ 0x1234567ULL);
}

/* Encode k into buf (ksize bytes, zero padded): equal keys, equal bytes. */
static inline void key_encode(const mbx_table *t, struct mbx_tkey k, uint8_t *buf)
{
    switch (t->def.key) {
    case MBX_TK_ADDR:
        if (k.p)
            memcpy(buf, k.p, sizeof(struct mbx_addr));
        else
            memset(buf, 0, sizeof(struct mbx_addr));
        break;
    case MBX_TK_STR:
    case MBX_TK_BYTES: {
        struct skey sk;
        memset(&sk, 0, sizeof(sk));
        sk.len = k.n;
        if (k.n <= MBX_TABLE_KEY_MAX) {
            if (k.n)
                memcpy(sk.b, k.p, k.n);
        } else {
            memcpy(sk.b, k.p, STR_PREFIX);
            uint64_t h = hash_bytes(k.p, k.n, 0x5eed);
            memcpy(sk.b + STR_PREFIX, &h, 8);
        }
        memcpy(buf, &sk, sizeof(sk));
        break;
    }
    case MBX_TK_BOOL: {
        uint64_t v = k.u != 0;
        memcpy(buf, &v, 8);
        break;
    }
    default:
        memcpy(buf, &k.u, 8);
        break;
    }
}

static struct mbx_tkey key_decode(const mbx_table *t, const uint8_t *buf)
{
    struct mbx_tkey k = {0, NULL, 0};
    switch (t->def.key) {
    case MBX_TK_ADDR:
        k.p = buf;
        k.n = sizeof(struct mbx_addr);
        break;
    case MBX_TK_STR:
    case MBX_TK_BYTES: {
        const struct skey *sk = (const struct skey *)(const void *)buf;
        k.p = sk->b;
        k.n = sk->len <= MBX_TABLE_KEY_MAX ? sk->len : STR_PREFIX; /* long keys: the prefix */
        break;
    }
    default:
        memcpy(&k.u, buf, 8);
        break;
    }
    return k;
}

mbx_table *mbx_table_new(const struct mbx_table_def *d)
{
    if (d == NULL || d->key == MBX_TK_NONE || d->key == MBX_TK_SET ||
        (d->val == MBX_TK_SET && (d->elem == MBX_TK_NONE || d->elem == MBX_TK_SET))) {
        errno = EINVAL;
        return NULL;
    }
    mbx_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->def = *d;
    snprintf(t->name, sizeof(t->name), "%s", d->name ? d->name : "table");
    t->def.name = t->name;
    if (t->def.max == 0)
        t->def.max = MBX_TABLE_DEFAULT_MAX;
    if (t->def.max > UINT32_MAX - 1)
        t->def.max = UINT32_MAX - 1;
    t->ksize = key_size(d->key);
    t->vsize = val_size(d->val);
    return t;
}

static void table_clear(mbx_table *t);

void mbx_table_free(mbx_table *t)
{
    if (t == NULL)
        return;
    table_clear(t); /* recycles nested sets into spare */
    for (uint32_t i = 0; i < t->nspare; i++)
        mbx_table_free(t->spare[i]);
    free(t->spare);
    free(t->buckets);
    free(t->ents);
    free(t->keys);
    free(t->vals);
    free(t);
}

static inline uint8_t *key_at(const mbx_table *t, uint32_t i)
{
    return t->keys + (size_t)i * t->ksize;
}

static inline uint8_t *val_at(const mbx_table *t, uint32_t i)
{
    return t->vals + (size_t)i * t->vsize;
}

/* Grow the arrays to hold at least one more entry; 0 or -ENOMEM. */
static int table_grow(mbx_table *t)
{
    uint64_t ncap64 = t->cap ? (uint64_t)t->cap * 2 : 16;
    if (ncap64 > t->def.max)
        ncap64 = t->def.max;
    uint32_t ncap = (uint32_t)ncap64;
    if (ncap <= t->cap)
        return -ENOMEM;
    struct tent *ne = realloc(t->ents, (size_t)ncap * sizeof(*ne));
    if (ne == NULL)
        return -ENOMEM;
    t->ents = ne;
    uint8_t *nk = realloc(t->keys, (size_t)ncap * t->ksize);
    if (nk == NULL)
        return -ENOMEM;
    t->keys = nk;
    if (t->vsize) {
        uint8_t *nv = realloc(t->vals, (size_t)ncap * t->vsize);
        if (nv == NULL)
            return -ENOMEM;
        t->vals = nv;
        if (t->def.val == MBX_TK_STR || t->def.val == MBX_TK_BYTES)
            for (uint32_t i = 0; i < t->used; i++) { /* the views point into vals */
                struct sval *sv = (struct sval *)(void *)val_at(t, i);
                sv->v.p = sv->b;
            }
    }
    uint32_t nb = t->nbuckets ? t->nbuckets : 16;
    while (nb < ncap)
        nb *= 2;
    if (nb != t->nbuckets) {
        uint32_t *b = calloc(nb, sizeof(*b));
        if (b == NULL)
            return -ENOMEM;
        free(t->buckets);
        t->buckets = b;
        t->nbuckets = nb;
        for (uint32_t i = 0; i < t->used; i++) {
            struct tent *e = &t->ents[i];
            if (!(e->flags & T_LIVE))
                continue;
            uint32_t h = (uint32_t)(e->hash & (nb - 1));
            e->hnext = b[h];
            b[h] = i + 1;
        }
    }
    t->cap = ncap;
    return 0;
}

/* The entry found last, if its key is kb (no hashing). */
static inline uint32_t lookaside(const mbx_table *t, const uint8_t *kb)
{
    return t->last && memcmp(key_at(t, t->last - 1), kb, t->ksize) == 0 ? t->last : 0;
}

static uint32_t find(mbx_table *t, const uint8_t *kb, uint64_t h)
{
    if (t->nbuckets == 0)
        return 0;

    for (uint32_t x = t->buckets[h & (t->nbuckets - 1)]; x; x = t->ents[x - 1].hnext) {
        const struct tent *e = &t->ents[x - 1];
        if (e->hash == h && memcmp(key_at(t, x - 1), kb, t->ksize) == 0) {
            t->last = x;
            return x;
        }
    }
    return 0;
}

static bool expired(const mbx_table *t, const struct tent *e, mbx_time now)
{
    return t->def.expire && now >= e->wtime && now - e->wtime >= t->def.expire;
}

static void wlist_unlink(mbx_table *t, uint32_t x)
{
    struct tent *e = &t->ents[x - 1];
    if (e->wprev)
        t->ents[e->wprev - 1].wnext = e->wnext;
    else
        t->whead = e->wnext;
    if (e->wnext)
        t->ents[e->wnext - 1].wprev = e->wprev;
    else
        t->wtail = e->wprev;
    e->wprev = e->wnext = 0;
}

static void wlist_append(mbx_table *t, uint32_t x)
{
    struct tent *e = &t->ents[x - 1];
    e->wprev = t->wtail;
    e->wnext = 0;
    if (t->wtail)
        t->ents[t->wtail - 1].wnext = x;
    else
        t->whead = x;
    t->wtail = x;
}

/* Unlink entry x everywhere but keep its forward insertion link (iterations). */
static void remove_entry(mbx_table *t, uint32_t x)
{
    struct tent *e = &t->ents[x - 1];
    uint32_t *pp = &t->buckets[e->hash & (t->nbuckets - 1)];
    while (*pp && *pp != x)
        pp = &t->ents[*pp - 1].hnext;
    if (*pp)
        *pp = e->hnext;
    if (e->iprev)
        t->ents[e->iprev - 1].inext = e->inext;
    else
        t->ihead = e->inext;
    if (e->inext)
        t->ents[e->inext - 1].iprev = e->iprev;
    else
        t->itail = e->iprev;
    wlist_unlink(t, x);
    e->flags &= ~T_LIVE;
    if (t->last == x)
        t->last = 0;
    if (t->def.val == MBX_TK_SET) {
        mbx_table *s = *(mbx_table **)(void *)val_at(t, x - 1);
        if (s) {
            table_clear(s);
            if (t->nspare == t->capspare) {
                uint32_t nc = t->capspare ? 2 * t->capspare : 16;
                mbx_table **ns = realloc(t->spare, nc * sizeof(*ns));
                if (ns) {
                    t->spare = ns;
                    t->capspare = nc;
                }
            }
            if (t->nspare < t->capspare)
                t->spare[t->nspare++] = s;
            else
                mbx_table_free(s);
            *(mbx_table **)(void *)val_at(t, x - 1) = NULL;
        }
    }
    e->hnext = t->freel;
    t->freel = x;
    t->n--;
}

static void table_clear(mbx_table *t)
{
    while (t->whead)
        remove_entry(t, t->whead);
    t->freel = 0;
    t->used = 0;
    t->last = 0;
    t->ihead = t->itail = 0;
    if (t->buckets)
        memset(t->buckets, 0, t->nbuckets * sizeof(*t->buckets));
}

static void sweep(mbx_table *t, mbx_time now)
{
    while (t->whead && expired(t, &t->ents[t->whead - 1], now))
        remove_entry(t, t->whead);
}

const void *mbx_table_get(mbx_table *t, struct mbx_tkey k, mbx_time now)
{
    uint8_t kb[sizeof(struct skey)];
    key_encode(t, k, kb);
    uint32_t x = lookaside(t, kb);
    if (x == 0)
        x = find(t, kb, hash_bytes(kb, t->ksize, 0));
    if (x == 0 || expired(t, &t->ents[x - 1], now))
        return NULL;
    return t->vsize ? (const void *)val_at(t, x - 1) : (const void *)t;
}

bool mbx_table_contains(mbx_table *t, struct mbx_tkey k, mbx_time now)
{
    return mbx_table_get(t, k, now) != NULL;
}

/* The entry of k, inserted when missing; marks it written.  0 when out of memory. */
static uint32_t put(mbx_table *t, struct mbx_tkey k, mbx_time now, bool *fresh)
{
    uint8_t kb[sizeof(struct skey)];
    key_encode(t, k, kb);
    sweep(t, now);
    *fresh = false;
    uint32_t x = lookaside(t, kb);
    uint64_t h = 0;
    if (x == 0) {
        h = hash_bytes(kb, t->ksize, 0);
        x = find(t, kb, h);
    }
    if (x) {
        t->ents[x - 1].wtime = now;
        if (t->wtail != x) {
            wlist_unlink(t, x);
            wlist_append(t, x);
        }
        return x;
    }
    if (t->n >= t->def.max && t->ihead) { /* full: the oldest entry goes */
        remove_entry(t, t->ihead);
        t->evicted++;
    }
    /* reuse a removed entry only when no iteration can be standing on it: removed
     * entries are reused from the free list (writes during iteration are errors) */
    if (t->freel) {
        x = t->freel;
        t->freel = t->ents[x - 1].hnext;
    } else {
        if (t->used == t->cap && table_grow(t) != 0) {
            t->failed++;
            return 0;
        }
        if (t->nbuckets == 0 && table_grow(t) != 0) {
            t->failed++;
            return 0;
        }
        x = ++t->used;
    }
    struct tent *e = &t->ents[x - 1];
    memset(e, 0, sizeof(*e));
    e->hash = h;
    e->wtime = now;
    e->flags = T_LIVE;
    memcpy(key_at(t, x - 1), kb, t->ksize);
    if (t->vsize)
        memset(val_at(t, x - 1), 0, t->vsize);
    if (t->def.val == MBX_TK_STR || t->def.val == MBX_TK_BYTES) {
        struct sval *sv = (struct sval *)(void *)val_at(t, x - 1);
        sv->v.p = sv->b;
    }
    uint32_t b = (uint32_t)(h & (t->nbuckets - 1));
    e->hnext = t->buckets[b];
    t->buckets[b] = x;
    e->iprev = t->itail;
    if (t->itail)
        t->ents[t->itail - 1].inext = x;
    else
        t->ihead = x;
    t->itail = x;
    wlist_append(t, x);
    t->n++;
    t->last = x;
    *fresh = true;
    return x;
}

void *mbx_table_put(mbx_table *t, struct mbx_tkey k, mbx_time now)
{
    bool fresh;
    uint32_t x = put(t, k, now, &fresh);
    if (x == 0)
        return NULL;
    return t->vsize ? (void *)val_at(t, x - 1) : (void *)t;
}

int mbx_table_put_str(mbx_table *t, struct mbx_tkey k, struct mbx_str v, mbx_time now)
{
    if (t->def.val != MBX_TK_STR && t->def.val != MBX_TK_BYTES)
        return -EINVAL;
    struct sval *sv = mbx_table_put(t, k, now);
    if (sv == NULL)
        return -ENOMEM;
    size_t n = v.n;
    if (n > MBX_TABLE_STR_MAX) {
        n = MBX_TABLE_STR_MAX;
        t->truncated++;
    }
    if (n)
        memmove(sv->b, v.p, n);
    sv->v.p = sv->b;
    sv->v.n = n;
    return 0;
}

mbx_table *mbx_table_put_set(mbx_table *t, struct mbx_tkey k, mbx_time now)
{
    if (t->def.val != MBX_TK_SET)
        return NULL;
    bool fresh;
    uint32_t x = put(t, k, now, &fresh);
    if (x == 0)
        return NULL;
    mbx_table **slot = (mbx_table **)(void *)val_at(t, x - 1);
    if (*slot == NULL) {
        if (t->nspare) {
            *slot = t->spare[--t->nspare];
        } else {
            struct mbx_table_def d = {t->name,     t->def.elem,   MBX_TK_NONE,
                                      MBX_TK_NONE, t->def.expire, t->def.max};
            *slot = mbx_table_new(&d);
            if (*slot == NULL)
                t->failed++;
        }
    }
    return *slot;
}

bool mbx_table_remove(mbx_table *t, struct mbx_tkey k)
{
    uint8_t kb[sizeof(struct skey)];
    key_encode(t, k, kb);
    uint32_t x = find(t, kb, hash_bytes(kb, t->ksize, 0));
    if (x == 0)
        return false;
    remove_entry(t, x);
    return true;
}

uint64_t mbx_table_len(mbx_table *t, mbx_time now)
{
    sweep(t, now);
    return t->n;
}

bool mbx_table_next(mbx_table *t, uint32_t *it, mbx_time now, struct mbx_tkey *key,
                    const void **val)
{
    uint32_t x = *it == 0 ? t->ihead : *it == UINT32_MAX ? 0 : *it;
    for (; x; x = t->ents[x - 1].inext) {
        const struct tent *e = &t->ents[x - 1];
        if ((e->flags & T_LIVE) && !expired(t, e, now))
            break;
    }
    if (x == 0) {
        *it = UINT32_MAX;
        return false;
    }
    uint32_t nx = t->ents[x - 1].inext;
    *it = nx ? nx : UINT32_MAX;
    if (key)
        *key = key_decode(t, key_at(t, x - 1));
    if (val)
        *val = t->vsize ? (const void *)val_at(t, x - 1) : NULL;
    return true;
}

/* Sorting keys for JSON output. */
static _Thread_local uint8_t sort_kind; /* per thread: workers sort at once */

static int key_cmp(const void *a, const void *b)
{
    const struct mbx_tkey *x = a, *y = b;
    switch (sort_kind) {
    case MBX_TK_INT:
        return ((int64_t)x->u > (int64_t)y->u) - ((int64_t)x->u < (int64_t)y->u);
    case MBX_TK_ADDR:
        return memcmp(x->p, y->p, sizeof(struct mbx_addr));
    case MBX_TK_STR:
    case MBX_TK_BYTES: {
        size_t n = x->n < y->n ? x->n : y->n;
        int c = n ? memcmp(x->p, y->p, n) : 0;
        return c ? c : (x->n > y->n) - (x->n < y->n);
    }
    default:
        return (x->u > y->u) - (x->u < y->u);
    }
}

void mbx_table_out_keys(mbx_table *t, struct mbx_out *o, const char *key, mbx_time now)
{
    /* on the stack up to 256 keys, else on the heap for this call (several
     * worker threads may write at once: nothing shared) */
    struct mbx_tkey small[256], *keys = small;
    size_t capkeys = sizeof(small) / sizeof(small[0]);
    size_t n = 0;
    uint32_t it = 0;
    struct mbx_tkey k;
    while (mbx_table_next(t, &it, now, &k, NULL)) {
        if (n == capkeys) {
            size_t nc = 2 * capkeys;
            struct mbx_tkey *nk = realloc(keys == small ? NULL : keys, nc * sizeof(*nk));
            if (nk == NULL)
                break;
            if (keys == small)
                memcpy(nk, small, sizeof(small));
            keys = nk;
            capkeys = nc;
        }
        keys[n++] = k;
    }
    sort_kind = t->def.key;
    if (n > 1)
        qsort(keys, n, sizeof(*keys), key_cmp);
    mbx_out_array(o, key);
    for (size_t i = 0; i < n; i++) {
        switch (t->def.key) {
        case MBX_TK_INT:
            mbx_out_int(o, NULL, (int64_t)keys[i].u);
            break;
        case MBX_TK_BOOL:
            mbx_out_bool(o, NULL, keys[i].u != 0);
            break;
        case MBX_TK_ADDR:
            mbx_out_addr(o, NULL, keys[i].p);
            break;
        case MBX_TK_STR:
            mbx_out_strn(o, NULL, keys[i].p, keys[i].n);
            break;
        case MBX_TK_BYTES:
            mbx_out_hex(o, NULL, keys[i].p, keys[i].n);
            break;
        default:
            mbx_out_uint(o, NULL, keys[i].u);
            break;
        }
    }
    mbx_out_end_array(o);
    if (keys != small)
        free(keys);
}

uint64_t mbx_table_evicted(const mbx_table *t)
{
    return t->evicted;
}

uint64_t mbx_table_failed(const mbx_table *t)
{
    return t->failed;
}

const char *mbx_table_name(const mbx_table *t)
{
    return t->name;
}
