/* lugo.chan: local and shared channels. The userdata holds a pointer to
 * the core channel and owns one reference on it (timers, and for a
 * shared one other processors, may hold others). A shared channel has a
 * metatable of its own with the same methods, so LuaJIT's FFI fast paths
 * (lua/lugo/ffi.lua), which know only local channels, leave it to these;
 * what it carries is copied (lgb_encode), never a slot of this state. */
#include "binding.h"

/* Largest capacity: far past any memory, short of 2^53 where Lua
 * numbers stop being exact. */
#define CAP_MAX ((lua_Number)(1ull << 40))

/* The channel userdata. `magic` makes the type check two loads instead
 * of a metatable comparison, which cost more than the send it guarded;
 * the size check first keeps the read inside foreign userdata. */
typedef struct chanud_s {
  const void *magic;
  lg_chan_t *c;
  lgb_t *b;               /* its processor, saving an upvalue lookup */
  int shared;
} chanud_t;

#define SHARED_MT "lugo.sharedchan"

static const char chanmagic = 0;

static inline chanud_t *tochan(lua_State *L, int i) {
  return lgb_tomagic(L, i, sizeof(chanud_t), &chanmagic);
}

static int notchan(lua_State *L, int i) {
  return luaL_argerror(L, i, lua_pushfstring(L, "lugo.chan expected, got %s",
                                             luaL_typename(L, i)));
}

/* Inline, with the error out of line: it runs on every channel call. */
static inline chanud_t *checkchanud(lua_State *L, int i) {
  chanud_t *u = tochan(L, i);
  if (u == NULL || u->c == NULL) notchan(L, i);
  return u;
}

lg_chan_t *lgb_checkchan(lua_State *L, int i) {
  return checkchanud(L, i)->c;
}

lg_chan_t *lgb_tochan(lua_State *L, int i) {
  chanud_t *u = tochan(L, i);
  return u != NULL ? u->c : NULL;
}

static chanud_t *newchanud(lua_State *L, lg_chan_t *c, int shared) {
  chanud_t *u = lua_newuserdata(L, sizeof *u);
  u->magic = &chanmagic;
  u->c = c;
  u->b = lgb_get(L);
  u->shared = shared;
  if (shared) luaL_getmetatable(L, SHARED_MT);
  else lua_pushvalue(L, LGB_CHANMT);
  lua_setmetatable(L, -2);
  return u;
}

void lgb_pushchan(lua_State *L, lg_chan_t *c) {
  newchanud(L, c, lg_chan_isshared(c));
}

/* A value for channel `u`: a shared one's is copied, unless it is nil, a
 * boolean or a number, which need no host. */
static inline void tovalue(lua_State *L, chanud_t *u, int i,
                           lg_value_t *v) {
  if (u->shared && lua_type(L, i) > LUA_TNUMBER) {
    v->type = LG_VBLOB;
    v->u.blob = lgb_encode(L, i, "value", 0, u->b->maxmsg);
  } else {
    lgb_tovalue(L, u->b, i, v);
  }
}

void lgb_chanvalue(lua_State *L, int i, int ch, lg_value_t *v) {
  tovalue(L, checkchanud(L, ch), i, v);
}

/* lugo.chan([cap [, opts]]) -> ch   [-0, +1, e] */
static int l_chan(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lua_Number cap = luaL_optnumber(L, 1, 0);
  lg_chan_t *c;
  chanud_t *u;
  int shared = 0;
  if (!(cap >= 0 && cap <= CAP_MAX && cap == (lua_Number)(size_t)cap))
    return luaL_error(L, "makechan: size out of range");
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "shared");
    shared = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  /* The userdata first, so a failed allocation leaks nothing. */
  u = newchanud(L, NULL, shared);
  c = shared ? lg_chan_newshared((size_t)cap) : lg_chan_new(&b->p, (size_t)cap);
  if (c == NULL) return luaL_error(L, "not enough memory");
  u->c = c;
  return 1;
}

/* ch:send(v)   [-0, +0, e] */
static int ch_send(lua_State *L) {
  chanud_t *u = checkchanud(L, 1);
  lgb_t *b = u->b;
  lg_chan_t *c = u->c;
  lg_g_t *g = b->p.curg;
  lg_value_t v;
  int rc;
  /* Convert, then check: a nil holds nothing to release, and lua_type
   * once is one API call fewer on every send. */
  tovalue(L, u, 2, &v);
  if (v.type == LG_VNIL)
    return lgb_wrappederror(L, "cannot send nil on a channel");
  rc = lg_chan_send(c, g, &v);
  if (rc == 0) return 0;
  if (rc == LG_PARKED)
    return lgb_park(L, b, g, lgb_kfinish, lua_gettop(L));
  lgb_pushvalue(L, b, &v);  /* not sent: release it */
  if (rc == LG_ECLOSED) return lgb_wrappederror(L, "send on closed channel");
  return luaL_error(L, "not enough memory");
}

/* ch:recv() -> v, ok   [-0, +2, e] */
static int ch_recv(lua_State *L) {
  chanud_t *u = checkchanud(L, 1);
  lgb_t *b = u->b;
  lg_chan_t *c = u->c;
  lg_g_t *g = b->p.curg;
  lg_value_t v;
  int rc = lg_chan_recv(c, g, &v);
  if (rc == LG_PARKED) return lgb_park(L, b, g, NULL, 0);
  if (rc == LG_ENOMEM) return luaL_error(L, "not enough memory");
  lgb_pushvalue(L, b, &v);
  lua_pushboolean(L, rc == 0);
  return 2;
}

/* ch:trysend(v) -> boolean   [-0, +1, e] */
static int ch_trysend(lua_State *L) {
  lgb_t *b = lgb_get(L);
  chanud_t *u = checkchanud(L, 1);
  lg_chan_t *c = u->c;
  lg_value_t v;
  int rc;
  tovalue(L, u, 2, &v);  /* then check, as ch_send */
  if (v.type == LG_VNIL) return luaL_error(L, "cannot send nil on a channel");
  rc = lg_chan_trysend(c, &v);
  if (rc == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lgb_pushvalue(L, b, &v);
  if (rc == LG_ECLOSED) return luaL_error(L, "send on closed channel");
  if (rc == LG_ENOMEM) return luaL_error(L, "not enough memory");
  lua_pushboolean(L, 0);
  return 1;
}

/* ch:tryrecv() -> v, true | nil, false (closed) | nil, nil   [-0, +2, -] */
static int ch_tryrecv(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_chan_t *c = lgb_checkchan(L, 1);
  lg_value_t v;
  int rc = lg_chan_tryrecv(c, &v);
  lgb_pushvalue(L, b, &v);
  if (rc == LG_EAGAIN) lua_pushnil(L);
  else lua_pushboolean(L, rc == 0);
  return 2;
}

/* ch:close()   [-0, +0, e] */
static int ch_close(lua_State *L) {
  if (lg_chan_close(lgb_checkchan(L, 1)) == LG_ECLOSED)
    return luaL_error(L, "close of closed channel");
  return 0;
}

/* ch:cap() -> n   [-0, +1, -] */
static int ch_cap(lua_State *L) {
  lgb_pushcount(L, lg_chan_cap(lgb_checkchan(L, 1)));
  return 1;
}

/* #ch -> buffered count   [-0, +1, -] */
static int ch_len(lua_State *L) {
  lgb_pushcount(L, lg_chan_len(lgb_checkchan(L, 1)));
  return 1;
}

static int ch_tostring(lua_State *L) {
  lg_chan_t *c = lgb_checkchan(L, 1);
  lua_pushfstring(L, "lugo.chan (%d/%d%s%s): %p", (int)lg_chan_len(c),
                  (int)lg_chan_cap(c), lg_chan_closed(c) ? ", closed" : "",
                  lg_chan_isshared(c) ? ", shared" : "", (void *)c);
  return 1;
}

static int ch_gc(lua_State *L) {
  chanud_t *u = lua_touserdata(L, 1);
  if (u->c != NULL) lg_chan_release(u->c);
  u->c = NULL;
  return 0;
}

void lgb_open_chan(lua_State *L) {
  static const luaL_Reg f[] = {{"chan", l_chan}, {NULL, NULL}};
  static const luaL_Reg m[] = {
    {"send", ch_send}, {"recv", ch_recv}, {"trysend", ch_trysend},
    {"tryrecv", ch_tryrecv}, {"close", ch_close}, {"cap", ch_cap},
    {NULL, NULL}
  };
  static const luaL_Reg mm[] = {
    {"__len", ch_len}, {"__gc", ch_gc}, {"__tostring", ch_tostring},
    {NULL, NULL}
  };
  lgb_setfuncs(L, f);
  /* Fill in the metatable made in luaopen (upvalue 3 everywhere). */
  lua_pushliteral(L, "lugo.chan");
  lua_setfield(L, 3, "__name");
  lua_pushvalue(L, 3);
  lgb_setfuncs(L, mm);
  lua_newtable(L);
  lgb_setfuncs(L, m);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "lugo.chan");
  lua_getfield(L, -1, "__index");
  lua_setfield(L, 4, "chan_methods");
  /* The shared channels' metatable: the same methods and metamethods. */
  luaL_newmetatable(L, SHARED_MT);
  lua_pushnil(L);
  while (lua_next(L, -3)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  lua_pop(L, 2);
}
