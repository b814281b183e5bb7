/* lugo.core: the module, the processor userdata and the value slots. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "binding.h"

const char lgb_parkkey = 0;
const char lgb_errkey = 0;

/* ------------------------------------------------------------------ slots */

static int growu32(uint32_t **a, size_t *cap) {
  size_t n = *cap ? *cap * 2 : 64;
  uint32_t *p = realloc(*a, n * sizeof *p);
  if (p == NULL) return -1;
  *a = p;
  *cap = n;
  return 0;
}

uint32_t lgb_ref(lua_State *L, lgb_t *b, int idx) {
  uint32_t slot;
  lua_pushvalue(L, idx);
  if (b->nfree > 0) {
    slot = b->freeslots[--b->nfree];
  } else {
    /* Make sure the slot can be given back before handing it out. */
    if (b->nslots >= b->freecap && growu32(&b->freeslots, &b->freecap))
      luaL_error(L, "not enough memory");
    slot = ++b->nslots;
  }
  lua_rawseti(L, LGB_SLOTS, (int)slot);
  return slot;
}

void lgb_unref(lua_State *L, lgb_t *b, uint32_t slot) {
  lua_pushnil(L);
  lua_rawseti(L, LGB_SLOTS, (int)slot);
  b->freeslots[b->nfree++] = slot;
}

void lgb_pushref(lua_State *L, uint32_t slot) {
  lua_rawgeti(L, LGB_SLOTS, (int)slot);
}

/* The core drops values (a closed channel's buffer, a cancelled send)
 * where there may be no Lua stack at hand: note the slot, clear it at the
 * next lgb_sweep. */
static void vfree(lg_p_t *p, lg_value_t *v) {
  lgb_t *b = (lgb_t *)p;
  if (b->ndirty == b->dirtycap && growu32(&b->dirty, &b->dirtycap)) {
    /* Leak the slot rather than fail: it is only memory. */
    return;
  }
  b->dirty[b->ndirty++] = v->u.ref;
}

/* Release the slots the core dropped. */
static void sweep(lua_State *L, lgb_t *b) {
  while (b->ndirty > 0) lgb_unref(L, b, b->dirty[--b->ndirty]);
}

uint32_t lgb_ffi_ref(lgb_t *b) {
  if (b->ndirty > 0) return b->dirty[--b->ndirty];  /* overwritten: fine */
  if (b->nfree > 0) return b->freeslots[--b->nfree];
  if (b->nslots >= b->freecap && growu32(&b->freeslots, &b->freecap))
    return 0;
  return ++b->nslots;
}

void lgb_ffi_unref(lgb_t *b, uint32_t slot) {
  b->freeslots[b->nfree++] = slot;
}

lg_g_t *lgb_ffi_curg(lgb_t *b) {
  return b->p.curg;
}

void lgb_tovalue_any(lua_State *L, lgb_t *b, int idx, lg_value_t *v) {
  switch (lua_type(L, idx)) {
  case LUA_TNONE:
  case LUA_TNIL:
    v->type = LG_VNIL;
    return;
  case LUA_TBOOLEAN:
    v->type = LG_VBOOL;
    v->u.b = lua_toboolean(L, idx);
    return;
  case LUA_TNUMBER:
#if LGB_HAS_INTEGERS
    if (lua_isinteger(L, idx)) {
      v->type = LG_VINT;
      v->u.i = lua_tointeger(L, idx);
      return;
    }
#endif
    v->type = LG_VNUM;
    v->u.n = lua_tonumber(L, idx);
    return;
  default:
    if (b->ndirty > 0) sweep(L, b);
    v->type = LG_VREF;
    v->u.ref = lgb_ref(L, b, idx);
  }
}

void lgb_pushvalue_any(lua_State *L, lgb_t *b, lg_value_t *v) {
  switch (v->type) {
  case LG_VBOOL: lua_pushboolean(L, v->u.b); break;
  case LG_VINT: lgb_pushint(L, v->u.i); break;
  case LG_VNUM: lua_pushnumber(L, v->u.n); break;
  case LG_VREF:
    lgb_pushref(L, v->u.ref);
    lgb_unref(L, b, v->u.ref);
    break;
  case LG_VBLOB: {
    lg_blob_t *blob = v->u.blob;
    v->type = LG_VNIL;  /* a decoding error leaks it, but frees it once */
    lgb_decode(L, blob);
    lg_blob_free(blob);
    return;
  }
  default: lua_pushnil(L);
  }
  v->type = LG_VNIL;
}

int lgb_wrappederror(lua_State *L, const char *msg) {
  luaL_where(L, LGB_WRAPPED_LEVEL);
  lua_pushstring(L, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

int64_t lgb_checkduration(lua_State *L, int i) {
  lua_Number s = luaL_checknumber(L, i);
  if (s != s) luaL_argerror(L, i, "duration is NaN");
  if (s <= 0) return 0;
  if (s > 9.2e9) return INT64_MAX / 2;  /* ~146 years: never */
  return (int64_t)(s * 1e9 + 0.5);
}

/* --------------------------------------------------------- shared objects */

/* The metatables of the shared types, by LG_SH_*, in the registry: each
 * processor's state makes its own at load, so a decoded object gets the
 * methods of its type there. */
/* registry[&sharedmts][type]: the metatable of shared objects of type */
static const char sharedmts = 0;
static const char sharedmagic = 0;

static int shared_gc(lua_State *L) {
  lgb_shud_t *u = lua_touserdata(L, 1);
  if (u->obj != NULL) lg_shared_release(u->obj);
  u->obj = NULL;
  return 0;
}

void lgb_sharedclass(lua_State *L, int type, const char *name,
                     const luaL_Reg *m, const luaL_Reg *mm) {
  lgb_newclass(L, name, m, mm);
  lua_pushcfunction(L, shared_gc);
  lua_setfield(L, -2, "__gc");
  lgb_getreg(L, &sharedmts);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, type);
  lua_pop(L, 2);
}

void lgb_pushshared(lua_State *L, lg_shared_t *o) {
  lgb_shud_t *u = lua_newuserdata(L, sizeof *u);
  u->magic = &sharedmagic;
  u->obj = NULL;
  lgb_getreg(L, &sharedmts);
  lua_rawgeti(L, -1, o->type);
  lua_setmetatable(L, -3);
  lua_pop(L, 1);
  lg_shared_retain(o);
  u->obj = o;
}

lg_shared_t *lgb_toshared(lua_State *L, int i) {
  lgb_shud_t *u = lgb_tomagic(L, i, sizeof *u, &sharedmagic);
  return u != NULL ? u->obj : NULL;
}

lg_shared_t *lgb_checkshared(lua_State *L, int i, int type,
                             const char *what) {
  lg_shared_t *o = lgb_toshared(L, i);
  if (o == NULL || o->type != type)
    luaL_argerror(L, i, lua_pushfstring(L, "%s expected, got %s", what,
                                        luaL_typename(L, i)));
  return o;
}

/* ----------------------------------------------------------- the module */

void lgb_setfuncs(lua_State *L, const luaL_Reg *l) {
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  luaL_setfuncs(L, l, LGB_NUPVALS);
}

void lgb_newclass(lua_State *L, const char *name, const luaL_Reg *m,
                  const luaL_Reg *mm) {
  luaL_newmetatable(L, name);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lgb_setfuncs(L, mm);
  lua_newtable(L);
  lgb_setfuncs(L, m);
  lua_setfield(L, -2, "__index");
}

/* The processor goes with the Lua state. By then every goroutine and
 * channel is garbage; the core frees what is left. */
static int p_gc(lua_State *L) {
  lgb_t *b = lua_touserdata(L, 1);
  if (b->closed) return 0;
  b->closed = 1;
  /* Channels and timers finalized after this still release into the
   * core; they must find no hook to call. */
  b->p.vfree = NULL;
  lgb_procs_stop(b);  /* workers first: they may wake our goroutines */
  lg_p_close(&b->p);
  lgb_procs_free(b);
  free(b->freeslots);
  free(b->dirty);
  free(b->cofree);
  free(b->errors);
  free(b->wbuf);
  b->wbuf = NULL;
  lgb_encfree(&b->enc);
  b->freeslots = b->dirty = b->errors = NULL;
  b->cofree = NULL;
  b->nfree = b->ndirty = b->ncofree = b->nerrors = 0;
  return 0;
}

int luaopen_lugo_core(lua_State *L) {
  lgb_t *b;
  int rc;
  /* One processor per Lua state, however often the module is loaded. */
  lua_getfield(L, LUA_REGISTRYINDEX, "lugo.core");
  if (lua_istable(L, -1)) return 1;
  /* A write to a socket the peer closed must fail with EPIPE, not kill
   * the process (LuaSocket, Go and nginx all do this), unless the host
   * chose a handler of its own. */
  {
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
      signal(SIGPIPE, SIG_IGN);
  }
  lua_settop(L, 0);
  b = lua_newuserdata(L, sizeof *b);  /* 1: the processor */
  memset(b, 0, sizeof *b);
  if ((rc = lg_p_init(&b->p, 0)) != 0)
    return luaL_error(L, "lugo: cannot start processor: %s",
                      lg_strerror(rc));
  b->p.vfree = vfree;
  b->p.host = b;
  lg_enc_init(&b->enc, 0);
  lgb_schedtrace(b);
  lua_newtable(L);
  lua_pushcfunction(L, p_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, 1);
  lua_newtable(L);                    /* 2: slots */
  lua_newtable(L);                    /* 3: the channel metatable */
  /* Anchor the processor for as long as the state lives: the module
   * table can be dropped from package.loaded. */
  lua_pushvalue(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "lugo.p");
#if !LGB_HAS_INTEGERS
  /* goroutines' coroutines, weakly (see lgb_markthread) */
  lua_newtable(L);
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "lugo.threads");
#endif
  lua_newtable(L);                    /* 4: the module */
  lua_pushlightuserdata(L, (void *)&lgb_parkkey);
  lua_setfield(L, 4, "PARK");
  lua_pushlightuserdata(L, (void *)&lgb_errkey);
  lua_setfield(L, 4, "ERR");
  lua_pushvalue(L, 2);
  lua_setfield(L, 4, "slots");
  lua_pushboolean(L, LGB_HAS_YIELDK);
  lua_setfield(L, 4, "HAS_YIELDK");
  lua_newtable(L);
  lgb_setreg(L, &sharedmts);
  lgb_open_sched(L);
  lgb_open_chan(L);
  lgb_open_select(L);
  lgb_open_coro(L);
  lgb_open_timer(L);
  lgb_open_sync(L);
  lgb_open_value(L);
  lgb_open_tcp(L);
  lgb_open_events(L);
  lgb_open_fs(L);
  lgb_open_udp(L);
  lgb_open_http(L);
  lgb_open_dns(L);
  lgb_open_map(L);
  lgb_open_procs(L);
  lua_pushvalue(L, 4);
  lua_setfield(L, LUA_REGISTRYINDEX, "lugo.core");
  return 1;
}
