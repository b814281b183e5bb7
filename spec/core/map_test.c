/* lugo.map and lugo.atomic in the core: every operation, Lua's key
 * rules, expiry, growth and shrinking, allocation failures, and many
 * threads on one map or atomic. */
#include <math.h>
#include <string.h>
#include "test.h"

/* ---------------------------------------------------------------- values */

static lg_mval_t mbool(int b) {
  lg_mval_t v;
  v.type = LG_MBOOL;
  v.u.b = b;
  return v;
}

static lg_mval_t mint(int64_t i) {
  lg_mval_t v;
  v.type = LG_MINT;
  v.u.i = i;
  return v;
}

static lg_mval_t mnum(double n) {
  lg_mval_t v;
  v.type = LG_MNUM;
  v.u.n = n;
  return v;
}

static lg_mval_t mstrn(const char *s, size_t len) {
  lg_mval_t v;
  v.type = LG_MSTR;
  v.u.s.p = s;
  v.u.s.len = len;
  return v;
}

static lg_mval_t mstr(const char *s) {
  return mstrn(s, strlen(s));
}

static lg_mval_t mnil(void) {
  lg_mval_t v;
  v.type = LG_MNIL;
  v.u.i = 0;
  return v;
}

/* "k<i>" into buf. */
static lg_mval_t kname(char *buf, size_t size, const char *prefix, int i) {
  snprintf(buf, size, "%s%d", prefix, i);
  return mstr(buf);
}

/* The value at `k` is the integer `want`. */
#define CHECK_INT_AT(m, k, want)                                      \
  do {                                                                \
    lg_mval_t mk_ = (k), mv_;                                         \
    CHECK_RC(lg_map_get((m), &mk_, &mv_, NULL, 0), 0);                \
    CHECK_EQ(mv_.type, LG_MINT);                                      \
    CHECK_EQ(mv_.u.i, (want));                                        \
  } while (0)

/* `k` is absent. */
#define CHECK_NIL_AT(m, k)                                            \
  do {                                                                \
    lg_mval_t mk_ = (k), mv_;                                         \
    CHECK_RC(lg_map_get((m), &mk_, &mv_, NULL, 0), 0);                \
    CHECK_EQ(mv_.type, LG_MNIL);                                      \
  } while (0)

/* The value at `k` is the string `want` (a C string). */
#define CHECK_STR_AT(m, k, want)                                      \
  do {                                                                \
    lg_mval_t mk_ = (k), mv_;                                         \
    const char *want_ = (want);                                       \
    int same_;                                                        \
    CHECK_RC(lg_map_get((m), &mk_, &mv_, NULL, 0), 0);                \
    CHECK_EQ(mv_.type, LG_MSTR);                                      \
    same_ = mv_.u.s.len == strlen(want_) &&                           \
            memcmp(mv_.u.s.p, want_, mv_.u.s.len) == 0;               \
    lg_mval_free(&mv_, NULL);                                         \
    if (!same_) FAIL("value at %s is not \"%s\"", #k, want_);         \
  } while (0)

static lg_map_t *newmap(void) {
  return lg_map_new();
}

static void release(lg_map_t *m) {
  lg_shared_release(&m->hdr);
}

/* ---------------------------------------------------------------- basics */

TEST(map_new_is_empty_shared_object_with_one_reference) {
  lg_map_t *m = newmap();
  lg_mval_t *ks;
  size_t n;
  CHECK(m != NULL);
  CHECK_EQ(m->hdr.type, LG_SH_MAP);
  CHECK_EQ(m->hdr.refs, 1);
  CHECK_EQ(lg_map_count(m), 0);
  CHECK_RC(lg_map_keys(m, &ks, &n), 0);
  CHECK_EQ(n, 0);
  CHECK_PTR(ks, NULL);
  CHECK_NIL_AT(m, mstr("nope"));
  lg_shared_retain(&m->hdr);
  release(m);
  CHECK_EQ(m->hdr.refs, 1);
  release(m);  /* frees: LeakSanitizer checks */
}

TEST(map_set_get_each_type_of_value) {
  lg_map_t *m = newmap();
  lg_mval_t k, v, got;
  CHECK(m != NULL);
  k = mstr("b"), v = mbool(1);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mstr("i"), v = mint(-42);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mstr("n"), v = mnum(2.5);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mstr("f"), v = mnum(3.0);  /* a float value stays a float */
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mstr("s"), v = mstr("hello");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mstr("false"), v = mbool(0);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_EQ(lg_map_count(m), 6);

  k = mstr("b");
  CHECK_RC(lg_map_get(m, &k, &got, NULL, 0), 0);
  CHECK_EQ(got.type, LG_MBOOL);
  CHECK_EQ(got.u.b, 1);
  k = mstr("false");
  CHECK_RC(lg_map_get(m, &k, &got, NULL, 0), 0);
  CHECK_EQ(got.type, LG_MBOOL);
  CHECK_EQ(got.u.b, 0);
  CHECK_INT_AT(m, mstr("i"), -42);
  k = mstr("n");
  CHECK_RC(lg_map_get(m, &k, &got, NULL, 0), 0);
  CHECK_EQ(got.type, LG_MNUM);
  CHECK(got.u.n == 2.5);
  k = mstr("f");
  CHECK_RC(lg_map_get(m, &k, &got, NULL, 0), 0);
  CHECK_EQ(got.type, LG_MNUM);
  CHECK(got.u.n == 3.0);
  CHECK_STR_AT(m, mstr("s"), "hello");
  release(m);
}

TEST(map_set_replaces_and_nil_deletes) {
  lg_map_t *m = newmap();
  lg_mval_t k = mstr("k"), v, nil = mnil();
  CHECK(m != NULL);
  v = mstr("one");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  v = mstr("two, longer");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_STR_AT(m, k, "two, longer");
  v = mint(3);  /* string -> number frees the string */
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_INT_AT(m, k, 3);
  CHECK_EQ(lg_map_count(m), 1);
  CHECK_RC(lg_map_set(m, &k, &nil, 0), 0);
  CHECK_NIL_AT(m, k);
  CHECK_EQ(lg_map_count(m), 0);
  CHECK_RC(lg_map_set(m, &k, &nil, 0), 0);  /* absent: no error */
  release(m);
}

TEST(map_delete_says_whether_the_key_was_there) {
  lg_map_t *m = newmap();
  lg_mval_t k = mint(7), v = mbool(1), nil = mnil();
  CHECK(m != NULL);
  CHECK_RC(lg_map_delete(m, &k), 0);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_RC(lg_map_delete(m, &k), 1);
  CHECK_RC(lg_map_delete(m, &k), 0);
  CHECK_RC(lg_map_delete(m, &nil), LG_EINVAL);
  release(m);
}

TEST(map_strings_are_copied_with_nuls_and_empty_ones) {
  lg_map_t *m = newmap();
  char src[8] = "a\0b", big[2000], buf[16];
  lg_mval_t k, v, got;
  CHECK(m != NULL);
  /* The map keeps its own bytes: changing the caller's does nothing. */
  k = mstrn(src, 3);
  v = mstrn(src, 3);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  src[0] = 'x';
  k = mstrn("a\0b", 3);
  CHECK_RC(lg_map_get(m, &k, &got, buf, sizeof buf), 0);
  CHECK_EQ(got.type, LG_MSTR);
  CHECK_PTR(got.u.s.p, buf);  /* fits: no allocation */
  CHECK_EQ(got.u.s.len, 3);
  CHECK(memcmp(got.u.s.p, "a\0b", 4) == 0);  /* NUL after it too */
  lg_mval_free(&got, buf);
  k = mstrn("x\0b", 3);
  CHECK_NIL_AT(m, k);
  CHECK_NIL_AT(m, mstr("a"));  /* a prefix is another key */

  /* Empty key and value. */
  k = mstr("");
  v = mstr("");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_STR_AT(m, mstr(""), "");
  CHECK_RC(lg_map_get(m, &k, &got, buf, sizeof buf), 0);
  CHECK_PTR(got.u.s.p, buf);
  CHECK_EQ(got.u.s.len, 0);

  /* Longer than the buffer: a block of its own. */
  memset(big, 'z', sizeof big);
  k = mstr("big");
  v = mstrn(big, sizeof big);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_RC(lg_map_get(m, &k, &got, buf, sizeof buf), 0);
  CHECK(got.u.s.p != buf);
  CHECK_EQ(got.u.s.len, sizeof big);
  CHECK(memcmp(got.u.s.p, big, sizeof big) == 0);
  lg_mval_free(&got, buf);
  CHECK_EQ(got.type, LG_MNIL);
  lg_mval_free(&got, buf);  /* safe twice */
  /* Exactly the buffer's size: no room for the NUL, so a block too. */
  v = mstrn(big, sizeof buf);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_RC(lg_map_get(m, &k, &got, buf, sizeof buf), 0);
  CHECK(got.u.s.p != buf);
  CHECK_EQ(got.u.s.p[sizeof buf], '\0');
  lg_mval_free(&got, buf);
  release(m);
}

/* ------------------------------------------------------------------ keys */

TEST(map_float_keys_with_integer_values_are_integer_keys) {
  lg_map_t *m = newmap();
  lg_mval_t k, v, *ks;
  size_t n;
  CHECK(m != NULL);
  k = mnum(1.0);
  v = mstr("one");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_STR_AT(m, mint(1), "one");
  CHECK_STR_AT(m, mnum(1.0), "one");
  k = mint(0);
  v = mstr("zero");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_STR_AT(m, mnum(-0.0), "zero");
  k = mnum(0.5);
  v = mstr("half");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_STR_AT(m, mnum(0.5), "half");
  CHECK_NIL_AT(m, mint(2));
  /* 2^63 has no int64: it stays a float key, apart from INT64_MIN. */
  k = mnum(9223372036854775808.0);
  v = mstr("big");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_NIL_AT(m, mint(INT64_MIN));
  CHECK_NIL_AT(m, mint(INT64_MAX));
  k = mnum(-9223372036854775808.0);  /* -2^63 is INT64_MIN */
  v = mstr("min");
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_STR_AT(m, mint(INT64_MIN), "min");
  CHECK_EQ(lg_map_count(m), 5);
  /* Keys come back normalised. */
  CHECK_RC(lg_map_keys(m, &ks, &n), 0);
  CHECK_EQ(n, 5);
  {
    size_t i, ints = 0, floats = 0;
    for (i = 0; i < n; i++) {
      if (ks[i].type == LG_MINT) ints++;
      if (ks[i].type == LG_MNUM) floats++;
    }
    lg__free(ks);
    CHECK_EQ(ints, 3);    /* 1, 0, INT64_MIN */
    CHECK_EQ(floats, 2);  /* 0.5, 2^63 */
  }
  release(m);
}

TEST(map_keys_of_different_types_differ) {
  lg_map_t *m = newmap();
  lg_mval_t k, v;
  CHECK(m != NULL);
  k = mbool(1), v = mint(1);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mint(1), v = mint(2);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mstr("1"), v = mint(3);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mbool(0), v = mint(4);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  k = mint(0), v = mint(5);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_EQ(lg_map_count(m), 5);
  CHECK_INT_AT(m, mbool(1), 1);
  CHECK_INT_AT(m, mbool(7), 1);  /* any non-zero is true */
  CHECK_INT_AT(m, mint(1), 2);
  CHECK_INT_AT(m, mstr("1"), 3);
  CHECK_INT_AT(m, mbool(0), 4);
  CHECK_INT_AT(m, mint(0), 5);
  release(m);
}

TEST(map_nil_and_nan_are_no_keys) {
  lg_map_t *m = newmap();
  lg_mval_t nil = mnil(), nan = mnum(NAN), v = mint(1), got;
  lg_mval_t bad;
  CHECK(m != NULL);
  CHECK_RC(lg_map_set(m, &nil, &v, 0), LG_EINVAL);
  CHECK_RC(lg_map_set(m, &nan, &v, 0), LG_EINVAL);
  CHECK_RC(lg_map_add(m, &nan, &v, 0), LG_EINVAL);
  CHECK_RC(lg_map_get(m, &nil, &got, NULL, 0), LG_EINVAL);
  CHECK_EQ(got.type, LG_MNIL);
  CHECK_RC(lg_map_get(m, &nan, &got, NULL, 0), LG_EINVAL);
  CHECK_RC(lg_map_incr(m, &nan, &v, NULL, &got), LG_EINVAL);
  CHECK_RC(lg_map_delete(m, &nan), LG_EINVAL);
  /* Nor is a type the map does not know a value. */
  bad = mint(0);
  bad.type = 99;
  CHECK_RC(lg_map_set(m, &v, &bad, 0), LG_EINVAL);
  CHECK_RC(lg_map_get(m, &bad, &got, NULL, 0), LG_EINVAL);
  CHECK_EQ(lg_map_count(m), 0);
  /* NaN is a fine value, though. */
  CHECK_RC(lg_map_set(m, &v, &nan, 0), 0);
  CHECK_RC(lg_map_get(m, &v, &got, NULL, 0), 0);
  CHECK_EQ(got.type, LG_MNUM);
  CHECK(got.u.n != got.u.n);
  release(m);
}

/* ------------------------------------------------------------------- add */

TEST(map_add_sets_only_an_absent_key) {
  lg_map_t *m = newmap();
  lg_mval_t k = mstr("k"), v1 = mstr("first"), v2 = mstr("second");
  lg_mval_t nil = mnil();
  CHECK(m != NULL);
  CHECK_RC(lg_map_add(m, &k, &v1, 0), 1);
  CHECK_RC(lg_map_add(m, &k, &v2, 0), 0);
  CHECK_STR_AT(m, k, "first");
  CHECK_RC(lg_map_add(m, &k, &nil, 0), LG_EINVAL);
  CHECK_STR_AT(m, k, "first");
  CHECK_RC(lg_map_delete(m, &k), 1);
  CHECK_RC(lg_map_add(m, &k, &v2, 0), 1);
  CHECK_STR_AT(m, k, "second");
  CHECK_EQ(lg_map_count(m), 1);
  release(m);
}

/* ------------------------------------------------------------------ incr */

TEST(map_incr_keeps_integers_integers) {
  lg_map_t *m = newmap();
  lg_mval_t k = mstr("n"), v = mint(10), d, init, out;
  CHECK(m != NULL);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  d = mint(5);
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), 0);
  CHECK_EQ(out.type, LG_MINT);
  CHECK_EQ(out.u.i, 15);
  d = mint(-20);
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), 0);
  CHECK_EQ(out.u.i, -5);
  CHECK_INT_AT(m, k, -5);
  /* A float delta makes a float, and it stays one. */
  d = mnum(0.5);
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), 0);
  CHECK_EQ(out.type, LG_MNUM);
  CHECK(out.u.n == -4.5);
  d = mint(5);
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), 0);
  CHECK_EQ(out.type, LG_MNUM);
  CHECK(out.u.n == 0.5);
  /* Integers wrap around, as Lua's. */
  v = mint(INT64_MAX);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  d = mint(1);
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), 0);
  CHECK_EQ(out.type, LG_MINT);
  CHECK_EQ(out.u.i, INT64_MIN);
  /* A float init with an int delta: a float. */
  k = mstr("f");
  init = mnum(1.0);
  d = mint(1);
  CHECK_RC(lg_map_incr(m, &k, &d, &init, &out), 0);
  CHECK_EQ(out.type, LG_MNUM);
  CHECK(out.u.n == 2.0);
  release(m);
}

TEST(map_incr_of_a_missing_key_needs_init) {
  lg_map_t *m = newmap();
  lg_mval_t k = mint(1), d = mint(3), init = mint(100), out;
  CHECK(m != NULL);
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), 0);
  CHECK_EQ(out.type, LG_MNIL);
  CHECK_EQ(lg_map_count(m), 0);
  CHECK_RC(lg_map_incr(m, &k, &d, &init, &out), 0);
  CHECK_EQ(out.type, LG_MINT);
  CHECK_EQ(out.u.i, 103);
  CHECK_INT_AT(m, k, 103);
  /* init is only for a missing key. */
  CHECK_RC(lg_map_incr(m, &k, &d, &init, &out), 0);
  CHECK_EQ(out.u.i, 106);
  CHECK_EQ(lg_map_count(m), 1);
  release(m);
}

TEST(map_incr_of_a_non_number_is_einval_and_changes_nothing) {
  lg_map_t *m = newmap();
  lg_mval_t k = mstr("s"), v = mstr("text"), d = mint(1), init = mint(0);
  lg_mval_t out, b = mbool(1), s = mstr("1");
  CHECK(m != NULL);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_RC(lg_map_incr(m, &k, &d, &init, &out), LG_EINVAL);
  CHECK_EQ(out.type, LG_MNIL);
  CHECK_STR_AT(m, k, "text");
  CHECK_RC(lg_map_set(m, &k, &b, 0), 0);
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), LG_EINVAL);
  /* Nor may the delta or init be anything but a number. */
  k = mstr("n");
  CHECK_RC(lg_map_incr(m, &k, &s, NULL, &out), LG_EINVAL);
  CHECK_RC(lg_map_incr(m, &k, &d, &s, &out), LG_EINVAL);
  CHECK_NIL_AT(m, k);
  release(m);
}

/* ------------------------------------------------------------------- ttl */

/* Long enough for any expiry of 1 ns to have passed. */
static void pass_time(void) {
  uv_sleep(2);
}

TEST(map_expired_entries_act_as_absent) {
  lg_map_t *m = newmap();
  lg_mval_t k = mstr("k"), v = mstr("v"), w = mstr("w"), *ks;
  size_t n;
  CHECK(m != NULL);
  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  pass_time();
  CHECK_NIL_AT(m, k);  /* and freed: the lookup dropped it */
  CHECK_EQ(m->count, 0);
  CHECK_EQ(lg_map_count(m), 0);

  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  pass_time();
  CHECK_EQ(lg_map_count(m), 0);
  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  pass_time();
  CHECK_RC(lg_map_keys(m, &ks, &n), 0);
  CHECK_EQ(n, 0);
  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  pass_time();
  CHECK_RC(lg_map_delete(m, &k), 0);  /* it was not live */
  CHECK_EQ(m->count, 0);

  /* add over an expired entry adds. */
  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  pass_time();
  CHECK_RC(lg_map_add(m, &k, &w, 0), 1);
  CHECK_STR_AT(m, k, "w");
  CHECK_EQ(lg_map_count(m), 1);
  release(m);
}

TEST(map_ttl_in_the_future_keeps_the_entry) {
  lg_map_t *m = newmap();
  lg_mval_t k = mstr("k"), v = mstr("v"), w = mstr("w");
  CHECK(m != NULL);
  CHECK_RC(lg_map_set(m, &k, &v, (int64_t)60 * 1000000000), 0);
  CHECK_STR_AT(m, k, "v");
  CHECK_RC(lg_map_add(m, &k, &w, 0), 0);
  CHECK_EQ(lg_map_count(m), 1);
  /* set gives an entry the new expiry: none here, so it stays. */
  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  CHECK_RC(lg_map_set(m, &k, &w, 0), 0);
  pass_time();
  CHECK_STR_AT(m, k, "w");
  /* A ttl past any clock is no expiry, not an overflow. */
  CHECK_RC(lg_map_set(m, &k, &v, INT64_MAX), 0);
  CHECK_STR_AT(m, k, "v");
  /* ... and set's new ttl replaces the old. */
  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  pass_time();
  CHECK_NIL_AT(m, k);
  release(m);
}

TEST(map_incr_keeps_the_expiry_and_restarts_an_expired_entry) {
  lg_map_t *m = newmap();
  lg_mval_t k = mstr("n"), v = mint(5), d = mint(1), init = mint(10), out;
  CHECK(m != NULL);
  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  pass_time();
  /* Expired: missing to incr. Without init it is dropped. */
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), 0);
  CHECK_EQ(out.type, LG_MNIL);
  CHECK_EQ(m->count, 0);
  CHECK_RC(lg_map_set(m, &k, &v, 1), 0);
  pass_time();
  CHECK_RC(lg_map_incr(m, &k, &d, &init, &out), 0);
  CHECK_EQ(out.u.i, 11);
  pass_time();
  CHECK_INT_AT(m, k, 11);  /* the new entry has no expiry */
  /* A live entry keeps its expiry through incr. */
  CHECK_RC(lg_map_set(m, &k, &v, (int64_t)50 * 1000000), 0);  /* 50 ms */
  CHECK_RC(lg_map_incr(m, &k, &d, NULL, &out), 0);
  CHECK_EQ(out.u.i, 6);
  uv_sleep(60);
  CHECK_NIL_AT(m, k);
  release(m);
}

TEST(map_growth_sweeps_expired_entries_first) {
  lg_map_t *m = newmap();
  char buf[32];
  lg_mval_t k, v = mint(1);
  size_t nb;
  int i;
  CHECK(m != NULL);
  /* Long enough not to expire while they go in, under the sanitizers. */
  for (i = 0; i < 1000; i++) {
    k = kname(buf, sizeof buf, "t", i);
    CHECK_RC(lg_map_set(m, &k, &v, (int64_t)200 * 1000000), 0);
  }
  uv_sleep(210);
  nb = m->nbuckets;
  CHECK(nb >= 512);
  /* Inserts past the load limit find everything expired: the sweep frees
   * it all, and the table shrinks rather than grows. */
  for (i = 0; i < (int)nb; i++) {
    k = kname(buf, sizeof buf, "live", i);
    CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  }
  CHECK_EQ(lg_map_count(m), nb);
  CHECK(m->nbuckets <= nb);
  for (i = 0; i < (int)nb; i++)
    CHECK_INT_AT(m, kname(buf, sizeof buf, "live", i), 1);
  CHECK_NIL_AT(m, kname(buf, sizeof buf, "t", 0));
  release(m);
}

/* ------------------------------------------------------ growth, shrinking */

TEST(map_holds_thousands_of_keys_through_growth_and_shrinking) {
  lg_map_t *m = newmap();
  char buf[32];
  lg_mval_t k, v, *ks;
  size_t n, nints = 0, nstrs = 0, i;
  int j;
  CHECK(m != NULL);
  for (j = 0; j < 20000; j++) {
    k = mint(j * 7919);
    v = mint(j);
    CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
    k = kname(buf, sizeof buf, "key", j);
    CHECK_RC(lg_map_set(m, &k, &k, 0), 0);  /* its own name */
  }
  CHECK_EQ(lg_map_count(m), 40000);
  CHECK(m->nbuckets >= 32768);
  CHECK_EQ(m->nbuckets & (m->nbuckets - 1), 0);
  for (j = 0; j < 20000; j++) {
    CHECK_INT_AT(m, mint(j * 7919), j);
    k = kname(buf, sizeof buf, "key", j);
    CHECK_STR_AT(m, k, buf);
  }
  CHECK_RC(lg_map_keys(m, &ks, &n), 0);
  CHECK_EQ(n, 40000);
  for (i = 0; i < n; i++) {
    if (ks[i].type == LG_MINT && ks[i].u.i % 7919 == 0) nints++;
    if (ks[i].type == LG_MSTR && strncmp(ks[i].u.s.p, "key", 3) == 0 &&
        ks[i].u.s.p[ks[i].u.s.len] == '\0')
      nstrs++;
  }
  lg__free(ks);
  CHECK_EQ(nints, 20000);
  CHECK_EQ(nstrs, 20000);
  /* Delete all but ten: the buckets go too. */
  for (j = 10; j < 20000; j++) {
    k = mint(j * 7919);
    CHECK_RC(lg_map_delete(m, &k), 1);
    k = kname(buf, sizeof buf, "key", j);
    CHECK_RC(lg_map_delete(m, &k), 1);
  }
  CHECK_EQ(lg_map_count(m), 20);
  CHECK(m->nbuckets <= 128);
  for (j = 0; j < 10; j++) {
    CHECK_INT_AT(m, mint(j * 7919), j);
    k = kname(buf, sizeof buf, "key", j);
    CHECK_STR_AT(m, k, buf);
  }
  CHECK_NIL_AT(m, mint(10 * 7919));
  release(m);
}

/* ------------------------------------------------------ allocation failure
 * For each n, fail the n-th allocation of a call from now: the call either
 * succeeds, or says LG_ENOMEM and leaves the map as it was. LeakSanitizer
 * catches anything a failed call forgot to free. */

/* A map with "a" = "alpha", 1 = 1, "n" = 2.5, plus "x0".."x4" = true:
 * eight entries in eight buckets, so the next insert grows the table. */
static lg_map_t *fixture(void) {
  lg_map_t *m;
  lg_mval_t k, v;
  char buf[8];
  int i;
  lg_testing_failalloc(0);
  if ((m = newmap()) == NULL) return NULL;
  k = mstr("a"), v = mstr("alpha");
  lg_map_set(m, &k, &v, 0);
  k = mint(1), v = mint(1);
  lg_map_set(m, &k, &v, 0);
  k = mstr("n"), v = mnum(2.5);
  lg_map_set(m, &k, &v, 0);
  for (i = 0; i < 5; i++) {
    k = kname(buf, sizeof buf, "x", i), v = mbool(1);
    lg_map_set(m, &k, &v, 0);
  }
  return m;
}

/* The fixture's entries, untouched but for `skip` (NULL: none). */
#define CHECK_FIXTURE(m, skip)                                        \
  do {                                                                \
    lg_mval_t g_, mk_;                                                \
    char b_[8];                                                       \
    int i_;                                                           \
    const char *skip_ = (skip);                                       \
    if (!skip_ || strcmp(skip_, "a") != 0)                            \
      CHECK_STR_AT(m, mstr("a"), "alpha");                            \
    CHECK_INT_AT(m, mint(1), 1);                                      \
    mk_ = mstr("n");                                                  \
    CHECK_RC(lg_map_get(m, &mk_, &g_, NULL, 0), 0);                   \
    CHECK(g_.type == LG_MNUM && g_.u.n == 2.5);                       \
    for (i_ = 0; i_ < 5; i_++) {                                      \
      mk_ = kname(b_, sizeof b_, "x", i_);                            \
      CHECK_RC(lg_map_get(m, &mk_, &g_, NULL, 0), 0);                 \
      CHECK(g_.type == LG_MBOOL && g_.u.b == 1);                      \
    }                                                                 \
  } while (0)

TEST(map_new_without_memory_is_null) {
  lg_map_t *m;
  lg_atomic_t *a;
  long n;
  for (n = 1; n <= 2; n++) {
    lg_testing_failalloc(n);
    m = lg_map_new();
    lg_testing_failalloc(0);
    CHECK_PTR(m, NULL);
  }
  lg_testing_failalloc(3);
  m = lg_map_new();
  lg_testing_failalloc(0);
  CHECK(m != NULL);
  release(m);
  lg_testing_failalloc(1);
  a = lg_atomic_new(1);
  lg_testing_failalloc(0);
  CHECK_PTR(a, NULL);
}

TEST(map_failed_set_of_a_new_key_changes_nothing) {
  lg_map_t *m;
  lg_mval_t k = mstr("new"), v = mstr("value");
  long n;
  int rc, failed = 0;
  for (n = 1; n <= 6; n++) {
    CHECK((m = fixture()) != NULL);
    CHECK_EQ(m->nbuckets, 8);
    lg_testing_failalloc(n);
    rc = lg_map_set(m, &k, &v, 0);  /* value, entry, then the growth */
    lg_testing_failalloc(0);
    if (rc == LG_ENOMEM) {
      failed++;
      CHECK_EQ(lg_map_count(m), 8);
      CHECK_NIL_AT(m, k);
    } else {
      CHECK_RC(rc, 0);
      CHECK_EQ(lg_map_count(m), 9);
      CHECK_STR_AT(m, k, "value");
      /* A growth that found no memory only leaves the table as it was. */
      CHECK_EQ(m->nbuckets, n == 3 ? 8 : 16);
    }
    CHECK_FIXTURE(m, NULL);
    release(m);
  }
  CHECK_EQ(failed, 2);
}

TEST(map_failed_replace_keeps_the_old_value) {
  lg_map_t *m;
  lg_mval_t k = mstr("a"), v = mstr("a new value");
  CHECK((m = fixture()) != NULL);
  lg_testing_failalloc(1);
  CHECK_RC(lg_map_set(m, &k, &v, 0), LG_ENOMEM);
  lg_testing_failalloc(0);
  CHECK_FIXTURE(m, NULL);
  CHECK_EQ(lg_map_count(m), 8);
  lg_testing_failalloc(2);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);  /* replacing allocates once */
  lg_testing_failalloc(0);
  CHECK_STR_AT(m, k, "a new value");
  CHECK_FIXTURE(m, "a");
  release(m);
}

TEST(map_failed_add_and_incr_change_nothing) {
  lg_map_t *m;
  lg_mval_t k = mstr("new"), v = mint(1), d = mint(1), init = mint(0);
  lg_mval_t out;
  CHECK((m = fixture()) != NULL);
  lg_testing_failalloc(1);
  CHECK_RC(lg_map_add(m, &k, &v, 0), LG_ENOMEM);
  lg_testing_failalloc(1);
  CHECK_RC(lg_map_incr(m, &k, &d, &init, &out), LG_ENOMEM);
  CHECK_EQ(out.type, LG_MNIL);
  lg_testing_failalloc(0);
  CHECK_NIL_AT(m, k);
  CHECK_EQ(lg_map_count(m), 8);
  CHECK_FIXTURE(m, NULL);
  /* Neither allocates on a key that is there. */
  k = mint(1);
  lg_testing_failalloc(1);
  CHECK_RC(lg_map_incr(m, &k, &d, &init, &out), 0);
  CHECK_RC(lg_map_add(m, &k, &v, 0), 0);
  lg_testing_failalloc(0);
  CHECK_INT_AT(m, k, 2);
  release(m);
}

TEST(map_failed_get_and_keys_report_enomem) {
  lg_map_t *m;
  lg_mval_t k = mstr("a"), got, *ks;
  char buf[4];
  size_t n;
  CHECK((m = fixture()) != NULL);
  /* "alpha" does not fit in buf: the copy needs a block. */
  lg_testing_failalloc(1);
  CHECK_RC(lg_map_get(m, &k, &got, buf, sizeof buf), LG_ENOMEM);
  CHECK_EQ(got.type, LG_MNIL);
  lg_testing_failalloc(1);
  CHECK_RC(lg_map_keys(m, &ks, &n), LG_ENOMEM);
  lg_testing_failalloc(0);
  CHECK_PTR(ks, NULL);
  CHECK_EQ(n, 0);
  CHECK_FIXTURE(m, NULL);
  CHECK_RC(lg_map_keys(m, &ks, &n), 0);
  CHECK_EQ(n, 8);
  lg__free(ks);
  release(m);
}

TEST(map_failed_growths_still_hold_every_key) {
  lg_map_t *m = newmap();
  lg_mval_t k, v;
  int i;
  CHECK(m != NULL);
  /* Every third allocation fails: some entries, some growths. */
  for (i = 0; i < 3000; i++) {
    k = mint(i);
    v = mint(-i);
    lg_testing_failalloc(i % 3 == 0 ? 1 : 2);
    if (lg_map_set(m, &k, &v, 0) != 0) {
      lg_testing_failalloc(0);
      CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
    }
  }
  lg_testing_failalloc(0);
  CHECK_EQ(lg_map_count(m), 3000);
  for (i = 0; i < 3000; i++) CHECK_INT_AT(m, mint(i), -i);
  release(m);
}

/* ---------------------------------------------------------------- threads
 * Four threads on the same keys at once; the totals must come out exact
 * (and ThreadSanitizer-free code under ASan must not corrupt anything). */
#define NTHREADS 4
#define NITER 20000
#define NADD 200

typedef struct worker_s {
  lg_map_t *m;
  lg_atomic_t *a;
  int id;
  int added;        /* adds that won */
  int bad;          /* results that made no sense */
} worker_t;

static void map_worker(void *arg) {
  worker_t *w = arg;
  lg_mval_t k, d = mint(1), init = mint(0), out, v;
  char buf[32], vbuf[64], gbuf[32];
  int i;
  for (i = 0; i < NITER; i++) {
    k = mstr("total");
    if (lg_map_incr(w->m, &k, &d, &init, &out) != 0 || out.type != LG_MINT)
      w->bad++;
    k = mint(i % 10);
    if (lg_map_incr(w->m, &k, &d, &init, &out) != 0) w->bad++;
    if (i < NADD) {
      k = kname(buf, sizeof buf, "add", i);
      v = mint(w->id);
      if (lg_map_add(w->m, &k, &v, 0) == 1) w->added++;
    }
    /* Strings replaced and read at once: a reader must never see bytes
     * another thread has freed. */
    k = mstr("shared");
    snprintf(vbuf, sizeof vbuf, "worker %d wrote this, round %d", w->id, i);
    v = mstr(vbuf);
    if (lg_map_set(w->m, &k, &v, i % 2 ? 1000000 : 0) != 0) w->bad++;
    if (lg_map_get(w->m, &k, &out, gbuf, sizeof gbuf) != 0) w->bad++;
    if (out.type == LG_MSTR) {
      if (strncmp(out.u.s.p, "worker ", 7) != 0) w->bad++;
      lg_mval_free(&out, gbuf);
    }
    /* Some churn, so that tables grow and shrink under the others. */
    k = mint(1000 + w->id * NITER + i);
    v = mint(i);
    if (lg_map_set(w->m, &k, &v, 0) != 0) w->bad++;
    if (i % 4 != 0 && lg_map_delete(w->m, &k) != 1) w->bad++;
    if (i % 1000 == 0) {
      lg_mval_t *ks;
      size_t n;
      if (lg_map_keys(w->m, &ks, &n) != 0) w->bad++;
      lg__free(ks);
      (void)lg_map_count(w->m);
    }
  }
}

TEST(map_many_threads_count_exactly) {
  lg_map_t *m = newmap();
  uv_thread_t t[NTHREADS];
  worker_t w[NTHREADS];
  lg_mval_t k, got, v;
  char buf[32];
  int i, added = 0, winners[NTHREADS] = {0};
  CHECK(m != NULL);
  for (i = 0; i < NTHREADS; i++) {
    w[i].m = m;
    w[i].id = i;
    w[i].added = w[i].bad = 0;
    lg_shared_retain(&m->hdr);  /* each thread holds a reference */
  }
  for (i = 0; i < NTHREADS; i++)
    CHECK_RC(uv_thread_create(&t[i], map_worker, &w[i]), 0);
  for (i = 0; i < NTHREADS; i++) {
    CHECK_RC(uv_thread_join(&t[i]), 0);
    CHECK_EQ(w[i].bad, 0);
    added += w[i].added;
    release(m);
  }
  CHECK_EQ(m->hdr.refs, 1);
  CHECK_INT_AT(m, mstr("total"), NTHREADS * NITER);
  for (i = 0; i < 10; i++) CHECK_INT_AT(m, mint(i), NTHREADS * NITER / 10);
  /* Each key added exactly once, by whoever got there first. */
  CHECK_EQ(added, NADD);
  for (i = 0; i < NADD; i++) {
    k = kname(buf, sizeof buf, "add", i);
    CHECK_RC(lg_map_get(m, &k, &got, NULL, 0), 0);
    CHECK_EQ(got.type, LG_MINT);
    CHECK(got.u.i >= 0 && got.u.i < NTHREADS);
    winners[got.u.i]++;
  }
  for (i = 0; i < NTHREADS; i++) CHECK_EQ(winners[i], w[i].added);
  /* The churn left every fourth key; "shared" may have expired. */
  k = mstr("shared");
  v = mbool(1);
  CHECK_RC(lg_map_set(m, &k, &v, 0), 0);
  CHECK_EQ(lg_map_count(m), 1 + 10 + NADD + 1 + NTHREADS * NITER / 4);
  release(m);
}

/* ---------------------------------------------------------------- atomic */

TEST(atomic_load_store_add_cas) {
  lg_atomic_t *a = lg_atomic_new(5);
  CHECK(a != NULL);
  CHECK_EQ(a->hdr.type, LG_SH_ATOMIC);
  CHECK_EQ(a->hdr.refs, 1);
  CHECK_EQ(lg_atomic_load(a), 5);
  lg_atomic_store(a, -7);
  CHECK_EQ(lg_atomic_load(a), -7);
  CHECK_EQ(lg_atomic_add(a, 10), 3);
  CHECK_EQ(lg_atomic_add(a, -3), 0);
  CHECK_EQ(lg_atomic_cas(a, 1, 100), 0);
  CHECK_EQ(lg_atomic_load(a), 0);
  CHECK_EQ(lg_atomic_cas(a, 0, 100), 1);
  CHECK_EQ(lg_atomic_load(a), 100);
  /* Wraps around, as Lua's integers. */
  lg_atomic_store(a, INT64_MAX);
  CHECK_EQ(lg_atomic_add(a, 1), INT64_MIN);
  CHECK_EQ(lg_atomic_add(a, -1), INT64_MAX);
  lg_shared_release(&a->hdr);
}

static void atomic_worker(void *arg) {
  worker_t *w = arg;
  int64_t old;
  int i;
  for (i = 0; i < NITER; i++) {
    lg_atomic_add(w->a, 1);
    /* And an increment by CAS loop, which must never lose one. */
    do {
      old = lg_atomic_load(w->a);
    } while (!lg_atomic_cas(w->a, old, old + 2));
  }
}

TEST(atomic_many_threads_count_exactly) {
  lg_atomic_t *a = lg_atomic_new(0);
  uv_thread_t t[NTHREADS];
  worker_t w[NTHREADS];
  int i;
  CHECK(a != NULL);
  for (i = 0; i < NTHREADS; i++) {
    w[i].a = a;
    CHECK_RC(uv_thread_create(&t[i], atomic_worker, &w[i]), 0);
  }
  for (i = 0; i < NTHREADS; i++) CHECK_RC(uv_thread_join(&t[i]), 0);
  CHECK_EQ(lg_atomic_load(a), (int64_t)NTHREADS * NITER * 3);
  lg_shared_release(&a->hdr);
}
