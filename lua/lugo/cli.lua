--- lugo.cli: what bin/lugo runs.
-- `lua -e 'require("lugo.cli").main()' script args...` runs the script's main
-- chunk as lugo's main goroutine, `lugo.run(chunk, args...)`, with the global
-- `arg` as lua sets it (arg[0] the script), then exits the process: status 0,
-- or 1 after printing an error that escaped the chunk to stderr. As in Go,
-- goroutines still running when the main one returns are not waited for.
local lugo = require "lugo"
local unpack = table.unpack or unpack

local function die(msg)
  io.stderr:write("lugo: ", tostring(msg), "\n")
  os.exit(1, true)
end

local function main()
  local script = arg and arg[0]
  if script == nil then die("usage: lugo [script [args]]") end
  local chunk, err = loadfile(script ~= "-" and script or nil)  -- "-": stdin
  if not chunk then die(err) end
  local ok, err2 = pcall(lugo.run, chunk, unpack(arg, 1, #arg))
  if not ok then die(err2) end
  os.exit(0, true)
end

return { main = main }
