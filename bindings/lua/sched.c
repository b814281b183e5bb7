/* Goroutines: go, run, yield, sleep, now, onerror, stats, dump, and the
 * loop that resumes goroutines' coroutines. */
#include <stdlib.h>
#include <string.h>
#include "binding.h"

/* Finished coroutines kept for reuse (Go's gFree); beyond this the
 * collector takes them. */
#define COFREE_MAX 4096

static const char *const deadlock = "all goroutines are asleep - deadlock!";

/* ------------------------------------------------------------ coroutines */

/* A coroutine for a new goroutine, fresh or reused, anchored in a slot. */
static lua_State *co_get(lua_State *L, lgb_t *b, uint32_t *slot) {
  lua_State *co;
  if (b->ncofree > 0) {
    lgb_co_t *c = &b->cofree[--b->ncofree];
    *slot = c->slot;
    return c->co;
  }
  co = lua_newthread(L);
  *slot = lgb_ref(L, b, -1);
  lgb_marknew(L);
  lua_pop(L, 1);
  return co;
}

static void co_put(lua_State *L, lgb_t *b, lua_State *co, uint32_t slot) {
  if (b->cofree == NULL)
    b->cofree = malloc(COFREE_MAX * sizeof *b->cofree);
  lua_settop(co, 0);
  if (b->cofree != NULL && b->ncofree < COFREE_MAX) {
    b->cofree[b->ncofree].co = co;
    b->cofree[b->ncofree++].slot = slot;
  } else {
    lgb_unref(L, b, slot);
  }
}

/* --------------------------------------------------------------- errors */

void lgb_pusherr(lua_State *L, const char *msg, int withpos) {
  lua_pushlightuserdata(L, (void *)&lgb_errkey);
  lua_pushstring(L, msg);
  lua_pushboolean(L, withpos);
}

int lgb_kfinish(lua_State *L, int status, lua_KContext ctx) {
  int base = (int)ctx;
  (void)status;
  if (lua_gettop(L) >= base + 3 &&
      lua_touserdata(L, base + 1) == (void *)&lgb_errkey) {
    if (lua_toboolean(L, base + 3)) {
      luaL_where(L, LGB_WRAPPED_LEVEL);
      lua_pushvalue(L, base + 2);
      lua_concat(L, 2);
    } else {
      lua_pushvalue(L, base + 2);
    }
    return lua_error(L);
  }
  return lua_gettop(L) - base;
}

/* "goroutine N: <err>" and the goroutine's traceback, on L. */
static void push_gerror(lua_State *L, lua_State *co, lg_g_t *g) {
  const char *msg;
  lua_xmove(co, L, 1);
  /* tostring(err), as the API promises; an error in __tostring must not
   * escape the scheduler. */
  lua_getglobal(L, "tostring");
  lua_pushvalue(L, -2);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
    lua_pop(L, 1);
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
  }
  msg = lua_tostring(L, -1);
  if (g->p->id != 0)
    lua_pushfstring(L, "goroutine %d on P%d: %s", (int)g->id, g->p->id, msg);
  else
    lua_pushfstring(L, "goroutine %d: %s", (int)g->id, msg);
  luaL_traceback(L, co, lua_tostring(L, -1), 0);
  lua_replace(L, -3);  /* keep: err, traceback */
  lua_pop(L, 1);
}

void lgb_penderror(lua_State *L, lgb_t *b, int idx) {
  if (b->nerrors == b->errorscap) {
    size_t n = b->errorscap ? b->errorscap * 2 : 8;
    uint32_t *e = realloc(b->errors, n * sizeof *e);
    if (e == NULL) {  /* cannot even remember it: say it at least */
      fprintf(stderr, "lugo: %s\n", lua_tostring(L, idx));
      return;
    }
    b->errors = e;
    b->errorscap = n;
  }
  b->errors[b->nerrors++] = lgb_ref(L, b, idx);
}

/* Raise the oldest goroutine error nobody has taken. */
static int raise_pending(lua_State *L, lgb_t *b) {
  uint32_t slot = b->errors[0];
  memmove(b->errors, b->errors + 1, --b->nerrors * sizeof *b->errors);
  lgb_pushref(L, slot);
  lgb_unref(L, b, slot);
  return lua_error(L);
}

/* A goroutine died of an error: its joiner (lugo.run) raises it, or
 * lugo.onerror hears of it, or the main thread raises it at its next
 * blocking call. */
/* With err and traceback at top + 1 and top + 2: call lugo.onerror's
 * handler, if there is one, with them, the goroutine id and the
 * processor number; a failing handler's error is pended. Returns 0 when
 * there is no handler. */
int lgb_onerror(lua_State *L, lgb_t *b, int top, uint64_t id, int pid) {
  if (b->onerror == 0) return 0;
  lgb_pushref(L, b->onerror);
  lua_pushvalue(L, top + 1);
  lua_pushvalue(L, top + 2);
  lua_pushinteger(L, (lua_Integer)id);
  lua_pushinteger(L, pid);
  if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
    lua_pushfstring(L, "lugo.onerror handler failed: %s\nwhile handling %s",
                    lua_tostring(L, -1), lua_tostring(L, top + 2));
    lgb_penderror(L, b, -1);
  }
  lua_settop(L, top + 2);
  return 1;
}

static void gdied(lua_State *L, lgb_t *b, lg_g_t *g, lua_State *co,
                  int status) {
  lg_p_t *p = &b->p;
  int top = lua_gettop(L);
  if (status == LUA_ERRMEM) {
    /* Out of memory: what the goroutine held is still reachable from its
     * stack, so let the stack go and collect before making any string
     * (no traceback: it would need the memory that ran out). */
    if (lgb_resetthread(co, L)) co_put(L, b, co, g->hostref);
    else lgb_unref(L, b, g->hostref);
    lua_gc(L, LUA_GCCOLLECT, 0);
    if (g->p->id != 0)
      lua_pushfstring(L, "goroutine %d on P%d: not enough memory",
                      (int)g->id, g->p->id);
    else
      lua_pushfstring(L, "goroutine %d: not enough memory", (int)g->id);
    lua_pushliteral(L, "not enough memory");
    lua_insert(L, -2);  /* err, traceback */
  } else {
    push_gerror(L, co, g);  /* err, traceback */
    if (lgb_resetthread(co, L)) co_put(L, b, co, g->hostref);
    else lgb_unref(L, b, g->hostref);  /* a dead coroutine: let it go */
  }
  if (g->joiner != NULL && b->onerror == 0) {
    lg_g_t *j = g->joiner;
    j->val.type = LG_VREF;
    j->val.u.ref = lgb_ref(L, b, -1);
    j->rc = LG_EINVAL;
    lg_ready(p, j, 1);
  } else if (lgb_onerror(L, b, top, g->id, p->id)) {
    if (g->joiner != NULL) {  /* handled: lugo.run returns nothing */
      g->joiner->val.type = LG_VNIL;
      g->joiner->rc = LG_ECLOSED;
      lg_ready(p, g->joiner, 1);
    }
  } else if (!lgb_forwarderror(L, b, top + 1, top + 2, g->id)) {
    lgb_penderror(L, b, -1);
  }
  lua_settop(L, top);
  lg_g_free(p, g);
}

static void gfinished(lua_State *L, lgb_t *b, lg_g_t *g, lua_State *co) {
  if (g->joiner != NULL) {
    /* The joiner takes the results straight off this coroutine, which
     * it recycles afterwards. */
    lg_g_t *j = g->joiner;
    j->val.type = LG_VREF;
    j->val.u.ref = g->hostref;
    j->rc = 0;
    lg_ready(&b->p, j, 1);
  } else {
    co_put(L, b, co, g->hostref);
  }
  lg_g_free(&b->p, g);
}

/* ------------------------------------------------------------- wake-ups */

/* Push on L what the parked call of `g` returns, by why it parked. */
static int push_wake(lua_State *L, lgb_t *b, lg_g_t *g) {
  switch (g->reason) {
  case LG_WRECV:
    lgb_pushvalue(L, b, &g->val);
    lua_pushboolean(L, g->ok > 0);
    return 2;
  case LG_WSEND:
    if (g->rc == LG_ECLOSED) {
      lgb_pusherr(L, "send on closed channel", 1);
      return 3;
    }
    return 0;
  case LG_WSELECT:
    if (g->rc == LG_ECLOSED) {
      lgb_pusherr(L, "send on closed channel", 1);
      return 3;
    }
    lua_pushinteger(L, g->sel + 1);
    if (g->ok < 0) return 1;
    lgb_pushvalue(L, b, &g->val);
    lua_pushboolean(L, g->ok > 0);
    return 3;
  case LG_WJOIN: {
    uint32_t slot = g->val.u.ref;
    lua_State *co;
    int n;
    if (g->rc == LG_ECLOSED) return 0;  /* died, onerror took it */
    g->val.type = LG_VNIL;
    if (g->rc != 0) {  /* the goroutine died: slot holds its error */
      lua_pushlightuserdata(L, (void *)&lgb_errkey);
      lgb_pushref(L, slot);
      lgb_unref(L, b, slot);
      lua_pushboolean(L, 0);
      return 3;
    }
    lgb_pushref(L, slot);
    co = lua_tothread(L, -1);
    lua_pop(L, 1);
    n = lua_gettop(co);
    luaL_checkstack(L, n, "too many results");
    lua_xmove(co, L, n);
    co_put(L, b, co, slot);
    return n;
  }
  case LG_WIO:
    /* I/O calls try again once woken (see lua/lugo/net.lua): PARK, and
     * the error that woke them, if any. */
    lua_pushlightuserdata(L, (void *)&lgb_parkkey);
    if (g->rc == 0) return 1;
    lua_pushstring(L, lgb_ioerror(g->rc));
    return 2;
  default:
    return 0;
  }
}

/* ----------------------------------------------------------------- loop */

void lgb_run(lua_State *L, lgb_t *b, lg_g_t *g) {
  lg_p_t *p = &b->p;
  lua_State *co = g->host, *running;
  lg_g_t *prev = p->curg;
  int nargs, nres, status;
  if (lua_status(co) == LUA_OK) {  /* not started: function and args */
    nargs = lua_gettop(co) - 1;
  } else if (g->reason == LG_WRECV && g->val.type < LG_VREF) {
    /* The hot cases (ping-pong, select): push straight onto the
     * coroutine, no trip through L. */
    lgb_pushvalue(co, b, &g->val);
    lua_pushboolean(co, g->ok > 0);
    nargs = 2;
  } else if (g->reason == LG_WSELECT && g->rc == 0 &&
             g->val.type < LG_VREF) {
    lua_pushinteger(co, g->sel + 1);
    nargs = 1;
    if (g->ok >= 0) {
      lgb_pushvalue(co, b, &g->val);
      lua_pushboolean(co, g->ok > 0);
      nargs = 3;
    }
  } else {
    nargs = push_wake(L, b, g);
    lua_xmove(L, co, nargs);
  }
  g->status = LG_GRUNNING;
  p->curg = g;
  p->stats.switches++;
  /* A user's coroutine that drives the scheduler (a blocking call in one
   * on the main thread) is not where this goroutine runs. */
  running = b->running;
  b->running = NULL;
  status = lgb_resume(co, L, nargs, &nres);
  b->running = running;
  p->curg = prev;
  if (status == LUA_YIELD) {
    lua_pop(co, nres);
    if (g->status == LG_GRUNNING) {
      /* A plain coroutine.yield at the top of a goroutine (there is no
       * resumer to receive it but us), or a preemption: take it as
       * lugo.yield(). A preempted goroutine ran a whole time slice, so
       * timers and I/O are due a look now, not in TIMER_CHECK_TICKS. */
      g->reason = LG_WNONE;
      if (b->preempted) {  /* what that wakes goes first */
        b->preempted = 0;
        lg_p_poll(p, 0);
      }
      lg_ready(p, g, 0);
    }
  } else if (status == LUA_OK) {
    gfinished(L, b, g, co);
  } else {
    gdied(L, b, g, co, status);
  }
}

/* Run goroutines until `waitg` is woken (NULL: until nothing is left).
 * Returns 0; LG_EDEADLK when nothing can ever wake it; LG_EINVAL when a
 * goroutine error is pending and this is the main thread's loop, which
 * must raise it. */
static int drive(lua_State *L, lgb_t *b, lg_g_t *waitg) {
  lg_p_t *p = &b->p;
  int ismain = p->curg == &p->maing;
  for (;;) {
    lg_g_t *g;
    b->L = L;  /* for callbacks of lg_p_poll; lgb_run may have changed it */
    if (ismain && b->rt != NULL) lgb_pullerrors(L, b);
    if (ismain && b->nerrors > 0) return LG_EINVAL;
    if (waitg != NULL && waitg->status == LG_GRUNNABLE) return 0;
    if ((g = lg_p_next(p)) != NULL) {
      lgb_run(L, b, g);
      continue;
    }
    if (waitg != NULL && waitg->status == LG_GRUNNABLE) return 0;
    if (p->rt != NULL) {  /* idle with other processors: take a task */
      lg_blob_t *task = lg_task_next(p, 1);
      if (task != NULL) {
        lgb_runtask(L, b, task);
        continue;
      }
    }
    if (waitg == NULL && p->ngoroutines == 0 && lg_p_timers(p) == 0 &&
        p->nwaitingio == 0)
      return 0;
    if (lg_p_poll(p, 1) == LG_EDEADLK) return LG_EDEADLK;
  }
}

/* A goroutine waiting in lugo.run for one that will now never wake it. */
static void unjoin(lgb_t *b, lg_g_t *j) {
  lg_g_t *g;
  for (g = b->p.allg; g != NULL; g = g->allnext)
    if (g->joiner == j) g->joiner = NULL;
}

int lgb_park(lua_State *L, lgb_t *b, lg_g_t *g, lua_KFunction k,
             lua_KContext ctx) {
  int was, rc, n;
  if (!g->inlinewait && lua_isyieldable(L)) {
    lua_pushlightuserdata(L, (void *)&lgb_parkkey);
#if LGB_HAS_YIELDK
    return lua_yieldk(L, 1, ctx, k);
#else
    return lua_yield(L, 1);
#endif
  }
  was = g->inlinewait;
  g->inlinewait = 1;
  rc = drive(L, b, g);
  if (rc != 0 && g->reason == LG_WJOIN) unjoin(b, g);
  if (rc != 0 && lg_g_unwait(&b->p, g) != 0) {
    /* Another processor has woken it already: take that wake-up (the
     * pending error stays pending), or its value would be lost. */
    while (g->status != LG_GRUNNABLE) lg_p_poll(&b->p, 0);
    rc = 0;
  }
  g->inlinewait = was;
  lg_g_settle(&b->p, g);
  if (rc != 0) {
    /* The wait was given up so the runtime stays usable; raise. */
    if (rc == LG_EINVAL) return raise_pending(L, b);
    /* On LuaJIT the calls that pass a continuation are called through a
     * Lua wrapper (see init.lua): blame the wrapper's caller. */
    luaL_where(L, k != NULL && !LGB_HAS_YIELDK ? 2 : 1);
    lua_pushstring(L, deadlock);
    lua_concat(L, 2);
    return lua_error(L);
  }
  g->status = LG_GRUNNING;
  n = push_wake(L, b, g);
  g->reason = LG_WNONE;
  return k != NULL ? k(L, LUA_YIELD, ctx) : n;
}

/* ------------------------------------------------------------ functions */

lg_g_t *lgb_go(lua_State *L, lgb_t *b, int nargs) {
  lg_g_t *g;
  lua_State *co;
  uint32_t slot;
  if ((g = lg_g_new(&b->p)) == NULL) luaL_error(L, "not enough memory");
  co = co_get(L, b, &slot);
  lua_xmove(L, co, nargs + 1);
  g->host = co;
  g->hostref = slot;
  return g;
}

static lg_g_t *spawn(lua_State *L, lgb_t *b) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  return lgb_go(L, b, lua_gettop(L) - 1);
}

/* lugo.go(fn, ...)   [-0, +0, e] */
static int l_go(lua_State *L) {
  lgb_t *b = lgb_get(L);
  if (!b->sysmon) lgb_procs_sysmon(L, b);
  lg_ready(&b->p, spawn(L, b), 0);
  return 0;
}

/* lugo.run([fn, ...]) -> fn's results   [-0, +?, e] */
static int l_run(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_p_t *p = &b->p;
  lg_g_t *self = p->curg, *g;
  int rc;
  if (lua_isnoneornil(L, 1)) {
    if (self != &p->maing)
      return luaL_error(L, "lugo.run: only the main thread can wait for "
                           "every goroutine; pass a function to wait for it");
    if ((rc = drive(L, b, NULL)) == LG_EINVAL) return raise_pending(L, b);
    if (rc != 0) return lgb_wrappederror(L, deadlock);
    return 0;
  }
  if (!b->sysmon) lgb_procs_sysmon(L, b);
  g = spawn(L, b);
  g->joiner = self;
  lg_ready(p, g, 0);
  lg_park(p, self, LG_WJOIN);
  return lgb_park(L, b, self, lgb_kfinish, 0);
}

/* lugo.yield()   [-0, +0, -] */
static int l_yield(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_p_t *p = &b->p;
  lg_g_t *g = p->curg;
  size_t n;
  if (!g->inlinewait && lua_isyieldable(L)) {
    g->reason = LG_WNONE;
    lg_ready(p, g, 0);
    lua_pushlightuserdata(L, (void *)&lgb_parkkey);
    return lua_yield(L, 1);
  }
  /* On the main thread: everything runnable now runs once. */
  b->L = L;
  lg_p_poll(p, 0);
  for (n = lg_p_runnable(p); n > 0; n--) {
    lg_g_t *next = lg_p_next(p);
    if (next == NULL) break;
    lgb_run(L, b, next);
  }
  if (g == &p->maing && b->nerrors > 0) return raise_pending(L, b);
  return 0;
}

/* lugo.sleep(sec)   [-0, +0, e] */
static int l_sleep(lua_State *L) {
  lgb_t *b = lgb_get(L);
  int64_t d = lgb_checkduration(L, 1);
  lg_g_t *g = b->p.curg;
  if (d == 0) return 0;  /* Go's time.Sleep(0) returns at once */
  if (lg_sleep(&b->p, g, lg_now() + d) != LG_PARKED)
    return luaL_error(L, "not enough memory");
  return lgb_park(L, b, g, NULL, 0);
}

/* core.park() -> wake-up results   [-0, +?, e]
 * Park the running goroutine, which an FFI call has queued already (see
 * lua/lugo/ffi.lua). An error the wake-up carries comes back as core.ERR,
 * msg, withpos for the caller to raise. */
static int l_park(lua_State *L) {
  lgb_t *b = lgb_get(L);
  return lgb_park(L, b, b->p.curg, NULL, 0);
}

/* core.isgoroutine(co) -> boolean   [-0, +1, -] */
static int l_isgoroutine(lua_State *L) {
  lua_pushboolean(L, lgb_isgthread(L, 1));
  return 1;
}

/* core.markself()   [-0, +0, -]
 * Mark the calling coroutine as a goroutine's if it is the running
 * goroutine's own (LuaJIT's coroutine.running calls it first: see
 * lgb_marknew). A coroutine of the user's inside it is not marked. */
static int l_markself(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_g_t *g = b->p.curg;
  if (g != &b->p.maing && g->host == (void *)L) {
    lua_pushthread(L);
    if (!lgb_isgthread(L, -1)) lgb_markthread(L);
  }
  return 0;
}

/* lugo.now() -> seconds   [-0, +1, -] */
static int l_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)lg_now() / 1e9);
  return 1;
}

/* lugo.onerror(fn | nil)   [-0, +0, e]
 * lugo.onerror() -> the handler or nil   [-0, +1, -] */
static int l_onerror(lua_State *L) {
  lgb_t *b = lgb_get(L);
  if (lua_isnone(L, 1)) {
    if (b->onerror != 0) lgb_pushref(L, b->onerror);
    else lua_pushnil(L);
    return 1;
  }
  if (!lua_isnil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  if (b->onerror != 0) lgb_unref(L, b, b->onerror);
  b->onerror = lua_isnil(L, 1) ? 0 : lgb_ref(L, b, 1);
  return 0;
}

/* -------------------------------------------------------- introspection */

static void setint(lua_State *L, const char *k, double v) {
  lgb_pushcount(L, (size_t)v);
  lua_setfield(L, -2, k);
}

/* lugo.stats() -> table   [-0, +1, -] */
static int l_stats(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_p_t *p = &b->p;
  size_t runnable = lg_p_runnable(p);
  double mem = lua_gc(L, LUA_GCCOUNT, 0) * 1024.0 + lua_gc(L, LUA_GCCOUNTB, 0);
  size_t running = p->curg != &p->maing;
  lua_createtable(L, 0, 12);
  setint(L, "goroutines", (double)p->ngoroutines);
  setint(L, "runnable", (double)runnable);
  setint(L, "runq", (double)runnable);
  setint(L, "blocked", (double)(p->ngoroutines - runnable - running));
  setint(L, "procs", lgb_procs_running(b));
  setint(L, "timers", (double)lg_p_timers(p));
  setint(L, "channels", (double)p->nchans);
  setint(L, "switches", (double)p->stats.switches);
  setint(L, "steals", (double)p->stats.steals);
  setint(L, "memory", mem);
  lua_createtable(L, 1, 0);  /* per processor */
  lua_createtable(L, 0, 8);
  setint(L, "id", p->id);
  setint(L, "goroutines", (double)p->ngoroutines);
  setint(L, "runq", (double)runnable);
  setint(L, "timers", (double)lg_p_timers(p));
  setint(L, "channels", (double)p->nchans);
  setint(L, "switches", (double)p->stats.switches);
  setint(L, "steals", (double)p->stats.steals);
  setint(L, "tasks", (double)p->stats.tasks);
  setint(L, "inbox", (double)p->stats.inbox);
  setint(L, "preemptions", (double)p->stats.preemptions);
  lua_pushnumber(L, (lua_Number)p->stats.idle / 1e9);
  lua_setfield(L, -2, "idle");
  setint(L, "memory", mem);
  lua_rawseti(L, -2, 1);
  lgb_procs_stats(L, b);  /* the workers' rows, from P0 */
  lua_setfield(L, -2, "p");
  return 1;
}

static const char *gstate(lg_p_t *p, lg_g_t *g) {
  if (g == p->curg) return "running";
  switch (g->status) {
  case LG_GIDLE:
  case LG_GRUNNABLE: return "runnable";
  case LG_GWAITING: return lg_waitname(g->reason);
  default: return "running";  /* driving a nested loop */
  }
}

/* Where the goroutine's function was defined: its bottom frame. */
static void push_origin(lua_State *L, lua_State *co) {
  lua_Debug ar;
  int level = 0;
  if (lua_status(co) == LUA_OK) {
    lua_pushvalue(co, 1);
    lua_xmove(co, L, 1);
    lua_getinfo(L, ">S", &ar);
  } else {
    while (lua_getstack(co, level + 1, &ar)) level++;
    if (!lua_getstack(co, level, &ar) || !lua_getinfo(co, "S", &ar)) {
      lua_pushliteral(L, "?");
      return;
    }
  }
  lua_pushfstring(L, "%s:%d", ar.short_src, ar.linedefined);
}

/* lugo.dump() -> string   [-0, +1, -] */
static int l_dump(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_p_t *p = &b->p;
  luaL_Buffer buf;
  lg_g_t *g;
  int64_t now = lg_now();
  luaL_buffinit(L, &buf);
  for (g = p->allg; g != NULL; g = g->allnext) {
    lua_State *co = g->host;
    const char *state = gstate(p, g);
    if (g->status == LG_GWAITING) {
      char since[32];
      snprintf(since, sizeof since, "%.3f s", (double)(now - g->since) / 1e9);
      lua_pushfstring(L, "goroutine %d [%s, %s]:\n", (int)g->id, state,
                      since);
    } else
      lua_pushfstring(L, "goroutine %d [%s]:\n", (int)g->id, state);
    luaL_addvalue(&buf);
    if (lua_status(co) != LUA_OK || g == p->curg) {
      luaL_traceback(L, g == p->curg ? L : co, NULL, 0);
      luaL_addvalue(&buf);
      luaL_addchar(&buf, '\n');
    }
    luaL_addstring(&buf, "created from function at ");
    push_origin(L, co);
    luaL_addvalue(&buf);
    luaL_addstring(&buf, "\n\n");
  }
  luaL_pushresult(&buf);
  return 1;
}

/* LUGO_DEBUG=schedtrace=N: one line every N ms on stderr, as Go's
 * GODEBUG=schedtrace. A daemon timer: it keeps nothing alive. */
static void trace_fire(lg_timer_t *t, int64_t now) {
  lgb_t *b = t->arg;
  lg_p_t *p = &b->p;
  size_t runnable = lg_p_runnable(p);
  fprintf(stderr, "SCHED %lldms: procs=1 goroutines=%zu runnable=%zu "
          "blocked=%zu timers=%zu channels=%zu switches=%llu\n",
          (long long)((now - b->started) / 1000000), p->ngoroutines,
          runnable, p->ngoroutines - runnable, lg_p_timers(p), p->nchans,
          (unsigned long long)p->stats.switches);
}

void lgb_schedtrace(lgb_t *b) {
  const char *env = getenv("LUGO_DEBUG"), *v;
  long ms;
  b->started = lg_now();
  if (env == NULL || (v = strstr(env, "schedtrace=")) == NULL) return;
  if ((ms = strtol(v + strlen("schedtrace="), NULL, 10)) <= 0) return;
  memset(&b->trace, 0, sizeof b->trace);
  b->trace.fn = trace_fire;
  b->trace.arg = b;
  b->trace.p = &b->p;
  b->trace.idx = -1;
  b->trace.daemon = 1;
  b->trace.period = ms * 1000000;
  (void)lg_timer_start(&b->trace, lg_now() + b->trace.period);
}

void lgb_open_sched(lua_State *L) {
  static const luaL_Reg f[] = {
    {"go", l_go}, {"run", l_run}, {"yield", l_yield}, {"sleep", l_sleep},
    {"now", l_now}, {"onerror", l_onerror}, {"stats", l_stats},
    {"dump", l_dump}, {"park", l_park},
    {"isgoroutine", l_isgoroutine}, {"markself", l_markself},
    {NULL, NULL}
  };
  lgb_setfuncs(L, f);
}
