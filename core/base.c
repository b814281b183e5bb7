/* Memory, result codes and the clock. */
#include <stdlib.h>
#include "lugo.h"

/* Countdown to an injected allocation failure; 0 means never. Tests only;
 * it is the one piece of process-wide state. */
static long failafter;

void lg_testing_failalloc(long n) {
  __atomic_store_n(&failafter, n, __ATOMIC_RELAXED);
}

static int failnow(void) {
  /* Atomic only so that threads allocating while no test arms it do not
   * race (ThreadSanitizer would say so). */
  return __atomic_load_n(&failafter, __ATOMIC_RELAXED) > 0 &&
         __atomic_sub_fetch(&failafter, 1, __ATOMIC_RELAXED) == 0;
}

void *lg__malloc(size_t n) {
  return failnow() ? NULL : malloc(n);
}

void *lg__realloc(void *p, size_t n) {
  return failnow() ? NULL : realloc(p, n);
}

void lg__free(void *p) {
  free(p);
}

const char *lg_strerror(int rc) {
  switch (rc) {
  case LG_OK: return "ok";
  case LG_EAGAIN: return "would block";
  case LG_ECLOSED: return "closed";
  case LG_ETIMEDOUT: return "timeout";
  case LG_ENOMEM: return "not enough memory";
  case LG_EINVAL: return "invalid argument";
  case LG_EDEADLK: return "all goroutines are asleep - deadlock!";
  case LG_PARKED: return "parked";
  default: return rc < 0 ? uv_strerror(rc) : "unknown";
  }
}

const char *lg_waitname(int reason) {
  static const char *const names[] = {
    "running", "chan send", "chan receive", "select", "sleep", "sync",
    "run", "select (no cases)", "IO wait"
  };
  if (reason < 0 || reason > LG_WIO) return "?";
  return names[reason];
}

int64_t lg_now(void) {
  return (int64_t)uv_hrtime();
}
