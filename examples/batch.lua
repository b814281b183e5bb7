-- A batch job: one goroutine per item, a lugo.pool of string buffers so
-- the goroutines reuse buffers instead of making one each, a waitgroup to
-- wait for the batch and a semaphore to bound how many run at once.
--
--   bin/lugo examples/batch.lua
local lugo = require "lugo"

local ITEMS, PARALLEL = 10000, 64

local made = 0
local buffers = lugo.pool{
  new = function() made = made + 1; return {} end,
  reset = function(buf) for i = #buf, 1, -1 do buf[i] = nil end end,
}

-- Render one item as a line of CSV, using a pooled buffer.
local function render(id)
  local buf = buffers:get()
  buf[#buf + 1] = tostring(id)
  buf[#buf + 1] = ("%08x"):format(id * 2654435761 % 2^32)
  lugo.yield()                     -- other goroutines hold buffers too now
  buf[#buf + 1] = tostring(id % 7 == 0)
  local line = table.concat(buf, ",")
  buffers:put(buf)
  return line
end

local t0 = lugo.now()
local wg, sem = lugo.waitgroup(), lugo.semaphore(PARALLEL)
local bytes, lines = 0, 0
for id = 1, ITEMS do
  sem:acquire()
  wg:add(1)
  lugo.go(function()
    local line = render(id)
    bytes, lines = bytes + #line + 1, lines + 1
    sem:release()
    wg:done()
  end)
end
wg:wait()
print(("%d items, %d lines, %d bytes in %.3f s"):format(ITEMS, lines, bytes,
                                                       lugo.now() - t0))
print(("%d goroutines at most %d at a time; %d buffers made for %d uses")
  :format(ITEMS, PARALLEL, made, ITEMS))
