-- Ride-order dispatch: orders arrive on P0; while this processor's load is
-- under 85% of its capacity a new order becomes a goroutine here
-- (lugo.go: cheap, shares memory), otherwise it goes to the stealing
-- queue (lugo.spawn) for whichever processor is free. The policy is
-- Lua; the queues, stealing and copying are the runtime's.
--
--   bin/lugo examples/order_dispatch.lua [orders]
local lugo = require "lugo"

local ORDERS, CAPACITY, HIGH = tonumber(arg[1]) or 2000, 100, 0.85

-- Match an order to a driver: a little CPU (score the nearest of 200
-- drivers) and a little waiting (the driver's app answering). No
-- upvalues: it may run on any processor.
local function match(order, done)
  local lugo = require "lugo"
  local best, bestd = 0, math.huge
  for d = 1, 200 do
    local dx, dy = (order.x - d * 7) % 101, (order.y - d * 13) % 97
    local dist = dx * dx + dy * dy
    if dist < bestd then best, bestd = d, dist end
  end
  lugo.sleep(0.002 + (order.id % 5) / 1000)
  done:send({ id = order.id, driver = best, pid = require("lugo.core").pid() })
end

local done = lugo.chan(256, { shared = true })
local here, local_n, spawned = 0, 0, 0
local t0 = lugo.now()

lugo.go(function()
  for id = 1, ORDERS do
    local order = { id = id, x = id * 31 % 101, y = id * 17 % 97 }
    if here / CAPACITY < HIGH then
      here, local_n = here + 1, local_n + 1
      lugo.go(function()
        match(order, done)
        here = here - 1
      end)
    else
      spawned = spawned + 1
      lugo.spawn(match, order, done)
    end
    if id % 50 == 0 then lugo.sleep(0.001) end  -- orders come in bursts
  end
end)

local by = {}
for _ = 1, ORDERS do
  local r = done:recv()
  by[r.pid] = (by[r.pid] or 0) + 1
end
print(("%d orders in %.2f s on %d processors"):format(ORDERS,
  lugo.now() - t0, lugo.procs()))
print(("as goroutines on P0 (load under %d%%): %d"):format(HIGH * 100, local_n))
print(("to the stealing queue: %d"):format(spawned))
for pid = 0, lugo.procs() - 1 do
  print(("  matched on P%d: %d"):format(pid, by[pid] or 0))
end
