-- The worker pool across processors: CPU-bound jobs (sum 1..n) go to
-- workers spawned on every processor through shared channels, first on
-- one processor, then on all of them, and the speedup is printed.
--
--   bin/lugo examples/parallel_workers.lua [jobs]
--
-- The number of processors is fixed at the first spawn, so each run is a
-- child process: `bin/lugo examples/parallel_workers.lua jobs procs`.
local lugo = require "lugo"

local njobs, procs = tonumber(arg[1]) or 20000, tonumber(arg[2])

-- A worker: takes jobs until `jobs` is closed, sends each sum on. A
-- spawned function has no upvalues: what it needs comes as arguments.
local function worker(jobs, results, size)
  for j in jobs:range() do
    local s = 0
    for i = 1, size do s = s + i end
    results:send(j + s - s)
  end
end

local function run(n)
  lugo.procs(n)
  local jobs = lugo.chan(256, { shared = true })
  local results = lugo.chan(256, { shared = true })
  local t0 = lugo.now()
  for _ = 1, n do lugo.spawn(worker, jobs, results, 1000) end
  lugo.go(function()
    for j = 1, njobs do jobs:send(j) end
    jobs:close()
  end)
  local sum = 0
  for _ = 1, njobs do sum = sum + results:recv() end
  assert(sum == njobs * (njobs + 1) / 2, "a result was lost")
  return lugo.now() - t0
end

if procs then  -- the child: one measurement
  print(run(procs))
  return
end

local function child(n)
  local lua = jit and "luajit" or "lua5.4"
  local cmd = ("%s %q %d %d"):format(lua, arg[0], njobs, n)
  local p = assert(io.popen(cmd))
  local t = tonumber(p:read("*a"))
  p:close()
  return assert(t, "the child run failed")
end

local all = lugo.procs()
local t1 = child(1)
local tn = child(all)
print(("%d jobs (sum 1..1000 each) on 1 processor: %.3f s"):format(njobs, t1))
print(("%d jobs on %d processors: %.3f s, speedup %.2fx"):format(njobs, all,
  tn, t1 / tn))
