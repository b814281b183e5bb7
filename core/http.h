/* HTTP/1.1 messages over byte buffers: head parsers for requests and
 * responses, a chunked body decoder, and writers. No I/O, no Lua.
 *
 * The head parsers allocate nothing. The caller keeps the bytes of the
 * message received so far in one buffer, from the message's first byte, and
 * calls lg_http_parse() with the whole buffer each time more arrives (a piece
 * may be a single byte). The parser remembers how far it got, so no byte is
 * examined twice, and reports what it found as spans: offsets into that
 * buffer, so the buffer may move between calls (realloc) as long as the
 * bytes already given stay as they were.
 *
 * Lines end in CRLF; a bare LF is accepted too, as Go and nginx do. A CR
 * anywhere else, a NUL or other control byte, and obs-fold (a header line
 * starting with a space or tab) are errors, and so is a space before the
 * colon of a header: these are the ambiguities request smuggling lives on.
 *
 * Errors are HTTP statuses, the one a server would answer with:
 *   400  malformed: start line, header name or value, Content-Length,
 *        chunk size; a missing or repeated Host on a request
 *   413  Content-Length (or the chunked body so far) above max_body
 *   431  head above max_head (one long line included), too many headers,
 *        chunked trailers above max_head
 *   501  a Transfer-Encoding other than exactly "chunked"
 *   505  an HTTP major version other than 1
 * A client parsing a response gets the same numbers, meaning the same
 * faults in the server's answer. `why` says which rule was broken. */
#ifndef LUGO_HTTP_H
#define LUGO_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "lugo.h"  /* LG_EAGAIN, LG_ENOMEM, LG_EINVAL, lg__realloc */

/* Defaults, used where a limit is 0. max_body follows nginx's
 * client_max_body_size; pass INT64_MAX for "no limit". */
#define LG_HTTP_MAX_HEAD 8192
#define LG_HTTP_MAX_HEADERS 100
#define LG_HTTP_MAX_BODY ((int64_t)1 << 20)

/* What lg_http_init() parses. A response to HEAD has no body whatever its
 * headers say, so the parser must be told. */
enum { LG_HTTP_REQUEST, LG_HTTP_RESPONSE, LG_HTTP_RESPONSE_TO_HEAD };

/* How the body after a head is delimited. */
enum {
  LG_HTTP_BODY_NONE,     /* no body: the next message follows the head */
  LG_HTTP_BODY_LENGTH,   /* content_length bytes (> 0) */
  LG_HTTP_BODY_CHUNKED,  /* feed it to lg_http_chunked() */
  LG_HTTP_BODY_EOF       /* responses only: read until the peer closes */
};

typedef struct lg_http_span_s {
  uint32_t off, len;     /* bytes buf[off .. off + len) */
} lg_http_span_t;

typedef struct lg_http_header_s {
  lg_http_span_t name;   /* lower-cased in place by the parser */
  lg_http_span_t value;  /* without the spaces and tabs around it */
} lg_http_header_t;

typedef struct lg_http_limits_s {
  size_t max_head;       /* start line + headers + blank line, in bytes */
  int64_t max_body;      /* decoded body bytes */
} lg_http_limits_t;

typedef struct lg_http_parser_s {
  /* Results, valid once lg_http_parse() returned 0. */
  lg_http_span_t method, target;   /* requests */
  lg_http_span_t path, query;      /* the target split at the first '?':
                                      query excludes the '?'; for an
                                      absolute-form target the path starts
                                      at the first '/' after the authority,
                                      and is empty (meaning "/") without one;
                                      for CONNECT or "*" it is the target */
  int status;                      /* responses: 100..999 */
  lg_http_span_t reason;           /* responses */
  int minor;                       /* HTTP/1.minor, 0..9 */
  lg_http_header_t *headers;       /* the caller's array, in order */
  size_t nheaders;
  size_t headlen;        /* bytes of the head: the body (or the next
                            pipelined message) starts at buf + headlen */
  int body;              /* LG_HTTP_BODY_* */
  int64_t content_length;  /* -1 when absent or overridden by chunked */
  int keepalive;         /* the connection may carry another message:
                            HTTP/1.1 unless "Connection: close", HTTP/1.0
                            only with "Connection: keep-alive"; never after
                            a close-delimited body or with both
                            Content-Length and chunked (RFC 9112 6.1) */
  int expect_continue;   /* HTTP/1.1 request with "Expect: 100-continue";
                            other expectations are ignored */
  const char *why;       /* after an error: the rule broken, for logs */
  /* Set by lg_http_init(). */
  int kind;
  lg_http_limits_t lim;
  size_t maxheaders;
  /* Progress. */
  int state;
  int error;             /* the status returned, repeated on later calls */
  size_t pos;            /* start of the first line not yet parsed */
  size_t scan;           /* bytes before this were searched for LF already */
  int nhost, nte, conn;
} lg_http_parser_t;

/* Prepare `p` to parse one message of `kind` (LG_HTTP_REQUEST, ...).
 * `lim` may be NULL, and its zero fields mean the defaults. `headers` has
 * room for `maxheaders` entries; one more header is a 431. The caller
 * keeps `headers` alive while it uses `p`. */
void lg_http_init(lg_http_parser_t *p, int kind, const lg_http_limits_t *lim,
                  lg_http_header_t *headers, size_t maxheaders);

/* Start over for the next message on the same connection (pipelining),
 * keeping kind, limits and the header array. The next message's bytes
 * start a new buffer: pass buf + headlen + body length. */
void lg_http_reset(lg_http_parser_t *p);

/* Parse the head in buf[0 .. len), the message's bytes so far. Returns 0
 * when the head is complete (see headlen: bytes after it are not looked
 * at), LG_EAGAIN when it needs more bytes, or an error status (400, 413,
 * 431, 501, 505) once and for every later call. The only bytes it writes
 * are header names, which it lower-cases: the server wants lower-case keys
 * and this saves the binding a copy. A response with status 1xx is a head
 * without a body; the caller resets and parses the final response that
 * follows it. */
int lg_http_parse(lg_http_parser_t *p, char *buf, size_t len);

/* The value of the first header called `name` (lower-case) and its length
 * in *vlen, or NULL. `buf` is the buffer the head was parsed from. */
const char *lg_http_get(const lg_http_parser_t *p, const char *buf,
                        const char *name, size_t *vlen);

/* ----------------------------------------------------------- chunked body */
typedef struct lg_http_chunked_s {
  int64_t left;          /* data bytes left in the current chunk */
  int64_t total;         /* data bytes so far */
  int64_t max_body;
  size_t max_line;       /* a size line, and all trailers together */
  size_t linelen;        /* bytes of the current size line */
  size_t trailers;       /* bytes of trailers so far */
  int state, after_lf, ndigits, error;
  const char *why;
} lg_http_chunked_t;

/* Prepare `c` for one chunked body; `lim` as for lg_http_init(): max_body
 * bounds the decoded data (413), max_head both one chunk-size line (400)
 * and the trailer section (431). */
void lg_http_chunked_init(lg_http_chunked_t *c, const lg_http_limits_t *lim);

/* Decode from buf[0 .. len), which holds the body's next bytes (any piece:
 * unlike the head parser this one keeps all its state itself). Consumes
 * framing up to and including at most one run of data, which it reports as
 * buf[*off .. *off + *n) (*n may be 0), and sets *used to the bytes
 * consumed. Returns LG_EAGAIN while the body goes on: call again with
 * buf + *used (or the next piece when *used == len); 0 when the body ended
 * (the last chunk and trailers are consumed, the next message starts at
 * buf + *used); or 400, 413 or 431. Chunk extensions and trailers are
 * skipped. */
int lg_http_chunked(lg_http_chunked_t *c, const char *buf, size_t len,
                    size_t *used, size_t *off, size_t *n);

/* ---------------------------------------------------------------- writers
 * All write into an lg_http_buf_t, either the caller's fixed memory or a
 * buffer that grows through lg__realloc. A write is all or nothing: it
 * returns 0, LG_ENOMEM (no memory, or the fixed buffer is full) or
 * LG_EINVAL (bytes that would break the framing: a CR or LF in a value, a
 * header name that is not a token, a status outside 100..999), and on an
 * error the buffer is as it was. */
typedef struct lg_http_buf_s {
  char *data;
  size_t len, cap;
  int grows;             /* 1: data is ours, from lg__realloc */
} lg_http_buf_t;

/* `mem`/`cap`: the caller's memory; mem NULL: a growable buffer. */
void lg_http_buf_init(lg_http_buf_t *b, char *mem, size_t cap);
/* Free a growable buffer's memory; safe twice. */
void lg_http_buf_free(lg_http_buf_t *b);
/* Append raw bytes (a body, say). */
int lg_http_buf_put(lg_http_buf_t *b, const char *s, size_t n);

/* The standard reason phrase of `status` ("Not Found"), or "". */
const char *lg_http_reason(int status);

/* "HTTP/1.1 <status> <reason>\r\n"; reason NULL: lg_http_reason(). Always
 * 1.1, also to an HTTP/1.0 client (RFC 9110 6.2): the caller then must not
 * use chunked (see lg_http_write_end). */
int lg_http_write_status(lg_http_buf_t *b, int status, const char *reason);

/* "<method> <target> HTTP/1.1\r\n"; the method must be a token and the
 * target free of spaces and control bytes. */
int lg_http_write_reqline(lg_http_buf_t *b, const char *method,
                          const char *target);

/* "<name>: <value>\r\n". The caller leaves Content-Length,
 * Transfer-Encoding and Connection to lg_http_write_end. */
int lg_http_write_header(lg_http_buf_t *b, const char *name, size_t nlen,
                         const char *value, size_t vlen);

/* Framing for lg_http_write_end: a length >= 0 means Content-Length. */
#define LG_HTTP_CHUNKED (-1)   /* Transfer-Encoding: chunked */
#define LG_HTTP_NOLENGTH (-2)  /* neither: no body (1xx, 204, 304, a HEAD
                                  request) or close-delimited (to 1.0) */
enum { LG_HTTP_CONN_NONE, LG_HTTP_CONN_CLOSE, LG_HTTP_CONN_KEEPALIVE };

/* End the head: the framing header `length` asks for, "Date: <date>" if
 * date is not NULL, "Connection: close" or "Connection: keep-alive" as
 * `conn` says (keep-alive is for HTTP/1.0 peers), and the blank line. */
int lg_http_write_end(lg_http_buf_t *b, int64_t length, const char *date,
                      int conn);

/* One chunk: "<hex n>\r\n<data>\r\n"; n == 0 writes the last chunk
 * "0\r\n\r\n" (no trailers). */
int lg_http_write_chunk(lg_http_buf_t *b, const char *data, size_t n);

/* The size line of a chunk of n bytes, for writing it without a copy
 * (then the data, then "\r\n"): "<hex n>\r\n", or "0\r\n\r\n" for n == 0.
 * Returns its length, at most LG_HTTP_CHUNK_LINE - 1; out is
 * NUL-terminated. */
#define LG_HTTP_CHUNK_LINE 24
size_t lg_http_chunk_line(char out[LG_HTTP_CHUNK_LINE], size_t n);

/* An IMF-fixdate for the Date header, "Sun, 06 Nov 1994 08:49:37 GMT",
 * for `t` seconds since 1970, without the locale strftime would use.
 * Returns its length, LG_HTTP_DATE_LEN. */
#define LG_HTTP_DATE_LEN 29
size_t lg_http_date(char out[LG_HTTP_DATE_LEN + 1], int64_t t);

#endif
