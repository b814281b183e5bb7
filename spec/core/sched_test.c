/* The scheduler: run queue and runnext, goroutine records, unwait. */
#include "test.h"

#define NG 600

TEST(sched_run_queue_is_fifo) {
  lg_p_t p;
  lg_g_t *g[5];
  int i;
  P_OPEN(&p);
  CHECK_PTR(lg_p_next(&p), NULL);
  for (i = 0; i < 5; i++) {
    g[i] = lg_g_new(&p);
    CHECK(g[i] != NULL);
    CHECK_EQ(g[i]->status, LG_GIDLE);
    lg_ready(&p, g[i], 0);
    CHECK_EQ(g[i]->status, LG_GRUNNABLE);
    CHECK_EQ(lg_p_runnable(&p), i + 1);
  }
  for (i = 0; i < 5; i++) {
    CHECK_PTR(lg_p_next(&p), g[i]);
    CHECK_EQ(lg_p_runnable(&p), 4 - i);
  }
  CHECK_PTR(lg_p_next(&p), NULL);
  for (i = 0; i < 5; i++) lg_g_free(&p, g[i]);
  P_CLOSE(&p);
}

TEST(sched_runnext_goes_first_and_the_one_it_replaces_goes_last) {
  lg_p_t p;
  lg_g_t *a, *b, *c, *d;
  P_OPEN(&p);
  a = lg_g_new(&p);
  b = lg_g_new(&p);
  c = lg_g_new(&p);
  d = lg_g_new(&p);
  CHECK(a != NULL && b != NULL && c != NULL && d != NULL);
  lg_ready(&p, a, 0);
  lg_ready(&p, b, 1);
  CHECK_PTR(p.runnext, b);
  CHECK_EQ(lg_p_runnable(&p), 2);
  lg_ready(&p, c, 1);  /* b is kicked to the back of the queue */
  CHECK_PTR(p.runnext, c);
  lg_ready(&p, d, 0);
  CHECK_EQ(lg_p_runnable(&p), 4);
  CHECK_PTR(lg_p_next(&p), c);
  CHECK_PTR(lg_p_next(&p), a);
  CHECK_PTR(lg_p_next(&p), b);
  CHECK_PTR(lg_p_next(&p), d);
  CHECK_PTR(lg_p_next(&p), NULL);
  lg_g_free(&p, a);
  lg_g_free(&p, b);
  lg_g_free(&p, c);
  lg_g_free(&p, d);
  P_CLOSE(&p);
}

/* Two goroutines handing off through runnext must not starve the queue:
 * its head goes first at least every 61 rounds. */
TEST(sched_runnext_ping_pong_cannot_starve_the_queue) {
  lg_p_t p;
  lg_g_t *x, *y, *z, *g;
  int i;
  P_OPEN(&p);
  x = lg_g_new(&p);
  y = lg_g_new(&p);
  z = lg_g_new(&p);
  CHECK(x != NULL && y != NULL && z != NULL);
  lg_ready(&p, z, 0);
  lg_ready(&p, x, 1);
  for (i = 0; i < 61; i++) {
    g = lg_p_next(&p);
    if (g == z) break;
    CHECK(g == x || g == y);
    lg_ready(&p, g == x ? y : x, 1);  /* g hands off to its partner */
  }
  if (i == 61) FAIL("the queue's head did not run in 61 rounds");
  CHECK(lg_p_next(&p) != NULL);  /* the partner still in runnext */
  CHECK_PTR(lg_p_next(&p), NULL);
  lg_g_free(&p, x);
  lg_g_free(&p, y);
  lg_g_free(&p, z);
  P_CLOSE(&p);
}

TEST(sched_run_queue_grows_past_256_in_order) {
  lg_p_t p;
  static lg_g_t *g[NG];
  int i, head = 0;
  P_OPEN(&p);
  for (i = 0; i < NG; i++) {
    g[i] = lg_g_new(&p);
    CHECK(g[i] != NULL);
  }
  /* Move the ring's head first, so it grows while wrapped. */
  for (i = 0; i < 200; i++) lg_ready(&p, g[i], 0);
  for (; head < 100; head++) CHECK_PTR(lg_p_next(&p), g[head]);
  for (; i < NG; i++) lg_ready(&p, g[i], 0);
  CHECK_EQ(lg_p_runnable(&p), NG - 100);
  CHECK(p.rqcap >= NG - 100);
  for (; head < NG; head++) {
    lg_g_t *got = lg_p_next(&p);
    if (got != g[head])
      FAIL("run %d: got goroutine %" PRIu64 ", want %" PRIu64, head,
           got ? got->id : 0, g[head]->id);
  }
  CHECK_PTR(lg_p_next(&p), NULL);
  for (i = 0; i < NG; i++) lg_g_free(&p, g[i]);
  P_CLOSE(&p);
}

TEST(sched_ready_of_an_inline_waiter_only_flips_its_status) {
  lg_p_t p;
  lg_g_t *g;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  g->inlinewait = 1;
  lg_park(&p, g, LG_WRECV);
  CHECK_EQ(g->status, LG_GWAITING);
  CHECK_EQ(g->reason, LG_WRECV);
  lg_ready(&p, g, 1);
  CHECK_EQ(g->status, LG_GRUNNABLE);
  CHECK_EQ(lg_p_runnable(&p), 0);
  CHECK_PTR(lg_p_next(&p), NULL);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}

TEST(sched_unwait_takes_a_sender_off_its_channel_and_releases_its_value) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_value_t x = vref(3), v;
  P_OPEN(&p);
  c = lg_chan_new(&p, 0);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  CHECK_RC(lg_chan_send(c, g, &x), LG_PARKED);
  CHECK_EQ(nreleased, 0);
  lg_g_unwait(&p, g);
  CHECK_EQ(released[3], 1);
  CHECK_EQ(nreleased, 1);
  CHECK_PTR(g->waiting, NULL);
  CHECK_EQ(g->status, LG_GRUNNING);
  CHECK_EQ(g->reason, LG_WNONE);
  CHECK_RC(lg_chan_tryrecv(c, &v), LG_EAGAIN);  /* no sender left */
  CHECK_RC(lg_chan_close(c), 0);                /* wakes nobody */
  CHECK_EQ(g->status, LG_GRUNNING);
  CHECK_EQ(lg_p_runnable(&p), 0);
  lg_g_free(&p, g);
  lg_chan_release(c);
  CHECK_EQ(nreleased, 1);
  P_CLOSE(&p);
}

TEST(sched_unwait_takes_a_receiver_off_its_channel) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_value_t v;
  P_OPEN(&p);
  c = lg_chan_new(&p, 0);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  CHECK_RC(lg_chan_recv(c, g, &v), LG_PARKED);
  lg_g_unwait(&p, g);
  CHECK_PTR(g->waiting, NULL);
  v = vint(1);
  CHECK_RC(lg_chan_trysend(c, &v), LG_EAGAIN);  /* no receiver left */
  lg_g_free(&p, g);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(sched_unwait_stops_a_sleep) {
  lg_p_t p;
  lg_g_t *g;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  CHECK_RC(lg_sleep(&p, g, lg_now() + 1000000000), LG_PARKED);
  CHECK_EQ(p.ntimers, 1);
  lg_g_unwait(&p, g);
  CHECK_EQ(p.ntimers, 0);
  CHECK_EQ(g->sleep->idx, -1);
  CHECK_EQ(lg_p_runtimers(&p, INT64_MAX), 0);
  CHECK_EQ(lg_p_runnable(&p), 0);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}

TEST(sched_g_free_recycles_the_record_as_new) {
  lg_p_t p;
  lg_g_t *g, *h;
  uint64_t id;
  lg_value_t x = vint(1);
  lg_chan_t *c;
  P_OPEN(&p);
  c = lg_chan_new(&p, 1);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  id = g->id;
  CHECK_RC(lg_chan_trysend(c, &x), 0);
  CHECK_RC(lg_chan_send(c, g, &x), LG_PARKED);  /* dirty it */
  CHECK_RC(lg_chan_tryrecv(c, &x), 0);
  CHECK_PTR(lg_p_next(&p), g);
  g->host = &p;
  lg_g_free(&p, g);
  CHECK_EQ(g->status, LG_GDEAD);
  CHECK_PTR(p.gfree, g);

  lg_testing_failalloc(1);  /* reuse must not allocate */
  h = lg_g_new(&p);
  lg_testing_failalloc(0);
  CHECK_PTR(h, g);
  CHECK_PTR(p.gfree, NULL);
  CHECK(h->id > id);
  CHECK_EQ(h->status, LG_GIDLE);
  CHECK_EQ(h->reason, LG_WNONE);
  CHECK_EQ(h->ok, 0);
  CHECK_EQ(h->sel, 0);
  CHECK_PTR(h->host, NULL);
  CHECK_PTR(h->waiting, NULL);
  CHECK_PTR(h->sleep, NULL);  /* it never slept: no timer */
  CHECK_PTR(h->p, &p);
  lg_g_free(&p, h);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(sched_sleep_timer_is_made_once_and_kept_with_the_record) {
  lg_p_t p;
  lg_g_t *g, *h;
  lg_timer_t *t;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  g->status = LG_GRUNNING;
  lg_testing_failalloc(1);  /* no memory for the timer: nothing parks */
  CHECK_RC(lg_sleep(&p, g, lg_now() + 1000000000), LG_ENOMEM);
  lg_testing_failalloc(0);
  CHECK_PTR(g->sleep, NULL);
  CHECK_EQ(g->status, LG_GRUNNING);
  CHECK_EQ(p.ntimers, 0);
  CHECK_RC(lg_sleep(&p, g, lg_now() + 1000000000), LG_PARKED);
  t = g->sleep;
  CHECK(t != NULL);
  CHECK_PTR(t->arg, g);
  lg_g_unwait(&p, g);
  lg_g_free(&p, g);

  lg_testing_failalloc(1);  /* the recycled record sleeps on its timer */
  h = lg_g_new(&p);
  CHECK_PTR(h, g);
  CHECK_PTR(h->sleep, t);
  h->status = LG_GRUNNING;
  CHECK_RC(lg_sleep(&p, h, lg_now()), LG_PARKED);
  lg_testing_failalloc(0);
  CHECK_EQ(lg_p_runtimers(&p, INT64_MAX), 1);
  CHECK_PTR(lg_p_next(&p), h);
  CHECK_EQ(t->idx, -1);
  lg_g_free(&p, h);
  P_CLOSE(&p);
}

TEST(sched_ngoroutines_counts_live_goroutines) {
  lg_p_t p;
  lg_g_t *g[4];
  int i;
  P_OPEN(&p);
  CHECK_EQ(p.ngoroutines, 0);
  for (i = 0; i < 4; i++) {
    g[i] = lg_g_new(&p);
    CHECK(g[i] != NULL);
    CHECK_EQ(p.ngoroutines, i + 1);
  }
  lg_g_free(&p, g[1]);
  lg_g_free(&p, g[3]);
  CHECK_EQ(p.ngoroutines, 2);
  /* allg lists exactly the live ones. */
  {
    lg_g_t *it;
    int n = 0;
    for (it = p.allg; it != NULL; it = it->allnext) {
      CHECK(it == g[0] || it == g[2]);
      n++;
    }
    CHECK_EQ(n, 2);
  }
  g[1] = lg_g_new(&p);
  CHECK(g[1] != NULL);
  CHECK_EQ(p.ngoroutines, 3);
  CHECK_EQ(p.stats.spawned, 5);
  lg_g_free(&p, g[0]);
  lg_g_free(&p, g[1]);
  lg_g_free(&p, g[2]);
  CHECK_EQ(p.ngoroutines, 0);
  CHECK_PTR(p.allg, NULL);
  P_CLOSE(&p);
}

TEST(sched_records_come_from_slab_chunks) {
  lg_p_t p;
  lg_g_t *g[5];
  int i;
  P_OPEN(&p);
  p.slabn = 4;
  g[0] = lg_g_new(&p);  /* makes a chunk of 4 */
  CHECK(g[0] != NULL);
  lg_testing_failalloc(1);  /* the next three need no allocation */
  for (i = 1; i < 4; i++) {
    g[i] = lg_g_new(&p);
    CHECK_PTR(g[i], g[0] + i);
  }
  g[4] = lg_g_new(&p);  /* a new chunk, and there is no memory */
  lg_testing_failalloc(0);
  CHECK_PTR(g[4], NULL);
  CHECK_EQ(p.ngoroutines, 4);
  g[4] = lg_g_new(&p);
  CHECK(g[4] != NULL);
  for (i = 0; i < 5; i++) lg_g_free(&p, g[i]);
  CHECK_PTR(lg_g_new(&p), g[4]);  /* recycled, newest first */
  lg_g_free(&p, g[4]);
  P_CLOSE(&p);  /* frees both chunks: LeakSanitizer checks */
}

TEST(sched_g_new_without_memory_returns_null) {
  lg_p_t p;
  lg_g_t *g;
  P_OPEN(&p);
  lg_testing_failalloc(1);
  g = lg_g_new(&p);
  lg_testing_failalloc(0);
  CHECK_PTR(g, NULL);
  CHECK_EQ(p.ngoroutines, 0);
  CHECK_PTR(p.allg, NULL);
  P_CLOSE(&p);
}
