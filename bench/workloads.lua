--- The benchmark workloads, run against lugo or against bench/purelua.lua
-- with the very same code, so both are measured on equal terms.
--
--   lua5.4|luajit bench/workloads.lua <runtime> <workload> [n=N] [scale=F]
--
-- runtime: "lugo" or "purelua". Prints "RESULT <key> <value>" lines (what
-- bench/run.sh collects), as bench/go/main.go does for Go. Every workload
-- runs inside rt.run(main), so that main is a goroutine, like Go's main.

local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = here .. "/?.lua;" .. package.path

local rtname, wname = arg[1], arg[2]
local opts = {}
for i = 3, #arg do
  local k, v = arg[i]:match("^(%w+)=(.*)$")
  if k then opts[k] = tonumber(v) end
end

local rt = require(rtname)
local now = rt.now

local function result(key, v)
  io.write(("RESULT %s %.6g\n"):format(key, v))
end

-- VmRSS and VmHWM in bytes, from /proc/self/status.
local function proc_status()
  local f = io.open("/proc/self/status")
  if not f then return 0, 0 end
  local s = f:read("*a")
  f:close()
  return (tonumber(s:match("VmRSS:%s*(%d+)")) or 0) * 1024,
         (tonumber(s:match("VmHWM:%s*(%d+)")) or 0) * 1024
end

local W = {}

-- 1. n goroutines park on one channel, then one close wakes them all.
W.spawn = { n = 1000000, fn = function(n)
  collectgarbage()
  local base = proc_status()
  local ch, ready, finished = rt.chan(), rt.chan(1), rt.chan(1)
  local started, done = 0, 0
  local function body()
    started = started + 1
    if started == n then ready:send(true) end
    ch:recv()
    done = done + 1
    if done == n then finished:send(true) end
  end
  local go = rt.go
  local t0 = now()
  for _ = 1, n do go(body) end
  ready:recv()
  local t1 = now()
  local _, hwm = proc_status()
  ch:close()
  finished:recv()
  local t2 = now()
  result("spawn_ns", (t1 - t0) * 1e9 / n)
  result("wake_ns", (t2 - t1) * 1e9 / n)
  result("park_bytes", (hwm - base) / n)
end }

-- 1b. The floor under workload 1: n bare coroutines of one function,
-- each parked in coroutine.yield, no scheduler at all. Run only in the
-- pure-Lua columns (bench/run.sh), where it is what a parked coroutine of
-- this interpreter costs before any runtime adds its own record.
W.coroutine = { n = 1000000, fn = function(n)
  collectgarbage()
  local base = proc_status()
  local create, resume, yield = coroutine.create, coroutine.resume,
    coroutine.yield
  local function body() yield() end
  local cos = {}
  for i = 1, n do
    local co = create(body)
    resume(co)
    cos[i] = co
  end
  local _, hwm = proc_status()
  result("park_bytes", (hwm - base) / n)
end }

-- 2. unbuffered ping-pong between two goroutines.
W.pingpong = { n = 1000000, fn = function(n)
  local ping, pong = rt.chan(), rt.chan()
  rt.go(function()
    while true do
      local v, ok = ping:recv()
      if not ok then return end
      pong:send(v)
    end
  end)
  local t0 = now()
  for i = 1, n do
    ping:send(i)
    pong:recv()
  end
  result("rt_ns", (now() - t0) * 1e9 / n)
  ping:close()
end }

-- 3. one producer, one consumer, channel of capacity 128.
W.buffered = { n = 10000000, fn = function(n)
  local ch = rt.chan(128)
  local t0 = now()
  rt.go(function()
    for i = 1, n do ch:send(i) end
    ch:close()
  end)
  local s = 0
  while true do
    local v, ok = ch:recv()
    if not ok then break end
    s = s + v
  end
  result("item_ns", (now() - t0) * 1e9 / n)
  assert(s == n * (n + 1) / 2)
end }

local function producers(n, cap)
  local c1, c2 = rt.chan(cap), rt.chan(cap)
  rt.go(function() for i = 1, n do c1:send(i) end end)
  rt.go(function() for i = 1, n do c2:send(i) end end)
  return c1, c2
end

-- 4a. blocking select over two unbuffered channels, n values on each.
W.select_block = { n = 1000000, fn = function(n)
  local select = rt.select
  local t0 = now()
  local c1, c2 = producers(n, 0)
  local cases = { { "recv", c1 }, { "recv", c2 } }
  local s = 0
  for _ = 1, 2 * n do
    local _, v = select(cases)
    s = s + v
  end
  result("select_ns", (now() - t0) * 1e9 / (2 * n))
  assert(s == n * (n + 1))
end }

-- 4b. select with default over two channels of capacity 128; on default the
-- consumer yields so that the producers can refill.
W.select_default = { n = 1000000, fn = function(n)
  local select, yield = rt.select, rt.yield
  local t0 = now()
  local c1, c2 = producers(n, 128)
  local cases = { { "recv", c1 }, { "recv", c2 }, default = true }
  local s, got, misses = 0, 0, 0
  while got < 2 * n do
    local i, v = select(cases)
    if i then
      s = s + v
      got = got + 1
    else
      misses = misses + 1
      yield()
    end
  end
  result("select_ns", (now() - t0) * 1e9 / (2 * n))
  result("default_hits", misses)
  assert(s == n * (n + 1))
end }

-- 4c. as 4a with a third case: a new after(1) each time (Go's time.After).
W.select_timeout = { n = 1000000, fn = function(n)
  local select, after = rt.select, rt.after
  local t0 = now()
  local c1, c2 = producers(n, 0)
  local c3 = { "recv", false }
  local cases = { { "recv", c1 }, { "recv", c2 }, c3 }
  local s, timeouts = 0, 0
  for _ = 1, 2 * n do
    c3[2] = after(1)
    local i, v = select(cases)
    if i == 3 then timeouts = timeouts + 1 else s = s + v end
  end
  result("select_ns", (now() - t0) * 1e9 / (2 * n))
  result("timeouts", timeouts)
end }

local function work(j)
  local s = j
  for i = 1, 100 do s = s + i end
  return s
end

-- 5. worker pool: 4 workers, jobs and results channels of capacity 128.
W.pool = { n = 1000000, fn = function(n)
  local t0 = now()
  local jobs, results = rt.chan(128), rt.chan(128)
  for _ = 1, 4 do
    rt.go(function()
      while true do
        local j, ok = jobs:recv()
        if not ok then return end
        results:send(work(j))
      end
    end)
  end
  rt.go(function()
    for j = 1, n do jobs:send(j) end
    jobs:close()
  end)
  local s = 0
  for _ = 1, n do s = s + results:recv() end
  local pt = now() - t0
  local t1 = now()
  local s2 = 0
  for j = 1, n do s2 = s2 + work(j) end
  local st = now() - t1
  assert(s == s2, "pool: wrong sum")
  result("job_ns", pt * 1e9 / n)
  result("overhead_ns", (pt - st) * 1e9 / n)
end }

-- 5b. The floor under workloads 4b and 5: the loops of select+default and
-- of a pool job's four channel calls, against C functions (bench/capi.c)
-- that only read their arguments through the C API, as lugo's must, and
-- do no channel work. Run only in the pure-Lua columns (bench/run.sh).
W.capi = { n = 10000000, fn = function(n)
  local capi = require "capi"
  local select, ch = capi.select, capi.chan
  local cases = { { "recv", ch }, { "recv", ch }, default = true }
  local s, t0 = 0, now()
  for _ = 1, n do
    local i, v = select(cases)
    if i then s = s + v end
  end
  result("select_ns", (now() - t0) * 1e9 / n)
  local jobs, results = ch, ch
  t0 = now()
  for j = 1, n do
    jobs:send(j)
    local v = jobs:recv()
    results:send(v)
    s = s + results:recv()
  end
  result("calls_ns", (now() - t0) * 1e9 / n)
  assert(s == 2 * 42 * n)
end }

-- 6. n goroutines sleep a random 0-1 s each; how late do they wake?
W.sleep = { n = 100000, fn = function(n)
  math.randomseed(42)
  local random, sleep = math.random, rt.sleep
  local late = {}
  for i = 1, n do late[i] = 0 end
  local finished = rt.chan(1)
  local done = 0
  local function body(i, d)
    local due = now() + d
    sleep(d)
    late[i] = (now() - due) * 1e3
    done = done + 1
    if done == n then finished:send(true) end
  end
  local go = rt.go
  local t0 = now()
  for i = 1, n do go(body, i, random()) end
  finished:recv()
  local wall = now() - t0
  local _, hwm = proc_status()
  table.sort(late)
  result("wall_s", wall)
  result("peak_rss_mb", hwm / 2^20)
  result("late_min_ms", late[1])   -- below 0: a timer fired early
  result("late_p50_ms", late[math.floor((n - 1) / 2) + 1])
  result("late_p99_ms", late[math.ceil(n * 0.99)])
  result("late_max_ms", late[n])
end }

local w = W[wname]
if not w then
  io.stderr:write("workloads.lua: unknown workload ", tostring(wname), "\n")
  os.exit(2)
end
local n = opts.n or math.max(1, math.floor(w.n * (opts.scale or 1)))
rt.run(function() w.fn(n) end)
