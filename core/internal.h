/* Shared inside core/ only: wait queues, sudogs and wake-ups. */
#ifndef LUGO_INTERNAL_H
#define LUGO_INTERNAL_H

#include "lugo.h"

/* Queue `g` on `q` with a fresh sudog (from the P's cache), chained into
 * g->waiting. NULL without memory. */
lg_sudog_t *lg__enqueue(lg_p_t *p, lg_g_t *g, lg_waitq_t *q);
/* Take the first sudog off `q`, or NULL. It stays chained to its G.
 * A sudog whose goroutine another waker claimed first (a select woken
 * elsewhere) is skipped: it is stale, its owner recycles it. */
lg_sudog_t *lg__dequeue(lg_waitq_t *q);
/* Wake the goroutine of `s`, which its waker has taken off its queue and
 * whose results it has filled in: take the G's other sudogs off their
 * queues (a select completes once), recycle them all, make it runnable
 * (`next`: in runnext). */
void lg__wake(lg_p_t *p, lg_sudog_t *s, int next);
/* Release a value nobody will take. */
void lg__vfree(lg_p_t *p, lg_value_t *v);

/* Queue `g` on `q` for I/O (sudog n = `n`) with a timeout in ns (< 0:
 * none): LG_PARKED or LG_ENOMEM. The waker calls lg__wake_io, which
 * wakes the first waiter of `q` with g->rc = rc; a timeout wakes it with
 * LG_ETIMEDOUT. */
int lg__wait_io(lg_p_t *p, lg_g_t *g, lg_waitq_t *q, int64_t timeout,
                int64_t n);
void lg__wake_io(lg_p_t *p, lg_waitq_t *q, int rc);

/* A goroutine's own timer (lugo.sleep, I/O timeouts): start it to call
 * fn(t, now) with t->arg = g at `when`, making it on first use (0 or
 * LG_ENOMEM); stop it if it is pending. lg_p_close frees it with the
 * G struct. */
int lg__gtimer_start(lg_g_t *g, lg_timer_fn fn, int64_t when);
void lg__gtimer_stop(lg_g_t *g);

/* Processors together (proc.c). */
void lg__setself(lg_p_t *p);
int lg__stick(lg_p_t *p);
void lg__unstick(lg_p_t *p);
int lg__deadlocked(lg_p_t *p);
void lg__stuck_notify(lg_p_t *p);

/* A spinning thread's breath: lets the other hyperthread run and saves
 * power, as Go's procyield does. */
static inline void lg__pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* A shared object's lock, or nothing for a local one. Held for a few
 * hundred instructions at most, so a contended lock is tried again a
 * while before the futex sleep (which costs two system calls and a
 * wake-up far longer than the wait). */
static inline void lg__lock(uv_mutex_t *m) {
  int i;
  if (m == NULL) return;
  for (i = 0; i < 64; i++) {
    if (uv_mutex_trylock(m) == 0) return;
    lg__pause();
  }
  uv_mutex_lock(m);
}
static inline void lg__unlock(uv_mutex_t *m) {
  if (m != NULL) uv_mutex_unlock(m);
}

/* Select's view of a channel. */
lg_sudog_t *lg__chan_enqueue(lg_chan_t *c, lg_g_t *g, int dir, int idx);
int lg__chan_ready(const lg_chan_t *c, int dir);
uv_mutex_t *lg__chan_lock(lg_chan_t *c);
/* lg_chan_trysend/tryrecv with the channel's lock held. */
int lg__chan_trysend(lg_chan_t *c, lg_value_t *v);
int lg__chan_tryrecv(lg_chan_t *c, lg_value_t *v);

#endif
