/* A tiny harness for the core's C tests, spec/core/<name>_test.c.
 *
 *   TEST(chan_fifo) {
 *     lg_p_t p;
 *     P_OPEN(&p);
 *     ...
 *     CHECK_EQ(lg_chan_len(c), 2);
 *     P_CLOSE(&p);
 *   }
 *
 * A TEST registers itself; main(), defined here (include this header once
 * per binary), runs the tests in file order and prints "ok NAME" or
 * "not ok NAME: file:line: why" for each, exiting 1 if any failed. A failed
 * CHECK ends its test at once: it returns from the test function. */
#ifndef LUGO_TEST_H
#define LUGO_TEST_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "lugo.h"

typedef struct test_s {
  const char *name;
  void (*fn)(void);
  int line;
} test_t;

#define MAXTESTS 100
static test_t tests[MAXTESTS];
static int ntests;
static const char *curtest;
static int curfailed;

static inline void test_register(const char *name, void (*fn)(void),
                                 int line) {
  if (ntests == MAXTESTS) abort();
  tests[ntests].name = name;
  tests[ntests].fn = fn;
  tests[ntests].line = line;
  ntests++;
}

/* Registered before main() runs, by a constructor. */
#define TEST(name)                                                    \
  static void test_##name(void);                                      \
  __attribute__((constructor)) static void register_##name(void) {    \
    test_register(#name, test_##name, __LINE__);                      \
  }                                                                   \
  static void test_##name(void)

__attribute__((format(printf, 3, 4)))
static inline void test_fail(const char *file, int line, const char *fmt,
                             ...) {
  va_list ap;
  if (curfailed) return;  /* one line per test */
  curfailed = 1;
  printf("not ok %s: %s:%d: ", curtest, file, line);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

#define FAIL(...)                                                     \
  do {                                                                \
    test_fail(__FILE__, __LINE__, __VA_ARGS__);                       \
    return;                                                           \
  } while (0)

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) FAIL("CHECK(%s) failed", #cond);                     \
  } while (0)

/* Integers of any type (compared as intmax_t). */
#define CHECK_EQ(got, want)                                           \
  do {                                                                \
    intmax_t got_ = (intmax_t)(got), want_ = (intmax_t)(want);        \
    if (got_ != want_)                                                \
      FAIL("%s == %s: got %jd, want %jd", #got, #want, got_, want_);  \
  } while (0)

/* Result codes, shown with their names. */
#define CHECK_RC(got, want)                                           \
  do {                                                                \
    int got_ = (got), want_ = (want);                                 \
    if (got_ != want_)                                                \
      FAIL("%s == %s: got %d (%s), want %d (%s)", #got, #want, got_,  \
           lg_strerror(got_), want_, lg_strerror(want_));             \
  } while (0)

#define CHECK_PTR(got, want)                                          \
  do {                                                                \
    const void *got_ = (got), *want_ = (want);                        \
    if (got_ != want_)                                                \
      FAIL("%s == %s: got %p, want %p", #got, #want, got_, want_);    \
  } while (0)

/* ----------------------------------------------------------------- values
 * The vfree hook P_OPEN installs counts every LG_VREF the core releases,
 * per ref, so a test can check that each value sent was received once or
 * released once: never both, never neither. */
#define NREFS 4096
static int released[NREFS];  /* times vfree saw each ref */
static int nreleased;        /* all vfree calls */
static int nbadrelease;      /* vfree calls on a value that is no LG_VREF */

static inline void test_vfree(lg_p_t *p, lg_value_t *v) {
  (void)p;
  nreleased++;
  if (v->type != LG_VREF || v->u.ref >= NREFS) nbadrelease++;
  else released[v->u.ref]++;
}

static inline lg_value_t vint(int64_t i) {
  lg_value_t v;
  v.type = LG_VINT;
  v.u.i = i;
  return v;
}

static inline lg_value_t vref(uint32_t ref) {
  lg_value_t v;
  v.type = LG_VREF;
  v.u.ref = ref;
  return v;
}

static inline lg_value_t vnil(void) {
  lg_value_t v;
  v.type = LG_VNIL;
  v.u.i = 0;
  return v;
}

/* Start a test's processor, with the counting vfree hook. */
#define P_OPEN(p)                                                     \
  do {                                                                \
    int i_;                                                           \
    CHECK_RC(lg_p_init((p), 0), 0);                                   \
    (p)->vfree = test_vfree;                                          \
    /* one record per slab chunk: each can fail, ASan sees each */    \
    (p)->slabn = 1;                                                   \
    for (i_ = 0; i_ < NREFS; i_++) released[i_] = 0;                  \
    nreleased = nbadrelease = 0;                                      \
  } while (0)

/* End it: a test must not leave goroutines, channels or timers behind,
 * nor release anything that was not an LG_VREF. */
#define P_CLOSE(p)                                                    \
  do {                                                                \
    size_t ng_ = (p)->ngoroutines, nc_ = (p)->nchans;                 \
    size_t nt_ = (p)->ntimers;                                        \
    lg_p_close(p);                                                    \
    if (ng_ || nc_ || nt_)                                            \
      FAIL("left behind %zu goroutines, %zu channels, %zu timers",    \
           ng_, nc_, nt_);                                            \
    CHECK_EQ(nbadrelease, 0);                                         \
  } while (0)

/* ----------------------------------------------------------------- runner */
static int test_byline(const void *a, const void *b) {
  return ((const test_t *)a)->line - ((const test_t *)b)->line;
}

int main(void) {
  int i, failed = 0;
  qsort(tests, (size_t)ntests, sizeof *tests, test_byline);
  for (i = 0; i < ntests; i++) {
    curtest = tests[i].name;
    curfailed = 0;
    lg_testing_failalloc(0);  /* a failed test must not poison the next */
    tests[i].fn();
    if (curfailed) failed++;
    else printf("ok %s\n", curtest);
    fflush(stdout);
  }
  /* A failed CHECK returned without cleaning up: skip LeakSanitizer's
   * report of that (it runs at exit), the failure is printed already. */
  if (failed) _exit(1);
  return 0;
}

#endif
