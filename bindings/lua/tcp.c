/* lugo.tcp: streams and listeners, LuaSocket style. Each blocking call
 * either answers at once or parks and returns core.PARK (plus the error
 * that woke it, if any); lua/lugo/net.lua calls again until it answers. */
#include <string.h>
#include "binding.h"

#define CONN_MT "lugo.tcp.conn"
#define LISTENER_MT "lugo.tcp.listener"

const char *lgb_ioerror(int rc) {
  switch (rc) {
  case LG_ETIMEDOUT: case UV_ETIMEDOUT: return "timeout";
  case LG_ECLOSED: case UV_EOF: case UV_EPIPE: case UV_ECANCELED:
  case UV_ENOTCONN: case UV_EBADF: return "closed";
  case UV_ECONNREFUSED: return "refused";
  case UV_ECONNRESET: return "reset";
  case UV_EADDRINUSE: return "address already in use";
  case UV_EHOSTUNREACH: case UV_ENETUNREACH: return "unreachable";
  case UV_EAI_NONAME: return "host not found";
  case LG_ENOMEM: case UV_ENOMEM: case UV_ENOBUFS: return "not enough memory";
  default: return rc < 0 ? uv_strerror(rc) : lg_strerror(rc);
  }
}

int lgb_pushioerror(lua_State *L, int rc) {
  lua_pushnil(L);
  lua_pushstring(L, lgb_ioerror(rc));
  return 2;
}

/* The userdata of a stream or a listener. `magic` tells a stream at
 * once (see lgb_checkconn); a listener's is NULL. */
typedef struct tcpud_s {
  const void *magic;
  lg_tcp_t *t;            /* NULL once released */
} tcpud_t;

static const char connmagic = 0;

/* A new stream (conn = 1) or listener userdata; returns its stream
 * pointer, for lg_tcp_new and friends to fill. */
static lg_tcp_t **newtcp(lua_State *L, int conn) {
  tcpud_t *u = lua_newuserdata(L, sizeof *u);
  u->t = NULL;
  u->magic = conn ? &connmagic : NULL;
  luaL_setmetatable(L, conn ? CONN_MT : LISTENER_MT);
  return &u->t;
}

static lg_tcp_t *checkopen(lua_State *L, int i, const char *mt) {
  tcpud_t *u = luaL_checkudata(L, i, mt);
  if (u->t == NULL) luaL_argerror(L, i, "released");
  return u->t;
}

/* Streams are checked a few times a request; anything else takes the
 * long way, for its error message. */
lg_tcp_t *lgb_checkconn(lua_State *L, int i) {
  tcpud_t *u = lgb_tomagic(L, i, sizeof *u, &connmagic);
  if (u == NULL) return checkopen(L, i, CONN_MT);
  if (u->t == NULL) luaL_argerror(L, i, "released");
  return u->t;
}

int lgb_toaddr(lua_State *L, int i, struct sockaddr_storage *ss) {
  const char *host = luaL_checkstring(L, i);
  lua_Integer port = luaL_checkinteger(L, i + 1);
  if (port < 0 || port > 65535) luaL_argerror(L, i + 1, "port out of range");
  if (strcmp(host, "*") == 0) host = "0.0.0.0";
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0) return 0;
  if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0) return 0;
  return UV_EINVAL;
}

int lgb_pushaddr(lua_State *L, const struct sockaddr_storage *ss) {
  char host[64];
  int port, rc;
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    port = ntohs(a->sin6_port);
    rc = uv_ip6_name(a, host, sizeof host);
  } else {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    port = ntohs(a->sin_port);
    rc = uv_ip4_name(a, host, sizeof host);
  }
  if (rc != 0) return lgb_pushioerror(L, rc);
  lua_pushstring(L, host);
  lua_pushinteger(L, port);
  return 2;
}

static int park(lua_State *L) {
  lgb_t *b = lgb_get(L);
  return lgb_park(L, b, b->p.curg, NULL, 0);
}

/* core.tcp_listen(ip, port, backlog, reuseport) -> ln | nil, err */
static int l_listen(lua_State *L) {
  lgb_t *b = lgb_get(L);
  struct sockaddr_storage ss;
  int backlog = (int)luaL_optinteger(L, 3, 511), rc;
  lg_tcp_t **u;
  if (lgb_toaddr(L, 1, &ss) != 0)
    return luaL_argerror(L, 1, "not an IP address");
  u = newtcp(L, 0);
  if ((rc = lg_tcp_new(&b->p, ss.ss_family, u)) != 0)
    return lgb_pushioerror(L, rc);
  if ((rc = lg_tcp_listen(*u, (struct sockaddr *)&ss, backlog,
                          lua_toboolean(L, 4))) != 0) {
    lg_tcp_release(*u);
    *u = NULL;
    return lgb_pushioerror(L, rc);
  }
  return 1;
}

/* core.tcp_accept(ln [, err]) -> conn | PARK [, err] | nil, err */
static int ln_accept(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_tcp_t *ln = checkopen(L, 1, LISTENER_MT), **u;
  int rc;
  if (!lua_isnoneornil(L, 2)) {  /* woken by an error */
    lua_pushnil(L);
    lua_pushvalue(L, 2);
    return 2;
  }
  u = newtcp(L, 1);
  rc = lg_tcp_accept(ln, b->p.curg, u);
  if (rc == 0) return 1;
  if (rc == LG_PARKED) return park(L);
  return lgb_pushioerror(L, rc);
}

/* core.tcp_connect(ip, port, timeout) -> conn | nil, err
 * The running goroutine is queued on the connect: the caller parks it
 * next with core.park(), then asks core.tcp_status. */
static int l_connect(lua_State *L) {
  lgb_t *b = lgb_get(L);
  struct sockaddr_storage ss;
  lg_tcp_t **u;
  int rc;
  if (lgb_toaddr(L, 1, &ss) != 0)
    return luaL_argerror(L, 1, "not an IP address");
  u = newtcp(L, 1);
  if ((rc = lg_tcp_new(&b->p, ss.ss_family, u)) != 0)
    return lgb_pushioerror(L, rc);
  if (!lua_isnoneornil(L, 3))
    lg_tcp_settimeout(*u, lgb_checkduration(L, 3));
  rc = lg_tcp_connect(*u, b->p.curg, (struct sockaddr *)&ss);
  if (rc != LG_PARKED) return lgb_pushioerror(L, rc);
  return 1;
}

/* core.stdin() -> conn | nil, err: standard input as a stream. */
static int l_stdin(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_tcp_t **u = newtcp(L, 1);
  int rc = lg_tcp_stdin(&b->p, u);
  if (rc != 0) return lgb_pushioerror(L, rc);
  return 1;
}

/* core.tcp_status(conn) -> true | nil, err: how a connect went. */
static int c_status(lua_State *L) {
  int rc = lg_tcp_error(checkopen(L, 1, CONN_MT));
  if (rc != 0) return lgb_pushioerror(L, rc);
  lua_pushboolean(L, 1);
  return 1;
}

static int readmode(lua_State *L, int i, size_t *n) {
  if (lua_type(L, i) == LUA_TNUMBER) {
    lua_Number x = lua_tonumber(L, i);
    if (!(x >= 0 && x == (lua_Number)(size_t)x))
      luaL_argerror(L, i, "byte count must be a whole number >= 0");
    *n = (size_t)x;
    return LG_TCP_BYTES;
  } else {
    const char *p = luaL_optstring(L, i, "*l");
    if (*p == '*') p++;
    if (strcmp(p, "l") == 0) return LG_TCP_LINE;
    if (strcmp(p, "a") == 0) return LG_TCP_ALL;
    return luaL_argerror(L, i, "pattern must be \"*l\", \"*a\" or a number");
  }
}

/* conn:receive([pattern [, err]]) -> data | PARK [, err] | nil, err, part */
static int c_receive(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_tcp_t *t = lgb_checkconn(L, 1);
  const char *data = NULL;
  size_t n = 0, len = 0, skip = 0;
  int mode = readmode(L, 2, &n), rc;
  if (!lua_isnoneornil(L, 3)) {
    /* Woken by an error (timeout, close): hand over what came so far,
     * without waiting again. */
    len = lg_tcp_buffered(t, &data);
    lua_pushnil(L);
    lua_pushvalue(L, 3);
    lua_pushlstring(L, data != NULL ? data : "", len);
    if (len > 0) lg_tcp_consume(t, len);
    return 3;
  }
  if (mode == LG_TCP_BYTES && n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  rc = lg_tcp_read(t, b->p.curg, mode, n, &data, &len, &skip);
  if (rc == LG_PARKED) return park(L);
  if (rc == 0) {
    lua_pushlstring(L, data, len);
    lg_tcp_consume(t, len + skip);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, lgb_ioerror(rc));
  lua_pushlstring(L, data != NULL ? data : "", data != NULL ? len : 0);
  if (data != NULL && len > 0) lg_tcp_consume(t, len);
  return 3;
}

/* conn:send(data) -> #data | PARK [, err] | nil, err */
static int c_send(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lg_tcp_t *t = lgb_checkconn(L, 1);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  int rc = lg_tcp_write(t, b->p.curg, data, len);
  if (rc == 0) {
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
  }
  if (rc == LG_PARKED) return park(L);
  return lgb_pushioerror(L, rc);
}

/* conn:settimeout(sec | nil)   (LuaSocket's mode argument is ignored) */
static int settimeout(lua_State *L, const char *mt) {
  lg_tcp_t *t = checkopen(L, 1, mt);
  if (lua_isnoneornil(L, 2) || lua_tonumber(L, 2) < 0)
    lg_tcp_settimeout(t, -1);
  else
    lg_tcp_settimeout(t, lgb_checkduration(L, 2));
  lua_pushboolean(L, 1);
  return 1;
}

static int c_settimeout(lua_State *L) { return settimeout(L, CONN_MT); }
static int ln_settimeout(lua_State *L) { return settimeout(L, LISTENER_MT); }

static int addr(lua_State *L, const char *mt, int peer) {
  lg_tcp_t *t = checkopen(L, 1, mt);
  char host[64];
  int port, rc = lg_tcp_addr(t, peer, host, sizeof host, &port);
  if (rc != 0) return lgb_pushioerror(L, rc);
  lua_pushstring(L, host);
  lua_pushinteger(L, port);
  return 2;
}

static int c_peername(lua_State *L) { return addr(L, CONN_MT, 1); }
static int c_sockname(lua_State *L) { return addr(L, CONN_MT, 0); }
static int ln_addr(lua_State *L) { return addr(L, LISTENER_MT, 0); }

/* conn:shutdown() -> true | nil, err: no more sends; the peer sees EOF. */
static int c_shutdown(lua_State *L) {
  int rc = lg_tcp_shutdown(checkopen(L, 1, CONN_MT));
  if (rc != 0) return lgb_pushioerror(L, rc);
  lua_pushboolean(L, 1);
  return 1;
}

static int close_(lua_State *L, const char *mt) {
  tcpud_t *u = luaL_checkudata(L, 1, mt);
  if (u->t != NULL) lg_tcp_close(u->t);
  lua_pushboolean(L, 1);
  return 1;
}

static int c_close(lua_State *L) { return close_(L, CONN_MT); }
static int ln_close(lua_State *L) { return close_(L, LISTENER_MT); }

static int gc(lua_State *L) {
  tcpud_t *u = lua_touserdata(L, 1);
  if (u->t != NULL) lg_tcp_release(u->t);
  u->t = NULL;
  return 0;
}

static int c_tostring(lua_State *L) {
  lua_pushfstring(L, "lugo.tcp.conn: %p", lua_touserdata(L, 1));
  return 1;
}

static int ln_tostring(lua_State *L) {
  lua_pushfstring(L, "lugo.tcp.listener: %p", lua_touserdata(L, 1));
  return 1;
}

void lgb_open_tcp(lua_State *L) {
  static const luaL_Reg f[] = {
    {"tcp_listen", l_listen}, {"tcp_connect", l_connect},
    {"tcp_status", c_status}, {"stdin", l_stdin}, {NULL, NULL}
  };
  static const luaL_Reg conn[] = {
    {"receive", c_receive}, {"send", c_send}, {"settimeout", c_settimeout},
    {"peername", c_peername}, {"sockname", c_sockname},
    {"shutdown", c_shutdown}, {"close", c_close}, {NULL, NULL}
  };
  static const luaL_Reg connmm[] = {
    {"__gc", gc}, {"__close", gc}, {"__tostring", c_tostring}, {NULL, NULL}
  };
  static const luaL_Reg ln[] = {
    {"accept", ln_accept}, {"addr", ln_addr}, {"settimeout", ln_settimeout},
    {"close", ln_close}, {NULL, NULL}
  };
  static const luaL_Reg lnmm[] = {
    {"__gc", gc}, {"__close", gc}, {"__tostring", ln_tostring}, {NULL, NULL}
  };
  lgb_setfuncs(L, f);
  lgb_newclass(L, CONN_MT, conn, connmm);
  lua_getfield(L, -1, "__index");
  lua_setfield(L, 4, "conn_methods");
  lgb_newclass(L, LISTENER_MT, ln, lnmm);
  lua_getfield(L, -1, "__index");
  lua_setfield(L, 4, "listener_methods");
  lua_pop(L, 2);
}
