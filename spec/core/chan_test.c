/* Channels: hand-off, the ring buffer, close and ownership of values. */
#include "test.h"

TEST(chan_unbuffered_send_hands_off_to_waiting_receiver_via_runnext) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_value_t v = vnil(), x = vint(42);
  P_OPEN(&p);
  c = lg_chan_new(&p, 0);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  CHECK_RC(lg_chan_recv(c, g, &v), LG_PARKED);
  CHECK_EQ(g->status, LG_GWAITING);
  CHECK_EQ(g->reason, LG_WRECV);
  CHECK_EQ(lg_p_runnable(&p), 0);

  CHECK_RC(lg_chan_trysend(c, &x), 0);
  CHECK_EQ(g->status, LG_GRUNNABLE);
  CHECK_EQ(g->val.type, LG_VINT);
  CHECK_EQ(g->val.u.i, 42);
  CHECK_EQ(g->ok, 1);
  CHECK_EQ(g->sel, -1);
  CHECK_RC(g->rc, 0);
  CHECK_PTR(g->waiting, NULL);
  CHECK_PTR(p.runnext, g);
  CHECK_EQ(p.rqlen, 0);
  CHECK_EQ(lg_chan_len(c), 0);  /* straight to g, not through a buffer */
  CHECK_PTR(lg_p_next(&p), g);
  CHECK_PTR(lg_p_next(&p), NULL);
  /* Nobody waits any more. */
  CHECK_RC(lg_chan_trysend(c, &x), LG_EAGAIN);

  lg_g_free(&p, g);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(chan_unbuffered_recv_takes_from_waiting_sender_via_runnext) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_value_t v = vnil(), x = vref(7);
  P_OPEN(&p);
  c = lg_chan_new(&p, 0);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  CHECK_RC(lg_chan_send(c, g, &x), LG_PARKED);
  CHECK_EQ(g->reason, LG_WSEND);

  CHECK_RC(lg_chan_tryrecv(c, &v), 0);
  CHECK_EQ(v.type, LG_VREF);
  CHECK_EQ(v.u.ref, 7);
  CHECK_EQ(g->status, LG_GRUNNABLE);
  CHECK_EQ(g->ok, -1);
  CHECK_RC(g->rc, 0);
  CHECK_PTR(p.runnext, g);
  CHECK_EQ(nreleased, 0);  /* received, so not released */
  CHECK_PTR(lg_p_next(&p), g);

  lg_g_free(&p, g);
  lg_chan_release(c);
  CHECK_EQ(nreleased, 0);
  P_CLOSE(&p);
}

TEST(chan_buffered_is_fifo) {
  lg_p_t p;
  lg_chan_t *c;
  lg_value_t v;
  int i;
  P_OPEN(&p);
  c = lg_chan_new(&p, 3);
  CHECK(c != NULL);
  CHECK_EQ(lg_chan_cap(c), 3);
  for (i = 1; i <= 3; i++) {
    v = vint(i);
    CHECK_RC(lg_chan_trysend(c, &v), 0);
  }
  CHECK_EQ(lg_chan_len(c), 3);
  v = vint(4);
  CHECK_RC(lg_chan_trysend(c, &v), LG_EAGAIN);
  for (i = 1; i <= 3; i++) {
    CHECK_RC(lg_chan_tryrecv(c, &v), 0);
    CHECK_EQ(v.type, LG_VINT);
    CHECK_EQ(v.u.i, i);
  }
  CHECK_RC(lg_chan_tryrecv(c, &v), LG_EAGAIN);
  CHECK_EQ(v.type, LG_VNIL);
  lg_chan_release(c);
  P_CLOSE(&p);
}

/* The ring starts at 8 slots and doubles up to cap; growing while the
 * ring is wrapped must keep the order. */
TEST(chan_ring_grows_past_8_and_wraps_in_order) {
  lg_p_t p;
  lg_chan_t *c;
  lg_value_t v;
  int64_t sent = 0, got = 0;
  uint32_t seed = 12345;
  int i, nfull = 0, nempty = 0;
  P_OPEN(&p);
  c = lg_chan_new(&p, 100);
  CHECK(c != NULL);
  /* Wrap the 8-slot ring before it first grows. */
  for (i = 0; i < 5; i++) {
    v = vint(sent++);
    CHECK_RC(lg_chan_trysend(c, &v), 0);
  }
  for (i = 0; i < 3; i++) {
    CHECK_RC(lg_chan_tryrecv(c, &v), 0);
    CHECK_EQ(v.u.i, got++);
  }
  /* Then interleave, biased towards sending until full, then towards
   * receiving until empty, so it wraps at every size. */
  for (i = 0; i < 1000; i++) {
    int send;
    seed = seed * 1103515245u + 12345u;
    send = (seed >> 16) % 4 != 0;
    if ((i / 250) % 2 == 1) send = !send;
    if (send) {
      v = vint(sent);
      if (sent - got == 100) {
        CHECK_RC(lg_chan_trysend(c, &v), LG_EAGAIN);
        nfull++;
        continue;
      }
      CHECK_RC(lg_chan_trysend(c, &v), 0);
      sent++;
    } else if (sent == got) {
      CHECK_RC(lg_chan_tryrecv(c, &v), LG_EAGAIN);
      nempty++;
    } else {
      CHECK_RC(lg_chan_tryrecv(c, &v), 0);
      CHECK_EQ(v.type, LG_VINT);
      CHECK_EQ(v.u.i, got++);
    }
    CHECK_EQ(lg_chan_len(c), sent - got);
  }
  /* The walk did fill the ring and empty it again, more than once. */
  CHECK(nfull > 1 && nempty > 1);
  while (got < sent) {
    CHECK_RC(lg_chan_tryrecv(c, &v), 0);
    CHECK_EQ(v.u.i, got++);
  }
  CHECK_RC(lg_chan_tryrecv(c, &v), LG_EAGAIN);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(chan_ring_fills_to_cap_100_in_order) {
  lg_p_t p;
  lg_chan_t *c;
  lg_value_t v;
  int round, i;
  P_OPEN(&p);
  c = lg_chan_new(&p, 100);
  CHECK(c != NULL);
  for (round = 0; round < 10; round++) {
    for (i = 0; i < 100; i++) {
      v = vint(round * 1000 + i);
      CHECK_RC(lg_chan_trysend(c, &v), 0);
    }
    CHECK_RC(lg_chan_trysend(c, &v), LG_EAGAIN);
    for (i = 0; i < 37; i++) {  /* leave the head mid-ring */
      CHECK_RC(lg_chan_tryrecv(c, &v), 0);
      CHECK_EQ(v.u.i, round * 1000 + i);
    }
    for (i = 0; i < 37; i++) {
      v = vint(round * 1000 + 100 + i);
      CHECK_RC(lg_chan_trysend(c, &v), 0);
    }
    for (i = 37; i < 137; i++) {
      CHECK_RC(lg_chan_tryrecv(c, &v), 0);
      CHECK_EQ(v.u.i, round * 1000 + i);
    }
  }
  lg_chan_release(c);
  P_CLOSE(&p);
}

/* A receive from a full buffer with a waiting sender takes the head and
 * moves the sender's value to the tail. */
TEST(chan_waiting_sender_and_full_buffer_keep_fifo) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g1, *g2;
  lg_value_t v, x;
  int i;
  P_OPEN(&p);
  c = lg_chan_new(&p, 2);
  g1 = lg_g_new(&p);
  g2 = lg_g_new(&p);
  CHECK(c != NULL && g1 != NULL && g2 != NULL);
  /* Put the head mid-ring first. */
  v = vint(0);
  CHECK_RC(lg_chan_trysend(c, &v), 0);
  CHECK_RC(lg_chan_tryrecv(c, &v), 0);
  for (i = 1; i <= 2; i++) {
    v = vint(i);
    CHECK_RC(lg_chan_trysend(c, &v), 0);
  }
  x = vint(3);
  CHECK_RC(lg_chan_send(c, g1, &x), LG_PARKED);
  x = vint(4);
  CHECK_RC(lg_chan_send(c, g2, &x), LG_PARKED);

  CHECK_RC(lg_chan_tryrecv(c, &v), 0);
  CHECK_EQ(v.u.i, 1);
  CHECK_EQ(g1->status, LG_GRUNNABLE);
  CHECK_EQ(g2->status, LG_GWAITING);
  CHECK_EQ(lg_chan_len(c), 2);
  CHECK_RC(lg_chan_tryrecv(c, &v), 0);
  CHECK_EQ(v.u.i, 2);
  CHECK_EQ(g2->status, LG_GRUNNABLE);
  for (i = 3; i <= 4; i++) {
    CHECK_RC(lg_chan_tryrecv(c, &v), 0);
    CHECK_EQ(v.u.i, i);
  }
  CHECK_RC(lg_chan_tryrecv(c, &v), LG_EAGAIN);
  /* Both were readied into runnext, the first pushed to the queue. */
  CHECK_PTR(lg_p_next(&p), g2);
  CHECK_PTR(lg_p_next(&p), g1);

  lg_g_free(&p, g1);
  lg_g_free(&p, g2);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(chan_close_wakes_every_receiver_with_ok_0) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g[3];
  lg_value_t v;
  int i;
  P_OPEN(&p);
  c = lg_chan_new(&p, 0);
  CHECK(c != NULL);
  for (i = 0; i < 3; i++) {
    g[i] = lg_g_new(&p);
    CHECK(g[i] != NULL);
    g[i]->val = vint(99);
    g[i]->ok = 99;
    CHECK_RC(lg_chan_recv(c, g[i], &v), LG_PARKED);
  }
  CHECK_RC(lg_chan_close(c), 0);
  CHECK(lg_chan_closed(c));
  for (i = 0; i < 3; i++) {
    CHECK_EQ(g[i]->status, LG_GRUNNABLE);
    CHECK_EQ(g[i]->ok, 0);
    CHECK_EQ(g[i]->val.type, LG_VNIL);
    CHECK_RC(g[i]->rc, 0);
    CHECK_PTR(g[i]->waiting, NULL);
  }
  for (i = 0; i < 3; i++) CHECK_PTR(lg_p_next(&p), g[i]);  /* in order */
  CHECK_PTR(lg_p_next(&p), NULL);
  for (i = 0; i < 3; i++) lg_g_free(&p, g[i]);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(chan_close_wakes_every_sender_with_eclosed_and_releases_values) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g[3];
  lg_value_t x;
  int i;
  P_OPEN(&p);
  c = lg_chan_new(&p, 0);
  CHECK(c != NULL);
  for (i = 0; i < 3; i++) {
    g[i] = lg_g_new(&p);
    CHECK(g[i] != NULL);
    x = vref((uint32_t)(10 + i));
    CHECK_RC(lg_chan_send(c, g[i], &x), LG_PARKED);
  }
  CHECK_EQ(nreleased, 0);
  CHECK_RC(lg_chan_close(c), 0);
  for (i = 0; i < 3; i++) {
    CHECK_EQ(g[i]->status, LG_GRUNNABLE);
    CHECK_RC(g[i]->rc, LG_ECLOSED);
    CHECK_EQ(g[i]->ok, -1);
    CHECK_EQ(released[10 + i], 1);
  }
  CHECK_EQ(nreleased, 3);
  for (i = 0; i < 3; i++) CHECK_PTR(lg_p_next(&p), g[i]);
  for (i = 0; i < 3; i++) lg_g_free(&p, g[i]);
  lg_chan_release(c);
  CHECK_EQ(nreleased, 3);
  P_CLOSE(&p);
}

TEST(chan_close_twice_is_eclosed) {
  lg_p_t p;
  lg_chan_t *c;
  P_OPEN(&p);
  c = lg_chan_new(&p, 1);
  CHECK(c != NULL);
  CHECK(!lg_chan_closed(c));
  CHECK_RC(lg_chan_close(c), 0);
  CHECK_RC(lg_chan_close(c), LG_ECLOSED);
  CHECK(lg_chan_closed(c));
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(chan_trysend_on_closed_is_eclosed_and_caller_keeps_value) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_value_t x = vref(5);
  P_OPEN(&p);
  c = lg_chan_new(&p, 4);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  CHECK_RC(lg_chan_close(c), 0);
  CHECK_RC(lg_chan_trysend(c, &x), LG_ECLOSED);
  CHECK_RC(lg_chan_send(c, g, &x), LG_ECLOSED);  /* does not park */
  CHECK_EQ(g->status, LG_GIDLE);
  CHECK_EQ(lg_chan_len(c), 0);
  CHECK_EQ(nreleased, 0);
  lg_g_free(&p, g);
  lg_chan_release(c);
  CHECK_EQ(nreleased, 0);
  P_CLOSE(&p);
}

TEST(chan_tryrecv_drains_buffer_after_close_then_eclosed) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_value_t v;
  int i;
  P_OPEN(&p);
  c = lg_chan_new(&p, 4);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  for (i = 1; i <= 3; i++) {
    v = vint(i);
    CHECK_RC(lg_chan_trysend(c, &v), 0);
  }
  CHECK_RC(lg_chan_close(c), 0);
  for (i = 1; i <= 3; i++) {
    CHECK_RC(lg_chan_tryrecv(c, &v), 0);
    CHECK_EQ(v.u.i, i);
  }
  v = vint(99);
  CHECK_RC(lg_chan_tryrecv(c, &v), LG_ECLOSED);
  CHECK_EQ(v.type, LG_VNIL);
  CHECK_RC(lg_chan_recv(c, g, &v), LG_ECLOSED);  /* does not park */
  CHECK_EQ(g->status, LG_GIDLE);
  lg_g_free(&p, g);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(chan_release_frees_buffered_refs_through_vfree) {
  lg_p_t p;
  lg_chan_t *c;
  lg_value_t v;
  uint32_t r;
  P_OPEN(&p);
  c = lg_chan_new(&p, 20);
  CHECK(c != NULL);
  /* Wrap the ring so release walks across its end. */
  for (r = 0; r < 6; r++) {
    v = vref(r);
    CHECK_RC(lg_chan_trysend(c, &v), 0);
  }
  for (r = 0; r < 6; r++) {
    CHECK_RC(lg_chan_tryrecv(c, &v), 0);
    CHECK_EQ(v.u.ref, r);
  }
  for (r = 100; r < 107; r++) {
    v = vref(r);
    CHECK_RC(lg_chan_trysend(c, &v), 0);
  }
  v = vint(1);  /* not a ref: vfree must not see it */
  CHECK_RC(lg_chan_trysend(c, &v), 0);
  lg_chan_retain(c);
  lg_chan_release(c);
  CHECK_EQ(nreleased, 0);  /* still referenced */
  CHECK_EQ(p.nchans, 1);
  lg_chan_release(c);
  CHECK_EQ(p.nchans, 0);
  CHECK_EQ(nreleased, 7);
  for (r = 0; r < 6; r++) CHECK_EQ(released[r], 0);
  for (r = 100; r < 107; r++) CHECK_EQ(released[r], 1);
  P_CLOSE(&p);
}

/* Leaks would show in LeakSanitizer's report at exit. */
TEST(chan_new_without_memory_returns_null) {
  lg_p_t p;
  lg_chan_t *c;
  P_OPEN(&p);
  lg_testing_failalloc(1);
  c = lg_chan_new(&p, 10);
  lg_testing_failalloc(0);
  CHECK_PTR(c, NULL);
  CHECK_EQ(p.nchans, 0);
  /* The next allocation works again. */
  c = lg_chan_new(&p, 10);
  CHECK(c != NULL);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(chan_buffer_growth_without_memory_keeps_value_and_order) {
  lg_p_t p;
  lg_chan_t *c;
  lg_value_t v;
  int i;
  P_OPEN(&p);
  c = lg_chan_new(&p, 100);
  CHECK(c != NULL);
  for (i = 0; i < 8; i++) {
    v = vref((uint32_t)i);
    CHECK_RC(lg_chan_trysend(c, &v), 0);
  }
  lg_testing_failalloc(1);  /* the ring's growth from 8 to 16 */
  v = vref(8);
  CHECK_RC(lg_chan_trysend(c, &v), LG_ENOMEM);
  lg_testing_failalloc(0);
  CHECK_EQ(lg_chan_len(c), 8);
  CHECK_EQ(nreleased, 0);  /* the caller still owns ref 8 */
  CHECK_RC(lg_chan_trysend(c, &v), 0);
  for (i = 0; i <= 8; i++) {
    CHECK_RC(lg_chan_tryrecv(c, &v), 0);
    CHECK_EQ(v.u.ref, i);
  }
  lg_chan_release(c);
  CHECK_EQ(nreleased, 0);
  P_CLOSE(&p);
}

TEST(chan_send_without_memory_for_a_sudog_leaves_g_and_value_alone) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_value_t x = vref(1), v;
  int rc;
  P_OPEN(&p);
  c = lg_chan_new(&p, 0);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  lg_testing_failalloc(1);  /* a fresh P has no cached sudog */
  rc = lg_chan_send(c, g, &x);
  lg_testing_failalloc(0);
  CHECK_RC(rc, LG_ENOMEM);
  CHECK_EQ(g->status, LG_GIDLE);
  CHECK_PTR(g->waiting, NULL);
  CHECK_EQ(nreleased, 0);  /* the caller still owns ref 1 */
  CHECK_RC(lg_chan_tryrecv(c, &v), LG_EAGAIN);
  lg_g_free(&p, g);
  lg_chan_release(c);
  P_CLOSE(&p);
}

/* The last release only unlinks the waiters; a sender's value is
 * released once, when its goroutine is taken off its waits. */
TEST(chan_release_with_a_parked_sender_releases_its_value_on_unwait) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_value_t x = vref(4);
  P_OPEN(&p);
  c = lg_chan_new(&p, 0);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  CHECK_RC(lg_chan_send(c, g, &x), LG_PARKED);
  lg_chan_release(c);
  CHECK_EQ(p.nchans, 0);
  CHECK_EQ(nreleased, 0);
  lg_g_unwait(&p, g);  /* ASan: must not touch the freed channel */
  CHECK_EQ(released[4], 1);
  CHECK_EQ(nreleased, 1);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}
