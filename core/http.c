/* HTTP/1.1 messages: head parsers, the chunked decoder and the writers.
 * Contracts are in http.h; the rules follow RFC 9112, and Go's net/http
 * where the RFC leaves a choice. */
#include <string.h>
#include "http.h"

enum { S_START, S_HEADERS, S_DONE, S_ERROR };
enum { CONN_CLOSE = 1, CONN_KEEPALIVE = 2 };

/* ------------------------------------------------------------ characters */
static int tchar(unsigned char c) {
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
  if (c >= '0' && c <= '9') return 1;
  switch (c) {  /* a bit test, where strchr was a call per byte */
  case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
  case '+': case '-': case '.': case '^': case '_': case '`': case '|':
  case '~':
    return 1;
  default:
    return 0;
  }
}

/* A header value's bytes: tab, visible ASCII, space, obs-text. */
static int vchar(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* A request target's: visible ASCII and obs-text (Go lets those through). */
static int tgtchar(unsigned char c) {
  return c > 0x20 && c != 0x7f;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static int ows(char c) {
  return c == ' ' || c == '\t';
}

/* Equal ignoring ASCII case; `lit` is lower-case. */
static int eqi(const char *s, size_t n, const char *lit) {
  size_t i;
  if (n != strlen(lit)) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z') c |= 0x20;
    if (c != (unsigned char)lit[i]) return 0;
  }
  return 1;
}

static int alllit(const char *s, size_t n, const char *lit) {
  return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static lg_http_span_t span(size_t off, size_t len) {
  lg_http_span_t s;
  s.off = (uint32_t)off;  /* off + len <= max_head <= UINT32_MAX */
  s.len = (uint32_t)len;
  return s;
}

/* ------------------------------------------------------------ head parser */
void lg_http_init(lg_http_parser_t *p, int kind, const lg_http_limits_t *lim,
                  lg_http_header_t *headers, size_t maxheaders) {
  memset(p, 0, sizeof *p);
  p->kind = kind;
  if (lim) p->lim = *lim;
  if (p->lim.max_head == 0) p->lim.max_head = LG_HTTP_MAX_HEAD;
  if (p->lim.max_head > UINT32_MAX) p->lim.max_head = UINT32_MAX;
  if (p->lim.max_body <= 0) p->lim.max_body = LG_HTTP_MAX_BODY;
  p->headers = headers;
  p->maxheaders = maxheaders;
  p->content_length = -1;
}

void lg_http_reset(lg_http_parser_t *p) {
  lg_http_limits_t lim = p->lim;
  lg_http_init(p, p->kind, &lim, p->headers, p->maxheaders);
}

static int fail(lg_http_parser_t *p, int status, const char *why) {
  p->state = S_ERROR;
  p->error = status;
  p->why = why;
  return status;
}

/* "HTTP/d.d", exactly. */
static int version(lg_http_parser_t *p, const char *s, size_t n) {
  if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[5] < '0' || s[5] > '9' ||
      s[6] != '.' || s[7] < '0' || s[7] > '9')
    return fail(p, 400, "bad HTTP version");
  if (s[5] != '1') return fail(p, 505, "HTTP version not supported");
  p->minor = s[7] - '0';
  return 0;
}

/* Split the target into path and query (see http.h for the forms). */
static int split_target(lg_http_parser_t *p, const char *buf) {
  const char *t = buf + p->target.off, *m = buf + p->method.off;
  size_t n = p->target.len, ps = 0, q;
  if (alllit(m, p->method.len, "CONNECT") ||
      (alllit(m, p->method.len, "OPTIONS") && alllit(t, n, "*"))) {
    p->path = p->target;
    p->query = span(p->target.off + n, 0);
    return 0;
  }
  if (t[0] != '/') {  /* absolute-form: scheme "://" authority [path] */
    while (ps < n && (tchar((unsigned char)t[ps]) && t[ps] != '/')) ps++;
    if (ps == 0 || n - ps < 3 || memcmp(t + ps, "://", 3) != 0)
      return fail(p, 400, "bad request target");
    for (ps += 3; ps < n && t[ps] != '/' && t[ps] != '?'; ps++) {}
  }
  for (q = ps; q < n && t[q] != '?'; q++) {}
  p->path = span(p->target.off + ps, q - ps);
  p->query = q < n ? span(p->target.off + q + 1, n - q - 1)
                   : span(p->target.off + n, 0);
  return 0;
}

/* method SP target SP version: single spaces, as RFC 9112 3 has it. */
static int request_line(lg_http_parser_t *p, char *buf, size_t off,
                        size_t n) {
  const char *s = buf + off;
  size_t i = 0, t;
  int rc;
  if (n == 0) return LG_EAGAIN;  /* blank lines before a request: RFC
                                    9112 2.2 says to ignore them */
  while (i < n && tchar((unsigned char)s[i])) i++;
  if (i == 0 || i == n || s[i] != ' ')
    return fail(p, 400, "bad request method");
  p->method = span(off, i);
  t = ++i;
  while (i < n && tgtchar((unsigned char)s[i])) i++;
  if (i == t || i == n || s[i] != ' ')
    return fail(p, 400, "bad request target");
  p->target = span(off + t, i - t);
  i++;
  if ((rc = version(p, s + i, n - i)) != 0) return rc;
  if ((rc = split_target(p, buf)) != 0) return rc;
  p->state = S_HEADERS;
  return LG_EAGAIN;
}

/* version SP 3DIGIT [SP reason]: Go also takes a line without the
 * reason's space, so do we. */
static int status_line(lg_http_parser_t *p, const char *buf, size_t off,
                       size_t n) {
  const char *s = buf + off;
  size_t i;
  int rc;
  if ((rc = version(p, s, n < 8 ? n : 8)) != 0) return rc;
  if (n < 12 || s[8] != ' ')
    return fail(p, 400, "bad status line");
  for (i = 9; i < 12; i++)
    if (s[i] < '0' || s[i] > '9') return fail(p, 400, "bad status code");
  p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
  if (p->status < 100) return fail(p, 400, "bad status code");
  if (n > 12 && s[12] != ' ') return fail(p, 400, "bad status line");
  for (i = 13; i < n; i++)
    if (!vchar((unsigned char)s[i])) return fail(p, 400, "bad reason");
  p->reason = n > 12 ? span(off + 13, n - 13) : span(off + 12, 0);
  p->state = S_HEADERS;
  return LG_EAGAIN;
}

/* 1*DIGIT, no sign, no list: Go's rules. Repeats must agree. */
static int content_length(lg_http_parser_t *p, const char *v, size_t n) {
  int64_t x = 0;
  size_t i;
  if (n == 0) return fail(p, 400, "empty Content-Length");
  for (i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') return fail(p, 400, "bad Content-Length");
    if (x > (INT64_MAX - (v[i] - '0')) / 10)
      return fail(p, 400, "Content-Length overflows");
    x = x * 10 + (v[i] - '0');
  }
  if (p->content_length >= 0 && p->content_length != x)
    return fail(p, 400, "conflicting Content-Length");
  p->content_length = x;
  return 0;
}

/* A comma-separated token list; only close and keep-alive matter. */
static void connection(lg_http_parser_t *p, const char *v, size_t n) {
  size_t i = 0, s, e;
  while (i < n) {
    for (s = i; s < n && v[s] != ','; s++) {}
    e = s;
    while (i < e && ows(v[i])) i++;
    while (e > i && ows(v[e - 1])) e--;
    if (eqi(v + i, e - i, "close")) p->conn |= CONN_CLOSE;
    else if (eqi(v + i, e - i, "keep-alive")) p->conn |= CONN_KEEPALIVE;
    i = s + 1;
  }
}

/* The headers that decide framing and the connection's fate. */
static int known_header(lg_http_parser_t *p, const char *name, size_t nlen,
                        const char *v, size_t vlen) {
  if (alllit(name, nlen, "content-length"))
    return content_length(p, v, vlen);
  if (alllit(name, nlen, "transfer-encoding")) {
    /* Only chunked, once: any other coding would need a decoder we do not
     * have, and a list is how smuggling disagreements start (Go: 501). */
    if (++p->nte > 1 || !eqi(v, vlen, "chunked"))
      return fail(p, 501, "unsupported Transfer-Encoding");
  } else if (alllit(name, nlen, "connection")) {
    connection(p, v, vlen);
  } else if (alllit(name, nlen, "expect")) {
    if (eqi(v, vlen, "100-continue")) p->expect_continue = 1;
  } else if (alllit(name, nlen, "host")) {
    p->nhost++;
  }
  return 0;
}

/* The blank line: decide how the body is delimited. */
static int end_of_head(lg_http_parser_t *p, size_t end) {
  int req = p->kind == LG_HTTP_REQUEST, chunked = p->nte > 0;
  int64_t cl = p->content_length;
  p->headlen = end;
  /* RFC 9112 3.2: a server MUST answer 400 to these. */
  if (req && (p->nhost > 1 || (p->nhost == 0 && p->minor >= 1)))
    return fail(p, 400, p->nhost ? "repeated Host" : "missing Host");
  /* RFC 9112 6.1: 1.0 framing with Transfer-Encoding is faulty. */
  if (chunked && p->minor == 0)
    return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
  if (p->minor >= 1) p->keepalive = !(p->conn & CONN_CLOSE);
  else p->keepalive = p->conn == CONN_KEEPALIVE;
  /* Both framings: chunked wins, and the connection must close after. */
  if (chunked && cl >= 0) p->keepalive = 0;
  if (!req || p->minor == 0) p->expect_continue = 0;
  if (!req && (p->status < 200 || p->status == 204 || p->status == 304 ||
               p->kind == LG_HTTP_RESPONSE_TO_HEAD)) {
    p->body = LG_HTTP_BODY_NONE;  /* Content-Length, if any, describes
                                     what a GET would have had */
  } else if (chunked) {
    p->body = LG_HTTP_BODY_CHUNKED;
    p->content_length = -1;
  } else if (cl > 0) {
    if (cl > p->lim.max_body) return fail(p, 413, "body too large");
    p->body = LG_HTTP_BODY_LENGTH;
  } else if (req || cl == 0) {
    p->body = LG_HTTP_BODY_NONE;
  } else {
    p->body = LG_HTTP_BODY_EOF;
    p->keepalive = 0;
  }
  p->state = S_DONE;
  return 0;
}

/* name ":" OWS value OWS. `end` is the offset after the line's LF. */
static int header_line(lg_http_parser_t *p, char *buf, size_t off,
                       size_t n, size_t end) {
  char *s = buf + off;
  size_t i = 0, vs, ve, k;
  lg_http_header_t *h;
  if (n == 0) return end_of_head(p, end);
  if (ows(s[0])) return fail(p, 400, "obs-fold or space before a header");
  for (; i < n && tchar((unsigned char)s[i]); i++)
    if (s[i] >= 'A' && s[i] <= 'Z') s[i] |= 0x20;
  if (i == 0 || i == n || s[i] != ':')
    return fail(p, 400, "bad header name");
  for (vs = i + 1; vs < n && ows(s[vs]); vs++) {}
  for (ve = n; ve > vs && ows(s[ve - 1]); ve--) {}
  for (k = vs; k < ve; k++)
    if (!vchar((unsigned char)s[k])) return fail(p, 400, "bad header value");
  if (p->nheaders == p->maxheaders) return fail(p, 431, "too many headers");
  h = &p->headers[p->nheaders++];
  h->name = span(off, i);
  h->value = span(off + vs, ve - vs);
  return known_header(p, s, i, s + vs, ve - vs) ? p->error : LG_EAGAIN;
}

int lg_http_parse(lg_http_parser_t *p, char *buf, size_t len) {
  size_t lim, end, n;
  const char *lf;
  int rc;
  if (p->state == S_DONE) return 0;
  if (p->state == S_ERROR) return p->error;
  /* A head longer than max_head is an error whatever follows, so never
   * look further: a big buffer of pipelined bodies costs nothing. */
  lim = len < p->lim.max_head ? len : p->lim.max_head;
  while (p->scan < lim) {
    lf = memchr(buf + p->scan, '\n', lim - p->scan);
    if (lf == NULL) {
      p->scan = lim;
      break;
    }
    end = (size_t)(lf - buf) + 1;
    p->scan = end;
    n = end - 1 - p->pos;
    if (n > 0 && buf[p->pos + n - 1] == '\r') n--;
    if (p->state == S_HEADERS) rc = header_line(p, buf, p->pos, n, end);
    else if (p->kind == LG_HTTP_REQUEST) rc = request_line(p, buf, p->pos, n);
    else rc = status_line(p, buf, p->pos, n);
    p->pos = end;
    if (rc != LG_EAGAIN) return rc;
  }
  if (len >= p->lim.max_head) return fail(p, 431, "head too large");
  return LG_EAGAIN;
}

const char *lg_http_get(const lg_http_parser_t *p, const char *buf,
                        const char *name, size_t *vlen) {
  size_t i;
  for (i = 0; i < p->nheaders; i++) {
    const lg_http_header_t *h = &p->headers[i];
    if (alllit(buf + h->name.off, h->name.len, name)) {
      *vlen = h->value.len;
      return buf + h->value.off;
    }
  }
  return NULL;
}

/* ---------------------------------------------------------- chunked body
 * A byte-at-a-time state machine, except that data runs are handed out
 * whole: framing is a few bytes per chunk, so this costs nothing. */
enum {
  C_SIZE,      /* hex digits of a chunk size */
  C_SIZE_END,  /* after them: spaces, ';' or the line end */
  C_EXT,       /* a chunk extension, skipped */
  C_LF,        /* a CR was seen: the LF must follow, then after_lf */
  C_DATA,
  C_DATA_END,  /* the CRLF after a chunk's data */
  C_TRAILER0,  /* start of a trailer line, or the final blank line */
  C_TRAILER,   /* inside a trailer line, skipped */
  C_DONE,
  C_ERROR
};

void lg_http_chunked_init(lg_http_chunked_t *c, const lg_http_limits_t *lim) {
  memset(c, 0, sizeof *c);
  c->max_body = lim && lim->max_body > 0 ? lim->max_body : LG_HTTP_MAX_BODY;
  c->max_line = lim && lim->max_head > 0 ? lim->max_head : LG_HTTP_MAX_HEAD;
  c->state = C_SIZE;
}

static int cfail(lg_http_chunked_t *c, int status, const char *why) {
  c->state = C_ERROR;
  c->error = status;
  c->why = why;
  return status;
}

/* The line end of a size line, or of a trailer line (after_lf). */
static int line_end(lg_http_chunked_t *c, unsigned char ch, int next) {
  if (ch == '\n') {
    c->state = next;
  } else if (ch == '\r') {
    c->state = C_LF;
    c->after_lf = next;
  } else {
    return 0;
  }
  return 1;
}

/* One framing byte. Returns 0, or an error status. */
static int chunk_byte(lg_http_chunked_t *c, unsigned char ch) {
  int d, next = c->left > 0 ? C_DATA : C_TRAILER0;
  switch (c->state) {
  case C_SIZE:
    if ((d = hexval(ch)) >= 0) {
      if (c->left > (INT64_MAX - d) / 16)
        return cfail(c, 400, "chunk size overflows");
      c->left = c->left * 16 + d;
      c->ndigits++;
      break;
    }
    if (c->ndigits == 0) return cfail(c, 400, "bad chunk size");
    if (c->left > c->max_body - c->total)
      return cfail(c, 413, "body too large");
    c->state = C_SIZE_END;  /* and this byte is the first after them */
    /* fall through */
  case C_SIZE_END:
    if (ows((char)ch)) break;
    if (ch == ';') c->state = C_EXT;
    else if (!line_end(c, ch, next)) return cfail(c, 400, "bad chunk size");
    break;
  case C_EXT:
    if (!line_end(c, ch, next) && !vchar(ch))
      return cfail(c, 400, "bad chunk extension");
    break;
  case C_LF:
    if (ch != '\n') return cfail(c, 400, "CR without LF");
    c->state = c->after_lf;
    break;
  case C_DATA_END:
    if (!line_end(c, ch, C_SIZE)) return cfail(c, 400, "no CRLF after data");
    c->ndigits = 0;
    c->linelen = 0;
    return 0;
  case C_TRAILER0:
  case C_TRAILER:
    if (++c->trailers > c->max_line)
      return cfail(c, 431, "trailers too large");
    if (c->state == C_TRAILER0 && line_end(c, ch, C_DONE)) break;
    if (!line_end(c, ch, C_TRAILER0)) {
      if (!vchar(ch)) return cfail(c, 400, "bad trailer");
      c->state = C_TRAILER;
    }
    break;
  }
  /* Size lines are bounded so a client cannot make us skip forever. */
  if (c->state <= C_EXT && ++c->linelen > c->max_line)
    return cfail(c, 400, "chunk size line too long");
  return 0;
}

int lg_http_chunked(lg_http_chunked_t *c, const char *buf, size_t len,
                    size_t *used, size_t *off, size_t *n) {
  size_t i = 0, take;
  int rc;
  *off = *n = 0;
  while (i < len && c->state != C_DONE && c->state != C_ERROR) {
    if (c->state == C_DATA) {
      take = len - i;
      if ((uint64_t)take > (uint64_t)c->left) take = (size_t)c->left;
      *off = i;
      *n = take;
      c->left -= (int64_t)take;
      c->total += (int64_t)take;
      if (c->left == 0) c->state = C_DATA_END;
      *used = i + take;
      return LG_EAGAIN;
    }
    if ((rc = chunk_byte(c, (unsigned char)buf[i++])) != 0) {
      *used = i;
      return rc;
    }
  }
  *used = i;
  if (c->state == C_ERROR) return c->error;
  return c->state == C_DONE ? 0 : LG_EAGAIN;
}

/* ---------------------------------------------------------------- writers */
void lg_http_buf_init(lg_http_buf_t *b, char *mem, size_t cap) {
  b->data = mem;
  b->len = 0;
  b->cap = mem ? cap : 0;
  b->grows = mem == NULL;
}

void lg_http_buf_free(lg_http_buf_t *b) {
  if (b->grows) {
    lg__free(b->data);
    b->data = NULL;
  }
  b->len = b->cap = 0;
}

int lg_http_buf_put(lg_http_buf_t *b, const char *s, size_t n) {
  size_t cap;
  char *d;
  if (n > b->cap - b->len) {
    if (!b->grows || n > SIZE_MAX / 4 - b->len) return LG_ENOMEM;
    for (cap = b->cap ? b->cap : 256; cap - b->len < n; cap *= 2) {}
    if ((d = lg__realloc(b->data, cap)) == NULL) return LG_ENOMEM;
    b->data = d;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

/* lg_http_buf_put for the writers below: a response head is a dozen or
 * so short pieces, so the common case (room enough) is inlined, and a
 * literal's length and copy are known at compile time. */
static inline int put(lg_http_buf_t *b, const char *s, size_t n) {
  if (n == 0) return 0;  /* data may still be NULL */
  if (n > b->cap - b->len) return lg_http_buf_put(b, s, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

static inline int puts_(lg_http_buf_t *b, const char *s) {
  return put(b, s, strlen(s));
}

/* Decimal or hex digits of v into out (no NUL); returns the count. */
static size_t fmt_u64(char *out, uint64_t v, unsigned base) {
  char tmp[24];
  size_t n = 0, i;
  do {
    tmp[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  for (i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

static int put_u64(lg_http_buf_t *b, uint64_t v, unsigned base) {
  char tmp[24];
  return put(b, tmp, fmt_u64(tmp, v, base));
}

/* Inline, so that `ok` is inlined too: it runs for every byte of every
 * header written. */
static inline int all(const char *s, size_t n, int (*ok)(unsigned char)) {
  size_t i;
  for (i = 0; i < n; i++)
    if (!ok((unsigned char)s[i])) return 0;
  return 1;
}

/* Every writer is all or nothing: on failure, take its bytes back. */
static int undo(lg_http_buf_t *b, size_t mark, int rc) {
  if (rc) b->len = mark;
  return rc;
}

const char *lg_http_reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 103: return "Early Hints";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 203: return "Non-Authoritative Information";
  case 204: return "No Content";
  case 205: return "Reset Content";
  case 206: return "Partial Content";
  case 300: return "Multiple Choices";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Request Entity Too Large";
  case 414: return "Request URI Too Long";
  case 415: return "Unsupported Media Type";
  case 416: return "Requested Range Not Satisfiable";
  case 417: return "Expectation Failed";
  case 418: return "I'm a teapot";
  case 422: return "Unprocessable Entity";
  case 426: return "Upgrade Required";
  case 428: return "Precondition Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return "";
  }
}

static int status_(lg_http_buf_t *b, int status, const char *reason) {
  char code[3];
  int rc;
  if (status < 100 || status > 999) return LG_EINVAL;
  if (reason == NULL) reason = lg_http_reason(status);  /* valid */
  else if (!all(reason, strlen(reason), vchar)) return LG_EINVAL;
  code[0] = (char)('0' + status / 100);
  code[1] = (char)('0' + status / 10 % 10);
  code[2] = (char)('0' + status % 10);
  rc = puts_(b, "HTTP/1.1 ");
  if (!rc) rc = put(b, code, 3);
  if (!rc) rc = puts_(b, " ");
  if (!rc) rc = puts_(b, reason);
  return rc ? rc : puts_(b, "\r\n");
}

int lg_http_write_status(lg_http_buf_t *b, int status, const char *reason) {
  size_t mark = b->len;
  return undo(b, mark, status_(b, status, reason));
}

static int reqline_(lg_http_buf_t *b, const char *m, const char *t) {
  size_t mlen = strlen(m), tlen = strlen(t);
  int rc;
  if (!mlen || !tlen || !all(m, mlen, tchar) || !all(t, tlen, tgtchar))
    return LG_EINVAL;
  rc = put(b, m, mlen);
  if (!rc) rc = puts_(b, " ");
  if (!rc) rc = put(b, t, tlen);
  return rc ? rc : puts_(b, " HTTP/1.1\r\n");
}

int lg_http_write_reqline(lg_http_buf_t *b, const char *method,
                          const char *target) {
  size_t mark = b->len;
  return undo(b, mark, reqline_(b, method, target));
}

static int header_(lg_http_buf_t *b, const char *name, size_t nlen,
                   const char *value, size_t vlen) {
  int rc;
  if (!nlen || !all(name, nlen, tchar) || !all(value, vlen, vchar))
    return LG_EINVAL;
  rc = put(b, name, nlen);
  if (!rc) rc = puts_(b, ": ");
  if (!rc) rc = put(b, value, vlen);
  return rc ? rc : puts_(b, "\r\n");
}

int lg_http_write_header(lg_http_buf_t *b, const char *name, size_t nlen,
                         const char *value, size_t vlen) {
  size_t mark = b->len;
  return undo(b, mark, header_(b, name, nlen, value, vlen));
}

static int end_(lg_http_buf_t *b, int64_t length, const char *date,
                int conn) {
  int rc = 0;
  if (length < LG_HTTP_NOLENGTH || conn < LG_HTTP_CONN_NONE ||
      conn > LG_HTTP_CONN_KEEPALIVE)
    return LG_EINVAL;
  if (length >= 0) {
    rc = puts_(b, "Content-Length: ");
    if (!rc) rc = put_u64(b, (uint64_t)length, 10);
    if (!rc) rc = puts_(b, "\r\n");
  } else if (length == LG_HTTP_CHUNKED) {
    rc = puts_(b, "Transfer-Encoding: chunked\r\n");
  }
  if (!rc && date) rc = header_(b, "Date", 4, date, strlen(date));
  if (!rc && conn == LG_HTTP_CONN_CLOSE) rc = puts_(b, "Connection: close\r\n");
  if (!rc && conn == LG_HTTP_CONN_KEEPALIVE)
    rc = puts_(b, "Connection: keep-alive\r\n");
  return rc ? rc : puts_(b, "\r\n");
}

int lg_http_write_end(lg_http_buf_t *b, int64_t length, const char *date,
                      int conn) {
  size_t mark = b->len;
  return undo(b, mark, end_(b, length, date, conn));
}

size_t lg_http_chunk_line(char out[LG_HTTP_CHUNK_LINE], size_t n) {
  size_t k = fmt_u64(out, n, 16);
  memcpy(out + k, n ? "\r\n" : "\r\n\r\n", n ? 3 : 5);  /* with the NUL */
  return k + (n ? 2 : 4);
}

static int chunk_(lg_http_buf_t *b, const char *data, size_t n) {
  char line[LG_HTTP_CHUNK_LINE];
  int rc = put(b, line, lg_http_chunk_line(line, n));
  if (!rc && n) rc = put(b, data, n);
  return rc || !n ? rc : puts_(b, "\r\n");
}

int lg_http_write_chunk(lg_http_buf_t *b, const char *data, size_t n) {
  size_t mark = b->len;
  return undo(b, mark, chunk_(b, data, n));
}

static void two(char *out, int v) {
  out[0] = (char)('0' + v / 10);
  out[1] = (char)('0' + v % 10);
}

/* Days to a civil date: Howard Hinnant's algorithm, valid for any day. */
size_t lg_http_date(char out[LG_HTTP_DATE_LEN + 1], int64_t t) {
  static const char wd[] = "ThuFriSatSunMonTueWed";  /* 1970-01-01: Thu */
  static const char mo[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;
  if (t < 0) t = 0;
  if (t > INT64_C(253402300799)) t = INT64_C(253402300799);  /* 9999 */
  days = t / 86400;
  secs = t % 86400;
  z = days + 719468;
  era = z / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = yoe + era * 400 + (m <= 2);
  memcpy(out, wd + days % 7 * 3, 3);
  memcpy(out + 3, ", ", 2);
  two(out + 5, (int)d);
  out[7] = ' ';
  memcpy(out + 8, mo + (m - 1) * 3, 3);
  out[11] = ' ';
  two(out + 12, (int)(y / 100));
  two(out + 14, (int)(y % 100));
  out[16] = ' ';
  two(out + 17, (int)(secs / 3600));
  out[19] = ':';
  two(out + 20, (int)(secs / 60 % 60));
  out[22] = ':';
  two(out + 23, (int)(secs % 60));
  memcpy(out + 25, " GMT", 5);  /* with the NUL */
  return LG_HTTP_DATE_LEN;
}
