/* libFuzzer harness for core/http.c (`make fuzz`).
 *
 * Input: three control bytes, then the message bytes.
 *   byte 0, 1  two split points: where the bytes are cut into pieces, so
 *              incremental parsing is exercised at places the fuzzer picks
 *   byte 2     bit 0: small limits; bit 1: room for 4 headers only;
 *              bit 2: the response answers a HEAD request
 * The bytes go through the request parser as a stream of pipelined
 * requests (bodies skipped or decoded), through the response parser the
 * same way, and straight through the chunked decoder. Each parse is done
 * three ways: in one piece, one byte at a time, and cut at the split
 * points; all three must agree. Any broken invariant aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lugo.h"
#include "http.h"

#define MAXH 100

#define ASSERT(c)                                                     \
  do {                                                                \
    if (!(c)) {                                                       \
      fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,      \
              __LINE__, #c);                                          \
      abort();                                                        \
    }                                                                 \
  } while (0)

typedef struct {
  int kind;
  lg_http_limits_t lim;
  size_t maxh;
  size_t cut[2];          /* split points, scaled to each message */
} cfg_t;

typedef struct {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  int rc;
} run_t;

static void span_in(lg_http_span_t s, size_t len) {
  ASSERT((size_t)s.off + s.len <= len);
}

/* Parse buf[0 .. len) handing the parser growing prefixes ending at each
 * of `ends` (ascending, the last is len). */
static void parse_pieces(run_t *r, const cfg_t *c, char *buf,
                         const size_t *ends, size_t nends) {
  size_t i;
  lg_http_init(&r->p, c->kind, &c->lim, r->h, c->maxh);
  r->rc = LG_EAGAIN;
  for (i = 0; i < nends && r->rc == LG_EAGAIN; i++)
    r->rc = lg_http_parse(&r->p, buf, ends[i]);
}

static void same_head(const run_t *a, const run_t *b) {
  size_t i;
  ASSERT(a->rc == b->rc);
  if (a->rc != 0) return;
  ASSERT(a->p.headlen == b->p.headlen);
  ASSERT(a->p.nheaders == b->p.nheaders);
  ASSERT(a->p.body == b->p.body);
  ASSERT(a->p.content_length == b->p.content_length);
  ASSERT(a->p.keepalive == b->p.keepalive);
  ASSERT(a->p.expect_continue == b->p.expect_continue);
  ASSERT(a->p.status == b->p.status && a->p.minor == b->p.minor);
  ASSERT(!memcmp(&a->p.path, &b->p.path, sizeof a->p.path));
  ASSERT(!memcmp(&a->p.query, &b->p.query, sizeof a->p.query));
  ASSERT(!memcmp(&a->p.method, &b->p.method, sizeof a->p.method));
  for (i = 0; i < a->p.nheaders; i++)
    ASSERT(!memcmp(&a->h[i], &b->h[i], sizeof a->h[i]));
}

static void head_invariants(const run_t *r, const cfg_t *c, size_t len) {
  const lg_http_parser_t *p = &r->p;
  size_t i;
  ASSERT(r->rc == 0 || r->rc == LG_EAGAIN || r->rc == 400 ||
         r->rc == 413 || r->rc == 431 || r->rc == 501 || r->rc == 505);
  if (r->rc != 0) {
    ASSERT(r->rc == LG_EAGAIN || p->why != NULL);
    return;
  }
  ASSERT(p->headlen <= len && p->headlen <= c->lim.max_head);
  ASSERT(p->nheaders <= c->maxh);
  for (i = 0; i < p->nheaders; i++) {
    span_in(r->h[i].name, p->headlen);
    span_in(r->h[i].value, p->headlen);
    ASSERT(r->h[i].name.len > 0);
  }
  if (c->kind == LG_HTTP_REQUEST) {
    span_in(p->method, p->headlen);
    span_in(p->target, p->headlen);
    /* path and query lie inside the target */
    ASSERT(p->path.off >= p->target.off && p->query.off >= p->target.off);
    ASSERT(p->path.off + p->path.len <= p->target.off + p->target.len);
    ASSERT(p->query.off + p->query.len <= p->target.off + p->target.len);
    ASSERT(p->body != LG_HTTP_BODY_EOF);
  } else {
    span_in(p->reason, p->headlen);
    ASSERT(p->status >= 100 && p->status <= 999);
  }
  ASSERT(p->body >= LG_HTTP_BODY_NONE && p->body <= LG_HTTP_BODY_EOF);
  if (p->body == LG_HTTP_BODY_LENGTH)
    ASSERT(p->content_length > 0 && p->content_length <= c->lim.max_body);
  if (p->body == LG_HTTP_BODY_CHUNKED) ASSERT(p->content_length == -1);
  if (p->body == LG_HTTP_BODY_EOF) ASSERT(!p->keepalive);
}

typedef struct {
  int rc;
  size_t used, outlen;
  char *out;
} dec_t;

/* Decode in pieces of `step` bytes (0: at the cut points), checking the
 * contract of every call. */
static void dechunk(dec_t *d, const cfg_t *c, const char *in, size_t len,
                    size_t step) {
  lg_http_chunked_t ch;
  size_t at = 0, end, used, off, n, k = 0;
  lg_http_chunked_init(&ch, &c->lim);
  d->rc = LG_EAGAIN;
  d->outlen = 0;
  while (d->rc == LG_EAGAIN && at < len) {
    if (step) end = at + step < len ? at + step : len;
    else {
      while (k < 2 && c->cut[k] % (len + 1) <= at) k++;
      end = k < 2 ? c->cut[k] % (len + 1) : len;
    }
    d->rc = lg_http_chunked(&ch, in + at, end - at, &used, &off, &n);
    ASSERT(used <= end - at && off + n <= used);
    ASSERT(used > 0 || d->rc != LG_EAGAIN);  /* progress */
    memcpy(d->out + d->outlen, in + at + off, n);
    d->outlen += n;
    at += used;
    ASSERT(d->outlen <= (size_t)c->lim.max_body);
  }
  d->used = at;
  ASSERT(d->rc == 0 || d->rc == LG_EAGAIN || d->rc == 400 ||
         d->rc == 413 || d->rc == 431);
}

/* The three ways must agree; returns bytes consumed if the body ended. */
static int chunked_three_ways(const cfg_t *c, const char *in, size_t len,
                              size_t *used) {
  dec_t d[3];
  int i;
  for (i = 0; i < 3; i++) {
    d[i].out = malloc(len + 1);
    ASSERT(d[i].out != NULL);
  }
  dechunk(&d[0], c, in, len, len ? len : 1);
  dechunk(&d[1], c, in, len, 1);
  dechunk(&d[2], c, in, len, 0);
  for (i = 1; i < 3; i++) {
    ASSERT(d[i].rc == d[0].rc && d[i].used == d[0].used);
    ASSERT(d[i].outlen == d[0].outlen);
    ASSERT(!memcmp(d[i].out, d[0].out, d[0].outlen));
  }
  *used = d[0].used;
  for (i = 0; i < 3; i++) free(d[i].out);
  return d[0].rc == 0;
}

/* Pipelined messages of c->kind in msg[0 .. len). */
static void stream(const cfg_t *c, const char *msg, size_t len) {
  static run_t r[3];
  char *b[3];
  size_t at = 0, rest, ends[3], i, k, used;
  int n;
  for (i = 0; i < 3; i++) {
    b[i] = malloc(len + 1);
    ASSERT(b[i] != NULL);
    memcpy(b[i], msg, len);
  }
  for (n = 0; n < 64 && at < len; n++) {
    rest = len - at;
    ends[0] = rest;
    parse_pieces(&r[0], c, b[0] + at, ends, 1);
    /* One byte at a time, without building an array of ends; reset
     * rather than init after the first message, as a server would. */
    if (n == 0) lg_http_init(&r[1].p, c->kind, &c->lim, r[1].h, c->maxh);
    else lg_http_reset(&r[1].p);
    r[1].rc = LG_EAGAIN;
    for (k = 1; k <= rest && r[1].rc == LG_EAGAIN; k++)
      r[1].rc = lg_http_parse(&r[1].p, b[1] + at, k);
    /* At the cut points. */
    for (i = k = 0; i < 2; i++)
      if (c->cut[i] % (rest + 1) > (k ? ends[k - 1] : 0))
        ends[k++] = c->cut[i] % (rest + 1);
    ends[k++] = rest;
    parse_pieces(&r[2], c, b[2] + at, ends, k);
    for (i = 0; i < 3; i++) head_invariants(&r[i], c, rest);
    same_head(&r[0], &r[1]);
    same_head(&r[0], &r[2]);
    if (r[0].rc != 0) break;
    /* The lower-casing touched the same bytes the same way. */
    ASSERT(!memcmp(b[0] + at, b[1] + at, r[0].p.headlen));
    ASSERT(!memcmp(b[0] + at, b[2] + at, r[0].p.headlen));
    at += r[0].p.headlen;
    if (r[0].p.body == LG_HTTP_BODY_LENGTH) {
      if ((uint64_t)r[0].p.content_length > len - at) break;
      at += (size_t)r[0].p.content_length;
    } else if (r[0].p.body == LG_HTTP_BODY_CHUNKED) {
      if (!chunked_three_ways(c, msg + at, len - at, &used)) break;
      at += used;
    } else if (r[0].p.body == LG_HTTP_BODY_EOF) {
      break;
    }
  }
  for (i = 0; i < 3; i++) free(b[i]);
}

/* Whatever the writers accept, the parsers read back as written. */
static void round_trip(const cfg_t *c, const char *v, size_t vlen) {
  lg_http_buf_t b;
  lg_http_parser_t p;
  lg_http_header_t h[4];
  char target[65], date[LG_HTTP_DATE_LEN + 1];
  size_t got, i, k;
  const char *val;
  int64_t t = 0;
  int rc;
  /* A header value. */
  lg_http_buf_init(&b, NULL, 0);
  ASSERT(lg_http_write_status(&b, 200, NULL) == 0);
  if (lg_http_write_header(&b, "X-F", 3, v, vlen < 200 ? vlen : 200) == 0) {
    ASSERT(lg_http_write_end(&b, 0, NULL, LG_HTTP_CONN_NONE) == 0);
    lg_http_init(&p, LG_HTTP_RESPONSE, NULL, h, 4);
    ASSERT(lg_http_parse(&p, b.data, b.len) == 0);
    ASSERT(p.headlen == b.len && p.nheaders == 2);
    val = lg_http_get(&p, b.data, "x-f", &got);
    ASSERT(val != NULL);
    for (i = 0, k = vlen < 200 ? vlen : 200; i < k && (v[i] == ' ' ||
         v[i] == '\t'); i++) {}
    while (k > i && (v[k - 1] == ' ' || v[k - 1] == '\t')) k--;
    ASSERT(got == k - i && !memcmp(val, v + i, got));
  } else {
    ASSERT(b.len == 17);  /* all or nothing */
  }
  /* A request target: the bytes up to the first NUL, at most 64. */
  for (i = 0; i < vlen && i < 64 && v[i]; i++) target[i] = v[i];
  target[i] = 0;
  b.len = 0;
  if (lg_http_write_reqline(&b, "GET", target) == 0) {
    ASSERT(lg_http_write_header(&b, "Host", 4, "h", 1) == 0);
    ASSERT(lg_http_write_end(&b, LG_HTTP_NOLENGTH, NULL, 0) == 0);
    lg_http_init(&p, LG_HTTP_REQUEST, NULL, h, 4);
    rc = lg_http_parse(&p, b.data, b.len);
    /* Only the target's form can be refused: not "/...", "*" or a URL. */
    ASSERT(rc == 0 || (rc == 400 && target[0] != '/'));
    ASSERT(rc != 0 || (p.target.len == strlen(target) &&
                      !memcmp(b.data + p.target.off, target, p.target.len)));
  } else {
    ASSERT(b.len == 0);
  }
  /* The bytes as a chunked body cut at the split points. */
  b.len = 0;
  ASSERT(lg_http_write_status(&b, 200, NULL) == 0);
  ASSERT(lg_http_write_end(&b, LG_HTTP_CHUNKED, NULL, 0) == 0);
  k = c->cut[0] % (vlen + 1);
  if (k) ASSERT(lg_http_write_chunk(&b, v, k) == 0);
  if (k < vlen) ASSERT(lg_http_write_chunk(&b, v + k, vlen - k) == 0);
  ASSERT(lg_http_write_chunk(&b, NULL, 0) == 0);
  lg_http_init(&p, LG_HTTP_RESPONSE, NULL, h, 4);
  ASSERT(lg_http_parse(&p, b.data, b.len) == 0);
  ASSERT(p.body == LG_HTTP_BODY_CHUNKED);
  {
    cfg_t big = *c;
    dec_t d;
    big.lim.max_body = INT64_MAX;
    big.lim.max_head = LG_HTTP_MAX_HEAD;
    d.out = malloc(b.len);
    ASSERT(d.out != NULL);
    dechunk(&d, &big, b.data + p.headlen, b.len - p.headlen, 1);
    ASSERT(d.rc == 0 && d.used == b.len - p.headlen);
    ASSERT(d.outlen == vlen && !memcmp(d.out, v, vlen));
    free(d.out);
  }
  lg_http_buf_free(&b);
  /* A date from the first bytes, any of them. */
  for (i = 0; i < vlen && i < 8; i++)
    t = (int64_t)((uint64_t)t << 8 | (uint8_t)v[i]);
  ASSERT(lg_http_date(date, t) == LG_HTTP_DATE_LEN);
  ASSERT(strlen(date) == LG_HTTP_DATE_LEN && !memcmp(date + 25, " GMT", 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cfg_t c;
  const char *msg = (const char *)data + 3;
  size_t len, used;
  if (size < 3) return 0;
  len = size - 3;
  c.cut[0] = data[0];
  c.cut[1] = (size_t)data[0] + data[1];
  c.lim.max_head = data[2] & 1 ? 64 + data[1] % 64 : 0;
  c.lim.max_body = data[2] & 1 ? 100 : 0;
  if (c.lim.max_head == 0) c.lim.max_head = LG_HTTP_MAX_HEAD;
  if (c.lim.max_body == 0) c.lim.max_body = LG_HTTP_MAX_BODY;
  c.maxh = data[2] & 2 ? 4 : MAXH;
  c.kind = LG_HTTP_REQUEST;
  stream(&c, msg, len);
  c.kind = data[2] & 4 ? LG_HTTP_RESPONSE_TO_HEAD : LG_HTTP_RESPONSE;
  stream(&c, msg, len);
  chunked_three_ways(&c, msg, len, &used);
  round_trip(&c, msg, len);
  return 0;
}
