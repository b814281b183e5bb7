/* TCP streams and listeners on the P's loop (the netpoller). Every
 * operation either completes at once or queues the goroutine and returns
 * LG_PARKED; a libuv callback wakes it and it tries again. Reads go into
 * the stream's own buffer, filled while it is below a high-water mark, so
 * a receive that finds its line or its byte count there never parks. */
#include <assert.h>
#include <string.h>
#include "internal.h"

/* Read ahead up to this much; stop reading (TCP pushes back) above it. */
#define HIGH_WATER (256 * 1024)
#define READ_CHUNK (64 * 1024)

struct lg_tcp_s {
  union {                 /* first: a handle pointer is the stream's */
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_tty_t tty;         /* the terminal, for the REPL */
    uv_pipe_t pipe;       /* stdin redirected */
  } h;
  lg_p_t *p;
  int refs;             /* the host's handle, and libuv's until closed */
  int closed;           /* closed by us: every call says LG_ECLOSED */
  int eof;              /* the peer finished sending */
  int err;              /* a read error (libuv code), 0 if none */
  int reading;          /* uv_read_start is in effect */
  int listening;
  int pending;          /* connections libuv holds for accept */
  int64_t timeout;      /* per operation, ns; < 0: none */
  char *buf;            /* unread bytes are buf[head, head + len) */
  size_t head, len, cap;
  lg_waitq_t readq;     /* receive, accept and connect waiters */
  lg_waitq_t writeq;    /* send waiters, n = their write's number */
  uint64_t nwrites, ndone;  /* writes issued, writes completed */
  uv_connect_t creq;
};

/* A write in flight owns a copy of its bytes. */
typedef struct wreq_s {
  uv_write_t req;
  lg_tcp_t *t;
  uint64_t seq;
  char data[];
} wreq_t;

static void unref(lg_tcp_t *t) {
  if (--t->refs > 0) return;
  lg__free(t->buf);
  lg__free(t);
}

static void close_cb(uv_handle_t *h) {
  unref((lg_tcp_t *)h);
}

/* A zeroed stream for `p`, before its handle is initialized. */
static lg_tcp_t *alloc_stream(lg_p_t *p) {
  lg_tcp_t *t = lg__malloc(sizeof *t);
  if (t == NULL) return NULL;
  memset(t, 0, sizeof *t);
  t->p = p;
  t->refs = 2;
  t->timeout = -1;
  return t;
}

int lg_tcp_new(lg_p_t *p, int family, lg_tcp_t **out) {
  lg_tcp_t *t = alloc_stream(p);
  int rc;
  if (t == NULL) return LG_ENOMEM;
  if ((rc = uv_tcp_init_ex(&p->loop, &t->h.tcp, (unsigned)family)) != 0) {
    lg__free(t);
    return rc;
  }
  *out = t;
  return 0;
}

int lg_tcp_stdin(lg_p_t *p, lg_tcp_t **out) {
  lg_tcp_t *t = alloc_stream(p);
  int rc;
  if (t == NULL) return LG_ENOMEM;
  if (uv_guess_handle(0) == UV_TTY) {
    rc = uv_tty_init(&p->loop, &t->h.tty, 0, 1);
  } else if ((rc = uv_pipe_init(&p->loop, &t->h.pipe, 0)) == 0 &&
             (rc = uv_pipe_open(&t->h.pipe, 0)) != 0) {
    t->refs = 1;  /* libuv's: close_cb frees it */
    uv_close(&t->h.handle, close_cb);
    return rc;
  }
  if (rc != 0) {
    lg__free(t);
    return rc;
  }
  *out = t;
  return 0;
}

void lg_tcp_settimeout(lg_tcp_t *t, int64_t ns) {
  t->timeout = ns;
}

static void wake_all(lg_tcp_t *t, lg_waitq_t *q, int rc) {
  while (q->first != NULL) lg__wake_io(t->p, q, rc);
}

void lg_tcp_close(lg_tcp_t *t) {
  if (t->closed) return;
  t->closed = 1;
  wake_all(t, &t->readq, LG_ECLOSED);
  wake_all(t, &t->writeq, LG_ECLOSED);
  uv_close(&t->h.handle, close_cb);
}

void lg_tcp_release(lg_tcp_t *t) {
  lg_tcp_close(t);
  unref(t);
}

/* ---------------------------------------------------------------- reads */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  lg_tcp_t *t = (lg_tcp_t *)h;
  (void)hint;
  if (t->head > 0 && t->head + t->len + READ_CHUNK > t->cap) {
    memmove(t->buf, t->buf + t->head, t->len);
    t->head = 0;
  }
  if (t->len + READ_CHUNK > t->cap) {
    size_t cap = t->len + READ_CHUNK;
    char *nb = lg__realloc(t->buf, cap);
    if (nb == NULL) {  /* libuv reports UV_ENOBUFS to read_cb */
      b->base = NULL;
      b->len = 0;
      return;
    }
    t->buf = nb;
    t->cap = cap;
  }
  b->base = t->buf + t->head + t->len;
  b->len = t->cap - t->head - t->len;
  if (b->len > HIGH_WATER) b->len = HIGH_WATER;  /* one read, bounded */
}

/* How many bytes a receive in `mode` could take now (*skip: and drop
 * after them, the line end), or -1 if not yet. */
static int64_t ready(lg_tcp_t *t, int mode, size_t n, size_t *skip) {
  const char *p = t->buf + t->head, *nl;
  *skip = 0;
  switch (mode) {
  case LG_TCP_LINE:
    if (t->len == 0 || (nl = memchr(p, '\n', t->len)) == NULL) return -1;
    *skip = 1;
    if (nl > p && nl[-1] == '\r') {
      nl--;
      *skip = 2;
    }
    return nl - p;
  case LG_TCP_BYTES:
    return t->len >= n ? (int64_t)n : -1;
  case LG_TCP_SOME:
    return t->len > 0 ? (int64_t)t->len : -1;
  default:  /* LG_TCP_ALL */
    return t->eof ? (int64_t)t->len : -1;
  }
}

static void read_stop(lg_tcp_t *t) {
  if (t->reading) uv_read_stop(&t->h.stream);
  t->reading = 0;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  lg_tcp_t *t = (lg_tcp_t *)s;
  size_t skip;
  (void)b;
  if (nread > 0) {
    t->len += (size_t)nread;
    /* Push back on the peer, unless a reader waits for more. */
    if (t->len >= HIGH_WATER && t->readq.first == NULL) read_stop(t);
  } else if (nread == UV_EOF) {
    t->eof = 1;
    read_stop(t);
  } else if (nread < 0) {
    t->err = (int)nread;
    read_stop(t);
  }
  /* Wake the first reader only when it can complete: a line or a count
   * arrives in many pieces, and each wake-up is a goroutine switch. */
  if (t->readq.first != NULL &&
      (t->eof || t->err ||
       ready(t, (int)t->readq.first->caseidx, (size_t)t->readq.first->n,
             &skip) >= 0))
    lg__wake_io(t->p, &t->readq, 0);
}

/* Read ahead while below the high-water mark; `need`: a reader waits,
 * so read regardless. */
static int read_start(lg_tcp_t *t, int need) {
  int rc;
  if (t->reading || t->eof || t->err || t->closed ||
      (t->len >= HIGH_WATER && !need))
    return 0;
  if ((rc = uv_read_start(&t->h.stream, alloc_cb, read_cb)) != 0)
    return rc;
  t->reading = 1;
  return 0;
}

int lg_tcp_read(lg_tcp_t *t, lg_g_t *g, int mode, size_t n,
                const char **data, size_t *len, size_t *skip) {
  int64_t k;
  int rc;
  if (t->closed) return LG_ECLOSED;
  if (t->readq.first != NULL) goto wait;  /* FIFO: others came first */
  if ((k = ready(t, mode, n, skip)) >= 0) {
    *data = t->buf + t->head;
    *len = (size_t)k;
    return 0;
  }
  if (t->eof || t->err) {
    /* What is left is partial: the caller reports it with the error. */
    *data = t->buf + t->head;
    *len = t->len;
    *skip = 0;
    return t->err ? t->err : LG_ECLOSED;
  }
  if ((rc = read_start(t, 1)) != 0) return rc;
wait:
  rc = lg__wait_io(t->p, g, &t->readq, t->timeout, (int64_t)n);
  if (rc == LG_PARKED) t->readq.last->caseidx = mode;
  return rc;
}

size_t lg_tcp_buffered(const lg_tcp_t *t, const char **data) {
  *data = t->buf + t->head;
  return t->len;
}

void lg_tcp_consume(lg_tcp_t *t, size_t n) {
  assert(n <= t->len);
  t->head += n;
  t->len -= n;
  if (t->len == 0) {
    t->head = 0;
    if (t->cap > 2 * HIGH_WATER) {  /* a big message is through: let go */
      lg__free(t->buf);
      t->buf = NULL;
      t->cap = 0;
    }
  }
  (void)read_start(t, 0);  /* below the mark again? errors show later */
  /* The next reader in line may be able to go now. */
  if (t->readq.first != NULL) lg__wake_io(t->p, &t->readq, 0);
}

/* --------------------------------------------------------------- writes */

static void write_cb(uv_write_t *req, int status) {
  wreq_t *w = (wreq_t *)req;
  lg_tcp_t *t = w->t;
  t->ndone = w->seq;
  /* Writes finish in order; the waiter of this one may have timed out
   * and left, so check it is the one at the head. */
  if (!t->closed && t->writeq.first != NULL &&
      (uint64_t)t->writeq.first->n == w->seq)
    lg__wake_io(t->p, &t->writeq, status);
  lg__free(w);
  unref(t);
}

int lg_tcp_write(lg_tcp_t *t, lg_g_t *g, const char *data, size_t len) {
  wreq_t *w;
  uv_buf_t b;
  int rc;
  if (t->closed) return LG_ECLOSED;
  if (t->nwrites == t->ndone) {
    /* Nothing queued: try the socket directly, as most sends fit. */
    b = uv_buf_init((char *)data, (unsigned)len);
    rc = uv_try_write(&t->h.stream, &b, 1);
    if (rc == (int)len) return 0;
    if (rc < 0 && rc != UV_EAGAIN) return rc;
    if (rc > 0) {
      data += rc;
      len -= (size_t)rc;
    }
  }
  if ((w = lg__malloc(sizeof *w + len)) == NULL) return LG_ENOMEM;
  memcpy(w->data, data, len);
  w->t = t;
  w->seq = ++t->nwrites;
  b = uv_buf_init(w->data, (unsigned)len);
  if ((rc = uv_write(&w->req, &t->h.stream, &b, 1, write_cb)) != 0) {
    t->nwrites--;
    lg__free(w);
    return rc;
  }
  t->refs++;  /* the write holds the stream until its callback */
  return lg__wait_io(t->p, g, &t->writeq, t->timeout, (int64_t)w->seq);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  lg_tcp_t *t = req->data;
  (void)status;
  lg__free(req);
  unref(t);
}

int lg_tcp_shutdown(lg_tcp_t *t) {
  uv_shutdown_t *req;
  int rc;
  if (t->closed) return LG_ECLOSED;
  if ((req = lg__malloc(sizeof *req)) == NULL) return LG_ENOMEM;
  req->data = t;
  if ((rc = uv_shutdown(req, &t->h.stream, shutdown_cb)) != 0) {
    lg__free(req);
    return rc;
  }
  t->refs++;
  return 0;
}

/* ------------------------------------------------------------- connect */

static void connect_cb(uv_connect_t *req, int status) {
  lg_tcp_t *t = req->data;
  if (status == 0) (void)read_start(t, 0);
  else if (t->err == 0) t->err = status;
  if (!t->closed && t->readq.first != NULL)
    lg__wake_io(t->p, &t->readq, status);
  unref(t);
}

int lg_tcp_connect(lg_tcp_t *t, lg_g_t *g, const struct sockaddr *addr) {
  int rc;
  t->creq.data = t;
  if ((rc = uv_tcp_connect(&t->creq, &t->h.tcp, addr, connect_cb)) != 0)
    return rc;
  t->refs++;  /* the request holds the stream until its callback */
  return lg__wait_io(t->p, g, &t->readq, t->timeout, 0);
}

int lg_tcp_error(const lg_tcp_t *t) {
  return t->closed ? LG_ECLOSED : t->err;
}

/* -------------------------------------------------------------- listen */

static void connection_cb(uv_stream_t *s, int status) {
  lg_tcp_t *t = (lg_tcp_t *)s;
  if (status < 0) t->err = status;
  else t->pending++;
  if (t->readq.first != NULL) lg__wake_io(t->p, &t->readq, 0);
}

int lg_tcp_listen(lg_tcp_t *t, const struct sockaddr *addr, int backlog,
                  int reuseport) {
  int rc;
  if (reuseport) {
    /* libuv before 1.49 has no flag for it: set the option on the socket,
     * which lg_tcp_new made already when given the address family. */
    uv_os_fd_t fd;
    int on = 1;
    if (uv_fileno(&t->h.handle, &fd) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
      return LG_EINVAL;
  }
  if ((rc = uv_tcp_bind(&t->h.tcp, addr, 0)) != 0) return rc;
  if ((rc = uv_listen(&t->h.stream, backlog, connection_cb)) != 0)
    return rc;
  t->listening = 1;
  return 0;
}

int lg_tcp_accept(lg_tcp_t *ln, lg_g_t *g, lg_tcp_t **out) {
  lg_tcp_t *c;
  int rc;
  if (ln->closed) return LG_ECLOSED;
  if (ln->pending == 0 || ln->readq.first != NULL) {
    if (ln->err) {
      rc = ln->err;
      ln->err = 0;
      return rc;
    }
    return lg__wait_io(ln->p, g, &ln->readq, ln->timeout, 0);
  }
  if ((rc = lg_tcp_new(ln->p, AF_UNSPEC, &c)) != 0) return rc;
  if ((rc = uv_accept(&ln->h.stream, &c->h.stream)) != 0) {
    lg_tcp_release(c);
    return rc;
  }
  ln->pending--;
  (void)read_start(c, 0);
  *out = c;
  return 0;
}

int lg_tcp_addr(lg_tcp_t *t, int peer, char *host, size_t hostlen,
                int *port) {
  struct sockaddr_storage ss;
  int n = sizeof ss, rc;
  rc = peer ? uv_tcp_getpeername(&t->h.tcp, (struct sockaddr *)&ss, &n)
            : uv_tcp_getsockname(&t->h.tcp, (struct sockaddr *)&ss, &n);
  if (rc != 0) return rc;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    *port = ntohs(a->sin6_port);
    return uv_ip6_name(a, host, hostlen);
  }
  *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return uv_ip4_name((struct sockaddr_in *)&ss, host, hostlen);
}
