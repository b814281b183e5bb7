--- lugo.repl: the interactive prompt of `bin/lugo`. The terminal is read
-- through the processor's loop by a goroutine, so other goroutines,
-- timers and tickers go on while the prompt waits: a ticker started at the
-- prompt prints between prompts. Lines are read as `lua -i` reads them:
-- an expression prints its values, an incomplete statement asks for more.
local lugo = require "lugo"
local core = require "lugo.core"

local select, tostring = select, tostring
local stdout, stderr = io.stdout, io.stderr

local function show(ok, ...)
  if not ok then
    stderr:write(tostring((...)), "\n")
  elseif select("#", ...) > 0 then
    local out = {}
    for i = 1, select("#", ...) do out[i] = tostring((select(i, ...))) end
    stdout:write(table.concat(out, "\t"), "\n")
  end
end

-- A chunk for `code`: as an expression if it is one, else as statements.
-- nil, "incomplete" when more lines could finish it.
local function compile(code)
  local fn = load("return " .. code, "=stdin")
  if fn then return fn end
  local err
  fn, err = load(code, "=stdin")
  if fn then return fn end
  if err:find("<eof>", 1, true) then return nil, "incomplete" end
  return nil, err
end

local function loop(input)
  local pending
  while true do
    stdout:write(pending and ">> " or "> ")
    stdout:flush()
    local line = input()
    if not line then break end
    if not pending and line:sub(1, 1) == "=" then line = "return " .. line:sub(2) end
    local code = pending and pending .. "\n" .. line or line
    local fn, err = compile(code)
    pending = nil
    if fn then
      show(xpcall(fn, debug.traceback))
    elseif err == "incomplete" then
      pending = code
    else
      stderr:write(err, "\n")
    end
  end
  stdout:write("\n")
end

--- Run the prompt until end of input. Errors of background goroutines
-- are printed (unless lugo.onerror has a handler already) rather than
-- ending the session.
local function run()
  _G.lugo = lugo
  if not lugo.onerror() then
    lugo.onerror(function(_, traceback) stderr:write(traceback, "\n") end)
  end
  stdout:write("lugo on ", jit and jit.version or _VERSION,
    ": goroutines run while you type; ctrl-D ends.\n")
  lugo.run(function()
    local stdin = core.stdin()
    if stdin then
      loop(function() return stdin:receive("*l") end)
      stdin:close()
    else  -- not a terminal nor a pipe (a file): read it plainly
      loop(function() return io.read("*l") end)
    end
  end)
end

return { run = run }
