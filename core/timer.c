/* Timers: a 4-ary min-heap per P (as Go's), fired by the scheduler and
 * by the P's one libuv timer while the P blocks. */
#include <assert.h>
#include <string.h>
#include "internal.h"

static void heap_set(lg_p_t *p, size_t i, lg_timer_t *t) {
  p->timers[i] = t;
  t->idx = (int)i;
}

static void sift_up(lg_p_t *p, size_t i) {
  lg_timer_t *t = p->timers[i];
  while (i > 0) {
    size_t parent = (i - 1) / 4;
    if (p->timers[parent]->when <= t->when) break;
    heap_set(p, i, p->timers[parent]);
    i = parent;
  }
  heap_set(p, i, t);
}

static void sift_down(lg_p_t *p, size_t i) {
  lg_timer_t *t = p->timers[i];
  size_t n = p->ntimers;
  for (;;) {
    size_t c = 4 * i + 1, best = i, k;
    int64_t when = t->when;
    for (k = c; k < c + 4 && k < n; k++) {
      if (p->timers[k]->when < when) {
        best = k;
        when = p->timers[k]->when;
      }
    }
    if (best == i) break;
    heap_set(p, i, p->timers[best]);
    i = best;
  }
  heap_set(p, i, t);
}

static void heap_remove(lg_p_t *p, lg_timer_t *t) {
  size_t i = (size_t)t->idx, last = --p->ntimers;
  t->idx = -1;
  if (t->daemon) p->ndaemon--;
  if (i == last) return;
  {
    lg_timer_t *moved = p->timers[last];
    heap_set(p, i, moved);
    sift_down(p, i);
    sift_up(p, (size_t)moved->idx);
  }
}

int lg_timer_start(lg_timer_t *t, int64_t when) {
  lg_p_t *p = t->p;
  if (t->idx >= 0) {
    t->when = when;
    sift_down(p, (size_t)t->idx);
    sift_up(p, (size_t)t->idx);
    return 0;
  }
  if (p->ntimers == p->timerscap) {
    size_t cap = p->timerscap ? p->timerscap * 2 : 64;
    lg_timer_t **h = lg__realloc(p->timers, cap * sizeof *h);
    if (h == NULL) return LG_ENOMEM;
    p->timers = h;
    p->timerscap = cap;
  }
  t->when = when;
  t->refs++;  /* the heap's reference */
  if (t->daemon) p->ndaemon++;
  heap_set(p, p->ntimers++, t);
  sift_up(p, (size_t)t->idx);
  return 0;
}

int lg_timer_stop(lg_timer_t *t) {
  if (t->idx < 0) return 0;
  heap_remove(t->p, t);
  lg_timer_release(t);
  return 1;
}

int lg_p_runtimers(lg_p_t *p, int64_t now) {
  int n = 0;
  for (; p->ntimers > 0 && p->timers[0]->when <= now; n++) {
    lg_timer_t *t = p->timers[0];
    if (t->period > 0) {
      /* A ticker: next beat on its own grid, skipping beats missed while
       * the P was busy (Go drops ticks for slow readers). */
      t->when += t->period * (1 + (now - t->when) / t->period);
      sift_down(p, 0);
      t->fn(t, now);
    } else {
      heap_remove(p, t);
      t->fn(t, now);
      lg_timer_release(t);
    }
  }
  return n;
}

static void sleep_fire(lg_timer_t *t, int64_t now) {
  (void)now;
  lg_ready(t->p, t->arg, 0);
}

int lg__gtimer_start(lg_g_t *g, lg_timer_fn fn, int64_t when) {
  lg_timer_t *t = g->sleep;
  if (t == NULL) {
    if ((t = lg__malloc(sizeof *t)) == NULL) return LG_ENOMEM;
    memset(t, 0, sizeof *t);  /* c == NULL: released, never freed */
    t->idx = -1;
    t->p = g->p;
    t->arg = g;
    g->sleep = t;
  }
  t->fn = fn;
  return lg_timer_start(t, when);
}

void lg__gtimer_stop(lg_g_t *g) {
  if (g->sleep != NULL) lg_timer_stop(g->sleep);
}

int lg_sleep(lg_p_t *p, lg_g_t *g, int64_t when) {
  int rc;
  if ((rc = lg__gtimer_start(g, sleep_fire, when)) != 0) return rc;
  lg_park(p, g, LG_WSLEEP);
  return LG_PARKED;
}

/* ---------------------------------------------------- channel timers */

static void chan_fire(lg_timer_t *t, int64_t now) {
  lg_value_t v;
  v.type = LG_VNUM;
  v.u.n = (double)now / 1e9;
  (void)lg_chan_trysend(t->c, &v);  /* full: the reader is behind; drop */
}

lg_timer_t *lg_timer_newchan(lg_p_t *p, lg_chan_t *c, int64_t period) {
  lg_timer_t *t = lg__malloc(sizeof *t);
  if (t == NULL) return NULL;
  t->when = 0;
  t->period = period;
  t->fn = chan_fire;
  t->arg = NULL;
  t->p = p;
  t->idx = -1;
  t->refs = 1;
  t->c = c;
  t->daemon = 0;
  lg_chan_retain(c);
  return t;
}

void lg_timer_release(lg_timer_t *t) {
  assert(t->refs > 0);
  if (--t->refs > 0 || t->c == NULL) return;  /* embedded timers: no c */
  lg_chan_release(t->c);
  lg__free(t);
}
