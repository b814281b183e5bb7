--- Go's sync.Pool: a free list of reusable objects that the garbage
-- collector may empty.
--
--   local bufs = lugo.pool{ new = function() return {} end,
--                           reset = function(t) for i = #t, 1, -1 do t[i] = nil end end }
--   local b = bufs:get(); ...; bufs:put(b)
--
-- As in Go (since 1.13) a pool keeps two lists: `primary`, where put()
-- stores, and `victim`, what primary held at the last rotation. A rotation,
-- at a garbage collection (see below for which), drops the victim list and
-- demotes the primary one: an object unused for two rotations is gone, and
-- a pool in steady use rarely has to call `new`. A pool belongs to one Lua
-- state, and so to one processor: Go's per-P pool without the locking.
local setmetatable, getmetatable, type, error, pairs =
  setmetatable, getmetatable, type, error, pairs
local newproxy = newproxy  -- LuaJIT and Lua 5.1 only

local pool_methods = {}
local pool_mt = { __name = "lugo.pool", __index = pool_methods }

-- Live pools, weakly held so that an unused pool can be collected.
local pools = setmetatable({}, { __mode = "k" })

-- Demote primary to victim in every pool; the old victims go to the GC.
local function rotate()
  for p in pairs(pools) do
    p.victim, p.primary = p.primary, {}
  end
end

-- When to rotate. Go rotates at every GC cycle, and a Go cycle comes when
-- the heap has doubled. A Lua collection that finalizes an unreachable
-- "sentinel" object rotates, and the finalizer makes the next sentinel.
-- Lua 5.4 in generational mode (the mode of the standalone `lua`) also
-- runs minor collections, at every 20% of heap growth; they would empty
-- pools five times as often as Go. Old objects die only in major
-- collections, which come at Go's pace, so on 5.4 the new sentinel is kept
-- reachable until it is old (it survived two collections, counted by a
-- short-lived "ticker" with a finalizer of its own) and only then let go.
-- In incremental mode that makes one rotation every third cycle.
-- LuaJIT has incremental collection only: its sentinel is let go at once.
-- Tables have no __gc there, so its sentinels are newproxy userdata.
local arm
if type(newproxy) == "function" then
  local proto = newproxy(true)
  getmetatable(proto).__gc = function() rotate(); arm() end
  arm = function() newproxy(proto) end
else
  local AGE = 2        -- collections a 5.4 sentinel survives while held
  local held, ticks = nil, 0
  local sentinel_mt, ticker_mt = {}, {}
  local function tick() setmetatable({}, ticker_mt) end
  ticker_mt.__gc = function()
    if held then
      ticks = ticks + 1
      if ticks >= AGE then held = nil else tick() end
    end
  end
  sentinel_mt.__gc = function() rotate(); arm() end
  arm = function()
    held, ticks = setmetatable({}, sentinel_mt), 0
    tick()
  end
end
local armed = false

-- A collection can run the finalizer, and so rotate(), at any allocation,
-- so each method works on one list table and derives counts from it with
-- `#`: whatever rotates in between, an object is in exactly one list.

--- Take a pooled object, or make one with `new`.
function pool_methods:get()
  local t = self.primary
  local n = #t
  if n == 0 then
    t = self.victim
    n = #t
    if n == 0 then return self.new() end
  end
  local obj = t[n]
  t[n] = nil
  return obj
end

--- Give `obj` back for reuse, after `reset(obj)`; `put(nil)` does nothing.
function pool_methods:put(obj)
  if obj == nil then return end
  local reset = self.reset
  if reset then reset(obj) end
  local t = self.primary
  t[#t + 1] = obj
end

local function new(opts)
  if type(opts) ~= "table" or type(opts.new) ~= "function" then
    error("lugo.pool: opts.new must be a function", 2)
  end
  local reset = opts.reset
  if reset ~= nil and type(reset) ~= "function" then
    error("lugo.pool: opts.reset must be a function", 2)
  end
  local p = setmetatable({
    new = opts.new, reset = reset,
    primary = {}, victim = {},
  }, pool_mt)
  pools[p] = true
  if not armed then
    armed = true
    arm()
  end
  return p
end

return { new = new }
