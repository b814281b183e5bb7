/* Mutex, RWMutex, WaitGroup, semaphore and condition queues for one P.
 * All are FIFO and hand off directly: an unlock gives the lock to the
 * longest waiter instead of letting a newcomer barge in, so nobody
 * starves (Go's mutex reaches the same place through starvation mode). */
#include <stddef.h>
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

int lg_mutex_trylock(lg_mutex_t *m) {
  if (m->locked) return LG_EAGAIN;
  m->locked = 1;
  return 0;
}

int lg_mutex_lock(lg_mutex_t *m, lg_g_t *g) {
  if (!m->locked) {
    m->locked = 1;
    return 0;
  }
  return wait_on(&m->q, g, 0);
}

int lg_mutex_unlock(lg_mutex_t *m) {
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
}

int lg_rwmutex_rlock(lg_rwmutex_t *m, lg_g_t *g) {
  if (!m->writer && m->q.first == NULL) {
    m->readers++;
    return 0;
  }
  return wait_on(&m->q, g, 0);
}

int lg_rwmutex_lock(lg_rwmutex_t *m, lg_g_t *g) {
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

int lg_rwmutex_runlock(lg_rwmutex_t *m) {
  if (m->readers == 0) return LG_EINVAL;
  if (--m->readers == 0) rw_grant(m);
  return 0;
}

int lg_rwmutex_unlock(lg_rwmutex_t *m) {
  if (!m->writer) return LG_EINVAL;
  m->writer = 0;
  rw_grant(m);
  return 0;
}

/* ------------------------------------------------------------ waitgroup */

int lg_wg_add(lg_wg_t *wg, int64_t delta) {
  if (wg->count + delta < 0) return LG_EINVAL;
  wg->count += delta;
  if (wg->count == 0)
    while (wg->q.first != NULL) wake_first(&wg->q);
  return 0;
}

int lg_wg_wait(lg_wg_t *wg, lg_g_t *g) {
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
}

int lg_sema_tryacquire(lg_sema_t *s, int64_t k) {
  if (s->q.first != NULL || s->avail < k) return LG_EAGAIN;
  s->avail -= k;
  return 0;
}

int lg_sema_acquire(lg_sema_t *s, lg_g_t *g, int64_t k) {
  if (lg_sema_tryacquire(s, k) == 0) return 0;
  return wait_on(&s->q, g, k);
}

int lg_sema_release(lg_sema_t *s, int64_t k) {
  if (s->avail + k > s->size) return LG_EINVAL;
  s->avail += k;
  sema_grant(s);
  return 0;
}

/* ----------------------------------------------------------------- cond */

int lg_cond_wait(lg_cond_t *c, lg_g_t *g) {
  return wait_on(&c->q, g, 0);
}

int lg_cond_signal(lg_cond_t *c) {
  if (c->q.first == NULL) return 0;
  wake_first(&c->q);
  return 1;
}

int lg_cond_broadcast(lg_cond_t *c) {
  int n = 0;
  while (c->q.first != NULL) {
    wake_first(&c->q);
    n++;
  }
  return n;
}
