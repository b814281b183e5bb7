/* The user's own coroutines inside goroutines (Lua 5.4): coroutine.resume
 * as the standard one, plus what a goroutine needs of it.
 *  - A park inside the user's coroutine (a blocking call in an iterator
 *    made with coroutine.wrap, say) yields PARK to this resume: it goes
 *    on up to the scheduler, and the wake-up's results go back down, so
 *    the user's coroutine sees its call return and the user sees only
 *    their own yields.
 *  - While the user's coroutine runs it is b->running, where sysmon's
 *    preemption (procs.c) arms its hook: a loop that never yields inside
 *    it is preempted as one at the top of the goroutine is. The hook
 *    yields it with nothing; this resume then yields the goroutine, and
 *    resumes the user's coroutine when the scheduler resumes us.
 * LuaJIT has no continuations for C functions: lua/lugo/init.lua keeps
 * a Lua resume there, which passes parks through (and LuaJIT has no
 * preemption to pass). */
#include "binding.h"

#if LGB_HAS_YIELDK

static int step(lua_State *L, int narg);

/* Back from the scheduler: what it resumed us with (a wake-up's
 * results, or nothing after a preemption) goes to the coroutine. */
static int kresume(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  return step(L, lua_gettop(L) - 1);
}

/* Resume the coroutine at 1 with the `narg` values above it. */
static int step(lua_State *L, int narg) {
  lgb_t *b = lgb_get(L);
  lua_State *co = lua_tothread(L, 1), *prev = b->running;
  int status, nres;
  for (;;) {
    lua_xmove(L, co, narg);
    b->running = co;
    status = lua_resume(co, L, narg, &nres);
    b->running = prev;
    if (status != LUA_YIELD || nres != 0 || !b->preempted) break;
    /* Preempted inside it: the goroutine yields (the scheduler clears
     * the flag), unless it cannot here; then the slice goes on. */
    if (lua_isyieldable(L)) return lua_yieldk(L, 0, 0, kresume);
    b->preempted = 0;
    narg = 0;
  }
  if (status == LUA_YIELD && nres == 1 &&
      lua_touserdata(co, -1) == (void *)&lgb_parkkey) {
    lua_xmove(co, L, 1);
    return lua_yieldk(L, 1, 0, kresume);
  }
  if (status != LUA_OK && status != LUA_YIELD) {
    lua_pushboolean(L, 0);
    lua_xmove(co, L, 1);  /* the error */
    return 2;
  }
  if (!lua_checkstack(L, nres + 1)) {
    lua_pop(co, nres);
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "too many results to resume");
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_xmove(co, L, nres);
  return nres + 1;
}

/* core.resume(co, ...) -> true, ... | false, err   [-?, +?, e] */
static int l_resume(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  int narg = lua_gettop(L) - 1;
  luaL_argexpected(L, co != NULL, 1, "coroutine");
  if (lgb_isgthread(L, 1)) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "cannot resume a goroutine's coroutine: the "
                       "scheduler runs it");
    return 2;
  }
  if (co == L) {  /* lua_resume would take the arguments from itself */
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "cannot resume non-suspended coroutine");
    return 2;
  }
  if (!lua_checkstack(co, narg)) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "too many arguments to resume");
    return 2;
  }
  return step(L, narg);
}

void lgb_open_coro(lua_State *L) {
  static const luaL_Reg f[] = {{"resume", l_resume}, {NULL, NULL}};
  lgb_setfuncs(L, f);
}

#else

void lgb_open_coro(lua_State *L) {
  (void)L;
}

#endif
