/* The interpreter's floor under lugo's channel calls (bench/workloads.lua,
 * workload "capi"): C functions that read their arguments through the
 * C API as lugo's must, and do nothing else. What they cost a Lua loop
 * is what any C implementation of lugo.select and ch:send/ch:recv pays
 * before its first instruction of channel work.
 *
 *   capi.select(cases) -> 1, 42, true
 *       reads cases.default, #cases, and each case's op and channel
 *   capi.chan          a userdata whose :send(v) reads v as an integer
 *                      and whose :recv() returns 42, true */
#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
#define lua_rawlen lua_objlen
#endif

static const void *volatile sink;  /* keeps the reads from being elided */

static int l_select(lua_State *L) {
  int n = (int)lua_rawlen(L, 1), i;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_rawget(L, 1);
  sink = lua_toboolean(L, -1) ? L : NULL;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    lua_rawgeti(L, -1, 1);
    sink = lua_topointer(L, -1);
    lua_rawgeti(L, -2, 2);
    sink = lua_touserdata(L, -1);
  }
  lua_pushinteger(L, 1);
  lua_pushinteger(L, 42);
  lua_pushboolean(L, 1);
  return 3;
}

static int ch_send(lua_State *L) {
  sink = lua_touserdata(L, 1);
  sink = (const void *)(size_t)lua_tointeger(L, 2);
  return 0;
}

static int ch_recv(lua_State *L) {
  sink = lua_touserdata(L, 1);
  lua_pushinteger(L, 42);
  lua_pushboolean(L, 1);
  return 2;
}

int luaopen_capi(lua_State *L) {
  lua_newtable(L);
  lua_pushliteral(L, "default");
  lua_pushcclosure(L, l_select, 1);
  lua_setfield(L, -2, "select");
  lua_newuserdata(L, sizeof(void *));
  lua_newtable(L);  /* metatable, with the methods in __index */
  lua_newtable(L);
  lua_pushcfunction(L, ch_send);
  lua_setfield(L, -2, "send");
  lua_pushcfunction(L, ch_recv);
  lua_setfield(L, -2, "recv");
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "chan");
  return 1;
}
