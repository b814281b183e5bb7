/* HTTP/1.1 on a lugo.tcp stream: reading whole messages (head and body)
 * with core/http.c's parser, and writing responses and requests. The
 * connection loop and the handler are Lua (lua/lugo/http.lua); every
 * byte of parsing and formatting is here.
 *
 * A message is read in place: it stays in the stream's buffer, from its
 * first byte, until the head and the body are complete, so the parser's
 * offsets stay valid across parks and nothing is copied twice. */
#include <string.h>
#include <time.h>
#include "binding.h"
#include "../../core/http.h"

#define HCONN_MT "lugo.http.state"
#define MAX_HEADERS 100

_Static_assert(sizeof ((lgb_t *)0)->date > LG_HTTP_DATE_LEN,
               "lgb_t's date holds a Date header and its NUL");

typedef struct hstate_s {
  const void *magic;      /* &statemagic: see checkstate */
  lg_http_parser_t ps;
  lg_http_chunked_t ck;
  lg_http_header_t headers[MAX_HEADERS];
  lg_http_limits_t lim;
  int kind;
  int64_t idle_timeout;   /* while no byte of a message is here, ns;
                             < 0: keep */
  int64_t read_timeout;   /* once a message has begun, ns; < 0: keep */
  int started;            /* bytes of a message have arrived */
  int continued;          /* "100 Continue" sent for this message */
  size_t fed;             /* chunked: body bytes given to the decoder */
  lg_http_buf_t body;     /* chunked: the decoded body so far */
} hstate_t;

static const char statemagic = 0;

/* Checked on every read; anything else goes to luaL_checkudata for its
 * error message. */
static hstate_t *checkstate(lua_State *L, int i) {
  hstate_t *h = lgb_tomagic(L, i, sizeof *h, &statemagic);
  return h != NULL ? h : luaL_checkudata(L, i, HCONN_MT);
}

static void restart(hstate_t *h) {
  lg_http_init(&h->ps, h->kind, &h->lim, h->headers, MAX_HEADERS);
  lg_http_chunked_init(&h->ck, &h->lim);
  h->started = 0;
  h->continued = 0;
  h->fed = 0;
  h->body.len = 0;
}

/* core.http_state(kind, max_head, max_body, read_timeout, idle_timeout)
 *   -> state
 * kind: "request", "response" or "head" (a response to HEAD);
 * read_timeout (s): the stream's timeout once a message has begun, so a
 * client that stalls mid-request is cut sooner than an idle one;
 * idle_timeout (s): the stream's timeout until then, set by each read
 * (a conn:settimeout call less per request). */
static int l_state(lua_State *L) {
  static const char *const kinds[] = {"request", "response", "head", NULL};
  static const int kindv[] = {LG_HTTP_REQUEST, LG_HTTP_RESPONSE,
                              LG_HTTP_RESPONSE_TO_HEAD};
  int kind = kindv[luaL_checkoption(L, 1, NULL, kinds)];
  size_t max_head = (size_t)luaL_optinteger(L, 2, LG_HTTP_MAX_HEAD);
  lua_Number max_body = luaL_optnumber(L, 3, (lua_Number)LG_HTTP_MAX_BODY);
  int64_t rt = lua_isnoneornil(L, 4) ? -1 : lgb_checkduration(L, 4);
  int64_t it = lua_isnoneornil(L, 5) ? -1 : lgb_checkduration(L, 5);
  hstate_t *h = lua_newuserdata(L, sizeof *h);
  memset(h, 0, sizeof *h);
  h->magic = &statemagic;
  h->kind = kind;
  h->idle_timeout = it;
  h->lim.max_head = max_head;
  h->lim.max_body = max_body >= 9.2e18 ? INT64_MAX : (int64_t)max_body;
  h->read_timeout = rt;
  lg_http_buf_init(&h->body, NULL, 0);
  restart(h);
  luaL_setmetatable(L, HCONN_MT);
  return 1;
}

static int state_gc(lua_State *L) {
  lg_http_buf_free(&checkstate(L, 1)->body);
  return 0;
}

static void pushspan(lua_State *L, const char *buf, lg_http_span_t s) {
  lua_pushlstring(L, buf + s.off, s.len);
}

/* A complete head's fields, in the order l_read returns them (see
 * there); returns how many. Values, not a table: lua/lugo/http.lua makes
 * the table with a constructor, whose constant keys cost nothing, where
 * lua_setfield hashed a C string for each field. */
static int pushhead(lua_State *L, hstate_t *h, const char *buf) {
  lg_http_parser_t *ps = &h->ps;
  size_t i;
  int n;
  if (h->kind == LG_HTTP_REQUEST) {
    pushspan(L, buf, ps->method);
    if (ps->path.len > 0) pushspan(L, buf, ps->path);
    else lua_pushliteral(L, "/");
    pushspan(L, buf, ps->query);
    n = 3;
  } else {
    lua_pushinteger(L, ps->status);
    n = 1;
  }
  /* A number, not "1.1": one string less to make per request. */
  lua_pushnumber(L, 1 + ps->minor / 10.0);
  lua_pushboolean(L, ps->keepalive);
  lua_createtable(L, 0, (int)ps->nheaders);
  for (i = 0; i < ps->nheaders; i++) {
    /* A repeated header joins its values with ", " (RFC 9110 5.3). */
    pushspan(L, buf, ps->headers[i].name);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      pushspan(L, buf, ps->headers[i].value);
    } else {
      lua_pushliteral(L, ", ");
      pushspan(L, buf, ps->headers[i].value);
      lua_concat(L, 3);
    }
    lua_rawset(L, -3);
  }
  return n + 3;
}

/* Wait until the stream holds more than `have` bytes. Returns 0 to go
 * on, or 1 with *ret what l_read must return at once: a park's result
 * (never to be looked at: LuaJIT's lua_yield returns -1 and expects the
 * C function to return it straight away) or an error. */
static int wait_more(lua_State *L, lgb_t *b, lg_tcp_t *t, size_t have,
                     int *ret) {
  const char *data;
  size_t len, skip;
  int rc = lg_tcp_read(t, b->p.curg, LG_TCP_BYTES, have + 1, &data, &len,
                       &skip);
  if (rc == 0) return 0;  /* there already */
  if (rc == LG_PARKED) *ret = lgb_park(L, b, b->p.curg, NULL, 0);
  else *ret = lgb_pushioerror(L, rc);
  return 1;
}

/* A malformed message: nil and the HTTP status to answer with. */
static int badmessage(lua_State *L, hstate_t *h, int status) {
  restart(h);
  lua_pushnil(L);
  lua_pushinteger(L, status);
  return 2;
}

/* core.http_read(state, conn [, err])
 *   -> method, path, query, version, keepalive, headers, body, continue
 *    | status, version, keepalive, headers, body
 *    | PARK [, err] | nil, err
 * Reads one whole message: a request's fields (continue: true if the
 * client expects "100 Continue", else nil) or a response's, by the
 * state's kind. err is "closed", "timeout", ... or an HTTP status number
 * for a malformed message (400, 413, 431, 501, 505). */
static int l_read(lua_State *L) {
  lgb_t *b = lgb_get(L);
  hstate_t *h = checkstate(L, 1);
  lg_tcp_t *t = lgb_checkconn(L, 2);
  const char *data;
  size_t len, skip, need;
  int rc, nret = 0;
  if (!lua_isnoneornil(L, 3)) {  /* woken by an error: timeout, close */
    restart(h);
    lua_pushnil(L);
    lua_pushvalue(L, 3);
    return 2;
  }
  if (!h->started && h->idle_timeout >= 0)
    lg_tcp_settimeout(t, h->idle_timeout);
  for (;;) {
    rc = lg_tcp_read(t, b->p.curg, LG_TCP_SOME, 0, &data, &len, &skip);
    if (rc == LG_PARKED) return lgb_park(L, b, b->p.curg, NULL, 0);
    if (rc != 0) {
      if (rc == LG_ECLOSED && (len > 0 || h->started))
        return badmessage(L, h, 400);  /* the peer stopped mid-message */
      restart(h);
      return lgb_pushioerror(L, rc);
    }
    if (!h->started && h->read_timeout >= 0)
      lg_tcp_settimeout(t, h->read_timeout);
    h->started = 1;
    rc = lg_http_parse(&h->ps, (char *)data, len);
    if (rc == LG_EAGAIN) {
      if (wait_more(L, b, t, len, &rc)) return rc;
      continue;
    }
    if (rc != 0) return badmessage(L, h, rc);
    need = h->ps.headlen;
    if (h->ps.expect_continue && !h->continued && len == need &&
        h->ps.body != LG_HTTP_BODY_NONE) {
      /* The client waits for a go-ahead before sending the body. */
      static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      h->continued = 1;
      rc = lg_tcp_write(t, b->p.curg, cont, sizeof cont - 1);
      if (rc == LG_PARKED) return lgb_park(L, b, b->p.curg, NULL, 0);
      if (rc != 0) {
        restart(h);
        return lgb_pushioerror(L, rc);
      }
    }
    switch (h->ps.body) {
    case LG_HTTP_BODY_LENGTH:
      need += (size_t)h->ps.content_length;
      if (len < need) {
        if (wait_more(L, b, t, need - 1, &rc)) return rc;
        continue;
      }
      nret = pushhead(L, h, data);
      lua_pushlstring(L, data + h->ps.headlen,
                      (size_t)h->ps.content_length);
      break;
    case LG_HTTP_BODY_CHUNKED: {
      size_t used, off, n, at = h->ps.headlen + h->fed;
      do {
        rc = lg_http_chunked(&h->ck, data + at, len - at, &used, &off, &n);
        if (n > 0 && lg_http_buf_put(&h->body, data + at + off, n) != 0)
          rc = 413;
        at += used;
        h->fed += used;
      } while (rc == LG_EAGAIN && at < len);
      if (rc == LG_EAGAIN) {
        if (wait_more(L, b, t, len, &rc)) return rc;
        continue;
      }
      if (rc != 0) return badmessage(L, h, rc);
      need = at;
      nret = pushhead(L, h, data);
      lua_pushlstring(L, h->body.data != NULL ? h->body.data : "",
                      h->body.len);
      break;
    }
    case LG_HTTP_BODY_EOF:  /* until the peer closes: wait for all */
      rc = lg_tcp_read(t, b->p.curg, LG_TCP_ALL, 0, &data, &len, &skip);
      if (rc == LG_PARKED) return lgb_park(L, b, b->p.curg, NULL, 0);
      if (rc != 0) return lgb_pushioerror(L, rc);
      need = len;
      nret = pushhead(L, h, data);
      lua_pushlstring(L, data + h->ps.headlen, len - h->ps.headlen);
      break;
    default:
      nret = pushhead(L, h, data);
      lua_pushliteral(L, "");
    }
    nret++;
    if (h->kind == LG_HTTP_REQUEST) {
      if (h->ps.expect_continue) lua_pushboolean(L, 1);
      else lua_pushnil(L);
      nret++;
    }
    lg_tcp_consume(t, need);
    restart(h);
    return nret;
  }
}

/* Give the scratch memory (which a write may have moved) back. */
static void unscratch(lgb_t *b, lg_http_buf_t *hb) {
  b->wbuf = hb->data;
  b->wcap = hb->cap;
}

/* Append `hdrs` (a flat list: name, value, name, value, ...) to the
 * head; raises on a header that would break the framing. */
static void putheaders(lua_State *L, lg_http_buf_t *hb, int idx) {
  int i, n;
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  n = (int)lua_rawlen(L, idx);
  for (i = 1; i + 1 <= n; i += 2) {
    size_t nl, vl;
    const char *name, *value;
    lua_rawgeti(L, idx, i);
    lua_rawgeti(L, idx, i + 1);
    name = lua_tolstring(L, -2, &nl);
    value = lua_tolstring(L, -1, &vl);
    if (name == NULL || value == NULL ||
        lg_http_write_header(hb, name, nl, value, vl) != 0) {
      unscratch(lgb_get(L), hb);
      luaL_error(L, "bad header %s: %s", name ? name : "?",
                 value ? value : "(not a string)");
    }
    lua_pop(L, 2);
  }
}

/* A growable buffer over the processor's scratch memory: formatting a
 * response then allocates nothing once the scratch is big enough. */
static void scratch(lgb_t *b, lg_http_buf_t *hb) {
  hb->data = b->wbuf;
  hb->cap = b->wcap;
  hb->len = 0;
  hb->grows = 1;
}

/* Send the buffer: #bytes | PARK [, err] | nil, err. The stream copies
 * what it cannot send at once, so the scratch is free again after. */
static int sendbuf(lua_State *L, lg_tcp_t *t, lg_http_buf_t *hb) {
  lgb_t *b = lgb_get(L);
  int rc = lg_tcp_write(t, b->p.curg, hb->data, hb->len);
  size_t len = hb->len;
  unscratch(b, hb);
  if (rc == 0) {
    lua_pushinteger(L, (lua_Integer)len);
    return 1;
  }
  if (rc == LG_PARKED) return lgb_park(L, b, b->p.curg, NULL, 0);
  return lgb_pushioerror(L, rc);
}

/* Framing argument: 0 Content-Length, 1 chunked, 2 none (numbers, not
 * names: luaL_checkoption's strcmp showed in the per-request profile). */
static int64_t framing(lua_State *L, int i) {
  switch (luaL_optinteger(L, i, 0)) {
  case 1: return LG_HTTP_CHUNKED;
  case 2: return LG_HTTP_NOLENGTH;
  default: return -3;
  }
}

/* core.http_respond(conn, status, hdrs, body, framing, close, nobody)
 *   -> #bytes | PARK [, err] | nil, err
 * framing 0: the head with Content-Length and then body; 1: the head and
 * body as the first chunk (more follow with core.http_chunk); 2: no
 * framing header, body as is. nobody: a HEAD request's answer, the head
 * only. */
static int l_respond(lua_State *L) {
  lg_tcp_t *t = lgb_checkconn(L, 1);
  int status = (int)luaL_checkinteger(L, 2);
  size_t blen = 0;
  const char *body = luaL_optlstring(L, 4, "", &blen);
  int64_t len = framing(L, 5);
  int conn = lua_toboolean(L, 6) ? LG_HTTP_CONN_CLOSE : LG_HTTP_CONN_NONE;
  int nobody = lua_toboolean(L, 7);
  lgb_t *b = lgb_get(L);
  int64_t now = (int64_t)time(NULL);
  lg_http_buf_t hb;
  int rc;
  if (now != b->datesec) {  /* the Date changes once a second */
    lg_http_date(b->date, now);
    b->datesec = now;
  }
  scratch(b, &hb);
  if (lg_http_write_status(&hb, status, NULL) != 0) {
    unscratch(lgb_get(L), &hb);
    return luaL_argerror(L, 2, "status must be 100..999");
  }
  putheaders(L, &hb, 3);
  if (len == -3) len = (int64_t)blen;
  rc = lg_http_write_end(&hb, len, b->date, conn);
  if (rc == 0 && !nobody && blen > 0) {
    rc = len == LG_HTTP_CHUNKED ? lg_http_write_chunk(&hb, body, blen)
                                : lg_http_buf_put(&hb, body, blen);
  }
  if (rc != 0) {
    unscratch(lgb_get(L), &hb);
    return luaL_error(L, "not enough memory");
  }
  return sendbuf(L, t, &hb);
}

/* core.http_chunk(conn, data) -> ...: one chunk; "" ends the body. */
static int l_chunk(lua_State *L) {
  lg_tcp_t *t = lgb_checkconn(L, 1);
  size_t n;
  const char *data = luaL_checklstring(L, 2, &n);
  lg_http_buf_t hb;
  scratch(lgb_get(L), &hb);
  if (lg_http_write_chunk(&hb, data, n) != 0) {
    unscratch(lgb_get(L), &hb);
    return luaL_error(L, "not enough memory");
  }
  return sendbuf(L, t, &hb);
}

/* core.http_request(conn, method, target, hdrs, body) -> ...: a request
 * with Content-Length when there is a body. */
static int l_request(lua_State *L) {
  lg_tcp_t *t = lgb_checkconn(L, 1);
  const char *method = luaL_checkstring(L, 2);
  const char *target = luaL_checkstring(L, 3);
  size_t blen = 0;
  const char *body = luaL_optlstring(L, 5, NULL, &blen);
  lg_http_buf_t hb;
  int rc;
  scratch(lgb_get(L), &hb);
  if (lg_http_write_reqline(&hb, method, target) != 0) {
    unscratch(lgb_get(L), &hb);
    return luaL_error(L, "bad method or target: %s %s", method, target);
  }
  putheaders(L, &hb, 4);
  rc = lg_http_write_end(&hb, body != NULL ? (int64_t)blen : LG_HTTP_NOLENGTH,
                         NULL, LG_HTTP_CONN_CLOSE);
  if (rc == 0 && body != NULL) rc = lg_http_buf_put(&hb, body, blen);
  if (rc != 0) {
    unscratch(lgb_get(L), &hb);
    return luaL_error(L, "not enough memory");
  }
  return sendbuf(L, t, &hb);
}

void lgb_open_http(lua_State *L) {
  static const luaL_Reg f[] = {
    {"http_state", l_state}, {"http_read", l_read},
    {"http_respond", l_respond}, {"http_chunk", l_chunk},
    {"http_request", l_request}, {NULL, NULL}
  };
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg mm[] = {{"__gc", state_gc}, {NULL, NULL}};
  lgb_setfuncs(L, f);
  lgb_newclass(L, HCONN_MT, none, mm);
  lua_pop(L, 1);
}
