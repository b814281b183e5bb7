/* Lua values to and from the byte encoding of core/value.c: what shared
 * channels and lugo.spawn copy from one processor's Lua state into
 * another's. Copyable: nil, booleans, numbers (integer and float kept
 * apart on 5.4), strings and tables of those, cycles and shared
 * references kept; shared objects (shared channels, the sync objects,
 * maps, atomics) by reference; Lua functions whose only upvalue is
 * _ENV, as bytecode. Metatables do not cross: a table's raw contents do.
 * Anything else raises an error naming where it sits in the value:
 * `args[2].conn: userdata cannot cross processors`. */
#include <limits.h>
#include <string.h>
#include "binding.h"


/* The path of the item being encoded, for errors. */
typedef struct level_s {
  int key;                /* stack index of the key */
  int inkey;              /* walking the key itself (a table key) */
} level_t;

/* Registry caches of functions crossing processors: bytecode by function
 * (weak keys) where they are sent, function by bytecode where they are
 * loaded (at most LOADS_MAX, then afresh). */
static const char dumps = 0, loads = 0;
#define LOADS_MAX 256

/* Tables met so far, by number: the first NPTRS by address here (no
 * Lua table to make for most values), the rest in a Lua table. */
#define NPTRS 32

typedef struct walk_s {
  lg_enc_t *e;
  const void *ptrs[NPTRS];
  int seen;               /* stack index: nil, or table -> its number */
  const char *root;       /* the value's name: "value", "args" */
  int skip;               /* path levels the root stands for */
  int depth;              /* tables open */
  level_t path[LG_ENC_MAXDEPTH];
} walk_t;

/* ---------------------------------------------------------------- errors */

/* A key that reads as a field name: `.name`. */
static int isname(const char *s, size_t len) {
  size_t i;
  if (len == 0 || len > 40 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
          (c >= 'A' && c <= 'Z')))
      return 0;
  }
  return 1;
}

/* A string key as `.name` or `["text"]`, long ones cut short. */
static void addstrkey(luaL_Buffer *B, const char *s, size_t len) {
  size_t i, n = len > 32 ? 32 : len;
  char esc[8];
  if (isname(s, len)) {
    luaL_addchar(B, '.');
    luaL_addlstring(B, s, len);
    return;
  }
  luaL_addstring(B, "[\"");
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      luaL_addchar(B, '\\');
      luaL_addchar(B, (char)c);
    } else if (c < 32 || c == 127) {
      snprintf(esc, sizeof esc, "\\%d", c);
      luaL_addstring(B, esc);
    } else {
      luaL_addchar(B, (char)c);
    }
  }
  if (n < len) luaL_addstring(B, "...");
  luaL_addstring(B, "\"]");
}

/* One step of the path: the key at `k`. Leaves the stack balanced
 * between buffer operations, as luaL_Buffer requires. */
static void addkey(lua_State *L, luaL_Buffer *B, int k, int inkey) {
  char num[64];
  size_t len;
  const char *s;
  switch (lua_type(L, k)) {
  case LUA_TSTRING:
    s = lua_tolstring(L, k, &len);
    addstrkey(B, s, len);
    break;
  case LUA_TNUMBER:
    /* tostring on a copy: converting the key itself would upset
     * lua_next */
    lua_pushvalue(L, k);
    snprintf(num, sizeof num, "[%s]", lua_tostring(L, -1));
    lua_pop(L, 1);
    luaL_addstring(B, num);
    break;
  case LUA_TBOOLEAN:
    luaL_addstring(B, lua_toboolean(L, k) ? "[true]" : "[false]");
    break;
  default:  /* a table: the error is in it, or in the value it keys */
    luaL_addstring(B, inkey ? "[table key]" : "[table]");
  }
}

static const char *tname(lua_State *L, int i) {
  return lua_type(L, i) == LUA_TLIGHTUSERDATA ? "light userdata"
                                              : luaL_typename(L, i);
}

/* Drop what an encoder holds: its bytes and the references it took on
 * the shared objects it put. */
static void encfree(lg_enc_t *e) {
  if (e->nshared > 0) {
    lg_dec_t d;
    lg_item_t it;
    lg_dec_init(&d, e->buf, e->len);
    while (lg_dec_next(&d, &it) == 0)
      if (it.tag == LG_TSHARED) lg_shared_release(it.u.shared.obj);
  }
  lg_enc_free(e);
}

/* Raise "<path>: <what>". `upto` levels of the path are named. The
 * encoder's bytes and references are dropped first. */
static int walkerror(lua_State *L, walk_t *w, int upto, const char *what) {
  luaL_Buffer B;
  int i;
  encfree(w->e);
  lua_checkstack(L, 4);
  luaL_buffinit(L, &B);
  luaL_addstring(&B, w->root);
  for (i = w->skip; i < upto; i++)
    addkey(L, &B, w->path[i].key, w->path[i].inkey);
  luaL_addstring(&B, ": ");
  luaL_addstring(&B, what);
  luaL_pushresult(&B);
  return lua_error(L);
}

static int uncopyable(lua_State *L, walk_t *w, int i, const char *suffix) {
  lua_pushfstring(L, "%s%s cannot cross processors", tname(L, i),
                  suffix);
  /* walkerror copies it into its buffer before anything is popped */
  return walkerror(L, w, w->depth, lua_tostring(L, -1));
}

/* Raise for a failed put. */
static void check(lua_State *L, walk_t *w, int rc) {
  char msg[96];
  if (rc == 0) return;
  if (rc == UV_EMSGSIZE) {
    snprintf(msg, sizeof msg,
             "value too large to cross processors (over %zu bytes encoded)",
             w->e->max);
    encfree(w->e);
    luaL_error(L, "%s: %s", w->root, msg);
  }
  encfree(w->e);
  luaL_error(L, "%s", rc == LG_ENOMEM ? "not enough memory" : lg_strerror(rc));
}

/* -------------------------------------------------------------- encoding */

static void walk(lua_State *L, walk_t *w, int i);

static void walktable(lua_State *L, walk_t *w, int t) {
  lua_Integer idx = -1;
  level_t *lv;
  size_t at, narr, nall = 0;
  const void *ptr = lua_topointer(L, t);
  uint64_t i, n = w->e->ntables < NPTRS ? w->e->ntables : NPTRS;
  for (i = 0; i < n; i++)
    if (w->ptrs[i] == ptr) idx = (lua_Integer)i;
  if (idx < 0 && w->e->ntables > NPTRS) {
    lua_pushvalue(L, t);
    lua_rawget(L, w->seen);
    if (!lua_isnil(L, -1)) idx = (lua_Integer)lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  if (idx >= 0) {
    check(L, w, lg_enc_ref(w->e, (uint64_t)idx));
    return;
  }
  if (w->depth >= LG_ENC_MAXDEPTH) {
    lua_pushfstring(L, "tables nested deeper than %d cannot cross "
                       "processors", LG_ENC_MAXDEPTH);
    walkerror(L, w, w->depth, lua_tostring(L, -1));
  }
  luaL_checkstack(L, 6, "value nested too deeply");
  /* Numbered as the decoder will number it, before its contents. */
  if (w->e->ntables < NPTRS) {
    w->ptrs[w->e->ntables] = ptr;
  } else {
    if (lua_isnil(L, w->seen)) {
      lua_newtable(L);
      lua_replace(L, w->seen);
    }
    lua_pushvalue(L, t);
    lgb_pushcount(L, (size_t)w->e->ntables);
    lua_rawset(L, w->seen);
  }
  /* Size hints, so the decoder makes the table at its size at once
   * instead of rehashing it as it fills; the hash part's is written
   * after the walk has counted the pairs. */
  at = w->e->len;
  narr = lua_rawlen(L, t);
  check(L, w, lg_enc_table(w->e, narr, LG_ENC_LATER));
  lv = &w->path[w->depth++];
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int k = lua_gettop(L) - 1;
    lv->key = k;
    lv->inkey = 1;
    switch (lua_type(L, k)) {
    case LUA_TSTRING: case LUA_TNUMBER: case LUA_TBOOLEAN: case LUA_TTABLE:
      break;
    default:
      w->depth--;  /* the path of the table holding the key */
      uncopyable(L, w, k, " key");
    }
    walk(L, w, k);
    lv->inkey = 0;
    walk(L, w, k + 1);
    lua_pop(L, 1);
    nall++;
  }
  w->depth--;
  lg_enc_tablehint(w->e, at, nall > narr ? nall - narr : 0);
  check(L, w, lg_enc_end(w->e));
}

/* A shared object goes by reference: the encoding holds one on it. */
static void walkshared(lua_State *L, walk_t *w, int i) {
  lg_shared_t *o = lgb_toshared(L, i);
  lg_chan_t *c;
  int rc;
  if (o == NULL && (c = lgb_tochan(L, i)) != NULL) {
    if (!lg_chan_isshared(c))
      walkerror(L, w, w->depth, "a local channel cannot cross processors "
                                "(make it with lugo.chan(n, {shared = true}))");
    o = (lg_shared_t *)c;  /* a shared channel begins with its header */
  }
  if (o == NULL) uncopyable(L, w, i, "");
  if ((rc = lg_enc_shared(w->e, o->type, o)) == 0) lg_shared_retain(o);
  check(L, w, rc);
}

/* lua_dump's pieces, gathered. */
typedef struct code_s {
  char *p;
  size_t len, cap, max;
  int err;
} code_t;

static int writer(lua_State *L, const void *p, size_t n, void *ud) {
  code_t *c = ud;
  (void)L;
  if (n > c->max - c->len) return c->err = UV_EMSGSIZE, 1;  /* stops it */
  if (c->len + n > c->cap) {
    size_t cap = c->cap ? c->cap : 256;
    char *q;
    while (cap < c->len + n) cap *= 2;
    if ((q = lg__realloc(c->p, cap)) == NULL) return c->err = LG_ENOMEM, 1;
    c->p = q;
    c->cap = cap;
  }
  memcpy(c->p + c->len, p, n);
  c->len += n;
  return 0;
}

/* A Lua function whose only upvalue is _ENV goes as its bytecode; the
 * other processor loads it with its own globals. */
static void walkfunction(lua_State *L, walk_t *w, int i) {
  const char *name = NULL, *s;
  code_t code = {NULL, 0, 0, 0, 0};
  int n, rc;
  size_t len;
  /* A function sent before: its bytecode, kept (weakly) by function. */
  lgb_getreg(L, &dumps);
  lua_pushvalue(L, i);
  lua_rawget(L, -2);
  if ((s = lua_tolstring(L, -1, &len)) != NULL) {
    rc = lg_enc_func(w->e, s, len);
    lua_pop(L, 2);
    check(L, w, rc);
    return;
  }
  lua_pop(L, 2);
  if (lua_iscfunction(L, i))
    walkerror(L, w, w->depth, "C function cannot cross processors");
  for (n = 1; (name = lua_getupvalue(L, i, n)) != NULL; n++) {
    lua_pop(L, 1);
    if (strcmp(name, "_ENV") != 0) break;
  }
  if (name != NULL) {
    lua_pushfstring(L, "function with upvalue '%s' cannot cross processors "
                       "(pass it as an argument, or give the function as "
                       "\"module.function\")", name);
    walkerror(L, w, w->depth, lua_tostring(L, -1));
  }
  code.max = w->e->max;
  lua_pushvalue(L, i);
#if LGB_HAS_INTEGERS
  rc = lua_dump(L, writer, &code, 0);
#else
  rc = lua_dump(L, writer, &code);
#endif
  lua_pop(L, 1);
  rc = rc != 0 ? (code.err != 0 ? code.err : LG_ENOMEM)
               : lg_enc_func(w->e, code.p, code.len);
  if (rc == 0) {
    lgb_getreg(L, &dumps);
    lua_pushvalue(L, i);
    lua_pushlstring(L, code.p, code.len);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  lg__free(code.p);
  check(L, w, rc);
}

/* Put the value at absolute index `i`. */
static void walk(lua_State *L, walk_t *w, int i) {
  lg_enc_t *e = w->e;
  size_t len;
  const char *s;
  switch (lua_type(L, i)) {
  case LUA_TNIL:
    check(L, w, lg_enc_nil(e));
    break;
  case LUA_TBOOLEAN:
    check(L, w, lg_enc_bool(e, lua_toboolean(L, i)));
    break;
  case LUA_TNUMBER: {
#if LGB_HAS_INTEGERS
    if (lua_isinteger(L, i)) {
      check(L, w, lg_enc_int(e, (int64_t)lua_tointeger(L, i)));
      break;
    }
    check(L, w, lg_enc_float(e, (double)lua_tonumber(L, i)));
#else
    /* All LuaJIT numbers are doubles; whole ones go as the shorter
     * integers (not -0, which must stay a float). */
    double n = (double)lua_tonumber(L, i);
    if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
        n == (double)(int64_t)n && !(n == 0 && 1 / n < 0))
      check(L, w, lg_enc_int(e, (int64_t)n));
    else
      check(L, w, lg_enc_float(e, n));
#endif
    break;
  }
  case LUA_TSTRING:
    s = lua_tolstring(L, i, &len);
    check(L, w, lg_enc_str(e, s, len));
    break;
  case LUA_TTABLE:
    walktable(L, w, i);
    break;
  case LUA_TUSERDATA:
    walkshared(L, w, i);
    break;
  case LUA_TFUNCTION:
    walkfunction(L, w, i);
    break;
  default:
    uncopyable(L, w, i, "");
  }
}


/* Encode the `n` values from index `i` with the processor's scratch
 * encoder, which keeps its buffer from one value to the next. An error
 * raised on the way (a bad value, or Lua out of memory) may leave it
 * holding bytes and references: the next use drops them first. `root`
 * names the value in errors; with n > 1 the values are root[0],
 * root[1], ... (a task: its function, then its arguments). */
static lg_enc_t *encode(lua_State *L, int i, int n, const char *root,
                        int skip, size_t max) {
  lgb_t *b = lgb_get(L);
  walk_t w;
  int k;
  if (i < 0) i = lua_gettop(L) + i + 1;  /* LuaJIT has no lua_absindex */
  w.e = &b->enc;
  if (w.e->len > 0 || w.e->err != 0) encfree(w.e);
  w.e->max = max ? max : LG_ENC_MAXSIZE;
  w.e->len = 0;
  w.e->ntables = w.e->nshared = w.e->nrefs = 0;
  w.e->depth = 0;
  w.e->err = 0;
  lua_pushnil(L);  /* the Lua side of the seen tables, made if needed */
  w.seen = lua_gettop(L);
  w.root = root;
  w.skip = skip;
  w.depth = 0;
  if (n == 1) {
    walk(L, &w, i);
  } else {
    luaL_checkstack(L, 1, "too many values");
    for (k = 0; k < n; k++) {
      lua_pushinteger(L, k);  /* the path's first key */
      w.path[0].key = lua_gettop(L);
      w.path[0].inkey = 0;
      w.depth = 1;
      walk(L, &w, i + k);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return w.e;
}

/* -------------------------------------------------------------- decoding */

static int corrupt(lua_State *L) {
  return luaL_error(L, "corrupt encoded value");
}

static void next(lua_State *L, lg_dec_t *d, lg_item_t *it) {
  if (lg_dec_next(d, it) != 0) corrupt(L);
}

static void push(lua_State *L, lg_dec_t *d, lg_item_t *it, int tables);

/* A reader, and whether its bytes come from this process's encoder (a
 * blob): only then may they name shared objects, which are pointers. */
typedef struct reader_s {
  lg_dec_t d;             /* first: push() gets a reader as an lg_dec_t */
  int trusted;
} reader_t;

/* Push the next whole value (not an LG_TEND). */
static void pushnext(lua_State *L, lg_dec_t *d, int tables) {
  lg_item_t it;
  next(L, d, &it);
  if (it.tag == LG_TEND) corrupt(L);
  push(L, d, &it, tables);
}

/* Push the value `it` begins; `tables` holds the tables made so far, by
 * number + 1. */
static void push(lua_State *L, lg_dec_t *d, lg_item_t *it, int tables) {
  lg_item_t k;
  int n;
  switch (it->tag) {
  case LG_TNIL: lua_pushnil(L); break;
  case LG_TFALSE: lua_pushboolean(L, 0); break;
  case LG_TTRUE: lua_pushboolean(L, 1); break;
  case LG_TINT: lgb_pushint(L, it->u.i); break;
  case LG_TFLOAT: lua_pushnumber(L, (lua_Number)it->u.n); break;
  case LG_TSTR: lua_pushlstring(L, it->u.s.p, it->u.s.len); break;
  case LG_TREF:
    if (tables == 0) corrupt(L);  /* a blob that said it had none */
    lua_rawgeti(L, tables, (int)it->u.ref + 1);  /* the reader checked it */
    break;
  case LG_TTABLE:
    luaL_checkstack(L, 6, "value nested too deeply");
    lua_createtable(L, it->u.t.narr > INT_MAX ? INT_MAX : (int)it->u.t.narr,
                    it->u.t.nrec > INT_MAX ? INT_MAX : (int)it->u.t.nrec);
    if (tables != 0) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, tables, (int)d->ntables);
    }
    for (;;) {
      next(L, d, &k);
      if (k.tag == LG_TEND) break;
      if (k.tag == LG_TNIL || (k.tag == LG_TFLOAT && k.u.n != k.u.n))
        corrupt(L);
      push(L, d, &k, tables);
      pushnext(L, d, tables);
      lua_rawset(L, -3);
    }
    break;
  case LG_TFUNC:
    /* The same code again (a spawned worker, say): the function loaded
     * the first time. Such functions have no upvalue but _ENV, so one
     * closure serves every copy. */
    lgb_getreg(L, &loads);
    lua_pushlstring(L, it->u.s.p, it->u.s.len);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isfunction(L, -1)) {
      lua_replace(L, -3);
      lua_pop(L, 1);
      break;
    }
    lua_pop(L, 1);
    if (luaL_loadbufferx(L, it->u.s.p, it->u.s.len, "=function",
                         "b") != LUA_OK)
      lua_error(L);
    lua_pushvalue(L, -1);
    lua_insert(L, -4);  /* fn, cache, code, fn */
    lua_rawset(L, -3);
    /* cache[true] counts them: many distinct functions, start afresh */
    lua_pushboolean(L, 1);
    lua_rawget(L, -2);
    n = (int)lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    lua_pushinteger(L, n);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    if (n > LOADS_MAX) {
      lua_newtable(L);
      lgb_setreg(L, &loads);
    }
    break;
  default:  /* LG_TSHARED: a reference of our own */
    if (!((reader_t *)d)->trusted) corrupt(L);
    if (it->u.shared.type == LG_SH_CHAN) {
      lg_chan_retain(it->u.shared.obj);
      lgb_pushchan(L, it->u.shared.obj);
    } else {
      lgb_pushshared(L, it->u.shared.obj);
    }
  }
}

/* Push the values encoded in the `len` bytes at `data` (one, or `many`
 * after another); returns how many. */
static int decode(lua_State *L, const char *data, size_t len, int trusted,
                  int norefs, int many) {
  reader_t r;
  int tables = 0, n = 0;
  r.trusted = trusted;
  lg_dec_init(&r.d, data, len);
  if (!norefs) {  /* tables by number, for LG_TREF items */
    lua_newtable(L);
    tables = lua_gettop(L);
  }
  do {
    luaL_checkstack(L, 2, "too many values");
    pushnext(L, &r.d, tables);
    n++;
  } while (many && lg_dec_left(&r.d) != 0);
  if (lg_dec_left(&r.d) != 0) corrupt(L);
  if (tables != 0) lua_remove(L, tables);
  return n;
}

static lg_blob_t *take(lua_State *L, lg_enc_t *e) {
  lg_blob_t *b = lg_blob_take(e);
  if (b == NULL) {
    encfree(e);
    luaL_error(L, "not enough memory");
  }
  return b;
}

lg_blob_t *lgb_encode(lua_State *L, int i, const char *root, int skip,
                      size_t max) {
  return take(L, encode(L, i, 1, root, skip, max));
}

lg_blob_t *lgb_encodemany(lua_State *L, int i, int n, const char *root,
                          size_t max) {
  return take(L, encode(L, i, n, root, 0, max));
}

void lgb_decode(lua_State *L, const lg_blob_t *b) {
  decode(L, (const char *)b->data, b->len, 1, b->nrefs == 0, 0);
}

int lgb_decodemany(lua_State *L, const lg_blob_t *b) {
  return decode(L, (const char *)b->data, b->len, 1, b->nrefs == 0, 1);
}

/* ----------------------------------------------------------- the module */

/* core.encode(v [, name [, max]]) -> string   [-0, +1, e]
 * Internal, for specs: the bytes lugo.spawn and shared channels will
 * copy. `name` (default "value") starts error paths; `max` caps the
 * bytes (default 64 MB). */
static int l_encode(lua_State *L) {
  const char *root = luaL_optstring(L, 2, "value");
  lua_Number max = luaL_optnumber(L, 3, 0);
  lg_enc_t *e;
  luaL_checkany(L, 1);
  if (!(max >= 0 && max <= (lua_Number)LG_ENC_MAXSIZE * 64))
    return luaL_argerror(L, 3, "size cap out of range");
  e = encode(L, 1, 1, root, 0, (size_t)max);
  lua_pushlstring(L, (const char *)e->buf, e->len);
  /* The string holds no references: shared objects in it must be kept
   * alive by the caller until it is decoded. */
  encfree(e);
  return 1;
}

/* core.decode(s) -> v   [-0, +1, e]
 * Internal, for specs: the value core.encode made, rebuilt here. */
static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  decode(L, s, len, 0, 0, 0);  /* from anywhere: no shared objects */
  return 1;
}

/* core._takeblob(address) -> v   [-0, +1, e]
 * For lua/lugo/ffi.lua: the value of a blob a shared channel handed to an
 * FFI receive (its address as a number), which is freed. Trusted: the
 * address came from the core a moment ago, never from a user. (A decode
 * that fails, out of memory, leaks the blob, as lgb_pushvalue does.) */
static int l_takeblob(lua_State *L) {
  lg_blob_t *b = (lg_blob_t *)(uintptr_t)luaL_checknumber(L, 1);
  lgb_decode(L, b);
  lg_blob_free(b);
  return 1;
}

void lgb_open_value(lua_State *L) {
  static const luaL_Reg f[] = {
    {"encode", l_encode}, {"decode", l_decode}, {"_takeblob", l_takeblob},
    {NULL, NULL}
  };
  lgb_setfuncs(L, f);
  lua_newtable(L);
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lgb_setreg(L, &dumps);
  lua_newtable(L);
  lgb_setreg(L, &loads);
}

void lgb_encfree(lg_enc_t *e) {
  encfree(e);
}
