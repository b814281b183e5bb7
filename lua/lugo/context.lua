--- Go's `context` package on top of lugo: cancellation, deadlines and
-- request-scoped values that flow down a tree of contexts.
--
--   local context = require "lugo.context"
--   local ctx, cancel = context.with_timeout(context.background(), 0.5)
--   local i = lugo.select{ {"recv", work}, {"recv", ctx:done()} }
--   if i == 2 then print(ctx:err()) end   --> context deadline exceeded
--   cancel()
--
-- Choices where Go's text does not carry over (also in docs/api.md):
-- * `background():done()` returns nil, as Go's `Done()` does for Background:
--   a nil channel in `lugo.select` disables its case, so selecting on it
--   waits on the other cases only.
-- * Deadlines cost nothing until someone asks for a `done()` channel under
--   them: `err()` compares `lugo.now()` with the deadline itself, and only a
--   `done()` channel starts the one timer and the one watcher goroutine that
--   close it on time. `cancel()` stops that timer and lets the watcher exit
--   before it returns, so nothing is left behind.
-- * Contexts are plain Lua objects of one processor, like the channels
--   behind them; they do not cross processors.
local lugo = require "lugo"

local setmetatable, getmetatable, type, tostring, pairs =
  setmetatable, getmetatable, type, tostring, pairs
local error, sformat, huge = error, string.format, math.huge

local CANCELED = "context canceled"
local DEADLINE_EXCEEDED = "context deadline exceeded"

local ctx_methods = {}
local ctx_mt = { __name = "lugo.context", __index = ctx_methods }

local function is_context(v)
  return getmetatable(v) == ctx_mt
end

local function check_parent(parent, fname)
  if parent == nil then
    error("cannot create context from nil parent", 3)
  end
  if not is_context(parent) then
    error(sformat("bad argument #1 to '%s' (context expected, got %s)",
                  fname, type(parent)), 3)
  end
end

-- A context is a table with these fields:
--   parent    the parent context (nil for the roots)
--   kind      "background", "todo", "cancel", "deadline" or "value"
--   canc      nearest cancelable context, self included (nil under a root);
--             done() and err() of a value context are those of `canc`
--   dl        nearest "deadline" context whose deadline applies (self
--             included), nil if no deadline; deadline() is dl.at
-- Cancelable contexts ("cancel", "deadline") add:
--   cerr      nil until canceled, then CANCELED or DEADLINE_EXCEEDED
--   ch        the done channel, made on first done()
--   children  set of cancelable contexts to cancel with this one
-- Deadline contexts add:
--   at        the deadline, in lugo.now() seconds
--   timer     lugo.timer closing `ch` on time, while a watcher runs
--   watching  true while the watcher goroutine is parked
-- Value contexts add `key` and `val`.

-- How many watcher goroutines the cancellation in progress woke up.
local woken = 0

-- Cancel `c` and its subtree with `err`; `detach` also removes `c` from
-- its parent's children (false when the parent is the one canceling).
local function cancel_ctx(c, detach, err)
  if c.cerr then return end
  -- Deadlines are checked lazily: one that has passed wins over a later
  -- cancel, as the timer would have fired first.
  if c.at and err ~= DEADLINE_EXCEEDED and lugo.now() >= c.at then
    err = DEADLINE_EXCEEDED
  end
  c.cerr = err
  if c.watching then
    -- Closing ch below wakes the watcher, which then just returns.
    c.watching = false
    woken = woken + 1
  end
  if c.timer then
    c.timer:stop()
    c.timer = nil
  end
  if c.ch then c.ch:close() end
  local children = c.children
  c.children = nil
  if children then
    for child in pairs(children) do
      cancel_ctx(child, false, err)
    end
  end
  if detach then
    local pc = c.parent and c.parent.canc
    if pc and pc.children then pc.children[c] = nil end
  end
end

-- Cancel the deadline context `d` if its deadline has passed.
-- Returns true if it did (or it was canceled already).
local function expire(d)
  if d.cerr then return true end
  if lugo.now() >= d.at then
    cancel_ctx(d, true, DEADLINE_EXCEEDED)
    return true
  end
  return false
end

-- Make sure a timer and a watcher goroutine will close the done channels
-- under the deadline context `d` when its deadline comes.
local function watch(d)
  if d.watching or d.cerr or expire(d) or d.at == huge then return end
  local remaining = d.at - lugo.now()
  d.ch = d.ch or lugo.chan()
  local timer, ch = lugo.timer(remaining), d.ch
  d.timer, d.watching = timer, true
  lugo.go(function()
    -- The watcher wakes on the timer or on cancellation (ch closed) only.
    local i = lugo.select{ { "recv", timer.c }, { "recv", ch } }
    if i == 1 then
      d.watching = false
      cancel_ctx(d, true, DEADLINE_EXCEEDED)
    end
  end)
end

-- Attach the new cancelable context `c` below `parent` (Go's
-- propagateCancel): cancel it at once if the parent is done, else register.
local function propagate(c, parent)
  local pc = parent.canc
  if not pc then return end           -- under background: never canceled
  local perr = ctx_methods.err(pc)
  if perr then
    cancel_ctx(c, false, perr)
  else
    pc.children = pc.children or {}
    pc.children[c] = true
  end
end

-- The cancel function handed out with a context: idempotent, and it
-- returns once every watcher goroutine it woke has exited (a yield, inside
-- a goroutine; on the main thread they exit at the next blocking call).
local function cancel_func(c)
  return function()
    if c.cerr then return end
    woken = 0
    if not (c.dl and expire(c.dl)) then cancel_ctx(c, true, CANCELED) end
    if woken > 0 then
      woken = 0
      if coroutine.isyieldable() then lugo.yield() end
    end
  end
end

local background = setmetatable({ kind = "background" }, ctx_mt)
local todo = setmetatable({ kind = "todo" }, ctx_mt)

--- The root context: never canceled, no deadline, no values.
local function background_f() return background end

--- The root context for code that does not know yet which to use.
local function todo_f() return todo end

--- A child of `parent` with its own cancel function.
local function with_cancel(parent)
  check_parent(parent, "with_cancel")
  local c = setmetatable({ parent = parent, kind = "cancel",
                           dl = parent.dl }, ctx_mt)
  c.canc = c
  propagate(c, parent)
  return c, cancel_func(c)
end

-- `parent` and `at` are checked by the caller.
local function new_deadline(parent, at)
  -- A deadline later than the parent's changes nothing but cancelability.
  local pdl = parent.dl
  if pdl and pdl.at < at then return with_cancel(parent) end
  local c = setmetatable({ parent = parent, kind = "deadline", at = at },
                         ctx_mt)
  c.canc, c.dl = c, c
  propagate(c, parent)
  if not c.cerr then expire(c) end
  return c, cancel_func(c)
end

local function check_number(v, fname)
  if type(v) ~= "number" or v ~= v then
    error(sformat("bad argument #2 to '%s' (number expected, got %s)",
                  fname, v ~= v and "nan" or type(v)), 3)
  end
end

--- A child of `parent` canceled at `at` (in `lugo.now()` seconds) at the
-- latest.
local function with_deadline(parent, at)
  check_parent(parent, "with_deadline")
  check_number(at, "with_deadline")
  local c, cancel = new_deadline(parent, at)
  return c, cancel
end

--- A child of `parent` canceled after `sec` seconds at the latest.
local function with_timeout(parent, sec)
  check_parent(parent, "with_timeout")
  check_number(sec, "with_timeout")
  local c, cancel = new_deadline(parent, lugo.now() + sec)
  return c, cancel
end

--- A child of `parent` carrying `key` = `val`.
local function with_value(parent, key, val)
  check_parent(parent, "with_value")
  if key == nil then error("nil key", 2) end
  return setmetatable({ parent = parent, kind = "value", key = key,
                        val = val, canc = parent.canc, dl = parent.dl },
                      ctx_mt)
end

--- The channel closed when this context is canceled; nil if it never is.
function ctx_methods:done()
  local c = self.canc
  if not c then return nil end
  if c.ch then return c.ch end
  local ch = lugo.chan()
  c.ch = ch
  if c.cerr then
    ch:close()
  elseif c.dl then
    watch(c.dl)
  end
  return c.ch
end

--- nil while not canceled, then "context canceled" or
-- "context deadline exceeded" (and the same ever after).
function ctx_methods:err()
  local c = self.canc
  if not c then return nil end
  if c.cerr then return c.cerr end
  if c.dl and expire(c.dl) then return c.cerr end
  return nil
end

--- The deadline in lugo.now() seconds, or nil.
function ctx_methods:deadline()
  local d = self.dl
  return d and d.at
end

--- The value stored for `key` here or in an ancestor, or nil.
function ctx_methods:value(key)
  local c = self
  while c do
    if c.kind == "value" and c.key == key then return c.val end
    c = c.parent
  end
  return nil
end

-- Go's String(): "context.background.with_cancel" and the like.
function ctx_mt.__tostring(c)
  local k = c.kind
  if k == "background" or k == "todo" then return "context." .. k end
  local s = tostring(c.parent)
  if k == "cancel" then
    return s .. ".with_cancel"
  elseif k == "deadline" then
    return sformat("%s.with_deadline(%.6f [%.6fs])", s, c.at,
                   c.at - lugo.now())
  end
  return sformat("%s.with_value(%s, %s)", s, tostring(c.key), tostring(c.val))
end

return {
  background = background_f,
  todo = todo_f,
  with_cancel = with_cancel,
  with_deadline = with_deadline,
  with_timeout = with_timeout,
  with_value = with_value,
  is_context = is_context,
  canceled = CANCELED,
  deadline_exceeded = DEADLINE_EXCEEDED,
}
