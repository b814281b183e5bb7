/* Mutex, RWMutex, WaitGroup, semaphore and condition queues: FIFO hand-off
 * and misuse. A woken goroutine goes to the back of the run queue. */
#include "test.h"

#define SPAWN(p, g, n)                                                \
  do {                                                                \
    int k_;                                                           \
    for (k_ = 0; k_ < (n); k_++) {                                    \
      (g)[k_] = lg_g_new(p);                                          \
      CHECK((g)[k_] != NULL);                                         \
    }                                                                 \
  } while (0)

#define FREE(p, g, n)                                                 \
  do {                                                                \
    int k_;                                                           \
    for (k_ = 0; k_ < (n); k_++) lg_g_free((p), (g)[k_]);             \
  } while (0)

/* `g` is parked on a sync object. */
#define CHECK_PARKED(g)                                               \
  do {                                                                \
    CHECK_EQ((g)->status, LG_GWAITING);                               \
    CHECK_EQ((g)->reason, LG_WSYNC);                                  \
  } while (0)

/* `g` was woken and is runnable, off every queue. */
#define CHECK_WOKEN(g)                                                \
  do {                                                                \
    CHECK_EQ((g)->status, LG_GRUNNABLE);                              \
    CHECK_RC((g)->rc, 0);                                             \
    CHECK_PTR((g)->waiting, NULL);                                    \
  } while (0)

TEST(sync_mutex_unlock_hands_off_to_waiters_in_fifo_order) {
  lg_p_t p;
  lg_g_t *g[4];
  lg_mutex_t m = {0};
  int i;
  P_OPEN(&p);
  SPAWN(&p, g, 4);
  CHECK_RC(lg_mutex_lock(&m, g[0]), 0);
  for (i = 1; i < 4; i++) {
    CHECK_RC(lg_mutex_lock(&m, g[i]), LG_PARKED);
    CHECK_PARKED(g[i]);
  }
  CHECK_RC(lg_mutex_trylock(&m), LG_EAGAIN);
  for (i = 1; i < 4; i++) {
    CHECK_RC(lg_mutex_unlock(&m), 0);
    CHECK_WOKEN(g[i]);
    CHECK(m.locked);  /* handed on, never free for a newcomer */
    CHECK_RC(lg_mutex_trylock(&m), LG_EAGAIN);
    if (i < 3) CHECK_PARKED(g[i + 1]);
  }
  CHECK_RC(lg_mutex_unlock(&m), 0);
  CHECK(!m.locked);
  for (i = 1; i < 4; i++) CHECK_PTR(lg_p_next(&p), g[i]);
  FREE(&p, g, 4);
  P_CLOSE(&p);
}

TEST(sync_mutex_unlock_of_unlocked_is_einval) {
  lg_p_t p;
  lg_mutex_t m = {0};
  P_OPEN(&p);
  CHECK_RC(lg_mutex_unlock(&m), LG_EINVAL);
  CHECK_RC(lg_mutex_trylock(&m), 0);
  CHECK_RC(lg_mutex_unlock(&m), 0);
  CHECK_RC(lg_mutex_unlock(&m), LG_EINVAL);
  CHECK(!m.locked);
  P_CLOSE(&p);
}

TEST(sync_rwmutex_readers_share) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_rwmutex_t m;
  int i;
  P_OPEN(&p);
  lg_rwmutex_init(&m);
  SPAWN(&p, g, 3);
  for (i = 0; i < 3; i++) CHECK_RC(lg_rwmutex_rlock(&m, g[i]), 0);
  CHECK_EQ(m.readers, 3);
  for (i = 0; i < 3; i++) CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK_EQ(m.readers, 0);
  CHECK_RC(lg_rwmutex_runlock(&m), LG_EINVAL);
  CHECK_RC(lg_rwmutex_unlock(&m), LG_EINVAL);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}

TEST(sync_rwmutex_writer_excludes_readers_and_writers) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_rwmutex_t m;
  P_OPEN(&p);
  lg_rwmutex_init(&m);
  SPAWN(&p, g, 3);
  CHECK_RC(lg_rwmutex_lock(&m, g[0]), 0);
  CHECK_RC(lg_rwmutex_rlock(&m, g[1]), LG_PARKED);
  CHECK_PARKED(g[1]);
  CHECK_RC(lg_rwmutex_lock(&m, g[2]), LG_PARKED);
  CHECK_PARKED(g[2]);
  CHECK_EQ(m.readers, 0);
  CHECK_RC(lg_rwmutex_runlock(&m), LG_EINVAL);  /* held for writing */
  /* Readers hold it: a writer waits for the last of them. */
  CHECK_RC(lg_rwmutex_unlock(&m), 0);
  CHECK_WOKEN(g[1]);
  CHECK_PARKED(g[2]);
  CHECK_EQ(m.readers, 1);
  CHECK(!m.writer);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK_WOKEN(g[2]);
  CHECK(m.writer);
  CHECK_RC(lg_rwmutex_unlock(&m), 0);
  CHECK(!m.writer && m.readers == 0);
  CHECK_PTR(lg_p_next(&p), g[1]);
  CHECK_PTR(lg_p_next(&p), g[2]);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}

TEST(sync_rwmutex_waiting_writer_blocks_new_readers) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_rwmutex_t m;
  P_OPEN(&p);
  lg_rwmutex_init(&m);
  SPAWN(&p, g, 3);
  CHECK_RC(lg_rwmutex_rlock(&m, g[0]), 0);
  CHECK_RC(lg_rwmutex_lock(&m, g[1]), LG_PARKED);
  CHECK_RC(lg_rwmutex_rlock(&m, g[2]), LG_PARKED);  /* not let in */
  CHECK_PARKED(g[2]);
  CHECK_EQ(m.readers, 1);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK_WOKEN(g[1]);
  CHECK(m.writer);
  CHECK_PARKED(g[2]);
  CHECK_RC(lg_rwmutex_unlock(&m), 0);
  CHECK_WOKEN(g[2]);
  CHECK_EQ(m.readers, 1);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK_PTR(lg_p_next(&p), g[1]);
  CHECK_PTR(lg_p_next(&p), g[2]);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}

TEST(sync_rwmutex_unlock_grants_queued_readers_up_to_the_next_writer) {
  lg_p_t p;
  lg_g_t *g[6];
  lg_rwmutex_t m;
  int i;
  P_OPEN(&p);
  lg_rwmutex_init(&m);
  SPAWN(&p, g, 6);
  /* g0 writes; queued: g1 r, g2 r, g3 w, g4 r, g5 r. */
  CHECK_RC(lg_rwmutex_lock(&m, g[0]), 0);
  CHECK_RC(lg_rwmutex_rlock(&m, g[1]), LG_PARKED);
  CHECK_RC(lg_rwmutex_rlock(&m, g[2]), LG_PARKED);
  CHECK_RC(lg_rwmutex_lock(&m, g[3]), LG_PARKED);
  CHECK_RC(lg_rwmutex_rlock(&m, g[4]), LG_PARKED);
  CHECK_RC(lg_rwmutex_rlock(&m, g[5]), LG_PARKED);
  CHECK_RC(lg_rwmutex_unlock(&m), 0);
  CHECK_WOKEN(g[1]);
  CHECK_WOKEN(g[2]);
  for (i = 3; i < 6; i++) CHECK_PARKED(g[i]);
  CHECK_EQ(m.readers, 2);
  CHECK(!m.writer);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK_PARKED(g[3]);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK_WOKEN(g[3]);
  CHECK(m.writer);
  CHECK_PARKED(g[4]);
  CHECK_RC(lg_rwmutex_unlock(&m), 0);
  CHECK_WOKEN(g[4]);
  CHECK_WOKEN(g[5]);
  CHECK_EQ(m.readers, 2);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK(!m.writer && m.readers == 0 && m.q.first == NULL);
  for (i = 1; i < 6; i++) CHECK_PTR(lg_p_next(&p), g[i]);
  FREE(&p, g, 6);
  P_CLOSE(&p);
}

TEST(sync_wg_add_going_negative_is_einval_and_changes_nothing) {
  lg_p_t p;
  lg_g_t *g;
  lg_wg_t wg = {0};
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  CHECK_RC(lg_wg_add(&wg, -1), LG_EINVAL);
  CHECK_EQ(wg.count, 0);
  CHECK_RC(lg_wg_add(&wg, 2), 0);
  CHECK_RC(lg_wg_wait(&wg, g), LG_PARKED);
  CHECK_RC(lg_wg_add(&wg, -3), LG_EINVAL);
  CHECK_EQ(wg.count, 2);
  CHECK_PARKED(g);  /* and nobody was woken */
  CHECK_RC(lg_wg_add(&wg, -2), 0);
  CHECK_WOKEN(g);
  CHECK_PTR(lg_p_next(&p), g);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}

TEST(sync_wg_wait_at_zero_returns_at_once) {
  lg_p_t p;
  lg_g_t *g;
  lg_wg_t wg = {0};
  P_OPEN(&p);
  g = lg_g_new(&p);
  CHECK(g != NULL);
  CHECK_RC(lg_wg_wait(&wg, g), 0);
  CHECK_EQ(g->status, LG_GIDLE);
  CHECK_RC(lg_wg_add(&wg, 1), 0);
  CHECK_RC(lg_wg_add(&wg, -1), 0);
  CHECK_RC(lg_wg_wait(&wg, g), 0);
  CHECK_PTR(g->waiting, NULL);
  lg_g_free(&p, g);
  P_CLOSE(&p);
}

TEST(sync_wg_reaching_zero_wakes_every_waiter) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_wg_t wg = {0};
  int i;
  P_OPEN(&p);
  SPAWN(&p, g, 3);
  CHECK_RC(lg_wg_add(&wg, 2), 0);
  for (i = 0; i < 3; i++) CHECK_RC(lg_wg_wait(&wg, g[i]), LG_PARKED);
  CHECK_RC(lg_wg_add(&wg, -1), 0);
  for (i = 0; i < 3; i++) CHECK_PARKED(g[i]);
  CHECK_RC(lg_wg_add(&wg, -1), 0);
  for (i = 0; i < 3; i++) CHECK_WOKEN(g[i]);
  CHECK_EQ(wg.count, 0);
  for (i = 0; i < 3; i++) CHECK_PTR(lg_p_next(&p), g[i]);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}

TEST(sync_sema_wakes_weighted_waiters_in_fifo_order) {
  lg_p_t p;
  lg_g_t *g[4];
  lg_sema_t s;
  P_OPEN(&p);
  SPAWN(&p, g, 4);
  lg_sema_init(&s, 10);
  CHECK_RC(lg_sema_acquire(&s, g[0], 10), 0);
  CHECK_RC(lg_sema_acquire(&s, g[1], 3), LG_PARKED);
  CHECK_RC(lg_sema_acquire(&s, g[2], 6), LG_PARKED);
  CHECK_RC(lg_sema_acquire(&s, g[3], 2), LG_PARKED);
  CHECK_EQ(s.avail, 0);
  CHECK_RC(lg_sema_release(&s, 4), 0);
  CHECK_WOKEN(g[1]);  /* 3 of 4 */
  CHECK_PARKED(g[2]);
  CHECK_PARKED(g[3]);
  CHECK_EQ(s.avail, 1);
  CHECK_RC(lg_sema_release(&s, 6), 0);
  CHECK_WOKEN(g[2]);  /* 6 of 7 */
  CHECK_PARKED(g[3]);
  CHECK_EQ(s.avail, 1);
  CHECK_RC(lg_sema_release(&s, 0), 0);
  CHECK_PARKED(g[3]);
  CHECK_RC(lg_sema_release(&s, 1), 0);
  CHECK_WOKEN(g[3]);
  CHECK_EQ(s.avail, 0);
  CHECK_RC(lg_sema_release(&s, 10), 0);
  CHECK_EQ(s.avail, 10);
  CHECK_PTR(lg_p_next(&p), g[1]);
  CHECK_PTR(lg_p_next(&p), g[2]);
  CHECK_PTR(lg_p_next(&p), g[3]);
  FREE(&p, g, 4);
  P_CLOSE(&p);
}

TEST(sync_sema_big_request_at_the_head_is_not_overtaken) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_sema_t s;
  P_OPEN(&p);
  SPAWN(&p, g, 3);
  lg_sema_init(&s, 10);
  CHECK_RC(lg_sema_acquire(&s, g[0], 8), 0);
  CHECK_RC(lg_sema_acquire(&s, g[1], 5), LG_PARKED);
  /* 2 are free, yet a small request queues behind the big one. */
  CHECK_RC(lg_sema_tryacquire(&s, 1), LG_EAGAIN);
  CHECK_RC(lg_sema_acquire(&s, g[2], 1), LG_PARKED);
  CHECK_PARKED(g[2]);
  CHECK_EQ(s.avail, 2);
  CHECK_RC(lg_sema_release(&s, 2), 0);
  CHECK_PARKED(g[1]);  /* 4 free: still not enough for 5, */
  CHECK_PARKED(g[2]);  /* so the 1 behind it waits too */
  CHECK_RC(lg_sema_release(&s, 6), 0);
  CHECK_WOKEN(g[1]);
  CHECK_WOKEN(g[2]);
  CHECK_EQ(s.avail, 4);
  CHECK_RC(lg_sema_release(&s, 6), 0);
  CHECK_EQ(s.avail, 10);
  CHECK_PTR(lg_p_next(&p), g[1]);
  CHECK_PTR(lg_p_next(&p), g[2]);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}

TEST(sync_sema_waiter_giving_up_lets_smaller_requests_behind_it_in) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_sema_t s;
  P_OPEN(&p);
  SPAWN(&p, g, 3);
  lg_sema_init(&s, 10);
  CHECK_RC(lg_sema_acquire(&s, g[0], 8), 0);
  CHECK_RC(lg_sema_acquire(&s, g[1], 5), LG_PARKED);
  CHECK_RC(lg_sema_acquire(&s, g[2], 1), LG_PARKED);
  lg_g_unwait(&p, g[1]);  /* the big request is abandoned */
  CHECK_WOKEN(g[2]);      /* 2 were free: the 1 fits now */
  CHECK_EQ(s.avail, 1);
  CHECK_PTR(lg_p_next(&p), g[2]);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}

TEST(sync_rwmutex_writer_giving_up_lets_readers_behind_it_share) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_rwmutex_t m;
  P_OPEN(&p);
  SPAWN(&p, g, 3);
  lg_rwmutex_init(&m);
  CHECK_RC(lg_rwmutex_rlock(&m, g[0]), 0);
  CHECK_RC(lg_rwmutex_lock(&m, g[1]), LG_PARKED);
  CHECK_RC(lg_rwmutex_rlock(&m, g[2]), LG_PARKED);  /* behind the writer */
  lg_g_unwait(&p, g[1]);
  CHECK_WOKEN(g[2]);
  CHECK_EQ(m.readers, 2);
  CHECK_PTR(lg_p_next(&p), g[2]);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  CHECK_RC(lg_rwmutex_runlock(&m), 0);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}

TEST(sync_sema_release_of_more_than_held_is_einval) {
  lg_p_t p;
  lg_sema_t s;
  P_OPEN(&p);
  lg_sema_init(&s, 10);
  CHECK_RC(lg_sema_release(&s, 1), LG_EINVAL);
  CHECK_EQ(s.avail, 10);
  CHECK_RC(lg_sema_tryacquire(&s, 3), 0);
  CHECK_RC(lg_sema_release(&s, 4), LG_EINVAL);
  CHECK_EQ(s.avail, 7);
  CHECK_RC(lg_sema_release(&s, 3), 0);
  CHECK_EQ(s.avail, 10);
  P_CLOSE(&p);
}

TEST(sync_cond_signal_wakes_one_waiter_in_fifo_order) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_cond_t c = {0};
  int i;
  P_OPEN(&p);
  SPAWN(&p, g, 3);
  CHECK_EQ(lg_cond_signal(&c), 0);  /* nobody waits */
  for (i = 0; i < 3; i++) CHECK_RC(lg_cond_wait(&c, g[i]), LG_PARKED);
  CHECK_EQ(lg_cond_signal(&c), 1);
  CHECK_WOKEN(g[0]);
  CHECK_PARKED(g[1]);
  CHECK_PARKED(g[2]);
  CHECK_EQ(lg_cond_signal(&c), 1);
  CHECK_WOKEN(g[1]);
  CHECK_PARKED(g[2]);
  CHECK_EQ(lg_cond_signal(&c), 1);
  CHECK_EQ(lg_cond_signal(&c), 0);
  for (i = 0; i < 3; i++) CHECK_PTR(lg_p_next(&p), g[i]);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}

TEST(sync_cond_broadcast_wakes_every_waiter) {
  lg_p_t p;
  lg_g_t *g[3];
  lg_cond_t c = {0};
  int i;
  P_OPEN(&p);
  SPAWN(&p, g, 3);
  CHECK_EQ(lg_cond_broadcast(&c), 0);
  for (i = 0; i < 3; i++) CHECK_RC(lg_cond_wait(&c, g[i]), LG_PARKED);
  CHECK_EQ(lg_cond_broadcast(&c), 3);
  for (i = 0; i < 3; i++) CHECK_WOKEN(g[i]);
  CHECK_EQ(lg_cond_broadcast(&c), 0);
  for (i = 0; i < 3; i++) CHECK_PTR(lg_p_next(&p), g[i]);
  FREE(&p, g, 3);
  P_CLOSE(&p);
}
