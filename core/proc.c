/* Processors together: the runtime that attaches them, portable tasks
 * and their stealing, inboxes for cross-processor wake-ups, and shared
 * objects' reference counts.
 *
 * Locks, and the order they nest in (never the other way round):
 *   a shared object's lock  ->  a processor's inlock  ->  rt->lock
 *     ->  a processor's tqlock
 * A thief never holds two tqlocks at once: it takes from the victim,
 * then puts into its own queue.
 */
#include <assert.h>
#include <string.h>
#include "internal.h"

/* The processor this thread drives. initial-exec: one load, and the
 * module is loaded once per process. */
static __thread lg_p_t *self __attribute__((tls_model("initial-exec")));

lg_p_t *lg_p_self(void) {
  return self;
}

void lg__setself(lg_p_t *p) {
  self = p;
}

/* --------------------------------------------------------- shared objects */

void lg_shared_init(lg_shared_t *o, int type,
                    void (*destroy)(lg_shared_t *o)) {
  o->refs = 1;
  o->type = type;
  o->destroy = destroy;
}

void lg_shared_retain(lg_shared_t *o) {
  __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

void lg_shared_release(lg_shared_t *o) {
  /* acq_rel: the last holder must see every other holder's writes
   * before it frees. */
  if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0)
    o->destroy(o);
}

/* ----------------------------------------------------------------- the rt */

static void wake_cb(uv_async_t *h) {
  lg_p_drain(h->data);
}

int lg_rt_init(lg_rt_t *rt) {
  memset(rt, 0, sizeof *rt);
  return uv_mutex_init(&rt->lock);
}

void lg_rt_destroy(lg_rt_t *rt) {
  lg_task_t *t;
  assert(rt->nattached == 0);
  while ((t = rt->gq) != NULL) {
    rt->gq = t->next;
    lg_blob_free(t->blob);
    lg__free(t);
  }
  uv_mutex_destroy(&rt->lock);
}

int lg_rt_attach(lg_rt_t *rt, lg_p_t *p) {
  int rc;
  if (p->id < 0 || p->id >= LG_MAXPROCS || p->rt != NULL) return LG_EINVAL;
  if ((p->tq = lg__malloc(LG_TQCAP * sizeof *p->tq)) == NULL)
    return LG_ENOMEM;
  if ((rc = uv_async_init(&p->loop, &p->wake, wake_cb)) != 0) {
    lg__free(p->tq);
    p->tq = NULL;
    return rc;
  }
  p->wake.data = p;
  /* The nudge alone must not keep the loop blocking: lg_p_poll refs it
   * while it waits for other processors. */
  uv_unref((uv_handle_t *)&p->wake);
  uv_mutex_init(&p->inlock);
  uv_mutex_init(&p->tqlock);
  p->tqhead = p->tqlen = 0;
  p->tqcap = LG_TQCAP;
  uv_mutex_lock(&rt->lock);
  if (rt->ps[p->id] != NULL) {
    uv_mutex_unlock(&rt->lock);
    uv_close((uv_handle_t *)&p->wake, NULL);
    uv_mutex_destroy(&p->inlock);
    uv_mutex_destroy(&p->tqlock);
    lg__free(p->tq);
    p->tq = NULL;
    return LG_EINVAL;
  }
  rt->ps[p->id] = p;
  if (p->id >= rt->nprocs)
    __atomic_store_n(&rt->nprocs, p->id + 1, __ATOMIC_RELEASE);
  rt->nattached++;
  p->rt = rt;
  uv_mutex_unlock(&rt->lock);
  return 0;
}

void lg_rt_detach(lg_p_t *p) {
  lg_rt_t *rt = p->rt;
  lg_task_t *t;
  if (rt == NULL) return;
  uv_mutex_lock(&rt->lock);
  rt->ps[p->id] = NULL;
  rt->nattached--;
  if (__atomic_load_n(&p->stuck, __ATOMIC_RELAXED)) rt->nstuck--;
  __atomic_store_n(&p->stuck, 0, __ATOMIC_RELAXED);
  /* Queued tasks are not this processor's: somebody else runs them. */
  uv_mutex_lock(&p->tqlock);
  for (; p->tqlen > 0; p->tqlen--) {
    lg_task_t *q = p->tq[p->tqhead];
    p->tqhead = (p->tqhead + 1) % p->tqcap;
    q->next = NULL;
    if (rt->gqlast != NULL) rt->gqlast->next = q;
    else rt->gq = q;
    rt->gqlast = q;
    __atomic_add_fetch(&rt->ngq, 1, __ATOMIC_RELAXED);
  }
  uv_mutex_unlock(&p->tqlock);
  uv_mutex_unlock(&rt->lock);
  while ((t = p->intasks) != NULL) {
    p->intasks = t->next;
    lg_blob_free(t->blob);
    lg__free(t);
  }
  p->rt = NULL;
  uv_close((uv_handle_t *)&p->wake, NULL);
  uv_run(&p->loop, UV_RUN_NOWAIT);
  uv_mutex_destroy(&p->inlock);
  uv_mutex_destroy(&p->tqlock);
  lg__free(p->tq);
  p->tq = NULL;
}

void lg_p_wake(lg_p_t *p) {
  uv_async_send(&p->wake);
}

/* After putting something in `p`'s inbox: interrupt its loop only if it
 * sleeps there. A running or spinning processor looks at its inbox
 * anyway, and uv_async_send costs a write(2) whenever the last nudge was
 * consumed. The caller stored inboxn sequentially consistent; lg_p_poll
 * stores idle so and then looks at the inbox once more: one of the two
 * sees the other. */
static void nudge(lg_p_t *p) {
  if (__atomic_load_n(&p->idle, __ATOMIC_SEQ_CST)) uv_async_send(&p->wake);
}

/* `p` can be woken now: it no longer counts as stuck. */
void lg__unstick(lg_p_t *p) {
  lg_rt_t *rt = p->rt;
  uv_mutex_lock(&rt->lock);
  if (__atomic_load_n(&p->stuck, __ATOMIC_RELAXED)) {
    __atomic_store_n(&p->stuck, 0, __ATOMIC_RELAXED);
    rt->nstuck--;
  }
  uv_mutex_unlock(&rt->lock);
}

/* Wake one idle processor other than `p` to take a task (Go's wakep). */
static void wake_idle(lg_rt_t *rt, lg_p_t *p) {
  int i;
  uv_mutex_lock(&rt->lock);
  for (i = 1; i < rt->nprocs; i++) {  /* P0 takes tasks only as it waits */
    lg_p_t *q = rt->ps[i];
    int one = 1;
    if (q != NULL && q != p &&
        __atomic_compare_exchange_n(&q->idle, &one, 0, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_RELAXED)) {
      if (__atomic_load_n(&q->stuck, __ATOMIC_RELAXED)) {
        __atomic_store_n(&q->stuck, 0, __ATOMIC_RELAXED);
        rt->nstuck--;
      }
      uv_async_send(&q->wake);
      break;
    }
  }
  uv_mutex_unlock(&rt->lock);
}

/* ------------------------------------------------------------------ tasks */

static lg_task_t *task_new(lg_blob_t *blob) {
  lg_task_t *t = lg__malloc(sizeof *t);
  if (t != NULL) {
    t->next = NULL;
    t->blob = blob;
  }
  return t;
}

int lg_task_push(lg_p_t *p, lg_blob_t *blob) {
  lg_rt_t *rt = p->rt;
  lg_task_t *t = task_new(blob);
  if (t == NULL) return LG_ENOMEM;
  uv_mutex_lock(&p->tqlock);
  if (p->tqlen == p->tqcap) {
    /* Full: half of it, and this one, go to the global queue. */
    lg_task_t *first = NULL, *last = NULL;
    size_t i, n = p->tqlen / 2;
    for (i = 0; i < n; i++) {
      lg_task_t *q = p->tq[p->tqhead];
      p->tqhead = (p->tqhead + 1) % p->tqcap;
      q->next = NULL;
      if (last != NULL) last->next = q;
      else first = q;
      last = q;
    }
    p->tqlen -= n;
    uv_mutex_unlock(&p->tqlock);
    last->next = t;
    uv_mutex_lock(&rt->lock);
    if (rt->gqlast != NULL) rt->gqlast->next = first;
    else rt->gq = first;
    rt->gqlast = t;
    __atomic_add_fetch(&rt->ngq, n + 1, __ATOMIC_RELAXED);
    uv_mutex_unlock(&rt->lock);
  } else {
    p->tq[(p->tqhead + p->tqlen) % p->tqcap] = t;
    p->tqlen++;
    uv_mutex_unlock(&p->tqlock);
  }
  wake_idle(rt, p);
  return 0;
}

int lg_task_pin(lg_p_t *p, lg_blob_t *blob) {
  lg_task_t *t = task_new(blob), **pp;
  int stuck;
  if (t == NULL) return LG_ENOMEM;
  uv_mutex_lock(&p->inlock);
  for (pp = &p->intasks; *pp != NULL; pp = &(*pp)->next) {}
  *pp = t;
  __atomic_store_n(&p->inboxn, 1, __ATOMIC_SEQ_CST);
  stuck = __atomic_load_n(&p->stuck, __ATOMIC_RELAXED);
  uv_mutex_unlock(&p->inlock);
  if (stuck) lg__unstick(p);
  nudge(p);
  return 0;
}

static lg_task_t *tq_take(lg_p_t *p) {
  lg_task_t *t = NULL;
  uv_mutex_lock(&p->tqlock);
  if (p->tqlen > 0) {
    t = p->tq[p->tqhead];
    p->tqhead = (p->tqhead + 1) % p->tqcap;
    p->tqlen--;
  }
  uv_mutex_unlock(&p->tqlock);
  return t;
}

/* Take half of `victim`'s queue (rounded up): the first one is returned,
 * the rest go into `p`'s own queue. */
static lg_task_t *steal(lg_p_t *p, lg_p_t *victim) {
  lg_task_t *got[LG_TQCAP / 2 + 1];
  size_t n, i;
  uv_mutex_lock(&victim->tqlock);
  n = (victim->tqlen + 1) / 2;
  for (i = 0; i < n; i++) {
    got[i] = victim->tq[victim->tqhead];
    victim->tqhead = (victim->tqhead + 1) % victim->tqcap;
  }
  victim->tqlen -= n;
  uv_mutex_unlock(&victim->tqlock);
  if (n == 0) return NULL;
  uv_mutex_lock(&p->tqlock);
  /* Our own queue was empty when we went stealing; only we add to it,
   * so half of a queue of the same size fits. */
  for (i = 1; i < n; i++) {
    p->tq[(p->tqhead + p->tqlen) % p->tqcap] = got[i];
    p->tqlen++;
  }
  uv_mutex_unlock(&p->tqlock);
  p->stats.steals += n;
  return got[0];
}

lg_blob_t *lg_task_next(lg_p_t *p, int stealing) {
  lg_rt_t *rt = p->rt;
  lg_task_t *t = NULL;
  lg_blob_t *b;
  int i, n, start;
  if (rt == NULL) return NULL;
  if (p->intasks != NULL) {
    uv_mutex_lock(&p->inlock);
    if ((t = p->intasks) != NULL) p->intasks = t->next;
    uv_mutex_unlock(&p->inlock);
  }
  if (t == NULL) t = tq_take(p);
  /* Another processor's queue before the global one: the global queue
   * holds a busy processor's overflow, which that processor drains once
   * its own queue is empty; thieves spread the work out sooner, half a
   * queue at a time. */
  if (t == NULL && stealing) {
    /* Victims from a random start, so thieves spread out. */
    n = __atomic_load_n(&rt->nprocs, __ATOMIC_ACQUIRE);
    start = n > 0 ? (int)(lg_p_rand(p) % (uint64_t)n) : 0;
    /* Under rt->lock, so a victim cannot detach mid-steal. */
    uv_mutex_lock(&rt->lock);
    for (i = 0; i < n && t == NULL; i++) {
      lg_p_t *v = rt->ps[(start + i) % n];
      if (v != NULL && v != p) t = steal(p, v);
    }
    uv_mutex_unlock(&rt->lock);
  }
  if (t == NULL && __atomic_load_n(&rt->ngq, __ATOMIC_RELAXED) > 0) {
    uv_mutex_lock(&rt->lock);
    if ((t = rt->gq) != NULL) {
      rt->gq = t->next;
      if (rt->gq == NULL) rt->gqlast = NULL;
      __atomic_sub_fetch(&rt->ngq, 1, __ATOMIC_RELAXED);
    }
    uv_mutex_unlock(&rt->lock);
  }
  if (t == NULL) return NULL;
  b = t->blob;
  lg__free(t);
  p->stats.tasks++;
  return b;
}

size_t lg_rt_ntasks(lg_rt_t *rt) {
  size_t n;
  int i;
  uv_mutex_lock(&rt->lock);
  n = rt->ngq;
  for (i = 0; i < rt->nprocs; i++) {
    lg_p_t *p = rt->ps[i];
    if (p == NULL) continue;
    uv_mutex_lock(&p->tqlock);
    n += p->tqlen;
    uv_mutex_unlock(&p->tqlock);
  }
  uv_mutex_unlock(&rt->lock);
  return n;
}

/* ---------------------------------------------------------------- inboxes */

/* Blocking polls that spin after the last wake-up from another
 * processor (see spin() in sched.c). */
#define SPINHINT 64

void lg_ready_any(lg_g_t *g, int next) {
  lg_p_t *p = g->p;
  int stuck;
  if (p == self) {
    lg_ready(p, g, next);
    return;
  }
  g->inext = NULL;
  uv_mutex_lock(&p->inlock);
  if (p->inboxlast != NULL) p->inboxlast->inext = g;
  else p->inbox = g;
  p->inboxlast = g;
  __atomic_store_n(&p->inboxn, 1, __ATOMIC_SEQ_CST);
  stuck = __atomic_load_n(&p->stuck, __ATOMIC_RELAXED);
  uv_mutex_unlock(&p->inlock);
  if (stuck) lg__unstick(p);
  nudge(p);
}

size_t lg_p_drain(lg_p_t *p) {
  lg_g_t *g, *next;
  size_t n = 0;
  if (!__atomic_load_n(&p->inboxn, __ATOMIC_ACQUIRE)) return 0;
  uv_mutex_lock(&p->inlock);
  g = p->inbox;
  p->inbox = p->inboxlast = NULL;
  __atomic_store_n(&p->inboxn, p->intasks != NULL, __ATOMIC_RELAXED);
  uv_mutex_unlock(&p->inlock);
  for (; g != NULL; g = next) {
    next = g->inext;
    g->inext = NULL;
    lg_ready(p, g, 0);
    n++;
  }
  p->stats.inbox += n;
  if (n > 0) p->spinhint = SPINHINT;
  return n;
}

/* Before blocking with nothing of its own that could wake it: count `p`
 * as stuck, unless its inbox has something (a waker pushed it between
 * our checks). Returns 1 if stuck. */
int lg__stick(lg_p_t *p) {
  lg_rt_t *rt = p->rt;
  int stuck = 0;
  uv_mutex_lock(&p->inlock);
  if (p->inbox == NULL && p->intasks == NULL) {
    uv_mutex_lock(&rt->lock);
    if (!__atomic_load_n(&p->stuck, __ATOMIC_RELAXED)) {
      __atomic_store_n(&p->stuck, 1, __ATOMIC_RELAXED);
      rt->nstuck++;
    }
    uv_mutex_unlock(&rt->lock);
    stuck = 1;
  }
  uv_mutex_unlock(&p->inlock);
  return stuck;
}

/* Could anything ever wake P0, which is stuck? Only a processor that is
 * not stuck, or a task waiting to run. */
int lg__deadlocked(lg_p_t *p) {
  lg_rt_t *rt = p->rt;
  int dead, i;
  uv_mutex_lock(&rt->lock);
  dead = rt->nstuck == rt->nattached && rt->ngq == 0;
  for (i = 0; dead && i < rt->nprocs; i++) {
    lg_p_t *q = rt->ps[i];
    if (q == NULL) continue;
    uv_mutex_lock(&q->tqlock);
    dead = q->tqlen == 0;
    uv_mutex_unlock(&q->tqlock);
  }
  uv_mutex_unlock(&rt->lock);
  return dead;
}

/* When a processor gets stuck and everybody else is too, P0 (blocked in
 * its own wait) must look again: it may be the deadlock. */
void lg__stuck_notify(lg_p_t *p) {
  lg_rt_t *rt = p->rt;
  lg_p_t *p0;
  int all;
  uv_mutex_lock(&rt->lock);
  all = rt->nstuck == rt->nattached;
  p0 = rt->ps[0];
  if (all && p0 != NULL && p0 != p) uv_async_send(&p0->wake);
  uv_mutex_unlock(&rt->lock);
}
