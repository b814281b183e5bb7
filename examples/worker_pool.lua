-- Worker pools: Go by Example's "Worker Pools", then the same shape
-- scaled up to a million jobs to show what a job costs.
--
--   bin/lugo examples/worker_pool.lua
local lugo = require "lugo"

-- A worker takes jobs until `jobs` is closed and sends each result on.
local function worker(id, jobs, results, pause)
  for j in jobs:range() do
    if pause then
      print("worker " .. id .. " started job " .. j)
      lugo.sleep(pause)
      print("worker " .. id .. " finished job " .. j)
    end
    results:send(j * 2)
  end
end

-- Part 1: 3 workers, 5 jobs of 0.1 s each: about 0.2 s in all, not 0.5.
do
  local njobs = 5
  local jobs, results = lugo.chan(njobs), lugo.chan(njobs)
  local t0 = lugo.now()
  for w = 1, 3 do lugo.go(worker, w, jobs, results, 0.1) end
  for j = 1, njobs do jobs:send(j) end
  jobs:close()
  for _ = 1, njobs do results:recv() end
  print(("5 jobs on 3 workers took %.2f s"):format(lugo.now() - t0))
end

-- Part 2: the same pool with no sleep: a producer goroutine feeds
-- 1,000,000 jobs through buffered channels and main sums the results.
do
  local njobs, nworkers = 1000000, 8
  local jobs, results = lugo.chan(1024), lugo.chan(1024)
  local t0 = lugo.now()
  for w = 1, nworkers do lugo.go(worker, w, jobs, results) end
  lugo.go(function()
    for j = 1, njobs do jobs:send(j) end
    jobs:close()
  end)
  local sum = 0
  for _ = 1, njobs do sum = sum + results:recv() end
  local dt = lugo.now() - t0
  assert(sum == njobs * (njobs + 1), "lost a result")
  print(("%d jobs on %d workers: %.3f s, %.0f jobs/s, %.0f ns/job")
    :format(njobs, nworkers, dt, njobs / dt, dt / njobs * 1e9))
end
