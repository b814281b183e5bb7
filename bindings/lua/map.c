/* lugo.map and lugo.atomic over core/map.c. Each userdata holds one
 * reference on its core object (lgb_sharedclass's __gc drops it), so any
 * processor can hold the same map or atomic. The map copies what it is
 * given: a key or value read back is a new Lua value, never the one set. */
#include <string.h>
#include "binding.h"

#define MAP_MT "lugo.map"
#define ATOMIC_MT "lugo.atomic"

/* String values up to this many bytes are read into the C stack rather
 * than into a block allocated for the copy. */
#define GETBUF 512

static int typeerror(lua_State *L, int i, const char *expected) {
  const char *got;
  if (luaL_getmetafield(L, i, "__name") && lua_type(L, -1) == LUA_TSTRING)
    got = lua_tostring(L, -1);
  else if (lua_type(L, i) == LUA_TLIGHTUSERDATA)
    got = "light userdata";
  else
    got = luaL_typename(L, i);
  return luaL_argerror(L, i, lua_pushfstring(L, "%s expected, got %s",
                                              expected, got));
}

/* Arg `i` as a map key or value, borrowing a string's bytes; 0 (and *v
 * untouched) if it is none of nil, boolean, number, string. */
static int tomval(lua_State *L, int i, lg_mval_t *v) {
  switch (lua_type(L, i)) {
  case LUA_TNIL:
    v->type = LG_MNIL;
    return 1;
  case LUA_TBOOLEAN:
    v->type = LG_MBOOL;
    v->u.b = lua_toboolean(L, i);
    return 1;
  case LUA_TNUMBER:
#if LGB_HAS_INTEGERS
    if (lua_isinteger(L, i)) {
      v->type = LG_MINT;
      v->u.i = (int64_t)lua_tointeger(L, i);
      return 1;
    }
#endif
    v->type = LG_MNUM;
    v->u.n = (double)lua_tonumber(L, i);
    return 1;
  case LUA_TSTRING:
    v->type = LG_MSTR;
    v->u.s.p = lua_tolstring(L, i, &v->u.s.len);
    return 1;
  default:
    return 0;
  }
}

#define KINDS "boolean, number or string"

static void checkkey(lua_State *L, int i, lg_mval_t *k) {
  if (!tomval(L, i, k) || k->type == LG_MNIL) typeerror(L, i, KINDS);
  if (k->type == LG_MNUM && k->u.n != k->u.n)
    luaL_argerror(L, i, "key is NaN");
}

static void checkvalue(lua_State *L, int i, lg_mval_t *v, int nilok) {
  if (!tomval(L, i, v) || (!nilok && v->type == LG_MNIL))
    typeerror(L, i, KINDS);
}

/* A number argument, kept an integer on 5.4 if it is one. */
static void checknum(lua_State *L, int i, lg_mval_t *v) {
  if (lua_type(L, i) != LUA_TNUMBER) typeerror(L, i, "number");
  tomval(L, i, v);
}

/* Seconds to ns; none, nil or <= 0: no expiry. A positive ttl too small
 * for a nanosecond still expires (at once) rather than never. */
static int64_t optttl(lua_State *L, int i) {
  lua_Number s;
  int64_t ns;
  if (lua_isnoneornil(L, i)) return 0;
  s = luaL_checknumber(L, i);
  if (s != s) luaL_argerror(L, i, "ttl is NaN");
  if (s <= 0) return 0;
  if (s > 9.2e9) return INT64_MAX / 2;  /* ~146 years: never */
  ns = (int64_t)(s * 1e9 + 0.5);
  return ns > 0 ? ns : 1;
}

static void pushmval(lua_State *L, const lg_mval_t *v) {
  switch (v->type) {
  case LG_MBOOL: lua_pushboolean(L, v->u.b); break;
  case LG_MINT: lgb_pushint(L, v->u.i); break;
  case LG_MNUM: lua_pushnumber(L, (lua_Number)v->u.n); break;
  case LG_MSTR: lua_pushlstring(L, v->u.s.p, v->u.s.len); break;
  default: lua_pushnil(L);
  }
}

static int nomem(lua_State *L) {
  return luaL_error(L, "not enough memory");
}

/* ------------------------------------------------------------------ map */

static lg_map_t *checkmap(lua_State *L) {
  return (lg_map_t *)lgb_checkshared(L, 1, LG_SH_MAP, MAP_MT);
}

/* lugo.map() -> m   [-0, +1, m] */
static int l_map(lua_State *L) {
  lg_map_t *m = lg_map_new();
  if (m == NULL) return nomem(L);
  /* The userdata takes a reference of its own; ours goes. Should making
   * it raise (out of memory), the map leaks: nothing else holds it. */
  lgb_pushshared(L, &m->hdr);
  lg_shared_release(&m->hdr);
  return 1;
}

/* m:get(k) -> v or nil   [-0, +1, e] */
static int map_get(lua_State *L) {
  lg_map_t *m = checkmap(L);
  lg_mval_t k, v;
  char buf[GETBUF];
  checkkey(L, 2, &k);
  if (lg_map_get(m, &k, &v, buf, sizeof buf) != 0) return nomem(L);
  /* A string longer than buf is in a block of its own, which leaks if
   * pushing it raises (out of memory). */
  pushmval(L, &v);
  lg_mval_free(&v, buf);
  return 1;
}

/* m:set(k, v [, ttl])   [-0, +0, e]; a nil v deletes k */
static int map_set(lua_State *L) {
  lg_map_t *m = checkmap(L);
  lg_mval_t k, v;
  int64_t ttl;
  checkkey(L, 2, &k);
  checkvalue(L, 3, &v, 1);
  ttl = optttl(L, 4);
  if (lg_map_set(m, &k, &v, ttl) != 0) return nomem(L);
  return 0;
}

/* m:add(k, v [, ttl]) -> boolean   [-0, +1, e] */
static int map_add(lua_State *L) {
  lg_map_t *m = checkmap(L);
  lg_mval_t k, v;
  int64_t ttl;
  int rc;
  checkkey(L, 2, &k);
  checkvalue(L, 3, &v, 0);
  ttl = optttl(L, 4);
  if ((rc = lg_map_add(m, &k, &v, ttl)) < 0) return nomem(L);
  lua_pushboolean(L, rc);
  return 1;
}

/* m:incr(k, d [, init]) -> new value   [-0, +1, e] */
static int map_incr(lua_State *L) {
  lg_map_t *m = checkmap(L);
  lg_mval_t k, d, init, v;
  int rc;
  checkkey(L, 2, &k);
  checknum(L, 3, &d);
  if (!lua_isnoneornil(L, 4)) checknum(L, 4, &init);
  rc = lg_map_incr(m, &k, &d, lua_isnoneornil(L, 4) ? NULL : &init, &v);
  if (rc == LG_EINVAL)
    return luaL_error(L, "lugo.map: incr of a non-number value");
  if (rc != 0) return nomem(L);
  if (v.type == LG_MNIL)
    return luaL_error(L, "lugo.map: incr of missing key");
  pushmval(L, &v);
  return 1;
}

/* m:delete(k)   [-0, +0, e] */
static int map_delete(lua_State *L) {
  lg_map_t *m = checkmap(L);
  lg_mval_t k;
  checkkey(L, 2, &k);
  lg_map_delete(m, &k);
  return 0;
}

/* m:keys() -> {k, ...}   [-0, +1, m] */
static int map_keys(lua_State *L) {
  lg_map_t *m = checkmap(L);
  lg_mval_t *ks;
  size_t n, i;
  if (lg_map_keys(m, &ks, &n) != 0) return nomem(L);
  /* As in map_get: the snapshot leaks if Lua runs out of memory here. */
  lua_createtable(L, n > INT32_MAX ? INT32_MAX : (int)n, 0);
  for (i = 0; i < n; i++) {
    pushmval(L, &ks[i]);
    lua_rawseti(L, -2, (int)(i + 1));
  }
  lg__free(ks);
  return 1;
}

/* #m -> live entries   [-0, +1, -] */
static int map_len(lua_State *L) {
  lgb_pushcount(L, lg_map_count(checkmap(L)));
  return 1;
}

static int map_tostring(lua_State *L) {
  lua_pushfstring(L, MAP_MT ": %p", (void *)checkmap(L));
  return 1;
}

/* --------------------------------------------------------------- atomic */

/* An integer argument: on 5.4 an integer, or a float with an integer
 * value (as luaL_checkinteger); on LuaJIT a number with an integer value
 * an int64 holds. Strings are not converted. */
static int64_t checkint(lua_State *L, int i) {
  lua_Number n;
  if (lua_type(L, i) != LUA_TNUMBER) typeerror(L, i, "number");
#if LGB_HAS_INTEGERS
  if (lua_isinteger(L, i)) return (int64_t)lua_tointeger(L, i);
#endif
  n = lua_tonumber(L, i);
  if (!(n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
        (lua_Number)(int64_t)n == n))
    luaL_argerror(L, i, "number has no integer representation");
  return (int64_t)n;
}

static lg_atomic_t *checkatomic(lua_State *L) {
  return (lg_atomic_t *)lgb_checkshared(L, 1, LG_SH_ATOMIC, ATOMIC_MT);
}

/* lugo.atomic([n]) -> a   [-0, +1, e] */
static int l_atomic(lua_State *L) {
  int64_t n = lua_isnoneornil(L, 1) ? 0 : checkint(L, 1);
  lg_atomic_t *a = lg_atomic_new(n);
  if (a == NULL) return nomem(L);
  lgb_pushshared(L, &a->hdr);  /* as in l_map */
  lg_shared_release(&a->hdr);
  return 1;
}

/* a:load() -> n   [-0, +1, -] */
static int at_load(lua_State *L) {
  lgb_pushint(L, lg_atomic_load(checkatomic(L)));
  return 1;
}

/* a:store(n)   [-0, +0, e] */
static int at_store(lua_State *L) {
  lg_atomic_t *a = checkatomic(L);
  lg_atomic_store(a, checkint(L, 2));
  return 0;
}

/* a:add(d) -> new value   [-0, +1, e] */
static int at_add(lua_State *L) {
  lg_atomic_t *a = checkatomic(L);
  lgb_pushint(L, lg_atomic_add(a, checkint(L, 2)));
  return 1;
}

/* a:cas(old, new) -> boolean   [-0, +1, e] */
static int at_cas(lua_State *L) {
  lg_atomic_t *a = checkatomic(L);
  int64_t old = checkint(L, 2), new = checkint(L, 3);
  lua_pushboolean(L, lg_atomic_cas(a, old, new));
  return 1;
}

static int at_tostring(lua_State *L) {
  lua_pushfstring(L, ATOMIC_MT ": %p", (void *)checkatomic(L));
  return 1;
}

void lgb_open_map(lua_State *L) {
  static const luaL_Reg f[] = {
    {"map", l_map}, {"atomic", l_atomic}, {NULL, NULL}
  };
  static const luaL_Reg map_m[] = {
    {"get", map_get}, {"set", map_set}, {"add", map_add},
    {"incr", map_incr}, {"delete", map_delete}, {"keys", map_keys},
    {NULL, NULL}
  };
  static const luaL_Reg map_mm[] = {
    {"__len", map_len}, {"__tostring", map_tostring}, {NULL, NULL}
  };
  static const luaL_Reg at_m[] = {
    {"load", at_load}, {"store", at_store}, {"add", at_add},
    {"cas", at_cas}, {NULL, NULL}
  };
  static const luaL_Reg at_mm[] = {
    {"__tostring", at_tostring}, {NULL, NULL}
  };
  int top;
  lgb_setfuncs(L, f);
  top = lua_gettop(L);
  lgb_sharedclass(L, LG_SH_MAP, MAP_MT, map_m, map_mm);
  lgb_sharedclass(L, LG_SH_ATOMIC, ATOMIC_MT, at_m, at_mm);
  lua_settop(L, top);  /* whether or not they leave the metatables */
}
