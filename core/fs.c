/* Whole-file reads and writes on libuv's thread pool, for scripts that
 * load config: the P's thread never blocks on the disk. */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

struct lg_file_s {
  uv_work_t req;
  lg_p_t *p;
  int refs;               /* the waiter's and the work's */
  int writing;
  int status;             /* 0 or a negative errno */
  char *path;
  char *data;             /* read: the contents; write: what to write */
  size_t len;
  lg_waitq_t q;
};

static void unref(lg_file_t *f) {
  if (--f->refs > 0) return;
  free(f->path);
  free(f->data);
  free(f);
}

static void leave(lg_waitq_t *q) {
  unref((lg_file_t *)(void *)((char *)q - offsetof(lg_file_t, q)));
}

/* On a pool thread: plain blocking calls. The memory here is plain
 * malloc, not lg__malloc: the failure counter is not for other threads.
 * lg__free is free(), so either frees it. */
static void work(uv_work_t *req) {
  lg_file_t *f = req->data;
  int fd = open(f->path, f->writing ? O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
                                    : O_RDONLY | O_CLOEXEC, 0666);
  size_t done = 0;
  if (fd < 0) {
    f->status = -errno;
    return;
  }
  if (!f->writing) {
    struct stat st;
    size_t cap = 0;
    /* One byte more than the size, so the read that sees EOF needs no
     * growing; the size may also be 0 (/proc) or change meanwhile. */
    if (fstat(fd, &st) == 0 && st.st_size > 0) cap = (size_t)st.st_size + 1;
    for (;;) {
      ssize_t n;
      if (f->data == NULL || done == cap) {
        size_t ncap = f->data == NULL ? (cap ? cap : 4096) : cap * 2;
        char *nd = realloc(f->data, ncap);
        if (nd == NULL) {
          f->status = -ENOMEM;
          break;
        }
        f->data = nd;
        cap = ncap;
      }
      n = read(fd, f->data + done, cap - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) f->status = -errno;
      if (n <= 0) break;
      done += (size_t)n;
    }
    f->len = done;
  } else {
    while (done < f->len) {
      ssize_t n = write(fd, f->data + done, f->len - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        f->status = -errno;
        break;
      }
      done += (size_t)n;
    }
  }
  if (close(fd) != 0 && f->status == 0) f->status = -errno;
}

static void after_work(uv_work_t *req, int status) {
  lg_file_t *f = req->data;
  if (status != 0 && f->status == 0) f->status = status;
  if (f->q.first != NULL) lg__wake_io(f->p, &f->q, f->status);
  unref(f);
}

int lg_file_start(lg_p_t *p, lg_g_t *g, const char *path, const char *data,
                  size_t len, int writing, lg_file_t **out) {
  lg_file_t *f = calloc(1, sizeof *f);
  size_t plen = strlen(path);
  int rc;
  if (f == NULL || (f->path = malloc(plen + 1)) == NULL ||
      (writing && (f->data = malloc(len ? len : 1)) == NULL)) {
    if (f != NULL) free(f->path);
    free(f);
    return LG_ENOMEM;
  }
  memcpy(f->path, path, plen + 1);
  if (writing) memcpy(f->data, data, len);
  f->len = writing ? len : 0;
  f->writing = writing;
  f->p = p;
  f->refs = 2;
  f->req.data = f;
  f->q.onleave = leave;
  if ((rc = uv_queue_work(&p->loop, &f->req, work, after_work)) != 0) {
    f->refs = 1;
    unref(f);
    return rc;
  }
  *out = f;
  rc = lg__wait_io(p, g, &f->q, -1, 0);
  if (rc != LG_PARKED) f->refs--;  /* the work still completes */
  return rc;
}

int lg_file_result(lg_file_t *f, const char **data, size_t *len) {
  *data = f->data;
  *len = f->len;
  return f->status;
}

void lg_file_free(lg_file_t *f) {
  unref(f);
}
