/* Mutex, RWMutex, WaitGroup, semaphore and condition queues. All are
 * FIFO and hand off directly: an unlock gives the lock to the longest
 * waiter instead of letting a newcomer barge in, so nobody starves (Go's
 * mutex reaches the same place through starvation mode). A shared one
 * (lg_sync_new) has a lock, q.lock, which every call below holds; its
 * waiters may be on any processor. */
#include <stddef.h>
#include <string.h>
#include "internal.h"

#define OWNER(type, q) ((type *)(void *)((char *)(q) - offsetof(type, q)))

static int wait_on(lg_waitq_t *q, lg_g_t *g, int64_t n) {
  lg_sudog_t *s = lg__enqueue(g->p, g, q);
  if (s == NULL) return LG_ENOMEM;
  s->n = n;
  lg_park(g->p, g, LG_WSYNC);
  return LG_PARKED;
}

static void wake_first(lg_waitq_t *q) {
  lg_sudog_t *s = lg__dequeue(q);
  lg_g_t *g = s->g;
  g->rc = 0;
  lg__wake(g->p, s, 0);
}

/* ---------------------------------------------------------------- mutex */

static int mutex_trylock_(lg_mutex_t *m) {
  if (m->locked) return LG_EAGAIN;
  m->locked = 1;
  return 0;
}

static int mutex_lock_(lg_mutex_t *m, lg_g_t *g) {
  if (!m->locked) {
    m->locked = 1;
    return 0;
  }
  return wait_on(&m->q, g, 0);
}

static int mutex_unlock_(lg_mutex_t *m) {
  if (!m->locked) return LG_EINVAL;
  if (m->q.first != NULL) wake_first(&m->q);  /* stays locked: handed on */
  else m->locked = 0;
  return 0;
}

/* -------------------------------------------------------------- rwmutex
 * Waiters queue in arrival order; sudog n is 1 for a writer, 0 for a
 * reader. A reader arriving while anyone waits queues too, so a stream
 * of readers cannot starve a writer. */

static void rw_grant(lg_rwmutex_t *m);

/* A waiter gave up: readers behind it may join the readers holding the
 * lock, or the lock may be free for whoever is first now. */
static void rw_leave(lg_waitq_t *q) {
  lg_rwmutex_t *m = OWNER(lg_rwmutex_t, q);
  if (m->writer) return;
  if (m->readers == 0) {
    rw_grant(m);
    return;
  }
  while (m->q.first != NULL && m->q.first->n == 0) {
    m->readers++;
    wake_first(&m->q);
  }
}

void lg_rwmutex_init(lg_rwmutex_t *m) {
  m->writer = 0;
  m->readers = 0;
  m->q.first = m->q.last = NULL;
  m->q.onleave = rw_leave;
  m->q.lock = NULL;
  m->q.owner = NULL;
}

static int rwmutex_rlock_(lg_rwmutex_t *m, lg_g_t *g) {
  if (!m->writer && m->q.first == NULL) {
    m->readers++;
    return 0;
  }
  return wait_on(&m->q, g, 0);
}

static int rwmutex_lock_(lg_rwmutex_t *m, lg_g_t *g) {
  if (!m->writer && m->readers == 0) {
    m->writer = 1;
    return 0;
  }
  return wait_on(&m->q, g, 1);
}

/* The lock is free: grant it to the head of the queue, that is one
 * writer or every reader up to the next writer. */
static void rw_grant(lg_rwmutex_t *m) {
  if (m->q.first == NULL) return;
  if (m->q.first->n == 1) {
    m->writer = 1;
    wake_first(&m->q);
    return;
  }
  while (m->q.first != NULL && m->q.first->n == 0) {
    m->readers++;
    wake_first(&m->q);
  }
}

static int rwmutex_runlock_(lg_rwmutex_t *m) {
  if (m->readers == 0) return LG_EINVAL;
  if (--m->readers == 0) rw_grant(m);
  return 0;
}

static int rwmutex_unlock_(lg_rwmutex_t *m) {
  if (!m->writer) return LG_EINVAL;
  m->writer = 0;
  rw_grant(m);
  return 0;
}

/* ------------------------------------------------------------ waitgroup */

static int wg_add_(lg_wg_t *wg, int64_t delta) {
  if (wg->count + delta < 0) return LG_EINVAL;
  wg->count += delta;
  if (wg->count == 0)
    while (wg->q.first != NULL) wake_first(&wg->q);
  return 0;
}

static int wg_wait_(lg_wg_t *wg, lg_g_t *g) {
  if (wg->count == 0) return 0;
  return wait_on(&wg->q, g, 0);
}

/* ------------------------------------------------------------ semaphore
 * Weighted, FIFO: a big request at the head is not overtaken by small
 * ones behind it (Go's semaphore.Weighted). */

/* Serve waiters from the head while their requests fit. */
static void sema_grant(lg_sema_t *s) {
  while (s->q.first != NULL && s->q.first->n <= s->avail) {
    s->avail -= s->q.first->n;
    wake_first(&s->q);
  }
}

static void sema_leave(lg_waitq_t *q) {
  sema_grant(OWNER(lg_sema_t, q));
}

void lg_sema_init(lg_sema_t *s, int64_t size) {
  s->avail = s->size = size;
  s->q.first = s->q.last = NULL;
  s->q.onleave = sema_leave;
  s->q.lock = NULL;
  s->q.owner = NULL;
}

static int sema_tryacquire_(lg_sema_t *s, int64_t k) {
  if (s->q.first != NULL || s->avail < k) return LG_EAGAIN;
  s->avail -= k;
  return 0;
}

static int sema_acquire_(lg_sema_t *s, lg_g_t *g, int64_t k) {
  if (sema_tryacquire_(s, k) == 0) return 0;
  return wait_on(&s->q, g, k);
}

static int sema_release_(lg_sema_t *s, int64_t k) {
  if (s->avail + k > s->size) return LG_EINVAL;
  s->avail += k;
  sema_grant(s);
  return 0;
}

/* ----------------------------------------------------------------- cond */

static int cond_wait_(lg_cond_t *c, lg_g_t *g) {
  return wait_on(&c->q, g, 0);
}

static int cond_signal_(lg_cond_t *c) {
  if (c->q.first == NULL) return 0;
  wake_first(&c->q);
  return 1;
}

static int cond_broadcast_(lg_cond_t *c) {
  int n = 0;
  while (c->q.first != NULL) {
    wake_first(&c->q);
    n++;
  }
  return n;
}

/* -------------------------------------------------------------- locking */

#define LOCKED(obj, call)                                                 \
  do {                                                                    \
    int rc_;                                                              \
    lg__lock((obj)->q.lock);                                              \
    rc_ = call;                                                           \
    lg__unlock((obj)->q.lock);                                            \
    return rc_;                                                           \
  } while (0)

int lg_mutex_trylock(lg_mutex_t *m) { LOCKED(m, mutex_trylock_(m)); }
int lg_mutex_lock(lg_mutex_t *m, lg_g_t *g) { LOCKED(m, mutex_lock_(m, g)); }
int lg_mutex_unlock(lg_mutex_t *m) { LOCKED(m, mutex_unlock_(m)); }

int lg_rwmutex_rlock(lg_rwmutex_t *m, lg_g_t *g) {
  LOCKED(m, rwmutex_rlock_(m, g));
}
int lg_rwmutex_lock(lg_rwmutex_t *m, lg_g_t *g) {
  LOCKED(m, rwmutex_lock_(m, g));
}
int lg_rwmutex_runlock(lg_rwmutex_t *m) { LOCKED(m, rwmutex_runlock_(m)); }
int lg_rwmutex_unlock(lg_rwmutex_t *m) { LOCKED(m, rwmutex_unlock_(m)); }

int lg_wg_add(lg_wg_t *wg, int64_t d) { LOCKED(wg, wg_add_(wg, d)); }
int lg_wg_wait(lg_wg_t *wg, lg_g_t *g) { LOCKED(wg, wg_wait_(wg, g)); }

int lg_sema_tryacquire(lg_sema_t *s, int64_t k) {
  LOCKED(s, sema_tryacquire_(s, k));
}
int lg_sema_acquire(lg_sema_t *s, lg_g_t *g, int64_t k) {
  LOCKED(s, sema_acquire_(s, g, k));
}
int lg_sema_release(lg_sema_t *s, int64_t k) {
  LOCKED(s, sema_release_(s, k));
}

int lg_cond_wait(lg_cond_t *c, lg_g_t *g) { LOCKED(c, cond_wait_(c, g)); }
int lg_cond_signal(lg_cond_t *c) { LOCKED(c, cond_signal_(c)); }
int lg_cond_broadcast(lg_cond_t *c) { LOCKED(c, cond_broadcast_(c)); }

/* ----------------------------------------------------------- shared ones */

static void sync_destroy(lg_shared_t *o) {
  lg_sync_t *s = (lg_sync_t *)o;
  if (s->link != NULL) lg_shared_release(s->link);
  uv_mutex_destroy(&s->lock);
  lg__free(s);
}

lg_sync_t *lg_sync_new(int type, int64_t size) {
  lg_sync_t *s = lg__malloc(sizeof *s);
  lg_waitq_t *q;
  if (s == NULL) return NULL;
  memset(s, 0, sizeof *s);
  if (uv_mutex_init(&s->lock) != 0) {
    lg__free(s);
    return NULL;
  }
  lg_shared_init(&s->hdr, type, sync_destroy);
  switch (type) {
  case LG_SH_RWMUTEX: lg_rwmutex_init(&s->u.rw); q = &s->u.rw.q; break;
  case LG_SH_SEMA: lg_sema_init(&s->u.sema, size); q = &s->u.sema.q; break;
  case LG_SH_WG: q = &s->u.wg.q; break;
  case LG_SH_COND: q = &s->u.cond.q; break;
  default: q = &s->u.mu.q; break;
  }
  q->lock = &s->lock;
  q->owner = &s->hdr;
  return s;
}
