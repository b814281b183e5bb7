/* select: choice among ready cases, fairness, parking on every case, and
 * ownership of the send values (lg_select owns them all). */
#include "test.h"

static void setcase(lg_scase_t *cs, lg_chan_t *c, int dir, lg_value_t v) {
  cs->c = c;
  cs->dir = dir;
  cs->val = v;
}

/* Number of sudogs `g` sits on. */
static int nwaiting(const lg_g_t *g) {
  const lg_sudog_t *s;
  int n = 0;
  for (s = g->waiting; s != NULL; s = s->waitlink) n++;
  return n;
}

TEST(select_chooses_the_ready_case) {
  lg_p_t p;
  lg_chan_t *idle, *full, *room;
  lg_scase_t cases[3];
  lg_value_t v;
  int i, chosen, ok;
  P_OPEN(&p);
  idle = lg_chan_new(&p, 0);
  full = lg_chan_new(&p, 1);
  room = lg_chan_new(&p, 1);
  CHECK(idle != NULL && full != NULL && room != NULL);
  v = vint(1);
  CHECK_RC(lg_chan_trysend(full, &v), 0);
  /* Only the receive from `idle` and the send to `full` would block. */
  for (i = 0; i < 100; i++) {
    setcase(&cases[0], idle, LG_SELRECV, vnil());
    setcase(&cases[1], full, LG_SELSEND, vref(1));
    setcase(&cases[2], idle, LG_SELSEND, vref(2));
    CHECK_RC(lg_select(&p, p.curg, cases, 3, 0, &chosen, &v, &ok),
             LG_EAGAIN);
    CHECK_EQ(chosen, -1);
  }
  CHECK_EQ(released[1], 100);
  CHECK_EQ(released[2], 100);
  /* Now one receive is ready. */
  for (i = 0; i < 100; i++) {
    setcase(&cases[0], idle, LG_SELRECV, vnil());
    setcase(&cases[1], full, LG_SELRECV, vnil());
    setcase(&cases[2], idle, LG_SELSEND, vref(3));
    CHECK_RC(lg_select(&p, p.curg, cases, 3, 1, &chosen, &v, &ok), 0);
    CHECK_EQ(chosen, 1);
    CHECK_EQ(ok, 1);
    CHECK_EQ(v.u.i, i + 1);
    v = vint(i + 2);
    CHECK_RC(lg_chan_trysend(full, &v), 0);
  }
  CHECK_EQ(released[3], 100);
  /* And one send. */
  for (i = 0; i < 100; i++) {
    setcase(&cases[0], idle, LG_SELRECV, vnil());
    setcase(&cases[1], room, LG_SELSEND, vint(i));
    setcase(&cases[2], full, LG_SELSEND, vint(-1));
    CHECK_RC(lg_select(&p, p.curg, cases, 3, 1, &chosen, &v, &ok), 0);
    CHECK_EQ(chosen, 1);
    CHECK_RC(lg_chan_tryrecv(room, &v), 0);
    CHECK_EQ(v.u.i, i);
  }
  lg_chan_release(idle);
  lg_chan_release(full);
  lg_chan_release(room);
  P_CLOSE(&p);
}

TEST(select_picks_each_of_two_ready_cases_about_half_the_time) {
  lg_p_t p;
  lg_chan_t *c[2];
  lg_scase_t cases[2];
  lg_value_t v;
  int i, chosen, ok, wins[2] = {0, 0};
  P_OPEN(&p);
  for (i = 0; i < 2; i++) {
    c[i] = lg_chan_new(&p, 1);
    CHECK(c[i] != NULL);
    v = vint(i);
    CHECK_RC(lg_chan_trysend(c[i], &v), 0);
  }
  for (i = 0; i < 10000; i++) {
    setcase(&cases[0], c[0], LG_SELRECV, vnil());
    setcase(&cases[1], c[1], LG_SELRECV, vnil());
    CHECK_RC(lg_select(&p, p.curg, cases, 2, 0, &chosen, &v, &ok), 0);
    CHECK(chosen == 0 || chosen == 1);
    CHECK_EQ(v.u.i, chosen);
    wins[chosen]++;
    CHECK_RC(lg_chan_trysend(c[chosen], &v), 0);  /* ready again */
  }
  if (wins[0] < 4000 || wins[0] > 6000)
    FAIL("case 0 won %d of 10000 (case 1: %d), want 4000..6000", wins[0],
         wins[1]);
  lg_chan_release(c[0]);
  lg_chan_release(c[1]);
  P_CLOSE(&p);
}

TEST(select_ignores_nil_channel_cases) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_scase_t cases[4];
  lg_value_t v;
  int i, chosen, ok;
  P_OPEN(&p);
  c = lg_chan_new(&p, 1);
  g = lg_g_new(&p);
  CHECK(c != NULL && g != NULL);
  for (i = 0; i < 100; i++) {
    setcase(&cases[0], NULL, LG_SELRECV, vnil());
    setcase(&cases[1], NULL, LG_SELSEND, vref(1));
    setcase(&cases[2], c, LG_SELSEND, vint(i));
    setcase(&cases[3], NULL, LG_SELSEND, vint(-1));
    CHECK_RC(lg_select(&p, g, cases, 4, 1, &chosen, &v, &ok), 0);
    CHECK_EQ(chosen, 2);
    CHECK_RC(lg_chan_tryrecv(c, &v), 0);
    CHECK_EQ(v.u.i, i);
  }
  CHECK_EQ(released[1], 100);  /* a send to nil never happens */
  /* Blocking, it waits on the real channel only. */
  setcase(&cases[0], NULL, LG_SELRECV, vnil());
  setcase(&cases[1], NULL, LG_SELSEND, vref(2));
  setcase(&cases[2], c, LG_SELRECV, vnil());
  CHECK_RC(lg_select(&p, g, cases, 3, 1, &chosen, &v, &ok), LG_PARKED);
  CHECK_EQ(g->reason, LG_WSELECT);
  CHECK_EQ(nwaiting(g), 1);
  CHECK_EQ(released[2], 1);
  v = vint(5);
  CHECK_RC(lg_chan_trysend(c, &v), 0);
  CHECK_EQ(g->status, LG_GRUNNABLE);
  CHECK_EQ(g->sel, 2);
  CHECK_EQ(g->val.u.i, 5);
  CHECK_PTR(lg_p_next(&p), g);
  lg_g_free(&p, g);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(select_nonblocking_with_nothing_ready_is_eagain_and_releases_sends) {
  lg_p_t p;
  lg_chan_t *c1, *c2;
  lg_g_t *g;
  lg_scase_t cases[3];
  lg_value_t v;
  int chosen = 99, ok;
  P_OPEN(&p);
  c1 = lg_chan_new(&p, 0);
  c2 = lg_chan_new(&p, 0);
  g = lg_g_new(&p);
  CHECK(c1 != NULL && c2 != NULL && g != NULL);
  setcase(&cases[0], c1, LG_SELSEND, vref(1));
  setcase(&cases[1], c2, LG_SELRECV, vnil());
  setcase(&cases[2], c2, LG_SELSEND, vref(2));
  CHECK_RC(lg_select(&p, g, cases, 3, 0, &chosen, &v, &ok), LG_EAGAIN);
  CHECK_EQ(chosen, -1);
  CHECK_EQ(released[1], 1);
  CHECK_EQ(released[2], 1);
  CHECK_EQ(nreleased, 2);
  CHECK_EQ(g->status, LG_GIDLE);  /* not parked, */
  CHECK_PTR(g->waiting, NULL);    /* not queued */
  CHECK_RC(lg_chan_trysend(c2, &v), LG_EAGAIN);
  lg_g_free(&p, g);
  lg_chan_release(c1);
  lg_chan_release(c2);
  P_CLOSE(&p);
}

TEST(select_blocking_parks_on_every_case_and_first_wake_dequeues_all) {
  lg_p_t p;
  lg_chan_t *c[3];
  lg_g_t *g;
  lg_scase_t cases[3];
  lg_value_t v;
  int i, chosen, ok;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  for (i = 0; i < 3; i++) {
    c[i] = lg_chan_new(&p, 0);
    CHECK(c[i] != NULL);
  }
  setcase(&cases[0], c[0], LG_SELRECV, vnil());
  setcase(&cases[1], c[1], LG_SELRECV, vnil());
  setcase(&cases[2], c[2], LG_SELSEND, vref(1));
  CHECK_RC(lg_select(&p, g, cases, 3, 1, &chosen, &v, &ok), LG_PARKED);
  CHECK_EQ(g->status, LG_GWAITING);
  CHECK_EQ(g->reason, LG_WSELECT);
  CHECK_EQ(nwaiting(g), 3);
  CHECK_EQ(nreleased, 0);  /* the send case's sudog holds ref 1 */

  v = vint(42);
  CHECK_RC(lg_chan_trysend(c[1], &v), 0);
  CHECK_EQ(g->status, LG_GRUNNABLE);
  CHECK_EQ(g->sel, 1);
  CHECK_EQ(g->ok, 1);
  CHECK_EQ(g->val.type, LG_VINT);
  CHECK_EQ(g->val.u.i, 42);
  CHECK_PTR(g->waiting, NULL);
  CHECK_PTR(p.runnext, g);
  CHECK_EQ(released[1], 1);  /* the send that did not happen */
  /* Nobody waits on the other channels any more. */
  v = vint(43);
  CHECK_RC(lg_chan_trysend(c[0], &v), LG_EAGAIN);
  CHECK_RC(lg_chan_trysend(c[1], &v), LG_EAGAIN);
  CHECK_RC(lg_chan_tryrecv(c[2], &v), LG_EAGAIN);
  CHECK_PTR(lg_p_next(&p), g);
  CHECK_PTR(lg_p_next(&p), NULL);
  lg_g_free(&p, g);
  for (i = 0; i < 3; i++) lg_chan_release(c[i]);
  CHECK_EQ(nreleased, 1);
  P_CLOSE(&p);
}

TEST(select_blocking_send_case_is_taken_by_a_receiver) {
  lg_p_t p;
  lg_chan_t *c[2];
  lg_g_t *g;
  lg_scase_t cases[2];
  lg_value_t v;
  int i, chosen, ok;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  for (i = 0; i < 2; i++) {
    c[i] = lg_chan_new(&p, 0);
    CHECK(c[i] != NULL);
  }
  setcase(&cases[0], c[0], LG_SELSEND, vref(1));
  setcase(&cases[1], c[1], LG_SELSEND, vref(2));
  CHECK_RC(lg_select(&p, g, cases, 2, 1, &chosen, &v, &ok), LG_PARKED);
  CHECK_RC(lg_chan_tryrecv(c[1], &v), 0);
  CHECK_EQ(v.type, LG_VREF);
  CHECK_EQ(v.u.ref, 2);
  CHECK_EQ(g->sel, 1);
  CHECK_EQ(g->ok, -1);
  CHECK_RC(g->rc, 0);
  CHECK_EQ(released[1], 1);
  CHECK_EQ(released[2], 0);  /* received, not released */
  CHECK_RC(lg_chan_tryrecv(c[0], &v), LG_EAGAIN);
  CHECK_PTR(lg_p_next(&p), g);
  lg_g_free(&p, g);
  for (i = 0; i < 2; i++) lg_chan_release(c[i]);
  P_CLOSE(&p);
}

TEST(select_send_case_on_closed_channel_is_eclosed) {
  lg_p_t p;
  lg_chan_t *idle, *closed;
  lg_scase_t cases[2];
  lg_value_t v;
  int chosen = -1, ok;
  P_OPEN(&p);
  idle = lg_chan_new(&p, 0);
  closed = lg_chan_new(&p, 0);
  CHECK(idle != NULL && closed != NULL);
  CHECK_RC(lg_chan_close(closed), 0);
  setcase(&cases[0], idle, LG_SELRECV, vnil());
  setcase(&cases[1], closed, LG_SELSEND, vref(1));
  CHECK_RC(lg_select(&p, p.curg, cases, 2, 1, &chosen, &v, &ok),
           LG_ECLOSED);
  CHECK_EQ(chosen, 1);
  CHECK_EQ(released[1], 1);  /* lg_select owned it; nobody took it */
  lg_chan_release(idle);
  lg_chan_release(closed);
  P_CLOSE(&p);
}

TEST(select_recv_case_on_closed_channel_completes_with_ok_0) {
  lg_p_t p;
  lg_chan_t *idle, *closed;
  lg_scase_t cases[2];
  lg_value_t v = vint(9);
  int chosen = -1, ok = 9;
  P_OPEN(&p);
  idle = lg_chan_new(&p, 0);
  closed = lg_chan_new(&p, 0);
  CHECK(idle != NULL && closed != NULL);
  CHECK_RC(lg_chan_close(closed), 0);
  setcase(&cases[0], idle, LG_SELRECV, vnil());
  setcase(&cases[1], closed, LG_SELRECV, vnil());
  CHECK_RC(lg_select(&p, p.curg, cases, 2, 1, &chosen, &v, &ok), 0);
  CHECK_EQ(chosen, 1);
  CHECK_EQ(ok, 0);
  CHECK_EQ(v.type, LG_VNIL);
  lg_chan_release(idle);
  lg_chan_release(closed);
  P_CLOSE(&p);
}

TEST(select_parked_send_case_woken_by_close_gets_eclosed) {
  lg_p_t p;
  lg_chan_t *c[2];
  lg_g_t *g;
  lg_scase_t cases[2];
  lg_value_t v;
  int i, chosen, ok;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  for (i = 0; i < 2; i++) {
    c[i] = lg_chan_new(&p, 0);
    CHECK(c[i] != NULL);
  }
  setcase(&cases[0], c[0], LG_SELRECV, vnil());
  setcase(&cases[1], c[1], LG_SELSEND, vref(1));
  CHECK_RC(lg_select(&p, g, cases, 2, 1, &chosen, &v, &ok), LG_PARKED);
  CHECK_RC(lg_chan_close(c[1]), 0);
  CHECK_EQ(g->status, LG_GRUNNABLE);
  CHECK_EQ(g->sel, 1);
  CHECK_RC(g->rc, LG_ECLOSED);
  CHECK_EQ(released[1], 1);
  CHECK_PTR(g->waiting, NULL);
  v = vint(1);
  CHECK_RC(lg_chan_trysend(c[0], &v), LG_EAGAIN);
  CHECK_PTR(lg_p_next(&p), g);
  lg_g_free(&p, g);
  for (i = 0; i < 2; i++) lg_chan_release(c[i]);
  P_CLOSE(&p);
}

TEST(select_with_no_usable_case_parks_forever) {
  lg_p_t p;
  lg_g_t *g;
  lg_scase_t cases[2];
  lg_value_t v;
  int chosen, ok;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  setcase(&cases[0], NULL, LG_SELRECV, vnil());
  setcase(&cases[1], NULL, LG_SELSEND, vref(1));
  CHECK_RC(lg_select(&p, g, cases, 2, 1, &chosen, &v, &ok), LG_PARKED);
  CHECK_EQ(g->status, LG_GWAITING);
  CHECK_EQ(g->reason, LG_WFOREVER);
  CHECK_PTR(g->waiting, NULL);
  CHECK_EQ(released[1], 1);
  /* No cases at all: the same. */
  g->status = LG_GRUNNING;
  CHECK_RC(lg_select(&p, g, cases, 0, 1, &chosen, &v, &ok), LG_PARKED);
  CHECK_EQ(g->reason, LG_WFOREVER);
  CHECK_EQ(lg_p_runnable(&p), 0);
  lg_g_unwait(&p, g);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}

/* "lg_select owns every send value": also when it fails for memory while
 * queueing the goroutine on its cases. A fresh P has no cached sudog, so
 * the second allocation is the second case's sudog. */
TEST(select_without_memory_for_a_sudog_releases_every_send_value) {
  lg_p_t p;
  lg_chan_t *c[2];
  lg_g_t *g;
  lg_scase_t cases[2];
  lg_value_t v;
  int i, chosen, ok, rc;
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  for (i = 0; i < 2; i++) {
    c[i] = lg_chan_new(&p, 0);
    CHECK(c[i] != NULL);
  }
  setcase(&cases[0], c[0], LG_SELSEND, vref(1));
  setcase(&cases[1], c[1], LG_SELSEND, vref(2));
  lg_testing_failalloc(2);
  rc = lg_select(&p, g, cases, 2, 1, &chosen, &v, &ok);
  lg_testing_failalloc(0);
  CHECK_RC(rc, LG_ENOMEM);
  CHECK_PTR(g->waiting, NULL);
  CHECK_RC(lg_chan_tryrecv(c[0], &v), LG_EAGAIN);
  CHECK_RC(lg_chan_tryrecv(c[1], &v), LG_EAGAIN);
  CHECK_EQ(released[1] + released[2], 2);  /* which one leaks is random */
  CHECK_EQ(released[1], 1);
  CHECK_EQ(released[2], 1);
  lg_g_free(&p, g);
  for (i = 0; i < 2; i++) lg_chan_release(c[i]);
  P_CLOSE(&p);
}

/* More than 64 cases need an allocation for the poll order. */
TEST(select_without_memory_for_its_order_releases_every_send_value) {
  lg_p_t p;
  lg_chan_t *c;
  lg_g_t *g;
  lg_scase_t cases[65];
  lg_value_t v;
  int i, chosen, ok, rc;
  P_OPEN(&p);
  g = lg_g_new(&p);
  c = lg_chan_new(&p, 0);
  CHECK(c != NULL && g != NULL);
  for (i = 0; i < 65; i++) setcase(&cases[i], NULL, LG_SELRECV, vnil());
  setcase(&cases[0], c, LG_SELSEND, vref(1));
  setcase(&cases[64], c, LG_SELSEND, vref(2));
  lg_testing_failalloc(1);
  rc = lg_select(&p, g, cases, 65, 1, &chosen, &v, &ok);
  lg_testing_failalloc(0);
  CHECK_RC(rc, LG_ENOMEM);
  CHECK_PTR(g->waiting, NULL);
  CHECK_EQ(released[1], 1);
  CHECK_EQ(released[2], 1);
  lg_g_free(&p, g);
  lg_chan_release(c);
  P_CLOSE(&p);
}

TEST(select_over_64_cases_chooses_the_ready_one) {
  lg_p_t p;
  lg_chan_t *idle, *ready;
  lg_scase_t cases[100];
  lg_value_t v;
  int i, chosen, ok;
  P_OPEN(&p);
  idle = lg_chan_new(&p, 0);
  ready = lg_chan_new(&p, 1);
  CHECK(idle != NULL && ready != NULL);
  v = vint(7);
  CHECK_RC(lg_chan_trysend(ready, &v), 0);
  for (i = 0; i < 100; i++) setcase(&cases[i], idle, LG_SELRECV, vnil());
  setcase(&cases[77], ready, LG_SELRECV, vnil());
  CHECK_RC(lg_select(&p, p.curg, cases, 100, 0, &chosen, &v, &ok), 0);
  CHECK_EQ(chosen, 77);
  CHECK_EQ(v.u.i, 7);
  CHECK_EQ(ok, 1);
  lg_chan_release(idle);
  lg_chan_release(ready);
  P_CLOSE(&p);
}
