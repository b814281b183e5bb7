-- Timeouts: Go by Example's "Timeouts" with lugo.after in a select, then
-- the same with a context deadline.
--
--   bin/lugo examples/timeout.lua
local lugo = require "lugo"
local context = require "lugo.context"

-- A call that takes `sec` and delivers on a buffered channel, so the
-- goroutine can finish even when nobody waits for its result any more.
local function slow_call(sec, result)
  local c = lugo.chan(1)
  lugo.go(function()
    lugo.sleep(sec)
    c:send(result)
  end)
  return c
end

-- The result takes 0.2 s, we wait 0.1 s: timeout.
local c1 = slow_call(0.2, "result 1")
local i, res = lugo.select{ { "recv", c1 }, { "recv", lugo.after(0.1) } }
print(i == 1 and res or "timeout 1")

-- The result takes 0.2 s, we wait 0.3 s: result.
local c2 = slow_call(0.2, "result 2")
i, res = lugo.select{ { "recv", c2 }, { "recv", lugo.after(0.3) } }
print(i == 1 and res or "timeout 2")

-- A context deadline does the same for a whole tree of calls, and says why.
local ctx, cancel = context.with_timeout(context.background(), 0.1)
local c3 = slow_call(0.2, "result 3")
i, res = lugo.select{ { "recv", c3 }, { "recv", ctx:done() } }
print(i == 1 and res or "timeout 3: " .. ctx:err())
cancel()
