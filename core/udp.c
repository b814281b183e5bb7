/* UDP sockets on the P's loop. Datagrams that arrive while nobody waits
 * queue up to a bound (then the newest are dropped, as a full socket
 * buffer would); recvfrom takes the oldest or parks. */
#include <stddef.h>
#include <string.h>
#include "internal.h"

#define QUEUE_MAX 256

typedef struct dgram_s {
  struct dgram_s *next;
  struct sockaddr_storage from;
  size_t len;
  char data[];
} dgram_t;

struct lg_udp_s {
  uv_udp_t h;
  lg_p_t *p;
  int refs;             /* the host's handle, libuv's until closed, sends */
  int closed;
  int receiving;
  int64_t timeout;
  dgram_t *first, *last;
  size_t queued;
  lg_waitq_t readq, writeq;
  uint64_t nsends;
  char rbuf[65536];     /* libuv receives into this, we copy out */
};

typedef struct sreq_s {
  uv_udp_send_t req;
  lg_udp_t *u;
  uint64_t seq;
  char data[];
} sreq_t;

static void unref(lg_udp_t *u) {
  dgram_t *d;
  if (--u->refs > 0) return;
  while ((d = u->first) != NULL) {
    u->first = d->next;
    lg__free(d);
  }
  lg__free(u);
}

static void close_cb(uv_handle_t *h) {
  unref((lg_udp_t *)h);
}

int lg_udp_new(lg_p_t *p, int family, lg_udp_t **out) {
  lg_udp_t *u = lg__malloc(sizeof *u);
  int rc;
  if (u == NULL) return LG_ENOMEM;
  memset(u, 0, offsetof(lg_udp_t, rbuf));
  if ((rc = uv_udp_init_ex(&p->loop, &u->h, (unsigned)family)) != 0) {
    lg__free(u);
    return rc;
  }
  u->p = p;
  u->refs = 2;
  u->timeout = -1;
  *out = u;
  return 0;
}

int lg_udp_bind(lg_udp_t *u, const struct sockaddr *addr) {
  return uv_udp_bind(&u->h, addr, 0);
}

void lg_udp_settimeout(lg_udp_t *u, int64_t ns) {
  u->timeout = ns;
}

void lg_udp_close(lg_udp_t *u) {
  if (u->closed) return;
  u->closed = 1;
  while (u->readq.first != NULL) lg__wake_io(u->p, &u->readq, LG_ECLOSED);
  while (u->writeq.first != NULL) lg__wake_io(u->p, &u->writeq, LG_ECLOSED);
  uv_close((uv_handle_t *)&u->h, close_cb);
}

void lg_udp_release(lg_udp_t *u) {
  lg_udp_close(u);
  unref(u);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  lg_udp_t *u = (lg_udp_t *)h;
  (void)hint;
  b->base = u->rbuf;
  b->len = sizeof u->rbuf;
}

static void recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *b,
                    const struct sockaddr *from, unsigned flags) {
  lg_udp_t *u = (lg_udp_t *)h;
  dgram_t *d;
  (void)b;
  (void)flags;
  if (n < 0 || from == NULL || u->queued >= QUEUE_MAX) return;
  if ((d = lg__malloc(sizeof *d + (size_t)n)) == NULL) return;
  d->next = NULL;
  d->len = (size_t)n;
  memcpy(d->data, u->rbuf, (size_t)n);
  memset(&d->from, 0, sizeof d->from);
  memcpy(&d->from, from, from->sa_family == AF_INET6
                             ? sizeof(struct sockaddr_in6)
                             : sizeof(struct sockaddr_in));
  if (u->last != NULL) u->last->next = d;
  else u->first = d;
  u->last = d;
  u->queued++;
  if (u->readq.first != NULL) lg__wake_io(u->p, &u->readq, 0);
}

int lg_udp_recv(lg_udp_t *u, lg_g_t *g, const char **data, size_t *len,
                struct sockaddr_storage *from) {
  int rc;
  if (u->closed) return LG_ECLOSED;
  if (u->first != NULL && u->readq.first == NULL) {
    *data = u->first->data;
    *len = u->first->len;
    *from = u->first->from;
    return 0;
  }
  if (!u->receiving) {
    if ((rc = uv_udp_recv_start(&u->h, alloc_cb, recv_cb)) != 0) return rc;
    u->receiving = 1;
  }
  return lg__wait_io(u->p, g, &u->readq, u->timeout, 0);
}

void lg_udp_consume(lg_udp_t *u) {
  dgram_t *d = u->first;
  if (d == NULL) return;
  if ((u->first = d->next) == NULL) u->last = NULL;
  u->queued--;
  lg__free(d);
  if (u->first != NULL && u->readq.first != NULL)
    lg__wake_io(u->p, &u->readq, 0);
}

static void send_cb(uv_udp_send_t *req, int status) {
  sreq_t *s = (sreq_t *)req;
  lg_udp_t *u = s->u;
  if (!u->closed && u->writeq.first != NULL &&
      (uint64_t)u->writeq.first->n == s->seq)
    lg__wake_io(u->p, &u->writeq, status);
  lg__free(s);
  unref(u);
}

int lg_udp_send(lg_udp_t *u, lg_g_t *g, const struct sockaddr *to,
                const char *data, size_t len) {
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  sreq_t *s;
  int rc;
  if (u->closed) return LG_ECLOSED;
  rc = uv_udp_try_send(&u->h, &b, 1, to);
  if (rc >= 0) return 0;
  if (rc != UV_EAGAIN) return rc;
  if ((s = lg__malloc(sizeof *s + len)) == NULL) return LG_ENOMEM;
  memcpy(s->data, data, len);
  s->u = u;
  s->seq = ++u->nsends;
  b = uv_buf_init(s->data, (unsigned)len);
  if ((rc = uv_udp_send(&s->req, &u->h, &b, 1, to, send_cb)) != 0) {
    lg__free(s);
    return rc;
  }
  u->refs++;
  return lg__wait_io(u->p, g, &u->writeq, u->timeout, (int64_t)s->seq);
}

int lg_udp_addr(lg_udp_t *u, struct sockaddr_storage *ss) {
  int n = sizeof *ss;
  return uv_udp_getsockname(&u->h, (struct sockaddr *)ss, &n);
}
