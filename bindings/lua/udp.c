/* lugo.udp: datagram sockets, LuaSocket style (see tcp.c for how
 * blocking calls come back through core.PARK). */
#include "binding.h"

#define UDP_MT "lugo.udp"

static lg_udp_t *checkudp(lua_State *L, int i) {
  lg_udp_t **u = luaL_checkudata(L, i, UDP_MT);
  if (*u == NULL) luaL_argerror(L, i, "released");
  return *u;
}

/* core.udp_open([ip, port]) -> sock | nil, err: bound when given. */
static int l_open(lua_State *L) {
  lgb_t *b = lgb_get(L);
  struct sockaddr_storage ss;
  lg_udp_t **u;
  int bind = !lua_isnoneornil(L, 1), rc;
  if (bind && lgb_toaddr(L, 1, &ss) != 0)
    return luaL_argerror(L, 1, "not an IP address");
  u = lua_newuserdata(L, sizeof *u);
  *u = NULL;
  luaL_setmetatable(L, UDP_MT);
  if ((rc = lg_udp_new(&b->p, bind ? ss.ss_family : AF_UNSPEC, u)) != 0)
    return lgb_pushioerror(L, rc);
  if (bind && (rc = lg_udp_bind(*u, (struct sockaddr *)&ss)) != 0) {
    lg_udp_release(*u);
    *u = NULL;
    return lgb_pushioerror(L, rc);
  }
  return 1;
}

/* sock:recvfrom([err]) -> data, host, port | PARK [, err] | nil, err */
static int u_recvfrom(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_udp_t *u = checkudp(L, 1);
  struct sockaddr_storage from;
  const char *data;
  size_t len;
  int rc;
  if (!lua_isnoneornil(L, 2)) {  /* woken by an error */
    lua_pushnil(L);
    lua_pushvalue(L, 2);
    return 2;
  }
  rc = lg_udp_recv(u, b->p.curg, &data, &len, &from);
  if (rc == LG_PARKED) return lgb_park(L, b, b->p.curg, NULL, 0);
  if (rc != 0) return lgb_pushioerror(L, rc);
  lua_pushlstring(L, data, len);
  lgb_pushaddr(L, &from);
  lg_udp_consume(u);
  return 3;
}

/* sock:sendto(data, ip, port) -> #data | PARK [, err] | nil, err */
static int u_sendto(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_udp_t *u = checkudp(L, 1);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  struct sockaddr_storage to;
  int rc;
  if (lgb_toaddr(L, 3, &to) != 0)
    return luaL_argerror(L, 3, "not an IP address");
  rc = lg_udp_send(u, b->p.curg, (struct sockaddr *)&to, data, len);
  if (rc == 0) {
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
  }
  if (rc == LG_PARKED) return lgb_park(L, b, b->p.curg, NULL, 0);
  return lgb_pushioerror(L, rc);
}

static int u_settimeout(lua_State *L) {
  lg_udp_t *u = checkudp(L, 1);
  if (lua_isnoneornil(L, 2) || lua_tonumber(L, 2) < 0)
    lg_udp_settimeout(u, -1);
  else
    lg_udp_settimeout(u, lgb_checkduration(L, 2));
  lua_pushboolean(L, 1);
  return 1;
}

static int u_sockname(lua_State *L) {
  struct sockaddr_storage ss;
  int rc = lg_udp_addr(checkudp(L, 1), &ss);
  if (rc == UV_EBADF) {  /* open, but no address until bound or used */
    lua_pushnil(L);
    lua_pushliteral(L, "not bound");
    return 2;
  }
  if (rc != 0) return lgb_pushioerror(L, rc);
  return lgb_pushaddr(L, &ss);
}

static int u_close(lua_State *L) {
  lg_udp_t **u = luaL_checkudata(L, 1, UDP_MT);
  if (*u != NULL) lg_udp_close(*u);
  lua_pushboolean(L, 1);
  return 1;
}

static int u_gc(lua_State *L) {
  lg_udp_t **u = lua_touserdata(L, 1);
  if (*u != NULL) lg_udp_release(*u);
  *u = NULL;
  return 0;
}

void lgb_open_udp(lua_State *L) {
  static const luaL_Reg f[] = {{"udp_open", l_open}, {NULL, NULL}};
  static const luaL_Reg m[] = {
    {"recvfrom", u_recvfrom}, {"sendto", u_sendto},
    {"settimeout", u_settimeout}, {"sockname", u_sockname},
    {"close", u_close}, {NULL, NULL}
  };
  static const luaL_Reg mm[] = {{"__gc", u_gc}, {"__close", u_gc}, {NULL, NULL}};
  lgb_setfuncs(L, f);
  lgb_newclass(L, UDP_MT, m, mm);
  lua_getfield(L, -1, "__index");
  lua_setfield(L, 4, "udp_methods");
  lua_pop(L, 1);
}
