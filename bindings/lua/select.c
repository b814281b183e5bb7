/* lugo.select{ {"recv", ch}, {"send", ch, v}, ..., default = true } */
#include "binding.h"

#define STACK_CASES 16

/* select's own upvalues after the module's: the key "default", so that
 * looking it up hashes nothing, and the op names, which anchor the
 * interned strings whose addresses b->recvop and b->sendop hold (short
 * strings are interned: a case's op is recognised by its address). */
#define DEFAULT_KEY lua_upvalueindex(LGB_NUPVALS + 1)

static int badop(lua_State *L, int i, int idx) {
  const char *op = lua_tostring(L, idx);
  return luaL_error(L, "select: case %d: op must be \"recv\" or \"send\", "
                       "got %s", i, op != NULL ? op : luaL_typename(L, idx));
}

/* lugo.select(cases) -> i [, v, ok] | nil   [-0, +3, e]
 * Reading the cases table is most of a select's cost in C on Lua 5.4,
 * where each API call is some 20-40 instructions: one pass, ops compared
 * by address, the raw get's own type for checks. A select of up to
 * STACK_CASES cases leaves what it read on the stack (no settop at all,
 * send values at hand); a larger one clears the stack after each case
 * (LuaJIT's C stack allows some 8000 slots) and reads its send cases
 * again. */
static int l_select(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_scase_t stackcases[STACK_CASES], *cases = stackcases;
  lg_g_t *g = b->p.curg;
  lg_value_t v;
  int n, i, block, chosen, ok, rc, base, keep, nsend = 0;
  if (lua_type(L, 1) != LUA_TTABLE) luaL_checktype(L, 1, LUA_TTABLE);
  n = (int)lua_rawlen(L, 1);
  if (n > 65536) return luaL_error(L, "select: too many cases (max 65536)");
  lua_pushvalue(L, DEFAULT_KEY);
  lua_rawget(L, 1);
  block = !lua_toboolean(L, -1);
  keep = n <= STACK_CASES;
  /* A C function has LUA_MINSTACK (20) slots: enough for three kept
   * cases and an error message about the last. */
  if (keep && n > 3) luaL_checkstack(L, 4 * n, NULL);
  else if (!keep) cases = lua_newuserdata(L, n * sizeof *cases);
  base = lua_gettop(L);
  /* Check every case before taking any value, so a bad case leaks
   * nothing. Each case puts its table, op, channel and value on the
   * stack (case i's from base + 4i + 1, if kept). */
  for (i = 0; i < n; i++) {
    lg_scase_t *cs = &cases[i];
    const void *op;
    if (lgb_rawgeti(L, 1, i + 1) != LUA_TTABLE)
      return luaL_error(L, "select: case %d is not a table", i + 1);
    lgb_rawgeti(L, -1, 1);
    op = lua_topointer(L, -1);
    if (op == b->recvop) cs->dir = LG_SELRECV;
    else if (op == b->sendop) cs->dir = LG_SELSEND;
    else return badop(L, i + 1, -1);
    cs->c = NULL;
    cs->val.type = LG_VNIL;
    if (lgb_rawgeti(L, -2, 2) != LUA_TNIL &&
        (cs->c = lgb_tochan(L, -1)) == NULL)
      return luaL_error(L, "select: case %d: lugo.chan expected, got %s",
                        i + 1, luaL_typename(L, -1));
    if (cs->dir == LG_SELSEND && cs->c != NULL) {
      if (lgb_rawgeti(L, -3, 3) == LUA_TNIL)
        return lgb_wrappederror(L, "cannot send nil on a channel");
      nsend++;
    } else {
      lua_pushnil(L);
    }
    if (!keep) lua_settop(L, base);
  }
  for (i = 0; nsend > 0 && i < n; i++) {
    int at = base + 4 * i + 3;  /* the channel; the value above it */
    if (cases[i].dir != LG_SELSEND || cases[i].c == NULL) continue;
    if (!keep) {
      lgb_rawgeti(L, 1, i + 1);
      lgb_rawgeti(L, -1, 2);
      lgb_rawgeti(L, -2, 3);
      at = lua_gettop(L) - 1;
    }
    /* A value that cannot cross to a shared channel raises here, after
     * earlier cases took theirs: those stay in slots until swept. */
    lgb_chanvalue(L, at + 1, at, &cases[i].val);
    if (!keep) lua_settop(L, base);
  }
  rc = lg_select(&b->p, g, cases, n, block, &chosen, &v, &ok);
  switch (rc) {
  case 0:
    lua_pushinteger(L, chosen + 1);
    if (cases[chosen].dir == LG_SELSEND) return 1;
    lgb_pushvalue(L, b, &v);
    lua_pushboolean(L, ok);
    return 3;
  case LG_EAGAIN:
    lua_pushnil(L);
    return 1;
  case LG_ECLOSED:
    return lgb_wrappederror(L, "send on closed channel");
  case LG_PARKED:
    /* Only a send can be woken by an error: receives need no check. */
    return lgb_park(L, b, g, nsend > 0 ? lgb_kfinish : NULL,
                    lua_gettop(L));
  default:
    return luaL_error(L, "not enough memory");
  }
}

void lgb_open_select(lua_State *L) {
  lgb_t *b = lua_touserdata(L, 1);
  int i;
  for (i = 1; i <= LGB_NUPVALS; i++) lua_pushvalue(L, i);
  lua_pushliteral(L, "default");
  lua_pushliteral(L, "recv");
  b->recvop = lua_topointer(L, -1);
  lua_pushliteral(L, "send");
  b->sendop = lua_topointer(L, -1);
  lua_pushcclosure(L, l_select, LGB_NUPVALS + 3);
  lua_setfield(L, -2, "select");
}
