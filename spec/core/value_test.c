/* The value encoding: every tag round-trips, the reader rejects truncated
 * and corrupt input without reading past it, the size cap holds and a
 * failed allocation leaks nothing (LeakSanitizer checks at exit). */
#include <math.h>
#include <string.h>
#include "test.h"

/* A copy of the encoder's bytes in a block of exactly their size, so that
 * ASan flags any read past the end. The caller frees it. */
static unsigned char *exactcopy(const lg_enc_t *e, size_t len) {
  unsigned char *p = malloc(len ? len : 1);
  if (p != NULL && len) memcpy(p, e->buf, len);
  return p;
}

/* Put one of everything: a table holding each scalar, a nested table,
 * a reference to itself and one to the nested table, a shared object. */
static int putall(lg_enc_t *e, void *obj) {
  static const char bytes[] = "a\0b";
  lg_enc_table(e, 2, 8);                /* table 0 */
  lg_enc_int(e, 1); lg_enc_nil(e);
  lg_enc_int(e, 2); lg_enc_bool(e, 0);
  lg_enc_str(e, "t", 1); lg_enc_bool(e, 1);
  lg_enc_str(e, "min", 3); lg_enc_int(e, INT64_MIN);
  lg_enc_str(e, "max", 3); lg_enc_int(e, INT64_MAX);
  lg_enc_float(e, 1.5); lg_enc_float(e, -0.0);
  lg_enc_str(e, bytes, 3); lg_enc_str(e, "", 0);
  lg_enc_str(e, "sub", 3);
  lg_enc_table(e, 0, 0);                /* table 1 */
  lg_enc_str(e, "self", 4); lg_enc_ref(e, 0);
  lg_enc_end(e);
  lg_enc_str(e, "again", 5); lg_enc_ref(e, 1);
  lg_enc_shared(e, 7, obj); lg_enc_float(e, HUGE_VAL);
  return lg_enc_end(e);
}

#define NEXT(d, it, want)                                             \
  do {                                                                \
    CHECK_RC(lg_dec_next((d), (it)), 0);                              \
    CHECK_EQ((it)->tag, (want));                                      \
  } while (0)

#define NEXTSTR(d, it, str, n)                                        \
  do {                                                                \
    NEXT(d, it, LG_TSTR);                                             \
    CHECK_EQ((it)->u.s.len, (n));                                     \
    CHECK(memcmp((it)->u.s.p, (str), (n)) == 0);                      \
  } while (0)

TEST(value_every_tag_round_trips) {
  lg_enc_t e;
  lg_dec_t d;
  lg_item_t it;
  int obj;
  unsigned char *buf;
  size_t len;
  lg_enc_init(&e, 0);
  CHECK_EQ(e.max, LG_ENC_MAXSIZE);
  CHECK_RC(putall(&e, &obj), 0);
  CHECK_EQ(e.ntables, 2);
  CHECK_EQ(e.depth, 0);
  len = e.len;
  buf = exactcopy(&e, len);
  lg_enc_free(&e);
  lg_dec_init(&d, buf, len);
  NEXT(&d, &it, LG_TTABLE);
  CHECK_EQ(it.u.t.narr, 2);
  CHECK_EQ(it.u.t.nrec, 8);
  NEXT(&d, &it, LG_TINT); CHECK_EQ(it.u.i, 1);
  NEXT(&d, &it, LG_TNIL);
  NEXT(&d, &it, LG_TINT); CHECK_EQ(it.u.i, 2);
  NEXT(&d, &it, LG_TFALSE);
  NEXTSTR(&d, &it, "t", 1);
  NEXT(&d, &it, LG_TTRUE);
  NEXTSTR(&d, &it, "min", 3);
  NEXT(&d, &it, LG_TINT); CHECK(it.u.i == INT64_MIN);
  NEXTSTR(&d, &it, "max", 3);
  NEXT(&d, &it, LG_TINT); CHECK(it.u.i == INT64_MAX);
  NEXT(&d, &it, LG_TFLOAT); CHECK(it.u.n == 1.5);
  NEXT(&d, &it, LG_TFLOAT); CHECK(it.u.n == 0 && signbit(it.u.n));
  NEXTSTR(&d, &it, "a\0b", 3);
  NEXTSTR(&d, &it, "", 0);
  NEXTSTR(&d, &it, "sub", 3);
  NEXT(&d, &it, LG_TTABLE);
  CHECK_EQ(d.depth, 2);
  NEXTSTR(&d, &it, "self", 4);
  NEXT(&d, &it, LG_TREF); CHECK_EQ(it.u.ref, 0);
  NEXT(&d, &it, LG_TEND);
  NEXTSTR(&d, &it, "again", 5);
  NEXT(&d, &it, LG_TREF); CHECK_EQ(it.u.ref, 1);
  NEXT(&d, &it, LG_TSHARED);
  CHECK_EQ(it.u.shared.type, 7);
  CHECK_PTR(it.u.shared.obj, &obj);
  NEXT(&d, &it, LG_TFLOAT); CHECK(isinf(it.u.n) && it.u.n > 0);
  NEXT(&d, &it, LG_TEND);
  CHECK_EQ(d.depth, 0);
  CHECK_EQ(lg_dec_left(&d), 0);
  CHECK_RC(lg_dec_next(&d, &it), LG_EINVAL);  /* nothing more */
  free(buf);
}

TEST(value_integers_round_trip_at_every_width) {
  static const int64_t ints[] = {
    0, 1, -1, 63, 64, -64, -65, 127, 128, 255, 256, 65535, -65536,
    INT32_MAX, INT32_MIN, (int64_t)1 << 53, -((int64_t)1 << 53) - 1,
    INT64_MAX - 1, INT64_MIN + 1, INT64_MAX, INT64_MIN
  };
  const int n = (int)(sizeof ints / sizeof *ints);
  lg_enc_t e;
  lg_dec_t d;
  lg_item_t it;
  int i;
  lg_enc_init(&e, 0);
  for (i = 0; i < n; i++) CHECK_RC(lg_enc_int(&e, ints[i]), 0);
  lg_dec_init(&d, e.buf, e.len);
  for (i = 0; i < n; i++) {
    NEXT(&d, &it, LG_TINT);
    if (it.u.i != ints[i])
      FAIL("ints[%d]: got %" PRId64 ", want %" PRId64, i, it.u.i, ints[i]);
  }
  CHECK_EQ(lg_dec_left(&d), 0);
  lg_enc_free(&e);
}

TEST(value_encoding_is_compact) {
  static const unsigned char want[] = {
    LG_TTABLE, 1, 0, LG_TINT, 2, LG_TINT, 1, LG_TEND,  /* {[1] = -1} */
    LG_TSTR, 2, 'h', 'i', LG_TREF, 0
  };
  lg_enc_t e;
  lg_enc_init(&e, 0);
  lg_enc_table(&e, 1, 0);
  lg_enc_int(&e, 1);
  lg_enc_int(&e, -1);
  lg_enc_end(&e);
  lg_enc_str(&e, "hi", 2);
  CHECK_RC(lg_enc_ref(&e, 0), 0);
  CHECK_EQ(e.len, sizeof want);
  CHECK(memcmp(e.buf, want, sizeof want) == 0);
  lg_enc_free(&e);
  lg_enc_free(&e);  /* safe twice */
  CHECK_PTR(e.buf, NULL);
}

/* A hash hint given after the table's contents, by LG_ENC_LATER: the
 * header has a padded varint that the reader takes as any other, written
 * in place past an array hint of any width, also for a table inside the
 * one being hinted, and clamped when over its room (it is a hint). */
TEST(value_table_hint_given_later) {
  static const unsigned char head[] = {
    LG_TTABLE, 0x82, 0x01,            /* narr 130 */
    0x83, 0x80, 0x80, 0x80, 0x00      /* nrec 3, padded to 5 bytes */
  };
  lg_enc_t e;
  lg_dec_t d;
  lg_item_t it;
  size_t outer, inner;
  lg_enc_init(&e, 0);
  CHECK_RC(lg_enc_table(&e, 130, LG_ENC_LATER), 0);
  lg_enc_tablehint(&e, 0, 3);
  CHECK_EQ(e.len, sizeof head);
  CHECK(memcmp(e.buf, head, sizeof head) == 0);
  lg_enc_free(&e);

  lg_enc_init(&e, 0);
  outer = e.len;
  CHECK_RC(lg_enc_table(&e, 0, LG_ENC_LATER), 0);
  lg_enc_str(&e, "a", 1);
  inner = e.len;
  CHECK_RC(lg_enc_table(&e, 0, LG_ENC_LATER), 0);
  lg_enc_tablehint(&e, inner, 0);
  CHECK_RC(lg_enc_end(&e), 0);
  lg_enc_str(&e, "b", 1);
  lg_enc_int(&e, 7);
  lg_enc_tablehint(&e, outer, 2);
  CHECK_RC(lg_enc_end(&e), 0);
  lg_dec_init(&d, e.buf, e.len);
  NEXT(&d, &it, LG_TTABLE);
  CHECK_EQ(it.u.t.narr, 0);
  CHECK_EQ(it.u.t.nrec, 2);
  NEXTSTR(&d, &it, "a", 1);
  NEXT(&d, &it, LG_TTABLE);
  CHECK_EQ(it.u.t.nrec, 0);
  NEXT(&d, &it, LG_TEND);
  NEXTSTR(&d, &it, "b", 1);
  NEXT(&d, &it, LG_TINT);
  NEXT(&d, &it, LG_TEND);
  CHECK_EQ(lg_dec_left(&d), 0);
  lg_enc_free(&e);

  lg_enc_init(&e, 0);
  CHECK_RC(lg_enc_table(&e, 0, LG_ENC_LATER), 0);
  lg_enc_tablehint(&e, 0, SIZE_MAX);
  CHECK(memcmp(e.buf + 2, "\xff\xff\xff\xff\x7f", 5) == 0);
  lg_enc_free(&e);
}

TEST(value_nan_keeps_its_bits) {
  lg_enc_t e;
  lg_dec_t d;
  lg_item_t it;
  lg_enc_init(&e, 0);
  CHECK_RC(lg_enc_float(&e, NAN), 0);
  lg_dec_init(&d, e.buf, e.len);
  NEXT(&d, &it, LG_TFLOAT);
  CHECK(isnan(it.u.n));
  lg_enc_free(&e);
}

TEST(value_every_truncation_is_rejected) {
  lg_enc_t e;
  lg_dec_t d;
  lg_item_t it;
  size_t full, cut;
  int obj;
  lg_enc_init(&e, 0);
  CHECK_RC(putall(&e, &obj), 0);
  full = e.len;
  for (cut = 0; cut < full; cut++) {
    unsigned char *buf = exactcopy(&e, cut);
    int rc = 0, items = 0;
    CHECK(buf != NULL);
    lg_dec_init(&d, buf, cut);
    /* The whole is one table: a strict prefix never completes it. */
    while (lg_dec_left(&d) > 0 && (rc = lg_dec_next(&d, &it)) == 0) items++;
    free(buf);
    if (rc == 0 && (d.depth == 0 && items > 0))
      FAIL("a prefix of %zu of %zu bytes decoded whole", cut, full);
    if (cut > 0 && rc == 0) CHECK(d.depth > 0);
  }
  lg_enc_free(&e);
}

/* Decode everything in a block of exactly `len` bytes, whatever it holds;
 * returns the items read before an error. */
static int decodeall(const unsigned char *bytes, size_t len) {
  unsigned char *buf = malloc(len ? len : 1);
  lg_dec_t d;
  lg_item_t it;
  int n = 0;
  if (buf == NULL) abort();
  if (len) memcpy(buf, bytes, len);
  lg_dec_init(&d, buf, len);
  while (lg_dec_next(&d, &it) == 0) {
    if (it.tag == LG_TSTR && it.u.s.len > 0)  /* touch its last byte */
      n += it.u.s.p[it.u.s.len - 1] == 0x7f;
    n++;
  }
  free(buf);
  return n;
}

TEST(value_corrupt_input_is_rejected) {
  static const unsigned char unknown[] = {42};
  static const unsigned char lone_end[] = {LG_TEND};
  static const unsigned char ref_ahead[] = {LG_TTABLE, 0, 0, LG_TREF, 1};
  static const unsigned char ref_none[] = {LG_TREF, 0};
  static const unsigned char long_str[] = {LG_TSTR, 5, 'a', 'b'};
  static const unsigned char huge_str[] = {
    LG_TSTR, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'
  };
  static const unsigned char overlong[] = {
    LG_TINT, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0
  };
  static const unsigned char tenth_big[] = {
    LG_TINT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02
  };
  static const unsigned char short_float[] = {LG_TFLOAT, 1, 2, 3};
  static const unsigned char short_shared[] = {LG_TSHARED, 1, 2, 3, 4};
  static const unsigned char open_hint[] = {LG_TTABLE, 0x80};
  lg_dec_t d;
  lg_item_t it;
#define REJECTED_AFTER(bytes, nok)                                    \
  do {                                                                \
    CHECK_EQ(decodeall((bytes), sizeof(bytes)), (nok));               \
  } while (0)
  REJECTED_AFTER(unknown, 0);
  REJECTED_AFTER(lone_end, 0);
  REJECTED_AFTER(ref_ahead, 1);
  REJECTED_AFTER(ref_none, 0);
  REJECTED_AFTER(long_str, 0);
  REJECTED_AFTER(huge_str, 0);
  REJECTED_AFTER(overlong, 0);
  REJECTED_AFTER(tenth_big, 0);
  REJECTED_AFTER(short_float, 0);
  REJECTED_AFTER(short_shared, 0);
  REJECTED_AFTER(open_hint, 0);
  /* A failed read leaves the decoder where it was. */
  lg_dec_init(&d, ref_ahead, sizeof ref_ahead);
  NEXT(&d, &it, LG_TTABLE);
  CHECK_RC(lg_dec_next(&d, &it), LG_EINVAL);
  CHECK_EQ(lg_dec_left(&d), 2);
  CHECK_EQ(d.ntables, 1);
  CHECK_EQ(d.depth, 1);
}

TEST(value_table_hints_are_clamped_to_the_input) {
  /* Claims 2^62 array and hash entries in a few bytes. */
  static const unsigned char lie[] = {
    LG_TTABLE, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40,
    LG_TINT, 2, LG_TTRUE, LG_TEND
  };
  lg_dec_t d;
  lg_item_t it;
  lg_dec_init(&d, lie, sizeof lie);
  NEXT(&d, &it, LG_TTABLE);
  CHECK(it.u.t.narr + it.u.t.nrec <= 2);
}

TEST(value_nesting_past_the_limit_is_rejected) {
  lg_enc_t e;
  lg_dec_t d;
  lg_item_t it;
  unsigned char *deep;
  int i;
  lg_enc_init(&e, 0);
  for (i = 0; i < LG_ENC_MAXDEPTH; i++) {
    CHECK_RC(lg_enc_table(&e, 0, 0), 0);
    if (i + 1 < LG_ENC_MAXDEPTH) CHECK_RC(lg_enc_int(&e, 1), 0);
  }
  CHECK_RC(lg_enc_table(&e, 0, 0), LG_EINVAL);
  CHECK_RC(lg_enc_end(&e), LG_EINVAL);  /* sticky */
  lg_enc_free(&e);
  CHECK_EQ(e.err, 0);
  /* Reading: depth LG_ENC_MAXDEPTH is fine, one more is not. */
  deep = malloc(3 * (LG_ENC_MAXDEPTH + 1));
  CHECK(deep != NULL);
  for (i = 0; i <= LG_ENC_MAXDEPTH; i++) {
    deep[3 * i] = LG_TTABLE;
    deep[3 * i + 1] = deep[3 * i + 2] = 0;
  }
  lg_dec_init(&d, deep, 3 * (LG_ENC_MAXDEPTH + 1));
  for (i = 0; i < LG_ENC_MAXDEPTH; i++) {
    if (lg_dec_next(&d, &it) != 0) {
      free(deep);
      FAIL("level %d rejected", i + 1);
    }
  }
  i = lg_dec_next(&d, &it);
  free(deep);
  CHECK_RC(i, LG_EINVAL);
}

TEST(value_misuse_is_einval_and_sticks) {
  lg_enc_t e;
  size_t len;
  lg_enc_init(&e, 0);
  CHECK_RC(lg_enc_end(&e), LG_EINVAL);
  CHECK_RC(lg_enc_nil(&e), LG_EINVAL);
  CHECK_EQ(e.len, 0);
  CHECK_PTR(lg_enc_take(&e, &len), NULL);
  CHECK_EQ(len, 0);
  CHECK_EQ(e.err, 0);  /* take leaves it empty and usable */
  CHECK_RC(lg_enc_table(&e, 0, 0), 0);
  CHECK_RC(lg_enc_ref(&e, 1), LG_EINVAL);  /* only table 0 begun */
  lg_enc_free(&e);
  CHECK_RC(lg_enc_shared(&e, 256, NULL), LG_EINVAL);
  lg_enc_free(&e);
}

TEST(value_size_cap_is_emsgsize) {
  static const char s[64] = "0123456789";
  lg_enc_t e;
  size_t len;
  void *bytes;
  lg_enc_init(&e, 32);
  CHECK_RC(lg_enc_str(&e, s, 30), 0);  /* 32 bytes: exactly the cap */
  CHECK_EQ(e.len, 32);
  CHECK_RC(lg_enc_nil(&e), UV_EMSGSIZE);
  CHECK_EQ(e.len, 32);
  CHECK_RC(lg_enc_int(&e, 1), UV_EMSGSIZE);
  CHECK_PTR(lg_enc_take(&e, &len), NULL);
  CHECK_EQ(e.max, 32);  /* the cap stays */
  CHECK_RC(lg_enc_str(&e, s, 31), UV_EMSGSIZE);
  CHECK_EQ(e.len, 0);  /* nothing half-written */
  lg_enc_free(&e);
  CHECK_RC(lg_enc_str(&e, s, 10), 0);
  bytes = lg_enc_take(&e, &len);
  CHECK(bytes != NULL);
  CHECK_EQ(len, 12);
  CHECK_PTR(e.buf, NULL);
  lg_enc_free(&e);  /* owns nothing now */
  lg__free(bytes);
  /* The default: 64 MB, refused before any allocation of that size. */
  lg_enc_init(&e, 0);
  CHECK_RC(lg_enc_str(&e, s, LG_ENC_MAXSIZE), UV_EMSGSIZE);
  CHECK_PTR(e.buf, NULL);
  lg_enc_free(&e);
  CHECK(strcmp(lg_strerror(UV_EMSGSIZE), "message too long") == 0);
}

TEST(value_failed_allocation_leaks_nothing) {
  char big[1000];
  lg_enc_t e;
  long n;
  int rc = LG_ENOMEM, obj;
  memset(big, 'x', sizeof big);
  for (n = 1; rc == LG_ENOMEM; n++) {
    int i;
    if (n > 100) FAIL("still failing after %ld allocations", n);
    lg_enc_init(&e, 0);
    lg_testing_failalloc(n);
    for (i = 0; i < 20; i++) lg_enc_str(&e, big, sizeof big);
    rc = putall(&e, &obj);
    lg_testing_failalloc(0);
    if (rc == LG_ENOMEM) {
      size_t len;
      CHECK_PTR(lg_enc_take(&e, &len), NULL);  /* frees what it had */
    } else {
      CHECK_RC(rc, 0);
      CHECK(decodeall(e.buf, e.len) > 20);
      lg_enc_free(&e);
    }
  }
  CHECK(n > 2);  /* some allocation did fail */
}

TEST(value_random_corruption_never_reads_out_of_bounds) {
  lg_enc_t e;
  unsigned char *buf;
  uint64_t rng = 0x9e3779b97f4a7c15u;
  size_t len;
  int obj, round;
  lg_enc_init(&e, 0);
  CHECK_RC(putall(&e, &obj), 0);
  len = e.len;
  buf = malloc(len);
  CHECK(buf != NULL);
  for (round = 0; round < 20000; round++) {
    int flips = 1 + round % 4, k;
    memcpy(buf, e.buf, len);
    for (k = 0; k < flips; k++) {
      rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
      buf[(rng >> 8) % len] = (unsigned char)rng;
    }
    decodeall(buf, (size_t)((rng >> 40) % (len + 1)));
  }
  free(buf);
  lg_enc_free(&e);
}
