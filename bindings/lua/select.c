/* lugo.select{ {"recv", ch}, {"send", ch, v}, ..., default = true } */
#include <string.h>
#include "binding.h"

#define STACK_CASES 16

static int parse_op(lua_State *L, int i) {
  size_t len;
  const char *op = lua_tolstring(L, -1, &len);
  if (op != NULL && len == 4) {
    if (memcmp(op, "recv", 4) == 0) return LG_SELRECV;
    if (memcmp(op, "send", 4) == 0) return LG_SELSEND;
  }
  return luaL_error(L, "select: case %d: op must be \"recv\" or \"send\", "
                       "got %s", i, op != NULL ? op : luaL_typename(L, -1));
}

/* lugo.select(cases) -> i [, v, ok] | nil   [-0, +3, e]
 * Reading the cases table is most of a select's cost in C on Lua 5.4,
 * where each API call is some 25 instructions: one pass, the raw get's
 * own type for checks, one settop per case. */
static int l_select(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_scase_t stackcases[STACK_CASES], *cases = stackcases;
  lg_g_t *g = b->p.curg;
  lg_value_t v;
  int n, i, block, chosen, ok, rc, top, nsend = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (int)lua_rawlen(L, 1);
  if (n > 65536) return luaL_error(L, "select: too many cases (max 65536)");
  lua_getfield(L, 1, "default");
  block = !lua_toboolean(L, -1);
  if (n > STACK_CASES) cases = lua_newuserdata(L, n * sizeof *cases);
  top = lua_gettop(L);
  /* Check every case before taking any value, so a bad case leaks
   * nothing. */
  for (i = 0; i < n; i++) {
    lg_scase_t *cs = &cases[i];
    if (lgb_rawgeti(L, 1, i + 1) != LUA_TTABLE)
      return luaL_error(L, "select: case %d is not a table", i + 1);
    lgb_rawgeti(L, -1, 1);
    cs->dir = parse_op(L, i + 1);
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
    }
    lua_settop(L, top);
  }
  for (i = 0; nsend > 0 && i < n; i++) {
    if (cases[i].dir != LG_SELSEND || cases[i].c == NULL) continue;
    lgb_rawgeti(L, 1, i + 1);
    lgb_rawgeti(L, -1, 2);
    lgb_rawgeti(L, -2, 3);
    /* A value that cannot cross to a shared channel raises here, after
     * earlier cases took theirs: those stay in slots until swept. */
    lgb_chanvalue(L, -1, -2, &cases[i].val);
    lua_settop(L, top);
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
  static const luaL_Reg f[] = {{"select", l_select}, {NULL, NULL}};
  lgb_setfuncs(L, f);
}
