/* select: Go's selectgo for one P. Poll the cases in random order (that
 * is the fairness: of several ready cases each wins equally often); if
 * none is ready, wait on all of them at once, enqueued in that random
 * order, and let the first wake-up take the goroutine off the others.
 *
 * Local channels take no locks, so there is no lock order to keep yet;
 * shared channels will lock in address order here. */
#include "internal.h"

#define STACK_CASES 64

/* A uniform index in [0, n) without division (Lemire's reduction). */
static int randn(lg_p_t *p, int n) {
  return (int)(((lg_p_rand(p) >> 32) * (uint64_t)n) >> 32);
}

int lg_select(lg_p_t *p, lg_g_t *g, lg_scase_t *cases, int n, int block,
              int *chosen, lg_value_t *v, int *ok) {
  int stackorder[STACK_CASES];
  int *order = stackorder, norder = 0, i, rc = LG_EAGAIN, won = -1;
  if (n > STACK_CASES && (order = lg__malloc(n * sizeof *order)) == NULL) {
    order = stackorder;
    rc = LG_ENOMEM;
    goto release;
  }
  /* Inside-out Fisher-Yates over the cases that have a channel. */
  for (i = 0; i < n; i++) {
    int j;
    if (cases[i].c == NULL) continue;
    j = randn(p, norder + 1);
    order[norder++] = order[j];
    order[j] = i;
  }
  for (i = 0; i < norder && won < 0; i++) {
    lg_scase_t *cs = &cases[order[i]];
    if (!lg__chan_ready(cs->c, cs->dir)) continue;
    won = order[i];
    if (cs->dir == LG_SELRECV) {
      rc = lg_chan_tryrecv(cs->c, v);
      *ok = rc == 0;
      rc = rc == LG_ECLOSED ? 0 : rc;
    } else {
      rc = lg_chan_trysend(cs->c, &cs->val);
      if (rc == 0) cs->val.type = LG_VNIL;  /* the channel's now */
    }
  }
  if (won >= 0 || !block) {
    *chosen = won;
    goto release;
  }
  for (i = 0; i < norder; i++) {
    lg_scase_t *cs = &cases[order[i]];
    lg_sudog_t *s = lg__chan_enqueue(cs->c, g, cs->dir, order[i]);
    if (s == NULL) {
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
  rc = LG_PARKED;
release:
  /* Every send value not sent nor queued (nil channels, losing cases,
   * failures) goes back to the host. */
  for (i = 0; i < n; i++)
    if (cases[i].dir == LG_SELSEND) lg__vfree(p, &cases[i].val);
  if (order != stackorder) lg__free(order);
  return rc;
}
