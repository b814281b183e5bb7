/* Shared by the files of the lugo.core module.
 *
 * Every C function of the module is a closure over the same three
 * upvalues, so the hot paths reach the processor and the value slots
 * without a registry lookup:
 *   1. the processor (an lgb_t userdata),
 *   2. the slot table: Lua values parked in channels, goroutines'
 *      coroutines and other anchors, indexed by the numbers the core holds,
 *   3. the channel metatable, for a cheap type check. */
#ifndef LUGO_BINDING_H
#define LUGO_BINDING_H

#include "compat.h"
#include "../../core/lugo.h"

#define LGB_P       lua_upvalueindex(1)
#define LGB_SLOTS   lua_upvalueindex(2)
#define LGB_CHANMT  lua_upvalueindex(3)
#define LGB_NUPVALS 3

typedef struct lgb_co_s {
  lua_State *co;
  uint32_t slot;
} lgb_co_t;

typedef struct lgb_s {
  lg_p_t p;
  /* free slot numbers; a freed slot may still hold its old value until
   * it is reused or swept (see lgb_sweep) */
  uint32_t *freeslots;
  size_t nfree, freecap;
  uint32_t nslots;         /* highest slot number handed out */
  uint32_t *dirty;         /* freed by the core, still holding a value */
  size_t ndirty, dirtycap;
  lgb_co_t *cofree;        /* finished coroutines for reuse */
  size_t ncofree;
  uint32_t onerror;        /* slot of lugo.onerror's function, 0: none */
  uint32_t *errors;        /* slots of goroutine errors nobody took yet */
  size_t nerrors, errorscap;
  int closed;
  lua_State *L;            /* the thread driving the loop, for libuv
                              callbacks that make Lua values */
  lg_timer_t trace;        /* LUGO_DEBUG=schedtrace's timer */
  int64_t started;         /* when the processor started, ns */
  char *wbuf;              /* scratch for formatting a response, kept
                              from one to the next (http.c) */
  size_t wcap;
  int64_t datesec;         /* the second `date` was formatted for */
  char date[32];           /* the Date header's value (http.c) */
  struct lgb_rt_s *rt;     /* the processors, once started (procs.c) */
  size_t maxmsg;           /* cap on one encoded value, 0: default */
  int sysmon;              /* sysmon watches this processor */
  int preempted;           /* the last yield was sysmon's preemption */
  lua_State *running;      /* the user's coroutine a goroutine resumed
                              and waits for, innermost (coro.c): where a
                              preemption's hook goes; NULL: none */
  lg_enc_t enc;            /* scratch encoder for values that cross
                              processors (value.c), buffer kept */
  size_t memory;           /* a worker's Lua heap, bytes, as of its last
                              idle moment (for P0's lugo.stats) */
  const void *recvop, *sendop;  /* "recv" and "send", interned: select
                                   compares a case's op by address */
} lgb_t;

/* The module's own registry entries, keyed by the address of a static:
 * no string to hash on each lookup, as lua_getfield would. lgb_setreg
 * pops the value. */
static inline void lgb_getreg(lua_State *L, const void *key) {
  lua_pushlightuserdata(L, (void *)key);
  lua_rawget(L, LUA_REGISTRYINDEX);
}
static inline void lgb_setreg(lua_State *L, const void *key) {
  lua_pushlightuserdata(L, (void *)key);
  lua_insert(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

/* Keys for light userdata that only this module makes. */
extern const char lgb_parkkey;  /* yielded to the scheduler by a park */
extern const char lgb_errkey;   /* first resume value: raise the next */

/* Goroutines' coroutines are marked so that the coroutine library can
 * refuse to resume them behind the scheduler's back. On 5.4 the mark is
 * in the thread's extra space, set when the thread is made. LuaJIT has
 * no extra space: there the mark is an entry in a weak table, which cost
 * a spawn more than all the rest of it (the insert, and the collector's
 * work on a table of a million threads). So it is set only once a Lua
 * program can hold the coroutine, by coroutine.running() in it (see
 * core.markself), and lgb_marknew does nothing. */
#if LGB_HAS_INTEGERS
static inline void lgb_markthread(lua_State *L) {
  *(const void **)lua_getextraspace(lua_tothread(L, -1)) = &lgb_parkkey;
}
#define lgb_marknew lgb_markthread

static inline int lgb_isgthread(lua_State *L, int idx) {
  lua_State *co = lua_tothread(L, idx);
  return co != NULL &&
         *(const void **)lua_getextraspace(co) == &lgb_parkkey;
}
#else
static inline void lgb_marknew(lua_State *L) {
  (void)L;
}

static inline void lgb_markthread(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "lugo.threads");
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

static inline int lgb_isgthread(lua_State *L, int idx) {
  int yes;
  lua_getfield(L, LUA_REGISTRYINDEX, "lugo.threads");
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  yes = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return yes;
}
#endif

/* The userdata at `i` if it is one of this module's kinds whose first
 * field is `magic` and whose size is `size`, else NULL. A size check and
 * a load, where luaL_checkudata looks the metatable up in the registry
 * by name: the checks run on every channel, stream and sync call. The
 * size check first keeps the load inside a foreign userdata. */
static inline void *lgb_tomagic(lua_State *L, int i, size_t size,
                                const void *magic) {
  const void **u;
  if (lgb_udlen(L, i) != size || (u = lua_touserdata(L, i)) == NULL)
    return NULL;
  return *u == magic ? u : NULL;
}

static inline lgb_t *lgb_get(lua_State *L) {
  return (lgb_t *)lua_touserdata(L, LGB_P);
}

/* Slots: anchor the value at `idx` and return its number / push it and
 * release the slot. */
uint32_t lgb_ref(lua_State *L, lgb_t *b, int idx);
void lgb_unref(lua_State *L, lgb_t *b, uint32_t slot);
void lgb_pushref(lua_State *L, uint32_t slot);

/* For LuaJIT's FFI fast paths (lua/lugo/ffi.lua), which store the value
 * in the slot table themselves: a free slot number (0: none to be had),
 * and giving one back after clearing it. No lua_State, no raising. */
uint32_t lgb_ffi_ref(lgb_t *b);
void lgb_ffi_unref(lgb_t *b, uint32_t slot);
/* The running goroutine, for FFI calls that may queue it; the caller
 * then parks it with core.park(). */
lg_g_t *lgb_ffi_curg(lgb_t *b);

/* Lua value <-> core value. lgb_tovalue anchors tables, strings and the
 * rest in a slot; lgb_pushvalue pushes and releases it. Inline for an
 * integer, the commonest message: two API calls and no function call
 * (module.c's _any versions take every kind). */
void lgb_tovalue_any(lua_State *L, lgb_t *b, int idx, lg_value_t *v);
void lgb_pushvalue_any(lua_State *L, lgb_t *b, lg_value_t *v);

static inline void lgb_tovalue(lua_State *L, lgb_t *b, int idx,
                               lg_value_t *v) {
#if LGB_HAS_INTEGERS
  if (lua_isinteger(L, idx)) {
    v->type = LG_VINT;
    v->u.i = lua_tointegerx(L, idx, NULL);
    return;
  }
#endif
  lgb_tovalue_any(L, b, idx, v);
}

static inline void lgb_pushvalue(lua_State *L, lgb_t *b, lg_value_t *v) {
  if (v->type == LG_VINT) {
    lgb_pushint(L, v->u.i);
    v->type = LG_VNIL;
  } else {
    lgb_pushvalue_any(L, b, v);
  }
}

/* Encode the value at `i` for another processor (see value.c): a blob
 * the caller owns, or an error naming the path from `root` ("value",
 * "args") to what cannot cross; `root` stands for the first `skip` keys
 * of the path. `max`: cap in bytes, 0 the default.
 * lgb_decode pushes the value a blob holds (the caller still owns it;
 * lg_blob_free drops it). */
lg_blob_t *lgb_encode(lua_State *L, int i, const char *root, int skip,
                      size_t max);
void lgb_decode(lua_State *L, const lg_blob_t *b);
/* The same for the `n` values from `i`, one after another, named
 * root[0], root[1], ... in errors (a task: function and arguments, with
 * no table to make on either side); lgb_decodemany returns how many it
 * pushed. */
lg_blob_t *lgb_encodemany(lua_State *L, int i, int n, const char *root,
                          size_t max);
int lgb_decodemany(lua_State *L, const lg_blob_t *b);
/* Drop an encoder's bytes and the references they hold. */
void lgb_encfree(lg_enc_t *e);

/* Resume goroutine `g` until it parks, yields or ends (sched.c). */
void lgb_run(lua_State *L, lgb_t *b, lg_g_t *g);
/* A new goroutine (not yet runnable) for a function and its `nargs`
 * arguments, the top nargs + 1 values of L, which move to it. */
lg_g_t *lgb_go(lua_State *L, lgb_t *b, int nargs);
/* A goroutine error nobody took yet: raised by the main thread's next
 * blocking call. */
void lgb_penderror(lua_State *L, lgb_t *b, int idx);
/* lugo.onerror's handler, if set, called with the err and traceback at
 * top + 1, top + 2, the goroutine id and processor number: 0 if none. */
int lgb_onerror(lua_State *L, lgb_t *b, int top, uint64_t id, int pid);
/* Move goroutine errors other processors reported to this one's list
 * (procs.c; P0 only). */
void lgb_pullerrors(lua_State *L, lgb_t *b);
/* Where a goroutine error goes when this processor cannot raise it:
 * nonzero if it was taken (a worker hands it to P0). */
int lgb_forwarderror(lua_State *L, lgb_t *b, int msg, int tb, uint64_t id);

/* procs.c: stop and join the workers and close their states (P0, as
 * its state closes), then free the runtime after P0's lg_p_close;
 * start sysmon (preemption) with the first goroutine; add the workers'
 * rows to lugo.stats's per-processor list at the top; how many
 * processors run. */
void lgb_procs_stop(lgb_t *b);
void lgb_procs_free(lgb_t *b);
void lgb_procs_sysmon(lua_State *L, lgb_t *b);
void lgb_procs_stats(lua_State *L, lgb_t *b);
int lgb_procs_running(lgb_t *b);
/* Start a portable task here as a goroutine; frees the blob. */
void lgb_runtask(lua_State *L, lgb_t *b, lg_blob_t *blob);

/* Park the running goroutine, which the core has queued already. In a
 * goroutine this yields to the scheduler; on the main thread (or where
 * Lua cannot yield) it drives the scheduler until the goroutine is woken.
 * Either way the caller's results are the wake-up results, passed
 * through `k` when given (k raises what the wake-up says to raise). */
int lgb_park(lua_State *L, lgb_t *b, lg_g_t *g, lua_KFunction k,
             lua_KContext ctx);
/* The continuation of parks that may raise: returns the values above
 * `ctx` on the stack, or raises the error a wake-up left there. */
int lgb_kfinish(lua_State *L, int status, lua_KContext ctx);
/* Push the error a wake-up raises: lgb_kfinish raises it. */
void lgb_pusherr(lua_State *L, const char *msg, int withpos);

/* luaL_error for the calls that LuaJIT reaches through a Lua wrapper
 * (chan send, select, run): the position is the wrapper's caller. */
#define LGB_WRAPPED_LEVEL (LGB_HAS_YIELDK ? 1 : 2)
int lgb_wrappederror(lua_State *L, const char *msg);

/* LuaSocket's short error strings for a result code: "timeout",
 * "closed", "refused", "reset", ... */
const char *lgb_ioerror(int rc);
/* Push nil, lgb_ioerror(rc) and return 2. */
int lgb_pushioerror(lua_State *L, int rc);

/* Check that arg `i` is an open TCP stream. */
lg_tcp_t *lgb_checkconn(lua_State *L, int i);

/* Args i, i+1 (an IP literal or "*", a port) to an address: 0 or an
 * error code. Push an address as host, port (2 values). */
int lgb_toaddr(lua_State *L, int i, struct sockaddr_storage *ss);
int lgb_pushaddr(lua_State *L, const struct sockaddr_storage *ss);

/* Check that arg `i` is a channel / the channel at `i`, or NULL. */
lg_chan_t *lgb_checkchan(lua_State *L, int i);
lg_chan_t *lgb_tochan(lua_State *L, int i);
/* The value at `i` as channel `ch` (a stack index) holds it: for a
 * shared channel, copied (lgb_encode). */
void lgb_chanvalue(lua_State *L, int i, int ch, lg_value_t *v);
/* Push a new channel userdata owning one reference on `c`. */
void lgb_pushchan(lua_State *L, lg_chan_t *c);
/* Seconds (a Lua number) to a duration in ns, raising on NaN. */
int64_t lgb_checkduration(lua_State *L, int i);

/* Shared objects (waitgroups, mutexes, maps, atomics ...) as userdata:
 * the userdata holds one reference on the core object, dropped by its
 * __gc. lgb_sharedclass makes the metatable (as lgb_newclass, plus that
 * __gc) and records it as the one for objects of `type` (LG_SH_*), so a
 * value decoded on another processor gets the same methods. Shared
 * channels are channels (lgb_pushchan), not these. */
typedef struct lgb_shud_s {
  const void *magic;      /* the type check: two loads (see chan.c) */
  lg_shared_t *obj;
} lgb_shud_t;

void lgb_sharedclass(lua_State *L, int type, const char *name,
                     const luaL_Reg *m, const luaL_Reg *mm);
/* Push a userdata for `o`, taking a new reference on it. */
void lgb_pushshared(lua_State *L, lg_shared_t *o);
/* The object of a shared userdata at `i`, or NULL. */
lg_shared_t *lgb_toshared(lua_State *L, int i);
/* Check that arg `i` is a shared object of `type`; `what` names it in
 * the error ("lugo.map expected, got ..."). */
lg_shared_t *lgb_checkshared(lua_State *L, int i, int type,
                             const char *what);

/* Register each file's functions into the module table at the top. */
void lgb_open_sched(lua_State *L);
/* Start LUGO_DEBUG=schedtrace=N if the environment asks for it. */
void lgb_schedtrace(lgb_t *b);
void lgb_open_chan(lua_State *L);
void lgb_open_select(lua_State *L);
void lgb_open_coro(lua_State *L);
void lgb_open_timer(lua_State *L);
void lgb_open_sync(lua_State *L);
void lgb_open_tcp(lua_State *L);
void lgb_open_events(lua_State *L);
void lgb_open_fs(lua_State *L);
void lgb_open_udp(lua_State *L);
void lgb_open_http(lua_State *L);
void lgb_open_dns(lua_State *L);
void lgb_open_value(lua_State *L);
void lgb_open_map(lua_State *L);
void lgb_open_procs(lua_State *L);

/* luaL_setfuncs with the module's upvalues, which sit just below the
 * target table. */
void lgb_setfuncs(lua_State *L, const luaL_Reg *l);
/* A new metatable named `name` with methods `m` (into __index) and
 * metamethods `mm`, all sharing the upvalues; left on the stack. */
void lgb_newclass(lua_State *L, const char *name, const luaL_Reg *m,
                  const luaL_Reg *mm);

#endif
