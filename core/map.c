/* lugo.map and lugo.atomic (see map.h).
 *
 * A map is a chained hash table under one uv_mutex_t. Only the lock's
 * holder touches the table; hashing a key and copying a string value in
 * happen before the lock is taken, and freeing what a call removed after
 * it is let go, so the critical sections stay short. An entry owns its
 * key's bytes (inline, after it) and its string value's bytes (a block of
 * their own, replaced on every set).
 */
#include <string.h>
#include "lugo.h"

#define MINBUCKETS 8

struct lg_mentry_s {
  lg_mentry_t *next;      /* in its bucket's chain */
  uint64_t hash;
  int64_t expires;        /* ns on lg_now()'s clock; 0: never */
  lg_mval_t val;          /* a string's bytes: an lg__malloc'd block, or
                             NULL when empty */
  lg_mval_t key;          /* a string's bytes: kbytes */
  char kbytes[];
};

/* ---------------------------------------------------------------- values */

void lg_mval_free(lg_mval_t *v, const char *buf) {
  if (v->type == LG_MSTR && v->u.s.p != buf) lg__free((void *)v->u.s.p);
  v->type = LG_MNIL;
}

static int isnum(const lg_mval_t *v) {
  return v->type == LG_MINT || v->type == LG_MNUM;
}

static int isvalue(const lg_mval_t *v) {
  return v->type == LG_MBOOL || isnum(v) ||
         (v->type == LG_MSTR && (v->u.s.p != NULL || v->u.s.len == 0));
}

/* Copy `k` into *out as the key it stands for: a float with an integer
 * value becomes that integer, as in a Lua table. 0 if `k` is no key. */
static int normkey(const lg_mval_t *k, lg_mval_t *out) {
  double n;
  *out = *k;
  switch (k->type) {
  case LG_MBOOL:
    out->u.b = k->u.b != 0;
    return 1;
  case LG_MINT:
    return 1;
  case LG_MSTR:
    return k->u.s.p != NULL || k->u.s.len == 0;
  case LG_MNUM:
    n = k->u.n;
    if (n != n) return 0;
    /* [-2^63, 2^63): the doubles an int64 holds; both bounds exact. */
    if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
        (double)(int64_t)n == n) {
      out->type = LG_MINT;
      out->u.i = (int64_t)n;
    }
    return 1;
  default:
    return 0;
  }
}

static int keyeq(const lg_mval_t *a, const lg_mval_t *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
  case LG_MBOOL: return a->u.b == b->u.b;
  case LG_MINT: return a->u.i == b->u.i;
  case LG_MNUM: return a->u.n == b->u.n;
  default:
    return a->u.s.len == b->u.s.len &&
           memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
  }
}

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

/* Of a normalised key. The type goes in too, so true and 1 differ. */
static uint64_t hashkey(const lg_map_t *m, const lg_mval_t *k) {
  uint64_t h = m->seed ^ ((uint64_t)k->type << 56), w;
  const char *p;
  size_t n;
  switch (k->type) {
  case LG_MBOOL: return mix(h ^ (uint64_t)k->u.b);
  case LG_MINT: return mix(h ^ (uint64_t)k->u.i);
  case LG_MNUM:
    memcpy(&w, &k->u.n, sizeof w);
    return mix(h ^ w);
  default:
    p = k->u.s.p;
    n = k->u.s.len;
    h = mix(h ^ (uint64_t)n);
    for (; n >= 8; p += 8, n -= 8) {
      memcpy(&w, p, 8);
      h = mix(h ^ w);
    }
    if (n > 0) {
      w = 0;
      memcpy(&w, p, n);
      h = mix(h ^ w);
    }
    return h;
  }
}

/* a + b for two numbers: integers wrap around (through uint64_t: signed
 * overflow is undefined in C), a float on either side makes a float. */
static lg_mval_t addnum(const lg_mval_t *a, const lg_mval_t *b) {
  lg_mval_t r;
  if (a->type == LG_MINT && b->type == LG_MINT) {
    r.type = LG_MINT;
    r.u.i = (int64_t)((uint64_t)a->u.i + (uint64_t)b->u.i);
  } else {
    r.type = LG_MNUM;
    r.u.n = (a->type == LG_MINT ? (double)a->u.i : a->u.n) +
            (b->type == LG_MINT ? (double)b->u.i : b->u.n);
  }
  return r;
}

/* A copy of a string value's bytes for an entry: 0 with *out set (NULL
 * for an empty string), or LG_ENOMEM. Other values need none. */
static int copyin(const lg_mval_t *v, char **out) {
  *out = NULL;
  if (v->type != LG_MSTR || v->u.s.len == 0) return 0;
  if ((*out = lg__malloc(v->u.s.len)) == NULL) return LG_ENOMEM;
  memcpy(*out, v->u.s.p, v->u.s.len);
  return 0;
}

/* ------------------------------------------------------------- the table
 * Everything here runs under m->lock. What a call unlinks goes on a
 * `dead` list (through `next`) that it frees after unlocking; a value's
 * replaced bytes likewise go to the caller to free. */

static void freeentry(lg_mentry_t *e) {
  if (e->val.type == LG_MSTR) lg__free((void *)e->val.u.s.p);
  lg__free(e);
}

static void freelist(lg_mentry_t *e) {
  lg_mentry_t *next;
  for (; e != NULL; e = next) {
    next = e->next;
    freeentry(e);
  }
}

/* `now` is read once per call, and only if an entry has a deadline. */
static int expired(const lg_mentry_t *e, int64_t *now) {
  if (e->expires == 0) return 0;
  if (*now == 0) *now = lg_now();
  return e->expires <= *now;
}

/* The link that points at the entry for `k` (live or expired), or NULL. */
static lg_mentry_t **find(lg_map_t *m, const lg_mval_t *k, uint64_t h) {
  lg_mentry_t **pe = &m->buckets[h & (m->nbuckets - 1)];
  for (; *pe != NULL; pe = &(*pe)->next)
    if ((*pe)->hash == h && keyeq(&(*pe)->key, k)) return pe;
  return NULL;
}

static void unlink_entry(lg_map_t *m, lg_mentry_t **pe, lg_mentry_t **dead) {
  lg_mentry_t *e = *pe;
  *pe = e->next;
  e->next = *dead;
  *dead = e;
  m->count--;
}

static void setexpiry(lg_map_t *m, lg_mentry_t *e, int64_t expires) {
  e->expires = expires;
  if (expires != 0 && expires < m->nextexp) m->nextexp = expires;
}

/* Move every entry to a table of `n` buckets (a power of two). Without
 * memory the table stays as it is: longer chains, nothing lost. */
static void rehash(lg_map_t *m, size_t n) {
  lg_mentry_t **nb, *e, *next;
  size_t i;
  if (n == m->nbuckets || n > SIZE_MAX / sizeof *nb) return;
  if ((nb = lg__malloc(n * sizeof *nb)) == NULL) return;
  memset(nb, 0, n * sizeof *nb);
  for (i = 0; i < m->nbuckets; i++) {
    for (e = m->buckets[i]; e != NULL; e = next) {
      next = e->next;
      e->next = nb[e->hash & (n - 1)];
      nb[e->hash & (n - 1)] = e;
    }
  }
  lg__free(m->buckets);
  m->buckets = nb;
  m->nbuckets = n;
}

/* After removals: once under an eighth full, halve until at least a
 * quarter full, so a map that held many keys once does not keep their
 * buckets. */
static void maybeshrink(lg_map_t *m) {
  size_t n = m->nbuckets;
  if (n <= MINBUCKETS || m->count >= n / 8) return;
  while (n > MINBUCKETS && m->count < n / 4) n /= 2;
  rehash(m, n);
}

/* Unlink every expired entry onto *dead, and make nextexp exact. */
static void sweep(lg_map_t *m, lg_mentry_t **dead) {
  lg_mentry_t **pe;
  int64_t now, next = INT64_MAX;
  size_t i;
  if (m->nextexp == INT64_MAX || m->nextexp > (now = lg_now())) return;
  for (i = 0; i < m->nbuckets; i++) {
    pe = &m->buckets[i];
    while (*pe != NULL) {
      if ((*pe)->expires == 0) {
        pe = &(*pe)->next;
      } else if ((*pe)->expires <= now) {
        unlink_entry(m, pe, dead);
      } else {
        if ((*pe)->expires < next) next = (*pe)->expires;
        pe = &(*pe)->next;
      }
    }
  }
  m->nextexp = next;
  maybeshrink(m);
}

/* After an insert: past one entry a bucket, first free what has expired,
 * then double unless that left the table at most half full. The sweep is
 * O(buckets), but then at least half as many inserts as there are buckets
 * come before the next one. */
static void maybegrow(lg_map_t *m, lg_mentry_t **dead) {
  if (m->count <= m->nbuckets) return;
  sweep(m, dead);
  if (m->count > m->nbuckets / 2) rehash(m, m->nbuckets * 2);
}

/* A new entry for the normalised key `k`, linked in, with a nil value;
 * NULL without memory. */
static lg_mentry_t *insert(lg_map_t *m, const lg_mval_t *k, uint64_t h) {
  size_t klen = k->type == LG_MSTR ? k->u.s.len : 0;
  lg_mentry_t *e, **b;
  if (klen > SIZE_MAX - sizeof *e) return NULL;
  if ((e = lg__malloc(sizeof *e + klen)) == NULL) return NULL;
  e->hash = h;
  e->expires = 0;
  e->val.type = LG_MNIL;
  e->key = *k;
  if (k->type == LG_MSTR) {
    if (klen > 0) memcpy(e->kbytes, k->u.s.p, klen);
    e->key.u.s.p = e->kbytes;
  }
  b = &m->buckets[h & (m->nbuckets - 1)];
  e->next = *b;
  *b = e;
  m->count++;
  return e;
}

/* Give `e` the value `v`, whose string bytes (if any) are `bytes`, now
 * the entry's. Returns the old string bytes, for the caller to free after
 * unlocking. */
static char *assign(lg_mentry_t *e, const lg_mval_t *v, char *bytes) {
  char *old = e->val.type == LG_MSTR ? (char *)e->val.u.s.p : NULL;
  e->val = *v;
  if (v->type == LG_MSTR) e->val.u.s.p = bytes;
  return old;
}

/* A deadline `ttl` ns from now; 0 (never) for ttl <= 0 and for one so
 * far off it would overflow. */
static int64_t deadline(int64_t ttl) {
  int64_t now;
  if (ttl <= 0) return 0;
  now = lg_now();
  return ttl > INT64_MAX - now ? 0 : now + ttl;
}

/* ------------------------------------------------------------------ map */

static void map_destroy(lg_shared_t *o) {
  lg_map_t *m = (lg_map_t *)o;
  size_t i;
  for (i = 0; i < m->nbuckets; i++) freelist(m->buckets[i]);
  lg__free(m->buckets);
  uv_mutex_destroy(&m->lock);
  lg__free(m);
}

lg_map_t *lg_map_new(void) {
  lg_map_t *m = lg__malloc(sizeof *m);
  if (m == NULL) return NULL;
  memset(m, 0, sizeof *m);
  m->nbuckets = MINBUCKETS;
  if ((m->buckets = lg__malloc(MINBUCKETS * sizeof *m->buckets)) == NULL) {
    lg__free(m);
    return NULL;
  }
  memset(m->buckets, 0, MINBUCKETS * sizeof *m->buckets);
  if (uv_mutex_init(&m->lock) != 0) {
    lg__free(m->buckets);
    lg__free(m);
    return NULL;
  }
  m->nextexp = INT64_MAX;
  m->seed = mix((uint64_t)lg_now() ^ (uint64_t)(uintptr_t)m);
  lg_shared_init(&m->hdr, LG_SH_MAP, map_destroy);
  return m;
}

int lg_map_get(lg_map_t *m, const lg_mval_t *k, lg_mval_t *out, char *buf,
               size_t bufsz) {
  lg_mval_t key;
  lg_mentry_t **pe, *dead = NULL;
  int64_t now = 0;
  uint64_t h;
  char *p;
  size_t len;
  int rc = 0;
  out->type = LG_MNIL;
  if (!normkey(k, &key)) return LG_EINVAL;
  h = hashkey(m, &key);
  uv_mutex_lock(&m->lock);
  if ((pe = find(m, &key, h)) != NULL) {
    if (expired(*pe, &now)) {
      unlink_entry(m, pe, &dead);
    } else if ((*pe)->val.type != LG_MSTR) {
      *out = (*pe)->val;
    } else {
      /* The bytes must be copied under the lock: once it is let go,
       * another thread may replace and free them. */
      len = (*pe)->val.u.s.len;
      p = buf != NULL && len < bufsz ? buf : lg__malloc(len + 1);
      if (p == NULL) {
        rc = LG_ENOMEM;
      } else {
        if (len > 0) memcpy(p, (*pe)->val.u.s.p, len);
        p[len] = '\0';
        out->type = LG_MSTR;
        out->u.s.p = p;
        out->u.s.len = len;
      }
    }
  }
  uv_mutex_unlock(&m->lock);
  freelist(dead);
  return rc;
}

/* set and add. */
static int store(lg_map_t *m, const lg_mval_t *k, const lg_mval_t *v,
                 int64_t ttl, int onlyadd) {
  lg_mval_t key;
  lg_mentry_t **pe, *e, *dead = NULL;
  int64_t now = 0, expires;
  uint64_t h;
  char *bytes, *old = NULL;
  int rc = 1;
  if (!normkey(k, &key) || !isvalue(v)) return LG_EINVAL;
  if (copyin(v, &bytes) != 0) return LG_ENOMEM;
  h = hashkey(m, &key);
  expires = deadline(ttl);
  uv_mutex_lock(&m->lock);
  if ((pe = find(m, &key, h)) != NULL) {
    /* An expired entry is as good as absent: reused, no allocation. */
    e = *pe;
    if (onlyadd && !expired(e, &now)) {
      rc = 0;
      old = bytes;  /* not needed after all */
    } else {
      old = assign(e, v, bytes);
      setexpiry(m, e, expires);
    }
  } else if ((e = insert(m, &key, h)) == NULL) {
    rc = LG_ENOMEM;
    old = bytes;
  } else {
    assign(e, v, bytes);
    setexpiry(m, e, expires);
    maybegrow(m, &dead);
  }
  uv_mutex_unlock(&m->lock);
  lg__free(old);
  freelist(dead);
  return onlyadd || rc < 0 ? rc : 0;
}

int lg_map_set(lg_map_t *m, const lg_mval_t *k, const lg_mval_t *v,
               int64_t ttl) {
  int rc;
  if (v->type == LG_MNIL) {
    rc = lg_map_delete(m, k);
    return rc < 0 ? rc : 0;
  }
  return store(m, k, v, ttl, 0);
}

int lg_map_add(lg_map_t *m, const lg_mval_t *k, const lg_mval_t *v,
               int64_t ttl) {
  return store(m, k, v, ttl, 1);
}

int lg_map_incr(lg_map_t *m, const lg_mval_t *k, const lg_mval_t *delta,
                const lg_mval_t *init, lg_mval_t *out) {
  lg_mval_t key, sum;
  lg_mentry_t **pe, *e, *dead = NULL;
  int64_t now = 0;
  uint64_t h;
  char *old = NULL;
  int rc = 0;
  out->type = LG_MNIL;
  if (!normkey(k, &key) || !isnum(delta) || (init != NULL && !isnum(init)))
    return LG_EINVAL;
  h = hashkey(m, &key);
  uv_mutex_lock(&m->lock);
  pe = find(m, &key, h);
  if (pe != NULL && !expired(*pe, &now)) {
    e = *pe;
    if (!isnum(&e->val)) {
      rc = LG_EINVAL;
    } else {
      e->val = addnum(&e->val, delta);
      *out = e->val;
    }
  } else if (init == NULL) {
    if (pe != NULL) unlink_entry(m, pe, &dead);
  } else {
    sum = addnum(init, delta);
    if (pe != NULL) {
      e = *pe;
      old = assign(e, &sum, NULL);
      e->expires = 0;
      *out = sum;
    } else if ((e = insert(m, &key, h)) == NULL) {
      rc = LG_ENOMEM;
    } else {
      assign(e, &sum, NULL);
      *out = sum;
      maybegrow(m, &dead);
    }
  }
  uv_mutex_unlock(&m->lock);
  lg__free(old);
  freelist(dead);
  return rc;
}

int lg_map_delete(lg_map_t *m, const lg_mval_t *k) {
  lg_mval_t key;
  lg_mentry_t **pe, *dead = NULL;
  int64_t now = 0;
  uint64_t h;
  int rc = 0;
  if (!normkey(k, &key)) return LG_EINVAL;
  h = hashkey(m, &key);
  uv_mutex_lock(&m->lock);
  if ((pe = find(m, &key, h)) != NULL) {
    rc = !expired(*pe, &now);
    unlink_entry(m, pe, &dead);
    maybeshrink(m);
  }
  uv_mutex_unlock(&m->lock);
  freelist(dead);
  return rc;
}

size_t lg_map_count(lg_map_t *m) {
  lg_mentry_t *dead = NULL;
  size_t n;
  uv_mutex_lock(&m->lock);
  sweep(m, &dead);
  n = m->count;
  uv_mutex_unlock(&m->lock);
  freelist(dead);
  return n;
}

int lg_map_keys(lg_map_t *m, lg_mval_t **keys, size_t *n) {
  lg_mentry_t *dead = NULL, *e;
  lg_mval_t *ks = NULL;
  char *bytes;
  size_t i, j = 0, size, len;
  int rc = 0;
  *keys = NULL;
  *n = 0;
  uv_mutex_lock(&m->lock);
  sweep(m, &dead);
  /* One block: the array, then every string key's bytes. The sizes
   * cannot overflow: the entries already hold as much. */
  size = m->count * sizeof *ks;
  for (i = 0; i < m->nbuckets; i++)
    for (e = m->buckets[i]; e != NULL; e = e->next)
      if (e->key.type == LG_MSTR) size += e->key.u.s.len + 1;
  if (m->count > 0 && (ks = lg__malloc(size)) == NULL) rc = LG_ENOMEM;
  if (ks != NULL) {
    bytes = (char *)(ks + m->count);
    for (i = 0; i < m->nbuckets; i++) {
      for (e = m->buckets[i]; e != NULL; e = e->next) {
        ks[j] = e->key;
        if (e->key.type == LG_MSTR) {
          len = e->key.u.s.len;
          if (len > 0) memcpy(bytes, e->key.u.s.p, len);
          bytes[len] = '\0';
          ks[j].u.s.p = bytes;
          bytes += len + 1;
        }
        j++;
      }
    }
    *keys = ks;
    *n = j;
  }
  uv_mutex_unlock(&m->lock);
  freelist(dead);
  return rc;
}

/* --------------------------------------------------------------- atomic
 * The value is read and written only through __atomic builtins, all
 * seq_cst as Go's. Arithmetic goes through uint64_t, which wraps where
 * int64_t would overflow (undefined in C); both types may alias. */

static void atomic_destroy(lg_shared_t *o) {
  lg__free(o);
}

lg_atomic_t *lg_atomic_new(int64_t v) {
  lg_atomic_t *a = lg__malloc(sizeof *a);
  if (a == NULL) return NULL;
  lg_shared_init(&a->hdr, LG_SH_ATOMIC, atomic_destroy);
  __atomic_store_n(&a->v, v, __ATOMIC_SEQ_CST);
  return a;
}

int64_t lg_atomic_load(lg_atomic_t *a) {
  return __atomic_load_n(&a->v, __ATOMIC_SEQ_CST);
}

void lg_atomic_store(lg_atomic_t *a, int64_t v) {
  __atomic_store_n(&a->v, v, __ATOMIC_SEQ_CST);
}

int64_t lg_atomic_add(lg_atomic_t *a, int64_t d) {
  return (int64_t)__atomic_add_fetch((uint64_t *)&a->v, (uint64_t)d,
                                     __ATOMIC_SEQ_CST);
}

int lg_atomic_cas(lg_atomic_t *a, int64_t old, int64_t new) {
  return __atomic_compare_exchange_n(&a->v, &old, new, 0, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST);
}
