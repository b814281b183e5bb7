/* lugo.dns.resolve: getaddrinfo off the P's thread. */
#include "binding.h"

#define DNS_MT "lugo.dns"

static int dns_gc(lua_State *L) {
  lg_dns_t **u = lua_touserdata(L, 1);
  if (*u != NULL) lg_dns_free(*u);
  *u = NULL;
  return 0;
}

/* core.dns_resolve(name) -> req | nil, err
 * The running goroutine is queued on the request: the caller parks it
 * next with core.park(), then reads core.dns_result(req). */
static int l_resolve(lua_State *L) {
  lgb_t *b = lgb_get(L);
  const char *name = luaL_checkstring(L, 1);
  lg_dns_t **u = lua_newuserdata(L, sizeof *u);
  int rc;
  *u = NULL;
  luaL_setmetatable(L, DNS_MT);
  rc = lg_dns_resolve(&b->p, b->p.curg, name, u);
  if (rc != LG_PARKED) {
    *u = NULL;  /* the request frees itself when it completes */
    return lgb_pushioerror(L, rc);
  }
  return 1;
}

/* core.dns_result(req) -> { address, ... } | nil, err */
static int l_result(lua_State *L) {
  lg_dns_t **u = luaL_checkudata(L, 1, DNS_MT);
  const struct addrinfo *ai;
  int rc, n = 0;
  if (*u == NULL) return luaL_argerror(L, 1, "already read");
  rc = lg_dns_result(*u, &ai);
  if (rc != 0) {
    lua_pushnil(L);
    lua_pushstring(L, rc == UV_EAI_NONAME ? "host not found" : uv_strerror(rc));
    return 2;
  }
  lua_newtable(L);
  for (; ai != NULL; ai = ai->ai_next) {
    char host[64];
    if (ai->ai_family == AF_INET)
      uv_ip4_name((const struct sockaddr_in *)ai->ai_addr, host, sizeof host);
    else if (ai->ai_family == AF_INET6)
      uv_ip6_name((const struct sockaddr_in6 *)ai->ai_addr, host, sizeof host);
    else
      continue;
    lua_pushstring(L, host);
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

void lgb_open_dns(lua_State *L) {
  static const luaL_Reg f[] = {
    {"dns_resolve", l_resolve}, {"dns_result", l_result}, {NULL, NULL}
  };
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg mm[] = {{"__gc", dns_gc}, {NULL, NULL}};
  lgb_setfuncs(L, f);
  lgb_newclass(L, DNS_MT, none, mm);
  lua_pop(L, 1);
}
