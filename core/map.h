/* lugo.map and lugo.atomic: shared objects (lg_shared_t) every processor
 * may hold at once, as Go's sync.Map and sync/atomic, or OpenResty's
 * shared dict. Included at the end of lugo.h; a C host includes only that.
 *
 * A map copies what it is given: its keys and values are booleans,
 * numbers (integers and floats kept apart) and byte strings, never the
 * host's objects. Every call takes the map's own lock and holds no other,
 * so it is safe from any thread and never nests with the locks of
 * lugo.h's shared objects. Calls never block on anything but that lock.
 */
#ifndef LUGO_MAP_H
#define LUGO_MAP_H

#include "lugo.h"

/* ------------------------------------------------------- keys and values */
typedef enum {
  LG_MNIL, LG_MBOOL, LG_MINT, LG_MNUM, LG_MSTR
} lg_mtype_t;

/* A key or value as the caller hands it in or gets it out. A string
 * handed in is borrowed for the call (the map copies its bytes); one
 * handed out is the caller's, see lg_map_get. Keys are normalised as
 * Lua's table keys are: a float with an integer value (1.0, -0.0) is the
 * integer key; nil and NaN are no keys. */
typedef struct lg_mval_s {
  int type;               /* lg_mtype_t */
  union {
    int b;                /* LG_MBOOL: 0 or 1 */
    int64_t i;            /* LG_MINT */
    double n;             /* LG_MNUM */
    struct {
      const char *p;
      size_t len;
    } s;                  /* LG_MSTR: may hold NULs */
  } u;
} lg_mval_t;

/* Free the bytes of a string lg_map_get or lg_map_incr handed out into
 * a new block (those not in the caller's `buf`); `v` becomes nil. Safe
 * on any value, and twice. */
void lg_mval_free(lg_mval_t *v, const char *buf);

/* -------------------------------------------------------------------- map
 * A chained hash table under one mutex. Entries may expire (a deadline on
 * lg_now()'s clock): an expired entry acts as absent from the moment it
 * expires, and is freed when a call comes across it, or by a sweep when
 * the table would grow or is counted. */
typedef struct lg_mentry_s lg_mentry_t;

typedef struct lg_map_s {
  lg_shared_t hdr;        /* type LG_SH_MAP */
  uv_mutex_t lock;        /* guards everything below */
  lg_mentry_t **buckets;  /* nbuckets chains; a power of two */
  size_t nbuckets;
  size_t count;           /* entries, expired ones not yet freed too */
  int64_t nextexp;        /* no entry expires before this (ns); INT64_MAX
                             when none may: a lower bound, so a sweep is
                             skipped while nothing can have expired */
  uint64_t seed;          /* hash seed, per map: keys an attacker picks
                             cannot be made to collide everywhere */
} lg_map_t;

/* A new empty map with one reference, the caller's (lg_shared_release
 * drops it; the last one frees the map and everything in it). NULL
 * without memory. */
lg_map_t *lg_map_new(void);

/* The live value of `k` into *out: 0 (out->type LG_MNIL when `k` is
 * absent or expired), LG_EINVAL (`k` is no key) or LG_ENOMEM (a string
 * could not be copied; *out nil). A string value's bytes are copied, with
 * a NUL after them: into `buf` when they fit in `bufsz` (NUL included),
 * else into a new block; either way free them with lg_mval_free(out,
 * buf). `buf` may be NULL. */
int lg_map_get(lg_map_t *m, const lg_mval_t *k, lg_mval_t *out, char *buf,
               size_t bufsz);

/* Set `k` to `v`, expiring `ttl` ns from now (<= 0: never); an existing
 * entry gets the new expiry too. A nil `v` deletes `k`. Returns 0,
 * LG_EINVAL (no key, or `v` is none of the types) or LG_ENOMEM; on an
 * error the map is unchanged. */
int lg_map_set(lg_map_t *m, const lg_mval_t *k, const lg_mval_t *v,
               int64_t ttl);

/* As lg_map_set, but only when `k` is absent or expired: 1 if it was
 * set, 0 if `k` is live (nothing changes), or LG_EINVAL (a nil `v` too)
 * or LG_ENOMEM. */
int lg_map_add(lg_map_t *m, const lg_mval_t *k, const lg_mval_t *v,
               int64_t ttl);

/* Add `delta` to the number at `k`, keeping its expiry: 0 with *out the
 * new value. Two integers add as integers (wrapping around, as Lua's
 * do); a float on either side makes a float. When `k` is absent or
 * expired: with `init` (a number, or NULL) `k` becomes init + delta with
 * no expiry; without, *out is nil and nothing changes. LG_EINVAL: the
 * value at `k` is not a number (it is left alone), or `k`, `delta` or
 * `init` is bad; LG_ENOMEM: the map is unchanged. */
int lg_map_incr(lg_map_t *m, const lg_mval_t *k, const lg_mval_t *delta,
                const lg_mval_t *init, lg_mval_t *out);

/* Remove `k`: 1 if it was live, 0 if it was absent or expired, or
 * LG_EINVAL (`k` is no key). */
int lg_map_delete(lg_map_t *m, const lg_mval_t *k);

/* The number of live entries. */
size_t lg_map_count(lg_map_t *m);

/* A snapshot of the live keys, in no particular order: 0 with *keys an
 * array of *n keys in one block, their strings' bytes included, which the
 * caller frees with lg__free(*keys) (NULL when *n is 0); or LG_ENOMEM. */
int lg_map_keys(lg_map_t *m, lg_mval_t **keys, size_t *n);

/* ----------------------------------------------------------------- atomic
 * A shared 64-bit integer. Every access is sequentially consistent, as
 * Go's sync/atomic; arithmetic wraps around, as Lua's integers do. */
typedef struct lg_atomic_s {
  lg_shared_t hdr;        /* type LG_SH_ATOMIC */
  int64_t v;              /* only through __atomic builtins */
} lg_atomic_t;

/* A new atomic holding `v`, with one reference, the caller's; NULL
 * without memory. */
lg_atomic_t *lg_atomic_new(int64_t v);
int64_t lg_atomic_load(lg_atomic_t *a);
void lg_atomic_store(lg_atomic_t *a, int64_t v);
/* Add `d`; returns the new value. */
int64_t lg_atomic_add(lg_atomic_t *a, int64_t d);
/* Set to `new` if it holds `old`: 1 if it did, else 0. */
int lg_atomic_cas(lg_atomic_t *a, int64_t old, int64_t new);

#endif
