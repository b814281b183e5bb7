/* Name resolution: getaddrinfo runs on libuv's thread pool, so nothing
 * blocks the P's thread. */
#include <stddef.h>
#include <string.h>
#include "internal.h"

struct lg_dns_s {
  uv_getaddrinfo_t req;
  lg_p_t *p;
  int refs;               /* the waiter's and the callback's */
  int status;
  struct addrinfo *res;
  lg_waitq_t q;
};

static void unref(lg_dns_t *d) {
  if (--d->refs > 0) return;
  if (d->res != NULL) uv_freeaddrinfo(d->res);
  lg__free(d);
}

/* The waiter gave up (deadlock, an error in its driver): its reference
 * goes with it. */
static void leave(lg_waitq_t *q) {
  unref((lg_dns_t *)(void *)((char *)q - offsetof(lg_dns_t, q)));
}

static void done_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  lg_dns_t *d = req->data;
  d->status = status;
  d->res = res;
  if (d->q.first != NULL) lg__wake_io(d->p, &d->q, status);
  unref(d);
}

int lg_dns_resolve(lg_p_t *p, lg_g_t *g, const char *name, lg_dns_t **out) {
  struct addrinfo hints;
  lg_dns_t *d = lg__malloc(sizeof *d);
  int rc;
  if (d == NULL) return LG_ENOMEM;
  memset(d, 0, sizeof *d);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  d->p = p;
  d->refs = 2;
  d->req.data = d;
  d->q.onleave = leave;
  if ((rc = uv_getaddrinfo(&p->loop, &d->req, done_cb, name, NULL,
                           &hints)) != 0) {
    lg__free(d);
    return rc;
  }
  *out = d;
  rc = lg__wait_io(p, g, &d->q, -1, 0);
  if (rc != LG_PARKED) d->refs--;  /* the callback still comes */
  return rc;
}

int lg_dns_result(lg_dns_t *d, const struct addrinfo **list) {
  *list = d->res;
  return d->status;
}

void lg_dns_free(lg_dns_t *d) {
  unref(d);
}
