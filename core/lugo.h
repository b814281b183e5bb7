/* lugo: Go's concurrency model as an embeddable C runtime.
 *
 * This is the one public header of core/. It knows nothing of Lua: a host
 * (the Lua binding in bindings/lua/, or a C program) owns the goroutines'
 * stacks and resumes them; the core owns run queues, channels, select,
 * timers and the sync objects, and says which goroutine to run next.
 *
 * Everything hangs off a processor (lg_p_t). Nothing here is global, so
 * several processors can live in one process. One processor is driven by
 * one thread at a time. Local objects (channels made without `shared`,
 * timers, sockets) belong to one processor and take no lock; shared
 * objects (lg_shared_t: shared channels, the sync objects, maps, atomics)
 * lock, and a runtime (lg_rt_t) ties processors together: it moves
 * portable tasks between them and wakes a goroutine on its own processor
 * when another one readies it.
 */
#ifndef LUGO_H
#define LUGO_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Result codes: 0, one of these negatives, LG_PARKED, or for I/O one of
 * libuv's codes (negative errno, so lugo's own stay below -10000). */
enum {
  LG_OK = 0,
  LG_EAGAIN = -10001,   /* would block */
  LG_ECLOSED = -10002,  /* closed */
  LG_ETIMEDOUT = -10003,
  LG_ENOMEM = -10004,
  LG_EINVAL = -10005,
  LG_EDEADLK = -10006,  /* nothing can ever wake the caller */
  LG_PARKED = 1         /* the goroutine was queued as a waiter: park it */
};

/* "closed", "timeout", ... for a result code. */
const char *lg_strerror(int rc);

/* All core memory goes through these, so a test can fail the n-th call. */
void *lg__malloc(size_t n);
void *lg__realloc(void *p, size_t n);
void lg__free(void *p);
/* Make the n-th allocation from now fail (0: never). For tests. */
void lg_testing_failalloc(long n);

typedef struct lg_p_s lg_p_t;
typedef struct lg_g_s lg_g_t;
typedef struct lg_chan_s lg_chan_t;
typedef struct lg_sudog_s lg_sudog_t;
typedef struct lg_timer_s lg_timer_t;
typedef struct lg_rt_s lg_rt_t;
typedef struct lg_blob_s lg_blob_t;

/* ------------------------------------------------------------------ values
 * What a channel holds. The core never looks inside LG_VREF: it is a slot
 * number of the host's (the Lua binding keeps Lua values in a per-P table
 * and stores slot numbers here), released through lg_p_t.vfree. A shared
 * channel holds no LG_VREF: anything but nil, booleans and numbers goes
 * as LG_VBLOB, an encoded value (see "value encoding") the core owns. */
typedef enum {
  LG_VNIL, LG_VBOOL, LG_VINT, LG_VNUM, LG_VREF, LG_VBLOB
} lg_vtype_t;

typedef struct lg_value_s {
  int type;              /* lg_vtype_t */
  union {
    int b;
    int64_t i;
    double n;
    uint32_t ref;
    lg_blob_t *blob;
  } u;
} lg_value_t;

/* -------------------------------------------------------- shared objects
 * An object several processors may hold: reference counted (atomically),
 * freed by `destroy` when the last holder releases it. `type` is one of
 * LG_SH_*, so an encoded value can say what it refers to. */
enum {
  LG_SH_CHAN = 1, LG_SH_WG, LG_SH_MUTEX, LG_SH_RWMUTEX, LG_SH_SEMA,
  LG_SH_COND, LG_SH_MAP, LG_SH_ATOMIC
};

typedef struct lg_shared_s {
  long refs;
  int type;
  void (*destroy)(struct lg_shared_s *o);
} lg_shared_t;

/* One reference, held by the caller. */
void lg_shared_init(lg_shared_t *o, int type,
                    void (*destroy)(lg_shared_t *o));
void lg_shared_retain(lg_shared_t *o);
void lg_shared_release(lg_shared_t *o);

/* ------------------------------------------------------------- goroutines */
typedef enum {
  LG_GIDLE, LG_GRUNNABLE, LG_GRUNNING, LG_GWAITING, LG_GDEAD
} lg_gstatus_t;

/* Why a goroutine waits: names as in Go's goroutine dump. */
typedef enum {
  LG_WNONE, LG_WSEND, LG_WRECV, LG_WSELECT, LG_WSLEEP, LG_WSYNC,
  LG_WJOIN, LG_WFOREVER, LG_WIO
} lg_wait_t;

const char *lg_waitname(int reason);

/* A queue of waiting goroutines (Go's waitq of sudogs), FIFO. When a
 * waiter gives up (lg_g_unwait), `onleave` lets the queue's owner serve
 * those behind it: a semaphore's smaller requests may fit now. */
typedef struct lg_waitq_s {
  lg_sudog_t *first, *last;
  void (*onleave)(struct lg_waitq_s *q);
  uv_mutex_t *lock;       /* a shared object's lock, NULL when local */
  struct lg_shared_s *owner;  /* that object: each waiter holds a
                                 reference, so it outlives them */
} lg_waitq_t;

/* One goroutine waiting on one queue. A select has one per case, chained
 * through `waitlink`; the first wake-up takes all of them off their queues
 * so only one case can complete. */
struct lg_sudog_s {
  lg_g_t *g;
  lg_sudog_t *next, *prev;
  lg_waitq_t *q;          /* queue it sits on, NULL when off */
  uv_mutex_t *lock;       /* q's lock and owner, kept: q may go NULL */
  struct lg_shared_s *owner;
  lg_sudog_t *waitlink;   /* next sudog of the same goroutine */
  lg_value_t val;         /* value to send; owned by the sudog until taken */
  int64_t n;              /* units wanted (semaphore) or kind (rwmutex) */
  int caseidx;            /* select case, 0-based; -1 outside select */
};

/* Timers: a 4-ary heap per P, keyed by `when` (ns, uv_hrtime clock). */
typedef void (*lg_timer_fn)(lg_timer_t *t, int64_t now);

struct lg_timer_s {
  int64_t when;
  int64_t period;         /* > 0: re-armed after firing (ticker) */
  lg_timer_fn fn;
  void *arg;
  lg_p_t *p;
  int idx;                /* index in the heap, -1 when not pending */
  int refs;               /* the heap holds one while pending */
  lg_chan_t *c;           /* channel timers: where the time is sent */
  int daemon;             /* wakes nobody (a debug trace): it neither keeps
                             lugo.run() going nor counts against deadlock */
};

/* A goroutine as the core sees it. The host's stack (a Lua coroutine) is
 * `host`; the core only hands it back. The waker fills in the wake-up
 * fields before readying it: `val` and `ok` (1: received, 0: closed and
 * drained, -1: it was a send), `sel` (the select case, -1 outside select)
 * and `rc` (LG_ECLOSED when a send found the channel closed). `reason`
 * keeps why it last parked, so the host knows what results to hand it. */
struct lg_g_s {
  uint64_t id;
  lg_p_t *p;
  int64_t since;          /* when it parked, on its processor's clock */
  lg_sudog_t *waiting;    /* sudogs it sits on, chained by waitlink */
  lg_g_t *inext;          /* next in its processor's inbox */
  lg_timer_t *sleep;      /* lugo.sleep's and I/O timeouts' timer, made
                             on first use (lg__gtimer_start), kept with the
                             struct: most goroutines never sleep */
  lg_g_t *joiner;         /* goroutine waiting for this one (lugo.run) */
  lg_value_t val;         /* wake-up results: val, ok, sel, rc */
  /* host's */
  void *host;
  lg_g_t *allprev, *allnext;
  int sel;
  int rc;
  uint32_t hostref;
  int claimed;            /* atomic: a waker took it (xwait only) */
  /* Small fields last, packed: a parked goroutine is mostly this struct
   * and its coroutine, and there may be a million of them. */
  uint8_t status;         /* lg_gstatus_t */
  uint8_t reason;         /* lg_wait_t while waiting */
  uint8_t inlinewait;     /* parked by a driver loop on the C stack: a
                             wake-up only flips the status, it is not
                             queued */
  uint8_t xwait;          /* one of its sudogs is on a shared object's
                             queue: a waker on any processor may take it,
                             so wakers claim it first, and its other
                             sudogs leave their queues on its own
                             processor (lg_g_settle), not in the waker's
                             hands */
  int8_t ok;
};

/* ------------------------------------------------------------ processors */
typedef struct lg_pstats_s {
  uint64_t switches;      /* goroutine resumes */
  uint64_t spawned;
  uint64_t steals;        /* portable tasks taken from other processors */
  uint64_t tasks;         /* portable tasks run here */
  uint64_t inbox;         /* goroutines other processors woke */
  uint64_t preemptions;   /* Lua 5.4; on LuaJIT long runs noticed */
  int64_t idle;           /* ns spent blocked with nothing to run */
} lg_pstats_t;

/* A portable task (lugo.spawn): an encoded value the host understands,
 * queued for whichever processor takes it. */
typedef struct lg_task_s {
  struct lg_task_s *next;
  lg_blob_t *blob;
} lg_task_t;

/* Records a processor makes by the million (G structs, sudogs) and
 * recycles through its own free lists, never freeing one: they come
 * from chunks of slabn records, without a malloc header each, and the
 * chunks are freed with the processor. */
typedef struct lg_slab_s {
  void *chunks;           /* each chunk starts with the next one's address */
  char *next;             /* the newest chunk's first unused record */
  size_t left;            /* how many it has left */
} lg_slab_t;

struct lg_p_s {
  int id;
  uv_loop_t loop;         /* the netpoller; drives the timer heap too */
  uv_timer_t uvtimer;
  int64_t uvtimer_when;   /* when uvtimer is armed for, 0 if not */
  /* run queue: a growable ring plus Go's runnext slot */
  lg_g_t *runnext;
  lg_g_t **runq;
  size_t rqhead, rqlen, rqcap;
  unsigned schedtick;
  int64_t clock;          /* atomic: a recent lg_now(), what lg_park
                             stamps (see lg_p_clock) */
  lg_g_t *curg;           /* running goroutine, or &maing */
  lg_g_t maing;           /* the host's own thread, never in a queue */
  lg_g_t *allg;           /* live goroutines, for introspection */
  size_t ngoroutines;
  uint64_t nextid;
  lg_g_t *gfree;          /* dead G structs for reuse */
  lg_sudog_t *sudogfree;  /* sudog cache */
  lg_slab_t gslab, sudogslab;  /* where both come from */
  size_t slabn;           /* records per slab chunk (lg_p_init: 64) */
  lg_timer_t **timers;    /* the heap */
  size_t ntimers, timerscap;
  size_t ndaemon;         /* daemon timers among ntimers */
  size_t nchans;
  size_t nwaitingio;      /* goroutines waiting on I/O */
  size_t nsources;        /* event sources feeding channels (signals,
                             file watches): they too can wake a waiter */
  uint64_t rng;
  lg_pstats_t stats;
  /* with other processors (rt != NULL); locked fields say which lock */
  lg_rt_t *rt;
  uv_async_t wake;        /* another processor's nudge */
  uv_mutex_t inlock;      /* guards inbox, intasks and stuck */
  lg_g_t *inbox, *inboxlast;  /* goroutines others readied */
  int inboxn;             /* atomic: inbox is not empty */
  lg_task_t *intasks;     /* tasks only this processor may run */
  int stuck;              /* blocked with nothing of its own that could
                             wake it (lg_rt_t.nstuck counts these) */
  int idle;               /* atomic: blocked in its loop */
  int spinhint;           /* blocking polls left that spin first */
  uv_mutex_t tqlock;      /* guards the task queue */
  lg_task_t **tq;         /* portable tasks: a ring others steal from */
  size_t tqhead, tqlen, tqcap;
  /* host hooks */
  void (*vfree)(lg_p_t *p, lg_value_t *v);  /* drop a value nobody took */
  void *host;
};

/* Set up `p` (its loop included) and make it this thread's processor.
 * Returns 0 or a libuv/LG error. */
int lg_p_init(lg_p_t *p, int id);
/* Tear down: every goroutine must be gone (the host frees their stacks);
 * pending timers are dropped. */
void lg_p_close(lg_p_t *p);

/* Monotonic clock, ns. */
int64_t lg_now(void);

/* A new goroutine in state LG_GIDLE, or NULL without memory. */
lg_g_t *lg_g_new(lg_p_t *p);
/* Forget a finished goroutine (its host stack is the host's business). */
void lg_g_free(lg_p_t *p, lg_g_t *g);

/* Make `g` runnable. `next`: into runnext, so it runs right after the
 * current goroutine (a channel hand-off keeps ping-pong on one P hot). */
void lg_ready(lg_p_t *p, lg_g_t *g, int next);
/* Mark `g` waiting for `reason`. The host then yields its stack. */
void lg_park(lg_p_t *p, lg_g_t *g, int reason);
/* Take `g` off every queue it waits on (deadlock, or an error raised in
 * its driver); values it was sending go back through vfree. Returns 0,
 * or LG_PARKED when a waker on another processor has taken it already:
 * then its wake-up is on the way (lg_p_drain delivers it) and must be
 * let finish, or a value handed to it would be lost. */
int lg_g_unwait(lg_p_t *p, lg_g_t *g);

/* Next goroutine to run, or NULL. Fires due timers now and then. */
lg_g_t *lg_p_next(lg_p_t *p);
/* Number of runnable goroutines. */
size_t lg_p_runnable(lg_p_t *p);
/* Fire due timers and poll I/O; with `block`, wait until something
 * happens. Returns 0, or LG_EDEADLK when nothing is pending at all
 * (no timer, no I/O): no goroutine can ever be woken. */
int lg_p_poll(lg_p_t *p, int block);

/* 64-bit random for select's poll order. */
uint64_t lg_p_rand(lg_p_t *p);

/* The processor's clock: lg_now() as of its last look at the timers, its
 * last wait, and every few dozen goroutine switches, so that a park, which
 * stamps g->since from it, reads no clock (that read cost a ping-pong
 * round trip a tenth of its time). A host that watches its processors from
 * another thread (sysmon) may set it too, which bounds how stale it gets
 * while one goroutine runs long. */
void lg_p_clock(lg_p_t *p, int64_t now);

/* --------------------------------------------------------------- runtime
 * Processors of one process, each driven by one thread (P0 by the host's
 * own; the host starts the workers' threads). Goroutines never move; what
 * moves is portable tasks, and wake-ups: a goroutine readied by another
 * processor goes into its own processor's inbox, and a uv_async_t nudges
 * that processor's loop. */
#define LG_MAXPROCS 256
#define LG_TQCAP 256      /* a processor's own task ring; more overflows
                             half of it to the global queue, as Go's */

struct lg_rt_s {
  uv_mutex_t lock;        /* guards all below */
  lg_p_t *ps[LG_MAXPROCS];
  int nprocs;             /* highest attached id + 1 */
  lg_task_t *gq, *gqlast; /* the global queue */
  size_t ngq;
  int nstuck;             /* attached processors with p->stuck set */
  int nattached;
};

int lg_rt_init(lg_rt_t *rt);
/* Every processor must have detached. Queued tasks are dropped. */
void lg_rt_destroy(lg_rt_t *rt);
/* Join `p` (set up with lg_p_init, on the thread that drives it) to the
 * runtime as processor p->id (< LG_MAXPROCS, unused). */
int lg_rt_attach(lg_rt_t *rt, lg_p_t *p);
/* Leave: its queued tasks go to the global queue; its pinned ones are
 * dropped (lg_blob_free). Goroutines others would wake must be gone. */
void lg_rt_detach(lg_p_t *p);

/* The processor this thread drives (set by lg_p_init). */
lg_p_t *lg_p_self(void);

/* Queue a portable task on `p`'s own queue, for `p` or a thief, and wake
 * an idle processor to take it. The queue owns `blob` now. */
int lg_task_push(lg_p_t *p, lg_blob_t *blob);
/* Queue a task that only `p` may run (from any thread). */
int lg_task_pin(lg_p_t *p, lg_blob_t *blob);
/* A task for `p` to run, now the caller's: a pinned one, one of its own,
 * half of another processor's queue stolen (Go's runqsteal), or one from
 * the global queue. NULL when there is none anywhere. `steal` 0: only
 * its own and the global queue. */
lg_blob_t *lg_task_next(lg_p_t *p, int steal);
/* Tasks queued anywhere (an estimate while others run). */
size_t lg_rt_ntasks(lg_rt_t *rt);

/* Move goroutines other processors readied into the run queue; returns
 * how many. lg_p_next and lg_p_poll do this themselves. */
size_t lg_p_drain(lg_p_t *p);
/* Make `g` runnable from whichever thread: into its processor's run
 * queue if this thread drives it, else into its inbox. */
void lg_ready_any(lg_g_t *g, int next);
/* Nudge `p`'s loop (from any thread). */
void lg_p_wake(lg_p_t *p);
/* A goroutine a waker claimed (xwait) may still sit on other queues:
 * take it off them. The host calls this before it resumes a goroutine
 * that lg_p_next did not hand it (an inline wait). Cheap when there is
 * nothing to do. */
void lg_g_settle(lg_p_t *p, lg_g_t *g);

/* ---------------------------------------------------------------- timers */
/* Pending timers that can wake someone (not daemon ones). */
#define lg_p_timers(p) ((p)->ntimers - (p)->ndaemon)

/* Arm `t` to fire at `when` (ns). A pending timer is moved. */
int lg_timer_start(lg_timer_t *t, int64_t when);
/* Remove a pending timer. Returns 1 if it was pending, else 0. */
int lg_timer_stop(lg_timer_t *t);
/* Park `g` until `when` (ns): LG_PARKED, or LG_ENOMEM. */
int lg_sleep(lg_p_t *p, lg_g_t *g, int64_t when);
/* Fire every timer due at `now`; returns how many fired. */
int lg_p_runtimers(lg_p_t *p, int64_t now);

/* A timer that sends lg_now() in seconds on `c` (cap >= 1) when it fires,
 * dropping the value if `c` is full, as Go's time.Timer does. The timer
 * holds a reference on `c`. Returns NULL without memory. The caller holds
 * one reference, dropped with lg_timer_release(). */
lg_timer_t *lg_timer_newchan(lg_p_t *p, lg_chan_t *c, int64_t period);
void lg_timer_release(lg_timer_t *t);

/* -------------------------------------------------------------- channels */
/* New channel of capacity `cap`; NULL without memory. The caller owns
 * one reference. */
lg_chan_t *lg_chan_new(lg_p_t *p, size_t cap);
void lg_chan_retain(lg_chan_t *c);
/* Drop a reference; the last one frees the channel and hands buffered
 * values to vfree. */
void lg_chan_release(lg_chan_t *c);
size_t lg_chan_len(const lg_chan_t *c);
size_t lg_chan_cap(const lg_chan_t *c);
int lg_chan_closed(const lg_chan_t *c);

/* Send without blocking: 0 (the channel owns v now), LG_EAGAIN,
 * LG_ECLOSED or LG_ENOMEM (the buffer could not grow); on an error the
 * caller still owns v. */
int lg_chan_trysend(lg_chan_t *c, lg_value_t *v);
/* Receive without blocking: 0 with *v set and the caller owning it,
 * LG_ECLOSED (closed and drained; *v nil), or LG_EAGAIN. */
int lg_chan_tryrecv(lg_chan_t *c, lg_value_t *v);
/* As trysend, but on LG_EAGAIN queue `g` as a sender and return
 * LG_PARKED; the sudog owns v. `g`'s wake-up sets g->rc. */
int lg_chan_send(lg_chan_t *c, lg_g_t *g, lg_value_t *v);
/* As tryrecv, but on LG_EAGAIN queue `g` and return LG_PARKED; the
 * wake-up fills g->val and g->ok. */
int lg_chan_recv(lg_chan_t *c, lg_g_t *g, lg_value_t *v);
/* Close: wake every receiver (nil, false) and every sender (LG_ECLOSED).
 * Returns LG_ECLOSED if it was closed already. */
int lg_chan_close(lg_chan_t *c);

/* A channel processors share: it locks, and holds only values that need
 * no host (nil, booleans, numbers, LG_VBLOB). Freed by the last
 * lg_chan_release, from any processor. */
lg_chan_t *lg_chan_newshared(size_t cap);
int lg_chan_isshared(const lg_chan_t *c);
/* For a binding that reads a local channel's ring itself (lua/lugo/ffi.lua
 * through LuaJIT's FFI): fills off[0..n) with the byte offsets of the
 * channel's shared, closed, cap, count, head, bufcap, buf, recvq.first and
 * sendq.first, then sizeof(lg_value_t); returns how many that list holds,
 * so a reader built for another list can tell. */
int lg_chan_layout(size_t *off, int n);

/* ---------------------------------------------------------------- select */
enum { LG_SELRECV = 1, LG_SELSEND = 2 };

typedef struct lg_scase_s {
  lg_chan_t *c;           /* NULL: the case is ignored */
  int dir;                /* LG_SELRECV or LG_SELSEND */
  lg_value_t val;         /* for a send */
} lg_scase_t;

/* Go's selectgo over `n` cases. lg_select owns every send value: the one
 * sent goes to its channel, the others go back through vfree. Returns:
 * - 0 with *chosen set: case *chosen completed; a receive fills *v (now
 *   the caller's) and *ok.
 * - LG_ECLOSED with *chosen: the chosen send case's channel is closed.
 * - LG_EAGAIN: nothing ready and !block (the default case).
 * - LG_PARKED: `g` waits on every case (in random order); its wake-up
 *   sets g->sel, g->val, g->ok and g->rc. */
int lg_select(lg_p_t *p, lg_g_t *g, lg_scase_t *cases, int n, int block,
              int *chosen, lg_value_t *v, int *ok);

/* -------------------------------------------------------- value encoding
 * A compact, self-contained byte encoding of one value, so that another
 * processor (another Lua state) can rebuild it: what shared channels and
 * lugo.spawn copy. The core knows nothing of Lua; the binding walks a Lua
 * value and puts its items, then gets them back in the other state.
 *
 * The bytes are a sequence of items, each a tag byte and its payload:
 *   LG_TNIL, LG_TFALSE, LG_TTRUE   nothing
 *   LG_TINT      int64, zigzag varint (kept apart from floats)
 *   LG_TFLOAT    double, 8 bytes little-endian
 *   LG_TSTR      varint length, then the bytes (may hold NULs)
 *   LG_TTABLE    varint array and hash size hints, then key, value, key,
 *                value ... items, then LG_TEND. Tables are numbered from 0
 *                in the order their LG_TTABLE items appear.
 *   LG_TREF      varint number of a table begun earlier (maybe still open):
 *                the same table again, for cycles and shared references
 *   LG_TSHARED   a type byte and an opaque pointer (8 bytes): a shared
 *                object (channel, waitgroup, ...) passed by reference.
 *   LG_TFUNC     as LG_TSTR: a function's code, in the host's form (Lua
 *                bytecode from lua_dump).
 * The encoding is for processes of one build: pointers and byte order are
 * those of the machine. */
enum {
  LG_TNIL, LG_TFALSE, LG_TTRUE, LG_TINT, LG_TFLOAT, LG_TSTR, LG_TTABLE,
  LG_TEND, LG_TREF, LG_TSHARED, LG_TFUNC
};

/* Default cap on one encoded value; more is UV_EMSGSIZE. */
#define LG_ENC_MAXSIZE ((size_t)64 << 20)
/* Deepest nesting of tables an encoder or decoder accepts. */
#define LG_ENC_MAXDEPTH 200

/* A growable byte writer. Every put returns 0, LG_ENOMEM, UV_EMSGSIZE
 * (the value would pass the cap) or LG_EINVAL (misuse: an LG_TEND with
 * no table open, a reference to a table not begun, nesting past
 * LG_ENC_MAXDEPTH). The first error sticks: later puts write nothing and
 * return it again, so a host may check only the last one. */
typedef struct lg_enc_s {
  unsigned char *buf;     /* owned by the encoder, lg__malloc'd */
  size_t len, cap;
  size_t max;             /* cap on len */
  uint64_t ntables;       /* LG_TTABLE items put: the next table's number */
  int depth;              /* tables open */
  int err;                /* first error, 0 if none */
  size_t nshared;         /* LG_TSHARED items put */
  size_t nrefs;           /* LG_TREF items put */
} lg_enc_t;

/* An empty encoder holding at most `max` bytes (0: LG_ENC_MAXSIZE).
 * Allocates nothing. */
void lg_enc_init(lg_enc_t *e, size_t max);
/* Free the buffer; `e` is empty again (same cap) and may be reused.
 * Safe twice. */
void lg_enc_free(lg_enc_t *e);
/* Hand the bytes to the caller, who frees them with lg__free(); `e` is
 * left empty. Returns NULL (and *len 0) if nothing was put or a put
 * failed; the encoder still owns nothing then. */
void *lg_enc_take(lg_enc_t *e, size_t *len);

int lg_enc_nil(lg_enc_t *e);
int lg_enc_bool(lg_enc_t *e, int b);
int lg_enc_int(lg_enc_t *e, int64_t i);
int lg_enc_float(lg_enc_t *e, double n);
/* Copies the `len` bytes at `s`. */
int lg_enc_str(lg_enc_t *e, const void *s, size_t len);
/* A function's code, copied (an item of its own tag, LG_TFUNC). */
int lg_enc_func(lg_enc_t *e, const void *code, size_t len);
/* Begin table number e->ntables (read it before the call); `narr` and
 * `nrec` are size hints for the decoder, 0 if unknown. With nrec
 * LG_ENC_LATER, the header holds room for the hint, and
 * lg_enc_tablehint(e, at, nrec), with `at` the e->len from just before
 * this call, writes it once the host has counted (a host that walks a
 * table once, not once to count and once to write). */
#define LG_ENC_LATER SIZE_MAX
int lg_enc_table(lg_enc_t *e, size_t narr, size_t nrec);
void lg_enc_tablehint(lg_enc_t *e, size_t at, size_t nrec);
/* End the innermost open table. */
int lg_enc_end(lg_enc_t *e);
/* The table numbered `idx` again. */
int lg_enc_ref(lg_enc_t *e, uint64_t idx);
/* A shared object: `type` (0..255, the host's) and `obj`, which the
 * encoding does not own or retain: keeping it alive until the bytes are
 * decoded is the host's business. */
int lg_enc_shared(lg_enc_t *e, int type, void *obj);

/* An encoded value the core owns, as a shared channel or a task holds
 * it. Encoded shared objects in it hold a reference each, which
 * lg_blob_free drops: a host decoding one takes references of its own. */
struct lg_blob_s {
  size_t len;
  size_t nshared;         /* LG_TSHARED items in it */
  size_t nrefs;           /* LG_TREF items: none, and a decoder need not
                             keep the tables it made by number */
  unsigned char data[];
};

/* The encoder's bytes as a blob, `e` left empty but keeping its buffer
 * for the next value (lg_enc_free frees it); or NULL (out of memory,
 * nothing put, or a put failed), `e` untouched. The host must have retained each shared
 * object it put (an lg_shared_t, for the blob to release). */
lg_blob_t *lg_blob_take(lg_enc_t *e);
/* Release the shared objects it refers to, and free it. NULL is fine. */
void lg_blob_free(lg_blob_t *b);

/* One item read back. A string points into the decoder's input. */
typedef struct lg_item_s {
  int tag;                /* LG_T* */
  union {
    int64_t i;            /* LG_TINT */
    double n;             /* LG_TFLOAT */
    struct {
      const char *p;
      size_t len;
    } s;                  /* LG_TSTR, LG_TFUNC */
    struct {
      size_t narr, nrec;  /* hints, clamped to what the input can hold */
    } t;                  /* LG_TTABLE */
    uint64_t ref;         /* LG_TREF: below the tables read so far */
    struct {
      void *obj;
      int type;
    } shared;             /* LG_TSHARED */
  } u;
} lg_item_t;

/* A reader over bytes it borrows: they must outlive the decoder and the
 * strings of its items. It allocates nothing and never reads past the
 * `len` bytes, whatever they hold. */
typedef struct lg_dec_s {
  const unsigned char *p, *end;
  uint64_t ntables;       /* LG_TTABLE items read */
  int depth;              /* tables open */
} lg_dec_t;

void lg_dec_init(lg_dec_t *d, const void *data, size_t len);
/* The next item into *it: 0, or LG_EINVAL when the input is truncated or
 * corrupt (an unknown tag, an LG_TEND with no table open, a reference to
 * a table not read yet, nesting past LG_ENC_MAXDEPTH); then `d` is
 * unchanged. The caller checks the shape (a key is not nil, ...). */
int lg_dec_next(lg_dec_t *d, lg_item_t *it);
/* Bytes not read yet: 0 once a whole value has been read, if the input
 * held just that. */
size_t lg_dec_left(const lg_dec_t *d);

/* ------------------------------------------------------------------- tcp
 * A TCP stream or listener on the P's loop. The host owns one reference,
 * dropped with lg_tcp_release (which closes it). Calls that may wait take
 * the goroutine and return LG_PARKED after queueing it; once woken it
 * calls again. Errors are LG_* codes or libuv's (negative errno). */
typedef struct lg_tcp_s lg_tcp_t;

/* Receive patterns: a line (LF or CRLF, stripped), n bytes, whatever is
 * there (at least one byte), or everything until the peer closes. */
enum { LG_TCP_LINE = 1, LG_TCP_BYTES, LG_TCP_SOME, LG_TCP_ALL };

/* A new socket; `family` AF_INET/AF_INET6 makes it now (needed to set
 * options before bind), AF_UNSPEC when it is first used. */
int lg_tcp_new(lg_p_t *p, int family, lg_tcp_t **out);
/* Standard input (a terminal or a pipe) as a stream to read from: the
 * same receive calls, so a REPL can wait for a line as a goroutine. */
int lg_tcp_stdin(lg_p_t *p, lg_tcp_t **out);
void lg_tcp_release(lg_tcp_t *t);
/* Close now: waiters wake with LG_ECLOSED. Safe twice. */
void lg_tcp_close(lg_tcp_t *t);
/* Timeout of each later wait, ns; < 0: none. Expiry: LG_ETIMEDOUT. */
void lg_tcp_settimeout(lg_tcp_t *t, int64_t ns);
int lg_tcp_listen(lg_tcp_t *t, const struct sockaddr *addr, int backlog,
                  int reuseport);
/* 0 with *out (a new stream the caller owns), LG_PARKED, or an error. */
int lg_tcp_accept(lg_tcp_t *ln, lg_g_t *g, lg_tcp_t **out);
/* Starts connecting and returns LG_PARKED; once woken, g->rc says how
 * it went (lg_tcp_error too). */
int lg_tcp_connect(lg_tcp_t *t, lg_g_t *g, const struct sockaddr *addr);
int lg_tcp_error(const lg_tcp_t *t);
/* 0: the `len` bytes at `data` are what the receive returns and `skip`
 * more (a line end) follow them; consume len + skip with
 * lg_tcp_consume. An error (LG_ECLOSED at EOF) points data and len at
 * the partial data left. */
int lg_tcp_read(lg_tcp_t *t, lg_g_t *g, int mode, size_t n,
                const char **data, size_t *len, size_t *skip);
void lg_tcp_consume(lg_tcp_t *t, size_t n);
/* What is buffered, without waiting: its length, *data pointing at it. */
size_t lg_tcp_buffered(const lg_tcp_t *t, const char **data);
/* Send all of data (copied if it cannot go at once): 0 or LG_PARKED
 * (g->rc says how the write went), or an error. */
int lg_tcp_write(lg_tcp_t *t, lg_g_t *g, const char *data, size_t len);
/* Half-close: no more sends, after those queued. */
int lg_tcp_shutdown(lg_tcp_t *t);
/* The local (peer = 0) or remote address as text and a port. */
int lg_tcp_addr(lg_tcp_t *t, int peer, char *host, size_t hostlen,
                int *port);

/* ------------------------------------------------------------------- udp
 * As lg_tcp_t, for datagrams. lg_udp_recv gives the oldest queued one
 * (data, len and sender stay valid until lg_udp_consume); a send that
 * cannot go at once is copied and parks its goroutine. */
typedef struct lg_udp_s lg_udp_t;

int lg_udp_new(lg_p_t *p, int family, lg_udp_t **out);
void lg_udp_release(lg_udp_t *u);
void lg_udp_close(lg_udp_t *u);
void lg_udp_settimeout(lg_udp_t *u, int64_t ns);
int lg_udp_bind(lg_udp_t *u, const struct sockaddr *addr);
int lg_udp_recv(lg_udp_t *u, lg_g_t *g, const char **data, size_t *len,
                struct sockaddr_storage *from);
void lg_udp_consume(lg_udp_t *u);
int lg_udp_send(lg_udp_t *u, lg_g_t *g, const struct sockaddr *to,
                const char *data, size_t len);
int lg_udp_addr(lg_udp_t *u, struct sockaddr_storage *ss);

/* ------------------------------------------------------------------- dns
 * getaddrinfo on libuv's thread pool. lg_dns_resolve returns LG_PARKED
 * with *out set; once woken, lg_dns_result gives the answer (0 and the
 * list, or an error) and lg_dns_free drops it. If the goroutine stops
 * waiting (lg_g_unwait), the request frees itself when done. */
typedef struct lg_dns_s lg_dns_t;

int lg_dns_resolve(lg_p_t *p, lg_g_t *g, const char *name, lg_dns_t **out);
int lg_dns_result(lg_dns_t *d, const struct addrinfo **list);
void lg_dns_free(lg_dns_t *d);

/* -------------------------------------------------------------------- fs
 * Read or write a whole file on libuv's thread pool. lg_file_start
 * returns LG_PARKED with *out set; once woken, lg_file_result gives the
 * status (0 or -errno) and, for a read, the contents; lg_file_free drops
 * it. As with DNS, a goroutine that stops waiting leaves the request to
 * free itself. */
typedef struct lg_file_s lg_file_t;

int lg_file_start(lg_p_t *p, lg_g_t *g, const char *path, const char *data,
                  size_t len, int writing, lg_file_t **out);
int lg_file_result(lg_file_t *f, const char **data, size_t *len);
void lg_file_free(lg_file_t *f);

/* ------------------------------------------------------------------ sync
 * All of these are FIFO: the longest waiter goes first, and an unlock
 * hands the lock straight to it (no barging, no starvation). Calls that
 * may wait take `g` and return LG_PARKED after queueing it. */
typedef struct lg_mutex_s {
  int locked;
  lg_waitq_t q;
} lg_mutex_t;

int lg_mutex_trylock(lg_mutex_t *m);          /* 0 or LG_EAGAIN */
int lg_mutex_lock(lg_mutex_t *m, lg_g_t *g);  /* 0 or LG_PARKED */
int lg_mutex_unlock(lg_mutex_t *m);           /* 0 or LG_EINVAL */

typedef struct lg_rwmutex_s {
  int writer;             /* held for writing */
  int64_t readers;        /* holding for reading */
  lg_waitq_t q;           /* readers and writers in arrival order */
} lg_rwmutex_t;

void lg_rwmutex_init(lg_rwmutex_t *m);
int lg_rwmutex_rlock(lg_rwmutex_t *m, lg_g_t *g);
int lg_rwmutex_runlock(lg_rwmutex_t *m);      /* LG_EINVAL if not held */
int lg_rwmutex_lock(lg_rwmutex_t *m, lg_g_t *g);
int lg_rwmutex_unlock(lg_rwmutex_t *m);       /* LG_EINVAL if not held */

typedef struct lg_wg_s {
  int64_t count;
  lg_waitq_t q;
} lg_wg_t;

/* Add `delta`; LG_EINVAL (and no change) if it would go negative. */
int lg_wg_add(lg_wg_t *wg, int64_t delta);
int lg_wg_wait(lg_wg_t *wg, lg_g_t *g);

typedef struct lg_sema_s {
  int64_t avail, size;
  lg_waitq_t q;
} lg_sema_t;

void lg_sema_init(lg_sema_t *s, int64_t size);
int lg_sema_tryacquire(lg_sema_t *s, int64_t k);   /* 0 or LG_EAGAIN */
int lg_sema_acquire(lg_sema_t *s, lg_g_t *g, int64_t k);
/* LG_EINVAL (and no change) when releasing more than is held. */
int lg_sema_release(lg_sema_t *s, int64_t k);

/* A condition's waiters; the mutex is the host's to unlock and relock. */
typedef struct lg_cond_s {
  lg_waitq_t q;
} lg_cond_t;

int lg_cond_wait(lg_cond_t *c, lg_g_t *g);    /* always LG_PARKED */
int lg_cond_signal(lg_cond_t *c);             /* number woken */
int lg_cond_broadcast(lg_cond_t *c);

/* Any of the above as a shared object, on the heap with its own lock
 * (q.lock points at it), so goroutines of every processor can use it.
 * The calls above lock it themselves. */
typedef struct lg_sync_s {
  lg_shared_t hdr;        /* type: LG_SH_WG ... LG_SH_COND */
  lg_shared_t *link;      /* a cond's mutex, one reference held; NULL */
  uv_mutex_t lock;
  union {
    lg_mutex_t mu;
    lg_rwmutex_t rw;
    lg_wg_t wg;
    lg_sema_t sema;
    lg_cond_t cond;
  } u;
} lg_sync_t;

/* `size` is the semaphore's; NULL without memory. */
lg_sync_t *lg_sync_new(int type, int64_t size);

/* ------------------------------------------------------------------ http
 * HTTP/1.1 parsing and writing over byte buffers, kept in a header of
 * its own for its size; a C host still includes only this one. */
#include "http.h"

/* ----------------------------------------------------- map and atomic
 * lugo.map and lugo.atomic: shared objects of their own header. */
#include "map.h"

#endif
