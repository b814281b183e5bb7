--- purelua: the channel scheduler a user would write in plain Lua instead of
-- using lugo. It is the "pure Lua" peer in bench/run.sh and offers the subset
-- of the lugo API the workloads use: go, run, yield, sleep, now, chan (send,
-- recv, close), select, after.
--
-- Written as a competent user would write it for speed: one coroutine per
-- goroutine, a ring-buffer run queue of goroutine records, per-channel ring
-- buffers and FIFO wait queues kept in flat arrays (4 slots per waiter, no
-- table per operation), a binary heap of timers in parallel arrays, and
-- select that enqueues on every channel and lets stale entries be skipped
-- (each goroutine record carries a park sequence number).
--
-- Clock: LuaJIT uses clock_gettime(CLOCK_MONOTONIC) through the FFI, and
-- nanosleep when only timers are left. Plain Lua has neither: it uses
-- os.clock() (process CPU time) and spins while waiting for timers, so
-- sleeps there are only meaningful for CPU-bound programs.

local co_create, co_resume, co_yield, co_status =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local random, error, select, setmetatable = math.random, error, select, setmetatable
local unpack = table.unpack or unpack

local M = {}

-- Clock ---------------------------------------------------------------------

local now, idle_sleep
do
  local ok, ffi = pcall(require, "ffi")
  if ok then
    ffi.cdef [[
      typedef struct { long tv_sec; long tv_nsec; } purelua_timespec;
      int clock_gettime(int clk, purelua_timespec *ts);
      int nanosleep(const purelua_timespec *req, purelua_timespec *rem);
    ]]
    local C = ffi.C
    local ts = ffi.new("purelua_timespec")
    local req = ffi.new("purelua_timespec")
    local tonumber = tonumber
    now = function()
      C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
      return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
    end
    idle_sleep = function(sec)
      local s = math.floor(sec)
      req.tv_sec = s
      req.tv_nsec = (sec - s) * 1e9
      C.nanosleep(req, nil)
    end
    M.clock = "clock_gettime(CLOCK_MONOTONIC) via FFI"
  else
    now = os.clock
    idle_sleep = function() end -- nothing to sleep with: spin
    M.clock = "os.clock() (process CPU time)"
  end
end
M.now = now

-- Run queue: ring buffer of goroutine records -----------------------------
-- A goroutine record g = { co = coroutine, seq = park number, id = n,
--   r1, r2, r3 = values handed to it when it is resumed }.

local rq, rqhead, rqlen, rqcap = {}, 0, 0, 1024
local cur = nil            -- the running goroutine record
local ngo = 0              -- goroutines started

local function grow_rq()   -- unroll the full ring into one twice as big
  local nq = {}
  for i = 0, rqlen - 1 do nq[i + 1] = rq[(rqhead + i) % rqcap + 1] end
  rq, rqhead, rqcap = nq, 0, rqcap * 2
end

-- Make g runnable; a, b, c are what its park() will return.
local function ready(g, a, b, c)
  g.r1, g.r2, g.r3 = a, b, c
  if rqlen == rqcap then grow_rq() end
  rq[(rqhead + rqlen) % rqcap + 1] = g
  rqlen = rqlen + 1
end

-- Park the running goroutine until someone calls ready() on it; returns the
-- values given to ready().
local PARKED = {}            -- what a parking goroutine yields
local function park()
  return co_yield(PARKED)
end

-- Wait queues: flat arrays, 4 slots per waiter: g, seq, value, case index
-- (0 for a plain send/recv). An entry is live while g.seq == seq; waking a
-- goroutine bumps its seq, which retires its other select entries at once.

local function q_push(q, g, v, idx)
  local h, t = q.h, q.t
  -- drop retired entries at the head, so a channel that is selected on but
  -- never fires (a quit channel) does not grow without bound
  while h < t do
    local w = q[h]
    if w.seq == q[h + 1] then break end
    q[h] = nil; q[h + 2] = nil
    h = h + 4
  end
  if h >= t then h, t = 1, 1 end
  q[t], q[t + 1], q[t + 2], q[t + 3] = g, g.seq, v, idx
  q.h, q.t = h, t + 4
end

-- Pop the first live waiter: returns g, value, idx (g nil when none).
local function q_pop(q)
  local h, t = q.h, q.t
  while h < t do
    local g, seq, v, idx = q[h], q[h + 1], q[h + 2], q[h + 3]
    q[h] = nil; q[h + 2] = nil
    h = h + 4
    if g.seq == seq then
      if h >= t then h, t = 1, 1; q.t = 1 end
      q.h = h
      g.seq = seq + 1
      return g, v, idx
    end
  end
  q.h, q.t = 1, 1
  return nil
end

-- Channels ----------------------------------------------------------------

local CLOSED = {}              -- resume marker: "your send hit a close"

local chan = {}
chan.__index = chan
chan.__name = "purelua.chan"

function M.chan(cap)
  cap = cap or 0
  if cap < 0 then error("makechan: size out of range", 2) end
  return setmetatable({
    cap = cap, n = 0, head = 0, closed = false, rq = false, sq = false,
  }, chan)
end

-- The buffer is the channel table's own array part (ch[1..cap]); the wait
-- queues are made on first use, so that a channel that never blocks anyone
-- (an after() channel, say) is a single table.
local function queue(ch, side)
  local q = ch[side]
  if not q then
    q = { false, false, false, false, h = 1, t = 1 } -- room for one waiter
    ch[side] = q
  end
  return q
end

-- try_recv and try_send are the hot paths: they pop a live waiter and make
-- it runnable inline (this is q_pop plus ready, without the two calls).

-- Non-blocking receive: true, v, ok if it completed, false if it would block.
local function try_recv(ch)
  local q = ch.sq
  local h, t = 1, 1
  if q then h, t = q.h, q.t end
  while h < t do                      -- a sender is waiting?
    local g, seq = q[h], q[h + 1]
    local v, idx = q[h + 2], q[h + 3]
    q[h] = nil; q[h + 2] = nil
    h = h + 4
    if g.seq == seq then
      if h >= t then q.h, q.t = 1, 1 else q.h = h end
      g.seq = seq + 1
      local n = ch.n
      if n > 0 then                   -- buffer full: take its head, add v
        local head = ch.head
        v, ch[head + 1] = ch[head + 1], v
        ch.head = (head + 1) % ch.cap
      end
      if idx == 0 then g.r1 = nil else g.r1, g.r2, g.r3 = idx, nil, nil end
      if rqlen == rqcap then grow_rq() end
      rq[(rqhead + rqlen) % rqcap + 1] = g
      rqlen = rqlen + 1
      return true, v, true
    end
  end
  if h ~= 1 then q.h, q.t = 1, 1 end
  local n = ch.n
  if n > 0 then
    local head = ch.head
    local v = ch[head + 1]
    ch[head + 1] = nil
    ch.head = (head + 1) % ch.cap
    ch.n = n - 1
    return true, v, true
  end
  if ch.closed then return true, nil, false end
  return false
end

-- Non-blocking send (channel known open): true if it completed.
local function try_send(ch, v)
  local q = ch.rq
  local h, t = 1, 1
  if q then h, t = q.h, q.t end
  while h < t do                      -- a receiver is waiting? hand over
    local g, seq, idx = q[h], q[h + 1], q[h + 3]
    q[h] = nil
    h = h + 4
    if g.seq == seq then
      if h >= t then q.h, q.t = 1, 1 else q.h = h end
      g.seq = seq + 1
      if idx == 0 then g.r1, g.r2 = v, true
      else g.r1, g.r2, g.r3 = idx, v, true end
      if rqlen == rqcap then grow_rq() end
      rq[(rqhead + rqlen) % rqcap + 1] = g
      rqlen = rqlen + 1
      return true
    end
  end
  if h ~= 1 then q.h, q.t = 1, 1 end
  local n, cap = ch.n, ch.cap
  if n < cap then
    ch[(ch.head + n) % cap + 1] = v
    ch.n = n + 1
    return true
  end
  return false
end

function chan:send(v)
  if v == nil then error("cannot send nil on a channel", 2) end
  if self.closed then error("send on closed channel", 2) end
  if try_send(self, v) then return end
  q_push(self.sq or queue(self, "sq"), cur, v, 0)
  if co_yield(PARKED) == CLOSED then error("send on closed channel", 2) end
end

function chan:recv()
  local done, v, ok = try_recv(self)
  if done then return v, ok end
  q_push(self.rq or queue(self, "rq"), cur, nil, 0)
  return co_yield(PARKED)
end

function chan:close()
  if self.closed then error("close of closed channel", 2) end
  self.closed = true
  local rq, sq = queue(self, "rq"), queue(self, "sq")
  while true do
    local g, _, idx = q_pop(rq)
    if not g then break end
    if idx == 0 then ready(g, nil, false) else ready(g, idx, nil, false) end
  end
  while true do
    local g, _, idx = q_pop(sq)
    if not g then break end
    if idx == 0 then ready(g, CLOSED) else ready(g, idx, nil, CLOSED) end
  end
end

function chan:__len() return self.n end

-- select ------------------------------------------------------------------

function M.select(cases)
  local n = #cases
  local start = n > 1 and random(n) - 1 or 0
  for k = 0, n - 1 do                 -- poll, from a random case on
    local i = (start + k) % n + 1
    local c = cases[i]
    local ch = c[2]
    if ch then
      if c[1] == "recv" then
        local done, v, ok = try_recv(ch)
        if done then return i, v, ok end
      else
        if ch.closed then error("send on closed channel", 2) end
        if try_send(ch, c[3]) then return i end
      end
    end
  end
  if cases.default then return nil end
  local g = cur
  for k = 0, n - 1 do                 -- enqueue on every channel
    local i = (start + k) % n + 1
    local c = cases[i]
    local ch = c[2]
    if ch then
      if c[1] == "recv" then q_push(ch.rq or queue(ch, "rq"), g, nil, i)
      else q_push(ch.sq or queue(ch, "sq"), g, c[3], i) end
    end
  end
  local i, v, ok = park()
  if ok == CLOSED then error("send on closed channel", 2) end
  return i, v, ok
end

-- Timers: binary min-heap in parallel arrays (when, target, seq) ----------
-- target is a goroutine record (sleep) or a channel (after).

local hw, hx, hn = {}, {}, 0

local function heap_push(when, x)
  hn = hn + 1
  local i = hn
  while i > 1 do
    local p = (i - i % 2) / 2
    local pw = hw[p]
    if pw <= when then break end
    hw[i], hx[i] = pw, hx[p]
    i = p
  end
  hw[i], hx[i] = when, x
end

local function heap_pop()          -- remove the root
  local lw, lx = hw[hn], hx[hn]
  hw[hn], hx[hn] = nil, nil
  hn = hn - 1
  if hn == 0 then return end
  local i = 1
  while true do
    local c = i * 2
    if c > hn then break end
    if c < hn and hw[c + 1] < hw[c] then c = c + 1 end
    if lw <= hw[c] then break end
    hw[i], hx[i] = hw[c], hx[c]
    i = c
  end
  hw[i], hx[i] = lw, lx
end

local function fire_timers(t)
  while hn > 0 and hw[1] <= t do
    local x = hx[1]
    heap_pop()
    if x.co then                     -- a sleeping goroutine
      x.seq = x.seq + 1
      ready(x)
    else                             -- an after() channel: cap 1, never full
      try_send(x, t)
    end
  end
end

function M.sleep(sec)
  heap_push(now() + sec, cur)
  park()
end

function M.after(sec)
  local ch = M.chan(1)
  heap_push(now() + sec, ch)
  return ch
end

-- Goroutines and the scheduler --------------------------------------------

local NOARGS = { n = 0 }

local function pack(...) return { n = select("#", ...), ... } end

function M.go(fn, ...)
  ngo = ngo + 1
  local g = { co = co_create(fn), seq = 0, id = ngo, r1 = false, r2 = false,
              r3 = false, args = NOARGS }
  if select("#", ...) > 0 then g.args = pack(...) end
  ready(g)
end

function M.yield()
  ready(cur)
  park()
end

local function fail(g, err)
  error(("goroutine %d: %s\n%s"):format(g.id, tostring(err),
    debug.traceback(g.co)), 0)
end

-- Run goroutines until goroutine `main` has finished (or, without one, until
-- nothing is left). Timers are checked every 64 dispatches and whenever the
-- run queue is empty.
local function schedule(main)
  local tick = 0
  while not (main and main.dead) do
    if rqlen == 0 then
      if hn == 0 then
        if main then error("all goroutines are asleep - deadlock!", 0) end
        return
      end
      local t = now()
      if hw[1] > t then idle_sleep(hw[1] - t); t = now() end
      fire_timers(t)
    else
      tick = tick + 1
      if tick % 64 == 0 and hn > 0 then fire_timers(now()) end
      local g = rq[rqhead + 1]
      rq[rqhead + 1] = nil
      rqhead = (rqhead + 1) % rqcap
      rqlen = rqlen - 1
      cur = g
      local ok, r
      local args = g.args
      if args then
        g.args = nil
        ok, r = co_resume(g.co, unpack(args, 1, args.n))
      else
        ok, r = co_resume(g.co, g.r1, g.r2, g.r3)
      end
      cur = nil
      if not ok then fail(g, r) end
      if r ~= PARKED then g.dead = true end
    end
  end
end

function M.run(fn, ...)
  if not fn then return schedule(nil) end
  local res
  M.go(function(...) res = pack(fn(...)) end, ...)
  schedule(rq[(rqhead + rqlen - 1) % rqcap + 1])
  return unpack(res, 1, res.n)
end

return M
