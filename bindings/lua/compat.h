/* The few places where Lua 5.4 and LuaJIT 2.1 differ for this binding. */
#ifndef LUGO_COMPAT_H
#define LUGO_COMPAT_H

#include <stdint.h>
#include <stdio.h>
#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 504
#define LGB_HAS_INTEGERS 1
#define LGB_HAS_YIELDK 1

static inline int lgb_resume(lua_State *co, lua_State *from, int nargs,
                             int *nres) {
  return lua_resume(co, from, nargs, nres);
}

/* Make a coroutine that died of an error usable again. */
static inline int lgb_resetthread(lua_State *co, lua_State *from) {
#if LUA_VERSION_RELEASE_NUM >= 50406
  return lua_closethread(co, from) == LUA_OK;
#else
  (void)from;
  return lua_resetthread(co) == LUA_OK;
#endif
}

/* lua_rawgeti, returning the type of what it pushed. */
#define lgb_rawgeti(L, t, n) lua_rawgeti((L), (t), (n))

/* The userdata type checks' first test: the size of a full userdata at
 * `i` (the length of a string or table, which lua_touserdata then
 * rejects; 0 for anything else). */
#define lgb_udlen(L, i) lua_rawlen((L), (i))

#else /* LuaJIT 2.1: the 5.1 API plus a few 5.2 functions */
#define LGB_HAS_INTEGERS 0
#define LGB_HAS_YIELDK 0
typedef intptr_t lua_KContext;
typedef int (*lua_KFunction)(lua_State *L, int status, lua_KContext ctx);

static inline int lgb_resume(lua_State *co, lua_State *from, int nargs,
                             int *nres) {
  int status;
  (void)from;
  status = lua_resume(co, nargs);
  *nres = lua_gettop(co);
  return status;
}

static inline int lgb_resetthread(lua_State *co, lua_State *from) {
  (void)co;
  (void)from;
  return 0;  /* a dead LuaJIT coroutine cannot be reused */
}

#define lua_rawlen(L, i) lua_objlen((L), (i))

/* As on 5.4, but lua_objlen turns a number into a string where it
 * stands: an error message would then say "got string". */
static inline size_t lgb_udlen(lua_State *L, int i) {
  return lua_type(L, i) == LUA_TUSERDATA ? lua_objlen(L, i) : 0;
}

static inline int lgb_rawgeti(lua_State *L, int t, int n) {
  lua_rawgeti(L, t, n);
  return lua_type(L, -1);
}
#define LUA_OK 0
#endif

/* An integer: a Lua integer on 5.4, a number on LuaJIT. */
static inline void lgb_pushint(lua_State *L, int64_t i) {
#if LGB_HAS_INTEGERS
  lua_pushinteger(L, (lua_Integer)i);
#else
  lua_pushnumber(L, (lua_Number)i);
#endif
}

/* A count. */
static inline void lgb_pushcount(lua_State *L, size_t n) {
  lgb_pushint(L, (int64_t)n);
}

#endif
