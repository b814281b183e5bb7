/* Processors: lugo.procs, lugo.spawn, the worker threads with their own
 * Lua states, errors they hand to P0, and sysmon's preemption.
 *
 * P0 (the user's state) owns the runtime (lgb_rt_t): it starts the
 * workers at the first spawn and, when its state closes, stops them,
 * joins their threads and closes their states. A worker's state is its
 * own thread's alone while it runs. */
#include <lualib.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "binding.h"

/* Idle rounds a worker spins (polling without blocking, yielding the
 * CPU) before it blocks: a task or wake-up arriving soon costs no
 * futex wake. */
#define SPINS 64
/* Sysmon's tick and the time slice, as Go's forcePreemptNS. */
#define SYSMON_NS 2000000
#define SLICE_NS 10000000

typedef struct gerr_s {
  struct gerr_s *next;
  uint64_t id;
  int pid;
  size_t msglen, tblen;
  char *msg, *tb;         /* one allocation, after the struct */
} gerr_t;

typedef struct worker_s {
  struct lgb_rt_s *rt;
  int id;
  size_t used, limit;     /* its Lua heap and cap (limalloc), bytes */
  uv_thread_t tid;
  lua_State *L;
  lgb_t *b;
  pthread_t self;         /* for sysmon's signal */
} worker_t;

typedef struct lgb_rt_s {
  lg_rt_t rt;
  int n;                  /* processors wanted, P0 included */
  int running;            /* workers started (n - 1 once started) */
  int stop;               /* atomic: workers leave their loops */
  worker_t w[LG_MAXPROCS];
  lgb_t *p0;
  pthread_t p0thread;
  char *path, *cpath;     /* P0's package.path and cpath */
  size_t maxmsg;
  size_t memlimit;        /* each worker's Lua heap cap, 0: none */
  uv_sem_t started;
  char starterr[256];     /* why a worker could not start */
  /* goroutine errors of workers, for P0 */
  uv_mutex_t errlock;
  gerr_t *errs, *errslast;
  int nerrs;              /* atomic */
  /* sysmon */
  uv_thread_t sysmon;
  int hassysmon;
  struct mon_s {
    uint64_t switches;    /* p->stats.switches when last seen */
    int64_t since;        /* when it was first seen so */
    int signaled;
  } mon[LG_MAXPROCS];
} lgb_rt_t;

typedef struct mon_s mon_t;

/* ---------------------------------------------------------------- errors */

int lgb_forwarderror(lua_State *L, lgb_t *b, int msg, int tb, uint64_t id) {
  lgb_rt_t *rt = b->rt;
  size_t ml, tl;
  const char *m = lua_tolstring(L, msg, &ml), *t = lua_tolstring(L, tb, &tl);
  gerr_t *e;
  if (rt == NULL || b->p.id == 0) return 0;
  if ((e = malloc(sizeof *e + ml + tl + 2)) == NULL) return 0;
  e->next = NULL;
  e->id = id;
  e->pid = b->p.id;
  e->msg = (char *)(e + 1);
  e->tb = e->msg + ml + 1;
  memcpy(e->msg, m, ml + 1);
  memcpy(e->tb, t, tl + 1);
  e->msglen = ml;
  e->tblen = tl;
  uv_mutex_lock(&rt->errlock);
  if (rt->errslast != NULL) rt->errslast->next = e;
  else rt->errs = e;
  rt->errslast = e;
  __atomic_store_n(&rt->nerrs, 1, __ATOMIC_RELEASE);
  uv_mutex_unlock(&rt->errlock);
  lg_p_wake(&rt->p0->p);
  return 1;
}

void lgb_pullerrors(lua_State *L, lgb_t *b) {
  lgb_rt_t *rt = b->rt;
  gerr_t *e, *next;
  if (!__atomic_load_n(&rt->nerrs, __ATOMIC_ACQUIRE)) return;
  uv_mutex_lock(&rt->errlock);
  e = rt->errs;
  rt->errs = rt->errslast = NULL;
  __atomic_store_n(&rt->nerrs, 0, __ATOMIC_RELAXED);
  uv_mutex_unlock(&rt->errlock);
  for (; e != NULL; e = next) {
    int top = lua_gettop(L);
    next = e->next;
    lua_pushlstring(L, e->msg, e->msglen);
    lua_pushlstring(L, e->tb, e->tblen);
    if (!lgb_onerror(L, b, top, e->id, e->pid)) lgb_penderror(L, b, -1);
    lua_settop(L, top);
    free(e);
  }
}

/* ----------------------------------------------------------------- tasks */

/* registry[&starttask]: core._starttask, called for every task */
static const char starttask = 0;

/* Push the function a "module.function" name stands for (its module
 * found by require) and return 1, or push nil and why not and return 0.
 * `name` must stay on the stack meanwhile. */
static int resolve(lua_State *L, const char *name) {
  const char *dot = strrchr(name, '.');
  int mod = lua_gettop(L) + 1;
  if (dot == NULL || dot == name || dot[1] == '\0') {
    lua_pushnil(L);
    lua_pushfstring(L, "\"%s\" is not \"module.function\"", name);
    return 0;
  }
  lua_pushlstring(L, name, (size_t)(dot - name));  /* mod */
  lua_getglobal(L, "require");
  lua_pushvalue(L, mod);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK) {  /* mod + 1: the module */
    if (lua_istable(L, mod + 1)) {
      lua_getfield(L, mod + 1, dot + 1);
      if (lua_isfunction(L, -1)) {
        lua_replace(L, mod);
        lua_settop(L, mod);
        return 1;
      }
    }
    lua_settop(L, mod);
    lua_pushfstring(L, "no function '%s' in module '%s'", dot + 1,
                    lua_tostring(L, mod));
  }
  lua_pushnil(L);
  lua_replace(L, mod);  /* nil, and require's error or ours */
  return 0;
}

/* core.resolve("module.function") -> fn | nil, err   [-0, +1|2, e] */
static int l_resolve(lua_State *L) {
  return resolve(L, luaL_checkstring(L, 1)) ? 1 : 2;
}

/* core._starttask(blob)   [-0, +0, e]
 * With the task blob as light userdata: decode it, find its function,
 * and start it as a goroutine here. A module function, as everything
 * that reaches the slots (upvalue 2) must be. */
static int l_starttask(lua_State *L) {
  lg_blob_t *blob = lua_touserdata(L, 1);
  lgb_t *b = lgb_get(L);
  int n;
  lua_settop(L, 1);
  n = lgb_decodemany(L, blob);  /* 2: fn or "module.function", 3...: args */
  if (lua_type(L, 2) == LUA_TSTRING) {
    if (!resolve(L, lua_tostring(L, 2)))
      return luaL_error(L, "lugo.spawn: %s", lua_tostring(L, -1));
    lua_replace(L, 2);
  }
  lg_ready(&b->p, lgb_go(L, b, n - 1), 0);
  return 0;
}

/* Run a task here; a task that cannot start is a goroutine error of
 * this processor (id 0: it never became one). Frees the blob. */
void lgb_runtask(lua_State *L, lgb_t *b, lg_blob_t *blob) {
  int top = lua_gettop(L);
  lgb_getreg(L, &starttask);
  lua_pushlightuserdata(L, blob);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    lua_pushvalue(L, -1);  /* err, and the same as its "traceback" */
    if (!lgb_onerror(L, b, top, 0, b->p.id) &&
        !lgb_forwarderror(L, b, top + 1, top + 2, 0))
      lgb_penderror(L, b, -1);
  }
  lua_settop(L, top);
  lg_blob_free(blob);
}

/* --------------------------------------------------------------- workers */

/* core._workloop()   [-0, +0, -]
 * The scheduling loop of a worker (see DESIGN.md): goroutines, then
 * tasks (its own, global, stolen), then spin, then block; until P0
 * stops the workers. Called in the worker's own state.
 *
 * A processor steals only while it has no goroutines of its own: ours
 * cannot migrate once started (Go's can), so one that steals every time
 * its goroutines wait would take a whole pool of workers meant for all
 * processors. Its own queue and the global one it always serves. */
static int l_workloop(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lgb_rt_t *rt = b->rt;
  lg_p_t *p = &b->p;
  int spins = 0;
  while (!__atomic_load_n(&rt->stop, __ATOMIC_ACQUIRE)) {
    lg_g_t *g;
    lg_blob_t *task;
    b->L = L;
    if ((g = lg_p_next(p)) != NULL) {
      lgb_run(L, b, g);
      spins = 0;
    } else if ((task = lg_task_next(p, p->ngoroutines == 0)) != NULL) {
      lgb_runtask(L, b, task);
      spins = 0;
    } else if (spins++ < SPINS) {
      lg_p_poll(p, 0);
      sched_yield();
    } else {
      spins = 0;
      /* Idle: a step of the collector first (DESIGN: idle time is GC
       * time), then sleep until something happens. The heap's size is
       * published for P0's lugo.stats() as we go. */
      lua_gc(L, LUA_GCSTEP, 0);
      __atomic_store_n(&b->memory, (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024,
                       __ATOMIC_RELAXED);
      if (lg_p_runnable(p) == 0) lg_p_poll(p, 1);
    }
  }
  return 0;
}

static int setpaths(lua_State *L) {
  lgb_rt_t *rt = lua_touserdata(L, 1);
  lua_getglobal(L, "package");
  lua_pushstring(L, rt->path);
  lua_setfield(L, -2, "path");
  lua_pushstring(L, rt->cpath);
  lua_setfield(L, -2, "cpath");
  /* lugo loaded, and a global: spawned functions have no upvalues to
   * reach it by. */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lugo");
  lua_call(L, 1, 1);
  lua_setglobal(L, "lugo");
  return 0;
}

#if LGB_HAS_INTEGERS
/* A worker's allocator when P0 set core.memlimit: past the cap an
 * allocation fails, so the goroutine that asked raises "not enough
 * memory" and the processor goes on. Only this worker's thread calls it.
 * (LuaJIT's own allocator cannot be replaced on 64-bit builds.) */
static void *limalloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  worker_t *w = ud;
  if (ptr == NULL) osize = 0;  /* a type tag then, not a size */
  if (nsize == 0) {
    free(ptr);
    w->used -= osize;
    return NULL;
  }
  if (nsize > osize && w->used - osize + nsize > w->limit) return NULL;
  if ((ptr = realloc(ptr, nsize)) != NULL) w->used = w->used - osize + nsize;
  return ptr;
}
#endif

static void workermain(void *arg) {
  worker_t *w = arg;
  lgb_rt_t *rt = w->rt;
  lua_State *L = NULL;
  lgb_t *b;
  int rc;
  w->self = pthread_self();
#if LGB_HAS_INTEGERS
  if (rt->memlimit > 0) {
    w->used = 0;
    w->limit = rt->memlimit;
    L = lua_newstate(limalloc, w);
  }
#endif
  if (L == NULL && (L = luaL_newstate()) == NULL) {
    snprintf(rt->starterr, sizeof rt->starterr, "not enough memory");
    uv_sem_post(&rt->started);
    return;
  }
  luaL_openlibs(L);
  lua_pushcfunction(L, setpaths);
  lua_pushlightuserdata(L, rt);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    snprintf(rt->starterr, sizeof rt->starterr, "%s", lua_tostring(L, -1));
    goto fail;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "lugo.p");
  b = lua_touserdata(L, -1);
  lua_pop(L, 1);
  b->p.id = w->id;
  b->rt = rt;
  b->maxmsg = rt->maxmsg;
  if ((rc = lg_rt_attach(&rt->rt, &b->p)) != 0) {
    snprintf(rt->starterr, sizeof rt->starterr, "%s", lg_strerror(rc));
    goto fail;
  }
  w->L = L;
  w->b = b;
  b->memory = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024;
  uv_sem_post(&rt->started);
  /* The loop raises only when the scheduler itself ran out of memory:
   * say so, collect, and go on. */
  while (!__atomic_load_n(&rt->stop, __ATOMIC_ACQUIRE)) {
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, "lugo.core");
    lua_getfield(L, -1, "_workloop");
    if (lua_pcall(L, 0, 0, 0) == LUA_OK) break;
    fprintf(stderr, "lugo: processor %d: %s\n", w->id, lua_tostring(L, -1));
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT, 0);
  }
  lua_settop(L, 0);
  return;
fail:
  lua_close(L);
  uv_sem_post(&rt->started);
}

/* ---------------------------------------------------------------- sysmon
 * Go's route: a monitor thread notices a goroutine running past its time
 * slice and signals that processor's thread; the handler arms a count
 * hook on the goroutine's coroutine, or the user's coroutine it is in
 * (coro.c), where lua_sethook is safe to call from a signal handler; the
 * hook disarms itself and yields, and the scheduler puts the goroutine
 * at the back of the run queue. Lua 5.4 only: LuaJIT's compiled code
 * ignores hooks, so there a long runner is only counted. */

#if LGB_HAS_INTEGERS
static void preempthook(lua_State *L, lua_Debug *ar) {
  lgb_t *b = (lgb_t *)lg_p_self();
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (b == NULL || b->p.curg == NULL ||
      L != (b->running != NULL ? b->running : b->p.curg->host) ||
      !lua_isyieldable(L)) {
    /* Not where the scheduler can take it back (a C call, a coroutine
     * coro.c did not resume): try again a little later. */
    if (b != NULL && b->p.curg != &b->p.maing)
      lua_sethook(L, preempthook, LUA_MASKCOUNT, 1000);
    return;
  }
  b->p.stats.preemptions++;
  b->preempted = 1;
  lua_yield(L, 0);
}
#endif

static void onsignal(int sig) {
  lgb_t *b = (lgb_t *)lg_p_self();
  lg_g_t *g;
  (void)sig;
  if (b == NULL) return;
  g = b->p.curg;
  if (g == NULL || g == &b->p.maing) return;
#if LGB_HAS_INTEGERS
  /* b->running is this thread's own, set around lua_resume (coro.c) */
  lua_sethook(b->running != NULL ? b->running : g->host, preempthook,
              LUA_MASKCOUNT, 1);
#else
  b->p.stats.preemptions++;  /* a long runner, only noted */
#endif
}

/* A goroutine has run past its slice when its processor is running one
 * and has resumed none since sysmon first saw it so. */
static void check(lgb_rt_t *rt, lg_p_t *p, pthread_t t, int64_t now) {
  mon_t *m = &rt->mon[p->id];
  uint64_t sw = __atomic_load_n(&p->stats.switches, __ATOMIC_RELAXED);
  lg_g_t *g = __atomic_load_n(&p->curg, __ATOMIC_RELAXED);
  lg_p_clock(p, now);  /* while a goroutine runs long, parks stay dated */
  if (g == &p->maing || sw != m->switches) {
    m->switches = sw;
    m->since = now;
    m->signaled = g == &p->maing;
    return;
  }
  if (!m->signaled && now - m->since >= SLICE_NS) {
    m->signaled = 1;
    pthread_kill(t, SIGURG);
  }
}

static void sysmonmain(void *arg) {
  lgb_rt_t *rt = arg;
  while (!__atomic_load_n(&rt->stop, __ATOMIC_ACQUIRE)) {
    int64_t now;
    int i;
    uv_sleep(SYSMON_NS / 1000000);
    now = lg_now();
    check(rt, &rt->p0->p, rt->p0thread, now);
    for (i = 1; i <= rt->running; i++)
      if (rt->w[i].b != NULL) check(rt, &rt->w[i].b->p, rt->w[i].self, now);
  }
}

/* ------------------------------------------------------------ the runtime */

static int cpus(void) {
  int n = (int)uv_available_parallelism();
  return n < 1 ? 1 : n > LG_MAXPROCS ? LG_MAXPROCS : n;
}

/* P0's runtime, made on first need. */
static lgb_rt_t *getrt(lua_State *L, lgb_t *b) {
  lgb_rt_t *rt = b->rt;
  if (rt != NULL) return rt;
  if ((rt = calloc(1, sizeof *rt)) == NULL) luaL_error(L, "not enough memory");
  if (lg_rt_init(&rt->rt) != 0 || uv_mutex_init(&rt->errlock) != 0 ||
      uv_sem_init(&rt->started, 0) != 0) {
    free(rt);
    luaL_error(L, "lugo: cannot set up processors");
  }
  rt->n = cpus();
  rt->p0 = b;
  rt->p0thread = pthread_self();
  b->rt = rt;
  return rt;
}

/* A process may end without closing P0's state (os.exit does not):
 * sysmon must not outlive the main thread it signals. The runtimes with
 * a sysmon, for the exit handler; a process has one P0 per Lua state
 * that loads lugo, rarely more than one. */
#define MAXSYSMONS 16
static lgb_rt_t *sysmons[MAXSYSMONS];
static uv_once_t sysmononce = UV_ONCE_INIT;
static uv_mutex_t sysmonlock;

/* With sysmonlock held: stop `rt`'s sysmon if it runs, and forget it. */
static void dropsysmon(lgb_rt_t *rt) {
  int i;
  if (rt->hassysmon == 1) {
    __atomic_store_n(&rt->stop, 1, __ATOMIC_RELEASE);
    uv_thread_join(&rt->sysmon);
  }
  rt->hassysmon = 0;
  for (i = 0; i < MAXSYSMONS; i++)
    if (sysmons[i] == rt) sysmons[i] = NULL;
}

static void stopsysmons(void) {
  int i;
  uv_mutex_lock(&sysmonlock);
  for (i = 0; i < MAXSYSMONS; i++)
    if (sysmons[i] != NULL) dropsysmon(sysmons[i]);
  uv_mutex_unlock(&sysmonlock);
}

static void sysmoninit(void) {
  uv_mutex_init(&sysmonlock);
  atexit(stopsysmons);
}

/* Start sysmon: at the first goroutine, or with the workers. */
static void startsysmon(lgb_rt_t *rt) {
  struct sigaction sa;
  int i;
  if (rt->hassysmon) return;
  uv_once(&sysmononce, sysmoninit);
  uv_mutex_lock(&sysmonlock);
  for (i = 0; i < MAXSYSMONS && sysmons[i] != NULL; i++) {}
  if (i == MAXSYSMONS) {  /* no preemption for this one */
    uv_mutex_unlock(&sysmonlock);
    rt->hassysmon = -1;
    return;
  }
  sysmons[i] = rt;
  uv_mutex_unlock(&sysmonlock);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onsignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGURG, &sa, NULL);
  if (uv_thread_create(&rt->sysmon, sysmonmain, rt) == 0) {
    rt->hassysmon = 1;
  } else {
    uv_mutex_lock(&sysmonlock);
    dropsysmon(rt);
    uv_mutex_unlock(&sysmonlock);
  }
}

static void startworkers(lua_State *L, lgb_t *b, lgb_rt_t *rt) {
  int i, rc;
  if (rt->running > 0 || rt->n <= 1) return;
  if (rt->path == NULL) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_getfield(L, -2, "cpath");
    rt->path = strdup(lua_tostring(L, -2) ? lua_tostring(L, -2) : "");
    rt->cpath = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 3);
    if (rt->path == NULL || rt->cpath == NULL)
      luaL_error(L, "not enough memory");
  }
  if (b->p.rt == NULL && (rc = lg_rt_attach(&rt->rt, &b->p)) != 0)
    luaL_error(L, "lugo: cannot start processors: %s", lg_strerror(rc));
  rt->maxmsg = b->maxmsg;
  for (i = 1; i < rt->n; i++) {
    worker_t *w = &rt->w[i];
    w->rt = rt;
    w->id = i;
    rt->starterr[0] = '\0';
    if (uv_thread_create(&w->tid, workermain, w) != 0) {
      snprintf(rt->starterr, sizeof rt->starterr, "cannot create a thread");
      break;
    }
    uv_sem_wait(&rt->started);
    rt->running = i;
    if (rt->starterr[0] != '\0') break;
  }
  startsysmon(rt);
  if (rt->starterr[0] != '\0')
    luaL_error(L, "lugo: processor %d failed to start: %s", i, rt->starterr);
}

void lgb_procs_stop(lgb_t *b) {
  lgb_rt_t *rt = b->rt;
  int i;
  if (rt == NULL || b->p.id != 0) return;
  __atomic_store_n(&rt->stop, 1, __ATOMIC_RELEASE);
  for (i = 1; i <= rt->running; i++)
    if (rt->w[i].b != NULL) lg_p_wake(&rt->w[i].b->p);
  for (i = 1; i <= rt->running; i++) uv_thread_join(&rt->w[i].tid);
  if (rt->hassysmon != 0) {  /* the lock exists once a sysmon started */
    uv_mutex_lock(&sysmonlock);
    dropsysmon(rt);
    uv_mutex_unlock(&sysmonlock);
  }
  /* Every thread is gone: close the workers' states from here. */
  for (i = 1; i <= rt->running; i++)
    if (rt->w[i].L != NULL) lua_close(rt->w[i].L);
  rt->running = 0;
}

void lgb_procs_free(lgb_t *b) {
  lgb_rt_t *rt = b->rt;
  gerr_t *e;
  if (rt == NULL || rt->p0 != b) return;
  while ((e = rt->errs) != NULL) {
    rt->errs = e->next;
    free(e);
  }
  lg_rt_destroy(&rt->rt);
  uv_mutex_destroy(&rt->errlock);
  uv_sem_destroy(&rt->started);
  free(rt->path);
  free(rt->cpath);
  free(rt);
  b->rt = NULL;
}

void lgb_procs_sysmon(lua_State *L, lgb_t *b) {
  if (b->p.id == 0) startsysmon(getrt(L, b));
  b->sysmon = 1;  /* workers: P0's sysmon watches them from the start */
}

/* ------------------------------------------------------------- functions */

/* lugo.procs([n]) -> n   [-0, +1, e] */
static int l_procs(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lgb_rt_t *rt;
  if (b->p.id != 0) {  /* a worker: the runtime's figure */
    lua_pushinteger(L, b->rt->n);
    return 1;
  }
  rt = getrt(L, b);
  if (!lua_isnoneornil(L, 1)) {
    lua_Number n = luaL_checknumber(L, 1);
    if (!(n >= 1 && n <= LG_MAXPROCS && n == (lua_Number)(int)n))
      return luaL_argerror(L, 1, lua_pushfstring(L, "processors must be an "
                                                 "integer in 1..%d",
                                                 LG_MAXPROCS));
    if (rt->running > 0 && (int)n != rt->n)
      return luaL_error(L, "lugo.procs: %d processors are running already; "
                           "set the number before the first spawn", rt->n);
    rt->n = (int)n;
  }
  lua_pushinteger(L, rt->n);
  return 1;
}

/* Check spawn's function: a Lua function whose only upvalue is _ENV, or
 * a "module.function" name. */
static void checkfn(lua_State *L) {
  const char *name;
  int i;
  if (lua_type(L, 1) == LUA_TSTRING) return;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (lua_iscfunction(L, 1))
    luaL_argerror(L, 1, "a C function cannot cross processors (give it as "
                        "\"module.function\")");
  for (i = 1; (name = lua_getupvalue(L, 1, i)) != NULL; i++) {
    lua_pop(L, 1);
    if (strcmp(name, "_ENV") != 0)
      luaL_error(L, "lugo.spawn: function has upvalue '%s'; a spawned "
                    "function runs in another Lua state and cannot see "
                    "it: pass it as an argument, or give the function as "
                    "\"module.function\"", name);
  }
}

/* The task: the function (or its "module.function" name), then its
 * arguments, named args[i] in errors. */
static lg_blob_t *maketask(lua_State *L, lgb_t *b, int first, int nargs) {
  return lgb_encodemany(L, first, nargs + 1, "args", b->maxmsg);
}

/* lugo.spawn(fn, ...)   [-0, +0, e] */
static int l_spawn(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lgb_rt_t *rt;
  lg_blob_t *blob;
  int rc;
  checkfn(L);
  rt = b->p.id == 0 ? getrt(L, b) : b->rt;
  if (rt->n > 1 && rt->running == 0) startworkers(L, b, rt);
  blob = maketask(L, b, 1, lua_gettop(L) - 1);
  lua_pop(L, 1);
  if (rt->n <= 1) {  /* one processor: here, copied all the same */
    lgb_runtask(L, b, blob);
    return 0;
  }
  if ((rc = lg_task_push(&b->p, blob)) != 0) {
    lg_blob_free(blob);
    return luaL_error(L, "not enough memory");
  }
  return 0;
}

/* core.spawnon(pid, fn, ...)   [-0, +0, e]
 * Internal: a task only processor `pid` runs (a server's listener on
 * each processor, a dump request). */
static int l_spawnon(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lgb_rt_t *rt = b->rt;
  int pid = (int)luaL_checkinteger(L, 1), rc;
  lg_blob_t *blob;
  lg_p_t *p;
  lua_remove(L, 1);
  checkfn(L);
  if (pid == b->p.id) {
    lgb_runtask(L, b, maketask(L, b, 1, lua_gettop(L) - 1));
    return 0;
  }
  if (b->p.id == 0 && pid > 0) {  /* P0 starts the workers if need be */
    rt = getrt(L, b);
    if (pid < rt->n && rt->running == 0) startworkers(L, b, rt);
  }
  if (rt == NULL || pid < 0 || pid > rt->running ||
      (pid > 0 && rt->w[pid].b == NULL))
    return luaL_error(L, "lugo: no processor %d", pid);
  p = pid == 0 ? &rt->p0->p : &rt->w[pid].b->p;
  blob = maketask(L, b, 1, lua_gettop(L) - 1);
  if ((rc = lg_task_pin(p, blob)) != 0) {
    lg_blob_free(blob);
    return luaL_error(L, "not enough memory");
  }
  return 0;
}

/* core.pid() -> this processor's number   [-0, +1, -] */
static int l_pid(lua_State *L) {
  lua_pushinteger(L, lgb_get(L)->p.id);
  return 1;
}

/* core.maxmessage([bytes]) -> bytes   [-0, +1, e]
 * The cap on one value crossing processors (default 64 MB); set it on
 * P0 before the first spawn and the workers inherit it. */
static int l_maxmessage(lua_State *L) {
  lgb_t *b = lgb_get(L);
  if (!lua_isnoneornil(L, 1)) {
    lua_Number n = luaL_checknumber(L, 1);
    if (!(n >= 16 && n <= (lua_Number)LG_ENC_MAXSIZE * 64))
      return luaL_argerror(L, 1, "size out of range");
    b->maxmsg = (size_t)n;
  }
  lgb_pushcount(L, b->maxmsg ? b->maxmsg : LG_ENC_MAXSIZE);
  return 1;
}

/* core.memlimit([bytes]) -> bytes   [-0, +1, e]
 * Cap each worker's Lua heap (Lua 5.4; 0: no cap, the default); set on
 * P0 before the first spawn. A goroutine that passes it fails with "not
 * enough memory" and its processor goes on. */
static int l_memlimit(lua_State *L) {
  lgb_t *b = lgb_get(L);
  lgb_rt_t *rt;
  if (b->p.id != 0) return luaL_error(L, "lugo: set memlimit on P0");
  rt = getrt(L, b);
  if (!lua_isnoneornil(L, 1)) {
    lua_Number n = luaL_checknumber(L, 1);
    if (!(n >= 0 && n <= 9.0e15))
      return luaL_argerror(L, 1, "size out of range");
    if (rt->running > 0)
      return luaL_error(L, "lugo: set memlimit before the first spawn");
    rt->memlimit = (size_t)n;
  }
  lgb_pushcount(L, rt->memlimit);
  return 1;
}

/* Per processor figures for lugo.stats: read from P0 while the others
 * run, so each is a snapshot. */
void lgb_procs_stats(lua_State *L, lgb_t *b) {
  lgb_rt_t *rt = b->rt;
  int i;
  if (rt == NULL || b->p.id != 0) return;
  for (i = 1; i <= rt->running; i++) {
    lg_p_t *p = rt->w[i].b != NULL ? &rt->w[i].b->p : NULL;
    if (p == NULL) continue;
    lua_createtable(L, 0, 10);
    lua_pushinteger(L, i);
    lua_setfield(L, -2, "id");
#define F(name, v) (lgb_pushcount(L, (size_t)(v)), lua_setfield(L, -2, name))
    F("goroutines", __atomic_load_n(&p->ngoroutines, __ATOMIC_RELAXED));
    F("runq", __atomic_load_n(&p->rqlen, __ATOMIC_RELAXED));
    F("switches", __atomic_load_n(&p->stats.switches, __ATOMIC_RELAXED));
    F("steals", __atomic_load_n(&p->stats.steals, __ATOMIC_RELAXED));
    F("tasks", __atomic_load_n(&p->stats.tasks, __ATOMIC_RELAXED));
    F("inbox", __atomic_load_n(&p->stats.inbox, __ATOMIC_RELAXED));
    F("preemptions",
      __atomic_load_n(&p->stats.preemptions, __ATOMIC_RELAXED));
    F("timers", __atomic_load_n(&p->ntimers, __ATOMIC_RELAXED));
    F("channels", __atomic_load_n(&p->nchans, __ATOMIC_RELAXED));
    F("memory", __atomic_load_n(&rt->w[i].b->memory, __ATOMIC_RELAXED));
#undef F
    lua_pushnumber(L, (lua_Number)__atomic_load_n(&p->stats.idle,
                                                  __ATOMIC_RELAXED) / 1e9);
    lua_setfield(L, -2, "idle");
    lua_rawseti(L, -2, i + 1);
  }
}

int lgb_procs_running(lgb_t *b) {
  return b->rt != NULL ? b->rt->running + 1 : 1;
}

void lgb_open_procs(lua_State *L) {
  static const luaL_Reg f[] = {
    {"procs", l_procs}, {"spawn", l_spawn}, {"spawnon", l_spawnon},
    {"pid", l_pid}, {"maxmessage", l_maxmessage}, {"memlimit", l_memlimit},
    {"resolve", l_resolve}, {"_starttask", l_starttask},
    {"_workloop", l_workloop}, {NULL, NULL}
  };
  lgb_setfuncs(L, f);
  lua_getfield(L, -1, "_starttask");
  lgb_setreg(L, &starttask);
}
