--- Functions that spec/procs_spec.lua spawns by name ("module.function").
local lugo = require "lugo"
local tasks = {}

function tasks.echo(out, ...)
  out:send({ pid = require("lugo.core").pid(), n = select("#", ...), ... })
end

function tasks.boom(msg)
  error(msg, 0)
end

--- Spawn n tasks from this processor, then report on `done`.
function tasks.spawner(n, done)
  local wg = lugo.waitgroup()
  wg:add(n)
  for _ = 1, n do
    lugo.spawn(function(wg)
      local s = 0
      for i = 1, 2000 do s = s + i end
      wg:done()
    end, wg)
  end
  wg:wait()
  done:send(true)
end

--- An HTTP handler by name, for servers on several processors.
function tasks.hello(req, res)
  res:finish("hello from P" .. require("lugo.core").pid())
end

return tasks
