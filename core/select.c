/* select: Go's selectgo. Poll the cases in random order (that is the
 * fairness: of several ready cases each wins equally often); if none is
 * ready, wait on all of them at once, enqueued in that random order, and
 * let the first wake-up take the goroutine off the others.
 *
 * Shared channels' locks are all held from the poll to the last enqueue,
 * so no case can complete half-way; they are taken in address order (a
 * channel repeated once) so two selects on the same pair cannot
 * deadlock. Local channels take no lock. */
#include "internal.h"

#define STACK_CASES 64

/* A uniform index in [0, n) without division (Lemire's reduction). */
static int randn(lg_p_t *p, int n) {
  return (int)(((lg_p_rand(p) >> 32) * (uint64_t)n) >> 32);
}

/* Sort the locks by address (insertion sort: a select has few) and drop
 * repeats; returns how many are left. */
static int sortlocks(uv_mutex_t **l, int n) {
  int i, j, m = 0;
  for (i = 1; i < n; i++) {
    uv_mutex_t *x = l[i];
    for (j = i; j > 0 && l[j - 1] > x; j--) l[j] = l[j - 1];
    l[j] = x;
  }
  for (i = 0; i < n; i++)
    if (m == 0 || l[m - 1] != l[i]) l[m++] = l[i];
  return m;
}

static void lockall(uv_mutex_t **l, int n) {
  int i;
  for (i = 0; i < n; i++) uv_mutex_lock(l[i]);
}

static void unlockall(uv_mutex_t **l, int n) {
  int i;
  for (i = n - 1; i >= 0; i--) uv_mutex_unlock(l[i]);
}

int lg_select(lg_p_t *p, lg_g_t *g, lg_scase_t *cases, int n, int block,
              int *chosen, lg_value_t *v, int *ok) {
  int stackorder[STACK_CASES];
  uv_mutex_t *stacklocks[STACK_CASES], **locks = stacklocks;
  int *order = stackorder, norder = 0, nlocks = 0, i, rc = LG_EAGAIN;
  int won = -1;
  if (n > STACK_CASES &&
      ((order = lg__malloc(n * sizeof *order)) == NULL ||
       (locks = lg__malloc(n * sizeof *locks)) == NULL)) {
    lg__free(order == stackorder ? NULL : order);
    order = stackorder;
    locks = stacklocks;
    rc = LG_ENOMEM;
    goto release;
  }
  /* Inside-out Fisher-Yates over the cases that have a channel. */
  for (i = 0; i < n; i++) {
    int j;
    uv_mutex_t *l;
    if (cases[i].c == NULL) continue;
    j = norder > 0 ? randn(p, norder + 1) : 0;
    order[norder++] = order[j];
    order[j] = i;
    if ((l = lg__chan_lock(cases[i].c)) != NULL) locks[nlocks++] = l;
  }
  if (nlocks > 0) {
    nlocks = sortlocks(locks, nlocks);
    lockall(locks, nlocks);
  }
  for (i = 0; i < norder && won < 0; i++) {
    lg_scase_t *cs = &cases[order[i]];
    if (!lg__chan_ready(cs->c, cs->dir)) continue;
    if (cs->dir == LG_SELRECV) {
      rc = lg__chan_tryrecv(cs->c, v);
      *ok = rc == 0;
      rc = rc == LG_ECLOSED ? 0 : rc;
    } else {
      rc = lg__chan_trysend(cs->c, &cs->val);
      if (rc == 0) cs->val.type = LG_VNIL;  /* the channel's now */
    }
    /* Only stale waiters (woken elsewhere) made it look ready. */
    if (rc != LG_EAGAIN) won = order[i];
  }
  if (won >= 0 || !block) {
    unlockall(locks, nlocks);
    *chosen = won;
    goto release;
  }
  for (i = 0; i < norder; i++) {
    lg_scase_t *cs = &cases[order[i]];
    lg_sudog_t *s = lg__chan_enqueue(cs->c, g, cs->dir, order[i]);
    if (s == NULL) {
      unlockall(locks, nlocks);
      lg_g_unwait(p, g);  /* releases the values already queued */
      rc = LG_ENOMEM;
      goto release;
    }
    if (cs->dir == LG_SELSEND) {
      s->val = cs->val;  /* the sudog owns it until the select ends */
      cs->val.type = LG_VNIL;
    }
  }
  lg_park(p, g, norder > 0 ? LG_WSELECT : LG_WFOREVER);
  unlockall(locks, nlocks);
  rc = LG_PARKED;
release:
  /* Every send value not sent nor queued (nil channels, losing cases,
   * failures) goes back to the host. */
  for (i = 0; i < n; i++)
    if (cases[i].dir == LG_SELSEND) lg__vfree(p, &cases[i].val);
  if (order != stackorder) lg__free(order);
  if (locks != stacklocks) lg__free(locks);
  return rc;
}
