--- lugo: Go's concurrency model for Lua. The mechanics are C (lugo.core);
-- this table is the public face, plus the few objects that read better in
-- Lua than in C.
local core = require "lugo.core"
local pool = require "lugo.pool"
local net = require "lugo.net"

local error, getmetatable, pcall, select, setmetatable, type =
  error, getmetatable, pcall, select, setmetatable, type
local co_resume, co_yield, co_status, co_create =
  coroutine.resume, coroutine.yield, coroutine.status, coroutine.create

local PARK, ERR = core.PARK, core.ERR

local lugo = {
  go = core.go, run = core.run, yield = core.yield, sleep = core.sleep,
  now = core.now, onerror = core.onerror, chan = core.chan,
  select = core.select, after = core.after,
  waitgroup = core.waitgroup, mutex = core.mutex, rwmutex = core.rwmutex,
  semaphore = core.semaphore, stats = core.stats, dump = core.dump,
  procs = core.procs, spawn = core.spawn, map = core.map,
  atomic = core.atomic,
  tcp = net.tcp, udp = net.udp, dns = net.dns, fs = net.fs,
  signal = net.signal, http = require "lugo.http",
}

local chan_methods = core.chan_methods

-- LuaJIT has no lua_yieldk: a park resumed with an error cannot raise in
-- C, so the calls that can be woken by an error check for it here.
if not core.HAS_YIELDK then
  local function check(a, ...)
    if a == ERR then
      local msg, withpos = ...
      error(msg, withpos and 2 or 0)
    end
    return a, ...
  end
  local send, sel, run = chan_methods.send, core.select, core.run
  function chan_methods.send(ch, v) return check(send(ch, v)) end
  function lugo.select(cases) return check(sel(cases)) end
  function lugo.run(...) return check(run(...)) end

  local fast = jit and require "lugo.ffi"
  if fast then fast(chan_methods, lugo, check) end
end

local recv = chan_methods.recv

--- for v in ch:range() do ... end: receives until closed and drained.
function chan_methods:range()
  return recv, self
end

------------------------------------------------------------------ timers

local timer_methods = {}
local timer_mt = { __name = "lugo.timer", __index = timer_methods }

local function checkself(self, mt, method)
  if getmetatable(self) ~= mt then
    error(("bad argument #1 to '%s' (%s expected, got %s)"):format(
      method, mt.__name, type(self)), 3)
  end
end

--- Stop the timer; true if it was pending. A value already sent stays in
-- .c, as in Go before 1.23.
function timer_methods:stop()
  checkself(self, timer_mt, "stop")
  return core.timer_stop(self[1])
end

--- Re-arm the timer to fire after `sec`; true if it was pending.
function timer_methods:reset(sec)
  checkself(self, timer_mt, "reset")
  return core.timer_reset(self[1], sec)
end

function lugo.timer(sec)
  local t, c = core.timer(sec)
  return setmetatable({ t, c = c }, timer_mt)
end

function lugo.ticker(sec)
  local t, c = core.ticker(sec)
  return setmetatable({ t, c = c }, timer_mt)
end

-------------------------------------------------------------------- sync

local once_methods = {}
local once_mt = { __name = "lugo.once", __index = once_methods }

--- Run fn(...) on the first call only; later callers wait until it has
-- finished. If fn raises, the error goes to the first caller and the
-- Once still counts as done, as in Go.
function once_methods:call(fn, ...)
  checkself(self, once_mt, "call")
  if type(fn) ~= "function" then
    error("bad argument #1 to 'call' (function expected, got " .. type(fn) .. ")", 2)
  end
  if self.done then return end
  local m = self.m
  m:lock()
  if self.done then
    m:unlock()
    return
  end
  local ok, err = pcall(fn, ...)
  self.done = true
  m:unlock()
  if not ok then error(err, 0) end
end

function lugo.once()
  return setmetatable({ done = false, m = core.mutex() }, once_mt)
end

-- A cond is the core's queue holding its mutex (a shared object, so it
-- crosses processors whole); wait relocks here, after the wake-up.
do
  local cond_mt = getmetatable(core.condqueue(core.mutex()))
  local methods = cond_mt.__index

  --- Unlock the mutex (`L`, as Go's Cond.L), wait for signal or
  -- broadcast, lock it again.
  function methods:wait()
    self:_wait()
    self:mutex():lock()
  end

  cond_mt.__index = function(self, k)
    if k == "L" then return self:mutex() end
    return methods[k]
  end
end

function lugo.cond(mutex)
  local mt = getmetatable(mutex)
  if not (mt and mt.__name == "lugo.mutex") then
    error("bad argument #1 to 'cond' (lugo.mutex expected, got "
      .. (mt and mt.__name or type(mutex)) .. ")", 2)
  end
  return core.condqueue(mutex)
end

lugo.pool = pool.new

--------------------------------------------------------- introspection

--- One processor's part of lugo.dump(), sent back to P0.
function lugo.dumphere(out)
  out:send(("=== processor %d\n%s"):format(core.pid(), core.dump()))
end

--- Every processor's goroutines: P0's here, the others' asked for
-- through a task pinned to each (one that does not answer within a
-- second, a goroutine running without yielding on LuaJIT, say, is
-- reported as such).
function lugo.dump()
  local n = core.stats().procs
  if n == 1 or core.pid() ~= 0 then return core.dump() end
  local out = core.chan(n, { shared = true })
  for pid = 1, n - 1 do core.spawnon(pid, "lugo.dumphere", out) end
  local parts, timeout = { "=== processor 0\n" .. core.dump() }, lugo.timer(1)
  while #parts < n do
    local i, v = lugo.select{ { "recv", out }, { "recv", timeout.c } }
    if i == 2 then
      parts[#parts + 1] = "=== (a processor did not answer within 1 s)\n"
      break
    end
    parts[#parts + 1] = v
  end
  timeout:stop()  -- leaves no timer behind
  return table.concat(parts)
end

local METRICS = {  -- name, stats field, type, help
  { "goroutines", "goroutines", "gauge", "Live goroutines." },
  { "goroutines_runnable", "runnable", "gauge", "Goroutines ready to run." },
  { "goroutines_blocked", "blocked", "gauge", "Goroutines parked." },
  { "timers", "timers", "gauge", "Pending timers." },
  { "channels", "channels", "gauge", "Live channels." },
  { "lua_heap_bytes", "memory", "gauge", "Lua heap of the processor." },
  { "switches_total", "switches", "counter", "Goroutine resumes." },
  { "steals_total", "steals", "counter", "Tasks stolen from other processors." },
}

--- The runtime's counters and gauges in Prometheus' text format.
function lugo.metrics()
  local st, out = core.stats(), {}
  for _, m in ipairs(METRICS) do
    local name = "lugo_" .. m[1]
    out[#out + 1] = ("# HELP %s %s\n# TYPE %s %s\n%s %d\n"):format(
      name, m[4], name, m[3], name, st[m[2]])
  end
  return table.concat(out)
end

------------------------------------------------------- user coroutines
-- A park inside the user's own coroutine (an iterator made with
-- coroutine.wrap, say) yields PARK to the user's resume. Pass it on to
-- the scheduler and hand the wake-up results back down, so the user's
-- coroutine sees its call return and the user sees only their own
-- yields. Installed into the global coroutine table, as OpenResty does.
-- On Lua 5.4 core.resume does it in C (bindings/lua/coro.c), where
-- sysmon's preemption also reaches the user's coroutine; LuaJIT, which
-- has no continuations for C functions, has it here.

local isgoroutine = core.isgoroutine

local function pass(co, ok, first, ...)
  if ok and first == PARK and select("#", ...) == 0
      and co_status(co) == "suspended" then
    return pass(co, co_resume(co, co_yield(PARK)))
  end
  return ok, first, ...
end

local resume = core.resume or function(co, ...)
  if isgoroutine(co) then
    return false, "cannot resume a goroutine's coroutine: the scheduler runs it"
  end
  return pass(co, co_resume(co, ...))
end

local function wrapped(ok, ...)
  if not ok then error((...), 0) end
  return ...
end

local function wrap(fn)
  local co = co_create(fn)
  return function(...)
    return wrapped(resume(co, ...))
  end
end

coroutine.resume, coroutine.wrap = resume, wrap

-- On LuaJIT a goroutine's coroutine is marked as one (for isgoroutine)
-- only once the program can hold it: here (see lgb_marknew).
if not core.resume then
  local co_running, markself = coroutine.running, core.markself
  function coroutine.running()
    markself()
    return co_running()
  end
end

if coroutine.close then
  local co_close = coroutine.close
  function coroutine.close(co)
    if isgoroutine(co) then
      error("cannot close a goroutine's coroutine: the scheduler runs it", 2)
    end
    return co_close(co)
  end
end

return lugo
