/* lugo.waitgroup, mutex, rwmutex, semaphore and the queue under cond.
 * Each is a shared object (lg_sync_t): a userdata holding a reference,
 * so any processor can hold one and its waiters may be anywhere. */
#include "binding.h"

#define WG_MT "lugo.waitgroup"
#define MUTEX_MT "lugo.mutex"
#define RW_MT "lugo.rwmutex"
#define SEMA_MT "lugo.semaphore"
#define COND_MT "lugo.cond"

/* Push a new shared sync object of `type`; the userdata holds the one
 * reference. */
static lg_sync_t *newobj(lua_State *L, int type, int64_t size) {
  lg_sync_t *s = lg_sync_new(type, size);
  if (s == NULL) luaL_error(L, "not enough memory");
  lgb_pushshared(L, &s->hdr);
  lg_shared_release(&s->hdr);
  return s;
}

static lg_sync_t *check(lua_State *L, int i, int type, const char *mt) {
  return (lg_sync_t *)lgb_checkshared(L, i, type, mt);
}

#define CHECKWG(i) (&check(L, i, LG_SH_WG, WG_MT)->u.wg)
#define CHECKMU(i) (&check(L, i, LG_SH_MUTEX, MUTEX_MT)->u.mu)
#define CHECKRW(i) (&check(L, i, LG_SH_RWMUTEX, RW_MT)->u.rw)
#define CHECKSEMA(i) (&check(L, i, LG_SH_SEMA, SEMA_MT)->u.sema)
#define CHECKCOND(i) (&check(L, i, LG_SH_COND, COND_MT)->u.cond)

/* Park the running goroutine if the core queued it. */
static int maybe_park(lua_State *L, int rc) {
  lgb_t *b = lgb_get(L);
  if (rc == 0) return 0;
  if (rc == LG_PARKED) return lgb_park(L, b, b->p.curg, NULL, 0);
  return luaL_error(L, "not enough memory");
}

static lg_g_t *curg(lua_State *L) {
  return lgb_get(L)->p.curg;
}

static int64_t optcount(lua_State *L, int i, const char *what) {
  lua_Number n = luaL_optnumber(L, i, 1);
  if (!(n == (lua_Number)(int64_t)n) || n > 9.0e15 || n < -9.0e15)
    return luaL_argerror(L, i, lua_pushfstring(L, "%s must be an integer",
                                                what));
  return (int64_t)n;
}

/* ------------------------------------------------------------ waitgroup */

static int l_waitgroup(lua_State *L) {
  newobj(L, LG_SH_WG, 0);
  return 1;
}

/* wg:add([n])   [-0, +0, e] */
static int wg_add(lua_State *L) {
  lg_wg_t *wg = CHECKWG(1);
  if (lg_wg_add(wg, optcount(L, 2, "delta")) != 0)
    return luaL_error(L, "sync: negative WaitGroup counter");
  return 0;
}

/* wg:done()   [-0, +0, e] */
static int wg_done(lua_State *L) {
  lg_wg_t *wg = CHECKWG(1);
  if (lg_wg_add(wg, -1) != 0)
    return luaL_error(L, "sync: negative WaitGroup counter");
  return 0;
}

/* wg:wait()   [-0, +0, e] */
static int wg_wait(lua_State *L) {
  lg_wg_t *wg = CHECKWG(1);
  return maybe_park(L, lg_wg_wait(wg, curg(L)));
}

/* ---------------------------------------------------------------- mutex */

static int l_mutex(lua_State *L) {
  newobj(L, LG_SH_MUTEX, 0);
  return 1;
}

static int mu_lock(lua_State *L) {
  lg_mutex_t *m = CHECKMU(1);
  return maybe_park(L, lg_mutex_lock(m, curg(L)));
}

static int mu_trylock(lua_State *L) {
  lg_mutex_t *m = CHECKMU(1);
  lua_pushboolean(L, lg_mutex_trylock(m) == 0);
  return 1;
}

static int mu_unlock(lua_State *L) {
  lg_mutex_t *m = CHECKMU(1);
  if (lg_mutex_unlock(m) != 0)
    return luaL_error(L, "sync: unlock of unlocked mutex");
  return 0;
}

/* -------------------------------------------------------------- rwmutex */

static int l_rwmutex(lua_State *L) {
  newobj(L, LG_SH_RWMUTEX, 0);
  return 1;
}

static int rw_rlock(lua_State *L) {
  lg_rwmutex_t *m = CHECKRW(1);
  return maybe_park(L, lg_rwmutex_rlock(m, curg(L)));
}

static int rw_runlock(lua_State *L) {
  lg_rwmutex_t *m = CHECKRW(1);
  if (lg_rwmutex_runlock(m) != 0)
    return luaL_error(L, "sync: RUnlock of unlocked RWMutex");
  return 0;
}

static int rw_lock(lua_State *L) {
  lg_rwmutex_t *m = CHECKRW(1);
  return maybe_park(L, lg_rwmutex_lock(m, curg(L)));
}

static int rw_unlock(lua_State *L) {
  lg_rwmutex_t *m = CHECKRW(1);
  if (lg_rwmutex_unlock(m) != 0)
    return luaL_error(L, "sync: Unlock of unlocked RWMutex");
  return 0;
}

/* ------------------------------------------------------------ semaphore */

/* lugo.semaphore(n) -> sem   [-0, +1, e] */
static int l_semaphore(lua_State *L) {
  int64_t n;
  luaL_checknumber(L, 1);
  n = optcount(L, 1, "size");
  if (n < 0) return luaL_argerror(L, 1, "size must not be negative");
  newobj(L, LG_SH_SEMA, n);
  return 1;
}

static int64_t checkunits(lua_State *L, lg_sema_t *s) {
  int64_t k = optcount(L, 2, "count");
  if (k < 0) luaL_argerror(L, 2, "count must not be negative");
  if (k > s->size)
    luaL_error(L, "semaphore: acquire of %d exceeds size %d", (int)k,
               (int)s->size);
  return k;
}

static int se_acquire(lua_State *L) {
  lg_sema_t *s = CHECKSEMA(1);
  int64_t k = checkunits(L, s);
  return maybe_park(L, lg_sema_acquire(s, curg(L), k));
}

static int se_tryacquire(lua_State *L) {
  lg_sema_t *s = CHECKSEMA(1);
  int64_t k = checkunits(L, s);
  lua_pushboolean(L, lg_sema_tryacquire(s, k) == 0);
  return 1;
}

static int se_release(lua_State *L) {
  lg_sema_t *s = CHECKSEMA(1);
  int64_t k = optcount(L, 2, "count");
  if (k < 0) return luaL_argerror(L, 2, "count must not be negative");
  if (lg_sema_release(s, k) != 0)
    return luaL_error(L, "semaphore: released more than held");
  return 0;
}

/* ----------------------------------------------------------------- cond
 * The core keeps the queue; lua/lugo/init.lua pairs it with the mutex
 * and relocks after the wait. */

/* core.condqueue(mutex) -> q   [-0, +1, e]
 * The queue under lugo.cond, holding its mutex, so that a cond copied to
 * another processor keeps both (lua/lugo/init.lua adds wait and L). */
static int l_condqueue(lua_State *L) {
  lg_sync_t *m = check(L, 1, LG_SH_MUTEX, MUTEX_MT);
  lg_sync_t *q = newobj(L, LG_SH_COND, 0);
  lg_shared_retain(&m->hdr);
  q->link = &m->hdr;
  return 1;
}

/* q:_wait(): unlock the mutex and wait, without relocking   [-0, +0, e] */
static int cq_wait(lua_State *L) {
  lg_sync_t *q = check(L, 1, LG_SH_COND, COND_MT);
  int rc;
  if (lg_mutex_unlock(&((lg_sync_t *)q->link)->u.mu) != 0)
    return luaL_error(L, "sync: unlock of unlocked mutex");
  rc = lg_cond_wait(&q->u.cond, curg(L));
  return maybe_park(L, rc);
}

/* q:mutex() -> the mutex   [-0, +1, e] */
static int cq_mutex(lua_State *L) {
  lgb_pushshared(L, check(L, 1, LG_SH_COND, COND_MT)->link);
  return 1;
}

static int cq_signal(lua_State *L) {
  lg_cond_signal(CHECKCOND(1));
  return 0;
}

static int cq_broadcast(lua_State *L) {
  lg_cond_broadcast(CHECKCOND(1));
  return 0;
}

void lgb_open_sync(lua_State *L) {
  static const luaL_Reg f[] = {
    {"waitgroup", l_waitgroup}, {"mutex", l_mutex}, {"rwmutex", l_rwmutex},
    {"semaphore", l_semaphore}, {"condqueue", l_condqueue}, {NULL, NULL}
  };
  static const luaL_Reg wg[] = {
    {"add", wg_add}, {"done", wg_done}, {"wait", wg_wait}, {NULL, NULL}
  };
  static const luaL_Reg mu[] = {
    {"lock", mu_lock}, {"unlock", mu_unlock}, {"trylock", mu_trylock},
    {NULL, NULL}
  };
  static const luaL_Reg rw[] = {
    {"rlock", rw_rlock}, {"runlock", rw_runlock}, {"lock", rw_lock},
    {"unlock", rw_unlock}, {NULL, NULL}
  };
  static const luaL_Reg se[] = {
    {"acquire", se_acquire}, {"release", se_release},
    {"tryacquire", se_tryacquire}, {NULL, NULL}
  };
  static const luaL_Reg cq[] = {
    {"_wait", cq_wait}, {"mutex", cq_mutex}, {"signal", cq_signal},
    {"broadcast", cq_broadcast}, {NULL, NULL}
  };
  static const luaL_Reg none[] = {{NULL, NULL}};
  lgb_setfuncs(L, f);
  lgb_sharedclass(L, LG_SH_WG, WG_MT, wg, none);
  lgb_sharedclass(L, LG_SH_MUTEX, MUTEX_MT, mu, none);
  lgb_sharedclass(L, LG_SH_RWMUTEX, RW_MT, rw, none);
  lgb_sharedclass(L, LG_SH_SEMA, SEMA_MT, se, none);
  lgb_sharedclass(L, LG_SH_COND, COND_MT, cq, none);
}
