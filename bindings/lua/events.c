/* lugo.signal and lugo.fs.watch: libuv handles that feed a channel.
 * They live here rather than in core/ because each event becomes a Lua
 * value (a signal name, a table); the callbacks run inside lg_p_poll,
 * on the thread that drives the loop (lgb_t.L).
 *
 * Each returns the channel and a stop function. A source is anchored in
 * the slot table until stopped (or until its channel is closed and the
 * next event finds it so), and counts as something that can still wake a
 * goroutine, so waiting on its channel is not a deadlock. */
#include <signal.h>
#include <string.h>
#include "binding.h"

#define SOURCE_MT "lugo.source"
#define SIGNAL_CAP 8
#define WATCH_CAP 64

typedef struct source_s {
  union {
    uv_handle_t h;
    uv_signal_t sig;
    uv_fs_event_t fs;
  } u;
  lgb_t *b;
  lg_chan_t *c;           /* one reference */
  uint32_t self;          /* slot anchoring the userdata until closed */
  int started, stopped;
} source_t;

/* libuv is done with the handle: the userdata may go now. */
static void closed_cb(uv_handle_t *h) {
  source_t *s = (source_t *)h;
  lgb_t *b = s->b;
  if (s->self != 0 && !b->closed) lgb_unref(b->L, b, s->self);
  s->self = 0;
}

/* No more events. */
static void stop(source_t *s) {
  int pipe;
  if (s->stopped) return;
  s->stopped = 1;
  if (s->started) s->b->p.nsources--;
  pipe = s->u.h.type == UV_SIGNAL && s->u.sig.signum == SIGPIPE;
  uv_close(&s->u.h, closed_cb);
  /* libuv puts the default action back: for SIGPIPE that is death on
   * the next write to a closed socket, so ignore it again (see luaopen). */
  if (pipe) signal(SIGPIPE, SIG_IGN);
}

/* Give the Lua value on top of L to the channel, or drop it if the
 * reader is behind (as Go's signal.Notify does). */
static void deliver(lua_State *L, source_t *s) {
  lg_value_t v;
  int rc;
  lgb_tovalue(L, s->b, -1, &v);
  lua_pop(L, 1);
  if ((rc = lg_chan_trysend(s->c, &v)) == 0) return;
  lgb_pushvalue(L, s->b, &v);  /* not sent: release it */
  lua_pop(L, 1);
  if (rc == LG_ECLOSED) stop(s);
}

static const struct {
  const char *name;
  int num;
} signals[] = {
  {"SIGINT", SIGINT}, {"SIGTERM", SIGTERM}, {"SIGHUP", SIGHUP},
  {"SIGQUIT", SIGQUIT}, {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2},
  {"SIGWINCH", SIGWINCH}, {"SIGPIPE", SIGPIPE}, {"SIGCHLD", SIGCHLD},
  {"SIGALRM", SIGALRM}, {NULL, 0}
};

static void signal_cb(uv_signal_t *h, int signum) {
  source_t *s = (source_t *)h;
  lua_State *L = s->b->L;
  int i;
  for (i = 0; signals[i].name != NULL; i++)
    if (signals[i].num == signum) break;
  lua_pushstring(L, signals[i].name != NULL ? signals[i].name : "?");
  deliver(L, s);
}

static void fs_cb(uv_fs_event_t *h, const char *file, int events, int st) {
  source_t *s = (source_t *)h;
  lua_State *L = s->b->L;
  char path[4096];
  size_t n = sizeof path;
  if (st != 0) return;
  lua_createtable(L, 0, 2);
  if (uv_fs_event_getpath(h, path, &n) == 0) {
    lua_pushlstring(L, path, n);
    if (file != NULL && strcmp(file, path) != 0 &&
        strstr(path, file) == NULL) {
      lua_pushliteral(L, "/");
      lua_pushstring(L, file);
      lua_concat(L, 3);
    }
  } else {
    lua_pushstring(L, file != NULL ? file : "");
  }
  lua_setfield(L, -2, "path");
  lua_pushstring(L, (events & UV_RENAME) ? "rename" : "change");
  lua_setfield(L, -2, "event");
  deliver(L, s);
}

/* stop(): the closure returned with the channel. */
static int l_stop(lua_State *L) {
  stop(lua_touserdata(L, lua_upvalueindex(LGB_NUPVALS + 1)));
  return 0;
}

/* Only unanchored sources are collected: closed, or never initialized,
 * or the whole state is closing (then the processor's finalizer, which
 * runs last, lets libuv finish the close before any memory is freed). */
static int source_gc(lua_State *L) {
  source_t *s = lua_touserdata(L, 1);
  if (!s->stopped && s->started) {
    s->stopped = 1;
    uv_close(&s->u.h, NULL);
  }
  if (s->c != NULL) lg_chan_release(s->c);
  s->c = NULL;
  return 0;
}

/* A new source userdata, anchored, with its channel; pushes the
 * userdata, the channel and the stop function. */
static source_t *newsource(lua_State *L, size_t cap) {
  lgb_t *b = lgb_get(L);
  source_t *s = lua_newuserdata(L, sizeof *s);
  memset(s, 0, sizeof *s);
  s->b = b;
  luaL_setmetatable(L, SOURCE_MT);
  if ((s->c = lg_chan_new(&b->p, cap)) == NULL)
    luaL_error(L, "not enough memory");
  lg_chan_retain(s->c);
  lgb_pushchan(L, s->c);
  lua_pushvalue(L, LGB_P);
  lua_pushvalue(L, LGB_SLOTS);
  lua_pushvalue(L, LGB_CHANMT);
  lua_pushvalue(L, -5);
  lua_pushcclosure(L, l_stop, LGB_NUPVALS + 1);
  return s;
}

/* The handle is running: anchor the userdata (below ch and stop). */
static void start(lua_State *L, source_t *s) {
  s->self = lgb_ref(L, s->b, -3);
  s->started = 1;
  s->b->p.nsources++;
}

/* The handle was initialized but could not start: close it, and keep the
 * userdata, whose memory libuv still holds, until the close is done. */
static int failed(lua_State *L, source_t *s, int rc) {
  s->self = lgb_ref(L, s->b, -3);
  stop(s);
  return lgb_pushioerror(L, rc);
}

/* lugo.signal(name) -> ch, stop   [-0, +2, e] */
static int l_signal(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  source_t *s;
  int i, rc;
  for (i = 0; signals[i].name != NULL; i++)
    if (strcmp(signals[i].name, name) == 0) break;
  if (signals[i].name == NULL)
    return luaL_argerror(L, 1, lua_pushfstring(L, "unknown signal '%s'",
                                                name));
  s = newsource(L, SIGNAL_CAP);
  if ((rc = uv_signal_init(&s->b->p.loop, &s->u.sig)) != 0)
    return lgb_pushioerror(L, rc);
  if ((rc = uv_signal_start(&s->u.sig, signal_cb, signals[i].num)) != 0)
    return failed(L, s, rc);
  start(L, s);
  return 2;
}

/* lugo.fs.watch(path) -> ch, stop   [-0, +2, e]  (nil, err if it fails) */
static int l_watch(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  source_t *s = newsource(L, WATCH_CAP);
  int rc;
  if ((rc = uv_fs_event_init(&s->b->p.loop, &s->u.fs)) != 0)
    return lgb_pushioerror(L, rc);
  if ((rc = uv_fs_event_start(&s->u.fs, fs_cb, path, 0)) != 0)
    return failed(L, s, rc);
  start(L, s);
  return 2;
}

void lgb_open_events(lua_State *L) {
  static const luaL_Reg f[] = {
    {"signal", l_signal}, {"fs_watch", l_watch}, {NULL, NULL}
  };
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg mm[] = {{"__gc", source_gc}, {NULL, NULL}};
  lgb_setfuncs(L, f);
  lgb_newclass(L, SOURCE_MT, none, mm);
  lua_pop(L, 1);
}
