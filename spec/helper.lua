-- spec/helper.lua: loaded once by busted before any spec file (see .busted).
--
-- It finds the module under test, loads it once (busted restores
-- package.loaded after every file, so a module first required inside a spec
-- file would be loaded afresh for the next file), and fails every spec that
-- leaves goroutines or pending timers behind. Spec files get the shared
-- helpers with `local h = require "spec.helper"`.

local busted = require "busted"
local assert = require "luassert"

-- The repo root is the folder above this file; the build folder depends on
-- the interpreter running busted.
local source = debug.getinfo(1, "S").source:gsub("^@", "")
local root = source:match("^(.*)/spec/helper%.lua$") or "."
local flavour = jit and "luajit" or _VERSION:gsub("^Lua ", "lua")
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath

local lugo = require "lugo"
pcall(require, "lugo.context") -- its own spec reports it when it is missing

local h = { lugo = lugo }

h.DEADLOCK = "all goroutines are asleep - deadlock!"
h.unpack = table.unpack or unpack

--- All arguments in a table with their count in `n` (table.pack).
function h.pack(...)
  return { n = select("#", ...), ... }
end

--- Call fn(...) and return the message it raises; fail if it raises nothing.
function h.errmsg(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got none")
  return tostring(err)
end

--- Assert that fn(...) raises a message containing `text` (plain find).
function h.raises(text, fn, ...)
  local msg = h.errmsg(fn, ...)
  assert.matches(text, msg, 1, true)
  return msg
end

--- Assert lo <= x < hi, naming what was measured.
function h.between(lo, x, hi, what)
  assert(type(x) == "number", (what or "value") .. " is not a number: " .. tostring(x))
  assert(x >= lo and x < hi, string.format("%s = %.6f, want [%.6f, %.6f)",
    what or "value", x, lo, hi))
end

--- Seconds fn(...) takes, measured on lugo's clock, and fn's first result.
function h.elapsed(fn, ...)
  local t0 = lugo.now()
  local r = fn(...)
  return lugo.now() - t0, r
end

--- Run a Lua chunk in a fresh interpreter of the same kind, with the same
-- module paths, and return everything it printed (stdout and stderr). For
-- checks that could leave this process's runtime in a broken state.
h.interpreter = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
function h.subprocess(source)
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write(source)
  f:close()
  local cmd = string.format("LUA_PATH=%q LUA_CPATH=%q %s %s 2>&1",
    package.path, package.cpath, h.interpreter, file)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  os.remove(file)
  return out
end

--- Number of plain (non-overlapping) occurrences of `text` in `s`.
function h.count(s, text)
  local n, at = 0, 1
  while true do
    local i, j = s:find(text, at, true)
    if not i then return n end
    n, at = n + 1, j + 1
  end
end

-- Leak check. Every spec must end with no goroutine and no pending timer
-- of its own. The baseline is taken before each spec, so one leaking spec is
-- reported once and does not make every later spec fail as well.
local current, baseline = "?", nil

busted.subscribe({ "test", "start" }, function(element, parent)
  current = (parent and parent.name and (parent.name .. " ") or "") .. element.name
  return nil, true
end)

busted.before_each(function()
  local s = lugo.stats()
  baseline = { goroutines = s.goroutines, timers = s.timers }
end)

busted.after_each(function()
  pcall(lugo.onerror, nil)
  local s = lugo.stats()
  local base = baseline or { goroutines = 0, timers = 0 }
  baseline = nil
  if s.goroutines > base.goroutines or s.timers > base.timers then
    error(string.format(
      "spec %q left %d goroutine(s) and %d timer(s) behind (before it: %d, %d)\n%s",
      current, s.goroutines, s.timers, base.goroutines, base.timers,
      tostring(lugo.dump())), 0)
  end
end)

package.loaded["spec.helper"] = h
return h
