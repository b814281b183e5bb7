/* The value encoding: a byte writer and a reader (see lugo.h for the
 * format). Nothing here knows Lua; nothing here reads past its input. */
#include <string.h>
#include "lugo.h"

/* Smallest buffer: most messages are a few scalars or a small table. */
#define MINCAP 64

/* ---------------------------------------------------------------- writer */

void lg_enc_init(lg_enc_t *e, size_t max) {
  e->buf = NULL;
  e->len = e->cap = 0;
  e->max = max ? max : LG_ENC_MAXSIZE;
  e->ntables = 0;
  e->depth = 0;
  e->err = 0;
  e->nshared = 0;
  e->nrefs = 0;
}

void lg_enc_free(lg_enc_t *e) {
  lg__free(e->buf);
  lg_enc_init(e, e->max);
}

void *lg_enc_take(lg_enc_t *e, size_t *len) {
  void *buf = NULL;
  *len = 0;
  if (e->err == 0 && e->len > 0) {
    buf = e->buf;
    *len = e->len;
    e->buf = NULL;
  }
  lg_enc_free(e);
  return buf;
}

/* Make room for `n` more bytes: 0, or the (sticky) error. Doubling, but
 * never past the cap, so a message near it costs no more than it. */
static int reserve(lg_enc_t *e, size_t n) {
  size_t want, cap;
  unsigned char *p;
  if (e->err) return e->err;
  if (n > e->max - e->len) return e->err = UV_EMSGSIZE;
  want = e->len + n;
  if (want <= e->cap) return 0;
  cap = e->cap ? e->cap : MINCAP;
  while (cap < want) cap = cap > e->max / 2 ? e->max : cap * 2;
  if (cap > e->max) cap = e->max;
  if (cap < want) cap = want;
  if ((p = lg__realloc(e->buf, cap)) == NULL) return e->err = LG_ENOMEM;
  e->buf = p;
  e->cap = cap;
  return 0;
}

static int fail(lg_enc_t *e, int rc) {
  if (e->err == 0) e->err = rc;
  return e->err;
}

/* Little-endian base-128: 7 bits a byte, high bit set while more follow;
 * at most 10 bytes for 64 bits. */
static size_t putvarint(unsigned char *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (unsigned char)v;
  return n;
}

static void put64(unsigned char *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A tag and a varint, written whole or not at all. */
static int puttagvar(lg_enc_t *e, int tag, uint64_t v) {
  unsigned char tmp[11];
  size_t n;
  int rc;
  tmp[0] = (unsigned char)tag;
  n = 1 + putvarint(tmp + 1, v);
  if ((rc = reserve(e, n)) != 0) return rc;
  memcpy(e->buf + e->len, tmp, n);
  e->len += n;
  return 0;
}

static int puttag(lg_enc_t *e, int tag) {
  int rc;
  if ((rc = reserve(e, 1)) != 0) return rc;
  e->buf[e->len++] = (unsigned char)tag;
  return 0;
}

int lg_enc_nil(lg_enc_t *e) {
  return puttag(e, LG_TNIL);
}

int lg_enc_bool(lg_enc_t *e, int b) {
  return puttag(e, b ? LG_TTRUE : LG_TFALSE);
}

int lg_enc_int(lg_enc_t *e, int64_t i) {
  /* Zigzag, so small negatives stay short: 0, -1, 1, -2 ... -> 0, 1, 2,
   * 3 ... (shifting the unsigned value: no signed overflow). */
  uint64_t u = (uint64_t)i;
  return puttagvar(e, LG_TINT, (u << 1) ^ (i < 0 ? ~(uint64_t)0 : 0));
}

int lg_enc_float(lg_enc_t *e, double n) {
  uint64_t u;
  int rc;
  if ((rc = reserve(e, 9)) != 0) return rc;
  memcpy(&u, &n, sizeof u);
  e->buf[e->len++] = LG_TFLOAT;
  put64(e->buf + e->len, u);
  e->len += 8;
  return 0;
}

static int putbytes(lg_enc_t *e, int tag, const void *s, size_t len) {
  unsigned char tmp[11];
  size_t n;
  int rc;
  if (e->err) return e->err;
  tmp[0] = (unsigned char)tag;
  n = 1 + putvarint(tmp + 1, len);
  /* Check the whole before writing the header, so a string over the cap
   * leaves nothing half-written. */
  if (len > e->max - e->len || n > e->max - e->len - len)
    return fail(e, UV_EMSGSIZE);
  if ((rc = reserve(e, n + len)) != 0) return rc;
  memcpy(e->buf + e->len, tmp, n);
  if (len > 0) memcpy(e->buf + e->len + n, s, len);
  e->len += n + len;
  return 0;
}

int lg_enc_str(lg_enc_t *e, const void *s, size_t len) {
  return putbytes(e, LG_TSTR, s, len);
}

int lg_enc_func(lg_enc_t *e, const void *code, size_t len) {
  return putbytes(e, LG_TFUNC, code, len);
}

/* A later nrec hint: a varint padded to LATER_LEN bytes (continuation
 * bits on all but the last), so that it can be written in place. */
#define LATER_LEN 5
#define LATER_MAX (((uint64_t)1 << (7 * LATER_LEN)) - 1)

static void putpadded(unsigned char *p, uint64_t v) {
  int i;
  if (v > LATER_MAX) v = LATER_MAX;  /* a hint: smaller is fine */
  for (i = 0; i < LATER_LEN - 1; i++, v >>= 7)
    p[i] = (unsigned char)((v & 0x7f) | 0x80);
  p[i] = (unsigned char)v;
}

int lg_enc_table(lg_enc_t *e, size_t narr, size_t nrec) {
  unsigned char tmp[21];
  size_t n;
  int rc;
  if (e->err) return e->err;
  if (e->depth >= LG_ENC_MAXDEPTH) return fail(e, LG_EINVAL);
  tmp[0] = LG_TTABLE;
  n = 1 + putvarint(tmp + 1, narr);
  if (nrec == LG_ENC_LATER) {
    putpadded(tmp + n, 0);
    n += LATER_LEN;
  } else {
    n += putvarint(tmp + n, nrec);
  }
  if ((rc = reserve(e, n)) != 0) return rc;
  memcpy(e->buf + e->len, tmp, n);
  e->len += n;
  e->ntables++;
  e->depth++;
  return 0;
}

void lg_enc_tablehint(lg_enc_t *e, size_t at, size_t nrec) {
  size_t p = at + 1;  /* past the tag, then past narr */
  if (e->err || at >= e->len || e->buf[at] != LG_TTABLE) return;
  while (p < e->len && (e->buf[p] & 0x80)) p++;
  if (p + LATER_LEN < e->len) putpadded(e->buf + p + 1, nrec);
}

int lg_enc_end(lg_enc_t *e) {
  int rc;
  if (e->err) return e->err;
  if (e->depth == 0) return fail(e, LG_EINVAL);
  if ((rc = puttag(e, LG_TEND)) != 0) return rc;
  e->depth--;
  return 0;
}

int lg_enc_ref(lg_enc_t *e, uint64_t idx) {
  if (e->err) return e->err;
  if (idx >= e->ntables) return fail(e, LG_EINVAL);
  e->nrefs++;
  return puttagvar(e, LG_TREF, idx);
}

int lg_enc_shared(lg_enc_t *e, int type, void *obj) {
  int rc;
  if (e->err) return e->err;
  if (type < 0 || type > 255) return fail(e, LG_EINVAL);
  if ((rc = reserve(e, 10)) != 0) return rc;
  e->buf[e->len++] = LG_TSHARED;
  e->buf[e->len++] = (unsigned char)type;
  put64(e->buf + e->len, (uint64_t)(uintptr_t)obj);
  e->len += 8;
  e->nshared++;
  return 0;
}

/* ------------------------------------------------------------------ blobs */

lg_blob_t *lg_blob_take(lg_enc_t *e) {
  lg_blob_t *b;
  if (e->err != 0 || e->len == 0 ||
      (b = lg__malloc(sizeof *b + e->len)) == NULL)
    return NULL;
  b->len = e->len;
  b->nshared = e->nshared;
  b->nrefs = e->nrefs;
  memcpy(b->data, e->buf, e->len);
  /* Empty again, the buffer kept for the next value. */
  e->len = 0;
  e->ntables = e->nshared = e->nrefs = 0;
  e->depth = 0;
  return b;
}

void lg_blob_free(lg_blob_t *b) {
  lg_dec_t d;
  lg_item_t it;
  size_t n;
  if (b == NULL) return;
  lg_dec_init(&d, b->data, b->len);
  for (n = b->nshared; n > 0 && lg_dec_next(&d, &it) == 0;)
    if (it.tag == LG_TSHARED) {
      lg_shared_release(it.u.shared.obj);
      n--;
    }
  lg__free(b);
}

/* ---------------------------------------------------------------- reader */

void lg_dec_init(lg_dec_t *d, const void *data, size_t len) {
  d->p = data;
  d->end = d->p + len;
  d->ntables = 0;
  d->depth = 0;
}

size_t lg_dec_left(const lg_dec_t *d) {
  return (size_t)(d->end - d->p);
}

/* A varint at *p, not past `end`: 0 and *p moved past it, or -1 if it is
 * truncated or needs more than 64 bits. */
static int getvarint(const unsigned char **p, const unsigned char *end,
                     uint64_t *v) {
  const unsigned char *q = *p;
  uint64_t r = 0;
  int shift;
  for (shift = 0; shift < 64; shift += 7) {
    uint64_t byte;
    if (q == end) return -1;
    byte = *q++;
    if (shift == 63 && byte > 1) return -1;
    r |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *p = q;
      *v = r;
      return 0;
    }
  }
  return -1;
}

static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

int lg_dec_next(lg_dec_t *d, lg_item_t *it) {
  const unsigned char *p = d->p;
  uint64_t v, v2;
  size_t left, most;
  int tag;
  if (p == d->end) return LG_EINVAL;
  tag = *p++;
  switch (tag) {
  case LG_TNIL: case LG_TFALSE: case LG_TTRUE:
    break;
  case LG_TINT:
    if (getvarint(&p, d->end, &v)) return LG_EINVAL;
    /* Undo the zigzag without signed overflow. */
    v = (v >> 1) ^ (~(v & 1) + 1);
    memcpy(&it->u.i, &v, sizeof v);
    break;
  case LG_TFLOAT:
    if (d->end - p < 8) return LG_EINVAL;
    v = get64(p);
    memcpy(&it->u.n, &v, sizeof v);
    p += 8;
    break;
  case LG_TSTR:
  case LG_TFUNC:
    if (getvarint(&p, d->end, &v)) return LG_EINVAL;
    if (v > (uint64_t)(d->end - p)) return LG_EINVAL;
    it->u.s.p = (const char *)p;
    it->u.s.len = (size_t)v;
    p += v;
    break;
  case LG_TTABLE:
    if (d->depth >= LG_ENC_MAXDEPTH) return LG_EINVAL;
    if (getvarint(&p, d->end, &v) || getvarint(&p, d->end, &v2))
      return LG_EINVAL;
    /* A pair takes two bytes at least: hints past that are lies, and a
     * decoder that trusted them would allocate without bound. */
    left = (size_t)(d->end - p);
    most = left / 2;
    if (v > most) v = most;
    if (v2 > most - v) v2 = most - v;
    it->u.t.narr = (size_t)v;
    it->u.t.nrec = (size_t)v2;
    d->ntables++;
    d->depth++;
    break;
  case LG_TEND:
    if (d->depth == 0) return LG_EINVAL;
    d->depth--;
    break;
  case LG_TREF:
    if (getvarint(&p, d->end, &v) || v >= d->ntables) return LG_EINVAL;
    it->u.ref = v;
    break;
  case LG_TSHARED:
    if (d->end - p < 9) return LG_EINVAL;
    it->u.shared.type = p[0];
    it->u.shared.obj = (void *)(uintptr_t)get64(p + 1);
    p += 9;
    break;
  default:
    return LG_EINVAL;
  }
  it->tag = tag;
  d->p = p;
  return 0;
}
