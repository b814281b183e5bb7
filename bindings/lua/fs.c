/* lugo.fs.readfile and writefile: parking calls on the thread pool. */
#include "binding.h"

#define FILE_MT "lugo.file"

static int file_gc(lua_State *L) {
  lg_file_t **u = lua_touserdata(L, 1);
  if (*u != NULL) lg_file_free(*u);
  *u = NULL;
  return 0;
}

/* core.fs_start(path [, data]) -> req | nil, err
 * The running goroutine is queued: the caller parks it next with
 * core.park(), then reads core.fs_result(req). */
static int l_start(lua_State *L) {
  lgb_t *b = lgb_get(L);
  const char *path = luaL_checkstring(L, 1);
  size_t len = 0;
  const char *data = luaL_optlstring(L, 2, NULL, &len);
  lg_file_t **u = lua_newuserdata(L, sizeof *u);
  int rc;
  *u = NULL;
  luaL_setmetatable(L, FILE_MT);
  rc = lg_file_start(&b->p, b->p.curg, path, data, len, data != NULL, u);
  if (rc != LG_PARKED) {
    *u = NULL;
    return lgb_pushioerror(L, rc);
  }
  return 1;
}

/* core.fs_result(req) -> contents (read) | true (write) | nil, err */
static int l_result(lua_State *L) {
  lg_file_t **u = luaL_checkudata(L, 1, FILE_MT);
  const char *data;
  size_t len;
  int rc;
  if (*u == NULL) return luaL_argerror(L, 1, "already read");
  if ((rc = lg_file_result(*u, &data, &len)) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, uv_strerror(rc));
    return 2;
  }
  if (data != NULL && !lua_toboolean(L, 2)) lua_pushlstring(L, data, len);
  else if (!lua_toboolean(L, 2)) lua_pushliteral(L, "");
  else lua_pushboolean(L, 1);
  lg_file_free(*u);
  *u = NULL;
  return 1;
}

void lgb_open_fs(lua_State *L) {
  static const luaL_Reg f[] = {
    {"fs_start", l_start}, {"fs_result", l_result}, {NULL, NULL}
  };
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg mm[] = {{"__gc", file_gc}, {NULL, NULL}};
  lgb_setfuncs(L, f);
  lgb_newclass(L, FILE_MT, none, mm);
  lua_pop(L, 1);
}
