/* Processors on threads: shared channels and select across them, wake-ups
 * through inboxes, portable tasks and stealing, deadlock accounting. Run
 * under ASan/UBSan with the other C tests, and under ThreadSanitizer by
 * `make test` (build/tsan/proc_test).
 *
 * Each thread drives one processor with a tiny host of its own: a
 * goroutine is a C state machine (task_t) stepped whenever lg_p_next
 * hands its G back, so no Lua is involved. */
#include <string.h>
#include "test.h"

#define NPROCS 4
#define PER 20000           /* values per producer */

enum { PRODUCER, CONSUMER, SELECTOR };

typedef struct task_s {
  int kind;
  lg_g_t *g;
  lg_chan_t *a, *b;         /* producers send to a (and b); consumers */
  int64_t next, last;       /* values next..last to send */
  int started, done;
  int64_t n, sum;           /* received */
} task_t;

typedef struct world_s {
  lg_rt_t rt;
  lg_chan_t *a, *b;
  int producers;            /* atomic: still sending */
  int64_t n, sum;           /* atomic: received, all consumers */
  int tasks;                /* atomic: portable tasks run */
  int pending;              /* atomic: tasks pushed, not yet run */
} world_t;

typedef struct thr_s {
  world_t *w;
  int id;
  lg_p_t p;
  task_t t[4];
  int nt;
  int pushtasks;            /* portable tasks this one pushes */
  uv_thread_t tid;
} thr_t;

static void producer_done(world_t *w) {
  if (__atomic_sub_fetch(&w->producers, 1, __ATOMIC_ACQ_REL) == 0) {
    lg_chan_close(w->a);
    lg_chan_close(w->b);
  }
}

/* One step of a task whose G was handed back: go on until it parks. */
static void step(world_t *w, thr_t *th, task_t *t) {
  lg_g_t *g = t->g;
  lg_value_t v;
  int rc;
  g->status = LG_GRUNNING;
  if (t->kind == PRODUCER) {
    while (t->next <= t->last) {
      lg_value_t x = {LG_VINT, {.i = t->next}};
      lg_chan_t *c = (t->next & 1) ? t->a : t->b;
      t->next++;
      if ((rc = lg_chan_send(c, g, &x)) == LG_PARKED) return;
      if (rc != 0) abort();
    }
    t->done = 1;
    producer_done(w);
    return;
  }
  if (t->kind == CONSUMER) {
    if (t->started && g->ok > 0) {  /* woken with a value */
      t->n++;
      t->sum += g->val.u.i;
    } else if (t->started && g->ok == 0) {
      t->done = 1;
      return;
    }
    t->started = 1;
    for (;;) {
      rc = lg_chan_recv(t->a, g, &v);
      if (rc == LG_PARKED) return;
      if (rc == LG_ECLOSED) {
        t->done = 1;
        return;
      }
      t->n++;
      t->sum += v.u.i;
    }
  }
  /* SELECTOR: receive from a and b until both are closed. */
  if (t->started) {
    if (g->ok > 0) {
      t->n++;
      t->sum += g->val.u.i;
    } else if (g->sel == 0) {
      t->a = NULL;
    } else {
      t->b = NULL;
    }
  }
  t->started = 1;
  while (t->a != NULL || t->b != NULL) {
    lg_scase_t cs[2];
    int chosen, ok;
    memset(cs, 0, sizeof cs);
    cs[0].c = t->a;
    cs[0].dir = LG_SELRECV;
    cs[1].c = t->b;
    cs[1].dir = LG_SELRECV;
    rc = lg_select(&th->p, g, cs, 2, 1, &chosen, &v, &ok);
    if (rc == LG_PARKED) return;
    if (rc != 0) abort();
    if (ok) {
      t->n++;
      t->sum += v.u.i;
    } else if (chosen == 0) {
      t->a = NULL;
    } else {
      t->b = NULL;
    }
  }
  t->done = 1;
}

static int alldone(thr_t *th) {
  int i;
  for (i = 0; i < th->nt; i++)
    if (!th->t[i].done) return 0;
  return 1;
}

static void thread_main(void *arg) {
  thr_t *th = arg;
  world_t *w = th->w;
  int i;
  lg_blob_t *blob;
  lg_p_init(&th->p, th->id);
  th->p.vfree = test_vfree;
  if (lg_rt_attach(&w->rt, &th->p) != 0) abort();
  for (i = 0; i < th->nt; i++) {
    th->t[i].g = lg_g_new(&th->p);
    th->t[i].g->host = &th->t[i];
    lg_ready(&th->p, th->t[i].g, 0);
  }
  /* Portable tasks: an encoded integer each; whoever runs one counts it. */
  for (i = 0; i < th->pushtasks; i++) {
    lg_enc_t e;
    lg_enc_init(&e, 0);
    lg_enc_int(&e, i);
    __atomic_add_fetch(&w->pending, 1, __ATOMIC_RELAXED);
    if (lg_task_push(&th->p, lg_blob_take(&e)) != 0) abort();
    lg_enc_free(&e);
  }
  for (;;) {
    lg_g_t *g = lg_p_next(&th->p);
    if (g != NULL) {
      task_t *t = g->host;
      step(w, th, t);
      continue;
    }
    if ((blob = lg_task_next(&th->p, 1)) != NULL) {
      lg_blob_free(blob);
      __atomic_add_fetch(&w->tasks, 1, __ATOMIC_RELAXED);
      __atomic_sub_fetch(&w->pending, 1, __ATOMIC_RELAXED);
      continue;
    }
    if (alldone(th) && __atomic_load_n(&w->pending, __ATOMIC_RELAXED) == 0)
      break;
    lg_p_poll(&th->p, alldone(th) ? 0 : 1);
  }
  for (i = 0; i < th->nt; i++) {
    __atomic_add_fetch(&w->n, th->t[i].n, __ATOMIC_RELAXED);
    __atomic_add_fetch(&w->sum, th->t[i].sum, __ATOMIC_RELAXED);
  }
}

/* Threads stop one by one; a stopped one must not be woken any more, so
 * they all meet before anyone closes its processor. */
static uv_barrier_t meet;

static void thread_run(void *arg) {
  thr_t *th = arg;
  int i;
  thread_main(arg);
  uv_barrier_wait(&meet);
  for (i = 0; i < th->nt; i++) lg_g_free(&th->p, th->t[i].g);
  lg_p_close(&th->p);
}

static void run_world(int withselect, int tasks) {
  static thr_t th[NPROCS];
  world_t w;
  int i, k, nprod = 0;
  int64_t want = 0;
  memset(&w, 0, sizeof w);
  memset(th, 0, sizeof th);
  if (lg_rt_init(&w.rt) != 0) abort();
  w.a = lg_chan_newshared(0);
  w.b = lg_chan_newshared(3);
  uv_barrier_init(&meet, NPROCS);
  for (i = 0; i < NPROCS; i++) {
    th[i].w = &w;
    th[i].id = i;
    /* Each processor: one producer and one receiver. */
    th[i].t[0].kind = PRODUCER;
    th[i].t[0].a = w.a;
    th[i].t[0].b = w.b;
    th[i].t[0].next = (int64_t)i * PER + 1;
    th[i].t[0].last = (int64_t)(i + 1) * PER;
    for (k = (int)th[i].t[0].next; k <= th[i].t[0].last; k++) want += k;
    nprod++;
    th[i].t[1].kind = withselect ? SELECTOR : CONSUMER;
    th[i].t[1].a = w.a;
    th[i].t[1].b = w.b;
    if (!withselect) th[i].t[1].a = (i & 1) ? w.a : w.b;
    th[i].nt = 2;
  }
  th[0].pushtasks = tasks;
  w.producers = nprod;
  for (i = 0; i < NPROCS; i++)
    if (uv_thread_create(&th[i].tid, thread_run, &th[i]) != 0) abort();
  for (i = 0; i < NPROCS; i++) uv_thread_join(&th[i].tid);
  uv_barrier_destroy(&meet);
  if (w.n != (int64_t)NPROCS * PER || w.sum != want) {
    fprintf(stderr, "got %lld values summing %lld, want %d and %lld\n",
            (long long)w.n, (long long)w.sum, NPROCS * PER,
            (long long)want);
    abort();
  }
  if (w.tasks != tasks) abort();
  lg_chan_release(w.a);
  lg_chan_release(w.b);
  lg_rt_destroy(&w.rt);
}

TEST(shared_channels_every_value_once_across_four_processors) {
  run_world(0, 0);
}

TEST(select_over_shared_channels_across_four_processors) {
  run_world(1, 0);
}

TEST(tasks_are_stolen_and_each_runs_once) {
  run_world(1, 5000);
}

TEST(blob_holds_and_drops_shared_references) {
  lg_chan_t *c = lg_chan_newshared(1);
  lg_enc_t e;
  lg_blob_t *b;
  lg_enc_init(&e, 0);
  CHECK_RC(lg_enc_table(&e, 0, 1), 0);
  CHECK_RC(lg_enc_str(&e, "ch", 2), 0);
  lg_chan_retain(c);  /* the encoding's reference */
  CHECK_RC(lg_enc_shared(&e, LG_SH_CHAN, c), 0);
  CHECK_RC(lg_enc_end(&e), 0);
  b = lg_blob_take(&e);
  lg_enc_free(&e);
  CHECK(b != NULL);
  CHECK_EQ(b->nshared, 1);
  lg_blob_free(b);  /* drops it: ours is the last one now */
  lg_chan_release(c);
}

TEST(deadlock_only_when_every_processor_is_stuck) {
  lg_rt_t rt;
  lg_p_t p0, p1;
  CHECK_RC(lg_rt_init(&rt), 0);
  CHECK_RC(lg_p_init(&p1, 1), 0);
  CHECK_RC(lg_p_init(&p0, 0), 0);
  CHECK_RC(lg_rt_attach(&rt, &p0), 0);
  CHECK_RC(lg_rt_attach(&rt, &p1), 0);
  CHECK_RC(lg_rt_attach(&rt, &p1), LG_EINVAL);  /* one per id */
  /* p1 is not stuck (it has not blocked): p0 must wait, not fail; a
   * non-blocking poll says so without waiting. */
  CHECK_RC(lg_p_poll(&p0, 0), 0);
  lg_p_close(&p1);  /* detached: only p0 is left, and it is stuck */
  CHECK_RC(lg_p_poll(&p0, 1), LG_EDEADLK);
  lg_p_close(&p0);
  lg_rt_destroy(&rt);
}
