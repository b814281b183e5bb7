/* HTTP/1.1: head parsers, the chunked decoder and the writers. */
#include <string.h>
#include "test.h"
#include "http.h"

#define MAXH 16

/* The parser writes (lower-cases names), so each test gets a copy. */
static char buf[16384];

static size_t load(const char *s) {
  size_t n = strlen(s);
  memcpy(buf, s, n);
  return n;
}

/* Parse buf[0 .. len) in pieces of `step` bytes (each call sees all the
 * bytes so far), as they would arrive from a socket. */
static int feed(lg_http_parser_t *p, size_t len, size_t step) {
  size_t k = 0;
  int rc;
  do {
    k = k + step < len ? k + step : len;
    rc = lg_http_parse(p, buf, k);
  } while (rc == LG_EAGAIN && k < len);
  return rc;
}

static int parse(lg_http_parser_t *p, int kind, lg_http_header_t *h,
                 const char *s) {
  lg_http_init(p, kind, NULL, h, MAXH);
  return lg_http_parse(p, buf, load(s));
}

static int spaneq(lg_http_span_t sp, const char *s) {
  return sp.len == strlen(s) && memcmp(buf + sp.off, s, sp.len) == 0;
}

#define CHECK_SPAN(sp, want)                                          \
  do {                                                                \
    if (!spaneq((sp), (want)))                                        \
      FAIL("%s: got \"%.*s\", want \"%s\"", #sp, (int)(sp).len,       \
           buf + (sp).off, (want));                                   \
  } while (0)

#define CHECK_STR(got, n, want)                                       \
  do {                                                                \
    size_t n_ = (n);                                                  \
    if (n_ != strlen(want) || memcmp((got), (want), n_) != 0)         \
      FAIL("%s: got \"%.*s\", want \"%s\"", #got, (int)n_, (got),     \
           (want));                                                   \
  } while (0)

/* Each of `reqs` must fail with `status`. */
#define CHECK_ALL_FAIL(kind, reqs, status)                            \
  do {                                                                \
    size_t i_;                                                        \
    lg_http_parser_t p_;                                              \
    lg_http_header_t h_[MAXH];                                        \
    for (i_ = 0; i_ < sizeof(reqs) / sizeof *(reqs); i_++) {          \
      int rc_;                                                        \
      lg_http_init(&p_, (kind), NULL, h_, MAXH);                      \
      memcpy(buf, (reqs)[i_].s, (reqs)[i_].n);                        \
      rc_ = lg_http_parse(&p_, buf, (reqs)[i_].n);                    \
      if (rc_ != (status))                                            \
        FAIL("%s: got %d, want %d", (reqs)[i_].s, rc_, (status));     \
    }                                                                 \
  } while (0)

/* Inputs with NULs in them need their lengths. */
typedef struct { const char *s; size_t n; } raw_t;
#define RAW(s) {s, sizeof(s) - 1}

/* ------------------------------------------------------------- requests */
TEST(http_simple_get) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  const char *req = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n"
                    "User-Agent: t\r\n\r\n";
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, req), 0);
  CHECK_SPAN(p.method, "GET");
  CHECK_SPAN(p.target, "/index.html");
  CHECK_SPAN(p.path, "/index.html");
  CHECK_SPAN(p.query, "");
  CHECK_EQ(p.minor, 1);
  CHECK_EQ(p.nheaders, 2);
  CHECK_SPAN(h[0].name, "host");
  CHECK_SPAN(h[0].value, "example.com");
  CHECK_SPAN(h[1].name, "user-agent");
  CHECK_EQ(p.headlen, strlen(req));
  CHECK_EQ(p.body, LG_HTTP_BODY_NONE);
  CHECK_EQ(p.content_length, -1);
  CHECK_EQ(p.keepalive, 1);
  CHECK_EQ(p.expect_continue, 0);
  /* Done is sticky: calling again changes nothing. */
  CHECK_EQ(lg_http_parse(&p, buf, strlen(req)), 0);
}

TEST(http_needs_more_until_the_blank_line) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "GET / HTTP/1.1\r\nHost: a\r\n"),
           LG_EAGAIN);
  CHECK_EQ(lg_http_parse(&p, buf, load("GET / HTTP/1.1\r\nHost: a\r\n\r")),
           LG_EAGAIN);
  CHECK_EQ(lg_http_parse(&p, buf, load("GET / HTTP/1.1\r\nHost: a\r\n\r\n")),
           0);
}

TEST(http_target_forms_split_path_and_query) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h,
                 "GET /a/b?x=1&y=2?z HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  CHECK_SPAN(p.path, "/a/b");
  CHECK_SPAN(p.query, "x=1&y=2?z");
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h,
                 "GET /? HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  CHECK_SPAN(p.path, "/");
  CHECK_SPAN(p.query, "");
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h,
                 "GET http://h.example:80/p?q HTTP/1.1\r\nHost: a\r\n\r\n"),
           0);
  CHECK_SPAN(p.target, "http://h.example:80/p?q");
  CHECK_SPAN(p.path, "/p");
  CHECK_SPAN(p.query, "q");
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h,
                 "GET http://h.example?q HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  CHECK_SPAN(p.path, "");  /* meaning "/" */
  CHECK_SPAN(p.query, "q");
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h,
                 "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  CHECK_SPAN(p.path, "*");
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h,
                 "CONNECT h.example:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  CHECK_SPAN(p.path, "h.example:443");
  CHECK_SPAN(p.query, "");
}

TEST(http_pipelined_requests_in_one_buffer) {
  static const char stream[] =
    "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
    "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
    "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3\r\nabc\r\n0\r\n\r\n"
    "GET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  static const char *const paths[] = {"/1", "/2", "/3", "/4"};
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  lg_http_chunked_t c;
  size_t at = 0, len = load(stream), used, off, n;
  int i;
  lg_http_init(&p, LG_HTTP_REQUEST, NULL, h, MAXH);
  for (i = 0; i < 4; i++) {
    char *m = buf + at;
    CHECK_EQ(lg_http_parse(&p, m, len - at), 0);
    if (!spaneq((lg_http_span_t){p.path.off + (uint32_t)at, p.path.len},
                paths[i]))
      FAIL("request %d: path %.*s", i, (int)p.path.len, m + p.path.off);
    at += p.headlen;
    if (p.body == LG_HTTP_BODY_LENGTH) {
      CHECK_STR(buf + at, (size_t)p.content_length, "hello");
      at += (size_t)p.content_length;
    } else if (p.body == LG_HTTP_BODY_CHUNKED) {
      lg_http_chunked_init(&c, NULL);
      CHECK_EQ(lg_http_chunked(&c, buf + at, len - at, &used, &off, &n),
               LG_EAGAIN);
      CHECK_STR(buf + at + off, n, "abc");
      at += used;
      CHECK_EQ(lg_http_chunked(&c, buf + at, len - at, &used, &off, &n), 0);
      CHECK_EQ(n, 0);
      at += used;
    }
    CHECK_EQ(p.keepalive, i < 3);
    lg_http_reset(&p);
  }
  CHECK_EQ(at, len);
}

/* One call, byte by byte, and in uneven pieces: the same result. */
TEST(http_byte_by_byte_equals_one_shot) {
  static const char *const reqs[] = {
    "GET /a?b HTTP/1.1\r\nHost: x\r\nX-A:  v1 \r\nCONTENT-length: 12\r\n\r\n",
    "\r\n\nPOST / HTTP/1.0\nHost: x\nConnection: keep-alive\n\n",
    "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
    "GET / HTTP/2.0\r\n\r\n",
  };
  static const size_t steps[] = {1, 2, 3, 7};
  lg_http_parser_t a, b;
  lg_http_header_t ha[MAXH], hb[MAXH];
  size_t i, s, k, len;
  int ra, rb;
  for (i = 0; i < sizeof reqs / sizeof *reqs; i++) {
    for (s = 0; s < sizeof steps / sizeof *steps; s++) {
      lg_http_init(&a, LG_HTTP_REQUEST, NULL, ha, MAXH);
      lg_http_init(&b, LG_HTTP_REQUEST, NULL, hb, MAXH);
      len = load(reqs[i]);
      ra = lg_http_parse(&a, buf, len);
      len = load(reqs[i]);
      rb = feed(&b, len, steps[s]);
      if (ra != rb) FAIL("%s step %zu: %d vs %d", reqs[i], steps[s], ra, rb);
      CHECK_EQ(a.headlen, b.headlen);
      CHECK_EQ(a.nheaders, b.nheaders);
      CHECK_EQ(a.body, b.body);
      CHECK_EQ(a.content_length, b.content_length);
      CHECK_EQ(a.keepalive, b.keepalive);
      CHECK_EQ(a.path.off, b.path.off);
      CHECK_EQ(a.path.len, b.path.len);
      CHECK_EQ(a.query.off, b.query.off);
      for (k = 0; k < a.nheaders; k++) {
        CHECK_EQ(ha[k].name.off, hb[k].name.off);
        CHECK_EQ(ha[k].name.len, hb[k].name.len);
        CHECK_EQ(ha[k].value.off, hb[k].value.off);
        CHECK_EQ(ha[k].value.len, hb[k].value.len);
      }
    }
  }
}

TEST(http_header_names_lowered_values_trimmed) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  size_t n;
  const char *v;
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h,
                 "GET / HTTP/1.1\r\nHOST: a\r\nX-Thing:\t two  words \t\r\n"
                 "X-Empty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n"), 0);
  CHECK_EQ(p.nheaders, 4);
  CHECK_SPAN(h[1].name, "x-thing");
  CHECK_SPAN(h[1].value, "two  words");
  CHECK_SPAN(h[2].value, "");
  CHECK_SPAN(h[3].value, "caf\xc3\xa9");
  v = lg_http_get(&p, buf, "x-thing", &n);
  CHECK(v != NULL);
  CHECK_STR(v, n, "two  words");
  CHECK_PTR(lg_http_get(&p, buf, "x-none", &n), NULL);
}

TEST(http_bare_lf_and_leading_blank_lines_are_accepted) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h,
                 "\r\n\nGET / HTTP/1.1\nHost: a\r\nX: y\n\n"), 0);
  CHECK_SPAN(p.method, "GET");
  CHECK_EQ(p.nheaders, 2);
  CHECK_SPAN(h[1].value, "y");
}

/* ------------------------------------------------------------- limits */
/* A request of exactly `len` bytes, padded in an X header. */
static size_t padded(size_t len) {
  static const char head[] = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  size_t n = sizeof head - 1;
  memcpy(buf, head, n);
  memset(buf + n, 'v', len - n - 4);
  memcpy(buf + len - 4, "\r\n\r\n", 4);
  return len;
}

TEST(http_head_too_large_is_431) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  lg_http_limits_t lim = {64, 0};
  /* Exactly max_head bytes: allowed; one more is 431, even when the whole
   * head is in the buffer. */
  lg_http_init(&p, LG_HTTP_REQUEST, &lim, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, padded(64)), 0);
  CHECK_EQ(p.headlen, 64);
  lg_http_init(&p, LG_HTTP_REQUEST, &lim, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, padded(65)), 431);
  CHECK(p.why != NULL);
  lg_http_init(&p, LG_HTTP_REQUEST, NULL, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, padded(8192)), 0);
  lg_http_init(&p, LG_HTTP_REQUEST, NULL, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, padded(8193)), 431);
  /* One long line: 431 as soon as max_head bytes came without its end. */
  memset(buf, 'a', 100);
  memcpy(buf, "GET /", 5);
  lg_http_init(&p, LG_HTTP_REQUEST, &lim, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, 63), LG_EAGAIN);
  CHECK_EQ(lg_http_parse(&p, buf, 64), 431);
  /* The default is 8 KiB. */
  memset(buf, 'a', 9000);
  memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
  lg_http_init(&p, LG_HTTP_REQUEST, NULL, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, 8191), LG_EAGAIN);
  CHECK_EQ(lg_http_parse(&p, buf, 9000), 431);
}

TEST(http_too_many_headers_is_431) {
  lg_http_parser_t p;
  lg_http_header_t h[3];
  lg_http_init(&p, LG_HTTP_REQUEST, NULL, h, 3);
  CHECK_EQ(lg_http_parse(&p, buf, load("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n"
                                       "B: 2\r\n\r\n")), 0);
  lg_http_init(&p, LG_HTTP_REQUEST, NULL, h, 3);
  CHECK_EQ(lg_http_parse(&p, buf, load("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n"
                                       "B: 2\r\nC: 3\r\n\r\n")), 431);
  CHECK_EQ(p.nheaders, 3);
}

TEST(http_content_length_over_max_body_is_413) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  lg_http_limits_t lim = {0, 100};
  lg_http_init(&p, LG_HTTP_REQUEST, &lim, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, load("POST / HTTP/1.1\r\nHost: a\r\n"
                                       "Content-Length: 100\r\n\r\n")), 0);
  CHECK_EQ(p.body, LG_HTTP_BODY_LENGTH);
  CHECK_EQ(p.content_length, 100);
  lg_http_init(&p, LG_HTTP_REQUEST, &lim, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, load("POST / HTTP/1.1\r\nHost: a\r\n"
                                       "Content-Length: 101\r\n\r\n")), 413);
  /* The default is 1 MiB. */
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "POST / HTTP/1.1\r\nHost: a\r\n"
                 "Content-Length: 1048577\r\n\r\n"), 413);
}

/* ---------------------------------------------------------- malformed */
TEST(http_malformed_request_lines_are_400) {
  static const raw_t bad[] = {
    RAW("GET\r\n\r\n"),
    RAW("GET /\r\n\r\n"),                       /* HTTP/0.9 */
    RAW(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    RAW("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),  /* two spaces */
    RAW("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
    RAW("GET /\tx HTTP/1.1\r\nHost: a\r\n\r\n"),
    RAW("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"),
    RAW("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
    RAW("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"),  /* bare CR */
    RAW("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"),
    RAW("GET / HTTP/1\r\nHost: a\r\n\r\n"),
    RAW("GET / http/1.1\r\nHost: a\r\n\r\n"),
    RAW("GET / HTTP/1.10\r\nHost: a\r\n\r\n"),
    RAW("GET x HTTP/1.1\r\nHost: a\r\n\r\n"),  /* no form matches */
    RAW("GET ://x HTTP/1.1\r\nHost: a\r\n\r\n"),
    RAW("GET * HTTP/1.1\r\nHost: a\r\n\r\n"),  /* "*" is OPTIONS' */
  };
  CHECK_ALL_FAIL(LG_HTTP_REQUEST, bad, 400);
}

TEST(http_versions) {
  static const raw_t v2[] = {
    RAW("GET / HTTP/2.0\r\n\r\n"), RAW("GET / HTTP/0.9\r\n\r\n"),
  };
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  CHECK_ALL_FAIL(LG_HTTP_REQUEST, v2, 505);
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "GET / HTTP/1.0\r\n\r\n"), 0);
  CHECK_EQ(p.minor, 0);  /* no Host needed in 1.0 */
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "GET / HTTP/1.7\r\nHost: a\r\n\r\n"),
           0);
  CHECK_EQ(p.minor, 7);
  CHECK_EQ(p.keepalive, 1);
}

TEST(http_malformed_headers_are_400) {
  static const raw_t bad[] = {
    RAW("GET / HTTP/1.1\r\nHost : a\r\n\r\n"),    /* space before colon */
    RAW("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n"),  /* obs-fold */
    RAW("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n"),
    RAW("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"),   /* empty name */
    RAW("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"),
    RAW("GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n"),
    RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"),
    RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"),  /* bare CR */
    RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n"),
    RAW("GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n"),
    RAW("GET / HTTP/1.1\r\nHost: a\r\n\xc3\xa9: v\r\n\r\n"),
    RAW("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"),
    RAW("GET / HTTP/1.1\r\n\r\n"),                 /* 1.1 needs Host */
    RAW("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
  };
  CHECK_ALL_FAIL(LG_HTTP_REQUEST, bad, 400);
}

TEST(http_content_length_rules) {
  static const raw_t bad[] = {
    RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
        "Content-Length: 6\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\n"
        "Content-Length: 9223372036854775808\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\n"
        "Content-Length: 99999999999999999999999\r\n\r\n"),
  };
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  lg_http_limits_t lim = {0, INT64_MAX};
  CHECK_ALL_FAIL(LG_HTTP_REQUEST, bad, 400);
  /* Repeats that agree are one value (Go does the same). */
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "POST / HTTP/1.1\r\nHost: a\r\n"
                 "Content-Length: 0005\r\ncontent-length:  5 \r\n\r\n"), 0);
  CHECK_EQ(p.content_length, 5);
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "POST / HTTP/1.1\r\nHost: a\r\n"
                 "Content-Length: 0\r\n\r\n"), 0);
  CHECK_EQ(p.body, LG_HTTP_BODY_NONE);
  lg_http_init(&p, LG_HTTP_REQUEST, &lim, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, load("POST / HTTP/1.1\r\nHost: a\r\n"
                         "Content-Length: 9223372036854775807\r\n\r\n")), 0);
  CHECK_EQ(p.content_length, INT64_MAX);
}

TEST(http_transfer_encoding_rules) {
  static const raw_t te501[] = {
    RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\n"
        "Transfer-Encoding: gzip, chunked\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"),
    RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"),
  };
  static const raw_t te400[] = {
    RAW("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
  };
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  CHECK_ALL_FAIL(LG_HTTP_REQUEST, te501, 501);
  CHECK_ALL_FAIL(LG_HTTP_REQUEST, te400, 400);
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "POST / HTTP/1.1\r\nHost: a\r\n"
                 "Transfer-Encoding: Chunked\r\n\r\n"), 0);
  CHECK_EQ(p.body, LG_HTTP_BODY_CHUNKED);
  CHECK_EQ(p.keepalive, 1);
  /* Both: chunked wins, and the connection closes after (RFC 9112 6.1). */
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "POST / HTTP/1.1\r\nHost: a\r\n"
                 "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
           0);
  CHECK_EQ(p.body, LG_HTTP_BODY_CHUNKED);
  CHECK_EQ(p.content_length, -1);
  CHECK_EQ(p.keepalive, 0);
}

TEST(http_connection_keepalive_per_version) {
  static const struct { const char *req; int keep; } cases[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", 0},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", 1},
    {"GET / HTTP/1.0\r\n\r\n", 0},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1},
    {"GET / HTTP/1.0\r\nConnection: foo,keep-alive , bar\r\n\r\n", 1},
    {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
     0},
    {"GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", 0},
  };
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  size_t i;
  for (i = 0; i < sizeof cases / sizeof *cases; i++) {
    CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, cases[i].req), 0);
    if (p.keepalive != cases[i].keep)
      FAIL("%s: keepalive %d", cases[i].req, p.keepalive);
  }
}

TEST(http_expect_100_continue) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "PUT / HTTP/1.1\r\nHost: a\r\n"
                 "Expect: 100-Continue\r\nContent-Length: 9\r\n\r\n"), 0);
  CHECK_EQ(p.expect_continue, 1);
  /* Only HTTP/1.1 clients wait for it. */
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "PUT / HTTP/1.0\r\n"
                 "Expect: 100-continue\r\nContent-Length: 9\r\n\r\n"), 0);
  CHECK_EQ(p.expect_continue, 0);
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "PUT / HTTP/1.1\r\nHost: a\r\n"
                 "Expect: something\r\n\r\n"), 0);
  CHECK_EQ(p.expect_continue, 0);
}

TEST(http_an_error_is_sticky) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  CHECK_EQ(parse(&p, LG_HTTP_REQUEST, h, "GET / HTTP/3.0\r\n"), 505);
  CHECK_EQ(lg_http_parse(&p, buf, load("GET / HTTP/3.0\r\nHost: a\r\n\r\n")),
           505);
  CHECK(strcmp(p.why, "HTTP version not supported") == 0);
}

/* ------------------------------------------------------------ chunked */
/* Decode in pieces of `step` into out; returns the last result. */
static int dechunk(const char *in, size_t len, size_t step,
                   const lg_http_limits_t *lim, char *out, size_t *outlen,
                   size_t *consumed) {
  lg_http_chunked_t c;
  size_t at = 0, end, used, off, n;
  int rc = LG_EAGAIN;
  lg_http_chunked_init(&c, lim);
  *outlen = 0;
  while (rc == LG_EAGAIN && at < len) {
    end = at + step < len ? at + step : len;
    rc = lg_http_chunked(&c, in + at, end - at, &used, &off, &n);
    if (used > end - at || off + n > used) return -100;  /* contract */
    memcpy(out + *outlen, in + at + off, n);
    *outlen += n;
    at += used;
  }
  *consumed = at;
  return rc;
}

TEST(chunked_decodes_with_extensions_and_trailers) {
  static const char body[] =
    "5\r\nhello\r\n"
    "1;name=value;x=\"q;uoted\"\r\n \r\n"
    "00000B \t; ext\r\nworld, 1234\r\n"
    "9\nfrom LF!!\n"
    "0\r\nTrailer: x\r\nOther: y\r\n\r\n"
    "NEXT";
  static const size_t steps[] = {1, 2, 5, 1000};
  char out[64];
  size_t s, n, used;
  for (s = 0; s < sizeof steps / sizeof *steps; s++) {
    CHECK_EQ(dechunk(body, strlen(body), steps[s], NULL, out, &n, &used), 0);
    CHECK_STR(out, n, "hello world, 1234from LF!!");
    CHECK_EQ(used, strlen(body) - 4);  /* stops before NEXT */
  }
}

TEST(chunked_empty_body) {
  char out[8];
  size_t n, used;
  CHECK_EQ(dechunk("0\r\n\r\n", 5, 1, NULL, out, &n, &used), 0);
  CHECK_EQ(n, 0);
  CHECK_EQ(used, 5);
  CHECK_EQ(dechunk("0\r\n", 3, 1, NULL, out, &n, &used), LG_EAGAIN);
}

TEST(chunked_bad_framing_is_400) {
  static const raw_t bad[] = {
    RAW("\r\n"), RAW("x\r\n"), RAW("-1\r\n"), RAW(" 5\r\nhello\r\n"),
    RAW("5 x\r\n"), RAW("5\rx"), RAW("5\r\nhelloX\r\n"),
    RAW("5\r\nhello\r\r\n"), RAW("5;a\0b\r\n"),
    RAW("10000000000000000\r\n"),  /* 2^64 */
    RAW("8000000000000000\r\n"),   /* 2^63 */
    RAW("0\r\nX: \x01\r\n\r\n"), RAW("0\r\n\r\r\n"),
  };
  lg_http_limits_t lim = {0, INT64_MAX};
  char out[64];
  size_t i, n, used;
  int rc;
  for (i = 0; i < sizeof bad / sizeof *bad; i++) {
    rc = dechunk(bad[i].s, bad[i].n, 1, &lim, out, &n, &used);
    if (rc != 400) FAIL("%zu: got %d, want 400", i, rc);
  }
  /* The largest size that fits is no error by itself. */
  CHECK_EQ(dechunk("7fffffffffffffff\r\nab", 20, 1, &lim, out, &n, &used),
           LG_EAGAIN);
  CHECK_EQ(n, 2);
}

TEST(chunked_body_over_max_is_413) {
  lg_http_limits_t lim = {0, 10};
  char out[64];
  size_t n, used;
  CHECK_EQ(dechunk("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 25, 3, &lim,
                   out, &n, &used), 0);
  CHECK_EQ(n, 10);
  /* Refused at the size line, before any of its data arrives. */
  CHECK_EQ(dechunk("5\r\nhello\r\n6\r\n", 13, 1, &lim, out, &n, &used), 413);
  CHECK_EQ(dechunk("b\r\n", 3, 1, &lim, out, &n, &used), 413);
}

TEST(chunked_long_lines_are_bounded) {
  lg_http_limits_t lim = {16, 0};
  char in[64], out[64];
  size_t n, used;
  /* A size line with a long extension: 400. */
  memset(in, 'x', sizeof in);
  memcpy(in, "1;", 2);
  CHECK_EQ(dechunk(in, sizeof in, 1, &lim, out, &n, &used), 400);
  CHECK(used <= 17);
  /* Trailers over max_head: 431. */
  memcpy(in, "0\r\nA: 0123456789", 16);
  CHECK_EQ(dechunk(in, sizeof in, 1, &lim, out, &n, &used), 431);
}

/* ----------------------------------------------------------- responses */
TEST(response_with_content_length) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  const char *res = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc";
  CHECK_EQ(parse(&p, LG_HTTP_RESPONSE, h, res), 0);
  CHECK_EQ(p.status, 404);
  CHECK_SPAN(p.reason, "Not Found");
  CHECK_EQ(p.body, LG_HTTP_BODY_LENGTH);
  CHECK_EQ(p.content_length, 3);
  CHECK_EQ(p.headlen, strlen(res) - 3);
  CHECK_EQ(p.keepalive, 1);
  /* No reason phrase, with or without its space. */
  CHECK_EQ(parse(&p, LG_HTTP_RESPONSE, h, "HTTP/1.1 200\r\n\r\n"), 0);
  CHECK_SPAN(p.reason, "");
  CHECK_EQ(parse(&p, LG_HTTP_RESPONSE, h, "HTTP/1.0 200 \r\n\r\n"), 0);
  CHECK_EQ(p.minor, 0);
}

TEST(response_chunked_byte_by_byte) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  char out[32];
  size_t len, n, used;
  len = load("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n");
  lg_http_init(&p, LG_HTTP_RESPONSE, NULL, h, MAXH);
  CHECK_EQ(feed(&p, len, 1), 0);
  CHECK_EQ(p.body, LG_HTTP_BODY_CHUNKED);
  CHECK_EQ(dechunk(buf + p.headlen, len - p.headlen, 1, NULL, out, &n,
                   &used), 0);
  CHECK_STR(out, n, "Wikipedia");
  CHECK_EQ(p.headlen + used, len);
}

TEST(response_close_delimited) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  CHECK_EQ(parse(&p, LG_HTTP_RESPONSE, h, "HTTP/1.1 200 OK\r\n"
                 "Content-Type: text/plain\r\n\r\nuntil EOF"), 0);
  CHECK_EQ(p.body, LG_HTTP_BODY_EOF);
  CHECK_EQ(p.keepalive, 0);
  CHECK_EQ(parse(&p, LG_HTTP_RESPONSE, h, "HTTP/1.0 200 OK\r\n"
                 "Connection: keep-alive\r\nContent-Length: 0\r\n\r\n"), 0);
  CHECK_EQ(p.body, LG_HTTP_BODY_NONE);
  CHECK_EQ(p.keepalive, 1);
}

TEST(response_without_body_head_204_304_1xx) {
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  const char *res = "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n";
  lg_http_init(&p, LG_HTTP_RESPONSE_TO_HEAD, NULL, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, load(res)), 0);
  CHECK_EQ(p.body, LG_HTTP_BODY_NONE);
  CHECK_EQ(p.content_length, 42);  /* what the GET would have had */
  CHECK_EQ(p.keepalive, 1);
  CHECK_EQ(parse(&p, LG_HTTP_RESPONSE, h, "HTTP/1.1 204 No Content\r\n\r\n"),
           0);
  CHECK_EQ(p.body, LG_HTTP_BODY_NONE);
  CHECK_EQ(p.keepalive, 1);
  CHECK_EQ(parse(&p, LG_HTTP_RESPONSE, h, "HTTP/1.1 304 Not Modified\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n"), 0);
  CHECK_EQ(p.body, LG_HTTP_BODY_NONE);
  /* The body limit applies to a body, not to a HEAD's Content-Length. */
  CHECK_EQ(parse(&p, LG_HTTP_RESPONSE, h, "HTTP/1.1 200 OK\r\n"
                 "Content-Length: 99999999999\r\n\r\n"), 413);
  lg_http_init(&p, LG_HTTP_RESPONSE_TO_HEAD, NULL, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, load("HTTP/1.1 200 OK\r\n"
                                       "Content-Length: 99999999999\r\n\r\n")),
           0);
}

TEST(response_100_continue_then_final) {
  static const char stream[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n"
                               "\r\nok";
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  size_t len = load(stream), at;
  lg_http_init(&p, LG_HTTP_RESPONSE, NULL, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, len), 0);
  CHECK_EQ(p.status, 100);
  CHECK_EQ(p.body, LG_HTTP_BODY_NONE);
  at = p.headlen;
  lg_http_reset(&p);
  CHECK_EQ(lg_http_parse(&p, buf + at, len - at), 0);
  CHECK_EQ(p.status, 201);
  CHECK_EQ(p.content_length, 2);
  CHECK_EQ(at + p.headlen + 2, len);
}

TEST(response_malformed) {
  static const raw_t bad[] = {
    RAW("HTTP/1.1 20 OK\r\n\r\n"), RAW("HTTP/1.1 2000 OK\r\n\r\n"),
    RAW("HTTP/1.1 099 X\r\n\r\n"), RAW("HTTP/1.1  200 OK\r\n\r\n"),
    RAW("HTTP/1.1 200 O\rK\r\n\r\n"), RAW("HTTP/1.1\r\n\r\n"),
    RAW("ICY 200 OK\r\n\r\n"), RAW("\r\nHTTP/1.1 200 OK\r\n\r\n"),
    RAW("HTTP/1.1 abc OK\r\n\r\n"),
    RAW("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
    RAW("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
  };
  static const raw_t v[] = {RAW("HTTP/2.0 200 OK\r\n\r\n")};
  static const raw_t te[] = {
    RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: br\r\n\r\n"),
  };
  CHECK_ALL_FAIL(LG_HTTP_RESPONSE, bad, 400);
  CHECK_ALL_FAIL(LG_HTTP_RESPONSE, v, 505);
  CHECK_ALL_FAIL(LG_HTTP_RESPONSE, te, 501);
}

/* -------------------------------------------------------------- writers */
TEST(write_response_head_exact_bytes) {
  lg_http_buf_t b;
  lg_http_buf_init(&b, NULL, 0);
  CHECK_EQ(lg_http_write_status(&b, 200, NULL), 0);
  CHECK_EQ(lg_http_write_header(&b, "Content-Type", 12, "text/plain", 10), 0);
  CHECK_EQ(lg_http_write_end(&b, 5, "Sun, 06 Nov 1994 08:49:37 GMT",
                             LG_HTTP_CONN_CLOSE), 0);
  CHECK_EQ(lg_http_buf_put(&b, "hello", 5), 0);
  CHECK_STR(b.data, b.len, "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\nContent-Length: 5\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n"
            "\r\nhello");
  b.len = 0;
  CHECK_EQ(lg_http_write_status(&b, 599, NULL), 0);
  CHECK_EQ(lg_http_write_end(&b, LG_HTTP_CHUNKED, NULL, LG_HTTP_CONN_NONE),
           0);
  CHECK_STR(b.data, b.len, "HTTP/1.1 599 \r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
  b.len = 0;
  CHECK_EQ(lg_http_write_status(&b, 204, "Nothing"), 0);
  CHECK_EQ(lg_http_write_end(&b, LG_HTTP_NOLENGTH, NULL,
                             LG_HTTP_CONN_KEEPALIVE), 0);
  CHECK_STR(b.data, b.len, "HTTP/1.1 204 Nothing\r\n"
            "Connection: keep-alive\r\n\r\n");
  lg_http_buf_free(&b);
  lg_http_buf_free(&b);  /* safe twice */
}

TEST(write_request_head_exact_bytes) {
  char mem[128];
  lg_http_buf_t b;
  lg_http_buf_init(&b, mem, sizeof mem);
  CHECK_EQ(lg_http_write_reqline(&b, "POST", "/up?x=1"), 0);
  CHECK_EQ(lg_http_write_header(&b, "Host", 4, "example.com:8080", 16), 0);
  CHECK_EQ(lg_http_write_end(&b, 0, NULL, LG_HTTP_CONN_NONE), 0);
  CHECK_STR(b.data, b.len, "POST /up?x=1 HTTP/1.1\r\n"
            "Host: example.com:8080\r\nContent-Length: 0\r\n\r\n");
  CHECK_PTR(b.data, mem);
}

TEST(write_rejects_what_would_break_framing) {
  char mem[256];
  lg_http_buf_t b;
  lg_http_buf_init(&b, mem, sizeof mem);
  CHECK_EQ(lg_http_write_status(&b, 200, NULL), 0);
  CHECK_EQ(lg_http_write_header(&b, "X", 1, "a\r\nSet-Cookie: x", 17),
           LG_EINVAL);
  CHECK_EQ(lg_http_write_header(&b, "X", 1, "a\nb", 3), LG_EINVAL);
  CHECK_EQ(lg_http_write_header(&b, "X", 1, "a\0b", 3), LG_EINVAL);
  CHECK_EQ(lg_http_write_header(&b, "X Y", 3, "v", 1), LG_EINVAL);
  CHECK_EQ(lg_http_write_header(&b, "X:", 2, "v", 1), LG_EINVAL);
  CHECK_EQ(lg_http_write_header(&b, "", 0, "v", 1), LG_EINVAL);
  CHECK_EQ(lg_http_write_status(&b, 99, NULL), LG_EINVAL);
  CHECK_EQ(lg_http_write_status(&b, 1000, NULL), LG_EINVAL);
  CHECK_EQ(lg_http_write_status(&b, 200, "O\r\nK"), LG_EINVAL);
  CHECK_EQ(lg_http_write_reqline(&b, "GET", "/a b"), LG_EINVAL);
  CHECK_EQ(lg_http_write_reqline(&b, "G T", "/"), LG_EINVAL);
  CHECK_EQ(lg_http_write_reqline(&b, "GET", ""), LG_EINVAL);
  CHECK_EQ(lg_http_write_end(&b, -3, NULL, 0), LG_EINVAL);
  CHECK_EQ(lg_http_write_end(&b, 0, "x\r\n", 0), LG_EINVAL);
  CHECK_EQ(lg_http_write_end(&b, 0, NULL, 3), LG_EINVAL);
  /* Nothing of the failed writes is left. */
  CHECK_STR(b.data, b.len, "HTTP/1.1 200 OK\r\n");
}

TEST(write_is_all_or_nothing_when_out_of_room) {
  char mem[24];
  lg_http_buf_t b;
  int i;
  lg_http_buf_init(&b, mem, sizeof mem);
  CHECK_EQ(lg_http_write_status(&b, 200, NULL), 0);  /* 17 bytes */
  CHECK_EQ(lg_http_write_header(&b, "Abc", 3, "def", 3), LG_ENOMEM);
  CHECK_EQ(b.len, 17);
  CHECK_EQ(lg_http_write_end(&b, 12345, NULL, 0), LG_ENOMEM);
  CHECK_EQ(b.len, 17);
  CHECK_EQ(lg_http_write_header(&b, "A", 1, "b", 1), 0);
  CHECK_EQ(b.len, 23);
  /* A growable buffer whose realloc fails is left as it was too. */
  memset(buf, 'v', 1000);
  for (i = 1; i <= 3; i++) {
    lg_http_buf_init(&b, NULL, 0);
    CHECK_EQ(lg_http_write_status(&b, 200, NULL), 0);
    lg_testing_failalloc(1);
    CHECK_EQ(lg_http_write_header(&b, "X", 1, buf, (size_t)i * 300),
             LG_ENOMEM);
    CHECK_EQ(b.len, 17);
    CHECK_STR(b.data, b.len, "HTTP/1.1 200 OK\r\n");
    lg_http_buf_free(&b);
  }
}

TEST(write_chunks) {
  char line[LG_HTTP_CHUNK_LINE];
  lg_http_buf_t b;
  CHECK_EQ(lg_http_chunk_line(line, 255), 4);
  CHECK(strcmp(line, "ff\r\n") == 0);
  CHECK_EQ(lg_http_chunk_line(line, 0), 5);
  CHECK(strcmp(line, "0\r\n\r\n") == 0);
  CHECK_EQ(lg_http_chunk_line(line, SIZE_MAX), 18);
  CHECK(strcmp(line, "ffffffffffffffff\r\n") == 0);
  lg_http_buf_init(&b, NULL, 0);
  CHECK_EQ(lg_http_write_chunk(&b, "hello world, 16b", 16), 0);
  CHECK_EQ(lg_http_write_chunk(&b, "!", 1), 0);
  CHECK_EQ(lg_http_write_chunk(&b, NULL, 0), 0);
  CHECK_STR(b.data, b.len, "10\r\nhello world, 16b\r\n1\r\n!\r\n0\r\n\r\n");
  lg_http_buf_free(&b);
}

TEST(write_then_parse_round_trip) {
  lg_http_buf_t b;
  lg_http_parser_t p;
  lg_http_header_t h[MAXH];
  char out[64];
  size_t n, used;
  lg_http_buf_init(&b, NULL, 0);
  CHECK_EQ(lg_http_write_status(&b, 503, NULL), 0);
  CHECK_EQ(lg_http_write_header(&b, "Retry-After", 11, "5", 1), 0);
  CHECK_EQ(lg_http_write_end(&b, LG_HTTP_CHUNKED, NULL, 0), 0);
  CHECK_EQ(lg_http_write_chunk(&b, "busy", 4), 0);
  CHECK_EQ(lg_http_write_chunk(&b, NULL, 0), 0);
  memcpy(buf, b.data, b.len);
  lg_http_init(&p, LG_HTTP_RESPONSE, NULL, h, MAXH);
  CHECK_EQ(lg_http_parse(&p, buf, b.len), 0);
  CHECK_EQ(p.status, 503);
  CHECK_SPAN(p.reason, "Service Unavailable");
  CHECK_SPAN(h[0].name, "retry-after");
  CHECK_EQ(p.body, LG_HTTP_BODY_CHUNKED);
  CHECK_EQ(dechunk(buf + p.headlen, b.len - p.headlen, 1, NULL, out, &n,
                   &used), 0);
  CHECK_STR(out, n, "busy");
  CHECK_EQ(p.headlen + used, b.len);
  lg_http_buf_free(&b);
}

TEST(http_date_and_reasons) {
  char d[LG_HTTP_DATE_LEN + 1];
  CHECK_EQ(lg_http_date(d, 784111777), LG_HTTP_DATE_LEN);
  CHECK(strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
  lg_http_date(d, 0);
  CHECK(strcmp(d, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  lg_http_date(d, 951782400);
  CHECK(strcmp(d, "Tue, 29 Feb 2000 00:00:00 GMT") == 0);
  lg_http_date(d, 4107542399);
  CHECK(strcmp(d, "Sun, 28 Feb 2100 23:59:59 GMT") == 0);
  lg_http_date(d, 4107542400);  /* 2100 is no leap year */
  CHECK(strcmp(d, "Mon, 01 Mar 2100 00:00:00 GMT") == 0);
  CHECK(strcmp(lg_http_reason(431), "Request Header Fields Too Large") == 0);
  CHECK(strcmp(lg_http_reason(200), "OK") == 0);
  CHECK(strcmp(lg_http_reason(299), "") == 0);
}
