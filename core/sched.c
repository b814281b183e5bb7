/* The scheduler of one processor: goroutine records, the run queue with
 * its runnext slot, wait queues and wake-ups, and polling. Resuming a
 * goroutine's stack is the host's job: it asks lg_p_next() whom to run. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* Check timers and poll I/O every this many scheduling rounds, so a
 * busy run queue cannot starve them (Go checks timers on every
 * schedule(), and sysmon polls the network every 10 ms). */
#define TIMER_CHECK_TICKS 61
/* How long an idle processor watches its inbox before it blocks. */
#define SPIN_NS 20000

/* lg_now(), kept as the processor's clock too (see lg_p_clock). */
static int64_t clock_now(lg_p_t *p) {
  int64_t now = lg_now();
  lg_p_clock(p, now);
  return now;
}

static void uvtimer_cb(uv_timer_t *h) {
  lg_p_t *p = h->data;
  p->uvtimer_when = 0;
  lg_p_runtimers(p, clock_now(p));
}

/* ------------------------------------------------------------ records */

/* The chunk header is max_align_t wide, so records keep any alignment. */
#define SLAB_HEAD sizeof(max_align_t)

static void *slab_get(lg_p_t *p, lg_slab_t *s, size_t size) {
  void *r;
  if (s->left == 0) {
    char *c = lg__malloc(SLAB_HEAD + p->slabn * size);
    if (c == NULL) return NULL;
    *(void **)c = s->chunks;
    s->chunks = c;
    s->next = c + SLAB_HEAD;
    s->left = p->slabn;
  }
  r = s->next;
  s->next += size;
  s->left--;
  return r;
}

static void slab_free(lg_slab_t *s) {
  while (s->chunks != NULL) {
    void *c = s->chunks;
    s->chunks = *(void **)c;
    lg__free(c);
  }
  s->left = 0;
}

/* libuv must never get fd 0, 1 or 2 for its own use (it asserts when
 * closing one): a process started with standard streams closed would
 * hand them out. Fill the gaps with /dev/null, as Go's runtime does. */
static void stdio_open(void) {
  int fd;
  for (fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
        open("/dev/null", O_RDWR) != fd)
      break;
}

int lg_p_init(lg_p_t *p, int id) {
  int rc;
  stdio_open();
  memset(p, 0, sizeof *p);
  p->id = id;
  p->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)lg_now() ^ (uint64_t)(uintptr_t)p;
  p->maing.p = p;
  p->maing.status = LG_GRUNNING;
  p->maing.inlinewait = 1;
  p->curg = &p->maing;
  p->nextid = 1;
  p->clock = lg_now();
  p->slabn = 64;
  lg__setself(p);
  if ((rc = uv_loop_init(&p->loop)) != 0) return rc;
  if ((rc = uv_timer_init(&p->loop, &p->uvtimer)) != 0) {
    uv_loop_close(&p->loop);
    return rc;
  }
  p->uvtimer.data = p;
  /* The heap timer alone must not keep uv_run() blocking: whether the
   * loop may block is lg_p_poll()'s decision. */
  uv_unref((uv_handle_t *)&p->uvtimer);
  return 0;
}

void lg_p_close(lg_p_t *p) {
  lg_g_t *g;
  /* Other processors must be stopped by now (the host's business):
   * wake-ups they left in the inbox are taken, then every goroutine goes. */
  if (p->rt != NULL) lg_p_drain(p);
  while ((g = p->allg) != NULL) {
    if (lg_g_unwait(p, g) != 0) lg_g_settle(p, g);
    lg__gtimer_stop(g);
    lg__vfree(p, &g->val);
    lg_g_free(p, g);
  }
  lg_rt_detach(p);
  while (p->ntimers > 0) lg_timer_stop(p->timers[0]);
  lg__free(p->timers);
  lg__free(p->runq);
  lg__free(p->maing.sleep);
  for (g = p->gfree; g != NULL; g = g->allnext) lg__free(g->sleep);
  slab_free(&p->gslab);
  slab_free(&p->sudogslab);
  uv_close((uv_handle_t *)&p->uvtimer, NULL);
  uv_run(&p->loop, UV_RUN_NOWAIT);
  uv_loop_close(&p->loop);
}

uint64_t lg_p_rand(lg_p_t *p) {
  /* xorshift64*: fast and good enough for fair case order. */
  uint64_t x = p->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  p->rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------ goroutines */

lg_g_t *lg_g_new(lg_p_t *p) {
  lg_g_t *g = p->gfree;
  lg_timer_t *sleep = NULL;  /* a reused struct keeps its timer */
  if (g != NULL) {
    p->gfree = g->allnext;
    sleep = g->sleep;
  } else if ((g = slab_get(p, &p->gslab, sizeof *g)) == NULL) {
    return NULL;
  }
  memset(g, 0, sizeof *g);
  g->p = p;
  g->id = p->nextid++;
  g->status = LG_GIDLE;
  g->sleep = sleep;
  g->allnext = p->allg;
  if (p->allg != NULL) p->allg->allprev = g;
  p->allg = g;
  p->ngoroutines++;
  p->stats.spawned++;
  return g;
}

void lg_g_free(lg_p_t *p, lg_g_t *g) {
  assert(g->waiting == NULL && (g->sleep == NULL || g->sleep->idx < 0));
  if (g->allprev != NULL) g->allprev->allnext = g->allnext;
  else p->allg = g->allnext;
  if (g->allnext != NULL) g->allnext->allprev = g->allprev;
  p->ngoroutines--;
  g->status = LG_GDEAD;
  g->allnext = p->gfree;
  p->gfree = g;
}

static int runq_grow(lg_p_t *p) {
  size_t cap = p->rqcap ? p->rqcap * 2 : 256, i;
  lg_g_t **q = lg__malloc(cap * sizeof *q);
  if (q == NULL) return LG_ENOMEM;
  for (i = 0; i < p->rqlen; i++)
    q[i] = p->runq[(p->rqhead + i) % p->rqcap];
  lg__free(p->runq);
  p->runq = q;
  p->rqcap = cap;
  p->rqhead = 0;
  return 0;
}

static void runq_put(lg_p_t *p, lg_g_t *g) {
  /* Out of memory here would lose a goroutine; the queue only grows to
   * the number of live goroutines, so treat it as fatal. */
  if (p->rqlen == p->rqcap && runq_grow(p) != 0) abort();
  p->runq[(p->rqhead + p->rqlen) % p->rqcap] = g;
  p->rqlen++;
}

void lg_ready(lg_p_t *p, lg_g_t *g, int next) {
  g->status = LG_GRUNNABLE;
  if (g->inlinewait) return;  /* its driver loop watches the status */
  if (next) {
    lg_g_t *old = p->runnext;
    p->runnext = g;
    if (old == NULL) return;
    g = old;
  }
  runq_put(p, g);
}

void lg_p_clock(lg_p_t *p, int64_t now) {
  __atomic_store_n(&p->clock, now, __ATOMIC_RELAXED);
}

void lg_park(lg_p_t *p, lg_g_t *g, int reason) {
  g->status = LG_GWAITING;
  g->reason = reason;
  g->since = __atomic_load_n(&p->clock, __ATOMIC_RELAXED);
}

static lg_g_t *next_g(lg_p_t *p);

lg_g_t *lg_p_next(lg_p_t *p) {
  lg_g_t *g;
  if (__atomic_load_n(&p->inboxn, __ATOMIC_RELAXED)) lg_p_drain(p);
  if ((g = next_g(p)) != NULL && g->waiting != NULL) lg_g_settle(p, g);
  return g;
}

static lg_g_t *next_g(lg_p_t *p) {
  lg_g_t *g;
  if (++p->schedtick % TIMER_CHECK_TICKS == 0) {
    /* A run queue that never drains must not starve timers or the
     * network: poll both without blocking now and then. */
    int64_t now = clock_now(p);
    if (p->ntimers > 0) lg_p_runtimers(p, now);
    if (p->nwaitingio > 0 || p->nsources > 0)
      uv_run(&p->loop, UV_RUN_NOWAIT);
  }
  /* runnext first, but not forever: every TIMER_CHECK_TICKS the queue
   * head goes first so two goroutines handing off cannot starve it. */
  if ((g = p->runnext) != NULL &&
      (p->rqlen == 0 || p->schedtick % TIMER_CHECK_TICKS != 0)) {
    p->runnext = NULL;
    return g;
  }
  if (p->rqlen == 0) {
    if (p->ntimers > 0) lg_p_runtimers(p, clock_now(p));
    if ((g = p->runnext) != NULL) {
      p->runnext = NULL;
      return g;
    }
    if (p->rqlen == 0) return NULL;
  }
  g = p->runq[p->rqhead];
  p->rqhead = (p->rqhead + 1) % p->rqcap;
  p->rqlen--;
  return g;
}

size_t lg_p_runnable(lg_p_t *p) {
  return p->rqlen + (p->runnext != NULL);
}

/* Before blocking with other processors about: watch the inbox a few
 * microseconds. A goroutine handing off to another processor and waiting
 * for the answer (a ping-pong, a request to a worker) is answered that
 * fast, and a futex wake-up plus epoll costs far more than that. Only
 * while wake-ups from others have been coming (spinhint, set by
 * lg_p_drain): a processor serving sockets alone would burn the time. */
static int spin(lg_p_t *p) {
  int64_t until = lg_now() + SPIN_NS;
  int i;
  p->spinhint--;
  do {
    for (i = 0; i < 64; i++) {
      if (__atomic_load_n(&p->inboxn, __ATOMIC_ACQUIRE)) return 1;
      lg__pause();
    }
  } while (lg_now() < until);
  return 0;
}

int lg_p_poll(lg_p_t *p, int block) {
  int64_t now = clock_now(p);
  int stuck = 0;
  /* A timer that fired, or a wake-up from another processor, may have
   * woken a goroutine that no queue shows (one parked in a driver loop):
   * that counts as something happening. */
  if (lg_p_runtimers(p, now) > 0 || lg_p_drain(p) > 0 || !block ||
      lg_p_runnable(p) > 0)
    return uv_run(&p->loop, UV_RUN_NOWAIT), 0;
  /* First the spin: an answer that comes in those microseconds spares
   * the stuck accounting below its trips through the runtime's lock. */
  if (p->rt != NULL && p->spinhint > 0 && spin(p)) {
    lg_p_drain(p);
    return 0;
  }
  /* Open sockets keep the loop alive, but only a goroutine waiting on one
   * (or an event source feeding a channel) can be woken by it. With
   * other processors, they can: P0 reports the deadlock only when every
   * other one is stuck too. */
  if (lg_p_timers(p) == 0 && p->nwaitingio == 0 && p->nsources == 0) {
    if (p->rt == NULL) return LG_EDEADLK;
    if (!lg__stick(p)) return lg_p_drain(p), 0;
    if (p->id == 0 && lg__deadlocked(p)) {
      lg__unstick(p);
      return LG_EDEADLK;
    }
    lg__stuck_notify(p);
    stuck = 1;
  }
  if (p->ntimers > 0) {
    /* One libuv timer for the whole heap, armed only when we are about
     * to block. Round up: libuv counts whole milliseconds, and a timer
     * must never fire early (lg_p_runtimers checks the exact time). */
    int64_t when = p->timers[0]->when;
    uint64_t ms = when > now ? (uint64_t)((when - now + 999999) / 1000000) : 0;
    uv_update_time(&p->loop);
    uv_timer_start(&p->uvtimer, uvtimer_cb, ms, 0);
    uv_ref((uv_handle_t *)&p->uvtimer);
    p->uvtimer_when = when;
  }
  if (p->rt != NULL) {
    uv_ref((uv_handle_t *)&p->wake);
    __atomic_store_n(&p->idle, 1, __ATOMIC_SEQ_CST);
  }
  /* A goroutine woken or a task pushed while we were not idle yet woke
   * nobody (the waker saw us busy): look once more, now that wakers can
   * see us idle (see nudge() in proc.c). */
  if (p->rt == NULL ||
      (!__atomic_load_n(&p->inboxn, __ATOMIC_SEQ_CST) &&
       (p->id == 0 || lg_rt_ntasks(p->rt) == 0)))
    uv_run(&p->loop, UV_RUN_ONCE);
  uv_unref((uv_handle_t *)&p->uvtimer);
  if (p->rt != NULL) {
    __atomic_store_n(&p->idle, 0, __ATOMIC_RELEASE);
    uv_unref((uv_handle_t *)&p->wake);
    if (stuck) lg__unstick(p);
    lg_p_drain(p);
  }
  p->stats.idle += clock_now(p) - now;
  return 0;
}

/* ------------------------------------------------------ waits and wakes */

lg_sudog_t *lg__enqueue(lg_p_t *p, lg_g_t *g, lg_waitq_t *q) {
  lg_sudog_t *s = p->sudogfree;
  if (s != NULL)
    p->sudogfree = s->next;
  else if ((s = slab_get(p, &p->sudogslab, sizeof *s)) == NULL)
    return NULL;
  if (g->waiting == NULL) {  /* a new wait begins */
    g->xwait = 0;
    g->claimed = 0;
  }
  s->g = g;
  s->lock = q->lock;
  s->owner = q->owner;
  if (q->lock != NULL) {
    g->xwait = 1;
    lg_shared_retain(q->owner);
  }
  s->val.type = LG_VNIL;
  s->n = 0;
  s->caseidx = -1;
  s->q = q;
  s->next = NULL;
  s->prev = q->last;
  if (q->last != NULL) q->last->next = s;
  else q->first = s;
  q->last = s;
  s->waitlink = g->waiting;
  g->waiting = s;
  return s;
}

static void waitq_remove(lg_sudog_t *s) {
  lg_waitq_t *q = s->q;
  if (s->prev != NULL) s->prev->next = s->next;
  else q->first = s->next;
  if (s->next != NULL) s->next->prev = s->prev;
  else q->last = s->prev;
  s->next = s->prev = NULL;
  s->q = NULL;
}

/* Take `g` for waking: only one waker may, when wakers on several
 * processors can reach it. */
static int claim(lg_g_t *g) {
  int zero = 0;
  return !g->xwait ||
         __atomic_compare_exchange_n(&g->claimed, &zero, 1, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

lg_sudog_t *lg__dequeue(lg_waitq_t *q) {
  lg_sudog_t *s;
  while ((s = q->first) != NULL) {
    waitq_remove(s);
    if (claim(s->g)) break;
  }
  return s;
}

/* Take every sudog of `g` off its queue (under that queue's lock) and
 * recycle it; a value it was still holding goes back to the host. */
static void unwait(lg_p_t *p, lg_g_t *g) {
  lg_sudog_t *s, *next;
  for (s = g->waiting; s != NULL; s = next) {
    lg_waitq_t *q;
    next = s->waitlink;
    lg__lock(s->lock);
    if ((q = s->q) != NULL) {
      waitq_remove(s);
      if (q->onleave != NULL) q->onleave(q);
    }
    lg__unlock(s->lock);
    if (s->lock != NULL) lg_shared_release(s->owner);
    lg__vfree(p, &s->val);
    s->next = p->sudogfree;
    p->sudogfree = s;
  }
  g->waiting = NULL;
  g->xwait = 0;  /* the wait is over: the next one starts unclaimed */
  g->claimed = 0;
}

void lg__wake(lg_p_t *p, lg_sudog_t *s, int next) {
  lg_g_t *g = s->g;
  if (g->xwait) {
    /* The waker may hold a lock of one of g's queues, and may run on
     * another processor: g's own processor takes it off the rest
     * (lg_g_settle), as Go's selectgo does after it wakes. */
    lg_ready_any(g, next);
    return;
  }
  unwait(p, g);
  lg_ready(p, g, next);
}

void lg_g_settle(lg_p_t *p, lg_g_t *g) {
  if (g->waiting != NULL) unwait(p, g);
}

int lg_g_unwait(lg_p_t *p, lg_g_t *g) {
  if (g->status == LG_GWAITING && !claim(g)) return LG_PARKED;
  if (g->status == LG_GWAITING && g->reason == LG_WIO) p->nwaitingio--;
  unwait(p, g);
  lg__gtimer_stop(g);
  g->status = LG_GRUNNING;
  g->reason = LG_WNONE;
  return 0;
}

/* ------------------------------------------------------------- I/O waits
 * A goroutine waiting for I/O sits on the object's wait queue like any
 * other waiter, so lg_g_unwait can take it off; its timeout is its own
 * sleep timer. */

static void io_timeout(lg_timer_t *t, int64_t now) {
  lg_g_t *g = t->arg;
  (void)now;
  g->rc = LG_ETIMEDOUT;
  g->p->nwaitingio--;
  lg__wake(g->p, g->waiting, 0);
}

int lg__wait_io(lg_p_t *p, lg_g_t *g, lg_waitq_t *q, int64_t timeout,
                int64_t n) {
  lg_sudog_t *s = lg__enqueue(p, g, q);
  if (s == NULL) return LG_ENOMEM;
  s->n = n;
  if (timeout >= 0) {
    if (lg__gtimer_start(g, io_timeout, lg_now() + timeout) != 0) {
      lg_g_unwait(p, g);
      return LG_ENOMEM;
    }
  }
  lg_park(p, g, LG_WIO);
  p->nwaitingio++;
  return LG_PARKED;
}

void lg__wake_io(lg_p_t *p, lg_waitq_t *q, int rc) {
  lg_sudog_t *s = lg__dequeue(q);
  lg_g_t *g = s->g;
  g->rc = rc;
  p->nwaitingio--;
  lg__gtimer_stop(g);
  lg__wake(p, s, 0);
}

void lg__vfree(lg_p_t *p, lg_value_t *v) {
  if (v->type == LG_VREF && p->vfree != NULL) p->vfree(p, v);
  else if (v->type == LG_VBLOB) lg_blob_free(v->u.blob);
  v->type = LG_VNIL;
}
