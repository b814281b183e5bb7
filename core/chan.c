/* Channels: a ring buffer, FIFO queues of waiting senders and receivers
 * (Go's hchan), and a closed flag. A local channel belongs to one P and
 * takes no lock. A shared one (lg_chan_newshared) belongs to no P: every
 * operation holds its lock, and its waiters may sit on any P (they are
 * woken through lg_ready_any). Invariants, as Go's: at most one of
 * sendq/recvq is non-empty; a buffered channel holding values has no
 * waiting receiver, one with room has no waiting sender. */
#include "internal.h"

/* lua/lugo/ffi.lua mirrors everything from `shared` to `sendq` to send
 * and receive on a local channel's ring without a call: keep that prefix
 * in one piece, and lg_chan_layout's list in step with it. */
struct lg_chan_s {
  lg_shared_t hdr;        /* refs: atomic only when shared */
  int shared;
  int closed;
  size_t cap;             /* capacity promised to the user */
  size_t count, head;
  size_t bufcap;          /* slots allocated so far: the ring grows on
                             demand, so lugo.chan(1e9) costs nothing
                             until it fills */
  lg_value_t *buf;
  lg_waitq_t recvq, sendq;
  lg_p_t *p;              /* NULL when shared */
  uv_mutex_t lock;        /* shared only */
};

#define LOCK(c) lg__lock((c)->recvq.lock)
#define UNLOCK(c) lg__unlock((c)->recvq.lock)

static void destroy(lg_shared_t *o);

/* The ring index `i` slots past the head (i < 2 * bufcap): a compare
 * where `%` would divide on every buffered send and receive. */
static inline size_t ringpos(const lg_chan_t *c, size_t i) {
  i += c->head;
  return i < c->bufcap ? i : i - c->bufcap;
}

static lg_chan_t *chan_new(lg_p_t *p, size_t cap) {
  lg_chan_t *c = lg__malloc(sizeof *c);
  if (c == NULL) return NULL;
  lg_shared_init(&c->hdr, LG_SH_CHAN, destroy);
  c->p = p;
  c->shared = p == NULL;
  c->closed = 0;
  c->cap = cap;
  c->count = c->head = c->bufcap = 0;
  c->buf = NULL;
  c->recvq.first = c->recvq.last = NULL;
  c->sendq.first = c->sendq.last = NULL;
  c->recvq.onleave = c->sendq.onleave = NULL;
  c->recvq.lock = c->sendq.lock = NULL;
  c->recvq.owner = c->sendq.owner = NULL;
  return c;
}

lg_chan_t *lg_chan_new(lg_p_t *p, size_t cap) {
  lg_chan_t *c = chan_new(p, cap);
  if (c != NULL) p->nchans++;
  return c;
}

lg_chan_t *lg_chan_newshared(size_t cap) {
  lg_chan_t *c = chan_new(NULL, cap);
  if (c != NULL && uv_mutex_init(&c->lock) != 0) {
    lg__free(c);
    return NULL;
  }
  if (c != NULL) {
    c->recvq.lock = c->sendq.lock = &c->lock;
    c->recvq.owner = c->sendq.owner = &c->hdr;
  }
  return c;
}

int lg_chan_layout(size_t *off, int n) {
  const size_t all[] = {
    offsetof(lg_chan_t, shared), offsetof(lg_chan_t, closed),
    offsetof(lg_chan_t, cap), offsetof(lg_chan_t, count),
    offsetof(lg_chan_t, head), offsetof(lg_chan_t, bufcap),
    offsetof(lg_chan_t, buf), offsetof(lg_chan_t, recvq.first),
    offsetof(lg_chan_t, sendq.first), sizeof(lg_value_t)
  };
  const int nall = (int)(sizeof all / sizeof all[0]);
  int i;
  for (i = 0; i < n && i < nall; i++) off[i] = all[i];
  return nall;
}

int lg_chan_isshared(const lg_chan_t *c) {
  return c->shared;
}

void lg_chan_retain(lg_chan_t *c) {
  if (c->shared) lg_shared_retain(&c->hdr);
  else c->hdr.refs++;
}

void lg_chan_release(lg_chan_t *c) {
  if (c->shared) lg_shared_release(&c->hdr);
  else if (--c->hdr.refs == 0) destroy(&c->hdr);
}

static void destroy(lg_shared_t *o) {
  lg_chan_t *c = (lg_chan_t *)o;
  lg_p_t *p = c->p;
  /* Nobody can reach the channel: a local one's waiters are garbage
   * too (their stacks held it), only unlink them; a shared one has none
   * (each holds a reference). A shared channel's values need no
   * processor to free them (blobs). */
  while (lg__dequeue(&c->recvq) != NULL) {}
  while (lg__dequeue(&c->sendq) != NULL) {}
  for (; c->count > 0; c->count--) {
    lg__vfree(p, &c->buf[c->head]);
    c->head = ringpos(c, 1);
  }
  lg__free(c->buf);
  if (c->shared) uv_mutex_destroy(&c->lock);
  else p->nchans--;
  lg__free(c);
}

/* For a shared channel, a snapshot, as Go's len(ch). */
size_t lg_chan_len(const lg_chan_t *c) {
  size_t n;
  LOCK(c);
  n = c->count;
  UNLOCK(c);
  return n;
}

size_t lg_chan_cap(const lg_chan_t *c) {
  return c->cap;
}

int lg_chan_closed(const lg_chan_t *c) {
  int closed;
  LOCK(c);
  closed = c->closed;
  UNLOCK(c);
  return closed;
}

/* Double the ring (up to cap), unrolling it to start at 0. */
static int grow(lg_chan_t *c) {
  size_t n = c->bufcap ? c->bufcap * 2 : 8, i;
  lg_value_t *buf;
  if (n > c->cap || n < c->bufcap) n = c->cap;
  if (n > SIZE_MAX / sizeof *buf) return LG_ENOMEM;
  if ((buf = lg__malloc(n * sizeof *buf)) == NULL) return LG_ENOMEM;
  for (i = 0; i < c->count; i++)
    buf[i] = c->buf[ringpos(c, i)];
  lg__free(c->buf);
  c->buf = buf;
  c->bufcap = n;
  c->head = 0;
  return 0;
}

/* The unlocked tries, inlined into the calls below, which run one on
 * every operation; select has them as lg__chan_trysend/tryrecv. */
static inline int trysend(lg_chan_t *c, lg_value_t *v) {
  lg_sudog_t *s;
  if (c->closed) return LG_ECLOSED;
  /* An empty queue is the common case on a buffered channel: spare it
   * the call. */
  if (c->recvq.first != NULL && (s = lg__dequeue(&c->recvq)) != NULL) {
    /* Hand the value straight to the receiver, skipping the buffer. */
    lg_g_t *g = s->g;
    g->val = *v;
    g->ok = 1;
    g->sel = s->caseidx;
    g->rc = 0;
    lg__wake(c->p, s, 1);
    return 0;
  }
  if (c->count < c->cap) {
    if (c->count == c->bufcap && grow(c) != 0) return LG_ENOMEM;
    c->buf[ringpos(c, c->count)] = *v;
    c->count++;
    return 0;
  }
  return LG_EAGAIN;
}

static inline int tryrecv(lg_chan_t *c, lg_value_t *v) {
  lg_sudog_t *s;
  if (c->sendq.first != NULL && (s = lg__dequeue(&c->sendq)) != NULL) {
    lg_g_t *g = s->g;
    if (c->count == 0) {
      *v = s->val;
    } else {
      /* Full buffer with a waiting sender: take the head and put the
       * sender's value at the tail, which is the same slot, keeping FIFO
       * order. */
      *v = c->buf[c->head];
      c->buf[c->head] = s->val;
      c->head = ringpos(c, 1);
    }
    s->val.type = LG_VNIL;
    g->ok = -1;
    g->sel = s->caseidx;
    g->rc = 0;
    lg__wake(c->p, s, 1);
    return 0;
  }
  if (c->count > 0) {
    *v = c->buf[c->head];
    c->head = ringpos(c, 1);
    c->count--;
    return 0;
  }
  v->type = LG_VNIL;
  return c->closed ? LG_ECLOSED : LG_EAGAIN;
}

int lg__chan_trysend(lg_chan_t *c, lg_value_t *v) {
  return trysend(c, v);
}

int lg__chan_tryrecv(lg_chan_t *c, lg_value_t *v) {
  return tryrecv(c, v);
}

/* A shared channel's waker may run on any processor; c->p is NULL then
 * and lg__wake does not use it (every waiter of a shared channel is
 * xwait). Below, the public calls lock a shared channel around the
 * unlocked tries, which select calls with the lock held. */

int lg_chan_trysend(lg_chan_t *c, lg_value_t *v) {
  int rc;
  LOCK(c);
  rc = trysend(c, v);
  UNLOCK(c);
  return rc;
}

int lg_chan_tryrecv(lg_chan_t *c, lg_value_t *v) {
  int rc;
  LOCK(c);
  rc = tryrecv(c, v);
  UNLOCK(c);
  return rc;
}

int lg_chan_send(lg_chan_t *c, lg_g_t *g, lg_value_t *v) {
  lg_sudog_t *s;
  int rc;
  LOCK(c);
  if ((rc = trysend(c, v)) == LG_EAGAIN) {
    if ((s = lg__enqueue(g->p, g, &c->sendq)) == NULL) {
      rc = LG_ENOMEM;
    } else {
      s->val = *v;
      lg_park(g->p, g, LG_WSEND);
      rc = LG_PARKED;
    }
  }
  UNLOCK(c);
  return rc;
}

int lg_chan_recv(lg_chan_t *c, lg_g_t *g, lg_value_t *v) {
  lg_sudog_t *s;
  int rc;
  LOCK(c);
  if ((rc = tryrecv(c, v)) == LG_EAGAIN) {
    if ((s = lg__enqueue(g->p, g, &c->recvq)) == NULL) {
      rc = LG_ENOMEM;
    } else {
      lg_park(g->p, g, LG_WRECV);
      rc = LG_PARKED;
    }
  }
  UNLOCK(c);
  return rc;
}

int lg_chan_close(lg_chan_t *c) {
  lg_sudog_t *s;
  LOCK(c);
  if (c->closed) {
    UNLOCK(c);
    return LG_ECLOSED;
  }
  c->closed = 1;
  /* Wake in queue order, each to the back of the run queue. */
  while ((s = lg__dequeue(&c->recvq)) != NULL) {
    lg_g_t *g = s->g;
    g->val.type = LG_VNIL;
    g->ok = 0;
    g->sel = s->caseidx;
    g->rc = 0;
    lg__wake(c->p, s, 0);
  }
  while ((s = lg__dequeue(&c->sendq)) != NULL) {
    lg_g_t *g = s->g;
    g->ok = -1;
    g->sel = s->caseidx;
    g->rc = LG_ECLOSED;
    lg__wake(c->p, s, 0);  /* its value goes back to the host */
  }
  UNLOCK(c);
  return 0;
}

/* For select: enqueue `g` on `c` for direction `dir` as case `idx`. */
lg_sudog_t *lg__chan_enqueue(lg_chan_t *c, lg_g_t *g, int dir, int idx) {
  lg_sudog_t *s = lg__enqueue(g->p, g, dir == LG_SELSEND ? &c->sendq
                                                          : &c->recvq);
  if (s != NULL) s->caseidx = idx;
  return s;
}

/* For select: its lock, NULL for a local channel. */
uv_mutex_t *lg__chan_lock(lg_chan_t *c) {
  return c->recvq.lock;
}

/* For select's first pass: would this operation complete now? (A queue
 * may hold only stale waiters: the try then says LG_EAGAIN.) */
int lg__chan_ready(const lg_chan_t *c, int dir) {
  if (dir == LG_SELSEND)
    return c->closed || c->recvq.first != NULL || c->count < c->cap;
  return c->sendq.first != NULL || c->count > 0 || c->closed;
}
