--- Benchmarks across processors (lugo.procs), one per process:
--
--   lua5.4|luajit bench/procs.lua <workload> <procs> [scale=F]
--
-- Prints "RESULT <key> <value>" lines, as bench/go/main.go does for the
-- same workloads (its -w cpupool, xping, xthroughput, spawnrate) under
-- GOMAXPROCS=1 or 2. Collected by bench/run.sh's processors section.
lugo = require "lugo"  -- a global: spawned functions reach it by _ENV
local core = require "lugo.core"

local wname, procs = arg[1], tonumber(arg[2])
local scale = tonumber((arg[3] or ""):match("scale=(.*)")) or 1
lugo.procs(procs)

local function result(key, v)
  io.write(("RESULT %s %.6g\n"):format(key, v))
end

local W = {}

-- The worker pool with CPU-bound jobs (sum 1..1000 each), one worker per
-- processor, jobs and results through shared channels.
W.cpupool = { n = 200000, fn = function(n)
  local jobs = lugo.chan(256, { shared = true })
  local results = lugo.chan(256, { shared = true })
  local t0 = lugo.now()
  for _ = 1, procs do
    lugo.spawn(function(jobs, results)
      for j in jobs:range() do
        local s = 0
        for i = 1, 1000 do s = s + i end
        results:send(j + s - 500500)
      end
    end, jobs, results)
  end
  lugo.go(function()
    for j = 1, n do jobs:send(j) end
    jobs:close()
  end)
  local s = 0
  for _ = 1, n do s = s + results:recv() end
  assert(s == n * (n + 1) / 2, "cpupool: wrong sum")
  result("job_ns", (lugo.now() - t0) * 1e9 / n)
end }

-- Ping-pong over unbuffered shared channels, the ponger pinned to P1.
W.xping = { n = 200000, fn = function(n)
  local ping = lugo.chan(0, { shared = true })
  local pong = lugo.chan(0, { shared = true })
  core.spawnon(1, function(ping, pong)
    for v in ping:range() do pong:send(v) end
  end, ping, pong)
  local t0 = lugo.now()
  for i = 1, n do
    ping:send(i)
    pong:recv()
  end
  result("rtt_ns", (lugo.now() - t0) * 1e9 / n)
  ping:close()
end }

local function order(i)
  return { id = i, user = "u" .. i % 1000, x = 1.5, y = -2.25, z = i * 3,
           state = "new", paid = true, items = 3, note = "fast", ts = i }
end

-- A producer on P1 sends 10-field tables through a shared channel of
-- capacity 128 to a consumer on P0; then the copy alone (encode and
-- decode of the same table, one processor).
W.xthroughput = { n = 200000, fn = function(n)
  local ch = lugo.chan(128, { shared = true })
  local t0 = lugo.now()
  core.spawnon(1, function(ch, n, order)
    for i = 1, n do ch:send(order(i)) end
    ch:close()
  end, ch, n, order)
  local got = 0
  for v in ch:range() do got = got + v.items end
  assert(got == 3 * n, "xthroughput: lost items")
  result("item_ns", (lugo.now() - t0) * 1e9 / n)
  local t = order(1)
  t0 = lugo.now()
  for _ = 1, n do core.decode(core.encode(t)) end
  result("copy_ns", (lugo.now() - t0) * 1e9 / n)
end }

-- Spawn n portable tasks that do nothing but count down a waitgroup.
W.spawnrate = { n = 200000, fn = function(n)
  local wg = lugo.waitgroup()
  wg:add(n)
  local t0 = lugo.now()
  for _ = 1, n do lugo.spawn(function(wg) wg:done() end, wg) end
  wg:wait()
  result("spawn_ns", (lugo.now() - t0) * 1e9 / n)
end }

local w = assert(W[wname], "unknown workload " .. tostring(wname))
lugo.run(w.fn, math.max(1, math.floor(w.n * scale)))
os.exit(0, true)
