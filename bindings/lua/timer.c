/* lugo.after, lugo.timer and lugo.ticker: channel timers on the P's heap.
 * The userdata owns one reference on the core timer; a pending timer is
 * also held by the heap, so it fires even if its handle is collected (as
 * Go's timers did before 1.23), into a channel it keeps alive. */
#include "binding.h"

#define TIMER_MT "lugo.timer"

static lg_timer_t *checktimer(lua_State *L, int i) {
  lg_timer_t **u = luaL_checkudata(L, i, TIMER_MT);
  return *u;
}

/* Start a channel timer firing after arg 1 seconds; pushes the channel
 * and, with `handle`, the timer userdata. */
static int newtimer(lua_State *L, int64_t period, int handle) {
  lgb_t *b = lgb_get(L);
  int64_t d = lgb_checkduration(L, 1);
  lg_timer_t **u = NULL, *t;
  lg_chan_t *c;
  if (handle) {
    u = lua_newuserdata(L, sizeof *u);
    *u = NULL;
    luaL_setmetatable(L, TIMER_MT);
  }
  if ((c = lg_chan_new(&b->p, 1)) == NULL)
    return luaL_error(L, "not enough memory");
  lgb_pushchan(L, c);  /* the userdata owns the creation reference */
  if ((t = lg_timer_newchan(&b->p, c, period)) == NULL)
    return luaL_error(L, "not enough memory");
  if (lg_timer_start(t, lg_now() + (period > 0 ? period : d)) != 0) {
    lg_timer_release(t);
    return luaL_error(L, "not enough memory");
  }
  if (handle) *u = t;
  else lg_timer_release(t);  /* the heap holds it until it fires */
  return handle ? 2 : 1;
}

/* lugo.after(sec) -> ch   [-0, +1, e] */
static int l_after(lua_State *L) {
  return newtimer(L, 0, 0);
}

/* core.timer(sec) -> handle, ch   [-0, +2, e] */
static int l_timer(lua_State *L) {
  return newtimer(L, 0, 1);
}

/* core.ticker(sec) -> handle, ch   [-0, +2, e] */
static int l_ticker(lua_State *L) {
  int64_t d = lgb_checkduration(L, 1);
  if (d <= 0) return luaL_error(L, "non-positive interval for ticker");
  return newtimer(L, d, 1);
}

/* core.timer_stop(handle) -> was pending   [-0, +1, e] */
static int t_stop(lua_State *L) {
  lua_pushboolean(L, lg_timer_stop(checktimer(L, 1)));
  return 1;
}

/* core.timer_reset(handle, sec) -> was pending   [-0, +1, e] */
static int t_reset(lua_State *L) {
  lg_timer_t *t = checktimer(L, 1);
  int64_t d = lgb_checkduration(L, 2);
  int was = t->idx >= 0;
  if (t->period > 0) {
    if (d <= 0) return luaL_error(L, "non-positive interval for ticker");
    t->period = d;
  }
  if (lg_timer_start(t, lg_now() + d) != 0)
    return luaL_error(L, "not enough memory");
  lua_pushboolean(L, was);
  return 1;
}

static int t_gc(lua_State *L) {
  lg_timer_t **u = luaL_checkudata(L, 1, TIMER_MT);
  if (*u != NULL) lg_timer_release(*u);
  *u = NULL;
  return 0;
}

void lgb_open_timer(lua_State *L) {
  static const luaL_Reg f[] = {
    {"after", l_after}, {"timer", l_timer}, {"ticker", l_ticker},
    {"timer_stop", t_stop}, {"timer_reset", t_reset}, {NULL, NULL}
  };
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg mm[] = {{"__gc", t_gc}, {NULL, NULL}};
  lgb_setfuncs(L, f);
  lgb_newclass(L, TIMER_MT, none, mm);
  lua_pop(L, 1);
}
