/* Timers: the heap's order, stop and re-start, tickers, sleep, blocking
 * poll, and channel timers. */
#include <string.h>
#include "test.h"

#define NT 1000

/* Timers whose fn records the order they fire in. */
static lg_timer_t tm[NT];
static int fired[NT * 4];
static int nfired;
static int64_t firednow[NT * 4];

static void record(lg_timer_t *t, int64_t now) {
  firednow[nfired] = now;
  fired[nfired++] = (int)(t - tm);
}

static void setup_timers(lg_p_t *p) {
  int i;
  memset(tm, 0, sizeof tm);
  for (i = 0; i < NT; i++) {
    tm[i].p = p;
    tm[i].idx = -1;
    tm[i].fn = record;
  }
  nfired = 0;
}

static uint32_t rnd(uint32_t *seed) {
  *seed = *seed * 1103515245u + 12345u;
  return *seed >> 8;
}

TEST(timer_heap_fires_1000_random_deadlines_in_order) {
  lg_p_t p;
  uint32_t seed = 42;
  int64_t cut, last = 0;
  int i;
  P_OPEN(&p);
  setup_timers(&p);
  for (i = 0; i < NT; i++)  /* small range: duplicates too */
    CHECK_RC(lg_timer_start(&tm[i], 1 + (int64_t)(rnd(&seed) % 5000)), 0);
  CHECK_EQ(p.ntimers, NT);
  CHECK_EQ(lg_p_runtimers(&p, 0), 0);
  /* Fire in slices: each one fires exactly the timers due by then. */
  for (cut = 250; cut <= 5000; cut += 250) {
    int before = nfired;
    int n = lg_p_runtimers(&p, cut);
    CHECK_EQ(n, nfired - before);
    for (i = before; i < nfired; i++) {
      int64_t when = tm[fired[i]].when;
      if (when < last || when > cut || when <= cut - 250)
        FAIL("fire %d: timer %d due %jd after one due %jd, slice to %jd",
             i, fired[i], (intmax_t)when, (intmax_t)last, (intmax_t)cut);
      CHECK_EQ(firednow[i], cut);
      CHECK_EQ(tm[fired[i]].idx, -1);
      last = when;
    }
  }
  CHECK_EQ(nfired, NT);
  CHECK_EQ(p.ntimers, 0);
  P_CLOSE(&p);
}

TEST(timer_heap_keeps_order_when_timers_are_stopped) {
  lg_p_t p;
  uint32_t seed = 7;
  int64_t last = 0;
  int i;
  P_OPEN(&p);
  setup_timers(&p);
  for (i = 0; i < NT; i++)
    CHECK_RC(lg_timer_start(&tm[i], 1 + (int64_t)(rnd(&seed) % 100000)), 0);
  for (i = 0; i < NT; i += 3) CHECK_EQ(lg_timer_stop(&tm[i]), 1);
  CHECK_EQ(p.ntimers, NT - (NT + 2) / 3);
  CHECK_EQ(lg_p_runtimers(&p, INT64_MAX), NT - (NT + 2) / 3);
  for (i = 0; i < nfired; i++) {
    CHECK(fired[i] % 3 != 0);
    CHECK(tm[fired[i]].when >= last);
    last = tm[fired[i]].when;
  }
  P_CLOSE(&p);
}

TEST(timer_stop_returns_1_when_pending_then_0) {
  lg_p_t p;
  P_OPEN(&p);
  setup_timers(&p);
  CHECK_EQ(lg_timer_stop(&tm[0]), 0);  /* never started */
  CHECK_RC(lg_timer_start(&tm[0], 100), 0);
  CHECK_RC(lg_timer_start(&tm[1], 50), 0);
  CHECK_EQ(lg_timer_stop(&tm[0]), 1);
  CHECK_EQ(lg_timer_stop(&tm[0]), 0);
  CHECK_EQ(p.ntimers, 1);
  CHECK_EQ(lg_p_runtimers(&p, 1000), 1);
  CHECK_EQ(fired[0], 1);
  CHECK_EQ(lg_timer_stop(&tm[1]), 0);  /* already fired */
  CHECK_EQ(tm[0].refs, 0);
  CHECK_EQ(tm[1].refs, 0);
  P_CLOSE(&p);
}

TEST(timer_start_moves_a_pending_timer) {
  lg_p_t p;
  P_OPEN(&p);
  setup_timers(&p);
  CHECK_RC(lg_timer_start(&tm[0], 100), 0);
  CHECK_RC(lg_timer_start(&tm[1], 200), 0);
  CHECK_RC(lg_timer_start(&tm[2], 300), 0);
  CHECK_RC(lg_timer_start(&tm[0], 250), 0);  /* later */
  CHECK_RC(lg_timer_start(&tm[2], 50), 0);   /* earlier */
  CHECK_EQ(p.ntimers, 3);
  CHECK_EQ(tm[0].refs, 1);  /* moved, not added twice */
  CHECK_EQ(lg_p_runtimers(&p, 60), 1);
  CHECK_EQ(fired[0], 2);
  CHECK_EQ(lg_p_runtimers(&p, 240), 1);
  CHECK_EQ(fired[1], 1);
  CHECK_EQ(lg_p_runtimers(&p, 300), 1);
  CHECK_EQ(fired[2], 0);
  CHECK_EQ(nfired, 3);
  P_CLOSE(&p);
}

TEST(timer_ticker_rearms_on_its_grid_and_skips_missed_beats) {
  lg_p_t p;
  P_OPEN(&p);
  setup_timers(&p);
  tm[0].period = 10;
  CHECK_RC(lg_timer_start(&tm[0], 100), 0);
  CHECK_EQ(lg_p_runtimers(&p, 99), 0);
  CHECK_EQ(lg_p_runtimers(&p, 100), 1);
  CHECK_EQ(tm[0].when, 110);
  CHECK(tm[0].idx >= 0);
  CHECK_EQ(lg_p_runtimers(&p, 105), 0);
  /* 110, 120 and 130 are due: one beat, the next on the grid at 140. */
  CHECK_EQ(lg_p_runtimers(&p, 135), 1);
  CHECK_EQ(nfired, 2);
  CHECK_EQ(tm[0].when, 140);
  CHECK_EQ(lg_p_runtimers(&p, 140), 1);
  CHECK_EQ(tm[0].when, 150);
  CHECK_EQ(firednow[2], 140);
  CHECK_EQ(lg_timer_stop(&tm[0]), 1);
  CHECK_EQ(lg_p_runtimers(&p, 1000), 0);
  P_CLOSE(&p);
}

TEST(timer_sleep_parks_and_the_timer_readies_g) {
  lg_p_t p;
  lg_g_t *g;
  int64_t when;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  when = lg_now() + 3600 * (int64_t)1000000000;  /* never by the clock */
  CHECK_RC(lg_sleep(&p, g, when), LG_PARKED);
  CHECK_EQ(g->status, LG_GWAITING);
  CHECK_EQ(g->reason, LG_WSLEEP);
  CHECK_EQ(p.ntimers, 1);
  CHECK_PTR(lg_p_next(&p), NULL);
  CHECK_EQ(lg_p_runtimers(&p, when - 1), 0);
  CHECK_EQ(g->status, LG_GWAITING);
  CHECK_EQ(lg_p_runtimers(&p, when), 1);
  CHECK_EQ(g->status, LG_GRUNNABLE);
  CHECK_EQ(g->sleep->idx, -1);
  CHECK_EQ(p.ntimers, 0);
  CHECK_EQ(lg_p_runnable(&p), 1);
  CHECK_PTR(lg_p_next(&p), g);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}

TEST(timer_p_next_fires_due_timers_when_nothing_else_runs) {
  lg_p_t p;
  lg_g_t *g;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  CHECK_RC(lg_sleep(&p, g, lg_now() - 1), LG_PARKED);  /* due already */
  CHECK_EQ(g->status, LG_GWAITING);
  CHECK_PTR(lg_p_next(&p), g);
  CHECK_EQ(p.ntimers, 0);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}

TEST(timer_poll_with_nothing_pending_is_edeadlk) {
  lg_p_t p;
  P_OPEN(&p);
  CHECK_RC(lg_p_poll(&p, 1), LG_EDEADLK);
  CHECK_RC(lg_p_poll(&p, 0), 0);
  P_CLOSE(&p);
}

TEST(timer_poll_blocks_until_a_timer_20ms_away_readies_g) {
  lg_p_t p;
  lg_g_t *g;
  int64_t t0, dt;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  t0 = lg_now();
  CHECK_RC(lg_sleep(&p, g, t0 + 20 * 1000000), LG_PARKED);
  CHECK_RC(lg_p_poll(&p, 1), 0);
  dt = lg_now() - t0;
  if (dt < 20 * 1000000 || dt >= 200 * 1000000)
    FAIL("poll returned after %.3f ms, want 20..200", (double)dt / 1e6);
  CHECK_EQ(g->status, LG_GRUNNABLE);
  CHECK_PTR(lg_p_next(&p), g);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}

TEST(timer_chan_timer_sends_the_time_as_a_number) {
  lg_p_t p;
  lg_chan_t *c;
  lg_timer_t *t;
  lg_value_t v;
  P_OPEN(&p);
  c = lg_chan_new(&p, 1);
  CHECK(c != NULL);
  t = lg_timer_newchan(&p, c, 0);
  CHECK(t != NULL);
  lg_chan_release(c);  /* the timer keeps it */
  CHECK_EQ(p.nchans, 1);
  CHECK_RC(lg_timer_start(t, 2000000000), 0);
  CHECK_EQ(lg_p_runtimers(&p, 2500000000), 1);
  CHECK_EQ(lg_chan_len(c), 1);
  CHECK_RC(lg_chan_tryrecv(c, &v), 0);
  CHECK_EQ(v.type, LG_VNUM);
  CHECK(v.u.n == 2.5);
  CHECK_EQ(t->idx, -1);
  lg_timer_release(t);
  CHECK_EQ(p.nchans, 0);
  P_CLOSE(&p);
}

TEST(timer_chan_timer_drops_the_time_when_the_channel_is_full) {
  lg_p_t p;
  lg_chan_t *c;
  lg_timer_t *t;
  lg_value_t v;
  P_OPEN(&p);
  c = lg_chan_new(&p, 1);
  CHECK(c != NULL);
  t = lg_timer_newchan(&p, c, 1000000000);  /* a ticker, 1 s */
  CHECK(t != NULL);
  CHECK_RC(lg_timer_start(t, 1000000000), 0);
  CHECK_EQ(lg_p_runtimers(&p, 1000000000), 1);
  CHECK_EQ(lg_p_runtimers(&p, 2000000000), 1);  /* full: dropped */
  CHECK_EQ(lg_chan_len(c), 1);
  CHECK_RC(lg_chan_tryrecv(c, &v), 0);
  CHECK(v.type == LG_VNUM && v.u.n == 1.0);
  CHECK_RC(lg_chan_tryrecv(c, &v), LG_EAGAIN);
  CHECK_EQ(lg_p_runtimers(&p, 3000000000), 1);
  CHECK_RC(lg_chan_tryrecv(c, &v), 0);
  CHECK(v.type == LG_VNUM && v.u.n == 3.0);
  CHECK_EQ(lg_timer_stop(t), 1);
  lg_timer_release(t);
  lg_chan_release(c);
  P_CLOSE(&p);
}

/* The heap holds a reference: a one-shot timer the caller let go of
 * still fires, then frees itself and its channel reference. */
TEST(timer_chan_timer_released_while_pending_fires_then_frees) {
  lg_p_t p;
  lg_chan_t *c;
  lg_timer_t *t;
  lg_value_t v;
  P_OPEN(&p);
  c = lg_chan_new(&p, 1);
  CHECK(c != NULL);
  t = lg_timer_newchan(&p, c, 0);
  CHECK(t != NULL);
  CHECK_RC(lg_timer_start(t, 10), 0);
  CHECK_EQ(t->refs, 2);
  lg_timer_release(t);
  CHECK_EQ(p.ntimers, 1);
  CHECK_EQ(lg_p_runtimers(&p, 10), 1);  /* ASan: t freed only now */
  CHECK_RC(lg_chan_tryrecv(c, &v), 0);
  CHECK_EQ(v.type, LG_VNUM);
  lg_chan_release(c);
  P_CLOSE(&p);
}
